//! `hascript check`: compile with the globals in scope and strict variables, then look for
//! calls to functions that exist nowhere (Rhai only finds those at run time).

use std::collections::HashSet;

use rhai::{ASTNode, Engine, Expr, Position, Scope, Stmt};

/// One problem found in a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// 1-based column (0 when unknown).
    pub col: usize,
    /// What is wrong.
    pub message: String,
}

/// Names the engine handles itself rather than through registered functions.
const INTRINSICS: &[&str] = &[
    "print",
    "debug",
    "type_of",
    "Fn",
    "call",
    "curry",
    "is_def_var",
    "is_def_fn",
    "is_shared",
    "is_anonymous",
    "this",
    "eval",
];

/// The names of every function `engine` knows (registered and standard).
pub fn known_functions(engine: &Engine) -> HashSet<String> {
    let mut names: HashSet<String> = engine
        .gen_fn_signatures(true)
        .into_iter()
        .filter_map(|s| s.split('(').next().map(|n| n.trim().to_string()))
        .collect();
    names.extend(INTRINSICS.iter().map(|s| s.to_string()));
    names
}

fn problem(pos: Position, message: String) -> Problem {
    Problem {
        line: pos.line().unwrap_or(0),
        col: pos.position().unwrap_or(0),
        message,
    }
}

/// The literal paths of a script's `import` statements, with their positions.
pub fn imports(engine: &Engine, text: &str) -> Vec<(String, Position)> {
    let Ok(ast) = engine.compile(text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        if let Some(ASTNode::Stmt(Stmt::Import(x, pos))) = path.last() {
            if let Expr::StringConstant(s, _) = &x.0 {
                out.push((s.to_string(), *pos));
            }
        }
        true
    });
    out
}

/// Check one script: compile errors, undefined variables, calls to unknown functions.
/// `engine` must have strict variables on; `scope` holds the globals.
pub fn check(engine: &Engine, scope: &Scope, known: &HashSet<String>, text: &str) -> Vec<Problem> {
    let ast = match engine.compile_with_scope(scope, text) {
        Ok(a) => a,
        Err(e) => {
            let pos = e.position();
            return vec![problem(pos, e.err_type().to_string())];
        }
    };
    let mut own: HashSet<String> = HashSet::new();
    let mut vars: HashSet<String> = HashSet::new();
    for f in ast.iter_functions() {
        own.insert(f.name.to_string());
        vars.extend(f.params.iter().map(|p| p.to_string()));
    }
    let mut calls: Vec<(String, Position)> = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        match path.last() {
            Some(ASTNode::Expr(Expr::FnCall(f, pos)))
            | Some(ASTNode::Expr(Expr::MethodCall(f, pos)))
            | Some(ASTNode::Stmt(Stmt::FnCall(f, pos)))
                if f.namespace.is_empty() && f.op_token.is_none() =>
            {
                calls.push((f.name.to_string(), *pos));
            }
            Some(ASTNode::Expr(Expr::Variable(v, _, _))) => {
                vars.insert(v.1.to_string());
            }
            Some(ASTNode::Stmt(Stmt::Var(v, _, _))) => {
                vars.insert(v.0.name.to_string());
            }
            _ => {}
        }
        true
    });
    let mut out = Vec::new();
    for (name, pos) in calls {
        let ident = name
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_');
        if !ident || known.contains(&name) || own.contains(&name) || vars.contains(&name) {
            continue;
        }
        out.push(problem(pos, format!("call to unknown function '{name}'")));
    }
    out.sort_by_key(|p| (p.line, p.col));
    out
}
