//! Host locks: a run that changes a cluster locks each host it changes, on the host itself,
//! so that an operator starting another run from any machine is refused.
//!
//! The lock is the folder [`LOCK_DIR`] (`/var/tmp/hascript.lock`), made with `mkdir`, which
//! is atomic on every POSIX system: whoever makes it holds the lock. The holder then writes
//! [`OWNER_FILE`] (`run=`, `user=`, `origin=`, `since=`, `pid=` lines) through standard
//! input. A host is locked lazily, just before the first change command this run sends to
//! it ([`crate::journal::JournalingExec`]); a run that only reads takes no lock. Every lock
//! is released (`rm -r`) at the end of the run whatever its outcome — only when the owner
//! file still names this run. A run that dies (SIGKILL, power loss) leaves its locks: they
//! are stale.
//!
//! Stale locks are taken over, never silently: `resume` and `unwind` of the dead run take
//! its locks over without asking ([`LockOptions::takeover`]); any run given `--takeover RUN`
//! does the same after [`takeover_of`] checked, from RUN's journal on this machine, that RUN
//! is dead (its result is recorded, or its process is gone) and that no live run continues
//! it. `--break-lock` breaks a lock after the operator confirms (`--yes` answers), and then
//! takes over every other lock of that same run (from its journal when it is here, else on
//! every host of the site), so nothing of the dead run is left behind.
//!
//! Hosts are locked and released in parallel: one host's round trips never wait for another
//! host's network. Only the questions (`--break-lock`) are asked one at a time, and once the
//! operator says no, no further lock is taken and no further question asked.
//!
//! The folder is fixed over SSH so that operators on other machines see each other's locks.
//! Only a host reached with `transport = "local"` may keep it elsewhere (the inventory's
//! `lock_dir`, or [`LOCK_DIR_ENV`]), so that runs on one machine — tests above all — do not
//! share a machine-wide lock ([`lock_dirs`]).
//!
//! The lock's own commands are journaled (purpose `lock`) but are bookkeeping: they do not
//! go through `Context::run`, so they never mark the run as changed (exit codes 3 vs 4).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, RwLock};

use hascript_api::{Command, Error, ErrorKind, Exec, Ui};

use crate::inventory::{Inventory, TransportKind};
use crate::journal::{Event, LockAction, Purpose, Recorder, RunHeader};

/// The lock folder on every host reached over SSH (and by default on every host).
pub const LOCK_DIR: &str = "/var/tmp/hascript.lock";

/// The holder's description inside it.
pub const OWNER_FILE: &str = "/var/tmp/hascript.lock/owner";

/// The lock folder's name inside the folder that holds it (`/var/tmp` by default).
pub const LOCK_NAME: &str = "hascript.lock";

/// The environment variable that moves the lock of hosts reached with `transport =
/// "local"` (only those) into another folder: the lock is then `$HASCRIPT_LOCK_DIR/hascript.lock`.
/// For tests and for several independent sites on one machine; SSH hosts ignore it.
pub const LOCK_DIR_ENV: &str = "HASCRIPT_LOCK_DIR";

/// How many hosts are locked or released at once outside a fan-out (a procedure's bracket,
/// a takeover, the release at the end).
const PARALLEL: usize = 16;

const MKDIR: &str = "/bin/mkdir";
const CAT: &str = "/bin/cat";
const RM: &str = "/bin/rm";
const DD: &str = "/bin/dd";

/// Who holds a lock.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Owner {
    /// The run id.
    pub run: String,
    /// The user who started it.
    pub user: String,
    /// The machine it runs from.
    pub origin: String,
    /// When it took the lock (UTC, RFC 3339).
    pub since: String,
    /// Its process id on `origin`.
    pub pid: u32,
}

impl Owner {
    /// The owner file's text: one `key=value` line each (values never hold a newline).
    pub fn to_file(&self) -> String {
        let clean = |s: &str| s.replace(['\n', '\r'], " ");
        format!(
            "run={}\nuser={}\norigin={}\nsince={}\npid={}\n",
            clean(&self.run),
            clean(&self.user),
            clean(&self.origin),
            clean(&self.since),
            self.pid
        )
    }

    /// Parse an owner file; `None` when it names no run.
    pub fn parse(text: &str) -> Option<Owner> {
        let kv: BTreeMap<&str, &str> = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim(), v.trim()))
            .collect();
        let run = kv.get("run").filter(|r| !r.is_empty())?;
        Some(Owner {
            run: run.to_string(),
            user: kv.get("user").unwrap_or(&"?").to_string(),
            origin: kv.get("origin").unwrap_or(&"?").to_string(),
            since: kv.get("since").unwrap_or(&"?").to_string(),
            pid: kv.get("pid").and_then(|p| p.parse().ok()).unwrap_or(0),
        })
    }

    /// `run R by USER on ORIGIN (pid P) since T`.
    pub fn describe(&self) -> String {
        format!(
            "run {} by {} on {} (pid {}) since {}",
            self.run, self.user, self.origin, self.pid, self.since
        )
    }
}

/// How this run deals with locks it finds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LockOptions {
    /// `--break-lock`: break a lock held by another run, after confirmation.
    pub break_lock: bool,
    /// `resume`, `unwind`, `--takeover RUN`: the (dead) run whose locks this run takes over
    /// without asking (and those of the runs it continued).
    pub takeover: Option<String>,
    /// The hosts whose lock that run made (its journal says so) — taken over even when it
    /// died before writing the owner file.
    pub takeover_hosts: Vec<String>,
}

/// The lock folder for each host reached with `transport = "local"` whose lock is not the
/// default [`LOCK_DIR`]: the inventory's `lock_dir` for that host, else `env` (the value of
/// [`LOCK_DIR_ENV`]). Hosts reached over SSH (or simulated) are never in the map: their
/// lock stays where every operator looks for it. The folder holds the lock: the lock itself
/// is `<folder>/hascript.lock`.
pub fn lock_dirs(inv: &Inventory, env: Option<&str>) -> Result<BTreeMap<String, PathBuf>, String> {
    let env = env.filter(|v| !v.is_empty());
    let mut out = BTreeMap::new();
    for h in inv
        .hosts
        .iter()
        .filter(|h| h.transport == TransportKind::Local)
    {
        let folder = match (inv.lock_dirs.get(&h.name), env) {
            (Some(d), _) => d.clone(),
            (None, Some(v)) => {
                let p = PathBuf::from(v);
                if !p.is_absolute() || p.to_str().is_none() {
                    return Err(format!(
                        "{LOCK_DIR_ENV}={v:?}: give an absolute folder (the lock of hosts with transport = \"local\" is made in it)"
                    ));
                }
                p
            }
            (None, None) => continue,
        };
        if folder.join(LOCK_NAME).to_str().is_none() {
            return Err(format!(
                "host {}: the lock folder {} is not valid UTF-8; choose another",
                h.name,
                folder.display()
            ));
        }
        out.insert(h.name.clone(), folder.join(LOCK_NAME));
    }
    Ok(out)
}

/// A dead run whose locks `--takeover RUN` may take over (see [`takeover_of`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Takeover {
    /// Its full id.
    pub run: String,
    /// The hosts whose lock its journal says it (or a run it continued) still holds.
    pub hosts: Vec<String>,
}

/// Whether process `pid` exists on this machine (a process of another user counts).
pub(crate) fn pid_alive(pid: u32) -> bool {
    if pid == 0 || pid > i32::MAX as u32 {
        return false;
    }
    // SAFETY: kill with signal 0 sends nothing; it only checks the process exists.
    let rc = unsafe { libc::kill(pid as i32, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

fn header_of(lines: &[Event]) -> Option<&RunHeader> {
    lines.iter().find_map(|l| match l {
        Event::Run(h) => Some(h),
        _ => None,
    })
}

fn has_result(lines: &[Event]) -> bool {
    lines.iter().any(|l| matches!(l, Event::Result { .. }))
}

/// Whether the run with journal `lines` is certainly over: it recorded its result, or it ran
/// on this machine and its process is gone. A run from another machine without a result
/// may still be running there: `Err` says why it cannot be known.
fn dead(id: &str, lines: &[Event]) -> Result<(), String> {
    if has_result(lines) {
        return Ok(());
    }
    let h = header_of(lines).ok_or_else(|| format!("the journal of run {id} has no header"))?;
    let (pid, origin) = (h.pid, h.origin.as_str());
    if origin != crate::journal::origin_host() {
        return Err(format!(
            "run {id} ran on {origin}, not on this machine: hascript cannot check that it is dead; check there, then use --break-lock"
        ));
    }
    if pid_alive(pid) {
        return Err(format!(
            "run {id} is still running (pid {pid} on this machine): its locks are not stale; wait for it, or stop it with Ctrl-C"
        ));
    }
    Ok(())
}

/// Check that run `prefix` (a run id or its beginning, journal in `dir`) is dead and that
/// no live run continues it (a `resume` or `unwind` of it still running), and return the
/// hosts whose lock it left: what `hascript run … --takeover RUN` takes over. Never a live
/// run's: a run without a recorded result counts as dead only when it ran on this machine
/// and its process is gone.
pub fn takeover_of(dir: &Path, prefix: &str) -> Result<Takeover, String> {
    let (id, path) = crate::journal::find(dir, prefix).map_err(|e| {
        format!(
            "--takeover {prefix}: {e}. --takeover takes over the locks of a run of yours that died on this machine (its journal is in {}); for another operator's run, check on its machine that it is dead, then use --break-lock",
            dir.display()
        )
    })?;
    let lines = crate::journal::events(crate::journal::read_events(&path)?);
    dead(&id, &lines).map_err(|e| format!("--takeover {id}: {e}"))?;
    for (other, p) in crate::journal::journal_files(dir)? {
        if other == id {
            continue;
        }
        let Ok(ls) = crate::journal::read_events(&p) else {
            continue;
        };
        let ls = crate::journal::events(ls);
        let Some(h) = header_of(&ls) else { continue };
        let of = |k: &Option<String>| k.as_deref() == Some(id.as_str());
        if (of(&h.resumed_from) || of(&h.unwinds)) && dead(&other, &ls).is_err() {
            return Err(format!(
                "--takeover {id}: run {other} continues it and may still be running: wait for it to end (see `hascript journal show {other}`)"
            ));
        }
    }
    let ancestors = header_of(&lines)
        .map(|h| crate::journal::ancestors(dir, h))
        .unwrap_or_default();
    let mut hosts: Vec<String> = Vec::new();
    for (_, older) in ancestors.iter().rev() {
        hosts = crate::recovery::locked_after(&hosts, older);
    }
    let hosts = crate::recovery::locked_after(&hosts, &lines);
    Ok(Takeover { run: id, hosts })
}

/// Whether the lock holder `o` is a run of this machine that is over (its journal, in this
/// user's journal folder, says it ended or its process is gone): its lock is stale and
/// `--takeover` may take it over.
fn stale_here(o: &Owner) -> bool {
    if o.origin != crate::journal::origin_host() || pid_alive(o.pid) {
        return false;
    }
    let Ok(dir) = crate::journal::runs_dir() else {
        return false;
    };
    match crate::journal::find(&dir, &o.run) {
        Ok((id, p)) if id == o.run => crate::journal::read_events(&p)
            .map(|ls| dead(&id, &crate::journal::events(ls)).is_ok())
            .unwrap_or(false),
        _ => false,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostState {
    /// A thread of this run is taking it (the others for the same host wait).
    Taking,
    /// This run holds the lock.
    Held,
    /// Another run holds it (this run was refused): who, and whether that run is stale.
    Refused(Refusal),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Refusal {
    holder: String,
    /// The lock folder on that host.
    dir: String,
    /// The holder's run id when it is a dead run of this machine (`--takeover` applies).
    stale: Option<String>,
}

/// The locks of one run.
pub struct Locks {
    inner: Arc<dyn Exec>,
    rec: Arc<Recorder>,
    ui: Arc<dyn Ui>,
    opts: LockOptions,
    me: Owner,
    hosts: Mutex<BTreeMap<String, HostState>>,
    /// Signalled whenever a host leaves `Taking`.
    settled: Condvar,
    /// Held while the operator is asked: one question at a time.
    questions: Mutex<()>,
    declined: AtomicBool,
    /// Runs whose lock the operator confirmed breaking: their other locks are taken over
    /// without another question.
    broken: Mutex<Vec<String>>,
    /// The runs the taken-over run continued itself (read from the journals when needed).
    continued: OnceLock<Vec<String>>,
    /// The lock folder of hosts whose lock is not [`LOCK_DIR`] (see [`lock_dirs`]).
    dirs: RwLock<BTreeMap<String, PathBuf>>,
    /// Every host of the site: where a broken run's other locks are looked for when its
    /// journal is not on this machine.
    site_hosts: RwLock<Vec<String>>,
}

/// Run `f` for every host, at most [`PARALLEL`] at once; results in the order of `hosts`
/// (`None` for a worker that panicked).
fn each<T: Send>(hosts: &[String], f: impl Fn(&str) -> T + Sync) -> Vec<Option<T>> {
    if hosts.len() <= 1 {
        return hosts.iter().map(|h| Some(f(h))).collect();
    }
    let results: Mutex<Vec<Option<T>>> = Mutex::new(hosts.iter().map(|_| None).collect());
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..PARALLEL.min(hosts.len()) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(h) = hosts.get(i) else { break };
                let r = f(h);
                results.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(r);
            });
        }
    });
    results.into_inner().unwrap_or_else(|p| p.into_inner())
}

impl Locks {
    /// The locks of run `me`, taken through `inner` (the router, not the journaling
    /// transport), journaled in `rec`; `ui` asks before a lock is broken.
    pub fn new(
        inner: Arc<dyn Exec>,
        rec: Arc<Recorder>,
        ui: Arc<dyn Ui>,
        opts: LockOptions,
        me: Owner,
    ) -> Self {
        Locks {
            inner,
            rec,
            ui,
            opts,
            me,
            hosts: Mutex::new(BTreeMap::new()),
            settled: Condvar::new(),
            questions: Mutex::new(()),
            declined: AtomicBool::new(false),
            broken: Mutex::new(Vec::new()),
            continued: OnceLock::new(),
            dirs: RwLock::new(BTreeMap::new()),
            site_hosts: RwLock::new(Vec::new()),
        }
    }

    /// Where the lock of some hosts is (see [`lock_dirs`]); the others keep [`LOCK_DIR`].
    /// Set before the first change.
    pub fn set_lock_dirs(&self, dirs: BTreeMap<String, PathBuf>) {
        *self.dirs.write().unwrap_or_else(|p| p.into_inner()) = dirs;
    }

    /// Every host of the site (where `--break-lock` looks for the other locks of a run whose
    /// journal is not on this machine).
    pub fn set_site_hosts(&self, hosts: Vec<String>) {
        *self.site_hosts.write().unwrap_or_else(|p| p.into_inner()) = hosts;
    }

    /// `host`'s lock folder and owner file.
    pub fn paths(&self, host: &str) -> (String, String) {
        let dirs = self.dirs.read().unwrap_or_else(|p| p.into_inner());
        match dirs.get(host).and_then(|d| d.to_str()) {
            Some(d) => (d.to_string(), format!("{d}/owner")),
            None => (LOCK_DIR.to_string(), OWNER_FILE.to_string()),
        }
    }

    fn table(&self) -> MutexGuard<'_, BTreeMap<String, HostState>> {
        self.hosts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The runs the run this one takes over had continued (a resume of a resume that died
    /// half-way through taking over the first run's locks): their locks are taken over too.
    fn continued(&self) -> &[String] {
        self.continued
            .get_or_init(|| match (&self.opts.takeover, crate::journal::runs_dir()) {
                (Some(id), Ok(dir)) => crate::journal::lineage(&dir, id),
                _ => Vec::new(),
            })
    }

    /// Hosts this run holds the lock of.
    pub fn held(&self) -> Vec<String> {
        self.table()
            .iter()
            .filter(|(_, s)| **s == HostState::Held)
            .map(|(h, _)| h.clone())
            .collect()
    }

    /// Hosts whose lock another run holds (this run was refused there), with the holder
    /// (and, for a dead run of this machine, how to take its locks over).
    pub fn refused(&self) -> Vec<(String, String)> {
        self.table()
            .iter()
            .filter_map(|(h, s)| match s {
                HostState::Refused(r) => Some((
                    h.clone(),
                    match &r.stale {
                        Some(run) => format!(
                            "{}, which is no longer running: take its locks over with --takeover {run}",
                            r.holder
                        ),
                        None => r.holder.clone(),
                    },
                )),
                _ => None,
            })
            .collect()
    }

    /// Whether the operator declined to break a lock (or nobody could answer).
    pub fn declined(&self) -> bool {
        self.declined.load(Ordering::SeqCst)
    }

    fn run(&self, cmd: &Command) -> Result<hascript_api::Output, Error> {
        self.rec.exec(self.inner.as_ref(), cmd, Purpose::Lock)
    }

    fn event(
        &self,
        host: &str,
        action: LockAction,
        holder: Option<String>,
        detail: Option<String>,
    ) {
        self.rec.note(&Event::Lock {
            host: host.into(),
            action,
            holder,
            detail,
        });
    }

    /// Make sure this run holds `host`'s lock before a change is sent there. `changed`:
    /// whether this run has already changed something (a refusal is then "needs attention"
    /// rather than a failed precondition). Another host's lock is taken at the same time by
    /// another thread; the same host's waits for the first.
    pub fn ensure(&self, host: &str, changed: bool) -> Result<(), Error> {
        let mut table = self.table();
        loop {
            match table.get(host) {
                Some(HostState::Held) => return Ok(()),
                Some(HostState::Refused(r)) => return Err(refusal(host, r, changed)),
                Some(HostState::Taking) => {
                    table = self.settled.wait(table).unwrap_or_else(|p| p.into_inner());
                }
                None => break,
            }
        }
        if self.declined() {
            return Err(stopped(host));
        }
        table.insert(host.to_string(), HostState::Taking);
        drop(table);
        let r = self.acquire(host);
        let mut table = self.table();
        let out = match r {
            Ok(()) => {
                table.insert(host.to_string(), HostState::Held);
                Ok(())
            }
            Err(Acquire::HeldBy(r)) => {
                self.event(host, LockAction::Refused, Some(r.holder.clone()), None);
                let e = refusal(host, &r, changed);
                table.insert(host.to_string(), HostState::Refused(r));
                Err(e)
            }
            Err(Acquire::Declined(e)) | Err(Acquire::Failed(e)) => {
                table.remove(host);
                Err(e)
            }
        };
        drop(table);
        self.settled.notify_all();
        out
    }

    /// [`Locks::ensure`] for every host of `hosts` at once (a procedure's bracket, a
    /// takeover); the first error in the order of `hosts`.
    pub fn ensure_all(&self, hosts: &[String], changed: bool) -> Result<(), Error> {
        let mut uniq: Vec<String> = Vec::new();
        for h in hosts {
            if !uniq.contains(h) {
                uniq.push(h.clone());
            }
        }
        each(&uniq, |h| self.ensure(h, changed))
            .into_iter()
            .zip(&uniq)
            .map(|(r, h)| {
                r.unwrap_or_else(|| {
                    Err(Error::new(
                        ErrorKind::Failed,
                        format!("taking the hascript lock on {h} failed (internal error)"),
                    )
                    .on_host(h))
                })
            })
            .find(Result::is_err)
            .unwrap_or(Ok(()))
    }

    /// A continued run's takeover of the locks its dead run left on `hosts`, all at once:
    /// the hosts that cannot be reached now (a transport error: a guest the dead run
    /// halted), each with its error — their lock is taken over when the run first reaches
    /// them ([`Locks::ensure`] retries) — and the first other error (a lock held by
    /// another run), in the order of `hosts`.
    pub fn take_over_all(&self, hosts: &[String]) -> (Vec<(String, Error)>, Result<(), Error>) {
        let mut uniq: Vec<String> = Vec::new();
        for h in hosts {
            if !uniq.contains(h) {
                uniq.push(h.clone());
            }
        }
        let mut unreachable = Vec::new();
        let mut first = Ok(());
        for (r, h) in each(&uniq, |h| self.ensure(h, false))
            .into_iter()
            .zip(&uniq)
        {
            match r {
                Some(Ok(())) => {}
                Some(Err(e)) if e.kind == ErrorKind::Transport => unreachable.push((h.clone(), e)),
                Some(Err(e)) => {
                    if first.is_ok() {
                        first = Err(e);
                    }
                }
                None => {
                    if first.is_ok() {
                        first = Err(Error::new(
                            ErrorKind::Failed,
                            format!("taking the hascript lock on {h} failed (internal error)"),
                        )
                        .on_host(h));
                    }
                }
            }
        }
        (unreachable, first)
    }

    fn mkdir(&self, host: &str) -> Result<MkdirResult, Error> {
        let (dir, _) = self.paths(host);
        let out = self.run(&Command::change(host, &[MKDIR, "-m", "700", &dir]))?;
        if out.success() {
            return Ok(MkdirResult::Made);
        }
        if out.stderr.contains("exists") {
            return Ok(MkdirResult::Exists);
        }
        Err(Error::new(
            ErrorKind::Check,
            format!(
                "cannot take the hascript lock on {host}: mkdir {dir} failed: {}",
                out.stderr.trim()
            ),
        )
        .on_host(host)
        .with_exit(out.code()))
    }

    fn write_owner(&self, host: &str) -> Result<(), Error> {
        let (_, owner) = self.paths(host);
        let cmd = Command::change(host, &[DD, &format!("of={owner}")])
            .with_stdin(self.me.to_file().into_bytes());
        let out = self.run(&cmd)?;
        if out.success() {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::Check,
                format!("cannot write {owner} on {host}: {}", out.stderr.trim()),
            )
            .on_host(host))
        }
    }

    /// The holder of `host`'s lock as written in its owner file.
    fn holder(&self, host: &str) -> Result<Option<Owner>, Error> {
        let (_, owner) = self.paths(host);
        let out = self.run(&Command::read(host, &[CAT, &owner]))?;
        Ok(if out.success() {
            Owner::parse(&out.stdout)
        } else {
            None
        })
    }

    fn is_broken(&self, run: &str) -> bool {
        self.broken
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .any(|b| b == run)
    }

    /// Whether a lock held by run `m` is this run's to take over without a question: this
    /// run's own, the run it continues (or one that run continued), or a run whose lock the
    /// operator confirmed breaking.
    fn ours(&self, m: &str) -> bool {
        Some(m) == self.opts.takeover.as_deref()
            || m == self.me.run
            || (self.opts.takeover.is_some() && self.continued().iter().any(|c| c == m))
            || self.is_broken(m)
    }

    fn acquire(&self, host: &str) -> Result<(), Acquire> {
        let (dir, owner_file) = self.paths(host);
        if let MkdirResult::Made = self.mkdir(host).map_err(Acquire::Failed)? {
            self.write_owner(host).map_err(Acquire::Failed)?;
            self.event(host, LockAction::Taken, Some(self.me.describe()), None);
            return Ok(());
        }
        let holder = self.holder(host).map_err(Acquire::Failed)?;
        let described = match &holder {
            Some(o) => o.describe(),
            None => format!("unknown holder ({owner_file} is missing or unreadable)"),
        };
        // Our own lock (a resumed run, or a run it continued): take it over.
        let mine = holder.as_ref().map(|o| o.run.as_str());
        let orphan_of_dead_run = holder.is_none()
            && self.opts.takeover.is_some()
            && self.opts.takeover_hosts.iter().any(|h| h == host);
        if orphan_of_dead_run || mine.is_some_and(|m| self.ours(m)) {
            self.write_owner(host).map_err(Acquire::Failed)?;
            self.event(host, LockAction::TakenOver, Some(described), None);
            return Ok(());
        }
        let stale = holder
            .as_ref()
            .filter(|o| stale_here(o))
            .map(|o| o.run.clone());
        if !self.opts.break_lock {
            return Err(Acquire::HeldBy(Refusal {
                holder: described,
                dir,
                stale,
            }));
        }
        {
            // One question at a time; after a "no", no other lock is broken.
            let _asking = self.questions.lock().unwrap_or_else(|p| p.into_inner());
            if self.declined() {
                return Err(Acquire::Declined(stopped(host)));
            }
            // Another thread may have had this run's break confirmed meanwhile.
            if !mine.is_some_and(|m| self.is_broken(m)) {
                let why = if stale.is_some() {
                    "That run is no longer running (its journal here says it ended or its process is gone)"
                } else {
                    "Only if that run is dead (check on its machine)"
                };
                let q = format!(
                    "{host} is locked by {described}. Break this lock? {why}; every other lock of that run is then taken over by this run and released at its end"
                );
                let no = |e: Error| {
                    self.declined.store(true, Ordering::SeqCst);
                    Err(Acquire::Declined(e))
                };
                match self.ui.confirm(&q) {
                    Ok(true) => {}
                    Ok(false) => {
                        return no(Error::new(
                            ErrorKind::Declined,
                            format!("declined: the lock on {host} ({described}) was not broken"),
                        )
                        .on_host(host))
                    }
                    Err(e) => return no(e),
                }
                if let Some(m) = mine {
                    self.broken
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(m.to_string());
                }
            }
        }
        let out = self
            .run(&Command::change(host, &[RM, "-r", &dir]))
            .map_err(Acquire::Failed)?;
        if !out.success() {
            return Err(Acquire::Failed(
                Error::new(
                    ErrorKind::Check,
                    format!(
                        "cannot break the lock on {host}: rm -r {dir}: {}",
                        out.stderr.trim()
                    ),
                )
                .on_host(host),
            ));
        }
        self.event(host, LockAction::Broken, Some(described), None);
        // Another run may have been quicker: mkdir decides again.
        match self.mkdir(host).map_err(Acquire::Failed)? {
            MkdirResult::Made => {
                self.write_owner(host).map_err(Acquire::Failed)?;
                self.event(host, LockAction::Taken, Some(self.me.describe()), None);
            }
            MkdirResult::Exists => {
                let h = self.holder(host).map_err(Acquire::Failed)?;
                return Err(Acquire::HeldBy(Refusal {
                    holder: h
                        .map(|o| o.describe())
                        .unwrap_or_else(|| "another run that was quicker".into()),
                    dir,
                    stale: None,
                }));
            }
        }
        // The rest of the broken run's locks: taken over now, released at this run's end.
        if let Some(run) = mine {
            self.take_over_rest(run, host);
        }
        Ok(())
    }

    /// After run `run`'s lock on `broken_on` was broken: take over its locks on the other
    /// hosts — those its journal names when it is on this machine, else every host of the
    /// site — where the owner file still names it.
    fn take_over_rest(&self, run: &str, broken_on: &str) {
        let from_journal = crate::journal::runs_dir().ok().and_then(|dir| {
            let (id, path) = crate::journal::find(&dir, run).ok()?;
            let lines = crate::journal::events(crate::journal::read_events(&path).ok()?);
            (id == run).then(|| crate::recovery::locked_hosts(&lines))
        });
        let candidates: Vec<String> = from_journal
            .unwrap_or_else(|| {
                self.site_hosts
                    .read()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone()
            })
            .into_iter()
            .filter(|h| h != broken_on)
            .collect();
        each(&candidates, |h| self.adopt(h, run, broken_on));
    }

    /// Take over `host`'s lock if run `run` holds it (nothing when it is free or another
    /// run's); a host that cannot be checked is named in a warning.
    fn adopt(&self, host: &str, run: &str, broken_on: &str) {
        {
            let mut table = self.table();
            if table.contains_key(host) {
                // Held already, or being taken by another thread (which takes it over:
                // the run is in `broken` now).
                return;
            }
            table.insert(host.to_string(), HostState::Taking);
        }
        let r = self.holder(host).and_then(|h| match h {
            Some(o) if o.run == run => {
                self.write_owner(host)?;
                self.event(
                    host,
                    LockAction::TakenOver,
                    Some(o.describe()),
                    Some(format!(
                        "the lock of run {run}, whose lock on {broken_on} was broken (--break-lock)"
                    )),
                );
                Ok(true)
            }
            _ => Ok(false),
        });
        let mut table = self.table();
        match r {
            Ok(true) => {
                table.insert(host.to_string(), HostState::Held);
            }
            Ok(false) => {
                table.remove(host);
            }
            Err(e) => {
                table.remove(host);
                drop(table);
                self.ui.warn(&format!(
                    "could not check {host} for a lock of run {run} (its lock on {broken_on} was broken): {}; look at {} there",
                    e.message,
                    self.paths(host).0
                ));
            }
        }
        self.settled.notify_all();
    }

    /// Release every lock this run holds (only where the owner file still names this run),
    /// all hosts at once. Returns the hosts whose lock could not be released, with why.
    pub fn release_all(&self) -> Vec<(String, String)> {
        let held = self.held();
        let results = each(&held, |host| {
            let r = self.release(host);
            match &r {
                Ok(()) => self.event(host, LockAction::Released, None, None),
                Err(why) => self.event(host, LockAction::ReleaseFailed, None, Some(why.clone())),
            }
            r
        });
        let mut table = self.table();
        let mut failed = Vec::new();
        for (host, r) in held.into_iter().zip(results) {
            table.remove(&host);
            match r {
                Some(Ok(())) => {}
                Some(Err(why)) => failed.push((host, why)),
                None => failed.push((host, "internal error while releasing it".to_string())),
            }
        }
        failed
    }

    fn release(&self, host: &str) -> Result<(), String> {
        let (dir, owner_file) = self.paths(host);
        let holder = self.holder(host).map_err(|e| e.message)?;
        match holder {
            Some(o) if o.run == self.me.run => {}
            Some(o) => {
                return Err(format!(
                    "the lock is now held by {} (broken by another run?); left in place",
                    o.describe()
                ))
            }
            None => {
                return Err(format!(
                    "{owner_file} is gone; the lock folder (if any) is left in place"
                ))
            }
        }
        let out = self
            .run(&Command::change(host, &[RM, "-r", &dir]))
            .map_err(|e| e.message)?;
        if out.success() {
            Ok(())
        } else {
            Err(format!("rm -r {dir} failed: {}", out.stderr.trim()))
        }
    }
}

enum MkdirResult {
    Made,
    Exists,
}

enum Acquire {
    HeldBy(Refusal),
    Declined(Error),
    Failed(Error),
}

/// After the operator declined to break a lock: no further lock is taken.
fn stopped(host: &str) -> Error {
    Error::new(
        ErrorKind::Declined,
        format!(
            "not locked: the operator declined to break a lock, so this run takes no further lock; nothing was sent to {host}"
        ),
    )
    .on_host(host)
}

fn refusal(host: &str, r: &Refusal, changed: bool) -> Error {
    let (kind, what) = if changed {
        (
            ErrorKind::NeedsAttention,
            "this run had already changed other hosts; what it left is in its journal",
        )
    } else {
        (ErrorKind::Check, "nothing was changed")
    };
    let holder = &r.holder;
    let msg = match &r.stale {
        Some(run) => format!(
            "{host} is locked by {holder}, which is no longer running (its journal says it ended or its process is gone): the lock is stale; {what}. If you are finishing its work, continue it with `hascript unwind {run}` (or `hascript resume {run}`), or re-run this command with --takeover {run}: this run then takes over every lock run {run} left and releases them at its end"
        ),
        None => format!(
            "{host} is locked by {holder}: another hascript run is changing this cluster; {what}. Wait for that run to end; if it is dead (check on its machine), re-run with --break-lock (the lock is {} on {host})",
            r.dir
        ),
    };
    Error::new(kind, msg).on_host(host)
}

/// The journaling transport asks the locks before every change.
impl crate::journal::ChangeGate for Locks {
    fn ensure(&self, host: &str, changed: bool) -> Result<(), Error> {
        Locks::ensure(self, host, changed)
    }
    fn ensure_all(&self, hosts: &[String], changed: bool) -> Result<(), Error> {
        Locks::ensure_all(self, hosts, changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hascript_api::Output;

    #[test]
    fn owner_file_round_trips_and_rejects_garbage() {
        let o = Owner {
            run: "20260728T172600Z-3f9a1c".into(),
            user: "ops\nevil=1".into(),
            origin: "admin1".into(),
            since: "2026-07-28T17:26:00.000Z".into(),
            pid: 42,
        };
        let text = o.to_file();
        assert_eq!(text.lines().count(), 5, "{text}");
        let back = Owner::parse(&text).unwrap_or_default();
        assert_eq!(back.run, o.run);
        assert_eq!(back.user, "ops evil=1");
        assert_eq!(back.pid, 42);
        assert!(back
            .describe()
            .contains("by ops evil=1 on admin1 (pid 42) since 2026-07-28"));
        assert_eq!(Owner::parse("garbage\n"), None);
        assert_eq!(Owner::parse("run=\n"), None);
    }

    /// A host whose lock folder is made by the first mkdir only.
    struct OneHost {
        exists: Mutex<bool>,
        owner: Mutex<String>,
        log: Mutex<Vec<String>>,
    }
    impl Exec for OneHost {
        fn exec(&self, cmd: &Command) -> Result<Output, Error> {
            let line = cmd.display();
            self.log
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(line.clone());
            let mut exists = self.exists.lock().unwrap_or_else(|p| p.into_inner());
            if line.starts_with(MKDIR) {
                if *exists {
                    return Ok(Output::new(2, "", "mkdir: cannot create x: File exists\n"));
                }
                *exists = true;
                return Ok(Output::new(0, "", ""));
            }
            if line.starts_with(DD) {
                *self.owner.lock().unwrap_or_else(|p| p.into_inner()) =
                    String::from_utf8_lossy(cmd.stdin.as_deref().unwrap_or_default()).into_owned();
                return Ok(Output::new(0, "", "0+1 records in\n"));
            }
            if line.starts_with(CAT) {
                return Ok(if *exists {
                    Output::new(
                        0,
                        self.owner.lock().unwrap_or_else(|p| p.into_inner()).clone(),
                        "",
                    )
                } else {
                    Output::new(2, "", "cat: cannot open\n")
                });
            }
            if line.starts_with(RM) {
                *exists = false;
                return Ok(Output::new(0, "", ""));
            }
            Ok(Output::new(0, "", ""))
        }
    }

    /// A host whose lock folder exists, its owner file naming run `run`.
    fn locked_by(run: &str) -> Arc<OneHost> {
        Arc::new(OneHost {
            exists: Mutex::new(true),
            owner: Mutex::new(me(run).to_file()),
            log: Mutex::new(Vec::new()),
        })
    }

    fn me(run: &str) -> Owner {
        Owner {
            run: run.into(),
            user: "ops".into(),
            origin: "admin1".into(),
            since: "t".into(),
            pid: 1,
        }
    }

    #[test]
    fn first_run_locks_second_is_refused_and_release_frees_it() {
        let host = Arc::new(OneHost {
            exists: Mutex::new(false),
            owner: Mutex::new(String::new()),
            log: Mutex::new(Vec::new()),
        });
        let rec = Arc::new(Recorder::without_file("r1", Vec::new()));
        let ui: Arc<dyn Ui> = Arc::new(hascript_testkit::Recorder::new(None));
        let a = Locks::new(
            host.clone(),
            rec.clone(),
            ui.clone(),
            LockOptions::default(),
            me("r1"),
        );
        let b = Locks::new(
            host.clone(),
            rec.clone(),
            ui.clone(),
            LockOptions::default(),
            me("r2"),
        );
        assert!(a.ensure("cd1", false).is_ok());
        assert!(a.ensure("cd1", false).is_ok(), "held: no second mkdir");
        let e = b.ensure("cd1", false).err();
        let e = e.map(|e| (e.kind, e.message.contains("run r1 by ops on admin1")));
        assert_eq!(e, Some((ErrorKind::Check, true)));
        let e = b.ensure("cd1", true).err().map(|e| e.kind);
        assert_eq!(e, Some(ErrorKind::NeedsAttention));
        // Lock bookkeeping never counts as a change.
        assert_eq!(rec.changes(), 0);
        // b cannot release a's lock; a can.
        assert!(
            b.release_all().is_empty() && *host.exists.lock().unwrap_or_else(|p| p.into_inner())
        );
        assert!(a.release_all().is_empty());
        assert!(!*host.exists.lock().unwrap_or_else(|p| p.into_inner()));
        let mkdirs = host
            .log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|l| l.starts_with(MKDIR))
            .count();
        assert_eq!(mkdirs, 2);
    }

    /// `host` refuses connections while `down` is set (a guest the dead run halted).
    struct Reachable {
        host: Arc<OneHost>,
        down: std::sync::atomic::AtomicBool,
    }
    impl Exec for Reachable {
        fn exec(&self, cmd: &Command) -> Result<Output, Error> {
            if self.down.load(Ordering::SeqCst) && cmd.host == "g1" {
                return Err(
                    Error::new(ErrorKind::Transport, "g1: Connection refused").on_host("g1")
                );
            }
            self.host.exec(cmd)
        }
    }

    #[test]
    fn a_takeover_defers_a_host_it_cannot_reach_and_takes_it_over_on_first_contact() {
        let host = locked_by("dead");
        let exec = Arc::new(Reachable {
            host: host.clone(),
            down: std::sync::atomic::AtomicBool::new(true),
        });
        let rec = Arc::new(Recorder::without_file("r5", Vec::new()));
        let ui: Arc<dyn Ui> = Arc::new(hascript_testkit::Recorder::new(None));
        let opts = LockOptions {
            break_lock: false,
            takeover: Some("dead".into()),
            takeover_hosts: Vec::new(),
        };
        let l = Locks::new(exec.clone(), rec, ui, opts, me("r5"));
        let (unreachable, taken) = l.take_over_all(&["cd1".to_string(), "g1".to_string()]);
        assert!(taken.is_ok(), "{taken:?}");
        assert_eq!(
            unreachable
                .iter()
                .map(|(h, e)| (h.as_str(), e.kind))
                .collect::<Vec<_>>(),
            [("g1", ErrorKind::Transport)]
        );
        assert!(
            host.owner
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains("run=r5"),
            "cd1 taken over"
        );
        // Back up: the first contact takes g1's lock over from the dead run.
        exec.down.store(false, Ordering::SeqCst);
        assert!(l.ensure("g1", true).is_ok());
        // A lock held by another (live) run is not "unreachable": the takeover refuses.
        let other = locked_by("someone-else");
        let rec = Arc::new(Recorder::without_file("r6", Vec::new()));
        let ui: Arc<dyn Ui> = Arc::new(hascript_testkit::Recorder::new(None));
        let opts = LockOptions {
            break_lock: false,
            takeover: Some("dead".into()),
            takeover_hosts: Vec::new(),
        };
        let l = Locks::new(other, rec, ui, opts, me("r6"));
        let (unreachable, taken) = l.take_over_all(&["cd1".to_string()]);
        assert!(unreachable.is_empty());
        assert!(taken.is_err());
    }

    #[test]
    fn break_needs_an_answer_and_takeover_needs_none() {
        let host = locked_by("dead");
        let rec = Arc::new(Recorder::without_file("r3", Vec::new()));
        let nobody: Arc<dyn Ui> = Arc::new(hascript_testkit::Recorder::new(None));
        let brk = LockOptions {
            break_lock: true,
            takeover: None,
            takeover_hosts: Vec::new(),
        };
        let l = Locks::new(host.clone(), rec.clone(), nobody, brk.clone(), me("r3"));
        assert_eq!(
            l.ensure("cd1", false).err().map(|e| e.kind),
            Some(ErrorKind::Declined)
        );
        let no: Arc<dyn Ui> = Arc::new(hascript_testkit::Recorder::new(Some(false)));
        let l = Locks::new(host.clone(), rec.clone(), no, brk.clone(), me("r3"));
        assert_eq!(
            l.ensure("cd1", false).err().map(|e| e.kind),
            Some(ErrorKind::Declined)
        );
        let yes: Arc<dyn Ui> = Arc::new(hascript_testkit::Recorder::new(Some(true)));
        let l = Locks::new(host.clone(), rec.clone(), yes.clone(), brk, me("r3"));
        assert!(l.ensure("cd1", false).is_ok());
        assert!(host
            .owner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains("run=r3"));
        // A resume of r3 takes r3's (stale) lock over without a question.
        let nobody: Arc<dyn Ui> = Arc::new(hascript_testkit::Recorder::new(None));
        let resume = LockOptions {
            break_lock: false,
            takeover: Some("r3".into()),
            takeover_hosts: Vec::new(),
        };
        let r = Locks::new(host.clone(), rec.clone(), nobody, resume, me("r4"));
        assert!(r.ensure("cd1", false).is_ok());
        assert!(host
            .owner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains("run=r4"));
        // r4 died between mkdir and the owner file: a resume of r4 takes the owner-less lock
        // over only on the hosts r4's journal shows it made the lock on.
        *host.owner.lock().unwrap_or_else(|p| p.into_inner()) = String::new();
        let nobody: Arc<dyn Ui> = Arc::new(hascript_testkit::Recorder::new(None));
        let unlisted = LockOptions {
            break_lock: false,
            takeover: Some("r4".into()),
            takeover_hosts: Vec::new(),
        };
        let r = Locks::new(
            host.clone(),
            rec.clone(),
            nobody.clone(),
            unlisted,
            me("r5"),
        );
        assert_eq!(
            r.ensure("cd1", false).err().map(|e| e.kind),
            Some(ErrorKind::Check)
        );
        let listed = LockOptions {
            break_lock: false,
            takeover: Some("r4".into()),
            takeover_hosts: vec!["cd1".into()],
        };
        let r = Locks::new(host.clone(), rec, nobody, listed, me("r5"));
        assert!(r.ensure("cd1", false).is_ok());
        assert!(host
            .owner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains("run=r5"));
    }

    #[test]
    fn a_resume_of_a_resume_takes_over_the_locks_of_the_runs_it_continued() {
        // r1 died holding the lock; r2 (its resume) died before it took that host over; r3
        // resumes r2: the lock still names r1.
        let host = locked_by("r1");
        let rec = Arc::new(Recorder::without_file("r3", Vec::new()));
        let nobody: Arc<dyn Ui> = Arc::new(hascript_testkit::Recorder::new(None));
        let opts = LockOptions {
            break_lock: false,
            takeover: Some("r2".into()),
            takeover_hosts: vec!["cd1".into()],
        };
        let strangers = Locks::new(
            host.clone(),
            rec.clone(),
            nobody.clone(),
            opts.clone(),
            me("r3"),
        );
        let _ = strangers.continued.set(vec!["r0".into()]);
        assert_eq!(
            strangers.ensure("cd1", false).err().map(|e| e.kind),
            Some(ErrorKind::Check),
            "a run outside the chain keeps its lock"
        );
        let l = Locks::new(host.clone(), rec, nobody, opts, me("r3"));
        let _ = l.continued.set(vec!["r1".into()]);
        assert!(l.ensure("cd1", false).is_ok());
        assert!(host
            .owner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains("run=r3"));
    }
}
