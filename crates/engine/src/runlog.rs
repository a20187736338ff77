//! What the engine needs of the run around it, as two small traits: the journal's step log
//! and a resumed run's replay. The run layer implements them (`journal::Recorder`,
//! `resume::Replay`); the engine never sees those types, so it can be built and tested
//! without a journal, and a journal's format can change without touching the engine.

use std::time::Duration;

use hascript_api::objects::Value;

use crate::scripts::Loaded;

/// The run's journal as the engine writes to it: script steps and the scripts it loads.
pub trait StepLog: Send + Sync {
    /// The next step the UI is told of is the script's `step(...)`, not a driver's.
    fn script_step_next(&self);
    /// The number of the step in progress (the one the UI was just told of).
    fn current_step(&self) -> u64;
    /// Script step `n` ended after `took`: its value as JSON (`None` when it has none that
    /// JSON can hold), or the error's text.
    fn step_end(
        &self,
        n: u64,
        section: &str,
        title: &str,
        took: Duration,
        result: Result<Option<Value>, String>,
    );
    /// Script step `n` was not run: `value` was replayed from the resumed run.
    fn step_replayed(&self, n: u64, section: &str, title: &str, value: Value);
    /// The run loaded `script` (a module, a nested procedure): `resume` and `unwind`
    /// compare it with what they would load.
    fn script_loaded(&self, script: &Loaded);
}

/// The completed steps of the run being resumed, handed out in order.
pub trait StepReplay: Send + Sync {
    /// The id of the run the values come from.
    fn from(&self) -> &str;
    /// The recorded value of the next script step when it is that same step (section and
    /// title) and completed with a value; `None` means "run it".
    fn next(&self, section: &str, title: &str) -> Option<Value>;
}
