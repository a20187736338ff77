//! JSON events an integrator can rely on (issue 14, item 3), through the binary: every line
//! of every shipped procedure's run (`--output json`) on its simulated site, and of a few
//! failing scenarios, validates against the committed JSON Schema
//! (`book/src/events.schema.json`, generated from the event types) with `schema_version`;
//! preflights give one `check` event per item, drivers' own steps a `step`/`step_end` pair
//! marked `by: "driver"`, `summary(...)` a `summary` event with the state map, and the error
//! that ends a run its message, remedy, host, command and script location as fields.

mod sim_support;

use serde_json::Value;
use sim_support::{run_json, JsonRun, Site};

/// The committed schema, made strict for the test: a field the schema does not name fails
/// (`unevaluatedProperties`), so nothing is written that the schema does not describe.
fn validator() -> jsonschema::Validator {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/book/src/events.schema.json");
    let text = std::fs::read_to_string(path).expect("book/src/events.schema.json");
    let mut schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
    schema["unevaluatedProperties"] = Value::Bool(false);
    jsonschema::validator_for(&schema).expect("a valid JSON Schema")
}

/// Every line of `run` valid against the schema, with `schema_version` 1.
fn assert_valid(v: &jsonschema::Validator, run: &JsonRun) {
    assert!(!run.events.is_empty(), "{}", run.dump());
    for e in &run.events {
        let errors: Vec<String> = v.iter_errors(e).map(|x| x.to_string()).collect();
        assert!(
            errors.is_empty(),
            "{}: line {e} does not match the schema: {errors:?}",
            run.what
        );
        assert_eq!(e["schema_version"], 1, "{}: {e}", run.what);
    }
}

struct Case {
    script: &'static str,
    scenario: &'static str,
    setup: &'static [(&'static str, &'static [&'static str])],
    params: &'static [&'static str],
    /// The exit code the run gives.
    exit: i32,
}

const fn case(
    script: &'static str,
    scenario: &'static str,
    setup: &'static [(&'static str, &'static [&'static str])],
    params: &'static [&'static str],
    exit: i32,
) -> Case {
    Case {
        script,
        scenario,
        setup,
        params,
        exit,
    }
}

const LDOMS_PRE: (&str, &[&str]) = ("ldoms/pre-migration", &["guest=guest2", "target=cd3"]);

/// Every shipped procedure on its simulated site, and failing scenarios.
const CASES: &[Case] = &[
    case(
        "ldoms/live-migration",
        "ldoms",
        &[],
        &["guest=guest2", "target=cd3"],
        0,
    ),
    case(
        "ldoms/live-migration",
        "ldoms/migration-aborted-guest-stopped",
        &[],
        &["guest=guest2", "target=cd3"],
        1,
    ),
    case(
        "ldoms/live-migration",
        "ldoms/unhealthy-cluster",
        &[],
        &["guest=guest2", "target=cd3"],
        3,
    ),
    case(
        "ldoms/pre-migration",
        "ldoms",
        &[],
        &["guest=guest2", "target=cd3"],
        0,
    ),
    case(
        "ldoms/post-migration",
        "ldoms",
        &[LDOMS_PRE],
        &["guest=guest2"],
        0,
    ),
    case(
        "ldoms/recover-migration",
        "ldoms",
        &[LDOMS_PRE],
        &["guest=guest2"],
        0,
    ),
    case("ldoms/verify-fence", "ldoms", &[], &[], 0),
    case("examples/evacuate-host", "ldoms", &[], &["host=cd2"], 0),
    case("examples/evacuate-host", "hpvm", &[], &["host=node1"], 3),
    case(
        "hpvm/add-app-monitor",
        "hpvm",
        &[],
        &[
            "package=slvm1",
            "appmon=xclock:/usr/bin/X11/xclock -display 16.213.12.70:0.0:240:none:300",
        ],
        0,
    ),
    case(
        "hpvm/convert-package",
        "hpvm/old-toolkit-package",
        &[],
        &["package=slvm1", "mode=offline"],
        0,
    ),
    case("hpvm/deploy-package", "hpvm", &[], &["package=slvm2"], 0),
    case("hpvm/diagnose", "hpvm", &[], &["package=slvm1"], 0),
    case("hpvm/halt-package", "hpvm", &[], &["package=slvm1"], 0),
    case(
        "hpvm/maintenance",
        "hpvm",
        &[],
        &["package=slvm1", "state=on"],
        0,
    ),
    case(
        "hpvm/move-package",
        "hpvm",
        &[],
        &["package=slvm1", "target=node2"],
        0,
    ),
    case(
        "hpvm/move-package",
        "hpvm/hpvmmigrate-fails",
        &[],
        &["package=slvm1", "target=node2"],
        1,
    ),
    case(
        "hpvm/move-package",
        "hpvm/nfs-backing-store",
        &[],
        &["package=slvm1", "target=node2"],
        3,
    ),
    case("hpvm/recover-move", "hpvm", &[], &["package=slvm1"], 0),
    case("hpvm/remove-package", "hpvm", &[], &["package=slvm1"], 0),
    case(
        "hpvm/run-package",
        "hpvm",
        &[("hpvm/halt-package", &["package=slvm1"])],
        &["package=slvm1"],
        0,
    ),
    case(
        "hpvm/upgrade-appmon-live",
        "hpvm/appmon-upgrade",
        &[],
        &["unique_commands=yes"],
        3,
    ),
    case(
        "hpvm/upgrade-appmon-restart",
        "hpvm/appmon-upgrade",
        &[],
        &[],
        3,
    ),
    case(
        "hpvm/install-cmappserver",
        "hpvm",
        &[],
        &["package=slvm2"],
        0,
    ),
    case(
        "hpvm/setup-appmon-keys",
        "hpvm",
        &[],
        &["package=slvm1", "regenerate=yes"],
        0,
    ),
    case(
        "hpvm/test-app-monitor",
        "hpvm",
        &[(
            "hpvm/add-app-monitor",
            &["package=slvm1", "appmon=ping_mon:/apps/ping_mon:240:2:300"],
        )],
        &["package=slvm1"],
        0,
    ),
];

/// The shipped procedures, from `hascript list`.
fn shipped() -> Vec<String> {
    let out = sim_support::hascript(&["list"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .skip_while(|l| !l.starts_with("Procedures"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        // Each procedure's parameters follow on a line of their own: `(required: …)`.
        .filter(|w| !w.starts_with('('))
        .collect()
}

fn run_case(c: &Case) -> JsonRun {
    let site = Site::new(Some(c.scenario));
    for (script, params) in c.setup {
        let r = run_json(&site, script, params, &["--yes"]);
        assert_eq!(r.code, 0, "setup: {}", r.dump());
    }
    let r = run_json(&site, c.script, c.params, &["--yes"]);
    assert_eq!(
        r.code,
        c.exit,
        "{} on {}: {}",
        c.script,
        c.scenario,
        r.dump()
    );
    r
}

#[test]
fn every_event_of_every_shipped_procedure_matches_the_schema() {
    let names = shipped();
    assert!(names.len() >= 18, "{names:?}");
    for n in &names {
        assert!(
            CASES.iter().any(|c| c.script == n),
            "{n} is shipped but not run here: add it to CASES"
        );
    }
    let v = validator();
    let runs: Vec<JsonRun> = std::thread::scope(|s| {
        let hs: Vec<_> = CASES
            .chunks(CASES.len().div_ceil(2))
            .map(|chunk| s.spawn(move || chunk.iter().map(run_case).collect::<Vec<_>>()))
            .collect();
        hs.into_iter()
            .flat_map(|h| h.join().expect("no panic"))
            .collect()
    });
    for by in ["script", "driver"] {
        assert!(
            runs.iter()
                .any(|r| r.of("step").iter().any(|s| s["by"] == by)),
            "no step by {by}"
        );
    }
    for r in &runs {
        assert_valid(&v, r);
        // Every step that starts ends, once, with the same `by`.
        for s in r.of("step") {
            let ends: Vec<&Value> = r
                .of("step_end")
                .into_iter()
                .filter(|e| e["n"] == s["n"])
                .collect();
            assert_eq!(ends.len(), 1, "{}: step {s} ends once", r.what);
            assert_eq!(ends[0]["by"], s["by"], "{}: {s}", r.what);
        }
    }
}

#[test]
fn the_schema_rejects_a_line_it_does_not_describe() {
    let v = validator();
    let ok = serde_json::json!({"ts": "2026-07-28T17:26:00.123Z", "run": "r", "schema_version": 1, "event": "info", "message": "m"});
    assert!(v.is_valid(&ok));
    for bad in [
        serde_json::json!({"ts": "t", "run": "r", "event": "info", "message": "m"}),
        serde_json::json!({"ts": "t", "run": "r", "schema_version": 1, "event": "info"}),
        serde_json::json!({"ts": "t", "run": "r", "schema_version": 1, "event": "nope"}),
        serde_json::json!({"ts": "t", "run": "r", "schema_version": 1, "event": "info", "message": "m", "extra": 1}),
        serde_json::json!({"ts": "t", "run": "r", "schema_version": 1, "event": "check", "check": "c", "ok": "yes", "detail": "d"}),
    ] {
        assert!(!v.is_valid(&bad), "{bad}");
    }
}

#[test]
fn preflight_items_driver_steps_summary_and_error_fields_are_structured() {
    // The LDoms run: a `check` per preflight item, the driver's steps, the end state.
    let ok = run_case(&CASES[0]);
    let checks = ok.of("check");
    assert!(checks.len() >= 5, "{}", ok.dump());
    assert!(
        checks
            .iter()
            .all(|c| c["ok"] == true && c["check"].is_string() && c["detail"].is_string()),
        "{}",
        ok.dump()
    );
    // Preflight items are no longer preformatted `info` text.
    assert!(
        !ok.of("info")
            .iter()
            .any(|i| i["message"].as_str().unwrap_or("").starts_with("  ok ")),
        "{}",
        ok.dump()
    );
    // The manual's steps are the script's (issue 12: the sequence is in the script), each a
    // `step` with its section and a closing `step_end`.
    let steps: Vec<&Value> = ok
        .of("step")
        .into_iter()
        .filter(|s| s["by"] == "script")
        .collect();
    let sections: Vec<&str> = steps.iter().filter_map(|s| s["section"].as_str()).collect();
    for want in [
        "A0",
        "17.3.1.1",
        "17.3.1.2 step 1",
        "17.3.1.2 step 2",
        "17.3.1.2 note",
    ] {
        assert!(
            sections.contains(&want),
            "{want}: {sections:?}\n{}",
            ok.dump()
        );
    }
    assert!(
        ok.of("step_end")
            .iter()
            .any(|s| s["by"] == "script" && s["ok"] == true && s["duration_ms"].is_u64()),
        "{}",
        ok.dump()
    );
    let summary = ok.of("summary");
    assert_eq!(summary.len(), 1, "{}", ok.dump());
    assert_eq!(summary[0]["subject"], "guest2", "{}", ok.dump());
    assert!(summary[0]["state"].is_object(), "{}", ok.dump());

    // A failed preflight: the failed item with its remedy, and the error in fields.
    let bad = run_case(&CASES[2]);
    let failed: Vec<&Value> = bad
        .of("check")
        .into_iter()
        .filter(|c| c["ok"] == false)
        .collect();
    assert!(!failed.is_empty(), "{}", bad.dump());
    assert!(
        failed.iter().all(|c| c["remedy"].is_string()),
        "{}",
        bad.dump()
    );
    let err = bad.of("error");
    assert_eq!(err.len(), 1, "{}", bad.dump());
    let e = err[0];
    assert_eq!(e["kind"], "check", "{e}");
    let msg = e["message"].as_str().unwrap_or("");
    assert!(msg.starts_with("preflight failed"), "{e}");
    assert!(
        !msg.contains("-->"),
        "the message is not the whole report: {e}"
    );
    assert!(e["remedy"].is_string(), "{e}");
    // Where the error arose: the procedure, or the module of shared steps it imports
    // (the preflight's verdict is `run_checks` in lib/ldoms/migration).
    let loc = e["location"].as_str().unwrap_or("");
    assert!(
        loc.starts_with("ldoms/live-migration") || loc.starts_with("lib/ldoms/migration"),
        "{e}"
    );
    // The human report is kept; a shipped procedure's names its manual step, not its
    // source location (that is in `location`, and behind -v).
    let report = e["report"].as_str().unwrap_or("");
    assert!(
        report.starts_with("error: preflight failed")
            && report.contains("procedure: ldoms/live-migration (manual 17.3.1)"),
        "the human report is kept: {e}"
    );

    // A driver's error about a command: its host and command.
    let cmd = run_case(&case(
        "hpvm/add-app-monitor",
        "hpvm/old-serviceguard",
        &[],
        &["package=slvm1", "appmon=ping_mon:/apps/ping_mon:240:2:300"],
        3,
    ));
    let e = cmd.of("error");
    assert_eq!(e.len(), 1, "{}", cmd.dump());
    assert_eq!(e[0]["host"], "node1", "{}", cmd.dump());
    assert!(
        e[0]["command"].as_str().unwrap_or("").contains("cmviewcl"),
        "{}",
        cmd.dump()
    );
    assert!(e[0]["remedy"].is_string(), "{}", cmd.dump());
}
