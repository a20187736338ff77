//! Where a site's state lives: in memory behind a mutex, or in a folder that several
//! processes may use at once (`hascript sim exec`, sshd's `ForceCommand`, a run, the REPL).
//!
//! A folder holds:
//! - `site.json`: the state (without the command log), replaced atomically (a temporary
//!   file, then a rename) once per operation that changed it; an operation that changed
//!   nothing (a read-only command) writes nothing there;
//! - `site.lock`: the `flock` every operation takes (shared to read, exclusive to change),
//!   and in its first line a small header: the **generation** (bumped before every
//!   replacement of `site.json`), how many commands were logged, how many times the log was
//!   rotated;
//! - `commands.log` (and `commands.log.1`): the command log, one JSON object per line,
//!   rotated past [`LOG_CAP`] bytes so the folder stays bounded.
//!
//! Each process keeps the state it last read or wrote in memory, valid while the generation
//! in the header (and the identity of `site.json`, against hand edits) is what it was: a
//! command normally costs one `flock`, one small read and, when it changed the site, one
//! write and one rename.
//!
//! Crash safety (a SIGKILL at any point leaves a consistent folder): log lines are appended
//! first and count only once committed (a line's `seq` at most the committed count: the
//! header's, or the `logged` of `site.json` for an operation that changed the state, whose
//! rename commits both); the generation is bumped before `site.json` is replaced, so a
//! crash between the two only makes other processes reload what did not change.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use crate::error::SimError;
use crate::state::{LoggedCommand, SiteState, FORMAT, OLDEST_FORMAT};

/// The state file in a site folder.
pub(crate) const STATE_FILE: &str = "site.json";
/// The lock file in a site folder (its first line is the [`Header`]).
pub(crate) const LOCK_FILE: &str = "site.lock";
/// The command log in a site folder.
pub(crate) const LOG_FILE: &str = "commands.log";
/// The command log before its last rotation.
pub(crate) const OLD_LOG_FILE: &str = "commands.log.1";
/// Past this size `commands.log` becomes `commands.log.1` (replacing the older one), so a
/// folder's log never holds much more than twice this: about 10,000 commands (some 100
/// live migrations) each.
pub(crate) const LOG_CAP: u64 = 1 << 20;
/// Prefix of the temporary files `site.json` is written through.
const TMP_PREFIX: &str = ".site.json.";

/// Where the state is kept.
pub(crate) enum Store {
    /// In this process only.
    Memory(Mutex<SiteState>),
    /// In a folder.
    Folder(Folder),
}

impl Store {
    /// Run `f` on the state, which it only reads.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&SiteState) -> R) -> Result<R, SimError> {
        match self {
            Store::Memory(m) => Ok(f(&lock_mutex(m))),
            Store::Folder(folder) => folder.read(f),
        }
    }

    /// Run `f` on the state, which it may change (the commands it logs get their numbers
    /// here).
    pub(crate) fn write<R>(&self, f: impl FnOnce(&mut SiteState) -> R) -> Result<R, SimError> {
        match self {
            Store::Memory(m) => {
                let mut g = lock_mutex(m);
                let before = g.log.len();
                let r = f(&mut g);
                let mut next = g.logged;
                for e in g.log.iter_mut().skip(before) {
                    next += 1;
                    e.seq = next;
                }
                g.logged = next;
                Ok(r)
            }
            Store::Folder(folder) => folder.write(f),
        }
    }

    /// The command log as kept: all of it in memory, the last one or two rotations in a
    /// folder.
    pub(crate) fn command_log(&self) -> Result<Vec<LoggedCommand>, SimError> {
        match self {
            Store::Memory(m) => Ok(lock_mutex(m).log.clone()),
            Store::Folder(folder) => folder.command_log(),
        }
    }
}

fn lock_mutex<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

/// The first line of `site.lock`: what other processes need to know whether the state
/// they hold in memory is still the folder's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Header {
    /// Bumped before every replacement of `site.json`.
    generation: u64,
    /// Commands logged and committed by operations that did not replace `site.json`
    /// (those commit theirs in its `logged`).
    logged: u64,
    /// Rotations of the log, so a process holding the old `commands.log` open reopens it.
    rotations: u64,
}

/// Fixed width, so rewriting it in place never leaves a tail of an older, longer one.
const HEADER_LEN: usize = 110;

impl Header {
    fn encode(&self) -> Vec<u8> {
        let s = format!(
            "hascript-sim-site generation={:020} logged={:020} rotations={:020}\n",
            self.generation, self.logged, self.rotations
        );
        debug_assert_eq!(s.len(), HEADER_LEN - 1);
        s.into_bytes()
    }

    /// `None` when the lock file holds no header (a new folder, or one an older hascript
    /// made): then nothing held in memory can be trusted.
    fn read(lock: &File) -> Option<Header> {
        let mut buf = [0u8; HEADER_LEN];
        let n = lock.read_at(&mut buf, 0).ok()?;
        let text = std::str::from_utf8(&buf[..n]).ok()?;
        let line = text.split('\n').next()?;
        let mut words = line.split(' ');
        if words.next() != Some("hascript-sim-site") {
            return None;
        }
        let mut h = Header::default();
        let mut seen = 0;
        for w in words {
            let (k, v) = w.split_once('=')?;
            let v: u64 = v.parse().ok()?;
            match k {
                "generation" => h.generation = v,
                "logged" => h.logged = v,
                "rotations" => h.rotations = v,
                _ => return None,
            }
            seen += 1;
        }
        (seen == 3).then_some(h)
    }

    fn write(&self, lock: &File, dir: &Path) -> Result<(), SimError> {
        lock.write_all_at(&self.encode(), 0)
            .map_err(|e| SimError::io(dir.join(LOCK_FILE), e))
    }
}

/// Which `site.json` the state in memory came from: a hand edit or a replacement by a
/// hascript without the header changes one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: i64,
    mtime_nsec: i64,
}

impl Stamp {
    fn of(m: &fs::Metadata) -> Stamp {
        Stamp {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: m.mtime(),
            mtime_nsec: m.mtime_nsec(),
        }
    }
}

/// The state as this process last read or wrote it.
struct Cached {
    generation: u64,
    stamp: Stamp,
    /// `site.json`'s bytes, to tell whether an operation changed anything.
    bytes: Vec<u8>,
    state: SiteState,
}

/// What one folder handle keeps open between operations.
struct Open {
    lock: fd_lock::RwLock<File>,
    cached: Option<Cached>,
    /// `commands.log` open for appending, and the rotation it belongs to.
    log: Option<(u64, File)>,
}

/// A site folder.
pub(crate) struct Folder {
    dir: PathBuf,
    /// Serialises this handle's own users (the file lock does the rest).
    open: Mutex<Open>,
}

fn open_lock_file(dir: &Path) -> Result<File, SimError> {
    let path = dir.join(LOCK_FILE);
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| SimError::io(path, e))
}

fn corrupt(path: &Path, message: impl Into<String>) -> SimError {
    SimError::Corrupt {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Read `site.json`: the state, its bytes and which file they came from.
fn load(dir: &Path) -> Result<(SiteState, Vec<u8>, Stamp), SimError> {
    let path = dir.join(STATE_FILE);
    let mut file = File::open(&path).map_err(|e| SimError::io(&path, e))?;
    let meta = file.metadata().map_err(|e| SimError::io(&path, e))?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.read_to_end(&mut bytes)
        .map_err(|e| SimError::io(&path, e))?;
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| corrupt(&path, e.to_string()))?;
    let format = value.get("format").and_then(|f| f.as_u64());
    let readable =
        format.is_some_and(|f| (u64::from(OLDEST_FORMAT)..=u64::from(FORMAT)).contains(&f));
    if !readable {
        return Err(corrupt(
            &path,
            format!(
                "state format {} where this hascript reads format {FORMAT}",
                format
                    .map(|f| f.to_string())
                    .unwrap_or_else(|| "missing".into())
            ),
        ));
    }
    let state: SiteState =
        serde_json::from_value(value).map_err(|e| corrupt(&path, e.to_string()))?;
    Ok((state, bytes, Stamp::of(&meta)))
}

fn serialize(dir: &Path, state: &SiteState) -> Result<Vec<u8>, SimError> {
    serde_json::to_vec(state).map_err(|e| corrupt(&dir.join(STATE_FILE), e.to_string()))
}

/// Write `bytes` to a temporary file beside `site.json`; [`tempfile::NamedTempFile::persist`]
/// puts it in place.
fn write_tmp(dir: &Path, bytes: &[u8]) -> Result<(tempfile::NamedTempFile, Stamp), SimError> {
    let mut tmp = tempfile::Builder::new()
        .prefix(TMP_PREFIX)
        .tempfile_in(dir)
        .map_err(|e| SimError::io(dir, e))?;
    tmp.write_all(bytes)
        .map_err(|e| SimError::io(tmp.path(), e))?;
    let meta = tmp
        .as_file()
        .metadata()
        .map_err(|e| SimError::io(tmp.path(), e))?;
    Ok((tmp, Stamp::of(&meta)))
}

fn persist(dir: &Path, tmp: tempfile::NamedTempFile) -> Result<(), SimError> {
    let path = dir.join(STATE_FILE);
    tmp.persist(&path)
        .map_err(|e| SimError::io(&path, e.error))?;
    Ok(())
}

/// Whether `dir` holds nothing but our own lock, leftover temporary files or the command
/// log of a site whose `site.json` was removed.
fn is_empty_dir(dir: &Path) -> Result<bool, SimError> {
    let entries = fs::read_dir(dir).map_err(|e| SimError::io(dir, e))?;
    for e in entries {
        let e = e.map_err(|e| SimError::io(dir, e))?;
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name != LOCK_FILE
            && name != LOG_FILE
            && name != OLD_LOG_FILE
            && !name.starts_with(TMP_PREFIX)
        {
            return Ok(false);
        }
    }
    Ok(true)
}

/// One log line; a line cut short by a crash may have the next one glued to it, which is
/// then found after the cut (`{"seq":` cannot occur inside a JSON string).
fn parse_log_line(line: &[u8]) -> Option<LoggedCommand> {
    if line.is_empty() {
        return None;
    }
    if let Ok(c) = serde_json::from_slice::<LoggedCommand>(line) {
        return Some(c);
    }
    let text = std::str::from_utf8(line).ok()?;
    let at = text.rfind("{\"seq\":")?;
    serde_json::from_str(&text[at..]).ok()
}

impl Folder {
    fn at(dir: &Path) -> Result<Folder, SimError> {
        Ok(Folder {
            dir: dir.to_path_buf(),
            open: Mutex::new(Open {
                lock: fd_lock::RwLock::new(open_lock_file(dir)?),
                cached: None,
                log: None,
            }),
        })
    }

    /// This handle's open files; after a panic in an operation, what it held in memory is
    /// forgotten.
    fn handle(&self) -> MutexGuard<'_, Open> {
        match self.open.lock() {
            Ok(g) => g,
            Err(p) => {
                let mut g = p.into_inner();
                g.cached = None;
                g
            }
        }
    }

    /// Open the site in `dir`, creating it from `make` when the folder is missing or empty.
    /// `scenario_given` says whether the caller asked for a scenario (refused when the
    /// folder already holds a site). Returns the folder and the state as it is now.
    pub(crate) fn open_or_create(
        dir: &Path,
        scenario_given: bool,
        make: impl FnOnce() -> Result<SiteState, SimError>,
    ) -> Result<(Folder, SiteState), SimError> {
        fs::create_dir_all(dir).map_err(|e| SimError::io(dir, e))?;
        let folder = Folder::at(dir)?;
        let state = {
            let mut open = folder.handle();
            let Open { lock, cached, log } = &mut *open;
            let guard = lock
                .write()
                .map_err(|e| SimError::io(dir.join(LOCK_FILE), e))?;
            let header = Header::read(&guard);
            if dir.join(STATE_FILE).exists() {
                if scenario_given {
                    return Err(SimError::ScenarioWithExistingState {
                        dir: dir.to_path_buf(),
                    });
                }
                current(dir, header, cached)?.state.clone()
            } else {
                if !is_empty_dir(dir)? {
                    return Err(SimError::NotASite {
                        dir: dir.to_path_buf(),
                    });
                }
                let mut state = make()?;
                let old = header.unwrap_or_default();
                // A log left by a removed site is not this one's.
                for name in [LOG_FILE, OLD_LOG_FILE] {
                    match fs::remove_file(dir.join(name)) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(SimError::io(dir.join(name), e)),
                    }
                }
                *log = None;
                state.logged = old.logged;
                let bytes = serialize(dir, &state)?;
                let (tmp, stamp) = write_tmp(dir, &bytes)?;
                let header = Header {
                    generation: old.generation + 1,
                    logged: old.logged,
                    rotations: old.rotations + 1,
                };
                header.write(&guard, dir)?;
                persist(dir, tmp)?;
                *cached = Some(Cached {
                    generation: header.generation,
                    stamp,
                    bytes,
                    state: state.clone(),
                });
                state
            }
        };
        Ok((folder, state))
    }

    /// Open the site that must already be in `dir`.
    pub(crate) fn open(dir: &Path) -> Result<(Folder, SiteState), SimError> {
        if !dir.join(STATE_FILE).is_file() {
            return Err(SimError::NoState {
                dir: dir.to_path_buf(),
            });
        }
        let folder = Folder::at(dir)?;
        let state = folder.read(|s| s.clone())?;
        Ok((folder, state))
    }

    /// The folder.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The generation of the state in the folder: how many times `site.json` was replaced.
    pub(crate) fn generation(&self) -> Result<u64, SimError> {
        let open = self.handle();
        let guard = open
            .lock
            .read()
            .map_err(|e| SimError::io(self.dir.join(LOCK_FILE), e))?;
        Ok(Header::read(&guard).unwrap_or_default().generation)
    }

    fn read<R>(&self, f: impl FnOnce(&SiteState) -> R) -> Result<R, SimError> {
        let mut open = self.handle();
        let Open { lock, cached, .. } = &mut *open;
        let guard = lock
            .read()
            .map_err(|e| SimError::io(self.dir.join(LOCK_FILE), e))?;
        let c = current(&self.dir, Header::read(&guard), cached)?;
        Ok(f(&c.state))
    }

    fn write<R>(&self, f: impl FnOnce(&mut SiteState) -> R) -> Result<R, SimError> {
        let mut open = self.handle();
        let Open { lock, cached, log } = &mut *open;
        let guard = lock
            .write()
            .map_err(|e| SimError::io(self.dir.join(LOCK_FILE), e))?;
        let header = Header::read(&guard);
        current(&self.dir, header, cached)?;
        let header = header.unwrap_or_default();
        // Whatever fails from here on leaves the folder as it was (or with uncommitted log
        // lines, which do not count); what is in memory may not be, so it is forgotten.
        let Some(mut c) = cached.take() else {
            return Err(corrupt(&self.dir.join(STATE_FILE), "not loaded"));
        };
        let r = f(&mut c.state);
        let committed = header.logged.max(c.state.logged);
        let mut entries = std::mem::take(&mut c.state.log);
        for (e, seq) in entries.iter_mut().zip(committed + 1..) {
            e.seq = seq;
        }
        let logged = committed + entries.len() as u64;
        c.state.format = FORMAT;
        let bytes = serialize(&self.dir, &c.state)?;
        let changed = bytes != c.bytes;
        let mut header = header;
        if !entries.is_empty() {
            append_log(&self.dir, &guard, &mut header, log, &entries)?;
        }
        if changed {
            c.state.logged = logged;
            let bytes = serialize(&self.dir, &c.state)?;
            let (tmp, stamp) = write_tmp(&self.dir, &bytes)?;
            // Before the rename: a process that sees the new file also sees the new number.
            let next = Header {
                generation: header.generation + 1,
                ..header
            };
            next.write(&guard, &self.dir)?;
            persist(&self.dir, tmp)?;
            c.generation = next.generation;
            c.stamp = stamp;
            c.bytes = bytes;
        } else if !entries.is_empty() {
            Header { logged, ..header }.write(&guard, &self.dir)?;
        }
        *cached = Some(c);
        Ok(r)
    }

    /// The committed command log: both files, each command once (the last line written for
    /// its number), in order.
    fn command_log(&self) -> Result<Vec<LoggedCommand>, SimError> {
        let mut open = self.handle();
        let Open { lock, cached, .. } = &mut *open;
        let guard = lock
            .read()
            .map_err(|e| SimError::io(self.dir.join(LOCK_FILE), e))?;
        let header = Header::read(&guard);
        let c = current(&self.dir, header, cached)?;
        let committed = header.unwrap_or_default().logged.max(c.state.logged);
        let mut by_seq = BTreeMap::new();
        for name in [OLD_LOG_FILE, LOG_FILE] {
            let path = self.dir.join(name);
            let bytes = match fs::read(&path) {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(SimError::io(path, e)),
            };
            for line in bytes.split(|b| *b == b'\n') {
                if let Some(e) = parse_log_line(line) {
                    if (1..=committed).contains(&e.seq) {
                        by_seq.insert(e.seq, e);
                    }
                }
            }
        }
        // A site an older hascript made keeps its log in `site.json` until its first command.
        let mut out = c.state.log.clone();
        for (e, seq) in out.iter_mut().zip(1..) {
            e.seq = seq;
        }
        out.extend(by_seq.into_values());
        Ok(out)
    }
}

/// The state of the folder in `cached`, read again unless it is the one the header and
/// `site.json` describe.
fn current<'a>(
    dir: &Path,
    header: Option<Header>,
    cached: &'a mut Option<Cached>,
) -> Result<&'a mut Cached, SimError> {
    let stamp = fs::metadata(dir.join(STATE_FILE))
        .map(|m| Stamp::of(&m))
        .map_err(|e| SimError::io(dir.join(STATE_FILE), e))?;
    let valid = match (header, cached.as_ref()) {
        (Some(h), Some(c)) => c.generation == h.generation && c.stamp == stamp,
        _ => false,
    };
    if !valid {
        *cached = None;
        let (state, bytes, stamp) = load(dir)?;
        *cached = Some(Cached {
            generation: header.unwrap_or_default().generation,
            stamp,
            bytes,
            state,
        });
    }
    cached
        .as_mut()
        .ok_or_else(|| corrupt(&dir.join(STATE_FILE), "not loaded"))
}

/// Append `entries` to `commands.log` (not yet committed: the caller commits them) and
/// rotate it when it grew past [`LOG_CAP`].
fn append_log(
    dir: &Path,
    lock: &File,
    header: &mut Header,
    log: &mut Option<(u64, File)>,
    entries: &[LoggedCommand],
) -> Result<(), SimError> {
    let path = dir.join(LOG_FILE);
    let mut text = Vec::new();
    for e in entries {
        serde_json::to_writer(&mut text, e).map_err(|e| corrupt(&path, e.to_string()))?;
        text.push(b'\n');
    }
    // Another process rotated the log since this one opened it.
    if log.as_ref().is_some_and(|(r, _)| *r != header.rotations) {
        *log = None;
    }
    let file = match log {
        Some((_, f)) => f,
        None => {
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(|e| SimError::io(&path, e))?;
            &mut log.insert((header.rotations, f)).1
        }
    };
    file.write_all(&text).map_err(|e| SimError::io(&path, e))?;
    let size = file.metadata().map_err(|e| SimError::io(&path, e))?.len();
    if size > LOG_CAP {
        // The number first: whoever holds the old file open reopens.
        header.rotations += 1;
        header.write(lock, dir)?;
        *log = None;
        fs::rename(&path, dir.join(OLD_LOG_FILE)).map_err(|e| SimError::io(&path, e))?;
    }
    Ok(())
}
