//! The session's site: building it (its secrets learnt by the redactor, changes refused
//! while completing), the names Tab completion reads from it, and `:sim`/`:inventory`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use hascript_api::{CancelToken, Command, Effect, Error as ApiError, ErrorKind, Exec, Output, Ui};
use rhai::Engine;

use crate::engine::{self, RunEnv};
use crate::journal::Redactor;
use crate::site::{self, BuiltSite, SiteOptions, SiteSpec};

use super::complete::{NameKind, SiteNames};
use super::{ReplUi, Reply, Session};

/// The session's transport as the site gave it, teaching the session's redactor the
/// secrets each command carries ([`Command::with_secret`]) before it is sent, as
/// [`crate::journal::JournalingExec`] does for a run.
///
/// While Tab completion reads names ([`ReplUi`]'s `completing`), a command that changes
/// anything is refused before it is sent: completion only ever reads.
pub(super) struct LearnSecrets {
    pub(super) inner: Arc<dyn Exec>,
    pub(super) redactor: Arc<Redactor>,
    pub(super) completing: Arc<AtomicBool>,
}

impl Exec for LearnSecrets {
    fn exec(&self, cmd: &Command) -> Result<Output, ApiError> {
        if cmd.effect == Effect::Change && self.completing.load(Ordering::SeqCst) {
            return Err(ApiError::new(
                ErrorKind::Usage,
                format!(
                    "Tab completion never changes anything: {} not sent",
                    cmd.display()
                ),
            ));
        }
        self.redactor.add_all(&cmd.secrets);
        self.inner.exec(cmd)
    }
}

/// The site's names for Tab completion, read once per site (and after each `:run`, which
/// may have changed them) with the session's UI quiet and changes refused.
pub(super) struct SessionNames {
    site: Arc<dyn hascript_api::Site>,
    completing: Arc<AtomicBool>,
    cache: Mutex<std::collections::HashMap<NameKind, Vec<String>>>,
}

impl std::fmt::Debug for SessionNames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionNames")
            .field("site", &self.site.driver())
            .finish_non_exhaustive()
    }
}

impl SessionNames {
    pub(super) fn new(site: Arc<dyn hascript_api::Site>, completing: Arc<AtomicBool>) -> Self {
        SessionNames {
            site,
            completing,
            cache: Mutex::new(Default::default()),
        }
    }
}

/// The `name` of each row of a list (`guests()`, `list()`, `nodes()`).
fn row_names(rows: hascript_api::Result<serde_json::Value>) -> Vec<String> {
    let Ok(serde_json::Value::Array(rows)) = rows else {
        return Vec::new();
    };
    let mut v: Vec<String> = rows
        .iter()
        .filter_map(|r| r.get("name").and_then(|n| n.as_str()).map(str::to_string))
        .collect();
    v.sort();
    v.dedup();
    v
}

impl SiteNames for SessionNames {
    fn names(&self, kind: NameKind) -> Vec<String> {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(v) = cache.get(&kind) {
            return v.clone();
        }
        self.completing.store(true, Ordering::SeqCst);
        let v = match kind {
            NameKind::Host => self.site.hosts(),
            NameKind::Guest => row_names(self.site.hypervisor().guests()),
            NameKind::Package => row_names(self.site.package().list()),
            NameKind::ClusterNode => row_names(self.site.cluster().nodes()),
        };
        self.completing.store(false, Ordering::SeqCst);
        // Kept also when empty (a host that does not answer): no new attempt, and no new
        // wait, at every Tab.
        cache.insert(kind, v.clone());
        v
    }
}

/// Build the site of `spec` for a session whose UI is `ui`: the UI's redactor learns the
/// inventory's secrets (SSH passwords, key passphrases, sudo passwords) before anything is
/// sent, and each command's own secrets as it is sent.
pub(super) fn build_site(
    spec: &SiteSpec,
    opts: &SiteOptions,
    ui: &Arc<ReplUi>,
) -> Result<BuiltSite, site::SiteError> {
    let dyn_ui: Arc<dyn Ui> = ui.clone();
    let redactor = ui.redactor().clone();
    let completing = ui.completing.clone();
    let built = site::build_wrapped(spec, opts, dyn_ui, CancelToken::new(), |exec, ui, _| {
        let exec: Arc<dyn Exec> = Arc::new(LearnSecrets {
            inner: exec,
            redactor,
            completing,
        });
        (exec, ui)
    })?;
    ui.redactor().add_all(&built.secrets);
    Ok(built)
}

/// Secret values this process was given for scripts (`HASCRIPT_SECRET_*`, see
/// [`crate::secrets`]): a procedure run with `:run` may send them, and a host may show
/// them back to a later input.
pub(super) fn script_secrets_in_env() -> Vec<String> {
    std::env::vars_os()
        .filter(|(k, _)| k.to_string_lossy().starts_with(crate::secrets::ENV_PREFIX))
        .filter_map(|(_, v)| v.into_string().ok())
        .filter(|v| !v.is_empty())
        .collect()
}

pub(super) fn simulated(spec: &SiteSpec) -> bool {
    matches!(spec, SiteSpec::Sim { .. })
}

/// The run environment of a session on `built`. A call is interrupted through the site's
/// own token, which every wait, sleep and command checks — also a simulated wait paced in
/// real time (`HASCRIPT_SIM_PACE_MS`), which stops at once. Afterwards a simulated site's
/// token is reset (the site, its state and the objects variables hold stay), a real site
/// is rebuilt.
pub(super) fn session_env(built: &BuiltSite) -> RunEnv {
    RunEnv::new(built.site.clone(), built.ctx.clone(), Default::default())
}

/// A simulated site without a folder gets a private temporary one, so that `:run` (a run
/// of its own, as `hascript run`: journal, locks) and the session share one site.
pub(super) fn folder_backed(
    spec: SiteSpec,
) -> Result<(SiteSpec, Option<tempfile::TempDir>), String> {
    match spec {
        SiteSpec::Sim {
            scenario,
            default_driver,
            state: None,
        } => {
            let dir = tempfile::Builder::new()
                .prefix("hascript-repl-")
                .tempdir()
                .map_err(|e| {
                    format!("cannot create a temporary folder for the simulated site: {e}; set TMPDIR to a writable folder, or use --sim-state DIR")
                })?;
            let spec = SiteSpec::Sim {
                scenario,
                default_driver,
                state: Some(dir.path().to_path_buf()),
            };
            Ok((spec, Some(dir)))
        }
        other => Ok((other, None)),
    }
}

pub(super) fn session_engine(env: &RunEnv) -> Engine {
    let mut engine = engine::build_engine(env);
    engine.set_optimization_level(rhai::OptimizationLevel::None);
    engine
}

impl Session {
    pub(super) fn switch_site(&mut self, spec: SiteSpec, what: &str) -> Reply {
        let opts = SiteOptions {
            sim_clock: None,
            ..self.opts.clone()
        };
        let (spec, simdir) = match folder_backed(spec) {
            Ok(s) => s,
            Err(e) => return Reply::Error(format!("error: {e}")),
        };
        match build_site(&spec, &opts, &self.ui) {
            Ok(b) => {
                self.spec = spec;
                self.opts = opts;
                self.switch_to(b);
                // The previous site's temporary folder goes once the session left it.
                self.simdir = simdir;
                self.accepted.push(format!(
                    "// {what}: the session switched to {}; the lines below ran there",
                    self.built.description
                ));
                Reply::Text(format!(
                    "now on {}{} (variables and functions kept)",
                    self.built.description,
                    if simulated(&self.spec) && !self.built.description.contains("simulated") {
                        " (simulated)"
                    } else {
                        ""
                    }
                ))
            }
            Err(e) => Reply::Error(format!("error: {e}")),
        }
    }
}
