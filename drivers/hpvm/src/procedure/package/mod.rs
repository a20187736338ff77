//! Package management (B1–B3): status, start with switching, halt, package and node
//! switching, the toolkit's maintenance mode, the package file (read, write, make,
//! distribute, verify, apply), easy deployment, removal and backups. Every operation reads
//! the state first, skips what is already done and says so, and reads its effect back.
//!
//! One concern a file: the package's status and the reads every operation shares here;
//! run/halt/switching in `run_halt`, the toolkit's maintenance mode in `maintenance`, the
//! package file in `config`, easy deployment in `deploy`, volume groups and NFS entries in
//! `storage`, removal in `remove`, backups in `backup`.

mod backup;
mod config;
mod deploy;
mod maintenance;
mod remove;
mod run_halt;
mod storage;

pub use deploy::DeployOpts;
pub use run_halt::{restore_switching_routine, RESTORE_SWITCHING};

use std::time::Duration;

use hascript_api::{validate_name, Error, Result};
use serde_json::{json, Value};

use super::{members, node_up};
use crate::facts::Inner;
use crate::parse::cmviewcl_line::{ClusterView, PackageState, PackageView, Status};
use hascript_api::WaitEnd;

/// Deadline for a package to come up after `cmrunpkg` or go down after `cmhaltpkg`.
pub const PACKAGE_DEADLINE: Duration = Duration::from_secs(600);

/// Poll interval of package waits.
pub const PACKAGE_POLL: Duration = Duration::from_secs(5);

/// Mode of a package file written by hascript.
pub const PACKAGE_FILE_MODE: u32 = 0o644;

/// Seconds since the epoch as `YYYYMMDD-HHMMSS` (UTC), for backup folder names.
pub fn timestamp(secs: u64) -> String {
    let secs = secs as i64;
    let (y, m, d) = hascript_api::civil::from_days(secs.div_euclid(86_400));
    let (hh, mm, ss) = hascript_api::civil::time_of_day(secs);
    format!("{y:04}{m:02}{d:02}-{hh:02}{mm:02}{ss:02}")
}

/// The status of one package as scripts see it (without the maintenance file).
pub(crate) fn package_value(p: &PackageView) -> Value {
    let mut node_switching = serde_json::Map::new();
    for n in &p.nodes {
        node_switching.insert(n.name.clone(), Value::String(n.switching.clone()));
    }
    json!({
        "name": p.name,
        "type": p.pkg_type,
        "status": p.status,
        "state": p.state,
        "owner": p.owner,
        "autorun": p.autorun,
        "switching": p.autorun().is_enabled(),
        "node_switching": node_switching,
        "nodes": p.nodes.iter().map(|n| json!({
            "name": n.name, "status": n.status, "switching": n.switching, "type": n.node_type,
        })).collect::<Vec<_>>(),
        "services": p.services.iter().map(|s| json!({
            "name": s.name, "status": s.status, "restarts": s.restarts, "max_restarts": s.max_restarts,
        })).collect::<Vec<_>>(),
    })
}

fn running(p: &PackageView) -> bool {
    p.status() == Status::Up && p.state() == PackageState::Running
}

impl Inner {
    /// Every package with its state.
    pub fn list_packages(&self) -> Result<Value> {
        let view = self.view()?;
        Ok(Value::Array(
            view.packages.iter().map(package_value).collect(),
        ))
    }

    /// One package: `cmviewcl`'s view plus toolkit maintenance (maintenance file present?).
    pub fn package_status(&self, name: &str) -> Result<Value> {
        let (view, p) = self.resolve_package(name)?;
        let mut v = package_value(&p);
        let m = self.or_unknown(self.maintenance_state(&view, &p))?;
        if let Value::Object(o) = &mut v {
            match m {
                Ok((on, conf)) => {
                    o.insert("maintenance".into(), Value::Bool(on));
                    o.insert(
                        "maintenance_file".into(),
                        Value::String(conf.maintenance_file(&p.name)),
                    );
                    o.insert(
                        "toolkit".into(),
                        serde_json::to_value(&conf.kind).unwrap_or(Value::Null),
                    );
                }
                Err(why) => {
                    o.insert("maintenance".into(), Value::Null);
                    o.insert("maintenance_error".into(), Value::String(why));
                }
            }
        }
        Ok(v)
    }

    /// Poll `cmviewcl` until `pred` holds for the package, or the deadline.
    fn wait_package(
        &self,
        vm: &str,
        what: &str,
        pred: impl Fn(&PackageView) -> bool,
    ) -> Result<WaitEnd<Option<PackageView>>> {
        self.ctx.poll(
            what,
            PACKAGE_DEADLINE,
            PACKAGE_POLL,
            || {
                let view = self.view()?;
                let p = view.package(vm).cloned();
                Ok((p.as_ref().is_some_and(&pred), p))
            },
            |p| {
                p.as_ref()
                    .map(|p| format!("{} {}/{}", p.name, p.status, p.state))
                    .unwrap_or_else(|| format!("{vm} not listed"))
            },
        )
    }

    /// A member of the package named by a script.
    fn resolve_member(&self, p: &PackageView, node: &str) -> Result<String> {
        validate_name("node", node)?;
        if p.node(node).is_none() {
            return Err(Error::usage(format!(
                "{node} is not in the node_name list of package {} ({})",
                p.name,
                members(p).join(", ")
            )));
        }
        Ok(node.to_string())
    }

    /// The host to send cluster-wide commands from: the owner, else the first VM host
    /// that is up in the cluster.
    fn command_host(&self, view: &ClusterView, p: Option<&PackageView>) -> Result<String> {
        if let Some(o) = p
            .and_then(|p| p.owner.as_deref())
            .filter(|o| self.topo.vm_host(o).is_some() && node_up(view, o))
        {
            return Ok(o.to_string());
        }
        self.topo
            .vm_hosts
            .iter()
            .find(|h| node_up(view, &h.name))
            .map(|h| h.name.clone())
            .ok_or_else(|| Error::check("no VM host of the inventory is up in the cluster"))
    }
}

#[cfg(test)]
mod tests;
