//! The move (`ldm migrate-domain`), its cancellation, and the guest started early on the
//! target (read and stopped).

use std::time::Duration;

use hascript_api::{Error, ErrorKind, Result};
use serde_json::{json, Value};

use super::{state_of, state_word, validate_path, MIGRATE_COMMAND_TIMEOUT, MIGRATION_CF_TIMEOUT};
use crate::commands as cmd;
use crate::facts::Inner;
use crate::locate::Location;
use crate::topology::{ControlDomain, GuestDomain};

impl Inner {
    /// The move (`hypervisor.migrate_domain(guest, target[, opts])`): `ldm migrate-domain`
    /// on the control domain where the guest runs, then where the guest really is once no
    /// migration is under way (whatever the command said: a lost session leaves the
    /// migration going). Returns `#{guest, moved, changed, source, control_domain,
    /// location}`; a move that did not reach `target` is `moved: false`, not an error (the
    /// script decides). Interlock: 17.3.1.1 in effect on every node — a guest-cluster node
    /// is never migrated while fencing is on. Already on `target`: sends nothing.
    pub fn migrate_domain(
        &self,
        guest: &GuestDomain,
        target: &ControlDomain,
        password_file: Option<&str>,
        deadline: Duration,
    ) -> Result<Value> {
        let loc = self.locate(&guest.domain)?;
        let source = match &loc {
            Location::Running { control_domain } if *control_domain == target.name => {
                self.ctx
                    .ui
                    .info(&format!("{} already runs on {}", guest.domain, target.name));
                return Ok(json!({
                    "guest": guest.domain, "moved": true, "changed": false, "source": target.name,
                    "state": "running", "control_domain": target.name,
                    "location": loc.describe(&guest.domain),
                }));
            }
            Location::Running { control_domain } => self.cd(control_domain)?,
            other => return Err(Error::check(format!(
                "{}: a live migration needs the guest running on one control domain",
                other.describe(&guest.domain)
            ))
            .with_remedy(
                "run ldoms/recover-migration: it finds where the guest is and restores the cluster",
            )),
        };
        let (prepared, detail) = self.prepared_state()?;
        if !prepared {
            return Err(Error::check(format!(
                "17.3.1.1 is not in effect ({detail}): a node of the guest cluster is never migrated while the shutdown facility runs and the CF timeout is normal (it would be fenced during the move)"
            ))
            .with_remedy("run 17.3.1.1 first: cluster.prepare_migration(guest, target)"));
        }
        if let Some(f) = password_file {
            validate_path("password_file", f)?;
        }
        let sent = self.ctx.run(
            &cmd::ldm_migrate(
                &source.name,
                &guest.domain,
                &target.hosts_name,
                password_file,
            )
            .with_timeout(MIGRATE_COMMAND_TIMEOUT),
        );
        self.exposure();
        match &sent {
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
        // A migration still under way at `deadline` is `state: "migrating"`: the script
        // decides whether to cancel it (hypervisor.cancel_migration).
        let loc = self.settle_location(guest, deadline)?;
        let moved = loc
            == Location::Running {
                control_domain: target.name.clone(),
            };
        Ok(json!({
            "guest": guest.domain, "moved": moved, "changed": true, "source": source.name,
            "state": state_of(&loc), "control_domain": loc.control_domain(),
            "location": loc.describe(&guest.domain),
        }))
    }

    /// Cancel a migration that hangs (`hypervisor.cancel_migration(guest)`): `ldm
    /// cancel-operation migration GUEST` on the control domain the guest leaves, then where
    /// it is once the migration is over. Guard rails: refused (nothing sent) unless `ldm
    /// list -p` shows the guest's migration under way, with a known source; the cancel is
    /// sent only there. Returns `#{guest, cancelled, state, control_domain, location}`.
    pub fn cancel_migration(&self, guest: &GuestDomain) -> Result<Value> {
        let loc = self.locate(&guest.domain)?;
        let source = match &loc {
            Location::Migrating {
                source: Some(source),
                ..
            } => self.cd(source)?,
            other => return Err(Error::check(format!(
                "{}: there is no migration under way to cancel",
                other.describe(&guest.domain)
            ))
            .with_remedy(
                "run ldoms/recover-migration: it finds where the guest is and restores the cluster",
            )),
        };
        self.ctx
            .run_ok(&cmd::ldm_cancel_migration(&source.name, &guest.domain))?;
        self.exposure();
        let after = self.settled_location(guest)?;
        Ok(json!({
            "guest": guest.domain, "cancelled": true, "state": state_of(&after),
            "control_domain": after.control_domain(), "location": after.describe(&guest.domain),
        }))
    }

    /// The signature of a guest started before its node was DOWN (17.3.1.1 note: "SF, CRM
    /// and RMS then fail to start"), read before anything is sent
    /// (`hypervisor.started_early(guest)`). All three must hold:
    ///   - its domain booted inside the bracket: `uptime=` of `ldm list -p` shorter than
    ///     the time since 17.3.1.1 (this run's, or the newest earlier run's on this site;
    ///     unknown: shorter than the 600 s CF timeout 17.3.1.1 sets);
    ///   - its CF node reads UP in `cftool -n` on another node: the cluster never saw it
    ///     leave (a node restarted after DOWN reads COMINGUP, then UP with RMS running);
    ///   - RMS is not running on it (`hvdisp` fails), which 17.3.1.1 alone never causes.
    ///
    /// Returns `#{guest, early, control_domain, uptime, fencing_off_for, node_state,
    /// rms_running, detail}`; `early: false` whenever one is missing or unknown.
    pub fn started_early(&self, guest: &GuestDomain) -> Result<Value> {
        let loc = self.locate(&guest.domain)?;
        let Location::Running { control_domain } = &loc else {
            return Ok(json!({
                "guest": guest.domain, "early": false, "control_domain": loc.control_domain(),
                "uptime": Value::Null, "fencing_off_for": Value::Null, "node_state": Value::Null,
                "rms_running": Value::Null, "detail": loc.describe(&guest.domain),
            }));
        };
        let uptime = self
            .domains(control_domain)?
            .iter()
            .find(|d| d.name() == guest.domain)
            .and_then(|d| d.get("uptime"))
            .and_then(|u| u.parse::<u64>().ok());
        let off_for = self
            .fencing_off_since(guest)
            .map(|t| self.now().saturating_sub(t));
        let cf = self.cf_name_of(guest)?;
        let node_state = self
            .cf_nodes(Some(&guest.domain))?
            .iter()
            .find(|n| n.node == cf)
            .map(|n| state_word(&n.state()).to_string());
        let rms_running = match self.ctx.run(&cmd::hvdisp_apps(&guest.name)) {
            Ok(o) => o.success(),
            Err(e) if e.kind == ErrorKind::Cancelled => return Err(e),
            Err(_) => false,
        };
        // Booted inside the bracket: before 17.3.1.1's time when known; else (17.3.1.1 done
        // by hand) within the CF timeout 17.3.1.1 sets — a node started after it was seen
        // DOWN would have rejoined (UP) with RMS running by then.
        let booted_inside = match (uptime, off_for) {
            (Some(u), Some(f)) => u < f,
            (Some(u), None) => u < MIGRATION_CF_TIMEOUT.unsigned_abs(),
            _ => false,
        };
        let early = booted_inside && node_state.as_deref() == Some("UP") && !rms_running;
        let detail = format!(
            "{} up {} s, fencing off for {}, {cf} {} in cftool -n, RMS {}",
            guest.domain,
            uptime.map_or("?".to_string(), |u| u.to_string()),
            off_for.map_or("an unknown time (no run of hascript on this site did 17.3.1.1; bound: the CF timeout of 600 s)".to_string(), |f| format!("{f} s")),
            node_state.as_deref().unwrap_or("absent"),
            if rms_running { "running" } else { "not running" }
        );
        Ok(json!({
            "guest": guest.domain, "early": early, "control_domain": control_domain,
            "uptime": uptime, "fencing_off_for": off_for, "node_state": node_state,
            "rms_running": rms_running, "detail": detail,
        }))
    }

    /// Stop again a guest started before its node was DOWN (17.3.1.1 note), by force:
    /// `ldm stop-domain -f` (`hypervisor.stop_early_started(guest)`). The exception to
    /// "never stop a live node", honoured only when all hold: the signature
    /// ([`Inner::started_early`]) read again here, 17.3.1.1 in effect on every node, the
    /// operator's confirmation; and only under the migration's recovery routine (pending,
    /// or registered here before the stop, since the cluster stays unprotected until
    /// 17.3.1.2). Returns `#{guest, control_domain, stopped, location}`.
    pub fn stop_early_started(&self, guest: &GuestDomain) -> Result<Value> {
        let sig = self.started_early(guest)?;
        if sig["early"] != Value::Bool(true) {
            return Err(Error::check(format!(
                "{}: not a guest started before its node was DOWN ({}); a live node is never stopped: refused",
                guest.domain,
                sig["detail"].as_str().unwrap_or("")
            )));
        }
        // 17.3.1.1 in effect: the CF timeout it sets on every node that answers (SF may
        // have tried to start on the early-started guest itself; that is the failure).
        for g in &self.topo.guests {
            let t = match self.cf_timeout_on(&g.name) {
                Ok(t) => t,
                Err(e) if matches!(e.kind, ErrorKind::Transport) => continue,
                Err(e) => return Err(e),
            };
            if t != MIGRATION_CF_TIMEOUT {
                return Err(Error::check(format!(
                    "17.3.1.1 is not in effect ({}: CF timeout {t}): the forced stop of the 17.3.1.1 note is for a guest inside the migration's bracket; refused",
                    g.name
                )));
            }
        }
        let cd = self.cd(sig["control_domain"].as_str().unwrap_or_default())?;
        let question = format!(
            "{} was started before its node was DOWN ({}): SF, CRM and RMS cannot start on it. Stop it by force (ldm stop-domain -f {} on {}), then wait for DOWN and start it again (17.3.1.1 note)?",
            guest.domain,
            sig["detail"].as_str().unwrap_or(""),
            guest.domain,
            cd.name
        );
        if !self.ctx.ui.confirm(&question)? {
            return Err(Error::new(
                ErrorKind::Declined,
                format!("{} was not stopped (declined)", guest.domain),
            )
            .with_remedy(format!(
                "stop {0} (ldm stop-domain {0}), wait until its node is DOWN, then run ldoms/recover-migration -p guest={0}",
                guest.domain
            )));
        }
        if !self.migration_routine_pending(guest) {
            let _pending = self.register_recovery(guest)?;
        }
        self.ctx
            .run_ok(&cmd::ldm_stop_forced(&cd.name, &guest.domain))?;
        self.exposure();
        let after = self.locate(&guest.domain)?;
        Ok(json!({
            "guest": guest.domain, "control_domain": cd.name,
            "stopped": matches!(after, Location::Stopped { .. }),
            "location": after.describe(&guest.domain),
        }))
    }
}
