//! The vendor procedure of PRIMECLUSTER 4.5 §17.3.1 (procedures.md Part A): preflight (A0),
//! before migration (A1, 17.3.1.1), the move, after migration (A3, 17.3.1.2), the
//! time-sync check (A4) and the state-aware recovery of an aborted migration (A2). The
//! whole bracket is [`Inner::migrate`]; the single steps serve the shipped step scripts.

use std::time::Duration;

use hascript_api::objects::RecoveryGuard;
use hascript_api::{validate_name, Error, ErrorKind, Result};
use serde_json::{json, Value};

use crate::commands as cmd;
use crate::facts::Inner;
use crate::locate::Location;
use crate::parse::cftool_n::NodeState;
use crate::parse::etc_hosts;
use crate::parse::hvdisp::AppState;
use crate::parse::ldm_migrate_dry_run::{self, MigrationDryRun};
use crate::parse::log_scan;
use crate::parse::sdtool_s::{self, AgentVerdict, SdtoolStatus};
use crate::topology::{ControlDomain, GuestDomain};
use crate::wait::{timed_out, WaitEnd};

/// CF timeout `clovmmigrate -p` sets (seconds).
pub const MIGRATION_CF_TIMEOUT: i64 = 600;
/// How long the guest's CF node takes to go DOWN after a stopped migration: "about
/// 600 s after clovmmigrate" (note under 17.3.1.1), counted from the start of the wait.
pub const DOWN_EXPECTED: Duration = Duration::from_secs(600);
/// Deadline for the guest's CF node to go DOWN after a stopped migration (the manual's
/// "about 600 s" plus margin).
pub const DOWN_DEADLINE: Duration = Duration::from_secs(900);
/// Deadline for a restarted guest's CF node to come UP.
pub const UP_DEADLINE: Duration = Duration::from_secs(900);
/// How long SF may take to detect wrong settings after `clovmmigrate -u` (17.3.1.2).
pub const SF_SETTLE: Duration = Duration::from_secs(30);
/// Deadline for `sdtool -s` rows to leave transitional states.
pub const SF_DEADLINE: Duration = Duration::from_secs(300);
/// Deadline for a migration that is still under way to end.
pub const MIGRATION_DEADLINE: Duration = Duration::from_secs(1800);
/// How long the `ldm migrate-domain` command may run before the transport gives up on it
/// (a large guest over a slow link takes long; the guest is located afterwards anyway).
pub const MIGRATE_COMMAND_TIMEOUT: Duration = Duration::from_secs(4 * 3600);
/// Poll interval of the waits.
pub const POLL: Duration = Duration::from_secs(10);

/// Remedy of message 7245 (17.3.1.2 step 2).
pub const REMEDY_7245: &str = "message 7245: the first SSH connection from the guest nodes to the XSCF has not been completed. From each guest node, connect once with ssh to the XSCF of the box that hosts each guest, on XSCF-LAN#0 and XSCF-LAN#1, as the shutdown facility's XSCF user, and accept the host key; then redo 17.3.1.2 from step 1 (hascript run ldoms/post-migration). Details: PRIMECLUSTER messages guide, message 7245.";
/// Remedy of TestFailed/InitFailed without 7245 (17.3.1.2 step 2).
pub const REMEDY_REDO: &str = "the shutdown facility settings may not have been changed: redo 17.3.1.2 from step 1 (clovmmigrate -u; hascript run ldoms/post-migration)";
/// Remedy of the time-sync warnings (note after 17.3.1.2).
pub const REMEDY_TIME_SYNC: &str = "the cluster nodes' clocks are not synchronised: synchronise them (NTP); the messages stop once the clocks agree. No cluster action is needed.";

impl Inner {
    /// Resolve a guest name from a script or parameter: validated, and known to the site.
    pub fn resolve_guest(&self, name: &str) -> Result<GuestDomain> {
        validate_name("guest", name)?;
        self.topo.guest(name).cloned().ok_or_else(|| {
            let known: Vec<&str> = self.topo.guests.iter().map(|g| g.domain.as_str()).collect();
            Error::usage(format!(
                "unknown guest {name:?}: the site's guest domains are {} (LDoms domain names, not CF node names)",
                known.join(", ")
            ))
        })
    }

    /// Resolve a control domain given as inventory name, `/etc/inet/hosts` name or address.
    pub fn resolve_cd(&self, what: &str, name: &str) -> Result<ControlDomain> {
        validate_name(what, name)?;
        self.topo.control_domain(name).cloned().ok_or_else(|| {
            let known: Vec<String> = self
                .topo
                .control_domains
                .iter()
                .map(|c| match &c.address {
                    Some(a) => format!("{} ({a})", c.name),
                    None => c.name.clone(),
                })
                .collect();
            Error::usage(format!(
                "unknown {what} {name:?}: the site's control domains are {}",
                known.join(", ")
            ))
        })
    }

    fn cd(&self, name: &str) -> Result<ControlDomain> {
        self.topo.control_domain(name).cloned().ok_or_else(|| {
            Error::needs_attention(format!("control domain {name} is not in the inventory"))
        })
    }

    // ----------------------------------------------------------------------------------
    // A0 — preflight

    /// Every read-only check of A0 for moving `guest` from `source` to `target`. Fails with
    /// `Check` listing each failed verdict and its remedy; changes nothing.
    pub fn preflight(
        &self,
        guest: &GuestDomain,
        source: &ControlDomain,
        target: &ControlDomain,
    ) -> Result<Value> {
        let mut checks: Vec<Value> = Vec::new();
        let mut failed: Vec<String> = Vec::new();
        let mut remedies: Vec<String> = Vec::new();
        let mut record = |name: &str, ok: bool, detail: String, remedy: Option<&str>| {
            if !ok {
                failed.push(format!("{name}: {detail}"));
                if let Some(r) = remedy {
                    remedies.push(r.to_string());
                }
            }
            checks.push(json!({"check": name, "ok": ok, "detail": detail, "remedy": remedy}));
        };

        // Another box (or PPAR).
        let same_box = source.box_name == target.box_name && source.ppar_id == target.ppar_id;
        record(
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
        );

        // The inventory against what the cluster says: the guest nodes (clsnmpsetup -l
        // names each node's domain) and each SF row against the box hosting its domain.
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
        record(
            "inventory agrees with the cluster",
            disagreements.is_empty(),
            if disagreements.is_empty() {
                format!("{} guest nodes; SF settings match the boxes hosting them", rows.len())
            } else {
                disagreements.join("; ")
            },
            Some("correct the inventory (guest domains, boxes, PPAR-IDs, XSCF addresses) or the shutdown facility's settings before a migration: a wrong value points fencing at the wrong box"),
        );

        // The LDoms dry run, which also proves authentication without a prompt.
        let out = self.ctx.run(&cmd::ldm_migrate_dry_run(
            &source.name,
            &guest.domain,
            &target.hosts_name,
        ))?;
        match ldm_migrate_dry_run::parse(out.code(), &out.stdout, &out.stderr) {
            MigrationDryRun::WouldSucceed => record(
                "ldm migrate-domain -n",
                true,
                format!("{} can move to {}", guest.domain, target.hosts_name),
                None,
            ),
            MigrationDryRun::PasswordPrompt => record(
                "ldm migrate-domain -n",
                false,
                "the migration asks `Target Password:`; it cannot run without a terminal".into(),
                Some("configure LDoms certificate trust between the control domains (ldmd/trust), so the migration authenticates without a prompt"),
            ),
            MigrationDryRun::WouldFail { reasons } => record(
                "ldm migrate-domain -n",
                false,
                format!("the migration would fail: {}", reasons.join("; ")),
                Some("fix what ldm reports on the target control domain, then retry"),
            ),
        }

        // Cluster health: every CF node UP.
        let nodes = self.cf_nodes(None)?;
        let not_up: Vec<String> = nodes
            .iter()
            .filter(|n| n.state() != NodeState::Up)
            .map(|n| format!("{} {}", n.node, n.state))
            .collect();
        record(
            "cftool -n",
            not_up.is_empty(),
            if not_up.is_empty() {
                format!("{} nodes UP", nodes.len())
            } else {
                format!("not UP: {}", not_up.join(", "))
            },
            Some("bring every node of the guest cluster UP before a migration"),
        );

        // RMS userApplications: settled (Online where they run, Offline/Standby elsewhere);
        // Faulted, in transition (Wait), Inconsistent, Maintenance … are not.
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
        record(
            "hvdisp -T userApplication",
            unsettled.is_empty(),
            if unsettled.is_empty() {
                format!("{} userApplications, {online} Online, none Faulted or in transition", apps.len())
            } else {
                format!("not settled: {}", unsettled.join(", "))
            },
            Some("bring every userApplication to a settled state (clear Faulted ones with hvutil -c, end maintenance) before a migration"),
        );

        // Two nodes of one guest cluster on one box would share a single point of failure
        // (and one XSCF): the target box must host no other node of this cluster.
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
        record(
            "target box hosts no other node of this cluster",
            partners.is_empty(),
            if partners.is_empty() {
                format!("{} hosts no other guest of this cluster", target.box_name)
            } else {
                format!("{} already hosts {}", target.box_name, partners.join(", "))
            },
            Some("choose a target on a box that hosts no other node of this guest cluster"),
        );

        // SF and CF timeout on every guest node.
        for g in &self.topo.guests {
            let detail;
            let ok;
            match self.sdtool_on(&g.name)? {
                SdtoolStatus::Table(rows) => {
                    let v = sdtool_s::verdict(&rows);
                    ok = v == AgentVerdict::Healthy;
                    detail = format!("{} agents, {:?}", rows.len(), v);
                }
                SdtoolStatus::NotRunning { raw } => {
                    ok = false;
                    detail = format!("shutdown facility not running: {}", raw.trim());
                }
            }
            record(
                &format!("sdtool -s on {}", g.name),
                ok,
                detail,
                Some("the shutdown facility must be running with every agent TestWorked/InitWorked before a migration"),
            );
            let t = self.cf_timeout_on(&g.name)?;
            record(
                &format!("CF timeout on {}", g.name),
                t == self.topo.cf_timeout,
                format!("CLUSTER_TIMEOUT {t} (normal {})", self.topo.cf_timeout),
                Some("a CF timeout other than the normal value means an earlier migration was not finished: run ldoms/post-migration or ldoms/recover-migration first"),
            );
        }

        // The destination XSCF host keys on every guest node (avoids message 7245).
        for g in &self.topo.guests {
            for addr in [&target.xscf_lan0, &target.xscf_lan1] {
                let out = self.ctx.run(&cmd::known_host(&g.name, addr))?;
                match out.code() {
                    0 => record(&format!("XSCF {addr} host key on {}", g.name), true, "known".into(), None),
                    1 => record(
                        &format!("XSCF {addr} host key on {}", g.name),
                        false,
                        format!("{} has not connected to XSCF {addr} yet (message 7245 would follow the move)", g.name),
                        Some(REMEDY_7245),
                    ),
                    code => self.ctx.ui.warn(&format!(
                        "cannot read {}'s known host keys (ssh-keygen -F exit {code}); XSCF first-connection check skipped",
                        g.name
                    )),
                }
            }
        }

        // The target is an address or a name registered in the source's /etc/inet/hosts
        // (what clovmmigrate -u accepts).
        let (ok, detail) = self.target_host_registered(source, target)?;
        record(
            "target in /etc/inet/hosts",
            ok,
            detail,
            Some("add the target control domain to /etc/inet/hosts on the source control domain"),
        );

        for c in &checks {
            self.ctx.ui.check(
                c["check"].as_str().unwrap_or_default(),
                c["ok"] == Value::Bool(true),
                c["detail"].as_str().unwrap_or_default(),
                c["remedy"].as_str(),
            );
        }
        let report = json!({
            "guest": guest.domain, "source": source.name, "target": target.name, "checks": checks,
        });
        if failed.is_empty() {
            self.ctx.ui.info(&format!(
                "preflight passed: {} checks",
                report["checks"].as_array().map_or(0, |a| a.len())
            ));
            Ok(report)
        } else {
            remedies.dedup();
            Err(Error::check(format!(
                "preflight failed, nothing was changed:\n  - {}",
                failed.join("\n  - ")
            ))
            .with_remedy(remedies.join("\n")))
        }
    }

    /// Whether `target.hosts_name` is something `clovmmigrate -u` on `source` accepts: an IP
    /// address, or a name registered in the source's `/etc/inet/hosts` (not DNS). Also
    /// reports an entry whose address disagrees with the inventory's.
    fn target_host_registered(
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

    // ----------------------------------------------------------------------------------
    // A1 — before live migration (17.3.1.1)

    /// `clovmmigrate -p` on the control domain where the guest runs, then read back its
    /// effect on every node: CF timeout 600 s, shutdown facility stopped. Already prepared
    /// → says so and changes nothing. Inside the bracket, whose routine covers it.
    pub fn prepare(&self, guest: &GuestDomain) -> Result<Value> {
        self.prepare_with(guest, false)
    }

    /// `cluster.prepare_migration(guest)` on its own (the `ldoms/pre-migration` step): as
    /// [`Inner::prepare`], under the bracket's own A2 routine (`recover_migration`),
    /// registered just before `clovmmigrate -p`. Completed → the routine is not needed (the
    /// operator goes on with the move; post-migration restores). Failed after that point →
    /// the routine runs at once: it finds where the guest is and runs 17.3.1.2 there,
    /// verified. Interrupted → it stays pending for the run (or `hascript unwind`).
    pub fn prepare_standalone(&self, guest: &GuestDomain) -> Result<Value> {
        self.prepare_with(guest, true)
    }

    fn prepare_with(&self, guest: &GuestDomain, standalone: bool) -> Result<Value> {
        self.mark_logs()?;
        let loc = self.locate(&guest.domain)?;
        let Location::Running { control_domain } = &loc else {
            return Err(Error::check(format!(
                "17.3.1.1 needs a running guest: {}",
                loc.describe(&guest.domain)
            )));
        };
        let (prepared, _) = self.prepared_state()?;
        if prepared {
            self.ctx.ui.info("CF timeout is already 600 s and SF is stopped on every node: 17.3.1.1 was done before; nothing to do");
            if standalone {
                // A resumed pre-migration whose interrupted run sent `-p`: that call is
                // complete now, so its inherited routine is not needed.
                let routine = recovery_routine(guest);
                if self
                    .ctx
                    .recoveries
                    .pending()
                    .iter()
                    .any(|e| e.inherited && e.routine.as_ref() == Some(&routine))
                {
                    self.register_recovery(guest)?.done();
                }
            }
            return Ok(
                json!({"guest": guest.domain, "control_domain": control_domain, "changed": false}),
            );
        }
        if !standalone {
            return self.send_prepare(guest, control_domain);
        }
        let guard = self.register_recovery(guest)?;
        let res = self.send_prepare(guest, control_domain);
        guard.settle_call(res, || {
            self.ctx.ui.step(
                "17.3.1.1 note",
                &format!(
                    "17.3.1.1 did not complete: recovery of {} (state-aware: find it, then 17.3.1.2 where it is)",
                    guest.domain
                ),
            );
            let rec = self.recover(guest, None)?;
            Ok(format!(
                "{} runs on {}; 17.3.1.2 done there (the CF timeout back to its value before 17.3.1.1, the shutdown facility started) and the shutdown facility verified on every node",
                guest.domain,
                rec["control_domain"].as_str().unwrap_or("?"),
            ))
        })
    }

    /// The change of 17.3.1.1 and its read-back.
    fn send_prepare(&self, guest: &GuestDomain, control_domain: &str) -> Result<Value> {
        self.ctx
            .run_ok(&cmd::clovmmigrate_prepare(control_domain, &guest.domain))?;
        let (prepared, detail) = self.prepared_state()?;
        if !prepared {
            return Err(Error::needs_attention(format!(
                "clovmmigrate -p ran but its effect is not there: {detail}"
            )));
        }
        self.ctx.ui.info(&format!(
            "CF timeout {MIGRATION_CF_TIMEOUT} s and shutdown facility stopped on every node (fencing is off until 17.3.1.2)"
        ));
        Ok(json!({"guest": guest.domain, "control_domain": control_domain, "changed": true}))
    }

    /// Whether every reachable guest node shows A1's effect, and a description.
    fn prepared_state(&self) -> Result<(bool, String)> {
        let mut all = true;
        let mut parts = Vec::new();
        for g in &self.topo.guests {
            let t = match self.cf_timeout_on(&g.name) {
                Ok(t) => t,
                Err(e) if matches!(e.kind, ErrorKind::Transport) => continue,
                Err(e) => return Err(e),
            };
            let sf_running = matches!(self.sdtool_on(&g.name)?, SdtoolStatus::Table(_));
            all &= t == MIGRATION_CF_TIMEOUT && !sf_running;
            parts.push(format!(
                "{}: CF timeout {t}, SF {}",
                g.name,
                if sf_running { "running" } else { "stopped" }
            ));
        }
        Ok((all, parts.join("; ")))
    }

    // ----------------------------------------------------------------------------------
    // A3 — after live migration (17.3.1.2)

    /// Where `clovmmigrate -u` must run: the control domain the guest left. Known inside
    /// the bracket; for a standalone run it is the control domain whose box the guest's SF
    /// row still points at (the row changes only with `-u`).
    fn update_host(&self, guest: &GuestDomain, now_cd: &ControlDomain) -> Result<ControlDomain> {
        let (_, rows) = self.on_witness(None, |g| self.sf_config_on(g))?;
        let row = rows
            .iter()
            .find(|r| r.domain_name == guest.domain)
            .ok_or_else(|| {
                Error::check(format!(
                    "clsnmpsetup -l has no row for domain {}",
                    guest.domain
                ))
            })?;
        let owner = self.topo.control_domains.iter().find(|c| {
            row.ppar_id_num() == Some(c.ppar_id)
                && row.ip_address1 == c.xscf_lan0
                && row.ip_address2 == c.xscf_lan1
        });
        match owner {
            Some(c) if c.box_name == now_cd.box_name && c.ppar_id == now_cd.ppar_id => Ok(now_cd.clone()),
            Some(c) => {
                // Several control domains can share a box; the source is the one on that box.
                Ok(c.clone())
            }
            None => Err(Error::needs_attention(format!(
                "the shutdown facility row of {} points at PPAR {} and XSCF {}/{}, which no control domain of the inventory has",
                guest.domain, row.ppar_id, row.ip_address1, row.ip_address2
            ))),
        }
    }

    /// 17.3.1.2 step 1: check the saved-configuration rule on both control domains, then
    /// `clovmmigrate -u GUEST TARGET-HOST` on the source control domain, where TARGET-HOST
    /// is the control domain where the guest runs **now** (determined here, never taken
    /// blindly). `target`, when given, must agree. `source` is known inside the bracket.
    pub fn finish(
        &self,
        guest: &GuestDomain,
        target: Option<&str>,
        source: Option<&ControlDomain>,
    ) -> Result<Value> {
        self.mark_logs()?;
        let loc = self.settled_location(guest)?;
        let now_cd = match &loc {
            Location::Running { control_domain } => self.cd(control_domain)?,
            other => {
                return Err(Error::check(format!(
                "17.3.1.2 needs the guest running: {}; run ldoms/recover-migration (17.3.1.1 note)",
                other.describe(&guest.domain)
            )))
            }
        };
        if let Some(t) = target {
            let given = self.resolve_cd("target", t)?;
            if given.name != now_cd.name {
                return Err(Error::usage(format!(
                    "{} runs on {}, not on {}: clovmmigrate -u must name the control domain where the guest runs now (a wrong one points fencing at the wrong XSCF); refusing",
                    guest.domain, now_cd.name, given.name
                )));
            }
        }
        let source = match source {
            Some(s) => s.clone(),
            None => self.update_host(guest, &now_cd)?,
        };
        if source.name == now_cd.name && self.finished_state(guest)? {
            self.ctx.ui.info(&format!(
                "{} runs on {}, the CF timeout is normal and SF is running with its settings: 17.3.1.2 step 1 was done before; nothing to do",
                guest.domain, now_cd.name
            ));
            return Ok(
                json!({"guest": guest.domain, "control_domain": now_cd.name, "changed": false}),
            );
        }
        let mut cds = vec![source.name.clone()];
        if now_cd.name != source.name {
            cds.push(now_cd.name.clone());
        }
        self.enforce_spconfig_rule(&cds)?;
        let (registered, detail) = self.target_host_registered(&source, &now_cd)?;
        if !registered {
            return Err(Error::check(format!(
                "{detail}: clovmmigrate -u would fail"
            ))
            .with_remedy("add the control domain to /etc/inet/hosts on the source control domain, then run ldoms/post-migration"));
        }
        self.warn_unknown_xscf_keys(guest, &now_cd)?;
        self.ctx.run_ok(&cmd::clovmmigrate_update(
            &source.name,
            &guest.domain,
            &now_cd.hosts_name,
        ))?;
        self.set_last_update(self.now());
        Ok(json!({
            "guest": guest.domain, "source": source.name, "control_domain": now_cd.name,
            "target_host": now_cd.hosts_name, "changed": true,
        }))
    }

    /// Before `clovmmigrate -u` restarts the shutdown facility: every guest node must know
    /// the host keys of the XSCFs its agents will test (the boxes hosting the cluster's
    /// guests, `guest` on `now_cd`), or the tests fail with message 7245. A missing key is
    /// a warning with the remedy, never a refusal: the step restores fencing and must not
    /// be held back by it.
    fn warn_unknown_xscf_keys(&self, guest: &GuestDomain, now_cd: &ControlDomain) -> Result<()> {
        let mut boxes: Vec<&ControlDomain> = vec![now_cd];
        for cd in &self.topo.control_domains {
            if boxes.iter().any(|b| b.name == cd.name) {
                continue;
            }
            let hosts_other_guest = self.domains(&cd.name)?.iter().any(|d| {
                d.name() != guest.domain && self.topo.guests.iter().any(|g| g.domain == d.name())
            });
            if hosts_other_guest {
                boxes.push(cd);
            }
        }
        let mut missing = Vec::new();
        for g in &self.topo.guests {
            let mut addrs = Vec::new();
            for cd in &boxes {
                for addr in [&cd.xscf_lan0, &cd.xscf_lan1] {
                    if self.ctx.run(&cmd::known_host(&g.name, addr))?.code() == 1 {
                        addrs.push(format!("{addr} ({})", cd.box_name));
                    }
                }
            }
            if !addrs.is_empty() {
                missing.push(format!("{} to {}", g.name, addrs.join(", ")));
            }
        }
        if !missing.is_empty() {
            self.ctx.ui.warn(&format!(
                "no first SSH connection yet from {}: the shutdown facility's tests will fail after clovmmigrate -u. {REMEDY_7245}",
                missing.join("; ")
            ));
        }
        Ok(())
    }

    /// Whether step 1 needs no doing: normal CF timeout and SF running on every node, and
    /// the guest's SF row pointing at the box that hosts it.
    fn finished_state(&self, guest: &GuestDomain) -> Result<bool> {
        for g in &self.topo.guests {
            if self.cf_timeout_on(&g.name)? != self.topo.cf_timeout {
                return Ok(false);
            }
            if !matches!(self.sdtool_on(&g.name)?, SdtoolStatus::Table(_)) {
                return Ok(false);
            }
        }
        let problems = self.sf_config_problems(Some(&guest.domain))?;
        Ok(problems.is_empty())
    }

    /// The location of a guest once no migration is under way (waits for one to end).
    fn settled_location(&self, guest: &GuestDomain) -> Result<Location> {
        let loc = self.locate(&guest.domain)?;
        if !matches!(loc, Location::Migrating { .. }) {
            return Ok(loc);
        }
        self.ctx.ui.info(&format!(
            "{}; waiting for it to end",
            loc.describe(&guest.domain)
        ));
        let what = format!("the migration of {} to end", guest.domain);
        match self.poll(&what, MIGRATION_DEADLINE, POLL, || {
            let l = self.locate(&guest.domain)?;
            Ok((!matches!(l, Location::Migrating { .. }), l))
        }, |l| l.describe(&guest.domain))? {
            // The caller says where the guest ended; saying it here too would repeat it.
            WaitEnd::Done(l) => Ok(l),
            WaitEnd::Deadline(_) => Err(Error::needs_attention(format!(
                "the migration of {} is still under way after {} s",
                guest.domain,
                MIGRATION_DEADLINE.as_secs()
            ))
            .with_remedy(format!(
                "check it with `ldm list -o status {0}`; cancel it with `ldm cancel-operation migration {0}` on the source control domain if it is stuck, then run ldoms/recover-migration",
                guest.domain
            ))),
        }
    }

    /// `clsnmpsetup -l` rows that disagree with the box hosting their domain (all rows, or
    /// only `only`'s).
    fn sf_config_problems(&self, only: Option<&str>) -> Result<Vec<String>> {
        let (_, rows) = self.on_witness(None, |g| self.sf_config_on(g))?;
        let mut problems = Vec::new();
        for r in &rows {
            if only.is_some_and(|o| o != r.domain_name) {
                continue;
            }
            let Some(cd_name) = self
                .locate(&r.domain_name)?
                .control_domain()
                .map(str::to_string)
            else {
                continue;
            };
            let cd = self.cd(&cd_name)?;
            if r.ppar_id_num() != Some(cd.ppar_id)
                || r.ip_address1 != cd.xscf_lan0
                || r.ip_address2 != cd.xscf_lan1
            {
                problems.push(format!(
                    "{} ({}) runs on {} (PPAR {}, XSCF {}/{}) but its SF row says PPAR {}, XSCF {}/{}",
                    r.cluster_host_name, r.domain_name, cd.name, cd.ppar_id, cd.xscf_lan0, cd.xscf_lan1,
                    r.ppar_id, r.ip_address1, r.ip_address2
                ));
            }
            if let Some(u) = &self.topo.xscf_user {
                if &r.user_name != u {
                    problems.push(format!(
                        "{}: XSCF user {} (inventory: {u})",
                        r.cluster_host_name, r.user_name
                    ));
                }
            }
        }
        Ok(problems)
    }

    /// 17.3.1.2 step 2: after SF has had 30 s, poll `sdtool -s` on every guest node until no
    /// row is transitional, compare `clsnmpsetup -l` with the hosting boxes, and on
    /// `TestFailed`/`InitFailed` look for message 7245. Returns the verdict; never throws
    /// for a failed verdict (the caller decides).
    pub fn verify_fence(&self) -> Result<Value> {
        if let Some(t) = self.last_update() {
            let since = self.now().saturating_sub(t);
            if since < SF_SETTLE.as_secs() {
                let wait = SF_SETTLE.as_secs() - since;
                self.ctx.ui.info(&format!(
                    "waiting {wait} s for the shutdown facility to test its agents (17.3.1.2)"
                ));
                self.ctx.sleep(Duration::from_secs(wait))?;
            }
        }
        let mut problems: Vec<String> = Vec::new();
        let mut agents = Vec::new();
        let mut any_failed = false;
        let mut any_transitional = false;
        // Right after `clovmmigrate -u` a stopped SF may still be starting; otherwise (a
        // health check) "not running" is the answer, not a state to wait out.
        let sf_starting = self
            .last_update()
            .is_some_and(|t| self.now().saturating_sub(t) < SF_DEADLINE.as_secs());
        for g in &self.topo.guests {
            let what = format!("sdtool -s on {} to settle", g.name);
            let end = self.poll(
                &what,
                SF_DEADLINE,
                Duration::from_secs(5),
                || {
                    let s = self.sdtool_on(&g.name)?;
                    let settled = match &s {
                        SdtoolStatus::Table(rows) => {
                            sdtool_s::verdict(rows) != AgentVerdict::Transitional
                        }
                        SdtoolStatus::NotRunning { .. } => !sf_starting,
                    };
                    Ok((settled, s))
                },
                sf_words,
            )?;
            let status = match end {
                WaitEnd::Done(s) => s,
                WaitEnd::Deadline(Some(s)) => s,
                WaitEnd::Deadline(None) => return Err(timed_out(&what, SF_DEADLINE, "nothing")),
            };
            match &status {
                SdtoolStatus::Table(rows) => {
                    let v = sdtool_s::verdict(rows);
                    for r in rows {
                        let healthy = r.test_state == "TestWorked" && r.init_state == "InitWorked";
                        if !healthy {
                            problems.push(format!(
                                "{}: {} {} {} {}",
                                g.name, r.cluster_host, r.agent, r.test_state, r.init_state
                            ));
                        }
                    }
                    match v {
                        AgentVerdict::Failed => any_failed = true,
                        AgentVerdict::Transitional => any_transitional = true,
                        AgentVerdict::Healthy => {}
                    }
                    agents.push(json!({"host": g.name, "verdict": format!("{v:?}"), "rows": rows}));
                }
                SdtoolStatus::NotRunning { raw } => {
                    any_failed = true;
                    problems.push(format!(
                        "{}: shutdown facility not running: {}",
                        g.name,
                        raw.trim()
                    ));
                    agents.push(json!({"host": g.name, "verdict": "NotRunning", "rows": []}));
                }
            }
        }
        let config_problems = self.sf_config_problems(None)?;
        problems.extend(config_problems.iter().cloned());
        let (_, config) = self.on_witness(None, |g| self.sf_config_on(g))?;
        let mut message_7245 = Vec::new();
        if any_failed {
            for g in &self.topo.guests {
                let text = match self.log_text(&g.name, cmd::MESSAGES, true) {
                    Ok(t) => t,
                    Err(e) if e.kind == ErrorKind::Cancelled => return Err(e),
                    Err(_) => continue,
                };
                for hit in log_scan::find_message(&text, 7245) {
                    message_7245.push(json!({"host": g.name, "line": hit.line}));
                }
            }
        }
        let ok = problems.is_empty();
        let remedy = if ok {
            Value::Null
        } else if !message_7245.is_empty() {
            Value::String(REMEDY_7245.to_string())
        } else if any_failed {
            Value::String(REMEDY_REDO.to_string())
        } else if any_transitional {
            Value::String(format!(
                "the shutdown facility did not finish testing its agents within {} s: run ldoms/verify-fence again in a few minutes; if rows stay Testing/Initing, {REMEDY_REDO}",
                SF_DEADLINE.as_secs()
            ))
        } else {
            Value::String("the shutdown facility settings do not match the boxes that host the guests: redo 17.3.1.2 from step 1 with the control domain where the guest runs".to_string())
        };
        Ok(json!({
            "ok": ok, "problems": problems, "agents": agents, "config": config,
            "message_7245": message_7245, "remedy": remedy,
        }))
    }

    /// A failed verdict as a `Check` error carrying the remedy.
    pub fn verdict_error(verdict: &Value) -> Error {
        let problems: Vec<String> = verdict["problems"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|p| p.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let has_7245 = verdict["message_7245"]
            .as_array()
            .is_some_and(|a| !a.is_empty());
        let head = if has_7245 {
            "shutdown facility check failed (17.3.1.2 step 2) and /var/adm/messages holds message 7245"
        } else {
            "shutdown facility check failed (17.3.1.2 step 2)"
        };
        let mut e = Error::check(format!("{head}:\n  - {}", problems.join("\n  - ")));
        if let Some(r) = verdict["remedy"].as_str() {
            e = e.with_remedy(r);
        }
        e
    }

    // ----------------------------------------------------------------------------------
    // A4 — time synchronisation warnings

    /// `(WRP, 34)`/`(WRP, 35)` lines written since the run started, in the RMS switchlog
    /// and `/var/adm/messages` of every guest node.
    pub fn time_sync(&self) -> Result<Value> {
        let mut hits = Vec::new();
        for g in &self.topo.guests {
            for file in [cmd::SWITCHLOG, cmd::MESSAGES] {
                let text = match self.log_text(&g.name, file, true) {
                    Ok(t) => t,
                    Err(e) if e.kind == ErrorKind::Cancelled => return Err(e),
                    Err(_) => continue,
                };
                for h in log_scan::find_time_sync(&text) {
                    hits.push(json!({
                        "host": g.name, "file": file, "code": format!("(WRP, {})", h.code),
                        "cluster_host": h.host, "line": h.line,
                    }));
                }
            }
        }
        let found = !hits.is_empty();
        Ok(json!({
            "found": found, "hits": hits,
            "remedy": if found { Value::String(REMEDY_TIME_SYNC.into()) } else { Value::Null },
        }))
    }

    // ----------------------------------------------------------------------------------
    // A2 — recovery

    /// Wait until the CF node `cf_name` reads `want`, asking a node other than `exclude`;
    /// `expected`: how long the manual says it takes, and the section saying so.
    /// Returns the last state seen when the deadline passes.
    pub fn wait_cf_state(
        &self,
        cf_name: &str,
        want: NodeState,
        exclude: Option<&str>,
        deadline: Duration,
        expected: Option<(Duration, &str)>,
    ) -> Result<std::result::Result<(), String>> {
        let what = format!("{cf_name} {} in cftool -n", state_word(&want));
        let end = self.poll_expecting(
            &what,
            expected,
            deadline,
            POLL,
            || {
                let nodes = self.cf_nodes(exclude)?;
                let st = nodes
                    .iter()
                    .find(|n| n.node == cf_name)
                    .map(|n| (n.state(), n.state.clone()))
                    .unwrap_or((NodeState::Other("absent".into()), "absent".into()));
                Ok((st.0 == want, st.1))
            },
            |s| s.clone(),
        )?;
        Ok(match end {
            WaitEnd::Done(_) => Ok(()),
            WaitEnd::Deadline(last) => Err(last.unwrap_or_default()),
        })
    }

    /// State-aware recovery of an aborted or failed migration (17.3.1.1 note, A2): find
    /// where the guest is; wait out a migration still under way; if the guest stopped, wait
    /// for its CF node to go DOWN, start it, wait for UP; then 17.3.1.2 against the control
    /// domain where it actually is, verified. Returns where the guest ended.
    pub fn recover(&self, guest: &GuestDomain, source: Option<&ControlDomain>) -> Result<Value> {
        self.mark_logs()?;
        let loc = self.settled_location(guest)?;
        self.ctx
            .ui
            .info(&format!("recovery: {}", loc.describe(&guest.domain)));
        let cd_name = match &loc {
            Location::Running { control_domain } => control_domain.clone(),
            Location::Stopped { control_domain, .. } => {
                let cf = self.cf_name_of(guest)?;
                self.ctx.ui.step("17.3.1.1 note, step 1", &format!(
                    "wait for {cf} to be DOWN in cftool -n on a node that was not migrated (about 600 s after clovmmigrate -p)"
                ));
                match self.wait_cf_state(&cf, NodeState::Down, Some(&guest.domain), DOWN_DEADLINE, Some((DOWN_EXPECTED, "17.3.1.1")))? {
                    Ok(()) => {}
                    Err(last) => {
                        return Err(Error::needs_attention(format!(
                            "{cf} ({}) is still {last} after {} s: it is not settled and, with the shutdown facility stopped, nothing will settle it. Left: {} stopped on {control_domain}, CF timeout 600 s and SF stopped on every node.",
                            guest.domain, DOWN_DEADLINE.as_secs(), guest.domain
                        ))
                        .with_remedy(format!(
                            "a person must decide how to settle {cf} (hascript never runs `cftool -k`); once it reads DOWN, run ldoms/recover-migration again"
                        )));
                    }
                }
                self.ctx.ui.step("17.3.1.1 note, step 2", &format!("start {} on {control_domain}", guest.domain));
                self.ctx.run_ok(&cmd::ldm_start(control_domain, &guest.domain))?;
                match self.wait_cf_state(&cf, NodeState::Up, Some(&guest.domain), UP_DEADLINE, None)? {
                    Ok(()) => self.ctx.ui.info(&format!("{cf} is UP")),
                    Err(last) => {
                        return Err(Error::needs_attention(format!(
                            "{} was started on {control_domain} but {cf} is still {last} after {} s; CF timeout 600 s and SF stopped remain on every node",
                            guest.domain, UP_DEADLINE.as_secs()
                        ))
                        .with_remedy("check the guest's console and CF, then run ldoms/post-migration"));
                    }
                }
                control_domain.clone()
            }
            other => {
                return Err(Error::needs_attention(format!(
                    "{}: outside what the manual covers; left: CF timeout 600 s and SF stopped on every node",
                    other.describe(&guest.domain)
                ))
                .with_remedy("find the guest with `ldm list` on every control domain, then run ldoms/recover-migration"))
            }
        };
        self.ctx.ui.step(
            "17.3.1.2",
            &format!(
                "after migration, against {cd_name} where {} is",
                guest.domain
            ),
        );
        let step1 = self.finish(guest, Some(&cd_name), source)?;
        self.ctx.ui.step(
            "17.3.1.2 step 2",
            "check the shutdown facility on every guest node",
        );
        let verdict = self.verify_fence()?;
        if verdict["ok"] != Value::Bool(true) {
            return Err(Self::verdict_error(&verdict));
        }
        self.ctx.ui.info("shutdown facility verified: every agent TestWorked/InitWorked, settings match the hosting boxes");
        Ok(
            json!({"guest": guest.domain, "control_domain": cd_name, "finish": step1, "fence": verdict}),
        )
    }

    // ----------------------------------------------------------------------------------
    // The whole bracket

    /// Move `guest` to `target` with the whole procedure: A0, A1, `ldm migrate-domain`,
    /// A3 (step 1 and 2), A4; any failure after A1 runs A2 (state-aware). Outcomes: moved
    /// and verified → Ok; not moved but recovered and verified → `Failed`; a state
    /// outside the manual → `NeedsAttention` saying what is left.
    pub fn migrate(&self, guest_name: &str, target_name: &str) -> Result<Value> {
        let guest = self.resolve_guest(guest_name)?;
        let target = self.resolve_cd("target", target_name)?;
        let routine = recovery_routine(&guest);
        // A resumed run whose interrupted run was inside this bracket: 17.3.1.1 (and maybe
        // the move) may already be done; the state read below decides what is left.
        let resumed = self
            .ctx
            .recoveries
            .pending()
            .iter()
            .any(|e| e.inherited && e.routine.as_ref() == Some(&routine));
        self.ctx.ui.step(
            "A0",
            &format!(
                "preflight: move {} to {} (nothing changes until all of it passes)",
                guest.domain, target.name
            ),
        );
        self.mark_logs()?;
        let loc = self.locate(&guest.domain)?;
        let source = match &loc {
            Location::Running { control_domain } if *control_domain == target.name => {
                self.ctx
                    .ui
                    .info(&format!("{} already runs on {}", guest.domain, target.name));
                self.ctx
                    .ui
                    .step("17.3.1.2", "after migration (only what is not done yet)");
                // A resumed run settles the interrupted run's routine here: done once
                // 17.3.1.2 is verified, left to the operator when it is not.
                let guard = if resumed {
                    Some(self.register_recovery(&guest)?)
                } else {
                    None
                };
                let finished = self
                    .finish(&guest, Some(&target.name), None)
                    .and_then(|step1| {
                        let verdict = self.verify_fence()?;
                        if verdict["ok"] != Value::Bool(true) {
                            return Err(Self::verdict_error(&verdict));
                        }
                        Ok((step1, verdict))
                    });
                if let Some(g) = &guard {
                    match &finished {
                        Ok(_) => g.done(),
                        Err(e) => g.left(e),
                    }
                }
                let (step1, verdict) = finished?;
                let ts = self.report_time_sync()?;
                return Ok(
                    json!({"guest": guest.domain, "moved": false, "already_there": true,
                    "control_domain": target.name, "finish": step1, "fence": verdict, "time_sync": ts}),
                );
            }
            Location::Running { control_domain } => self.cd(control_domain)?,
            other if resumed => return self.resume_recovery(&guest, &target, other),
            other => {
                return Err(Error::check(format!(
                    "{}: a live migration needs the guest running on one control domain",
                    other.describe(&guest.domain)
                ))
                .with_remedy(
                    "if an earlier migration was interrupted, run ldoms/recover-migration",
                ));
            }
        };
        self.ctx.ui.info(&format!(
            "{} runs on {}; target {}",
            guest.domain, source.name, target.name
        ));
        let pre = if resumed && self.prepared_state()?.0 {
            self.ctx.ui.info(&format!(
                "resuming: the interrupted run did 17.3.1.1 (CF timeout 600 s and SF stopped on every node) and {} still runs on {}; continuing with the move",
                guest.domain, source.name
            ));
            json!({"resumed": true})
        } else {
            let pre = self.preflight(&guest, &source, &target)?;
            // Both control domains are locked before the first change (the spconfig rule
            // may remove configurations on either).
            self.ctx
                .involve(&[source.name.clone(), target.name.clone()])?;
            self.ctx.ui.step("A0", "saved configurations on both control domains (17.3.1.2 precondition, checked before any change)");
            self.enforce_spconfig_rule(&[source.name.clone(), target.name.clone()])?;
            pre
        };

        self.ctx.ui.step(
            "17.3.1.1",
            &format!(
                "before live migration: clovmmigrate -p {} on {}",
                guest.domain, source.name
            ),
        );
        let exposed_from = self.now();
        // The recovery is registered (and journaled) before the first change: a crash from
        // here on leaves a record of it for `hascript unwind`.
        let guard = self.register_recovery(&guest)?;
        self.move_and_finish(&guard, &guest, &source, &target, pre, exposed_from)
            .map_err(|e| {
                // Whatever ended the bracket said what is left; only an interruption
                // leaves the routine pending (the run executes it next).
                guard.left(&e);
                if e.kind == ErrorKind::Cancelled {
                    let mut e = e;
                    e.message = format!(
                        "stopped after 17.3.1.1: fencing is off (CF timeout 600 s, shutdown facility stopped) on the guest cluster. Its registered recovery routine (the 17.3.1.1 note) runs next; if that is interrupted too, run `hascript unwind <run>` or ldoms/recover-migration -p guest={}: it finds where {} is and restores the cluster",
                        guest.domain, guest.domain
                    );
                    e
                } else {
                    e
                }
            })
    }

    /// Register the bracket's recovery routine (A2 for `guest`) before its first change.
    fn register_recovery(&self, guest: &GuestDomain) -> Result<RecoveryGuard> {
        self.ctx.register_recovery(
            &format!(
                "recover the migration of {} (17.3.1.1 note: find the guest, then 17.3.1.2 where it is)",
                guest.domain
            ),
            recovery_routine(guest),
        )
    }

    /// A resumed bracket found the guest neither running on the source nor on the target
    /// (stopped, still migrating, …): the interrupted run's recovery routine runs now, and
    /// the outcome is decided from where the guest ended, as after a failed move.
    fn resume_recovery(
        &self,
        guest: &GuestDomain,
        target: &ControlDomain,
        loc: &Location,
    ) -> Result<Value> {
        let guard = self.register_recovery(guest)?;
        self.ctx.ui.step(
            "17.3.1.1 note",
            &format!(
                "resuming: {}; recovery of the interrupted migration (state-aware)",
                loc.describe(&guest.domain)
            ),
        );
        let rec = self.recover(guest, None);
        guard.ran(&rec);
        let rec = rec?;
        let ended = rec["control_domain"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if ended == target.name {
            return Ok(
                json!({"guest": guest.domain, "moved": true, "control_domain": ended, "recovered": rec}),
            );
        }
        Err(Error::new(
            ErrorKind::Failed,
            format!(
                "{} did not move in the interrupted run ({}). Recovery ran: it runs on {ended}, CF timeout and shutdown facility restored and verified",
                guest.domain,
                loc.describe(&guest.domain)
            ),
        )
        .with_remedy("find out why the migration stopped, then run ldoms/live-migration again (17.3.1.1)"))
    }

    /// The part of the bracket after the first change: prepare, move, finish, verify.
    fn move_and_finish(
        &self,
        guard: &RecoveryGuard,
        guest: &GuestDomain,
        source: &ControlDomain,
        target: &ControlDomain,
        pre: Value,
        exposed_from: u64,
    ) -> Result<Value> {
        if let Err(e) = self.prepare(guest) {
            // Interrupted, or `clovmmigrate -p` never sent (the journal could not record
            // it): no recovery of a migration that did not start.
            if matches!(e.kind, ErrorKind::Cancelled | ErrorKind::NotRecorded) {
                return Err(e);
            }
            self.ctx
                .ui
                .warn(&format!("17.3.1.1 failed: {e}; recovering"));
            return self.after_failure(guard, guest, source, target, exposed_from, e);
        }

        self.ctx.ui.step(
            "17.3.1.1",
            &format!(
                "live migration: ldm migrate-domain {} {}",
                guest.domain, target.hosts_name
            ),
        );
        let moved = self.ctx.run(
            &cmd::ldm_migrate(&source.name, &guest.domain, &target.hosts_name)
                .with_timeout(MIGRATE_COMMAND_TIMEOUT),
        );
        self.exposure(exposed_from);
        // Whatever the command said — an exit status, a timeout, a lost session — the
        // guest may have moved or may still be moving: only `ldm list -p` tells.
        match &moved {
            Ok(out) if out.success() => {}
            Ok(out) => {
                let text = format!("{}{}", out.stdout, out.stderr);
                self.ctx.ui.warn(&format!(
                    "ldm migrate-domain exited {}: {}; finding out where {} really is",
                    out.code(),
                    text.trim(),
                    guest.domain
                ));
            }
            Err(e) if e.kind == ErrorKind::Cancelled => return Err(e.clone()),
            Err(e) => self.ctx.ui.warn(&format!(
                "ldm migrate-domain did not report ({e}); finding out where {} really is",
                guest.domain
            )),
        }
        let loc = self
            .settled_location(guest)
            .map_err(|e| left_exposed(e, guest))?;
        if loc
            != (Location::Running {
                control_domain: target.name.clone(),
            })
        {
            let e = Error::new(
                ErrorKind::Failed,
                format!(
                    "the migration did not complete: {}",
                    loc.describe(&guest.domain)
                ),
            );
            return self.after_failure(guard, guest, source, target, exposed_from, e);
        }
        self.ctx
            .ui
            .info(&format!("{} runs on {}", guest.domain, target.name));

        self.ctx.ui.step(
            "17.3.1.2 step 1",
            &format!(
                "after live migration: clovmmigrate -u {} {} on {}",
                guest.domain, target.hosts_name, source.name
            ),
        );
        let step1 = self
            .finish(guest, Some(&target.name), Some(source))
            .map_err(|e| left_exposed(e, guest))?;
        self.ctx.ui.step(
            "17.3.1.2 step 2",
            "check the shutdown facility on every guest node (clsnmpsetup -l, sdtool -s)",
        );
        let verdict = self.verify_fence()?;
        let unprotected = self.now().saturating_sub(exposed_from);
        if verdict["ok"] != Value::Bool(true) {
            return Err(Self::verdict_error(&verdict));
        }
        // Fencing is back and verified: what the routine protects is done.
        guard.done();
        self.ctx.ui.info(&format!(
            "shutdown facility verified; the cluster ran {unprotected} s without fencing"
        ));
        let ts = self.report_time_sync()?;
        Ok(json!({
            "guest": guest.domain, "moved": true, "source": source.name, "control_domain": target.name,
            "preflight": pre, "finish": step1, "fence": verdict, "time_sync": ts,
            "unprotected_seconds": unprotected,
        }))
    }

    fn exposure(&self, since: u64) {
        let secs = self.now().saturating_sub(since);
        self.ctx
            .ui
            .exposure("fencing off, CF timeout 600 s", Duration::from_secs(secs));
    }

    /// After a failure past A1: run A2 and decide the outcome from where the guest ended.
    fn after_failure(
        &self,
        guard: &RecoveryGuard,
        guest: &GuestDomain,
        source: &ControlDomain,
        target: &ControlDomain,
        exposed_from: u64,
        cause: Error,
    ) -> Result<Value> {
        self.ctx.ui.step(
            "17.3.1.1 note",
            "recovery of an aborted or failed migration (state-aware)",
        );
        let rec = self.recover(guest, Some(source)).map_err(|e| match e.kind {
            // Recovery's own verdicts already say what is left.
            ErrorKind::Cancelled | ErrorKind::NeedsAttention | ErrorKind::Check => e,
            _ => left_exposed(e, guest),
        });
        // The bracket ran its recovery itself: settled here, never run a second time; the
        // settlement says what is left and how to finish (`hascript unwind` shows it).
        guard.ran(&rec);
        let rec = rec?;
        let unprotected = self.now().saturating_sub(exposed_from);
        let ended = rec["control_domain"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let ts = self.report_time_sync()?;
        if ended == target.name {
            self.ctx.ui.info(&format!(
                "{} reached {} after all; procedure completed",
                guest.domain, target.name
            ));
            return Ok(json!({
                "guest": guest.domain, "moved": true, "source": source.name, "control_domain": ended,
                "recovered": rec, "time_sync": ts, "unprotected_seconds": unprotected,
            }));
        }
        Err(Error::new(
            ErrorKind::Failed,
            format!(
                "{} did not move: {}. Recovery ran: it runs on {ended}, CF timeout and shutdown facility restored and verified (fencing was off for {unprotected} s)",
                guest.domain, cause.message
            ),
        )
        .with_remedy(format!(
            "find out why the migration failed (ldm on {}), then run ldoms/live-migration again (17.3.1.1)",
            source.name
        )))
    }

    fn report_time_sync(&self) -> Result<Value> {
        self.ctx.ui.step(
            "17.3.1.2 note",
            "time-synchronisation warnings since this run started",
        );
        let ts = self.time_sync()?;
        if ts["found"] == Value::Bool(true) {
            if let Some(hits) = ts["hits"].as_array() {
                for h in hits {
                    self.ctx.ui.warn(&format!(
                        "{} {} on {} ({})",
                        h["code"].as_str().unwrap_or(""),
                        h["cluster_host"].as_str().unwrap_or(""),
                        h["host"].as_str().unwrap_or(""),
                        h["file"].as_str().unwrap_or("")
                    ));
                }
            }
            self.ctx.ui.warn(&format!("remedy: {REMEDY_TIME_SYNC}"));
        } else {
            self.ctx.ui.info("no (WRP, 34)/(WRP, 35) messages");
        }
        Ok(ts)
    }
}

/// The description of the bracket's recovery routine for `guest`, which
/// [`crate::LdomsSite`]'s `run_recovery` runs again (also from a fresh process).
pub fn recovery_routine(guest: &GuestDomain) -> Value {
    json!({"driver": "ldoms", "routine": RECOVER_MIGRATION, "guest": guest.domain})
}

/// The name of the A2 recovery routine in its description.
pub const RECOVER_MIGRATION: &str = "recover_migration";

/// Whether a userApplication state is settled enough to migrate a node under it.
pub(crate) fn app_settled(s: &AppState) -> bool {
    matches!(s, AppState::Online | AppState::Offline | AppState::Standby)
}

/// The distinct test/init states of an `sdtool -s` answer, for progress lines.
fn sf_words(s: &SdtoolStatus) -> String {
    match s {
        SdtoolStatus::Table(rows) => rows
            .iter()
            .map(|r| format!("{}/{}", r.test_state, r.init_state))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
            .join(", "),
        SdtoolStatus::NotRunning { .. } => "SF not running".to_string(),
    }
}

fn state_word(s: &NodeState) -> &str {
    match s {
        NodeState::Up => "UP",
        NodeState::Down => "DOWN",
        NodeState::LeftCluster => "LEFTCLUSTER",
        NodeState::ComingUp => "COMINGUP",
        NodeState::Other(w) => w,
    }
}

/// An error between 17.3.1.1 and the end of 17.3.1.2: whatever it was, fencing stays off
/// until someone finishes the procedure, so the message says so and names the way out.
/// A failure that needs a person keeps its kind; an unexpected one becomes "needs
/// attention"; a declined confirmation too (the cluster is not in a protected state).
fn left_exposed(e: Error, guest: &GuestDomain) -> Error {
    if e.kind == ErrorKind::Cancelled {
        return e;
    }
    let kind = match e.kind {
        ErrorKind::Check | ErrorKind::NeedsAttention => e.kind,
        _ => ErrorKind::NeedsAttention,
    };
    let msg = format!(
        "{}. Left: the CF timeout is 600 s and the shutdown facility is stopped on every node of the guest cluster (fencing is off)",
        e.message
    );
    let remedy = match &e.remedy {
        Some(r) => format!(
            "{r}; then run ldoms/recover-migration -p guest={} (it finds where the guest is and runs 17.3.1.2)",
            guest.domain
        ),
        None => format!(
            "fix the cause, then run ldoms/recover-migration -p guest={} (it finds where the guest is and runs 17.3.1.2)",
            guest.domain
        ),
    };
    let mut n = e.with_kind(kind);
    n.message = msg;
    n.with_remedy(remedy)
}
