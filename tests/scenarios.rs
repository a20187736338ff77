//! Every shipped LDoms procedure against the simulator's scenarios, through the binary as a
//! user runs it: exit codes of design.md, what is printed, and the exact state-changing
//! commands the simulated hosts received (from the site's command log).
//!
//! The cases that are one run with an exit code and the changes sent are rows of
//! tests/outcomes/ldoms.toml (tests/scenario_outcomes.rs); what needs more stays here.

mod sim_support;

use sim_support::{is_change, run, Site};

const MIGRATE: [&str; 2] = ["guest=guest2", "target=cd3"];

const CLSNMPSETUP_SAMPLE: &str = "\
device-name cluster-host-name  PPAR-ID  domain-name  IP-address1     IP-address2     user-name      connection-type
-------------------------------------------------------------------------------------------------------------------
xscf        cfguest1           0        guest1       10.20.30.71     10.20.40.71     xuser          ssh
xscf        cfguest2           1        guest2       10.20.30.73     10.20.40.73     xuser          ssh
";

#[test]
fn live_migration_default_site_moves_and_verifies() {
    let (r, site) = run("ldoms/live-migration", None, &MIGRATE, &[]);
    assert_eq!(r.code, 0, "{}", r.dump());
    let out = r.all();
    for section in [
        "[A0]",
        "[17.3.1.1]",
        "[17.3.1.2 step 1]",
        "[17.3.1.2 step 2]",
    ] {
        assert!(
            out.contains(section),
            "missing step {section}\n{}",
            r.dump()
        );
    }
    assert!(out.contains("Verified end state"), "{}", r.dump());
    assert!(out.contains("guest2 runs on cd3"), "{}", r.dump());
    assert_eq!(
        r.changes(),
        vec![
            "cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -p guest2",
            "cd2: /usr/sbin/ldm migrate-domain guest2 cd3",
            "cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd3",
        ],
        "{}",
        r.dump()
    );
    // The dry run came before any change.
    let dry = r
        .log
        .iter()
        .position(|l| l.contains("migrate-domain -n guest2 cd3"));
    let first_change = r.log.iter().position(|l| is_change(l));
    assert!(dry.is_some() && dry < first_change, "{}", r.dump());

    // The end state, read back with the simulator as an operator would.
    let c = site.exec("guest2", &["/etc/opt/FJSVcluster/bin/clsnmpsetup", "-l"]);
    assert_eq!(String::from_utf8_lossy(&c.stdout), CLSNMPSETUP_SAMPLE);
    let t = site.exec("guest1", &["cfset", "-a"]);
    assert!(String::from_utf8_lossy(&t.stdout).contains("KEY: CLUSTER_TIMEOUT VALUE: 10"));
    for g in ["guest1", "guest2"] {
        let s = site.exec(g, &["/opt/SMAW/bin/sdtool", "-s"]);
        let text = String::from_utf8_lossy(&s.stdout).to_string();
        let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("cfguest")).collect();
        assert_eq!(rows.len(), 8, "{text}");
        assert!(
            rows.iter()
                .all(|l| l.contains("TestWorked") && l.contains("InitWorked")),
            "{text}"
        );
    }
}

#[test]
fn live_migration_twice_is_harmless() {
    let (r, site) = run("ldoms/live-migration", None, &MIGRATE, &[]);
    assert_eq!(r.code, 0, "{}", r.dump());
    let again = site.run("ldoms/live-migration", &MIGRATE, &[]);
    assert_eq!(again.code, 0, "{}", again.dump());
    assert!(
        again.changes().is_empty(),
        "second run changed\n{}",
        again.dump()
    );
    assert!(
        again.stdout.contains("already runs on cd3"),
        "{}",
        again.dump()
    );
}
#[test]
fn aborted_with_guest_stopped_waits_for_down_starts_and_restores() {
    let (r, _d) = run(
        "ldoms/live-migration",
        Some("ldoms/migration-aborted-guest-stopped"),
        &MIGRATE,
        &[],
    );
    assert_eq!(r.code, 1, "{}", r.dump());
    assert_eq!(
        r.changes(),
        vec![
            "cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -p guest2",
            "cd2: /usr/sbin/ldm migrate-domain guest2 cd3",
            "cd2: /usr/sbin/ldm start-domain guest2",
            "cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd2",
        ],
        "{}",
        r.dump()
    );
    // DOWN was seen before the start (polled on a node that was not migrated).
    let start = r
        .log
        .iter()
        .position(|l| l.contains("start-domain"))
        .unwrap_or(0);
    assert!(r.log[..start]
        .iter()
        .any(|l| l.starts_with("guest1: ") && l.contains("cftool -n")));
    let out = r.all();
    assert!(out.contains("did not move"), "{}", r.dump());
    assert!(out.contains("DOWN"), "{}", r.dump());
}

#[test]
fn seven_spconfigs_with_yes_removes_only_unprotected() {
    let (r, site) = run(
        "ldoms/live-migration",
        Some("ldoms/seven-spconfigs"),
        &MIGRATE,
        &["--yes"],
    );
    assert_eq!(r.code, 0, "{}", r.dump());
    let removed: Vec<String> = r
        .changes()
        .into_iter()
        .filter(|c| c.contains("remove-spconfig"))
        .collect();
    assert_eq!(removed.len(), 1, "{}", r.dump());
    let after = site.exec("cd2", &["ldm", "list-spconfig"]);
    let text = String::from_utf8_lossy(&after.stdout).to_string();
    assert!(text.contains("factory-default"), "{text}");
    assert!(text.contains("[current]"), "{text}");
    assert!(text.contains("[next poweron]"), "{text}");
    assert_eq!(
        text.lines().filter(|l| !l.trim().is_empty()).count(),
        6,
        "{text}"
    );
    // The removal came before clovmmigrate -p.
    let ch = r.changes();
    assert!(ch[0].contains("remove-spconfig"), "{ch:?}");
}

#[test]
fn message_7245_after_the_move_is_named_by_post_migration() {
    // The operator moved the guest by hand (pre-migration, then ldm) on a site whose guest
    // nodes never connected to cd3's XSCF: 17.3.1.2 then fails with message 7245.
    let site = Site::new(Some("ldoms/xscf-first-ssh-pending"));
    site.exec_ok(
        "cd2",
        &["/etc/opt/FJSVcluster/bin/clovmmigrate", "-p", "guest2"],
    );
    site.exec_ok("cd2", &["/usr/sbin/ldm", "migrate-domain", "guest2", "cd3"]);
    let r = site.run("ldoms/post-migration", &["guest=guest2"], &[]);
    assert_eq!(r.code, 3, "{}", r.dump());
    let text = r.all();
    assert!(text.contains("TestFailed"), "{}", r.dump());
    assert!(text.contains("message 7245"), "{}", r.dump());
    assert!(text.contains("first SSH connection"), "{}", r.dump());
    // Said before clovmmigrate -u restarts the facility, naming the XSCF, and -u still
    // runs (fencing is restored even so).
    assert_eq!(
        r.stderr
            .matches("no first SSH connection yet from guest1 to 10.20.30.73 (box3), 10.20.40.73 (box3); guest2 to")
            .count(),
        1,
        "{}",
        r.dump()
    );
    assert!(
        r.changes()
            .iter()
            .any(|c| c.contains("clovmmigrate -u guest2")),
        "{}",
        r.dump()
    );
}
#[test]
fn pre_then_manual_move_then_post_migration() {
    let (r, site) = run("ldoms/pre-migration", None, &MIGRATE, &[]);
    assert_eq!(r.code, 0, "{}", r.dump());
    assert_eq!(
        r.changes(),
        vec!["cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -p guest2"],
        "{}",
        r.dump()
    );
    let t = site.exec("guest1", &["/opt/SMAW/bin/cfset", "-a"]);
    assert!(String::from_utf8_lossy(&t.stdout).contains("KEY: CLUSTER_TIMEOUT VALUE: 600"));
    site.exec_ok("cd2", &["/usr/sbin/ldm", "migrate-domain", "guest2", "cd3"]);
    // A target that disagrees with where the guest runs is refused.
    let wrong = site.run("ldoms/post-migration", &["guest=guest2", "target=cd2"], &[]);
    assert_eq!(wrong.code, 2, "{}", wrong.dump());
    assert!(wrong.changes().is_empty(), "{}", wrong.dump());
    let post = site.run("ldoms/post-migration", &["guest=guest2"], &[]);
    assert_eq!(post.code, 0, "{}", post.dump());
    assert_eq!(
        post.changes(),
        vec!["cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd3"],
        "{}",
        post.dump()
    );
    let c = site.exec("guest1", &["/etc/opt/FJSVcluster/bin/clsnmpsetup", "-l"]);
    assert_eq!(String::from_utf8_lossy(&c.stdout), CLSNMPSETUP_SAMPLE);
    // Running it again changes nothing and says so.
    let again = site.run("ldoms/post-migration", &["guest=guest2"], &[]);
    assert_eq!(again.code, 0, "{}", again.dump());
    assert!(again.stdout.contains("nothing to do"), "{}", again.dump());
    assert!(again.changes().is_empty(), "{}", again.dump());
}
#[test]
fn recover_migration_after_a_stopped_guest() {
    let site = Site::new(Some("ldoms/migration-aborted-guest-stopped"));
    site.exec_ok(
        "cd2",
        &["/etc/opt/FJSVcluster/bin/clovmmigrate", "-p", "guest2"],
    );
    // The scenario's migration fails (exit 1) and leaves the guest stopped on cd2.
    let m = site.exec("cd2", &["/usr/sbin/ldm", "migrate-domain", "guest2", "cd3"]);
    assert_eq!(m.status.code(), Some(1));
    let r = site.run("ldoms/recover-migration", &["guest=guest2"], &[]);
    assert_eq!(r.code, 0, "{}", r.dump());
    assert_eq!(
        r.changes(),
        vec![
            "cd2: /usr/sbin/ldm start-domain guest2",
            "cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd2"
        ],
        "{}",
        r.dump()
    );
}
#[test]
fn verify_fence_reports_failed_agents_with_exit_3() {
    let site = Site::new(Some("ldoms/sf-test-failed"));
    site.exec_ok(
        "cd2",
        &["/etc/opt/FJSVcluster/bin/clovmmigrate", "-p", "guest2"],
    );
    site.exec_ok("cd2", &["/usr/sbin/ldm", "migrate-domain", "guest2", "cd3"]);
    site.exec_ok(
        "cd2",
        &[
            "/etc/opt/FJSVcluster/bin/clovmmigrate",
            "-u",
            "guest2",
            "cd3",
        ],
    );
    let r = site.run("ldoms/verify-fence", &[], &[]);
    assert_eq!(r.code, 3, "{}", r.dump());
    assert!(r.all().contains("TestFailed"), "{}", r.dump());
    assert!(r.changes().is_empty(), "{}", r.dump());
}
#[test]
fn pre_migration_twice_is_harmless() {
    let (r, site) = run("ldoms/pre-migration", None, &MIGRATE, &[]);
    assert_eq!(r.code, 0, "{}", r.dump());
    let again = site.run("ldoms/pre-migration", &MIGRATE, &[]);
    assert_eq!(again.code, 0, "{}", again.dump());
    assert!(again.all().contains("was done before"), "{}", again.dump());
    assert!(again.changes().is_empty(), "{}", again.dump());
}
/// An inactive guest domain (`ldoms/guest-inactive`: every field of its `ldm list -p` record
/// after the state is empty) reads as stopped on its control domain, never as missing or
/// running; the live migration refuses it before changing anything.
#[test]
fn inactive_guest_reads_as_stopped_on_its_control_domain() {
    let d = tempfile::tempdir().expect("tempdir");
    let script = d.path().join("where.rhai");
    std::fs::write(
        &script,
        "for g in hypervisor.guests() { print(`guests: ${g}`); }\n\
         print(`guest: ${hypervisor.guest(\"guest2\")}`);\n",
    )
    .expect("write script");
    let (r, _site) = run(
        script.to_str().expect("utf8"),
        Some("ldoms/guest-inactive"),
        &[],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.dump());
    let listed = r
        .stdout
        .lines()
        .find(|l| l.starts_with("guests: ") && l.contains("\"name\": \"guest2\""))
        .unwrap_or_else(|| panic!("guest2 not listed\n{}", r.dump()));
    assert!(listed.contains("\"control_domain\": \"cd2\""), "{listed}");
    // The generic state word, the vendor's beside it (issue 12 item 5).
    assert!(listed.contains("\"state\": \"stopped\""), "{listed}");
    assert!(listed.contains("\"ldm_state\": \"inactive\""), "{listed}");
    assert!(
        listed.contains("\"host\": ()"),
        "not running anywhere: {listed}"
    );
    let located = r
        .stdout
        .lines()
        .find(|l| l.starts_with("guest: "))
        .unwrap_or_else(|| panic!("no guest line\n{}", r.dump()));
    assert!(located.contains("\"state\": \"stopped\""), "{located}");
    assert!(located.contains("\"control_domain\": \"cd2\""), "{located}");
    assert!(located.contains("\"ldm_state\": \"inactive\""), "{located}");
    assert!(r.changes().is_empty(), "{}", r.dump());

    let (r, _site) = run(
        "ldoms/live-migration",
        Some("ldoms/guest-inactive"),
        &MIGRATE,
        &[],
    );
    assert_eq!(r.code, 3, "{}", r.dump());
    assert!(
        r.all().contains("guest2 is stopped (inactive) on cd2"),
        "{}",
        r.dump()
    );
    assert!(r.changes().is_empty(), "{}", r.dump());
}

/// A newer `ldm` (`ldoms/newer-ldm`: `VERSION 1.11`, `norm_util` on every record) changes
/// nothing of the live migration: same exit, same change commands as the default site.
#[test]
fn newer_ldm_release_migrates_as_the_default_site() {
    let (r, site) = run(
        "ldoms/live-migration",
        Some("ldoms/newer-ldm"),
        &MIGRATE,
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.dump());
    assert!(r.all().contains("guest2 runs on cd3"), "{}", r.dump());
    assert_eq!(
        r.changes(),
        vec![
            "cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -p guest2",
            "cd2: /usr/sbin/ldm migrate-domain guest2 cd3",
            "cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd3",
        ],
        "{}",
        r.dump()
    );
    let l = site.exec("cd3", &["ldm", "list", "-p"]);
    let text = String::from_utf8_lossy(&l.stdout).to_string();
    assert!(text.starts_with("VERSION 1.11\n"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("DOMAIN|name=guest2|state=active|") && l.contains("|norm_util=")),
        "{text}"
    );
}
