//! Scheduled events: things that happen later by themselves (a monitored application dying,
//! `cmappmgr` giving up, a guest crashing, the toolkit's guest monitor looking again),
//! applied in time order before each command.

use super::{Event, HpvmState, PackageKind, Proc, Scheduled, APP_DETECT_MS};
use crate::world::World;

impl HpvmState {
    /// Schedule `event` at `at_ms`.
    pub(crate) fn schedule(&mut self, at_ms: u64, event: Event) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.events.push(Scheduled { at_ms, seq, event });
    }

    /// Apply every event due by `until_ms`, in time order, and move the clock there.
    pub(crate) fn settle(&mut self, w: &mut World, until_ms: u64) {
        loop {
            let next = self
                .events
                .iter()
                .enumerate()
                .filter(|(_, e)| e.at_ms <= until_ms)
                .min_by_key(|(_, e)| (e.at_ms, e.seq))
                .map(|(i, _)| i);
            let Some(i) = next else { break };
            let ev = self.events.remove(i);
            if ev.at_ms > w.now_ms {
                w.now_ms = ev.at_ms;
            }
            self.apply(w, ev.event);
        }
        if until_ms > w.now_ms {
            w.now_ms = until_ms;
        }
    }

    /// Let `ms` pass inside a command (events due meanwhile happen).
    pub(crate) fn pass(&mut self, w: &mut World, ms: u64) {
        let until = w.now_ms.saturating_add(ms);
        self.settle(w, until);
    }

    fn apply(&mut self, w: &mut World, event: Event) {
        match event {
            Event::AppDies { guest, pid } => {
                let Some(g) = self.guest(&guest) else { return };
                let Some(i) = self.guests[g].procs.iter().position(|p| p.pid == pid) else {
                    return;
                };
                let proc = self.guests[g].procs.remove(i);
                self.app_gone(w, &proc);
            }
            Event::AppExited { package, service } => {
                self.service_failed(w, &package, &service, 1);
            }
            Event::CmappmgrTimeout { package, service } => {
                let Some(p) = self.package(&package) else {
                    return;
                };
                let Some(owner) = self.packages[p].owner.clone() else {
                    return;
                };
                let Some(s) = self.packages[p]
                    .services
                    .iter()
                    .position(|s| s.name == service && s.up)
                else {
                    return;
                };
                let guest = self.packages[p].services[s]
                    .appmon()
                    .map(|(n, _)| n)
                    .unwrap_or_default();
                self.cmappmgr_unreachable_lines(w, &owner, &guest);
                self.service_failed(w, &package, &service, 1);
            }
            Event::GuestCrash { guest } => {
                let Some(g) = self.guest(&guest) else { return };
                if !self.guests[g].running {
                    return;
                }
                let gone = std::mem::take(&mut self.guests[g].procs);
                self.guests[g].running = false;
                for proc in &gone {
                    self.app_gone(w, proc);
                }
                // A VM package is named after its guest.
                if let Some(p) = self.package(&guest) {
                    self.guest_monitor(w, p);
                }
            }
            Event::GuestMonitor { package } => {
                if let Some(p) = self.package(&package) {
                    self.guest_monitor(w, p);
                }
            }
        }
    }

    /// The toolkit's guest monitor of package `p` looks at its guest: when the package runs
    /// but its guest does not, outside toolkit maintenance on the owner, it logs the manual's
    /// `Service monitor detected a failure in guest <vm>.` and its service fails (restart
    /// `none`: Serviceguard fails the package over, or halts it when no node can take it).
    /// In maintenance it does nothing (B3: a VM failure does not fail the package over).
    pub(crate) fn guest_monitor(&mut self, w: &mut World, p: usize) {
        let pkg = &self.packages[p];
        let Some(owner) = pkg.owner.clone().filter(|_| pkg.up) else {
            return;
        };
        let name = pkg.name.clone();
        let Some(g) = self.guest(&name) else { return };
        if self.running_on(g) == Some(owner.as_str()) || self.in_maintenance(w, p, &owner) {
            return;
        }
        let monitor = match pkg.kind {
            PackageKind::Toolkit => pkg
                .services
                .iter()
                .find(|s| s.up && s.cmd.contains("guest_monitor")),
            PackageKind::OldToolkit => pkg
                .services
                .iter()
                .find(|s| s.up && s.cmd.contains("hpvmsg_mon")),
            PackageKind::Plain => None,
        };
        let Some(service) = monitor.map(|s| s.name.clone()) else {
            return;
        };
        if pkg.kind == PackageKind::Toolkit {
            self.pkg_log(
                w,
                p,
                &owner,
                &format!("Service monitor detected a failure in guest {name}."),
            );
        }
        self.service_failed(w, &name, &service, 1);
    }

    /// A monitored process of a guest is gone: its `cmappmgr` notices shortly after.
    pub(crate) fn app_gone(&mut self, w: &World, proc: &Proc) {
        if let Some(key) = &proc.monitored_by {
            if let Some((package, service)) = key.split_once('/') {
                self.schedule(
                    w.now_ms.saturating_add(APP_DETECT_MS),
                    Event::AppExited {
                        package: package.into(),
                        service: service.into(),
                    },
                );
            }
        }
    }
}
