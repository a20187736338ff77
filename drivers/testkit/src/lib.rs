//! # hascript-testkit
//!
//! What the driver crates' and hascript's own tests share, whatever the driver: a UI that
//! records what a run told the operator ([`Recorder`]), the virtual clock
//! ([`ManualClock`]), and a transport that records every command in order together with
//! the recovery routines' registrations and settlements, and can inject a fault into one
//! command ([`Tracer`], [`Fault`], built by [`traced_context`]). It depends
//! only on `hascript-api`; each driver's tests build their site over it (topologies and
//! site builders stay in the driver's `tests/support`).
//!
//! Test support only (`publish = false`): a poisoned lock is ignored rather than reported,
//! since a test that panicked while holding one has already failed.

#![warn(missing_docs)]

pub mod fixtures;

/// The virtual clock every crate's tests share (it lives in hascript-api, whose own unit
/// tests need it too).
pub use hascript_api::testing::ManualClock;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hascript_api::objects::{Context, RecoveryEntry, RecoveryLog, RecoveryOutcome, Value};
use hascript_api::{
    CancelToken, Clock, Command, Effect, Error, ErrorKind, Exec, Output, Ui, WaitDone, WaitProgress,
};

// ----- recording UI ------------------------------------------------------------------------

/// One thing a [`Recorder`] was shown, as the UI was called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UiEvent {
    /// A step.
    Step(String, String),
    /// Information (also `print`).
    Info(String),
    /// A warning.
    Warn(String),
    /// A question and the answer given.
    Confirm(String, bool),
    /// Wait progress.
    Waiting(WaitProgress),
    /// The end of a wait.
    WaitDone(WaitDone),
    /// Exposure.
    Exposure(String, Duration),
}

/// A UI that records what it was told, both as one line each ([`Recorder::lines`]) and as
/// typed events ([`Recorder::events`]), and answers confirmations as configured.
#[derive(Default)]
pub struct Recorder {
    /// What the run showed, in order: `==> [SECTION] TITLE`, information as is,
    /// `warning: …`, `? QUESTION`, `waiting WHAT (N s left)`, `wait WHAT OUTCOME after N s`,
    /// `exposure: WHAT for N s`.
    pub lines: Mutex<Vec<String>>,
    /// What the run showed, typed; a question appears only once answered.
    pub events: Mutex<Vec<UiEvent>>,
    /// The answer to every confirmation; `None` answers like a run without a terminal
    /// (an error of kind `Declined`).
    pub answer: Option<bool>,
    /// Fired at the first wait, like an operator's Ctrl-C.
    pub cancel_at_wait: Option<CancelToken>,
}

impl Recorder {
    /// A recorder that answers confirmations with `answer`.
    pub fn new(answer: Option<bool>) -> Self {
        Recorder {
            answer,
            ..Recorder::default()
        }
    }

    /// Record one line.
    pub fn push(&self, s: String) {
        if let Ok(mut l) = self.lines.lock() {
            l.push(s);
        }
    }

    fn event(&self, e: UiEvent) {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(e);
    }

    /// Everything recorded so far, one line each.
    pub fn text(&self) -> String {
        self.lines.lock().map(|l| l.join("\n")).unwrap_or_default()
    }

    /// Everything shown so far, typed.
    pub fn events(&self) -> Vec<UiEvent> {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Ui for Recorder {
    fn step(&self, section: &str, title: &str) {
        self.push(format!("==> [{section}] {title}"));
        self.event(UiEvent::Step(section.into(), title.into()));
    }
    fn info(&self, m: &str) {
        self.push(m.to_string());
        self.event(UiEvent::Info(m.into()));
    }
    fn warn(&self, m: &str) {
        self.push(format!("warning: {m}"));
        self.event(UiEvent::Warn(m.into()));
    }
    fn confirm(&self, q: &str) -> Result<bool, Error> {
        self.push(format!("? {q}"));
        match self.answer {
            Some(a) => {
                self.event(UiEvent::Confirm(q.into(), a));
                Ok(a)
            }
            None => Err(Error::new(
                ErrorKind::Declined,
                format!("confirmation needed but no terminal; re-run with --yes to accept: {q}"),
            )),
        }
    }
    fn waiting(&self, p: &WaitProgress) {
        self.push(format!(
            "waiting {} ({} s left)",
            p.what,
            p.remaining.as_secs()
        ));
        self.event(UiEvent::Waiting(p.clone()));
        if let Some(t) = &self.cancel_at_wait {
            t.cancel();
        }
    }
    fn wait_done(&self, d: &WaitDone) {
        self.push(format!(
            "wait {} {} after {} s",
            d.what,
            d.outcome.as_str(),
            d.elapsed.as_secs()
        ));
        self.event(UiEvent::WaitDone(d.clone()));
    }
    fn exposure(&self, what: &str, d: Duration) {
        self.push(format!("exposure: {what} for {} s", d.as_secs()));
        self.event(UiEvent::Exposure(what.into(), d));
    }
}

// ----- reading results ---------------------------------------------------------------------

/// `(host, allowed)` of each row of `hypervisor.placement`, whatever the driver.
pub fn placement_verdicts(v: &Value) -> Vec<(String, bool)> {
    v.as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| {
                    (
                        r["host"].as_str().unwrap_or_default().to_string(),
                        r["allowed"].as_bool().unwrap_or(false),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

// ----- tracing, with faults ----------------------------------------------------------------

/// What a fault does to the command it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The command never reaches the host (a session that died before it).
    Refuse,
    /// The command reaches the host and takes effect, but its answer is lost.
    LoseAnswer,
    /// The command runs; then the operator presses Ctrl-C.
    InterruptAfter,
}

/// A transport over another one (the simulator) that records, in one ordered list, every
/// command sent (`change host: line` / `read host: line`, without the locale prefix; a
/// refused one as `refused host: line`) and, when built by [`traced_context`], every
/// routine registered (`registered #ID ROUTINE`) or settled (`settled #ID OUTCOME by
/// WHO`); it can inject one fault into the first command that matches.
pub struct Tracer {
    inner: Arc<dyn Exec>,
    cancel: CancelToken,
    events: Arc<Mutex<Vec<String>>>,
    fault: Mutex<Option<(String, Fault)>>,
}

impl Tracer {
    /// A tracer over `inner`; [`Fault::InterruptAfter`] fires `cancel`.
    pub fn new(inner: Arc<dyn Exec>, cancel: CancelToken) -> Self {
        Tracer {
            inner,
            cancel,
            events: Arc::new(Mutex::new(Vec::new())),
            fault: Mutex::new(None),
        }
    }

    /// Inject `fault` into the next command whose `host: line` contains `pattern`.
    pub fn fault(&self, pattern: &str, fault: Fault) {
        if let Ok(mut f) = self.fault.lock() {
            *f = Some((pattern.to_string(), fault));
        }
    }

    /// Everything recorded so far.
    pub fn events(&self) -> Vec<String> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }

    /// Forget what was recorded (after a test's setup).
    pub fn clear(&self) {
        if let Ok(mut e) = self.events.lock() {
            e.clear();
        }
    }

    /// The change commands recorded, as `host: line`.
    pub fn changes(&self) -> Vec<String> {
        self.events()
            .into_iter()
            .filter_map(|e| e.strip_prefix("change ").map(str::to_string))
            .collect()
    }

    /// Position of the first event containing `needle`.
    pub fn position(&self, needle: &str) -> Option<usize> {
        self.events().iter().position(|e| e.contains(needle))
    }

    fn push(&self, s: String) {
        if let Ok(mut e) = self.events.lock() {
            e.push(s);
        }
    }
}

impl Exec for Tracer {
    fn exec(&self, cmd: &Command) -> Result<Output, Error> {
        let shown = format!(
            "{}: {}",
            cmd.host,
            cmd.line().trim_start_matches("LC_ALL=C ")
        );
        let fault = {
            let mut f = self.fault.lock().map_err(|_| Error::check("poisoned"))?;
            match f.as_ref() {
                Some((p, how)) if shown.contains(p.as_str()) => {
                    let how = *how;
                    *f = None;
                    Some(how)
                }
                _ => None,
            }
        };
        if fault == Some(Fault::Refuse) {
            self.push(format!("refused {shown}"));
            return Err(Error::new(ErrorKind::Transport, "connection lost").on_host(&cmd.host));
        }
        let kind = if cmd.effect == Effect::Change {
            "change"
        } else {
            "read"
        };
        self.push(format!("{kind} {shown}"));
        let out = self.inner.exec(cmd)?;
        match fault {
            Some(Fault::LoseAnswer) => Err(Error::new(
                ErrorKind::Timeout,
                "did not finish within 600 s and was killed",
            )
            .on_host(&cmd.host)),
            Some(Fault::InterruptAfter) => {
                self.cancel.cancel();
                Ok(out)
            }
            _ => Ok(out),
        }
    }
}

/// Records the run's routines into a tracer's list: `registered #ID ROUTINE` (the
/// procedure's name for a procedure routine, `script` for a routine without a description) and `settled #ID OUTCOME by WHO`.
struct TraceLog(Arc<Mutex<Vec<String>>>);

impl RecoveryLog for TraceLog {
    fn registered(&self, e: &RecoveryEntry) -> Result<(), Error> {
        // A driver routine by its name, a procedure routine by its procedure's.
        let name = e
            .routine
            .as_ref()
            .and_then(|r| r.get("routine").or_else(|| r.get("procedure")))
            .and_then(|r| r.as_str())
            .unwrap_or("script");
        if let Ok(mut l) = self.0.lock() {
            l.push(format!("registered #{} {name}", e.id));
        }
        Ok(())
    }
    fn settled(&self, id: u64, outcome: RecoveryOutcome, by: &str, _detail: Option<&str>) {
        if let Ok(mut l) = self.0.lock() {
            l.push(format!("settled #{id} {} by {by}", outcome.name()));
        }
    }
}

/// A run context whose commands go through a [`Tracer`] over `exec`, with `clock` and `ui`
/// and a cancellation token of its own (fired by [`Fault::InterruptAfter`]); its recovery
/// routines are recorded in the tracer's list, in order with the commands.
pub fn traced_context(
    exec: Arc<dyn Exec>,
    clock: Arc<dyn Clock>,
    ui: Arc<dyn Ui>,
) -> (Context, Arc<Tracer>) {
    let cancel = CancelToken::new();
    let tracer = Arc::new(Tracer::new(exec, cancel.clone()));
    let ctx = Context::new(tracer.clone(), clock, cancel, ui);
    ctx.recoveries
        .set_log(Arc::new(TraceLog(tracer.events.clone())));
    (ctx, tracer)
}

// ----- resuming ----------------------------------------------------------------------------

/// What a resumed run does first: every routine the run of `dead` left pending becomes an
/// inherited routine of `resumed` (as `hascript resume` reads them from a dead run's
/// journal). Returns the inherited entries, or the error `inherit` gave.
pub fn inherit_pending(dead: &Context, resumed: &Context) -> Result<Vec<RecoveryEntry>, Error> {
    let routines: Vec<_> = dead
        .recoveries
        .pending()
        .into_iter()
        .map(|e| (e.what, e.routine))
        .collect();
    resumed.recoveries.inherit(&routines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hascript_api::SystemClock;
    use serde_json::json;

    #[test]
    fn recording_ui_declines_without_answer() {
        let ui = Recorder::new(None);
        assert_eq!(
            ui.confirm("go?").err().map(|e| e.kind),
            Some(ErrorKind::Declined)
        );
        let ui = Recorder::new(Some(true));
        assert_eq!(ui.confirm("go?").ok(), Some(true));
        assert_eq!(ui.events(), vec![UiEvent::Confirm("go?".into(), true)]);
    }

    /// The far side of a tracer: answers every command with exit 0 and counts what reached it.
    #[derive(Default)]
    struct Host(Mutex<Vec<String>>);

    impl Exec for Host {
        fn exec(&self, cmd: &Command) -> Result<Output, Error> {
            if let Ok(mut l) = self.0.lock() {
                l.push(cmd.line());
            }
            Ok(Output::new(0, "done", ""))
        }
    }

    impl Host {
        fn received(&self) -> usize {
            self.0.lock().map(|l| l.len()).unwrap_or_default()
        }
    }

    /// `rm /tmp/x` on `host` through the context's transport (a change).
    fn rm(ctx: &Context, host: &str) -> Result<Output, Error> {
        ctx.exec
            .exec(&Command::change(host, &["/bin/rm", "/tmp/x"]))
    }

    fn traced() -> (Context, Arc<Tracer>, Arc<Host>) {
        let host = Arc::new(Host::default());
        let (ctx, t) = traced_context(
            host.clone(),
            Arc::new(SystemClock),
            Arc::new(Recorder::default()),
        );
        (ctx, t, host)
    }

    #[test]
    fn the_tracer_records_reads_and_changes_in_order_without_the_locale() {
        let (ctx, t, host) = traced();
        ctx.exec
            .exec(&Command::read("h1", &["/bin/cat", "/etc/hosts"]))
            .expect("read");
        rm(&ctx, "h2").expect("change");
        assert_eq!(
            t.events(),
            ["read h1: /bin/cat /etc/hosts", "change h2: /bin/rm /tmp/x"]
        );
        assert_eq!(t.changes(), ["h2: /bin/rm /tmp/x"]);
        assert_eq!(t.position("h2:"), Some(1));
        assert_eq!(t.position("h3:"), None);
        assert_eq!(host.received(), 2);
        t.clear();
        assert!(t.events().is_empty());
    }

    #[test]
    fn a_refused_command_never_reaches_the_host_and_the_fault_fires_once() {
        let (ctx, t, host) = traced();
        t.fault("rm", Fault::Refuse);
        let e = rm(&ctx, "h1").expect_err("refused");
        assert_eq!(e.kind, ErrorKind::Transport, "{e}");
        assert_eq!(host.received(), 0);
        assert_eq!(t.events(), ["refused h1: /bin/rm /tmp/x"]);
        assert!(t.changes().is_empty());
        rm(&ctx, "h1").expect("the second one goes through");
        assert_eq!(host.received(), 1);
    }

    #[test]
    fn a_lost_answer_reaches_the_host_and_times_out() {
        let (ctx, t, host) = traced();
        t.fault("h1: /bin/rm", Fault::LoseAnswer);
        // Not matching: the pattern is on `host: line`.
        rm(&ctx, "h2").expect("other host");
        let e = rm(&ctx, "h1").expect_err("answer lost");
        assert_eq!(e.kind, ErrorKind::Timeout, "{e}");
        assert_eq!(host.received(), 2);
        assert_eq!(t.changes(), ["h2: /bin/rm /tmp/x", "h1: /bin/rm /tmp/x"]);
        assert!(!ctx.cancel.is_cancelled());
    }

    #[test]
    fn interrupt_after_runs_the_command_then_cancels_the_run() {
        let (ctx, t, host) = traced();
        t.fault("rm", Fault::InterruptAfter);
        let out = rm(&ctx, "h1").expect("ran");
        assert_eq!(out.stdout, "done");
        assert_eq!(host.received(), 1);
        assert!(ctx.cancel.is_cancelled());
    }

    #[test]
    fn routines_are_traced_in_order_with_the_commands() {
        let (ctx, t, _host) = traced();
        let g = ctx
            .register_recovery("undo x", json!({"driver": "d", "routine": "undo_x"}))
            .expect("registered");
        rm(&ctx, "h1").expect("change");
        g.done();
        assert_eq!(
            t.events(),
            [
                "registered #1 undo_x",
                "change h1: /bin/rm /tmp/x",
                "settled #1 not_needed by driver"
            ]
        );
    }

    #[test]
    fn a_resumed_context_inherits_what_the_dead_one_left_pending() {
        let (dead, _t, _host) = traced();
        let routine = json!({"driver": "d", "routine": "undo_x"});
        let _left = dead
            .register_recovery("undo x", routine.clone())
            .expect("registered");
        let settled = dead
            .register_recovery("undo y", json!({"driver": "d", "routine": "undo_y"}))
            .expect("registered");
        settled.done();
        let (resumed, _t2, _host2) = traced();
        let got = inherit_pending(&dead, &resumed).expect("inherited");
        assert_eq!(got.len(), 1, "{got:?}");
        let pending = resumed.recoveries.pending();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].what, "undo x");
        assert_eq!(pending[0].routine, Some(routine));
        assert!(pending[0].inherited);
    }

    #[test]
    fn the_recorder_records_answers_and_fires_its_cancel_at_the_first_wait() {
        let token = CancelToken::new();
        let ui = Recorder {
            answer: Some(true),
            cancel_at_wait: Some(token.clone()),
            ..Default::default()
        };
        ui.step("A0", "preflight");
        ui.warn("careful");
        assert!(ui.confirm("go on?").expect("answered"));
        assert!(!token.is_cancelled());
        ui.waiting(&WaitProgress {
            what: "x DOWN".into(),
            elapsed: Duration::ZERO,
            remaining: Duration::from_secs(30),
            ..Default::default()
        });
        assert!(token.is_cancelled());
        ui.exposure("fencing off", Duration::from_secs(12));
        assert_eq!(
            ui.text(),
            "==> [A0] preflight\nwarning: careful\n? go on?\nwaiting x DOWN (30 s left)\nexposure: fencing off for 12 s"
        );
        let e = Recorder::default()
            .confirm("go on?")
            .expect_err("nobody to answer");
        assert_eq!(e.kind, ErrorKind::Declined);
    }
}
