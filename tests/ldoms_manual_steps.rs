//! "Manual steps done right" (issue 12, items 3, 4, 5, 8, 9, 10) through the binary on the
//! simulator: each test runs a shipped LDoms procedure as an operator would and asserts
//! what the manual asks for — the commands sent (exactly), the exit code and the words
//! the operator reads. (The cases that are one run with an exit code and the changes sent
//! are rows of tests/outcomes/ldoms.toml, run by tests/scenario_outcomes.rs.)

mod sim_support;

use sim_support::Site;

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
        all.contains(
            "FAIL target box hosts no other node of this cluster: box1 already hosts guest1"
        ),
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

const CLOVMMIGRATE_P: &str = "cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -p guest2";
const CLOVMMIGRATE_U_CD3: &str = "cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd3";
const CLOVMMIGRATE_U_CD2: &str = "cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd2";

/// Write `content` to `path` on simulated host `host` (`dd of=PATH`, as an operator would
/// put a file there).
fn put_file(site: &Site, host: &str, path: &str, content: &str) {
    use std::io::Write;
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_hascript"))
        .args([
            "sim",
            "exec",
            "--state",
            site.state.to_str().expect("utf8"),
            "--host",
            host,
            "--",
            "dd",
        ])
        .arg(format!("of={path}"))
        .env("XDG_STATE_HOME", env!("CARGO_TARGET_TMPDIR"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("sim exec runs");
    c.stdin
        .take()
        .expect("stdin")
        .write_all(content.as_bytes())
        .expect("written");
    assert!(c.wait().expect("ends").success(), "dd of={path} on {host}");
}

/// Item 8: `password_file` is passed as `ldm migrate-domain -p FILE` (exactly), and the
/// simulator, like ldm, reads it on the source control domain: a file that is not there is
/// refused before anything moves.
#[test]
fn a_password_file_is_passed_to_ldm_migrate_domain_and_read_on_the_source() {
    let site = Site::new(None);
    // No such file: ldm refuses, the guest stays, nothing moved.
    let o = site.exec(
        "cd2",
        &[
            "/usr/sbin/ldm",
            "migrate-domain",
            "-p",
            "/var/tmp/ldm-pw",
            "guest2",
            "cd3",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("/var/tmp/ldm-pw"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    put_file(&site, "cd2", "/var/tmp/ldm-pw", "secret\n");
    let mut params = MIGRATE.to_vec();
    params.push("password_file=/var/tmp/ldm-pw");
    let r = site.run("ldoms/live-migration", &params, &["--yes"]);
    assert_eq!(r.code, 0, "{}", r.dump());
    assert_eq!(
        r.changes(),
        [
            CLOVMMIGRATE_P,
            "cd2: /usr/sbin/ldm migrate-domain -p /var/tmp/ldm-pw guest2 cd3",
            CLOVMMIGRATE_U_CD3,
        ],
        "{}",
        r.dump()
    );
    assert!(r.all().contains("guest2 runs on cd3"), "{}", r.dump());
}

/// Item 8: `sf_settle` gives the shutdown facility that long after `clovmmigrate -u` (the
/// manual's 30 s by default), in the procedure and in the step script.
#[test]
fn sf_settle_is_a_parameter_with_the_manuals_30_s_by_default() {
    let (r, _site) = sim_support::run("ldoms/live-migration", None, &MIGRATE, &["--yes"]);
    assert_eq!(r.code, 0, "{}", r.dump());
    assert!(
        r.all()
            .contains("waiting 30 s for the shutdown facility to test its agents"),
        "{}",
        r.dump()
    );
    let mut params = MIGRATE.to_vec();
    params.push("sf_settle=75");
    let (r, _site) = sim_support::run("ldoms/live-migration", None, &params, &["--yes"]);
    assert_eq!(r.code, 0, "{}", r.dump());
    assert!(
        r.all()
            .contains("waiting 75 s for the shutdown facility to test its agents"),
        "{}",
        r.dump()
    );
    let site = Site::new(None);
    site.exec_ok(
        "cd2",
        &["/etc/opt/FJSVcluster/bin/clovmmigrate", "-p", "guest2"],
    );
    site.exec_ok("cd2", &["/usr/sbin/ldm", "migrate-domain", "guest2", "cd3"]);
    let r = site.run(
        "ldoms/post-migration",
        &["guest=guest2", "sf_settle=50"],
        &["--yes"],
    );
    assert_eq!(r.code, 0, "{}", r.dump());
    assert!(
        r.all()
            .contains("waiting 50 s for the shutdown facility to test its agents"),
        "{}",
        r.dump()
    );
}

/// Item 8: a migration that hangs (still under way at `migration_deadline`) — after a
/// confirmation, `ldm cancel-operation migration` on the source, then the recovery of the
/// 17.3.1.1 note where the guest is (the source): exit 1, the move failed, fencing back.
#[test]
fn a_hanging_migration_is_cancelled_after_confirmation_then_recovered() {
    let site = Site::new(Some("ldoms/migration-hangs"));
    let mut params = MIGRATE.to_vec();
    params.push("migration_deadline=300");
    let r = site.run("ldoms/live-migration", &params, &["--yes"]);
    assert_eq!(r.code, 1, "{}", r.dump());
    assert_eq!(
        r.changes(),
        [
            CLOVMMIGRATE_P,
            "cd2: /usr/sbin/ldm migrate-domain guest2 cd3",
            "cd2: /usr/sbin/ldm cancel-operation migration guest2",
            CLOVMMIGRATE_U_CD2,
        ],
        "{}",
        r.dump()
    );
    let out = r.all();
    assert!(
        out.contains("the migration of guest2 is still under way after 300 s"),
        "{}",
        r.dump()
    );
    assert!(
        out.contains("cancel it with ldm cancel-operation migration guest2?"),
        "{}",
        r.dump()
    );
    assert!(out.contains("guest2 did not move"), "{}", r.dump());
    let sd = site.exec("guest1", &["/opt/SMAW/bin/sdtool", "-s"]);
    assert!(
        String::from_utf8_lossy(&sd.stdout).contains("TestWorked"),
        "{}",
        String::from_utf8_lossy(&sd.stdout)
    );
}

/// The N of "the cluster ran N s without fencing" in `out`, if it says so.
fn ran_without_fencing(out: &str) -> Option<u64> {
    let (_, rest) = out.split_once("the cluster ran ")?;
    let (n, rest) = rest.split_once(' ')?;
    rest.starts_with("s without fencing")
        .then(|| n.parse().ok())
        .flatten()
}

/// Item 9: post-migration, a separate run after pre-migration (17.3.1.1) and a move by
/// hand, ends its verified state with how long the cluster ran without fencing, counted
/// from the earlier run's 17.3.1.1 (its journal).
#[test]
fn post_migration_says_how_long_the_cluster_ran_without_fencing_since_pre_migration() {
    let site = Site::new(None);
    let pre = site.run("ldoms/pre-migration", &MIGRATE, &["--yes"]);
    assert_eq!(pre.code, 0, "{}", pre.dump());
    site.exec_ok("cd2", &["/usr/sbin/ldm", "migrate-domain", "guest2", "cd3"]);
    let r = site.run("ldoms/post-migration", &["guest=guest2"], &["--yes"]);
    assert_eq!(r.code, 0, "{}", r.dump());
    // The move (90 s) and the shutdown facility's settle (30 s) at least.
    let n = ran_without_fencing(&r.all()).unwrap_or_else(|| panic!("{}", r.dump()));
    assert!(n >= 120, "{n}\n{}", r.dump());
}

/// Item 9: recover-migration as its own run after pre-migration and a move that left the
/// guest stopped: the recovery waited for DOWN (about 600 s after 17.3.1.1), so the cluster
/// ran at least that long without fencing, and says so.
#[test]
fn recover_migration_says_how_long_the_cluster_ran_without_fencing() {
    let site = Site::new(Some("ldoms/migration-aborted-guest-stopped"));
    let pre = site.run("ldoms/pre-migration", &MIGRATE, &["--yes"]);
    assert_eq!(pre.code, 0, "{}", pre.dump());
    let o = site.exec("cd2", &["/usr/sbin/ldm", "migrate-domain", "guest2", "cd3"]);
    assert_eq!(o.status.code(), Some(1));
    let r = site.run("ldoms/recover-migration", &["guest=guest2"], &["--yes"]);
    assert_eq!(r.code, 0, "{}", r.dump());
    let n = ran_without_fencing(&r.all()).unwrap_or_else(|| panic!("{}", r.dump()));
    assert!(n >= 600, "{n}\n{}", r.dump());
}

/// Item 9: 17.3.1.1 done by hand (no run of hascript on this site did it): the verified end
/// says fencing is back and that how long it was off is not known — never a made-up figure.
#[test]
fn without_a_run_that_did_17_3_1_1_the_time_without_fencing_is_said_to_be_unknown() {
    let site = Site::new(None);
    site.exec_ok(
        "cd2",
        &["/etc/opt/FJSVcluster/bin/clovmmigrate", "-p", "guest2"],
    );
    site.exec_ok("cd2", &["/usr/sbin/ldm", "migrate-domain", "guest2", "cd3"]);
    let r = site.run("ldoms/post-migration", &["guest=guest2"], &["--yes"]);
    assert_eq!(r.code, 0, "{}", r.dump());
    assert!(ran_without_fencing(&r.all()).is_none(), "{}", r.dump());
    assert!(
        r.all()
            .contains("fencing is back (how long it was off is not known"),
        "{}",
        r.dump()
    );
}

/// Item 3: a guest started before its node was DOWN (17.3.1.1 note) is recognised before
/// any `clovmmigrate -u`, from what the cluster shows; after the confirmation it is stopped
/// again by force, its node waited DOWN, started, waited UP, then 17.3.1.2: verified.
#[test]
fn a_guest_started_before_its_node_was_down_is_stopped_again_and_recovered() {
    let site = Site::new(Some("ldoms/guest-started-too-early"));
    let r = site.run("ldoms/recover-migration", &["guest=guest2"], &["--yes"]);
    assert_eq!(r.code, 0, "{}", r.dump());
    assert_eq!(
        r.changes(),
        [
            "cd2: /usr/sbin/ldm stop-domain -f guest2",
            "cd2: /usr/sbin/ldm start-domain guest2",
            CLOVMMIGRATE_U_CD2,
        ],
        "{}",
        r.dump()
    );
    let out = r.all();
    assert!(
        out.contains("guest2 was started before its node was DOWN (guest2 up 30 s"),
        "{}",
        r.dump()
    );
    assert!(
        out.contains("cfguest2 UP in cftool -n, RMS not running"),
        "{}",
        r.dump()
    );
    // Its node went DOWN before the start (the order the manual asks for).
    let down = out
        .find("cfguest2 DOWN in cftool -n: reached")
        .expect("waited for DOWN");
    let start = out.find("start guest2 on cd2").expect("started");
    assert!(down < start, "{}", r.dump());
    for g in ["guest1", "guest2"] {
        let sd = site.exec(g, &["/opt/SMAW/bin/sdtool", "-s"]);
        let text = String::from_utf8_lossy(&sd.stdout).to_string();
        assert!(!text.contains("Failed"), "{g}: {text}");
        assert_eq!(text.matches("InitWorked").count(), 8, "{g}: {text}");
    }
}

/// Item 3: the exception to "never stop a live node" is the operation's, not the script's:
/// on a healthy site `hypervisor.stop_early_started` is refused and sends nothing, whatever
/// a script says (even with --yes).
#[test]
fn stop_early_started_never_stops_a_healthy_live_node() {
    let site = Site::new(None);
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("force.rhai");
    std::fs::write(&script, "hypervisor.stop_early_started(\"guest2\");\n").expect("written");
    let r = site.run(script.to_str().expect("utf8"), &[], &["--yes"]);
    assert_eq!(r.code, 3, "{}", r.dump());
    assert!(
        r.all()
            .contains("not a guest started before its node was DOWN"),
        "{}",
        r.dump()
    );
    assert!(r.changes().is_empty(), "{}", r.dump());
}
