//! The REPL's UI: the console, with everything shown passed through the session's
//! redactor, and quiet while Tab completion reads names from the site.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hascript_api::ui::WaitProgress;
use hascript_api::{Error as ApiError, Ui};

use crate::journal::Redactor;
use crate::output::ConsoleUi;

/// The REPL's UI: the console, asking confirmations on a terminal (`:run` runs with a UI
/// of its own, as `hascript run` does, so `:run --yes` answers them there). Everything it
/// shows — values, tables, JSON, errors, `print`, the drivers' steps and warnings — goes
/// through the session's [`Redactor`] first, which holds every secret value the session
/// knows (see [`Session::redactor`](super::Session::redactor)).
pub struct ReplUi {
    ask: ConsoleUi,
    redactor: Arc<Redactor>,
    /// Set while Tab completion reads names from the site: nothing is shown (the prompt
    /// is on the screen), and no command that changes anything may be sent.
    pub(super) completing: Arc<AtomicBool>,
}

impl ReplUi {
    /// A console UI that asks (on a terminal), with an empty redactor.
    pub fn new() -> Self {
        ReplUi {
            ask: ConsoleUi::new(false),
            redactor: Arc::new(Redactor::new()),
            completing: Arc::new(AtomicBool::new(false)),
        }
    }

    fn now(&self) -> &ConsoleUi {
        &self.ask
    }

    fn quiet(&self) -> bool {
        self.completing.load(Ordering::SeqCst)
    }

    /// The redactor everything shown goes through.
    pub fn redactor(&self) -> &Arc<Redactor> {
        &self.redactor
    }

    fn r(&self, text: &str) -> String {
        self.redactor.redact(text)
    }

    /// Print an error report on standard error.
    pub fn error(&self, text: &str) {
        self.now().error(&self.r(text));
    }
}

impl Default for ReplUi {
    fn default() -> Self {
        Self::new()
    }
}

impl Ui for ReplUi {
    fn step(&self, section: &str, title: &str) {
        if !self.quiet() {
            self.now().step(&self.r(section), &self.r(title))
        }
    }
    fn info(&self, message: &str) {
        if !self.quiet() {
            self.now().info(&self.r(message))
        }
    }
    fn warn(&self, message: &str) {
        if !self.quiet() {
            self.now().warn(&self.r(message))
        }
    }
    fn confirm(&self, question: &str) -> Result<bool, ApiError> {
        self.now().confirm(&self.r(question)).map_err(|mut e| {
            e.message = self.r(&e.message);
            e
        })
    }
    fn waiting(&self, p: &WaitProgress) {
        if self.quiet() {
            return;
        }
        let mut p = p.clone();
        p.what = self.r(&p.what);
        p.last_seen = p.last_seen.map(|s| self.r(&s));
        self.now().waiting(&p)
    }
    fn wait_done(&self, d: &hascript_api::WaitDone) {
        let mut d = d.clone();
        d.what = self.r(&d.what);
        d.last_seen = d.last_seen.map(|s| self.r(&s));
        self.now().wait_done(&d)
    }
    fn result(&self, text: &str) {
        self.now().result(&self.r(text))
    }
    fn exposure(&self, what: &str, for_how_long: Duration) {
        self.now().exposure(&self.r(what), for_how_long)
    }
}
