//! The LDoms + PRIMECLUSTER + XSCF emulator: control domains running `ldm` and
//! `clovmmigrate`, guest domains forming a PRIMECLUSTER guest-domain cluster (`cftool`,
//! `cfset`, `sdtool`, `hvdisp`, `clsnmpsetup`), and the XSCF boxes they sit on.
//!
//! Its renderers are written from the manuals and `formats.md`, never from the driver's
//! parsers: the two meet only through the products' text.
//!
//! Time: the state holds timestamps and a list of scheduled events (a node reaching its CF
//! timeout, a node finishing `COMINGUP`, the shutdown facility settling after a start, a
//! background migration ending). Before a command is answered the events due by then are
//! applied in time order ([`LdomsState::settle`]), so a clock jump of 600 s has exactly the
//! effects it would have had second by second.

mod clovmmigrate;
mod cluster;
mod ldm;
pub(crate) mod scenario;
pub(crate) mod seed;
mod site;

use std::collections::BTreeMap;

use hascript_api::Output;
use serde::{Deserialize, Serialize};

use crate::posix::ProgramSpec;
use crate::timefmt;
use crate::world::{World, SWITCHLOG};

pub(crate) use site::build;

/// A CF node's state as the cluster sees it (`cftool -n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum CfState {
    /// `UP`.
    #[serde(rename = "UP")]
    Up,
    /// `DOWN`.
    #[serde(rename = "DOWN")]
    Down,
    /// `LEFTCLUSTER`.
    #[serde(rename = "LEFTCLUSTER")]
    LeftCluster,
    /// `COMINGUP`.
    #[serde(rename = "COMINGUP")]
    ComingUp,
}

impl CfState {
    /// The word `cftool -n` prints.
    pub(crate) fn word(self) -> &'static str {
        match self {
            CfState::Up => "UP",
            CfState::Down => "DOWN",
            CfState::LeftCluster => "LEFTCLUSTER",
            CfState::ComingUp => "COMINGUP",
        }
    }
}

/// One saved LDoms configuration (`ldm list-spconfig`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SpConfig {
    /// Its name.
    pub name: String,
    /// Marked `[current]`.
    pub current: bool,
    /// Marked `[next poweron]`.
    pub next_poweron: bool,
}

/// A control domain: the `primary` domain of one box.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ControlDomain {
    /// Inventory name, host name and `/etc/inet/hosts` name.
    pub name: String,
    /// Its address.
    pub address: String,
    /// The physical box.
    pub box_name: String,
    /// PPAR-ID of its physical partition.
    pub ppar_id: u32,
    /// XSCF-LAN#0 and XSCF-LAN#1 addresses of its box.
    pub xscf: [String; 2],
    /// Saved configurations on the box's service processor.
    pub spconfigs: Vec<SpConfig>,
    /// Virtual CPUs of `primary`.
    pub ncpu: u32,
    /// Memory of `primary`, bytes.
    pub mem: u64,
    /// When `primary` booted (unix ms).
    pub booted_ms: u64,
}

/// Whether the shutdown facility runs on a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum SfPhase {
    /// Not running (`sdtool -s` fails).
    Stopped,
    /// Started at this instant; rows are transitional until it settles.
    Starting {
        /// Unix ms of the start.
        since_ms: u64,
    },
    /// Running with settled rows.
    Running,
}

/// One row of `sdtool -s`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AgentRow {
    /// `Cluster Host`.
    pub host: String,
    /// `Agent`.
    pub agent: String,
    /// `SA State`.
    pub sa: String,
    /// `Shut State`.
    pub shut: String,
    /// `Test State`.
    pub test: String,
    /// `Init State`.
    pub init: String,
}

/// A guest domain and the PRIMECLUSTER node running in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Guest {
    /// Inventory name and OS host name.
    pub host: String,
    /// LDoms domain name.
    pub domain: String,
    /// CF node name.
    pub cf_node: String,
    /// CF node number.
    pub node_number: u32,
    /// The control domain the domain is bound to.
    pub control_domain: String,
    /// `active` (true) or not running (false: `bound`, or `inactive` when [`Guest::inactive`]).
    pub active: bool,
    /// While not active: `inactive` (no resources bound; `ldm list -p` prints its fields
    /// empty and `ldm start-domain` refuses) rather than `bound`.
    #[serde(default)]
    pub inactive: bool,
    /// When it last started (unix ms).
    pub started_ms: u64,
    /// When it last stopped (unix ms), while bound.
    pub stopped_ms: Option<u64>,
    /// Virtual CPUs.
    pub ncpu: u32,
    /// Memory, bytes.
    pub mem: u64,
    /// Console port.
    pub cons: u32,
    /// `util` of `ldm list -p` while active.
    pub util: String,
    /// The node's CF state as the cluster sees it.
    pub cf: CfState,
    /// Started before its node read DOWN: SF, CRM and RMS failed to start on it.
    pub failed_start: bool,
    /// The shutdown facility on this node.
    pub sf: SfPhase,
    /// Settled `sdtool -s` rows (valid while `sf` is `Running`).
    pub sf_rows: Vec<AgentRow>,
    /// RMS on this node: the userApplication's state, or None when RMS is not running.
    pub rms: Option<String>,
    /// How many times its shutdown facility was started since the site was made.
    #[serde(default)]
    pub sf_starts: u32,
    /// This node's own copy of the shutdown facility's XSCF settings when it differs from
    /// the cluster's (`clovmmigrate -u` did not reach it: the scenario fault
    /// `sf_settings_not_updated`); `None`: the node reads the cluster's settings.
    #[serde(default)]
    pub sf_config: Option<Vec<SfConfigRow>>,
}

/// One row of the shutdown facility's XSCF configuration (`clsnmpsetup -l`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SfConfigRow {
    /// `device-name`.
    pub device: String,
    /// `cluster-host-name`.
    pub cf_node: String,
    /// `PPAR-ID`.
    pub ppar_id: u32,
    /// `domain-name`.
    pub domain: String,
    /// `IP-address1` (XSCF-LAN#0).
    pub ip1: String,
    /// `IP-address2` (XSCF-LAN#1).
    pub ip2: String,
    /// `user-name`.
    pub user: String,
    /// `connection-type`.
    pub connection: String,
}

/// The guest-domain cluster's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct GuestCluster {
    /// The RMS userApplication.
    pub app: String,
    /// CF cluster-interconnect timeout now (seconds).
    pub cf_timeout: u32,
    /// The timeout before `clovmmigrate -p` changed it.
    pub timeout_before: Option<u32>,
    /// When `clovmmigrate -p` last ran (cleared by `-u`).
    pub prepared_ms: Option<u64>,
    /// Guest domain → control domain where `clovmmigrate -p` last ran for it.
    pub last_source: BTreeMap<String, String>,
    /// The shutdown facility's XSCF configuration, one row per CF node.
    pub sf_config: Vec<SfConfigRow>,
    /// How many times the shutdown facility was started since the site was made.
    pub sf_starts: u32,
}

/// A migration going on in the background after its `ldm` command ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Migration {
    /// The domain.
    pub domain: String,
    /// Source control domain.
    pub source: String,
    /// Target control domain.
    pub target: String,
    /// When it started (unix ms).
    pub started_ms: u64,
    /// When it ends (unix ms).
    pub ends_ms: u64,
}

/// Something that happens by itself at a given virtual time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub(crate) enum Event {
    /// A stopped node's CF timeout expires: it reads DOWN (or the scenario's state).
    NodeTimeout {
        /// CF node.
        cf_node: String,
    },
    /// A restarted node finishes `COMINGUP`.
    NodeUp {
        /// CF node.
        cf_node: String,
    },
    /// The shutdown facility of a node settles after a start.
    SfSettled {
        /// CF node.
        cf_node: String,
    },
    /// A background migration ends with the domain on its target.
    MigrationDone {
        /// Domain.
        domain: String,
    },
}

/// An event and its time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Scheduled {
    /// Unix ms.
    pub at_ms: u64,
    /// Tie breaker: order of scheduling.
    pub seq: u64,
    /// What happens.
    pub event: Event,
}

/// How real migrations fail in a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum MigrateFault {
    /// Migrations work.
    #[default]
    None,
    /// The LDoms dry run and the migration refuse (e.g. not enough memory on the target).
    WouldFail,
    /// The migration fails and the guest ends stopped (bound) on the source.
    AbortGuestStopped,
    /// The migration fails and the guest keeps running on the source.
    AbortGuestRunning,
    /// `ldm migrate-domain` loses ldmd and fails, but the migration goes on.
    ContinuesAfterDisconnect,
    /// `ldm migrate-domain` loses ldmd and fails, and the migration hangs: it stays under
    /// way (progress stuck) until `ldm cancel-operation migration` on the source, after
    /// which the guest keeps running there.
    Hangs,
}

/// The faults of a scenario, as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Fault {
    /// How real migrations fail.
    pub migrate: MigrateFault,
    /// How many more real migration attempts fail (for the abort and disconnect kinds).
    pub migrate_failures: u32,
    /// Lines `ldm` prints before its verdict (`{guest}`, `{source}`, `{target}` replaced).
    pub reasons: Vec<String>,
    /// What a stopped node becomes when its CF timeout expires.
    pub node_timeout_state: CfState,
    /// CF nodes whose agents read `TestFailed` after the shutdown facility restarts.
    pub sf_test_failed: Vec<String>,
    /// Write RMS time-sync warnings after a live migration.
    pub time_sync_warnings: bool,
    /// How long a migration goes on after `ldm` lost ldmd (ms).
    pub continue_ms: u64,
    /// CF nodes that `clovmmigrate -u`'s change of the SF settings does not reach: they keep
    /// the settings they had (their `clsnmpsetup -l` then differs from the other nodes').
    #[serde(default)]
    pub sf_settings_not_updated: Vec<String>,
    /// Control domains on which `clovmmigrate -u` does not save the LDoms configuration.
    #[serde(default)]
    pub spconfig_not_saved: Vec<String>,
}

impl Default for Fault {
    fn default() -> Self {
        Fault {
            migrate: MigrateFault::None,
            migrate_failures: 0,
            reasons: Vec::new(),
            node_timeout_state: CfState::Down,
            sf_test_failed: Vec::new(),
            time_sync_warnings: false,
            continue_ms: 120_000,
            sf_settings_not_updated: Vec::new(),
            spconfig_not_saved: Vec::new(),
        }
    }
}

/// The whole LDoms site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LdomsState {
    /// Control domains in inventory order.
    pub control_domains: Vec<ControlDomain>,
    /// Guests in node-number order.
    pub guests: Vec<Guest>,
    /// The guest cluster.
    pub cluster: GuestCluster,
    /// The XSCF user of the shutdown agents.
    pub xscf_user: String,
    /// Migrations going on in the background.
    pub migrations: Vec<Migration>,
    /// Scheduled events.
    pub events: Vec<Scheduled>,
    /// Next event sequence number.
    pub next_seq: u64,
    /// The scenario's faults.
    pub fault: Fault,
    /// Which `ldm` release the control domains run (what `ldm list -p` prints).
    #[serde(default)]
    pub ldm_version: LdmVersion,
}

/// The `VERSION` of `ldm list -p` the control domains print: the site option `ldm_version`
/// of a scenario's `[ldoms]` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub(crate) enum LdmVersion {
    /// `VERSION 1.6`: `…|util=|uptime=` (the default; every existing test reads this form).
    #[default]
    #[serde(rename = "1.6")]
    V1_6,
    /// `VERSION 1.11`, a newer release: `norm_util=` after `uptime=`, as in a public capture.
    #[serde(rename = "1.11")]
    V1_11,
}

impl LdmVersion {
    /// What follows `VERSION`.
    pub(crate) fn word(self) -> &'static str {
        match self {
            LdmVersion::V1_6 => "1.6",
            LdmVersion::V1_11 => "1.11",
        }
    }
}

/// How long a live migration takes.
pub(crate) const MIGRATION_MS: u64 = 90_000;
/// How long a restarted node reads COMINGUP.
pub(crate) const COMINGUP_MS: u64 = 60_000;
/// How long the shutdown facility is transitional after a start.
pub(crate) const SF_SETTLE_MS: u64 = 20_000;
/// How long of the SF start its rows read `Unknown` before `Testing`/`Initing`.
pub(crate) const SF_UNKNOWN_MS: u64 = 5_000;

const CD_PROGRAMS: &[ProgramSpec] = &[
    ProgramSpec {
        name: "ldm",
        dirs: &["/usr/sbin"],
    },
    ProgramSpec {
        name: "clovmmigrate",
        dirs: &["/etc/opt/FJSVcluster/bin"],
    },
];

const GUEST_PROGRAMS: &[ProgramSpec] = &[
    ProgramSpec {
        name: "cftool",
        dirs: &["/opt/SMAW/bin", "/opt/SMAW/SMAWcf/bin"],
    },
    ProgramSpec {
        name: "cfset",
        dirs: &["/opt/SMAW/bin", "/opt/SMAW/SMAWcf/bin"],
    },
    ProgramSpec {
        name: "sdtool",
        dirs: &["/opt/SMAW/bin"],
    },
    ProgramSpec {
        name: "hvdisp",
        dirs: &["/opt/SMAW/bin", "/opt/SMAW/SMAWRrms/bin"],
    },
    ProgramSpec {
        name: "clsnmpsetup",
        dirs: &["/etc/opt/FJSVcluster/bin"],
    },
];

impl LdomsState {
    /// Product programs on `host`: `ldm` and `clovmmigrate` on control domains, the guest
    /// cluster's commands on guests.
    pub(crate) fn programs(&self, host: &str) -> Vec<ProgramSpec> {
        if self.cd(host).is_some() {
            CD_PROGRAMS.to_vec()
        } else if self.guest_by_host(host).is_some() {
            GUEST_PROGRAMS.to_vec()
        } else {
            Vec::new()
        }
    }

    /// Guests answer SSH only while their domain is active.
    pub(crate) fn reachable(&self, host: &str) -> Result<(), String> {
        match self.guest_by_host(host) {
            Some(g) if !self.guests[g].active => Err(format!(
                "ssh: connect to host {host} port 22: Connection refused"
            )),
            _ => Ok(()),
        }
    }

    /// Run one product program.
    pub(crate) fn run(
        &mut self,
        w: &mut World,
        host: &str,
        program: &str,
        args: &[String],
    ) -> Output {
        match program {
            "ldm" => ldm::run(self, w, host, args),
            "clovmmigrate" => clovmmigrate::run(self, w, host, args),
            "cftool" => cluster::cftool(self, w, host, args),
            "cfset" => cluster::cfset(self, w, host, args),
            "sdtool" => cluster::sdtool(self, w, host, args),
            "hvdisp" => cluster::hvdisp(self, w, host, args),
            "clsnmpsetup" => cluster::clsnmpsetup(self, w, host, args),
            other => Output::new(127, "", format!("sh: {other}: not found\n")),
        }
    }

    // ----- lookups -------------------------------------------------------------------

    /// Index of the control domain named `name`.
    pub(crate) fn cd(&self, name: &str) -> Option<usize> {
        self.control_domains.iter().position(|c| c.name == name)
    }

    /// Index of the control domain with address `addr`.
    pub(crate) fn cd_by_address(&self, addr: &str) -> Option<usize> {
        self.control_domains.iter().position(|c| c.address == addr)
    }

    /// Index of the guest whose inventory/host name is `host`.
    pub(crate) fn guest_by_host(&self, host: &str) -> Option<usize> {
        self.guests.iter().position(|g| g.host == host)
    }

    /// Index of the guest whose domain name is `domain`.
    pub(crate) fn guest_by_domain(&self, domain: &str) -> Option<usize> {
        self.guests.iter().position(|g| g.domain == domain)
    }

    /// Index of the guest whose CF node is `cf`.
    pub(crate) fn guest_by_cf(&self, cf: &str) -> Option<usize> {
        self.guests.iter().position(|g| g.cf_node == cf)
    }

    /// The background migration of `domain`, if any.
    pub(crate) fn migration_of(&self, domain: &str) -> Option<usize> {
        self.migrations.iter().position(|m| m.domain == domain)
    }

    // ----- events --------------------------------------------------------------------

    /// Schedule `event` at `at_ms`.
    pub(crate) fn schedule(&mut self, at_ms: u64, event: Event) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.events.push(Scheduled { at_ms, seq, event });
    }

    /// Drop scheduled events matching `pred`.
    pub(crate) fn unschedule(&mut self, pred: impl Fn(&Event) -> bool) {
        self.events.retain(|e| !pred(&e.event));
    }

    /// Apply every event due by `until_ms`, in time order, and move the clock there.
    pub(crate) fn settle(&mut self, w: &mut World, until_ms: u64) {
        loop {
            let next = self
                .events
                .iter()
                .enumerate()
                .filter(|(_, e)| e.at_ms <= until_ms)
                .min_by_key(|(_, e)| (e.at_ms, e.seq))
                .map(|(i, _)| i);
            let Some(i) = next else { break };
            let ev = self.events.remove(i);
            if ev.at_ms > w.now_ms {
                w.now_ms = ev.at_ms;
            }
            self.apply(w, ev.event);
        }
        if until_ms > w.now_ms {
            w.now_ms = until_ms;
        }
    }

    fn apply(&mut self, w: &mut World, event: Event) {
        match event {
            Event::NodeTimeout { cf_node } => {
                let Some(g) = self.guest_by_cf(&cf_node) else {
                    return;
                };
                if self.guests[g].active
                    || !matches!(self.guests[g].cf, CfState::Up | CfState::ComingUp)
                {
                    return;
                }
                let to = self.fault.node_timeout_state;
                self.guests[g].cf = to;
                let text = match to {
                    CfState::LeftCluster => format!(
                        "cf: [ID 315480 kern.warning] CF: Node {cf_node} has left the cluster (LEFTCLUSTER); the shutdown facility is not running"
                    ),
                    _ => format!("cf: [ID 315481 kern.notice] CF: Node {cf_node} is DOWN"),
                };
                self.syslog_others(w, g, &text);
            }
            Event::NodeUp { cf_node } => {
                let Some(g) = self.guest_by_cf(&cf_node) else {
                    return;
                };
                if !self.guests[g].active || self.guests[g].cf != CfState::ComingUp {
                    return;
                }
                self.guests[g].cf = CfState::Up;
                self.guests[g].rms = Some("Offline".to_string());
                let text = format!("cf: [ID 315482 kern.notice] CF: Node {cf_node} Joined Cluster");
                self.syslog_all(w, &text);
                self.sf_start(w, g);
            }
            Event::SfSettled { cf_node } => {
                let Some(g) = self.guest_by_cf(&cf_node) else {
                    return;
                };
                if !matches!(self.guests[g].sf, SfPhase::Starting { .. }) {
                    return;
                }
                let (rows, missing) = cluster::settled_rows(self, w, g);
                self.guests[g].sf_rows = rows;
                self.guests[g].sf = SfPhase::Running;
                let host = self.guests[g].host.clone();
                let now = w.now_ms;
                if let Some(os) = w.host_mut(&host) {
                    for addr in missing {
                        os.syslog(
                            now,
                            &format!(
                                "SMAWsf: [ID 702911 daemon.err] FJSVcluster:ERROR:sfxscfsnmp:7245:The first SSH connection to XSCF {addr} has not been completed."
                            ),
                        );
                    }
                }
            }
            Event::MigrationDone { domain } => {
                let Some(m) = self.migration_of(&domain) else {
                    return;
                };
                let mig = self.migrations.remove(m);
                if let Some(g) = self.guest_by_domain(&domain) {
                    self.guests[g].control_domain = mig.target.clone();
                    self.running_config_changed(&mig.source);
                    self.running_config_changed(&mig.target);
                    self.after_live_migration(w, g);
                }
            }
        }
    }

    // ----- state changes shared by the commands ------------------------------------

    /// Start the shutdown facility on guest `g` (it settles 20 s later).
    pub(crate) fn sf_start(&mut self, w: &World, g: usize) {
        let cf = self.guests[g].cf_node.clone();
        self.unschedule(|e| matches!(e, Event::SfSettled { cf_node } if *cf_node == cf));
        self.guests[g].sf = SfPhase::Starting { since_ms: w.now_ms };
        self.guests[g].sf_rows.clear();
        self.guests[g].sf_starts = self.guests[g].sf_starts.saturating_add(1);
        self.cluster.sf_starts = self.cluster.sf_starts.saturating_add(1);
        self.schedule(
            w.now_ms.saturating_add(SF_SETTLE_MS),
            Event::SfSettled { cf_node: cf },
        );
    }

    /// Stop the shutdown facility on guest `g`.
    pub(crate) fn sf_stop(&mut self, g: usize) {
        let cf = self.guests[g].cf_node.clone();
        self.unschedule(|e| matches!(e, Event::SfSettled { cf_node } if *cf_node == cf));
        self.guests[g].sf = SfPhase::Stopped;
        self.guests[g].sf_rows.clear();
    }

    /// When a node that stops now reads DOWN: 600 s after `clovmmigrate -p` while the
    /// timeout is raised (never before the stop), else the CF timeout after the stop.
    fn timeout_at(&self, now: u64) -> u64 {
        let t = u64::from(self.cluster.cf_timeout) * 1000;
        match self.cluster.prepared_ms {
            Some(p) => p.saturating_add(t).max(now),
            None => now.saturating_add(t),
        }
    }

    /// Stop guest `g`'s domain now (it becomes `bound`).
    pub(crate) fn stop_guest(&mut self, w: &mut World, g: usize) {
        let now = w.now_ms;
        self.sf_stop(g);
        let guest = &mut self.guests[g];
        guest.active = false;
        guest.inactive = false;
        guest.stopped_ms = Some(now);
        guest.failed_start = false;
        guest.rms = None;
        let cf = guest.cf_node.clone();
        let was = guest.cf;
        let host = guest.host.clone();
        self.unschedule(|e| matches!(e, Event::NodeUp { cf_node } if *cf_node == cf));
        if matches!(was, CfState::Up | CfState::ComingUp) {
            let at = self.timeout_at(now);
            self.schedule(at, Event::NodeTimeout { cf_node: cf });
        }
        if let Some(os) = w.host_mut(&host) {
            os.syslog(now, "genunix: [ID 856281 kern.notice] The system is down.");
        }
    }

    /// Start guest `g`'s domain now.
    pub(crate) fn start_guest(&mut self, w: &mut World, g: usize) {
        let now = w.now_ms;
        let cf = self.guests[g].cf_node.clone();
        self.unschedule(|e| matches!(e, Event::NodeTimeout { cf_node } if *cf_node == cf));
        {
            let guest = &mut self.guests[g];
            guest.active = true;
            guest.started_ms = now;
            guest.stopped_ms = None;
        }
        let host = self.guests[g].host.clone();
        if let Some(os) = w.host_mut(&host) {
            os.syslog(
                now,
                "genunix: [ID 540533 kern.notice] SunOS Release 5.11 Version 11.4.42.111.0 64-bit",
            );
        }
        if self.guests[g].cf == CfState::Down {
            self.guests[g].cf = CfState::ComingUp;
            self.guests[g].failed_start = false;
            self.guests[g].rms = None;
            self.schedule(
                now.saturating_add(COMINGUP_MS),
                Event::NodeUp { cf_node: cf },
            );
        } else {
            // Started before the cluster saw the node DOWN: CF cannot rejoin, and SF, CRM
            // and RMS fail to start on it (the manual's warning in 17.3.1.1).
            self.guests[g].failed_start = true;
            self.guests[g].rms = None;
            if let Some(os) = w.host_mut(&host) {
                os.syslog(
                    now,
                    &format!(
                        "cf: [ID 315483 kern.warning] CF: {cf}: cannot join the cluster: the cluster still considers this node a member; SF, CRM and RMS are not started"
                    ),
                );
            }
            self.sf_start(w, g);
        }
    }

    /// A live migration of guest `g` ended on its new control domain.
    pub(crate) fn after_live_migration(&mut self, w: &mut World, g: usize) {
        if !self.fault.time_sync_warnings {
            return;
        }
        let cf = self.guests[g].cf_node.clone();
        let now = w.now_ms;
        let text = format!(
            "Cluster host {cf} is no longer in time sync with local node. Sane operation of RMS can no longer be guaranteed."
        );
        for (i, other) in self.guests.iter().enumerate() {
            if i == g || !other.active {
                continue;
            }
            if let Some(os) = w.host_mut(&other.host) {
                os.append_line(
                    SWITCHLOG,
                    &format!("{}:(WRP, 34) {text}", timefmt::switchlog(now)),
                );
                os.append_line(
                    SWITCHLOG,
                    "Further out-of-sync messages will appear in the syslog.",
                );
                os.syslog(
                    now,
                    &format!("RMS: [ID 830169 daemon.warning] (WRP, 35) {text}"),
                );
            }
        }
    }

    /// A domain was bound to or moved away from control domain `cd`: its running
    /// configuration no longer matches the saved one, so `ldm list-spconfig` stops marking
    /// the booted configuration `[current]` (ldm(8): "current: last booted configuration,
    /// only shown until it differs from the currently running configuration"); it keeps
    /// `[next poweron]` until a configuration is saved.
    pub(crate) fn running_config_changed(&mut self, cd: &str) {
        if let Some(c) = self.control_domains.iter_mut().find(|c| c.name == cd) {
            for s in &mut c.spconfigs {
                s.current = false;
            }
        }
    }

    /// Write a syslog line on every active guest except `g`.
    fn syslog_others(&self, w: &mut World, g: usize, text: &str) {
        let now = w.now_ms;
        for (i, other) in self.guests.iter().enumerate() {
            if i != g && other.active {
                if let Some(os) = w.host_mut(&other.host) {
                    os.syslog(now, text);
                }
            }
        }
    }

    /// Write a syslog line on every active guest.
    fn syslog_all(&self, w: &mut World, text: &str) {
        let now = w.now_ms;
        for g in self.guests.iter().filter(|g| g.active) {
            if let Some(os) = w.host_mut(&g.host) {
                os.syslog(now, text);
            }
        }
    }

    // ----- inventory -----------------------------------------------------------------

    /// The inventory a user would write for this site (`transport = "sim"`).
    pub(crate) fn inventory_toml(&self, description: &str) -> String {
        let mut s = String::new();
        s.push_str("driver = \"ldoms\"\n");
        s.push_str(&format!("description = {}\n", toml_str(description)));
        s.push_str("\n[defaults]\ntransport = \"sim\"\nuser = \"root\"\n");
        s.push_str(&format!(
            "\n[ldoms]\ncf_timeout = {}\nxscf_user = {}\n",
            self.cluster
                .timeout_before
                .unwrap_or(self.cluster.cf_timeout),
            toml_str(&self.xscf_user)
        ));
        for c in &self.control_domains {
            s.push_str(&format!(
                "\n[[host]]\nname = {}\nrole = \"control-domain\"\naddress = {}\nhosts_name = {}\nbox = {}\nppar_id = {}\nxscf = [{}, {}]\n",
                toml_str(&c.name),
                toml_str(&c.address),
                toml_str(&c.name),
                toml_str(&c.box_name),
                c.ppar_id,
                toml_str(&c.xscf[0]),
                toml_str(&c.xscf[1]),
            ));
        }
        for g in &self.guests {
            s.push_str(&format!(
                "\n[[host]]\nname = {}\nrole = \"guest-domain\"\ndomain = {}\n",
                toml_str(&g.host),
                toml_str(&g.domain)
            ));
        }
        s
    }
}

/// A TOML basic string.
fn toml_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Replace `{guest}`, `{source}`, `{target}` in a scenario's text.
pub(crate) fn fill(text: &str, guest: &str, source: &str, target: &str) -> String {
    text.replace("{guest}", guest)
        .replace("{source}", source)
        .replace("{target}", target)
}
