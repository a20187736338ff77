//! The static facts of an LDoms site, as the inventory states them. Where each guest runs
//! and which CF node is which domain are *not* here: they are discovered at run time
//! (`ldm list -p`, `clsnmpsetup -l`) and disagreements with these facts are reported.

use serde::{Deserialize, Serialize};

/// One control domain (the LDoms management domain of a box, also a PRIMECLUSTER node).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlDomain {
    /// Inventory host name (what `host(name)` and commands use).
    pub name: String,
    /// Address other control domains reach it at (a migration target may be given as this).
    pub address: Option<String>,
    /// Name of this control domain in `/etc/inet/hosts` of the other control domains
    /// (what `clovmmigrate -u` is given); defaults to `name`.
    pub hosts_name: String,
    /// The physical box (SPARC M10/M12) it runs on.
    pub box_name: String,
    /// PPAR-ID of its physical partition.
    pub ppar_id: u32,
    /// XSCF-LAN#0 address of its box.
    pub xscf_lan0: String,
    /// XSCF-LAN#1 address of its box.
    pub xscf_lan1: String,
}

/// One guest domain that is a node of the guest-domain cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuestDomain {
    /// Inventory host name of the guest's OS (where `cftool`, `sdtool` … run).
    pub name: String,
    /// The LDoms domain name (defaults to `name`).
    pub domain: String,
}

/// The whole static description of an LDoms site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topology {
    /// Control domains, in inventory order.
    pub control_domains: Vec<ControlDomain>,
    /// Guest domains of the guest cluster, in inventory order.
    pub guests: Vec<GuestDomain>,
    /// The CF timeout the cluster normally runs with (seconds; the manual's default 10).
    pub cf_timeout: i64,
    /// XSCF user of the shutdown agents (`user-name` in `clsnmpsetup -l`), if known.
    pub xscf_user: Option<String>,
    /// Where the simulated or real site came from, for banners.
    pub description: String,
}

impl Topology {
    /// The control domain named `key`, matching its inventory name, its address or its
    /// `/etc/inet/hosts` name.
    pub fn control_domain(&self, key: &str) -> Option<&ControlDomain> {
        self.control_domains
            .iter()
            .find(|c| c.name == key || c.hosts_name == key || c.address.as_deref() == Some(key))
    }

    /// The guest whose domain name or inventory name is `key`.
    pub fn guest(&self, key: &str) -> Option<&GuestDomain> {
        self.guests
            .iter()
            .find(|g| g.domain == key || g.name == key)
    }
}
