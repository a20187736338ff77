//! The whole state of one simulated site: what is persisted in `site.json`.

use hascript_api::Output;
use serde::{Deserialize, Serialize};

use crate::error::SimError;
use crate::hpvm;
use crate::interp;
use crate::ldoms;
use crate::model::Model;
use crate::scenario;
use crate::world::World;

/// The end of the virtual clock (9999-12-31), far from any overflow.
const MAX_MS: u64 = 253_402_214_400_000;

/// Version of the `site.json` layout.
pub(crate) const FORMAT: u32 = 1;

/// One command a simulated host received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedCommand {
    /// Virtual time it arrived, unix seconds.
    pub time: u64,
    /// The host (inventory name).
    pub host: String,
    /// The command line as received.
    pub line: String,
    /// Its exit code (255 when the host could not be reached).
    pub exit: i32,
}

/// A simulated site's state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SiteState {
    /// Layout version ([`FORMAT`]).
    pub format: u32,
    /// `ldoms` or `ldoms/<scenario>`.
    pub scenario: String,
    /// Time and hosts.
    pub world: World,
    /// The products.
    pub model: Model,
    /// Every command received, in order.
    pub log: Vec<LoggedCommand>,
}

/// What happened to one command line.
pub(crate) enum LineResult {
    /// No host by that name.
    UnknownHost,
    /// The host exists but does not answer (output as ssh would print).
    Unreachable(Output),
    /// It ran.
    Ran(Output),
}

impl SiteState {
    /// A new site from a scenario name (None: the LDoms default site).
    pub(crate) fn create(name: Option<&str>) -> Result<Self, SimError> {
        let sel = scenario::select(name)?;
        let invalid = |message| SimError::InvalidScenario {
            name: sel.name.to_string(),
            message,
        };
        let (world, model) = match sel.driver {
            "hpvm" => {
                let (world, st) = hpvm::build(sel.text).map_err(invalid)?;
                (world, Model::Hpvm(Box::new(st)))
            }
            _ => {
                let (world, st) = ldoms::build(sel.text).map_err(invalid)?;
                (world, Model::Ldoms(Box::new(st)))
            }
        };
        Ok(SiteState {
            format: FORMAT,
            scenario: sel.name.to_string(),
            world,
            model,
            log: Vec::new(),
        })
    }

    /// Hosts by inventory name, in a stable order.
    pub(crate) fn hosts(&self) -> Vec<String> {
        self.world.hosts.keys().cloned().collect()
    }

    /// Run one command line on `host`, with `stdin` for the command that reads it.
    pub(crate) fn run_line(
        &mut self,
        host: &str,
        line: &str,
        stdin: Option<Vec<u8>>,
    ) -> LineResult {
        let now = self.world.now_ms;
        self.model.settle(&mut self.world, now);
        if !self.world.hosts.contains_key(host) {
            return LineResult::UnknownHost;
        }
        let time = self.world.now_ms / 1000;
        if let Err(msg) = self.model.reachable(host) {
            self.log.push(LoggedCommand {
                time,
                host: host.to_string(),
                line: line.to_string(),
                exit: 255,
            });
            return LineResult::Unreachable(Output::new(255, "", format!("{msg}\n")));
        }
        let out = interp::run_line(&mut self.world, &mut self.model, host, line, stdin);
        self.log.push(LoggedCommand {
            time,
            host: host.to_string(),
            line: line.to_string(),
            exit: out.code(),
        });
        LineResult::Ran(out)
    }

    /// Let `ms` of virtual time pass (sleeping stops at the end of the year 9999).
    pub(crate) fn advance(&mut self, ms: u64) {
        let until = self.world.now_ms.saturating_add(ms).min(MAX_MS);
        self.model.settle(&mut self.world, until);
    }

    /// The inventory describing this site.
    pub(crate) fn inventory_toml(&self) -> String {
        let what = if self.scenario.contains('/') {
            format!("scenario {}", self.scenario)
        } else {
            "default".to_string()
        };
        let products = match self.model.driver() {
            "hpvm" => "Serviceguard",
            _ => "LDoms",
        };
        self.model
            .inventory_toml(&format!("simulated {products} site ({what})"))
    }
}
