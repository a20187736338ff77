//! `hascript check` and the modules `hascript show` appends, as the engine answers them: the
//! CLI only prints. A script is compiled with the globals in scope and strict variables,
//! its calls compared with what exists (lint.rs), its imports found and their cycles named,
//! all without running anything.

use std::sync::Arc;

use rhai::{Engine, Scope};

use crate::lint::{self, Known};
use crate::procedure::Unseen;
use crate::resolver::Resolver;
use crate::scripts::Script;
use crate::{build_engine, RunEnv};

/// A problem `hascript check` reports, at its place in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The script or module the problem is in.
    pub file: String,
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// 1-based column (0 when unknown).
    pub col: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.col, self.message
        )
    }
}

/// What every check shares: an engine with nothing to run on, its globals and the functions
/// it knows.
pub struct Checker {
    env: RunEnv,
    engine: Engine,
    scope: Scope<'static>,
    known: Known,
    /// The modules already checked (by the name they are shown as): each is reported once.
    modules_seen: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl Default for Checker {
    fn default() -> Self {
        Checker::new()
    }
}

impl Checker {
    /// A checker over the shipped scripts and `HASCRIPT_PATH`.
    pub fn new() -> Checker {
        let env = RunEnv::offline(Arc::new(Unseen));
        let mut engine = build_engine(&env);
        engine.set_strict_variables(true);
        let known = lint::known_functions(&engine);
        let scope = env.scope();
        Checker {
            env,
            engine,
            scope,
            known,
            modules_seen: Default::default(),
        }
    }

    fn resolver(&self) -> Resolver {
        Resolver::new(self.env.search_path.clone(), self.env.sources.clone())
    }

    /// Everything `hascript check` finds in `script` and in every module it imports
    /// (each module once per checker, found as a run would find it): compile errors,
    /// undefined variables, unknown functions and methods (an imported module's functions
    /// known by its alias), imports whose module is nowhere, and an import cycle.
    pub fn check(&self, script: &Script) -> Vec<Finding> {
        let mut out = self.check_text(&script.source_name, &script.text);
        let finder = self.resolver();
        let mut seen = self.modules_seen.lock().unwrap_or_else(|p| p.into_inner());
        for (module, _) in finder.imported(&self.engine, &script.source_name, &script.text) {
            if seen.insert(module.source_name.clone()) {
                out.extend(self.check_text(&module.source_name, &module.text));
            }
        }
        // An import cycle would overflow the stack at run time: name it now.
        if let Some((file, pos, m)) =
            finder.find_cycle(&self.engine, &script.source_name, &script.text)
        {
            out.push(Finding {
                file,
                line: pos.line().unwrap_or(0),
                col: pos.position().unwrap_or(0),
                message: m,
            });
        }
        out
    }

    /// The problems of one script or module's own text (`name`: how it is shown and where
    /// its imports are looked for from).
    fn check_text(&self, name: &str, text: &str) -> Vec<Finding> {
        let at = |line: usize, col: usize, message: String| Finding {
            file: name.to_string(),
            line,
            col,
            message,
        };
        let mut known = self.known.clone();
        let finder = self.resolver();
        for (path, alias, _) in lint::import_aliases(&self.engine, text) {
            let module = finder.find_text(Some(name), &path);
            let fns = module.and_then(|(_, text)| lint::module_functions(&self.engine, &text));
            if let (Some(alias), Some(fns)) = (alias, fns) {
                known.add_module(&alias, fns);
            }
        }
        let mut out: Vec<Finding> = lint::check(&self.engine, &self.scope, &known, text)
            .into_iter()
            .map(|p| at(p.line, p.col, p.message))
            .collect();
        // Imports are resolved at run time; look for their modules now.
        for (path, pos) in lint::imports(&self.engine, text) {
            if let Err(m) = finder.find(Some(name), &path) {
                out.push(at(pos.line().unwrap_or(0), pos.position().unwrap_or(0), m));
            }
        }
        out
    }
}

/// The modules `script` imports (recursively, each once, as a run would resolve them: a
/// site's override shows), for `show` to append after the script: each under a header
/// naming it and where it comes from, inside a block comment, so that the output saved to
/// a file is still the script alone to Rhai (a copy made with `show > FILE` runs as the
/// original does).
pub fn imported_modules_text(script: &Script) -> String {
    let env = RunEnv::offline(Arc::new(Unseen));
    let engine = build_engine(&env);
    let finder = Resolver::new(env.search_path.clone(), env.sources.clone());
    let mut out = String::new();
    for m in finder.imported_modules(&engine, &script.source_name, &script.text) {
        if out.is_empty() && !script.text.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&format!(
            "\n// ---- module {} ({}) ----\n",
            m.import, m.origin
        ));
        // Rhai's block comments nest; a module whose text has `/*` or `*/` outside
        // balanced comments (in a string) is shown line by line behind `// ` instead.
        if m.text.contains("/*") || m.text.contains("*/") {
            for l in m.text.lines() {
                out.push_str("// ");
                out.push_str(l);
                out.push('\n');
            }
        } else {
            out.push_str("/*\n");
            out.push_str(&m.text);
            if !m.text.ends_with('\n') {
                out.push('\n');
            }
            out.push_str("*/\n");
        }
        out.push_str(&format!("// ---- end of module {} ----\n", m.import));
    }
    out
}
