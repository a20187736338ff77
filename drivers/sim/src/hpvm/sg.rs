//! Serviceguard commands: `cmviewcl` (tables, `-v`, `-f line`), `cmrunpkg`, `cmhaltpkg`,
//! `cmmodpkg`, `cmmakepkg`, `cmcheckconf`, `cmapplyconf`, `cmdeleteconf`. Layouts follow the
//! Serviceguard manual's samples and the contract page (`book/src/driver-hpvm.md`).

use std::collections::BTreeMap;

use hascript_api::Output;

use super::conf::{self, Conf, ServiceSpec};
use super::fs;
use super::{HpvmState, NodeState, Package, PackageKind, Restart, Service, CMCLUSTER};
use crate::posix::ProcessIo;
use crate::world::World;

fn ok(stdout: impl Into<String>) -> Output {
    Output::new(0, stdout, "")
}

fn fail(code: i32, stderr: impl Into<String>) -> Output {
    Output::new(code, "", stderr)
}

fn on_off(b: bool) -> &'static str {
    if b {
        "enabled"
    } else {
        "disabled"
    }
}

fn node_status(st: &HpvmState, n: &str) -> &'static str {
    match st.node(n).map(|i| st.nodes[i].state) {
        Some(NodeState::Running) => "up",
        _ => "down",
    }
}

// ----- cmviewcl --------------------------------------------------------------------------

const CMVIEWCL_USAGE: &str = "usage: cmviewcl [-v] [-l {cluster|node|package|group}] [-n node_name]... [-p package_name]...\n";

/// `cmviewcl`, `cmviewcl -v`, `cmviewcl [-v] -f line` (also `-p PKG` to show one package).
pub(crate) fn cmviewcl(st: &HpvmState, args: &[String]) -> Output {
    let mut verbose = false;
    let mut line = false;
    let mut only: Vec<String> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-v" => verbose = true,
            "-f" => {
                if !st.sg_release_has_line_format() {
                    return fail(
                        2,
                        format!("cmviewcl: illegal option -- f\n{CMVIEWCL_USAGE}"),
                    );
                }
                match args.get(i + 1).map(String::as_str) {
                    Some("line") => line = true,
                    Some("table") => line = false,
                    _ => {
                        return fail(
                            2,
                            format!("cmviewcl: option -f needs line or table\n{CMVIEWCL_USAGE}"),
                        )
                    }
                }
                i += 1;
            }
            "-p" => {
                match args.get(i + 1) {
                    Some(p) => only.push(p.clone()),
                    None => {
                        return fail(
                            2,
                            format!("cmviewcl: option requires an argument -- p\n{CMVIEWCL_USAGE}"),
                        )
                    }
                }
                i += 1;
            }
            a => {
                let f = a.trim_start_matches('-');
                return fail(
                    2,
                    format!("cmviewcl: illegal option -- {f}\n{CMVIEWCL_USAGE}"),
                );
            }
        }
        i += 1;
    }
    for p in &only {
        if st.package(p).is_none() {
            return fail(1, format!("cmviewcl: Package {p} does not exist.\n"));
        }
    }
    let pkgs: Vec<&Package> = st
        .packages
        .iter()
        .filter(|p| only.is_empty() || only.contains(&p.name))
        .collect();
    if line {
        ok(line_format(st, &pkgs))
    } else {
        ok(table_format(st, &pkgs, verbose))
    }
}

impl HpvmState {
    /// Whether this Serviceguard release has `cmviewcl -f line` (A.11.19 and later).
    pub(crate) fn sg_release_has_line_format(&self) -> bool {
        let v: Vec<u32> = self
            .sg_release
            .trim_start_matches("A.")
            .split('.')
            .filter_map(|x| x.parse().ok())
            .collect();
        v.as_slice() >= [11, 19].as_slice()
    }
}

/// Whether package `pkg` is up with every service up.
fn healthy(pkg: &Package) -> bool {
    pkg.up && pkg.services.iter().all(|sv| sv.up)
}

/// `cmviewcl -v -f line` as real clusters print it: besides the keys the driver reads,
/// `summary=degraded` (a node down, a package down or one of its services down), each node's `interface:`
/// lines (a heartbeat LAN with its address nested as `ip_address:`, a standby LAN), the
/// packages' script timeouts and log file (`run_script`/`halt_script` paths for a legacy
/// package), and one `group:…|member:…` block naming the members of the cluster.
fn line_format(st: &HpvmState, pkgs: &[&Package]) -> String {
    let mut s = String::new();
    let all_up = st.nodes.iter().all(|n| n.state == NodeState::Running);
    let all_healthy = st.packages.iter().all(healthy);
    s.push_str(&format!("name={}\n", st.cluster));
    s.push_str("status=up\n");
    s.push_str(&format!(
        "summary={}\n",
        if all_up && all_healthy {
            "ok"
        } else {
            "degraded"
        }
    ));
    for n in &st.nodes {
        let (status, state) = match n.state {
            NodeState::Running => ("up", "running"),
            NodeState::Halted => ("down", "halted"),
        };
        let p = format!("node:{}|", n.name);
        s.push_str(&format!("{p}name={}\n", n.name));
        s.push_str(&format!("{p}status={status}\n"));
        s.push_str(&format!("{p}state={state}\n"));
        s.push_str(&format!(
            "{p}summary={}\n",
            if status == "up" { "ok" } else { "down" }
        ));
        let lan_status = if status == "up" { "up" } else { "unknown" };
        let q = format!("{p}interface:lan0|");
        s.push_str(&format!("{q}name=lan0\n"));
        s.push_str(&format!("{q}status={lan_status}\n"));
        s.push_str(&format!("{q}type=primary\n"));
        s.push_str(&format!("{q}heartbeat=true\n"));
        s.push_str(&format!("{q}ppa=0\n"));
        if let Some(ip) = &n.heartbeat_ip {
            s.push_str(&format!("{q}ip_address:{ip}|name={ip}\n"));
        }
        let q = format!("{p}interface:lan1|");
        s.push_str(&format!("{q}name=lan1\n"));
        s.push_str(&format!("{q}status={lan_status}\n"));
        s.push_str(&format!("{q}type=standby\n"));
        s.push_str(&format!("{q}heartbeat=false\n"));
        s.push_str(&format!("{q}ppa=1\n"));
    }
    for pkg in pkgs {
        let p = format!("package:{}|", pkg.name);
        s.push_str(&format!("{p}name={}\n", pkg.name));
        s.push_str(&format!("{p}type=failover\n"));
        s.push_str(&format!(
            "{p}status={}\n",
            if pkg.up { "up" } else { "down" }
        ));
        s.push_str(&format!(
            "{p}state={}\n",
            if pkg.up { "running" } else { "halted" }
        ));
        s.push_str(&format!(
            "{p}summary={}\n",
            if healthy(pkg) {
                "ok"
            } else if pkg.up {
                "degraded"
            } else {
                "down"
            }
        ));
        s.push_str(&format!("{p}autorun={}\n", on_off(pkg.autorun)));
        if let Some(o) = &pkg.owner {
            s.push_str(&format!("{p}owner={o}\n"));
        }
        s.push_str(&format!("{p}failover_policy={}\n", pkg.failover_policy));
        s.push_str(&format!("{p}failback_policy={}\n", pkg.failback_policy));
        if let Some(script) = &pkg.legacy_control_script {
            s.push_str(&format!("{p}run_script={script}\n"));
            s.push_str(&format!("{p}halt_script={script}\n"));
        }
        s.push_str(&format!("{p}run_script_timeout=no_timeout\n"));
        s.push_str(&format!("{p}halt_script_timeout=no_timeout\n"));
        s.push_str(&format!("{p}script_log_file={}\n", pkg.log_file));
        for sv in &pkg.services {
            let q = format!("{p}service:{}|", sv.name);
            s.push_str(&format!("{q}name={}\n", sv.name));
            s.push_str(&format!(
                "{q}status={}\n",
                if pkg.up && sv.up { "up" } else { "down" }
            ));
            s.push_str(&format!("{q}restarts={}\n", sv.restarts));
            s.push_str(&format!("{q}max_restarts={}\n", sv.restart.max_word()));
        }
        for (i, n) in pkg.nodes.iter().enumerate() {
            let q = format!("{p}node:{n}|");
            s.push_str(&format!("{q}name={n}\n"));
            s.push_str(&format!("{q}status={}\n", node_status(st, n)));
            s.push_str(&format!(
                "{q}switching={}\n",
                on_off(pkg.switching.get(n).copied().unwrap_or(false))
            ));
            s.push_str(&format!(
                "{q}type={}\n",
                if i == 0 { "primary" } else { "alternate" }
            ));
        }
    }
    let g = format!("group:{}_members|", st.cluster);
    s.push_str(&format!("{g}name={}_members\n", st.cluster));
    for n in &st.nodes {
        s.push_str(&format!("{g}member:{}|name={}\n", n.name, n.name));
        s.push_str(&format!(
            "{g}member:{}|status={}\n",
            n.name,
            node_status(st, &n.name)
        ));
    }
    s
}

fn pkg_row(pkg: &Package) -> String {
    format!(
        "    {:<14} {:<16} {:<16} {:<11} {}\n",
        pkg.name,
        if pkg.up { "up" } else { "down" },
        if pkg.up { "running" } else { "halted" },
        on_off(pkg.autorun),
        pkg.owner.as_deref().unwrap_or("unowned")
    )
}

fn pkg_details(st: &HpvmState, pkg: &Package) -> String {
    let mut s = String::new();
    s.push_str("\n      Policy_Parameters:\n");
    s.push_str("      POLICY_NAME     CONFIGURED_VALUE\n");
    s.push_str(&format!("      Failover        {}\n", pkg.failover_policy));
    s.push_str(&format!("      Failback        {}\n", pkg.failback_policy));
    if !pkg.services.is_empty() {
        s.push_str("\n      Script_Parameters:\n");
        s.push_str("      ITEM       STATUS   MAX_RESTARTS  RESTARTS   NAME\n");
        for sv in &pkg.services {
            s.push_str(&format!(
                "      Service    {:<8} {:>12} {:>9}   {}\n",
                if pkg.up && sv.up { "up" } else { "down" },
                sv.restart.max_word(),
                sv.restarts,
                sv.name
            ));
        }
    }
    s.push_str("\n      Node_Switching_Parameters:\n");
    s.push_str("      NODE_TYPE    STATUS       SWITCHING    NAME\n");
    for (i, n) in pkg.nodes.iter().enumerate() {
        let current = if pkg.owner.as_deref() == Some(n.as_str()) {
            " (current)"
        } else {
            ""
        };
        s.push_str(&format!(
            "      {:<12} {:<12} {:<12} {n}{current}\n",
            if i == 0 { "Primary" } else { "Alternate" },
            node_status(st, n),
            on_off(pkg.switching.get(n).copied().unwrap_or(false)),
        ));
    }
    s
}

const PKG_HEADER: &str = "    PACKAGE        STATUS           STATE            AUTO_RUN    NODE\n";

fn table_format(st: &HpvmState, pkgs: &[&Package], verbose: bool) -> String {
    let mut s = String::from("\nCLUSTER        STATUS\n");
    s.push_str(&format!("{:<14} up\n", st.cluster));
    for n in &st.nodes {
        let (status, state) = match n.state {
            NodeState::Running => ("up", "running"),
            NodeState::Halted => ("down", "halted"),
        };
        s.push_str("\n  NODE           STATUS       STATE\n");
        s.push_str(&format!("  {:<14} {:<12} {state}\n", n.name, status));
        let here: Vec<&&Package> = pkgs
            .iter()
            .filter(|p| p.owner.as_deref() == Some(n.name.as_str()))
            .collect();
        if !here.is_empty() {
            s.push('\n');
            s.push_str(PKG_HEADER);
            for p in here {
                s.push_str(&pkg_row(p));
                if verbose {
                    s.push_str(&pkg_details(st, p));
                }
            }
        }
    }
    let unowned: Vec<&&Package> = pkgs.iter().filter(|p| p.owner.is_none()).collect();
    if !unowned.is_empty() {
        s.push_str("\nUNOWNED_PACKAGES\n\n");
        s.push_str(PKG_HEADER);
        for p in unowned {
            s.push_str(&pkg_row(p));
            if verbose {
                s.push_str(&pkg_details(st, p));
            }
        }
    }
    s
}

// ----- cmrunpkg / cmhaltpkg / cmmodpkg ---------------------------------------------------

/// Options `-n NODE`… and one package name; `-v` is accepted.
fn nodes_and_package(
    args: &[String],
    flags_ok: &str,
    cmd: &str,
    usage: &str,
) -> Result<(String, Vec<String>, String), Output> {
    let mut flags = String::new();
    let mut nodes = Vec::new();
    let mut pkgs = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if a == "-n" {
            match args.get(i + 1) {
                Some(n) => nodes.push(n.clone()),
                None => {
                    return Err(fail(
                        2,
                        format!("{cmd}: option requires an argument -- n\n{usage}"),
                    ))
                }
            }
            i += 2;
            continue;
        }
        if let Some(f) = a.strip_prefix('-') {
            for c in f.chars() {
                if !flags_ok.contains(c) {
                    return Err(fail(2, format!("{cmd}: illegal option -- {c}\n{usage}")));
                }
                flags.push(c);
            }
        } else {
            pkgs.push(a.to_string());
        }
        i += 1;
    }
    match pkgs.as_slice() {
        [p] => Ok((flags, nodes, p.clone())),
        [] => Err(fail(
            2,
            format!("{cmd}: a package name is required\n{usage}"),
        )),
        _ => Err(fail(
            2,
            format!("{cmd}: the simulator takes one package at a time\n{usage}"),
        )),
    }
}

fn no_package(cmd: &str, p: &str) -> Output {
    fail(1, format!("{cmd}: Package {p} does not exist.\n"))
}

/// `cmrunpkg [-n NODE] [-v] PKG`: runs on the given node, else on the local node.
pub(crate) fn cmrunpkg(st: &mut HpvmState, w: &mut World, host: &str, args: &[String]) -> Output {
    let usage = "usage: cmrunpkg [-v] [-n node_name] package_name\n";
    let (_flags, nodes, name) = match nodes_and_package(args, "v", "cmrunpkg", usage) {
        Ok(x) => x,
        Err(o) => return o,
    };
    let Some(p) = st.package(&name) else {
        return no_package("cmrunpkg", &name);
    };
    let node = nodes.first().cloned().unwrap_or_else(|| host.to_string());
    if let Some(o) = &st.packages[p].owner {
        return fail(
            1,
            format!("cmrunpkg: Package {name} is already running on node {o}.\n"),
        );
    }
    if !st.packages[p].nodes.contains(&node) {
        return fail(
            1,
            format!("cmrunpkg: Node {node} is not configured to run package {name}.\ncmrunpkg: Unable to start some package or package instances\n"),
        );
    }
    if !st.packages[p]
        .switching
        .get(&node)
        .copied()
        .unwrap_or(false)
    {
        return fail(
            1,
            format!("cmrunpkg: Unable to run package {name} on node {node}: node switching is disabled for the package on that node (cmmodpkg -e -n {node} {name}).\ncmrunpkg: Unable to start some package or package instances\n"),
        );
    }
    let mut out = format!("Running package {name} on node {node}\n");
    match st.start_package(w, p, &node) {
        Ok(()) => {
            out.push_str(&format!(
                "Successfully started package {name} on node {node}\ncmrunpkg: All specified packages are running\n"
            ));
            ok(out)
        }
        Err(e) => Output::new(
            1,
            out,
            format!("{e}\nUnable to start package {name} on node {node}\ncmrunpkg: Unable to start some package or package instances\n"),
        ),
    }
}

/// `cmhaltpkg [-v] PKG`: halts the package (its guest stops) and disables its switching.
pub(crate) fn cmhaltpkg(st: &mut HpvmState, w: &mut World, _host: &str, args: &[String]) -> Output {
    let usage = "usage: cmhaltpkg [-v] [-n node_name] package_name\n";
    let (_flags, _nodes, name) = match nodes_and_package(args, "v", "cmhaltpkg", usage) {
        Ok(x) => x,
        Err(o) => return o,
    };
    let Some(p) = st.package(&name) else {
        return no_package("cmhaltpkg", &name);
    };
    if !st.packages[p].up {
        return fail(1, format!("cmhaltpkg: Package {name} is not running.\n"));
    }
    st.halt_package(w, p, true);
    ok(format!(
        "Halting package {name}\ncmhaltpkg: Successfully halted package {name}\ncmhaltpkg: Completed successfully on all packages specified\n"
    ))
}

/// `cmmodpkg -e|-d [-n NODE]… PKG`: package switching (no `-n`) or node switching.
/// Enabling the switching of a halted package starts it on the first node allowed to run it,
/// as Serviceguard does.
pub(crate) fn cmmodpkg(st: &mut HpvmState, w: &mut World, _host: &str, args: &[String]) -> Output {
    let usage = "usage: cmmodpkg {-e|-d} [-n node_name]... package_name\n";
    let (flags, nodes, name) = match nodes_and_package(args, "edv", "cmmodpkg", usage) {
        Ok(x) => x,
        Err(o) => return o,
    };
    let enable = match (flags.contains('e'), flags.contains('d')) {
        (true, false) => true,
        (false, true) => false,
        _ => return fail(2, format!("cmmodpkg: give one of -e and -d\n{usage}")),
    };
    let Some(p) = st.package(&name) else {
        return no_package("cmmodpkg", &name);
    };
    for n in &nodes {
        if !st.packages[p].nodes.contains(n) {
            return fail(
                1,
                format!("cmmodpkg: Node {n} is not configured to run package {name}.\n"),
            );
        }
    }
    if nodes.is_empty() {
        st.packages[p].autorun = enable;
        if enable && !st.packages[p].up {
            let next = st.packages[p]
                .nodes
                .iter()
                .find(|n| {
                    st.packages[p].switching.get(*n).copied().unwrap_or(false)
                        && node_status(st, n) == "up"
                })
                .cloned();
            if let Some(n) = next {
                if st.start_package(w, p, &n).is_err() {
                    return fail(
                        1,
                        format!("cmmodpkg: Package switching was enabled, but package {name} failed to start on node {n}.\n"),
                    );
                }
            }
        }
    } else {
        for n in nodes {
            st.packages[p].switching.insert(n, enable);
        }
    }
    ok("cmmodpkg: Completed successfully on all packages specified\n")
}

// ----- cmmakepkg -------------------------------------------------------------------------

/// `cmmakepkg -m tkit/vtn/vtn [-n VM] [FILE]`: the toolkit's template (Appendix A layout,
/// `node_name *`, `TKIT_DIR` = `/etc/cmcluster/<VM>`).
pub(crate) fn cmmakepkg(
    st: &mut HpvmState,
    w: &mut World,
    host: &str,
    args: &[String],
    io: &mut ProcessIo,
) -> Output {
    let _ = st;
    let usage = "usage: cmmakepkg [-m module_name]... [-n package_name] [output_file]\n";
    let mut module = None;
    let mut name = None;
    let mut file = None;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-m" | "-n" => {
                let Some(v) = args.get(i + 1) else {
                    return fail(
                        2,
                        format!(
                            "cmmakepkg: option {} requires an argument\n{usage}",
                            args[i]
                        ),
                    );
                };
                if args[i] == "-m" {
                    module = Some(v.clone());
                } else {
                    name = Some(v.clone());
                }
                i += 2;
                continue;
            }
            a if a.starts_with('-') => {
                return fail(
                    2,
                    format!("cmmakepkg: illegal option -- {}\n{usage}", &a[1..]),
                )
            }
            a => {
                if file.is_some() {
                    return fail(2, usage);
                }
                file = Some(a.to_string());
            }
        }
        i += 1;
    }
    if module.as_deref() != Some("tkit/vtn/vtn") {
        return fail(
            2,
            format!(
                "cmmakepkg: the simulator makes only toolkit templates (-m tkit/vtn/vtn), not {}\n",
                module.as_deref().unwrap_or("legacy packages")
            ),
        );
    }
    let vm = name.unwrap_or_default();
    let (pkg, dir) = if vm.is_empty() {
        (String::new(), String::new())
    } else {
        (vm.clone(), format!("{CMCLUSTER}/{vm}"))
    };
    let text = conf::render_toolkit(&pkg, &["*".to_string()], &dir, &[]);
    let Some(f) = file else {
        return ok(text);
    };
    let now = w.now_ms;
    let Some(os) = w.host_mut(host) else {
        return fail(1, "cmmakepkg: no such host\n");
    };
    let path = fs::normalize(&f);
    if fs::is_file(os, &path) || fs::is_dir(os, &path) {
        return fail(
            1,
            format!("cmmakepkg: {f} already exists; remove it or choose another file name.\n"),
        );
    }
    if !fs::is_dir(os, &fs::parent(&path)) {
        return fail(
            1,
            format!("cmmakepkg: Unable to create {f}: No such file or directory\n"),
        );
    }
    fs::write_file(os, &path, text, 0o666 & !io.umask, now);
    ok("Package template is created.\nThis file must be edited before it can be used.\n")
}

// ----- cmcheckconf / cmapplyconf ---------------------------------------------------------

/// A package file that passed the checks.
pub(crate) struct Checked {
    name: String,
    kind: PackageKind,
    nodes: Vec<String>,
    services: Vec<ServiceSpec>,
    log_file: String,
    tkit_dir: Option<String>,
    maintenance_flag: bool,
    failover_policy: String,
    failback_policy: String,
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

fn file_arg(args: &[String], cmd: &str) -> Result<String, Output> {
    match args {
        [p, f] if p == "-P" => Ok(f.clone()),
        [p, f, v] | [v, p, f] if p == "-P" && v == "-v" => Ok(f.clone()),
        _ => Err(fail(
            2,
            format!("usage: {cmd} [-v] -P package_file\n(the simulator checks one package file)\n"),
        )),
    }
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

/// Record a checked package file in the cluster (what `cmapplyconf` does after the checks).
pub(crate) fn apply(st: &mut HpvmState, w: &mut World, c: Checked) {
    let services: Vec<Service> = c
        .services
        .iter()
        .map(|s| Service {
            name: s.name.clone(),
            cmd: s.cmd.clone(),
            restart: conf::restart_of(&s.restart).unwrap_or(Restart::None),
            restarts: 0,
            up: false,
        })
        .collect();
    match st.package(&c.name) {
        None => {
            let switching = c.nodes.iter().map(|n| (n.clone(), true)).collect();
            st.packages.push(Package {
                name: c.name,
                kind: c.kind,
                nodes: c.nodes,
                up: false,
                owner: None,
                autorun: false,
                switching,
                services,
                failover_policy: c.failover_policy,
                failback_policy: c.failback_policy,
                log_file: c.log_file,
                tkit_dir: c.tkit_dir,
                maintenance_flag: c.maintenance_flag,
                legacy_control_script: None,
            });
        }
        Some(p) => {
            let old = st.packages[p].clone();
            let switching = c
                .nodes
                .iter()
                .map(|n| (n.clone(), old.switching.get(n).copied().unwrap_or(true)))
                .collect();
            let mut new_services = services;
            for s in &mut new_services {
                if let Some(o) = old
                    .services
                    .iter()
                    .find(|o| o.name == s.name && o.cmd == s.cmd)
                {
                    s.up = o.up;
                    s.restarts = o.restarts;
                }
            }
            {
                let pkg = &mut st.packages[p];
                pkg.kind = c.kind;
                pkg.nodes = c.nodes;
                pkg.switching = switching;
                pkg.failover_policy = c.failover_policy;
                pkg.failback_policy = c.failback_policy;
                pkg.log_file = c.log_file;
                pkg.tkit_dir = c.tkit_dir;
                pkg.maintenance_flag = c.maintenance_flag;
            }
            // Services that went away stop; new ones start when the package runs.
            let prefix = format!("{}/", old.name);
            let keep: Vec<String> = new_services
                .iter()
                .filter(|s| s.up)
                .map(|s| format!("{prefix}{}", s.name))
                .collect();
            for g in &mut st.guests {
                g.procs.retain(|pr| {
                    pr.monitored_by
                        .as_ref()
                        .is_none_or(|k| !k.starts_with(&prefix) || keep.contains(k))
                });
            }
            st.packages[p].services = new_services;
            if let Some(owner) = old.owner.clone() {
                for s in 0..st.packages[p].services.len() {
                    if !st.packages[p].services[s].up {
                        let (sname, cmd) = {
                            let sv = &mut st.packages[p].services[s];
                            sv.up = true;
                            (sv.name.clone(), sv.cmd.clone())
                        };
                        st.pkg_log(
                            w,
                            p,
                            &owner,
                            &format!("Starting service {sname} using \"{cmd}\""),
                        );
                        st.start_appmon(w, p, s);
                    }
                }
            }
        }
    }
}

/// `cmapplyconf -P FILE`: the checks, the confirmation (`y`/`n` read from standard input;
/// an empty answer takes the default, yes), then the package is recorded.
pub(crate) fn cmapplyconf(
    st: &mut HpvmState,
    w: &mut World,
    host: &str,
    args: &[String],
    io: &mut ProcessIo,
) -> Output {
    let file = match file_arg(args, "cmapplyconf") {
        Ok(f) => f,
        Err(o) => return o,
    };
    let mut out = String::from("Begin package verification...\n");
    let c = match check(st, w, host, &file) {
        Ok(c) => c,
        Err(errs) => {
            return Output::new(
                1,
                out,
                format!(
                    "{}\ncmapplyconf: Unable to apply the configuration\n",
                    errs.join("\n")
                ),
            )
        }
    };
    let running = st.package(&c.name).is_some_and(|p| st.packages[p].up);
    if running {
        out.push_str("One or more of the specified packages are running. Any error in the\nproposed configuration change could cause these packages to fail.\nEnsure configuration changes have been tested before applying them.\n");
    }
    let existed = st.package(&c.name).is_some();
    out.push_str(if existed {
        "Modify the package configuration ([y]/n)? "
    } else {
        "Adding the package configuration for package "
    });
    if !existed {
        out.push_str(&format!("{}.\n", c.name));
    }
    let answer_raw = io.read_stdin();
    let answer = String::from_utf8_lossy(&answer_raw);
    let answer = answer
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if existed {
        out.push_str(&format!("{answer}\n"));
        if !(answer.is_empty() || answer == "y" || answer == "yes") {
            return Output::new(
                1,
                out,
                "cmapplyconf: The package configuration was not modified.\n",
            );
        }
    }
    let name = c.name.clone();
    apply(st, w, c);
    HpvmState::syslog(
        w,
        host,
        "cmclconfd[2101]",
        &format!("Updated the configuration of package {name}"),
    );
    out.push_str("Completed the cluster update\n");
    ok(out)
}

/// `cmdeleteconf -f -p PKG`: removes a halted package from the cluster.
pub(crate) fn cmdeleteconf(
    st: &mut HpvmState,
    _w: &mut World,
    _host: &str,
    args: &[String],
) -> Output {
    let usage = "usage: cmdeleteconf [-f] [-p package_name]\n";
    let mut force = false;
    let mut name = None;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-f" => force = true,
            "-p" => {
                name = args.get(i + 1).cloned();
                i += 1;
            }
            _ => return fail(2, usage),
        }
        i += 1;
    }
    let Some(name) = name else {
        return fail(2, "cmdeleteconf: deleting the whole cluster is not emulated by the simulator; give -p package_name\n");
    };
    if !force {
        return fail(
            2,
            "cmdeleteconf: confirmation prompts are not emulated by the simulator; use -f\n",
        );
    }
    let Some(p) = st.package(&name) else {
        return no_package("cmdeleteconf", &name);
    };
    if st.packages[p].up {
        return fail(
            1,
            format!("cmdeleteconf: Package {name} is running; halt it (cmhaltpkg {name}) before deleting it.\n"),
        );
    }
    st.packages.remove(p);
    ok("Completed the cluster update\n")
}
