//! The Serviceguard driver's operation table: every vendor action a procedure script may
//! call beyond the object model's methods, one manual action each, with its guard rails
//! (see [`hascript_api::operations`]). The engine makes each entry a method of its object;
//! [`crate::site::HpvmSite`] dispatches calls here. What is an interlock (kept whatever a
//! script says) and what is a script's check (a site may drop it) is listed in
//! ARCHITECTURE.md.

use hascript_api::operations::{
    arg_opts, arg_str, arg_strings, map, opt_secs, opt_str, s, strings, Object, OpKind, Operation,
    OperationSpec,
};
use hascript_api::{Error, Result};
use serde_json::Value;

use crate::facts::Inner;
use crate::procedure::migrate::{Purpose, SETTLE_DEADLINE};

/// The specs of every operation (what the engine registers, with no site at hand).
pub fn specs() -> Vec<OperationSpec> {
    TABLE.iter().map(|o| o.spec).collect()
}

/// Call `object.name(args…)` on `inner`.
pub(crate) fn call(inner: &Inner, object: Object, name: &str, args: &[Value]) -> Result<Value> {
    hascript_api::operations::dispatch(TABLE, inner, object, name, args)
}

const fn op(
    object: Object,
    name: &'static str,
    params: &'static [hascript_api::operations::Param],
    ret: &'static str,
    kind: OpKind,
    doc: &'static str,
    call: fn(&Inner, &[Value]) -> Result<Value>,
) -> Operation<Inner> {
    Operation {
        spec: OperationSpec {
            object,
            name,
            params,
            ret,
            doc,
            kind,
        },
        call,
    }
}

fn array(v: Vec<Value>) -> Result<Value> {
    Ok(Value::Array(v))
}

use Object::{Hypervisor, Package};
use OpKind::{Change, Check, Read};

/// The table.
pub(crate) static TABLE: &[Operation<Inner>] = &[
    // ----- reads
    op(Package, "observe", &[s("package")], "Map", Read,
        "Where the guest of VM package `package` runs (`hpvmstatus -P` on every VM host) and what\n`cmviewcl -v -f line` says of the package (B5's recovery reads this): `#{vm, hosts:\n[#{host, presence, detail}], running_on, pkg: #{run, words, owner, autorun,\nold_toolkit, switching_on} or (), moving, settled, found}`. `presence` is on, off,\nnot_runnable, absent, transitional or unreadable; `run` up, down, moving or other.",
        |i, a| i.observe_value(arg_str(a, 0)?, None, None, None)),
    op(Package, "observe", &[s("package"), map("opts")], "Map", Read,
        "`observe(package)` with `opts`: `#{source, target}` (where a move started and was going),\n`settle: true` waits until nothing is in transition, up to `deadline` seconds (900);\n`settled: false` when something still is.",
        |i, a| {
            let o = arg_opts(a, 1, &["source", "target", "settle", "deadline"], "package.observe")?;
            let settle = match o.get("settle") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(v) => return Err(Error::usage(format!("package.observe: option `settle` must be true or false, not {v}"))),
            };
            let deadline = opt_secs(o, "deadline", "package.observe")?.unwrap_or(SETTLE_DEADLINE);
            let source = opt_str(o, "source", "package.observe")?;
            let target = opt_str(o, "target", "package.observe")?;
            i.observe_value(arg_str(a, 0)?, source, target, settle.then_some(deadline))
        }),
    op(Package, "interrupted_move", &[s("package"), s("target")], "Map", Read,
        "What the run this one resumes left of moving `package` to `target`: `#{recovery_pending,\nfailed_on, exit}` — its recovery routine still pending (cmmovevpkg had been sent), and\nthe host and exit status of a cmmovevpkg it saw fail (() otherwise). Sends nothing.",
        |i, a| i.interrupted_move(arg_str(a, 0)?, arg_str(a, 1)?)),
    op(Package, "verify_moved", &[s("package"), s("host")], "Map", Read,
        "The end of B5, read back: the guest of `package` runs on `host` only, which owns the\npackage with package switching enabled. Then the move's recovery routine is settled (not\nneeded); otherwise a `needs_attention` error saying what was found. Returns the\nobservation (as `observe`).",
        |i, a| i.verify_moved(arg_str(a, 0)?, arg_str(a, 1)?)),
    // ----- checks (the preflight's list is the script's)
    op(Package, "check_owner", &[s("package"), s("target")], "Map", Check,
        "Check (B5): `package` runs (up) on a VM host of the inventory other than `target`. The\nverdict carries `source`: that host, () when the move cannot start.",
        |i, a| {
            let vm = i.vm_name(arg_str(a, 0)?)?;
            let t = i.resolve_host("target", arg_str(a, 1)?)?;
            i.check_owner(&vm, &t)
        }),
    op(Package, "check_toolkit", &[s("package")], "Map", Check,
        "Check (B5): `package` is a package of the SG IVS toolkit (module tkit/vtn/vtn), not one of\nthe old Integrity VM toolkit (cmmovevpkg cannot start those on the target).",
        |i, a| {
            let vm = i.vm_name(arg_str(a, 0)?)?;
            i.check_toolkit(&vm, Purpose::Move)
        }),
    op(Package, "check_target_member", &[s("package"), s("target")], "Map", Check,
        "Check (B5): `target` is in the package's node_name list with node switching enabled, and\nup in the cluster.",
        |i, a| {
            let vm = i.vm_name(arg_str(a, 0)?)?;
            let t = i.resolve_host("target", arg_str(a, 1)?)?;
            i.check_target_member(&vm, &t)
        }),
    op(Package, "check_guest_storage", &[s("package"), s("source")], "Array", Check,
        "Check (B5): the guest runs its OS on `source`, and each backing store allows an online\nmigration (whole disks and shared LVM logical volumes only: not NFS, files, VxVM). One\nverdict for the guest, one per backing store.",
        |i, a| {
            let vm = i.vm_name(arg_str(a, 0)?)?;
            let src = i.resolve_host("source", arg_str(a, 1)?)?;
            array(i.check_guest_storage(&vm, &src)?)
        }),
    op(Package, "check_maintenance", &[s("package"), s("target")], "Array", Check,
        "Check (B5): no toolkit maintenance file (vtn.debug) on the package's owner or on `target`\n(one verdict each); one left on another member is a warning.",
        |i, a| {
            let vm = i.vm_name(arg_str(a, 0)?)?;
            let t = i.resolve_host("target", arg_str(a, 1)?)?;
            let (_, p) = i.resolve_package(&vm)?;
            let owner = p.owner.clone().filter(|o| i.topo.vm_host(o).is_some());
            array(i.check_maintenance(&vm, owner.as_deref(), &t)?)
        }),
    op(Hypervisor, "check_product", &[s("host"), s("product")], "Map", Check,
        "Check: software `product` is installed on VM host `host` (`swlist -l product`), e.g.\nT8718AC (online VM migration) or SG-IVS-Toolkit.",
        |i, a| {
            let h = i.resolve_host("host", arg_str(a, 0)?)?;
            let product = arg_str(a, 1)?;
            i.check_product(&h, product)
        }),
    op(Package, "check_appmon_release", &[s("package"), strings("hosts")], "Array", Check,
        "Check (B0): when `package` has application monitors (cmappmgr services), Serviceguard\nA.11.20 or later on each of `hosts` (unique service commands per guest). No verdict\nwithout monitors.",
        |i, a| {
            let vm = i.vm_name(arg_str(a, 0)?)?;
            let hosts = arg_strings(a, 1)?
                .iter()
                .map(|h| i.resolve_host("host", h))
                .collect::<Result<Vec<_>>>()?;
            array(i.check_appmon_release(&vm, &hosts)?)
        }),
    op(Hypervisor, "check_hpvmmigrate", &[s("guest"), s("source"), s("target")], "Map", Check,
        "Check (B5): Integrity VM's own check, `hpvmmigrate -s -o -P guest -h target` on `source`.",
        |i, a| {
            let vm = i.vm_name(arg_str(a, 0)?)?;
            let src = i.resolve_host("source", arg_str(a, 1)?)?;
            let t = i.resolve_host("target", arg_str(a, 2)?)?;
            i.check_migrate_dry_run(&vm, &src, &t)
        }),
    // ----- changes
    op(Package, "move_online", &[s("package"), s("target")], "Map", Change,
        "§6: `cmmovevpkg -v -P package -h target` on the VM host that runs the package (package\nswitching is off until it ends). Refused unless the package runs on a VM host of the\ninventory, and while `target` holds the toolkit's maintenance file; both VM hosts are\nlocked; a cmmovevpkg the resumed run saw fail is not sent again. Registers the recovery\nroutine (hpvm/recover-move) before it sends; `verify_moved` settles it. A failed command\nis not an error: `#{vm, source, target, sent, ok, exit, message}` — where the guest\nreally is is read next. Already on `target`: sends nothing.",
        |i, a| i.move_online(arg_str(a, 0)?, arg_str(a, 1)?)),
    // ----- B3: conversion of an old-toolkit package
    op(Package, "old_package", &[s("package")], "Map", Read,
        "What a conversion (B3) starts from: `#{vm, kind, path, host, nodes, owner, running, status,\ncustom_services}`; `kind` is toolkit, old_toolkit, other or missing (the package file),\n`custom_services` the old package's services but its guest monitor (hpvmsg_mon), which a\nconversion does not carry over: `#{name, cmd, restart, …}` each.",
        |i, a| i.old_package(arg_str(a, 0)?)),
    op(Package, "check_convertible", &[s("package")], "Map", Check,
        "Check (B3): `package` is a package of the old Integrity VM toolkit (hpvmsg_*), which\n`cmdeployvpkg -C` converts while it migrates the guest (the online conversion's\npreflight uses it instead of `check_toolkit`).",
        |i, a| {
            let vm = i.vm_name(arg_str(a, 0)?)?;
            i.check_toolkit(&vm, Purpose::Convert)
        }),
    op(Package, "convert_online", &[s("package"), s("target")], "Map", Change,
        "B3 online conversion: `cmdeployvpkg -C -P package -h target` where the old package runs\n(migrates the guest, re-creates the package with the source and target nodes only).\nRefused unless it is an old-toolkit package running on another VM host of the inventory,\nits directory was backed up (`package.backup`), and `target` holds no toolkit maintenance\nfile; both VM hosts are locked. Returns `#{vm, source, target, ok, exit, message,\nrunning_on, found, new_nodes}`: a failed command is not an error.",
        |i, a| i.convert_online(arg_str(a, 0)?, arg_str(a, 1)?)),
    // ----- B4 end: upgrading the cmappmgr/cmappserver pair (§5)
    op(Package, "appmon_upgrade_state", &[s("package")], "Map", Read,
        "What the cmappmgr/cmappserver upgrade reads of `package` before each step: `#{vm, kind,\npath, host, nodes, primary, owner, running, switching, monitors, commented, repeated,\nmonitors_up, configured}` — `monitors` the active cmappmgr services of the package file,\n`commented` those this upgrade commented out, `repeated` the ones whose command repeats\none for the same guest, `monitors_up` those cmviewcl shows up, `configured` those it lists at\nall (the file was applied). Sends nothing.",
        |i, a| i.appmon_upgrade_state(arg_str(a, 0)?)),
    op(Package, "unique_monitor_commands", &[s("package")], "Map", Change,
        "§5 upgrade step 1 (A.11.19 → A.11.20): make every cmappmgr service command to one guest\nunique: the n-th repetition of a command gets n trailing spaces (quoted). Writes the file\non every member (`write_config`); apply it next. Nothing repeated: nothing written.\nRefused for a file other than the SG IVS toolkit's. Returns `#{vm, changed, services}`.",
        |i, a| i.unique_monitor_commands(arg_str(a, 0)?)),
    op(Package, "comment_out_monitors", &[s("package")], "Map", Change,
        "§5 upgrade step 2: comment out the cmappmgr services of the package file (each line of\nthe block prefixed with `#hascript-appmon-upgrade# `, so `restore_monitors` brings it back\nexactly), written on every member; apply it next. Already commented out: written\nonly on members whose file differs. Refused for a file other than the SG IVS toolkit's. Returns `#{vm, changed,\nservices}`.",
        |i, a| i.comment_out_monitors(arg_str(a, 0)?)),
    op(Package, "check_monitors_stopped", &[s("package")], "Map", Check,
        "Check (§5 upgrade step 3): no cmappmgr service of `package` (active or commented out by\nthe upgrade) is up in cmviewcl.",
        |i, a| i.check_monitors_stopped(arg_str(a, 0)?)),
    op(Package, "stop_monitors", &[s("package")], "Map", Change,
        "§5 upgrade, Process 2 step 3: `kill -9` the cmappmgr processes (`-node <guest>`) still\nrunning on the package's members (`ps -ef`). Refused while the package file still has\nactive cmappmgr services. Returns `#{vm, killed: [#{host, pid, command}]}`.",
        |i, a| i.stop_monitors(arg_str(a, 0)?)),
    op(Package, "check_runs", &[s("package")], "Map", Check,
        "Check (§5 upgrade, Process 2 step 5): `package` runs (cmviewcl: up on a node).",
        |i, a| i.check_package_runs(arg_str(a, 0)?)),
    op(Package, "restore_monitors", &[s("package")], "Map", Change,
        "§5 upgrade step 8b: re-enable the cmappmgr services `comment_out_monitors` commented out\n(the prefix removed: the lines as they were), written on every member; apply it next.\nRefused while the package runs (halt it first). Nothing commented out: nothing written.\nReturns `#{vm, changed, services}`.",
        |i, a| i.restore_monitors(arg_str(a, 0)?)),
    op(Hypervisor, "check_sg_release", &[s("host"), s("release")], "Map", Check,
        "Check (§5 upgrade, read back after each node's upgrade): Serviceguard (T1905CA) on VM\nhost `host` is at `release` (e.g. A.11.20) or later (`swlist -l product T1905CA`); the\nverdict carries `revision`.",
        |i, a| {
            let h = i.resolve_host("host", arg_str(a, 0)?)?;
            i.check_sg_release(&h, arg_str(a, 1)?)
        }),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_has_a_distinct_signature_and_a_doc() {
        let mut seen = std::collections::BTreeSet::new();
        for o in TABLE {
            let s = o.spec;
            assert!(
                seen.insert((s.object, s.name, s.params.len())),
                "{} twice",
                s.name
            );
            assert!(!s.doc.trim().is_empty(), "{} has no doc", s.name);
        }
    }
}
