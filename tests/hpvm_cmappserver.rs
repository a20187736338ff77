//! Issue 13, "Installing cmappserver in the guest" (§5 step 3): `hpvm/install-cmappserver`
//! through the binary against the simulator — an HP-UX 11i v3 guest (the default site's
//! slvm2: depot from `11iv3`, `swinstall`), a Red Hat guest fresh (`rpm -i`) and with an
//! older cmappserver (`rpm -U`), a SLES guest whose Java is too old (refused before any
//! change, also when a script skips the check), a Windows guest (the manual's steps printed,
//! the port probed from the VM host, no command sent to the guest), and re-runs that send
//! no change.

mod sim_support;

use sim_support::{run, Run, Site};

const DEPOT: &str = "/tmp/cmappserver.depot";
const RHEL_RPM: &str = "/tmp/cmappserver_rhel5_ia64.rpm";

/// Whether the run sent `line` (a `host: command` prefix) to a host.
fn sent(r: &Run, line: &str) -> bool {
    r.log.iter().any(|l| l.starts_with(line))
}

/// The lines the run sent to `host`.
fn to_host<'a>(r: &'a Run, host: &str) -> Vec<&'a String> {
    let p = format!("{host}: ");
    r.log.iter().filter(|l| l.starts_with(&p)).collect()
}

/// Lines that write a file (the contract's `sh -c 'umask 077 && … dd of=…'`) or install.
fn writes_or_installs(r: &Run) -> Vec<&String> {
    r.log
        .iter()
        .filter(|l| !l.contains("/var/tmp/hascript.lock"))
        .filter(|l| {
            l.contains("dd of=")
                || l.contains("swinstall")
                || l.contains("/bin/rpm -i")
                || l.contains("/bin/rpm -U")
        })
        .collect()
}

fn stdout_of(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn hpux_11iv3_guest_gets_the_11iv3_depot_and_swinstall() {
    let (r, site) = run("hpvm/install-cmappserver", None, &["package=slvm2"], &[]);
    assert_eq!(r.code, 0, "{}", r.dump());
    // The OS kind from hpvmstatus -P, the release from uname -r in the guest.
    assert!(
        sent(&r, "node1: /opt/hpvm/bin/hpvmstatus -P slvm2"),
        "{}",
        r.dump()
    );
    assert!(sent(&r, "slvm2: uname -r"), "{}", r.dump());
    // The 11iv3 depot read on the VM host, written to /tmp/cmappserver.depot in the guest.
    assert!(
        sent(
            &r,
            "node1: od -A n -v -t x1 /opt/hp/serviceguard/cmappserver/11iv3/cmappserver.depot"
        ),
        "{}",
        r.dump()
    );
    assert!(
        r.log
            .iter()
            .any(|l| l.starts_with("slvm2: ") && l.contains("dd of=") && l.contains(DEPOT)),
        "the depot written whole in the guest: {}",
        r.dump()
    );
    assert!(
        !r.log.iter().any(|l| l.contains("11iv2")),
        "the 11iv2 depot is not for B.11.31: {}",
        r.dump()
    );
    let installs: Vec<&String> = to_host(&r, "slvm2")
        .into_iter()
        .filter(|l| l.contains("swinstall"))
        .collect();
    assert_eq!(
        installs,
        vec![&format!(
            "slvm2: /usr/sbin/swinstall -s {DEPOT} CMAPPSERVER"
        )],
        "{}",
        r.dump()
    );
    // Compared with the depot before, read back after.
    let pos = |needle: &str| r.log.iter().position(|l| l.contains(needle));
    let depot_rev = pos("swlist -s /tmp/cmappserver.depot -l product CMAPPSERVER");
    let install = pos("/usr/sbin/swinstall");
    let last_swlist = r
        .log
        .iter()
        .rposition(|l| l.starts_with("slvm2: /usr/sbin/swlist -l product CMAPPSERVER"));
    assert!(
        depot_rev < install && install < last_swlist && depot_rev.is_some(),
        "swlist -s before swinstall, swlist read back after: {}",
        r.dump()
    );
    // The guest's keys are not made yet: the run says which procedure makes them.
    assert!(
        r.all().contains("hpvm/setup-appmon-keys -p package=slvm2"),
        "{}",
        r.dump()
    );
    let o = site.exec(
        "slvm2",
        &["/usr/sbin/swlist", "-l", "product", "CMAPPSERVER"],
    );
    assert!(stdout_of(&o).contains("CMAPPSERVER"), "installed: {o:?}");

    // Re-run: nothing written, nothing installed.
    let again = site.run("hpvm/install-cmappserver", &["package=slvm2"], &[]);
    assert_eq!(again.code, 0, "{}", again.dump());
    assert!(writes_or_installs(&again).is_empty(), "{}", again.dump());
    assert!(
        again.all().contains("already installed"),
        "{}",
        again.dump()
    );
}

#[test]
fn rhel_guest_fresh_install_uses_rpm_i_and_a_rerun_changes_nothing() {
    let (r, site) = run(
        "hpvm/install-cmappserver",
        Some("hpvm/cmappserver-linux-guest"),
        &["package=slvm1"],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.dump());
    assert!(sent(&r, "slvm1: java -version"), "{}", r.dump());
    assert!(sent(&r, "slvm1: cat /etc/redhat-release"), "{}", r.dump());
    assert!(
        sent(&r, "node1: od -A n -v -t x1 /opt/hp/serviceguard/cmappserver/redhat/cmappserver_rhel5_ia64.rpm"),
        "{}",
        r.dump()
    );
    assert!(sent(&r, "slvm1: /bin/rpm -q cmappserver"), "{}", r.dump());
    assert!(
        sent(&r, &format!("slvm1: /bin/rpm -qp {RHEL_RPM}")),
        "{}",
        r.dump()
    );
    assert!(
        sent(&r, &format!("slvm1: /bin/rpm -i {RHEL_RPM}")),
        "{}",
        r.dump()
    );
    assert!(!sent(&r, "slvm1: /bin/rpm -U"), "{}", r.dump());
    assert_eq!(
        writes_or_installs(&r).len(),
        2,
        "one write, one rpm -i: {}",
        r.dump()
    );
    // Java checked before the first write.
    let java = r.log.iter().position(|l| l.contains("java -version"));
    let write = r
        .log
        .iter()
        .position(|l| l.contains("dd of=") && !l.contains("hascript.lock"));
    assert!(java.is_some() && java < write, "{}", r.dump());
    // PATH: checked and the line to add is named.
    assert!(
        r.all()
            .contains("PATH=$PATH:/opt/hp/cmappserver; export PATH"),
        "{}",
        r.dump()
    );
    let o = site.exec("slvm1", &["/bin/rpm", "-q", "cmappserver"]);
    assert_eq!(stdout_of(&o).trim(), "cmappserver-A.11.20.00-0", "{o:?}");

    let again = site.run("hpvm/install-cmappserver", &["package=slvm1"], &[]);
    assert_eq!(again.code, 0, "{}", again.dump());
    assert!(writes_or_installs(&again).is_empty(), "{}", again.dump());
}

#[test]
fn rhel_guest_with_an_older_cmappserver_is_upgraded_with_rpm_u() {
    let (r, site) = run(
        "hpvm/install-cmappserver",
        Some("hpvm/cmappserver-linux-upgrade"),
        &["package=slvm1"],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.dump());
    assert!(
        sent(&r, &format!("slvm1: /bin/rpm -U {RHEL_RPM}")),
        "{}",
        r.dump()
    );
    assert!(!sent(&r, "slvm1: /bin/rpm -i"), "{}", r.dump());
    assert!(r.all().contains("cmappserver-A.11.19.00-0"), "{}", r.dump());
    let o = site.exec("slvm1", &["/bin/rpm", "-q", "cmappserver"]);
    assert_eq!(stdout_of(&o).trim(), "cmappserver-A.11.20.00-0", "{o:?}");
    // Its keys were there: no request to make them.
    assert!(
        !r.all().contains("hpvm/setup-appmon-keys -p"),
        "{}",
        r.dump()
    );
    // Its operator had put /opt/hp/cmappserver on root's PATH.
    assert!(
        r.all()
            .contains("ok   /opt/hp/cmappserver on root's PATH in slvm1: set in /etc/profile"),
        "{}",
        r.dump()
    );
}

#[test]
fn java_too_old_is_refused_before_any_change() {
    let (r, site) = run(
        "hpvm/install-cmappserver",
        Some("hpvm/cmappserver-old-java"),
        &["package=slvm1"],
        &[],
    );
    assert_eq!(r.code, 3, "{}", r.dump());
    assert!(
        r.all().contains("Java 1.4.1_07 is older than 1.4.2"),
        "{}",
        r.dump()
    );
    assert!(writes_or_installs(&r).is_empty(), "{}", r.dump());
    assert!(r.changes().is_empty(), "{:?}", r.changes());
    assert!(
        !r.log
            .iter()
            .any(|l| l.contains("cmappserver_sles_ia64.rpm")),
        "nothing copied: {}",
        r.dump()
    );

    // The rule stays in the operations: a script that skips the check is refused too.
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("skip-java.rhai");
    std::fs::write(
        &script,
        "//! title: skips the Java check\n//! params: package\nlet c = package.copy_cmappserver(params[\"package\"]);\npackage.install_cmappserver(params[\"package\"], c.dest)\n",
    )
    .expect("write");
    let r = site.run(script.to_str().expect("utf8"), &["package=slvm1"], &[]);
    assert_eq!(r.code, 3, "{}", r.dump());
    assert!(writes_or_installs(&r).is_empty(), "{}", r.dump());
}

#[test]
fn windows_guest_gets_the_manuals_steps_and_a_port_check_from_the_host() {
    let (r, site) = run(
        "hpvm/install-cmappserver",
        Some("hpvm/cmappserver-windows-guest"),
        &["package=slvm1"],
        &[],
    );
    // cmappserver is not installed there: the port does not answer.
    assert_eq!(r.code, 3, "{}", r.dump());
    let out = r.all();
    for step in [
        "/opt/hp/serviceguard/cmappserver/windows/cmappserver.exe",
        "run cmappserver.exe",
        r"C:\Program Files\Hewlett-Packard\cmappserver",
        "Java 1.4.2, 1.5 or 1.6",
    ] {
        assert!(out.contains(step), "{step}: {}", r.dump());
    }
    // Nothing is sent to the guest; the port is probed read-only from its VM host.
    assert!(to_host(&r, "slvm1").is_empty(), "{}", r.dump());
    let probe: Vec<&String> = r
        .log
        .iter()
        .filter(|l| l.contains("/usr/bin/perl"))
        .collect();
    assert_eq!(probe.len(), 1, "{}", r.dump());
    assert!(
        probe[0].starts_with("node1: /usr/bin/perl -MIO::Socket::INET -e ")
            && probe[0].ends_with(" slvm1 5315 10"),
        "{}",
        r.dump()
    );
    assert!(out.contains("Connection refused"), "{}", r.dump());
    assert!(r.changes().is_empty(), "{:?}", r.changes());

    // The operator does the steps in the guest (the simulator's state says so), then runs
    // the procedure again to check: the port answers, exit 0, still nothing sent to it.
    let file = site.state.join("site.json");
    let mut state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).expect("site.json")).expect("json");
    assert_eq!(state["model"]["guests"][0]["name"], "slvm1");
    state["model"]["guests"][0]["cmappserver"] = serde_json::Value::Bool(true);
    std::fs::write(&file, serde_json::to_vec(&state).expect("json")).expect("write");
    let again = site.run("hpvm/install-cmappserver", &["package=slvm1"], &[]);
    assert_eq!(again.code, 0, "{}", again.dump());
    assert!(
        again
            .all()
            .contains("ok   cmappserver port 5315 of slvm1: answers (a TCP connect from node1)"),
        "{}",
        again.dump()
    );
    assert!(to_host(&again, "slvm1").is_empty(), "{}", again.dump());
}

#[test]
fn copy_refuses_a_windows_guest_whatever_the_script_says() {
    let site = Site::new(Some("hpvm/cmappserver-windows-guest"));
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("copy-to-windows.rhai");
    std::fs::write(
        &script,
        "//! title: tries to copy into a Windows guest\n//! params: package\npackage.copy_cmappserver(params[\"package\"])\n",
    )
    .expect("write");
    let r = site.run(script.to_str().expect("utf8"), &["package=slvm1"], &[]);
    // The copy refuses a Windows guest whatever the script says.
    assert_eq!(r.code, 2, "{}", r.dump());
    assert!(r.all().contains("Windows guest"), "{}", r.dump());
    assert!(to_host(&r, "slvm1").is_empty(), "{}", r.dump());
}
