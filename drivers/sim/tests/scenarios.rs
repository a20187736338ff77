//! Each shipped scenario's fault, the scenario list and name handling.

mod common;

use common::*;
use hascript_sim::{driver_of, scenarios, SimError, SimSite};

/// The LDoms scenarios: every file of `scenarios/ldoms/` (build.rs embeds them all).
fn all() -> Vec<String> {
    let all = scenario_files("ldoms");
    assert!(!all.is_empty(), "no scenario under scenarios/ldoms/");
    all
}

#[test]
fn the_list_is_complete_sorted_and_described() {
    // The Serviceguard scenarios are checked in hpvm_scenarios.rs.
    let list: Vec<_> = scenarios()
        .into_iter()
        .filter(|s| s.driver == "ldoms")
        .collect();
    let names: Vec<&str> = list.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, all());
    for s in &list {
        assert_eq!(s.driver, "ldoms");
        assert!(
            s.summary.len() > 20 && !s.summary.starts_with("(invalid"),
            "{}: {}",
            s.name,
            s.summary
        );
        assert!(
            s.section == "17.3.1.1" || s.section == "17.3.1.2",
            "{}: {}",
            s.name,
            s.section
        );
        let site = SimSite::new(Some(&s.name)).expect("every scenario builds");
        assert_eq!(site.scenario(), s.name);
        assert_eq!(site.driver(), "ldoms");
        assert!(site.inventory_toml().contains(&format!(
            "description = \"simulated LDoms site (scenario {})\"",
            s.name
        )));
    }
}

#[test]
fn names_and_drivers() {
    assert_eq!(driver_of("ldoms"), Some("ldoms"));
    assert_eq!(driver_of("ldoms/migration-would-fail"), Some("ldoms"));
    assert_eq!(driver_of("ldoms/not-shipped"), Some("ldoms"));
    assert_eq!(driver_of("hpvm"), Some("hpvm"));
    assert_eq!(driver_of("hpvmx"), None);
    assert_eq!(driver_of("ldomsx"), None);
    assert_eq!(driver_of("ldoms/"), None);
    assert_eq!(SimSite::new(None).expect("default").scenario(), "ldoms");
    assert_eq!(
        SimSite::new(Some("ldoms")).expect("default").scenario(),
        "ldoms"
    );
    match SimSite::new(Some("ldoms/no-such")) {
        Err(SimError::UnknownScenario { name, known }) => {
            assert_eq!(name, "ldoms/no-such");
            assert_eq!(known[0], "ldoms");
            let ldoms = known.iter().filter(|k| k.starts_with("ldoms")).count();
            assert_eq!(ldoms, all().len() + 1);
        }
        other => panic!("expected UnknownScenario, got {other:?}"),
    }
    let msg = SimSite::new(Some("nope")).expect_err("unknown").to_string();
    assert!(
        msg.starts_with(
            "unknown simulator scenario `nope`; choose one of: ldoms, ldoms/config-tmp-present,"
        ),
        "{msg}"
    );
}

#[test]
fn migration_aborted_guest_stopped() {
    let s = site(Some("ldoms/migration-aborted-guest-stopped"));
    ok(&s, "cd2", "clovmmigrate -p guest2");
    assert_eq!(
        ok(&s, "cd2", "ldm migrate-domain -n guest2 cd3"),
        "",
        "the dry run cannot foresee it"
    );
    let o = run(
        &s,
        "cd2",
        "LC_ALL=C /usr/sbin/ldm migrate-domain guest2 cd3",
    );
    assert_eq!(o.code(), 1);
    assert_eq!(
        o.stderr,
        "Failed to suspend domain guest2 on the source machine\n\
         Domain guest2 has been stopped on cd2\n\
         Domain Migration of LDom guest2 failed\n"
    );
    assert_eq!(elapsed(&s), 45);
    assert_eq!(
        ldm_record(&s, "cd2", "guest2").as_deref(),
        Some("DOMAIN|name=guest2|state=bound|flags=------|cons=5000|ncpu=8|mem=8589934592|util=|uptime=")
    );
    assert_eq!(ldm_record(&s, "cd3", "guest2"), None);
    assert_eq!(run(&s, "guest2", "hostname").code(), 255);
    sleep_until(&s, 599);
    assert_eq!(cf_state(&s, "guest1", "cfguest2"), "UP");
    sleep(&s, 1);
    assert_eq!(cf_state(&s, "guest1", "cfguest2"), "DOWN");
    // The manual's recovery.
    ok(&s, "cd2", "ldm start-domain guest2");
    sleep(&s, 60);
    assert_eq!(cf_state(&s, "guest1", "cfguest2"), "UP");
    ok(&s, "cd2", "clovmmigrate -u guest2 cd2");
    sleep(&s, 30);
    assert_eq!(
        ok(&s, "guest1", "clsnmpsetup -l").lines().nth(3),
        Some("xscf        cfguest2           0        guest2       10.20.30.72     10.20.40.72     xuser          ssh")
    );
    assert_eq!(ok(&s, "guest1", "sdtool -s"), MANUAL_SDTOOL);
    // The fault fires once: the next attempt works.
    migrate_guest2_to_cd3(&s);
    assert!(ldm_record(&s, "cd3", "guest2").is_some());
}

#[test]
fn migration_aborted_guest_running() {
    let s = site(Some("ldoms/migration-aborted-guest-running"));
    ok(&s, "cd2", "clovmmigrate -p guest2");
    let o = run(&s, "cd2", "ldm migrate-domain guest2 cd3");
    assert_eq!(o.code(), 1);
    assert_eq!(
        o.stderr,
        "The target machine cd3 did not acknowledge the transfer of domain guest2\n\
         Domain guest2 has been resumed on cd2\n\
         Domain Migration of LDom guest2 failed\n"
    );
    assert!(
        ldm_record(&s, "cd2", "guest2").is_some_and(|r| r.contains("|state=active|flags=-n----|"))
    );
    assert_eq!(ldm_record(&s, "cd3", "guest2"), None);
    sleep(&s, 3600);
    assert_eq!(cf_state(&s, "guest1", "cfguest2"), "UP");
    assert_eq!(ok(&s, "guest2", "hostname"), "guest2\n");
}

#[test]
fn migration_continues_after_disconnect() {
    let s = site(Some("ldoms/migration-continues-after-disconnect"));
    ok(&s, "cd2", "clovmmigrate -p guest2");
    let o = run(&s, "cd2", "ldm migrate-domain guest2 cd3");
    assert_eq!(
        (o.code(), o.stdout.as_str(), o.stderr.as_str()),
        (1, "", "Connection to ldmd lost\n")
    );
    let t0 = elapsed(&s);
    assert_eq!(t0, 30);
    assert!(ldm_record(&s, "cd2", "guest2")
        .is_some_and(|r| r.starts_with("DOMAIN|name=guest2|state=active|flags=-n---s|")));
    assert_eq!(
        ldm_record(&s, "cd3", "guest2").as_deref(),
        Some(
            "DOMAIN|name=guest2|state=bound|flags=-t---t|cons=|ncpu=8|mem=8589934592|util=|uptime="
        )
    );
    let status = ok(&s, "cd2", "ldm list -o status guest2");
    assert!(
        status.starts_with(
            "NAME\nguest2\n\nSTATUS\n    OPERATION    PROGRESS    TARGET\n    migration    "
        ),
        "{status}"
    );
    sleep_until(&s, t0 + 119);
    assert!(ldm_record(&s, "cd2", "guest2").is_some_and(|r| r.contains("flags=-n---s")));
    sleep(&s, 1);
    assert_eq!(ldm_record(&s, "cd2", "guest2"), None);
    assert!(
        ldm_record(&s, "cd3", "guest2").is_some_and(|r| r.contains("|state=active|flags=-n----|"))
    );
    assert_eq!(cf_state(&s, "guest1", "cfguest2"), "UP");
}

#[test]
fn migration_continues_after_disconnect_can_be_cancelled_on_the_source() {
    let s = site(Some("ldoms/migration-continues-after-disconnect"));
    ok(&s, "cd2", "clovmmigrate -p guest2");
    assert_eq!(run(&s, "cd2", "ldm migrate-domain guest2 cd3").code(), 1);
    let o = run(&s, "cd3", "ldm cancel-operation migration guest2");
    assert_eq!(o.code(), 1, "only the source can cancel");
    assert_eq!(ok(&s, "cd2", "ldm cancel-operation migration guest2"), "");
    assert!(
        ldm_record(&s, "cd2", "guest2").is_some_and(|r| r.contains("|state=active|flags=-n----|"))
    );
    assert_eq!(ldm_record(&s, "cd3", "guest2"), None);
    sleep(&s, 600);
    assert!(ldm_record(&s, "cd2", "guest2").is_some());
    assert_eq!(ldm_record(&s, "cd3", "guest2"), None);
    let o = run(&s, "cd2", "ldm cancel-op migration guest2");
    assert_eq!(
        (o.code(), o.stderr.as_str()),
        (1, "No migration is in progress for domain guest2\n")
    );
}

#[test]
fn node_stays_leftcluster() {
    let s = site(Some("ldoms/node-stays-leftcluster"));
    ok(&s, "cd2", "clovmmigrate -p guest2");
    assert_eq!(run(&s, "cd2", "ldm migrate-domain guest2 cd3").code(), 1);
    assert!(ldm_record(&s, "cd2", "guest2").is_some_and(|r| r.contains("state=bound")));
    sleep_until(&s, 599);
    assert_eq!(cf_state(&s, "guest1", "cfguest2"), "UP");
    sleep(&s, 1);
    assert_eq!(cf_state(&s, "guest1", "cfguest2"), "LEFTCLUSTER");
    sleep(&s, 10_000);
    assert_eq!(cf_state(&s, "guest1", "cfguest2"), "LEFTCLUSTER");
}

#[test]
fn unhealthy_cluster() {
    let s = site(Some("ldoms/unhealthy-cluster"));
    assert_eq!(
        ok(&s, "guest1", "/opt/SMAW/bin/cftool -n"),
        "Node     Number State       Os      Cpu\n\
         cfguest1 1      UP          Solaris Sparc\n\
         cfguest2 2      LEFTCLUSTER Solaris Sparc\n"
    );
}

#[test]
fn migration_would_fail() {
    let s = site(Some("ldoms/migration-would-fail"));
    let o = run(
        &s,
        "cd2",
        "LC_ALL=C /usr/sbin/ldm migrate-domain -n guest2 cd3",
    );
    assert_eq!(
        (o.code(), o.stdout.as_str(), o.stderr.as_str()),
        (
            1,
            "",
            "Insufficient memory on target cd3: domain guest2 needs 8G, 4G are free\n\
             Domain Migration of LDom guest2 would fail if attempted\n"
        )
    );
    let o = run(&s, "cd2", "ldm migrate-domain guest2 cd1");
    assert_eq!(
        o.stderr,
        "Insufficient memory on target cd1: domain guest2 needs 8G, 4G are free\n\
         Domain Migration of LDom guest2 failed\n"
    );
    assert!(ldm_record(&s, "cd2", "guest2").is_some_and(|r| r.contains("flags=-n----")));
}

#[test]
fn seven_spconfigs() {
    let s = site(Some("ldoms/seven-spconfigs"));
    assert_eq!(
        ok(&s, "cd2", "ldm list-spconfig"),
        "factory-default\nconfig_20260101\nconfig_20260301\nconfig_20260501\nconfig_20260701\nconfig_20260901\nconfig_20261001 [current] [next poweron]\n"
    );
    assert_eq!(ok(&s, "cd3", "ldm list-spconfig").lines().count(), 3);
    migrate_and_expect_update_refused(&s, "cd2 holds 7 saved configurations");
    ok(&s, "cd2", "ldm remove-spconfig config_20260101");
    ok(
        &s,
        "cd2",
        "/etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd3",
    );
    assert_eq!(ok(&s, "cd2", "ldm list-spconfig").lines().count(), 6);
    sleep(&s, 20);
    assert_eq!(ok(&s, "guest1", "clsnmpsetup -l"), MANUAL_CLSNMPSETUP);
}

/// -p, the migration, then a refused -u that changed nothing.
fn migrate_and_expect_update_refused(s: &hascript_sim::SimSite, reason: &str) {
    ok(s, "cd2", "clovmmigrate -p guest2");
    ok(s, "cd2", "ldm migrate-domain guest2 cd3");
    let o = run(
        s,
        "cd2",
        "/etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd3",
    );
    assert_eq!(o.code(), 1);
    assert!(o.stderr.starts_with("FJSVcluster: ERROR: clovmmigrate: the configuration of the logical domains cannot be saved: "), "{}", o.stderr);
    assert!(o.stderr.contains(reason), "{}", o.stderr);
    assert!(
        ok(s, "guest1", "cfset -a").contains("CLUSTER_TIMEOUT VALUE: 600\n"),
        "nothing changed"
    );
    assert_eq!(run(s, "guest1", "sdtool -s").code(), 1, "SF still stopped");
    assert!(ok(s, "guest1", "clsnmpsetup -l")
        .contains("cfguest2           0        guest2       10.20.30.72"));
}

#[test]
fn config_tmp_present() {
    let s = site(Some("ldoms/config-tmp-present"));
    assert_eq!(
        ok(&s, "cd3", "ldm list-spconfig"),
        "factory-default\nconfig_initial\nconfig_tmp\nconfig_20261001 [current] [next poweron]\n"
    );
    migrate_and_expect_update_refused(&s, "config_tmp exists on cd3");
    ok(&s, "cd3", "ldm remove-spconfig config_tmp");
    ok(
        &s,
        "cd2",
        "/etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd3",
    );
    sleep(&s, 20);
    assert_eq!(ok(&s, "guest2", "sdtool -s"), MANUAL_SDTOOL);
}

#[test]
fn xscf_first_ssh_pending() {
    let s = site(Some("ldoms/xscf-first-ssh-pending"));
    for g in ["guest1", "guest2"] {
        for a in ["10.20.30.73", "10.20.40.73"] {
            let o = run(&s, g, &format!("ssh-keygen -F {a}"));
            assert_eq!((o.code(), o.stdout.as_str()), (1, ""));
        }
        assert_eq!(ok(&s, g, "ssh-keygen -F 10.20.40.72").lines().count(), 2);
    }
    assert_eq!(
        ok(&s, "guest1", "sdtool -s"),
        MANUAL_SDTOOL,
        "healthy before the move"
    );
    let before = ok(&s, "guest2", "wc -c /var/adm/messages");
    let offset: usize = before
        .split_whitespace()
        .next()
        .expect("count")
        .parse()
        .expect("number");
    migrate_guest2_to_cd3(&s);
    sleep(&s, 30);
    let failed = ("TestFailed".to_string(), "InitWorked".to_string());
    let worked = ("TestWorked".to_string(), "InitWorked".to_string());
    for g in ["guest1", "guest2"] {
        assert_eq!(sd_states(&s, g, "cfguest2"), vec![failed.clone(); 4], "{g}");
        assert_eq!(sd_states(&s, g, "cfguest1"), vec![worked.clone(); 4], "{g}");
    }
    let new = ok(
        &s,
        "guest2",
        &format!("tail -c +{} /var/adm/messages", offset + 1),
    );
    assert_eq!(
        new,
        "Nov 21 00:01:50 guest2 SMAWsf: [ID 702911 daemon.err] FJSVcluster:ERROR:sfxscfsnmp:7245:The first SSH connection to XSCF 10.20.30.73 has not been completed.\n\
         Nov 21 00:01:50 guest2 SMAWsf: [ID 702911 daemon.err] FJSVcluster:ERROR:sfxscfsnmp:7245:The first SSH connection to XSCF 10.20.40.73 has not been completed.\n"
    );
    assert!(ok(&s, "guest1", "cat /var/adm/messages").contains(" guest1 SMAWsf: [ID 702911 daemon.err] FJSVcluster:ERROR:sfxscfsnmp:7245:The first SSH connection to XSCF 10.20.30.73 has not been completed.\n"));
}

#[test]
fn sf_test_failed() {
    let s = site(Some("ldoms/sf-test-failed"));
    assert_eq!(
        ok(&s, "guest1", "sdtool -s"),
        MANUAL_SDTOOL,
        "healthy before SF restarts"
    );
    migrate_guest2_to_cd3(&s);
    sleep(&s, 30);
    let failed = ("TestFailed".to_string(), "InitWorked".to_string());
    for g in ["guest1", "guest2"] {
        assert_eq!(sd_states(&s, g, "cfguest2"), vec![failed.clone(); 4], "{g}");
        assert_eq!(sd_states(&s, g, "cfguest1")[0].0, "TestWorked");
        assert!(!ok(&s, g, "cat /var/adm/messages").contains(":7245:"));
    }
    assert_eq!(ok(&s, "guest1", "clsnmpsetup -l"), MANUAL_CLSNMPSETUP);
}

#[test]
fn time_sync_warnings() {
    let s = site(Some("ldoms/time-sync-warnings"));
    ok(&s, "cd2", "clovmmigrate -p guest2");
    ok(&s, "cd2", "ldm migrate-domain guest2 cd3");
    let text = "Cluster host cfguest2 is no longer in time sync with local node. Sane operation of RMS can no longer be guaranteed.";
    let switchlog = ok(&s, "guest1", "cat /var/opt/SMAWRrms/log/switchlog");
    assert!(
        switchlog.ends_with(&format!(
            "2026-11-21 00:01:30.000:(WRP, 34) {text}\nFurther out-of-sync messages will appear in the syslog.\n"
        )),
        "{switchlog}"
    );
    let messages = ok(&s, "guest1", "cat /var/adm/messages");
    assert!(
        messages.ends_with(&format!(
            "Nov 21 00:01:30 guest1 RMS: [ID 830169 daemon.warning] (WRP, 35) {text}\n"
        )),
        "{messages}"
    );
    // The migrated node itself gets none.
    assert!(!ok(
        &s,
        "guest2",
        "cat /var/adm/messages /var/opt/SMAWRrms/log/switchlog"
    )
    .contains("(WRP"));
}

#[test]
fn guest_inactive() {
    let s = site(Some("ldoms/guest-inactive"));
    // As real ldm prints an inactive domain: every field after the state empty.
    assert_eq!(
        ldm_record(&s, "cd2", "guest2").as_deref(),
        Some("DOMAIN|name=guest2|state=inactive|flags=|cons=|ncpu=|mem=|util=|uptime=")
    );
    let human = ok(&s, "cd2", "ldm list");
    assert!(
        human
            .lines()
            .any(|l| l == "guest2           inactive   ------"),
        "{human}"
    );
    let long = ok(&s, "cd2", "ldm list -l -p guest2");
    let lines: Vec<&str> = long.lines().collect();
    assert_eq!(lines.len(), 3, "{long}");
    assert_eq!(lines[0], "VERSION 1.6");
    assert!(lines[2].starts_with("UUID|uuid="), "{long}");
    assert_eq!(lines[2].len(), "UUID|uuid=".len() + 36, "{long}");
    let o = run(&s, "cd2", "ldm start-domain guest2");
    assert_eq!(o.code(), 1);
    assert!(o.stderr.contains("not bound"), "{}", o.stderr);
    assert_eq!(cf_state(&s, "guest1", "cfguest2"), "DOWN");
    assert_eq!(run(&s, "guest2", "hostname").code(), 255);
}

#[test]
fn newer_ldm() {
    let s = site(Some("ldoms/newer-ldm"));
    let text = ok(&s, "cd1", "ldm list -p");
    assert!(text.starts_with("VERSION 1.11\n"), "{text}");
    let primary = text.lines().nth(1).unwrap_or_default();
    assert!(
        primary.starts_with("DOMAIN|name=primary|state=active|flags=-n-cv-|cons=UART|ncpu=16|mem=17179869184|util=0.5|uptime=")
            && primary.ends_with("|norm_util=0.5"),
        "{primary}"
    );
    assert!(
        ldm_record(&s, "cd2", "guest2").is_some_and(|r| r.contains("|uptime=86400|norm_util=0.8"))
    );
    // The default site keeps the older form, byte for byte.
    let old = ok(&site(None), "cd1", "ldm list -p");
    assert!(
        old.starts_with("VERSION 1.6\n") && !old.contains("norm_util"),
        "{old}"
    );
    // A migration reads the same in the newer form; a stopped guest's norm_util is empty.
    migrate_guest2_to_cd3(&s);
    assert!(ldm_record(&s, "cd3", "guest2").is_some_and(|r| r.contains("|norm_util=0.8")));
    ok(&s, "cd3", "ldm stop-domain guest2");
    assert_eq!(
        ldm_record(&s, "cd3", "guest2").as_deref(),
        Some("DOMAIN|name=guest2|state=bound|flags=------|cons=5000|ncpu=8|mem=8589934592|util=|uptime=|norm_util=")
    );
}

#[test]
fn every_scenario_file_is_shipped_and_offered_in_order() {
    // build.rs embeds every `.toml` under scenarios/: the list is the folder, each under a
    // driver the simulator emulates, and the names offered for an unknown scenario are each
    // driver's default site followed by its scenarios, sorted (adding a file is all it
    // takes to add a scenario).
    let files = scenario_files("");
    let names: Vec<String> = scenarios().into_iter().map(|s| s.name).collect();
    assert_eq!(names, files);
    for s in scenarios() {
        assert_eq!(driver_of(&s.name), Some(s.driver.as_str()), "{}", s.name);
    }
    match SimSite::new(Some("no-such")) {
        Err(SimError::UnknownScenario { known, .. }) => {
            let mut expected = Vec::new();
            for d in ["ldoms", "hpvm"] {
                expected.push(d.to_string());
                expected.extend(scenario_files(d));
            }
            assert_eq!(known, expected);
        }
        other => panic!("expected UnknownScenario, got {other:?}"),
    }
}
