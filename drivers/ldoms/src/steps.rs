//! The single steps of PRIMECLUSTER 4.5 §17.3.1 (procedures.md Part A) as operations, each
//! one manual action with its own guard rails: before migration (A1, 17.3.1.1), the move,
//! after migration (A3, 17.3.1.2 step 1), the shutdown facility's verification (step 2),
//! the time-sync check (A4) and the reads and waits of the recovery (A2). The sequence and
//! its decisions are the procedure scripts' (`scripts/ldoms/`); no function here calls two
//! manual steps in a row. The preflight's checks are in [`crate::checks`].

use std::time::Duration;

use hascript_api::objects::{RecoveryGuard, RecoveryOutcome};
use hascript_api::{validate_name, Error, ErrorKind, Result, WaitEnd};
use serde_json::{json, Value};

use crate::commands as cmd;
use crate::facts::Inner;
use crate::locate::Location;
use crate::parse::cftool_n::NodeState;
use crate::parse::clsnmpsetup_l::SfConfigRow;
use crate::parse::log_scan;
use crate::parse::sdtool_s::{self, AgentVerdict, SdtoolStatus};
use crate::topology::{ControlDomain, GuestDomain};

/// CF timeout `clovmmigrate -p` sets (seconds).
pub const MIGRATION_CF_TIMEOUT: i64 = 600;
/// How long the guest's CF node takes to go DOWN after a stopped migration: "about
/// 600 s after clovmmigrate" (note under 17.3.1.1), counted from the start of the wait.
pub const DOWN_EXPECTED: Duration = Duration::from_secs(600);
/// Deadline for the guest's CF node to go DOWN after a stopped migration (the manual's
/// "about 600 s" plus margin).
pub const DOWN_DEADLINE: Duration = Duration::from_secs(900);
/// Deadline for a restarted guest's CF node to come UP.
pub const UP_DEADLINE: Duration = Duration::from_secs(900);
/// How long SF may take to detect wrong settings after `clovmmigrate -u` (17.3.1.2).
pub const SF_SETTLE: Duration = Duration::from_secs(30);
/// Deadline for `sdtool -s` rows to leave transitional states.
pub const SF_DEADLINE: Duration = Duration::from_secs(300);
/// Deadline for a migration that is still under way to end.
pub const MIGRATION_DEADLINE: Duration = Duration::from_secs(1800);
/// How long the `ldm migrate-domain` command may run before the transport gives up on it
/// (a large guest over a slow link takes long; the guest is located afterwards anyway).
pub const MIGRATE_COMMAND_TIMEOUT: Duration = Duration::from_secs(4 * 3600);
/// Poll interval of the waits.
pub const POLL: Duration = Duration::from_secs(10);

/// Remedy of message 7245 (17.3.1.2 step 2).
pub const REMEDY_7245: &str = "message 7245: the first SSH connection from the guest nodes to the XSCF has not been completed. From each guest node, connect once with ssh to the XSCF of the box that hosts each guest, on XSCF-LAN#0 and XSCF-LAN#1, as the shutdown facility's XSCF user, and accept the host key; then redo 17.3.1.2 from step 1 (hascript run ldoms/post-migration). Details: PRIMECLUSTER messages guide, message 7245. Manual (17.3.1.2): 「/var/adm/messagesファイルに7245番のメッセージが出力されている場合は、XSCFへのSSH初回接続が完了していません。“PRIMECLUSTER 活用ガイド<メッセージ集>”を参照してください。」";
/// Remedy of TestFailed/InitFailed without 7245 (17.3.1.2 step 2).
pub const REMEDY_REDO: &str = "the shutdown facility settings may not have been changed: redo 17.3.1.2 from step 1 (clovmmigrate -u; hascript run ldoms/post-migration). Manual (17.3.1.2): 「TestFailedまたはInitFailedが表示された場合は、シャットダウン機構の設定が変更されなかった可能性があります。」「それ以外の場合は、再度、手順1.から実施してください。」";
/// Remedy when the guest nodes' `clsnmpsetup -l` disagree (17.3.1.2 step 2 on each node).
pub const REMEDY_NODES_DISAGREE: &str = "the guest nodes' shutdown facility settings disagree: clovmmigrate -u changes them on every node, so one did not take the change; check that every guest node is a running cluster node (cftool -n), then redo 17.3.1.2 from step 1 (clovmmigrate -u; hascript run ldoms/post-migration)";
/// Remedy of the time-sync warnings (note after 17.3.1.2).
pub const REMEDY_TIME_SYNC: &str = "the cluster nodes' clocks are not synchronised: synchronise them (NTP); the messages stop once the clocks agree. No cluster action is needed. Manual (17.3.1.2 note): 「時刻が同期されれば、このメッセージは出力されなくなります。」";

impl Inner {
    /// Resolve a guest name from a script or parameter: validated, and known to the site.
    pub fn resolve_guest(&self, name: &str) -> Result<GuestDomain> {
        validate_name("guest", name)?;
        self.topo.guest(name).cloned().ok_or_else(|| {
            let known: Vec<&str> = self.topo.guests.iter().map(|g| g.domain.as_str()).collect();
            Error::usage(format!(
                "unknown guest {name:?}: the site's guest domains are {} (LDoms domain names, not CF node names)",
                known.join(", ")
            ))
        })
    }

    /// Resolve a control domain given as inventory name, `/etc/inet/hosts` name or address.
    pub fn resolve_cd(&self, what: &str, name: &str) -> Result<ControlDomain> {
        validate_name(what, name)?;
        self.topo.control_domain(name).cloned().ok_or_else(|| {
            let known: Vec<String> = self
                .topo
                .control_domains
                .iter()
                .map(|c| match &c.address {
                    Some(a) => format!("{} ({a})", c.name),
                    None => c.name.clone(),
                })
                .collect();
            Error::usage(format!(
                "unknown {what} {name:?}: the site's control domains are {}",
                known.join(", ")
            ))
        })
    }

    pub(crate) fn cd(&self, name: &str) -> Result<ControlDomain> {
        self.topo.control_domain(name).cloned().ok_or_else(|| {
            Error::needs_attention(format!("control domain {name} is not in the inventory"))
        })
    }

    // ----------------------------------------------------------------------------------
    // A3 — after live migration (17.3.1.2)

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

    /// The location of a guest once no migration is under way (waits for one to end, up to
    /// [`MIGRATION_DEADLINE`]; a migration still under way then is an error).
    fn settled_location(&self, guest: &GuestDomain) -> Result<Location> {
        let loc = self.settle_location(guest, MIGRATION_DEADLINE)?;
        if matches!(loc, Location::Migrating { .. }) {
            return Err(Error::needs_attention(format!(
                "the migration of {} is still under way after {} s",
                guest.domain,
                MIGRATION_DEADLINE.as_secs()
            ))
            .with_remedy(format!(
                "check it with `ldm list -o status {0}`; cancel it with `ldm cancel-operation migration {0}` on the source control domain if it is stuck, then run ldoms/recover-migration",
                guest.domain
            )));
        }
        Ok(loc)
    }

    /// Where a guest is once no migration is under way, waiting up to `deadline` for one to
    /// end; still `Migrating` when the deadline passes (the caller decides).
    fn settle_location(&self, guest: &GuestDomain, deadline: Duration) -> Result<Location> {
        let loc = self.locate(&guest.domain)?;
        if !matches!(loc, Location::Migrating { .. }) {
            return Ok(loc);
        }
        self.ctx.ui.info(&format!(
            "{}; waiting for it to end",
            loc.describe(&guest.domain)
        ));
        let what = format!("the migration of {} to end", guest.domain);
        match self.ctx.poll(
            &what,
            deadline,
            POLL,
            || {
                let l = self.locate(&guest.domain)?;
                Ok((!matches!(l, Location::Migrating { .. }), l))
            },
            |l| l.describe(&guest.domain),
        )? {
            // The caller says where the guest ended; saying it here too would repeat it.
            WaitEnd::Done(l) => Ok(l),
            WaitEnd::Deadline(last) => {
                self.ctx.ui.warn(&format!(
                    "the migration of {} is still under way after {} s",
                    guest.domain,
                    deadline.as_secs()
                ));
                Ok(last)
            }
        }
    }

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

    // ----------------------------------------------------------------------------------
    // A4 — time synchronisation warnings

    /// `(WRP, 34)`/`(WRP, 35)` lines written since the run started, in the RMS switchlog
    /// and `/var/adm/messages` of every guest node.
    pub fn time_sync(&self) -> Result<Value> {
        let mut hits = Vec::new();
        for g in &self.topo.guests {
            for file in [cmd::SWITCHLOG, cmd::MESSAGES] {
                let text = match self.log_text(&g.name, file, true) {
                    Ok(t) => t,
                    Err(e) if e.kind == ErrorKind::Cancelled => return Err(e),
                    Err(_) => continue,
                };
                for h in log_scan::find_time_sync(&text) {
                    hits.push(json!({
                        "host": g.name, "file": file, "code": format!("(WRP, {})", h.code),
                        "cluster_host": h.host, "line": h.line,
                    }));
                }
            }
        }
        let found = !hits.is_empty();
        Ok(json!({
            "found": found, "hits": hits,
            "remedy": if found { Value::String(REMEDY_TIME_SYNC.into()) } else { Value::Null },
        }))
    }

    // ----------------------------------------------------------------------------------
    // A2 — recovery

    /// Wait until the CF node `cf_name` reads `want`, asking a node other than `exclude`;
    /// `expected`: how long the manual says it takes, and the section saying so.
    /// Returns the last state seen when the deadline passes.
    pub fn wait_cf_state(
        &self,
        cf_name: &str,
        want: NodeState,
        exclude: Option<&str>,
        deadline: Duration,
        expected: Option<(Duration, &str)>,
    ) -> Result<std::result::Result<(), String>> {
        let what = format!("{cf_name} {} in cftool -n", state_word(&want));
        let end = self.ctx.poll_expecting(
            &what,
            expected,
            deadline,
            POLL,
            || {
                let nodes = self.cf_nodes(exclude)?;
                let st = nodes
                    .iter()
                    .find(|n| n.node == cf_name)
                    .map(|n| (n.state(), n.state.clone()))
                    .unwrap_or((NodeState::Other("absent".into()), "absent".into()));
                Ok((st.0 == want, st.1))
            },
            |s| s.clone(),
        )?;
        Ok(match end {
            WaitEnd::Done(_) => Ok(()),
            WaitEnd::Deadline(last) => Err(last),
        })
    }

    // ----------------------------------------------------------------------------------
    // A1 — before live migration (17.3.1.1)

    /// 17.3.1.1 (`cluster.prepare_migration(guest[, target])`): `clovmmigrate -p` on the
    /// control domain where the guest runs, then its effect read back on every node (CF
    /// timeout 600 s, shutdown facility stopped).
    ///
    /// Interlocks, whatever the script says: the guest runs; the saved-configuration rule
    /// of 17.3.1.2 holds on the source and on `target` (or `clovmmigrate -u` would fail
    /// once fencing is off). The recovery routine (`ldoms/recover-migration -p guest=…`)
    /// is registered, durably, before `-p` leaves; it stays pending until 17.3.1.2 is
    /// verified (`fence.verify()` after `finish_migration`), or a step script hands it to
    /// the operator. Already prepared: says so and sends nothing (a routine inherited
    /// from an interrupted run stays pending; otherwise one is registered, since fencing
    /// is off).
    pub fn prepare(&self, guest: &GuestDomain, target: Option<&ControlDomain>) -> Result<Value> {
        self.mark_logs()?;
        let loc = self.locate(&guest.domain)?;
        let Location::Running { control_domain } = &loc else {
            return Err(Error::check(format!(
                "17.3.1.1 needs a running guest: {}",
                loc.describe(&guest.domain)
            ))
            .with_remedy("if an earlier migration was interrupted, run ldoms/recover-migration"));
        };
        let (prepared, _) = self.prepared_state()?;
        if prepared {
            self.ctx.ui.info("CF timeout is already 600 s and SF is stopped on every node: 17.3.1.1 was done before; nothing to do");
            if !self.migration_routine_pending(guest) {
                let _pending = self.register_recovery(guest)?;
            }
            return Ok(json!({
                "guest": guest.domain, "control_domain": control_domain, "changed": false,
                "prepared_at": self.fencing_off_since(guest),
            }));
        }
        let mut cds = vec![control_domain.clone()];
        if let Some(t) = target {
            if t.name != *control_domain {
                cds.push(t.name.clone());
            }
        }
        self.require_spconfig_rule(&cds)?;
        // Every control domain of the bracket is locked before the first change.
        self.ctx.involve(&cds)?;
        // Dropped unsettled: pending until 17.3.1.2 is verified.
        let _pending = self.register_recovery(guest)?;
        self.ctx
            .run_ok(&cmd::clovmmigrate_prepare(control_domain, &guest.domain))?;
        self.set_prepared_at(self.now());
        let (prepared, detail) = self.prepared_state()?;
        if !prepared {
            return Err(Error::needs_attention(format!(
                "clovmmigrate -p ran but its effect is not there: {detail}"
            )));
        }
        self.ctx.ui.info(&format!(
            "CF timeout {MIGRATION_CF_TIMEOUT} s and shutdown facility stopped on every node (fencing is off until 17.3.1.2)"
        ));
        // `prepared_at` (the run's clock, seconds) is journaled with the step's result: a
        // later step script on this site learns from it how long fencing was off.
        Ok(json!({
            "guest": guest.domain, "control_domain": control_domain, "changed": true,
            "prepared_at": self.prepared_at(),
        }))
    }

    /// The interlock of 17.3.1.1: the saved-configuration rule holds on `cds` (read only;
    /// `hypervisor.clean_configs` is the step that makes it hold, with a question).
    fn require_spconfig_rule(&self, cds: &[String]) -> Result<()> {
        let mut broken = Vec::new();
        for cd in cds {
            let p = crate::spconfig::plan(cd, &self.spconfigs(cd)?);
            if let Some(b) = p.blocked {
                broken.push(b);
            } else if !p.remove.is_empty() {
                broken.push(format!(
                    "{cd} has {} saved configurations (at most 6, no config_tmp)",
                    p.count
                ));
            }
        }
        if broken.is_empty() {
            return Ok(());
        }
        Err(Error::check(format!(
            "the saved-configuration rule of 17.3.1.2 does not hold: {}; clovmmigrate -u would fail once fencing is off, so 17.3.1.1 is refused",
            broken.join("; ")
        ))
        .with_remedy("run the saved-configuration step first (hypervisor.clean_configs([source, target]), as ldoms/live-migration and ldoms/pre-migration do), or remove configurations by hand with `ldm remove-spconfig NAME`"))
    }

    /// Whether every reachable guest node shows A1's effect, and a description.
    pub(crate) fn prepared_state(&self) -> Result<(bool, String)> {
        let mut all = true;
        let mut parts = Vec::new();
        for g in &self.topo.guests {
            let t = match self.cf_timeout_on(&g.name) {
                Ok(t) => t,
                Err(e) if matches!(e.kind, ErrorKind::Transport) => continue,
                Err(e) => return Err(e),
            };
            let sf_running = matches!(self.sdtool_on(&g.name)?, SdtoolStatus::Table(_));
            all &= t == MIGRATION_CF_TIMEOUT && !sf_running;
            parts.push(format!(
                "{}: CF timeout {t}, SF {}",
                g.name,
                if sf_running { "running" } else { "stopped" }
            ));
        }
        Ok((all, parts.join("; ")))
    }

    // ----------------------------------------------------------------------------------
    // The move

    /// The move (`hypervisor.migrate_domain(guest, target[, opts])`): `ldm migrate-domain`
    /// on the control domain where the guest runs, then where the guest really is once no
    /// migration is under way (whatever the command said: a lost session leaves the
    /// migration going). Returns `#{guest, moved, changed, source, control_domain,
    /// location}`; a move that did not reach `target` is `moved: false`, not an error (the
    /// script decides). Interlock: 17.3.1.1 in effect on every node — a guest-cluster node
    /// is never migrated while fencing is on. Already on `target`: sends nothing.
    pub fn migrate_domain(
        &self,
        guest: &GuestDomain,
        target: &ControlDomain,
        password_file: Option<&str>,
        deadline: Duration,
    ) -> Result<Value> {
        let loc = self.locate(&guest.domain)?;
        let source = match &loc {
            Location::Running { control_domain } if *control_domain == target.name => {
                self.ctx
                    .ui
                    .info(&format!("{} already runs on {}", guest.domain, target.name));
                return Ok(json!({
                    "guest": guest.domain, "moved": true, "changed": false, "source": target.name,
                    "state": "running", "control_domain": target.name,
                    "location": loc.describe(&guest.domain),
                }));
            }
            Location::Running { control_domain } => self.cd(control_domain)?,
            other => return Err(Error::check(format!(
                "{}: a live migration needs the guest running on one control domain",
                other.describe(&guest.domain)
            ))
            .with_remedy(
                "run ldoms/recover-migration: it finds where the guest is and restores the cluster",
            )),
        };
        let (prepared, detail) = self.prepared_state()?;
        if !prepared {
            return Err(Error::check(format!(
                "17.3.1.1 is not in effect ({detail}): a node of the guest cluster is never migrated while the shutdown facility runs and the CF timeout is normal (it would be fenced during the move)"
            ))
            .with_remedy("run 17.3.1.1 first: cluster.prepare_migration(guest, target)"));
        }
        if let Some(f) = password_file {
            validate_path("password_file", f)?;
        }
        let sent = self.ctx.run(
            &cmd::ldm_migrate(
                &source.name,
                &guest.domain,
                &target.hosts_name,
                password_file,
            )
            .with_timeout(MIGRATE_COMMAND_TIMEOUT),
        );
        self.exposure();
        match &sent {
            Ok(out) if out.success() => {}
            Ok(out) => {
                let text = format!("{}{}", out.stdout, out.stderr);
                self.ctx.ui.warn(&format!(
                    "ldm migrate-domain exited {}: {}; finding out where {} really is",
                    out.code(),
                    text.trim(),
                    guest.domain
                ));
            }
            Err(e) if e.kind == ErrorKind::Cancelled => return Err(e.clone()),
            Err(e) => self.ctx.ui.warn(&format!(
                "ldm migrate-domain did not report ({e}); finding out where {} really is",
                guest.domain
            )),
        }
        // A migration still under way at `deadline` is `state: "migrating"`: the script
        // decides whether to cancel it (hypervisor.cancel_migration).
        let loc = self.settle_location(guest, deadline)?;
        let moved = loc
            == Location::Running {
                control_domain: target.name.clone(),
            };
        Ok(json!({
            "guest": guest.domain, "moved": moved, "changed": true, "source": source.name,
            "state": state_of(&loc), "control_domain": loc.control_domain(),
            "location": loc.describe(&guest.domain),
        }))
    }

    /// Cancel a migration that hangs (`hypervisor.cancel_migration(guest)`): `ldm
    /// cancel-operation migration GUEST` on the control domain the guest leaves, then where
    /// it is once the migration is over. Guard rails: refused (nothing sent) unless `ldm
    /// list -p` shows the guest's migration under way, with a known source; the cancel is
    /// sent only there. Returns `#{guest, cancelled, state, control_domain, location}`.
    pub fn cancel_migration(&self, guest: &GuestDomain) -> Result<Value> {
        let loc = self.locate(&guest.domain)?;
        let source = match &loc {
            Location::Migrating {
                source: Some(source),
                ..
            } => self.cd(source)?,
            other => return Err(Error::check(format!(
                "{}: there is no migration under way to cancel",
                other.describe(&guest.domain)
            ))
            .with_remedy(
                "run ldoms/recover-migration: it finds where the guest is and restores the cluster",
            )),
        };
        self.ctx
            .run_ok(&cmd::ldm_cancel_migration(&source.name, &guest.domain))?;
        self.exposure();
        let after = self.settled_location(guest)?;
        Ok(json!({
            "guest": guest.domain, "cancelled": true, "state": state_of(&after),
            "control_domain": after.control_domain(), "location": after.describe(&guest.domain),
        }))
    }

    /// The signature of a guest started before its node was DOWN (17.3.1.1 note: "SF, CRM
    /// and RMS then fail to start"), read before anything is sent
    /// (`hypervisor.started_early(guest)`). All three must hold:
    ///   - its domain booted inside the bracket: `uptime=` of `ldm list -p` shorter than
    ///     the time since 17.3.1.1 (this run's, or the newest earlier run's on this site;
    ///     unknown: shorter than the 600 s CF timeout 17.3.1.1 sets);
    ///   - its CF node reads UP in `cftool -n` on another node: the cluster never saw it
    ///     leave (a node restarted after DOWN reads COMINGUP, then UP with RMS running);
    ///   - RMS is not running on it (`hvdisp` fails), which 17.3.1.1 alone never causes.
    ///
    /// Returns `#{guest, early, control_domain, uptime, fencing_off_for, node_state,
    /// rms_running, detail}`; `early: false` whenever one is missing or unknown.
    pub fn started_early(&self, guest: &GuestDomain) -> Result<Value> {
        let loc = self.locate(&guest.domain)?;
        let Location::Running { control_domain } = &loc else {
            return Ok(json!({
                "guest": guest.domain, "early": false, "control_domain": loc.control_domain(),
                "uptime": Value::Null, "fencing_off_for": Value::Null, "node_state": Value::Null,
                "rms_running": Value::Null, "detail": loc.describe(&guest.domain),
            }));
        };
        let uptime = self
            .domains(control_domain)?
            .iter()
            .find(|d| d.name() == guest.domain)
            .and_then(|d| d.get("uptime"))
            .and_then(|u| u.parse::<u64>().ok());
        let off_for = self
            .fencing_off_since(guest)
            .map(|t| self.now().saturating_sub(t));
        let cf = self.cf_name_of(guest)?;
        let node_state = self
            .cf_nodes(Some(&guest.domain))?
            .iter()
            .find(|n| n.node == cf)
            .map(|n| state_word(&n.state()).to_string());
        let rms_running = match self.ctx.run(&cmd::hvdisp_apps(&guest.name)) {
            Ok(o) => o.success(),
            Err(e) if e.kind == ErrorKind::Cancelled => return Err(e),
            Err(_) => false,
        };
        // Booted inside the bracket: before 17.3.1.1's time when known; else (17.3.1.1 done
        // by hand) within the CF timeout 17.3.1.1 sets — a node started after it was seen
        // DOWN would have rejoined (UP) with RMS running by then.
        let booted_inside = match (uptime, off_for) {
            (Some(u), Some(f)) => u < f,
            (Some(u), None) => u < MIGRATION_CF_TIMEOUT.unsigned_abs(),
            _ => false,
        };
        let early = booted_inside && node_state.as_deref() == Some("UP") && !rms_running;
        let detail = format!(
            "{} up {} s, fencing off for {}, {cf} {} in cftool -n, RMS {}",
            guest.domain,
            uptime.map_or("?".to_string(), |u| u.to_string()),
            off_for.map_or("an unknown time (no run of hascript on this site did 17.3.1.1; bound: the CF timeout of 600 s)".to_string(), |f| format!("{f} s")),
            node_state.as_deref().unwrap_or("absent"),
            if rms_running { "running" } else { "not running" }
        );
        Ok(json!({
            "guest": guest.domain, "early": early, "control_domain": control_domain,
            "uptime": uptime, "fencing_off_for": off_for, "node_state": node_state,
            "rms_running": rms_running, "detail": detail,
        }))
    }

    /// Stop again a guest started before its node was DOWN (17.3.1.1 note), by force:
    /// `ldm stop-domain -f` (`hypervisor.stop_early_started(guest)`). The exception to
    /// "never stop a live node", honoured only when all hold: the signature
    /// ([`Inner::started_early`]) read again here, 17.3.1.1 in effect on every node, the
    /// operator's confirmation; and only under the migration's recovery routine (pending,
    /// or registered here before the stop, since the cluster stays unprotected until
    /// 17.3.1.2). Returns `#{guest, control_domain, stopped, location}`.
    pub fn stop_early_started(&self, guest: &GuestDomain) -> Result<Value> {
        let sig = self.started_early(guest)?;
        if sig["early"] != Value::Bool(true) {
            return Err(Error::check(format!(
                "{}: not a guest started before its node was DOWN ({}); a live node is never stopped: refused",
                guest.domain,
                sig["detail"].as_str().unwrap_or("")
            )));
        }
        // 17.3.1.1 in effect: the CF timeout it sets on every node that answers (SF may
        // have tried to start on the early-started guest itself; that is the failure).
        for g in &self.topo.guests {
            let t = match self.cf_timeout_on(&g.name) {
                Ok(t) => t,
                Err(e) if matches!(e.kind, ErrorKind::Transport) => continue,
                Err(e) => return Err(e),
            };
            if t != MIGRATION_CF_TIMEOUT {
                return Err(Error::check(format!(
                    "17.3.1.1 is not in effect ({}: CF timeout {t}): the forced stop of the 17.3.1.1 note is for a guest inside the migration's bracket; refused",
                    g.name
                )));
            }
        }
        let cd = self.cd(sig["control_domain"].as_str().unwrap_or_default())?;
        let question = format!(
            "{} was started before its node was DOWN ({}): SF, CRM and RMS cannot start on it. Stop it by force (ldm stop-domain -f {} on {}), then wait for DOWN and start it again (17.3.1.1 note)?",
            guest.domain,
            sig["detail"].as_str().unwrap_or(""),
            guest.domain,
            cd.name
        );
        if !self.ctx.ui.confirm(&question)? {
            return Err(Error::new(
                ErrorKind::Declined,
                format!("{} was not stopped (declined)", guest.domain),
            )
            .with_remedy(format!(
                "stop {0} (ldm stop-domain {0}), wait until its node is DOWN, then run ldoms/recover-migration -p guest={0}",
                guest.domain
            )));
        }
        if !self.migration_routine_pending(guest) {
            let _pending = self.register_recovery(guest)?;
        }
        self.ctx
            .run_ok(&cmd::ldm_stop_forced(&cd.name, &guest.domain))?;
        self.exposure();
        let after = self.locate(&guest.domain)?;
        Ok(json!({
            "guest": guest.domain, "control_domain": cd.name,
            "stopped": matches!(after, Location::Stopped { .. }),
            "location": after.describe(&guest.domain),
        }))
    }

    /// Where a guest is (`hypervisor.locate(guest[, opts])`): `#{guest, state, location,
    /// control_domain, node}`; `state` is running, stopped, migrating, missing or
    /// ambiguous. `settle`: wait out a migration still under way first.
    /// `settle: Some(deadline)`: wait out a migration still under way first, up to
    /// `deadline` (then `state: "migrating"`: the script decides).
    pub fn locate_value(&self, guest: &GuestDomain, settle: Option<Duration>) -> Result<Value> {
        let loc = match settle {
            Some(deadline) => self.settle_location(guest, deadline)?,
            None => self.locate(&guest.domain)?,
        };
        let state = state_of(&loc);
        Ok(json!({
            "guest": guest.domain, "state": state, "location": loc.describe(&guest.domain),
            "control_domain": loc.control_domain(), "node": guest.name,
        }))
    }

    /// Wait until the CF node of `guest` reads `want`, asked on a node that was not
    /// migrated (`cluster.wait_guest_node(guest, state, opts)`). Returns `#{node, state,
    /// reached, last, waited}`; a deadline passed is `reached: false` with the last state
    /// seen (the script decides; hascript never runs `cftool -k`).
    pub fn wait_guest_node(
        &self,
        guest: &GuestDomain,
        want: NodeState,
        deadline: Duration,
        expected: Option<(Duration, &str)>,
    ) -> Result<Value> {
        let cf = self.cf_name_of(guest)?;
        let from = self.now();
        let end = self.wait_cf_state(&cf, want.clone(), Some(&guest.domain), deadline, expected)?;
        let waited = self.now().saturating_sub(from);
        Ok(match end {
            Ok(()) => {
                json!({"node": cf, "state": state_word(&want), "reached": true, "last": state_word(&want), "waited": waited})
            }
            Err(last) => {
                json!({"node": cf, "state": state_word(&want), "reached": false, "last": last, "waited": waited})
            }
        })
    }

    // ----------------------------------------------------------------------------------
    // The routine of the bracket

    /// Register the bracket's recovery routine (`ldoms/recover-migration -p guest=…`) before
    /// the first change that leaves fencing off.
    fn register_recovery(&self, guest: &GuestDomain) -> Result<RecoveryGuard> {
        self.ctx.register_recovery(
            &format!(
                "recover the migration of {} (17.3.1.1 note: find the guest, then 17.3.1.2 where it is); until it completes, the CF timeout is 600 s and the shutdown facility is stopped on every node (fencing is off)",
                guest.domain
            ),
            recovery_routine(guest),
        )
    }

    /// Whether a routine recovering `guest`'s migration is pending (this run's or one
    /// inherited from the run it resumes).
    fn migration_routine_pending(&self, guest: &GuestDomain) -> bool {
        !self.migration_routines(guest).is_empty()
    }

    /// The pending routines that recover `guest`'s migration, in either description form.
    fn migration_routines(&self, guest: &GuestDomain) -> Vec<u64> {
        self.ctx
            .recoveries
            .pending()
            .into_iter()
            .filter(|e| {
                e.routine
                    .as_ref()
                    .and_then(migration_routine_guest)
                    .is_some_and(|g| g == guest.domain)
            })
            .map(|e| e.id)
            .collect()
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

    /// When 17.3.1.1 turned fencing off for `guest`: in this run, else as the newest
    /// earlier run on this site recorded it (`prepared_at` of its `prepare_migration`
    /// result), if that is not in this run's future (another clock).
    pub(crate) fn fencing_off_since(&self, guest: &GuestDomain) -> Option<u64> {
        if let Some(t) = self.prepared_at() {
            return Some(t);
        }
        let v = self.ctx.history.step_value(&|v: &Value| {
            v.get("guest").and_then(Value::as_str) == Some(guest.domain.as_str())
                && v.get("prepared_at").and_then(Value::as_u64).is_some()
        })?;
        v.get("prepared_at")
            .and_then(Value::as_u64)
            .filter(|t| *t <= self.now())
    }

    /// Show how long the cluster has run without fencing (since `clovmmigrate -p` in this
    /// run).
    fn exposure(&self) {
        if let Some(t) = self.prepared_at() {
            self.ctx.ui.exposure(
                "fencing off, CF timeout 600 s",
                Duration::from_secs(self.now().saturating_sub(t)),
            );
        }
    }
}

/// The description of the bracket's recovery routine for `guest`: the procedure
/// `ldoms/recover-migration` with `guest`, which the run (or `hascript unwind`) executes.
pub fn recovery_routine(guest: &GuestDomain) -> Value {
    hascript_api::objects::procedure_routine(RECOVER_PROCEDURE, &[("guest", &guest.domain)])
}

/// The procedure that recovers a migration (17.3.1.1 note).
pub const RECOVER_PROCEDURE: &str = "ldoms/recover-migration";

/// The name of the A2 routine in descriptions written before the procedures were scripts
/// (`{driver: "ldoms", routine: "recover_migration", guest}`).
pub const RECOVER_MIGRATION: &str = "recover_migration";

/// The guest a migration routine description (either form) recovers.
pub fn migration_routine_guest(routine: &Value) -> Option<&str> {
    if routine.get("procedure").and_then(Value::as_str) == Some(RECOVER_PROCEDURE) {
        return routine.get("params")?.get("guest")?.as_str();
    }
    if routine.get("driver").and_then(Value::as_str) == Some("ldoms")
        && routine.get("routine").and_then(Value::as_str) == Some(RECOVER_MIGRATION)
    {
        return routine.get("guest")?.as_str();
    }
    None
}

/// A path given as a parameter: absolute, no control characters or quotes.
pub(crate) fn validate_path(what: &str, p: &str) -> Result<()> {
    let ok = p.starts_with('/')
        && p.len() < 1024
        && !p
            .chars()
            .any(|c| c.is_control() || c == '\'' || c == '"' || c == '`');
    if ok {
        Ok(())
    } else {
        Err(Error::usage(format!(
            "{what} {p:?} must be an absolute path on the source control domain"
        )))
    }
}

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

/// The `state` word of a location in operation results.
fn state_of(loc: &Location) -> &'static str {
    match loc {
        Location::Running { .. } => "running",
        Location::Stopped { .. } => "stopped",
        Location::Migrating { .. } => "migrating",
        Location::Missing => "missing",
        Location::Ambiguous { .. } => "ambiguous",
    }
}

/// The word `cftool -n` prints for a state.
pub(crate) fn state_word(s: &NodeState) -> &str {
    match s {
        NodeState::Up => "UP",
        NodeState::Down => "DOWN",
        NodeState::LeftCluster => "LEFTCLUSTER",
        NodeState::ComingUp => "COMINGUP",
        NodeState::Other(w) => w,
    }
}
