//! # hascript-hpvm
//!
//! HP Serviceguard clusters of HP Integrity VM hosts with the Serviceguard Toolkit for
//! Integrity Virtual Servers: parsers of the products' output (`parse`, one file per
//! command), the package configuration file as an editable document (`pkgconf`), the static
//! site description (`topology`), the commands sent (`commands`), the vendor procedures of
//! the toolkit guide (`procedure`) and the four objects scripts see (`objects`, `site`).

#![warn(missing_docs)]

pub mod appmon;
pub mod parse;
pub mod pkgconf;
pub mod service;

pub mod commands;
mod facts;
pub mod files;
mod objects;
pub mod operations;
pub mod procedure;
pub mod site;
pub mod topology;

pub use objects::{HpvmCluster, HpvmFence, HpvmHypervisor, HpvmPackage};
pub use site::HpvmSite;
pub use topology::{Guest, Topology, VmHost};
