//! The LDoms objects against the simulator, without the script engine: guard rails,
//! location, confirmations, and the commands each call sends.

mod support;

use std::sync::Arc;
use std::time::Duration;

use hascript_api::objects::Context;
use hascript_api::{CancelToken, Error, ErrorKind, Site};
use hascript_ldoms::LdomsSite;
use hascript_sim::SimSite;
use hascript_testkit::Recorder;
use support::{changes, site, site_over, topology};

#[test]
fn guest_location_is_read_from_every_control_domain() {
    let (s, sim, _) = site(None, None);
    let g = s.hypervisor().guest("guest2").expect("guest");
    assert_eq!(g["state"], "running");
    assert_eq!(g["control_domain"], "cd2");
    let cds: Vec<String> = sim.command_log().into_iter().map(|c| c.host).collect();
    assert_eq!(cds, vec!["cd1", "cd2", "cd3"]);
}

#[test]
fn commands_carry_the_c_locale_and_full_paths() {
    let (s, sim, _) = site(None, None);
    s.cluster().nodes().expect("nodes");
    let log = sim.command_log();
    assert_eq!(log[0].line, "LC_ALL=C /opt/SMAW/bin/cftool -n");
    assert_eq!(log[0].host, "guest1");
}

#[test]
fn nodes_and_timeout_read_the_cluster() {
    let (s, _sim, _) = site(None, None);
    let nodes = s.cluster().nodes().expect("nodes");
    let names: Vec<&str> = nodes
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|n| n["node"].as_str())
        .collect();
    assert_eq!(names, vec!["cfguest1", "cfguest2"]);
    assert_eq!(s.cluster().timeout().expect("timeout"), 10);
    assert_eq!(s.cluster().health().expect("health")["ok"], true);
}

#[test]
fn stop_of_a_live_node_is_refused_unless_forced() {
    let (s, sim, _) = site(None, None);
    let e = s.hypervisor().stop("guest2", false).expect_err("refused");
    assert_eq!(e.kind, ErrorKind::Check);
    assert!(e.message.contains("UP"), "{}", e.message);
    assert!(changes(&sim).is_empty());
    s.hypervisor().stop("guest2", true).expect("forced stop");
    assert_eq!(changes(&sim), vec!["cd2: /usr/sbin/ldm stop-domain guest2"]);
}

#[test]
fn start_before_down_is_refused() {
    let (s, sim, _) = site(None, None);
    s.cluster().prepare_migration("guest2").expect("prepared");
    s.hypervisor().stop("guest2", true).expect("stopped");
    // CF timeout is 600 s: the node still reads UP for a while.
    let e = s.hypervisor().start("guest2").expect_err("refused");
    assert_eq!(e.kind, ErrorKind::Check);
    assert!(e.message.contains("DOWN"), "{}", e.message);
    assert!(!changes(&sim).iter().any(|c| c.contains("start-domain")));
}

#[test]
fn finish_refuses_a_target_that_disagrees_with_where_the_guest_runs() {
    let (s, sim, _) = site(None, None);
    let e = s
        .cluster()
        .finish_migration("guest2", Some("cd3"))
        .expect_err("refused");
    assert_eq!(e.kind, ErrorKind::Usage);
    assert!(e.message.contains("runs on cd2"), "{}", e.message);
    assert!(changes(&sim).is_empty());
}

#[test]
fn finish_on_a_site_with_nothing_to_do_says_so() {
    let (s, sim, ui) = site(None, None);
    let r = s
        .cluster()
        .finish_migration("guest2", None)
        .expect("finish");
    assert_eq!(r["changed"], false);
    assert!(ui.text().contains("nothing to do"));
    assert!(changes(&sim).is_empty());
}

#[test]
fn prepare_sets_the_migration_timeout_and_is_idempotent() {
    let (s, sim, ui) = site(None, None);
    let r = s.cluster().prepare_migration("guest2").expect("prepare");
    assert_eq!(r["changed"], true);
    assert_eq!(s.cluster().timeout().expect("t"), 600);
    let r = s.cluster().prepare_migration("guest2").expect("again");
    assert_eq!(r["changed"], false);
    assert!(ui.text().contains("was done before"));
    assert_eq!(
        changes(&sim),
        vec!["cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -p guest2"]
    );
}

#[test]
fn declined_spconfig_removal_changes_nothing() {
    let (s, sim, ui) = site(Some("ldoms/seven-spconfigs"), Some(false));
    let e = s
        .hypervisor()
        .migrate("guest2", "cd3")
        .expect_err("declined");
    assert_eq!(e.kind, ErrorKind::Declined);
    assert!(
        ui.text().contains("? 17.3.1.2 needs at most 6"),
        "{}",
        ui.text()
    );
    assert!(changes(&sim).is_empty());
}

#[test]
fn protected_configurations_are_never_removed_by_hand_either() {
    let (s, sim, _) = site(None, None);
    let configs = s.hypervisor().configs("cd2").expect("configs");
    let current = configs
        .as_array()
        .expect("array")
        .iter()
        .find(|c| c["current"] == true)
        .and_then(|c| c["name"].as_str())
        .expect("a current config")
        .to_string();
    for name in ["factory-default", current.as_str()] {
        let e = s
            .hypervisor()
            .remove_config("cd2", name)
            .expect_err("refused");
        assert_eq!(e.kind, ErrorKind::Usage, "{name}");
    }
    assert!(changes(&sim).is_empty());
}

#[test]
fn migration_waits_for_down_on_the_virtual_clock() {
    let (s, sim, ui) = site(Some("ldoms/migration-aborted-guest-stopped"), None);
    let start = sim.clock().now();
    let e = s
        .hypervisor()
        .migrate("guest2", "cd3")
        .expect_err("did not move");
    assert_eq!(e.kind, ErrorKind::Failed, "{e}\n{}", ui.text());
    let waited = sim.clock().now() - start;
    assert!(
        waited >= Duration::from_secs(600),
        "virtual wait {waited:?}"
    );
    assert!(
        ui.text().contains("cfguest2 DOWN in cftool -n"),
        "{}",
        ui.text()
    );
}

#[test]
fn unknown_names_are_usage_errors_before_anything_is_sent() {
    let (s, sim, _) = site(None, None);
    for (g, t) in [
        ("guest9", "cd3"),
        ("guest2", "cd9"),
        ("guest2;id", "cd3"),
        ("guest2", "cd3 x"),
    ] {
        let e = s.hypervisor().migrate(g, t).expect_err("refused");
        assert_eq!(e.kind, ErrorKind::Usage, "{g} {t}");
    }
    assert!(sim.command_log().is_empty());
}

#[test]
fn target_may_be_given_by_address() {
    let (s, sim, _) = site(None, None);
    s.hypervisor()
        .migrate("guest2", "192.0.2.13")
        .expect("moved");
    assert!(changes(&sim)
        .contains(&"cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd3".to_string()));
}

#[test]
fn summary_reads_back_the_end_state() {
    let (s, _sim, _) = site(None, None);
    s.hypervisor().migrate("guest2", "cd3").expect("moved");
    let sum = s.summary("guest2").expect("summary");
    assert_eq!(sum["control_domain"], "cd3");
    assert_eq!(sum["cf_timeout"]["guest1"], 10);
    assert_eq!(sum["clsnmpsetup_matches_box"], true);
    assert_eq!(sum["clsnmpsetup_row"]["ppar_id"], "1");
}

#[test]
fn a_stopped_shutdown_facility_is_reported_at_once_by_a_health_check() {
    let (s, sim, _) = site(None, None);
    s.fence().stop().expect("stopped");
    let start = sim.clock().now();
    let v = s.fence().verify().expect("verdict");
    assert_eq!(v["ok"], false);
    assert_eq!(v["agents"][0]["verdict"], "NotRunning");
    // No -u in this run: nothing to wait for (the 300 s poll is for SF starting after -u).
    assert!(sim.clock().now() - start < Duration::from_secs(30));
}

#[test]
fn an_interruption_after_prepare_says_what_it_leaves() {
    let sim = SimSite::new(Some("ldoms/migration-aborted-guest-stopped")).expect("scenario");
    let token = CancelToken::new();
    let ui = Arc::new(Recorder {
        cancel_at_wait: Some(token.clone()),
        ..Default::default()
    });
    let ctx = Context::new(sim.exec(), sim.clock(), token, ui.clone());
    let s = LdomsSite::new(ctx, topology());
    let e = s
        .hypervisor()
        .migrate("guest2", "cd3")
        .expect_err("interrupted");
    assert_eq!(e.kind, ErrorKind::Cancelled, "{e}\n{}", ui.text());
    assert!(e.message.contains("fencing is off"), "{}", e.message);
    assert!(
        e.message.contains("ldoms/recover-migration"),
        "{}",
        e.message
    );
    // Nothing was sent after the interruption.
    let last = sim
        .command_log()
        .last()
        .map(|c| c.line.clone())
        .unwrap_or_default();
    assert!(last.contains("cftool -n"), "{last}");
}

#[test]
fn preflight_reports_an_inventory_that_disagrees_with_the_cluster() {
    let sim = SimSite::new(None).expect("default site");
    let ui = Arc::new(Recorder::default());
    let mut topo = topology();
    // The inventory says cd2's box has other XSCF addresses than the ones SF uses.
    topo.control_domains[1].xscf_lan0 = "10.20.30.99".into();
    let s = site_over(&sim, sim.exec(), ui.clone(), topo);
    let e = s
        .hypervisor()
        .preflight("guest2", "cd3")
        .expect_err("refused");
    assert_eq!(e.kind, ErrorKind::Check);
    assert!(
        e.message.contains("inventory agrees with the cluster"),
        "{}",
        e.message
    );
    assert!(e.message.contains("10.20.30.99"), "{}", e.message);
    assert!(changes(&sim).is_empty());
}

/// The simulator behind a transport that loses the answer of `ldm migrate-domain` (the
/// command still reaches the host and the migration goes on), like a session that dies or
/// a command killed at its timeout.
struct LosesMigrateAnswer(Arc<dyn hascript_api::Exec>);

impl hascript_api::Exec for LosesMigrateAnswer {
    fn exec(&self, cmd: &hascript_api::Command) -> Result<hascript_api::Output, Error> {
        let out = self.0.exec(cmd)?;
        if cmd.line().contains("migrate-domain guest2") {
            return Err(Error::new(
                ErrorKind::Timeout,
                "did not finish within 600 s and was killed",
            )
            .on_host(&cmd.host));
        }
        Ok(out)
    }
}

#[test]
fn a_lost_migrate_command_still_locates_the_guest_and_finishes() {
    let sim = SimSite::new(None).expect("default site");
    let ui = Arc::new(Recorder::default());
    let exec = Arc::new(LosesMigrateAnswer(sim.exec()));
    let s = site_over(&sim, exec, ui.clone(), topology());
    let r = s.hypervisor().migrate("guest2", "cd3").expect("finished");
    assert_eq!(r["control_domain"], "cd3", "{}", ui.text());
    assert!(ui.text().contains("did not report"), "{}", ui.text());
    assert!(changes(&sim)
        .contains(&"cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd3".to_string()));
}

#[test]
fn a_lost_migrate_command_on_a_failed_move_recovers_against_the_source() {
    let sim = SimSite::new(Some("ldoms/migration-aborted-guest-running")).expect("scenario");
    let ui = Arc::new(Recorder::default());
    let exec = Arc::new(LosesMigrateAnswer(sim.exec()));
    let s = site_over(&sim, exec, ui.clone(), topology());
    let e = s
        .hypervisor()
        .migrate("guest2", "cd3")
        .expect_err("did not move");
    assert_eq!(e.kind, ErrorKind::Failed, "{e}\n{}", ui.text());
    assert!(changes(&sim)
        .contains(&"cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd2".to_string()));
}

#[test]
fn the_target_must_be_registered_in_the_sources_hosts_file() {
    let sim = SimSite::new(None).expect("default site");
    let ui = Arc::new(Recorder::default());
    let mut topo = topology();
    topo.control_domains[2].hosts_name = "cd3-adm".into();
    let s = site_over(&sim, sim.exec(), ui.clone(), topo);
    let e = s
        .hypervisor()
        .preflight("guest2", "cd3")
        .expect_err("refused");
    assert!(
        e.message
            .contains("cd3-adm is not registered in /etc/inet/hosts on cd2"),
        "{}",
        e.message
    );

    let sim = SimSite::new(None).expect("default site");
    let mut topo = topology();
    topo.control_domains[2].address = Some("192.0.2.99".into());
    let s = site_over(&sim, sim.exec(), ui, topo);
    let e = s
        .hypervisor()
        .preflight("guest2", "cd3")
        .expect_err("refused");
    assert!(
        e.message
            .contains("as 192.0.2.13, but the inventory gives 192.0.2.99"),
        "{}",
        e.message
    );
    assert!(sim
        .command_log()
        .iter()
        .any(|c| c.line == "LC_ALL=C cat /etc/inet/hosts" && c.host == "cd2"));
}

/// `(host, allowed)` of each row of `hypervisor.placement`.
fn placement_verdicts(v: &serde_json::Value) -> Vec<(String, bool)> {
    v.as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| {
                    (
                        r["host"].as_str().unwrap_or_default().to_string(),
                        r["allowed"].as_bool().unwrap_or(false),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn placement_keeps_the_guest_cluster_on_different_boxes_and_changes_nothing() {
    let (s, sim, _) = site(None, None);
    let p = s.hypervisor().placement("guest2").expect("placement");
    assert_eq!(
        placement_verdicts(&p),
        [
            ("cd1".to_string(), false),
            ("cd2".to_string(), false),
            ("cd3".to_string(), true)
        ]
    );
    assert_eq!(
        p[0]["reason"],
        "same box (box1) as guest1 (on cd1) of the same guest cluster"
    );
    assert_eq!(p[1]["reason"], "is where guest2 runs now");
    // Read-only: `ldm list -p` on the control domains and nothing else.
    let log = sim.command_log();
    assert!(!log.is_empty());
    assert!(
        log.iter()
            .all(|c| c.line == "LC_ALL=C /usr/sbin/ldm list -p"),
        "{:?}",
        log.iter().map(|c| c.line.clone()).collect::<Vec<_>>()
    );
    assert!(changes(&sim).is_empty());

    let g = s.hypervisor().placement("guest1").expect("placement");
    assert_eq!(
        placement_verdicts(&g),
        [
            ("cd1".to_string(), false),
            ("cd2".to_string(), false),
            ("cd3".to_string(), true)
        ]
    );
    assert!(
        g[1]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("same box (box2) as guest2 (on cd2)")),
        "{g}"
    );
}

#[test]
fn placement_follows_the_guests_after_a_move() {
    let (s, _sim, _) = site(None, None);
    s.hypervisor().migrate("guest2", "cd3").expect("migrates");
    // guest2 on box3 now: guest1 may go to cd2 (box2 is free), not to cd3.
    let g = s.hypervisor().placement("guest1").expect("placement");
    assert_eq!(
        placement_verdicts(&g),
        [
            ("cd1".to_string(), false),
            ("cd2".to_string(), true),
            ("cd3".to_string(), false)
        ]
    );
}

#[test]
fn placement_and_group_refuse_unknown_or_malformed_guests() {
    let (s, sim, _) = site(None, None);
    for bad in ["nosuch", "guest2;reboot"] {
        let e = s.hypervisor().placement(bad).expect_err("refused");
        assert_eq!(e.kind, ErrorKind::Usage, "{bad}: {}", e.message);
        let e = s.hypervisor().group(bad).expect_err("refused");
        assert_eq!(e.kind, ErrorKind::Usage, "{bad}: {}", e.message);
    }
    assert!(sim.command_log().is_empty());
}

#[test]
fn group_is_the_guest_cluster_and_guests_carry_the_generic_host() {
    let (s, _sim, _) = site(None, None);
    let g = s.hypervisor().group("guest2").expect("group");
    assert_eq!(
        g,
        serde_json::json!({"guest": "guest2", "kind": "guest_cluster", "members": ["guest1", "guest2"]})
    );
    let rows = s.hypervisor().guests().expect("guests");
    let hosts: Vec<(String, String, String)> = rows
        .as_array()
        .expect("array")
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap_or_default().to_string(),
                r["host"].as_str().unwrap_or("()").to_string(),
                r["control_domain"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        hosts,
        [
            ("guest1".to_string(), "cd1".to_string(), "cd1".to_string()),
            ("guest2".to_string(), "cd2".to_string(), "cd2".to_string())
        ]
    );
}

#[test]
fn a_stopped_guest_has_no_host_and_goes_nowhere() {
    let (s, _sim, _) = site(None, None);
    s.hypervisor().stop("guest2", true).expect("forced stop");
    let rows = s.hypervisor().guests().expect("guests");
    let g2 = rows
        .as_array()
        .and_then(|a| a.iter().find(|r| r["name"] == "guest2"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(g2["control_domain"], "cd2", "{g2}");
    assert!(g2["host"].is_null(), "{g2}");
    let p = s.hypervisor().placement("guest2").expect("placement");
    assert!(placement_verdicts(&p).iter().all(|(_, ok)| !ok), "{p}");
    assert!(
        p[1]["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("is where guest2 is now (guest2 is stopped")),
        "{p}"
    );
    // guest1's placement no longer counts a running partner on box2, but the stopped
    // domain is still bound there: box2 stays refused.
    let g1 = s.hypervisor().placement("guest1").expect("placement");
    assert_eq!(g1[1]["allowed"], false, "{g1}");
}

/// `guests()` rows and `guest(g)` say the same thing with the same keys: `host` is where the
/// guest runs (not its inventory host), `state` one vocabulary — running and stopped.
#[test]
fn guests_rows_and_guest_agree_on_name_host_and_state() {
    let (s, _sim, _) = site(None, None);
    let agree = |expect: &[(&str, &str, Option<&str>)]| {
        let rows = s.hypervisor().guests().expect("guests");
        let rows = rows.as_array().expect("array");
        for (name, state, host) in expect {
            let r = rows
                .iter()
                .find(|r| r["name"] == *name)
                .unwrap_or_else(|| panic!("{name} not in {rows:?}"));
            let g = s.hypervisor().guest(name).expect("guest");
            for key in ["name", "host", "state", "control_domain", "ldm_state"] {
                assert_eq!(r[key], g[key], "{key}: row {r} vs guest {g}");
            }
            assert_eq!(g["state"], *state, "{g}");
            assert_eq!(g["host"].as_str(), *host, "{g}");
            assert_eq!(g["inventory_host"], *name, "{g}");
            let mut keys: Vec<&String> = g.as_object().expect("map").keys().collect();
            keys.sort();
            assert_eq!(
                keys,
                [
                    "control_domain",
                    "control_domains",
                    "host",
                    "inventory_host",
                    "ldm_state",
                    "name",
                    "source",
                    "state",
                    "target"
                ],
                "{g}"
            );
        }
    };
    agree(&[
        ("guest1", "running", Some("cd1")),
        ("guest2", "running", Some("cd2")),
    ]);
    s.hypervisor().stop("guest2", true).expect("forced stop");
    agree(&[("guest2", "stopped", None)]);
}
