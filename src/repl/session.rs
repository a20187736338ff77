//! One REPL session: its site, engine, scope and the inputs accepted so far; the prompt,
//! the banner, and what Tab completion needs to know.

use std::sync::{Arc, Mutex};

use rhai::{Dynamic, Engine, Scope, AST};

use crate::docs::Api;
use crate::engine::{Interrupt, RunEnv, GLOBALS};
use crate::journal::Redactor;
use crate::scripts;
use crate::site::{BuiltSite, SiteOptions, SiteSpec};

use super::complete::{Known, Shape};
use super::site::{
    build_site, folder_backed, script_secrets_in_env, session_engine, session_env, simulated,
    SessionNames,
};
use super::{ReplUi, Reply};

/// One REPL session over a site.
pub struct Session {
    /// A simulated site is always kept in a folder (`:run` works on it from a run of its
    /// own): `--sim-state DIR`, or this private temporary one, removed with the session.
    pub(super) spec: SiteSpec,
    pub(super) simdir: Option<tempfile::TempDir>,
    pub(super) opts: SiteOptions,
    pub(super) ui: Arc<ReplUi>,
    pub(super) built: BuiltSite,
    pub(super) env: RunEnv,
    pub(super) engine: Engine,
    pub(super) scope: Scope<'static>,
    pub(super) ast: AST,
    pub(super) accepted: Vec<String>,
    pub(super) last: Option<Dynamic>,
    pub(super) json: bool,
    pub(super) api: Arc<Api>,
    pub(super) running: Arc<Mutex<Option<Interrupt>>>,
    pub(super) names: Arc<SessionNames>,
}

impl Session {
    /// A session on the site of `spec`.
    pub fn new(spec: SiteSpec, opts: SiteOptions) -> Result<Session, String> {
        let ui = Arc::new(ReplUi::new());
        ui.redactor().add_all(&script_secrets_in_env());
        let (spec, simdir) = folder_backed(spec)?;
        let built = build_site(&spec, &opts, &ui).map_err(|e| e.to_string())?;
        let env = session_env(&built);
        let engine = session_engine(&env);
        let scope = env.scope();
        let api = Arc::new(Api::of(&engine));
        let names = Arc::new(SessionNames::new(built.site.clone(), ui.completing.clone()));
        Ok(Session {
            spec,
            simdir,
            opts,
            ui,
            built,
            env,
            engine,
            scope,
            ast: AST::empty(),
            accepted: Vec::new(),
            last: None,
            json: false,
            api,
            running: Arc::new(Mutex::new(None)),
            names,
        })
    }

    /// The slot holding the interrupt of the call under way (for a Ctrl-C watcher).
    pub fn running(&self) -> Arc<Mutex<Option<Interrupt>>> {
        self.running.clone()
    }

    /// The engine (for `:help`).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The API the session's engine offers.
    pub fn api(&self) -> Arc<Api> {
        self.api.clone()
    }

    /// The redactor every text the session shows goes through: it holds the inventory's
    /// secrets, the secrets of every command sent, the `HASCRIPT_SECRET_*` values and the
    /// secret-looking parameters given to `:run`. Values are only ever added.
    pub fn redactor(&self) -> &Arc<Redactor> {
        self.ui.redactor()
    }

    /// `reply` with every secret the session knows replaced by `*****`.
    pub(super) fn hide(&self, reply: Reply) -> Reply {
        let r = |t: String| self.redactor().redact(&t);
        match reply {
            Reply::Value(v) => Reply::Value(v.map(r)),
            Reply::Text(t) => Reply::Text(r(t)),
            Reply::Error(e) => Reply::Error(r(e)),
            Reply::Quit => Reply::Quit,
        }
    }

    /// The banner line.
    pub fn banner(&self) -> String {
        format!(
            "hascript {} REPL on {}{} — :help lists the objects and functions, :quit leaves",
            env!("CARGO_PKG_VERSION"),
            self.built.description,
            if simulated(&self.spec) && !self.built.description.contains("simulated") {
                " (simulated)"
            } else {
                ""
            }
        )
    }

    /// The prompt names the site, so that an operator with several terminals sees where an
    /// input goes: the inventory's file name (`hascript(site.toml)> `), or the simulated
    /// site's scenario and `sim` (`hascript(ldoms sim)> `,
    /// `hascript(ldoms/unhealthy-cluster sim)> `). Control characters in the name are
    /// shown escaped (a file name must not act on the terminal).
    pub fn prompt(&self) -> String {
        let site = match &self.spec {
            SiteSpec::Sim { .. } => format!(
                "{} sim",
                self.built
                    .sim
                    .as_ref()
                    .map(|s| s.scenario())
                    .unwrap_or_else(|| self.built.site.driver().to_string())
            ),
            SiteSpec::Inventory(p) => p
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_else(|| p.display().to_string()),
        };
        format!("hascript({})> ", crate::output::escape_controls(&site))
    }

    /// The continuation prompt, as wide as the prompt.
    pub fn continuation(&self) -> String {
        let p = self.prompt();
        format!("{}...> ", " ".repeat(p.chars().count().saturating_sub(5)))
    }

    /// The inputs accepted so far (what `:save` writes).
    pub fn accepted(&self) -> &[String] {
        &self.accepted
    }

    /// Use `built` from now on, keeping the session's variables and functions.
    pub(super) fn switch_to(&mut self, built: BuiltSite) {
        self.built = built;
        self.names = Arc::new(SessionNames::new(
            self.built.site.clone(),
            self.ui.completing.clone(),
        ));
        self.env = session_env(&self.built);
        self.engine = session_engine(&self.env);
        let mut scope = self.env.scope();
        for (name, constant, value) in self.scope.iter_raw() {
            if GLOBALS.contains(&name) {
                continue;
            }
            if constant {
                scope.push_constant_dynamic(name.to_string(), value.clone());
            } else {
                scope.push_dynamic(name.to_string(), value.clone());
            }
        }
        self.scope = scope;
    }

    /// What completion needs to know now (a map key holding a secret is never offered).
    pub fn known(&self) -> Known {
        let mut vars = Vec::new();
        for (name, _, value) in self.scope.iter_raw() {
            let shape = match shape_of(&self.api, value) {
                Shape::Map(keys) => Shape::Map(
                    keys.into_iter()
                        .filter(|k| self.redactor().redact(k) == *k)
                        .collect(),
                ),
                other => other,
            };
            vars.push((name.to_string(), shape));
        }
        let procedures = scripts::all_names(&scripts::search_path())
            .into_iter()
            .filter(|n| !n.starts_with("lib/"))
            .map(|n| {
                let params = scripts::find(&n, &scripts::search_path())
                    .and_then(|s| scripts::meta(&s.text).params)
                    .unwrap_or_default();
                (n, params)
            })
            .collect();
        let mut scenarios: Vec<String> = vec!["ldoms".into(), "hpvm".into()];
        scenarios.extend(crate::backend::scenarios().into_iter().map(|s| s.name));
        Known {
            api: Some(self.api.clone()),
            vars,
            fns: self
                .ast
                .iter_functions()
                .map(|f| f.name.to_string())
                .collect(),
            hosts: self.built.site.hosts(),
            procedures,
            scenarios,
            names: Some(self.names.clone()),
        }
    }
}

fn shape_of(api: &Api, v: &Dynamic) -> Shape {
    if v.is_map() {
        let keys = v
            .read_lock::<rhai::Map>()
            .map(|m| m.keys().map(|k| k.to_string()).collect())
            .unwrap_or_default();
        return Shape::Map(keys);
    }
    if v.is_array() {
        return Shape::Array;
    }
    let t = v.type_name();
    let t = t.rsplit("::").next().unwrap_or(t);
    // Registered names (`Host`) or the Rust type's last segment (`HostObj`).
    for g in &api.groups {
        if let Some(ty) = &g.type_name {
            if ty == t || format!("{ty}Obj") == t {
                return Shape::Type(ty.clone());
            }
        }
    }
    if t == "ConfDoc" {
        return Shape::Type("PackageConf".into());
    }
    Shape::Other
}
