//! `ldm` on a control domain: listing domains and saved configurations, migrating,
//! starting and stopping guests, cancelling a migration.
//!
//! Messages of the real `ldm` that the manuals do not print are written in its style
//! (`LDom <name> …`, `Domain Migration of LDom <name> failed`); the book lists them as the
//! simulator's assumptions.

use hascript_api::Output;

use super::{fill, Event, LdmVersion, LdomsState, MigrateFault, Migration, MIGRATION_MS};
use crate::world::World;

/// How long a failed migration runs before it fails.
const ABORT_AFTER_MS: u64 = 45_000;
/// How long `ldm migrate-domain` runs before it loses ldmd.
const DISCONNECT_AFTER_MS: u64 = 30_000;
/// How long a migration of a bound (stopped) domain takes.
const COLD_MIGRATION_MS: u64 = 10_000;

fn out(stdout: impl Into<String>) -> Output {
    Output::new(0, stdout, "")
}

fn err(text: impl Into<String>) -> Output {
    Output::new(1, "", text)
}

fn usage() -> String {
    "Usage:\n\tldm [--help] command [options] [properties] operands\n\n\
     Commands emulated by the simulator:\n\
     \tlist-domain (list, ls) [-e] [-l] [-p] [-o status] [ldom...]\n\
     \tlist-spconfig (ls-spconfig, list-config)\n\
     \tadd-spconfig <config_name>\n\
     \tremove-spconfig (rm-spconfig) <config_name>\n\
     \tmigrate-domain (migrate) [-f] [-n] [-p <password_file>] <source_ldom> [<user>@]<target_host>[:<target_ldom>]\n\
     \tstart-domain (start) <ldom>\n\
     \tstop-domain (stop) [-f] <ldom>\n\
     \tcancel-operation (cancel-op) migration <ldom>\n"
        .to_string()
}

fn no_such_domain(name: &str) -> Output {
    err(format!("LDom {name} does not exist\n"))
}

/// Run `ldm` on control domain `host`.
pub(crate) fn run(st: &mut LdomsState, w: &mut World, host: &str, args: &[String]) -> Output {
    let Some(cd) = st.cd(host) else {
        return Output::new(127, "", "sh: ldm: not found\n");
    };
    let Some((sub, rest)) = args.split_first() else {
        return err(usage());
    };
    match sub.as_str() {
        "list" | "ls" | "list-domain" | "ls-dom" => list(st, w, cd, rest),
        "list-spconfig" | "ls-spconfig" | "list-config" | "ls-config" => list_spconfig(st, cd, rest),
        "remove-spconfig" | "rm-spconfig" | "remove-config" | "rm-config" => remove_spconfig(st, cd, rest),
        "add-spconfig" | "add-config" => add_spconfig(st, cd, rest),
        "migrate-domain" | "migrate" => migrate(st, w, cd, rest),
        "start-domain" | "start" => start(st, w, cd, rest),
        "stop-domain" | "stop" => stop(st, w, cd, rest),
        "cancel-operation" | "cancel-op" => cancel(st, cd, rest),
        "--help" | "-h" => out(usage()),
        "-V" | "--version" => out(
            "\nLogical Domains Manager (v 3.6.0.0.18)\n\tHypervisor control protocol v 1.12\n\tUsing Hypervisor MD v 1.4\n",
        ),
        other => err(format!("Unknown command {other}\n{}", usage())),
    }
}

/// One domain as `ldm list` shows it.
struct View {
    name: String,
    state: &'static str,
    /// As `ldm list -p` prints them: empty for an inactive domain.
    flags: &'static str,
    cons: String,
    /// `None` for an inactive domain (printed empty).
    ncpu: Option<u32>,
    /// `None` for an inactive domain (printed empty).
    mem: Option<u64>,
    util: String,
    uptime: Option<u64>,
    /// `UUID|uuid=` of `ldm list -l -p`.
    uuid: String,
}

/// A stable UUID for domain `domain` on control domain `cd` (`""` for a guest, whose UUID
/// does not depend on where it runs): two FNV-1a hashes of the names laid out as
/// 8-4-4-4-12 hex digits (the real ones are assigned when the domain is made).
fn domain_uuid(cd: &str, domain: &str) -> String {
    let fnv = |seed: u64| {
        let mut h = 0xcbf2_9ce4_8422_2325_u64 ^ seed;
        for b in cd.bytes().chain([b'/']).chain(domain.bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h
    };
    let (a, b) = (fnv(0), fnv(0x9e37_79b9_7f4a_7c15));
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

fn views(st: &LdomsState, w: &World, cd: usize) -> Vec<View> {
    let c = &st.control_domains[cd];
    let now = w.now_ms;
    let mut v = vec![View {
        name: "primary".to_string(),
        state: "active",
        flags: "-n-cv-",
        cons: "UART".to_string(),
        ncpu: Some(c.ncpu),
        mem: Some(c.mem),
        util: "0.5".to_string(),
        uptime: Some(now.saturating_sub(c.booted_ms) / 1000),
        uuid: domain_uuid(&c.name, "primary"),
    }];
    let mut guests: Vec<View> = Vec::new();
    for g in st.guests.iter().filter(|g| g.control_domain == c.name) {
        let migrating = st
            .migrations
            .iter()
            .any(|m| m.domain == g.domain && m.source == c.name);
        // A guest's UUID moves with it (3.5 Administration Guide): keyed by its name alone.
        let uuid = domain_uuid("", &g.domain);
        guests.push(if g.active {
            View {
                name: g.domain.clone(),
                state: "active",
                flags: if migrating { "-n---s" } else { "-n----" },
                cons: g.cons.to_string(),
                ncpu: Some(g.ncpu),
                mem: Some(g.mem),
                util: g.util.clone(),
                uptime: Some(now.saturating_sub(g.started_ms) / 1000),
                uuid,
            }
        } else if g.inactive {
            // As in the public capture of an inactive domain (Oracle VM Server for SPARC 3.5
            // Administration Guide, "Using Universally Unique Identifiers"): every field
            // after the state is empty.
            View {
                name: g.domain.clone(),
                state: "inactive",
                flags: "",
                cons: String::new(),
                ncpu: None,
                mem: None,
                util: String::new(),
                uptime: None,
                uuid,
            }
        } else {
            View {
                name: g.domain.clone(),
                state: "bound",
                flags: "------",
                cons: g.cons.to_string(),
                ncpu: Some(g.ncpu),
                mem: Some(g.mem),
                util: String::new(),
                uptime: None,
                uuid,
            }
        });
    }
    for m in st.migrations.iter().filter(|m| m.target == c.name) {
        if let Some(g) = st.guest_by_domain(&m.domain) {
            let g = &st.guests[g];
            guests.push(View {
                name: g.domain.clone(),
                state: "bound",
                flags: "-t---t",
                cons: String::new(),
                ncpu: Some(g.ncpu),
                mem: Some(g.mem),
                util: String::new(),
                uptime: None,
                uuid: domain_uuid("", &g.domain),
            });
        }
    }
    guests.sort_by(|a, b| a.name.cmp(&b.name));
    v.extend(guests);
    v
}

fn human_mem(bytes: u64) -> String {
    const G: u64 = 1 << 30;
    const M: u64 = 1 << 20;
    if bytes >= G && (bytes / G) * G == bytes {
        format!("{}G", bytes / G)
    } else {
        format!("{}M", bytes / M)
    }
}

fn human_uptime(s: u64) -> String {
    let (d, h, m) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    if d > 0 {
        format!("{d}d {h}h {m}m")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m")
    } else {
        format!("{s}s")
    }
}

fn list(st: &mut LdomsState, w: &mut World, cd: usize, args: &[String]) -> Output {
    let mut parseable = false;
    let mut long = false;
    let mut format: Option<String> = None;
    let mut names: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-p" => parseable = true,
            "-l" => long = true,
            "-e" => {}
            "-o" => {
                let Some(f) = args.get(i + 1) else {
                    return err(format!("Option -o requires a format\n{}", usage()));
                };
                format = Some(f.clone());
                i += 1;
            }
            a if a.starts_with('-') => return err(format!("Invalid option {a}\n{}", usage())),
            a => names.push(a),
        }
        i += 1;
    }
    let all = views(st, w, cd);
    for n in &names {
        if !all.iter().any(|v| v.name == *n) {
            return no_such_domain(n);
        }
    }
    let selected: Vec<&View> = all
        .iter()
        .filter(|v| names.is_empty() || names.contains(&v.name.as_str()))
        .collect();
    if let Some(f) = format {
        if f != "status" {
            return err(format!(
                "The simulator emulates only -o status, not -o {f}\n"
            ));
        }
        if names.is_empty() {
            return err("ldm list -o status needs a domain name in the simulator\n");
        }
        let mut s = String::new();
        for v in &selected {
            s.push_str(&format!("NAME\n{}\n\n", v.name));
            if let Some(m) = st.migrations.iter().find(|m| m.domain == v.name) {
                let total = m.ends_ms.saturating_sub(m.started_ms).max(1);
                let done = w.now_ms.saturating_sub(m.started_ms).min(total);
                let pct = done * 100 / total;
                let here = &st.control_domains[cd].name;
                let (op, peer) = if &m.source == here {
                    ("migration", m.target.as_str())
                } else {
                    ("migration", m.source.as_str())
                };
                s.push_str("STATUS\n    OPERATION    PROGRESS    TARGET\n");
                s.push_str(&format!("    {op:<13}{:<12}{peer}\n\n", format!("{pct}%")));
            }
        }
        return out(s);
    }
    if parseable {
        let version = st.ldm_version;
        let mut s = format!("VERSION {}\n", version.word());
        let num = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_default();
        for v in &selected {
            s.push_str(&format!(
                "DOMAIN|name={}|state={}|flags={}|cons={}|ncpu={}|mem={}|util={}|uptime={}",
                v.name,
                v.state,
                v.flags,
                v.cons,
                num(v.ncpu.map(u64::from)),
                num(v.mem),
                v.util,
                num(v.uptime)
            ));
            // The newer release appends the normalised utilisation (equal to `util` on the
            // public capture's domains), empty where `util` is.
            if version == LdmVersion::V1_11 {
                s.push_str(&format!("|norm_util={}", v.util));
            }
            s.push('\n');
            // `-l -p` prints the domain's UUID record after it (the other records of the
            // long form are not emulated).
            if long {
                s.push_str(&format!("UUID|uuid={}\n", v.uuid));
            }
        }
        return out(s);
    }
    let mut s = format!(
        "{:<17}{:<11}{:<8}{:<8}{:<6}{:<9}{:<6}{:<6}{}\n",
        "NAME", "STATE", "FLAGS", "CONS", "VCPU", "MEMORY", "UTIL", "NORM", "UPTIME"
    );
    for v in &selected {
        let ncpu = v.ncpu.map(|n| n.to_string()).unwrap_or_default();
        let mem = v.mem.map(human_mem).unwrap_or_default();
        let line = if v.state == "active" {
            let util = format!("{}%", v.util);
            format!(
                "{:<17}{:<11}{:<8}{:<8}{:<6}{:<9}{:<6}{:<6}{}",
                v.name,
                v.state,
                v.flags,
                v.cons,
                ncpu,
                mem,
                util,
                util,
                v.uptime.map(human_uptime).unwrap_or_default()
            )
        } else {
            // The human form prints `------` where the parseable form prints no flags.
            let flags = if v.flags.is_empty() {
                "------"
            } else {
                v.flags
            };
            format!(
                "{:<17}{:<11}{:<8}{:<8}{:<6}{}",
                v.name, v.state, flags, v.cons, ncpu, mem
            )
        };
        s.push_str(line.trim_end());
        s.push('\n');
    }
    out(s)
}

fn list_spconfig(st: &LdomsState, cd: usize, args: &[String]) -> Output {
    if let Some(a) = args.first() {
        return err(format!(
            "Invalid argument {a}\nUsage:\n\tldm list-spconfig\n"
        ));
    }
    let mut s = String::new();
    for c in &st.control_domains[cd].spconfigs {
        s.push_str(&c.name);
        if c.current {
            s.push_str(" [current]");
        }
        if c.next_poweron {
            s.push_str(" [next poweron]");
        }
        s.push('\n');
    }
    out(s)
}

fn remove_spconfig(st: &mut LdomsState, cd: usize, args: &[String]) -> Output {
    let [name] = args else {
        return err("Usage:\n\tldm remove-spconfig <config_name>\n");
    };
    if name == "factory-default" {
        return err("The factory-default configuration cannot be removed\n");
    }
    let configs = &mut st.control_domains[cd].spconfigs;
    match configs.iter().position(|c| &c.name == name) {
        Some(i) => {
            configs.remove(i);
            out("")
        }
        None => err(format!("The configuration {name} does not exist\n")),
    }
}

/// The most configurations a service processor holds (factory-default included).
const MAX_SPCONFIGS: usize = 8;

fn add_spconfig(st: &mut LdomsState, cd: usize, args: &[String]) -> Output {
    let [name] = args else {
        return err("Usage:\n\tldm add-spconfig <config_name>\n");
    };
    let configs = &mut st.control_domains[cd].spconfigs;
    if configs.iter().any(|c| &c.name == name) {
        return err(format!("A configuration named {name} already exists\n"));
    }
    if configs.len() >= MAX_SPCONFIGS {
        return err(format!(
            "The maximum number of configurations ({MAX_SPCONFIGS}) has been reached\n"
        ));
    }
    for c in configs.iter_mut() {
        c.current = false;
        c.next_poweron = false;
    }
    configs.push(super::SpConfig {
        name: name.clone(),
        current: true,
        next_poweron: true,
    });
    out("")
}

/// The control domain a migration target names: a name or an address, resolved through
/// the source control domain's `/etc/inet/hosts`.
pub(crate) fn resolve_cd(st: &LdomsState, w: &World, cd: usize, target: &str) -> Option<usize> {
    let here = &st.control_domains[cd].name;
    let os = w.hosts.get(here)?;
    let addr = os.resolve(target).unwrap_or_else(|| target.to_string());
    st.cd_by_address(&addr)
}

fn unreachable_target(target: &str) -> Output {
    err(format!(
        "Failed to establish connection with ldmd(1m) on target: {target}\n\
         Check that the 'ldmd' service is enabled on the target machine and\n\
         that the version supports Domain Migration. Check that the 'xmpp_enabled'\n\
         and 'incoming_migration_enabled' properties of the 'ldmd' service on\n\
         the target machine are set to 'true' using svccfg(1M).\n"
    ))
}

fn default_reasons(kind: MigrateFault) -> &'static [&'static str] {
    match kind {
        MigrateFault::None => &[],
        MigrateFault::WouldFail => {
            &["Insufficient memory on target {target} to bind domain {guest}"]
        }
        MigrateFault::AbortGuestStopped => &[
            "Failed to suspend domain {guest} on the source machine",
            "Domain {guest} has been stopped on {source}",
        ],
        MigrateFault::AbortGuestRunning => &[
            "The target machine {target} did not acknowledge the transfer of domain {guest}",
            "Domain {guest} has been resumed on {source}",
        ],
        MigrateFault::ContinuesAfterDisconnect | MigrateFault::Hangs => {
            &["Connection to ldmd lost"]
        }
    }
}

fn reasons(st: &LdomsState, guest: &str, source: &str, target: &str) -> String {
    let mut s = String::new();
    let custom: Vec<&str> = st.fault.reasons.iter().map(String::as_str).collect();
    let lines: Vec<&str> = if custom.is_empty() {
        default_reasons(st.fault.migrate).to_vec()
    } else {
        custom
    };
    for l in lines {
        s.push_str(&fill(l, guest, source, target));
        s.push('\n');
    }
    s
}

fn migrate(st: &mut LdomsState, w: &mut World, cd: usize, args: &[String]) -> Output {
    let usage = "Usage:\n\tldm migrate-domain [-f] [-n] [-p <password_file>] <source_ldom> [<user>@]<target_host>[:<target_ldom>]\n";
    let mut dry = false;
    let mut password_file: Option<&str> = None;
    let mut operands: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-n" => dry = true,
            "-f" | "-c" | "-q" => {}
            "-p" => {
                let Some(f) = args.get(i + 1) else {
                    return err(usage);
                };
                password_file = Some(f);
                i += 1;
            }
            a if a.starts_with('-') => return err(format!("Invalid option {a}\n{usage}")),
            a => operands.push(a),
        }
        i += 1;
    }
    let [guest_name, target_arg] = operands.as_slice() else {
        return err(usage);
    };
    let here = st.control_domains[cd].name.clone();
    // `-p FILE`: ldm reads the target's password from FILE on this control domain (its
    // first line); a file that is not there is refused before anything moves.
    if let Some(f) = password_file {
        let readable = w
            .hosts
            .get(&here)
            .and_then(|os| os.file(f))
            .is_some_and(|c| !c.trim().is_empty());
        if !readable {
            return err(format!(
                "Unable to read the password from file {f}: No such file or empty\n{usage}"
            ));
        }
    }
    let Some(g) = st
        .guest_by_domain(guest_name)
        .filter(|&g| st.guests[g].control_domain == here)
    else {
        return no_such_domain(guest_name);
    };
    let host_part = target_arg
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(target_arg);
    let (target_host, rename) = match host_part.split_once(':') {
        Some((h, n)) => (h, Some(n)),
        None => (host_part, None),
    };
    if let Some(n) = rename {
        if n != *guest_name {
            return err(format!(
                "Renaming a domain during migration ({guest_name} to {n}) is not emulated by the simulator\n"
            ));
        }
    }
    let Some(t) = resolve_cd(st, w, cd, target_host) else {
        return unreachable_target(target_host);
    };
    if t == cd {
        return err(format!(
            "Target host {target_host} is the source machine: a domain cannot be migrated to its own machine\n"
        ));
    }
    if st.migration_of(guest_name).is_some() {
        return err(format!("Domain {guest_name} is already being migrated\n"));
    }
    let target = st.control_domains[t].name.clone();
    let kind = st.fault.migrate;
    if dry {
        if kind == MigrateFault::WouldFail {
            return err(format!(
                "{}Domain Migration of LDom {guest_name} would fail if attempted\n",
                reasons(st, guest_name, &here, &target)
            ));
        }
        return out("");
    }
    if kind == MigrateFault::WouldFail {
        return err(format!(
            "{}Domain Migration of LDom {guest_name} failed\n",
            reasons(st, guest_name, &here, &target)
        ));
    }
    if !st.guests[g].active {
        // A bound domain migrates its configuration only.
        let until = w.now_ms.saturating_add(COLD_MIGRATION_MS);
        st.settle(w, until);
        st.running_config_changed(&here);
        st.running_config_changed(&target);
        st.guests[g].control_domain = target;
        return out("");
    }
    let failing = kind != MigrateFault::None && st.fault.migrate_failures > 0;
    if failing {
        st.fault.migrate_failures -= 1;
    }
    match kind {
        MigrateFault::AbortGuestStopped | MigrateFault::AbortGuestRunning if failing => {
            let until = w.now_ms.saturating_add(ABORT_AFTER_MS);
            st.settle(w, until);
            let text = reasons(st, guest_name, &here, &target);
            if kind == MigrateFault::AbortGuestStopped && st.guests[g].active {
                st.stop_guest(w, g);
            }
            err(format!(
                "{text}Domain Migration of LDom {guest_name} failed\n"
            ))
        }
        MigrateFault::Hangs if failing => {
            let until = w.now_ms.saturating_add(DISCONNECT_AFTER_MS);
            st.settle(w, until);
            let text = reasons(st, guest_name, &here, &target);
            let now = w.now_ms;
            // Never ends by itself: no MigrationDone is scheduled; `ldm list -o status`
            // shows its progress stuck near 0 %.
            st.migrations.push(Migration {
                domain: guest_name.to_string(),
                source: here,
                target,
                started_ms: now.saturating_sub(DISCONNECT_AFTER_MS),
                ends_ms: u64::MAX,
            });
            err(text)
        }
        MigrateFault::ContinuesAfterDisconnect if failing => {
            let until = w.now_ms.saturating_add(DISCONNECT_AFTER_MS);
            st.settle(w, until);
            let text = reasons(st, guest_name, &here, &target);
            let now = w.now_ms;
            st.migrations.push(Migration {
                domain: guest_name.to_string(),
                source: here,
                target,
                started_ms: now.saturating_sub(DISCONNECT_AFTER_MS),
                ends_ms: now.saturating_add(st.fault.continue_ms),
            });
            st.schedule(
                now.saturating_add(st.fault.continue_ms),
                Event::MigrationDone {
                    domain: guest_name.to_string(),
                },
            );
            err(text)
        }
        _ => {
            let until = w.now_ms.saturating_add(MIGRATION_MS);
            st.settle(w, until);
            if !st.guests[g].active || st.guests[g].control_domain != here {
                return err(format!(
                    "Domain {guest_name} changed state during the migration\nDomain Migration of LDom {guest_name} failed\n"
                ));
            }
            st.running_config_changed(&here);
            st.running_config_changed(&target);
            st.guests[g].control_domain = target;
            st.after_live_migration(w, g);
            out("")
        }
    }
}

/// The guest `name` bound to control domain `cd`, if any.
fn local_guest(st: &LdomsState, cd: usize, name: &str) -> Option<usize> {
    let here = &st.control_domains[cd].name;
    st.guest_by_domain(name)
        .filter(|&g| &st.guests[g].control_domain == here)
}

fn start(st: &mut LdomsState, w: &mut World, cd: usize, args: &[String]) -> Output {
    let names: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    if names.len() != 1 || args.iter().any(|a| a.starts_with('-') && a != "-a") {
        return err("Usage:\n\tldm start-domain <ldom>\n");
    }
    let name = names[0];
    let Some(g) = local_guest(st, cd, name) else {
        return no_such_domain(name);
    };
    if st.migration_of(name).is_some() {
        return err(format!("Domain {name} is being migrated\n"));
    }
    if st.guests[g].active {
        return err(format!("LDom {name} is already active\n"));
    }
    if st.guests[g].inactive {
        return err(format!(
            "LDom {name} is not bound: bind it with ldm bind-domain {name} before starting it\n"
        ));
    }
    st.start_guest(w, g);
    out(format!("LDom {name} started\n"))
}

fn stop(st: &mut LdomsState, w: &mut World, cd: usize, args: &[String]) -> Output {
    let names: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    if names.len() != 1
        || args
            .iter()
            .any(|a| a.starts_with('-') && !["-f", "-q", "-h"].contains(&a.as_str()))
    {
        return err("Usage:\n\tldm stop-domain [-f | -q | -h] <ldom>\n");
    }
    let name = names[0];
    let Some(g) = local_guest(st, cd, name) else {
        return no_such_domain(name);
    };
    if st.migration_of(name).is_some() {
        return err(format!("Domain {name} is being migrated\n"));
    }
    if !st.guests[g].active {
        return err(format!("LDom {name} is not active\n"));
    }
    st.stop_guest(w, g);
    out(format!("LDom {name} stopped\n"))
}

fn cancel(st: &mut LdomsState, cd: usize, args: &[String]) -> Output {
    let usage = "Usage:\n\tldm cancel-operation (migration | reconf | memdr) <ldom>\n";
    let [op, name] = args else {
        return err(usage);
    };
    let here = st.control_domains[cd].name.clone();
    match op.as_str() {
        "migration" => {}
        "reconf" | "memdr" => {
            return err(format!(
                "No {op} operation is in progress for domain {name}\n"
            ))
        }
        _ => return err(usage),
    }
    let Some(m) = st.migration_of(name) else {
        return if local_guest(st, cd, name).is_some() {
            err(format!("No migration is in progress for domain {name}\n"))
        } else {
            no_such_domain(name)
        };
    };
    if st.migrations[m].source != here {
        return err(format!(
            "The migration of domain {name} can only be cancelled on its source machine ({})\n",
            st.migrations[m].source
        ));
    }
    st.migrations.remove(m);
    let dom = name.clone();
    st.unschedule(|e| matches!(e, Event::MigrationDone { domain } if *domain == dom));
    out("")
}
