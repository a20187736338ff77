//! The run layer: the one way a script run starts. `hascript run`, the REPL's `:run`,
//! `hascript resume` and `hascript unwind` all go through [`Run`]; the CLI and the REPL
//! only turn their arguments into a [`Request`] (or a [`Continue`]).
//!
//! A run, in order ([`Run::open`], then [`Run::execute`]):
//! 1. parameters (`-p`), checked against the script's `//! params:` line, before the banner
//!    and the journal; the site options; the script (resolved by name, or the one a dead
//!    run recorded); its secrets;
//! 2. the journal, created before anything is sent (a run that cannot be recorded does not
//!    start); the operator's UI (console or JSON lines; the dry run's plan); the
//!    interrupt (its own signal handler, or the caller's cancel token);
//! 3. the site, its transport wrapped by the journal and the host locks; the run's header
//!    line and banner; `--takeover` and a continued run's lock takeover and inherited
//!    recovery routines;
//! 4. the script on its own thread ([`engine::limits::SCRIPT_STACK`]), the locks released
//!    whatever the outcome, and the outcome turned into the exit code
//!    ([`outcome`]: the policy in one place), the dry run's plan printed.
//!
//! What a nested run (a procedure or recovery routine started from inside a run) shares
//! with its run is [`Shared`].

mod continued;
pub mod outcome;
mod shared;

use std::collections::BTreeMap;
use std::sync::Arc;

use hascript_api::{CancelToken, Ui};

use crate::engine::{self, Interrupt};
use crate::journal::{self, Recorder};
use crate::output::{ConsoleUi, JsonUi, Verbosity};
use crate::resume::Continuation;
use crate::scripts::{self, Script};
use crate::site::{self, SiteChoice, SiteSpec};
use crate::{lock, secrets};

pub use continued::{continue_run, Continue};
pub use outcome::{usage, EXIT_ATTENTION, EXIT_CHECK, EXIT_DECLINED, EXIT_OK, EXIT_USAGE};
pub use shared::Shared;

/// What a run is asked to do: `hascript run`'s options, whoever gives them (the CLI, the
/// REPL's `:run`, [`continue_run`]).
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The script: a path, or a procedure name ([`scripts::resolve`]).
    pub script: String,
    /// The site.
    pub site: SiteChoice,
    /// `-p key=value`, as given.
    pub params: Vec<String>,
    /// `--yes`: answer yes to every confirmation.
    pub yes: bool,
    /// `--output json`: standard output carries the journal's lines.
    pub json: bool,
    /// `--break-lock`.
    pub break_lock: bool,
    /// `--takeover RUN`.
    pub takeover: Option<String>,
    /// `--dry-run`.
    pub dry_run: bool,
    /// `-v` / `-q`.
    pub verbosity: Verbosity,
}

/// `hascript run` (`cancel: None`: the run installs its own handler for Ctrl-C, SIGTERM and
/// SIGHUP), or the same run from inside another command, such as the REPL's `:run`
/// (`cancel: Some`: the caller watches the signals and cancels the token; the REPL's
/// watcher, [`crate::signals::watch_repl`], stops the process at once on a second
/// SIGTERM/SIGHUP, reporting this run's pending routines). The same checks, journal, host
/// locks, `--dry-run`, confirmations and exit code either way; the run prints its own
/// output and error report. Returns the exit code.
pub fn run(req: Request, cancel: Option<CancelToken>) -> i32 {
    match Run::open(req, None, cancel) {
        Ok(run) => run.execute(),
        Err(code) => code,
    }
}

/// One run, opened: its journal written, its site built, its banner shown; ready to run
/// its script ([`Run::execute`]).
pub struct Run {
    /// What every script of the run shares.
    shared: Shared,
    /// The script.
    script: Script,
    /// Its parameters.
    params: BTreeMap<String, String>,
    /// `resume` / `unwind`: the dead run.
    cont: Option<Continuation>,
    /// `--dry-run`: the plan being filled.
    plan: Option<Arc<crate::dryrun::Plan>>,
    /// `--output json`.
    json: bool,
    /// `-v`, or HASCRIPT_VERBOSE: a shipped procedure's error shows its source too.
    verbose: bool,
    /// While the run lives, a second signal reports its pending routines.
    _pending: crate::signals::Pending,
}

impl Run {
    /// Everything before the script: parameters, site, secrets, journal, UI, interrupt,
    /// site and locks, header and banner; then `--takeover`'s and a continued run's
    /// (`cont`) lock takeover and inherited routines. `cancel`: see [`run`]. `Err`: the
    /// exit code of a run that did not start (its error printed; journaled once the
    /// journal exists).
    pub fn open(
        req: Request,
        cont: Option<Continuation>,
        cancel: Option<CancelToken>,
    ) -> Result<Run, i32> {
        let params = scripts::parse_params(&req.params).map_err(usage)?;
        // Check the site options before anything else: a forgotten -i must never look like
        // a run.
        site::site_spec(&req.site, "ldoms", true).map_err(usage)?;
        let script = match &cont {
            Some(c) => crate::resume::script_for(c),
            None => scripts::resolve(&req.script),
        }
        .map_err(usage)?;
        // A secret given with -p is refused first, saying why (not as an unknown parameter).
        let secret_decls = scripts::meta(&script.text).secrets;
        secrets::refuse_params(&secret_decls, &params).map_err(usage)?;
        scripts::check_declared(&params, &script).map_err(usage)?;
        // A resumed run gave its parameters when it started (secret ones come again with -p).
        if cont.is_none() {
            scripts::check_required(&params, &script).map_err(usage)?;
        }
        let spec = site::site_spec(&req.site, script.driver(), true).map_err(usage)?;
        // Secret values before anything is sent: a missing one is a usage error.
        let run_secrets = secrets::resolve(
            &secret_decls,
            &params,
            &|k: &str| std::env::var(k).ok(),
            &secrets::ask_on_terminal,
            &script.source_name,
        )
        .map_err(usage)?;
        let run_secrets = Arc::new(run_secrets);
        // The journal before anything is sent: a run that cannot be recorded does not start.
        let json = req.json;
        // A dry run answers every question as --yes would (and lists it in the plan).
        let dry = req.dry_run;
        let plan = dry.then(|| Arc::new(crate::dryrun::Plan::new()));
        let json_ui = Arc::new(JsonUi::new(req.yes || dry));
        let console = Arc::new(ConsoleUi::new(req.yes || dry).with_verbosity(req.verbosity));
        let mut sinks: Vec<Arc<dyn journal::EventSink>> = if json {
            vec![json_ui.clone()]
        } else {
            // -v: the console shows each command from the journal's (redacted) lines.
            vec![console.clone()]
        };
        if let Some(p) = &plan {
            sinks.push(p.clone());
        }
        let run_id = journal::new_run_id();
        let rec = journal::runs_dir()
            .and_then(|d| Recorder::create(&d, &run_id, sinks))
            .map(Arc::new)
            .map_err(usage)?;
        if dry {
            rec.set_dry_run();
        }
        rec.redactor().add_all(&run_secrets.hidden());
        for (k, v) in &params {
            if journal::secret_param_name(k) {
                rec.redactor().add(v);
            }
        }
        let (cancel, watch_signals) = match cancel {
            Some(c) => (c, false),
            None => (CancelToken::new(), true),
        };
        let interrupt = Interrupt::new(cancel.clone());
        if watch_signals {
            // Ctrl-C, SIGTERM and SIGHUP alike: the first runs the recovery, a second stops
            // at once (crate::signals).
            crate::signals::watch_run(interrupt.clone());
        }
        let shown: Arc<dyn Ui> = if json { json_ui } else { console.clone() };
        // What the operator is shown hides every secret the journal hides (the script's,
        // the inventory's, each command's own), not only the script's.
        let ui: Arc<dyn Ui> =
            Arc::new(secrets::RedactingUi::new(shown, &run_secrets).with_journal(rec.clone()));
        let opts = req.site.options(plan.clone());
        // Every command goes through the journal (and takes the host's lock before its
        // first change); everything the operator is shown is journaled too.
        let me = lock::Owner {
            run: run_id.clone(),
            user: journal::current_user(),
            origin: journal::origin_host(),
            since: journal::now_rfc3339(),
            pid: std::process::id(),
        };
        // `--takeover RUN`: RUN must be dead (checked in its journal) before anything is
        // sent.
        let takeover = match (&req.takeover, &cont) {
            (Some(_), Some(_)) => {
                return Err(usage("--takeover is for `hascript run`: resume and unwind take over their run's locks already"))
            }
            (Some(_), None) if dry => {
                return Err(usage("--takeover changes locks: not with --dry-run"))
            }
            (Some(t), None) => Some(
                journal::runs_dir()
                    .and_then(|d| lock::takeover_of(&d, t))
                    .map_err(usage)?,
            ),
            (None, _) => None,
        };
        let lock_opts = lock::LockOptions {
            break_lock: req.break_lock,
            takeover: cont
                .as_ref()
                .map(|c| c.from.clone())
                .or_else(|| takeover.as_ref().map(|t| t.run.clone())),
            takeover_hosts: cont
                .as_ref()
                .map(|c| c.locked.clone())
                .or_else(|| takeover.as_ref().map(|t| t.hosts.clone()))
                .unwrap_or_default(),
        };
        let mut locks: Option<Arc<lock::Locks>> = None;
        let wrap_rec = rec.clone();
        let built = match site::build_wrapped(&spec, &opts, ui, cancel, |router, ui, clock| {
            let ui: Arc<dyn Ui> = Arc::new(journal::JournalingUi::new(ui, wrap_rec.clone(), clock));
            let l = Arc::new(lock::Locks::new(
                router.clone(),
                wrap_rec.clone(),
                ui.clone(),
                lock_opts,
                me.clone(),
            ));
            // A dry run sends no change to the site: it takes no lock.
            let l = if dry {
                None
            } else {
                locks = Some(l.clone());
                Some(l as Arc<dyn journal::ChangeGate>)
            };
            let exec: Arc<dyn hascript_api::Exec> =
                Arc::new(journal::JournalingExec::new(router, wrap_rec, l));
            (exec, ui)
        }) {
            Ok(b) => b,
            Err(e) => {
                // Nothing was sent: the journal would only say that; remove it.
                if let Some(p) = rec.path() {
                    let _ = std::fs::remove_file(p);
                }
                return Err(usage(e));
            }
        };
        // The inventory's secrets (SSH passwords, passphrases, sudo passwords) are hidden
        // from here on, before the first command is sent.
        rec.redactor().add_all(&built.secrets);
        if let Some(l) = &locks {
            l.set_lock_dirs(built.lock_dirs.clone());
            l.set_site_hosts(built.hosts.clone());
        }
        let site_rec = site_record(&spec, &built, &req.site);
        // Earlier runs' records on this site (log sizes before clovmmigrate -u, step results
        // such as when 17.3.1.1 was done), read from their journals when a driver first asks.
        if let Ok(dir) = journal::runs_dir() {
            built
                .ctx
                .history
                .set(Arc::new(crate::history::JournalHistory::new(
                    dir, &site_rec, &run_id,
                )));
        }
        let header = journal::Event::Run(journal::RunHeader {
            version: env!("CARGO_PKG_VERSION").to_string(),
            user: me.user.clone(),
            origin: me.origin.clone(),
            pid: me.pid,
            script: script.source_name.clone(),
            path: script.path.as_ref().map(|p| p.display().to_string()),
            sha256: journal::sha256_hex(script.text.as_bytes()),
            params: params
                .iter()
                .map(|(k, v)| {
                    let v = if journal::secret_param_name(k) {
                        hascript_api::REDACTED.to_string()
                    } else {
                        v.clone()
                    };
                    (k.clone(), v)
                })
                .collect(),
            site: site_rec,
            description: built.description.clone(),
            dry_run: dry,
            resumed_from: cont.as_ref().filter(|c| !c.unwind).map(|c| c.from.clone()),
            unwinds: cont.as_ref().filter(|c| c.unwind).map(|c| c.from.clone()),
        });
        rec.write(&header, true).map_err(usage)?;
        // The banner names where the procedure came from, so a shadowing file cannot pass
        // for the shipped procedure.
        built.ctx.ui.info(&format!(
            "hascript {} — {} ({}) on {} (run {})",
            env!("CARGO_PKG_VERSION"),
            script.source_name,
            script.origin_label(),
            built.description,
            run_id
        ));
        if let Some(w) = &script.shadowed {
            built.ctx.ui.warn(w);
        }
        if dry {
            built.ctx.ui.info(
                "DRY RUN: the procedure runs against a simulated copy of the site; nothing that changes state is sent, no lock is taken, every question is answered yes",
            );
        }
        // Recovery routines are journaled (synced) from here on; a second signal lists them.
        built
            .ctx
            .recoveries
            .set_log(Arc::new(crate::recovery::JournalLog::new(rec.clone())));
        let pending = crate::signals::Pending::set(built.ctx.recoveries.clone(), rec.clone());
        let shared = Shared {
            id: run_id,
            site: built.site.clone(),
            ctx: built.ctx.clone(),
            journal: rec,
            locks,
            interrupt,
            secrets: run_secrets,
            console,
        };
        if let (Some(t), Some(l)) = (&takeover, &shared.locks) {
            if let Err(e) = l.ensure_all(&t.hosts, false) {
                let msg = format!(
                    "error: cannot take over the locks of run {}: {}",
                    t.run, e.message
                );
                let code = outcome::refused_before_start(&shared, &msg);
                for (host, why) in l.release_all() {
                    shared.ctx.ui.warn(&format!(
                        "the hascript lock on {host} was not released: {why}; remove {} on {host} by hand once no run is using it",
                        l.paths(&host).0
                    ));
                }
                shared.journal.result(code, Some("check"));
                return Err(code);
            }
        }
        if let Some(c) = &cont {
            if let Err(code) = continued::take_over(c, &shared) {
                shared.journal.result(code, None);
                return Err(code);
            }
        }
        // A shipped procedure's error shows the manual's step and remedy, not its source;
        // `-v` (or HASCRIPT_VERBOSE=1, for the REPL's `:run` and wrappers) shows the
        // source too.
        let verbose = req.verbosity == Verbosity::Verbose
            || std::env::var_os("HASCRIPT_VERBOSE").is_some_and(|v| !v.is_empty() && v != "0");
        Ok(Run {
            shared,
            script,
            params,
            cont,
            plan,
            json,
            verbose,
            _pending: pending,
        })
    }

    /// What the run's scripts share (for a nested run: see [`Shared`]).
    pub fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Run the script (or, for `unwind`, the dead run's routines) on its own thread, release
    /// the locks, and turn the outcome into the exit code, journaled as the run's result.
    pub fn execute(self) -> i32 {
        let Run {
            shared,
            script,
            params,
            cont,
            plan,
            json,
            verbose,
            _pending,
        } = self;
        let mut env = shared.env(params);
        if let Some(replay) = cont.as_ref().and_then(|c| c.replay.clone()) {
            env.replay = Some(replay);
        }
        let me = shared.journal.id().to_string();
        let unwind_of = cont
            .as_ref()
            .filter(|c| c.unwind)
            .map(|c| (c.from.clone(), c.left.clone()));
        if script.origin == scripts::Origin::Shipped && !verbose {
            env.report_style.procedure = Some((
                script.source_name.clone(),
                scripts::meta(&script.text).section,
            ));
        }
        let worker = std::thread::Builder::new()
            .name("script".into())
            .stack_size(engine::limits::SCRIPT_STACK)
            .spawn(move || {
                let engine = engine::build_engine(&env);
                match &unwind_of {
                    Some((from, left)) => crate::resume::unwind(&env, &me, from, left),
                    None => engine::execute(&engine, &env, &script.source_name, &script.text),
                }
            });
        let joined = match worker {
            Ok(h) => h.join(),
            Err(e) => {
                shared.journal.result(EXIT_USAGE, Some("internal"));
                return usage(format!("cannot start the script thread: {e}"));
            }
        };
        // Locks are released whatever the outcome (a run that dies leaves them: stale).
        shared.release_locks();
        let (exit, kind) = outcome::settle(&shared, joined);
        let (exit, kind) = match &plan {
            Some(p) => {
                outcome::finish_dry_run(p, &shared.journal, &shared.console, json, exit, kind)
            }
            None => (exit, kind),
        };
        shared.journal.result(exit, kind.as_deref());
        exit
    }
}

/// How the journal's header names the site.
fn site_record(
    spec: &SiteSpec,
    built: &site::BuiltSite,
    choice: &SiteChoice,
) -> journal::SiteRecord {
    match (spec, &built.sim) {
        (SiteSpec::Inventory(p), _) => journal::SiteRecord::Inventory {
            path: p.display().to_string(),
            sha256: std::fs::read(p)
                .map(|b| journal::sha256_hex(&b))
                .unwrap_or_default(),
        },
        (_, Some(sim)) => journal::SiteRecord::Sim {
            scenario: sim.scenario(),
            // A dry run works on a detached copy; the record names the folder it copied.
            state: sim
                .state_dir()
                .or_else(|| choice.sim_state.clone())
                .map(|d| d.display().to_string()),
        },
        (_, None) => journal::SiteRecord::Sim {
            scenario: "?".into(),
            state: None,
        },
    }
}
