//! The guest's storage in the package file: volume groups (`add_vgs`) and the NFS entries a
//! guest on NFS needs before apply and run (§8).

use hascript_api::{validate_name, Error, ErrorKind, Result};
use serde_json::{json, Value};

use super::PACKAGE_FILE_MODE;
use crate::commands as cmd;
use crate::facts::Inner;
use crate::parse::df_n::{self, DfEntry};
use crate::parse::hpvmstatus::{StorageKind, StorageRow};
use crate::pkgconf::PackageConf;
use crate::procedure::after_change;
use crate::procedure::observed::Presence;

/// The volume groups the file's `vg` lines name (`vg vg01` and `vg /dev/vg01` alike).
fn vg_names(doc: &PackageConf) -> Vec<String> {
    doc.get_all("vg")
        .into_iter()
        .map(|v| v.strip_prefix("/dev/").unwrap_or(v).to_string())
        .collect()
}

/// §4: the volume groups of the guest's logical volumes with no `vg` line in the file.
pub(super) fn missing_vgs(doc: &PackageConf, storage: &[StorageRow]) -> Vec<String> {
    let have = vg_names(doc);
    let mut missing: Vec<String> = Vec::new();
    for vg in storage.iter().filter_map(StorageRow::volume_group) {
        if !have.iter().any(|h| h == vg) && !missing.iter().any(|m| m == vg) {
            missing.push(vg.to_string());
        }
    }
    missing
}

/// The NFS mounts (`fs_type nfs…`) the package file declares: the `fs_directory` of each
/// `fs_name` block.
pub(super) fn nfs_mounts_in(doc: &PackageConf) -> Vec<String> {
    let mut out = Vec::new();
    let mut dir: Option<String> = None;
    let mut nfs = false;
    let mut flush = |dir: &mut Option<String>, nfs: &mut bool| {
        if let Some(d) = dir.take() {
            if *nfs {
                out.push(d);
            }
        }
        *nfs = false;
    };
    for (k, v) in doc.entries() {
        match k {
            "fs_name" => flush(&mut dir, &mut nfs),
            "fs_directory" => dir = Some(v.trim_end_matches('/').to_string()),
            "fs_type" => nfs = v.to_ascii_lowercase().starts_with("nfs"),
            _ => {}
        }
    }
    flush(&mut dir, &mut nfs);
    out
}

/// §8: "cmdeployvpkg does not add NFS to the configuration file as a backing store; add
/// it by hand". A guest whose file backing store is on NFS is not applied and started
/// until the file mounts that NFS file system: a `Check` error naming the entries to add
/// (Managing Serviceguard A.11.20, `fs_server`), before any `cmapplyconf`/`cmrunpkg`.
pub(super) fn refuse_missing_nfs(
    host: &str,
    vm: &str,
    path: &str,
    doc: &PackageConf,
    nfs: &[(String, DfEntry)],
) -> Result<()> {
    let declared = nfs_mounts_in(doc);
    let mut missing: Vec<&(String, DfEntry)> = Vec::new();
    for n in nfs {
        let mp = n.1.mount_point.trim_end_matches('/');
        if !declared.iter().any(|d| d == mp)
            && !missing.iter().any(|m| m.1.mount_point == n.1.mount_point)
        {
            missing.push(n);
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let mut entries = Vec::new();
    for (dev, fs) in &missing {
        let (server, export) = fs
            .source
            .split_once(':')
            .unwrap_or(("<server>", fs.source.as_str()));
        entries.push(format!(
            "for {dev} (mounted on {} from {}): fs_name {export} / fs_server {server} / fs_directory {} / fs_type nfs / fs_mount_opt \"-o llock\"",
            fs.mount_point, fs.source, fs.mount_point
        ));
    }
    Err(Error::check(format!(
        "{vm}'s backing store is on NFS and {path} (on {host}; cmdeployvpkg does not write it) does not mount it: cmdeployvpkg does not add NFS backing stores (§8); the package is neither applied nor started\n  - {}",
        entries.join("\n  - ")
    ))
    .on_host(host)
    .with_remedy(format!(
        "add to {path} on every member the module `module_name sg/filesystem` (if absent) and, per NFS file system, the lines above (Managing Serviceguard A.11.20, fs_server; the cluster needs CONFIGURED_IO_TIMEOUT_EXTENSION set), then check, apply and start it: cmcheckconf -P {path}; cmapplyconf -P {path}; hpvm/run-package -p package={vm}. Do not deploy again: cmdeployvpkg would regenerate the file without them"
    )))
}

impl Inner {
    /// `df -n` of each file backing store on `host`: the ones on NFS, with their mount.
    fn nfs_stores(&self, host: &str, storage: &[StorageRow]) -> Result<Vec<(String, DfEntry)>> {
        let mut out = Vec::new();
        for s in storage.iter().filter(|s| s.kind() == StorageKind::File) {
            let dev = s.physical_device.as_str();
            if dev.is_empty() {
                continue;
            }
            let o = self.ctx.run_ok(&cmd::df_n(host, dev)?)?;
            let fs = df_n::parse(&o.stdout)
                .map_err(|e| Error::check(format!("df -n {dev} on {host}: {e}")).on_host(host))?;
            if let Some(e) = fs.into_iter().next().filter(DfEntry::is_nfs) {
                out.push((dev.to_string(), e));
            }
        }
        Ok(out)
    }

    /// §4: "review the logical volumes … add new volume groups": add a `vg` line for each
    /// of `vgs` the package file lacks (`vg X` and `vg /dev/X` name the same group), on every
    /// member its `node_name` lines name, the previous file kept for a rejected check; read
    /// back on each. One manual action (the edit of one file); the decision to add them is
    /// the script's. Those already there → nothing written.
    pub fn add_vgs(&self, name: &str, vgs: &[String]) -> Result<Value> {
        let vm = self.vm_name(name)?;
        for v in vgs {
            validate_name("volume group", v)?;
        }
        let c = self.find_conf(&vm)?;
        let text = c.text.clone().unwrap_or_default();
        let mut doc = PackageConf::parse(&text)
            .map_err(|e| Error::check(format!("{} on {}: {e}", c.path, c.host)))?;
        let have = vg_names(&doc);
        let mut added: Vec<String> = Vec::new();
        for v in vgs {
            if !have.iter().any(|h| h == v) && !added.contains(v) {
                doc.add("vg", v)
                    .map_err(|e| Error::check(format!("{}: adding vg {v}: {e}", c.path)))?;
                added.push(v.clone());
            }
        }
        let members = self.members_of(Some(&doc), &vm)?;
        if added.is_empty() {
            self.ctx.ui.info(&format!(
                "{} has a `vg` line for {} already: nothing to add",
                c.path,
                vgs.join(", ")
            ));
            return Ok(json!({"path": c.path, "hosts": members, "added": added}));
        }
        let new = doc.to_text();
        self.keep_previous(&vm, &c.path, &members)?;
        for m in &members {
            self.write_file(m, &c.path, PACKAGE_FILE_MODE, new.as_bytes())?;
        }
        for m in &members {
            let back = self.read_file(m, &c.path).map_err(after_change)?;
            if back.as_deref() != Some(new.as_str()) {
                return Err(Error::needs_attention(format!(
                    "{} on {m} does not read back as written after adding {}",
                    c.path,
                    added
                        .iter()
                        .map(|v| format!("vg {v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .on_host(m)
                .with_remedy(format!(
                    "compare {} on every member and correct it by hand",
                    c.path
                )));
            }
        }
        self.ctx.ui.info(&format!(
            "added {} to {} on {}",
            added
                .iter()
                .map(|v| format!("vg {v}"))
                .collect::<Vec<_>>()
                .join(", "),
            c.path,
            members.join(", ")
        ));
        Ok(json!({"path": c.path, "hosts": members, "added": added}))
    }

    /// [`Inner::check_nfs_entries`] as a verdict `#{check, ok, detail, remedy}` (the
    /// operation `package.check_nfs_entries`); errors other than its refusal are raised.
    pub fn nfs_entries_verdict(&self, name: &str) -> Result<Value> {
        let check = format!(
            "NFS file systems of {} in its package file",
            self.vm_name(name)?
        );
        match self.check_nfs_entries(name) {
            Ok(r) => {
                let n = r["nfs"].as_array().map_or(0, Vec::len);
                Ok(json!({"check": check, "ok": true, "remedy": Value::Null,
                    "detail": if n == 0 { "no backing store on NFS".to_string() } else { format!("{n} NFS backing store(s), mounted by the file") }}))
            }
            Err(e) if e.kind == ErrorKind::Check => {
                Ok(json!({"check": check, "ok": false, "detail": e.message, "remedy": e.remedy}))
            }
            Err(e) => Err(e),
        }
    }

    /// §8: "cmdeployvpkg does not add NFS to the configuration file as a backing store; add
    /// it by hand". A guest whose file backing store is on NFS (`df -n` where it runs, or
    /// where it is registered) is neither applied nor started until the package file mounts
    /// that file system: a `Check` error naming the `fs_*` lines to add. `package.apply` and
    /// `package.run` run this before they send; `#{nfs: [..]}` otherwise.
    pub fn check_nfs_entries(&self, name: &str) -> Result<Value> {
        let vm = self.vm_name(name)?;
        let hosts = self.guest_on_hosts(&vm)?;
        let at = hosts
            .iter()
            .filter(|h| h.details.is_some())
            .min_by_key(|h| h.presence != Presence::On);
        let Some(at) = at else {
            return Ok(json!({"vm": vm, "nfs": []}));
        };
        let storage = at
            .details
            .as_ref()
            .map(|d| d.storage.clone())
            .unwrap_or_default();
        let nfs = self.nfs_stores(&at.host, &storage)?;
        if nfs.is_empty() {
            return Ok(json!({"vm": vm, "nfs": []}));
        }
        let c = self.find_conf(&vm)?;
        let doc = PackageConf::parse(c.text.as_deref().unwrap_or_default())
            .map_err(|e| Error::check(format!("{} on {}: {e}", c.path, c.host)))?;
        refuse_missing_nfs(&c.host, &vm, &c.path, &doc, &nfs)?;
        Ok(json!({
            "vm": vm,
            "nfs": nfs.iter().map(|(dev, fs)| json!({"device": dev, "mount_point": fs.mount_point, "source": fs.source})).collect::<Vec<_>>(),
        }))
    }
}
