//! B3: converting a package of the old Integrity VM toolkit to the SG IVS toolkit, as
//! operations; the sequences (offline: halt, back up, deploy, check, apply, run; online:
//! the migration preflight, back up, `cmdeployvpkg -C`, re-deploy with every node, check,
//! apply, enable switching) are scripts/hpvm/convert-package.rhai. Custom services of the
//! old package are not carried over: [`Inner::old_package`] returns them so the script can
//! offer to re-add them.

use hascript_api::{Error, ErrorKind, Result};
use serde_json::{json, Value};

use super::{members, ConfRead, PackageKind};
use crate::commands as cmd;
use crate::facts::Inner;
use crate::parse::cmviewcl_line::Status;
use crate::parse::legacy_control;
use crate::pkgconf::PackageConf;

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
    /// B3, read: what the conversion starts from — the package file's kind (`toolkit`,
    /// `old_toolkit`, `other`, `missing`), where it was read, the package's node list, its
    /// owner and whether it runs, and the old package's custom services (every service but
    /// the old guest monitor `hpvmsg_mon`), which a conversion does not carry over.
    pub(crate) fn old_package(&self, name: &str) -> Result<Value> {
        let (view, p) = self.resolve_package(name)?;
        let conf = self.read_conf(&view, &p)?;
        let kind = match conf.kind {
            PackageKind::Toolkit => "toolkit",
            PackageKind::OldToolkit => "old_toolkit",
            PackageKind::Other => "other",
            PackageKind::Missing => "missing",
        };
        let custom = if conf.kind == PackageKind::OldToolkit {
            custom_services(&conf)?
        } else {
            Vec::new()
        };
        let owner = p.owner.clone().filter(|o| !o.is_empty());
        Ok(json!({
            "vm": p.name,
            "kind": kind,
            "path": conf.path,
            "host": conf.host,
            "nodes": members(&p),
            "owner": owner,
            "running": p.status() == Status::Up && owner.is_some(),
            "status": format!("{}/{}", p.status, p.state),
            "custom_services": custom,
        }))
    }

    /// B3 online conversion: `cmdeployvpkg -C -P VM -h TARGET` on the VM host that runs the
    /// old package, which migrates the guest online and re-creates the package with only
    /// the source and target nodes. Its interlocks, whatever the script checked: an
    /// old-toolkit package running on a VM host of the inventory other than `target`; the
    /// package directory backed up first (`package.backup`: `.backup` on that host); never
    /// onto a host holding the toolkit's maintenance file; both VM hosts locked. Then where
    /// the guest runs and the new file's node list are read back: `#{vm, source, target,
    /// ok, exit, message, running_on, found, new_nodes}` (a failed command is not an
    /// error: the script decides from where the guest is).
    pub(crate) fn convert_online(&self, name: &str, target_name: &str) -> Result<Value> {
        let (view, p) = self.resolve_package(name)?;
        let vm = p.name.clone();
        let target = self.resolve_host("target", target_name)?;
        let conf = self.read_conf(&view, &p)?;
        if conf.kind != PackageKind::OldToolkit {
            return Err(Error::check(format!(
                "{vm} is not a package of the old Integrity VM toolkit ({} on {}: {:?}): cmdeployvpkg -C is not sent",
                conf.path, conf.host, conf.kind
            )));
        }
        let owner = match p.owner.clone().filter(|o| !o.is_empty()) {
            Some(o) if p.status() == Status::Up && self.topo.vm_host(&o).is_some() => o,
            _ => {
                return Err(Error::check(format!(
                    "an online conversion needs {vm} running on a VM host of the inventory; it is {}/{}",
                    p.status, p.state
                ))
                .with_remedy("start it, or convert offline (mode=offline)"))
            }
        };
        if owner == target {
            return Err(Error::usage(format!(
                "{vm} already runs on {target}: choose the other VM host as the online conversion's target"
            )));
        }
        let backup = format!("{}/.backup", cmd::package_dir(&vm)?);
        if self.stat(&owner, &backup)?.is_none() {
            return Err(Error::check(format!(
                "{backup} does not exist on {owner}: cmdeployvpkg -C replaces the package configuration, and is sent only after the package directory was backed up"
            ))
            .with_remedy(format!("back it up first (package.backup(\"{vm}\"))")));
        }
        let c = cmd::cmdeployvpkg_convert(&owner, &vm, &target)?;
        self.ctx.involve(&[owner.clone(), target.clone()])?;
        self.refuse_maintenance_on(&target, &vm)?;
        let out = self.ctx.run(&c)?;
        let (ok, message) = if out.success() {
            (true, String::new())
        } else {
            let msg = format!(
                "cmdeployvpkg -C exited {}: {}",
                out.code(),
                out.stderr.trim()
            );
            self.ctx.ui.warn(&format!("{msg}; checking where {vm} is"));
            (false, msg)
        };
        let running = self.running_on(&vm)?;
        let view = self.view()?;
        let pkg = view.package(&vm).cloned();
        let found = format!(
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
        let new_nodes: Vec<String> = if running == [target.clone()] {
            self.read_conf_on(&target, &vm)?
                .doc
                .as_ref()
                .map(|d| d.node_names().into_iter().map(str::to_string).collect())
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        Ok(
            json!({"vm": vm, "source": owner, "target": target, "ok": ok, "exit": out.code(),
            "message": message, "running_on": running, "found": found, "new_nodes": new_nodes}),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::procedure::package_kind;

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
