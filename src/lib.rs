//! hascript: run HA-cluster operating procedures as Rhai scripts.
//!
//! The binary's package holds the CLI ([`cli`]), the REPL ([`repl`]) and the API reference
//! ([`docs`]). The rest is in crates of its own, re-exported here under the names the CLI,
//! the REPL and the tests use: the script engine (`hascript-engine`: [`engine`],
//! [`scripts`]), the transports that do I/O (`hascript-transport`: [`transport`],
//! [`files`]) and the run layer every script run goes through (`hascript-run`: [`run`],
//! [`journal`], [`lock`], [`recovery`], [`resume`], [`dryrun`], [`site`], [`inventory`],
//! [`output`] …).

#![warn(missing_docs)]

pub use hascript_engine as engine;
pub use hascript_engine::scripts;
pub use hascript_run::{
    backend, dryrun, history, inventory, journal, lock, output, recovery, resume, run, secrets,
    signals, site, text,
};
pub use hascript_transport as transport;
pub use hascript_transport::files;

pub mod cli;
pub mod docs;
pub mod repl;
