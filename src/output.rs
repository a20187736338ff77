//! The operator's side of a run: [`ConsoleUi`] for a terminal or a pipe, and
//! [`RecordingUi`] for tests. Steps and information go to standard output; warnings and
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
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use hascript_api::{Error, ErrorKind, Ui, WaitProgress};

/// Whether `c` would act on a terminal instead of being shown: C0 controls except newline
/// and tab (ESC, BEL, CR, backspace …), DEL, C1 controls (U+0080–U+009F, CSI among them),
/// and the bidirectional overrides that reorder what a line seems to say.
fn is_control(c: char) -> bool {
    matches!(c, '\0'..='\x08' | '\x0b'..='\x1f' | '\x7f' | '\u{80}'..='\u{9f}')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` safe to show on the operator's terminal: every control character or escape
/// sequence start (see [`is_control`]) is written out as `\r`, `\xNN` or `\u{NNNN}`, so
/// text from hosts and scripts can never move the cursor, retitle the window, ring the
/// bell or overwrite a line. Newlines and tabs stay. hascript's own styling (the progress
/// line) is added after this and is not escaped.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x80 && is_control(c) => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if is_control(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// How often a wait reports on a non-terminal, in (virtual) elapsed time.
pub const PIPE_PROGRESS_EVERY: Duration = Duration::from_secs(60);

/// `mm:ss` (or `h:mm:ss` from one hour up).
pub fn mmss(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
    } else {
        format!("{:02}:{:02}", s / 60, s % 60)
    }
}

/// The step header line: `==> [section] title`, or `==> title` without a section.
pub fn step_line(section: &str, title: &str) -> String {
    if section.is_empty() {
        format!("==> {title}")
    } else {
        format!("==> [{section}] {title}")
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
    wait: Mutex<WaitState>,
}

impl ConsoleUi {
    /// A console UI; `yes` accepts every confirmation.
    pub fn new(yes: bool) -> Self {
        ConsoleUi {
            yes,
            stdin_terminal: std::io::stdin().is_terminal(),
            stdout_terminal: std::io::stdout().is_terminal(),
            wait: Mutex::new(WaitState::default()),
        }
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
        errln!("{}", escape_controls(text));
    }
}

impl Ui for ConsoleUi {
    fn step(&self, section: &str, title: &str) {
        self.settle();
        outln!("{}", escape_controls(&step_line(section, title)));
    }

    fn info(&self, message: &str) {
        self.settle();
        outln!("{}", escape_controls(message));
    }

    fn warn(&self, message: &str) {
        self.settle();
        errln!("warning: {}", escape_controls(message));
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
        let mut p = p.clone();
        p.what = escape_controls(&p.what).into_owned();
        p.last_seen = p.last_seen.map(|s| escape_controls(&s).into_owned());
        let p = &p;
        let mut w = self.wait_state();
        if self.stdout_terminal {
            out!("\r\x1b[K{}: {} left{}", p.what, mmss(p.remaining), seen(p));
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
            outln!(
                "waiting for {}: {} left{}",
                p.what,
                mmss(p.remaining),
                seen(p)
            );
            w.current = Some((p.what.clone(), p.elapsed));
        }
    }

    fn exposure(&self, what: &str, for_how_long: Duration) {
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
    fn line(&self, line: &str) {
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

/// One thing a [`RecordingUi`] was shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UiEvent {
    /// A step.
    Step(String, String),
    /// Information (also `print`).
    Info(String),
    /// A warning.
    Warn(String),
    /// A question and the answer given.
    Confirm(String, bool),
    /// Wait progress.
    Waiting(WaitProgress),
    /// Exposure.
    Exposure(String, Duration),
}

/// A UI that records everything, for tests. Confirmations answer `answer`; `None` behaves
/// like a pipe without `--yes` (a `Declined` error).
pub struct RecordingUi {
    answer: Option<bool>,
    events: Mutex<Vec<UiEvent>>,
}

impl RecordingUi {
    /// A recording UI that answers confirmations with `answer`.
    pub fn new(answer: Option<bool>) -> Self {
        RecordingUi {
            answer,
            events: Mutex::new(Vec::new()),
        }
    }

    /// Everything shown so far.
    pub fn events(&self) -> Vec<UiEvent> {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn push(&self, e: UiEvent) {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(e);
    }
}

impl Ui for RecordingUi {
    fn step(&self, section: &str, title: &str) {
        self.push(UiEvent::Step(section.into(), title.into()));
    }
    fn info(&self, message: &str) {
        self.push(UiEvent::Info(message.into()));
    }
    fn warn(&self, message: &str) {
        self.push(UiEvent::Warn(message.into()));
    }
    fn confirm(&self, question: &str) -> Result<bool, Error> {
        match self.answer {
            Some(a) => {
                self.push(UiEvent::Confirm(question.into(), a));
                Ok(a)
            }
            None => Err(Error::new(
                ErrorKind::Declined,
                format!(
                    "confirmation needed but no terminal; re-run with --yes to accept: {question}"
                ),
            )),
        }
    }
    fn waiting(&self, progress: &WaitProgress) {
        self.push(UiEvent::Waiting(progress.clone()));
    }
    fn exposure(&self, what: &str, for_how_long: Duration) {
        self.push(UiEvent::Exposure(what.into(), for_how_long));
    }
}

/// ` (now: X)` when the waiter said what it last saw.
fn seen(p: &WaitProgress) -> String {
    p.last_seen
        .as_deref()
        .map(|s| format!(" (now: {s})"))
        .unwrap_or_default()
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
    fn recording_ui_declines_without_answer() {
        let ui = RecordingUi::new(None);
        assert_eq!(
            ui.confirm("go?").err().map(|e| e.kind),
            Some(ErrorKind::Declined)
        );
        let ui = RecordingUi::new(Some(true));
        assert_eq!(ui.confirm("go?").ok(), Some(true));
        assert_eq!(ui.events(), vec![UiEvent::Confirm("go?".into(), true)]);
    }
}
