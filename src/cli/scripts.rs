//! `list`, `show` and `check`: the procedures, a script's source, its problems.

use std::io::Write;

use crate::backend;
use crate::engine;
use crate::inventory::quoted;
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
            match write!(
                out,
                "{}{}",
                s.text,
                engine::checker::imported_modules_text(&s)
            )
            .and_then(|_| out.flush())
            {
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

pub(super) fn cmd_check(names: &[String]) -> i32 {
    let checker = engine::checker::Checker::new();
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
        for finding in checker.check(&script) {
            println!("{finding}");
            problems += 1;
        }
    }
    if problems == 0 {
        0
    } else {
        EXIT_USAGE
    }
}
