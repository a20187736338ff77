//! After migration (A3, 17.3.1.2 step 1): `clovmmigrate -u` on the host `ldm list -p` says
//! runs the guest, its evidence and read-back.

use hascript_api::{Error, ErrorKind, Result};
use serde_json::{json, Value};

use super::REMEDY_7245;
use crate::commands as cmd;
use crate::facts::Inner;
use crate::locate::Location;
use crate::parse::sdtool_s::{self, AgentVerdict, SdtoolStatus};
use crate::topology::{ControlDomain, GuestDomain};

impl Inner {
    /// Where `clovmmigrate -u` must run: the control domain the guest left. Known inside
    /// the bracket; for a standalone run it is the control domain whose box the guest's SF
    /// row still points at (the row changes only with `-u`).
    fn update_host(&self, guest: &GuestDomain, now_cd: &ControlDomain) -> Result<ControlDomain> {
        let (_, rows) = self.on_witness(None, |g| self.sf_config_on(g))?;
        let row = rows
            .iter()
            .find(|r| r.domain_name == guest.domain)
            .ok_or_else(|| {
                Error::check(format!(
                    "clsnmpsetup -l has no row for domain {}",
                    guest.domain
                ))
            })?;
        let owner = self.topo.control_domains.iter().find(|c| {
            row.ppar_id_num() == Some(c.ppar_id)
                && row.ip_address1 == c.xscf_lan0
                && row.ip_address2 == c.xscf_lan1
        });
        match owner {
            Some(c) if c.box_name == now_cd.box_name && c.ppar_id == now_cd.ppar_id => Ok(now_cd.clone()),
            Some(c) => {
                // Several control domains can share a box; the source is the one on that box.
                Ok(c.clone())
            }
            None => Err(Error::needs_attention(format!(
                "the shutdown facility row of {} points at PPAR {} and XSCF {}/{}, which no control domain of the inventory has",
                guest.domain, row.ppar_id, row.ip_address1, row.ip_address2
            ))),
        }
    }

    /// 17.3.1.2 step 1: check the saved-configuration rule on both control domains, then
    /// `clovmmigrate -u GUEST TARGET-HOST` on the source control domain, where TARGET-HOST
    /// is the control domain where the guest runs **now** (determined here, never taken
    /// blindly). `target`, when given, must agree. `source` is known inside the bracket.
    ///
    /// Around `-u`: the size of every guest node's `/var/adm/messages` just before it
    /// (journaled: the search for message 7245 starts there, in this run or a later one),
    /// and what `-u` promises read back — `cftool -n` and `ldm list-spconfig` on both
    /// control domains before and after (evidence), a saved configuration on each of them
    /// after (`[current]`, not factory-default, no `config_tmp` left), every node's SF row
    /// of the guest pointing at the box that hosts it. What is not there is warned with
    /// its remedy and is `readback.ok: false` (fencing is back either way: step 2 follows).
    ///
    /// Returns `#{guest, source, control_domain, target_host, changed, messages_size,
    /// evidence: #{before, after}, readback: #{ok, problems, spconfigs, sf_settings}}`
    /// (`()` where nothing was sent).
    pub fn finish(
        &self,
        guest: &GuestDomain,
        target: Option<&str>,
        source: Option<&ControlDomain>,
    ) -> Result<Value> {
        self.mark_logs()?;
        let loc = self.settled_location(guest)?;
        let now_cd = match &loc {
            Location::Running { control_domain } => self.cd(control_domain)?,
            other => {
                return Err(Error::check(format!(
                "17.3.1.2 needs the guest running: {}; run ldoms/recover-migration (17.3.1.1 note)",
                other.describe(&guest.domain)
            )))
            }
        };
        if let Some(t) = target {
            let given = self.resolve_cd("target", t)?;
            if given.name != now_cd.name {
                return Err(Error::usage(format!(
                    "{} runs on {}, not on {}: clovmmigrate -u must name the control domain where the guest runs now (a wrong one points fencing at the wrong XSCF); refusing",
                    guest.domain, now_cd.name, given.name
                )));
            }
        }
        let source = match source {
            Some(s) => s.clone(),
            None => self.update_host(guest, &now_cd)?,
        };
        if source.name == now_cd.name && self.finished_state(guest)? {
            self.ctx.ui.info(&format!(
                "{} runs on {}, the CF timeout is normal, SF is running with its settings and no agent reads TestFailed/InitFailed: 17.3.1.2 step 1 was done before; nothing to do",
                guest.domain, now_cd.name
            ));
            self.note_finished(&guest.domain);
            return Ok(json!({
                "guest": guest.domain, "source": Value::Null, "control_domain": now_cd.name,
                "target_host": Value::Null, "changed": false, "messages_size": Value::Null,
                "evidence": Value::Null, "readback": Value::Null,
            }));
        }
        let mut cds = vec![source.name.clone()];
        if now_cd.name != source.name {
            cds.push(now_cd.name.clone());
        }
        self.enforce_spconfig_rule(&cds)?;
        let (registered, detail) = self.target_host_registered(&source, &now_cd)?;
        if !registered {
            return Err(Error::check(format!(
                "{detail}: clovmmigrate -u would fail"
            ))
            .with_remedy("add the control domain to /etc/inet/hosts on the source control domain, then run ldoms/post-migration"));
        }
        self.warn_unknown_xscf_keys(guest, &now_cd)?;
        let before = self.update_evidence(&cds)?;
        let messages_size = self.mark_before_update()?;
        self.ctx.run_ok(&cmd::clovmmigrate_update(
            &source.name,
            &guest.domain,
            &now_cd.hosts_name,
        ))?;
        self.set_last_update(self.now());
        self.note_finished(&guest.domain);
        let after = self.update_evidence(&cds)?;
        let readback = self.update_readback(guest, &now_cd, &cds, &after)?;
        Ok(json!({
            "guest": guest.domain, "source": source.name, "control_domain": now_cd.name,
            "target_host": now_cd.hosts_name, "changed": true, "messages_size": messages_size,
            "evidence": {"before": before, "after": after}, "readback": readback,
        }))
    }

    /// What `clovmmigrate -u` changes, as evidence: `#{cftool_n, spconfigs: #{cd: [..]}}`.
    fn update_evidence(&self, cds: &[String]) -> Result<Value> {
        let nodes = self.cf_nodes(None)?;
        let mut spconfigs = serde_json::Map::new();
        for cd in cds {
            spconfigs.insert(
                cd.clone(),
                serde_json::to_value(self.spconfigs(cd)?).unwrap_or_default(),
            );
        }
        Ok(json!({"cftool_n": nodes, "spconfigs": spconfigs}))
    }

    /// Read back what `clovmmigrate -u` promises (its effects 2 and 4 in procedures.md A3;
    /// the CF timeout and SF start are step 2's): a saved configuration on each control
    /// domain of `cds` (`after`'s `ldm list-spconfig`: one marked `[current]` that is not
    /// factory-default, and no `config_tmp` left — a live migration takes `[current]` away
    /// until the running configuration is saved), and the guest's row of `clsnmpsetup -l`
    /// on every guest node pointing at `now_cd`'s box. Each problem is warned with its
    /// remedy. Returns `#{ok, problems, spconfigs: [#{control_domain, saved, current}],
    /// sf_settings: [#{host, ppar_id, ip_address1, ip_address2, ok}]}`.
    fn update_readback(
        &self,
        guest: &GuestDomain,
        now_cd: &ControlDomain,
        cds: &[String],
        after: &Value,
    ) -> Result<Value> {
        let mut problems: Vec<String> = Vec::new();
        let mut saved_rows = Vec::new();
        for cd in cds {
            let list = after["spconfigs"][cd]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let name = |c: &Value| c["name"].as_str().unwrap_or("").to_string();
            let current = list
                .iter()
                .find(|c| c["current"] == Value::Bool(true))
                .map(name);
            let tmp_left = list.iter().any(|c| name(c) == crate::spconfig::CONFIG_TMP);
            let saved = matches!(&current, Some(n) if n != "factory-default") && !tmp_left;
            if !saved {
                let next = list
                    .iter()
                    .find(|c| c["next_poweron"] == Value::Bool(true))
                    .map(name)
                    .unwrap_or_else(|| "factory-default".into());
                let why = if tmp_left {
                    format!("{} is left over", crate::spconfig::CONFIG_TMP)
                } else {
                    match &current {
                        Some(n) => format!("the current configuration is {n}"),
                        None => format!("`ldm list-spconfig` marks no configuration [current]; {next} is [next poweron]"),
                    }
                };
                let msg = format!(
                    "clovmmigrate -u saved no configuration on {cd}: {why}, so the running configuration (with {} where it is now) is not what {cd}'s box boots at its next power cycle",
                    guest.domain
                );
                self.ctx.ui.warn(&format!(
                    "{msg}. Remedy: on {cd}, save it: `ldm add-spconfig NAME` (a new name; at most 8 on the service processor), or `ldm remove-spconfig {next}; ldm add-spconfig {next}` to update {next}; then check that `ldm list-spconfig` marks it [current]"
                ));
                problems.push(msg);
            }
            saved_rows.push(json!({"control_domain": cd, "saved": saved, "current": current}));
        }
        let mut sf_rows = Vec::new();
        for g in &self.topo.guests {
            let rows = match self.sf_config_on(&g.name) {
                Ok(r) => r,
                Err(e) if e.kind == ErrorKind::Cancelled => return Err(e),
                Err(e) => {
                    problems.push(format!(
                        "{}: clsnmpsetup -l could not be read: {}",
                        g.name, e.message
                    ));
                    continue;
                }
            };
            let Some(r) = rows.iter().find(|r| r.domain_name == guest.domain) else {
                problems.push(format!(
                    "{}: clsnmpsetup -l has no row for {}",
                    g.name, guest.domain
                ));
                continue;
            };
            let ok = r.ppar_id_num() == Some(now_cd.ppar_id)
                && r.ip_address1 == now_cd.xscf_lan0
                && r.ip_address2 == now_cd.xscf_lan1;
            if !ok {
                problems.push(format!(
                    "{}: the SF row of {} still says PPAR {}, XSCF {}/{} after clovmmigrate -u (it runs on {}: PPAR {}, XSCF {}/{})",
                    g.name, guest.domain, r.ppar_id, r.ip_address1, r.ip_address2,
                    now_cd.name, now_cd.ppar_id, now_cd.xscf_lan0, now_cd.xscf_lan1
                ));
            }
            sf_rows.push(json!({
                "host": g.name, "ppar_id": r.ppar_id, "ip_address1": r.ip_address1,
                "ip_address2": r.ip_address2, "ok": ok,
            }));
        }
        Ok(json!({
            "ok": problems.is_empty(), "problems": problems, "spconfigs": saved_rows,
            "sf_settings": sf_rows,
        }))
    }

    /// Before `clovmmigrate -u` restarts the shutdown facility: every guest node must know
    /// the host keys of the XSCFs its agents will test (the boxes hosting the cluster's
    /// guests, `guest` on `now_cd`), or the tests fail with message 7245. A missing key is
    /// a warning with the remedy, never a refusal: the step restores fencing and must not
    /// be held back by it.
    fn warn_unknown_xscf_keys(&self, guest: &GuestDomain, now_cd: &ControlDomain) -> Result<()> {
        let mut boxes: Vec<&ControlDomain> = vec![now_cd];
        for cd in &self.topo.control_domains {
            if boxes.iter().any(|b| b.name == cd.name) {
                continue;
            }
            let hosts_other_guest = self.domains(&cd.name)?.iter().any(|d| {
                d.name() != guest.domain && self.topo.guests.iter().any(|g| g.domain == d.name())
            });
            if hosts_other_guest {
                boxes.push(cd);
            }
        }
        let mut missing = Vec::new();
        for g in &self.topo.guests {
            let mut addrs = Vec::new();
            for cd in &boxes {
                for addr in [&cd.xscf_lan0, &cd.xscf_lan1] {
                    if self.ctx.run(&cmd::known_host(&g.name, addr))?.code() == 1 {
                        addrs.push(format!("{addr} ({})", cd.box_name));
                    }
                }
            }
            if !addrs.is_empty() {
                missing.push(format!("{} to {}", g.name, addrs.join(", ")));
            }
        }
        if !missing.is_empty() {
            self.ctx.ui.warn(&format!(
                "no first SSH connection yet from {}: the shutdown facility's tests will fail after clovmmigrate -u. {REMEDY_7245}",
                missing.join("; ")
            ));
        }
        Ok(())
    }

    /// Whether step 1 needs no doing: normal CF timeout and SF running on every node with
    /// no agent `TestFailed`/`InitFailed` (a failed step 2 means step 1 is redone: "redo
    /// 17.3.1.2 from step 1"), and the guest's SF row pointing at the box that hosts it on
    /// every node. Rows still testing right after a `-u` do not count as failed.
    fn finished_state(&self, guest: &GuestDomain) -> Result<bool> {
        for g in &self.topo.guests {
            if self.cf_timeout_on(&g.name)? != self.topo.cf_timeout {
                return Ok(false);
            }
            match self.sdtool_on(&g.name)? {
                SdtoolStatus::Table(rows) if sdtool_s::verdict(&rows) != AgentVerdict::Failed => {}
                _ => return Ok(false),
            }
        }
        let problems = self.sf_config_problems(Some(&guest.domain))?;
        Ok(problems.is_empty())
    }
}
