//! `cmviewcl`: the cluster, node and package tables, `-v`'s details, `-f line`'s
//! `key=value` lines (A.11.19 and later).

use hascript_api::Output;

use super::{fail, node_status, ok};
use crate::hpvm::{HpvmState, NodeState, Package};

fn on_off(b: bool) -> &'static str {
    if b {
        "enabled"
    } else {
        "disabled"
    }
}

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
