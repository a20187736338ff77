//! The shutdown facility's verification (17.3.1.2 step 2): every guest node's
//! `clsnmpsetup -l` against the others, `sdtool -s` with its remedies, and what follows a
//! verdict (`settle_after_verify`).

use std::time::Duration;

use hascript_api::objects::RecoveryOutcome;
use hascript_api::{Error, ErrorKind, Result, WaitEnd};
use serde_json::{json, Value};

use super::{REMEDY_7245, REMEDY_NODES_DISAGREE, REMEDY_REDO, SF_DEADLINE, SF_SETTLE};
use crate::commands as cmd;
use crate::facts::Inner;
use crate::parse::clsnmpsetup_l::SfConfigRow;
use crate::parse::log_scan;
use crate::parse::sdtool_s::{self, AgentVerdict, SdtoolStatus};
use crate::topology::{ControlDomain, GuestDomain};

/// One guest node's `clsnmpsetup -l`: its host and its rows, or why they could not be read.
pub(crate) type NodeSfConfig = (String, std::result::Result<Vec<SfConfigRow>, Error>);

/// How the `clsnmpsetup -l` rows of node `b` differ from node `a`'s, row by row (by
/// cluster host name), in words; empty when they agree.
fn row_differences(
    a_host: &str,
    a: &[&SfConfigRow],
    b_host: &str,
    b: &[&SfConfigRow],
) -> Vec<String> {
    let show = |r: &SfConfigRow| {
        format!(
            "PPAR {}, XSCF {}/{}, user {}",
            r.ppar_id, r.ip_address1, r.ip_address2, r.user_name
        )
    };
    let mut out = Vec::new();
    for ra in a {
        match b
            .iter()
            .find(|rb| rb.cluster_host_name == ra.cluster_host_name)
        {
            None => out.push(format!("no row for {} on {b_host}", ra.cluster_host_name)),
            Some(rb) if rb != ra => out.push(format!(
                "{}: {} on {a_host}, {} on {b_host}",
                ra.cluster_host_name,
                show(ra),
                show(rb)
            )),
            Some(_) => {}
        }
    }
    for rb in b {
        if !a
            .iter()
            .any(|ra| ra.cluster_host_name == rb.cluster_host_name)
        {
            out.push(format!("no row for {} on {a_host}", rb.cluster_host_name));
        }
    }
    out
}

/// The distinct test/init states of an `sdtool -s` answer, for progress lines.
fn sf_words(s: &SdtoolStatus) -> String {
    match s {
        SdtoolStatus::Table(rows) => rows
            .iter()
            .map(|r| format!("{}/{}", r.test_state, r.init_state))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
            .join(", "),
        SdtoolStatus::NotRunning { .. } => "SF not running".to_string(),
    }
}

impl Inner {
    /// `clsnmpsetup -l` on every guest node (17.3.1.2 step 2: "on each guest domain
    /// node"), in inventory order: each node's rows, or why it could not be read.
    pub(crate) fn sf_configs(&self) -> Result<Vec<NodeSfConfig>> {
        let mut out = Vec::new();
        for g in &self.topo.guests {
            match self.sf_config_on(&g.name) {
                Err(e) if e.kind == ErrorKind::Cancelled => return Err(e),
                r => out.push((g.name.clone(), r)),
            }
        }
        Ok(out)
    }

    /// Problems of every guest node's `clsnmpsetup -l` (all rows, or only `only`'s domain):
    /// a node that cannot be read, a node whose rows differ from the first node's, and rows
    /// that disagree with the box hosting their domain (said once for the nodes that agree
    /// with the first one).
    pub(crate) fn sf_config_problems(&self, only: Option<&str>) -> Result<Vec<String>> {
        let configs = self.sf_configs()?;
        Ok(self.sf_config_problems_in(&configs, only)?.0)
    }

    /// [`Inner::sf_config_problems`] over rows already read, and whether nodes disagree.
    fn sf_config_problems_in(
        &self,
        configs: &[NodeSfConfig],
        only: Option<&str>,
    ) -> Result<(Vec<String>, bool)> {
        let mut problems = Vec::new();
        let mut disagree = false;
        let mut reference: Option<(&str, Vec<&SfConfigRow>)> = None;
        let mut hosting: std::collections::HashMap<String, Option<ControlDomain>> =
            std::collections::HashMap::new();
        for (host, rows) in configs {
            let rows = match rows {
                Ok(r) => r,
                Err(e) => {
                    problems.push(format!(
                        "{host}: clsnmpsetup -l could not be read: {}",
                        e.message
                    ));
                    continue;
                }
            };
            let rows: Vec<&SfConfigRow> = rows
                .iter()
                .filter(|r| only.is_none_or(|o| o == r.domain_name))
                .collect();
            match &reference {
                None => reference = Some((host, rows.clone())),
                Some((ref_host, ref_rows)) => {
                    let diffs = row_differences(ref_host, ref_rows, host, &rows);
                    if diffs.is_empty() {
                        // Same rows: the first node's verdict on them holds.
                        continue;
                    }
                    disagree = true;
                    problems.push(format!(
                        "{host}'s clsnmpsetup -l differs from {ref_host}'s: {}",
                        diffs.join("; ")
                    ));
                }
            }
            for r in rows {
                if !hosting.contains_key(&r.domain_name) {
                    let cd = match self.locate(&r.domain_name)?.control_domain() {
                        Some(name) => Some(self.cd(name)?),
                        None => None,
                    };
                    hosting.insert(r.domain_name.clone(), cd);
                }
                let Some(Some(cd)) = hosting.get(&r.domain_name) else {
                    continue;
                };
                if r.ppar_id_num() != Some(cd.ppar_id)
                    || r.ip_address1 != cd.xscf_lan0
                    || r.ip_address2 != cd.xscf_lan1
                {
                    problems.push(format!(
                        "{host}: {} ({}) runs on {} (PPAR {}, XSCF {}/{}) but its SF row says PPAR {}, XSCF {}/{}",
                        r.cluster_host_name, r.domain_name, cd.name, cd.ppar_id, cd.xscf_lan0, cd.xscf_lan1,
                        r.ppar_id, r.ip_address1, r.ip_address2
                    ));
                }
                if let Some(u) = &self.topo.xscf_user {
                    if &r.user_name != u {
                        problems.push(format!(
                            "{host}: {}: XSCF user {} (inventory: {u})",
                            r.cluster_host_name, r.user_name
                        ));
                    }
                }
            }
        }
        Ok((problems, disagree))
    }

    /// 17.3.1.2 step 2: after SF has had 30 s, poll `sdtool -s` on every guest node until no
    /// row is transitional, compare `clsnmpsetup -l` with the hosting boxes, and on
    /// `TestFailed`/`InitFailed` look for message 7245. Returns the verdict; never throws
    /// for a failed verdict (the caller decides).
    pub fn verify_fence(&self) -> Result<Value> {
        self.verify_fence_settle(SF_SETTLE)
    }

    /// [`Inner::verify_fence`] giving SF `settle` after `clovmmigrate -u` instead of the
    /// manual's 30 s (`fence.verify(#{settle: s})`).
    pub fn verify_fence_settle(&self, settle: Duration) -> Result<Value> {
        if let Some(t) = self.last_update() {
            let since = self.now().saturating_sub(t);
            if since < settle.as_secs() {
                let wait = settle.as_secs() - since;
                self.ctx.ui.info(&format!(
                    "waiting {wait} s for the shutdown facility to test its agents (17.3.1.2)"
                ));
                self.ctx.sleep(Duration::from_secs(wait))?;
            }
        }
        let mut problems: Vec<String> = Vec::new();
        let mut agents = Vec::new();
        let mut any_failed = false;
        let mut any_transitional = false;
        // Right after `clovmmigrate -u` a stopped SF may still be starting; otherwise (a
        // health check) "not running" is the answer, not a state to wait out.
        let sf_starting = self
            .last_update()
            .is_some_and(|t| self.now().saturating_sub(t) < SF_DEADLINE.as_secs());
        for g in &self.topo.guests {
            let what = format!("sdtool -s on {} to settle", g.name);
            let end = self.ctx.poll(
                &what,
                SF_DEADLINE,
                Duration::from_secs(5),
                || {
                    let s = self.sdtool_on(&g.name)?;
                    let settled = match &s {
                        SdtoolStatus::Table(rows) => {
                            sdtool_s::verdict(rows) != AgentVerdict::Transitional
                        }
                        SdtoolStatus::NotRunning { .. } => !sf_starting,
                    };
                    Ok((settled, s))
                },
                sf_words,
            )?;
            let status = match end {
                WaitEnd::Done(s) | WaitEnd::Deadline(s) => s,
            };
            match &status {
                SdtoolStatus::Table(rows) => {
                    let v = sdtool_s::verdict(rows);
                    for r in rows {
                        let healthy = r.test_state == "TestWorked" && r.init_state == "InitWorked";
                        if !healthy {
                            problems.push(format!(
                                "{}: {} {} {} {}",
                                g.name, r.cluster_host, r.agent, r.test_state, r.init_state
                            ));
                        }
                    }
                    match v {
                        AgentVerdict::Failed => any_failed = true,
                        AgentVerdict::Transitional => any_transitional = true,
                        AgentVerdict::Healthy => {}
                    }
                    agents.push(json!({"host": g.name, "verdict": format!("{v:?}"), "rows": rows}));
                }
                SdtoolStatus::NotRunning { raw } => {
                    any_failed = true;
                    problems.push(format!(
                        "{}: shutdown facility not running: {}",
                        g.name,
                        raw.trim()
                    ));
                    agents.push(json!({"host": g.name, "verdict": "NotRunning", "rows": []}));
                }
            }
        }
        // clsnmpsetup -l on every node, each compared with the boxes and with the others.
        let configs = self.sf_configs()?;
        let (config_problems, nodes_disagree) = self.sf_config_problems_in(&configs, None)?;
        problems.extend(config_problems.iter().cloned());
        let config = configs
            .iter()
            .find_map(|(_, r)| r.as_ref().ok())
            .map(|r| json!(r))
            .unwrap_or(json!([]));
        let configs: Vec<Value> = configs
            .iter()
            .map(|(h, r)| match r {
                Ok(rows) => json!({"host": h, "rows": rows, "error": Value::Null}),
                Err(e) => json!({"host": h, "rows": [], "error": e.message}),
            })
            .collect();
        let mut message_7245 = Vec::new();
        if any_failed {
            // From each node's size before the latest clovmmigrate -u (this run's or the
            // newest an earlier run journaled); with none, the whole file, each line with
            // its time and said to be possibly older.
            for g in &self.topo.guests {
                let (text, since_update) = match self.messages_since_update(&g.name) {
                    Ok(t) => t,
                    Err(e) if e.kind == ErrorKind::Cancelled => return Err(e),
                    Err(_) => continue,
                };
                for hit in log_scan::find_message(&text, 7245) {
                    let time = crate::facts::syslog_time(&hit.line);
                    let when = time.clone().unwrap_or_else(|| "an unknown time".into());
                    problems.push(if since_update {
                        format!(
                            "{}: message 7245 at {when}, written after the latest clovmmigrate -u: {}",
                            g.name, hit.line
                        )
                    } else {
                        format!(
                            "{}: message 7245 at {when}: {} (no size of {} was recorded before a clovmmigrate -u by any run, so the whole file was read: this line may be older than the latest -u; compare its time, and mind that the nodes' clocks may disagree, A4)",
                            g.name, hit.line, cmd::MESSAGES
                        )
                    });
                    message_7245.push(json!({
                        "host": g.name, "line": hit.line, "time": time,
                        "since_update": since_update,
                    }));
                }
            }
        }
        let ok = problems.is_empty();
        let remedy = if ok {
            Value::Null
        } else if !message_7245.is_empty() {
            Value::String(REMEDY_7245.to_string())
        } else if any_failed {
            Value::String(REMEDY_REDO.to_string())
        } else if nodes_disagree {
            Value::String(REMEDY_NODES_DISAGREE.to_string())
        } else if any_transitional {
            Value::String(format!(
                "the shutdown facility did not finish testing its agents within {} s: run ldoms/verify-fence again in a few minutes; if rows stay Testing/Initing, {REMEDY_REDO}",
                SF_DEADLINE.as_secs()
            ))
        } else {
            Value::String("the shutdown facility settings do not match the boxes that host the guests: redo 17.3.1.2 from step 1 with the control domain where the guest runs".to_string())
        };
        Ok(json!({
            "ok": ok, "problems": problems, "agents": agents, "config": config,
            "configs": configs, "message_7245": message_7245, "remedy": remedy,
        }))
    }

    /// A failed verdict as a `Check` error carrying the remedy.
    pub fn verdict_error(verdict: &Value) -> Error {
        let problems: Vec<String> = verdict["problems"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|p| p.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let has_7245 = verdict["message_7245"]
            .as_array()
            .is_some_and(|a| !a.is_empty());
        let head = if has_7245 {
            "shutdown facility check failed (17.3.1.2 step 2) and /var/adm/messages holds message 7245"
        } else {
            "shutdown facility check failed (17.3.1.2 step 2)"
        };
        let mut e = Error::check(format!("{head}:\n  - {}", problems.join("\n  - ")));
        if let Some(r) = verdict["remedy"].as_str() {
            e = e.with_remedy(r);
        }
        e
    }

    /// After `fence.verify()`: the bracket of every guest whose 17.3.1.2 step 1 this run
    /// did (or found done) is complete when the verdict passes — its routine is settled
    /// as not needed and the time without fencing is shown; when the verdict fails, the
    /// routine is handed to the operator with the verdict's remedy (running it again
    /// would only repeat step 1 and the same check).
    pub fn settle_after_verify(&self, verdict: &Value) {
        let ok = verdict["ok"] == Value::Bool(true);
        for name in self.finished_guests() {
            let Some(g) = self.topo.guest(&name).cloned() else {
                continue;
            };
            let ids = self.migration_routines(&g);
            // The bracket ends here when this run sent 17.3.1.2 step 1 or held its routine.
            if ok && (!ids.is_empty() || self.last_update().is_some()) {
                self.say_fencing_back(&g);
            }
            if ids.is_empty() {
                continue;
            }
            for id in ids {
                if ok {
                    self.ctx.recoveries.settle(
                        id,
                        RecoveryOutcome::NotNeeded,
                        "driver",
                        Some("17.3.1.2 done and the shutdown facility verified"),
                    );
                } else {
                    let e = Self::verdict_error(verdict);
                    let detail = match &e.remedy {
                        Some(r) => format!("{}; remedy: {r}", e.message),
                        None => e.message.clone(),
                    };
                    self.ctx.recoveries.settle(
                        id,
                        RecoveryOutcome::LeftForOperator,
                        "driver",
                        Some(&detail),
                    );
                }
            }
        }
    }

    /// The verified end of a bracket: how long the cluster ran without fencing, from
    /// 17.3.1.1 in this run or, for a step script, in the newest earlier run on this site
    /// that did it for `guest` (the run layer's journals).
    fn say_fencing_back(&self, guest: &GuestDomain) {
        match self.fencing_off_since(guest) {
            Some(t) => self.ctx.ui.info(&format!(
                "shutdown facility verified; the cluster ran {} s without fencing",
                self.now().saturating_sub(t)
            )),
            None => self.ctx.ui.info(
                "shutdown facility verified; fencing is back (how long it was off is not known: no run of hascript on this site did 17.3.1.1)",
            ),
        }
    }
}
