//! The run journal: one append-only JSON-lines file per run under
//! `$XDG_STATE_HOME/hascript/runs/` (or `~/.local/state/hascript/runs/`), named by the run
//! id (`20260728T172600.123Z-3f9a1c.jsonl`: UTC start time + random suffix, so names sort by
//! start time).
//!
//! Every line is one [`Event`] with `ts` (UTC wall clock of this machine) and `run` (the run
//! id). The [`Recorder`] writes them: it hides every secret value it knows ([`Redactor`]) in
//! every string of every line, writes each line whole, and **syncs the file (fsync) after a
//! `command_start` line before the change command is sent**. The same lines go to the extra
//! sinks (`--output json` prints them on standard output).
//!
//! [`JournalingExec`] wraps the run's transport (the router): every command is journaled
//! (`command_start` for a change, before it leaves; `command_end` for every command, after),
//! and before the first change to a host it takes that host's lock ([`crate::lock`]).
//! [`JournalingUi`] wraps the operator's UI: steps, information, warnings, questions and
//! answers, waits and exposure. Drivers and scripts need no change.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hascript_api::objects::Value;
use hascript_api::{
    Clock, Command, Effect, Error, Exec, ExitStatus, Output, Program, Ui, WaitDone, WaitOutcome,
    WaitProgress,
};
use schemars::JsonSchema;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::lock::Locks;

/// File name extension of journal files.
pub const EXT: &str = "jsonl";

/// At most this many bytes of a command's standard output / error are kept in an ordinary
/// `command_end` line (head and tail; the middle is cut).
pub const EXCERPT_BYTES: usize = 2048;

/// At most this many bytes of an evidence command's standard output are kept.
pub const EVIDENCE_BYTES: usize = 1024 * 1024;

/// A step's return value is kept when its JSON form is at most this long.
pub const STEP_VALUE_BYTES: usize = 64 * 1024;

// ----- time and ids -------------------------------------------------------------------

/// Civil date (year, month, day) of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `2026-07-28T17:26:00.123Z` for a time since the Unix epoch.
pub fn rfc3339(since_epoch: Duration) -> String {
    let secs = since_epoch.as_secs() as i64;
    let (y, mo, d) = civil(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        s / 3600,
        (s / 60) % 60,
        s % 60,
        since_epoch.subsec_millis()
    )
}

/// The wall clock of this machine as `2026-07-28T17:26:00.123Z`.
pub fn now_rfc3339() -> String {
    rfc3339(wall())
}

fn wall() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// A run id for a run starting at `since_epoch` with random `suffix`:
/// `20260728T172600.123Z-3f9a1c` (milliseconds, so that runs started within one second
/// still sort in start order).
pub fn run_id_at(since_epoch: Duration, suffix: u32) -> String {
    let secs = since_epoch.as_secs() as i64;
    let (y, mo, d) = civil(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}{mo:02}{d:02}T{:02}{:02}{:02}.{:03}Z-{:06x}",
        s / 3600,
        (s / 60) % 60,
        s % 60,
        since_epoch.subsec_millis(),
        suffix & 0xff_ffff
    )
}

/// A new run id (now, with 24 random bits from `/dev/urandom`, or from the clock and the
/// process id where it cannot be read).
pub fn new_run_id() -> String {
    let now = wall();
    let mut b = [0u8; 4];
    let random = File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut b))
        .is_ok();
    let suffix = if random {
        u32::from_le_bytes(b)
    } else {
        now.subsec_nanos() ^ std::process::id().rotate_left(12)
    };
    run_id_at(now, suffix)
}

/// Whether `s` looks like a run id (what `journal show` accepts as a prefix of one).
fn id_chars(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

/// SHA-256 of `data` as lowercase hex.
pub fn sha256_hex(data: &[u8]) -> String {
    let d = Sha256::digest(data);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// The user running hascript: `$USER`, `$LOGNAME`, else `uid <n>`.
pub fn current_user() -> String {
    for v in ["USER", "LOGNAME"] {
        if let Ok(u) = std::env::var(v) {
            if !u.is_empty() {
                return u;
            }
        }
    }
    // SAFETY: getuid has no preconditions and cannot fail.
    format!("uid {}", unsafe { libc::getuid() })
}

/// This machine's host name (where the run is started from).
pub fn origin_host() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that much.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "unknown".into();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

// ----- where journals live --------------------------------------------------------------

/// The folder holding the journals: `$XDG_STATE_HOME/hascript/runs` (an absolute
/// `XDG_STATE_HOME`; a relative one is ignored, as the XDG specification says), else
/// `$HOME/.local/state/hascript/runs`.
pub fn runs_dir() -> Result<PathBuf, String> {
    if let Some(x) = std::env::var_os("XDG_STATE_HOME") {
        let p = PathBuf::from(x);
        if p.is_absolute() {
            return Ok(p.join("hascript").join("runs"));
        }
    }
    match std::env::var_os("HOME") {
        Some(h) if !h.is_empty() => Ok(PathBuf::from(h).join(".local/state/hascript/runs")),
        _ => Err(
            "cannot tell where to keep the run journal: neither XDG_STATE_HOME nor HOME is set; set XDG_STATE_HOME to a folder".into(),
        ),
    }
}

// ----- redaction --------------------------------------------------------------------

/// The secret values a run knows, hidden as `*****` in everything the journal and the JSON
/// output write. Fed with the script's secrets, every command's own secrets, and any other
/// value the run learns is secret; values are only added, never removed.
#[derive(Debug, Default)]
pub struct Redactor {
    values: RwLock<Vec<String>>,
}

impl Redactor {
    /// An empty redactor.
    pub fn new() -> Self {
        Redactor::default()
    }

    /// Hide `value` from now on (empty values are ignored).
    pub fn add(&self, value: &str) {
        if value.is_empty() {
            return;
        }
        let mut g = self.values.write().unwrap_or_else(|p| p.into_inner());
        if !g.iter().any(|v| v == value) {
            g.push(value.to_string());
        }
    }

    /// Hide every value of `values`.
    pub fn add_all<S: AsRef<str>>(&self, values: &[S]) {
        for v in values {
            self.add(v.as_ref());
        }
    }

    /// `text` with every known secret replaced by `*****` (longest first).
    pub fn redact(&self, text: &str) -> String {
        let g = self.values.read().unwrap_or_else(|p| p.into_inner());
        hascript_api::redact(text, &g)
    }

    /// `bytes` with every known secret replaced by `*****` (longest first): output as the
    /// host wrote it, before it is cut to an excerpt or encoded.
    pub fn redact_bytes(&self, bytes: &[u8]) -> Vec<u8> {
        let g = self.values.read().unwrap_or_else(|p| p.into_inner());
        // Text (the usual case) takes the string search, which is much faster on large
        // outputs than the byte-by-byte one.
        match std::str::from_utf8(bytes) {
            Ok(text) => hascript_api::redact(text, &g).into_bytes(),
            Err(_) => hascript_api::redact_bytes(bytes, &g),
        }
    }

    /// Redact every string (and every object key) inside `v`.
    pub fn redact_value(&self, v: &mut Value) {
        match v {
            Value::String(s) => {
                let r = self.redact(s);
                if r != *s {
                    *s = r;
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| self.redact_value(x)),
            Value::Object(m) => {
                let old = std::mem::take(m);
                for (k, mut x) in old {
                    self.redact_value(&mut x);
                    m.insert(self.redact(&k), x);
                }
            }
            _ => {}
        }
    }
}

/// Whether a parameter's name says it holds a secret (`password`, `passphrase`,
/// `storepass`, `secret`, `token`): its value is journaled as `*****` and hidden everywhere.
pub fn secret_param_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["pass", "secret", "token"].iter().any(|w| n.contains(w))
}

// ----- events -----------------------------------------------------------------------

/// Where the run's site came from (in the `run` header).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SiteRecord {
    /// The simulator.
    Sim {
        /// The scenario (`ldoms`, `ldoms/migration-aborted-guest-stopped`, …).
        scenario: String,
        /// `--sim-state DIR`, when the site lives in a folder.
        #[serde(skip_serializing_if = "Option::is_none")]
        state: Option<String>,
    },
    /// A real site from an inventory file.
    Inventory {
        /// The inventory's path.
        path: String,
        /// SHA-256 of the inventory file as read at the start of the run.
        sha256: String,
    },
}

/// The first line of every journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct RunHeader {
    /// hascript's version.
    pub version: String,
    /// Who ran it.
    pub user: String,
    /// The machine it ran from.
    pub origin: String,
    /// The process id (to tell a live run from a dead one on `origin`).
    pub pid: u32,
    /// The script's name as given (`ldoms/live-migration`, `./my.rhai`).
    pub script: String,
    /// The script file, when it came from a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// SHA-256 of the script's text.
    pub sha256: String,
    /// `-p` parameters (values of secret-looking names as `*****`).
    pub params: BTreeMap<String, String>,
    /// The site.
    pub site: SiteRecord,
    /// The site's description (for people).
    pub description: String,
    /// Dry run (`--dry-run`): the procedure ran against a simulated copy of the site and
    /// nothing that changes state was sent; its `command_start` lines are the plan's change
    /// commands (sent to the copy only), and a `plan` line precedes the `result`.
    pub dry_run: bool,
    /// `hascript resume`: the interrupted run this one continues (same script, parameters
    /// and site; its host locks taken over, its pending recovery routines inherited).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resumed_from: Option<String>,
    /// `hascript unwind`: the dead run whose pending recovery routines this one runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unwinds: Option<String>,
}

/// One thing that happened during a run: a line of the journal and of `--output json`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The run starts (always the first line).
    Run(RunHeader),
    /// A procedure step begins (a driver's step or the script's `step(...)`).
    Step {
        /// Step number in this run (1, 2, …).
        n: u64,
        /// The manual's section or a label (may be empty).
        section: String,
        /// What the step does.
        title: String,
        /// Whose step: the script's `step(...)` or the driver's own.
        by: StepBy,
    },
    /// A step ended: a script `step(...)` (its body returned or threw), or a driver's step
    /// (when the next step begins, its script step ends, or the run ends).
    StepEnd {
        /// The number of its `step` line.
        n: u64,
        /// Section.
        section: String,
        /// Title.
        title: String,
        /// Whose step (absent in journals written before schema version 1: the script's).
        by: StepBy,
        /// Whether the body returned (true) or threw (false).
        ok: bool,
        /// How long it took (wall clock).
        duration_ms: u64,
        /// Its return value, when it can be written as JSON.
        #[serde(skip_serializing_if = "Option::is_none")]
        value: Option<Value>,
        /// The error it threw.
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        /// Not run: completed in the run this one resumes, whose recorded value is
        /// returned (`hascript resume`).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        replayed: bool,
    },
    /// A script or module the run loaded besides its top script (which the `run` line
    /// names): a module an `import` loaded, a nested procedure (`hypervisor.migrate`, a
    /// recovery routine the run executes), or a recovery routine's procedure when the
    /// routine is registered. Written once per script per run; `hascript resume` refuses,
    /// and `hascript unwind` asks, when one of them is no longer the same text.
    ScriptLoaded {
        /// The name it was resolved by: a procedure's name (`ldoms/recover-migration`) or
        /// a module's import path (`lib/ldoms/migration`).
        name: String,
        /// What loaded it.
        kind: LoadKind,
        /// Where it came from: `shipped`, `hascript_path` (a folder of `HASCRIPT_PATH`,
        /// found by `name`) or `file` (beside the script that imported it).
        origin: String,
        /// The file, when it came from one (absolute).
        #[serde(skip_serializing_if = "Option::is_none")]
        path: Option<String>,
        /// SHA-256 of its text.
        sha256: String,
    },
    /// A recovery routine was registered (synced to disk before the change it protects).
    RecoveryRegistered {
        /// Its number in this run.
        id: u64,
        /// What it does.
        what: String,
        /// The driver's description of it (`{driver, routine, …}`), which `hascript
        /// unwind` runs again; absent for a script's own routine (`defer`).
        #[serde(skip_serializing_if = "Option::is_none")]
        routine: Option<Value>,
        /// Whether another process can run it (`hascript unwind`): false for a script's
        /// `defer` closure, which only the run that registered it can execute.
        rerunnable: bool,
        /// Taken over from the interrupted run this one resumes.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        inherited: bool,
    },
    /// A recovery routine was settled: not needed, ran (ok or failed), left for a person,
    /// could not run, or abandoned (a second Ctrl-C).
    RecoveryRun {
        /// Its number (the same as its `recovery_registered`).
        id: u64,
        /// `not_needed`, `ok`, `failed`, `left_for_operator`, `cannot_run`, `abandoned`.
        outcome: String,
        /// Who settled it: `driver` (the bracket that registered it), `run` (the run's
        /// failure or Ctrl-C path), `unwind`.
        by: String,
        /// What happened.
        #[serde(skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    /// A change command is about to be sent (synced to disk before it leaves).
    CommandStart {
        /// Command number in this run.
        seq: u64,
        /// Inventory host.
        host: String,
        /// The command as displayed (its own secrets as `*****`).
        command: String,
        /// Always `change`.
        #[schemars(with = "EffectName")]
        effect: Effect,
        /// Why hascript sent it: `procedure` (the driver or the script), `lock`.
        purpose: Purpose,
    },
    /// A command ended (every command, read or change).
    CommandEnd {
        /// Command number (the same as its `command_start`).
        seq: u64,
        /// Inventory host.
        host: String,
        /// The command as displayed.
        command: String,
        /// Read or change.
        #[schemars(with = "EffectName")]
        effect: Effect,
        /// Why it was sent.
        purpose: Purpose,
        /// Exit code (absent when the transport failed).
        #[serde(skip_serializing_if = "Option::is_none")]
        exit: Option<i32>,
        /// Killed by this signal.
        #[serde(skip_serializing_if = "Option::is_none")]
        signal: Option<String>,
        /// How long it took (wall clock).
        duration_ms: u64,
        /// Standard output (an excerpt, or the whole of it for evidence).
        stdout: String,
        /// Standard error (an excerpt).
        stderr: String,
        /// The exact bytes of `stdout`'s excerpt (base64), present only when they are not
        /// UTF-8 (`stdout` then shows each such byte as U+FFFD).
        #[serde(skip_serializing_if = "Option::is_none")]
        stdout_b64: Option<String>,
        /// The exact bytes of `stderr`'s excerpt (base64), when they are not UTF-8.
        #[serde(skip_serializing_if = "Option::is_none")]
        stderr_b64: Option<String>,
        /// Bytes of output cut from the middle (0: complete).
        #[serde(default, skip_serializing_if = "is_zero")]
        cut_bytes: u64,
        /// Bytes fed on standard input (never journaled: they may be secret).
        #[serde(default, skip_serializing_if = "is_zero")]
        stdin_bytes: u64,
        /// One of the evidence commands of procedures.md Part C: `stdout` is complete.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        evidence: bool,
        /// The transport's error, when it could not run the command.
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// A wait in progress (its first poll, then every 60 s).
    Wait {
        /// What is awaited.
        what: String,
        /// Seconds waited so far (the run's clock: virtual on the simulator).
        elapsed_s: u64,
        /// Seconds left before the deadline.
        remaining_s: u64,
        /// What the last poll saw.
        #[serde(skip_serializing_if = "Option::is_none")]
        last_seen: Option<String>,
        /// Seconds the wait usually takes, when the manual (or the script) says so.
        #[serde(skip_serializing_if = "Option::is_none")]
        expected_s: Option<u64>,
        /// Where `expected_s` comes from (the manual's section).
        #[serde(skip_serializing_if = "Option::is_none")]
        expected_from: Option<String>,
    },
    /// A wait ended: when its waiter said so (with `outcome`), or else when the next thing
    /// happened.
    WaitEnd {
        /// What was awaited.
        what: String,
        /// Seconds it took (the run's clock).
        elapsed_s: u64,
        /// `reached`, `not_reached` (the deadline passed) or `stopped` (an error or a
        /// cancellation); absent when the waiter did not say.
        #[serde(skip_serializing_if = "Option::is_none")]
        outcome: Option<String>,
        /// What the last poll saw, when the wait was not reached.
        #[serde(skip_serializing_if = "Option::is_none")]
        last_seen: Option<String>,
    },
    /// A question to the operator and the answer.
    Confirm {
        /// The question.
        question: String,
        /// The answer (absent when nobody could answer).
        #[serde(skip_serializing_if = "Option::is_none")]
        answer: Option<bool>,
        /// Why there was no answer.
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// Information (also the script's `print`).
    Info {
        /// The text.
        message: String,
    },
    /// One item of a driver's preflight (read-only checks before any change).
    Check {
        /// What was checked (`target on another box`, `toolkit package`, …).
        check: String,
        /// Whether it passed.
        ok: bool,
        /// What was seen.
        detail: String,
        /// What to do when it failed.
        #[serde(skip_serializing_if = "Option::is_none")]
        remedy: Option<String>,
    },
    /// The verified end state of a guest or package, read back from the cluster (the
    /// script's `summary(...)`).
    Summary {
        /// The guest or package.
        subject: String,
        /// The state as the driver reads it (the map `summary` returns).
        state: Value,
    },
    /// A warning (a verdict worth attention).
    Warn {
        /// The text.
        message: String,
    },
    /// The cluster has been without fencing or switching this long.
    Exposure {
        /// What is off.
        what: String,
        /// For how long so far, in seconds.
        seconds: u64,
    },
    /// The size of a log file on a host just before a change that makes the cluster write
    /// to it (`/var/adm/messages` before `clovmmigrate -u`): a later scan of that file
    /// starts there, in this run or any later one on the same site
    /// ([`crate::history::JournalHistory`]).
    LogMark {
        /// The inventory host.
        host: String,
        /// The file's path on the host.
        file: String,
        /// Its size in bytes.
        size: u64,
    },
    /// A host lock was taken, refused, broken or released ([`crate::lock`]).
    Lock {
        /// The host.
        host: String,
        /// What happened.
        action: LockAction,
        /// The holder found (refused, broken, taken over) or written (taken).
        #[serde(skip_serializing_if = "Option::is_none")]
        holder: Option<String>,
        /// Details (why a release failed).
        #[serde(skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    /// The error that ended the run.
    Error {
        /// The error's kind (`check`, `timeout`, …).
        kind: String,
        /// What went wrong: the error's own message (for an error outside the script, such
        /// as a refused lock, the whole text the operator saw).
        message: String,
        /// What to do about it, when the driver says.
        #[serde(skip_serializing_if = "Option::is_none")]
        remedy: Option<String>,
        /// The host the failing command ran on.
        #[serde(skip_serializing_if = "Option::is_none")]
        host: Option<String>,
        /// The failing command.
        #[serde(skip_serializing_if = "Option::is_none")]
        command: Option<String>,
        /// Where in the script (`file:line:col`).
        #[serde(skip_serializing_if = "Option::is_none")]
        location: Option<String>,
        /// The whole report the operator saw (source line, details, call chain, recovery
        /// routines run), when it says more than `message`.
        #[serde(skip_serializing_if = "Option::is_none")]
        report: Option<String>,
    },
    /// The plan of a dry run (`--dry-run`), just before its `result` line: numbered change
    /// commands with their step, host and command (an `unknown` reason where the simulated
    /// copy could not tell), waits and confirmations ([`crate::dryrun::PlanEntry`]).
    Plan {
        /// Every step of the procedure is in the plan (false: it stops at an unknown change).
        complete: bool,
        /// How the procedure ended on the copy, in words.
        outcome: String,
        /// The entries, in order.
        entries: Value,
    },
    /// The run ended (always the last line of a finished run).
    Result {
        /// `ok`, `failed`, `usage`, `check`, `needs_attention`, `declined`, `cancelled`.
        result: String,
        /// The process exit code.
        exit: i32,
        /// The error kind, when an error ended it.
        #[serde(skip_serializing_if = "Option::is_none")]
        kind: Option<String>,
        /// Whether a change command was sent.
        changed: bool,
        /// Change commands sent.
        changes: u64,
        /// How long the run took (wall clock).
        duration_ms: u64,
    },
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The version of the event lines' schema (`schema_version` in every line;
/// `book/src/events.schema.json`). Raised when a field changes meaning or goes away; new
/// event types and fields keep it.
pub const SCHEMA_VERSION: u32 = 1;

/// What loaded a script (`script_loaded`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LoadKind {
    /// An `import`.
    Module,
    /// A nested procedure: a generic action's (`hypervisor.migrate`) or a recovery routine
    /// the run executes.
    Procedure,
    /// A recovery routine's procedure, recorded when the routine is registered (what
    /// `unwind` would run).
    Routine,
}

/// Whose step a `step` / `step_end` line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepBy {
    /// The script's `step(...)`: its `step_end` is replayed by `hascript resume`.
    Script,
    /// A driver's own step (never replayed: the driver reads the state again).
    Driver,
}

/// The error that ended a run, field by field (the `error` line).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorFields {
    /// The error's own message.
    pub message: String,
    /// What to do.
    pub remedy: Option<String>,
    /// The host.
    pub host: Option<String>,
    /// The command.
    pub command: Option<String>,
    /// Where in the script (`file:line:col`).
    pub location: Option<String>,
}

/// How an effect is written (`read`, `change`), for the schema.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
enum EffectName {
    /// Reads state.
    Read,
    /// Changes state.
    Change,
}

/// One line as written: `ts`, `run` and `schema_version` around an [`Event`] (the shape
/// the JSON Schema describes).
#[derive(JsonSchema)]
#[schemars(
    title = "hascript event",
    description = "One line of a hascript run journal and of `hascript run --output json` (generated from src/journal.rs; book/src/running-safely.md describes each event)."
)]
#[allow(dead_code)]
struct Line {
    /// UTC wall clock of this machine, `2026-07-28T17:26:00.123Z`.
    ts: String,
    /// The run id.
    run: String,
    /// The version of this schema (1); raised when a field changes meaning or goes away.
    schema_version: u32,
    #[serde(flatten)]
    event: Event,
}

/// The JSON Schema of every journal and `--output json` line, as
/// `book/src/events.schema.json` holds it (regenerated by
/// `HASCRIPT_WRITE_SCHEMA=1 cargo test -p hascript --lib events_schema`).
pub fn events_schema() -> String {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<Line>();
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}

/// Why hascript sent a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// The procedure (driver or script).
    Procedure,
    /// Bookkeeping of the host lock (does not count as a change of the cluster).
    Lock,
}

/// What happened to a host lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LockAction {
    /// This run took it.
    Taken,
    /// Another run holds it: this run's change was not sent.
    Refused,
    /// A stale lock was broken (`--break-lock`, confirmed).
    Broken,
    /// The lock of the run being resumed was taken over.
    TakenOver,
    /// Released at the end of the run.
    Released,
    /// Could not be released (the host must be cleaned by hand).
    ReleaseFailed,
}

/// The result word of an exit code.
pub fn result_name(exit: i32) -> &'static str {
    match exit {
        0 => "ok",
        1 => "failed",
        2 => "usage",
        3 => "check",
        4 => "needs_attention",
        5 => "declined",
        129 | 130 | 143 => "cancelled",
        _ => "error",
    }
}

// ----- the recorder -----------------------------------------------------------------

/// Somewhere journal lines go besides the file (`--output json`).
pub trait EventSink: Send + Sync {
    /// One finished line (JSON, redacted, no newline).
    fn line(&self, line: &str);
}

/// What tells one `script_loaded` line from another: kind, name, path, sha256.
type LoadedKey = (LoadKind, String, Option<PathBuf>, String);

/// Writes a run's events: to its journal file (if any) and to the sinks.
pub struct Recorder {
    id: String,
    path: Option<PathBuf>,
    file: Option<Mutex<File>>,
    sinks: Vec<Arc<dyn EventSink>>,
    redactor: Redactor,
    seq: AtomicU64,
    steps: AtomicU64,
    current_step: AtomicU64,
    changes: AtomicU64,
    write_failed: AtomicBool,
    started: Instant,
    dry_run: AtomicBool,
    /// Set by [`Recorder::seal`]: only `error` and `result` lines are written from then on.
    sealed: AtomicBool,
    /// The next `step` is the script's `step(...)` ([`Recorder::script_step_next`]).
    script_next: AtomicBool,
    /// The driver step in progress: number, section, title, start.
    open_driver: Mutex<Option<(u64, String, String, Instant)>>,
    /// The `script_loaded` lines written (kind, name, path, sha256): each once per run.
    loaded: Mutex<std::collections::HashSet<LoadedKey>>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("id", &self.id)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Recorder {
    /// A recorder writing the journal of run `id` in folder `dir` (created 0700 when
    /// missing; the file is created 0600 and must not exist yet).
    pub fn create(dir: &Path, id: &str, sinks: Vec<Arc<dyn EventSink>>) -> Result<Self, String> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| {
                format!(
                    "cannot create the journal folder {}: {e}; set XDG_STATE_HOME to a writable folder",
                    dir.display()
                )
            })?;
        let path = dir.join(format!("{id}.{EXT}"));
        let file = OpenOptions::new()
            .append(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| format!("cannot create the journal {}: {e}", path.display()))?;
        // The new name itself must survive a crash.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        let mut r = Recorder::without_file(id, sinks);
        r.path = Some(path);
        r.file = Some(Mutex::new(file));
        Ok(r)
    }

    /// A recorder with no journal file (events only go to `sinks`).
    pub fn without_file(id: &str, sinks: Vec<Arc<dyn EventSink>>) -> Self {
        Recorder {
            id: id.to_string(),
            path: None,
            file: None,
            sinks,
            redactor: Redactor::new(),
            seq: AtomicU64::new(0),
            steps: AtomicU64::new(0),
            current_step: AtomicU64::new(0),
            changes: AtomicU64::new(0),
            write_failed: AtomicBool::new(false),
            started: Instant::now(),
            dry_run: AtomicBool::new(false),
            sealed: AtomicBool::new(false),
            script_next: AtomicBool::new(false),
            open_driver: Mutex::new(None),
            loaded: Mutex::new(std::collections::HashSet::new()),
        }
    }

    /// The run id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The journal file.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The secret values hidden in everything written.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// Hide `text`'s secrets (see [`Redactor::redact`]).
    pub fn redact(&self, text: &str) -> String {
        self.redactor.redact(text)
    }

    /// Mark the run as a dry run: its `result` line says `changed: false` whatever its
    /// `changes` count (the change commands of the plan, sent to a simulated copy only).
    pub fn set_dry_run(&self) {
        self.dry_run.store(true, Ordering::SeqCst);
    }

    /// Change commands sent so far (lock bookkeeping not counted; in a dry run, planned).
    pub fn changes(&self) -> u64 {
        self.changes.load(Ordering::SeqCst)
    }

    /// The number of the last `step` line.
    pub fn current_step(&self) -> u64 {
        self.current_step.load(Ordering::SeqCst)
    }

    /// The line for `event`: `{"ts", "run", "event", …}` with every secret hidden.
    pub fn render(&self, event: &Event) -> String {
        let mut v = match serde_json::to_value(event) {
            Ok(v) => v,
            Err(e) => {
                serde_json::json!({"event": "error", "kind": "internal", "message": format!("cannot write an event: {e}")})
            }
        };
        self.redactor.redact_value(&mut v);
        let mut line = serde_json::Map::new();
        line.insert("ts".into(), now_rfc3339().into());
        line.insert("run".into(), self.id.clone().into());
        line.insert("schema_version".into(), SCHEMA_VERSION.into());
        if let Value::Object(m) = v {
            line.extend(m);
        }
        Value::Object(line).to_string()
    }

    /// Write `event`; with `sync`, flush it to disk (fsync) before returning. Returns the
    /// write error of the journal file, if any (the sinks never fail).
    pub fn write(&self, event: &Event, sync: bool) -> Result<(), String> {
        let line = self.render(event);
        for s in &self.sinks {
            s.line(&line);
        }
        let Some(file) = &self.file else {
            return Ok(());
        };
        let mut f = file.lock().unwrap_or_else(|p| p.into_inner());
        // Checked under the file's lock: no line written by another thread can follow the
        // final ones.
        if self.sealed.load(Ordering::SeqCst)
            && !matches!(event, Event::Error { .. } | Event::Result { .. })
        {
            return Ok(());
        }
        let mut bytes = line.into_bytes();
        bytes.push(b'\n');
        let r = f
            .write_all(&bytes)
            .and_then(|()| if sync { f.sync_data() } else { Ok(()) });
        r.map_err(|e| {
            let p = self.path.as_deref().unwrap_or(Path::new("?"));
            self.write_failed.store(true, Ordering::SeqCst);
            format!("cannot write the journal {}: {e}", p.display())
        })
    }

    /// From now on write only `error` and `result` lines: a second signal stops the process
    /// at once while the script thread still runs, and the journal's last lines must be
    /// the ones saying what is left pending.
    pub fn seal(&self) {
        let _guard = self
            .file
            .as_ref()
            .map(|f| f.lock().unwrap_or_else(|p| p.into_inner()));
        self.sealed.store(true, Ordering::SeqCst);
    }

    /// Write `event`, ignoring a write error (reported once on standard error).
    pub fn note(&self, event: &Event) {
        let first = !self.write_failed.load(Ordering::SeqCst);
        if let Err(e) = self.write(event, false) {
            if first {
                eprintln!("warning: {e}; the run goes on without a complete journal");
            }
        }
    }

    /// The next [`Recorder::step`] is the script's `step(...)` (called just before the UI is
    /// told): every other step is a driver's.
    pub fn script_step_next(&self) {
        self.script_next.store(true, Ordering::SeqCst);
    }

    /// Close the driver step in progress, if any: a `step_end` line marked `by: driver`.
    fn close_driver_step(&self, error: Option<&str>) {
        let open = self
            .open_driver
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some((n, section, title, started)) = open {
            self.note(&Event::StepEnd {
                n,
                section,
                title,
                by: StepBy::Driver,
                ok: error.is_none(),
                duration_ms: started.elapsed().as_millis() as u64,
                value: None,
                error: error.map(str::to_string),
                replayed: false,
            });
        }
    }

    /// Record a `step` line; returns its number. A driver's step stays open until the next
    /// step begins, a script step ends, or the run ends.
    pub fn step(&self, section: &str, title: &str) -> u64 {
        self.close_driver_step(None);
        let n = self.steps.fetch_add(1, Ordering::SeqCst) + 1;
        self.current_step.store(n, Ordering::SeqCst);
        let by = if self.script_next.swap(false, Ordering::SeqCst) {
            StepBy::Script
        } else {
            *self.open_driver.lock().unwrap_or_else(|p| p.into_inner()) =
                Some((n, section.into(), title.into(), Instant::now()));
            StepBy::Driver
        };
        self.note(&Event::Step {
            n,
            section: section.into(),
            title: title.into(),
            by,
        });
        n
    }

    /// Record the end of script step `n`.
    pub fn step_end(
        &self,
        n: u64,
        section: &str,
        title: &str,
        took: Duration,
        result: Result<Option<Value>, String>,
    ) {
        self.close_driver_step(result.as_ref().err().map(String::as_str));
        let (ok, value, error) = match result {
            Ok(v) => (
                true,
                v.filter(|v| v.to_string().len() <= STEP_VALUE_BYTES),
                None,
            ),
            Err(e) => (false, None, Some(e)),
        };
        self.note(&Event::StepEnd {
            n,
            section: section.into(),
            title: title.into(),
            by: StepBy::Script,
            ok,
            duration_ms: took.as_millis() as u64,
            value,
            error,
            replayed: false,
        });
    }

    /// Record that the run loaded `script` (a `script_loaded` line), once per script per
    /// run. Not synced: the next synced line (a change's, a routine's registration) makes
    /// it durable before anything it could matter to is sent.
    pub fn script_loaded(&self, script: &crate::scripts::Loaded) {
        let key = (
            script.kind,
            script.name.clone(),
            script.path.clone(),
            script.sha256.clone(),
        );
        if !self
            .loaded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key)
        {
            return;
        }
        self.note(&Event::ScriptLoaded {
            name: script.name.clone(),
            kind: script.kind,
            origin: script.origin.name().to_string(),
            path: script.path.as_ref().map(|p| p.display().to_string()),
            sha256: script.sha256.clone(),
        });
    }

    /// Record the end of script step `n`, not run but replayed from the resumed run with
    /// its recorded `value`.
    pub fn step_replayed(&self, n: u64, section: &str, title: &str, value: Value) {
        self.note(&Event::StepEnd {
            n,
            section: section.into(),
            title: title.into(),
            by: StepBy::Script,
            ok: true,
            duration_ms: 0,
            value: Some(value),
            error: None,
            replayed: true,
        });
    }

    /// Record the error that ended the run (a text with no parts to tell apart).
    pub fn error(&self, kind: &str, message: &str) {
        self.close_driver_step(Some(message));
        self.note(&Event::Error {
            kind: kind.into(),
            message: message.into(),
            remedy: None,
            host: None,
            command: None,
            location: None,
            report: None,
        });
    }

    /// Record the error that ended the run, field by field, with the whole `report` the
    /// operator saw.
    pub fn error_fields(&self, kind: &str, fields: &ErrorFields, report: &str) {
        self.close_driver_step(Some(&fields.message));
        self.note(&Event::Error {
            kind: kind.into(),
            message: fields.message.clone(),
            remedy: fields.remedy.clone(),
            host: fields.host.clone(),
            command: fields.command.clone(),
            location: fields.location.clone(),
            report: (report != fields.message).then(|| report.to_string()),
        });
    }

    /// Record the last line: the result of exit code `exit`.
    pub fn result(&self, exit: i32, kind: Option<&str>) {
        self.close_driver_step((exit != 0).then_some(result_name(exit)));
        let changes = self.changes();
        self.note(&Event::Result {
            result: result_name(exit).into(),
            exit,
            kind: kind.map(str::to_string),
            changed: changes > 0 && !self.dry_run.load(Ordering::SeqCst),
            changes,
            duration_ms: self.started.elapsed().as_millis() as u64,
        });
        if let Some(f) = &self.file {
            let _ = f.lock().unwrap_or_else(|p| p.into_inner()).sync_data();
        }
    }

    /// Send `cmd` on `inner`, journaled: a change gets a `command_start` line synced to disk
    /// before it leaves; every command gets a `command_end` line after. A change whose
    /// `command_start` cannot be written before anything has changed is not sent (exit 3):
    /// after a change it is sent anyway with a warning, so a recovery can still complete.
    pub fn exec(&self, inner: &dyn Exec, cmd: &Command, purpose: Purpose) -> Result<Output, Error> {
        self.redactor.add_all(&cmd.secrets);
        let seq = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
        let shown = cmd.display();
        if cmd.effect == Effect::Change {
            let start = Event::CommandStart {
                seq,
                host: cmd.host.clone(),
                command: shown.clone(),
                effect: cmd.effect,
                purpose,
            };
            let first = !self.write_failed.load(Ordering::SeqCst);
            // The lock's bookkeeping is written before it is sent but synced with the next
            // change: a line lost with the machine only leaves a lock this run's
            // continuation does not know (it is then refused, never taken silently), and a
            // sync per lock command serialised every host's locking on the disk.
            if let Err(e) = self.write(&start, purpose != Purpose::Lock) {
                if self.changes() == 0 && purpose == Purpose::Procedure {
                    // Its own kind: a bracket must not take it for a failed change and run
                    // a recovery of a migration that never started.
                    return Err(not_recorded(
                        &e,
                        &format!("the change was not sent ({shown} on {})", cmd.host),
                    )
                    .on_host(&cmd.host));
                }
                if first {
                    eprintln!("warning: {e}; the run goes on without a complete journal");
                }
            }
            if purpose == Purpose::Procedure {
                self.changes.fetch_add(1, Ordering::SeqCst);
            }
        }
        let t = Instant::now();
        let r = inner.exec(cmd);
        let took = t.elapsed().as_millis() as u64;
        let evidence = is_evidence(cmd);
        let stdin_bytes = cmd.stdin.as_ref().map(|s| s.len() as u64).unwrap_or(0);
        let end = match &r {
            Ok(out) => {
                let (exit, signal) = match &out.status {
                    ExitStatus::Code(c) => (Some(*c), None),
                    ExitStatus::Signal(s) => (None, Some(s.clone())),
                };
                let limit = if evidence {
                    EVIDENCE_BYTES
                } else {
                    EXCERPT_BYTES
                };
                // Output that may hold secrets the run does not know (an old configuration
                // file with its passwords, a key store) is never kept: only its size. Other
                // output has every secret the run knows hidden on its raw bytes, before it
                // is cut (a secret across the cut would survive in halves) or encoded.
                let (stdout, stdout_b64, cut_out) = if cmd.secret_output {
                    (String::new(), None, out.stdout_bytes().len() as u64)
                } else {
                    journal_text(&self.redactor.redact_bytes(out.stdout_bytes()), limit)
                };
                let (stderr, stderr_b64, cut_err) = journal_text(
                    &self.redactor.redact_bytes(out.stderr_bytes()),
                    EXCERPT_BYTES,
                );
                Event::CommandEnd {
                    seq,
                    host: cmd.host.clone(),
                    command: shown,
                    effect: cmd.effect,
                    purpose,
                    exit,
                    signal,
                    duration_ms: took,
                    stdout,
                    stderr,
                    stdout_b64,
                    stderr_b64,
                    cut_bytes: cut_out + cut_err,
                    stdin_bytes,
                    evidence,
                    error: None,
                }
            }
            Err(e) => Event::CommandEnd {
                seq,
                host: cmd.host.clone(),
                command: shown,
                effect: cmd.effect,
                purpose,
                exit: None,
                signal: None,
                duration_ms: took,
                stdout: String::new(),
                stderr: String::new(),
                stdout_b64: None,
                stderr_b64: None,
                cut_bytes: 0,
                stdin_bytes,
                evidence,
                error: Some(cmd.redact(&e.to_string())),
            },
        };
        self.note(&end);
        r
    }
}

/// The error of a change not sent because the journal could not record it before the run
/// had changed anything (`why`: the write error; `what`: what was not sent): exit 3, kind
/// `not_recorded`.
pub fn not_recorded(why: &str, what: &str) -> Error {
    Error::new(
        hascript_api::ErrorKind::NotRecorded,
        format!(
            "nothing changed: the journal could not be written ({why}); {what}. Free the journal's disk or set XDG_STATE_HOME to a writable folder, then run the procedure again"
        ),
    )
}

/// Output bytes (already redacted) as the journal keeps them: cut to about `limit` bytes
/// ([`excerpt_bytes`]), as text, and as base64 of the exact bytes when they are not UTF-8;
/// with the number of bytes cut.
fn journal_text(bytes: &[u8], limit: usize) -> (String, Option<String>, u64) {
    use base64::Engine as _;
    let (cut, n) = excerpt_bytes(bytes, limit);
    match String::from_utf8(cut) {
        Ok(s) => (s, None, n),
        Err(e) => {
            let b = e.into_bytes();
            let b64 = base64::engine::general_purpose::STANDARD.encode(&b);
            (String::from_utf8_lossy(&b).into_owned(), Some(b64), n)
        }
    }
}

/// `bytes` cut to at most about `limit` bytes: head and tail kept around a
/// `[… N bytes cut …]` line, never splitting a UTF-8 character; and how many bytes were cut.
pub fn excerpt_bytes(bytes: &[u8], limit: usize) -> (Vec<u8>, u64) {
    if bytes.len() <= limit {
        return (bytes.to_vec(), 0);
    }
    // A UTF-8 continuation byte (10xxxxxx) is never where a cut goes, if a character
    // start is within reach (bytes that are not UTF-8 may have none).
    let continuation = |i: usize| bytes.get(i).is_some_and(|b| b & 0xC0 == 0x80);
    let half = limit / 2;
    let mut head = half;
    for _ in 0..3 {
        if continuation(head) {
            head = head.saturating_sub(1);
        }
    }
    let mut tail = bytes.len() - half;
    for _ in 0..3 {
        if continuation(tail) {
            tail += 1;
        }
    }
    let cut = (tail - head) as u64;
    let mut v = Vec::with_capacity(limit + 40);
    v.extend_from_slice(&bytes[..head]);
    v.extend_from_slice(format!("\n[… {cut} bytes cut …]\n").as_bytes());
    v.extend_from_slice(&bytes[tail..]);
    (v, cut)
}

/// `text` cut to at most about `limit` bytes (head and tail kept, on character
/// boundaries), and how many bytes were cut.
pub fn excerpt(text: &str, limit: usize) -> (String, u64) {
    if text.len() <= limit {
        return (text.to_string(), 0);
    }
    let half = limit / 2;
    let mut head = half;
    while !text.is_char_boundary(head) {
        head -= 1;
    }
    let mut tail = text.len() - half;
    while !text.is_char_boundary(tail) {
        tail += 1;
    }
    let cut = (tail - head) as u64;
    (
        format!(
            "{}\n[… {cut} bytes cut …]\n{}",
            &text[..head],
            &text[tail..]
        ),
        cut,
    )
}

/// Whether `cmd` reads one of the evidence outputs of procedures.md Part C: `cftool -n`,
/// `sdtool -s`, `clsnmpsetup -l`, `cfset -a`, `ldm list -p`, `ldm list-spconfig`,
/// `cmviewcl -v -f line`, or the package file (`cat /etc/cmcluster/…/*.conf`).
pub fn is_evidence(cmd: &Command) -> bool {
    if cmd.effect != Effect::Read {
        return false;
    }
    let Program::Argv(argv) = &cmd.program else {
        return false;
    };
    let Some((prog, args)) = argv.split_first() else {
        return false;
    };
    let base = prog.rsplit('/').next().unwrap_or(prog);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match (base, args.as_slice()) {
        ("cftool", ["-n"])
        | ("sdtool", ["-s"])
        | ("clsnmpsetup", ["-l"])
        | ("cfset", ["-a"])
        | ("ldm", ["list", "-p"])
        | ("ldm", ["list-spconfig"])
        | ("cmviewcl", ["-v", "-f", "line"]) => true,
        ("cat", [file]) => file.starts_with("/etc/cmcluster/") && file.ends_with(".conf"),
        _ => false,
    }
}

// ----- the wrappers -----------------------------------------------------------------

/// The run's transport: journals every command and takes the host lock before the first
/// change to a host. Wraps the router; drivers see an ordinary [`Exec`].
pub struct JournalingExec {
    inner: Arc<dyn Exec>,
    rec: Arc<Recorder>,
    locks: Option<Arc<Locks>>,
}

impl JournalingExec {
    /// Journal the commands sent on `inner` in `rec`; with `locks`, lock each host before
    /// its first change.
    pub fn new(inner: Arc<dyn Exec>, rec: Arc<Recorder>, locks: Option<Arc<Locks>>) -> Self {
        JournalingExec { inner, rec, locks }
    }
}

impl Exec for JournalingExec {
    fn exec(&self, cmd: &Command) -> Result<Output, Error> {
        if cmd.effect == Effect::Change {
            if let Some(l) = &self.locks {
                l.ensure(&cmd.host, self.rec.changes() > 0)?;
            }
        }
        self.rec.exec(self.inner.as_ref(), cmd, Purpose::Procedure)
    }

    fn involve(&self, hosts: &[String]) -> Result<(), Error> {
        if let Some(l) = &self.locks {
            // All at once: one host's lock never waits for another host's network.
            l.ensure_all(hosts, self.rec.changes() > 0)?;
        }
        self.inner.involve(hosts)
    }
}

#[derive(Default)]
struct WaitSeen {
    /// What, when it started on the run's clock, and the elapsed time last journaled.
    current: Option<(String, Duration, Duration)>,
}

/// The operator's UI with everything it is shown journaled (and forwarded to `inner`).
pub struct JournalingUi {
    inner: Arc<dyn Ui>,
    rec: Arc<Recorder>,
    clock: Arc<dyn Clock>,
    wait: Mutex<WaitSeen>,
}

impl JournalingUi {
    /// Journal what `inner` is shown in `rec`; `clock` times waits (the run's clock).
    pub fn new(inner: Arc<dyn Ui>, rec: Arc<Recorder>, clock: Arc<dyn Clock>) -> Self {
        JournalingUi {
            inner,
            rec,
            clock,
            wait: Mutex::new(WaitSeen::default()),
        }
    }

    /// Close an open wait (something else happened): a `wait_end` line.
    fn settle(&self) {
        let cur = self
            .wait
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .current
            .take();
        if let Some((what, start, _)) = cur {
            let elapsed = self.clock.now().saturating_sub(start);
            self.rec.note(&Event::WaitEnd {
                what,
                elapsed_s: elapsed.as_secs(),
                outcome: None,
                last_seen: None,
            });
        }
    }
}

impl Ui for JournalingUi {
    fn step(&self, section: &str, title: &str) {
        self.settle();
        self.rec.step(section, title);
        self.inner.step(section, title);
    }

    fn info(&self, message: &str) {
        self.settle();
        self.rec.note(&Event::Info {
            message: message.into(),
        });
        self.inner.info(message);
    }

    fn check(&self, check: &str, ok: bool, detail: &str, remedy: Option<&str>) {
        self.settle();
        self.rec.note(&Event::Check {
            check: check.into(),
            ok,
            detail: detail.into(),
            remedy: remedy.filter(|_| !ok).map(str::to_string),
        });
        self.inner.check(check, ok, detail, remedy);
    }

    fn summary(&self, subject: &str, state: &Value, text: &str) {
        self.settle();
        self.rec.note(&Event::Summary {
            subject: subject.into(),
            state: state.clone(),
        });
        self.inner.summary(subject, state, text);
    }

    fn warn(&self, message: &str) {
        self.settle();
        self.rec.note(&Event::Warn {
            message: message.into(),
        });
        self.inner.warn(message);
    }

    fn confirm(&self, question: &str) -> Result<bool, Error> {
        self.settle();
        let r = self.inner.confirm(question);
        let (answer, error) = match &r {
            Ok(a) => (Some(*a), None),
            Err(e) => (None, Some(e.message.clone())),
        };
        self.rec.note(&Event::Confirm {
            question: question.into(),
            answer,
            error,
        });
        r
    }

    fn waiting(&self, p: &WaitProgress) {
        let record = {
            let mut w = self.wait.lock().unwrap_or_else(|p| p.into_inner());
            match &mut w.current {
                Some((what, _, last)) if *what == p.what => {
                    if p.elapsed >= *last + crate::output::PIPE_PROGRESS_EVERY {
                        *last = p.elapsed;
                        true
                    } else {
                        false
                    }
                }
                _ => {
                    let start = self.clock.now().saturating_sub(p.elapsed);
                    let previous = w.current.replace((p.what.clone(), start, p.elapsed));
                    drop(w);
                    if let Some((what, start, _)) = previous {
                        self.rec.note(&Event::WaitEnd {
                            what,
                            elapsed_s: self.clock.now().saturating_sub(start).as_secs(),
                            outcome: None,
                            last_seen: None,
                        });
                    }
                    true
                }
            }
        };
        if record {
            self.rec.note(&Event::Wait {
                what: p.what.clone(),
                elapsed_s: p.elapsed.as_secs(),
                remaining_s: p.remaining.as_secs(),
                last_seen: p.last_seen.clone(),
                expected_s: p.expected.map(|d| d.as_secs()),
                expected_from: p.expected_from.clone(),
            });
        }
        self.inner.waiting(p);
    }

    fn wait_done(&self, d: &WaitDone) {
        let open = {
            let mut w = self.wait.lock().unwrap_or_else(|p| p.into_inner());
            match &w.current {
                Some((what, _, _)) if *what == d.what => w.current.take().is_some(),
                _ => false,
            }
        };
        // A wait something else already closed has its `wait_end` line.
        if open {
            self.rec.note(&Event::WaitEnd {
                what: d.what.clone(),
                elapsed_s: d.elapsed.as_secs(),
                outcome: Some(d.outcome.as_str().to_string()),
                last_seen: match d.outcome {
                    WaitOutcome::Reached => None,
                    _ => d.last_seen.clone(),
                },
            });
        }
        self.inner.wait_done(d);
    }

    fn result(&self, text: &str) {
        self.settle();
        self.rec.note(&Event::Info {
            message: text.into(),
        });
        self.inner.result(text);
    }

    fn log_mark(&self, host: &str, file: &str, size: u64) {
        self.rec.note(&Event::LogMark {
            host: host.into(),
            file: file.into(),
            size,
        });
        self.inner.log_mark(host, file, size);
    }

    fn exposure(&self, what: &str, for_how_long: Duration) {
        self.settle();
        self.rec.note(&Event::Exposure {
            what: what.into(),
            seconds: for_how_long.as_secs(),
        });
        self.inner.exposure(what, for_how_long);
    }
}

// ----- reading journals -------------------------------------------------------------

/// One journal as `journal list` sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary {
    /// The run id.
    pub id: String,
    /// Start time (`2026-07-28T17:26:00.123Z`), from the header.
    pub started: String,
    /// Who ran it.
    pub user: String,
    /// The script's name.
    pub script: String,
    /// `ok`, `failed`, …, or `unfinished` (no result line: the run died or still runs).
    pub result: String,
    /// The exit code, when it finished.
    pub exit: Option<i32>,
}

/// The journal files in `dir`, oldest first (names sort by start time).
pub fn journal_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, String> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", dir.display())),
    };
    let mut v: Vec<(String, PathBuf)> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?;
            let id = name.strip_suffix(&format!(".{EXT}"))?.to_string();
            Some((id, p))
        })
        .collect();
    v.sort();
    Ok(v)
}

/// The lines of a journal that parse as JSON objects (a line cut short by a crash is
/// skipped).
pub fn read_lines(path: &Path) -> Result<Vec<Value>, String> {
    let f = File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(BufReader::new(f)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| serde_json::from_str::<Value>(&l).ok())
        .filter(Value::is_object)
        .collect())
}

/// Summarise one journal's lines.
pub fn summarise(id: &str, lines: &[Value]) -> RunSummary {
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("-").to_string();
    let header = lines
        .iter()
        .find(|l| l.get("event").and_then(Value::as_str) == Some("run"));
    let result = lines
        .iter()
        .rev()
        .find(|l| l.get("event").and_then(Value::as_str) == Some("result"));
    RunSummary {
        id: id.to_string(),
        started: header.map(|h| s(h, "ts")).unwrap_or_else(|| "-".into()),
        user: header.map(|h| s(h, "user")).unwrap_or_else(|| "-".into()),
        script: header.map(|h| s(h, "script")).unwrap_or_else(|| "-".into()),
        result: result
            .map(|r| s(r, "result"))
            .unwrap_or_else(|| "unfinished".into()),
        exit: result
            .and_then(|r| r.get("exit"))
            .and_then(Value::as_i64)
            .map(|e| e as i32),
    }
}

/// Every run in `dir`, oldest first (by the start time in its header).
pub fn list(dir: &Path) -> Result<Vec<RunSummary>, String> {
    let mut out = Vec::new();
    for (id, path) in journal_files(dir)? {
        let lines = read_lines(&path)?;
        out.push(summarise(&id, &lines));
    }
    // Ids of runs started in the same second sort by their random suffix: the header's
    // start time (milliseconds) decides.
    out.sort_by(|a, b| (&a.started, &a.id).cmp(&(&b.started, &b.id)));
    Ok(out)
}

/// The journal of the run whose id starts with `prefix`.
pub fn find(dir: &Path, prefix: &str) -> Result<(String, PathBuf), String> {
    if !id_chars(prefix) {
        return Err(format!(
            "{prefix:?} is not a run id: run ids look like 20260728T172600.123Z-3f9a1c (see `hascript journal list`)"
        ));
    }
    let files = journal_files(dir)?;
    let hits: Vec<&(String, PathBuf)> = files
        .iter()
        .filter(|(id, _)| id.starts_with(prefix))
        .collect();
    match hits.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(format!(
            "no run {prefix:?} in {}: `hascript journal list` shows the runs recorded there",
            dir.display()
        )),
        many => Err(format!(
            "{prefix:?} matches {} runs ({}): give more of the id",
            many.len(),
            many.iter()
                .map(|(id, _)| id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// One journal line as a line of `journal show`'s timeline.
pub fn timeline_line(v: &Value) -> Vec<String> {
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let n = |k: &str| v.get(k).and_then(Value::as_i64);
    let ts = s("ts");
    let time = ts.get(11..23).unwrap_or(&ts).to_string();
    let indent = |text: &str| -> Vec<String> {
        text.lines()
            .map(|l| format!("{:12}      {l}", ""))
            .collect::<Vec<_>>()
    };
    let mut out = Vec::new();
    match s("event").as_str() {
        "run" => {
            out.push(format!(
                "{time}  run {} of {} by {} on {} (pid {})",
                s("run"),
                s("script"),
                s("user"),
                s("origin"),
                n("pid").unwrap_or(0)
            ));
            out.push(format!("{:12}  script sha256 {}", "", s("sha256")));
            if v.get("dry_run").and_then(Value::as_bool) == Some(true) {
                out.push(format!(
                    "{:12}  dry run: against a simulated copy; nothing that changes state was sent",
                    ""
                ));
            }
            if let Some(r) = v.get("resumed_from").and_then(Value::as_str) {
                out.push(format!("{:12}  resumes run {r}", ""));
            }
            if let Some(r) = v.get("unwinds").and_then(Value::as_str) {
                out.push(format!("{:12}  unwinds run {r}", ""));
            }
            let site = v.get("site").cloned().unwrap_or(Value::Null);
            let sv = |k: &str| {
                site.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            match sv("kind").as_str() {
                "sim" => out.push(format!(
                    "{:12}  site: simulated {} {}",
                    "",
                    sv("scenario"),
                    sv("state")
                )),
                _ => out.push(format!(
                    "{:12}  site: inventory {} (sha256 {})",
                    "",
                    sv("path"),
                    sv("sha256")
                )),
            }
            if let Some(Value::Object(p)) = v.get("params") {
                if !p.is_empty() {
                    let ps: Vec<String> = p
                        .iter()
                        .map(|(k, x)| format!("{k}={}", x.as_str().unwrap_or("")))
                        .collect();
                    out.push(format!("{:12}  params: {}", "", ps.join(" ")));
                }
            }
        }
        "step" => out.push(format!(
            "{time}  {}",
            crate::output::step_line(&s("section"), &s("title"))
        )),
        "recovery_registered" => out.push(format!(
            "{time}  recovery #{} registered{}: {}{}",
            n("id").unwrap_or(0),
            if v.get("inherited").and_then(Value::as_bool) == Some(true) {
                " (inherited from the interrupted run)"
            } else {
                ""
            },
            s("what"),
            if v.get("rerunnable").and_then(Value::as_bool) == Some(false) {
                " [script routine: only this run can execute it]"
            } else {
                ""
            }
        )),
        "recovery_run" => out.push(format!(
            "{time}  recovery #{} {} (by {}){}",
            n("id").unwrap_or(0),
            s("outcome"),
            s("by"),
            v.get("detail")
                .and_then(Value::as_str)
                .map(|d| format!(": {d}"))
                .unwrap_or_default()
        )),
        "step_end" if v.get("replayed").and_then(Value::as_bool) == Some(true) => {
            let val = v
                .get("value")
                .map(|x| format!(" → {x}"))
                .unwrap_or_default();
            out.push(format!(
                "{time}  <== step {} replayed from the resumed run{val}",
                n("n").unwrap_or(0)
            ));
        }
        "step_end" => {
            let ok = v.get("ok").and_then(Value::as_bool).unwrap_or(false);
            let val = v
                .get("value")
                .map(|x| format!(" → {x}"))
                .unwrap_or_default();
            let err = if ok {
                String::new()
            } else {
                format!(" failed: {}", s("error"))
            };
            out.push(format!(
                "{time}  <== step {} done in {} ms{val}{err}",
                n("n").unwrap_or(0),
                n("duration_ms").unwrap_or(0)
            ));
        }
        "command_start" => out.push(format!(
            "{time}  {} # CHANGE {}{}",
            s("host"),
            s("command"),
            if s("purpose") == "lock" {
                " (lock)"
            } else {
                ""
            }
        )),
        "command_end" => {
            let how = match (n("exit"), v.get("signal"), v.get("error")) {
                (Some(c), _, _) => format!("exit {c}"),
                (None, Some(sig), _) => format!("killed by {}", sig.as_str().unwrap_or("?")),
                (None, None, _) => format!("not run: {}", s("error")),
            };
            let mark = if s("effect") == "change" { "#" } else { "$" };
            let ev = if v.get("evidence").and_then(Value::as_bool) == Some(true) {
                " [evidence]"
            } else {
                ""
            };
            out.push(format!(
                "{time}  {} {mark} {} → {how} ({} ms){ev}",
                s("host"),
                s("command"),
                n("duration_ms").unwrap_or(0)
            ));
            if !ev.is_empty() || s("effect") == "change" {
                out.extend(indent(&s("stdout")));
            }
            if n("exit").unwrap_or(0) != 0 {
                out.extend(indent(&s("stderr")));
            }
        }
        "wait" => out.push(format!(
            "{time}  waiting for {}: {} s so far, {} s left",
            s("what"),
            n("elapsed_s").unwrap_or(0),
            n("remaining_s").unwrap_or(0)
        )),
        "wait_end" => out.push(format!(
            "{time}  waited {} s for {}{}",
            n("elapsed_s").unwrap_or(0),
            s("what"),
            match s("outcome").as_str() {
                "not_reached" => format!(": not reached (last seen: {})", s("last_seen")),
                "stopped" => ": stopped".to_string(),
                _ => String::new(),
            }
        )),
        "confirm" => {
            let a = match v.get("answer").and_then(Value::as_bool) {
                Some(true) => "yes".to_string(),
                Some(false) => "no".to_string(),
                None => format!("no answer: {}", s("error")),
            };
            out.push(format!("{time}  ? {} → {a}", s("question")));
        }
        "info" => {
            let m = s("message");
            let mut lines = m.lines();
            out.push(format!("{time}  {}", lines.next().unwrap_or("")));
            for l in lines {
                out.push(format!("{:12}  {l}", ""));
            }
        }
        "warn" => out.push(format!("{time}  warning: {}", s("message"))),
        "check" => {
            let ok = v.get("ok").and_then(Value::as_bool) == Some(true);
            out.push(format!(
                "{time}    {} {}: {}",
                if ok { "ok  " } else { "FAIL" },
                s("check"),
                s("detail")
            ));
            if let Some(r) = v.get("remedy").and_then(Value::as_str).filter(|_| !ok) {
                out.push(format!("{:12}         remedy: {r}", ""));
            }
        }
        "summary" => {
            out.push(format!("{time}  verified end state of {}:", s("subject")));
            let state = v.get("state").map(|x| x.to_string()).unwrap_or_default();
            out.push(format!("{:12}  {state}", ""));
        }
        "exposure" => out.push(format!(
            "{time}  exposure: {} for {} s",
            s("what"),
            n("seconds").unwrap_or(0)
        )),
        "log_mark" => out.push(format!(
            "{time}  {}: {} is {} bytes (later scans start there)",
            s("host"),
            s("file"),
            n("size").unwrap_or(0)
        )),
        "lock" => {
            let holder = v
                .get("holder")
                .and_then(Value::as_str)
                .map(|h| format!(" ({h})"))
                .unwrap_or_default();
            let detail = v
                .get("detail")
                .and_then(Value::as_str)
                .map(|d| format!(": {d}"))
                .unwrap_or_default();
            out.push(format!(
                "{time}  lock {} on {}{holder}{detail}",
                s("action"),
                s("host")
            ));
        }
        "error" => {
            out.push(format!("{time}  error ({}):", s("kind")));
            // The whole report when there is one (the structured fields are parts of it).
            let text = v
                .get("report")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| s("message"));
            out.extend(text.lines().map(|l| format!("{:12}  {l}", "")));
        }
        "plan" => {
            let complete = v.get("complete").and_then(Value::as_bool).unwrap_or(false);
            out.push(format!(
                "{time}  dry-run plan ({}): {}",
                if complete { "complete" } else { "incomplete" },
                s("outcome")
            ));
            let entries = v.get("entries").and_then(Value::as_array).cloned();
            for e in entries.unwrap_or_default() {
                let es = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                match es("kind").as_str() {
                    "change" => {
                        out.push(format!(
                            "{:12}  {}. {}: {}",
                            "",
                            e.get("n").and_then(Value::as_u64).unwrap_or(0),
                            es("host"),
                            es("command")
                        ));
                        if let Some(u) = e.get("unknown").and_then(Value::as_str) {
                            out.push(format!("{:12}     unknown: {u}", ""));
                        }
                    }
                    "wait" => out.push(format!("{:12}     wait: {}", "", es("what"))),
                    "confirm" => out.push(format!("{:12}     asks: {}", "", es("question"))),
                    _ => {}
                }
            }
        }
        "result" => out.push(format!(
            "{time}  result: {} (exit {}), {} change command(s), {} ms",
            s("result"),
            n("exit").unwrap_or(-1),
            n("changes").unwrap_or(0),
            n("duration_ms").unwrap_or(0)
        )),
        other => out.push(format!("{time}  {other}: {v}")),
    }
    // Host output and messages as the terminal may show them (no raw escape sequences).
    out.into_iter()
        .map(|l| crate::output::escape_controls(&l).into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(path: &Path) -> Vec<Value> {
        read_lines(path).unwrap_or_default()
    }

    /// `book/src/events.schema.json`, or what the event types generate when
    /// `HASCRIPT_WRITE_SCHEMA` is set (then written there).
    fn committed_schema() -> (String, String) {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/book/src/events.schema.json");
        let want = events_schema();
        if std::env::var_os("HASCRIPT_WRITE_SCHEMA").is_some() {
            std::fs::write(path, &want).expect("write the schema");
        }
        (std::fs::read_to_string(path).unwrap_or_default(), want)
    }

    #[test]
    fn events_schema_committed_is_what_the_event_types_generate() {
        let (have, want) = committed_schema();
        assert!(
            have == want,
            "book/src/events.schema.json differs from what the event types in src/journal.rs generate; regenerate it with: HASCRIPT_WRITE_SCHEMA=1 cargo test -p hascript --lib events_schema"
        );
        let v: Value = serde_json::from_str(&have).expect("the schema is JSON");
        let text = v.to_string();
        assert!(text.contains("\"schema_version\""), "{text}");
        assert!(text.contains("\"summary\""), "{text}");
    }

    /// Every event type of the schema and every field of it, as (event, fields).
    fn schema_events(schema: &Value) -> Vec<(String, Vec<String>)> {
        let mut out = Vec::new();
        let variants = schema["oneOf"].as_array().cloned().unwrap_or_default();
        for v in variants {
            let mut props = v["properties"].as_object().cloned().unwrap_or_default();
            // The `run` header's fields are a reference to its own definition.
            if let Some(r) = v["$ref"].as_str().and_then(|r| r.strip_prefix("#/$defs/")) {
                if let Some(more) = schema["$defs"][r]["properties"].as_object() {
                    props.extend(more.clone());
                }
            }
            let Some(name) = props
                .get("event")
                .and_then(|e| e.get("const").or_else(|| e["enum"].get(0)))
                .and_then(Value::as_str)
            else {
                continue;
            };
            let fields = props.keys().filter(|k| *k != "event").cloned().collect();
            out.push((name.to_string(), fields));
        }
        out
    }

    #[test]
    fn events_schema_every_event_and_field_is_in_the_book() {
        let schema: Value = serde_json::from_str(&events_schema()).expect("JSON");
        let events = schema_events(&schema);
        assert!(events.len() >= 19, "{events:?}");
        let book = include_str!("../book/src/running-safely.md");
        let mut missing = Vec::new();
        for field in ["ts", "run", "schema_version", "event"] {
            if !book.contains(&format!("| `{field}` |")) {
                missing.push(format!("line field {field}"));
            }
        }
        for (event, fields) in &events {
            // `| `event` |` or `| `a` / `b` |` rows of the event table.
            let row = book
                .lines()
                .skip_while(|l| !l.starts_with("| `event` | fields |"))
                .find(|l| {
                    l.starts_with("| `")
                        && l.split('|')
                            .nth(1)
                            .is_some_and(|c| c.split('/').any(|n| n.trim() == format!("`{event}`")))
                });
            let Some(row) = row else {
                missing.push(format!("event {event}"));
                continue;
            };
            let doc = row.split('|').nth(2).unwrap_or("");
            for f in fields {
                if !doc.contains(&format!("`{f}`")) {
                    missing.push(format!("{event}.{f}"));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "book/src/running-safely.md (\"--output json\") does not document: {missing:?}"
        );
    }

    #[test]
    fn ids_and_times_are_utc_and_sortable() {
        // 2026-07-28 17:26:00.123 UTC
        let t = Duration::from_millis(1_785_259_560_123);
        assert_eq!(rfc3339(t), "2026-07-28T17:26:00.123Z");
        assert_eq!(run_id_at(t, 0x3f9a1c), "20260728T172600.123Z-3f9a1c");
        assert_eq!(rfc3339(Duration::ZERO), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            rfc3339(Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00.000Z"
        );
        let a = run_id_at(Duration::from_secs(1_785_259_560), 0xffffff);
        let b = run_id_at(Duration::from_secs(1_785_259_561), 0);
        assert!(a < b);
        let id = new_run_id();
        assert!(id_chars(&id) && id.len() == 27, "{id}");
    }

    #[test]
    fn redactor_hides_secrets_in_every_string_and_key() {
        let r = Redactor::new();
        r.add("s3cret");
        r.add("");
        let mut v = serde_json::json!({"a": "x s3cret y", "s3cret": ["s3cret", 1]});
        r.redact_value(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"a": "x ***** y", "*****": ["*****", 1]})
        );
        assert!(secret_param_name("storepass_client") && secret_param_name("Password"));
        assert!(!secret_param_name("guest"));
    }

    #[test]
    fn byte_excerpts_keep_head_and_tail_and_whole_characters() {
        assert_eq!(excerpt_bytes(b"short", 10), (b"short".to_vec(), 0));
        let mut long = "é".repeat(60).into_bytes();
        long.extend_from_slice(&[0xff; 60]);
        let (b, cut) = excerpt_bytes(&long, 41);
        let text = String::from_utf8_lossy(&b);
        assert!(
            text.starts_with("éééé") && !text.starts_with("é\u{fffd}"),
            "{text}"
        );
        assert!(b.ends_with(&[0xff; 20]) && cut == 180 - 40, "{text} {cut}");
        let (b, _) = excerpt_bytes("é".repeat(60).as_bytes(), 43);
        let text = String::from_utf8(b).unwrap_or_default();
        assert!(text.starts_with("éé") && text.ends_with("éé"), "{text}");
        let (t, b64, n) = journal_text(&[b'a', 0xff, b'\n'], 100);
        assert_eq!(
            (t.as_str(), b64.as_deref(), n),
            ("a\u{fffd}\n", Some("Yf8K"), 0)
        );
        assert_eq!(journal_text(b"ok", 100), ("ok".to_string(), None, 0));
    }

    #[test]
    fn excerpts_keep_head_and_tail() {
        let (s, cut) = excerpt("short", 10);
        assert_eq!((s.as_str(), cut), ("short", 0));
        let long = format!("{}{}", "a".repeat(100), "é".repeat(100));
        let (s, cut) = excerpt(&long, 40);
        assert!(
            s.starts_with("aaaa") && s.ends_with("é") && cut > 200,
            "{s}"
        );
    }

    #[test]
    fn evidence_commands_are_recognised() {
        assert!(is_evidence(&Command::read(
            "g",
            &["/opt/SMAW/bin/cftool", "-n"]
        )));
        assert!(is_evidence(&Command::read(
            "cd",
            &["/usr/sbin/ldm", "list", "-p"]
        )));
        assert!(is_evidence(&Command::read(
            "n",
            &["/usr/sbin/cmviewcl", "-v", "-f", "line"]
        )));
        assert!(is_evidence(&Command::read(
            "n",
            &["cat", "/etc/cmcluster/slvm1/slvm1.conf"]
        )));
        assert!(!is_evidence(&Command::read("n", &["cat", "/etc/passwd"])));
        assert!(!is_evidence(&Command::change(
            "g",
            &["/opt/SMAW/bin/sdtool", "-s"]
        )));
        assert!(!is_evidence(&Command::read(
            "cd",
            &["/usr/sbin/ldm", "list-domain"]
        )));
    }

    /// Reads the journal when a command arrives, to see what was on disk before it left.
    struct Peek {
        path: PathBuf,
        seen: Mutex<Vec<Vec<Value>>>,
    }
    impl Exec for Peek {
        fn exec(&self, cmd: &Command) -> Result<Output, Error> {
            self.seen
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(read(&self.path));
            Ok(Output::new(0, format!("out of {} s3cret\n", cmd.host), ""))
        }
    }

    #[test]
    fn a_change_is_on_disk_before_it_is_sent_and_its_outcome_after() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let rec = Recorder::create(dir.path(), "20260728T172600Z-000001", Vec::new())
            .unwrap_or_else(|e| panic!("{e}"));
        rec.redactor().add("s3cret");
        let path = rec.path().map(Path::to_path_buf).unwrap_or_default();
        let peek = Peek {
            path: path.clone(),
            seen: Mutex::new(Vec::new()),
        };
        let r = rec.exec(
            &peek,
            &Command::read("cd1", &["/usr/sbin/ldm", "list", "-p"]),
            Purpose::Procedure,
        );
        assert!(r.is_ok());
        let r = rec.exec(
            &peek,
            &Command::change("cd1", &["/usr/sbin/ldm", "migrate-domain", "g", "cd2"]),
            Purpose::Procedure,
        );
        assert!(r.is_ok());
        let seen = peek.seen.lock().unwrap_or_else(|p| p.into_inner()).clone();
        // Before the read: nothing of it on disk (reads are journaled after).
        assert!(seen[0].is_empty(), "{:?}", seen[0]);
        // Before the change: its command_start is on disk, its end is not.
        let before = &seen[1];
        let last = before.last().cloned().unwrap_or(Value::Null);
        assert_eq!(last["event"], "command_start");
        assert_eq!(last["seq"], 2);
        assert_eq!(last["command"], "/usr/sbin/ldm migrate-domain g cd2");
        assert!(!before
            .iter()
            .any(|l| l["event"] == "command_end" && l["seq"] == 2));
        let after = read(&path);
        let end = after.last().cloned().unwrap_or(Value::Null);
        assert_eq!(end["event"], "command_end");
        assert_eq!(end["seq"], 2);
        assert_eq!(end["exit"], 0);
        // The read is evidence, complete; secrets hidden in every line.
        let ev = &after[0];
        assert_eq!(ev["evidence"], true);
        assert_eq!(ev["stdout"], "out of cd1 *****\n");
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(!text.contains("s3cret"), "{text}");
        assert_eq!(rec.changes(), 1);
        rec.result(0, None);
        let lines = read(&path);
        let s = summarise("x", &lines);
        assert_eq!((s.result.as_str(), s.exit), ("ok", Some(0)));
        // The file is private.
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path)
            .map(|m| m.permissions().mode())
            .unwrap_or(0);
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_journal_without_result_is_unfinished_and_ids_match_by_prefix() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        for id in [
            "20260728T172600Z-aaaaaa",
            "20260728T172600Z-aaaabb",
            "20260729T000000Z-cccccc",
        ] {
            let rec =
                Recorder::create(dir.path(), id, Vec::new()).unwrap_or_else(|e| panic!("{e}"));
            rec.step("A0", "preflight");
            if id.ends_with("cccccc") {
                rec.result(3, Some("check"));
            }
        }
        // A line cut short by a crash is skipped.
        let p = dir.path().join("20260728T172600Z-aaaaaa.jsonl");
        let mut f = OpenOptions::new()
            .append(true)
            .open(&p)
            .unwrap_or_else(|e| panic!("{e}"));
        let _ = f.write_all(b"{\"ts\":\"2026");
        let runs = list(dir.path()).unwrap_or_default();
        let r: Vec<(&str, &str, Option<i32>)> = runs
            .iter()
            .map(|r| (r.id.as_str(), r.result.as_str(), r.exit))
            .collect();
        assert_eq!(
            r,
            [
                ("20260728T172600Z-aaaaaa", "unfinished", None),
                ("20260728T172600Z-aaaabb", "unfinished", None),
                ("20260729T000000Z-cccccc", "check", Some(3)),
            ]
        );
        assert!(find(dir.path(), "20260729").is_ok());
        let e = find(dir.path(), "20260728T172600Z-aaaa")
            .err()
            .unwrap_or_default();
        assert!(e.contains("matches 2 runs"), "{e}");
        let e = find(dir.path(), "1999").err().unwrap_or_default();
        assert!(
            e.contains("no run \"1999\"") && e.contains("journal list"),
            "{e}"
        );
        assert!(find(dir.path(), "../x").is_err());
        assert!(Recorder::create(dir.path(), "20260729T000000Z-cccccc", Vec::new()).is_err());
    }
}
