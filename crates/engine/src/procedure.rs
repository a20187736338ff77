//! Procedures started from inside a run: `hypervisor.migrate`, `hypervisor.preflight` and
//! `hypervisor.recover` run the driver's procedure script (resolved as `hascript run`
//! resolves a name, so a site's edited procedure on `HASCRIPT_PATH` is the one every caller
//! uses), and a recovery routine described as `{procedure, params}` runs that script.
//!
//! A nested procedure shares the run (site, context and its recovery routines, journal,
//! interrupt, sources) but gets its own engine and its own `params`: the globals are built
//! per engine, so the nested script's functions never read the caller's parameters. A
//! procedure that re-enters itself is an error.

use std::collections::BTreeMap;

use rhai::{Dynamic, Engine, ImmutableString, NativeCallContext, Position};

use super::error::{lift, throw, usage, RhaiRes};
use super::hypervisor::HypervisorObj;
use super::{build_engine, compile, reg, Deferred, RunEnv};
use hascript_api::{Error, ErrorKind};

/// The procedures running now in this run, outermost first (source names).
pub type Active = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// Marks a procedure as running until dropped.
struct Entered {
    active: Active,
}

impl Drop for Entered {
    fn drop(&mut self) {
        self.active.lock().unwrap_or_else(|p| p.into_inner()).pop();
    }
}

/// Mark `source_name` as running in `env`'s run; refused when it already is (a procedure
/// that re-enters itself would loop).
fn enter(env: &RunEnv, source_name: &str, pos: Position) -> RhaiRes<Entered> {
    let mut a = env.active.lock().unwrap_or_else(|p| p.into_inner());
    if a.iter().any(|s| s == source_name) {
        let chain = a.join(" → ");
        return Err(throw(
            Error::usage(format!(
                "the procedure {source_name} re-enters itself ({chain} → {source_name}); a procedure must not call the generic action that runs it"
            )),
            pos,
        ));
    }
    a.push(source_name.to_string());
    Ok(Entered {
        active: env.active.clone(),
    })
}

/// Mark the top script of a run as running (for the re-entry check) until the returned
/// guard is dropped.
pub fn enter_top(env: &RunEnv, source_name: &str) -> impl Drop {
    env.active
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(source_name.to_string());
    Entered {
        active: env.active.clone(),
    }
}

/// The environment of a nested procedure: the run's, with `params` of its own.
fn child_env(env: &RunEnv, params: BTreeMap<String, String>) -> RunEnv {
    let mut child = env.clone();
    child.params = params;
    // Its own `params`, never the caller's (functions read them through its own engine).
    child.params_now = Default::default();
    child.refresh_params();
    // Its `defer` closures belong to its own engine.
    child.deferred = Deferred::default();
    child
}

/// Find procedure `name` (HASCRIPT_PATH or shipped) and record it in the run's journal
/// (`script_loaded`): what `resume` and `unwind` compare against later.
fn find(env: &RunEnv, name: &str, pos: Position) -> RhaiRes<crate::scripts::Script> {
    let script = crate::scripts::find(name, &env.search_path).ok_or_else(|| {
        usage(
            format!("no procedure {name}: neither on HASCRIPT_PATH nor shipped"),
            pos,
        )
    })?;
    if let Some(j) = &env.journal {
        j.script_loaded(&crate::scripts::Loaded::of(
            name,
            crate::scripts::LoadKind::Procedure,
            &script,
        ));
    }
    Ok(script)
}

/// Compile procedure `name` (HASCRIPT_PATH or shipped) for a nested run with `params`.
fn load(
    env: &RunEnv,
    name: &str,
    params: BTreeMap<String, String>,
    pos: Position,
) -> RhaiRes<(crate::scripts::Script, Engine, rhai::AST, RunEnv)> {
    let script = find(env, name, pos)?;
    let child = child_env(env, params);
    let engine = build_engine(&child);
    let ast = compile(&engine, &child, &script.source_name, &script.text)?;
    Ok((script, engine, ast, child))
}

/// Run procedure `name` with `params` inside the current run; its value is the script's
/// (the value of its last statement, or what it returns).
pub fn run_procedure(
    env: &RunEnv,
    name: &str,
    params: BTreeMap<String, String>,
    pos: Position,
) -> RhaiRes<Dynamic> {
    let (script, engine, ast, child) = load(env, name, params, pos)?;
    let _entered = enter(env, &script.source_name, pos)?;
    let mut scope = child.scope();
    engine
        .eval_ast_with_scope::<Dynamic>(&mut scope, &ast)
        .map_err(|e| in_procedure(e, &script.source_name, pos))
}

/// An error a nested procedure ended with, as arising in that procedure's source (called at
/// `pos` of its caller): the report then shows the procedure's line, not a line of the
/// caller's file with the same number. `catch` still sees the error itself (Rhai unwraps it).
fn in_procedure(
    e: Box<rhai::EvalAltResult>,
    source_name: &str,
    pos: Position,
) -> Box<rhai::EvalAltResult> {
    rhai::EvalAltResult::ErrorInFunctionCall(
        format!("{PROCEDURE_FRAME}{source_name}"),
        source_name.to_string(),
        e,
        pos,
    )
    .into()
}

/// How [`in_procedure`]'s frame is named (report.rs words it as a procedure, not a function).
pub const PROCEDURE_FRAME: &str = "procedure ";

/// Call function `func` of procedure `name` without running the procedure's body (the
/// procedure's own `preflight(guest, target)`, which its body also calls): only the
/// procedure's top-level `import`s run first, so the function sees the modules it would see
/// in a run of the whole procedure. The procedure counts as running meanwhile: a call that
/// re-enters it is refused as in [`run_procedure`].
pub fn call_procedure_fn(
    env: &RunEnv,
    name: &str,
    func: &str,
    args: Vec<Dynamic>,
    pos: Position,
) -> RhaiRes<Dynamic> {
    let (script, engine, ast, child) = load(env, name, BTreeMap::new(), pos)?;
    // Re-entry too: a `preflight` that calls `hypervisor.preflight` would otherwise build
    // engine after engine until the thread's stack overflows.
    let _entered = enter(env, &script.source_name, pos)?;
    let arity = args.len();
    if !ast
        .iter_functions()
        .any(|f| f.name == func && f.params.len() == arity)
    {
        return Err(throw(
            Error::new(
                ErrorKind::Unsupported,
                format!(
                    "the procedure {} defines no function {func} with {arity} parameter(s), which hypervisor.{func} runs",
                    script.source_name
                ),
            ),
            pos,
        ));
    }
    // The procedure's top-level imports run first, as when the whole procedure runs (its
    // functions may use a module it imports at its top); nothing else of its body does.
    let imports: Vec<rhai::Stmt> = ast
        .statements()
        .iter()
        .filter(|s| matches!(s, rhai::Stmt::Import(x, _) if matches!(x.0, rhai::Expr::StringConstant(..))))
        .cloned()
        .collect();
    let ast = rhai::AST::new_with_source(
        imports,
        ast.shared_lib().clone(),
        script.source_name.as_str(),
    );
    let mut scope = child.scope();
    let opts = rhai::CallFnOptions::new().eval_ast(true);
    engine
        .call_fn_with_options::<Dynamic>(opts, &mut scope, &ast, func, args)
        .map_err(|e| in_procedure(e, &script.source_name, pos))
}

/// The procedure the site's driver runs for `generic`, or `None` (the driver's Rust).
fn procedure_of(
    env: &RunEnv,
    generic: &str,
    args: &[&str],
) -> Option<hascript_api::objects::ProcedureCall> {
    env.site.procedure(generic, args)
}

/// Register `hypervisor.migrate`, `preflight` and `recover`: the driver's procedure script
/// where it declares one, its Rust method otherwise.
pub fn register(engine: &mut Engine, run: &RunEnv) {
    let env = run.clone();
    reg(
        "migrate",
        &["hypervisor: Hypervisor", "guest: String", "target: String"],
        "Map",
        "Live-migrate `guest` to `target` with the driver's whole procedure. On LDoms this runs the\nprocedure script ldoms/live-migration (a site's edited copy on HASCRIPT_PATH if there is one)\nand returns its value; on Serviceguard the procedure hpvm/move-package (B5, `package` =\n`guest`).",
    )
    .register_into_engine(
        engine,
        move |ctx: NativeCallContext, h: &mut HypervisorObj, g: ImmutableString, target: ImmutableString| -> RhaiRes<Dynamic> {
            let pos = ctx.call_position();
            match procedure_of(&env, "migrate", &[&g, &target]) {
                Some(p) => run_procedure(&env, p.name, p.params.into_iter().collect(), pos),
                None => lift(h.get().migrate(&g, &target), pos),
            }
        },
    );
    let env = run.clone();
    reg(
        "preflight",
        &["hypervisor: Hypervisor", "guest: String", "target: String"],
        "Map",
        "The read-only preflight of moving `guest` to `target`: the function `preflight(guest,\ntarget)` of the driver's procedure (ldoms/live-migration on LDoms, hpvm/move-package on\nServiceguard: its own list of checks, as the site edited it); throws a `check` error\nnaming every failed check and its remedy.",
    )
    .register_into_engine(
        engine,
        move |ctx: NativeCallContext, h: &mut HypervisorObj, g: ImmutableString, target: ImmutableString| -> RhaiRes<Dynamic> {
            let pos = ctx.call_position();
            match procedure_of(&env, "preflight", &[&g, &target]) {
                Some(p) => call_procedure_fn(&env, p.name, "preflight", vec![g.into(), target.into()], pos),
                None => lift(h.get().preflight(&g, &target), pos),
            }
        },
    );
    let env = run.clone();
    reg(
        "recover",
        &["hypervisor: Hypervisor", "guest: String"],
        "Map",
        "State-aware recovery of an aborted migration of `guest`: on LDoms the procedure\nldoms/recover-migration (the 17.3.1.1 note), on Serviceguard the procedure hpvm/recover-move\n(B5).",
    )
    .register_into_engine(
        engine,
        move |ctx: NativeCallContext, h: &mut HypervisorObj, g: ImmutableString| -> RhaiRes<Dynamic> {
            let pos = ctx.call_position();
            match procedure_of(&env, "recover", &[&g]) {
                Some(p) => run_procedure(&env, p.name, p.params.into_iter().collect(), pos),
                None => lift(h.get().recover(&g), pos),
            }
        },
    );
}

/// Register `run_procedure(name, params)`: a procedure composed of others (the
/// cmappmgr/cmappserver upgrade runs hpvm/move-package and hpvm/install-cmappserver).
pub fn register_run_procedure(engine: &mut Engine, run: &RunEnv) {
    let env = run.clone();
    reg(
        "run_procedure",
        &["name: String", "params: Map"],
        "Dynamic",
        "Run procedure `name` (a site's copy on HASCRIPT_PATH, else the shipped one) inside this\nrun with `params`, e.g. `#{\"package\": \"slvm1\", target: \"node2\"}` (`package` quoted: a\nRhai keyword; values are passed as text). It shares the run (site, journal, locks,\nrecovery routines) and returns its value; its errors are this call's. A procedure that\nre-enters itself is refused.",
    )
    .register_into_engine(
        engine,
        move |ctx: NativeCallContext, name: ImmutableString, params: rhai::Map| -> RhaiRes<Dynamic> {
            let pos = ctx.call_position();
            let mut p = BTreeMap::new();
            for (k, v) in params {
                if v.is_unit() {
                    continue;
                }
                let text = if v.is_string() { v.into_string().unwrap_or_default() } else { v.to_string() };
                p.insert(k.to_string(), text);
            }
            run_procedure(&env, &name, p, pos)
        },
    );
}

/// The scripts a run of procedure `name` would load now (`HASCRIPT_PATH` folders
/// `search`, then shipped): the procedure and every module it imports, found without
/// running anything, as `script_loaded` records them. Empty when there is no such
/// procedure.
pub fn loads_of(name: &str, search: &[std::path::PathBuf]) -> Vec<crate::scripts::Loaded> {
    use crate::scripts::{LoadKind, Loaded};
    let Some(script) = crate::scripts::find(name, search) else {
        return Vec::new();
    };
    let mut env = RunEnv::offline(std::sync::Arc::new(Unseen));
    env.search_path = search.to_vec();
    let engine = build_engine(&env);
    let resolver = super::resolver::Resolver::new(search.to_vec(), env.sources.clone());
    let mut out = vec![Loaded::of(name, LoadKind::Procedure, &script)];
    for (m, by) in resolver.imported(&engine, &script.source_name, &script.text) {
        out.push(Loaded::of(&by, LoadKind::Module, &m));
    }
    out
}

/// The words of an error a nested procedure ended with: its message and remedy.
pub fn error_words(e: &rhai::EvalAltResult) -> String {
    use rhai::EvalAltResult as E;
    match e {
        E::ErrorInFunctionCall(_, _, inner, _) | E::ErrorInModule(_, inner, _) => {
            error_words(inner)
        }
        E::ErrorRuntime(v, _) => match v.read_lock::<rhai::Map>() {
            Some(m) => {
                let get = |k: &str| m.get(k).filter(|v| !v.is_unit()).map(|v| v.to_string());
                match (get("message"), get("remedy")) {
                    (Some(msg), Some(r)) => format!("{msg}; remedy: {r}"),
                    (Some(msg), None) => msg,
                    _ => v.to_string(),
                }
            }
            None => v.to_string(),
        },
        E::ErrorTerminated(..) => "interrupted".to_string(),
        other => other.to_string(),
    }
}

/// The UI of an engine built only to list imports: it runs nothing, so nothing is shown
/// and nothing can be asked.
pub(crate) struct Unseen;

impl hascript_api::Ui for Unseen {
    fn step(&self, _section: &str, _title: &str) {}
    fn info(&self, _message: &str) {}
    fn warn(&self, _message: &str) {}
    fn confirm(&self, question: &str) -> Result<bool, hascript_api::Error> {
        Err(hascript_api::Error::new(
            hascript_api::ErrorKind::Declined,
            format!("no question can be asked while imports are listed: {question}"),
        ))
    }
    fn waiting(&self, _progress: &hascript_api::WaitProgress) {}
}
