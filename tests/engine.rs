//! The script engine against a fake site: bindings, error maps, exit codes, waits on a
//! virtual clock, cancellation, metadata.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hascript::engine::{self, build_engine, RunEnv};
use hascript_api::objects::{Context, Value};
use hascript_api::testing::ManualClock;
use hascript_api::{
    CancelToken, Clock, Cluster, Command, Error, ErrorKind, Exec, Fence, Hypervisor, Output,
    Package, Result, Site,
};
use hascript_testkit::{Recorder, UiEvent};
use serde_json::json;

/// Records calls; answers from a tiny fixed world.
#[derive(Default)]
struct Fake {
    calls: Mutex<Vec<String>>,
}

impl Fake {
    fn log(&self, s: String) {
        self.calls.lock().unwrap_or_else(|p| p.into_inner()).push(s);
    }
}

impl Exec for Fake {
    fn exec(&self, cmd: &Command) -> Result<Output> {
        self.log(format!("exec {} {}", cmd.host, cmd.line()));
        Ok(match cmd.display().as_str() {
            "false" => Output::new(1, "", "nope\n"),
            "hostname" => Output::new(0, format!("{}\n", cmd.host), ""),
            _ => Output::new(0, "ok\n", ""),
        })
    }
}

impl Cluster for Fake {
    fn nodes(&self) -> Result<Value> {
        Ok(json!([{"name": "cfguest1", "state": "UP"}, {"name": "cfguest2", "state": "DOWN"}]))
    }
    fn node(&self, name: &str) -> Result<Value> {
        if name == "cfguest1" {
            Ok(json!({"name": name, "state": "UP"}))
        } else {
            Err(Error::usage(format!("no node {name}")).with_remedy("use cluster.nodes()"))
        }
    }
    fn wait_node_state(&self, name: &str, state: &str, timeout: Duration) -> Result<Value> {
        self.log(format!("wait {name} {state} {}", timeout.as_secs()));
        Ok(json!({"name": name, "state": state}))
    }
    fn timeout(&self) -> Result<i64> {
        Ok(10)
    }
    fn applications(&self) -> Result<Value> {
        Ok(json!([]))
    }
    fn health(&self) -> Result<Value> {
        Err(Error::new(ErrorKind::Cancelled, "interrupted"))
    }
    fn messages(&self, pattern: &str, since_run: bool) -> Result<Value> {
        self.log(format!("messages {pattern} {since_run}"));
        Ok(json!([]))
    }
}

impl Fence for Fake {
    fn agents(&self) -> Result<Value> {
        Ok(json!([]))
    }
    fn config(&self) -> Result<Value> {
        Ok(json!([]))
    }
    fn verify(&self) -> Result<Value> {
        Err(Error::check("shutdown agent TestFailed")
            .on_host("cfguest1")
            .with_command("sdtool -s")
            .with_remedy("check the XSCF user and password"))
    }
    fn start(&self) -> Result<Value> {
        Ok(json!({"started": true}))
    }
    fn stop(&self) -> Result<Value> {
        Ok(json!({"stopped": true}))
    }
}

impl Hypervisor for Fake {
    fn guests(&self) -> Result<Value> {
        Ok(json!([]))
    }
    fn guest(&self, name: &str) -> Result<Value> {
        Ok(json!({"name": name}))
    }
    fn hosts(&self) -> Result<Value> {
        Ok(json!(["cd1", "cd2"]))
    }
    fn start(&self, g: &str) -> Result<Value> {
        Ok(json!({"started": g}))
    }
    fn stop(&self, g: &str, force: bool) -> Result<Value> {
        self.log(format!("stop {g} {force}"));
        Ok(json!({"stopped": g, "force": force}))
    }
    fn migrate(&self, g: &str, t: &str) -> Result<Value> {
        Ok(json!({"guest": g, "target": t}))
    }
}

impl Package for Fake {
    fn list(&self) -> Result<Value> {
        Ok(json!([]))
    }
    fn status(&self, name: &str) -> Result<Value> {
        Ok(json!({"name": name}))
    }
}

struct FakeSite(Arc<Fake>);

impl Site for FakeSite {
    fn driver(&self) -> &'static str {
        "fake"
    }
    fn describe(&self) -> String {
        "fake site".into()
    }
    fn hosts(&self) -> Vec<String> {
        vec!["cd1".into(), "cfguest1".into()]
    }
    fn cluster(&self) -> Arc<dyn Cluster> {
        self.0.clone()
    }
    fn fence(&self) -> Arc<dyn Fence> {
        self.0.clone()
    }
    fn hypervisor(&self) -> Arc<dyn Hypervisor> {
        self.0.clone()
    }
    fn package(&self) -> Arc<dyn Package> {
        self.0.clone()
    }
    fn summary(&self, subject: &str) -> Result<Value> {
        Ok(json!({"guest": subject, "cf_timeout": 10, "location": "cd2"}))
    }
    /// The operation table's calls reach the site with their arguments as JSON.
    fn operation(&self, object: hascript_api::Object, name: &str, args: &[Value]) -> Result<Value> {
        match (object, name) {
            (hascript_api::Object::Hypervisor, "clean_configs") => {
                let hosts: Vec<&str> = args[0]
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                self.0.log(format!("clean {}", hosts.join(",")));
                Ok(json!([]))
            }
            _ => Err(hascript_api::operations::unsupported(
                object,
                name,
                args.len(),
            )),
        }
    }
}

struct Fixture {
    fake: Arc<Fake>,
    ui: Arc<Recorder>,
    env: RunEnv,
    clock: Arc<ManualClock>,
}

fn fixture(answer: Option<bool>) -> Fixture {
    let fake = Arc::new(Fake::default());
    let ui = Arc::new(Recorder::new(answer));
    let clock = Arc::new(ManualClock::default());
    let ctx = Context::new(fake.clone(), clock.clone(), CancelToken::new(), ui.clone());
    let mut params = BTreeMap::new();
    params.insert("guest".to_string(), "cfguest2".to_string());
    let env = RunEnv::new(Arc::new(FakeSite(fake.clone())), ctx, params);
    Fixture {
        fake,
        ui,
        env,
        clock,
    }
}

impl Fixture {
    fn run(&self, script: &str) -> engine::Outcome {
        let engine = build_engine(&self.env);
        engine::execute(&engine, &self.env, "t.rhai", script)
    }

    fn infos(&self) -> Vec<String> {
        self.ui
            .events()
            .into_iter()
            .filter_map(|e| match e {
                UiEvent::Info(s) => Some(s),
                _ => None,
            })
            .collect()
    }

    fn calls(&self) -> Vec<String> {
        self.fake
            .calls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

fn ok(f: &Fixture, script: &str) -> Vec<String> {
    let out = f.run(script);
    assert_eq!(out.exit, 0, "{:?}", out.report);
    f.infos()
}

#[test]
fn driver_values_become_maps_and_arrays() {
    let f = fixture(None);
    let infos = ok(
        &f,
        r#"let n = cluster.nodes(); print(n.len()); print(n[1].state); print(cluster.node("cfguest1").state);
           print(cluster.timeout() + 1); print(hypervisor.hosts()); print(params.guest); print(site.driver);
           print(site.hosts); print(type_of(cluster)); print(fence.start().started);"#,
    );
    assert_eq!(
        infos,
        [
            "2",
            "DOWN",
            "UP",
            "11",
            "[\"cd1\", \"cd2\"]",
            "cfguest2",
            "fake",
            "[\"cd1\", \"cfguest1\"]",
            "Cluster",
            "true"
        ]
    );
}

#[test]
fn driver_errors_are_catchable_maps_with_every_field() {
    let f = fixture(None);
    let infos = ok(
        &f,
        r#"try { fence.verify() } catch (e) {
             print(e.kind); print(e.host); print(e.command); print(e.remedy); print(e.exit == ()); print(e.message);
           }"#,
    );
    assert_eq!(
        infos,
        [
            "check",
            "cfguest1",
            "sdtool -s",
            "check the XSCF user and password",
            "true",
            "shutdown agent TestFailed"
        ]
    );
}

#[test]
fn uncaught_driver_error_maps_to_its_exit_code_and_report() {
    let f = fixture(None);
    let out = f.run("let a = 1;\nfence.verify();\n");
    assert_eq!(out.exit, 3);
    let r = out.report.unwrap_or_default();
    assert!(
        r.starts_with("error: shutdown agent TestFailed\n  --> t.rhai:2:7"),
        "{r}"
    );
    assert!(
        r.contains("remedy: check the XSCF user and password"),
        "{r}"
    );
    assert!(r.contains("  command: sdtool -s"), "{r}");
    let f = fixture(None);
    assert_eq!(f.run("cluster.node(\"x\")").exit, 2);
}

#[test]
fn cancelled_driver_error_cannot_be_caught() {
    let f = fixture(None);
    let out = f.run("try { cluster.health() } catch (e) { print(\"caught\") }");
    assert_eq!(out.exit, 130);
    assert!(f.infos().is_empty());
}

#[test]
fn interrupt_stops_a_busy_loop() {
    let f = fixture(None);
    f.env.interrupt.fire();
    let out = f.run("let n = 0; try { loop { n += 1; } } catch { print(\"caught\") }");
    assert_eq!(out.exit, 130);
    assert!(f.infos().is_empty());
}

#[test]
fn options_reach_the_driver() {
    let f = fixture(None);
    ok(
        &f,
        r#"cluster.wait_node_state("cfguest2", "DOWN"); cluster.wait_node_state("cfguest2", "UP", #{timeout: 30});
           hypervisor.stop("g"); hypervisor.stop("g", #{force: true}); hypervisor.clean_configs(["cd1", "cd2"]);
           cluster.messages("7245"); cluster.messages("WRP", false);"#,
    );
    assert_eq!(
        f.calls(),
        [
            "wait cfguest2 DOWN 900",
            "wait cfguest2 UP 30",
            "stop g false",
            "stop g true",
            "clean cd1,cd2",
            "messages 7245 true",
            "messages WRP false"
        ]
    );
}

#[test]
fn bad_options_are_usage_errors() {
    for script in [
        r#"cluster.wait_node_state("a", "UP", #{timeut: 3})"#,
        r#"hypervisor.stop("g", #{force: "yes"})"#,
        r#"hypervisor.clean_configs(["cd1", 2])"#,
        r#"host("cd1").run(["echo", 1])"#,
        r#"host("cd1").run([])"#,
        r#"host("cd1").run(["x"], #{bogus: 1})"#,
        r#"host("nohost")"#,
        r#"wait_until(|| true, #{interval: 0})"#,
        r#"sleep(-1)"#,
        r#"fail("nonsense", "x")"#,
    ] {
        let f = fixture(None);
        let out = f.run(script);
        assert_eq!(out.exit, 2, "{script}: {:?}", out.report);
        assert!(f.calls().is_empty(), "{script}");
    }
    let f = fixture(None);
    let r = f
        .run(r#"host("cd1").run(["echo", 1])"#)
        .report
        .unwrap_or_default();
    assert!(r.contains("element 1"), "{r}");
    let r = f.run(r#"host("nohost")"#).report.unwrap_or_default();
    assert!(r.contains("cd1, cfguest1"), "{r}");
}

#[test]
fn host_commands_return_maps_and_throw_on_failure() {
    let f = fixture(None);
    let infos = ok(
        &f,
        r#"let r = host("cd1").run(["hostname"], #{changes: false}); print(r.stdout); print(r.exit); print(r.host); print(r.command);
           let r = host("cd1").run(["false"], #{check: false, changes: false}); print(r.exit);
           try { host("cfguest1").run(["false"]) } catch (e) { print(`${e.kind} ${e.exit} ${e.host} ${e.stderr}`) }
           host("cd1").sh("echo $HOME | wc", #{stdin: "x", timeout: 5});"#,
    );
    assert_eq!(
        infos,
        [
            "cd1\n",
            "0",
            "cd1",
            "hostname",
            "1",
            "command 1 cfguest1 nope"
        ]
    );
    let calls = f.calls();
    assert_eq!(calls[0], "exec cd1 LC_ALL=C hostname");
    assert_eq!(
        calls[3],
        "exec cd1 LC_ALL=C; export LC_ALL; echo $HOME | wc"
    );
    assert!(f.env.ctx.changed());
}

#[test]
fn read_only_commands_leave_changed_unset_and_failures_exit_3() {
    let f = fixture(None);
    let out = f.run(r#"host("cd1").run(["false"], #{changes: false})"#);
    assert_eq!(out.exit, 3);
    assert!(!f.env.ctx.changed());
    let f = fixture(None);
    let out = f.run(r#"host("cd1").run(["false"])"#);
    assert_eq!(out.exit, 4);
}

#[test]
fn fail_and_throw_exit_codes() {
    for (script, code) in [
        ("fail(\"x\")", 1),
        ("fail(\"check\", \"x\")", 3),
        ("fail(\"needs_attention\", \"x\")", 4),
        ("fail(\"declined\", \"x\")", 5),
        ("fail(\"usage\", \"x\")", 2),
        ("throw #{kind: \"bogus\"}", 1),
        ("throw \"plain\"", 1),
        ("no_such_function()", 2),
        ("host(\"cd1\").run([\"true\"]); no_such_function()", 4),
        ("let x = ;", 2),
        ("42", 0),
    ] {
        let f = fixture(None);
        assert_eq!(f.run(script).exit, code, "{script}");
    }
}

#[test]
fn errors_inside_functions_report_the_call_chain() {
    let f = fixture(None);
    let out = f.run("fn inner() { fail(\"check\", \"deep\") }\nfn outer() { inner() }\nouter();\n");
    assert_eq!(out.exit, 3);
    let r = out.report.unwrap_or_default();
    assert!(r.starts_with("error: deep\n  --> t.rhai:1:14"), "{r}");
    assert!(
        r.contains("in call to function 'outer' at t.rhai:3:1"),
        "{r}"
    );
    assert!(
        r.contains("in call to function 'inner' at t.rhai:2:14"),
        "{r}"
    );
}

#[test]
fn steps_print_through_the_ui_and_return_the_body() {
    let f = fixture(None);
    ok(
        &f,
        r#"let v = step("17.3.1.1", "Stop fencing", || 40 + 2); print(v); step("Check", || ());"#,
    );
    let ev = f.ui.events();
    assert_eq!(
        ev[0],
        UiEvent::Step("17.3.1.1".into(), "Stop fencing".into())
    );
    assert_eq!(ev[1], UiEvent::Info("42".into()));
    assert_eq!(ev[2], UiEvent::Step(String::new(), "Check".into()));
    let f = fixture(None);
    assert_eq!(f.run(r#"step("s", "t", || fail("check", "no"))"#).exit, 3);
}

#[test]
fn wait_until_polls_on_the_virtual_clock() {
    let f = fixture(None);
    let t0 = f.clock.now();
    ok(
        &f,
        r#"let n = 0; let r = wait_until(|| { n += 1; n >= 4 }, #{interval: 5, what: "n"}); print(`${r} ${n}`);"#,
    );
    assert_eq!(f.clock.now() - t0, Duration::from_secs(15));
    assert_eq!(f.infos(), ["true 4"]);
    let waits: Vec<_> =
        f.ui.events()
            .into_iter()
            .filter_map(|e| match e {
                UiEvent::Waiting(p) => Some((p.what, p.remaining.as_secs())),
                _ => None,
            })
            .collect();
    assert_eq!(
        waits,
        [("n".into(), 600), ("n".into(), 595), ("n".into(), 590)]
    );
}

#[test]
fn wait_until_throws_a_catchable_timeout() {
    let f = fixture(None);
    let t0 = f.clock.now();
    let out = f.run(r#"wait_until(|| false, #{timeout: 600, what: "never"})"#);
    assert_eq!(out.exit, 3);
    assert_eq!(f.clock.now() - t0, Duration::from_secs(600));
    assert!(out
        .report
        .unwrap_or_default()
        .contains("timed out after 600 s waiting for never"));
    let f = fixture(None);
    ok(
        &f,
        r#"try { wait_until(|| false, #{timeout: 30}) } catch (e) { print(e.kind) }"#,
    );
    assert_eq!(f.infos(), ["timeout"]);
    let f = fixture(None);
    assert_eq!(f.run(r#"wait_until(|| 3)"#).exit, 2);
}

#[test]
fn sleep_and_time_use_the_injected_clock() {
    let f = fixture(None);
    ok(&f, "let a = now(); let t = timestamp(); sleep(600); sleep(0.5); print(now() - a); print(timestamp() - t);");
    assert_eq!(f.infos(), ["600", "600.5"]);
}

#[test]
fn confirm_goes_through_the_ui() {
    let f = fixture(Some(true));
    ok(&f, r#"if confirm("Stop fencing?") { print("yes") }"#);
    assert_eq!(f.infos(), ["yes"]);
    let f = fixture(Some(false));
    ok(&f, r#"if !confirm("Stop fencing?") { print("no") }"#);
    assert_eq!(f.infos(), ["no"]);
    let f = fixture(None);
    let out = f.run(r#"confirm("Stop fencing?")"#);
    assert_eq!(out.exit, 5);
    assert!(out.report.unwrap_or_default().contains("re-run with --yes"));
}

#[test]
fn info_warn_and_summary() {
    let f = fixture(None);
    ok(
        &f,
        r#"info("hello"); warn("careful"); let s = summary("cfguest2"); print(s.location);"#,
    );
    let ev = f.ui.events();
    assert_eq!(ev[0], UiEvent::Info("hello".into()));
    assert_eq!(ev[1], UiEvent::Warn("careful".into()));
    match &ev[2] {
        UiEvent::Info(block) => {
            assert!(block.starts_with("Verified end state:\n"), "{block}");
            assert!(block.contains("  location:    cd2"), "{block}");
        }
        other => panic!("expected the summary block, got {other:?}"),
    }
    assert_eq!(ev[3], UiEvent::Info("cd2".into()));
}

#[test]
fn globals_are_constants_and_visible_in_functions() {
    let f = fixture(None);
    ok(
        &f,
        "fn g() { cluster.timeout() + params.len() } print(g());",
    );
    assert_eq!(f.infos(), ["11"]);
    let f = fixture(None);
    assert_eq!(f.run("cluster = 1;").exit, 2);
    let f = fixture(None);
    ok(&f, "let cluster = 5; print(cluster);");
    assert_eq!(f.infos(), ["5"]);
}

#[test]
fn eval_is_disabled() {
    let f = fixture(None);
    let out = f.run("eval(\"1\")");
    assert_eq!(out.exit, 2);
    assert!(out
        .report
        .unwrap_or_default()
        .contains("'eval' is disabled"));
}

#[test]
fn metadata_has_parameter_names_and_docs() {
    let f = fixture(None);
    let engine = build_engine(&f.env);
    let json = engine.gen_fn_metadata_to_json(false).unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
    let funcs = v["functions"].as_array().cloned().unwrap_or_default();
    let wait = funcs.iter().find(|f| {
        f["name"] == "wait_node_state" && f["params"].as_array().map(Vec::len) == Some(4)
    });
    let wait = wait.cloned().unwrap_or_default();
    let names: Vec<&str> = wait["params"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, ["cluster", "name", "state", "opts"]);
    assert!(wait["docComments"][0]
        .as_str()
        .unwrap_or_default()
        .starts_with("/// Wait until"));
    for name in [
        "step",
        "wait_until",
        "confirm",
        "host",
        "run",
        "sh",
        "summary",
        "fail",
        "sleep",
        "now",
        "timestamp",
        "migrate",
        "verify",
        "halt",
    ] {
        assert!(
            funcs
                .iter()
                .any(|f| f["name"] == name && f["docComments"].is_array()),
            "{name}"
        );
    }
    let help = hascript::repl::help(&engine);
    assert!(
        help.contains("cluster.wait_node_state(name: String, state: String, opts: Map) -> Map"),
        "{help}"
    );
    assert!(
        help.contains("host.run(argv: Array, opts: Map) -> Map"),
        "{help}"
    );
}

#[test]
fn check_finds_unknown_functions_and_variables() {
    let ui = Arc::new(Recorder::new(None));
    let env = RunEnv::offline(ui);
    let mut engine = build_engine(&env);
    engine.set_strict_variables(true);
    let known = engine::lint::known_functions(&engine);
    let scope = env.scope();
    let clean = "fn f(x) { x + 1 }\nlet g = |y| y * 2;\nprint(f(1) + g.call(2));\ncluster.nodes();\nhost(\"a\").run([\"x\"]);\nlet k = Fn(\"f\"); k(3);";
    assert_eq!(engine::lint::check(&engine, &scope, &known, clean), []);
    let p = engine::lint::check(
        &engine,
        &scope,
        &known,
        "let a = 1;\nnosuch(a);\ncluster.bogus();\n",
    );
    let got: Vec<(usize, usize, String)> =
        p.into_iter().map(|p| (p.line, p.col, p.message)).collect();
    assert_eq!(
        got,
        [
            (2, 1, "unknown function nosuch()".to_string()),
            (3, 9, "unknown method cluster.bogus(0 args)".to_string())
        ]
    );
    let p = engine::lint::check(&engine, &scope, &known, "print(undefined_var);");
    assert_eq!(p.len(), 1);
    assert!(p[0].message.contains("Undefined variable"), "{:?}", p);
}

/// A typo'd property is an error that names it, the map's keys and the closest one — for
/// a local map (`m.x`, `m["x"]`, inside a function too) and for `params` (a constant the
/// optimiser would otherwise fold to `()`); `"x" in m` and adding a key still work.
#[test]
fn reading_a_missing_property_fails_naming_it_and_the_keys() {
    let f = fixture(None);
    let out = f.run("let t = params.gust;\nprint(t);");
    assert_eq!(out.exit, 2, "{:?}", out.report);
    let report = out.report.unwrap_or_default();
    assert!(
        report.contains("map has no property `gust`; `params` has: guest; did you mean `guest`?"),
        "{report}"
    );
    assert!(report.contains("t.rhai:1:16"), "{report}");
    assert!(f.infos().is_empty(), "the script went on: {:?}", f.infos());

    for (script, prop) in [
        ("let m = #{target: 1, guest: 2};\nm.targt", "targt"),
        ("let m = #{target: 1, guest: 2};\nm[\"targt\"]", "targt"),
        ("fn f(m) { m.targt }\nf(#{target: 1, guest: 2})", "targt"),
    ] {
        let out = f.run(script);
        assert_eq!(out.exit, 2, "{script}: {:?}", out.report);
        let report = out.report.unwrap_or_default();
        assert!(
            report.contains(&format!(
                "map has no property `{prop}`; `m` has: guest, target; did you mean `target`?"
            )),
            "{script}: {report}"
        );
    }
    // A chain: the property is named, the keys of an unnamed map are not guessed.
    let out = f.run("let r = #{a: #{b: 1}};\nr.a.c");
    let report = out.report.unwrap_or_default();
    assert!(report.contains("map has no property `c`"), "{report}");
    assert!(!report.contains("has: "), "{report}");

    let infos = ok(
        &f,
        "let m = #{a: 1};\nm.b = 2;\nm[\"c\"] = 3;\nprint(\"x\" in m);\nprint(`${m.b} ${m.c}`);\nprint(if \"target\" in params { params.target } else { \"none\" });",
    );
    assert_eq!(infos, ["false", "2 3", "none"]);
}

/// The error a typo raises is catchable like Rhai's other errors.
#[test]
fn a_missing_property_can_be_caught() {
    let f = fixture(None);
    let infos = ok(
        &f,
        "let m = #{a: 1};\ntry { m.b } catch (e) { print(e.message); }",
    );
    assert_eq!(infos, ["Property not found: b"]);
}
