//! `hascript run … --dry-run`: the procedure runs whole against a simulated copy of the
//! site, and the plan lists what a real run would do — every state-changing command with its
//! host and step, the waits it expects and the confirmations it would ask — while nothing
//! that changes state reaches the site.
//!
//! - On a simulated site (`--sim [SCENARIO]`, `--sim-state DIR`) the copy is
//!   [`hascript_sim::SimSite::detached_copy`]: the simulated state cloned in memory (a state
//!   folder is read, never written). Reads and changes go to the copy, with the real drivers.
//! - On a real site (`-i`) the transport is [`DryRun`]: read-only commands go to the site and
//!   their outputs are kept as observations; at the first change, the copy is seeded from
//!   them ([`hascript_sim::SimSite::seeded`]) and the change and everything after it go to
//!   the copy. Where the copy cannot be seeded, the change is listed as **unknown** and the
//!   plan stops there: nothing more is sent, not even a read, because every later answer
//!   would depend on what that change did.
//!
//! The plan is built from the run's journal events ([`Plan`] is an
//! [`crate::journal::EventSink`]): `step` (sections), `command_start` (changes), `wait` /
//! `wait_end`, `confirm`. A dry run takes no host lock and its journal header says
//! `dry_run: true`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hascript_api::objects::Value;
use hascript_api::{CancelToken, Clock, Command, Effect, Error, ErrorKind, Exec, Output, Program};
use hascript_sim::{CopyAnswer, Declared, Observation, SimSite};
use serde::Serialize;

use crate::journal::{Event, EventSink, Purpose};

/// Exit code of a dry run whose plan is incomplete: a change could not be represented by
/// the simulated copy, so the plan stops at that change ("unknown").
pub const EXIT_INCOMPLETE: i32 = 4;

/// One line of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PlanEntry {
    /// A state-changing command a real run would send.
    Change {
        /// Its number in the plan (1, 2, …).
        n: u64,
        /// The manual's section of the step it belongs to (may be empty).
        section: String,
        /// The step's title.
        step: String,
        /// The inventory host.
        host: String,
        /// The command as displayed (secrets as `*****`).
        command: String,
        /// Why the copy could not say what it does, when it could not ("unknown").
        #[serde(skip_serializing_if = "Option::is_none")]
        unknown: Option<String>,
    },
    /// A wait the procedure expects.
    Wait {
        /// What is awaited.
        what: String,
        /// Its deadline, seconds.
        deadline_s: u64,
        /// How long it took on the copy (virtual time), when it ended visibly.
        #[serde(skip_serializing_if = "Option::is_none")]
        took_s: Option<u64>,
    },
    /// A fixed pause outside any wait (a driver's settling time, a script's `sleep`);
    /// consecutive pauses are added up.
    Sleep {
        /// Seconds.
        seconds: u64,
    },
    /// The copy cannot tell what a read after the last change would return: the plan
    /// stops here.
    Unknown {
        /// Why.
        why: String,
    },
    /// A question a real run would ask.
    Confirm {
        /// The question.
        question: String,
        /// What the dry run answered (what `--yes` answers).
        #[serde(skip_serializing_if = "Option::is_none")]
        answer: Option<bool>,
    },
}

#[derive(Debug, Default)]
struct PlanState {
    entries: Vec<PlanEntry>,
    section: String,
    step: String,
    changes: u64,
    /// Index in `entries` of the open wait.
    open_wait: Option<usize>,
    /// Why the plan stopped early (a change the copy could not represent).
    cut: Option<String>,
    /// The message of the last `error` event (what ended the procedure on the copy).
    error: Option<String>,
}

/// The plan of a dry run, built from the run's events.
#[derive(Default)]
pub struct Plan {
    state: Mutex<PlanState>,
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plan").finish_non_exhaustive()
    }
}

impl Plan {
    /// An empty plan.
    pub fn new() -> Self {
        Plan::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PlanState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every entry so far.
    pub fn entries(&self) -> Vec<PlanEntry> {
        self.lock().entries.clone()
    }

    /// The change commands, as `host: command`, in order.
    pub fn changes(&self) -> Vec<String> {
        self.lock()
            .entries
            .iter()
            .filter_map(|e| match e {
                PlanEntry::Change { host, command, .. } => Some(format!("{host}: {command}")),
                _ => None,
            })
            .collect()
    }

    /// The message of the error that ended the procedure on the copy, if one did.
    pub fn last_error(&self) -> Option<String> {
        self.lock().error.clone()
    }

    /// Why the plan stopped early, if it did.
    pub fn cut(&self) -> Option<String> {
        self.lock().cut.clone()
    }

    /// The run's clock slept `d` (see [`PlanClock`]): part of the open wait, or a pause.
    pub fn slept(&self, d: Duration) {
        let mut st = self.lock();
        if st.open_wait.is_some() {
            return;
        }
        let secs = d.as_secs();
        if let Some(PlanEntry::Sleep { seconds }) = st.entries.last_mut() {
            *seconds += secs;
            return;
        }
        if secs > 0 {
            st.entries.push(PlanEntry::Sleep { seconds: secs });
        }
    }

    /// Mark the last change as unknown (`why`) and the plan as stopped there.
    pub fn mark_unknown(&self, why: &str) {
        let mut st = self.lock();
        if let Some(PlanEntry::Change { unknown, .. }) = st
            .entries
            .iter_mut()
            .rev()
            .find(|e| matches!(e, PlanEntry::Change { .. }))
        {
            *unknown = Some(why.to_string());
        }
        if st.cut.is_none() {
            st.cut = Some(why.to_string());
        }
    }

    /// Stop the plan at a read the copy cannot answer (`why`): listed as an unknown entry.
    pub fn unknown_from_here(&self, why: &str) {
        let mut st = self.lock();
        st.entries.push(PlanEntry::Unknown {
            why: why.to_string(),
        });
        if st.cut.is_none() {
            st.cut = Some(why.to_string());
        }
    }

    /// Take one journal event into the plan.
    pub fn take(&self, e: &Event) {
        let mut st = self.lock();
        match e {
            Event::Step { section, title, .. } => {
                st.section = section.clone();
                st.step = title.clone();
                st.open_wait = None;
            }
            Event::CommandStart {
                host,
                command,
                purpose: Purpose::Procedure,
                ..
            } => {
                st.changes += 1;
                let e = PlanEntry::Change {
                    n: st.changes,
                    section: st.section.clone(),
                    step: st.step.clone(),
                    host: host.clone(),
                    command: command.clone(),
                    unknown: None,
                };
                st.entries.push(e);
                st.open_wait = None;
            }
            Event::Wait {
                what,
                elapsed_s,
                remaining_s,
                ..
            } => {
                let same = st.open_wait.and_then(|i| match st.entries.get(i) {
                    Some(PlanEntry::Wait { what: w, .. }) if w == what => Some(i),
                    _ => None,
                });
                if same.is_none() {
                    st.entries.push(PlanEntry::Wait {
                        what: what.clone(),
                        deadline_s: elapsed_s + remaining_s,
                        took_s: None,
                    });
                    st.open_wait = Some(st.entries.len() - 1);
                }
            }
            Event::WaitEnd {
                what, elapsed_s, ..
            } => {
                if let Some(PlanEntry::Wait {
                    what: w, took_s, ..
                }) = st.entries.iter_mut().rev().find(
                    |e| matches!(e, PlanEntry::Wait { what: w, took_s: None, .. } if w == what),
                ) {
                    if w == what {
                        *took_s = Some(*elapsed_s);
                    }
                }
                st.open_wait = None;
            }
            Event::Confirm {
                question, answer, ..
            } => {
                st.entries.push(PlanEntry::Confirm {
                    question: question.clone(),
                    answer: *answer,
                });
                st.open_wait = None;
            }
            Event::Error {
                message, report, ..
            } => st.error = Some(report.clone().unwrap_or_else(|| message.clone())),
            _ => {}
        }
    }

    /// The plan for people: numbered change commands (`1. [17.3.1.1] cd2: …`), with the
    /// waits and confirmations between them.
    pub fn render(&self) -> Vec<String> {
        let st = self.lock();
        let mut out = Vec::new();
        for e in &st.entries {
            match e {
                PlanEntry::Change {
                    n,
                    section,
                    host,
                    command,
                    unknown,
                    ..
                } => {
                    let sec = if section.is_empty() {
                        String::new()
                    } else {
                        format!("[{section}] ")
                    };
                    out.push(format!("{n:>3}. {sec}{host}: {command}"));
                    if let Some(why) = unknown {
                        out.push(format!("       unknown: {why}"));
                    }
                }
                PlanEntry::Wait {
                    what,
                    deadline_s,
                    took_s,
                } => {
                    let took = match took_s {
                        Some(t) => format!("about {t} s on the copy, "),
                        None => String::new(),
                    };
                    out.push(format!(
                        "       wait: {what} ({took}deadline {deadline_s} s)"
                    ));
                }
                PlanEntry::Sleep { seconds } => {
                    out.push(format!("       pause: {seconds} s"));
                }
                PlanEntry::Unknown { why } => {
                    out.push(format!("       unknown from here: {why}"));
                }
                PlanEntry::Confirm { question, answer } => {
                    let a = match answer {
                        Some(true) => "answered yes in the dry run",
                        Some(false) => "answered no",
                        None => "not answered",
                    };
                    out.push(format!(
                        "       asks: {question} ({a}; a real run asks, or --yes answers)"
                    ));
                }
            }
        }
        out
    }

    /// The plan as one JSON value (the `plan` event of `--output json` and the journal).
    pub fn to_json(&self, complete: bool, outcome: &str) -> Value {
        let st = self.lock();
        serde_json::json!({
            "complete": complete,
            "outcome": outcome,
            "entries": st.entries,
            "cut": st.cut,
        })
    }
}

impl EventSink for Plan {
    fn line(&self, _line: &str, event: &Event) {
        self.take(event);
    }
}

/// How a dry run ends: its exit code and the last line of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The process exit code: 0 plan complete and the procedure ends well on the copy; 3 a
    /// precondition already fails (nothing more would happen); [`EXIT_INCOMPLETE`] the
    /// plan stops at an unknown change; otherwise the code the procedure ends with on the
    /// copy (1 failed and recovered, 4 needs attention, 5 declined …).
    pub exit: i32,
    /// Whether every step of the procedure is in the plan.
    pub complete: bool,
    /// The closing line for people.
    pub summary: String,
}

/// The gist of an error report: its first line without `error: ` and a trailing colon,
/// with the `- item` lines that follow it (`preflight failed …: cftool -n: not UP: …`).
fn headline(report: &str) -> String {
    let mut lines = report.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let items: Vec<&str> = lines
        .take_while(|l| l.starts_with("- "))
        .map(|l| l.trim_start_matches("- "))
        .collect();
    if items.is_empty() {
        first.to_string()
    } else {
        format!(
            "{} {}",
            first.trim_end_matches(':').to_string() + ":",
            items.join("; ")
        )
    }
}

/// The verdict of a dry run whose procedure ended with `exit` (and `report`, the error
/// that ended it, if any) on the copy.
pub fn verdict(plan: &Plan, exit: i32, report: Option<&str>) -> Verdict {
    let st = plan.lock();
    let waits = st
        .entries
        .iter()
        .filter(|e| matches!(e, PlanEntry::Wait { .. } | PlanEntry::Sleep { .. }))
        .count();
    let asks = st
        .entries
        .iter()
        .filter(|e| matches!(e, PlanEntry::Confirm { .. }))
        .count();
    let counts = format!(
        "{} change command{}, {waits} wait{}, {asks} confirmation{}",
        st.changes,
        if st.changes == 1 { "" } else { "s" },
        if waits == 1 { "" } else { "s" },
        if asks == 1 { "" } else { "s" },
    );
    let first = report.map(headline).unwrap_or_default();
    if let Some(why) = &st.cut {
        return Verdict {
            exit: EXIT_INCOMPLETE,
            complete: false,
            summary: format!(
                "plan incomplete: the simulated copy cannot go on ({why}); the plan stops there, and nothing after it was sent ({counts})"
            ),
        };
    }
    match exit {
        129 | 130 | 143 => Verdict {
            exit,
            complete: false,
            summary: format!("plan incomplete: the dry run was interrupted ({counts} so far)"),
        },
        0 => Verdict {
            exit: 0,
            complete: true,
            summary: format!("plan complete: {counts}; nothing was sent that changes state"),
        },
        3 if st.changes == 0 => Verdict {
            exit: 3,
            complete: true,
            summary: format!(
                "precondition fails: {first}; a real run would stop there and change nothing"
            ),
        },
        _ => Verdict {
            exit,
            complete: true,
            summary: format!(
                "plan complete: {counts}; on the copy the procedure ends with exit {exit} ({}){}; nothing was sent that changes state",
                crate::journal::result_name(exit),
                if first.is_empty() {
                    String::new()
                } else {
                    format!(": {first}")
                }
            ),
        },
    }
}

/// The run's clock in a dry run: the copy's (virtual) clock, with every sleep noted in the
/// [`Plan`] (a pause outside a wait is listed with its length).
pub struct PlanClock {
    inner: Arc<dyn Clock>,
    plan: Arc<Plan>,
}

impl PlanClock {
    /// `inner`, noting sleeps in `plan`.
    pub fn new(inner: Arc<dyn Clock>, plan: Arc<Plan>) -> Self {
        PlanClock { inner, plan }
    }
}

impl Clock for PlanClock {
    fn now(&self) -> Duration {
        self.inner.now()
    }

    fn sleep(&self, d: Duration, cancel: &CancelToken) -> Result<(), Error> {
        self.plan.slept(d);
        self.inner.sleep(d, cancel)
    }
}

// ----- the real site: reads to the site, changes to a seeded copy -------------------

struct DryState {
    observations: Vec<Observation>,
    copy: Option<SimSite>,
    cut: Option<String>,
    /// Virtual time passed before the copy exists (waits never take real time).
    offset: Duration,
    /// The copy's clock when it was seeded.
    seeded_at: Duration,
    /// What the copy was asked since it was seeded, and what it answered (see
    /// [`DryRun::read_through`]).
    asked: Vec<Asked>,
}

/// One command the copy answered: its clock before, the command, the answer.
struct Asked {
    at: Duration,
    cmd: Command,
    answer: Result<Output, Error>,
}

/// The transport and clock of `-i … --dry-run`: read-only commands go to the real site
/// (their outputs kept as [`Observation`]s); the first change seeds the simulated copy
/// from them, and from then on every command goes to the copy. A change the copy cannot
/// take is "unknown": it is marked in the [`Plan`], the run is stopped, and nothing more
/// is sent anywhere. A change command is never sent to the site.
pub struct DryRun {
    real: Arc<dyn Exec>,
    driver: &'static str,
    declared: Declared,
    plan: Arc<Plan>,
    cancel: CancelToken,
    start: Duration,
    state: Mutex<DryState>,
}

impl DryRun {
    /// A dry-run transport over the site's router `real`, for a site of `driver`
    /// (`ldoms`, `hpvm`) whose inventory declares `declared`; unknown changes are marked in
    /// `plan` and stop the run through `cancel`.
    pub fn new(
        real: Arc<dyn Exec>,
        driver: &'static str,
        declared: Declared,
        plan: Arc<Plan>,
        cancel: CancelToken,
    ) -> Arc<Self> {
        Arc::new(DryRun {
            real,
            driver,
            declared,
            plan,
            cancel,
            start: hascript_api::SystemClock.now(),
            state: Mutex::new(DryState {
                observations: Vec::new(),
                copy: None,
                cut: None,
                offset: Duration::ZERO,
                seeded_at: Duration::ZERO,
                asked: Vec::new(),
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, DryState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The simulated copy, once a change has seeded it.
    pub fn copy(&self) -> Option<SimSite> {
        self.lock().copy.clone()
    }

    /// The clock of the dry run: virtual (a wait never takes real time); the copy's own
    /// clock once it exists.
    pub fn clock(self: &Arc<Self>) -> Arc<dyn Clock> {
        Arc::new(DryRunClock { dry: self.clone() })
    }

    fn stopped(&self, cmd: &Command, why: &str) -> Error {
        Error::new(
            ErrorKind::Cancelled,
            format!("dry run stopped at an unknown change: {why}; nothing was sent"),
        )
        .on_host(&cmd.host)
        .with_command(cmd.display())
    }
}

/// Whether `cmd` may go to the real site in a dry run: only commands flagged read-only.
fn may_send(cmd: &Command) -> bool {
    cmd.effect == Effect::Read
}

impl DryRun {
    /// Send `cmd` to the copy (the state lock held, so the copy's log stays in order);
    /// what the copy cannot tell is read through to the site when it is a read
    /// ([`DryRun::read_through`]), else it cuts the plan there.
    fn to_copy(&self, st: &mut DryState, cmd: &Command) -> Result<Output, Error> {
        let Some(copy) = st.copy.clone() else {
            return Err(self.stopped(cmd, "no simulated copy"));
        };
        let at = copy.clock().now();
        match copy.answer(cmd) {
            CopyAnswer::Answer(r) => {
                st.asked.push(Asked {
                    at,
                    cmd: cmd.clone(),
                    answer: r.clone(),
                });
                r
            }
            CopyAnswer::Unknown(why) if may_send(cmd) => match self.read_through(st, cmd, at) {
                Ok(r) => r,
                Err(more) => {
                    let why = format!("{} on {}: {why}{more}", cmd.display(), cmd.host);
                    self.cut(st, cmd, why)
                }
            },
            CopyAnswer::Unknown(why) => {
                let why = format!("{} on {}: {why}", cmd.display(), cmd.host);
                self.cut(st, cmd, why)
            }
        }
    }

    /// A read the copy cannot answer, because the reads before the first change did not
    /// cover it: it goes to the site (a dry run changes nothing there, so the site still
    /// reads as it did when the copy was seeded), a new copy is seeded from every read so
    /// far, and everything the old copy was asked is asked again at the same virtual times.
    /// Only when each answer is the same does the new copy take over and answer `cmd`;
    /// otherwise (`Err`: why) the plan stops — what was already planned would not hold.
    fn read_through(
        &self,
        st: &mut DryState,
        cmd: &Command,
        at: Duration,
    ) -> Result<Result<Output, Error>, String> {
        let out = self
            .real
            .exec(cmd)
            .map_err(|e| format!("; reading it on the site failed too: {}", e.message))?;
        st.observations.push(Observation {
            host: cmd.host.clone(),
            line: cmd.line(),
            exit: out.code(),
            stdout: out.stdout.clone(),
        });
        let copy = SimSite::seeded(self.driver, &self.declared, &st.observations, st.seeded_at)
            .map_err(|e| format!("; read on the site, the copy could not be seeded again ({e})"))?;
        let cancel = CancelToken::new();
        let catch_up = |to: Duration| -> Result<(), String> {
            let now = copy.clock().now();
            if to > now {
                copy.clock()
                    .sleep(to - now, &cancel)
                    .map_err(|e| format!("; {}", e.message))?;
            }
            Ok(())
        };
        for a in &st.asked {
            catch_up(a.at)?;
            let same = match copy.answer(&a.cmd) {
                CopyAnswer::Answer(r) => r == a.answer,
                CopyAnswer::Unknown(_) => false,
            };
            if !same {
                return Err(format!(
                    "; read on the site, it changes what the copy already answered to {} on {}",
                    a.cmd.display(),
                    a.cmd.host
                ));
            }
        }
        catch_up(at)?;
        match copy.answer(cmd) {
            CopyAnswer::Answer(r) => {
                st.copy = Some(copy);
                st.asked.push(Asked {
                    at,
                    cmd: cmd.clone(),
                    answer: r.clone(),
                });
                Ok(r)
            }
            CopyAnswer::Unknown(why) => Err(format!("; read on the site, still: {why}")),
        }
    }

    /// Stop the plan at `cmd`: the last change is unknown, and nothing more is sent.
    fn cut(&self, st: &mut DryState, cmd: &Command, why: String) -> Result<Output, Error> {
        if st.cut.is_none() {
            st.cut = Some(why.clone());
        }
        if cmd.effect == Effect::Change {
            self.plan.mark_unknown(&why);
        } else {
            self.plan.unknown_from_here(&why);
        }
        self.cancel.cancel();
        Err(self.stopped(cmd, &why))
    }
}

impl Exec for DryRun {
    fn exec(&self, cmd: &Command) -> Result<Output, Error> {
        let mut st = self.lock();
        if let Some(why) = st.cut.clone() {
            return Err(self.stopped(cmd, &why));
        }
        if st.copy.is_some() {
            return self.to_copy(&mut st, cmd);
        }
        if may_send(cmd) {
            drop(st);
            let out = self.real.exec(cmd)?;
            let line = match &cmd.program {
                Program::Argv(_) | Program::Shell(_) => cmd.line(),
            };
            self.lock().observations.push(Observation {
                host: cmd.host.clone(),
                line,
                exit: out.code(),
                stdout: out.stdout.clone(),
            });
            return Ok(out);
        }
        // The first change: seed the copy from what the reads returned.
        let now = self.start + st.offset;
        match SimSite::seeded(self.driver, &self.declared, &st.observations, now) {
            Ok(copy) => {
                st.copy = Some(copy);
                st.seeded_at = now;
                self.to_copy(&mut st, cmd)
            }
            Err(e) => {
                let why = format!(
                    "{} on {}: the simulated copy cannot be seeded from this site's reads ({e})",
                    cmd.display(),
                    cmd.host
                );
                self.cut(&mut st, cmd, why)
            }
        }
    }
}

struct DryRunClock {
    dry: Arc<DryRun>,
}

impl Clock for DryRunClock {
    fn now(&self) -> Duration {
        let st = self.dry.lock();
        match &st.copy {
            Some(c) => c.clock().now(),
            None => self.dry.start + st.offset,
        }
    }

    fn sleep(&self, d: Duration, cancel: &CancelToken) -> Result<(), Error> {
        cancel.check()?;
        let copy = {
            let mut st = self.dry.lock();
            if st.copy.is_none() {
                st.offset += d;
            }
            st.copy.clone()
        };
        match copy {
            Some(c) => c.clock().sleep(d, cancel),
            None => {
                std::thread::yield_now();
                cancel.check()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::Mutex as StdMutex;

    /// A transport that records every command it is given and answers from a simulated
    /// site.
    struct Recording {
        site: SimSite,
        sent: StdMutex<Vec<(String, Effect)>>,
    }

    impl Exec for Recording {
        fn exec(&self, cmd: &Command) -> Result<Output, Error> {
            self.sent
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((cmd.display(), cmd.effect));
            self.site.exec().exec(cmd)
        }
    }

    /// A journal line written the short way, as the plan (an event sink) receives it.
    fn line(v: serde_json::Value) -> (String, Event) {
        let v = crate::journal::samples::complete(v);
        (v.to_string(), crate::journal::samples::event(v))
    }

    #[test]
    fn plan_numbers_changes_under_their_step_with_waits_and_questions() {
        let p = Plan::new();
        for l in [
            line(serde_json::json!({"event": "step", "section": "17.3.1.1", "title": "Stop"})),
            line(
                serde_json::json!({"event": "command_start", "host": "cd2", "command": "/etc/opt/FJSVcluster/bin/clovmmigrate -p guest2", "purpose": "procedure"}),
            ),
            line(
                serde_json::json!({"event": "command_start", "host": "cd2", "command": "mkdir /var/tmp/hascript.lock", "purpose": "lock"}),
            ),
            line(
                serde_json::json!({"event": "wait", "what": "cfguest2 DOWN", "elapsed_s": 0, "remaining_s": 900}),
            ),
            line(
                serde_json::json!({"event": "wait", "what": "cfguest2 DOWN", "elapsed_s": 60, "remaining_s": 840}),
            ),
            line(
                serde_json::json!({"event": "wait_end", "what": "cfguest2 DOWN", "elapsed_s": 600}),
            ),
            line(
                serde_json::json!({"event": "confirm", "question": "Remove config_tmp?", "answer": true}),
            ),
        ] {
            p.line(&l.0, &l.1);
        }
        // An event that is no part of a plan changes nothing.
        p.take(&Event::Info {
            message: "not json".into(),
        });
        assert_eq!(
            p.changes(),
            ["cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -p guest2"]
        );
        let r = p.render();
        assert_eq!(
            r[0],
            "  1. [17.3.1.1] cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -p guest2"
        );
        assert_eq!(
            r[1],
            "       wait: cfguest2 DOWN (about 600 s on the copy, deadline 900 s)"
        );
        assert!(r[2].starts_with("       asks: Remove config_tmp? (answered yes"));
        assert_eq!(r.len(), 3);
        assert_eq!(verdict(&p, 0, None).exit, 0);
        let j = p.to_json(true, "ok");
        assert_eq!(j["entries"][0]["kind"], "change");
        assert_eq!(j["entries"][1]["took_s"], 600);
    }

    #[test]
    fn verdicts_say_precondition_incomplete_or_the_copys_outcome() {
        let p = Plan::new();
        let v = verdict(&p, 3, Some("\nerror: cfguest2 is LEFTCLUSTER\n  more"));
        assert_eq!(v.exit, 3);
        assert!(
            v.summary
                .starts_with("precondition fails: cfguest2 is LEFTCLUSTER;"),
            "{}",
            v.summary
        );
        let (l, e) = line(
            serde_json::json!({"event": "command_start", "host": "h", "command": "x", "purpose": "procedure"}),
        );
        p.line(&l, &e);
        assert_eq!(verdict(&p, 1, Some("failed")).exit, 1);
        p.mark_unknown("x on h: cannot be seeded");
        let v = verdict(&p, 130, None);
        assert_eq!(v.exit, EXIT_INCOMPLETE);
        assert!(!v.complete);
        assert!(
            p.render()[1].contains("unknown: x on h"),
            "{:?}",
            p.render()
        );
    }

    #[test]
    fn reads_reach_the_site_and_a_change_never_does() {
        let site = SimSite::new(None).expect("default site");
        let rec = Arc::new(Recording {
            site: site.clone(),
            sent: StdMutex::new(Vec::new()),
        });
        let plan = Arc::new(Plan::new());
        let cancel = CancelToken::new();
        let dry = DryRun::new(
            rec.clone(),
            "ldoms",
            Declared::default(),
            plan.clone(),
            cancel.clone(),
        );
        let read = Command::read("cd2", &["/usr/sbin/ldm", "list", "-p"]);
        let out = dry.exec(&read).expect("read answered");
        assert!(out.stdout.contains("guest2"), "{}", out.stdout);
        let (l, e) = line(
            serde_json::json!({"event": "command_start", "host": "cd2", "command": "clovmmigrate -p guest2", "purpose": "procedure"}),
        );
        plan.line(&l, &e);
        let change = Command::change(
            "cd2",
            &["/etc/opt/FJSVcluster/bin/clovmmigrate", "-p", "guest2"],
        );
        let r = dry.exec(&change);
        // Whatever the copy made of it, the site never saw the change.
        let sent = rec.sent.lock().expect("lock").clone();
        assert!(sent.iter().all(|(_, e)| *e == Effect::Read), "{sent:?}");
        assert_eq!(sent.len(), 1);
        assert!(site
            .command_log()
            .iter()
            .all(|c| !c.line.contains("clovmmigrate")));
        match r {
            Ok(_) => assert!(dry.copy().is_some()),
            Err(e) => {
                assert_eq!(e.kind, ErrorKind::Cancelled);
                assert!(cancel.is_cancelled());
                assert!(plan.cut().is_some());
                // After the cut nothing is sent, not even a read.
                assert!(dry.exec(&read).is_err());
                assert_eq!(rec.sent.lock().expect("lock").len(), 1);
            }
        }
    }

    #[test]
    fn the_first_change_seeds_a_copy_that_answers_the_rest_or_says_unknown() {
        let site = SimSite::new(None).expect("default site");
        let inv = crate::inventory::parse("<sim>", &site.inventory_toml()).expect("inventory");
        let rec = Arc::new(Recording {
            site: site.clone(),
            sent: StdMutex::new(Vec::new()),
        });
        let plan = Arc::new(Plan::new());
        let cancel = CancelToken::new();
        let dry = DryRun::new(
            rec.clone(),
            "ldoms",
            crate::site::declared(&inv),
            plan.clone(),
            cancel.clone(),
        );
        let reads: &[(&str, &[&str])] = &[
            ("cd1", &["/usr/sbin/ldm", "list", "-p"]),
            ("cd2", &["/usr/sbin/ldm", "list", "-p"]),
            ("cd3", &["/usr/sbin/ldm", "list", "-p"]),
            ("guest1", &["/opt/SMAW/bin/cftool", "-n"]),
            ("guest1", &["/opt/SMAW/bin/cfset", "-a"]),
            ("guest1", &["/etc/opt/FJSVcluster/bin/clsnmpsetup", "-l"]),
            ("guest1", &["/opt/SMAW/bin/sdtool", "-s"]),
            ("guest2", &["/opt/SMAW/bin/sdtool", "-s"]),
        ];
        for (h, argv) in reads {
            dry.exec(&Command::read(h, argv)).expect("read answered");
        }
        let change = Command::change(
            "cd2",
            &["/etc/opt/FJSVcluster/bin/clovmmigrate", "-p", "guest2"],
        );
        let out = dry.exec(&change).expect("the copy takes the change");
        assert!(out.success(), "{out:?}");
        // The copy moved on; the site did not.
        let cfset = Command::read("guest2", &["/opt/SMAW/bin/cfset", "-a"]);
        assert!(dry
            .exec(&cfset)
            .expect("copy")
            .stdout
            .contains("VALUE: 600"));
        assert!(site
            .exec()
            .exec(&cfset)
            .expect("site")
            .stdout
            .contains("VALUE: 10"));
        let sent = rec.sent.lock().expect("lock").clone();
        assert_eq!(sent.len(), reads.len(), "{sent:?}");
        assert!(sent.iter().all(|(_, e)| *e == Effect::Read));
        // A read the copy was not seeded with is read through to the site, and the new
        // copy (same answers to everything asked so far) answers it.
        let spconfig = Command::read("cd1", &["/usr/sbin/ldm", "list-spconfig"]);
        let o = dry.exec(&spconfig).expect("read through");
        assert!(o.stdout.contains("[current]"), "{o:?}");
        assert!(dry
            .exec(&cfset)
            .expect("copy")
            .stdout
            .contains("VALUE: 600"));
        assert_eq!(rec.sent.lock().expect("lock").len(), reads.len() + 1);
        // One it still cannot answer ends the plan there, and nothing more is sent.
        let uname = Command::read("cd1", &["uname", "-i"]);
        let e = dry.exec(&uname).expect_err("unknown");
        assert_eq!(e.kind, ErrorKind::Cancelled);
        assert!(cancel.is_cancelled());
        assert!(
            plan.render()
                .iter()
                .any(|l| l.contains("unknown from here") && l.contains("uname")),
            "{:?}",
            plan.render()
        );
        assert_eq!(verdict(&plan, 130, None).exit, EXIT_INCOMPLETE);
        assert!(dry.exec(&cfset).is_err());
        assert_eq!(rec.sent.lock().expect("lock").len(), reads.len() + 2);
        assert!(rec
            .sent
            .lock()
            .expect("lock")
            .iter()
            .all(|(_, e)| *e == Effect::Read));
    }

    #[test]
    fn the_clock_is_virtual_before_the_copy_exists() {
        let site = SimSite::new(None).expect("default site");
        let dry = DryRun::new(
            site.exec(),
            "ldoms",
            Declared::default(),
            Arc::new(Plan::new()),
            CancelToken::new(),
        );
        let clock = dry.clock();
        let t0 = clock.now();
        let real = std::time::Instant::now();
        clock
            .sleep(Duration::from_secs(600), &CancelToken::new())
            .expect("sleeps");
        assert!(real.elapsed() < Duration::from_secs(5));
        assert!(clock.now() >= t0 + Duration::from_secs(600));
    }
}
