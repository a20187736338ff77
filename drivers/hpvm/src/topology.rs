//! The static facts of a Serviceguard + Integrity VM site, as the inventory states them.
//! Where each guest runs, which host owns which package and the packages' node lists are
//! *not* here: they are read at run time (`hpvmstatus`, `cmviewcl -v -f line`).

use serde::{Deserialize, Serialize};

/// One VM host: an HP-UX Integrity VM host that is a member of the Serviceguard cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmHost {
    /// Inventory host name; also its Serviceguard node name (what `cmviewcl` prints, what
    /// `-n`/`-h` options are given).
    pub name: String,
}

/// One Integrity VM guest the inventory knows (role `vm-guest`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Guest {
    /// Inventory host name of the guest's OS (where application-monitoring steps run).
    pub name: String,
    /// The Integrity VM name (`hpvmstatus -P`), which is also its package's name; defaults
    /// to `name`.
    pub vm: String,
}

/// The whole static description of a Serviceguard + Integrity VM site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topology {
    /// The Serviceguard cluster name, when the inventory gives one (checked against
    /// `cmviewcl` by `cluster.health()`).
    pub cluster: Option<String>,
    /// VM hosts, in inventory order (the first one that answers is asked cluster-wide
    /// questions).
    pub vm_hosts: Vec<VmHost>,
    /// Guests, in inventory order.
    pub guests: Vec<Guest>,
    /// Where the simulated or real site came from, for banners.
    pub description: String,
}

impl Topology {
    /// The VM host named `name`.
    pub fn vm_host(&self, name: &str) -> Option<&VmHost> {
        self.vm_hosts.iter().find(|h| h.name == name)
    }

    /// The guest whose VM name or inventory name is `key`.
    pub fn guest(&self, key: &str) -> Option<&Guest> {
        self.guests.iter().find(|g| g.vm == key || g.name == key)
    }

    /// Inventory names of the VM hosts, in order.
    pub fn vm_host_names(&self) -> Vec<String> {
        self.vm_hosts.iter().map(|h| h.name.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topo() -> Topology {
        Topology {
            cluster: Some("cluster1".into()),
            vm_hosts: vec![
                VmHost {
                    name: "node1".into(),
                },
                VmHost {
                    name: "node2".into(),
                },
            ],
            guests: vec![Guest {
                name: "slvm1-os".into(),
                vm: "slvm1".into(),
            }],
            description: "test".into(),
        }
    }

    #[test]
    fn guests_are_found_by_vm_or_inventory_name() {
        let t = topo();
        assert_eq!(t.guest("slvm1").map(|g| g.name.as_str()), Some("slvm1-os"));
        assert_eq!(t.guest("slvm1-os").map(|g| g.vm.as_str()), Some("slvm1"));
        assert!(t.guest("slvm2").is_none());
        assert!(t.vm_host("node2").is_some());
        assert!(t.vm_host("slvm1").is_none());
        assert_eq!(t.vm_host_names(), vec!["node1", "node2"]);
    }
}
