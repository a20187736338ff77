//! The four object families scripts see (`cluster`, `fence`, `hypervisor`, `package`) and
//! the [`Site`] that hands them out, plus the per-run [`Context`] drivers work in.
//!
//! Results are JSON-shaped [`Value`]s: drivers parse into typed values (enums for states)
//! and serialise what scripts see; the engine turns a `Value` into a Rhai map. Methods a
//! driver does not offer keep their default body, which fails with `Unsupported`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

pub use serde_json::Value;

use crate::clock::{CancelToken, Clock};
use crate::command::{Command, Effect, Exec, Output};
use crate::error::{Error, ErrorKind, Result};
use crate::ui::Ui;

fn unsupported<T>(what: &str) -> Result<T> {
    Err(Error::new(
        ErrorKind::Unsupported,
        format!("{what} is not offered by this site's driver"),
    ))
}

/// Everything a driver needs during one run: the transport, the clock, the cancel token,
/// the operator's UI, and the record of whether anything has changed yet.
#[derive(Clone)]
pub struct Context {
    /// The transport to the site's hosts.
    pub exec: Arc<dyn Exec>,
    /// The clock every wait uses.
    pub clock: Arc<dyn Clock>,
    /// Fired by Ctrl-C.
    pub cancel: CancelToken,
    /// The operator.
    pub ui: Arc<dyn Ui>,
    /// The run's recovery routines ([`Context::register_recovery`]).
    pub recoveries: Recoveries,
    /// What earlier runs on this site recorded ([`History`]; empty until the run layer
    /// sets it).
    pub history: HistoryCell,
    changed: Arc<AtomicBool>,
}

/// What earlier runs on the same site recorded, read by the run layer from their journals
/// on demand (drivers do no I/O of their own).
pub trait History: Send + Sync {
    /// The size of log `file` on `host` that the newest record of any earlier run gives
    /// ([`crate::ui::Ui::log_mark`]), or `None` when no run recorded one.
    fn log_mark(&self, host: &str, file: &str) -> Option<u64>;
    /// The newest step result (a journal's `step_end` value) of an earlier run on this site
    /// that passes `test`: e.g. when an earlier run did 17.3.1.1, for a later step script.
    fn step_value(&self, test: &dyn Fn(&Value) -> bool) -> Option<Value>;
}

/// The run's [`History`], set once by the run layer after the context was handed to the
/// site (like [`Recoveries::set_log`]); shared by every clone of the context.
#[derive(Clone, Default)]
pub struct HistoryCell(Arc<std::sync::OnceLock<Arc<dyn History>>>);

impl HistoryCell {
    /// Set the history (the first call wins).
    pub fn set(&self, h: Arc<dyn History>) {
        let _ = self.0.set(h);
    }

    /// The newest recorded size of `file` on `host` (see [`History::log_mark`]); `None`
    /// also when no history was set (a site outside a run, a test).
    pub fn log_mark(&self, host: &str, file: &str) -> Option<u64> {
        self.0.get().and_then(|h| h.log_mark(host, file))
    }

    /// The newest earlier step result passing `test` (see [`History::step_value`]); `None`
    /// also when no history was set.
    pub fn step_value(&self, test: &dyn Fn(&Value) -> bool) -> Option<Value> {
        self.0.get().and_then(|h| h.step_value(test))
    }
}

impl Context {
    /// A context over the given parts.
    pub fn new(
        exec: Arc<dyn Exec>,
        clock: Arc<dyn Clock>,
        cancel: CancelToken,
        ui: Arc<dyn Ui>,
    ) -> Self {
        Context {
            exec,
            clock,
            cancel,
            ui,
            recoveries: Recoveries::new(),
            history: HistoryCell::default(),
            changed: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Register the recovery routine of a change **before** the change is sent: `what` says
    /// it in words, `routine` describes it so that the driver can run it again by name from
    /// a fresh process ([`Site::run_recovery`]), e.g. `#{driver: "ldoms", routine:
    /// "recover_migration", guest: "guest2"}`. The registration is recorded (the run's
    /// journal, synced) before this returns; when it cannot be, the change must not be sent
    /// (the error says why). The routine must be state-aware: it reads the real state first.
    ///
    /// The returned guard settles it: [`RecoveryGuard::done`] when what it protects
    /// completed, [`RecoveryGuard::ran`] when its owner ran the recovery itself,
    /// [`RecoveryGuard::left`] when the owner stopped and said what is left for a person.
    /// A guard dropped unsettled leaves the routine **pending**: the run executes it on
    /// failure or Ctrl-C, and `hascript unwind` after a crash.
    pub fn register_recovery(&self, what: &str, routine: Value) -> Result<RecoveryGuard> {
        let entry = self.recoveries.register(what, Some(routine))?;
        Ok(RecoveryGuard {
            recoveries: self.recoveries.clone(),
            entry,
        })
    }

    /// Send one command: checks cancellation first and records that the site may have
    /// changed before a changing command leaves.
    pub fn run(&self, cmd: &Command) -> Result<Output> {
        self.cancel.check()?;
        if cmd.effect != Effect::Change {
            return self.exec.exec(cmd);
        }
        let before = self.changed.swap(true, Ordering::SeqCst);
        let r = self.exec.exec(cmd);
        // A change the journal could not record was not sent.
        if matches!(&r, Err(e) if e.kind == ErrorKind::NotRecorded) && !before {
            self.changed.store(false, Ordering::SeqCst);
        }
        r
    }

    /// Send one command and fail with a `Command` error (host, command, exit, stderr) when
    /// it exits non-zero.
    pub fn run_ok(&self, cmd: &Command) -> Result<Output> {
        let out = self.run(cmd)?;
        if out.success() {
            Ok(out)
        } else {
            let first = first_line(&out.stderr)
                .or_else(|| first_line(&out.stdout))
                .map(|l| cmd.redact(&l));
            let msg = match first {
                Some(l) => format!("{} failed on {}: {l}", program_name(cmd), cmd.host),
                None => format!(
                    "{} failed on {} with {}",
                    program_name(cmd),
                    cmd.host,
                    out.status
                ),
            };
            Err(Error::new(ErrorKind::Command, msg)
                .on_host(&cmd.host)
                .with_command(cmd.display())
                .with_status(&out.status)
                .with_stderr(cmd.redact(&out.stderr)))
        }
    }

    /// Declare the hosts a procedure is about to change, before its first change, so that
    /// the run's locks cover all of them (see [`Exec::involve`]); refused with the lock's
    /// holder when one of them is locked by another run.
    pub fn involve(&self, hosts: &[String]) -> Result<()> {
        self.exec.involve(hosts)
    }

    /// Whether a state-changing command has been sent in this run.
    pub fn changed(&self) -> bool {
        self.changed.load(Ordering::SeqCst)
    }

    /// Sleep on the run's clock (cancellable).
    pub fn sleep(&self, d: Duration) -> Result<()> {
        self.clock.sleep(d, &self.cancel)
    }
}

fn first_line(s: &str) -> Option<String> {
    s.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
}

fn program_name(cmd: &Command) -> String {
    match &cmd.program {
        crate::command::Program::Argv(a) => a
            .first()
            .map(|p| p.rsplit('/').next().unwrap_or(p).to_string())
            .unwrap_or_default(),
        crate::command::Program::Shell(_) => "shell command".to_string(),
    }
}

// ----- recovery routines --------------------------------------------------------------

/// How a recovery routine was settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecoveryOutcome {
    /// Not needed: what it protects completed.
    NotNeeded,
    /// It ran and ended in a protected state.
    Ok,
    /// It ran and failed (the detail says why and what is left).
    Failed,
    /// Its owner stopped and said what is left for a person; not re-run automatically.
    LeftForOperator,
    /// It could not be run here (a script's routine in another process, a driver without
    /// the routine).
    CannotRun,
    /// Still pending when the run was stopped at once (a second Ctrl-C).
    Abandoned,
}

impl RecoveryOutcome {
    /// The outcome's word in the journal (`not_needed`, `ok`, …).
    pub fn name(self) -> &'static str {
        match self {
            RecoveryOutcome::NotNeeded => "not_needed",
            RecoveryOutcome::Ok => "ok",
            RecoveryOutcome::Failed => "failed",
            RecoveryOutcome::LeftForOperator => "left_for_operator",
            RecoveryOutcome::CannotRun => "cannot_run",
            RecoveryOutcome::Abandoned => "abandoned",
        }
    }
}

/// One registered recovery routine.
#[derive(Debug, Clone, PartialEq)]
pub struct RecoveryEntry {
    /// Its number in this run (1, 2, …).
    pub id: u64,
    /// What it does, in words.
    pub what: String,
    /// The driver's description of the routine (`#{driver, routine, …}`), which
    /// [`Site::run_recovery`] runs again from a fresh process; `None` for a script's own
    /// routine (`defer`), which only its run can execute.
    pub routine: Option<Value>,
    /// Taken over from the interrupted run this run resumes (it was pending there).
    pub inherited: bool,
}

/// Where registrations and their settlements are recorded (the run's journal).
pub trait RecoveryLog: Send + Sync {
    /// Record a registration durably (synced) before the change it protects is sent.
    fn registered(&self, entry: &RecoveryEntry) -> Result<()>;
    /// Record how routine `id` was settled; `by` names who settled it (`driver`, `run`,
    /// `unwind`), `detail` what happened.
    fn settled(&self, id: u64, outcome: RecoveryOutcome, by: &str, detail: Option<&str>);
}

#[derive(Default)]
struct RecoveriesInner {
    state: Mutex<(u64, Vec<RecoveryEntry>)>,
    log: RwLock<Option<Arc<dyn RecoveryLog>>>,
    prior: RwLock<Vec<PriorChange>>,
    /// Routines being executed by the run or `unwind` (see [`Recoveries::executing`]).
    executing: Mutex<Vec<u64>>,
}

/// A change command the interrupted run this one continues sent and saw end (from its
/// journal): a resumed bracket must not send again what already ended, and must not turn
/// a failure that was recovered into a retry nobody asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorChange {
    /// The host it ran on.
    pub host: String,
    /// The command as the journal shows it ([`crate::Command::display`]).
    pub command: String,
    /// Its exit code.
    pub exit: i32,
}

/// The run's registry of recovery routines (shared by every clone of the run's
/// [`Context`]): what is pending, in registration order.
#[derive(Clone, Default)]
pub struct Recoveries(Arc<RecoveriesInner>);

impl std::fmt::Debug for Recoveries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recoveries")
            .field("pending", &self.pending())
            .finish()
    }
}

impl Recoveries {
    /// An empty registry that records nowhere.
    pub fn new() -> Self {
        Recoveries::default()
    }

    /// Whether routine `id` is being executed (see [`Recoveries::executing`]).
    pub fn is_executing(&self, id: u64) -> bool {
        self.0
            .executing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&id)
    }

    /// The change commands the interrupted run this one continues (`hascript resume`)
    /// completed, oldest first.
    pub fn set_prior_changes(&self, changes: Vec<PriorChange>) {
        *self.0.prior.write().unwrap_or_else(|p| p.into_inner()) = changes;
    }

    /// The last change command the continued run completed on any host whose command
    /// (as displayed) is `command`, if any.
    pub fn prior_change(&self, command: &str) -> Option<PriorChange> {
        self.0
            .prior
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .rev()
            .find(|c| c.command == command)
            .cloned()
    }

    /// Record registrations and settlements in `log` from now on.
    pub fn set_log(&self, log: Arc<dyn RecoveryLog>) {
        *self.0.log.write().unwrap_or_else(|p| p.into_inner()) = Some(log);
    }

    fn log(&self) -> Option<Arc<dyn RecoveryLog>> {
        self.0.log.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Register a routine (`routine` = `None`: a script's own). A driver routine equal to
    /// one inherited from the resumed run is that one (marked `inherited`), not a second.
    pub fn register(&self, what: &str, routine: Option<Value>) -> Result<RecoveryEntry> {
        let entry = {
            let mut g = self.0.state.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(r) = &routine {
                if let Some(e) =
                    g.1.iter()
                        .find(|e| e.inherited && e.routine.as_ref() == Some(r))
                {
                    return Ok(e.clone());
                }
            }
            g.0 += 1;
            RecoveryEntry {
                id: g.0,
                what: what.to_string(),
                routine,
                inherited: false,
            }
        };
        if let Some(log) = self.log() {
            log.registered(&entry)?;
        }
        self.0
            .state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .1
            .push(entry.clone());
        Ok(entry)
    }

    /// Take over the pending routines of an interrupted run (`resume`): registered here
    /// (and recorded) as inherited, so that the driver's own registration of the same
    /// routine finds them. Returns them.
    pub fn inherit(&self, routines: &[(String, Option<Value>)]) -> Result<Vec<RecoveryEntry>> {
        let mut out = Vec::new();
        for (what, routine) in routines {
            let entry = {
                let mut g = self.0.state.lock().unwrap_or_else(|p| p.into_inner());
                g.0 += 1;
                RecoveryEntry {
                    id: g.0,
                    what: what.clone(),
                    routine: routine.clone(),
                    inherited: true,
                }
            };
            if let Some(log) = self.log() {
                log.registered(&entry)?;
            }
            self.0
                .state
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .1
                .push(entry.clone());
            out.push(entry);
        }
        Ok(out)
    }

    /// Routine `id` is being executed (by the run or `unwind`): until it is settled by
    /// someone else than the driver, the driver's settlements of it are ignored. A procedure
    /// routine's own operations would otherwise settle it while it runs (`fence.verify()`
    /// after `finish_migration` records "not needed"), and the journal would not say how
    /// its execution ended.
    pub fn executing(&self, id: u64) {
        self.0
            .executing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(id);
    }

    /// Settle routine `id` (no longer pending); recorded. Settling twice records once.
    pub fn settle(&self, id: u64, outcome: RecoveryOutcome, by: &str, detail: Option<&str>) {
        {
            let mut ex = self.0.executing.lock().unwrap_or_else(|p| p.into_inner());
            if ex.contains(&id) {
                if by == "driver" {
                    return;
                }
                ex.retain(|e| *e != id);
            }
        }
        let removed = {
            let mut g = self.0.state.lock().unwrap_or_else(|p| p.into_inner());
            let before = g.1.len();
            g.1.retain(|e| e.id != id);
            g.1.len() != before
        };
        if removed {
            if let Some(log) = self.log() {
                log.settled(id, outcome, by, detail);
            }
        }
    }

    /// The pending routines, in registration order (run them in reverse).
    pub fn pending(&self) -> Vec<RecoveryEntry> {
        self.0
            .state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .1
            .clone()
    }

    /// Whether routine `id` is still pending.
    pub fn is_pending(&self, id: u64) -> bool {
        self.pending().iter().any(|e| e.id == id)
    }
}

/// A registered recovery routine, held by the component that owns it (a driver's bracket)
/// until it settles it. Dropped unsettled, the routine stays pending (see
/// [`Context::register_recovery`]).
#[derive(Debug)]
pub struct RecoveryGuard {
    recoveries: Recoveries,
    entry: RecoveryEntry,
}

impl RecoveryGuard {
    /// The registration.
    pub fn entry(&self) -> &RecoveryEntry {
        &self.entry
    }

    /// Whether it was pending in the interrupted run this run resumes (the change it
    /// protects may already have been made there).
    pub fn inherited(&self) -> bool {
        self.entry.inherited
    }

    /// What it protects completed: no recovery needed.
    pub fn done(&self) {
        self.recoveries
            .settle(self.entry.id, RecoveryOutcome::NotNeeded, "driver", None);
    }

    /// Its owner ran the recovery itself, with this result.
    pub fn ran<T>(&self, result: &Result<T>) {
        match result {
            Ok(_) => self
                .recoveries
                .settle(self.entry.id, RecoveryOutcome::Ok, "driver", None),
            Err(e) if e.kind == ErrorKind::Cancelled => {}
            Err(e) => self.recoveries.settle(
                self.entry.id,
                RecoveryOutcome::Failed,
                "driver",
                Some(&with_remedy(e)),
            ),
        }
    }

    /// Settle the routine of one changing driver call from how the call ended (the single
    /// calls' counterpart of a bracket's settlement): `Ok` → not needed; an interruption →
    /// left pending (the run executes it next, or `hascript unwind`); any other failure →
    /// `recover` (the routine itself, state-aware) runs at once and settles it, and the
    /// call's error says what it did: kind `Failed` with "Recovery ran: {summary}" when it
    /// ended well, `NeedsAttention` (`Check` for a failed verification) with its error when
    /// it did not.
    pub fn settle_call<T>(
        &self,
        result: Result<T>,
        recover: impl FnOnce() -> Result<String>,
    ) -> Result<T> {
        let cause = match result {
            Ok(v) => {
                self.done();
                return Ok(v);
            }
            Err(e) if e.kind == ErrorKind::Cancelled => return Err(e),
            // Its change was never sent and nothing had changed: nothing to recover.
            Err(e) if e.kind == ErrorKind::NotRecorded => {
                self.left(&e);
                return Err(e);
            }
            Err(e) => e,
        };
        let rec = recover();
        self.ran(&rec);
        match rec {
            Ok(summary) => {
                let mut e = cause.with_kind(ErrorKind::Failed);
                e.message = format!("{}. Recovery ran: {summary}", e.message);
                Err(e)
            }
            Err(r) if r.kind == ErrorKind::Cancelled => Err(r),
            Err(r) => {
                // A verification the routine could not pass keeps its verdict (exit 3).
                let kind = match r.kind {
                    ErrorKind::Check => ErrorKind::Check,
                    _ => ErrorKind::NeedsAttention,
                };
                let mut e = cause.with_kind(kind);
                e.message = format!(
                    "{}. Its recovery routine ({}) did not end well: {}",
                    e.message, self.entry.what, r.message
                );
                e.remedy = r.remedy.or(e.remedy);
                Err(e)
            }
        }
    }

    /// Its owner stopped with `error`, which says what is left for a person (an
    /// interruption leaves it pending instead; a change the journal could not record was
    /// never sent, so nothing is left and the routine is not needed).
    pub fn left(&self, error: &Error) {
        if error.kind == ErrorKind::Cancelled {
            return;
        }
        if error.kind == ErrorKind::NotRecorded {
            self.recoveries.settle(
                self.entry.id,
                RecoveryOutcome::NotNeeded,
                "driver",
                Some(&error.message),
            );
            return;
        }
        self.recoveries.settle(
            self.entry.id,
            RecoveryOutcome::LeftForOperator,
            "driver",
            Some(&with_remedy(error)),
        );
    }
}

/// An error's message and its remedy, as a settlement's detail: what `hascript unwind`
/// shows the operator about a routine left undone, and how to finish it.
fn with_remedy(e: &Error) -> String {
    match &e.remedy {
        Some(r) => format!("{}; remedy: {r}", e.message),
        None => e.message.clone(),
    }
}

/// A configured site: the driver's four objects over one inventory (or simulated site).
pub trait Site: Send + Sync {
    /// The driver's name (`ldoms`, `hpvm`).
    fn driver(&self) -> &'static str;
    /// A one-line description for banners ("simulated LDoms site (default)").
    fn describe(&self) -> String;
    /// Inventory host names, in inventory order (what `host(name)` accepts).
    fn hosts(&self) -> Vec<String>;
    /// The cluster object.
    fn cluster(&self) -> Arc<dyn Cluster>;
    /// The fencing object.
    fn fence(&self) -> Arc<dyn Fence>;
    /// The hypervisor object.
    fn hypervisor(&self) -> Arc<dyn Hypervisor>;
    /// The package object.
    fn package(&self) -> Arc<dyn Package>;
    /// The verified end-state summary of procedures.md Part C for `subject` (a guest or
    /// package), read back from the cluster.
    fn summary(&self, subject: &str) -> Result<Value>;
    /// Run a recovery routine this driver registered ([`Context::register_recovery`]) from
    /// its description, in this process: after a failure or Ctrl-C of the run that
    /// registered it, or in `hascript unwind` after that run died. The routine reads the
    /// real state first (never a blind inverse).
    fn run_recovery(&self, routine: &Value) -> Result<Value> {
        Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "the {} driver has no recovery routine {routine}",
                self.driver()
            ),
        ))
    }
    /// Call one of the driver's operations ([`crate::operations`]): `object.name(args…)`,
    /// the arguments converted to JSON in the order of the operation's spec.
    fn operation(&self, object: crate::Object, name: &str, args: &[Value]) -> Result<Value> {
        Err(crate::operations::unsupported(object, name, args.len()))
    }
    /// The procedure script that does a generic action on this driver, with its parameters:
    /// `migrate` (`args`: guest, target), `preflight` (guest, target: the procedure's own
    /// `preflight(guest, target)` function), `recover` (guest). `None`: the driver does it
    /// in Rust (the trait method). A site's edited procedure (on `HASCRIPT_PATH`) is the
    /// one every caller uses.
    fn procedure(&self, _generic: &str, _args: &[&str]) -> Option<ProcedureCall> {
        None
    }
    /// The description in today's form (`{procedure, params}`) of a recovery routine
    /// described in an older form (`{driver, routine, …}`), for journals written before
    /// the procedures became scripts; `None` when it has no script form.
    fn routine_procedure(&self, _routine: &Value) -> Option<Value> {
        None
    }
}

/// A procedure script to run for a generic action, and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcedureCall {
    /// The procedure's name (`ldoms/live-migration`), resolved as `hascript run` resolves it.
    pub name: &'static str,
    /// Its `-p` parameters.
    pub params: Vec<(String, String)>,
}

impl ProcedureCall {
    /// Procedure `name` with `args` as its parameters named `keys`, in order (an argument
    /// without a key, or a key without an argument, is left out).
    pub fn new(name: &'static str, keys: &[&str], args: &[&str]) -> ProcedureCall {
        ProcedureCall {
            name,
            params: keys
                .iter()
                .zip(args)
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }
}

/// A recovery routine that is a procedure script: `{procedure, params}` (what
/// [`Context::register_recovery`] records and `hascript unwind` runs again).
pub fn procedure_routine(name: &str, params: &[(&str, &str)]) -> Value {
    let p: serde_json::Map<String, Value> = params
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect();
    serde_json::json!({"procedure": name, "params": p})
}

/// Cluster membership and settings.
pub trait Cluster: Send + Sync {
    /// Every node: `name` and `state` first (the same keys on every driver), then the
    /// product's own columns, e.g. `[#{name: "cfguest1", state: "UP", ...}]`.
    fn nodes(&self) -> Result<Value>;
    /// One node by name.
    fn node(&self, name: &str) -> Result<Value>;
    /// Wait (on the run's clock) until node `name` reads `state`; returns the node.
    fn wait_node_state(&self, name: &str, state: &str, timeout: Duration) -> Result<Value>;
    /// The cluster interconnect timeout in seconds.
    fn timeout(&self) -> Result<i64>;
    /// HA applications with their states.
    fn applications(&self) -> Result<Value>;
    /// Overall health verdict `#{ok, problems: [...]}`.
    fn health(&self) -> Result<Value>;
    /// Log lines matching `pattern` (a marker the driver knows, e.g. "7245", "WRP"), only
    /// lines written since the run started when `since_run`.
    fn messages(&self, pattern: &str, since_run: bool) -> Result<Value>;
}

/// Fencing (PRIMECLUSTER shutdown facility).
pub trait Fence: Send + Sync {
    /// The fencing agents' states, one row each.
    fn agents(&self) -> Result<Value>;
    /// The fencing configuration, one row per node.
    fn config(&self) -> Result<Value>;
    /// A typed verdict with the manual's remedy.
    fn verify(&self) -> Result<Value>;
    /// Start fencing.
    fn start(&self) -> Result<Value>;
    /// Stop fencing.
    fn stop(&self) -> Result<Value>;
}

/// One hypervisor host as a destination for a guest ([`Hypervisor::placement`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Placement {
    /// The hypervisor host (its inventory name, what `migrate` accepts as the target).
    pub host: String,
    /// Whether the guest may be moved there by the placement rules.
    pub allowed: bool,
    /// The rule that decided, in words ("same box (box1) as guest1 of the same guest
    /// cluster", "not in the node_name list of slvm1 (node1, node2)", "is where it runs now").
    pub reason: String,
}

impl Placement {
    /// A host the guest may go to.
    pub fn allowed(host: &str, reason: impl Into<String>) -> Self {
        Placement {
            host: host.to_string(),
            allowed: true,
            reason: reason.into(),
        }
    }

    /// A host the guest must not go to.
    pub fn refused(host: &str, reason: impl Into<String>) -> Self {
        Placement {
            host: host.to_string(),
            allowed: false,
            reason: reason.into(),
        }
    }

    /// The rows as scripts see them: `[#{host, allowed, reason}]`.
    pub fn to_value(rows: &[Placement]) -> Value {
        Value::Array(
            rows.iter()
                .map(|r| {
                    serde_json::json!({"host": r.host, "allowed": r.allowed, "reason": r.reason})
                })
                .collect(),
        )
    }
}

/// Guests and the hosts that run them.
pub trait Hypervisor: Send + Sync {
    /// Every guest with where it runs and its state.
    fn guests(&self) -> Result<Value>;
    /// One guest.
    fn guest(&self, name: &str) -> Result<Value>;
    /// The hypervisor hosts (control domains, VM hosts).
    fn hosts(&self) -> Result<Value>;
    /// Start a guest (guard rails of procedures.md Part C apply).
    fn start(&self, guest: &str) -> Result<Value>;
    /// Stop a guest; refused on a live cluster node unless `force`.
    fn stop(&self, guest: &str, force: bool) -> Result<Value>;
    /// The whole vendor migration bracket: preflight, prepare, move, finish, state-aware
    /// recovery on failure.
    fn migrate(&self, guest: &str, target: &str) -> Result<Value>;
    /// Vendor step: read-only preflight of a migration (A0); fails with `Check`.
    fn preflight(&self, guest: &str, target: &str) -> Result<Value> {
        let _ = (guest, target);
        unsupported("hypervisor.preflight")
    }
    /// Vendor step: state-aware recovery of an aborted migration (A2).
    fn recover(&self, guest: &str) -> Result<Value> {
        let _ = guest;
        unsupported("hypervisor.recover")
    }
    /// Where `guest` may be live-migrated: one [`Placement`] per hypervisor host, in
    /// inventory order (`[#{host, allowed, reason}]`), by the placement rules of
    /// procedures.md Part C (never two nodes of one guest cluster on one box, a package only
    /// inside its node list, one guest per cluster in motion at a time). Read-only, from the
    /// facts the driver already reads; `migrate`'s full preflight still decides.
    fn placement(&self, guest: &str) -> Result<Value> {
        let _ = guest;
        unsupported("hypervisor.placement")
    }
    /// The group `guest` moves within: `#{guest, kind, members}` where `kind` is
    /// `"guest_cluster"`, `"package"` or `"none"`, and `members` every guest of the group
    /// (the guest itself included) — what "one guest per cluster at a time" counts.
    fn group(&self, guest: &str) -> Result<Value> {
        let _ = guest;
        unsupported("hypervisor.group")
    }
}

/// HA packages (Serviceguard packages, RMS userApplications).
pub trait Package: Send + Sync {
    /// Every package with its state.
    fn list(&self) -> Result<Value>;
    /// One package's status.
    fn status(&self, name: &str) -> Result<Value>;
    /// Start a package.
    fn run(&self, name: &str) -> Result<Value> {
        let _ = name;
        unsupported("package.run")
    }
    /// Start a package on a given node.
    fn run_on(&self, name: &str, node: &str) -> Result<Value> {
        let _ = (name, node);
        unsupported("package.run_on")
    }
    /// Halt a package.
    fn halt(&self, name: &str) -> Result<Value> {
        let _ = name;
        unsupported("package.halt")
    }
    /// Enable package switching (`node` = `None`) or node switching on `node`.
    fn enable(&self, name: &str, node: Option<&str>) -> Result<Value> {
        let _ = (name, node);
        unsupported("package.enable")
    }
    /// Disable package switching (`node` = `None`) or node switching on `node`.
    fn disable(&self, name: &str, node: Option<&str>) -> Result<Value> {
        let _ = (name, node);
        unsupported("package.disable")
    }
    /// Whether the package is in the toolkit's maintenance mode (not the product's own).
    fn in_maintenance(&self, name: &str) -> Result<bool> {
        let _ = name;
        unsupported("package.in_maintenance")
    }
    /// Enter (`on`) or leave the toolkit's maintenance mode; a no-op that says so when the
    /// package is already in the asked state.
    fn maintenance(&self, name: &str, on: bool) -> Result<Value> {
        let _ = (name, on);
        unsupported("package.maintenance")
    }
    /// The package configuration file's text and where it was read (`#{path, host, text}`).
    fn read_config(&self, name: &str) -> Result<Value> {
        let _ = name;
        unsupported("package.read_config")
    }
    /// Write the package configuration file (on `host`, or on every member when `None`).
    fn write_config(&self, name: &str, text: &str, host: Option<&str>) -> Result<Value> {
        let _ = (name, text, host);
        unsupported("package.write_config")
    }
    /// Make a new package configuration file from the product's template (B1 steps 1-2).
    fn make(&self, name: &str, host: Option<&str>) -> Result<Value> {
        let _ = (name, host);
        unsupported("package.make")
    }
    /// Copy the package directory to every member of its node list, not writable by group
    /// or others.
    fn distribute(&self, name: &str) -> Result<Value> {
        let _ = name;
        unsupported("package.distribute")
    }
    /// Verify the package configuration (`cmcheckconf -P`): a verdict, never a change.
    fn check(&self, name: &str) -> Result<Value> {
        let _ = name;
        unsupported("package.check")
    }
    /// Apply the package configuration (`cmapplyconf -P`).
    fn apply(&self, name: &str) -> Result<Value> {
        let _ = name;
        unsupported("package.apply")
    }
    /// The toolkit's easy deployment (`cmdeployvpkg`); `opts` is a map (`nodes`, `appmon`,
    /// `merge`, `replace`).
    fn deploy(&self, name: &str, opts: &Value) -> Result<Value> {
        let _ = (name, opts);
        unsupported("package.deploy")
    }
    /// Remove the package from the cluster (it must be halted first).
    fn remove(&self, name: &str) -> Result<Value> {
        let _ = name;
        unsupported("package.remove")
    }
    /// Back up the package directory on every member; returns where.
    fn backup(&self, name: &str) -> Result<Value> {
        let _ = name;
        unsupported("package.backup")
    }
    /// The manual's troubleshooting table as verdicts with remedies.
    fn diagnose(&self, name: &str) -> Result<Value> {
        let _ = name;
        unsupported("package.diagnose")
    }
}

#[cfg(test)]
mod recovery_tests {
    use super::*;

    #[derive(Default)]
    struct Log {
        lines: Mutex<Vec<String>>,
        refuse: AtomicBool,
    }
    impl RecoveryLog for Log {
        fn registered(&self, e: &RecoveryEntry) -> Result<()> {
            if self.refuse.load(Ordering::SeqCst) {
                return Err(Error::check("journal full"));
            }
            self.lines
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(format!("reg {} {} inherited={}", e.id, e.what, e.inherited));
            Ok(())
        }
        fn settled(&self, id: u64, o: RecoveryOutcome, by: &str, _d: Option<&str>) {
            self.lines
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(format!("settle {id} {} {by}", o.name()));
        }
    }

    #[test]
    fn guards_settle_once_and_unsettled_ones_stay_pending() {
        let r = Recoveries::new();
        let log = Arc::new(Log::default());
        r.set_log(log.clone());
        let a = r
            .register(
                "a",
                Some(serde_json::json!({"driver": "x", "routine": "a"})),
            )
            .map_err(|e| e.message);
        let b = r.register("b", None).map_err(|e| e.message);
        assert_eq!(a.as_ref().map(|e| e.id), Ok(1));
        assert_eq!(b.as_ref().map(|e| e.id), Ok(2));
        let g = RecoveryGuard {
            recoveries: r.clone(),
            entry: a.clone().unwrap_or_else(|e| panic!("{e}")),
        };
        g.ran::<()>(&Err(Error::cancelled()));
        assert_eq!(r.pending().len(), 2, "an interruption leaves it pending");
        g.done();
        g.done();
        assert_eq!(
            r.pending()
                .iter()
                .map(|e| e.what.as_str())
                .collect::<Vec<_>>(),
            ["b"]
        );
        let lines = log.lines.lock().unwrap_or_else(|p| p.into_inner()).clone();
        assert_eq!(
            lines,
            [
                "reg 1 a inherited=false",
                "reg 2 b inherited=false",
                "settle 1 not_needed driver"
            ]
        );
        log.refuse.store(true, Ordering::SeqCst);
        assert!(r.register("c", None).is_err());
        assert_eq!(
            r.pending().len(),
            1,
            "an unrecorded registration is not pending"
        );
    }

    #[test]
    fn a_routine_being_executed_is_settled_by_its_executor_not_by_the_driver_inside_it() {
        let r = Recoveries::new();
        let log = Arc::new(Log::default());
        r.set_log(log.clone());
        let a = r.register("a", Some(serde_json::json!({"procedure": "p"})));
        let b = r.register("b", Some(serde_json::json!({"procedure": "q"})));
        let (a, b) = (
            a.unwrap_or_else(|e| panic!("{e}")),
            b.unwrap_or_else(|e| panic!("{e}")),
        );
        r.executing(b.id);
        // The routine's own operations settle it while it runs: ignored.
        r.settle(b.id, RecoveryOutcome::NotNeeded, "driver", None);
        assert!(r.is_pending(b.id));
        // Its executor records how the execution ended.
        r.settle(b.id, RecoveryOutcome::Ok, "run", None);
        assert!(!r.is_pending(b.id));
        // Another routine, not being executed, is the driver's to settle as before.
        r.settle(a.id, RecoveryOutcome::NotNeeded, "driver", None);
        assert!(r.pending().is_empty());
        let lines = log.lines.lock().unwrap_or_else(|p| p.into_inner()).clone();
        assert_eq!(
            lines,
            [
                "reg 1 a inherited=false",
                "reg 2 b inherited=false",
                "settle 2 ok run",
                "settle 1 not_needed driver"
            ]
        );
    }

    #[test]
    fn a_single_call_settles_its_routine_from_how_it_ended() {
        let r = Recoveries::new();
        let log = Arc::new(Log::default());
        r.set_log(log.clone());
        let guard = |what: &str| {
            let entry = r
                .register(
                    what,
                    Some(serde_json::json!({"driver": "x", "routine": what})),
                )
                .unwrap_or_else(|e| panic!("{e}"));
            RecoveryGuard {
                recoveries: r.clone(),
                entry,
            }
        };
        let ok = guard("ok").settle_call(Ok(7), || panic!("no recovery after success"));
        assert_eq!(ok.map_err(|e| e.message), Ok(7));
        let cut = guard("cut").settle_call::<()>(Err(Error::cancelled()), || {
            panic!("an interruption leaves the routine to the run")
        });
        assert_eq!(cut.map_err(|e| e.kind), Err(ErrorKind::Cancelled));
        let failed = guard("failed")
            .settle_call::<()>(
                Err(Error::new(ErrorKind::Command, "sdtool -e failed on g2").on_host("g2")),
                || Ok("started again on g1".into()),
            )
            .expect_err("the call failed");
        assert_eq!(failed.kind, ErrorKind::Failed);
        assert_eq!(failed.host.as_deref(), Some("g2"));
        assert!(
            failed
                .message
                .ends_with("Recovery ran: started again on g1"),
            "{}",
            failed.message
        );
        let stuck = guard("stuck")
            .settle_call::<()>(Err(Error::new(ErrorKind::Command, "lost")), || {
                Err(Error::needs_attention("g2 unreachable").with_remedy("start it by hand"))
            })
            .expect_err("the call failed");
        assert_eq!(stuck.kind, ErrorKind::NeedsAttention);
        assert!(
            stuck.message.contains("g2 unreachable"),
            "{}",
            stuck.message
        );
        assert_eq!(stuck.remedy.as_deref(), Some("start it by hand"));
        assert_eq!(
            r.pending()
                .iter()
                .map(|e| e.what.as_str())
                .collect::<Vec<_>>(),
            ["cut"],
            "only the interrupted call's routine is left pending"
        );
        let lines = log.lines.lock().unwrap_or_else(|p| p.into_inner()).clone();
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.starts_with("settle"))
                .collect::<Vec<_>>(),
            [
                "settle 1 not_needed driver",
                "settle 3 ok driver",
                "settle 4 failed driver"
            ]
        );
    }

    #[test]
    fn a_driver_registration_finds_the_inherited_routine() {
        let r = Recoveries::new();
        let routine =
            serde_json::json!({"driver": "ldoms", "routine": "recover_migration", "guest": "g"});
        let inherited = r
            .inherit(&[("recover g".into(), Some(routine.clone()))])
            .unwrap_or_default();
        assert_eq!(inherited.len(), 1);
        let again = r
            .register("recover g", Some(routine))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(again.inherited);
        assert_eq!(again.id, inherited[0].id);
        assert_eq!(r.pending().len(), 1);
        let other = r
            .register(
                "other",
                Some(serde_json::json!({"driver": "ldoms", "routine": "x"})),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!other.inherited);
        assert_eq!(r.pending().len(), 2);
    }
}
