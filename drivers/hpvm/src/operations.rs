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
    // ----- §5 step 3: cmappserver in the guest (procedure/cmappserver.rs)
    op(Package, "cmappserver_guest", &[s("guest")], "Map", Read,
        "§5 step 3: the guest `guest` (VM or inventory name of a host of role vm-guest), its OS\nkind from `hpvmstatus -P` (OS type HPUX/LINUX/WINDOWS) and where it runs: `#{guest, vm,\nos, host}`, `os` hpux, linux or windows, `host` () when it runs nowhere.",
        |i, a| i.cmappserver_guest(arg_str(a, 0)?, None, None, None)),
    op(Package, "cmappserver_guest", &[s("guest"), map("opts")], "Map", Read,
        "`cmappserver_guest(guest)` that also validates the procedure's overrides before anything\nchanges: `source` (an absolute path ending in .depot for HP-UX, .rpm for Linux), `host`\n(a VM host of the inventory), `address` (a host name or address). Adds `from` (that VM\nhost, () when not given) and `address` (default: the guest's inventory name).",
        |i, a| {
            let o = arg_opts(a, 1, &["source", "host", "address"], "package.cmappserver_guest")?;
            let source = opt_str(o, "source", "package.cmappserver_guest")?;
            let host = opt_str(o, "host", "package.cmappserver_guest")?;
            let address = opt_str(o, "address", "package.cmappserver_guest")?;
            i.cmappserver_guest(arg_str(a, 0)?, source, host, address)
        }),
    op(Package, "cmappserver_software", &[s("guest")], "Map", Read,
        "§5 step 3: which of the VM host's `/opt/hp/serviceguard/cmappserver/` files the guest\ntakes and where it goes: HP-UX by `uname -r` (B.11.23: 11iv2, B.11.31: 11iv3, to\n/tmp/cmappserver.depot), Linux by /etc/redhat-release or /etc/SuSE-release (redhat or\nsles rpm, to /tmp), Windows cmappserver.exe. `#{guest, vm, os, host, flavour, why, source,\ndest}` (`dest` () for Windows).",
        |i, a| i.cmappserver_software(arg_str(a, 0)?)),
    op(Package, "check_java", &[s("guest")], "Map", Check,
        "Check (§5 step 3, Linux): `java -version` in the guest: Java 1.4.2, 1.5 or 1.6 on root's\nPATH. Older or none fails; newer, or GNU gcj (the guide's warning), passes with\n`warning` set. The verdict also carries `version`.",
        |i, a| i.check_java(arg_str(a, 0)?)),
    op(Package, "copy_cmappserver", &[s("guest")], "Map", Change,
        "§5 step 3: copy the guest's cmappserver depot or rpm from the VM host where it runs into\nthe guest (/tmp/cmappserver.depot, or /tmp/<rpm>), read back. Refused for a Windows\nguest, a guest that does not run, and a Linux guest without Java 1.4.2–1.6. Not rewritten\nwhen already there. `#{guest, host, source, dest, bytes, copied}`.",
        |i, a| i.copy_cmappserver(arg_str(a, 0)?, None, None)),
    op(Package, "copy_cmappserver", &[s("guest"), map("opts")], "Map", Change,
        "`copy_cmappserver(guest)` with `opts`: `source` (the file on the VM host: an absolute\npath ending in .depot for HP-UX, .rpm for Linux), `host` (the VM host to copy from).",
        |i, a| {
            let o = arg_opts(a, 1, &["source", "host"], "package.copy_cmappserver")?;
            let source = opt_str(o, "source", "package.copy_cmappserver")?;
            let host = opt_str(o, "host", "package.copy_cmappserver")?;
            i.copy_cmappserver(arg_str(a, 0)?, source, host)
        }),
    op(Package, "install_cmappserver", &[s("guest"), s("file")], "Map", Change,
        "§5 step 3: install the copied `file` (in /tmp) in the guest: HP-UX `swinstall -s FILE\nCMAPPSERVER`; Linux `rpm -i FILE`, or `rpm -U FILE` when `rpm -q cmappserver` says it is\ninstalled. Nothing is sent when the installed revision is the one offered (`swlist -s` /\n`rpm -qp`). Refused for a Windows guest, a guest that does not run and a Linux guest\nwithout Java 1.4.2–1.6; read back with `swlist` / `rpm -q`. `#{guest, os, file, before,\nafter, sent, changed}`.",
        |i, a| i.install_cmappserver(arg_str(a, 0)?, arg_str(a, 1)?)),
    op(Package, "check_cmappserver_path", &[s("guest")], "Map", Check,
        "Check (§5 step 3, Linux): /opt/hp/cmappserver on root's PATH as /etc/profile,\n/root/.bash_profile or /root/.profile set it; the remedy says which line to add.",
        |i, a| i.check_cmappserver_path(arg_str(a, 0)?)),
    op(Package, "check_cmappserver_keys", &[s("guest")], "Array", Check,
        "Check (B4 steps 1 and 4): server.private, server.public, client.public and\ncmappserver.conf in the guest's /opt/hp/cmappserver, one verdict each (made by\nhpvm/setup-appmon-keys, which the remedy names).",
        |i, a| array(i.check_cmappserver_keys(arg_str(a, 0)?)?)),
    op(Package, "check_cmappserver_port", &[s("guest")], "Map", Check,
        "Check: the guest's cmappserver answers on TCP port 5315, probed read-only from the VM\nhost where the guest runs (a Perl connect, closed at once) to the guest's inventory name.",
        |i, a| i.check_cmappserver_port(arg_str(a, 0)?, None, None)),
    op(Package, "check_cmappserver_port", &[s("guest"), map("opts")], "Map", Check,
        "`check_cmappserver_port(guest)` with `opts`: `address` (the guest's name or address as the\nVM host resolves it), `host` (the VM host to probe from).",
        |i, a| {
            let o = arg_opts(a, 1, &["address", "host"], "package.check_cmappserver_port")?;
            let address = opt_str(o, "address", "package.check_cmappserver_port")?;
            let host = opt_str(o, "host", "package.check_cmappserver_port")?;
            i.check_cmappserver_port(arg_str(a, 0)?, address, host)
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
            assert!(seen.insert((s.object, s.name, s.params.len())), "{} twice", s.name);
            assert!(!s.doc.trim().is_empty(), "{} has no doc", s.name);
        }
    }
}
