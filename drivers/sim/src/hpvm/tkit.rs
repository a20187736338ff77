//! The SG IVS toolkit's scripts: `cmdeployvpkg` (package creation in quiet mode `-Q`,
//! application monitors `-x merge -x appmon=SPEC`, maintenance `-m 1|0`, online conversion
//! `-C`, removal `-U`) and `cmmovevpkg` (the three steps of an online move, §6). Questions of
//! the interactive transcript are printed with the answers quiet mode gives (contract page).

use hascript_api::Output;

use super::conf::{self, Conf, ServiceSpec};
use super::vm::{self, Migrated};
use super::{fs, Event, HpvmState, PackageKind, CMCLUSTER, MAINTENANCE_FILE, MONITOR_INTERVAL_MS};
use crate::posix::ProcessIo;
use crate::world::{Meta, World};

fn ok(stdout: impl Into<String>) -> Output {
    Output::new(0, stdout, "")
}

fn fail(code: i32, stderr: impl Into<String>) -> Output {
    Output::new(code, "", stderr)
}

const INTRO: &str = "This is the HP Serviceguard Toolkit for Integrity Virtual Servers package creation script.
This script assists you to create and manage HP Serviceguard package configurations for VM guest and associated
toolkit configuration files.
HP recommends that you review and modify the configuration file created by this script, as needed, for your
particular environment.
Do you wish to continue? (y/n):y
";

fn checklist(vm: &str) -> String {
    format!(
        "Please see the HP Serviceguard Toolkit for Integrity Virtual Servers user guide for
additional instructions on configuring Virtual Machines as Serviceguard packages.
Before running this package:
1. Review the files located in /etc/cmcluster/{vm}/.
2. Add new LVM Volume Groups to the cluster configuration file, if any.
3. Check the cluster and/or package configuration using the cmcheckconf command.
4. Apply the cluster and/or package configuration using the cmapplyconf command.
5. Unmount file systems and deactivate non-shared volumes used by the virtual machine.
6. Start dependent packages associated with shared LVM, CVM or CFS backingstores.
7. Start the package using: cmrunpkg {vm}
"
    )
}

#[derive(Default)]
struct DeployArgs {
    quiet: bool,
    vm: Option<String>,
    nodes: Vec<String>,
    merge: bool,
    appmons: Vec<String>,
    maintenance: Option<bool>,
    convert: bool,
    target: Option<String>,
    remove: bool,
}

const DEPLOY_USAGE: &str =
    "usage: cmdeployvpkg [-Q] -P vm_name [-n node]... [-x merge] [-x appmon[=spec]]
       cmdeployvpkg -m 1|0 -P vm_name
       cmdeployvpkg [-Q] -C -P vm_name -h target_host
       cmdeployvpkg -P vm_name -U
";

fn parse_deploy(args: &[String]) -> Result<DeployArgs, String> {
    let mut d = DeployArgs::default();
    let mut i = 0;
    let value = |i: usize, f: &str| -> Result<String, String> {
        args.get(i + 1)
            .cloned()
            .ok_or_else(|| format!("option {f} requires an argument"))
    };
    while i < args.len() {
        match args[i].as_str() {
            "-Q" => d.quiet = true,
            "-C" => d.convert = true,
            "-U" => d.remove = true,
            "-P" => {
                d.vm = Some(value(i, "-P")?);
                i += 1;
            }
            "-n" => {
                d.nodes.push(value(i, "-n")?);
                i += 1;
            }
            "-h" => {
                d.target = Some(value(i, "-h")?);
                i += 1;
            }
            "-m" => {
                d.maintenance = match value(i, "-m")?.as_str() {
                    "1" => Some(true),
                    "0" => Some(false),
                    other => return Err(format!("-m takes 1 or 0, not {other}")),
                };
                i += 1;
            }
            "-x" => {
                let v = value(i, "-x")?;
                if v == "merge" {
                    d.merge = true;
                } else if let Some(spec) = v.strip_prefix("appmon=") {
                    d.appmons.push(spec.to_string());
                } else if v == "appmon" {
                    return Err(
                        "-x appmon without a specification is interactive; the simulator needs -Q and -x appmon=name:command:timeout:restart:halt_timeout".into(),
                    );
                } else {
                    return Err(format!("unknown -x option {v}"));
                }
                i += 1;
            }
            other => return Err(format!("unknown argument {other}")),
        }
        i += 1;
    }
    Ok(d)
}

/// Parse `name:command:timeout:restart:halt_timeout` (the command may hold `:`).
pub(crate) fn parse_appmon(spec: &str, guest: &str) -> Result<ServiceSpec, String> {
    let parts: Vec<&str> = spec.split(':').collect();
    if parts.len() < 5 {
        return Err(format!(
            "application monitor specification {spec:?} needs name:command:timeout:restart:halt_timeout"
        ));
    }
    let name = parts[0];
    let n = parts.len();
    let (timeout, restart, halt) = (parts[n - 3], parts[n - 2], parts[n - 1]);
    let command = parts[1..n - 3].join(":");
    if name.is_empty() || command.is_empty() {
        return Err(format!(
            "application monitor specification {spec:?} has an empty name or command"
        ));
    }
    let timeout = if timeout.is_empty() { "10" } else { timeout };
    let restart = if restart.is_empty() { "none" } else { restart };
    let halt = if halt.is_empty() { "300" } else { halt };
    if timeout.parse::<u32>().is_err()
        || halt.parse::<u32>().is_err()
        || conf::restart_of(restart).is_none()
    {
        return Err(format!(
            "application monitor specification {spec:?}: timeout and halt timeout must be numbers, restart none, unlimited or a number"
        ));
    }
    Ok(conf::appmon_service(
        name, guest, &command, timeout, restart, halt,
    ))
}

fn err_out(out: String, msg: &str) -> Output {
    Output::new(1, out, format!("ERROR: {msg}\n"))
}

/// Write the package file on `nodes` (directory made 0755 when missing; an existing one
/// keeps its mode), file mode 0644.
fn distribute(w: &mut World, nodes: &[String], vm: &str, text: &str) {
    let now = w.now_ms;
    let dir = format!("{CMCLUSTER}/{vm}");
    for n in nodes {
        if let Some(os) = w.host_mut(n) {
            if !fs::is_dir(os, &dir) {
                fs::mkdirs(os, &dir, 0o755, now);
            }
            fs::write_file(
                os,
                &format!("{dir}/{vm}.conf"),
                text.to_string(),
                0o644,
                now,
            );
        }
    }
}

/// `cmdeployvpkg …`.
pub(crate) fn cmdeployvpkg(
    st: &mut HpvmState,
    w: &mut World,
    host: &str,
    args: &[String],
    io: &mut ProcessIo,
) -> Output {
    let d = match parse_deploy(args) {
        Ok(d) => d,
        Err(e) => return fail(2, format!("cmdeployvpkg: {e}\n{DEPLOY_USAGE}")),
    };
    let Some(vm) = d.vm.clone() else {
        return fail(
            2,
            format!("cmdeployvpkg: -P vm_name is required\n{DEPLOY_USAGE}"),
        );
    };
    if let Some(on) = d.maintenance {
        return maintenance(st, w, host, &vm, on);
    }
    if d.remove {
        return remove(st, w, &vm, io);
    }
    if !d.quiet {
        return fail(
            2,
            "cmdeployvpkg: the interactive mode is not emulated by the simulator; use -Q (the answers it gives are on the book's driver page)\n",
        );
    }
    if d.convert {
        return convert(st, w, host, &vm, d.target.as_deref());
    }
    deploy(st, w, host, &vm, &d)
}

/// The `-cmappserver_timeout` of a `cmappmgr` service command (the summary's
/// `Application timeout:`), `10` (the transcript's default) when absent.
fn appserver_timeout(cmd: &str) -> &str {
    let mut words = cmd.split_whitespace();
    while let Some(w) = words.next() {
        if w == "-cmappserver_timeout" {
            return words.next().unwrap_or("10");
        }
    }
    "10"
}

/// The package Appendix A's file depends on (`hpvm_slvm`) when guest `g` has a logical
/// volume of a volume group `host` holds shared (SLVM): the simulator's assumption of when
/// `cmdeployvpkg` writes the dependency block (the guide shows it, not the rule).
fn slvm_dependency(st: &HpvmState, g: usize, host: &str) -> Option<&'static str> {
    let node = &st.nodes[st.node(host)?];
    st.guests[g]
        .storage
        .iter()
        .filter(|s| s.kind == super::StorageKind::Lv)
        .filter_map(|s| s.device.strip_prefix("/dev/")?.split('/').next())
        .any(|vg| {
            node.vgs
                .get(vg)
                .is_some_and(|status| status.contains("shared"))
        })
        .then_some(SLVM_PACKAGE)
}

/// The SLVM package of Appendix A's dependency block.
const SLVM_PACKAGE: &str = "hpvm_slvm";

fn deploy(st: &mut HpvmState, w: &mut World, host: &str, vm: &str, d: &DeployArgs) -> Output {
    let mut out = String::from(INTRO);
    let Some(g) = st
        .guest(vm)
        .filter(|g| st.guests[*g].registered.iter().any(|h| h == host))
    else {
        return err_out(
            out,
            &format!("Virtual machine {vm} does not exist on this host ({host})."),
        );
    };
    out.push_str(&vm::details(st, g, host));
    if st.running_on(g) != Some(host) {
        return err_out(
            out,
            &format!(
                "The virtual machine {vm} must be running on this host ({host}) to be packaged."
            ),
        );
    }
    out.push_str("Modify the packaged Virtual Machine Summarized above? (y/n):y\n");
    out.push_str("Checking the virtual machine and cluster configuration\n");
    let nodes: Vec<String> = if d.nodes.is_empty() {
        st.nodes.iter().map(|n| n.name.clone()).collect()
    } else {
        d.nodes.clone()
    };
    for n in &nodes {
        if st.node(n).is_none() {
            return err_out(
                out,
                &format!("Node {n} is not a member of cluster {}.", st.cluster),
            );
        }
    }
    let mut appmons = Vec::new();
    for spec in &d.appmons {
        match parse_appmon(spec, vm) {
            Ok(s) => appmons.push(s),
            Err(e) => return err_out(out, &e),
        }
    }
    if !appmons.is_empty() {
        for a in &appmons {
            out.push_str("Configure an application monitor service? (y/n):y\n");
            out.push_str(&format!(
                "You have enter the following application monitor values:\nName: {}\nRun command: {}\nApplication timeout: {}\nService restart: {}\nService halt timeout: {}\n",
                a.name,
                a.cmd.split("-service ").nth(1).unwrap_or(""),
                appserver_timeout(&a.cmd),
                a.restart,
                a.halt_timeout
            ));
        }
        out.push_str("Enter an additional application monitor? (y/n):n\n");
        out.push_str(&format!(
            "Checking communications with the application monitor server on : {vm}\n"
        ));
        if !st.cmappserver_reachable(g) {
            return err_out(
                out,
                &format!("Unable to communicate with the application monitor server on {vm} (port 5315): Connection timed out (errno:238)."),
            );
        }
    }
    let path = format!("{CMCLUSTER}/{vm}/{vm}.conf");
    let existing = w
        .hosts
        .get(host)
        .and_then(|os| os.files.get(&path))
        .cloned();
    let text = match existing.filter(|_| d.merge) {
        Some(old) => {
            out.push_str(
                "Merging application monitor service with existing package configuration file\n",
            );
            let c = Conf::parse(&old).unwrap_or_default();
            let have: Vec<String> = c.services().into_iter().map(|s| s.name).collect();
            let mut text = old;
            if !text.ends_with('\n') {
                text.push('\n');
            }
            for a in &appmons {
                if have.contains(&a.name) {
                    return err_out(
                        out,
                        &format!(
                            "The package file {path} already has a service named {}.",
                            a.name
                        ),
                    );
                }
                text.push_str("\n#Guest Application Monitor\n");
                text.push_str(&conf::appmon_block(a));
            }
            text
        }
        None => conf::render_toolkit_with(
            vm,
            &nodes,
            &format!("{CMCLUSTER}/{vm}"),
            &appmons,
            slvm_dependency(st, g, host),
        ),
    };
    out.push_str("Review and/or modify the package configuration file (optional)? (y/n):n\n");
    out.push_str("Copy the package files to each cluster member? (y/n):y\n");
    let mut targets: Vec<String> = vec![host.to_string()];
    for n in &nodes {
        if !targets.contains(n) {
            targets.push(n.clone());
        }
    }
    distribute(w, &targets, vm, &text);
    out.push_str("Configure this virtual machine as a distributed guest? (y/n):y\n");
    for n in &targets {
        if !st.guests[g].registered.contains(n) {
            st.guests[g].registered.push(n.clone());
        }
    }
    out.push_str(
        "The virtual machine has been successfully configured as a Serviceguard package.\n",
    );
    out.push_str("Use cmcheckconf check the package configuration file (optional)? (y/n):n\n");
    out.push_str("Apply the package configuration file to the cluster (optional)? (y/n):n\n");
    out.push_str(&checklist(vm));
    ok(out)
}

fn maintenance(st: &mut HpvmState, w: &mut World, host: &str, vm: &str, on: bool) -> Output {
    let Some(p) = st.package(vm) else {
        return fail(1, format!("ERROR: Package {vm} does not exist.\n"));
    };
    if st.packages[p].kind != PackageKind::Toolkit {
        return fail(
            1,
            format!("ERROR: Package {vm} is not a Serviceguard Toolkit for Integrity Virtual Servers package.\n"),
        );
    }
    if !st.packages[p].maintenance_flag {
        return fail(
            1,
            format!("ERROR: Maintenance mode is not allowed for package {vm}: set tkit/vtn/vtn/MAINTENANCE_FLAG yes and apply the package configuration.\n"),
        );
    }
    let Some(dir) = st.packages[p].tkit_dir.clone() else {
        return fail(
            1,
            format!("ERROR: tkit/vtn/vtn/TKIT_DIR is not set for package {vm}.\n"),
        );
    };
    let file = format!("{}/{MAINTENANCE_FILE}", fs::normalize(&dir));
    let now = w.now_ms;
    let Some(os) = w.host_mut(host) else {
        return fail(1, "ERROR: no such host\n");
    };
    if !fs::is_dir(os, &dir) {
        return fail(
            1,
            format!("ERROR: TKIT_DIR {dir} does not exist on this node ({host}).\n"),
        );
    }
    let present = os.files.contains_key(&file);
    if on == present {
        return ok(format!(
            "Maintenance mode is already {} for package {vm}.\n",
            if on { "enabled" } else { "disabled" }
        ));
    }
    if on {
        os.files.insert(file.clone(), String::new());
        os.meta.insert(file, Meta::file(0o644, now));
    } else {
        os.files.remove(&file);
        os.meta.remove(&file);
    }
    let word = if on { "enabled" } else { "disabled" };
    let text = format!("Maintenance mode {word} for package {vm}");
    st.pkg_log(w, p, host, &text);
    // Out of maintenance on the node running the package, the guest monitor looks at the
    // guest again at its next interval (a guest left Off fails the package then).
    if !on && st.packages[p].up && st.packages[p].owner.as_deref() == Some(host) {
        let at = w.now_ms.saturating_add(MONITOR_INTERVAL_MS);
        st.schedule(
            at,
            Event::GuestMonitor {
                package: vm.to_string(),
            },
        );
    }
    ok(format!("{text}.\n"))
}

fn remove(st: &mut HpvmState, w: &mut World, vm: &str, io: &mut ProcessIo) -> Output {
    let mut out = format!("Do you wish to remove the package {vm}? (y/n):");
    let raw = io.read_stdin();
    let answer = String::from_utf8_lossy(&raw)
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    out.push_str(&format!("{answer}\n"));
    if answer != "y" && answer != "yes" {
        return Output::new(1, out, "ERROR: The package was not removed.\n");
    }
    let Some(p) = st.package(vm) else {
        return err_out(out, &format!("Package {vm} does not exist."));
    };
    if st.packages[p].up {
        return err_out(
            out,
            &format!("Package {vm} is running; halt it with cmhaltpkg {vm} before removing it."),
        );
    }
    let tkit = st.packages[p].tkit_dir.clone();
    let nodes: Vec<String> = st.nodes.iter().map(|n| n.name.clone()).collect();
    st.packages.remove(p);
    for n in nodes {
        if let Some(os) = w.host_mut(&n) {
            let f = format!("{CMCLUSTER}/{vm}/{vm}.conf");
            os.files.remove(&f);
            os.meta.remove(&f);
            if let Some(d) = &tkit {
                let m = format!("{}/{MAINTENANCE_FILE}", fs::normalize(d));
                os.files.remove(&m);
                os.meta.remove(&m);
            }
        }
    }
    out.push_str(&format!(
        "The package {vm} has been removed from the cluster configuration.\n"
    ));
    ok(out)
}

fn convert(
    st: &mut HpvmState,
    w: &mut World,
    host: &str,
    vm: &str,
    target: Option<&str>,
) -> Output {
    let mut out = String::from(INTRO);
    let Some(target) = target else {
        return fail(
            2,
            format!("cmdeployvpkg: -C needs the target host (-h host)\n{DEPLOY_USAGE}"),
        );
    };
    let Some(p) = st.package(vm) else {
        return err_out(
            out,
            &format!("Package {vm} does not exist; there is nothing to convert."),
        );
    };
    if st.packages[p].owner.as_deref() != Some(host) {
        return err_out(
            out,
            &format!("Package {vm} is not running on this node ({host})."),
        );
    }
    let Some(g) = st.guest(vm) else {
        return err_out(out, &format!("Virtual machine {vm} does not exist."));
    };
    out.push_str(&vm::details(st, g, host));
    if let Some(why) = vm::migration_refusal(st, g, host, target) {
        return err_out(out, why.trim_end());
    }
    let old_nodes = st.packages[p].nodes.clone();
    out.push_str(&format!(
        "Converting package {vm} online: migrating the virtual machine to {target}\n"
    ));
    st.packages[p].autorun = false;
    match vm::migrate_online(st, w, g, host, target) {
        Migrated::Done => {}
        Migrated::Failed(e) => {
            st.packages[p].autorun = true;
            out.push_str(&e);
            return err_out(
                out,
                "The online migration failed; the package was not converted.",
            );
        }
        Migrated::LandedWithError(e) => {
            out.push_str(&e);
            return err_out(out, &format!("The online migration reported an error; package {vm} was not converted and its switching is disabled."));
        }
    }
    out.push_str(&format!("Online migration of {vm} to {target} completed\n"));
    // cmdeleteconf of the old package: the guest keeps running, unmonitored.
    let prefix = format!("{vm}/");
    for guest in &mut st.guests {
        for pr in &mut guest.procs {
            if pr
                .monitored_by
                .as_deref()
                .is_some_and(|k| k.starts_with(&prefix))
            {
                pr.monitored_by = None;
            }
        }
    }
    st.packages.remove(p);
    out.push_str(&format!(
        "Deleted the configuration of package {vm} (cmdeleteconf)\n"
    ));
    let now = w.now_ms;
    let conf_path = format!("{CMCLUSTER}/{vm}/{vm}.conf");
    let backup_dir = format!("{CMCLUSTER}/{vm}/.backup");
    let mut all = old_nodes;
    for n in [host, target] {
        if !all.iter().any(|x| x == n) {
            all.push(n.to_string());
        }
    }
    for n in &all {
        if let Some(os) = w.host_mut(n) {
            if let Some(text) = os.files.remove(&conf_path) {
                let m = os
                    .meta
                    .remove(&conf_path)
                    .unwrap_or_else(|| Meta::file(0o644, now));
                fs::mkdirs(os, &backup_dir, 0o755, now);
                let dest = format!("{backup_dir}/{vm}.conf");
                os.files.insert(dest.clone(), text);
                os.meta.insert(dest, m);
            }
        }
    }
    out.push_str(&format!(
        "Moved the old package configuration file to {backup_dir}/\n"
    ));
    let nodes = vec![host.to_string(), target.to_string()];
    let text = conf::render_toolkit_with(
        vm,
        &nodes,
        &format!("{CMCLUSTER}/{vm}"),
        &[],
        slvm_dependency(st, g, host),
    );
    distribute(w, &nodes, vm, &text);
    for n in &nodes {
        if !st.guests[g].registered.contains(n) {
            st.guests[g].registered.push(n.clone());
        }
    }
    out.push_str("Copy the package files to each cluster member? (y/n):y\n");
    out.push_str("Configure this virtual machine as a distributed guest? (y/n):y\n");
    out.push_str(
        "The virtual machine has been successfully configured as a Serviceguard package.\n",
    );
    out.push_str("Use cmcheckconf check the package configuration file (optional)? (y/n):n\n");
    out.push_str("Apply the package configuration file to the cluster (optional)? (y/n):n\n");
    out.push_str(&checklist(vm));
    ok(out)
}

/// `cmmovevpkg [-v] -P VM -h HOST` (`-n NODE` is the same): disable package switching,
/// migrate the guest online, move the package's ownership with it, enable switching.
pub(crate) fn cmmovevpkg(st: &mut HpvmState, w: &mut World, host: &str, args: &[String]) -> Output {
    let usage = "usage: cmmovevpkg [-v] -P vm_name {-h host | -n node}\n";
    let mut verbose = false;
    let mut vm = None;
    let mut target = None;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-v" => verbose = true,
            "-P" => {
                vm = args.get(i + 1).cloned();
                i += 1;
            }
            "-h" | "-n" => {
                target = args.get(i + 1).cloned();
                i += 1;
            }
            other => return fail(2, format!("cmmovevpkg: unknown argument {other}\n{usage}")),
        }
        i += 1;
    }
    let (Some(vm), Some(target)) = (vm, target) else {
        return fail(2, format!("cmmovevpkg: -P and -h are required\n{usage}"));
    };
    let e = |m: String| fail(1, format!("ERROR (cmmovevpkg): {m}\n"));
    let Some(p) = st.package(&vm) else {
        return e(format!("Package {vm} does not exist."));
    };
    let Some(g) = st.guest(&vm) else {
        return e(format!("Virtual machine {vm} does not exist."));
    };
    if st.packages[p].owner.as_deref() != Some(host) {
        return e(format!(
            "Package {vm} is not running on this node ({host})."
        ));
    }
    if !st.packages[p].nodes.contains(&target) {
        return e(format!(
            "Node {target} is not configured to run package {vm}."
        ));
    }
    if !st.packages[p]
        .switching
        .get(&target)
        .copied()
        .unwrap_or(false)
    {
        return e(format!(
            "Node switching is disabled for package {vm} on node {target}."
        ));
    }
    if let Some(why) = vm::migration_refusal(st, g, host, &target) {
        return Output::new(
            1,
            "",
            format!("{why}ERROR (cmmovevpkg): The migration check failed; nothing was changed.\n"),
        );
    }
    let mut out = String::new();
    let say = |out: &mut String, s: &str| {
        if verbose {
            out.push_str(s);
            out.push('\n');
        }
    };
    say(
        &mut out,
        &format!("cmmovevpkg: Disabling package switching for package {vm}"),
    );
    st.packages[p].autorun = false;
    say(
        &mut out,
        &format!("cmmovevpkg: Migrating virtual machine {vm} online to host {target}"),
    );
    let result = vm::migrate_online(st, w, g, host, &target);
    let landed = !matches!(result, Migrated::Failed(_));
    if landed {
        st.packages[p].owner = Some(target.clone());
        st.pkg_log(
            w,
            p,
            &target,
            &format!("Package {vm} moved online from node {host}"),
        );
    }
    match result {
        Migrated::Failed(msg) => Output::new(
            1,
            out,
            format!("{msg}ERROR (cmmovevpkg): Unable to migrate {vm} to {target}; package switching is left disabled.\n"),
        ),
        Migrated::LandedWithError(msg) => Output::new(
            1,
            out,
            format!("{msg}ERROR (cmmovevpkg): hpvmmigrate reported an error for {vm}; package switching is left disabled. Check where the guest runs.\n"),
        ),
        Migrated::Done => {
            say(
                &mut out,
                &format!("hpvmmigrate: Online migration of guest '{vm}' to host '{target}' completed."),
            );
            if st.packages[p].kind == PackageKind::OldToolkit {
                // Old packages: the guest moved; the package must be restarted by hand.
                st.packages[p].owner = None;
                st.packages[p].up = false;
                for s in &mut st.packages[p].services {
                    s.up = false;
                }
                return Output::new(
                    1,
                    out,
                    format!("ERROR (cmmovevpkg): Unable to start package {vm}\n"),
                );
            }
            say(&mut out, &format!("cmmovevpkg: Enabling package switching for package {vm}"));
            st.packages[p].autorun = true;
            out.push_str(&format!(
                "cmmovevpkg: Package {vm} is running on node {target}\n"
            ));
            ok(out)
        }
    }
}
