//! Ctrl-C (issue 5 item 9), through the binary with SIGINT. The simulator's virtual waits
//! take no real time, so `HASCRIPT_SIM_PACE_MS` makes each virtual second of waiting take
//! that many real milliseconds: an interruption can then land in the middle of a wait.
//!
//! The first Ctrl-C stops the wait at once, runs the pending recovery routines (newest
//! first, journaled) and exits 130; a second one stops at once, says what was left pending
//! and journals it, and `hascript unwind` finishes the job.

mod sim_support;

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use sim_support::{event, exit_within, sigint, CrashSite as Env};

impl Env {
    /// Wait (up to 60 s) until the (first) journal has a line for which `pred` holds.
    fn wait_for(&self, what: &str, pred: impl Fn(&Value) -> bool) {
        let t = Instant::now();
        while !self.journal().iter().any(&pred) {
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "no {what} in the journal:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// `cmd` (from [`Env::cmd`]) with virtual waits paced at `pace_ms` real milliseconds per
/// virtual second (start it with [`Env::spawn`]).
fn paced(mut cmd: Command, pace_ms: u32) -> Command {
    cmd.env("HASCRIPT_SIM_PACE_MS", pace_ms.to_string());
    cmd
}

/// `hascript run ldoms/live-migration` of guest2 to cd3 on the site, with `--yes`.
fn live_migration(env: &Env) -> Command {
    env.run_cmd("ldoms/live-migration", &["guest=guest2", "target=cd3"])
}

fn assert_protected_on_source(env: &Env) {
    let cd2 = env.sim_exec("cd2", &["/usr/sbin/ldm", "list", "-p"]);
    assert!(
        cd2.lines()
            .any(|l| l.contains("|name=guest2|") && l.contains("|state=active|")),
        "{cd2}"
    );
    let cd3 = env.sim_exec("cd3", &["/usr/sbin/ldm", "list", "-p"]);
    assert!(!cd3.contains("|name=guest2|"), "{cd3}");
    for g in ["guest1", "guest2"] {
        let cf = env.sim_exec(g, &["/opt/SMAW/bin/cfset", "-a"]);
        assert!(cf.contains("KEY: CLUSTER_TIMEOUT VALUE: 10\n"), "{g}: {cf}");
        let sd = env.sim_exec(g, &["/opt/SMAW/bin/sdtool", "-s"]);
        assert!(sd.contains("TestWorked"), "{g}: {sd}");
    }
}

#[test]
fn ctrl_c_interrupts_a_wait_at_once_runs_the_script_routines_and_exits_130() {
    let env = Env::new("ldoms");
    let script = env.script(
        "wait.rhai",
        "let a = defer(\"say the first\", || info(\"first routine ran\"));\n\
         let b = defer(\"say the second\", || info(\"second routine ran\"));\n\
         let c = defer(\"not needed\", || info(\"third routine ran\"));\n\
         c.done();\n\
         sleep(3600);\n\
         info(\"the wait ended\");\n",
    );
    // 3600 virtual seconds at 10 ms each: 36 s of real time unless interrupted.
    let mut child = env.spawn(paced(env.run_with(&script, &[], &[]), 10));
    env.wait_for("settled routine", |l| l["event"] == "recovery_run");
    std::thread::sleep(Duration::from_millis(300));
    sigint(&child);
    let (code, took) = exit_within(&mut child, Duration::from_secs(20));
    let out = env.output();
    assert_eq!(code, Some(130), "{out}");
    assert!(took < Duration::from_secs(1), "took {took:?}\n{out}");
    assert!(!out.contains("the wait ended"), "{out}");
    // Newest first; the settled one never runs.
    let second = out.find("second routine ran").expect(&out);
    let first = out.find("first routine ran").expect(&out);
    assert!(second < first, "{out}");
    assert!(!out.contains("third routine ran"), "{out}");
    let ls = env.journal();
    let runs: Vec<(u64, String, String)> = event(&ls, "recovery_run")
        .iter()
        .map(|l| {
            (
                l["id"].as_u64().unwrap_or(0),
                l["outcome"].as_str().unwrap_or("").to_string(),
                l["by"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        runs,
        [
            (3, "not_needed".into(), "run".into()),
            (2, "ok".into(), "run".into()),
            (1, "ok".into(), "run".into())
        ]
    );
    let reg = event(&ls, "recovery_registered");
    assert_eq!(reg.len(), 3);
    assert!(reg.iter().all(|r| r["rerunnable"] == false));
    let last = ls.last().expect("lines");
    assert_eq!(last["event"], "result");
    assert_eq!(last["exit"], 130);
    assert_eq!(last["result"], "cancelled");
}

#[test]
fn ctrl_c_during_the_down_wait_runs_the_registered_routine_and_exits_130() {
    let env = Env::new("ldoms/migration-aborted-guest-stopped");
    // The recovery's DOWN wait (about 600 virtual seconds) takes about 3 s.
    let mut child = env.spawn(paced(live_migration(&env), 5));
    env.wait_for("wait", |l| l["event"] == "wait");
    sigint(&child);
    let t = Instant::now();
    // The wait stops at once: the run turns to its pending routine well under a second.
    env.wait_for("recovery start", |l| {
        l["event"] == "warn"
            && l["message"]
                .as_str()
                .is_some_and(|m| m.contains("interrupted: running 1 pending recovery routine"))
    });
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    let (code, _) = exit_within(&mut child, Duration::from_secs(60));
    let out = env.output();
    assert_eq!(code, Some(130), "{out}");
    let ls = env.journal();
    let reg = event(&ls, "recovery_registered");
    assert_eq!(reg.len(), 1, "{reg:?}");
    // The routine names its procedure and parameters (issue 12: recovery routines are
    // scripts), not a driver function.
    assert_eq!(reg[0]["routine"]["procedure"], "ldoms/recover-migration");
    assert_eq!(reg[0]["routine"]["params"]["guest"], "guest2");
    let ran = event(&ls, "recovery_run");
    assert_eq!(ran.len(), 1, "{ran:?}");
    assert_eq!(
        (ran[0]["outcome"].as_str(), ran[0]["by"].as_str()),
        (Some("ok"), Some("run"))
    );
    // The guest was started once: by the routine, not by the interrupted bracket as well.
    let starts = event(&ls, "command_start")
        .iter()
        .filter(|l| l["command"].as_str().unwrap_or("").contains("start-domain"))
        .count();
    assert_eq!(starts, 1, "{out}");
    assert_eq!(ls.last().map(|l| l["exit"].clone()), Some(130.into()));
    assert_protected_on_source(&env);
}

#[test]
fn a_second_ctrl_c_stops_at_once_says_what_is_pending_and_unwind_finishes() {
    let env = Env::new("ldoms/migration-aborted-guest-stopped");
    // Slow enough that the routine is still waiting when the second Ctrl-C comes.
    let mut child = env.spawn(paced(live_migration(&env), 20));
    env.wait_for("wait", |l| l["event"] == "wait");
    sigint(&child);
    env.wait_for("routine step", |l| {
        l["event"] == "step" && l["section"] == "recovery"
    });
    std::thread::sleep(Duration::from_millis(200));
    sigint(&child);
    let (code, took) = exit_within(&mut child, Duration::from_secs(10));
    let out = env.output();
    assert_eq!(code, Some(130), "{out}");
    assert!(took < Duration::from_secs(1), "took {took:?}");
    assert!(out.contains("stopped at once; left pending"), "{out}");
    assert!(out.contains("recover the migration of guest2"), "{out}");
    let ls = env.journal();
    let id = ls[0]["run"].as_str().expect("id").to_string();
    assert!(out.contains(&format!("hascript unwind {id}")), "{out}");
    let ran = event(&ls, "recovery_run");
    assert_eq!(ran.len(), 1);
    assert_eq!(ran[0]["outcome"], "abandoned");
    assert_eq!(ls.last().map(|l| l["exit"].clone()), Some(130.into()));
    // Fencing is still off; unwind runs the abandoned routine (locks taken over).
    let cf = env.sim_exec("guest1", &["/opt/SMAW/bin/cfset", "-a"]);
    assert!(cf.contains("CLUSTER_TIMEOUT VALUE: 600"), "{cf}");
    let o = env.cmd(&["unwind", &id]).output().expect("unwind");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(text.contains("routine #1"), "{text}");
    assert_protected_on_source(&env);
}

/// A signal that comes while the run executes its recovery routine after a failure (none
/// came before) stops at once, as a second one does: the routine is left pending
/// (`abandoned`) for `hascript unwind`, which finishes the job. It never turns the recovery
/// into a routine that "failed" half-way.
#[test]
fn a_signal_while_the_routines_run_after_a_failure_stops_at_once_and_unwind_finishes() {
    let env = Env::new("ldoms");
    // A site's script that stops after 17.3.1.1: the run executes ldoms/recover-migration,
    // whose 17.3.1.2 gives the shutdown facility 30 virtual seconds (600 ms here).
    let script = env.script(
        "stops-after-prepare.rhai",
        "cluster.prepare_migration(\"guest2\", \"cd3\");\nfail(\"failed\", \"the site's step said no\");\n",
    );
    let mut child = env.spawn(paced(env.run_with(&script, &[], &["--yes"]), 20));
    env.wait_for("routine step", |l| {
        l["event"] == "step" && l["section"] == "recovery"
    });
    env.wait_for("the routine's -u", |l| {
        l["event"] == "command_start"
            && l["command"]
                .as_str()
                .is_some_and(|c| c.contains("clovmmigrate -u"))
    });
    sigint(&child);
    let (code, took) = exit_within(&mut child, Duration::from_secs(10));
    let out = env.output();
    assert_eq!(code, Some(130), "{out}");
    assert!(took < Duration::from_secs(1), "took {took:?}");
    assert!(
        out.contains("while the recovery routines ran after a failure: stopping at once"),
        "{out}"
    );
    let ls = env.journal();
    let id = ls[0]["run"].as_str().expect("id").to_string();
    assert!(out.contains(&format!("hascript unwind {id}")), "{out}");
    let ran = event(&ls, "recovery_run");
    assert_eq!(ran.len(), 1, "{ran:?}");
    assert_eq!(ran[0]["outcome"], "abandoned", "{out}");
    let o = env.cmd(&["unwind", &id]).output().expect("unwind");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert_protected_on_source(&env);
}
