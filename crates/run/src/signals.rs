//! SIGINT, SIGTERM and SIGHUP stop a run the same way: the first one stops the procedure
//! and runs its pending recovery routines, then the run exits 130, 143 or 129 (128 + the
//! signal's number, from [`hascript_api::ErrorKind::exit_code_by`]); a second one (any of
//! the three) stops at once, journaling what is left pending and the `hascript unwind`
//! command that finishes it.
//!
//! Why SIGTERM and SIGHUP too: a scheduler's `timeout`, systemd's stop and a dropped SSH
//! session to the jump host send them, and their default action kills the process in the
//! middle of a change (the CF timeout left at 600 s with the shutdown facility stopped).
//!
//! After SIGHUP the terminal is gone: writing to it fails (EIO), and a pipe's reader may be
//! gone too (EPIPE). Whatever a write of the run meets, it must not die of it while the
//! recovery runs: after the first signal, a standard output or error that can no longer
//! be written is pointed at `/dev/null` ([`guard_outputs`]); the journal keeps everything.

use std::io::Write as _;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hascript_api::objects::{Recoveries, RecoveryOutcome};
use hascript_api::{ErrorKind, Signal};
use tokio::signal::unix::{signal, SignalKind};

use crate::engine::Interrupt;
use crate::journal::Recorder;

/// The run whose routines a second signal reports (and journals as abandoned): set once the
/// run's journal and recovery registry exist, cleared when it ends.
static PENDING: Mutex<Option<(Recoveries, Arc<Recorder>)>> = Mutex::new(None);

/// The number of the first SIGTERM/SIGHUP the process received (0: none yet). The REPL
/// leaves with its code once the call under way has stopped.
static ENDING: AtomicI32 = AtomicI32::new(0);

/// The run a second signal reports on, while this lives (dropped when the run ends,
/// whichever way it returns).
pub struct Pending(());

impl Pending {
    /// Record the run (its recovery registry and journal) a second signal reports on.
    pub fn set(recoveries: Recoveries, journal: Arc<Recorder>) -> Pending {
        *PENDING.lock().unwrap_or_else(|p| p.into_inner()) = Some((recoveries, journal));
        Pending(())
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        *PENDING.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

/// The SIGTERM or SIGHUP that asked the process to end, if one came (the REPL then leaves
/// with its code instead of reading the next line).
pub fn ending() -> Option<Signal> {
    Signal::from_number(ENDING.load(Ordering::SeqCst))
}

/// The exit code of a process stopped by `signal`: 130, 143, 129, from the one table
/// ([`ErrorKind::exit_code_by`]).
pub fn exit_code(signal: Signal) -> i32 {
    ErrorKind::Cancelled.exit_code_by(true, Some(signal))
}

/// Write `text` (and a newline) on standard error, ignoring any failure: the terminal may be
/// gone, and nothing said here is worth dying for. Control characters are shown escaped: a
/// pending routine's description may carry text a host wrote.
pub fn say(text: &str) {
    let text = crate::output::escape_controls(text);
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// Point standard output and standard error at `/dev/null` when they can no longer be
/// written: a hung-up terminal (EIO) or a pipe whose reader is gone (EPIPE). A terminal or
/// file that still works is kept, so whoever still watches still sees the recovery.
pub fn guard_outputs() {
    for fd in [libc::STDOUT_FILENO, libc::STDERR_FILENO] {
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLOUT,
            revents: 0,
        };
        // SAFETY: one valid pollfd, no wait.
        let n = unsafe { libc::poll(&mut p, 1, 0) };
        if n < 0 {
            continue;
        }
        if p.revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) == 0 {
            continue;
        }
        // SAFETY: a NUL-terminated path; the descriptor is closed after dup2.
        unsafe {
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
            if null >= 0 {
                libc::dup2(null, fd);
                libc::close(null);
            }
        }
    }
}

/// The three signals, registered: from the moment [`listen`] returns they no longer kill
/// the process.
struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

/// Register the three signals, with the runtime that delivers them. Registering happens
/// here, in the caller's thread, so that a signal arriving right after is caught.
fn listen() -> Option<(tokio::runtime::Runtime, Signals)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    let signals = {
        let _entered = rt.enter();
        Signals {
            int: signal(SignalKind::interrupt()).ok()?,
            term: signal(SignalKind::terminate()).ok()?,
            hup: signal(SignalKind::hangup()).ok()?,
        }
    };
    Some((rt, signals))
}

impl Signals {
    /// The next signal; with `guard` (after a first signal), the outputs are checked every
    /// 100 ms while waiting: a pipe's reader may die after the signal came.
    async fn next(&mut self, guard: bool) -> Signal {
        loop {
            tokio::select! {
                Some(()) = self.int.recv() => return Signal::Interrupt,
                Some(()) = self.term.recv() => return Signal::Terminate,
                Some(()) = self.hup.recv() => return Signal::Hangup,
                () = tokio::time::sleep(Duration::from_millis(100)), if guard => guard_outputs(),
            }
        }
    }
}

/// `hascript run` (and `resume`, `unwind`): fire `interrupt` on the first of SIGINT,
/// SIGTERM, SIGHUP; stop at once on the second.
pub fn watch_run(interrupt: Interrupt) {
    let Some((rt, mut signals)) = listen() else {
        say("warning: cannot watch for Ctrl-C, SIGTERM and SIGHUP");
        return;
    };
    let spawned = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            rt.block_on(async move {
                let first = signals.next(false).await;
                guard_outputs();
                if first != Signal::Interrupt {
                    ENDING.store(first.number(), Ordering::SeqCst);
                }
                // The run is already executing its recovery routines (after a failure):
                // stopping means leaving them pending for `hascript unwind`, at once.
                if interrupt.recovering() {
                    stop_now(first, true);
                }
                say(&format!("\n{}", stopping_line(first)));
                interrupt.fire_by(first);
                let second = signals.next(true).await;
                stop_at_once(second);
            });
        });
    if spawned.is_err() {
        say("warning: cannot watch for Ctrl-C, SIGTERM and SIGHUP");
    }
}

/// What the first signal makes the run say.
fn stopping_line(s: Signal) -> String {
    match s {
        Signal::Interrupt => "interrupted: stopping (press Ctrl-C again to exit at once)".into(),
        s => format!(
            "interrupted by {}: stopping and running the pending recovery routines (a second signal stops at once)",
            s.describe()
        ),
    }
}

/// The REPL: SIGINT fires the interrupt of the call under way (at a pipe's idle prompt it
/// leaves with 130), as before. SIGTERM and SIGHUP end the REPL: a call under way (a
/// `:run`) is stopped and its recovery routines run, then the REPL leaves with 143/129 (see
/// [`ending`]); at the prompt it leaves at once. Once a call was stopped by a signal,
/// SIGTERM or SIGHUP (or any signal once the REPL is ending) stops at once.
pub fn watch_repl(running: Arc<Mutex<Option<Interrupt>>>, leave_when_idle: bool) {
    let Some((rt, mut signals)) = listen() else {
        say("warning: cannot watch for Ctrl-C, SIGTERM and SIGHUP");
        return;
    };
    let terminal = TerminalState::save();
    let spawned = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            rt.block_on(async move {
                let mut guard = false;
                loop {
                    let sig = signals.next(guard).await;
                    let current = running.lock().unwrap_or_else(|p| p.into_inner()).clone();
                    let Some(call) = current else {
                        // At the prompt (or between the end of a stopped call and leaving).
                        if sig != Signal::Interrupt || ending().is_some() {
                            guard_outputs();
                            terminal.restore();
                            std::process::exit(exit_code(sig));
                        }
                        if leave_when_idle {
                            terminal.restore();
                            std::process::exit(exit_code(Signal::Interrupt));
                        }
                        continue;
                    };
                    // A second signal: Ctrl-C after Ctrl-C keeps the REPL's meaning (stop
                    // the call again), anything else stops at once.
                    let stopped = call.signal().is_some();
                    if stopped && (sig != Signal::Interrupt || ending().is_some()) {
                        terminal.restore();
                        stop_at_once(sig);
                    }
                    if sig == Signal::Interrupt {
                        say("\ninterrupted: stopping the running call");
                    } else {
                        ENDING.store(sig.number(), Ordering::SeqCst);
                        guard_outputs();
                        guard = true;
                        say(&format!("\n{}", stopping_line(sig)));
                    }
                    call.fire_by(sig);
                }
            });
        });
    if spawned.is_err() {
        say("warning: cannot watch for Ctrl-C, SIGTERM and SIGHUP");
    }
}

/// Stop at once (a second signal): say what is left pending, journal it (the routines as
/// `abandoned`, an error naming them and the `hascript unwind` command, the result), and
/// exit with `second`'s code.
pub fn stop_at_once(second: Signal) -> ! {
    stop_now(second, false)
}

/// [`stop_at_once`]; `recovering`: the signal is the first, and came while the run executed
/// its recovery routines after a failure (they stay pending for `hascript unwind`).
fn stop_now(second: Signal, recovering: bool) -> ! {
    guard_outputs();
    let code = exit_code(second);
    let pending = PENDING.lock().unwrap_or_else(|p| p.into_inner()).clone();
    match pending {
        Some((recoveries, rec)) => {
            let left = recoveries.pending();
            let msg = if left.is_empty() {
                "stopped at once: no recovery routine was pending".to_string()
            } else {
                format!(
                    "stopped at once; left pending (not run):\n{}\nrun `hascript unwind {}` to run them, or do by hand what they do",
                    crate::recovery::pending_lines(&left).join("\n"),
                    rec.id()
                )
            };
            let (head, why) = if recovering {
                (
                    format!(
                        "{} while the recovery routines ran after a failure: stopping at once",
                        second.describe()
                    ),
                    format!(
                        "signal ({}) while the recovery routines ran: stopped at once",
                        second.name()
                    ),
                )
            } else {
                (
                    format!("{} again: stopping at once", second.describe()),
                    format!("second signal ({}): stopped at once", second.name()),
                )
            };
            say(&format!("\n{head}\n{msg}"));
            for e in left {
                recoveries.settle(e.id, RecoveryOutcome::Abandoned, "run", Some(&why));
            }
            rec.seal();
            rec.error("cancelled", &format!("{why}: {msg}"));
            rec.result(code, Some("cancelled"));
        }
        None => say(&format!("\n{} again: stopping at once", second.describe())),
    }
    std::process::exit(code);
}

/// The terminal's settings when the REPL started, put back before leaving from the signal
/// thread (the line editor may have the terminal in raw mode at the prompt).
struct TerminalState(Option<libc::termios>);

impl TerminalState {
    fn save() -> Self {
        // SAFETY: tcgetattr fills the zeroed struct or fails (not a terminal).
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::isatty(libc::STDIN_FILENO) == 1
                && libc::tcgetattr(libc::STDIN_FILENO, &mut t) == 0
            {
                TerminalState(Some(t))
            } else {
                TerminalState(None)
            }
        }
    }

    fn restore(&self) {
        if let Some(t) = &self.0 {
            // SAFETY: settings read from the same descriptor; fails harmlessly when the
            // terminal is gone.
            unsafe {
                libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, t);
            }
        }
    }
}
