//! The Serviceguard + Integrity VM site: the four objects over a topology and a run
//! context.

use std::sync::Arc;

use hascript_api::objects::{Context, Value};
use hascript_api::{Cluster, Error, ErrorKind, Fence, Hypervisor, Package, Result, Site};

use crate::commands as cmd;
use crate::facts::Inner;
use crate::objects::{HpvmCluster, HpvmFence, HpvmHypervisor, HpvmPackage};
use crate::topology::Topology;

/// The procedure `hypervisor.migrate` and `hypervisor.preflight` run on Serviceguard (B5).
pub const MOVE_PROCEDURE: &str = "hpvm/move-package";

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
    fn operation(&self, object: hascript_api::Object, name: &str, args: &[Value]) -> Result<Value> {
        crate::operations::call(&self.inner, object, name, args)
    }
    fn procedure(
        &self,
        generic: &str,
        args: &[&str],
    ) -> Option<hascript_api::objects::ProcedureCall> {
        use hascript_api::objects::ProcedureCall;
        match generic {
            "migrate" | "preflight" => Some(ProcedureCall::new(
                MOVE_PROCEDURE,
                &["package", "target"],
                args,
            )),
            "recover" => Some(ProcedureCall::new(
                crate::procedure::migrate::RECOVER_PROCEDURE,
                &["package"],
                args,
            )),
            _ => None,
        }
    }
    /// `{driver: "hpvm", routine: "recover_move", package}` of journals written before the
    /// move became a script is today's `hpvm/recover-move` procedure.
    fn routine_procedure(&self, routine: &Value) -> Option<Value> {
        if routine.get("procedure").is_some() {
            return None;
        }
        let vm = crate::procedure::migrate::move_routine_package(routine)?;
        Some(crate::procedure::migrate::recovery_routine(vm))
    }
    /// The Serviceguard routine in Rust, by description: `#{driver: "hpvm", routine:
    /// "restore_switching", package}` (registered by `package.run`/`run_on` before
    /// `cmrunpkg`): where the guest runs and what `cmviewcl -v -f line` says; `cmmodpkg -e`
    /// only when exactly one VM host runs it and owns the package, nothing when the
    /// package is halted. (The move's routine is the procedure `hpvm/recover-move`.)
    fn run_recovery(&self, routine: &Value) -> Result<Value> {
        let field = |k: &str| routine.get(k).and_then(Value::as_str);
        match (field("driver"), field("routine"), field("package")) {
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
