//! The journaling wrappers around the run's transport and the operator's UI.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hascript_api::objects::Value;
use hascript_api::{
    Clock, Command, Effect, Error, Exec, Output, Ui, WaitDone, WaitOutcome, WaitProgress,
};

use super::event::{Event, Purpose};
use super::recorder::Recorder;

/// What must hold before a change reaches a host: the run's host locks (`lock::Locks`).
/// The journal only asks; how a host is locked is not its business.
pub trait ChangeGate: Send + Sync {
    /// Before a change to `host` (`changed`: whether the run already changed something,
    /// which decides how a refusal is reported).
    fn ensure(&self, host: &str, changed: bool) -> Result<(), Error>;
    /// Before changes to all of `hosts`, all at once.
    fn ensure_all(&self, hosts: &[String], changed: bool) -> Result<(), Error>;
}

/// The run's transport: journals every command and takes the host lock before the first
/// change to a host. Wraps the router; drivers see an ordinary [`Exec`].
pub struct JournalingExec {
    inner: Arc<dyn Exec>,
    rec: Arc<Recorder>,
    locks: Option<Arc<dyn ChangeGate>>,
}

impl JournalingExec {
    /// Journal the commands sent on `inner` in `rec`; with `locks`, lock each host before
    /// its first change.
    pub fn new(
        inner: Arc<dyn Exec>,
        rec: Arc<Recorder>,
        locks: Option<Arc<dyn ChangeGate>>,
    ) -> Self {
        JournalingExec { inner, rec, locks }
    }
}

impl Exec for JournalingExec {
    fn exec(&self, cmd: &Command) -> Result<Output, Error> {
        if cmd.effect == Effect::Change {
            if let Some(l) = &self.locks {
                l.ensure(&cmd.host, self.rec.changes() > 0)?;
            }
        }
        self.rec.exec(self.inner.as_ref(), cmd, Purpose::Procedure)
    }

    fn involve(&self, hosts: &[String]) -> Result<(), Error> {
        if let Some(l) = &self.locks {
            // All at once: one host's lock never waits for another host's network.
            l.ensure_all(hosts, self.rec.changes() > 0)?;
        }
        self.inner.involve(hosts)
    }
}

#[derive(Default)]
struct WaitSeen {
    /// What, when it started on the run's clock, and the elapsed time last journaled.
    current: Option<(String, Duration, Duration)>,
}

/// The operator's UI with everything it is shown journaled (and forwarded to `inner`).
pub struct JournalingUi {
    inner: Arc<dyn Ui>,
    rec: Arc<Recorder>,
    clock: Arc<dyn Clock>,
    wait: Mutex<WaitSeen>,
}

impl JournalingUi {
    /// Journal what `inner` is shown in `rec`; `clock` times waits (the run's clock).
    pub fn new(inner: Arc<dyn Ui>, rec: Arc<Recorder>, clock: Arc<dyn Clock>) -> Self {
        JournalingUi {
            inner,
            rec,
            clock,
            wait: Mutex::new(WaitSeen::default()),
        }
    }

    /// Close an open wait (something else happened): a `wait_end` line.
    fn settle(&self) {
        let cur = self
            .wait
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .current
            .take();
        if let Some((what, start, _)) = cur {
            let elapsed = self.clock.now().saturating_sub(start);
            self.rec.note(&Event::WaitEnd {
                what,
                elapsed_s: elapsed.as_secs(),
                outcome: None,
                last_seen: None,
            });
        }
    }
}

impl Ui for JournalingUi {
    fn step(&self, section: &str, title: &str) {
        self.settle();
        self.rec.step(section, title);
        self.inner.step(section, title);
    }

    fn info(&self, message: &str) {
        self.settle();
        self.rec.note(&Event::Info {
            message: message.into(),
        });
        self.inner.info(message);
    }

    fn check(&self, check: &str, ok: bool, detail: &str, remedy: Option<&str>) {
        self.settle();
        self.rec.note(&Event::Check {
            check: check.into(),
            ok,
            detail: detail.into(),
            remedy: remedy.filter(|_| !ok).map(str::to_string),
        });
        self.inner.check(check, ok, detail, remedy);
    }

    fn summary(&self, subject: &str, state: &Value, text: &str) {
        self.settle();
        self.rec.note(&Event::Summary {
            subject: subject.into(),
            state: state.clone(),
        });
        self.inner.summary(subject, state, text);
    }

    fn warn(&self, message: &str) {
        self.settle();
        self.rec.note(&Event::Warn {
            message: message.into(),
        });
        self.inner.warn(message);
    }

    fn confirm(&self, question: &str) -> Result<bool, Error> {
        self.settle();
        let r = self.inner.confirm(question);
        let (answer, error) = match &r {
            Ok(a) => (Some(*a), None),
            Err(e) => (None, Some(e.message.clone())),
        };
        self.rec.note(&Event::Confirm {
            question: question.into(),
            answer,
            error,
        });
        r
    }

    fn waiting(&self, p: &WaitProgress) {
        let record = {
            let mut w = self.wait.lock().unwrap_or_else(|p| p.into_inner());
            match &mut w.current {
                Some((what, _, last)) if *what == p.what => {
                    if p.elapsed >= *last + crate::text::PIPE_PROGRESS_EVERY {
                        *last = p.elapsed;
                        true
                    } else {
                        false
                    }
                }
                _ => {
                    let start = self.clock.now().saturating_sub(p.elapsed);
                    let previous = w.current.replace((p.what.clone(), start, p.elapsed));
                    drop(w);
                    if let Some((what, start, _)) = previous {
                        self.rec.note(&Event::WaitEnd {
                            what,
                            elapsed_s: self.clock.now().saturating_sub(start).as_secs(),
                            outcome: None,
                            last_seen: None,
                        });
                    }
                    true
                }
            }
        };
        if record {
            self.rec.note(&Event::Wait {
                what: p.what.clone(),
                elapsed_s: p.elapsed.as_secs(),
                remaining_s: p.remaining.as_secs(),
                last_seen: p.last_seen.clone(),
                expected_s: p.expected.map(|d| d.as_secs()),
                expected_from: p.expected_from.clone(),
            });
        }
        self.inner.waiting(p);
    }

    fn wait_done(&self, d: &WaitDone) {
        let open = {
            let mut w = self.wait.lock().unwrap_or_else(|p| p.into_inner());
            match &w.current {
                Some((what, _, _)) if *what == d.what => w.current.take().is_some(),
                _ => false,
            }
        };
        // A wait something else already closed has its `wait_end` line.
        if open {
            self.rec.note(&Event::WaitEnd {
                what: d.what.clone(),
                elapsed_s: d.elapsed.as_secs(),
                outcome: Some(d.outcome.as_str().to_string()),
                last_seen: match d.outcome {
                    WaitOutcome::Reached => None,
                    _ => d.last_seen.clone(),
                },
            });
        }
        self.inner.wait_done(d);
    }

    fn result(&self, text: &str) {
        self.settle();
        self.rec.note(&Event::Info {
            message: text.into(),
        });
        self.inner.result(text);
    }

    fn log_mark(&self, host: &str, file: &str, size: u64) {
        self.rec.note(&Event::LogMark {
            host: host.into(),
            file: file.into(),
            size,
        });
        self.inner.log_mark(host, file, size);
    }

    fn exposure(&self, what: &str, for_how_long: Duration) {
        self.settle();
        self.rec.note(&Event::Exposure {
            what: what.into(),
            seconds: for_how_long.as_secs(),
        });
        self.inner.exposure(what, for_how_long);
    }
}
