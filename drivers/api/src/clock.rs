//! Time and cancellation. Every wait in hascript goes through a [`Clock`] and checks a
//! [`CancelToken`], so the simulator can run 600-second waits in microseconds and Ctrl-C
//! interrupts a wait at once.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, ErrorKind, Signal};

/// A source of time that can also sleep. `now()` is the time since the Unix epoch, so a
/// virtual clock can stamp simulated log lines with plausible dates.
pub trait Clock: Send + Sync {
    /// Current time since the Unix epoch.
    fn now(&self) -> Duration;
    /// Sleep for `d`, returning early with a `Cancelled` error when `cancel` fires.
    fn sleep(&self, d: Duration, cancel: &CancelToken) -> Result<(), Error>;
}

/// The wall clock. Sleeping waits on the cancel token's condition variable, never on
/// `thread::sleep`, so a cancellation wakes it immediately.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
    }

    fn sleep(&self, d: Duration, cancel: &CancelToken) -> Result<(), Error> {
        if cancel.wait_timeout(d) {
            Err(Error::cancelled())
        } else {
            Ok(())
        }
    }
}

#[derive(Debug, Default)]
struct CancelState {
    cancelled: Mutex<bool>,
    wake: Condvar,
    /// The signal that fired the token first (kept across [`CancelToken::rearm`]: it
    /// decides the run's exit code after the recovery routines ran).
    signal: Mutex<Option<Signal>>,
}

/// A shared flag set once by Ctrl-C (or a test) and observed by every wait and by the
/// script engine's progress hook. Cloning shares the same flag.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<CancelState>);

impl CancelToken {
    /// A new token that has not fired.
    pub fn new() -> Self {
        Self::default()
    }

    /// Fire the token and wake every waiter.
    pub fn cancel(&self) {
        let mut flag = match self.0.cancelled.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        *flag = true;
        self.0.wake.notify_all();
    }

    /// Fire the token because of `signal`. The first signal is remembered (a later one
    /// does not replace it): the run that stops exits with its code (130, 143, 129).
    pub fn cancel_by(&self, signal: Signal) {
        {
            let mut by = match self.0.signal.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            by.get_or_insert(signal);
        }
        self.cancel();
    }

    /// The signal that fired the token first, if a signal did (`None` also after a plain
    /// [`CancelToken::cancel`]).
    pub fn signal(&self) -> Option<Signal> {
        match self.0.signal.lock() {
            Ok(g) => *g,
            Err(p) => *p.into_inner(),
        }
    }

    /// Clear the token after an interruption was handled, so that the run's recovery
    /// routines can still send commands and wait (the first Ctrl-C stops the procedure and
    /// runs them; a second one stops the process at once).
    pub fn rearm(&self) {
        let mut flag = match self.0.cancelled.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        *flag = false;
    }

    /// Clear the token **and** the signal that fired it, for a token that outlives one call:
    /// the REPL's simulated site keeps its context (and the objects scripts hold) across
    /// inputs, so an input stopped by Ctrl-C must not leave the next one cancelled, nor a
    /// later SIGTERM read as a second signal.
    pub fn reset(&self) {
        {
            let mut by = match self.0.signal.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            *by = None;
        }
        self.rearm();
    }

    /// Whether the token has fired.
    pub fn is_cancelled(&self) -> bool {
        match self.0.cancelled.lock() {
            Ok(g) => *g,
            Err(p) => *p.into_inner(),
        }
    }

    /// Fail with a `Cancelled` error if the token has fired.
    pub fn check(&self) -> Result<(), Error> {
        if self.is_cancelled() {
            Err(Error::cancelled())
        } else {
            Ok(())
        }
    }

    /// Block for up to `d` of real time; returns true when the token fired.
    pub fn wait_timeout(&self, d: Duration) -> bool {
        let guard = match self.0.cancelled.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let res = self.0.wake.wait_timeout_while(guard, d, |c| !*c);
        match res {
            Ok((g, _)) => *g,
            Err(p) => *p.into_inner().0,
        }
    }
}

impl Error {
    /// The error a wait returns when the run was interrupted.
    pub fn cancelled() -> Self {
        Error::new(ErrorKind::Cancelled, "interrupted")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancel_wakes_a_sleeping_system_clock() {
        let token = CancelToken::new();
        let t2 = token.clone();
        let h = std::thread::spawn(move || SystemClock.sleep(Duration::from_secs(30), &t2));
        std::thread::sleep(Duration::from_millis(20));
        token.cancel();
        let r = h
            .join()
            .map_err(|_| "join")
            .and_then(|r| r.map_err(|_| "cancelled"));
        assert_eq!(r, Err("cancelled"));
        assert!(token.is_cancelled());
    }

    #[test]
    fn the_first_signal_is_kept_across_rearm() {
        let token = CancelToken::new();
        assert_eq!(token.signal(), None);
        token.cancel_by(Signal::Hangup);
        assert!(token.is_cancelled());
        token.rearm();
        token.cancel_by(Signal::Terminate);
        assert_eq!(token.signal(), Some(Signal::Hangup));
        // Clones share it.
        assert_eq!(token.clone().signal(), Some(Signal::Hangup));
    }

    #[test]
    fn reset_clears_the_token_and_its_signal() {
        let token = CancelToken::new();
        token.cancel_by(Signal::Interrupt);
        token.reset();
        assert!(!token.is_cancelled());
        assert_eq!(token.signal(), None);
        token.cancel_by(Signal::Terminate);
        assert_eq!(token.clone().signal(), Some(Signal::Terminate));
    }

    #[test]
    fn uncancelled_sleep_returns_ok() {
        let token = CancelToken::new();
        assert!(SystemClock.sleep(Duration::from_millis(1), &token).is_ok());
        assert!(token.check().is_ok());
    }
}
