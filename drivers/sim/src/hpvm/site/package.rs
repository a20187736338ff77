//! The site's package slvm1 (toolkit or old toolkit), as the scenario's
//! `[hpvm.packages.slvm1]` describes it.

use crate::hpvm::conf::{self, ServiceSpec};
use crate::hpvm::scenario::{HpvmSpec, KindSpec};
use crate::hpvm::tkit::parse_appmon;
use crate::hpvm::{Guest, Package, PackageKind, Restart, Service};

/// Package slvm1, and what the site's files and logs say of it.
pub(super) struct Slvm1 {
    /// The package as Serviceguard holds it.
    pub(super) package: Package,
    /// Toolkit or old toolkit.
    pub(super) kind: PackageKind,
    /// The nodes that may run it.
    pub(super) nodes: Vec<String>,
    /// Where it (and its guest) runs, or ran last.
    pub(super) home: String,
    /// Whether it runs.
    pub(super) up: bool,
    /// Its package file.
    pub(super) text: String,
    /// Its guest monitor service.
    pub(super) guest_monitor: ServiceSpec,
    /// Its application monitoring services.
    pub(super) appmons: Vec<ServiceSpec>,
    /// The nodes where the toolkit's maintenance file is present.
    pub(super) maintenance: Vec<String>,
}

/// Package slvm1 as the scenario describes it; its guest slvm1 (`guests[0]`) moves to
/// the package's owner. `Err` names a bad entry.
pub(super) fn slvm1(
    h: &HpvmSpec,
    node_names: &[String],
    guests: &mut [Guest],
) -> Result<Slvm1, String> {
    let ps = h.packages.get("slvm1").cloned().unwrap_or_default();
    let kind = match ps.kind {
        Some(KindSpec::OldToolkit) => PackageKind::OldToolkit,
        _ => PackageKind::Toolkit,
    };
    let pkg_nodes = ps
        .nodes
        .clone()
        .unwrap_or_else(|| vec!["node1".into(), "node2".into()]);
    for n in &pkg_nodes {
        if !node_names.contains(n) {
            return Err(format!(
                "[hpvm.packages.slvm1] node {n} is not in [hpvm] nodes"
            ));
        }
    }
    // Where slvm1 (guest and package) runs: node1 unless the scenario says it failed over.
    let home = ps.owner.clone().unwrap_or_else(|| "node1".to_string());
    if !pkg_nodes.contains(&home) {
        return Err(format!(
            "[hpvm.packages.slvm1] owner {home} is not in the package's nodes"
        ));
    }
    if !guests[0].registered.contains(&home) {
        return Err(format!(
            "[hpvm.packages.slvm1] owner {home}: slvm1 is not registered there"
        ));
    }
    guests[0].home = home.clone();
    let slvm1_running = guests[0].running;
    let up = ps.up.unwrap_or(slvm1_running);
    if up && !slvm1_running {
        return Err("[hpvm.packages.slvm1] up = true needs slvm1 running".into());
    }
    let autorun = ps.autorun.unwrap_or(up);
    let appmons: Vec<ServiceSpec> = ps
        .appmon
        .iter()
        .map(|s| parse_appmon(s, "slvm1"))
        .collect::<Result<_, String>>()
        .map_err(|e| format!("[hpvm.packages.slvm1] {e}"))?;
    let pkg_text = match kind {
        PackageKind::OldToolkit => conf::render_old_toolkit("slvm1", &pkg_nodes, &appmons),
        _ => conf::render_toolkit("slvm1", &pkg_nodes, "/etc/cmcluster/slvm1", &appmons),
    };
    let mut services: Vec<Service> = Vec::new();
    let guest_monitor = match kind {
        PackageKind::OldToolkit => ServiceSpec {
            name: "hpvmsg_mon".into(),
            cmd: "/etc/cmcluster/slvm1/hpvmsg_mon slvm1".into(),
            restart: "none".into(),
            halt_timeout: "300".into(),
        },
        _ => conf::vm_service("slvm1"),
    };
    for s in std::iter::once(&guest_monitor).chain(appmons.iter()) {
        services.push(Service {
            name: s.name.clone(),
            cmd: s.cmd.clone(),
            restart: Restart::parse(&s.restart).unwrap_or(Restart::None),
            restarts: 0,
            up,
        });
    }
    let package = Package {
        name: "slvm1".into(),
        kind,
        nodes: pkg_nodes.clone(),
        up,
        owner: up.then(|| home.clone()),
        autorun,
        switching: pkg_nodes.iter().map(|n| (n.clone(), true)).collect(),
        services,
        failover_policy: "configured_node".into(),
        failback_policy: "manual".into(),
        log_file: "/var/adm/cmcluster/log/slvm1.log".into(),
        tkit_dir: (kind == PackageKind::Toolkit).then(|| "/etc/cmcluster/slvm1".to_string()),
        maintenance_flag: kind == PackageKind::Toolkit,
        legacy_control_script: None,
    };
    Ok(Slvm1 {
        package,
        kind,
        nodes: pkg_nodes,
        home,
        up,
        text: pkg_text,
        guest_monitor,
        appmons,
        maintenance: ps.maintenance,
    })
}
