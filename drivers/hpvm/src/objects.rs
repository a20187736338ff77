//! The four objects scripts see, for Serviceguard + Integrity VM + the SG IVS toolkit.

use std::sync::Arc;
use std::time::Duration;

use hascript_api::{
    validate_name, Cluster, Error, ErrorKind, Fence, Hypervisor, Package, Placement, Result,
};
use serde_json::{json, Value};

use crate::commands as cmd;
use crate::facts::{is_cancel, Inner};
use crate::parse::cmviewcl_line::{ClusterView, NodeView, PackageState, Status};
use crate::parse::hpvmstatus::{GuestState, VmDetails};
use crate::parse::log_scan;
use crate::procedure::observed::Presence;
use crate::procedure::package::{package_value, DeployOpts};
use hascript_api::WaitEnd;

/// `cluster`: the Serviceguard cluster of the VM hosts.
pub struct HpvmCluster(pub(crate) Arc<Inner>);
/// `fence`: Serviceguard has no shutdown facility; its cluster lock / quorum server.
pub struct HpvmFence(pub(crate) Arc<Inner>);
/// `hypervisor`: Integrity VM hosts and guests.
pub struct HpvmHypervisor(pub(crate) Arc<Inner>);
/// `package`: Serviceguard packages of VM guests (the SG IVS toolkit).
pub struct HpvmPackage(pub(crate) Arc<Inner>);

/// Poll interval of node waits.
const NODE_POLL: Duration = Duration::from_secs(10);

/// A node as scripts see it: `name` and `state` first (the same keys on every driver),
/// then `status` and every key `cmviewcl` printed.
fn node_value(n: &NodeView) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("name".into(), Value::String(n.name.clone()));
    m.insert("state".into(), Value::String(n.state.clone()));
    m.insert("status".into(), Value::String(n.status.clone()));
    for (k, v) in &n.attrs {
        if !m.contains_key(k) {
            m.insert(k.clone(), Value::String(v.clone()));
        }
    }
    Value::Object(m)
}

fn find_node<'a>(view: &'a ClusterView, name: &str) -> Result<&'a NodeView> {
    view.node(name).ok_or_else(|| {
        let known: Vec<&str> = view.nodes.iter().map(|n| n.name.as_str()).collect();
        Error::usage(format!(
            "unknown node {name:?}: cmviewcl lists {}",
            known.join(", ")
        ))
    })
}

/// Cluster-lock and quorum-server keys `cmviewcl -v -f line` printed (cluster or node).
fn lock_rows(view: &ClusterView) -> Vec<Value> {
    let is_lock = |k: &str| {
        let k = k.to_ascii_lowercase();
        k.contains("quorum") || k.contains("cluster_lock") || k.contains("lock_")
    };
    let mut rows: Vec<Value> = view
        .cluster
        .attrs
        .iter()
        .filter(|(k, _)| is_lock(k))
        .map(|(k, v)| json!({"object": "cluster", "key": k, "value": v}))
        .collect();
    for n in &view.nodes {
        rows.extend(
            n.attrs
                .iter()
                .filter(|(k, _)| is_lock(k))
                .map(|(k, v)| json!({"object": format!("node:{}", n.name), "key": k, "value": v})),
        );
    }
    rows
}

fn no_fencing_object() -> Error {
    Error::new(
        ErrorKind::Unsupported,
        "Serviceguard has no shutdown facility to query: fencing is Serviceguard's own (the cluster lock disk or the quorum server), and cmviewcl printed nothing about them",
    )
    .with_remedy("use cluster.health() for the cluster's state (nodes, packages)")
}

impl Cluster for HpvmCluster {
    fn nodes(&self) -> Result<Value> {
        let view = self.0.view()?;
        Ok(Value::Array(view.nodes.iter().map(node_value).collect()))
    }

    fn node(&self, name: &str) -> Result<Value> {
        validate_name("node", name)?;
        let view = self.0.view()?;
        Ok(node_value(find_node(&view, name)?))
    }

    fn wait_node_state(&self, name: &str, state: &str, timeout: Duration) -> Result<Value> {
        validate_name("node", name)?;
        let want = state.trim().to_ascii_lowercase();
        if !matches!(
            want.as_str(),
            "up" | "down" | "unknown" | "running" | "halted" | "failed" | "reforming"
        ) {
            return Err(Error::usage(format!(
                "unknown Serviceguard node state {state:?}: use a status (up, down, unknown) or a state (running, halted, failed, reforming)"
            )));
        }
        // The node must exist now.
        find_node(&self.0.view()?, name)?;
        let what = format!("{name} {want} in cmviewcl");
        // Ask a node other than the awaited one: it may be the one going away.
        let end = self.0.ctx.poll(
            &what,
            timeout,
            NODE_POLL,
            || {
                let (_, view) = self
                    .0
                    .on_witness(Some(name), |h| self.0.view_on(h))
                    .or_else(|e| {
                        if is_cancel(&e) {
                            Err(e)
                        } else {
                            self.0.on_witness(None, |h| self.0.view_on(h))
                        }
                    })?;
                let seen = view
                    .node(name)
                    .map(|n| (n.status.to_ascii_lowercase(), n.state.to_ascii_lowercase()))
                    .unwrap_or_else(|| ("absent".into(), "absent".into()));
                Ok((seen.0 == want || seen.1 == want, seen))
            },
            |(s, t)| format!("{s}/{t}"),
        )?;
        match end {
            WaitEnd::Done(_) => self.node(name),
            WaitEnd::Deadline((s, t)) => Err(Error::new(
                ErrorKind::Timeout,
                format!(
                    "{name} did not reach {want} within {} s (last seen: {s}/{t})",
                    timeout.as_secs()
                ),
            )),
        }
    }

    fn timeout(&self) -> Result<i64> {
        Err(Error::new(
            ErrorKind::Unsupported,
            "cluster.timeout() is PRIMECLUSTER's CF timeout; Serviceguard has no such setting to read here (its heartbeat and node timeouts are in the cluster configuration file)",
        )
        .with_remedy("use cluster.health() or cluster.nodes()"))
    }

    fn applications(&self) -> Result<Value> {
        self.0.list_packages()
    }

    fn health(&self) -> Result<Value> {
        let view = self.0.view()?;
        let mut problems = Vec::new();
        if view.cluster.status() != Status::Up {
            problems.push(format!(
                "cluster {} is {}",
                view.cluster.name, view.cluster.status
            ));
        }
        if let Some(c) = &self.0.topo.cluster {
            if *c != view.cluster.name {
                problems.push(format!(
                    "the inventory names cluster {c}, cmviewcl says {}",
                    view.cluster.name
                ));
            }
        }
        for n in &view.nodes {
            if n.status() != Status::Up {
                problems.push(format!("node {} is {}/{}", n.name, n.status, n.state));
            }
        }
        for h in &self.0.topo.vm_hosts {
            if view.node(&h.name).is_none() {
                problems.push(format!(
                    "VM host {} of the inventory is not a node of cluster {}",
                    h.name, view.cluster.name
                ));
            }
        }
        let mut packages = Vec::new();
        for p in &view.packages {
            let mut pp = Vec::new();
            if p.status() != Status::Up || p.state() != PackageState::Running {
                pp.push(format!("package {} is {}/{}", p.name, p.status, p.state));
            } else if !p.autorun().is_enabled() {
                pp.push(format!(
                    "package {} runs with package switching {} (no failover)",
                    p.name, p.autorun
                ));
            }
            for n in p.nodes.iter().filter(|n| !n.switching().is_enabled()) {
                pp.push(format!(
                    "package {}: node switching on {} is {}",
                    p.name, n.name, n.switching
                ));
            }
            for s in p.services.iter().filter(|s| s.status() != Status::Up) {
                if p.status() == Status::Up {
                    pp.push(format!(
                        "package {}: service {} is {}",
                        p.name, s.name, s.status
                    ));
                }
            }
            packages.push(json!({
                "name": p.name, "status": p.status, "state": p.state, "owner": p.owner,
                "switching": p.autorun().is_enabled(), "ok": pp.is_empty(),
            }));
            problems.extend(pp);
        }
        Ok(json!({
            "ok": problems.is_empty(), "problems": problems, "cluster": view.cluster.name,
            "status": view.cluster.status, "packages": packages,
        }))
    }

    fn messages(&self, pattern: &str, since_run: bool) -> Result<Value> {
        let mut files = vec![cmd::SYSLOG.to_string()];
        if let Ok(view) = self.0.view() {
            for p in &view.packages {
                files.push(cmd::package_log(&p.name)?);
            }
        }
        for g in &self.0.topo.guests {
            let f = cmd::package_log(&g.vm)?;
            if !files.contains(&f) {
                files.push(f);
            }
        }
        let codes: Vec<&str> = crate::procedure::diagnose::ROWS
            .iter()
            .map(|(c, _)| *c)
            .chain(["monitoring_disabled"])
            .collect();
        let mut hits = Vec::new();
        for h in &self.0.topo.vm_hosts {
            for file in &files {
                let text = match self.0.log_text(&h.name, file, since_run) {
                    Ok(t) => t,
                    Err(e) if is_cancel(&e) => return Err(e),
                    Err(_) => continue,
                };
                if codes.contains(&pattern) {
                    for f in log_scan::scan(&text)
                        .into_iter()
                        .filter(|f| f.kind.code() == pattern)
                    {
                        hits.push(json!({"host": h.name, "file": file, "line_no": f.line_no, "line": f.line}));
                    }
                } else {
                    for (i, l) in text
                        .lines()
                        .enumerate()
                        .filter(|(_, l)| l.contains(pattern))
                    {
                        hits.push(
                            json!({"host": h.name, "file": file, "line_no": i + 1, "line": l}),
                        );
                    }
                }
            }
        }
        Ok(Value::Array(hits))
    }
}

impl Fence for HpvmFence {
    fn agents(&self) -> Result<Value> {
        let rows = lock_rows(&self.0.view()?);
        if rows.is_empty() {
            return Err(no_fencing_object());
        }
        Ok(Value::Array(rows))
    }

    fn config(&self) -> Result<Value> {
        self.agents()
    }

    fn verify(&self) -> Result<Value> {
        let rows = lock_rows(&self.0.view()?);
        if rows.is_empty() {
            return Err(no_fencing_object());
        }
        let problems: Vec<String> = rows
            .iter()
            .filter(|r| {
                r["key"].as_str().is_some_and(|k| k.ends_with("status"))
                    && r["value"].as_str().is_some_and(|v| v != "up")
            })
            .map(|r| {
                format!(
                    "{} {} = {}",
                    r["object"].as_str().unwrap_or(""),
                    r["key"].as_str().unwrap_or(""),
                    r["value"].as_str().unwrap_or("")
                )
            })
            .collect();
        let ok = problems.is_empty();
        Ok(json!({
            "ok": ok, "problems": problems, "rows": rows,
            "remedy": if ok { Value::Null } else { Value::String("check the cluster lock disk or the quorum server named above (Serviceguard's Managing Serviceguard guide, cluster lock)".into()) },
        }))
    }

    fn start(&self) -> Result<Value> {
        Err(Error::new(
            ErrorKind::Unsupported,
            "fence.start(): Serviceguard fencing (cluster lock, quorum server) is not started or stopped separately",
        )
        .with_remedy("use cluster.health()"))
    }

    fn stop(&self) -> Result<Value> {
        Err(Error::new(
            ErrorKind::Unsupported,
            "fence.stop(): Serviceguard fencing (cluster lock, quorum server) is not started or stopped separately",
        )
        .with_remedy("use cluster.health()"))
    }
}

/// A guest's details as scripts see them.
fn details_value(d: &VmDetails) -> Value {
    json!({
        "storage": d.storage.iter().map(|s| json!({
            "device": s.guest_device, "adaptor": s.adaptor, "kind": s.physical_storage,
            "backing": s.physical_device, "volume_group": s.volume_group(),
        })).collect::<Vec<_>>(),
        "networks": d.network.iter().map(|n| json!({
            "interface": n.interface, "adaptor": n.adaptor, "vswitch": n.vswitch,
            "port": n.port, "mac_address": n.mac_address,
        })).collect::<Vec<_>>(),
    })
}

/// The generic `state` of a guest running on `on` VM hosts (one vocabulary with LDoms).
fn state_word(on: usize) -> &'static str {
    match on {
        0 => "stopped",
        1 => "running",
        _ => "ambiguous",
    }
}

impl HpvmHypervisor {
    /// The guard rail of manual §2 / B3: `hpvmstart`/`hpvmstop` on a packaged VM only in
    /// toolkit maintenance. Returns whether the VM is packaged (and in maintenance).
    fn guard(&self, vm: &str, what: &str) -> Result<Option<String>> {
        let view = self.0.view()?;
        let Some(p) = view.package(vm) else {
            return Ok(None);
        };
        let (on, conf) = self.0.maintenance_state(&view, p)?;
        if on {
            self.0.ctx.ui.info(&format!(
                "package {vm} is in toolkit maintenance on {}: {what} allowed",
                conf.host
            ));
            return Ok(Some(conf.host));
        }
        Err(Error::check(format!(
            "{vm} is packaged (package {vm} is {}/{}{}): {what} on a packaged VM is refused outside the toolkit's maintenance mode (manual §2 note)",
            p.status,
            p.state,
            p.owner.as_deref().map(|o| format!(" on {o}")).unwrap_or_default()
        ))
        .with_remedy(format!(
            "use the package instead (package.run / package.halt \"{vm}\"), or enter maintenance mode first (package.maintenance(\"{vm}\", true)) and leave it afterwards"
        )))
    }
}

impl Hypervisor for HpvmHypervisor {
    /// One row per VM any VM host knows: `name` (the VM), `host` (the VM host where it runs,
    /// `()` when none does), `state` (`running`, `stopped`, `ambiguous`: on more than one
    /// host), `vm_state` (`hpvmstatus`'s word on `host`, else on the first host that has
    /// it: `On (OS)`, `Off (NR)`, …), `running_on`, `states` (host → `hpvmstatus` word),
    /// `vm_number`, `os`, `registered`, `not_runnable`.
    fn guests(&self) -> Result<Value> {
        let mut order: Vec<String> = Vec::new();
        let mut by: std::collections::HashMap<
            String,
            Vec<(String, crate::parse::hpvmstatus::VmRow)>,
        > = std::collections::HashMap::new();
        for h in &self.0.topo.vm_hosts {
            for r in self.0.vms(&h.name)? {
                if !order.contains(&r.name) {
                    order.push(r.name.clone());
                }
                by.entry(r.name.clone())
                    .or_default()
                    .push((h.name.clone(), r));
            }
        }
        let mut out = Vec::new();
        for name in order {
            let rows = by.remove(&name).unwrap_or_default();
            let on: Vec<&(String, _)> = rows.iter().filter(|(_, r)| r.state().is_on()).collect();
            let main = on.first().copied().or(rows.first());
            let Some((_, first)) = main else { continue };
            out.push(json!({
                "name": name,
                "vm_number": first.vm_number,
                "os": first.os_type,
                "state": state_word(on.len()),
                "vm_state": first.state,
                "host": on.first().map(|(h, _)| h.clone()),
                "running_on": on.iter().map(|(h, _)| h.clone()).collect::<Vec<_>>(),
                "registered": rows.iter().map(|(h, _)| h.clone()).collect::<Vec<_>>(),
                "not_runnable": rows.iter().filter(|(_, r)| r.state() == GuestState::NotRunnable).map(|(h, _)| h.clone()).collect::<Vec<_>>(),
                "states": rows.iter().map(|(h, r)| (h.clone(), Value::String(r.state.clone()))).collect::<serde_json::Map<_, _>>(),
            }));
        }
        Ok(Value::Array(out))
    }

    /// One VM: the keys of a [`guests`](Self::guests) row that one VM has (`name`, `host`,
    /// `state`, `vm_state`, `running_on`, `states`, `vm_number`, `os`) and `inventory_host`,
    /// `packaged`, `package_owner`, `package_status`, `storage`, `networks` (`()`/`[]` when
    /// no VM host can show its details).
    fn guest(&self, name: &str) -> Result<Value> {
        let vm = self.0.vm_name(name)?;
        let hosts = self.0.guest_on_hosts(&vm)?;
        let view = self.0.view()?;
        let pkg = view.package(&vm);
        if hosts.iter().all(|h| h.presence == Presence::Absent) && pkg.is_none() {
            return Err(Error::usage(format!(
                "unknown guest {vm:?}: no VM host of the inventory ({}) knows it",
                self.0.topo.vm_host_names().join(", ")
            )));
        }
        let running: Vec<&str> = hosts
            .iter()
            .filter(|h| h.presence == Presence::On)
            .map(|h| h.host.as_str())
            .collect();
        let main = hosts
            .iter()
            .find(|h| h.presence == Presence::On)
            .or_else(|| hosts.iter().find(|h| h.details.is_some()));
        let mut v = json!({
            "name": vm,
            "inventory_host": self.0.topo.guest(&vm).map(|g| g.name.clone()),
            "host": running.first(),
            "running_on": running,
            "states": hosts.iter().map(|h| (h.host.clone(), Value::String(
                h.details.as_ref().map(|d| d.vm.state.clone()).unwrap_or_else(|| match &h.presence {
                    Presence::Unreadable(w) => format!("unreadable ({w})"),
                    _ => "not registered".into(),
                })))).collect::<serde_json::Map<_, _>>(),
            "packaged": pkg.is_some(),
            "package_owner": pkg.and_then(|p| p.owner.clone()),
            "package_status": pkg.map(|p| format!("{}/{}", p.status, p.state)),
            "state": state_word(running.len()),
            "vm_state": null, "vm_number": null, "os": null, "storage": [], "networks": [],
        });
        if let (Some(m), Value::Object(o)) = (main.and_then(|h| h.details.as_ref()), &mut v) {
            o.insert("vm_number".into(), Value::String(m.vm.vm_number.clone()));
            o.insert("os".into(), Value::String(m.vm.os_type.clone()));
            o.insert("vm_state".into(), Value::String(m.vm.state.clone()));
            if let Value::Object(d) = details_value(m) {
                o.extend(d);
            }
        }
        Ok(v)
    }

    fn hosts(&self) -> Result<Value> {
        let view = self.0.or_unknown(self.0.view())?;
        Ok(Value::Array(
            self.0
                .topo
                .vm_hosts
                .iter()
                .map(|h| {
                    let n = view.as_ref().ok().and_then(|v| v.node(&h.name));
                    json!({
                        "name": h.name,
                        "status": n.map(|n| n.status.clone()),
                        "state": n.map(|n| n.state.clone()),
                    })
                })
                .collect(),
        ))
    }

    fn start(&self, guest: &str) -> Result<Value> {
        let vm = self.0.vm_name(guest)?;
        let hosts = self.0.guest_on_hosts(&vm)?;
        if let Some(h) = hosts.iter().find(|h| h.presence == Presence::On) {
            self.0
                .ctx
                .ui
                .info(&format!("{vm} already runs on {}: nothing to do", h.host));
            return Ok(json!({"guest": vm, "host": h.host, "started": false}));
        }
        if hosts.iter().all(|h| h.presence == Presence::Absent) {
            return Err(Error::usage(format!(
                "unknown guest {vm:?}: no VM host of the inventory knows it"
            )));
        }
        let maint_host = self.guard(&vm, "hpvmstart")?;
        let runnable: Vec<&str> = hosts
            .iter()
            .filter(|h| h.presence == Presence::Off)
            .map(|h| h.host.as_str())
            .collect();
        let host = match (&maint_host, runnable.as_slice()) {
            (Some(m), _) if runnable.contains(&m.as_str()) => m.clone(),
            (Some(m), _) => {
                return Err(Error::check(format!(
                    "{vm} is in maintenance on {m}, but is not runnable there ({})",
                    crate::procedure::locate::describe_hosts(
                        &vm,
                        &hosts.iter().map(|h| (h.host.clone(), h.presence.clone())).collect::<Vec<_>>()
                    )
                )))
            }
            (None, [one]) => one.to_string(),
            (None, []) => {
                return Err(Error::check(format!(
                    "{vm} is runnable on no VM host ({})",
                    crate::procedure::locate::describe_hosts(
                        &vm,
                        &hosts.iter().map(|h| (h.host.clone(), h.presence.clone())).collect::<Vec<_>>()
                    )
                )))
            }
            (None, several) => {
                return Err(Error::check(format!(
                    "{vm} is runnable on several VM hosts ({}): start it there by hand with hpvmstart -P {vm} on the host that should run it",
                    several.join(", ")
                )))
            }
        };
        self.0.ctx.run_ok(&cmd::hpvmstart(&host, &vm)?)?;
        Ok(json!({"guest": vm, "host": host, "started": true}))
    }

    fn stop(&self, guest: &str, force: bool) -> Result<Value> {
        let vm = self.0.vm_name(guest)?;
        let running = self.0.running_on(&vm)?;
        let host = match running.as_slice() {
            [] => {
                self.0
                    .ctx
                    .ui
                    .info(&format!("{vm} runs on no VM host: nothing to stop"));
                return Ok(json!({"guest": vm, "stopped": false}));
            }
            [one] => one.clone(),
            several => {
                return Err(Error::needs_attention(format!(
                    "{vm} runs on several VM hosts at once: {}",
                    several.join(", ")
                )))
            }
        };
        // Packaged: only in maintenance, and then only deliberately.
        if self.guard(&vm, "hpvmstop")?.is_some() && !force {
            return Err(Error::check(format!(
                "{vm} is packaged and in toolkit maintenance: stopping it takes the guest down under a running package; refused without force"
            ))
            .with_remedy("pass #{force: true} to stop it anyway"));
        }
        self.0.ctx.run_ok(&cmd::hpvmstop(&host, &vm)?)?;
        Ok(json!({"guest": vm, "host": host, "stopped": true}))
    }

    fn migrate(&self, _guest: &str, _target: &str) -> Result<Value> {
        Err(Error::new(
            ErrorKind::Unsupported,
            "on Serviceguard, hypervisor.migrate runs the procedure hpvm/move-package",
        ))
    }

    fn placement(&self, guest: &str) -> Result<Value> {
        let vm = self.0.vm_name(guest)?;
        Ok(Placement::to_value(&self.0.placement_of(&vm)?))
    }

    fn group(&self, guest: &str) -> Result<Value> {
        let vm = self.0.vm_name(guest)?;
        let view = self.0.view()?;
        if view.package(&vm).is_some() {
            // A VM package holds one guest: the package is its own group.
            return Ok(json!({"guest": vm, "kind": "package", "members": [vm]}));
        }
        if self
            .0
            .guest_on_hosts(&vm)?
            .iter()
            .all(|h| h.presence == Presence::Absent)
        {
            return Err(Error::usage(format!(
                "unknown guest {vm:?}: no VM host of the inventory ({}) knows it",
                self.0.topo.vm_host_names().join(", ")
            )));
        }
        Ok(json!({"guest": vm, "kind": "none", "members": [vm]}))
    }
}

impl HpvmPackage {
    /// Start a package on `node` (`cmrunpkg -n NODE`), or where Serviceguard chooses; then
    /// `cmmodpkg -e` and a check that switching is enabled.
    pub fn run_on(&self, name: &str, node: Option<&str>) -> Result<Value> {
        self.0.run_package(name, node)
    }
}

impl Package for HpvmPackage {
    fn list(&self) -> Result<Value> {
        self.0.list_packages()
    }

    fn status(&self, name: &str) -> Result<Value> {
        self.0.package_status(name)
    }

    /// `cmrunpkg` then `cmmodpkg -e` (B3), under the routine `restore_switching`
    /// registered before `cmrunpkg`: stopped between the two, the package would run
    /// without failover.
    fn run(&self, name: &str) -> Result<Value> {
        self.0.run_package(name, None)
    }

    /// As [`Package::run`], on `node` (`cmrunpkg -n`).
    fn run_on(&self, name: &str, node: &str) -> Result<Value> {
        self.0.run_package(name, Some(node))
    }

    /// `cmhaltpkg`. No recovery routine: one command, after which Serviceguard halts the
    /// package and disables its switching itself (the manual's halt); there is no half-done
    /// state of hascript's making, and starting the package again would be a blind inverse
    /// of what was asked.
    fn halt(&self, name: &str) -> Result<Value> {
        self.0.halt_package(name)
    }

    /// `cmmodpkg -e [-n NODE]`. No recovery routine: one atomic command.
    fn enable(&self, name: &str, node: Option<&str>) -> Result<Value> {
        self.0.set_switching(name, node, true)
    }

    /// `cmmodpkg -d [-n NODE]`. No recovery routine: one atomic command; the failover it
    /// takes away is what was asked (a script that must give it back registers its own
    /// `defer`).
    fn disable(&self, name: &str, node: Option<&str>) -> Result<Value> {
        self.0.set_switching(name, node, false)
    }

    fn in_maintenance(&self, name: &str) -> Result<bool> {
        self.0.in_maintenance(name)
    }

    /// `cmdeployvpkg -m 1 -P VM` on the owner (`Inner::maintenance_enter`), or `-m 0` on every
    /// member holding the file then the read-back (`Inner::maintenance_off`,
    /// `verify_monitored`; hpvm/maintenance runs them as steps). No recovery routine: the
    /// toolkit creates or removes its maintenance file; entering maintenance is what was
    /// asked, and leaving it is `maintenance(name, false)`.
    fn maintenance(&self, name: &str, on: bool) -> Result<Value> {
        self.0.maintenance(name, on)
    }

    fn read_config(&self, name: &str) -> Result<Value> {
        self.0.read_config(name)
    }

    fn write_config(&self, name: &str, text: &str, host: Option<&str>) -> Result<Value> {
        self.0.write_config(name, text, host)
    }

    fn make(&self, name: &str, host: Option<&str>) -> Result<Value> {
        self.0.make(name, host)
    }

    fn distribute(&self, name: &str) -> Result<Value> {
        self.0.distribute(name)
    }

    fn check(&self, name: &str) -> Result<Value> {
        self.0.check_config(name)
    }

    fn apply(&self, name: &str) -> Result<Value> {
        self.0.apply_config(name)
    }

    fn deploy(&self, name: &str, opts: &Value) -> Result<Value> {
        let o = DeployOpts::from_value(opts)?;
        self.0.deploy(name, &o)
    }

    fn remove(&self, name: &str) -> Result<Value> {
        self.0.remove(name)
    }

    fn backup(&self, name: &str) -> Result<Value> {
        self.0.backup(name)
    }

    fn diagnose(&self, name: &str) -> Result<Value> {
        self.0.diagnose(name)
    }
}

impl Inner {
    /// Part C's Serviceguard summary of one VM package, read back: owner, status, state,
    /// package and node switching, toolkit maintenance, services, where the guest runs.
    pub fn summary(&self, subject: &str) -> Result<Value> {
        let vm = self.vm_name(subject)?;
        let hosts = self.guest_on_hosts(&vm)?;
        let view = self.view()?;
        let pkg = view.package(&vm).cloned();
        if pkg.is_none() && hosts.iter().all(|h| h.presence == Presence::Absent) {
            return Err(Error::usage(format!(
                "unknown package or guest {vm:?}: neither cmviewcl nor hpvmstatus lists it"
            )));
        }
        let running: Vec<String> = hosts
            .iter()
            .filter(|h| h.presence == Presence::On)
            .map(|h| h.host.clone())
            .collect();
        let states: serde_json::Map<String, Value> = hosts
            .iter()
            .map(|h| {
                (
                    h.host.clone(),
                    Value::String(match (&h.details, &h.presence) {
                        (Some(d), _) => d.vm.state.clone(),
                        (None, Presence::Unreadable(w)) => format!("unreadable ({w})"),
                        _ => "not registered".into(),
                    }),
                )
            })
            .collect();
        let location = match running.as_slice() {
            [] => format!("{vm} runs on no VM host"),
            [one] => format!("{vm} runs on {one}"),
            several => format!("{vm} runs on several VM hosts: {}", several.join(", ")),
        };
        let mut out = json!({
            "package": vm,
            "location": location,
            "guest": {"running_on": running, "states": states},
        });
        if let (Some(p), Value::Object(o)) = (&pkg, &mut out) {
            let maintenance = match self.or_unknown(self.maintenance_state(&view, p))? {
                Ok((on, _)) => Value::Bool(on),
                Err(why) => Value::String(format!("unknown ({why})")),
            };
            if let Value::Object(pv) = package_value(p) {
                for (k, v) in pv {
                    if k != "name" {
                        o.insert(k, v);
                    }
                }
            }
            o.insert("maintenance".into(), maintenance);
            let agrees = p.owner.as_ref().is_some_and(|ow| running == [ow.clone()]);
            o.insert("owner_runs_guest".into(), Value::Bool(agrees));
        } else if let Value::Object(o) = &mut out {
            o.insert("packaged".into(), Value::Bool(false));
        }
        if let Some(p) = &pkg {
            self.ctx.ui.info(&format!(
                "summary: {location}; package {} {}/{} owner {}, switching {}, node switching {}",
                p.name,
                p.status,
                p.state,
                p.owner.as_deref().unwrap_or("none"),
                p.autorun,
                p.nodes
                    .iter()
                    .map(|n| format!("{} {}", n.name, n.switching))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        Ok(out)
    }
}
