//! The vendor actions of the SG IVS toolkit guide (procedures.md Part B): the online
//! migration's checks, move, observation and interlocked re-enable (B5, [`migrate`], whose
//! sequence and recovery decision are scripts), package management (B1–B3, [`package`]),
//! conversion of old packages (B3, [`convert`]) and the troubleshooting table (B6,
//! [`diagnose`]), guest application monitoring's keys and failure test (B4, [`appmon`]).
//! [`observed`] is what the recovery looks at and `locate` reads it (where a guest really
//! is); [`placement`] is where a guest may go
//! (procedures.md Part C), a pure function.

pub mod appmon;
pub mod appmon_upgrade;
pub mod cmappserver;
pub mod convert;
pub mod diagnose;
pub(crate) mod locate;
pub mod migrate;
pub mod observed;
pub mod package;
pub mod placement;

use hascript_api::{Error, ErrorKind, Result};
use serde::Serialize;

use crate::commands as cmd;
use crate::facts::{is_cancel, Inner};
use crate::parse::cmviewcl_line::{ClusterView, NodeState, PackageView, Status};
use crate::parse::legacy_control;
use crate::pkgconf::{PackageConf, PkgConfError};

/// The maintenance file's name inside `TKIT_DIR` (*assumed*, see the book's page).
pub const MAINTENANCE_FILE: &str = "vtn.debug";

/// What kind of VM package a package file says this is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PackageKind {
    /// A package of the SG IVS toolkit (module `tkit/vtn/vtn`).
    Toolkit,
    /// A package of the old Integrity VM toolkit (`hpvmsg_mon` guest monitor, or a legacy
    /// control script).
    OldToolkit,
    /// Neither: not a VM package hascript knows.
    Other,
    /// No package file at the expected path.
    Missing,
}

/// The package file as read from one host.
#[derive(Debug, Clone)]
pub(crate) struct ConfRead {
    /// Where it was read.
    pub host: String,
    /// Its path.
    pub path: String,
    /// Its text (`None`: missing).
    pub text: Option<String>,
    /// The document, when it is a modular file.
    pub doc: Option<PackageConf>,
    /// What kind of package it describes.
    pub kind: PackageKind,
}

impl ConfRead {
    /// `TKIT_DIR` of the file (the package directory when not set).
    pub fn tkit_dir(&self, vm: &str) -> String {
        self.doc
            .as_ref()
            .and_then(|d| d.get("tkit/vtn/vtn/TKIT_DIR").or_else(|| d.get("TKIT_DIR")))
            .map(str::to_string)
            .filter(|s| s.starts_with('/'))
            .unwrap_or_else(|| format!("{}/{vm}", cmd::CMCLUSTER_DIR))
    }

    /// The maintenance file's path.
    pub fn maintenance_file(&self, vm: &str) -> String {
        format!(
            "{}/{MAINTENANCE_FILE}",
            self.tkit_dir(vm).trim_end_matches('/')
        )
    }

    /// `MAINTENANCE_FLAG` (`yes` is the default).
    pub fn maintenance_flag(&self) -> bool {
        self.doc
            .as_ref()
            .and_then(|d| {
                d.get("tkit/vtn/vtn/MAINTENANCE_FLAG")
                    .or_else(|| d.get("MAINTENANCE_FLAG"))
            })
            .map(|v| v.trim().eq_ignore_ascii_case("yes"))
            .unwrap_or(true)
    }
}

/// What kind of package a package file's text describes.
pub fn package_kind(text: &str) -> (PackageKind, Option<PackageConf>) {
    match PackageConf::parse(text) {
        Ok(doc) => {
            let toolkit = doc
                .modules()
                .iter()
                .any(|(m, _)| m.starts_with(cmd::TKIT_MODULE))
                || doc
                    .entries()
                    .iter()
                    .any(|(k, v)| k.starts_with("tkit/vtn/vtn/") || v.contains("tkit/vtn/"));
            let old = doc.services().iter().any(|s| s.cmd.contains("hpvmsg_mon"));
            let kind = if toolkit && !old {
                PackageKind::Toolkit
            } else if old {
                PackageKind::OldToolkit
            } else {
                PackageKind::Other
            };
            (kind, Some(doc))
        }
        Err(PkgConfError::LegacyFormat { .. }) => (PackageKind::OldToolkit, None),
        Err(_) if legacy_control::looks_legacy(text) => (PackageKind::OldToolkit, None),
        Err(_) => (PackageKind::Other, None),
    }
}

/// The package's members (its `node_name` list as `cmviewcl` prints it), in order.
pub(crate) fn members(p: &PackageView) -> Vec<String> {
    p.nodes.iter().map(|n| n.name.clone()).collect()
}

/// Whether node `n` is up and running in the cluster.
pub(crate) fn node_up(view: &ClusterView, n: &str) -> bool {
    view.node(n)
        .is_some_and(|v| v.status() == Status::Up && v.state() == NodeState::Running)
}

impl Inner {
    /// The host to read a package's files on: its owner, else the first member that is up
    /// and in the inventory.
    pub(crate) fn config_host(&self, view: &ClusterView, p: &PackageView) -> Result<String> {
        if let Some(o) = p
            .owner
            .as_deref()
            .filter(|o| self.topo.vm_host(o).is_some())
        {
            return Ok(o.to_string());
        }
        members(p)
            .into_iter()
            .find(|m| self.topo.vm_host(m).is_some() && node_up(view, m))
            .ok_or_else(|| {
                Error::check(format!(
                    "package {} has no running member VM host in the inventory to read its files on (members: {})",
                    p.name,
                    members(p).join(", ")
                ))
            })
    }

    /// Read the package file `/etc/cmcluster/<vm>/<vm>.conf` on `host`.
    pub(crate) fn read_conf_on(&self, host: &str, vm: &str) -> Result<ConfRead> {
        let path = cmd::package_file(vm)?;
        let text = self.read_file(host, &path)?;
        let (kind, doc) = match &text {
            Some(t) => package_kind(t),
            None => (PackageKind::Missing, None),
        };
        Ok(ConfRead {
            host: host.to_string(),
            path,
            text,
            doc,
            kind,
        })
    }

    /// Read the package file on the owner (or first running member).
    pub(crate) fn read_conf(&self, view: &ClusterView, p: &PackageView) -> Result<ConfRead> {
        let host = self.config_host(view, p)?;
        self.read_conf_on(&host, &p.name)
    }

    /// Whether the toolkit's maintenance file is present on `host`.
    pub(crate) fn maintenance_on(&self, host: &str, conf: &ConfRead, vm: &str) -> Result<bool> {
        Ok(self.stat(host, &conf.maintenance_file(vm))?.is_some())
    }

    /// Whether the package is in toolkit maintenance (the maintenance file on its owner, or
    /// first running member) — with the file read.
    pub(crate) fn maintenance_state(
        &self,
        view: &ClusterView,
        p: &PackageView,
    ) -> Result<(bool, ConfRead)> {
        let conf = self.read_conf(view, p)?;
        let on = self.maintenance_on(&conf.host, &conf, &p.name)?;
        Ok((on, conf))
    }

    /// The maintenance file on every member of the package (its `node_name` list, in
    /// order), at the path `conf` gives: after a failover the file can be left on a former
    /// owner, where it silently turns monitoring off the next time the package runs there.
    /// A member that cannot be read (not in the inventory, unreachable) is its error's
    /// message; only a cancel ends the read.
    pub(crate) fn maintenance_members(
        &self,
        p: &PackageView,
        conf: &ConfRead,
    ) -> Result<Vec<(String, std::result::Result<bool, String>)>> {
        let mut out = Vec::new();
        for m in members(p) {
            let on = if self.topo.vm_host(&m).is_none() {
                Err(format!("{m} is not a VM host of the inventory"))
            } else {
                self.or_unknown(self.maintenance_on(&m, conf, &p.name))?
            };
            out.push((m, on));
        }
        Ok(out)
    }

    /// Interlock of the operations that bring a package onto `host` (`cmmovevpkg`): refused
    /// while the toolkit's maintenance file is there (its own package file's `TKIT_DIR`),
    /// because the package would run there unmonitored. Also refused when it cannot be
    /// read. Runs right before the change, whatever checks ran before it.
    pub(crate) fn refuse_maintenance_on(&self, host: &str, vm: &str) -> Result<()> {
        let conf = self.read_conf_on(host, vm)?;
        let file = conf.maintenance_file(vm);
        let on = self.maintenance_on(host, &conf, vm).map_err(|e| {
            if is_cancel(&e) {
                return e;
            }
            Error::check(format!(
                "cannot tell whether {file} exists on {host} ({}): {vm} is not brought there while that is unknown",
                e.message
            ))
        })?;
        if on {
            return Err(Error::check(format!(
                "{file} exists on {host}: package {vm} would run there in toolkit maintenance, its guest unmonitored (a guest failure would not fail it over)"
            ))
            .on_host(host)
            .with_remedy(format!(
                "leave maintenance mode on every member first (hpvm/maintenance -p package={vm} -p state=off), then retry"
            )));
        }
        Ok(())
    }

    /// Best effort for summaries: a fact, or its error's message.
    pub(crate) fn or_unknown<T>(&self, r: Result<T>) -> Result<std::result::Result<T, String>> {
        match r {
            Ok(v) => Ok(Ok(v)),
            Err(e) if is_cancel(&e) => Err(e),
            Err(e) => Ok(Err(e.message)),
        }
    }
}

/// Keep an error's kind when it is one of the final verdicts; anything else after a change
/// is "needs attention".
pub(crate) fn after_change(e: Error) -> Error {
    match e.kind {
        ErrorKind::Cancelled
        | ErrorKind::Check
        | ErrorKind::NeedsAttention
        | ErrorKind::Failed
        | ErrorKind::Declined
        | ErrorKind::Usage => e,
        _ => e.with_kind(ErrorKind::NeedsAttention),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toolkit_old_and_other_packages_are_told_apart() {
        let tk = "package_name slvm1\nmodule_name tkit/vtn/vtn\nmodule_version 1\ntkit/vtn/vtn/TKIT_DIR /etc/cmcluster/slvm1\n";
        assert_eq!(package_kind(tk).0, PackageKind::Toolkit);
        let old = "package_name vm2\nservice_name vm2\nservice_cmd \"/etc/cmcluster/vm2/hpvmsg_mon vm2\"\n";
        assert_eq!(package_kind(old).0, PackageKind::OldToolkit);
        let legacy = "PACKAGE_NAME=vm3\nSERVICE_NAME[1]=vm3\nSERVICE_CMD[1]=\"/etc/cmcluster/vm3/hpvmsg_mon vm3\"\n";
        assert_eq!(package_kind(legacy).0, PackageKind::OldToolkit);
        assert_eq!(package_kind("package_name db\n").0, PackageKind::Other);
    }

    #[test]
    fn maintenance_file_lives_in_tkit_dir() {
        let (kind, doc) = package_kind(
            "package_name slvm1\nmodule_name tkit/vtn/vtn\ntkit/vtn/vtn/TKIT_DIR /var/tkit/\ntkit/vtn/vtn/MAINTENANCE_FLAG no\n",
        );
        let c = ConfRead {
            host: "node1".into(),
            path: "/etc/cmcluster/slvm1/slvm1.conf".into(),
            text: None,
            doc,
            kind,
        };
        assert_eq!(c.maintenance_file("slvm1"), "/var/tkit/vtn.debug");
        assert!(!c.maintenance_flag());
        let none = ConfRead { doc: None, ..c };
        assert_eq!(
            none.maintenance_file("slvm1"),
            "/etc/cmcluster/slvm1/vtn.debug"
        );
        assert!(none.maintenance_flag());
    }
}
