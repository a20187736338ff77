//! Recovery routines as the engine runs them when a run ends (`run_pending`: newest
//! first, each settled once): a driver's routine by its description, a routine as the
//! procedure it runs (a nested run), a script's `defer` closure; and how their outcomes are
//! worded. Reading what a dead run left pending is the run layer's (`recovery.rs`).

use std::collections::BTreeMap;

use hascript_api::objects::{RecoveryEntry, RecoveryOutcome, Site};
use hascript_api::Ui;
use rhai::{Dynamic, Engine};

use crate::{procedure, Interrupt, RunEnv};

/// One routine's outcome, as the run reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Ran {
    /// The routine.
    pub entry: RecoveryEntry,
    /// How it ended.
    pub outcome: RecoveryOutcome,
    /// What happened (the error, or why it could not run).
    pub detail: Option<String>,
}

/// Run one routine of the site's driver (the caller settles it).
pub fn run_driver_routine(site: &dyn Site, ui: &dyn Ui, entry: &RecoveryEntry) -> Ran {
    let Some(routine) = &entry.routine else {
        return Ran {
            entry: entry.clone(),
            outcome: RecoveryOutcome::CannotRun,
            detail: Some("a script's own routine (defer): only the run that registered it can execute it; do by hand what it did".into()),
        };
    };
    ui.step(
        "recovery",
        &format!("routine #{}: {}", entry.id, entry.what),
    );
    match site.run_recovery(routine) {
        Ok(_) => Ran {
            entry: entry.clone(),
            outcome: RecoveryOutcome::Ok,
            detail: None,
        },
        Err(e) => Ran {
            entry: entry.clone(),
            outcome: if e.kind == hascript_api::ErrorKind::Unsupported {
                RecoveryOutcome::CannotRun
            } else {
                RecoveryOutcome::Failed
            },
            detail: Some(match &e.remedy {
                Some(r) => format!("{}; remedy: {r}", e.message),
                None => e.message.clone(),
            }),
        },
    }
}

/// A routine description as a procedure to run (`{procedure, params}`, or an older
/// description the site's driver maps to one): the name and its parameters.
pub fn as_procedure(
    site: &dyn Site,
    routine: &serde_json::Value,
) -> Option<(String, std::collections::BTreeMap<String, String>)> {
    let mapped;
    let r = if routine.get("procedure").is_some() {
        routine
    } else {
        mapped = site.routine_procedure(routine)?;
        &mapped
    };
    let name = r.get("procedure")?.as_str()?.to_string();
    let params = r
        .get("params")
        .and_then(serde_json::Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let v = match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.clone(), v)
                })
                .collect()
        })
        .unwrap_or_default();
    Some((name, params))
}

/// How an operator finishes a routine by hand: the procedure and its parameters to run.
pub fn routine_words(site: &dyn Site, routine: &serde_json::Value) -> String {
    match as_procedure(site, routine) {
        Some((name, params)) => {
            let p: Vec<String> = params.iter().map(|(k, v)| format!("-p {k}={v}")).collect();
            format!("finish it with `hascript run {name} {}`", p.join(" "))
        }
        None => "finish it with `hascript unwind RUN`".to_string(),
    }
}

/// The lines the run's report gets about the routines it ran.
pub fn report_lines(ran: &[Ran]) -> Vec<String> {
    ran.iter()
        .map(|r| {
            let d = r
                .detail
                .as_deref()
                .map(|d| format!(": {d}"))
                .unwrap_or_default();
            format!(
                "recovery routine #{} ({}) → {}{d}",
                r.entry.id,
                r.entry.what,
                r.outcome.name()
            )
        })
        .collect()
}

/// What a run stopped at once (second Ctrl-C) left pending, as lines for the operator.
pub fn pending_lines(pending: &[RecoveryEntry]) -> Vec<String> {
    pending
        .iter()
        .rev()
        .map(|e| {
            let how = match &e.routine {
                Some(r) => format!("routine {r}"),
                None => "script routine (defer): do by hand what it does".into(),
            };
            format!("  #{} {} — {how}", e.id, e.what)
        })
        .collect()
}

/// Run the routines still pending in the run's registry, newest first, settling each
/// (journaled, `by`: `run`, `unwind`): a driver's through [`hascript_api::Site::run_recovery`], a script's `defer`
/// closure with `script` (the engine and the script that registered it). `interrupted`:
/// the run was stopped by Ctrl-C, whose cancellation is cleared first so the routines can
/// send commands and wait.
pub fn run_pending(
    script: Option<(&Engine, &rhai::AST)>,
    env: &RunEnv,
    interrupted: bool,
    by: &str,
) -> Vec<Ran> {
    use hascript_api::objects::RecoveryOutcome;
    let pending = env.ctx.recoveries.pending();
    if pending.is_empty() {
        return Vec::new();
    }
    if interrupted {
        env.interrupt.rearm();
    } else {
        // A signal while they run (none came before) stops at once: see `recovering`.
        env.interrupt.set_recovering(true);
    }
    let _recovered = Recovering(&env.interrupt);
    env.ctx.ui.warn(&format!(
        "{}running {} pending recovery routine(s), newest first{}",
        if interrupted { "interrupted: " } else { "" },
        pending.len(),
        if interrupted {
            match env.interrupt.signal() {
                None | Some(hascript_api::Signal::Interrupt) => {
                    " (press Ctrl-C again to stop at once)"
                }
                Some(hascript_api::Signal::Terminate) => {
                    " (stopped by SIGTERM; a second signal stops at once)"
                }
                Some(hascript_api::Signal::Hangup) => {
                    " (stopped by SIGHUP: the terminal went away; a second signal stops at once)"
                }
            }
        } else {
            ""
        }
    ));
    let mut out = Vec::new();
    // Routines a routine registers run too; a bound keeps a runaway script finite.
    for _ in 0..1000 {
        let Some(entry) = env.ctx.recoveries.pending().pop() else {
            break;
        };
        let closure = env
            .deferred
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&entry.id);
        // Its executor settles it below, with how the execution ended.
        env.ctx.recoveries.executing(entry.id);
        let ran = match (&entry.routine, closure, script) {
            (Some(routine), _, _) => match as_procedure(env.site.as_ref(), routine) {
                Some((name, params)) => run_procedure_routine(env, &entry, &name, params),
                None => run_driver_routine(env.site.as_ref(), env.ctx.ui.as_ref(), &entry),
            },
            (None, Some(f), Some((engine, ast))) => {
                env.ctx
                    .ui
                    .step("recovery", &format!("routine #{}: {}", entry.id, entry.what));
                match f.call::<Dynamic>(engine, ast, ()) {
                    Ok(_) => Ran {
                        entry: entry.clone(),
                        outcome: RecoveryOutcome::Ok,
                        detail: None,
                    },
                    Err(e) => Ran {
                        entry: entry.clone(),
                        outcome: RecoveryOutcome::Failed,
                        detail: Some(e.to_string()),
                    },
                }
            }
            (None, _, _) => Ran {
                entry: entry.clone(),
                outcome: RecoveryOutcome::CannotRun,
                detail: Some("a script's own routine (defer): only the run that registered it can execute it; do by hand what it did".into()),
            },
        };
        env.ctx
            .recoveries
            .settle(entry.id, ran.outcome, by, ran.detail.as_deref());
        out.push(ran);
    }
    out
}

/// Run a routine that is a procedure script (`{procedure, params}`), nested in the run.
fn run_procedure_routine(
    env: &RunEnv,
    entry: &hascript_api::objects::RecoveryEntry,
    name: &str,
    params: BTreeMap<String, String>,
) -> Ran {
    use hascript_api::objects::RecoveryOutcome;
    env.ctx.ui.step(
        "recovery",
        &format!("routine #{}: {} ({name})", entry.id, entry.what),
    );
    match procedure::run_procedure(env, name, params, rhai::Position::NONE) {
        Ok(_) => Ran {
            entry: entry.clone(),
            outcome: RecoveryOutcome::Ok,
            detail: None,
        },
        Err(e) => Ran {
            entry: entry.clone(),
            outcome: RecoveryOutcome::Failed,
            detail: Some(procedure::error_words(&e)),
        },
    }
}

/// Ends [`Interrupt::recovering`] when the routines are done (however they end).
struct Recovering<'a>(&'a Interrupt);

impl Drop for Recovering<'_> {
    fn drop(&mut self) {
        self.0.set_recovering(false);
    }
}
