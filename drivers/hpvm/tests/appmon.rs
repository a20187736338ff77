//! Application monitoring (B4) through the `package` object against the simulator, without
//! the script engine: the keys and configuration files of steps 1, 2 and 4 (commands sent,
//! modes, safe re-run, secrets never in errors or messages) and the failure test of step 6.

mod support;

use hascript_api::{ErrorKind, Site};
use hascript_sim::SimSite;
use serde_json::json;
use support::{sent, site};

fn out(sim: &SimSite, host: &str, line: &str) -> String {
    sim.exec_line(host, line).stdout
}

const PW: [&str; 3] = ["Cl1ent-Secret", "Serv3r-Secret", "Publ1c-Secret"];

fn opts(regenerate: bool) -> serde_json::Value {
    json!({"client_password": PW[0], "server_password": PW[1], "public_password": PW[2], "regenerate": regenerate})
}

#[test]
fn regenerated_keys_are_made_with_dname_distributed_and_configured_0600() {
    let (s, sim, ui) = site("hpvm", Some(true));
    let r = s.package().appmon_keys("slvm1", &opts(true)).expect("keys");
    assert_eq!(r["client_keys"], "made");
    assert_eq!(r["server_keys"], "made");
    assert_eq!(r["key_host"], "node1");
    let log = sent(&sim);
    let keytool: Vec<&String> = log
        .iter()
        .filter(|l| {
            l.contains("keytool -genkey")
                || l.contains("keytool -export")
                || l.contains("keytool -import")
        })
        .collect();
    assert_eq!(
        keytool,
        [
            "node1: /opt/java6/bin/keytool -genkey -alias clientprivate -keystore /etc/cmcluster/cmappmgr/client.private -storepass Cl1ent-Secret -keypass Cl1ent-Secret -validity 400 -dname 'CN=node1, OU=cmappmgr, O=Serviceguard'",
            "node1: /opt/java6/bin/keytool -export -alias clientprivate -keystore /etc/cmcluster/cmappmgr/client.private -file /etc/cmcluster/cmappmgr/temp.key -storepass Cl1ent-Secret",
            "node1: /opt/java6/bin/keytool -import -noprompt -alias clientpublic -keystore /etc/cmcluster/cmappmgr/client.public -file /etc/cmcluster/cmappmgr/temp.key -storepass Publ1c-Secret",
            "slvm1: /opt/java6/bin/keytool -genkey -alias serverprivate -keystore /opt/hp/cmappserver/server.private -storepass Serv3r-Secret -keypass Serv3r-Secret -validity 400 -dname 'CN=slvm1, OU=cmappserver, O=Serviceguard'",
            "slvm1: /opt/java6/bin/keytool -export -alias serverprivate -keystore /opt/hp/cmappserver/server.private -file /opt/hp/cmappserver/temp.key -storepass Serv3r-Secret",
            "slvm1: /opt/java6/bin/keytool -import -noprompt -alias serverpublic -keystore /opt/hp/cmappserver/server.public -file /opt/hp/cmappserver/temp.key -storepass Publ1c-Secret",
        ]
    );
    // The configuration files hold the new passwords, mode 0600, on every host.
    for h in ["node1", "node2"] {
        let conf = out(&sim, h, "cat /etc/cmappmgr.conf");
        assert_eq!(
            conf,
            "keyStore=/etc/cmcluster/cmappmgr/client.private\nkeyStorePassword=Cl1ent-Secret\ntrustStore=slvm1:/etc/cmcluster/cmappmgr/server_slvm1.public\ntrustStorePassword=Publ1c-Secret\n"
        );
        assert!(
            out(&sim, h, "ls -l /etc/cmappmgr.conf").starts_with("-rw-------"),
            "{h}"
        );
        assert!(
            out(&sim, h, "ls -l /etc/cmcluster/cmappmgr/client.private").starts_with("-rw-------"),
            "{h}"
        );
        // The copied stores open with the new passwords.
        let l = sim.exec_line(h, "/opt/java6/bin/keytool -list -keystore /etc/cmcluster/cmappmgr/server_slvm1.public -storepass Publ1c-Secret");
        assert_eq!(l.code(), 0, "{h}: {}", l.stderr);
    }
    let conf = out(&sim, "slvm1", "cat /opt/hp/cmappserver/cmappserver.conf");
    assert!(conf.contains("keyStorePassword=Serv3r-Secret\n"), "{conf}");
    assert!(
        out(&sim, "slvm1", "ls -l /opt/hp/cmappserver/cmappserver.conf").starts_with("-rw-------")
    );
    // Same bytes on both hosts.
    assert_eq!(
        out(
            &sim,
            "node1",
            "od -A n -v -t x1 /etc/cmcluster/cmappmgr/client.private"
        ),
        out(
            &sim,
            "node2",
            "od -A n -v -t x1 /etc/cmcluster/cmappmgr/client.private"
        )
    );
    let shown = ui.text();
    for pw in PW {
        assert!(!shown.contains(pw), "{pw} shown:\n{shown}");
    }
}

#[test]
fn a_second_run_reuses_everything_and_changes_nothing() {
    let (s, sim, ui) = site("hpvm", Some(true));
    s.package()
        .appmon_keys("slvm1", &opts(true))
        .expect("first");
    let before = sent(&sim).len();
    let r = s
        .package()
        .appmon_keys("slvm1", &opts(false))
        .expect("second");
    assert_eq!(r["client_keys"], "reused");
    assert_eq!(r["server_keys"], "reused");
    assert_eq!(r["copied"], json!([]));
    let second: Vec<String> = sent(&sim)[before..].to_vec();
    let changes: Vec<&String> = second
        .iter()
        .filter(|l| {
            l.contains("sh -c")
                || l.contains("-genkey")
                || l.contains("-import")
                || l.contains(" mv ")
                || l.contains("chmod")
        })
        .collect();
    assert!(changes.is_empty(), "{changes:?}");
    assert!(ui.text().contains("kept and reused"), "{}", ui.text());
}

#[test]
fn a_wrong_password_for_existing_stores_is_a_check_without_the_password() {
    // The default site's stores were made with the manual's passwords.
    let (s, sim, _) = site("hpvm", Some(true));
    let e = s
        .package()
        .appmon_keys("slvm1", &opts(false))
        .expect_err("wrong password");
    assert_eq!(e.kind, ErrorKind::Check);
    let text = format!("{e} {:?} {:?}", e.remedy, e.command);
    for pw in PW {
        assert!(!text.contains(pw), "{text}");
    }
    assert!(text.contains("-storepass *****"), "{text}");
    assert!(text.contains("regenerate"), "{text}");
    // Nothing changed.
    assert!(!sent(&sim)
        .iter()
        .any(|l| l.contains("-genkey") || l.contains("sh -c")));
}

#[test]
fn the_guest_must_be_an_inventory_guest_and_the_options_complete() {
    let (s, sim, _) = site("hpvm", Some(true));
    let e = s
        .package()
        .appmon_keys("node1", &opts(false))
        .expect_err("not a guest");
    assert_eq!(e.kind, ErrorKind::Usage);
    let e = s
        .package()
        .appmon_keys("slvm1", &json!({"client_password": PW[0]}))
        .expect_err("missing");
    assert_eq!(e.kind, ErrorKind::Usage);
    assert!(e.message.contains("server_password"), "{e}");
    let e = s
        .package()
        .appmon_keys("slvm1", &json!({"client_password": "short", "server_password": PW[1], "public_password": PW[2], "regenerate": true}))
        .expect_err("too short");
    assert!(!e.to_string().contains("short\""), "{e}");
    assert!(sent(&sim).iter().all(|l| !l.contains("keytool -genkey")));
}

#[test]
fn failure_test_kills_the_application_and_reads_the_counter() {
    let (s, sim, ui) = site("hpvm/app-monitor-fails", Some(true));
    let r = s
        .package()
        .test_app_monitor("slvm1", &json!({}))
        .expect("test");
    assert_eq!(r["restarts_before"], 0);
    assert_eq!(r["restarts_after"], 1);
    assert_eq!(r["failed_over"], false);
    assert_eq!(r["owner"], "node1");
    let kills: Vec<String> = sent(&sim)
        .into_iter()
        .filter(|l| l.contains("kill"))
        .collect();
    assert_eq!(kills.len(), 1, "{kills:?}");
    assert!(kills[0].starts_with("slvm1: kill -9 "), "{kills:?}");
    assert!(
        ui.text().contains("? Kill `/apps/ping_mon`"),
        "{}",
        ui.text()
    );
}

#[test]
fn failure_test_until_failover_reads_where_the_package_runs() {
    let (s, sim, _) = site("hpvm/app-monitor-fails", Some(true));
    let r = s
        .package()
        .test_app_monitor(
            "slvm1",
            &json!({"expect": "failover", "appmon": "ping_mon"}),
        )
        .expect("test");
    assert_eq!(r["failed_over"], true);
    assert_eq!(r["from"], "node1");
    assert_eq!(r["owner"], "node2");
    assert_eq!(r["restarts_after"], 2);
    assert_eq!(r["node_switching_disabled_on"], "node1");
    assert_eq!(r["kills"].as_array().map(Vec::len), Some(3));
    let view = out(&sim, "node2", "/usr/sbin/cmviewcl -v -f line");
    assert!(view.contains("package:slvm1|owner=node2"), "{view}");
}

#[test]
fn failure_test_declined_kills_nothing() {
    let (s, sim, _) = site("hpvm/app-monitor-fails", Some(false));
    let e = s
        .package()
        .test_app_monitor("slvm1", &json!({}))
        .expect_err("declined");
    assert_eq!(e.kind, ErrorKind::Declined);
    assert!(!sent(&sim).iter().any(|l| l.contains("kill")));
    // A package without a monitor: a check naming add-app-monitor.
    let (s, _, _) = site("hpvm", Some(true));
    let e = s
        .package()
        .test_app_monitor("slvm1", &json!({}))
        .expect_err("no monitor");
    assert_eq!(e.kind, ErrorKind::Check);
    assert!(e.remedy.unwrap_or_default().contains("add-app-monitor"));
}
