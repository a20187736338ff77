//! `cmrunpkg`, `cmhaltpkg`, `cmmodpkg`: running, halting a package and switching it on or
//! off per node.

use hascript_api::Output;

use super::{fail, no_package, node_status, ok};
use crate::hpvm::HpvmState;
use crate::world::World;

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
