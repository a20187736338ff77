//! `transport = "local"`: run each command line through `sh -c` on this machine.

use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use hascript_api::{CancelToken, Command, Error, ErrorKind, Exec, ExitStatus, Output};

/// Timeout of a command that does not set its own.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// Runs commands on this machine: `sh -c '<line>'` in its own process group, standard
/// input fed from the command, standard output and error drained concurrently, killed
/// (with its whole group) on timeout or cancellation. The child's environment is this
/// process's, without hascript's `HASCRIPT_SECRET_*` variables and without the variables
/// the inventory names as secrets ([`LocalExec::without_env`]).
#[derive(Debug, Clone)]
pub struct LocalExec {
    cancel: CancelToken,
    default_timeout: Duration,
    /// Variables never handed down (beside `HASCRIPT_SECRET_*`).
    hidden_env: Vec<String>,
}

impl LocalExec {
    /// A local transport that kills running commands when `cancel` fires.
    pub fn new(cancel: CancelToken) -> Self {
        LocalExec {
            cancel,
            default_timeout: DEFAULT_TIMEOUT,
            hidden_env: Vec::new(),
        }
    }

    /// Also keep the environment variables `names` from every command (the inventory's
    /// `env:VARIABLE` secrets: SSH passwords, key passphrases, sudo passwords), so that a
    /// local `env` or `ps e` cannot show them.
    pub fn without_env<S: AsRef<str>>(mut self, names: &[S]) -> Self {
        for n in names {
            let n = n.as_ref();
            if !n.is_empty() && !self.hidden_env.iter().any(|h| h == n) {
                self.hidden_env.push(n.to_string());
            }
        }
        self
    }
}

fn drain<R: Read + Send + 'static>(r: Option<R>) -> JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut r) = r {
            let _ = r.read_to_end(&mut buf);
        }
        buf
    })
}

fn kill_group(child: &mut Child) {
    let pid = child.id() as i32;
    // SAFETY: kill(2) with a negative pid signals the process group we created for the
    // child (process_group(0) makes the child its leader); no memory is touched.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
    }
    let _ = child.kill();
}

fn signal_name(sig: i32) -> String {
    let name = match sig {
        libc::SIGHUP => "HUP",
        libc::SIGINT => "INT",
        libc::SIGQUIT => "QUIT",
        libc::SIGILL => "ILL",
        libc::SIGABRT => "ABRT",
        libc::SIGBUS => "BUS",
        libc::SIGFPE => "FPE",
        libc::SIGKILL => "KILL",
        libc::SIGSEGV => "SEGV",
        libc::SIGPIPE => "PIPE",
        libc::SIGALRM => "ALRM",
        libc::SIGTERM => "TERM",
        libc::SIGUSR1 => "USR1",
        libc::SIGUSR2 => "USR2",
        _ => return sig.to_string(),
    };
    name.to_string()
}

impl Exec for LocalExec {
    fn exec(&self, cmd: &Command) -> Result<Output, Error> {
        self.cancel.check()?;
        let line = cmd.line();
        let fail = |kind: ErrorKind, msg: String| {
            Error::new(kind, msg)
                .on_host(&cmd.host)
                .with_command(cmd.display())
        };
        // A secret on a command line of this machine would be in its process list (`ps`,
        // /proc/PID/cmdline), readable by every user: refused before anything runs.
        if cmd
            .secrets
            .iter()
            .any(|s| !s.is_empty() && line.contains(s.as_str()))
        {
            return Err(fail(
                ErrorKind::Usage,
                format!(
                    "`{}` carries a secret on its command line; with transport = \"local\" it would run on this machine, where every user sees command lines in the process list (ps): not run",
                    cmd.display()
                ),
            )
            .with_remedy(
                "reach the host with transport = \"ssh\" from another machine, or give the secret on standard input",
            ));
        }
        let mut sh = std::process::Command::new("sh");
        // The secret variables of hascript's own environment are not handed down: the
        // script's (`HASCRIPT_SECRET_*`) and those the inventory names (`env:VARIABLE`).
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with(crate::SECRET_ENV_PREFIX) {
                sh.env_remove(&k);
            }
        }
        for k in &self.hidden_env {
            sh.env_remove(k);
        }
        let mut child = sh
            .arg("-c")
            .arg(&line)
            .stdin(if cmd.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .map_err(|e| {
                fail(
                    ErrorKind::Transport,
                    format!("cannot start sh on {}: {e}", cmd.host),
                )
            })?;
        let writer = match (cmd.stdin.clone(), child.stdin.take()) {
            (Some(data), Some(mut pipe)) => Some(thread::spawn(move || {
                // A command that does not read its input closes the pipe: not an error.
                let _ = pipe.write_all(&data);
            })),
            _ => None,
        };
        let out = drain(child.stdout.take());
        let err = drain(child.stderr.take());
        let timeout = cmd.timeout.unwrap_or(self.default_timeout);
        let start = Instant::now();
        let mut pause = Duration::from_millis(1);
        let status = loop {
            match child.try_wait() {
                Ok(Some(st)) => break st,
                Ok(None) => {}
                Err(e) => {
                    kill_group(&mut child);
                    return Err(fail(
                        ErrorKind::Transport,
                        format!("lost the command on {}: {e}", cmd.host),
                    ));
                }
            }
            if self.cancel.is_cancelled() {
                kill_group(&mut child);
                let _ = child.wait();
                return Err(Error::cancelled()
                    .on_host(&cmd.host)
                    .with_command(cmd.display()));
            }
            if start.elapsed() >= timeout {
                kill_group(&mut child);
                let _ = child.wait();
                return Err(fail(
                    ErrorKind::Timeout,
                    format!(
                        "`{}` on {} did not finish within {} s and was killed",
                        cmd.display(),
                        cmd.host,
                        timeout.as_secs_f64()
                    ),
                ));
            }
            if self.cancel.wait_timeout(pause) {
                continue;
            }
            pause = (pause * 2).min(Duration::from_millis(20));
        };
        if let Some(w) = writer {
            let _ = w.join();
        }
        let stdout = out.join().unwrap_or_default();
        let stderr = err.join().unwrap_or_default();
        let status = match (status.code(), status.signal()) {
            (Some(c), _) => ExitStatus::Code(c),
            (None, Some(s)) => ExitStatus::Signal(signal_name(s)),
            (None, None) => ExitStatus::Code(-1),
        };
        // The bytes as the command wrote them: text for parsers, and the exact bytes too
        // where they are not UTF-8.
        Ok(Output::from_bytes(status, stdout, stderr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hascript_api::Effect;

    fn run(cmd: Command) -> Result<Output, Error> {
        LocalExec::new(CancelToken::new()).exec(&cmd)
    }

    #[test]
    fn runs_argv_with_exact_words_and_exit_code() {
        let out = run(Command::read(
            "me",
            &[
                "sh",
                "-c",
                "printf '%s|' \"$@\"; exit 3",
                "x",
                "a b",
                "$(id);`x`",
            ],
        ));
        let out = out.map_err(|e| e.message);
        assert_eq!(
            out.as_ref().map(|o| o.stdout.as_str()),
            Ok("a b|$(id);`x`|")
        );
        assert_eq!(out.map(|o| o.code()), Ok(3));
    }

    #[test]
    fn feeds_stdin_and_separates_stderr() {
        let cmd = Command::shell("me", "cat; echo oops >&2; echo $LC_ALL", Effect::Read)
            .with_stdin(b"secret\n".to_vec());
        let out = run(cmd).map_err(|e| e.message);
        assert_eq!(out.as_ref().map(|o| o.stdout.as_str()), Ok("secret\nC\n"));
        assert_eq!(out.map(|o| o.stderr), Ok("oops\n".to_string()));
    }

    #[test]
    fn large_outputs_on_both_streams_do_not_deadlock() {
        let cmd = Command::shell(
            "me",
            "head -c 1000000 /dev/zero >&2; head -c 1000000 /dev/zero",
            Effect::Read,
        );
        let out = run(cmd).map_err(|e| e.message);
        assert_eq!(out.as_ref().map(|o| o.stdout.len()), Ok(1_000_000));
        assert_eq!(out.map(|o| o.stderr.len()), Ok(1_000_000));
    }

    #[test]
    fn timeout_kills_and_names_host_and_command() {
        let cmd = Command::read("cd1", &["sleep", "5"]).with_timeout(Duration::from_millis(100));
        let t = Instant::now();
        let e = run(cmd).err();
        assert!(t.elapsed() < Duration::from_secs(3));
        let e = e.map(|e| (e.kind, e.host, e.message.contains("sleep 5")));
        assert_eq!(e, Some((ErrorKind::Timeout, Some("cd1".into()), true)));
    }

    #[test]
    fn named_variables_are_not_handed_down() {
        // A variable of this process (cargo sets several for tests): present in a child's
        // environment, then absent once named.
        let Some((name, value)) = std::env::vars().find(|(k, v)| {
            !matches!(k.as_str(), "PATH" | "LC_ALL")
                && !k.starts_with(crate::SECRET_ENV_PREFIX)
                && !v.is_empty()
                && !v.contains('\n')
                && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }) else {
            panic!("the test process has no environment variable to hand down");
        };
        let line = format!("{name}={value}");
        let env = |exec: LocalExec| {
            exec.exec(&Command::read("me", &["env"]))
                .map(|o| o.stdout)
                .unwrap_or_else(|e| e.message)
        };
        let all = env(LocalExec::new(CancelToken::new()));
        assert!(
            all.lines().any(|l| l == line),
            "{name} not inherited: {all}"
        );
        let kept = env(LocalExec::new(CancelToken::new()).without_env(&["", &name, &name]));
        assert!(
            !kept.lines().any(|l| l.starts_with(&format!("{name}="))),
            "{name} handed down: {kept}"
        );
        assert!(kept.lines().any(|l| l.starts_with("LC_ALL=")), "{kept}");
    }

    #[test]
    fn reports_signals() {
        let out = run(Command::shell("me", "kill -TERM $$", Effect::Read)).map_err(|e| e.message);
        assert_eq!(out.map(|o| o.status), Ok(ExitStatus::Signal("TERM".into())));
    }

    #[test]
    fn keeps_every_byte_and_names_a_kill() {
        let all: Vec<u8> = (0..=255u8).collect();
        let out = run(Command::shell("me", "cat", Effect::Read).with_stdin(all.clone()))
            .map_err(|e| e.message);
        assert_eq!(out.as_ref().map(|o| o.stdout_bytes()), Ok(&all[..]));
        let out = run(Command::shell("me", "kill -KILL $$", Effect::Read)).map_err(|e| e.message);
        assert_eq!(out.map(|o| o.status), Ok(ExitStatus::Signal("KILL".into())));
    }

    #[test]
    fn cancellation_kills_the_command() {
        let token = CancelToken::new();
        let exec = LocalExec::new(token.clone());
        let t2 = token.clone();
        let h = thread::spawn(move || {
            thread::sleep(Duration::from_millis(50));
            t2.cancel();
        });
        let t = Instant::now();
        let e = exec
            .exec(&Command::read("me", &["sleep", "5"]))
            .err()
            .map(|e| e.kind);
        let _ = h.join();
        assert_eq!(e, Some(ErrorKind::Cancelled));
        assert!(t.elapsed() < Duration::from_secs(3));
    }
}
