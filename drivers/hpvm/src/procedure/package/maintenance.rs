//! The SG IVS toolkit's maintenance mode (B2): on, off on every member holding the file,
//! and the check that a guest is monitored again after it.

use hascript_api::{Error, ErrorKind, Result};
use serde_json::{json, Value};

use super::running;
use crate::commands as cmd;
use crate::facts::Inner;
use crate::procedure::after_change;
use crate::procedure::diagnose::presence_words;
use crate::procedure::observed::Presence;

impl Inner {
    /// Whether the package is in toolkit maintenance (maintenance file on its owner).
    pub fn in_maintenance(&self, name: &str) -> Result<bool> {
        let (view, p) = self.resolve_package(name)?;
        Ok(self.maintenance_state(&view, &p)?.0)
    }

    /// The trait's `package.maintenance(name, on)`: [`Inner::maintenance_enter`], or
    /// [`Inner::maintenance_off`] followed by its read-back [`Inner::verify_monitored`] when
    /// it changed something (the script hpvm/maintenance runs them as two steps).
    pub fn maintenance(&self, name: &str, on: bool) -> Result<Value> {
        if on {
            return self.maintenance_enter(name);
        }
        let r = self.maintenance_off(name)?;
        if r["changed"] == Value::Bool(true) {
            let was_running = r["was_running"] == Value::Bool(true);
            self.verify_monitored(name, was_running)?;
        }
        Ok(r)
    }

    /// Enter the toolkit's maintenance mode on the owner (`cmdeployvpkg -m 1`, one command;
    /// needs `MAINTENANCE_FLAG yes` and the package running); already in it → no command.
    pub fn maintenance_enter(&self, name: &str) -> Result<Value> {
        let (_view, p) = self.resolve_package(name)?;
        let vm = p.name.clone();
        let owner = match p.owner.as_deref().filter(|_| running(&p)) {
            Some(o) if self.topo.vm_host(o).is_some() => o.to_string(),
            Some(o) => {
                return Err(Error::check(format!(
                    "package {vm} runs on {o}, which is not a VM host of the inventory"
                )))
            }
            None => {
                return Err(Error::check(format!(
                    "package {vm} is {}/{}: the toolkit's maintenance mode applies on the node that runs the package",
                    p.status, p.state
                ))
                .with_remedy(format!("start the package first (package.run {vm})")))
            }
        };
        let conf = self.read_conf_on(&owner, &vm)?;
        let file = conf.maintenance_file(&vm);
        if self.maintenance_on(&owner, &conf, &vm)? {
            self.ctx.ui.info(&format!(
                "package {vm} is already in toolkit maintenance on {owner} ({file} exists): nothing to do"
            ));
            return Ok(
                json!({"package": vm, "host": owner, "maintenance": true, "changed": false, "file": file}),
            );
        }
        if !conf.maintenance_flag() {
            return Err(Error::check(format!(
                "MAINTENANCE_FLAG is not yes in {} on {owner}: the toolkit cannot enter maintenance mode",
                conf.path
            ))
            .with_remedy(format!(
                "set `tkit/vtn/vtn/MAINTENANCE_FLAG yes` in {} (package.read_config / write_config), apply it (cmapplyconf -P {}; package.apply), then retry",
                conf.path, conf.path
            )));
        }
        self.ctx.ui.step(
            "B3",
            &format!("enter toolkit maintenance: cmdeployvpkg -m 1 -P {vm} on {owner}"),
        );
        self.ctx
            .run_ok(&cmd::cmdeployvpkg_maintenance(&owner, &vm, true)?)
            .map_err(after_change)?;
        if !self.maintenance_on(&owner, &conf, &vm)? {
            return Err(Error::check(format!(
                "cmdeployvpkg -m 1 -P {vm} ran on {owner} but {file} is absent"
            )));
        }
        self.ctx.ui.warn(&format!(
            "package {vm} is in toolkit maintenance on {owner}: a VM failure will NOT fail the package over; leave it with package.maintenance_off(\"{vm}\") (hpvm/maintenance -p state=off) when the work is done"
        ));
        Ok(
            json!({"package": vm, "host": owner, "maintenance": true, "changed": true, "file": file}),
        )
    }

    /// Leave the toolkit's maintenance mode on every member (not only the owner: after a
    /// failover the file stays on the former owner, and the package would run unmonitored
    /// there the next time): `cmdeployvpkg -m 0 -P vm` on each member holding the file, each
    /// read back. A member that cannot be read is reported, never taken as "off".
    /// `was_running` in the result says whether the package ran before (the read-back
    /// [`Inner::verify_monitored`] needs it).
    pub fn maintenance_off(&self, name: &str) -> Result<Value> {
        let (view, p) = self.resolve_package(name)?;
        let (view, p) = (&view, &p);
        let vm = p.name.clone();
        let was_running = running(p);
        let conf = self.read_conf(view, p)?;
        let file = conf.maintenance_file(&vm);
        let states = self.maintenance_members(p, &conf)?;
        let holding: Vec<String> = states
            .iter()
            .filter(|(_, on)| matches!(on, Ok(true)))
            .map(|(h, _)| h.clone())
            .collect();
        let unknown: Vec<String> = states
            .iter()
            .filter_map(|(h, on)| on.as_ref().err().map(|why| format!("{h}: {why}")))
            .collect();
        let all: Vec<&str> = states.iter().map(|(h, _)| h.as_str()).collect();
        let unread = |changed: &[String]| {
            let e = Error::check(format!(
                "cannot tell whether {file} exists on every member of {vm}{}: {}",
                if changed.is_empty() {
                    String::new()
                } else {
                    format!(" (removed on {})", changed.join(", "))
                },
                unknown.join("; ")
            ))
            .with_remedy(format!(
                "make the member reachable (or add it to the inventory as a vm-host), then run hpvm/maintenance -p package={vm} -p state=off again, or run `cmdeployvpkg -m 0 -P {vm}` there by hand"
            ));
            if changed.is_empty() {
                e
            } else {
                e.with_kind(ErrorKind::NeedsAttention)
            }
        };
        if holding.is_empty() {
            if !unknown.is_empty() {
                return Err(unread(&[]));
            }
            self.ctx.ui.info(&format!(
                "package {vm} is already out of toolkit maintenance on every member ({}: no {file}): nothing to do",
                all.join(", ")
            ));
            return Ok(json!({
                "package": vm, "host": conf.host, "hosts": [], "maintenance": false,
                "changed": false, "file": file, "was_running": was_running,
            }));
        }
        let mut changed: Vec<String> = Vec::new();
        for h in &holding {
            let role = if p.owner.as_deref() == Some(h.as_str()) && running(p) {
                "the owner"
            } else {
                "not running the package"
            };
            self.ctx.ui.step(
                "B3",
                &format!("leave toolkit maintenance: cmdeployvpkg -m 0 -P {vm} on {h} ({role})"),
            );
            let sent = self
                .ctx
                .run_ok(&cmd::cmdeployvpkg_maintenance(h, &vm, false)?);
            if let Err(e) = sent {
                let mut e = after_change(e);
                if !changed.is_empty() {
                    e.message =
                        format!("{} (already removed on {})", e.message, changed.join(", "));
                }
                return Err(e);
            }
            changed.push(h.clone());
            if self.maintenance_on(h, &conf, &vm).map_err(after_change)? {
                return Err(Error::new(
                    ErrorKind::NeedsAttention,
                    format!("cmdeployvpkg -m 0 -P {vm} ran on {h} but {file} is still there"),
                )
                .on_host(h)
                .with_remedy(format!("remove {file} on {h} by hand (the toolkit's maintenance file), then run hpvm/maintenance -p package={vm} -p state=off again")));
            }
        }
        if !unknown.is_empty() {
            return Err(unread(&changed));
        }
        self.ctx.ui.info(&format!(
            "package {vm} left toolkit maintenance on {} (no {file} on any member now)",
            changed.join(", ")
        ));
        Ok(json!({
            "package": vm, "host": conf.host, "hosts": changed, "maintenance": false,
            "changed": true, "file": file, "was_running": was_running,
        }))
    }

    /// The read-back after [`Inner::maintenance_off`] changed something: "the guest is
    /// monitored again" holds only when the package runs and its guest runs on its owner
    /// (`was_running`: the package ran before the change). Otherwise `NeedsAttention`.
    pub fn verify_monitored(&self, name: &str, was_running: bool) -> Result<Value> {
        let vm = self.vm_name(name)?;
        let left = format!("package {vm} left toolkit maintenance on every member");
        self.refuse_unmonitored_guest(&vm, was_running, &left)?;
        self.ctx
            .ui
            .info(&format!("{left}: the guest is monitored again"));
        Ok(json!({"package": vm, "monitored": true}))
    }

    /// The read-back after leaving maintenance: "the guest is monitored again" holds only
    /// when the package runs and its guest runs on its owner. A package up with its guest Off
    /// there (it died or was stopped in maintenance), a package that stopped running meanwhile
    /// (the monitor already failed it), or a state that cannot be read is `NeedsAttention`:
    /// maintenance is off (the change is right and stays), but a person must look.
    /// `was_running`: the package ran before the change; `left` says what was done.
    fn refuse_unmonitored_guest(&self, vm: &str, was_running: bool, left: &str) -> Result<()> {
        let view = self.view().map_err(after_change)?;
        let Some(now) = view.package(vm) else {
            return Err(Error::needs_attention(format!(
                "{left}, but package {vm} is no longer listed by cmviewcl"
            )));
        };
        if !running(now) {
            if was_running {
                return Err(Error::needs_attention(format!(
                    "{left}, but package {vm} is {}/{} now (it was running): the toolkit's monitor or Serviceguard stopped it",
                    now.status, now.state
                ))
                .with_remedy(format!(
                    "read the package log ({}) and run hascript run hpvm/diagnose -p package={vm}; restart the package with hpvm/run-package once the cause is known",
                    cmd::package_log(vm)?
                )));
            }
            self.ctx.ui.info(&format!(
                "package {vm} is {}/{}: its guest is monitored when the package starts",
                now.status, now.state
            ));
            return Ok(());
        }
        match self.owner_guest(now).map_err(after_change)? {
            Some((_, Presence::On)) | None => Ok(()),
            Some((owner, presence)) => Err(Error::needs_attention(format!(
                "{left}, but package {vm} is up on {owner} while its guest is {} there: the guest is NOT running, so it is not \"monitored again\"; the toolkit's monitor will detect the failure at its next interval (MONITOR_INTERVAL) and Serviceguard fails the package over, or halts it when no node can take it",
                presence_words(&presence)
            ))
            .on_host(&owner)
            .with_remedy(format!(
                "watch the package (hascript run hpvm/diagnose -p package={vm}): when the monitor has acted, check the guest where Serviceguard started it, or, if Serviceguard did not fail the package over, restart it with hpvm/run-package"
            ))),
        }
    }
}
