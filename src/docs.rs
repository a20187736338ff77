//! The scripting API as data, from the engine's function metadata (parameter names, return
//! types, doc comments of every registration): `hascript docs` renders it as the book's API
//! chapter, and the REPL's `:help` and completion read the same model, so all three say the
//! same thing.
//!
//! The hand-written parts of the chapter (the introduction, the names, the globals, the
//! long notes and examples under functions, errors, limits) live next to this file in
//! `src/docs/*.md` and are woven in by [`markdown`]; a note for a function that no longer
//! exists is an error, so the page cannot silently describe a removed function.

use std::collections::BTreeMap;
use std::sync::Arc;

use rhai::Engine;

use crate::engine::{self, RunEnv};
use crate::output::ConsoleUi;

/// The hand-written beginning of the chapter (title, names, globals).
const INTRO: &str = include_str!("docs/intro.md");
/// Notes under groups and functions: `<!-- group: KEY -->` or `<!-- fn: KEY.NAME -->`
/// markers, each followed by Markdown up to the next marker.
const NOTES: &str = include_str!("docs/notes.md");
/// The hand-written end of the chapter (errors, try/catch, functions and modules, limits).
const OUTRO: &str = include_str!("docs/outro.md");

/// The script types whose methods form a group named after the global holding them.
const OBJECTS: [(&str, &str); 4] = [
    ("Cluster", "cluster"),
    ("Fence", "fence"),
    ("Hypervisor", "hypervisor"),
    ("Package", "package"),
];

/// Types that are Rhai's own (a first parameter of such a type is not a receiver).
const RHAI_TYPES: [&str; 12] = [
    "Array",
    "Map",
    "String",
    "ImmutableString",
    "FnPtr",
    "Dynamic",
    "Blob",
    "bool",
    "i64",
    "f64",
    "char",
    "()",
];

/// How a function is reached from a script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Form {
    /// `name(args)`.
    Function,
    /// `receiver.name(args)`.
    Method,
    /// `receiver.name` (a property getter).
    Property,
}

/// One registration (one overload) of a function scripts can call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FnDoc {
    /// The name scripts use (`verify`, `host`, `path`).
    pub name: String,
    /// How it is called.
    pub form: Form,
    /// The receiver's script type (`Fence`, `Host`), for methods and properties.
    pub receiver: Option<String>,
    /// The parameters after the receiver: (name, type).
    pub params: Vec<(String, String)>,
    /// The return type as registered (`Map`, `Array`, `()` …).
    pub ret: String,
    /// The doc comment, one entry per line, without `///`.
    pub doc: Vec<String>,
}

impl FnDoc {
    /// The first sentence-line of the doc comment (for one-line listings).
    pub fn summary(&self) -> String {
        let mut s = String::new();
        for l in &self.doc {
            if l.trim().is_empty() {
                break;
            }
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(l.trim());
            // Stop at the end of the first sentence.
            if l.trim_end().ends_with('.') {
                break;
            }
        }
        s
    }

    /// The call as a script writes it, with parameter types: `fence.verify() -> Map`,
    /// `h.run(argv: Array, opts: Map) -> Map`, `conf.path -> String`.
    pub fn signature(&self, recv: &str) -> String {
        let args: Vec<String> = self
            .params
            .iter()
            .map(|(n, t)| {
                if t.is_empty() {
                    n.clone()
                } else {
                    format!("{n}: {t}")
                }
            })
            .collect();
        let call = match self.form {
            Form::Function => format!("{}({})", self.name, args.join(", ")),
            Form::Method => format!("{recv}.{}({})", self.name, args.join(", ")),
            Form::Property => format!("{recv}.{}", self.name),
        };
        if self.ret.is_empty() || self.ret == "()" {
            call
        } else {
            format!("{call} -> {}", self.ret)
        }
    }
}

/// A group of functions: one object's methods, one type's, or the global functions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// What `:help KEY` takes and what the page's heading says: `cluster`, `Host`,
    /// `PackageConf`, `functions`.
    pub key: String,
    /// The script type (`Fence`), or `None` for the global functions.
    pub type_name: Option<String>,
    /// How the receiver is written in signatures: the global's name (`fence`) or a
    /// variable's name from the registration (`h`, `conf`).
    pub receiver: String,
    /// The receiver's parameter name in the registrations (`host` for `Host`), which
    /// `receiver` may shorten when it reads like a function (`h`).
    pub declared: String,
    /// The functions, by name then by number of parameters.
    pub functions: Vec<FnDoc>,
}

impl Group {
    /// The overloads of `name` (empty when there is none).
    pub fn named(&self, name: &str) -> Vec<&FnDoc> {
        self.functions.iter().filter(|f| f.name == name).collect()
    }

    /// The distinct names, in order.
    pub fn names(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for f in &self.functions {
            if !out.contains(&f.name.as_str()) {
                out.push(&f.name);
            }
        }
        out
    }
}

/// The whole scripting API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Api {
    /// The groups: the four objects, then the other types, then the global functions.
    pub groups: Vec<Group>,
}

fn str_of<'a>(v: &'a serde_json::Value, key: &str) -> &'a str {
    v.get(key).and_then(|x| x.as_str()).unwrap_or_default()
}

/// Split a registered `name: Type` parameter description (Rhai gives both forms).
fn param_of(p: &serde_json::Value) -> (String, String) {
    let name = str_of(p, "name");
    let ty = str_of(p, "type");
    let (n, t) = match name.split_once(':') {
        Some((n, t)) if ty.is_empty() => (n.trim(), t.trim()),
        _ => (name, ty),
    };
    (
        if n.is_empty() { "_" } else { n }.to_string(),
        pretty_type(t),
    )
}

/// Rhai's Rust-ish type names as scripts know them.
fn pretty_type(t: &str) -> String {
    let t = t.trim().trim_start_matches("&mut ").trim();
    match t {
        "ImmutableString" | "&str" | "string" | "str" => "String".to_string(),
        "INT" => "i64".to_string(),
        "FLOAT" => "f64".to_string(),
        _ => t.rsplit("::").next().unwrap_or(t).to_string(),
    }
}

fn is_receiver_type(t: &str) -> bool {
    !t.is_empty()
        && t.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && !RHAI_TYPES.contains(&t)
}

/// A doc comment as lines without the `///` markers.
fn doc_lines(f: &serde_json::Value) -> Vec<String> {
    f.get("docComments")
        .and_then(|d| d.as_array())
        .into_iter()
        .flatten()
        .filter_map(|d| d.as_str())
        .flat_map(|d| {
            d.lines()
                .map(|l| {
                    let l = l.trim_start();
                    let l = l.strip_prefix("///").unwrap_or(l);
                    l.strip_prefix(' ').unwrap_or(l).trim_end().to_string()
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

impl Api {
    /// The API of `engine` (hascript's functions only, not Rhai's standard library).
    pub fn of(engine: &Engine) -> Api {
        let json = engine.gen_fn_metadata_to_json(false).unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
        // type -> (receiver word, functions)
        let mut typed: BTreeMap<String, (String, Vec<FnDoc>)> = BTreeMap::new();
        let mut free: Vec<FnDoc> = Vec::new();
        for f in v
            .get("functions")
            .and_then(|f| f.as_array())
            .into_iter()
            .flatten()
        {
            let raw = str_of(f, "name");
            if raw.is_empty()
                || raw == "to_string"
                || raw == "to_debug"
                || raw.starts_with("set$")
                || crate::engine::limits::GUARDED.contains(&raw)
            {
                continue;
            }
            let mut params: Vec<(String, String)> = f
                .get("params")
                .and_then(|p| p.as_array())
                .into_iter()
                .flatten()
                .map(param_of)
                .collect();
            let ret = pretty_type(str_of(f, "returnType"));
            let doc = doc_lines(f);
            let first_type = params.first().map(|(_, t)| t.clone()).unwrap_or_default();
            if is_receiver_type(&first_type) {
                let (recv_name, _) = params.remove(0);
                let (form, name) = match raw.strip_prefix("get$") {
                    Some(p) => (Form::Property, p.to_string()),
                    None => (Form::Method, raw.to_string()),
                };
                let entry = typed
                    .entry(first_type.clone())
                    .or_insert_with(|| (recv_name.clone(), Vec::new()));
                if entry.0 == "_" {
                    entry.0 = recv_name;
                }
                entry.1.push(FnDoc {
                    name,
                    form,
                    receiver: Some(first_type),
                    params,
                    ret,
                    doc,
                });
            } else if !raw.starts_with("get$") {
                free.push(FnDoc {
                    name: raw.to_string(),
                    form: Form::Function,
                    receiver: None,
                    params,
                    ret,
                    doc,
                });
            }
        }
        let order = |fs: &mut Vec<FnDoc>| {
            fs.sort_by(|a, b| {
                (a.form == Form::Property)
                    .cmp(&(b.form == Form::Property))
                    .reverse()
                    .then(a.name.cmp(&b.name))
                    .then(a.params.len().cmp(&b.params.len()))
                    // Overloads of one arity (`sleep(i64)`, `sleep(f64)`) come from a hash
                    // map: order them by their parameters so the page is stable.
                    .then(a.params.cmp(&b.params))
                    .then(a.ret.cmp(&b.ret))
            });
            fs.dedup();
        };
        let mut groups = Vec::new();
        for (ty, global) in OBJECTS {
            if let Some((_, mut fs)) = typed.remove(ty) {
                order(&mut fs);
                groups.push(Group {
                    key: global.to_string(),
                    type_name: Some(ty.to_string()),
                    receiver: global.to_string(),
                    declared: global.to_string(),
                    functions: fs,
                });
            }
        }
        for (ty, (recv, mut fs)) in typed {
            order(&mut fs);
            groups.push(Group {
                key: ty.clone(),
                type_name: Some(ty),
                receiver: recv.clone(),
                declared: recv,
                functions: fs,
            });
        }
        order(&mut free);
        // A receiver named like a function (`host: Host` vs `host(name)`) would read as a
        // call on that function: write it as its first letter (`h.run(…)`).
        for g in &mut groups {
            if free.iter().any(|f| f.name == g.receiver)
                && g.type_name.is_some()
                && !OBJECTS.iter().any(|(_, o)| *o == g.receiver)
            {
                g.receiver = g.receiver.chars().take(1).collect();
            }
        }
        groups.push(Group {
            key: "functions".into(),
            type_name: None,
            receiver: String::new(),
            declared: String::new(),
            functions: free,
        });
        Api { groups }
    }

    /// The API of an engine built without a site (what `hascript docs` and `:help` show:
    /// the registrations do not depend on the site).
    pub fn offline() -> Api {
        let env = RunEnv::offline(Arc::new(ConsoleUi::new(false)));
        Api::of(&engine::build_engine(&env))
    }

    /// The group `key` (`fence`, `Host`, `functions`), case-insensitively.
    pub fn group(&self, key: &str) -> Option<&Group> {
        self.groups
            .iter()
            .find(|g| g.key == key)
            .or_else(|| self.groups.iter().find(|g| g.key.eq_ignore_ascii_case(key)))
            .or_else(|| {
                self.groups.iter().find(|g| {
                    g.type_name
                        .as_deref()
                        .is_some_and(|t| t.eq_ignore_ascii_case(key))
                })
            })
    }

    /// The group of script type `type_name` (for completion after `value.`).
    pub fn of_type(&self, type_name: &str) -> Option<&Group> {
        self.groups
            .iter()
            .find(|g| g.type_name.as_deref() == Some(type_name))
    }

    /// `fence.verify`, `Host.run`, `wait_until` (a global function): the group and the
    /// overloads, or `None`.
    pub fn lookup(&self, what: &str) -> Option<(&Group, Vec<&FnDoc>)> {
        let (g, name) = match what.split_once('.') {
            Some((g, n)) => (self.group(g)?, n),
            None => (self.group("functions")?, what),
        };
        let fs = g.named(name);
        if fs.is_empty() {
            None
        } else {
            Some((g, fs))
        }
    }
}

/// A problem in the hand-written notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotesError(pub String);

impl std::error::Error for NotesError {}

impl std::fmt::Display for NotesError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The notes by key (`group: fence`, `fn: fence.verify`), in file order.
fn notes() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in NOTES.lines() {
        let t = line.trim();
        if let Some(key) = t
            .strip_prefix("<!--")
            .and_then(|r| r.strip_suffix("-->"))
            .map(str::trim)
            .filter(|k| k.starts_with("group:") || k.starts_with("fn:"))
        {
            let key = key.split_whitespace().collect::<Vec<_>>().join(" ");
            out.push((key, String::new()));
            continue;
        }
        if let Some((_, body)) = out.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    for (_, body) in &mut out {
        *body = body.trim().to_string();
    }
    out
}

/// The headings' anchor for a group.
fn group_heading(g: &Group) -> String {
    match g.key.as_str() {
        "functions" => "Global functions".to_string(),
        k if OBJECTS.iter().any(|(_, o)| *o == k) => k.to_string(),
        k => format!("{k} values"),
    }
}

/// The chapter: the introduction, one section per group (signatures, doc comments, notes),
/// the errors and limits. Fails when a note names a function or group that does not exist.
pub fn markdown(api: &Api) -> Result<String, NotesError> {
    let notes = notes();
    let mut used = vec![false; notes.len()];
    let mut note = |key: &str| -> Option<String> {
        let i = notes.iter().position(|(k, _)| k == key)?;
        used[i] = true;
        Some(notes[i].1.clone())
    };
    let mut out = String::new();
    out.push_str(INTRO.trim_end());
    out.push_str("\n\n");
    for g in &api.groups {
        out.push_str(&format!("## {}\n\n", group_heading(g)));
        if let Some(n) = note(&format!("group: {}", g.key)) {
            out.push_str(&n);
            out.push_str("\n\n");
        }
        for name in g.names() {
            let fs = g.named(name);
            let title = match fs[0].form {
                Form::Function => format!("{name}()"),
                Form::Method => format!("{}.{name}()", g.receiver),
                Form::Property => format!("{}.{name}", g.receiver),
            };
            out.push_str(&format!("### `{title}`\n\n```text\n"));
            for f in &fs {
                out.push_str(&f.signature(&g.receiver));
                out.push('\n');
            }
            out.push_str("```\n\n");
            // Each distinct doc comment once (overloads often share one).
            let mut seen: Vec<&Vec<String>> = Vec::new();
            for f in &fs {
                if f.doc.is_empty() || seen.contains(&&f.doc) {
                    continue;
                }
                seen.push(&f.doc);
                if fs.len() > 1 && fs.iter().filter(|o| !o.doc.is_empty()).count() > 1 {
                    out.push_str(&format!("- `{}`: ", f.signature(&g.receiver)));
                    out.push_str(&f.doc.join("\n  "));
                    out.push('\n');
                } else {
                    out.push_str(&f.doc.join("\n"));
                    out.push_str("\n\n");
                }
            }
            if out.ends_with("\n") && !out.ends_with("\n\n") {
                out.push('\n');
            }
            let key = match g.key.as_str() {
                "functions" => format!("fn: {name}"),
                k => format!("fn: {k}.{name}"),
            };
            if let Some(n) = note(&key) {
                out.push_str(&n);
                out.push_str("\n\n");
            }
        }
    }
    out.push_str(OUTRO.trim_end());
    out.push('\n');
    let orphans: Vec<&str> = notes
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|((k, _), _)| k.as_str())
        .collect();
    if !orphans.is_empty() {
        return Err(NotesError(format!(
            "src/docs/notes.md has notes for what the engine does not register: {}; rename or remove them",
            orphans.join(", ")
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_object_and_function_is_in_the_api() {
        let api = Api::offline();
        let keys: Vec<&str> = api.groups.iter().map(|g| g.key.as_str()).collect();
        for k in [
            "cluster",
            "fence",
            "hypervisor",
            "package",
            "Host",
            "PackageConf",
            "functions",
        ] {
            assert!(keys.contains(&k), "{k} missing from {keys:?}");
        }
        let (g, fs) = api.lookup("fence.verify").expect("fence.verify");
        assert_eq!(g.key, "fence");
        assert_eq!(fs[0].signature(&g.receiver), "fence.verify() -> Map");
        let (g, fs) = api.lookup("wait_until").expect("wait_until");
        let sigs: Vec<String> = fs.iter().map(|f| f.signature(&g.receiver)).collect();
        assert_eq!(
            sigs,
            [
                "wait_until(cond: FnPtr) -> bool",
                "wait_until(cond: FnPtr, opts: Map) -> bool"
            ]
        );
        // The Host receiver is not written like the host() function.
        let (g, fs) = api.lookup("Host.run").expect("Host.run");
        assert_eq!(fs[0].signature(&g.receiver), "h.run(argv: Array) -> Map");
        assert!(api.lookup("fence.nosuch").is_none());
        assert!(api.lookup("nosuch").is_none());
    }

    #[test]
    fn the_page_has_every_function_and_every_note_has_a_function() {
        let api = Api::offline();
        let page = match markdown(&api) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        };
        for g in &api.groups {
            for f in &g.functions {
                let sig = f.signature(&g.receiver);
                assert!(page.contains(&sig), "{sig} is not on the page");
            }
        }
        assert!(page.starts_with("# Scripting API\n"));
        assert!(page.contains("\n## Errors\n"));
    }

    #[test]
    fn committed_api_page_is_what_the_code_generates() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/book/src/api.md");
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        let generated = match markdown(&Api::offline()) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        };
        if committed != generated {
            let line = committed
                .lines()
                .zip(generated.lines())
                .position(|(a, b)| a != b)
                .map_or_else(
                    || committed.lines().count().min(generated.lines().count()) + 1,
                    |i| i + 1,
                );
            panic!(
                "book/src/api.md differs from what the code generates (first at line {line}); regenerate it with: cargo run -p hascript -- docs -o book/src/api.md"
            );
        }
    }
}
