//! B4's end (§5): upgrading the cmappmgr/cmappserver pair during a rolling Serviceguard
//! upgrade, as operations — one manual action each, with its guard rails. The two
//! sequences (Process 1, live migrations; Process 2, guests restart) are
//! scripts/hpvm/upgrade-appmon-live.rhai and upgrade-appmon-restart.rhai over
//! scripts/lib/hpvm/appmon_upgrade.rhai.
//!
//! The edits of the package file are textual and exactly reversible:
//! - commenting out: every line of a `cmappmgr` service block (from `service_name` to its
//!   last `service_*` key) gets the prefix [`MARK`]; re-enabling removes that prefix from
//!   every line that starts with it, so the block comes back byte for byte;
//! - unique commands (A.11.19 → A.11.20, "even only an extra space"): the n-th repetition
//!   (n = 1, 2, …, in the order of the file) of a `cmappmgr` service command already used
//!   for the same guest gets n trailing spaces, inside double quotes. The first one is kept;
//!   the command the guest runs is the same (trailing spaces are not part of any word).

use hascript_api::{Error, Result};
use serde_json::{json, Value};

use super::{members, PackageKind};
use crate::commands as cmd;
use crate::facts::{is_cancel, Inner};
use crate::parse::cmviewcl_line::Status;
use crate::parse::ps_ef;
use crate::parse::swlist;

/// The prefix that comments out a line of a `cmappmgr` service block during the upgrade.
/// Only lines starting with it are re-enabled.
pub const MARK: &str = "#hascript-appmon-upgrade# ";

/// One `cmappmgr` service block of a package file, as text lines.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Block {
    /// Indices of the block's entry lines (comments and blank lines between are not part).
    lines: Vec<usize>,
    /// `service_name`.
    name: String,
    /// `service_cmd`, unquoted, and its line index.
    cmd: Option<(String, usize)>,
}

/// The first word and the (unquoted) rest of an entry line; `None` for blank lines and
/// comments.
fn entry(line: &str) -> Option<(&str, String)> {
    let t = line.trim_start();
    if t.is_empty() || t.starts_with('#') {
        return None;
    }
    let (k, rest) = t.split_once(char::is_whitespace).unwrap_or((t, ""));
    let v = rest.trim_start();
    let v = match v.strip_prefix('"') {
        Some(inner) => inner.strip_suffix('"').unwrap_or(inner).to_string(),
        None => v.trim_end().to_string(),
    };
    Some((k, v))
}

/// The service blocks of `lines` (each starts at `service_name` and takes the `service_*`
/// entries after it, comments skipped, as [`crate::pkgconf::PackageConf::services`]).
fn blocks(lines: &[&str]) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    let mut cur: Option<Block> = None;
    for (i, l) in lines.iter().enumerate() {
        let Some((k, v)) = entry(l) else { continue };
        if k == "service_name" {
            if let Some(b) = cur.take() {
                out.push(b);
            }
            cur = Some(Block {
                lines: vec![i],
                name: v,
                cmd: None,
            });
        } else if k.starts_with("service_") {
            if let Some(b) = cur.as_mut() {
                b.lines.push(i);
                if k == "service_cmd" {
                    b.cmd = Some((v, i));
                }
            }
        } else if let Some(b) = cur.take() {
            out.push(b);
        }
    }
    out.extend(cur);
    out
}

/// Whether a service command runs `cmappmgr` (its first word), and the guest it monitors
/// (`-node`).
fn appmon_guest(command: &str) -> Option<String> {
    let words: Vec<&str> = command.split_whitespace().collect();
    let first = words.first()?;
    if !(first.ends_with("/cmappmgr") || *first == "cmappmgr") {
        return None;
    }
    let guest = words
        .windows(2)
        .find(|w| w[0] == "-node")
        .map(|w| w[1].to_string())
        .unwrap_or_default();
    Some(guest)
}

/// The active `cmappmgr` blocks of a package file's text.
fn monitor_blocks(lines: &[&str]) -> Vec<Block> {
    blocks(lines)
        .into_iter()
        .filter(|b| {
            b.cmd
                .as_ref()
                .is_some_and(|(c, _)| appmon_guest(c).is_some())
        })
        .collect()
}

/// The names of the blocks commented out with [`MARK`].
fn commented_names(lines: &[&str]) -> Vec<String> {
    let stripped: Vec<&str> = lines.iter().filter_map(|l| l.strip_prefix(MARK)).collect();
    blocks(&stripped).into_iter().map(|b| b.name).collect()
}

fn split_lines(text: &str) -> Vec<&str> {
    text.split('\n').collect()
}

/// `text` with every line of every active `cmappmgr` block prefixed by [`MARK`] (`None`
/// when there is none).
pub(crate) fn comment_out(text: &str) -> Option<String> {
    let lines = split_lines(text);
    let marked: Vec<usize> = monitor_blocks(&lines)
        .into_iter()
        .flat_map(|b| b.lines)
        .collect();
    if marked.is_empty() {
        return None;
    }
    let out: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if marked.contains(&i) {
                format!("{MARK}{l}")
            } else {
                (*l).to_string()
            }
        })
        .collect();
    Some(out.join("\n"))
}

/// `text` with [`MARK`] removed from every line that starts with it (`None` when none does).
pub(crate) fn restore(text: &str) -> Option<String> {
    let lines = split_lines(text);
    if !lines.iter().any(|l| l.starts_with(MARK)) {
        return None;
    }
    Some(
        lines
            .iter()
            .map(|l| l.strip_prefix(MARK).unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// The active `cmappmgr` services whose command repeats one used before for the same guest
/// (in `earlier`, then in this file's order): `(name, command, line, n)`, `n` the
/// repetition's number.
fn repeats(
    lines: &[&str],
    earlier: &mut Vec<(String, String)>,
) -> Vec<(String, String, usize, usize)> {
    let mut out = Vec::new();
    for b in monitor_blocks(lines) {
        let Some((c, at)) = b.cmd else { continue };
        let guest = appmon_guest(&c).unwrap_or_default();
        let key = (guest, c.clone());
        let n = earlier.iter().filter(|k| **k == key).count();
        if n > 0 {
            out.push((b.name, c, at, n));
        }
        earlier.push(key);
    }
    out
}

/// `text` with every repeated `cmappmgr` command made unique by trailing spaces (see the
/// module's doc): the new text and the services changed; `Ok(None)` when nothing repeats.
/// A command holding `"` or `\` is refused (its quoting cannot be kept exactly).
pub(crate) fn make_unique(
    text: &str,
) -> std::result::Result<Option<(String, Vec<String>)>, String> {
    let lines = split_lines(text);
    let reps = repeats(&lines, &mut Vec::new());
    if reps.is_empty() {
        return Ok(None);
    }
    let mut out: Vec<String> = lines.iter().map(|l| (*l).to_string()).collect();
    let mut names = Vec::new();
    for (name, c, at, n) in reps {
        if c.contains('"') || c.contains('\\') {
            return Err(format!(
                "the command of service {name} holds a quote or a backslash: make it unique by hand"
            ));
        }
        let l = lines[at];
        let indent = &l[..l.len() - l.trim_start().len()];
        let t = l.trim_start();
        let key_end = t.find(char::is_whitespace).unwrap_or(t.len());
        let gap_len = t[key_end..].len() - t[key_end..].trim_start().len();
        let gap = if gap_len == 0 {
            " "
        } else {
            &t[key_end..key_end + gap_len]
        };
        out[at] = format!("{indent}service_cmd{gap}\"{c}{}\"", " ".repeat(n));
        names.push(name);
    }
    Ok(Some((out.join("\n"), names)))
}

impl Inner {
    /// What the upgrade of the cmappmgr/cmappserver pair reads of package `name` before
    /// each step: its file, its monitors (active, commented out by the upgrade, repeated
    /// commands), where it runs and its services' rows in `cmviewcl`.
    pub(crate) fn appmon_upgrade_state(&self, name: &str) -> Result<Value> {
        let vm = self.vm_name(name)?;
        let (view, p) = self.resolve_package(&vm)?;
        let conf = self.read_conf(&view, &p)?;
        let text = conf.text.clone().unwrap_or_default();
        let lines = split_lines(&text);
        let monitors: Vec<String> = monitor_blocks(&lines).into_iter().map(|b| b.name).collect();
        let commented = commented_names(&lines);
        let repeated: Vec<String> = repeats(&lines, &mut Vec::new())
            .into_iter()
            .map(|r| r.0)
            .collect();
        let up = |s: &str| p.service(s).is_some_and(|v| v.status() == Status::Up);
        let monitors_up: Vec<&String> = monitors
            .iter()
            .chain(commented.iter())
            .filter(|s| up(s))
            .collect();
        // Known to the cluster (a service row, whatever its status): the file was applied.
        let configured: Vec<&String> = monitors
            .iter()
            .chain(commented.iter())
            .filter(|s| p.service(s).is_some())
            .collect();
        let running = p.status() == Status::Up;
        let nodes = members(&p);
        Ok(json!({
            "vm": vm,
            "kind": conf.kind,
            "path": conf.path,
            "host": conf.host,
            "nodes": nodes,
            "primary": nodes.first(),
            "owner": p.owner,
            "running": running,
            "switching": p.autorun().is_enabled(),
            "monitors": monitors,
            "commented": commented,
            "repeated": repeated,
            "monitors_up": monitors_up,
            "configured": configured,
        }))
    }

    /// Read the package file of a toolkit package for an edit of this upgrade (refused for
    /// any other kind: the edit is the SG IVS toolkit's file format).
    fn upgrade_conf(&self, vm: &str, what: &str) -> Result<String> {
        let (view, p) = self.resolve_package(vm)?;
        let c = self.read_conf(&view, &p)?;
        if c.kind != PackageKind::Toolkit {
            return Err(Error::check(format!(
                "{what}: {} on {} is not a package file of the SG IVS toolkit ({:?}); nothing was changed",
                c.path, c.host, c.kind
            ))
            .with_remedy(format!("edit {} by hand (package.read_config / write_config)", c.path)));
        }
        c.text
            .ok_or_else(|| Error::check(format!("{what}: {} is missing on {}", c.path, c.host)))
    }

    /// When the file read needs no edit: write it on the members whose file differs (an
    /// edit cut off half-way through its writes), so every member holds the same file.
    fn sync_members(&self, vm: &str, text: &str) -> Result<Vec<String>> {
        let (_, p) = self.resolve_package(vm)?;
        let mut stale = Vec::new();
        for h in members(&p)
            .iter()
            .filter(|h| self.topo.vm_host(h).is_some())
        {
            match self.read_conf_on(h, vm) {
                Ok(c) if c.text.as_deref() == Some(text) => {}
                Ok(_) => stale.push(h.clone()),
                Err(e) if is_cancel(&e) => return Err(e),
                Err(_) => {}
            }
        }
        for h in &stale {
            self.write_config(vm, text, Some(h))?;
        }
        Ok(stale)
    }

    /// A.11.19 → A.11.20 (optional step 1): make every `cmappmgr` service command to one
    /// guest unique in the package file, written on every member. Nothing repeated: nothing
    /// written.
    pub(crate) fn unique_monitor_commands(&self, name: &str) -> Result<Value> {
        let vm = self.vm_name(name)?;
        let text = self.upgrade_conf(&vm, "unique service commands")?;
        match make_unique(&text) {
            Err(why) => Err(Error::check(format!(
                "unique service commands of {vm}: {why}; nothing was changed"
            ))),
            Ok(None) => {
                let synced = self.sync_members(&vm, &text)?;
                Ok(json!({"vm": vm, "changed": false, "services": [], "synced": synced}))
            }
            Ok(Some((new, names))) => {
                self.write_config(&vm, &new, None)?;
                self.ctx.ui.info(&format!(
                    "{vm}: made the command of {} unique (trailing spaces)",
                    names.join(", ")
                ));
                Ok(json!({"vm": vm, "changed": true, "services": names}))
            }
        }
    }

    /// Step 2: comment out the `cmappmgr` services of the package file (every line of each
    /// block prefixed by [`MARK`]), written on every member. Already commented out: nothing
    /// written.
    pub(crate) fn comment_out_monitors(&self, name: &str) -> Result<Value> {
        let vm = self.vm_name(name)?;
        let text = self.upgrade_conf(&vm, "commenting out the monitors")?;
        let lines = split_lines(&text);
        let names: Vec<String> = monitor_blocks(&lines).into_iter().map(|b| b.name).collect();
        match comment_out(&text) {
            None => {
                let synced = self.sync_members(&vm, &text)?;
                Ok(json!({"vm": vm, "changed": false, "services": [], "synced": synced}))
            }
            Some(new) => {
                self.write_config(&vm, &new, None)?;
                Ok(json!({"vm": vm, "changed": true, "services": names}))
            }
        }
    }

    /// The end of B4 (step 8b): re-enable the `cmappmgr` services this upgrade commented
    /// out (the prefix removed, lines back as they were), written on every member. Refused
    /// while the package runs (the guide halts it first, so the monitors start with it).
    pub(crate) fn restore_monitors(&self, name: &str) -> Result<Value> {
        let vm = self.vm_name(name)?;
        let (_, p) = self.resolve_package(&vm)?;
        if p.status() == Status::Up {
            return Err(Error::check(format!(
                "package {vm} runs on {}: its monitors are re-enabled only while it is halted; nothing was changed",
                p.owner.as_deref().unwrap_or("a node")
            ))
            .with_remedy(format!("halt it first (cmhaltpkg {vm}; package.halt)")));
        }
        let text = self.upgrade_conf(&vm, "re-enabling the monitors")?;
        let names = commented_names(&split_lines(&text));
        match restore(&text) {
            None => {
                let synced = self.sync_members(&vm, &text)?;
                Ok(json!({"vm": vm, "changed": false, "services": [], "synced": synced}))
            }
            Some(new) => {
                self.write_config(&vm, &new, None)?;
                Ok(json!({"vm": vm, "changed": true, "services": names}))
            }
        }
    }

    /// Check (step 3): no `cmappmgr` service of the package (active or commented out by
    /// this upgrade) is up in `cmviewcl`.
    pub(crate) fn check_monitors_stopped(&self, name: &str) -> Result<Value> {
        let st = self.appmon_upgrade_state(name)?;
        let vm = st["vm"].as_str().unwrap_or(name).to_string();
        let up: Vec<String> = st["monitors_up"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let check = format!("cmappmgr services of {vm} stopped");
        Ok(if up.is_empty() {
            json!({"check": check, "ok": true, "detail": "no cmappmgr service is up (cmviewcl)", "remedy": null})
        } else {
            json!({"check": check, "ok": false,
                "detail": format!("still up: {}", up.join(", ")),
                "remedy": format!("comment them out and re-apply {} (cmapplyconf), or stop the cmappmgr processes (package.stop_monitors)", st["path"].as_str().unwrap_or(""))})
        })
    }

    /// Process 2, step 3's note: stop `cmappmgr` processes still running for the package's
    /// guest on its members (`ps -ef`, then `kill -9` each). Refused while the package file
    /// still has active monitors (Serviceguard would start them again).
    pub(crate) fn stop_monitors(&self, name: &str) -> Result<Value> {
        let vm = self.vm_name(name)?;
        let (view, p) = self.resolve_package(&vm)?;
        let conf = self.read_conf(&view, &p)?;
        let text = conf.text.clone().unwrap_or_default();
        let active: Vec<String> = monitor_blocks(&split_lines(&text))
            .into_iter()
            .map(|b| b.name)
            .collect();
        if !active.is_empty() {
            return Err(Error::check(format!(
                "{vm} still has active cmappmgr services in {} ({}): stopping their processes now would only restart them; nothing was changed",
                conf.path,
                active.join(", ")
            ))
            .with_remedy("comment them out and re-apply first (package.comment_out_monitors, package.apply)"));
        }
        let mut killed = Vec::new();
        for h in members(&p)
            .iter()
            .filter(|h| self.topo.vm_host(h).is_some())
        {
            let out = self.ctx.run_ok(&cmd::ps_ef(h))?;
            let ps = ps_ef::parse(&out.stdout).map_err(|e| crate::facts::parse_err(h, e))?;
            for pr in ps
                .iter()
                .filter(|pr| appmon_guest(&pr.command).as_deref() == Some(vm.as_str()))
            {
                self.ctx.run_ok(&cmd::kill_9(h, pr.pid)?)?;
                killed.push(json!({"host": h, "pid": pr.pid, "command": pr.command}));
            }
        }
        Ok(json!({"vm": vm, "killed": killed}))
    }

    /// Check (step 4/5): the package runs (cmviewcl: up), on a VM host of the inventory.
    pub(crate) fn check_package_runs(&self, name: &str) -> Result<Value> {
        let vm = self.vm_name(name)?;
        let (_, p) = self.resolve_package(&vm)?;
        let check = format!("{vm} runs");
        Ok(match (&p.owner, p.status()) {
            (Some(o), Status::Up) => {
                json!({"check": check, "ok": true, "detail": format!("up on {o}"), "remedy": null})
            }
            _ => json!({"check": check, "ok": false,
                "detail": format!("status {}, state {}", p.status, p.state),
                "remedy": format!("find out why (hpvm/diagnose -p package={vm}), then start it (hpvm/run-package -p package={vm})")}),
        })
    }

    /// Check (read back after the operator's upgrade of a node): Serviceguard (T1905CA) on
    /// `host` is at `release` or later (`swlist -l product T1905CA`).
    pub(crate) fn check_sg_release(&self, host: &str, release: &str) -> Result<Value> {
        if swlist::revision_older(release, release).is_none() {
            return Err(Error::usage(format!(
                "release {release:?} is not a Serviceguard revision like A.11.20 or A.11.20.00"
            )));
        }
        let check = format!("Serviceguard {release} or later on {host}");
        let rev = self.installed(host, cmd::PRODUCT_SERVICEGUARD)?;
        let remedy = format!(
            "upgrade Serviceguard on {host} to {release} (swinstall -s <depot> {})",
            cmd::PRODUCT_SERVICEGUARD
        );
        Ok(match rev {
            None => {
                json!({"check": check, "ok": false, "detail": "T1905CA is not installed", "remedy": remedy, "revision": null})
            }
            Some(r) => match swlist::revision_older(&r, release) {
                Some(false) => {
                    json!({"check": check, "ok": true, "detail": format!("T1905CA {r}"), "remedy": null, "revision": r})
                }
                Some(true) => {
                    json!({"check": check, "ok": false, "detail": format!("T1905CA {r}"), "remedy": remedy, "revision": r})
                }
                None => {
                    json!({"check": check, "ok": false, "detail": format!("T1905CA revision {r:?} cannot be compared with {release}"), "remedy": remedy, "revision": r})
                }
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "package_name slvm1\nservice_name slvm1\nservice_cmd /etc/cmcluster/scripts/tkit/vtn/vtn_monitor\nservice_restart none\n\n# a monitor\nservice_name mon_a\nservice_cmd /usr/sbin/cmappmgr -node slvm1 -cmappserver_timeout 240 -service /apps/ping_mon\nservice_restart 2\nservice_name mon_b\nservice_cmd \"/usr/sbin/cmappmgr -node slvm1 -cmappserver_timeout 240 -service /apps/ping_mon\"\nservice_restart 2\nservice_halt_timeout 300\nnode_name *\n";

    #[test]
    fn commenting_out_and_back_is_exact_and_only_touches_cmappmgr_blocks() {
        let c = comment_out(FILE).expect("monitors");
        assert!(c.contains(&format!("{MARK}service_name mon_a\n")));
        assert!(c.contains(&format!("{MARK}service_halt_timeout 300\n")));
        assert!(
            c.contains("\nservice_name slvm1\n"),
            "the guest monitor stays"
        );
        assert!(c.contains("\n# a monitor\n"));
        assert!(c.contains("\nnode_name *\n"));
        assert_eq!(comment_out(&c), None, "nothing left to comment out");
        assert_eq!(commented_names(&split_lines(&c)), ["mon_a", "mon_b"]);
        assert_eq!(restore(&c).as_deref(), Some(FILE));
        assert_eq!(restore(FILE), None);
    }

    #[test]
    fn a_repeated_command_gets_trailing_spaces_once() {
        let (u, names) = make_unique(FILE).expect("ok").expect("a repeat");
        assert_eq!(names, ["mon_b"]);
        assert!(u.contains("service_cmd \"/usr/sbin/cmappmgr -node slvm1 -cmappserver_timeout 240 -service /apps/ping_mon \"\n"));
        assert_eq!(make_unique(&u), Ok(None));
        let three = FILE.replace("node_name *", "service_name mon_c\nservice_cmd /usr/sbin/cmappmgr -node slvm1 -cmappserver_timeout 240 -service /apps/ping_mon\nnode_name *");
        let (u3, n3) = make_unique(&three).expect("ok").expect("repeats");
        assert_eq!(n3, ["mon_b", "mon_c"]);
        assert!(u3.contains("/apps/ping_mon  \"\nnode_name"), "{u3}");
        assert_eq!(make_unique(&u3), Ok(None));
    }
}
