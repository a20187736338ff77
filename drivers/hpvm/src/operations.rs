//! The Serviceguard driver's operation table: every vendor action a procedure script may
//! call beyond the object model's methods, one manual action each, with its guard rails
//! (see [`hascript_api::operations`]). The engine makes each entry a method of its object;
//! [`crate::site::HpvmSite`] dispatches calls here. What is an interlock (kept whatever a
//! script says) and what is a script's check (a site may drop it) is listed in
//! ARCHITECTURE.md.

use hascript_api::operations::{
    arg_int, arg_opts, arg_str, arg_strings, int, map, op, opt_secs, opt_str, s, strings, Object,
    OpKind, Operation, OperationSpec,
};
use hascript_api::{Error, Result};
use serde_json::Value;

use crate::facts::Inner;
use crate::procedure::appmon::KeyOpts;
use crate::procedure::migrate::{Purpose, SETTLE_DEADLINE};

/// The specs of every operation (what the engine registers, with no site at hand).
pub fn specs() -> Vec<OperationSpec> {
    hascript_api::operations::specs_of(TABLE)
}

/// Call `object.name(args…)` on `inner`.
pub(crate) fn call(inner: &Inner, object: Object, name: &str, args: &[Value]) -> Result<Value> {
    hascript_api::operations::dispatch(TABLE, inner, object, name, args)
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
    // ----- B4: application monitoring (setup-appmon-keys, test-app-monitor)
    op(Package, "appmon_plan", &[s("package")], "Map", Read,
        "B4 (read, before any change): the guest of VM package `package` (an inventory host of\nrole vm-guest, running), the VM hosts and the VM host that makes or holds the client keys\n(the first with `client.private`, else the first): `#{guest, vm, key_host, hosts}`.",
        |i, a| i.appmon_plan(arg_str(a, 0)?, None)),
    op(Package, "appmon_plan", &[s("package"), s("host")], "Map", Read,
        "`appmon_plan(package)` with the VM host `host` making the client keys.",
        |i, a| i.appmon_plan(arg_str(a, 0)?, Some(arg_str(a, 1)?))),
    op(Package, "appmon_client_keys", &[s("host"), map("keys")], "Map", Change,
        "B4 step 1, host side: `client.private` and `client.public` on VM host `host` in\n/etc/cmcluster/cmappmgr (`keytool -genkey` with `-dname`, `-export`, `-import`). Existing\nstores are kept and reused (their password checked with `keytool -list`) unless\n`keys.regenerate` (then moved aside, `F.<stamp>`). `keys`: `client_password`,\n`server_password`, `public_password` (required; pass `secrets.…`: shown as `*****`, never\nin a message or error), `regenerate`, `dname_client`, `dname_server`, `validity` (days,\n400), `host`. `#{host, keys}`: made, reused or completed.",
        |i, a| i.appmon_client_keys(arg_str(a, 0)?, &KeyOpts::from_value(&a[1])?)),
    op(Package, "appmon_server_keys", &[s("guest"), map("keys")], "Map", Change,
        "B4 step 1, guest side: `server.private` and `server.public` in the running inventory\nguest `guest` in /opt/hp/cmappserver, as `appmon_client_keys`. `#{guest, keys}`.",
        |i, a| i.appmon_server_keys(arg_str(a, 0)?, &KeyOpts::from_value(&a[1])?)),
    op(Package, "appmon_copy_client_public", &[s("host"), s("guest")], "Map", Change,
        "B4 step 1: `client.public` of VM host `host` into guest `guest` (bytes through stdin,\nmode 0644; not rewritten when the same). `#{file, from, to, copied}`.",
        |i, a| i.appmon_copy_client_public(arg_str(a, 0)?, arg_str(a, 1)?)),
    op(Package, "appmon_copy_server_public", &[s("guest"), s("host")], "Map", Change,
        "B4 step 1: the guest's `server.public` to VM host `host` as `server_<guest>.public`\n(mode 0644). `#{file, as, from, to, copied, trust_store}`.",
        |i, a| i.appmon_copy_server_public(arg_str(a, 0)?, arg_str(a, 1)?)),
    op(Package, "appmon_distribute_keys", &[s("host")], "Map", Change,
        "B4 step 1: every key file of VM host `host` (`client.private` mode 0600, `client.public`\nand each `server_<guest>.public` mode 0644) to the other VM hosts, where not the same.\n`#{copied: [#{file, from, to}], trusted: [guests with a server_<guest>.public]}`.",
        |i, a| i.appmon_distribute_keys(arg_str(a, 0)?)),
    op(Package, "appmon_cmappmgr_conf", &[s("host"), s("guest"), map("keys")], "Map", Change,
        "B4 step 2: /etc/cmappmgr.conf on VM host `host` with guest `guest`'s `keyStore`,\n`keyStorePassword`, `trustStore=<guest>:<path>` (other guests' lines kept) and\n`trustStorePassword`, written through stdin with mode 0600 (not rewritten when the same).\n`keys` as `appmon_client_keys`. `#{host, path, changed, mode}`.",
        |i, a| i.appmon_cmappmgr_conf(arg_str(a, 0)?, arg_str(a, 1)?, &KeyOpts::from_value(&a[2])?)),
    op(Package, "appmon_cmappserver_conf", &[s("guest"), map("keys")], "Map", Change,
        "B4 step 4: /opt/hp/cmappserver/cmappserver.conf in the running guest `guest`, written\nthrough stdin with mode 0600. `#{host, path, changed, mode}`.",
        |i, a| i.appmon_cmappserver_conf(arg_str(a, 0)?, &KeyOpts::from_value(&a[1])?)),
    op(Package, "app_monitor", &[s("package")], "Map", Read,
        "B4 step 6 (read): the first application monitor (cmappmgr service) of the running\npackage `package`, its guest and its service in `cmviewcl`: `#{pkg, owner, service,\nguest, command, restarts, max_restarts, unlimited, limit, clock}` (`limit`: the number\nof restarts, () when not a number; `clock`: the run's clock, seconds). Refused unless the\npackage and the service are up.",
        |i, a| i.app_monitor(arg_str(a, 0)?, None)),
    op(Package, "app_monitor", &[s("package"), s("appmon")], "Map", Read,
        "`app_monitor(package)` for the monitor `appmon` (its name or its service name).",
        |i, a| i.app_monitor(arg_str(a, 0)?, Some(arg_str(a, 1)?))),
    op(Package, "app_process", &[s("package"), s("service")], "Dynamic", Read,
        "B4 step 6 (read): the PID of the process in the guest running the monitored command of\nservice `service` of `package` (`ps -ef`); () when none; an error when several do.",
        |i, a| i.app_process(arg_str(a, 0)?, arg_str(a, 1)?)),
    op(Package, "kill_app", &[s("package"), s("service"), int("pid")], "Map", Change,
        "B4 step 6: `kill -9 pid` in the guest of monitor `service` of `package`. Refused unless\n`pid` is the one process there running the monitored command (`ps -ef` just before).\n`#{pid, at, killed}` (`killed` false when it had already ended).",
        |i, a| i.kill_app(arg_str(a, 0)?, arg_str(a, 1)?, arg_int(a, 2)?)),
    op(Package, "wait_service_reaction", &[s("package"), s("service"), map("opts")], "Map", Read,
        "B4 step 6 (after a kill): wait until the restart count of `service` rises above\n`opts.above` or the package leaves `opts.owner`; `opts`: `#{owner, above, since,\ntimeout}` (the deadline is `timeout` seconds, 600, from `since` on the run's clock).\n`#{owner, status, restarts, moved}`; a timeout names the package log.",
        |i, a| i.wait_service_reaction(arg_str(a, 0)?, arg_str(a, 1)?, arg_opts(a, 2, &["owner", "above", "since", "timeout"], "package.wait_service_reaction")?)),
    op(Package, "wait_app_restarted", &[s("package"), s("service"), map("opts")], "Dynamic", Read,
        "B4 step 6 (failover test): wait for the monitored application to run again in the\nguest under a PID other than `opts.pid`; `opts`: `#{pid, owner, since, timeout}`. The new\nPID, or () when the package left `opts.owner` meanwhile.",
        |i, a| i.wait_app_restarted(arg_str(a, 0)?, arg_str(a, 1)?, arg_opts(a, 2, &["pid", "owner", "since", "timeout"], "package.wait_app_restarted")?)),
    op(Package, "verify_failed_over", &[s("package"), map("opts")], "Map", Read,
        "B4 step 6 (failover test), read back: wait for `package` up on a node other than\n`opts.from`, check its guest runs there only, and read whether Serviceguard disabled node\nswitching on `from`; `opts`: `#{from, service, since, timeout}`. `#{owner, restarts,\nnode_switching_disabled_on}`; otherwise a `needs_attention` error.",
        |i, a| i.verify_failed_over(arg_str(a, 0)?, arg_opts(a, 1, &["from", "service", "since", "timeout"], "package.verify_failed_over")?)),
    // ----- B2/B3 package: maintenance, removal, deployment (one manual action each)
    op(Package, "maintenance_on", &[s("package")], "Map", Change,
        "B3: enter the toolkit's maintenance mode, `cmdeployvpkg -m 1 -P package` on the owner\n(one command, read back: the maintenance file exists). Refused unless the package runs on\na VM host of the inventory and its file says `MAINTENANCE_FLAG yes`. Already in it: sends\nnothing. `#{package, host, maintenance, changed, file}`.",
        |i, a| i.maintenance_enter(arg_str(a, 0)?)),
    op(Package, "maintenance_off", &[s("package")], "Map", Change,
        "B3: leave the toolkit's maintenance mode on EVERY member that holds the maintenance\nfile, not only the owner (after a failover it stays on the former owner):\n`cmdeployvpkg -m 0 -P package` on each, each read back; a member that cannot be read is\nan error, never taken as off. `#{package, host, hosts, maintenance, changed, file,\nwas_running}`; nothing held: sends nothing (`changed: false`).",
        |i, a| i.maintenance_off(arg_str(a, 0)?)),
    op(Package, "verify_monitored", &[s("package"), map("opts")], "Map", Read,
        "B3, the read-back after `maintenance_off`: the guest is monitored again only when the\npackage runs and its guest runs on its owner. A package up with its guest Off, or a\npackage that stopped running meanwhile (`opts.was_running`: it ran before), is a\n`needs_attention` error (maintenance stays off). Sends nothing.",
        |i, a| {
            let o = arg_opts(a, 1, &["was_running"], "package.verify_monitored")?;
            let was_running = match o.get("was_running") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(v) => return Err(Error::usage(format!("package.verify_monitored: option `was_running` must be true or false, not {v}"))),
            };
            i.verify_monitored(arg_str(a, 0)?, was_running)
        }),
    op(Package, "add_vgs", &[s("package"), strings("vgs")], "Map", Change,
        "B2 (§4: review the logical volumes, add new volume groups): add a `vg` line for each of\n`vgs` the package file lacks, on every member, read back (the previous file kept for a\nrejected cmcheckconf). `deploy`'s result lists them as `missing_vgs`. Those there already:\nnothing written. `#{path, hosts, added}`.",
        |i, a| i.add_vgs(arg_str(a, 0)?, &arg_strings(a, 1)?)),
    op(Package, "check_nfs_entries", &[s("package")], "Map", Check,
        "Check (§8: cmdeployvpkg does not add NFS backing stores): each file backing store of\nthe guest on NFS (`df -n` where it runs) is mounted by the package file (`fs_type nfs`).\nThe failed verdict's detail names the `fs_*` lines to add. `package.apply` and\n`package.run` refuse such a guest themselves, whatever a script does.",
        |i, a| i.nfs_entries_verdict(arg_str(a, 0)?)),
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
