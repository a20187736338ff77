//! `hascript check`: compile with the globals in scope and strict variables, then look for
//! calls to functions that exist nowhere (Rhai only finds those at run time).

use std::collections::{BTreeSet, HashMap, HashSet};

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

/// The script objects (global name, script type) whose methods `check` knows exactly.
const OBJECTS: [(&str, &str); 4] = [
    ("cluster", "Cluster"),
    ("fence", "Fence"),
    ("hypervisor", "Hypervisor"),
    ("package", "Package"),
];

/// What `check` compares a script's calls with: the engine's registered functions (read
/// from its metadata, so an operation a driver adds is known without a list to update).
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// Every unqualified function name (registered, standard library, intrinsics).
    names: HashSet<String>,
    /// The methods of each script object's type: name → how many arguments (the object
    /// included) its overloads take.
    methods: HashMap<String, HashMap<String, BTreeSet<usize>>>,
    /// The functions of imported modules, by the alias they are imported as.
    modules: HashMap<String, HashSet<String>>,
}

impl Known {
    /// Whether `name` is a function the engine knows (any arity, any type).
    pub fn contains(&self, name: &str) -> bool {
        self.names.contains(name)
    }

    /// Know the functions `module_fns` of a module imported `as alias`.
    pub fn add_module(&mut self, alias: &str, module_fns: HashSet<String>) {
        self.modules.insert(alias.to_string(), module_fns);
    }
}

/// A signature (`migrate(hypervisor: Hypervisor, guest: String, target: String) -> Map`)
/// as its name and its parameters' types.
fn parse_signature(sig: &str) -> Option<(String, Vec<String>)> {
    let open = sig.find('(')?;
    let name = sig[..open].trim();
    if name.is_empty() || name.contains("::") {
        return None;
    }
    let mut depth = 0usize;
    let mut params = Vec::new();
    let mut cur = String::new();
    for c in sig[open + 1..].chars() {
        match c {
            '(' | '<' | '[' => {
                depth += 1;
                cur.push(c);
            }
            ')' if depth == 0 => break,
            ')' | '>' | ']' => {
                depth = depth.saturating_sub(1);
                cur.push(c);
            }
            ',' if depth == 0 => params.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    if !cur.trim().is_empty() {
        params.push(cur);
    }
    let types = params
        .iter()
        .map(|p| {
            let t = p.split_once(": ").map_or(p.as_str(), |(_, t)| t).trim();
            t.trim_start_matches("&mut ")
                .trim_start_matches('&')
                .trim()
                .to_string()
        })
        .collect();
    Some((name.to_string(), types))
}

/// The functions `engine` knows (registered and standard), from its metadata.
pub fn known_functions(engine: &Engine) -> Known {
    let mut known = Known::default();
    for sig in engine.gen_fn_signatures(true) {
        let Some((name, types)) = parse_signature(&sig) else {
            continue;
        };
        if let Some((_, ty)) = OBJECTS
            .iter()
            .find(|(_, ty)| types.first().is_some_and(|t| t == ty))
        {
            known
                .methods
                .entry(ty.to_string())
                .or_default()
                .entry(name.clone())
                .or_default()
                .insert(types.len());
        }
        known.names.insert(name);
    }
    known.names.extend(INTRINSICS.iter().map(|s| s.to_string()));
    known
}

/// A scope with the globals' names (as `()` constants), for compiling with strict
/// variables on.
fn globals_scope() -> Scope<'static> {
    let mut scope = Scope::new();
    for g in super::GLOBALS {
        scope.push_constant(g, ());
    }
    scope
}

/// The functions a module's text defines (not private), for [`Known::add_module`];
/// `None` when it does not compile (its own check reports that).
pub fn module_functions(engine: &Engine, text: &str) -> Option<HashSet<String>> {
    let ast = engine.compile_with_scope(&globals_scope(), text).ok()?;
    Some(
        ast.iter_functions()
            .filter(|f| f.access != rhai::FnAccess::Private)
            .map(|f| f.name.to_string())
            .collect(),
    )
}

/// The name of `candidates` closest to `name` within a typo's reach (Damerau-Levenshtein
/// distance up to a third of the name, at least 1), if one is.
pub(crate) fn closest_name<'a>(
    name: &str,
    candidates: impl Iterator<Item = &'a String>,
) -> Option<String> {
    let reach = (name.chars().count() / 3).max(1);
    candidates
        .filter(|c| c.as_str() != name)
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        .filter(|(d, _)| *d <= reach)
        .min()
        .map(|(_, c)| c.clone())
}

/// `; did you mean x?` for the name of `candidates` closest to `name`, or nothing.
fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a String>) -> String {
    match closest_name(name, candidates) {
        Some(c) => format!("; did you mean {c}?"),
        None => String::new(),
    }
}

/// `1 arg`, `2 args`.
fn args(n: usize) -> String {
    if n == 1 {
        "1 arg".into()
    } else {
        format!("{n} args")
    }
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
    import_aliases(engine, text)
        .into_iter()
        .map(|(p, _, pos)| (p, pos))
        .collect()
}

/// The literal paths of a script's `import` statements, the alias of each (`as x`), and
/// their positions.
pub fn import_aliases(engine: &Engine, text: &str) -> Vec<(String, Option<String>, Position)> {
    // The globals in scope: with strict variables on (`check`), a script that reads
    // `params` would not compile without them, and its imports would go unseen.
    let Ok(ast) = engine.compile_with_scope(&globals_scope(), text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        if let Some(ASTNode::Stmt(Stmt::Import(x, pos))) = path.last() {
            if let Expr::StringConstant(s, _) = &x.0 {
                let alias = (!x.1.name.is_empty()).then(|| x.1.name.to_string());
                out.push((s.to_string(), alias, *pos));
            }
        }
        true
    });
    out
}

/// What a method call is made on, when `check` can tell: one of the script objects.
fn receiver_object(
    path: &[ASTNode],
    call: &Expr,
    declared: &HashSet<String>,
) -> Option<&'static str> {
    let n = path.len();
    let (parent_expr, parent) = match path.get(n.checked_sub(2)?) {
        Some(ASTNode::Expr(pe @ Expr::Dot(x, _, _))) => (*pe, x),
        _ => return None,
    };
    // `obj.m()`: the call is the right side of the dot. In a chain (`obj.m().n()`, parsed
    // `obj.(m().n())`), the first call is the left side of a dot that is itself the right
    // side of the dot on the object.
    let recv = if std::ptr::eq(&parent.rhs, call) {
        &parent.lhs
    } else if std::ptr::eq(&parent.lhs, call) {
        let Some(ASTNode::Expr(Expr::Dot(g, _, _))) = path.get(n.checked_sub(3)?) else {
            return None;
        };
        if !std::ptr::eq(&g.rhs, parent_expr) {
            return None;
        }
        &g.lhs
    } else {
        return None;
    };
    let global = match recv {
        Expr::Variable(v, _, _) if !declared.contains(v.1.as_str()) => v.1.to_string(),
        // `package` is a keyword hascript claims as a custom syntax.
        Expr::Custom(c, _) if c.tokens.first().is_some_and(|t| t == "package") => {
            "package".to_string()
        }
        _ => return None,
    };
    OBJECTS.iter().find(|(g, _)| *g == global).map(|(g, _)| *g)
}

/// Check one script: compile errors, undefined variables, calls to unknown functions and
/// methods (each with the closest known name). `engine` must have strict variables on;
/// `scope` holds the globals. A method of a script object (`hypervisor.migrat(g, t)`) is
/// checked by name and number of arguments against that object's registered methods; a
/// method on any other value by name (its type is known only at run time).
pub fn check(engine: &Engine, scope: &Scope, known: &Known, text: &str) -> Vec<Problem> {
    let ast = match engine.compile_with_scope(scope, text) {
        Ok(a) => a,
        Err(e) => {
            let pos = e.position();
            return vec![problem(pos, e.err_type().to_string())];
        }
    };
    let mut own: HashSet<String> = HashSet::new();
    // Variables a script declares (`let`, `const`, parameters, loop variables): they may
    // hold function pointers (`f(x)`, `obj.f()` on a map property) and shadow globals.
    let mut declared: HashSet<String> = HashSet::new();
    for f in ast.iter_functions() {
        own.insert(f.name.to_string());
        declared.extend(f.params.iter().map(|p| p.to_string()));
    }
    // Property names the script writes or builds (`#{f: …}`, `m.f = …`): `m.f()` may call
    // a function pointer stored there.
    let mut props: HashSet<String> = HashSet::new();
    enum Call {
        Function(String, Position),
        Qualified(String, String, Position),
        Method(String, usize, Option<&'static str>, Position),
    }
    let mut calls: Vec<Call> = Vec::new();
    let mut vars: HashSet<String> = HashSet::new();
    ast.walk(&mut |path: &[ASTNode]| {
        match path.last() {
            Some(ASTNode::Expr(e @ Expr::MethodCall(f, pos))) if f.op_token.is_none() => {
                let obj = receiver_object(path, e, &declared);
                calls.push(Call::Method(f.name.to_string(), f.args.len(), obj, *pos));
            }
            Some(ASTNode::Expr(Expr::FnCall(f, pos)))
            | Some(ASTNode::Stmt(Stmt::FnCall(f, pos)))
                if f.op_token.is_none() =>
            {
                if f.namespace.is_empty() {
                    calls.push(Call::Function(f.name.to_string(), *pos));
                } else {
                    calls.push(Call::Qualified(
                        f.namespace.to_string(),
                        f.name.to_string(),
                        *pos,
                    ));
                }
            }
            Some(ASTNode::Expr(Expr::Variable(v, _, _))) => {
                vars.insert(v.1.to_string());
            }
            Some(ASTNode::Stmt(Stmt::Var(v, _, _))) => {
                declared.insert(v.0.name.to_string());
            }
            Some(ASTNode::Stmt(Stmt::For(x, _))) => {
                declared.insert(x.0.name.to_string());
                if let Some(counter) = &x.1 {
                    declared.insert(counter.name.to_string());
                }
            }
            Some(ASTNode::Expr(Expr::Map(m, _))) => {
                props.extend(m.0.iter().map(|(k, _)| k.name.to_string()));
            }
            Some(ASTNode::Expr(Expr::Property(p, _))) => {
                props.insert(p.2.to_string());
            }
            _ => {}
        }
        true
    });
    // Closures' parameters and the `catch` variable are variables too.
    for f in ast.iter_functions() {
        declared.extend(f.params.iter().map(|p| p.to_string()));
    }
    let is_ident = |n: &str| {
        n.chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
    };
    let mut out = Vec::new();
    for call in calls {
        match call {
            Call::Function(name, pos) => {
                if !is_ident(&name)
                    || known.contains(&name)
                    || own.contains(&name)
                    || vars.contains(&name)
                    || declared.contains(&name)
                {
                    continue;
                }
                let hint = closest(&name, known.names.iter().chain(own.iter()));
                out.push(problem(pos, format!("unknown function {name}(){hint}")));
            }
            Call::Qualified(ns, name, pos) => {
                let Some(fns) = known.modules.get(&ns) else {
                    continue;
                };
                if !fns.contains(&name) {
                    let hint = closest(&name, fns.iter());
                    out.push(problem(
                        pos,
                        format!("unknown function {ns}::{name}(){hint}"),
                    ));
                }
            }
            Call::Method(name, n, Some(obj), pos) => {
                let ty = OBJECTS
                    .iter()
                    .find(|(g, _)| *g == obj)
                    .map_or("", |(_, t)| *t);
                let methods = known.methods.get(ty);
                match methods.and_then(|m| m.get(&name)) {
                    Some(arities) if arities.contains(&(n + 1)) => {}
                    Some(arities) => {
                        let takes: Vec<String> =
                            arities.iter().map(|a| args(a.saturating_sub(1))).collect();
                        out.push(problem(
                            pos,
                            format!(
                                "{obj}.{name} called with {}; it takes {}",
                                args(n),
                                takes.join(" or ")
                            ),
                        ));
                    }
                    None => {
                        let hint = methods
                            .map(|m| closest(&name, m.keys()))
                            .unwrap_or_default();
                        out.push(problem(
                            pos,
                            format!("unknown method {obj}.{name}({}){hint}", args(n)),
                        ));
                    }
                }
            }
            Call::Method(name, n, None, pos) => {
                if !is_ident(&name)
                    || known.contains(&name)
                    || own.contains(&name)
                    || props.contains(&name)
                {
                    continue;
                }
                let hint = closest(&name, known.names.iter().chain(own.iter()));
                out.push(problem(
                    pos,
                    format!("unknown method .{name}({}){hint}", args(n)),
                ));
            }
        }
    }
    out.sort_by_key(|p| (p.line, p.col));
    out
}
