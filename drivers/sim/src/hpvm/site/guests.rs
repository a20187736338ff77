//! The site's guests: slvm1 and slvm2 as the manual describes them, changed by the
//! scenario's `[hpvm.guests.*]`.

use super::GUEST_BOOT_MS;
use crate::hpvm::scenario::HpvmSpec;
use crate::hpvm::{Guest, Nic, Storage, StorageKind};

/// The guests, by VM number, with the scenario's changes; `Err` names a bad entry.
pub(super) fn guests(h: &HpvmSpec, node_names: &[String]) -> Result<Vec<Guest>, String> {
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
    Ok(guests)
}
