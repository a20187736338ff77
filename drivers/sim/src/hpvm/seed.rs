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

use super::conf::{self, Conf};
use super::fs::{self, SEED_MTIME_MS};
use super::{
    Fault, Guest, HpvmState, Nic, NodeState, Package, PackageKind, Proc, Product, Restart, Service,
    Storage, StorageKind, VmHost, CMCLUSTER,
};
use crate::seed::{commands_of, Declared, DeclaredHost, Gap, Observation, SeedInfo, SizedFile};
use crate::world::{canonical_path, HostOs, Meta, World};

#[path = "seed_parse.rs"]
mod parse;

use parse::{LsKind, VmRow};

/// The Serviceguard programs whose answers depend on the cluster's state.
const SG_PROGRAMS: &[&str] = &[
    "cmviewcl",
    "cmrunpkg",
    "cmhaltpkg",
    "cmmodpkg",
    "cmcheckconf",
    "cmapplyconf",
    "cmdeleteconf",
    "cmmovevpkg",
    "cmdeployvpkg",
];

/// The products the driver asks `swlist` about.
const PRODUCTS: &[&str] = &["T8718AC", "SG-IVS-Toolkit", "T1905CA", "HPVM"];

/// The guest states the emulator can show.
const STATES: &[&str] = &["On (OS)", "Off", "Off (NR)"];

/// `od`'s arguments as the driver sends them (the file follows).
const OD: &[&str] = &["-A", "n", "-v", "-t", "x1"];

/// The gaps found so far (no duplicates).
#[derive(Default)]
struct Gaps(Vec<Gap>);

impl Gaps {
    fn add(&mut self, host: Option<&str>, program: &str, args: &[&str], why: &str) {
        let g = Gap {
            host: host.map(str::to_string),
            program: program.to_string(),
            args: args.iter().map(|a| a.to_string()).collect(),
            why: why.to_string(),
            until_sf_start: None,
            exact: false,
        };
        if !self
            .0
            .iter()
            .any(|x| x.host == g.host && x.program == g.program && x.args == g.args)
        {
            self.0.push(g);
        }
    }

    /// Commands naming guest `vm` whose answer depends on where and how it runs.
    fn guest(&mut self, vm: &str, nodes: &[String], why: &str) {
        self.add(None, "hpvmstatus", &["-P", vm], why);
        self.add(None, "hpvmstart", &["-P", vm], why);
        self.add(None, "hpvmstop", &["-P", vm], why);
        for a in [
            &["-s", "-o", "-P", vm][..],
            &["-o", "-P", vm],
            &["-s", "-P", vm],
            &["-P", vm],
        ] {
            self.add(None, "hpvmmigrate", a, why);
        }
        self.add(None, "cmmovevpkg", &["-v", "-P", vm], why);
        self.add(None, "cmmovevpkg", &["-P", vm], why);
        self.add(None, "cmdeployvpkg", &["-Q", "-P", vm], why);
        self.add(None, "cmdeployvpkg", &["-Q", "-C", "-P", vm], why);
        self.add(None, "cmrunpkg", &[vm], why);
        self.add(None, "cmrunpkg", &["-v", vm], why);
        for n in nodes {
            self.add(None, "cmrunpkg", &["-n", n, vm], why);
        }
        self.add(None, "cmmodpkg", &["-e", vm], why);
    }

    /// Commands whose answer depends on package `vm`'s kind and toolkit settings.
    fn package_kind(&mut self, vm: &str, why: &str) {
        self.add(None, "cmmovevpkg", &["-v", "-P", vm], why);
        self.add(None, "cmmovevpkg", &["-P", vm], why);
        for a in [
            &["-m", "1", "-P", vm][..],
            &["-m", "0", "-P", vm],
            &["-Q", "-C", "-P", vm],
            &["-Q", "-P", vm],
        ] {
            self.add(None, "cmdeployvpkg", a, why);
        }
        self.add(None, "hpvmstart", &["-P", vm], why);
        self.add(None, "hpvmstop", &["-P", vm], why);
    }

    /// An online migration of `vm` from `source` (any host: `None`).
    fn migration_from(&mut self, source: Option<&str>, vm: &str, why: &str) {
        self.add(source, "hpvmmigrate", &["-s", "-o", "-P", vm], why);
        self.add(source, "hpvmmigrate", &["-o", "-P", vm], why);
        self.add(source, "cmmovevpkg", &["-v", "-P", vm], why);
        self.add(source, "cmmovevpkg", &["-P", vm], why);
        self.add(source, "cmdeployvpkg", &["-Q", "-C", "-P", vm], why);
    }

    /// An online migration of `vm` to `target`.
    fn migration_to(&mut self, vm: &str, target: &str, why: &str) {
        self.add(
            None,
            "hpvmmigrate",
            &["-s", "-o", "-P", vm, "-h", target],
            why,
        );
        self.add(None, "hpvmmigrate", &["-o", "-P", vm, "-h", target], why);
        self.add(None, "cmmovevpkg", &["-v", "-P", vm, "-h", target], why);
        self.add(None, "cmmovevpkg", &["-P", vm, "-h", target], why);
        self.add(
            None,
            "cmdeployvpkg",
            &["-Q", "-C", "-P", vm, "-h", target],
            why,
        );
    }
}

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

/// What the reads said of one path on one host.
#[derive(Default, Clone)]
struct PathFacts {
    kind: Option<LsKind>,
    content: Option<String>,
    size: Option<u64>,
    meta: Option<Meta>,
    /// A directory's link count, from `ls -l`.
    links: Option<u64>,
    /// `ls -lA` listed it whole.
    listed: bool,
    /// Only `wc -c` was read.
    sized_only: bool,
}

/// `size` bytes standing for content that was never read.
fn filler(size: u64) -> String {
    let size = usize::try_from(size).unwrap_or(0).min(64 << 20);
    let mut s = String::with_capacity(size);
    while s.len() < size {
        let line = (size - s.len()).min(80);
        s.push_str(&" ".repeat(line - 1));
        s.push('\n');
    }
    s
}

fn clean(path: &str) -> String {
    canonical_path(&fs::normalize(path)).to_string()
}

fn ancestors(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut p = fs::parent(path);
    while p != "/" {
        out.push(p.clone());
        p = fs::parent(&p);
    }
    out
}

fn node_state(n: &parse::NodeLine) -> Result<NodeState, String> {
    match (n.status.as_str(), n.state.as_str()) {
        ("up", "running") => Ok(NodeState::Running),
        ("down", _) => Ok(NodeState::Halted),
        (s, t) => Err(format!(
            "node {} is {s}/{t} in cmviewcl: the copy can represent a node that is up and running, or down",
            n.name
        )),
    }
}

fn on_off(word: Option<&str>, what: &str) -> Result<bool, String> {
    match word {
        Some("enabled") => Ok(true),
        Some("disabled") => Ok(false),
        Some(w) => Err(format!("{what} is {w:?}, not enabled or disabled")),
        None => Err(format!("cmviewcl -v -f line prints no {what}")),
    }
}

fn restart_of_max(max: Option<&str>) -> Restart {
    match max {
        Some("unlimited") => Restart::Unlimited,
        Some("0") | None => Restart::None,
        Some(n) => n.parse().map(Restart::Count).unwrap_or(Restart::None),
    }
}

/// Whether a package file is a legacy control script (`NAME=value` lines).
fn looks_legacy(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim();
        l.split_once('=').is_some_and(|(k, _)| {
            !k.is_empty()
                && !k.contains(char::is_whitespace)
                && k.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || "_[]".contains(c))
        })
    })
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

/// Take an `ls -l` line's facts into a path's.
fn ls_facts(f: &mut PathFacts, e: &parse::LsEntry) {
    f.kind = Some(e.kind);
    f.meta = Some(Meta {
        mode: e.mode,
        owner: e.owner.clone(),
        group: e.group.clone(),
        mtime_ms: e.mtime_ms,
    });
    f.sized_only = false;
    f.links = Some(e.links);
    if e.kind == LsKind::File {
        f.size = Some(e.size);
        if e.size == 0 {
            f.content = Some(String::new());
        }
    }
}

/// What the reads of one host said of its files and folders.
#[derive(Default)]
struct HostFiles {
    paths: BTreeMap<String, PathFacts>,
    /// Every absolute path a read named (its folders' modes and listings are not known
    /// unless read).
    mentioned: BTreeSet<String>,
    /// Paths a read found missing.
    absent: BTreeSet<String>,
    /// What `od` read of each key store (`None`: not text).
    key_stores: Vec<Option<String>>,
}

impl HostFiles {
    /// Take one observation of the host; whether it was a file read.
    fn read(&mut self, o: &Obs, now_ms: u64, gaps: &mut Gaps) -> bool {
        let args = o.args();
        for a in args.iter().filter(|a| a.starts_with('/')) {
            self.mentioned.insert(clean(a));
        }
        match (o.program(), args.as_slice()) {
            ("cat", [p]) => {
                let p = clean(p);
                if o.ok() {
                    let f = self.paths.entry(p).or_default();
                    f.kind = Some(LsKind::File);
                    f.size = Some(o.stdout.len() as u64);
                    f.content = Some(o.stdout.to_string());
                    f.sized_only = false;
                } else {
                    self.absent.insert(p);
                }
            }
            ("od", a) if a.len() == 6 && a[..5] == *OD => {
                let p = clean(a[5]);
                if !o.ok() {
                    self.absent.insert(p);
                    return true;
                }
                match parse::od_hex(o.stdout) {
                    Ok(bytes) => {
                        let f = self.paths.entry(p).or_default();
                        f.kind = Some(LsKind::File);
                        f.size = Some(bytes.len() as u64);
                        f.sized_only = false;
                        f.content = String::from_utf8(bytes).ok();
                        self.key_stores.push(f.content.clone());
                    }
                    Err(e) => unreadable(gaps, o, &e),
                }
            }
            ("wc", ["-c", p]) => {
                if !o.ok() {
                    return true;
                }
                match parse::wc_c(o.stdout) {
                    Some(n) => {
                        let f = self.paths.entry(clean(p)).or_default();
                        if f.content.is_none() {
                            f.kind = Some(LsKind::File);
                            f.size = Some(n);
                            f.sized_only = f.meta.is_none();
                        }
                    }
                    None => unreadable(gaps, o, "no byte count"),
                }
            }
            ("ls", ["-ld", p]) => {
                let p = clean(p);
                if !o.ok() {
                    self.absent.insert(p);
                    return true;
                }
                match parse::ls_l(o.stdout, now_ms) {
                    Ok(e) if e.len() == 1 && e[0].kind != LsKind::Other => {
                        ls_facts(self.paths.entry(p).or_default(), &e[0]);
                    }
                    Ok(_) => unreadable(gaps, o, "not one file or directory"),
                    Err(e) => unreadable(gaps, o, &e),
                }
            }
            ("ls", ["-lA", d]) => {
                if !o.ok() {
                    return true;
                }
                match parse::ls_l(o.stdout, now_ms) {
                    Ok(entries) => {
                        let d = clean(d);
                        for e in entries.iter().filter(|e| e.kind != LsKind::Other) {
                            let p = clean(&format!("{d}/{}", e.name));
                            ls_facts(self.paths.entry(p).or_default(), e);
                        }
                        let f = self.paths.entry(d).or_default();
                        f.kind = Some(LsKind::Dir);
                        f.listed = entries.iter().all(|e| e.kind != LsKind::Other);
                    }
                    Err(e) => unreadable(gaps, o, &e),
                }
            }
            _ => return false,
        }
        true
    }

    /// `df -n` found `path`: it exists (as a file, its content unknown) if nothing else
    /// was read of it.
    fn exists(&mut self, path: &str) {
        self.paths
            .entry(path.to_string())
            .or_insert_with(|| PathFacts {
                kind: Some(LsKind::File),
                ..PathFacts::default()
            });
    }

    /// Put what was read into `os`, and a gap for what was not: files' content and mode,
    /// folders' mode and listing (every folder above a path a read named), key stores not
    /// in the simulator's own form. Returns the folders whose mode, or absence, is known.
    fn apply(
        self,
        host: &str,
        os: &mut HostOs,
        gaps: &mut Gaps,
        sized_only: &mut Vec<SizedFile>,
    ) -> BTreeSet<String> {
        let mut unknown_content = false;
        for (p, f) in &self.paths {
            if f.kind == Some(LsKind::Dir) {
                os.meta.insert(
                    p.clone(),
                    f.meta
                        .clone()
                        .unwrap_or_else(|| Meta::dir(0o755, SEED_MTIME_MS)),
                );
            } else {
                let known = f.content.clone();
                os.files.insert(
                    p.clone(),
                    known.clone().unwrap_or_else(|| filler(f.size.unwrap_or(0))),
                );
                if let Some(m) = &f.meta {
                    os.meta.insert(p.clone(), m.clone());
                }
                if known.is_none() {
                    if f.sized_only {
                        // The framework answers its size and what is appended past it.
                        sized_only.push(SizedFile {
                            host: host.to_string(),
                            path: p.clone(),
                            size: f.size.unwrap_or(0),
                        });
                        continue;
                    }
                    unknown_content = true;
                    let why = format!(
                        "the content of {p} on {host} was not read before the first change"
                    );
                    gaps.add(Some(host), "cat", &[p], &why);
                    let mut od: Vec<&str> = OD.to_vec();
                    od.push(p);
                    gaps.add(Some(host), "od", &od, &why);
                }
            }
            if f.meta.is_none() && !f.sized_only {
                gaps.add(
                    Some(host),
                    "ls",
                    &["-ld", p],
                    &format!("the mode of {p} on {host} was not read before the first change"),
                );
            }
        }
        // A folder whose listing was not read keeps the link count ls showed: unread
        // subfolders stand in for the ones the copy does not know (their parent's listing is
        // a gap, so they are never shown).
        for (d, f) in self
            .paths
            .iter()
            .filter(|(_, f)| f.kind == Some(LsKind::Dir) && !f.listed)
        {
            let Some(links) = f.links else { continue };
            let prefix = format!("{d}/");
            let known: BTreeSet<&str> = os
                .files
                .keys()
                .chain(os.meta.keys())
                .filter_map(|k| k.strip_prefix(&prefix))
                .filter(|rest| {
                    rest.contains('/')
                        || os
                            .meta
                            .get(&format!("{prefix}{rest}"))
                            .is_some_and(Meta::is_dir)
                })
                .filter_map(|rest| rest.split('/').next())
                .collect();
            let missing = links.saturating_sub(2).saturating_sub(known.len() as u64);
            let stand_ins: Vec<String> = (0..missing.min(64))
                .map(|i| format!("{prefix}.unread-{i}"))
                .collect();
            for s in stand_ins {
                os.meta.insert(s, Meta::dir(0o755, SEED_MTIME_MS));
            }
        }
        let mut dirs: BTreeSet<String> = BTreeSet::new();
        for p in self
            .paths
            .keys()
            .chain(self.mentioned.iter())
            .chain(self.absent.iter())
        {
            dirs.extend(ancestors(p));
        }
        dirs.extend(
            self.paths
                .iter()
                .filter(|(_, f)| f.kind == Some(LsKind::Dir))
                .map(|(p, _)| p.clone()),
        );
        for d in dirs.iter().filter(|d| !self.absent.contains(*d)) {
            let f = self.paths.get(d);
            if f.and_then(|f| f.meta.as_ref()).is_none() {
                gaps.add(
                    Some(host),
                    "ls",
                    &["-ld", d],
                    &format!(
                        "the mode of folder {d} on {host} was not read before the first change"
                    ),
                );
            }
            if !f.is_some_and(|f| f.listed) {
                gaps.add(
                    Some(host),
                    "ls",
                    &["-lA", d],
                    &format!(
                        "the content of folder {d} on {host} was not listed before the first change"
                    ),
                );
            }
        }
        // keytool works on Java key stores, binary files the simulator keeps in a text
        // form of its own: only stores read in that form (a simulated site), on a host
        // whose every file read was read whole, can be answered.
        let simulated_stores = !self.key_stores.is_empty()
            && self.key_stores.iter().all(|k| {
                k.as_deref()
                    .is_some_and(|t| t.starts_with("#simulated-keystore "))
            });
        if unknown_content || !simulated_stores {
            gaps.add(
                Some(host),
                "keytool",
                &[],
                &format!(
                    "the key stores of {host} were not read as the simulator keeps them before the first change (a real Java key store cannot be represented)"
                ),
            );
        }
        let mut known: BTreeSet<String> = self
            .paths
            .into_iter()
            .filter(|(_, f)| f.meta.is_some() && f.kind == Some(LsKind::Dir))
            .map(|(p, _)| p)
            .collect();
        known.extend(self.absent);
        known
    }
}

/// The package file of `name` the reads saw (the owner's copy first, else the last one
/// read), and the document when it is a modular package file of `name`.
fn package_conf<'a, 'b>(
    obs: &'b [Obs<'a>],
    name: &str,
    owner: Option<&str>,
) -> (Option<&'b Obs<'a>>, Option<Conf>) {
    let path = format!("{CMCLUSTER}/{name}/{name}.conf");
    let reads: Vec<&Obs> = obs
        .iter()
        .filter(|o| o.ok() && o.is("cat", &[path.as_str()]))
        .collect();
    let read = reads
        .iter()
        .rfind(|o| owner == Some(o.host))
        .or_else(|| reads.last())
        .copied();
    let conf = read
        .filter(|o| !looks_legacy(o.stdout))
        .and_then(|o| Conf::parse(o.stdout).ok())
        .filter(|c| c.get("package_name") == Some(name));
    (read, conf)
}

/// Which toolkit a package file is of (as `cmcheckconf` tells).
fn kind_of(c: &Conf) -> PackageKind {
    if c.is_toolkit() {
        PackageKind::Toolkit
    } else if c.services().iter().any(|s| s.cmd.contains("/hpvmsg_mon")) {
        PackageKind::OldToolkit
    } else {
        PackageKind::Plain
    }
}

/// The guests the reads describe (by VM number), and those the copy cannot represent
/// (with why); gaps for what was not read of them.
fn guests_from(
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

/// The last `cmviewcl -v -f line` read on a VM host, with the host it was read on.
fn cluster_view<'a>(
    obs: &[Obs<'a>],
    vm_hosts: &[String],
) -> Result<Option<(&'a str, parse::ClusterLine)>, String> {
    let mut view = None;
    for o in obs
        .iter()
        .filter(|o| o.ok() && vm_hosts.iter().any(|h| h == o.host))
        .filter(|o| o.is("cmviewcl", &["-v", "-f", "line"]))
    {
        match parse::cmviewcl_line(o.stdout) {
            Ok(v) => view = Some((o.host, v)),
            Err(e) => return Err(format!("cmviewcl -v -f line on {}: {e}", o.host)),
        }
    }
    Ok(view)
}

/// The cluster's name and nodes: from `view`, or the inventory's VM hosts (and a gap for
/// every Serviceguard program) when the cluster was never viewed.
fn cluster_nodes(
    declared: &Declared,
    vm_hosts: &[String],
    view: Option<&(&str, parse::ClusterLine)>,
    gaps: &mut Gaps,
) -> Result<(String, Vec<VmHost>), String> {
    let mut nodes: Vec<VmHost> = Vec::new();
    let address = |name: &str| {
        declared
            .hosts
            .iter()
            .find(|h| h.name == name)
            .and_then(|h| h.address.clone())
            .unwrap_or_default()
    };
    let new_node = |name: &str, state| VmHost {
        name: name.to_string(),
        address: address(name),
        state,
        products: Vec::new(),
        vgs: BTreeMap::new(),
        mounts: Vec::new(),
        missing_vswitches: Vec::new(),
        heartbeat_ip: None,
    };
    let cluster = match view {
        Some((at, v)) => {
            if let Some(c) = declared.cluster.as_deref().filter(|c| *c != v.name) {
                return Err(format!(
                    "the inventory names cluster {c}, but cmviewcl on {at} shows cluster {}",
                    v.name
                ));
            }
            for n in &v.nodes {
                let mut node = new_node(&n.name, node_state(n)?);
                node.heartbeat_ip = n.heartbeat_ip.clone();
                nodes.push(node);
            }
            if let Some(h) = vm_hosts
                .iter()
                .find(|h| !v.nodes.iter().any(|n| n.name == **h))
            {
                return Err(format!(
                    "vm-host {h} is not a node of cluster {} (cmviewcl on {at})",
                    v.name
                ));
            }
            v.name.clone()
        }
        None => {
            let why = "cmviewcl -v -f line was not read on any VM host before the first change, so the cluster's state is not known";
            for p in SG_PROGRAMS {
                gaps.add(None, p, &[], why);
            }
            for h in vm_hosts {
                nodes.push(new_node(h, NodeState::Running));
            }
            declared.cluster.clone().unwrap_or_default()
        }
    };
    Ok((cluster, nodes))
}

/// The packages `cmviewcl` showed, with what their package files say.
fn packages_from(
    view: &parse::ClusterLine,
    obs: &[Obs],
    node_names: &[String],
    guests: &[Guest],
    opaque: &BTreeMap<String, String>,
    gaps: &mut Gaps,
) -> Result<Vec<Package>, String> {
    let mut packages: Vec<Package> = Vec::new();
    for pv in &view.packages {
        packages.push(package_from(pv, obs, node_names, guests, opaque, gaps)?);
    }
    Ok(packages)
}

/// One package: its state and owner from `cmviewcl`, its kind, services and toolkit
/// settings from its package file (a gap when that was not read).
fn package_from(
    pv: &parse::PackageLine,
    obs: &[Obs],
    node_names: &[String],
    guests: &[Guest],
    opaque: &BTreeMap<String, String>,
    gaps: &mut Gaps,
) -> Result<Package, String> {
    let name = &pv.name;
    let up = match (pv.status.as_str(), pv.state.as_str()) {
        ("up", "running") => true,
        ("down", "halted") => false,
        (s, t) => {
            return Err(format!(
                "package {name} is {s}/{t}: the copy can represent a package that is up and running, or down and halted"
            ))
        }
    };
    let owner = package_owner(pv, up)?;
    if let Some(o) = owner
        .as_deref()
        .filter(|o| !node_names.iter().any(|n| n == o))
    {
        return Err(format!(
            "package {name} runs on {o}, which is not a node of the cluster"
        ));
    }
    let autorun = on_off(pv.autorun.as_deref(), &format!("autorun of {name}"))?;
    let mut switching = BTreeMap::new();
    for n in &pv.nodes {
        switching.insert(
            n.name.clone(),
            on_off(
                n.switching.as_deref(),
                &format!("switching of {name} on {}", n.name),
            )?,
        );
    }
    let (conf_obs, conf) = package_conf(obs, name, owner.as_deref());
    let kind = conf.as_ref().map(kind_of);
    let services = package_services(pv, conf.as_ref(), up);
    let why_file = || {
        match conf_obs {
        Some(o) => format!(
            "the package file of {name} read on {} is not a modular package file of {name} the simulator can read",
            o.host
        ),
        None => format!(
            "the package file of {name} (cat {CMCLUSTER}/{name}/{name}.conf) was not read before the first change"
        ),
    }
    };
    if kind.is_none() {
        gaps.package_kind(name, &why_file());
    }
    if kind != Some(PackageKind::Plain) && !guests.iter().any(|g| g.name == *name) {
        let why = opaque.get(name).cloned().unwrap_or_else(|| {
            format!("guest {name} (of package {name}) was not listed by hpvmstatus on any VM host before the first change")
        });
        gaps.guest(name, node_names, &why);
    }
    Ok(Package {
        name: name.clone(),
        kind: kind.unwrap_or(PackageKind::Plain),
        nodes: pv.nodes.iter().map(|n| n.name.clone()).collect(),
        up,
        owner,
        autorun,
        switching,
        services,
        failover_policy: pv
            .failover_policy
            .clone()
            .unwrap_or_else(|| "configured_node".into()),
        failback_policy: pv
            .failback_policy
            .clone()
            .unwrap_or_else(|| "manual".into()),
        log_file: conf
            .as_ref()
            .map(|c| c.log_file(name))
            .unwrap_or_else(|| conf::resolve_log("", name)),
        legacy_control_script: pv.run_script.clone(),
        tkit_dir: conf
            .as_ref()
            .and_then(|c| c.get("tkit/vtn/vtn/TKIT_DIR"))
            .filter(|d| !d.is_empty())
            .map(str::to_string),
        maintenance_flag: conf
            .as_ref()
            .is_some_and(|c| c.get("tkit/vtn/vtn/MAINTENANCE_FLAG").unwrap_or("yes") == "yes"),
    })
}

/// Where an up package runs: the owner `cmviewcl` names, else its only node up.
fn package_owner(pv: &parse::PackageLine, up: bool) -> Result<Option<String>, String> {
    let name = &pv.name;
    Ok(match pv.owner.as_deref().filter(|o| !o.is_empty()) {
        _ if !up => None,
        Some(o) => Some(o.to_string()),
        None => {
            let ups: Vec<&str> = pv
                .nodes
                .iter()
                .filter(|n| n.status == "up")
                .map(|n| n.name.as_str())
                .collect();
            match ups.as_slice() {
                [one] => Some(one.to_string()),
                _ => {
                    return Err(format!(
                        "package {name} is up but cmviewcl names no owner, and its nodes up are {ups:?}"
                    ))
                }
            }
        }
    })
}

/// A package's services: status and restarts from `cmviewcl`, command and restart limit
/// from its package file (the limit `cmviewcl` shows when that was not read).
fn package_services(pv: &parse::PackageLine, conf: Option<&Conf>, up: bool) -> Vec<Service> {
    let specs = conf.map(Conf::services).unwrap_or_default();
    pv.services
        .iter()
        .map(|s| {
            let spec = specs.iter().find(|x| x.name == s.name);
            Service {
                name: s.name.clone(),
                cmd: spec.map(|x| x.cmd.clone()).unwrap_or_default(),
                restart: spec
                    .and_then(|x| conf::restart_of(&x.restart))
                    .unwrap_or_else(|| restart_of_max(s.max_restarts.as_deref())),
                restarts: s
                    .restarts
                    .as_deref()
                    .and_then(|r| r.parse().ok())
                    .unwrap_or(0),
                up: up && s.status == "up",
            }
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

/// What the reads on the declared hosts gave: their files, the guests' processes.
struct HostReads {
    hosts: BTreeMap<String, HostOs>,
    sized_only: Vec<SizedFile>,
    guest_procs: BTreeMap<String, Vec<Proc>>,
    /// Per host: the paths whose existence or mode is known (for package checks).
    dir_known: BTreeMap<String, BTreeSet<String>>,
}

/// How a declared host takes part in the copy.
struct Role {
    is_node: bool,
    /// A guest that runs (a VM host always does).
    running: bool,
    /// A guest an application monitor service watches.
    monitored: bool,
    /// A Windows guest has no SSH server: nothing is ever read in it.
    windows: bool,
}

/// What was read on one host besides its files.
#[derive(Default)]
struct HostSeen {
    vg_read: bool,
    df_read: bool,
    swlist_read: BTreeSet<String>,
    ps: Option<Vec<parse::PsRow>>,
}

/// Every declared host's products, volume groups, mounts, files and processes (a guest
/// the copy cannot show is left out), with a gap for what was not read.
fn read_hosts(
    site: &Site,
    nodes: &mut [VmHost],
    guests: &[Guest],
    packages: &[Package],
    gaps: &mut Gaps,
) -> Result<HostReads, String> {
    let mut reads = HostReads {
        hosts: BTreeMap::new(),
        sized_only: Vec::new(),
        guest_procs: BTreeMap::new(),
        dir_known: BTreeMap::new(),
    };
    for h in &site.declared.hosts {
        let on_host: Vec<&Obs> = site.obs.iter().filter(|o| o.host == h.name).collect();
        let Some(role) = host_role(h, &on_host, guests, packages)? else {
            continue;
        };
        let mut os = HostOs::new(&h.name, "");
        let mut files = HostFiles::default();
        let seen = read_host(
            &h.name,
            role.is_node,
            &on_host,
            nodes,
            &mut files,
            site.now_ms,
            gaps,
        );
        let known_dirs = files.apply(&h.name, &mut os, gaps, &mut reads.sized_only);
        reads.dir_known.insert(h.name.clone(), known_dirs);
        gaps.add(
            Some(&h.name),
            "uname",
            &[],
            &format!("uname was not read on {} before the first change", h.name),
        );
        if role.is_node {
            node_gaps(&h.name, &seen, gaps);
        } else {
            guest_host_gaps(&h.name, &role, seen.ps, &mut reads.guest_procs, gaps);
        }
        reads.hosts.insert(h.name.clone(), os);
    }
    Ok(reads)
}

/// The role of host `h`: `None` for a guest the copy cannot show (unknown, or known by
/// another name than its VM's); `Err` for a guest that answered though it is not running.
fn host_role(
    h: &DeclaredHost,
    on_host: &[&Obs],
    guests: &[Guest],
    packages: &[Package],
) -> Result<Option<Role>, String> {
    let mut role = Role {
        is_node: h.role == "vm-host",
        running: true,
        monitored: false,
        windows: false,
    };
    if !role.is_node {
        let vm = h.domain.clone().unwrap_or_else(|| h.name.clone());
        let known = guests.iter().find(|g| g.name == vm);
        let answered = on_host.iter().any(|o| o.ok());
        // The emulator knows a guest's OS by the VM's name. A guest known to be stopped
        // refuses connections, as on the site.
        let Some(g) = known.filter(|_| vm == h.name) else {
            return Ok(None);
        };
        role.running = g.running;
        role.windows = g.os_type == "WINDOWS";
        role.monitored = packages.iter().any(|p| {
            p.services
                .iter()
                .any(|s| s.appmon().is_some_and(|(node, _)| node == vm))
        });
        if answered && !g.running {
            return Err(format!(
                "{} answered before the first change, but hpvmstatus shows guest {vm} not running",
                h.name
            ));
        }
    }
    Ok(Some(role))
}

/// The reads on host `host`: files into `files`; products, volume groups and mounts into
/// its node; a guest's processes returned.
fn read_host(
    host: &str,
    is_node: bool,
    on_host: &[&Obs],
    nodes: &mut [VmHost],
    files: &mut HostFiles,
    now_ms: u64,
    gaps: &mut Gaps,
) -> HostSeen {
    let mut seen = HostSeen::default();
    for o in on_host {
        if files.read(o, now_ms, gaps) {
            continue;
        }
        let args = o.args();
        match (o.program(), args.as_slice()) {
            ("swlist", ["-l", "product", names @ ..]) if is_node && !names.is_empty() => {
                for n in names.iter() {
                    seen.swlist_read.insert(n.to_string());
                }
                for (name, revision, title) in parse::swlist(o.stdout) {
                    if names.contains(&name.as_str()) {
                        if let Some(i) = nodes.iter().position(|n| n.name == host) {
                            let p = &mut nodes[i].products;
                            p.retain(|x| x.name != name);
                            p.push(Product {
                                name,
                                revision,
                                title,
                            });
                        }
                    }
                }
            }
            ("vgdisplay", vgs) if is_node && !vgs.is_empty() => {
                seen.vg_read = true;
                if let Some(i) = nodes.iter().position(|n| n.name == host) {
                    for (vg, status) in parse::vgdisplay(o.stdout) {
                        nodes[i].vgs.insert(vg, status);
                    }
                }
            }
            ("df", ["-n", rest @ ..]) if is_node && o.ok() => match parse::df_n(o.stdout) {
                Ok(m) => {
                    seen.df_read = true;
                    for p in rest.iter() {
                        files.exists(&clean(p));
                    }
                    if let Some(i) = nodes.iter().position(|n| n.name == host) {
                        for (mp, dev, ty) in m {
                            let mounts = &mut nodes[i].mounts;
                            mounts.retain(|x| x.0 != mp);
                            mounts.push((mp, dev, ty));
                        }
                    }
                }
                Err(e) => unreadable(gaps, o, &e),
            },
            ("hpvmmigrate", a) if is_node && !o.ok() => {
                gaps.add(
                    Some(host),
                    "hpvmmigrate",
                    a,
                    &format!(
                        "{} failed on {} before the first change, for a reason the simulated copy may not model",
                        o.shown(),
                        host
                    ),
                );
            }
            ("ps", ["-ef"]) if !is_node && o.ok() => match parse::ps_ef(o.stdout, now_ms) {
                Ok(rows) => seen.ps = Some(rows),
                Err(e) => unreadable(gaps, o, &e),
            },
            _ => {}
        }
    }
    seen
}

/// The gaps of VM host `host`: its processes; products, volume groups and file systems
/// not read.
fn node_gaps(host: &str, seen: &HostSeen, gaps: &mut Gaps) {
    gaps.add(
        Some(host),
        "ps",
        &[],
        &format!("the processes of VM host {host} were not read before the first change"),
    );
    for p in PRODUCTS.iter().filter(|p| !seen.swlist_read.contains(**p)) {
        gaps.add(
            Some(host),
            "swlist",
            &["-l", "product", p],
            &format!("whether {p} is installed on {host} was not read before the first change"),
        );
    }
    if !seen.vg_read {
        gaps.add(
            Some(host),
            "vgdisplay",
            &[],
            &format!("no volume group of {host} was displayed before the first change"),
        );
    }
    if !seen.df_read {
        gaps.add(
            Some(host),
            "df",
            &[],
            &format!("the file systems of {host} were not read before the first change"),
        );
    }
}

/// A guest host's processes into `guest_procs` when read, else a gap (if it runs or is
/// monitored); and a gap for its products.
fn guest_host_gaps(
    host: &str,
    role: &Role,
    ps: Option<Vec<parse::PsRow>>,
    guest_procs: &mut BTreeMap<String, Vec<Proc>>,
    gaps: &mut Gaps,
) {
    match ps {
        Some(rows) => {
            guest_procs.insert(
                host.to_string(),
                rows.into_iter()
                    .map(|r| Proc {
                        pid: r.pid,
                        ppid: r.ppid,
                        user: r.user,
                        cmd: r.cmd,
                        started_ms: r.started_ms,
                        monitored_by: None,
                    })
                    .collect(),
            );
        }
        // A stopped guest has no processes: the copy knows what a boot starts, but
        // for an application monitor, whether cmappserver is installed.
        None if !role.windows && (role.running || role.monitored) => {
            let why = if role.running {
                format!("the processes of {host} (ps -ef) were not read before the first change")
            } else {
                format!(
                    "whether cmappserver is installed in {host} was not read before the first change"
                )
            };
            gaps.add(Some(host), "ps", &[], &why);
            gaps.add(Some(host), "kill", &[], &why);
        }
        None => {}
    }
    gaps.add(
        Some(host),
        "swlist",
        &[],
        &format!("the products of {host} were not read before the first change"),
    );
}

/// Products and volume groups the copy would need for a move, where they were not read.
fn move_gaps(
    site: &Site,
    nodes: &[VmHost],
    guests: &[Guest],
    vm_names: &[String],
    gaps: &mut Gaps,
) {
    let obs = site.obs;
    for n in nodes {
        let declared_node = site.vm_hosts.contains(&n.name);
        let migration_known = declared_node
            && obs.iter().any(|o| {
                o.host == n.name && o.program() == "swlist" && o.argv.iter().any(|a| a == "T8718AC")
            });
        if !migration_known {
            let why = format!(
                "whether online migration (T8718AC) is installed on {} was not read before the first change",
                n.name
            );
            for vm in vm_names {
                gaps.migration_to(vm, &n.name, &why);
            }
            gaps.add(Some(&n.name), "hpvmmigrate", &[], &why);
            gaps.add(Some(&n.name), "cmmovevpkg", &[], &why);
            gaps.add(Some(&n.name), "cmdeployvpkg", &["-Q", "-C"], &why);
        }
        for g in guests {
            for s in g.storage.iter().filter(|s| s.kind == StorageKind::Lv) {
                let vg = s
                    .device
                    .strip_prefix("/dev/")
                    .and_then(|r| r.split('/').next())
                    .unwrap_or("");
                if vg.is_empty() || n.vgs.contains_key(vg) {
                    continue;
                }
                let read = obs.iter().any(|o| {
                    o.host == n.name
                        && o.program() == "vgdisplay"
                        && o.argv
                            .iter()
                            .skip(1)
                            .any(|a| a == vg || *a == format!("/dev/{vg}"))
                });
                if read {
                    continue;
                }
                let why = format!(
                    "volume group {vg} (of guest {}) was not displayed on {} before the first change",
                    g.name, n.name
                );
                gaps.add(Some(&n.name), "vgdisplay", &[vg], &why);
                gaps.add(Some(&n.name), "vgdisplay", &[&format!("/dev/{vg}")], &why);
                gaps.migration_from(Some(&n.name), &g.name, &why);
            }
        }
    }
}

/// Package folders and files the copy would need for a package check or a deployment,
/// where they were not read.
fn package_file_gaps(
    site: &Site,
    packages: &[Package],
    vm_names: &[String],
    dir_known: &BTreeMap<String, BTreeSet<String>>,
    gaps: &mut Gaps,
) {
    for vm in vm_names {
        let conf_path = format!("{CMCLUSTER}/{vm}/{vm}.conf");
        let mut folders = vec![format!("{CMCLUSTER}/{vm}")];
        if let Some(d) = packages
            .iter()
            .find(|p| p.name == *vm)
            .and_then(|p| p.tkit_dir.as_deref())
            .map(fs::normalize)
        {
            if !folders.contains(&d) {
                folders.push(d);
            }
        }
        let unknown: Vec<String> = site
            .node_names
            .iter()
            .flat_map(|n| {
                folders
                    .iter()
                    .filter(|d| !dir_known.get(n).is_some_and(|k| k.contains(*d)))
                    .map(move |d| format!("{d} on {n}"))
            })
            .collect();
        if !unknown.is_empty() {
            let why = format!(
                "the package check of {vm} reads the modes of its folders on every node, and these were not read before the first change: {}",
                unknown.join(", ")
            );
            gaps.add(None, "cmcheckconf", &["-P", &conf_path], &why);
            gaps.add(None, "cmapplyconf", &["-P", &conf_path], &why);
        }
        for n in site.vm_hosts {
            let read = site
                .obs
                .iter()
                .any(|o| o.host == n && o.is("cat", &[conf_path.as_str()]));
            if !read {
                let why = format!(
                    "whether {conf_path} exists on {n} (and what it holds) was not read before the first change"
                );
                gaps.add(Some(n), "cmdeployvpkg", &["-Q", "-P", vm], &why);
                gaps.add(
                    Some(n),
                    "cmmakepkg",
                    &["-m", "tkit/vtn/vtn", "-n", vm, &conf_path],
                    &why,
                );
            }
        }
    }
}

/// Cluster nodes the inventory does not declare: nothing on them was read, so no
/// cluster check can be answered.
fn undeclared_node_gaps(site: &Site, gaps: &mut Gaps) {
    let undeclared: Vec<String> = site
        .node_names
        .iter()
        .filter(|n| !site.vm_hosts.contains(n))
        .cloned()
        .collect();
    if !undeclared.is_empty() {
        let why = format!(
            "cluster nodes {} are not in the inventory, so nothing on them was read",
            undeclared.join(", ")
        );
        gaps.add(None, "cmcheckconf", &[], &why);
        gaps.add(None, "cmapplyconf", &[], &why);
    }
}

/// The guests' processes (which an application monitor watches) and whether their
/// `cmappserver` answers, with a gap where that was not read. Returns the highest PID.
fn guest_processes(
    guests: &mut [Guest],
    packages: &[Package],
    mut guest_procs: BTreeMap<String, Vec<Proc>>,
    node_names: &[String],
    gaps: &mut Gaps,
) -> u32 {
    let mut max_pid = 0;
    for g in guests {
        let monitors: Vec<(String, String)> = packages
            .iter()
            .filter(|p| p.up)
            .flat_map(|p| {
                p.services
                    .iter()
                    .filter(|s| s.up)
                    .filter_map(|s| s.appmon().map(|(node, app)| (node, app, &p.name, &s.name)))
                    .filter(|(node, ..)| *node == g.name)
                    .map(|(_, app, p, s)| (app, format!("{p}/{s}")))
                    .collect::<Vec<_>>()
            })
            .collect();
        let ps_read = guest_procs.contains_key(&g.name);
        if let Some(procs) = guest_procs.remove(&g.name) {
            g.procs = procs;
            for (app, key) in &monitors {
                if let Some(p) = g
                    .procs
                    .iter_mut()
                    .find(|p| p.monitored_by.is_none() && p.cmd == *app)
                {
                    p.monitored_by = Some(key.clone());
                }
            }
            if let Some(init) = g.procs.iter().find(|p| p.pid == 1) {
                g.booted_ms = init.started_ms;
            }
        }
        max_pid = g.procs.iter().map(|p| p.pid).fold(max_pid, u32::max);
        // cmappserver answers when its process was seen, or while a monitor service of
        // the guest is up (cmappmgr keeps a connection to it).
        g.cmappserver =
            g.procs.iter().any(|p| p.cmd.contains("cmappserver")) || !monitors.is_empty();
        if !ps_read && monitors.is_empty() {
            let why = format!(
                "whether cmappserver runs in guest {} was not read (ps -ef in {}) before the first change",
                g.name, g.name
            );
            gaps.add(None, "cmdeployvpkg", &["-Q", "-P", &g.name, "-x"], &why);
            for p in packages.iter().filter(|p| {
                p.services
                    .iter()
                    .any(|s| s.appmon().is_some_and(|(node, _)| node == g.name))
            }) {
                gaps.add(None, "cmrunpkg", &[&p.name], &why);
                for n in node_names {
                    gaps.add(None, "cmrunpkg", &["-n", n, &p.name], &why);
                }
                gaps.add(None, "cmmodpkg", &["-e", &p.name], &why);
            }
        }
    }
    max_pid
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::DeclaredHost;
    use crate::SimSite;

    const CONF: &str = "/etc/cmcluster/slvm1/slvm1.conf";

    fn declared() -> Declared {
        declared_for(&[
            "node1".to_string(),
            "node2".into(),
            "slvm1".into(),
            "slvm2".into(),
        ])
    }

    /// `node*` hosts are VM hosts, the others guests named after their VM.
    fn declared_for(hosts: &[String]) -> Declared {
        Declared {
            hosts: hosts
                .iter()
                .map(|name| {
                    let node = name.starts_with("node");
                    DeclaredHost {
                        name: name.clone(),
                        role: if node { "vm-host" } else { "vm-guest" }.into(),
                        domain: (!node).then(|| name.clone()),
                        ..DeclaredHost::default()
                    }
                })
                .collect(),
            cluster: Some("cluster1".into()),
            ..Declared::default()
        }
    }

    fn line(argv: &[&str]) -> String {
        hascript_api::Command::read("x", argv).line()
    }

    fn all_reads() -> Vec<(&'static str, Vec<&'static str>)> {
        all_reads_on(&["node1", "node2"])
    }

    /// The reads the hpvm procedures make, and more, on every host they concern.
    fn all_reads_on(nodes: &[&'static str]) -> Vec<(&'static str, Vec<&'static str>)> {
        let mut v: Vec<(&str, Vec<&str>)> =
            vec![("node1", vec!["/usr/sbin/cmviewcl", "-v", "-f", "line"])];
        for n in nodes.iter().copied() {
            for argv in [
                vec!["/opt/hpvm/bin/hpvmstatus"],
                vec!["/opt/hpvm/bin/hpvmstatus", "-P", "slvm1"],
                vec!["/opt/hpvm/bin/hpvmstatus", "-P", "slvm2"],
                vec!["cat", CONF],
                vec!["ls", "-ld", "/etc/cmcluster"],
                vec!["ls", "-ld", "/etc/cmcluster/slvm1"],
                vec!["ls", "-lA", "/etc/cmcluster/slvm1"],
                vec!["ls", "-ld", "/etc/cmcluster/slvm1/vtn.debug"],
                vec!["ls", "-ld", "/etc/cmcluster/slvm2"],
                vec!["ls", "-ld", "/etc/cmcluster/cmappmgr/client.private"],
                vec![
                    "od",
                    "-A",
                    "n",
                    "-v",
                    "-t",
                    "x1",
                    "/etc/cmcluster/cmappmgr/client.public",
                ],
                vec!["cat", "/etc/cmappmgr.conf"],
                vec!["/usr/sbin/swlist", "-l", "product", "T8718AC"],
                vec!["/usr/sbin/swlist", "-l", "product", "SG-IVS-Toolkit"],
                vec!["/usr/sbin/vgdisplay", "vg_slvm2"],
                vec!["wc", "-c", "/var/adm/syslog/syslog.log"],
            ] {
                v.push((n, argv));
            }
        }
        v.push(("slvm1", vec!["ps", "-ef"]));
        v.push(("slvm2", vec!["ps", "-ef"]));
        v.push(("slvm1", vec!["cat", "/opt/hp/cmappserver/cmappserver.conf"]));
        v
    }

    fn observe(site: &SimSite, reads: &[(&str, Vec<&str>)]) -> Vec<Observation> {
        reads
            .iter()
            .map(|(host, argv)| {
                let l = line(argv);
                let o = site.exec_line(host, &l);
                Observation {
                    host: host.to_string(),
                    line: l,
                    exit: o.code(),
                    stdout: o.stdout,
                }
            })
            .collect()
    }

    fn copy_of(site: &SimSite, obs: &[Observation]) -> SimSite {
        SimSite::seeded("hpvm", &declared(), obs, site.clock().now())
            .unwrap_or_else(|e| panic!("seeding: {e}"))
    }

    /// `(exit, stdout, stderr)` of `argv` on `host`.
    fn ask(site: &SimSite, host: &str, argv: &[&str]) -> (i32, String, String) {
        let o = site.exec_line(host, &line(argv));
        (o.code(), o.stdout, o.stderr)
    }

    /// Why the copy cannot answer `argv` on `host` (panics when it answers).
    fn unknown(copy: &SimSite, host: &str, argv: &[&str]) -> String {
        let (code, out, err) = ask(copy, host, argv);
        assert_eq!(code, 255, "{argv:?} on {host} was answered: {out}{err}");
        assert!(err.contains("cannot tell"), "{err}");
        err
    }

    fn same_reads(site: &SimSite, copy: &SimSite, when: &str) {
        for (host, argv) in all_reads() {
            assert_eq!(
                ask(copy, host, &argv),
                ask(site, host, &argv),
                "{when}: {argv:?} on {host}"
            );
        }
    }

    #[test]
    fn a_copy_seeded_from_the_default_sites_reads_answers_them_the_same() {
        let site = SimSite::new(Some("hpvm")).expect("site");
        let obs = observe(&site, &all_reads());
        let copy = copy_of(&site, &obs);
        assert!(copy.is_seeded());
        same_reads(&site, &copy, "seeded");
    }

    #[test]
    fn every_scenarios_reads_seed_a_copy_that_answers_them_the_same() {
        for sc in crate::scenarios()
            .iter()
            .filter(|s| s.name.starts_with("hpvm/"))
        {
            let site = SimSite::new(Some(&sc.name)).expect("site");
            let hosts = site.hosts();
            let nodes: Vec<&'static str> = ["node1", "node2", "node3"]
                .into_iter()
                .filter(|n| hosts.iter().any(|h| h == n))
                .collect();
            let mut reads = all_reads_on(&nodes);
            if sc.name.contains("nfs") {
                for n in &nodes {
                    reads.push((n, vec!["/usr/bin/df", "-n", "/var/opt/hpvm/nfs/slvm1.img"]));
                    reads.push((n, vec!["ls", "-ld", "/var/opt/hpvm/nfs/slvm1.img"]));
                }
            }
            let obs = observe(&site, &reads);
            match SimSite::seeded("hpvm", &declared_for(&hosts), &obs, site.clock().now()) {
                Ok(copy) if sc.name.contains("old-serviceguard") => {
                    // cmviewcl -f line failed: the cluster's state stays unknown.
                    let why = unknown(&copy, "node1", &["/usr/sbin/cmviewcl", "-v", "-f", "line"]);
                    assert!(why.contains("cmviewcl -v -f line was not read"), "{why}");
                }
                Ok(copy) => {
                    // The package check reads the folders' modes the reads saw.
                    let check = ["/usr/sbin/cmcheckconf", "-P", CONF];
                    assert_eq!(
                        ask(&copy, "node1", &check),
                        ask(&site, "node1", &check),
                        "{}: cmcheckconf",
                        sc.name
                    );
                    for (host, argv) in &reads {
                        assert_eq!(
                            ask(&copy, host, argv),
                            ask(&site, host, argv),
                            "{}: {argv:?} on {host}",
                            sc.name
                        );
                    }
                }
                Err(e) => panic!("{}: {e}", sc.name),
            }
        }
    }

    #[test]
    fn the_copy_behaves_like_the_site_under_the_same_changes() {
        let site = SimSite::new(Some("hpvm")).expect("site");
        let obs = observe(&site, &all_reads());
        let copy = copy_of(&site, &obs);
        let changes: &[(&str, &[&str])] = &[
            (
                "node1",
                &[
                    "/etc/cmcluster/scripts/tkit/vtn/cmmovevpkg",
                    "-v",
                    "-P",
                    "slvm1",
                    "-h",
                    "node2",
                ],
            ),
            ("node1", &["/usr/sbin/cmhaltpkg", "slvm1"]),
            ("node1", &["/usr/sbin/cmrunpkg", "-n", "node1", "slvm1"]),
            ("node1", &["/usr/sbin/cmmodpkg", "-e", "slvm1"]),
            (
                "node1",
                &[
                    "/etc/cmcluster/scripts/tkit/vtn/cmdeployvpkg",
                    "-m",
                    "1",
                    "-P",
                    "slvm1",
                ],
            ),
            ("node1", &["/opt/hpvm/bin/hpvmstop", "-P", "slvm1", "-F"]),
        ];
        for (host, argv) in changes {
            assert_eq!(ask(&copy, host, argv), ask(&site, host, argv), "{argv:?}");
            same_reads(&site, &copy, &format!("after {argv:?}"));
        }
        assert_eq!(copy.clock().now(), site.clock().now());
    }

    #[test]
    fn what_was_not_read_is_unknown_and_the_reason_names_it() {
        let site = SimSite::new(Some("hpvm")).expect("site");
        // The reads of hpvm/maintenance before its first change.
        let obs = observe(
            &site,
            &[
                ("node1", vec!["/usr/sbin/cmviewcl", "-v", "-f", "line"]),
                ("node1", vec!["cat", CONF]),
                ("node1", vec!["ls", "-ld", "/etc/cmcluster/slvm1/vtn.debug"]),
            ],
        );
        let copy = copy_of(&site, &obs);
        let cmviewcl = ["/usr/sbin/cmviewcl", "-v", "-f", "line"];
        assert_eq!(
            ask(&copy, "node1", &cmviewcl),
            ask(&site, "node1", &cmviewcl)
        );
        assert_eq!(
            ask(&copy, "node1", &["cat", CONF]),
            ask(&site, "node1", &["cat", CONF])
        );
        // Known missing on the site: answered as missing.
        let vtn = ["ls", "-ld", "/etc/cmcluster/slvm1/vtn.debug"];
        assert_eq!(ask(&copy, "node1", &vtn), ask(&site, "node1", &vtn));
        // The package is up with its guest monitor up: the guest runs on node1. What it
        // is (disks, NICs) and where else it is registered was never read.
        let why = unknown(&copy, "node1", &["/opt/hpvm/bin/hpvmstatus", "-P", "slvm1"]);
        assert!(
            why.contains("hpvmstatus -P slvm1 was not read on any VM host"),
            "{why}"
        );
        let why = unknown(&copy, "node1", &["/opt/hpvm/bin/hpvmstatus"]);
        assert!(
            why.contains("hpvmstatus was not read on node1")
                || why.contains("not listed by hpvmstatus"),
            "{why}"
        );
        let mv = [
            "/etc/cmcluster/scripts/tkit/vtn/cmmovevpkg",
            "-v",
            "-P",
            "slvm1",
            "-h",
            "node2",
        ];
        let why = unknown(&copy, "node1", &mv);
        assert!(why.contains("storage and network are not known"), "{why}");
        // Running it again is known: it runs.
        let run = ["/usr/sbin/cmrunpkg", "-n", "node2", "slvm1"];
        assert_eq!(ask(&copy, "node1", &run), ask(&site, "node1", &run));
        let why = unknown(&copy, "node2", &["cat", CONF]);
        assert!(why.contains("never read"), "{why}");
        let why = unknown(&copy, "node1", &["ls", "-ld", "/etc/cmcluster/slvm1"]);
        assert!(
            why.contains("mode of folder /etc/cmcluster/slvm1 on node1"),
            "{why}"
        );
        let why = unknown(&copy, "node1", &["/usr/sbin/cmapplyconf", "-P", CONF]);
        assert!(why.contains("/etc/cmcluster/slvm1 on node2"), "{why}");
        let why = unknown(
            &copy,
            "node1",
            &["/usr/sbin/swlist", "-l", "product", "T8718AC"],
        );
        assert!(why.contains("T8718AC is installed on node1"), "{why}");
        unknown(&copy, "slvm1", &["ps", "-ef"]);
        // The maintenance change itself is known: the file, TKIT_DIR and the flag were read.
        let m = [
            "/etc/cmcluster/scripts/tkit/vtn/cmdeployvpkg",
            "-m",
            "1",
            "-P",
            "slvm1",
        ];
        assert_eq!(ask(&copy, "node1", &m), ask(&site, "node1", &m));
        let (code, ..) = ask(&copy, "node1", &vtn);
        assert_eq!(code, 0, "the copy made the maintenance file");
    }

    /// What the shipped procedures read after their first change, and which reads before
    /// it would make that known: the move's verification needs the target's view of the
    /// guest, package file and maintenance file; the halt's, the guest on every host.
    #[test]
    fn the_reads_a_preflight_could_add_make_the_whole_verification_known() {
        let cmviewcl = vec!["/usr/sbin/cmviewcl", "-v", "-f", "line"];
        let p1 = vec!["/opt/hpvm/bin/hpvmstatus", "-P", "slvm1"];
        let vtn = vec!["ls", "-ld", "/etc/cmcluster/slvm1/vtn.debug"];
        let sw = vec!["/usr/sbin/swlist", "-l", "product", "T8718AC"];
        let conf = vec!["cat", CONF];
        // What each procedure reads after its change (its verification and summary).
        let verify_move: Vec<(&str, Vec<&str>)> = vec![
            ("node1", p1.clone()),
            ("node2", p1.clone()),
            ("node1", cmviewcl.clone()),
            ("node2", conf.clone()),
            ("node2", vtn.clone()),
        ];
        let verify_halt: Vec<(&str, Vec<&str>)> = vec![
            ("node1", cmviewcl.clone()),
            ("node1", p1.clone()),
            ("node2", p1.clone()),
            ("node1", conf.clone()),
            ("node1", vtn.clone()),
        ];
        let mv = [
            "/etc/cmcluster/scripts/tkit/vtn/cmmovevpkg",
            "-v",
            "-P",
            "slvm1",
            "-h",
            "node2",
        ];
        let halt = ["/usr/sbin/cmhaltpkg", "slvm1"];
        let cases = [
            (
                &mv[..],
                vec![
                    ("node1", cmviewcl.clone()),
                    ("node1", conf.clone()),
                    ("node1", p1.clone()),
                    ("node1", vtn.clone()),
                    ("node1", sw.clone()),
                    ("node2", sw.clone()),
                ],
                // What hpvm/move-package does not read today:
                vec![
                    ("node2", p1.clone()),
                    ("node2", conf.clone()),
                    ("node2", vtn.clone()),
                ],
                verify_move,
            ),
            (
                &halt[..],
                vec![
                    ("node1", cmviewcl.clone()),
                    ("node1", conf.clone()),
                    ("node1", vtn.clone()),
                ],
                // What hpvm/halt-package does not read today:
                vec![("node1", p1.clone()), ("node2", p1.clone())],
                verify_halt,
            ),
        ];
        for (change, today, added, verify) in cases {
            let site = SimSite::new(Some("hpvm")).expect("site");
            let all: Vec<(&str, Vec<&str>)> = today.iter().chain(&added).cloned().collect();
            let copy = copy_of(&site, &observe(&site, &all));
            assert_eq!(ask(&copy, "node1", change), ask(&site, "node1", change));
            for (host, argv) in &verify {
                assert_eq!(
                    ask(&copy, host, argv),
                    ask(&site, host, argv),
                    "after {change:?}: {argv:?} on {host}"
                );
            }
            // With today's reads only, the change is known but its verification is not.
            let site = SimSite::new(Some("hpvm")).expect("site");
            let copy = copy_of(&site, &observe(&site, &today));
            assert_eq!(ask(&copy, "node1", change), ask(&site, "node1", change));
            unknown(&copy, "node2", &p1);
        }
    }

    #[test]
    fn a_guest_read_on_one_host_only_is_unknown_on_the_others() {
        let site = SimSite::new(Some("hpvm")).expect("site");
        let obs = observe(
            &site,
            &[
                ("node1", vec!["/usr/sbin/cmviewcl", "-v", "-f", "line"]),
                ("node1", vec!["/opt/hpvm/bin/hpvmstatus", "-P", "slvm1"]),
                (
                    "node1",
                    vec!["/usr/sbin/swlist", "-l", "product", "T8718AC"],
                ),
                (
                    "node2",
                    vec!["/usr/sbin/swlist", "-l", "product", "T8718AC"],
                ),
                ("node1", vec!["cat", CONF]),
            ],
        );
        let copy = copy_of(&site, &obs);
        let p1 = ["/opt/hpvm/bin/hpvmstatus", "-P", "slvm1"];
        assert_eq!(ask(&copy, "node1", &p1), ask(&site, "node1", &p1));
        let why = unknown(&copy, "node2", &p1);
        assert!(
            why.contains("whether guest slvm1 is registered on node2"),
            "{why}"
        );
        // The move itself is known (products on both ends, whole-disk storage).
        let mv = [
            "/etc/cmcluster/scripts/tkit/vtn/cmmovevpkg",
            "-v",
            "-P",
            "slvm1",
            "-h",
            "node2",
        ];
        assert_eq!(ask(&copy, "node1", &mv), ask(&site, "node1", &mv));
        assert_eq!(ask(&copy, "node1", &p1), ask(&site, "node1", &p1));
        // slvm2 was never asked about.
        unknown(&copy, "node1", &["/opt/hpvm/bin/hpvmstatus", "-P", "slvm2"]);
    }

    #[test]
    fn sites_the_copy_cannot_represent_are_refused_with_the_reason() {
        let site = SimSite::new(Some("hpvm")).expect("site");
        let now = site.clock().now();
        let mut d = declared();
        d.hosts.retain(|h| h.role != "vm-host");
        let e = SimSite::seeded("hpvm", &d, &[], now).expect_err("no vm-host");
        assert!(e.to_string().contains("no vm-host"), "{e}");
        let mut obs = observe(
            &site,
            &[("node1", vec!["/usr/sbin/cmviewcl", "-v", "-f", "line"])],
        );
        let mut other = declared();
        other.cluster = Some("prod".into());
        let e = SimSite::seeded("hpvm", &other, &obs, now).expect_err("other cluster");
        assert!(e.to_string().contains("cluster prod"), "{e}");
        obs[0].stdout = obs[0]
            .stdout
            .replace("package:slvm1|state=running", "package:slvm1|state=halting");
        let e = SimSite::seeded("hpvm", &declared(), &obs, now).expect_err("halting");
        assert!(e.to_string().contains("package slvm1 is up/halting"), "{e}");
        obs[0].stdout = "this is not cmviewcl\n".into();
        let e = SimSite::seeded("hpvm", &declared(), &obs, now).expect_err("garbage");
        assert!(
            e.to_string().contains("cmviewcl -v -f line on node1"),
            "{e}"
        );
        // Nothing read at all: a copy that knows it knows nothing of the cluster.
        let copy = SimSite::seeded("hpvm", &declared(), &[], now).expect("empty copy");
        let why = unknown(&copy, "node1", &["/usr/sbin/cmviewcl", "-v", "-f", "line"]);
        assert!(why.contains("cmviewcl -v -f line was not read"), "{why}");
    }

    #[test]
    fn unreadable_answers_are_gaps_and_nothing_panics() {
        let site = SimSite::new(Some("hpvm")).expect("site");
        let now = site.clock().now();
        let good = observe(&site, &all_reads());
        let mut bad = good.clone();
        for o in bad.iter_mut().filter(|o| {
            o.line.contains("hpvmstatus -P slvm1")
                || o.line.contains("ps -ef")
                || o.line.contains("ls -l")
        }) {
            o.stdout = "garbage that no parser reads\n".into();
        }
        let copy = SimSite::seeded("hpvm", &declared(), &bad, now).expect("seeded");
        let why = unknown(&copy, "node1", &["/opt/hpvm/bin/hpvmstatus", "-P", "slvm1"]);
        assert!(why.contains("cannot read"), "{why}");
        let why = unknown(&copy, "slvm1", &["ps", "-ef"]);
        assert!(why.contains("cannot read"), "{why}");
        // Every answer cut short anywhere, or with a byte changed: Ok or Err, never a panic.
        for i in 0..good.len() {
            let text = good[i].stdout.clone();
            let step = (text.len() / 12).max(1);
            let mut cuts: Vec<usize> = (0..text.len()).step_by(step).collect();
            cuts.push(text.len().saturating_sub(1));
            for cut in cuts {
                let Some(head) = text.get(..cut) else {
                    continue;
                };
                for tail in ["", " (=\u{0}", "\n==== ==\n[x]\n"] {
                    let mut obs = good.clone();
                    obs[i].stdout = format!("{head}{tail}");
                    let _ = super::seed(&declared(), &obs, now.as_millis() as u64);
                }
            }
        }
    }
}
