//! # hascript-sim
//!
//! The built-in simulator: emulated sites on a virtual clock that answer the exact command
//! lines hascript sends over SSH with the exact output formats of the products.
//!
//! - [`SimSite`] is one site (in memory or in a state folder) with its transport
//!   ([`SimSite::exec`]) and clock ([`SimSite::clock`]).
//! - [`scenarios`] lists the shipped fault scenarios; [`driver_of`] maps a scenario or
//!   driver name to its driver.
//!
//! Inside: a small POSIX `sh` (tokenizer, `;`/`&&`/`||`, assignments, `PATH` lookup; see
//! `shell` and `interp`), the ordinary commands of every host (`posix`), time and
//! persistence (`state`, `store`), and the product models (`ldoms`: LDoms, PRIMECLUSTER and
//! XSCF; `hpvm`: Serviceguard, HP Integrity VM and the SG IVS toolkit). Neither emulator
//! shares code with its driver's parsers.

#![warn(missing_docs)]

mod error;
mod fs;
mod hpvm;
mod interp;
mod ldoms;
mod model;
mod posix;
mod process;
mod scenario;
mod seed;
mod shell;
mod site;
mod state;
mod store;
mod timefmt;
mod world;

pub use error::SimError;
pub use scenario::{driver_of, scenarios, ScenarioInfo};
pub use seed::{classify as classify_observations, Declared, DeclaredHost, Observation};
pub use site::{CopyAnswer, SimSite};
pub use state::LoggedCommand;
