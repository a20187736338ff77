//! Recovery routines as the engine runs them when a run ends: a driver's routine by its
//! description, a routine as the procedure it runs, and how their outcomes are worded.
//! Reading what a dead run left pending is the run layer's (`recovery.rs`).

use hascript_api::objects::{RecoveryEntry, RecoveryOutcome, Site};
use hascript_api::Ui;

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
