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

const MIGRATE: [&str; 2] = ["guest=guest2", "target=cd3"];

/// The manual's sentences (PRIMECLUSTER 4.5 §17.3.1.2, Japanese edition), verbatim.
const JA_TEST_FAILED: &str = "TestFailedまたはInitFailedが表示された場合は、シャットダウン機構の設定が変更されなかった可能性があります。";
const JA_REDO: &str = "それ以外の場合は、再度、手順1.から実施してください。";
const JA_7245: &str = "/var/adm/messagesファイルに7245番のメッセージが出力されている場合は、XSCFへのSSH初回接続が完了していません。“PRIMECLUSTER 活用ガイド<メッセージ集>”を参照してください。";
const JA_TIME_SYNC: &str = "時刻が同期されれば、このメッセージは出力されなくなります。";

/// Item 10: TestFailed without message 7245 — the remedy "redo from step 1" is printed with
/// the manual's own Japanese sentences beside the English one.
#[test]
fn the_redo_verdict_prints_the_manuals_japanese_sentences() {
    let (r, _site) = sim_support::run(
        "ldoms/live-migration",
        Some("ldoms/sf-test-failed"),
        &MIGRATE,
        &["--yes"],
    );
    assert_eq!(r.code, 3, "{}", r.dump());
    let out = r.all();
    assert!(out.contains("redo 17.3.1.2 from step 1"), "{}", r.dump());
    assert!(out.contains(JA_TEST_FAILED), "{}", r.dump());
    assert!(out.contains(JA_REDO), "{}", r.dump());
    assert!(!out.contains(JA_7245), "{}", r.dump());
}

/// Item 10: message 7245 — its remedy carries the manual's sentence about the first SSH
/// connection to the XSCF.
#[test]
fn the_7245_verdict_prints_the_manuals_japanese_sentence() {
    let site = Site::new(Some("ldoms/xscf-first-ssh-pending"));
    site.exec_ok(
        "cd2",
        &["/etc/opt/FJSVcluster/bin/clovmmigrate", "-p", "guest2"],
    );
    site.exec_ok("cd2", &["/usr/sbin/ldm", "migrate-domain", "guest2", "cd3"]);
    let r = site.run("ldoms/post-migration", &["guest=guest2"], &["--yes"]);
    assert_eq!(r.code, 3, "{}", r.dump());
    let out = r.all();
    assert!(out.contains("message 7245"), "{}", r.dump());
    assert!(out.contains(JA_7245), "{}", r.dump());
}

/// Item 10: (WRP, 34)/(WRP, 35) — the time-sync note carries the manual's sentence, in the
/// procedure and in the standalone health check.
#[test]
fn the_time_sync_note_prints_the_manuals_japanese_sentence() {
    let (r, site) = sim_support::run(
        "ldoms/live-migration",
        Some("ldoms/time-sync-warnings"),
        &MIGRATE,
        &["--yes"],
    );
    assert_eq!(r.code, 0, "{}", r.dump());
    assert!(r.all().contains("(WRP, 34)"), "{}", r.dump());
    assert!(r.all().contains(JA_TIME_SYNC), "{}", r.dump());
    let v = site.run("ldoms/verify-fence", &["guest=guest2"], &[]);
    assert!(v.all().contains("(WRP, 34)"), "{}", v.dump());
    assert!(v.all().contains(JA_TIME_SYNC), "{}", v.dump());
}
