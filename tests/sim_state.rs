//! A `--sim-state` folder shared by a run and `hascript sim exec` (issue 11 item 11): the
//! run keeps the site in memory between its commands, yet sees what another process
//! changed in between; a run that only reads leaves `site.json` as it was.

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod sim_support;

use sim_support::{command_log, Site};

fn stamp(state: &Path) -> (u64, u64, i64, i64) {
    let m = std::fs::metadata(state.join("site.json")).expect("site.json");
    (m.ino(), m.size(), m.mtime(), m.mtime_nsec())
}

#[test]
fn a_run_sees_what_sim_exec_changed_between_two_of_its_commands() {
    let site = Site::new(None);
    let script = site._dir.path().join("poll.rhai");
    std::fs::write(
        &script,
        r#"
let seen = "";
for i in 0..500 {
    let r = host("cd1").run(["cat", "/var/tmp/marker"], #{changes: false, check: false});
    if r.exit == 0 { seen = r.stdout; break; }
    sleep(1);
}
if seen == "" { throw "the run never saw the marker"; }
print(`saw: ${seen}`);
"#,
    )
    .expect("script");
    // Each virtual second of the run's waits takes 20 ms: the test has time to step in.
    let run = Command::new(env!("CARGO_BIN_EXE_hascript"))
        .args([
            "run",
            script.to_str().expect("utf8"),
            "--sim",
            "--sim-state",
        ])
        .arg(&site.state)
        .env_remove("HASCRIPT_PATH")
        .env("XDG_STATE_HOME", env!("CARGO_TARGET_TMPDIR"))
        .env("NO_COLOR", "1")
        .env("HASCRIPT_SIM_PACE_MS", "20")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run");
    // Wait until the run has polled (and so holds the site in memory) twice.
    let polls = |log: &[String]| {
        log.iter()
            .filter(|l| l.ends_with("cat /var/tmp/marker"))
            .count()
    };
    let t0 = Instant::now();
    while polls(&command_log(&site.state)) < 2 {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "the run never polled"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut exec = Command::new(env!("CARGO_BIN_EXE_hascript"))
        .args(["sim", "exec", "--state"])
        .arg(&site.state)
        .args(["--host", "cd1", "--", "dd", "of=/var/tmp/marker"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sim exec");
    exec.stdin
        .take()
        .expect("stdin")
        .write_all(b"from sim exec\n")
        .expect("write");
    assert!(exec.wait().expect("sim exec").success());
    let out = run.wait_with_output().expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("saw: from sim exec"), "{stdout}");
    // The first poll after the change saw it.
    let log = command_log(&site.state);
    let at = log
        .iter()
        .position(|l| l.ends_with("dd of=/var/tmp/marker"))
        .expect("the change is logged");
    assert_eq!(polls(&log[at..]), 1, "{log:#?}");
}

#[test]
fn a_read_only_procedure_leaves_site_json_as_it_was() {
    let site = Site::new(None);
    let before = stamp(&site.state);
    let r = site.run("ldoms/verify-fence", &[], &[]);
    assert_eq!(r.code, 0, "{}", r.dump());
    assert!(r.log.len() > 5, "it read the site: {}", r.dump());
    assert!(r.changes().is_empty(), "{}", r.dump());
    assert_eq!(
        stamp(&site.state),
        before,
        "a run that only reads does not rewrite site.json"
    );
}
