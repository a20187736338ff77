//! The generic `examples/evacuate-host` script on both simulators, through the binary as a
//! user runs it: exit codes, what is printed, the end state read back with
//! `hascript sim exec`, and the exact state-changing commands the simulated hosts received.

mod sim_support;

use sim_support::{hascript, run, Run, Site};

const SCRIPT: &str = "examples/evacuate-host";

fn stdout_of(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The control domain whose `ldm list -p` shows `domain` active, read back on the site.
fn ldoms_runs_on(site: &Site, domain: &str) -> Vec<String> {
    let needle = format!("DOMAIN|name={domain}|state=active|");
    ["cd1", "cd2", "cd3"]
        .iter()
        .filter(|cd| {
            stdout_of(&site.exec(cd, &["/usr/sbin/ldm", "list", "-p"]))
                .lines()
                .any(|l| l.starts_with(&needle))
        })
        .map(|cd| cd.to_string())
        .collect()
}

/// The `key=value` lines of `cmviewcl -v -f line` for package `pkg`, prefix removed.
fn package_lines(site: &Site, pkg: &str) -> Vec<String> {
    let o = site.exec("node1", &["/usr/sbin/cmviewcl", "-v", "-f", "line"]);
    let prefix = format!("package:{pkg}|");
    stdout_of(&o)
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix).map(str::to_string))
        .collect()
}

/// Whether `hpvmstatus -P vm` on `host` shows the guest `On (OS)`.
fn hpvm_on(site: &Site, host: &str, vm: &str) -> bool {
    stdout_of(&site.exec(host, &["/opt/hpvm/bin/hpvmstatus", "-P", vm]))
        .lines()
        .any(|l| l.contains(vm) && l.trim_end().ends_with("On (OS)"))
}

fn assert_nothing_changed(r: &Run) {
    assert!(r.changes().is_empty(), "{}", r.dump());
}

#[test]
fn ldoms_cd2_moves_guest2_to_cd3_never_to_the_box_of_guest1() {
    let (r, site) = run(SCRIPT, None, &["host=cd2"], &[]);
    assert_eq!(r.code, 0, "{}", r.dump());
    let out = r.all();
    assert!(
        out.contains("no   cd1: same box (box1) as guest1 (on cd1) of the same guest cluster"),
        "{out}"
    );
    assert!(
        out.contains("yes  cd3: box3 hosts no other node of the guest cluster"),
        "{out}"
    );
    assert!(
        out.contains("moved   guest2: cd2 -> cd3 (read back: runs on cd3)"),
        "{out}"
    );
    assert!(out.contains("cd2 runs now: none"), "{out}");
    assert!(out.contains("Verified end state"), "{out}");
    // The driver's whole bracket, once, and nothing else.
    assert_eq!(
        r.changes(),
        [
            "cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -p guest2",
            "cd2: /usr/sbin/ldm migrate-domain guest2 cd3",
            "cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd3",
        ],
        "{}",
        r.dump()
    );
    assert_eq!(ldoms_runs_on(&site, "guest2"), ["cd3"]);
    assert_eq!(ldoms_runs_on(&site, "guest1"), ["cd1"]);

    // Again: nothing runs on cd2 any more, so nothing is done.
    let again = site.run(SCRIPT, &["host=cd2"], &[]);
    assert_eq!(again.code, 0, "{}", again.dump());
    assert!(
        again.stdout.contains("0 guest(s) running there"),
        "{}",
        again.dump()
    );
    assert_nothing_changed(&again);
}

#[test]
fn ldoms_cd1_moves_guest1_to_cd3_by_its_path_with_the_driver_named() {
    let path = format!(
        "{}/scripts/examples/evacuate-host.rhai",
        env!("CARGO_MANIFEST_DIR")
    );
    let (r, site) = run(&path, Some("ldoms"), &["host=cd1"], &[]);
    assert_eq!(r.code, 0, "{}", r.dump());
    assert!(
        r.stdout
            .contains("no   cd2: same box (box2) as guest2 (on cd2) of the same guest cluster"),
        "{}",
        r.dump()
    );
    assert_eq!(
        r.changes(),
        [
            "cd1: /etc/opt/FJSVcluster/bin/clovmmigrate -p guest1",
            "cd1: /usr/sbin/ldm migrate-domain guest1 cd3",
            "cd1: /etc/opt/FJSVcluster/bin/clovmmigrate -u guest1 cd3",
        ],
        "{}",
        r.dump()
    );
    assert_eq!(ldoms_runs_on(&site, "guest1"), ["cd3"]);
    assert_eq!(ldoms_runs_on(&site, "guest2"), ["cd2"]);
}

#[test]
fn ldoms_targets_on_the_partners_box_leave_the_guest_in_place_exit_3() {
    let (r, site) = run(SCRIPT, None, &["host=cd1", "targets=cd2"], &[]);
    assert_eq!(r.code, 3, "{}", r.dump());
    assert_nothing_changed(&r);
    // Not even the read-only preflight: no host was allowed.
    assert!(
        !r.log.iter().any(|l| l.contains("migrate-domain")),
        "{}",
        r.dump()
    );
    assert!(
        r.stdout.contains("no   cd3: not in targets"),
        "{}",
        r.dump()
    );
    assert!(
        r.stderr.contains(
            "guest1 stays on cd1: no host may take it (cd2: same box (box2) as guest2 (on cd2) of the same guest cluster; cd3: not in targets)"
        ),
        "{}",
        r.dump()
    );
    assert!(
        r.stderr
            .contains("cd1 still runs guest1; left in place, untouched"),
        "{}",
        r.dump()
    );
    assert_eq!(ldoms_runs_on(&site, "guest1"), ["cd1"]);
}

#[test]
fn ldoms_a_refused_preflight_leaves_the_guest_untouched_exit_3() {
    let (r, site) = run(
        SCRIPT,
        Some("ldoms/migration-would-fail"),
        &["host=cd2"],
        &[],
    );
    assert_eq!(r.code, 3, "{}", r.dump());
    assert_nothing_changed(&r);
    assert!(
        r.stderr
            .contains("cd3: preflight refused (preflight failed, nothing was changed: ldm migrate-domain -n: the migration would fail"),
        "{}",
        r.dump()
    );
    assert_eq!(ldoms_runs_on(&site, "guest2"), ["cd2"]);
}

#[test]
fn ldoms_a_failed_migration_stops_the_evacuation_with_its_own_code() {
    let (r, site) = run(
        SCRIPT,
        Some("ldoms/migration-aborted-guest-running"),
        &["host=cd2"],
        &[],
    );
    assert_eq!(r.code, 1, "{}", r.dump());
    assert!(
        r.stderr.contains("evacuation of cd2 stopped at guest2"),
        "{}",
        r.dump()
    );
    // The bracket's own recovery ran; the script sent nothing of its own.
    let changes = r.changes();
    assert_eq!(
        changes.first().map(String::as_str),
        Some("cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -p guest2"),
        "{}",
        r.dump()
    );
    assert_eq!(
        changes
            .iter()
            .filter(|l| l.contains("ldm migrate-domain"))
            .count(),
        1,
        "{}",
        r.dump()
    );
    assert_eq!(ldoms_runs_on(&site, "guest2"), ["cd2"]);
}

#[test]
fn hpvm_node1_moves_slvm1_to_node2_and_leaves_slvm2_exit_3() {
    let (r, site) = run(SCRIPT, Some("hpvm"), &["host=node1"], &[]);
    assert_eq!(r.code, 3, "{}", r.dump());
    let out = r.all();
    assert!(
        out.contains("yes  node2: in the node_name list of slvm1, up, node switching enabled"),
        "{out}"
    );
    assert!(
        out.contains("moved   slvm1: node1 -> node2 (read back: runs on node2)"),
        "{out}"
    );
    assert!(
        out.contains(
            "stayed  slvm2 on node1: node2: slvm2 is not a package: cmmovevpkg cannot move it"
        ),
        "{out}"
    );
    assert!(out.contains("node1 runs now: slvm2"), "{out}");
    assert!(r.stderr.contains("node1 still runs slvm2"), "{out}");
    assert_eq!(
        r.changes(),
        ["node1: /etc/cmcluster/scripts/tkit/vtn/cmmovevpkg -v -P slvm1 -h node2"],
        "{}",
        r.dump()
    );
    let p = package_lines(&site, "slvm1");
    assert!(p.iter().any(|l| l == "owner=node2"), "{p:?}");
    assert!(p.iter().any(|l| l == "autorun=enabled"), "{p:?}");
    assert!(hpvm_on(&site, "node2", "slvm1"));
    assert!(!hpvm_on(&site, "node1", "slvm1"));
    assert!(hpvm_on(&site, "node1", "slvm2"));
}

#[test]
fn hpvm_targets_outside_the_node_list_move_nothing_exit_3() {
    let (r, site) = run(
        SCRIPT,
        Some("hpvm/target-not-in-node-list"),
        &["host=node1", "targets=node2"],
        &[],
    );
    assert_eq!(r.code, 3, "{}", r.dump());
    assert_nothing_changed(&r);
    assert!(
        r.stderr
            .contains("slvm1 stays on node1: no host may take it (node2: not in the node_name list of slvm1 (node1, node3); node3: not in targets)"),
        "{}",
        r.dump()
    );
    assert!(hpvm_on(&site, "node1", "slvm1"));

    // Without targets, node3 (a member) takes it.
    let all = site.run(SCRIPT, &["host=node1"], &[]);
    assert_eq!(all.code, 3, "{}", all.dump());
    assert_eq!(
        all.changes(),
        ["node1: /etc/cmcluster/scripts/tkit/vtn/cmmovevpkg -v -P slvm1 -h node3"],
        "{}",
        all.dump()
    );
    assert!(hpvm_on(&site, "node3", "slvm1"));
}

#[test]
fn the_script_is_shipped_listed_and_passes_its_own_check() {
    let o = hascript(&["list"]);
    assert!(
        stdout_of(&o).contains("examples/evacuate-host"),
        "{}",
        stdout_of(&o)
    );
    let o = hascript(&["check", SCRIPT]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout_of(&o));
}
