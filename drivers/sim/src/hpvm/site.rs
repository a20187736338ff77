//! The default Serviceguard site: VM hosts `node1` and `node2` (cluster `cluster1`), guest
//! `slvm1` (VM #8, whole disk, packaged with the toolkit, application monitoring keys set
//! up) and guest `slvm2` (VM #9, shared LVM logical volume, not packaged), both running on
//! `node1` — the manual's example. A scenario changes this description before the files
//! are written, so package files, registrations and logs agree with it.

use std::collections::BTreeMap;

use super::conf::{self, ServiceSpec};
use super::fs::{self, SEED_MTIME_MS};
use super::scenario::{self, KindSpec};
use super::tkit::parse_appmon;
use super::{
    Event, Fault, Guest, HpvmState, MigrateFault, Nic, NodeState, Package, PackageKind, Product,
    Restart, Service, Storage, StorageKind, VmHost, CMCLUSTER, MAINTENANCE_FILE, SYSLOG,
    TKIT_SCRIPTS,
};
use crate::timefmt::{self, START_MS};
use crate::world::{HostOs, Meta, Uname, World, HOSTS_FILE};

const PLATFORM: &str = "ia64 hp Integrity BL860c i4";
const DAY_MS: u64 = 86_400_000;
const NODE_BOOT_MS: u64 = START_MS - 30 * DAY_MS;
const GUEST_BOOT_MS: u64 = START_MS - 2 * DAY_MS;

/// The default passwords of the manual's key stores (the simulator keeps only hashes).
const CLIENT_PW: &str = "clientpw";
const SERVER_PW: &str = "serverpw";
const PUBLIC_PW: &str = "public";

fn node_address(name: &str) -> String {
    let n: u32 = name
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .unwrap_or(9);
    format!("192.0.2.{}", 30 + n)
}

fn products_list() -> Vec<Product> {
    let p = |n: &str, r: &str, t: &str| Product {
        name: n.into(),
        revision: r.into(),
        title: t.into(),
    };
    vec![
        p(
            "HPUX11i-VSE-OE",
            "B.11.31.1403",
            "HP-UX Virtual Server Operating Environment",
        ),
        p("HPVM", "B.04.30", "Integrity VM"),
        p("Jdk6", "6.0.11.00", "Java 6.0 JDK"),
        p(
            "SG-IVS-Toolkit",
            "B.01.00",
            "HP Serviceguard Toolkit for Integrity Virtual Servers",
        ),
        p("T1905CA", "A.11.20.00", "Serviceguard"),
        p(
            "T8718AC",
            "B.04.30",
            "Integrity VM Online Migration Software",
        ),
    ]
}

fn hosts_file(entries: &[(String, String)]) -> String {
    let mut s = String::from("# /etc/hosts\n127.0.0.1\tlocalhost loopback\n");
    for (a, n) in entries {
        s.push_str(&format!("{a}\t{n}\n"));
    }
    s
}

fn fnv(s: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn keystore(pw: &str, alias: &str, kind: &str) -> String {
    format!("#simulated-keystore {}\n{alias} {kind}\n", fnv(pw))
}

fn put(os: &mut HostOs, path: &str, content: String, perm: u32) {
    let parent = fs::parent(path);
    if !os.meta.contains_key(&parent) {
        fs::mkdirs(os, &parent, 0o755, SEED_MTIME_MS);
    }
    os.files.insert(path.to_string(), content);
    os.meta
        .insert(path.to_string(), Meta::file(perm, SEED_MTIME_MS));
}

/// The folders every HP-UX host has (`/tmp` sticky and world-writable).
fn base_dirs(os: &mut HostOs) {
    for (d, perm) in [("/tmp", 0o1777), ("/var/tmp", 0o1777), ("/root", 0o700)] {
        os.meta.insert(d.to_string(), Meta::dir(perm, NODE_BOOT_MS));
    }
}

/// A LAN switch (lan0 → lan1) on `host`: the SG IVS toolkit's `vswitchmgr` moves the
/// vswitch; with an old-toolkit package there, the old toolkit's `vswitchmon` manages it too
/// and logs the manual's warning, accepting the other's configuration (§1, the comparison of
/// the two toolkits). The first line's wording is the simulator's own.
fn lan_switch(w: &mut World, host: &str, old_toolkit: bool) {
    let ip = node_address(host);
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

fn syslog_lines(host: &str, base: u64, items: &[(u64, &str)]) -> String {
    items
        .iter()
        .map(|(off, text)| format!("{} {host} {text}\n", timefmt::syslog(base + off * 1000)))
        .collect()
}

/// The start of a Red Hat guest's `/etc/profile` (before `export PATH`).
const LINUX_PROFILE: &str = "# /etc/profile\n\npathmunge () {\n\tif ! echo $PATH | /bin/egrep -q \"(^|:)$1($|:)\" ; then\n\t   PATH=$PATH:$1\n\tfi\n}\n\nif [ `id -u` = 0 ]; then\n\tpathmunge /sbin\n\tpathmunge /usr/sbin\nfi\n";

/// HP-UX's `uname` on a VM host or an HP-UX guest of release `release`.
fn hpux_uname(release: &str) -> Uname {
    Uname {
        sysname: "HP-UX".into(),
        release: release.into(),
        version: "U".into(),
        machine: "ia64".into(),
    }
}

/// What a VM host keeps in `/opt/hp/serviceguard/cmappserver` (installed with
/// Serviceguard): a depot per HP-UX release, an rpm per Linux distribution, Windows' exe.
fn host_software(os: &mut HostOs) {
    use super::cmappserver::{depot_text, rpm_text, HOST_REVISION, SOFTWARE_DIR};
    os.uname = Some(hpux_uname("B.11.31"));
    for (sub, file, text) in [
        (
            "11iv2",
            "cmappserver.depot",
            depot_text(HOST_REVISION, "B.11.23"),
        ),
        (
            "11iv3",
            "cmappserver.depot",
            depot_text(HOST_REVISION, "B.11.31"),
        ),
        (
            "redhat",
            "cmappserver_rhel5_ia64.rpm",
            rpm_text(HOST_REVISION),
        ),
        ("sles", "cmappserver_sles_ia64.rpm", rpm_text(HOST_REVISION)),
        (
            "windows",
            "cmappserver.exe",
            "MZ simulated cmappserver installer\n".into(),
        ),
    ] {
        put(os, &format!("{SOFTWARE_DIR}/{sub}/{file}"), text, 0o444);
    }
}

/// A guest's `uname` and release files by its OS.
fn guest_os_files(os: &mut HostOs, g: &Guest, distribution: Option<&str>, release: Option<&str>) {
    match g.os_type.as_str() {
        "LINUX" => {
            let sles = distribution == Some("sles");
            os.uname = Some(Uname {
                sysname: "Linux".into(),
                release: release
                    .unwrap_or(if sles {
                        "2.6.16.60-0.54.5-default"
                    } else {
                        "2.6.18-194.el5"
                    })
                    .into(),
                version: "#1 SMP Tue Mar 16 21:52:43 EDT 2010".into(),
                machine: "ia64".into(),
            });
            if sles {
                put(
                    os,
                    "/etc/SuSE-release",
                    "SUSE Linux Enterprise Server 10 (ia64)\nVERSION = 10\nPATCHLEVEL = 3\n".into(),
                    0o644,
                );
            } else {
                put(
                    os,
                    "/etc/redhat-release",
                    "Red Hat Enterprise Linux Server release 5.5 (Tikanga)\n".into(),
                    0o644,
                );
            }
            // An operator who installed cmappserver added it to root's PATH (§5 step 3).
            let path_line = if g.cmappserver {
                "PATH=$PATH:/opt/hp/cmappserver\n"
            } else {
                ""
            };
            put(
                os,
                "/etc/profile",
                format!("{LINUX_PROFILE}{path_line}export PATH\n"),
                0o644,
            );
        }
        "WINDOWS" => {}
        _ => os.uname = Some(hpux_uname(release.unwrap_or("B.11.31"))),
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
            if !products_list().iter().any(|x| x.name == *p) {
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
    let sg_release = h.sg_release.clone().unwrap_or_else(|| "A.11.20".into());
    let mut nodes = Vec::new();
    for n in &node_names {
        let mut vgs = BTreeMap::new();
        vgs.insert("vg00".to_string(), "available".to_string());
        vgs.insert(
            "vg_slvm2".to_string(),
            if n == "node1" {
                "available, shared, server"
            } else {
                "available, shared, client"
            }
            .to_string(),
        );
        let mut prods = products_list();
        if sg_release != "A.11.20" {
            for p in &mut prods {
                if p.name == "T1905CA" {
                    p.revision = format!("{sg_release}.00");
                }
            }
        }
        if let Some(missing) = h.not_installed.get(n) {
            prods.retain(|p| !missing.contains(&p.name));
        }
        nodes.push(VmHost {
            name: n.clone(),
            address: node_address(n),
            state: NodeState::Running,
            products: prods,
            vgs,
            mounts: vec![
                ("/".into(), "/dev/vg00/lvol3".into(), "vxfs".into()),
                ("/stand".into(), "/dev/vg00/lvol1".into(), "vxfs".into()),
                ("/var".into(), "/dev/vg00/lvol8".into(), "vxfs".into()),
                ("/opt".into(), "/dev/vg00/lvol6".into(), "vxfs".into()),
            ],
            missing_vswitches: h.missing_vswitches.get(n).cloned().unwrap_or_default(),
            heartbeat_ip: Some(node_address(n)),
        });
    }

    // ----- guests ----------------------------------------------------------------------
    let mut guests = vec![
        Guest {
            name: "slvm1".into(),
            number: 8,
            os_type: "HPUX".into(),
            vcpus: 1,
            memory: "2 GB".into(),
            // The manual's transcript's disk, and an empty DVD drive on an AVIO adaptor as
            // real hosts show (`null` with the drive's device file: no medium).
            storage: vec![
                Storage::disk(StorageKind::Disk, "/dev/rdisk/disk109"),
                Storage {
                    guest_device: "dvd".into(),
                    adaptor: "avio_stor".into(),
                    address: Some([0, 1, 0, 1, 0]),
                    ..Storage::disk(StorageKind::Null, "/dev/rdisk/disk200")
                },
            ],
            nics: vec![
                Nic {
                    vswitch: "localnet".into(),
                    port: 2,
                    bus: 0,
                    dev: 0,
                    ftn: 0,
                    mac: "0a-49-5b-35-75-27".into(),
                },
                Nic {
                    vswitch: "myswitch".into(),
                    port: 1,
                    bus: 0,
                    dev: 1,
                    ftn: 0,
                    mac: "f2-54-d5-3b-fd-c7".into(),
                },
            ],
            registered: vec!["node1".into(), "node2".into()],
            home: "node1".into(),
            running: true,
            booted_ms: GUEST_BOOT_MS,
            procs: Vec::new(),
            cmappserver: true,
            cmappserver_revision: None,
            java: None,
        },
        Guest {
            name: "slvm2".into(),
            number: 9,
            os_type: "HPUX".into(),
            vcpus: 1,
            memory: "2 GB".into(),
            storage: vec![Storage {
                adaptor: "avio_stor".into(),
                address: Some([0, 1, 0, 0, 0]),
                ..Storage::disk(StorageKind::Lv, "/dev/vg_slvm2/rlvol1")
            }],
            nics: vec![Nic {
                vswitch: "localnet".into(),
                port: 3,
                bus: 0,
                dev: 0,
                ftn: 0,
                mac: "0a-49-5b-35-75-28".into(),
            }],
            registered: vec!["node1".into()],
            home: "node1".into(),
            running: true,
            booted_ms: GUEST_BOOT_MS,
            procs: Vec::new(),
            cmappserver: false,
            cmappserver_revision: None,
            java: None,
        },
    ];
    for (name, gs) in &h.guests {
        let Some(g) = guests.iter_mut().find(|g| g.name == *name) else {
            continue;
        };
        if let Some(st) = &gs.storage {
            g.storage = st
                .iter()
                .map(|row| {
                    let (k, d, guest_device) = match row.as_slice() {
                        [k, d] => (k, d, None),
                        [k, d, gd] => (k, d, Some(gd.clone())),
                        _ => {
                            return Err(format!(
                                "[hpvm.guests.{name}] storage entry {row:?}: use [kind, device] or [kind, device, guest device]"
                            ))
                        }
                    };
                    let kind = match k.as_str() {
                        "disk" => StorageKind::Disk,
                        "lv" => StorageKind::Lv,
                        "file" => StorageKind::File,
                        "null" => StorageKind::Null,
                        other => {
                            return Err(format!(
                                "[hpvm.guests.{name}] storage kind {other:?}: use disk, lv, file or null"
                            ))
                        }
                    };
                    Ok(Storage {
                        guest_device: guest_device.unwrap_or_else(|| "disk".into()),
                        ..Storage::disk(kind, d.clone())
                    })
                })
                .collect::<Result<_, String>>()?;
        }
        if let Some(r) = gs.running {
            g.running = r;
        }
        if let Some(os) = &gs.os {
            g.os_type = match os.as_str() {
                "hpux" => "HPUX",
                "linux" => "LINUX",
                "windows" => "WINDOWS",
                other => {
                    return Err(format!(
                        "[hpvm.guests.{name}] os {other:?}: use hpux, linux or windows"
                    ))
                }
            }
            .into();
        }
        if let Some(d) = &gs.distribution {
            if g.os_type != "LINUX" || (d != "redhat" && d != "sles") {
                return Err(format!(
                    "[hpvm.guests.{name}] distribution {d:?}: a linux guest's redhat or sles"
                ));
            }
        }
        if let Some(c) = gs.cmappserver {
            g.cmappserver = c;
        }
        g.cmappserver_revision = gs.cmappserver_revision.clone();
        g.java = gs
            .java
            .clone()
            .or_else(|| (g.os_type == "LINUX").then(|| "1.6.0_20".to_string()));
        if let Some(reg) = &gs.registered {
            for n in reg {
                if !node_names.contains(n) {
                    return Err(format!(
                        "[hpvm.guests.{name}] registered on unknown node {n}"
                    ));
                }
            }
            g.registered = reg.clone();
        }
    }

    // ----- the package of slvm1 --------------------------------------------------------
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

    // ----- files ---------------------------------------------------------------------
    let mut hosts = BTreeMap::new();
    let mut entries: Vec<(String, String)> = nodes
        .iter()
        .map(|n| (n.address.clone(), n.name.clone()))
        .collect();
    entries.push(("192.0.2.41".into(), "slvm1".into()));
    entries.push(("192.0.2.42".into(), "slvm2".into()));
    let hosts_text = hosts_file(&entries);
    let nfs = guests
        .iter()
        .flat_map(|g| g.storage.iter())
        .any(|s| s.kind == StorageKind::File && s.device.starts_with("/var/opt/hpvm/nfs/"));
    for n in &mut nodes {
        let mut os = HostOs::new(&n.name, PLATFORM);
        base_dirs(&mut os);
        put(&mut os, HOSTS_FILE, hosts_text.clone(), 0o444);
        os.files.insert(
            SYSLOG.into(),
            syslog_lines(
                &n.name,
                NODE_BOOT_MS,
                &[
                    (0, "vmunix: Boot device's HP-UX revision is B.11.31"),
                    (62, "cmcld[2077]: Daemon Initialization - Maximum number of packages supported for this incarnation is 300."),
                    (75, "cmcld[2077]: Node joined the cluster cluster1"),
                    (80, "hpvmnetd[2150]: Integrity VM network daemon started"),
                ],
            ),
        );
        for f in [
            "cmdeployvpkg",
            "cmmovevpkg",
            "tkit_module.sh",
            "havtn.sh",
            "havtn.mon",
        ] {
            put(
                &mut os,
                &format!("{TKIT_SCRIPTS}/{f}"),
                format!("#!/usr/bin/sh\n# SG IVS toolkit {f} (simulated)\n"),
                0o755,
            );
        }
        put(
            &mut os,
            "/etc/cmcluster/modules/tkit/vtn/vtn.1",
            "# tkit/vtn/vtn module (simulated)\n".into(),
            0o444,
        );
        // §3 table 2: `vtn` is a symbolic link to `vtn.1`.
        os.links
            .insert("/etc/cmcluster/modules/tkit/vtn/vtn".into(), "vtn.1".into());
        put(
            &mut os,
            "/sbin/init.d/vswitchmgr",
            "#!/sbin/sh\n".into(),
            0o555,
        );
        // §5 step 3: the guests' cmappserver software.
        host_software(&mut os);
        // Application monitoring keys (B4) and cmappmgr.conf.
        put(
            &mut os,
            "/etc/cmcluster/cmappmgr/client.private",
            keystore(CLIENT_PW, "clientprivate", "PrivateKeyEntry"),
            0o600,
        );
        put(
            &mut os,
            "/etc/cmcluster/cmappmgr/client.public",
            keystore(PUBLIC_PW, "clientpublic", "trustedCertEntry"),
            0o644,
        );
        put(
            &mut os,
            "/etc/cmcluster/cmappmgr/server_slvm1.public",
            keystore(PUBLIC_PW, "serverpublic", "trustedCertEntry"),
            0o644,
        );
        put(
            &mut os,
            "/etc/cmappmgr.conf",
            format!(
                "keyStore=/etc/cmcluster/cmappmgr/client.private\nkeyStorePassword={CLIENT_PW}\ntrustStore=slvm1:/etc/cmcluster/cmappmgr/server_slvm1.public\ntrustStorePassword={PUBLIC_PW}\n"
            ),
            0o600,
        );
        // The package directory and file.
        let dir = format!("{CMCLUSTER}/slvm1");
        let on_list = pkg_nodes.contains(&n.name);
        if on_list {
            put(
                &mut os,
                &format!("{dir}/slvm1.conf"),
                pkg_text.clone(),
                0o644,
            );
            if kind == PackageKind::OldToolkit {
                put(
                    &mut os,
                    &format!("{dir}/hpvmsg_mon"),
                    "#!/usr/bin/sh\n# hpvmsg_mon: Integrity VM toolkit guest monitor (simulated)\n"
                        .into(),
                    0o755,
                );
                put(
                    &mut os,
                    &format!("{dir}/hpvmsg_ext"),
                    "#!/usr/bin/sh\n# hpvmsg_ext: Integrity VM toolkit external script (simulated)\n".into(),
                    0o755,
                );
            }
            if ps.maintenance.contains(&n.name) {
                put(
                    &mut os,
                    &format!("{dir}/{MAINTENANCE_FILE}"),
                    String::new(),
                    0o644,
                );
            }
        }
        if nfs {
            n.mounts.push((
                "/var/opt/hpvm/nfs".into(),
                "nfsserver:/export/hpvm".into(),
                "nfs".into(),
            ));
            for g in &guests {
                for s in &g.storage {
                    if s.kind == StorageKind::File {
                        put(&mut os, &s.device, String::new(), 0o600);
                    }
                }
            }
        }
        hosts.insert(n.name.clone(), os);
    }
    if let Some(m) = ps.maintenance.iter().find(|m| !node_names.contains(m)) {
        return Err(format!(
            "[hpvm.packages.slvm1] maintenance on unknown node {m}"
        ));
    }
    // The package log on the node that started it.
    if let Some(os) = hosts.get_mut(&home) {
        let t = |off: u64| timefmt::syslog(GUEST_BOOT_MS - 60_000 + off * 1000);
        let mut log = String::new();
        let lines: &[(u64, &str)] = &[
            (0, "Starting package at"),
            (0, "Starting virtual machine slvm1"),
            (45, "Virtual machine slvm1 started"),
        ];
        for (off, text) in lines {
            let text = if *text == "Starting package at" {
                format!("Starting package at {}", t(*off))
            } else {
                text.to_string()
            };
            log.push_str(&format!("{} - Node \"{home}\": {text}\n", t(*off)));
        }
        for s in std::iter::once(&guest_monitor).chain(appmons.iter()) {
            log.push_str(&format!(
                "{} - Node \"{home}\": Starting service {} using \"{}\"\n",
                t(45),
                s.name,
                s.cmd
            ));
        }
        if ps.maintenance.contains(&home) {
            for text in [
                "WARNING: Maintenance mode is enabled for the package",
                "Disable the maintenance mode to start service monitoring",
            ] {
                log.push_str(&format!("{} - Node \"{home}\": {text}\n", t(45)));
            }
        }
        log.push_str(&format!(
            "{} - Node \"{home}\": Package start completed.\n",
            t(45)
        ));
        if !up {
            log.push_str(&format!(
                "{} - Node \"{home}\": Halting package at {}\n{} - Node \"{home}\": Virtual machine slvm1 stopped\n{} - Node \"{home}\": Package halt completed.\n",
                t(3600),
                t(3600),
                t(3620),
                t(3620)
            ));
        }
        os.files.insert(package.log_file.clone(), log);
        if sc.fault.cmappserver_unreachable && up {
            let at = timefmt::syslog(GUEST_BOOT_MS - 15_000 + 240_000);
            let tag = format!("{home} cmappmgr[5654]:");
            let mut text = os.files.get(SYSLOG).cloned().unwrap_or_default();
            for line in [
                "Could not connect to the node slvm1 Connection timed out (errno:238)",
                "java.net.ConnectException: Connection timed out (errno:238)",
                "PROGRAM EXIT CODE 1",
            ] {
                text.push_str(&format!("{at} {tag} {line}\n"));
            }
            os.files.insert(SYSLOG.into(), text);
        }
    }
    for m in &h.modes {
        let Some(os) = hosts.get_mut(&m.host) else {
            return Err(format!("[[hpvm.modes]] unknown host {}", m.host));
        };
        let perm = u32::from_str_radix(&m.mode, 8)
            .ok()
            .filter(|p| *p <= 0o7777)
            .ok_or_else(|| format!("[[hpvm.modes]] mode {:?} is not octal", m.mode))?;
        let path = fs::normalize(&m.path);
        let mut meta = fs::meta(os, &path).unwrap_or_else(|| Meta::dir(0o755, SEED_MTIME_MS));
        meta.mode = (meta.mode & !0o7777) | perm;
        os.meta.insert(path, meta);
    }
    for g in &guests {
        let mut os = HostOs::new(&g.name, PLATFORM);
        base_dirs(&mut os);
        let spec = h.guests.get(&g.name);
        guest_os_files(
            &mut os,
            g,
            spec.and_then(|s| s.distribution.as_deref()),
            spec.and_then(|s| s.release.as_deref()),
        );
        put(&mut os, HOSTS_FILE, hosts_text.clone(), 0o444);
        os.files.insert(
            SYSLOG.into(),
            syslog_lines(
                &g.name,
                GUEST_BOOT_MS,
                &[
                    (0, "vmunix: Boot device's HP-UX revision is B.11.31"),
                    (30, "syslogd: restart"),
                ],
            ),
        );
        if g.cmappserver {
            let d = "/opt/hp/cmappserver";
            put(
                &mut os,
                &format!("{d}/server.private"),
                keystore(SERVER_PW, "serverprivate", "PrivateKeyEntry"),
                0o600,
            );
            put(
                &mut os,
                &format!("{d}/server.public"),
                keystore(PUBLIC_PW, "serverpublic", "trustedCertEntry"),
                0o644,
            );
            put(
                &mut os,
                &format!("{d}/client.public"),
                keystore(PUBLIC_PW, "clientpublic", "trustedCertEntry"),
                0o644,
            );
            put(
                &mut os,
                &format!("{d}/cmappserver.conf"),
                format!(
                    "keyStore={d}/server.private\nkeyStorePassword={SERVER_PW}\ntrustStore={d}/client.public\ntrustStorePassword={PUBLIC_PW}\n"
                ),
                0o600,
            );
            put(
                &mut os,
                &format!("{d}/cmappserver.jar"),
                String::new(),
                0o644,
            );
        }
        hosts.insert(g.name.clone(), os);
    }
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
