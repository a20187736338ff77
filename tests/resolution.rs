//! How a script is found by name (issue 11 items 1 and 3): a shipped name means the shipped
//! procedure or its override on `HASCRIPT_PATH`, never a file that happens to be in the
//! current folder; a file runs only when written as a path; the banner names the source;
//! `resume` runs the file its journal recorded; an import cycle is a script error (and a
//! problem `hascript check` reports), not a stack overflow.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

mod cli_support;
mod sim_support;

use sim_support::{lines, run_id, text, CrashSite};

/// What a foreign file prints when it runs: it must not, unless written as a path.
const FOREIGN: &str = "FOREIGN CODE RAN";

/// A folder holding a foreign `ldoms/verify-fence` (and `ldoms/verify-fence.rhai`), as a
/// shared jump host's current folder might.
fn shadowing_folder() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(d.path().join("ldoms")).expect("mkdir");
    for f in ["ldoms/verify-fence", "ldoms/verify-fence.rhai"] {
        std::fs::write(d.path().join(f), format!("print({FOREIGN:?});\n")).expect("write");
    }
    d
}

/// `hascript ARGS` started in `dir`, journals under `dir/state`, no `HASCRIPT_PATH` unless
/// `env` sets it.
fn hascript_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = cli_support::command(args, &dir.join("state"));
    c.current_dir(dir)
        .env_remove("HASCRIPT_SIM_PACE_MS")
        .env("NO_COLOR", "1");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("hascript runs")
}

fn both(o: &Output) -> String {
    format!("{}{}", text(&o.stdout), text(&o.stderr))
}

/// The banner line of a run's output.
fn banner(out: &str) -> String {
    out.lines()
        .find(|l| l.starts_with("hascript ") && l.contains(" — "))
        .unwrap_or_else(|| panic!("no banner: {out}"))
        .to_string()
}

#[test]
fn a_file_in_the_current_folder_never_replaces_a_shipped_procedure() {
    let d = shadowing_folder();
    let o = hascript_in(d.path(), &["run", "ldoms/verify-fence", "--sim"], &[]);
    let out = both(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        !out.contains(FOREIGN),
        "the file in the current folder ran: {out}"
    );
    assert!(
        banner(&out).contains("ldoms/verify-fence (shipped)"),
        "{out}"
    );
    // Both exist: the operator is told which one ran and how to run the other.
    assert!(
        out.contains("warning:") && out.contains("\"./ldoms/verify-fence"),
        "{out}"
    );
}

#[test]
fn a_file_runs_when_written_as_a_path_and_the_banner_says_so() {
    let d = shadowing_folder();
    let abs = d.path().join("ldoms/verify-fence");
    let abs = abs.to_str().expect("utf8");
    for arg in ["./ldoms/verify-fence", abs, "ldoms/verify-fence.rhai"] {
        let o = hascript_in(d.path(), &["run", arg, "--sim"], &[]);
        let out = both(&o);
        assert_eq!(o.status.code(), Some(0), "{arg}: {out}");
        assert!(out.contains(FOREIGN), "{arg}: {out}");
        let b = banner(&out);
        assert!(b.contains(&format!("{arg} (file: /")), "{arg}: {b}");
        // Written relative to the current folder, it also spells the shipped name: the
        // operator is told the shipped procedure does not run.
        assert_eq!(
            out.contains("not the procedure ldoms/verify-fence (shipped)"),
            arg != abs,
            "{arg}: {out}"
        );
    }
    // A name ending in .rhai is a file: with no such file, it does not fall back to the
    // shipped procedure.
    let empty = tempfile::tempdir().expect("tempdir");
    let o = hascript_in(
        empty.path(),
        &["run", "ldoms/verify-fence.rhai", "--sim"],
        &[],
    );
    let out = both(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("no script file"), "{out}");
    assert!(
        out.contains("\"ldoms/verify-fence\""),
        "the hint names the procedure: {out}"
    );
    assert!(!out.contains("Fencing"), "{out}");
}

#[test]
fn a_file_that_is_no_procedure_runs_only_when_written_as_a_path() {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(d.path().join("mine"), format!("print({FOREIGN:?});\n")).expect("write");
    let o = hascript_in(d.path(), &["run", "mine", "--sim"], &[]);
    let out = both(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(!out.contains(FOREIGN), "{out}");
    assert!(
        out.contains("runs only when written as a path") && out.contains("\"./mine\""),
        "{out}"
    );
    let o = hascript_in(d.path(), &["run", "./mine", "--sim"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    assert!(text(&o.stdout).contains(FOREIGN));
}

#[test]
fn a_hascript_path_override_is_named_in_the_banner_and_wins_over_the_current_folder() {
    let d = shadowing_folder();
    let site = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(site.path().join("ldoms")).expect("mkdir");
    let over = site.path().join("ldoms/verify-fence.rhai");
    std::fs::write(&over, "print(\"SITE OVERRIDE\");\n").expect("write");
    let path = site.path().to_str().expect("utf8");
    let o = hascript_in(
        d.path(),
        &["run", "ldoms/verify-fence", "--sim"],
        &[("HASCRIPT_PATH", path)],
    );
    let out = both(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("SITE OVERRIDE") && !out.contains(FOREIGN),
        "{out}"
    );
    assert!(
        banner(&out).contains(&format!("(HASCRIPT_PATH: {})", over.display())),
        "{out}"
    );
}

#[test]
fn check_and_show_find_a_name_as_run_does() {
    let d = shadowing_folder();
    // A file in the current folder that `check` would flag: it is not what the name means.
    std::fs::write(
        d.path().join("ldoms/verify-fence"),
        "no_such_function_anywhere();\n",
    )
    .expect("write");
    let o = hascript_in(d.path(), &["check", "ldoms/verify-fence"], &[]);
    let out = both(&o);
    assert_eq!(o.status.code(), Some(0), "checked the foreign file: {out}");
    assert!(
        out.contains("warning:") && out.contains("./ldoms/verify-fence"),
        "{out}"
    );
    let o = hascript_in(d.path(), &["check", "./ldoms/verify-fence"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    assert!(
        text(&o.stdout).contains("no_such_function_anywhere"),
        "{}",
        both(&o)
    );
    let o = hascript_in(d.path(), &["show", "ldoms/verify-fence"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    assert!(!text(&o.stdout).contains("no_such_function"));
    assert!(text(&o.stderr).contains("warning:"), "{}", both(&o));
}

#[test]
fn the_repl_run_finds_a_name_as_run_does() {
    let d = shadowing_folder();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hascript"))
        .args(["repl", "--sim"])
        .current_dir(d.path())
        .env_remove("HASCRIPT_PATH")
        .env("XDG_STATE_HOME", d.path().join("state"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("repl starts");
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(b":run ldoms/verify-fence\n:run ./ldoms/verify-fence\n");
    }
    let o = child.wait_with_output().expect("repl ends");
    let out = both(&o);
    let banners: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("hascript ") && l.contains(" (run "))
        .collect();
    assert_eq!(banners.len(), 2, "{out}");
    assert!(banners[0].contains("ldoms/verify-fence (shipped)"), "{out}");
    assert!(
        banners[1].contains("./ldoms/verify-fence (file: /"),
        "{out}"
    );
    // Only the second `:run`, written as a path, ran the file.
    assert_eq!(out.matches(FOREIGN).count(), 1, "{out}");
    let first_foreign = out.find(FOREIGN).unwrap_or(0);
    let second_banner = out.find(banners[1]).unwrap_or(usize::MAX);
    assert!(first_foreign > second_banner, "{out}");
}

/// The journal of a finished run copied as a run that died right after its header (pid 0,
/// no result): what `resume` continues. Returns the new run's id.
fn dead_copy(env: &CrashSite, finished: &[Value], id: &str) -> String {
    let runs = env.journals()[0].parent().expect("runs").to_path_buf();
    let mut header = finished[0].clone();
    header["run"] = id.into();
    header["pid"] = 0.into();
    std::fs::write(runs.join(format!("{id}.jsonl")), format!("{header}\n")).expect("write");
    id.to_string()
}

#[test]
fn resume_runs_the_shipped_procedure_it_recorded_not_a_file_in_the_current_folder() {
    let env = CrashSite::new("ldoms");
    let o = env.run("ldoms/verify-fence", &[], &["--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let done = lines(&env.journals()[0]);
    assert!(
        done[0].get("path").is_none_or(Value::is_null),
        "{:?}",
        done[0]
    );
    let id = dead_copy(&env, &done, "20000101T000000.000Z-00000a");
    let d = shadowing_folder();
    let o = env
        .cmd(&["resume", &id, "--yes"])
        .current_dir(d.path())
        .output()
        .expect("resume");
    let out = both(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(!out.contains(FOREIGN), "{out}");
    assert!(
        banner(&out).contains("ldoms/verify-fence (shipped)"),
        "{out}"
    );
}

#[test]
fn resume_runs_the_recorded_file_from_any_folder_and_refuses_it_changed() {
    let env = CrashSite::new("ldoms");
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    std::fs::write(a.path().join("w.rhai"), "print(\"the recorded file\");\n").expect("write");
    std::fs::write(b.path().join("w.rhai"), format!("print({FOREIGN:?});\n")).expect("write");
    let o = env
        .run_with("./w.rhai", &[], &["--yes"])
        .current_dir(a.path())
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let done = lines(&env.journals()[0]);
    // The journal records the file itself, not the spelling relative to the folder.
    let recorded = PathBuf::from(done[0]["path"].as_str().unwrap_or_default());
    assert!(recorded.is_absolute(), "{:?}", done[0]);
    let id = dead_copy(&env, &done, "20000101T000000.000Z-00000b");
    // From another folder that holds its own w.rhai.
    let o = env
        .cmd(&["resume", &id, "--yes"])
        .current_dir(b.path())
        .output()
        .expect("resume");
    let out = both(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("the recorded file") && !out.contains(FOREIGN),
        "{out}"
    );
    assert!(
        banner(&out).contains(&format!("(file: {})", recorded.display())),
        "{out}"
    );
    // The recorded file edited since: refused, naming it.
    std::fs::write(a.path().join("w.rhai"), "print(\"edited\");\n").expect("write");
    let id = dead_copy(&env, &done, "20000101T000000.000Z-00000c");
    let o = env
        .cmd(&["resume", &id, "--yes"])
        .current_dir(b.path())
        .output()
        .expect("resume");
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    assert!(
        err.contains("is not the one run") && err.contains(&recorded.display().to_string()),
        "{err}"
    );
    assert!(!both(&o).contains("edited"));
}

/// `a.rhai` imports `b`, which imports `a`: a cycle, in a fresh folder; `a_head` comes
/// before the import in `a.rhai`.
fn cycle_folder(a_head: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        d.path().join("a.rhai"),
        format!("{a_head}import \"b\" as b;\nprint(\"after the import\");\n"),
    )
    .expect("write");
    std::fs::write(
        d.path().join("b.rhai"),
        "import \"a\" as a;\nfn f() { 1 }\n",
    )
    .expect("write");
    d
}

#[test]
fn an_import_cycle_is_a_script_error_naming_the_chain() {
    let d = cycle_folder("");
    let o = hascript_in(d.path(), &["run", "./a.rhai", "--sim"], &[]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    assert!(
        err.contains("import cycle: ./a.rhai imports ./b.rhai imports ./a.rhai"),
        "{err}"
    );
    assert!(
        err.contains("--> ./b.rhai:1:"),
        "file:line of the closing import: {err}"
    );
    assert!(!text(&o.stdout).contains("after the import"));
    // A module that imports itself.
    std::fs::write(d.path().join("self.rhai"), "import \"self\" as s;\n").expect("write");
    let o = hascript_in(d.path(), &["run", "./self.rhai", "--sim"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    assert!(text(&o.stderr).contains("import cycle"), "{}", both(&o));
}

#[test]
fn check_reports_an_import_cycle() {
    let d = cycle_folder("");
    std::fs::write(d.path().join("top.rhai"), "import \"a\" as a;\n").expect("write");
    for (script, at) in [("./a.rhai", "./b.rhai:1:"), ("./top.rhai", "./b.rhai:1:")] {
        let o = hascript_in(d.path(), &["check", script], &[]);
        let out = text(&o.stdout);
        assert_eq!(o.status.code(), Some(2), "{script}: {}", both(&o));
        assert!(
            out.contains(at) && out.contains("import cycle:"),
            "{script}: {out}"
        );
    }
    // No cycle: a module imported twice (a diamond) is fine.
    std::fs::write(
        d.path().join("x.rhai"),
        "import \"y\" as y;\nimport \"z\" as z;\n",
    )
    .expect("write");
    std::fs::write(
        d.path().join("y.rhai"),
        "import \"z\" as z;\nfn f() { 1 }\n",
    )
    .expect("write");
    std::fs::write(d.path().join("z.rhai"), "fn g() { 2 }\n").expect("write");
    let o = hascript_in(d.path(), &["check", "./x.rhai"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let o = hascript_in(d.path(), &["run", "./x.rhai", "--sim"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
}

#[test]
fn an_import_cycle_after_a_change_runs_the_pending_routines_first() {
    let env = CrashSite::init(None);
    let d = cycle_folder(
        "fence.stop();\nlet r = defer(\"start fencing again\", || { fence.start(); });\n",
    );
    let script = d.path().join("a.rhai");
    let o = env.run(script.to_str().expect("utf8"), &[], &["--yes"]);
    let out = both(&o);
    // A script error after a change: exit 4 (not an abort), the script's routine ran.
    assert_eq!(o.status.code(), Some(4), "{out}");
    assert!(out.contains("import cycle"), "{out}");
    let ls = env.last_journal();
    assert_eq!(run_id(&ls), ls[0]["run"].as_str().unwrap_or_default());
    // The change was made (the shutdown facility stopped) before the import.
    assert!(
        ls.iter().any(|l| l["event"] == "command_end"
            && l["command"]
                .as_str()
                .is_some_and(|c| c.contains("sdtool -e"))),
        "{out}"
    );
    let reg = ls
        .iter()
        .find(|l| l["event"] == "recovery_registered" && l["what"] == "start fencing again")
        .unwrap_or_else(|| panic!("defer registered: {out}"));
    let ran = ls
        .iter()
        .find(|l| l["event"] == "recovery_run" && l["id"] == reg["id"])
        .unwrap_or_else(|| panic!("defer ran: {out}"));
    assert_eq!(ran["outcome"], "ok", "{out}");
    let result = ls.last().expect("result");
    assert_eq!(result["event"], "result", "{out}");
    assert_eq!(result["exit"], 4);
    // The shutdown facility runs again on both guest nodes.
    for g in ["guest1", "guest2"] {
        let o = env.sim_run(g, &["/opt/SMAW/bin/sdtool", "-s"]);
        assert!(
            text(&o.stdout).contains("SA_xscfsnmpg0p.so"),
            "{g}: {}",
            both(&o)
        );
    }
}

/// A shipped script's imports are looked up among the shipped scripts (and their
/// overrides), never in a folder of the same name under the current folder. The only
/// test here that changes the process's current folder: every other test starts its
/// processes in an explicit folder.
#[test]
fn a_shipped_scripts_imports_never_come_from_the_current_folder() {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(d.path().join("ldoms")).expect("mkdir");
    std::fs::write(d.path().join("ldoms/verify-fence"), "print(1);\n").expect("write");
    std::fs::write(d.path().join("ldoms/helpers.rhai"), "fn planted() { 1 }\n").expect("write");
    let before = std::env::current_dir().expect("cwd");
    std::env::set_current_dir(d.path()).expect("cd");
    let resolver = hascript::engine::resolver::Resolver::new(Vec::new(), Default::default());
    let found = resolver.find(Some("ldoms/verify-fence"), "helpers");
    std::env::set_current_dir(before).expect("cd back");
    assert!(found.is_err(), "a planted module was found: {found:?}");
}

/// An override on `HASCRIPT_PATH` imports as the shipped script it replaces: `ldoms/NAME`
/// from the other `HASCRIPT_PATH` folders (then the shipped scripts), not only its own
/// folder.
#[test]
fn an_override_imports_its_siblings_by_the_shipped_scripts_folder() {
    let d = tempfile::tempdir().expect("tempdir");
    let (one, two) = (d.path().join("one"), d.path().join("two"));
    std::fs::create_dir_all(one.join("ldoms")).expect("mkdir");
    std::fs::create_dir_all(two.join("ldoms")).expect("mkdir");
    std::fs::write(
        one.join("ldoms/verify-fence.rhai"),
        "import \"helpers\" as h;\nprint(h::hello());\n",
    )
    .expect("write");
    std::fs::write(
        two.join("ldoms/helpers.rhai"),
        "fn hello() { \"sibling module\" }\n",
    )
    .expect("write");
    let path = std::env::join_paths([&one, &two]).expect("path");
    let o = hascript_in(
        d.path(),
        &["run", "ldoms/verify-fence", "--sim"],
        &[("HASCRIPT_PATH", path.to_str().expect("utf8"))],
    );
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    assert!(text(&o.stdout).contains("sibling module"), "{}", both(&o));
}

// ----- `show` appends the modules a script imports (issue 12) ------------------------------

/// Where `needle` first occurs in `hay` at or after `from`; the test fails naming it when
/// it does not.
fn find_from(hay: &str, needle: &str, from: usize) -> usize {
    hay[from..]
        .find(needle)
        .map(|i| i + from)
        .unwrap_or_else(|| panic!("{needle:?} not found after byte {from} in:\n{hay}"))
}

#[test]
fn show_live_migration_shows_every_manual_step_in_order_and_the_recovery_decision() {
    let d = tempfile::tempdir().expect("tempdir");
    let o = hascript_in(d.path(), &["show", "ldoms/live-migration"], &[]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    // The script's own steps, then the module (imported twice, shown once) with step 2,
    // the note and the recovery of the 17.3.1.1 note.
    let header = "// ---- module lib/ldoms/migration (shipped) ----";
    assert_eq!(out.matches(header).count(), 1, "{out}");
    let mut at = 0;
    for needle in [
        "step(\"A0\", `preflight",
        "step(\"17.3.1.1\", `before live migration: clovmmigrate -p",
        "ldm migrate-domain",
        "step(\"17.3.1.2 step 1\"",
        header,
        "fn preflight_checks(",
        "\"XSCF host keys\"",
        "step(\"17.3.1.2 step 2\"",
        "step(\"17.3.1.2 note\"",
        "fn recover(guest)",
        "cluster.wait_guest_node(guest, \"DOWN\"",
        "hypervisor.start(guest)",
        "// ---- end of module lib/ldoms/migration ----",
    ] {
        at = find_from(&out, needle, at) + needle.len();
    }
    // The shipped script's text comes first, unchanged.
    let shipped = include_str!("../scripts/ldoms/live-migration.rhai");
    assert!(out.starts_with(shipped), "{out}");
}

#[test]
fn show_appends_a_sites_modules_once_each_recursively_and_the_copy_still_runs() {
    let d = tempfile::tempdir().expect("tempdir");
    let site = d.path().join("site");
    std::fs::create_dir_all(site.join("lib/ldoms")).expect("mkdir");
    std::fs::create_dir_all(site.join("ldoms")).expect("mkdir");
    // The site's module overrides the shipped one and imports one of its own.
    let shipped = include_str!("../scripts/lib/ldoms/migration.rhai");
    std::fs::write(
        site.join("lib/ldoms/migration.rhai"),
        format!("import \"lib/site/pager\" as pager;\n// SITE MODULE\n{shipped}"),
    )
    .expect("write");
    std::fs::create_dir_all(site.join("lib/site")).expect("mkdir");
    std::fs::write(
        site.join("lib/site/pager.rhai"),
        "import \"lib/ldoms/migration\" as m;\nfn page(who) { info(`paged ${who}`) }\n",
    )
    .expect("write");
    let path = site.to_str().expect("utf8");
    let o = hascript_in(
        d.path(),
        &["show", "ldoms/post-migration"],
        &[("HASCRIPT_PATH", path)],
    );
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let module = site.join("lib/ldoms/migration.rhai");
    let header = format!(
        "// ---- module lib/ldoms/migration (HASCRIPT_PATH: {}) ----",
        module.display()
    );
    assert_eq!(out.matches(&header).count(), 1, "{out}");
    assert!(!out.contains("(shipped) ----"), "{out}");
    let at = find_from(&out, &header, 0);
    let at = find_from(&out, "// SITE MODULE", at);
    // The module's own import, after it, once (it imports the first one back: not again).
    let pager = format!(
        "// ---- module lib/site/pager (HASCRIPT_PATH: {}) ----",
        site.join("lib/site/pager.rhai").display()
    );
    let at = find_from(&out, &pager, at);
    find_from(&out, "fn page(who)", at);
    assert_eq!(out.matches("// ---- module ").count(), 2, "{out}");

    // What `show` prints, saved as a file, is still the script alone: it checks clean and
    // runs as the shipped one does.
    let copy = d.path().join("copy.rhai");
    let o = hascript_in(d.path(), &["show", "ldoms/live-migration"], &[]);
    std::fs::write(&copy, &o.stdout).expect("write");
    let copy = copy.to_str().expect("utf8");
    let o = hascript_in(d.path(), &["check", copy], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let o = hascript_in(
        d.path(),
        &[
            "run",
            copy,
            "--sim",
            "-p",
            "guest=guest2",
            "-p",
            "target=cd3",
            "--yes",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    assert!(
        text(&o.stdout).contains("guest2 runs on cd3"),
        "{}",
        both(&o)
    );
}
