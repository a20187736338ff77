//! Building the site a run works on: a simulated site (`--sim [SCENARIO]`,
//! `--sim-state DIR`) or a real one from an inventory (`-i FILE`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hascript_api::objects::Context;
use hascript_api::{CancelToken, Clock, Exec, Site, SystemClock, Ui};
use hascript_hpvm::HpvmSite;
use hascript_ldoms::LdomsSite;

use crate::backend::{self, SimSite};
use crate::inventory::{self, quoted};
use crate::transport;

/// Which site to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SiteSpec {
    /// The simulator: a scenario (or a driver's default site), in memory or in a folder.
    Sim {
        /// Scenario or site name (`ldoms`, `ldoms/<scenario>`); `None` = the default site
        /// of `default_driver`.
        scenario: Option<String>,
        /// The driver whose default site `--sim` alone means.
        default_driver: String,
        /// `--sim-state DIR`.
        state: Option<PathBuf>,
    },
    /// A real site from an inventory file.
    Inventory(PathBuf),
}

/// A built site with everything a run needs.
pub struct BuiltSite {
    /// The site.
    pub site: Arc<dyn Site>,
    /// The run context (transport, clock, cancel token, UI).
    pub ctx: Context,
    /// The simulator behind it, when simulated.
    pub sim: Option<SimSite>,
    /// For banners: "simulated LDoms site (default)", the inventory's description …
    pub description: String,
    /// The values of the inventory's secrets (SSH passwords, passphrases, sudo
    /// passwords; [`transport::Router::secret_values`]), for the run's redactor. Never
    /// print them.
    pub secrets: Vec<String>,
    /// Every host of the site, in inventory order.
    pub hosts: Vec<String>,
    /// The lock of hosts whose lock is not `/var/tmp/hascript.lock` (`transport = "local"`
    /// with `lock_dir` or `HASCRIPT_LOCK_DIR`; see [`crate::lock::lock_dirs`]).
    pub lock_dirs: std::collections::BTreeMap<String, PathBuf>,
}

/// A usage problem building the site (exit 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteError(pub String);

impl std::fmt::Display for SiteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SiteError {}

fn scenario_list() -> String {
    scenario_names().join(", ")
}

/// Resolve what `--sim [NAME]` asks for to a scenario argument for the simulator.
fn sim_scenario(scenario: Option<&str>, default_driver: &str) -> Result<Option<String>, SiteError> {
    let name = scenario.unwrap_or(default_driver);
    if name == "ldoms" {
        return Ok(None);
    }
    let known =
        backend::scenarios().iter().any(|s| s.name == name) || backend::driver_of(name).is_some();
    if !known {
        return Err(SiteError(format!(
            "unknown scenario {}{}; the scenarios are: {}",
            quoted(name),
            crate::scripts::did_you_mean(name, &scenario_names()),
            scenario_list()
        )));
    }
    Ok(Some(name.to_string()))
}

fn sim_error(e: backend::SimError, name: Option<&str>) -> SiteError {
    let mut msg = inventory::clip_quoted(&e.to_string());
    if let Some(n) = name {
        if !backend::scenarios().iter().any(|s| s.name == n) {
            // One list, ours (the simulator's own message lists them too).
            let close = crate::scripts::did_you_mean(n, &scenario_names());
            msg = format!(
                "unknown scenario {}{close}; the scenarios are: {}",
                quoted(n),
                scenario_list()
            );
        }
    }
    SiteError(msg)
}

/// The names `--sim` accepts, for "did you mean".
fn scenario_names() -> Vec<String> {
    let mut names: Vec<String> = vec!["ldoms".into(), "hpvm".into()];
    names.extend(backend::scenarios().into_iter().map(|s| s.name));
    names
}

/// Open or create the simulated site asked for.
pub fn open_sim(
    scenario: Option<&str>,
    default_driver: &str,
    state: Option<&Path>,
) -> Result<SimSite, SiteError> {
    // `--sim --sim-state DIR` without a scenario continues the site already in DIR,
    // whatever its driver; only a new folder is seeded with the default site.
    if let (None, Some(dir)) = (scenario, state) {
        if dir.join("site.json").exists() {
            return SimSite::open(dir).map_err(|e| sim_error(e, None));
        }
    }
    let scenario = sim_scenario(scenario, default_driver)?;
    match state {
        Some(dir) => SimSite::open_or_create(dir, scenario.as_deref())
            .map_err(|e| sim_error(e, scenario.as_deref())),
        None => SimSite::new(scenario.as_deref()).map_err(|e| sim_error(e, scenario.as_deref())),
    }
}

/// Which site the operator asked for, as `run`, `repl`, `resume` and the REPL's `:run` give
/// it (the CLI's `--sim [SCENARIO]`, `-i`, `--sim-state`, `--accept-new-host-keys`,
/// `--sim-clock`), before it is checked ([`site_spec`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteChoice {
    /// `--sim [SCENARIO]`: `Some(None)` for `--sim` alone.
    pub sim: Option<Option<String>>,
    /// `-i INVENTORY`.
    pub inventory: Option<PathBuf>,
    /// `--sim-state DIR`.
    pub sim_state: Option<PathBuf>,
    /// `--accept-new-host-keys`.
    pub accept_new_host_keys: bool,
    /// `--sim-clock DIR` (see [`SiteOptions::sim_clock`]).
    pub sim_clock: Option<PathBuf>,
}

impl SiteChoice {
    /// The transport options it gives, with `dry_run` the plan of a `--dry-run`.
    pub fn options(&self, dry_run: Option<Arc<crate::dryrun::Plan>>) -> SiteOptions {
        SiteOptions {
            accept_new_host_keys: self.accept_new_host_keys,
            sim_clock: self.sim_clock.clone(),
            dry_run,
        }
    }
}

/// The site to use from the options; `default_driver` is what `--sim` alone means.
/// `required`: refuse when neither `--sim` nor `-i` is given (run); else the LDoms default
/// simulated site (REPL).
pub fn site_spec(
    args: &SiteChoice,
    default_driver: &str,
    required: bool,
) -> Result<SiteSpec, String> {
    match (&args.sim, &args.inventory) {
        (Some(_), Some(_)) => Err("--sim and -i/--inventory exclude each other: choose the simulator or a real site".into()),
        (None, Some(_)) if args.sim_state.is_some() => {
            Err("--sim-state only goes with --sim (it keeps a simulated site in a folder)".into())
        }
        (None, Some(inv)) => Ok(SiteSpec::Inventory(inv.clone())),
        (None, None) if args.sim_state.is_some() => {
            Err("--sim-state only goes with --sim (it keeps a simulated site in a folder); add --sim".into())
        }
        (None, None) if required => Err(
            "no site given: add --sim [SCENARIO] to run on the simulator, or -i INVENTORY to run on a real site".into(),
        ),
        (None, None) => Ok(SiteSpec::Sim {
            scenario: None,
            default_driver: "ldoms".into(),
            state: None,
        }),
        (Some(sc), None) => Ok(SiteSpec::Sim {
            scenario: sc.clone(),
            default_driver: default_driver.into(),
            state: args.sim_state.clone(),
        }),
    }
}

/// Command-line options of a real site's transports.
#[derive(Debug, Clone, Default)]
pub struct SiteOptions {
    /// `--accept-new-host-keys`: record the key of an SSH host that has none recorded
    /// (never replaces a known key).
    pub accept_new_host_keys: bool,
    /// `--sim-clock DIR` (with `-i`): waits run on the virtual clock of the simulated site
    /// kept in DIR. For an inventory whose hosts are that simulated site served by sshd
    /// (`ForceCommand hascript sim exec …`), as the SSH tests do: commands travel over SSH,
    /// while 600-second waits take no real time.
    pub sim_clock: Option<PathBuf>,
    /// `--dry-run`, with the plan it fills ([`crate::dryrun`]): a simulated site is replaced
    /// by a detached in-memory copy of itself (a state folder is only read); a real site's
    /// transport becomes [`crate::dryrun::DryRun`] (reads to the site, changes never) with a
    /// virtual clock.
    pub dry_run: Option<Arc<crate::dryrun::Plan>>,
}

/// Build the site of `spec`, with `ui` and `cancel` in its context.
pub fn build(
    spec: &SiteSpec,
    ui: Arc<dyn Ui>,
    cancel: CancelToken,
) -> Result<BuiltSite, SiteError> {
    build_with(spec, &SiteOptions::default(), ui, cancel)
}

/// [`build`] with the command line's transport options.
pub fn build_with(
    spec: &SiteSpec,
    opts: &SiteOptions,
    ui: Arc<dyn Ui>,
    cancel: CancelToken,
) -> Result<BuiltSite, SiteError> {
    build_wrapped(spec, opts, ui, cancel, |exec, ui, _clock| (exec, ui))
}

/// [`build_with`], with `wrap` putting layers around the site's transport (the router)
/// and the UI before the run's context is made from them: `hascript run` journals every
/// command and takes host locks there ([`crate::journal::JournalingExec`],
/// [`crate::journal::JournalingUi`]). `wrap` gets the router, the UI and the run's clock.
pub fn build_wrapped(
    spec: &SiteSpec,
    opts: &SiteOptions,
    ui: Arc<dyn Ui>,
    cancel: CancelToken,
    wrap: impl FnOnce(Arc<dyn Exec>, Arc<dyn Ui>, Arc<dyn Clock>) -> (Arc<dyn Exec>, Arc<dyn Ui>),
) -> Result<BuiltSite, SiteError> {
    let topts = transport::TransportOptions {
        ssh: transport::ssh::SshSettings {
            accept_new_host_keys: opts.accept_new_host_keys,
            ..Default::default()
        },
    };
    if opts.sim_clock.is_some() && !matches!(spec, SiteSpec::Inventory(_)) {
        return Err(SiteError(
            "--sim-clock goes with -i (an inventory served by a simulated site over SSH); with --sim the clock is already virtual".into(),
        ));
    }
    match spec {
        SiteSpec::Sim {
            scenario,
            default_driver,
            state,
        } => {
            let sim = open_sim(scenario.as_deref(), default_driver, state.as_deref())?;
            // A dry run works on a copy: nothing it sends reaches the site or its folder.
            let sim = match &opts.dry_run {
                Some(_) => sim
                    .detached_copy()
                    .map_err(|e| SiteError(format!("cannot copy the simulated site: {e}")))?,
                None => sim,
            };
            let inv = inventory::parse("<simulated site>", &sim.inventory_toml()).map_err(|e| {
                SiteError(format!("the simulator's inventory is invalid (a bug): {e}"))
            })?;
            let router = transport::build(&inv.routes(), Some(sim.exec()), &cancel)
                .map_err(|e| SiteError(e.message))?;
            // HASCRIPT_SIM_PACE_MS: virtual waits take real time (tests of Ctrl-C).
            let clock = crate::recovery::maybe_paced(sim.clock());
            // A dry run notes the copy's sleeps in its plan.
            let clock: Arc<dyn Clock> = match &opts.dry_run {
                Some(plan) => Arc::new(crate::dryrun::PlanClock::new(clock, plan.clone())),
                None => clock,
            };
            let secrets = router.secret_values();
            let (exec, ui) = wrap(Arc::new(router), ui, clock.clone());
            let mut built = assemble(inv, exec, clock, cancel, ui, Some(sim));
            built.secrets = secrets;
            Ok(built)
        }
        SiteSpec::Inventory(path) => {
            let inv = inventory::load(path).map_err(|e| SiteError(e.to_string()))?;
            let lock_dirs = crate::lock::lock_dirs(
                &inv,
                std::env::var(crate::lock::LOCK_DIR_ENV).ok().as_deref(),
            )
            .map_err(SiteError)?;
            let router = transport::build_with(&inv.routes(), None, &cancel, &topts)
                .map_err(|e| SiteError(format!("{}: {}", path.display(), e.message)))?;
            let clock: Arc<dyn Clock> = match &opts.sim_clock {
                Some(dir) => SimSite::open(dir)
                    .map_err(|e| SiteError(format!("--sim-clock {}: {e}", dir.display())))?
                    .clock(),
                None => Arc::new(SystemClock),
            };
            let secrets = router.secret_values();
            // A dry run: reads go to the site, changes never (see crate::dryrun).
            let (router, clock): (Arc<dyn Exec>, Arc<dyn Clock>) = match &opts.dry_run {
                Some(plan) => {
                    let driver = match &inv.topology {
                        inventory::SiteTopology::Ldoms(_) => "ldoms",
                        inventory::SiteTopology::Hpvm(_) => "hpvm",
                    };
                    let dry = crate::dryrun::DryRun::new(
                        Arc::new(router),
                        driver,
                        declared(&inv),
                        plan.clone(),
                        cancel.clone(),
                    );
                    let clock: Arc<dyn Clock> =
                        Arc::new(crate::dryrun::PlanClock::new(dry.clock(), plan.clone()));
                    (dry, clock)
                }
                None => (Arc::new(router), clock),
            };
            let (exec, ui) = wrap(router, ui, clock.clone());
            let mut built = assemble(inv, exec, clock, cancel, ui, None);
            built.secrets = secrets;
            built.lock_dirs = lock_dirs;
            Ok(built)
        }
    }
}

/// What the inventory declares about the site, for seeding a dry run's simulated copy.
pub(crate) fn declared(inv: &inventory::Inventory) -> hascript_sim::Declared {
    use hascript_sim::{Declared, DeclaredHost};
    let address = |name: &str| {
        inv.hosts
            .iter()
            .find(|h| h.name == name)
            .and_then(|h| h.address.clone())
    };
    match &inv.topology {
        inventory::SiteTopology::Ldoms(t) => {
            let mut hosts: Vec<DeclaredHost> = t
                .control_domains
                .iter()
                .map(|c| DeclaredHost {
                    name: c.name.clone(),
                    role: "control-domain".into(),
                    address: c.address.clone(),
                    hosts_name: Some(c.hosts_name.clone()),
                    box_name: Some(c.box_name.clone()),
                    ppar_id: Some(c.ppar_id),
                    xscf: Some([c.xscf_lan0.clone(), c.xscf_lan1.clone()]),
                    domain: None,
                })
                .collect();
            hosts.extend(t.guests.iter().map(|g| DeclaredHost {
                name: g.name.clone(),
                role: "guest-domain".into(),
                address: address(&g.name),
                domain: Some(g.domain.clone()),
                ..DeclaredHost::default()
            }));
            Declared {
                hosts,
                cf_timeout: u32::try_from(t.cf_timeout).ok(),
                xscf_user: t.xscf_user.clone(),
                cluster: None,
            }
        }
        inventory::SiteTopology::Hpvm(h) => {
            let mut hosts: Vec<DeclaredHost> = h
                .vm_hosts
                .iter()
                .map(|n| DeclaredHost {
                    name: n.clone(),
                    role: "vm-host".into(),
                    address: address(n),
                    ..DeclaredHost::default()
                })
                .collect();
            hosts.extend(h.guests.iter().map(|(n, vm)| DeclaredHost {
                name: n.clone(),
                role: "vm-guest".into(),
                address: address(n),
                domain: Some(vm.clone()),
                ..DeclaredHost::default()
            }));
            Declared {
                hosts,
                cf_timeout: None,
                xscf_user: None,
                cluster: h.cluster.clone(),
            }
        }
    }
}

/// The run's context and the LDoms site over an inventory, a transport and a clock (the
/// same assembly for a simulated and a real site).
fn assemble(
    inv: inventory::Inventory,
    router: Arc<dyn Exec>,
    clock: Arc<dyn Clock>,
    cancel: CancelToken,
    ui: Arc<dyn Ui>,
    sim: Option<SimSite>,
) -> BuiltSite {
    let ctx = Context::new(router, clock, cancel, ui);
    let description = inv.topology.description().to_string();
    let hosts = inv.host_names();
    let site: Arc<dyn Site> = match inv.topology {
        inventory::SiteTopology::Ldoms(t) => Arc::new(LdomsSite::new(ctx.clone(), t)),
        inventory::SiteTopology::Hpvm(h) => Arc::new(hpvm_site(ctx.clone(), h)),
    };
    BuiltSite {
        site,
        ctx,
        sim,
        description,
        secrets: Vec::new(),
        hosts,
        lock_dirs: Default::default(),
    }
}

/// The Serviceguard site over the inventory's hosts.
fn hpvm_site(ctx: Context, h: inventory::HpvmHosts) -> HpvmSite {
    let topology = hascript_hpvm::Topology {
        cluster: h.cluster,
        vm_hosts: h
            .vm_hosts
            .into_iter()
            .map(|name| hascript_hpvm::VmHost { name })
            .collect(),
        guests: h
            .guests
            .into_iter()
            .map(|(name, vm)| hascript_hpvm::Guest { name, vm })
            .collect(),
        description: h.description,
    };
    HpvmSite::new(ctx, topology)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_options_are_checked() {
        let none = SiteChoice::default();
        let e = site_spec(&none, "ldoms", true).err().unwrap_or_default();
        assert!(e.contains("--sim") && e.contains("-i"), "{e}");
        assert!(matches!(
            site_spec(&none, "ldoms", false),
            Ok(SiteSpec::Sim { .. })
        ));
        let both = SiteChoice {
            sim: Some(None),
            inventory: Some("x".into()),
            sim_state: None,
            ..SiteChoice::default()
        };
        assert!(site_spec(&both, "ldoms", true).is_err());
        let state_only = SiteChoice {
            sim_state: Some("d".into()),
            ..SiteChoice::default()
        };
        assert!(site_spec(&state_only, "ldoms", true).is_err());
    }
}
