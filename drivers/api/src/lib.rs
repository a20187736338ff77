//! # hascript-api
//!
//! The contract between the hascript engine and its vendor drivers: the four object traits
//! (`Cluster`, `Fence`, `Hypervisor`, `Package`), the value types they return, commands and
//! their output, the `Exec` transport trait and its fan-out (`fan_out`), the injected `Clock`, cancellation, the polling
//! loop every wait uses (`wait`), `hascript parse <kind>` for every driver (`kinds`), argv
//! quoting, name validation and the error type. This crate does no I/O and knows nothing of Rhai or SSH.

#![warn(missing_docs)]

pub mod civil;
pub mod clock;
pub mod command;
pub mod error;
pub mod fan_out;
pub mod kinds;
pub mod names;
pub mod objects;
pub mod operations;
pub mod program;
pub mod quote;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod text;
pub mod ui;
pub mod wait;

pub use clock::{CancelToken, Clock, SystemClock};
pub use command::{
    redact, redact_bytes, Command, Effect, Exec, ExitStatus, Output, Program, REDACTED,
};
pub use error::{Error, ErrorKind, Result, Signal};
pub use fan_out::{fan_out, FanOut};
pub use names::validate_name;
pub use objects::{Cluster, Fence, Hypervisor, Package, Placement, Site};
pub use operations::{Object, OpKind, Operation, OperationSpec};
pub use program::command_line;
pub use quote::shell_quote;
pub use ui::{Ui, WaitDone, WaitOutcome, WaitProgress, Waiter};
pub use wait::WaitEnd;

/// Prefix of the environment variables that hold secret values (`HASCRIPT_SECRET_<NAME>`):
/// a script's declared secrets and the transport's `env:` references read the same ones.
pub const SECRET_ENV_PREFIX: &str = "HASCRIPT_SECRET_";
