//! `sim init` and `sim exec`: simulated sites kept in folders.

use std::io::Write;
use std::path::PathBuf;

use clap::Subcommand;

use crate::backend::SimSite;
use crate::run::usage;
use crate::site;

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

pub(super) fn cmd_sim(cmd: SimCmd) -> i32 {
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
