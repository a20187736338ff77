//! Integrity VM and HP-UX system commands of a VM host: `hpvmstatus`, `hpvmmigrate`,
//! `hpvmstart`, `hpvmstop`, `vgdisplay`, `df -n`, `swlist -l product`. Layouts follow the
//! manual's transcript (seed 004, end of §5) and the contract page.

use hascript_api::Output;

use super::{HpvmState, MigrateFault, PackageKind, StorageKind, MIGRATION_MS};
use crate::world::World;

fn ok(stdout: impl Into<String>) -> Output {
    Output::new(0, stdout, "")
}

fn fail(code: i32, stderr: impl Into<String>) -> Output {
    Output::new(code, "", stderr)
}

/// The `-P VM` / `-h HOST` style options of the hpvm commands.
struct Opts {
    flags: String,
    vm: Option<String>,
    host: Option<String>,
}

fn opts(args: &[String], with_value: &str, flags_ok: &str, cmd: &str) -> Result<Opts, Output> {
    let mut o = Opts {
        flags: String::new(),
        vm: None,
        host: None,
    };
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        let Some(f) = a.strip_prefix('-').filter(|f| f.len() == 1) else {
            return Err(fail(
                2,
                format!("{cmd}: unexpected argument '{a}'\n{}", usage(cmd)),
            ));
        };
        if with_value.contains(f) {
            let Some(v) = args.get(i + 1) else {
                return Err(fail(
                    2,
                    format!("{cmd}: option requires an argument -- {f}\n{}", usage(cmd)),
                ));
            };
            match f {
                "P" => o.vm = Some(v.clone()),
                _ => o.host = Some(v.clone()),
            }
            i += 2;
        } else if flags_ok.contains(f) {
            o.flags.push_str(f);
            i += 1;
        } else {
            return Err(fail(
                2,
                format!("{cmd}: illegal option -- {f}\n{}", usage(cmd)),
            ));
        }
    }
    Ok(o)
}

fn usage(cmd: &str) -> String {
    match cmd {
        "hpvmstatus" => "usage: hpvmstatus [-P vm-name]\n".into(),
        "hpvmmigrate" => "usage: hpvmmigrate [-s] [-o] -P vm-name -h target-host\n".into(),
        "hpvmstart" => "usage: hpvmstart -P vm-name\n".into(),
        "hpvmstop" => "usage: hpvmstop -P vm-name [-F]\n".into(),
        _ => String::new(),
    }
}

/// The state word of guest `g` as host `host` shows it.
pub(crate) fn state_word(st: &HpvmState, g: usize, host: &str) -> &'static str {
    let guest = &st.guests[g];
    match (guest.running, guest.home == host) {
        (true, true) => "On (OS)",
        (false, true) => "Off",
        (_, false) => "Off (NR)",
    }
}

fn guest_on_host(st: &HpvmState, host: &str, vm: &str) -> Option<usize> {
    st.guest(vm)
        .filter(|g| st.guests[*g].registered.iter().any(|h| h == host))
}

fn unknown_guest(vm: &str) -> Output {
    fail(1, format!("hpvmstatus: Unable to find the guest '{vm}'.\n"))
}

/// `hpvmstatus -P` of guest `g` on `host`, in the section order of real hosts'
/// output: `[Virtual Machine Details]`, `[Authorized Administrators]` (`Label : value`
/// lines, no table), `[Virtual CPU Details]`, `[Memory Details]` (a two-line header), the
/// storage and network tables, and `[Misc Interface Details]` (the console).
pub(crate) fn details(st: &HpvmState, g: usize, host: &str) -> String {
    let guest = &st.guests[g];
    let mut s = String::from("[Virtual Machine Details]\n");
    s.push_str("Virtual Machine Name VM #  OS Type State\n");
    s.push_str("==================== ===== ======= ========\n");
    s.push_str(&format!(
        "{:<20} {:>5} {:<7} {}\n",
        guest.name,
        guest.number,
        guest.os_type,
        state_word(st, g, host)
    ));
    s.push_str("\n[Authorized Administrators]\n");
    for label in ["Oper Groups", "Admin Groups", "Oper Users", "Admin Users"] {
        s.push_str(&format!("{label:<24}:\n"));
    }
    s.push_str("\n[Virtual CPU Details]\n");
    s.push_str("#vCPUs Entitlement Maximum\n");
    s.push_str("====== =========== =======\n");
    s.push_str(&format!(
        "{:>6} {:>11} {:>7}\n",
        guest.vcpus, "10.0%", "100.0%"
    ));
    s.push_str("\n[Memory Details]\n");
    s.push_str("Total    Reserved\n");
    s.push_str("Memory   Memory\n");
    s.push_str("=======  ========\n");
    s.push_str(&format!("{:>7}  {:>8}\n", guest.memory, "64 MB"));
    s.push_str("\n[Storage Interface Details]\n");
    s.push_str("Guest                                 Physical\n");
    s.push_str("Device  Adaptor    Bus Dev Ftn Tgt Lun Storage   Device\n");
    s.push_str("======= ========== === === === === === ========= =========================\n");
    for (i, d) in guest.storage.iter().enumerate() {
        let [bus, dev, ftn, tgt, lun] = d.address.unwrap_or([0, 2, 0, 2 + i as u32, 0]);
        s.push_str(&format!(
            "{:<7} {:<10} {:>3} {:>3} {:>3} {:>3} {:>3} {:<9} {}\n",
            d.guest_device,
            d.adaptor,
            bus,
            dev,
            ftn,
            tgt,
            lun,
            d.kind.word(),
            d.device
        ));
    }
    s.push_str("\n[Network Interface Details]\n");
    s.push_str("Interface Adaptor    Name/Num   PortNum Bus Dev Ftn Mac Address\n");
    s.push_str("========= ========== ========== ======= === === === =================\n");
    for n in &guest.nics {
        s.push_str(&format!(
            "{:<9} {:<10} {:<10} {:<7} {:>3} {:>3} {:>3} {}\n",
            "vswitch", "lan", n.vswitch, n.port, n.bus, n.dev, n.ftn, n.mac
        ));
    }
    s.push_str("\n[Misc Interface Details]\n");
    s.push_str("Guest                                 Physical\n");
    s.push_str("Device  Adaptor    Bus Dev Ftn Tgt Lun Storage   Device\n");
    s.push_str("======= ========== === === === === === ========= =========================\n");
    s.push_str(&format!(
        "{:<7} {:<10} {:19} {:<9} {}\n",
        "serial", "com1", "", "tty", "console"
    ));
    s
}

/// `hpvmstatus` (summary of the guests registered on this host) and `hpvmstatus -P VM`.
pub(crate) fn hpvmstatus(st: &HpvmState, host: &str, args: &[String]) -> Output {
    let o = match opts(args, "P", "", "hpvmstatus") {
        Ok(o) => o,
        Err(e) => return e,
    };
    if let Some(vm) = o.vm {
        return match guest_on_host(st, host, &vm) {
            Some(g) => ok(details(st, g, host)),
            None => unknown_guest(&vm),
        };
    }
    let mut s = String::from("[Virtual Machines]\n");
    s.push_str(
        "Virtual Machine Name VM #  OS Type State     #VCPUs #Devs #Nets Memory  Runsysid\n",
    );
    s.push_str(
        "==================== ===== ======= ========= ====== ===== ===== ======= ========\n",
    );
    for (g, guest) in st.guests.iter().enumerate() {
        if !guest.registered.iter().any(|h| h == host) {
            continue;
        }
        s.push_str(&format!(
            "{:<20} {:>5} {:<7} {:<9} {:>6} {:>5} {:>5} {:>7} {:>8}\n",
            guest.name,
            guest.number,
            guest.os_type,
            state_word(st, g, host),
            guest.vcpus,
            guest.storage.len(),
            guest.nics.len(),
            guest.memory,
            0
        ));
    }
    ok(s)
}

/// Why guest `g` cannot move online from `host` to `target` (None: it can).
pub(crate) fn migration_refusal(
    st: &HpvmState,
    g: usize,
    host: &str,
    target: &str,
) -> Option<String> {
    let guest = &st.guests[g];
    let vm = &guest.name;
    if st.node(target).is_none() {
        return Some(format!(
            "hpvmmigrate: ERROR ({vm}): Unable to contact the target host '{target}': unknown host.\n"
        ));
    }
    if target == host {
        return Some(format!(
            "hpvmmigrate: ERROR ({vm}): The target host '{target}' is this host.\n"
        ));
    }
    if st.running_on(g) != Some(host) {
        return Some(format!(
            "hpvmmigrate: ERROR ({vm}): The guest is not running on this host; online migration (-o) needs a running guest.\n"
        ));
    }
    for n in [host, target] {
        let has = st
            .node(n)
            .is_some_and(|i| st.nodes[i].products.iter().any(|p| p.name == "T8718AC"));
        if !has {
            return Some(format!(
                "hpvmmigrate: ERROR ({vm}): Online VM migration (T8718AC) is not installed on host '{n}'.\n"
            ));
        }
    }
    for d in guest.storage.iter().filter(|d| d.is_backing_store()) {
        let allowed = match d.kind {
            StorageKind::Disk => true,
            StorageKind::Lv => {
                let vg = d
                    .device
                    .strip_prefix("/dev/")
                    .and_then(|r| r.split('/').next())
                    .unwrap_or("");
                st.node(host).is_some_and(|i| {
                    st.nodes[i]
                        .vgs
                        .get(vg)
                        .is_some_and(|s| s.contains("shared"))
                })
            }
            StorageKind::File | StorageKind::Null => false,
        };
        if !allowed {
            return Some(format!(
                "hpvmmigrate: ERROR ({vm}): Backing store {} ({}) cannot be migrated online: only whole disks and shared LVM logical volumes can.\n",
                d.device,
                d.kind.word()
            ));
        }
    }
    // The target's own check, last (as the real command, after the source's): every vswitch
    // of the guest must be configured there.
    let missing: Vec<&str> = st
        .node(target)
        .map(|i| {
            guest
                .nics
                .iter()
                .map(|n| n.vswitch.as_str())
                .filter(|v| st.nodes[i].missing_vswitches.iter().any(|m| m == v))
                .collect()
        })
        .unwrap_or_default();
    if let Some(v) = missing.first() {
        return Some(format!(
            "hpvmmigrate: ERROR ({target}): Remote message: vswitch {v} is not configured on this host.\n\
             hpvmmigrate: ERROR ({target}): Remote message: Target VM Host error - vswitch validation failed.\n\
             hpvmmigrate: Unable to migrate virtual machine {vm}.\n"
        ));
    }
    None
}

/// What an online migration did.
pub(crate) enum Migrated {
    /// The guest runs on the target.
    Done,
    /// It failed; the guest still runs on the source.
    Failed(String),
    /// The guest runs on the target, but the command reported an error.
    LandedWithError(String),
}

/// Move running guest `g` online from `host` to `target` (checks already passed), with the
/// scenario's fault.
pub(crate) fn migrate_online(
    st: &mut HpvmState,
    w: &mut World,
    g: usize,
    host: &str,
    target: &str,
) -> Migrated {
    let vm = st.guests[g].name.clone();
    let fault = if st.fault.migrate_failures > 0 {
        st.fault.migrate
    } else {
        MigrateFault::None
    };
    if fault != MigrateFault::None {
        st.fault.migrate_failures -= 1;
    }
    match fault {
        MigrateFault::Fails => {
            st.pass(w, 30_000);
            HpvmState::syslog(
                w,
                host,
                "hpvmmigrate",
                &format!("Online migration of {vm} to {target} failed"),
            );
            Migrated::Failed(format!(
                "hpvmmigrate: ERROR ({vm}): Online migration to host '{target}' failed: the target host did not accept the guest's memory transfer. The guest keeps running on '{host}'.\n"
            ))
        }
        MigrateFault::LandsWithError | MigrateFault::None => {
            st.pass(w, MIGRATION_MS);
            let guest = &mut st.guests[g];
            guest.home = target.to_string();
            if !guest.registered.iter().any(|h| h == target) {
                guest.registered.push(target.to_string());
            }
            HpvmState::syslog(
                w,
                target,
                "hpvmmigrate",
                &format!("Guest {vm} migrated online from {host}"),
            );
            if fault == MigrateFault::LandsWithError {
                Migrated::LandedWithError(format!(
                    "hpvmmigrate: ERROR ({vm}): Lost the connection to the target host '{target}' while completing the migration; the state of the guest is unknown.\n"
                ))
            } else {
                Migrated::Done
            }
        }
    }
}

/// `hpvmmigrate [-s] [-o] -P VM -h HOST`: `-s` only checks; the simulator migrates online
/// only (`-o`).
pub(crate) fn hpvmmigrate(
    st: &mut HpvmState,
    w: &mut World,
    host: &str,
    args: &[String],
) -> Output {
    let o = match opts(args, "Ph", "so", "hpvmmigrate") {
        Ok(o) => o,
        Err(e) => return e,
    };
    let (Some(vm), Some(target)) = (o.vm, o.host) else {
        return fail(2, usage("hpvmmigrate"));
    };
    let Some(g) = guest_on_host(st, host, &vm) else {
        return fail(
            1,
            format!("hpvmmigrate: ERROR ({vm}): Unable to find the guest '{vm}'.\n"),
        );
    };
    if !o.flags.contains('o') {
        return fail(
            1,
            format!("hpvmmigrate: ERROR ({vm}): offline migration is not emulated by the simulator; use -o.\n"),
        );
    }
    if let Some(why) = migration_refusal(st, g, host, &target) {
        return fail(1, why);
    }
    if o.flags.contains('s') {
        return ok(format!(
            "hpvmmigrate: Guest '{vm}' can be migrated online to host '{target}'.\n"
        ));
    }
    match migrate_online(st, w, g, host, &target) {
        Migrated::Done => ok(format!(
            "hpvmmigrate: Online migration of guest '{vm}' to host '{target}' completed.\n"
        )),
        Migrated::Failed(e) | Migrated::LandedWithError(e) => fail(1, e),
    }
}

/// The package managing VM `vm` and whether toolkit maintenance is on for it on `host`.
fn managed(st: &HpvmState, w: &World, vm: &str, host: &str) -> Option<(String, bool)> {
    let p = st.package(vm)?;
    if st.packages[p].kind == PackageKind::Plain {
        return None;
    }
    Some((st.packages[p].name.clone(), st.in_maintenance(w, p, host)))
}

/// `hpvmstart -P VM`: refused on a packaged VM outside toolkit maintenance.
pub(crate) fn hpvmstart(st: &mut HpvmState, w: &mut World, host: &str, args: &[String]) -> Output {
    let o = match opts(args, "P", "q", "hpvmstart") {
        Ok(o) => o,
        Err(e) => return e,
    };
    let Some(vm) = o.vm else {
        return fail(2, usage("hpvmstart"));
    };
    let Some(g) = guest_on_host(st, host, &vm) else {
        return fail(1, format!("hpvmstart: Unable to find the guest '{vm}'.\n"));
    };
    if let Some(on) = st.running_on(g) {
        return fail(
            1,
            format!("hpvmstart: ERROR ({vm}): The guest is already running on host '{on}'.\n"),
        );
    }
    if st.guests[g].home != host {
        let home = st.guests[g].home.clone();
        return fail(
            1,
            format!("hpvmstart: ERROR ({vm}): The guest is not runnable on this host (Off (NR)); it is runnable on '{home}'.\n"),
        );
    }
    if let Some((pkg, false)) = managed(st, w, &vm, host) {
        return fail(
            1,
            format!("hpvmstart: ERROR ({vm}): The guest is managed by Serviceguard package {pkg}; start it with cmrunpkg, or enter maintenance mode first (cmdeployvpkg -m 1 -P {vm}).\n"),
        );
    }
    st.boot_guest(w, g, host);
    ok(format!(
        "hpvmstart: Successful start initiation of guest '{vm}'\n"
    ))
}

/// `hpvmstop -P VM [-F]`: refused on a packaged VM outside toolkit maintenance.
pub(crate) fn hpvmstop(st: &mut HpvmState, w: &mut World, host: &str, args: &[String]) -> Output {
    let o = match opts(args, "P", "Fgq", "hpvmstop") {
        Ok(o) => o,
        Err(e) => return e,
    };
    let Some(vm) = o.vm else {
        return fail(2, usage("hpvmstop"));
    };
    let Some(g) = guest_on_host(st, host, &vm) else {
        return fail(1, format!("hpvmstop: Unable to find the guest '{vm}'.\n"));
    };
    if st.running_on(g) != Some(host) {
        return fail(
            1,
            format!("hpvmstop: ERROR ({vm}): The guest is not running on this host.\n"),
        );
    }
    if let Some((pkg, false)) = managed(st, w, &vm, host) {
        return fail(
            1,
            format!("hpvmstop: ERROR ({vm}): The guest is managed by Serviceguard package {pkg}; halt it with cmhaltpkg, or enter maintenance mode first (cmdeployvpkg -m 1 -P {vm}).\n"),
        );
    }
    if !o.flags.contains('F') && !o.flags.contains('q') {
        return fail(
            1,
            format!("hpvmstop: ERROR ({vm}): confirmation prompts are not emulated by the simulator; use -F.\n"),
        );
    }
    st.stop_guest(w, g);
    ok(format!("hpvmstop: Virtual machine '{vm}' stopped.\n"))
}

/// `vgdisplay VG`.
pub(crate) fn vgdisplay(st: &HpvmState, host: &str, args: &[String]) -> Output {
    let names: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let Some(node) = st.node(host) else {
        return fail(1, "vgdisplay: no volume groups\n");
    };
    let vgs = &st.nodes[node].vgs;
    let wanted: Vec<String> = if names.is_empty() {
        vgs.keys().cloned().collect()
    } else {
        names
            .iter()
            .map(|n| n.strip_prefix("/dev/").unwrap_or(n).to_string())
            .collect()
    };
    let mut out = String::new();
    let mut err = String::new();
    let mut code = 0;
    for vg in wanted {
        let Some(status) = vgs.get(&vg) else {
            err.push_str(&format!(
                "vgdisplay: Volume group not activated.\nvgdisplay: Cannot display volume group \"/dev/{vg}\".\n"
            ));
            code = 1;
            continue;
        };
        out.push_str(&format!(
            "--- Volume groups ---\n\
VG Name                     /dev/{vg}\n\
VG Write Access             read/write\n\
VG Status                   {status}\n\
Max LV                      255\n\
Cur LV                      1\n\
Open LV                     1\n\
Max PV                      16\n\
Cur PV                      1\n\
Act PV                      1\n\
Max PE per PV               4350\n\
VGDA                        2\n\
PE Size (Mbytes)            4\n\
Total PE                    4340\n\
Alloc PE                    2560\n\
Free PE                     1780\n\
Total PVG                   0\n\
Total Spare PVs             0\n\
Total Spare PVs in use      0\n\
VG Version                  1.0\n\
VG Max Size                 69600m\n\
VG Max Extents              17400\n\n"
        ));
    }
    Output::new(code, out, err)
}

/// `df -n PATH…`: the file system type of each path's mount.
pub(crate) fn df(st: &HpvmState, w: &World, host: &str, args: &[String]) -> Output {
    let mut names_only = false;
    let mut paths = Vec::new();
    for a in args {
        match a.as_str() {
            "-n" => names_only = true,
            a if a.starts_with('-') => {
                return fail(
                    2,
                    format!("df: option {a} is not emulated by the simulator (only -n)\n"),
                )
            }
            a => paths.push(a),
        }
    }
    if !names_only {
        return fail(2, "df: only df -n is emulated by the simulator\n");
    }
    let mounts: Vec<(String, String, String)> = match st.node(host) {
        Some(i) => st.nodes[i].mounts.clone(),
        None => vec![("/".into(), "/dev/vg00/lvol3".into(), "vxfs".into())],
    };
    let os = w.hosts.get(host);
    let mut out = String::new();
    let mut err = String::new();
    let mut code = 0;
    let list: Vec<String> = if paths.is_empty() {
        mounts.iter().map(|m| m.0.clone()).collect()
    } else {
        paths.iter().map(|p| p.to_string()).collect()
    };
    for p in list {
        let clean = super::fs::normalize(&p);
        let exists = clean.starts_with("/dev/")
            || os.is_some_and(|o| super::fs::is_file(o, &clean) || super::fs::is_dir(o, &clean));
        if !exists {
            err.push_str(&format!("df: cannot find {p}: No such file or directory\n"));
            code = 1;
            continue;
        }
        let m = mounts
            .iter()
            .filter(|(mp, _, _)| mp == "/" || clean == *mp || clean.starts_with(&format!("{mp}/")))
            .max_by_key(|(mp, _, _)| mp.len());
        if let Some((mp, dev, ty)) = m {
            out.push_str(&format!("{mp:<23}({dev:<22}) :   {ty}\n"));
        }
    }
    Output::new(code, out, err)
}

/// The title `swlist` shows for the cmappserver product.
const CMAPPSERVER_TITLE: &str = "Serviceguard cmappserver for guest application monitoring";

/// `swlist [-s DEPOT] -l product [PRODUCT…]`.
pub(crate) fn swlist(st: &HpvmState, w: &World, host: &str, args: &[String]) -> Output {
    let mut names = Vec::new();
    let mut depot: Option<String> = None;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-s" => {
                let Some(d) = args.get(i + 1) else {
                    return fail(2, "swlist: -s needs a depot\n");
                };
                depot = Some(super::fs::normalize(d));
                i += 2;
                continue;
            }
            "-l" => {
                if args.get(i + 1).map(String::as_str) != Some("product") {
                    return fail(2, "swlist: only -l product is emulated by the simulator\n");
                }
                i += 2;
                continue;
            }
            a if a.starts_with('-') => {
                return fail(
                    2,
                    format!("swlist: option {a} is not emulated by the simulator\n"),
                )
            }
            a => names.push(a.to_string()),
        }
        i += 1;
    }
    if let Some(d) = &depot {
        let text = w.hosts.get(host).and_then(|os| os.file(d));
        let Some((revision, _)) = text.and_then(super::cmappserver::depot_of) else {
            return fail(
                1,
                format!("ERROR:   \"{host}:{d}\":  Cannot open the depot: it does not exist or is not a depot.\n"),
            );
        };
        let mut out = format!(
            "# Initializing...\n# Contacting target \"{host}\"...\n#\n# Target:  {host}:{d}\n#\n\n"
        );
        if names.is_empty() || names.iter().any(|n| n == "CMAPPSERVER") {
            out.push_str(&format!(
                "  {:<30}{:<15}{}\n",
                "CMAPPSERVER", revision, CMAPPSERVER_TITLE
            ));
        }
        if let Some(n) = names.iter().find(|n| *n != "CMAPPSERVER") {
            return Output::new(
                1,
                out,
                format!("ERROR:   Software \"{n}\" was not found on host \"{host}:{d}\".\n"),
            );
        }
        return Output::new(0, out, "");
    }
    let products: Vec<super::Product> = match st.node(host) {
        Some(n) => st.nodes[n].products.clone(),
        None => {
            let mut v = vec![super::Product {
                name: "HPUX11i-DC-OE".into(),
                revision: "B.11.31.1403".into(),
                title: "HP-UX Data Center Operating Environment".into(),
            }];
            if let Some(g) = st.guest(host).filter(|g| st.guests[*g].cmappserver) {
                v.push(super::Product {
                    name: "CMAPPSERVER".into(),
                    revision: st.guests[g]
                        .cmappserver_revision
                        .clone()
                        .unwrap_or_else(|| super::cmappserver::HOST_REVISION.into()),
                    title: CMAPPSERVER_TITLE.into(),
                });
            }
            v
        }
    };
    let mut out = format!(
        "# Initializing...\n# Contacting target \"{host}\"...\n#\n# Target:  {host}:/\n#\n\n"
    );
    let mut err = String::new();
    let mut code = 0;
    for p in &products {
        if names.is_empty() || names.contains(&p.name) {
            out.push_str(&format!("  {:<30}{:<15}{}\n", p.name, p.revision, p.title));
        }
    }
    for n in &names {
        if !products.iter().any(|p| p.name == *n) {
            err.push_str(&format!(
                "ERROR:   Software \"{n}\" was not found on host \"{host}:/\".\n"
            ));
            code = 1;
        }
    }
    Output::new(code, out, err)
}

/// `swinstall -s DEPOT T1905CA[,r=REVISION]` on a VM host: the operator's Serviceguard
/// upgrade of that node during a rolling upgrade (B4's cmappmgr/cmappserver upgrade). The
/// simulator installs nothing else and only changes the revision `swlist` shows (A.11.20.00
/// without `,r=`); it does not halt or restart the node (the operator's `cmhaltnode` /
/// `cmrunnode` around it are not emulated).
pub(crate) fn swinstall(st: &mut HpvmState, host: &str, args: &[String]) -> Output {
    let mut depot = None;
    let mut selections = Vec::new();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-s" => {
                depot = args.get(i + 1).cloned();
                i += 2;
                continue;
            }
            a if a.starts_with('-') => {
                return fail(
                    2,
                    format!("swinstall: option {a} is not emulated by the simulator\n"),
                )
            }
            a => selections.push(a.to_string()),
        }
        i += 1;
    }
    let (Some(depot), [sel]) = (depot, selections.as_slice()) else {
        return fail(
            2,
            "usage: swinstall -s DEPOT T1905CA[,r=REVISION] (the simulator installs Serviceguard only)\n",
        );
    };
    let (product, revision) = match sel.split_once(",r=") {
        Some((p, r)) => (p, r.to_string()),
        None => (sel.as_str(), "A.11.20.00".to_string()),
    };
    if product != "T1905CA" {
        return fail(
            1,
            format!("ERROR:   Software \"{product}\" was not found in depot \"{depot}\" (the simulator installs T1905CA only).\n"),
        );
    }
    let Some(n) = st.node(host) else {
        return fail(1, "swinstall: not a VM host\n");
    };
    match st.nodes[n]
        .products
        .iter_mut()
        .find(|p| p.name == "T1905CA")
    {
        Some(p) => p.revision = revision.clone(),
        None => st.nodes[n].products.push(super::Product {
            name: "T1905CA".into(),
            revision: revision.clone(),
            title: "Serviceguard".into(),
        }),
    }
    ok(format!(
        "=======  swinstall: Installing T1905CA,r={revision} from {depot} on {host}:/\n* Installation succeeded.\n"
    ))
}
