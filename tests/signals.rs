//! SIGTERM and SIGHUP are handled like Ctrl-C (issue 11 item 2): a scheduler's `timeout`,
//! systemd's stop or a dropped SSH session no longer kill a run in the middle of a change.
//! The first signal stops the procedure and runs its pending recovery routines (the CF
//! timeout is back at 10, the shutdown facility runs), then the run exits 143 / 129 / 130;
//! a second signal stops at once and the journal's last events name what is left pending
//! and the `hascript unwind` command. The same from the REPL's `:run` (over a pipe), and
//! from `hascript run` and the REPL's `:run` in a real terminal (tmux) that is closed under
//! them.
//!
//! `HASCRIPT_SIM_PACE_MS` makes each virtual second of waiting take real milliseconds, so
//! the signal lands in the wait for `DOWN`; `--sim-state` keeps the end state to read.

mod sim_support;

use std::io::Write as _;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use sim_support::{event, exit_within, in_parallel, CrashSite as Env};

/// Send `sig` to process `pid` (our child).
fn kill(pid: u32, sig: i32) {
    // SAFETY: sending a signal to a process this test started.
    let rc = unsafe { libc::kill(pid as i32, sig) };
    assert_eq!(rc, 0, "kill -{sig} {pid}");
}

/// Wait (up to 60 s) until the first journal has a line for which `pred` holds.
fn wait_for(env: &Env, what: &str, pred: impl Fn(&Value) -> bool) {
    let t = Instant::now();
    while !env.journal().iter().any(&pred) {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "no {what} in the journal:\n{}",
            env.output()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `hascript run ldoms/live-migration` of guest2 to cd3, `--yes`, waits paced at `pace_ms`.
fn live_migration(env: &Env, pace_ms: u32) -> Command {
    let mut c = env.run_cmd("ldoms/live-migration", &["guest=guest2", "target=cd3"]);
    c.env("HASCRIPT_SIM_PACE_MS", pace_ms.to_string());
    c
}

/// The run reached the procedure's wait for `DOWN`.
fn in_the_down_wait(l: &Value) -> bool {
    l["event"] == "wait"
}

/// Fencing is back on (CF timeout 10, the shutdown facility runs) and guest2 runs on cd2.
fn assert_protected_on_source(env: &Env, what: &str) {
    let cd2 = env.sim_exec("cd2", &["/usr/sbin/ldm", "list", "-p"]);
    assert!(
        cd2.lines()
            .any(|l| l.contains("|name=guest2|") && l.contains("|state=active|")),
        "{what}: {cd2}"
    );
    for g in ["guest1", "guest2"] {
        let cf = env.sim_exec(g, &["/opt/SMAW/bin/cfset", "-a"]);
        assert!(
            cf.contains("KEY: CLUSTER_TIMEOUT VALUE: 10\n"),
            "{what}: {g}: {cf}"
        );
        let sd = env.sim_exec(g, &["/opt/SMAW/bin/sdtool", "-s"]);
        assert!(sd.contains("TestWorked"), "{what}: {g}: {sd}");
    }
}

/// The journal of a run stopped by a signal whose recovery ran: the routine ran (`ok`, by
/// the run), the result is `cancelled` with `code`.
fn assert_recovered_and_cancelled(ls: &[Value], code: i32, what: &str) {
    let ran = event(ls, "recovery_run");
    assert_eq!(ran.len(), 1, "{what}: {ran:?}");
    assert_eq!(
        (ran[0]["outcome"].as_str(), ran[0]["by"].as_str()),
        (Some("ok"), Some("run")),
        "{what}"
    );
    let last = ls.last().cloned().unwrap_or_default();
    assert_eq!(last["event"], "result", "{what}: {last}");
    assert_eq!(last["exit"], code, "{what}: {last}");
    assert_eq!(last["result"], "cancelled", "{what}: {last}");
    assert_eq!(last["kind"], "cancelled", "{what}: {last}");
}

const SIGNALS: [(i32, i32, &str); 3] = [
    (libc::SIGTERM, 143, "SIGTERM"),
    (libc::SIGHUP, 129, "SIGHUP"),
    (libc::SIGINT, 130, "SIGINT"),
];

#[test]
fn sigterm_sighup_and_sigint_during_the_down_wait_run_the_recovery_and_exit_143_129_130() {
    in_parallel(&SIGNALS, |&(sig, code, name)| {
        let env = Env::new("ldoms/migration-aborted-guest-stopped");
        // The recovery's DOWN wait (about 600 virtual seconds) takes about 3 s.
        let mut child = env.spawn(live_migration(&env, 5));
        wait_for(&env, "wait", in_the_down_wait);
        kill(child.id(), sig);
        let (exit, _) = exit_within(&mut child, Duration::from_secs(60));
        let out = env.output();
        assert_eq!(exit, Some(code), "{name}: {out}");
        assert!(
            out.contains("interrupted: running 1 pending recovery routine"),
            "{name}: {out}"
        );
        assert_recovered_and_cancelled(&env.journal(), code, name);
        assert_protected_on_source(&env, name);
    });
}

#[test]
fn sighup_with_the_outputs_gone_still_runs_the_recovery_and_exits_129() {
    // A dropped session: the pipes the run writes to have no reader any more (EPIPE on
    // every write); the run must neither die of it nor stop its recovery.
    let env = Env::new("ldoms/migration-aborted-guest-stopped");
    let mut child = live_migration(&env, 5)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    wait_for(&env, "wait", in_the_down_wait);
    drop(child.stdout.take());
    drop(child.stderr.take());
    kill(child.id(), libc::SIGHUP);
    let (exit, _) = exit_within(&mut child, Duration::from_secs(60));
    assert_eq!(exit, Some(129));
    assert_recovered_and_cancelled(&env.journal(), 129, "SIGHUP, no outputs");
    assert_protected_on_source(&env, "SIGHUP, no outputs");
}

#[test]
fn a_second_signal_stops_at_once_and_the_journal_names_what_is_pending_and_unwind() {
    // (first, second, exit code of the second)
    let cases = [
        (libc::SIGTERM, libc::SIGHUP, 129),
        (libc::SIGHUP, libc::SIGINT, 130),
    ];
    in_parallel(&cases, |&(first, second, code)| {
        let what = format!("signal {first} then {second}");
        let env = Env::new("ldoms/migration-aborted-guest-stopped");
        // Slow enough that the routine is still waiting when the second signal comes.
        let mut child = env.spawn(live_migration(&env, 20));
        wait_for(&env, "wait", in_the_down_wait);
        kill(child.id(), first);
        wait_for(&env, "routine step", |l| {
            l["event"] == "step" && l["section"] == "recovery"
        });
        std::thread::sleep(Duration::from_millis(200));
        kill(child.id(), second);
        let (exit, took) = exit_within(&mut child, Duration::from_secs(10));
        let out = env.output();
        assert_eq!(exit, Some(code), "{what}: {out}");
        assert!(took < Duration::from_secs(2), "{what}: took {took:?}");
        let ls = env.journal();
        let id = ls[0]["run"].as_str().expect("id").to_string();
        let unwind = format!("hascript unwind {id}");
        assert!(
            out.contains("stopped at once; left pending"),
            "{what}: {out}"
        );
        assert!(out.contains(&unwind), "{what}: {out}");
        // The journal's last events: the routine abandoned, an error naming it and the
        // unwind command, the result.
        let n = ls.len();
        assert!(n >= 3, "{what}: {ls:?}");
        let last = &ls[n - 1];
        assert_eq!(
            (last["event"].as_str(), last["exit"].as_i64()),
            (Some("result"), Some(code as i64)),
            "{what}: {last}"
        );
        assert_eq!(last["result"], "cancelled", "{what}: {last}");
        let error = &ls[n - 2];
        assert_eq!(error["event"], "error", "{what}: {error}");
        let msg = error["message"].as_str().unwrap_or_default();
        assert!(
            msg.contains("recover the migration of guest2"),
            "{what}: {msg}"
        );
        assert!(msg.contains(&unwind), "{what}: {msg}");
        let ran = event(&ls, "recovery_run");
        assert_eq!(ran.len(), 1, "{what}: {ran:?}");
        assert_eq!(ran[0]["outcome"], "abandoned", "{what}");
        // Fencing is still off; unwind runs the abandoned routine.
        let cf = env.sim_exec("guest1", &["/opt/SMAW/bin/cfset", "-a"]);
        assert!(cf.contains("CLUSTER_TIMEOUT VALUE: 600"), "{what}: {cf}");
        let o = env.cmd(&["unwind", &id]).output().expect("unwind");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(o.status.code(), Some(0), "{what}: {text}");
        assert_protected_on_source(&env, &what);
    });
}

/// `hascript repl --sim --sim-state DIR` over pipes, paced; its output goes to the test's
/// files ([`Env::output`]).
fn repl_over_a_pipe(env: &Env) -> Child {
    let mut c = env.cmd(&["repl", "--sim", "--sim-state", env.site_str()]);
    c.env("HASCRIPT_SIM_PACE_MS", "5").stdin(Stdio::piped());
    let mut child = env.spawn(c);
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(b":run ldoms/live-migration guest=guest2 target=cd3 --yes\n")
        .expect("write");
    // Standard input stays open: the REPL would go on reading after the run.
    child.stdin = Some(stdin);
    child
}

#[test]
fn the_repl_run_stopped_by_sigterm_sighup_or_sigint_runs_the_recovery() {
    in_parallel(&SIGNALS, |&(sig, code, name)| {
        let what = format!("REPL :run, {name}");
        let env = Env::new("ldoms/migration-aborted-guest-stopped");
        let mut child = repl_over_a_pipe(&env);
        wait_for(&env, "wait", in_the_down_wait);
        kill(child.id(), sig);
        // SIGTERM and SIGHUP end the REPL once the recovery ran; after Ctrl-C it goes on
        // (until its input ends).
        wait_for(&env, "result", |l| l["event"] == "result");
        if sig == libc::SIGINT {
            drop(child.stdin.take());
        }
        let (exit, _) = exit_within(&mut child, Duration::from_secs(60));
        let out = env.output();
        let expected = if sig == libc::SIGINT { 0 } else { code };
        assert_eq!(exit, Some(expected), "{what}: {out}");
        assert!(
            out.contains(&format!("ended with exit code {code}")),
            "{what}: {out}"
        );
        assert_recovered_and_cancelled(&env.journal(), code, &what);
        assert_protected_on_source(&env, &what);
    });
}

/// Run `args` of hascript (paced, on `env`'s site and journal folder) in a real terminal
/// (tmux); once the procedure waits for `DOWN`, close the terminal (kill the tmux session:
/// SIGHUP, and the terminal is gone) and wait for the process to leave. `typed`: a line to
/// type once `ready` is on the screen (the REPL's `:run`).
fn close_the_terminal_in_the_down_wait(env: &Env, args: &str, ready: &str, typed: Option<&str>) {
    // One tmux server per call (tests run in parallel).
    static SERVERS: AtomicUsize = AtomicUsize::new(0);
    let socket = format!(
        "hascript-signals-{}-{}",
        std::process::id(),
        SERVERS.fetch_add(1, Ordering::SeqCst)
    );
    let tmux = |a: &[&str]| {
        Command::new("tmux")
            .arg("-L")
            .arg(&socket)
            .args(a)
            .stderr(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run tmux (apt-get install tmux): {e}"))
    };
    struct Server<'a>(&'a dyn Fn(&[&str]) -> std::process::Output);
    impl Drop for Server<'_> {
        fn drop(&mut self) {
            (self.0)(&["kill-server"]);
        }
    }
    let _server = Server(&tmux);
    let cmd = format!(
        "env -u HASCRIPT_PATH TERM=xterm NO_COLOR=1 USER=nightops HASCRIPT_SIM_PACE_MS=5 XDG_STATE_HOME='{}' '{}' {args}",
        env.state_home.display(),
        env!("CARGO_BIN_EXE_hascript"),
    );
    let o = tmux(&[
        "new-session",
        "-d",
        "-s",
        "t",
        "-x",
        "150",
        "-y",
        "50",
        &cmd,
    ]);
    assert!(o.status.success(), "tmux new-session failed");
    let screen =
        || String::from_utf8_lossy(&tmux(&["capture-pane", "-p", "-t", "t"]).stdout).into_owned();
    let t = Instant::now();
    while !screen().contains(ready) {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "no {ready:?}:\n{}",
            screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    if let Some(line) = typed {
        tmux(&["send-keys", "-t", "t", "-l", line]);
        tmux(&["send-keys", "-t", "t", "Enter"]);
    }
    wait_for(env, "wait", in_the_down_wait);
    // The process (tmux execs the command: `env` then execs hascript).
    let pid: i32 =
        String::from_utf8_lossy(&tmux(&["display", "-p", "-t", "t", "#{pane_pid}"]).stdout)
            .trim()
            .parse()
            .expect("pane pid");
    let o = tmux(&["kill-session", "-t", "t"]);
    assert!(o.status.success(), "tmux kill-session failed");
    wait_for(env, "result", |l| l["event"] == "result");
    // And then it leaves (nothing left behind without a terminal).
    let t = Instant::now();
    // Running: it exists (signal 0) and is not a zombie waiting to be reaped.
    let running = || {
        // SAFETY: signal 0 only checks whether the process exists.
        let exists = unsafe { libc::kill(pid, 0) } == 0;
        let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|st| st.rsplit(") ").next().map(|r| r.starts_with('Z')))
            .unwrap_or(false);
        exists && !zombie
    };
    while running() {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "{args}: pid {pid} still runs after its terminal closed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_repl_run_in_a_terminal_that_is_closed_runs_the_recovery() {
    let env = Env::new("ldoms/migration-aborted-guest-stopped");
    close_the_terminal_in_the_down_wait(
        &env,
        &format!("repl --sim --sim-state '{}'", env.site_str()),
        "hascript(",
        Some(":run ldoms/live-migration guest=guest2 target=cd3 --yes"),
    );
    assert_recovered_and_cancelled(&env.journal(), 129, "REPL in a closed terminal");
    assert_protected_on_source(&env, "REPL in a closed terminal");
}

#[test]
fn a_run_in_a_terminal_that_is_closed_runs_the_recovery() {
    let env = Env::new("ldoms/migration-aborted-guest-stopped");
    close_the_terminal_in_the_down_wait(
        &env,
        &format!(
            "run ldoms/live-migration --sim --sim-state '{}' -p guest=guest2 -p target=cd3 --yes",
            env.site_str()
        ),
        "",
        None,
    );
    assert_recovered_and_cancelled(&env.journal(), 129, "run in a closed terminal");
    assert_protected_on_source(&env, "run in a closed terminal");
}
