//! Easy deployment (`cmdeploycl`/toolkit `cmdeployvpkg`): its options, the toolkit check,
//! and the refusals to lose monitors, NFS entries or disabled node switching.

use hascript_api::{validate_name, Error, Result};
use serde_json::{json, Value};

use super::storage::{missing_vgs, nfs_mounts_in};
use crate::appmon::AppMonitor;
use crate::commands::{self as cmd, DeployArgs};
use crate::facts::Inner;
use crate::parse::cmviewcl_line::Switching;
use crate::parse::hpvmstatus::StorageRow;
use crate::pkgconf::PackageConf;

/// The options of [`Inner::deploy`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeployOpts {
    /// Nodes for `-n` (empty: the toolkit's choice).
    pub nodes: Vec<String>,
    /// Application monitors (`-x appmon=SPEC` each).
    pub appmon: Vec<AppMonitor>,
    /// `-x merge`.
    pub merge: bool,
    /// Regenerate an existing package file even though its application monitors (and the
    /// node switching Serviceguard disabled) would be lost: the caller has seen the list.
    pub replace: bool,
}

impl DeployOpts {
    /// Read `#{nodes: [..], appmon: "spec" | [specs], merge: bool}`; anything else is a
    /// usage error.
    pub fn from_value(v: &Value) -> Result<DeployOpts> {
        let mut o = DeployOpts::default();
        let Some(m) = v.as_object() else {
            if v.is_null() {
                return Ok(o);
            }
            return Err(Error::usage(
                "deploy options must be a map #{nodes: [...], appmon: \"spec\" or [...], merge: bool}",
            ));
        };
        for (k, val) in m {
            match k.as_str() {
                "nodes" => o.nodes = strings(k, val)?,
                "appmon" => {
                    for s in strings(k, val)? {
                        o.appmon
                            .push(AppMonitor::parse(&s).map_err(|e| Error::usage(e.to_string()))?);
                    }
                }
                "merge" => {
                    o.merge = val.as_bool().ok_or_else(|| {
                        Error::usage("deploy option `merge` must be true or false")
                    })?
                }
                "replace" => {
                    o.replace = val.as_bool().ok_or_else(|| {
                        Error::usage("deploy option `replace` must be true or false")
                    })?
                }
                other => {
                    return Err(Error::usage(format!(
                        "unknown deploy option {other:?}: use nodes, appmon, merge, replace"
                    )))
                }
            }
        }
        for n in &o.nodes {
            validate_name("node", n)?;
        }
        Ok(o)
    }
}

/// A string or a list of strings.
fn strings(key: &str, v: &Value) -> Result<Vec<String>> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(a) => a
            .iter()
            .map(|x| {
                x.as_str().map(str::to_string).ok_or_else(|| {
                    Error::usage(format!(
                        "option `{key}` must be a string or a list of strings"
                    ))
                })
            })
            .collect(),
        Value::Null => Ok(Vec::new()),
        _ => Err(Error::usage(format!(
            "option `{key}` must be a string or a list of strings"
        ))),
    }
}

/// The `Guest Device` kinds `cmdeployvpkg` does not put in the package file (§4 note).
const UNPACKAGED_DEVICES: &[&str] = &["tape", "dvd", "burner", "changer"];

/// §4 note: "tapes, DVDs, burners and changers are not put in the package file": warn for
/// each such guest device of `hpvmstatus -P`.
fn warn_unpackaged_devices(ui: &dyn hascript_api::Ui, vm: &str, storage: &[StorageRow]) {
    for s in storage {
        let kind = s.guest_device.to_ascii_lowercase();
        if UNPACKAGED_DEVICES.contains(&kind.as_str()) {
            ui.warn(&format!(
                "{vm} has a {kind} ({} {}): cmdeployvpkg does not put tapes, DVDs, burners or changers in the package file (§4); make the device available on every node of the package by hand, or detach it before a failover",
                s.physical_storage, s.physical_device
            ));
        }
    }
}

/// Before `cmdeployvpkg -x appmon`: refuse (a check, nothing sent) a monitor that would
/// duplicate a service of the package file it merges into, or another monitor of the same
/// call. `cmdeployvpkg` writes the monitor as `service_name <name>` (Appendix A's
/// `ping_mon`); the name is compared in both forms, `<name>` and `<vm>-<name>`
/// ([`crate::appmon::monitor_clash`]), and the command sent to the guest too. Without
/// `merge` the file is made anew, so only the call's own monitors are compared.
fn refuse_duplicate_monitors(
    host: &str,
    vm: &str,
    path: &str,
    before: Option<&str>,
    opts: &DeployOpts,
) -> Result<()> {
    if opts.appmon.is_empty() {
        return Ok(());
    }
    let mut taken = match before.filter(|_| opts.merge) {
        Some(text) => PackageConf::parse(text)
            .map_err(|e| {
                Error::check(format!(
                    "{path} on {host}: {e}; the new application monitors cannot be checked against its services"
                ))
                .on_host(host)
                .with_remedy(format!("fix {path}, then add the monitor again"))
            })?
            .services(),
        None => Vec::new(),
    };
    for a in &opts.appmon {
        if let Some(c) = crate::appmon::monitor_clash(&taken, vm, &a.name, &a.command) {
            return Err(Error::check(format!(
                "application monitor {} of {vm} refused before cmdeployvpkg (it writes service_name {}): {c}",
                a.name, a.name
            ))
            .on_host(host)
            .with_remedy(c.remedy()));
        }
        taken.push(crate::pkgconf::ServiceBlock {
            name: a.name.clone(),
            cmd: a.service_cmd(vm),
            ..Default::default()
        });
    }
    Ok(())
}

impl Inner {
    /// B2: `cmdeployvpkg -Q -P VM [-n N]… [-x merge -x appmon=SPEC]` on the host running
    /// the guest, then the file re-checked on every member and `cmviewcl` read.
    pub fn deploy(&self, name: &str, opts: &DeployOpts) -> Result<Value> {
        let vm = self.vm_name(name)?;
        for n in &opts.nodes {
            self.resolve_host("node", n)?;
        }
        let hosts = self.running_on(&vm)?;
        let host = match hosts.as_slice() {
            [one] => one.clone(),
            [] => {
                return Err(Error::check(format!(
                    "{vm} is not running on any VM host: cmdeployvpkg needs the guest running"
                ))
                .with_remedy(format!(
                    "start the guest first (hpvmstart -P {vm} on the VM host that should run it)"
                )))
            }
            several => {
                return Err(Error::needs_attention(format!(
                    "{vm} runs on several VM hosts at once: {}",
                    several.join(", ")
                )))
            }
        };
        // cmdeployvpkg rewrites an existing package file on every member: keep each one, so
        // a cmcheckconf that rejects the result puts them back.
        let path = cmd::package_file(&vm)?;
        if let Some(before) = self.read_file(&host, &path)? {
            if !opts.merge && !opts.replace {
                self.refuse_losing_redeploy(&vm, &host, &path, &before)?;
            }
            let mut hosts = self.members_of(PackageConf::parse(&before).ok().as_ref(), &vm)?;
            if !hosts.contains(&host) {
                hosts.insert(0, host.clone());
            }
            self.keep_previous(&vm, &path, &hosts)?;
        }
        self.deploy_only(&host, &vm, opts)
    }

    /// B0: `cmdeployvpkg` is the toolkit's; without the toolkit (`swlist`) on `host` there
    /// is nothing to run and no module `tkit/vtn/vtn` for the file it would write: a `Check`
    /// error before anything changes.
    pub(crate) fn require_toolkit(&self, host: &str, vm: &str) -> Result<()> {
        if self.installed(host, cmd::PRODUCT_TOOLKIT)?.is_some() {
            return Ok(());
        }
        Err(Error::check(format!(
            "the SG IVS toolkit ({}) is not installed on {host}, where {vm} runs: cmdeployvpkg cannot package it; nothing was changed",
            cmd::PRODUCT_TOOLKIT
        ))
        .on_host(host)
        .with_remedy(format!(
            "install the toolkit on every member: swinstall -s <depot> {}",
            cmd::PRODUCT_TOOLKIT
        )))
    }

    /// Before `cmdeployvpkg` without `-x merge` regenerates an existing package file:
    /// refuse (a check, nothing sent) when that would drop the file's application monitors
    /// (every service but the toolkit's guest monitor) or when Serviceguard has disabled
    /// node switching on a node (after a failover: the deployment's `cmmodpkg -e -n`
    /// would turn it back on), or its NFS file systems (added by hand, §8). The error lists
    /// what would be lost and how to go on.
    fn refuse_losing_redeploy(&self, vm: &str, host: &str, path: &str, text: &str) -> Result<()> {
        let mut lost = Vec::new();
        if let Ok(doc) = PackageConf::parse(text) {
            for s in doc.services() {
                if !s.cmd.contains("guest_monitor") && !s.cmd.contains("hpvmsg_mon") {
                    lost.push(format!(
                        "application monitor service {} (service_cmd {})",
                        s.name, s.cmd
                    ));
                }
            }
            // Added by hand (§8): a regenerated file would lose it.
            for d in nfs_mounts_in(&doc) {
                lost.push(format!(
                    "the NFS file system mounted on {d} (fs_type nfs; cmdeployvpkg does not add it)"
                ));
            }
        }
        let view = self.view()?;
        if let Some(p) = view.package(vm) {
            for n in &p.nodes {
                if n.switching() == Switching::Disabled {
                    lost.push(format!(
                        "node switching disabled on {} (Serviceguard's own record, e.g. after a failover; deploying enables it again)",
                        n.name
                    ));
                }
            }
        }
        if lost.is_empty() {
            return Ok(());
        }
        Err(Error::check(format!(
            "package {vm} exists already ({path} on {host}); cmdeployvpkg would regenerate it and lose:\n  - {}",
            lost.join("\n  - ")
        ))
        .on_host(host)
        .with_remedy(format!(
            "nothing was sent. To add a monitor to the existing package use hpvm/add-app-monitor (cmdeployvpkg -x merge); to change the package, edit {path} (package.read_config / write_config) and apply it; to regenerate it anyway and lose the above, deploy with replace: true (-p replace=yes), then add the monitors again and re-disable node switching with cmmodpkg -d -n NODE {vm}"
        )))
    }

    /// B2's one manual action: `cmdeployvpkg -Q -P VM …` on `host` (the guest's host), with
    /// its guard rails — the toolkit installed, no duplicate monitor, tapes and DVDs warned
    /// about — and its result re-checked (the file is the toolkit's, on every member, with
    /// the asked nodes and monitors). The volume groups of the guest's logical volumes that
    /// the file lacks are returned as `missing_vgs` (adding them is [`Inner::add_vgs`]).
    pub(crate) fn deploy_only(&self, host: &str, vm: &str, opts: &DeployOpts) -> Result<Value> {
        let args = DeployArgs {
            nodes: opts.nodes.clone(),
            merge: opts.merge,
            appmon: opts.appmon.iter().map(|a| a.to_spec()).collect(),
        };
        let c = cmd::cmdeployvpkg(host, vm, &args)?;
        self.require_toolkit(host, vm)?;
        let path = cmd::package_file(vm)?;
        let before = self.read_file(host, &path)?;
        refuse_duplicate_monitors(host, vm, &path, before.as_deref(), opts)?;
        // What cmdeployvpkg leaves out of the file (§4 note, §8): read before it runs.
        let storage = self
            .details(host, vm)?
            .map(|d| d.storage)
            .unwrap_or_default();
        warn_unpackaged_devices(&*self.ctx.ui, vm, &storage);
        self.ctx
            .ui
            .step("B2", &format!("easy deployment: {} on {host}", c.display()));
        let out = self.ctx.run(&c)?;
        if !out.success() {
            self.ctx.ui.warn(&format!(
                "cmdeployvpkg exited {}: {}; checking what it wrote",
                out.code(),
                out.stderr.trim()
            ));
        }
        // Re-check the result instead of trusting the exit code.
        let text = self.read_file(host, &path)?.ok_or_else(|| {
            Error::check(format!(
                "cmdeployvpkg ran on {host} but {path} does not exist there (exit {})",
                out.code()
            ))
            .on_host(host)
            .with_stderr(out.stderr.clone())
        })?;
        if !out.success() && before.as_deref() == Some(text.as_str()) {
            return Err(Error::check(format!(
                "cmdeployvpkg -P {vm} failed on {host} (exit {}) and left {path} as it was",
                out.code()
            ))
            .on_host(host)
            .with_command(c.display())
            .with_status(&out.status)
            .with_stderr(out.stderr.clone())
            .with_remedy("fix what cmdeployvpkg reports, then deploy again"));
        }
        let (kind, _) = crate::procedure::package_kind(&text);
        if kind != crate::procedure::PackageKind::Toolkit {
            return Err(Error::check(format!(
                "{path} on {host} after cmdeployvpkg (exit {}) is not a package of the SG IVS toolkit ({kind:?})",
                out.code()
            ))
            .on_host(host)
            .with_stderr(out.stderr.clone())
            .with_remedy("fix what cmdeployvpkg reports, then deploy again"));
        }
        let doc = PackageConf::parse(&text)
            .map_err(|e| Error::check(format!("{path} on {host} after cmdeployvpkg: {e}")))?;
        let mut problems = Vec::new();
        let file_nodes: Vec<String> = doc.node_names().into_iter().map(str::to_string).collect();
        for n in &opts.nodes {
            if !file_nodes.iter().any(|f| f == n || f == "*") {
                problems.push(format!("node_name {n} is missing from {path}"));
            }
        }
        let services = doc.services();
        for a in &opts.appmon {
            let wanted = format!("-service {}", a.command);
            if !services.iter().any(|s| s.cmd.contains(&wanted)) {
                problems.push(format!(
                    "no service runs `{}` (application monitor {})",
                    a.command, a.name
                ));
            }
        }
        let members = self.members_of(Some(&doc), vm)?;
        let mut differing = Vec::new();
        for m in members.iter().filter(|m| m.as_str() != host) {
            match self.read_file(m, &path)? {
                Some(t) if t == text => {}
                Some(_) => differing.push(format!("{m} (different content)")),
                None => differing.push(format!("{m} (missing)")),
            }
        }
        if !differing.is_empty() {
            problems.push(format!(
                "{path} is not the same on every member: {}",
                differing.join(", ")
            ));
        }
        if !problems.is_empty() {
            let mut e = Error::check(format!(
                "cmdeployvpkg -P {vm} on {host} (exit {}) left:\n  - {}",
                out.code(),
                problems.join("\n  - ")
            ))
            .on_host(host)
            .with_remedy(format!(
                "review {path}; distribute the package directory (package.distribute \"{vm}\") or deploy again"
            ));
            if !out.stderr.trim().is_empty() {
                e = e.with_stderr(out.stderr.clone());
            }
            return Err(e);
        }
        let missing_vgs = missing_vgs(&doc, &storage);
        let view = self.view()?;
        let in_cluster = view.package(vm).is_some();
        self.ctx.ui.info(&format!(
            "{path} written on {} ({} services){}",
            members.join(", "),
            services.len(),
            if in_cluster {
                ""
            } else {
                "; not applied yet: check and apply it (package.check, package.apply)"
            }
        ));
        Ok(json!({
            "vm": vm, "host": host, "path": path, "nodes": file_nodes, "members": members,
            "services": services.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
            "in_cluster": in_cluster, "exit": out.code(),
            "missing_vgs": missing_vgs, "added_vgs": [],
        }))
    }
}
