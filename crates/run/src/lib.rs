//! hascript-run, the run layer: how a script run starts, goes and ends ([`run`]), its
//! journal ([`journal`]), host locks ([`lock`]), recovery routines ([`recovery`]),
//! `resume`/`unwind` ([`resume`]), the dry run ([`dryrun`]), the site a run works on
//! ([`site`], [`inventory`], [`backend`]), secrets ([`secrets`]), signals ([`signals`]) and
//! the operator's UI ([`output`], [`text`]). It runs scripts through `hascript-engine` and
//! reaches hosts through `hascript-transport`; it knows no Rhai.

#![warn(missing_docs)]

// The crates below, under the names the modules of this crate use for them.
pub(crate) use hascript_engine as engine;
pub(crate) use hascript_engine::scripts;
pub(crate) use hascript_transport as transport;
pub(crate) use hascript_transport::files;

pub mod backend;
pub mod dryrun;
pub mod history;
pub mod inventory;
pub mod journal;
pub mod lock;
pub mod output;
pub mod recovery;
pub mod resume;
pub mod run;
pub mod secrets;
pub mod signals;
pub mod site;
pub mod text;
