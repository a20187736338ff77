//! Package management (B1–B3): status, start with switching, halt, package and node
//! switching, the toolkit's maintenance mode, the package file (read, write, make,
//! distribute, verify, apply), easy deployment, removal and backups. Every operation reads
//! the state first, skips what is already done and says so, and reads its effect back.

use std::time::Duration;

use hascript_api::objects::RecoveryOutcome;
use hascript_api::{validate_name, Error, ErrorKind, Result};
use serde_json::{json, Value};

use super::diagnose::presence_words;
use super::observed::Presence;
use super::{after_change, members, node_up, ConfRead};
use crate::appmon::AppMonitor;
use crate::commands::{self as cmd, DeployArgs};
use crate::facts::{is_cancel, Inner};
use crate::parse::cmcheckconf::{self, CheckVerdict};
use crate::parse::cmviewcl_line::{ClusterView, PackageState, PackageView, Status, Switching};
use crate::parse::df_n::{self, DfEntry};
use crate::parse::hpvmstatus::{StorageKind, StorageRow};
use crate::parse::ls_l::FileType;
use crate::pkgconf::PackageConf;
use hascript_api::WaitEnd;

/// Deadline for a package to come up after `cmrunpkg` or go down after `cmhaltpkg`.
pub const PACKAGE_DEADLINE: Duration = Duration::from_secs(600);
/// Poll interval of package waits.
pub const PACKAGE_POLL: Duration = Duration::from_secs(5);
/// Mode of a package file written by hascript.
pub const PACKAGE_FILE_MODE: u32 = 0o644;

/// The options of [`Inner::deploy`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeployOpts {
    /// Nodes for `-n` (empty: the toolkit's choice).
    pub nodes: Vec<String>,
    /// Application monitors (`-x appmon=SPEC` each).
    pub appmon: Vec<AppMonitor>,
    /// `-x merge`.
    pub merge: bool,
    /// Regenerate an existing package file even though its application monitors (and the
    /// node switching Serviceguard disabled) would be lost: the caller has seen the list.
    pub replace: bool,
}

impl DeployOpts {
    /// Read `#{nodes: [..], appmon: "spec" | [specs], merge: bool}`; anything else is a
    /// usage error.
    pub fn from_value(v: &Value) -> Result<DeployOpts> {
        let mut o = DeployOpts::default();
        let Some(m) = v.as_object() else {
            if v.is_null() {
                return Ok(o);
            }
            return Err(Error::usage(
                "deploy options must be a map #{nodes: [...], appmon: \"spec\" or [...], merge: bool}",
            ));
        };
        for (k, val) in m {
            match k.as_str() {
                "nodes" => o.nodes = strings(k, val)?,
                "appmon" => {
                    for s in strings(k, val)? {
                        o.appmon
                            .push(AppMonitor::parse(&s).map_err(|e| Error::usage(e.to_string()))?);
                    }
                }
                "merge" => {
                    o.merge = val.as_bool().ok_or_else(|| {
                        Error::usage("deploy option `merge` must be true or false")
                    })?
                }
                "replace" => {
                    o.replace = val.as_bool().ok_or_else(|| {
                        Error::usage("deploy option `replace` must be true or false")
                    })?
                }
                other => {
                    return Err(Error::usage(format!(
                        "unknown deploy option {other:?}: use nodes, appmon, merge, replace"
                    )))
                }
            }
        }
        for n in &o.nodes {
            validate_name("node", n)?;
        }
        Ok(o)
    }
}

/// A string or a list of strings.
pub(crate) fn strings(key: &str, v: &Value) -> Result<Vec<String>> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(a) => a
            .iter()
            .map(|x| {
                x.as_str().map(str::to_string).ok_or_else(|| {
                    Error::usage(format!(
                        "option `{key}` must be a string or a list of strings"
                    ))
                })
            })
            .collect(),
        Value::Null => Ok(Vec::new()),
        _ => Err(Error::usage(format!(
            "option `{key}` must be a string or a list of strings"
        ))),
    }
}

/// Seconds since the epoch as `YYYYMMDD-HHMMSS` (UTC), for backup folder names.
pub fn timestamp(secs: u64) -> String {
    let secs = secs as i64;
    let (y, m, d) = hascript_api::civil::from_days(secs.div_euclid(86_400));
    let (hh, mm, ss) = hascript_api::civil::time_of_day(secs);
    format!("{y:04}{m:02}{d:02}-{hh:02}{mm:02}{ss:02}")
}

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

/// The status of one package as scripts see it (without the maintenance file).
pub(crate) fn package_value(p: &PackageView) -> Value {
    let mut node_switching = serde_json::Map::new();
    for n in &p.nodes {
        node_switching.insert(n.name.clone(), Value::String(n.switching.clone()));
    }
    json!({
        "name": p.name,
        "type": p.pkg_type,
        "status": p.status,
        "state": p.state,
        "owner": p.owner,
        "autorun": p.autorun,
        "switching": p.autorun().is_enabled(),
        "node_switching": node_switching,
        "nodes": p.nodes.iter().map(|n| json!({
            "name": n.name, "status": n.status, "switching": n.switching, "type": n.node_type,
        })).collect::<Vec<_>>(),
        "services": p.services.iter().map(|s| json!({
            "name": s.name, "status": s.status, "restarts": s.restarts, "max_restarts": s.max_restarts,
        })).collect::<Vec<_>>(),
    })
}

fn running(p: &PackageView) -> bool {
    p.status() == Status::Up && p.state() == PackageState::Running
}

fn verdict_value(host: &str, path: &str, v: &CheckVerdict) -> Value {
    json!({
        "host": host, "path": path, "ok": v.ok, "errors": v.errors,
        "permission_problems": v.permission_problems,
    })
}

/// A failed `cmcheckconf`/`cmapplyconf` verdict as a `Check` error with remedies.
fn verdict_error(what: &str, host: &str, path: &str, v: &CheckVerdict, exit: i32) -> Error {
    let mut remedies: Vec<String> = v
        .permission_problems
        .iter()
        .map(|p| format!("`chmod go-w {}` on {}", p.path, p.node))
        .collect();
    if remedies.is_empty() {
        remedies.push(format!(
            "correct {path} (hascript package.read_config / write_config) and run the check again"
        ));
    } else {
        remedies.push("or distribute the package directory again (hascript package.distribute sets the mode on every member)".into());
    }
    let errors = if v.errors.is_empty() {
        vec![format!("{what} exited {exit} without a success line")]
    } else {
        v.errors.clone()
    };
    Error::check(format!(
        "{what} -P {path} on {host} found problems:\n  - {}",
        errors.join("\n  - ")
    ))
    .on_host(host)
    .with_exit(exit)
    .with_remedy(remedies.join("; "))
}

impl Inner {
    /// Every package with its state.
    pub fn list_packages(&self) -> Result<Value> {
        let view = self.view()?;
        Ok(Value::Array(
            view.packages.iter().map(package_value).collect(),
        ))
    }

    /// One package: `cmviewcl`'s view plus toolkit maintenance (maintenance file present?).
    pub fn package_status(&self, name: &str) -> Result<Value> {
        let (view, p) = self.resolve_package(name)?;
        let mut v = package_value(&p);
        let m = self.or_unknown(self.maintenance_state(&view, &p))?;
        if let Value::Object(o) = &mut v {
            match m {
                Ok((on, conf)) => {
                    o.insert("maintenance".into(), Value::Bool(on));
                    o.insert(
                        "maintenance_file".into(),
                        Value::String(conf.maintenance_file(&p.name)),
                    );
                    o.insert(
                        "toolkit".into(),
                        serde_json::to_value(&conf.kind).unwrap_or(Value::Null),
                    );
                }
                Err(why) => {
                    o.insert("maintenance".into(), Value::Null);
                    o.insert("maintenance_error".into(), Value::String(why));
                }
            }
        }
        Ok(v)
    }

    /// Poll `cmviewcl` until `pred` holds for the package, or the deadline.
    fn wait_package(
        &self,
        vm: &str,
        what: &str,
        pred: impl Fn(&PackageView) -> bool,
    ) -> Result<WaitEnd<Option<PackageView>>> {
        self.ctx.poll(
            what,
            PACKAGE_DEADLINE,
            PACKAGE_POLL,
            || {
                let view = self.view()?;
                let p = view.package(vm).cloned();
                Ok((p.as_ref().is_some_and(&pred), p))
            },
            |p| {
                p.as_ref()
                    .map(|p| format!("{} {}/{}", p.name, p.status, p.state))
                    .unwrap_or_else(|| format!("{vm} not listed"))
            },
        )
    }

    /// A member of the package named by a script.
    fn resolve_member(&self, p: &PackageView, node: &str) -> Result<String> {
        validate_name("node", node)?;
        if p.node(node).is_none() {
            return Err(Error::usage(format!(
                "{node} is not in the node_name list of package {} ({})",
                p.name,
                members(p).join(", ")
            )));
        }
        Ok(node.to_string())
    }

    /// The host to send cluster-wide commands from: the owner, else the first VM host
    /// that is up in the cluster.
    fn command_host(&self, view: &ClusterView, p: Option<&PackageView>) -> Result<String> {
        if let Some(o) = p
            .and_then(|p| p.owner.as_deref())
            .filter(|o| self.topo.vm_host(o).is_some() && node_up(view, o))
        {
            return Ok(o.to_string());
        }
        self.topo
            .vm_hosts
            .iter()
            .find(|h| node_up(view, &h.name))
            .map(|h| h.name.clone())
            .ok_or_else(|| Error::check("no VM host of the inventory is up in the cluster"))
    }

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
        let o = self.observe_value(&vm, None, None, Some(super::migrate::SETTLE_DEADLINE))?;
        if o["settled"] != Value::Bool(true) {
            return Err(Error::needs_attention(format!(
                "{} after {} s; package switching of {vm} may still be disabled ({})",
                o["moving"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("; ")).unwrap_or_default(),
                super::migrate::SETTLE_DEADLINE.as_secs(),
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

    /// The package file on the owner / first member; for a package not in the cluster yet,
    /// on the first VM host that has it.
    pub(crate) fn find_conf(&self, name: &str) -> Result<ConfRead> {
        let vm = self.vm_name(name)?;
        let view = self.view()?;
        if let Some(p) = view.package(&vm) {
            let c = self.read_conf(&view, p)?;
            if c.text.is_some() {
                return Ok(c);
            }
        }
        let mut first = None;
        for h in &self.topo.vm_hosts {
            match self.read_conf_on(&h.name, &vm) {
                Ok(c) if c.text.is_some() => return Ok(c),
                Ok(c) => {
                    if first.is_none() {
                        first = Some(c)
                    }
                }
                Err(e) if is_cancel(&e) => return Err(e),
                Err(_) => {}
            }
        }
        Err(Error::check(format!(
            "no VM host has the package file {}",
            cmd::package_file(&vm)?
        ))
        .with_remedy(format!(
            "make it (package.make \"{vm}\") or deploy the package (package.deploy \"{vm}\")"
        )))
    }

    /// `#{path, host, text}` of the package file.
    pub fn read_config(&self, name: &str) -> Result<Value> {
        let c = self.find_conf(name)?;
        Ok(json!({"path": c.path, "host": c.host, "text": c.text, "kind": c.kind}))
    }

    /// The members a package file's `node_name` lines name (`*` = every VM host), in the
    /// inventory; falls back to `cmviewcl`'s list.
    fn members_of(&self, doc: Option<&PackageConf>, vm: &str) -> Result<Vec<String>> {
        let from_file: Vec<String> = doc
            .map(|d| d.node_names().into_iter().map(str::to_string).collect())
            .unwrap_or_default();
        let names: Vec<String> = if from_file.iter().any(|n| n == "*") {
            self.topo.vm_host_names()
        } else if !from_file.is_empty() {
            from_file
        } else {
            let view = self.view()?;
            match view.package(vm) {
                Some(p) => members(p),
                None => self.topo.vm_host_names(),
            }
        };
        let mut out = Vec::new();
        for n in names {
            if self.topo.vm_host(&n).is_none() {
                return Err(Error::check(format!(
                    "node_name {n} of package {vm} is not a VM host of the inventory"
                ))
                .with_remedy("add every cluster member to the inventory as a vm-host"));
            }
            if !out.contains(&n) {
                out.push(n);
            }
        }
        Ok(out)
    }

    /// Write the package file (on `host`, or on every member its `node_name` lines name),
    /// mode 0644, its folder made with `mkdir -p` and `chmod go-w`.
    pub fn write_config(&self, name: &str, text: &str, host: Option<&str>) -> Result<Value> {
        let vm = self.vm_name(name)?;
        let doc = PackageConf::parse(text)
            .map_err(|e| Error::usage(format!("the new package file cannot be read: {e}")))?;
        if let Some(pn) = doc.package_name() {
            if pn != vm {
                return Err(Error::usage(format!(
                    "the new package file names package_name {pn:?}, not {vm:?}"
                )));
            }
        }
        let hosts = match host {
            Some(h) => vec![self.resolve_host("host", h)?],
            None => self.members_of(Some(&doc), &vm)?,
        };
        let dir = cmd::package_dir(&vm)?;
        let path = cmd::package_file(&vm)?;
        self.keep_previous(&vm, &path, &hosts)?;
        for h in &hosts {
            self.mkdir_p(h, &dir)?;
            self.write_file(h, &path, PACKAGE_FILE_MODE, text.as_bytes())?;
            self.chmod_go_w(h, &dir)?;
        }
        self.ctx
            .ui
            .info(&format!("wrote {path} on {}", hosts.join(", ")));
        Ok(json!({"path": path, "hosts": hosts, "bytes": text.len()}))
    }

    /// B1 steps 1–2: `mkdir -p /etc/cmcluster/VM` and `cmmakepkg -m tkit/vtn/vtn -n VM F`
    /// (on `host` or the first VM host). An existing file is kept (says so).
    pub fn make(&self, name: &str, host: Option<&str>) -> Result<Value> {
        let vm = self.vm_name(name)?;
        let host = match host {
            Some(h) => self.resolve_host("host", h)?,
            None => self
                .topo
                .vm_hosts
                .first()
                .map(|h| h.name.clone())
                .ok_or_else(|| Error::usage("the inventory has no VM host"))?,
        };
        let dir = cmd::package_dir(&vm)?;
        let path = cmd::package_file(&vm)?;
        if let Some(text) = self.read_file(&host, &path)? {
            self.ctx.ui.info(&format!(
                "{path} already exists on {host}: kept as it is (edit it with package.write_config)"
            ));
            return Ok(json!({"path": path, "host": host, "text": text, "changed": false}));
        }
        self.mkdir_p(&host, &dir)?;
        self.ctx
            .run_ok(&cmd::cmmakepkg(&host, &vm, &path)?)
            .map_err(after_change)?;
        self.chmod_go_w(&host, &dir)?;
        let text = self.read_file(&host, &path)?.ok_or_else(|| {
            Error::check(format!("cmmakepkg ran on {host} but {path} does not exist"))
        })?;
        Ok(json!({"path": path, "host": host, "text": text, "changed": true}))
    }

    /// Copy the package directory from the host with the file to every member, not
    /// writable by group or others; the modes are read back.
    pub fn distribute(&self, name: &str) -> Result<Value> {
        let c = self.find_conf(name)?;
        let vm = self.vm_name(name)?;
        let hosts = self.members_of(c.doc.as_ref(), &vm)?;
        let mut to = hosts.clone();
        if !to.contains(&c.host) {
            to.push(c.host.clone());
        }
        let dir = cmd::package_dir(&vm)?;
        self.ctx.ui.step(
            "B1",
            &format!("copy {dir} from {} to {}", c.host, hosts.join(", ")),
        );
        let files = self.copy_dir(&dir, &c.host, &to)?;
        let mut modes = serde_json::Map::new();
        for h in &to {
            let e = self.stat(h, &dir)?.ok_or_else(|| {
                Error::check(format!("{dir} is missing on {h} after the copy")).on_host(h)
            })?;
            if e.group_or_other_writable() || !e.owner_executable() {
                return Err(Error::check(format!(
                    "{dir} on {h} is {} ({}) after chmod go-w",
                    e.mode, e.octal
                ))
                .on_host(h)
                .with_remedy(format!("`chmod go-w {dir}` on {h}")));
            }
            modes.insert(h.clone(), Value::String(e.mode.clone()));
        }
        Ok(json!({"source": c.host, "hosts": to, "dir": dir, "files": files, "modes": modes}))
    }

    /// `cmcheckconf -P F`: a verdict; a failed one is a `Check` error with remedies.
    pub fn check_config(&self, name: &str) -> Result<Value> {
        let c = self.find_conf(name)?;
        let out = self.ctx.run(&cmd::cmcheckconf(&c.host, &c.path)?)?;
        let v = cmcheckconf::parse(&format!("{}\n{}", out.stdout, out.stderr));
        if out.success() && v.ok {
            self.ctx
                .ui
                .info(&format!("cmcheckconf -P {}: no errors", c.path));
            return Ok(verdict_value(&c.host, &c.path, &v));
        }
        let e = verdict_error("cmcheckconf", &c.host, &c.path, &v, out.code());
        Err(self.put_back_previous(&self.vm_name(name)?, &c.path, e))
    }

    /// Before an edit of the package file on `hosts`: keep what each holds now, unless an
    /// earlier unapplied edit of this run kept it already (that one is the applied file).
    fn keep_previous(&self, vm: &str, path: &str, hosts: &[String]) -> Result<()> {
        let known: Vec<String> = self
            .previous()
            .get(vm)
            .map(|v| v.iter().map(|(h, _)| h.clone()).collect())
            .unwrap_or_default();
        let mut read = Vec::new();
        for h in hosts.iter().filter(|h| !known.contains(h)) {
            read.push((h.clone(), self.read_file(h, path)?));
        }
        self.previous()
            .entry(vm.to_string())
            .or_default()
            .extend(read);
        Ok(())
    }

    /// After a failed `cmcheckconf`: put the package file kept before this run's unapplied
    /// edits back on every member that had one, and say so in `e` (a member that had no
    /// file is named, its new file left for review). A failed write back makes the error
    /// "needs attention".
    fn put_back_previous(&self, vm: &str, path: &str, mut e: Error) -> Error {
        let Some(kept) = self.previous().remove(vm) else {
            return e;
        };
        let mut restored = Vec::new();
        let mut new_only = Vec::new();
        let mut failed = Vec::new();
        for (h, text) in &kept {
            match text {
                Some(t) => match self.write_file(h, path, PACKAGE_FILE_MODE, t.as_bytes()) {
                    Ok(()) => restored.push(h.clone()),
                    Err(w) => failed.push(format!("{h} ({})", w.message)),
                },
                None => new_only.push(h.clone()),
            }
        }
        if !restored.is_empty() {
            e.message.push_str(&format!(
                "\nthe previous {path} was restored on {} (the rejected edit is not kept)",
                restored.join(", ")
            ));
            e.remedy = Some(format!(
                "make the edit again, corrected (package.read_config / write_config), then check it; {}",
                e.remedy.take().unwrap_or_default()
            ));
        }
        if !new_only.is_empty() {
            e.message.push_str(&format!(
                "\n{path} did not exist before on {}: the rejected file is left there for review",
                new_only.join(", ")
            ));
        }
        if !failed.is_empty() {
            e.kind = ErrorKind::NeedsAttention;
            e.message.push_str(&format!(
                "\nthe previous {path} could NOT be restored on {}: the rejected edit is still there",
                failed.join(", ")
            ));
        }
        e
    }

    /// `cmapplyconf -P F` (confirmed with `y`): a verdict, then `cmviewcl` read back.
    /// Refused (nothing sent) for a guest on NFS whose NFS file system the file does not
    /// mount ([`Inner::check_nfs_entries`]), whatever the script before it did.
    pub fn apply_config(&self, name: &str) -> Result<Value> {
        let c = self.find_conf(name)?;
        let vm = self.vm_name(name)?;
        self.check_nfs_entries(&vm)?;
        self.ctx
            .ui
            .step("B1", &format!("cmapplyconf -P {} on {}", c.path, c.host));
        let out = self.ctx.run(&cmd::cmapplyconf(&c.host, &c.path)?)?;
        let v = cmcheckconf::parse(&format!("{}\n{}", out.stdout, out.stderr));
        if !(out.success() && v.ok) {
            return Err(verdict_error(
                "cmapplyconf",
                &c.host,
                &c.path,
                &v,
                out.code(),
            ));
        }
        let view = self.view()?;
        let p = view.package(&vm).ok_or_else(|| {
            Error::check(format!(
                "cmapplyconf reported success but cmviewcl does not list package {vm}"
            ))
        })?;
        // Applied: the new file is now the one to go back to.
        self.previous().remove(&vm);
        let mut r = verdict_value(&c.host, &c.path, &v);
        if let Value::Object(o) = &mut r {
            o.insert("package".into(), package_value(p));
        }
        Ok(r)
    }

    /// B2: `cmdeployvpkg -Q -P VM [-n N]… [-x merge -x appmon=SPEC]` on the host running
    /// the guest, then the file re-checked on every member and `cmviewcl` read.
    pub fn deploy(&self, name: &str, opts: &DeployOpts) -> Result<Value> {
        let vm = self.vm_name(name)?;
        for n in &opts.nodes {
            self.resolve_host("node", n)?;
        }
        let hosts = self.running_on(&vm)?;
        let host = match hosts.as_slice() {
            [one] => one.clone(),
            [] => {
                return Err(Error::check(format!(
                    "{vm} is not running on any VM host: cmdeployvpkg needs the guest running"
                ))
                .with_remedy(format!(
                    "start the guest first (hpvmstart -P {vm} on the VM host that should run it)"
                )))
            }
            several => {
                return Err(Error::needs_attention(format!(
                    "{vm} runs on several VM hosts at once: {}",
                    several.join(", ")
                )))
            }
        };
        // cmdeployvpkg rewrites an existing package file on every member: keep each one, so
        // a cmcheckconf that rejects the result puts them back.
        let path = cmd::package_file(&vm)?;
        if let Some(before) = self.read_file(&host, &path)? {
            if !opts.merge && !opts.replace {
                self.refuse_losing_redeploy(&vm, &host, &path, &before)?;
            }
            let mut hosts = self.members_of(PackageConf::parse(&before).ok().as_ref(), &vm)?;
            if !hosts.contains(&host) {
                hosts.insert(0, host.clone());
            }
            self.keep_previous(&vm, &path, &hosts)?;
        }
        self.deploy_only(&host, &vm, opts)
    }

    /// B0: `cmdeployvpkg` is the toolkit's; without the toolkit (`swlist`) on `host` there
    /// is nothing to run and no module `tkit/vtn/vtn` for the file it would write: a `Check`
    /// error before anything changes.
    pub(crate) fn require_toolkit(&self, host: &str, vm: &str) -> Result<()> {
        if self.installed(host, cmd::PRODUCT_TOOLKIT)?.is_some() {
            return Ok(());
        }
        Err(Error::check(format!(
            "the SG IVS toolkit ({}) is not installed on {host}, where {vm} runs: cmdeployvpkg cannot package it; nothing was changed",
            cmd::PRODUCT_TOOLKIT
        ))
        .on_host(host)
        .with_remedy(format!(
            "install the toolkit on every member: swinstall -s <depot> {}",
            cmd::PRODUCT_TOOLKIT
        )))
    }

    /// Before `cmdeployvpkg` without `-x merge` regenerates an existing package file:
    /// refuse (a check, nothing sent) when that would drop the file's application monitors
    /// (every service but the toolkit's guest monitor) or when Serviceguard has disabled
    /// node switching on a node (after a failover: the deployment's `cmmodpkg -e -n`
    /// would turn it back on), or its NFS file systems (added by hand, §8). The error lists
    /// what would be lost and how to go on.
    fn refuse_losing_redeploy(&self, vm: &str, host: &str, path: &str, text: &str) -> Result<()> {
        let mut lost = Vec::new();
        if let Ok(doc) = PackageConf::parse(text) {
            for s in doc.services() {
                if !s.cmd.contains("guest_monitor") && !s.cmd.contains("hpvmsg_mon") {
                    lost.push(format!(
                        "application monitor service {} (service_cmd {})",
                        s.name, s.cmd
                    ));
                }
            }
            // Added by hand (§8): a regenerated file would lose it.
            for d in nfs_mounts_in(&doc) {
                lost.push(format!(
                    "the NFS file system mounted on {d} (fs_type nfs; cmdeployvpkg does not add it)"
                ));
            }
        }
        let view = self.view()?;
        if let Some(p) = view.package(vm) {
            for n in &p.nodes {
                if n.switching() == Switching::Disabled {
                    lost.push(format!(
                        "node switching disabled on {} (Serviceguard's own record, e.g. after a failover; deploying enables it again)",
                        n.name
                    ));
                }
            }
        }
        if lost.is_empty() {
            return Ok(());
        }
        Err(Error::check(format!(
            "package {vm} exists already ({path} on {host}); cmdeployvpkg would regenerate it and lose:\n  - {}",
            lost.join("\n  - ")
        ))
        .on_host(host)
        .with_remedy(format!(
            "nothing was sent. To add a monitor to the existing package use hpvm/add-app-monitor (cmdeployvpkg -x merge); to change the package, edit {path} (package.read_config / write_config) and apply it; to regenerate it anyway and lose the above, deploy with replace: true (-p replace=yes), then add the monitors again and re-disable node switching with cmmodpkg -d -n NODE {vm}"
        )))
    }

    /// B2's one manual action: `cmdeployvpkg -Q -P VM …` on `host` (the guest's host), with
    /// its guard rails — the toolkit installed, no duplicate monitor, tapes and DVDs warned
    /// about — and its result re-checked (the file is the toolkit's, on every member, with
    /// the asked nodes and monitors). The volume groups of the guest's logical volumes that
    /// the file lacks are returned as `missing_vgs` (adding them is [`Inner::add_vgs`]).
    pub(crate) fn deploy_only(&self, host: &str, vm: &str, opts: &DeployOpts) -> Result<Value> {
        let args = DeployArgs {
            nodes: opts.nodes.clone(),
            merge: opts.merge,
            appmon: opts.appmon.iter().map(|a| a.to_spec()).collect(),
        };
        let c = cmd::cmdeployvpkg(host, vm, &args)?;
        self.require_toolkit(host, vm)?;
        let path = cmd::package_file(vm)?;
        let before = self.read_file(host, &path)?;
        refuse_duplicate_monitors(host, vm, &path, before.as_deref(), opts)?;
        // What cmdeployvpkg leaves out of the file (§4 note, §8): read before it runs.
        let storage = self
            .details(host, vm)?
            .map(|d| d.storage)
            .unwrap_or_default();
        warn_unpackaged_devices(&*self.ctx.ui, vm, &storage);
        self.ctx
            .ui
            .step("B2", &format!("easy deployment: {} on {host}", c.display()));
        let out = self.ctx.run(&c)?;
        if !out.success() {
            self.ctx.ui.warn(&format!(
                "cmdeployvpkg exited {}: {}; checking what it wrote",
                out.code(),
                out.stderr.trim()
            ));
        }
        // Re-check the result instead of trusting the exit code.
        let text = self.read_file(host, &path)?.ok_or_else(|| {
            Error::check(format!(
                "cmdeployvpkg ran on {host} but {path} does not exist there (exit {})",
                out.code()
            ))
            .on_host(host)
            .with_stderr(out.stderr.clone())
        })?;
        if !out.success() && before.as_deref() == Some(text.as_str()) {
            return Err(Error::check(format!(
                "cmdeployvpkg -P {vm} failed on {host} (exit {}) and left {path} as it was",
                out.code()
            ))
            .on_host(host)
            .with_command(c.display())
            .with_status(&out.status)
            .with_stderr(out.stderr.clone())
            .with_remedy("fix what cmdeployvpkg reports, then deploy again"));
        }
        let (kind, _) = super::package_kind(&text);
        if kind != super::PackageKind::Toolkit {
            return Err(Error::check(format!(
                "{path} on {host} after cmdeployvpkg (exit {}) is not a package of the SG IVS toolkit ({kind:?})",
                out.code()
            ))
            .on_host(host)
            .with_stderr(out.stderr.clone())
            .with_remedy("fix what cmdeployvpkg reports, then deploy again"));
        }
        let doc = PackageConf::parse(&text)
            .map_err(|e| Error::check(format!("{path} on {host} after cmdeployvpkg: {e}")))?;
        let mut problems = Vec::new();
        let file_nodes: Vec<String> = doc.node_names().into_iter().map(str::to_string).collect();
        for n in &opts.nodes {
            if !file_nodes.iter().any(|f| f == n || f == "*") {
                problems.push(format!("node_name {n} is missing from {path}"));
            }
        }
        let services = doc.services();
        for a in &opts.appmon {
            let wanted = format!("-service {}", a.command);
            if !services.iter().any(|s| s.cmd.contains(&wanted)) {
                problems.push(format!(
                    "no service runs `{}` (application monitor {})",
                    a.command, a.name
                ));
            }
        }
        let members = self.members_of(Some(&doc), vm)?;
        let mut differing = Vec::new();
        for m in members.iter().filter(|m| m.as_str() != host) {
            match self.read_file(m, &path)? {
                Some(t) if t == text => {}
                Some(_) => differing.push(format!("{m} (different content)")),
                None => differing.push(format!("{m} (missing)")),
            }
        }
        if !differing.is_empty() {
            problems.push(format!(
                "{path} is not the same on every member: {}",
                differing.join(", ")
            ));
        }
        if !problems.is_empty() {
            let mut e = Error::check(format!(
                "cmdeployvpkg -P {vm} on {host} (exit {}) left:\n  - {}",
                out.code(),
                problems.join("\n  - ")
            ))
            .on_host(host)
            .with_remedy(format!(
                "review {path}; distribute the package directory (package.distribute \"{vm}\") or deploy again"
            ));
            if !out.stderr.trim().is_empty() {
                e = e.with_stderr(out.stderr.clone());
            }
            return Err(e);
        }
        let missing_vgs = missing_vgs(&doc, &storage);
        let view = self.view()?;
        let in_cluster = view.package(vm).is_some();
        self.ctx.ui.info(&format!(
            "{path} written on {} ({} services){}",
            members.join(", "),
            services.len(),
            if in_cluster {
                ""
            } else {
                "; not applied yet: check and apply it (package.check, package.apply)"
            }
        ));
        Ok(json!({
            "vm": vm, "host": host, "path": path, "nodes": file_nodes, "members": members,
            "services": services.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
            "in_cluster": in_cluster, "exit": out.code(),
            "missing_vgs": missing_vgs, "added_vgs": [],
        }))
    }

    /// `df -n` of each file backing store on `host`: the ones on NFS, with their mount.
    fn nfs_stores(&self, host: &str, storage: &[StorageRow]) -> Result<Vec<(String, DfEntry)>> {
        let mut out = Vec::new();
        for s in storage.iter().filter(|s| s.kind() == StorageKind::File) {
            let dev = s.physical_device.as_str();
            if dev.is_empty() {
                continue;
            }
            let o = self.ctx.run_ok(&cmd::df_n(host, dev)?)?;
            let fs = df_n::parse(&o.stdout)
                .map_err(|e| Error::check(format!("df -n {dev} on {host}: {e}")).on_host(host))?;
            if let Some(e) = fs.into_iter().next().filter(DfEntry::is_nfs) {
                out.push((dev.to_string(), e));
            }
        }
        Ok(out)
    }

    /// §4: "review the logical volumes … add new volume groups": add a `vg` line for each
    /// of `vgs` the package file lacks (`vg X` and `vg /dev/X` name the same group), on every
    /// member its `node_name` lines name, the previous file kept for a rejected check; read
    /// back on each. One manual action (the edit of one file); the decision to add them is
    /// the script's. Those already there → nothing written.
    pub fn add_vgs(&self, name: &str, vgs: &[String]) -> Result<Value> {
        let vm = self.vm_name(name)?;
        for v in vgs {
            validate_name("volume group", v)?;
        }
        let c = self.find_conf(&vm)?;
        let text = c.text.clone().unwrap_or_default();
        let mut doc = PackageConf::parse(&text)
            .map_err(|e| Error::check(format!("{} on {}: {e}", c.path, c.host)))?;
        let have = vg_names(&doc);
        let mut added: Vec<String> = Vec::new();
        for v in vgs {
            if !have.iter().any(|h| h == v) && !added.contains(v) {
                doc.add("vg", v)
                    .map_err(|e| Error::check(format!("{}: adding vg {v}: {e}", c.path)))?;
                added.push(v.clone());
            }
        }
        let members = self.members_of(Some(&doc), &vm)?;
        if added.is_empty() {
            self.ctx.ui.info(&format!(
                "{} has a `vg` line for {} already: nothing to add",
                c.path,
                vgs.join(", ")
            ));
            return Ok(json!({"path": c.path, "hosts": members, "added": added}));
        }
        let new = doc.to_text();
        self.keep_previous(&vm, &c.path, &members)?;
        for m in &members {
            self.write_file(m, &c.path, PACKAGE_FILE_MODE, new.as_bytes())?;
        }
        for m in &members {
            let back = self.read_file(m, &c.path).map_err(after_change)?;
            if back.as_deref() != Some(new.as_str()) {
                return Err(Error::needs_attention(format!(
                    "{} on {m} does not read back as written after adding {}",
                    c.path,
                    added
                        .iter()
                        .map(|v| format!("vg {v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .on_host(m)
                .with_remedy(format!(
                    "compare {} on every member and correct it by hand",
                    c.path
                )));
            }
        }
        self.ctx.ui.info(&format!(
            "added {} to {} on {}",
            added
                .iter()
                .map(|v| format!("vg {v}"))
                .collect::<Vec<_>>()
                .join(", "),
            c.path,
            members.join(", ")
        ));
        Ok(json!({"path": c.path, "hosts": members, "added": added}))
    }

    /// [`Inner::check_nfs_entries`] as a verdict `#{check, ok, detail, remedy}` (the
    /// operation `package.check_nfs_entries`); errors other than its refusal are raised.
    pub fn nfs_entries_verdict(&self, name: &str) -> Result<Value> {
        let check = format!(
            "NFS file systems of {} in its package file",
            self.vm_name(name)?
        );
        match self.check_nfs_entries(name) {
            Ok(r) => {
                let n = r["nfs"].as_array().map_or(0, Vec::len);
                Ok(json!({"check": check, "ok": true, "remedy": Value::Null,
                    "detail": if n == 0 { "no backing store on NFS".to_string() } else { format!("{n} NFS backing store(s), mounted by the file") }}))
            }
            Err(e) if e.kind == ErrorKind::Check => {
                Ok(json!({"check": check, "ok": false, "detail": e.message, "remedy": e.remedy}))
            }
            Err(e) => Err(e),
        }
    }

    /// §8: "cmdeployvpkg does not add NFS to the configuration file as a backing store; add
    /// it by hand". A guest whose file backing store is on NFS (`df -n` where it runs, or
    /// where it is registered) is neither applied nor started until the package file mounts
    /// that file system: a `Check` error naming the `fs_*` lines to add. `package.apply` and
    /// `package.run` run this before they send; `#{nfs: [..]}` otherwise.
    pub fn check_nfs_entries(&self, name: &str) -> Result<Value> {
        let vm = self.vm_name(name)?;
        let hosts = self.guest_on_hosts(&vm)?;
        let at = hosts
            .iter()
            .filter(|h| h.details.is_some())
            .min_by_key(|h| h.presence != Presence::On);
        let Some(at) = at else {
            return Ok(json!({"vm": vm, "nfs": []}));
        };
        let storage = at
            .details
            .as_ref()
            .map(|d| d.storage.clone())
            .unwrap_or_default();
        let nfs = self.nfs_stores(&at.host, &storage)?;
        if nfs.is_empty() {
            return Ok(json!({"vm": vm, "nfs": []}));
        }
        let c = self.find_conf(&vm)?;
        let doc = PackageConf::parse(c.text.as_deref().unwrap_or_default())
            .map_err(|e| Error::check(format!("{} on {}: {e}", c.path, c.host)))?;
        refuse_missing_nfs(&c.host, &vm, &c.path, &doc, &nfs)?;
        Ok(json!({
            "vm": vm,
            "nfs": nfs.iter().map(|(dev, fs)| json!({"device": dev, "mount_point": fs.mount_point, "source": fs.source})).collect::<Vec<_>>(),
        }))
    }

    /// Remove the package (`cmdeployvpkg -P VM -U`, one command) and read back that
    /// `cmviewcl` no longer lists it; says whether the guest is left running or stopped.
    /// Refused (a check, nothing sent) unless the package is halted: halting it stops its
    /// guest, a decision the script hpvm/remove-package asks before `package.halt`. Asks
    /// nothing itself: the confirmation is the script's.
    pub fn remove(&self, name: &str) -> Result<Value> {
        let (view, p) = self.resolve_package(name)?;
        let vm = p.name.clone();
        if p.status() != Status::Down {
            return Err(Error::check(format!(
                "package {vm} is {}/{} on {}: it is not removed while it runs",
                p.status,
                p.state,
                p.owner.as_deref().unwrap_or("?")
            ))
            .with_remedy(format!(
                "halt it first (package.halt \"{vm}\"; this stops the VM), or run hpvm/remove-package -p package={vm}, which asks before halting it"
            )));
        }
        let host = self.command_host(&view, Some(&p))?;
        self.ctx.ui.step(
            "B3",
            &format!("remove package {vm}: cmdeployvpkg -P {vm} -U on {host}"),
        );
        self.ctx
            .run_ok(&cmd::cmdeployvpkg_remove(&host, &vm)?)
            .map_err(after_change)?;
        let view = self.view()?;
        if view.package(&vm).is_some() {
            return Err(Error::check(format!(
                "cmdeployvpkg -P {vm} -U ran but cmviewcl still lists package {vm}"
            )));
        }
        let running = self.running_on(&vm)?;
        let vm_state = if running.is_empty() {
            format!("{vm} is stopped (not running on any VM host)")
        } else {
            format!(
                "{vm} is left running on {} without Serviceguard protection",
                running.join(", ")
            )
        };
        self.ctx.ui.info(&format!(
            "package {vm} removed from the cluster; {vm_state}"
        ));
        Ok(json!({"package": vm, "removed": true, "running_on": running, "vm": vm_state}))
    }

    /// Back up the package directory on every member: its regular files copied with
    /// `cp -p` into `DIR/.backup/<YYYYMMDD-HHMMSS>/`.
    pub fn backup(&self, name: &str) -> Result<Value> {
        let vm = self.vm_name(name)?;
        let view = self.view()?;
        let hosts = match view.package(&vm) {
            Some(p) => {
                let ms: Vec<String> = members(p)
                    .into_iter()
                    .filter(|m| self.topo.vm_host(m).is_some())
                    .collect();
                ms
            }
            None => self.topo.vm_host_names(),
        };
        let dir = cmd::package_dir(&vm)?;
        let stamp = timestamp(self.now());
        let dest = format!("{dir}/.backup/{stamp}");
        let mut per_host = serde_json::Map::new();
        for h in &hosts {
            let Some(entries) = self.list_dir(h, &dir)? else {
                per_host.insert(h.clone(), Value::Null);
                continue;
            };
            let files: Vec<String> = entries
                .iter()
                .filter(|e| e.file_type == FileType::Regular)
                .map(|e| e.name.rsplit('/').next().unwrap_or(&e.name).to_string())
                .filter(|n| !n.is_empty())
                .collect();
            self.mkdir_p(h, &dest)?;
            for f in &files {
                self.ctx
                    .run_ok(&cmd::cp_p(
                        h,
                        &format!("{dir}/{f}"),
                        &format!("{dest}/{f}"),
                    )?)
                    .map_err(after_change)?;
            }
            per_host.insert(h.clone(), json!(files));
        }
        if per_host.values().all(Value::is_null) {
            return Err(Error::check(format!(
                "{dir} exists on no member ({}): nothing to back up",
                hosts.join(", ")
            )));
        }
        self.ctx
            .ui
            .info(&format!("package directory backed up to {dest}"));
        Ok(json!({"dir": dir, "backup": dest, "hosts": per_host}))
    }
}

/// The volume groups the file's `vg` lines name (`vg vg01` and `vg /dev/vg01` alike).
fn vg_names(doc: &PackageConf) -> Vec<String> {
    doc.get_all("vg")
        .into_iter()
        .map(|v| v.strip_prefix("/dev/").unwrap_or(v).to_string())
        .collect()
}

/// §4: the volume groups of the guest's logical volumes with no `vg` line in the file.
fn missing_vgs(doc: &PackageConf, storage: &[StorageRow]) -> Vec<String> {
    let have = vg_names(doc);
    let mut missing: Vec<String> = Vec::new();
    for vg in storage.iter().filter_map(StorageRow::volume_group) {
        if !have.iter().any(|h| h == vg) && !missing.iter().any(|m| m == vg) {
            missing.push(vg.to_string());
        }
    }
    missing
}

/// The `Guest Device` kinds `cmdeployvpkg` does not put in the package file (§4 note).
const UNPACKAGED_DEVICES: &[&str] = &["tape", "dvd", "burner", "changer"];

/// §4 note: "tapes, DVDs, burners and changers are not put in the package file": warn for
/// each such guest device of `hpvmstatus -P`.
fn warn_unpackaged_devices(ui: &dyn hascript_api::Ui, vm: &str, storage: &[StorageRow]) {
    for s in storage {
        let kind = s.guest_device.to_ascii_lowercase();
        if UNPACKAGED_DEVICES.contains(&kind.as_str()) {
            ui.warn(&format!(
                "{vm} has a {kind} ({} {}): cmdeployvpkg does not put tapes, DVDs, burners or changers in the package file (§4); make the device available on every node of the package by hand, or detach it before a failover",
                s.physical_storage, s.physical_device
            ));
        }
    }
}

/// The NFS mounts (`fs_type nfs…`) the package file declares: the `fs_directory` of each
/// `fs_name` block.
fn nfs_mounts_in(doc: &PackageConf) -> Vec<String> {
    let mut out = Vec::new();
    let mut dir: Option<String> = None;
    let mut nfs = false;
    let mut flush = |dir: &mut Option<String>, nfs: &mut bool| {
        if let Some(d) = dir.take() {
            if *nfs {
                out.push(d);
            }
        }
        *nfs = false;
    };
    for (k, v) in doc.entries() {
        match k {
            "fs_name" => flush(&mut dir, &mut nfs),
            "fs_directory" => dir = Some(v.trim_end_matches('/').to_string()),
            "fs_type" => nfs = v.to_ascii_lowercase().starts_with("nfs"),
            _ => {}
        }
    }
    flush(&mut dir, &mut nfs);
    out
}

/// §8: "cmdeployvpkg does not add NFS to the configuration file as a backing store; add
/// it by hand". A guest whose file backing store is on NFS is not applied and started
/// until the file mounts that NFS file system: a `Check` error naming the entries to add
/// (Managing Serviceguard A.11.20, `fs_server`), before any `cmapplyconf`/`cmrunpkg`.
fn refuse_missing_nfs(
    host: &str,
    vm: &str,
    path: &str,
    doc: &PackageConf,
    nfs: &[(String, DfEntry)],
) -> Result<()> {
    let declared = nfs_mounts_in(doc);
    let mut missing: Vec<&(String, DfEntry)> = Vec::new();
    for n in nfs {
        let mp = n.1.mount_point.trim_end_matches('/');
        if !declared.iter().any(|d| d == mp)
            && !missing.iter().any(|m| m.1.mount_point == n.1.mount_point)
        {
            missing.push(n);
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let mut entries = Vec::new();
    for (dev, fs) in &missing {
        let (server, export) = fs
            .source
            .split_once(':')
            .unwrap_or(("<server>", fs.source.as_str()));
        entries.push(format!(
            "for {dev} (mounted on {} from {}): fs_name {export} / fs_server {server} / fs_directory {} / fs_type nfs / fs_mount_opt \"-o llock\"",
            fs.mount_point, fs.source, fs.mount_point
        ));
    }
    Err(Error::check(format!(
        "{vm}'s backing store is on NFS and {path} (on {host}; cmdeployvpkg does not write it) does not mount it: cmdeployvpkg does not add NFS backing stores (§8); the package is neither applied nor started\n  - {}",
        entries.join("\n  - ")
    ))
    .on_host(host)
    .with_remedy(format!(
        "add to {path} on every member the module `module_name sg/filesystem` (if absent) and, per NFS file system, the lines above (Managing Serviceguard A.11.20, fs_server; the cluster needs CONFIGURED_IO_TIMEOUT_EXTENSION set), then check, apply and start it: cmcheckconf -P {path}; cmapplyconf -P {path}; hpvm/run-package -p package={vm}. Do not deploy again: cmdeployvpkg would regenerate the file without them"
    )))
}

/// Before `cmdeployvpkg -x appmon`: refuse (a check, nothing sent) a monitor that would
/// duplicate a service of the package file it merges into, or another monitor of the same
/// call. `cmdeployvpkg` writes the monitor as `service_name <name>` (Appendix A's
/// `ping_mon`); the name is compared in both forms, `<name>` and `<vm>-<name>`
/// ([`crate::appmon::monitor_clash`]), and the command sent to the guest too. Without
/// `merge` the file is made anew, so only the call's own monitors are compared.
fn refuse_duplicate_monitors(
    host: &str,
    vm: &str,
    path: &str,
    before: Option<&str>,
    opts: &DeployOpts,
) -> Result<()> {
    if opts.appmon.is_empty() {
        return Ok(());
    }
    let mut taken = match before.filter(|_| opts.merge) {
        Some(text) => PackageConf::parse(text)
            .map_err(|e| {
                Error::check(format!(
                    "{path} on {host}: {e}; the new application monitors cannot be checked against its services"
                ))
                .on_host(host)
                .with_remedy(format!("fix {path}, then add the monitor again"))
            })?
            .services(),
        None => Vec::new(),
    };
    for a in &opts.appmon {
        if let Some(c) = crate::appmon::monitor_clash(&taken, vm, &a.name, &a.command) {
            return Err(Error::check(format!(
                "application monitor {} of {vm} refused before cmdeployvpkg (it writes service_name {}): {c}",
                a.name, a.name
            ))
            .on_host(host)
            .with_remedy(c.remedy()));
        }
        taken.push(crate::pkgconf::ServiceBlock {
            name: a.name.clone(),
            cmd: a.service_cmd(vm),
            ..Default::default()
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn df(mount: &str, source: &str, ty: &str) -> DfEntry {
        df_n::parse(&format!("{mount} ({source} ) : {ty}\n"))
            .expect("df -n line")
            .remove(0)
    }

    #[test]
    fn nfs_mounts_are_read_from_fs_blocks() {
        let doc = PackageConf::parse(
            "package_name slvm1\nfs_name /dev/vg01/lvol1\nfs_directory /data\nfs_type vxfs\nfs_name /export/hpvm\nfs_server nfsserver\nfs_directory /var/opt/hpvm/nfs/\nfs_type nfs\nfs_mount_opt \"-o llock\"\n",
        )
        .expect("parses");
        assert_eq!(nfs_mounts_in(&doc), vec!["/var/opt/hpvm/nfs".to_string()]);
    }

    #[test]
    fn a_guest_on_nfs_passes_once_the_file_mounts_it() {
        let nfs = vec![(
            "/var/opt/hpvm/nfs/slvm1.img".to_string(),
            df("/var/opt/hpvm/nfs", "nfsserver:/export/hpvm", "nfs"),
        )];
        let without = PackageConf::parse("package_name slvm1\n").expect("parses");
        let e =
            refuse_missing_nfs("node1", "slvm1", "/x.conf", &without, &nfs).expect_err("refused");
        assert_eq!(e.kind, ErrorKind::Check);
        assert!(e.message.contains("fs_server nfsserver"), "{}", e.message);
        assert!(e.message.contains("fs_name /export/hpvm"), "{}", e.message);
        let with = PackageConf::parse(
            "package_name slvm1\nfs_name /export/hpvm\nfs_server nfsserver\nfs_directory /var/opt/hpvm/nfs\nfs_type nfs\n",
        )
        .expect("parses");
        refuse_missing_nfs("node1", "slvm1", "/x.conf", &with, &nfs).expect("declared");
        refuse_missing_nfs("node1", "slvm1", "/x.conf", &without, &[]).expect("no NFS store");
    }

    #[test]
    fn timestamps_are_utc_calendar_dates() {
        assert_eq!(timestamp(0), "19700101-000000");
        assert_eq!(timestamp(951_782_400), "20000229-000000");
        assert_eq!(timestamp(1_343_496_366), "20120728-172606");
    }

    #[test]
    fn deploy_options_are_read_and_checked() {
        let o = DeployOpts::from_value(&json!({
            "nodes": ["node1", "node2"], "appmon": "ping_mon:/apps/ping_mon:10:none:300", "merge": true,
        }))
        .expect("valid");
        assert_eq!(o.nodes, vec!["node1", "node2"]);
        assert_eq!(o.appmon.len(), 1);
        assert!(o.merge);
        let e = DeployOpts::from_value(&json!({"nodez": []})).expect_err("unknown key");
        assert_eq!(e.kind, ErrorKind::Usage);
        let e = DeployOpts::from_value(&json!({"appmon": "nonsense"})).expect_err("bad spec");
        assert_eq!(e.kind, ErrorKind::Usage);
        let e = DeployOpts::from_value(&json!({"nodes": ["a;b"]})).expect_err("bad node");
        assert_eq!(e.kind, ErrorKind::Usage);
        assert_eq!(
            DeployOpts::from_value(&Value::Null).expect("empty"),
            DeployOpts::default()
        );
    }
}
