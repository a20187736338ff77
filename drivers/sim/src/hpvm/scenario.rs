//! The Serviceguard part of a scenario file. A scenario is the default site plus changes, all
//! data:
//!
//! ```toml
//! summary = "…"                        # one sentence (required)
//! section = "§6"                       # the manual's section (required)
//! description = "…"                    # optional, longer
//!
//! [fault]
//! migrate = "fails"                    # none | fails | lands-with-error
//! migrate_failures = 1                 # how many online migrations fail (default 1)
//! app_failures = 3                     # a monitored application dies this many times …
//! app_lifetime_seconds = 20            # … this long after each start
//! cmappserver_unreachable = true       # port 5315 of the guests times out (errno:238)
//! guest_crash_seconds = 0              # slvm1's guest goes Off this long after the site starts
//! lan_switch = true                    # a LAN switch (lan0 → lan1) on slvm1's VM host
//!
//! [hpvm]
//! sg_release = "A.11.18"               # Serviceguard release of every node (A.11.20)
//! nodes = ["node1", "node2", "node3"]  # the VM hosts of the cluster
//! not_installed = { node1 = ["SG-IVS-Toolkit"] }   # products swlist does not list there
//! missing_vswitches = { node2 = ["myswitch"] }     # hpvmmigrate to node2 fails its vswitch validation
//!
//! [hpvm.guests.slvm1]                  # a guest, by VM name
//! storage = [["file", "/var/opt/hpvm/nfs/slvm1.img"]]   # kind, device[, guest device]
//! running = false
//! registered = ["node1", "node2"]      # hosts where it is registered
//! os = "linux"                         # hpux | linux | windows (hpvmstatus's OS type)
//! distribution = "redhat"              # a Linux guest's: redhat | sles
//! release = "B.11.23"                  # uname -r (default by OS)
//! java = "1.4.1_07"                    # java -version ("none": no java; "1.4.2-gcj": GNU gcj)
//! cmappserver = false                  # cmappserver installed (with its keys)
//! cmappserver_revision = "A.11.19.00"  # its revision (A.11.20.00)
//!
//! [hpvm.packages.slvm1]                # the package of a guest (slvm1 only)
//! kind = "old-toolkit"                 # toolkit | old-toolkit
//! nodes = ["node1", "node2"]           # node_name list
//! up = false                           # running (on the guest's host)
//! owner = "node2"                      # where slvm1 and its package run (node1)
//! autorun = false                      # package switching
//! appmon = ["ping_mon:/apps/ping_mon:10:2:300"]   # application monitor services
//! maintenance = ["node1"]              # hosts where <TKIT_DIR>/vtn.debug exists
//!
//! [[hpvm.modes]]                       # a directory's permission bits on one host
//! host = "node2"
//! path = "/etc/cmcluster/slvm1"
//! mode = "777"
//! ```
//!
//! Unknown keys anywhere are refused with the key's name.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::MigrateFault;

/// A scenario file as data.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScenarioFile {
    #[allow(dead_code)]
    #[serde(default)]
    summary: String,
    #[allow(dead_code)]
    #[serde(default)]
    section: String,
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    /// The faults.
    #[serde(default)]
    pub fault: FaultSpec,
    /// The site's changes.
    #[serde(default)]
    pub hpvm: HpvmSpec,
}

/// `[fault]`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct FaultSpec {
    /// How online migrations fail.
    pub migrate: Option<MigrateFault>,
    /// How many fail.
    pub migrate_failures: Option<u32>,
    /// How many times a monitored application dies.
    #[serde(default)]
    pub app_failures: u32,
    /// Its lifetime after each start (seconds).
    pub app_lifetime_seconds: Option<u64>,
    /// `cmappserver` unreachable.
    #[serde(default)]
    pub cmappserver_unreachable: bool,
    /// slvm1's guest goes Off on its VM host (as a crash would) this many seconds after the
    /// site starts (0: while the site is made, before any command).
    pub guest_crash_seconds: Option<u64>,
    /// A LAN switch on slvm1's VM host: the vswitch scripts log it in syslog (both
    /// toolkits' scripts when an old-toolkit package is there).
    #[serde(default)]
    pub lan_switch: bool,
}

/// `[hpvm]`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct HpvmSpec {
    /// Serviceguard release.
    pub sg_release: Option<String>,
    /// The cluster's VM hosts.
    pub nodes: Option<Vec<String>>,
    /// Guests by name.
    #[serde(default)]
    pub guests: BTreeMap<String, GuestSpec>,
    /// Packages by name.
    #[serde(default)]
    pub packages: BTreeMap<String, PackageSpec>,
    /// Directory modes.
    #[serde(default)]
    pub modes: Vec<ModeSpec>,
    /// Products not installed, by host (`swlist` answers "not found" for them).
    #[serde(default)]
    pub not_installed: BTreeMap<String, Vec<String>>,
    /// vswitches not configured, by host (`hpvmmigrate` to it: "Target VM Host error -
    /// vswitch validation failed.").
    #[serde(default)]
    pub missing_vswitches: BTreeMap<String, Vec<String>>,
}

/// `[hpvm.guests.<vm>]`.
#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct GuestSpec {
    /// Backing stores: `[kind, device]` or `[kind, device, guest device]` (`tape`, `dvd`, …;
    /// `disk` when left out).
    pub storage: Option<Vec<Vec<String>>>,
    /// Running.
    pub running: Option<bool>,
    /// Registered on.
    pub registered: Option<Vec<String>>,
    /// The guest's OS (`hpux`, `linux`, `windows`): `hpvmstatus`'s OS type.
    pub os: Option<String>,
    /// A Linux guest's distribution (`redhat`, `sles`).
    pub distribution: Option<String>,
    /// `uname -r` (by OS: `B.11.31`, `2.6.18-194.el5`, `2.6.16.60-0.54.5-default`).
    pub release: Option<String>,
    /// `java -version`'s version (`1.6.0_20`; `1.4.2-gcj` for GNU gcj; `none`: no java).
    pub java: Option<String>,
    /// `cmappserver` installed (and its keys and `cmappserver.conf` made).
    pub cmappserver: Option<bool>,
    /// The installed `cmappserver`'s revision (`A.11.20.00`).
    pub cmappserver_revision: Option<String>,
}

/// Which toolkit made a scenario's package.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum KindSpec {
    /// SG IVS toolkit.
    Toolkit,
    /// Old Integrity VM toolkit.
    OldToolkit,
}

/// `[hpvm.packages.<vm>]`.
#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct PackageSpec {
    /// Which toolkit.
    pub kind: Option<KindSpec>,
    /// `node_name` list.
    pub nodes: Option<Vec<String>>,
    /// Running.
    pub up: Option<bool>,
    /// The node slvm1 (guest and package) runs on, `node1` unless set (e.g. after a
    /// failover).
    pub owner: Option<String>,
    /// Package switching.
    pub autorun: Option<bool>,
    /// Application monitors `name:command:timeout:restart:halt_timeout`.
    #[serde(default)]
    pub appmon: Vec<String>,
    /// Hosts where the maintenance file exists.
    #[serde(default)]
    pub maintenance: Vec<String>,
}

/// `[[hpvm.modes]]`.
#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(crate) struct ModeSpec {
    /// Host.
    pub host: String,
    /// Directory.
    pub path: String,
    /// Octal permission bits.
    pub mode: String,
}

/// Parse a scenario's text (`Err` names what is wrong).
pub(crate) fn parse(text: &str) -> Result<ScenarioFile, String> {
    toml::from_str::<ScenarioFile>(text).map_err(|e| e.to_string().trim().to_string())
}
