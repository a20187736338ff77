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
