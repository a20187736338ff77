//! Serviceguard's package life cycle: starting and halting a package (its guest, its
//! services, their monitored applications), a service failing and restarting, a package
//! failing over.

use super::{Event, HpvmState, NodeState, Proc};
use crate::world::World;

impl HpvmState {
    /// Start the application monitored by service `s` of package `p` in its guest, or
    /// schedule `cmappmgr`'s failure when `cmappserver` cannot be reached.
    pub(crate) fn start_appmon(&mut self, w: &mut World, p: usize, s: usize) {
        let Some((guest, app)) = self.packages[p].services[s].appmon() else {
            return;
        };
        let key = format!(
            "{}/{}",
            self.packages[p].name, self.packages[p].services[s].name
        );
        let Some(g) = self.guest(&guest) else {
            return;
        };
        if !self.cmappserver_reachable(g) {
            // cmappmgr's -cmappserver_timeout (default 240 s here) before it gives up.
            let timeout = appmon_timeout(&self.packages[p].services[s].cmd);
            let (package, service) = (
                self.packages[p].name.clone(),
                self.packages[p].services[s].name.clone(),
            );
            self.schedule(
                w.now_ms.saturating_add(timeout * 1000),
                Event::CmappmgrTimeout { package, service },
            );
            return;
        }
        let pid = self.alloc_pid();
        let cms = self.guests[g]
            .procs
            .iter()
            .find(|p| p.cmd.contains("cmappserver"))
            .map(|p| p.pid)
            .unwrap_or(1);
        self.guests[g].procs.push(Proc {
            pid,
            ppid: cms,
            user: "root".into(),
            cmd: app,
            started_ms: w.now_ms,
            monitored_by: Some(key),
        });
        if self.fault.app_failures > 0 {
            self.fault.app_failures -= 1;
            let life = self.fault.app_lifetime_s.max(1) * 1000;
            self.schedule(
                w.now_ms.saturating_add(life),
                Event::AppDies {
                    guest: guest.clone(),
                    pid,
                },
            );
        }
    }

    /// Remove the monitored applications of package `p` from its guests.
    fn stop_appmons(&mut self, p: usize) {
        let prefix = format!("{}/", self.packages[p].name);
        for g in &mut self.guests {
            g.procs.retain(|pr| {
                !pr.monitored_by
                    .as_deref()
                    .is_some_and(|k| k.starts_with(&prefix))
            });
        }
        let name = self.packages[p].name.clone();
        self.events.retain(|e| match &e.event {
            Event::AppExited { package, .. } | Event::CmappmgrTimeout { package, .. } => {
                *package != name
            }
            Event::AppDies { .. } | Event::GuestCrash { .. } => true,
            Event::GuestMonitor { package } => *package != name,
        });
    }

    /// Run package `p` on `node`: boot its guest there if it is not running, start the
    /// services. `Err` holds the reason it could not start (logged too).
    pub(crate) fn start_package(
        &mut self,
        w: &mut World,
        p: usize,
        node: &str,
    ) -> Result<(), String> {
        let name = self.packages[p].name.clone();
        self.pkg_log(
            w,
            p,
            node,
            &format!("Starting package at {}", crate::timefmt::syslog(w.now_ms)),
        );
        if let Some(g) = self.guest(&name) {
            if let Some(on) = self.running_on(g) {
                if on != node {
                    let on = on.to_string();
                    let msg = format!(
                        "ERROR: Virtual machine {name} is running on node {on}; it cannot be started on {node}."
                    );
                    self.pkg_log(w, p, node, &msg);
                    self.pkg_log(w, p, node, "Failed to start package.");
                    return Err(msg);
                }
                self.pkg_log(
                    w,
                    p,
                    node,
                    &format!("Virtual machine {name} is already running on this node"),
                );
            } else {
                if !self.guests[g].registered.iter().any(|h| h == node) {
                    let msg =
                        format!("ERROR: Virtual machine {name} is not registered on node {node}.");
                    self.pkg_log(w, p, node, &msg);
                    self.pkg_log(w, p, node, "Failed to start package.");
                    return Err(msg);
                }
                self.pkg_log(w, p, node, &format!("Starting virtual machine {name}"));
                self.boot_guest(w, g, node);
                self.pkg_log(w, p, node, &format!("Virtual machine {name} started"));
            }
        }
        let maint = self.in_maintenance(w, p, node);
        if maint {
            self.pkg_log(
                w,
                p,
                node,
                "WARNING: Maintenance mode is enabled for the package",
            );
            self.pkg_log(
                w,
                p,
                node,
                "Disable the maintenance mode to start service monitoring",
            );
        }
        {
            let pkg = &mut self.packages[p];
            pkg.up = true;
            pkg.owner = Some(node.to_string());
        }
        for s in 0..self.packages[p].services.len() {
            let (sname, cmd) = {
                let sv = &mut self.packages[p].services[s];
                sv.up = true;
                sv.restarts = 0;
                (sv.name.clone(), sv.cmd.clone())
            };
            self.pkg_log(
                w,
                p,
                node,
                &format!("Starting service {sname} using \"{cmd}\""),
            );
            self.start_appmon(w, p, s);
        }
        self.pkg_log(w, p, node, "Package start completed.");
        Self::syslog(
            w,
            node,
            "cmcld[2077]",
            &format!("Started package {name} on node {node}."),
        );
        Ok(())
    }

    /// Halt package `p`: stop its services and its guest. Package switching is disabled
    /// when `disable_switching` (a `cmhaltpkg`), as Serviceguard does.
    pub(crate) fn halt_package(&mut self, w: &mut World, p: usize, disable_switching: bool) {
        let Some(node) = self.packages[p].owner.clone() else {
            return;
        };
        let name = self.packages[p].name.clone();
        self.pkg_log(
            w,
            p,
            &node,
            &format!("Halting package at {}", crate::timefmt::syslog(w.now_ms)),
        );
        self.stop_appmons(p);
        for s in 0..self.packages[p].services.len() {
            let sname = self.packages[p].services[s].name.clone();
            self.packages[p].services[s].up = false;
            self.pkg_log(w, p, &node, &format!("Halting service {sname}"));
        }
        if let Some(g) = self.guest(&name) {
            if self.running_on(g) == Some(node.as_str()) {
                self.pkg_log(w, p, &node, &format!("Stopping virtual machine {name}"));
                self.stop_guest(w, g);
                self.pkg_log(w, p, &node, &format!("Virtual machine {name} stopped"));
            }
        }
        let pkg = &mut self.packages[p];
        pkg.up = false;
        pkg.owner = None;
        if disable_switching {
            pkg.autorun = false;
        }
        self.pkg_log(w, p, &node, "Package halt completed.");
        Self::syslog(
            w,
            &node,
            "cmcld[2077]",
            &format!("Halted package {name} on node {node}."),
        );
    }

    /// Service `service` of package `package` exited with `code`: restart it within its
    /// limit, else fail the package over.
    pub(crate) fn service_failed(
        &mut self,
        w: &mut World,
        package: &str,
        service: &str,
        code: i32,
    ) {
        let Some(p) = self.package(package) else {
            return;
        };
        let Some(node) = self.packages[p].owner.clone() else {
            return;
        };
        let Some(s) = self.packages[p]
            .services
            .iter()
            .position(|s| s.name == service && s.up)
        else {
            return;
        };
        self.pkg_log(
            w,
            p,
            &node,
            &format!("Service {service} exited with status {code}"),
        );
        let sv = &self.packages[p].services[s];
        if sv.restart.allows(sv.restarts) {
            let n = sv.restarts + 1;
            self.packages[p].services[s].restarts = n;
            self.pkg_log(
                w,
                p,
                &node,
                &format!("Service {service} restarting (restart count {n})"),
            );
            self.start_appmon(w, p, s);
            return;
        }
        self.pkg_log(
            w,
            p,
            &node,
            &format!("Service {service} failed; no restarts left. Failing the package."),
        );
        self.fail_over(w, p);
    }

    /// Package `p` failed on its node: halt it there, disable that node's switching, and
    /// start it on the next node allowed to run it (when package switching is enabled).
    pub(crate) fn fail_over(&mut self, w: &mut World, p: usize) {
        let Some(from) = self.packages[p].owner.clone() else {
            return;
        };
        self.halt_package(w, p, false);
        self.packages[p].switching.insert(from.clone(), false);
        let name = self.packages[p].name.clone();
        if !self.packages[p].autorun {
            return;
        }
        let next = self.packages[p]
            .nodes
            .iter()
            .find(|n| {
                **n != from
                    && self.packages[p].switching.get(*n).copied().unwrap_or(false)
                    && self
                        .node(n)
                        .is_some_and(|i| self.nodes[i].state == NodeState::Running)
            })
            .cloned();
        match next {
            Some(to) => {
                Self::syslog(
                    w,
                    &to,
                    "cmcld[2077]",
                    &format!("Package {name} failed on node {from}; starting it on node {to}."),
                );
                if self.start_package(w, p, &to).is_err() {
                    self.packages[p].up = false;
                    self.packages[p].owner = None;
                }
            }
            None => {
                Self::syslog(
                    w,
                    &from,
                    "cmcld[2077]",
                    &format!("Package {name} failed on node {from}; no other node can run it."),
                );
            }
        }
    }
}

/// `-cmappserver_timeout N` of a `cmappmgr` command (240 s when absent).
fn appmon_timeout(cmd: &str) -> u64 {
    let words: Vec<&str> = cmd.split_whitespace().collect();
    words
        .windows(2)
        .find(|w| w[0] == "-cmappserver_timeout")
        .and_then(|w| w[1].parse().ok())
        .unwrap_or(240)
}
