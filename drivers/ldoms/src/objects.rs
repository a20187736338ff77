//! The four objects scripts see, for PRIMECLUSTER + LDoms + XSCF.

use std::sync::Arc;
use std::time::Duration;

use hascript_api::objects::RecoveryOutcome;
use hascript_api::{
    validate_name, Cluster, Error, ErrorKind, Fence, Hypervisor, Package, Placement, Result,
};
use serde_json::{json, Value};

use crate::commands as cmd;
use crate::facts::Inner;
use crate::locate::Location;
use crate::parse::cftool_n::NodeState;
use crate::parse::ldm_list_p::{DomainState, MigrationRole};
use crate::parse::log_scan;
use crate::parse::sdtool_s::{self, SdtoolStatus};

fn to_value<T: serde::Serialize>(v: &T) -> Result<Value> {
    serde_json::to_value(v)
        .map_err(|e| Error::new(ErrorKind::Parse, format!("cannot represent result: {e}")))
}

/// `cluster`: the PRIMECLUSTER guest cluster (CF and RMS).
pub struct LdomsCluster(pub(crate) Arc<Inner>);
/// `fence`: the shutdown facility with its XSCF agents.
pub struct LdomsFence(pub(crate) Arc<Inner>);
/// `hypervisor`: LDoms control domains and guest domains.
pub struct LdomsHypervisor(pub(crate) Arc<Inner>);
/// `package`: RMS userApplications.
pub struct LdomsPackage(pub(crate) Arc<Inner>);

fn parse_state(s: &str) -> Result<NodeState> {
    Ok(match s.to_ascii_uppercase().as_str() {
        "UP" => NodeState::Up,
        "DOWN" => NodeState::Down,
        "LEFTCLUSTER" => NodeState::LeftCluster,
        "COMINGUP" => NodeState::ComingUp,
        _ => {
            return Err(Error::usage(format!(
                "unknown CF node state {s:?}: use UP, DOWN, LEFTCLUSTER or COMINGUP"
            )))
        }
    })
}

/// A CF node as scripts see it: the generic `name` and `state` first (the same keys on
/// every driver), then the columns of `cftool -n` as printed.
fn node_value(n: &crate::parse::cftool_n::CfNode) -> Result<Value> {
    let mut m = serde_json::Map::new();
    m.insert("name".into(), Value::String(n.node.clone()));
    if let Value::Object(cols) = to_value(n)? {
        m.extend(cols);
    }
    Ok(Value::Object(m))
}

impl Cluster for LdomsCluster {
    fn nodes(&self) -> Result<Value> {
        let nodes = self.0.cf_nodes(None)?;
        nodes
            .iter()
            .map(node_value)
            .collect::<Result<Vec<_>>>()
            .map(Value::Array)
    }

    fn node(&self, name: &str) -> Result<Value> {
        validate_name("node", name)?;
        let nodes = self.0.cf_nodes(None)?;
        let n = nodes.iter().find(|n| n.node == name).ok_or_else(|| {
            let known: Vec<&str> = nodes.iter().map(|n| n.node.as_str()).collect();
            Error::usage(format!(
                "unknown CF node {name:?}: cftool -n lists {}",
                known.join(", ")
            ))
        })?;
        to_value(n)
    }

    fn wait_node_state(&self, name: &str, state: &str, timeout: Duration) -> Result<Value> {
        validate_name("node", name)?;
        let want = parse_state(state)?;
        // Ask a node other than the awaited one: it may be the one going away.
        let exclude = self
            .0
            .sf_config_on_any()
            .ok()
            .and_then(|rows| rows.into_iter().find(|r| r.cluster_host_name == name))
            .map(|r| r.domain_name);
        match self
            .0
            .wait_cf_state(name, want, exclude.as_deref(), timeout, None)?
        {
            Ok(()) => self.node(name),
            Err(last) => Err(Error::new(
                ErrorKind::Timeout,
                format!(
                    "{name} did not reach {state} within {} s (last seen: {last})",
                    timeout.as_secs()
                ),
            )),
        }
    }

    fn timeout(&self) -> Result<i64> {
        self.0
            .on_witness(None, |g| self.0.cf_timeout_on(g))
            .map(|(_, t)| t)
    }

    fn applications(&self) -> Result<Value> {
        let (_, apps) = self.0.on_witness(None, |g| self.0.apps_on(g))?;
        to_value(&apps)
    }

    fn health(&self) -> Result<Value> {
        let mut problems = Vec::new();
        for n in self.0.cf_nodes(None)? {
            if n.state() != NodeState::Up {
                problems.push(format!("CF node {} is {}", n.node, n.state));
            }
        }
        let (_, apps) = self.0.on_witness(None, |g| self.0.apps_on(g))?;
        for a in apps
            .iter()
            .filter(|a| !crate::checks::app_settled(&a.state()))
        {
            problems.push(format!("userApplication {} is {}", a.resource, a.state));
        }
        for g in &self.0.topo.guests {
            let t = self.0.cf_timeout_on(&g.name)?;
            if t != self.0.topo.cf_timeout {
                problems.push(format!(
                    "CF timeout on {} is {t} (normal {})",
                    g.name, self.0.topo.cf_timeout
                ));
            }
            match self.0.sdtool_on(&g.name)? {
                SdtoolStatus::Table(rows) => {
                    let v = sdtool_s::verdict(&rows);
                    if v != sdtool_s::AgentVerdict::Healthy {
                        problems.push(format!("shutdown facility on {}: {v:?}", g.name));
                    }
                }
                SdtoolStatus::NotRunning { .. } => {
                    problems.push(format!("shutdown facility not running on {}", g.name))
                }
            }
        }
        Ok(json!({"ok": problems.is_empty(), "problems": problems}))
    }

    fn messages(&self, pattern: &str, since_run: bool) -> Result<Value> {
        let mut hits = Vec::new();
        for g in &self.0.topo.guests {
            for file in [cmd::MESSAGES, cmd::SWITCHLOG] {
                let text = match self.0.log_text(&g.name, file, since_run) {
                    Ok(t) => t,
                    Err(e) if e.kind == ErrorKind::Cancelled => return Err(e),
                    Err(_) => continue,
                };
                let lines: Vec<(usize, String)> = if let Ok(n) = pattern.parse::<u32>() {
                    log_scan::find_message(&text, n)
                        .into_iter()
                        .map(|h| (h.line_no, h.line))
                        .collect()
                } else if pattern == "WRP" {
                    log_scan::find_time_sync(&text)
                        .into_iter()
                        .map(|h| (h.line_no, h.line))
                        .collect()
                } else {
                    text.lines()
                        .enumerate()
                        .filter(|(_, l)| l.contains(pattern))
                        .map(|(i, l)| (i + 1, l.to_string()))
                        .collect()
                };
                for (n, l) in lines {
                    hits.push(json!({"host": g.name, "file": file, "line_no": n, "line": l}));
                }
            }
        }
        Ok(Value::Array(hits))
    }
}

impl Inner {
    /// `clsnmpsetup -l` from any guest that answers.
    pub(crate) fn sf_config_on_any(&self) -> Result<Vec<crate::parse::clsnmpsetup_l::SfConfigRow>> {
        self.on_witness(None, |g| self.sf_config_on(g))
            .map(|(_, r)| r)
    }
}

impl Fence for LdomsFence {
    fn agents(&self) -> Result<Value> {
        let mut out = Vec::new();
        for g in &self.0.topo.guests {
            match self.0.sdtool_on(&g.name)? {
                SdtoolStatus::Table(rows) => {
                    let v = sdtool_s::verdict(&rows);
                    out.push(json!({"host": g.name, "running": true, "verdict": format!("{v:?}"), "rows": rows}));
                }
                SdtoolStatus::NotRunning { raw } => {
                    out.push(json!({"host": g.name, "running": false, "verdict": "NotRunning", "rows": [], "raw": raw}))
                }
            }
        }
        Ok(Value::Array(out))
    }

    fn config(&self) -> Result<Value> {
        to_value(&self.0.sf_config_on_any()?)
    }

    /// 17.3.1.2 step 2; a verdict also settles the migration routines of the guests whose
    /// step 1 this run did (see `Inner::settle_after_verify`).
    fn verify(&self) -> Result<Value> {
        let v = self.0.verify_fence()?;
        self.0.settle_after_verify(&v);
        Ok(v)
    }

    /// `sdtool -b` on every guest node where the shutdown facility is not running. No
    /// recovery routine: each step only adds protection, so a start stopped half-way leaves
    /// every node fenced or as the call found it, and undoing it (stopping SF again) would
    /// take protection away; calling it again starts SF only where it is still stopped.
    fn start(&self) -> Result<Value> {
        let mut started = Vec::new();
        for g in &self.0.topo.guests {
            if matches!(self.0.sdtool_on(&g.name)?, SdtoolStatus::NotRunning { .. }) {
                self.0.ctx.run_ok(&cmd::sdtool_start(&g.name))?;
                started.push(g.name.clone());
            }
        }
        Ok(json!({"started": started}))
    }

    /// `sdtool -e` on every guest node where the shutdown facility runs, read first on all
    /// of them; under the routine `restore_fence` (registered before the first `sdtool -e`),
    /// which starts SF again where this call found it running, should the call stop
    /// half-way.
    fn stop(&self) -> Result<Value> {
        self.0.stop_fence()
    }
}

impl Inner {
    /// `fence.stop()`: read `sdtool -s` on every guest node (nothing changes until all of
    /// them answered), lock them, register `restore_fence` for the nodes where SF runs,
    /// then `sdtool -e` on each. Completed → the routine is not needed (fencing is off on
    /// purpose); failed half-way → it runs at once and the error says what it did;
    /// interrupted → it stays pending for the run.
    pub(crate) fn stop_fence(&self) -> Result<Value> {
        let mut running = Vec::new();
        for g in &self.topo.guests {
            if matches!(self.sdtool_on(&g.name)?, SdtoolStatus::Table(_)) {
                running.push(g.name.clone());
            }
        }
        if running.is_empty() {
            self.ctx
                .ui
                .info("the shutdown facility is not running on any guest node: nothing to stop");
            self.settle_inherited_restore_fence();
            return Ok(json!({"stopped": []}));
        }
        self.ctx.involve(&running)?;
        let guard = self.ctx.register_recovery(
            &format!(
                "start the shutdown facility again where fence.stop() found it running ({})",
                running.join(", ")
            ),
            restore_fence_routine(&running),
        )?;
        let res = (|| {
            let mut stopped = Vec::new();
            for h in &running {
                self.ctx.run_ok(&cmd::sdtool_stop(h))?;
                stopped.push(h.clone());
            }
            Ok(stopped)
        })();
        let stopped = guard.settle_call(res, || {
            self.ctx.ui.step(
                "recovery",
                "fence.stop() did not complete: start the shutdown facility again where it ran (state-aware)",
            );
            let r = self.restore_fence(&running)?;
            Ok(restore_fence_summary(&r))
        })?;
        self.settle_inherited_restore_fence();
        Ok(json!({"stopped": stopped}))
    }

    /// A resumed run's `fence.stop()` completed what the interrupted one began: the
    /// `restore_fence` routines it inherited are not needed either.
    fn settle_inherited_restore_fence(&self) {
        for e in self.ctx.recoveries.pending() {
            let ours = e.inherited
                && e.routine
                    .as_ref()
                    .is_some_and(|r| r["driver"] == "ldoms" && r["routine"] == RESTORE_FENCE);
            if ours {
                self.ctx.recoveries.settle(
                    e.id,
                    RecoveryOutcome::NotNeeded,
                    "driver",
                    Some("fence.stop() completed in the resumed run"),
                );
            }
        }
    }

    /// The routine `restore_fence`: on each of `guests` (inventory guest names, where SF ran
    /// before `fence.stop()`), read `sdtool -s`; where SF is not running, `sdtool -b` and
    /// read it back. Nodes not listed are left as they are. Safe to repeat: a second run
    /// finds SF running and sends nothing. A node that cannot be read or started is named in
    /// a `NeedsAttention` error, after every other node was handled.
    pub(crate) fn restore_fence(&self, guests: &[String]) -> Result<Value> {
        let mut started = Vec::new();
        let mut already = Vec::new();
        let mut problems = Vec::new();
        for name in guests {
            let Some(g) = self.topo.guests.iter().find(|g| g.name == *name) else {
                problems.push(format!("{name} is not a guest node of the inventory"));
                continue;
            };
            let state = match self.sdtool_on(&g.name) {
                Ok(s) => s,
                Err(e) if e.kind == ErrorKind::Cancelled => return Err(e),
                Err(e) => {
                    problems.push(format!("{}: sdtool -s: {}", g.name, e.message));
                    continue;
                }
            };
            if matches!(state, SdtoolStatus::Table(_)) {
                already.push(g.name.clone());
                continue;
            }
            let after = self
                .ctx
                .run_ok(&cmd::sdtool_start(&g.name))
                .and_then(|_| self.sdtool_on(&g.name));
            match after {
                Ok(SdtoolStatus::Table(_)) => {
                    self.ctx
                        .ui
                        .info(&format!("shutdown facility started again on {}", g.name));
                    started.push(g.name.clone());
                }
                Ok(SdtoolStatus::NotRunning { raw }) => problems.push(format!(
                    "{}: still not running after sdtool -b ({})",
                    g.name,
                    raw.trim()
                )),
                Err(e) if e.kind == ErrorKind::Cancelled => return Err(e),
                Err(e) => problems.push(format!("{}: {}", g.name, e.message)),
            }
        }
        if !already.is_empty() {
            self.ctx.ui.info(&format!(
                "shutdown facility running on {}: nothing to do there",
                already.join(", ")
            ));
        }
        if !problems.is_empty() {
            return Err(Error::needs_attention(format!(
                "the shutdown facility could not be restored everywhere: {}{}",
                problems.join("; "),
                if started.is_empty() {
                    String::new()
                } else {
                    format!(" (started again on {})", started.join(", "))
                }
            ))
            .with_remedy(format!(
                "start it by hand with `{} -b` on each node named, then check it with ldoms/verify-fence",
                cmd::SDTOOL
            )));
        }
        Ok(json!({"started": started, "already_running": already}))
    }
}

/// The name of `fence.stop()`'s recovery routine in its description.
pub(crate) const RESTORE_FENCE: &str = "restore_fence";

/// The description of `fence.stop()`'s routine: the guest nodes where SF ran when it began.
pub(crate) fn restore_fence_routine(guests: &[String]) -> Value {
    json!({"driver": "ldoms", "routine": RESTORE_FENCE, "guests": guests})
}

/// What `restore_fence` did, in words.
fn restore_fence_summary(r: &Value) -> String {
    let list = |k: &str| {
        r[k].as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    };
    match (list("started").as_str(), list("already_running").as_str()) {
        ("", "") => "nothing to restore".to_string(),
        ("", a) => format!("the shutdown facility still runs on {a}: nothing was stopped"),
        (s, "") => format!("the shutdown facility runs again on {s}, as the call found it"),
        (s, a) => format!(
            "the shutdown facility runs again on {s} and still runs on {a}, as the call found it"
        ),
    }
}

impl Hypervisor for LdomsHypervisor {
    /// One row per domain of every control domain (control domains themselves left out),
    /// with the keys of [`guest`](Self::guest) that one row can know: `name` (the domain),
    /// `host` (the control domain where it runs; `()` when stopped there or one end of a
    /// migration), `state` (`running`, `stopped` or `migrating`), `control_domain` (the
    /// control domain that lists this row), `ldm_state` (`active`, `bound`, `inactive`, …
    /// as `ldm list -p` prints it), `flags`, `migration` (`none`, `source`, `target`,
    /// `error`).
    fn guests(&self) -> Result<Value> {
        let mut out = Vec::new();
        for cd in &self.0.topo.control_domains {
            for d in self.0.domains(&cd.name)? {
                if d.is_control() {
                    continue;
                }
                let moving = d.migration() != MigrationRole::None;
                let runs = d.state() == DomainState::Active && !moving;
                let state = match (runs, moving) {
                    (true, _) => "running",
                    (false, true) => "migrating",
                    (false, false) => "stopped",
                };
                out.push(json!({
                    "name": d.name(), "host": if runs { Some(&cd.name) } else { None },
                    "state": state, "control_domain": cd.name,
                    "ldm_state": d.get("state").unwrap_or(""),
                    "flags": d.flags(), "migration": format!("{:?}", d.migration()).to_lowercase(),
                }));
            }
        }
        Ok(Value::Array(out))
    }

    /// Where one guest of the inventory is, read from every control domain: `name` (the
    /// domain), `host` (the control domain where it runs, `()` when it does not run),
    /// `state` (`running`, `stopped`, `migrating`, `missing`: no control domain lists it,
    /// `ambiguous`: several do, outside a migration), `control_domain` (where it is
    /// settled, running or stopped; `()` otherwise), `inventory_host` (the guest's OS host in
    /// the inventory, where `cftool` and `sdtool` run), `ldm_state` (`active` when running,
    /// `bound`/`inactive` when stopped, else `()`), `source` and `target` (the ends of a
    /// migration under way, else `()`), `control_domains` (every control domain that lists
    /// it when `ambiguous`, else `[]`).
    fn guest(&self, name: &str) -> Result<Value> {
        let g = self.0.resolve_guest(name)?;
        let loc = self.0.locate(&g.domain)?;
        let mut v = json!({
            "name": g.domain, "host": null, "control_domain": null, "inventory_host": g.name,
            "ldm_state": null, "source": null, "target": null, "control_domains": [],
        });
        if let (Value::Object(m), Value::Object(l)) = (&mut v, to_value(&loc)?) {
            // `state`, `control_domain`, `ldm_state`, `source`, `target`, `control_domains`.
            m.extend(l);
            if let Location::Running { control_domain } = &loc {
                m.insert("host".into(), Value::String(control_domain.clone()));
                m.insert("ldm_state".into(), Value::String("active".into()));
            }
        }
        Ok(v)
    }

    fn hosts(&self) -> Result<Value> {
        to_value(&self.0.topo.control_domains)
    }

    fn start(&self, guest: &str) -> Result<Value> {
        let g = self.0.resolve_guest(guest)?;
        let loc = self.0.locate(&g.domain)?;
        let Location::Stopped { control_domain, .. } = &loc else {
            return Err(Error::check(format!(
                "cannot start: {}",
                loc.describe(&g.domain)
            )));
        };
        // 17.3.1.1 note: starting before the node is DOWN makes SF, CRM and RMS fail on it.
        let cf = self.0.cf_name_of(&g)?;
        let nodes = self.0.cf_nodes(Some(&g.domain))?;
        if let Some(n) = nodes.iter().find(|n| n.node == cf) {
            if n.state() != NodeState::Down {
                return Err(Error::check(format!(
                    "{cf} ({}) is {} in cftool -n: starting the guest before it is DOWN makes SF, CRM and RMS fail on it (17.3.1.1 note)",
                    g.domain, n.state
                ))
                .with_remedy("wait until the node is DOWN (about 600 s after clovmmigrate -p), or run ldoms/recover-migration"));
            }
        }
        self.0
            .ctx
            .run_ok(&cmd::ldm_start(control_domain, &g.domain))?;
        Ok(json!({"guest": g.domain, "control_domain": control_domain, "started": true}))
    }

    fn stop(&self, guest: &str, force: bool) -> Result<Value> {
        let g = self.0.resolve_guest(guest)?;
        let loc = self.0.locate(&g.domain)?;
        let Location::Running { control_domain } = &loc else {
            return Err(Error::check(format!(
                "cannot stop: {}",
                loc.describe(&g.domain)
            )));
        };
        if !force {
            let cf = self.0.cf_name_of(&g)?;
            let nodes = self.0.cf_nodes(Some(&g.domain))?;
            if nodes
                .iter()
                .any(|n| n.node == cf && n.state() == NodeState::Up)
            {
                return Err(Error::check(format!(
                    "{cf} ({}) is UP in the guest cluster: stopping its domain would take a live node down; refused (pass #{{force: true}} to do it anyway)",
                    g.domain
                )));
            }
        }
        self.0
            .ctx
            .run_ok(&cmd::ldm_stop(control_domain, &g.domain))?;
        Ok(json!({"guest": g.domain, "control_domain": control_domain, "stopped": true}))
    }

    /// The live migration is the procedure script `ldoms/live-migration` (the engine runs
    /// it for `hypervisor.migrate`); the driver offers its single steps as operations.
    fn migrate(&self, _guest: &str, _target: &str) -> Result<Value> {
        Err(Error::new(
            ErrorKind::Unsupported,
            "on LDoms, hypervisor.migrate runs the procedure ldoms/live-migration",
        ))
    }

    fn placement(&self, guest: &str) -> Result<Value> {
        let g = self.0.resolve_guest(guest)?;
        Ok(Placement::to_value(&self.0.placement_of(&g)?))
    }

    fn group(&self, guest: &str) -> Result<Value> {
        let g = self.0.resolve_guest(guest)?;
        let members: Vec<&str> = self
            .0
            .topo
            .guests
            .iter()
            .map(|g| g.domain.as_str())
            .collect();
        Ok(json!({"guest": g.domain, "kind": "guest_cluster", "members": members}))
    }
}

impl Package for LdomsPackage {
    fn list(&self) -> Result<Value> {
        let (_, apps) = self.0.on_witness(None, |g| self.0.apps_on(g))?;
        to_value(&apps)
    }

    fn status(&self, name: &str) -> Result<Value> {
        validate_name("userApplication", name)?;
        let (_, apps) = self.0.on_witness(None, |g| self.0.apps_on(g))?;
        let a = apps
            .iter()
            .find(|a| a.resource == name)
            .ok_or_else(|| Error::usage(format!("unknown userApplication {name:?}")))?;
        to_value(a)
    }
}

impl Inner {
    /// The verified end state of Part C for one guest, read back from the cluster.
    pub fn summary(&self, guest: &str) -> Result<Value> {
        let g = self.resolve_guest(guest)?;
        let loc = self.locate(&g.domain)?;
        let mut timeouts = serde_json::Map::new();
        let mut sf = serde_json::Map::new();
        for h in &self.topo.guests {
            let t = match self.cf_timeout_on(&h.name) {
                Ok(t) => Value::from(t),
                Err(e) if e.kind == ErrorKind::Cancelled => return Err(e),
                Err(e) => Value::String(format!("unknown ({})", e.message)),
            };
            timeouts.insert(h.name.clone(), t);
            let v = match self.sdtool_on(&h.name) {
                Ok(SdtoolStatus::Table(rows)) => {
                    let v = sdtool_s::verdict(&rows);
                    let words: Vec<String> = rows
                        .iter()
                        .map(|r| format!("{}/{}", r.test_state, r.init_state))
                        .collect::<std::collections::BTreeSet<_>>()
                        .into_iter()
                        .collect();
                    format!(
                        "running, {v:?} ({} agents: {})",
                        rows.len(),
                        words.join(", ")
                    )
                }
                Ok(SdtoolStatus::NotRunning { .. }) => "not running".to_string(),
                Err(e) if e.kind == ErrorKind::Cancelled => return Err(e),
                Err(e) => format!("unknown ({})", e.message),
            };
            sf.insert(h.name.clone(), Value::String(v));
        }
        let row = self
            .sf_config_on_any()
            .ok()
            .and_then(|rows| rows.into_iter().find(|r| r.domain_name == g.domain));
        let row_ok = match (&row, loc.control_domain()) {
            (Some(r), Some(cd)) => self.topo.control_domain(cd).map(|c| {
                r.ppar_id_num() == Some(c.ppar_id)
                    && r.ip_address1 == c.xscf_lan0
                    && r.ip_address2 == c.xscf_lan1
            }),
            _ => None,
        };
        Ok(json!({
            "guest": g.domain,
            "location": loc.describe(&g.domain),
            "control_domain": loc.control_domain(),
            "cf_timeout": timeouts,
            "shutdown_facility": sf,
            "clsnmpsetup_row": row,
            "clsnmpsetup_matches_box": row_ok,
        }))
    }
}
