//! What B5's recovery looks at: `hpvmstatus -P VM` on every VM host and the package in
//! `cmviewcl -v -f line` ([`Observed`]). The decision itself is the script's (`decide` in
//! `scripts/lib/hpvm/move.rhai`); the rule no script can change — switching enabled only
//! when exactly one host runs the guest and owns the package — is the interlock of
//! [`crate::facts::Inner::enable_switching_checked`].

use serde::Serialize;

/// What one VM host's `hpvmstatus -P VM` says of the guest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "presence", content = "detail", rename_all = "snake_case")]
pub enum Presence {
    /// `On (OS)`, `On (EFI)`, …: the guest runs here.
    On,
    /// `Off`: registered here, stopped, runnable.
    Off,
    /// `Off (NR)`: registered here, not runnable (the source copy of a migrated guest, or a
    /// distributed guest's copy on a host that does not run it).
    NotRunnable,
    /// Not registered on this host (`Unable to find the guest`).
    Absent,
    /// A state in between (a migration or a boot under way), as printed.
    Transitional(String),
    /// The host could not be asked or its answer not read (the reason).
    Unreadable(String),
}

/// Package status as far as the recovery needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PackageRun {
    /// `status=up`, `state=running`.
    Up,
    /// `status=down` / halted.
    Down,
    /// Starting, halting, failing: Serviceguard is in the middle of something.
    Moving,
    /// Anything else (unknown, Serviceguard's own maintenance).
    Other,
}

/// What `cmviewcl -v -f line` says of the package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageObs {
    /// Up, down or moving.
    pub run: PackageRun,
    /// The status and state words as printed, for messages.
    pub words: String,
    /// The node that runs the package, if any.
    pub owner: Option<String>,
    /// Package switching (`autorun=enabled`).
    pub autorun: bool,
    /// The package was made by the old Integrity VM toolkit (`hpvmsg_package`): `cmmovevpkg`
    /// migrates its guest but cannot start it on the target (the guide's "ERROR
    /// (cmmovevpkg): Unable to start package"). Only read when the package is down.
    pub old_toolkit: bool,
    /// Node switching is enabled for the package on these members.
    pub switching_on: Vec<String>,
}

/// Everything the decision looks at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Observed {
    /// The VM (= package) name.
    pub vm: String,
    /// Where the migration started, when known (inside the bracket).
    pub source: Option<String>,
    /// Where it was going, when known.
    pub target: Option<String>,
    /// Each VM host of the inventory, in order, with what it says of the guest.
    pub hosts: Vec<(String, Presence)>,
    /// The package in `cmviewcl`; `None` when it is not listed.
    pub package: Option<PackageObs>,
}
