//! The Serviceguard + Integrity VM site: the four objects over a topology and a run
//! context.

use std::sync::Arc;

use hascript_api::objects::{Context, Value};
use hascript_api::{Cluster, Error, ErrorKind, Fence, Hypervisor, Package, Result, Site};

use crate::commands as cmd;
use crate::facts::Inner;
use crate::objects::{HpvmCluster, HpvmFence, HpvmHypervisor, HpvmPackage};
use crate::topology::Topology;

/// A Serviceguard + Integrity VM site for one run: cheap to clone, shared by the four
/// objects.
#[derive(Clone)]
pub struct HpvmSite {
    inner: Arc<Inner>,
}

impl HpvmSite {
    /// A site over `topo`, sending commands through `ctx`. Sends nothing yet.
    pub fn new(ctx: Context, topo: Topology) -> Self {
        HpvmSite {
            inner: Arc::new(Inner::new(ctx, topo)),
        }
    }

    /// The static description.
    pub fn topology(&self) -> &Topology {
        &self.inner.topo
    }

    /// The run context.
    pub fn context(&self) -> &Context {
        &self.inner.ctx
    }

    /// Remember the current size of syslog and of the inventory guests' package logs on
    /// every VM host, so `cluster.messages(pattern, true)` reads only what this run wrote.
    /// Call it when the run starts (read-only: `wc -c`); idempotent.
    pub fn mark_logs(&self) -> Result<()> {
        let mut files = vec![cmd::SYSLOG.to_string()];
        for g in &self.inner.topo.guests {
            files.push(cmd::package_log(&g.vm)?);
        }
        self.inner.mark_logs(&files)
    }

    /// The package object with its Serviceguard-only extras ([`HpvmPackage::run_on`]).
    pub fn hpvm_package(&self) -> HpvmPackage {
        HpvmPackage(self.inner.clone())
    }
}

impl Site for HpvmSite {
    fn driver(&self) -> &'static str {
        "hpvm"
    }
    fn describe(&self) -> String {
        self.inner.topo.description.clone()
    }
    fn hosts(&self) -> Vec<String> {
        let t = &self.inner.topo;
        t.vm_hosts
            .iter()
            .map(|h| h.name.clone())
            .chain(t.guests.iter().map(|g| g.name.clone()))
            .collect()
    }
    fn cluster(&self) -> Arc<dyn Cluster> {
        Arc::new(HpvmCluster(self.inner.clone()))
    }
    fn fence(&self) -> Arc<dyn Fence> {
        Arc::new(HpvmFence(self.inner.clone()))
    }
    fn hypervisor(&self) -> Arc<dyn Hypervisor> {
        Arc::new(HpvmHypervisor(self.inner.clone()))
    }
    fn package(&self) -> Arc<dyn Package> {
        Arc::new(HpvmPackage(self.inner.clone()))
    }
    fn summary(&self, subject: &str) -> Result<Value> {
        self.inner.summary(subject)
    }
    /// The Serviceguard routines, by description:
    ///
    /// - `#{driver: "hpvm", routine: "recover_move", package}` (registered by
    ///   `hypervisor.migrate`): the state-aware recovery of B5 for that package, as
    ///   `hypervisor.recover(package)`.
    /// - `#{driver: "hpvm", routine: "restore_switching", package}` (registered by
    ///   `package.run`/`run_on` before `cmrunpkg`): where the guest runs and what
    ///   `cmviewcl -v -f line` says; `cmmodpkg -e` only when exactly one VM host runs it and
    ///   owns the package, nothing when the package is halted.
    fn run_recovery(&self, routine: &Value) -> Result<Value> {
        let field = |k: &str| routine.get(k).and_then(Value::as_str);
        match (field("driver"), field("routine"), field("package")) {
            (Some("hpvm"), Some(crate::procedure::migrate::RECOVER_MOVE), Some(vm)) => {
                self.inner.recover(vm)
            }
            (Some("hpvm"), Some(crate::procedure::package::RESTORE_SWITCHING), Some(vm)) => {
                self.inner.restore_switching(vm)
            }
            _ => Err(Error::new(
                ErrorKind::Unsupported,
                format!("the hpvm driver has no recovery routine {routine}"),
            )),
        }
    }
}
