//! A copy of a real LDoms site seeded from its reads (see [`crate::seed`]).
//!
//! | emulator state | from |
//! | --- | --- |
//! | control domains: name, address, box, PPAR-ID, XSCF addresses | the inventory (address also from a read `/etc/inet/hosts`) |
//! | `primary`'s CPUs, memory, boot time; guests' domain, state (`active`, `bound`, `inactive`), console, CPUs, memory, util, start time, control domain; the `ldm` release (`VERSION 1.11` prints the newer form) | `ldm list -p` on each control domain |
//! | saved configurations | `ldm list-spconfig` per control domain |
//! | CF node names, numbers, states | `cftool -n` (any guest) |
//! | which CF node is which domain; XSCF configuration; XSCF user | `clsnmpsetup -l` |
//! | CF timeout (and whether `clovmmigrate -p` is in force) | `cfset -a` against the inventory's `cf_timeout` |
//! | where `clovmmigrate -p` ran for a guest that moved since (unless `cfset -a` shows no `-p` in force) | the guest's `clsnmpsetup -l` row (the box it still names) |
//! | shutdown facility per node, its rows | that node's `sdtool -s` |
//! | RMS state per node, the userApplication | that node's `hvdisp -T userApplication` |
//! | files | `cat FILE` (whole), `wc -c FILE` (size only), `ssh-keygen -F ADDR` (known_hosts lines) |
//!
//! Anything not read is a gap: a control domain never listed, a node whose `sdtool -s`
//! or `hvdisp` was never read, `cftool`/`cfset` when no guest answered them, files. A site
//! that cannot be represented at all (a guest found on no control domain, a migration in
//! progress, no `clsnmpsetup -l`) is refused with the reason.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    AgentRow, CfState, ControlDomain, Fault, Guest, GuestCluster, LdmVersion, LdomsState,
    SfConfigRow, SfPhase, SpConfig, SF_SETTLE_MS, SF_UNKNOWN_MS,
};
use crate::seed::{last_ok, reads, Declared, Gap, Observation, SeedInfo, SizedFile};
use crate::world::{fake_rsa_key, HostOs, World, HOSTS_FILE, KNOWN_HOSTS};

/// The emulator's state for a real LDoms site: its world, products and gaps; `Err` says
/// why no copy can be made.
pub(crate) fn seed(
    declared: &Declared,
    observations: &[Observation],
    now_ms: u64,
) -> Result<(World, LdomsState, SeedInfo), String> {
    let mut info = SeedInfo::default();
    let mut gap = |host: Option<&str>, program: &str, args: &[&str], why: String| {
        info.gaps.push(Gap {
            host: host.map(str::to_string),
            program: program.to_string(),
            args: args.iter().map(|a| a.to_string()).collect(),
            why,
            until_sf_start: None,
            exact: false,
        });
    };
    let cds: Vec<_> = declared.with_role("control-domain").collect();
    let guests_declared: Vec<_> = declared.with_role("guest-domain").collect();
    if cds.is_empty() || guests_declared.is_empty() {
        return Err("the inventory declares no control domain or no guest domain".into());
    }

    // The shutdown facility's configuration: which CF node is which domain.
    let sf_config = guests_declared
        .iter()
        .find_map(|g| last_ok(observations, &g.name, "clsnmpsetup", &["-l"]))
        .map(|o| parse_clsnmpsetup(&o.stdout))
        .ok_or("clsnmpsetup -l was not read on any guest before the first change, so which CF node is which guest domain is not known")?;
    if sf_config.is_empty() {
        return Err("clsnmpsetup -l listed no shutdown agent".into());
    }
    let cftool = guests_declared
        .iter()
        .find_map(|g| last_ok(observations, &g.name, "cftool", &["-n"]))
        .map(|o| parse_cftool(&o.stdout));
    if cftool.is_none() {
        gap(
            None,
            "cftool",
            &[],
            "cftool -n was not read on any guest before the first change".into(),
        );
    }
    let cfset = guests_declared
        .iter()
        .filter_map(|g| last_ok(observations, &g.name, "cfset", &["-a"]))
        .filter_map(|o| parse_cluster_timeout(&o.stdout))
        .next_back();
    if cfset.is_none() {
        gap(
            None,
            "cfset",
            &[],
            "cfset -a was not read on any guest before the first change".into(),
        );
    }

    // Control domains and what runs on them.
    let mut control_domains = Vec::new();
    let mut located: BTreeMap<String, (String, DomainLine)> = BTreeMap::new();
    let mut ldm_version = LdmVersion::default();
    for c in &cds {
        let (mut ncpu, mut mem, mut booted_ms) = (0, 0, now_ms);
        match last_ok(observations, &c.name, "ldm", &["list", "-p"]) {
            Some(o) => {
                // The copy prints the newer form when the real site did.
                if o.stdout.lines().any(|l| l.trim() == "VERSION 1.11") {
                    ldm_version = LdmVersion::V1_11;
                }
                for d in parse_ldm_list_p(&o.stdout) {
                    if d.name == "primary" {
                        ncpu = d.ncpu;
                        mem = d.mem;
                        booted_ms = now_ms.saturating_sub(d.uptime.unwrap_or(0) * 1000);
                    } else {
                        if d.flags.ends_with('s') || d.flags.ends_with('t') {
                            return Err(format!(
                                "{} is being migrated on {} (flags {}): the copy cannot represent a migration in progress",
                                d.name, c.name, d.flags
                            ));
                        }
                        located.insert(d.name.clone(), (c.name.clone(), d));
                    }
                }
            }
            None => {
                let why = format!(
                    "ldm list -p was not read on {} before the first change",
                    c.name
                );
                gap(Some(&c.name), "ldm", &[], why.clone());
                gap(Some(&c.name), "clovmmigrate", &[], why);
            }
        }
        let spconfigs = match last_ok(observations, &c.name, "ldm", &["list-spconfig"]) {
            Some(o) => parse_spconfig(&o.stdout),
            None => {
                let why = format!(
                    "the saved configurations of {} were not listed before the first change",
                    c.name
                );
                for sub in ["list-spconfig", "add-spconfig", "remove-spconfig"] {
                    gap(Some(&c.name), "ldm", &[sub], why.clone());
                }
                Vec::new()
            }
        };
        let (ppar_id, xscf) = match (c.ppar_id, &c.xscf) {
            (Some(p), Some(x)) => (p, x.clone()),
            _ => {
                return Err(format!(
                    "the inventory gives no ppar_id or xscf addresses for control domain {}",
                    c.name
                ))
            }
        };
        control_domains.push(ControlDomain {
            name: c.name.clone(),
            address: address_of(declared, observations, &c.name, c.hosts_name.as_deref()),
            box_name: c.box_name.clone().unwrap_or_else(|| c.name.clone()),
            ppar_id,
            xscf,
            spconfigs,
            ncpu,
            mem,
            booted_ms,
        });
    }

    // Guests: where they run (ldm), which CF node they are (clsnmpsetup), CF state
    // (cftool), shutdown facility (sdtool), RMS (hvdisp).
    let normal_timeout = declared.cf_timeout.unwrap_or(10);
    let cf_timeout = cfset.unwrap_or(normal_timeout);
    let mut guests = Vec::new();
    let mut app = None;
    for g in &guests_declared {
        let domain = g.domain.clone().unwrap_or_else(|| g.name.clone());
        let Some((cd, d)) = located.get(&domain) else {
            return Err(format!(
                "guest domain {domain} was not found in the ldm list -p read on any control domain before the first change"
            ));
        };
        let Some(cfg) = sf_config.iter().find(|r| r.domain == domain) else {
            return Err(format!(
                "clsnmpsetup -l has no row for domain {domain}: its CF node is not known"
            ));
        };
        let (node_number, cf) = match &cftool {
            Some(rows) => match rows.iter().find(|r| r.0 == cfg.cf_node) {
                Some((_, n, s)) => (*n, *s),
                None => {
                    return Err(format!(
                        "cftool -n does not list {} (domain {domain})",
                        cfg.cf_node
                    ))
                }
            },
            None => (
                0,
                if d.state == "active" {
                    CfState::Up
                } else {
                    CfState::Down
                },
            ),
        };
        let active = d.state == "active";
        let (sf, sf_rows, failed_start) =
            match reads(observations, &g.name, "sdtool", &["-s"]).last() {
                Some(o) if o.exit == 0 => {
                    let rows = parse_sdtool(&o.stdout);
                    let settling = rows
                        .iter()
                        .any(|r| matches!(r.test.as_str(), "Unknown" | "Testing"));
                    let failed = !rows.is_empty() && rows.iter().all(|r| r.init == "InitFailed");
                    if settling {
                        (
                            SfPhase::Starting {
                                since_ms: now_ms.saturating_sub(SF_UNKNOWN_MS),
                            },
                            Vec::new(),
                            failed,
                        )
                    } else {
                        (SfPhase::Running, rows, failed)
                    }
                }
                Some(_) => (SfPhase::Stopped, Vec::new(), false),
                None => {
                    gap(
                        Some(&g.name),
                        "sdtool",
                        &[],
                        format!(
                            "sdtool -s was not read on {} before the first change",
                            g.name
                        ),
                    );
                    (
                        if active {
                            SfPhase::Running
                        } else {
                            SfPhase::Stopped
                        },
                        Vec::new(),
                        false,
                    )
                }
            };
        let rms = match reads(observations, &g.name, "hvdisp", &["-T", "userApplication"]).last() {
            Some(o) if o.exit == 0 => match parse_hvdisp(&o.stdout) {
                Some((a, s)) => {
                    app = Some(a);
                    Some(s)
                }
                None => None,
            },
            Some(_) => None,
            None => {
                gap(
                    Some(&g.name),
                    "hvdisp",
                    &[],
                    format!(
                        "hvdisp -T userApplication was not read on {} before the first change",
                        g.name
                    ),
                );
                active.then(|| "Offline".to_string())
            }
        };
        guests.push(Guest {
            host: g.name.clone(),
            domain: domain.clone(),
            cf_node: cfg.cf_node.clone(),
            node_number,
            control_domain: cd.clone(),
            active,
            inactive: d.state == "inactive",
            started_ms: now_ms.saturating_sub(d.uptime.unwrap_or(0) * 1000),
            stopped_ms: (!active).then_some(now_ms),
            ncpu: d.ncpu,
            mem: d.mem,
            cons: d.cons.parse().unwrap_or(0),
            util: d.util.clone(),
            cf,
            failed_start,
            sf,
            sf_rows,
            rms,
            sf_starts: 0,
            sf_config: None,
        });
    }
    guests.sort_by_key(|g| g.node_number);

    // Files: whole files read with cat, sizes read with wc -c, known_hosts lines found by
    // ssh-keygen -F, plus the XSCF keys a working agent test proves present.
    let mut hosts = BTreeMap::new();
    for h in &declared.hosts {
        let mut os = HostOs::new(&h.name, "");
        gap(
            Some(&h.name),
            "uname",
            &[],
            format!("uname was not read on {} before the first change", h.name),
        );
        let mut cat_read: BTreeSet<String> = BTreeSet::new();
        let mut known: BTreeMap<usize, String> = BTreeMap::new();
        for o in observations
            .iter()
            .filter(|o| o.host == h.name && o.exit == 0)
        {
            for argv in crate::seed::commands_of(&o.line) {
                let prog = argv.first().map(|p| p.rsplit('/').next().unwrap_or(""));
                match (prog, &argv[1..]) {
                    (Some("cat"), [path]) => {
                        os.files.insert(canonical(path), o.stdout.clone());
                        cat_read.insert(canonical(path));
                    }
                    (Some("wc"), [c, path]) if c == "-c" => {
                        let size = o
                            .stdout
                            .split_whitespace()
                            .next()
                            .and_then(|n| n.parse::<u64>().ok());
                        if let Some(size) = size {
                            if !cat_read.contains(&canonical(path)) {
                                os.files.insert(canonical(path), filler(size));
                                info.sized_only
                                    .retain(|f| !(f.host == h.name && f.path == canonical(path)));
                                info.sized_only.push(SizedFile {
                                    host: h.name.clone(),
                                    path: canonical(path),
                                    size,
                                });
                            }
                        }
                    }
                    (Some("ssh-keygen"), [f, _addr]) if f == "-F" => {
                        // `# Host ADDR found: line N` then the line itself.
                        let mut at = None;
                        for l in o.stdout.lines() {
                            if let Some(n) = l.rsplit_once("found: line ") {
                                at = n.1.trim().parse::<usize>().ok();
                            } else if !l.starts_with('#') && !l.trim().is_empty() {
                                if let Some(n) = at.take() {
                                    known.insert(n, l.trim_end().to_string());
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        // Whether a key is there is known both ways: found (exit 0) or not (exit 1).
        for o in observations
            .iter()
            .filter(|o| o.host == h.name && (o.exit == 0 || o.exit == 1))
        {
            for argv in crate::seed::commands_of(&o.line) {
                if argv.first().map(|p| p.rsplit('/').next().unwrap_or("")) == Some("ssh-keygen")
                    && argv.len() == 3
                    && argv[1] == "-F"
                {
                    info.known_keys.insert((h.name.clone(), argv[2].clone()));
                }
            }
        }
        if cat_read.contains(KNOWN_HOSTS) {
            info.whole_known_hosts.insert(h.name.clone());
        }
        if !cat_read.contains(KNOWN_HOSTS) && !known.is_empty() {
            // Each key at the line ssh-keygen found it on; the lines between were not read.
            let last = known.keys().last().copied().unwrap_or(0);
            let mut text = String::new();
            for n in 1..=last {
                match known.get(&n) {
                    Some(l) => text.push_str(l),
                    None => text.push_str("# (not read)"),
                }
                text.push('\n');
            }
            os.files.insert(KNOWN_HOSTS.to_string(), text);
        }
        if !cat_read.contains(KNOWN_HOSTS) {
            // Whole-file reads of known_hosts would show only what was learnt.
            gap(
                Some(&h.name),
                "cat",
                &[KNOWN_HOSTS],
                format!("{KNOWN_HOSTS} on {} was not read whole", h.name),
            );
        }
        info.partial_files.insert(h.name.clone());
        hosts.insert(h.name.clone(), os);
    }
    // A settled `TestWorked` row means the testing node knows that XSCF's host key.
    for g in &guests {
        for r in g.sf_rows.iter().filter(|r| r.test == "TestWorked") {
            let Some(cfg) = sf_config.iter().find(|c| c.cf_node == r.host) else {
                continue;
            };
            let ip = if r.agent.contains("g1") {
                &cfg.ip2
            } else {
                &cfg.ip1
            };
            info.known_keys.insert((g.host.clone(), ip.clone()));
            if let Some(os) = hosts.get_mut(&g.host) {
                if !os.knows_host(ip) {
                    os.append_line(KNOWN_HOSTS, &format!("{ip} ssh-rsa {}", fake_rsa_key(ip)));
                }
            }
        }
    }
    let xscf_user = sf_config
        .first()
        .map(|r| r.user.clone())
        .or_else(|| declared.xscf_user.clone())
        .unwrap_or_default();
    let prepared = cf_timeout != normal_timeout;
    // Where `-p` ran: unless `cfset -a` was read and shows it is not in force.
    let last_source = if prepared || cfset.is_none() {
        sources_of_prepare(&control_domains, &guests, &sf_config)
    } else {
        BTreeMap::new()
    };
    let st = LdomsState {
        control_domains,
        guests,
        cluster: GuestCluster {
            app: app.unwrap_or_default(),
            cf_timeout,
            timeout_before: prepared.then_some(normal_timeout),
            prepared_ms: prepared.then_some(now_ms),
            last_source,
            sf_config,
            sf_starts: 0,
        },
        xscf_user,
        migrations: Vec::new(),
        events: Vec::new(),
        next_seq: 0,
        fault: Fault::default(),
        ldm_version,
    };
    let mut st = st;
    // A facility found settling settles as after a start.
    for g in 0..st.guests.len() {
        if let SfPhase::Starting { since_ms } = st.guests[g].sf {
            let cf_node = st.guests[g].cf_node.clone();
            st.schedule(
                since_ms.saturating_add(SF_SETTLE_MS),
                super::Event::SfSettled { cf_node },
            );
        }
    }
    // What the shutdown facility answers is the model's own once the copy started it.
    for g in info.gaps.iter_mut().filter(|g| g.program == "sdtool") {
        g.until_sf_start = g.host.clone();
    }
    let world = World { now_ms, hosts };
    Ok((world, st, info))
}

/// Where `clovmmigrate -p` ran for each guest that moved since (the `clovmmigrate -u`
/// that ends it must run there). No command shows it; the shutdown facility's row of the
/// guest does: `-p` runs only on the control domain where the guest runs, and the row keeps
/// naming that box (PPAR-ID and XSCF addresses) until `-u` points it at the new one. So a
/// guest whose row names exactly one control domain other than the one it runs on now was
/// moved from there (17.3.1.1: `-p` before `ldm migrate-domain`), and `-p` ran there — the
/// same reading the driver makes to pick the source. Leaving this empty would make the copy
/// refuse the `-u` the site accepts (a move made by hand, then `ldoms/post-migration
/// --dry-run`, which reads the row but not `cfset -a` before its first change).
fn sources_of_prepare(
    control_domains: &[ControlDomain],
    guests: &[Guest],
    sf_config: &[SfConfigRow],
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for g in guests {
        let Some(row) = sf_config.iter().find(|r| r.domain == g.domain) else {
            continue;
        };
        let owners: Vec<&ControlDomain> = control_domains
            .iter()
            .filter(|c| c.ppar_id == row.ppar_id && c.xscf[0] == row.ip1 && c.xscf[1] == row.ip2)
            .collect();
        if let [owner] = owners.as_slice() {
            if owner.name != g.control_domain {
                out.insert(g.domain.clone(), owner.name.clone());
            }
        }
    }
    out
}

impl LdomsState {
    /// Whether the copy closed `gap` since it was seeded: it started the shutdown facility
    /// on the gap's host itself.
    pub(crate) fn gap_lifted(&self, gap: &Gap) -> bool {
        gap.until_sf_start
            .as_deref()
            .and_then(|h| self.guest_by_host(h))
            .is_some_and(|g| self.guests[g].sf_starts > 0)
    }

    /// Why the copy cannot answer `line` on `host` from its state: after the copy
    /// restarted the shutdown facility, `sdtool -s` rows come from the testing node's
    /// `known_hosts`, and whether it holds an XSCF's key was never read.
    pub(crate) fn seed_unknown(&self, info: &SeedInfo, host: &str, line: &str) -> Option<String> {
        let g = self.guest_by_host(host)?;
        if self.guests[g].sf_starts == 0 || info.whole_known_hosts.contains(host) {
            return None;
        }
        let reads_sdtool = crate::seed::commands_of(line).iter().any(|a| {
            a.first().map(|p| p.rsplit('/').next().unwrap_or("")) == Some("sdtool")
                && a.get(1).map(String::as_str) == Some("-s")
        });
        if !reads_sdtool {
            return None;
        }
        self.cluster
            .sf_config
            .iter()
            .flat_map(|r| [&r.ip1, &r.ip2])
            .find(|ip| !info.known_keys.contains(&(host.to_string(), (*ip).clone())))
            .map(|ip| {
                format!(
                    "whether {host} knows the host key of XSCF {ip} (its shutdown agents test it) was not read before the first change"
                )
            })
    }
}

/// A control domain's address: the inventory's, else its entry in a hosts table read on
/// any control domain.
fn address_of(
    declared: &Declared,
    observations: &[Observation],
    name: &str,
    hosts_name: Option<&str>,
) -> String {
    if let Some(a) = declared
        .hosts
        .iter()
        .find(|h| h.name == name)
        .and_then(|h| h.address.clone())
    {
        return a;
    }
    let key = hosts_name.unwrap_or(name);
    observations
        .iter()
        .filter(|o| o.exit == 0)
        .filter(|o| {
            crate::seed::commands_of(&o.line).iter().any(|a| {
                a.len() == 2
                    && a[0].rsplit('/').next() == Some("cat")
                    && canonical(&a[1]) == HOSTS_FILE
            })
        })
        .flat_map(|o| o.stdout.lines())
        .find_map(|l| {
            let l = l.split('#').next().unwrap_or("");
            let mut it = l.split_whitespace();
            let addr = it.next()?;
            it.any(|n| n == key).then(|| addr.to_string())
        })
        .unwrap_or_default()
}

fn canonical(path: &str) -> String {
    crate::world::canonical_path(path).to_string()
}

/// `size` bytes standing for content that was never read (lines of blanks).
fn filler(size: u64) -> String {
    let size = usize::try_from(size).unwrap_or(0).min(64 << 20);
    let mut s = String::with_capacity(size);
    while s.len() < size {
        let left = size - s.len();
        let line = left.min(80);
        s.push_str(&" ".repeat(line - 1));
        s.push('\n');
    }
    s
}

/// One `DOMAIN|…` line of `ldm list -p`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DomainLine {
    name: String,
    state: String,
    flags: String,
    cons: String,
    ncpu: u32,
    mem: u64,
    util: String,
    uptime: Option<u64>,
}

fn parse_ldm_list_p(text: &str) -> Vec<DomainLine> {
    text.lines()
        .filter_map(|l| l.strip_prefix("DOMAIN|"))
        .filter_map(|rest| {
            let kv: BTreeMap<&str, &str> =
                rest.split('|').filter_map(|f| f.split_once('=')).collect();
            Some(DomainLine {
                name: kv.get("name")?.to_string(),
                state: kv.get("state")?.to_string(),
                flags: kv.get("flags").unwrap_or(&"").to_string(),
                cons: kv.get("cons").unwrap_or(&"").to_string(),
                ncpu: kv.get("ncpu").and_then(|v| v.parse().ok()).unwrap_or(0),
                mem: kv.get("mem").and_then(|v| v.parse().ok()).unwrap_or(0),
                util: kv.get("util").unwrap_or(&"").to_string(),
                uptime: kv.get("uptime").and_then(|v| v.parse().ok()),
            })
        })
        .collect()
}

fn parse_spconfig(text: &str) -> Vec<SpConfig> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .filter_map(|l| {
            let name = l.split_whitespace().next()?;
            Some(SpConfig {
                name: name.to_string(),
                current: l.contains("[current]"),
                next_poweron: l.contains("[next poweron]"),
            })
        })
        .collect()
}

/// (CF node, number, state) rows of `cftool -n`.
fn parse_cftool(text: &str) -> Vec<(String, u32, CfState)> {
    text.lines()
        .skip_while(|l| !l.trim_start().starts_with("Node"))
        .skip(1)
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let state = match *w.get(2)? {
                "UP" => CfState::Up,
                "DOWN" => CfState::Down,
                "LEFTCLUSTER" => CfState::LeftCluster,
                "COMINGUP" => CfState::ComingUp,
                _ => return None,
            };
            Some((w[0].to_string(), w[1].parse().ok()?, state))
        })
        .collect()
}

fn parse_cluster_timeout(text: &str) -> Option<u32> {
    text.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("KEY: CLUSTER_TIMEOUT")?;
        rest.trim().strip_prefix("VALUE:")?.trim().parse().ok()
    })
}

fn parse_sdtool(text: &str) -> Vec<AgentRow> {
    text.lines()
        .filter(|l| !l.starts_with("Cluster Host") && !l.starts_with("---"))
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w.len() == 6).then(|| AgentRow {
                host: w[0].into(),
                agent: w[1].into(),
                sa: w[2].into(),
                shut: w[3].into(),
                test: w[4].into(),
                init: w[5].into(),
            })
        })
        .collect()
}

fn parse_clsnmpsetup(text: &str) -> Vec<SfConfigRow> {
    text.lines()
        .filter(|l| !l.starts_with("device-name") && !l.starts_with("---"))
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            if w.len() != 8 {
                return None;
            }
            Some(SfConfigRow {
                device: w[0].into(),
                cf_node: w[1].into(),
                ppar_id: w[2].parse().ok()?,
                domain: w[3].into(),
                ip1: w[4].into(),
                ip2: w[5].into(),
                user: w[6].into(),
                connection: w[7].into(),
            })
        })
        .collect()
}

/// (userApplication, state) of `hvdisp -T userApplication`.
fn parse_hvdisp(text: &str) -> Option<(String, String)> {
    text.lines()
        .skip_while(|l| !l.starts_with("---"))
        .skip(1)
        .find_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w.get(1) == Some(&"userApp"))
                .then(|| Some((w[0].to_string(), w.get(2)?.to_string())))
                .flatten()
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Declared, DeclaredHost, SimSite};

    /// The default site's inventory, as declared facts.
    fn declared() -> Declared {
        let cd = |name: &str, addr: &str, ppar: u32, x: [&str; 2]| DeclaredHost {
            name: name.into(),
            role: "control-domain".into(),
            address: Some(addr.into()),
            hosts_name: Some(name.into()),
            box_name: Some(format!("box-{name}")),
            ppar_id: Some(ppar),
            xscf: Some([x[0].into(), x[1].into()]),
            domain: None,
        };
        let g = |name: &str| DeclaredHost {
            name: name.into(),
            role: "guest-domain".into(),
            domain: Some(name.into()),
            ..DeclaredHost::default()
        };
        Declared {
            hosts: vec![
                cd("cd1", "192.0.2.11", 0, ["10.20.30.71", "10.20.40.71"]),
                cd("cd2", "192.0.2.12", 0, ["10.20.30.72", "10.20.40.72"]),
                cd("cd3", "192.0.2.13", 1, ["10.20.30.73", "10.20.40.73"]),
                g("guest1"),
                g("guest2"),
            ],
            cf_timeout: Some(10),
            xscf_user: Some("xuser".into()),
            cluster: None,
        }
    }

    const READS: &[(&str, &str)] = &[
        ("cd1", "/usr/sbin/ldm list -p"),
        ("cd2", "/usr/sbin/ldm list -p"),
        ("cd3", "/usr/sbin/ldm list -p"),
        ("cd2", "/usr/sbin/ldm list-spconfig"),
        ("cd3", "/usr/sbin/ldm list-spconfig"),
        ("guest1", "/opt/SMAW/bin/cftool -n"),
        ("guest1", "/opt/SMAW/bin/cfset -a"),
        ("guest2", "/opt/SMAW/bin/cfset -a"),
        ("guest1", "/opt/SMAW/bin/sdtool -s"),
        ("guest2", "/opt/SMAW/bin/sdtool -s"),
        ("guest1", "/etc/opt/FJSVcluster/bin/clsnmpsetup -l"),
        ("guest1", "/opt/SMAW/bin/hvdisp -T userApplication"),
        ("guest2", "/opt/SMAW/bin/hvdisp -T userApplication"),
        ("guest1", "wc -c /var/adm/messages"),
        ("cd2", "cat /etc/inet/hosts"),
        ("guest1", "ssh-keygen -F 10.20.30.73"),
        ("guest1", "ssh-keygen -F 10.20.40.73"),
        ("guest2", "ssh-keygen -F 10.20.30.73"),
        ("guest2", "ssh-keygen -F 10.20.40.73"),
    ];

    fn observe(site: &SimSite, reads: &[(&str, &str)]) -> Vec<Observation> {
        reads
            .iter()
            .map(|(h, l)| {
                let line = format!("LC_ALL=C {l}");
                let o = site.exec_line(h, &line);
                Observation {
                    host: h.to_string(),
                    line,
                    exit: o.code(),
                    stdout: o.stdout,
                }
            })
            .collect()
    }

    fn copy_of(site: &SimSite, reads: &[(&str, &str)]) -> SimSite {
        let obs = observe(site, reads);
        SimSite::seeded(
            "ldoms",
            &declared(),
            &obs,
            std::time::Duration::from_millis(site.clock().now().as_millis() as u64),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_copy_answers_the_reads_it_was_seeded_from_as_the_site_did() {
        let site = SimSite::new(None).expect("default site");
        let copy = copy_of(&site, READS);
        for (h, l) in READS {
            let a = site.exec_line(h, l);
            let b = copy.exec_line(h, l);
            assert_eq!((a.code(), &a.stdout), (b.code(), &b.stdout), "{h}: {l}");
        }
        // Things never read are unknown, not invented.
        let unknown = |h: &str, l: &str| {
            let o = copy.exec_line(h, l);
            assert!(
                o.code() == 255 && o.stderr.contains("cannot tell"),
                "{h}: {l}: {o:?}"
            );
        };
        unknown("cd1", "/usr/sbin/ldm list-spconfig");
        unknown("guest1", "cat /var/adm/messages");
        unknown("guest1", "cat /etc/inet/hosts");
        unknown("guest2", "tail -c +1 /var/adm/messages");
        unknown("nosuchhost", "true");
        assert_eq!(
            copy.exec_line("guest1", "wc -c /var/adm/messages").code(),
            0
        );
    }

    #[test]
    fn the_copy_moves_a_guest_as_the_site_would() {
        let site = SimSite::new(None).expect("default site");
        let copy = copy_of(&site, READS);
        for s in [&site, &copy] {
            let o = s.exec_line("cd2", "/etc/opt/FJSVcluster/bin/clovmmigrate -p guest2");
            assert_eq!(o.code(), 0, "{o:?}");
            let o = s.exec_line("cd2", "/usr/sbin/ldm migrate-domain guest2 cd3");
            assert_eq!(o.code(), 0, "{o:?}");
            let o = s.exec_line("cd2", "/etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd3");
            assert_eq!(o.code(), 0, "{o:?}");
            s.clock()
                .sleep(
                    std::time::Duration::from_secs(60),
                    &hascript_api::CancelToken::new(),
                )
                .expect("sleep");
        }
        for (h, l) in [
            ("cd3", "/usr/sbin/ldm list -p"),
            ("cd2", "/usr/sbin/ldm list -p"),
            ("guest1", "/opt/SMAW/bin/cfset -a"),
            ("guest2", "/opt/SMAW/bin/sdtool -s"),
            ("guest1", "/etc/opt/FJSVcluster/bin/clsnmpsetup -l"),
        ] {
            let (a, b) = (site.exec_line(h, l), copy.exec_line(h, l));
            assert_eq!((a.code(), a.stdout), (b.code(), b.stdout), "{h}: {l}");
        }
    }

    #[test]
    fn a_copy_of_a_site_moved_by_hand_accepts_clovmmigrate_u_where_p_ran() {
        let site = SimSite::new(None).expect("default site");
        for l in [
            "/etc/opt/FJSVcluster/bin/clovmmigrate -p guest2",
            "/usr/sbin/ldm migrate-domain guest2 cd3",
        ] {
            let o = site.exec_line("cd2", l);
            assert_eq!(o.code(), 0, "{l}: {o:?}");
        }
        let copy = copy_of(&site, READS);
        // Where -p ran is only on the SF row (box of cd2); the copy answers as the site.
        for (h, l) in [
            ("cd1", "/etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd3"),
            ("cd2", "/etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd3"),
            ("guest1", "/opt/SMAW/bin/cfset -a"),
        ] {
            let (a, b) = (site.exec_line(h, l), copy.exec_line(h, l));
            assert_eq!(
                (a.code(), &a.stdout, &a.stderr),
                (b.code(), &b.stdout, &b.stderr),
                "{h}: {l}"
            );
        }
    }

    #[test]
    fn the_copy_keeps_the_ldm_release_and_inactive_domains() {
        for scenario in ["ldoms/newer-ldm", "ldoms/guest-inactive"] {
            let site = SimSite::new(Some(scenario)).expect("scenario");
            let copy = copy_of(&site, READS);
            for cd in ["cd1", "cd2", "cd3"] {
                for l in ["/usr/sbin/ldm list -p", "/usr/sbin/ldm list"] {
                    let (a, b) = (site.exec_line(cd, l), copy.exec_line(cd, l));
                    assert_eq!(
                        (a.code(), &a.stdout),
                        (b.code(), &b.stdout),
                        "{scenario} {cd}: {l}"
                    );
                }
            }
            let l = "/usr/sbin/ldm start-domain guest2";
            assert_eq!(
                site.exec_line("cd2", l).code(),
                copy.exec_line("cd2", l).code(),
                "{scenario}: {l}"
            );
        }
    }

    #[test]
    fn a_facility_the_copy_restarted_answers_only_what_rests_on_read_keys() {
        let site = SimSite::new(None).expect("default site");
        let no_sdtool: Vec<(&str, &str)> = READS
            .iter()
            .copied()
            .filter(|(_, l)| !l.contains("sdtool"))
            .collect();
        let copy = copy_of(&site, &no_sdtool);
        let sdtool = "/opt/SMAW/bin/sdtool -s";
        assert!(copy
            .exec_line("guest1", sdtool)
            .stderr
            .contains("sdtool -s was not read"));
        for l in [
            "/etc/opt/FJSVcluster/bin/clovmmigrate -p guest2",
            "/etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd2",
        ] {
            assert_eq!(copy.exec_line("cd2", l).code(), 0, "{l}");
        }
        // Restarted by the copy: the gap is closed, but guest1's key for cd1's XSCF was
        // never looked up, so its agents' tests cannot be told.
        let o = copy.exec_line("guest1", sdtool);
        assert!(o.stderr.contains("host key of XSCF 10.20.30.71"), "{o:?}");
        // With every XSCF key looked up on guest1, the copy answers as the site does.
        let mut reads = no_sdtool.clone();
        let lookups: Vec<String> = ["71", "72"]
            .iter()
            .flat_map(|n| {
                [
                    format!("ssh-keygen -F 10.20.30.{n}"),
                    format!("ssh-keygen -F 10.20.40.{n}"),
                ]
            })
            .collect();
        reads.extend(lookups.iter().map(|l| ("guest1", l.as_str())));
        let copy = copy_of(&site, &reads);
        for s in [&site, &copy] {
            for l in [
                "/etc/opt/FJSVcluster/bin/clovmmigrate -p guest2",
                "/etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd2",
            ] {
                assert_eq!(s.exec_line("cd2", l).code(), 0, "{l}");
            }
            s.clock()
                .sleep(
                    std::time::Duration::from_secs(60),
                    &hascript_api::CancelToken::new(),
                )
                .expect("sleep");
        }
        let (a, b) = (
            site.exec_line("guest1", sdtool),
            copy.exec_line("guest1", sdtool),
        );
        assert_eq!((a.code(), a.stdout), (b.code(), b.stdout));
    }

    #[test]
    fn what_cannot_be_represented_is_refused_with_the_reason() {
        let site = SimSite::new(None).expect("default site");
        let obs = observe(&site, &READS[..5]);
        let e = SimSite::seeded("ldoms", &declared(), &obs, std::time::Duration::ZERO)
            .expect_err("no clsnmpsetup");
        assert!(e.to_string().contains("clsnmpsetup -l"), "{e}");
        let mut obs = observe(&site, READS);
        for o in obs.iter_mut().filter(|o| o.line.ends_with("ldm list -p")) {
            o.stdout = "VERSION 1.6\nDOMAIN|name=primary|state=active\n".into();
        }
        let e = SimSite::seeded("ldoms", &declared(), &obs, std::time::Duration::ZERO)
            .expect_err("guests nowhere");
        assert!(e.to_string().contains("guest1"), "{e}");
        // Garbage never panics.
        for o in obs.iter_mut() {
            o.stdout = "\u{0}garbage|=|\n---\nKEY: CLUSTER_TIMEOUT VALUE: x\n".into();
        }
        assert!(SimSite::seeded("ldoms", &declared(), &obs, std::time::Duration::ZERO).is_err());
    }

    #[test]
    fn parsers_read_the_products_formats() {
        assert_eq!(
            parse_cluster_timeout(
                "From cfset configuration in CF module:\nKEY: CLUSTER_TIMEOUT VALUE: 600\n"
            ),
            Some(600)
        );
        let s = parse_spconfig("factory-default\nconfig_20261001 [current] [next poweron]\n");
        assert!(s[1].current && s[1].next_poweron && !s[0].current);
        assert_eq!(filler(100).len(), 100);
        assert_eq!(filler(0), "");
    }
}
