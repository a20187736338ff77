//! The command line: `run`, `list`, `show`, `check`, `parse`, `repl`, `docs`, `sim`, …
//! Thin: `run`, `resume` and `unwind` turn their options into a [`run::Request`] or a
//! [`run::Continue`] and hand them to the run layer ([`crate::run`]), which does the run and
//! picks its exit code.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use hascript_api::Ui;

use crate::backend::{self, SimSite};
use crate::engine::{self, RunEnv};
use crate::inventory::{clip_quoted, quoted};
use crate::journal;
use crate::output::{ConsoleUi, Verbosity};
use crate::run::{self, usage};
use crate::scripts;
use crate::site::{self, SiteChoice};

/// Exit code of usage errors (the run layer's, [`run::EXIT_USAGE`]).
pub use crate::run::EXIT_USAGE;

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

impl SiteArgs {
    /// The site the options ask for, as the run layer and the REPL take it.
    pub fn choice(&self) -> SiteChoice {
        SiteChoice {
            sim: self.sim.clone(),
            inventory: self.inventory.clone(),
            sim_state: self.sim_state.clone(),
            accept_new_host_keys: self.accept_new_host_keys,
            sim_clock: self.sim_clock.clone(),
        }
    }
}

impl VerbosityArgs {
    /// `-v` / `-q` as the run layer takes them.
    pub fn level(&self) -> Verbosity {
        Verbosity::from_flags(self.verbose, self.quiet)
    }
}

impl RunArgs {
    /// The run these options ask for.
    pub fn request(self) -> run::Request {
        run::Request {
            script: self.script,
            site: self.site.choice(),
            params: self.params,
            yes: self.yes,
            json: self.output == OutputFormat::Json,
            break_lock: self.break_lock,
            takeover: self.takeover,
            dry_run: self.dry_run,
            verbosity: self.verbosity.level(),
        }
    }
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
    match given {
        Some(name) if scripts::is_script(&name) => {
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
        Ok(args) => run::run(args.request(), None),
        Err(e) => usage(e),
    }
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
            let mut so = std::io::stdout().lock();
            match output {
                OutputFormat::Json => {
                    // As written (an older journal's lines keep their older shape).
                    let lines = match journal::read_lines(&path) {
                        Ok(l) => l,
                        Err(e) => return usage(e),
                    };
                    for l in &lines {
                        let _ = writeln!(so, "{l}");
                    }
                }
                OutputFormat::Human => {
                    let lines = match journal::read_events(&path) {
                        Ok(l) => l,
                        Err(e) => return usage(e),
                    };
                    for l in &lines {
                        for t in journal::timeline_line(l) {
                            let _ = writeln!(so, "{t}");
                        }
                    }
                    if !lines
                        .iter()
                        .any(|l| matches!(l.event, journal::Event::Result { .. }))
                    {
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
        let _ = writeln!(
            so,
            "  {:w$}  {:sw$}  ({})",
            "",
            "",
            scripts::params_summary(m)
        );
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
            // A reader that stops early (`| head`) is not an error of `show`.
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            match write!(out, "{}{}", s.text, imported_modules_text(&s)).and_then(|_| out.flush()) {
                Ok(()) => 0,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
                Err(e) => {
                    eprintln!("error: cannot write the script to standard output: {e}");
                    1
                }
            }
        }
        Err(e) => usage(e),
    }
}

/// The modules `script` imports (recursively, each once, as a run would resolve them: a
/// site's override shows), for `show` to append after the script: each under a header
/// naming it and where it comes from, inside a block comment, so that the output saved to
/// a file is still the script alone to Rhai (a copy made with `show > FILE` runs as the
/// original does).
fn imported_modules_text(script: &scripts::Script) -> String {
    let ui: Arc<dyn Ui> = Arc::new(ConsoleUi::new(false));
    let env = RunEnv::offline(ui);
    let engine = engine::build_engine(&env);
    let finder = engine::resolver::Resolver::new(env.search_path.clone(), env.sources.clone());
    let mut out = String::new();
    for m in finder.imported_modules(&engine, &script.source_name, &script.text) {
        if out.is_empty() && !script.text.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&format!(
            "\n// ---- module {} ({}) ----\n",
            m.import, m.origin
        ));
        // Rhai's block comments nest; a module whose text has `/*` or `*/` outside
        // balanced comments (in a string) is shown line by line behind `// ` instead.
        if m.text.contains("/*") || m.text.contains("*/") {
            for l in m.text.lines() {
                out.push_str("// ");
                out.push_str(l);
                out.push('\n');
            }
        } else {
            out.push_str("/*\n");
            out.push_str(&m.text);
            if !m.text.ends_with('\n') {
                out.push('\n');
            }
            out.push_str("*/\n");
        }
        out.push_str(&format!("// ---- end of module {} ----\n", m.import));
    }
    out
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
        Cmd::Repl(site) => crate::repl::main(&site.choice()),
        Cmd::Docs { output } => cmd_docs(output.as_deref()),
        Cmd::Sim { command } => cmd_sim(command),
        Cmd::Inventory { command } => cmd_inventory(command),
        Cmd::Completions { shell } => cmd_completions(shell),
        Cmd::Man { dir } => cmd_man(dir.as_deref()),
        Cmd::Journal { command } => cmd_journal(command),
        Cmd::Resume(a) => run::continue_run(run::Continue {
            run: a.run,
            unwind: false,
            retry_unknown: a.retry_unknown,
            params: a.params,
            yes: a.yes,
            json: a.output == OutputFormat::Json,
            verbosity: a.verbosity.level(),
        }),
        Cmd::Unwind(a) => run::continue_run(run::Continue {
            run: a.run,
            unwind: true,
            yes: a.yes,
            json: a.output == OutputFormat::Json,
            verbosity: a.verbosity.level(),
            ..run::Continue::default()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
