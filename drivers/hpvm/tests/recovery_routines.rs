//! The recovery routine of `package.run`/`run_on` (`restore_switching`, issue 5 item 3)
//! over the simulator: registered (recorded) before `cmrunpkg`, settled "not needed" when
//! the call completes, run at once by the call when it fails between `cmrunpkg` and
//! `cmmodpkg -e`, left pending when it is interrupted there, state-aware (switching enabled
//! only when one VM host runs the guest and owns the package; a halted package is left
//! halted) and harmless when run again. The single-command calls (`halt`, `enable`,
//! `disable`, `maintenance`) register none.

mod support;

use hascript_api::{ErrorKind, Site};
use hascript_hpvm::HpvmSite;
use hascript_testkit::{inherit_pending, Fault, Recorder, Tracer};
use serde_json::json;
use support::{fresh_site, traced_site};

const CMRUNPKG: &str = "node1: /usr/sbin/cmrunpkg slvm1";
const CMMODPKG_E: &str = "node1: /usr/sbin/cmmodpkg -e slvm1";

fn routine() -> serde_json::Value {
    json!({"driver": "hpvm", "routine": "restore_switching", "package": "slvm1"})
}

/// `(status, owner while up, switching)` of package slvm1, read back (cmviewcl keeps
/// naming the last owner of a halted package).
fn package(s: &HpvmSite) -> (String, Option<String>, bool) {
    let p = s.package().status("slvm1").expect("status");
    let status = p["status"].as_str().unwrap_or_default().to_string();
    let owner = p["owner"]
        .as_str()
        .filter(|_| status == "up")
        .map(str::to_string);
    (status, owner, p["switching"] == true)
}

/// The default site with slvm1 halted (its switching disabled by the halt), the trace
/// cleared.
fn halted() -> (
    HpvmSite,
    hascript_sim::SimSite,
    std::sync::Arc<Recorder>,
    std::sync::Arc<Tracer>,
) {
    let (s, sim, ui, t) = traced_site("hpvm");
    s.package().halt("slvm1").expect("halted");
    assert_eq!(package(&s), ("down".into(), None, false));
    t.clear();
    (s, sim, ui, t)
}

#[test]
fn run_registers_restore_switching_before_cmrunpkg_and_settles_it_when_done() {
    let (s, _sim, _ui, t) = halted();
    let r = s.package().run("slvm1").expect("running");
    assert_eq!(r["started"], true);
    let ev = t.events();
    let reg = t
        .position("registered #1 restore_switching")
        .unwrap_or_else(|| panic!("{ev:#?}"));
    let run = t.position(&format!("change {CMRUNPKG}")).expect("cmrunpkg");
    let en = t
        .position(&format!("change {CMMODPKG_E}"))
        .expect("cmmodpkg -e");
    let done = t
        .position("settled #1 not_needed by driver")
        .unwrap_or_else(|| panic!("{ev:#?}"));
    assert!(reg < run && run < en && en < done, "{ev:#?}");
    assert!(s.context().recoveries.pending().is_empty());
    assert_eq!(package(&s), ("up".into(), Some("node1".into()), true));
}

#[test]
fn run_interrupted_between_cmrunpkg_and_cmmodpkg_leaves_the_routine_pending_and_it_enables_switching(
) {
    let (s, sim, _ui, t) = halted();
    t.fault("cmrunpkg", Fault::InterruptAfter);
    let e = s.package().run("slvm1").expect_err("interrupted");
    assert_eq!(e.kind, ErrorKind::Cancelled);
    // The window the routine closes: up, without failover.
    assert_eq!(
        package(&fresh_site(&sim)),
        ("up".into(), Some("node1".into()), false)
    );
    let pending = s.context().recoveries.pending();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].routine, Some(routine()));
    // The run clears the interruption and runs it, by its description.
    s.context().cancel.rearm();
    let r = s.run_recovery(&routine()).expect("recovered");
    assert_eq!(r["enabled_switching"], true);
    assert_eq!(r["host"], "node1");
    assert_eq!(t.changes(), [CMRUNPKG, CMMODPKG_E]);
    assert_eq!(package(&s), ("up".into(), Some("node1".into()), true));
    // Twice is harmless: switching is on, nothing is sent.
    let r = fresh_site(&sim).run_recovery(&routine()).expect("again");
    assert_eq!(r["enabled_switching"], false);
    assert_eq!(t.changes(), [CMRUNPKG, CMMODPKG_E]);
    assert_eq!(
        support::sent(&sim)
            .iter()
            .filter(|c| c.contains("cmmodpkg"))
            .count(),
        1
    );
}

#[test]
fn run_failing_before_cmmodpkg_runs_the_routine_at_once() {
    let (s, sim, ui, t) = halted();
    // The session dies before `cmmodpkg -e` reaches node1.
    t.fault("cmmodpkg -e", Fault::Refuse);
    let e = s.package().run("slvm1").expect_err("connection lost");
    assert_eq!(e.kind, ErrorKind::Failed, "{e}");
    assert!(
        e.message.contains(
            "Recovery ran: slvm1 runs on node1, which owns the package; package switching enabled again (verified)"
        ),
        "{}",
        e.message
    );
    assert!(
        ui.text().contains("package.run(slvm1) did not complete"),
        "{}",
        ui.text()
    );
    assert!(
        t.position("settled #1 ok by driver").is_some(),
        "{:#?}",
        t.events()
    );
    assert!(s.context().recoveries.pending().is_empty());
    assert_eq!(t.changes(), [CMRUNPKG, CMMODPKG_E]);
    assert_eq!(package(&s), ("up".into(), Some("node1".into()), true));
    let before = support::sent(&sim).len();
    fresh_site(&sim).run_recovery(&routine()).expect("again");
    assert!(
        support::sent(&sim)[before..]
            .iter()
            .all(|c| !c.contains("cmmodpkg") && !c.contains("cmrunpkg")),
        "twice is harmless"
    );
}

#[test]
fn run_whose_cmrunpkg_never_arrived_leaves_the_package_halted() {
    let (s, _sim, _ui, t) = halted();
    t.fault("cmrunpkg", Fault::Refuse);
    let e = s.package().run("slvm1").expect_err("connection lost");
    assert_eq!(e.kind, ErrorKind::Failed, "{e}");
    assert!(
        e.message
            .contains("halted and its guest runs nowhere, as the call found it"),
        "{}",
        e.message
    );
    // No blind `cmmodpkg -e`: on a halted package it would start it.
    assert!(t.changes().is_empty(), "{:#?}", t.changes());
    assert_eq!(package(&s), ("down".into(), None, false));
}

#[test]
fn the_routine_leaves_a_package_whose_guest_runs_nowhere_to_a_person() {
    let (s, sim, _ui, _t) = traced_site("hpvm");
    // In toolkit maintenance the guest was stopped under its running package, and package
    // switching is off: enabling it would not protect anything that runs.
    s.package().maintenance("slvm1", true).expect("on");
    s.hypervisor()
        .stop("slvm1", true)
        .expect("stopped in maintenance");
    s.package().disable("slvm1", None).expect("switching off");
    assert_eq!(package(&s), ("up".into(), Some("node1".into()), false));
    let before = support::sent(&sim).len();
    let e = fresh_site(&sim)
        .run_recovery(&routine())
        .expect_err("outside the manual");
    assert_eq!(e.kind, ErrorKind::NeedsAttention, "{e}");
    assert!(e.message.contains("runs on no VM host"), "{}", e.message);
    let sent = support::sent(&sim);
    assert!(sent.len() > before, "it read the state");
    assert!(
        sent[before..].iter().all(|c| !c.contains("cmmodpkg")),
        "{:#?}",
        &sent[before..]
    );
    assert_eq!(package(&s), ("up".into(), Some("node1".into()), false));
}

#[test]
fn single_command_calls_register_no_routine() {
    let (s, _sim, _ui, t) = traced_site("hpvm");
    s.package().maintenance("slvm1", true).expect("on");
    s.package().maintenance("slvm1", false).expect("off");
    s.package().disable("slvm1", None).expect("disabled");
    // Already running: the only change is cmmodpkg -e, one atomic command.
    s.package().run("slvm1").expect("switching on again");
    s.package()
        .disable("slvm1", Some("node2"))
        .expect("node off");
    s.package().enable("slvm1", Some("node2")).expect("node on");
    s.package().halt("slvm1").expect("halted");
    let ev = t.events();
    assert_eq!(t.changes().len(), 7, "{ev:#?}");
    assert!(ev.iter().all(|e| !e.starts_with("registered")), "{ev:#?}");
}

#[test]
fn an_unknown_package_in_the_routine_is_a_usage_error() {
    let (s, _sim, _ui, t) = traced_site("hpvm");
    let e = s
        .run_recovery(
            &json!({"driver": "hpvm", "routine": "restore_switching", "package": "no such"}),
        )
        .expect_err("refused");
    assert_eq!(e.kind, ErrorKind::Usage, "{e}");
    assert!(t.events().is_empty(), "{:#?}", t.events());
}

#[test]
fn a_resumed_run_completes_the_interrupted_one_and_settles_its_inherited_routine() {
    let (s, sim, _ui, t) = halted();
    t.fault("cmrunpkg", Fault::InterruptAfter);
    s.package().run("slvm1").expect_err("interrupted");
    let pending = s.context().recoveries.pending();
    assert_eq!(pending.len(), 1);
    // The resumed run inherits the routine and calls package.run again: the package
    // already runs, so only cmmodpkg -e is left.
    let s2 = fresh_site(&sim);
    inherit_pending(s.context(), s2.context()).expect("inherited");
    let before = support::sent(&sim).len();
    let r = s2.package().run("slvm1").expect("running");
    assert_eq!(r["started"], false);
    assert_eq!(r["enabled_switching"], true);
    assert!(s2.context().recoveries.pending().is_empty());
    let sent = support::sent(&sim);
    assert_eq!(
        sent[before..]
            .iter()
            .filter(|c| c.contains("cmrunpkg") || c.contains("cmmodpkg"))
            .collect::<Vec<_>>(),
        [CMMODPKG_E]
    );
    assert_eq!(package(&s2), ("up".into(), Some("node1".into()), true));
}
