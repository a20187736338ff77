//! The guest cluster's commands, run on a guest: `cftool`, `cfset`, `sdtool`, `hvdisp`,
//! `clsnmpsetup`. Layouts follow the manual's samples (seed 003, §17.3.1.2) where it has
//! them, and `formats.md` elsewhere.

use hascript_api::Output;

use super::{AgentRow, LdomsState, SfPhase, SF_UNKNOWN_MS};
use crate::world::World;

/// The XSCF shutdown agents of every cluster host, in `sdtool -s` order, with the XSCF
/// LAN each one talks to (0: `IP-address1`, 1: `IP-address2`).
const AGENTS: &[(&str, usize)] = &[
    ("SA_xscfsnmpg0p.so", 0),
    ("SA_xscfsnmpg1p.so", 1),
    ("SA_xscfsnmpg0r.so", 0),
    ("SA_xscfsnmpg1r.so", 1),
];

fn ok(stdout: String) -> Output {
    Output::new(0, stdout, "")
}

/// Pad `cells` to `widths` (at least one space between cells); the last cell is not padded.
fn row(cells: &[&str], widths: &[usize]) -> String {
    let mut s = String::new();
    let n = cells.len();
    for (i, c) in cells.iter().enumerate() {
        s.push_str(c);
        if i + 1 < n {
            let w = widths.get(i).copied().unwrap_or(0);
            let pad = w.saturating_sub(c.chars().count()).max(1);
            s.push_str(&" ".repeat(pad));
        }
    }
    s.push('\n');
    s
}

fn guest_of(st: &LdomsState, host: &str) -> Option<usize> {
    st.guest_by_host(host)
}

/// `cftool -n` (all nodes) and `cftool -l` (the local node).
pub(crate) fn cftool(st: &mut LdomsState, _w: &mut World, host: &str, args: &[String]) -> Output {
    let Some(me) = guest_of(st, host) else {
        return Output::new(1, "", "cftool: CF is not loaded\n");
    };
    let local_only = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["-n"] => false,
        ["-l"] => true,
        _ => {
            return Output::new(
                1,
                "",
                "usage: cftool [-l] [-n]\n(the simulator emulates cftool -n and cftool -l)\n",
            )
        }
    };
    let width = st
        .guests
        .iter()
        .map(|g| g.cf_node.chars().count())
        .max()
        .unwrap_or(0)
        .max(8)
        + 1;
    let widths = [width, 7, 12, 8];
    let mut out = row(&["Node", "Number", "State", "Os", "Cpu"], &widths);
    for (i, g) in st.guests.iter().enumerate() {
        if local_only && i != me {
            continue;
        }
        let num = g.node_number.to_string();
        out.push_str(&row(
            &[&g.cf_node, &num, g.cf.word(), "Solaris", "Sparc"],
            &widths,
        ));
    }
    ok(out)
}

/// `cfset -a` (all tunables) and `cfset -g KEY`.
pub(crate) fn cfset(st: &mut LdomsState, _w: &mut World, _host: &str, args: &[String]) -> Output {
    let timeout = st.cluster.cf_timeout.to_string();
    let tunables: [(&str, &str); 4] = [
        ("CFCP", "cfcp"),
        ("CFSH", "cfsh"),
        ("CLUSTER_TIMEOUT", &timeout),
        ("CFRECVBUFS", "32"),
    ];
    let head = "From cfset configuration in CF module:\n";
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["-a"] => {
            let mut out = head.to_string();
            for (k, v) in tunables {
                out.push_str(&format!("KEY: {k} VALUE: {v}\n"));
            }
            ok(out)
        }
        ["-g", key] => match tunables.iter().find(|(k, _)| k == key) {
            Some((k, v)) => ok(format!("{head}KEY: {k} VALUE: {v}\n")),
            None => Output::new(1, "", format!("cfset: {key}: no such tunable\n")),
        },
        _ => Output::new(
            1,
            "",
            "usage: cfset [-a] [-g tunable]\n(the simulator emulates only the read-only forms)\n",
        ),
    }
}

/// The settled `sdtool -s` rows of node `g`'s shutdown facility, and the XSCF addresses
/// whose first SSH connection is missing from the node's `known_hosts` (message 7245).
///
/// Model: each agent's test logs in to the XSCF it is configured with. It fails
/// (`TestFailed`) when root's `known_hosts` on the testing node lacks that XSCF's host key,
/// or when the scenario makes the host's agents fail after a restart. The test does not
/// check that the configured PPAR really hosts the domain, so a wrong `clovmmigrate -u`
/// target still reads `TestWorked` (only `clsnmpsetup -l` shows it). A node started before
/// its CF node read DOWN reads `InitFailed` on every row.
pub(crate) fn settled_rows(st: &LdomsState, w: &World, g: usize) -> (Vec<AgentRow>, Vec<String>) {
    let local = &st.guests[g];
    let os = w.hosts.get(&local.host);
    let mut rows = Vec::new();
    let mut missing: Vec<String> = Vec::new();
    for target in &st.guests {
        let cfg = st
            .cluster
            .sf_config
            .iter()
            .find(|r| r.cf_node == target.cf_node);
        let forced = st.cluster.sf_starts > 0 && st.fault.sf_test_failed.contains(&target.cf_node);
        for (agent, lan) in AGENTS {
            let ip = cfg.map(|c| {
                if *lan == 0 {
                    c.ip1.as_str()
                } else {
                    c.ip2.as_str()
                }
            });
            let known = match (ip, os) {
                (Some(ip), Some(os)) => os.knows_host(ip),
                _ => false,
            };
            if !known {
                if let Some(ip) = ip {
                    if !missing.iter().any(|m| m == ip) {
                        missing.push(ip.to_string());
                    }
                }
            }
            let test = if local.failed_start {
                "TestWorked"
            } else if forced || !known {
                "TestFailed"
            } else {
                "TestWorked"
            };
            let init = if local.failed_start {
                "InitFailed"
            } else {
                "InitWorked"
            };
            rows.push(AgentRow {
                host: target.cf_node.clone(),
                agent: agent.to_string(),
                sa: "Idle".to_string(),
                shut: "Unknown".to_string(),
                test: test.to_string(),
                init: init.to_string(),
            });
        }
    }
    if local.failed_start {
        missing.clear();
    }
    (rows, missing)
}

/// `sdtool -s` (status), `sdtool -b` (start), `sdtool -e` (stop).
pub(crate) fn sdtool(st: &mut LdomsState, w: &mut World, host: &str, args: &[String]) -> Output {
    let Some(me) = guest_of(st, host) else {
        return Output::new(1, "", "sdtool: The RCSD is not running\n");
    };
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["-s"] => {}
        ["-b"] => {
            if st.guests[me].sf == SfPhase::Stopped {
                st.sf_start(w, me);
            }
            return Output::new(0, "", "");
        }
        ["-e"] => {
            st.sf_stop(me);
            return Output::new(0, "", "");
        }
        _ => {
            return Output::new(
                1,
                "",
                "usage: sdtool [-s] [-b] [-e]\n(the simulator emulates sdtool -s, -b and -e)\n",
            )
        }
    }
    let rows: Vec<AgentRow> = match st.guests[me].sf {
        SfPhase::Stopped => return Output::new(1, "", "sdtool: The RCSD is not running\n"),
        SfPhase::Running => st.guests[me].sf_rows.clone(),
        SfPhase::Starting { since_ms } => {
            let early = w.now_ms.saturating_sub(since_ms) < SF_UNKNOWN_MS;
            let (test, init) = if early {
                ("Unknown", "Unknown")
            } else {
                ("Testing", "Initing")
            };
            st.guests
                .iter()
                .flat_map(|t| {
                    AGENTS.iter().map(move |(agent, _)| AgentRow {
                        host: t.cf_node.clone(),
                        agent: agent.to_string(),
                        sa: "Idle".to_string(),
                        shut: "Unknown".to_string(),
                        test: test.to_string(),
                        init: init.to_string(),
                    })
                })
                .collect()
        }
    };
    let widths = [16, 21, 14, 12, 12];
    let mut out = row(
        &[
            "Cluster Host",
            "Agent",
            "SA State",
            "Shut State",
            "Test State",
            "Init State",
        ],
        &widths,
    );
    out.push_str(&row(
        &[
            "------------",
            "-----",
            "--------",
            "----------",
            "----------",
            "----------",
        ],
        &widths,
    ));
    for r in &rows {
        out.push_str(&row(
            &[&r.host, &r.agent, &r.sa, &r.shut, &r.test, &r.init],
            &widths,
        ));
    }
    ok(out)
}

/// `clsnmpsetup -l`: the shutdown facility's XSCF configuration.
pub(crate) fn clsnmpsetup(
    st: &mut LdomsState,
    _w: &mut World,
    host: &str,
    args: &[String],
) -> Output {
    if args != ["-l"] {
        return Output::new(
            1,
            "",
            "usage: clsnmpsetup -l\n(the simulator emulates only the listing)\n",
        );
    }
    let widths = [12, 19, 9, 13, 16, 16, 15];
    let mut out = row(
        &[
            "device-name",
            "cluster-host-name",
            "PPAR-ID",
            "domain-name",
            "IP-address1",
            "IP-address2",
            "user-name",
            "connection-type",
        ],
        &widths,
    );
    let width = out.trim_end_matches('\n').chars().count();
    out.push_str(&"-".repeat(width));
    out.push('\n');
    // A node that `clovmmigrate -u` did not reach lists the settings it kept.
    let rows = guest_of(st, host)
        .and_then(|g| st.guests[g].sf_config.as_ref())
        .unwrap_or(&st.cluster.sf_config);
    for r in rows {
        let ppar = r.ppar_id.to_string();
        out.push_str(&row(
            &[
                &r.device,
                &r.cf_node,
                &ppar,
                &r.domain,
                &r.ip1,
                &r.ip2,
                &r.user,
                &r.connection,
            ],
            &widths,
        ));
    }
    ok(out)
}

/// `hvdisp -T userApplication` and `hvdisp -a` (RMS resources as the local node sees them).
pub(crate) fn hvdisp(st: &mut LdomsState, _w: &mut World, host: &str, args: &[String]) -> Output {
    let Some(me) = guest_of(st, host) else {
        return Output::new(1, "", "hvdisp: RMS is not running\n");
    };
    let all =
        match args
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["-T", "userApplication"] => false,
            ["-a"] => true,
            _ => return Output::new(
                1,
                "",
                "usage: hvdisp -a | -T userApplication\n(the simulator emulates these two forms)\n",
            ),
        };
    let Some(state) = st.guests[me].rms.clone() else {
        return Output::new(1, "", "hvdisp: RMS is not running\n");
    };
    let local = format!("{}RMS", st.guests[me].cf_node);
    let widths = [20, 8, 20, 13];
    let mut out =
        format!("Local System:  {local}\nConfiguration: /opt/SMAW/SMAWRrms/build/config.us\n\n");
    out.push_str(&row(
        &["Resource", "Type", "HostName", "State", "StateDetails"],
        &widths,
    ));
    out.push_str(&"-".repeat(77));
    out.push('\n');
    let app = st.cluster.app.clone();
    if all {
        for g in &st.guests {
            let name = format!("{}RMS", g.cf_node);
            let s = if g.rms.is_some() { "Online" } else { "Offline" };
            out.push_str(&trim_row(&row(&[&name, "SysNode", "", s], &widths)));
        }
        out.push_str(&trim_row(&row(&[&app, "userApp", "", &state], &widths)));
        for (i, g) in st.guests.iter().enumerate().rev() {
            let machine = format!("Machine{:03}_{app}", i);
            let name = format!("{}RMS", g.cf_node);
            let s = if i == me { state.as_str() } else { "" };
            let line = row(&[&machine, "andOp", &name, s], &widths);
            out.push_str(&trim_row(&line));
        }
    } else {
        let line = row(&[&app, "userApp", "", &state], &widths);
        out.push_str(&trim_row(&line));
    }
    ok(out)
}

/// A row without trailing blanks (an empty last cell leaves padding behind).
fn trim_row(line: &str) -> String {
    format!("{}\n", line.trim_end())
}
