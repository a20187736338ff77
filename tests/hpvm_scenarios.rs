//! Every shipped Serviceguard procedure (`scripts/hpvm/`) against the simulator's hpvm
//! scenarios, through the binary as a user runs it: exit codes of design.md, what is
//! printed, the end state read back with `hascript sim exec`, and the exact state-changing
//! commands the simulated hosts received.
//!
//! The cases that are one run with an exit code and the changes sent are rows of
//! tests/outcomes/hpvm.toml (tests/scenario_outcomes.rs); what needs more stays here.

mod sim_support;

use sim_support::{run, Run, Site};

const MOVE: [&str; 2] = ["package=slvm1", "target=node2"];

fn stdout_of(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The `key=value` lines of `cmviewcl -v -f line` on node1 for package `pkg`, as `key=value`
/// without the `package:<pkg>|` prefix.
fn package_lines(site: &Site, pkg: &str) -> Vec<String> {
    let o = site.exec("node1", &["/usr/sbin/cmviewcl", "-v", "-f", "line"]);
    let prefix = format!("package:{pkg}|");
    stdout_of(&o)
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix).map(str::to_string))
        .collect()
}

fn has(lines: &[String], line: &str) -> bool {
    lines.iter().any(|l| l == line)
}

/// The state column of `hpvmstatus -P vm` on `host`.
fn guest_state(site: &Site, host: &str, vm: &str) -> String {
    let o = site.exec(host, &["/opt/hpvm/bin/hpvmstatus", "-P", vm]);
    let text = stdout_of(&o);
    for state in ["On (OS)", "On (EFI)", "Off (NR)", "Off"] {
        if text
            .lines()
            .any(|l| l.trim_end().ends_with(state) && l.contains(vm))
        {
            return state.to_string();
        }
    }
    format!("unknown: {text}{}", String::from_utf8_lossy(&o.stderr))
}

fn changes_named(r: &Run, program: &str) -> Vec<String> {
    r.changes()
        .into_iter()
        .filter(|l| l.contains(program))
        .collect()
}

#[test]
fn move_package_default_site_moves_and_verifies() {
    let (r, site) = run("hpvm/move-package", None, &MOVE, &[]);
    assert_eq!(r.code, 0, "{}", r.dump());
    let out = r.all();
    assert!(out.contains("[B5] preflight"), "{out}");
    assert!(out.contains("slvm1 runs on node2"), "{out}");
    // The only change is the toolkit's move.
    assert_eq!(
        r.changes(),
        ["node1: /etc/cmcluster/scripts/tkit/vtn/cmmovevpkg -v -P slvm1 -h node2"],
        "{}",
        r.dump()
    );
    let p = package_lines(&site, "slvm1");
    assert!(has(&p, "owner=node2"), "{p:?}");
    assert!(has(&p, "autorun=enabled"), "{p:?}");
    assert!(has(&p, "status=up"), "{p:?}");
    assert_eq!(guest_state(&site, "node2", "slvm1"), "On (OS)");
    assert_eq!(guest_state(&site, "node1", "slvm1"), "Off (NR)");
    // Verified end state printed from the cluster.
    assert!(out.contains("Verified end state"), "{out}");
    assert!(out.contains("owner:             node2"), "{out}");
}

#[test]
fn move_package_failed_hpvmmigrate_is_recovered_on_the_source() {
    let (r, site) = run(
        "hpvm/move-package",
        Some("hpvm/hpvmmigrate-fails"),
        &MOVE,
        &[],
    );
    assert_eq!(r.code, 1, "{}", r.dump());
    assert!(
        r.stderr.contains("switching is enabled again"),
        "{}",
        r.dump()
    );
    assert_eq!(guest_state(&site, "node1", "slvm1"), "On (OS)");
    let p = package_lines(&site, "slvm1");
    assert!(has(&p, "owner=node1"), "{p:?}");
    assert!(has(&p, "autorun=enabled"), "{p:?}");
    // The move, then switching re-enabled: nothing else.
    let changes = r.changes();
    assert_eq!(changes.len(), 2, "{}", r.dump());
    assert!(changes[0].contains("cmmovevpkg -v -P slvm1 -h node2"));
    assert!(changes[1].ends_with("cmmodpkg -e slvm1"), "{changes:?}");
}

#[test]
fn move_package_that_lands_despite_the_error_is_made_consistent() {
    let (r, site) = run(
        "hpvm/move-package",
        Some("hpvm/migration-lands-despite-error"),
        &MOVE,
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.dump());
    assert!(r.all().contains("cmmovevpkg"), "{}", r.dump());
    assert!(
        r.all().to_lowercase().contains("reported a failure")
            || r.all().contains("cmmovevpkg exited 1"),
        "{}",
        r.dump()
    );
    assert_eq!(guest_state(&site, "node2", "slvm1"), "On (OS)");
    let p = package_lines(&site, "slvm1");
    assert!(has(&p, "owner=node2"), "{p:?}");
    assert!(has(&p, "autorun=enabled"), "{p:?}");
    assert_eq!(
        changes_named(&r, "cmmodpkg -e slvm1").len(),
        1,
        "{}",
        r.dump()
    );
}

#[test]
fn halt_then_run_always_enables_switching() {
    let site = Site::new(Some("hpvm"));
    let r = site.run("hpvm/halt-package", &["package=slvm1"], &["--yes"]);
    assert_eq!(r.code, 0, "{}", r.dump());
    assert_eq!(
        r.changes(),
        ["node1: /usr/sbin/cmhaltpkg slvm1"],
        "{}",
        r.dump()
    );
    let p = package_lines(&site, "slvm1");
    assert!(has(&p, "status=down"), "{p:?}");
    assert!(has(&p, "autorun=disabled"), "{p:?}");

    let r = site.run("hpvm/run-package", &["package=slvm1"], &[]);
    assert_eq!(r.code, 0, "{}", r.dump());
    let changes = r.changes();
    assert_eq!(changes.len(), 2, "{}", r.dump());
    assert!(changes[0].contains("cmrunpkg"), "{changes:?}");
    assert!(changes[1].ends_with("cmmodpkg -e slvm1"), "{changes:?}");
    let p = package_lines(&site, "slvm1");
    assert!(has(&p, "status=up"), "{p:?}");
    assert!(has(&p, "autorun=enabled"), "{p:?}");

    // Running it again changes nothing and says so.
    let r = site.run("hpvm/run-package", &["package=slvm1"], &[]);
    assert_eq!(r.code, 0, "{}", r.dump());
    assert!(r.changes().is_empty(), "{:?}", r.changes());
}

#[test]
fn maintenance_on_off_and_safe_reruns() {
    let site = Site::new(Some("hpvm"));
    let maint = "/etc/cmcluster/slvm1/vtn.debug";
    let r = site.run("hpvm/maintenance", &["package=slvm1", "state=on"], &[]);
    assert_eq!(r.code, 0, "{}", r.dump());
    assert_eq!(
        r.changes(),
        ["node1: /etc/cmcluster/scripts/tkit/vtn/cmdeployvpkg -m 1 -P slvm1"],
        "{}",
        r.dump()
    );
    assert!(r.stderr.contains("state=off"), "{}", r.dump());
    assert_eq!(
        site.exec("node1", &["ls", "-ld", maint]).status.code(),
        Some(0)
    );
    let r = site.run("hpvm/maintenance", &["package=slvm1", "state=on"], &[]);
    assert_eq!(r.code, 0, "{}", r.dump());
    assert!(r.changes().is_empty(), "{:?}", r.changes());

    let r = site.run("hpvm/maintenance", &["package=slvm1", "state=off"], &[]);
    assert_eq!(r.code, 0, "{}", r.dump());
    assert_eq!(
        r.changes(),
        ["node1: /etc/cmcluster/scripts/tkit/vtn/cmdeployvpkg -m 0 -P slvm1"]
    );
    assert_eq!(
        site.exec("node1", &["ls", "-ld", maint]).status.code(),
        Some(2)
    );
    let r = site.run("hpvm/maintenance", &["package=slvm1", "state=off"], &[]);
    assert_eq!(r.code, 0, "{}", r.dump());
    assert!(r.changes().is_empty(), "{:?}", r.changes());

    let r = site.run("hpvm/maintenance", &["package=slvm1", "state=maybe"], &[]);
    assert_eq!(r.code, 2, "{}", r.dump());
}

/// The package file of `vm` on `host`, and its directory's `ls -ld` line.
fn package_files(site: &Site, host: &str, vm: &str) -> (String, String) {
    let dir = format!("/etc/cmcluster/{vm}");
    let conf = site.exec(host, &["cat", &format!("{dir}/{vm}.conf")]);
    assert_eq!(conf.status.code(), Some(0), "{host}: no package file");
    let ls = site.exec(host, &["ls", "-ld", &dir]);
    (stdout_of(&conf), stdout_of(&ls))
}

fn assert_deployed(site: &Site, vm: &str, nodes: &[&str]) {
    let file = format!("/etc/cmcluster/{vm}/{vm}.conf");
    let check = site.exec("node1", &["/usr/sbin/cmcheckconf", "-P", &file]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "cmcheckconf: {}{}",
        stdout_of(&check),
        String::from_utf8_lossy(&check.stderr)
    );
    for host in nodes {
        let (conf, ls) = package_files(site, host, vm);
        let lines: Vec<String> = conf
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        let mut want = vec![
            format!("package_name {vm}"),
            "package_type failover".to_string(),
        ];
        want.extend(nodes.iter().map(|n| format!("node_name {n}")));
        for w in want {
            assert!(lines.contains(&w), "{host}: no `{w}` in\n{conf}");
        }
        for key in [
            "TKIT_DIR",
            "MAINTENANCE_FLAG",
            "MONITOR_INTERVAL",
            "service_name",
        ] {
            assert!(
                lines.iter().any(|l| l
                    .split_whitespace()
                    .next()
                    .is_some_and(|k| k.ends_with(key))),
                "{host}: no {key} in\n{conf}"
            );
        }
        // drwxr-xr-x: no group or other write.
        let mode = ls.split_whitespace().next().unwrap_or("");
        assert!(mode.starts_with('d'), "{host}: {ls}");
        assert_eq!(mode.as_bytes().get(5), Some(&b'-'), "{host}: {ls}");
        assert_eq!(mode.as_bytes().get(8), Some(&b'-'), "{host}: {ls}");
    }
    let p = package_lines(site, vm);
    assert!(has(&p, "status=up"), "{p:?}");
    assert!(has(&p, "autorun=enabled"), "{p:?}");
}

#[test]
fn deploy_package_with_cmdeployvpkg() {
    let (r, site) = run("hpvm/deploy-package", None, &["package=slvm2"], &["--yes"]);
    assert_eq!(r.code, 0, "{}", r.dump());
    assert_deployed(&site, "slvm2", &["node1", "node2"]);
    assert_eq!(
        changes_named(&r, "cmdeployvpkg -Q -P slvm2").len(),
        1,
        "{}",
        r.dump()
    );
    assert_eq!(changes_named(&r, "cmapplyconf").len(), 1, "{}", r.dump());
}

#[test]
fn deploy_package_with_serviceguard_commands() {
    // slvm2 is registered on node1 only: Serviceguard commands alone cannot make it a
    // package of node2 (cmdeployvpkg's distributed-guest step can): refused before any
    // change.
    let (r, _site) = run(
        "hpvm/deploy-package",
        None,
        &["package=slvm2", "method=commands"],
        &["--yes"],
    );
    assert_eq!(r.code, 3, "{}", r.dump());
    assert!(r.stderr.contains("not registered on"), "{}", r.dump());
    assert!(r.changes().is_empty(), "{:?}", r.changes());

    let (r, site) = run(
        "hpvm/deploy-package",
        None,
        &["package=slvm2", "method=commands", "node=node1"],
        &["--yes"],
    );
    assert_eq!(r.code, 0, "{}", r.dump());
    assert_deployed(&site, "slvm2", &["node1"]);
    assert!(changes_named(&r, "cmdeployvpkg").is_empty(), "{}", r.dump());
    assert_eq!(
        changes_named(&r, "cmmakepkg -m tkit/vtn/vtn -n slvm2").len(),
        1
    );
    assert!(
        !changes_named(&r, "chmod go-w /etc/cmcluster/slvm2").is_empty(),
        "{}",
        r.dump()
    );
    // The shared volume group of the backing store is in the file.
    let (conf, _) = package_files(&site, "node1", "slvm2");
    assert!(
        conf.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["vg", "vg_slvm2"]),
        "{conf}"
    );
}

#[test]
fn deploy_package_without_confirmation_applies_nothing() {
    let (r, site) = run("hpvm/deploy-package", None, &["package=slvm2"], &[]);
    assert_eq!(r.code, 5, "{}", r.dump());
    assert!(changes_named(&r, "cmapplyconf").is_empty(), "{}", r.dump());
    assert!(package_lines(&site, "slvm2").is_empty());
}

#[test]
fn add_app_monitor_takes_the_manuals_display_command() {
    let spec = "appmon=xclock:/usr/bin/X11/xclock -display 16.213.12.70:0.0:240:none:300";
    for method in ["method=cmdeployvpkg", "method=commands"] {
        let (r, site) = run(
            "hpvm/add-app-monitor",
            None,
            &["package=slvm1", spec, method],
            &["--yes"],
        );
        assert_eq!(r.code, 0, "{method}: {}", r.dump());
        for host in ["node1", "node2"] {
            let (conf, _) = package_files(&site, host, "slvm1");
            assert!(
                conf.contains("/usr/sbin/cmappmgr -node slvm1 -cmappserver_timeout 240 -service /usr/bin/X11/xclock -display 16.213.12.70:0.0"),
                "{method} {host}:\n{conf}"
            );
        }
        assert_eq!(changes_named(&r, "cmapplyconf").len(), 1, "{}", r.dump());
    }
}

/// The package file of slvm1 on `host`, whitespace-normalised, one entry per line.
fn conf_lines(site: &Site, host: &str) -> Vec<String> {
    let (conf, _) = package_files(site, host, "slvm1");
    conf.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
fn convert_offline_old_toolkit_package_keeps_its_application_monitor() {
    let (r, site) = run(
        "hpvm/convert-package",
        Some("hpvm/old-toolkit-package"),
        &["package=slvm1", "mode=offline"],
        &["--yes"],
    );
    assert_eq!(r.code, 0, "{}", r.dump());
    // Backup before any change to the package, then deploy, halt, apply, run, enable.
    let changes = r.changes();
    let pos = |what: &str| {
        changes
            .iter()
            .position(|c| c.contains(what))
            .unwrap_or_else(|| panic!("no `{what}` in {changes:?}"))
    };
    assert!(
        pos(".backup/") < pos("cmdeployvpkg -Q -P slvm1"),
        "{changes:?}"
    );
    assert!(pos("cmdeployvpkg -Q -P slvm1") < pos("cmhaltpkg slvm1"));
    assert!(pos("cmhaltpkg slvm1") < pos("cmapplyconf"));
    assert!(pos("cmapplyconf") < pos("cmrunpkg"));
    for host in ["node1", "node2"] {
        let lines = conf_lines(&site, host);
        assert!(
            lines.contains(&"module_name tkit/vtn/vtn".to_string()),
            "{host}: {lines:?}"
        );
        // The old guest monitor is gone, the application monitor was put back (--yes).
        assert!(
            !lines.iter().any(|l| l.contains("hpvmsg_mon")),
            "{host}: {lines:?}"
        );
        assert!(
            lines.iter().any(|l| l == "service_name slvm1_ping"),
            "{host}: {lines:?}"
        );
        let backup = site.exec(host, &["ls", "-lA", "/etc/cmcluster/slvm1/.backup"]);
        assert_eq!(backup.status.code(), Some(0), "{host}: no backup");
    }
    let p = package_lines(&site, "slvm1");
    assert!(has(&p, "status=up") && has(&p, "autorun=enabled"), "{p:?}");
}

#[test]
fn convert_online_puts_back_the_node_the_toolkit_drops() {
    let (r, site) = run(
        "hpvm/convert-package",
        Some("hpvm/three-node-package"),
        &["package=slvm1", "mode=online", "target=node2"],
        &["--yes"],
    );
    assert_eq!(r.code, 0, "{}", r.dump());
    assert_eq!(
        changes_named(&r, "cmdeployvpkg -Q -C -P slvm1 -h node2").len(),
        1,
        "{}",
        r.dump()
    );
    assert_eq!(
        changes_named(&r, "cmdeployvpkg -Q -P slvm1 -n node1 -n node2 -n node3").len(),
        1,
        "{}",
        r.dump()
    );
    for host in ["node1", "node2", "node3"] {
        let nodes: Vec<String> = conf_lines(&site, host)
            .into_iter()
            .filter(|l| l.starts_with("node_name "))
            .collect();
        assert_eq!(
            nodes,
            ["node_name node1", "node_name node2", "node_name node3"],
            "{host}"
        );
    }
    assert_eq!(guest_state(&site, "node2", "slvm1"), "On (OS)");
    let p = package_lines(&site, "slvm1");
    assert!(
        has(&p, "owner=node2") && has(&p, "autorun=enabled"),
        "{p:?}"
    );
}

#[test]
fn remove_package_halts_first_only_with_confirmation() {
    let (r, site) = run("hpvm/remove-package", None, &["package=slvm1"], &[]);
    assert_eq!(r.code, 5, "{}", r.dump());
    assert!(r.changes().is_empty(), "{:?}", r.changes());
    assert!(!package_lines(&site, "slvm1").is_empty());

    let (r, site) = run("hpvm/remove-package", None, &["package=slvm1"], &["--yes"]);
    assert_eq!(r.code, 0, "{}", r.dump());
    let changes = r.changes();
    assert_eq!(changes.len(), 2, "{}", r.dump());
    assert!(changes[0].ends_with("cmhaltpkg slvm1"), "{changes:?}");
    assert!(
        changes[1].ends_with("cmdeployvpkg -P slvm1 -U"),
        "{changes:?}"
    );
    assert!(package_lines(&site, "slvm1").is_empty());
    assert!(
        r.stdout.contains("stopped") || r.stdout.contains("Off"),
        "{}",
        r.dump()
    );
}

/// A halted package has no owner: Serviceguard prints every member of the package's node
/// list `status=up` (the node's status) and no `owner`, so no member may be read as where the
/// package runs. Moving it onto node1, the first member up, is refused as "runs nowhere",
/// never "already runs on node1"; diagnose says it runs nowhere too.
#[test]
fn halted_package_has_no_owner() {
    let site = Site::new(Some("hpvm"));
    let r = site.run("hpvm/halt-package", &["package=slvm1"], &["--yes"]);
    assert_eq!(r.code, 0, "{}", r.dump());
    let p = package_lines(&site, "slvm1");
    assert!(has(&p, "state=halted"), "{p:?}");
    assert!(has(&p, "node:node1|status=up"), "{p:?}");

    let r = site.run("hpvm/move-package", &["package=slvm1", "target=node1"], &[]);
    assert_eq!(r.code, 3, "{}", r.dump());
    let out = r.all();
    assert!(!out.contains("already runs on"), "{out}");
    assert!(out.contains("runs nowhere"), "{out}");
    assert!(r.changes().is_empty(), "{:?}", r.changes());

    let r = site.run("hpvm/diagnose", &["package=slvm1"], &[]);
    let out = r.all();
    assert!(out.contains("down/halted owner none"), "{}", r.dump());
    assert!(!out.contains("owner node1"), "{}", r.dump());
}

/// The guide's case: `cmmovevpkg` on an old-toolkit package migrates the guest and ends
/// "ERROR (cmmovevpkg): Unable to start package slvm1", the package halted. hpvm/recover-move
/// does what the guide says — enable the package on the target node by hand — as an offered
/// step: without an answer nothing is sent and the commands are the remedy; with --yes the
/// package runs on node2 with switching enabled, and the guest is never stopped.
#[test]
fn recover_move_enables_an_old_toolkit_package_where_its_guest_moved() {
    let site = Site::new(Some("hpvm/old-toolkit-package"));
    let o = site.exec(
        "node1",
        &[
            "/etc/cmcluster/scripts/tkit/vtn/cmmovevpkg",
            "-v",
            "-P",
            "slvm1",
            "-h",
            "node2",
        ],
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("Unable to start package slvm1"),
        "{o:?}"
    );
    assert_eq!(guest_state(&site, "node2", "slvm1"), "On (OS)");
    let p = package_lines(&site, "slvm1");
    assert!(has(&p, "state=halted"), "{p:?}");

    // No terminal and no --yes: the offered step is not taken (exit 5), nothing is sent.
    let r = site.run("hpvm/recover-move", &["package=slvm1"], &[]);
    assert_eq!(r.code, 5, "{}", r.dump());
    assert!(r.stderr.contains("--yes"), "{}", r.dump());
    assert!(r.changes().is_empty(), "{:?}", r.changes());
    assert!(r.stderr.contains("cmrunpkg -n node2 slvm1"), "{}", r.dump());
    assert!(!r.all().contains("hpvmstop"), "{}", r.dump());

    let r = site.run("hpvm/recover-move", &["package=slvm1"], &["--yes"]);
    assert_eq!(r.code, 0, "{}", r.dump());
    assert!(!r.all().contains("hpvmstop"), "{}", r.dump());
    assert_eq!(
        r.changes(),
        [
            "node1: /usr/sbin/cmrunpkg -n node2 slvm1",
            "node1: /usr/sbin/cmmodpkg -e slvm1"
        ],
        "{}",
        r.dump()
    );
    assert_eq!(guest_state(&site, "node2", "slvm1"), "On (OS)");
    let p = package_lines(&site, "slvm1");
    assert!(has(&p, "status=up"), "{p:?}");
    assert!(has(&p, "owner=node2"), "{p:?}");
    assert!(has(&p, "autorun=enabled"), "{p:?}");
}

/// B0: `cmdeployvpkg` is the toolkit's: with `SG-IVS-Toolkit` missing on the guest's host
/// (`swlist`), deploy refuses before sending anything, naming the product and the remedy.
#[test]
fn deploy_package_refuses_when_the_toolkit_is_not_installed() {
    let (r, site) = run(
        "hpvm/deploy-package",
        Some("hpvm/toolkit-not-installed"),
        &["package=slvm2"],
        &["--yes"],
    );
    assert_eq!(r.code, 3, "{}", r.dump());
    assert!(r.stderr.contains("SG-IVS-Toolkit"), "{}", r.dump());
    assert!(r.stderr.contains("swinstall"), "{}", r.dump());
    assert!(r.changes().is_empty(), "sent {:?}", r.changes());
    let o = site.exec("node1", &["/usr/bin/ls", "/etc/cmcluster/slvm2"]);
    assert_ne!(o.status.code(), Some(0), "{}", stdout_of(&o));
}

/// B3: an online conversion (`cmdeployvpkg -C`) migrates the guest, so the online-migration
/// preflight runs before the backup and `-C`: with an NFS backing store it refuses with exit
/// 3, sends nothing and writes no `.backup` (it used to back up, send a failing `-C` and
/// exit 4).
#[test]
fn convert_online_runs_the_migration_preflight_before_any_change() {
    let (r, site) = run(
        "hpvm/convert-package",
        Some("hpvm/old-toolkit-nfs-store"),
        &["package=slvm1", "mode=online", "target=node2"],
        &["--yes"],
    );
    assert_eq!(r.code, 3, "{}", r.dump());
    assert!(r.stderr.contains("NFS"), "{}", r.dump());
    assert!(r.stderr.contains("hpvmmigrate -s"), "{}", r.dump());
    assert!(r.changes().is_empty(), "sent {:?}", r.changes());
    for host in ["node1", "node2"] {
        let o = site.exec(host, &["ls", "-a", "/etc/cmcluster/slvm1"]);
        assert_eq!(o.status.code(), Some(0), "{host}");
        assert!(
            !stdout_of(&o).contains(".backup"),
            "{host}: {}",
            stdout_of(&o)
        );
    }
    assert_eq!(guest_state(&site, "node1", "slvm1"), "On (OS)");
}

/// The package file on `host` (its text, or the error of `cat`).
fn package_file(site: &Site, host: &str, vm: &str) -> String {
    let o = site.exec(host, &["cat", &format!("/etc/cmcluster/{vm}/{vm}.conf")]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    stdout_of(&o)
}

#[test]
fn rejected_edit_is_put_back_on_every_member() {
    // Issue 13, defect 2: an edit that cmcheckconf rejects (MONITOR_INTERVAL 0) must not be
    // left on the members: the previous file goes back on node1 and node2, and the error
    // says so (exit 3).
    let site = Site::new(Some("hpvm"));
    let before = [
        package_file(&site, "node1", "slvm1"),
        package_file(&site, "node2", "slvm1"),
    ];
    assert!(before[0].contains("MONITOR_INTERVAL   30"), "{}", before[0]);
    let script = site._dir.path().join("bad-edit.rhai");
    std::fs::write(
        &script,
        r#"let c = package.read_config("slvm1");
let t = c.text;
t.replace("MONITOR_INTERVAL   30", "MONITOR_INTERVAL   0");
package.write_config("slvm1", t);
package.check("slvm1");
"#,
    )
    .expect("script written");
    let r = site.run(script.to_str().expect("utf8"), &[], &["--yes"]);
    assert_eq!(r.code, 3, "{}", r.dump());
    // The edit did reach both members before the check.
    // The edit reached both members before the check, and was written back after it.
    for node in ["node1", "node2"] {
        let writes = r
            .log
            .iter()
            .filter(|l| {
                l.starts_with(&format!("{node}: "))
                    && l.contains("of=/etc/cmcluster/slvm1/slvm1.conf.hascript")
            })
            .count();
        assert_eq!(writes, 2, "{node}: {}", r.dump());
    }
    let out = r.all();
    assert!(
        out.contains("MONITOR_INTERVAL must be a positive number"),
        "{out}"
    );
    assert!(
        out.contains("the previous /etc/cmcluster/slvm1/slvm1.conf was restored on node1, node2"),
        "{out}"
    );
    assert_eq!(package_file(&site, "node1", "slvm1"), before[0]);
    assert_eq!(package_file(&site, "node2", "slvm1"), before[1]);
}

#[test]
fn redeploy_refuses_to_drop_monitors_and_disabled_node_switching() {
    // Issue 13, defect 2: re-deploying an existing package with cmdeployvpkg regenerated its
    // file (its application monitor gone) and enabled node switching again, exit 0. Now it is
    // refused with what would be lost, exit 3, nothing sent.
    let site = Site::new(Some("hpvm"));
    let r = site.run(
        "hpvm/add-app-monitor",
        &[
            "package=slvm1",
            "appmon=xclock:/usr/bin/X11/xclock -display 16.213.12.70:0.0:240:3:300",
            "method=commands",
        ],
        &["--yes"],
    );
    assert_eq!(r.code, 0, "{}", r.dump());
    // Serviceguard's record after a failover: node switching disabled on the failed node.
    site.exec_ok(
        "node1",
        &["/usr/sbin/cmmodpkg", "-d", "-n", "node2", "slvm1"],
    );
    let before = package_file(&site, "node1", "slvm1");
    assert!(before.contains("slvm1-xclock"), "{before}");

    let r = site.run("hpvm/deploy-package", &["package=slvm1"], &["--yes"]);
    assert_eq!(r.code, 3, "{}", r.dump());
    assert!(r.changes().is_empty(), "{}", r.dump());
    let out = r.all();
    assert!(
        out.contains("application monitor service slvm1-xclock"),
        "{out}"
    );
    assert!(out.contains("node switching disabled on node2"), "{out}");
    assert!(out.contains("replace=yes"), "{out}");
    assert_eq!(package_file(&site, "node1", "slvm1"), before);
    assert_eq!(package_file(&site, "node2", "slvm1"), before);
    assert!(
        has(
            &package_lines(&site, "slvm1"),
            "node:node2|switching=disabled"
        ),
        "{:?}",
        package_lines(&site, "slvm1")
    );

    // The operator who accepts the loss says so: the package is regenerated.
    let r = site.run(
        "hpvm/deploy-package",
        &["package=slvm1", "replace=yes"],
        &["--yes"],
    );
    assert_eq!(r.code, 0, "{}", r.dump());
    assert_eq!(
        changes_named(&r, "cmdeployvpkg -Q -P slvm1").len(),
        1,
        "{}",
        r.dump()
    );
    assert!(!package_file(&site, "node1", "slvm1").contains("slvm1-xclock"));
}
