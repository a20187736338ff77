//! "Manual steps done right" (issue 12, items 3, 4, 5, 8, 9, 10) through the binary on the
//! simulator: each test runs a shipped LDoms procedure as an operator would and asserts
//! what the manual asks for — the commands sent (exactly), the exit code and the words
//! the operator reads.

mod sim_support;

use sim_support::Site;

const PROCEDURES: &[&str] = &[
    "ldoms/live-migration",
    "ldoms/pre-migration",
    "ldoms/post-migration",
    "ldoms/recover-migration",
    "ldoms/verify-fence",
];

/// Item 5: an unknown guest is a usage error (exit 2) before any command reaches any host —
/// not even a read — in every shipped LDoms procedure.
#[test]
fn an_unknown_guest_sends_no_command_at_all_in_any_ldoms_procedure() {
    for p in PROCEDURES {
        let site = Site::new(None);
        let params: &[&str] = match *p {
            "ldoms/live-migration" | "ldoms/pre-migration" => &["guest=guest9", "target=cd3"],
            "ldoms/post-migration" => &["guest=guest9", "target=cd3"],
            _ => &["guest=guest9"],
        };
        let r = site.run(p, params, &["--yes"]);
        assert_eq!(r.code, 2, "{p}: {}", r.dump());
        assert!(
            r.all().contains("unknown guest \"guest9\""),
            "{p}: {}",
            r.dump()
        );
        assert!(r.log.is_empty(), "{p} sent commands: {}", r.dump());
    }
}

/// Item 4: 17.3.1.1 done for a move to cd3; a second pre-migration towards cd1 (the box of
/// the cluster partner guest1) runs the target's checks again and is refused by them:
/// exit 3, nothing sent, the failed check named.
#[test]
fn a_second_pre_migration_to_the_partners_box_is_refused_by_the_target_checks() {
    let site = Site::new(None);
    let first = site.run(
        "ldoms/pre-migration",
        &["guest=guest2", "target=cd3"],
        &["--yes"],
    );
    assert_eq!(first.code, 0, "{}", first.dump());
    assert_eq!(
        first.changes(),
        ["cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -p guest2"],
        "{}",
        first.dump()
    );
    let second = site.run(
        "ldoms/pre-migration",
        &["guest=guest2", "target=cd1"],
        &["--yes"],
    );
    assert_eq!(second.code, 3, "{}", second.dump());
    assert!(second.changes().is_empty(), "{}", second.dump());
    let all = second.all();
    assert!(
        all.contains("FAIL target box hosts no other node of this cluster: box1 already hosts guest1"),
        "{all}"
    );
    assert!(!all.contains("nothing to do"), "{all}");
}
