//! The default Serviceguard site: VM hosts `node1` and `node2` (cluster `cluster1`), guest
//! `slvm1` (VM #8, whole disk, packaged with the toolkit, application monitoring keys set
//! up) and guest `slvm2` (VM #9, shared LVM logical volume, not packaged), both running on
//! `node1` — the manual's example. A scenario changes this description before the files
//! are written, so package files, registrations and logs agree with it.

mod files;
mod guests;
mod nodes;
mod package;

use super::scenario;
use super::{Event, Fault, HpvmState, MigrateFault, PackageKind};
use crate::timefmt::START_MS;
use crate::world::World;

const PLATFORM: &str = "ia64 hp Integrity BL860c i4";
const DAY_MS: u64 = 86_400_000;
const NODE_BOOT_MS: u64 = START_MS - 30 * DAY_MS;
const GUEST_BOOT_MS: u64 = START_MS - 2 * DAY_MS;

/// A LAN switch (lan0 → lan1) on `host`: the SG IVS toolkit's `vswitchmgr` moves the
/// vswitch; with an old-toolkit package there, the old toolkit's `vswitchmon` manages it too
/// and logs the manual's warning, accepting the other's configuration (§1, the comparison of
/// the two toolkits). The first line's wording is the simulator's own.
fn lan_switch(w: &mut World, host: &str, old_toolkit: bool) {
    let ip = nodes::node_address(host);
    HpvmState::syslog(
        w,
        host,
        "vswitchmgr[3120]",
        "vswitch myswitch reconfigured: lan0 failed, now on lan1",
    );
    if old_toolkit {
        HpvmState::syslog(
            w,
            host,
            "vswitchmon[3188]",
            &format!("Warning! IP Address mis-match : {ip} found on interface lan0 expected lan1"),
        );
    }
}

/// Build the default site, then apply the scenario `text` (if any).
pub(crate) fn build(text: Option<&str>) -> Result<(World, HpvmState), String> {
    let sc = match text {
        Some(t) => scenario::parse(t)?,
        None => scenario::ScenarioFile::default(),
    };
    let h = &sc.hpvm;
    let node_names: Vec<String> = h
        .nodes
        .clone()
        .unwrap_or_else(|| vec!["node1".into(), "node2".into()]);
    check(h, &node_names)?;
    let sg_release = h.sg_release.clone().unwrap_or_else(|| "A.11.20".into());
    let mut nodes = nodes::nodes(h, &node_names, &sg_release);

    let mut guests = guests::guests(h, &node_names)?;

    let pkg = package::slvm1(h, &node_names, &mut guests)?;

    let hosts_text = files::hosts_text(&nodes);
    let mut hosts = files::node_hosts(&mut nodes, &guests, &pkg, &hosts_text);
    if let Some(m) = pkg.maintenance.iter().find(|m| !node_names.contains(m)) {
        return Err(format!(
            "[hpvm.packages.slvm1] maintenance on unknown node {m}"
        ));
    }
    files::package_log(&mut hosts, &pkg, sc.fault.cmappserver_unreachable);
    files::modes(&mut hosts, &h.modes)?;
    files::guest_hosts(&mut hosts, &guests, h, &hosts_text);
    let home = pkg.home;
    let kind = pkg.kind;
    let package = pkg.package;
    let mut world = World {
        now_ms: START_MS,
        hosts,
    };

    let fault = Fault {
        migrate: sc.fault.migrate.unwrap_or(MigrateFault::None),
        migrate_failures: match sc.fault.migrate {
            Some(MigrateFault::None) | None => 0,
            Some(_) => sc.fault.migrate_failures.unwrap_or(1),
        },
        app_failures: sc.fault.app_failures,
        app_lifetime_s: sc.fault.app_lifetime_seconds.unwrap_or(20),
        cmappserver_unreachable: sc.fault.cmappserver_unreachable,
    };
    let mut st = HpvmState {
        cluster: "cluster1".into(),
        sg_release,
        nodes,
        guests,
        packages: vec![package],
        events: Vec::new(),
        next_seq: 0,
        next_pid: 5000,
        fault,
    };
    // The guests' processes, and the monitored applications of a running package.
    for g in 0..st.guests.len() {
        if st.guests[g].running {
            let now = world.now_ms;
            world.now_ms = st.guests[g].booted_ms;
            let procs = st.boot_procs(&world, g);
            world.now_ms = now;
            st.guests[g].procs = procs;
        }
    }
    if st.packages[0].up {
        for s in 0..st.packages[0].services.len() {
            st.start_appmon(&mut world, 0, s);
        }
    }
    if sc.fault.lan_switch {
        lan_switch(&mut world, &home, kind == PackageKind::OldToolkit);
    }
    if let Some(secs) = sc.fault.guest_crash_seconds {
        if !st.guests[0].running {
            return Err("[fault] guest_crash_seconds needs slvm1 running".into());
        }
        let at = world.now_ms.saturating_add(secs.saturating_mul(1000));
        st.schedule(
            at,
            Event::GuestCrash {
                guest: "slvm1".into(),
            },
        );
        // A crash at once happens before the first command (it fails the package over or
        // halts it, which moves the clock).
        let now = world.now_ms;
        st.settle(&mut world, now);
    }
    Ok((world, st))
}

/// The scenario's checks that come before the site is built: the nodes keep node1 and
/// node2, only slvm1 and slvm2 exist, only slvm1 is packaged, products left out and
/// vswitches missing name nodes and things that exist.
fn check(h: &scenario::HpvmSpec, node_names: &[String]) -> Result<(), String> {
    for req in ["node1", "node2"] {
        if !node_names.iter().any(|n| n == req) {
            return Err(format!(
                "[hpvm] nodes must keep {req} (the guests run there)"
            ));
        }
    }
    for name in h.guests.keys() {
        if name != "slvm1" && name != "slvm2" {
            return Err(format!("[hpvm.guests.{name}]: only slvm1 and slvm2 exist"));
        }
    }
    for name in h.packages.keys() {
        if name != "slvm1" {
            return Err(format!("[hpvm.packages.{name}]: only slvm1 is packaged"));
        }
    }
    for (host, products) in &h.not_installed {
        if !node_names.contains(host) {
            return Err(format!(
                "[hpvm] not_installed: {host} is not a node of the site"
            ));
        }
        for p in products {
            if !nodes::products_list().iter().any(|x| x.name == *p) {
                return Err(format!(
                    "[hpvm] not_installed: {host} has no product {p} to leave out"
                ));
            }
        }
    }
    for (host, switches) in &h.missing_vswitches {
        if !node_names.contains(host) {
            return Err(format!(
                "[hpvm] missing_vswitches: {host} is not a node of the site"
            ));
        }
        for v in switches {
            if v != "localnet" && v != "myswitch" {
                return Err(format!(
                    "[hpvm] missing_vswitches: {host}: no guest uses vswitch {v} (use localnet or myswitch)"
                ));
            }
        }
    }
    Ok(())
}
