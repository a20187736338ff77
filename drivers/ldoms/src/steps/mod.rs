//! The single steps of PRIMECLUSTER 4.5 §17.3.1 (procedures.md Part A) as operations, each
//! one manual action with its own guard rails: before migration (A1, 17.3.1.1), the move,
//! after migration (A3, 17.3.1.2 step 1), the shutdown facility's verification (step 2),
//! the time-sync check (A4) and the reads and waits of the recovery (A2). The sequence and
//! its decisions are the procedure scripts' (`scripts/ldoms/`); no function here calls two
//! manual steps in a row. The preflight's checks are in [`crate::checks`].
//!
//! One concern a file: the constants, remedies, name resolution and shared words here; A1 in
//! `prepare`, the move in `migrate`, A3 step 1 in `finish`, step 2 in `verify`, A4 in
//! `time_sync`, A2's reads and waits in `recovery_reads`, the migration's recovery routine
//! in `routine`.

mod finish;
mod migrate;
mod prepare;
mod recovery_reads;
mod routine;
mod time_sync;
mod verify;

pub use routine::{
    migration_routine_guest, recovery_routine, RECOVER_MIGRATION, RECOVER_PROCEDURE,
};

use std::time::Duration;

use hascript_api::{validate_name, Error, Result};

use crate::facts::Inner;
use crate::locate::Location;
use crate::parse::cftool_n::NodeState;
use crate::topology::{ControlDomain, GuestDomain};

/// CF timeout `clovmmigrate -p` sets (seconds).
pub const MIGRATION_CF_TIMEOUT: i64 = 600;

/// How long the guest's CF node takes to go DOWN after a stopped migration: "about
/// 600 s after clovmmigrate" (note under 17.3.1.1), counted from the start of the wait.
pub const DOWN_EXPECTED: Duration = Duration::from_secs(600);

/// Deadline for the guest's CF node to go DOWN after a stopped migration (the manual's
/// "about 600 s" plus margin).
pub const DOWN_DEADLINE: Duration = Duration::from_secs(900);

/// Deadline for a restarted guest's CF node to come UP.
pub const UP_DEADLINE: Duration = Duration::from_secs(900);

/// How long SF may take to detect wrong settings after `clovmmigrate -u` (17.3.1.2).
pub const SF_SETTLE: Duration = Duration::from_secs(30);

/// Deadline for `sdtool -s` rows to leave transitional states.
pub const SF_DEADLINE: Duration = Duration::from_secs(300);

/// Deadline for a migration that is still under way to end.
pub const MIGRATION_DEADLINE: Duration = Duration::from_secs(1800);

/// How long the `ldm migrate-domain` command may run before the transport gives up on it
/// (a large guest over a slow link takes long; the guest is located afterwards anyway).
pub const MIGRATE_COMMAND_TIMEOUT: Duration = Duration::from_secs(4 * 3600);

/// Poll interval of the waits.
pub const POLL: Duration = Duration::from_secs(10);

/// Remedy of message 7245 (17.3.1.2 step 2).
pub const REMEDY_7245: &str = "message 7245: the first SSH connection from the guest nodes to the XSCF has not been completed. From each guest node, connect once with ssh to the XSCF of the box that hosts each guest, on XSCF-LAN#0 and XSCF-LAN#1, as the shutdown facility's XSCF user, and accept the host key; then redo 17.3.1.2 from step 1 (hascript run ldoms/post-migration). Details: PRIMECLUSTER messages guide, message 7245. Manual (17.3.1.2): 「/var/adm/messagesファイルに7245番のメッセージが出力されている場合は、XSCFへのSSH初回接続が完了していません。“PRIMECLUSTER 活用ガイド<メッセージ集>”を参照してください。」";

/// Remedy of TestFailed/InitFailed without 7245 (17.3.1.2 step 2).
pub const REMEDY_REDO: &str = "the shutdown facility settings may not have been changed: redo 17.3.1.2 from step 1 (clovmmigrate -u; hascript run ldoms/post-migration). Manual (17.3.1.2): 「TestFailedまたはInitFailedが表示された場合は、シャットダウン機構の設定が変更されなかった可能性があります。」「それ以外の場合は、再度、手順1.から実施してください。」";

/// Remedy when the guest nodes' `clsnmpsetup -l` disagree (17.3.1.2 step 2 on each node).
pub const REMEDY_NODES_DISAGREE: &str = "the guest nodes' shutdown facility settings disagree: clovmmigrate -u changes them on every node, so one did not take the change; check that every guest node is a running cluster node (cftool -n), then redo 17.3.1.2 from step 1 (clovmmigrate -u; hascript run ldoms/post-migration)";

/// Remedy of the time-sync warnings (note after 17.3.1.2).
pub const REMEDY_TIME_SYNC: &str = "the cluster nodes' clocks are not synchronised: synchronise them (NTP); the messages stop once the clocks agree. No cluster action is needed. Manual (17.3.1.2 note): 「時刻が同期されれば、このメッセージは出力されなくなります。」";

/// A path given as a parameter: absolute, no control characters or quotes.
pub(crate) fn validate_path(what: &str, p: &str) -> Result<()> {
    let ok = p.starts_with('/')
        && p.len() < 1024
        && !p
            .chars()
            .any(|c| c.is_control() || c == '\'' || c == '"' || c == '`');
    if ok {
        Ok(())
    } else {
        Err(Error::usage(format!(
            "{what} {p:?} must be an absolute path on the source control domain"
        )))
    }
}

/// The `state` word of a location in operation results.
fn state_of(loc: &Location) -> &'static str {
    match loc {
        Location::Running { .. } => "running",
        Location::Stopped { .. } => "stopped",
        Location::Migrating { .. } => "migrating",
        Location::Missing => "missing",
        Location::Ambiguous { .. } => "ambiguous",
    }
}

/// The word `cftool -n` prints for a state.
pub(crate) fn state_word(s: &NodeState) -> &str {
    match s {
        NodeState::Up => "UP",
        NodeState::Down => "DOWN",
        NodeState::LeftCluster => "LEFTCLUSTER",
        NodeState::ComingUp => "COMINGUP",
        NodeState::Other(w) => w,
    }
}

impl Inner {
    /// Resolve a guest name from a script or parameter: validated, and known to the site.
    pub fn resolve_guest(&self, name: &str) -> Result<GuestDomain> {
        validate_name("guest", name)?;
        self.topo.guest(name).cloned().ok_or_else(|| {
            let known: Vec<&str> = self.topo.guests.iter().map(|g| g.domain.as_str()).collect();
            Error::usage(format!(
                "unknown guest {name:?}: the site's guest domains are {} (LDoms domain names, not CF node names)",
                known.join(", ")
            ))
        })
    }

    /// Resolve a control domain given as inventory name, `/etc/inet/hosts` name or address.
    pub fn resolve_cd(&self, what: &str, name: &str) -> Result<ControlDomain> {
        validate_name(what, name)?;
        self.topo.control_domain(name).cloned().ok_or_else(|| {
            let known: Vec<String> = self
                .topo
                .control_domains
                .iter()
                .map(|c| match &c.address {
                    Some(a) => format!("{} ({a})", c.name),
                    None => c.name.clone(),
                })
                .collect();
            Error::usage(format!(
                "unknown {what} {name:?}: the site's control domains are {}",
                known.join(", ")
            ))
        })
    }

    pub(crate) fn cd(&self, name: &str) -> Result<ControlDomain> {
        self.topo.control_domain(name).cloned().ok_or_else(|| {
            Error::needs_attention(format!("control domain {name} is not in the inventory"))
        })
    }
}
