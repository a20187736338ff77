//! The migration's recovery routine: registered before 17.3.1.1 turns fencing off, settled
//! once it is back, and how long the cluster has been without it.

use std::time::Duration;

use hascript_api::objects::RecoveryGuard;
use hascript_api::Result;
use serde_json::Value;

use crate::facts::Inner;
use crate::topology::GuestDomain;

/// The description of the bracket's recovery routine for `guest`: the procedure
/// `ldoms/recover-migration` with `guest`, which the run (or `hascript unwind`) executes.
pub fn recovery_routine(guest: &GuestDomain) -> Value {
    hascript_api::objects::procedure_routine(RECOVER_PROCEDURE, &[("guest", &guest.domain)])
}

/// The procedure that recovers a migration (17.3.1.1 note).
pub const RECOVER_PROCEDURE: &str = "ldoms/recover-migration";

/// The name of the A2 routine in descriptions written before the procedures were scripts
/// (`{driver: "ldoms", routine: "recover_migration", guest}`).
pub const RECOVER_MIGRATION: &str = "recover_migration";

/// The guest a migration routine description (either form) recovers.
pub fn migration_routine_guest(routine: &Value) -> Option<&str> {
    if routine.get("procedure").and_then(Value::as_str) == Some(RECOVER_PROCEDURE) {
        return routine.get("params")?.get("guest")?.as_str();
    }
    if routine.get("driver").and_then(Value::as_str) == Some("ldoms")
        && routine.get("routine").and_then(Value::as_str) == Some(RECOVER_MIGRATION)
    {
        return routine.get("guest")?.as_str();
    }
    None
}

impl Inner {
    /// Register the bracket's recovery routine (`ldoms/recover-migration -p guest=…`) before
    /// the first change that leaves fencing off.
    pub(super) fn register_recovery(&self, guest: &GuestDomain) -> Result<RecoveryGuard> {
        self.ctx.register_recovery(
            &format!(
                "recover the migration of {} (17.3.1.1 note: find the guest, then 17.3.1.2 where it is); until it completes, the CF timeout is 600 s and the shutdown facility is stopped on every node (fencing is off)",
                guest.domain
            ),
            recovery_routine(guest),
        )
    }

    /// Whether a routine recovering `guest`'s migration is pending (this run's or one
    /// inherited from the run it resumes).
    pub(super) fn migration_routine_pending(&self, guest: &GuestDomain) -> bool {
        !self.migration_routines(guest).is_empty()
    }

    /// The pending routines that recover `guest`'s migration, in either description form.
    pub(super) fn migration_routines(&self, guest: &GuestDomain) -> Vec<u64> {
        self.ctx
            .recoveries
            .pending()
            .into_iter()
            .filter(|e| {
                e.routine
                    .as_ref()
                    .and_then(migration_routine_guest)
                    .is_some_and(|g| g == guest.domain)
            })
            .map(|e| e.id)
            .collect()
    }

    /// When 17.3.1.1 turned fencing off for `guest`: in this run, else as the newest
    /// earlier run on this site recorded it (`prepared_at` of its `prepare_migration`
    /// result), if that is not in this run's future (another clock).
    pub(crate) fn fencing_off_since(&self, guest: &GuestDomain) -> Option<u64> {
        if let Some(t) = self.prepared_at() {
            return Some(t);
        }
        let v = self.ctx.history.step_value(&|v: &Value| {
            v.get("guest").and_then(Value::as_str) == Some(guest.domain.as_str())
                && v.get("prepared_at").and_then(Value::as_u64).is_some()
        })?;
        v.get("prepared_at")
            .and_then(Value::as_u64)
            .filter(|t| *t <= self.now())
    }

    /// Show how long the cluster has run without fencing (since `clovmmigrate -p` in this
    /// run).
    pub(super) fn exposure(&self) {
        if let Some(t) = self.prepared_at() {
            self.ctx.ui.exposure(
                "fencing off, CF timeout 600 s",
                Duration::from_secs(self.now().saturating_sub(t)),
            );
        }
    }
}
