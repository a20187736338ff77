//! The LDoms objects and operations against the simulator, without the script engine:
//! guard rails (the operations' interlocks), location, confirmations, and the commands each
//! call sends. The procedure's sequence is the scripts' (scripts/ldoms); tests/scenarios.rs
//! and tests/ldoms_recovery.rs run it through the binary.

mod support;

use std::sync::Arc;
use std::time::Duration;

use hascript_api::objects::Context;
use hascript_api::{CancelToken, Error, ErrorKind, Object, Site};
use hascript_ldoms::LdomsSite;
use hascript_sim::SimSite;
use hascript_testkit::placement_verdicts;
use hascript_testkit::Recorder;
use serde_json::{json, Value};
use support::{
    changes, finish, migrate_domain, move_guest, op, prepare, recover_routine, site, site_over,
    topology,
};

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
    prepare(&s, "guest2", None).expect("prepared");
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
    let e = finish(&s, "guest2", Some("cd3")).expect_err("refused");
    assert_eq!(e.kind, ErrorKind::Usage);
    assert!(e.message.contains("runs on cd2"), "{}", e.message);
    assert!(changes(&sim).is_empty());
}

#[test]
fn finish_on_a_site_with_nothing_to_do_says_so() {
    let (s, sim, ui) = site(None, None);
    let r = finish(&s, "guest2", None).expect("finish");
    assert_eq!(r["changed"], false);
    assert!(ui.text().contains("nothing to do"));
    assert!(changes(&sim).is_empty());
}

#[test]
fn prepare_sets_the_migration_timeout_and_is_idempotent() {
    let (s, sim, ui) = site(None, None);
    let r = prepare(&s, "guest2", None).expect("prepare");
    assert_eq!(r["changed"], true);
    assert_eq!(s.cluster().timeout().expect("t"), 600);
    let r = prepare(&s, "guest2", None).expect("again");
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
    // The saved-configuration step of ldoms/live-migration, on both control domains.
    let e = op(
        &s,
        Object::Hypervisor,
        "clean_configs",
        &[json!(["cd2", "cd3"])],
    )
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
    let configs = op(&s, Object::Hypervisor, "configs", &[json!("cd2")]).expect("configs");
    let current = configs
        .as_array()
        .expect("array")
        .iter()
        .find(|c| c["current"] == true)
        .and_then(|c| c["name"].as_str())
        .expect("a current config")
        .to_string();
    for name in ["factory-default", current.as_str()] {
        let e = op(
            &s,
            Object::Hypervisor,
            "remove_config",
            &[json!("cd2"), json!(name)],
        )
        .expect_err("refused");
        assert_eq!(e.kind, ErrorKind::Usage, "{name}");
    }
    assert!(changes(&sim).is_empty());
}

#[test]
fn migration_waits_for_down_on_the_virtual_clock() {
    let (s, sim, ui) = site(Some("ldoms/migration-aborted-guest-stopped"), None);
    // About 600 s after clovmmigrate -p (note under 17.3.1.1).
    let start = sim.clock().now();
    prepare(&s, "guest2", Some("cd3")).expect("17.3.1.1");
    // The move fails and leaves the guest stopped on the source: not an error of the
    // operation (the script decides), but where the guest really is.
    let moved = migrate_domain(&s, "guest2", "cd3").expect("where it ended");
    assert_eq!(moved["moved"], false, "{moved}\n{}", ui.text());
    assert_eq!(moved["control_domain"], "cd2", "{moved}");
    let loc = op(&s, Object::Hypervisor, "locate", &[json!("guest2")]).expect("located");
    assert_eq!(loc["state"], "stopped", "{loc}");
    // The recovery's first wait (17.3.1.1 note), with the script's arguments.
    let down = op(
        &s,
        Object::Cluster,
        "wait_guest_node",
        &[
            json!("guest2"),
            json!("DOWN"),
            json!({"deadline": 900, "expected": 600, "section": "17.3.1.1"}),
        ],
    )
    .expect("waited");
    assert_eq!(down["reached"], true, "{down}\n{}", ui.text());
    assert_eq!(down["node"], "cfguest2", "{down}");
    let waited = sim.clock().now() - start;
    assert!(
        waited >= Duration::from_secs(600),
        "virtual wait {waited:?}"
    );
    assert!(down["waited"].as_u64().is_some_and(|w| w > 0), "{down}");
    assert!(
        ui.text().contains("cfguest2 DOWN in cftool -n"),
        "{}",
        ui.text()
    );
    // A wait only reads.
    assert_eq!(
        changes(&sim),
        [
            "cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -p guest2",
            "cd2: /usr/sbin/ldm migrate-domain guest2 cd3"
        ]
    );
}

#[test]
fn a_node_that_does_not_reach_the_state_by_the_deadline_is_a_verdict_not_an_error() {
    let (s, sim, ui) = site(Some("ldoms/node-stays-leftcluster"), None);
    prepare(&s, "guest2", Some("cd3")).expect("17.3.1.1");
    let moved = migrate_domain(&s, "guest2", "cd3").expect("where it ended");
    assert_eq!(moved["moved"], false, "{moved}\n{}", ui.text());
    let start = sim.clock().now();
    let down = op(
        &s,
        Object::Cluster,
        "wait_guest_node",
        &[json!("guest2"), json!("DOWN"), json!({"deadline": 700})],
    )
    .expect("a verdict");
    assert_eq!(down["reached"], false, "{down}");
    assert_eq!(down["last"], "LEFTCLUSTER", "{down}");
    // The deadline given by the script is the one kept (not the 900 s default).
    let waited = sim.clock().now() - start;
    assert!(
        waited >= Duration::from_secs(700) && waited < Duration::from_secs(800),
        "virtual wait {waited:?}"
    );
    assert!(
        !changes(&sim).iter().any(|c| c.contains("start-domain")),
        "a wait only reads"
    );
    // Bad arguments are usage errors before anything is sent.
    let before = sim.command_log().len();
    for args in [
        [json!("guest2"), json!("SIDEWAYS"), json!({})],
        [json!("guest2"), json!("DOWN"), json!({"deadline": 0})],
        [json!("guest2"), json!("DOWN"), json!({"dedline": 60})],
    ] {
        let e = op(&s, Object::Cluster, "wait_guest_node", &args).expect_err("refused");
        assert_eq!(e.kind, ErrorKind::Usage, "{args:?}: {e}");
    }
    assert_eq!(sim.command_log().len(), before);
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
        // Every operation that takes a guest and a target, as the procedures call them.
        for (object, name, args) in [
            (
                Object::Cluster,
                "prepare_migration",
                vec![json!(g), json!(t)],
            ),
            (
                Object::Hypervisor,
                "migrate_domain",
                vec![json!(g), json!(t)],
            ),
            (
                Object::Hypervisor,
                "migrate_domain",
                vec![json!(g), json!(t), json!({"password_file": "/etc/ldm-pw"})],
            ),
            (
                Object::Cluster,
                "finish_migration",
                vec![json!(g), json!(t)],
            ),
            (
                Object::Hypervisor,
                "check_target_box_free",
                vec![json!(g), json!(t)],
            ),
            (
                Object::Hypervisor,
                "check_migration_dry_run",
                vec![json!(g), json!("cd2"), json!(t)],
            ),
        ] {
            let e = op(&s, object, name, &args).expect_err("refused");
            assert_eq!(e.kind, ErrorKind::Usage, "{name} {g} {t}: {e}");
        }
    }
    for bad in ["guest9", "guest2;id"] {
        let e = op(&s, Object::Hypervisor, "locate", &[json!(bad)]).expect_err("refused");
        assert_eq!(e.kind, ErrorKind::Usage, "{bad}");
        let e = prepare(&s, bad, None).expect_err("refused");
        assert_eq!(e.kind, ErrorKind::Usage, "{bad}");
    }
    for bad in ["cd9", "cd3 x"] {
        let e = op(&s, Object::Hypervisor, "control_domain", &[json!(bad)]).expect_err("refused");
        assert_eq!(e.kind, ErrorKind::Usage, "{bad}");
    }
    assert!(changes(&sim).is_empty());
    let e = op(&s, Object::Cluster, "no_such_step", &[]).expect_err("unknown");
    assert_eq!(e.kind, ErrorKind::Unsupported, "{e}");
    assert!(sim.command_log().is_empty());
}

#[test]
fn target_may_be_given_by_address() {
    let (s, sim, _) = site(None, None);
    let (moved, verdict) = move_guest(&s, "guest2", "192.0.2.13");
    assert_eq!(moved["control_domain"], "cd3", "{moved}");
    assert_eq!(verdict["ok"], true, "{verdict}");
    assert_eq!(
        changes(&sim),
        [
            "cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -p guest2",
            "cd2: /usr/sbin/ldm migrate-domain guest2 cd3",
            "cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd3"
        ]
    );
}

#[test]
fn summary_reads_back_the_end_state() {
    let (s, _sim, _) = site(None, None);
    move_guest(&s, "guest2", "cd3");
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
    prepare(&s, "guest2", Some("cd3")).expect("17.3.1.1");
    let moved = migrate_domain(&s, "guest2", "cd3").expect("where it ended");
    assert_eq!(moved["moved"], false, "{moved}");
    // Ctrl-C during the recovery's DOWN wait.
    let e = op(
        &s,
        Object::Cluster,
        "wait_guest_node",
        &[
            json!("guest2"),
            json!("DOWN"),
            json!({"expected": 600, "section": "17.3.1.1"}),
        ],
    )
    .expect_err("interrupted");
    assert_eq!(e.kind, ErrorKind::Cancelled, "{e}\n{}", ui.text());
    // What it leaves: the routine 17.3.1.1 registered, pending, naming the procedure that
    // finishes the job (the run executes it; the journal says what it is).
    let pending = s.context().recoveries.pending();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].routine, Some(recover_routine("guest2")));
    assert!(
        pending[0].what.contains("recover the migration of guest2"),
        "{}",
        pending[0].what
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
    // The preflight's check (a verdict, never an error for a failed one).
    let v = op(&s, Object::Cluster, "check_inventory", &[]).expect("a verdict");
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["check"], "inventory agrees with the cluster");
    let detail = v["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("10.20.30.99"), "{v}");
    assert!(detail.contains("guest2"), "{v}");
    assert!(
        v["remedy"]
            .as_str()
            .is_some_and(|r| r.contains("inventory")),
        "{v}"
    );
    // A check operation judges only: the script that runs the checks shows and journals
    // each verdict (`report_check` in lib/ldoms/migration's run_checks).
    assert!(
        !ui.text().contains("inventory agrees with the cluster"),
        "{}",
        ui.text()
    );
    assert!(changes(&sim).is_empty());
    // The site as inventoried agrees.
    let (s, _sim, _) = site(None, None);
    let v = op(&s, Object::Cluster, "check_inventory", &[]).expect("a verdict");
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["remedy"], Value::Null, "{v}");
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
    prepare(&s, "guest2", Some("cd3")).expect("17.3.1.1");
    let r = migrate_domain(&s, "guest2", "cd3").expect("located");
    assert_eq!(r["moved"], true, "{r}\n{}", ui.text());
    assert_eq!(r["changed"], true, "{r}");
    assert_eq!(r["source"], "cd2", "{r}");
    assert_eq!(r["control_domain"], "cd3", "{}", ui.text());
    assert!(ui.text().contains("did not report"), "{}", ui.text());
    let f = finish(&s, "guest2", Some("cd3")).expect("17.3.1.2 step 1");
    assert_eq!(f["control_domain"], "cd3", "{f}");
    assert!(changes(&sim)
        .contains(&"cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd3".to_string()));
}

#[test]
fn a_lost_migrate_command_on_a_failed_move_recovers_against_the_source() {
    let sim = SimSite::new(Some("ldoms/migration-aborted-guest-running")).expect("scenario");
    let ui = Arc::new(Recorder::default());
    let exec = Arc::new(LosesMigrateAnswer(sim.exec()));
    let s = site_over(&sim, exec, ui.clone(), topology());
    prepare(&s, "guest2", Some("cd3")).expect("17.3.1.1");
    let r = migrate_domain(&s, "guest2", "cd3").expect("located");
    // Where the guest really is, whatever the lost command would have said.
    assert_eq!(r["moved"], false, "{r}\n{}", ui.text());
    assert_eq!(r["control_domain"], "cd2", "{r}");
    assert!(ui.text().contains("did not report"), "{}", ui.text());
    // The recovery (lib/ldoms/migration `recover`) finishes against the control domain
    // the move answered; naming the target instead is refused.
    let e = finish(&s, "guest2", Some("cd3")).expect_err("not where it runs");
    assert_eq!(e.kind, ErrorKind::Usage, "{e}");
    finish(&s, "guest2", r["control_domain"].as_str()).expect("17.3.1.2 against the source");
    assert_eq!(s.fence().verify().expect("verdict")["ok"], true);
    assert_eq!(
        changes(&sim),
        [
            "cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -p guest2",
            "cd2: /usr/sbin/ldm migrate-domain guest2 cd3",
            "cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd2"
        ]
    );
}

#[test]
fn the_target_must_be_registered_in_the_sources_hosts_file() {
    let sim = SimSite::new(None).expect("default site");
    let ui = Arc::new(Recorder::default());
    let mut topo = topology();
    topo.control_domains[2].hosts_name = "cd3-adm".into();
    let s = site_over(&sim, sim.exec(), ui.clone(), topo);
    let hosts_check = |s: &LdomsSite| {
        op(
            s,
            Object::Hypervisor,
            "check_target_in_hosts",
            &[json!("cd2"), json!("cd3")],
        )
        .expect("a verdict")
    };
    let v = hosts_check(&s);
    assert_eq!(v["ok"], false, "{v}");
    assert!(
        v["detail"]
            .as_str()
            .is_some_and(|d| d.contains("cd3-adm is not registered in /etc/inet/hosts on cd2")),
        "{v}"
    );
    assert!(v["remedy"].is_string(), "{v}");

    let sim = SimSite::new(None).expect("default site");
    let mut topo = topology();
    topo.control_domains[2].address = Some("192.0.2.99".into());
    let s = site_over(&sim, sim.exec(), ui, topo);
    let v = hosts_check(&s);
    assert_eq!(v["ok"], false, "{v}");
    assert!(
        v["detail"]
            .as_str()
            .is_some_and(|d| d.contains("as 192.0.2.13, but the inventory gives 192.0.2.99")),
        "{v}"
    );
    assert!(sim
        .command_log()
        .iter()
        .any(|c| c.line == "LC_ALL=C cat /etc/inet/hosts" && c.host == "cd2"));
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
    move_guest(&s, "guest2", "cd3");
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

// ----- the interlocks of the changing operations ------------------------------------------

#[test]
fn prepare_migration_is_refused_while_the_saved_configuration_rule_is_broken() {
    // cd2 (the source) holds 7 saved configurations; cd3 (the target) holds config_tmp.
    for (scenario, target, names) in [
        (
            "ldoms/seven-spconfigs",
            None,
            "cd2 has 7 saved configurations",
        ),
        (
            "ldoms/seven-spconfigs",
            Some("cd3"),
            "cd2 has 7 saved configurations",
        ),
        ("ldoms/config-tmp-present", Some("cd3"), "config_tmp"),
    ] {
        let (s, sim, ui) = site(Some(scenario), Some(true));
        let e = prepare(&s, "guest2", target).expect_err("refused");
        assert_eq!(e.kind, ErrorKind::Check, "{scenario}: {e}");
        assert!(
            e.message
                .contains("the saved-configuration rule of 17.3.1.2 does not hold"),
            "{scenario}: {}",
            e.message
        );
        assert!(e.message.contains(names), "{scenario}: {}", e.message);
        assert!(
            e.remedy
                .as_deref()
                .is_some_and(|r| r.contains("clean_configs")),
            "{scenario}: {e:?}"
        );
        // Refused before anything changed: no -p, no configuration removed (even with
        // --yes: the interlock reads, the saved-configuration step asks), no routine.
        assert!(changes(&sim).is_empty(), "{scenario}: {:?}", changes(&sim));
        assert!(
            !ui.text().contains("? "),
            "{scenario}: asked\n{}",
            ui.text()
        );
        assert!(s.context().recoveries.pending().is_empty(), "{scenario}");
        assert_eq!(s.cluster().timeout().expect("t"), 10, "{scenario}");
    }
    // Without the target, the rule is checked on the source only: config_tmp on cd3 does
    // not hold 17.3.1.1 back (ldoms/pre-migration always names the target).
    let (s, sim, _) = site(Some("ldoms/config-tmp-present"), None);
    prepare(&s, "guest2", None).expect("the source's rule holds");
    assert_eq!(
        changes(&sim),
        ["cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -p guest2"]
    );
}

#[test]
fn prepare_migration_goes_ahead_once_the_saved_configurations_were_cleaned() {
    let (s, sim, _) = site(Some("ldoms/config-tmp-present"), Some(true));
    op(
        &s,
        Object::Hypervisor,
        "clean_configs",
        &[json!(["cd2", "cd3"])],
    )
    .expect("removed");
    prepare(&s, "guest2", Some("cd3")).expect("17.3.1.1");
    assert_eq!(
        changes(&sim),
        [
            "cd3: /usr/sbin/ldm remove-spconfig config_tmp",
            "cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -p guest2"
        ]
    );
}

#[test]
fn migrate_domain_is_refused_while_fencing_is_on() {
    let (s, sim, _) = site(None, None);
    // Nothing prepared: SF running, CF timeout 10 s on every node.
    let e = migrate_domain(&s, "guest2", "cd3").expect_err("refused");
    assert_eq!(e.kind, ErrorKind::Check, "{e}");
    assert!(
        e.message.contains("17.3.1.1 is not in effect"),
        "{}",
        e.message
    );
    assert!(
        e.remedy
            .as_deref()
            .is_some_and(|r| r.contains("prepare_migration")),
        "{e:?}"
    );
    // Half of 17.3.1.1 is not 17.3.1.1: SF stopped by hand, CF timeout still 10 s.
    s.fence().stop().expect("stopped");
    let e = migrate_domain(&s, "guest2", "cd3").expect_err("refused");
    assert_eq!(e.kind, ErrorKind::Check, "{e}");
    assert!(e.message.contains("CF timeout 10"), "{}", e.message);
    // Nothing sent to move the guest; it still runs on cd2.
    assert!(
        !changes(&sim).iter().any(|c| c.contains("migrate-domain")),
        "{:?}",
        changes(&sim)
    );
    let loc = op(&s, Object::Hypervisor, "locate", &[json!("guest2")]).expect("located");
    assert_eq!(loc["control_domain"], "cd2", "{loc}");
}

#[test]
fn migrate_domain_to_where_the_guest_runs_sends_nothing_and_passes_a_password_file() {
    let (s, sim, _) = site(None, None);
    let r = migrate_domain(&s, "guest2", "cd2").expect("already there");
    assert_eq!(r["moved"], true, "{r}");
    assert_eq!(r["changed"], false, "{r}");
    assert!(changes(&sim).is_empty());
    prepare(&s, "guest2", Some("cd3")).expect("17.3.1.1");
    // A password file that is not an absolute path, or an unknown option, is refused
    // before the move is sent.
    for opts in [
        json!({"password_file": "pw; id"}),
        json!({"password_file": "/etc/pw'x"}),
        json!({"pasword_file": "/etc/ldm/pw"}),
    ] {
        let e = op(
            &s,
            Object::Hypervisor,
            "migrate_domain",
            &[json!("guest2"), json!("cd3"), opts.clone()],
        )
        .expect_err("refused");
        assert_eq!(e.kind, ErrorKind::Usage, "{opts}: {e}");
    }
    assert!(!changes(&sim).iter().any(|c| c.contains("migrate-domain")));
    let r = op(
        &s,
        Object::Hypervisor,
        "migrate_domain",
        &[
            json!("guest2"),
            json!("cd3"),
            json!({"password_file": "/etc/ldm/pw"}),
        ],
    )
    .expect("moved");
    assert!(
        changes(&sim)
            .contains(&"cd2: /usr/sbin/ldm migrate-domain -p /etc/ldm/pw guest2 cd3".to_string()),
        "{r}\n{:?}",
        changes(&sim)
    );
}

#[test]
fn the_generic_migrate_is_the_procedure_script_not_the_driver() {
    let (s, sim, _) = site(None, None);
    let e = s
        .hypervisor()
        .migrate("guest2", "cd3")
        .expect_err("a script's");
    assert_eq!(e.kind, ErrorKind::Unsupported, "{e}");
    assert!(sim.command_log().is_empty());
    let call = s
        .procedure("migrate", &["guest2", "cd3"])
        .expect("a procedure");
    assert_eq!(call.name, "ldoms/live-migration");
    assert_eq!(
        call.params,
        [
            ("guest".to_string(), "guest2".to_string()),
            ("target".to_string(), "cd3".to_string())
        ]
    );
    let call = s.procedure("recover", &["guest2"]).expect("a procedure");
    assert_eq!(call.name, "ldoms/recover-migration");
    assert_eq!(call.params, [("guest".to_string(), "guest2".to_string())]);
}
