//! The cluster: its name and nodes from `cmviewcl`, its packages with their package files.

use std::collections::BTreeMap;

use super::gaps::Gaps;
use super::{parse, Obs};
use crate::hpvm::conf::{self, Conf};
use crate::hpvm::{Guest, NodeState, Package, PackageKind, Restart, Service, VmHost, CMCLUSTER};
use crate::seed::Declared;

/// The Serviceguard programs whose answers depend on the cluster's state.
const SG_PROGRAMS: &[&str] = &[
    "cmviewcl",
    "cmrunpkg",
    "cmhaltpkg",
    "cmmodpkg",
    "cmcheckconf",
    "cmapplyconf",
    "cmdeleteconf",
    "cmmovevpkg",
    "cmdeployvpkg",
];

fn node_state(n: &parse::NodeLine) -> Result<NodeState, String> {
    match (n.status.as_str(), n.state.as_str()) {
        ("up", "running") => Ok(NodeState::Running),
        ("down", _) => Ok(NodeState::Halted),
        (s, t) => Err(format!(
            "node {} is {s}/{t} in cmviewcl: the copy can represent a node that is up and running, or down",
            n.name
        )),
    }
}

fn on_off(word: Option<&str>, what: &str) -> Result<bool, String> {
    match word {
        Some("enabled") => Ok(true),
        Some("disabled") => Ok(false),
        Some(w) => Err(format!("{what} is {w:?}, not enabled or disabled")),
        None => Err(format!("cmviewcl -v -f line prints no {what}")),
    }
}

fn restart_of_max(max: Option<&str>) -> Restart {
    match max {
        Some("unlimited") => Restart::Unlimited,
        Some("0") | None => Restart::None,
        Some(n) => n.parse().map(Restart::Count).unwrap_or(Restart::None),
    }
}

/// The package file of `name` the reads saw (the owner's copy first, else the last one
/// read), and the document when it is a modular package file of `name`.
pub(super) fn package_conf<'a, 'b>(
    obs: &'b [Obs<'a>],
    name: &str,
    owner: Option<&str>,
) -> (Option<&'b Obs<'a>>, Option<Conf>) {
    let path = format!("{CMCLUSTER}/{name}/{name}.conf");
    let reads: Vec<&Obs> = obs
        .iter()
        .filter(|o| o.ok() && o.is("cat", &[path.as_str()]))
        .collect();
    let read = reads
        .iter()
        .rfind(|o| owner == Some(o.host))
        .or_else(|| reads.last())
        .copied();
    let conf = read
        .filter(|o| !looks_legacy(o.stdout))
        .and_then(|o| Conf::parse(o.stdout).ok())
        .filter(|c| c.get("package_name") == Some(name));
    (read, conf)
}

/// Which toolkit a package file is of (as `cmcheckconf` tells).
pub(super) fn kind_of(c: &Conf) -> PackageKind {
    if c.is_toolkit() {
        PackageKind::Toolkit
    } else if c.services().iter().any(|s| s.cmd.contains("/hpvmsg_mon")) {
        PackageKind::OldToolkit
    } else {
        PackageKind::Plain
    }
}

/// The last `cmviewcl -v -f line` read on a VM host, with the host it was read on.
pub(super) fn cluster_view<'a>(
    obs: &[Obs<'a>],
    vm_hosts: &[String],
) -> Result<Option<(&'a str, parse::ClusterLine)>, String> {
    let mut view = None;
    for o in obs
        .iter()
        .filter(|o| o.ok() && vm_hosts.iter().any(|h| h == o.host))
        .filter(|o| o.is("cmviewcl", &["-v", "-f", "line"]))
    {
        match parse::cmviewcl_line(o.stdout) {
            Ok(v) => view = Some((o.host, v)),
            Err(e) => return Err(format!("cmviewcl -v -f line on {}: {e}", o.host)),
        }
    }
    Ok(view)
}

/// The cluster's name and nodes: from `view`, or the inventory's VM hosts (and a gap for
/// every Serviceguard program) when the cluster was never viewed.
pub(super) fn cluster_nodes(
    declared: &Declared,
    vm_hosts: &[String],
    view: Option<&(&str, parse::ClusterLine)>,
    gaps: &mut Gaps,
) -> Result<(String, Vec<VmHost>), String> {
    let mut nodes: Vec<VmHost> = Vec::new();
    let address = |name: &str| {
        declared
            .hosts
            .iter()
            .find(|h| h.name == name)
            .and_then(|h| h.address.clone())
            .unwrap_or_default()
    };
    let new_node = |name: &str, state| VmHost {
        name: name.to_string(),
        address: address(name),
        state,
        products: Vec::new(),
        vgs: BTreeMap::new(),
        mounts: Vec::new(),
        missing_vswitches: Vec::new(),
        heartbeat_ip: None,
    };
    let cluster = match view {
        Some((at, v)) => {
            if let Some(c) = declared.cluster.as_deref().filter(|c| *c != v.name) {
                return Err(format!(
                    "the inventory names cluster {c}, but cmviewcl on {at} shows cluster {}",
                    v.name
                ));
            }
            for n in &v.nodes {
                let mut node = new_node(&n.name, node_state(n)?);
                node.heartbeat_ip = n.heartbeat_ip.clone();
                nodes.push(node);
            }
            if let Some(h) = vm_hosts
                .iter()
                .find(|h| !v.nodes.iter().any(|n| n.name == **h))
            {
                return Err(format!(
                    "vm-host {h} is not a node of cluster {} (cmviewcl on {at})",
                    v.name
                ));
            }
            v.name.clone()
        }
        None => {
            let why = "cmviewcl -v -f line was not read on any VM host before the first change, so the cluster's state is not known";
            for p in SG_PROGRAMS {
                gaps.add(None, p, &[], why);
            }
            for h in vm_hosts {
                nodes.push(new_node(h, NodeState::Running));
            }
            declared.cluster.clone().unwrap_or_default()
        }
    };
    Ok((cluster, nodes))
}

/// The packages `cmviewcl` showed, with what their package files say.
pub(super) fn packages_from(
    view: &parse::ClusterLine,
    obs: &[Obs],
    node_names: &[String],
    guests: &[Guest],
    opaque: &BTreeMap<String, String>,
    gaps: &mut Gaps,
) -> Result<Vec<Package>, String> {
    let mut packages: Vec<Package> = Vec::new();
    for pv in &view.packages {
        packages.push(package_from(pv, obs, node_names, guests, opaque, gaps)?);
    }
    Ok(packages)
}

/// One package: its state and owner from `cmviewcl`, its kind, services and toolkit
/// settings from its package file (a gap when that was not read).
fn package_from(
    pv: &parse::PackageLine,
    obs: &[Obs],
    node_names: &[String],
    guests: &[Guest],
    opaque: &BTreeMap<String, String>,
    gaps: &mut Gaps,
) -> Result<Package, String> {
    let name = &pv.name;
    let up = match (pv.status.as_str(), pv.state.as_str()) {
        ("up", "running") => true,
        ("down", "halted") => false,
        (s, t) => {
            return Err(format!(
                "package {name} is {s}/{t}: the copy can represent a package that is up and running, or down and halted"
            ))
        }
    };
    let owner = package_owner(pv, up)?;
    if let Some(o) = owner
        .as_deref()
        .filter(|o| !node_names.iter().any(|n| n == o))
    {
        return Err(format!(
            "package {name} runs on {o}, which is not a node of the cluster"
        ));
    }
    let autorun = on_off(pv.autorun.as_deref(), &format!("autorun of {name}"))?;
    let mut switching = BTreeMap::new();
    for n in &pv.nodes {
        switching.insert(
            n.name.clone(),
            on_off(
                n.switching.as_deref(),
                &format!("switching of {name} on {}", n.name),
            )?,
        );
    }
    let (conf_obs, conf) = package_conf(obs, name, owner.as_deref());
    let kind = conf.as_ref().map(kind_of);
    let services = package_services(pv, conf.as_ref(), up);
    let why_file = || {
        match conf_obs {
        Some(o) => format!(
            "the package file of {name} read on {} is not a modular package file of {name} the simulator can read",
            o.host
        ),
        None => format!(
            "the package file of {name} (cat {CMCLUSTER}/{name}/{name}.conf) was not read before the first change"
        ),
    }
    };
    if kind.is_none() {
        gaps.package_kind(name, &why_file());
    }
    if kind != Some(PackageKind::Plain) && !guests.iter().any(|g| g.name == *name) {
        let why = opaque.get(name).cloned().unwrap_or_else(|| {
            format!("guest {name} (of package {name}) was not listed by hpvmstatus on any VM host before the first change")
        });
        gaps.guest(name, node_names, &why);
    }
    Ok(Package {
        name: name.clone(),
        kind: kind.unwrap_or(PackageKind::Plain),
        nodes: pv.nodes.iter().map(|n| n.name.clone()).collect(),
        up,
        owner,
        autorun,
        switching,
        services,
        failover_policy: pv
            .failover_policy
            .clone()
            .unwrap_or_else(|| "configured_node".into()),
        failback_policy: pv
            .failback_policy
            .clone()
            .unwrap_or_else(|| "manual".into()),
        log_file: conf
            .as_ref()
            .map(|c| c.log_file(name))
            .unwrap_or_else(|| conf::resolve_log("", name)),
        legacy_control_script: pv.run_script.clone(),
        tkit_dir: conf
            .as_ref()
            .and_then(|c| c.get("tkit/vtn/vtn/TKIT_DIR"))
            .filter(|d| !d.is_empty())
            .map(str::to_string),
        maintenance_flag: conf
            .as_ref()
            .is_some_and(|c| c.get("tkit/vtn/vtn/MAINTENANCE_FLAG").unwrap_or("yes") == "yes"),
    })
}

/// Where an up package runs: the owner `cmviewcl` names, else its only node up.
fn package_owner(pv: &parse::PackageLine, up: bool) -> Result<Option<String>, String> {
    let name = &pv.name;
    Ok(match pv.owner.as_deref().filter(|o| !o.is_empty()) {
        _ if !up => None,
        Some(o) => Some(o.to_string()),
        None => {
            let ups: Vec<&str> = pv
                .nodes
                .iter()
                .filter(|n| n.status == "up")
                .map(|n| n.name.as_str())
                .collect();
            match ups.as_slice() {
                [one] => Some(one.to_string()),
                _ => {
                    return Err(format!(
                        "package {name} is up but cmviewcl names no owner, and its nodes up are {ups:?}"
                    ))
                }
            }
        }
    })
}

/// A package's services: status and restarts from `cmviewcl`, command and restart limit
/// from its package file (the limit `cmviewcl` shows when that was not read).
fn package_services(pv: &parse::PackageLine, conf: Option<&Conf>, up: bool) -> Vec<Service> {
    let specs = conf.map(Conf::services).unwrap_or_default();
    pv.services
        .iter()
        .map(|s| {
            let spec = specs.iter().find(|x| x.name == s.name);
            Service {
                name: s.name.clone(),
                cmd: spec.map(|x| x.cmd.clone()).unwrap_or_default(),
                restart: spec
                    .and_then(|x| conf::restart_of(&x.restart))
                    .unwrap_or_else(|| restart_of_max(s.max_restarts.as_deref())),
                restarts: s
                    .restarts
                    .as_deref()
                    .and_then(|r| r.parse().ok())
                    .unwrap_or(0),
                up: up && s.status == "up",
            }
        })
        .collect()
}

/// Whether a package file is a legacy control script (`NAME=value` lines).
fn looks_legacy(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim();
        l.split_once('=').is_some_and(|(k, _)| {
            !k.is_empty()
                && !k.contains(char::is_whitespace)
                && k.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || "_[]".contains(c))
        })
    })
}
