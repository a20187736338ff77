//! Where a guest domain may be live-migrated: the placement rules of procedures.md Part C
//! applied to what `ldm list -p` says (via [`Location`]) and to the inventory's boxes. The
//! rules are a pure function ([`placement`]) so they are tested without a site; the
//! objects feed it with [`Inner::locate`] of the guest and of every other node of its guest
//! cluster. A placement is not a preflight: `migrate` still runs every check of A0.

use hascript_api::{Placement, Result};

use crate::facts::Inner;
use crate::locate::Location;
use crate::topology::{ControlDomain, GuestDomain};

/// Where `guest` may go, one row per control domain of `cds` (inventory order):
///
/// - a guest that is not running goes nowhere (a live migration needs a running guest);
/// - while another node of the guest cluster is being migrated, or its place is unclear
///   (listed on several control domains), the guest goes nowhere: one guest per cluster at
///   a time;
/// - not where it runs now, nor onto another control domain of the same box and PPAR (the
///   A0 rule "target on another box");
/// - never onto a box that already hosts another node of the guest cluster (running or
///   stopped there), which would make one box a single point of failure of the cluster.
///
/// `peers` are the other nodes of the guest cluster with where they are.
pub fn placement(
    guest: &str,
    here: &Location,
    peers: &[(String, Location)],
    cds: &[ControlDomain],
) -> Vec<Placement> {
    let box_of = |cd: &str| cds.iter().find(|c| c.name == cd);
    let source = match here {
        Location::Running { control_domain } => control_domain.clone(),
        other => {
            let why = format!(
                "{}: a live migration needs a running guest",
                other.describe(guest)
            );
            return cds
                .iter()
                .map(|c| {
                    if other.control_domain() == Some(c.name.as_str()) {
                        Placement::refused(&c.name, format!("is where {guest} is now ({why})"))
                    } else {
                        Placement::refused(&c.name, why.clone())
                    }
                })
                .collect();
        }
    };
    // One guest per cluster in motion at a time.
    let busy: Vec<String> = peers
        .iter()
        .filter_map(|(name, loc)| match loc {
            Location::Migrating { .. } | Location::Ambiguous { .. } => Some(format!(
                "{name} of the same guest cluster is not settled ({}): one guest per cluster at a time",
                loc.describe(name)
            )),
            _ => None,
        })
        .collect();
    let src = box_of(&source);
    cds.iter()
        .map(|t| {
            if t.name == source {
                return Placement::refused(&t.name, format!("is where {guest} runs now"));
            }
            if let Some(b) = busy.first() {
                return Placement::refused(&t.name, b.clone());
            }
            if let Some(s) = src {
                if s.box_name == t.box_name && s.ppar_id == t.ppar_id {
                    return Placement::refused(
                        &t.name,
                        format!(
                            "same box and PPAR ({} PPAR {}) as {source}, where {guest} runs now",
                            t.box_name, t.ppar_id
                        ),
                    );
                }
            }
            let partners: Vec<String> = peers
                .iter()
                .filter_map(|(name, loc)| {
                    let cd = loc.control_domain()?;
                    let c = box_of(cd)?;
                    (c.box_name == t.box_name).then(|| format!("{name} (on {cd})"))
                })
                .collect();
            if partners.is_empty() {
                Placement::allowed(
                    &t.name,
                    format!("{} hosts no other node of the guest cluster", t.box_name),
                )
            } else {
                Placement::refused(
                    &t.name,
                    format!(
                        "same box ({}) as {} of the same guest cluster",
                        t.box_name,
                        partners.join(", ")
                    ),
                )
            }
        })
        .collect()
}

impl Inner {
    /// The nodes of `guest`'s guest cluster other than itself, with where each is. The
    /// inventory's guest domains are the cluster's nodes (A0 checks that against
    /// `clsnmpsetup -l`).
    pub(crate) fn peers_of(&self, guest: &GuestDomain) -> Result<Vec<(String, Location)>> {
        self.topo
            .guests
            .iter()
            .filter(|g| g.domain != guest.domain)
            .map(|g| Ok((g.domain.clone(), self.locate(&g.domain)?)))
            .collect()
    }

    /// [`placement`] of `guest` on this site, read with `ldm list -p` on every control
    /// domain.
    pub(crate) fn placement_of(&self, guest: &GuestDomain) -> Result<Vec<Placement>> {
        let here = self.locate(&guest.domain)?;
        let peers = self.peers_of(guest)?;
        Ok(placement(
            &guest.domain,
            &here,
            &peers,
            &self.topo.control_domains,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cd(name: &str, box_name: &str, ppar: u32) -> ControlDomain {
        ControlDomain {
            name: name.into(),
            address: None,
            hosts_name: name.into(),
            box_name: box_name.into(),
            ppar_id: ppar,
            xscf_lan0: "10.0.0.1".into(),
            xscf_lan1: "10.0.1.1".into(),
        }
    }

    fn running(cd: &str) -> Location {
        Location::Running {
            control_domain: cd.into(),
        }
    }

    fn site() -> Vec<ControlDomain> {
        vec![
            cd("cd1", "box1", 0),
            cd("cd2", "box2", 0),
            cd("cd3", "box3", 1),
        ]
    }

    fn verdicts(rows: &[Placement]) -> Vec<(&str, bool)> {
        rows.iter().map(|r| (r.host.as_str(), r.allowed)).collect()
    }

    #[test]
    fn the_box_of_a_partner_and_the_current_host_are_refused() {
        let rows = placement(
            "guest2",
            &running("cd2"),
            &[("guest1".into(), running("cd1"))],
            &site(),
        );
        assert_eq!(
            verdicts(&rows),
            [("cd1", false), ("cd2", false), ("cd3", true)]
        );
        assert_eq!(
            rows[0].reason,
            "same box (box1) as guest1 (on cd1) of the same guest cluster"
        );
        assert_eq!(rows[1].reason, "is where guest2 runs now");
        assert_eq!(
            rows[2].reason,
            "box3 hosts no other node of the guest cluster"
        );
    }

    #[test]
    fn a_stopped_partner_still_occupies_its_box() {
        let stopped = Location::Stopped {
            control_domain: "cd3".into(),
            ldm_state: "bound".into(),
        };
        let rows = placement(
            "guest1",
            &running("cd1"),
            &[("guest2".into(), stopped)],
            &site(),
        );
        assert_eq!(
            verdicts(&rows),
            [("cd1", false), ("cd2", true), ("cd3", false)]
        );
        assert!(
            rows[2].reason.contains("guest2 (on cd3)"),
            "{}",
            rows[2].reason
        );
    }

    #[test]
    fn another_domain_on_the_same_box_and_ppar_is_refused_another_ppar_is_not() {
        let cds = vec![
            cd("cd1", "box1", 0),
            cd("cd1b", "box1", 0),
            cd("cd1p", "box1", 1),
        ];
        let rows = placement("guest1", &running("cd1"), &[], &cds);
        assert_eq!(
            verdicts(&rows),
            [("cd1", false), ("cd1b", false), ("cd1p", true)]
        );
        assert!(
            rows[1].reason.contains("same box and PPAR (box1 PPAR 0)"),
            "{}",
            rows[1].reason
        );
    }

    #[test]
    fn a_partner_in_motion_blocks_every_target() {
        let moving = Location::Migrating {
            source: Some("cd1".into()),
            target: Some("cd3".into()),
        };
        let rows = placement(
            "guest2",
            &running("cd2"),
            &[("guest1".into(), moving)],
            &site(),
        );
        assert!(rows.iter().all(|r| !r.allowed));
        assert!(
            rows[0]
                .reason
                .contains("guest1 of the same guest cluster is not settled (guest1 is being migrated from cd1 to cd3): one guest per cluster at a time"),
            "{}",
            rows[0].reason
        );
    }

    #[test]
    fn a_guest_that_is_not_running_goes_nowhere() {
        let stopped = Location::Stopped {
            control_domain: "cd2".into(),
            ldm_state: "bound".into(),
        };
        let rows = placement("guest2", &stopped, &[], &site());
        assert!(rows.iter().all(|r| !r.allowed));
        assert!(rows[0]
            .reason
            .contains("a live migration needs a running guest"));
        assert!(
            rows[1].reason.starts_with("is where guest2 is now"),
            "{}",
            rows[1].reason
        );
    }
}
