//! The recovery routines of the LDoms driver's single changing calls (issue 5 item 3), over
//! the simulator: `cluster.prepare_migration` (the A2 routine `recover_migration`) and
//! `fence.stop()` (`restore_fence`). For each: registered (recorded) before the first
//! change, settled "not needed" when the call completes, run at once by the call when it
//! fails half-way (restoring the state the manual asks for), left pending when it is
//! interrupted, and harmless when run again.

mod support;

use std::sync::Arc;

use hascript_api::{ErrorKind, Exec, Site};
use hascript_testkit::{inherit_pending, Fault, Recorder};
use serde_json::json;
use support::{changes, fresh_site, site_over, topology, traced_site};

const CLOVMMIGRATE_P: &str = "cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -p guest2";
const CLOVMMIGRATE_U: &str = "cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd2";

/// Whether SF runs on each guest node, in inventory order.
fn sf_running(site: &dyn Site) -> Vec<bool> {
    site.fence()
        .agents()
        .expect("sdtool -s")
        .as_array()
        .expect("rows")
        .iter()
        .map(|a| a["running"] == true)
        .collect()
}

/// The cluster is back where the manual wants it: CF timeout 10 s and SF running,
/// verified, on every node.
fn assert_protected(site: &dyn Site) {
    assert_eq!(site.cluster().timeout().expect("cfset -a"), 10);
    assert_eq!(sf_running(site), [true, true]);
    let v = site.fence().verify().expect("verify");
    assert_eq!(v["ok"], true, "{v}");
}

// ----- cluster.prepare_migration ------------------------------------------------------

#[test]
fn prepare_migration_registers_its_routine_before_clovmmigrate_p_and_settles_it_when_done() {
    let (s, _sim, _ui, t) = traced_site(None);
    let r = s.cluster().prepare_migration("guest2").expect("prepared");
    assert_eq!(r["changed"], true);
    let ev = t.events();
    let reg = t
        .position("registered #1 recover_migration")
        .unwrap_or_else(|| panic!("registered: {ev:#?}"));
    let p = t
        .position(&format!("change {CLOVMMIGRATE_P}"))
        .expect("-p sent");
    let done = t
        .position("settled #1 not_needed by driver")
        .unwrap_or_else(|| panic!("settled: {ev:#?}"));
    assert!(reg < p && p < done, "{ev:#?}");
    assert!(
        ev[..reg].iter().all(|e| !e.starts_with("change ")),
        "nothing changed before the registration: {ev:#?}"
    );
    assert!(s.context().recoveries.pending().is_empty());
    // Done means done: fencing stays off, as pre-migration intends.
    assert_eq!(s.cluster().timeout().expect("t"), 600);
    assert_eq!(t.changes(), [CLOVMMIGRATE_P]);
}

#[test]
fn prepare_migration_that_fails_after_clovmmigrate_p_runs_the_routine_and_restores_the_cluster() {
    let (s, sim, ui, t) = traced_site(None);
    // `-p` reaches the control domain and takes effect; its answer is lost.
    t.fault("clovmmigrate -p", Fault::LoseAnswer);
    let e = s
        .cluster()
        .prepare_migration("guest2")
        .expect_err("the answer was lost");
    assert_eq!(e.kind, ErrorKind::Failed, "{e}");
    assert!(
        e.message
            .contains("Recovery ran: guest2 runs on cd2; 17.3.1.2 done there"),
        "{}",
        e.message
    );
    assert!(
        ui.text().contains("17.3.1.1 did not complete"),
        "{}",
        ui.text()
    );
    let ev = t.events();
    assert!(
        t.position("settled #1 ok by driver").is_some(),
        "the call ran its own routine: {ev:#?}"
    );
    assert!(s.context().recoveries.pending().is_empty());
    assert_eq!(t.changes(), [CLOVMMIGRATE_P, CLOVMMIGRATE_U]);
    assert_protected(&s);
    // Run again (as `hascript unwind` would): it reads, finds nothing to do, sends nothing.
    let before = changes(&sim).len();
    let routine = json!({"driver": "ldoms", "routine": "recover_migration", "guest": "guest2"});
    fresh_site(&sim).run_recovery(&routine).expect("again");
    assert_eq!(changes(&sim).len(), before, "{:#?}", changes(&sim));
}

#[test]
fn prepare_migration_whose_clovmmigrate_p_never_arrived_recovers_without_a_change() {
    let (s, _sim, _ui, t) = traced_site(None);
    t.fault("clovmmigrate -p", Fault::Refuse);
    let e = s
        .cluster()
        .prepare_migration("guest2")
        .expect_err("connection lost");
    assert_eq!(e.kind, ErrorKind::Failed, "{e}");
    assert!(t.position("settled #1 ok by driver").is_some());
    // The routine read the state first: 17.3.1.2 had nothing to do, so no -u.
    assert!(t.changes().is_empty(), "{:#?}", t.changes());
    assert_protected(&s);
}

#[test]
fn prepare_migration_refused_before_clovmmigrate_p_registers_nothing() {
    let (s, _sim, _ui, t) = traced_site(None);
    // The read of the state before `-p` fails: nothing was changed, nothing to recover.
    t.fault("sdtool -s", Fault::Refuse);
    let e = s
        .cluster()
        .prepare_migration("guest2")
        .expect_err("read failed");
    assert_eq!(e.kind, ErrorKind::Transport, "{e}");
    assert!(
        t.events().iter().all(|e| !e.starts_with("registered")),
        "{:#?}",
        t.events()
    );
    assert!(t.changes().is_empty());
}

#[test]
fn prepare_migration_interrupted_after_clovmmigrate_p_leaves_its_routine_to_the_run() {
    let (s, sim, _ui, t) = traced_site(None);
    t.fault("clovmmigrate -p", Fault::InterruptAfter);
    let e = s
        .cluster()
        .prepare_migration("guest2")
        .expect_err("interrupted");
    assert_eq!(e.kind, ErrorKind::Cancelled);
    let pending = s.context().recoveries.pending();
    assert_eq!(pending.len(), 1, "{pending:?}");
    let routine = pending[0].routine.clone().expect("a driver routine");
    assert_eq!(
        routine,
        json!({"driver": "ldoms", "routine": "recover_migration", "guest": "guest2"})
    );
    // The run clears the interruption and runs it, by its description.
    s.context().cancel.rearm();
    s.run_recovery(&routine).expect("recovered");
    assert_eq!(t.changes(), [CLOVMMIGRATE_P, CLOVMMIGRATE_U]);
    assert_protected(&s);
    let before = changes(&sim).len();
    s.run_recovery(&routine).expect("again");
    assert_eq!(changes(&sim).len(), before, "twice is harmless");
}

#[test]
fn a_resumed_prepare_migration_settles_the_inherited_routine_once_it_finds_the_cluster_prepared() {
    let (s, sim, _ui, t) = traced_site(None);
    s.cluster().prepare_migration("guest2").expect("prepared");
    t.clear();
    // A new run over the prepared cluster that resumes one killed after `-p`.
    let exec: Arc<dyn Exec> = t.clone();
    let s2 = site_over(&sim, exec, Arc::new(Recorder::default()), topology());
    let routine = json!({"driver": "ldoms", "routine": "recover_migration", "guest": "guest2"});
    let inherited = s2
        .context()
        .recoveries
        .inherit(&[("recover guest2".into(), Some(routine))])
        .expect("inherited");
    assert_eq!(inherited.len(), 1);
    let r = s2
        .cluster()
        .prepare_migration("guest2")
        .expect("nothing to do");
    assert_eq!(r["changed"], false);
    assert!(s2.context().recoveries.pending().is_empty());
    assert!(t.changes().is_empty());
}

// ----- fence.stop() -------------------------------------------------------------------

#[test]
fn fence_stop_registers_restore_fence_before_the_first_sdtool_e_and_settles_it_when_done() {
    let (s, _sim, _ui, t) = traced_site(None);
    let r = s.fence().stop().expect("stopped");
    assert_eq!(r["stopped"], json!(["guest1", "guest2"]));
    let ev = t.events();
    let reg = t
        .position("registered #1 restore_fence")
        .unwrap_or_else(|| panic!("{ev:#?}"));
    let first = t.position("change ").expect("a change");
    let done = t
        .position("settled #1 not_needed by driver")
        .unwrap_or_else(|| panic!("{ev:#?}"));
    assert!(reg < first && first < done, "{ev:#?}");
    // Every node was read before anything changed.
    let reads = ev[..reg].iter().filter(|e| e.contains("sdtool -s")).count();
    assert_eq!(reads, 2, "{ev:#?}");
    assert!(s.context().recoveries.pending().is_empty());
    assert_eq!(sf_running(&s), [false, false], "stopped on purpose");
}

#[test]
fn fence_stop_failing_half_way_starts_sf_again_where_it_ran() {
    let (s, sim, ui, t) = traced_site(None);
    t.fault("guest2: /opt/SMAW/bin/sdtool -e", Fault::Refuse);
    let e = s.fence().stop().expect_err("guest2 unreachable");
    assert_eq!(e.kind, ErrorKind::Failed, "{e}");
    assert!(
        e.message
            .contains("the shutdown facility runs again on guest1 and still runs on guest2"),
        "{}",
        e.message
    );
    assert!(ui.text().contains("fence.stop() did not complete"));
    assert!(t.position("settled #1 ok by driver").is_some());
    assert_eq!(
        t.changes(),
        [
            "guest1: /opt/SMAW/bin/sdtool -e",
            "guest1: /opt/SMAW/bin/sdtool -b"
        ]
    );
    assert_protected(&s);
    // Twice is harmless: it reads both nodes and sends nothing.
    let before = changes(&sim).len();
    let routine =
        json!({"driver": "ldoms", "routine": "restore_fence", "guests": ["guest1", "guest2"]});
    let again = fresh_site(&sim).run_recovery(&routine).expect("again");
    assert_eq!(again["started"], json!([]));
    assert_eq!(again["already_running"], json!(["guest1", "guest2"]));
    assert_eq!(changes(&sim).len(), before);
}

#[test]
fn fence_stop_interrupted_half_way_leaves_restore_fence_pending_for_the_run() {
    let (s, sim, _ui, t) = traced_site(None);
    t.fault("guest1: /opt/SMAW/bin/sdtool -e", Fault::InterruptAfter);
    let e = s.fence().stop().expect_err("interrupted");
    assert_eq!(e.kind, ErrorKind::Cancelled);
    assert_eq!(sf_running_via(&sim), [false, true], "half-way");
    let pending = s.context().recoveries.pending();
    assert_eq!(pending.len(), 1);
    let routine = pending[0].routine.clone().expect("driver routine");
    assert_eq!(
        routine,
        json!({"driver": "ldoms", "routine": "restore_fence", "guests": ["guest1", "guest2"]})
    );
    // From a fresh process (`hascript unwind`), by its description.
    let r = fresh_site(&sim).run_recovery(&routine).expect("restored");
    assert_eq!(r["started"], json!(["guest1"]));
    assert_eq!(r["already_running"], json!(["guest2"]));
    assert_eq!(sf_running_via(&sim), [true, true]);
    let before = changes(&sim).len();
    fresh_site(&sim).run_recovery(&routine).expect("again");
    assert_eq!(changes(&sim).len(), before, "twice is harmless");
}

fn sf_running_via(sim: &hascript_sim::SimSite) -> Vec<bool> {
    sf_running(&fresh_site(sim))
}

#[test]
fn restore_fence_leaves_nodes_it_does_not_list_as_they_are() {
    let (s, sim, _ui, _t) = traced_site(None);
    s.fence().stop().expect("stopped");
    let routine = json!({"driver": "ldoms", "routine": "restore_fence", "guests": ["guest2"]});
    let r = s.run_recovery(&routine).expect("restored");
    assert_eq!(r["started"], json!(["guest2"]));
    assert_eq!(sf_running_via(&sim), [false, true]);
}

#[test]
fn calls_with_nothing_to_undo_register_no_routine() {
    let (s, _sim, _ui, t) = traced_site(None);
    s.fence().stop().expect("stopped");
    t.clear();
    // Nothing runs: nothing to stop, nothing registered.
    assert_eq!(s.fence().stop().expect("nothing")["stopped"], json!([]));
    // fence.start() only adds protection: no routine (see the book).
    assert_eq!(
        s.fence().start().expect("started")["started"],
        json!(["guest1", "guest2"])
    );
    assert_eq!(t.changes().len(), 2, "{:#?}", t.events());
    assert!(
        t.events().iter().all(|e| !e.starts_with("registered")),
        "{:#?}",
        t.events()
    );
    // finish_migration's one change is the single clovmmigrate -u: no routine either.
    s.cluster().prepare_migration("guest2").expect("prepared");
    t.clear();
    s.cluster()
        .finish_migration("guest2", None)
        .expect("finished");
    assert!(t.changes().iter().any(|c| c.contains("clovmmigrate -u")));
    let ev = t.events();
    assert!(ev.iter().all(|e| !e.starts_with("registered")), "{ev:#?}");
}

#[test]
fn malformed_or_unknown_routines_are_refused_before_anything_is_sent() {
    let (s, sim, _ui, _t) = traced_site(None);
    for (routine, kind) in [
        (
            json!({"driver": "ldoms", "routine": "restore_fence", "guests": "guest1"}),
            ErrorKind::Usage,
        ),
        (
            json!({"driver": "ldoms", "routine": "restore_fence", "guests": ["guest1; rm -rf /"]}),
            ErrorKind::Usage,
        ),
        (
            json!({"driver": "ldoms", "routine": "restore_everything"}),
            ErrorKind::Unsupported,
        ),
    ] {
        let e = s.run_recovery(&routine).expect_err("refused");
        assert_eq!(e.kind, kind, "{routine}: {e}");
    }
    assert!(sim.command_log().is_empty());
}

#[test]
fn a_resumed_fence_stop_completes_the_interrupted_one_and_settles_its_inherited_routine() {
    let (s, sim, _ui, t) = traced_site(None);
    t.fault("guest1: /opt/SMAW/bin/sdtool -e", Fault::InterruptAfter);
    s.fence().stop().expect_err("interrupted");
    let pending = s.context().recoveries.pending();
    assert_eq!(pending.len(), 1);
    // The resumed run inherits the routine and calls fence.stop() again.
    let s2 = fresh_site(&sim);
    inherit_pending(s.context(), s2.context()).expect("inherited");
    let r = s2.fence().stop().expect("stopped");
    assert_eq!(r["stopped"], json!(["guest2"]), "only what was left");
    assert!(
        s2.context().recoveries.pending().is_empty(),
        "{:?}",
        s2.context().recoveries.pending()
    );
    assert_eq!(sf_running_via(&sim), [false, false]);
}
