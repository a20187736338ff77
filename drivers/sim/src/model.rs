//! The product models a site can run. Each model owns its products' state, says which
//! programs each host has, answers them, and moves its state forward with the virtual
//! clock: LDoms + PRIMECLUSTER + XSCF, and Serviceguard + Integrity VM.

use hascript_api::Output;
use serde::{Deserialize, Serialize};

use crate::hpvm::HpvmState;
use crate::ldoms::LdomsState;
use crate::posix::{ProcessIo, ProgramSpec};
use crate::world::World;

/// The emulated products of a site.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "driver", rename_all = "lowercase")]
pub(crate) enum Model {
    /// PRIMECLUSTER guest-domain cluster on LDoms with XSCF fencing.
    Ldoms(Box<LdomsState>),
    /// Serviceguard cluster of HP Integrity VM hosts with the SG IVS toolkit.
    Hpvm(Box<HpvmState>),
}

impl Model {
    /// The driver name (`ldoms`, `hpvm`).
    pub(crate) fn driver(&self) -> &'static str {
        match self {
            Model::Ldoms(_) => "ldoms",
            Model::Hpvm(_) => "hpvm",
        }
    }

    /// `PATH` of root's shell on this site's hosts.
    pub(crate) fn default_path(&self) -> &'static str {
        match self {
            Model::Ldoms(_) => crate::world::DEFAULT_PATH,
            Model::Hpvm(_) => crate::hpvm::HPUX_PATH,
        }
    }

    /// The product programs installed on `host`.
    pub(crate) fn programs(&self, host: &str) -> Vec<ProgramSpec> {
        match self {
            Model::Ldoms(m) => m.programs(host),
            Model::Hpvm(m) => m.programs(host),
        }
    }

    /// Whether `host` answers SSH now (`Err` holds what ssh would print).
    pub(crate) fn reachable(&self, host: &str) -> Result<(), String> {
        match self {
            Model::Ldoms(m) => m.reachable(host),
            Model::Hpvm(m) => m.reachable(host),
        }
    }

    /// Run product program `program` on `host` (`io`: unread standard input, umask).
    pub(crate) fn run(
        &mut self,
        world: &mut World,
        host: &str,
        program: &str,
        args: &[String],
        io: &mut ProcessIo,
    ) -> Output {
        match self {
            Model::Ldoms(m) => m.run(world, host, program, args),
            Model::Hpvm(m) => m.run(world, host, program, args, io),
        }
    }

    /// Whether a seeded copy's gap was closed by what the copy did since
    /// ([`crate::seed::Gap::until_sf_start`]).
    pub(crate) fn gap_lifted(&self, gap: &crate::seed::Gap) -> bool {
        match self {
            Model::Ldoms(m) => m.gap_lifted(gap),
            Model::Hpvm(_) => false,
        }
    }

    /// Why a seeded copy cannot answer `line` on `host` from its model's state, when an
    /// answer would rest on something never read.
    pub(crate) fn seed_unknown(
        &self,
        info: &crate::seed::SeedInfo,
        host: &str,
        line: &str,
    ) -> Option<String> {
        match self {
            Model::Ldoms(m) => m.seed_unknown(info, host, line),
            Model::Hpvm(_) => None,
        }
    }

    /// Apply everything scheduled up to `until_ms` and move the clock there.
    pub(crate) fn settle(&mut self, world: &mut World, until_ms: u64) {
        match self {
            Model::Ldoms(m) => m.settle(world, until_ms),
            Model::Hpvm(m) => m.settle(world, until_ms),
        }
    }

    /// The inventory a user would write for this site.
    pub(crate) fn inventory_toml(&self, description: &str) -> String {
        match self {
            Model::Ldoms(m) => m.inventory_toml(description),
            Model::Hpvm(m) => m.inventory_toml(description),
        }
    }
}
