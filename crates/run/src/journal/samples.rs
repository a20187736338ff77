//! Test support: one sample of every event (the round-trip test) and events written the
//! short way, naming only the fields a test is about (the others empty, as a blank line of
//! that event has them).

use std::collections::BTreeMap;

use hascript_api::objects::Value;
use hascript_api::Effect;
use serde_json::json;

use super::event::{Event, Line, LoadKind, LockAction, Purpose, RunHeader, SiteRecord, StepBy};

/// One event of every kind, every optional field set (the round-trip test's).
pub(crate) fn samples() -> Vec<Event> {
    let s = |t: &str| t.to_string();
    vec![
        Event::Run(RunHeader {
            version: s("0.1.0"),
            user: s("op"),
            origin: s("admin1"),
            pid: 4242,
            script: s("ldoms/live-migration"),
            path: Some(s("/srv/ldoms/live-migration.rhai")),
            sha256: s("ab"),
            params: BTreeMap::from([(s("guest"), s("guest2")), (s("password"), s("*****"))]),
            site: SiteRecord::Sim {
                scenario: s("ldoms"),
                state: Some(s("/tmp/site")),
            },
            description: s("two boxes"),
            dry_run: true,
            resumed_from: Some(s("20260101T000000.000Z-000001")),
            unwinds: Some(s("20260101T000000.000Z-000002")),
        }),
        Event::Run(RunHeader {
            version: s("0.1.0"),
            user: s("op"),
            origin: s("admin1"),
            pid: 1,
            script: s("./my.rhai"),
            path: None,
            sha256: s("cd"),
            params: BTreeMap::new(),
            site: SiteRecord::Inventory {
                path: s("/etc/hascript/site.toml"),
                sha256: s("ef"),
            },
            description: String::new(),
            dry_run: false,
            resumed_from: None,
            unwinds: None,
        }),
        Event::Step {
            n: 1,
            section: s("17.3.1.1"),
            title: s("Stop"),
            by: StepBy::Driver,
        },
        Event::StepEnd {
            n: 1,
            section: s("17.3.1.1"),
            title: s("Stop"),
            by: StepBy::Script,
            ok: true,
            duration_ms: 12,
            value: Some(Value::Null),
            error: Some(s("boom")),
            replayed: true,
        },
        Event::ScriptLoaded {
            name: s("lib/ldoms/migration"),
            kind: LoadKind::Routine,
            origin: s("file"),
            path: Some(s("/srv/lib.rhai")),
            sha256: s("01"),
        },
        Event::RecoveryRegistered {
            id: 3,
            what: s("recover guest2"),
            routine: Some(
                json!({"procedure": "ldoms/recover-migration", "params": {"guest": "guest2"}}),
            ),
            rerunnable: true,
            inherited: true,
        },
        Event::RecoveryRun {
            id: 3,
            outcome: s("failed"),
            by: s("unwind"),
            detail: Some(s("no answer")),
        },
        Event::CommandStart {
            seq: 7,
            host: s("cd1"),
            command: s("ldm stop g"),
            effect: Effect::Change,
            purpose: Purpose::Lock,
        },
        Event::CommandEnd {
            seq: 7,
            host: s("cd1"),
            command: s("ldm stop g"),
            effect: Effect::Read,
            purpose: Purpose::Procedure,
            exit: Some(2),
            signal: Some(s("SIGKILL")),
            duration_ms: 30,
            stdout: s("out"),
            stderr: s("err"),
            stdout_b64: Some(s("/w==")),
            stderr_b64: Some(s("/g==")),
            cut_bytes: 9,
            stdin_bytes: 4,
            evidence: true,
            error: Some(s("refused")),
        },
        Event::Wait {
            what: s("cfguest2 DOWN"),
            elapsed_s: 60,
            remaining_s: 840,
            last_seen: Some(s("UP")),
            expected_s: Some(120),
            expected_from: Some(s("17.3.1.1")),
        },
        Event::WaitEnd {
            what: s("cfguest2 DOWN"),
            elapsed_s: 600,
            outcome: Some(s("not_reached")),
            last_seen: Some(s("UP")),
        },
        Event::Confirm {
            question: s("Go on?"),
            answer: Some(false),
            error: Some(s("no terminal")),
        },
        Event::Info {
            message: s("hello"),
        },
        Event::Check {
            check: s("toolkit package"),
            ok: false,
            detail: s("missing"),
            remedy: Some(s("install it")),
        },
        Event::Summary {
            subject: s("guest2"),
            state: json!({"state": "active", "box": "cd3"}),
        },
        Event::Warn {
            message: s("careful"),
        },
        Event::Exposure {
            what: s("shutdown facility"),
            seconds: 90,
        },
        Event::LogMark {
            host: s("cd1"),
            file: s("/var/adm/messages"),
            size: 1234,
        },
        Event::Lock {
            host: s("cd1"),
            action: LockAction::ReleaseFailed,
            holder: Some(s("op@admin1 run R")),
            detail: Some(s("unreachable")),
        },
        Event::Error {
            kind: s("check"),
            message: s("bad"),
            remedy: Some(s("fix")),
            host: Some(s("cd1")),
            command: Some(s("ldm ls")),
            location: Some(s("x.rhai:1:2")),
            report: Some(s("the whole report")),
        },
        Event::Plan {
            complete: false,
            outcome: s("stops"),
            entries: json!([{"change": 1}]),
        },
        Event::Result {
            result: s("check"),
            exit: 3,
            kind: Some(s("check")),
            changed: true,
            changes: 2,
            duration_ms: 1000,
        },
    ]
}

/// The required fields of event `name`, empty (`None` for an event this version lacks).
fn blank(name: &str) -> Option<Value> {
    let command =
        json!({"seq": 0, "host": "", "command": "", "effect": "change", "purpose": "procedure"});
    let mut v = match name {
        "run" => json!({"version": "", "user": "", "origin": "", "pid": 0, "script": "",
            "sha256": "", "params": {}, "site": {"kind": "sim", "scenario": ""},
            "description": "", "dry_run": false}),
        "step" => json!({"n": 0, "section": "", "title": "", "by": "script"}),
        "step_end" => json!({"n": 0, "section": "", "title": "", "ok": false, "duration_ms": 0}),
        "script_loaded" => json!({"name": "", "kind": "module", "origin": "shipped", "sha256": ""}),
        "recovery_registered" => json!({"id": 0, "what": "", "rerunnable": false}),
        "recovery_run" => json!({"id": 0, "outcome": "", "by": ""}),
        "command_start" => command,
        "command_end" => {
            let mut c = command;
            c["effect"] = json!("read");
            c["duration_ms"] = json!(0);
            c["stdout"] = json!("");
            c["stderr"] = json!("");
            c
        }
        "wait" => json!({"what": "", "elapsed_s": 0, "remaining_s": 0}),
        "wait_end" => json!({"what": "", "elapsed_s": 0}),
        "confirm" => json!({"question": ""}),
        "info" | "warn" => json!({"message": ""}),
        "check" => json!({"check": "", "ok": false, "detail": ""}),
        "summary" => json!({"subject": "", "state": {}}),
        "exposure" => json!({"what": "", "seconds": 0}),
        "log_mark" => json!({"host": "", "file": "", "size": 0}),
        "lock" => json!({"host": "", "action": "taken"}),
        "error" => json!({"kind": "", "message": ""}),
        "plan" => json!({"complete": false, "outcome": "", "entries": []}),
        "result" => {
            json!({"result": "", "exit": 0, "changed": false, "changes": 0, "duration_ms": 0})
        }
        _ => return None,
    };
    v["event"] = json!(name);
    Some(v)
}

/// The whole line of `short` (an object naming its `event` and some of its fields): the
/// other required fields empty.
pub(crate) fn complete(short: Value) -> Value {
    let name = short
        .get("event")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut v = blank(name).unwrap_or_else(|| panic!("no event {name:?}"));
    if let (Value::Object(m), Value::Object(s)) = (&mut v, short) {
        m.extend(s);
    }
    v
}

/// The event of `short` (see [`complete`]), read as a journal line is.
pub(crate) fn event(short: Value) -> Event {
    let v = complete(short);
    match Line::from_value(v.clone()) {
        Some(l) => l.event,
        None => panic!("not an event: {v}"),
    }
}
