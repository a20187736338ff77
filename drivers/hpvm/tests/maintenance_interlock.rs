//! The move's own interlock (issue 13, defect 1): `cmmovevpkg` is never sent to a target
//! holding the toolkit's maintenance file, even when the file appears after the preflight
//! passed — the check lives in the operation that sends the move, not only in the preflight
//! a script could skip.

mod support;

use std::sync::Arc;

use hascript_api::objects::Context;
use hascript_api::{CancelToken, Command, Error, ErrorKind, Exec, Output, Site};
use hascript_hpvm::HpvmSite;
use hascript_sim::SimSite;
use hascript_testkit::Recorder;
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
    let e = s
        .hypervisor()
        .migrate("slvm1", "node2")
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
    assert!(ui.text().contains("preflight passed"), "{}", ui.text());
}
