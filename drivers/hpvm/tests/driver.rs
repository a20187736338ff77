//! The Serviceguard objects and operations against the simulator, without the script
//! engine: the guards of the B5 move's operations (its sequence is tests/hpvm_move.rs),
//! package management, and the commands each call sends.

mod support;

use std::sync::Arc;
use std::time::Duration;

use hascript_api::objects::Context;
use hascript_api::{CancelToken, Error, ErrorKind, Object, Site};
use hascript_hpvm::HpvmSite;
use hascript_sim::SimSite;
use hascript_testkit::placement_verdicts;
use hascript_testkit::Recorder;
use serde_json::{json, Value};
use support::{sent, site, topology};
use Object::{Hypervisor, Package};

/// The state-changing commands sent.
fn changes(sim: &SimSite) -> Vec<String> {
    const CHANGING: &[&str] = &[
        "cmmovevpkg",
        "cmmodpkg",
        "cmrunpkg",
        "cmhaltpkg",
        "cmapplyconf",
        "cmdeployvpkg",
        "cmmakepkg",
        "hpvmstart",
        "hpvmstop",
        "mkdir",
        "chmod",
        "sh -c",
        "cp -p",
    ];
    sent(sim)
        .into_iter()
        .filter(|l| {
            let cmd = l.split_once(": ").map(|x| x.1).unwrap_or("");
            CHANGING.iter().any(|c| {
                cmd.starts_with(c)
                    || cmd
                        .split_whitespace()
                        .next()
                        .is_some_and(|p| p.ends_with(&format!("/{c}")))
            })
        })
        .collect()
}

#[test]
fn commands_carry_the_c_locale_and_full_paths() {
    let (s, sim, _) = site("hpvm", None);
    s.cluster().nodes().expect("nodes");
    let log = sim.command_log();
    assert_eq!(log[0].line, "LC_ALL=C /usr/sbin/cmviewcl -v -f line");
    assert_eq!(log[0].host, "node1");
}

#[test]
fn nodes_and_health_read_cmviewcl() {
    let (s, _sim, _) = site("hpvm", None);
    let nodes = s.cluster().nodes().expect("nodes");
    let names: Vec<(&str, &str)> = nodes
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|n| Some((n["name"].as_str()?, n["state"].as_str()?)))
        .collect();
    assert_eq!(names, vec![("node1", "running"), ("node2", "running")]);
    let h = s.cluster().health().expect("health");
    assert_eq!(h["ok"], true, "{h}");
    let e = s.cluster().node("node9").expect_err("unknown");
    assert_eq!(e.kind, ErrorKind::Usage);
    let e = s.cluster().timeout().expect_err("no CF timeout");
    assert_eq!(e.kind, ErrorKind::Unsupported);
}

#[test]
fn old_serviceguard_is_a_check_naming_the_release() {
    let (s, _sim, _) = site("hpvm/old-serviceguard", None);
    let e = s.cluster().nodes().expect_err("too old");
    assert_eq!(e.kind, ErrorKind::Check);
    assert!(
        e.message.contains("A.11.19 or later is required"),
        "{}",
        e.message
    );
}

#[test]
fn guest_details_name_storage_networks_and_package() {
    let (s, _sim, _) = site("hpvm", None);
    let g = s.hypervisor().guest("slvm1").expect("guest");
    assert_eq!(g["host"], "node1");
    assert_eq!(g["packaged"], true);
    assert_eq!(g["package_owner"], "node1");
    assert_eq!(g["storage"][0]["kind"], "disk");
    assert_eq!(g["storage"][0]["backing"], "/dev/rdisk/disk109");
    assert_eq!(g["networks"][1]["vswitch"], "myswitch");
    assert_eq!(g["states"]["node2"], "Off (NR)");
    let g = s.hypervisor().guest("slvm2").expect("guest");
    assert_eq!(g["packaged"], false);
    let e = s.hypervisor().guest("nosuchvm").expect_err("unknown");
    assert_eq!(e.kind, ErrorKind::Usage);
}

/// `package.NAME(args…)` (or `hypervisor.NAME`) of the operation table, as a script calls it.
fn op(s: &HpvmSite, object: Object, name: &str, args: &[&str]) -> Result<Value, Error> {
    let args: Vec<Value> = args.iter().map(|a| json!(a)).collect();
    s.operation(object, name, &args)
}

/// The verdicts of a check operation (one, or a list), failed ones first.
fn verdicts(v: &Value) -> Vec<Value> {
    let mut all = match v {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    };
    all.sort_by_key(|v| v["ok"] == true);
    all
}

/// The move's recovery routines still pending in `s`'s run.
fn pending_moves(s: &HpvmSite) -> Vec<Value> {
    s.context()
        .recoveries
        .pending()
        .into_iter()
        .filter_map(|e| e.routine)
        .filter(|r| r["procedure"] == "hpvm/recover-move")
        .collect()
}

const CMMOVEVPKG: &str = "node1: /etc/cmcluster/scripts/tkit/vtn/cmmovevpkg -v -P slvm1 -h node2";

// The B5 sequence (hpvm/move-package, hpvm/recover-move) is tested as the scripts run it in
// tests/hpvm_move.rs; here are the guards of its operations, each called alone.

#[test]
fn move_online_sends_only_cmmovevpkg_and_its_routine_waits_for_verify_moved() {
    let (s, sim, ui) = site("hpvm", None);
    let r = op(&s, Package, "move_online", &["slvm1", "node2"]).expect("moved");
    assert_eq!(
        (&r["sent"], &r["ok"], &r["source"], &r["target"]),
        (&json!(true), &json!(true), &json!("node1"), &json!("node2")),
        "{r}"
    );
    assert_eq!(changes(&sim), vec![CMMOVEVPKG]);
    assert!(
        ui.text()
            .contains("exposure: package switching of slvm1 off"),
        "{}",
        ui.text()
    );
    // Registered before it sent; pending until the end state is read back.
    assert_eq!(
        pending_moves(&s),
        vec![json!({"procedure": "hpvm/recover-move", "params": {"package": "slvm1"}})]
    );
    let v = op(&s, Package, "verify_moved", &["slvm1", "node2"]).expect("verified");
    assert_eq!(v["running_on"], json!(["node2"]), "{v}");
    assert!(pending_moves(&s).is_empty());
}

#[test]
fn move_online_onto_the_owner_sends_nothing() {
    let (s, sim, ui) = site("hpvm", None);
    op(&s, Package, "move_online", &["slvm1", "node2"]).expect("moved");
    let before = changes(&sim).len();
    let r = op(&s, Package, "move_online", &["slvm1", "node2"]).expect("already there");
    assert_eq!(r["sent"], false, "{r}");
    assert_eq!(changes(&sim).len(), before);
    assert!(ui.text().contains("already runs on node2"), "{}", ui.text());
}

#[test]
fn a_failed_cmmovevpkg_is_reported_not_raised() {
    // Where the guest really is is read next (the script's recovery): the operation only
    // says what the command said.
    let (s, sim, ui) = site("hpvm/hpvmmigrate-fails", None);
    let r = op(&s, Package, "move_online", &["slvm1", "node2"]).expect("a result");
    assert_eq!(
        (&r["sent"], &r["ok"], &r["exit"]),
        (&json!(true), &json!(false), &json!(1)),
        "{r}"
    );
    assert!(
        r["message"]
            .as_str()
            .unwrap_or("")
            .contains("cmmovevpkg exited 1"),
        "{r}"
    );
    assert!(ui.text().contains("cmmovevpkg exited 1"), "{}", ui.text());
    assert_eq!(changes(&sim), vec![CMMOVEVPKG]);
    assert_eq!(pending_moves(&s).len(), 1);
}

#[test]
fn nfs_backing_store_is_refused_before_any_change() {
    let (s, sim, _) = site("hpvm/nfs-backing-store", None);
    let v = op(&s, Package, "check_guest_storage", &["slvm1", "node1"]).expect("verdicts");
    let failed = &verdicts(&v)[0];
    assert_eq!(failed["ok"], false, "{v}");
    let detail = failed["detail"].as_str().unwrap_or("");
    assert!(detail.contains("/var/opt/hpvm/nfs/slvm1.img"), "{v}");
    assert!(detail.contains("NFS"), "{v}");
    assert!(changes(&sim).is_empty(), "{:?}", changes(&sim));
}

#[test]
fn target_outside_the_node_list_is_refused_before_any_change() {
    let (s, sim, _) = site("hpvm/target-not-in-node-list", None);
    let v = op(&s, Package, "check_target_member", &["slvm1", "node2"]).expect("verdict");
    assert_eq!(v["ok"], false, "{v}");
    assert!(
        v["detail"]
            .as_str()
            .unwrap_or("")
            .contains("node2 is not in the node_name list"),
        "{v}"
    );
    // node3 is a member: its check passes.
    let v = op(&s, Package, "check_target_member", &["slvm1", "node3"]).expect("verdict");
    assert_eq!(v["ok"], true, "{v}");
    assert!(changes(&sim).is_empty(), "{:?}", changes(&sim));
}

#[test]
fn old_toolkit_package_is_refused_with_hpvmsg_move() {
    let (s, sim, _) = site("hpvm/old-toolkit-package", None);
    let v = op(&s, Package, "check_toolkit", &["slvm1"]).expect("verdict");
    assert_eq!(v["ok"], false, "{v}");
    assert!(
        v["remedy"].as_str().unwrap_or("").contains("hpvmsg_move"),
        "{v}"
    );
    assert!(changes(&sim).is_empty());
}

#[test]
fn unknown_names_are_usage_errors_before_anything() {
    let (s, sim, _) = site("hpvm", None);
    for (name, args) in [
        ("move_online", &["slvm1", "node9"][..]),
        ("move_online", &["slvm1;reboot", "node2"]),
        ("interrupted_move", &["slvm1", "node9"]),
        ("interrupted_move", &["slvm1;reboot", "node2"]),
        ("check_owner", &["slvm1", "node9"]),
        ("check_target_member", &["slvm1", "node9"]),
        ("check_guest_storage", &["slvm1;reboot", "node1"]),
        ("observe", &["slvm1;reboot"]),
        ("verify_moved", &["slvm1", "node9"]),
    ] {
        let e = op(&s, Package, name, args).expect_err("unknown");
        assert_eq!(e.kind, ErrorKind::Usage, "{name}{args:?}: {e}");
    }
    let e = op(
        &s,
        Hypervisor,
        "check_hpvmmigrate",
        &["slvm1", "node1", "node9"],
    )
    .expect_err("unknown");
    assert_eq!(e.kind, ErrorKind::Usage, "{e}");
    let e = s.package().status("nosuchpkg").expect_err("unknown");
    assert_eq!(e.kind, ErrorKind::Usage);
    assert!(changes(&sim).is_empty());
}

#[test]
fn move_online_refuses_a_package_that_runs_nowhere() {
    let (s, sim, _) = site("hpvm/guest-not-running", None);
    let e = op(&s, Package, "move_online", &["slvm1", "node2"]).expect_err("refused");
    assert_eq!(e.kind, ErrorKind::Check, "{e}");
    assert!(
        e.message.contains("cmmovevpkg is not sent"),
        "{}",
        e.message
    );
    assert!(changes(&sim).is_empty(), "{:?}", changes(&sim));
    assert!(pending_moves(&s).is_empty());
}

#[test]
fn hpvmstart_and_hpvmstop_are_refused_on_a_packaged_vm() {
    let (s, sim, _) = site("hpvm", None);
    let e = s.hypervisor().stop("slvm1", true).expect_err("refused");
    assert_eq!(e.kind, ErrorKind::Check);
    assert!(e.message.contains("maintenance"), "{}", e.message);
    s.package().halt("slvm1").expect("halted");
    let e = s.hypervisor().start("slvm1").expect_err("refused");
    assert_eq!(e.kind, ErrorKind::Check);
    assert!(!changes(&sim).iter().any(|c| c.contains("hpvmst")));
    // An unpackaged guest is the operator's own.
    s.hypervisor().stop("slvm2", false).expect("stopped");
    assert!(changes(&sim)
        .iter()
        .any(|c| c == "node1: /opt/hpvm/bin/hpvmstop -P slvm2 -F"));
}

#[test]
fn run_is_always_followed_by_enabling_switching() {
    let (s, sim, ui) = site("hpvm", None);
    let h = s.package().halt("slvm1").expect("halted");
    assert_eq!(h["halted"], true);
    assert!(
        ui.text().contains("switching is now disabled"),
        "{}",
        ui.text()
    );
    let r = s.package().run("slvm1").expect("running");
    assert_eq!(r["switching"], true);
    assert_eq!(r["status"], "up");
    let c = changes(&sim);
    assert_eq!(c.len(), 3, "{c:?}");
    assert!(c[0].ends_with("/usr/sbin/cmhaltpkg slvm1"), "{c:?}");
    assert!(c[1].ends_with("/usr/sbin/cmrunpkg slvm1"), "{c:?}");
    assert!(c[2].ends_with("/usr/sbin/cmmodpkg -e slvm1"), "{c:?}");
    // A second run: already running, switching already on: nothing sent.
    s.package().run("slvm1").expect("again");
    assert_eq!(changes(&sim).len(), 3);
    assert!(ui.text().contains("already runs on"), "{}", ui.text());
}

#[test]
fn maintenance_on_off_and_safe_reruns() {
    let (s, sim, ui) = site("hpvm", None);
    assert!(!s.package().in_maintenance("slvm1").expect("read"));
    let r = s.package().maintenance("slvm1", true).expect("on");
    assert_eq!(r["changed"], true);
    assert!(s.package().in_maintenance("slvm1").expect("read"));
    assert_eq!(
        s.package().status("slvm1").expect("status")["maintenance"],
        true
    );
    let r = s.package().maintenance("slvm1", true).expect("again");
    assert_eq!(r["changed"], false);
    s.package().maintenance("slvm1", false).expect("off");
    let r = s.package().maintenance("slvm1", false).expect("again");
    assert_eq!(r["changed"], false);
    assert_eq!(
        changes(&sim),
        vec![
            "node1: /etc/cmcluster/scripts/tkit/vtn/cmdeployvpkg -m 1 -P slvm1",
            "node1: /etc/cmcluster/scripts/tkit/vtn/cmdeployvpkg -m 0 -P slvm1",
        ]
    );
    assert!(
        ui.text().contains("already out of toolkit maintenance"),
        "{}",
        ui.text()
    );
}

#[test]
fn stop_in_maintenance_needs_force() {
    let (s, sim, _) = site("hpvm", None);
    s.package().maintenance("slvm1", true).expect("on");
    let e = s
        .hypervisor()
        .stop("slvm1", false)
        .expect_err("needs force");
    assert_eq!(e.kind, ErrorKind::Check);
    s.hypervisor().stop("slvm1", true).expect("stopped");
    assert!(changes(&sim)
        .iter()
        .any(|c| c == "node1: /opt/hpvm/bin/hpvmstop -P slvm1 -F"));
}

#[test]
fn write_config_then_read_config_round_trip() {
    let (s, sim, _) = site("hpvm", None);
    let cfg = s.package().read_config("slvm1").expect("read");
    assert_eq!(cfg["path"], "/etc/cmcluster/slvm1/slvm1.conf");
    assert_eq!(cfg["host"], "node1");
    let text = cfg["text"].as_str().expect("text").replace(
        "tkit/vtn/vtn/MONITOR_INTERVAL   30",
        "tkit/vtn/vtn/MONITOR_INTERVAL   60",
    );
    assert!(text.contains("MONITOR_INTERVAL   60"));
    let w = s
        .package()
        .write_config("slvm1", &text, None)
        .expect("written");
    assert_eq!(w["hosts"], serde_json::json!(["node1", "node2"]));
    let back = s.package().read_config("slvm1").expect("read back");
    assert_eq!(back["text"].as_str(), Some(text.as_str()));
    let on2 = sim.exec_line("node2", "cat /etc/cmcluster/slvm1/slvm1.conf");
    assert_eq!(on2.stdout, text);
    let ls = sim.exec_line("node2", "ls -ld /etc/cmcluster/slvm1/slvm1.conf");
    assert!(ls.stdout.starts_with("-rw-r--r--"), "{}", ls.stdout);
    // A text naming another package is refused before anything is written.
    let e = s
        .package()
        .write_config("slvm1", "package_name other\n", None)
        .expect_err("refused");
    assert_eq!(e.kind, ErrorKind::Usage);
}

#[test]
fn distribute_copies_with_modes_and_fixes_the_folder() {
    let (s, sim, _) = site("hpvm/package-dir-40777", None);
    let r = s.package().distribute("slvm1").expect("distributed");
    assert_eq!(r["modes"]["node2"], "drwxr-xr-x", "{r}");
    let ls = sim.exec_line("node2", "ls -ld /etc/cmcluster/slvm1");
    assert!(ls.stdout.starts_with("drwxr-xr-x"), "{}", ls.stdout);
    assert!(changes(&sim)
        .iter()
        .any(|c| c == "node2: chmod go-w /etc/cmcluster/slvm1"));
}

#[test]
fn check_under_a_40777_directory_names_the_chmod() {
    let (s, sim, _) = site("hpvm/package-dir-40777", None);
    let e = s.package().check("slvm1").expect_err("problems");
    assert_eq!(e.kind, ErrorKind::Check);
    assert!(e.message.contains("Incorrect permissions"), "{}", e.message);
    assert!(
        e.remedy
            .as_deref()
            .unwrap_or("")
            .contains("`chmod go-w /etc/cmcluster/slvm1` on node2"),
        "{e:?}"
    );
    assert!(changes(&sim).is_empty());
    let d = s.package().diagnose("slvm1").expect("diagnosis");
    assert_eq!(d["ok"], false);
    let row = d["verdicts"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|v| v["code"] == "directory_mode" && v["host"] == "node2")
        })
        .cloned()
        .expect("row");
    assert_eq!(row["ok"], false);
    assert_eq!(row["remedy"], "`chmod go-w /etc/cmcluster/slvm1` on node2");
}

#[test]
fn maintenance_left_on_is_diagnosed() {
    let (s, _sim, _) = site("hpvm/maintenance-left-on", None);
    let d = s.package().diagnose("slvm1").expect("diagnosis");
    let row = d["verdicts"]
        .as_array()
        .and_then(|a| a.iter().find(|v| v["code"] == "maintenance_file"))
        .cloned()
        .expect("row");
    assert_eq!(row["ok"], false, "{d}");
    assert!(
        row["remedy"]
            .as_str()
            .unwrap_or("")
            .contains("cmdeployvpkg -m 0 -P slvm1"),
        "{row}"
    );
}

#[test]
fn summary_reads_back_owner_switching_services_and_guest() {
    let (s, _sim, _) = site("hpvm", None);
    let sm = s.summary("slvm1").expect("summary");
    assert_eq!(sm["owner"], "node1");
    assert_eq!(sm["switching"], true);
    assert_eq!(sm["node_switching"]["node2"], "enabled");
    assert_eq!(sm["maintenance"], false);
    assert_eq!(sm["services"][0]["name"], "slvm1");
    assert_eq!(sm["guest"]["running_on"], serde_json::json!(["node1"]));
    assert_eq!(sm["owner_runs_guest"], true);
}

// `remove_halts_first_only_with_confirmation` moved to tests/hpvm_package_scripts.rs: the sequence is a script now.

#[test]
fn backup_copies_the_package_directory_on_every_member() {
    let (s, sim, _) = site("hpvm", None);
    let r = s.package().backup("slvm1").expect("backup");
    let dest = r["backup"].as_str().expect("path").to_string();
    assert!(dest.starts_with("/etc/cmcluster/slvm1/.backup/"), "{dest}");
    for h in ["node1", "node2"] {
        let out = sim.exec_line(h, &format!("cat {dest}/slvm1.conf"));
        assert_eq!(out.code(), 0, "{h}: {}", out.stderr);
    }
}

/// A transport over the simulator that loses the session right after `cmmovevpkg` was
/// delivered (the command ran on the host; the answer never came back), optionally firing
/// the run's cancel token as an operator's Ctrl-C would.
struct LoseAfterMove {
    sim: SimSite,
    cancel: Option<CancelToken>,
}

impl hascript_api::Exec for LoseAfterMove {
    fn exec(&self, cmd: &hascript_api::Command) -> Result<hascript_api::Output, Error> {
        let out = self.sim.exec().exec(cmd)?;
        if cmd.display().contains("cmmovevpkg") {
            if let Some(t) = &self.cancel {
                t.cancel();
                return Err(Error::cancelled());
            }
            return Err(
                Error::new(ErrorKind::Transport, "connection to node1 lost").on_host(&cmd.host)
            );
        }
        Ok(out)
    }
}

fn site_losing_the_move(cancel: bool) -> (HpvmSite, SimSite, Arc<Recorder>) {
    let sim = SimSite::new(Some("hpvm")).expect("site");
    let ui = Arc::new(Recorder::default());
    let token = CancelToken::new();
    let exec = Arc::new(LoseAfterMove {
        sim: sim.clone(),
        cancel: cancel.then(|| token.clone()),
    });
    let s = HpvmSite::new(
        Context::new(exec, sim.clock(), token, ui.clone()),
        topology(&sim),
    );
    (s, sim, ui)
}

/// The operation's half of a lost session (the script's: tests/hpvm_move.rs): not an
/// error, a move whose answer is unknown; the recovery routine stays pending for the
/// read-back.
#[test]
fn a_lost_session_during_the_move_is_a_result_to_settle_from_the_observed_state() {
    let (s, sim, ui) = site_losing_the_move(false);
    let r = op(&s, Package, "move_online", &["slvm1", "node2"]).expect("a result");
    assert_eq!((&r["sent"], &r["ok"]), (&json!(true), &json!(false)), "{r}");
    assert!(
        r["message"]
            .as_str()
            .unwrap_or("")
            .contains("connection to node1 lost"),
        "{r}"
    );
    assert!(
        ui.text().contains("connection to node1 lost"),
        "{}",
        ui.text()
    );
    assert_eq!(changes(&sim).len(), 1, "{:?}", changes(&sim));
    assert_eq!(pending_moves(&s).len(), 1);
}

/// Ctrl-C during cmmovevpkg: the operation stops with the cancellation and leaves its
/// routine pending, so the run executes it (tests/hpvm_move.rs).
#[test]
fn ctrl_c_during_the_move_leaves_the_recovery_pending() {
    let (s, sim, _) = site_losing_the_move(true);
    let e = op(&s, Package, "move_online", &["slvm1", "node2"]).expect_err("interrupted");
    assert_eq!(e.kind, ErrorKind::Cancelled);
    assert_eq!(
        pending_moves(&s),
        vec![json!({"procedure": "hpvm/recover-move", "params": {"package": "slvm1"}})]
    );
    assert!(sent(&sim).iter().any(|l| l.contains("cmmovevpkg")));
}

// `deploy_then_check_apply_and_run_an_unpackaged_guest` moved to tests/hpvm_package_scripts.rs: the sequence is a script now.

#[test]
fn deploy_needs_the_guest_running() {
    let (s, sim, _) = site("hpvm", None);
    s.hypervisor().stop("slvm2", false).expect("stopped");
    let e = s
        .package()
        .deploy("slvm2", &serde_json::Value::Null)
        .expect_err("not running");
    assert_eq!(e.kind, ErrorKind::Check);
    assert!(!changes(&sim).iter().any(|c| c.contains("cmdeployvpkg")));
}

// The conversion tests run the script now: tests/hpvm_convert.rs.

#[test]
fn guests_are_listed_once_with_where_they_run() {
    let (s, _sim, _) = site("hpvm", None);
    let g = s.hypervisor().guests().expect("guests");
    let slvm1 = g
        .as_array()
        .and_then(|a| a.iter().find(|x| x["name"] == "slvm1"))
        .cloned()
        .expect("slvm1");
    assert_eq!(slvm1["host"], "node1");
    assert_eq!(slvm1["vm_number"], "8");
    assert_eq!(slvm1["registered"], serde_json::json!(["node1", "node2"]));
    assert_eq!(slvm1["not_runnable"], serde_json::json!(["node2"]));
}

#[test]
fn fence_says_fencing_is_serviceguards_own() {
    let (s, _sim, _) = site("hpvm", None);
    let e = s.fence().stop().expect_err("unsupported");
    assert_eq!(e.kind, ErrorKind::Unsupported);
    let e = s.fence().agents().expect_err("nothing printed");
    assert_eq!(e.kind, ErrorKind::Unsupported);
    assert!(e
        .remedy
        .as_deref()
        .unwrap_or("")
        .contains("cluster.health()"));
}

#[test]
fn unreachable_cmappserver_is_diagnosed_and_found_in_messages() {
    let (s, _sim, _) = site("hpvm/cmappserver-unreachable", None);
    s.mark_logs().expect("marked");
    // Nothing was written since the mark …
    let since = s
        .cluster()
        .messages("app_server_unreachable", true)
        .expect("messages");
    assert_eq!(since, serde_json::json!([]));
    // … but the whole syslog has the manual's lines.
    let all = s
        .cluster()
        .messages("app_server_unreachable", false)
        .expect("messages");
    let lines: Vec<&str> = all
        .as_array()
        .map(|a| a.iter().filter_map(|h| h["line"].as_str()).collect())
        .unwrap_or_default();
    assert!(lines.iter().any(|l| l.contains("errno:238")), "{all}");
    let d = s.package().diagnose("slvm1").expect("diagnosis");
    let row = d["verdicts"]
        .as_array()
        .and_then(|a| a.iter().find(|v| v["code"] == "app_server_unreachable"))
        .cloned()
        .expect("row");
    assert_eq!(row["ok"], false, "{d}");
    assert!(
        row["remedy"].as_str().unwrap_or("").contains("DNS"),
        "{row}"
    );
}

#[test]
fn wait_node_state_returns_a_node_already_there_and_refuses_unknown_states() {
    let (s, _sim, _) = site("hpvm", None);
    let n = s
        .cluster()
        .wait_node_state("node2", "running", Duration::from_secs(60))
        .expect("already running");
    assert_eq!(n["name"], "node2");
    let e = s
        .cluster()
        .wait_node_state("node2", "sideways", Duration::from_secs(60))
        .expect_err("unknown state");
    assert_eq!(e.kind, ErrorKind::Usage);
    let e = s
        .cluster()
        .wait_node_state("node2", "halted", Duration::from_secs(30))
        .expect_err("never halts");
    assert_eq!(e.kind, ErrorKind::Timeout);
}

#[test]
fn placement_allows_only_node_list_members_and_reads_only() {
    let (s, sim, _) = site("hpvm", None);
    let p = s.hypervisor().placement("slvm1").expect("placement");
    assert_eq!(
        placement_verdicts(&p),
        [("node1".to_string(), false), ("node2".to_string(), true)]
    );
    assert_eq!(p[0]["reason"], "is where slvm1 runs now");
    assert_eq!(
        p[1]["reason"],
        "in the node_name list of slvm1, up, node switching enabled"
    );
    assert!(changes(&sim).is_empty(), "{:?}", sent(&sim));

    let (s, sim, _) = site("hpvm/target-not-in-node-list", None);
    let p = s.hypervisor().placement("slvm1").expect("placement");
    assert_eq!(
        placement_verdicts(&p),
        [
            ("node1".to_string(), false),
            ("node2".to_string(), false),
            ("node3".to_string(), true)
        ]
    );
    assert_eq!(
        p[1]["reason"],
        "not in the node_name list of slvm1 (node1, node3)"
    );
    assert!(changes(&sim).is_empty(), "{:?}", sent(&sim));
}

#[test]
fn placement_refuses_an_unpackaged_guest_and_disabled_node_switching() {
    let (s, _sim, _) = site("hpvm", None);
    let p = s.hypervisor().placement("slvm2").expect("placement");
    assert!(placement_verdicts(&p).iter().all(|(_, ok)| !ok), "{p}");
    assert!(
        p[1]["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("slvm2 is not a package: cmmovevpkg cannot move it")),
        "{p}"
    );
    s.package()
        .disable("slvm1", Some("node2"))
        .expect("node switching off");
    let p = s.hypervisor().placement("slvm1").expect("placement");
    assert_eq!(p[1]["allowed"], false, "{p}");
    assert_eq!(
        p[1]["reason"],
        "node switching of slvm1 on node2 is disabled"
    );
}

#[test]
fn placement_of_a_stopped_package_goes_nowhere_and_unknown_guests_are_usage_errors() {
    let (s, _sim, _) = site("hpvm/guest-not-running", None);
    let p = s.hypervisor().placement("slvm1").expect("placement");
    assert!(placement_verdicts(&p).iter().all(|(_, ok)| !ok), "{p}");
    assert!(
        p[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("slvm1 runs on no VM host")),
        "{p}"
    );
    let (s, sim, _) = site("hpvm", None);
    for bad in ["nosuch", "slvm1;reboot"] {
        let e = s.hypervisor().placement(bad).expect_err("refused");
        assert_eq!(e.kind, ErrorKind::Usage, "{bad}: {}", e.message);
        let e = s.hypervisor().group(bad).expect_err("refused");
        assert_eq!(e.kind, ErrorKind::Usage, "{bad}: {}", e.message);
    }
    assert!(changes(&sim).is_empty());
}

#[test]
fn group_names_the_package_and_guests_carry_the_generic_host() {
    let (s, _sim, _) = site("hpvm", None);
    assert_eq!(
        s.hypervisor().group("slvm1").expect("group"),
        serde_json::json!({"guest": "slvm1", "kind": "package", "members": ["slvm1"]})
    );
    assert_eq!(
        s.hypervisor().group("slvm2").expect("group"),
        serde_json::json!({"guest": "slvm2", "kind": "none", "members": ["slvm2"]})
    );
    let rows = s.hypervisor().guests().expect("guests");
    let hosts: Vec<(String, String)> = rows
        .as_array()
        .expect("array")
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap_or_default().to_string(),
                r["host"].as_str().unwrap_or("()").to_string(),
            )
        })
        .collect();
    assert_eq!(
        hosts,
        [
            ("slvm1".to_string(), "node1".to_string()),
            ("slvm2".to_string(), "node1".to_string())
        ]
    );
    assert!(rows[0]["state"].is_string());
}

/// `guests()` rows and `guest(g)` say the same thing: `host` is the VM host where the guest
/// runs, `state` one vocabulary with LDoms (`running`, `stopped`), the vendor's word in
/// `vm_state`.
#[test]
fn guests_rows_and_guest_agree_on_name_host_and_state() {
    let (s, _sim, _) = site("hpvm", None);
    let rows = s.hypervisor().guests().expect("guests");
    let rows = rows.as_array().expect("array");
    assert!(!rows.is_empty());
    for r in rows {
        let name = r["name"].as_str().expect("name");
        let g = s.hypervisor().guest(name).expect("guest");
        for key in [
            "name",
            "host",
            "state",
            "vm_state",
            "running_on",
            "vm_number",
            "os",
        ] {
            assert_eq!(r[key], g[key], "{key}: row {r} vs guest {g}");
        }
        let running = !r["host"].is_null();
        assert_eq!(
            r["state"],
            if running { "running" } else { "stopped" },
            "{r}"
        );
    }
    let g = s.hypervisor().guest("slvm1").expect("guest");
    assert_eq!(
        (g["host"].as_str(), g["state"].as_str()),
        (Some("node1"), Some("running"))
    );
    assert_eq!(g["vm_state"], "On (OS)");
}
