//! The whole state of one simulated site: what is persisted in `site.json`.

use hascript_api::Output;
use serde::{Deserialize, Serialize};

use crate::error::SimError;
use crate::hpvm;
use crate::interp;
use crate::ldoms;
use crate::model::Model;
use crate::posix::Stdin;
use crate::scenario;
use crate::seed::{Declared, Observation, SeedInfo};
use crate::world::World;

/// The end of the virtual clock (9999-12-31), far from any overflow.
const MAX_MS: u64 = 253_402_214_400_000;

/// Version of the `site.json` layout: 2 keeps the command log out of it (`commands.log`,
/// see `store`).
pub(crate) const FORMAT: u32 = 2;

/// The oldest layout still read (format 1 kept the log in `site.json`; the first command
/// or clock step moves it to `commands.log`).
pub(crate) const OLDEST_FORMAT: u32 = 1;

/// One command a simulated host received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedCommand {
    /// Its number: 1 for the first command the site received, then one more for each
    /// (it keeps counting when a folder's log drops its oldest entries).
    #[serde(default)]
    pub seq: u64,
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
    /// Every command received, in order. In a folder only the commands of the operation
    /// under way (the store moves them to `commands.log`), or a format-1 site's log.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log: Vec<LoggedCommand>,
    /// How many commands were logged as of this state (the numbers the log's entries got).
    #[serde(default)]
    pub logged: u64,
    /// A copy seeded from a real site's reads: what it knows it does not know.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<Box<SeedInfo>>,
}

/// What happened to one command line.
pub(crate) enum LineResult {
    /// No host by that name.
    UnknownHost,
    /// The host exists but does not answer (output as ssh would print).
    Unreachable(Output),
    /// It ran.
    Ran(Output),
    /// A seeded copy cannot tell what it would answer: why (nothing was changed).
    Unknown(String),
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
            logged: 0,
            seed: None,
        })
    }

    /// Hosts by inventory name, in a stable order.
    pub(crate) fn hosts(&self) -> Vec<String> {
        self.world.hosts.keys().cloned().collect()
    }

    /// Run one command line on `host`, with `stdin` for the command that reads it.
    pub(crate) fn run_line(&mut self, host: &str, line: &str, stdin: Stdin) -> LineResult {
        let now = self.world.now_ms;
        self.model.settle(&mut self.world, now);
        if let Some(info) = &self.seed {
            if !self.world.hosts.contains_key(host) {
                return LineResult::Unknown(format!(
                    "{host} was never reached before this point, so the copy knows nothing of it"
                ));
            }
            let model = &self.model;
            let why = info
                .gap_for(host, line, &|g| model.gap_lifted(g))
                .or_else(|| info.filler_read(host, line))
                .or_else(|| model.seed_unknown(info, host, line));
            if let Some(why) = why {
                return LineResult::Unknown(why);
            }
        }
        if !self.world.hosts.contains_key(host) {
            return LineResult::UnknownHost;
        }
        let time = self.world.now_ms / 1000;
        if let Err(msg) = self.model.reachable(host) {
            self.log.push(LoggedCommand {
                seq: 0,
                time,
                host: host.to_string(),
                line: line.to_string(),
                exit: 255,
            });
            return LineResult::Unreachable(Output::new(255, "", format!("{msg}\n")));
        }
        // A seeded copy answers on a scratch state first: a read of a file it never saw
        // must not change it.
        if let Some(info) = &self.seed {
            if info.partial_files.contains(host) {
                let mut world = self.world.clone();
                let mut model = self.model.clone();
                let out = interp::run_line(&mut world, &mut model, host, line, stdin.fork());
                if !out.success() && info.missing_file_unknown(host, line, &out.stderr) {
                    return LineResult::Unknown(format!(
                        "{}: a file on {host} this run never read before its first change",
                        out.stderr.trim()
                    ));
                }
            }
        }
        let out = interp::run_line(&mut self.world, &mut self.model, host, line, stdin);
        self.log.push(LoggedCommand {
            seq: 0,
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

/// The copy's state for `driver` from the inventory's `declared` facts and the
/// `observations`, its clock at `now_ms`; [`SimError::CannotSeed`] when the reads do not
/// describe the site well enough to run anything against it.
pub(crate) fn seed(
    driver: &str,
    declared: &Declared,
    observations: &[Observation],
    now_ms: u64,
) -> Result<SiteState, SimError> {
    let cannot = |why: String| SimError::CannotSeed {
        driver: driver.to_string(),
        why,
    };
    let (world, model, mut info) = match driver {
        "ldoms" => {
            let (w, st, info) =
                ldoms::seed::seed(declared, observations, now_ms).map_err(cannot)?;
            (w, Model::Ldoms(Box::new(st)), info)
        }
        "hpvm" => {
            let (w, st, info) = hpvm::seed::seed(declared, observations, now_ms).map_err(cannot)?;
            (w, Model::Hpvm(Box::new(st)), info)
        }
        other => {
            return Err(cannot(format!(
                "the simulator has no model of a {other} site"
            )))
        }
    };
    for o in observations.iter().filter(|o| o.exit != 0) {
        for argv in crate::seed::commands_of(&o.line) {
            info.failed_reads.insert((o.host.clone(), argv));
        }
    }
    Ok(SiteState {
        format: FORMAT,
        scenario: format!("{driver} (seeded from the site's reads)"),
        world,
        model,
        log: Vec::new(),
        logged: 0,
        seed: Some(Box::new(info)),
    })
}
