//! A host's files and folders from `cat`, `od`, `ls -ld`/`ls -lA` and `wc -c`.

use std::collections::{BTreeMap, BTreeSet};

use super::gaps::Gaps;
use super::parse::LsKind;
use super::{clean, parse, unreadable, Obs};
use crate::hpvm::fs::{self, SEED_MTIME_MS};
use crate::seed::SizedFile;
use crate::world::{HostOs, Meta};

/// `od`'s arguments as the driver sends them (the file follows).
const OD: &[&str] = &["-A", "n", "-v", "-t", "x1"];

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

fn ancestors(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut p = fs::parent(path);
    while p != "/" {
        out.push(p.clone());
        p = fs::parent(&p);
    }
    out
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
pub(super) struct HostFiles {
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
    pub(super) fn read(&mut self, o: &Obs, now_ms: u64, gaps: &mut Gaps) -> bool {
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
    pub(super) fn exists(&mut self, path: &str) {
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
    pub(super) fn apply(
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
