//! The guests: numbers, OS, CPUs, memory, disks and NICs, and where each is registered,
//! from `hpvmstatus`.

use std::collections::{BTreeMap, BTreeSet};

use super::cluster::{kind_of, package_conf};
use super::gaps::Gaps;
use super::parse::VmRow;
use super::{parse, unreadable, Obs};
use crate::hpvm::{Guest, Nic, PackageKind, Storage, StorageKind};
use crate::seed::{Declared, Gap};

/// The guest states the emulator can show.
const STATES: &[&str] = &["On (OS)", "Off", "Off (NR)"];

/// What the reads said of one guest.
#[derive(Default)]
struct GuestFacts {
    number: Option<u32>,
    os_type: Option<String>,
    vcpus: Option<u32>,
    memory: Option<String>,
    devs: Option<usize>,
    nets: Option<usize>,
    details: Option<parse::VmDetails>,
    /// Per VM host: (observation order, state when registered / `None`: not registered).
    reg: BTreeMap<String, (usize, Option<String>)>,
}

impl GuestFacts {
    fn row(&mut self, r: &VmRow) {
        self.number = Some(r.number);
        self.os_type = Some(r.os_type.clone());
        if r.vcpus.is_some() {
            self.vcpus = r.vcpus;
            self.memory = r.memory.clone();
            self.devs = r.devs;
            self.nets = r.nets;
        }
    }

    fn register(&mut self, host: &str, seq: usize, state: Option<String>) {
        let newer = self.reg.get(host).is_none_or(|(s, _)| *s <= seq);
        if newer {
            self.reg.insert(host.to_string(), (seq, state));
        }
    }
}

/// The guests the reads describe (by VM number), and those the copy cannot represent
/// (with why); gaps for what was not read of them.
pub(super) fn guests_from(
    declared: &Declared,
    obs: &[Obs],
    vm_hosts: &[String],
    node_names: &[String],
    view: Option<&parse::ClusterLine>,
    now_ms: u64,
    gaps: &mut Gaps,
) -> (Vec<Guest>, BTreeMap<String, String>) {
    let mut facts: BTreeMap<String, GuestFacts> = BTreeMap::new();
    let mut summaries: BTreeMap<String, (usize, Vec<VmRow>)> = BTreeMap::new();
    for g in declared.with_role("vm-guest") {
        facts
            .entry(g.domain.clone().unwrap_or_else(|| g.name.clone()))
            .or_default();
    }
    // A host's whole guest list is known only from its own `hpvmstatus`.
    for h in vm_hosts {
        let listed = obs
            .iter()
            .any(|o| o.host == h && o.program() == "hpvmstatus" && o.args().is_empty() && o.ok());
        if !listed {
            gaps.0.push(Gap {
                host: Some(h.clone()),
                program: "hpvmstatus".into(),
                args: Vec::new(),
                why: format!("hpvmstatus was not read on {h} before the first change, so its guests are not all known"),
                until_sf_start: None,
                exact: true,
            });
        }
    }
    for o in obs
        .iter()
        .filter(|o| vm_hosts.iter().any(|h| h == o.host) && o.program() == "hpvmstatus")
    {
        match o.args().as_slice() {
            [] if o.ok() => match parse::hpvmstatus(o.stdout) {
                Ok(rows) => {
                    summaries.insert(o.host.to_string(), (o.seq, rows));
                }
                Err(e) => unreadable(gaps, o, &e),
            },
            ["-P", vm] if o.ok() => match parse::hpvmstatus_p(o.stdout) {
                Ok(d) if d.row.name == *vm => {
                    let f = facts.entry(vm.to_string()).or_default();
                    f.row(&d.row);
                    f.register(o.host, o.seq, Some(d.row.state.clone()));
                    f.details = Some(d);
                }
                Ok(d) => unreadable(gaps, o, &format!("it shows guest {}", d.row.name)),
                Err(e) => unreadable(gaps, o, &e),
            },
            ["-P", vm] => facts
                .entry(vm.to_string())
                .or_default()
                .register(o.host, o.seq, None),
            _ => {}
        }
    }
    for rows in summaries.values() {
        for r in &rows.1 {
            facts.entry(r.name.clone()).or_default();
        }
    }
    for (host, (seq, rows)) in &summaries {
        for (name, f) in facts.iter_mut() {
            match rows.iter().find(|r| r.name == *name) {
                Some(r) => {
                    f.row(r);
                    f.register(host, *seq, Some(r.state.clone()));
                }
                None => f.register(host, *seq, None),
            }
        }
    }
    // A VM package that is up with every service up runs its guest on its owner: the
    // toolkit started it there, and its guest monitor service would have failed the
    // package had it stopped.
    let mut inferred: BTreeSet<String> = BTreeSet::new();
    if let Some(v) = view {
        for pv in &v.packages {
            let owner = pv.owner.as_deref().filter(|o| !o.is_empty());
            let (Some(owner), true) = (owner, pv.status == "up" && pv.state == "running") else {
                continue;
            };
            let vm_package = package_conf(obs, &pv.name, Some(owner))
                .1
                .is_some_and(|c| kind_of(&c) != PackageKind::Plain);
            if !vm_package || !pv.services.iter().all(|s| s.status == "up") {
                continue;
            }
            let f = facts.entry(pv.name.clone()).or_default();
            if !f.reg.contains_key(owner) {
                f.reg.insert(owner.to_string(), (0, Some("On (OS)".into())));
                if f.number.is_none() {
                    inferred.insert(pv.name.clone());
                }
            }
        }
    }
    let mut guests: Vec<Guest> = Vec::new();
    // Guests the copy cannot represent: why.
    let mut opaque: BTreeMap<String, String> = BTreeMap::new();
    for (vm, f) in &facts {
        let unknown_on: Vec<&String> = node_names
            .iter()
            .filter(|n| !f.reg.contains_key(*n))
            .collect();
        let registered: Vec<(&String, &String)> = node_names
            .iter()
            .filter_map(|n| match f.reg.get(n) {
                Some((_, Some(s))) => Some((n, s)),
                _ => None,
            })
            .collect();
        let not_read = |hosts: &[&String]| {
            hosts
                .iter()
                .map(|h| h.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let odd = registered
            .iter()
            .find(|(_, s)| !STATES.contains(&s.as_str()));
        let home: Vec<&&String> = registered
            .iter()
            .filter(|(_, s)| *s == "On (OS)" || *s == "Off")
            .map(|(h, _)| h)
            .collect();
        let running_on = registered
            .iter()
            .find(|(_, s)| *s == "On (OS)")
            .map(|(h, _)| h.to_string());
        let why = if let Some((h, s)) = odd {
            Some(format!(
                "guest {vm} is {s:?} on {h}, a state the simulated copy cannot represent"
            ))
        } else if home.len() > 1 {
            Some(format!(
                "guest {vm} is runnable on several VM hosts ({})",
                home.iter()
                    .map(|h| h.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        } else if running_on.is_none() && !unknown_on.is_empty() {
            Some(format!(
                "whether guest {vm} runs is not known: hpvmstatus was not read on {} before the first change",
                not_read(&unknown_on)
            ))
        } else if registered.is_empty() {
            // Registered nowhere, as every host said: there is no such guest.
            continue;
        } else {
            None
        };
        if let Some(why) = why {
            for (h, _) in &registered {
                if summaries.contains_key(h.as_str()) {
                    gaps.add(Some(h), "hpvmstatus", &[], &why);
                }
            }
            opaque.insert(vm.clone(), why);
            continue;
        }
        for h in &unknown_on {
            gaps.add(
                Some(h),
                "hpvmstatus",
                &["-P", vm],
                &format!(
                    "whether guest {vm} is registered on {h} was not read before the first change"
                ),
            );
        }
        let (storage, nics) = match &f.details {
            Some(d) => (
                d.disks
                    .iter()
                    .map(|r| {
                        let (k, dev) = (&r.kind, &r.device);
                        let kind = match k.as_str() {
                            "disk" => Some(StorageKind::Disk),
                            "lv" => Some(StorageKind::Lv),
                            "file" => Some(StorageKind::File),
                            "null" => Some(StorageKind::Null),
                            _ => None,
                        };
                        kind.map(|kind| Storage {
                            guest_device: r.guest_device.clone(),
                            adaptor: r.adaptor.clone(),
                            address: Some(r.address),
                            ..Storage::disk(kind, dev.clone())
                        })
                        .ok_or_else(|| {
                            format!("guest {vm} has a backing store of kind {k:?}, which the copy cannot represent")
                        })
                    })
                    .collect::<Result<Vec<_>, _>>(),
                d.nics
                    .iter()
                    .map(|n| Nic {
                        vswitch: n.vswitch.clone(),
                        port: n.port,
                        bus: n.bdf.0,
                        dev: n.bdf.1,
                        ftn: n.bdf.2,
                        mac: n.mac.clone(),
                    })
                    .collect(),
            ),
            None => {
                let why = format!(
                    "hpvmstatus -P {vm} was not read on any VM host before the first change, so its storage and network are not known"
                );
                gaps.add(None, "hpvmstatus", &["-P", vm], &why);
                gaps.migration_from(None, vm, &why);
                gaps.add(None, "cmdeployvpkg", &["-Q", "-P", vm], &why);
                let unknown = Storage::disk(StorageKind::Null, String::new());
                (
                    Ok(vec![unknown; f.devs.unwrap_or(0)]),
                    vec![
                        Nic {
                            vswitch: String::new(),
                            port: 0,
                            bus: 0,
                            dev: 0,
                            ftn: 0,
                            mac: String::new(),
                        };
                        f.nets.unwrap_or(0)
                    ],
                )
            }
        };
        let storage = match storage {
            Ok(s) => s,
            Err(why) => {
                gaps.guest(vm, node_names, &why);
                opaque.insert(vm.clone(), why);
                continue;
            }
        };
        if inferred.contains(vm) {
            // Known only from its package: no hpvmstatus row to show it in.
            let why = format!(
                "guest {vm} was not listed by hpvmstatus before the first change (that it runs on {} is known from its package)",
                running_on.as_deref().unwrap_or("")
            );
            for (h, _) in &registered {
                gaps.add(Some(h), "hpvmstatus", &[], &why);
            }
        }
        let Some(number) = f.number.or(inferred.contains(vm).then_some(0)) else {
            continue;
        };
        guests.push(Guest {
            name: vm.clone(),
            number,
            os_type: f.os_type.clone().unwrap_or_default(),
            vcpus: f.vcpus.unwrap_or(0),
            memory: f.memory.clone().unwrap_or_default(),
            storage,
            nics,
            registered: registered.iter().map(|(h, _)| h.to_string()).collect(),
            home: home.first().map(|h| h.to_string()).unwrap_or_default(),
            running: running_on.is_some(),
            booted_ms: now_ms,
            procs: Vec::new(),
            cmappserver: false,
            cmappserver_revision: None,
            java: None,
        });
        if home.is_empty() {
            gaps.add(
                None,
                "hpvmstart",
                &["-P", vm],
                &format!("no VM host shows guest {vm} runnable (every copy is Off (NR))"),
            );
        }
    }
    for (vm, why) in &opaque {
        gaps.guest(vm, node_names, why);
    }
    guests.sort_by_key(|g| g.number);
    (guests, opaque)
}
