//! B5, the online move of a VM package, as the scripts run it (hpvm/move-package through
//! `hypervisor.migrate`, hpvm/recover-move through `hypervisor.recover`): the engine in
//! process over the simulator (`site::build_wrapped` + `RunEnv` + `engine::execute`, as a
//! run does it), so a test can put a transport that loses the session or fires Ctrl-C right
//! after `cmmovevpkg`. These were driver tests of the Rust sequence before the move became a
//! script (drivers/hpvm/tests/driver.rs); the guards of single operations stayed there.

mod sim_support;

use std::collections::BTreeMap;
use std::sync::Arc;

use hascript::engine::{self, RunEnv};
use hascript::site::{self, SiteOptions, SiteSpec};
use hascript_api::{CancelToken, Command, Error, ErrorKind, Exec, Output};
use hascript_sim::SimSite;
use hascript_testkit::{Recorder, UiEvent};
use serde_json::{json, Value};

/// What a run left: its exit, the error's kind, message and remedy, the full report, the
/// value the script handed to `RESULT` (see [`migrate`]), what the UI showed, and the
/// commands the simulated hosts received during it.
struct Ran {
    exit: i32,
    kind: Option<String>,
    message: String,
    remedy: String,
    report: String,
    result: Option<Value>,
    ui: String,
    sent: Vec<String>,
}

impl Ran {
    /// The state-changing commands this run sent, in order.
    fn changes(&self) -> Vec<String> {
        self.sent
            .iter()
            .filter(|l| sim_support::is_change(l))
            .cloned()
            .collect()
    }

    fn dump(&self) -> String {
        format!(
            "exit {} kind {:?}\n--- message\n{}\n--- remedy\n{}\n--- report\n{}\n--- ui\n{}\n--- sent\n{}",
            self.exit,
            self.kind,
            self.message,
            self.remedy,
            self.report,
            self.ui,
            self.sent.join("\n")
        )
    }

    /// The script's result (it ended with one).
    fn result(&self) -> &Value {
        self.result
            .as_ref()
            .unwrap_or_else(|| panic!("no result\n{}", self.dump()))
    }
}

/// How the test's transport treats `cmmovevpkg` (which the simulator runs in every case).
#[derive(Clone, Copy, PartialEq, Eq)]
enum AfterMove {
    /// Hand the answer back.
    Answer,
    /// The session is lost: the command ran, its answer never came back.
    LoseSession,
    /// The operator's Ctrl-C arrives while it runs.
    CtrlC,
}

/// The site's transport, wrapped: `cmmovevpkg` as [`AfterMove`] says; and, when
/// `maintenance_after_check` names a host, toolkit maintenance entered there behind the
/// run's back right after the preflight's last read (`hpvmmigrate -s`).
struct Wrapped {
    inner: Arc<dyn Exec>,
    after_move: AfterMove,
    maintenance_after_check: Option<&'static str>,
    cancel: CancelToken,
}

impl Exec for Wrapped {
    fn exec(&self, cmd: &Command) -> Result<Output, Error> {
        let out = self.inner.exec(cmd)?;
        let line = cmd.display();
        if let (Some(host), true) = (
            self.maintenance_after_check,
            line.contains("hpvmmigrate -s"),
        ) {
            let on = Command::change(
                host,
                &[
                    "/etc/cmcluster/scripts/tkit/vtn/cmdeployvpkg",
                    "-m",
                    "1",
                    "-P",
                    "slvm1",
                ],
            );
            let o = self.inner.exec(&on)?;
            assert_eq!(o.code(), 0, "maintenance on {host}: {}", o.stderr);
        }
        if line.contains("cmmovevpkg") {
            match self.after_move {
                AfterMove::Answer => {}
                AfterMove::LoseSession => {
                    return Err(Error::new(ErrorKind::Transport, "connection to node1 lost")
                        .on_host(&cmd.host))
                }
                AfterMove::CtrlC => {
                    self.cancel.cancel();
                    return Err(Error::cancelled());
                }
            }
        }
        Ok(out)
    }
}

/// A simulated site of `scenario` in process, its transport wrapped.
struct Harness {
    env: RunEnv,
    sim: SimSite,
    ui: Arc<Recorder>,
}

impl Harness {
    fn new(scenario: &str) -> Harness {
        Harness::with(scenario, AfterMove::Answer, None, Some(false))
    }

    fn with(
        scenario: &str,
        after_move: AfterMove,
        maintenance_after_check: Option<&'static str>,
        answer: Option<bool>,
    ) -> Harness {
        let ui = Arc::new(Recorder::new(answer));
        let spec = SiteSpec::Sim {
            scenario: Some(scenario.into()),
            default_driver: "hpvm".into(),
            state: None,
        };
        let cancel = CancelToken::new();
        let token = cancel.clone();
        let built = site::build_wrapped(
            &spec,
            &SiteOptions::default(),
            ui.clone(),
            cancel,
            move |router, ui, _clock| {
                let exec: Arc<dyn Exec> = Arc::new(Wrapped {
                    inner: router,
                    after_move,
                    maintenance_after_check,
                    cancel: token,
                });
                (exec, ui)
            },
        )
        .unwrap_or_else(|e| panic!("site {scenario}: {e}"));
        let sim = built.sim.clone().expect("a simulated site");
        let env = RunEnv::new(built.site.clone(), built.ctx.clone(), BTreeMap::new());
        Harness { env, sim, ui }
    }

    /// The commands received so far, as `host: line` without the locale prefix.
    fn log(&self) -> Vec<String> {
        self.sim
            .command_log()
            .into_iter()
            .map(|c| format!("{}: {}", c.host, c.line.trim_start_matches("LC_ALL=C ")))
            .collect()
    }

    /// Run `text` as a run does (recovery routines included). A line `RESULT <json>` the
    /// script prints is its result.
    fn run(&self, text: &str) -> Ran {
        let before = self.log().len();
        let shown = self.ui.events().len();
        let engine = engine::build_engine(&self.env);
        let out = engine::execute(&engine, &self.env, "test.rhai", text);
        let events = self.ui.events();
        let mut result = None;
        let mut ui = String::new();
        for e in &events[shown..] {
            let line = match e {
                UiEvent::Step(s, t) => format!("[{s}] {t}"),
                UiEvent::Info(m) => match m.strip_prefix("RESULT ") {
                    Some(j) => {
                        result = Some(serde_json::from_str(j).expect("result is JSON"));
                        continue;
                    }
                    None => m.clone(),
                },
                UiEvent::Warn(m) => format!("warning: {m}"),
                UiEvent::Confirm(q, a) => format!("? {q} {a}"),
                UiEvent::Exposure(w, d) => format!("exposure: {w} ({d:?})"),
                UiEvent::Waiting(_) | UiEvent::WaitDone(_) => continue,
            };
            ui.push_str(&line);
            ui.push('\n');
        }
        let fields = out.fields.clone();
        Ran {
            exit: out.exit,
            kind: out.kind.clone(),
            message: fields
                .as_ref()
                .map(|f| f.message.clone())
                .unwrap_or_default(),
            remedy: fields
                .as_ref()
                .and_then(|f| f.remedy.clone())
                .unwrap_or_default(),
            report: out.report.unwrap_or_default(),
            result,
            ui,
            sent: self.log()[before..].to_vec(),
        }
    }

    /// `hypervisor.migrate(vm, target)` (on Serviceguard: hpvm/move-package).
    fn migrate(&self, vm: &str, target: &str) -> Ran {
        self.run(&format!(
            "let r = hypervisor.migrate({vm:?}, {target:?});\ninfo(\"RESULT \" + r.to_json());\n"
        ))
    }

    /// A one-line read on a simulated host, its standard output.
    fn sim_exec(&self, host: &str, line: &str) -> String {
        self.sim.exec_line(host, line).stdout
    }

    /// What `cmviewcl` says of slvm1 now: (owner, switching enabled).
    fn package(&self) -> (String, bool) {
        let out = self.sim_exec("node1", "/usr/sbin/cmviewcl -v -f line");
        let field = |k: &str| {
            out.lines()
                .find_map(|l| l.strip_prefix(&format!("package:slvm1|{k}=")))
                .unwrap_or("")
                .to_string()
        };
        (field("owner"), field("autorun") == "enabled")
    }

    /// Where the guest slvm1 runs its OS now.
    fn running_on(&self) -> Vec<String> {
        ["node1", "node2", "node3"]
            .iter()
            .filter(|h| {
                self.sim_exec(h, "/opt/hpvm/bin/hpvmstatus -P slvm1")
                    .lines()
                    .any(|l| l.contains("slvm1") && l.contains("On (OS)"))
            })
            .map(|h| h.to_string())
            .collect()
    }
}

const CMMOVEVPKG: &str = "node1: /etc/cmcluster/scripts/tkit/vtn/cmmovevpkg -v -P slvm1 -h node2";

#[test]
fn migrate_happy_path_sends_only_cmmovevpkg() {
    let h = Harness::new("hpvm");
    let r = h.migrate("slvm1", "node2");
    assert_eq!(r.exit, 0, "{}", r.dump());
    let v = r.result();
    assert_eq!(v["moved"], true, "{v}");
    assert_eq!(v["owner"], "node2", "{v}");
    assert_eq!(v["switching"], true, "{v}");
    assert_eq!(v["guest"]["running_on"], json!(["node2"]), "{v}");
    assert_eq!(r.changes(), [CMMOVEVPKG], "{}", r.dump());
    // The preflight ran Integrity VM's own check before the move.
    let check = r
        .sent
        .iter()
        .position(|l| l.contains("hpvmmigrate -s -o -P slvm1 -h node2"))
        .expect("hpvmmigrate -s sent");
    let mv = r
        .sent
        .iter()
        .position(|l| l.contains("cmmovevpkg"))
        .expect("moved");
    assert!(check < mv, "{}", r.dump());
    assert!(
        r.ui.contains("exposure: package switching of slvm1 off"),
        "{}",
        r.dump()
    );
}

#[test]
fn migrate_again_says_it_is_already_there() {
    let h = Harness::new("hpvm");
    let first = h.migrate("slvm1", "node2");
    assert_eq!(first.exit, 0, "{}", first.dump());
    let r = h.migrate("slvm1", "node2");
    assert_eq!(r.exit, 0, "{}", r.dump());
    assert_eq!(r.result()["moved"], false, "{}", r.dump());
    assert!(r.changes().is_empty(), "{}", r.dump());
    assert!(r.ui.contains("already runs on node2"), "{}", r.dump());
}

#[test]
fn failed_migration_recovers_switching_and_exits_failed() {
    let h = Harness::new("hpvm/hpvmmigrate-fails");
    let r = h.migrate("slvm1", "node2");
    assert_eq!(r.kind.as_deref(), Some("failed"), "{}", r.dump());
    assert_eq!(r.exit, 1, "{}", r.dump());
    assert!(r.message.contains("runs on node1"), "{}", r.dump());
    assert!(
        r.message.contains("switching is enabled again"),
        "{}",
        r.dump()
    );
    assert_eq!(
        r.changes(),
        [CMMOVEVPKG, "node1: /usr/sbin/cmmodpkg -e slvm1"],
        "{}",
        r.dump()
    );
    assert_eq!(h.package(), ("node1".to_string(), true));
    assert_eq!(h.running_on(), ["node1"]);
    assert!(r.ui.contains("cmmovevpkg exited 1"), "{}", r.dump());
}

#[test]
fn migration_that_lands_despite_an_error_succeeds_with_a_warning() {
    let h = Harness::new("hpvm/migration-lands-despite-error");
    let r = h.migrate("slvm1", "node2");
    assert_eq!(r.exit, 0, "{}", r.dump());
    let v = r.result();
    assert_eq!(v["moved"], true, "{v}");
    assert_eq!(v["cmmovevpkg_failed"], true, "{v}");
    assert_eq!(v["owner"], "node2", "{v}");
    assert_eq!(v["switching"], true, "{v}");
    let c = r.changes();
    assert_eq!(c.len(), 2, "{}", r.dump());
    assert!(c[1].ends_with("/usr/sbin/cmmodpkg -e slvm1"), "{c:?}");
    assert!(
        r.ui.contains("warning: cmmovevpkg reported a failure"),
        "{}",
        r.dump()
    );
}

#[test]
fn nfs_backing_store_is_refused_before_any_change() {
    let h = Harness::new("hpvm/nfs-backing-store");
    let r = h.migrate("slvm1", "node2");
    assert_eq!(r.kind.as_deref(), Some("check"), "{}", r.dump());
    assert_eq!(r.exit, 3, "{}", r.dump());
    assert!(
        r.message.contains("/var/opt/hpvm/nfs/slvm1.img"),
        "{}",
        r.dump()
    );
    assert!(r.message.contains("NFS"), "{}", r.dump());
    assert!(r.changes().is_empty(), "{}", r.dump());
}

#[test]
fn target_outside_the_node_list_is_refused_before_any_change() {
    let h = Harness::new("hpvm/target-not-in-node-list");
    let r = h.run("let p = hypervisor.preflight(\"slvm1\", \"node2\");\n");
    assert_eq!(r.kind.as_deref(), Some("check"), "{}", r.dump());
    assert!(
        r.message.contains("node2 is not in the node_name list"),
        "{}",
        r.dump()
    );
    let r = h.migrate("slvm1", "node2");
    assert_eq!(r.kind.as_deref(), Some("check"), "{}", r.dump());
    assert!(
        h.log().iter().all(|l| !sim_support::is_change(l)),
        "{:?}",
        h.log()
    );
    // node3 is a member: its preflight passes.
    let r = h.run("let p = hypervisor.preflight(\"slvm1\", \"node3\");\n");
    assert_eq!(r.exit, 0, "node3 is fine: {}", r.dump());
}

#[test]
fn old_toolkit_package_is_refused_with_hpvmsg_move() {
    let h = Harness::new("hpvm/old-toolkit-package");
    let r = h.migrate("slvm1", "node2");
    assert_eq!(r.kind.as_deref(), Some("check"), "{}", r.dump());
    assert!(r.remedy.contains("hpvmsg_move"), "{}", r.dump());
    assert!(r.changes().is_empty(), "{}", r.dump());
}

#[test]
fn unknown_names_are_usage_errors_before_anything() {
    let h = Harness::new("hpvm");
    for (vm, target) in [("slvm1", "node9"), ("slvm1;reboot", "node2")] {
        let r = h.migrate(vm, target);
        assert_eq!(
            r.kind.as_deref(),
            Some("usage"),
            "{vm} {target}: {}",
            r.dump()
        );
        assert_eq!(r.exit, 2, "{}", r.dump());
    }
    let r = h.run("package.status(\"nosuchpkg\");\n");
    assert_eq!(r.kind.as_deref(), Some("usage"), "{}", r.dump());
    assert!(
        h.log().iter().all(|l| !sim_support::is_change(l)),
        "{:?}",
        h.log()
    );
}

#[test]
fn recover_after_a_failure_is_a_safe_rerun() {
    let h = Harness::new("hpvm");
    let recover = "let r = hypervisor.recover(\"slvm1\");\ninfo(\"RESULT \" + r.to_json());\n";
    let r = h.run(recover);
    assert_eq!(r.exit, 0, "nothing to do: {}", r.dump());
    assert_eq!(r.result()["host"], "node1", "{}", r.dump());
    assert_eq!(r.result()["enabled_switching"], false, "{}", r.dump());
    assert!(r.changes().is_empty(), "{}", r.dump());
    assert!(r.ui.contains("nothing to do"), "{}", r.dump());
    let d = h.run("package.disable(\"slvm1\");\n");
    assert_eq!(d.exit, 0, "disabled: {}", d.dump());
    assert_eq!(h.package(), ("node1".to_string(), false));
    let r = h.run(recover);
    assert_eq!(r.exit, 0, "enabled: {}", r.dump());
    assert_eq!(r.result()["enabled_switching"], true, "{}", r.dump());
    assert_eq!(h.package(), ("node1".to_string(), true));
}

#[test]
fn a_lost_session_during_the_move_is_settled_from_the_observed_state() {
    let h = Harness::with("hpvm", AfterMove::LoseSession, None, Some(false));
    let r = h.migrate("slvm1", "node2");
    assert_eq!(r.exit, 0, "it moved: {}", r.dump());
    let v = r.result();
    assert_eq!(v["owner"], "node2", "{v}");
    assert_eq!(v["cmmovevpkg_failed"], true, "{v}");
    assert!(r.ui.contains("connection to node1 lost"), "{}", r.dump());
    // The move itself re-enabled switching: nothing else was sent.
    assert_eq!(r.changes().len(), 1, "{}", r.dump());
}

#[test]
fn ctrl_c_during_the_move_still_runs_the_recovery() {
    let h = Harness::with("hpvm", AfterMove::CtrlC, None, Some(false));
    let r = h.migrate("slvm1", "node2");
    assert_eq!(r.kind.as_deref(), Some("cancelled"), "{}", r.dump());
    assert_eq!(r.exit, 130, "{}", r.dump());
    // The recovery ran (the routine cmmovevpkg registered: hpvm/recover-move, settled ok)
    // and said where the guest is. (The Rust move put that in the error's remedy; the run's
    // report now names the routine and its outcome, its output says where the guest runs.)
    assert!(
        r.ui.contains("[recovery] routine #1: recover the move of slvm1")
            && r.ui.contains("(hpvm/recover-move)"),
        "{}",
        r.dump()
    );
    assert!(
        r.report
            .contains("recovery routine #1 (recover the move of slvm1")
            && r.report.contains("→ ok"),
        "{}",
        r.dump()
    );
    assert!(
        r.ui.contains("slvm1 runs on node2, which owns the package"),
        "{}",
        r.dump()
    );
    // The recovery read the state after the interruption.
    let mv = r
        .sent
        .iter()
        .position(|l| l.contains("cmmovevpkg"))
        .expect("sent");
    assert!(
        r.sent[mv..]
            .iter()
            .any(|l| l.contains("hpvmstatus -P slvm1")),
        "{}",
        r.dump()
    );
    assert_eq!(h.package(), ("node2".to_string(), true));
}

/// Issue 13, defect 1, as the script runs it: the preflight passes, then the target enters
/// toolkit maintenance behind the run's back; `package.move_online` refuses, nothing sent.
#[test]
fn cmmovevpkg_is_refused_when_the_target_holds_the_file_after_the_preflight() {
    let h = Harness::with("hpvm", AfterMove::Answer, Some("node2"), Some(false));
    let r = h.migrate("slvm1", "node2");
    assert_eq!(r.kind.as_deref(), Some("check"), "{}", r.dump());
    assert!(
        r.message
            .contains("/etc/cmcluster/slvm1/vtn.debug exists on node2"),
        "{}",
        r.dump()
    );
    assert!(r.remedy.contains("state=off"), "{}", r.dump());
    assert!(
        r.sent.iter().any(|l| l.contains("hpvmmigrate -s")),
        "the preflight ran and passed: {}",
        r.dump()
    );
    assert!(
        !r.sent.iter().any(|l| l.contains("cmmovevpkg")),
        "cmmovevpkg was sent: {}",
        r.dump()
    );
    assert!(r.ui.contains("preflight passed"), "{}", r.dump());
}
