//! The recovery decision of B5 as a pure function of what was observed: after a failure
//! once `cmmovevpkg` was sent, the driver reads `hpvmstatus -P VM` on every VM host and
//! `cmviewcl -v -f line`, and [`decide_recovery`] says what to do. Switching is enabled
//! again only when exactly one host runs the guest and that host owns the package; every
//! other state stops for a person.

use serde::Serialize;

/// What one VM host's `hpvmstatus -P VM` says of the guest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "presence", content = "detail", rename_all = "snake_case")]
pub enum Presence {
    /// `On (OS)`, `On (EFI)`, …: the guest runs here.
    On,
    /// `Off`: registered here, stopped, runnable.
    Off,
    /// `Off (NR)`: registered here, not runnable (the source copy of a migrated guest, or a
    /// distributed guest's copy on a host that does not run it).
    NotRunnable,
    /// Not registered on this host (`Unable to find the guest`).
    Absent,
    /// A state in between (a migration or a boot under way), as printed.
    Transitional(String),
    /// The host could not be asked or its answer not read (the reason).
    Unreadable(String),
}

/// Package status as far as the recovery needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PackageRun {
    /// `status=up`, `state=running`.
    Up,
    /// `status=down` / halted.
    Down,
    /// Starting, halting, failing: Serviceguard is in the middle of something.
    Moving,
    /// Anything else (unknown, Serviceguard's own maintenance).
    Other,
}

/// What `cmviewcl -v -f line` says of the package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageObs {
    /// Up, down or moving.
    pub run: PackageRun,
    /// The status and state words as printed, for messages.
    pub words: String,
    /// The node that runs the package, if any.
    pub owner: Option<String>,
    /// Package switching (`autorun=enabled`).
    pub autorun: bool,
    /// The package was made by the old Integrity VM toolkit (`hpvmsg_package`): `cmmovevpkg`
    /// migrates its guest but cannot start it on the target (the guide's "ERROR
    /// (cmmovevpkg): Unable to start package"). Only read when the package is down.
    pub old_toolkit: bool,
    /// Node switching is enabled for the package on these members.
    pub switching_on: Vec<String>,
}

/// Everything the decision looks at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Observed {
    /// The VM (= package) name.
    pub vm: String,
    /// Where the migration started, when known (inside the bracket).
    pub source: Option<String>,
    /// Where it was going, when known.
    pub target: Option<String>,
    /// Each VM host of the inventory, in order, with what it says of the guest.
    pub hosts: Vec<(String, Presence)>,
    /// The package in `cmviewcl`; `None` when it is not listed.
    pub package: Option<PackageObs>,
}

/// Where the guest ended, relative to the migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Landing {
    /// On the migration's source: it did not move.
    Source,
    /// On the migration's target: it moved despite the failure.
    Target,
    /// On a host that is neither (or source and target are unknown: a standalone recover).
    Elsewhere,
}

/// What the recovery does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum RecoveryAction {
    /// Something is still moving (a package or guest in transition): observe again.
    Wait {
        /// What is still moving.
        reason: String,
    },
    /// Exactly one host runs the guest and owns the package: enable package switching when
    /// it is off (`cmmodpkg -e VM`), then verify.
    Settle {
        /// The host that runs the guest and owns the package.
        host: String,
        /// Whether `cmmodpkg -e` is needed (switching is off).
        enable_switching: bool,
        /// Where that is relative to the migration.
        landing: Landing,
    },
    /// The guide's case of `cmmovevpkg` on an old-toolkit package: the guest runs on exactly
    /// one host, the package is halted. What the guide says to do — enable the package on
    /// that node by hand (node switching there, `cmrunpkg -n HOST VM`, `cmmodpkg -e VM`) — is
    /// offered as a confirmed step.
    EnableOnHost {
        /// The host that runs the guest.
        host: String,
        /// Whether node switching must be enabled on `host` first (`cmmodpkg -e -n HOST VM`).
        enable_node_switching: bool,
        /// What was found, in words.
        found: String,
    },
    /// A state outside the manual: stop and say what is left and what to do.
    Attention {
        /// What is left, in words.
        left: String,
        /// What the operator should do.
        remedy: String,
    },
}

/// The B5 recovery decision (see the module documentation). The order of the rules:
/// an unreadable host stops (a guest is never placed by guesswork); a transition is waited
/// out; then exactly one running copy owned by its host settles, anything else stops.
pub fn decide_recovery(o: &Observed) -> RecoveryAction {
    let vm = &o.vm;
    if let Some((h, Presence::Unreadable(why))) = o
        .hosts
        .iter()
        .find(|(_, p)| matches!(p, Presence::Unreadable(_)))
    {
        return RecoveryAction::Attention {
            left: format!(
                "cannot tell where {vm} runs: hpvmstatus -P {vm} on {h} could not be read ({why}); package switching of {vm} may still be disabled"
            ),
            remedy: format!(
                "check {h} (is it up and reachable?), run `hpvmstatus -P {vm}` on every VM host and `cmviewcl -v -p {vm}`, then run hpvm/recover-migration again"
            ),
        };
    }
    let moving: Vec<String> = o
        .hosts
        .iter()
        .filter_map(|(h, p)| match p {
            Presence::Transitional(w) => Some(format!("{vm} is {w} on {h}")),
            _ => None,
        })
        .chain(
            o.package
                .iter()
                .filter(|p| p.run == PackageRun::Moving)
                .map(|p| format!("package {vm} is {}", p.words)),
        )
        .collect();
    if !moving.is_empty() {
        return RecoveryAction::Wait {
            reason: moving.join("; "),
        };
    }
    let running: Vec<&str> = o
        .hosts
        .iter()
        .filter(|(_, p)| *p == Presence::On)
        .map(|(h, _)| h.as_str())
        .collect();
    let pkg_words = o
        .package
        .as_ref()
        .map(|p| {
            format!(
                "package {vm} is {} (owner {}, switching {})",
                p.words,
                p.owner.as_deref().unwrap_or("none"),
                if p.autorun { "enabled" } else { "disabled" }
            )
        })
        .unwrap_or_else(|| format!("cmviewcl does not list package {vm}"));
    let host = match running.as_slice() {
        [] => {
            return RecoveryAction::Attention {
                left: format!("{vm} runs on no VM host; {pkg_words}"),
                remedy: format!(
                    "find out why {vm} stopped (the package log /var/adm/cmcluster/log/{vm}.log and syslog on every VM host), then start it with Serviceguard (`cmrunpkg {vm}` and `cmmodpkg -e {vm}`: hascript package.run)"
                ),
            }
        }
        [one] => *one,
        several => {
            return RecoveryAction::Attention {
                left: format!(
                    "{vm} runs on several VM hosts at once ({}); {pkg_words}",
                    several.join(", ")
                ),
                remedy: format!(
                    "two copies of one guest can corrupt its disks: stop the copy on the host that does not own the package (`hpvmstop -P {vm} -F` there) at once, check the guest's file systems, then run hpvm/recover-migration again"
                ),
            }
        }
    };
    let Some(pkg) = &o.package else {
        return RecoveryAction::Attention {
            left: format!("{vm} runs on {host}, but {pkg_words}: the guest is not protected"),
            remedy: "check the cluster with `cmviewcl -v`; re-create the package (hpvm/deploy-package) if it was removed".to_string(),
        };
    };
    if pkg.run == PackageRun::Down && pkg.old_toolkit && pkg.owner.is_none() {
        return RecoveryAction::EnableOnHost {
            host: host.to_string(),
            enable_node_switching: !pkg.switching_on.iter().any(|n| n == host),
            found: format!(
                "{vm} runs on {host} and its package is halted: {pkg_words}. {vm} is a package of the old Integrity VM toolkit (hpvmsg_*): cmmovevpkg migrates its guest but cannot start the package (\"ERROR (cmmovevpkg): Unable to start package {vm}\"); the guide says to enable the package on the target node by hand"
            ),
        };
    }
    if pkg.run != PackageRun::Up {
        return RecoveryAction::Attention {
            left: format!(
                "{vm} runs on {host} outside Serviceguard's control: {pkg_words}"
            ),
            remedy: format!(
                "decide whether {vm} should run: either stop it on {host} (`hpvmstop -P {vm} -F`) and start the package (`cmrunpkg -n {host} {vm}`, `cmmodpkg -e {vm}`), or check the package log /var/adm/cmcluster/log/{vm}.log on {host}"
            ),
        };
    }
    if pkg.owner.as_deref() != Some(host) {
        return RecoveryAction::Attention {
            left: format!(
                "{vm} runs on {host}, but Serviceguard says the package runs on {}: {pkg_words}",
                pkg.owner.as_deref().unwrap_or("no node")
            ),
            remedy: format!(
                "do not enable switching while Serviceguard and Integrity VM disagree: check `cmviewcl -v -p {vm}` and `hpvmstatus -P {vm}` on every VM host; halting and re-running the package (`cmhaltpkg {vm}`, `cmrunpkg -n {host} {vm}`, `cmmodpkg -e {vm}`) brings them together at the cost of a restart"
            ),
        };
    }
    let landing = if o.target.as_deref() == Some(host) {
        Landing::Target
    } else if o.source.as_deref() == Some(host) {
        Landing::Source
    } else {
        Landing::Elsewhere
    };
    RecoveryAction::Settle {
        host: host.to_string(),
        enable_switching: !pkg.autorun,
        landing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(run: PackageRun, owner: Option<&str>, autorun: bool) -> Option<PackageObs> {
        Some(PackageObs {
            run,
            words: "up/running".into(),
            owner: owner.map(str::to_string),
            autorun,
            old_toolkit: false,
            switching_on: vec!["node1".into(), "node2".into()],
        })
    }

    fn obs(n1: Presence, n2: Presence, package: Option<PackageObs>) -> Observed {
        Observed {
            vm: "slvm1".into(),
            source: Some("node1".into()),
            target: Some("node2".into()),
            hosts: vec![("node1".into(), n1), ("node2".into(), n2)],
            package,
        }
    }

    fn attention(a: &RecoveryAction) -> (&str, &str) {
        match a {
            RecoveryAction::Attention { left, remedy } => (left, remedy),
            other => panic!("expected attention, got {other:?}"),
        }
    }

    #[test]
    fn stayed_on_source_with_switching_off_enables_it() {
        let a = decide_recovery(&obs(
            Presence::On,
            Presence::Absent,
            pkg(PackageRun::Up, Some("node1"), false),
        ));
        assert_eq!(
            a,
            RecoveryAction::Settle {
                host: "node1".into(),
                enable_switching: true,
                landing: Landing::Source
            }
        );
    }

    #[test]
    fn landed_on_target_settles_there() {
        let a = decide_recovery(&obs(
            Presence::NotRunnable,
            Presence::On,
            pkg(PackageRun::Up, Some("node2"), false),
        ));
        assert_eq!(
            a,
            RecoveryAction::Settle {
                host: "node2".into(),
                enable_switching: true,
                landing: Landing::Target
            }
        );
    }

    #[test]
    fn switching_already_on_sends_nothing() {
        let a = decide_recovery(&obs(
            Presence::On,
            Presence::Off,
            pkg(PackageRun::Up, Some("node1"), true),
        ));
        assert!(matches!(
            a,
            RecoveryAction::Settle {
                enable_switching: false,
                landing: Landing::Source,
                ..
            }
        ));
    }

    #[test]
    fn a_standalone_recover_lands_elsewhere() {
        let mut o = obs(
            Presence::On,
            Presence::Off,
            pkg(PackageRun::Up, Some("node1"), false),
        );
        o.source = None;
        o.target = None;
        assert!(matches!(
            decide_recovery(&o),
            RecoveryAction::Settle {
                landing: Landing::Elsewhere,
                ..
            }
        ));
    }

    #[test]
    fn running_on_both_hosts_stops() {
        let a = decide_recovery(&obs(
            Presence::On,
            Presence::On,
            pkg(PackageRun::Up, Some("node1"), false),
        ));
        let (left, remedy) = attention(&a);
        assert!(left.contains("node1, node2"), "{left}");
        assert!(remedy.contains("hpvmstop -P slvm1 -F"), "{remedy}");
    }

    #[test]
    fn running_nowhere_stops() {
        let a = decide_recovery(&obs(
            Presence::NotRunnable,
            Presence::Off,
            pkg(PackageRun::Down, None, false),
        ));
        let (left, remedy) = attention(&a);
        assert!(left.contains("runs on no VM host"), "{left}");
        assert!(remedy.contains("cmrunpkg slvm1"), "{remedy}");
    }

    #[test]
    fn owner_mismatch_stops() {
        let a = decide_recovery(&obs(
            Presence::NotRunnable,
            Presence::On,
            pkg(PackageRun::Up, Some("node1"), false),
        ));
        let (left, _) = attention(&a);
        assert!(
            left.contains("runs on node2, but Serviceguard says the package runs on node1"),
            "{left}"
        );
    }

    #[test]
    fn package_down_while_guest_runs_stops() {
        let a = decide_recovery(&obs(
            Presence::On,
            Presence::Absent,
            pkg(PackageRun::Down, None, false),
        ));
        let (left, _) = attention(&a);
        assert!(left.contains("outside Serviceguard's control"), "{left}");
    }

    /// The guide's old-toolkit case: the guest moved, the package is halted. Enabling the
    /// package where the guest runs is offered; node switching first when it is off there.
    #[test]
    fn old_toolkit_package_halted_after_a_move_is_enabled_where_its_guest_runs() {
        let mut p = pkg(PackageRun::Down, None, false).map(|mut p| {
            p.old_toolkit = true;
            p
        });
        let a = decide_recovery(&obs(Presence::NotRunnable, Presence::On, p.clone()));
        match &a {
            RecoveryAction::EnableOnHost {
                host,
                enable_node_switching,
                found,
            } => {
                assert_eq!(host, "node2");
                assert!(!enable_node_switching);
                assert!(found.contains("Unable to start package slvm1"), "{found}");
            }
            other => panic!("expected EnableOnHost, got {other:?}"),
        }
        if let Some(p) = &mut p {
            p.switching_on = vec!["node1".into()];
        }
        let a = decide_recovery(&obs(Presence::NotRunnable, Presence::On, p));
        assert!(
            matches!(
                a,
                RecoveryAction::EnableOnHost {
                    enable_node_switching: true,
                    ..
                }
            ),
            "{a:?}"
        );
        // A toolkit package in the same state is not the guide's case: a person decides.
        let a = decide_recovery(&obs(
            Presence::NotRunnable,
            Presence::On,
            pkg(PackageRun::Down, None, false),
        ));
        attention(&a);
        // Neither is an old-toolkit package whose guest runs on both hosts.
        let both = pkg(PackageRun::Down, None, false).map(|mut p| {
            p.old_toolkit = true;
            p
        });
        let a = decide_recovery(&obs(Presence::On, Presence::On, both));
        assert!(attention(&a).1.contains("hpvmstop"), "{a:?}");
    }

    #[test]
    fn package_missing_stops() {
        let a = decide_recovery(&obs(Presence::On, Presence::Absent, None));
        let (left, _) = attention(&a);
        assert!(left.contains("does not list package slvm1"), "{left}");
    }

    #[test]
    fn unreadable_host_stops_before_anything() {
        let a = decide_recovery(&obs(
            Presence::On,
            Presence::Unreadable("connection refused".into()),
            pkg(PackageRun::Up, Some("node1"), false),
        ));
        let (left, _) = attention(&a);
        assert!(left.contains("on node2 could not be read"), "{left}");
    }

    #[test]
    fn transitions_are_waited_out() {
        let a = decide_recovery(&obs(
            Presence::Transitional("Migrating".into()),
            Presence::Absent,
            pkg(PackageRun::Up, Some("node1"), false),
        ));
        assert!(
            matches!(a, RecoveryAction::Wait { reason } if reason.contains("Migrating on node1"))
        );
        let a = decide_recovery(&obs(
            Presence::On,
            Presence::Absent,
            pkg(PackageRun::Moving, Some("node1"), false),
        ));
        assert!(matches!(a, RecoveryAction::Wait { .. }));
    }
}
