//! The recovery routines of the LDoms driver's changing operations (issue 5 item 3, issue 12
//! item 3), over the simulator: `cluster.prepare_migration` (the procedure routine
//! `ldoms/recover-migration`) and `fence.stop()` (`restore_fence`).
//!
//! `prepare_migration` registers its routine before `clovmmigrate -p` and leaves it pending
//! however it ends: fencing stays off until 17.3.1.2 is verified, so only `fence.verify()`
//! passing after `finish_migration` settles it ("not needed"), and a failing verdict hands
//! it to the operator. Running it is the run's (tests/ldoms_recovery.rs, tests/cancel.rs).
//! `fence.stop()` still settles its own: registered before the first change, settled "not
//! needed" when the call completes, run at once by the call when it fails half-way, left
//! pending when it is interrupted, and harmless when run again.

mod support;

use std::sync::Arc;

use hascript_api::{ErrorKind, Exec, Site};
use hascript_ldoms::LdomsSite;
use hascript_testkit::{inherit_pending, traced_context, Fault, Recorder};
use serde_json::json;
use support::{
    changes, finish, fresh_site, migrate_domain, prepare, recover_routine, site_over, topology,
    traced_site,
};

const CLOVMMIGRATE_P: &str = "cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -p guest2";
const CLOVMMIGRATE_U_CD3: &str = "cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd3";

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

/// The routine `prepare_migration` registered, pending, as the only one.
fn assert_pending_recover_migration(site: &LdomsSite) {
    let pending = site.context().recoveries.pending();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].routine, Some(recover_routine("guest2")));
}

// ----- cluster.prepare_migration ------------------------------------------------------

#[test]
fn prepare_migration_registers_its_routine_before_clovmmigrate_p_and_settles_it_when_done() {
    let (s, _sim, ui, t) = traced_site(None);
    let r = prepare(&s, "guest2", Some("cd3")).expect("prepared");
    assert_eq!(r["changed"], true);
    let ev = t.events();
    let reg = t
        .position("registered #1 ldoms/recover-migration")
        .unwrap_or_else(|| panic!("registered: {ev:#?}"));
    let p = t
        .position(&format!("change {CLOVMMIGRATE_P}"))
        .expect("-p sent");
    assert!(reg < p, "{ev:#?}");
    assert!(
        ev[..reg].iter().all(|e| !e.starts_with("change ")),
        "nothing changed before the registration: {ev:#?}"
    );
    // 17.3.1.1 done is not the bracket done: fencing is off, the routine stays pending.
    assert!(ev.iter().all(|e| !e.starts_with("settled")), "{ev:#?}");
    assert_pending_recover_migration(&s);
    assert_eq!(s.cluster().timeout().expect("t"), 600);
    // The move and 17.3.1.2 step 1 do not settle it either …
    migrate_domain(&s, "guest2", "cd3").expect("moved");
    finish(&s, "guest2", Some("cd3")).expect("17.3.1.2 step 1");
    assert!(t.position("settled").is_none(), "{:#?}", t.events());
    assert_pending_recover_migration(&s);
    // … step 2 passing does.
    let v = s.fence().verify().expect("verdict");
    assert_eq!(v["ok"], true, "{v}");
    let done = t
        .position("settled #1 not_needed by driver")
        .unwrap_or_else(|| panic!("settled: {:#?}", t.events()));
    let u = t
        .position(&format!("change {CLOVMMIGRATE_U_CD3}"))
        .expect("-u sent");
    assert!(u < done, "{:#?}", t.events());
    assert!(s.context().recoveries.pending().is_empty());
    assert!(
        ui.text().contains("the cluster ran") && ui.text().contains("without fencing"),
        "{}",
        ui.text()
    );
    assert_eq!(
        t.changes(),
        [
            CLOVMMIGRATE_P,
            "cd2: /usr/sbin/ldm migrate-domain guest2 cd3",
            CLOVMMIGRATE_U_CD3
        ]
    );
}

#[test]
fn prepare_migration_that_fails_after_clovmmigrate_p_leaves_its_routine_pending_for_the_run() {
    let (s, _sim, _ui, t) = traced_site(None);
    // `-p` reaches the control domain and takes effect; its answer is lost.
    t.fault("clovmmigrate -p", Fault::LoseAnswer);
    let e = prepare(&s, "guest2", Some("cd3")).expect_err("the answer was lost");
    assert_eq!(e.kind, ErrorKind::Timeout, "{e}");
    // The call runs no recovery of its own (one owner: the run executes the pending
    // routine after the failure; tests/ldoms_recovery.rs): nothing after -p, nothing
    // settled, the routine pending with the procedure that finishes the job.
    assert_eq!(t.changes(), [CLOVMMIGRATE_P]);
    let ev = t.events();
    let p = t
        .position(&format!("change {CLOVMMIGRATE_P}"))
        .expect("-p sent");
    assert_eq!(p, ev.len() - 1, "nothing sent after -p: {ev:#?}");
    assert!(ev.iter().all(|e| !e.starts_with("settled")), "{ev:#?}");
    assert_pending_recover_migration(&s);
    assert_eq!(s.cluster().timeout().expect("t"), 600, "-p took effect");
    // The routine's description maps to itself (no older form to translate).
    assert_eq!(s.routine_procedure(&recover_routine("guest2")), None);
}

#[test]
fn prepare_migration_whose_clovmmigrate_p_never_arrived_leaves_its_routine_pending() {
    let (s, _sim, _ui, t) = traced_site(None);
    t.fault("clovmmigrate -p", Fault::Refuse);
    let e = prepare(&s, "guest2", Some("cd3")).expect_err("connection lost");
    assert_eq!(e.kind, ErrorKind::Transport, "{e}");
    // Whether -p arrived is unknown to the call: the routine stays pending; it reads the
    // state first and finds nothing to do (tests/ldoms_recovery.rs).
    assert_pending_recover_migration(&s);
    assert!(t.changes().is_empty(), "{:#?}", t.changes());
    assert_protected(&s);
}

#[test]
fn prepare_migration_refused_before_clovmmigrate_p_registers_nothing() {
    let (s, _sim, _ui, t) = traced_site(None);
    // The read of the state before `-p` fails: nothing was changed, nothing to recover.
    t.fault("sdtool -s", Fault::Refuse);
    let e = prepare(&s, "guest2", Some("cd3")).expect_err("read failed");
    assert_eq!(e.kind, ErrorKind::Transport, "{e}");
    assert!(
        t.events().iter().all(|e| !e.starts_with("registered")),
        "{:#?}",
        t.events()
    );
    assert!(t.changes().is_empty());
    assert!(s.context().recoveries.pending().is_empty());
}

#[test]
fn prepare_migration_interrupted_after_clovmmigrate_p_leaves_its_routine_to_the_run() {
    let (s, sim, _ui, t) = traced_site(None);
    t.fault("clovmmigrate -p", Fault::InterruptAfter);
    let e = prepare(&s, "guest2", Some("cd3")).expect_err("interrupted");
    assert_eq!(e.kind, ErrorKind::Cancelled);
    assert_pending_recover_migration(&s);
    assert!(
        t.events().iter().all(|e| !e.starts_with("settled")),
        "{:#?}",
        t.events()
    );
    assert_eq!(t.changes(), [CLOVMMIGRATE_P]);
    // A fresh run (`hascript unwind`) inherits it by its description and runs the
    // procedure it names (tests/cancel.rs, tests/ldoms_recovery.rs).
    let s2 = fresh_site(&sim);
    let inherited = inherit_pending(s.context(), s2.context()).expect("inherited");
    assert_eq!(inherited.len(), 1);
    assert_eq!(inherited[0].routine, Some(recover_routine("guest2")));
    assert!(inherited[0].inherited);
}

#[test]
fn a_resumed_prepare_migration_keeps_the_inherited_routine_until_the_bracket_is_verified() {
    // The description the interrupted run recorded: today's, or the older driver form of
    // journals written before the procedures were scripts.
    for routine in [
        recover_routine("guest2"),
        json!({"driver": "ldoms", "routine": "recover_migration", "guest": "guest2"}),
    ] {
        let (s, sim, _ui, t) = traced_site(None);
        prepare(&s, "guest2", Some("cd3")).expect("prepared");
        t.clear();
        // A new run over the prepared cluster that resumes one killed after `-p`.
        let exec: Arc<dyn Exec> = t.clone();
        let s2 = site_over(&sim, exec, Arc::new(Recorder::default()), topology());
        let inherited = s2
            .context()
            .recoveries
            .inherit(&[("recover guest2".into(), Some(routine.clone()))])
            .expect("inherited");
        assert_eq!(inherited.len(), 1);
        let r = prepare(&s2, "guest2", Some("cd3")).expect("nothing to do");
        assert_eq!(r["changed"], false);
        // Found prepared: nothing sent, no second routine; the inherited one stays pending
        // (fencing is still off) until the bracket is verified.
        assert!(t.changes().is_empty());
        assert!(
            t.events().iter().all(|e| !e.starts_with("registered")),
            "{routine}: {:#?}",
            t.events()
        );
        let pending = s2.context().recoveries.pending();
        assert_eq!(pending.len(), 1, "{routine}: {pending:?}");
        assert_eq!(pending[0].id, inherited[0].id);
        migrate_domain(&s2, "guest2", "cd3").expect("moved");
        finish(&s2, "guest2", None).expect("17.3.1.2 step 1");
        assert_eq!(s2.fence().verify().expect("verdict")["ok"], true);
        assert!(
            s2.context().recoveries.pending().is_empty(),
            "{routine}: {:?}",
            s2.context().recoveries.pending()
        );
    }
}

#[test]
fn a_prepared_cluster_without_a_pending_routine_gets_one() {
    // Fencing is off (an earlier run's 17.3.1.1, its journal gone): prepare_migration finds
    // it done, sends nothing, and registers the routine, since fencing is off from here.
    let (s, sim, _ui, _t) = traced_site(None);
    prepare(&s, "guest2", None).expect("prepared");
    let (ctx, t2) = traced_context(sim.exec(), sim.clock(), Arc::new(Recorder::default()));
    let s2 = LdomsSite::new(ctx, topology());
    let r = prepare(&s2, "guest2", Some("cd3")).expect("nothing to do");
    assert_eq!(r["changed"], false);
    assert!(t2.changes().is_empty());
    assert!(t2
        .position("registered #1 ldoms/recover-migration")
        .is_some());
    assert_pending_recover_migration(&s2);
}

#[test]
fn a_failing_shutdown_facility_check_hands_the_routine_to_the_operator() {
    let (s, _sim, _ui, t) = traced_site(Some("ldoms/sf-test-failed"));
    prepare(&s, "guest2", Some("cd3")).expect("prepared");
    migrate_domain(&s, "guest2", "cd3").expect("moved");
    finish(&s, "guest2", Some("cd3")).expect("17.3.1.2 step 1");
    let v = s.fence().verify().expect("a verdict");
    assert_eq!(v["ok"], false, "{v}");
    // Running the routine again would only repeat step 1 and the same check: it is the
    // operator's, with the verdict's remedy, and no longer pending.
    assert!(
        t.position("settled #1 left_for_operator by driver")
            .is_some(),
        "{:#?}",
        t.events()
    );
    assert!(s.context().recoveries.pending().is_empty());
    assert!(
        v["remedy"]
            .as_str()
            .is_some_and(|r| r.contains("redo 17.3.1.2 from step 1")),
        "{v}"
    );
}

#[test]
fn a_verdict_without_17_3_1_2_in_this_run_settles_nothing() {
    // A health check (ldoms/verify-fence) in the middle of a bracket: step 1 was not done
    // by this run, so the pending routine stays pending whatever the verdict says.
    let (s, _sim, _ui, t) = traced_site(None);
    prepare(&s, "guest2", Some("cd3")).expect("prepared");
    let v = s.fence().verify().expect("a verdict");
    assert_eq!(v["ok"], false, "SF is stopped: {v}");
    assert!(t.position("settled").is_none(), "{:#?}", t.events());
    assert_pending_recover_migration(&s);
}

#[test]
fn older_recover_migration_descriptions_map_to_the_procedure() {
    let (s, sim, _ui, _t) = traced_site(None);
    let old = json!({"driver": "ldoms", "routine": "recover_migration", "guest": "guest2"});
    assert_eq!(s.routine_procedure(&old), Some(recover_routine("guest2")));
    // restore_fence is still the driver's own routine; unknown forms map to nothing.
    let fence = json!({"driver": "ldoms", "routine": "restore_fence", "guests": ["guest1"]});
    assert_eq!(s.routine_procedure(&fence), None);
    assert_eq!(
        s.routine_procedure(&json!({"driver": "ldoms", "routine": "recover_migration"})),
        None
    );
    // The driver no longer runs the migration recovery in Rust (the procedure is the one
    // owner); asked to, it refuses before anything is sent.
    let e = s.run_recovery(&old).expect_err("a procedure's");
    assert_eq!(e.kind, ErrorKind::Unsupported, "{e}");
    assert!(sim.command_log().is_empty());
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
    prepare(&s, "guest2", None).expect("prepared");
    t.clear();
    finish(&s, "guest2", None).expect("finished");
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
