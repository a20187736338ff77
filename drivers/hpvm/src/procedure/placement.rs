//! Where a VM guest may be moved online: the placement rules of procedures.md Part C for
//! Serviceguard, applied to what `hpvmstatus -P VM` on every VM host and
//! `cmviewcl -v -f line` say. A pure function ([`placement`]) so the rules are tested
//! without a site; [`Inner::placement_of`] feeds it. A placement is not a preflight:
//! `migrate` still runs every check of B5 (toolkit package, backing stores, products,
//! `hpvmmigrate -s`).

use hascript_api::{Placement, Result};

use super::observed::Presence;
use super::{members, node_up};
use crate::facts::Inner;
use crate::parse::cmviewcl_line::{ClusterView, PackageState, Status};

/// Where VM `vm` may go, one row per VM host of `vm_hosts` (inventory order). `hosts` is
/// what each VM host's `hpvmstatus -P` says of the guest; `view` is the cluster.
///
/// - a guest whose place cannot be told (a host that cannot be asked, a host where it is
///   in transition, several hosts running it) or that runs nowhere goes nowhere;
/// - not where it runs now;
/// - only a package moves (`cmmovevpkg`), and only while the package is up and running on
///   the host that runs the guest: a package in transition is a move under way (one guest
///   per package at a time);
/// - only to a host in the package's `node_name` list, with node switching enabled there,
///   up and running in the cluster.
pub fn placement(
    vm: &str,
    hosts: &[(String, Presence)],
    view: &ClusterView,
    vm_hosts: &[String],
) -> Vec<Placement> {
    let everywhere = |why: String| -> Vec<Placement> {
        vm_hosts
            .iter()
            .map(|h| Placement::refused(h, why.clone()))
            .collect()
    };
    if let Some((h, Presence::Unreadable(why))) = hosts
        .iter()
        .find(|(_, p)| matches!(p, Presence::Unreadable(_)))
    {
        return everywhere(format!(
            "cannot tell where {vm} runs: {h} cannot be asked ({why})"
        ));
    }
    if let Some((h, Presence::Transitional(w))) = hosts
        .iter()
        .find(|(_, p)| matches!(p, Presence::Transitional(_)))
    {
        return everywhere(format!(
            "{vm} is {w} on {h}: one move at a time, wait until it settles"
        ));
    }
    let running: Vec<&str> = hosts
        .iter()
        .filter(|(_, p)| *p == Presence::On)
        .map(|(h, _)| h.as_str())
        .collect();
    let source = match running.as_slice() {
        [one] => *one,
        [] => {
            return everywhere(format!(
                "{vm} runs on no VM host: an online migration needs a running guest"
            ))
        }
        several => {
            return everywhere(format!(
                "{vm} runs on several VM hosts at once ({}): a person decides (hpvm/recover-move)",
                several.join(", ")
            ))
        }
    };
    let pkg = view.package(vm);
    vm_hosts
        .iter()
        .map(|t| {
            if t == source {
                return Placement::refused(t, format!("is where {vm} runs now"));
            }
            let Some(p) = pkg else {
                return Placement::refused(
                    t,
                    format!("{vm} is not a package: cmmovevpkg cannot move it (package it first: hpvm/deploy-package)"),
                );
            };
            if p.status() != Status::Up || p.state() != PackageState::Running {
                return Placement::refused(
                    t,
                    format!(
                        "package {vm} is {}/{}, not up and running: one move at a time, and only a running package moves",
                        p.status, p.state
                    ),
                );
            }
            if p.owner.as_deref() != Some(source) {
                return Placement::refused(
                    t,
                    format!(
                        "package {vm} is owned by {} but the guest runs on {source}: a person decides (hpvm/recover-move)",
                        p.owner.as_deref().unwrap_or("no node")
                    ),
                );
            }
            match p.node(t) {
                None => Placement::refused(
                    t,
                    format!(
                        "not in the node_name list of {vm} ({})",
                        members(p).join(", ")
                    ),
                ),
                Some(n) if !n.switching().is_enabled() => Placement::refused(
                    t,
                    format!("node switching of {vm} on {t} is {}", n.switching),
                ),
                Some(n) if n.status() != Status::Up || !node_up(view, t) => Placement::refused(
                    t,
                    format!(
                        "{t} is not up (package node status {}, cluster node {})",
                        n.status,
                        view.node(t)
                            .map(|v| format!("{}/{}", v.status, v.state))
                            .unwrap_or_else(|| "not listed".into())
                    ),
                ),
                Some(_) => Placement::allowed(
                    t,
                    format!("in the node_name list of {vm}, up, node switching enabled"),
                ),
            }
        })
        .collect()
}

impl Inner {
    /// [`placement`] of VM `vm` on this site: `hpvmstatus -P` on every VM host and
    /// `cmviewcl -v -f line`.
    pub(crate) fn placement_of(&self, vm: &str) -> Result<Vec<Placement>> {
        let hosts: Vec<(String, Presence)> = self
            .guest_on_hosts(vm)?
            .into_iter()
            .map(|g| (g.host, g.presence))
            .collect();
        let view = self.view()?;
        if hosts.iter().all(|(_, p)| *p == Presence::Absent) && view.package(vm).is_none() {
            return Err(hascript_api::Error::usage(format!(
                "unknown guest {vm:?}: no VM host of the inventory ({}) knows it",
                self.topo.vm_host_names().join(", ")
            )));
        }
        Ok(placement(vm, &hosts, &view, &self.topo.vm_host_names()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::cmviewcl_line;

    const VIEW: &str = "\
name=cluster1
status=up
node:node1|name=node1
node:node1|status=up
node:node1|state=running
node:node2|name=node2
node:node2|status=up
node:node2|state=running
node:node3|name=node3
node:node3|status=up
node:node3|state=running
package:slvm1|name=slvm1
package:slvm1|status=up
package:slvm1|state=running
package:slvm1|autorun=enabled
package:slvm1|owner=node1
package:slvm1|node:node1|name=node1
package:slvm1|node:node1|status=up
package:slvm1|node:node1|switching=enabled
package:slvm1|node:node2|name=node2
package:slvm1|node:node2|status=up
package:slvm1|node:node2|switching=enabled
";

    fn view(text: &str) -> ClusterView {
        match cmviewcl_line::parse(text) {
            Ok(v) => v,
            Err(e) => panic!("fixture does not parse: {e}"),
        }
    }

    fn hosts3() -> Vec<String> {
        vec!["node1".into(), "node2".into(), "node3".into()]
    }

    fn on_node1() -> Vec<(String, Presence)> {
        vec![
            ("node1".into(), Presence::On),
            ("node2".into(), Presence::NotRunnable),
            ("node3".into(), Presence::Absent),
        ]
    }

    fn verdicts(rows: &[Placement]) -> Vec<(&str, bool)> {
        rows.iter().map(|r| (r.host.as_str(), r.allowed)).collect()
    }

    #[test]
    fn only_members_of_the_node_list_are_allowed() {
        let rows = placement("slvm1", &on_node1(), &view(VIEW), &hosts3());
        assert_eq!(
            verdicts(&rows),
            [("node1", false), ("node2", true), ("node3", false)]
        );
        assert_eq!(rows[0].reason, "is where slvm1 runs now");
        assert_eq!(
            rows[2].reason,
            "not in the node_name list of slvm1 (node1, node2)"
        );
    }

    #[test]
    fn node_switching_disabled_or_a_node_down_refuses_the_member() {
        let text = VIEW.replace(
            "package:slvm1|node:node2|switching=enabled",
            "package:slvm1|node:node2|switching=disabled",
        );
        let rows = placement("slvm1", &on_node1(), &view(&text), &hosts3());
        assert!(!rows[1].allowed);
        assert_eq!(
            rows[1].reason,
            "node switching of slvm1 on node2 is disabled"
        );
        let text = VIEW.replace("node:node2|state=running", "node:node2|state=halted");
        let rows = placement("slvm1", &on_node1(), &view(&text), &hosts3());
        assert!(!rows[1].allowed);
        assert!(
            rows[1].reason.contains("node2 is not up"),
            "{}",
            rows[1].reason
        );
    }

    #[test]
    fn an_unpackaged_guest_goes_nowhere() {
        let rows = placement("slvm2", &on_node1(), &view(VIEW), &hosts3());
        assert!(rows.iter().all(|r| !r.allowed));
        assert_eq!(rows[0].reason, "is where slvm2 runs now");
        assert!(
            rows[1]
                .reason
                .starts_with("slvm2 is not a package: cmmovevpkg cannot move it"),
            "{}",
            rows[1].reason
        );
    }

    #[test]
    fn a_package_in_transition_or_an_unclear_guest_goes_nowhere() {
        let text = VIEW.replace("package:slvm1|state=running", "package:slvm1|state=halting");
        let rows = placement("slvm1", &on_node1(), &view(&text), &hosts3());
        assert!(rows.iter().all(|r| !r.allowed));
        assert!(rows[1].reason.contains("up/halting"), "{}", rows[1].reason);

        let mut hosts = on_node1();
        hosts[1].1 = Presence::Transitional("Migrating".into());
        let rows = placement("slvm1", &hosts, &view(VIEW), &hosts3());
        assert!(rows.iter().all(|r| !r.allowed));
        assert!(
            rows[0].reason.contains("slvm1 is Migrating on node2"),
            "{}",
            rows[0].reason
        );

        let mut hosts = on_node1();
        hosts[2].1 = Presence::Unreadable("connection refused".into());
        let rows = placement("slvm1", &hosts, &view(VIEW), &hosts3());
        assert!(rows.iter().all(|r| !r.allowed));
        assert!(
            rows[1].reason.contains("node3 cannot be asked"),
            "{}",
            rows[1].reason
        );

        let mut hosts = on_node1();
        hosts[1].1 = Presence::On;
        let rows = placement("slvm1", &hosts, &view(VIEW), &hosts3());
        assert!(rows.iter().all(|r| !r.allowed));
        assert!(rows[0]
            .reason
            .contains("several VM hosts at once (node1, node2)"));

        let mut hosts = on_node1();
        hosts[0].1 = Presence::Off;
        let rows = placement("slvm1", &hosts, &view(VIEW), &hosts3());
        assert!(rows.iter().all(|r| !r.allowed));
        assert!(rows[0].reason.contains("runs on no VM host"));
    }

    #[test]
    fn an_owner_that_disagrees_with_the_guest_needs_a_person() {
        let text = VIEW.replace("package:slvm1|owner=node1", "package:slvm1|owner=node2");
        let rows = placement("slvm1", &on_node1(), &view(&text), &hosts3());
        assert!(rows.iter().all(|r| !r.allowed));
        assert!(
            rows[1]
                .reason
                .contains("owned by node2 but the guest runs on node1"),
            "{}",
            rows[1].reason
        );
    }
}
