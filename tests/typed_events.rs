//! Journals written by older versions read through the typed reader
//! (`journal::read_events`): `tests/journals/before-schema-1.jsonl` is a dead run's journal
//! as hascript wrote it before schema version 1 (no `schema_version`, no `by` on steps, a
//! recovery routine described the old way, `{driver, routine, …}`, beside one described the
//! new way, `{procedure, params}`), with a line of an event this version does not know and
//! a last line cut short by a crash. What `resume` and `unwind` read from it must be what
//! that run left: its pending and undone routines, its locks, its unknown change, its
//! completed steps.

use std::path::PathBuf;

use hascript::journal::{self, Event, SiteRecord, StepBy};
use hascript::resume::{Continuation, DeadRun};
use serde_json::json;

const ID: &str = "20260302T090000.000Z-0a1b2c";

/// A journal folder holding the fixture as run [`ID`]'s journal.
fn folder() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/journals/before-schema-1.jsonl"
    );
    let path = dir.path().join(format!("{ID}.{}", journal::EXT));
    std::fs::copy(fixture, &path).expect("copy the fixture");
    (dir, path)
}

#[test]
fn an_older_journal_reads_as_typed_events() {
    let (_dir, path) = folder();
    let lines = journal::read_events(&path).expect("readable");
    // 22 lines: the later version's event and the line cut short are not events.
    assert_eq!(lines.len(), 20);
    assert!(lines.iter().all(|l| l.run == ID && l.schema_version == 0));
    let Event::Run(h) = &lines[0].event else {
        panic!("no header: {:?}", lines[0]);
    };
    assert_eq!(
        (h.script.as_str(), h.pid, h.origin.as_str(), h.dry_run),
        ("ldoms/live-migration", 4242, "admin-old", false)
    );
    assert_eq!(
        h.site,
        SiteRecord::Inventory {
            path: "/etc/hascript/site.toml".into(),
            sha256: "9c0d".into()
        }
    );
    assert_eq!(h.params.get("password").map(String::as_str), Some("*****"));
    // Steps written before `by` are the script's.
    let steps: Vec<(u64, StepBy)> = lines
        .iter()
        .filter_map(|l| match &l.event {
            Event::StepEnd { n, by, .. } => Some((*n, *by)),
            _ => None,
        })
        .collect();
    assert_eq!(steps, [(1, StepBy::Script), (2, StepBy::Script)]);
    let s = journal::summarise(ID, &lines);
    assert_eq!(
        (
            s.started.as_str(),
            s.user.as_str(),
            s.result.as_str(),
            s.exit
        ),
        ("2026-03-02T09:00:00.000Z", "op", "unfinished", None)
    );
}

#[test]
fn what_an_older_dead_run_left_is_read_from_its_typed_events() {
    let (dir, _path) = folder();
    let dead = DeadRun::load(dir.path(), ID, "unwind").unwrap_or_else(|e| panic!("{e}"));
    // Pending: the routine described the old way; the new way's failed (left undone); the
    // script's defer was settled.
    assert_eq!(
        dead.pending
            .iter()
            .map(|p| (p.id, p.routine.clone()))
            .collect::<Vec<_>>(),
        [(
            1,
            Some(json!({"driver": "ldoms", "routine": "recover_migration", "guest": "guest2"}))
        )]
    );
    assert_eq!(dead.left.len(), 1, "{:?}", dead.left);
    let left = &dead.left[0];
    assert_eq!(
        (left.id, left.outcome.as_str(), left.by.as_str()),
        (2, "failed", "driver")
    );
    assert_eq!(
        left.routine,
        Some(json!({"procedure": "ldoms/recover-migration", "params": {"guest": "guest2"}}))
    );
    assert_eq!(
        left.unanswered,
        [(
            "guest2".to_string(),
            "cannot connect to guest2: refused".to_string()
        )]
    );
    // Locks: cd2 taken, cd3 released, cd4's mkdir killed before its end (may be made).
    assert_eq!(dead.locked, ["cd2", "cd4"]);
    // The migration's end was cut short by the crash: its outcome is unknown.
    assert_eq!(
        dead.unknown
            .iter()
            .map(|u| (u.seq, u.host.as_str(), u.command.as_str()))
            .collect::<Vec<_>>(),
        [(5, "cd2", "ldm migrate-domain guest2 cd3")]
    );
    assert_eq!(
        (dead.script(), dead.sha256()),
        ("ldoms/live-migration", "5e1f")
    );
    assert!(dead.params().contains(&("guest".into(), "guest2".into())));
    // Its completed steps replay, the one that returned `()` too.
    let c = Continuation::of(&dead, false);
    let replay = c.replay.expect("a resume replays");
    assert_eq!(
        replay.next("", "read the guest"),
        Some(json!({"guest": "guest2", "box": "cd2"}))
    );
    assert_eq!(
        replay.next("", "nothing to return"),
        Some(serde_json::Value::Null)
    );
    assert_eq!(replay.next("17.3.1.1", "migrate"), None);
    // The changes it saw end: none of the procedure's (the lock's own are bookkeeping).
    assert!(c.prior.is_empty(), "{:?}", c.prior);
}
