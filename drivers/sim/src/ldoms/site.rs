//! The default LDoms site: the manual's example (figure 17.1). Guest cluster `cfguest1` /
//! `cfguest2` on domains `guest1` (control domain `cd1`) and `guest2` (`cd2`); a third box
//! with `cd3` ready to take a guest.

use std::collections::BTreeMap;

use super::{
    cluster, scenario, CfState, ControlDomain, Fault, Guest, GuestCluster, LdmVersion, LdomsState,
    SfConfigRow, SfPhase, SpConfig,
};
use crate::timefmt::{self, START_MS};
use crate::world::{fake_rsa_key, HostOs, World, HOSTS_FILE, KNOWN_HOSTS, MESSAGES, SWITCHLOG};

const PLATFORM: &str = "ORCL,SPARC64-X";
const DAY_MS: u64 = 86_400_000;
/// How long before the start the control domains booted.
const CD_UPTIME_MS: u64 = 30 * DAY_MS;
/// How long before the start the guests booted.
const GUEST_UPTIME_MS: u64 = DAY_MS;

struct CdSeed {
    name: &'static str,
    address: &'static str,
    box_name: &'static str,
    ppar: u32,
    xscf: [&'static str; 2],
}

const CDS: &[CdSeed] = &[
    CdSeed {
        name: "cd1",
        address: "192.0.2.11",
        box_name: "box1",
        ppar: 0,
        xscf: ["10.20.30.71", "10.20.40.71"],
    },
    CdSeed {
        name: "cd2",
        address: "192.0.2.12",
        box_name: "box2",
        ppar: 0,
        xscf: ["10.20.30.72", "10.20.40.72"],
    },
    CdSeed {
        name: "cd3",
        address: "192.0.2.13",
        box_name: "box3",
        ppar: 1,
        xscf: ["10.20.30.73", "10.20.40.73"],
    },
];

struct GuestSeed {
    host: &'static str,
    cf: &'static str,
    number: u32,
    cd: &'static str,
    address: &'static str,
    util: &'static str,
    rms: &'static str,
}

const GUESTS: &[GuestSeed] = &[
    GuestSeed {
        host: "guest1",
        cf: "cfguest1",
        number: 1,
        cd: "cd1",
        address: "192.0.2.21",
        util: "1.2",
        rms: "Online",
    },
    GuestSeed {
        host: "guest2",
        cf: "cfguest2",
        number: 2,
        cd: "cd2",
        address: "192.0.2.22",
        util: "0.8",
        rms: "Offline",
    },
];

fn default_spconfigs() -> Vec<SpConfig> {
    vec![
        SpConfig {
            name: "factory-default".into(),
            current: false,
            next_poweron: false,
        },
        SpConfig {
            name: "config_initial".into(),
            current: false,
            next_poweron: false,
        },
        SpConfig {
            name: "config_20261001".into(),
            current: true,
            next_poweron: true,
        },
    ]
}

fn hosts_file(entries: &[(&str, &str)]) -> String {
    let mut s = String::from(
        "#\n# Internet host table\n#\n::1\t\tlocalhost\n127.0.0.1\tlocalhost loghost\n",
    );
    for (addr, name) in entries {
        s.push_str(&format!("{addr}\t{name}\n"));
    }
    s
}

fn known_hosts(addresses: &[&str]) -> String {
    addresses
        .iter()
        .map(|a| format!("{a} ssh-rsa {}\n", fake_rsa_key(a)))
        .collect()
}

/// Syslog lines at `base` + offsets, for seeding a host's messages.
fn lines(host: &str, base: u64, items: &[(u64, String)]) -> String {
    items
        .iter()
        .map(|(off, text)| format!("{} {host} {text}\n", timefmt::syslog(base + off * 1000)))
        .collect()
}

fn control_domain_os(seed: &CdSeed) -> HostOs {
    let mut os = HostOs::new(seed.name, PLATFORM);
    let entries: Vec<(&str, &str)> = CDS.iter().map(|c| (c.address, c.name)).collect();
    os.files.insert(HOSTS_FILE.into(), hosts_file(&entries));
    let others: Vec<&str> = CDS
        .iter()
        .filter(|c| c.name != seed.name)
        .map(|c| c.address)
        .collect();
    os.files.insert(KNOWN_HOSTS.into(), known_hosts(&others));
    let boot = START_MS - CD_UPTIME_MS;
    os.files.insert(
        MESSAGES.into(),
        lines(
            seed.name,
            boot,
            &[
                (0, "genunix: [ID 540533 kern.notice] SunOS Release 5.11 Version 11.4.42.111.0 64-bit".into()),
                (41, "ldmd[812]: [ID 492543 daemon.notice] Logical Domains Manager started".into()),
                (95, "cf: [ID 315482 kern.notice] CF: Node joined the control-domain cluster".into()),
            ],
        ),
    );
    os
}

fn guest_os(seed: &GuestSeed) -> HostOs {
    let mut os = HostOs::new(seed.host, PLATFORM);
    let entries: Vec<(&str, &str)> = GUESTS.iter().map(|g| (g.address, g.host)).collect();
    os.files.insert(HOSTS_FILE.into(), hosts_file(&entries));
    let xscf: Vec<&str> = CDS.iter().flat_map(|c| c.xscf).collect();
    os.files.insert(KNOWN_HOSTS.into(), known_hosts(&xscf));
    let boot = START_MS - GUEST_UPTIME_MS;
    let mut items: Vec<(u64, String)> = vec![
        (
            0,
            "genunix: [ID 540533 kern.notice] SunOS Release 5.11 Version 11.4.42.111.0 64-bit"
                .into(),
        ),
        (
            44,
            format!(
                "cf: [ID 315482 kern.notice] CF: Node {} Joined Cluster",
                seed.cf
            ),
        ),
        (72, "SMAWsf: [ID 702911 daemon.notice] RCSD started".into()),
    ];
    if seed.rms == "Online" {
        items.push((
            100,
            "RMS: [ID 830169 daemon.notice] (US, 2) app1: Online processing completed.".into(),
        ));
    }
    items.push((
        85_212,
        "sshd[7245]: [ID 800047 auth.info] Accepted publickey for root from 192.0.2.50 port 52044 ssh2: RSA SHA256:Zq3V0b7m2Yk1c9xWv8tLr4pQe6sJ5nH0aG2uD7fK1iO"
            .into(),
    ));
    items.push((
        86_100,
        "ntpd[611]: [ID 702911 daemon.notice] ntpd: time set +0.000412 s".into(),
    ));
    os.files
        .insert(MESSAGES.into(), lines(seed.host, boot, &items));
    let mut switchlog = format!(
        "{}:(BM, 48): NOTICE: RMS monitor has been started on {}RMS.\n",
        timefmt::switchlog(boot + 61_118),
        seed.cf
    );
    if seed.rms == "Online" {
        switchlog.push_str(&format!(
            "{}:(US, 2): NOTICE: app1: Online processing completed.\n",
            timefmt::switchlog(boot + 100_003)
        ));
    }
    os.files.insert(SWITCHLOG.into(), switchlog);
    os
}

/// Build the default site, then apply the scenario `text` (if any).
pub(crate) fn build(text: Option<&str>) -> Result<(World, LdomsState), String> {
    let mut hosts = BTreeMap::new();
    for c in CDS {
        hosts.insert(c.name.to_string(), control_domain_os(c));
    }
    for g in GUESTS {
        hosts.insert(g.host.to_string(), guest_os(g));
    }
    let mut world = World {
        now_ms: START_MS,
        hosts,
    };
    let control_domains = CDS
        .iter()
        .map(|c| ControlDomain {
            name: c.name.into(),
            address: c.address.into(),
            box_name: c.box_name.into(),
            ppar_id: c.ppar,
            xscf: [c.xscf[0].into(), c.xscf[1].into()],
            spconfigs: default_spconfigs(),
            ncpu: 16,
            mem: 16 << 30,
            booted_ms: START_MS - CD_UPTIME_MS,
        })
        .collect::<Vec<_>>();
    let guests = GUESTS
        .iter()
        .map(|g| Guest {
            host: g.host.into(),
            domain: g.host.into(),
            cf_node: g.cf.into(),
            node_number: g.number,
            control_domain: g.cd.into(),
            active: true,
            inactive: false,
            started_ms: START_MS - GUEST_UPTIME_MS,
            stopped_ms: None,
            ncpu: 8,
            mem: 8 << 30,
            cons: 5000,
            util: g.util.into(),
            cf: CfState::Up,
            failed_start: false,
            sf: SfPhase::Running,
            sf_rows: Vec::new(),
            rms: Some(g.rms.into()),
            sf_starts: 0,
            sf_config: None,
        })
        .collect::<Vec<_>>();
    let xscf_user = "xuser".to_string();
    let sf_config = GUESTS
        .iter()
        .filter_map(|g| {
            let c = CDS.iter().find(|c| c.name == g.cd)?;
            Some(SfConfigRow {
                device: "xscf".into(),
                cf_node: g.cf.into(),
                ppar_id: c.ppar,
                domain: g.host.into(),
                ip1: c.xscf[0].into(),
                ip2: c.xscf[1].into(),
                user: xscf_user.clone(),
                connection: "ssh".into(),
            })
        })
        .collect();
    let mut st = LdomsState {
        control_domains,
        guests,
        cluster: GuestCluster {
            app: "app1".into(),
            cf_timeout: 10,
            timeout_before: None,
            prepared_ms: None,
            last_source: BTreeMap::new(),
            sf_config,
            sf_starts: 0,
        },
        xscf_user,
        migrations: Vec::new(),
        events: Vec::new(),
        next_seq: 0,
        fault: Fault::default(),
        ldm_version: LdmVersion::default(),
    };
    if let Some(text) = text {
        scenario::apply(text, &mut st, &mut world)?;
    }
    // The shutdown facility has been running since boot: its rows are settled.
    for g in 0..st.guests.len() {
        if st.guests[g].active {
            let (rows, _) = cluster::settled_rows(&st, &world, g);
            st.guests[g].sf_rows = rows;
        } else {
            st.guests[g].sf = SfPhase::Stopped;
        }
    }
    Ok((world, st))
}
