//! Every ```rhai block of the book runs: each is written to a file and run with
//! `hascript run FILE --sim ldoms --yes -p guest=guest2 -p target=cd3` on a fresh in-memory
//! simulated site (pages about Serviceguard — `hpvm` in their path, `package-file.md` —
//! with `--sim hpvm -p package=slvm1 -p target=node2`), and must exit 0. Every block, run
//! or ```rhai,no_run, is first checked (`hascript check FILE`) and must have no problem.

use std::path::{Path, PathBuf};

mod cli_support;

/// How many ```rhai and ```rhai,no_run blocks the book holds at least (so the test cannot
/// pass by finding none).
const MIN_RUN_BLOCKS: usize = 37;
const MIN_NO_RUN_BLOCKS: usize = 2;

/// One fenced block of a page.
struct Block {
    page: String,
    /// 1-based line of the opening fence.
    line: usize,
    run: bool,
    text: String,
    /// The module file the page presents the block as (the prose line before it ends with
    /// "`NAME.rhai`:"): written under that name beside the other blocks, so a block that
    /// imports it is checked and run as the page shows.
    module: Option<String>,
}

/// `helpers.rhai` when `line` ends with "`helpers.rhai`:".
fn module_named(line: &str) -> Option<String> {
    let rest = line.trim_end().strip_suffix(".rhai`:")?;
    let start = rest.rfind('`')?;
    let name = &rest[start + 1..];
    (!name.is_empty() && !name.contains(['/', ' '])).then(|| format!("{name}.rhai"))
}

fn pages(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => panic!("cannot read {}: {e}", dir.display()),
    };
    for entry in entries.filter_map(Result::ok) {
        let p = entry.path();
        if p.is_dir() {
            pages(&p, out);
        } else if p.extension().and_then(|x| x.to_str()) == Some("md") {
            out.push(p);
        }
    }
}

/// The file an mdBook include line names (`{{#include ../../../scripts/ldoms/x.rhai}}`),
/// relative to the page's folder `dir`; `None` for any other line. Only whole-file includes
/// are used in this book: an anchor or a line range (`file:2:10`) fails the test, since
/// it would be quoted differently here than by mdBook.
fn include_of(line: &str, dir: &Path) -> Option<PathBuf> {
    let inner = line
        .trim()
        .strip_prefix("{{#include ")?
        .strip_suffix("}}")?
        .trim();
    assert!(
        !inner.contains(':'),
        "{line}: only whole-file includes are supported by this test"
    );
    Some(dir.join(inner))
}

/// The ```rhai and ```rhai,no_run blocks of one page, mdBook's `{{#include FILE}}` lines
/// replaced by the file's text (as the built book shows them), relative to `dir`.
fn blocks_in(page: &str, text: &str, dir: &Path) -> Vec<Block> {
    let mut expanded = String::new();
    let mut in_block = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
        }
        match include_of(line, dir).filter(|_| in_block) {
            Some(f) => {
                let t = std::fs::read_to_string(&f)
                    .unwrap_or_else(|e| panic!("{page}: cannot include {}: {e}", f.display()));
                // One line per included file keeps the page's line numbers in messages.
                let t = t.strip_suffix('\n').unwrap_or(&t);
                expanded.push_str(&t.replace('\n', "\u{0}"));
            }
            None => expanded.push_str(line),
        }
        expanded.push('\n');
    }
    blocks(page, &expanded)
        .into_iter()
        .map(|mut b| {
            b.text = b.text.replace('\u{0}', "\n");
            b
        })
        .collect()
}

/// The ```rhai and ```rhai,no_run blocks of one page.
fn blocks(page: &str, text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<(usize, Option<bool>, String)> = None;
    let mut prose = "";
    let mut module = None;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        match &mut open {
            None => {
                if !t.trim().is_empty() && !t.starts_with("```") {
                    prose = line;
                }
                if let Some(info) = t.strip_prefix("```") {
                    let kind = match info.trim() {
                        "rhai" => Some(true),
                        "rhai,no_run" => Some(false),
                        _ => None,
                    };
                    module = module_named(prose);
                    open = Some((i + 1, kind, String::new()));
                }
            }
            Some((start, kind, body)) => {
                if t.trim_end() == "```" {
                    if let Some(run) = *kind {
                        out.push(Block {
                            page: page.to_string(),
                            line: *start,
                            run,
                            text: std::mem::take(body),
                            module: module.take(),
                        });
                    }
                    open = None;
                } else {
                    body.push_str(line);
                    body.push('\n');
                }
            }
        }
    }
    if let Some((start, _, _)) = open {
        panic!("{page}:{start}: a fenced block is never closed");
    }
    out
}

fn hascript(args: &[&str], dir: &Path) -> (Option<i32>, String) {
    let mut c = cli_support::command(args, cli_support::build_tmp());
    c.current_dir(dir).env_remove("SSH_ORIGINAL_COMMAND");
    match c.output() {
        Ok(o) => (
            o.status.code(),
            format!(
                "--- stdout\n{}--- stderr\n{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
        ),
        Err(e) => panic!("cannot start hascript: {e}"),
    }
}

#[test]
fn every_rhai_block_of_the_book_runs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("book")
        .join("src");
    let mut files = Vec::new();
    pages(&root, &mut files);
    files.sort();
    let mut all = Vec::new();
    for f in &files {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => panic!("cannot read {}: {e}", f.display()),
        };
        let name = f.strip_prefix(&root).unwrap_or(f).display().to_string();
        let dir = f.parent().unwrap_or(&root);
        all.extend(blocks_in(&name, &text, dir));
    }
    let runs = all.iter().filter(|b| b.run).count();
    let checks = all.len() - runs;
    assert!(
        runs >= MIN_RUN_BLOCKS,
        "found {runs} ```rhai blocks in {}, expected at least {MIN_RUN_BLOCKS}",
        root.display()
    );
    assert!(
        checks >= MIN_NO_RUN_BLOCKS,
        "found {checks} ```rhai,no_run blocks, expected at least {MIN_NO_RUN_BLOCKS}"
    );

    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("cannot create a temporary folder: {e}"),
    };
    for b in &all {
        if let Some(m) = &b.module {
            if let Err(e) = std::fs::write(dir.path().join(m), &b.text) {
                panic!("cannot write {m}: {e}");
            }
        }
    }
    let mut failures = Vec::new();
    for b in &all {
        let file_name = format!("{}-{}.rhai", b.page.replace(['/', '\\', '.'], "_"), b.line);
        let file = dir.path().join(&file_name);
        if let Err(e) = std::fs::write(&file, &b.text) {
            panic!("cannot write {}: {e}", file.display());
        }
        // Every block, run or not, is clean for `hascript check` (no false positive of the
        // unknown function/method check on the book's own examples).
        let (code, output) = hascript(&["check", &file_name], dir.path());
        if code != Some(0) {
            failures.push(format!(
                "book/src/{}:{}: `hascript check` reported problems (exit {code:?})\n--- block\n{}{output}",
                b.page, b.line, b.text
            ));
            continue;
        }
        let (code, output) = if b.run {
            // Serviceguard pages run on the hpvm simulator, the rest on the LDoms one.
            let hpvm = b.page.contains("hpvm") || b.page.contains("package-file");
            let (site, guest, target) = if hpvm {
                ("hpvm", "package=slvm1", "target=node2")
            } else {
                ("ldoms", "guest=guest2", "target=cd3")
            };
            hascript(
                &[
                    "run", &file_name, "--sim", site, "--yes", "-p", guest, "-p", target,
                ],
                dir.path(),
            )
        } else {
            (code, output)
        };
        if code != Some(0) {
            failures.push(format!(
                "book/src/{}:{}: ```{} block {} with {code:?}\n--- block\n{}{output}",
                b.page,
                b.line,
                if b.run { "rhai" } else { "rhai,no_run" },
                if b.run { "ran" } else { "was checked" },
                b.text
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} book blocks failed:\n\n{}",
        failures.len(),
        all.len(),
        failures.join("\n\n")
    );
}

/// The blocks of `book/src/procedures/PAGE.md` (includes expanded) and the text of
/// `scripts/SCRIPT.rhai` as it ships: what a procedure page's quote is checked against.
fn page_blocks_and_script(page: &str, script: &str) -> (Vec<Block>, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = root.join(format!("book/src/procedures/{page}.md"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let dir = path.parent().expect("a folder");
    let shipped = std::fs::read_to_string(root.join(format!("scripts/{script}.rhai")))
        .expect("the shipped script");
    (
        blocks_in(&format!("procedures/{page}.md"), &text, dir),
        shipped,
    )
}

/// Each LDoms procedure's page quotes its script, whole, from the file that ships (an mdBook
/// include in a ```rhai,no_run block, which the test above expands and checks): the page
/// cannot drift from the procedure.
#[test]
fn every_ldoms_procedure_page_quotes_its_script() {
    for name in [
        "live-migration",
        "pre-migration",
        "post-migration",
        "recover-migration",
        "verify-fence",
    ] {
        let (quoted, script) =
            page_blocks_and_script(&format!("ldoms-{name}"), &format!("ldoms/{name}"));
        assert!(
            quoted.iter().any(|b| b.text == script),
            "book/src/procedures/ldoms-{name}.md must quote scripts/ldoms/{name}.rhai whole, in a ```rhai,no_run block: {{{{#include ../../../scripts/ldoms/{name}.rhai}}}}"
        );
    }
}

#[test]
fn the_serviceguard_move_pages_quote_their_scripts() {
    for (page, script) in [
        ("hpvm-move-package", "hpvm/move-package"),
        ("hpvm-recover-move", "hpvm/recover-move"),
        ("hpvm", "lib/hpvm/move"),
    ] {
        let (quoted, shipped) = page_blocks_and_script(page, script);
        assert!(
            quoted.iter().any(|b| !b.run && b.text == shipped),
            "book/src/procedures/{page}.md must quote scripts/{script}.rhai whole, in a ```rhai,no_run block: {{{{#include ../../../scripts/{script}.rhai}}}}"
        );
    }
}

/// The Serviceguard procedures whose sequences moved into scripts (issue 13) quote them
/// whole, from the files that ship, as the LDoms pages do.
#[test]
fn every_scripted_hpvm_package_procedure_page_quotes_its_script() {
    // Every shipped Serviceguard procedure on its own page (the two upgrade processes share
    // one), and the shared modules where their steps are described.
    let mut pages: Vec<(String, String)> = hascript::scripts::all_names(&[])
        .into_iter()
        .filter(|n| n.starts_with("hpvm/"))
        .map(|n| {
            let page = if n.starts_with("hpvm/upgrade-appmon") {
                "hpvm-upgrade-appmon".to_string()
            } else {
                n.replacen('/', "-", 1)
            };
            (page, n)
        })
        .collect();
    assert!(pages.len() >= 15, "{pages:?}");
    for (page, script) in [
        ("hpvm-deploy-package", "lib/hpvm/deploy"),
        ("hpvm-upgrade-appmon", "lib/hpvm/appmon_upgrade"),
    ] {
        pages.push((page.to_string(), script.to_string()));
    }
    for (page, script) in pages {
        let (quoted, shipped) = page_blocks_and_script(&page, &script);
        assert!(
            quoted.iter().any(|b| b.text == shipped),
            "book/src/procedures/{page}.md must quote scripts/{script}.rhai whole, in a ```rhai,no_run block"
        );
    }
}

#[test]
fn every_simulator_scenario_has_a_row_in_the_simulator_page() {
    // The scenario list is every file under drivers/sim/scenarios/ (build.rs); each one is
    // described in the simulator page's tables: an LDoms row names it by its short name
    // (`| \`migration-hangs\` |`), a Serviceguard row by its full name.
    let page = Path::new(env!("CARGO_MANIFEST_DIR")).join("book/src/simulator.md");
    let text = std::fs::read_to_string(&page)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", page.display()));
    let list = hascript_sim::scenarios();
    assert!(list.len() >= 44, "only {} scenarios listed", list.len());
    let missing: Vec<String> = list
        .iter()
        .filter(|s| {
            let short = s.name.strip_prefix("ldoms/").unwrap_or(&s.name);
            !text
                .lines()
                .any(|l| l.starts_with(&format!("| `{short}` |")))
        })
        .map(|s| s.name.clone())
        .collect();
    assert!(
        missing.is_empty(),
        "scenarios without a row in book/src/simulator.md (add one to its table): {missing:?}"
    );
}
