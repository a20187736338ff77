//! What the LDoms driver tests share: the simulated default site as its inventory
//! describes it, a site over the simulator (plain, or through the testkit's tracing
//! transport, which records every command in order with the recovery routines'
//! registrations and settlements and can inject a fault into one command), the changes it
//! received, and the driver's operations called as a script calls them. The recording UI and the tracer are `hascript-testkit`'s, shared with the
//! Serviceguard driver's tests.

#![allow(dead_code)] // each test file uses its own part

use std::sync::Arc;

use hascript_api::objects::Context;
use hascript_api::{CancelToken, Exec, Object, Site};
use hascript_ldoms::{ControlDomain, GuestDomain, LdomsSite, Topology};
use hascript_sim::SimSite;
use hascript_testkit::{traced_context, Recorder, Tracer};
use serde_json::{json, Value};

pub fn cd(name: &str, n: u32, ppar: u32) -> ControlDomain {
    ControlDomain {
        name: name.into(),
        address: Some(format!("192.0.2.1{n}")),
        hosts_name: name.into(),
        box_name: format!("box{n}"),
        ppar_id: ppar,
        xscf_lan0: format!("10.20.30.7{n}"),
        xscf_lan1: format!("10.20.40.7{n}"),
    }
}

/// The simulator's default site, as the inventory describes it.
pub fn topology() -> Topology {
    Topology {
        control_domains: vec![cd("cd1", 1, 0), cd("cd2", 2, 0), cd("cd3", 3, 1)],
        guests: vec![
            GuestDomain {
                name: "guest1".into(),
                domain: "guest1".into(),
            },
            GuestDomain {
                name: "guest2".into(),
                domain: "guest2".into(),
            },
        ],
        cf_timeout: 10,
        xscf_user: Some("xuser".into()),
        description: "test".into(),
    }
}

pub fn site(scenario: Option<&str>, answer: Option<bool>) -> (LdomsSite, SimSite, Arc<Recorder>) {
    let sim = SimSite::new(scenario).expect("scenario exists");
    let ui = Arc::new(Recorder {
        answer,
        ..Default::default()
    });
    (site_over(&sim, sim.exec(), ui.clone(), topology()), sim, ui)
}

/// The LDoms site over `sim` reached through `exec` (the simulator itself, or a transport
/// wrapping it), with `ui` and an inventory `topo` that a test may have altered.
pub fn site_over(
    sim: &SimSite,
    exec: Arc<dyn Exec>,
    ui: Arc<Recorder>,
    topo: Topology,
) -> LdomsSite {
    LdomsSite::new(
        Context::new(exec, sim.clock(), CancelToken::new(), ui),
        topo,
    )
}

/// The state-changing commands the simulated hosts received, as `host: line`.
pub fn changes(sim: &SimSite) -> Vec<String> {
    sim.command_log()
        .into_iter()
        .map(|c| format!("{}: {}", c.host, c.line.trim_start_matches("LC_ALL=C ")))
        .filter(|l| {
            l.contains("clovmmigrate")
                || l.contains("start-domain")
                || l.contains("stop-domain")
                || l.contains("remove-spconfig")
                || l.contains("sdtool -b")
                || l.contains("sdtool -e")
                || (l.contains("migrate-domain") && !l.contains(" -n "))
        })
        .collect()
}

/// The default site (or `scenario`) through a [`Tracer`], its routines recorded in the
/// same list.
pub fn traced_site(scenario: Option<&str>) -> (LdomsSite, SimSite, Arc<Recorder>, Arc<Tracer>) {
    let sim = SimSite::new(scenario).expect("scenario exists");
    let ui = Arc::new(Recorder::default());
    let (ctx, tracer) = traced_context(sim.exec(), sim.clock(), ui.clone());
    (LdomsSite::new(ctx, topology()), sim, ui, tracer)
}

/// A second site over the same simulated hosts, with a fresh run context: what `hascript
/// unwind` is to the run that registered a routine.
pub fn fresh_site(sim: &SimSite) -> LdomsSite {
    site_over(sim, sim.exec(), Arc::new(Recorder::default()), topology())
}

/// Call the driver operation `object.name(args…)` as a script would (through
/// [`Site::operation`]), each argument a JSON value in the order of the operation's spec.
pub fn op(
    site: &dyn Site,
    object: Object,
    name: &str,
    args: &[Value],
) -> Result<Value, hascript_api::Error> {
    site.operation(object, name, args)
}

/// `cluster.prepare_migration(guest[, target])` (17.3.1.1).
pub fn prepare(
    site: &dyn Site,
    guest: &str,
    target: Option<&str>,
) -> Result<Value, hascript_api::Error> {
    match target {
        Some(t) => op(
            site,
            Object::Cluster,
            "prepare_migration",
            &[json!(guest), json!(t)],
        ),
        None => op(site, Object::Cluster, "prepare_migration", &[json!(guest)]),
    }
}

/// `hypervisor.migrate_domain(guest, target)` (the move).
pub fn migrate_domain(
    site: &dyn Site,
    guest: &str,
    target: &str,
) -> Result<Value, hascript_api::Error> {
    op(
        site,
        Object::Hypervisor,
        "migrate_domain",
        &[json!(guest), json!(target)],
    )
}

/// `cluster.finish_migration(guest[, target])` (17.3.1.2 step 1).
pub fn finish(
    site: &dyn Site,
    guest: &str,
    target: Option<&str>,
) -> Result<Value, hascript_api::Error> {
    match target {
        Some(t) => op(
            site,
            Object::Cluster,
            "finish_migration",
            &[json!(guest), json!(t)],
        ),
        None => op(site, Object::Cluster, "finish_migration", &[json!(guest)]),
    }
}

/// The manual's whole sequence through the operations, as ldoms/live-migration calls them
/// (without its preflight): 17.3.1.1, the move, 17.3.1.2 step 1 and step 2. Returns the
/// move's answer and the verdict of step 2.
pub fn move_guest(site: &dyn Site, guest: &str, target: &str) -> (Value, Value) {
    prepare(site, guest, Some(target)).expect("17.3.1.1");
    let moved = migrate_domain(site, guest, target).expect("the move");
    assert_eq!(moved["moved"], true, "{moved}");
    finish(site, guest, Some(target)).expect("17.3.1.2 step 1");
    let verdict = site.fence().verify().expect("17.3.1.2 step 2");
    (moved, verdict)
}

/// The description of the recovery routine `cluster.prepare_migration` registers: the
/// procedure ldoms/recover-migration with the guest.
pub fn recover_routine(guest: &str) -> Value {
    json!({"procedure": "ldoms/recover-migration", "params": {"guest": guest}})
}
