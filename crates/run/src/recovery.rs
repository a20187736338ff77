//! Recovery routines at the run's level (issue 5 item 3): the journal that records them,
//! running the pending ones in reverse order after a failure or Ctrl-C (and in `hascript
//! unwind` after a crash), and reading what a dead run left pending from its journal.
//!
//! A changing driver call registers its recovery routine before it acts
//! ([`hascript_api::objects::Context::register_recovery`]); the registration is a
//! `recovery_registered` journal line synced to disk before the change leaves. The component
//! that registered it settles it (`recovery_run`: not needed, ran, left for a person); a
//! routine never settled is **pending**: the run executes it on failure or Ctrl-C, and a
//! later `hascript unwind <run>` executes it from a fresh process when the run died. Each
//! routine therefore has exactly one owner at any time, and nothing runs twice.
//!
//! Scripts register their own with `defer(|| …)` (see [`crate::engine::helpers`]): a closure
//! cannot be written down, so the journal marks it "not re-runnable" and `unwind` reports it
//! instead of running it.
//!
//! [`PacedClock`] makes a simulated site's virtual waits take real time
//! (`HASCRIPT_SIM_PACE_MS`), so that an interruption in the middle of a wait can be tested.

use std::sync::Arc;
use std::time::Duration;

use hascript_api::objects::{RecoveryEntry, RecoveryLog, RecoveryOutcome, Value};
use hascript_api::{CancelToken, Clock, Error};

use hascript_api::Effect;

use crate::journal::{Event, LockAction, Purpose, Recorder};

/// Records registrations and settlements of recovery routines in the run's journal.
pub struct JournalLog {
    rec: Arc<Recorder>,
}

impl JournalLog {
    /// A log writing into `rec`.
    pub fn new(rec: Arc<Recorder>) -> Self {
        JournalLog { rec }
    }
}

impl RecoveryLog for JournalLog {
    fn registered(&self, e: &RecoveryEntry) -> hascript_api::Result<()> {
        // The procedure a routine would run, as it is now: `unwind` compares against it.
        if let Some(name) = e
            .routine
            .as_ref()
            .and_then(|r| r.get("procedure"))
            .and_then(Value::as_str)
        {
            if let Some(s) = crate::scripts::find(name, &crate::scripts::search_path()) {
                let kind = crate::scripts::LoadKind::Routine;
                self.rec
                    .script_loaded(&crate::scripts::Loaded::of(name, kind, &s));
            }
        }
        let ev = Event::RecoveryRegistered {
            id: e.id,
            what: e.what.clone(),
            routine: e.routine.clone(),
            rerunnable: e.routine.is_some(),
            inherited: e.inherited,
        };
        self.rec.write(&ev, true).map_err(|m| {
            if self.rec.changes() == 0 {
                return crate::journal::not_recorded(
                    &m,
                    &format!(
                        "the recovery routine \"{}\" could not be recorded, so the change it protects was not sent",
                        e.what
                    ),
                );
            }
            Error::check(format!(
                "{m}: the recovery routine \"{}\" could not be recorded, so the change it protects was not sent; free the journal's disk or set XDG_STATE_HOME to a writable folder",
                e.what
            ))
        })
    }

    fn settled(&self, id: u64, outcome: RecoveryOutcome, by: &str, detail: Option<&str>) {
        // Synced: a settlement read back by `unwind` must not be lost to a crash.
        let ev = Event::RecoveryRun {
            id,
            outcome: outcome.name().into(),
            by: by.into(),
            detail: detail.map(str::to_string),
        };
        if let Err(e) = self.rec.write(&ev, true) {
            eprintln!("warning: {e}");
        }
    }
}

/// A routine a dead run left pending, read back from its journal.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    /// Its number in that run.
    pub id: u64,
    /// What it does.
    pub what: String,
    /// The driver's description (absent: a script's `defer`, which cannot be re-run).
    pub routine: Option<Value>,
}

/// The routines a run registered and never settled, in registration order. A routine
/// `abandoned` by a second Ctrl-C is still pending.
pub fn pending_in(lines: &[Event]) -> Vec<Pending> {
    let mut pending: Vec<Pending> = Vec::new();
    for l in lines {
        match l {
            Event::RecoveryRegistered {
                id, what, routine, ..
            } => pending.push(Pending {
                id: *id,
                what: what.clone(),
                routine: object(routine),
            }),
            Event::RecoveryRun { id, outcome, .. }
                if outcome != RecoveryOutcome::Abandoned.name() =>
            {
                pending.retain(|p| p.id != *id)
            }
            _ => {}
        }
    }
    pending
}

/// A routine's description when it is one (an object: `{driver, routine, …}` as older
/// journals wrote it, `{procedure, params}` as newer ones do); anything else reads as none.
fn object(routine: &Option<Value>) -> Option<Value> {
    routine.as_ref().filter(|r| r.is_object()).cloned()
}

/// The settlements that leave a routine's work undone: it ran and failed, its owner stopped
/// and left it for a person, or it could not run in that process.
const LEFT_OUTCOMES: [RecoveryOutcome; 3] = [
    RecoveryOutcome::Failed,
    RecoveryOutcome::LeftForOperator,
    RecoveryOutcome::CannotRun,
];

/// A routine a run settled with its work undone ([`LEFT_OUTCOMES`]): not pending (nobody
/// will run it by itself), yet what it protects is not back where the manual wants it — an
/// LDoms migration whose recovery could not reach a guest leaves the CF timeout at 600 s
/// and the shutdown facility stopped. `hascript unwind` names it and offers to run it
/// again.
#[derive(Debug, Clone, PartialEq)]
pub struct Left {
    /// Its number in that run.
    pub id: u64,
    /// What it does.
    pub what: String,
    /// The driver's description (absent: a script's `defer`, which cannot be re-run).
    pub routine: Option<Value>,
    /// How it was settled (`failed`, `left_for_operator`, `cannot_run`).
    pub outcome: String,
    /// Who settled it (`driver`, `run`, `unwind`).
    pub by: String,
    /// What happened and, where the owner gave one, the remedy.
    pub detail: Option<String>,
    /// Hosts that did not answer (a command to them failed in the transport) between its
    /// registration and its settlement, each with the first such error: where it stopped.
    pub unanswered: Vec<(String, String)>,
}

/// The routines a run settled with their work undone, in registration order.
pub fn left_in(lines: &[Event]) -> Vec<Left> {
    let mut registered: Vec<(u64, usize, String, Option<Value>)> = Vec::new();
    let mut out: Vec<Left> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        match l {
            Event::RecoveryRegistered {
                id, what, routine, ..
            } => registered.push((*id, i, what.clone(), object(routine))),
            Event::RecoveryRun {
                id,
                outcome,
                by,
                detail,
            } if LEFT_OUTCOMES.iter().any(|o| outcome == o.name()) => {
                let Some((_, from, what, routine)) =
                    registered.iter().rev().find(|r| r.0 == *id).cloned()
                else {
                    continue;
                };
                out.push(Left {
                    id: *id,
                    what,
                    routine,
                    outcome: outcome.clone(),
                    by: by.clone(),
                    detail: detail.clone(),
                    unanswered: unanswered(&lines[from..i]),
                });
            }
            _ => {}
        }
    }
    out
}

/// The hosts whose commands failed in the transport (no exit code) in `lines`, each with
/// its first error (without the command details the journal line already has).
fn unanswered(lines: &[Event]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for l in lines {
        let Event::CommandEnd {
            host,
            exit: None,
            error: Some(err),
            ..
        } = l
        else {
            continue;
        };
        if !out.iter().any(|(h, _)| h == host) {
            let err = err.split(" [host ").next().unwrap_or(err).trim();
            out.push((host.clone(), err.to_string()));
        }
    }
    out
}

/// The routines a continuation's journal (`newer`) inherited from the run it continued
/// (`recovery_registered` lines with `inherited: true`), as (what, routine description).
fn inherited_routines(newer: &[Event]) -> Vec<(String, Option<Value>)> {
    newer
        .iter()
        .filter_map(|l| match l {
            Event::RecoveryRegistered {
                what,
                routine,
                inherited: true,
                ..
            } => Some((what.clone(), object(routine))),
            _ => None,
        })
        .collect()
}

/// What is still left undone after a continuation (journal `newer`) of a run that left
/// `older_left` undone and `older_pending` pending: a continuation that re-ran a routine
/// left undone inherited it (an `inherited` registration, after those of the pending
/// routines), and its own journal says how that ended. Older routines it did not inherit
/// are still left; then what it left undone itself.
pub fn left_after(older_pending: &[Pending], older_left: &[Left], newer: &[Event]) -> Vec<Left> {
    let mut inherited = inherited_routines(newer);
    let mut take = |what: &str, routine: &Option<Value>| match inherited
        .iter()
        .position(|(w, r)| w == what && r == routine)
    {
        Some(i) => {
            inherited.remove(i);
            true
        }
        None => false,
    };
    for p in older_pending {
        take(&p.what, &p.routine);
    }
    let mut out: Vec<Left> = older_left
        .iter()
        .filter(|l| !take(&l.what, &l.routine))
        .cloned()
        .collect();
    out.extend(left_in(newer));
    out
}

/// Lines for the operator about routines left undone (`unwind`: the command that runs the
/// re-runnable ones again).
pub fn left_lines(left: &[Left], unwind: &str) -> Vec<String> {
    let mut out = Vec::new();
    for l in left {
        let detail = l
            .detail
            .as_deref()
            .map(|d| format!(": {}", d.replace('\n', "\n      ")))
            .unwrap_or_default();
        out.push(format!(
            "  #{} {} — {} (by {}){detail}",
            l.id, l.what, l.outcome, l.by
        ));
        for (h, e) in &l.unanswered {
            out.push(format!(
                "      no answer from {h} while it was under way: {e}"
            ));
        }
        out.push(match &l.routine {
            Some(r) => format!(
                "      to finish: do what stopped it says (above), then run it again with `{unwind} --yes` (it reads the real state first and does only what is left); routine {r}"
            ),
            None => "      to finish: do by hand what it does (a script's own routine runs only in the run that registered it)".to_string(),
        });
    }
    out
}

/// A change command whose outcome a run never recorded (a `command_start` with no
/// `command_end` of the same number): it may or may not have taken effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown {
    /// Its number in that run.
    pub seq: u64,
    /// The host.
    pub host: String,
    /// The command as journaled (secrets hidden).
    pub command: String,
}

/// The change commands of the procedure (not lock bookkeeping) whose outcome was never
/// recorded.
pub fn unknown_outcomes(lines: &[Event]) -> Vec<Unknown> {
    unknown_commands(lines, false)
}

/// The change commands whose outcome was never recorded: the lock's own (`lock`) or the
/// procedure's.
fn unknown_commands(lines: &[Event], lock: bool) -> Vec<Unknown> {
    let mut started: Vec<Unknown> = Vec::new();
    for l in lines {
        match l {
            Event::CommandStart {
                seq,
                host,
                command,
                purpose,
                ..
            } if (*purpose == Purpose::Lock) == lock => started.push(Unknown {
                seq: *seq,
                host: host.clone(),
                command: command.clone(),
            }),
            Event::CommandEnd { seq, .. } => started.retain(|u| u.seq != *seq),
            _ => {}
        }
    }
    started
}

/// The procedure's change commands a run sent and saw end (`command_end` with an exit),
/// oldest first: what a resumed bracket must neither send again nor retry unasked.
pub fn completed_changes(lines: &[Event]) -> Vec<hascript_api::objects::PriorChange> {
    lines
        .iter()
        .filter_map(|l| match l {
            Event::CommandEnd {
                host,
                command,
                effect: Effect::Change,
                purpose: Purpose::Procedure,
                exit: Some(exit),
                ..
            } => Some(hascript_api::objects::PriorChange {
                host: host.clone(),
                command: command.clone(),
                exit: *exit,
            }),
            _ => None,
        })
        .collect()
}

/// Whether `lines` say the lock of `host` was released.
fn released(lines: &[Event], host: &str) -> bool {
    lines.iter().any(
        |l| matches!(l, Event::Lock { host: h, action: LockAction::Released, .. } if h == host),
    )
}

/// The hosts whose lock a run took (and may have left behind when it died).
pub fn locked_hosts(lines: &[Event]) -> Vec<String> {
    let mut hosts: Vec<String> = Vec::new();
    for l in lines {
        let Event::Lock { host, action, .. } = l else {
            continue;
        };
        match action {
            LockAction::Taken | LockAction::TakenOver if !hosts.contains(host) => {
                hosts.push(host.clone())
            }
            LockAction::Released => hosts.retain(|h| h != host),
            _ => {}
        }
    }
    // A run killed between its lock's `mkdir` and the owner file holds a lock with no
    // owner: its journal shows the successful mkdir (purpose `lock`) without `taken` — or,
    // killed while the mkdir ran, only its `command_start` (the folder may have been made).
    let unknown_lock_mkdirs: Vec<u64> = unknown_commands(lines, true)
        .into_iter()
        .filter(|u| u.command.contains("mkdir"))
        .map(|u| u.seq)
        .collect();
    for l in lines {
        let (host, command, made) = match l {
            Event::CommandEnd {
                host,
                command,
                purpose: Purpose::Lock,
                exit,
                ..
            } => (host, command, *exit == Some(0)),
            Event::CommandStart {
                seq,
                host,
                command,
                purpose: Purpose::Lock,
                ..
            } => (host, command, unknown_lock_mkdirs.contains(seq)),
            _ => continue,
        };
        if made
            && command.contains("mkdir")
            && !hosts.iter().any(|h| h == host)
            && !released(lines, host)
        {
            hosts.push(host.clone());
        }
    }
    hosts
}

/// What a continuation (`resume` or `unwind` of run A, journal `newer`) still owes of what A
/// left pending (`older`): a continuation inherits A's routines (a `recovery_registered`
/// line with `inherited: true` each) only after it has taken over A's locks, so one that
/// died before then never recorded them. A's routines it did not inherit come first (they
/// are older), then what the continuation itself left pending.
pub fn pending_after(older: &[Pending], newer: &[Event]) -> Vec<Pending> {
    let mut inherited = inherited_routines(newer);
    let mut out: Vec<Pending> = older
        .iter()
        .filter(|p| {
            match inherited
                .iter()
                .position(|(w, r)| *w == p.what && *r == p.routine)
            {
                Some(i) => {
                    inherited.remove(i);
                    false
                }
                None => true,
            }
        })
        .cloned()
        .collect();
    out.extend(pending_in(newer));
    out
}

/// The hosts whose lock is still left after a continuation (journal `newer`) of a run that
/// left `older` locked: a continuation takes over its dead run's locks one host at a time,
/// so one that died half-way left the others as they were. Those it released are free.
pub fn locked_after(older: &[String], newer: &[Event]) -> Vec<String> {
    let released = |h: &str| released(newer, h);
    let mut out: Vec<String> = older.iter().filter(|h| !released(h)).cloned().collect();
    for h in locked_hosts(newer) {
        if !out.contains(&h) {
            out.push(h);
        }
    }
    out
}

// The routines' running and wording belong to the engine, which runs them at the end of a
// run; what is read from journals stays here.
pub use crate::engine::routines::{
    as_procedure, pending_lines, report_lines, routine_words, run_driver_routine, Ran,
};

// ----- a virtual clock that takes real time ------------------------------------------------

/// Environment variable: real milliseconds a simulated site's clock spends per virtual
/// second of waiting (`HASCRIPT_SIM_PACE_MS=20`: a 600 s wait takes 12 s). Unset or 0: waits
/// take no real time. For tests and demonstrations of Ctrl-C during a wait; the virtual time
/// is still what the site sees.
pub const PACE_ENV: &str = "HASCRIPT_SIM_PACE_MS";

/// The pace from [`PACE_ENV`] (real time per virtual second), if set and non-zero.
pub fn pace_from_env() -> Option<Duration> {
    let ms: u64 = std::env::var(PACE_ENV).ok()?.trim().parse().ok()?;
    (ms > 0).then(|| Duration::from_millis(ms.min(10_000)))
}

/// A clock that sleeps `pace` of real time (cancellably) per virtual second before it lets
/// the inner (virtual) clock advance.
pub struct PacedClock {
    inner: Arc<dyn Clock>,
    pace: Duration,
}

impl PacedClock {
    /// `inner`, paced at `pace` of real time per virtual second.
    pub fn new(inner: Arc<dyn Clock>, pace: Duration) -> Self {
        PacedClock { inner, pace }
    }
}

impl Clock for PacedClock {
    fn now(&self) -> Duration {
        self.inner.now()
    }

    fn sleep(&self, d: Duration, cancel: &CancelToken) -> hascript_api::Result<()> {
        let real = self.pace.mul_f64(d.as_secs_f64());
        if cancel.wait_timeout(real) {
            return Err(Error::cancelled());
        }
        self.inner.sleep(d, cancel)
    }
}

/// `clock` paced by [`PACE_ENV`] when it is set.
pub fn maybe_paced(clock: Arc<dyn Clock>) -> Arc<dyn Clock> {
    match pace_from_env() {
        Some(p) => Arc::new(PacedClock::new(clock, p)),
        None => clock,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The events of lines written the short way (the other fields empty).
    fn evs(lines: &[Value]) -> Vec<Event> {
        lines
            .iter()
            .cloned()
            .map(crate::journal::samples::event)
            .collect()
    }

    #[test]
    fn completed_changes_are_the_procedures_ended_change_commands() {
        let lines = vec![
            json!({"event": "command_start", "seq": 1, "host": "node1", "command": "cmmovevpkg -v -P slvm1 -h node2", "effect": "change", "purpose": "procedure"}),
            json!({"event": "command_end", "seq": 1, "host": "node1", "command": "cmmovevpkg -v -P slvm1 -h node2", "effect": "change", "purpose": "procedure", "exit": 1}),
            json!({"event": "command_end", "seq": 2, "host": "node1", "command": "cmviewcl -v -f line", "effect": "read", "purpose": "procedure", "exit": 0}),
            json!({"event": "command_end", "seq": 3, "host": "node1", "command": "/bin/mkdir -m 700 /var/tmp/hascript.lock", "effect": "change", "purpose": "lock", "exit": 0}),
            json!({"event": "command_start", "seq": 4, "host": "node1", "command": "cmmodpkg -e slvm1", "effect": "change", "purpose": "procedure"}),
        ];
        let c = completed_changes(&evs(&lines));
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!(
            (c[0].host.as_str(), c[0].command.as_str(), c[0].exit),
            ("node1", "cmmovevpkg -v -P slvm1 -h node2", 1)
        );
        let r = hascript_api::objects::Recoveries::new();
        r.set_prior_changes(c);
        assert_eq!(
            r.prior_change("cmmovevpkg -v -P slvm1 -h node2")
                .map(|p| p.exit),
            Some(1)
        );
        assert!(r.prior_change("cmmodpkg -e slvm1").is_none());
    }

    #[test]
    fn pending_routines_are_registered_minus_settled() {
        let lines = vec![
            json!({"event": "recovery_registered", "id": 1, "what": "a", "routine": {"driver": "ldoms", "routine": "recover_migration", "guest": "g"}, "rerunnable": true}),
            json!({"event": "recovery_registered", "id": 2, "what": "b", "rerunnable": false}),
            json!({"event": "recovery_registered", "id": 3, "what": "c", "rerunnable": false}),
            json!({"event": "recovery_run", "id": 2, "outcome": "not_needed", "by": "driver"}),
            json!({"event": "recovery_run", "id": 3, "outcome": "abandoned", "by": "run"}),
        ];
        let p = pending_in(&evs(&lines));
        assert_eq!(
            p.iter()
                .map(|p| (p.id, p.routine.is_some()))
                .collect::<Vec<_>>(),
            [(1, true), (3, false)]
        );
    }

    #[test]
    fn routines_settled_undone_are_left_with_the_hosts_that_did_not_answer() {
        let routine = json!({"driver": "ldoms", "routine": "recover_migration", "guest": "g"});
        let lines = vec![
            json!({"event": "command_end", "seq": 1, "host": "cd9", "error": "before [host cd9]"}),
            json!({"event": "recovery_registered", "id": 1, "what": "a", "routine": routine}),
            json!({"event": "recovery_registered", "id": 2, "what": "b"}),
            json!({"event": "command_end", "seq": 2, "host": "guest1", "exit": 0}),
            json!({"event": "command_end", "seq": 3, "host": "guest1", "error": "cannot connect to guest1: refused [host guest1] [command: x]"}),
            json!({"event": "command_end", "seq": 4, "host": "guest1", "error": "again"}),
            json!({"event": "recovery_run", "id": 1, "outcome": "failed", "by": "driver", "detail": "d; remedy: r"}),
            json!({"event": "recovery_run", "id": 2, "outcome": "ok", "by": "run"}),
            json!({"event": "recovery_registered", "id": 3, "what": "c"}),
            json!({"event": "recovery_run", "id": 3, "outcome": "cannot_run", "by": "unwind"}),
        ];
        let left = left_in(&evs(&lines));
        assert_eq!(
            left.iter()
                .map(|l| (l.id, l.outcome.as_str()))
                .collect::<Vec<_>>(),
            [(1, "failed"), (3, "cannot_run")]
        );
        assert_eq!(left[0].routine.as_ref(), Some(&routine));
        assert_eq!(left[0].detail.as_deref(), Some("d; remedy: r"));
        assert_eq!(
            left[0].unanswered,
            [(
                "guest1".to_string(),
                "cannot connect to guest1: refused".to_string()
            )]
        );
        assert!(left[1].unanswered.is_empty());
        let text = left_lines(&left, "hascript unwind R").join("\n");
        assert!(text.contains("no answer from guest1"), "{text}");
        assert!(text.contains("`hascript unwind R --yes`"), "{text}");
        assert!(text.contains("do by hand what it does"), "{text}");
        // An unwind that ran the first again (inherited after the pending one) and saw it
        // end well leaves only the other; one that did not inherit it leaves both.
        let pending = vec![Pending {
            id: 9,
            what: "a".into(),
            routine: Some(routine.clone()),
        }];
        let again = vec![
            json!({"event": "recovery_registered", "id": 1, "what": "a", "routine": routine, "inherited": true}),
            json!({"event": "recovery_run", "id": 1, "outcome": "ok", "by": "unwind"}),
            json!({"event": "recovery_registered", "id": 2, "what": "a", "routine": routine, "inherited": true}),
            json!({"event": "recovery_run", "id": 2, "outcome": "ok", "by": "unwind"}),
        ];
        let after = left_after(&pending, &left, &evs(&again));
        assert_eq!(after.iter().map(|l| l.id).collect::<Vec<_>>(), [3]);
        // The same routine inherited once only: it was the pending one's.
        assert_eq!(left_after(&pending, &left, &evs(&again[..2])).len(), 2);
        assert_eq!(left_after(&[], &left, &[]).len(), 2);
    }

    #[test]
    fn a_change_without_its_end_is_unknown_and_lock_bookkeeping_is_not() {
        let lines = vec![
            json!({"event": "command_start", "seq": 1, "host": "cd1", "command": "mkdir", "purpose": "lock"}),
            json!({"event": "command_start", "seq": 2, "host": "cd1", "command": "clovmmigrate -p g", "purpose": "procedure"}),
            json!({"event": "command_end", "seq": 2}),
            json!({"event": "command_start", "seq": 3, "host": "cd1", "command": "ldm migrate-domain g cd3", "purpose": "procedure"}),
        ];
        assert_eq!(
            unknown_outcomes(&evs(&lines)),
            [Unknown {
                seq: 3,
                host: "cd1".into(),
                command: "ldm migrate-domain g cd3".into()
            }]
        );
        let locks = vec![
            json!({"event": "lock", "host": "cd1", "action": "taken"}),
            json!({"event": "lock", "host": "cd2", "action": "taken"}),
            json!({"event": "lock", "host": "cd2", "action": "released"}),
        ];
        assert_eq!(locked_hosts(&evs(&locks)), ["cd1"]);
    }

    #[test]
    fn a_lock_mkdir_killed_before_its_end_counts_as_possibly_made() {
        let mkdir = |seq: u64, host: &str| {
            json!({"event": "command_start", "seq": seq, "host": host, "purpose": "lock",
                "command": "/bin/mkdir -m 700 /var/tmp/hascript.lock"})
        };
        let end = |seq: u64, host: &str, exit: i64| {
            json!({"event": "command_end", "seq": seq, "host": host, "purpose": "lock",
                "command": "/bin/mkdir -m 700 /var/tmp/hascript.lock", "exit": exit})
        };
        // node1: made and owned; node2: refused (another run's lock); node3: killed while
        // the mkdir ran; node4: its mkdir ended well but no owner was written.
        let lines = vec![
            mkdir(1, "node1"),
            end(1, "node1", 0),
            json!({"event": "lock", "host": "node1", "action": "taken"}),
            mkdir(2, "node2"),
            end(2, "node2", 1),
            mkdir(3, "node4"),
            end(3, "node4", 0),
            mkdir(4, "node3"),
        ];
        assert_eq!(locked_hosts(&evs(&lines)), ["node1", "node4", "node3"]);
        // The lock's own commands are never the procedure's unknown outcomes.
        assert!(unknown_outcomes(&evs(&lines)).is_empty());
    }

    #[test]
    fn a_continuation_that_died_early_still_owes_its_dead_runs_routines_and_locks() {
        let routine = |g: &str| json!({"driver": "hpvm", "routine": "recover_move", "package": g});
        let older = vec![
            Pending {
                id: 1,
                what: "recover a".into(),
                routine: Some(routine("a")),
            },
            Pending {
                id: 2,
                what: "recover b".into(),
                routine: Some(routine("b")),
            },
        ];
        // Died while taking over the locks: nothing inherited, node1 taken over, node2 not.
        let early = vec![
            json!({"event": "run"}),
            json!({"event": "lock", "host": "node1", "action": "taken_over"}),
        ];
        assert_eq!(pending_after(&older, &evs(&early)), older);
        let locked = vec!["node1".to_string(), "node2".to_string()];
        assert_eq!(locked_after(&locked, &evs(&early)), ["node1", "node2"]);
        // Inherited the first only, then settled it and released node1; registered its own.
        let later = vec![
            json!({"event": "recovery_registered", "id": 1, "what": "recover a", "routine": routine("a"), "inherited": true}),
            json!({"event": "recovery_run", "id": 1, "outcome": "ok", "by": "driver"}),
            json!({"event": "recovery_registered", "id": 2, "what": "recover c", "routine": routine("c")}),
            json!({"event": "lock", "host": "node1", "action": "released"}),
            json!({"event": "lock", "host": "node3", "action": "taken"}),
        ];
        let p = pending_after(&older, &evs(&later));
        assert_eq!(
            p.iter().map(|p| p.what.as_str()).collect::<Vec<_>>(),
            ["recover b", "recover c"]
        );
        assert_eq!(locked_after(&locked, &evs(&later)), ["node2", "node3"]);
    }

    #[test]
    fn a_paced_clock_takes_real_time_and_stops_at_once_when_cancelled() {
        let v = Arc::new(hascript_api::testing::ManualClock::default());
        let c = PacedClock::new(v.clone(), Duration::from_millis(10));
        let token = CancelToken::new();
        let t = std::time::Instant::now();
        assert!(c.sleep(Duration::from_secs(5), &token).is_ok());
        assert!(t.elapsed() >= Duration::from_millis(50));
        assert_eq!(c.now(), Duration::from_secs(5));
        let t2 = token.clone();
        let h = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            t2.cancel();
        });
        let t = std::time::Instant::now();
        let r = c.sleep(Duration::from_secs(3600), &token);
        let _ = h.join();
        assert!(r.is_err());
        assert!(t.elapsed() < Duration::from_secs(2));
        assert_eq!(c.now(), Duration::from_secs(5), "no virtual time passed");
    }
}
