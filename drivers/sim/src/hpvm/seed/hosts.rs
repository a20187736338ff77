//! What was read on each declared host: products, volume groups, mounts, files, a
//! guest's processes.

use std::collections::{BTreeMap, BTreeSet};

use super::files::HostFiles;
use super::gaps::Gaps;
use super::{clean, parse, unreadable, Obs, Site};
use crate::hpvm::{Guest, Package, Proc, Product, VmHost};
use crate::seed::{DeclaredHost, SizedFile};
use crate::world::HostOs;

/// The products the driver asks `swlist` about.
const PRODUCTS: &[&str] = &["T8718AC", "SG-IVS-Toolkit", "T1905CA", "HPVM"];

/// What the reads on the declared hosts gave: their files, the guests' processes.
pub(super) struct HostReads {
    pub(super) hosts: BTreeMap<String, HostOs>,
    pub(super) sized_only: Vec<SizedFile>,
    pub(super) guest_procs: BTreeMap<String, Vec<Proc>>,
    /// Per host: the paths whose existence or mode is known (for package checks).
    pub(super) dir_known: BTreeMap<String, BTreeSet<String>>,
}

/// How a declared host takes part in the copy.
struct Role {
    is_node: bool,
    /// A guest that runs (a VM host always does).
    running: bool,
    /// A guest an application monitor service watches.
    monitored: bool,
    /// A Windows guest has no SSH server: nothing is ever read in it.
    windows: bool,
}

/// What was read on one host besides its files.
#[derive(Default)]
struct HostSeen {
    vg_read: bool,
    df_read: bool,
    swlist_read: BTreeSet<String>,
    ps: Option<Vec<parse::PsRow>>,
}

/// Every declared host's products, volume groups, mounts, files and processes (a guest
/// the copy cannot show is left out), with a gap for what was not read.
pub(super) fn read_hosts(
    site: &Site,
    nodes: &mut [VmHost],
    guests: &[Guest],
    packages: &[Package],
    gaps: &mut Gaps,
) -> Result<HostReads, String> {
    let mut reads = HostReads {
        hosts: BTreeMap::new(),
        sized_only: Vec::new(),
        guest_procs: BTreeMap::new(),
        dir_known: BTreeMap::new(),
    };
    for h in &site.declared.hosts {
        let on_host: Vec<&Obs> = site.obs.iter().filter(|o| o.host == h.name).collect();
        let Some(role) = host_role(h, &on_host, guests, packages)? else {
            continue;
        };
        let mut os = HostOs::new(&h.name, "");
        let mut files = HostFiles::default();
        let seen = read_host(
            &h.name,
            role.is_node,
            &on_host,
            nodes,
            &mut files,
            site.now_ms,
            gaps,
        );
        let known_dirs = files.apply(&h.name, &mut os, gaps, &mut reads.sized_only);
        reads.dir_known.insert(h.name.clone(), known_dirs);
        gaps.add(
            Some(&h.name),
            "uname",
            &[],
            &format!("uname was not read on {} before the first change", h.name),
        );
        if role.is_node {
            node_gaps(&h.name, &seen, gaps);
        } else {
            guest_host_gaps(&h.name, &role, seen.ps, &mut reads.guest_procs, gaps);
        }
        reads.hosts.insert(h.name.clone(), os);
    }
    Ok(reads)
}

/// The role of host `h`: `None` for a guest the copy cannot show (unknown, or known by
/// another name than its VM's); `Err` for a guest that answered though it is not running.
fn host_role(
    h: &DeclaredHost,
    on_host: &[&Obs],
    guests: &[Guest],
    packages: &[Package],
) -> Result<Option<Role>, String> {
    let mut role = Role {
        is_node: h.role == "vm-host",
        running: true,
        monitored: false,
        windows: false,
    };
    if !role.is_node {
        let vm = h.domain.clone().unwrap_or_else(|| h.name.clone());
        let known = guests.iter().find(|g| g.name == vm);
        let answered = on_host.iter().any(|o| o.ok());
        // The emulator knows a guest's OS by the VM's name. A guest known to be stopped
        // refuses connections, as on the site.
        let Some(g) = known.filter(|_| vm == h.name) else {
            return Ok(None);
        };
        role.running = g.running;
        role.windows = g.os_type == "WINDOWS";
        role.monitored = packages.iter().any(|p| {
            p.services
                .iter()
                .any(|s| s.appmon().is_some_and(|(node, _)| node == vm))
        });
        if answered && !g.running {
            return Err(format!(
                "{} answered before the first change, but hpvmstatus shows guest {vm} not running",
                h.name
            ));
        }
    }
    Ok(Some(role))
}

/// The reads on host `host`: files into `files`; products, volume groups and mounts into
/// its node; a guest's processes returned.
fn read_host(
    host: &str,
    is_node: bool,
    on_host: &[&Obs],
    nodes: &mut [VmHost],
    files: &mut HostFiles,
    now_ms: u64,
    gaps: &mut Gaps,
) -> HostSeen {
    let mut seen = HostSeen::default();
    for o in on_host {
        if files.read(o, now_ms, gaps) {
            continue;
        }
        let args = o.args();
        match (o.program(), args.as_slice()) {
            ("swlist", ["-l", "product", names @ ..]) if is_node && !names.is_empty() => {
                for n in names.iter() {
                    seen.swlist_read.insert(n.to_string());
                }
                for (name, revision, title) in parse::swlist(o.stdout) {
                    if names.contains(&name.as_str()) {
                        if let Some(i) = nodes.iter().position(|n| n.name == host) {
                            let p = &mut nodes[i].products;
                            p.retain(|x| x.name != name);
                            p.push(Product {
                                name,
                                revision,
                                title,
                            });
                        }
                    }
                }
            }
            ("vgdisplay", vgs) if is_node && !vgs.is_empty() => {
                seen.vg_read = true;
                if let Some(i) = nodes.iter().position(|n| n.name == host) {
                    for (vg, status) in parse::vgdisplay(o.stdout) {
                        nodes[i].vgs.insert(vg, status);
                    }
                }
            }
            ("df", ["-n", rest @ ..]) if is_node && o.ok() => match parse::df_n(o.stdout) {
                Ok(m) => {
                    seen.df_read = true;
                    for p in rest.iter() {
                        files.exists(&clean(p));
                    }
                    if let Some(i) = nodes.iter().position(|n| n.name == host) {
                        for (mp, dev, ty) in m {
                            let mounts = &mut nodes[i].mounts;
                            mounts.retain(|x| x.0 != mp);
                            mounts.push((mp, dev, ty));
                        }
                    }
                }
                Err(e) => unreadable(gaps, o, &e),
            },
            ("hpvmmigrate", a) if is_node && !o.ok() => {
                gaps.add(
                    Some(host),
                    "hpvmmigrate",
                    a,
                    &format!(
                        "{} failed on {} before the first change, for a reason the simulated copy may not model",
                        o.shown(),
                        host
                    ),
                );
            }
            ("ps", ["-ef"]) if !is_node && o.ok() => match parse::ps_ef(o.stdout, now_ms) {
                Ok(rows) => seen.ps = Some(rows),
                Err(e) => unreadable(gaps, o, &e),
            },
            _ => {}
        }
    }
    seen
}

/// The gaps of VM host `host`: its processes; products, volume groups and file systems
/// not read.
fn node_gaps(host: &str, seen: &HostSeen, gaps: &mut Gaps) {
    gaps.add(
        Some(host),
        "ps",
        &[],
        &format!("the processes of VM host {host} were not read before the first change"),
    );
    for p in PRODUCTS.iter().filter(|p| !seen.swlist_read.contains(**p)) {
        gaps.add(
            Some(host),
            "swlist",
            &["-l", "product", p],
            &format!("whether {p} is installed on {host} was not read before the first change"),
        );
    }
    if !seen.vg_read {
        gaps.add(
            Some(host),
            "vgdisplay",
            &[],
            &format!("no volume group of {host} was displayed before the first change"),
        );
    }
    if !seen.df_read {
        gaps.add(
            Some(host),
            "df",
            &[],
            &format!("the file systems of {host} were not read before the first change"),
        );
    }
}

/// A guest host's processes into `guest_procs` when read, else a gap (if it runs or is
/// monitored); and a gap for its products.
fn guest_host_gaps(
    host: &str,
    role: &Role,
    ps: Option<Vec<parse::PsRow>>,
    guest_procs: &mut BTreeMap<String, Vec<Proc>>,
    gaps: &mut Gaps,
) {
    match ps {
        Some(rows) => {
            guest_procs.insert(
                host.to_string(),
                rows.into_iter()
                    .map(|r| Proc {
                        pid: r.pid,
                        ppid: r.ppid,
                        user: r.user,
                        cmd: r.cmd,
                        started_ms: r.started_ms,
                        monitored_by: None,
                    })
                    .collect(),
            );
        }
        // A stopped guest has no processes: the copy knows what a boot starts, but
        // for an application monitor, whether cmappserver is installed.
        None if !role.windows && (role.running || role.monitored) => {
            let why = if role.running {
                format!("the processes of {host} (ps -ef) were not read before the first change")
            } else {
                format!(
                    "whether cmappserver is installed in {host} was not read before the first change"
                )
            };
            gaps.add(Some(host), "ps", &[], &why);
            gaps.add(Some(host), "kill", &[], &why);
        }
        None => {}
    }
    gaps.add(
        Some(host),
        "swlist",
        &[],
        &format!("the products of {host} were not read before the first change"),
    );
}

/// The guests' processes (which an application monitor watches) and whether their
/// `cmappserver` answers, with a gap where that was not read. Returns the highest PID.
pub(super) fn guest_processes(
    guests: &mut [Guest],
    packages: &[Package],
    mut guest_procs: BTreeMap<String, Vec<Proc>>,
    node_names: &[String],
    gaps: &mut Gaps,
) -> u32 {
    let mut max_pid = 0;
    for g in guests {
        let monitors: Vec<(String, String)> = packages
            .iter()
            .filter(|p| p.up)
            .flat_map(|p| {
                p.services
                    .iter()
                    .filter(|s| s.up)
                    .filter_map(|s| s.appmon().map(|(node, app)| (node, app, &p.name, &s.name)))
                    .filter(|(node, ..)| *node == g.name)
                    .map(|(_, app, p, s)| (app, format!("{p}/{s}")))
                    .collect::<Vec<_>>()
            })
            .collect();
        let ps_read = guest_procs.contains_key(&g.name);
        if let Some(procs) = guest_procs.remove(&g.name) {
            g.procs = procs;
            for (app, key) in &monitors {
                if let Some(p) = g
                    .procs
                    .iter_mut()
                    .find(|p| p.monitored_by.is_none() && p.cmd == *app)
                {
                    p.monitored_by = Some(key.clone());
                }
            }
            if let Some(init) = g.procs.iter().find(|p| p.pid == 1) {
                g.booted_ms = init.started_ms;
            }
        }
        max_pid = g.procs.iter().map(|p| p.pid).fold(max_pid, u32::max);
        // cmappserver answers when its process was seen, or while a monitor service of
        // the guest is up (cmappmgr keeps a connection to it).
        g.cmappserver =
            g.procs.iter().any(|p| p.cmd.contains("cmappserver")) || !monitors.is_empty();
        if !ps_read && monitors.is_empty() {
            let why = format!(
                "whether cmappserver runs in guest {} was not read (ps -ef in {}) before the first change",
                g.name, g.name
            );
            gaps.add(None, "cmdeployvpkg", &["-Q", "-P", &g.name, "-x"], &why);
            for p in packages.iter().filter(|p| {
                p.services
                    .iter()
                    .any(|s| s.appmon().is_some_and(|(node, _)| node == g.name))
            }) {
                gaps.add(None, "cmrunpkg", &[&p.name], &why);
                for n in node_names {
                    gaps.add(None, "cmrunpkg", &["-n", n, &p.name], &why);
                }
                gaps.add(None, "cmmodpkg", &["-e", &p.name], &why);
            }
        }
    }
    max_pid
}
