//! Before migration (A1, 17.3.1.1): `clovmmigrate -p` once the guest runs and the
//! saved-configuration rule holds, with the migration's routine registered first.

use hascript_api::{Error, ErrorKind, Result};
use serde_json::{json, Value};

use super::MIGRATION_CF_TIMEOUT;
use crate::commands as cmd;
use crate::facts::Inner;
use crate::locate::Location;
use crate::parse::sdtool_s::SdtoolStatus;
use crate::topology::{ControlDomain, GuestDomain};

impl Inner {
    /// 17.3.1.1 (`cluster.prepare_migration(guest[, target])`): `clovmmigrate -p` on the
    /// control domain where the guest runs, then its effect read back on every node (CF
    /// timeout 600 s, shutdown facility stopped).
    ///
    /// Interlocks, whatever the script says: the guest runs; the saved-configuration rule
    /// of 17.3.1.2 holds on the source and on `target` (or `clovmmigrate -u` would fail
    /// once fencing is off). The recovery routine (`ldoms/recover-migration -p guest=…`)
    /// is registered, durably, before `-p` leaves; it stays pending until 17.3.1.2 is
    /// verified (`fence.verify()` after `finish_migration`), or a step script hands it to
    /// the operator. Already prepared: says so and sends nothing (a routine inherited
    /// from an interrupted run stays pending; otherwise one is registered, since fencing
    /// is off).
    pub fn prepare(&self, guest: &GuestDomain, target: Option<&ControlDomain>) -> Result<Value> {
        self.mark_logs()?;
        let loc = self.locate(&guest.domain)?;
        let Location::Running { control_domain } = &loc else {
            return Err(Error::check(format!(
                "17.3.1.1 needs a running guest: {}",
                loc.describe(&guest.domain)
            ))
            .with_remedy("if an earlier migration was interrupted, run ldoms/recover-migration"));
        };
        let (prepared, _) = self.prepared_state()?;
        if prepared {
            self.ctx.ui.info("CF timeout is already 600 s and SF is stopped on every node: 17.3.1.1 was done before; nothing to do");
            if !self.migration_routine_pending(guest) {
                let _pending = self.register_recovery(guest)?;
            }
            return Ok(json!({
                "guest": guest.domain, "control_domain": control_domain, "changed": false,
                "prepared_at": self.fencing_off_since(guest),
            }));
        }
        let mut cds = vec![control_domain.clone()];
        if let Some(t) = target {
            if t.name != *control_domain {
                cds.push(t.name.clone());
            }
        }
        self.require_spconfig_rule(&cds)?;
        // Every control domain of the bracket is locked before the first change.
        self.ctx.involve(&cds)?;
        // Dropped unsettled: pending until 17.3.1.2 is verified.
        let _pending = self.register_recovery(guest)?;
        self.ctx
            .run_ok(&cmd::clovmmigrate_prepare(control_domain, &guest.domain))?;
        self.set_prepared_at(self.now());
        let (prepared, detail) = self.prepared_state()?;
        if !prepared {
            return Err(Error::needs_attention(format!(
                "clovmmigrate -p ran but its effect is not there: {detail}"
            )));
        }
        self.ctx.ui.info(&format!(
            "CF timeout {MIGRATION_CF_TIMEOUT} s and shutdown facility stopped on every node (fencing is off until 17.3.1.2)"
        ));
        // `prepared_at` (the run's clock, seconds) is journaled with the step's result: a
        // later step script on this site learns from it how long fencing was off.
        Ok(json!({
            "guest": guest.domain, "control_domain": control_domain, "changed": true,
            "prepared_at": self.prepared_at(),
        }))
    }

    /// The interlock of 17.3.1.1: the saved-configuration rule holds on `cds` (read only;
    /// `hypervisor.clean_configs` is the step that makes it hold, with a question).
    fn require_spconfig_rule(&self, cds: &[String]) -> Result<()> {
        let mut broken = Vec::new();
        for cd in cds {
            let p = crate::spconfig::plan(cd, &self.spconfigs(cd)?);
            if let Some(b) = p.blocked {
                broken.push(b);
            } else if !p.remove.is_empty() {
                broken.push(format!(
                    "{cd} has {} saved configurations (at most 6, no config_tmp)",
                    p.count
                ));
            }
        }
        if broken.is_empty() {
            return Ok(());
        }
        Err(Error::check(format!(
            "the saved-configuration rule of 17.3.1.2 does not hold: {}; clovmmigrate -u would fail once fencing is off, so 17.3.1.1 is refused",
            broken.join("; ")
        ))
        .with_remedy("run the saved-configuration step first (hypervisor.clean_configs([source, target]), as ldoms/live-migration and ldoms/pre-migration do), or remove configurations by hand with `ldm remove-spconfig NAME`"))
    }

    /// Whether every reachable guest node shows A1's effect, and a description.
    pub(crate) fn prepared_state(&self) -> Result<(bool, String)> {
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
}
