//! B6: the toolkit guide's troubleshooting table (§7) as verdicts: each row `{row, ok,
//! finding, remedy, section}`, from the package log and syslog of every member (their
//! recent part), the package directory's mode on every member, and the maintenance file on
//! every member; with §1's vswitch warning of two toolkits, and whether a running package's
//! guest runs on its owner.
//!
//! The guest-failure row's remedy follows what Serviceguard did, read from `cmviewcl`: the
//! package runs on another node (failed over: check the guest there, re-enable the failed
//! node's switching) or is halted (not failed over: restart it, the manual's remedy).

use hascript_api::Result;
use serde_json::{json, Value};

use super::members;
use crate::commands as cmd;
use crate::facts::{is_cancel, parse_wc, Inner};
use crate::parse::cmviewcl_line::{PackageState, PackageView, Status};
use crate::parse::log_scan::{self, FindingKind};
use crate::procedure::locate::presence_of;
use crate::procedure::observed::Presence;

/// How much of each log a diagnosis reads (its last bytes).
pub const LOG_WINDOW: u64 = 1 << 20;

/// The rows of the table, in the manual's order: `(code, row title)`.
pub const ROWS: &[(&str, &str)] = &[
    (
        "app_server_unreachable",
        "cmappmgr cannot reach cmappserver in the guest (errno:238, ConnectException, PROGRAM EXIT CODE)",
    ),
    (
        "maintenance_enabled",
        "maintenance mode enabled when the package started",
    ),
    (
        "guest_failure",
        "service monitor detected a failure in the guest",
    ),
    (
        "incorrect_permissions",
        "incorrect permissions of the package directory (cmapplyconf)",
    ),
    (
        "vswitch_ip_mismatch",
        "two toolkits manage one vswitch (IP Address mis-match after a LAN switch)",
    ),
];

/// The guide's section of a log row.
fn section_of(code: &str) -> &'static str {
    match code {
        // The comparison of the two toolkits (§1), not the troubleshooting table.
        "vswitch_ip_mismatch" => "§1",
        _ => "§7",
    }
}

/// Whether the package runs (up and running on an owner).
fn is_running(p: &PackageView) -> bool {
    p.status() == Status::Up && p.state() == PackageState::Running && p.owner.is_some()
}

/// What to do about a guest failure logged on `failed_on`, from what Serviceguard did.
fn guest_failure_remedy(vm: &str, p: Option<&PackageView>, failed_on: &str) -> String {
    let Some(p) = p else {
        return FindingKind::GuestFailure { guest: vm.into() }.remedy(Some(vm));
    };
    let enabled: Vec<&str> = p
        .nodes
        .iter()
        .filter(|n| n.switching().is_enabled())
        .map(|n| n.name.as_str())
        .collect();
    let failed_node_disabled = p
        .nodes
        .iter()
        .any(|n| n.name == failed_on && !n.switching().is_enabled());
    let reenable = format!(
        "node switching of {vm} on {failed_on} is disabled (Serviceguard does that after a failure): once the cause is found, enable it with `cmmodpkg -e -n {failed_on} {vm}`"
    );
    match p.owner.as_deref().filter(|_| is_running(p)) {
        Some(owner) if owner != failed_on => {
            let mut r = format!(
                "Serviceguard failed {vm} over from {failed_on} to {owner}: check the guest on {owner} (`hpvmstatus -P {vm}` there, and the application in it), and why it failed on {failed_on} (its package log)"
            );
            if failed_node_disabled {
                r.push_str(&format!("; {reenable}"));
            }
            r
        }
        Some(owner) => format!(
            "{vm} runs on {owner} again (started after the failure): check the guest there (`hpvmstatus -P {vm}`) and why it failed (the package log)"
        ),
        None => {
            let mut r = format!(
                "Serviceguard did not fail {vm} over (the package is {}/{}): restart the package, ",
                p.status, p.state
            );
            match enabled.iter().find(|n| **n != failed_on).or(enabled.first()) {
                Some(n) => r.push_str(&format!(
                    "e.g. `hascript run hpvm/run-package -p package={vm} -p node={n}` (cmrunpkg -n {n} {vm}, then cmmodpkg -e {vm})"
                )),
                None => r.push_str(&format!(
                    "after enabling node switching on a node (`cmmodpkg -e -n <node> {vm}`): `hascript run hpvm/run-package -p package={vm} -p node=<node>` (cmrunpkg, then cmmodpkg -e)"
                )),
            }
            if failed_node_disabled {
                r.push_str(&format!("; {reenable}"));
            }
            r
        }
    }
}

fn same_row(k: &FindingKind, code: &str) -> bool {
    k.code() == code || (code == "maintenance_enabled" && k.code() == "monitoring_disabled")
}

/// How a guest's presence reads in a finding.
pub(crate) fn presence_words(p: &Presence) -> String {
    match p {
        Presence::On => "On".into(),
        Presence::Off => "Off".into(),
        Presence::NotRunnable => "Off (NR)".into(),
        Presence::Absent => "not registered".into(),
        Presence::Transitional(w) => w.clone(),
        Presence::Unreadable(why) => format!("unreadable ({why})"),
    }
}

impl Inner {
    /// The owner of running package `p` and its guest's presence there (`hpvmstatus -P`);
    /// `None` when the package does not run or its owner is not a VM host of the inventory.
    pub(crate) fn owner_guest(&self, p: &PackageView) -> Result<Option<(String, Presence)>> {
        let Some(owner) = p.owner.clone().filter(|_| is_running(p)) else {
            return Ok(None);
        };
        if self.topo.vm_host(&owner).is_none() {
            return Ok(None);
        }
        let presence = match self.details(&owner, &p.name) {
            Ok(Some(d)) => presence_of(&d.vm.state()),
            Ok(None) => Presence::Absent,
            Err(e) if is_cancel(&e) => return Err(e),
            Err(e) => Presence::Unreadable(e.message),
        };
        Ok(Some((owner, presence)))
    }

    /// The last [`LOG_WINDOW`] bytes of `file` on `host` (empty when missing).
    fn recent(&self, host: &str, file: &str) -> Result<String> {
        let size = match self.ctx.run(&cmd::file_size(host, file)?)? {
            out if out.success() => parse_wc(&out.stdout).unwrap_or(0),
            _ => return Ok(String::new()),
        };
        let from = size.saturating_sub(LOG_WINDOW);
        Ok(self.ctx.run_ok(&cmd::file_from(host, file, from)?)?.stdout)
    }

    /// Every B6 row as a verdict (see the module documentation).
    pub fn diagnose(&self, name: &str) -> Result<Value> {
        let vm = self.vm_name(name)?;
        let view = self.view()?;
        let pkg = view.package(&vm).cloned();
        let hosts: Vec<String> = match &pkg {
            Some(p) => members(p)
                .into_iter()
                .filter(|m| self.topo.vm_host(m).is_some())
                .collect(),
            None => self.topo.vm_host_names(),
        };
        let mut findings: Vec<(String, String, log_scan::Finding)> = Vec::new();
        let mut unread: Vec<String> = Vec::new();
        for h in &hosts {
            for file in [cmd::package_log(&vm)?, cmd::SYSLOG.to_string()] {
                match self.recent(h, &file) {
                    Ok(text) => {
                        for f in log_scan::scan(&text) {
                            findings.push((h.clone(), file.clone(), f));
                        }
                    }
                    Err(e) if is_cancel(&e) => return Err(e),
                    Err(e) => unread.push(format!("{file} on {h}: {}", e.message)),
                }
            }
        }
        let mut verdicts = Vec::new();
        for (code, title) in ROWS {
            let hits: Vec<&(String, String, log_scan::Finding)> = findings
                .iter()
                .filter(|(_, _, f)| same_row(&f.kind, code))
                // A guest-failure line about another guest is not this package's.
                .filter(|(_, _, f)| match &f.kind {
                    FindingKind::GuestFailure { guest } => guest == &vm,
                    FindingKind::AppServerUnreachable { guest: Some(g) } => {
                        g == &vm || self.topo.guest(&vm).is_some_and(|x| &x.name == g)
                    }
                    FindingKind::IncorrectPermissions { path, .. } => {
                        path.trim_end_matches('/') == format!("{}/{vm}", cmd::CMCLUSTER_DIR)
                    }
                    _ => true,
                })
                .collect();
            let ok = hits.is_empty();
            let finding: Vec<Value> = hits
                .iter()
                .map(|(h, file, f)| json!({"host": h, "file": file, "line_no": f.line_no, "time": f.time, "line": f.line}))
                .collect();
            // The latest line decides (a guest failure's remedy depends on where it was).
            let (remedy, cause, remedy_ja) = match hits.last() {
                Some((h, _, f)) => (
                    Value::String(match &f.kind {
                        FindingKind::GuestFailure { .. } => {
                            guest_failure_remedy(&vm, pkg.as_ref(), f.host.as_deref().unwrap_or(h))
                        }
                        k => k.remedy(Some(&vm)),
                    }),
                    Value::String(f.kind.cause().to_string()),
                    Value::String(f.kind.remedy_ja().to_string()),
                ),
                None => (Value::Null, Value::Null, Value::Null),
            };
            verdicts.push(json!({
                "row": title, "code": code, "ok": ok, "finding": finding, "cause": cause,
                "remedy": remedy, "remedy_ja": remedy_ja, "section": section_of(code),
            }));
        }

        // The package directory's mode on every member.
        let dir = cmd::package_dir(&vm)?;
        for h in &hosts {
            let (ok, finding, remedy) = match self.stat(h, &dir) {
                Ok(Some(e)) if !e.group_or_other_writable() && e.owner_executable() => {
                    (true, format!("{dir} is {} ({})", e.mode, e.octal), Value::Null)
                }
                Ok(Some(e)) => (
                    false,
                    format!(
                        "{dir} is {} ({}): executable for owner and not writable by group and others is required",
                        e.mode, e.octal
                    ),
                    Value::String(format!("`chmod go-w {dir}` on {h}")),
                ),
                Ok(None) => (
                    false,
                    format!("{dir} does not exist on {h}"),
                    Value::String(format!(
                        "distribute the package directory (package.distribute \"{vm}\")"
                    )),
                ),
                Err(e) if is_cancel(&e) => return Err(e),
                Err(e) => (false, format!("cannot read {dir} on {h}: {}", e.message), Value::Null),
            };
            verdicts.push(json!({
                "row": format!("package directory mode on {h}"), "code": "directory_mode",
                "host": h, "ok": ok, "finding": finding, "remedy": remedy, "section": "§7",
            }));
        }

        // A running package's guest, on its owner: Off there (e.g. it died in toolkit
        // maintenance, where the monitor does not look) means the package serves nothing.
        if let Some(p) = pkg.as_ref().filter(|p| is_running(p)) {
            if let Some((owner, presence)) = self.owner_guest(p)? {
                let (ok, finding, remedy) = match &presence {
                    Presence::On => (true, format!("{vm} runs on {owner}, which owns the package"), Value::Null),
                    Presence::Unreadable(why) => (false, format!("cannot read {vm}'s state on {owner}: {why}"), Value::Null),
                    other => (
                        false,
                        format!("package {vm} is up on {owner} but its guest is {} there", presence_words(other)),
                        Value::String(format!(
                            "in toolkit maintenance the monitor does not look: start the guest (`hpvmstart -P {vm}` on {owner}, allowed in maintenance), or leave maintenance (hascript run hpvm/maintenance -p package={vm} -p state=off) so that the monitor detects the failure and Serviceguard fails the package over; out of maintenance, read the package log on {owner}"
                        )),
                    ),
                };
                verdicts.push(json!({
                    "row": format!("guest {vm} on the owner {owner}"), "code": "guest_state",
                    "host": owner, "ok": ok, "finding": finding, "remedy": remedy,
                    "section": "§4",
                }));
            }
        }

        // The maintenance file, on every member: after a failover it can be left on a
        // former owner, where the package would run unmonitored the next time.
        if let Some(p) = &pkg {
            match self.or_unknown(self.read_conf(&view, p))? {
                Ok(c) => {
                    let file = c.maintenance_file(&vm);
                    let owner = p.owner.as_deref().filter(|_| p.status() == Status::Up);
                    for (h, on) in self.maintenance_members(p, &c)? {
                        let (ok, finding, remedy) = match on {
                            Ok(false) => (true, format!("no {file} on {h}"), Value::Null),
                            Ok(true) => (
                                false,
                                if owner == Some(h.as_str()) {
                                    format!("{file} exists on {h}, which runs the package: it is in toolkit maintenance (a VM failure does not fail it over)")
                                } else {
                                    format!("{file} exists on {h}, which does not run the package: left there (after a failover?), the package would run unmonitored on {h}")
                                },
                                Value::String(format!("`cmdeployvpkg -m 0 -P {vm}` on {h} (hpvm/maintenance -p package={vm} -p state=off turns it off on every member)")),
                            ),
                            Err(why) => (false, format!("cannot tell whether {file} exists on {h}: {why}"), Value::Null),
                        };
                        verdicts.push(json!({
                            "row": format!("maintenance file on {h}"), "code": "maintenance_file",
                            "host": h, "ok": ok, "finding": finding, "remedy": remedy,
                            "section": "§4 (package maintenance)",
                        }));
                    }
                }
                Err(why) => verdicts.push(json!({
                    "row": "maintenance file", "code": "maintenance_file", "ok": false,
                    "finding": format!("cannot tell: {why}"), "remedy": Value::Null,
                    "section": "§4 (package maintenance)",
                })),
            }
        }
        let ok = verdicts.iter().all(|v| v["ok"] == Value::Bool(true));
        for v in &verdicts {
            let mark = if v["ok"] == Value::Bool(true) {
                "ok  "
            } else {
                "FAIL"
            };
            self.ctx.ui.info(&format!(
                "  {mark} {}",
                v["row"].as_str().unwrap_or_default()
            ));
            if v["ok"] != Value::Bool(true) {
                if let Some(found) = v["finding"].as_array() {
                    for f in found {
                        self.ctx.ui.info(&format!(
                            "       found: {} on {}, {} line {}: {}",
                            f["time"].as_str().unwrap_or("(no time)"),
                            f["host"].as_str().unwrap_or_default(),
                            f["file"].as_str().unwrap_or_default(),
                            f["line_no"],
                            f["line"].as_str().unwrap_or_default()
                        ));
                    }
                } else if let Some(f) = v["finding"].as_str() {
                    self.ctx.ui.info(&format!("       found: {f}"));
                }
                if let Some(r) = v["remedy"].as_str() {
                    self.ctx.ui.info(&format!("       remedy: {r}"));
                }
            }
        }
        Ok(json!({"vm": vm, "ok": ok, "verdicts": verdicts, "unread": unread}))
    }
}
