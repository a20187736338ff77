//! B5: online migration of a VM package with `cmmovevpkg`. The whole bracket is
//! [`Inner::migrate`]: a read-only preflight ([`Inner::preflight`]), the move, the verified
//! end state, and — on any failure once `cmmovevpkg` was sent — the state-aware recovery
//! ([`Inner::recover`], deciding with [`super::decide::decide_recovery`]).

use std::time::Duration;

use hascript_api::objects::{Context, RecoveryGuard};
use hascript_api::{CancelToken, Error, ErrorKind, Result};
use serde_json::{json, Value};

use super::decide::{decide_recovery, Landing, Observed, Presence, RecoveryAction};
use super::{check_failed, node_up, PackageKind};
use crate::commands as cmd;
use crate::facts::{is_cancel, parse_err, Inner};
use crate::locate::describe_hosts;
use crate::parse::cmviewcl_line::Status;
use crate::parse::df_n::{self, DfEntry};
use crate::parse::hpvmstatus::{GuestState, StorageKind};
use crate::parse::swlist;
use crate::parse::vgdisplay;
use crate::wait::WaitEnd;

/// How long `cmmovevpkg` may run before the transport gives up on it (a large guest over a
/// slow link takes long; where the guest is is read afterwards anyway).
pub const MOVE_COMMAND_TIMEOUT: Duration = Duration::from_secs(4 * 3600);
/// How long the recovery waits for a package or guest in transition to settle.
pub const SETTLE_DEADLINE: Duration = Duration::from_secs(900);
/// How long the recovery waits after Ctrl-C (the operator wants out).
pub const SETTLE_DEADLINE_CANCELLED: Duration = Duration::from_secs(120);
/// Poll interval of the waits.
pub const POLL: Duration = Duration::from_secs(10);

/// What a preflight is for: the checks of online migration are the same, the package kind
/// expected differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// `cmmovevpkg` (B5): a package of the SG IVS toolkit.
    Move,
    /// `cmdeployvpkg -C` (B3, online conversion): a package of the old toolkit.
    Convert,
}

/// What the exposure display calls the unprotected window of B5.
fn exposure_what(vm: &str) -> String {
    format!("package switching of {vm} off (no failover)")
}

impl Inner {
    /// `vgdisplay VG` on `host`: whether the volume group is shared (SLVM).
    fn vg_shared(&self, host: &str, vg: &str) -> Result<bool> {
        let dev = if vg.starts_with('/') {
            vg.to_string()
        } else {
            format!("/dev/{vg}")
        };
        let out = self.ctx.run_ok(&cmd::vgdisplay(host, &dev)?)?;
        let vgs = vgdisplay::parse(&out.stdout).map_err(|e| parse_err(host, e))?;
        Ok(vgs.iter().any(|g| g.is_shared()))
    }

    /// `df -n PATH` on `host`: the file system holding a file backing store.
    fn fs_of(&self, host: &str, path: &str) -> Result<Option<DfEntry>> {
        let out = self.ctx.run_ok(&cmd::df_n(host, path)?)?;
        Ok(df_n::parse(&out.stdout)
            .map_err(|e| parse_err(host, e))?
            .into_iter()
            .next())
    }

    /// `swlist -l product P` on `host`: the revision installed, `None` when not installed.
    pub(crate) fn installed(&self, host: &str, product: &str) -> Result<Option<String>> {
        let c = cmd::swlist(host, product)?;
        let out = self.ctx.run(&c)?;
        let text = format!("{}\n{}", out.stdout, out.stderr);
        if !out.success() {
            if swlist::not_found(&text) {
                return Ok(None);
            }
            return Err(Error::new(
                ErrorKind::Command,
                format!("swlist failed on {host}: {}", out.stderr.trim()),
            )
            .on_host(host)
            .with_command(c.display())
            .with_status(&out.status));
        }
        let products = swlist::parse(&out.stdout).map_err(|e| parse_err(host, e))?;
        Ok(swlist::find(&products, product).map(|p| p.revision.clone()))
    }

    /// B5 preflight of moving `vm` to `target`, read-only: every check runs, every failure
    /// is listed with the manual's remedy in one `Check` error. Unknown names are usage
    /// errors. Returns `#{vm, source, target, checks}`.
    pub fn preflight(&self, vm_name: &str, target_name: &str) -> Result<Value> {
        self.preflight_for(vm_name, target_name, Purpose::Move)
    }

    /// [`Inner::preflight`] for `purpose`: an online conversion (`cmdeployvpkg -C`) migrates
    /// the guest as `cmmovevpkg` does and needs the same checks, except that its package is
    /// an old-toolkit one by definition.
    pub(crate) fn preflight_for(
        &self,
        vm_name: &str,
        target_name: &str,
        purpose: Purpose,
    ) -> Result<Value> {
        let vm = self.vm_name(vm_name)?;
        let target = self.resolve_host("target", target_name)?;
        let (view, pkg) = self.resolve_package(&vm)?;
        let mut checks: Vec<Value> = Vec::new();
        let mut failed: Vec<String> = Vec::new();
        let mut remedies: Vec<String> = Vec::new();
        let mut record = |name: &str, ok: bool, detail: String, remedy: Option<String>| {
            if !ok {
                failed.push(format!("{name}: {detail}"));
                if let Some(r) = remedy.clone() {
                    remedies.push(r);
                }
            }
            checks.push(json!({"check": name, "ok": ok, "detail": detail, "remedy": remedy}));
        };

        // The owner: where the package (and the guest) runs now.
        let owner = pkg.owner.clone().filter(|o| !o.is_empty());
        let source = match &owner {
            Some(o) if self.topo.vm_host(o).is_none() => {
                record(
                    "package owner",
                    false,
                    format!("{vm} runs on {o}, which is not a VM host of the inventory"),
                    Some("add every cluster member to the inventory as a vm-host".into()),
                );
                None
            }
            Some(o) if *o == target => {
                record(
                    "package owner",
                    false,
                    format!("{vm} already runs on {target}"),
                    Some(format!("choose another target than {target}")),
                );
                None
            }
            Some(o) => {
                record(
                    "package owner",
                    pkg.status() == Status::Up,
                    format!("package {vm} is {}/{} on {o}", pkg.status, pkg.state),
                    Some(format!("bring package {vm} up before migrating it")),
                );
                Some(o.clone())
            }
            None => {
                record(
                    "package owner",
                    false,
                    format!(
                        "package {vm} is {}/{} and runs nowhere",
                        pkg.status, pkg.state
                    ),
                    Some(format!(
                        "start the package first (cmrunpkg {vm}; hascript package.run)"
                    )),
                );
                None
            }
        };

        // A toolkit package: cmmovevpkg on an old package leaves it to be re-enabled by hand.
        let conf = self.read_conf(&view, &pkg);
        let conf = match conf {
            Ok(c) => {
                let (ok, detail, remedy) = match c.kind {
                    PackageKind::Toolkit => (true, format!("{} uses module tkit/vtn/vtn", c.path), None),
                    PackageKind::OldToolkit if purpose == Purpose::Convert => (
                        true,
                        format!("{vm} is a package of the old Integrity VM toolkit (hpvmsg_*), which cmdeployvpkg -C converts while it migrates the guest"),
                        None,
                    ),
                    PackageKind::OldToolkit => (
                        false,
                        format!("{vm} is a package of the old Integrity VM toolkit (hpvmsg_*); cmmovevpkg must not be used on it"),
                        Some(format!("use hpvmsg_move for an old package, or convert it first (hpvm/convert-package -p package={vm} -p mode=offline or mode=online)")),
                    ),
                    PackageKind::Other => (
                        false,
                        format!("{} on {} is not a package of the SG IVS toolkit (no module tkit/vtn/vtn)", c.path, c.host),
                        Some(format!("package the VM with the toolkit first (cmdeployvpkg -P {vm}; hpvm/deploy-package)")),
                    ),
                    PackageKind::Missing => (
                        false,
                        format!("{} does not exist on {}: not a toolkit package as far as hascript can tell", c.path, c.host),
                        Some(format!("use hpvmsg_move for an old package, or convert it first (hpvm/convert-package -p package={vm} -p mode=offline or mode=online)")),
                    ),
                };
                record("toolkit package", ok, detail, remedy);
                Some(c)
            }
            Err(e) if is_cancel(&e) => return Err(e),
            Err(e) => {
                record("toolkit package", false, e.message.clone(), None);
                None
            }
        };

        // The target: a member with node switching enabled, up in the cluster.
        let (ok, detail) = match pkg.node(&target) {
            None => (
                false,
                format!(
                    "{target} is not in the node_name list of {vm} ({})",
                    super::members(&pkg).join(", ")
                ),
            ),
            Some(n) if !n.switching().is_enabled() => (
                false,
                format!("node switching of {vm} on {target} is {}", n.switching),
            ),
            Some(n) if n.status() != Status::Up || !node_up(&view, &target) => (
                false,
                format!(
                    "{target} is not up (package node status {}, cluster node {})",
                    n.status,
                    view.node(&target)
                        .map(|v| format!("{}/{}", v.status, v.state))
                        .unwrap_or_else(|| "not listed".into())
                ),
            ),
            Some(_) => (
                true,
                format!("{target} is a member of {vm}, up, node switching enabled"),
            ),
        };
        record(
            "target in the package's node list",
            ok,
            detail,
            Some(if pkg.node(&target).is_none() {
                format!("add `node_name {target}` to the package file and apply it (hpvm/deploy-package), or choose a member as the target")
            } else {
                format!("enable node switching (cmmodpkg -e -n {target} {vm}) and make sure {target} is running in the cluster")
            }),
        );

        // The guest on the owner: running, backing stores that allow online migration.
        if let Some(src) = &source {
            match self.details(src, &vm) {
                Ok(Some(d)) => {
                    let st = d.vm.state();
                    record(
                        "guest running on the owner",
                        st == GuestState::OnOs,
                        format!("hpvmstatus -P {vm} on {src}: {}", d.vm.state),
                        Some(format!(
                            "the guest must be running its OS (On (OS)) on {src}"
                        )),
                    );
                    for s in &d.storage {
                        let dev = s.physical_device.clone();
                        let (ok, detail, remedy): (bool, String, Option<String>) = match s.kind() {
                            StorageKind::Disk => (true, format!("{dev}: whole disk"), None),
                            StorageKind::Null => (true, format!("{} with no backing store", s.guest_device), None),
                            StorageKind::Lv => match s.volume_group() {
                                Some(vg) => match self.vg_shared(src, vg) {
                                    Ok(true) => (true, format!("{dev}: logical volume of shared volume group {vg}"), None),
                                    Ok(false) => (false, format!("{dev}: logical volume of {vg}, which is not a shared (SLVM) volume group"), Some("online migration allows only whole disks and shared LVM logical volumes: halt the package and move it offline, or put the backing store on a shared volume group".into())),
                                    Err(e) if is_cancel(&e) => return Err(e),
                                    Err(e) => (false, format!("{dev}: cannot read volume group {vg}: {}", e.message), None),
                                },
                                None => (false, format!("{dev}: logical volume whose volume group cannot be read from the path"), None),
                            },
                            StorageKind::File => match self.fs_of(src, &dev) {
                                Ok(Some(fs)) if fs.is_nfs() => (false, format!("{dev}: file on NFS ({} from {})", fs.mount_point, fs.source), Some("online migration allows only whole disks and shared LVM logical volumes: NFS and file backing stores are refused".into())),
                                Ok(Some(fs)) => (false, format!("{dev}: file backing store on {} ({})", fs.mount_point, fs.fs_type), Some("online migration allows only whole disks and shared LVM logical volumes: file backing stores are refused".into())),
                                Ok(None) => (false, format!("{dev}: file backing store"), Some("online migration allows only whole disks and shared LVM logical volumes".into())),
                                Err(e) if is_cancel(&e) => return Err(e),
                                Err(e) => (false, format!("{dev}: file backing store (df -n failed: {})", e.message), Some("online migration allows only whole disks and shared LVM logical volumes".into())),
                            },
                            StorageKind::Other(w) => (false, format!("{dev}: backing store of kind {w}"), Some("online migration allows only whole disks and shared LVM logical volumes (not VxVM, CFS, NFS or files)".into())),
                        };
                        record(
                            &format!("backing store {}", s.guest_device),
                            ok,
                            detail,
                            remedy,
                        );
                    }
                }
                Ok(None) => record(
                    "guest running on the owner",
                    false,
                    format!("{src} does not know guest {vm} (hpvmstatus -P)"),
                    Some("check that the package name is the VM name".into()),
                ),
                Err(e) if is_cancel(&e) => return Err(e),
                Err(e) => record("guest running on the owner", false, e.message, None),
            }
        }

        // Not in toolkit maintenance, on every member: on the owner it means the guest is not
        // monitored now; on the target, that it would not be after the move (a file left on a
        // former owner after a failover); elsewhere it waits for the next failover.
        if let Some(c) = &conf {
            let file = c.maintenance_file(&vm);
            let remedy = format!("leave maintenance mode on every member first (hpvm/maintenance -p package={vm} -p state=off)");
            for (m, on) in self.maintenance_members(&pkg, c)? {
                let role = if Some(&m) == source.as_ref() {
                    "the owner"
                } else if m == target {
                    "the target"
                } else {
                    match on {
                        Ok(true) => self.ctx.ui.warn(&format!(
                            "{file} exists on {m}: package {vm} would run unmonitored there after a failover; {remedy}"
                        )),
                        Ok(false) => {}
                        Err(why) => self.ctx.ui.warn(&format!(
                            "cannot tell whether {file} exists on {m}: {why}"
                        )),
                    }
                    continue;
                };
                match on {
                    Ok(on) => record(
                        &format!("not in toolkit maintenance on {m}"),
                        !on,
                        if on {
                            if m == target {
                                format!("{file} exists on {m} (the target, left there after a failover?): moved there, the package would run in toolkit maintenance, its guest unmonitored")
                            } else {
                                format!("{file} exists on {m} ({role}): the package is in maintenance mode, its guest unmonitored")
                            }
                        } else {
                            format!("no {file} on {m} ({role})")
                        },
                        Some(remedy.clone()),
                    ),
                    Err(why) => record(
                        &format!("not in toolkit maintenance on {m}"),
                        false,
                        format!("cannot tell whether {file} exists on {m} ({role}): {why}"),
                        None,
                    ),
                }
            }
        }

        // Products on both hosts.
        let mut hosts = Vec::new();
        if let Some(s) = &source {
            hosts.push(s.clone());
        }
        hosts.push(target.clone());
        for h in &hosts {
            for product in [cmd::PRODUCT_OVMM, cmd::PRODUCT_TOOLKIT] {
                match self.installed(h, product) {
                    Ok(Some(rev)) => record(
                        &format!("{product} on {h}"),
                        true,
                        format!("installed ({rev})"),
                        None,
                    ),
                    Ok(None) => record(
                        &format!("{product} on {h}"),
                        false,
                        "not installed".into(),
                        Some(if product == cmd::PRODUCT_OVMM {
                            format!("install {product} (online VM migration) on {h}")
                        } else {
                            format!("install the toolkit on {h}: swinstall -s <depot> {product}")
                        }),
                    ),
                    Err(e) if is_cancel(&e) => return Err(e),
                    Err(e) => record(&format!("{product} on {h}"), false, e.message, None),
                }
            }
        }

        // Application monitors move online only from Serviceguard A.11.20 on, on both hosts
        // (B0: every service command sent to one guest must then be unique).
        let monitors: Vec<String> = conf
            .as_ref()
            .and_then(|c| c.doc.as_ref())
            .map(|d| {
                d.services()
                    .into_iter()
                    .filter(|s| s.cmd.contains("cmappmgr"))
                    .map(|s| s.name)
                    .collect()
            })
            .unwrap_or_default();
        if !monitors.is_empty() {
            let min = cmd::SG_RELEASE_APPMON_ONLINE;
            let remedy = |h: &str| {
                format!("upgrade Serviceguard on {h} to {min} or later (the guide's cmappmgr/cmappserver upgrade), or halt package {vm} and move it offline")
            };
            for h in &hosts {
                let name = format!("Serviceguard {min} or later on {h} (application monitors)");
                match self.installed(h, cmd::PRODUCT_SERVICEGUARD) {
                    Ok(Some(rev)) => match swlist::revision_older(&rev, min) {
                        Some(false) => record(&name, true, format!("{} {rev}", cmd::PRODUCT_SERVICEGUARD), None),
                        Some(true) => record(
                            &name,
                            false,
                            format!("{h} runs Serviceguard {rev} and {vm} has application monitor(s) {}: moving them online needs {min} (unique service commands per guest)", monitors.join(", ")),
                            Some(remedy(h)),
                        ),
                        None => record(
                            &name,
                            false,
                            format!("cannot compare the Serviceguard revision {rev:?} of {h} with {min}"),
                            Some(remedy(h)),
                        ),
                    },
                    Ok(None) => record(
                        &name,
                        false,
                        format!("{} is not listed by swlist on {h}: the Serviceguard release cannot be read", cmd::PRODUCT_SERVICEGUARD),
                        Some(remedy(h)),
                    ),
                    Err(e) if is_cancel(&e) => return Err(e),
                    Err(e) => record(&name, false, e.message, Some(remedy(h))),
                }
            }
        }

        // Integrity VM's own check.
        if let Some(src) = &source {
            let c = cmd::hpvmmigrate_check(src, &vm, &target)?;
            let out = self.ctx.run(&c)?;
            let text = format!("{}{}", out.stdout, out.stderr);
            let first = text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join(" / ");
            record(
                "hpvmmigrate -s",
                out.success(),
                if out.success() {
                    format!("{vm} can migrate online from {src} to {target}")
                } else {
                    format!("exit {}: {first}", out.code())
                },
                Some(format!("fix what hpvmmigrate reports (SSH trust between the VM hosts, vswitches and storage visible on {target}), then retry")),
            );
        }

        for c in &checks {
            self.ctx.ui.check(
                c["check"].as_str().unwrap_or_default(),
                c["ok"] == Value::Bool(true),
                c["detail"].as_str().unwrap_or_default(),
                c["remedy"].as_str(),
            );
        }
        let report = json!({"vm": vm, "source": source, "target": target, "checks": checks});
        if failed.is_empty() {
            self.ctx.ui.info(&format!(
                "preflight passed: {} checks",
                report["checks"].as_array().map_or(0, |a| a.len())
            ));
            Ok(report)
        } else {
            Err(check_failed(
                &match purpose {
                    Purpose::Move => {
                        format!("preflight of moving {vm} to {target} failed; nothing was changed")
                    }
                    Purpose::Convert => format!(
                        "preflight of converting {vm} online (cmdeployvpkg -C migrates it to {target}) failed; nothing was changed"
                    ),
                },
                &failed,
                &remedies,
            ))
        }
    }

    /// The whole B5 bracket (see the module documentation). Outcomes: moved and verified →
    /// the summary; moved although `cmmovevpkg` reported a failure → the summary and a
    /// warning; not moved, switching enabled again and verified → `Failed`; anything the
    /// manual does not cover → `NeedsAttention` saying what is left.
    pub fn migrate(&self, vm_name: &str, target_name: &str) -> Result<Value> {
        let vm = self.vm_name(vm_name)?;
        let target = self.resolve_host("target", target_name)?;
        let routine = recovery_routine(&vm);
        let resumed = self
            .ctx
            .recoveries
            .pending()
            .iter()
            .any(|e| e.inherited && e.routine.as_ref() == Some(&routine));
        if resumed {
            // The interrupted run this one resumes had sent cmmovevpkg: its recovery runs
            // first (where the guest runs, who owns the package, switching), then the move
            // goes on from the state found.
            let guard = self.register_recovery(&vm)?;
            self.ctx.ui.step(
                "B5",
                &format!("resuming: the interrupted run had sent cmmovevpkg for {vm}; recovery first (where it runs, who owns the package)"),
            );
            let r = self.settle(&vm, None, None, SETTLE_DEADLINE);
            guard.ran(&r);
            r?;
        }
        // A cmmovevpkg the interrupted run saw fail was a failed move (recovered by it, or
        // just now): moving again would be a retry nobody asked for — the interrupted run
        // would have ended there, exit 1. One that ended well is found moved below.
        let shown = cmd::cmmovevpkg(&target, &vm, &target)?.display();
        if let Some(prior) = self
            .ctx
            .recoveries
            .prior_change(&shown)
            .filter(|p| p.exit != 0)
        {
            let at = self.running_on(&vm)?;
            let at = if at.is_empty() {
                "no VM host".to_string()
            } else {
                at.join(", ")
            };
            return Err(Error::new(
                ErrorKind::Failed,
                format!(
                    "the interrupted run's cmmovevpkg failed on {} (exit {}) and its recovery ran: {vm} runs on {at}. Not retried",
                    prior.host, prior.exit
                ),
            )
            .with_remedy(format!(
                "find out why the move failed (B6: hpvm/diagnose -p package={vm}), then run hpvm/move-package again"
            )));
        }
        self.ctx.ui.step(
            "B5",
            &format!("preflight: move {vm} to {target} (nothing changes until all of it passes)"),
        );
        self.mark_logs(&[cmd::SYSLOG.to_string(), cmd::package_log(&vm)?])?;
        let (_, pkg) = self.resolve_package(&vm)?;
        if pkg.owner.as_deref() == Some(target.as_str()) && pkg.status() == Status::Up {
            let running = self.running_on(&vm)?;
            if running == [target.clone()] {
                self.ctx.ui.info(&format!(
                    "{vm} already runs on {target}, which owns the package; nothing to move"
                ));
                let rec = self.settle(&vm, None, Some(&target), SETTLE_DEADLINE)?;
                let mut s = self.summary(&vm)?;
                if let Value::Object(m) = &mut s {
                    m.insert("moved".into(), Value::Bool(false));
                    m.insert("already_there".into(), Value::Bool(true));
                    m.insert("recovery".into(), rec);
                }
                return Ok(s);
            }
        }
        let pre = self.preflight(&vm, &target)?;
        let source = pre["source"].as_str().unwrap_or_default().to_string();

        let move_cmd = cmd::cmmovevpkg(&source, &vm, &target)?.with_timeout(MOVE_COMMAND_TIMEOUT);
        // Both VM hosts are locked before the move, not only the one cmmovevpkg runs on.
        self.ctx.involve(&[source.clone(), target.clone()])?;
        // The operation's own interlock, whatever checks ran before it, read under the lock:
        // never onto a host holding the toolkit's maintenance file (the package would run
        // there unmonitored).
        self.refuse_maintenance_on(&target, &vm)?;
        self.ctx.ui.step(
            "B5",
            &format!("online migration: cmmovevpkg -v -P {vm} -h {target} on {source} (package switching is off until it ends)"),
        );
        let started = self.now();
        // Registered (and journaled) before cmmovevpkg leaves: a crash from here on leaves a
        // record of it for `hascript unwind`. The bracket settles it on every other way out.
        let guard = self.register_recovery(&vm)?;
        let moved = self.ctx.run(&move_cmd);
        self.exposure(&vm, started);
        // Whatever the command said — an exit status, a timeout, a lost session, Ctrl-C —
        // only hpvmstatus and cmviewcl tell where the guest is.
        let cause: Option<Error> = match moved {
            Ok(out) if out.success() => None,
            Ok(out) => {
                let text = format!("{}{}", out.stdout, out.stderr);
                let first = text
                    .lines()
                    .map(str::trim)
                    .rfind(|l| !l.is_empty())
                    .unwrap_or("")
                    .to_string();
                self.ctx.ui.warn(&format!(
                    "cmmovevpkg exited {}: {first}; finding out where {vm} really is",
                    out.code()
                ));
                Some(
                    Error::new(
                        ErrorKind::Command,
                        format!("cmmovevpkg exited {}: {first}", out.code()),
                    )
                    .on_host(&source)
                    .with_status(&out.status),
                )
            }
            Err(e) if is_cancel(&e) => {
                return Err(self.recover_after_cancel(&guard, &vm, &source, &target, started))
            }
            // Never sent (the journal could not record it): nothing to recover.
            Err(e) if e.kind == ErrorKind::NotRecorded => {
                guard.left(&e);
                return Err(e);
            }
            Err(e) => {
                self.ctx.ui.warn(&format!(
                    "cmmovevpkg did not report ({e}); finding out where {vm} really is"
                ));
                Some(e)
            }
        };

        self.ctx.ui.step(
            "B5",
            &format!("verify: where {vm} runs (hpvmstatus -P on every VM host), package owner and switching (cmviewcl)"),
        );
        let rec = match self.settle(&vm, Some(&source), Some(&target), SETTLE_DEADLINE) {
            Ok(r) => r,
            Err(e) if is_cancel(&e) => {
                return Err(self.recover_after_cancel(&guard, &vm, &source, &target, started))
            }
            Err(e) => {
                // The verification is the recovery (it enables switching only when safe).
                guard.ran::<()>(&Err(e.clone()));
                return Err(e);
            }
        };
        if cause.is_some() || rec["enabled_switching"] == Value::Bool(true) {
            guard.ran::<()>(&Ok(()));
        } else {
            guard.done();
        }
        // The window ended with cmmovevpkg unless switching had to be enabled again here.
        if rec["enabled_switching"] == Value::Bool(true) {
            self.exposure(&vm, started);
        }
        let landing = rec["landing"].as_str().unwrap_or_default().to_string();
        let host = rec["host"].as_str().unwrap_or_default().to_string();
        let unprotected = rec["unprotected_seconds"].clone();
        match (landing.as_str(), &cause) {
            ("target", None) => {
                if rec["enabled_switching"] == Value::Bool(true) {
                    self.ctx.ui.warn(&format!(
                        "cmmovevpkg succeeded but left package switching of {vm} disabled; it was enabled again"
                    ));
                }
            }
            ("target", Some(c)) => self.ctx.ui.warn(&format!(
                "cmmovevpkg reported a failure ({}), but {vm} runs on {target}, which owns the package; package switching is enabled (verified)",
                c.message
            )),
            _ => {
                let why = match &cause {
                    Some(c) => c.message.clone(),
                    None => "cmmovevpkg exited 0 but the guest is not on the target".into(),
                };
                return Err(Error::new(
                    ErrorKind::Failed,
                    format!(
                        "the migration of {vm} to {target} failed ({why}). Recovery ran: {vm} runs on {host}, which owns the package, and package switching is enabled again (verified)"
                    ),
                )
                .on_host(&source)
                .with_remedy(format!(
                    "find out why (the package log {} and syslog on {source}; `hpvmmigrate -s -o -P {vm} -h {target}`), then run hpvm/move-package again",
                    cmd::package_log(&vm)?
                )));
            }
        }
        let source_copy = rec["hosts"]
            .as_array()
            .and_then(|a| a.iter().find(|h| h["host"] == source.as_str()))
            .and_then(|h| h["presence"].as_str().map(str::to_string))
            .unwrap_or_default();
        if !matches!(source_copy.as_str(), "not_runnable" | "absent") {
            self.ctx.ui.warn(&format!(
                "{vm} on {source} reads {source_copy}, not `Off (NR)`: check `hpvmstatus -P {vm}` there before anyone starts it"
            ));
        }
        let mut s = self.summary(&vm)?;
        if let Value::Object(m) = &mut s {
            m.insert("moved".into(), Value::Bool(true));
            m.insert("source".into(), Value::String(source.clone()));
            m.insert("target".into(), Value::String(target.clone()));
            m.insert("preflight".into(), pre);
            m.insert("unprotected_seconds".into(), unprotected);
            m.insert("cmmovevpkg_failed".into(), Value::Bool(cause.is_some()));
        }
        self.ctx.ui.info(&format!(
            "{vm} runs on {target}; package owner {target}, switching enabled"
        ));
        Ok(s)
    }

    fn exposure(&self, vm: &str, since: u64) {
        let secs = self.now().saturating_sub(since);
        self.ctx
            .ui
            .exposure(&exposure_what(vm), Duration::from_secs(secs));
    }

    /// After Ctrl-C once `cmmovevpkg` was sent: the recovery still runs (with a fresh cancel
    /// token and a short deadline), and the error says what it found.
    fn recover_after_cancel(
        &self,
        guard: &RecoveryGuard,
        vm: &str,
        source: &str,
        target: &str,
        started: u64,
    ) -> Error {
        let ctx = Context::new(
            self.ctx.exec.clone(),
            self.ctx.clock.clone(),
            CancelToken::new(),
            self.ctx.ui.clone(),
        );
        let fresh = self.with_context(ctx);
        fresh.ctx.ui.warn(&format!(
            "interrupted while cmmovevpkg was running: finding out where {vm} is and enabling package switching where that is safe"
        ));
        let res = fresh.settle(vm, Some(source), Some(target), SETTLE_DEADLINE_CANCELLED);
        fresh.exposure(vm, started);
        // The bracket ran its recovery itself: never run a second time by the run.
        guard.ran(&res);
        match res {
            Ok(rec) => Error::cancelled().with_remedy(format!(
                "interrupted; recovery ran: {vm} runs on {}, which owns the package, and package switching is enabled (verified)",
                rec["host"].as_str().unwrap_or("?")
            )),
            Err(e) => {
                let mut c = Error::cancelled();
                c.message = format!("interrupted after cmmovevpkg was sent; recovery could not finish: {}", e.message);
                c.remedy = e.remedy.or(Some(format!("run hpvm/recover-move -p package={vm}")));
                c
            }
        }
    }

    /// Register the bracket's recovery routine (B5 recovery of `vm`) before `cmmovevpkg`.
    fn register_recovery(&self, vm: &str) -> Result<RecoveryGuard> {
        self.ctx.register_recovery(
            &format!("recover the move of {vm} (B5: where it runs, who owns it; switching enabled again only when consistent)"),
            recovery_routine(vm),
        )
    }

    /// State-aware recovery (standalone): read where the guest runs and who owns the
    /// package, enable switching only when exactly one host runs it and owns the package,
    /// verify; anything else is `NeedsAttention`. Safe to repeat.
    pub fn recover(&self, vm_name: &str) -> Result<Value> {
        let vm = self.vm_name(vm_name)?;
        validate_known(self, &vm)?;
        self.ctx.ui.step(
            "B5",
            &format!("recovery: where {vm} runs (hpvmstatus -P on every VM host) and who owns the package (cmviewcl)"),
        );
        self.settle(&vm, None, None, SETTLE_DEADLINE)
    }

    /// Observe, decide (waiting out transitions), and carry out a `Settle`; `Attention`
    /// becomes a `NeedsAttention` error. Returns `#{host, landing, enabled_switching,
    /// hosts, unprotected_seconds}`.
    pub(crate) fn settle(
        &self,
        vm: &str,
        source: Option<&str>,
        target: Option<&str>,
        deadline: Duration,
    ) -> Result<Value> {
        let started = self.now();
        let what = format!("{vm} and its package to settle");
        let end = self.poll(
            &what,
            deadline,
            POLL,
            || {
                let o = self.observe(vm, source, target).map_err(|e| {
                    if is_cancel(&e) {
                        e
                    } else {
                        Error::needs_attention(format!(
                            "{}; package switching of {vm} may still be disabled",
                            e.message
                        ))
                        .with_remedy(format!(
                            "check the cluster by hand (cmviewcl -v -p {vm}, hpvmstatus -P {vm} on every VM host), then run hpvm/recover-move -p package={vm}"
                        ))
                    }
                })?;
                let a = decide_recovery(&o);
                let moving = matches!(a, RecoveryAction::Wait { .. });
                Ok((!moving, (o, a)))
            },
            |(o, _)| describe_hosts(vm, &o.hosts),
        )?;
        let (obs, action) = match end {
            WaitEnd::Done(v) => v,
            WaitEnd::Deadline((o, a)) => {
                let reason = match &a {
                    RecoveryAction::Wait { reason } => reason.clone(),
                    _ => String::new(),
                };
                return Err(Error::needs_attention(format!(
                    "{reason} after {} s; package switching of {vm} may still be disabled ({})",
                    deadline.as_secs(),
                    describe_hosts(vm, &o.hosts)
                ))
                .with_remedy(format!(
                    "wait for the migration or the package to finish (hpvmstatus -P {vm}, cmviewcl -v -p {vm}), then run hpvm/recover-move -p package={vm}"
                )));
            }
        };
        self.ctx
            .ui
            .info(&format!("found: {}", describe_hosts(vm, &obs.hosts)));
        match action {
            RecoveryAction::Attention { left, remedy } => {
                Err(Error::needs_attention(format!("recovery stopped: {left}")).with_remedy(remedy))
            }
            RecoveryAction::Wait { reason } => Err(Error::needs_attention(reason)),
            RecoveryAction::EnableOnHost {
                host,
                enable_node_switching,
                found,
            } => {
                self.enable_on_host(vm, &host, enable_node_switching, &found)?;
                let after = self.observe(vm, source, target).map_err(|e| {
                    if is_cancel(&e) {
                        e
                    } else {
                        Error::needs_attention(format!(
                            "cannot verify package {vm} on {host}: {}",
                            e.message
                        ))
                    }
                })?;
                verify_settled(&after, &host)?;
                Ok(json!({
                    "vm": vm,
                    "host": host,
                    "landing": landing_word(if target == Some(host.as_str()) { Landing::Target } else if source == Some(host.as_str()) { Landing::Source } else { Landing::Elsewhere }),
                    "enabled_switching": true,
                    "started_package": true,
                    "hosts": after.hosts.iter().map(|(h, p)| {
                        let mut v = serde_json::to_value(p).unwrap_or(Value::Null);
                        if let Value::Object(m) = &mut v { m.insert("host".into(), Value::String(h.clone())); }
                        v
                    }).collect::<Vec<_>>(),
                    "unprotected_seconds": self.now().saturating_sub(started),
                }))
            }
            RecoveryAction::Settle {
                host,
                enable_switching,
                landing,
            } => {
                if enable_switching {
                    self.ctx.ui.step(
                        "B5",
                        &format!("{vm} runs on {host}, which owns the package: enable package switching (cmmodpkg -e {vm})"),
                    );
                    self.ctx
                        .run_ok(&cmd::cmmodpkg(&host, vm, true, None)?)
                        .map_err(|e| {
                            Error::needs_attention(format!(
                                "cmmodpkg -e {vm} failed on {host}: {}; package switching of {vm} is still disabled ({vm} runs on {host})",
                                e.message
                            ))
                            .on_host(&host)
                            .with_remedy(format!("run `cmmodpkg -e {vm}` on {host} by hand and check it with cmviewcl -v -p {vm}"))
                        })?;
                } else {
                    self.ctx.ui.info(&format!(
                        "{vm} runs on {host}, which owns the package, and package switching is enabled: nothing to do"
                    ));
                }
                // Verify: read back.
                let after = self.observe(vm, source, target).map_err(|e| {
                    if is_cancel(&e) {
                        e
                    } else {
                        Error::needs_attention(format!(
                            "cannot verify package switching of {vm}: {}",
                            e.message
                        ))
                    }
                })?;
                verify_settled(&after, &host)?;
                Ok(json!({
                    "vm": vm,
                    "host": host,
                    "landing": landing_word(landing),
                    "enabled_switching": enable_switching,
                    "hosts": after.hosts.iter().map(|(h, p)| {
                        let mut v = serde_json::to_value(p).unwrap_or(Value::Null);
                        if let Value::Object(m) = &mut v { m.insert("host".into(), Value::String(h.clone())); }
                        v
                    }).collect::<Vec<_>>(),
                    "unprotected_seconds": self.now().saturating_sub(started),
                }))
            }
        }
    }
}

impl Inner {
    /// The guide's remedy after `cmmovevpkg` on an old-toolkit package ("ERROR (cmmovevpkg):
    /// Unable to start package"): enable the package by hand on the node its guest now runs
    /// on — node switching there when it is off, then `package.run` on that node (`cmrunpkg
    /// -n HOST VM`, always followed by `cmmodpkg -e VM`). A change to a guest that runs, so
    /// it is asked (`--yes` answers); declined, nothing is sent and the commands are the
    /// remedy.
    fn enable_on_host(
        &self,
        vm: &str,
        host: &str,
        enable_node_switching: bool,
        found: &str,
    ) -> Result<()> {
        self.ctx.ui.info(&format!("found: {found}"));
        let node_cmd = format!("cmmodpkg -e -n {host} {vm}; ");
        let commands = format!(
            "{}cmrunpkg -n {host} {vm}; cmmodpkg -e {vm}",
            if enable_node_switching {
                node_cmd.as_str()
            } else {
                ""
            }
        );
        let q = format!("enable package {vm} on {host}, where its guest runs ({commands})?");
        if !self.ctx.ui.confirm(&q)? {
            return Err(Error::needs_attention(format!(
                "recovery stopped: {found}; package {vm} was not enabled on {host} (declined), so {vm} runs on {host} without failover"
            ))
            .with_remedy(format!(
                "enable it on {host} by hand ({commands}) or run hpvm/recover-move -p package={vm} --yes"
            )));
        }
        if enable_node_switching {
            self.ctx.ui.step(
                "B5",
                &format!("enable node switching of {vm} on {host} (cmmodpkg -e -n {host} {vm})"),
            );
            self.ctx
                .run_ok(&cmd::cmmodpkg(host, vm, true, Some(host))?)
                .map_err(|e| {
                    Error::needs_attention(format!(
                        "cmmodpkg -e -n {host} {vm} failed: {}; package {vm} is still halted ({vm} runs on {host})",
                        e.message
                    ))
                    .on_host(host)
                    .with_remedy(format!("run `{commands}` on {host} by hand"))
                })?;
        }
        self.ctx.ui.step(
            "B5",
            &format!("enable package {vm} on {host}, where its guest runs (cmrunpkg -n {host} {vm}, cmmodpkg -e {vm})"),
        );
        self.run_package(vm, Some(host))?;
        Ok(())
    }
}

/// The name of the B5 recovery routine in its description.
pub const RECOVER_MOVE: &str = "recover_move";

/// The description of the bracket's recovery routine for package `vm`, which the site's
/// `run_recovery` runs again (also from a fresh process).
pub fn recovery_routine(vm: &str) -> Value {
    json!({"driver": "hpvm", "routine": RECOVER_MOVE, "package": vm})
}

fn landing_word(l: Landing) -> &'static str {
    match l {
        Landing::Source => "source",
        Landing::Target => "target",
        Landing::Elsewhere => "elsewhere",
    }
}

/// The settled state read back: the one host runs the guest and owns the package, package
/// switching enabled.
fn verify_settled(o: &Observed, host: &str) -> Result<()> {
    let vm = &o.vm;
    let running: Vec<&str> = o
        .hosts
        .iter()
        .filter(|(_, p)| *p == Presence::On)
        .map(|(h, _)| h.as_str())
        .collect();
    let pkg = o.package.as_ref();
    let ok =
        running == [host] && pkg.is_some_and(|p| p.owner.as_deref() == Some(host) && p.autorun);
    if ok {
        Ok(())
    } else {
        Err(Error::needs_attention(format!(
            "after recovery {vm} does not read as settled on {host}: {}; package {}",
            describe_hosts(vm, &o.hosts),
            pkg.map(|p| format!(
                "{} owner {} switching {}",
                p.words,
                p.owner.as_deref().unwrap_or("none"),
                if p.autorun { "enabled" } else { "disabled" }
            ))
            .unwrap_or_else(|| "not listed".into())
        ))
        .with_remedy(format!(
            "check cmviewcl -v -p {vm} and hpvmstatus -P {vm} on every VM host; enable switching by hand (cmmodpkg -e {vm}) once one host runs the guest and owns the package"
        )))
    }
}

/// A VM that neither the inventory, `cmviewcl` nor any VM host knows is a usage error.
fn validate_known(inner: &Inner, vm: &str) -> Result<()> {
    if inner.topo.guest(vm).is_some() {
        return Ok(());
    }
    let view = inner.view()?;
    if view.package(vm).is_some() {
        return Ok(());
    }
    Err(Error::usage(format!(
        "unknown VM {vm:?}: neither the inventory nor cmviewcl knows it"
    )))
}
