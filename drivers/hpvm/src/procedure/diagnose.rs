//! B6: the toolkit guide's troubleshooting table (§7) as verdicts: each row `{row, ok,
//! finding, remedy, section}`, from the package log and syslog of every member (their
//! recent part), the package directory's mode on every member, and the maintenance file on
//! every member.

use hascript_api::Result;
use serde_json::{json, Value};

use super::members;
use crate::commands as cmd;
use crate::facts::{is_cancel, parse_wc, Inner};
use crate::parse::cmviewcl_line::Status;
use crate::parse::log_scan::{self, FindingKind};

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
];

fn same_row(k: &FindingKind, code: &str) -> bool {
    k.code() == code || (code == "maintenance_enabled" && k.code() == "monitoring_disabled")
}

impl Inner {
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
                .map(|(h, file, f)| json!({"host": h, "file": file, "line_no": f.line_no, "line": f.line}))
                .collect();
            let (remedy, cause, remedy_ja) = match hits.first() {
                Some((_, _, f)) => (
                    Value::String(f.kind.remedy(Some(&vm))),
                    Value::String(f.kind.cause().to_string()),
                    Value::String(f.kind.remedy_ja().to_string()),
                ),
                None => (Value::Null, Value::Null, Value::Null),
            };
            verdicts.push(json!({
                "row": title, "code": code, "ok": ok, "finding": finding, "cause": cause,
                "remedy": remedy, "remedy_ja": remedy_ja, "section": "§7",
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
            if let Some(r) = v["remedy"].as_str() {
                if v["ok"] != Value::Bool(true) {
                    self.ctx.ui.info(&format!("       remedy: {r}"));
                }
            }
        }
        Ok(json!({"vm": vm, "ok": ok, "verdicts": verdicts, "unread": unread}))
    }
}
