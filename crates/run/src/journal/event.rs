//! The event schema: every kind of journal line, and its JSON Schema.

use std::collections::BTreeMap;

use hascript_api::objects::Value;
use hascript_api::Effect;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where the run's site came from (in the `run` header).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
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
        // A present `null` is the value `()`, replayed as such: read as `Some(Null)`.
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "present"
        )]
        #[schemars(with = "Option<Value>")]
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

/// A field that is present, `null` included (serde reads a `null` `Option` as `None`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// The version of the event lines' schema (`schema_version` in every line;
/// `book/src/events.schema.json`). Raised when a field changes meaning or goes away; new
/// event types and fields keep it.
pub const SCHEMA_VERSION: u32 = 1;

/// What loaded a script: a fact of the script (`scripts`), journaled in `script_loaded`.
pub use crate::scripts::LoadKind;

/// Whose step a `step` / `step_end` line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepBy {
    /// The script's `step(...)`: its `step_end` is replayed by `hascript resume`.
    Script,
    /// A driver's own step (never replayed: the driver reads the state again).
    Driver,
}

/// The error that ended a run, field by field: the engine's report makes it.
pub use crate::engine::report::ErrorFields;

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
/// the JSON Schema describes); what [`super::read_events`] reads back.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[schemars(
    title = "hascript event",
    description = "One line of a hascript run journal and of `hascript run --output json` (generated from crates/run/src/journal/event.rs; book/src/running-safely.md describes each event)."
)]
pub struct Line {
    /// UTC wall clock of this machine, `2026-07-28T17:26:00.123Z`.
    pub ts: String,
    /// The run id.
    pub run: String,
    /// The version of this schema (1); raised when a field changes meaning or goes away.
    pub schema_version: u32,
    /// The event.
    #[serde(flatten)]
    pub event: Event,
}

impl Line {
    /// The line `text` (one JSON object), or `None` when it is not one hascript wrote: not
    /// JSON (a line cut short by a crash), or not an event this version knows. A line
    /// written before schema version 1 has no `schema_version` (read as 0), and one
    /// written before a field was added reads that field's default.
    pub fn parse(text: &str) -> Option<Line> {
        let v: Value = serde_json::from_str(text).ok()?;
        Line::from_value(v)
    }

    /// The line `text` when it is one of the events named `tags` (`log_mark`, …): a cheap
    /// look at the text first, so that the other lines of a long journal are not parsed.
    pub fn parse_if(text: &str, tags: &[&str]) -> Option<Line> {
        let named = |t: &&str| text.contains(&format!("\"{t}\""));
        if !tags.iter().any(named) {
            return None;
        }
        Line::parse(text)
    }

    /// The line as a JSON object, as the recorder writes it: `ts`, `run`,
    /// `schema_version`, then the event's fields.
    pub fn to_value(&self) -> Value {
        let mut line = serde_json::Map::new();
        line.insert("ts".into(), self.ts.clone().into());
        line.insert("run".into(), self.run.clone().into());
        line.insert("schema_version".into(), self.schema_version.into());
        if let Ok(Value::Object(m)) = serde_json::to_value(&self.event) {
            line.extend(m);
        }
        Value::Object(line)
    }

    /// The line held by the JSON object `v` (see [`Line::parse`]).
    pub fn from_value(mut v: Value) -> Option<Line> {
        let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let (ts, run) = (s("ts"), s("run"));
        let schema_version = v
            .get("schema_version")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0);
        upgrade(&mut v);
        // The envelope's keys are unknown fields to the event, which ignores them.
        let event = serde_json::from_value::<Event>(v).ok()?;
        Some(Line {
            ts,
            run,
            schema_version,
            event,
        })
    }
}

/// Bring a line of an older schema to today's form: a `step` or `step_end` written before
/// schema version 1 has no `by` (only the script's steps were written then).
fn upgrade(v: &mut Value) {
    let Value::Object(m) = v else { return };
    let step = matches!(
        m.get("event").and_then(Value::as_str),
        Some("step" | "step_end")
    );
    if step && !m.contains_key("by") {
        m.insert("by".into(), "script".into());
    }
}

/// The JSON Schema of every journal and `--output json` line, as
/// `book/src/events.schema.json` holds it (regenerated by
/// `HASCRIPT_WRITE_SCHEMA=1 cargo test -p hascript-run --lib events_schema`).
pub fn events_schema() -> String {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<Line>();
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}

/// Why hascript sent a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// The procedure (driver or script).
    Procedure,
    /// Bookkeeping of the host lock (does not count as a change of the cluster).
    Lock,
}

/// What happened to a host lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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

impl Event {
    /// The script a `script_loaded` event names, as `resume` and `unwind` compare it; `None`
    /// for another event (or an origin this version does not know).
    pub fn loaded(&self) -> Option<crate::scripts::Loaded> {
        let Event::ScriptLoaded {
            name,
            kind,
            origin,
            path,
            sha256,
        } = self
        else {
            return None;
        };
        Some(crate::scripts::Loaded {
            name: name.clone(),
            kind: *kind,
            origin: crate::scripts::Origin::from_name(origin)?,
            path: path.as_ref().map(std::path::PathBuf::from),
            sha256: sha256.clone(),
        })
    }
}
