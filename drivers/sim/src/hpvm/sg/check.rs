//! `cmcheckconf`: the checks of a package file, shared with `cmapplyconf`.

use std::collections::BTreeMap;

use hascript_api::Output;

use super::{file_arg, ok};
use crate::hpvm::conf::{self, Conf, ServiceSpec};
use crate::hpvm::{fs, HpvmState, PackageKind, Restart, Service, CMCLUSTER};
use crate::world::World;

/// A package file that passed the checks.
pub(crate) struct Checked {
    pub(super) name: String,
    pub(super) kind: PackageKind,
    pub(super) nodes: Vec<String>,
    pub(super) services: Vec<ServiceSpec>,
    pub(super) log_file: String,
    pub(super) tkit_dir: Option<String>,
    pub(super) maintenance_flag: bool,
    pub(super) failover_policy: String,
    pub(super) failback_policy: String,
}

fn perm_problem(mode: u32) -> bool {
    mode & 0o022 != 0 || mode & 0o100 == 0
}

/// Check the package file `path` on `host` as `cmcheckconf -P` does. `Err` holds the error
/// lines (or the file could not be read).
pub(crate) fn check(
    st: &HpvmState,
    w: &World,
    host: &str,
    path: &str,
) -> Result<Checked, Vec<String>> {
    let clean = fs::normalize(path);
    let Some(text) = w.hosts.get(host).and_then(|os| os.files.get(&clean)) else {
        return Err(vec![format!(
            "Unable to open {path}: No such file or directory"
        )]);
    };
    let c = Conf::parse(text).map_err(|e| vec![format!("Error reading {path}: {e}")])?;
    let mut errs = Vec::new();
    let name = c.get("package_name").unwrap_or("").to_string();
    if name.is_empty() {
        errs.push("ERROR: package_name is required.".to_string());
    }
    let kind = if c.is_toolkit() {
        PackageKind::Toolkit
    } else if c.services().iter().any(|s| s.cmd.contains("/hpvmsg_mon")) {
        PackageKind::OldToolkit
    } else {
        PackageKind::Plain
    };
    let vm_guest = if kind == PackageKind::Plain {
        None
    } else {
        st.guest(&name)
    };
    if kind != PackageKind::Plain && !name.is_empty() && vm_guest.is_none() {
        errs.push(format!(
            "ERROR: package_name {name} does not name a virtual machine of cluster {}; a VM package is named after its guest.",
            st.cluster
        ));
    }
    let ptype = c.get("package_type").unwrap_or("failover");
    if ptype != "failover" {
        errs.push(format!(
            "ERROR: package_type {ptype} is not supported for a virtual machine package; use failover."
        ));
    }
    let mut nodes: Vec<String> = Vec::new();
    for n in c.all("node_name") {
        if n == "*" {
            for node in &st.nodes {
                if !nodes.contains(&node.name) {
                    nodes.push(node.name.clone());
                }
            }
        } else if st.node(n).is_none() {
            errs.push(format!(
                "ERROR: node_name {n} is not a node of cluster {}.",
                st.cluster
            ));
        } else if !nodes.iter().any(|x| x == n) {
            nodes.push(n.to_string());
        }
    }
    if c.all("node_name").is_empty() {
        errs.push("ERROR: At least one node_name is required.".to_string());
    }
    let tkit_dir = c.get("tkit/vtn/vtn/TKIT_DIR").map(str::to_string);
    if kind == PackageKind::Toolkit {
        match tkit_dir.as_deref() {
            None | Some("") => errs.push("ERROR: tkit/vtn/vtn/TKIT_DIR is not set.".to_string()),
            Some(d) if !d.starts_with('/') => errs.push(format!(
                "ERROR: tkit/vtn/vtn/TKIT_DIR {d} must be an absolute path."
            )),
            _ => {}
        }
    }
    let maint = c.get("tkit/vtn/vtn/MAINTENANCE_FLAG").unwrap_or("yes");
    if !matches!(maint, "yes" | "no") {
        errs.push(format!(
            "ERROR: tkit/vtn/vtn/MAINTENANCE_FLAG must be yes or no, not {maint}."
        ));
    }
    if let Some(m) = c.get("tkit/vtn/vtn/MONITOR_INTERVAL") {
        if m.parse::<u32>().map_or(true, |v| v == 0) {
            errs.push(format!(
                "ERROR: tkit/vtn/vtn/MONITOR_INTERVAL must be a positive number of seconds, not {m}."
            ));
        }
    }
    let services = c.services();
    let mut seen: Vec<&str> = Vec::new();
    for s in &services {
        if seen.contains(&s.name.as_str()) {
            errs.push(format!(
                "ERROR: Duplicate service_name {} in package {name}.",
                s.name
            ));
        }
        seen.push(&s.name);
        if s.cmd.is_empty() {
            errs.push(format!("ERROR: service {} has no service_cmd.", s.name));
        }
        if conf::restart_of(&s.restart).is_none() {
            errs.push(format!(
                "ERROR: service_restart {} of service {} must be none, unlimited or a number.",
                s.restart, s.name
            ));
        }
        for other in st.packages.iter().filter(|p| p.name != name) {
            if other.services.iter().any(|o| o.name == s.name) {
                errs.push(format!(
                    "ERROR: service_name {} is already used by package {}; service names must be unique in the cluster.",
                    s.name, other.name
                ));
            }
        }
    }
    // A.11.20: every service command sent to one guest must be unique (online migration).
    let mut per_guest: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for other in st.packages.iter().filter(|p| p.name != name) {
        for s in &other.services {
            if let Some((g, _)) = s.appmon() {
                per_guest.entry(g).or_default().push(s.cmd.clone());
            }
        }
    }
    for s in &services {
        let svc = Service {
            name: s.name.clone(),
            cmd: s.cmd.clone(),
            restart: Restart::None,
            restarts: 0,
            up: false,
        };
        if let Some((g, _)) = svc.appmon() {
            let list = per_guest.entry(g.clone()).or_default();
            if list.contains(&s.cmd) {
                errs.push(format!(
                    "ERROR: The service command \"{}\" is used more than once for guest {g}; every service command sent to one guest must be unique.",
                    s.cmd
                ));
            }
            list.push(s.cmd.clone());
        }
    }
    if let Some(g) = vm_guest {
        for n in &nodes {
            if !st.guests[g].registered.iter().any(|h| h == n) {
                errs.push(format!(
                    "ERROR: Virtual machine {name} is not registered on node {n}; configure it as a distributed guest there (cmdeployvpkg)."
                ));
            }
        }
    }
    if !name.is_empty() {
        let mut dirs = vec![format!("{CMCLUSTER}/{name}")];
        if let Some(d) = tkit_dir.as_deref().filter(|d| d.starts_with('/')) {
            let d = fs::normalize(d);
            if !dirs.contains(&d) {
                dirs.push(d);
            }
        }
        for n in &nodes {
            let Some(os) = w.hosts.get(n) else { continue };
            for d in &dirs {
                match fs::meta(os, d) {
                    Some(m) if m.is_dir() => {
                        if perm_problem(m.mode) {
                            errs.push(format!(
                                "Incorrect permissions for {d} ({:o}). Directory must be executable for owner, and not writable by group and others on node {n}.",
                                m.mode
                            ));
                        }
                    }
                    _ => errs.push(format!(
                        "ERROR: Directory {d} does not exist on node {n}; copy the package directory to every node of the package."
                    )),
                }
            }
        }
    }
    if let Some(p) = st.package(&name) {
        if let Some(o) = &st.packages[p].owner {
            if !nodes.contains(o) {
                errs.push(format!(
                    "ERROR: Node {o} cannot be removed from package {name} while the package runs on it."
                ));
            }
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(Checked {
        log_file: c.log_file(&name),
        name,
        kind,
        nodes,
        services,
        tkit_dir,
        maintenance_flag: maint == "yes",
        failover_policy: c.get("failover_policy").unwrap_or("configured_node").into(),
        failback_policy: c.get("failback_policy").unwrap_or("manual").into(),
    })
}
/// `cmcheckconf -P FILE`.
pub(crate) fn cmcheckconf(
    st: &mut HpvmState,
    w: &mut World,
    host: &str,
    args: &[String],
) -> Output {
    let file = match file_arg(args, "cmcheckconf") {
        Ok(f) => f,
        Err(o) => return o,
    };
    let begin = "Begin package verification...\n";
    match check(st, w, host, &file) {
        Ok(_) => ok(format!(
            "{begin}cmcheckconf: Verification completed with no errors found.\nUse the cmapplyconf command to apply the configuration\n"
        )),
        Err(errs) => Output::new(
            1,
            begin,
            format!("{}\ncmcheckconf: Unable to verify package.\n", errs.join("\n")),
        ),
    }
}
