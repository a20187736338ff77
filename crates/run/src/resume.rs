//! `hascript resume <run>` and `hascript unwind <run>` (issue 5 item 4): continuing, or
//! undoing what is pending of, a run that died (SIGKILL, power loss, a lost terminal) or was
//! stopped at once by a second Ctrl-C.
//!
//! Both read the dead run's journal ([`DeadRun::load`]): its header says which script (and
//! its SHA-256), which parameters and which site (`--sim-state` folder or inventory, with
//! the inventory's SHA-256); its lines say which host locks it held, which recovery routines
//! it left pending ([`crate::recovery::pending_in`]), which change commands have no recorded
//! outcome ([`crate::recovery::unknown_outcomes`]) and which script steps completed with
//! which value ([`Replay`]).
//!
//! - **unwind** runs the pending routines in reverse order against the same site, taking
//!   over the dead run's locks. A script's own routine (`defer`) cannot be run from another
//!   process: it is reported, and the unwind ends "needs attention" (exit 4).
//! - **resume** re-runs the same script text with the same parameters against the same site.
//!   Script steps recorded as complete are not run again: their recorded return value is
//!   returned ([`Replay`]); the first step that differs, or did not complete, and everything
//!   after it, runs. The dead run's pending routines are inherited: a driver bracket that
//!   registers the same routine knows it is resuming and reads the real state to decide
//!   what is left (the LDoms bracket continues after 17.3.1.1 when the cluster reads
//!   prepared, the Serviceguard bracket recovers first). The re-check of the state is the
//!   drivers' own: every driver step reads the state first and skips what is already done
//!   (procedures.md Part C, "Safe re-runs"). A change command whose outcome was never
//!   recorded is reported as unknown and needs `--retry-unknown` (or a confirmation).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use hascript_api::objects::Value;

use crate::engine::{Outcome, RunEnv};
use crate::journal::{self, Event, RunHeader, SiteRecord, StepBy};
use crate::recovery::{self, Left, Pending, Unknown};
use crate::scripts::{self, Script};
use crate::site::SiteSpec;

/// One completed script step of the resumed run.
#[derive(Debug, Clone, PartialEq)]
struct StepRecord {
    section: String,
    title: String,
    /// The recorded value (`None`: it could not be written as JSON; the step runs again).
    value: Option<Value>,
    /// Index of its `step_end` line (to tell the steps nested inside it).
    end_line: usize,
}

/// The completed script steps of a dead run, handed out in the order the resumed script
/// starts its steps.
#[derive(Debug, Default)]
pub struct Replay {
    from: String,
    records: Mutex<(VecDeque<StepRecord>, bool)>,
}

/// The completed steps in `lines` (a journal), in the order they started.
fn step_records(lines: &[Event]) -> Vec<StepRecord> {
    let mut recs: Vec<(u64, StepRecord)> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| match l {
            // A driver's own step is never replayed (the driver reads the state again);
            // journals written before `by` existed hold script steps only (read as
            // `script`).
            Event::StepEnd {
                n,
                section,
                title,
                by: StepBy::Script,
                ok: true,
                value,
                ..
            } => Some((
                *n,
                StepRecord {
                    section: section.clone(),
                    title: title.clone(),
                    value: value.clone(),
                    end_line: i,
                },
            )),
            _ => None,
        })
        .collect();
    recs.sort_by_key(|(n, _)| *n);
    recs.into_iter().map(|(_, r)| r).collect()
}

impl Replay {
    fn with(from: &str, records: Vec<StepRecord>) -> Replay {
        Replay {
            from: from.to_string(),
            records: Mutex::new((records.into_iter().collect(), false)),
        }
    }

    /// The completed steps in `lines` (a journal), in the order they started.
    pub fn from_lines(from: &str, lines: &[Event]) -> Replay {
        Replay::with(from, step_records(lines))
    }

    /// The completed steps of a dead run (`lines`) that was itself a resume: when it died
    /// before it had replayed all that the run it resumed had completed (`ancestors`,
    /// nearest first), those steps are replayed too — as long as the steps it did go
    /// through are the same, in the same order.
    pub fn from_chain(from: &str, lines: &[Event], ancestors: &[(String, Vec<Event>)]) -> Replay {
        let key = |r: &StepRecord| (r.section.clone(), r.title.clone());
        let mut recs = step_records(lines);
        for (_, older) in ancestors {
            let o = step_records(older);
            if o.len() > recs.len() && recs.iter().zip(&o).all(|(a, b)| key(a) == key(b)) {
                recs = o;
            }
        }
        Replay::with(from, recs)
    }

    /// The run the values come from.
    pub fn from(&self) -> &str {
        &self.from
    }

    /// The recorded value for the next script step, when it is the same step (section and
    /// title) and completed in the resumed run with a value; `None` means "run it". After
    /// the first step that differs, nothing more is replayed (the script took another way).
    /// A replayed step's nested steps are passed over with it.
    pub fn next(&self, section: &str, title: &str) -> Option<Value> {
        let mut g = self.records.lock().unwrap_or_else(|p| p.into_inner());
        let (queue, diverged) = &mut *g;
        if *diverged {
            return None;
        }
        let Some(head) = queue.front() else {
            *diverged = true;
            return None;
        };
        if head.section != section || head.title != title {
            *diverged = true;
            queue.clear();
            return None;
        }
        let head = queue.pop_front()?;
        let value = head.value?;
        // Steps that ended before this one ended were inside it: skipped with it.
        while queue.front().is_some_and(|r| r.end_line < head.end_line) {
            queue.pop_front();
        }
        Some(value)
    }
}

/// The engine reads a resumed run's values through this trait, never the type.
impl crate::engine::runlog::StepReplay for Replay {
    fn from(&self) -> &str {
        Replay::from(self)
    }
    fn next(&self, section: &str, title: &str) -> Option<Value> {
        Replay::next(self, section, title)
    }
}

/// What a dead run's journal says.
#[derive(Debug, Clone)]
pub struct DeadRun {
    /// Its id.
    pub id: String,
    /// Its journal file.
    pub path: PathBuf,
    /// Its header (`run` line).
    pub header: RunHeader,
    /// All its events.
    pub lines: Vec<Event>,
    /// The recovery routines it left pending, in registration order.
    pub pending: Vec<Pending>,
    /// The routines it (or the runs it continued) settled with their work undone (failed,
    /// left for the operator, could not run), in registration order.
    pub left: Vec<Left>,
    /// Change commands without a recorded outcome.
    pub unknown: Vec<Unknown>,
    /// Hosts whose lock it holds.
    pub locked: Vec<String>,
    /// Its exit code, when it wrote a result line (a second Ctrl-C does).
    pub exit: Option<i32>,
    /// The runs it continued (its `resumed_from` / `unwinds`, and so on), nearest first,
    /// with their journals.
    pub ancestors: Vec<(String, Vec<Event>)>,
}

/// Which runs a run continued is read from the journals (`journal::chain`).
pub use crate::journal::{ancestors, lineage};

fn pid_alive(pid: u32) -> bool {
    if pid == 0 || pid > i32::MAX as u32 {
        return false;
    }
    // SAFETY: kill with signal 0 sends nothing; it only checks the process exists.
    let rc = unsafe { libc::kill(pid as i32, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

impl DeadRun {
    /// Read run `prefix` from the journals in `dir` and check that it may be resumed or
    /// unwound: it is not still running on this machine, and no other run already took it
    /// over. `verb` (`resume`, `unwind`) is for messages.
    pub fn load(dir: &Path, prefix: &str, verb: &str) -> Result<DeadRun, String> {
        let (id, path) = journal::find(dir, prefix)?;
        let lines = journal::read_events(&path)?;
        let header = journal::header(&lines)
            .map(|(_, h)| h.clone())
            .ok_or_else(|| {
                format!(
                    "the journal of run {id} has no header line: it cannot be {verb}d ({})",
                    path.display()
                )
            })?;
        let lines = journal::events(lines);
        let exit = lines.iter().rev().find_map(|l| match l {
            Event::Result { exit, .. } => Some(*exit),
            _ => None,
        });
        let (pid, origin) = (header.pid, header.origin.as_str());
        if exit.is_none() && origin == journal::origin_host() && pid_alive(pid) {
            return Err(format!(
                "run {id} is still running (pid {pid} on this machine): wait for it, or stop it with Ctrl-C; `hascript {verb}` is for a run that died"
            ));
        }
        // Taken over already? (its resume or unwind)
        for (other, p) in journal::journal_files(dir)? {
            if other == id {
                continue;
            }
            let Ok(ls) = journal::read_events(&p) else {
                continue;
            };
            let Some(Event::Run(h)) = ls.first().map(|l| &l.event) else {
                continue;
            };
            let of = |k: &Option<String>| k.as_deref() == Some(id.as_str());
            let (resumes, unwinds) = (of(&h.resumed_from), of(&h.unwinds));
            if resumes || unwinds {
                let s = journal::summarise(&other, &ls);
                return Err(format!(
                    "run {id} was already taken over by run {other} ({}, {}): {}",
                    if resumes { "resume" } else { "unwind" },
                    s.result,
                    if s.result == "unfinished" {
                        // An unwind is continued by unwinding it (it has no script to resume).
                        let verb = if unwinds { "unwind" } else { verb };
                        format!("`hascript {verb} {other}` continues from there")
                    } else if unwinds && s.result == "needs_attention" {
                        // What that unwind left undone is its own to finish.
                        format!("`hascript unwind {other}` continues with what it left undone")
                    } else {
                        format!("see `hascript journal show {other}`")
                    }
                ));
            }
        }
        if verb == "resume" {
            if let Some(of) = &header.unwinds {
                return Err(format!(
                    "run {id} is the unwind of run {of}: it ran that run's recovery routines, not a script, so it cannot be resumed; continue it with `hascript unwind {id}`"
                ));
            }
        }
        // A resume or unwind that died itself may not have taken over everything of the run
        // it continued (locks are taken over one host at a time, routines inherited after
        // them): what that run left and this one did not take over is still owed.
        let ancestors = ancestors(dir, &header);
        let (mut pending, mut locked, mut left) = (Vec::new(), Vec::new(), Vec::new());
        for (_, older) in ancestors.iter().rev() {
            left = recovery::left_after(&pending, &left, older);
            pending = recovery::pending_after(&pending, older);
            locked = recovery::locked_after(&locked, older);
        }
        let left = recovery::left_after(&pending, &left, &lines);
        let pending = recovery::pending_after(&pending, &lines);
        let unknown = recovery::unknown_outcomes(&lines);
        // Also a run that ended but could not release a lock (its host was unreachable at
        // the end): its continuation takes that lock over and releases it.
        let locked = recovery::locked_after(&locked, &lines);
        Ok(DeadRun {
            id,
            path,
            header,
            lines,
            pending,
            left,
            unknown,
            locked,
            exit,
            ancestors,
        })
    }

    /// The script's name as the run was given it.
    pub fn script(&self) -> &str {
        &self.header.script
    }

    /// The script's SHA-256 recorded at the start.
    pub fn sha256(&self) -> &str {
        &self.header.sha256
    }

    /// The script file, when it came from a file.
    pub fn script_path(&self) -> Option<&str> {
        self.header.path.as_deref()
    }

    /// The recorded parameters (secret-looking ones as `*****`).
    pub fn params(&self) -> Vec<(String, String)> {
        self.header
            .params
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The same site as the run's: its `--sim-state` folder, or its inventory (which must
    /// not have changed since).
    pub fn site_spec(&self) -> Result<SiteSpec, String> {
        match &self.header.site {
            SiteRecord::Sim { scenario, state } => match state {
                Some(dir) => Ok(SiteSpec::Sim {
                    scenario: None,
                    default_driver: "ldoms".into(),
                    state: Some(PathBuf::from(dir)),
                }),
                None => Err(format!(
                    "run {} used an in-memory simulated site ({scenario}), which ended with it: nothing to continue (use --sim-state DIR to keep a simulated site)",
                    self.id,
                )),
            },
            SiteRecord::Inventory { path, sha256: want } => {
                let got = std::fs::read(path)
                    .map(|b| journal::sha256_hex(&b))
                    .map_err(|e| format!("cannot read the inventory {path} of run {}: {e}", self.id))?;
                if got != *want {
                    return Err(format!(
                        "the inventory {path} changed since run {} started (sha256 {want}, now {got}): the site may not be the same; put the inventory back as it was",
                        self.id
                    ));
                }
                Ok(SiteSpec::Inventory(PathBuf::from(path)))
            }
        }
    }

    /// The scripts and modules it (and the runs it continued) loaded besides its top
    /// script (`script_loaded` lines), oldest first. Empty for a journal written before
    /// they were recorded.
    pub fn loaded(&self) -> Vec<scripts::Loaded> {
        self.ancestors
            .iter()
            .rev()
            .flat_map(|(_, lines)| lines.iter())
            .chain(self.lines.iter())
            .filter_map(Event::loaded)
            .collect()
    }

    /// `resume`: every script and module the run loaded must be found again as it was
    /// (the top script is checked by [`script_for`]); the error names each one that is not,
    /// and what to do.
    pub fn scripts_unchanged(&self) -> Result<(), String> {
        let changed = scripts::changed_since(&self.loaded(), &scripts::search_path());
        if changed.is_empty() {
            return Ok(());
        }
        let lines: Vec<String> = changed.iter().map(|c| format!("  {}", c.line())).collect();
        Err(format!(
            "{} script(s) run {id} loaded changed since: resume runs the same scripts, and these are not:\n{}\nput them back as they were, or unwind the run (`hascript unwind {id}`) and start a new one",
            changed.len(),
            lines.join("\n"),
            id = self.id
        ))
    }

    /// `unwind`: the scripts it loaded that changed since, among those its recovery routines
    /// (pending, or left undone and offered again) would run now: each routine's procedure
    /// and the modules it imports.
    pub fn changed_for_unwind(&self) -> Vec<scripts::Changed> {
        let search = scripts::search_path();
        let mut runs: Vec<scripts::Loaded> = Vec::new();
        let names = self
            .pending
            .iter()
            .filter_map(|p| p.routine.as_ref())
            .chain(self.left.iter().filter_map(|l| l.routine.as_ref()))
            .filter_map(|r| r.get("procedure").and_then(Value::as_str));
        for name in names {
            runs.extend(crate::engine::procedure::loads_of(name, &search));
        }
        scripts::changed_since(&self.loaded(), &search)
            .into_iter()
            .filter(|c| runs.iter().any(|r| r.same_script(&c.then)))
            .collect()
    }

    /// Lines for the operator about the change commands whose outcome is unknown.
    pub fn unknown_lines(&self) -> Vec<String> {
        self.unknown
            .iter()
            .map(|u| format!("  #{} on {}: {}", u.seq, u.host, u.command))
            .collect()
    }
}

/// What `resume` or `unwind` hands to the run it starts ([`crate::run`]).
#[derive(Debug)]
pub struct Continuation {
    /// The dead run.
    pub from: String,
    /// `unwind`: run only the pending routines, not the script.
    pub unwind: bool,
    /// The script's recorded SHA-256 (resume: the text must still match).
    pub sha256: String,
    /// The script's name as the run was given it.
    pub script: String,
    /// The file it ran, when it ran a file (a `HASCRIPT_PATH` override or a path); `None`:
    /// the shipped procedure `script`.
    pub path: Option<String>,
    /// The dead run's completed steps (resume).
    pub replay: Option<Arc<Replay>>,
    /// The routines it left pending, inherited by the new run.
    pub pending: Vec<Pending>,
    /// `unwind`: the routines it settled with their work undone, reported and offered to
    /// run again.
    pub left: Vec<Left>,
    /// The hosts whose lock it holds: taken over before anything else.
    pub locked: Vec<String>,
    /// The change commands it (and the runs it continued) sent and saw end, oldest first.
    pub prior: Vec<hascript_api::objects::PriorChange>,
}

impl Continuation {
    /// The continuation of `dead`.
    pub fn of(dead: &DeadRun, unwind: bool) -> Continuation {
        Continuation {
            from: dead.id.clone(),
            unwind,
            sha256: dead.sha256().to_string(),
            script: dead.script().to_string(),
            path: dead.script_path().map(str::to_string),
            replay: (!unwind)
                .then(|| Arc::new(Replay::from_chain(&dead.id, &dead.lines, &dead.ancestors))),
            pending: dead.pending.clone(),
            left: if unwind {
                dead.left.clone()
            } else {
                Vec::new()
            },
            locked: dead.locked.clone(),
            prior: dead
                .ancestors
                .iter()
                .rev()
                .flat_map(|(_, lines)| recovery::completed_changes(lines))
                .chain(recovery::completed_changes(&dead.lines))
                .collect(),
        }
    }

    /// The pending routines as the registry inherits them.
    pub fn inherited(&self) -> Vec<(String, Option<Value>)> {
        self.pending
            .iter()
            .map(|p| (p.what.clone(), p.routine.clone()))
            .collect()
    }
}

/// The script a continued run runs. For `resume`, the one the journal recorded (the file
/// at its recorded path, or the shipped procedure), never found again by name, and only
/// when its SHA-256 is the recorded one; for `unwind` none (an empty placeholder with its
/// name). A new run finds its script with [`scripts::resolve`].
pub fn script_for(c: &Continuation) -> Result<Script, String> {
    if c.unwind {
        return Ok(Script {
            source_name: c.script.clone(),
            text: String::new(),
            path: c.path.as_ref().map(PathBuf::from),
            origin: if c.path.is_some() {
                scripts::Origin::File
            } else {
                scripts::Origin::Shipped
            },
            shadowed: None,
        });
    }
    let s = scripts::recorded(&c.script, c.path.as_deref()).map_err(|e| {
        format!(
            "{e}: resume runs the script run {} ran; put it back, or unwind the run (`hascript unwind {}`) and start a new one",
            c.from, c.from
        )
    })?;
    let got = journal::sha256_hex(s.text.as_bytes());
    if got != c.sha256 {
        return Err(format!(
            "the script {} ({}) is not the one run {} ran (sha256 {}, now {got}): resume runs the same text; put it back, or unwind the run (`hascript unwind {}`) and start a new one",
            s.source_name,
            s.origin_label(),
            c.from,
            c.sha256,
            c.from
        ));
    }
    Ok(s)
}

/// `unwind`: run the routines the dead run left pending (inherited into the run's
/// registry), newest first; name those it settled with their work undone (`left`: what,
/// how it ended, which hosts did not answer, how to finish) and, after a yes (`--yes`),
/// run the drivers' ones again — each reads the real state first. Exit 0 when every
/// routine ran and ended well (or there was none); 4 (needs attention) when one failed,
/// could not run, or is still left undone. `me` is this run's id: what is still undone is
/// finished by unwinding it (it takes the dead one over).
pub fn unwind(env: &RunEnv, me: &str, from: &str, left: &[Left]) -> Outcome {
    use hascript_api::objects::RecoveryOutcome;
    let pending = env.ctx.recoveries.pending();
    if pending.is_empty() && left.is_empty() {
        env.ctx.ui.info(&format!(
            "run {from} left no recovery routine pending or undone: nothing to unwind"
        ));
        return Outcome {
            exit: 0,
            report: None,
            kind: None,
            fields: None,
        };
    }
    let mut again = false;
    if !left.is_empty() {
        env.ctx.ui.warn(&format!(
            "run {from} left {} recovery routine(s) undone; what they protect may still be unprotected:\n{}",
            left.len(),
            recovery::left_lines(left, &format!("hascript unwind {me}")).join("\n")
        ));
        if left.iter().any(|l| l.routine.is_some()) {
            match env.ctx.ui.confirm(
                "Run the driver routine(s) left undone again now (each reads the real state first and does only what is left)?",
            ) {
                Ok(yes) => again = yes,
                Err(e) => env.ctx.ui.warn(&format!("not run again: {}", e.message)),
            }
        }
    }
    // The pending routines first (what the dead run was doing when it stopped), then,
    // asked for, the ones left undone.
    let mut ran = if pending.is_empty() {
        Vec::new()
    } else {
        crate::engine::run_pending(None, env, false, "unwind")
    };
    let mut still: Vec<Left> = left
        .iter()
        .filter(|l| !again || l.routine.is_none())
        .cloned()
        .collect();
    if again {
        let routines: Vec<(String, Option<Value>)> = left
            .iter()
            .filter(|l| l.routine.is_some())
            .map(|l| (l.what.clone(), l.routine.clone()))
            .collect();
        match env.ctx.recoveries.inherit(&routines) {
            Ok(_) => ran.extend(crate::engine::run_pending(None, env, false, "unwind")),
            Err(e) => {
                env.ctx.ui.warn(&format!("not run again: {}", e.message));
                still = left.to_vec();
            }
        }
    }
    let lines = recovery::report_lines(&ran);
    let failed = ran.iter().any(|r| r.outcome != RecoveryOutcome::Ok);
    if failed || !still.is_empty() {
        let mut report = lines;
        if failed {
            report.push(format!(
                "once the cause is fixed, `hascript unwind {me}` runs what failed again"
            ));
        }
        if !still.is_empty() {
            report.push(format!("left undone by run {from}, not run again:"));
            report.extend(recovery::left_lines(
                &still,
                &format!("hascript unwind {me}"),
            ));
        }
        Outcome {
            exit: 4,
            report: Some(format!(
                "error (needs_attention): unwinding run {from} did not complete:\n  {}",
                report.join("\n  ")
            )),
            kind: Some("needs_attention".into()),
            fields: None,
        }
    } else {
        for l in &lines {
            env.ctx.ui.info(l);
        }
        env.ctx.ui.info(&format!(
            "run {from} unwound: {} recovery routine(s) ran",
            ran.len()
        ));
        Outcome {
            exit: 0,
            report: None,
            kind: None,
            fields: None,
        }
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

    fn end(n: u64, title: &str, value: Value) -> Value {
        json!({"event": "step_end", "n": n, "section": "", "title": title, "ok": true, "value": value})
    }

    #[test]
    fn completed_steps_replay_in_start_order_until_the_script_differs() {
        let lines = vec![
            json!({"event": "step", "n": 1}),
            end(1, "a", json!(1)),
            json!({"event": "step", "n": 2}),
            json!({"event": "step", "n": 3}),
            end(3, "inner", json!("x")),
            end(2, "outer", json!({"k": 2})),
            json!({"event": "step_end", "n": 4, "section": "", "title": "failed", "ok": false}),
            end(5, "c", json!(3)),
        ];
        let r = Replay::from_lines("R", &evs(&lines));
        assert_eq!(r.next("", "a"), Some(json!(1)));
        // The outer step is replayed; its nested step goes with it.
        assert_eq!(r.next("", "outer"), Some(json!({"k": 2})));
        assert_eq!(r.next("", "c"), Some(json!(3)));
        assert_eq!(r.next("", "d"), None);
        let r = Replay::from_lines("R", &evs(&lines));
        assert_eq!(r.next("", "a"), Some(json!(1)));
        assert_eq!(r.next("", "other"), None, "the script took another way");
        assert_eq!(r.next("", "outer"), None, "nothing after a divergence");
    }

    #[test]
    fn driver_step_ends_are_not_replayed_and_old_journals_without_by_still_are() {
        let by = |mut v: Value, who: &str| {
            v["by"] = json!(who);
            v
        };
        // A script step holding a driver step, a driver step at the top, a script step;
        // then the same journal as written before `by` existed (script steps only).
        let lines = vec![
            json!({"event": "step", "n": 1, "by": "script"}),
            json!({"event": "step", "n": 2, "by": "driver"}),
            by(end(2, "A0 preflight", Value::Null), "driver"),
            by(end(1, "a", json!(1)), "script"),
            json!({"event": "step", "n": 3, "by": "driver"}),
            by(end(3, "17.3.1.1 stop", Value::Null), "driver"),
            by(end(4, "b", json!(2)), "script"),
        ];
        let r = Replay::from_lines("R", &evs(&lines));
        assert_eq!(r.next("", "a"), Some(json!(1)));
        assert_eq!(
            r.next("", "b"),
            Some(json!(2)),
            "driver steps are not in the way"
        );
        assert_eq!(r.next("", "c"), None);
        let old = vec![end(1, "a", json!(1)), end(2, "b", json!(2))];
        let r = Replay::from_lines("R", &evs(&old));
        assert_eq!(r.next("", "a"), Some(json!(1)));
        assert_eq!(r.next("", "b"), Some(json!(2)));
    }

    #[test]
    fn a_resume_that_died_before_replaying_everything_replays_its_dead_runs_steps() {
        let first = vec![
            end(1, "a", json!(1)),
            end(2, "b", json!(2)),
            end(3, "c", json!(3)),
        ];
        // The resume of `first` replayed a, then died.
        let mut replayed = end(1, "a", json!(1));
        replayed["replayed"] = json!(true);
        let second = vec![replayed];
        let ancestors = vec![("R1".to_string(), evs(&first))];
        let r = Replay::from_chain("R2", &evs(&second), &ancestors);
        assert_eq!(r.next("", "a"), Some(json!(1)));
        assert_eq!(r.next("", "b"), Some(json!(2)));
        assert_eq!(r.next("", "c"), Some(json!(3)));
        // A resume that went another way keeps its own record.
        let other = vec![end(1, "x", json!(9))];
        let r = Replay::from_chain("R2", &evs(&other), &ancestors);
        assert_eq!(r.next("", "x"), Some(json!(9)));
        assert_eq!(r.next("", "b"), None);
    }

    #[test]
    fn a_dead_continuation_owes_the_locks_and_routines_its_dead_run_left() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let write = |id: &str, lines: &[Value]| {
            let text: Vec<String> = lines
                .iter()
                .map(|l| crate::journal::samples::complete(l.clone()).to_string())
                .collect();
            std::fs::write(
                dir.path().join(format!("{id}.jsonl")),
                text.join("\n") + "\n",
            )
            .unwrap_or_else(|e| panic!("{e}"));
        };
        let (r1, r2, r3) = (
            "20000101T000000.000Z-000001",
            "20000101T000000.000Z-000002",
            "20000101T000000.000Z-000003",
        );
        let routine = json!({"driver": "hpvm", "routine": "recover_move", "package": "slvm1"});
        // r1 died after registering its routine, holding node1 and node2.
        write(
            r1,
            &[
                json!({"event": "run", "pid": 0}),
                json!({"event": "lock", "host": "node1", "action": "taken"}),
                json!({"event": "lock", "host": "node2", "action": "taken"}),
                json!({"event": "recovery_registered", "id": 1, "what": "recover slvm1", "routine": routine}),
            ],
        );
        // r2 (resume of r1) died after taking node1 over: before node2, before inheriting.
        write(
            r2,
            &[
                json!({"event": "run", "pid": 0, "resumed_from": r1}),
                json!({"event": "lock", "host": "node1", "action": "taken_over"}),
            ],
        );
        let dead = DeadRun::load(dir.path(), r2, "unwind").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(dead.locked, ["node1", "node2"]);
        assert_eq!(dead.pending.len(), 1);
        assert_eq!(dead.pending[0].routine.as_ref(), Some(&routine));
        assert_eq!(lineage(dir.path(), r2), [r1]);
        // r1 is taken over: continue r2.
        let e = DeadRun::load(dir.path(), r1, "unwind")
            .err()
            .unwrap_or_default();
        assert!(
            e.contains(&format!("`hascript unwind {r2}` continues")),
            "{e}"
        );
        // r3 unwinds r2 and dies at once: it is continued by unwinding it, never resumed.
        write(r3, &[json!({"event": "run", "pid": 0, "unwinds": r2})]);
        assert_eq!(lineage(dir.path(), r3), [r2, r1]);
        let dead = DeadRun::load(dir.path(), r3, "unwind").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((dead.locked.len(), dead.pending.len()), (2, 1));
        let e = DeadRun::load(dir.path(), r3, "resume")
            .err()
            .unwrap_or_default();
        assert!(
            e.contains(&format!("continue it with `hascript unwind {r3}`")),
            "{e}"
        );
        let e = DeadRun::load(dir.path(), r2, "resume")
            .err()
            .unwrap_or_default();
        assert!(
            e.contains(&format!("`hascript unwind {r3}` continues")),
            "{e}"
        );
    }

    #[test]
    fn a_step_without_a_value_runs_again_with_its_nested_steps_replayed() {
        let lines = vec![
            end(2, "inner", json!(7)),
            json!({"event": "step_end", "n": 1, "section": "", "title": "outer", "ok": true}),
        ];
        let r = Replay::from_lines("R", &evs(&lines));
        assert_eq!(r.next("", "outer"), None);
        assert_eq!(r.next("", "inner"), Some(json!(7)));
    }
}
