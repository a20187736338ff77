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
//! are stale. `--break-lock` breaks one after the operator confirms (`--yes` answers); a
//! later `resume` of the same run takes its own locks over without asking
//! ([`LockOptions::takeover`]).
//!
//! The lock's own commands are journaled (purpose `lock`) but are bookkeeping: they do not
//! go through `Context::run`, so they never mark the run as changed (exit codes 3 vs 4).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use hascript_api::{Command, Error, ErrorKind, Exec, Ui};

use crate::journal::{Event, LockAction, Purpose, Recorder};

/// The lock folder on every host.
pub const LOCK_DIR: &str = "/var/tmp/hascript.lock";

/// The holder's description inside it.
pub const OWNER_FILE: &str = "/var/tmp/hascript.lock/owner";

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
    /// `resume`: the run id whose locks this run may take over without asking.
    pub takeover: Option<String>,
    /// `resume`: the hosts whose lock that run made (its journal says so) — taken over even
    /// when it died before writing the owner file.
    pub takeover_hosts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostState {
    /// This run holds the lock.
    Held,
    /// Another run holds it (this run was refused).
    Refused(String),
}

/// The locks of one run.
pub struct Locks {
    inner: Arc<dyn Exec>,
    rec: Arc<Recorder>,
    ui: Arc<dyn Ui>,
    opts: LockOptions,
    me: Owner,
    hosts: Mutex<BTreeMap<String, HostState>>,
    declined: std::sync::atomic::AtomicBool,
    /// The runs the taken-over run continued itself (read from the journals when needed).
    continued: std::sync::OnceLock<Vec<String>>,
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
            declined: std::sync::atomic::AtomicBool::new(false),
            continued: std::sync::OnceLock::new(),
        }
    }

    /// The runs the run this one takes over had continued (a resume of a resume that died
    /// half-way through taking over the first run's locks): their locks are taken over too.
    fn continued(&self) -> &[String] {
        self.continued
            .get_or_init(|| match (&self.opts.takeover, crate::journal::runs_dir()) {
                (Some(id), Ok(dir)) => crate::resume::lineage(&dir, id),
                _ => Vec::new(),
            })
    }

    /// Hosts this run holds the lock of.
    pub fn held(&self) -> Vec<String> {
        self.hosts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(_, s)| **s == HostState::Held)
            .map(|(h, _)| h.clone())
            .collect()
    }

    /// Hosts whose lock another run holds (this run was refused there), with the holder.
    pub fn refused(&self) -> Vec<(String, String)> {
        self.hosts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter_map(|(h, s)| match s {
                HostState::Refused(holder) => Some((h.clone(), holder.clone())),
                HostState::Held => None,
            })
            .collect()
    }

    /// Whether the operator declined to break a lock (or nobody could answer).
    pub fn declined(&self) -> bool {
        self.declined.load(std::sync::atomic::Ordering::SeqCst)
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
    /// rather than a failed precondition).
    pub fn ensure(&self, host: &str, changed: bool) -> Result<(), Error> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        match hosts.get(host) {
            Some(HostState::Held) => return Ok(()),
            Some(HostState::Refused(m)) => return Err(refusal(host, m, changed)),
            None => {}
        }
        match self.acquire(host) {
            Ok(()) => {
                hosts.insert(host.to_string(), HostState::Held);
                Ok(())
            }
            Err(Acquire::HeldBy(holder)) => {
                self.event(host, LockAction::Refused, Some(holder.clone()), None);
                hosts.insert(host.to_string(), HostState::Refused(holder.clone()));
                Err(refusal(host, &holder, changed))
            }
            Err(Acquire::Declined(e)) => {
                self.declined
                    .store(true, std::sync::atomic::Ordering::SeqCst);
                Err(e)
            }
            Err(Acquire::Failed(e)) => Err(e),
        }
    }

    fn mkdir(&self, host: &str) -> Result<MkdirResult, Error> {
        let out = self.run(&Command::change(host, &[MKDIR, "-m", "700", LOCK_DIR]))?;
        if out.success() {
            return Ok(MkdirResult::Made);
        }
        if out.stderr.contains("exists") {
            return Ok(MkdirResult::Exists);
        }
        Err(Error::new(
            ErrorKind::Check,
            format!(
                "cannot take the hascript lock on {host}: mkdir {LOCK_DIR} failed: {}",
                out.stderr.trim()
            ),
        )
        .on_host(host)
        .with_exit(out.code()))
    }

    fn write_owner(&self, host: &str) -> Result<(), Error> {
        let cmd = Command::change(host, &[DD, &format!("of={OWNER_FILE}")])
            .with_stdin(self.me.to_file().into_bytes());
        let out = self.run(&cmd)?;
        if out.success() {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::Check,
                format!("cannot write {OWNER_FILE} on {host}: {}", out.stderr.trim()),
            )
            .on_host(host))
        }
    }

    /// The holder of `host`'s lock as written in its owner file.
    fn holder(&self, host: &str) -> Result<Option<Owner>, Error> {
        let out = self.run(&Command::read(host, &[CAT, OWNER_FILE]))?;
        Ok(if out.success() {
            Owner::parse(&out.stdout)
        } else {
            None
        })
    }

    fn acquire(&self, host: &str) -> Result<(), Acquire> {
        if let MkdirResult::Made = self.mkdir(host).map_err(Acquire::Failed)? {
            self.write_owner(host).map_err(Acquire::Failed)?;
            self.event(host, LockAction::Taken, Some(self.me.describe()), None);
            return Ok(());
        }
        let holder = self.holder(host).map_err(Acquire::Failed)?;
        let described = match &holder {
            Some(o) => o.describe(),
            None => format!("unknown holder ({OWNER_FILE} is missing or unreadable)"),
        };
        // Our own lock (a resumed run, or a run it continued): take it over.
        let mine = holder.as_ref().map(|o| o.run.as_str());
        let orphan_of_dead_run = holder.is_none()
            && self.opts.takeover.is_some()
            && self.opts.takeover_hosts.iter().any(|h| h == host);
        let ours = mine.is_some_and(|m| {
            Some(m) == self.opts.takeover.as_deref()
                || m == self.me.run
                || (self.opts.takeover.is_some() && self.continued().iter().any(|c| c == m))
        });
        if orphan_of_dead_run || ours {
            self.write_owner(host).map_err(Acquire::Failed)?;
            self.event(host, LockAction::TakenOver, Some(described), None);
            return Ok(());
        }
        if !self.opts.break_lock {
            return Err(Acquire::HeldBy(described));
        }
        let q = format!(
            "{host} is locked by {described}. Break this lock? Only if that run is dead (check on its machine)"
        );
        match self.ui.confirm(&q) {
            Ok(true) => {}
            Ok(false) => {
                return Err(Acquire::Declined(
                    Error::new(
                        ErrorKind::Declined,
                        format!("declined: the lock on {host} ({described}) was not broken"),
                    )
                    .on_host(host),
                ))
            }
            Err(e) => return Err(Acquire::Declined(e)),
        }
        let out = self
            .run(&Command::change(host, &[RM, "-r", LOCK_DIR]))
            .map_err(Acquire::Failed)?;
        if !out.success() {
            return Err(Acquire::Failed(
                Error::new(
                    ErrorKind::Check,
                    format!(
                        "cannot break the lock on {host}: rm -r {LOCK_DIR}: {}",
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
                Ok(())
            }
            MkdirResult::Exists => {
                let h = self.holder(host).map_err(Acquire::Failed)?;
                Err(Acquire::HeldBy(
                    h.map(|o| o.describe())
                        .unwrap_or_else(|| "another run that was quicker".into()),
                ))
            }
        }
    }

    /// Release every lock this run holds (only where the owner file still names this run).
    /// Returns the hosts whose lock could not be released, with why.
    pub fn release_all(&self) -> Vec<(String, String)> {
        let mut failed = Vec::new();
        for host in self.held() {
            match self.release(&host) {
                Ok(()) => self.event(&host, LockAction::Released, None, None),
                Err(why) => {
                    self.event(&host, LockAction::ReleaseFailed, None, Some(why.clone()));
                    failed.push((host.clone(), why));
                }
            }
            self.hosts
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&host);
        }
        failed
    }

    fn release(&self, host: &str) -> Result<(), String> {
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
                    "{OWNER_FILE} is gone; the lock folder (if any) is left in place"
                ))
            }
        }
        let out = self
            .run(&Command::change(host, &[RM, "-r", LOCK_DIR]))
            .map_err(|e| e.message)?;
        if out.success() {
            Ok(())
        } else {
            Err(format!("rm -r {LOCK_DIR} failed: {}", out.stderr.trim()))
        }
    }
}

enum MkdirResult {
    Made,
    Exists,
}

enum Acquire {
    HeldBy(String),
    Declined(Error),
    Failed(Error),
}

fn refusal(host: &str, holder: &str, changed: bool) -> Error {
    let (kind, what) = if changed {
        (
            ErrorKind::NeedsAttention,
            "this run had already changed other hosts; what it left is in its journal",
        )
    } else {
        (ErrorKind::Check, "nothing was changed")
    };
    Error::new(
        kind,
        format!(
            "{host} is locked by {holder}: another hascript run is changing this cluster; {what}. Wait for that run to end; if it is dead (check on its machine), re-run with --break-lock (the lock is {LOCK_DIR} on {host})"
        ),
    )
    .on_host(host)
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
        let ui: Arc<dyn Ui> = Arc::new(crate::output::RecordingUi::new(None));
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

    #[test]
    fn break_needs_an_answer_and_takeover_needs_none() {
        let host = locked_by("dead");
        let rec = Arc::new(Recorder::without_file("r3", Vec::new()));
        let nobody: Arc<dyn Ui> = Arc::new(crate::output::RecordingUi::new(None));
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
        let no: Arc<dyn Ui> = Arc::new(crate::output::RecordingUi::new(Some(false)));
        let l = Locks::new(host.clone(), rec.clone(), no, brk.clone(), me("r3"));
        assert_eq!(
            l.ensure("cd1", false).err().map(|e| e.kind),
            Some(ErrorKind::Declined)
        );
        let yes: Arc<dyn Ui> = Arc::new(crate::output::RecordingUi::new(Some(true)));
        let l = Locks::new(host.clone(), rec.clone(), yes.clone(), brk, me("r3"));
        assert!(l.ensure("cd1", false).is_ok());
        assert!(host
            .owner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains("run=r3"));
        // A resume of r3 takes r3's (stale) lock over without a question.
        let nobody: Arc<dyn Ui> = Arc::new(crate::output::RecordingUi::new(None));
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
        let nobody: Arc<dyn Ui> = Arc::new(crate::output::RecordingUi::new(None));
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
        let nobody: Arc<dyn Ui> = Arc::new(crate::output::RecordingUi::new(None));
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
