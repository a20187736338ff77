//! B4 application monitoring through the binary: `hpvm/setup-appmon-keys` (keys with
//! `-dname`, files written with mode 0600, secret parameters never printed and never taken
//! from `-p`) and `hpvm/test-app-monitor` (restart counter and failover) on the simulator.

mod sim_support;

use std::process::Command;

use sim_support::{Run, Site};

const SECRETS: [(&str, &str); 3] = [
    ("HASCRIPT_SECRET_STOREPASS_CLIENT", "Cl1ent-T0p-Secret"),
    ("HASCRIPT_SECRET_STOREPASS_SERVER", "Serv3r-T0p-Secret"),
    ("HASCRIPT_SECRET_STOREPASS_PUBLIC", "Publ1c-T0p-Secret"),
];

/// Run a procedure on `site` with `env` set (and every secret variable cleared first).
fn run_env(
    site: &Site,
    script: &str,
    params: &[&str],
    extra: &[&str],
    env: &[(&str, &str)],
) -> Run {
    let before = site.log().len();
    let mut c = Command::new(env!("CARGO_BIN_EXE_hascript"));
    c.args(["run", script, "--sim", "--sim-state"])
        .arg(&site.state)
        .env_remove("HASCRIPT_PATH")
        // Journals and history of test runs stay in the build folder.
        .env("XDG_STATE_HOME", env!("CARGO_TARGET_TMPDIR"))
        .env("NO_COLOR", "1");
    for (k, _) in SECRETS {
        c.env_remove(k);
    }
    for p in params {
        c.args(["-p", p]);
    }
    c.args(extra);
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("hascript runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        log: site
            .log()
            .get(before..)
            .map(<[String]>::to_vec)
            .unwrap_or_default(),
    }
}

fn stdout_of(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn keys_regenerated_with_secrets_that_are_never_printed() {
    let site = Site::new(Some("hpvm"));
    let r = run_env(
        &site,
        "hpvm/setup-appmon-keys",
        &["package=slvm1", "regenerate=yes"],
        &["--yes"],
        &SECRETS,
    );
    assert_eq!(r.code, 0, "{}", r.dump());
    let shown = r.all();
    let sent = r.log.join("\n");
    for (_, v) in SECRETS {
        assert!(!shown.contains(v), "{v} printed:\n{shown}");
        assert!(sent.contains(v), "{v} never sent:\n{sent}");
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
    // The exact keytool argv, with -dname, on the host and in the guest.
    let genkeys: Vec<&String> = r.log.iter().filter(|l| l.contains("-genkey")).collect();
    assert_eq!(
        genkeys,
        [
            "node1: /opt/java6/bin/keytool -genkey -alias clientprivate -keystore /etc/cmcluster/cmappmgr/client.private -storepass Cl1ent-T0p-Secret -keypass Cl1ent-T0p-Secret -validity 400 -dname 'CN=node1, OU=cmappmgr, O=Serviceguard'",
            "slvm1: /opt/java6/bin/keytool -genkey -alias serverprivate -keystore /opt/hp/cmappserver/server.private -storepass Serv3r-T0p-Secret -keypass Serv3r-T0p-Secret -validity 400 -dname 'CN=slvm1, OU=cmappserver, O=Serviceguard'",
        ]
    );
    assert!(r.log.contains(&"node1: /opt/java6/bin/keytool -import -noprompt -alias clientpublic -keystore /etc/cmcluster/cmappmgr/client.public -file /etc/cmcluster/cmappmgr/temp.key -storepass Publ1c-T0p-Secret".to_string()), "{}", r.dump());
    // The files holding passwords: written through stdin (never in argv), mode 0600.
    for (host, file) in [
        ("node1", "/etc/cmappmgr.conf"),
        ("node2", "/etc/cmappmgr.conf"),
        ("slvm1", "/opt/hp/cmappserver/cmappserver.conf"),
        ("node2", "/etc/cmcluster/cmappmgr/client.private"),
    ] {
        let ls = stdout_of(&site.exec(host, &["ls", "-l", file]));
        assert!(ls.starts_with("-rw------- "), "{host} {file}: {ls}");
        assert!(
            r.log
                .iter()
                .any(|l| l.starts_with(&format!("{host}: sh -c 'umask 077 &&"))
                    && l.contains(&format!("chmod 0600 {file}.hascript"))),
            "{host} {file}: {}",
            r.dump()
        );
    }
    assert!(r
        .log
        .iter()
        .filter(|l| l.contains("sh -c"))
        .all(|l| SECRETS.iter().all(|(_, v)| !l.contains(v))));
    let conf = stdout_of(&site.exec("node2", &["cat", "/etc/cmappmgr.conf"]));
    assert!(
        conf.contains("trustStore=slvm1:/etc/cmcluster/cmappmgr/server_slvm1.public\n"),
        "{conf}"
    );
    assert!(
        conf.contains("keyStorePassword=Cl1ent-T0p-Secret\n"),
        "{conf}"
    );

    // A second run keeps everything and says so.
    let again = run_env(
        &site,
        "hpvm/setup-appmon-keys",
        &["package=slvm1"],
        &[],
        &SECRETS,
    );
    assert_eq!(again.code, 0, "{}", again.dump());
    assert!(again.changes().is_empty(), "{:?}", again.changes());
    assert!(again.stdout.contains("kept and reused"), "{}", again.stdout);
    for (_, v) in SECRETS {
        assert!(!again.all().contains(v));
    }
}

#[test]
fn a_wrong_secret_is_reported_without_its_value() {
    let site = Site::new(Some("hpvm"));
    let r = run_env(
        &site,
        "hpvm/setup-appmon-keys",
        &["package=slvm1"],
        &[],
        &SECRETS,
    );
    assert_eq!(r.code, 3, "{}", r.dump());
    assert!(r.stderr.contains("-storepass *****"), "{}", r.stderr);
    for (_, v) in SECRETS {
        assert!(!r.all().contains(v), "{}", r.all());
    }
    assert!(r.changes().is_empty(), "{:?}", r.changes());
}

#[test]
fn a_secret_given_with_dash_p_is_refused() {
    let site = Site::new(Some("hpvm"));
    let r = run_env(
        &site,
        "hpvm/setup-appmon-keys",
        &["package=slvm1", "storepass_client=Cl1ent-T0p-Secret"],
        &[],
        &SECRETS,
    );
    assert_eq!(r.code, 2, "{}", r.dump());
    assert!(
        r.stderr.contains("storepass_client is a secret"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("history") && r.stderr.contains("process list"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("HASCRIPT_SECRET_STOREPASS_CLIENT"),
        "{}",
        r.stderr
    );
    assert!(!r.all().contains("Cl1ent-T0p-Secret"));
    assert!(r.log.is_empty(), "{:?}", r.log);
}

#[test]
fn a_missing_secret_is_a_usage_error_unless_the_manuals_defaults_are_asked_for() {
    let site = Site::new(Some("hpvm"));
    let r = run_env(
        &site,
        "hpvm/setup-appmon-keys",
        &["package=slvm1"],
        &[],
        &SECRETS[..2],
    );
    assert_eq!(r.code, 2, "{}", r.dump());
    assert!(
        r.stderr.contains("HASCRIPT_SECRET_STOREPASS_PUBLIC"),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("HASCRIPT_SECRET_STOREPASS_CLIENT"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("use_manual_default_passwords=yes"),
        "{}",
        r.stderr
    );
    assert!(r.log.is_empty(), "{:?}", r.log);
    // The default site's stores use the manual's passwords: with the defaults asked for,
    // everything is reused and nothing changes.
    let r = run_env(
        &site,
        "hpvm/setup-appmon-keys",
        &["package=slvm1", "use_manual_default_passwords=yes"],
        &[],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.dump());
    assert!(r.changes().is_empty(), "{:?}", r.changes());
    assert!(
        r.stderr.contains("published default passwords"),
        "{}",
        r.stderr
    );
}

#[test]
fn test_app_monitor_on_the_default_site_after_adding_a_monitor() {
    let site = Site::new(Some("hpvm"));
    let add = site.run(
        "hpvm/add-app-monitor",
        &["package=slvm1", "appmon=ping_mon:/apps/ping_mon:240:2:300"],
        &["--yes"],
    );
    assert_eq!(add.code, 0, "{}", add.dump());
    let r = site.run("hpvm/test-app-monitor", &["package=slvm1"], &["--yes"]);
    assert_eq!(r.code, 0, "{}", r.dump());
    assert!(
        r.stdout
            .contains("restart count 0 -> 1 on node1 (max 2) after 1 kill"),
        "{}",
        r.dump()
    );
    let kills: Vec<&String> = r.log.iter().filter(|l| l.contains("kill")).collect();
    assert_eq!(kills.len(), 1, "{kills:?}");
    assert!(kills[0].starts_with("slvm1: kill -9 "), "{kills:?}");
    let view = stdout_of(&site.exec("node1", &["/usr/sbin/cmviewcl", "-v", "-f", "line"]));
    assert!(
        view.contains("package:slvm1|service:ping_mon|restarts=1"),
        "{view}"
    );
    assert!(view.contains("package:slvm1|owner=node1"), "{view}");

    // Without --yes and without a terminal: declined, nothing killed.
    let r = site.run("hpvm/test-app-monitor", &["package=slvm1"], &[]);
    assert_eq!(r.code, 5, "{}", r.dump());
    assert!(!r.log.iter().any(|l| l.contains("kill")), "{:?}", r.log);
}

#[test]
fn test_app_monitor_until_failover_on_app_monitor_fails() {
    let site = Site::new(Some("hpvm/app-monitor-fails"));
    let r = site.run(
        "hpvm/test-app-monitor",
        &["package=slvm1", "expect=failover"],
        &["--yes"],
    );
    assert_eq!(r.code, 0, "{}", r.dump());
    assert_eq!(
        r.log.iter().filter(|l| l.contains(": kill -9 ")).count(),
        3,
        "{}",
        r.dump()
    );
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
    let view = stdout_of(&site.exec("node2", &["/usr/sbin/cmviewcl", "-v", "-f", "line"]));
    assert!(view.contains("package:slvm1|owner=node2"), "{view}");
    let st = stdout_of(&site.exec("node2", &["/opt/hpvm/bin/hpvmstatus", "-P", "slvm1"]));
    assert!(st.contains("On (OS)"), "{st}");
}

#[test]
fn test_app_monitor_restart_on_app_monitor_fails_and_bad_input() {
    let site = Site::new(Some("hpvm/app-monitor-fails"));
    let r = site.run(
        "hpvm/test-app-monitor",
        &["package=slvm1", "appmon=ping_mon"],
        &["--yes"],
    );
    assert_eq!(r.code, 0, "{}", r.dump());
    assert!(
        r.stdout.contains("restart count 0 -> 1 on node1"),
        "{}",
        r.dump()
    );
    assert!(
        r.stdout.contains("package slvm1 still runs on node1"),
        "{}",
        r.dump()
    );
    let bad = site.run(
        "hpvm/test-app-monitor",
        &["package=slvm1", "appmon=nosuch"],
        &["--yes"],
    );
    assert_eq!(bad.code, 2, "{}", bad.dump());
    assert!(
        bad.stderr.contains("no application monitor \"nosuch\""),
        "{}",
        bad.stderr
    );
    let bad = site.run(
        "hpvm/test-app-monitor",
        &["package=slvm1", "expect=reboot"],
        &["--yes"],
    );
    assert_eq!(bad.code, 2, "{}", bad.dump());
    assert!(bad.changes().is_empty());
}

// ----- duplicate monitors (issue 13, defect 6) ----------------------------------------------

const XCLOCK: &str = "appmon=xclock:/usr/bin/X11/xclock -display 16.213.12.70:0.0:240:none:300";
const XCLOCK_OTHER: &str =
    "appmon=xclock:/usr/bin/X11/xclock -display 16.213.12.71:0.0:240:none:300";

fn package_file(site: &Site, host: &str) -> String {
    stdout_of(&site.exec(host, &["cat", "/etc/cmcluster/slvm1/slvm1.conf"]))
}

/// Add `first` with `first_method`, then `second` with `second_method`: the second must be
/// refused with exit 3 before anything is sent, naming the service it clashes with, and the
/// package file must stay as the first run left it on every member.
fn refused_as_duplicate(
    first: &str,
    first_method: &str,
    second: &str,
    second_method: &str,
    clash: &str,
) {
    let site = Site::new(Some("hpvm"));
    let add = site.run(
        "hpvm/add-app-monitor",
        &["package=slvm1", first, first_method],
        &["--yes"],
    );
    assert_eq!(add.code, 0, "{}", add.dump());
    let before: Vec<String> = ["node1", "node2"]
        .iter()
        .map(|h| package_file(&site, h))
        .collect();
    let r = site.run(
        "hpvm/add-app-monitor",
        &["package=slvm1", second, second_method],
        &["--yes"],
    );
    let what = format!("{first_method} then {second_method}");
    assert_eq!(r.code, 3, "{what}: {}", r.dump());
    assert!(r.changes().is_empty(), "{what}: {:?}", r.changes());
    assert!(
        !r.log
            .iter()
            .any(|l| l.contains("cmdeployvpkg") || l.contains("sh -c") || l.contains("cmapply")),
        "{what}: {}",
        r.dump()
    );
    assert!(
        r.stderr.contains(&format!("service {clash}")),
        "{what}: {}",
        r.dump()
    );
    let after: Vec<String> = ["node1", "node2"]
        .iter()
        .map(|h| package_file(&site, h))
        .collect();
    assert_eq!(before, after, "{what}: the package file changed");
}

#[test]
fn duplicate_monitor_written_by_cmdeployvpkg_is_refused_before_cmdeployvpkg() {
    // cmdeployvpkg writes `service_name xclock` (Appendix A's `ping_mon`).
    refused_as_duplicate(
        XCLOCK,
        "method=cmdeployvpkg",
        XCLOCK_OTHER,
        "method=cmdeployvpkg",
        "xclock",
    );
}

#[test]
fn duplicate_monitor_written_by_cmdeployvpkg_is_refused_by_hand() {
    refused_as_duplicate(
        XCLOCK,
        "method=cmdeployvpkg",
        XCLOCK_OTHER,
        "method=commands",
        "xclock",
    );
}

#[test]
fn duplicate_monitor_written_by_hand_is_refused_before_cmdeployvpkg() {
    // By hand the service is `slvm1-xclock` (the manual's `mmpf121-xclock`).
    refused_as_duplicate(
        XCLOCK,
        "method=commands",
        XCLOCK_OTHER,
        "method=cmdeployvpkg",
        "slvm1-xclock",
    );
}

#[test]
fn duplicate_monitor_written_by_hand_is_refused_by_hand() {
    refused_as_duplicate(
        XCLOCK,
        "method=commands",
        XCLOCK_OTHER,
        "method=commands",
        "slvm1-xclock",
    );
}

#[test]
fn a_monitor_named_in_the_long_form_is_refused_against_the_short_one() {
    // `slvm1-xclock` given to cmdeployvpkg after `xclock`: the same monitor in the other form.
    refused_as_duplicate(
        XCLOCK,
        "method=cmdeployvpkg",
        "appmon=slvm1-xclock:/usr/bin/X11/xclock -display 16.213.12.71:0.0:240:none:300",
        "method=cmdeployvpkg",
        "xclock",
    );
}

#[test]
fn the_same_guest_command_under_another_name_is_refused_before_cmdeployvpkg() {
    // Only the timeout differs: the command sent to the guest is the same (A.11.20).
    refused_as_duplicate(
        XCLOCK,
        "method=cmdeployvpkg",
        "appmon=clock2:/usr/bin/X11/xclock -display 16.213.12.70:0.0:120:none:300",
        "method=cmdeployvpkg",
        "xclock",
    );
}
