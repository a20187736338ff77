//! The Serviceguard + Integrity VM emulator's default site: the contract's formats
//! (`book/src/driver-hpvm.md`), the package and toolkit commands, and the file commands the
//! driver uses.

mod common;

use common::*;
use hascript_sim::SimSite;

fn hpvm() -> SimSite {
    site(Some("hpvm"))
}

/// The value of `key` in `cmviewcl -v -f line` on `host`.
fn line_key(s: &SimSite, host: &str, key: &str) -> Option<String> {
    let out = ok(s, host, "LC_ALL=C /usr/sbin/cmviewcl -v -f line");
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")).map(str::to_string))
}

/// The `State` cell of `vm` in `hpvmstatus` on `host` (columns found by the `====` rule).
fn vm_state(s: &SimSite, host: &str, vm: &str) -> String {
    let out = ok(s, host, "/opt/hpvm/bin/hpvmstatus");
    let lines: Vec<&str> = out.lines().collect();
    let rule = lines
        .iter()
        .position(|l| l.starts_with("===="))
        .expect("rule");
    let spans: Vec<(usize, usize)> = {
        let r = lines[rule];
        let mut v = Vec::new();
        let mut start = None;
        for (i, c) in r.char_indices() {
            match (c, start) {
                ('=', None) => start = Some(i),
                (' ', Some(s)) => {
                    v.push((s, i));
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(s) = start {
            v.push((s, r.len()));
        }
        v
    };
    let row = lines[rule + 1..]
        .iter()
        .find(|l| l.split_whitespace().next() == Some(vm))
        .unwrap_or_else(|| panic!("{vm} not in\n{out}"));
    let (a, b) = spans[3];
    row[a..b.min(row.len())].trim().to_string()
}

const WRITE: &str = "LC_ALL=C sh -c 'umask 077 && rm -f '\\''/etc/cmcluster/slvm1/new.conf.hascript'\\'' && dd '\\''of=/etc/cmcluster/slvm1/new.conf.hascript'\\'' && chmod 644 '\\''/etc/cmcluster/slvm1/new.conf.hascript'\\'' && mv -f '\\''/etc/cmcluster/slvm1/new.conf.hascript'\\'' '\\''/etc/cmcluster/slvm1/new.conf'\\'''";

#[test]
fn cmviewcl_line_has_the_contract_keys() {
    let s = hpvm();
    let out = ok(&s, "node1", "LC_ALL=C /usr/sbin/cmviewcl -v -f line");
    for want in [
        "name=cluster1",
        "status=up",
        "node:node1|status=up",
        "node:node2|state=running",
        "package:slvm1|type=failover",
        "package:slvm1|status=up",
        "package:slvm1|state=running",
        "package:slvm1|autorun=enabled",
        "package:slvm1|owner=node1",
        "package:slvm1|failover_policy=configured_node",
        "package:slvm1|service:slvm1|status=up",
        "package:slvm1|service:slvm1|max_restarts=0",
        "package:slvm1|node:node1|switching=enabled",
        "package:slvm1|node:node1|type=primary",
        "package:slvm1|node:node2|type=alternate",
    ] {
        assert!(out.lines().any(|l| l == want), "missing {want} in\n{out}");
    }
    // slvm2 is not packaged.
    assert!(!out.contains("package:slvm2"));
}

#[test]
fn cmviewcl_tables() {
    let s = hpvm();
    let out = ok(&s, "node2", "cmviewcl");
    assert!(
        out.contains("CLUSTER        STATUS\ncluster1       up\n"),
        "{out}"
    );
    let row = out
        .lines()
        .find(|l| l.trim_start().starts_with("slvm1"))
        .expect("package row");
    assert_eq!(
        row.split_whitespace().collect::<Vec<_>>(),
        ["slvm1", "up", "running", "enabled", "node1"]
    );
    let v = ok(&s, "node2", "cmviewcl -v");
    assert!(
        v.contains("Primary      up           enabled      node1 (current)"),
        "{v}"
    );
    let o = run(&s, "node1", "cmviewcl -x");
    assert_eq!(o.code(), 2);
}

#[test]
fn hpvmstatus_summary_and_details() {
    let s = hpvm();
    assert_eq!(vm_state(&s, "node1", "slvm1"), "On (OS)");
    assert_eq!(vm_state(&s, "node1", "slvm2"), "On (OS)");
    assert_eq!(vm_state(&s, "node2", "slvm1"), "Off (NR)");
    let out = ok(&s, "node2", "hpvmstatus");
    assert!(!out.contains("slvm2"), "slvm2 is registered on node1 only");
    let d = ok(&s, "node1", "LC_ALL=C /opt/hpvm/bin/hpvmstatus -P slvm1");
    assert!(
        d.contains("slvm1                    8 HPUX    On (OS)\n"),
        "{d}"
    );
    assert!(
        d.contains("disk    scsi         0   2   0   2   0 disk      /dev/rdisk/disk109\n"),
        "{d}"
    );
    assert!(
        d.contains("vswitch   lan        localnet   2         0   0   0 0a-49-5b-35-75-27\n"),
        "{d}"
    );
    assert!(
        d.contains("vswitch   lan        myswitch   1         0   1   0 f2-54-d5-3b-fd-c7\n"),
        "{d}"
    );
    let d2 = ok(&s, "node1", "hpvmstatus -P slvm2");
    assert!(d2.contains(" lv        /dev/vg_slvm2/rlvol1"), "{d2}");
    let o = run(&s, "node1", "hpvmstatus -P nosuch");
    assert_eq!(
        (o.code(), o.stderr.as_str()),
        (1, "hpvmstatus: Unable to find the guest 'nosuch'.\n")
    );
}

#[test]
fn system_facts() {
    let s = hpvm();
    let vg = ok(&s, "node1", "/usr/sbin/vgdisplay vg_slvm2");
    assert!(
        vg.contains("VG Status                   available, shared, server\n"),
        "{vg}"
    );
    let vg0 = ok(&s, "node1", "vgdisplay /dev/vg00");
    assert!(
        vg0.contains("VG Status                   available\n"),
        "{vg0}"
    );
    assert_eq!(run(&s, "node1", "vgdisplay vgx").code(), 1);
    for p in ["T8718AC", "SG-IVS-Toolkit"] {
        let o = ok(&s, "node2", &format!("/usr/sbin/swlist -l product {p}"));
        assert!(
            o.lines().any(|l| l.split_whitespace().next() == Some(p)),
            "{o}"
        );
    }
    let o = run(&s, "node1", "swlist -l product NOPE");
    assert_eq!(o.code(), 1);
    assert!(o
        .stderr
        .contains("Software \"NOPE\" was not found on host \"node1:/\""));
    let df = ok(&s, "node1", "/usr/bin/df -n /etc/cmcluster/slvm1");
    assert!(
        df.trim_end().ends_with(": vxfs") || df.trim_end().ends_with("vxfs"),
        "{df}"
    );
}

#[test]
fn file_write_through_dd_then_read() {
    let s = hpvm();
    let data = b"package_name slvm1\nnode_name node1\n";
    let o = s.exec_line_with_stdin("node1", WRITE, Some(data));
    assert_eq!(o.code(), 0, "{}", o.stderr);
    assert_eq!(
        ok(&s, "node1", "cat /etc/cmcluster/slvm1/new.conf").as_bytes(),
        data
    );
    let l = ok(&s, "node1", "ls -ld /etc/cmcluster/slvm1/new.conf");
    assert!(
        l.starts_with("-rw-r--r--   1 root       sys             35 "),
        "{l}"
    );
    assert_eq!(
        run(&s, "node1", "ls -ld /etc/cmcluster/slvm1/new.conf.hascript").code(),
        2,
        "the temporary file was renamed"
    );
    // Without the chmod, umask 077 gives 0600.
    let o = s.exec_line_with_stdin("node1", "umask 077 && dd of=/tmp/x", Some(b"secret\n"));
    assert_eq!(o.code(), 0, "{}", o.stderr);
    assert!(ok(&s, "node1", "ls -ld /tmp/x").starts_with("-rw------- "));
    // Standard input goes to the first reader only.
    let o = s.exec_line_with_stdin("node1", "dd of=/tmp/a && dd of=/tmp/b", Some(b"once\n"));
    assert_eq!(o.code(), 0);
    assert_eq!(ok(&s, "node1", "cat /tmp/a"), "once\n");
    assert_eq!(ok(&s, "node1", "cat /tmp/b"), "");
    // wc / tail for log scans.
    assert_eq!(ok(&s, "node1", "wc -c /tmp/a"), "       5 /tmp/a\n");
    assert_eq!(ok(&s, "node1", "tail -c +3 /tmp/a"), "ce\n");
}

/// Issue 11, item 8: bytes that pass through a simulated command (`dd` from standard
/// input to standard output) come back exactly, as from a real host.
#[test]
fn bytes_through_dd_come_back_exactly() {
    let s = hpvm();
    let all: Vec<u8> = (0..=255u8).collect();
    let o = s.exec_line_with_stdin("node1", "dd", Some(&all));
    assert_eq!(o.code(), 0, "{}", o.stderr);
    assert_eq!(o.stdout_bytes(), &all[..]);
}

#[test]
fn modes_and_directories() {
    let s = hpvm();
    let l = ok(&s, "node1", "ls -ld /etc/cmcluster/slvm1");
    assert_eq!(
        l,
        "drwxr-xr-x   2 root       sys             96 Jul 28 17:26 /etc/cmcluster/slvm1\n"
    );
    let o = run(&s, "node1", "ls -ld /etc/cmcluster/nosuch");
    assert_eq!(
        (o.code(), o.stderr.as_str()),
        (2, "ls: /etc/cmcluster/nosuch: No such file or directory\n")
    );
    ok(&s, "node2", "mkdir -p /etc/cmcluster/slvm3/sub");
    assert!(ok(&s, "node2", "ls -ld /etc/cmcluster/slvm3/sub").starts_with("drwxr-xr-x"));
    ok(&s, "node2", "chmod 777 /etc/cmcluster/slvm3");
    assert!(ok(&s, "node2", "ls -ld /etc/cmcluster/slvm3").starts_with("drwxrwxrwx"));
    ok(&s, "node2", "chmod go-w /etc/cmcluster/slvm3");
    assert!(ok(&s, "node2", "ls -ld /etc/cmcluster/slvm3").starts_with("drwxr-xr-x"));
    assert!(ok(&s, "node1", "ls -ld /etc/cmappmgr.conf").starts_with("-rw------- "));
    let list = ok(&s, "node1", "ls -lA /etc/cmcluster/cmappmgr");
    for f in ["client.private", "client.public", "server_slvm1.public"] {
        assert!(
            list.lines().any(|l| l.ends_with(&format!(" {f}"))),
            "{list}"
        );
    }
    let g = ok(&s, "slvm1", "ls -lA /opt/hp/cmappserver");
    for f in [
        "server.private",
        "server.public",
        "client.public",
        "cmappserver.conf",
    ] {
        assert!(g.lines().any(|l| l.ends_with(&format!(" {f}"))), "{g}");
    }
    ok(
        &s,
        "node1",
        "cp -p /etc/cmcluster/slvm1/slvm1.conf /etc/cmcluster/slvm1/slvm1.conf.20261121",
    );
    let b = ok(
        &s,
        "node1",
        "ls -ld /etc/cmcluster/slvm1/slvm1.conf.20261121",
    );
    assert!(b.contains(" Jul 28 17:26 "), "cp -p keeps the time: {b}");
    ok(
        &s,
        "node1",
        "rm -f /etc/cmcluster/slvm1/slvm1.conf.20261121",
    );
    assert_eq!(
        run(
            &s,
            "node1",
            "ls -ld /etc/cmcluster/slvm1/slvm1.conf.20261121"
        )
        .code(),
        2
    );
}

#[test]
fn cmmovevpkg_moves_guest_and_ownership() {
    let s = hpvm();
    let t0 = elapsed(&s);
    let o = run(
        &s,
        "node1",
        "LC_ALL=C /etc/cmcluster/scripts/tkit/vtn/cmmovevpkg -v -P slvm1 -h node2",
    );
    assert_eq!(o.code(), 0, "{}", o.stderr);
    assert!(
        o.stdout.contains("Disabling package switching"),
        "{}",
        o.stdout
    );
    assert!(elapsed(&s) - t0 >= 60, "the migration takes virtual time");
    assert_eq!(vm_state(&s, "node1", "slvm1"), "Off (NR)");
    assert_eq!(vm_state(&s, "node2", "slvm1"), "On (OS)");
    assert_eq!(
        line_key(&s, "node2", "package:slvm1|owner").as_deref(),
        Some("node2")
    );
    assert_eq!(
        line_key(&s, "node2", "package:slvm1|autorun").as_deref(),
        Some("enabled")
    );
    // The guest kept running: it still answers.
    assert_eq!(ok(&s, "slvm1", "hostname"), "slvm1\n");
    // From node1 the package is no longer local.
    let o = run(&s, "node1", "cmmovevpkg -v -P slvm1 -h node2");
    assert_eq!(o.code(), 1);
    let log = s.command_log();
    assert!(log.iter().any(|c| c.host == "node1"
        && c.line.contains("cmmovevpkg -v -P slvm1 -h node2")
        && c.exit == 0));
}

#[test]
fn hpvmmigrate_check_and_refusals() {
    let s = hpvm();
    assert_eq!(
        run(&s, "node1", "hpvmmigrate -s -o -P slvm1 -h node2").code(),
        0
    );
    let o = run(&s, "node1", "hpvmmigrate -s -o -P slvm1 -h node9");
    assert_eq!(o.code(), 1);
    assert_eq!(
        vm_state(&s, "node1", "slvm1"),
        "On (OS)",
        "a check changes nothing"
    );
    // slvm2's shared LV may move online.
    assert_eq!(
        run(&s, "node1", "hpvmmigrate -s -o -P slvm2 -h node2").code(),
        0
    );
}

#[test]
fn packaged_vm_start_stop_are_refused_outside_maintenance() {
    let s = hpvm();
    let o = run(&s, "node1", "/opt/hpvm/bin/hpvmstop -P slvm1 -F");
    assert_eq!(o.code(), 1);
    assert!(
        o.stderr.contains("managed by Serviceguard package slvm1"),
        "{}",
        o.stderr
    );
    let o = run(
        &s,
        "node1",
        "/etc/cmcluster/scripts/tkit/vtn/cmdeployvpkg -m 1 -P slvm1",
    );
    assert_eq!(o.code(), 0, "{}", o.stderr);
    assert!(ok(&s, "node1", "ls -ld /etc/cmcluster/slvm1/vtn.debug").starts_with("-rw-"));
    assert!(ok(&s, "node1", "cat /var/adm/cmcluster/log/slvm1.log")
        .contains("Maintenance mode enabled for package slvm1"));
    ok(&s, "node1", "hpvmstop -P slvm1 -F");
    assert_eq!(vm_state(&s, "node1", "slvm1"), "Off");
    ok(&s, "node1", "hpvmstart -P slvm1");
    assert_eq!(vm_state(&s, "node1", "slvm1"), "On (OS)");
    ok(&s, "node1", "cmdeployvpkg -m 0 -P slvm1");
    assert_eq!(
        run(&s, "node1", "ls -ld /etc/cmcluster/slvm1/vtn.debug").code(),
        2
    );
    // slvm2 is not packaged: allowed.
    ok(&s, "node1", "hpvmstop -P slvm2 -F");
    assert_eq!(vm_state(&s, "node1", "slvm2"), "Off");
}

#[test]
fn halt_disables_switching_and_run_starts_the_guest() {
    let s = hpvm();
    ok(&s, "node1", "/usr/sbin/cmhaltpkg slvm1");
    assert_eq!(
        line_key(&s, "node1", "package:slvm1|status").as_deref(),
        Some("down")
    );
    assert_eq!(
        line_key(&s, "node1", "package:slvm1|autorun").as_deref(),
        Some("disabled")
    );
    assert_eq!(line_key(&s, "node1", "package:slvm1|owner"), None);
    assert_eq!(vm_state(&s, "node1", "slvm1"), "Off");
    assert_eq!(
        run(&s, "slvm1", "hostname").code(),
        255,
        "a stopped guest does not answer"
    );
    let t0 = elapsed(&s);
    let o = ok(&s, "node2", "/usr/sbin/cmrunpkg -n node2 slvm1");
    assert!(
        o.contains("Successfully started package slvm1 on node node2"),
        "{o}"
    );
    assert!(elapsed(&s) - t0 >= 30, "booting takes virtual time");
    assert_eq!(vm_state(&s, "node2", "slvm1"), "On (OS)");
    assert_eq!(vm_state(&s, "node1", "slvm1"), "Off (NR)");
    assert_eq!(
        line_key(&s, "node1", "package:slvm1|autorun").as_deref(),
        Some("disabled")
    );
    ok(&s, "node1", "/usr/sbin/cmmodpkg -e slvm1");
    assert_eq!(
        line_key(&s, "node1", "package:slvm1|autorun").as_deref(),
        Some("enabled")
    );
    ok(&s, "node1", "cmmodpkg -d -n node1 slvm1");
    assert_eq!(
        line_key(&s, "node1", "package:slvm1|node:node1|switching").as_deref(),
        Some("disabled")
    );
    let log = ok(&s, "node2", "cat /var/adm/cmcluster/log/slvm1.log");
    assert!(
        log.contains("Node \"node2\": Starting virtual machine slvm1"),
        "{log}"
    );
}

#[test]
fn cmcheckconf_rejects_a_group_writable_package_dir() {
    let s = hpvm();
    ok(&s, "node2", "chmod 777 /etc/cmcluster/slvm1");
    let o = run(
        &s,
        "node1",
        "/usr/sbin/cmcheckconf -P /etc/cmcluster/slvm1/slvm1.conf",
    );
    assert_eq!(o.code(), 1);
    assert!(o.stderr.contains("Incorrect permissions for /etc/cmcluster/slvm1 (40777). Directory must be executable for owner, and not writable by group and others on node node2.\n"), "{}", o.stderr);
    assert!(o
        .stderr
        .ends_with("cmcheckconf: Unable to verify package.\n"));
    let o = s.exec_line_with_stdin(
        "node1",
        "cmapplyconf -P /etc/cmcluster/slvm1/slvm1.conf",
        Some(b"y\n"),
    );
    assert_eq!(o.code(), 1);
    assert!(o.stderr.contains("(40777)"));
    ok(&s, "node2", "chmod go-w /etc/cmcluster/slvm1");
    let o = ok(
        &s,
        "node1",
        "cmcheckconf -P /etc/cmcluster/slvm1/slvm1.conf",
    );
    assert!(o.contains("cmcheckconf: Verification completed with no errors found.\n"));
}

#[test]
fn cmcheckconf_other_rules() {
    let s = hpvm();
    let cases: &[(&str, &str)] = &[
        ("package_name slvm9\npackage_type failover\nnode_name node1\ntkit/vtn/vtn/TKIT_DIR /etc/cmcluster/slvm9\n", "does not name a virtual machine"),
        ("package_name slvm1\npackage_type multi_node\nnode_name node1\ntkit/vtn/vtn/TKIT_DIR /etc/cmcluster/slvm1\n", "package_type multi_node"),
        ("package_name slvm1\nnode_name node7\ntkit/vtn/vtn/TKIT_DIR /etc/cmcluster/slvm1\n", "node_name node7 is not a node"),
        ("package_name slvm1\nnode_name node1\ntkit/vtn/vtn/TKIT_DIR\n", "TKIT_DIR is not set"),
        ("package_name slvm1\nnode_name node1\ntkit/vtn/vtn/TKIT_DIR /etc/cmcluster/slvm1\nservice_name a\nservice_cmd x\nservice_name a\nservice_cmd y\n", "Duplicate service_name a"),
        ("package_name slvm1\nnode_name node1\ntkit/vtn/vtn/TKIT_DIR /etc/cmcluster/slvm1\nservice_name a\nservice_cmd \"/usr/sbin/cmappmgr -node slvm1 -service /x\"\nservice_name b\nservice_cmd \"/usr/sbin/cmappmgr -node slvm1 -service /x\"\n", "used more than once for guest slvm1"),
    ];
    for (text, says) in cases {
        let o = s.exec_line_with_stdin("node1", "dd of=/tmp/p.conf", Some(text.as_bytes()));
        assert_eq!(o.code(), 0);
        let o = run(&s, "node1", "cmcheckconf -P /tmp/p.conf");
        assert_eq!(o.code(), 1, "{text}");
        assert!(o.stderr.contains(says), "{says}: {}", o.stderr);
    }
}

#[test]
fn cmapplyconf_asks_and_honours_no() {
    let s = hpvm();
    let o = s.exec_line_with_stdin(
        "node1",
        "/usr/sbin/cmapplyconf -P /etc/cmcluster/slvm1/slvm1.conf",
        Some(b"n\n"),
    );
    assert_eq!(o.code(), 1);
    assert!(
        o.stdout
            .contains("One or more of the specified packages are running."),
        "{}",
        o.stdout
    );
    assert!(o
        .stdout
        .contains("Modify the package configuration ([y]/n)? "));
    assert!(!o.stdout.contains("Completed the cluster update"));
    let o = s.exec_line_with_stdin(
        "node1",
        "/usr/sbin/cmapplyconf -P /etc/cmcluster/slvm1/slvm1.conf",
        Some(b"y\n"),
    );
    assert_eq!(o.code(), 0, "{}", o.stderr);
    assert!(o.stdout.ends_with("Completed the cluster update\n"));
    assert_eq!(
        line_key(&s, "node1", "package:slvm1|status").as_deref(),
        Some("up"),
        "still running"
    );
}

#[test]
fn appmon_deploy_apply_kill_restart() {
    let s = hpvm();
    let o = run(&s, "node1", "/etc/cmcluster/scripts/tkit/vtn/cmdeployvpkg -Q -P slvm1 -x merge -x 'appmon=app_mon:/apps/app-mon -display 16.213.12.70:0.0:10:1:300'");
    assert_eq!(o.code(), 0, "{}", o.stderr);
    assert!(o
        .stdout
        .contains("Checking communications with the application monitor server on : slvm1"));
    let conf = ok(&s, "node2", "cat /etc/cmcluster/slvm1/slvm1.conf");
    // Appendix A: cmdeployvpkg writes the monitor's service_cmd without quotes.
    assert!(
        conf.lines().any(|l| l.starts_with("service_cmd ")
            && l.ends_with(" /usr/sbin/cmappmgr -node slvm1 -cmappserver_timeout 10 -service /apps/app-mon -display 16.213.12.70:0.0")),
        "{conf}"
    );
    let o = s.exec_line_with_stdin(
        "node1",
        "cmapplyconf -P /etc/cmcluster/slvm1/slvm1.conf",
        Some(b"y\n"),
    );
    assert_eq!(o.code(), 0, "{}", o.stderr);
    assert_eq!(
        line_key(&s, "node1", "package:slvm1|service:app_mon|status").as_deref(),
        Some("up")
    );
    let pid = |s: &SimSite| -> String {
        ok(s, "slvm1", "ps -ef")
            .lines()
            .find(|l| l.contains("/apps/app-mon"))
            .and_then(|l| l.split_whitespace().nth(1))
            .expect("monitored app runs")
            .to_string()
    };
    ok(&s, "slvm1", &format!("kill -9 {}", pid(&s)));
    sleep(&s, 10);
    assert_eq!(
        line_key(&s, "node1", "package:slvm1|service:app_mon|restarts").as_deref(),
        Some("1")
    );
    ok(&s, "slvm1", &format!("kill -9 {}", pid(&s)));
    sleep(&s, 10);
    // Over the limit (1): the package fails over to node2.
    sleep(&s, 120);
    assert_eq!(
        line_key(&s, "node1", "package:slvm1|owner").as_deref(),
        Some("node2")
    );
    assert_eq!(
        line_key(&s, "node1", "package:slvm1|node:node1|switching").as_deref(),
        Some("disabled")
    );
    assert_eq!(vm_state(&s, "node2", "slvm1"), "On (OS)");
    let log = ok(&s, "node1", "cat /var/adm/cmcluster/log/slvm1.log");
    assert!(
        log.contains("Service app_mon restarting (restart count 1)"),
        "{log}"
    );
}

#[test]
fn make_check_apply_a_new_package() {
    let s = hpvm();
    for n in ["node1", "node2"] {
        ok(&s, n, "mkdir -p /etc/cmcluster/slvm2");
    }
    let o = ok(
        &s,
        "node1",
        "/usr/sbin/cmmakepkg -m tkit/vtn/vtn -n slvm2 /etc/cmcluster/slvm2/slvm2.conf",
    );
    assert!(o.starts_with("Package template is created."));
    let t = ok(&s, "node1", "cat /etc/cmcluster/slvm2/slvm2.conf");
    assert!(
        t.contains("package_name                    slvm2\n") && t.contains("node_name *\n"),
        "{t}"
    );
    // slvm2 is registered on node1 only: node_name * (every node) is refused.
    let o = run(
        &s,
        "node1",
        "cmcheckconf -P /etc/cmcluster/slvm2/slvm2.conf",
    );
    assert!(
        o.stderr.contains("not registered on node node2"),
        "{}",
        o.stderr
    );
    ok(
        &s,
        "node1",
        "/etc/cmcluster/scripts/tkit/vtn/cmdeployvpkg -Q -P slvm2 -n node1 -n node2",
    );
    let o = ok(
        &s,
        "node1",
        "cmcheckconf -P /etc/cmcluster/slvm2/slvm2.conf",
    );
    assert!(o.contains("no errors found"));
    let o = s.exec_line_with_stdin(
        "node1",
        "cmapplyconf -P /etc/cmcluster/slvm2/slvm2.conf",
        Some(b"y\n"),
    );
    assert_eq!(o.code(), 0, "{}", o.stderr);
    assert_eq!(
        line_key(&s, "node1", "package:slvm2|status").as_deref(),
        Some("down")
    );
    assert_eq!(
        line_key(&s, "node1", "package:slvm2|autorun").as_deref(),
        Some("disabled")
    );
    // The guest already runs on node1: the package adopts it.
    ok(&s, "node1", "cmrunpkg -n node1 slvm2");
    assert_eq!(
        line_key(&s, "node1", "package:slvm2|owner").as_deref(),
        Some("node1")
    );
}

#[test]
fn keytool_makes_stores_without_showing_passwords() {
    let s = hpvm();
    ok(&s, "slvm2", "mkdir -p /opt/hp/cmappserver");
    let o = run(&s, "slvm2", "/opt/java6/bin/keytool -genkey -alias serverprivate -keystore /opt/hp/cmappserver/server.private -storepass serverpw -keypass serverpw -validity 400 -dname 'CN=slvm2, O=Example, C=JP'");
    assert_eq!(o.code(), 0, "{}", o.stderr);
    let o = ok(&s, "slvm2", "keytool -export -alias serverprivate -keystore /opt/hp/cmappserver/server.private -file /opt/hp/cmappserver/temp.key -storepass serverpw");
    assert!(o.contains("Certificate stored in file"));
    let o = ok(&s, "slvm2", "keytool -import -noprompt -alias serverpublic -keystore /opt/hp/cmappserver/server.public -file /opt/hp/cmappserver/temp.key -storepass public");
    assert!(o.contains("Certificate was added to keystore"));
    let store = ok(&s, "slvm2", "cat /opt/hp/cmappserver/server.private");
    assert!(!store.contains("serverpw"), "{store}");
    let o = run(&s, "slvm2", "keytool -export -alias serverprivate -keystore /opt/hp/cmappserver/server.private -file /tmp/k -storepass wrong");
    assert_eq!(o.code(), 1);
    assert!(!o.stderr.contains("wrong"));
}

#[test]
fn online_conversion_keeps_two_nodes_and_backs_up() {
    let s = hpvm();
    let o = run(
        &s,
        "node1",
        "/etc/cmcluster/scripts/tkit/vtn/cmdeployvpkg -Q -C -P slvm1 -h node2",
    );
    assert_eq!(o.code(), 0, "{}", o.stderr);
    assert_eq!(vm_state(&s, "node2", "slvm1"), "On (OS)");
    let out = ok(&s, "node1", "cmviewcl -v -f line");
    assert!(
        !out.contains("package:slvm1"),
        "the old package was deleted: {out}"
    );
    for n in ["node1", "node2"] {
        assert!(ok(&s, n, "ls -lA /etc/cmcluster/slvm1/.backup").contains("slvm1.conf"));
    }
    let c = ok(&s, "node2", "cat /etc/cmcluster/slvm1/slvm1.conf");
    assert!(c.contains("node_name node1\nnode_name node2\n"), "{c}");
    let o = s.exec_line_with_stdin(
        "node2",
        "cmapplyconf -P /etc/cmcluster/slvm1/slvm1.conf",
        Some(b"y\n"),
    );
    assert_eq!(o.code(), 0, "{}", o.stderr);
    ok(&s, "node2", "cmrunpkg -n node2 slvm1");
    assert_eq!(
        line_key(&s, "node2", "package:slvm1|owner").as_deref(),
        Some("node2")
    );
}

#[test]
fn removal_needs_a_yes_and_a_halted_package() {
    let s = hpvm();
    let o = s.exec_line_with_stdin("node1", "cmdeployvpkg -P slvm1 -U", Some(b"y\n"));
    assert_eq!(o.code(), 1, "running");
    ok(&s, "node1", "cmhaltpkg slvm1");
    let o = s.exec_line_with_stdin("node1", "cmdeployvpkg -P slvm1 -U", Some(b"n\n"));
    assert_eq!(o.code(), 1);
    let o = s.exec_line_with_stdin("node1", "cmdeployvpkg -P slvm1 -U", Some(b"y\n"));
    assert_eq!(o.code(), 0, "{}", o.stderr);
    assert!(!ok(&s, "node1", "cmviewcl -v -f line").contains("package:slvm1"));
}

#[test]
fn inventory_lists_hosts_and_guests() {
    let s = hpvm();
    assert_eq!(s.driver(), "hpvm");
    let inv = s.inventory_toml();
    assert!(inv.starts_with("driver = \"hpvm\"\n"), "{inv}");
    assert!(inv.contains("name = \"node1\"\nrole = \"vm-host\""));
    assert!(inv.contains("name = \"slvm2\"\nrole = \"vm-guest\"\nvm = \"slvm2\""));
    assert_eq!(s.hosts(), ["node1", "node2", "slvm1", "slvm2"]);
}

#[test]
fn state_folder_round_trip() {
    let d = tempfile::tempdir().expect("tmp");
    let dir = d.path().join("site");
    let s = SimSite::open_or_create(&dir, Some("hpvm")).expect("create");
    ok(&s, "node1", "chmod 700 /etc/cmcluster/slvm1");
    let again = SimSite::open(&dir).expect("open");
    assert!(ok(&again, "node1", "ls -ld /etc/cmcluster/slvm1").starts_with("drwx------"));
    assert_eq!(again.driver(), "hpvm");
}
