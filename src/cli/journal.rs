//! `journal list` and `journal show`: the record of past runs.

use std::io::Write;

use clap::Subcommand;

use crate::journal;
use crate::run::usage;

use super::OutputFormat;

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

pub(super) fn cmd_journal(cmd: JournalCmd) -> i32 {
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
            print_lines(journal::list_lines(&runs))
        }
        JournalCmd::Show { run, output } => {
            let path = match journal::find_run(&dir, run.as_deref()) {
                Ok((_, path)) => path,
                Err(e) => return usage(e),
            };
            let lines = match output {
                // As written (an older journal's lines keep their older shape).
                OutputFormat::Json => journal::read_lines(&path)
                    .map(|ls| ls.iter().map(|l| l.to_string()).collect::<Vec<_>>()),
                OutputFormat::Human => journal::timeline(&path),
            };
            match lines {
                Ok(lines) => print_lines(lines),
                Err(e) => usage(e),
            }
        }
    }
}

/// Print `lines` on standard output; a closed pipe (`| head`) ends it quietly.
fn print_lines(lines: Vec<String>) -> i32 {
    let mut so = std::io::stdout().lock();
    for l in lines {
        if writeln!(so, "{l}").is_err() {
            break;
        }
    }
    0
}
