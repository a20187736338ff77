//! Running the built `hascript` binary from the integration tests: one command builder (the
//! environment every test wants), one way to feed standard input and collect the exit code
//! and output, and the REPL with its two streams merged. Each test file adds what it varies
//! (journals folder, lock folder, working directory, environment, a deadline).

#![allow(dead_code)] // each test file uses its own part

use std::ffi::OsStr;
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// What a run of `hascript` ended with.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// The build's scratch folder: journals and history of test runs stay in it.
pub fn build_tmp() -> &'static Path {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
}

/// `hascript args` with no standard input, piped output, no `HASCRIPT_PATH` from the
/// caller's environment (so only shipped and named scripts count) and its journals and
/// history under `state` (`XDG_STATE_HOME`).
pub fn command<I, S>(args: I, state: &Path) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hascript"));
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("HASCRIPT_PATH")
        .env("XDG_STATE_HOME", state);
    cmd
}

/// Start `cmd` with `env` set last (so a test can set what the builder removed), then type
/// `stdin` (a pipe; otherwise the command's own standard input stays) and wait for it.
pub fn output(cmd: &mut Command, env: &[(&str, &str)], stdin: Option<&str>) -> Run {
    let child = spawn(cmd, env, stdin);
    match child.wait_with_output() {
        Ok(o) => Run::from(o),
        Err(e) => panic!("hascript did not finish: {e}"),
    }
}

/// [`output`] for a run that must finish within `secs`: one that hangs is killed and fails
/// the test (instead of hanging the suite).
pub fn output_within(cmd: &mut Command, secs: u64, what: &[&str]) -> Run {
    let mut child = spawn(cmd, &[], None);
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < end => std::thread::sleep(Duration::from_millis(50)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("hascript {what:?} still running after {secs} s: it hangs");
            }
        }
    }
    match child.wait_with_output() {
        Ok(o) => Run::from(o),
        Err(e) => panic!("hascript did not finish: {e}"),
    }
}

fn spawn(cmd: &mut Command, env: &[(&str, &str)], stdin: Option<&str>) -> Child {
    for (k, v) in env {
        cmd.env(k, v);
    }
    if stdin.is_some() {
        cmd.stdin(Stdio::piped());
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => panic!("cannot start hascript: {e}"),
    };
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        let _ = pipe.write_all(text.as_bytes());
    }
    child
}

/// `hascript repl args` in `dir` (also its `XDG_STATE_HOME`) with standard error merged into
/// standard output in the order written (through `sh -c '… 2>&1'`), `input` typed on a pipe.
pub fn repl_merged(args: &[&str], input: &str, dir: &Path) -> Output {
    let mut cmd = vec![env!("CARGO_BIN_EXE_hascript").to_string(), "repl".into()];
    cmd.extend(args.iter().map(|a| a.to_string()));
    let quoted: Vec<String> = cmd
        .iter()
        .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
        .collect();
    let child = Command::new("sh")
        .arg("-c")
        .arg(format!("{} 2>&1", quoted.join(" ")))
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .env_remove("HASCRIPT_PATH")
        .env("XDG_STATE_HOME", dir)
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => panic!("cannot start the REPL: {e}"),
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input.as_bytes());
    }
    match child.wait_with_output() {
        Ok(o) => o,
        Err(e) => panic!("{e}"),
    }
}

/// A pseudo-terminal pair (master, slave): the slave as a run's standard input is a
/// terminal on which the test types through the master.
pub fn pty() -> (std::fs::File, std::fs::File) {
    use std::os::fd::FromRawFd;
    let (mut m, mut s) = (0, 0);
    // SAFETY: openpty(3) writes two descriptors into the integers we pass; the name and
    // settings pointers may be null.
    let rc = unsafe {
        libc::openpty(
            &mut m,
            &mut s,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty failed");
    // SAFETY: both descriptors were just opened for us and are owned by nothing else.
    unsafe { (std::fs::File::from_raw_fd(m), std::fs::File::from_raw_fd(s)) }
}
