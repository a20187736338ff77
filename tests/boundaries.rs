//! The boundaries of ARCHITECTURE.md's code map, held by reading the manifests and the
//! source: which crate may depend on which (the compiler then holds each edge); no import
//! cycle among a crate's modules; every script run starts in the run layer
//! (`crates/run/src/run/`); the CLI and the REPL only call it; the exit-code policy is not
//! written out in the CLI; Rhai only in the engine, the REPL and the docs; no file over the
//! size limit.

use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The source folders of the crates that were the root package's `src/` (issue 15 split
/// it): the binary's package, the engine, the transport and the run layer.
const CRATE_SOURCES: &[&str] = &[
    "src",
    "crates/engine/src",
    "crates/transport/src",
    "crates/run/src",
];

/// The source folders of the driver crates.
const DRIVER_SOURCES: &[&str] = &[
    "drivers/api/src",
    "drivers/sim/src",
    "drivers/ldoms/src",
    "drivers/hpvm/src",
    "drivers/testkit/src",
];

/// Every `.rs` file of [`CRATE_SOURCES`], by its path in the repository
/// (`crates/run/src/run/mod.rs`); a `tests.rs` (a module's unit tests in their own file)
/// marked as test code.
fn sources() -> Vec<(String, String)> {
    let out: Vec<_> = CRATE_SOURCES
        .iter()
        .flat_map(|dir| {
            sources_in(&root().join(dir))
                .into_iter()
                .map(move |(n, t)| (format!("{dir}/{n}"), t))
        })
        .collect();
    assert!(
        out.iter().any(|(n, _)| n == "src/cli/mod.rs")
            && out.iter().any(|(n, _)| n == "crates/run/src/run/mod.rs"),
        "the sources do not look like hascript's: {:?}",
        out.iter().map(|(n, _)| n).collect::<Vec<_>>()
    );
    out
}

/// Every `.rs` file under `dir`, relative to it, as [`sources`] reads them.
fn sources_in(dir: &Path) -> Vec<(String, String)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(base, &p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p
                    .strip_prefix(base)
                    .unwrap_or(&p)
                    .to_string_lossy()
                    .replace('\\', "/");
                let mut text = std::fs::read_to_string(&p)
                    .unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()));
                if p.file_name().is_some_and(|n| n == "tests.rs") {
                    // A module's unit tests moved out of it (`#[cfg(test)] mod tests;` in
                    // its mod.rs): all test code, as [`code`] leaves it out in a file.
                    text.insert_str(0, "#[cfg(test)]\n");
                }
                out.push((rel, text));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

/// The code of `text`: comments and the contents of string literals blanked (so a message
/// that says "exit 3" or names `crate::cli` is not code), the unit tests (from the first
/// `#[cfg(test)]`) left out.
fn code(text: &str) -> String {
    match text.find("#[cfg(test)]") {
        Some(i) => code_and_tests(&text[..i]),
        None => code_and_tests(text),
    }
}

/// `text` with comments and the contents of string literals blanked, as [`code`] reads it,
/// its unit tests kept.
fn code_and_tests(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_str = false;
    while let Some(c) = chars.next() {
        if in_str {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => {
                    in_str = false;
                    out.push('"');
                }
                '\n' => out.push('\n'),
                _ => {}
            }
            continue;
        }
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '"' => {
                in_str = true;
                out.push('"');
            }
            // A char literal such as '"' must not open a string.
            '\'' => {
                let rest: String = chars.clone().take(3).collect();
                if rest.starts_with("\"'") || rest.starts_with("\\\"'") {
                    let n = if rest.starts_with('\\') { 3 } else { 2 };
                    for _ in 0..n {
                        chars.next();
                    }
                    out.push_str("' '");
                } else {
                    out.push('\'');
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// Lines of `text`'s code (1-based numbers) that contain `needle`.
fn lines_with(text: &str, needle: &str) -> Vec<(usize, String)> {
    code(text)
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .map(|(i, l)| (i + 1, l.trim().to_string()))
        .collect()
}

#[test]
fn nothing_but_the_binary_imports_the_cli() {
    // The REPL's `:run`, resume and unwind go through the run layer, not back into the CLI.
    let mut found = Vec::new();
    for (name, text) in sources() {
        if name.starts_with("src/cli/") || name == "src/main.rs" {
            continue;
        }
        for needle in ["crate::cli", "super::cli", "hascript::cli"] {
            for (n, l) in lines_with(&text, needle) {
                found.push(format!("{name}:{n}: {l}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "only main.rs uses the CLI; these use it (use crate::run instead):\n{}",
        found.join("\n")
    );
}

#[test]
fn only_the_run_layer_starts_a_run() {
    // What makes a run (its journal, its transport wrapped by the journal and the host
    // locks, its recovery log, its script thread) is built in crates/run/src/run/ alone. (The REPL's
    // session wraps its site too, for reads and single calls; that is not a run.)
    let marks = [
        "Recorder::create",
        "JournalingExec::new",
        "Locks::new",
        "stack_size(",
        "Pending::set",
        "JournalLog::new",
    ];
    let mut found = Vec::new();
    for (name, text) in sources() {
        if name.starts_with("crates/run/src/run/") {
            continue;
        }
        for m in marks {
            for (n, l) in lines_with(&text, m) {
                found.push(format!("{name}:{n}: {l}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "a run is started outside crates/run/src/run/:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_cli_writes_no_exit_code_of_the_policy() {
    // 3, 4 and 5 (failed check, needs attention, declined) are ErrorKind's codes, named in
    // the run layer (run::EXIT_CHECK, …); the CLI writes none of them out.
    let cli: Vec<_> = sources()
        .into_iter()
        .filter(|(n, _)| n.starts_with("src/cli/"))
        .collect();
    assert!(!cli.is_empty(), "no src/cli/");
    let mut found = Vec::new();
    for (name, text) in &cli {
        for (i, line) in code(text).lines().enumerate() {
            let words = line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'));
            if words.into_iter().any(|w| matches!(w, "3" | "4" | "5")) {
                found.push(format!("{name}:{}: {}", i + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "exit codes written out in the CLI (use the run layer's):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_code_filter_blanks_strings_and_comments() {
    // The checks above read code only: a message or a comment naming a code is not one.
    let c = code("let a = \"exit 3 crate::cli\"; // return 4\nlet q = '\"'; let b = 5;\n#[cfg(test)]\nreturn 3;");
    assert!(
        !c.contains("crate::cli") && !c.contains("4") && !c.contains("return 3"),
        "{c}"
    );
    assert!(c.contains("let b = 5;"), "{c}");
}

/// Where Rhai may be known: the script layer (`crates/engine/`) and the two front-ends that
/// work on scripts themselves, the REPL (`src/repl/`: it evaluates lines in a scope) and the
/// API page generator (`src/docs.rs`: it reads the engine's metadata). The run layer, the
/// journal, the transport, the CLI and every driver crate know none of it; a driver's
/// operations are JSON in, JSON out.
#[test]
fn rhai_is_known_only_by_the_engine_the_repl_and_the_docs() {
    let allowed = |name: &str| {
        name.starts_with("crates/engine/src/")
            || name.starts_with("src/repl/")
            || name == "src/docs.rs"
    };
    let mut found = Vec::new();
    for (name, text) in sources() {
        if allowed(&name) {
            continue;
        }
        for needle in ["rhai::", "use rhai"] {
            for (n, l) in lines_with(&text, needle) {
                found.push(format!("{name}:{n}: {l}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "Rhai outside the engine, the REPL and the docs (go through crate::engine):\n{}",
        found.join("\n")
    );
    // The run layer, the transport and the driver crates do not depend on it at all.
    for krate in [
        "crates/run",
        "crates/transport",
        "drivers/api",
        "drivers/sim",
        "drivers/ldoms",
        "drivers/hpvm",
        "drivers/testkit",
    ] {
        let manifest = root().join(krate).join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", manifest.display()));
        assert!(
            !text.lines().any(|l| l.trim_start().starts_with("rhai")),
            "{} depends on rhai",
            manifest.display()
        );
    }
}

#[test]
fn terminal_prompts_go_through_rpassword() {
    // The echo-off prompts (a script's secret, a key's passphrase) use the `rpassword`
    // crate; no module sets terminal modes itself with unsafe termios calls. (signals.rs
    // saves the terminal's modes at start and puts them back on a fatal signal: no prompt.)
    let mut found = Vec::new();
    for (name, text) in sources() {
        if name == "crates/run/src/signals.rs" {
            continue;
        }
        for needle in ["termios", "tcsetattr", "tcgetattr"] {
            for (n, l) in lines_with(&text, needle) {
                found.push(format!("{name}:{n}: {l}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "terminal modes set by hand (ask with rpassword::prompt_password instead):\n{}",
        found.join("\n")
    );
    let prompts = sources()
        .into_iter()
        .filter(|(_, t)| t.contains("rpassword::prompt_password("))
        .map(|(n, _)| n)
        .collect::<Vec<_>>();
    assert_eq!(
        prompts,
        [
            "crates/transport/src/ssh/auth.rs",
            "crates/run/src/secrets.rs"
        ]
    );
}

/// The most lines of code (blank lines, comments and unit tests aside) a source file of a
/// module split by concern may have (issue 15: "files with one concern each").
const MAX_CODE_LINES: usize = 800;

/// The modules already split into folders by concern (each file under the limit): a
/// crate's source folder (relative to the repository) and the module's path in it.
const SPLIT_MODULES: &[(&str, &str)] = &[
    ("crates/run/src", "journal"),
    ("crates/run/src", "inventory"),
    ("drivers/sim/src", "hpvm"),
    ("drivers/sim/src", "hpvm/seed"),
    ("drivers/sim/src", "hpvm/sg"),
    ("drivers/sim/src", "hpvm/site"),
    ("drivers/hpvm/src", "procedure/package"),
    ("drivers/hpvm/src", "procedure/appmon"),
    ("drivers/ldoms/src", "steps"),
    ("src", "repl"),
    ("src", "cli"),
    ("crates/transport/src", "ssh/session"),
];

#[test]
fn split_modules_are_folders_of_files_under_the_size_limit() {
    let mut found = Vec::new();
    for (root, m) in SPLIT_MODULES {
        let files = sources_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join(root));
        if files.iter().any(|(n, _)| *n == format!("{m}.rs")) {
            found.push(format!(
                "{root}/{m}.rs is one file: make it a folder {root}/{m}/ by concern"
            ));
        }
        if !files.iter().any(|(n, _)| *n == format!("{m}/mod.rs")) {
            found.push(format!("{root}/{m}/mod.rs is missing"));
        }
        for (name, text) in files
            .iter()
            .filter(|(n, _)| n.starts_with(&format!("{m}/")))
        {
            let lines = code(text).lines().filter(|l| !l.trim().is_empty()).count();
            if lines > MAX_CODE_LINES {
                found.push(format!(
                    "{root}/{name}: {lines} lines of code, more than {MAX_CODE_LINES}: split it by concern"
                ));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// The non-test code of `text`, comments left out but strings kept (what [`code`] blanks).
fn code_with_strings(text: &str) -> Vec<(usize, String)> {
    let text = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim().to_string()))
        .filter(|(_, l)| !l.starts_with("//"))
        .collect()
}

#[test]
fn journal_lines_are_read_as_typed_events_outside_the_journal() {
    // Journal lines are `journal::Event`s once read (`journal::read_events`): a module
    // outside the journal (crates/run/src/journal/) that names a line's `event` key, or reads lines as untyped JSON,
    // matches them by string key. The CLI prints `journal show --output json` as written.
    let mut found = Vec::new();
    for (name, text) in sources() {
        if name.starts_with("crates/run/src/journal/") {
            continue;
        }
        for (n, line) in code_with_strings(&text) {
            let untyped = line.contains("read_lines(") && name != "src/cli/journal.rs";
            if line.contains("\"event\"") || untyped {
                found.push(format!("{name}:{n}: {line}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "journal lines matched by string key outside the journal (read them with journal::read_events and match journal::Event):\n{}",
        found.join("\n")
    );
}

/// The crates of the workspace and the crates of ours each may depend on
/// (`[dependencies]`; dev-dependencies aside): the layers of ARCHITECTURE.md's code map,
/// bottom up. Once an edge is in a manifest the compiler holds it; this test holds the
/// manifests, so a new edge is a decision made here, not an accident.
const LAYERS: &[(&str, &[&str])] = &[
    ("drivers/api", &[]),
    ("drivers/sim", &["hascript-api"]),
    ("drivers/ldoms", &["hascript-api"]),
    ("drivers/hpvm", &["hascript-api"]),
    ("drivers/testkit", &["hascript-api"]),
    ("crates/transport", &["hascript-api"]),
    (
        "crates/engine",
        &["hascript-api", "hascript-ldoms", "hascript-hpvm"],
    ),
    (
        "crates/run",
        &[
            "hascript-api",
            "hascript-sim",
            "hascript-ldoms",
            "hascript-hpvm",
            "hascript-engine",
            "hascript-transport",
        ],
    ),
    (
        ".",
        &[
            "hascript-api",
            "hascript-engine",
            "hascript-transport",
            "hascript-run",
        ],
    ),
];

/// Our crates `dir`'s manifest depends on (its `[dependencies]`).
fn our_dependencies(dir: &str) -> Vec<String> {
    let path = root().join(dir).join("Cargo.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let manifest: toml::Table = text
        .parse()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut deps: Vec<String> = manifest
        .get("dependencies")
        .and_then(toml::Value::as_table)
        .map(|t| {
            t.keys()
                .filter(|k| k.starts_with("hascript"))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    deps.sort();
    deps
}

#[test]
fn each_crate_depends_only_on_the_layers_below_it() {
    let mut found = Vec::new();
    for (dir, allowed) in LAYERS {
        for dep in our_dependencies(dir) {
            if !allowed.contains(&dep.as_str()) {
                found.push(format!(
                    "{dir}/Cargo.toml depends on {dep}: not a layer below it (allowed: {allowed:?})"
                ));
            }
        }
    }
    // Every crate of the workspace has its row.
    let workspace: toml::Table = std::fs::read_to_string(root().join("Cargo.toml"))
        .expect("the workspace manifest")
        .parse()
        .expect("the workspace manifest parses");
    let members = workspace["workspace"]["members"]
        .as_array()
        .expect("workspace members");
    for m in members.iter().filter_map(toml::Value::as_str) {
        if !LAYERS.iter().any(|(dir, _)| *dir == m) {
            found.push(format!("workspace member {m} has no row in LAYERS"));
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// The top-level module each `crate::` path of `text`'s code names (`crate::journal::x`
/// and `use crate::{journal, lock}` both name `journal`).
fn crate_paths(text: &str) -> Vec<String> {
    let code = code(text);
    let mut out = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        let word_before = rest[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_');
        rest = &rest[at + "crate::".len()..];
        if word_before {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.push(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push(name);
            }
        }
    }
    out
}

/// A cycle in `graph`, as the modules along it, if there is one.
fn find_cycle(
    graph: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut std::collections::BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = std::collections::BTreeSet::new();
    for node in graph.keys() {
        if let Some(c) = visit(node, graph, &mut Vec::new(), &mut done) {
            return Some(c);
        }
    }
    None
}

/// The import graph of the crate whose sources are `dir`: each top-level module and the
/// other top-level modules its code names through `crate::` (the crate root, which
/// declares and re-exports them all, aside).
fn module_graph(
    dir: &str,
) -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let mut graph: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
        Default::default();
    for (name, text) in sources_in(&root().join(dir)) {
        let module = name
            .split('/')
            .next()
            .unwrap_or(&name)
            .trim_end_matches(".rs")
            .to_string();
        if module == "lib" || module == "main" {
            continue;
        }
        let edges = graph.entry(module.clone()).or_default();
        for used in crate_paths(&text) {
            if used != module {
                edges.insert(used);
            }
        }
    }
    graph
}

#[test]
fn no_import_cycle_among_the_modules_of_a_crate() {
    // Issue 15: 18 files of src/ imported one another in one circle. Each crate's modules
    // now form layers; a cycle is named with the files that make each step of it. The
    // driver crates too: hascript-api (command <-> quote), hascript-hpvm (six modules) and
    // hascript-sim (seven) had cycles of their own.
    let mut found = Vec::new();
    for dir in CRATE_SOURCES.iter().chain(DRIVER_SOURCES) {
        let graph = module_graph(dir);
        if let Some(cycle) = find_cycle(&graph) {
            found.push(format!("{dir}: {}", cycle.join(" -> ")));
        }
    }
    assert!(
        found.is_empty(),
        "import cycles (move what both need below both, or pass a trait):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_cycle_check_finds_a_cycle_through_use_groups() {
    // The check reads `crate::a::x` and `use crate::{a, b}`, not comments or strings.
    assert_eq!(
        crate_paths("use crate::{journal, lock::Locks};\nlet x = crate::run::go(); // crate::cli\nlet s = \"crate::repl\";"),
        ["journal", "lock", "run"]
    );
    let graph = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(
        find_cycle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    let acyclic = [("a", vec!["b"]), ("b", vec![])]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
        .collect();
    assert_eq!(find_cycle(&acyclic), None);
}

#[test]
fn no_source_file_is_over_the_size_limit() {
    // Issue 15: "no source file over 800 lines of code (tests aside)", in every crate.
    let mut found = Vec::new();
    for dir in CRATE_SOURCES.iter().chain(DRIVER_SOURCES) {
        for (name, text) in sources_in(&root().join(dir)) {
            let lines = code(&text).lines().filter(|l| !l.trim().is_empty()).count();
            if lines > MAX_CODE_LINES {
                found.push(format!(
                    "{dir}/{name}: {lines} lines of code, more than {MAX_CODE_LINES}: split it by concern"
                ));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}
