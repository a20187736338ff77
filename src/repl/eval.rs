//! Evaluating an input against the session's engine: compiling it (an unfinished input
//! is told apart), running it as the call Ctrl-C interrupts, keeping what it defined.

use hascript_api::CancelToken;
use rhai::{Dynamic, Scope, AST};

use crate::engine::{self, Interrupt};

use super::input::incomplete;
use super::site::{build_site, session_engine, simulated};
use super::{render, Reply, Session};

impl Session {
    /// Compile `input`; `Err(None)` when it is not finished yet.
    pub fn compile(&self, input: &str) -> Result<AST, Option<String>> {
        match self.engine.compile_with_scope(&self.scope, input) {
            Ok(a) => Ok(a),
            Err(e) if incomplete(&e, input) => Err(None),
            Err(e) => {
                let mut src = std::collections::HashMap::new();
                src.insert("<input>".to_string(), input.to_string());
                Err(Some(self.redactor().redact(&engine::report::render(
                    &engine::parse_error(e),
                    "<input>",
                    &src,
                ))))
            }
        }
    }

    /// Run `f` as the call under way: Ctrl-C fires its interrupt. Afterwards a fired
    /// interrupt is replaced (and a real site rebuilt with a fresh token).
    fn interruptible<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        *self.running.lock().unwrap_or_else(|p| p.into_inner()) = Some(self.env.interrupt.clone());
        let out = f(self);
        *self.running.lock().unwrap_or_else(|p| p.into_inner()) = None;
        if self.env.interrupt.fired() {
            self.recover_from_interrupt();
        }
        out
    }

    fn recover_from_interrupt(&mut self) {
        if simulated(&self.spec) {
            self.built.ctx.cancel.reset();
            self.env.interrupt = Interrupt::new(self.built.ctx.cancel.clone());
            self.engine = session_engine(&self.env);
            return;
        }
        match build_site(&self.spec, &self.opts, &self.ui) {
            Ok(b) => self.switch_to(b),
            Err(e) => {
                self.ui.error(&format!(
                    "error: cannot reconnect to the site after the interruption: {e}"
                ));
                self.env.interrupt = Interrupt::new(CancelToken::new());
                self.engine = session_engine(&self.env);
            }
        }
    }

    /// Forget variables a later `let` shadowed: no input can reach them any more (each
    /// input is compiled against the names in scope), but Rhai's scope keeps every
    /// definition, so a session repeating `let x = …` grew by one entry per line.
    fn drop_shadowed(&mut self) {
        let mut seen = std::collections::HashSet::new();
        let shadowed = self
            .scope
            .iter_raw()
            .filter(|(name, _, _)| !seen.insert(name.to_string()))
            .count();
        if shadowed == 0 {
            return;
        }
        // `iter_raw` goes newest first: keep the first of each name, rebuild oldest first.
        let mut seen = std::collections::HashSet::new();
        let mut keep: Vec<(String, bool, Dynamic)> = self
            .scope
            .iter_raw()
            .filter(|(name, _, _)| seen.insert(name.to_string()))
            .map(|(name, constant, value)| (name.to_string(), constant, value.clone()))
            .collect();
        keep.reverse();
        let mut scope = Scope::new();
        for (name, constant, value) in keep {
            if constant {
                scope.push_constant_dynamic(name, value);
            } else {
                scope.push_dynamic(name, value);
            }
        }
        self.scope = scope;
    }

    pub(super) fn show(&self, v: &Dynamic) -> Option<String> {
        render::show(&self.engine, v, self.json)
    }

    fn report(&self, e: &rhai::EvalAltResult, main: &str) -> String {
        let sources = self
            .env
            .sources
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        engine::report::render(e, main, &sources)
    }

    /// Evaluate a compiled input; variables and functions stay for later inputs. An input
    /// that ran to the end is remembered for `:save`. The reply hides every secret the
    /// session knows.
    pub fn eval(&mut self, input: &str, ast: AST) -> Reply {
        let r = self.eval_named(input, ast, "<input>", input.trim_end().to_string());
        self.hide(r)
    }

    pub(super) fn eval_named(
        &mut self,
        input: &str,
        ast: AST,
        source: &str,
        record: String,
    ) -> Reply {
        self.ast += ast;
        self.ast.set_source(source);
        self.env
            .sources
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(source.into(), input.to_string());
        let r = self.interruptible(|s| {
            s.engine
                .eval_ast_with_scope::<Dynamic>(&mut s.scope, &s.ast)
        });
        self.ast.clear_statements();
        self.drop_shadowed();
        match r {
            Ok(v) => {
                self.accepted.push(record);
                let shown = self.show(&v);
                if !v.is_unit() {
                    self.last = Some(v);
                }
                Reply::Value(shown)
            }
            Err(e) => Reply::Error(self.report(&e, source)),
        }
    }
}
