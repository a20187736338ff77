//! Each shipped Serviceguard scenario's fault, and the hpvm part of the scenario list.

mod common;

use common::*;
use hascript_sim::{scenarios, SimSite};

fn key(s: &SimSite, key: &str) -> Option<String> {
    ok(s, "node1", "cmviewcl -v -f line")
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")).map(str::to_string))
}

fn state_on(s: &SimSite, host: &str, vm: &str) -> String {
    let out = ok(s, host, "hpvmstatus");
    let row = out
        .lines()
        .find(|l| l.split_whitespace().next() == Some(vm))
        .unwrap_or_else(|| panic!("{vm} not in {out}"));
    // Columns 35..44 hold the state (the `=========` under `State`).
    row.get(35..44).unwrap_or("").trim().to_string()
}

const MOVE: &str = "/etc/cmcluster/scripts/tkit/vtn/cmmovevpkg -v -P slvm1 -h node2";

#[test]
fn the_list_is_complete_and_every_scenario_builds() {
    let list: Vec<_> = scenarios()
        .into_iter()
        .filter(|s| s.driver == "hpvm")
        .collect();
    let names: Vec<&str> = list.iter().map(|s| s.name.as_str()).collect();
    // Every file of scenarios/hpvm/ (build.rs embeds them all), sorted.
    let all = scenario_files("hpvm");
    assert!(!all.is_empty(), "no scenario under scenarios/hpvm/");
    assert_eq!(names, all);
    for s in &list {
        assert!(
            s.summary.len() > 20 && !s.summary.starts_with("(invalid"),
            "{}",
            s.summary
        );
        assert!(s.section.starts_with('§'), "{}: {}", s.name, s.section);
        let site = SimSite::new(Some(&s.name)).expect("builds");
        assert_eq!(site.driver(), "hpvm");
        assert!(site.inventory_toml().contains(&format!(
            "description = \"simulated Serviceguard site (scenario {})\"",
            s.name
        )));
    }
}

#[test]
fn hpvmmigrate_fails() {
    let s = site(Some("hpvm/hpvmmigrate-fails"));
    assert_eq!(
        run(&s, "node1", "hpvmmigrate -s -o -P slvm1 -h node2").code(),
        0,
        "the check passes"
    );
    let o = run(&s, "node1", MOVE);
    assert_eq!(o.code(), 1);
    assert!(o.stderr.contains("ERROR (cmmovevpkg)"), "{}", o.stderr);
    assert_eq!(state_on(&s, "node1", "slvm1"), "On (OS)");
    assert_eq!(key(&s, "package:slvm1|owner").as_deref(), Some("node1"));
    assert_eq!(
        key(&s, "package:slvm1|autorun").as_deref(),
        Some("disabled")
    );
    // Only the first migration fails.
    ok(&s, "node1", "cmmodpkg -e slvm1");
    ok(&s, "node1", MOVE);
    assert_eq!(key(&s, "package:slvm1|owner").as_deref(), Some("node2"));
}

#[test]
fn migration_lands_despite_error() {
    let s = site(Some("hpvm/migration-lands-despite-error"));
    let o = run(&s, "node1", MOVE);
    assert_eq!(o.code(), 1);
    assert!(
        o.stderr
            .lines()
            .any(|l| l.starts_with("ERROR (cmmovevpkg)")),
        "{}",
        o.stderr
    );
    assert_eq!(state_on(&s, "node1", "slvm1"), "Off (NR)");
    assert_eq!(state_on(&s, "node2", "slvm1"), "On (OS)");
    assert_eq!(key(&s, "package:slvm1|owner").as_deref(), Some("node2"));
    assert_eq!(
        key(&s, "package:slvm1|autorun").as_deref(),
        Some("disabled")
    );
}

#[test]
fn nfs_backing_store() {
    let s = site(Some("hpvm/nfs-backing-store"));
    let d = ok(&s, "node1", "hpvmstatus -P slvm1");
    assert!(d.contains(" file      /var/opt/hpvm/nfs/slvm1.img"), "{d}");
    let df = ok(&s, "node1", "df -n /var/opt/hpvm/nfs/slvm1.img");
    assert!(df.trim_end().ends_with("nfs"), "{df}");
    let o = run(&s, "node1", "hpvmmigrate -s -o -P slvm1 -h node2");
    assert_eq!(o.code(), 1);
    assert!(
        o.stderr.contains("cannot be migrated online"),
        "{}",
        o.stderr
    );
    let o = run(&s, "node1", MOVE);
    assert_eq!(o.code(), 1);
    assert_eq!(
        key(&s, "package:slvm1|autorun").as_deref(),
        Some("enabled"),
        "nothing changed"
    );
}

#[test]
fn target_not_in_node_list() {
    let s = site(Some("hpvm/target-not-in-node-list"));
    let out = ok(&s, "node1", "cmviewcl -v -f line");
    assert!(out.contains("node:node3|status=up"));
    assert!(out.contains("package:slvm1|node:node3|name=node3"));
    assert!(!out.contains("package:slvm1|node:node2|"), "{out}");
    let o = run(&s, "node1", MOVE);
    assert_eq!(o.code(), 1);
    assert!(
        o.stderr
            .contains("Node node2 is not configured to run package slvm1"),
        "{}",
        o.stderr
    );
    assert_eq!(key(&s, "package:slvm1|autorun").as_deref(), Some("enabled"));
    ok(&s, "node1", "cmmovevpkg -v -P slvm1 -h node3");
    assert_eq!(key(&s, "package:slvm1|owner").as_deref(), Some("node3"));
}

#[test]
fn package_dir_40777() {
    let s = site(Some("hpvm/package-dir-40777"));
    assert!(ok(&s, "node2", "ls -ld /etc/cmcluster/slvm1").starts_with("drwxrwxrwx"));
    assert!(ok(&s, "node1", "ls -ld /etc/cmcluster/slvm1").starts_with("drwxr-xr-x"));
    let o = run(
        &s,
        "node1",
        "cmcheckconf -P /etc/cmcluster/slvm1/slvm1.conf",
    );
    assert_eq!(o.code(), 1);
    assert!(o.stderr.contains("Incorrect permissions for /etc/cmcluster/slvm1 (40777). Directory must be executable for owner, and not writable by group and others on node node2."), "{}", o.stderr);
}

#[test]
fn maintenance_left_on() {
    let s = site(Some("hpvm/maintenance-left-on"));
    assert_eq!(
        ok(&s, "node1", "ls -lA /etc/cmcluster/slvm1")
            .lines()
            .filter(|l| l.ends_with(" vtn.debug"))
            .count(),
        1
    );
    assert_eq!(
        run(&s, "node2", "ls -ld /etc/cmcluster/slvm1/vtn.debug").code(),
        2
    );
    let log = ok(&s, "node1", "cat /var/adm/cmcluster/log/slvm1.log");
    assert!(
        log.contains("WARNING: Maintenance mode is enabled for the package"),
        "{log}"
    );
    // In maintenance, hpvmstop is allowed.
    ok(&s, "node1", "hpvmstop -P slvm1 -F");
}

#[test]
fn guest_not_running() {
    let s = site(Some("hpvm/guest-not-running"));
    assert_eq!(state_on(&s, "node1", "slvm1"), "Off");
    assert_eq!(state_on(&s, "node2", "slvm1"), "Off (NR)");
    assert_eq!(key(&s, "package:slvm1|status").as_deref(), Some("down"));
    assert_eq!(key(&s, "package:slvm1|state").as_deref(), Some("halted"));
    assert_eq!(key(&s, "package:slvm1|owner"), None);
    assert_eq!(run(&s, "slvm1", "hostname").code(), 255);
    assert_eq!(run(&s, "node1", "cmdeployvpkg -Q -P slvm1").code(), 1);
    ok(&s, "node1", "cmrunpkg -n node1 slvm1");
    assert_eq!(state_on(&s, "node1", "slvm1"), "On (OS)");
}

#[test]
fn old_toolkit_package() {
    let s = site(Some("hpvm/old-toolkit-package"));
    let c = ok(&s, "node1", "cat /etc/cmcluster/slvm1/slvm1.conf");
    assert!(
        c.contains("\"/etc/cmcluster/slvm1/hpvmsg_mon slvm1\""),
        "{c}"
    );
    assert!(!c.contains("tkit/vtn"), "{c}");
    assert!(c.contains("-node slvm1 -cmappserver_timeout 240 -service /apps/ping_mon"));
    assert_eq!(
        key(&s, "package:slvm1|service:hpvmsg_mon|status").as_deref(),
        Some("up")
    );
    assert!(ok(&s, "slvm1", "ps -ef").contains("/apps/ping_mon"));
    assert!(ok(&s, "node1", "ls -lA /etc/cmcluster/slvm1").contains(" hpvmsg_mon\n"));
    assert_eq!(run(&s, "node1", "cmdeployvpkg -m 1 -P slvm1").code(), 1);
    let o = run(&s, "node1", MOVE);
    assert_eq!(o.code(), 1);
    assert!(
        o.stderr
            .contains("ERROR (cmmovevpkg): Unable to start package slvm1"),
        "{}",
        o.stderr
    );
    assert_eq!(state_on(&s, "node2", "slvm1"), "On (OS)");
}

#[test]
fn three_node_package() {
    let s = site(Some("hpvm/three-node-package"));
    let c = ok(&s, "node3", "cat /etc/cmcluster/slvm1/slvm1.conf");
    assert!(
        c.contains("node_name node1\nnode_name node2\nnode_name node3\n"),
        "{c}"
    );
    assert_eq!(
        key(&s, "package:slvm1|node:node3|type").as_deref(),
        Some("alternate")
    );
    ok(&s, "node1", "cmdeployvpkg -Q -C -P slvm1 -h node2");
    let c = ok(&s, "node2", "cat /etc/cmcluster/slvm1/slvm1.conf");
    assert!(!c.contains("node_name node3"), "{c}");
    assert!(
        ok(&s, "node3", "cat /etc/cmcluster/slvm1/.backup/slvm1.conf").contains("node_name node3")
    );
}

#[test]
fn app_monitor_fails() {
    let s = site(Some("hpvm/app-monitor-fails"));
    assert_eq!(
        key(&s, "package:slvm1|service:ping_mon|max_restarts").as_deref(),
        Some("2")
    );
    sleep_until(&s, 40);
    assert_eq!(
        key(&s, "package:slvm1|service:ping_mon|restarts").as_deref(),
        Some("1")
    );
    assert_eq!(key(&s, "package:slvm1|owner").as_deref(), Some("node1"));
    sleep_until(&s, 75);
    assert_eq!(
        key(&s, "package:slvm1|service:ping_mon|restarts").as_deref(),
        Some("2")
    );
    sleep_until(&s, 300);
    assert_eq!(key(&s, "package:slvm1|owner").as_deref(), Some("node2"));
    assert_eq!(
        key(&s, "package:slvm1|node:node1|switching").as_deref(),
        Some("disabled")
    );
    assert_eq!(state_on(&s, "node2", "slvm1"), "On (OS)");
    let log1 = ok(&s, "node1", "cat /var/adm/cmcluster/log/slvm1.log");
    assert!(
        log1.contains("Service ping_mon restarting (restart count 2)"),
        "{log1}"
    );
    assert!(log1.contains("no restarts left"), "{log1}");
    let log2 = ok(&s, "node2", "cat /var/adm/cmcluster/log/slvm1.log");
    assert!(log2.contains("Package start completed."), "{log2}");
    sleep_until(&s, 600);
    assert_eq!(
        key(&s, "package:slvm1|owner").as_deref(),
        Some("node2"),
        "it stays up on node2"
    );
}

#[test]
fn cmappserver_unreachable() {
    let s = site(Some("hpvm/cmappserver-unreachable"));
    let sys = ok(&s, "node1", "cat /var/adm/syslog/syslog.log");
    for t in [
        "cmappmgr[5654]: Could not connect to the node slvm1 Connection timed out (errno:238)",
        "java.net.ConnectException: Connection timed out (errno:238)",
        "PROGRAM EXIT CODE 1",
    ] {
        assert!(sys.contains(t), "{t}\n{sys}");
    }
    let mark = ok(&s, "node1", "wc -c /var/adm/syslog/syslog.log");
    let n: usize = mark
        .split_whitespace()
        .next()
        .expect("count")
        .parse()
        .expect("number");
    sleep(&s, 250);
    let new = ok(
        &s,
        "node1",
        &format!("tail -c +{} /var/adm/syslog/syslog.log", n + 1),
    );
    assert!(new.contains("(errno:238)"), "{new}");
    assert_eq!(
        key(&s, "package:slvm1|service:ping_mon|restarts").as_deref(),
        Some("1")
    );
    assert_eq!(key(&s, "package:slvm1|owner").as_deref(), Some("node1"));
    let o = run(
        &s,
        "node1",
        "cmdeployvpkg -Q -P slvm1 -x merge -x appmon=x:/apps/x:10:none:300",
    );
    assert_eq!(o.code(), 1);
    assert!(o.stderr.contains("errno:238"), "{}", o.stderr);
}

#[test]
fn old_serviceguard() {
    let s = site(Some("hpvm/old-serviceguard"));
    let o = run(&s, "node1", "/usr/sbin/cmviewcl -v -f line");
    assert_eq!(o.code(), 2);
    assert!(
        o.stderr
            .starts_with("cmviewcl: illegal option -- f\nusage: cmviewcl"),
        "{}",
        o.stderr
    );
    assert_eq!(o.stdout, "");
    assert!(ok(&s, "node1", "cmviewcl").contains("slvm1"));
    assert!(ok(&s, "node1", "swlist -l product T1905CA").contains("A.11.18.00"));
}

#[test]
fn vswitch_missing_on_target() {
    let s = site(Some("hpvm/vswitch-missing-on-target"));
    // slvm1 uses myswitch, which node2 lacks: the check and the migration fail as real
    // hosts word it, and nothing moves.
    let o = run(&s, "node1", "hpvmmigrate -s -o -P slvm1 -h node2");
    assert_eq!(o.code(), 1, "{}", o.stderr);
    assert!(
        o.stderr.contains(
            "hpvmmigrate: ERROR (node2): Remote message: Target VM Host error - vswitch validation failed.\n"
        ),
        "{}",
        o.stderr
    );
    let o = run(&s, "node1", "hpvmmigrate -o -P slvm1 -h node2");
    assert_eq!(o.code(), 1, "{}", o.stderr);
    assert_eq!(state_on(&s, "node1", "slvm1"), "On (OS)");
    let o = run(&s, "node1", "cmmovevpkg -v -P slvm1 -h node2");
    assert_ne!(o.code(), 0, "{}", o.stdout);
    assert_eq!(key(&s, "package:slvm1|owner").as_deref(), Some("node1"));
    // slvm2 is on localnet only: node2 accepts it.
    let o = run(&s, "node1", "hpvmmigrate -s -o -P slvm2 -h node2");
    assert_eq!(o.code(), 0, "{}", o.stderr);
}

const FAILURE_LINE: &str = "Service monitor detected a failure in guest slvm1.";
const PKG_LOG: &str = "cat /var/adm/cmcluster/log/slvm1.log";

#[test]
fn guest_fails_over() {
    let s = site(Some("hpvm/guest-fails-over"));
    let log = ok(&s, "node1", PKG_LOG);
    assert!(
        log.contains(&format!("Node \"node1\": {FAILURE_LINE}")),
        "{log}"
    );
    assert_eq!(state_on(&s, "node1", "slvm1"), "Off (NR)");
    assert_eq!(state_on(&s, "node2", "slvm1"), "On (OS)");
    assert_eq!(key(&s, "package:slvm1|owner").as_deref(), Some("node2"));
    assert_eq!(key(&s, "package:slvm1|status").as_deref(), Some("up"));
    let view = ok(&s, "node1", "cmviewcl -v -f line");
    assert!(
        view.contains("package:slvm1|node:node1|switching=disabled"),
        "{view}"
    );
    assert!(
        view.contains("package:slvm1|node:node2|switching=enabled"),
        "{view}"
    );
    assert!(
        ok(&s, "node2", PKG_LOG).contains("Virtual machine slvm1 started"),
        "the guest was started on node2"
    );
}

#[test]
fn guest_fails_no_failover() {
    let s = site(Some("hpvm/guest-fails-no-failover"));
    let log = ok(&s, "node1", PKG_LOG);
    assert!(log.contains(FAILURE_LINE), "{log}");
    assert!(log.contains("Package halt completed."), "{log}");
    assert_eq!(key(&s, "package:slvm1|status").as_deref(), Some("down"));
    assert_eq!(state_on(&s, "node1", "slvm1"), "Off");
    // node1's node switching was disabled by the failure; the manual's remedy, restart the
    // package, works on node2 (or on node1 once re-enabled).
    let view = ok(&s, "node1", "cmviewcl -v -f line");
    assert!(
        view.contains("package:slvm1|node:node1|switching=disabled"),
        "{view}"
    );
    ok(&s, "node1", "cmrunpkg -n node2 slvm1");
    assert_eq!(key(&s, "package:slvm1|status").as_deref(), Some("up"));
    assert_eq!(state_on(&s, "node2", "slvm1"), "On (OS)");
}

#[test]
fn guest_fails_in_maintenance() {
    let s = site(Some("hpvm/guest-fails-in-maintenance"));
    assert!(!ok(&s, "node1", PKG_LOG).contains(FAILURE_LINE));
    assert_eq!(key(&s, "package:slvm1|status").as_deref(), Some("up"));
    assert_eq!(state_on(&s, "node1", "slvm1"), "Off");
    // Out of maintenance, the monitor looks at its next interval and fails it over.
    ok(
        &s,
        "node1",
        "/etc/cmcluster/scripts/tkit/vtn/cmdeployvpkg -m 0 -P slvm1",
    );
    assert_eq!(key(&s, "package:slvm1|owner").as_deref(), Some("node1"));
    sleep(&s, 31);
    assert!(ok(&s, "node1", PKG_LOG).contains(FAILURE_LINE));
    assert_eq!(key(&s, "package:slvm1|owner").as_deref(), Some("node2"));
    assert_eq!(state_on(&s, "node2", "slvm1"), "On (OS)");
}

#[test]
fn two_toolkits_one_vswitch() {
    let s = site(Some("hpvm/two-toolkits-one-vswitch"));
    let log = ok(&s, "node1", "cat /var/adm/syslog/syslog.log");
    assert!(
        log.contains("node1 vswitchmon[3188]: Warning! IP Address mis-match : 192.0.2.31 found on interface lan0 expected lan1"),
        "{log}"
    );
    // Without an old-toolkit package only the new toolkit's script runs: no warning.
    let s = site(Some("hpvm/guest-fails-over"));
    assert!(!ok(&s, "node1", "cat /var/adm/syslog/syslog.log").contains("mis-match"));
}

/// The operator's Serviceguard upgrade of a node (the cmappmgr/cmappserver upgrade's pause):
/// `swinstall -s DEPOT T1905CA[,r=REV]` changes the revision `swlist` reads there only.
#[test]
fn swinstall_of_serviceguard_changes_the_revision_of_that_node_only() {
    let s = site(Some("hpvm/appmon-upgrade"));
    assert!(ok(&s, "node1", "swlist -l product T1905CA").contains("A.11.19.00"));
    ok(&s, "node1", "swinstall -s /var/depot/sg T1905CA");
    assert!(ok(&s, "node1", "swlist -l product T1905CA").contains("A.11.20.00"));
    assert!(ok(&s, "node2", "swlist -l product T1905CA").contains("A.11.19.00"));
    ok(
        &s,
        "node2",
        "swinstall -s /var/depot/sg T1905CA,r=A.11.20.01",
    );
    assert!(ok(&s, "node2", "swlist -l product T1905CA").contains("A.11.20.01"));
    let o = run(&s, "node1", "swinstall -s /var/depot/sg HPVM");
    assert_eq!(o.code(), 1, "{}", o.stderr);
}
