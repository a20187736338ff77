//! Test support that every crate's tests share and that hascript-api's own unit tests need
//! too (which is why it lives here and not in hascript-testkit: testkit depends on this
//! crate, so this crate's unit tests cannot use it). Compiled for this crate's tests and,
//! through the `testing` feature, for other crates' tests only (a dev-dependency feature:
//! never in the binary).
//!
//! A poisoned lock is ignored rather than reported, since a test that panicked while
//! holding one has already failed.

use std::sync::Mutex;
use std::time::Duration;

use crate::clock::{CancelToken, Clock};
use crate::error::Error;

/// A virtual clock that moves only when slept on: waits of minutes take no real time, and
/// a test reads exactly how much time a run let pass. A sleep fails at once once the token
/// is cancelled, like the wall clock's.
#[derive(Debug, Default)]
pub struct ManualClock(Mutex<Duration>);

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn sleep(&self, d: Duration, cancel: &CancelToken) -> Result<(), Error> {
        cancel.check()?;
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) += d;
        Ok(())
    }
}

/// A UI that records the waits it is shown, one line each (progress in the test's own
/// format, an end as `WHAT OUTCOME ELAPSED_SECONDS`), drops everything else and confirms
/// every question.
#[cfg(test)]
pub(crate) struct WaitLog {
    progress: fn(&crate::ui::WaitProgress) -> String,
    lines: Mutex<Vec<String>>,
}

#[cfg(test)]
impl WaitLog {
    /// A log that writes a wait's progress with `progress`.
    pub(crate) fn new(progress: fn(&crate::ui::WaitProgress) -> String) -> Self {
        WaitLog {
            progress,
            lines: Mutex::new(Vec::new()),
        }
    }

    /// The lines recorded so far.
    pub(crate) fn lines(&self) -> Vec<String> {
        self.lines
            .lock()
            .map(|v| v.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    fn push(&self, line: String) {
        self.lines
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(line);
    }
}

#[cfg(test)]
impl crate::ui::Ui for WaitLog {
    fn step(&self, _: &str, _: &str) {}
    fn info(&self, _: &str) {}
    fn warn(&self, _: &str) {}
    fn confirm(&self, _: &str) -> Result<bool, Error> {
        Ok(true)
    }
    fn waiting(&self, p: &crate::ui::WaitProgress) {
        self.push((self.progress)(p));
    }
    fn wait_done(&self, d: &crate::ui::WaitDone) {
        self.push(format!(
            "{} {} {}",
            d.what,
            d.outcome.as_str(),
            d.elapsed.as_secs()
        ));
    }
}
