//! The package file (B3): find, read, write, make, distribute, check and apply, keeping the
//! previous file to put back when an apply fails.

use hascript_api::{Error, ErrorKind, Result};
use serde_json::{json, Value};

use super::{package_value, PACKAGE_FILE_MODE};
use crate::commands as cmd;
use crate::facts::{is_cancel, Inner};
use crate::parse::cmcheckconf::{self, CheckVerdict};
use crate::pkgconf::PackageConf;
use crate::procedure::{after_change, members, ConfRead};

fn verdict_value(host: &str, path: &str, v: &CheckVerdict) -> Value {
    json!({
        "host": host, "path": path, "ok": v.ok, "errors": v.errors,
        "permission_problems": v.permission_problems,
    })
}

/// A failed `cmcheckconf`/`cmapplyconf` verdict as a `Check` error with remedies.
fn verdict_error(what: &str, host: &str, path: &str, v: &CheckVerdict, exit: i32) -> Error {
    let mut remedies: Vec<String> = v
        .permission_problems
        .iter()
        .map(|p| format!("`chmod go-w {}` on {}", p.path, p.node))
        .collect();
    if remedies.is_empty() {
        remedies.push(format!(
            "correct {path} (hascript package.read_config / write_config) and run the check again"
        ));
    } else {
        remedies.push("or distribute the package directory again (hascript package.distribute sets the mode on every member)".into());
    }
    let errors = if v.errors.is_empty() {
        vec![format!("{what} exited {exit} without a success line")]
    } else {
        v.errors.clone()
    };
    Error::check(format!(
        "{what} -P {path} on {host} found problems:\n  - {}",
        errors.join("\n  - ")
    ))
    .on_host(host)
    .with_exit(exit)
    .with_remedy(remedies.join("; "))
}

impl Inner {
    /// The package file on the owner / first member; for a package not in the cluster yet,
    /// on the first VM host that has it.
    pub(crate) fn find_conf(&self, name: &str) -> Result<ConfRead> {
        let vm = self.vm_name(name)?;
        let view = self.view()?;
        if let Some(p) = view.package(&vm) {
            let c = self.read_conf(&view, p)?;
            if c.text.is_some() {
                return Ok(c);
            }
        }
        let mut first = None;
        for h in &self.topo.vm_hosts {
            match self.read_conf_on(&h.name, &vm) {
                Ok(c) if c.text.is_some() => return Ok(c),
                Ok(c) => {
                    if first.is_none() {
                        first = Some(c)
                    }
                }
                Err(e) if is_cancel(&e) => return Err(e),
                Err(_) => {}
            }
        }
        Err(Error::check(format!(
            "no VM host has the package file {}",
            cmd::package_file(&vm)?
        ))
        .with_remedy(format!(
            "make it (package.make \"{vm}\") or deploy the package (package.deploy \"{vm}\")"
        )))
    }

    /// `#{path, host, text}` of the package file.
    pub fn read_config(&self, name: &str) -> Result<Value> {
        let c = self.find_conf(name)?;
        Ok(json!({"path": c.path, "host": c.host, "text": c.text, "kind": c.kind}))
    }

    /// The members a package file's `node_name` lines name (`*` = every VM host), in the
    /// inventory; falls back to `cmviewcl`'s list.
    pub(super) fn members_of(&self, doc: Option<&PackageConf>, vm: &str) -> Result<Vec<String>> {
        let from_file: Vec<String> = doc
            .map(|d| d.node_names().into_iter().map(str::to_string).collect())
            .unwrap_or_default();
        let names: Vec<String> = if from_file.iter().any(|n| n == "*") {
            self.topo.vm_host_names()
        } else if !from_file.is_empty() {
            from_file
        } else {
            let view = self.view()?;
            match view.package(vm) {
                Some(p) => members(p),
                None => self.topo.vm_host_names(),
            }
        };
        let mut out = Vec::new();
        for n in names {
            if self.topo.vm_host(&n).is_none() {
                return Err(Error::check(format!(
                    "node_name {n} of package {vm} is not a VM host of the inventory"
                ))
                .with_remedy("add every cluster member to the inventory as a vm-host"));
            }
            if !out.contains(&n) {
                out.push(n);
            }
        }
        Ok(out)
    }

    /// Write the package file (on `host`, or on every member its `node_name` lines name),
    /// mode 0644, its folder made with `mkdir -p` and `chmod go-w`.
    pub fn write_config(&self, name: &str, text: &str, host: Option<&str>) -> Result<Value> {
        let vm = self.vm_name(name)?;
        let doc = PackageConf::parse(text)
            .map_err(|e| Error::usage(format!("the new package file cannot be read: {e}")))?;
        if let Some(pn) = doc.package_name() {
            if pn != vm {
                return Err(Error::usage(format!(
                    "the new package file names package_name {pn:?}, not {vm:?}"
                )));
            }
        }
        let hosts = match host {
            Some(h) => vec![self.resolve_host("host", h)?],
            None => self.members_of(Some(&doc), &vm)?,
        };
        let dir = cmd::package_dir(&vm)?;
        let path = cmd::package_file(&vm)?;
        self.keep_previous(&vm, &path, &hosts)?;
        for h in &hosts {
            self.mkdir_p(h, &dir)?;
            self.write_file(h, &path, PACKAGE_FILE_MODE, text.as_bytes())?;
            self.chmod_go_w(h, &dir)?;
        }
        self.ctx
            .ui
            .info(&format!("wrote {path} on {}", hosts.join(", ")));
        Ok(json!({"path": path, "hosts": hosts, "bytes": text.len()}))
    }

    /// B1 steps 1–2: `mkdir -p /etc/cmcluster/VM` and `cmmakepkg -m tkit/vtn/vtn -n VM F`
    /// (on `host` or the first VM host). An existing file is kept (says so).
    pub fn make(&self, name: &str, host: Option<&str>) -> Result<Value> {
        let vm = self.vm_name(name)?;
        let host = match host {
            Some(h) => self.resolve_host("host", h)?,
            None => self
                .topo
                .vm_hosts
                .first()
                .map(|h| h.name.clone())
                .ok_or_else(|| Error::usage("the inventory has no VM host"))?,
        };
        let dir = cmd::package_dir(&vm)?;
        let path = cmd::package_file(&vm)?;
        if let Some(text) = self.read_file(&host, &path)? {
            self.ctx.ui.info(&format!(
                "{path} already exists on {host}: kept as it is (edit it with package.write_config)"
            ));
            return Ok(json!({"path": path, "host": host, "text": text, "changed": false}));
        }
        self.mkdir_p(&host, &dir)?;
        self.ctx
            .run_ok(&cmd::cmmakepkg(&host, &vm, &path)?)
            .map_err(after_change)?;
        self.chmod_go_w(&host, &dir)?;
        let text = self.read_file(&host, &path)?.ok_or_else(|| {
            Error::check(format!("cmmakepkg ran on {host} but {path} does not exist"))
        })?;
        Ok(json!({"path": path, "host": host, "text": text, "changed": true}))
    }

    /// Copy the package directory from the host with the file to every member, not
    /// writable by group or others; the modes are read back.
    pub fn distribute(&self, name: &str) -> Result<Value> {
        let c = self.find_conf(name)?;
        let vm = self.vm_name(name)?;
        let hosts = self.members_of(c.doc.as_ref(), &vm)?;
        let mut to = hosts.clone();
        if !to.contains(&c.host) {
            to.push(c.host.clone());
        }
        let dir = cmd::package_dir(&vm)?;
        self.ctx.ui.step(
            "B1",
            &format!("copy {dir} from {} to {}", c.host, hosts.join(", ")),
        );
        let files = self.copy_dir(&dir, &c.host, &to)?;
        let mut modes = serde_json::Map::new();
        for h in &to {
            let e = self.stat(h, &dir)?.ok_or_else(|| {
                Error::check(format!("{dir} is missing on {h} after the copy")).on_host(h)
            })?;
            if e.group_or_other_writable() || !e.owner_executable() {
                return Err(Error::check(format!(
                    "{dir} on {h} is {} ({}) after chmod go-w",
                    e.mode, e.octal
                ))
                .on_host(h)
                .with_remedy(format!("`chmod go-w {dir}` on {h}")));
            }
            modes.insert(h.clone(), Value::String(e.mode.clone()));
        }
        Ok(json!({"source": c.host, "hosts": to, "dir": dir, "files": files, "modes": modes}))
    }

    /// `cmcheckconf -P F`: a verdict; a failed one is a `Check` error with remedies.
    pub fn check_config(&self, name: &str) -> Result<Value> {
        let c = self.find_conf(name)?;
        let out = self.ctx.run(&cmd::cmcheckconf(&c.host, &c.path)?)?;
        let v = cmcheckconf::parse(&format!("{}\n{}", out.stdout, out.stderr));
        if out.success() && v.ok {
            self.ctx
                .ui
                .info(&format!("cmcheckconf -P {}: no errors", c.path));
            return Ok(verdict_value(&c.host, &c.path, &v));
        }
        let e = verdict_error("cmcheckconf", &c.host, &c.path, &v, out.code());
        Err(self.put_back_previous(&self.vm_name(name)?, &c.path, e))
    }

    /// Before an edit of the package file on `hosts`: keep what each holds now, unless an
    /// earlier unapplied edit of this run kept it already (that one is the applied file).
    pub(super) fn keep_previous(&self, vm: &str, path: &str, hosts: &[String]) -> Result<()> {
        let known: Vec<String> = self
            .previous()
            .get(vm)
            .map(|v| v.iter().map(|(h, _)| h.clone()).collect())
            .unwrap_or_default();
        let mut read = Vec::new();
        for h in hosts.iter().filter(|h| !known.contains(h)) {
            read.push((h.clone(), self.read_file(h, path)?));
        }
        self.previous()
            .entry(vm.to_string())
            .or_default()
            .extend(read);
        Ok(())
    }

    /// After a failed `cmcheckconf`: put the package file kept before this run's unapplied
    /// edits back on every member that had one, and say so in `e` (a member that had no
    /// file is named, its new file left for review). A failed write back makes the error
    /// "needs attention".
    fn put_back_previous(&self, vm: &str, path: &str, mut e: Error) -> Error {
        let Some(kept) = self.previous().remove(vm) else {
            return e;
        };
        let mut restored = Vec::new();
        let mut new_only = Vec::new();
        let mut failed = Vec::new();
        for (h, text) in &kept {
            match text {
                Some(t) => match self.write_file(h, path, PACKAGE_FILE_MODE, t.as_bytes()) {
                    Ok(()) => restored.push(h.clone()),
                    Err(w) => failed.push(format!("{h} ({})", w.message)),
                },
                None => new_only.push(h.clone()),
            }
        }
        if !restored.is_empty() {
            e.message.push_str(&format!(
                "\nthe previous {path} was restored on {} (the rejected edit is not kept)",
                restored.join(", ")
            ));
            e.remedy = Some(format!(
                "make the edit again, corrected (package.read_config / write_config), then check it; {}",
                e.remedy.take().unwrap_or_default()
            ));
        }
        if !new_only.is_empty() {
            e.message.push_str(&format!(
                "\n{path} did not exist before on {}: the rejected file is left there for review",
                new_only.join(", ")
            ));
        }
        if !failed.is_empty() {
            e.kind = ErrorKind::NeedsAttention;
            e.message.push_str(&format!(
                "\nthe previous {path} could NOT be restored on {}: the rejected edit is still there",
                failed.join(", ")
            ));
        }
        e
    }

    /// `cmapplyconf -P F` (confirmed with `y`): a verdict, then `cmviewcl` read back.
    /// Refused (nothing sent) for a guest on NFS whose NFS file system the file does not
    /// mount ([`Inner::check_nfs_entries`]), whatever the script before it did.
    pub fn apply_config(&self, name: &str) -> Result<Value> {
        let c = self.find_conf(name)?;
        let vm = self.vm_name(name)?;
        self.check_nfs_entries(&vm)?;
        self.ctx
            .ui
            .step("B1", &format!("cmapplyconf -P {} on {}", c.path, c.host));
        let out = self.ctx.run(&cmd::cmapplyconf(&c.host, &c.path)?)?;
        let v = cmcheckconf::parse(&format!("{}\n{}", out.stdout, out.stderr));
        if !(out.success() && v.ok) {
            return Err(verdict_error(
                "cmapplyconf",
                &c.host,
                &c.path,
                &v,
                out.code(),
            ));
        }
        let view = self.view()?;
        let p = view.package(&vm).ok_or_else(|| {
            Error::check(format!(
                "cmapplyconf reported success but cmviewcl does not list package {vm}"
            ))
        })?;
        // Applied: the new file is now the one to go back to.
        self.previous().remove(&vm);
        let mut r = verdict_value(&c.host, &c.path, &v);
        if let Value::Object(o) = &mut r {
            o.insert("package".into(), package_value(p));
        }
        Ok(r)
    }
}
