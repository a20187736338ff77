//! Polling on the run's clock, with progress and a deadline: the one loop every driver's
//! waits use ([`Context::poll`]).

use std::time::Duration;

use crate::error::Result;
use crate::objects::Context;
use crate::ui::Waiter;

/// How a [`Context::poll`] ended (an error or a cancellation is the `Err` beside it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitEnd<T> {
    /// The condition held; its value.
    Done(T),
    /// The deadline passed; the last observation.
    Deadline(T),
}

impl Context {
    /// Poll `probe` every `interval` until it returns `(true, v)` or `timeout` passes;
    /// `seen` says in a few words what a poll saw, for the progress line. Every wait runs
    /// on the injected clock (virtual on the simulator) and stops at once when the run is
    /// cancelled.
    pub fn poll<T>(
        &self,
        what: &str,
        timeout: Duration,
        interval: Duration,
        probe: impl FnMut() -> Result<(bool, T)>,
        seen: impl Fn(&T) -> String,
    ) -> Result<WaitEnd<T>> {
        self.poll_expecting(what, None, timeout, interval, probe, seen)
    }

    /// [`Context::poll`] for a wait whose usual duration the manual gives (`expected`: the
    /// duration and the section saying so), shown beside the elapsed time.
    pub fn poll_expecting<T>(
        &self,
        what: &str,
        expected: Option<(Duration, &str)>,
        timeout: Duration,
        interval: Duration,
        mut probe: impl FnMut() -> Result<(bool, T)>,
        seen: impl Fn(&T) -> String,
    ) -> Result<WaitEnd<T>> {
        // Dropped on an error or a cancellation: the UI closes the wait as stopped.
        let mut wait = Waiter::start(&*self.ui, &*self.clock, what, timeout)
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
                return Ok(WaitEnd::Deadline(v));
            }
            wait.progress(Some(seen(&v)));
            self.sleep(interval.min(remaining))?;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::clock::CancelToken;
    use crate::command::{Command, Exec, Output};
    use crate::error::{Error, ErrorKind};
    use crate::testing::{ManualClock, WaitLog};

    struct NoExec;
    impl Exec for NoExec {
        fn exec(&self, _: &Command) -> Result<Output> {
            Err(Error::new(
                ErrorKind::Unsupported,
                "no commands in this test",
            ))
        }
    }

    /// Records progress lines (`what elapsed+remaining last expected`) and ends.
    fn seen() -> WaitLog {
        WaitLog::new(|p| {
            format!(
                "{} {}+{} {} {:?}",
                p.what,
                p.elapsed.as_secs(),
                p.remaining.as_secs(),
                p.last_seen.as_deref().unwrap_or("-"),
                p.expected.map(|e| (e.as_secs(), p.expected_from.clone())),
            )
        })
    }

    fn context() -> (Context, Arc<WaitLog>) {
        let ui = Arc::new(seen());
        let ctx = Context::new(
            Arc::new(NoExec),
            Arc::new(ManualClock::default()),
            CancelToken::new(),
            ui.clone(),
        );
        (ctx, ui)
    }

    fn shown(ui: &WaitLog) -> Vec<String> {
        ui.lines()
    }

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn poll_returns_the_value_that_held_after_progress_on_the_clock() {
        let (ctx, ui) = context();
        let mut n = 0;
        let end = ctx.poll(
            "up",
            S(60),
            S(10),
            || {
                n += 1;
                Ok((n == 3, n))
            },
            |n| format!("poll {n}"),
        );
        assert_eq!(end.ok(), Some(WaitEnd::Done(3)));
        assert_eq!(
            shown(&ui),
            vec![
                "up 0+60 poll 1 None",
                "up 10+50 poll 2 None",
                "up reached 20"
            ]
        );
    }

    #[test]
    fn poll_gives_the_last_observation_at_the_deadline_and_never_sleeps_past_it() {
        let (ctx, ui) = context();
        let end = ctx.poll_expecting(
            "down",
            Some((S(20), "17.3.1.1")),
            S(25),
            S(10),
            || Ok((false, "UP")),
            |s| s.to_string(),
        );
        assert_eq!(end.ok(), Some(WaitEnd::Deadline("UP")));
        assert_eq!(
            ctx.clock.now(),
            S(25),
            "the last sleep is cut to the deadline"
        );
        let expected = Some((20, Some("17.3.1.1".to_string())));
        assert_eq!(
            shown(&ui),
            vec![
                format!("down 0+25 UP {expected:?}"),
                format!("down 10+15 UP {expected:?}"),
                format!("down 20+5 UP {expected:?}"),
                "down not_reached 25".to_string(),
            ]
        );
    }

    #[test]
    fn poll_stops_on_a_probe_error_or_a_cancellation_and_closes_the_wait() {
        let (ctx, ui) = context();
        let mut n = 0;
        let end = ctx.poll(
            "probe fails",
            S(60),
            S(10),
            || {
                n += 1;
                if n == 2 {
                    Err(Error::new(ErrorKind::Command, "cmviewcl failed"))
                } else {
                    Ok((false, n))
                }
            },
            |n| n.to_string(),
        );
        assert_eq!(end.err().map(|e| e.kind), Some(ErrorKind::Command));
        ctx.cancel.cancel();
        let end = ctx.poll("cancelled", S(60), S(10), || Ok((false, 0)), |_| "x".into());
        assert_eq!(end.err().map(|e| e.kind), Some(ErrorKind::Cancelled));
        assert_eq!(
            shown(&ui),
            vec![
                "probe fails 0+60 1 None",
                "probe fails stopped 10",
                "cancelled 0+60 x None",
                "cancelled stopped 0",
            ]
        );
    }
}
