//! The REPL: explore a site interactively. linefeed on a terminal, plain lines otherwise
//! (pipes, CI). Variables and functions persist across inputs, also across failed ones.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;

use hascript_api::{CancelToken, Ui};
use rhai::{Dynamic, Engine, ParseErrorType, Scope, AST};

use crate::cli::{site_spec, SiteArgs, EXIT_USAGE};
use crate::engine::{self, RunEnv};
use crate::output::ConsoleUi;
use crate::site::{self, SiteSpec};

/// Where input lines come from.
pub trait LineSource {
    /// The next line (without its newline), or `None` at the end of input.
    fn read_line(&mut self, prompt: &str) -> Option<String>;
}

/// Plain lines from standard input; the prompt is printed to standard output.
pub struct PlainLines<R: BufRead> {
    input: R,
}

impl<R: BufRead> PlainLines<R> {
    /// Lines from `input`.
    pub fn new(input: R) -> Self {
        PlainLines { input }
    }
}

impl<R: BufRead> LineSource for PlainLines<R> {
    fn read_line(&mut self, prompt: &str) -> Option<String> {
        print!("{prompt}");
        let _ = std::io::stdout().flush();
        let mut line = String::new();
        match self.input.read_line(&mut line) {
            Ok(0) | Err(_) => {
                println!();
                None
            }
            Ok(_) => {
                if !std::io::stdin().is_terminal() {
                    // Echo-less pipe: end the prompt's line so output stays readable.
                    println!();
                }
                Some(line.trim_end_matches(['\n', '\r']).to_string())
            }
        }
    }
}

/// linefeed on a terminal.
struct TermLines {
    iface: linefeed::Interface<linefeed::DefaultTerminal>,
}

impl LineSource for TermLines {
    fn read_line(&mut self, prompt: &str) -> Option<String> {
        if self.iface.set_prompt(prompt).is_err() {
            return None;
        }
        match self.iface.read_line() {
            Ok(linefeed::ReadResult::Input(l)) => {
                if !l.trim().is_empty() {
                    self.iface.add_history_unique(l.clone());
                }
                Some(l)
            }
            _ => None,
        }
    }
}

fn line_source() -> Box<dyn LineSource> {
    let term_ok = std::env::var("TERM").is_ok_and(|t| !t.is_empty() && t != "dumb");
    if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() && term_ok {
        if let Ok(iface) = linefeed::Interface::new("hascript") {
            return Box::new(TermLines { iface });
        }
    }
    Box::new(PlainLines::new(std::io::stdin().lock()))
}

/// Whether a compile error means "the input is not finished yet".
pub fn incomplete(err: &rhai::ParseError, input: &str) -> bool {
    match err.err_type() {
        ParseErrorType::UnexpectedEOF => true,
        ParseErrorType::MissingToken(..)
        | ParseErrorType::MissingSymbol(..)
        | ParseErrorType::BadInput(_) => {
            let lines: Vec<&str> = input.trim_end().lines().collect();
            let n = lines.len();
            match (err.position().line(), err.position().position()) {
                (None, _) => true,
                (Some(l), _) if l > n => true,
                (Some(l), Some(c)) if l == n => c > lines.last().map_or(0, |s| s.chars().count()),
                _ => false,
            }
        }
        _ => false,
    }
}

/// Render a value for the REPL: maps and arrays pretty, strings as they are, hascript's
/// own types (`Host`, `Cluster` …) through their registered `to_string`.
pub fn pretty(engine: &Engine, v: &Dynamic) -> String {
    if v.is_string() {
        return v.clone().into_string().unwrap_or_default();
    }
    if v.is_map() || v.is_array() {
        if let Ok(j) = rhai::serde::from_dynamic::<serde_json::Value>(v) {
            if let Ok(s) = serde_json::to_string_pretty(&j) {
                return s;
            }
        }
    }
    if v.is_variant() {
        let mut scope = rhai::Scope::new();
        scope.push_dynamic("value", v.clone());
        if let Ok(s) = engine.eval_with_scope::<String>(&mut scope, "to_string(value)") {
            return s;
        }
    }
    v.to_string()
}

/// The `:help` text: the globals, then every hascript function with its doc comment.
pub fn help(engine: &Engine) -> String {
    let mut out = vec![
        "Globals: cluster, fence, hypervisor, package, params, site".to_string(),
        "Commands: :help, :quit".to_string(),
        String::new(),
    ];
    let json = engine.gen_fn_metadata_to_json(false).unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
    let mut entries: Vec<(String, String, String)> = Vec::new();
    for f in v
        .get("functions")
        .and_then(|f| f.as_array())
        .into_iter()
        .flatten()
    {
        let name = f.get("name").and_then(|n| n.as_str()).unwrap_or_default();
        if name.starts_with("to_") || name.starts_with("get$") || name.starts_with("set$") {
            continue;
        }
        let params: Vec<(String, String)> = f
            .get("params")
            .and_then(|p| p.as_array())
            .into_iter()
            .flatten()
            .map(|p| {
                (
                    p.get("name")
                        .and_then(|n| n.as_str())
                        .unwrap_or("_")
                        .to_string(),
                    p.get("type")
                        .and_then(|n| n.as_str())
                        .unwrap_or("")
                        .to_string(),
                )
            })
            .collect();
        let objects = ["Cluster", "Fence", "Hypervisor", "Package", "Host"];
        let (recv, rest) = match params.first() {
            Some((n, t)) if objects.contains(&t.as_str()) => (Some(n.clone()), &params[1..]),
            _ => (None, &params[..]),
        };
        let args: Vec<String> = rest
            .iter()
            .map(|(n, t)| {
                if t.is_empty() {
                    n.clone()
                } else {
                    format!("{n}: {t}")
                }
            })
            .collect();
        let ret = f.get("returnType").and_then(|r| r.as_str()).unwrap_or("");
        let sig = match &recv {
            Some(r) => format!("{r}.{name}({})", args.join(", ")),
            None => format!("{name}({})", args.join(", ")),
        };
        let sig = if ret.is_empty() || ret == "()" {
            sig
        } else {
            format!("{sig} -> {ret}")
        };
        let doc: Vec<String> = f
            .get("docComments")
            .and_then(|d| d.as_array())
            .into_iter()
            .flatten()
            .filter_map(|d| d.as_str())
            .flat_map(|d| {
                d.lines()
                    .map(|l| l.trim_start_matches("///").trim().to_string())
                    .collect::<Vec<_>>()
            })
            .collect();
        let group = recv.unwrap_or_else(|| "~".into());
        entries.push((group, sig, doc.join("\n    ")));
    }
    entries.sort();
    for (_, sig, doc) in entries {
        out.push(sig);
        if !doc.is_empty() {
            out.push(format!("    {doc}"));
        }
    }
    out.join("\n")
}

/// One REPL session over an engine and an environment.
pub struct Session {
    engine: Engine,
    env: RunEnv,
    scope: Scope<'static>,
    ast: AST,
}

/// What one complete input gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A value to print (`None` for unit).
    Value(Option<String>),
    /// An error report.
    Error(String),
}

impl Session {
    /// A session over `env`.
    pub fn new(env: RunEnv) -> Self {
        let mut engine = engine::build_engine(&env);
        engine.set_optimization_level(rhai::OptimizationLevel::None);
        let scope = env.scope();
        Session {
            engine,
            env,
            scope,
            ast: AST::empty(),
        }
    }

    /// The engine (for `:help`).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Compile `input`; `Err(None)` when it is not finished yet.
    pub fn compile(&self, input: &str) -> Result<AST, Option<String>> {
        match self.engine.compile_with_scope(&self.scope, input) {
            Ok(a) => Ok(a),
            Err(e) if incomplete(&e, input) => Err(None),
            Err(e) => {
                let mut src = std::collections::HashMap::new();
                src.insert("<input>".to_string(), input.to_string());
                Err(Some(engine::report::render(
                    &engine::parse_error(e),
                    "<input>",
                    &src,
                )))
            }
        }
    }

    /// Evaluate a compiled input; variables and functions stay for later inputs.
    pub fn eval(&mut self, input: &str, ast: AST) -> Reply {
        self.ast += ast;
        self.ast.set_source("<input>");
        self.env
            .sources
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert("<input>".into(), input.to_string());
        let r = self
            .engine
            .eval_ast_with_scope::<Dynamic>(&mut self.scope, &self.ast);
        self.ast.clear_statements();
        match r {
            Ok(v) if v.is_unit() => Reply::Value(None),
            Ok(v) => Reply::Value(Some(pretty(&self.engine, &v))),
            Err(e) => {
                let sources = self
                    .env
                    .sources
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone();
                Reply::Error(engine::report::render(&e, "<input>", &sources))
            }
        }
    }
}

/// `hascript repl`.
pub fn main(args: &SiteArgs) -> i32 {
    let spec = match site_spec(args, "ldoms", false) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let console = Arc::new(ConsoleUi::new(false));
    let ui: Arc<dyn Ui> = console.clone();
    let built = match site::build(&spec, ui, CancelToken::new()) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let simulated = matches!(spec, SiteSpec::Sim { .. });
    let driver = built.site.driver();
    println!(
        "hascript {} REPL on {}{} — :help lists the objects and functions, :quit leaves",
        env!("CARGO_PKG_VERSION"),
        built.description,
        if simulated && !built.description.contains("simulated") {
            " (simulated)"
        } else {
            ""
        }
    );
    let prompt = if simulated {
        format!("hascript({driver} sim)> ")
    } else {
        format!("hascript({driver})> ")
    };
    let cont = format!(
        "{}> ",
        " ".repeat(prompt.len().saturating_sub(5)).to_string() + "..."
    );
    let env = RunEnv::new(built.site.clone(), built.ctx.clone(), Default::default());
    let mut session = Session::new(env);
    let mut lines = line_source();
    let mut buffer = String::new();
    loop {
        let p = if buffer.is_empty() { &prompt } else { &cont };
        let Some(line) = lines.read_line(p) else {
            if !buffer.trim().is_empty() {
                let msg = match session.compile(&buffer) {
                    Err(Some(e)) => e,
                    _ => "error: the input ended before it was complete".to_string(),
                };
                console.error(&msg);
            }
            return 0;
        };
        if buffer.is_empty() {
            match line.trim() {
                "" => continue,
                ":quit" | ":q" | ":exit" => return 0,
                ":help" | ":h" => {
                    println!("{}", help(session.engine()));
                    continue;
                }
                l if l.starts_with(':') => {
                    console.error(&format!("error: unknown command {l}; try :help"));
                    continue;
                }
                _ => {}
            }
        }
        buffer.push_str(&line);
        buffer.push('\n');
        match session.compile(&buffer) {
            Err(None) => continue,
            Err(Some(e)) => console.error(&e),
            Ok(ast) => match session.eval(&buffer, ast) {
                Reply::Value(Some(v)) => console.info(&v),
                Reply::Value(None) => {}
                Reply::Error(e) => console.error(&e),
            },
        }
        buffer.clear();
    }
}
