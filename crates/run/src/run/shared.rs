//! What a run's scripts share: the site, the journal, the host locks, the interrupt and the
//! secrets. One [`Shared`] per run; nested runs get a clone of it.

use std::collections::BTreeMap;
use std::sync::Arc;

use hascript_api::objects::Context;
use hascript_api::Site;

use crate::engine::{Interrupt, RunEnv};
use crate::journal::Recorder;
use crate::lock::Locks;
use crate::output::ConsoleUi;
use crate::secrets::Secrets;

/// The pieces of a run that every script it runs shares: the top script, and later a
/// procedure or recovery routine started from inside the run (a *nested run*).
///
/// [`super::Run::open`] builds it once per run (site, journal, host locks, interrupt,
/// secrets, the operator's console) and keeps it for the run's life. It is cheap to
/// clone (every field is shared), so it can be handed down to whatever starts a nested
/// run: that code calls [`Shared::env`] with the nested script's own parameters and builds
/// its own engine over the environment it gets (`engine::build_engine(&env)`, then
/// `engine::execute`), so the nested script
///
/// - sends its commands through the same journaling transport and takes the same host
///   locks (one lock per host per run, released once, by the top run, at its end);
/// - records its steps, recovery routines and errors in the same journal;
/// - stops on the same interrupt (Ctrl-C, SIGTERM, SIGHUP fire it once for the whole run);
/// - sees the run's secrets and is hidden by the same redaction;
/// - but has its own `params`, its own `defer` routines and no replay of the top script's
///   steps (the environment is fresh apart from the shared pieces).
///
/// A nested run does not release locks, write the run's `result` line or pick the exit
/// code: those stay with the top [`super::Run`], which turns the outcome it gets back into
/// the process's exit code ([`super::outcome`]).
#[derive(Clone)]
pub struct Shared {
    /// The run's id (its journal's name).
    pub id: String,
    /// The site's driver objects.
    pub site: Arc<dyn Site>,
    /// Transport (journaled, locking), clock, cancel token, UI, recovery registry and the
    /// "changed" record.
    pub ctx: Context,
    /// The run's journal.
    pub journal: Arc<Recorder>,
    /// The host locks (`None`: a dry run, which takes none).
    pub locks: Option<Arc<Locks>>,
    /// Ctrl-C, SIGTERM and SIGHUP: one interrupt for every script of the run.
    pub interrupt: Interrupt,
    /// The secret parameters (`//! secrets:`) of the top script.
    pub secrets: Arc<Secrets>,
    /// The operator's console, where the run's errors are printed.
    pub console: Arc<ConsoleUi>,
}

impl Shared {
    /// A fresh script environment over the shared pieces with `params` as its parameters:
    /// the top script's, or a nested procedure's own. The caller sets what is its alone
    /// (replay, report style) and builds its engine over it.
    pub fn env(&self, params: BTreeMap<String, String>) -> RunEnv {
        let mut env = RunEnv::new(self.site.clone(), self.ctx.clone(), params);
        env.journal = Some(self.journal.clone() as Arc<dyn crate::engine::runlog::StepLog>);
        env.interrupt = self.interrupt.clone();
        env.secrets = self.secrets.values().clone();
        env
    }

    /// The hosts' locks, released whatever the outcome, with a warning for each that
    /// could not be (a run that dies leaves them: stale).
    pub(super) fn release_locks(&self) {
        let Some(l) = &self.locks else {
            return;
        };
        for (host, why) in l.release_all() {
            self.ctx.ui.warn(&format!(
                "the hascript lock on {host} was not released: {why}. It is stale once this run has ended: `hascript unwind {id}`, or the next step with `hascript run … --takeover {id}`, takes it over and releases it; or remove {} on {host} by hand once no run is using it",
                l.paths(&host).0,
                id = self.id
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::{self, SiteSpec};
    use hascript_api::{CancelToken, Ui};

    fn params(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_nested_env_shares_the_run_but_not_its_params() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let journal = Arc::new(Recorder::create(dir.path(), "r1", Vec::new()).expect("journal"));
        let console = Arc::new(ConsoleUi::new(true));
        let ui: Arc<dyn Ui> = console.clone();
        let cancel = CancelToken::new();
        let spec = SiteSpec::Sim {
            scenario: None,
            default_driver: "ldoms".into(),
            state: None,
        };
        let built = site::build(&spec, ui, cancel.clone()).expect("the default simulated site");
        let secrets =
            crate::secrets::resolve(&[], &BTreeMap::new(), &|_: &str| None, &|_, _| None, "t")
                .expect("no secrets");
        let shared = Shared {
            id: "r1".into(),
            site: built.site.clone(),
            ctx: built.ctx.clone(),
            journal: journal.clone(),
            locks: None,
            interrupt: Interrupt::new(cancel),
            secrets: Arc::new(secrets),
            console,
        };
        let top = shared.env(params(&[("guest", "cfguest1")]));
        // What a procedure started from inside the run gets: a clone handed down.
        let handed_down = shared.clone();
        let nested = handed_down.env(params(&[("guest", "cfguest2"), ("target", "cd2")]));
        assert_eq!(top.params, params(&[("guest", "cfguest1")]));
        assert_eq!(
            nested.params,
            params(&[("guest", "cfguest2"), ("target", "cd2")])
        );
        for env in [&top, &nested] {
            let j = env.journal.as_ref().expect("the run's journal");
            assert!(std::ptr::addr_eq(Arc::as_ptr(j), Arc::as_ptr(&journal)));
            assert!(env.replay.is_none());
        }
        // Its own `defer` routines, the run's recovery registry.
        assert!(!Arc::ptr_eq(&top.deferred, &nested.deferred));
        // One interrupt for the whole run: Ctrl-C stops the nested script too.
        assert!(!nested.interrupt.fired());
        top.interrupt.fire();
        assert!(nested.interrupt.fired() && shared.interrupt.fired());
    }
}
