//! The command line: `run`, `list`, `show`, `check`, `parse`, `repl`, `docs`, `sim`.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use hascript_api::{CancelToken, Ui};

use crate::backend::{self, SimSite};
use crate::engine::{self, Interrupt, RunEnv};
use crate::inventory::{clip_quoted, quoted};
use crate::output::{ConsoleUi, JsonUi};
use crate::scripts::{self, Script};
use crate::secrets;
use crate::site::{self, SiteSpec};
use crate::{journal, lock};

/// Exit code of usage errors.
pub const EXIT_USAGE: i32 = 2;

/// What `--version` prints: the version and the commit it was built from (`unknown` when
/// built outside a git checkout).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("HASCRIPT_COMMIT"),
    ")"
);

/// hascript runs HA-cluster operating procedures as Rhai scripts.
#[derive(Debug, Parser)]
#[command(name = "hascript", version = VERSION, about, max_term_width = 100)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Cmd,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Run a script (a file, or a shipped procedure such as ldoms/live-migration).
    Run(RunArgs),
    /// List the shipped procedures and the simulator's scenarios.
    List,
    /// Print a shipped script's source (e.g. `hascript show ldoms/live-migration > my.rhai`).
    Show {
        /// The shipped name.
        name: String,
    },
    /// Compile scripts and look for problems without running anything.
    Check {
        /// Script files (or shipped names).
        #[arg(required = true)]
        scripts: Vec<String>,
    },
    /// Parse a command's output (from FILE or standard input) and print it as JSON.
    Parse {
        /// What the text is the output of (ldm-list-p, ldm-list-spconfig, cftool-n, cfset-a, sdtool-s, clsnmpsetup-l, hvdisp-t-userapplication; cmviewcl-v-f-line, hpvmstatus, hpvmstatus-p, package-conf, legacy-control, cmcheckconf, vgdisplay, ls-l, swlist, df-n).
        kind: String,
        /// The file to read; standard input without it.
        file: Option<PathBuf>,
    },
    /// Explore a site interactively.
    Repl(SiteArgs),
    /// Print the scripting API (every function scripts can call, with signatures and doc
    /// comments) as Markdown: the book's API chapter.
    Docs {
        /// Write it to FILE instead of standard output.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Continue a run that died (SIGKILL, power loss, lost terminal): the same script,
    /// parameters and site; steps it completed are not run again (their recorded values are
    /// used), its host locks and pending recovery routines are taken over.
    Resume(ResumeArgs),
    /// Run the pending recovery routines of a run that died, newest first, against the
    /// same site (taking over its host locks).
    Unwind(UnwindArgs),
    /// The record of past runs (journals under $XDG_STATE_HOME/hascript/runs).
    Journal {
        /// What to show.
        #[command(subcommand)]
        command: JournalCmd,
    },
    /// Inventories of real sites.
    Inventory {
        /// What to do with an inventory.
        #[command(subcommand)]
        command: InventoryCmd,
    },
    /// Print a completion script for a shell (see the book, "Running procedures", for where
    /// to install it).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: CompletionShell,
    },
    /// Write man pages: hascript.1 and one page per subcommand (hascript-run.1, …) into
    /// DIR, or hascript.1 alone on standard output without it.
    Man {
        /// The folder to write the pages to (created if missing).
        dir: Option<PathBuf>,
    },
    /// Manage simulated sites kept in folders.
    Sim {
        /// What to do with the simulator.
        #[command(subcommand)]
        command: SimCmd,
    },
}

/// Which site to work on.
#[derive(Debug, Args, Clone, Default)]
pub struct SiteArgs {
    /// Use the simulator: a scenario (e.g. ldoms/migration-aborted-guest-stopped), a driver's default
    /// site (ldoms), or, without a value, the default site of the script's driver.
    #[arg(long, value_name = "SCENARIO", num_args = 0..=1)]
    pub sim: Option<Option<String>>,
    /// The inventory of a real site.
    #[arg(short = 'i', long, value_name = "INVENTORY")]
    pub inventory: Option<PathBuf>,
    /// Keep the simulated site in this folder (state and virtual clock); only with --sim.
    #[arg(long, value_name = "DIR")]
    pub sim_state: Option<PathBuf>,
    /// SSH: record the host key of a host that has none in known_hosts (after you checked
    /// its fingerprint); a known key is never replaced.
    #[arg(long)]
    pub accept_new_host_keys: bool,
    /// With -i: run waits on the virtual clock of the simulated site in DIR (for an
    /// inventory whose hosts are that site served over SSH, as in the SSH tests).
    #[arg(long, value_name = "DIR", hide = true)]
    pub sim_clock: Option<PathBuf>,
}

/// `hascript run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The script: a file path, or a shipped name such as ldoms/live-migration. May be
    /// left out when `--sim` names it (`run --sim ldoms/live-migration`: a procedure given
    /// to --sim is the script, run on the default simulated site of its driver).
    #[arg(default_value = "", hide_default_value = true, value_name = "SCRIPT")]
    pub script: String,
    /// The site.
    #[command(flatten)]
    pub site: SiteArgs,
    /// A parameter for the script, as key=value (repeatable); scripts see `params.key`.
    #[arg(short = 'p', long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    /// Answer yes to every confirmation.
    #[arg(long)]
    pub yes: bool,
    /// What standard output carries: the human display, or one JSON event per line
    /// (the journal's lines; schema in the book, "Running safely").
    #[arg(long = "output", value_enum, default_value_t = OutputFormat::Human, value_name = "FORMAT")]
    pub output: OutputFormat,
    /// Break a host's lock held by another (dead) run, after confirmation (`--yes`
    /// answers it).
    #[arg(long)]
    pub break_lock: bool,
    /// Take over the host locks a dead run of yours left (its journal on this machine must
    /// show it ended, or that its process is gone; never a live run's): for a step script
    /// that finishes its work, such as ldoms/recover-migration after a failed live
    /// migration. Every lock that run left is taken over and released at the end.
    #[arg(long, value_name = "RUN")]
    pub takeover: Option<String>,
    /// Change nothing: run the procedure against a simulated copy of the site and print
    /// the plan (every state-changing command with its host, the waits, the questions).
    /// Read-only commands still reach a real site (-i); changes never do. No lock is taken.
    /// Exit 0: plan complete; 3: a precondition already fails.
    #[arg(long)]
    pub dry_run: bool,
    /// How much the run shows (-v, -q).
    #[command(flatten)]
    pub verbosity: VerbosityArgs,
}

/// `-v` / `-q` of `run`, `resume` and `unwind`.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct VerbosityArgs {
    /// Also show each command sent and its exit status, as it happens.
    #[arg(short = 'v', long, conflicts_with = "quiet")]
    pub verbose: bool,
    /// Show only warnings, errors, questions and the result (the verified end state, the
    /// dry-run plan).
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// `hascript resume`.
#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// The run id (or enough of its beginning to name one run; see `hascript journal list`).
    pub run: String,
    /// Send again a change command whose outcome the dead run never recorded (it may or may
    /// not have taken effect; the procedure reads the state first). Without it, such a
    /// command is shown and a confirmation is needed.
    #[arg(long)]
    pub retry_unknown: bool,
    /// A parameter whose value the journal hides (`*****`), given again as key=value.
    #[arg(short = 'p', long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    /// Answer yes to every confirmation.
    #[arg(long)]
    pub yes: bool,
    /// What standard output carries (as `run --output`).
    #[arg(long = "output", value_enum, default_value_t = OutputFormat::Human, value_name = "FORMAT")]
    pub output: OutputFormat,
    /// How much the run shows (as `run -v`/`-q`).
    #[command(flatten)]
    pub verbosity: VerbosityArgs,
}

/// `hascript unwind`.
#[derive(Debug, Args)]
pub struct UnwindArgs {
    /// The run id (or enough of its beginning to name one run).
    pub run: String,
    /// Answer yes to every confirmation.
    #[arg(long)]
    pub yes: bool,
    /// What standard output carries (as `run --output`).
    #[arg(long = "output", value_enum, default_value_t = OutputFormat::Human, value_name = "FORMAT")]
    pub output: OutputFormat,
    /// How much the run shows (as `run -v`/`-q`).
    #[command(flatten)]
    pub verbosity: VerbosityArgs,
}

/// What a command prints on standard output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    /// For people.
    #[default]
    Human,
    /// One JSON object per line.
    Json,
}

/// `hascript journal …`.
#[derive(Debug, Subcommand)]
pub enum JournalCmd {
    /// One line per recorded run, oldest first: id, start time, user, script, result, exit
    /// code (`unfinished`: no result line — the run died or still runs).
    List,
    /// One run's journal: a readable timeline, or its JSON lines.
    Show {
        /// The run id, or enough of its beginning to name one run; `last` (or nothing) is
        /// the newest run.
        run: Option<String>,
        /// `human` (a timeline) or `json` (the journal's lines as recorded).
        #[arg(long = "output", value_enum, default_value_t = OutputFormat::Human, value_name = "FORMAT")]
        output: OutputFormat,
    },
}

/// The shells `hascript completions` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompletionShell {
    /// GNU bash.
    Bash,
    /// Z shell.
    Zsh,
    /// fish.
    Fish,
}

/// `hascript inventory …`.
#[derive(Debug, Subcommand)]
pub enum InventoryCmd {
    /// Check an inventory as `-i` reads it and report every error at once (exit 2), or a
    /// summary of the site when there is none (exit 0). Nothing is sent to any host.
    Check {
        /// The inventory file.
        file: PathBuf,
    },
}

/// `hascript sim …`.
#[derive(Debug, Subcommand)]
pub enum SimCmd {
    /// Create a simulated site in a folder.
    Init {
        /// The folder (created if missing; must not already hold a site).
        #[arg(long, value_name = "DIR")]
        state: PathBuf,
        /// The scenario to seed it from (default: the LDoms default site).
        #[arg(long, value_name = "NAME")]
        scenario: Option<String>,
    },
    /// Run one command line on a simulated host (as `ssh host COMMAND` would).
    Exec {
        /// The folder holding the site.
        #[arg(long, value_name = "DIR")]
        state: PathBuf,
        /// The host.
        #[arg(long, value_name = "NAME")]
        host: String,
        /// The command words (joined with spaces); $SSH_ORIGINAL_COMMAND without them.
        #[arg(last = true, value_name = "COMMAND")]
        command: Vec<String>,
    },
}

fn usage(msg: impl std::fmt::Display) -> i32 {
    eprintln!("error: {msg}");
    EXIT_USAGE
}

/// Parse `-p key=value` arguments: every key follows [`scripts::PARAM_RULE`] and is given
/// once.
pub fn parse_params(raw: &[String]) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for p in raw {
        let Some((k, v)) = p.split_once('=') else {
            return Err(format!(
                "bad parameter {}: write -p key=value, e.g. -p guest=guest2",
                quoted(p)
            ));
        };
        if !scripts::valid_param_name(k) {
            return Err(format!(
                "bad parameter name {} in -p {}: a parameter name is {}",
                quoted(k),
                quoted(p),
                scripts::PARAM_RULE
            ));
        }
        if out.insert(k.to_string(), v.to_string()).is_some() {
            return Err(format!(
                "parameter {} is given more than once: give each parameter once",
                quoted(k)
            ));
        }
    }
    Ok(out)
}

/// Refuse parameters `script` does not declare in its `//! params:` line (a script without
/// one accepts any).
pub fn check_declared(params: &BTreeMap<String, String>, script: &Script) -> Result<(), String> {
    let Some(declared) = scripts::meta(&script.text).params else {
        return Ok(());
    };
    let unknown: Vec<&str> = params
        .keys()
        .map(String::as_str)
        .filter(|k| !declared.iter().any(|d| d == k))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let what = if unknown.len() == 1 {
        format!("unknown parameter {}", quoted(unknown[0]))
    } else {
        format!(
            "unknown parameters {}",
            unknown
                .iter()
                .map(|k| quoted(k))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let takes = if declared.is_empty() {
        "it takes no parameters".to_string()
    } else {
        format!("it takes: {}", declared.join(", "))
    };
    Err(format!(
        "{what} for {}: {takes} (its `//! params:` line; see `hascript show {}`)",
        script.source_name, script.source_name
    ))
}

/// Refuse a run that lacks a parameter `script` requires (an entry of its `//! params:`
/// line not marked optional): checked before the banner and the journal, so a forgotten
/// `-p` never looks like a run.
pub fn check_required(params: &BTreeMap<String, String>, script: &Script) -> Result<(), String> {
    let meta = scripts::meta(&script.text);
    let missing: Vec<&String> = meta
        .required
        .iter()
        .filter(|k| !params.contains_key(k.as_str()))
        .collect();
    let Some(first) = missing.first() else {
        return Ok(());
    };
    let what = if missing.len() == 1 {
        format!("missing parameter {}", quoted(first))
    } else {
        format!(
            "missing parameters {}",
            missing
                .iter()
                .map(|k| quoted(k))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let give = missing
        .iter()
        .map(|k| format!("-p {k}=VALUE"))
        .collect::<Vec<_>>()
        .join(" ");
    Err(format!(
        "{what} for {}: add {give} ({}; see `hascript show {}`)",
        script.source_name,
        params_summary(&meta),
        script.source_name
    ))
}

/// `required: a, b; optional: c` for a script's declared parameters (`hascript list` and
/// the missing-parameter error).
pub fn params_summary(meta: &scripts::ScriptMeta) -> String {
    let Some(all) = &meta.params else {
        return "parameters not declared".into();
    };
    if all.is_empty() {
        return "no parameters".into();
    }
    let optional: Vec<&str> = all
        .iter()
        .filter(|n| !meta.required.contains(n))
        .map(String::as_str)
        .collect();
    let mut parts = Vec::new();
    if !meta.required.is_empty() {
        parts.push(format!("required: {}", meta.required.join(", ")));
    }
    if !optional.is_empty() {
        parts.push(format!("optional: {}", optional.join(", ")));
    }
    parts.join("; ")
}

/// The site to use from the options; `default_driver` is what `--sim` alone means.
/// `required`: refuse when neither `--sim` nor `-i` is given (run); else the LDoms default
/// simulated site (REPL).
pub fn site_spec(
    args: &SiteArgs,
    default_driver: &str,
    required: bool,
) -> Result<SiteSpec, String> {
    match (&args.sim, &args.inventory) {
        (Some(_), Some(_)) => Err("--sim and -i/--inventory exclude each other: choose the simulator or a real site".into()),
        (None, Some(_)) if args.sim_state.is_some() => {
            Err("--sim-state only goes with --sim (it keeps a simulated site in a folder)".into())
        }
        (None, Some(inv)) => Ok(SiteSpec::Inventory(inv.clone())),
        (None, None) if args.sim_state.is_some() => {
            Err("--sim-state only goes with --sim (it keeps a simulated site in a folder); add --sim".into())
        }
        (None, None) if required => Err(
            "no site given: add --sim [SCENARIO] to run on the simulator, or -i INVENTORY to run on a real site".into(),
        ),
        (None, None) => Ok(SiteSpec::Sim {
            scenario: None,
            default_driver: "ldoms".into(),
            state: None,
        }),
        (Some(sc), None) => Ok(SiteSpec::Sim {
            scenario: sc.clone(),
            default_driver: default_driver.into(),
            state: args.sim_state.clone(),
        }),
    }
}

/// The driver a script belongs to, from its shipped name or its folder's name.
fn script_driver(script: &Script) -> &'static str {
    let folder = match &script.path {
        Some(p) => p
            .parent()
            .and_then(|d| d.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        None => script
            .source_name
            .split('/')
            .next()
            .unwrap_or_default()
            .to_string(),
    };
    if folder == "hpvm" {
        "hpvm"
    } else {
        "ldoms"
    }
}

/// Every name `--sim` accepts: the drivers' default sites and the scenarios.
pub fn sim_names() -> Vec<String> {
    let scen = backend::scenarios();
    let mut names: Vec<String> = Vec::new();
    for s in &scen {
        if !names.contains(&s.driver) {
            names.push(s.driver.clone());
        }
    }
    for d in ["ldoms", "hpvm"] {
        if !names.iter().any(|n| n == d) {
            names.push(d.to_string());
        }
    }
    names.extend(scen.into_iter().map(|s| s.name));
    names
}

/// `run --sim NAME` without a script: when NAME is a procedure (a name `run` would find,
/// or a script file written as a path) and not a scenario, it is the script and the site
/// is the default simulated site of its driver. A name that is both is refused, saying
/// how to write either.
fn script_from_sim(mut args: RunArgs) -> Result<RunArgs, String> {
    let given = args.site.sim.clone().flatten();
    let procedure = |n: &str| {
        if scripts::is_path_arg(n) {
            Path::new(n).is_file()
        } else {
            scripts::find(n, &scripts::search_path()).is_some()
        }
    };
    match given {
        Some(name) if procedure(&name) => {
            let is_scenario = sim_names().contains(&name);
            if is_scenario && !args.script.is_empty() {
                return Ok(args);
            }
            if is_scenario {
                return Err(format!(
                    "--sim {} names both a scenario and a procedure: for the procedure write `hascript run {} --sim`, for the scenario `hascript run SCRIPT --sim {}`",
                    quoted(&name),
                    name,
                    name
                ));
            }
            if !args.script.is_empty() {
                return Err(format!(
                    "--sim {} names a procedure, not a scenario: run one script at a time (`hascript run {} --sim`), or give --sim a scenario (see `hascript list`)",
                    quoted(&name),
                    name
                ));
            }
            args.script = name;
            args.site.sim = Some(None);
            Ok(args)
        }
        _ if args.script.is_empty() => Err(
            "no script given: hascript run SCRIPT (--sim [SCENARIO] | -i INVENTORY) [-p KEY=VALUE]... (see `hascript list`)".into(),
        ),
        _ => Ok(args),
    }
}

fn cmd_run(args: RunArgs) -> i32 {
    match script_from_sim(args) {
        Ok(args) => cmd_run_with(args, None, None),
        Err(e) => usage(e),
    }
}

/// `hascript run` from inside another command (the REPL's `:run`): the same checks,
/// journal, host locks, `--dry-run`, confirmations and exit code, with the signal handling
/// left to the caller, which stops the run by cancelling `cancel` (no handler is
/// installed; the REPL's watcher, [`crate::signals::watch_repl`], stops the process at once
/// on a second SIGTERM/SIGHUP, reporting this run's pending routines). Returns the exit code; the
/// run prints its own output and error report.
pub fn run_embedded(args: RunArgs, cancel: CancelToken) -> i32 {
    cmd_run_with(args, None, Some(cancel))
}

/// `run`, or the run `resume`/`unwind` start (`cont`). `cancel`: the caller watches
/// Ctrl-C, SIGTERM and SIGHUP and cancels it ([`run_embedded`]); `None`: this run
/// installs its own handler.
fn cmd_run_with(
    args: RunArgs,
    cont: Option<crate::resume::Continuation>,
    cancel: Option<CancelToken>,
) -> i32 {
    let params = match parse_params(&args.params) {
        Ok(p) => p,
        Err(e) => return usage(e),
    };
    // Check the site options before anything else: a forgotten -i must never look like a run.
    if let Err(e) = site_spec(&args.site, "ldoms", true) {
        return usage(e);
    }
    let script = match crate::resume::script_for(&args.script, cont.as_ref()) {
        Ok(s) => s,
        Err(e) => return usage(e),
    };
    // A secret given with -p is refused first, saying why (not as an unknown parameter).
    let secret_decls = scripts::meta(&script.text).secrets;
    if let Err(e) = secrets::refuse_params(&secret_decls, &params) {
        return usage(e);
    }
    if let Err(e) = check_declared(&params, &script) {
        return usage(e);
    }
    // A resumed run gave its parameters when it started (secret ones come again with -p).
    if cont.is_none() {
        if let Err(e) = check_required(&params, &script) {
            return usage(e);
        }
    }
    let spec = match site_spec(&args.site, script_driver(&script), true) {
        Ok(s) => s,
        Err(e) => return usage(e),
    };
    // Secret values before anything is sent: a missing one is a usage error.
    let run_secrets = match secrets::resolve(
        &secret_decls,
        &params,
        &|k: &str| std::env::var(k).ok(),
        &secrets::ask_on_terminal,
        &script.source_name,
    ) {
        Ok(s) => s,
        Err(e) => return usage(e),
    };
    // The journal before anything is sent: a run that cannot be recorded does not start.
    let json = args.output == OutputFormat::Json;
    // A dry run answers every question as --yes would (and lists it in the plan).
    let dry = args.dry_run;
    let plan = dry.then(|| Arc::new(crate::dryrun::Plan::new()));
    let json_ui = Arc::new(JsonUi::new(args.yes || dry));
    let verbosity =
        crate::output::Verbosity::from_flags(args.verbosity.verbose, args.verbosity.quiet);
    let console = Arc::new(ConsoleUi::new(args.yes || dry).with_verbosity(verbosity));
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
    let rec = match journal::runs_dir().and_then(|d| journal::Recorder::create(&d, &run_id, sinks))
    {
        Ok(r) => Arc::new(r),
        Err(e) => return usage(e),
    };
    if dry {
        rec.set_dry_run();
    }
    rec.redactor().add_all(&run_secrets.hidden());
    for (k, v) in &params {
        if journal::secret_param_name(k) {
            rec.redactor().add(v);
        }
    }
    let (cancel, watch_ctrl_c) = match cancel {
        Some(c) => (c, false),
        None => (CancelToken::new(), true),
    };
    let interrupt = Interrupt::new(cancel.clone());
    if watch_ctrl_c {
        // Ctrl-C, SIGTERM and SIGHUP alike: the first runs the recovery, a second stops
        // at once (crate::signals).
        crate::signals::watch_run(interrupt.clone());
    }
    let shown: Arc<dyn Ui> = if json { json_ui } else { console.clone() };
    // What the operator is shown hides every secret the journal hides (the script's, the
    // inventory's, each command's own), not only the script's.
    let ui: Arc<dyn Ui> =
        Arc::new(secrets::RedactingUi::new(shown, &run_secrets).with_journal(rec.clone()));
    let opts = site::SiteOptions {
        accept_new_host_keys: args.site.accept_new_host_keys,
        sim_clock: args.site.sim_clock.clone(),
        dry_run: plan.clone(),
    };
    // Every command goes through the journal (and takes the host's lock before its first
    // change); everything the operator is shown is journaled too.
    let me = lock::Owner {
        run: run_id.clone(),
        user: journal::current_user(),
        origin: journal::origin_host(),
        since: journal::now_rfc3339(),
        pid: std::process::id(),
    };
    // `--takeover RUN`: RUN must be dead (checked in its journal) before anything is sent.
    let takeover = match (&args.takeover, &cont) {
        (Some(_), Some(_)) => {
            return usage("--takeover is for `hascript run`: resume and unwind take over their run's locks already")
        }
        (Some(_), None) if dry => return usage("--takeover changes locks: not with --dry-run"),
        (Some(t), None) => match journal::runs_dir().and_then(|d| lock::takeover_of(&d, t)) {
            Ok(t) => Some(t),
            Err(e) => return usage(e),
        },
        (None, _) => None,
    };
    let lock_opts = lock::LockOptions {
        break_lock: args.break_lock,
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
            Some(l)
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
            return usage(e);
        }
    };
    // The inventory's secrets (SSH passwords, passphrases, sudo passwords) are hidden from
    // here on, before the first command is sent.
    rec.redactor().add_all(&built.secrets);
    if let Some(l) = &locks {
        l.set_lock_dirs(built.lock_dirs.clone());
        l.set_site_hosts(built.hosts.clone());
    }
    let site_record = match (&spec, &built.sim) {
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
                .or_else(|| args.site.sim_state.clone())
                .map(|d| d.display().to_string()),
        },
        (_, None) => journal::SiteRecord::Sim {
            scenario: "?".into(),
            state: None,
        },
    };
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
        site: site_record,
        description: built.description.clone(),
        dry_run: dry,
        resumed_from: cont.as_ref().filter(|c| !c.unwind).map(|c| c.from.clone()),
        unwinds: cont.as_ref().filter(|c| c.unwind).map(|c| c.from.clone()),
    });
    if let Err(e) = rec.write(&header, true) {
        return usage(e);
    }
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
    let _pending = crate::signals::Pending::set(built.ctx.recoveries.clone(), rec.clone());
    if let (Some(t), Some(l)) = (&takeover, &locks) {
        if let Err(e) = l.ensure_all(&t.hosts, false) {
            let msg = format!(
                "error: cannot take over the locks of run {}: {}",
                t.run, e.message
            );
            rec.error("check", &msg);
            console.error(&msg);
            for (host, why) in l.release_all() {
                built.ctx.ui.warn(&format!(
                    "the hascript lock on {host} was not released: {why}; remove {} on {host} by hand once no run is using it",
                    l.paths(&host).0
                ));
            }
            rec.result(3, Some("check"));
            return 3;
        }
    }
    if let Some(c) = &cont {
        if let Err(e) = continue_from(c, &built, locks.as_deref(), &rec, &console) {
            rec.result(e, None);
            return e;
        }
    }
    let mut env = RunEnv::new(built.site.clone(), built.ctx.clone(), params);
    env.journal = Some(rec.clone());
    env.replay = cont.as_ref().and_then(|c| c.replay.clone());
    let unwind_of = cont
        .as_ref()
        .filter(|c| c.unwind)
        .map(|c| (c.from.clone(), c.left.clone()));
    env.interrupt = interrupt;
    env.secrets = run_secrets.values().clone();
    // A shipped procedure's error shows the manual's step and remedy, not its source; `-v`
    // (or HASCRIPT_VERBOSE=1, for the REPL's `:run` and wrappers) shows the source too.
    let verbose = verbosity == crate::output::Verbosity::Verbose
        || std::env::var_os("HASCRIPT_VERBOSE").is_some_and(|v| !v.is_empty() && v != "0");
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
            let out = match &unwind_of {
                Some((from, left)) => crate::resume::unwind(&env, from, left),
                None => engine::execute(&engine, &env, &script.source_name, &script.text),
            };
            (out, env.ctx.changed())
        });
    let joined = match worker {
        Ok(h) => h.join(),
        Err(e) => {
            rec.result(EXIT_USAGE, Some("internal"));
            return usage(format!("cannot start the script thread: {e}"));
        }
    };
    // Locks are released whatever the outcome (a run that dies leaves them: stale).
    if let Some(l) = &locks {
        for (host, why) in l.release_all() {
            built.ctx.ui.warn(&format!(
                "the hascript lock on {host} was not released: {why}. It is stale once this run has ended: `hascript unwind {run_id}`, or the next step with `hascript run … --takeover {run_id}`, takes it over and releases it; or remove {} on {host} by hand once no run is using it",
                l.paths(&host).0
            ));
        }
    }
    let (exit, kind) = match joined {
        Ok((out, _)) => {
            if let Some(r) = &out.report {
                let r = rec.redact(&run_secrets.redact(r));
                let kind = out.kind.as_deref().unwrap_or("script");
                match &out.fields {
                    Some(f) => {
                        let hide = |t: &str| rec.redact(&run_secrets.redact(t));
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
            let changed = built.ctx.changed();
            let msg =
                "error: internal error (a bug in hascript or a driver) while running the script";
            rec.error("internal", msg);
            console.error(msg);
            (if changed { 4 } else { 3 }, Some("internal".to_string()))
        }
    };
    // Refused by another run's lock before anything changed: a failed precondition (exit
    // 3), whatever a driver's recovery made of the refusal.
    let refused = locks.as_ref().map(|l| l.refused()).unwrap_or_default();
    let declined = locks.as_ref().is_some_and(|l| l.declined());
    let (exit, kind) = if exit != 0 && declined && rec.changes() == 0 {
        let msg = "declined: a lock was not broken; nothing was changed (exit 5)";
        rec.error("declined", msg);
        console.error(msg);
        (5, Some("declined".to_string()))
    } else if exit != 0 && !refused.is_empty() && rec.changes() == 0 {
        let hosts: Vec<String> = refused.iter().map(|(h, w)| format!("{h} ({w})")).collect();
        let msg = format!(
            "refused: locked by another hascript run on {}; nothing was changed (exit 3)",
            hosts.join(", ")
        );
        rec.error("check", &msg);
        console.error(&msg);
        (3, Some("check".to_string()))
    } else {
        (exit, kind)
    };
    let (exit, kind) = match &plan {
        Some(p) => finish_dry_run(p, &rec, &console, json, exit, kind),
        None => (exit, kind),
    };
    rec.result(exit, kind.as_deref());
    exit
}

/// The end of a dry run: the plan (printed for people, a `plan` line in the journal and the
/// JSON stream) and its exit code ([`crate::dryrun::verdict`]).
fn finish_dry_run(
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
        if v.exit == 0 {
            let _ = writeln!(std::io::stdout().lock(), "{}", rec.redact(&v.summary));
        } else {
            console.error(&rec.redact(&v.summary));
        }
    }
    let kind = match v.exit {
        0 => None,
        crate::dryrun::EXIT_INCOMPLETE if !v.complete => Some("unknown".to_string()),
        _ => kind,
    };
    (v.exit, kind)
}

/// Before a resumed or unwinding run starts: take over the dead run's host locks and
/// inherit its pending recovery routines. Returns the exit code on failure.
fn continue_from(
    c: &crate::resume::Continuation,
    built: &site::BuiltSite,
    locks: Option<&lock::Locks>,
    rec: &journal::Recorder,
    console: &ConsoleUi,
) -> Result<(), i32> {
    if let Some(l) = locks {
        // All at once (one host's lock never waits for another's network).
        if let Err(e) = l.ensure_all(&c.locked, false) {
            let on = e
                .host
                .as_deref()
                .map(|h| format!(" on {h}"))
                .unwrap_or_default();
            let msg = format!(
                "error: cannot take over the lock of run {}{on}: {}",
                c.from, e.message
            );
            rec.error("check", &msg);
            console.error(&msg);
            return Err(3);
        }
    }
    built.ctx.recoveries.set_prior_changes(c.prior.clone());
    match built.ctx.recoveries.inherit(&c.inherited()) {
        Ok(v) if !v.is_empty() => {
            built.ctx.ui.info(&format!(
                "run {} left {} recovery routine(s) pending:\n{}",
                c.from,
                v.len(),
                crate::recovery::pending_lines(&v).join("\n")
            ));
            Ok(())
        }
        Ok(_) => Ok(()),
        Err(e) => {
            let msg = format!("error: {}", e.message);
            rec.error("check", &msg);
            console.error(&msg);
            Err(3)
        }
    }
}

/// `hascript resume` and `hascript unwind`.
fn cmd_continue(
    run: &str,
    unwind: bool,
    retry_unknown: bool,
    extra: &[String],
    yes: bool,
    (output, verbosity): (OutputFormat, VerbosityArgs),
) -> i32 {
    let verb = if unwind { "unwind" } else { "resume" };
    let dead = match journal::runs_dir().and_then(|d| crate::resume::DeadRun::load(&d, run, verb)) {
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
    let spec = match dead.site_spec() {
        Ok(s) => s,
        Err(e) => return usage(e),
    };
    // The recorded parameters; those the journal hides must be given again.
    let given = match parse_params(extra) {
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
            match ConsoleUi::new(yes).confirm(&q) {
                Ok(true) => {}
                Ok(false) => {
                    eprintln!("declined: nothing was sent (exit 5)");
                    return 5;
                }
                Err(e) => {
                    eprintln!("error: {}; or add --retry-unknown", e.message);
                    return 5;
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
    let args = RunArgs {
        script,
        site: SiteArgs {
            sim,
            inventory,
            sim_state,
            ..SiteArgs::default()
        },
        params,
        yes,
        output,
        break_lock: false,
        takeover: None,
        dry_run: false,
        verbosity,
    };
    cmd_run_with(
        args,
        Some(crate::resume::Continuation::of(&dead, unwind)),
        None,
    )
}

fn cmd_journal(cmd: JournalCmd) -> i32 {
    let dir = match journal::runs_dir() {
        Ok(d) => d,
        Err(e) => return usage(e),
    };
    match cmd {
        JournalCmd::List => {
            let runs = match journal::list(&dir) {
                Ok(r) => r,
                Err(e) => return usage(e),
            };
            if runs.is_empty() {
                eprintln!("no runs recorded in {}", dir.display());
                return 0;
            }
            let w =
                |f: &dyn Fn(&journal::RunSummary) -> usize| runs.iter().map(f).max().unwrap_or(0);
            let (wu, ws) = (w(&|r| r.user.len()), w(&|r| r.script.len()));
            for r in &runs {
                let exit = r.exit.map(|e| e.to_string()).unwrap_or_else(|| "-".into());
                println!(
                    "{}  {}  {:wu$}  {:ws$}  {} {exit}",
                    r.id, r.started, r.user, r.script, r.result
                );
            }
            0
        }
        JournalCmd::Show { run, output } => {
            let found = match run.as_deref() {
                None | Some("last") => journal::list(&dir).and_then(|runs| {
                    let last = runs
                        .last()
                        .ok_or_else(|| format!("no runs recorded in {}", dir.display()))?;
                    journal::find(&dir, &last.id)
                }),
                Some(r) => journal::find(&dir, r),
            };
            let (_, path) = match found {
                Ok(x) => x,
                Err(e) => return usage(e),
            };
            let lines = match journal::read_lines(&path) {
                Ok(l) => l,
                Err(e) => return usage(e),
            };
            let mut so = std::io::stdout().lock();
            match output {
                OutputFormat::Json => {
                    for l in &lines {
                        let _ = writeln!(so, "{l}");
                    }
                }
                OutputFormat::Human => {
                    for l in &lines {
                        for t in journal::timeline_line(l) {
                            let _ = writeln!(so, "{t}");
                        }
                    }
                    if !lines.iter().any(|l| l["event"] == "result") {
                        let _ = writeln!(
                            so,
                            "(no result line: the run is unfinished — it died, or it is still running)"
                        );
                    }
                }
            }
            0
        }
    }
}

fn cmd_list() -> i32 {
    // Shipped procedures and those on HASCRIPT_PATH (which override shipped ones by name);
    // where one comes from a folder, the title says so.
    let search = scripts::search_path();
    let shipped: Vec<(String, scripts::ScriptMeta)> = scripts::all_names(&search)
        .into_iter()
        .filter(|n| !n.starts_with("lib/"))
        .filter_map(|n| {
            let script = scripts::find(&n, &search)?;
            let mut meta = scripts::meta(&script.text);
            if let Some(p) = &script.path {
                let title = meta.title.take().unwrap_or_default();
                meta.title = Some(
                    format!("{title} [{}]", p.display())
                        .trim_start()
                        .to_string(),
                );
            }
            Some((n, meta))
        })
        .collect();
    let scen = backend::scenarios();
    let w = shipped
        .iter()
        .map(|(n, _)| n.len())
        .chain(scen.iter().map(|s| s.name.len()))
        .max()
        .unwrap_or(0);
    let sw = shipped
        .iter()
        .map(|(_, m)| {
            m.section
                .as_deref()
                .unwrap_or("-")
                .split_whitespace()
                .next()
                .unwrap_or("-")
                .len()
        })
        .chain(scen.iter().map(|s| s.section.len().max(1)))
        .max()
        .unwrap_or(1);
    // A closed pipe (`hascript list | head`) ends the listing quietly, never a panic.
    let mut so = std::io::stdout().lock();
    let _ = writeln!(so, "Procedures (hascript run NAME --sim | -i INVENTORY):");
    for (name, m) in &shipped {
        let name = name.as_str();
        let section = m.section.as_deref().unwrap_or("-");
        let (num, rest) = section.split_once(' ').unwrap_or((section, ""));
        let title = m.title.as_deref().unwrap_or(rest);
        let _ = writeln!(so, "  {name:w$}  {num:sw$}  {title}");
        // The parameters, so a run can be written from the list alone.
        let _ = writeln!(so, "  {:w$}  {:sw$}  ({})", "", "", params_summary(m));
    }
    let _ = writeln!(so, "Scenarios (--sim NAME):");
    for s in &scen {
        let section = if s.section.is_empty() {
            "-"
        } else {
            s.section.as_str()
        };
        let _ = writeln!(so, "  {:w$}  {section:sw$}  {}", s.name, s.summary);
    }
    0
}

fn cmd_show(name: &str) -> i32 {
    // Found as `run` finds it: a name is the override or the shipped procedure, a path is
    // a file.
    match scripts::resolve(name) {
        Ok(s) => {
            if let Some(w) = &s.shadowed {
                eprintln!("warning: {w}");
            }
            print!("{}", s.text);
            0
        }
        Err(e) => usage(e),
    }
}

fn cmd_check(names: &[String]) -> i32 {
    let ui: Arc<dyn Ui> = Arc::new(ConsoleUi::new(false));
    let env = RunEnv::offline(ui);
    let mut engine = engine::build_engine(&env);
    engine.set_strict_variables(true);
    let known = engine::lint::known_functions(&engine);
    let scope = env.scope();
    let mut problems = 0;
    for name in names {
        let script = match scripts::resolve(name) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{}: {e}", quoted(name));
                problems += 1;
                continue;
            }
        };
        if let Some(w) = &script.shadowed {
            eprintln!("warning: {w}");
        }
        // The functions of the modules it imports are known by their alias (`m::f()`).
        let mut known = known.clone();
        let finder = engine::resolver::Resolver::new(env.search_path.clone(), env.sources.clone());
        for (path, alias, _) in engine::lint::import_aliases(&engine, &script.text) {
            let module = finder.find_text(Some(&script.source_name), &path);
            let fns = module.and_then(|(_, text)| engine::lint::module_functions(&engine, &text));
            if let (Some(alias), Some(fns)) = (alias, fns) {
                known.add_module(&alias, fns);
            }
        }
        for p in engine::lint::check(&engine, &scope, &known, &script.text) {
            println!("{}:{}:{}: {}", script.source_name, p.line, p.col, p.message);
            problems += 1;
        }
        // Imports are resolved at run time; look for their modules now (without running them).
        let resolver =
            engine::resolver::Resolver::new(env.search_path.clone(), env.sources.clone());
        for (path, pos) in engine::lint::imports(&engine, &script.text) {
            if let Err(m) = resolver.find(Some(&script.source_name), &path) {
                println!(
                    "{}:{}:{}: {m}",
                    script.source_name,
                    pos.line().unwrap_or(0),
                    pos.position().unwrap_or(0)
                );
                problems += 1;
            }
        }
        // An import cycle would overflow the stack at run time: name it now.
        if let Some((file, pos, m)) =
            resolver.find_cycle(&engine, &script.source_name, &script.text)
        {
            println!(
                "{file}:{}:{}: {m}",
                pos.line().unwrap_or(0),
                pos.position().unwrap_or(0)
            );
            problems += 1;
        }
    }
    if problems == 0 {
        0
    } else {
        EXIT_USAGE
    }
}

fn cmd_parse(kind: &str, file: Option<&Path>) -> i32 {
    if !backend::parse::KINDS.iter().any(|(k, _)| *k == kind) {
        let kinds: Vec<String> = backend::parse::KINDS
            .iter()
            .map(|(k, d)| format!("  {k:24} {d}"))
            .collect();
        let names: Vec<String> = backend::parse::KINDS
            .iter()
            .map(|(k, _)| k.to_string())
            .collect();
        return usage(format!(
            "unknown kind {}{}; the kinds are:\n{}",
            quoted(kind),
            scripts::did_you_mean(kind, &names),
            kinds.join("\n")
        ));
    }
    let (name, text) = match file {
        Some(f) => match crate::files::read_regular(f, crate::files::MAX_TEXT_FILE) {
            Ok(b) => (
                f.display().to_string(),
                String::from_utf8_lossy(&b).into_owned(),
            ),
            Err(e) => return usage(e.to_string()),
        },
        None => {
            let mut b = Vec::new();
            let cap = crate::files::MAX_TEXT_FILE;
            if let Err(e) = std::io::stdin().take(cap + 1).read_to_end(&mut b) {
                return usage(format!("cannot read standard input: {e}"));
            }
            if b.len() as u64 > cap {
                return usage(format!(
                    "standard input is larger than {} MiB (the most `parse` reads): is it the right output?",
                    cap / (1024 * 1024)
                ));
            }
            (
                "<stdin>".to_string(),
                String::from_utf8_lossy(&b).into_owned(),
            )
        }
    };
    match backend::parse::parse_kind_json(kind, &text, true) {
        Ok(s) => {
            println!("{s}");
            0
        }
        Err(e) => {
            // Text that is not the command's output is bad input: nothing was changed.
            eprintln!("error: {name}: {}", clip_quoted(&e.to_string()));
            EXIT_USAGE
        }
    }
}

fn cmd_sim(cmd: SimCmd) -> i32 {
    match cmd {
        SimCmd::Init { state, scenario } => {
            if SimSite::open(&state).is_ok() {
                return usage(format!(
                    "{} already holds a simulated site; choose an empty folder (or remove it first)",
                    state.display()
                ));
            }
            match site::open_sim(scenario.as_deref(), "ldoms", Some(&state)) {
                Ok(sim) => {
                    println!(
                        "created simulated site {} in {}",
                        sim.scenario(),
                        state.display()
                    );
                    0
                }
                Err(e) => usage(e),
            }
        }
        SimCmd::Exec {
            state,
            host,
            command,
        } => {
            let line = if command.is_empty() {
                match std::env::var("SSH_ORIGINAL_COMMAND") {
                    Ok(l) => l,
                    Err(_) => {
                        return usage("no command: give it after `--`, or set SSH_ORIGINAL_COMMAND")
                    }
                }
            } else {
                command.join(" ")
            };
            let sim = match SimSite::open(&state) {
                Ok(s) => s,
                Err(e) => return usage(e),
            };
            // The client's bytes (a file written through `dd`, an answer) arrive on our
            // standard input; it is read only if a command of the line reads it.
            let out = sim.exec_line_with_lazy_stdin(&host, &line, || {
                let mut b = Vec::new();
                let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut b);
                b
            });
            let mut so = std::io::stdout();
            let _ = so.write_all(out.stdout_bytes());
            let _ = so.flush();
            let mut se = std::io::stderr();
            let _ = se.write_all(out.stderr_bytes());
            let _ = se.flush();
            match out.status {
                hascript_api::ExitStatus::Code(c) => c,
                hascript_api::ExitStatus::Signal(_) => 255,
            }
        }
    }
}

fn cmd_inventory(cmd: InventoryCmd) -> i32 {
    let InventoryCmd::Check { file } = cmd;
    let name = file.display().to_string();
    let text = match crate::files::read_regular_text(&file, crate::files::MAX_TEXT_FILE) {
        Ok(t) => t,
        Err(e) => return usage(format!("{name}: cannot read the inventory: {e}")),
    };
    match crate::inventory::check_all(&name, &text) {
        Ok(inv) => {
            let mut transports: BTreeMap<String, usize> = BTreeMap::new();
            for h in &inv.hosts {
                *transports
                    .entry(format!("{:?}", h.transport).to_lowercase())
                    .or_default() += 1;
            }
            let by = transports
                .iter()
                .map(|(t, n)| format!("{n} {t}"))
                .collect::<Vec<_>>()
                .join(", ");
            let roles = match &inv.topology {
                crate::inventory::SiteTopology::Ldoms(t) => format!(
                    "{} control domains, {} guest domains",
                    t.control_domains.len(),
                    t.guests.len()
                ),
                crate::inventory::SiteTopology::Hpvm(h) => {
                    format!("{} VM hosts, {} guests", h.vm_hosts.len(), h.guests.len())
                }
            };
            println!(
                "{name}: ok — driver {}: {}; {} hosts ({by}): {}",
                inv.driver,
                inv.topology.description(),
                inv.hosts.len(),
                roles
            );
            0
        }
        Err(errors) => {
            for e in &errors {
                eprintln!("error: {e}");
            }
            eprintln!(
                "{name}: {} error{}",
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            );
            EXIT_USAGE
        }
    }
}

fn cmd_completions(shell: CompletionShell) -> i32 {
    use clap::CommandFactory;
    use clap_complete::Shell;
    let shell = match shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
    };
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "hascript", &mut out);
    let mut so = std::io::stdout();
    let _ = so.write_all(&out);
    let _ = so.flush();
    0
}

fn cmd_man(dir: Option<&Path>) -> i32 {
    use clap::CommandFactory;
    let cmd = Cli::command();
    match dir {
        None => {
            let mut out = Vec::new();
            if let Err(e) = clap_mangen::Man::new(cmd).render(&mut out) {
                eprintln!("error: cannot render the man page: {e}");
                return 1;
            }
            let mut so = std::io::stdout();
            let _ = so.write_all(&out);
            let _ = so.flush();
            0
        }
        Some(d) => {
            if let Err(e) = std::fs::create_dir_all(d) {
                return usage(format!("cannot create {}: {e}", d.display()));
            }
            match clap_mangen::generate_to(cmd, d) {
                Ok(()) => {
                    println!("man pages written to {}", d.display());
                    0
                }
                Err(e) => usage(format!("cannot write man pages to {}: {e}", d.display())),
            }
        }
    }
}

fn cmd_docs(output: Option<&Path>) -> i32 {
    let text = match crate::docs::markdown(&crate::docs::Api::offline()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    match output {
        None => {
            let mut so = std::io::stdout();
            let _ = so.write_all(text.as_bytes());
            let _ = so.flush();
            0
        }
        Some(f) => match std::fs::write(f, text) {
            Ok(()) => 0,
            Err(e) => usage(format!("cannot write {}: {e}", f.display())),
        },
    }
}

/// Run the command line; returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    match cli.command {
        Cmd::Run(a) => cmd_run(a),
        Cmd::List => cmd_list(),
        Cmd::Show { name } => cmd_show(&name),
        Cmd::Check { scripts } => cmd_check(&scripts),
        Cmd::Parse { kind, file } => cmd_parse(&kind, file.as_deref()),
        Cmd::Repl(site) => crate::repl::main(&site),
        Cmd::Docs { output } => cmd_docs(output.as_deref()),
        Cmd::Sim { command } => cmd_sim(command),
        Cmd::Inventory { command } => cmd_inventory(command),
        Cmd::Completions { shell } => cmd_completions(shell),
        Cmd::Man { dir } => cmd_man(dir.as_deref()),
        Cmd::Journal { command } => cmd_journal(command),
        Cmd::Resume(a) => cmd_continue(
            &a.run,
            false,
            a.retry_unknown,
            &a.params,
            a.yes,
            (a.output, a.verbosity),
        ),
        Cmd::Unwind(a) => cmd_continue(&a.run, true, false, &[], a.yes, (a.output, a.verbosity)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_need_an_equals_sign() {
        let ok = parse_params(&["guest=cfguest2".into(), "note=a=b".into()]);
        assert_eq!(ok.as_ref().map(|m| m["note"].as_str()), Ok("a=b"));
        assert!(parse_params(&["guest".into()]).is_err());
        assert!(parse_params(&["=x".into()]).is_err());
    }

    #[test]
    fn params_keys_follow_the_rule_and_come_once() {
        for bad in ["1x=a", "a-b=c", " guest=x", "gu est=x", "guest;id=x"] {
            let e = parse_params(&[bad.into()]).err().unwrap_or_default();
            assert!(e.contains("[A-Za-z_][A-Za-z0-9_]*"), "{bad}: {e}");
        }
        let e = parse_params(&["guest=a".into(), "target=b".into(), "guest=c".into()])
            .err()
            .unwrap_or_default();
        assert!(
            e.contains("\"guest\"") && e.contains("more than once"),
            "{e}"
        );
        for long in [format!("{}-=x", "k".repeat(100_000)), "k".repeat(100_000)] {
            let e = parse_params(&[long]).err().unwrap_or_default();
            assert!(e.len() < 400 && e.contains('…'), "{} bytes", e.len());
        }
        let k = "k".repeat(100_000);
        let e = parse_params(&[format!("{k}=1"), format!("{k}=2")])
            .err()
            .unwrap_or_default();
        assert!(e.len() < 400 && e.contains('…'), "{} bytes", e.len());
    }

    #[test]
    fn declared_params_are_enforced() {
        let script = |text: &str| Script {
            source_name: "t".into(),
            text: text.into(),
            path: None,
            origin: scripts::Origin::Shipped,
            shadowed: None,
        };
        let params = |kv: &[&str]| {
            parse_params(&kv.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap_or_default()
        };
        let declared = script("//! params: guest (optional: a, b)\nprint(1);");
        assert!(check_declared(&params(&["guest=g"]), &declared).is_ok());
        assert!(check_declared(&params(&[]), &declared).is_ok());
        let e = check_declared(&params(&["guest=g", "target=x"]), &declared)
            .err()
            .unwrap_or_default();
        assert!(
            e.contains("unknown parameter \"target\"") && e.contains("it takes: guest"),
            "{e}"
        );
        let none = script("//! params: (none)\nprint(1);");
        let e = check_declared(&params(&["a=1", "b=2"]), &none)
            .err()
            .unwrap_or_default();
        assert!(
            e.contains("\"a\", \"b\"") && e.contains("no parameters"),
            "{e}"
        );
        let free = script("print(1);");
        assert!(check_declared(&params(&["anything=1"]), &free).is_ok());
    }

    #[test]
    fn no_procedure_shares_a_name_with_a_scenario() {
        // `run --sim NAME` takes NAME as the script when it is a procedure: that is
        // unambiguous only while no shipped procedure is also a scenario or a driver.
        let sims = sim_names();
        assert!(
            sims.iter().any(|n| n == "ldoms") && sims.len() > 2,
            "{sims:?}"
        );
        for (name, _) in scripts::shipped() {
            assert!(!sims.iter().any(|s| s == name), "{name} is also a scenario");
        }
    }

    #[test]
    fn site_options_are_checked() {
        let none = SiteArgs::default();
        let e = site_spec(&none, "ldoms", true).err().unwrap_or_default();
        assert!(e.contains("--sim") && e.contains("-i"), "{e}");
        assert!(matches!(
            site_spec(&none, "ldoms", false),
            Ok(SiteSpec::Sim { .. })
        ));
        let both = SiteArgs {
            sim: Some(None),
            inventory: Some("x".into()),
            sim_state: None,
            ..SiteArgs::default()
        };
        assert!(site_spec(&both, "ldoms", true).is_err());
        let state_only = SiteArgs {
            sim_state: Some("d".into()),
            ..SiteArgs::default()
        };
        assert!(site_spec(&state_only, "ldoms", true).is_err());
    }
}
