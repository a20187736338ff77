//! The `:` commands: `:help`, `:json`, `:vars`, `:load`, `:save`, `:scenarios`; `:sim`
//! and `:inventory` are in `site.rs`, `:run` in `procedure.rs`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hascript_api::Ui;
use rhai::Engine;

use crate::engine::{self, RunEnv, GLOBALS};
use crate::output::ConsoleUi;
use crate::site::SiteSpec;

use super::help::{help_overview, help_topic};
use super::{Reply, Session};

impl Session {
    /// Handle a `:command` line. The reply hides every secret the session knows.
    pub fn command(&mut self, line: &str) -> Reply {
        let r = self.command_raw(line);
        self.hide(r)
    }

    fn command_raw(&mut self, line: &str) -> Reply {
        let line = line.trim();
        let (cmd, rest) = match line.split_once(char::is_whitespace) {
            Some((c, r)) => (c, r.trim()),
            None => (line, ""),
        };
        match cmd {
            ":quit" | ":q" | ":exit" => Reply::Quit,
            ":help" | ":h" if rest.is_empty() => Reply::Text(help_overview(&self.api)),
            ":help" | ":h" => match help_topic(&self.api, rest) {
                Ok(t) => Reply::Text(t),
                Err(e) => Reply::Error(e),
            },
            ":json" => {
                self.json = !self.json;
                let mode = if self.json { "JSON" } else { "tables" };
                let mut out = format!("values are shown as {mode}");
                if let Some(v) = &self.last {
                    if let Some(s) = self.show(v) {
                        out.push('\n');
                        out.push_str(&s);
                    }
                }
                Reply::Text(out)
            }
            ":vars" => Reply::Text(self.vars_text()),
            ":scenarios" => Reply::Text(scenarios_text()),
            ":sim" => {
                let spec = SiteSpec::Sim {
                    scenario: (!rest.is_empty()).then(|| rest.to_string()),
                    default_driver: "ldoms".into(),
                    state: None,
                };
                self.switch_site(spec, &format!(":sim {rest}"))
            }
            ":inventory" | ":i" if !rest.is_empty() => {
                self.switch_site(SiteSpec::Inventory(PathBuf::from(rest)), &format!(":inventory {rest}"))
            }
            ":inventory" | ":i" => Reply::Error("error: :inventory needs a file: :inventory site.toml".into()),
            ":load" if !rest.is_empty() => self.load(Path::new(rest)),
            ":load" => Reply::Error("error: :load needs a file: :load my.rhai".into()),
            ":save" if !rest.is_empty() => self.save(Path::new(rest)),
            ":save" => Reply::Error("error: :save needs a file: :save session.rhai".into()),
            ":run" if !rest.is_empty() => self.run(rest),
            ":run" => Reply::Error(
                "error: :run needs a procedure: :run ldoms/verify-fence (see :help :run, hascript list)".into(),
            ),
            _ => Reply::Error(format!("error: unknown command {cmd}; try :help")),
        }
    }

    fn vars_text(&self) -> String {
        let mut out = Vec::new();
        for (name, constant, value) in self.scope.iter_raw() {
            if GLOBALS.contains(&name) {
                continue;
            }
            out.push(format!(
                "{}{name}: {}",
                if constant { "const " } else { "" },
                value.type_name().rsplit("::").next().unwrap_or_default()
            ));
        }
        for f in self.ast.iter_functions() {
            out.push(format!("fn {}({})", f.name, f.params.join(", ")));
        }
        if out.is_empty() {
            "no variables or functions yet".into()
        } else {
            out.join("\n")
        }
    }

    fn load(&mut self, path: &Path) -> Reply {
        let text = match crate::files::read_regular_text(path, crate::files::MAX_TEXT_FILE) {
            Ok(t) => t,
            Err(e) => return Reply::Error(format!("error: {e}")),
        };
        let name = path.display().to_string();
        let ast = match self.engine.compile_with_scope(&self.scope, &text) {
            Ok(a) => a,
            Err(e) => {
                let mut src = std::collections::HashMap::new();
                src.insert(name.clone(), text.clone());
                return Reply::Error(engine::report::render(&engine::parse_error(e), &name, &src));
            }
        };
        let record = format!("// :load {name}\n{}", text.trim_end());
        self.eval_named(&text, ast, &name, record)
    }

    /// The accepted inputs as a script: a header saying where it was recorded and how to
    /// run it, then each input (with the `;` a statement needs before the next one).
    pub fn script(&self) -> String {
        let run_site = match &self.spec {
            SiteSpec::Sim { scenario, .. } => {
                format!("--sim {}", scenario.as_deref().unwrap_or("ldoms"))
            }
            SiteSpec::Inventory(p) => format!("-i {}", p.display()),
        };
        let mut out = format!(
            "//! title: REPL session\n//! params: (none)\n//\n// Saved by `:save` in `hascript repl` on {}.\n// Run it with: hascript run ./FILE {run_site} (a file runs when written as a path)\n\n",
            self.built.description
        );
        for input in &self.accepted {
            let t = input.trim_end();
            out.push_str(t);
            if !(t.ends_with(';') || last_line_is_comment(t)) && needs_semicolon(&self.engine, t) {
                out.push(';');
            }
            out.push('\n');
        }
        out
    }

    fn save(&mut self, path: &Path) -> Reply {
        let text = self.script();
        if let Err(e) = std::fs::write(path, &text) {
            return Reply::Error(format!("error: cannot write {}: {e}", path.display()));
        }
        let n = self
            .accepted
            .iter()
            .filter(|a| !a.starts_with("// :"))
            .count();
        let mut msg = format!(
            "saved {n} input{} to {}",
            if n == 1 { "" } else { "s" },
            path.display()
        );
        let problems = check_script(&text);
        if !problems.is_empty() {
            msg.push_str(&format!(
                "\nwarning: `hascript check` finds problems in it (it uses what a failed input defined?):\n{}",
                problems.join("\n")
            ));
        }
        if self.accepted.iter().any(|a| a.starts_with("// :run")) {
            msg.push_str("\nnote: procedures run with :run are comments in the script, at their place; run them first");
        }
        Reply::Text(msg)
    }
}

fn last_line_is_comment(t: &str) -> bool {
    t.lines()
        .last()
        .is_some_and(|l| l.trim_start().starts_with("//"))
}

/// Whether an input ending with `}` is an expression that needs a `;` before the next
/// statement (`#{a: 1}`), rather than a block statement (`fn`, `if`, `for` …).
fn needs_semicolon(engine: &Engine, t: &str) -> bool {
    // A statement that still compiles followed by another statement needs nothing.
    let probe = format!("{t}\n0");
    engine.compile(&probe).is_err() && engine.compile(format!("{t};\n0")).is_ok()
}

/// The problems `hascript check` would report in `text` (as `line:col: message`).
pub fn check_script(text: &str) -> Vec<String> {
    let ui: Arc<dyn Ui> = Arc::new(ConsoleUi::new(false));
    let env = RunEnv::offline(ui);
    let mut engine = engine::build_engine(&env);
    engine.set_strict_variables(true);
    let known = engine::lint::known_functions(&engine);
    let scope = env.scope();
    engine::lint::check(&engine, &scope, &known, text)
        .into_iter()
        .map(|p| format!("{}:{}: {}", p.line, p.col, p.message))
        .collect()
}

/// `:scenarios`.
pub fn scenarios_text() -> String {
    let scen = crate::backend::scenarios();
    let mut rows: Vec<(String, String)> = vec![
        (
            "ldoms".into(),
            "the LDoms default site (the manual's figure 17.1)".into(),
        ),
        (
            "hpvm".into(),
            "the Serviceguard / Integrity VM default site".into(),
        ),
    ];
    rows.extend(scen.into_iter().map(|s| (s.name, s.summary)));
    let w = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let mut out = vec!["Simulated sites (:sim NAME):".to_string()];
    out.extend(rows.iter().map(|(n, s)| format!("  {n:w$}  {s}")));
    out.join("\n")
}
