//! The simulator's own readers of the Serviceguard / Integrity VM outputs a dry run keeps
//! from a real site (see [`super::seed`]): `cmviewcl -v -f line`, `hpvmstatus`,
//! `hpvmstatus -P`, `ls -l`, `ps -ef`, `od -A n -v -t x1`, `swlist -l product`,
//! `vgdisplay`, `df -n`, `wc -c`. They are written from the contract page
//! (`book/src/driver-hpvm.md`) and the products' layouts, never from the hpvm driver's
//! parsers: the emulator shares no code with the drivers. Each one is a pure function; what
//! it cannot read is an `Err` naming the line, never half a result.

use std::collections::BTreeMap;

use crate::world::{S_IFDIR, S_IFREG};

/// Lines of `text` without their line ends (CRLF tolerated), numbered from 1.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
}

// ----- cmviewcl -v -f line ---------------------------------------------------------------

/// A cluster node as `cmviewcl -v -f line` prints it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct NodeLine {
    /// `node:N|name`.
    pub name: String,
    /// `status` (`up`, `down`, …).
    pub status: String,
    /// `state` (`running`, `halted`, …).
    pub state: String,
    /// The first `interface:<lan>|ip_address:<ip>` seen: its heartbeat address.
    pub heartbeat_ip: Option<String>,
}

/// A package service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ServiceLine {
    /// Service name.
    pub name: String,
    /// `status`.
    pub status: String,
    /// `restarts`.
    pub restarts: Option<String>,
    /// `max_restarts` (`unlimited` or a number).
    pub max_restarts: Option<String>,
}

/// One node of a package's node list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PackageNodeLine {
    /// Node name.
    pub name: String,
    /// `status` of the node.
    pub status: String,
    /// Node switching (`enabled` / `disabled`).
    pub switching: Option<String>,
}

/// A package.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PackageLine {
    /// Package name.
    pub name: String,
    /// `status` (`up`, `down`, `starting`, …).
    pub status: String,
    /// `state` (`running`, `halted`, …).
    pub state: String,
    /// Package switching (`autorun`).
    pub autorun: Option<String>,
    /// The node running it (absent or empty when down).
    pub owner: Option<String>,
    /// `failover_policy`.
    pub failover_policy: Option<String>,
    /// `failback_policy`.
    pub failback_policy: Option<String>,
    /// `run_script`: a legacy package's control script.
    pub run_script: Option<String>,
    /// Services in output order.
    pub services: Vec<ServiceLine>,
    /// Node list in output order.
    pub nodes: Vec<PackageNodeLine>,
}

/// `cmviewcl -v -f line` as far as the emulator models it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ClusterLine {
    /// Cluster name.
    pub name: String,
    /// Nodes in output order.
    pub nodes: Vec<NodeLine>,
    /// Packages in output order.
    pub packages: Vec<PackageLine>,
}

fn entry<'a, T: Default>(v: &'a mut Vec<T>, name: &str, key: impl Fn(&T) -> &str) -> &'a mut T {
    match v.iter().position(|x| key(x) == name) {
        Some(i) => &mut v[i],
        None => {
            v.push(T::default());
            let last = v.len() - 1;
            &mut v[last]
        }
    }
}

/// Read `cmviewcl -v -f line`: `key=value` lines, objects prefixed `node:N|`,
/// `package:P|`, `package:P|service:S|`, `package:P|node:N|`. Keys the emulator does not
/// model (interfaces, dependencies, groups) are skipped; a line that is not `key=value`
/// is an error.
pub(crate) fn cmviewcl_line(text: &str) -> Result<ClusterLine, String> {
    let mut c = ClusterLine::default();
    let mut any = false;
    for (n, raw) in lines(text) {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let Some((path, value)) = line.split_once('=') else {
            return Err(format!("line {n} is not key=value: {line:?}"));
        };
        any = true;
        let value = value.trim().to_string();
        let parts: Vec<&str> = path.split('|').collect();
        let object = |p: &str| {
            p.split_once(':')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        };
        match parts.as_slice() {
            ["name"] => c.name = value,
            [key] if !key.contains(':') => {}
            [obj, key] => match object(obj) {
                Some((kind, name)) if kind == "node" => {
                    let node = entry(&mut c.nodes, &name, |x: &NodeLine| &x.name);
                    node.name = name;
                    match *key {
                        "status" => node.status = value,
                        "state" => node.state = value,
                        _ => {}
                    }
                }
                Some((kind, name)) if kind == "package" => {
                    let p = entry(&mut c.packages, &name, |x: &PackageLine| &x.name);
                    p.name = name;
                    match *key {
                        "status" => p.status = value,
                        "state" => p.state = value,
                        "autorun" => p.autorun = Some(value),
                        "owner" => p.owner = Some(value),
                        "failover_policy" => p.failover_policy = Some(value),
                        "failback_policy" => p.failback_policy = Some(value),
                        "run_script" if !value.is_empty() => p.run_script = Some(value),
                        _ => {}
                    }
                }
                Some(_) => {}
                None => return Err(format!("line {n}: {obj:?} is not kind:name")),
            },
            [obj, sub, addr, "name"]
                if obj.starts_with("node:")
                    && sub.starts_with("interface:")
                    && addr.starts_with("ip_address:") =>
            {
                if let Some((_, name)) = object(obj) {
                    let node = entry(&mut c.nodes, &name, |x: &NodeLine| &x.name);
                    node.name = name;
                    if node.heartbeat_ip.is_none() && !value.is_empty() {
                        node.heartbeat_ip = Some(value);
                    }
                }
            }
            [obj, sub, key] => {
                let (Some((kind, name)), Some((skind, sname))) = (object(obj), object(sub)) else {
                    return Err(format!("line {n}: {path:?} is not kind:name|kind:name|key"));
                };
                if kind != "package" {
                    continue;
                }
                let p = entry(&mut c.packages, &name, |x: &PackageLine| &x.name);
                p.name = name;
                match skind.as_str() {
                    "service" => {
                        let s = entry(&mut p.services, &sname, |x: &ServiceLine| &x.name);
                        s.name = sname;
                        match *key {
                            "status" => s.status = value,
                            "restarts" => s.restarts = Some(value),
                            "max_restarts" => s.max_restarts = Some(value),
                            _ => {}
                        }
                    }
                    "node" => {
                        let pn = entry(&mut p.nodes, &sname, |x: &PackageNodeLine| &x.name);
                        pn.name = sname;
                        match *key {
                            "status" => pn.status = value,
                            "switching" => pn.switching = Some(value),
                            _ => {}
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    if !any {
        return Err("no key=value line".into());
    }
    if c.name.is_empty() {
        return Err("no cluster name= line".into());
    }
    Ok(c)
}

// ----- hpvmstatus ------------------------------------------------------------------------

/// One guest row of `hpvmstatus` or of `hpvmstatus -P`'s details table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VmRow {
    /// Virtual machine name.
    pub name: String,
    /// VM number.
    pub number: u32,
    /// OS type.
    pub os_type: String,
    /// State as printed (`On (OS)`, `Off (NR)`, …).
    pub state: String,
    /// `#VCPUs` (summary only).
    pub vcpus: Option<u32>,
    /// `#Devs` (summary only).
    pub devs: Option<usize>,
    /// `#Nets` (summary only).
    pub nets: Option<usize>,
    /// `Memory` as printed (`2 GB`; summary only).
    pub memory: Option<String>,
}

/// The columns of a table from its `====` rule: (start, end) byte spans.
fn rule_spans(rule: &str) -> Option<Vec<(usize, usize)>> {
    let t = rule.trim_end();
    if t.is_empty() || !t.chars().all(|c| c == '=' || c == ' ') || !t.contains('=') {
        return None;
    }
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in t.char_indices() {
        match (c, start) {
            ('=', None) => start = Some(i),
            (' ', Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, t.len()));
    }
    Some(spans)
}

/// The header's column names: the header text above each rule span (several header
/// lines are joined), lower-cased.
fn header_names(headers: &[&str], spans: &[(usize, usize)]) -> Vec<String> {
    spans
        .iter()
        .map(|(s, e)| {
            headers
                .iter()
                .map(|h| h.get(*s..(*e).min(h.len())).unwrap_or("").trim())
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
                .to_ascii_lowercase()
        })
        .collect()
}

/// One table after a `[Section]` line: its column names and its rows (raw lines).
struct Table<'a> {
    columns: Vec<String>,
    rows: Vec<(usize, &'a str)>,
}

/// The tables of an `hpvmstatus` output by section name (`Virtual Machines`, …).
fn tables(text: &str) -> Result<BTreeMap<String, Table<'_>>, String> {
    let all: Vec<(usize, &str)> = lines(text).collect();
    let mut out = BTreeMap::new();
    let mut i = 0;
    while i < all.len() {
        let (_, l) = all[i];
        let t = l.trim();
        if let Some(name) = t.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
            let mut headers = Vec::new();
            let mut j = i + 1;
            let spans = loop {
                let Some((_, h)) = all.get(j) else {
                    break None;
                };
                if let Some(s) = rule_spans(h) {
                    break Some(s);
                }
                if h.trim().is_empty() || h.trim().starts_with('[') {
                    // `Label : value` sections (`[Authorized Administrators]`) have no
                    // table; a missing table the caller needs is reported by the caller.
                    break None;
                }
                headers.push(*h);
                j += 1;
            };
            let Some(spans) = spans else {
                i = j;
                continue;
            };
            let columns = header_names(&headers, &spans);
            let mut rows = Vec::new();
            j += 1;
            while let Some((rn, r)) = all.get(j) {
                if r.trim().is_empty() || r.trim().starts_with('[') {
                    break;
                }
                rows.push((*rn, *r));
                j += 1;
            }
            out.insert(name.to_string(), Table { columns, rows });
            i = j;
        } else {
            i += 1;
        }
    }
    Ok(out)
}

/// Split a guest row into one value per column: words in order, a state taking its
/// `(…)` word too, a memory size its unit. Long names that overflow a column still read.
fn guest_cells(columns: &[String], line: &str) -> Option<BTreeMap<String, String>> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let mut w = 0;
    let mut cells = BTreeMap::new();
    for col in columns {
        let first = *words.get(w)?;
        w += 1;
        let mut v = first.to_string();
        let joins = match col.as_str() {
            "state" => words.get(w).is_some_and(|x| x.starts_with('(')),
            "memory" => words
                .get(w)
                .is_some_and(|x| x.chars().all(|c| c.is_ascii_alphabetic())),
            _ => false,
        };
        if joins {
            v.push(' ');
            v.push_str(words[w]);
            w += 1;
        }
        cells.insert(col.clone(), v);
        if w >= words.len() {
            break;
        }
    }
    Some(cells)
}

fn vm_row(columns: &[String], n: usize, line: &str) -> Result<VmRow, String> {
    let cells = guest_cells(columns, line).ok_or_else(|| format!("line {n}: empty row"))?;
    let get = |k: &str| cells.get(k).cloned();
    let name = get("virtual machine name").ok_or_else(|| format!("line {n}: no name"))?;
    let number = get("vm #")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("line {n}: VM # of {name} is not a number: {line:?}"))?;
    let os_type = get("os type").ok_or_else(|| format!("line {n}: no OS type"))?;
    let state = get("state").ok_or_else(|| format!("line {n}: no state"))?;
    let num = |k: &str| -> Result<Option<u32>, String> {
        match get(k) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| format!("line {n}: {k} of {name} is not a number: {v:?}")),
        }
    };
    Ok(VmRow {
        vcpus: num("#vcpus")?,
        devs: num("#devs")?.map(|v| v as usize),
        nets: num("#nets")?.map(|v| v as usize),
        memory: get("memory"),
        name,
        number,
        os_type,
        state,
    })
}

/// Read `hpvmstatus` (the `[Virtual Machines]` summary): one row per guest registered on
/// the host.
pub(crate) fn hpvmstatus(text: &str) -> Result<Vec<VmRow>, String> {
    let t = tables(text)?;
    let table = t
        .get("Virtual Machines")
        .ok_or("no [Virtual Machines] table")?;
    table
        .rows
        .iter()
        .map(|(n, l)| vm_row(&table.columns, *n, l))
        .collect()
}

/// One storage row of `hpvmstatus -P` (`disk`, `dvd`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DiskRow {
    /// Guest device type (`disk`, `dvd`).
    pub guest_device: String,
    /// Adaptor (`scsi`, `avio_stor`).
    pub adaptor: String,
    /// Bus, device, function, target, LUN.
    pub address: [u32; 5],
    /// Storage kind word (`disk`, `lv`, `file`, `null`).
    pub kind: String,
    /// Physical device or file.
    pub device: String,
}

/// One virtual NIC of `hpvmstatus -P`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NicRow {
    /// vswitch name.
    pub vswitch: String,
    /// Port number.
    pub port: u32,
    /// PCI bus, device, function.
    pub bdf: (u32, u32, u32),
    /// MAC address as printed.
    pub mac: String,
}

/// `hpvmstatus -P VM`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VmDetails {
    /// The details row.
    pub row: VmRow,
    /// Virtual disks in order.
    pub disks: Vec<DiskRow>,
    /// Virtual NICs in order.
    pub nics: Vec<NicRow>,
}

/// Read `hpvmstatus -P VM`: the details row, the storage and network tables (storage
/// rows `Device Adaptor Bus Dev Ftn Tgt Lun Storage Device`, network rows `Interface
/// Adaptor Name/Num PortNum Bus Dev Ftn Mac`).
pub(crate) fn hpvmstatus_p(text: &str) -> Result<VmDetails, String> {
    let t = tables(text)?;
    let det = t
        .get("Virtual Machine Details")
        .ok_or("no [Virtual Machine Details] table")?;
    let [(n, l)] = det.rows.as_slice() else {
        return Err(format!(
            "[Virtual Machine Details] has {} rows, not one",
            det.rows.len()
        ));
    };
    let mut row = vm_row(&det.columns, *n, l)?;
    // CPUs and memory of real outputs' own sections (the summary's columns otherwise).
    if let Some((n, l)) = t.get("Virtual CPU Details").and_then(|c| c.rows.first()) {
        let w = l.split_whitespace().next().unwrap_or("");
        row.vcpus = Some(
            w.parse()
                .map_err(|_| format!("line {n}: #vCPUs {w:?} is not a number"))?,
        );
    }
    if let Some((_, l)) = t.get("Memory Details").and_then(|c| c.rows.first()) {
        let w: Vec<&str> = l.split_whitespace().collect();
        row.memory = match w.as_slice() {
            [v, u, ..] if u.chars().all(|c| c.is_ascii_alphabetic()) => Some(format!("{v} {u}")),
            [v, ..] => Some(v.to_string()),
            [] => None,
        };
    }
    let mut disks = Vec::new();
    if let Some(st) = t.get("Storage Interface Details") {
        for (n, l) in &st.rows {
            let w: Vec<&str> = l.split_whitespace().collect();
            if w.len() != 9 {
                return Err(format!("line {n}: a storage row has 9 columns: {l:?}"));
            }
            let mut address = [0u32; 5];
            for (k, a) in address.iter_mut().enumerate() {
                *a = w[2 + k]
                    .parse()
                    .map_err(|_| format!("line {n}: {:?} is not a number: {l:?}", w[2 + k]))?;
            }
            disks.push(DiskRow {
                guest_device: w[0].to_string(),
                adaptor: w[1].to_string(),
                address,
                kind: w[7].to_string(),
                device: w[8].to_string(),
            });
        }
    }
    let mut nics = Vec::new();
    if let Some(net) = t.get("Network Interface Details") {
        for (n, l) in &net.rows {
            let w: Vec<&str> = l.split_whitespace().collect();
            let num = |i: usize| -> Result<u32, String> {
                w[i].parse()
                    .map_err(|_| format!("line {n}: {:?} is not a number: {l:?}", w[i]))
            };
            if w.len() != 8 {
                return Err(format!("line {n}: a network row has 8 columns: {l:?}"));
            }
            nics.push(NicRow {
                vswitch: w[2].to_string(),
                port: num(3)?,
                bdf: (num(4)?, num(5)?, num(6)?),
                mac: w[7].to_string(),
            });
        }
    }
    if row.vcpus.is_some() {
        // What the summary's #Devs and #Nets count.
        row.devs = Some(disks.len());
        row.nets = Some(nics.len());
    }
    Ok(VmDetails { row, disks, nics })
}

// ----- ls -l -----------------------------------------------------------------------------

/// What kind of path an `ls -l` line shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LsKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// Anything the emulator does not model (link, device, socket).
    Other,
}

/// One `ls -l` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LsEntry {
    /// Type.
    pub kind: LsKind,
    /// `st_mode`: type bits and permission bits (with setuid, setgid, sticky).
    pub mode: u32,
    /// Link count (for a directory: 2 + its subdirectories).
    pub links: u64,
    /// Owner.
    pub owner: String,
    /// Group.
    pub group: String,
    /// Size in bytes (files).
    pub size: u64,
    /// Modification time, unix ms (to the minute, or the day for old files).
    pub mtime_ms: u64,
    /// The name as shown.
    pub name: String,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Days since 1970-01-01 of a civil date.
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    hascript_api::civil::to_days(y, m, d)
}

fn ms_of(y: i64, m: u32, d: u32, hh: u32, mm: u32, ss: u32) -> Option<u64> {
    let days = days_from_civil(y, m, d);
    let secs = days * 86_400 + i64::from(hh) * 3600 + i64::from(mm) * 60 + i64::from(ss);
    u64::try_from(secs).ok().map(|s| s * 1000)
}

fn month(word: &str) -> Option<u32> {
    MONTHS.iter().position(|m| *m == word).map(|i| i as u32 + 1)
}

/// `Mon dd` plus `HH:MM` (within six months of `now_ms`, the year inferred) or `YYYY`.
fn ls_time(mon: &str, day: &str, time_or_year: &str, now_ms: u64) -> Option<u64> {
    let m = month(mon)?;
    let d: u32 = day.parse().ok().filter(|d| (1..=31).contains(d))?;
    if let Some((h, mi)) = time_or_year.split_once(':') {
        let h: u32 = h.parse().ok().filter(|h| *h < 24)?;
        let mi: u32 = mi.parse().ok().filter(|m| *m < 60)?;
        let year = crate::timefmt::civil(now_ms).year;
        let this = ms_of(year, m, d, h, mi, 0)?;
        // ls shows the time for dates up to an hour ahead; later ones are last year's.
        if this > now_ms.saturating_add(3_600_000) {
            ms_of(year - 1, m, d, h, mi, 0)
        } else {
            Some(this)
        }
    } else {
        let y: i64 = time_or_year.parse().ok()?;
        ms_of(y, m, d, 0, 0, 0)
    }
}

/// `rwxr-xr-x` (nine characters, `s`/`S`/`t`/`T` included) as permission bits.
fn perm_bits(p: &str) -> Option<u32> {
    let c: Vec<char> = p.chars().collect();
    if c.len() != 9 {
        return None;
    }
    let mut mode = 0;
    for (i, ch) in c.iter().enumerate() {
        let bit = 1 << (8 - i);
        let pos = i % 3;
        let want = ['r', 'w', 'x'][pos];
        match (*ch, pos) {
            ('-', _) => {}
            (x, _) if x == want => mode |= bit,
            ('s', 2) | ('t', 2) => {
                mode |= bit | special(i);
            }
            ('S', 2) | ('T', 2) => mode |= special(i),
            _ => return None,
        }
    }
    Some(mode)
}

fn special(i: usize) -> u32 {
    match i {
        2 => 0o4000,
        5 => 0o2000,
        _ => 0o1000,
    }
}

/// Read `ls -ld PATH` / `ls -lA DIR` output: one entry per long line (`total N` skipped).
/// Links, devices and the like are [`LsKind::Other`].
pub(crate) fn ls_l(text: &str, now_ms: u64) -> Result<Vec<LsEntry>, String> {
    let mut out = Vec::new();
    for (n, l) in lines(text) {
        if l.trim().is_empty() || l.starts_with("total ") {
            continue;
        }
        // Nine fields; the last (the name) may hold spaces.
        let mut rest = l;
        let mut f: Vec<&str> = Vec::new();
        while f.len() < 8 {
            let t = rest.trim_start();
            let end = t.find(char::is_whitespace).unwrap_or(t.len());
            if end == 0 {
                break;
            }
            f.push(&t[..end]);
            rest = &t[end..];
        }
        let name = rest.strip_prefix(' ').unwrap_or(rest).trim_start();
        if f.len() < 8 || name.is_empty() {
            return Err(format!("line {n} is not an ls -l line: {l:?}"));
        }
        let perm = f[0];
        let kind = match perm.chars().next() {
            Some('-') => LsKind::File,
            Some('d') => LsKind::Dir,
            Some(_) => LsKind::Other,
            None => return Err(format!("line {n}: no mode")),
        };
        if kind == LsKind::Other {
            out.push(LsEntry {
                kind,
                mode: 0,
                links: 0,
                owner: f[2].to_string(),
                group: f[3].to_string(),
                size: 0,
                mtime_ms: 0,
                name: name.to_string(),
            });
            continue;
        }
        // HP-UX marks an ACL with a trailing `+`.
        let bits = perm
            .get(1..10)
            .and_then(perm_bits)
            .ok_or_else(|| format!("line {n}: mode {perm:?} is not rwx bits"))?;
        let size = f[4]
            .parse()
            .map_err(|_| format!("line {n}: size {:?} is not a number", f[4]))?;
        let mtime_ms = ls_time(f[5], f[6], f[7], now_ms)
            .ok_or_else(|| format!("line {n}: {} {} {} is not a date", f[5], f[6], f[7]))?;
        let links = f[1]
            .parse()
            .map_err(|_| format!("line {n}: link count {:?} is not a number", f[1]))?;
        let type_bits = if kind == LsKind::Dir {
            S_IFDIR
        } else {
            S_IFREG
        };
        out.push(LsEntry {
            kind,
            mode: type_bits | bits,
            links,
            owner: f[2].to_string(),
            group: f[3].to_string(),
            size,
            mtime_ms,
            name: name.to_string(),
        });
    }
    Ok(out)
}

// ----- ps -ef ----------------------------------------------------------------------------

/// One `ps -ef` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PsRow {
    /// Owner.
    pub user: String,
    /// PID.
    pub pid: u32,
    /// Parent PID.
    pub ppid: u32,
    /// Start time, unix ms (`hh:mm:ss` within the last day, or `Mon dd`).
    pub started_ms: u64,
    /// Command line.
    pub cmd: String,
}

/// Read HP-UX `ps -ef` (`UID PID PPID C STIME TTY TIME COMMAND`; `STIME` is `hh:mm:ss` or
/// `Mon dd`, relative to `now_ms`).
pub(crate) fn ps_ef(text: &str, now_ms: u64) -> Result<Vec<PsRow>, String> {
    let mut out = Vec::new();
    let mut header = false;
    for (n, l) in lines(text) {
        let t = l.trim();
        if t.is_empty() {
            continue;
        }
        if !header {
            if !t.starts_with("UID") {
                return Err(format!("line {n}: no UID PID PPID header: {l:?}"));
            }
            header = true;
            continue;
        }
        let bad = || format!("line {n} is not a ps -ef row: {l:?}");
        // Tokens with their end offsets, so that COMMAND keeps its spacing.
        let mut toks: Vec<(&str, usize)> = Vec::new();
        let mut at = 0;
        while toks.len() < 9 {
            let rest = &l[at..];
            let skip = rest.len() - rest.trim_start().len();
            let start = at + skip;
            let r = &l[start..];
            let end = r.find(char::is_whitespace).unwrap_or(r.len());
            if end == 0 {
                break;
            }
            toks.push((&l[start..start + end], start + end));
            at = start + end;
        }
        if toks.len() < 8 {
            return Err(bad());
        }
        let pid = toks[1].0.parse().map_err(|_| bad())?;
        let ppid = toks[2].0.parse().map_err(|_| bad())?;
        // STIME: one token (hh:mm:ss) or two (Mon dd).
        let (started_ms, next) = if let Some(m) = month(toks[4].0) {
            let d: u32 = toks[5].0.parse().map_err(|_| bad())?;
            let year = crate::timefmt::civil(now_ms).year;
            let mut t = ms_of(year, m, d, 0, 0, 0).ok_or_else(bad)?;
            if t > now_ms {
                t = ms_of(year - 1, m, d, 0, 0, 0).ok_or_else(bad)?;
            }
            (t, 6)
        } else {
            let parts: Vec<u32> = toks[4]
                .0
                .split(':')
                .map(|x| x.parse().map_err(|_| bad()))
                .collect::<Result<_, _>>()?;
            let [h, m, s] = parts.as_slice() else {
                return Err(bad());
            };
            let c = crate::timefmt::civil(now_ms);
            let today = ms_of(c.year, c.month, c.day, *h, *m, *s).ok_or_else(bad)?;
            (
                if today > now_ms {
                    today.saturating_sub(86_400_000)
                } else {
                    today
                },
                5,
            )
        };
        // TTY, TIME, then COMMAND (the rest of the line).
        let Some((_, time_end)) = toks.get(next + 1) else {
            return Err(bad());
        };
        let cmd = l[*time_end..].trim().to_string();
        if cmd.is_empty() {
            return Err(bad());
        }
        out.push(PsRow {
            user: toks[0].0.to_string(),
            pid,
            ppid,
            started_ms,
            cmd,
        });
    }
    if !header {
        return Err("no ps -ef header".into());
    }
    Ok(out)
}

// ----- od, wc, swlist, vgdisplay, df -----------------------------------------------------

/// Read `od -A n -v -t x1` output: hexadecimal bytes, any number a line.
pub(crate) fn od_hex(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for (n, l) in lines(text) {
        for w in l.split_whitespace() {
            if w.len() != 2 {
                return Err(format!("line {n}: {w:?} is not one hexadecimal byte"));
            }
            out.push(
                u8::from_str_radix(w, 16)
                    .map_err(|_| format!("line {n}: {w:?} is not one hexadecimal byte"))?,
            );
        }
    }
    Ok(out)
}

/// `wc -c FILE`: the byte count.
pub(crate) fn wc_c(text: &str) -> Option<u64> {
    text.split_whitespace().next()?.parse().ok()
}

/// One `swlist -l product` row: (tag, revision, title).
pub(crate) fn swlist(text: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (_, l) in lines(text) {
        let t = l.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let mut w = t.splitn(2, char::is_whitespace);
        let (Some(name), Some(rest)) = (w.next(), w.next()) else {
            continue;
        };
        let rest = rest.trim_start();
        let mut r = rest.splitn(2, char::is_whitespace);
        let rev = r.next().unwrap_or("").to_string();
        let title = r.next().unwrap_or("").trim().to_string();
        out.push((name.to_string(), rev, title));
    }
    out
}

/// `vgdisplay`: (VG name without `/dev/`, `VG Status`) for each volume group.
pub(crate) fn vgdisplay(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut name: Option<String> = None;
    for (_, l) in lines(text) {
        let t = l.trim();
        if let Some(v) = t.strip_prefix("VG Name") {
            let v = v.trim();
            name = Some(v.strip_prefix("/dev/").unwrap_or(v).to_string());
        } else if let Some(v) = t.strip_prefix("VG Status") {
            if let Some(n) = name.take() {
                out.push((n, v.trim().to_string()));
            }
        }
    }
    out
}

/// `df -n`: (mount point, device, file system type) per line `MOUNT (DEVICE) : TYPE`.
pub(crate) fn df_n(text: &str) -> Result<Vec<(String, String, String)>, String> {
    let mut out = Vec::new();
    for (n, l) in lines(text) {
        if l.trim().is_empty() {
            continue;
        }
        let bad = || format!("line {n} is not MOUNT (DEVICE) : TYPE: {l:?}");
        let (mount, rest) = l.split_once('(').ok_or_else(bad)?;
        let (dev, rest) = rest.split_once(')').ok_or_else(bad)?;
        let ty = rest.trim().strip_prefix(':').ok_or_else(bad)?.trim();
        if mount.trim().is_empty() || ty.is_empty() {
            return Err(bad());
        }
        out.push((
            mount.trim().to_string(),
            dev.trim().to_string(),
            ty.to_string(),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = crate::timefmt::START_MS;

    #[test]
    fn cmviewcl_objects_and_unknown_keys() {
        let text = "name=cluster1\r\nstatus=up\r\n  node:node1|name=node1\nnode:node1|status=up\nnode:node1|state=running\nnode:node1|interface:lan1|status=down\n\npackage:slvm1|name=slvm1\npackage:slvm1|status=up\npackage:slvm1|state=running\npackage:slvm1|autorun=enabled\npackage:slvm1|owner=node1\npackage:slvm1|dependency:d|condition=a = b\npackage:slvm1|service:slvm1|name=slvm1\npackage:slvm1|service:slvm1|status=up\npackage:slvm1|service:slvm1|restarts=0\npackage:slvm1|service:slvm1|max_restarts=unlimited\npackage:slvm1|node:node1|name=node1\npackage:slvm1|node:node1|status=up\npackage:slvm1|node:node1|switching=enabled\npackage:slvm1|node:node2|switching=disabled\ngroup:g|name=g\n";
        let c = cmviewcl_line(text).expect("parses");
        assert_eq!(c.name, "cluster1");
        assert_eq!(c.nodes.len(), 1);
        assert_eq!(c.nodes[0].state, "running");
        let p = &c.packages[0];
        assert_eq!(p.owner.as_deref(), Some("node1"));
        assert_eq!(p.services[0].max_restarts.as_deref(), Some("unlimited"));
        assert_eq!(p.nodes.len(), 2);
        assert_eq!(p.nodes[1].switching.as_deref(), Some("disabled"));
        assert!(cmviewcl_line("").is_err());
        assert!(cmviewcl_line("status=up\n").is_err());
        let e = cmviewcl_line("name=c\nthis is not it\n").expect_err("not key=value");
        assert!(e.contains("line 2"), "{e}");
    }

    #[test]
    fn hpvmstatus_summary_with_extra_columns_long_names_and_crlf() {
        let text = "[Virtual Machines]\r\nVirtual Machine Name VM #  Type OS Type State     #VCPUs #Devs #Nets Memory  Runsysid Graceful\r\n==================== ===== ==== ======= ========= ====== ===== ===== ======= ======== ========\r\nslvm1                    8 SP   HPUX    Off (NR)       1     1     2    2 GB        0 No\r\nguest_with_a_long_name  10 SP   LINUX   On (EFI)       2     2     1   16 GB        0 Yes\r\nwin1                    11 SP   WINDOWS Off            1     1     1 1024 MB        0\r\n";
        let rows = hpvmstatus(text).expect("parses");
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].state, "Off (NR)");
        assert_eq!(rows[0].nets, Some(2));
        assert_eq!(rows[1].name, "guest_with_a_long_name");
        assert_eq!(rows[1].state, "On (EFI)");
        assert_eq!(rows[1].memory.as_deref(), Some("16 GB"));
        assert_eq!(rows[2].state, "Off");
        assert_eq!(rows[2].memory.as_deref(), Some("1024 MB"));
        assert!(hpvmstatus("[Virtual Machines]\nno rule here\n").is_err());
        assert!(hpvmstatus("garbage\n").is_err());
        let bad =
            "[Virtual Machines]\nVirtual Machine Name VM #\n==================== =====\nx y\n";
        assert!(hpvmstatus(bad).is_err());
    }

    #[test]
    fn hpvmstatus_p_tables() {
        let text = "[Virtual Machine Details]\nVirtual Machine Name VM #  OS Type State\n==================== ===== ======= ========\nslvm1                    8 HPUX    On (OS)\n\n[Storage Interface Details]\nGuest                                  Physical\nDevice  Adaptor    Bus Dev Ftn Tgt Lun Storage   Device\n======= ========== === === === === === ========= =========================\ndisk    scsi         0   2   0   2   0 disk      /dev/rdisk/disk109\n\n[Network Interface Details]\nInterface Adaptor    Name/Num   PortNum Bus Dev Ftn Mac Address\n========= ========== ========== ======= === === === =================\nvswitch   lan        localnet   2         0   0   0 0a-49-5b-35-75-27\nvswitch   lan        myswitch   1         0   1   0 f2-54-d5-3b-fd-c7\n";
        let d = hpvmstatus_p(text).expect("parses");
        assert_eq!(d.row.number, 8);
        assert_eq!(d.row.state, "On (OS)");
        assert_eq!(
            d.disks,
            vec![DiskRow {
                guest_device: "disk".into(),
                adaptor: "scsi".into(),
                address: [0, 2, 0, 2, 0],
                kind: "disk".into(),
                device: "/dev/rdisk/disk109".into()
            }]
        );
        assert_eq!(d.nics[1].vswitch, "myswitch");
        assert_eq!(d.nics[1].bdf, (0, 1, 0));
        let short = text.replace("   0 disk      /dev", " disk /dev");
        assert!(hpvmstatus_p(&short).is_err());
    }

    #[test]
    fn ls_long_lines() {
        let text = "total 112\n-rw-r--r--   1 root       sys          26089 Jul 28 17:26 slvm1.conf\ndrwxrwxrwx   2 root       sys             96 Jul 28  2012 .backup\nlrwxr-xr-x   1 root       sys              5 Jul 28  2012 vtn -> vtn.1\n-rwsr-xr-x+  1 root       bin           8192 Jan  3 09:05 file with spaces\ndrwxrwxrwt   2 root       sys             96 Nov 20 10:00 /tmp\n";
        let e = ls_l(text, NOW).expect("parses");
        assert_eq!(e.len(), 5);
        assert_eq!(e[0].mode, S_IFREG | 0o644);
        assert_eq!(e[0].size, 26089);
        assert_eq!(crate::timefmt::syslog(e[0].mtime_ms), "Jul 28 17:26:00");
        assert_eq!(e[1].mode, S_IFDIR | 0o777);
        assert_eq!(e[1].links, 2);
        assert_eq!(crate::timefmt::civil(e[1].mtime_ms).year, 2012);
        assert_eq!(e[2].kind, LsKind::Other);
        assert_eq!(e[3].mode, S_IFREG | 0o4755);
        assert_eq!(e[3].name, "file with spaces");
        assert_eq!(e[4].mode, S_IFDIR | 0o1777);
        // A date up to an hour ahead of now is this year's; later ones are last year's.
        assert!(e[3].mtime_ms < NOW);
        let dec = ls_l("-rw-r--r-- 1 root sys 1 Dec 24 10:00 x\n", NOW).expect("parses");
        assert_eq!(crate::timefmt::civil(dec[0].mtime_ms).year, 2025);
        assert!(ls_l("drwx 2 root\n", NOW).is_err());
        assert!(ls_l("-rw-r--r-- 1 root sys big Jul 28 17:26 x\n", NOW).is_err());
        assert!(ls_l("-rw-r--r-- 1 root sys 1 Foo 28 17:26 x\n", NOW).is_err());
    }

    #[test]
    fn ps_rows_keep_their_commands() {
        let text = "     UID   PID  PPID  C    STIME TTY       TIME COMMAND\n    root     1     0  0   Nov 19 ?         0:00 /sbin/init\n    root  5005  5004  0 00:00:00 ?         0:00 /usr/bin/X11/xclock -display  16.0:0.0\n";
        let r = ps_ef(text, NOW + 60_000).expect("parses");
        assert_eq!(r.len(), 2);
        assert_eq!(crate::timefmt::syslog(r[0].started_ms), "Nov 19 00:00:00");
        assert_eq!(r[1].pid, 5005);
        assert_eq!(r[1].started_ms, NOW);
        assert_eq!(r[1].cmd, "/usr/bin/X11/xclock -display  16.0:0.0");
        assert!(ps_ef("PID TTY\n", NOW).is_err());
        assert!(ps_ef("UID PID\nroot x 1 0 00:00:00 ? 0:00 sh\n", NOW).is_err());
        assert!(ps_ef("UID PID\nroot 1 0 0 00:00:00 ? 0:00\n", NOW).is_err());
    }

    #[test]
    fn od_wc_swlist_vgdisplay_df() {
        assert_eq!(od_hex(" 23 73\n 0a\n").expect("hex"), b"#s\n".to_vec());
        assert!(od_hex(" 2g\n").is_err());
        assert!(od_hex(" 123\n").is_err());
        assert_eq!(wc_c("  1234 /var/adm/syslog/syslog.log\n"), Some(1234));
        assert_eq!(wc_c("x"), None);
        let sw = swlist("# Initializing...\n#\n\n  T8718AC                       B.04.30        Integrity VM Online Migration Software\n");
        assert_eq!(
            sw,
            vec![(
                "T8718AC".to_string(),
                "B.04.30".to_string(),
                "Integrity VM Online Migration Software".to_string()
            )]
        );
        let vg = vgdisplay("--- Volume groups ---\nVG Name                     /dev/vg_slvm2\nVG Write Access             read/write\nVG Status                   available, shared, server\n");
        assert_eq!(
            vg,
            vec![(
                "vg_slvm2".to_string(),
                "available, shared, server".to_string()
            )]
        );
        let df = df_n("/var/opt/hpvm/nfs      (nfsserver:/export/hpvm) :   nfs\n").expect("df");
        assert_eq!(df[0].1, "nfsserver:/export/hpvm");
        assert_eq!(df[0].2, "nfs");
        assert!(df_n("no parens\n").is_err());
    }

    #[test]
    fn civil_days_round_trip() {
        for ms in [0, NOW, 951_782_400_000, 4_102_444_800_000] {
            let c = crate::timefmt::civil(ms);
            assert_eq!(
                ms_of(c.year, c.month, c.day, c.hour, c.minute, c.second),
                Some(ms - ms % 1000)
            );
        }
    }
}
