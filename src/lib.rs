//! hascript: run HA-cluster operating procedures as Rhai scripts.
//!
//! The root package holds the CLI ([`cli`]), the run layer every script run goes through
//! ([`run`]), the script engine ([`engine`], the only code
//! that knows Rhai), the REPL ([`repl`]), the inventory ([`inventory`]), the transports
//! that do I/O ([`transport`]) and the operator's UI ([`output`]).

#![warn(missing_docs)]

pub mod backend;
pub mod cli;
pub mod docs;
pub mod dryrun;
pub mod engine;
pub mod files;
pub mod history;
pub mod inventory;
pub mod journal;
pub mod lock;
pub mod output;
pub mod recovery;
pub mod repl;
pub mod resume;
pub mod run;
pub mod scripts;
pub mod secrets;
pub mod signals;
pub mod site;
pub mod text;
pub mod transport;
