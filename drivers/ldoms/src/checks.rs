//! The read-only checks of the preflight (procedures.md A0), one operation each. Every check
//! returns `#{check, ok, detail, remedy}` (per-node checks an array of them) and never
//! throws for a failed verdict: the procedure script lists the checks it runs (a site may
//! add, drop or reorder them), shows each verdict (`report_check`) and decides.

use hascript_api::{Error, ErrorKind, Result};
use serde_json::{json, Value};

use crate::commands as cmd;
use crate::facts::Inner;
use crate::parse::cftool_n::NodeState;
use crate::parse::etc_hosts;
use crate::parse::hvdisp::AppState;
use crate::parse::ldm_migrate_dry_run::{self, MigrationDryRun};
use crate::parse::sdtool_s::{self, AgentVerdict, SdtoolStatus};
use crate::steps::REMEDY_7245;
use crate::topology::{ControlDomain, GuestDomain};

impl Inner {
    /// One verdict as a map (the script that runs the checks shows and journals it:
    /// `report_check`, so a site's own checks are shown the same way).
    fn verdict(&self, check: &str, ok: bool, detail: String, remedy: Option<&str>) -> Value {
        json!({"check": check, "ok": ok, "detail": detail, "remedy": if ok { None } else { remedy }})
    }

    /// The target is on another box (or PPAR) than the control domain where the guest runs.
    pub fn check_other_box(&self, source: &ControlDomain, target: &ControlDomain) -> Value {
        let same_box = source.box_name == target.box_name && source.ppar_id == target.ppar_id;
        self.verdict(
            "target on another box",
            !same_box && source.name != target.name,
            format!(
                "{} is on {} (PPAR {}), {} on {} (PPAR {})",
                source.name,
                source.box_name,
                source.ppar_id,
                target.name,
                target.box_name,
                target.ppar_id
            ),
            Some("choose a control domain on another box or PPAR as the target"),
        )
    }

    /// The inventory against what the cluster says: the guest nodes (`clsnmpsetup -l`
    /// names each node's domain) and each SF row against the box hosting its domain.
    pub fn check_inventory(&self) -> Result<Value> {
        let rows = self.sf_config_on_any()?;
        let mut disagreements: Vec<String> = Vec::new();
        for g in &self.topo.guests {
            if !rows.iter().any(|r| r.domain_name == g.domain) {
                disagreements.push(format!(
                    "inventory guest {} is not a node in clsnmpsetup -l",
                    g.domain
                ));
            }
        }
        for r in &rows {
            if self.topo.guest(&r.domain_name).is_none() {
                disagreements.push(format!(
                    "cluster node {} (domain {}) is not in the inventory",
                    r.cluster_host_name, r.domain_name
                ));
            }
        }
        disagreements.extend(self.sf_config_problems(None)?);
        Ok(self.verdict(
            "inventory agrees with the cluster",
            disagreements.is_empty(),
            if disagreements.is_empty() {
                format!("{} guest nodes; SF settings match the boxes hosting them", rows.len())
            } else {
                disagreements.join("; ")
            },
            Some("correct the inventory (guest domains, boxes, PPAR-IDs, XSCF addresses) or the shutdown facility's settings before a migration: a wrong value points fencing at the wrong box"),
        ))
    }

    /// The LDoms dry run (`ldm migrate-domain -n`), which also proves that the migration
    /// authenticates without a prompt.
    pub fn check_migration_dry_run(
        &self,
        guest: &GuestDomain,
        source: &ControlDomain,
        target: &ControlDomain,
    ) -> Result<Value> {
        let out = self.ctx.run(&cmd::ldm_migrate_dry_run(
            &source.name,
            &guest.domain,
            &target.hosts_name,
        ))?;
        Ok(match ldm_migrate_dry_run::parse(out.code(), &out.stdout, &out.stderr) {
            MigrationDryRun::WouldSucceed => self.verdict(
                "ldm migrate-domain -n",
                true,
                format!("{} can move to {}", guest.domain, target.hosts_name),
                None,
            ),
            MigrationDryRun::PasswordPrompt => self.verdict(
                "ldm migrate-domain -n",
                false,
                "the migration asks `Target Password:`; it cannot run without a terminal".into(),
                Some("configure LDoms certificate trust between the control domains (ldmd/trust), or give the procedure a password file (-p password_file=…), so the migration authenticates without a prompt"),
            ),
            MigrationDryRun::WouldFail { reasons } => self.verdict(
                "ldm migrate-domain -n",
                false,
                format!("the migration would fail: {}", reasons.join("; ")),
                Some("fix what ldm reports on the target control domain, then retry"),
            ),
        })
    }

    /// Cluster health: every CF node UP (`cftool -n`).
    pub fn check_nodes_up(&self) -> Result<Value> {
        let nodes = self.cf_nodes(None)?;
        let not_up: Vec<String> = nodes
            .iter()
            .filter(|n| n.state() != NodeState::Up)
            .map(|n| format!("{} {}", n.node, n.state))
            .collect();
        Ok(self.verdict(
            "cftool -n",
            not_up.is_empty(),
            if not_up.is_empty() {
                format!("{} nodes UP", nodes.len())
            } else {
                format!("not UP: {}", not_up.join(", "))
            },
            Some("bring every node of the guest cluster UP before a migration"),
        ))
    }

    /// RMS userApplications settled (Online where they run, Offline/Standby elsewhere);
    /// Faulted, in transition (Wait), Inconsistent, Maintenance … are not.
    pub fn check_applications(&self) -> Result<Value> {
        let (_, apps) = self.on_witness(None, |g| self.apps_on(g))?;
        let unsettled: Vec<String> = apps
            .iter()
            .filter(|a| !app_settled(&a.state()))
            .map(|a| format!("{} {}", a.resource, a.state))
            .collect();
        let online = apps
            .iter()
            .filter(|a| a.state() == AppState::Online)
            .count();
        Ok(self.verdict(
            "hvdisp -T userApplication",
            unsettled.is_empty(),
            if unsettled.is_empty() {
                format!("{} userApplications, {online} Online, none Faulted or in transition", apps.len())
            } else {
                format!("not settled: {}", unsettled.join(", "))
            },
            Some("bring every userApplication to a settled state (clear Faulted ones with hvutil -c, end maintenance) before a migration"),
        ))
    }

    /// Two nodes of one guest cluster on one box would share a single point of failure
    /// (and one XSCF): the target box must host no other node of this cluster.
    pub fn check_target_box_free(
        &self,
        guest: &GuestDomain,
        target: &ControlDomain,
    ) -> Result<Value> {
        let mut partners = Vec::new();
        for other in self.topo.guests.iter().filter(|g| g.domain != guest.domain) {
            if let Some(cd) = self.locate(&other.domain)?.control_domain() {
                if let Some(c) = self.topo.control_domain(cd) {
                    if c.box_name == target.box_name {
                        partners.push(format!("{} (on {cd})", other.domain));
                    }
                }
            }
        }
        Ok(self.verdict(
            "target box hosts no other node of this cluster",
            partners.is_empty(),
            if partners.is_empty() {
                format!("{} hosts no other guest of this cluster", target.box_name)
            } else {
                format!("{} already hosts {}", target.box_name, partners.join(", "))
            },
            Some("choose a target on a box that hosts no other node of this guest cluster"),
        ))
    }

    /// The shutdown facility runs with every agent TestWorked/InitWorked, on every guest
    /// node (one verdict per node).
    pub fn check_agents(&self) -> Result<Value> {
        let mut out = Vec::new();
        for g in &self.topo.guests {
            let (ok, detail) = match self.sdtool_on(&g.name)? {
                SdtoolStatus::Table(rows) => {
                    let v = sdtool_s::verdict(&rows);
                    (
                        v == AgentVerdict::Healthy,
                        format!("{} agents, {:?}", rows.len(), v),
                    )
                }
                SdtoolStatus::NotRunning { raw } => (
                    false,
                    format!("shutdown facility not running: {}", raw.trim()),
                ),
            };
            out.push(self.verdict(
                &format!("sdtool -s on {}", g.name),
                ok,
                detail,
                Some("the shutdown facility must be running with every agent TestWorked/InitWorked before a migration"),
            ));
        }
        Ok(Value::Array(out))
    }

    /// The CF timeout is the site's normal value on every guest node (one verdict per
    /// node): another value means an earlier migration was not finished.
    pub fn check_timeouts(&self) -> Result<Value> {
        let mut out = Vec::new();
        for g in &self.topo.guests {
            let t = self.cf_timeout_on(&g.name)?;
            out.push(self.verdict(
                &format!("CF timeout on {}", g.name),
                t == self.topo.cf_timeout,
                format!("CLUSTER_TIMEOUT {t} (normal {})", self.topo.cf_timeout),
                Some("a CF timeout other than the normal value means an earlier migration was not finished: run ldoms/post-migration or ldoms/recover-migration first"),
            ));
        }
        Ok(Value::Array(out))
    }

    /// Every guest node knows the host keys of the target's XSCF (both LANs), so the
    /// shutdown facility's tests after the move do not fail with message 7245.
    pub fn check_xscf_host_keys(&self, target: &ControlDomain) -> Result<Value> {
        let mut out = Vec::new();
        for g in &self.topo.guests {
            for addr in [&target.xscf_lan0, &target.xscf_lan1] {
                let name = format!("XSCF {addr} host key on {}", g.name);
                let o = self.ctx.run(&cmd::known_host(&g.name, addr))?;
                match o.code() {
                    0 => out.push(self.verdict(&name, true, "known".into(), None)),
                    1 => out.push(self.verdict(
                        &name,
                        false,
                        format!("{} has not connected to XSCF {addr} yet (message 7245 would follow the move)", g.name),
                        Some(REMEDY_7245),
                    )),
                    code => self.ctx.ui.warn(&format!(
                        "cannot read {}'s known host keys (ssh-keygen -F exit {code}); XSCF first-connection check skipped",
                        g.name
                    )),
                }
            }
        }
        Ok(Value::Array(out))
    }

    /// The target is an address or a name registered in the source's `/etc/inet/hosts`
    /// (what `clovmmigrate -u` accepts).
    pub fn check_target_in_hosts(
        &self,
        source: &ControlDomain,
        target: &ControlDomain,
    ) -> Result<Value> {
        let (ok, detail) = self.target_host_registered(source, target)?;
        Ok(self.verdict(
            "target in /etc/inet/hosts",
            ok,
            detail,
            Some("add the target control domain to /etc/inet/hosts on the source control domain"),
        ))
    }

    /// Whether `target.hosts_name` is something `clovmmigrate -u` on `source` accepts: an IP
    /// address, or a name registered in the source's `/etc/inet/hosts` (not DNS). Also
    /// reports an entry whose address disagrees with the inventory's.
    pub(crate) fn target_host_registered(
        &self,
        source: &ControlDomain,
        target: &ControlDomain,
    ) -> Result<(bool, String)> {
        let name = &target.hosts_name;
        if name.parse::<std::net::IpAddr>().is_ok() {
            return Ok((true, format!("{name} is an address")));
        }
        let out = self.ctx.run_ok(&cmd::hosts_file(&source.name))?;
        let entries = etc_hosts::parse(&out.stdout)
            .map_err(|e| Error::new(ErrorKind::Parse, e.to_string()).on_host(&source.name))?;
        Ok(match etc_hosts::lookup(&entries, name) {
            None => (
                false,
                format!(
                    "{name} is not registered in {} on {}",
                    cmd::HOSTS_FILE,
                    source.name
                ),
            ),
            Some(e) => match &target.address {
                Some(a) if a != &e.address => (
                    false,
                    format!(
                        "{name} is registered in {} on {} as {}, but the inventory gives {a}",
                        cmd::HOSTS_FILE,
                        source.name,
                        e.address
                    ),
                ),
                _ => (
                    true,
                    format!(
                        "{name} is {} in {} on {} (line {})",
                        e.address,
                        cmd::HOSTS_FILE,
                        source.name,
                        e.line
                    ),
                ),
            },
        })
    }
}

/// Whether a userApplication state is settled enough to migrate a node under it.
pub(crate) fn app_settled(s: &AppState) -> bool {
    matches!(s, AppState::Online | AppState::Offline | AppState::Standby)
}
