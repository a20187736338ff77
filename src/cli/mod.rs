//! The command line: `run`, `list`, `show`, `check`, `parse`, `repl`, `docs`, `sim`, …
//! Thin: `run`, `resume` and `unwind` turn their options into a [`crate::run::Request`] or a
//! [`crate::run::Continue`] and hand them to the run layer ([`crate::run`]), which does the run and
//! picks its exit code.
//!
//! One file per command family: `run.rs` (run, resume, unwind), `scripts.rs` (list, show,
//! check), `parse.rs`, `journal.rs`, `inventory.rs`, `sim.rs`, `docs.rs` (docs, man,
//! completions).

mod docs;
mod inventory;
mod journal;
mod parse;
mod run;
mod scripts;
mod sim;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::site::SiteChoice;

pub use docs::CompletionShell;
pub use inventory::InventoryCmd;
pub use journal::JournalCmd;
pub use run::{sim_names, ResumeArgs, RunArgs, UnwindArgs, VerbosityArgs};
pub use sim::SimCmd;

/// Exit code of usage errors (the run layer's, [`crate::run::EXIT_USAGE`]).
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

/// Run the command line; returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    match cli.command {
        Cmd::Run(a) => run::cmd_run(a),
        Cmd::List => scripts::cmd_list(),
        Cmd::Show { name } => scripts::cmd_show(&name),
        Cmd::Check { scripts } => scripts::cmd_check(&scripts),
        Cmd::Parse { kind, file } => parse::cmd_parse(&kind, file.as_deref()),
        Cmd::Repl(site) => crate::repl::main(&site.choice()),
        Cmd::Docs { output } => docs::cmd_docs(output.as_deref()),
        Cmd::Sim { command } => sim::cmd_sim(command),
        Cmd::Inventory { command } => inventory::cmd_inventory(command),
        Cmd::Completions { shell } => docs::cmd_completions(shell),
        Cmd::Man { dir } => docs::cmd_man(dir.as_deref()),
        Cmd::Journal { command } => journal::cmd_journal(command),
        Cmd::Resume(a) => crate::run::continue_run(a.request()),
        Cmd::Unwind(a) => crate::run::continue_run(a.request()),
    }
}
