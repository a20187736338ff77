//! `cmapplyconf` (the checks, the confirmation, then the package is recorded) and
//! `cmdeleteconf`.

use hascript_api::Output;

use super::check::{check, Checked};
use super::{fail, file_arg, no_package, ok};
use crate::hpvm::conf;
use crate::hpvm::{HpvmState, Package, Restart, Service};
use crate::posix::ProcessIo;
use crate::world::World;

/// Record a checked package file in the cluster (what `cmapplyconf` does after the checks).
pub(crate) fn apply(st: &mut HpvmState, w: &mut World, c: Checked) {
    let services: Vec<Service> = c
        .services
        .iter()
        .map(|s| Service {
            name: s.name.clone(),
            cmd: s.cmd.clone(),
            restart: conf::restart_of(&s.restart).unwrap_or(Restart::None),
            restarts: 0,
            up: false,
        })
        .collect();
    match st.package(&c.name) {
        None => {
            let switching = c.nodes.iter().map(|n| (n.clone(), true)).collect();
            st.packages.push(Package {
                name: c.name,
                kind: c.kind,
                nodes: c.nodes,
                up: false,
                owner: None,
                autorun: false,
                switching,
                services,
                failover_policy: c.failover_policy,
                failback_policy: c.failback_policy,
                log_file: c.log_file,
                tkit_dir: c.tkit_dir,
                maintenance_flag: c.maintenance_flag,
                legacy_control_script: None,
            });
        }
        Some(p) => {
            let old = st.packages[p].clone();
            let switching = c
                .nodes
                .iter()
                .map(|n| (n.clone(), old.switching.get(n).copied().unwrap_or(true)))
                .collect();
            let mut new_services = services;
            for s in &mut new_services {
                if let Some(o) = old
                    .services
                    .iter()
                    .find(|o| o.name == s.name && o.cmd == s.cmd)
                {
                    s.up = o.up;
                    s.restarts = o.restarts;
                }
            }
            {
                let pkg = &mut st.packages[p];
                pkg.kind = c.kind;
                pkg.nodes = c.nodes;
                pkg.switching = switching;
                pkg.failover_policy = c.failover_policy;
                pkg.failback_policy = c.failback_policy;
                pkg.log_file = c.log_file;
                pkg.tkit_dir = c.tkit_dir;
                pkg.maintenance_flag = c.maintenance_flag;
            }
            // Services that went away stop; new ones start when the package runs.
            let prefix = format!("{}/", old.name);
            let keep: Vec<String> = new_services
                .iter()
                .filter(|s| s.up)
                .map(|s| format!("{prefix}{}", s.name))
                .collect();
            for g in &mut st.guests {
                g.procs.retain(|pr| {
                    pr.monitored_by
                        .as_ref()
                        .is_none_or(|k| !k.starts_with(&prefix) || keep.contains(k))
                });
            }
            st.packages[p].services = new_services;
            if let Some(owner) = old.owner.clone() {
                for s in 0..st.packages[p].services.len() {
                    if !st.packages[p].services[s].up {
                        let (sname, cmd) = {
                            let sv = &mut st.packages[p].services[s];
                            sv.up = true;
                            (sv.name.clone(), sv.cmd.clone())
                        };
                        st.pkg_log(
                            w,
                            p,
                            &owner,
                            &format!("Starting service {sname} using \"{cmd}\""),
                        );
                        st.start_appmon(w, p, s);
                    }
                }
            }
        }
    }
}

/// `cmapplyconf -P FILE`: the checks, the confirmation (`y`/`n` read from standard input;
/// an empty answer takes the default, yes), then the package is recorded.
pub(crate) fn cmapplyconf(
    st: &mut HpvmState,
    w: &mut World,
    host: &str,
    args: &[String],
    io: &mut ProcessIo,
) -> Output {
    let file = match file_arg(args, "cmapplyconf") {
        Ok(f) => f,
        Err(o) => return o,
    };
    let mut out = String::from("Begin package verification...\n");
    let c = match check(st, w, host, &file) {
        Ok(c) => c,
        Err(errs) => {
            return Output::new(
                1,
                out,
                format!(
                    "{}\ncmapplyconf: Unable to apply the configuration\n",
                    errs.join("\n")
                ),
            )
        }
    };
    let running = st.package(&c.name).is_some_and(|p| st.packages[p].up);
    if running {
        out.push_str("One or more of the specified packages are running. Any error in the\nproposed configuration change could cause these packages to fail.\nEnsure configuration changes have been tested before applying them.\n");
    }
    let existed = st.package(&c.name).is_some();
    out.push_str(if existed {
        "Modify the package configuration ([y]/n)? "
    } else {
        "Adding the package configuration for package "
    });
    if !existed {
        out.push_str(&format!("{}.\n", c.name));
    }
    let answer_raw = io.read_stdin();
    let answer = String::from_utf8_lossy(&answer_raw);
    let answer = answer
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if existed {
        out.push_str(&format!("{answer}\n"));
        if !(answer.is_empty() || answer == "y" || answer == "yes") {
            return Output::new(
                1,
                out,
                "cmapplyconf: The package configuration was not modified.\n",
            );
        }
    }
    let name = c.name.clone();
    apply(st, w, c);
    HpvmState::syslog(
        w,
        host,
        "cmclconfd[2101]",
        &format!("Updated the configuration of package {name}"),
    );
    out.push_str("Completed the cluster update\n");
    ok(out)
}

/// `cmdeleteconf -f -p PKG`: removes a halted package from the cluster.
pub(crate) fn cmdeleteconf(
    st: &mut HpvmState,
    _w: &mut World,
    _host: &str,
    args: &[String],
) -> Output {
    let usage = "usage: cmdeleteconf [-f] [-p package_name]\n";
    let mut force = false;
    let mut name = None;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-f" => force = true,
            "-p" => {
                name = args.get(i + 1).cloned();
                i += 1;
            }
            _ => return fail(2, usage),
        }
        i += 1;
    }
    let Some(name) = name else {
        return fail(2, "cmdeleteconf: deleting the whole cluster is not emulated by the simulator; give -p package_name\n");
    };
    if !force {
        return fail(
            2,
            "cmdeleteconf: confirmation prompts are not emulated by the simulator; use -f\n",
        );
    }
    let Some(p) = st.package(&name) else {
        return no_package("cmdeleteconf", &name);
    };
    if st.packages[p].up {
        return fail(
            1,
            format!("cmdeleteconf: Package {name} is running; halt it (cmhaltpkg {name}) before deleting it.\n"),
        );
    }
    st.packages.remove(p);
    ok("Completed the cluster update\n")
}
