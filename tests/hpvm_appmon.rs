//! B4 application monitoring through the binary, what tests/hpvm_appmon_scripts.rs does not
//! already check: secret parameters never taken from `-p` and asked for by name,
//! `hpvm/test-app-monitor` after adding a monitor on the default site, its bad input, and
//! duplicate monitors refused. (The key regeneration, a wrong store password and the
//! failover test are checked once, in tests/hpvm_appmon_scripts.rs.)

mod sim_support;

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
    let vars: Vec<(&str, Option<&str>)> = SECRETS
        .iter()
        .map(|(k, _)| (*k, None))
        .chain(env.iter().map(|(k, v)| (*k, Some(*v))))
        .collect();
    site.run_env(script, params, extra, &vars)
}

fn stdout_of(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
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
