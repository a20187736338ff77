//! Polling on the run's clock, with progress and a deadline.

use std::time::Duration;

use hascript_api::{Error, ErrorKind, Result, Waiter};

use crate::facts::Inner;

/// How a wait ended without its condition.
pub(crate) enum WaitEnd<T> {
    /// The condition held; its value.
    Done(T),
    /// The deadline passed; the last observation.
    Deadline(Option<T>),
}

impl Inner {
    /// Poll `probe` every `interval` until it returns `(true, v)` or `timeout` passes;
    /// `seen` says in a few words what a poll saw, for the progress line. Every wait runs
    /// on the injected clock (virtual on the simulator) and stops at once when the run is
    /// cancelled.
    pub(crate) fn poll<T>(
        &self,
        what: &str,
        timeout: Duration,
        interval: Duration,
        probe: impl FnMut() -> Result<(bool, T)>,
        seen: impl Fn(&T) -> String,
    ) -> Result<WaitEnd<T>> {
        self.poll_expecting(what, None, timeout, interval, probe, seen)
    }

    /// [`Inner::poll`] for a wait whose usual duration the manual gives (`expected`: the
    /// duration and the section saying so), shown beside the elapsed time.
    pub(crate) fn poll_expecting<T>(
        &self,
        what: &str,
        expected: Option<(Duration, &str)>,
        timeout: Duration,
        interval: Duration,
        mut probe: impl FnMut() -> Result<(bool, T)>,
        seen: impl Fn(&T) -> String,
    ) -> Result<WaitEnd<T>> {
        // Dropped on an error or a cancellation: the UI closes the wait as stopped.
        let mut wait = Waiter::start(&*self.ctx.ui, &*self.ctx.clock, what, timeout)
            .expect(expected.map(|e| e.0), expected.map(|e| e.1));
        loop {
            let (done, v) = probe()?;
            if done {
                wait.reached();
                return Ok(WaitEnd::Done(v));
            }
            let remaining = wait.remaining();
            if remaining.is_zero() {
                wait.not_reached(Some(seen(&v)));
                return Ok(WaitEnd::Deadline(Some(v)));
            }
            wait.progress(Some(seen(&v)));
            self.ctx.sleep(interval.min(remaining))?;
        }
    }
}

/// A `Timeout` error for a wait that never saw its condition.
pub(crate) fn timed_out(what: &str, timeout: Duration, last: &str) -> Error {
    Error::new(
        ErrorKind::Timeout,
        format!(
            "gave up waiting for {what} after {} s (last seen: {last})",
            timeout.as_secs()
        ),
    )
}
