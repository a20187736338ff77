//! What a state folder costs and how it stays right (issue 11 item 11): a command that
//! only reads writes nothing, one that changes the site writes `site.json` once, the
//! command log stays bounded, and a handle's in-memory state never hides what another
//! process changed.

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

use common::*;
use hascript_sim::SimSite;

/// Which `site.json` is there: inode, size, modification time.
fn stamp(dir: &Path) -> (u64, u64, i64, i64) {
    let m = std::fs::metadata(dir.join("site.json")).expect("site.json");
    (m.ino(), m.size(), m.mtime(), m.mtime_nsec())
}

fn folder_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").metadata().expect("metadata").len())
        .sum()
}

#[test]
fn the_command_log_of_a_folder_stays_bounded_and_keeps_the_newest() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("site");
    let s = SimSite::open_or_create(&dir, None).expect("create");
    // 60 commands of 64 KiB each: almost 4 MiB of log.
    let pad = "x".repeat(64 * 1024);
    let n = 60;
    for i in 1..=n {
        ok(&s, "cd1", &format!("echo {i} {pad}"));
    }
    let size = folder_size(&dir);
    assert!(
        size < 5 * 512 * 1024,
        "the folder holds {size} bytes after {n} commands of 64 KiB: the log must be capped"
    );
    let log = s.command_log();
    let last = log.last().expect("log");
    assert_eq!(last.line, format!("echo {n} {pad}"), "the newest is kept");
    assert_eq!(last.seq, n);
    assert!(log[0].seq > 1, "the oldest commands were dropped");
    assert!(
        log.len() >= 16,
        "at least a megabyte of the newest is kept ({} commands)",
        log.len()
    );
    for w in log.windows(2) {
        assert_eq!(w[1].seq, w[0].seq + 1, "no gap in what is kept");
        assert!(w[1].line.starts_with(&format!("echo {} ", w[1].seq)));
    }
    // Another process sees the same log.
    let other = SimSite::open(&dir).expect("open");
    assert_eq!(other.command_log(), log);
}

#[test]
fn a_read_writes_nothing_and_each_change_writes_site_json_once() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("site");
    let s = SimSite::open_or_create(&dir, None).expect("create");
    let before = stamp(&dir);
    let g0 = s.state_generation().expect("generation");
    let reads = [
        ("cd2", "LC_ALL=C /usr/sbin/ldm list -p"),
        ("cd2", "ldm list-spconfig"),
        ("guest1", "/opt/SMAW/bin/cfset -a"),
        ("guest1", "LC_ALL=C /opt/SMAW/bin/sdtool -s"),
        ("guest1", "LC_ALL=C /opt/SMAW/bin/cftool -n"),
        ("cd1", "cat /etc/inet/hosts"),
        ("cd1", "hostname"),
    ];
    for (h, l) in reads {
        ok(&s, h, l);
    }
    assert_eq!(s.clock().now(), Duration::from_secs(START));
    assert_eq!(
        stamp(&dir),
        before,
        "commands that only read never rewrite site.json"
    );
    assert_eq!(s.state_generation(), Some(g0));
    // What they sent is logged all the same, also for another process.
    let logged: Vec<String> = SimSite::open(&dir)
        .expect("open")
        .command_log()
        .into_iter()
        .map(|c| c.line)
        .collect();
    assert_eq!(logged, reads.map(|(_, l)| l.to_string()));

    // Each change: one write.
    let changes = [
        ("cd2", "/etc/opt/FJSVcluster/bin/clovmmigrate -p guest2"),
        ("cd2", "ldm migrate-domain guest2 cd3"),
        ("cd1", "mkdir /var/tmp/marker"),
    ];
    let mut g = g0;
    let mut last = before;
    for (h, l) in changes {
        ok(&s, h, l);
        g += 1;
        assert_eq!(s.state_generation(), Some(g), "{h}$ {l}: one write");
        assert_ne!(stamp(&dir), last, "{h}$ {l}: site.json replaced");
        last = stamp(&dir);
    }
    sleep(&s, 100);
    assert_eq!(s.state_generation(), Some(g + 1), "a clock step: one write");
    // Reading the result writes nothing again.
    let after = stamp(&dir);
    assert!(ok(&s, "guest1", "/opt/SMAW/bin/cfset -a").contains("VALUE: 600\n"));
    assert!(ldm_record(&s, "cd3", "guest2").is_some());
    assert_eq!(stamp(&dir), after);
    assert_eq!(s.state_generation(), Some(g + 1));
    assert_eq!(s.command_log().len(), reads.len() + changes.len() + 2);
}

#[test]
fn what_another_process_changed_between_two_commands_is_seen() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("site");
    let a = SimSite::open_or_create(&dir, None).expect("create");
    // `b` has its own lock file handle and its own copy in memory, like another process.
    let b = SimSite::open(&dir).expect("open");
    assert_ne!(a.exec_line("cd1", "cat /var/tmp/marker").code(), 0);
    let o = b.exec_line_with_stdin("cd1", "dd of=/var/tmp/marker", Some(b"one\n"));
    assert_eq!(o.code(), 0, "{}", o.stderr);
    assert_eq!(ok(&a, "cd1", "cat /var/tmp/marker"), "one\n");
    // A change of `a` on top keeps `b`'s.
    ok(&a, "cd1", "mkdir /var/tmp/second");
    assert_eq!(ok(&b, "cd1", "cat /var/tmp/marker"), "one\n");
    assert_ne!(
        b.exec_line("cd1", "mkdir /var/tmp/second").code(),
        0,
        "b sees a's mkdir"
    );
    // The clock too.
    sleep(&b, 30);
    assert_eq!(elapsed(&a), 30);
    sleep(&a, 30);
    assert_eq!(elapsed(&b), 60);
    // Both logged every command once, in order.
    let lines: Vec<String> = a.command_log().into_iter().map(|c| c.line).collect();
    assert_eq!(
        lines,
        [
            "cat /var/tmp/marker",
            "dd of=/var/tmp/marker",
            "cat /var/tmp/marker",
            "mkdir /var/tmp/second",
            "cat /var/tmp/marker",
            "mkdir /var/tmp/second",
        ]
    );
    assert_eq!(b.command_log(), a.command_log());
}

#[test]
fn log_lines_a_crash_left_uncommitted_never_count() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("site");
    let s = SimSite::open_or_create(&dir, None).expect("create");
    ok(&s, "cd1", "hostname");
    ok(&s, "cd1", "mkdir /var/tmp/a");
    // A process killed after appending its line, before committing it (the header or
    // site.json), and one killed in the middle of writing a line.
    let mut log = std::fs::read(dir.join("commands.log")).expect("log");
    log.extend_from_slice(
        b"{\"seq\":3,\"time\":1,\"host\":\"cd1\",\"line\":\"mkdir /never\",\"exit\":0}\n",
    );
    log.extend_from_slice(b"{\"seq\":4,\"time\":1,\"ho");
    std::fs::write(dir.join("commands.log"), log).expect("write");
    let other = SimSite::open(&dir).expect("open");
    let lines = |s: &SimSite| -> Vec<(u64, String)> {
        s.command_log()
            .into_iter()
            .map(|c| (c.seq, c.line))
            .collect()
    };
    assert_eq!(
        lines(&other),
        [(1, "hostname".to_string()), (2, "mkdir /var/tmp/a".into())]
    );
    // The next commands take those numbers, after the torn line.
    ok(&other, "cd1", "echo three");
    ok(&s, "cd1", "mkdir /var/tmp/b");
    let want = [
        (1, "hostname".to_string()),
        (2, "mkdir /var/tmp/a".into()),
        (3, "echo three".into()),
        (4, "mkdir /var/tmp/b".into()),
    ];
    assert_eq!(lines(&s), want);
    assert_eq!(lines(&SimSite::open(&dir).expect("open")), want);
}

#[test]
fn a_folder_in_the_older_format_keeps_its_log() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("site");
    let s = SimSite::open_or_create(&dir, None).expect("create");
    drop(s);
    // Format 1 kept the log in site.json and had no generation in site.lock.
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("site.json")).expect("read")).expect("json");
    v["format"] = 1.into();
    v["log"] = serde_json::json!([
        {"time": START, "host": "cd1", "line": "hostname", "exit": 0},
        {"time": START, "host": "cd2", "line": "ldm list -p", "exit": 0},
    ]);
    if let Some(m) = v.as_object_mut() {
        m.remove("logged");
    }
    std::fs::write(dir.join("site.json"), v.to_string()).expect("write");
    std::fs::write(dir.join("site.lock"), "").expect("write");
    let s = SimSite::open(&dir).expect("open");
    let lines =
        |s: &SimSite| -> Vec<String> { s.command_log().into_iter().map(|c| c.line).collect() };
    assert_eq!(lines(&s), ["hostname", "ldm list -p"]);
    let seqs: Vec<u64> = s.command_log().iter().map(|c| c.seq).collect();
    assert_eq!(seqs, [1, 2]);
    ok(&s, "cd1", "echo after");
    assert_eq!(lines(&s), ["hostname", "ldm list -p", "echo after"]);
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("site.json")).expect("read")).expect("json");
    assert_eq!(v["format"], 2);
    assert!(v.get("log").is_none(), "the log moved to commands.log");
    let seqs: Vec<u64> = SimSite::open(&dir)
        .expect("open")
        .command_log()
        .iter()
        .map(|c| c.seq)
        .collect();
    assert_eq!(seqs, [1, 2, 3]);
}
