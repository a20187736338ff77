//! Tests of the run journal.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use hascript_api::objects::Value;
use hascript_api::{Command, Error, Exec, Output};

use super::excerpt::journal_text;
use super::ids::id_chars;
use super::*;

fn read(path: &Path) -> Vec<Value> {
    read_lines(path).unwrap_or_default()
}

/// `book/src/events.schema.json`, or what the event types generate when
/// `HASCRIPT_WRITE_SCHEMA` is set (then written there).
fn committed_schema() -> (String, String) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../book/src/events.schema.json"
    );
    let want = events_schema();
    if std::env::var_os("HASCRIPT_WRITE_SCHEMA").is_some() {
        std::fs::write(path, &want).expect("write the schema");
    }
    (std::fs::read_to_string(path).unwrap_or_default(), want)
}

#[test]
fn events_schema_committed_is_what_the_event_types_generate() {
    let (have, want) = committed_schema();
    assert!(
            have == want,
            "book/src/events.schema.json differs from what the event types in crates/run/src/journal/event.rs generate; regenerate it with: HASCRIPT_WRITE_SCHEMA=1 cargo test -p hascript-run --lib events_schema"
        );
    let v: Value = serde_json::from_str(&have).expect("the schema is JSON");
    let text = v.to_string();
    assert!(text.contains("\"schema_version\""), "{text}");
    assert!(text.contains("\"summary\""), "{text}");
}

/// Every event type of the schema and every field of it, as (event, fields).
fn schema_events(schema: &Value) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let variants = schema["oneOf"].as_array().cloned().unwrap_or_default();
    for v in variants {
        let mut props = v["properties"].as_object().cloned().unwrap_or_default();
        // The `run` header's fields are a reference to its own definition.
        if let Some(r) = v["$ref"].as_str().and_then(|r| r.strip_prefix("#/$defs/")) {
            if let Some(more) = schema["$defs"][r]["properties"].as_object() {
                props.extend(more.clone());
            }
        }
        let Some(name) = props
            .get("event")
            .and_then(|e| e.get("const").or_else(|| e["enum"].get(0)))
            .and_then(Value::as_str)
        else {
            continue;
        };
        let fields = props.keys().filter(|k| *k != "event").cloned().collect();
        out.push((name.to_string(), fields));
    }
    out
}

#[test]
fn every_event_reads_back_as_written() {
    let samples = super::samples::samples();
    // One sample at least of every event the schema names.
    let (have, _) = committed_schema();
    let schema: Value = serde_json::from_str(&have).expect("the schema is JSON");
    let rec = Recorder::without_file("20260728T172600.123Z-3f9a1c", Vec::new());
    let mut seen = Vec::new();
    for e in &samples {
        let text = rec.render(e);
        let line = Line::parse(&text).unwrap_or_else(|| panic!("unreadable: {text}"));
        assert_eq!(&line.event, e, "{text}");
        assert_eq!(
            (line.run.as_str(), line.schema_version, line.ts.len()),
            ("20260728T172600.123Z-3f9a1c", SCHEMA_VERSION, 24),
            "{text}"
        );
        let v: Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(line.to_value().to_string(), text, "the line as written");
        seen.push(v["event"].as_str().unwrap_or_default().to_string());
        // And written again the same, field for field.
        let again = rec.render(&line.event);
        let no_ts = |t: &str| {
            t.get(t.find(",\"run\"").unwrap_or(0)..)
                .unwrap_or("")
                .to_string()
        };
        assert_eq!(no_ts(&again), no_ts(&text));
    }
    for (name, _) in schema_events(&schema) {
        assert!(seen.contains(&name), "no sample of {name}");
    }
    // A line cut short, a line of a later version's event and a line that is not JSON
    // are not events; a line written before schema version 1 (no `by`, no
    // `schema_version`) is.
    assert_eq!(Line::parse("{\"ts\":\"2026"), None);
    assert_eq!(Line::parse(r#"{"event":"from_the_future","x":1}"#), None);
    assert_eq!(Line::parse("not json"), None);
    let old = Line::parse(
        r#"{"ts":"t","run":"r","event":"step_end","n":1,"section":"","title":"a","ok":true,"duration_ms":1,"value":null}"#,
    )
    .map(|l| (l.schema_version, l.event));
    assert!(
        matches!(
            &old,
            Some((
                0,
                Event::StepEnd {
                    by: StepBy::Script,
                    value: Some(Value::Null),
                    ..
                }
            ))
        ),
        "{old:?}"
    );
}

#[test]
fn events_schema_every_event_and_field_is_in_the_book() {
    let schema: Value = serde_json::from_str(&events_schema()).expect("JSON");
    let events = schema_events(&schema);
    assert!(events.len() >= 19, "{events:?}");
    let book = include_str!("../../../../book/src/running-safely.md");
    let mut missing = Vec::new();
    for field in ["ts", "run", "schema_version", "event"] {
        if !book.contains(&format!("| `{field}` |")) {
            missing.push(format!("line field {field}"));
        }
    }
    for (event, fields) in &events {
        // `| `event` |` or `| `a` / `b` |` rows of the event table.
        let row = book
            .lines()
            .skip_while(|l| !l.starts_with("| `event` | fields |"))
            .find(|l| {
                l.starts_with("| `")
                    && l.split('|')
                        .nth(1)
                        .is_some_and(|c| c.split('/').any(|n| n.trim() == format!("`{event}`")))
            });
        let Some(row) = row else {
            missing.push(format!("event {event}"));
            continue;
        };
        let doc = row.split('|').nth(2).unwrap_or("");
        for f in fields {
            if !doc.contains(&format!("`{f}`")) {
                missing.push(format!("{event}.{f}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "book/src/running-safely.md (\"--output json\") does not document: {missing:?}"
    );
}

#[test]
fn ids_and_times_are_utc_and_sortable() {
    // 2026-07-28 17:26:00.123 UTC
    let t = Duration::from_millis(1_785_259_560_123);
    assert_eq!(rfc3339(t), "2026-07-28T17:26:00.123Z");
    assert_eq!(run_id_at(t, 0x3f9a1c), "20260728T172600.123Z-3f9a1c");
    assert_eq!(rfc3339(Duration::ZERO), "1970-01-01T00:00:00.000Z");
    assert_eq!(
        rfc3339(Duration::from_secs(951_782_400)),
        "2000-02-29T00:00:00.000Z"
    );
    let a = run_id_at(Duration::from_secs(1_785_259_560), 0xffffff);
    let b = run_id_at(Duration::from_secs(1_785_259_561), 0);
    assert!(a < b);
    let id = new_run_id();
    assert!(id_chars(&id) && id.len() == 27, "{id}");
}

#[test]
fn redactor_hides_secrets_in_every_string_and_key() {
    let r = Redactor::new();
    r.add("s3cret");
    r.add("");
    let mut v = serde_json::json!({"a": "x s3cret y", "s3cret": ["s3cret", 1]});
    r.redact_value(&mut v);
    assert_eq!(
        v,
        serde_json::json!({"a": "x ***** y", "*****": ["*****", 1]})
    );
    assert!(secret_param_name("storepass_client") && secret_param_name("Password"));
    assert!(!secret_param_name("guest"));
}

#[test]
fn byte_excerpts_keep_head_and_tail_and_whole_characters() {
    assert_eq!(excerpt_bytes(b"short", 10), (b"short".to_vec(), 0));
    let mut long = "é".repeat(60).into_bytes();
    long.extend_from_slice(&[0xff; 60]);
    let (b, cut) = excerpt_bytes(&long, 41);
    let text = String::from_utf8_lossy(&b);
    assert!(
        text.starts_with("éééé") && !text.starts_with("é\u{fffd}"),
        "{text}"
    );
    assert!(b.ends_with(&[0xff; 20]) && cut == 180 - 40, "{text} {cut}");
    let (b, _) = excerpt_bytes("é".repeat(60).as_bytes(), 43);
    let text = String::from_utf8(b).unwrap_or_default();
    assert!(text.starts_with("éé") && text.ends_with("éé"), "{text}");
    let (t, b64, n) = journal_text(&[b'a', 0xff, b'\n'], 100);
    assert_eq!(
        (t.as_str(), b64.as_deref(), n),
        ("a\u{fffd}\n", Some("Yf8K"), 0)
    );
    assert_eq!(journal_text(b"ok", 100), ("ok".to_string(), None, 0));
}

#[test]
fn excerpts_keep_head_and_tail() {
    let (s, cut) = excerpt("short", 10);
    assert_eq!((s.as_str(), cut), ("short", 0));
    let long = format!("{}{}", "a".repeat(100), "é".repeat(100));
    let (s, cut) = excerpt(&long, 40);
    assert!(
        s.starts_with("aaaa") && s.ends_with("é") && cut > 200,
        "{s}"
    );
}

#[test]
fn evidence_commands_are_recognised() {
    assert!(is_evidence(&Command::read(
        "g",
        &["/opt/SMAW/bin/cftool", "-n"]
    )));
    assert!(is_evidence(&Command::read(
        "cd",
        &["/usr/sbin/ldm", "list", "-p"]
    )));
    assert!(is_evidence(&Command::read(
        "n",
        &["/usr/sbin/cmviewcl", "-v", "-f", "line"]
    )));
    assert!(is_evidence(&Command::read(
        "n",
        &["cat", "/etc/cmcluster/slvm1/slvm1.conf"]
    )));
    assert!(!is_evidence(&Command::read("n", &["cat", "/etc/passwd"])));
    assert!(!is_evidence(&Command::change(
        "g",
        &["/opt/SMAW/bin/sdtool", "-s"]
    )));
    assert!(!is_evidence(&Command::read(
        "cd",
        &["/usr/sbin/ldm", "list-domain"]
    )));
}

/// Reads the journal when a command arrives, to see what was on disk before it left.
struct Peek {
    path: PathBuf,
    seen: Mutex<Vec<Vec<Value>>>,
}
impl Exec for Peek {
    fn exec(&self, cmd: &Command) -> Result<Output, Error> {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(read(&self.path));
        Ok(Output::new(0, format!("out of {} s3cret\n", cmd.host), ""))
    }
}

#[test]
fn a_change_is_on_disk_before_it_is_sent_and_its_outcome_after() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let rec = Recorder::create(dir.path(), "20260728T172600Z-000001", Vec::new())
        .unwrap_or_else(|e| panic!("{e}"));
    rec.redactor().add("s3cret");
    let path = rec.path().map(Path::to_path_buf).unwrap_or_default();
    let peek = Peek {
        path: path.clone(),
        seen: Mutex::new(Vec::new()),
    };
    let r = rec.exec(
        &peek,
        &Command::read("cd1", &["/usr/sbin/ldm", "list", "-p"]),
        Purpose::Procedure,
    );
    assert!(r.is_ok());
    let r = rec.exec(
        &peek,
        &Command::change("cd1", &["/usr/sbin/ldm", "migrate-domain", "g", "cd2"]),
        Purpose::Procedure,
    );
    assert!(r.is_ok());
    let seen = peek.seen.lock().unwrap_or_else(|p| p.into_inner()).clone();
    // Before the read: nothing of it on disk (reads are journaled after).
    assert!(seen[0].is_empty(), "{:?}", seen[0]);
    // Before the change: its command_start is on disk, its end is not.
    let before = &seen[1];
    let last = before.last().cloned().unwrap_or(Value::Null);
    assert_eq!(last["event"], "command_start");
    assert_eq!(last["seq"], 2);
    assert_eq!(last["command"], "/usr/sbin/ldm migrate-domain g cd2");
    assert!(!before
        .iter()
        .any(|l| l["event"] == "command_end" && l["seq"] == 2));
    let after = read(&path);
    let end = after.last().cloned().unwrap_or(Value::Null);
    assert_eq!(end["event"], "command_end");
    assert_eq!(end["seq"], 2);
    assert_eq!(end["exit"], 0);
    // The read is evidence, complete; secrets hidden in every line.
    let ev = &after[0];
    assert_eq!(ev["evidence"], true);
    assert_eq!(ev["stdout"], "out of cd1 *****\n");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(!text.contains("s3cret"), "{text}");
    assert_eq!(rec.changes(), 1);
    rec.result(0, None);
    let lines = read_events(&path).unwrap_or_default();
    let s = summarise("x", &lines);
    assert_eq!((s.result.as_str(), s.exit), ("ok", Some(0)));
    // The file is private.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path)
        .map(|m| m.permissions().mode())
        .unwrap_or(0);
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn a_journal_without_result_is_unfinished_and_ids_match_by_prefix() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for id in [
        "20260728T172600Z-aaaaaa",
        "20260728T172600Z-aaaabb",
        "20260729T000000Z-cccccc",
    ] {
        let rec = Recorder::create(dir.path(), id, Vec::new()).unwrap_or_else(|e| panic!("{e}"));
        rec.step("A0", "preflight");
        if id.ends_with("cccccc") {
            rec.result(3, Some("check"));
        }
    }
    // A line cut short by a crash is skipped.
    let p = dir.path().join("20260728T172600Z-aaaaaa.jsonl");
    let mut f = OpenOptions::new()
        .append(true)
        .open(&p)
        .unwrap_or_else(|e| panic!("{e}"));
    let _ = f.write_all(b"{\"ts\":\"2026");
    let runs = list(dir.path()).unwrap_or_default();
    let r: Vec<(&str, &str, Option<i32>)> = runs
        .iter()
        .map(|r| (r.id.as_str(), r.result.as_str(), r.exit))
        .collect();
    assert_eq!(
        r,
        [
            ("20260728T172600Z-aaaaaa", "unfinished", None),
            ("20260728T172600Z-aaaabb", "unfinished", None),
            ("20260729T000000Z-cccccc", "check", Some(3)),
        ]
    );
    assert!(find(dir.path(), "20260729").is_ok());
    let e = find(dir.path(), "20260728T172600Z-aaaa")
        .err()
        .unwrap_or_default();
    assert!(e.contains("matches 2 runs"), "{e}");
    let e = find(dir.path(), "1999").err().unwrap_or_default();
    assert!(
        e.contains("no run \"1999\"") && e.contains("journal list"),
        "{e}"
    );
    assert!(find(dir.path(), "../x").is_err());
    assert!(Recorder::create(dir.path(), "20260729T000000Z-cccccc", Vec::new()).is_err());
}

#[test]
fn sinks_receive_each_event_typed_with_its_secrets_hidden() {
    struct Seen(Mutex<Vec<(String, Event)>>);
    impl EventSink for Seen {
        fn line(&self, line: &str, event: &Event) {
            self.0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((line.to_string(), event.clone()));
        }
    }
    let seen = std::sync::Arc::new(Seen(Mutex::new(Vec::new())));
    let rec = Recorder::without_file("R", vec![seen.clone()]);
    // A secret that is also a word of the schema (`effect: change`) hides nothing of it.
    rec.redactor().add_all(&["s3cret", "change"]);
    let start = Event::CommandStart {
        seq: 1,
        host: "cd1".into(),
        command: "login s3cret".into(),
        effect: hascript_api::Effect::Change,
        purpose: Purpose::Procedure,
    };
    let _ = rec.write(&start, false);
    let got = seen.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
    assert_eq!(got.len(), 1);
    let (line, event) = &got[0];
    assert!(!line.contains("s3cret"), "{line}");
    assert_eq!(
        event,
        &Event::CommandStart {
            seq: 1,
            host: "cd1".into(),
            command: "login *****".into(),
            effect: hascript_api::Effect::Change,
            purpose: Purpose::Procedure,
        }
    );
}

#[test]
fn a_script_loaded_line_reads_back_as_the_script_it_names() {
    use crate::scripts::{LoadKind, Loaded, Origin};
    let m = Loaded {
        name: "lib/m".into(),
        kind: LoadKind::Module,
        origin: Origin::SearchPath,
        path: Some("/site/procedures/lib/m.rhai".into()),
        sha256: crate::scripts::sha256_hex(b"fn f() { 1 }\n"),
    };
    let line = serde_json::json!({"event": "script_loaded", "name": "lib/m", "kind": "module",
        "origin": "hascript_path", "path": "/site/procedures/lib/m.rhai", "sha256": m.sha256});
    let line = crate::journal::Line::from_value(line).expect("a script_loaded line");
    assert_eq!(line.event.loaded(), Some(m));
    let other = serde_json::json!({"event": "result", "exit": 0, "result": "ok",
        "changed": false, "changes": 0, "duration_ms": 5});
    let other = crate::journal::Line::from_value(other).expect("a result line");
    assert_eq!(other.event.loaded(), None);
}
