//! Where a guest really is. An online migration whose controlling session was lost may
//! still have moved the guest, so "the command failed" never means "the guest did not
//! move": every decision of the bracket and of the recovery starts here, from
//! `hpvmstatus -P VM` on every VM host and `cmviewcl -v -f line`.

use hascript_api::{Error, Result};

use super::observed::{Observed, PackageObs, PackageRun, Presence};
use super::PackageKind;
use crate::facts::{is_cancel, Inner};
use crate::parse::cmviewcl_line::{PackageState, PackageView, Status};
use crate::parse::hpvmstatus::{GuestState, VmDetails};

/// The presence of a guest from its `hpvmstatus -P` state.
pub(crate) fn presence_of(state: &GuestState) -> Presence {
    match state {
        GuestState::OnOs | GuestState::OnEfi => Presence::On,
        GuestState::Off => Presence::Off,
        GuestState::NotRunnable => Presence::NotRunnable,
        GuestState::Other(w) => Presence::Transitional(w.clone()),
    }
}

/// What the recovery needs of a package in `cmviewcl`.
pub(crate) fn package_obs(p: &PackageView) -> PackageObs {
    let run = match (p.status(), p.state()) {
        (Status::Up, PackageState::Running) => PackageRun::Up,
        (Status::Down, _) | (_, PackageState::Halted) => PackageRun::Down,
        (Status::Starting | Status::Halting, _)
        | (_, PackageState::Starting | PackageState::Halting | PackageState::Failing) => {
            PackageRun::Moving
        }
        _ => PackageRun::Other,
    };
    PackageObs {
        run,
        words: format!("{}/{}", p.status, p.state),
        owner: p.owner.clone().filter(|o| !o.is_empty()),
        autorun: p.autorun().is_enabled(),
        old_toolkit: false,
        switching_on: p
            .nodes
            .iter()
            .filter(|n| n.switching().is_enabled())
            .map(|n| n.name.clone())
            .collect(),
    }
}

/// One VM host's view of a guest.
pub(crate) struct HostGuest {
    /// VM host.
    pub host: String,
    /// What it says.
    pub presence: Presence,
    /// The details when the guest is registered there.
    pub details: Option<VmDetails>,
}

impl Inner {
    /// `hpvmstatus -P VM` on every VM host; a host that cannot be asked is `Unreadable`
    /// (never skipped: a guest is never placed by guesswork).
    pub(crate) fn guest_on_hosts(&self, vm: &str) -> Result<Vec<HostGuest>> {
        let mut out = Vec::new();
        for h in &self.topo.vm_hosts {
            let (presence, details) = match self.details(&h.name, vm) {
                Ok(Some(d)) => (presence_of(&d.vm.state()), Some(d)),
                Ok(None) => (Presence::Absent, None),
                Err(e) if is_cancel(&e) => return Err(e),
                Err(e) if e.kind == hascript_api::ErrorKind::Usage => return Err(e),
                Err(e) => (Presence::Unreadable(e.message.clone()), None),
            };
            out.push(HostGuest {
                host: h.name.clone(),
                presence,
                details,
            });
        }
        Ok(out)
    }

    /// The VM hosts where the guest runs (`On`), in inventory order.
    pub(crate) fn running_on(&self, vm: &str) -> Result<Vec<String>> {
        Ok(self
            .guest_on_hosts(vm)?
            .into_iter()
            .filter(|g| g.presence == Presence::On)
            .map(|g| g.host)
            .collect())
    }

    /// Everything the recovery decision needs. `cmviewcl` that no host answers is an error
    /// (the caller turns it into "needs attention").
    pub(crate) fn observe(
        &self,
        vm: &str,
        source: Option<&str>,
        target: Option<&str>,
    ) -> Result<Observed> {
        let hosts = self
            .guest_on_hosts(vm)?
            .into_iter()
            .map(|g| (g.host, g.presence))
            .collect();
        let view = self.view().map_err(|e| {
            if is_cancel(&e) {
                e
            } else {
                Error::new(
                    e.kind,
                    format!(
                        "cannot read the package's state (cmviewcl -v -f line): {}",
                        e.message
                    ),
                )
            }
        })?;
        let mut package = view.package(vm).map(package_obs);
        // A halted package: whether it is an old-toolkit one decides the guide's recovery
        // after cmmovevpkg. A file that cannot be read leaves it a case for a person.
        if let (Some(obs), Some(p)) = (&mut package, view.package(vm)) {
            if obs.run == PackageRun::Down {
                match self.read_conf(&view, p) {
                    Ok(c) => obs.old_toolkit = c.kind == PackageKind::OldToolkit,
                    Err(e) if is_cancel(&e) => return Err(e),
                    Err(_) => {}
                }
            }
        }
        Ok(Observed {
            vm: vm.to_string(),
            source: source.map(str::to_string),
            target: target.map(str::to_string),
            hosts,
            package,
        })
    }
}

/// One line for messages: where the guest is on each host.
pub(crate) fn describe_hosts(vm: &str, hosts: &[(String, Presence)]) -> String {
    let parts: Vec<String> = hosts
        .iter()
        .map(|(h, p)| {
            let w = match p {
                Presence::On => "running".to_string(),
                Presence::Off => "stopped".to_string(),
                Presence::NotRunnable => "not runnable".to_string(),
                Presence::Absent => "not registered".to_string(),
                Presence::Transitional(w) => w.clone(),
                Presence::Unreadable(why) => format!("unreadable ({why})"),
            };
            format!("{h}: {w}")
        })
        .collect();
    format!("{vm} — {}", parts.join(", "))
}
