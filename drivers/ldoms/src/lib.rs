//! # hascript-ldoms
//!
//! PRIMECLUSTER guest-domain clusters on Oracle VM Server for SPARC (LDoms) with XSCF
//! fencing: parsers of the products' output (`parse`, one file per command), the static
//! site description (`topology`), the commands sent (`commands`), read-only facts
//! (`facts`, `locate`), where a guest may go (`placement`), the vendor procedure of
//! §17.3.1 (`procedure`, `spconfig`) and the four objects scripts see (`objects`, `site`).

#![warn(missing_docs)]

pub mod checks;
pub mod commands;
mod facts;
pub mod locate;
mod objects;
pub mod operations;
pub mod parse;
pub mod placement;
pub mod site;
pub mod spconfig;
pub mod steps;
pub mod topology;

pub use objects::{LdomsCluster, LdomsFence, LdomsHypervisor, LdomsPackage};
pub use site::LdomsSite;
pub use topology::{ControlDomain, GuestDomain, Topology};
