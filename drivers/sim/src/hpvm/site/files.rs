//! The site's files: each host's base folders, `/etc/hosts`, syslog, the toolkit's
//! scripts, the application monitoring key stores, the package's file and log, the
//! guests' OS files; and the scenario's `[[hpvm.modes]]`.

use std::collections::BTreeMap;

use super::package::Slvm1;
use super::{GUEST_BOOT_MS, NODE_BOOT_MS, PLATFORM};
use crate::hpvm::fs::{self, SEED_MTIME_MS};
use crate::hpvm::scenario::{HpvmSpec, ModeSpec};
use crate::hpvm::{
    Guest, PackageKind, StorageKind, VmHost, CMCLUSTER, MAINTENANCE_FILE, SYSLOG, TKIT_SCRIPTS,
};
use crate::timefmt;
use crate::world::{HostOs, Meta, Uname, HOSTS_FILE};

/// The default passwords of the manual's key stores (the simulator keeps only hashes).
const CLIENT_PW: &str = "clientpw";
const SERVER_PW: &str = "serverpw";
const PUBLIC_PW: &str = "public";

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
    use crate::hpvm::cmappserver::{depot_text, rpm_text, HOST_REVISION, SOFTWARE_DIR};
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

/// `/etc/hosts` of every host: the VM hosts and the guests.
pub(super) fn hosts_text(nodes: &[VmHost]) -> String {
    let mut entries: Vec<(String, String)> = nodes
        .iter()
        .map(|n| (n.address.clone(), n.name.clone()))
        .collect();
    entries.push(("192.0.2.41".into(), "slvm1".into()));
    entries.push(("192.0.2.42".into(), "slvm2".into()));
    hosts_file(&entries)
}

/// The files of each VM host (an NFS mount added to `nodes` when a guest's storage is on it).
pub(super) fn node_hosts(
    nodes: &mut [VmHost],
    guests: &[Guest],
    pkg: &Slvm1,
    hosts_text: &str,
) -> BTreeMap<String, HostOs> {
    let mut hosts = BTreeMap::new();
    let nfs = guests
        .iter()
        .flat_map(|g| g.storage.iter())
        .any(|s| s.kind == StorageKind::File && s.device.starts_with("/var/opt/hpvm/nfs/"));
    for n in nodes.iter_mut() {
        let mut os = HostOs::new(&n.name, PLATFORM);
        base_dirs(&mut os);
        put(&mut os, HOSTS_FILE, hosts_text.to_string(), 0o444);
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
        let on_list = pkg.nodes.contains(&n.name);
        if on_list {
            put(
                &mut os,
                &format!("{dir}/slvm1.conf"),
                pkg.text.clone(),
                0o644,
            );
            if pkg.kind == PackageKind::OldToolkit {
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
            if pkg.maintenance.contains(&n.name) {
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
            for g in guests {
                for s in &g.storage {
                    if s.kind == StorageKind::File {
                        put(&mut os, &s.device, String::new(), 0o600);
                    }
                }
            }
        }
        hosts.insert(n.name.clone(), os);
    }
    hosts
}

/// The package log on the node that started slvm1 (and `cmappmgr`'s lines in its syslog
/// when `cmappserver` cannot be reached).
pub(super) fn package_log(
    hosts: &mut BTreeMap<String, HostOs>,
    pkg: &Slvm1,
    cmappserver_unreachable: bool,
) {
    let home = &pkg.home;
    if let Some(os) = hosts.get_mut(home) {
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
        for s in std::iter::once(&pkg.guest_monitor).chain(pkg.appmons.iter()) {
            log.push_str(&format!(
                "{} - Node \"{home}\": Starting service {} using \"{}\"\n",
                t(45),
                s.name,
                s.cmd
            ));
        }
        if pkg.maintenance.contains(home) {
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
        if !pkg.up {
            log.push_str(&format!(
                "{} - Node \"{home}\": Halting package at {}\n{} - Node \"{home}\": Virtual machine slvm1 stopped\n{} - Node \"{home}\": Package halt completed.\n",
                t(3600),
                t(3600),
                t(3620),
                t(3620)
            ));
        }
        os.files.insert(pkg.package.log_file.clone(), log);
        if cmappserver_unreachable && pkg.up {
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
}

/// The scenario's `[[hpvm.modes]]`: permissions changed on a host's file or folder.
pub(super) fn modes(
    hosts: &mut BTreeMap<String, HostOs>,
    modes: &[ModeSpec],
) -> Result<(), String> {
    for m in modes {
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
    Ok(())
}

/// The files of each guest.
pub(super) fn guest_hosts(
    hosts: &mut BTreeMap<String, HostOs>,
    guests: &[Guest],
    h: &HpvmSpec,
    hosts_text: &str,
) {
    for g in guests {
        let mut os = HostOs::new(&g.name, PLATFORM);
        base_dirs(&mut os);
        let spec = h.guests.get(&g.name);
        guest_os_files(
            &mut os,
            g,
            spec.and_then(|s| s.distribution.as_deref()),
            spec.and_then(|s| s.release.as_deref()),
        );
        put(&mut os, HOSTS_FILE, hosts_text.to_string(), 0o444);
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
}
