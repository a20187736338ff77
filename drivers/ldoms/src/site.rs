//! The LDoms site: the four objects over a topology and a run context.

use std::sync::Arc;

use hascript_api::objects::{Context, Value};
use hascript_api::{Cluster, Error, ErrorKind, Fence, Hypervisor, Package, Result, Site};

use crate::facts::Inner;
use crate::objects::{LdomsCluster, LdomsFence, LdomsHypervisor, LdomsPackage};
use crate::topology::Topology;

/// An LDoms site for one run: cheap to clone, shared by the four objects.
#[derive(Clone)]
pub struct LdomsSite {
    inner: Arc<Inner>,
}

impl LdomsSite {
    /// A site over `topo`, sending commands through `ctx`. Sends nothing yet.
    pub fn new(ctx: Context, topo: Topology) -> Self {
        LdomsSite {
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
}

/// The procedure `hypervisor.migrate` and `hypervisor.preflight` run on this driver.
pub const MIGRATION_PROCEDURE: &str = "ldoms/live-migration";

impl Site for LdomsSite {
    fn driver(&self) -> &'static str {
        "ldoms"
    }
    fn describe(&self) -> String {
        self.inner.topo.description.clone()
    }
    fn hosts(&self) -> Vec<String> {
        let t = &self.inner.topo;
        t.control_domains
            .iter()
            .map(|c| c.name.clone())
            .chain(t.guests.iter().map(|g| g.name.clone()))
            .collect()
    }
    fn cluster(&self) -> Arc<dyn Cluster> {
        Arc::new(LdomsCluster(self.inner.clone()))
    }
    fn fence(&self) -> Arc<dyn Fence> {
        Arc::new(LdomsFence(self.inner.clone()))
    }
    fn hypervisor(&self) -> Arc<dyn Hypervisor> {
        Arc::new(LdomsHypervisor(self.inner.clone()))
    }
    fn package(&self) -> Arc<dyn Package> {
        Arc::new(LdomsPackage(self.inner.clone()))
    }
    fn summary(&self, subject: &str) -> Result<Value> {
        self.inner.summary(subject)
    }
    /// The LDoms routines, by description:
    ///
    /// - `#{driver: "ldoms", routine: "recover_migration", guest}` (registered by
    ///   `hypervisor.migrate` and by `cluster.prepare_migration`): the state-aware recovery
    ///   of the 17.3.1.1 note (A2) for that guest, as `hypervisor.recover(guest)`.
    /// - `#{driver: "ldoms", routine: "restore_fence", guests: [..]}` (registered by
    ///   `fence.stop()`): `sdtool -s` on each listed guest node (where SF ran when the call
    ///   began), `sdtool -b` where it is not running, read back.
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
                MIGRATION_PROCEDURE,
                &["guest", "target"],
                args,
            )),
            "recover" => Some(ProcedureCall::new(
                crate::steps::RECOVER_PROCEDURE,
                &["guest"],
                args,
            )),
            _ => None,
        }
    }
    fn routine_procedure(&self, routine: &Value) -> Option<Value> {
        if routine.get("procedure").is_some() {
            return None;
        }
        let guest = crate::steps::migration_routine_guest(routine)?;
        Some(hascript_api::objects::procedure_routine(
            crate::steps::RECOVER_PROCEDURE,
            &[("guest", guest)],
        ))
    }
    fn run_recovery(&self, routine: &Value) -> Result<Value> {
        let field = |k: &str| routine.get(k).and_then(Value::as_str);
        match (field("driver"), field("routine"), field("guest")) {
            (Some("ldoms"), Some(crate::objects::RESTORE_FENCE), None) => {
                let guests = routine
                    .get("guests")
                    .and_then(Value::as_array)
                    .and_then(|a| {
                        a.iter()
                            .map(|g| g.as_str().map(str::to_string))
                            .collect::<Option<Vec<_>>>()
                    })
                    .ok_or_else(|| {
                        Error::usage(format!(
                            "recovery routine {routine}: `guests` must be a list of guest node names"
                        ))
                    })?;
                for g in &guests {
                    hascript_api::validate_name("guest", g)?;
                }
                self.inner.restore_fence(&guests)
            }
            _ => Err(Error::new(
                ErrorKind::Unsupported,
                format!("the ldoms driver has no recovery routine {routine}"),
            )),
        }
    }
}
