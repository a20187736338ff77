//! The boundaries of ARCHITECTURE.md's code map that the compiler does not hold, held by
//! reading the source: every script run starts in the run layer (`src/run/`); the CLI and
//! the REPL only call it; the exit-code policy is not written out in the CLI.

use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `src/`, relative to it (`repl/complete.rs`); a `tests.rs` (a
/// module's unit tests in their own file) marked as test code.
fn sources() -> Vec<(String, String)> {
    let out = sources_in(&src());
    assert!(
        out.iter().any(|(n, _)| n == "cli.rs" || n == "cli/mod.rs")
            && out.iter().any(|(n, _)| n == "run/mod.rs"),
        "src/ does not look like hascript's: {:?}",
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
        if name == "cli.rs" || name.starts_with("cli/") || name == "main.rs" {
            continue;
        }
        for needle in ["crate::cli", "super::cli", "hascript::cli"] {
            for (n, l) in lines_with(&text, needle) {
                found.push(format!("src/{name}:{n}: {l}"));
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
    // locks, its recovery log, its script thread) is built in src/run/ alone. (The REPL's
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
        if name.starts_with("run/") {
            continue;
        }
        for m in marks {
            for (n, l) in lines_with(&text, m) {
                found.push(format!("src/{name}:{n}: {l}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "a run is started outside src/run/:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_cli_writes_no_exit_code_of_the_policy() {
    // 3, 4 and 5 (failed check, needs attention, declined) are ErrorKind's codes, named in
    // the run layer (run::EXIT_CHECK, …); the CLI writes none of them out.
    let cli: Vec<_> = sources()
        .into_iter()
        .filter(|(n, _)| n == "cli.rs" || n.starts_with("cli/"))
        .collect();
    assert!(!cli.is_empty(), "no src/cli.rs or src/cli/");
    let mut found = Vec::new();
    for (name, text) in &cli {
        for (i, line) in code(text).lines().enumerate() {
            let words = line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'));
            if words.into_iter().any(|w| matches!(w, "3" | "4" | "5")) {
                found.push(format!("src/{name}:{}: {}", i + 1, line.trim()));
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

/// Where Rhai may be known: the script layer (`src/engine/`) and the two front-ends that
/// work on scripts themselves, the REPL (`src/repl/`: it evaluates lines in a scope) and the
/// API page generator (`src/docs.rs`: it reads the engine's metadata). The run layer, the
/// journal, the transport, the CLI and every driver crate know none of it; a driver's
/// operations are JSON in, JSON out.
#[test]
fn rhai_is_known_only_by_the_engine_the_repl_and_the_docs() {
    let allowed =
        |name: &str| name.starts_with("engine/") || name.starts_with("repl/") || name == "docs.rs";
    let mut found = Vec::new();
    for (name, text) in sources() {
        if allowed(&name) {
            continue;
        }
        for needle in ["rhai::", "use rhai"] {
            for (n, l) in lines_with(&text, needle) {
                found.push(format!("src/{name}:{n}: {l}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "Rhai outside the engine, the REPL and the docs (go through crate::engine):\n{}",
        found.join("\n")
    );
    // The driver crates do not depend on it at all.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for krate in ["api", "sim", "ldoms", "hpvm", "testkit"] {
        let manifest = root.join("drivers").join(krate).join("Cargo.toml");
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
        if name == "signals.rs" {
            continue;
        }
        for needle in ["termios", "tcsetattr", "tcgetattr"] {
            for (n, l) in lines_with(&text, needle) {
                found.push(format!("src/{name}:{n}: {l}"));
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
    assert_eq!(prompts, ["secrets.rs", "transport/ssh/auth.rs"]);
}

/// The most lines of code (blank lines, comments and unit tests aside) a source file of a
/// module split by concern may have (issue 15: "files with one concern each").
const MAX_CODE_LINES: usize = 800;

/// The modules already split into folders by concern (each file under the limit): a
/// crate's source folder (relative to the repository) and the module's path in it.
const SPLIT_MODULES: &[(&str, &str)] = &[
    ("src", "journal"),
    ("src", "inventory"),
    ("drivers/sim/src", "hpvm"),
    ("drivers/sim/src", "hpvm/seed"),
    ("drivers/sim/src", "hpvm/sg"),
    ("drivers/sim/src", "hpvm/site"),
    ("drivers/hpvm/src", "procedure/package"),
    ("drivers/hpvm/src", "procedure/appmon"),
    ("drivers/ldoms/src", "steps"),
    ("src", "repl"),
    ("src", "cli"),
    ("src/transport/ssh", "session"),
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
    // outside src/journal/ that names a line's `event` key, or reads lines as untyped JSON,
    // matches them by string key. The CLI prints `journal show --output json` as written.
    let mut found = Vec::new();
    for (name, text) in sources() {
        if name.starts_with("journal/") {
            continue;
        }
        for (n, line) in code_with_strings(&text) {
            let untyped = line.contains("read_lines(") && name != "cli/journal.rs";
            if line.contains("\"event\"") || untyped {
                found.push(format!("src/{name}:{n}: {line}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "journal lines matched by string key outside src/journal/ (read them with journal::read_events and match journal::Event):\n{}",
        found.join("\n")
    );
}

/// What the transport (`src/transport/`) may use of the root crate: itself and
/// `crate::files` (the integrator moves both into the crate `hascript-transport`, which
/// depends on hascript-api alone). The inventory converts its hosts into the transport's
/// own types (`transport::HostRoute`); the transport never imports the inventory, the
/// secrets, the journal or anything else of `src/`.
#[test]
fn the_transport_uses_nothing_of_src_but_itself_and_files() {
    let allowed = ["crate::transport", "crate::files"];
    let mut found = Vec::new();
    for (name, text) in sources_in(&src().join("transport")) {
        // Unit tests too: they move with the transport.
        for (i, line) in code_and_tests(&text).lines().enumerate() {
            let mut rest = line;
            while let Some(at) = rest.find("crate::") {
                let path = &rest[at..];
                let ok = at > 0 && rest[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_');
                if !ok
                    && !allowed.iter().any(|a| {
                        path.starts_with(a)
                            && !path[a.len()..]
                                .starts_with(|c: char| c.is_alphanumeric() || c == '_')
                    })
                {
                    found.push(format!("src/transport/{name}:{}: {}", i + 1, line.trim()));
                    break;
                }
                rest = &path["crate::".len()..];
            }
        }
    }
    assert!(
        found.is_empty(),
        "the transport uses other modules of src/ (give it its own types, or take them from \
         hascript-api):\n{}",
        found.join("\n")
    );
}
