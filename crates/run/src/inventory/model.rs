//! What a validated inventory is: hosts, transports, the site's topology; its error.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use hascript_ldoms::Topology;

/// How hascript reaches one host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// Run commands on this machine (`sh -c`), for a hascript that runs on the host itself
    /// or where every host is this machine.
    Local,
    /// The built-in simulator.
    Sim,
    /// OpenSSH-compatible SSH (see `crate::transport::ssh`).
    Ssh,
}

/// One host of the inventory with its transport settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostEntry {
    /// Inventory name.
    pub name: String,
    /// How it is reached.
    pub transport: TransportKind,
    /// Login user (for transports that log in).
    pub user: Option<String>,
    /// Network address, if given.
    pub address: Option<String>,
    /// SSH settings (only used with `transport = "ssh"`).
    pub ssh: crate::transport::ssh::SshOptions,
}

/// The static description of a Serviceguard + Integrity VM site (driver `hpvm`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HpvmHosts {
    /// The cluster's name, when the inventory gives it (`[hpvm] cluster = "…"`).
    pub cluster: Option<String>,
    /// VM hosts (Serviceguard nodes) in inventory order.
    pub vm_hosts: Vec<String>,
    /// Guests reachable as hosts: (inventory host name, VM name).
    pub guests: Vec<(String, String)>,
    /// For banners.
    pub description: String,
}

/// The static site description, per driver.
#[derive(Debug, Clone)]
pub enum SiteTopology {
    /// PRIMECLUSTER guest-domain cluster on LDoms.
    Ldoms(Topology),
    /// Serviceguard cluster of Integrity VM hosts.
    Hpvm(HpvmHosts),
}

impl SiteTopology {
    /// The site's description, for banners.
    pub fn description(&self) -> &str {
        match self {
            SiteTopology::Ldoms(t) => &t.description,
            SiteTopology::Hpvm(h) => &h.description,
        }
    }
}

/// A loaded and validated inventory.
#[derive(Debug, Clone)]
pub struct Inventory {
    /// Driver name (`ldoms`, `hpvm`).
    pub driver: String,
    /// The static site description for the driver.
    pub topology: SiteTopology,
    /// Hosts in inventory order with their transports.
    pub hosts: Vec<HostEntry>,
    /// `lock_dir` of hosts reached with `transport = "local"` (their own, else
    /// `[defaults]`): the folder their hascript lock is made in instead of `/var/tmp`
    /// (see [`crate::lock::lock_dirs`]).
    pub lock_dirs: BTreeMap<String, PathBuf>,
}

impl Inventory {
    /// Host names in inventory order.
    pub fn host_names(&self) -> Vec<String> {
        self.hosts.iter().map(|h| h.name.clone()).collect()
    }

    /// The transport of each host.
    pub fn transports(&self) -> BTreeMap<String, TransportKind> {
        self.hosts
            .iter()
            .map(|h| (h.name.clone(), h.transport))
            .collect()
    }
}

/// An inventory error: where (file, line, key) and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryError {
    /// The inventory file as given.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// The key concerned, when known.
    pub key: Option<String>,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for InventoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        if let Some(k) = &self.key {
            write!(f, ": key `{k}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for InventoryError {}
