//! Folder-backed sites: round trips, refusals, corruption, several users at once.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use hascript_api::{CancelToken, Command};
use hascript_sim::{SimError, SimSite};

#[test]
fn state_clock_and_log_survive_reopening() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("state");
    let s = SimSite::open_or_create(&dir, None).expect("create");
    assert_eq!(s.state_dir().as_deref(), Some(dir.as_path()));
    assert_eq!(s.scenario(), "ldoms");
    assert!(dir.join("site.json").is_file());
    ok(&s, "cd2", "/etc/opt/FJSVcluster/bin/clovmmigrate -p guest2");
    ok(&s, "cd2", "ldm migrate-domain guest2 cd3");
    sleep(&s, 10);
    drop(s);

    let s = SimSite::open(&dir).expect("open");
    assert_eq!(s.clock().now(), Duration::from_secs(START + 100));
    assert!(ok(&s, "guest1", "cfset -a").contains("CLUSTER_TIMEOUT VALUE: 600\n"));
    assert!(ldm_record(&s, "cd3", "guest2").is_some());
    let log = s.command_log();
    let lines: Vec<(&str, &str, u64, i32)> = log
        .iter()
        .map(|c| (c.host.as_str(), c.line.as_str(), c.time, c.exit))
        .collect();
    assert_eq!(
        lines[..4],
        [
            (
                "cd2",
                "/etc/opt/FJSVcluster/bin/clovmmigrate -p guest2",
                START,
                0
            ),
            ("cd2", "ldm migrate-domain guest2 cd3", START, 0),
            ("guest1", "cfset -a", START + 100, 0),
            ("cd3", "LC_ALL=C /usr/sbin/ldm list -p", START + 100, 0),
        ]
    );
    // open_or_create without a scenario reuses the site as it is.
    let again = SimSite::open_or_create(&dir, None).expect("reuse");
    assert_eq!(again.clock().now(), Duration::from_secs(START + 100));
    assert_eq!(again.command_log().len(), 4);
}

#[test]
fn a_scenario_seeds_only_a_new_folder() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let s =
        SimSite::open_or_create(dir, Some("ldoms/seven-spconfigs")).expect("empty folder is fine");
    assert_eq!(s.scenario(), "ldoms/seven-spconfigs");
    assert_eq!(ok(&s, "cd2", "ldm list-spconfig").lines().count(), 7);
    match SimSite::open_or_create(dir, Some("ldoms/seven-spconfigs")) {
        Err(e @ SimError::ScenarioWithExistingState { .. }) => {
            assert!(
                e.to_string().contains("already holds a simulated site"),
                "{e}"
            );
        }
        other => panic!("expected ScenarioWithExistingState, got {other:?}"),
    }
    assert!(matches!(
        SimSite::open_or_create(dir, Some("ldoms")),
        Err(SimError::ScenarioWithExistingState { .. })
    ));
    let reused = SimSite::open_or_create(dir, None).expect("reuse");
    assert_eq!(reused.scenario(), "ldoms/seven-spconfigs");
}

#[test]
fn refusals_say_what_is_wrong() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let missing = tmp.path().join("missing");
    assert!(matches!(
        SimSite::open(&missing),
        Err(SimError::NoState { .. })
    ));
    assert!(matches!(
        SimSite::open(tmp.path()),
        Err(SimError::NoState { .. })
    ));
    // An unknown scenario never leaves a folder behind.
    assert!(matches!(
        SimSite::open_or_create(&missing, Some("ldoms/typo")),
        Err(SimError::UnknownScenario { .. })
    ));
    assert!(!missing.exists());
    // A folder with other things in it is not taken over.
    let other = tmp.path().join("other");
    std::fs::create_dir(&other).expect("mkdir");
    std::fs::write(other.join("notes.txt"), "mine").expect("write");
    assert!(matches!(
        SimSite::open_or_create(&other, None),
        Err(SimError::NotASite { .. })
    ));
    // A damaged state file is reported, not overwritten.
    let bad = tmp.path().join("bad");
    std::fs::create_dir(&bad).expect("mkdir");
    std::fs::write(bad.join("site.json"), "{ not json").expect("write");
    match SimSite::open(&bad) {
        Err(e @ SimError::Corrupt { .. }) => assert!(
            e.to_string().contains("remove the folder to start over"),
            "{e}"
        ),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    std::fs::write(bad.join("site.json"), "{\"format\": 99}").expect("write");
    match SimSite::open(&bad) {
        Err(SimError::Corrupt { message, .. }) => assert_eq!(
            message,
            "state format 99 where this hascript reads format 2"
        ),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    assert_eq!(
        std::fs::read_to_string(bad.join("site.json")).expect("read"),
        "{\"format\": 99}"
    );
}

#[test]
fn a_damaged_state_turns_commands_into_transport_errors() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let s = SimSite::open_or_create(tmp.path(), None).expect("create");
    std::fs::write(tmp.path().join("site.json"), "garbage").expect("write");
    let o = s.exec_line("cd1", "hostname");
    assert_eq!(o.code(), 255);
    assert!(
        o.stderr.starts_with("hascript-sim: the simulated site in "),
        "{}",
        o.stderr
    );
    let e = s
        .exec()
        .exec(&Command::read("cd1", &["hostname"]))
        .expect_err("broken state");
    assert_eq!(e.kind, hascript_api::ErrorKind::Transport);
    assert!(s
        .clock()
        .sleep(Duration::from_secs(1), &CancelToken::new())
        .is_err());
    assert_eq!(
        s.clock().now(),
        Duration::from_secs(START),
        "now falls back to the last time read"
    );
}

#[test]
fn concurrent_users_of_one_folder_never_lose_or_corrupt_anything() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = Arc::new(tmp.path().to_path_buf());
    SimSite::open_or_create(&dir, None).expect("create");
    let shared = SimSite::open(&dir).expect("open");
    let mut handles = Vec::new();
    for t in 0..6 {
        let dir = Arc::clone(&dir);
        let shared = shared.clone();
        handles.push(std::thread::spawn(move || {
            // Half the threads act like separate processes (their own handle), half share one.
            let site = if t % 2 == 0 {
                SimSite::open(&dir).expect("open")
            } else {
                shared
            };
            for i in 0..8 {
                let o = site.exec_line("cd1", &format!("echo t{t} i{i}"));
                assert_eq!(o.code(), 0);
                assert_eq!(o.stdout, format!("t{t} i{i}\n"));
                let o = site.exec_line("guest1", "/opt/SMAW/bin/cftool -n");
                assert!(o.stdout.starts_with("Node     Number State"));
                site.clock()
                    .sleep(Duration::from_secs(1), &CancelToken::new())
                    .expect("sleep");
            }
        }));
    }
    for h in handles {
        h.join().expect("thread");
    }
    let s = SimSite::open(&dir).expect("open");
    let log = s.command_log();
    assert_eq!(log.len(), 6 * 8 * 2);
    for t in 0..6 {
        let mine: Vec<&str> = log
            .iter()
            .filter(|c| c.line.starts_with(&format!("echo t{t} ")))
            .map(|c| c.line.as_str())
            .collect();
        let expected: Vec<String> = (0..8).map(|i| format!("echo t{t} i{i}")).collect();
        assert_eq!(
            mine, expected,
            "each thread's commands are all there, in order"
        );
    }
    assert_eq!(
        s.clock().now(),
        Duration::from_secs(START + 48),
        "every sleep counted once"
    );
    let leftovers: Vec<String> = std::fs::read_dir(&*dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n != "site.json" && n != "site.lock" && n != "commands.log")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn in_memory_sites_are_shared_by_clones_and_threads() {
    let s = site(None);
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let s = s.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    assert_eq!(s.exec_line("cd3", &format!("echo {t}.{i}")).code(), 0);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread");
    }
    assert_eq!(s.command_log().len(), 100);
    assert_eq!(s.state_dir(), None);
}
