//! The recovery routines of single changing driver calls (issue 5 item 3), through the
//! binary: `hascript run` of a small site script over a folder-backed simulated site.
//!
//! - Ctrl-C half-way through `fence.stop()`: the call's routine (`restore_fence`, journaled
//!   before the first `sdtool -e`) is still pending; the run runs it (`recovery_run`, `by:
//!   run`), which starts the shutdown facility again on the node the call had stopped and
//!   leaves the other alone, and exits 130. To land the interruption exactly between the
//!   two `sdtool -e`, the test holds the simulated site's own file lock (`site.lock`, which
//!   every simulated command takes) so that the run waits inside the first `sdtool -e`.
//! - A script failing after a *completed* `fence.stop()`: the call's routine was settled
//!   "not needed" (fencing off is what it was asked for); what runs is the script's own
//!   `defer`, the way a script protects its own window.

mod sim_support;

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::{Child, Output};
use std::time::{Duration, Instant};

use serde_json::Value;
use sim_support::{sigint, text, CrashSite as Env};

impl Env {
    /// `sdtool -s` on a simulated guest, as `hascript sim exec` runs it.
    fn sdtool_s(&self, guest: &str) -> Output {
        self.sim_run(guest, &["/opt/SMAW/bin/sdtool", "-s"])
    }

    /// The shutdown facility answers `sdtool -s` with its table on both guest nodes.
    fn assert_sf_runs_on_both(&self) {
        for g in ["guest1", "guest2"] {
            let o = self.sdtool_s(g);
            assert_eq!(o.status.code(), Some(0), "{g}: {}", text(&o.stderr));
            assert!(
                text(&o.stdout).contains("SA_xscfsnmpg0p.so"),
                "{g}: {}",
                text(&o.stdout)
            );
        }
    }
}

fn is(l: &Value, event: &str, host: &str, command: &str) -> bool {
    l["event"] == event
        && l["host"] == host
        && l["command"].as_str().is_some_and(|c| c.contains(command))
}

fn find(ls: &[Value], pred: impl Fn(&Value) -> bool) -> Option<usize> {
    ls.iter().position(pred)
}

/// The simulated site's own lock file, held exclusively by the test: every simulated
/// command of the run waits for it.
struct SiteLock(File);

impl SiteLock {
    fn open(site: &Path) -> SiteLock {
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(site.join("site.lock"))
            .expect("site.lock");
        SiteLock(f)
    }
    fn lock(&self) {
        // SAFETY: flock on a descriptor this struct owns.
        let rc = unsafe { libc::flock(self.0.as_raw_fd(), libc::LOCK_EX) };
        assert_eq!(rc, 0, "flock");
    }
    fn unlock(&self) {
        // SAFETY: as above.
        let rc = unsafe { libc::flock(self.0.as_raw_fd(), libc::LOCK_UN) };
        assert_eq!(rc, 0, "flock -u");
    }
}

fn wait_exit(child: &mut Child, env: &Env) -> Option<i32> {
    let t = Instant::now();
    loop {
        if let Ok(Some(s)) = child.try_wait() {
            return s.code();
        }
        if t.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the run did not end:\n{}", env.output());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

const STOP: &str =
    "//! title: stop fencing\nlet r = fence.stop();\ninfo(`stopped on ${r.stopped}`);\n";

/// Run the `fence.stop()` script and press Ctrl-C while its first `sdtool -e` (guest1) is
/// under way. `None` when the run got past that point before the test could hold it there
/// (the caller tries again).
fn ctrl_c_inside_the_first_sdtool_e() -> Option<(Env, i32)> {
    let env = Env::init(None);
    let script = env.script("stop.rhai", STOP);
    let lock = SiteLock::open(&env.site);
    lock.lock();
    let mut child = env.spawn(env.run_with(&script, &[], &[]));
    let t = Instant::now();
    let mut seen = 0;
    let mut quiet_since = Instant::now();
    loop {
        let ls = env.journal();
        let start = find(&ls, |l| is(l, "command_start", "guest1", "sdtool -e"));
        let end = find(&ls, |l| is(l, "command_end", "guest1", "sdtool -e"));
        if start.is_some() && end.is_none() {
            // The run waits inside the first `sdtool -e` (the site's lock is ours).
            break;
        }
        if end.is_some() || matches!(child.try_wait(), Ok(Some(_))) {
            lock.unlock();
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "the run never reached sdtool -e:\n{}",
            env.output()
        );
        if ls.len() != seen {
            seen = ls.len();
            quiet_since = Instant::now();
        } else if quiet_since.elapsed() > Duration::from_millis(30) {
            // The run waits for the site: let it send one more command.
            lock.unlock();
            lock.lock();
            quiet_since = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    sigint(&child);
    // Let the run take the interruption in, then let its command finish.
    std::thread::sleep(Duration::from_millis(300));
    lock.unlock();
    drop(lock);
    let code = wait_exit(&mut child, &env).unwrap_or(-1);
    Some((env, code))
}

#[test]
fn ctrl_c_half_way_through_fence_stop_runs_its_pending_routine_and_journals_it() {
    let (env, code) = (1..=5)
        .find_map(|n| {
            let r = ctrl_c_inside_the_first_sdtool_e();
            if r.is_none() {
                eprintln!("try {n}: the run got past the first sdtool -e first; again");
            }
            r
        })
        .expect("the interruption landed inside the first sdtool -e in one of 5 tries");
    let out = env.output();
    assert_eq!(code, 130, "{out}");
    let ls = env.journal();
    let reg = find(&ls, |l| {
        l["event"] == "recovery_registered" && l["routine"]["routine"] == "restore_fence"
    })
    .unwrap_or_else(|| panic!("registered: {out}"));
    assert_eq!(ls[reg]["routine"]["driver"], "ldoms");
    assert_eq!(
        ls[reg]["routine"]["guests"],
        serde_json::json!(["guest1", "guest2"])
    );
    assert_eq!(ls[reg]["rerunnable"], true);
    let id = ls[reg]["id"].clone();
    let stop1 = find(&ls, |l| is(l, "command_start", "guest1", "sdtool -e")).expect("stop 1");
    assert!(reg < stop1, "registered before the first change");
    assert!(
        find(&ls, |l| is(l, "command_start", "guest2", "sdtool -e")).is_none(),
        "the interruption stopped the call before guest2"
    );
    let ran = find(&ls, |l| l["event"] == "recovery_run" && l["id"] == id)
        .unwrap_or_else(|| panic!("recovery_run: {out}"));
    assert_eq!(ls[ran]["outcome"], "ok", "{}", ls[ran]);
    assert_eq!(ls[ran]["by"], "run");
    // State-aware: SF started again where the call had stopped it, and only there.
    let start1 = find(&ls, |l| is(l, "command_start", "guest1", "sdtool -b")).expect("restart");
    assert!(stop1 < start1 && start1 < ran);
    assert!(find(&ls, |l| is(l, "command_start", "guest2", "sdtool -b")).is_none());
    let result = ls.last().expect("result");
    assert_eq!(result["event"], "result");
    assert_eq!(result["exit"], 130);
    assert!(out.contains("restore_fence") || out.contains("start the shutdown facility again"));
    env.assert_sf_runs_on_both();
}

#[test]
fn a_completed_fence_stop_settles_its_routine_and_the_scripts_own_defer_restores_on_failure() {
    let env = Env::init(None);
    let script = env.script(
        "stop-then-fail.rhai",
        "//! title: stop fencing, then fail\n\
         fence.stop();\n\
         let r = defer(\"start fencing again\", || { fence.start(); });\n\
         throw \"the work after it failed\";\n",
    );
    let o = env.run(&script, &[], &[]);
    let out = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(1), "{out}");
    let ls = env.journal();
    let reg = find(&ls, |l| {
        l["event"] == "recovery_registered" && l["routine"]["routine"] == "restore_fence"
    })
    .unwrap_or_else(|| panic!("registered: {out}"));
    let id = ls[reg]["id"].clone();
    let first = find(&ls, |l| {
        l["event"] == "command_start"
            && l["command"]
                .as_str()
                .is_some_and(|c| c.contains("sdtool -e"))
    })
    .expect("stop");
    assert!(reg < first, "registered before the first change");
    let settled = find(&ls, |l| l["event"] == "recovery_run" && l["id"] == id).expect("settled");
    assert_eq!(ls[settled]["outcome"], "not_needed");
    assert_eq!(ls[settled]["by"], "driver");
    // The script's own routine is what the failure runs.
    let deferred = find(&ls, |l| {
        l["event"] == "recovery_registered" && l["what"] == "start fencing again"
    })
    .expect("defer registered");
    assert_eq!(ls[deferred]["rerunnable"], false);
    let did = ls[deferred]["id"].clone();
    let ran = find(&ls, |l| l["event"] == "recovery_run" && l["id"] == did).expect("defer ran");
    assert_eq!(ls[ran]["outcome"], "ok");
    assert_eq!(ls[ran]["by"], "run");
    assert_eq!(
        ls.iter()
            .filter(|l| l["event"] == "recovery_run" && l["id"] == id)
            .count(),
        1,
        "the call's routine is settled once and never run"
    );
    env.assert_sf_runs_on_both();
}
