//! `run`, `resume` and `unwind`: their options, turned into a [`run::Request`] or a
//! [`run::Continue`] for the run layer, which does the run and picks its exit code.

use clap::Args;

use crate::backend;
use crate::inventory::quoted;
use crate::output::Verbosity;
use crate::run::{self, usage};
use crate::scripts;

use super::{OutputFormat, SiteArgs};

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

impl ResumeArgs {
    /// The run layer's request for this `resume`.
    pub fn request(self) -> run::Continue {
        run::Continue {
            run: self.run,
            unwind: false,
            retry_unknown: self.retry_unknown,
            params: self.params,
            yes: self.yes,
            json: self.output == OutputFormat::Json,
            verbosity: self.verbosity.level(),
        }
    }
}

impl UnwindArgs {
    /// The run layer's request for this `unwind`.
    pub fn request(self) -> run::Continue {
        run::Continue {
            run: self.run,
            unwind: true,
            yes: self.yes,
            json: self.output == OutputFormat::Json,
            verbosity: self.verbosity.level(),
            ..run::Continue::default()
        }
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

pub(super) fn cmd_run(args: RunArgs) -> i32 {
    match script_from_sim(args) {
        Ok(args) => run::run(args.request(), None),
        Err(e) => usage(e),
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
