//! `list`, `show` and `check`: the procedures, a script's source, its problems.

use std::io::Write;
use std::sync::Arc;

use hascript_api::Ui;

use crate::backend;
use crate::engine::{self, RunEnv};
use crate::inventory::quoted;
use crate::output::ConsoleUi;
use crate::run::{usage, EXIT_USAGE};
use crate::scripts;

pub(super) fn cmd_list() -> i32 {
    // Shipped procedures and those on HASCRIPT_PATH (which override shipped ones by name);
    // where one comes from a folder, the title says so.
    let search = scripts::search_path();
    let shipped: Vec<(String, scripts::ScriptMeta)> = scripts::all_names(&search)
        .into_iter()
        .filter(|n| !n.starts_with("lib/"))
        .filter_map(|n| {
            let script = scripts::find(&n, &search)?;
            let mut meta = scripts::meta(&script.text);
            if let Some(p) = &script.path {
                let title = meta.title.take().unwrap_or_default();
                meta.title = Some(
                    format!("{title} [{}]", p.display())
                        .trim_start()
                        .to_string(),
                );
            }
            Some((n, meta))
        })
        .collect();
    let scen = backend::scenarios();
    let w = shipped
        .iter()
        .map(|(n, _)| n.len())
        .chain(scen.iter().map(|s| s.name.len()))
        .max()
        .unwrap_or(0);
    let sw = shipped
        .iter()
        .map(|(_, m)| {
            m.section
                .as_deref()
                .unwrap_or("-")
                .split_whitespace()
                .next()
                .unwrap_or("-")
                .len()
        })
        .chain(scen.iter().map(|s| s.section.len().max(1)))
        .max()
        .unwrap_or(1);
    // A closed pipe (`hascript list | head`) ends the listing quietly, never a panic.
    let mut so = std::io::stdout().lock();
    let _ = writeln!(so, "Procedures (hascript run NAME --sim | -i INVENTORY):");
    for (name, m) in &shipped {
        let name = name.as_str();
        let section = m.section.as_deref().unwrap_or("-");
        let (num, rest) = section.split_once(' ').unwrap_or((section, ""));
        let title = m.title.as_deref().unwrap_or(rest);
        let _ = writeln!(so, "  {name:w$}  {num:sw$}  {title}");
        // The parameters, so a run can be written from the list alone.
        let _ = writeln!(
            so,
            "  {:w$}  {:sw$}  ({})",
            "",
            "",
            scripts::params_summary(m)
        );
    }
    let _ = writeln!(so, "Scenarios (--sim NAME):");
    for s in &scen {
        let section = if s.section.is_empty() {
            "-"
        } else {
            s.section.as_str()
        };
        let _ = writeln!(so, "  {:w$}  {section:sw$}  {}", s.name, s.summary);
    }
    0
}

pub(super) fn cmd_show(name: &str) -> i32 {
    // Found as `run` finds it: a name is the override or the shipped procedure, a path is
    // a file.
    match scripts::resolve(name) {
        Ok(s) => {
            if let Some(w) = &s.shadowed {
                eprintln!("warning: {w}");
            }
            // A reader that stops early (`| head`) is not an error of `show`.
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            match write!(out, "{}{}", s.text, imported_modules_text(&s)).and_then(|_| out.flush()) {
                Ok(()) => 0,
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
                Err(e) => {
                    eprintln!("error: cannot write the script to standard output: {e}");
                    1
                }
            }
        }
        Err(e) => usage(e),
    }
}

/// The modules `script` imports (recursively, each once, as a run would resolve them: a
/// site's override shows), for `show` to append after the script: each under a header
/// naming it and where it comes from, inside a block comment, so that the output saved to
/// a file is still the script alone to Rhai (a copy made with `show > FILE` runs as the
/// original does).
fn imported_modules_text(script: &scripts::Script) -> String {
    let ui: Arc<dyn Ui> = Arc::new(ConsoleUi::new(false));
    let env = RunEnv::offline(ui);
    let engine = engine::build_engine(&env);
    let finder = engine::resolver::Resolver::new(env.search_path.clone(), env.sources.clone());
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

pub(super) fn cmd_check(names: &[String]) -> i32 {
    let ui: Arc<dyn Ui> = Arc::new(ConsoleUi::new(false));
    let env = RunEnv::offline(ui);
    let mut engine = engine::build_engine(&env);
    engine.set_strict_variables(true);
    let known = engine::lint::known_functions(&engine);
    let scope = env.scope();
    let mut problems = 0;
    for name in names {
        let script = match scripts::resolve(name) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{}: {e}", quoted(name));
                problems += 1;
                continue;
            }
        };
        if let Some(w) = &script.shadowed {
            eprintln!("warning: {w}");
        }
        // The functions of the modules it imports are known by their alias (`m::f()`).
        let mut known = known.clone();
        let finder = engine::resolver::Resolver::new(env.search_path.clone(), env.sources.clone());
        for (path, alias, _) in engine::lint::import_aliases(&engine, &script.text) {
            let module = finder.find_text(Some(&script.source_name), &path);
            let fns = module.and_then(|(_, text)| engine::lint::module_functions(&engine, &text));
            if let (Some(alias), Some(fns)) = (alias, fns) {
                known.add_module(&alias, fns);
            }
        }
        for p in engine::lint::check(&engine, &scope, &known, &script.text) {
            println!("{}:{}:{}: {}", script.source_name, p.line, p.col, p.message);
            problems += 1;
        }
        // Imports are resolved at run time; look for their modules now (without running them).
        let resolver =
            engine::resolver::Resolver::new(env.search_path.clone(), env.sources.clone());
        for (path, pos) in engine::lint::imports(&engine, &script.text) {
            if let Err(m) = resolver.find(Some(&script.source_name), &path) {
                println!(
                    "{}:{}:{}: {m}",
                    script.source_name,
                    pos.line().unwrap_or(0),
                    pos.position().unwrap_or(0)
                );
                problems += 1;
            }
        }
        // An import cycle would overflow the stack at run time: name it now.
        if let Some((file, pos, m)) =
            resolver.find_cycle(&engine, &script.source_name, &script.text)
        {
            println!(
                "{file}:{}:{}: {m}",
                pos.line().unwrap_or(0),
                pos.position().unwrap_or(0)
            );
            problems += 1;
        }
    }
    if problems == 0 {
        0
    } else {
        EXIT_USAGE
    }
}
