//! What the hpvm driver tests share: a recording UI, the simulated site's topology, a site
//! over the simulator, and the commands it received.

#![allow(dead_code)] // each test file uses its own part

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hascript_api::objects::Context;
use hascript_api::{CancelToken, Error, ErrorKind, Ui, WaitProgress};
use hascript_hpvm::{Guest, HpvmSite, Topology, VmHost};
use hascript_sim::SimSite;

/// A UI that records what it was told and answers confirmations as configured.
#[derive(Default)]
pub struct Recorder {
    pub lines: Mutex<Vec<String>>,
    pub answer: Option<bool>,
}

impl Recorder {
    pub fn push(&self, s: String) {
        if let Ok(mut l) = self.lines.lock() {
            l.push(s);
        }
    }
    pub fn text(&self) -> String {
        self.lines.lock().map(|l| l.join("\n")).unwrap_or_default()
    }
}

impl Ui for Recorder {
    fn step(&self, section: &str, title: &str) {
        self.push(format!("==> [{section}] {title}"));
    }
    fn info(&self, m: &str) {
        self.push(m.to_string());
    }
    fn warn(&self, m: &str) {
        self.push(format!("warning: {m}"));
    }
    fn confirm(&self, q: &str) -> Result<bool, Error> {
        self.push(format!("? {q}"));
        self.answer
            .ok_or_else(|| Error::new(ErrorKind::Declined, "confirmation needed but no terminal"))
    }
    fn waiting(&self, p: &WaitProgress) {
        self.push(format!(
            "waiting {} ({} s left)",
            p.what,
            p.remaining.as_secs()
        ));
    }
    fn exposure(&self, what: &str, d: Duration) {
        self.push(format!("exposure: {what} for {} s", d.as_secs()));
    }
}

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
