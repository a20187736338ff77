//! Where input lines come from: linefeed on a terminal (Tab completion, the history,
//! Ctrl-C at the prompt), plain lines otherwise; and when an input goes on over several
//! lines (an open bracket or string).

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rhai::{Engine, ParseErrorType};

use crate::journal::Redactor;

use super::complete::{self, Known};
use super::history::{history_entry, history_path, write_history, HISTORY_SIZE};

/// What a line source gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// A line (without its newline).
    Line(String),
    /// Ctrl-C at the prompt: drop the input being typed.
    Interrupted,
    /// The end of input (Ctrl-D).
    Eof,
}

/// Where input lines come from.
pub trait LineSource {
    /// The next line, shown after `prompt`.
    fn read_line(&mut self, prompt: &str) -> Read;
    /// Remember an accepted input line (history); nothing by default.
    fn remember(&mut self, _line: &str) {}
}

/// Plain lines from standard input; the prompt is printed to standard output.
pub struct PlainLines<R: BufRead> {
    input: R,
}

impl<R: BufRead> PlainLines<R> {
    /// Lines from `input`.
    pub fn new(input: R) -> Self {
        PlainLines { input }
    }
}

impl<R: BufRead> LineSource for PlainLines<R> {
    fn read_line(&mut self, prompt: &str) -> Read {
        print!("{prompt}");
        let _ = std::io::stdout().flush();
        let mut line = String::new();
        match self.input.read_line(&mut line) {
            Ok(0) | Err(_) => {
                println!();
                Read::Eof
            }
            Ok(_) => {
                // Echo-less pipe: end the prompt's line so output stays readable.
                println!();
                Read::Line(line.trim_end_matches(['\n', '\r']).to_string())
            }
        }
    }
}

/// linefeed on a terminal.
struct TermLines {
    iface: linefeed::Interface<linefeed::DefaultTerminal>,
    history: Option<PathBuf>,
    /// What the history file holds: the accepted lines with secrets hidden ([`history_entry`]),
    /// at most [`HISTORY_SIZE`]. The line editor's own copy keeps the lines as typed, for
    /// this session's arrow keys only.
    saved: Vec<String>,
    redactor: Arc<Redactor>,
}

impl LineSource for TermLines {
    fn read_line(&mut self, prompt: &str) -> Read {
        if self.iface.set_prompt(prompt).is_err() {
            return Read::Eof;
        }
        match self.iface.read_line() {
            Ok(linefeed::ReadResult::Input(l)) => Read::Line(l),
            Ok(linefeed::ReadResult::Signal(_)) => {
                // Without this linefeed resumes the same line at the next `read_line`, and
                // the next input would be evaluated glued to the discarded text. Show `^C`
                // at its end, as shells do, so the screen says it was dropped.
                let end = self.iface.buffer().len();
                let _ = self.iface.set_cursor(end);
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(b"^C");
                let _ = out.flush();
                drop(out);
                let _ = self.iface.cancel_read_line();
                Read::Interrupted
            }
            Ok(linefeed::ReadResult::Eof) | Err(_) => Read::Eof,
        }
    }

    fn remember(&mut self, line: &str) {
        if line.trim().is_empty() {
            return;
        }
        self.iface.add_history_unique(line.to_string());
        let entry = history_entry(line, &self.redactor);
        if self.saved.last() != Some(&entry) {
            self.saved.push(entry);
        }
        if self.saved.len() > HISTORY_SIZE {
            let extra = self.saved.len() - HISTORY_SIZE;
            self.saved.drain(..extra);
        }
        if let Some(p) = &self.history {
            if let Err(e) = write_history(p, &self.saved) {
                eprintln!("warning: cannot save the history to {}: {e}", p.display());
                self.history = None;
            }
        }
    }
}

pub(super) fn line_source(
    known: Arc<Mutex<Known>>,
    redactor: Arc<Redactor>,
) -> Box<dyn LineSource> {
    let term_ok = std::env::var("TERM").is_ok_and(|t| !t.is_empty() && t != "dumb");
    if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() && term_ok {
        if let Ok(iface) = linefeed::Interface::new("hascript") {
            iface.set_report_signal(linefeed::Signal::Interrupt, true);
            iface.set_history_size(HISTORY_SIZE);
            let history = history_path();
            let mut saved = Vec::new();
            if let Some(p) = &history {
                if p.exists() {
                    match crate::files::read_regular_text(p, crate::files::MAX_TEXT_FILE) {
                        // A history written before secrets were hidden loses the ones this
                        // session knows at its next save.
                        Ok(text) => {
                            for l in text.lines().filter(|l| !l.trim().is_empty()) {
                                iface.add_history_unique(l.to_string());
                                saved.push(history_entry(l, &redactor));
                            }
                            let extra = saved.len().saturating_sub(HISTORY_SIZE);
                            saved.drain(..extra);
                        }
                        Err(e) => {
                            eprintln!("warning: cannot read the history {}: {e}", p.display())
                        }
                    }
                }
            }
            iface.define_function(
                "hascript-complete",
                Arc::new(complete::TabCompleter { known }),
            );
            iface.bind_sequence("\t", linefeed::Command::from_str("hascript-complete"));
            return Box::new(TermLines {
                iface,
                history,
                saved,
                redactor,
            });
        }
    }
    Box::new(PlainLines::new(std::io::stdin().lock()))
}

/// Whether a compile error means "the input is not finished yet".
pub fn incomplete(err: &rhai::ParseError, input: &str) -> bool {
    match err.err_type() {
        ParseErrorType::UnexpectedEOF => true,
        ParseErrorType::BadInput(rhai::LexError::UnterminatedString) => {
            // A backtick string may span lines; a "…" string continues when it is open on
            // the last line (the REPL then joins the lines with an escaped newline).
            let n = input.trim_end_matches('\n').lines().count();
            err.position().line() == Some(n) || open_quote(err, input) == Some('`')
        }
        ParseErrorType::MissingToken(..)
        | ParseErrorType::MissingSymbol(..)
        | ParseErrorType::BadInput(_) => {
            let lines: Vec<&str> = input.trim_end().lines().collect();
            let n = lines.len();
            match (err.position().line(), err.position().position()) {
                (None, _) => true,
                (Some(l), _) if l > n => true,
                (Some(l), Some(c)) if l == n => c > lines.last().map_or(0, |s| s.chars().count()),
                _ => false,
            }
        }
        _ => false,
    }
}

/// The quote character of the string an `UnterminatedString` error points at.
fn open_quote(err: &rhai::ParseError, input: &str) -> Option<char> {
    let line = input.lines().nth(err.position().line()?.checked_sub(1)?)?;
    line.chars().nth(err.position().position()?.checked_sub(1)?)
}

/// When `input` (ending with a newline) stops inside a `"…"` string, carry the newline
/// into the string (`\n` and a line continuation), as a backtick string would.
pub fn continue_string(engine: &Engine, input: &mut String) {
    if let Err(e) = engine.compile(input.as_str()) {
        if matches!(
            e.err_type(),
            ParseErrorType::BadInput(rhai::LexError::UnterminatedString)
        ) && open_quote(&e, input) == Some('"')
            && input.ends_with('\n')
        {
            input.pop();
            input.push_str("\\n\\\n");
        }
    }
}
