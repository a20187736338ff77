//! The product models a site can run. Each model owns its products' state, says which
//! programs each host has, answers them, and moves its state forward with the virtual
//! clock. Only LDoms + PRIMECLUSTER + XSCF exists today; Serviceguard + Integrity VM will be
//! another variant beside it.

use hascript_api::Output;
use serde::{Deserialize, Serialize};

use crate::ldoms::LdomsState;
use crate::posix::ProgramSpec;
use crate::world::World;

/// The emulated products of a site.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "driver", rename_all = "lowercase")]
pub(crate) enum Model {
    /// PRIMECLUSTER guest-domain cluster on LDoms with XSCF fencing.
    Ldoms(Box<LdomsState>),
}

impl Model {
    /// The driver name (`ldoms`).
    pub(crate) fn driver(&self) -> &'static str {
        match self {
            Model::Ldoms(_) => "ldoms",
        }
    }

    /// The product programs installed on `host`.
    pub(crate) fn programs(&self, host: &str) -> Vec<ProgramSpec> {
        match self {
            Model::Ldoms(m) => m.programs(host),
        }
    }

    /// Whether `host` answers SSH now (`Err` holds what ssh would print).
    pub(crate) fn reachable(&self, host: &str) -> Result<(), String> {
        match self {
            Model::Ldoms(m) => m.reachable(host),
        }
    }

    /// Run product program `program` on `host`.
    pub(crate) fn run(
        &mut self,
        world: &mut World,
        host: &str,
        program: &str,
        args: &[String],
    ) -> Output {
        match self {
            Model::Ldoms(m) => m.run(world, host, program, args),
        }
    }

    /// Apply everything scheduled up to `until_ms` and move the clock there.
    pub(crate) fn settle(&mut self, world: &mut World, until_ms: u64) {
        match self {
            Model::Ldoms(m) => m.settle(world, until_ms),
        }
    }

    /// The inventory a user would write for this site.
    pub(crate) fn inventory_toml(&self, description: &str) -> String {
        match self {
            Model::Ldoms(m) => m.inventory_toml(description),
        }
    }
}
