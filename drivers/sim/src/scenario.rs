//! The scenarios shipped with the simulator: TOML files embedded at build time, one per
//! scenario, under `scenarios/<driver>/<name>.toml`. Each file describes the driver's
//! default site plus its fault; the driver's model reads the rest of the file.

use serde::Deserialize;

use crate::error::SimError;

/// Drivers the simulator emulates (each also names its default site).
pub(crate) const DRIVERS: &[&str] = &["ldoms", "hpvm"];

/// Shipped scenarios: (name, TOML text), sorted by name.
const SHIPPED: &[(&str, &str)] = &[
    (
        "ldoms/config-tmp-present",
        include_str!("../scenarios/ldoms/config-tmp-present.toml"),
    ),
    (
        "ldoms/guest-inactive",
        include_str!("../scenarios/ldoms/guest-inactive.toml"),
    ),
    (
        "ldoms/guest-started-too-early",
        include_str!("../scenarios/ldoms/guest-started-too-early.toml"),
    ),
    (
        "ldoms/migration-aborted-guest-running",
        include_str!("../scenarios/ldoms/migration-aborted-guest-running.toml"),
    ),
    (
        "ldoms/migration-aborted-guest-stopped",
        include_str!("../scenarios/ldoms/migration-aborted-guest-stopped.toml"),
    ),
    (
        "ldoms/migration-continues-after-disconnect",
        include_str!("../scenarios/ldoms/migration-continues-after-disconnect.toml"),
    ),
    (
        "ldoms/migration-hangs",
        include_str!("../scenarios/ldoms/migration-hangs.toml"),
    ),
    (
        "ldoms/migration-would-fail",
        include_str!("../scenarios/ldoms/migration-would-fail.toml"),
    ),
    (
        "ldoms/newer-ldm",
        include_str!("../scenarios/ldoms/newer-ldm.toml"),
    ),
    (
        "ldoms/node-stays-leftcluster",
        include_str!("../scenarios/ldoms/node-stays-leftcluster.toml"),
    ),
    (
        "ldoms/seven-spconfigs",
        include_str!("../scenarios/ldoms/seven-spconfigs.toml"),
    ),
    (
        "ldoms/sf-settings-differ",
        include_str!("../scenarios/ldoms/sf-settings-differ.toml"),
    ),
    (
        "ldoms/sf-test-failed",
        include_str!("../scenarios/ldoms/sf-test-failed.toml"),
    ),
    (
        "ldoms/spconfig-not-saved",
        include_str!("../scenarios/ldoms/spconfig-not-saved.toml"),
    ),
    (
        "ldoms/time-sync-warnings",
        include_str!("../scenarios/ldoms/time-sync-warnings.toml"),
    ),
    (
        "ldoms/unhealthy-cluster",
        include_str!("../scenarios/ldoms/unhealthy-cluster.toml"),
    ),
    (
        "ldoms/xscf-first-ssh-pending",
        include_str!("../scenarios/ldoms/xscf-first-ssh-pending.toml"),
    ),
    (
        "hpvm/app-monitor-fails",
        include_str!("../scenarios/hpvm/app-monitor-fails.toml"),
    ),
    (
        "hpvm/appmon-on-serviceguard-a11-19",
        include_str!("../scenarios/hpvm/appmon-on-serviceguard-a11-19.toml"),
    ),
    (
        "hpvm/appmon-upgrade",
        include_str!("../scenarios/hpvm/appmon-upgrade.toml"),
    ),
    (
        "hpvm/attached-devices",
        include_str!("../scenarios/hpvm/attached-devices.toml"),
    ),
    (
        "hpvm/cmappserver-linux-guest",
        include_str!("../scenarios/hpvm/cmappserver-linux-guest.toml"),
    ),
    (
        "hpvm/cmappserver-linux-upgrade",
        include_str!("../scenarios/hpvm/cmappserver-linux-upgrade.toml"),
    ),
    (
        "hpvm/cmappserver-old-java",
        include_str!("../scenarios/hpvm/cmappserver-old-java.toml"),
    ),
    (
        "hpvm/cmappserver-unreachable",
        include_str!("../scenarios/hpvm/cmappserver-unreachable.toml"),
    ),
    (
        "hpvm/cmappserver-windows-guest",
        include_str!("../scenarios/hpvm/cmappserver-windows-guest.toml"),
    ),
    (
        "hpvm/guest-fails-in-maintenance",
        include_str!("../scenarios/hpvm/guest-fails-in-maintenance.toml"),
    ),
    (
        "hpvm/guest-fails-no-failover",
        include_str!("../scenarios/hpvm/guest-fails-no-failover.toml"),
    ),
    (
        "hpvm/guest-fails-over",
        include_str!("../scenarios/hpvm/guest-fails-over.toml"),
    ),
    (
        "hpvm/guest-not-running",
        include_str!("../scenarios/hpvm/guest-not-running.toml"),
    ),
    (
        "hpvm/hpvmmigrate-fails",
        include_str!("../scenarios/hpvm/hpvmmigrate-fails.toml"),
    ),
    (
        "hpvm/maintenance-left-on",
        include_str!("../scenarios/hpvm/maintenance-left-on.toml"),
    ),
    (
        "hpvm/maintenance-left-on-former-owner",
        include_str!("../scenarios/hpvm/maintenance-left-on-former-owner.toml"),
    ),
    (
        "hpvm/migration-lands-despite-error",
        include_str!("../scenarios/hpvm/migration-lands-despite-error.toml"),
    ),
    (
        "hpvm/nfs-backing-store",
        include_str!("../scenarios/hpvm/nfs-backing-store.toml"),
    ),
    (
        "hpvm/old-serviceguard",
        include_str!("../scenarios/hpvm/old-serviceguard.toml"),
    ),
    (
        "hpvm/old-toolkit-nfs-store",
        include_str!("../scenarios/hpvm/old-toolkit-nfs-store.toml"),
    ),
    (
        "hpvm/old-toolkit-package",
        include_str!("../scenarios/hpvm/old-toolkit-package.toml"),
    ),
    (
        "hpvm/package-dir-40777",
        include_str!("../scenarios/hpvm/package-dir-40777.toml"),
    ),
    (
        "hpvm/target-not-in-node-list",
        include_str!("../scenarios/hpvm/target-not-in-node-list.toml"),
    ),
    (
        "hpvm/three-node-package",
        include_str!("../scenarios/hpvm/three-node-package.toml"),
    ),
    (
        "hpvm/toolkit-not-installed",
        include_str!("../scenarios/hpvm/toolkit-not-installed.toml"),
    ),
    (
        "hpvm/vswitch-missing-on-target",
        include_str!("../scenarios/hpvm/vswitch-missing-on-target.toml"),
    ),
    (
        "hpvm/two-toolkits-one-vswitch",
        include_str!("../scenarios/hpvm/two-toolkits-one-vswitch.toml"),
    ),
];

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
