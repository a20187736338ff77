//! The move's own interlock (issue 13, defect 1): `cmmovevpkg` is never sent to a target
//! holding the toolkit's maintenance file, even when the file appears after the preflight
//! passed — the check lives in the operation that sends the move, not only in the preflight
//! a script could skip. The operations are called here in the order hpvm/move-package
//! calls them (its preflight's checks, then `package.move_online`); the same through the
//! script is tests/hpvm_move.rs.

mod support;

use std::sync::Arc;

use hascript_api::objects::Context;
use hascript_api::{CancelToken, Command, Error, ErrorKind, Exec, Object, Output, Site};
use hascript_hpvm::HpvmSite;
use hascript_sim::SimSite;
use hascript_testkit::Recorder;
use serde_json::{json, Value};
use support::{sent, topology};

/// A transport over the simulator that, right after the preflight's last read
/// (`hpvmmigrate -s`), enters toolkit maintenance on `host` behind the run's back.
struct MaintenanceAppears {
    sim: Arc<SimSite>,
    host: &'static str,
}

impl Exec for MaintenanceAppears {
    fn exec(&self, cmd: &Command) -> Result<Output, Error> {
        let out = self.sim.exec().exec(cmd)?;
        if cmd.line().contains("hpvmmigrate -s") {
            let o = self.sim.exec_line(
                self.host,
                "/etc/cmcluster/scripts/tkit/vtn/cmdeployvpkg -m 1 -P slvm1",
            );
            assert_eq!(o.code(), 0, "{}", o.stderr);
        }
        Ok(out)
    }
}

/// `object.name(args…)` of the operation table, as a script calls it.
fn op(s: &HpvmSite, object: Object, name: &str, args: &[&str]) -> Result<Value, Error> {
    let args: Vec<Value> = args.iter().map(|a| json!(a)).collect();
    s.operation(object, name, &args)
}

#[test]
fn cmmovevpkg_is_refused_when_the_target_holds_the_file_after_the_preflight() {
    let sim = Arc::new(SimSite::new(Some("hpvm")).expect("site"));
    let ui = Arc::new(Recorder::default());
    let exec = Arc::new(MaintenanceAppears {
        sim: sim.clone(),
        host: "node2",
    });
    let s = HpvmSite::new(
        Context::new(exec, sim.clock(), CancelToken::new(), ui.clone()),
        topology(&sim),
    );
    // The preflight's checks, in the order hpvm/move-package runs them (lib/hpvm/move's
    // preflight_checks); every verdict passes: the file is not there yet.
    let owner = op(&s, Object::Package, "check_owner", &["slvm1", "node2"]).expect("owner");
    assert_eq!(owner["source"], "node1", "{owner}");
    let checks: &[(Object, &str, &[&str])] = &[
        (Object::Package, "check_toolkit", &["slvm1"]),
        (Object::Package, "check_target_member", &["slvm1", "node2"]),
        (Object::Package, "check_guest_storage", &["slvm1", "node1"]),
        (Object::Package, "check_maintenance", &["slvm1", "node2"]),
        (Object::Hypervisor, "check_product", &["node1", "T8718AC"]),
        (
            Object::Hypervisor,
            "check_product",
            &["node1", "SG-IVS-Toolkit"],
        ),
        (Object::Hypervisor, "check_product", &["node2", "T8718AC"]),
        (
            Object::Hypervisor,
            "check_product",
            &["node2", "SG-IVS-Toolkit"],
        ),
        (
            Object::Hypervisor,
            "check_hpvmmigrate",
            &["slvm1", "node1", "node2"],
        ),
    ];
    let mut verdicts = vec![owner];
    for (object, name, args) in checks {
        match op(&s, *object, name, args).expect(name) {
            Value::Array(a) => verdicts.extend(a),
            v => verdicts.push(v),
        }
    }
    let hosts = json!(["node1", "node2"]);
    match s
        .operation(
            Object::Package,
            "check_appmon_release",
            &[json!("slvm1"), hosts],
        )
        .expect("appmon")
    {
        Value::Array(a) => verdicts.extend(a),
        v => verdicts.push(v),
    }
    assert!(
        verdicts.iter().all(|v| v["ok"] == true),
        "the preflight passed: {verdicts:#?}"
    );
    let e = op(&s, Object::Package, "move_online", &["slvm1", "node2"])
        .expect_err("refused by the interlock");
    assert_eq!(e.kind, ErrorKind::Check, "{e:?}");
    assert!(
        e.message
            .contains("/etc/cmcluster/slvm1/vtn.debug exists on node2"),
        "{}",
        e.message
    );
    assert!(
        e.remedy.as_deref().unwrap_or("").contains("state=off"),
        "{e:?}"
    );
    let log = sent(&sim);
    assert!(
        log.iter().any(|l| l.contains("hpvmmigrate -s")),
        "the preflight ran and passed: {log:#?}"
    );
    assert!(
        !log.iter().any(|l| l.contains("cmmovevpkg")),
        "cmmovevpkg was sent: {log:#?}"
    );
    // Refused before its routine was registered: nothing to recover.
    assert!(s.context().recoveries.pending().is_empty());
}
