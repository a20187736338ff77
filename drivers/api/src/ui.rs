//! How drivers talk to the operator while they work: steps with the manual's section,
//! information, warnings, confirmations and progress of long waits. The CLI implements it
//! for a terminal or a pipe; tests implement it to record what was shown.

use std::time::Duration;

use crate::clock::Clock;
use crate::error::Error;

/// Progress of one wait, reported on every poll.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WaitProgress {
    /// What is awaited, in words ("cfguest2 DOWN in cftool -n").
    pub what: String,
    /// Time spent so far (virtual time on the simulator).
    pub elapsed: Duration,
    /// Time left before the deadline.
    pub remaining: Duration,
    /// What the last poll saw, when the waiter can say ("UP", "Testing"), so an operator
    /// watching a ten-minute wait knows where things stand.
    pub last_seen: Option<String>,
    /// How long the wait usually takes, when the manual (or the script) says so; shown
    /// beside the elapsed time so an operator knows whether a long wait is normal.
    pub expected: Option<Duration>,
    /// Where `expected` comes from: the manual's section ("17.3.1.1"), when known.
    pub expected_from: Option<String>,
}

/// How a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitOutcome {
    /// The condition held.
    Reached,
    /// The deadline passed first.
    NotReached,
    /// Stopped before either: an error or a cancellation (Ctrl-C).
    Stopped,
}

impl WaitOutcome {
    /// The word the journal records (`reached`, `not_reached`, `stopped`).
    pub fn as_str(self) -> &'static str {
        match self {
            WaitOutcome::Reached => "reached",
            WaitOutcome::NotReached => "not_reached",
            WaitOutcome::Stopped => "stopped",
        }
    }
}

/// The end of a wait that reported progress (one that held at its first poll never
/// reported any, and ends without a word).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitDone {
    /// What was awaited (the same words as its [`WaitProgress::what`]).
    pub what: String,
    /// How long it took.
    pub elapsed: Duration,
    /// How it ended.
    pub outcome: WaitOutcome,
    /// What the last poll saw, when the waiter can say.
    pub last_seen: Option<String>,
}

/// The operator's side of a run.
pub trait Ui: Send + Sync {
    /// A procedure step begins; `section` is the manual's section (e.g. "17.3.1.1") or a
    /// tool-defined label (e.g. "A0").
    fn step(&self, section: &str, title: &str);
    /// Information worth showing.
    fn info(&self, message: &str);
    /// A warning worth attention.
    fn warn(&self, message: &str);
    /// One item of a preflight (read-only checks before any change): shown as
    /// `  ok   check: detail` / `  FAIL check: detail`; the run's journal records it as a
    /// `check` event with its `remedy`.
    fn check(&self, check: &str, ok: bool, detail: &str, remedy: Option<&str>) {
        let _ = remedy;
        let mark = if ok { "ok  " } else { "FAIL" };
        self.info(&format!("  {mark} {check}: {detail}"));
    }
    /// The verified end state of `subject` (a guest or package) read back from the cluster:
    /// `text` is its block for people; the run's journal records `state` as a `summary`
    /// event. Shown as the run's [`Ui::result`] (kept by quiet output).
    fn summary(&self, subject: &str, state: &serde_json::Value, text: &str) {
        let _ = (subject, state);
        self.result(text);
    }
    /// Ask a yes/no question. Returns `Ok(false)` when declined; an error of kind
    /// `Declined` when nobody can answer (no terminal and no `--yes`).
    fn confirm(&self, question: &str) -> Result<bool, Error>;
    /// A wait made progress.
    fn waiting(&self, progress: &WaitProgress);
    /// A wait that reported progress ended ([`Waiter`] calls it exactly once per such
    /// wait). UIs that wrap another must pass it on.
    fn wait_done(&self, done: &WaitDone) {
        let _ = done;
    }
    /// The run's result (the verified end state): shown even when the operator asked for
    /// quiet output. Defaults to [`Ui::info`].
    fn result(&self, text: &str) {
        self.info(text)
    }
    /// The cluster has been without fencing or switching for `for_how_long` (shown while
    /// the exposure lasts).
    fn exposure(&self, what: &str, for_how_long: Duration) {
        let _ = (what, for_how_long);
    }
    /// The size in bytes of log `file` on `host` just before a change that makes the
    /// cluster write to it (e.g. `/var/adm/messages` before `clovmmigrate -u`): the run's
    /// journal records it as a `log_mark` event, which later runs read back through
    /// [`crate::objects::History`]. Not shown to the operator.
    fn log_mark(&self, host: &str, file: &str, size: u64) {
        let _ = (host, file, size);
    }
}

/// One wait as the operator sees it: progress on each poll ([`Waiter::progress`]) and
/// exactly one end ([`Waiter::reached`], [`Waiter::not_reached`], or — when dropped
/// without either, because a poll failed or the run was cancelled — stopped). The
/// drivers' and the scripts' waits all go through it, so every wait reads the same.
pub struct Waiter<'a> {
    ui: &'a dyn Ui,
    clock: &'a dyn Clock,
    what: String,
    timeout: Duration,
    start: Duration,
    expected: Option<Duration>,
    expected_from: Option<String>,
    last_seen: Option<String>,
    shown: bool,
    done: bool,
}

impl<'a> Waiter<'a> {
    /// A wait for `what` starting now, with a deadline `timeout` from now.
    pub fn start(ui: &'a dyn Ui, clock: &'a dyn Clock, what: &str, timeout: Duration) -> Self {
        Waiter {
            ui,
            clock,
            what: what.to_string(),
            timeout,
            start: clock.now(),
            expected: None,
            expected_from: None,
            last_seen: None,
            shown: false,
            done: false,
        }
    }

    /// How long this wait usually takes, and where that figure comes from (the manual's
    /// section, or `None`).
    pub fn expect(mut self, expected: Option<Duration>, from: Option<&str>) -> Self {
        self.expected = expected;
        self.expected_from = from.map(str::to_string);
        self
    }

    /// Time spent so far.
    pub fn elapsed(&self) -> Duration {
        self.clock.now().saturating_sub(self.start)
    }

    /// Time left before the deadline (zero once it passed).
    pub fn remaining(&self) -> Duration {
        self.timeout.saturating_sub(self.elapsed())
    }

    /// Report a poll that did not see the condition; `last_seen` says what it saw.
    pub fn progress(&mut self, last_seen: Option<String>) {
        let elapsed = self.elapsed();
        self.last_seen = last_seen.clone();
        self.shown = true;
        self.ui.waiting(&WaitProgress {
            what: self.what.clone(),
            elapsed,
            remaining: self.timeout.saturating_sub(elapsed),
            last_seen,
            expected: self.expected,
            expected_from: self.expected_from.clone(),
        });
    }

    /// The condition held.
    pub fn reached(mut self) {
        self.finish(WaitOutcome::Reached, None);
    }

    /// The deadline passed; `last_seen` is what the last poll saw.
    pub fn not_reached(mut self, last_seen: Option<String>) {
        self.finish(WaitOutcome::NotReached, last_seen);
    }

    fn finish(&mut self, outcome: WaitOutcome, last_seen: Option<String>) {
        if self.done {
            return;
        }
        self.done = true;
        if !self.shown {
            return;
        }
        self.ui.wait_done(&WaitDone {
            what: self.what.clone(),
            elapsed: self.elapsed(),
            outcome,
            last_seen: last_seen.or_else(|| self.last_seen.take()),
        });
    }
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        self.finish(WaitOutcome::Stopped, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{CancelToken, Clock};
    use crate::testing::{ManualClock, WaitLog};

    /// Progress as `what elapsed+remaining`.
    fn seen() -> WaitLog {
        WaitLog::new(|p| {
            format!(
                "{} {}+{}",
                p.what,
                p.elapsed.as_secs(),
                p.remaining.as_secs()
            )
        })
    }

    #[test]
    fn a_waiter_ends_exactly_once_and_only_when_it_showed_progress() {
        let ui = seen();
        let clock = ManualClock::default();
        let c = CancelToken::new();
        // Held at once: nothing shown, no end.
        Waiter::start(&ui, &clock, "a", Duration::from_secs(60)).reached();
        // Two polls, then reached.
        let mut w = Waiter::start(&ui, &clock, "b", Duration::from_secs(60));
        w.progress(None);
        let _ = clock.sleep(Duration::from_secs(10), &c);
        w.progress(Some("UP".into()));
        let _ = clock.sleep(Duration::from_secs(10), &c);
        w.reached();
        // Dropped mid-wait (an error or Ctrl-C): stopped.
        {
            let mut w = Waiter::start(&ui, &clock, "c", Duration::from_secs(60));
            w.progress(None);
            let _ = clock.sleep(Duration::from_secs(5), &c);
        }
        assert_eq!(
            ui.lines(),
            vec!["b 0+60", "b 10+50", "b reached 20", "c 0+60", "c stopped 5"]
        );
    }
}
