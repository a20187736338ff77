//! The four object families scripts see (`cluster`, `fence`, `hypervisor`, `package`) and
//! the [`Site`] that hands them out, plus the per-run [`Context`] drivers work in.
//!
//! Results are JSON-shaped [`Value`]s: drivers parse into typed values (enums for states)
//! and serialise what scripts see; the engine turns a `Value` into a Rhai map. Methods a
//! driver does not offer keep their default body, which fails with `Unsupported`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use serde_json::Value;

use crate::clock::{CancelToken, Clock};
use crate::command::{Command, Effect, Exec, Output};
use crate::error::{Error, ErrorKind, Result};
use crate::ui::Ui;

fn unsupported<T>(what: &str) -> Result<T> {
    Err(Error::new(
        ErrorKind::Unsupported,
        format!("{what} is not offered by this site's driver"),
    ))
}

/// Everything a driver needs during one run: the transport, the clock, the cancel token,
/// the operator's UI, and the record of whether anything has changed yet.
#[derive(Clone)]
pub struct Context {
    /// The transport to the site's hosts.
    pub exec: Arc<dyn Exec>,
    /// The clock every wait uses.
    pub clock: Arc<dyn Clock>,
    /// Fired by Ctrl-C.
    pub cancel: CancelToken,
    /// The operator.
    pub ui: Arc<dyn Ui>,
    changed: Arc<AtomicBool>,
}

impl Context {
    /// A context over the given parts.
    pub fn new(
        exec: Arc<dyn Exec>,
        clock: Arc<dyn Clock>,
        cancel: CancelToken,
        ui: Arc<dyn Ui>,
    ) -> Self {
        Context {
            exec,
            clock,
            cancel,
            ui,
            changed: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Send one command: checks cancellation first and records that the site may have
    /// changed before a changing command leaves.
    pub fn run(&self, cmd: &Command) -> Result<Output> {
        self.cancel.check()?;
        if cmd.effect == Effect::Change {
            self.changed.store(true, Ordering::SeqCst);
        }
        self.exec.exec(cmd)
    }

    /// Send one command and fail with a `Command` error (host, command, exit, stderr) when
    /// it exits non-zero.
    pub fn run_ok(&self, cmd: &Command) -> Result<Output> {
        let out = self.run(cmd)?;
        if out.success() {
            Ok(out)
        } else {
            let first = first_line(&out.stderr)
                .or_else(|| first_line(&out.stdout))
                .map(|l| cmd.redact(&l));
            let msg = match first {
                Some(l) => format!("{} failed on {}: {l}", program_name(cmd), cmd.host),
                None => format!(
                    "{} failed on {} with exit {}",
                    program_name(cmd),
                    cmd.host,
                    out.code()
                ),
            };
            Err(Error::new(ErrorKind::Command, msg)
                .on_host(&cmd.host)
                .with_command(cmd.display())
                .with_exit(out.code())
                .with_stderr(cmd.redact(&out.stderr)))
        }
    }

    /// Whether a state-changing command has been sent in this run.
    pub fn changed(&self) -> bool {
        self.changed.load(Ordering::SeqCst)
    }

    /// Sleep on the run's clock (cancellable).
    pub fn sleep(&self, d: Duration) -> Result<()> {
        self.clock.sleep(d, &self.cancel)
    }
}

fn first_line(s: &str) -> Option<String> {
    s.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
}

fn program_name(cmd: &Command) -> String {
    match &cmd.program {
        crate::command::Program::Argv(a) => a
            .first()
            .map(|p| p.rsplit('/').next().unwrap_or(p).to_string())
            .unwrap_or_default(),
        crate::command::Program::Shell(_) => "shell command".to_string(),
    }
}

/// A configured site: the driver's four objects over one inventory (or simulated site).
pub trait Site: Send + Sync {
    /// The driver's name (`ldoms`, `hpvm`).
    fn driver(&self) -> &'static str;
    /// A one-line description for banners ("simulated LDoms site (default)").
    fn describe(&self) -> String;
    /// Inventory host names, in inventory order (what `host(name)` accepts).
    fn hosts(&self) -> Vec<String>;
    /// The cluster object.
    fn cluster(&self) -> Arc<dyn Cluster>;
    /// The fencing object.
    fn fence(&self) -> Arc<dyn Fence>;
    /// The hypervisor object.
    fn hypervisor(&self) -> Arc<dyn Hypervisor>;
    /// The package object.
    fn package(&self) -> Arc<dyn Package>;
    /// The verified end-state summary of procedures.md Part C for `subject` (a guest or
    /// package), read back from the cluster.
    fn summary(&self, subject: &str) -> Result<Value>;
}

/// Cluster membership and settings.
pub trait Cluster: Send + Sync {
    /// Every node: `name` and `state` first (the same keys on every driver), then the
    /// product's own columns, e.g. `[#{name: "cfguest1", state: "UP", ...}]`.
    fn nodes(&self) -> Result<Value>;
    /// One node by name.
    fn node(&self, name: &str) -> Result<Value>;
    /// Wait (on the run's clock) until node `name` reads `state`; returns the node.
    fn wait_node_state(&self, name: &str, state: &str, timeout: Duration) -> Result<Value>;
    /// The cluster interconnect timeout in seconds.
    fn timeout(&self) -> Result<i64>;
    /// HA applications with their states.
    fn applications(&self) -> Result<Value>;
    /// Overall health verdict `#{ok, problems: [...]}`.
    fn health(&self) -> Result<Value>;
    /// Log lines matching `pattern` (a marker the driver knows, e.g. "7245", "WRP"), only
    /// lines written since the run started when `since_run`.
    fn messages(&self, pattern: &str, since_run: bool) -> Result<Value>;
    /// Vendor step: prepare the cluster for a guest's migration (PRIMECLUSTER A1).
    fn prepare_migration(&self, guest: &str) -> Result<Value> {
        let _ = guest;
        unsupported("cluster.prepare_migration")
    }
    /// Vendor step: restore the cluster after a guest's migration (PRIMECLUSTER A3 step 1).
    /// `target` is where the guest runs now; `None` lets the driver determine it.
    fn finish_migration(&self, guest: &str, target: Option<&str>) -> Result<Value> {
        let _ = (guest, target);
        unsupported("cluster.finish_migration")
    }
    /// Vendor check: time-synchronisation warnings since the run started (PRIMECLUSTER A4).
    fn time_sync(&self) -> Result<Value> {
        unsupported("cluster.time_sync")
    }
}

/// Fencing (PRIMECLUSTER shutdown facility).
pub trait Fence: Send + Sync {
    /// The fencing agents' states, one row each.
    fn agents(&self) -> Result<Value>;
    /// The fencing configuration, one row per node.
    fn config(&self) -> Result<Value>;
    /// A typed verdict with the manual's remedy.
    fn verify(&self) -> Result<Value>;
    /// Start fencing.
    fn start(&self) -> Result<Value>;
    /// Stop fencing.
    fn stop(&self) -> Result<Value>;
}

/// One hypervisor host as a destination for a guest ([`Hypervisor::placement`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Placement {
    /// The hypervisor host (its inventory name, what `migrate` accepts as the target).
    pub host: String,
    /// Whether the guest may be moved there by the placement rules.
    pub allowed: bool,
    /// The rule that decided, in words ("same box (box1) as guest1 of the same guest
    /// cluster", "not in the node_name list of slvm1 (node1, node2)", "is where it runs now").
    pub reason: String,
}

impl Placement {
    /// A host the guest may go to.
    pub fn allowed(host: &str, reason: impl Into<String>) -> Self {
        Placement {
            host: host.to_string(),
            allowed: true,
            reason: reason.into(),
        }
    }

    /// A host the guest must not go to.
    pub fn refused(host: &str, reason: impl Into<String>) -> Self {
        Placement {
            host: host.to_string(),
            allowed: false,
            reason: reason.into(),
        }
    }

    /// The rows as scripts see them: `[#{host, allowed, reason}]`.
    pub fn to_value(rows: &[Placement]) -> Value {
        Value::Array(
            rows.iter()
                .map(|r| {
                    serde_json::json!({"host": r.host, "allowed": r.allowed, "reason": r.reason})
                })
                .collect(),
        )
    }
}

/// Guests and the hosts that run them.
pub trait Hypervisor: Send + Sync {
    /// Every guest with where it runs and its state.
    fn guests(&self) -> Result<Value>;
    /// One guest.
    fn guest(&self, name: &str) -> Result<Value>;
    /// The hypervisor hosts (control domains, VM hosts).
    fn hosts(&self) -> Result<Value>;
    /// Start a guest (guard rails of procedures.md Part C apply).
    fn start(&self, guest: &str) -> Result<Value>;
    /// Stop a guest; refused on a live cluster node unless `force`.
    fn stop(&self, guest: &str, force: bool) -> Result<Value>;
    /// The whole vendor migration bracket: preflight, prepare, move, finish, state-aware
    /// recovery on failure.
    fn migrate(&self, guest: &str, target: &str) -> Result<Value>;
    /// Vendor step: read-only preflight of a migration (A0); fails with `Check`.
    fn preflight(&self, guest: &str, target: &str) -> Result<Value> {
        let _ = (guest, target);
        unsupported("hypervisor.preflight")
    }
    /// Vendor step: state-aware recovery of an aborted migration (A2).
    fn recover(&self, guest: &str) -> Result<Value> {
        let _ = guest;
        unsupported("hypervisor.recover")
    }
    /// Where `guest` may be live-migrated: one [`Placement`] per hypervisor host, in
    /// inventory order (`[#{host, allowed, reason}]`), by the placement rules of
    /// procedures.md Part C (never two nodes of one guest cluster on one box, a package only
    /// inside its node list, one guest per cluster in motion at a time). Read-only, from the
    /// facts the driver already reads; `migrate`'s full preflight still decides.
    fn placement(&self, guest: &str) -> Result<Value> {
        let _ = guest;
        unsupported("hypervisor.placement")
    }
    /// The group `guest` moves within: `#{guest, kind, members}` where `kind` is
    /// `"guest_cluster"`, `"package"` or `"none"`, and `members` every guest of the group
    /// (the guest itself included) — what "one guest per cluster at a time" counts.
    fn group(&self, guest: &str) -> Result<Value> {
        let _ = guest;
        unsupported("hypervisor.group")
    }
    /// Saved configurations of a host (LDoms spconfigs).
    fn configs(&self, host: &str) -> Result<Value> {
        let _ = host;
        unsupported("hypervisor.configs")
    }
    /// Remove a saved configuration (refuses protected ones).
    fn remove_config(&self, host: &str, name: &str) -> Result<Value> {
        let _ = (host, name);
        unsupported("hypervisor.remove_config")
    }
    /// Apply the saved-configuration rule on the given hosts, asking before removing.
    fn clean_configs(&self, hosts: &[String]) -> Result<Value> {
        let _ = hosts;
        unsupported("hypervisor.clean_configs")
    }
}

/// HA packages (Serviceguard packages, RMS userApplications).
pub trait Package: Send + Sync {
    /// Every package with its state.
    fn list(&self) -> Result<Value>;
    /// One package's status.
    fn status(&self, name: &str) -> Result<Value>;
    /// Start a package.
    fn run(&self, name: &str) -> Result<Value> {
        let _ = name;
        unsupported("package.run")
    }
    /// Start a package on a given node.
    fn run_on(&self, name: &str, node: &str) -> Result<Value> {
        let _ = (name, node);
        unsupported("package.run_on")
    }
    /// Halt a package.
    fn halt(&self, name: &str) -> Result<Value> {
        let _ = name;
        unsupported("package.halt")
    }
    /// Enable package switching (`node` = `None`) or node switching on `node`.
    fn enable(&self, name: &str, node: Option<&str>) -> Result<Value> {
        let _ = (name, node);
        unsupported("package.enable")
    }
    /// Disable package switching (`node` = `None`) or node switching on `node`.
    fn disable(&self, name: &str, node: Option<&str>) -> Result<Value> {
        let _ = (name, node);
        unsupported("package.disable")
    }
    /// Whether the package is in the toolkit's maintenance mode (not the product's own).
    fn in_maintenance(&self, name: &str) -> Result<bool> {
        let _ = name;
        unsupported("package.in_maintenance")
    }
    /// Enter (`on`) or leave the toolkit's maintenance mode; a no-op that says so when the
    /// package is already in the asked state.
    fn maintenance(&self, name: &str, on: bool) -> Result<Value> {
        let _ = (name, on);
        unsupported("package.maintenance")
    }
    /// The package configuration file's text and where it was read (`#{path, host, text}`).
    fn read_config(&self, name: &str) -> Result<Value> {
        let _ = name;
        unsupported("package.read_config")
    }
    /// Write the package configuration file (on `host`, or on every member when `None`).
    fn write_config(&self, name: &str, text: &str, host: Option<&str>) -> Result<Value> {
        let _ = (name, text, host);
        unsupported("package.write_config")
    }
    /// Make a new package configuration file from the product's template (B1 steps 1-2).
    fn make(&self, name: &str, host: Option<&str>) -> Result<Value> {
        let _ = (name, host);
        unsupported("package.make")
    }
    /// Copy the package directory to every member of its node list, not writable by group
    /// or others.
    fn distribute(&self, name: &str) -> Result<Value> {
        let _ = name;
        unsupported("package.distribute")
    }
    /// Verify the package configuration (`cmcheckconf -P`): a verdict, never a change.
    fn check(&self, name: &str) -> Result<Value> {
        let _ = name;
        unsupported("package.check")
    }
    /// Apply the package configuration (`cmapplyconf -P`).
    fn apply(&self, name: &str) -> Result<Value> {
        let _ = name;
        unsupported("package.apply")
    }
    /// The toolkit's easy deployment (`cmdeployvpkg`); `opts` is a map (`nodes`, `appmon`,
    /// `merge`).
    fn deploy(&self, name: &str, opts: &Value) -> Result<Value> {
        let _ = (name, opts);
        unsupported("package.deploy")
    }
    /// Convert an old-toolkit package (`opts`: `mode` offline|online, `target`, `nodes`).
    fn convert(&self, name: &str, opts: &Value) -> Result<Value> {
        let _ = (name, opts);
        unsupported("package.convert")
    }
    /// Remove the package from the cluster (it must be halted first).
    fn remove(&self, name: &str) -> Result<Value> {
        let _ = name;
        unsupported("package.remove")
    }
    /// Back up the package directory on every member; returns where.
    fn backup(&self, name: &str) -> Result<Value> {
        let _ = name;
        unsupported("package.backup")
    }
    /// The manual's troubleshooting table as verdicts with remedies.
    fn diagnose(&self, name: &str) -> Result<Value> {
        let _ = name;
        unsupported("package.diagnose")
    }
    /// Application-monitoring keys and configuration for guest `guest` (Serviceguard B4
    /// steps 1, 2 and 4): key stores made with `keytool` where missing (kept and reused
    /// otherwise, unless `opts.regenerate`), distributed, and the two configuration files
    /// written with mode 0600. `opts` carries the store passwords (secrets: never printed).
    fn appmon_keys(&self, guest: &str, opts: &Value) -> Result<Value> {
        let _ = (guest, opts);
        unsupported("package.appmon_keys")
    }
    /// Test an application monitor of package `name` (Serviceguard B4 step 6): kill the
    /// monitored application in the guest, watch the service's restart counter rise, and
    /// with `opts.expect = "failover"` keep killing until the package fails over.
    fn test_app_monitor(&self, name: &str, opts: &Value) -> Result<Value> {
        let _ = (name, opts);
        unsupported("package.test_app_monitor")
    }
}
