//! 17.3.1.2 done as the manual says, through the binary on the simulator: the remedies a
//! run prints, followed as an operator would, work ("redo from step 1"); message 7245 is a
//! fact of the log file, not of one run; step 2 reads `clsnmpsetup -l` and `sdtool -s` on
//! every guest node; what `clovmmigrate -u` promises (the saved configuration on both
//! control domains, the SF settings) is read back and kept as evidence in the journal.

mod sim_support;

use std::path::PathBuf;

use serde_json::Value;
use sim_support::{lines, Run, Site};

const MIGRATE: [&str; 2] = ["guest=guest2", "target=cd3"];
const UPDATE: &str = "/etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd3";

/// The run's change commands are exactly one `clovmmigrate -u guest2 cd3` (on the control
/// domain the driver determines).
fn only_update(r: &Run) -> bool {
    let c = r.changes();
    c.len() == 1 && c[0].ends_with(UPDATE)
}

/// Set a fault of the site's simulated model (`site.json`) to `value`, as if the cause had
/// been dealt with (or had appeared) between two runs.
fn set_fault(site: &Site, key: &str, value: Value) {
    let path = site.state.join("site.json");
    let text = std::fs::read_to_string(&path).expect("site.json");
    let mut v: Value = serde_json::from_str(&text).expect("site.json is JSON");
    v["model"]["fault"][key] = value;
    std::fs::write(&path, serde_json::to_string(&v).expect("JSON")).expect("written");
}

/// The journal of a finished run: its id is in the banner's `(run ID)`.
fn journal_of(r: &Run) -> Vec<Value> {
    let text = r.all();
    let at = text.find("(run ").expect("banner names the run");
    let id: String = text[at + 5..].chars().take_while(|c| *c != ')').collect();
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("hascript/runs")
        .join(format!("{id}.jsonl"));
    lines(&path)
}

/// The `value` of the script step whose title starts with `title`.
fn step_value(journal: &[Value], section: &str) -> Value {
    journal
        .iter()
        .find(|l| l["event"] == "step_end" && l["section"] == section && l["by"] == "script")
        .map(|l| l["value"].clone())
        .unwrap_or(Value::Null)
}

// ----- item 1: "redo 17.3.1.2 from step 1" is doable ---------------------------------------

#[test]
fn redo_from_step_1_sends_clovmmigrate_u_again_and_ends_once_the_fault_is_gone() {
    let site = Site::new(Some("ldoms/sf-test-failed"));
    let first = site.run("ldoms/live-migration", &MIGRATE, &[]);
    assert_eq!(first.code, 3, "{}", first.dump());
    let out = first.all();
    assert!(
        out.contains("redo 17.3.1.2 from step 1"),
        "{}",
        first.dump()
    );
    assert!(out.contains("ldoms/post-migration"), "{}", first.dump());

    // The remedy as an operator follows it: run ldoms/post-migration. Step 2 failed, so
    // step 1 is not "done before": clovmmigrate -u is sent again.
    let again = site.run("ldoms/post-migration", &["guest=guest2"], &[]);
    assert!(only_update(&again), "{}", again.dump());
    assert!(
        !again.all().contains("nothing to do"),
        "step 1 was taken as done although step 2 failed\n{}",
        again.dump()
    );
    // The fault is still there: the same verdict and remedy, honestly.
    assert_eq!(again.code, 3, "{}", again.dump());
    assert!(
        again.all().contains("redo 17.3.1.2 from step 1"),
        "{}",
        again.dump()
    );

    // The cause is dealt with: the same remedy now ends the procedure.
    set_fault(&site, "sf_test_failed", Value::Array(Vec::new()));
    let fixed = site.run("ldoms/post-migration", &["guest=guest2"], &[]);
    assert_eq!(fixed.code, 0, "{}", fixed.dump());
    assert!(only_update(&fixed), "{}", fixed.dump());

    // And once verified, step 1 is done: a further run sends nothing.
    let done = site.run("ldoms/post-migration", &["guest=guest2"], &[]);
    assert_eq!(done.code, 0, "{}", done.dump());
    assert!(done.changes().is_empty(), "{}", done.dump());
    assert!(done.all().contains("nothing to do"), "{}", done.dump());
}

// ----- item 2: message 7245 is a fact of the log file ---------------------------------------

/// The xscf-first-ssh-pending site after a move by hand (17.3.1.1, then ldm): the guest
/// nodes never connected to cd3's XSCF.
fn moved_by_hand_to_box3() -> Site {
    let site = Site::new(Some("ldoms/xscf-first-ssh-pending"));
    site.exec_ok(
        "cd2",
        &["/etc/opt/FJSVcluster/bin/clovmmigrate", "-p", "guest2"],
    );
    site.exec_ok("cd2", &["/usr/sbin/ldm", "migrate-domain", "guest2", "cd3"]);
    site
}

#[test]
fn message_7245_is_named_again_by_a_second_post_migration() {
    let site = moved_by_hand_to_box3();
    let first = site.run("ldoms/post-migration", &["guest=guest2"], &[]);
    assert_eq!(first.code, 3, "{}", first.dump());
    assert!(
        first.all().contains("first SSH connection"),
        "{}",
        first.dump()
    );

    let second = site.run("ldoms/post-migration", &["guest=guest2"], &[]);
    assert_eq!(second.code, 3, "{}", second.dump());
    let text = second.all();
    assert!(text.contains("message 7245"), "{}", second.dump());
    assert!(
        text.contains("connect once with ssh to the XSCF"),
        "the 7245 remedy, not the generic one\n{}",
        second.dump()
    );
}

#[test]
fn verify_fence_scans_messages_from_the_size_journaled_before_the_latest_u() {
    let site = moved_by_hand_to_box3();
    let post = site.run("ldoms/post-migration", &["guest=guest2"], &[]);
    assert_eq!(post.code, 3, "{}", post.dump());
    // The size of each guest's /var/adm/messages before -u is in post-migration's journal.
    let journal = journal_of(&post);
    let marks: Vec<&Value> = journal
        .iter()
        .filter(|l| l["event"] == "log_mark")
        .collect();
    for g in ["guest1", "guest2"] {
        assert!(
            marks
                .iter()
                .any(|m| m["host"] == g && m["file"] == "/var/adm/messages" && m["size"].is_u64()),
            "no log_mark for {g}: {marks:?}"
        );
    }

    // A later health check (no -u of its own) reads from that size: the 7245 lines are
    // named as written after clovmmigrate -u, not as possibly older.
    let check = site.run("ldoms/verify-fence", &[], &[]);
    assert_eq!(check.code, 3, "{}", check.dump());
    let text = check.all();
    assert!(text.contains("7245"), "{}", check.dump());
    assert!(
        text.contains("after the latest clovmmigrate -u"),
        "{}",
        check.dump()
    );
    assert!(!text.contains("may be older"), "{}", check.dump());
    assert!(
        text.contains("connect once with ssh to the XSCF"),
        "{}",
        check.dump()
    );
}

#[test]
fn without_a_journaled_size_every_7245_line_is_listed_with_its_time_and_may_be_older() {
    let site = moved_by_hand_to_box3();
    // 17.3.1.2 step 1 by hand too: no run journaled the size of the logs before it.
    site.exec_ok(
        "cd2",
        &[
            "/etc/opt/FJSVcluster/bin/clovmmigrate",
            "-u",
            "guest2",
            "cd3",
        ],
    );
    let check = site.run("ldoms/verify-fence", &[], &[]);
    assert_eq!(check.code, 3, "{}", check.dump());
    let text = check.all();
    assert!(text.contains("may be older"), "{}", check.dump());
    assert!(text.contains("clocks"), "{}", check.dump());
    // Each 7245 line with its syslog time (`Mmm dd hh:mm:ss`).
    let hit = text
        .lines()
        .find(|l| l.contains("7245") && l.contains("guest1"))
        .unwrap_or_else(|| panic!("no 7245 line for guest1\n{}", check.dump()));
    assert!(
        hit.split_whitespace()
            .any(|w| w.len() == 8 && w.as_bytes()[2] == b':' && w.as_bytes()[5] == b':'),
        "no time in {hit:?}"
    );
}

// ----- item 6: step 2 on every guest node ---------------------------------------------------

#[test]
fn step_2_reads_clsnmpsetup_and_sdtool_on_every_guest_node() {
    let site = Site::new(None);
    let r = site.run("ldoms/live-migration", &MIGRATE, &[]);
    assert_eq!(r.code, 0, "{}", r.dump());
    let u = r
        .log
        .iter()
        .position(|l| l.contains("clovmmigrate -u"))
        .expect("-u sent");
    let after = &r.log[u..];
    for g in ["guest1", "guest2"] {
        for cmd in ["clsnmpsetup -l", "sdtool -s"] {
            assert!(
                after
                    .iter()
                    .any(|l| l.starts_with(&format!("{g}: ")) && l.contains(cmd)),
                "no {cmd} on {g} after clovmmigrate -u\n{}",
                r.dump()
            );
        }
    }
}

#[test]
fn a_node_whose_sf_settings_differ_is_reported_with_a_remedy() {
    let site = Site::new(Some("ldoms/sf-settings-differ"));
    let r = site.run("ldoms/live-migration", &MIGRATE, &[]);
    assert_eq!(r.code, 3, "{}", r.dump());
    let text = r.all();
    assert!(
        text.contains("guest2's clsnmpsetup -l differs from guest1's"),
        "{}",
        r.dump()
    );
    assert!(text.contains("redo 17.3.1.2 from step 1"), "{}", r.dump());
}

// ----- item 7: what clovmmigrate -u promises, read back -------------------------------------

#[test]
fn the_finish_step_keeps_cftool_and_spconfig_before_and_after_as_evidence() {
    let site = Site::new(None);
    let r = site.run("ldoms/live-migration", &MIGRATE, &[]);
    assert_eq!(r.code, 0, "{}", r.dump());
    let v = step_value(&journal_of(&r), "17.3.1.2 step 1");
    let ev = &v["evidence"];
    for when in ["before", "after"] {
        assert!(
            ev[when]["cftool_n"]
                .as_array()
                .is_some_and(|a| a.len() == 2),
            "{when}: {ev}"
        );
        for cd in ["cd2", "cd3"] {
            assert!(
                ev[when]["spconfigs"][cd]
                    .as_array()
                    .is_some_and(|a| !a.is_empty()),
                "{when} {cd}: {ev}"
            );
        }
    }
    // The move took [current] away on both boxes; -u saved the running configuration.
    let current = |when: &str, cd: &str| {
        ev[when]["spconfigs"][cd]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["current"] == true)
    };
    assert!(!current("before", "cd3") && current("after", "cd3"), "{ev}");
    assert!(!current("before", "cd2") && current("after", "cd2"), "{ev}");
    assert_eq!(v["readback"]["ok"], true, "{v}");
    // The SF settings of every node point at box3 for guest2.
    assert!(
        v["readback"]["sf_settings"]
            .as_array()
            .is_some_and(|a| a.len() == 2),
        "{v}"
    );
}

#[test]
fn a_clovmmigrate_u_that_saves_no_configuration_is_reported() {
    let site = Site::new(Some("ldoms/spconfig-not-saved"));
    let r = site.run("ldoms/live-migration", &MIGRATE, &[]);
    let text = r.all();
    assert!(
        text.contains("clovmmigrate -u saved no configuration on cd3"),
        "{}",
        r.dump()
    );
    assert!(text.contains("ldm add-spconfig"), "{}", r.dump());
    assert!(
        !text.contains("saved no configuration on cd2"),
        "{}",
        r.dump()
    );
    let v = step_value(&journal_of(&r), "17.3.1.2 step 1");
    assert_eq!(v["readback"]["ok"], false, "{v}");
}
