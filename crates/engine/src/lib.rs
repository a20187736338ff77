//! hascript-engine, the script engine: with the REPL and `docs`, the only code that knows Rhai. [`build_engine`] is shared by `run`,
//! `check`, the REPL and the tests; each object family registers itself from its own file.

#![warn(missing_docs)]

pub mod scripts;

/// A cheap, clonable script handle around one of the site's objects, fetched from the site
/// on first use (so building the engine never touches the driver).
macro_rules! object_handle {
    ($(#[$doc:meta])* $name:ident, $tr:ident, $getter:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name {
            site: std::sync::Arc<dyn hascript_api::Site>,
            obj: std::sync::Arc<std::sync::OnceLock<std::sync::Arc<dyn hascript_api::$tr>>>,
        }

        impl $name {
            /// A handle on `site`'s object.
            pub fn new(site: std::sync::Arc<dyn hascript_api::Site>) -> Self {
                $name {
                    site,
                    obj: Default::default(),
                }
            }

            /// The site the object belongs to.
            pub fn site(&self) -> std::sync::Arc<dyn hascript_api::Site> {
                self.site.clone()
            }

            /// The driver object.
            pub fn get(&self) -> std::sync::Arc<dyn hascript_api::$tr> {
                self.obj.get_or_init(|| self.site.$getter()).clone()
            }
        }
    };
}

pub mod checker;
pub mod cluster;
pub mod error;
pub mod fence;
pub mod helpers;
pub mod host;
pub mod hypervisor;
pub mod limits;
pub mod lint;
pub mod operations;
pub mod package;
pub mod pkgconf;
pub mod procedure;
pub mod report;
pub mod resolver;
pub mod routines;
pub mod runlog;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hascript_api::objects::{Context, Value};
use hascript_api::{
    CancelToken, Cluster, Command, Error, Exec, Fence, Hypervisor, Output, Package, Site,
    SystemClock, Ui,
};
use rhai::{Dynamic, Engine, FuncRegistration, Map, Scope};

/// Texts of the scripts and modules a run compiled, by source name (for error reports).
pub type SourceMap = Arc<Mutex<HashMap<String, String>>>;

/// The names of the globals every script sees.
pub const GLOBALS: [&str; 7] = [
    "cluster",
    "fence",
    "hypervisor",
    "package",
    "params",
    "secrets",
    "site",
];

/// Fires a run's cancellation: sets the flag the engine's progress hook reads (one atomic
/// load per operation) and the [`CancelToken`] every wait and command checks.
#[derive(Clone, Debug)]
pub struct Interrupt {
    flag: Arc<AtomicBool>,
    token: CancelToken,
    /// Recovery routines are running after a failure (no signal came yet): a signal now
    /// stops at once, leaving them pending for `hascript unwind`, as a second signal does.
    recovering: Arc<AtomicBool>,
}

impl Interrupt {
    /// An interrupt over `token`.
    pub fn new(token: CancelToken) -> Self {
        Interrupt {
            flag: Arc::new(AtomicBool::new(false)),
            token,
            recovering: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Mark that the run is executing its recovery routines after a failure (`true`) or
    /// has ended them (`false`).
    pub fn set_recovering(&self, on: bool) {
        self.recovering.store(on, Ordering::SeqCst);
    }

    /// Whether the run is executing its recovery routines after a failure: a signal then
    /// stops at once (the routines stay pending for `hascript unwind`).
    pub fn recovering(&self) -> bool {
        self.recovering.load(Ordering::SeqCst)
    }

    /// Fire it.
    pub fn fire(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.token.cancel();
    }

    /// Fire it because of `signal` (Ctrl-C, SIGTERM, SIGHUP): the token records the first
    /// one, which decides the run's exit code (130, 143, 129).
    pub fn fire_by(&self, signal: hascript_api::Signal) {
        self.flag.store(true, Ordering::SeqCst);
        self.token.cancel_by(signal);
    }

    /// The signal that fired it first, if one did.
    pub fn signal(&self) -> Option<hascript_api::Signal> {
        self.token.signal()
    }

    /// Whether it fired (also when only the token was cancelled).
    pub fn fired(&self) -> bool {
        self.flag.load(Ordering::Relaxed) || self.token.is_cancelled()
    }

    /// Clear it once the interruption stopped the script, so that the recovery routines
    /// can run (a second Ctrl-C stops the process at once instead).
    pub fn rearm(&self) {
        self.flag.store(false, Ordering::SeqCst);
        self.token.rearm();
    }
}

/// The script's own recovery routines (`defer`), by their number in the run's registry.
pub type Deferred = Arc<Mutex<HashMap<u64, rhai::FnPtr>>>;

/// Everything a run gives its scripts: the site, the run context, the parameters.
#[derive(Clone)]
pub struct RunEnv {
    /// The site (driver objects over an inventory or a simulated site).
    pub site: Arc<dyn Site>,
    /// Transport, clock, cancel token, UI, and the "changed" record.
    pub ctx: Context,
    /// `-p key=value` parameters.
    pub params: BTreeMap<String, String>,
    /// Secret parameters (`//! secrets:`; see [`crate::secrets`]): scripts read them as
    /// `secrets.<name>`. Never printed: the run's UI hides them.
    pub secrets: BTreeMap<String, String>,
    /// Cancellation (Ctrl-C).
    pub interrupt: Interrupt,
    /// Folders of `HASCRIPT_PATH`, searched by imports and shipped names.
    pub search_path: Vec<PathBuf>,
    /// Sources compiled in this run, for error reports.
    pub sources: SourceMap,
    /// The run's journal (`hascript run`): script steps record their end and return value
    /// there. `None` in the REPL and `check`.
    pub journal: Option<Arc<dyn runlog::StepLog>>,
    /// The closures of the script's `defer` routines.
    pub deferred: Deferred,
    /// `hascript resume`: the completed steps of the resumed run, whose recorded values
    /// are returned instead of running them again.
    pub replay: Option<Arc<dyn runlog::StepReplay>>,
    /// How an uncaught error is reported (a shipped procedure's without its source).
    pub report_style: report::ReportStyle,
    /// The procedures running now (the top script, then nested ones): a procedure that
    /// re-enters itself is refused.
    pub active: procedure::Active,
    /// The `params` map functions and modules read (through the engine's variable
    /// resolver), refreshed from [`RunEnv::params`] when a run starts.
    pub params_now: Arc<std::sync::RwLock<Dynamic>>,
}

impl RunEnv {
    /// A run environment over `site` and `ctx`.
    pub fn new(site: Arc<dyn Site>, ctx: Context, params: BTreeMap<String, String>) -> Self {
        let interrupt = Interrupt::new(ctx.cancel.clone());
        RunEnv {
            site,
            ctx,
            params,
            secrets: BTreeMap::new(),
            interrupt,
            search_path: crate::scripts::search_path(),
            sources: SourceMap::default(),
            journal: None,
            deferred: Deferred::default(),
            replay: None,
            report_style: report::ReportStyle::default(),
            active: procedure::Active::default(),
            params_now: Arc::default(),
        }
    }

    /// Make `params_now` hold [`RunEnv::params`].
    pub fn refresh_params(&self) {
        let m: Map = self
            .params
            .iter()
            .map(|(k, v)| (k.as_str().into(), Dynamic::from(v.clone())))
            .collect();
        *self.params_now.write().unwrap_or_else(|p| p.into_inner()) = m.into();
    }

    /// An environment without a site, for `check` (compiles, runs nothing).
    pub fn offline(ui: Arc<dyn Ui>) -> Self {
        let ctx = Context::new(
            Arc::new(NoSite),
            Arc::new(SystemClock),
            CancelToken::new(),
            ui,
        );
        RunEnv::new(Arc::new(NoSite), ctx, BTreeMap::new())
    }

    /// The `site` global: driver, description and hosts.
    pub fn site_map(&self) -> Map {
        let mut m = Map::new();
        m.insert("driver".into(), self.site.driver().into());
        m.insert("description".into(), self.site.describe().into());
        let hosts: rhai::Array = self.site.hosts().into_iter().map(Dynamic::from).collect();
        m.insert("hosts".into(), hosts.into());
        m
    }

    /// The globals as (name, value), in [`GLOBALS`] order.
    pub fn globals(&self) -> Vec<(&'static str, Dynamic)> {
        let params: Map = self
            .params
            .iter()
            .map(|(k, v)| (k.as_str().into(), Dynamic::from(v.clone())))
            .collect();
        let secrets: Map = self
            .secrets
            .iter()
            .map(|(k, v)| (k.as_str().into(), Dynamic::from(v.clone())))
            .collect();
        vec![
            (
                "cluster",
                Dynamic::from(cluster::ClusterObj::new(self.site.clone())),
            ),
            (
                "fence",
                Dynamic::from(fence::FenceObj::new(self.site.clone())),
            ),
            (
                "hypervisor",
                Dynamic::from(hypervisor::HypervisorObj::new(self.site.clone())),
            ),
            (
                "package",
                Dynamic::from(package::PackageObj::new(self.site.clone())),
            ),
            ("params", params.into()),
            ("secrets", secrets.into()),
            ("site", self.site_map().into()),
        ]
    }

    /// A scope holding the globals as constants.
    pub fn scope(&self) -> Scope<'static> {
        let mut scope = Scope::new();
        for (name, v) in self.globals() {
            scope.push_constant_dynamic(name, v);
        }
        scope
    }
}

/// Operations a script may run before it is stopped (a runaway loop guard).
pub const MAX_OPERATIONS: u64 = 50_000_000;

/// Build the engine for `run`: limits, sandbox, resolver, every object family and helper.
pub fn build_engine(run: &RunEnv) -> Engine {
    let mut engine = Engine::new();
    engine.set_max_operations(MAX_OPERATIONS);
    engine.set_max_call_levels(64);
    engine.set_max_expr_depths(64, 64);
    // No string/array/map size limits: with any of them set, Rhai measures the whole value
    // after every call that mutates it (`push` in a loop is quadratic). Memory and nesting
    // are bounded by `limits` instead, at a cost independent of a value's size.
    limits::register_guards(&mut engine);
    engine.set_max_modules(256);
    engine.disable_symbol("eval");
    // A typo'd property is an error naming it (report.rs adds the map's keys), not a silent
    // `()`; optional keys are read with `"x" in m`.
    engine.set_fail_on_invalid_map_property(true);
    // No constant folding: it reads a constant map's missing property (`params.targt`) as `()` at
    // compile time, bypassing the missing-property error below.
    engine.set_optimization_level(rhai::OptimizationLevel::None);
    engine.set_module_resolver(
        resolver::Resolver::new(run.search_path.clone(), run.sources.clone())
            .with_journal(run.journal.clone()),
    );

    let ui = run.ctx.ui.clone();
    engine.on_print(move |s| ui.info(s));
    let ui = run.ctx.ui.clone();
    engine.on_debug(move |s, _src, _pos| ui.info(s));

    let interrupt = run.interrupt.clone();
    let ticks = AtomicU64::new(0);
    engine.on_progress(move |_ops| {
        if interrupt.flag.load(Ordering::Relaxed) {
            return Some(error::CANCELLED.into());
        }
        // One load: the bytes the process holds (the script's values are nearly all of it).
        if limits::in_use() > limits::MAX_MEMORY {
            return Some(limits::memory_message().into());
        }
        // The token (a mutex) only now and then.
        if ticks.fetch_add(1, Ordering::Relaxed) & 4095 == 0 && interrupt.token.is_cancelled() {
            return Some(error::CANCELLED.into());
        }
        None
    });

    // Globals are constants in the main scope; functions and modules (which do not see
    // the caller's scope) reach them through this resolver.
    let globals: Arc<HashMap<&'static str, Dynamic>> =
        Arc::new(run.globals().into_iter().collect());
    let package_obj = globals.get("package").cloned();
    run.refresh_params();
    let params_now = run.params_now.clone();
    // Every variable access also checks how deeply the variable's value nests (a value
    // nested thousands of levels deep overflows the stack when it is cloned, printed or
    // dropped; see `limits`).
    let nesting = limits::NestingGuard::default();
    #[allow(deprecated)] // "volatile", not deprecated
    engine.on_var(move |name, index, ctx| {
        let scope = ctx.scope();
        let value = if index > 0 {
            // Compiled to a slot counted from the end of the scope.
            scope.iter_raw().nth(index - 1).map(|(_, _, v)| v)
        } else {
            scope.get(name)
        };
        match value {
            Some(v) => {
                if !nesting.check(v) {
                    return Err(limits::too_deep(rhai::Position::NONE));
                }
                report::note_map(name, v);
                Ok(None)
            }
            None if index > 0 => Ok(None),
            None => {
                // `params` is the one of the run being executed (an engine may serve several
                // runs of one environment in turn: the REPL, the tests).
                let g = if name == "params" {
                    Some(params_now.read().unwrap_or_else(|p| p.into_inner()).clone())
                } else {
                    globals.get(name).cloned()
                };
                if let Some(v) = &g {
                    report::note_map(name, v);
                }
                Ok(g)
            }
        }
    });

    // `package` is a reserved keyword in Rhai, so it can never be a variable: claim it as a
    // custom syntax that evaluates to the package object. `package.list()`, `let p =
    // package;` and uses inside functions all work.
    if let Some(pkg) = package_obj {
        let claimed =
            engine.register_custom_syntax(["package"], false, move |_ctx, _inputs| Ok(pkg.clone()));
        debug_assert!(claimed.is_ok(), "the package keyword could not be claimed");
    }

    cluster::register(&mut engine);
    fence::register(&mut engine);
    hypervisor::register(&mut engine);
    operations::register(&mut engine);
    procedure::register(&mut engine, run);
    procedure::register_run_procedure(&mut engine, run);
    package::register(&mut engine);
    pkgconf::register(&mut engine);
    host::register(&mut engine, run);
    helpers::register(&mut engine, run);
    engine
}

/// A registration carrying parameter names, return type, and doc comment (one `///` line
/// per line of `doc`), marked volatile so the optimiser never folds a call to the site.
pub(crate) fn reg(name: &str, params: &[&str], ret: &str, doc: &str) -> FuncRegistration {
    let mut info: Vec<String> = params.iter().map(|p| p.to_string()).collect();
    info.push(ret.to_string());
    let comment = doc
        .lines()
        .map(|l| format!("/// {l}").trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n");
    FuncRegistration::new(name)
        .with_params_info(info)
        .with_comments([comment])
        .with_volatility(true)
}

/// Seconds (INT or FLOAT, not negative) as a duration.
pub(crate) fn seconds(v: &Dynamic, what: &str) -> Result<Duration, String> {
    let secs = if let Ok(i) = v.as_int() {
        i as f64
    } else if let Ok(f) = v.as_float() {
        f
    } else {
        return Err(format!(
            "{what} must be a number of seconds, not {}",
            v.type_name()
        ));
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!(
            "{what} must be a number of seconds from 0 up, not {secs}"
        ));
    }
    Ok(Duration::from_secs_f64(secs.min(1e9)))
}

/// Check that an options map only holds `allowed` keys.
pub(crate) fn check_keys(opts: &Map, allowed: &[&str], func: &str) -> Result<(), String> {
    for k in opts.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(format!(
                "{func}: unknown option `{k}`; the options are: {}",
                allowed.join(", ")
            ));
        }
    }
    Ok(())
}

/// A boolean option.
pub(crate) fn opt_bool(opts: &Map, key: &str, func: &str) -> Result<Option<bool>, String> {
    match opts.get(key) {
        None => Ok(None),
        Some(v) => v
            .as_bool()
            .map(Some)
            .map_err(|t| format!("{func}: option `{key}` must be true or false, not {t}")),
    }
}

/// A site for `check`: no hosts, no objects (every call is `Unsupported`).
struct NoSite;

fn none<T>() -> hascript_api::Result<T> {
    Err(Error::new(
        hascript_api::ErrorKind::Unsupported,
        "no site: this command only compiles scripts",
    ))
}

impl Exec for NoSite {
    fn exec(&self, _cmd: &Command) -> hascript_api::Result<Output> {
        none()
    }
}

impl Site for NoSite {
    fn driver(&self) -> &'static str {
        "none"
    }
    fn describe(&self) -> String {
        "no site".into()
    }
    fn hosts(&self) -> Vec<String> {
        Vec::new()
    }
    fn cluster(&self) -> Arc<dyn Cluster> {
        Arc::new(NoSite)
    }
    fn fence(&self) -> Arc<dyn Fence> {
        Arc::new(NoSite)
    }
    fn hypervisor(&self) -> Arc<dyn Hypervisor> {
        Arc::new(NoSite)
    }
    fn package(&self) -> Arc<dyn Package> {
        Arc::new(NoSite)
    }
    fn summary(&self, _subject: &str) -> hascript_api::Result<Value> {
        none()
    }
}

impl Cluster for NoSite {
    fn nodes(&self) -> hascript_api::Result<Value> {
        none()
    }
    fn node(&self, _: &str) -> hascript_api::Result<Value> {
        none()
    }
    fn wait_node_state(&self, _: &str, _: &str, _: Duration) -> hascript_api::Result<Value> {
        none()
    }
    fn timeout(&self) -> hascript_api::Result<i64> {
        none()
    }
    fn applications(&self) -> hascript_api::Result<Value> {
        none()
    }
    fn health(&self) -> hascript_api::Result<Value> {
        none()
    }
    fn messages(&self, _: &str, _: bool) -> hascript_api::Result<Value> {
        none()
    }
}

impl Fence for NoSite {
    fn agents(&self) -> hascript_api::Result<Value> {
        none()
    }
    fn config(&self) -> hascript_api::Result<Value> {
        none()
    }
    fn verify(&self) -> hascript_api::Result<Value> {
        none()
    }
    fn start(&self) -> hascript_api::Result<Value> {
        none()
    }
    fn stop(&self) -> hascript_api::Result<Value> {
        none()
    }
}

impl Hypervisor for NoSite {
    fn guests(&self) -> hascript_api::Result<Value> {
        none()
    }
    fn guest(&self, _: &str) -> hascript_api::Result<Value> {
        none()
    }
    fn hosts(&self) -> hascript_api::Result<Value> {
        none()
    }
    fn start(&self, _: &str) -> hascript_api::Result<Value> {
        none()
    }
    fn stop(&self, _: &str, _: bool) -> hascript_api::Result<Value> {
        none()
    }
    fn migrate(&self, _: &str, _: &str) -> hascript_api::Result<Value> {
        none()
    }
}

impl Package for NoSite {
    fn list(&self) -> hascript_api::Result<Value> {
        none()
    }
    fn status(&self, _: &str) -> hascript_api::Result<Value> {
        none()
    }
}

/// A compile error as a Rhai error (for reports and exit codes).
pub fn parse_error(e: rhai::ParseError) -> Box<rhai::EvalAltResult> {
    Box::new(rhai::EvalAltResult::ErrorParsing(
        e.err_type().clone(),
        e.position(),
    ))
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The process exit code (design.md, "Exit codes").
    pub exit: i32,
    /// The error report, when the script failed.
    pub report: Option<String>,
    /// The kind of the error that ended the run (`check`, `timeout`, …; `script` for an
    /// error of the script itself, `cancelled` for Ctrl-C).
    pub kind: Option<String>,
    /// The report's parts as separate fields (the journal's `error` line), for an error of
    /// the script or of a driver it called.
    pub fields: Option<report::ErrorFields>,
}

/// The kind of the error that ended a run, for the journal.
fn error_kind(err: &rhai::EvalAltResult) -> String {
    use rhai::EvalAltResult as E;
    match err {
        E::ErrorInFunctionCall(_, _, inner, _) | E::ErrorInModule(_, inner, _) => error_kind(inner),
        E::ErrorRuntime(v, _) => error::kind_of(v)
            .map(|k| k.name().to_string())
            .unwrap_or_else(|| "script".into()),
        E::ErrorTerminated(t, _) if limits::is_memory_stop(t) => "script".into(),
        E::ErrorTerminated(..) => "cancelled".into(),
        _ => "script".into(),
    }
}

/// Compile `text` (named `source_name` in errors) with the globals in scope.
pub fn compile(
    engine: &Engine,
    env: &RunEnv,
    source_name: &str,
    text: &str,
) -> Result<rhai::AST, Box<rhai::EvalAltResult>> {
    env.sources
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(source_name.to_string(), text.to_string());
    let scope = env.scope();
    let mut ast = engine
        .compile_with_scope(&scope, text)
        .map_err(parse_error)?;
    ast.set_source(source_name);
    Ok(ast)
}

/// Compile and run a script to the end; map the result to an exit code and a report.
///
/// When the script fails or is interrupted (Ctrl-C), the recovery routines still pending
/// (a driver bracket's, the script's own `defer`s) run in reverse order of registration,
/// journaled; their outcomes are added to the report, and a routine that fails makes the
/// exit "needs attention" (4) unless the run was interrupted (130). When it succeeds,
/// routines still pending are no longer needed.
pub fn execute(engine: &Engine, env: &RunEnv, source_name: &str, text: &str) -> Outcome {
    let _top = procedure::enter_top(env, source_name);
    env.refresh_params();
    let ast = match compile(engine, env, source_name, text) {
        Ok(ast) => ast,
        Err(e) => {
            let sources = env
                .sources
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            return Outcome {
                exit: report::exit_code_by(&e, env.ctx.changed(), env.interrupt.signal()),
                report: Some(report::render(&e, source_name, &sources)),
                kind: Some(error_kind(&e)),
                fields: Some(report::fields(&e, source_name)),
            };
        }
    };
    let result = {
        let mut scope = env.scope();
        engine.run_ast_with_scope(&mut scope, &ast)
    };
    match result {
        Ok(()) => {
            for e in env.ctx.recoveries.pending() {
                // A driver's routine still pending means what it protects is not done
                // (a site's script ended early): the operator is told, never the silence
                // of "not needed".
                if let Some(routine) = &e.routine {
                    let how = routines::routine_words(env.site.as_ref(), routine);
                    env.ctx.ui.warn(&format!(
                        "the run ended with recovery routine #{} pending ({}): it is left to you; {how}",
                        e.id, e.what
                    ));
                    env.ctx.recoveries.settle(
                        e.id,
                        hascript_api::objects::RecoveryOutcome::LeftForOperator,
                        "run",
                        Some(&format!("the run ended with it pending; {how}")),
                    );
                    continue;
                }
                env.ctx.recoveries.settle(
                    e.id,
                    hascript_api::objects::RecoveryOutcome::NotNeeded,
                    "run",
                    Some("the run succeeded"),
                );
            }
            Outcome {
                exit: 0,
                report: None,
                kind: None,
                fields: None,
            }
        }
        Err(e) => {
            let sources = env
                .sources
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            let kind = error_kind(&e);
            let mut exit = report::exit_code_by(&e, env.ctx.changed(), env.interrupt.signal());
            let mut text = report::render_styled(&e, source_name, &sources, &env.report_style);
            // A signal may also end a run through another error (SIGHUP: a question on the
            // terminal that went away reads as "no"): its cancellation is cleared all the
            // same, or the routines could not send a command.
            let interrupted = kind == "cancelled" || env.interrupt.fired();
            let ran = run_pending(Some((engine, &ast)), env, interrupted, "run");
            if !ran.is_empty() {
                text.push('\n');
                text.push_str(&routines::report_lines(&ran).join("\n"));
                let failed = ran
                    .iter()
                    .any(|r| r.outcome != hascript_api::objects::RecoveryOutcome::Ok);
                if failed && kind != "cancelled" {
                    exit = 4;
                }
            }
            Outcome {
                exit,
                report: Some(text),
                kind: Some(kind),
                fields: Some(report::fields(&e, source_name)),
            }
        }
    }
}

pub use routines::run_pending;
