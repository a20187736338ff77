//! Issue 13, defect 5 (the guest-failure path) and defect 7's first part (the vswitch
//! warning of two toolkits), through the binary against the simulator's scenarios:
//! `hpvm/guest-fails-over` (Serviceguard failed the package over to node2),
//! `hpvm/guest-fails-no-failover` (package switching off: the package halted),
//! `hpvm/guest-fails-in-maintenance` (the guest died in toolkit maintenance: the package
//! stays up with its guest Off) and `hpvm/two-toolkits-one-vswitch`.

mod sim_support;

use sim_support::{run, Site};

const PKG_LOG: &str = "/var/adm/cmcluster/log/slvm1.log";
const FAILURE: &str = "Service monitor detected a failure in guest slvm1.";

fn stdout_of(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The time stamp (`Mon dd hh:mm:ss`) of the first line of `file` on `host` holding `text`.
fn stamp_of(site: &Site, host: &str, file: &str, text: &str) -> String {
    let o = site.exec(host, &["cat", file]);
    let body = stdout_of(&o);
    let line = body
        .lines()
        .find(|l| l.contains(text))
        .unwrap_or_else(|| panic!("no {text:?} in {file} on {host}:\n{body}"));
    line.get(..15).unwrap_or(line).to_string()
}

/// The `key=value` of package slvm1 in `cmviewcl -v -f line` on node1.
fn package_key(site: &Site, key: &str) -> Option<String> {
    let o = site.exec("node1", &["/usr/sbin/cmviewcl", "-v", "-f", "line"]);
    let prefix = format!("package:slvm1|{key}=");
    stdout_of(&o)
        .lines()
        .find_map(|l| l.strip_prefix(&prefix).map(str::to_string))
}

/// The line of `hpvmstatus -P slvm1` on `host` naming its state.
fn guest_on(site: &Site, host: &str) -> bool {
    let o = site.exec(host, &["/opt/hpvm/bin/hpvmstatus", "-P", "slvm1"]);
    stdout_of(&o)
        .lines()
        .any(|l| l.contains("slvm1") && l.trim_end().ends_with("On (OS)"))
}

#[test]
fn diagnose_reports_a_guest_failure_serviceguard_failed_over() {
    let (r, site) = run(
        "hpvm/diagnose",
        Some("hpvm/guest-fails-over"),
        &["package=slvm1"],
        &[],
    );
    assert_eq!(r.code, 3, "{}", r.dump());
    let out = r.all();
    assert!(
        out.contains("FAIL service monitor detected a failure in the guest"),
        "{}",
        r.dump()
    );
    // The log line found, with its time, host and file.
    let stamp = stamp_of(&site, "node1", PKG_LOG, FAILURE);
    assert!(
        out.contains(&format!("found: {stamp} on node1, {PKG_LOG} line")) && out.contains(FAILURE),
        "the finding names the line and its time ({stamp}): {}",
        r.dump()
    );
    // Serviceguard failed it over: check the guest on the new owner, re-enable node1.
    assert!(
        out.contains("Serviceguard failed slvm1 over from node1 to node2"),
        "{}",
        r.dump()
    );
    assert!(out.contains("`hpvmstatus -P slvm1` there"), "{}", r.dump());
    assert!(out.contains("`cmmodpkg -e -n node1 slvm1`"), "{}", r.dump());
    assert!(
        !out.contains("hpvm/run-package"),
        "no restart of a package that runs: {}",
        r.dump()
    );
    assert!(
        out.contains("ok   guest slvm1 on the owner node2"),
        "{}",
        r.dump()
    );
    assert!(r.changes().is_empty(), "read-only: {:?}", r.changes());
}

#[test]
fn diagnose_says_restart_when_serviceguard_did_not_fail_over() {
    let (r, site) = run(
        "hpvm/diagnose",
        Some("hpvm/guest-fails-no-failover"),
        &["package=slvm1"],
        &[],
    );
    assert_eq!(r.code, 3, "{}", r.dump());
    let out = r.all();
    let stamp = stamp_of(&site, "node1", PKG_LOG, FAILURE);
    assert!(
        out.contains(&format!("found: {stamp} on node1, {PKG_LOG} line")),
        "{}",
        r.dump()
    );
    assert!(
        out.contains("Serviceguard did not fail slvm1 over (the package is down/halted): restart the package"),
        "{}",
        r.dump()
    );
    // node1's switching was disabled by the failure: the restart names node2.
    assert!(
        out.contains("hpvm/run-package -p package=slvm1 -p node=node2"),
        "{}",
        r.dump()
    );
    assert!(r.changes().is_empty(), "read-only: {:?}", r.changes());

    // The remedy works as printed.
    let r = site.run("hpvm/run-package", &["package=slvm1", "node=node2"], &[]);
    assert_eq!(r.code, 0, "{}", r.dump());
    assert_eq!(package_key(&site, "owner").as_deref(), Some("node2"));
    assert_eq!(package_key(&site, "autorun").as_deref(), Some("enabled"));
    assert!(guest_on(&site, "node2"));
}

#[test]
fn maintenance_off_does_not_say_monitored_again_while_the_guest_is_off() {
    let (r, site) = run(
        "hpvm/maintenance",
        Some("hpvm/guest-fails-in-maintenance"),
        &["package=slvm1", "state=off"],
        &[],
    );
    assert_eq!(r.code, 4, "needs attention: {}", r.dump());
    assert!(
        !r.all().contains("the guest is monitored again"),
        "{}",
        r.dump()
    );
    assert!(
        r.stderr
            .contains("package slvm1 is up on node1 while its guest is Off there"),
        "{}",
        r.dump()
    );
    // Leaving maintenance was right and stays done: the monitor looks again.
    assert_eq!(
        r.changes(),
        ["node1: /etc/cmcluster/scripts/tkit/vtn/cmdeployvpkg -m 0 -P slvm1"],
        "{}",
        r.dump()
    );
    assert_ne!(
        site.exec("node1", &["ls", "-ld", "/etc/cmcluster/slvm1/vtn.debug"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(package_key(&site, "status").as_deref(), Some("up"));
    assert!(!guest_on(&site, "node1"));
}

#[test]
fn diagnose_explains_the_vswitch_warning_of_two_toolkits() {
    let (r, site) = run(
        "hpvm/diagnose",
        Some("hpvm/two-toolkits-one-vswitch"),
        &["package=slvm1"],
        &[],
    );
    assert_eq!(r.code, 3, "{}", r.dump());
    let out = r.all();
    let warning =
        "Warning! IP Address mis-match : 192.0.2.31 found on interface lan0 expected lan1";
    let stamp = stamp_of(&site, "node1", "/var/adm/syslog/syslog.log", warning);
    assert!(
        out.contains("FAIL two toolkits manage one vswitch"),
        "{}",
        r.dump()
    );
    assert!(
        out.contains(&format!(
            "found: {stamp} on node1, /var/adm/syslog/syslog.log line"
        )) && out.contains(warning),
        "{}",
        r.dump()
    );
    assert!(out.contains("hpvm/convert-package"), "{}", r.dump());
    assert!(r.changes().is_empty(), "read-only: {:?}", r.changes());

    // The default site has no such line.
    let (r, _site) = run("hpvm/diagnose", None, &["package=slvm1"], &[]);
    assert_eq!(r.code, 0, "{}", r.dump());
    assert!(
        r.all().contains("ok   two toolkits manage one vswitch"),
        "{}",
        r.dump()
    );
}
