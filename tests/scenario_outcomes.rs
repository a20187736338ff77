//! Scenario outcomes as data: every row of `tests/outcomes/*.toml` runs one shipped procedure
//! on a fresh folder-backed simulated site made from its scenario, through the binary as a
//! user runs it, and holds its exit code and the exact, ordered state-changing commands the
//! simulated hosts received (plus what the output must or must not say). Add a case by adding
//! a row (book/src/testing.md). Outcomes that need more than a row can say (the end state read
//! back from the hosts, several runs on one site, the order of reads) stay Rust tests in
//! tests/scenarios.rs, tests/hpvm_scenarios.rs and their neighbours.

mod sim_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Deserialize;

/// One file of rows.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    row: Vec<Row>,
}

/// One case: run `script` with `params` (and `flags`) on a site made from `scenario`.
#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct Row {
    /// Unique over every file; failures are reported by it.
    name: String,
    /// A shipped procedure (`ldoms/live-migration`) or a path.
    script: String,
    /// `hascript sim init --scenario`; the simulator's default site when absent.
    scenario: Option<String>,
    /// `-p NAME=VALUE` each.
    #[serde(default)]
    params: Vec<String>,
    /// Other arguments of `hascript run` (`--yes`).
    #[serde(default)]
    flags: Vec<String>,
    /// The exit code (design.md's table).
    exit: i32,
    /// Every state-changing command the hosts received (`sim_support::is_change`), as
    /// `host: command line`, in order; `[]` for "changed nothing".
    changes: Vec<String>,
    /// Nothing at all was sent, not even a read (refused before connecting).
    #[serde(default)]
    sent_nothing: bool,
    /// Texts that stdout or stderr must contain.
    #[serde(default)]
    output_contains: Vec<String>,
    /// Texts that neither stdout nor stderr may contain.
    #[serde(default)]
    output_lacks: Vec<String>,
    /// Texts stderr must contain.
    #[serde(default)]
    stderr_contains: Vec<String>,
    /// Texts stdout must contain.
    #[serde(default)]
    stdout_contains: Vec<String>,
}

/// Rows run on this many threads (each row has its own site folder).
const THREADS: usize = 4;

fn tables_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/outcomes")
}

/// Every row of every `*.toml` under `dir`, with its file's name; the errors of files that
/// do not parse and of names used twice.
fn load(dir: &Path) -> (Vec<(String, Row)>, Vec<String>) {
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "toml"));
    files.sort();
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for f in files {
        let file = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = match std::fs::read_to_string(&f) {
            Ok(t) => t,
            Err(e) => {
                errors.push(format!("{file}: {e}"));
                continue;
            }
        };
        match toml::from_str::<Table>(&text) {
            Ok(t) => {
                for r in t.row {
                    if let Some(other) = seen.insert(r.name.clone(), file.clone()) {
                        errors.push(format!(
                            "{file}: row name {:?} is also used in {other}",
                            r.name
                        ));
                    }
                    rows.push((file.clone(), r));
                }
            }
            Err(e) => errors.push(format!("{file}: {e}")),
        }
    }
    (rows, errors)
}

/// What of `row` does not hold, one line each (empty when the row holds).
fn check(row: &Row) -> (Vec<String>, String) {
    let params: Vec<&str> = row.params.iter().map(String::as_str).collect();
    let flags: Vec<&str> = row.flags.iter().map(String::as_str).collect();
    let (r, _site) = sim_support::run(&row.script, row.scenario.as_deref(), &params, &flags);
    let mut bad = Vec::new();
    if r.code != row.exit {
        bad.push(format!("exit: expected {}, got {}", row.exit, r.code));
    }
    let changes = r.changes();
    if changes != row.changes {
        bad.push(format!(
            "changes: expected {:#?}\n         got {:#?}",
            row.changes, changes
        ));
    }
    if row.sent_nothing && !r.log.is_empty() {
        bad.push(format!("sent_nothing: sent {:#?}", r.log));
    }
    let all = r.all();
    for t in &row.output_contains {
        if !all.contains(t.as_str()) {
            bad.push(format!("output_contains: no {t:?}"));
        }
    }
    for t in &row.output_lacks {
        if all.contains(t.as_str()) {
            bad.push(format!("output_lacks: has {t:?}"));
        }
    }
    for t in &row.stderr_contains {
        if !r.stderr.contains(t.as_str()) {
            bad.push(format!("stderr_contains: no {t:?}"));
        }
    }
    for t in &row.stdout_contains {
        if !r.stdout.contains(t.as_str()) {
            bad.push(format!("stdout_contains: no {t:?}"));
        }
    }
    (bad, r.dump())
}

/// Every row, on [`THREADS`] threads; every failing row is reported (file, name, what
/// differs, the run's output and command log), not only the first.
#[test]
fn every_outcome_row_holds() {
    let (rows, mut failures) = load(&tables_dir());
    assert!(
        !rows.is_empty() || !failures.is_empty(),
        "no rows under {}",
        tables_dir().display()
    );
    let failed = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let (rows, failed) = (&rows, &failed);
            scope.spawn(move || {
                for (file, row) in rows.iter().skip(t).step_by(THREADS) {
                    let (bad, dump) = check(row);
                    if !bad.is_empty() {
                        let report = format!(
                            "===== row {:?} ({file}: {} {:?} on {}):\n  {}\n{dump}",
                            row.name,
                            row.script,
                            row.params,
                            row.scenario.as_deref().unwrap_or("the default site"),
                            bad.join("\n  ")
                        );
                        failed
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push((row.name.clone(), report));
                    }
                }
            });
        }
    });
    let mut failed = failed.into_inner().unwrap_or_else(|e| e.into_inner());
    failed.sort();
    let names: Vec<&str> = failed.iter().map(|(n, _)| n.as_str()).collect();
    if !names.is_empty() {
        failures.push(format!(
            "{} of {} rows fail: {names:?}",
            names.len(),
            rows.len()
        ));
    }
    failures.extend(failed.iter().map(|(_, r)| r.clone()));
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The table's own check: a row that is wrong (exit, a change left out, a text the output
/// lacks, a text it has) fails, naming each difference; a row with an unknown field or a
/// name used twice is refused when the tables are read.
#[test]
fn a_wrong_row_is_caught_and_named() {
    let row: Row = toml::from_str(
        r#"
name = "wrong"
script = "ldoms/live-migration"
scenario = "ldoms/migration-continues-after-disconnect"
params = ["guest=guest2", "target=cd3"]
exit = 1
changes = [
  "cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -p guest2",
  "cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd3",
]
output_contains = ["no such text"]
output_lacks = ["guest2 runs on cd3"]
"#,
    )
    .expect("the row parses");
    let (bad, dump) = check(&row);
    let kinds: Vec<&str> = bad
        .iter()
        .map(|b| b.split(':').next().unwrap_or(""))
        .collect();
    assert_eq!(
        kinds,
        ["exit", "changes", "output_contains", "output_lacks"],
        "{bad:#?}\n{dump}"
    );
    assert_eq!(bad[0], "exit: expected 1, got 0");
    assert!(
        bad[1].contains("ldm migrate-domain guest2 cd3"),
        "{}",
        bad[1]
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let one = "[[row]]\nname = \"a\"\nscript = \"s\"\nexit = 0\nchanges = []\n";
    std::fs::write(dir.path().join("a.toml"), one).expect("write");
    std::fs::write(dir.path().join("b.toml"), one).expect("write");
    std::fs::write(
        dir.path().join("c.toml"),
        one.replace("\"a\"", "\"c\"").replace("exit", "exitt"),
    )
    .expect("write");
    let (rows, errors) = load(dir.path());
    assert_eq!(rows.len(), 2, "{errors:?}");
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].contains("b.toml: row name \"a\" is also used in a.toml"),
        "{errors:?}"
    );
    assert!(
        errors[1].starts_with("c.toml: ") && errors[1].contains("exitt"),
        "{errors:?}"
    );
}
