//! `import "name"`: resolved in the importing script's own folder, then each folder of
//! `HASCRIPT_PATH`, then the shipped scripts. Absolute paths and `..` are refused. A
//! shipped script's own folder is its folder among the shipped scripts (or its override on
//! `HASCRIPT_PATH`), never a folder of the same name under the current folder.
//!
//! An import cycle (`a` imports `b` imports `a`) would recurse until the stack overflows
//! (Rhai fills its module cache only after a module has run, and its `max_modules` counts
//! only finished imports): the resolver keeps the chain of modules being imported on each
//! thread and refuses the import that closes a cycle, naming the chain.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::thread::ThreadId;

use rhai::module_resolvers::ModuleResolver;
use rhai::{Engine, EvalAltResult, Module, Position, Scope};

type SharedModule = std::sync::Arc<Module>;

use super::error::usage;
use super::SourceMap;
use crate::scripts;

/// The module resolver of every engine hascript builds.
pub struct Resolver {
    search: Vec<PathBuf>,
    sources: SourceMap,
    cache: Mutex<HashMap<String, SharedModule>>,
    /// Per thread, the modules being imported, outermost first (the importing script at
    /// the bottom): what an import cycle is detected against.
    chains: Mutex<HashMap<ThreadId, Vec<(String, String)>>>,
    /// The run's journal, which records every module loaded (`script_loaded`).
    journal: Option<std::sync::Arc<dyn super::runlog::StepLog>>,
}

impl Resolver {
    /// A resolver over the `HASCRIPT_PATH` folders `search`, recording loaded sources.
    pub fn new(search: Vec<PathBuf>, sources: SourceMap) -> Self {
        Resolver {
            search,
            sources,
            cache: Mutex::new(HashMap::new()),
            chains: Mutex::new(HashMap::new()),
            journal: None,
        }
    }

    /// The same, recording each module it loads in the run's `journal`.
    pub fn with_journal(
        mut self,
        journal: Option<std::sync::Arc<dyn super::runlog::StepLog>>,
    ) -> Self {
        self.journal = journal;
        self
    }
}

/// Where the script named `source` lives: a folder on disk, or a folder of the shipped
/// scripts (`Err(prefix)`). A shipped name is looked up first and never stands for a file
/// in the current folder: scripts from files are named by their path (which starts with
/// `/`, `./` or `../`, or ends with `.rhai`).
fn home_of(source: Option<&str>) -> Option<Result<PathBuf, String>> {
    let source = source?;
    if !scripts::is_path_arg(source) {
        return scripts::shipped_source(source).map(|_| {
            Err(source
                .rsplit_once('/')
                .map(|(d, _)| d.to_string())
                .unwrap_or_default())
        });
    }
    let p = Path::new(source);
    if p.is_file() {
        return Some(Ok(p.parent().map(Path::to_path_buf).unwrap_or_default()));
    }
    None
}

/// The key a module is known by in an import chain: its file, made canonical (the same
/// file reached under two spellings is one module), or its shipped name.
fn chain_key(name: &str) -> String {
    if scripts::is_path_arg(name) {
        if let Ok(p) = std::fs::canonicalize(name) {
            return p.display().to_string();
        }
    }
    name.to_string()
}

/// The message for an import cycle: `chain` (outermost first) then `name` again.
fn cycle_message(chain: &[String], name: &str) -> String {
    let mut names: Vec<&str> = chain.iter().map(String::as_str).collect();
    names.push(name);
    format!(
        "import cycle: {} (a module cannot import, directly or through others, a module that imports it; move what both need into a third module)",
        names.join(" imports ")
    )
}

/// Check an import path: relative, no `..`, no empty component.
pub fn check_import(path: &str) -> Result<&str, String> {
    let stem = path.strip_suffix(".rhai").unwrap_or(path);
    if stem.starts_with('/') || Path::new(stem).is_absolute() {
        return Err(format!(
            "import {path:?} refused: absolute paths are not allowed; import by a name relative to the script's folder, HASCRIPT_PATH or the shipped scripts"
        ));
    }
    if stem.split(['/', '\\']).any(|c| c == "..") {
        return Err(format!(
            "import {path:?} refused: `..` is not allowed; put the module beside the script or in a HASCRIPT_PATH folder"
        ));
    }
    if !scripts::valid_name(stem) {
        return Err(format!("import {path:?} refused: not a valid module name"));
    }
    Ok(stem)
}

impl Resolver {
    /// Whether `import path` from the script named `source` would find a module, without
    /// running it (for `hascript check`): the module's name, or why not.
    pub fn find(&self, source: Option<&str>, path: &str) -> Result<String, String> {
        let stem = check_import(path)?;
        self.locate(source, stem).map(|(name, _)| name).ok_or_else(|| {
            format!(
                "module not found: {path} (looked in the script's folder, HASCRIPT_PATH and the shipped scripts)"
            )
        })
    }

    /// As [`find`](Self::find), with the module's text (for `check`, which reads the
    /// functions a module defines without running it).
    pub fn find_text(&self, source: Option<&str>, path: &str) -> Option<(String, String)> {
        let stem = check_import(path).ok()?;
        self.locate(source, stem)
    }

    fn locate(&self, source: Option<&str>, stem: &str) -> Option<(String, String)> {
        self.locate_script(source, stem)
            .map(|(s, _)| (s.source_name, s.text))
    }

    /// The module `import stem` from the script named `source` loads, and the name it was
    /// found by (`stem` for a file beside the importer; the name [`scripts::find`] found on
    /// `HASCRIPT_PATH` or shipped otherwise): what the journal records to find it again.
    pub fn locate_script(
        &self,
        source: Option<&str>,
        stem: &str,
    ) -> Option<(scripts::Script, String)> {
        let read = |p: PathBuf| -> Option<scripts::Script> {
            if p.is_file() {
                std::fs::read_to_string(&p)
                    .ok()
                    .map(|text| scripts::Script {
                        source_name: p.display().to_string(),
                        text,
                        path: Some(std::path::absolute(&p).unwrap_or(p)),
                        origin: scripts::Origin::File,
                        shadowed: None,
                    })
            } else {
                None
            }
        };
        let found = |name: String| scripts::find(&name, &self.search).map(|s| (s, name));
        match home_of(source) {
            Some(Ok(dir)) => {
                if let Some(f) = read(dir.join(format!("{stem}.rhai"))) {
                    return Some((f, stem.to_string()));
                }
                // An override on HASCRIPT_PATH (`FOLDER/ldoms/x.rhai`) imports as the
                // shipped script it replaces would: `ldoms/NAME` next.
                let prefix = self.search.iter().find_map(|d| {
                    let rel = dir.strip_prefix(d).ok()?;
                    let parts: Vec<String> = rel
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect();
                    (!parts.is_empty()).then(|| parts.join("/"))
                });
                if let Some(prefix) = prefix {
                    if let Some(f) = found(format!("{prefix}/{stem}")) {
                        return Some(f);
                    }
                }
            }
            Some(Err(prefix)) if !prefix.is_empty() => {
                if let Some(f) = found(format!("{prefix}/{stem}")) {
                    return Some(f);
                }
            }
            _ => {}
        }
        found(stem.to_string())
    }
}

/// While alive, `name` is on its thread's import chain; dropping it takes it off (and the
/// importing script at the bottom, when it put it there).
struct InChain<'a> {
    resolver: &'a Resolver,
    thread: ThreadId,
    depth: usize,
}

impl Drop for InChain<'_> {
    fn drop(&mut self) {
        let mut chains = self
            .resolver
            .chains
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(chain) = chains.get_mut(&self.thread) {
            chain.truncate(self.depth);
            if chain.is_empty() {
                chains.remove(&self.thread);
            }
        }
    }
}

impl Resolver {
    /// Put module `name`, imported by the script named `source`, on this thread's chain;
    /// an error naming the chain when it is already on it (an import cycle).
    fn enter(
        &self,
        source: Option<&str>,
        name: &str,
        pos: Position,
    ) -> Result<InChain<'_>, Box<EvalAltResult>> {
        let thread = std::thread::current().id();
        let mut chains = self.chains.lock().unwrap_or_else(|p| p.into_inner());
        let chain = chains.entry(thread).or_default();
        let depth = chain.len();
        if chain.is_empty() {
            // The importing script itself: importing it again is a cycle too.
            if let Some(src) = source {
                chain.push((chain_key(src), src.to_string()));
            }
        }
        let key = chain_key(name);
        if chain.iter().any(|(k, _)| *k == key) {
            let names: Vec<String> = chain.iter().map(|(_, n)| n.clone()).collect();
            let message = cycle_message(&names, name);
            if depth == 0 {
                chains.remove(&thread);
            }
            return Err(cycle_error(message, pos));
        }
        chain.push((key, name.to_string()));
        Ok(InChain {
            resolver: self,
            thread,
            depth,
        })
    }

    /// The first import cycle reachable from the script `name` with `text`, found without
    /// running anything (for `hascript check`): the script or module holding the import
    /// that closes it, that import's position, and the message naming the chain.
    pub fn find_cycle(
        &self,
        engine: &Engine,
        name: &str,
        text: &str,
    ) -> Option<(String, Position, String)> {
        let mut done = HashSet::new();
        let mut chain = vec![(chain_key(name), name.to_string())];
        self.walk(engine, text, &mut chain, &mut done)
    }

    /// Every module the script named `name` with `text` imports, directly or through
    /// others, as a run would load them now, each with the name it was found by (read
    /// without running anything: what `unwind` compares with what a dead run loaded).
    pub fn imported(
        &self,
        engine: &Engine,
        name: &str,
        text: &str,
    ) -> Vec<(scripts::Script, String)> {
        let mut out: Vec<(scripts::Script, String)> = Vec::new();
        let mut todo = vec![(name.to_string(), text.to_string())];
        while let Some((current, text)) = todo.pop() {
            for (path, _) in super::lint::imports(engine, &text) {
                let Ok(stem) = check_import(&path) else {
                    continue;
                };
                let Some((s, by)) = self.locate_script(Some(&current), stem) else {
                    continue;
                };
                if s.source_name == name || out.iter().any(|(o, _)| o.source_name == s.source_name)
                {
                    continue;
                }
                todo.push((s.source_name.clone(), s.text.clone()));
                out.push((s, by));
            }
        }
        out
    }

    fn walk(
        &self,
        engine: &Engine,
        text: &str,
        chain: &mut Vec<(String, String)>,
        done: &mut HashSet<String>,
    ) -> Option<(String, Position, String)> {
        let (key, current) = chain.last().cloned()?;
        for (path, pos) in super::lint::imports(engine, text) {
            let Ok(stem) = check_import(&path) else {
                continue;
            };
            let Some((name, module_text)) = self.locate(Some(&current), stem) else {
                continue;
            };
            let k = chain_key(&name);
            if chain.iter().any(|(c, _)| *c == k) {
                let names: Vec<String> = chain.iter().map(|(_, n)| n.clone()).collect();
                return Some((current, pos, cycle_message(&names, &name)));
            }
            if done.contains(&k) {
                continue;
            }
            chain.push((k, name));
            let found = self.walk(engine, &module_text, chain, done);
            chain.pop();
            if found.is_some() {
                return found;
            }
        }
        done.insert(key);
        None
    }
}

/// A module a script imports, found as the resolver finds it at run time (for `hascript
/// show`).
#[derive(Debug, Clone)]
pub struct ImportedModule {
    /// The name in the `import` statement (`lib/ldoms/migration`).
    pub import: String,
    /// Where it was found: `shipped`, `HASCRIPT_PATH: /path` or `file: /path`.
    pub origin: String,
    /// Its text.
    pub text: String,
}

impl Resolver {
    /// Every module the script named `name` with `text` imports, directly or through
    /// others, each once, in the order a reader meets them (a module, then what it
    /// imports): the modules a run would load, a site's override where there is one.
    /// Imports that would not resolve, and import cycles, are left out (`check` names them).
    pub fn imported_modules(&self, engine: &Engine, name: &str, text: &str) -> Vec<ImportedModule> {
        let mut out = Vec::new();
        let mut seen = HashSet::from([chain_key(name)]);
        self.collect(engine, name, text, &mut seen, &mut out);
        out
    }

    fn collect(
        &self,
        engine: &Engine,
        current: &str,
        text: &str,
        seen: &mut HashSet<String>,
        out: &mut Vec<ImportedModule>,
    ) {
        for (path, _) in super::lint::imports(engine, text) {
            let Ok(stem) = check_import(&path) else {
                continue;
            };
            let Some((found, module_text)) = self.locate(Some(current), stem) else {
                continue;
            };
            if !seen.insert(chain_key(&found)) {
                continue;
            }
            let origin = if !scripts::is_path_arg(&found) {
                "shipped".to_string()
            } else if self.search.iter().any(|d| Path::new(&found).starts_with(d)) {
                format!("HASCRIPT_PATH: {found}")
            } else {
                format!("file: {found}")
            };
            out.push(ImportedModule {
                import: stem.to_string(),
                origin,
                text: module_text.clone(),
            });
            self.collect(engine, &found, &module_text, seen, out);
        }
    }
}

/// A script error (exit 2 before any change, 4 after one, as for Rhai's own errors) at
/// `pos`: a map shaped like the one Rhai gives `catch` for its errors.
fn cycle_error(message: String, pos: Position) -> Box<EvalAltResult> {
    let mut m = rhai::Map::new();
    m.insert("error".into(), "ErrorImportCycle".into());
    m.insert("message".into(), message.into());
    if let Some(line) = pos.line() {
        m.insert("line".into(), (line as rhai::INT).into());
    }
    if let Some(col) = pos.position() {
        m.insert("position".into(), (col as rhai::INT).into());
    }
    EvalAltResult::ErrorRuntime(m.into(), pos).into()
}

impl ModuleResolver for Resolver {
    fn resolve(
        &self,
        engine: &Engine,
        source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<SharedModule, Box<EvalAltResult>> {
        let stem = check_import(path).map_err(|m| usage(m, pos))?;
        let Some((script, found_by)) = self.locate_script(source, stem) else {
            return Err(EvalAltResult::ErrorModuleNotFound(
                format!(
                    "{path} (looked in the script's folder, HASCRIPT_PATH and the shipped scripts)"
                ),
                pos,
            )
            .into());
        };
        let (name, text) = (script.source_name.clone(), script.text.clone());
        if let Some(m) = self
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&name)
        {
            return Ok(m.clone());
        }
        let _in_chain = self.enter(source, &name, pos)?;
        if let Some(j) = &self.journal {
            j.script_loaded(&scripts::Loaded::of(
                &found_by,
                scripts::LoadKind::Module,
                &script,
            ));
        }
        self.sources
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.clone(), text.clone());
        let mut ast = engine
            .compile(&text)
            .map_err(|e| EvalAltResult::ErrorInModule(name.clone(), super::parse_error(e), pos))?;
        ast.set_source(name.clone());
        let module = Module::eval_ast_as_new(Scope::new(), &ast, engine)
            .map_err(|e| EvalAltResult::ErrorInModule(name.clone(), e, pos))?;
        let module: SharedModule = module.into();
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name, module.clone());
        Ok(module)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_absolute_and_parent_paths() {
        assert!(check_import("/etc/passwd").is_err());
        assert!(check_import("../x").is_err());
        assert!(check_import("lib/../../x").is_err());
        assert_eq!(check_import("lib/helpers"), Ok("lib/helpers"));
        assert_eq!(check_import("helpers.rhai"), Ok("helpers"));
    }
}
