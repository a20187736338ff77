//! The scenarios shipped with the simulator: TOML files embedded at build time (build.rs
//! lists every file), one per scenario, under `scenarios/<driver>/<name>.toml`. Each file describes the driver's
//! default site plus its fault; the driver's model reads the rest of the file.

use serde::Deserialize;

use crate::error::SimError;

/// Drivers the simulator emulates (each also names its default site).
pub(crate) const DRIVERS: &[&str] = &["ldoms", "hpvm"];

// `SHIPPED`: every file under `scenarios/`, found by build.rs.
include!(concat!(env!("OUT_DIR"), "/scenarios.rs"));

/// One shipped scenario, as listed by `hascript sim list` and the book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioInfo {
    /// Full name, e.g. `ldoms/migration-would-fail`.
    pub name: String,
    /// The driver whose site it simulates (`ldoms`, `hpvm`).
    pub driver: String,
    /// One sentence: what is wrong in this site.
    pub summary: String,
    /// The manual's section the fault belongs to (e.g. `17.3.1.1`).
    pub section: String,
}

/// The fields every scenario file has (the driver's model checks the rest).
#[derive(Deserialize)]
struct Header {
    summary: String,
    section: String,
}

/// What a site is made from: a driver's default site, or one of its scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Selected {
    /// `ldoms` or `hpvm`.
    pub driver: &'static str,
    /// The driver for its default site, else the scenario's full name.
    pub name: &'static str,
    /// The scenario's TOML text (None for the default site).
    pub text: Option<&'static str>,
}

fn driver_part(name: &str) -> &str {
    name.split('/').next().unwrap_or(name)
}

/// Every name a site can be made from: per driver, its default site, then its scenarios.
pub(crate) fn known_names() -> Vec<String> {
    DRIVERS
        .iter()
        .flat_map(|d| {
            std::iter::once(d.to_string()).chain(
                SHIPPED
                    .iter()
                    .filter(move |(n, _)| driver_part(n) == *d)
                    .map(|(n, _)| n.to_string()),
            )
        })
        .collect()
}

/// Look a scenario (or a driver's default site) up by name; `None` is the LDoms default.
pub(crate) fn select(name: Option<&str>) -> Result<Selected, SimError> {
    let name = name.unwrap_or("ldoms").trim();
    if let Some(d) = DRIVERS.iter().find(|d| **d == name) {
        return Ok(Selected {
            driver: d,
            name: d,
            text: None,
        });
    }
    if let Some((n, text)) = SHIPPED.iter().find(|(n, _)| *n == name) {
        let driver = DRIVERS
            .iter()
            .find(|d| **d == driver_part(n))
            .copied()
            .unwrap_or("ldoms");
        return Ok(Selected {
            driver,
            name: n,
            text: Some(text),
        });
    }
    Err(SimError::UnknownScenario {
        name: name.to_string(),
        known: known_names(),
    })
}

/// All shipped scenarios, sorted by name (the drivers' default sites are not scenarios and
/// are not listed; they are named by the driver alone, e.g. `ldoms`).
pub fn scenarios() -> Vec<ScenarioInfo> {
    let mut v: Vec<ScenarioInfo> = SHIPPED
        .iter()
        .map(|(name, text)| {
            let (summary, section) = match toml::from_str::<toml::Table>(text)
                .map_err(|e| e.to_string())
                .and_then(|t| {
                    toml::Value::Table(t)
                        .try_into::<Header>()
                        .map_err(|e| e.to_string())
                }) {
                Ok(h) => (h.summary, h.section),
                Err(e) => (format!("(invalid scenario file: {e})"), String::new()),
            };
            ScenarioInfo {
                name: name.to_string(),
                driver: driver_part(name).to_string(),
                summary,
                section,
            }
        })
        .collect();
    v.sort_by(|a, b| a.name.cmp(&b.name));
    v
}

/// The driver a scenario or driver name belongs to: `ldoms` and `ldoms/<anything>` give
/// `Some("ldoms")`, `hpvm` and `hpvm/<anything>` `Some("hpvm")` (whether the scenario exists is checked when the site is made, with a
/// message listing the known ones); anything else gives `None`.
pub fn driver_of(scenario_or_driver: &str) -> Option<&'static str> {
    let name = scenario_or_driver.trim();
    DRIVERS.iter().copied().find(|d| {
        name == *d
            || name
                .strip_prefix(d)
                .is_some_and(|rest| rest.starts_with('/') && rest.len() > 1)
    })
}
