//! B3: converting a package of the old Integrity VM toolkit to the SG IVS toolkit, offline
//! (halt, back up, deploy, check, apply, run) or online (back up, `cmdeployvpkg -C`, which
//! migrates the guest and re-creates the package with only the source and target nodes;
//! then re-deploy with every node, check, apply, enable switching). Custom services of the
//! old package are not carried over: they are returned so a script can offer to re-add them.

use hascript_api::{Error, ErrorKind, Result};
use serde_json::{json, Value};

use super::migrate::Purpose;
use super::package::{strings, DeployOpts};
use super::{after_change, members, ConfRead, PackageKind};
use crate::commands as cmd;
use crate::facts::Inner;
use crate::parse::cmviewcl_line::Status;
use crate::parse::legacy_control;
use crate::pkgconf::PackageConf;

/// Offline or online conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvertMode {
    /// Downtime allowed: the package is halted.
    Offline,
    /// No downtime: the guest migrates online to the target.
    Online,
}

/// The options of [`Inner::convert`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertOpts {
    /// Offline or online.
    pub mode: ConvertMode,
    /// The online conversion's target host.
    pub target: Option<String>,
    /// The converted package's nodes (default: the old package's).
    pub nodes: Vec<String>,
}

impl ConvertOpts {
    /// Read `#{mode: "offline"|"online", target: "node2", nodes: [...]}`.
    pub fn from_value(v: &Value) -> Result<ConvertOpts> {
        let m = v.as_object().ok_or_else(|| {
            Error::usage(
                "convert options must be a map #{mode: \"offline\"|\"online\", target, nodes}",
            )
        })?;
        let mut o = ConvertOpts {
            mode: ConvertMode::Offline,
            target: None,
            nodes: Vec::new(),
        };
        let mut mode_given = false;
        for (k, val) in m {
            match k.as_str() {
                "mode" => {
                    mode_given = true;
                    o.mode = match val.as_str() {
                        Some("offline") => ConvertMode::Offline,
                        Some("online") => ConvertMode::Online,
                        _ => {
                            return Err(Error::usage(
                                "convert option `mode` must be \"offline\" or \"online\"",
                            ))
                        }
                    }
                }
                "target" => {
                    o.target = Some(
                        val.as_str()
                            .ok_or_else(|| {
                                Error::usage("convert option `target` must be a host name")
                            })?
                            .to_string(),
                    )
                }
                "nodes" => o.nodes = strings(k, val)?,
                other => {
                    return Err(Error::usage(format!(
                        "unknown convert option {other:?}: use mode, target, nodes"
                    )))
                }
            }
        }
        if !mode_given {
            return Err(Error::usage(
                "convert needs `mode`: \"offline\" (halts the package) or \"online\" (migrates the guest)",
            ));
        }
        if o.mode == ConvertMode::Online && o.target.is_none() {
            return Err(Error::usage(
                "an online conversion needs `target` (the VM host to migrate the guest to)",
            ));
        }
        Ok(o)
    }
}

/// The custom services of an old package: every service but the old guest monitor
/// (`hpvmsg_mon`), from a modular file or a legacy control script.
pub(crate) fn custom_services(c: &ConfRead) -> Result<Vec<Value>> {
    if let Some(doc) = &c.doc {
        return Ok(services_of(doc));
    }
    let Some(text) = &c.text else {
        return Ok(Vec::new());
    };
    let legacy = legacy_control::parse(text)
        .map_err(|e| Error::new(ErrorKind::Parse, e.to_string()).on_host(&c.host))?;
    Ok(legacy
        .services
        .iter()
        .filter(|s| !s.cmd.contains("hpvmsg_mon"))
        .map(|s| json!({"name": s.name, "cmd": s.cmd, "restart": s.restart.to_string()}))
        .collect())
}

fn services_of(doc: &PackageConf) -> Vec<Value> {
    doc.services()
        .iter()
        .filter(|s| !s.cmd.contains("hpvmsg_mon"))
        .map(|s| {
            json!({"name": s.name, "cmd": s.cmd, "restart": s.restart, "halt_timeout": s.halt_timeout})
        })
        .collect()
}

impl Inner {
    /// Convert an old-toolkit package (see the module documentation). A toolkit package
    /// already → says so; anything else → `Check`. Losing a node of the old package needs
    /// the operator's confirmation before anything changes.
    pub fn convert(&self, name: &str, opts: &ConvertOpts) -> Result<Value> {
        let (view, p) = self.resolve_package(name)?;
        let vm = p.name.clone();
        let conf = self.read_conf(&view, &p)?;
        match conf.kind {
            PackageKind::Toolkit => {
                self.ctx.ui.info(&format!(
                    "{vm} is already a package of the SG IVS toolkit ({}): nothing to convert",
                    conf.path
                ));
                return Ok(json!({"vm": vm, "changed": false}));
            }
            PackageKind::OldToolkit => {}
            PackageKind::Other | PackageKind::Missing => {
                return Err(Error::check(format!(
                    "{vm} is not a package of the old Integrity VM toolkit ({} on {}: {:?})",
                    conf.path, conf.host, conf.kind
                ))
                .with_remedy(format!(
                    "package the VM with cmdeployvpkg instead (package.deploy \"{vm}\")"
                )));
            }
        }
        let old_nodes = members(&p);
        let custom = custom_services(&conf)?;
        let desired: Vec<String> = if opts.nodes.is_empty() {
            old_nodes.clone()
        } else {
            opts.nodes.clone()
        };
        for n in &desired {
            self.resolve_host("node", n)?;
        }
        let target = match &opts.target {
            Some(t) => Some(self.resolve_host("target", t)?),
            None => None,
        };
        let lost: Vec<&String> = old_nodes.iter().filter(|n| !desired.contains(n)).collect();
        if !lost.is_empty() {
            let q = format!(
                "the converted package {vm} would no longer run on {} (old nodes: {}; new: {}). Continue?",
                lost.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
                old_nodes.join(", "),
                desired.join(", ")
            );
            if !self.ctx.ui.confirm(&q)? {
                return Err(Error::new(
                    ErrorKind::Declined,
                    format!("conversion of {vm} declined: nothing was changed"),
                ));
            }
        }
        if !custom.is_empty() {
            self.ctx.ui.warn(&format!(
                "{} custom service(s) of the old package are not carried over by the conversion: {}",
                custom.len(),
                custom
                    .iter()
                    .filter_map(|s| s["name"].as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let result = match opts.mode {
            ConvertMode::Offline => self.convert_offline(&vm, &p.owner, &desired)?,
            ConvertMode::Online => {
                let t =
                    target.ok_or_else(|| Error::usage("an online conversion needs `target`"))?;
                let owner = p
                    .owner
                    .clone()
                    .filter(|_| p.status() == Status::Up)
                    .ok_or_else(|| {
                        Error::check(format!(
                            "an online conversion needs {vm} running; it is {}/{}",
                            p.status, p.state
                        ))
                        .with_remedy("start it, or convert offline (mode: \"offline\")")
                    })?;
                if owner == t {
                    return Err(Error::usage(format!(
                        "{vm} already runs on {t}: choose the other VM host as the online conversion's target"
                    )));
                }
                // The conversion migrates the guest: the online-migration preflight (backing
                // stores, T8718AC and the toolkit on both hosts, hpvmmigrate -s) runs before
                // anything changes (the backup, -C), and a refusal leaves everything as it was.
                self.ctx.ui.step(
                    "B3",
                    &format!("online conversion of {vm}: preflight of migrating it from {owner} to {t} (nothing changes until all of it passes)"),
                );
                self.preflight_for(&vm, &t, Purpose::Convert)?;
                let q = format!(
                    "online conversion replaces the package configuration of {vm} and migrates the running guest from {owner} to {t} (cmdeployvpkg -C). Continue?"
                );
                if !self.ctx.ui.confirm(&q)? {
                    return Err(Error::new(
                        ErrorKind::Declined,
                        format!("conversion of {vm} declined: nothing was changed"),
                    ));
                }
                self.convert_online(&vm, &owner, &t, &desired)?
            }
        };
        let mut r = result;
        if let Value::Object(o) = &mut r {
            o.insert("old_nodes".into(), json!(old_nodes));
            o.insert("custom_services".into(), Value::Array(custom));
            o.insert("changed".into(), Value::Bool(true));
        }
        Ok(r)
    }

    /// Offline conversion. The manual halts the package first, but `cmdeployvpkg` needs the
    /// guest running: the new file is made while the old package still runs (its applied
    /// configuration is untouched until `cmapplyconf`), verified, and only then is the
    /// package halted, the new configuration applied and the package started — the downtime
    /// is the halt-apply-run window.
    fn convert_offline(&self, vm: &str, owner: &Option<String>, nodes: &[String]) -> Result<Value> {
        let (_, p) = self.resolve_package(vm)?;
        let host = match owner.clone().filter(|o| self.topo.vm_host(o).is_some()) {
            Some(h) if p.status() == Status::Up => h,
            _ => {
                return Err(Error::check(format!(
                    "package {vm} is {}/{}: cmdeployvpkg needs the guest running to package it",
                    p.status, p.state
                ))
                .with_remedy(format!(
                    "start the old package first (package.run \"{vm}\"), then convert"
                )))
            }
        };
        // cmdeployvpkg runs on the guest's host after the backup: the toolkit is checked first.
        self.require_toolkit(&host, vm)?;
        let q = format!(
            "offline conversion halts package {vm} (the VM stops between the halt and the start of the converted package). Continue?"
        );
        if !self.ctx.ui.confirm(&q)? {
            return Err(Error::new(
                ErrorKind::Declined,
                format!("conversion of {vm} declined: nothing was changed"),
            ));
        }
        self.ctx.ui.step("B3", "back up the package directory");
        let backup = self.backup(vm)?;
        let dest = backup["backup"].as_str().unwrap_or_default().to_string();
        let running_old = |e: Error| {
            let mut n = after_change(e);
            n.message = format!(
                "{} (offline conversion of {vm}). Left: package {vm} still runs on {host} with its old configuration; the package directory is backed up in {dest}",
                n.message
            );
            n.remedy.get_or_insert_with(|| {
                format!("fix the cause and convert again; to undo the new files, copy them back from {dest}")
            });
            n
        };
        self.ctx.ui.step(
            "B3",
            &format!(
                "offline conversion of {vm}: make the toolkit's package file while the guest runs"
            ),
        );
        let deployed = self
            .deploy_on(
                &host,
                vm,
                &DeployOpts {
                    nodes: nodes.to_vec(),
                    ..DeployOpts::default()
                },
            )
            .map_err(running_old)?;
        let check = self.check_config(vm).map_err(running_old)?;
        self.ctx.ui.step(
            "B3",
            &format!("offline conversion of {vm}: halt, apply, start"),
        );
        self.halt_package(vm).map_err(running_old)?;
        let halted = |e: Error, what: &str| {
            let kind = after_change(e.clone()).kind;
            let mut n = e.with_kind(if kind == ErrorKind::Check {
                ErrorKind::NeedsAttention
            } else {
                kind
            });
            n.message = format!(
                "{} (offline conversion of {vm}: {what}). Left: package {vm} is halted; the old files are in {dest}",
                n.message
            );
            n.remedy.get_or_insert_with(|| {
                format!("fix the cause, then apply and run {vm} (package.apply, package.run)")
            });
            n
        };
        let apply = self
            .apply_config(vm)
            .map_err(|e| halted(e, "cmapplyconf"))?;
        let run = self
            .run_package(vm, Some(&host))
            .map_err(|e| halted(e, "cmrunpkg"))?;
        Ok(
            json!({"vm": vm, "mode": "offline", "nodes": nodes, "backup": backup, "deploy": deployed, "check": check, "apply": apply, "status": run}),
        )
    }

    fn convert_online(
        &self,
        vm: &str,
        owner: &str,
        target: &str,
        nodes: &[String],
    ) -> Result<Value> {
        self.ctx.ui.step(
            "B3",
            &format!("online conversion of {vm}: back up the package directory"),
        );
        let backup = self.backup(vm)?;
        let c = cmd::cmdeployvpkg_convert(owner, vm, target)?;
        self.ctx.ui.step(
            "B3",
            &format!(
                "online conversion: {} on {owner} (migrates {vm} to {target})",
                c.display()
            ),
        );
        let out = self.ctx.run(&c)?;
        if !out.success() {
            self.ctx.ui.warn(&format!(
                "cmdeployvpkg -C exited {}: {}; checking where {vm} is",
                out.code(),
                out.stderr.trim()
            ));
        }
        let running = self.running_on(vm)?;
        let view = self.view()?;
        let pkg = view.package(vm).cloned();
        let left_state = format!(
            "{vm} runs on {}; package {}",
            if running.is_empty() {
                "no VM host".to_string()
            } else {
                running.join(", ")
            },
            pkg.as_ref()
                .map(|p| format!(
                    "{}/{} on {}",
                    p.status,
                    p.state,
                    p.owner.as_deref().unwrap_or("none")
                ))
                .unwrap_or_else(|| "not in the cluster".into())
        );
        if running != [target.to_string()] {
            return Err(Error::needs_attention(format!(
                "the online conversion of {vm} did not end with the guest on {target}: {left_state}"
            ))
            .with_remedy(format!(
                "check hpvmstatus -P {vm} on every VM host and cmviewcl -v; the old package's files are in /etc/cmcluster/{vm}/.backup"
            )));
        }
        let new = self.read_conf_on(target, vm)?;
        let new_nodes: Vec<String> = new
            .doc
            .as_ref()
            .map(|d| d.node_names().into_iter().map(str::to_string).collect())
            .unwrap_or_default();
        let missing: Vec<&String> = nodes.iter().filter(|n| !new_nodes.contains(n)).collect();
        let attention = |e: Error| {
            let mut n = after_change(e);
            if n.kind == ErrorKind::Check {
                n = n.with_kind(ErrorKind::NeedsAttention);
            }
            n.message = format!("{} (online conversion of {vm}; {left_state})", n.message);
            n
        };
        if !missing.is_empty() {
            self.ctx.ui.info(&format!(
                "the new package file lists {} only: deploying again with every node ({})",
                new_nodes.join(", "),
                nodes.join(", ")
            ));
            self.deploy_on(
                target,
                vm,
                &DeployOpts {
                    nodes: nodes.to_vec(),
                    ..DeployOpts::default()
                },
            )
            .map_err(attention)?;
        }
        let check = self.check_config(vm).map_err(attention)?;
        let apply = self.apply_config(vm).map_err(attention)?;
        let status = self.run_package(vm, Some(target)).map_err(attention)?;
        Ok(
            json!({"vm": vm, "mode": "online", "source": owner, "target": target, "nodes": nodes,
            "backup": backup, "check": check, "apply": apply, "status": status}),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::procedure::package_kind;

    #[test]
    fn options_need_a_mode_and_an_online_target() {
        assert!(ConvertOpts::from_value(&json!({})).is_err());
        assert!(ConvertOpts::from_value(&json!({"mode": "online"})).is_err());
        let o = ConvertOpts::from_value(&json!({"mode": "online", "target": "node2"})).expect("ok");
        assert_eq!(o.mode, ConvertMode::Online);
        assert!(ConvertOpts::from_value(&json!({"mode": "sideways"})).is_err());
    }

    #[test]
    fn custom_services_leave_out_the_old_guest_monitor() {
        let text = "PACKAGE_NAME=vm3\nSERVICE_NAME[1]=vm3\nSERVICE_CMD[1]=\"/etc/cmcluster/vm3/hpvmsg_mon vm3\"\nSERVICE_NAME[2]=vm3_apache\nSERVICE_CMD[2]=\"/usr/sbin/cmappmgr -node vm3 -service /opt/apache/bin/httpd\"\nSERVICE_RESTART[2]=\"-r 1\"\n";
        let (kind, doc) = package_kind(text);
        let c = ConfRead {
            host: "node1".into(),
            path: "/etc/cmcluster/vm3/vm3.conf".into(),
            text: Some(text.into()),
            doc,
            kind,
        };
        let s = custom_services(&c).expect("read");
        assert_eq!(s.len(), 1);
        assert_eq!(s[0]["name"], "vm3_apache");
    }
}
