//! A copy of a real Serviceguard site seeded from its reads (see [`crate::seed`]).
//!
//! | emulator state | from |
//! | --- | --- |
//! | VM hosts: names, addresses | the inventory (`vm-host`) |
//! | cluster name, node states, packages (up/down, owner, package and node switching, node list, policies, services with status, restarts and limit) | the last `cmviewcl -v -f line` |
//! | a package's kind (toolkit, old toolkit, plain), `TKIT_DIR`, `MAINTENANCE_FLAG`, log file, service commands | its package file (`cat /etc/cmcluster/P/P.conf`, the owner's copy first) |
//! | guests: number, OS type, CPUs, memory; where they are registered and in which state | `hpvmstatus` and `hpvmstatus -P VM` on each VM host (a failed `-P` = not registered there) |
//! | a guest runs on its package's owner | a VM package up with every service up (the toolkit's guest monitor would have failed it otherwise) |
//! | guests' disks and NICs | `hpvmstatus -P VM` (any host) |
//! | installed products | `swlist -l product NAME` per host (a failure = not installed) |
//! | volume groups | `vgdisplay VG` per host |
//! | mounts | `df -n PATH` per host |
//! | a guest OS's processes, which application each `cmappmgr` service monitors; whether `cmappserver` answers | `ps -ef` in the guest, matched to the services' `-service` commands; its process, or a monitor service up |
//! | files | `cat` (whole), `od -A n -v -t x1` (whole), `ls -ld` / `ls -lA` (mode, owner, group, size, time, link count; a listing is complete), `wc -c` (size only) |
//!
//! Anything not read is a gap: whether a guest is registered on a host whose
//! `hpvmstatus` was never read; a guest whose state is not known everywhere (it might run
//! on a host never asked) or whose disks and NICs were never listed; a package whose file
//! was never read (its kind and toolkit settings); a file's content or mode; a directory's
//! mode or listing (and so `cmcheckconf`/`cmapplyconf`, which check the package
//! directories' modes on every node); products, volume groups, mounts never listed; key
//! stores not read in the simulator's own text form (a real Java key store cannot be
//! represented); processes of a running guest whose `ps -ef` was never read. A read the
//! simulator cannot parse counts as not read. A site that cannot be represented at all (no
//! VM host, a package or node in transition, a VM host that is not a node of the cluster,
//! another cluster than the inventory's) is refused with the reason.
//!
//! Known limits: an `hpvmstatus` summary on a host where it was never read lists only the
//! guests known to be registered there (a gap cannot select a command by its *absence* of
//! arguments); `cp`/`mv` of a file whose content was never read carry filler to a name no
//! gap covers; a guest whose inventory name differs from its VM name has no host in the
//! copy (the emulator knows a guest's OS by its VM name).

use std::collections::{BTreeMap, BTreeSet};

use super::fs;
use super::{Fault, Guest, HpvmState, Package};
use crate::seed::{commands_of, Declared, Observation, SeedInfo};
use crate::world::{canonical_path, World};

mod cluster;
mod files;
mod gaps;
mod guests;
mod hosts;
mod parse;

use cluster::{cluster_nodes, cluster_view, packages_from};
use gaps::{move_gaps, package_file_gaps, undeclared_node_gaps, Gaps};
use guests::guests_from;
use hosts::{guest_processes, read_hosts};

/// One observation as an argument vector.
struct Obs<'a> {
    seq: usize,
    host: &'a str,
    argv: Vec<String>,
    exit: i32,
    stdout: &'a str,
}

impl Obs<'_> {
    /// Whether this runs `program` (base name) with exactly `args`.
    fn is(&self, program: &str, args: &[&str]) -> bool {
        self.program() == program
            && self.argv.len() == args.len() + 1
            && self.argv[1..].iter().zip(args).all(|(a, b)| a == b)
    }

    fn program(&self) -> &str {
        self.argv
            .first()
            .map(|p| p.rsplit('/').next().unwrap_or(p))
            .unwrap_or("")
    }

    fn args(&self) -> Vec<&str> {
        self.argv.iter().skip(1).map(String::as_str).collect()
    }

    fn ok(&self) -> bool {
        self.exit == 0
    }

    /// The command as the plan names it.
    fn shown(&self) -> String {
        let mut v = vec![self.program().to_string()];
        v.extend(self.argv.iter().skip(1).cloned());
        v.join(" ")
    }
}

fn clean(path: &str) -> String {
    canonical_path(&fs::normalize(path)).to_string()
}

/// A read the simulator cannot parse counts as not read: that command is unknown.
fn unreadable(gaps: &mut Gaps, o: &Obs, e: &str) {
    gaps.add(
        Some(o.host),
        o.program(),
        &o.args(),
        &format!(
            "{} on {} answered something the simulator cannot read ({e})",
            o.shown(),
            o.host
        ),
    );
}

/// The emulator's state for a real site: its world, products and gaps; `Err` says why
/// no copy can be made.
pub(crate) fn seed(
    declared: &Declared,
    observations: &[Observation],
    now_ms: u64,
) -> Result<(World, HpvmState, SeedInfo), String> {
    let vm_hosts: Vec<String> = declared
        .with_role("vm-host")
        .map(|h| h.name.clone())
        .collect();
    if vm_hosts.is_empty() {
        return Err("the inventory declares no vm-host".into());
    }
    let obs = single_commands(observations);
    let mut gaps = Gaps::default();
    let view = cluster_view(&obs, &vm_hosts)?;
    let (cluster, mut nodes) = cluster_nodes(declared, &vm_hosts, view.as_ref(), &mut gaps)?;
    let node_names: Vec<String> = nodes.iter().map(|n| n.name.clone()).collect();
    let (mut guests, opaque) = guests_from(
        declared,
        &obs,
        &vm_hosts,
        &node_names,
        view.as_ref().map(|(_, v)| v),
        now_ms,
        &mut gaps,
    );
    let packages = match &view {
        Some((_, v)) => packages_from(v, &obs, &node_names, &guests, &opaque, &mut gaps)?,
        None => Vec::new(),
    };
    let vm_names = vm_names(&guests, &packages, &opaque);
    let site = Site {
        declared,
        obs: &obs,
        vm_hosts: &vm_hosts,
        node_names: &node_names,
        now_ms,
    };
    let reads = read_hosts(&site, &mut nodes, &guests, &packages, &mut gaps)?;
    move_gaps(&site, &nodes, &guests, &vm_names, &mut gaps);
    package_file_gaps(&site, &packages, &vm_names, &reads.dir_known, &mut gaps);
    undeclared_node_gaps(&site, &mut gaps);
    let max_pid = guest_processes(
        &mut guests,
        &packages,
        reads.guest_procs,
        &node_names,
        &mut gaps,
    );

    let partial_files = reads.hosts.keys().cloned().collect();
    let st = HpvmState {
        cluster,
        sg_release: "A.11.20".into(),
        nodes,
        guests,
        packages,
        events: Vec::new(),
        next_seq: 0,
        next_pid: max_pid.saturating_add(1).max(5000),
        fault: Fault::default(),
    };
    let world = World {
        now_ms,
        hosts: reads.hosts,
    };
    let info = SeedInfo {
        gaps: gaps.0,
        partial_files,
        failed_reads: BTreeSet::new(),
        sized_only: reads.sized_only,
        ..SeedInfo::default()
    };
    Ok((world, st, info))
}

/// What every part of the seeding reads: the inventory, the observations, the hosts.
struct Site<'a> {
    declared: &'a Declared,
    obs: &'a [Obs<'a>],
    /// The inventory's VM hosts.
    vm_hosts: &'a [String],
    /// The cluster's nodes (the VM hosts when `cmviewcl` was not read).
    node_names: &'a [String],
    now_ms: u64,
}

/// The observations that ran a single command, as argument vectors (a pipeline or a
/// compound command says nothing the copy can use).
fn single_commands(observations: &[Observation]) -> Vec<Obs<'_>> {
    observations
        .iter()
        .enumerate()
        .filter_map(|(seq, o)| {
            let mut c = commands_of(&o.line);
            (c.len() == 1).then(|| Obs {
                seq,
                host: &o.host,
                argv: c.remove(0),
                exit: o.exit,
                stdout: &o.stdout,
            })
        })
        .collect()
}

/// Every VM name the site knows: guests listed, packages, guests that could not be read.
fn vm_names(
    guests: &[Guest],
    packages: &[Package],
    opaque: &BTreeMap<String, String>,
) -> Vec<String> {
    guests
        .iter()
        .map(|g| g.name.clone())
        .chain(packages.iter().map(|p| p.name.clone()))
        .chain(opaque.keys().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests;
