//! What the LDoms driver tests share: the simulated default site as its inventory
//! describes it, a site over the simulator (plain, or through the testkit's tracing
//! transport, which records every command in order with the recovery routines'
//! registrations and settlements and can inject a fault into one command), and the changes
//! it received. The recording UI and the tracer are `hascript-testkit`'s, shared with the
//! Serviceguard driver's tests.

#![allow(dead_code)] // each test file uses its own part

use std::sync::Arc;

use hascript_api::objects::Context;
use hascript_api::{CancelToken, Exec};
use hascript_ldoms::{ControlDomain, GuestDomain, LdomsSite, Topology};
use hascript_sim::SimSite;
use hascript_testkit::{traced_context, Recorder, Tracer};

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
