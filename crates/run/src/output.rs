//! The operator's side of a run: [`ConsoleUi`] for a terminal or a pipe, [`JsonUi`] for
//! `--json` (tests record with `hascript_testkit::Recorder`). Steps and information go to standard output; warnings and
//! errors to standard error.

// Writes that ignore errors: a closed pipe (`hascript run … | head`) must never panic or
// abort a procedure half-way through a change; the run goes on and its exit code tells.
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let mut o = std::io::stdout().lock();
        let _ = write!(o, $($t)*);
        let _ = o.flush();
    }};
}
macro_rules! outln {
    () => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock());
    }};
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($t)*);
    }};
}
macro_rules! errln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($t)*);
    }};
}

use std::borrow::Cow;
use std::ffi::OsStr;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use hascript_api::{Error, ErrorKind, Ui, WaitDone, WaitOutcome, WaitProgress};

pub use crate::text::{escape_controls, mmss, step_line, PIPE_PROGRESS_EVERY};

/// How much a run shows: `-q` (warnings, errors, questions and the result), the default,
/// or `-v` (also every command sent and its exit status, as it happens).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verbosity {
    /// `-q`.
    Quiet,
    /// Neither flag.
    #[default]
    Normal,
    /// `-v`.
    Verbose,
}

impl Verbosity {
    /// From the command line's `-v` and `-q` (clap keeps them apart).
    pub fn from_flags(verbose: bool, quiet: bool) -> Self {
        match (verbose, quiet) {
            (_, true) => Verbosity::Quiet,
            (true, false) => Verbosity::Verbose,
            (false, false) => Verbosity::Normal,
        }
    }
}

/// Whether hascript's own styling goes to a stream: only a terminal, never when `NO_COLOR`
/// holds a value (<https://no-color.org>: any non-empty value) or `TERM` is `dumb`.
pub fn colour_wanted(terminal: bool, no_color: Option<&OsStr>, term: Option<&OsStr>) -> bool {
    terminal
        && no_color.is_none_or(|v| v.is_empty())
        && term.is_none_or(|t| t != OsStr::new("dumb"))
}

/// Whether a stream that is (or is not) a terminal gets colour, from this process's
/// environment.
fn colour_for(terminal: bool) -> bool {
    colour_wanted(
        terminal,
        std::env::var_os("NO_COLOR").as_deref(),
        std::env::var_os("TERM").as_deref(),
    )
}

/// ANSI styles hascript applies to its own words (never to text from hosts or scripts,
/// which is escaped first).
const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";
const RESET: &str = "\x1b[0m";

fn paint(on: bool, style: &str, word: &str) -> String {
    if on {
        format!("{style}{word}{RESET}")
    } else {
        word.to_string()
    }
}

/// A preflight line (`  ok   …`, `  FAIL …`) with its mark coloured; other lines as they
/// are. `line` is already escaped.
fn style_check_line(on: bool, line: &str) -> Cow<'_, str> {
    if !on {
        return Cow::Borrowed(line);
    }
    if let Some(rest) = line.strip_prefix("  ok   ") {
        return Cow::Owned(format!("  {}   {rest}", paint(true, GREEN, "ok")));
    }
    if let Some(rest) = line.strip_prefix("  FAIL ") {
        return Cow::Owned(format!("  {} {rest}", paint(true, RED, "FAIL")));
    }
    Cow::Borrowed(line)
}

/// An error report with its leading word (`error:`, `declined:`, `refused:`) coloured.
/// `text` is already escaped.
fn style_error(on: bool, text: &str) -> Cow<'_, str> {
    if !on {
        return Cow::Borrowed(text);
    }
    for word in ["error:", "declined:", "refused:"] {
        if let Some(rest) = text.strip_prefix(word) {
            return Cow::Owned(format!("{}{rest}", paint(true, RED, word)));
        }
    }
    Cow::Borrowed(text)
}

/// Where a wait stands: `WHAT: 04:10 elapsed, ~10:00 expected (17.3.1.1), deadline 15:00;
/// now UP` (the expected part when known, the last part when the waiter says).
pub fn wait_progress_line(p: &WaitProgress) -> String {
    let expected = match (p.expected, &p.expected_from) {
        (Some(e), Some(from)) => format!(", ~{} expected ({from})", mmss(e)),
        (Some(e), None) => format!(", ~{} expected", mmss(e)),
        (None, _) => String::new(),
    };
    let now = p
        .last_seen
        .as_deref()
        .map(|s| format!("; now {s}"))
        .unwrap_or_default();
    format!(
        "{}: {} elapsed{expected}, deadline {}{now}",
        p.what,
        mmss(p.elapsed),
        mmss(p.elapsed + p.remaining)
    )
}

/// How a wait ended: `WHAT: reached after 10:02`, `WHAT: not reached after 15:00 (now
/// UP)`, `WHAT: stopped after 03:10 (now UP)`.
pub fn wait_done_line(d: &WaitDone) -> String {
    let now = d
        .last_seen
        .as_deref()
        .map(|s| format!(" (now {s})"))
        .unwrap_or_default();
    match d.outcome {
        WaitOutcome::Reached => format!("{}: reached after {}", d.what, mmss(d.elapsed)),
        WaitOutcome::NotReached => {
            format!("{}: not reached after {}{now}", d.what, mmss(d.elapsed))
        }
        WaitOutcome::Stopped => format!("{}: stopped after {}{now}", d.what, mmss(d.elapsed)),
    }
}

#[derive(Default)]
struct WaitState {
    /// What the current wait is about and the elapsed time last shown.
    current: Option<(String, Duration)>,
    /// A progress line is open on the terminal (needs a newline before other output).
    line_open: bool,
}

/// The UI of the command line.
pub struct ConsoleUi {
    yes: bool,
    stdin_terminal: bool,
    stdout_terminal: bool,
    verbosity: Verbosity,
    /// hascript's own styling on standard output / standard error ([`colour_wanted`]).
    colour_out: bool,
    colour_err: bool,
    wait: Mutex<WaitState>,
}

impl ConsoleUi {
    /// A console UI; `yes` accepts every confirmation.
    pub fn new(yes: bool) -> Self {
        let stdout_terminal = std::io::stdout().is_terminal();
        ConsoleUi {
            yes,
            stdin_terminal: std::io::stdin().is_terminal(),
            stdout_terminal,
            verbosity: Verbosity::Normal,
            colour_out: colour_for(stdout_terminal),
            colour_err: colour_for(std::io::stderr().is_terminal()),
            wait: Mutex::new(WaitState::default()),
        }
    }

    /// The same UI showing as much as `v` says.
    pub fn with_verbosity(mut self, v: Verbosity) -> Self {
        self.verbosity = v;
        self
    }

    fn quiet(&self) -> bool {
        self.verbosity == Verbosity::Quiet
    }

    fn wait_state(&self) -> std::sync::MutexGuard<'_, WaitState> {
        self.wait.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// End an open progress line and forget the current wait.
    fn settle(&self) {
        let mut w = self.wait_state();
        if w.line_open {
            outln!();
            w.line_open = false;
        }
        w.current = None;
    }

    /// Print an error (uncaught script error, usage error) on standard error.
    pub fn error(&self, text: &str) {
        self.settle();
        errln!("{}", style_error(self.colour_err, &escape_controls(text)));
    }
}

/// With `-v`, the console is one of the run's event sinks: each command as it is sent (a
/// change, before it leaves) and as it ends, with its exit status. The journal's lines are
/// already redacted.
impl crate::journal::EventSink for ConsoleUi {
    fn line(&self, _line: &str, event: &crate::journal::Event) {
        use crate::journal::Event;
        if self.verbosity != Verbosity::Verbose {
            return;
        }
        let shown = match event {
            Event::CommandStart { host, command, .. } => format!(
                "[{}] $ {}  (sending)",
                escape_controls(host),
                escape_controls(command)
            ),
            Event::CommandEnd {
                host,
                command,
                exit,
                signal,
                error,
                duration_ms,
                ..
            } => {
                let status = if let Some(code) = exit {
                    let word = format!("exit {code}");
                    if *code == 0 {
                        word
                    } else {
                        paint(self.colour_out, RED, &word)
                    }
                } else if let Some(signal) = signal.as_deref().filter(|s| !s.is_empty()) {
                    paint(self.colour_out, RED, &format!("killed by {signal}"))
                } else {
                    let error = error.as_deref().unwrap_or_default();
                    paint(self.colour_out, RED, &format!("not run: {error}"))
                };
                format!(
                    "[{}] $ {}  -> {status} ({duration_ms} ms)",
                    escape_controls(host),
                    escape_controls(command)
                )
            }
            _ => return,
        };
        self.settle();
        outln!("{}", shown);
    }
}

impl Ui for ConsoleUi {
    fn step(&self, section: &str, title: &str) {
        if self.quiet() {
            return;
        }
        self.settle();
        outln!("{}", escape_controls(&step_line(section, title)));
    }

    fn info(&self, message: &str) {
        if self.quiet() {
            return;
        }
        self.settle();
        outln!(
            "{}",
            style_check_line(self.colour_out, &escape_controls(message))
        );
    }

    fn result(&self, text: &str) {
        self.settle();
        outln!("{}", escape_controls(text));
    }

    fn warn(&self, message: &str) {
        self.settle();
        errln!(
            "{} {}",
            paint(self.colour_err, YELLOW, "warning:"),
            escape_controls(message)
        );
    }

    fn confirm(&self, question: &str) -> Result<bool, Error> {
        self.settle();
        let question = escape_controls(question);
        if self.yes {
            outln!("{question} [y/N] yes (--yes)");
            return Ok(true);
        }
        if !self.stdin_terminal {
            return Err(Error::new(
                ErrorKind::Declined,
                format!(
                    "confirmation needed but no terminal; re-run with --yes to accept: {question}"
                ),
            ));
        }
        out!("{question} [y/N] ");
        let _ = std::io::stdout().flush();
        let mut answer = String::new();
        match std::io::stdin().read_line(&mut answer) {
            Ok(0) | Err(_) => {
                outln!();
                Ok(false)
            }
            Ok(_) => Ok(matches!(
                answer.trim().to_ascii_lowercase().as_str(),
                "y" | "yes"
            )),
        }
    }

    fn waiting(&self, p: &WaitProgress) {
        if self.quiet() {
            return;
        }
        let mut p = p.clone();
        p.what = escape_controls(&p.what).into_owned();
        p.last_seen = p.last_seen.map(|s| escape_controls(&s).into_owned());
        p.expected_from = p.expected_from.map(|s| escape_controls(&s).into_owned());
        let p = &p;
        let mut w = self.wait_state();
        if self.stdout_terminal {
            out!("\r\x1b[K{}", wait_progress_line(p));
            let _ = std::io::stdout().flush();
            w.line_open = true;
            w.current = Some((p.what.clone(), p.elapsed));
            return;
        }
        let show = match &w.current {
            Some((what, last)) if *what == p.what && p.elapsed >= *last => {
                p.elapsed - *last >= PIPE_PROGRESS_EVERY
            }
            _ => true,
        };
        if show {
            outln!("waiting for {}", wait_progress_line(p));
            w.current = Some((p.what.clone(), p.elapsed));
        }
    }

    fn wait_done(&self, d: &WaitDone) {
        if self.quiet() {
            return;
        }
        let mut d = d.clone();
        d.what = escape_controls(&d.what).into_owned();
        d.last_seen = d.last_seen.map(|s| escape_controls(&s).into_owned());
        let line = wait_done_line(&d);
        let line = match d.outcome {
            WaitOutcome::Reached => line,
            _ => paint(self.colour_out, YELLOW, &line),
        };
        let mut w = self.wait_state();
        if w.line_open {
            // The closing line takes the place of the progress line.
            outln!("\r\x1b[K{line}");
        } else {
            outln!("{line}");
        }
        w.line_open = false;
        w.current = None;
    }

    fn exposure(&self, what: &str, for_how_long: Duration) {
        if self.quiet() {
            return;
        }
        self.settle();
        outln!(
            "exposure: {} for {}",
            escape_controls(what),
            mmss(for_how_long)
        );
    }
}

/// The UI of `hascript run --output json`: standard output carries only the run's events,
/// one JSON object per line (the journal's lines, see [`crate::journal::Event`]), which
/// this type prints as the run's [`crate::journal::EventSink`]; as a [`Ui`] it shows
/// nothing itself. A question is answered by `--yes`; otherwise it is asked on standard
/// error when standard input is a terminal, and with neither the run stops (exit 5).
pub struct JsonUi {
    yes: bool,
    stdin_terminal: bool,
}

impl JsonUi {
    /// A JSON-lines UI; `yes` accepts every confirmation.
    pub fn new(yes: bool) -> Self {
        JsonUi {
            yes,
            stdin_terminal: std::io::stdin().is_terminal(),
        }
    }
}

impl crate::journal::EventSink for JsonUi {
    fn line(&self, line: &str, _event: &crate::journal::Event) {
        outln!("{line}");
    }
}

impl Ui for JsonUi {
    fn step(&self, _section: &str, _title: &str) {}
    fn info(&self, _message: &str) {}
    fn warn(&self, _message: &str) {}
    fn confirm(&self, question: &str) -> Result<bool, Error> {
        if self.yes {
            return Ok(true);
        }
        if !self.stdin_terminal {
            return Err(Error::new(
                ErrorKind::Declined,
                format!(
                    "confirmation needed but no terminal; re-run with --yes to accept: {question}"
                ),
            ));
        }
        {
            let mut e = std::io::stderr().lock();
            let _ = write!(e, "{} [y/N] ", escape_controls(question));
            let _ = e.flush();
        }
        let mut answer = String::new();
        match std::io::stdin().read_line(&mut answer) {
            Ok(0) | Err(_) => Ok(false),
            Ok(_) => Ok(matches!(
                answer.trim().to_ascii_lowercase().as_str(),
                "y" | "yes"
            )),
        }
    }
    fn waiting(&self, _progress: &WaitProgress) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_times_and_steps() {
        assert_eq!(mmss(Duration::from_secs(600)), "10:00");
        assert_eq!(mmss(Duration::from_secs(65)), "01:05");
        assert_eq!(mmss(Duration::from_secs(3725)), "1:02:05");
        assert_eq!(
            step_line("17.3.1.1", "Stop fencing"),
            "==> [17.3.1.1] Stop fencing"
        );
        assert_eq!(step_line("", "Check"), "==> Check");
    }

    #[test]
    fn controls_are_shown_escaped() {
        assert!(matches!(escape_controls("plain\ttext\n"), Cow::Borrowed(_)));
        assert_eq!(
            escape_controls("a\x1b]0;t\x07b\rc\u{9b}2J\u{202e}d\x7f"),
            "a\\x1b]0;t\\x07b\\rc\\u{9b}2J\\u{202e}d\\x7f"
        );
        // Idempotent: escaped text has nothing left to escape.
        let once = escape_controls("\x1b[31m").into_owned();
        assert_eq!(escape_controls(&once), once);
    }

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        let os = |s: &'static str| Some(OsStr::new(s));
        assert!(colour_wanted(true, None, os("xterm")));
        assert!(colour_wanted(true, os(""), None));
        assert!(!colour_wanted(false, None, os("xterm")));
        assert!(!colour_wanted(true, os("1"), os("xterm")));
        assert!(!colour_wanted(true, os("0"), os("xterm")));
        assert!(!colour_wanted(true, None, os("dumb")));
        // Only hascript's own marks, and nothing without colour.
        assert_eq!(style_check_line(false, "  FAIL x"), "  FAIL x");
        assert_eq!(
            style_check_line(true, "  FAIL x"),
            "  \x1b[1;31mFAIL\x1b[0m x"
        );
        assert_eq!(style_check_line(true, "x  FAIL"), "x  FAIL");
        assert_eq!(style_error(true, "error: a"), "\x1b[1;31merror:\x1b[0m a");
    }

    #[test]
    fn wait_lines_say_where_the_wait_stands() {
        let p = WaitProgress {
            what: "cfguest2 DOWN".into(),
            elapsed: Duration::from_secs(250),
            remaining: Duration::from_secs(650),
            last_seen: Some("UP".into()),
            expected: Some(Duration::from_secs(600)),
            expected_from: Some("17.3.1.1".into()),
        };
        assert_eq!(
            wait_progress_line(&p),
            "cfguest2 DOWN: 04:10 elapsed, ~10:00 expected (17.3.1.1), deadline 15:00; now UP"
        );
        let bare = WaitProgress {
            what: "x".into(),
            elapsed: Duration::from_secs(5),
            remaining: Duration::from_secs(55),
            ..Default::default()
        };
        assert_eq!(
            wait_progress_line(&bare),
            "x: 00:05 elapsed, deadline 01:00"
        );
        let mut d = WaitDone {
            what: "cfguest2 DOWN".into(),
            elapsed: Duration::from_secs(602),
            outcome: WaitOutcome::Reached,
            last_seen: None,
        };
        assert_eq!(wait_done_line(&d), "cfguest2 DOWN: reached after 10:02");
        d.outcome = WaitOutcome::NotReached;
        d.elapsed = Duration::from_secs(900);
        d.last_seen = Some("UP".into());
        assert_eq!(
            wait_done_line(&d),
            "cfguest2 DOWN: not reached after 15:00 (now UP)"
        );
    }
}
