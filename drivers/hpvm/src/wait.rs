//! Polling on the run's clock, with progress and a deadline.

use std::time::Duration;

use hascript_api::{Result, Waiter};

use crate::facts::Inner;

/// How a wait ended.
pub(crate) enum WaitEnd<T> {
    /// The condition held; its value.
    Done(T),
    /// The deadline passed; the last observation.
    Deadline(T),
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
        mut probe: impl FnMut() -> Result<(bool, T)>,
        seen: impl Fn(&T) -> String,
    ) -> Result<WaitEnd<T>> {
        // Dropped on an error or a cancellation: the UI closes the wait as stopped.
        let mut wait = Waiter::start(&*self.ctx.ui, &*self.ctx.clock, what, timeout);
        loop {
            let (done, v) = probe()?;
            if done {
                wait.reached();
                return Ok(WaitEnd::Done(v));
            }
            let remaining = wait.remaining();
            if remaining.is_zero() {
                wait.not_reached(Some(seen(&v)));
                return Ok(WaitEnd::Deadline(v));
            }
            wait.progress(Some(seen(&v)));
            self.ctx.sleep(interval.min(remaining))?;
        }
    }
}
