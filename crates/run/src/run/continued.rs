//! `resume` and `unwind`: a run that continues a dead one. The dead run is read from its
//! journal ([`crate::resume::DeadRun`]), its parameters and site are the run's, and the
//! run takes over its host locks and inherits its pending recovery routines before
//! anything else ([`take_over`]).

use crate::output::{ConsoleUi, Verbosity};
use crate::resume::{Continuation, DeadRun};
use crate::site::{SiteChoice, SiteSpec};
use crate::{journal, scripts};

use super::outcome::{refused_before_start, usage, EXIT_DECLINED};
use super::{Request, Run, Shared};

/// What `hascript resume` or `hascript unwind` asks for.
#[derive(Debug, Clone, Default)]
pub struct Continue {
    /// The dead run's id, or enough of its beginning to name one run.
    pub run: String,
    /// `unwind`: run its pending routines, not its script.
    pub unwind: bool,
    /// `resume --retry-unknown`: send again, without asking, a change whose outcome the
    /// dead run never recorded.
    pub retry_unknown: bool,
    /// `-p key=value`: parameters the journal hides, given again.
    pub params: Vec<String>,
    /// `--yes`.
    pub yes: bool,
    /// `--output json`.
    pub json: bool,
    /// `-v` / `-q`.
    pub verbosity: Verbosity,
}

/// `hascript resume` and `hascript unwind`: the checks on the dead run, then the run that
/// continues it (with its own signal handling). Returns the exit code.
pub fn continue_run(c: Continue) -> i32 {
    let Continue {
        run,
        unwind,
        retry_unknown,
        params: extra,
        yes,
        json,
        verbosity,
    } = c;
    let verb = if unwind { "unwind" } else { "resume" };
    let dead = match journal::runs_dir().and_then(|d| DeadRun::load(&d, &run, verb)) {
        Ok(d) => d,
        Err(e) => return usage(e),
    };
    if !unwind && dead.exit.is_some() {
        return usage(format!(
            "run {} finished (exit {}): resume is for a run that died; see `hascript journal show {}`{}",
            dead.id,
            dead.exit.unwrap_or_default(),
            dead.id,
            if dead.pending.is_empty() && dead.left.is_empty() { String::new() } else { format!(", and `hascript unwind {}` for the routines it left pending or undone", dead.id) }
        ));
    }
    // The scripts and modules the run loaded besides its top script (whose own check is
    // `resume::script_for`'s): resume refuses when one changed; unwind, which must stay
    // possible, names them and asks.
    if !unwind {
        if let Err(e) = dead.scripts_unchanged() {
            return usage(e);
        }
    } else {
        let changed = dead.changed_for_unwind();
        if !changed.is_empty() {
            let list: Vec<String> = changed.iter().map(|c| format!("  {}", c.line())).collect();
            eprintln!(
                "warning: the recovery routine(s) of run {id} run scripts that changed since run {id} loaded them:\n{}\nunwind runs them as they are now (each routine reads the real state first); if a change was not meant, put the script back as it was",
                list.join("\n"),
                id = dead.id
            );
            let q = format!("Unwind run {} with the scripts as they are now?", dead.id);
            match hascript_api::Ui::confirm(&ConsoleUi::new(yes), &q) {
                Ok(true) => {}
                Ok(false) => {
                    eprintln!("declined: nothing was sent (exit 5); put the scripts back as they were, or unwind with --yes");
                    return EXIT_DECLINED;
                }
                Err(e) => {
                    eprintln!(
                        "error: {}; or add --yes to unwind with the scripts as they are now",
                        e.message
                    );
                    return EXIT_DECLINED;
                }
            }
        }
    }
    let spec = match dead.site_spec() {
        Ok(s) => s,
        Err(e) => return usage(e),
    };
    // The recorded parameters; those the journal hides must be given again.
    let given = match scripts::parse_params(&extra) {
        Ok(p) => p,
        Err(e) => return usage(e),
    };
    let mut params = Vec::new();
    for (k, v) in dead.params() {
        match given.get(&k) {
            Some(g) => params.push(format!("{k}={g}")),
            None if v == hascript_api::REDACTED && !unwind => {
                return usage(format!(
                    "parameter {k} of run {} is hidden in its journal: give it again with -p {k}=…",
                    dead.id
                ))
            }
            None => params.push(format!("{k}={v}")),
        }
    }
    if let Some(k) = given
        .keys()
        .find(|k| !dead.params().iter().any(|(p, _)| p == *k))
    {
        return usage(format!(
            "-p {k}: run {} had no such parameter; resume runs with the same parameters",
            dead.id
        ));
    }
    if !dead.unknown.is_empty() {
        let list = dead.unknown_lines().join("\n");
        if unwind {
            eprintln!(
                "note: run {} sent change command(s) whose outcome it never recorded (the recovery routines read the real state first):\n{list}",
                dead.id
            );
        } else if !retry_unknown {
            let q = format!(
                "run {} sent change command(s) whose outcome it never recorded; they may or may not have taken effect:\n{list}\nResume and let the procedure send them again where the state it reads says so (--retry-unknown)?",
                dead.id
            );
            match hascript_api::Ui::confirm(&ConsoleUi::new(yes), &q) {
                Ok(true) => {}
                Ok(false) => {
                    eprintln!("declined: nothing was sent (exit 5)");
                    return EXIT_DECLINED;
                }
                Err(e) => {
                    eprintln!("error: {}; or add --retry-unknown", e.message);
                    return EXIT_DECLINED;
                }
            }
        }
    }
    let (sim, inventory, sim_state) = match &spec {
        SiteSpec::Sim { state, .. } => (Some(None), None, state.clone()),
        SiteSpec::Inventory(p) => (None, Some(p.clone()), None),
    };
    let script = match dead.script_path() {
        Some(p) if !unwind => p.to_string(),
        _ => dead.script().to_string(),
    };
    let req = Request {
        script,
        site: SiteChoice {
            sim,
            inventory,
            sim_state,
            ..SiteChoice::default()
        },
        params,
        yes,
        json,
        break_lock: false,
        takeover: None,
        dry_run: false,
        verbosity,
    };
    match Run::open(req, Some(Continuation::of(&dead, unwind)), None) {
        Ok(run) => run.execute(),
        Err(code) => code,
    }
}

/// Before a resumed or unwinding run starts: take over the dead run's host locks and
/// inherit its pending recovery routines. Returns the exit code on failure.
pub(super) fn take_over(c: &Continuation, shared: &Shared) -> Result<(), i32> {
    if let Some(l) = &shared.locks {
        // All at once (one host's lock never waits for another's network). A host that
        // cannot be reached now (a guest the dead run halted) keeps the dead run's lock
        // until this run reaches it: the lock is taken over then, on first contact.
        let (unreachable, taken) = l.take_over_all(&c.locked);
        for (h, e) in &unreachable {
            shared.ctx.ui.warn(&format!(
                "cannot take over the lock of run {} on {h} now ({}): it is taken over when this run reaches {h}; if it never does, the lock stays there (a later run names it and how to take it over)",
                c.from, e.message
            ));
        }
        if let Err(e) = taken {
            let on = e
                .host
                .as_deref()
                .map(|h| format!(" on {h}"))
                .unwrap_or_default();
            let msg = format!(
                "error: cannot take over the lock of run {}{on}: {}",
                c.from, e.message
            );
            return Err(refused_before_start(shared, &msg));
        }
    }
    shared.ctx.recoveries.set_prior_changes(c.prior.clone());
    match shared.ctx.recoveries.inherit(&c.inherited()) {
        Ok(v) if !v.is_empty() => {
            shared.ctx.ui.info(&format!(
                "run {} left {} recovery routine(s) pending:\n{}",
                c.from,
                v.len(),
                crate::recovery::pending_lines(&v).join("\n")
            ));
            Ok(())
        }
        Ok(_) => Ok(()),
        Err(e) => Err(refused_before_start(
            shared,
            &format!("error: {}", e.message),
        )),
    }
}
