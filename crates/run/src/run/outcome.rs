//! The exit-code policy of a run, in one place: what the script's outcome, the host locks
//! and a dry run's plan make of the process's exit code (design.md, "Exit codes"; README's
//! table). The codes themselves are [`hascript_api::ErrorKind`]'s; these names say which
//! kind each one is.

use std::io::Write;

use crate::engine::Outcome;
use crate::journal;
use crate::output::ConsoleUi;

use super::Shared;

/// Exit code of a run that ended well.
pub const EXIT_OK: i32 = 0;
/// Exit code of usage errors: nothing was sent ([`hascript_api::ErrorKind::Usage`]).
pub const EXIT_USAGE: i32 = 2;
/// Exit code of a failed check or precondition: nothing was changed
/// ([`hascript_api::ErrorKind::Check`]).
pub const EXIT_CHECK: i32 = 3;
/// Exit code of a state that needs a person ([`hascript_api::ErrorKind::NeedsAttention`]).
pub const EXIT_ATTENTION: i32 = 4;
/// Exit code of a confirmation declined or impossible
/// ([`hascript_api::ErrorKind::Declined`]).
pub const EXIT_DECLINED: i32 = 5;

/// Print a usage error and return [`EXIT_USAGE`].
pub fn usage(msg: impl std::fmt::Display) -> i32 {
    eprintln!("error: {msg}");
    EXIT_USAGE
}

/// A failed check before the script started (a lock that cannot be taken over, a routine
/// that cannot be inherited): journaled, shown, and [`EXIT_CHECK`].
pub(super) fn refused_before_start(shared: &Shared, msg: &str) -> i32 {
    shared.journal.error("check", msg);
    shared.console.error(msg);
    EXIT_CHECK
}

/// The exit code and error kind of a run from what its script thread returned (`joined`:
/// `Err` when the thread panicked), after the locks were released: the script's own
/// outcome, reported and journaled with the run's secrets hidden; a panic is an internal
/// error (3 before any change, 4 after); a run refused by another run's lock, or by the
/// operator declining to break one, before anything changed is a failed precondition
/// (3) or a decline (5), whatever a driver's recovery made of the refusal.
pub(super) fn settle(
    shared: &Shared,
    joined: std::thread::Result<Outcome>,
) -> (i32, Option<String>) {
    let rec = &shared.journal;
    let console = &shared.console;
    let (exit, kind) = match joined {
        Ok(out) => {
            if let Some(r) = &out.report {
                let r = rec.redact(&shared.secrets.redact(r));
                let kind = out.kind.as_deref().unwrap_or("script");
                match &out.fields {
                    Some(f) => {
                        let hide = |t: &str| rec.redact(&shared.secrets.redact(t));
                        let f = journal::ErrorFields {
                            message: hide(&f.message),
                            remedy: f.remedy.as_deref().map(hide),
                            host: f.host.as_deref().map(hide),
                            command: f.command.as_deref().map(hide),
                            location: f.location.as_deref().map(hide),
                        };
                        rec.error_fields(kind, &f, &r);
                    }
                    None => rec.error(kind, &r),
                }
                console.error(&r);
            }
            (out.exit, out.kind)
        }
        Err(_) => {
            let changed = shared.ctx.changed();
            let msg =
                "error: internal error (a bug in hascript or a driver) while running the script";
            rec.error("internal", msg);
            console.error(msg);
            (
                if changed { EXIT_ATTENTION } else { EXIT_CHECK },
                Some("internal".to_string()),
            )
        }
    };
    let refused = shared
        .locks
        .as_ref()
        .map(|l| l.refused())
        .unwrap_or_default();
    let declined = shared.locks.as_ref().is_some_and(|l| l.declined());
    if exit != EXIT_OK && declined && rec.changes() == 0 {
        let msg = "declined: a lock was not broken; nothing was changed (exit 5)";
        rec.error("declined", msg);
        console.error(msg);
        (EXIT_DECLINED, Some("declined".to_string()))
    } else if exit != EXIT_OK && !refused.is_empty() && rec.changes() == 0 {
        let hosts: Vec<String> = refused.iter().map(|(h, w)| format!("{h} ({w})")).collect();
        let msg = format!(
            "refused: locked by another hascript run on {}; nothing was changed (exit 3)",
            hosts.join(", ")
        );
        rec.error("check", &msg);
        console.error(&msg);
        (EXIT_CHECK, Some("check".to_string()))
    } else {
        (exit, kind)
    }
}

/// The end of a dry run: the plan (printed for people, a `plan` line in the journal and the
/// JSON stream) and its exit code ([`crate::dryrun::verdict`]).
pub(super) fn finish_dry_run(
    plan: &crate::dryrun::Plan,
    rec: &journal::Recorder,
    console: &ConsoleUi,
    json: bool,
    exit: i32,
    kind: Option<String>,
) -> (i32, Option<String>) {
    // The error that ended the procedure on the copy, as journaled.
    let last_error = plan.last_error();
    let v = crate::dryrun::verdict(plan, exit, last_error.as_deref());
    rec.note(&journal::Event::Plan {
        complete: v.complete,
        outcome: v.summary.clone(),
        entries: plan.to_json(v.complete, &v.summary)["entries"].clone(),
    });
    if !json {
        let lines = plan.render();
        let mut so = std::io::stdout().lock();
        let _ = writeln!(so);
        let _ = writeln!(so, "Dry-run plan (nothing that changes state was sent):");
        if lines.is_empty() {
            let _ = writeln!(so, "  (no change command)");
        }
        for l in lines {
            let _ = writeln!(so, "{}", rec.redact(&l));
        }
        drop(so);
        if v.exit == EXIT_OK {
            let _ = writeln!(std::io::stdout().lock(), "{}", rec.redact(&v.summary));
        } else {
            console.error(&rec.redact(&v.summary));
        }
    }
    let kind = match v.exit {
        EXIT_OK => None,
        crate::dryrun::EXIT_INCOMPLETE if !v.complete => Some("unknown".to_string()),
        _ => kind,
    };
    (v.exit, kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hascript_api::ErrorKind;

    #[test]
    fn the_named_codes_are_the_error_kinds_codes() {
        // The run layer names the codes; ErrorKind is where they are defined. They must
        // never drift apart (README's and the book's tables list ErrorKind's).
        assert_eq!(EXIT_USAGE, ErrorKind::Usage.exit_code(false));
        assert_eq!(EXIT_CHECK, ErrorKind::Check.exit_code(false));
        assert_eq!(EXIT_CHECK, ErrorKind::NotRecorded.exit_code(false));
        assert_eq!(EXIT_ATTENTION, ErrorKind::NeedsAttention.exit_code(true));
        assert_eq!(EXIT_DECLINED, ErrorKind::Declined.exit_code(false));
        // An internal error is judged as an unexpected failure is: 3 before any change,
        // 4 after one.
        assert_eq!(EXIT_CHECK, ErrorKind::Command.exit_code(false));
        assert_eq!(EXIT_ATTENTION, ErrorKind::Command.exit_code(true));
    }
}
