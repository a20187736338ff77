//! Data-driven parser fixtures: `tests/fixtures/<command>/<case>.txt` (or `.conf`) is a
//! command's output, `<case>.json` beside it the expected parse (pretty JSON, as serde
//! serialises the parser's result) or `<case>.err` the expected error text. Each driver's
//! `check()` walks its folders with [`check_fixtures`], handing it the parser of each
//! command; `UPDATE_EXPECT=1` rewrites the expectations from what the parsers return (review
//! the diff before committing it).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The extensions of a case's input (the command's output as captured).
pub const INPUT_EXTENSIONS: &[&str] = &["txt", "conf"];

/// What a command's parser made of a case: the pretty JSON of its result, or the error text.
pub type Outcome = Result<String, String>;

/// Set to any value to rewrite the `.json` / `.err` expectations instead of comparing.
pub const UPDATE_ENV: &str = "UPDATE_EXPECT";

/// The text of `tests/fixtures/COMMAND/NAME` in the crate whose folder is `manifest_dir`
/// (its `CARGO_MANIFEST_DIR`), for the hand-written tests; a missing file fails the test
/// naming it.
pub fn fixture(manifest_dir: &str, command: &str, name: &str) -> String {
    let p = Path::new(manifest_dir)
        .join("tests/fixtures")
        .join(command)
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Walk `root` (a driver's `tests/fixtures`), parse every case of every command folder with
/// `parse(command, text)` and compare the outcome with the case's `.json` (success) or
/// `.err` (error text); or, with `UPDATE_EXPECT` set, write them. `parse` answers `None` for
/// a folder whose parser needs more than one text: those folders must be named in
/// `hand_tested` (so a new folder cannot be skipped silently). A case whose name contains
/// `crlf` must have CRLF line ends. Panics listing every mismatch, missing or stale
/// expectation; returns the number of cases checked.
pub fn check_fixtures(
    root: &Path,
    hand_tested: &[&str],
    parse: impl Fn(&str, &str) -> Option<Outcome>,
) -> usize {
    let update = std::env::var_os(UPDATE_ENV).is_some();
    let mut problems = String::new();
    let mut cases = 0;
    for dir in sorted_entries(root).into_iter().filter(|p| p.is_dir()) {
        let command = file_name(&dir);
        let files = sorted_entries(&dir);
        let inputs: Vec<&PathBuf> = files.iter().filter(|p| is_input(p)).collect();
        // An expectation without its input is stale (a renamed or removed case).
        for p in files.iter().filter(|p| is_expectation(p)) {
            if !inputs
                .iter()
                .any(|i| i.with_extension("") == p.with_extension(""))
            {
                let _ = writeln!(problems, "{}: no input beside it", p.display());
            }
        }
        for input in inputs {
            let text = std::fs::read_to_string(input)
                .unwrap_or_else(|e| panic!("{}: {e}", input.display()));
            let Some(outcome) = parse(&command, &text) else {
                assert!(
                    hand_tested.contains(&command.as_str()),
                    "{command}: no parser for this folder (add it to check() or to its hand-tested list)"
                );
                continue;
            };
            cases += 1;
            // The CRLF variants exist to test CRLF tolerance; a checkout that turned their
            // line ends into LF would make them plain duplicates.
            if file_name(input).contains("crlf") && !text.contains("\r\n") {
                let _ = writeln!(problems, "{}: lost its CRLF line ends", input.display());
            }
            let (got, ext, other) = match outcome {
                Ok(json) => (json, "json", "err"),
                Err(error) => (error, "err", "json"),
            };
            let got = format!("{}\n", got.trim_end());
            let expected_path = input.with_extension(ext);
            let other_path = input.with_extension(other);
            if update {
                std::fs::write(&expected_path, &got)
                    .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
                if other_path.exists() {
                    std::fs::remove_file(&other_path)
                        .unwrap_or_else(|e| panic!("{}: {e}", other_path.display()));
                }
                continue;
            }
            if other_path.exists() {
                let _ = writeln!(
                    problems,
                    "{}: expected per {}, but the parser gave {ext}:\n{got}",
                    input.display(),
                    other_path.display()
                );
                continue;
            }
            match std::fs::read_to_string(&expected_path) {
                Ok(want) if want.replace("\r\n", "\n") == got => {}
                Ok(want) => {
                    let _ = writeln!(
                        problems,
                        "{}: {}",
                        expected_path.display(),
                        first_difference(&want.replace("\r\n", "\n"), &got)
                    );
                }
                Err(e) => {
                    let _ = writeln!(problems, "{}: {e}", expected_path.display());
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "fixture expectations do not hold (run with {UPDATE_ENV}=1 to rewrite them, then review the diff):\n{problems}"
    );
    assert!(cases > 0, "no fixture case under {}", root.display());
    cases
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            e.unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .path()
        })
        .collect();
    v.sort();
    v
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn extension(p: &Path) -> &str {
    p.extension().and_then(|e| e.to_str()).unwrap_or("")
}

fn is_input(p: &Path) -> bool {
    p.is_file() && INPUT_EXTENSIONS.contains(&extension(p))
}

fn is_expectation(p: &Path) -> bool {
    p.is_file() && matches!(extension(p), "json" | "err")
}

/// The first line where `want` and `got` differ, both quoted, for a short failure message.
fn first_difference(want: &str, got: &str) -> String {
    let mut w = want.lines();
    let mut g = got.lines();
    for n in 1.. {
        match (w.next(), g.next()) {
            (Some(a), Some(b)) if a == b => continue,
            (None, None) => break,
            (a, b) => {
                return format!(
                    "line {n}: expected {:?}, got {:?}",
                    a.unwrap_or("<end>"),
                    b.unwrap_or("<end>")
                )
            }
        }
    }
    "differs in line ends only".to_string()
}
