//! B5's recovery decision, `decide` of scripts/lib/hpvm/move.rhai (it was
//! `procedure/decide.rs::decide_recovery` in Rust, with these cases as its unit tests): a
//! pure function of an observation as `package.observe` returns it. Each case of the table
//! builds the observation, runs `m::decide(o)` in the engine (the shipped module, imported
//! as a script imports it) and checks the action and what it says.

use std::sync::Arc;

use hascript::engine::{self, RunEnv};
use hascript_testkit::Recorder;
use serde_json::{json, Value};

/// A guest's presence on a VM host, as `package.observe` words it (`detail` for the last
/// two).
#[derive(Clone, Copy)]
enum P {
    On,
    Off,
    NotRunnable,
    Absent,
    Transitional(&'static str),
    Unreadable(&'static str),
}

/// The package as `cmviewcl` shows it: `run` (up, down, moving), owner, autorun.
#[derive(Clone)]
struct Pkg {
    run: &'static str,
    owner: Option<&'static str>,
    autorun: bool,
    old_toolkit: bool,
    switching_on: &'static [&'static str],
}

fn pkg(run: &'static str, owner: Option<&'static str>, autorun: bool) -> Option<Pkg> {
    Some(Pkg {
        run,
        owner,
        autorun,
        old_toolkit: false,
        switching_on: &["node1", "node2"],
    })
}

fn old(p: Option<Pkg>, switching_on: &'static [&'static str]) -> Option<Pkg> {
    p.map(|p| Pkg {
        old_toolkit: true,
        switching_on,
        ..p
    })
}

/// The observation of slvm1 on node1 (`n1`) and node2 (`n2`), a move from `source` to
/// `target`, in the shape of `observed_value` (drivers/hpvm/src/procedure/migrate.rs):
/// every key present.
fn observation(
    n1: P,
    n2: P,
    package: Option<Pkg>,
    source: Option<&str>,
    target: Option<&str>,
) -> Value {
    let vm = "slvm1";
    let hosts: Vec<(&str, P)> = vec![("node1", n1), ("node2", n2)];
    let word = |p: P| match p {
        P::On => ("on", None),
        P::Off => ("off", None),
        P::NotRunnable => ("not_runnable", None),
        P::Absent => ("absent", None),
        P::Transitional(w) => ("transitional", Some(w)),
        P::Unreadable(w) => ("unreadable", Some(w)),
    };
    let running: Vec<&str> = hosts
        .iter()
        .filter(|(_, p)| matches!(p, P::On))
        .map(|(h, _)| *h)
        .collect();
    let mut moving: Vec<String> = hosts
        .iter()
        .filter_map(|(h, p)| match p {
            P::Transitional(w) => Some(format!("{vm} is {w} on {h}")),
            _ => None,
        })
        .collect();
    let words = "up/running";
    if package.as_ref().is_some_and(|p| p.run == "moving") {
        moving.push(format!("package {vm} is {words}"));
    }
    json!({
        "vm": vm,
        "source": source,
        "target": target,
        "hosts": hosts.iter().map(|(h, p)| {
            let (presence, detail) = word(*p);
            json!({"host": h, "presence": presence, "detail": detail})
        }).collect::<Vec<_>>(),
        "running_on": running,
        "pkg": package.map(|p| json!({
            "run": p.run,
            "words": words,
            "owner": p.owner,
            "autorun": p.autorun,
            "old_toolkit": p.old_toolkit,
            "switching_on": p.switching_on,
        })),
        "settled": moving.is_empty(),
        "moving": moving,
        "found": format!("{vm} — observed by the test"),
    })
}

/// One case: the observation and what `decide` must return. `fields`: keys with their exact
/// value; `words`: keys whose text must contain each of the words.
struct Case {
    name: &'static str,
    observed: Value,
    action: &'static str,
    fields: Vec<(&'static str, Value)>,
    words: &'static [(&'static str, &'static str)],
}

fn case(
    name: &'static str,
    (n1, n2, p): (P, P, Option<Pkg>),
    action: &'static str,
    fields: Vec<(&'static str, Value)>,
    words: &'static [(&'static str, &'static str)],
) -> Case {
    Case {
        name,
        observed: observation(n1, n2, p, Some("node1"), Some("node2")),
        action,
        fields,
        words,
    }
}

/// `m::decide(o)` of the shipped lib/hpvm/move, run by the engine (its error in words).
fn decide(env: &RunEnv, engine: &rhai::Engine, o: &Value) -> Result<Value, String> {
    let mut scope = env.scope();
    scope.push(
        "o",
        rhai::serde::to_dynamic(o).map_err(|e| format!("not a Rhai map: {e}"))?,
    );
    let out: rhai::Dynamic = engine
        .eval_with_scope(&mut scope, "import \"lib/hpvm/move\" as m;\nm::decide(o)\n")
        .map_err(|e| format!("decide failed: {e}"))?;
    rhai::serde::from_dynamic(&out).map_err(|e| format!("decide returned no map: {e}"))
}

/// Every rule of the decision, in the order the script applies them.
fn cases() -> Vec<Case> {
    use P::*;
    let mut standalone = case(
        "a standalone recover lands elsewhere",
        (On, Off, pkg("up", Some("node1"), false)),
        "settle",
        vec![("landing", json!("elsewhere"))],
        &[],
    );
    standalone.observed["source"] = Value::Null;
    standalone.observed["target"] = Value::Null;
    vec![
        case(
            "stayed on the source with switching off: enable it",
            (On, Absent, pkg("up", Some("node1"), false)),
            "settle",
            vec![
                ("host", json!("node1")),
                ("enable_switching", json!(true)),
                ("landing", json!("source")),
            ],
            &[],
        ),
        case(
            "landed on the target: settle there",
            (NotRunnable, On, pkg("up", Some("node2"), false)),
            "settle",
            vec![
                ("host", json!("node2")),
                ("enable_switching", json!(true)),
                ("landing", json!("target")),
            ],
            &[],
        ),
        case(
            "switching already on: nothing to send",
            (On, Off, pkg("up", Some("node1"), true)),
            "settle",
            vec![
                ("enable_switching", json!(false)),
                ("landing", json!("source")),
            ],
            &[],
        ),
        standalone,
        case(
            "running on both hosts stops",
            (On, On, pkg("up", Some("node1"), false)),
            "attention",
            vec![],
            &[("left", "node1, node2"), ("remedy", "hpvmstop -P slvm1 -F")],
        ),
        case(
            "running nowhere stops",
            (NotRunnable, Off, pkg("down", None, false)),
            "attention",
            vec![],
            &[("left", "runs on no VM host"), ("remedy", "cmrunpkg slvm1")],
        ),
        case(
            "owner mismatch stops",
            (NotRunnable, On, pkg("up", Some("node1"), false)),
            "attention",
            vec![],
            &[(
                "left",
                "runs on node2, but Serviceguard says the package runs on node1",
            )],
        ),
        case(
            "package down while the guest runs stops",
            (On, Absent, pkg("down", None, false)),
            "attention",
            vec![],
            &[("left", "outside Serviceguard's control")],
        ),
        // The guide's old-toolkit case: the guest moved, the package is halted. Enabling
        // the package where the guest runs is offered; node switching first when it is off
        // there.
        case(
            "old-toolkit package halted after a move: enabled where its guest runs",
            (
                NotRunnable,
                On,
                old(pkg("down", None, false), &["node1", "node2"]),
            ),
            "enable_on_host",
            vec![
                ("host", json!("node2")),
                ("enable_node_switching", json!(false)),
            ],
            &[("found", "Unable to start package slvm1")],
        ),
        case(
            "old-toolkit package, node switching off on the guest's host: enabled first",
            (NotRunnable, On, old(pkg("down", None, false), &["node1"])),
            "enable_on_host",
            vec![("enable_node_switching", json!(true))],
            &[],
        ),
        // A toolkit package in the same state is not the guide's case: a person decides.
        case(
            "toolkit package halted while its guest runs stops",
            (NotRunnable, On, pkg("down", None, false)),
            "attention",
            vec![],
            &[],
        ),
        // Neither is an old-toolkit package whose guest runs on both hosts.
        case(
            "old-toolkit package running on both hosts stops",
            (On, On, old(pkg("down", None, false), &["node1", "node2"])),
            "attention",
            vec![],
            &[("remedy", "hpvmstop")],
        ),
        case(
            "package missing stops",
            (On, Absent, None),
            "attention",
            vec![],
            &[("left", "does not list package slvm1")],
        ),
        case(
            "an unreadable host stops before anything",
            (
                On,
                Unreadable("connection refused"),
                pkg("up", Some("node1"), false),
            ),
            "attention",
            vec![],
            &[("left", "on node2 could not be read")],
        ),
        case(
            "a guest in transition is waited out",
            (
                Transitional("Migrating"),
                Absent,
                pkg("up", Some("node1"), false),
            ),
            "wait",
            vec![],
            &[("reason", "Migrating on node1")],
        ),
        case(
            "a package in transition is waited out",
            (On, Absent, pkg("moving", Some("node1"), false)),
            "wait",
            vec![],
            &[],
        ),
    ]
}

#[test]
fn decide_follows_every_rule_of_the_b5_recovery() {
    // No site: the decision reads no host.
    let env = RunEnv::offline(Arc::new(Recorder::new(Some(false))));
    let engine = engine::build_engine(&env);
    let mut failures = Vec::new();
    for c in cases() {
        let a = match decide(&env, &engine, &c.observed) {
            Ok(a) => a,
            Err(e) => {
                failures.push(format!("{}: {e}", c.name));
                continue;
            }
        };
        let mut wrong = Vec::new();
        if a["action"] != c.action {
            wrong.push(format!("action {} (expected {})", a["action"], c.action));
        }
        for (k, v) in &c.fields {
            if &a[*k] != v {
                wrong.push(format!("{k} {} (expected {v})", a[*k]));
            }
        }
        for (k, w) in c.words {
            if !a[*k].as_str().is_some_and(|t| t.contains(w)) {
                wrong.push(format!("{k} {} does not say {w:?}", a[*k]));
            }
        }
        if !wrong.is_empty() {
            failures.push(format!("{}: {}\n  got {a}", c.name, wrong.join("; ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
