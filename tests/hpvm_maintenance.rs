//! Issue 13, defect 1: the toolkit's maintenance file (`vtn.debug`) is checked on every
//! member of a VM package, not only on its owner. Scenario `hpvm/maintenance-left-on-former-owner`:
//! slvm1 failed over to node2 while the file stayed on node1. Through the binary, with the
//! end state read back from the simulated hosts.

mod sim_support;

use sim_support::{run, Site};

const SCENARIO: &str = "hpvm/maintenance-left-on-former-owner";
const VTN: &str = "/etc/cmcluster/slvm1/vtn.debug";

/// Whether the maintenance file exists on `host` (`ls -ld` exits 0).
fn file_on(site: &Site, host: &str) -> bool {
    site.exec(host, &["ls", "-ld", VTN]).status.code() == Some(0)
}

#[test]
fn diagnose_reports_the_file_on_the_former_owner() {
    let (r, site) = run("hpvm/diagnose", Some(SCENARIO), &["package=slvm1"], &[]);
    assert!(file_on(&site, "node1") && !file_on(&site, "node2"));
    assert_eq!(r.code, 3, "{}", r.dump());
    let out = r.all();
    assert!(
        out.contains("FAIL maintenance file on node1"),
        "the row names the member holding the file: {}",
        r.dump()
    );
    assert!(
        out.contains("ok   maintenance file on node2"),
        "every member has its row: {}",
        r.dump()
    );
    assert!(
        out.contains("cmdeployvpkg -m 0 -P slvm1` on node1"),
        "the remedy runs on node1: {}",
        r.dump()
    );
    assert!(
        r.changes().is_empty(),
        "diagnose is read-only: {:?}",
        r.changes()
    );
}

#[test]
fn maintenance_off_turns_it_off_on_every_member() {
    let (r, site) = run(
        "hpvm/maintenance",
        Some(SCENARIO),
        &["package=slvm1", "state=off"],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.dump());
    assert!(!r.all().contains("nothing to do"), "{}", r.dump());
    assert_eq!(
        r.changes(),
        ["node1: /etc/cmcluster/scripts/tkit/vtn/cmdeployvpkg -m 0 -P slvm1"],
        "{}",
        r.dump()
    );
    assert!(!file_on(&site, "node1"), "{}", r.dump());
    assert!(!file_on(&site, "node2"), "{}", r.dump());

    // Asked again: nothing left anywhere, nothing sent.
    let r = site.run("hpvm/maintenance", &["package=slvm1", "state=off"], &[]);
    assert_eq!(r.code, 0, "{}", r.dump());
    assert!(r.all().contains("nothing to do"), "{}", r.dump());
    assert!(r.changes().is_empty(), "{:?}", r.changes());
}

#[test]
fn move_onto_a_member_holding_the_file_is_refused() {
    let (r, site) = run(
        "hpvm/move-package",
        Some(SCENARIO),
        &["package=slvm1", "target=node1"],
        &[],
    );
    assert_eq!(r.code, 3, "{}", r.dump());
    assert!(r.stderr.contains(VTN), "{}", r.dump());
    assert!(r.stderr.contains("node1"), "{}", r.dump());
    assert!(r.changes().is_empty(), "sent {:?}", r.changes());
    let o = site.exec("node1", &["/usr/sbin/cmviewcl", "-v", "-f", "line"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("package:slvm1|owner=node2"), "{text}");

    // Once maintenance is off everywhere, the same move goes through.
    let r = site.run("hpvm/maintenance", &["package=slvm1", "state=off"], &[]);
    assert_eq!(r.code, 0, "{}", r.dump());
    let r = site.run("hpvm/move-package", &["package=slvm1", "target=node1"], &[]);
    assert_eq!(r.code, 0, "{}", r.dump());
    let o = site.exec("node1", &["/usr/sbin/cmviewcl", "-v", "-f", "line"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("package:slvm1|owner=node1"), "{text}");
}
