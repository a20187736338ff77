//! The application monitor's failure test (B4 step 6): which service monitors the guest's
//! application, its process, the kill, and the waits for Serviceguard's reaction (restart
//! or failover).

use std::time::Duration;

use hascript_api::operations::{opt_secs, opt_str};
use hascript_api::{validate_name, Error, ErrorKind, Result};
use serde_json::{json, Value};

use super::{TEST_DEADLINE, TEST_POLL};
use crate::commands as cmd;
use crate::facts::Inner;
use crate::parse::cmviewcl_line::{MaxRestarts, PackageView, Status};
use crate::parse::ps_ef;
use crate::procedure::after_change;
use hascript_api::WaitEnd;

use crate::appmon::{monitor_of, MonitorService};

/// What one poll of the failure test saw.
#[derive(Debug, Clone)]
struct Seen {
    owner: Option<String>,
    status: String,
    restarts: Option<u32>,
}

/// A non-negative whole number from an options map (`None` when absent).
fn opt_u32(m: &serde_json::Map<String, Value>, key: &str, func: &str) -> Result<Option<u32>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| {
                Error::usage(format!(
                    "{func}: option `{key}` must be a whole number, not {v}"
                ))
            }),
    }
}

fn describe(s: &Seen) -> String {
    format!(
        "package {} on {}, restarts {}",
        s.status,
        s.owner.as_deref().unwrap_or("no node"),
        s.restarts
            .map(|n| n.to_string())
            .unwrap_or_else(|| "-".into())
    )
}

impl Inner {
    /// The application monitor `appmon` (its name or service name; `None`: the first
    /// `cmappmgr` service) of the running package `package`, and the guest it watches.
    fn monitor(
        &self,
        package: &str,
        appmon: Option<&str>,
    ) -> Result<(PackageView, MonitorService, String)> {
        let (view, p) = self.resolve_package(package)?;
        let vm = p.name.clone();
        let conf = self.read_conf(&view, &p)?;
        let doc = conf.doc.as_ref().ok_or_else(|| {
            Error::check(format!(
                "{} on {} is not a modular package file: its services cannot be read",
                conf.path, conf.host
            ))
        })?;
        let monitors: Vec<MonitorService> = doc
            .services()
            .iter()
            .filter_map(|s| monitor_of(&s.name, &s.cmd))
            .collect();
        let mon = match appmon {
            Some(a) => {
                validate_name("application monitor", a)?;
                monitors
                    .iter()
                    .find(|m| m.service == a || m.service == format!("{vm}-{a}"))
                    .cloned()
                    .ok_or_else(|| {
                        Error::usage(format!(
                            "package {vm} has no application monitor {a:?}; its cmappmgr services: {}",
                            if monitors.is_empty() { "none".to_string() } else { monitors.iter().map(|m| m.service.clone()).collect::<Vec<_>>().join(", ") }
                        ))
                    })?
            }
            None => monitors.first().cloned().ok_or_else(|| {
                Error::check(format!(
                    "package {vm} has no application monitor (no cmappmgr service in {})",
                    conf.path
                ))
                .with_remedy(format!("add one first: hascript run hpvm/add-app-monitor -p package={vm} -p appmon=<name>:<command>:<timeout>:<restart>:<halt_timeout>"))
            })?,
        };
        let guest = self
            .topo
            .guest(&mon.node)
            .or_else(|| self.topo.guest(&vm))
            .map(|g| g.name.clone())
            .ok_or_else(|| {
                Error::usage(format!(
                    "the monitor's guest {} is not an inventory host of role vm-guest: ps and kill run inside it",
                    mon.node
                ))
            })?;
        Ok((p, mon, guest))
    }

    /// B4 step 6 (read, before the test): the monitor `appmon` of the running package
    /// `package` and its service as `cmviewcl` shows it. Refused unless the package is up
    /// on a node, the monitor's service is up and its guest is an inventory guest.
    /// `#{pkg, owner, service, guest, command, restarts, max_restarts, limit, clock}`:
    /// `limit` the number of restarts (() when unlimited or not a number), `clock` the
    /// run's clock in seconds (the start of the test's deadline).
    pub fn app_monitor(&self, package: &str, appmon: Option<&str>) -> Result<Value> {
        let (p, mon, guest) = self.monitor(package, appmon)?;
        let vm = p.name.clone();
        let Some(owner) = p.owner.clone().filter(|_| p.status() == Status::Up) else {
            return Err(Error::check(format!(
                "package {vm} is not running ({}/{}): the monitor is tested on a running package",
                p.status, p.state
            ))
            .with_remedy(format!(
                "start it first: hascript run hpvm/run-package -p package={vm}"
            )));
        };
        let sv = p
            .services
            .iter()
            .find(|s| s.name == mon.service)
            .ok_or_else(|| {
                Error::check(format!(
                    "cmviewcl shows no service {} for package {vm}: apply the package configuration first (cmapplyconf)",
                    mon.service
                ))
            })?;
        if sv.status() != Status::Up {
            return Err(Error::check(format!(
                "service {} of {vm} is {}, not up: nothing to test",
                sv.name, sv.status
            )));
        }
        let before = sv.restarts().ok_or_else(|| {
            Error::new(
                ErrorKind::Parse,
                format!(
                    "cmviewcl printed restarts={:?} for service {}: not a number",
                    sv.restarts, sv.name
                ),
            )
        })?;
        let limit = match sv.max_restarts() {
            MaxRestarts::Times(n) => json!(n),
            _ => Value::Null,
        };
        Ok(json!({
            "pkg": vm,
            "owner": owner,
            "service": mon.service,
            "guest": guest,
            "command": mon.command,
            "restarts": before,
            "max_restarts": sv.max_restarts,
            "unlimited": sv.max_restarts() == MaxRestarts::Unlimited,
            "limit": limit,
            "clock": self.now(),
        }))
    }

    /// B4 step 6 (read): the PID of the process in the guest that runs the monitored
    /// command of service `service` of `package` (`ps -ef`); () when none does; an error
    /// when several do.
    pub fn app_process(&self, package: &str, service: &str) -> Result<Value> {
        let (_, mon, guest) = self.monitor(package, Some(service))?;
        Ok(match self.find_app(&guest, &mon.command)? {
            Some(p) => json!(p),
            None => Value::Null,
        })
    }

    /// B4 step 6: `kill -9 pid` in the guest of monitor `service` of `package`. Refused
    /// unless `pid` is the one process in the guest that runs the monitored command (read
    /// with `ps -ef` just before): nothing else is ever killed. `#{pid, at, killed}`
    /// (`killed` false when the process had already ended).
    pub fn kill_app(&self, package: &str, service: &str, pid: i64) -> Result<Value> {
        let (_, mon, guest) = self.monitor(package, Some(service))?;
        let pid = u32::try_from(pid)
            .ok()
            .filter(|p| *p > 1)
            .ok_or_else(|| Error::usage(format!("kill_app: {pid} is not a process ID")))?;
        let at = self.now();
        match self.find_app(&guest, &mon.command)? {
            None => {
                self.ctx
                    .ui
                    .info(&format!("PID {pid} in {guest} had already ended"));
                return Ok(json!({"pid": pid, "at": at, "killed": false}));
            }
            Some(p) if p != pid => {
                return Err(Error::check(format!(
                    "PID {pid} does not run the monitored application `{}` in {guest}: PID {p} does; nothing was killed",
                    mon.command
                )));
            }
            Some(_) => {}
        }
        let c = cmd::kill_9(&guest, pid)?;
        let out = self.ctx.run(&c).map_err(after_change)?;
        let at = self.now();
        if out.success() {
            self.ctx.ui.info(&format!("killed PID {pid} in {guest}"));
            return Ok(json!({"pid": pid, "at": at, "killed": true}));
        }
        if out.stderr.contains("no such process") {
            self.ctx
                .ui
                .info(&format!("PID {pid} in {guest} had already ended"));
            return Ok(json!({"pid": pid, "at": at, "killed": false}));
        }
        Err(after_change(
            Error::new(
                ErrorKind::Command,
                format!("kill -9 {pid} failed in {guest}: {}", out.stderr.trim()),
            )
            .on_host(&guest)
            .with_command(c.display())
            .with_status(&out.status),
        ))
    }

    /// What is left of a failure test's deadline: `timeout` from `since` (run's clock).
    fn test_left(
        &self,
        o: &serde_json::Map<String, Value>,
        func: &str,
    ) -> Result<(Duration, Duration)> {
        let timeout = opt_secs(o, "timeout", func)?.unwrap_or(TEST_DEADLINE);
        if timeout.as_secs() > 86_400 {
            return Err(Error::usage(format!(
                "{func}: option `timeout` must be at most 86400 seconds"
            )));
        }
        let since = match o.get("since") {
            None | Some(Value::Null) => self.now(),
            Some(v) => v.as_u64().ok_or_else(|| {
                Error::usage(format!(
                    "{func}: option `since` must be the run's clock in seconds"
                ))
            })?,
        };
        let spent = self.now().saturating_sub(since);
        Ok((timeout, timeout.saturating_sub(Duration::from_secs(spent))))
    }

    /// B4 step 6 (read, after a kill): wait until the restart count of `service` of
    /// `package` rises above `opts.above` or the package leaves `opts.owner`. `opts`:
    /// `#{owner, above, since, timeout}`. `#{owner, status, restarts, moved}`; a timeout
    /// error naming the package log.
    pub fn wait_service_reaction(
        &self,
        package: &str,
        service: &str,
        o: &serde_json::Map<String, Value>,
    ) -> Result<Value> {
        const F: &str = "package.wait_service_reaction";
        let vm = self.vm_name(package)?;
        validate_name("service", service)?;
        let owner = self.resolve_host("owner", opt_str(o, "owner", F)?.unwrap_or(""))?;
        let last = opt_u32(o, "above", F)?.unwrap_or(0);
        let (timeout, left) = self.test_left(o, F)?;
        let end = self
            .ctx
            .poll(
                &format!("restart count of {service} above {last}"),
                left,
                TEST_POLL,
                || {
                    let s = self.seen(&vm, service)?;
                    let moved = s.owner.as_deref() != Some(owner.as_str());
                    let rose = s.restarts.is_some_and(|n| n > last);
                    Ok((moved || rose, s))
                },
                describe,
            )
            .map_err(after_change)?;
        let s = match end {
            WaitEnd::Done(s) => s,
            WaitEnd::Deadline(s) => {
                return Err(after_change(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "the monitor did not react within {} s of the kill: {service} ({})",
                        timeout.as_secs(),
                        describe(&s)
                    ),
                )
                .with_remedy(format!("look at the package log /var/adm/cmcluster/log/{vm}.log on {owner} and at syslog (hascript run hpvm/diagnose -p package={vm})"))
                ));
            }
        };
        let moved = s.owner.as_deref() != Some(owner.as_str());
        Ok(json!({"owner": s.owner, "status": s.status, "restarts": s.restarts, "moved": moved}))
    }

    /// B4 step 6 (read, failover test): wait for the monitored application of `service`
    /// to run again in the guest under a PID other than `opts.pid`. `opts`: `#{pid, owner,
    /// since, timeout}`. The new PID, or () when the package left `opts.owner` meanwhile.
    pub fn wait_app_restarted(
        &self,
        package: &str,
        service: &str,
        o: &serde_json::Map<String, Value>,
    ) -> Result<Value> {
        const F: &str = "package.wait_app_restarted";
        let (p, mon, guest) = self.monitor(package, Some(service))?;
        let vm = p.name.clone();
        let owner = self.resolve_host("owner", opt_str(o, "owner", F)?.unwrap_or(""))?;
        let old = opt_u32(o, "pid", F)?.unwrap_or(0);
        let (timeout, left) = self.test_left(o, F)?;
        let end = self
            .ctx
            .poll(
                &format!("`{}` restarted in {guest}", mon.command),
                left,
                TEST_POLL,
                || {
                    let s = self.seen(&vm, &mon.service)?;
                    if s.owner.as_deref() != Some(owner.as_str()) {
                        return Ok((true, None));
                    }
                    let found = self.find_app(&guest, &mon.command)?.filter(|p| *p != old);
                    Ok((found.is_some(), found))
                },
                |f| match f {
                    Some(p) => format!("PID {p}"),
                    None => "not yet".into(),
                },
            )
            .map_err(after_change)?;
        match end {
            WaitEnd::Done(Some(p)) => Ok(json!(p)),
            WaitEnd::Done(None) => Ok(Value::Null),
            WaitEnd::Deadline(_) => Err(after_change(Error::new(
                ErrorKind::Timeout,
                format!(
                    "`{}` did not come back in {guest} within {} s",
                    mon.command,
                    timeout.as_secs()
                ),
            ))),
        }
    }

    /// B4 step 6 (read, failover test): wait for `package` to be up on a node other than
    /// `opts.from`, then check that its guest runs there and only there, and read whether
    /// Serviceguard disabled node switching on `from`. `opts`: `#{from, service, since,
    /// timeout}`. `#{owner, restarts, node_switching_disabled_on}` (the restart count of
    /// `service` on the new owner); a `needs_attention` error otherwise.
    pub fn verify_failed_over(
        &self,
        package: &str,
        o: &serde_json::Map<String, Value>,
    ) -> Result<Value> {
        const F: &str = "package.verify_failed_over";
        let vm = self.vm_name(package)?;
        let from = self.resolve_host("from", opt_str(o, "from", F)?.unwrap_or(""))?;
        let service = opt_str(o, "service", F)?.unwrap_or("").to_string();
        if !service.is_empty() {
            validate_name("service", &service)?;
        }
        let (timeout, left) = self.test_left(o, F)?;
        let end = self
            .ctx
            .poll(
                &format!("package {vm} up on another node"),
                left,
                TEST_POLL,
                || {
                    let s = self.seen(&vm, &service)?;
                    let up =
                        s.status == "up" && s.owner.as_deref().is_some_and(|o| o != from.as_str());
                    Ok((up, s))
                },
                describe,
            )
            .map_err(after_change)?;
        let s = match end {
            WaitEnd::Done(s) => s,
            WaitEnd::Deadline(s) => {
                return Err(Error::needs_attention(format!(
                    "package {vm} left {from} but did not come up on another node within {} s ({})",
                    timeout.as_secs(),
                    describe(&s)
                ))
                .with_remedy(format!("look at the package log on every member and at cmviewcl; start it with hascript run hpvm/run-package -p package={vm} -p node=<node>")));
            }
        };
        let new_owner = s.owner.clone().unwrap_or_default();
        let runs = self.running_on(&vm).map_err(after_change)?;
        if runs != [new_owner.clone()] {
            return Err(Error::needs_attention(format!(
                "package {vm} is up on {new_owner}, but the guest runs on {}",
                if runs.is_empty() {
                    "no VM host".into()
                } else {
                    runs.join(", ")
                }
            )));
        }
        let (_, p2) = self.resolve_package(&vm).map_err(after_change)?;
        let off = p2
            .nodes
            .iter()
            .find(|n| n.name == from)
            .is_some_and(|n| !n.switching().is_enabled());
        Ok(json!({
            "owner": new_owner,
            "restarts": s.restarts,
            "node_switching_disabled_on": if off { Value::String(from) } else { Value::Null },
        }))
    }

    /// The PID of the process in `guest` that runs `command`; an error when several do.
    fn find_app(&self, guest: &str, command: &str) -> Result<Option<u32>> {
        let out = self.ctx.run_ok(&cmd::ps_ef(guest))?;
        let ps = ps_ef::parse(&out.stdout).map_err(|e| crate::facts::parse_err(guest, e))?;
        let hits: Vec<&ps_ef::PsEntry> = ps.iter().filter(|p| p.runs(command)).collect();
        match hits.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one.pid)),
            several => Err(Error::check(format!(
                "several processes in {guest} run `{command}` (PIDs {}): the test does not guess which one the monitor watches",
                several.iter().map(|p| p.pid.to_string()).collect::<Vec<_>>().join(", ")
            ))),
        }
    }

    /// The package's owner and status and the service's restart count, from `cmviewcl`.
    fn seen(&self, vm: &str, service: &str) -> Result<Seen> {
        let view = self.view()?;
        let p: Option<&PackageView> = view.package(vm);
        Ok(Seen {
            owner: p.and_then(|p| p.owner.clone()),
            status: p
                .map(|p| p.status.clone())
                .unwrap_or_else(|| "absent".into()),
            restarts: p
                .and_then(|p| p.services.iter().find(|s| s.name == service))
                .and_then(|s| s.restarts()),
        })
    }
}
