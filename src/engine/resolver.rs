//! `import "name"`: resolved in the importing script's own folder, then each folder of
//! `HASCRIPT_PATH`, then the shipped scripts. Absolute paths and `..` are refused.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

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
}

impl Resolver {
    /// A resolver over the `HASCRIPT_PATH` folders `search`, recording loaded sources.
    pub fn new(search: Vec<PathBuf>, sources: SourceMap) -> Self {
        Resolver {
            search,
            sources,
            cache: Mutex::new(HashMap::new()),
        }
    }
}

/// Where the script named `source` lives: a folder on disk, or a folder of the shipped
/// scripts (`Err(prefix)`).
fn home_of(source: Option<&str>) -> Option<Result<PathBuf, String>> {
    let source = source?;
    let p = Path::new(source);
    if p.is_file() {
        return Some(Ok(p.parent().map(Path::to_path_buf).unwrap_or_default()));
    }
    if scripts::shipped_source(source).is_some() {
        let prefix = source
            .rsplit_once('/')
            .map(|(d, _)| d.to_string())
            .unwrap_or_default();
        return Some(Err(prefix));
    }
    None
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

    fn locate(&self, source: Option<&str>, stem: &str) -> Option<(String, String)> {
        let read = |p: PathBuf| -> Option<(String, String)> {
            if p.is_file() {
                std::fs::read_to_string(&p)
                    .ok()
                    .map(|t| (p.display().to_string(), t))
            } else {
                None
            }
        };
        match home_of(source) {
            Some(Ok(dir)) => {
                if let Some(f) = read(dir.join(format!("{stem}.rhai"))) {
                    return Some(f);
                }
            }
            Some(Err(prefix)) if !prefix.is_empty() => {
                let name = format!("{prefix}/{stem}");
                if let Some(s) = scripts::find(&name, &self.search) {
                    return Some((s.source_name, s.text));
                }
            }
            _ => {}
        }
        scripts::find(stem, &self.search).map(|s| (s.source_name, s.text))
    }
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
        let Some((name, text)) = self.locate(source, stem) else {
            return Err(EvalAltResult::ErrorModuleNotFound(
                format!(
                    "{path} (looked in the script's folder, HASCRIPT_PATH and the shipped scripts)"
                ),
                pos,
            )
            .into());
        };
        if let Some(m) = self
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&name)
        {
            return Ok(m.clone());
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
