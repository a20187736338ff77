//! B5: online migration of a VM package with `cmmovevpkg`, as operations. The sequence
//! and its decisions are the script's (`scripts/hpvm/move-package.rhai`, the shared steps in
//! `scripts/lib/hpvm/move.rhai`); here are the preflight's checks, one verdict (or a list)
//! each, the move itself ([`Inner::move_online`]: its interlocks and the registration of
//! its recovery routine), where the guest and the package are ([`Inner::observe_value`]),
//! the interlocked `cmmodpkg -e` ([`Inner::enable_switching_checked`]) and the read-back
//! that ends the bracket ([`Inner::verify_moved`]).

use std::time::Duration;

use hascript_api::objects::RecoveryOutcome;
use hascript_api::{Error, ErrorKind, Result};
use serde_json::{json, Value};

use super::observed::{Observed, PackageRun, Presence};
use super::{node_up, PackageKind};
use crate::commands as cmd;
use crate::facts::{is_cancel, parse_err, Inner};
use crate::parse::cmviewcl_line::Status;
use crate::parse::df_n::{self, DfEntry};
use crate::parse::hpvmstatus::{GuestState, StorageKind};
use crate::parse::swlist;
use crate::parse::vgdisplay;
use crate::procedure::locate::describe_hosts;
use hascript_api::WaitEnd;

/// How long `cmmovevpkg` may run before the transport gives up on it (a large guest over a
/// slow link takes long; where the guest is is read afterwards anyway).
pub const MOVE_COMMAND_TIMEOUT: Duration = Duration::from_secs(4 * 3600);
/// How long the recovery waits for a package or guest in transition to settle.
pub const SETTLE_DEADLINE: Duration = Duration::from_secs(900);
/// Poll interval of the waits.
pub const POLL: Duration = Duration::from_secs(10);
/// The procedure the move registers as its recovery routine.
pub const RECOVER_PROCEDURE: &str = "hpvm/recover-move";
/// The name of the B5 recovery routine in the description journals written before the
/// procedures became scripts used (`{driver: "hpvm", routine: "recover_move", package}`).
pub const RECOVER_MOVE: &str = "recover_move";

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

/// One check's verdict, as every check operation returns it.
fn verdict(check: &str, ok: bool, detail: impl Into<String>, remedy: Option<String>) -> Value {
    json!({"check": check, "ok": ok, "detail": detail.into(), "remedy": remedy})
}

/// The description of the move's recovery routine for package `vm`: the procedure
/// `hpvm/recover-move`, which the run executes after a failure or an interruption (and
/// `hascript unwind` after a crash).
pub fn recovery_routine(vm: &str) -> Value {
    hascript_api::objects::procedure_routine(RECOVER_PROCEDURE, &[("package", vm)])
}

/// The package a move's recovery routine is for, in either form (today's procedure form,
/// or `{driver: "hpvm", routine: "recover_move", package}` of older journals).
pub fn move_routine_package(routine: &Value) -> Option<&str> {
    if routine.get("procedure").and_then(Value::as_str) == Some(RECOVER_PROCEDURE) {
        return routine.get("params")?.get("package")?.as_str();
    }
    match (
        routine.get("driver").and_then(Value::as_str),
        routine.get("routine").and_then(Value::as_str),
    ) {
        (Some("hpvm"), Some(RECOVER_MOVE)) => routine.get("package")?.as_str(),
        _ => None,
    }
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

    /// Check (B5): the package runs on a VM host of the inventory that is not `target`.
    /// Returns the verdict with `source`: that host, `()` when the move cannot start.
    pub(crate) fn check_owner(&self, vm: &str, target: &str) -> Result<Value> {
        let (_, pkg) = self.resolve_package(vm)?;
        let name = "package owner";
        let owner = pkg.owner.clone().filter(|o| !o.is_empty());
        let (v, source) = match &owner {
            Some(o) if self.topo.vm_host(o).is_none() => (
                verdict(
                    name,
                    false,
                    format!("{vm} runs on {o}, which is not a VM host of the inventory"),
                    Some("add every cluster member to the inventory as a vm-host".into()),
                ),
                None,
            ),
            Some(o) if o == target => (
                verdict(
                    name,
                    false,
                    format!("{vm} already runs on {target}"),
                    Some(format!("choose another target than {target}")),
                ),
                None,
            ),
            Some(o) => (
                verdict(
                    name,
                    pkg.status() == Status::Up,
                    format!("package {vm} is {}/{} on {o}", pkg.status, pkg.state),
                    Some(format!("bring package {vm} up before migrating it")),
                ),
                Some(o.clone()),
            ),
            None => (
                verdict(
                    name,
                    false,
                    format!(
                        "package {vm} is {}/{} and runs nowhere",
                        pkg.status, pkg.state
                    ),
                    Some(format!(
                        "start the package first (cmrunpkg {vm}; hascript package.run)"
                    )),
                ),
                None,
            ),
        };
        let mut v = v;
        v["source"] = source.map(Value::String).unwrap_or(Value::Null);
        Ok(v)
    }

    /// Check (B5): the package is one of the SG IVS toolkit (`cmmovevpkg` on an old package
    /// leaves it to be re-enabled by hand); for an online conversion, one of the old
    /// toolkit.
    pub(crate) fn check_toolkit(&self, vm: &str, purpose: Purpose) -> Result<Value> {
        let name = "toolkit package";
        let (view, pkg) = self.resolve_package(vm)?;
        let c = match self.read_conf(&view, &pkg) {
            Ok(c) => c,
            Err(e) if is_cancel(&e) => return Err(e),
            Err(e) => return Ok(verdict(name, false, e.message, None)),
        };
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
        Ok(verdict(name, ok, detail, remedy))
    }

    /// Check (B5): `target` is in the package's `node_name` list with node switching
    /// enabled, and up in the cluster.
    pub(crate) fn check_target_member(&self, vm: &str, target: &str) -> Result<Value> {
        let (view, pkg) = self.resolve_package(vm)?;
        let (ok, detail) = match pkg.node(target) {
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
            Some(n) if n.status() != Status::Up || !node_up(&view, target) => (
                false,
                format!(
                    "{target} is not up (package node status {}, cluster node {})",
                    n.status,
                    view.node(target)
                        .map(|v| format!("{}/{}", v.status, v.state))
                        .unwrap_or_else(|| "not listed".into())
                ),
            ),
            Some(_) => (
                true,
                format!("{target} is a member of {vm}, up, node switching enabled"),
            ),
        };
        Ok(verdict(
            "target in the package's node list",
            ok,
            detail,
            Some(if pkg.node(target).is_none() {
                format!("add `node_name {target}` to the package file and apply it (hpvm/deploy-package), or choose a member as the target")
            } else {
                format!("enable node switching (cmmodpkg -e -n {target} {vm}) and make sure {target} is running in the cluster")
            }),
        ))
    }

    /// Check (B5): the guest runs its OS on `source`, and every backing store allows an
    /// online migration (whole disks and shared LVM logical volumes only). One verdict for
    /// the guest, one per backing store.
    pub(crate) fn check_guest_storage(&self, vm: &str, src: &str) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        let running = "guest running on the owner";
        match self.details(src, vm) {
            Ok(Some(d)) => {
                let st = d.vm.state();
                out.push(verdict(
                    running,
                    st == GuestState::OnOs,
                    format!("hpvmstatus -P {vm} on {src}: {}", d.vm.state),
                    Some(format!(
                        "the guest must be running its OS (On (OS)) on {src}"
                    )),
                ));
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
                    out.push(verdict(
                        &format!("backing store {}", s.guest_device),
                        ok,
                        detail,
                        remedy,
                    ));
                }
            }
            Ok(None) => out.push(verdict(
                running,
                false,
                format!("{src} does not know guest {vm} (hpvmstatus -P)"),
                Some("check that the package name is the VM name".into()),
            )),
            Err(e) if is_cancel(&e) => return Err(e),
            Err(e) => out.push(verdict(running, false, e.message, None)),
        }
        Ok(out)
    }

    /// Check (B5): not in toolkit maintenance, on every member. On the owner it means the
    /// guest is not monitored now; on the target, that it would not be after the move (a
    /// file left on a former owner after a failover). One verdict each for the owner and
    /// the target; elsewhere a warning (it waits for the next failover).
    pub(crate) fn check_maintenance(
        &self,
        vm: &str,
        source: Option<&str>,
        target: &str,
    ) -> Result<Vec<Value>> {
        let (view, pkg) = self.resolve_package(vm)?;
        let c = match self.read_conf(&view, &pkg) {
            Ok(c) => c,
            Err(e) if is_cancel(&e) => return Err(e),
            Err(e) => {
                return Ok(vec![verdict(
                    "not in toolkit maintenance",
                    false,
                    format!("the package file cannot be read: {}", e.message),
                    None,
                )])
            }
        };
        let mut out = Vec::new();
        let file = c.maintenance_file(vm);
        let remedy = format!("leave maintenance mode on every member first (hpvm/maintenance -p package={vm} -p state=off)");
        for (m, on) in self.maintenance_members(&pkg, &c)? {
            let role = if Some(m.as_str()) == source {
                "the owner"
            } else if m == target {
                "the target"
            } else {
                match on {
                    Ok(true) => self.ctx.ui.warn(&format!(
                        "{file} exists on {m}: package {vm} would run unmonitored there after a failover; {remedy}"
                    )),
                    Ok(false) => {}
                    Err(why) => self
                        .ctx
                        .ui
                        .warn(&format!("cannot tell whether {file} exists on {m}: {why}")),
                }
                continue;
            };
            let name = format!("not in toolkit maintenance on {m}");
            out.push(match on {
                Ok(on) => verdict(
                    &name,
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
                Err(why) => verdict(
                    &name,
                    false,
                    format!("cannot tell whether {file} exists on {m} ({role}): {why}"),
                    None,
                ),
            });
        }
        Ok(out)
    }

    /// Check (B5): `product` (T8718AC for online VM migration, the SG IVS toolkit) is
    /// installed on `host` (`swlist -l product`).
    pub(crate) fn check_product(&self, host: &str, product: &str) -> Result<Value> {
        let name = format!("{product} on {host}");
        Ok(match self.installed(host, product) {
            Ok(Some(rev)) => verdict(&name, true, format!("installed ({rev})"), None),
            Ok(None) => verdict(
                &name,
                false,
                "not installed",
                Some(if product == cmd::PRODUCT_OVMM {
                    format!("install {product} (online VM migration) on {host}")
                } else {
                    format!("install the toolkit on {host}: swinstall -s <depot> {product}")
                }),
            ),
            Err(e) if is_cancel(&e) => return Err(e),
            Err(e) => verdict(&name, false, e.message, None),
        })
    }

    /// Check (B0): application monitors move online only from Serviceguard A.11.20 on, on
    /// both hosts (every service command sent to one guest must then be unique). No
    /// verdict when the package has no monitor.
    pub(crate) fn check_appmon_release(&self, vm: &str, hosts: &[String]) -> Result<Vec<Value>> {
        let (view, pkg) = self.resolve_package(vm)?;
        let monitors: Vec<String> = match self.read_conf(&view, &pkg) {
            Ok(c) => c
                .doc
                .as_ref()
                .map(|d| {
                    d.services()
                        .into_iter()
                        .filter(|s| s.cmd.contains("cmappmgr"))
                        .map(|s| s.name)
                        .collect()
                })
                .unwrap_or_default(),
            Err(e) if is_cancel(&e) => return Err(e),
            // The toolkit check says why the file cannot be read.
            Err(_) => Vec::new(),
        };
        let mut out = Vec::new();
        if monitors.is_empty() {
            return Ok(out);
        }
        let min = cmd::SG_RELEASE_APPMON_ONLINE;
        let remedy = |h: &str| {
            format!("upgrade Serviceguard on {h} to {min} or later (the guide's cmappmgr/cmappserver upgrade), or halt package {vm} and move it offline")
        };
        for h in hosts {
            let name = format!("Serviceguard {min} or later on {h} (application monitors)");
            out.push(match self.installed(h, cmd::PRODUCT_SERVICEGUARD) {
                Ok(Some(rev)) => match swlist::revision_older(&rev, min) {
                    Some(false) => verdict(&name, true, format!("{} {rev}", cmd::PRODUCT_SERVICEGUARD), None),
                    Some(true) => verdict(
                        &name,
                        false,
                        format!("{h} runs Serviceguard {rev} and {vm} has application monitor(s) {}: moving them online needs {min} (unique service commands per guest)", monitors.join(", ")),
                        Some(remedy(h)),
                    ),
                    None => verdict(
                        &name,
                        false,
                        format!("cannot compare the Serviceguard revision {rev:?} of {h} with {min}"),
                        Some(remedy(h)),
                    ),
                },
                Ok(None) => verdict(
                    &name,
                    false,
                    format!("{} is not listed by swlist on {h}: the Serviceguard release cannot be read", cmd::PRODUCT_SERVICEGUARD),
                    Some(remedy(h)),
                ),
                Err(e) if is_cancel(&e) => return Err(e),
                Err(e) => verdict(&name, false, e.message, Some(remedy(h))),
            });
        }
        Ok(out)
    }

    /// Check (B5): Integrity VM's own check, `hpvmmigrate -s -o -P VM -h TARGET` on
    /// `source`.
    pub(crate) fn check_migrate_dry_run(&self, vm: &str, src: &str, target: &str) -> Result<Value> {
        let c = cmd::hpvmmigrate_check(src, vm, target)?;
        let out = self.ctx.run(&c)?;
        let text = format!("{}{}", out.stdout, out.stderr);
        let first = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" / ");
        Ok(verdict(
            "hpvmmigrate -s",
            out.success(),
            if out.success() {
                format!("{vm} can migrate online from {src} to {target}")
            } else {
                format!("exit {}: {first}", out.code())
            },
            Some(format!("fix what hpvmmigrate reports (SSH trust between the VM hosts, vswitches and storage visible on {target}), then retry")),
        ))
    }

    /// What the run this one resumes left of a move of `vm` to `target`: whether its
    /// recovery routine is still pending (`cmmovevpkg` had been sent) and the `cmmovevpkg`
    /// it saw fail, if any (`#{recovery_pending, failed_on, exit}`). Sends nothing.
    pub(crate) fn interrupted_move(&self, vm_name: &str, target_name: &str) -> Result<Value> {
        let vm = self.vm_name(vm_name)?;
        let target = self.resolve_host("target", target_name)?;
        let pending =
            self.ctx.recoveries.pending().iter().any(|e| {
                e.inherited && e.routine.as_ref().and_then(move_routine_package) == Some(&vm)
            });
        let failed = self.prior_failed_move(&vm, &target)?;
        Ok(json!({
            "recovery_pending": pending,
            "failed_on": failed.as_ref().map(|p| p.host.clone()),
            "exit": failed.as_ref().map(|p| p.exit),
        }))
    }

    /// The `cmmovevpkg` of `vm` to `target` that the run this one resumes saw fail.
    fn prior_failed_move(
        &self,
        vm: &str,
        target: &str,
    ) -> Result<Option<hascript_api::objects::PriorChange>> {
        let shown = cmd::cmmovevpkg(target, vm, target)?.display();
        Ok(self
            .ctx
            .recoveries
            .prior_change(&shown)
            .filter(|p| p.exit != 0))
    }

    /// §6: `cmmovevpkg -v -P VM -h TARGET` on the VM host that runs the package. Its
    /// interlocks, whatever the script checked before: the package runs on a VM host of
    /// the inventory; both VM hosts are locked; never onto a host holding the toolkit's
    /// maintenance file (read under the lock); a `cmmovevpkg` the resumed run saw fail is
    /// not sent again. Registers the recovery routine (`hpvm/recover-move`) before it
    /// sends; it stays pending until [`Inner::verify_moved`] reads the end state back.
    /// A failed command is not an error: `#{vm, source, target, sent, ok, exit, message}`
    /// says how it ended, and where the guest really is is read next.
    pub(crate) fn move_online(&self, vm_name: &str, target_name: &str) -> Result<Value> {
        let vm = self.vm_name(vm_name)?;
        let target = self.resolve_host("target", target_name)?;
        if let Some(prior) = self.prior_failed_move(&vm, &target)? {
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
        let (_, pkg) = self.resolve_package(&vm)?;
        let source = match pkg.owner.clone().filter(|o| !o.is_empty()) {
            Some(o) if self.topo.vm_host(&o).is_some() && pkg.status() == Status::Up => o,
            _ => {
                return Err(Error::check(format!(
                    "package {vm} is {}/{} and does not run on a VM host of the inventory (owner {}): cmmovevpkg is not sent",
                    pkg.status,
                    pkg.state,
                    pkg.owner.as_deref().unwrap_or("none")
                ))
                .with_remedy(format!("start the package first (hpvm/run-package -p package={vm})")))
            }
        };
        if source == target {
            self.ctx.ui.info(&format!(
                "package {vm} already runs on {target}: cmmovevpkg is not sent"
            ));
            return Ok(
                json!({"vm": vm, "source": source, "target": target, "sent": false,
                "ok": true, "exit": 0, "message": format!("{vm} already runs on {target}")}),
            );
        }
        let move_cmd = cmd::cmmovevpkg(&source, &vm, &target)?.with_timeout(MOVE_COMMAND_TIMEOUT);
        // Both VM hosts are locked before the move, not only the one cmmovevpkg runs on.
        self.ctx.involve(&[source.clone(), target.clone()])?;
        self.refuse_maintenance_on(&target, &vm)?;
        let started = self.now();
        // Registered (and journaled) before cmmovevpkg leaves: a crash from here on leaves a
        // record of it for `hascript unwind`; any error or interruption runs it.
        let guard = self.ctx.register_recovery(
            &format!("recover the move of {vm} (B5: where it runs, who owns it; switching enabled again only when consistent)"),
            recovery_routine(&vm),
        )?;
        let moved = self.ctx.run(&move_cmd);
        self.exposure(&vm, started);
        // Whatever the command said — an exit status, a timeout, a lost session — only
        // hpvmstatus and cmviewcl tell where the guest is.
        let (ok, exit, message) = match moved {
            Ok(out) if out.success() => (true, 0, String::new()),
            Ok(out) => {
                let text = format!("{}{}", out.stdout, out.stderr);
                let last = text
                    .lines()
                    .map(str::trim)
                    .rfind(|l| !l.is_empty())
                    .unwrap_or("")
                    .to_string();
                let msg = format!("cmmovevpkg exited {}: {last}", out.code());
                self.ctx
                    .ui
                    .warn(&format!("{msg}; finding out where {vm} really is"));
                (false, out.code(), msg)
            }
            // Interrupted: the routine stays pending and the run executes it.
            Err(e) if is_cancel(&e) => return Err(e),
            // Never sent (the journal could not record it): nothing to recover.
            Err(e) if e.kind == ErrorKind::NotRecorded => {
                guard.left(&e);
                return Err(e);
            }
            Err(e) => {
                self.ctx.ui.warn(&format!(
                    "cmmovevpkg did not report ({e}); finding out where {vm} really is"
                ));
                (
                    false,
                    -1,
                    format!("cmmovevpkg did not report: {}", e.message),
                )
            }
        };
        Ok(
            json!({"vm": vm, "source": source, "target": target, "sent": true, "ok": ok,
            "exit": exit, "message": message, "started": started}),
        )
    }

    fn exposure(&self, vm: &str, since: u64) {
        let secs = self.now().saturating_sub(since);
        self.ctx
            .ui
            .exposure(&exposure_what(vm), Duration::from_secs(secs));
    }

    /// Where `vm` runs (`hpvmstatus -P` on every VM host) and what `cmviewcl -v -f line`
    /// says of its package, as a map for the script's decision: `#{vm, source, target,
    /// hosts: [#{host, presence, detail}], running_on, pkg, moving, settled, found}`.
    /// `settle`: wait (polling on the run's clock) until nothing is in transition, up to
    /// that long; `settled: false` when something still is. A read that fails is "needs
    /// attention" (switching may still be off).
    pub(crate) fn observe_value(
        &self,
        vm_name: &str,
        source: Option<&str>,
        target: Option<&str>,
        settle: Option<Duration>,
    ) -> Result<Value> {
        let vm = self.vm_name(vm_name)?;
        let probe = || {
            let o = self.observe(&vm, source, target).map_err(|e| {
                if is_cancel(&e) || e.kind == ErrorKind::Usage {
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
            let moving = moving(&o);
            Ok((moving.is_empty(), (o, moving)))
        };
        let (o, moving) = match settle {
            None => probe()?.1,
            Some(deadline) => {
                let what = format!("{vm} and its package to settle");
                match self.ctx.poll(&what, deadline, POLL, probe, |(o, _)| {
                    describe_hosts(&vm, &o.hosts)
                })? {
                    WaitEnd::Done(v) | WaitEnd::Deadline(v) => v,
                }
            }
        };
        Ok(observed_value(&o, &moving))
    }

    /// The interlock of every `cmmodpkg -e VM` of a VM package: sent only when exactly one
    /// VM host runs the guest and that host owns the package (up); anything else, or a host
    /// that cannot be read, is refused ("needs attention": a person decides). Switching
    /// already enabled sends nothing. Read back. Returns `#{vm, host, sent}`.
    pub(crate) fn enable_switching_checked(&self, vm: &str) -> Result<Value> {
        let o = self.observe(vm, None, None)?;
        let running: Vec<&str> = o
            .hosts
            .iter()
            .filter(|(_, p)| *p == Presence::On)
            .map(|(h, _)| h.as_str())
            .collect();
        let unsure = o
            .hosts
            .iter()
            .any(|(_, p)| matches!(p, Presence::Unreadable(_) | Presence::Transitional(_)));
        let pkg = o.package.as_ref();
        let why = match (running.as_slice(), pkg) {
            _ if unsure => Err(format!("cannot tell where {vm} runs")),
            ([], _) => Err(format!("{vm} runs on no VM host")),
            ([_, _, ..], _) => Err(format!(
                "{vm} runs on several VM hosts at once ({})",
                running.join(", ")
            )),
            (_, None) => Err(format!("cmviewcl does not list package {vm}")),
            ([h], Some(p)) if p.run != PackageRun::Up => Err(format!(
                "{vm} runs on {h} outside Serviceguard's control (package {})",
                p.words
            )),
            ([h], Some(p)) if p.owner.as_deref() != Some(*h) => Err(format!(
                "{vm} runs on {h}, but Serviceguard says the package runs on {}",
                p.owner.as_deref().unwrap_or("no node")
            )),
            ([h], Some(_)) => Ok(h.to_string()),
        };
        let host = match why {
            Ok(h) => h,
            Err(why) => {
                return Err(Error::needs_attention(format!(
                    "package switching of {vm} is not enabled: {why} ({}; package {}); it is enabled only when exactly one VM host runs the guest and that host owns the package",
                    describe_hosts(vm, &o.hosts),
                    package_words(&o)
                ))
                .with_remedy(format!(
                    "bring the guest and the package together first (hpvm/recover-move -p package={vm} says how), or start a halted package with hpvm/run-package -p package={vm}"
                )))
            }
        };
        let sent = if pkg.is_some_and(|p| p.autorun) {
            false
        } else {
            self.ctx
                .run_ok(&cmd::cmmodpkg(&host, vm, true, None)?)
                .map_err(|e| {
                    if is_cancel(&e) {
                        return e;
                    }
                    Error::needs_attention(format!(
                        "cmmodpkg -e {vm} failed on {host}: {}; package switching of {vm} is still disabled ({vm} runs on {host})",
                        e.message
                    ))
                    .on_host(&host)
                    .with_remedy(format!("run `cmmodpkg -e {vm}` on {host} by hand and check it with cmviewcl -v -p {vm}"))
                })?;
            true
        };
        let after = self.observe(vm, None, None)?;
        verify_settled(&after, &host)?;
        Ok(json!({"vm": vm, "host": host, "sent": sent}))
    }

    /// Whether `vm` is a VM package: its guest is in the inventory or registered on a VM
    /// host (then its switching follows the rule of [`Inner::enable_switching_checked`]).
    pub(crate) fn is_vm_package(&self, vm: &str) -> Result<bool> {
        if self.topo.guest(vm).is_some() {
            return Ok(true);
        }
        Ok(self
            .guest_on_hosts(vm)?
            .iter()
            .any(|g| !matches!(g.presence, Presence::Absent | Presence::Unreadable(_))))
    }

    /// The end of the B5 bracket: `vm` runs on `host` only, which owns the package with
    /// package switching enabled, read back (`hpvmstatus -P` on every VM host,
    /// `cmviewcl`). Then the move's recovery routines of `vm` are settled as not needed;
    /// otherwise "needs attention" saying what was found. Returns the observation.
    pub(crate) fn verify_moved(&self, vm_name: &str, host_name: &str) -> Result<Value> {
        let vm = self.vm_name(vm_name)?;
        let host = self.resolve_host("host", host_name)?;
        let o = self.observe(&vm, None, None).map_err(|e| {
            if is_cancel(&e) {
                e
            } else {
                Error::needs_attention(format!(
                    "cannot verify package {vm} on {host}: {}",
                    e.message
                ))
            }
        })?;
        verify_settled(&o, &host)?;
        for e in self.ctx.recoveries.pending() {
            if e.routine.as_ref().and_then(move_routine_package) == Some(vm.as_str()) {
                self.ctx.recoveries.settle(
                    e.id,
                    RecoveryOutcome::NotNeeded,
                    "driver",
                    Some("B5 end state verified: one VM host runs the guest and owns the package, switching enabled"),
                );
            }
        }
        Ok(observed_value(&o, &[]))
    }
}

/// What is still in transition: a guest state in between on a host, a package starting,
/// halting or failing.
fn moving(o: &Observed) -> Vec<String> {
    let vm = &o.vm;
    o.hosts
        .iter()
        .filter_map(|(h, p)| match p {
            Presence::Transitional(w) => Some(format!("{vm} is {w} on {h}")),
            _ => None,
        })
        .chain(
            o.package
                .iter()
                .filter(|p| p.run == PackageRun::Moving)
                .map(|p| format!("package {vm} is {}", p.words)),
        )
        .collect()
}

/// The package in words, for messages.
fn package_words(o: &Observed) -> String {
    o.package
        .as_ref()
        .map(|p| {
            format!(
                "{} owner {} switching {}",
                p.words,
                p.owner.as_deref().unwrap_or("none"),
                if p.autorun { "enabled" } else { "disabled" }
            )
        })
        .unwrap_or_else(|| "not listed".into())
}

/// An observation as the script reads it (every key always present).
fn observed_value(o: &Observed, moving: &[String]) -> Value {
    let hosts: Vec<Value> = o
        .hosts
        .iter()
        .map(|(h, p)| {
            let (word, detail) = match p {
                Presence::On => ("on", None),
                Presence::Off => ("off", None),
                Presence::NotRunnable => ("not_runnable", None),
                Presence::Absent => ("absent", None),
                Presence::Transitional(w) => ("transitional", Some(w.clone())),
                Presence::Unreadable(w) => ("unreadable", Some(w.clone())),
            };
            json!({"host": h, "presence": word, "detail": detail})
        })
        .collect();
    let running: Vec<&str> = o
        .hosts
        .iter()
        .filter(|(_, p)| *p == Presence::On)
        .map(|(h, _)| h.as_str())
        .collect();
    let package = o.package.as_ref().map(|p| {
        json!({
            "run": match p.run {
                PackageRun::Up => "up",
                PackageRun::Down => "down",
                PackageRun::Moving => "moving",
                PackageRun::Other => "other",
            },
            "words": p.words,
            "owner": p.owner,
            "autorun": p.autorun,
            "old_toolkit": p.old_toolkit,
            "switching_on": p.switching_on,
        })
    });
    json!({
        "vm": o.vm,
        "source": o.source,
        "target": o.target,
        "hosts": hosts,
        "running_on": running,
        "pkg": package,
        "moving": moving,
        "settled": moving.is_empty(),
        "found": describe_hosts(&o.vm, &o.hosts),
    })
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
        return Ok(());
    }
    Err(Error::needs_attention(format!(
        "{vm} does not read as settled on {host}: {}; package {}",
        describe_hosts(vm, &o.hosts),
        package_words(o)
    ))
    .with_remedy(format!(
        "check cmviewcl -v -p {vm} and hpvmstatus -P {vm} on every VM host; enable switching by hand (cmmodpkg -e {vm}) once one host runs the guest and owns the package"
    )))
}
