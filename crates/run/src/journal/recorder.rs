//! The recorder: writes a run's events to its journal file and to the sinks.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hascript_api::objects::Value;
use hascript_api::{Command, Effect, Error, Exec, ExitStatus, Output};

use super::calendar::now_rfc3339;
use super::event::{result_name, ErrorFields, Event, LoadKind, Purpose, StepBy, SCHEMA_VERSION};
use super::excerpt::{is_evidence, journal_text};
use super::redact::Redactor;
use super::{EVIDENCE_BYTES, EXCERPT_BYTES, EXT, STEP_VALUE_BYTES};

/// Somewhere journal lines go besides the file (`--output json`, `-v`, the dry run's plan).
pub trait EventSink: Send + Sync {
    /// One finished line (JSON, redacted, no newline) and its event as the line has it
    /// (every secret hidden too).
    fn line(&self, line: &str, event: &Event);
}

/// The fields of an event that hold a word of the schema (`effect: change`, `action:
/// taken`, …), never a secret's text.
const SCHEMA_WORDS: [&str; 6] = ["event", "effect", "purpose", "action", "by", "kind"];

/// `event` as its redacted JSON form `redacted` has it. A secret that is also one of the
/// schema's words (`change`, `lock`) is hidden in those fields too, which no event can then
/// read: they are put back (they carry no text of the run's). Failing that, a neutral event:
/// never the event with its secrets showing.
fn typed_redacted(event: &Event, mut redacted: Value) -> Event {
    if let Ok(e) = serde_json::from_value::<Event>(redacted.clone()) {
        return e;
    }
    if let (Ok(Value::Object(plain)), Value::Object(m)) =
        (serde_json::to_value(event), &mut redacted)
    {
        for k in SCHEMA_WORDS {
            if let Some(v) = plain.get(k) {
                m.insert(k.into(), v.clone());
            }
        }
        if let Some(kind) = plain.get("site").and_then(|s| s.get("kind")) {
            if let Some(Value::Object(site)) = m.get_mut("site") {
                site.insert("kind".into(), kind.clone());
            }
        }
    }
    serde_json::from_value::<Event>(redacted).unwrap_or_else(|_| Event::Info {
        message: "(an event whose secrets could not be hidden in its typed form)".into(),
    })
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
        self.render_value(event).0
    }

    /// The line for `event` and the redacted JSON object of the event alone.
    fn render_value(&self, event: &Event) -> (String, Value) {
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
        if let Value::Object(m) = &v {
            line.extend(m.clone());
        }
        (Value::Object(line).to_string(), v)
    }

    /// Write `event`; with `sync`, flush it to disk (fsync) before returning. Returns the
    /// write error of the journal file, if any (the sinks never fail).
    pub fn write(&self, event: &Event, sync: bool) -> Result<(), String> {
        let (line, redacted) = self.render_value(event);
        if !self.sinks.is_empty() {
            // What the sinks see is what the journal has: the event with its secrets hidden.
            let shown = typed_redacted(event, redacted);
            for s in &self.sinks {
                s.line(&line, &shown);
            }
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

/// The engine writes its steps and loaded scripts through this trait, never the type.
impl crate::engine::runlog::StepLog for Recorder {
    fn script_step_next(&self) {
        Recorder::script_step_next(self)
    }
    fn current_step(&self) -> u64 {
        Recorder::current_step(self)
    }
    fn step_end(
        &self,
        n: u64,
        section: &str,
        title: &str,
        took: Duration,
        result: Result<Option<Value>, String>,
    ) {
        Recorder::step_end(self, n, section, title, took, result)
    }
    fn step_replayed(&self, n: u64, section: &str, title: &str, value: Value) {
        Recorder::step_replayed(self, n, section, title, value)
    }
    fn script_loaded(&self, script: &crate::scripts::Loaded) {
        Recorder::script_loaded(self, script)
    }
}
