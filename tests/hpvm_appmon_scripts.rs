//! B4 application monitoring as scripts (issue 13, "Procedures as scripts"): what the
//! driver tests of `package.appmon_keys` / `package.test_app_monitor` asserted, now through
//! `hpvm/setup-appmon-keys` and `hpvm/test-app-monitor` run by the binary on the simulator
//! (every assertion kept: the values they read from the returned map are read from the
//! lines the scripts print), and a site's edited copy of setup-appmon-keys with a step
//! inserted, which runs where it was put.

mod sim_support;

use std::path::Path;

use sim_support::{Run, Site};

const PW: [&str; 3] = ["Cl1ent-Secret", "Serv3r-Secret", "Publ1c-Secret"];
const VARS: [&str; 3] = [
    "HASCRIPT_SECRET_STOREPASS_CLIENT",
    "HASCRIPT_SECRET_STOREPASS_SERVER",
    "HASCRIPT_SECRET_STOREPASS_PUBLIC",
];

/// Run `script` on `site` with the store passwords `pw` (client, server, public) in the
/// environment (the rest removed), and `path` (a folder of edited copies) as
/// `HASCRIPT_PATH` when given.
fn run_with(
    site: &Site,
    script: &str,
    params: &[&str],
    extra: &[&str],
    pw: &[&str],
    path: Option<&Path>,
) -> Run {
    let path = path.and_then(Path::to_str);
    let mut env: Vec<(&str, Option<&str>)> = VARS
        .iter()
        .zip(pw.iter().copied().map(Some).chain(std::iter::repeat(None)))
        .map(|(k, v)| (*k, v))
        .collect();
    if path.is_some() {
        env.push(("HASCRIPT_PATH", path));
    }
    site.run_env(script, params, extra, &env)
}

fn keys(site: &Site, params: &[&str], extra: &[&str], pw: &[&str]) -> Run {
    run_with(site, "hpvm/setup-appmon-keys", params, extra, pw, None)
}

fn out(site: &Site, host: &str, cmd: &[&str]) -> String {
    String::from_utf8_lossy(&site.exec(host, cmd).stdout).into_owned()
}

#[test]
fn regenerated_keys_are_made_with_dname_distributed_and_configured_0600() {
    let site = Site::new(Some("hpvm"));
    let r = keys(&site, &["package=slvm1", "regenerate=yes"], &["--yes"], &PW);
    assert_eq!(r.code, 0, "{}", r.dump());
    // client_keys made, server_keys made, key_host node1.
    assert!(
        r.stdout
            .contains("client keys on node1: made; server keys in slvm1: made"),
        "{}",
        r.dump()
    );
    let keytool: Vec<&String> = r
        .log
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
        let conf = out(&site, h, &["cat", "/etc/cmappmgr.conf"]);
        assert_eq!(
            conf,
            "keyStore=/etc/cmcluster/cmappmgr/client.private\nkeyStorePassword=Cl1ent-Secret\ntrustStore=slvm1:/etc/cmcluster/cmappmgr/server_slvm1.public\ntrustStorePassword=Publ1c-Secret\n"
        );
        assert!(
            out(&site, h, &["ls", "-l", "/etc/cmappmgr.conf"]).starts_with("-rw-------"),
            "{h}"
        );
        assert!(
            out(
                &site,
                h,
                &["ls", "-l", "/etc/cmcluster/cmappmgr/client.private"]
            )
            .starts_with("-rw-------"),
            "{h}"
        );
        // The copied stores open with the new passwords.
        let l = site.exec(
            h,
            &[
                "/opt/java6/bin/keytool",
                "-list",
                "-keystore",
                "/etc/cmcluster/cmappmgr/server_slvm1.public",
                "-storepass",
                "Publ1c-Secret",
            ],
        );
        assert_eq!(
            l.status.code(),
            Some(0),
            "{h}: {}",
            String::from_utf8_lossy(&l.stderr)
        );
    }
    let conf = out(
        &site,
        "slvm1",
        &["cat", "/opt/hp/cmappserver/cmappserver.conf"],
    );
    assert!(conf.contains("keyStorePassword=Serv3r-Secret\n"), "{conf}");
    assert!(out(
        &site,
        "slvm1",
        &["ls", "-l", "/opt/hp/cmappserver/cmappserver.conf"]
    )
    .starts_with("-rw-------"));
    // Same bytes on both hosts.
    let od = [
        "od",
        "-A",
        "n",
        "-v",
        "-t",
        "x1",
        "/etc/cmcluster/cmappmgr/client.private",
    ];
    assert_eq!(out(&site, "node1", &od), out(&site, "node2", &od));
    let shown = r.all();
    for pw in PW {
        assert!(!shown.contains(pw), "{pw} shown:\n{shown}");
    }
    assert!(shown.contains("[B4 1] client keys on node1"), "{shown}");
    assert!(
        shown.contains("[B4 2] /etc/cmappmgr.conf on every VM host"),
        "{shown}"
    );
    assert!(
        shown.contains("[B4 4] /opt/hp/cmappserver/cmappserver.conf in guest slvm1"),
        "{shown}"
    );
    // The files holding passwords are written through stdin (never in argv), mode 0600.
    for (host, file) in [
        ("node1", "/etc/cmappmgr.conf"),
        ("node2", "/etc/cmappmgr.conf"),
        ("slvm1", "/opt/hp/cmappserver/cmappserver.conf"),
        ("node2", "/etc/cmcluster/cmappmgr/client.private"),
    ] {
        assert!(
            r.log
                .iter()
                .any(|l| l.starts_with(&format!("{host}: sh -c 'umask 077 &&"))
                    && l.contains(&format!("chmod 0600 {file}.hascript"))),
            "{host} {file}: {}",
            r.dump()
        );
    }
    assert!(
        r.log
            .iter()
            .filter(|l| l.contains("sh -c"))
            .all(|l| PW.iter().all(|v| !l.contains(v))),
        "{}",
        r.dump()
    );
}

#[test]
fn a_second_run_reuses_everything_and_changes_nothing() {
    let site = Site::new(Some("hpvm"));
    let first = keys(&site, &["package=slvm1", "regenerate=yes"], &["--yes"], &PW);
    assert_eq!(first.code, 0, "{}", first.dump());
    let r = keys(&site, &["package=slvm1"], &[], &PW);
    assert_eq!(r.code, 0, "{}", r.dump());
    assert!(
        r.stdout
            .contains("client keys on node1: reused; server keys in slvm1: reused"),
        "{}",
        r.dump()
    );
    // Nothing copied.
    assert!(r.stdout.contains("0 key files copied"), "{}", r.dump());
    let changes: Vec<&String> = r
        .log
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
    assert!(r.changes().is_empty(), "{:?}", r.changes());
    assert!(r.stdout.contains("kept and reused"), "{}", r.stdout);
    for pw in PW {
        assert!(!r.all().contains(pw), "{pw} shown: {}", r.dump());
    }
}

#[test]
fn a_wrong_password_for_existing_stores_is_a_check_without_the_password() {
    // The default site's stores were made with the manual's passwords.
    let site = Site::new(Some("hpvm"));
    let r = keys(&site, &["package=slvm1"], &[], &PW);
    assert_eq!(r.code, 3, "{}", r.dump());
    let text = r.all();
    for pw in PW {
        assert!(!text.contains(pw), "{text}");
    }
    assert!(r.stderr.contains("-storepass *****"), "{text}");
    assert!(text.contains("regenerate"), "{text}");
    assert!(r.changes().is_empty(), "{:?}", r.changes());
    // Nothing changed.
    assert!(!r
        .log
        .iter()
        .any(|l| l.contains("-genkey") || l.contains("sh -c")));
}

#[test]
fn the_guest_must_be_an_inventory_guest_and_the_passwords_complete() {
    let site = Site::new(Some("hpvm"));
    let r = keys(&site, &["package=node1"], &[], &PW);
    assert_eq!(r.code, 2, "not a guest: {}", r.dump());
    assert!(
        r.stderr.contains("not a guest of the inventory"),
        "{}",
        r.dump()
    );
    let r = keys(&site, &["package=slvm1"], &[], &PW[..1]);
    assert_eq!(r.code, 2, "missing: {}", r.dump());
    assert!(
        r.stderr.contains("HASCRIPT_SECRET_STOREPASS_SERVER"),
        "{}",
        r.stderr
    );
    let r = keys(
        &site,
        &["package=slvm1", "regenerate=yes"],
        &["--yes"],
        &["short", PW[1], PW[2]],
    );
    assert_ne!(r.code, 0, "too short: {}", r.dump());
    assert!(!r.all().contains("short\""), "{}", r.dump());
    assert!(site.log().iter().all(|l| !l.contains("keytool -genkey")));
}

#[test]
fn failure_test_kills_the_application_and_reads_the_counter() {
    let site = Site::new(Some("hpvm/app-monitor-fails"));
    let r = site.run("hpvm/test-app-monitor", &["package=slvm1"], &["--yes"]);
    assert_eq!(r.code, 0, "{}", r.dump());
    // restarts_before 0, restarts_after 1, not failed over, owner node1.
    assert!(
        r.stdout
            .contains("restart count 0 -> 1 on node1 (max 2) after 1 kill"),
        "{}",
        r.dump()
    );
    assert!(
        r.stdout.contains("package slvm1 still runs on node1"),
        "{}",
        r.dump()
    );
    let kills: Vec<&String> = r.log.iter().filter(|l| l.contains("kill")).collect();
    assert_eq!(kills.len(), 1, "{kills:?}");
    assert!(kills[0].starts_with("slvm1: kill -9 "), "{kills:?}");
    assert!(r.all().contains("Kill `/apps/ping_mon`"), "{}", r.dump());
}

#[test]
fn failure_test_until_failover_reads_where_the_package_runs() {
    // The monitor named, and found by itself (the package's only monitor).
    for appmon in [Some("appmon=ping_mon"), None] {
        failover_case(appmon);
    }
}

fn failover_case(appmon: Option<&str>) {
    let site = Site::new(Some("hpvm/app-monitor-fails"));
    let mut params = vec!["package=slvm1", "expect=failover"];
    params.extend(appmon);
    let r = site.run("hpvm/test-app-monitor", &params, &["--yes"]);
    assert_eq!(r.code, 0, "{}", r.dump());
    // failed_over, from node1, owner node2, restarts_after 2, three kills.
    assert!(
        r.stdout
            .contains("restart count 0 -> 2 on node1 (max 2) after 3 kills"),
        "{}",
        r.dump()
    );
    assert!(
        r.stdout
            .contains("package slvm1 failed over from node1 to node2"),
        "{}",
        r.dump()
    );
    assert_eq!(
        r.log.iter().filter(|l| l.contains(": kill -9 ")).count(),
        3,
        "{}",
        r.dump()
    );
    // node_switching_disabled_on node1.
    assert!(
        r.stderr
            .contains("disabled node switching of slvm1 on node1"),
        "{}",
        r.stderr
    );
    assert!(
        r.stdout.contains("owner:             node2"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.contains("cmmodpkg -e -n node1 slvm1"),
        "{}",
        r.stderr
    );
    let view = out(&site, "node2", &["/usr/sbin/cmviewcl", "-v", "-f", "line"]);
    assert!(view.contains("package:slvm1|owner=node2"), "{view}");
    let st = out(&site, "node2", &["/opt/hpvm/bin/hpvmstatus", "-P", "slvm1"]);
    assert!(st.contains("On (OS)"), "{st}");
}

#[test]
fn failure_test_declined_kills_nothing() {
    let site = Site::new(Some("hpvm/app-monitor-fails"));
    let r = site.run("hpvm/test-app-monitor", &["package=slvm1"], &[]);
    assert_eq!(r.code, 5, "{}", r.dump());
    assert!(!r.log.iter().any(|l| l.contains("kill")), "{:?}", r.log);
    // A package without a monitor: a check naming add-app-monitor.
    let site = Site::new(Some("hpvm"));
    let r = site.run("hpvm/test-app-monitor", &["package=slvm1"], &["--yes"]);
    assert_eq!(r.code, 3, "{}", r.dump());
    assert!(r.stderr.contains("add-app-monitor"), "{}", r.stderr);
}

#[test]
fn kill_app_refuses_a_process_that_is_not_the_monitored_application() {
    // The interlock is the operation's: a script that names another PID kills nothing.
    let site = Site::new(Some("hpvm/app-monitor-fails"));
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("kill-other.rhai");
    std::fs::write(
        &script,
        "let mon = package.app_monitor(\"slvm1\");\nlet pid = package.app_process(\"slvm1\", mon.service);\npackage.kill_app(\"slvm1\", mon.service, pid + 1);\n",
    )
    .expect("write");
    let r = site.run(script.to_str().expect("utf8"), &[], &["--yes"]);
    assert_eq!(r.code, 3, "{}", r.dump());
    assert!(
        r.stderr.contains("does not run the monitored application"),
        "{}",
        r.dump()
    );
    assert!(!r.log.iter().any(|l| l.contains("kill")), "{:?}", r.log);
}

// ----- a site's edited copy ---------------------------------------------------------------

const SETUP: &str = include_str!("../scripts/hpvm/setup-appmon-keys.rhai");
/// Where setup-appmon-keys writes /etc/cmappmgr.conf (B4 step 2).
const STEP2: &str = "let confs = step(\"B4 2\"";
/// The site's step inserted between the key distribution and B4 step 2.
const SITE_STEP: &str = "step(\"site\", \"list the key folder before the configuration files\", || host(key_host).run([\"ls\", \"-l\", \"/etc/cmcluster/cmappmgr\"], #{ changes: false }));\n";

#[test]
fn setup_appmon_keys_a_step_inserted_before_b4_2_runs_there() {
    assert_eq!(SETUP.matches(STEP2).count(), 1, "{STEP2:?} must occur once");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("hpvm")).expect("mkdir");
    std::fs::write(
        dir.path().join("hpvm/setup-appmon-keys.rhai"),
        SETUP.replacen(STEP2, &format!("{SITE_STEP}{STEP2}"), 1),
    )
    .expect("write");
    let site = Site::new(Some("hpvm"));
    let r = run_with(
        &site,
        "hpvm/setup-appmon-keys",
        &["package=slvm1", "regenerate=yes"],
        &["--yes"],
        &PW,
        Some(dir.path()),
    );
    assert_eq!(r.code, 0, "{}", r.dump());
    assert!(r.stdout.contains("(HASCRIPT_PATH: "), "{}", r.dump());
    // On the screen: after the distribution, before B4 2.
    let at = |s: &str| {
        r.stdout
            .find(s)
            .unwrap_or_else(|| panic!("{s:?} not shown: {}", r.dump()))
    };
    let dist = at("[B4 1] distribute the public keys");
    let mine = at("[site] list the key folder");
    let b42 = at("[B4 2] /etc/cmappmgr.conf on every VM host");
    assert!(dist < mine && mine < b42, "{}", r.dump());
    // In the commands sent: after the last key file written to node2, before the first
    // read of /etc/cmappmgr.conf.
    let pos = |f: &dyn Fn(&String) -> bool| r.log.iter().position(f);
    let ls = pos(&|l| l == "node1: ls -l /etc/cmcluster/cmappmgr").expect("ls sent");
    let last_copy = r
        .log
        .iter()
        .rposition(|l| l.starts_with("node2: sh -c") && l.contains("/etc/cmcluster/cmappmgr/"))
        .expect("key files copied to node2");
    let conf = pos(&|l| l.contains("cat /etc/cmappmgr.conf")).expect("conf read");
    assert!(last_copy < ls && ls < conf, "{}", r.dump());
    // The rest of the procedure is unchanged: the files are written as shipped.
    let c = out(&site, "node2", &["cat", "/etc/cmappmgr.conf"]);
    assert!(c.contains("keyStorePassword=Cl1ent-Secret\n"), "{c}");
}

#[test]
fn a_password_keytool_would_refuse_is_refused_before_the_old_stores_are_moved_aside() {
    // With regenerate=yes the old stores are moved aside first: a store password keytool
    // refuses (under 6 characters) must stop the run before that, naming the option only.
    let site = Site::new(Some("hpvm"));
    let r = keys(
        &site,
        &["package=slvm1", "regenerate=yes"],
        &["--yes"],
        &["short", PW[1], PW[2]],
    );
    assert_eq!(r.code, 2, "{}", r.dump());
    assert!(r.stderr.contains("client_password"), "{}", r.dump());
    assert!(r.changes().is_empty(), "{:?}", r.changes());
    assert!(!r.log.iter().any(|l| l.contains(" mv ")), "{}", r.dump());
    for f in ["client.private", "client.public"] {
        let ls = out(
            &site,
            "node1",
            &["ls", "-l", &format!("/etc/cmcluster/cmappmgr/{f}")],
        );
        assert!(ls.starts_with("-rw"), "{f} moved: {ls}");
    }
}
