//! What the hpvm driver tests share: the simulated site's topology, a site over the
//! simulator (plain, or through the testkit's tracing transport, which records every
//! command in order with the recovery routines' registrations and settlements and can
//! inject a fault into one command), and the commands it received. The recording UI and
//! the tracer are `hascript-testkit`'s, shared with the LDoms driver's tests.

#![allow(dead_code)] // each test file uses its own part

use std::sync::Arc;

use hascript_api::objects::Context;
use hascript_api::CancelToken;
use hascript_hpvm::{Guest, HpvmSite, Topology, VmHost};
use hascript_sim::SimSite;
use hascript_testkit::{traced_context, Recorder, Tracer};

/// The simulated site as its inventory describes it: `node*` hosts are VM hosts, the
/// others guests.
pub fn topology(sim: &SimSite) -> Topology {
    let hosts = sim.hosts();
    Topology {
        cluster: Some("cluster1".into()),
        vm_hosts: hosts
            .iter()
            .filter(|h| h.starts_with("node"))
            .map(|h| VmHost { name: h.clone() })
            .collect(),
        guests: hosts
            .iter()
            .filter(|h| !h.starts_with("node"))
            .map(|h| Guest {
                name: h.clone(),
                vm: h.clone(),
            })
            .collect(),
        description: "test".into(),
    }
}

pub fn site(scenario: &str, answer: Option<bool>) -> (HpvmSite, SimSite, Arc<Recorder>) {
    let sim = SimSite::new(Some(scenario)).expect("scenario exists");
    let ui = Arc::new(Recorder {
        answer,
        ..Default::default()
    });
    let s = HpvmSite::new(
        Context::new(sim.exec(), sim.clock(), CancelToken::new(), ui.clone()),
        topology(&sim),
    );
    (s, sim, ui)
}

/// Every command sent, as `host: line` without the locale prefix.
pub fn sent(sim: &SimSite) -> Vec<String> {
    sim.command_log()
        .into_iter()
        .map(|c| format!("{}: {}", c.host, c.line.trim_start_matches("LC_ALL=C ")))
        .collect()
}

/// `scenario` through a [`Tracer`], its routines recorded in the same list.
pub fn traced_site(scenario: &str) -> (HpvmSite, SimSite, Arc<Recorder>, Arc<Tracer>) {
    let sim = SimSite::new(Some(scenario)).expect("scenario exists");
    let ui = Arc::new(Recorder::default());
    let (ctx, tracer) = traced_context(sim.exec(), sim.clock(), ui.clone());
    let s = HpvmSite::new(ctx, topology(&sim));
    (s, sim, ui, tracer)
}

/// A second site over the same simulated hosts, with a fresh run context: what `hascript
/// unwind` is to the run that registered a routine.
pub fn fresh_site(sim: &SimSite) -> HpvmSite {
    HpvmSite::new(
        Context::new(
            sim.exec(),
            sim.clock(),
            CancelToken::new(),
            Arc::new(Recorder::default()),
        ),
        topology(sim),
    )
}
