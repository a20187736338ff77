//! Package run and halt (B1–B3): `cmrunpkg` always followed by enabling switching (with its
//! `restore_switching` routine registered first), `cmhaltpkg`, package and node switching.

use hascript_api::objects::RecoveryOutcome;
use hascript_api::{Error, Result};
use serde_json::{json, Value};

use super::{package_value, running, PACKAGE_DEADLINE};
use crate::commands as cmd;
use crate::facts::Inner;
use crate::parse::cmviewcl_line::{PackageView, Status};
use crate::procedure::after_change;
use hascript_api::WaitEnd;

/// The name of `package.run`'s recovery routine in its description.
pub const RESTORE_SWITCHING: &str = "restore_switching";

/// The description of `package.run`'s routine for package `vm`, which the site's
/// `run_recovery` runs again (also from a fresh process).
pub fn restore_switching_routine(vm: &str) -> Value {
    json!({"driver": "hpvm", "routine": RESTORE_SWITCHING, "package": vm})
}

fn restore_switching_what(vm: &str) -> String {
    format!("enable package switching of {vm} again if cmrunpkg left it running without failover (B3; only when one VM host runs it and owns the package)")
}

/// What `restore_switching` did, in words.
fn restore_switching_summary(vm: &str, r: &Value) -> String {
    match (r["package"].as_str(), r["host"].as_str()) {
        (Some("down"), _) => format!(
            "package {vm} is halted and its guest runs nowhere, as the call found it; switching left disabled"
        ),
        (_, Some(h)) if r["enabled_switching"] == Value::Bool(true) => format!(
            "{vm} runs on {h}, which owns the package; package switching enabled again (verified)"
        ),
        (_, Some(h)) => format!(
            "{vm} runs on {h}, which owns the package; package switching is enabled (verified)"
        ),
        _ => format!("package {vm}: {r}"),
    }
}

impl Inner {
    /// Start a package (`cmrunpkg [-n NODE]`), then always enable package switching
    /// (`cmmodpkg -e`) and check it in `cmviewcl`. Already running → says so (and enables
    /// switching when it is off). A guest on NFS whose NFS entry is not in the package file
    /// is not started ([`Inner::check_nfs_entries`]).
    pub fn run_package(&self, name: &str, node: Option<&str>) -> Result<Value> {
        let (view, p) = self.resolve_package(name)?;
        let node = node.map(|n| self.resolve_member(&p, n)).transpose()?;
        let vm = p.name.clone();
        let host = self.command_host(&view, Some(&p))?;
        let mut started = false;
        let mut switching = false;
        if running(&p) {
            let owner = p.owner.clone().unwrap_or_default();
            if let Some(n) = &node {
                if *n != owner {
                    return Err(Error::check(format!(
                        "package {vm} already runs on {owner}, not on {n}"
                    ))
                    .with_remedy(format!(
                        "move it with hpvm/move-package (online), or halt it and run it on {n}"
                    )));
                }
            }
            self.ctx.ui.info(&format!(
                "package {vm} already runs on {owner}: not started again"
            ));
        } else {
            if p.status() != Status::Down {
                return Err(Error::check(format!(
                    "package {vm} is {}/{}: wait until it is up or down",
                    p.status, p.state
                )));
            }
            // A guest on NFS runs only with its NFS entry in the file (§8): checked here,
            // whatever the script before did.
            self.check_nfs_entries(&vm)?;
            self.ctx.ui.step(
                "B3",
                &format!(
                    "start package {vm}{}",
                    node.as_deref()
                        .map(|n| format!(" on {n}"))
                        .unwrap_or_default()
                ),
            );
            let command = cmd::cmrunpkg(&host, &vm, node.as_deref())?;
            let log = cmd::package_log(&vm)?;
            // Between cmrunpkg and cmmodpkg -e the package runs without failover: the
            // routine that closes that window is registered before cmrunpkg leaves.
            let guard = self
                .ctx
                .register_recovery(&restore_switching_what(&vm), restore_switching_routine(&vm))?;
            let res = self.start_and_enable(&vm, &host, &command, &log);
            switching = guard.settle_call(res, || {
                self.ctx.ui.step(
                    "B3",
                    &format!("package.run({vm}) did not complete: recovery (state-aware: where {vm} runs, who owns it, switching)"),
                );
                let r = self.restore_switching(&vm)?;
                Ok(restore_switching_summary(&vm, &r))
            })?;
            started = true;
        }
        if !started {
            switching = self.ensure_switching(&vm, &host)?;
        }
        self.settle_inherited_restore_switching(&vm);
        let mut v = self.package_status(&vm)?;
        if let Value::Object(o) = &mut v {
            o.insert("started".into(), Value::Bool(started));
            o.insert("enabled_switching".into(), Value::Bool(switching));
        }
        Ok(v)
    }

    /// A resumed run's `package.run` completed what the interrupted one began (the package
    /// runs with switching enabled): the `restore_switching` routine it inherited for `vm`
    /// is not needed.
    fn settle_inherited_restore_switching(&self, vm: &str) {
        let routine = restore_switching_routine(vm);
        for e in self.ctx.recoveries.pending() {
            if e.inherited && e.routine.as_ref() == Some(&routine) {
                self.ctx.recoveries.settle(
                    e.id,
                    RecoveryOutcome::NotNeeded,
                    "driver",
                    Some("package.run completed in the resumed run"),
                );
            }
        }
    }

    /// `cmrunpkg`, the wait for the package to be up, then `cmmodpkg -e` and its check:
    /// the span `restore_switching` covers. Returns whether `cmmodpkg -e` was sent.
    fn start_and_enable(
        &self,
        vm: &str,
        host: &str,
        command: &hascript_api::Command,
        log: &str,
    ) -> Result<bool> {
        self.ctx.run_ok(command).map_err(after_change)?;
        match self.wait_package(vm, &format!("package {vm} to be up"), running)? {
            WaitEnd::Done(_) => {}
            WaitEnd::Deadline(p) => {
                return Err(Error::needs_attention(format!(
                    "cmrunpkg {vm} ran but the package is {} after {} s",
                    p.map(|p| format!("{}/{}", p.status, p.state))
                        .unwrap_or_else(|| "not listed".into()),
                    PACKAGE_DEADLINE.as_secs()
                ))
                .with_remedy(format!(
                    "read the package log {log} on the node that runs it"
                )))
            }
        }
        self.ensure_switching(vm, host)
    }

    /// The routine `restore_switching` (registered by `package.run`/`run_on` before
    /// `cmrunpkg`): read where the guest runs (`hpvmstatus -P` on every VM host) and the
    /// package (`cmviewcl -v -f line`), waiting out transitions. Package halted and the
    /// guest running nowhere → the state the call found: nothing to do (enabling switching
    /// would start it). Otherwise the interlock of every `cmmodpkg -e`
    /// ([`Inner::enable_switching_checked`]): only when exactly one VM host runs the guest
    /// and owns the package, read back; anything else is `NeedsAttention` saying what is
    /// left. Safe to repeat: switching already enabled sends nothing.
    pub fn restore_switching(&self, name: &str) -> Result<Value> {
        let vm = self.vm_name(name)?;
        let o = self.observe_value(
            &vm,
            None,
            None,
            Some(crate::procedure::migrate::SETTLE_DEADLINE),
        )?;
        if o["settled"] != Value::Bool(true) {
            return Err(Error::needs_attention(format!(
                "{} after {} s; package switching of {vm} may still be disabled ({})",
                o["moving"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("; ")).unwrap_or_default(),
                crate::procedure::migrate::SETTLE_DEADLINE.as_secs(),
                o["found"].as_str().unwrap_or_default()
            ))
            .with_remedy(format!(
                "wait for the package to finish (cmviewcl -v -p {vm}, hpvmstatus -P {vm}), then run hpvm/recover-move -p package={vm}"
            )));
        }
        let halted = o["pkg"]["run"] == "down";
        let quiet = o["running_on"].as_array().is_some_and(|a| a.is_empty())
            && o["hosts"].as_array().is_some_and(|hs| {
                hs.iter().all(|h| {
                    matches!(
                        h["presence"].as_str(),
                        Some("off" | "not_runnable" | "absent")
                    )
                })
            });
        if halted && quiet {
            self.ctx.ui.info(&format!(
                "package {vm} is halted and its guest runs on no VM host ({}): as the call found it; switching left as it is (enabling it would start the package)",
                o["found"].as_str().unwrap_or_default()
            ));
            return Ok(
                json!({"vm": vm, "package": "down", "enabled_switching": false, "host": Value::Null}),
            );
        }
        let r = self.enable_switching_checked(&vm)?;
        Ok(json!({"vm": vm, "package": "up", "host": r["host"], "enabled_switching": r["sent"]}))
    }

    /// `cmmodpkg -e VM` (when switching is off), then read back. Returns whether a command
    /// was sent.
    fn ensure_switching(&self, vm: &str, host: &str) -> Result<bool> {
        let view = self.view()?;
        let p = self.package_in(&view, vm)?;
        let sent = if p.autorun().is_enabled() {
            false
        } else {
            self.ctx
                .run_ok(&cmd::cmmodpkg(host, vm, true, None)?)
                .map_err(after_change)?;
            true
        };
        let view = self.view()?;
        let p = self.package_in(&view, vm)?;
        if !p.autorun().is_enabled() {
            return Err(Error::check(format!(
                "package switching of {vm} reads {:?} after cmmodpkg -e",
                p.autorun
            ))
            .with_remedy(format!(
                "run `cmmodpkg -e {vm}` and check cmviewcl -v -p {vm}"
            )));
        }
        self.ctx.ui.info(&format!(
            "package switching of {vm} is enabled (failover protection on)"
        ));
        Ok(sent)
    }

    /// Halt a package (`cmhaltpkg`); already halted → says so.
    pub fn halt_package(&self, name: &str) -> Result<Value> {
        let (view, p) = self.resolve_package(name)?;
        let vm = p.name.clone();
        if p.status() == Status::Down {
            self.ctx
                .ui
                .info(&format!("package {vm} is already halted: nothing to do"));
            let mut v = package_value(&p);
            if let Value::Object(o) = &mut v {
                o.insert("halted".into(), Value::Bool(false));
            }
            return Ok(v);
        }
        let host = self.command_host(&view, Some(&p))?;
        self.ctx
            .ui
            .step("B3", &format!("halt package {vm} (cmhaltpkg stops the VM)"));
        self.ctx
            .run_ok(&cmd::cmhaltpkg(&host, &vm)?)
            .map_err(after_change)?;
        let p = match self.wait_package(&vm, &format!("package {vm} to be down"), |p| {
            p.status() == Status::Down
        })? {
            WaitEnd::Done(p) => p,
            WaitEnd::Deadline(p) => {
                return Err(Error::needs_attention(format!(
                    "cmhaltpkg {vm} ran but the package is {} after {} s",
                    p.map(|p| format!("{}/{}", p.status, p.state))
                        .unwrap_or_else(|| "not listed".into()),
                    PACKAGE_DEADLINE.as_secs()
                )))
            }
        };
        self.ctx.ui.info(&format!(
            "package {vm} is halted; its package switching is now disabled: start it again with package.run (cmrunpkg, then cmmodpkg -e)"
        ));
        let mut v = p.as_ref().map(package_value).unwrap_or(Value::Null);
        if let Value::Object(o) = &mut v {
            o.insert("halted".into(), Value::Bool(true));
        }
        Ok(v)
    }

    /// Enable or disable package switching (`node` = `None`) or node switching on `node`;
    /// already so → says so; read back.
    pub fn set_switching(&self, name: &str, node: Option<&str>, enable: bool) -> Result<Value> {
        let (view, p) = self.resolve_package(name)?;
        let node = node.map(|n| self.resolve_member(&p, n)).transpose()?;
        let vm = p.name.clone();
        let current = |p: &PackageView| match &node {
            None => p.autorun().is_enabled(),
            Some(n) => p.node(n).is_some_and(|x| x.switching().is_enabled()),
        };
        let what = match &node {
            None => format!("package switching of {vm}"),
            Some(n) => format!("node switching of {vm} on {n}"),
        };
        let word = if enable { "enabled" } else { "disabled" };
        let changed = if current(&p) == enable {
            self.ctx
                .ui
                .info(&format!("{what} is already {word}: nothing to do"));
            false
        } else if enable && node.is_none() && self.is_vm_package(&vm)? {
            // A VM package's switching goes on only where its guest runs (B5's rule).
            self.enable_switching_checked(&vm)?;
            true
        } else {
            let host = self.command_host(&view, Some(&p))?;
            self.ctx
                .run_ok(&cmd::cmmodpkg(&host, &vm, enable, node.as_deref())?)
                .map_err(after_change)?;
            let view = self.view()?;
            let p = self.package_in(&view, &vm)?;
            if current(p) != enable {
                return Err(Error::check(format!("{what} is not {word} after cmmodpkg")));
            }
            self.ctx.ui.info(&format!("{what} is {word}"));
            if !enable && node.is_none() {
                self.ctx.ui.warn(&format!(
                    "package {vm} has no failover protection until package switching is enabled again"
                ));
            }
            true
        };
        let view = self.view()?;
        let mut v = package_value(self.package_in(&view, &vm)?);
        if let Value::Object(o) = &mut v {
            o.insert("changed".into(), Value::Bool(changed));
        }
        Ok(v)
    }
}
