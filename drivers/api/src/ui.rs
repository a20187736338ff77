//! How drivers talk to the operator while they work: steps with the manual's section,
//! information, warnings, confirmations and progress of long waits. The CLI implements it
//! for a terminal or a pipe; tests implement it to record what was shown.

use std::time::Duration;

use crate::error::Error;

/// Progress of one wait, reported on every poll.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// event.
    fn summary(&self, subject: &str, state: &serde_json::Value, text: &str) {
        let _ = (subject, state);
        self.info(text);
    }
    /// Ask a yes/no question. Returns `Ok(false)` when declined; an error of kind
    /// `Declined` when nobody can answer (no terminal and no `--yes`).
    fn confirm(&self, question: &str) -> Result<bool, Error>;
    /// A wait made progress.
    fn waiting(&self, progress: &WaitProgress);
    /// The cluster has been without fencing or switching for `for_how_long` (shown while
    /// the exposure lasts).
    fn exposure(&self, what: &str, for_how_long: Duration) {
        let _ = (what, for_how_long);
    }
}
