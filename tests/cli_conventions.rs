//! Command-line conventions (issue 14): required parameters checked before the run starts,
//! `--sim` followed by a procedure name, "did you mean", `journal show last`, `list` with
//! parameters, `--version` with the commit, `inventory check`, completions and man pages,
//! errors of shipped procedures.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

mod cli_support;

use cli_support::Run;

/// Run hascript with its journals under `state` (XDG_STATE_HOME) and its host locks in a
/// folder of its own.
fn hascript_with(state: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let locks = state.join("locks");
    let _ = std::fs::create_dir_all(&locks);
    let mut cmd = cli_support::command(args, state);
    cmd.env("HASCRIPT_LOCK_DIR", &locks).env("NO_COLOR", "1");
    cli_support::output(&mut cmd, env, None)
}

fn tmp() -> tempfile::TempDir {
    match tempfile::Builder::new()
        .prefix("conv")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
    {
        Ok(d) => d,
        Err(e) => panic!("no temp dir: {e}"),
    }
}

fn hascript(args: &[&str]) -> (Run, tempfile::TempDir) {
    let d = tmp();
    let r = hascript_with(d.path(), args, &[]);
    (r, d)
}

/// The journals a state folder holds.
fn journals(state: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(state.join("hascript").join("runs")) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn a_missing_required_parameter_stops_before_the_banner_and_the_journal() {
    let (r, d) = hascript(&["run", "ldoms/live-migration", "--sim", "-p", "guest=guest2"]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("missing parameter \"target\" for ldoms/live-migration")
            && r.stderr.contains("-p target=VALUE"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty(), "a banner was printed: {}", r.stdout);
    assert!(journals(d.path()).is_empty(), "a journal was opened");
    // Both missing: both named.
    let (r, _d) = hascript(&["run", "hpvm/move-package", "--sim"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("missing parameters \"package\", \"target\""),
        "{}",
        r.stderr
    );
    // An optional one (`node?`) may be left out: the run goes on past the check.
    let (r, _d) = hascript(&[
        "run",
        "hpvm/deploy-package",
        "--sim",
        "--dry-run",
        "-p",
        "package=nosuchvm",
    ]);
    assert!(!r.stderr.contains("missing parameter"), "{}", r.stderr);
}

#[test]
fn an_operators_script_without_a_marker_requires_every_listed_parameter() {
    let d = tmp();
    let script = d.path().join("mine.rhai");
    assert!(std::fs::write(
        &script,
        "//! params: guest, note?, when (optional: a time)\nprint(params.guest);\n"
    )
    .is_ok());
    let s = script.display().to_string();
    let r = hascript_with(d.path(), &["run", &s, "--sim"], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("missing parameter \"guest\""),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("required: guest; optional: note, when"),
        "{}",
        r.stderr
    );
    let r = hascript_with(d.path(), &["run", &s, "--sim", "-p", "guest=g1"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("g1"), "{}", r.stdout);
}

#[test]
fn a_procedure_given_to_sim_is_the_script() {
    let args = ["-p", "guest=guest2", "-p", "target=cd3"];
    let (before, _d1) = hascript(&[&["run", "ldoms/live-migration", "--sim"][..], &args].concat());
    assert_eq!(before.code, 0, "{}", before.stderr);
    let (r, _d2) = hascript(&[&["run", "--sim", "ldoms/live-migration"][..], &args].concat());
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("ldoms/live-migration"), "{}", r.stdout);
    // No script at all is still a usage error saying what to write.
    let (r, _d3) = hascript(&["run", "--sim"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("no script given"), "{}", r.stderr);
}

#[test]
fn a_name_that_is_both_a_procedure_and_a_scenario_is_ambiguous() {
    let scenario = match hascript::backend::scenarios().into_iter().next() {
        Some(s) => s.name,
        None => panic!("no scenarios"),
    };
    let d = tmp();
    let lib = d.path().join("lib");
    let file = lib.join(format!("{scenario}.rhai"));
    if let Some(parent) = file.parent() {
        assert!(std::fs::create_dir_all(parent).is_ok());
    }
    assert!(std::fs::write(&file, "print(\"mine\");\n").is_ok());
    let path = lib.display().to_string();
    let r = hascript_with(
        d.path(),
        &["run", "--sim", &scenario],
        &[("HASCRIPT_PATH", &path)],
    );
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("names both a scenario and a procedure")
            && r.stderr.contains(&format!("hascript run {scenario} --sim")),
        "{}",
        r.stderr
    );
    // Written the unambiguous way, it runs.
    let r = hascript_with(
        d.path(),
        &["run", &scenario, "--sim"],
        &[("HASCRIPT_PATH", &path)],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("mine"), "{}", r.stdout);
}

#[test]
fn did_you_mean_for_scenarios_parse_kinds_and_inventory_keys() {
    let d = tmp();
    let script = d.path().join("x.rhai");
    assert!(std::fs::write(&script, "print(1);\n").is_ok());
    let s = script.display().to_string();
    let r = hascript_with(
        d.path(),
        &["run", &s, "--sim", "ldoms/migration-abortd-guest-stopped"],
        &[],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("did you mean: ldoms/migration-aborted-guest-stopped"),
        "{}",
        r.stderr
    );
    let r = hascript_with(d.path(), &["parse", "hpvmstat", &s], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("did you mean: hpvmstatus, hpvmstatus-p?"),
        "{}",
        r.stderr
    );
    let inv = d.path().join("site.toml");
    assert!(std::fs::write(
        &inv,
        "driver = \"ldoms\"\n[[host]]\nname = \"cd1\"\nrole = \"control-domain\"\nadress = \"192.0.2.1\"\n"
    )
    .is_ok());
    let i = inv.display().to_string();
    let r = hascript_with(d.path(), &["run", &s, "-i", &i], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(":5: key `adress`") && r.stderr.contains("did you mean: address?"),
        "{}",
        r.stderr
    );
}

#[test]
fn journal_show_last_is_the_newest_run() {
    let d = tmp();
    let first = d.path().join("first.rhai");
    let second = d.path().join("second.rhai");
    assert!(std::fs::write(&first, "step(\"first step\", || 1);\n").is_ok());
    assert!(std::fs::write(&second, "step(\"second step\", || 2);\n").is_ok());
    for s in [&first, &second] {
        let r = hascript_with(d.path(), &["run", &s.display().to_string(), "--sim"], &[]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        // Run ids are ordered by their start time (milliseconds).
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    for args in [&["journal", "show", "last"][..], &["journal", "show"][..]] {
        let r = hascript_with(d.path(), args, &[]);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        assert!(
            r.stdout.contains("second.rhai") && !r.stdout.contains("first.rhai"),
            "{args:?}: {}",
            r.stdout
        );
    }
    // With no run recorded, it says so (exit 2).
    let empty = tmp();
    let r = hascript_with(empty.path(), &["journal", "show", "last"], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("no runs recorded"), "{}", r.stderr);
}

#[test]
fn list_shows_each_procedures_parameters() {
    let (r, _d) = hascript(&["list"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let after = |name: &str| -> String {
        let mut lines = r.stdout.lines().skip_while(|l| !l.contains(name));
        lines.nth(1).unwrap_or_default().trim().to_string()
    };
    // The procedure's optional parameters (issue 12: a password file, the recovery's
    // deadlines) are listed after the required ones.
    assert_eq!(
        after("ldoms/live-migration "),
        "(required: guest, target; optional: password_file, down_deadline, up_deadline, sf_settle, migration_deadline)"
    );
    assert_eq!(
        after("hpvm/deploy-package "),
        "(required: package; optional: method, node, appmon, replace)"
    );
    assert_eq!(after("ldoms/verify-fence "), "(optional: guest)");
}

#[test]
fn version_names_the_commit() {
    let (r, _d) = hascript(&["--version"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let git = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let want = git.unwrap_or_else(|| "unknown".into());
    assert_eq!(
        r.stdout.trim(),
        format!("hascript {} (commit {want})", env!("CARGO_PKG_VERSION"))
    );
}

const BAD_INVENTORY: &str = r#"driver = "ldoms"
[defaults]
transport = "ssh"
usr = "root"
[[host]]
name = "cd1"
role = "control-domain"
adress = "192.0.2.1"
box = "box1"
ppar_id = 0
xscf = ["10.0.0.1", "10.0.0.2"]
[[host]]
name = "cd2"
role = "control-domian"
[[host]]
name = "guest1"
role = "guest-domain"
port = 99999
[[host]]
name = "gu est2"
role = "guest-domain"
[[host]]
name = "guest3"
role = "guest-domain"
box = "box1"
"#;

#[test]
fn inventory_check_reports_every_error_at_once() {
    let d = tmp();
    let inv = d.path().join("site.toml");
    assert!(std::fs::write(&inv, BAD_INVENTORY).is_ok());
    let i = inv.display().to_string();
    let r = hascript_with(d.path(), &["inventory", "check", &i], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let errors: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    let want = [
        (4, "key `usr`", "did you mean: user"),
        (8, "key `adress`", "did you mean: address?"),
        (14, "key `role`", "unknown role \"control-domian\""),
        (18, "key `port`", "port must be a TCP port number"),
        (20, "key `name`", "invalid host name \"gu est2\""),
        (
            25,
            "key `box`",
            "host \"guest3\": only control domains have it",
        ),
    ];
    assert_eq!(errors.len(), want.len(), "{}", r.stderr);
    for ((line, key, says), got) in want.iter().zip(&errors) {
        assert!(
            got.contains(&format!("{i}:{line}: {key}")) && got.contains(says),
            "want {line} {key} {says}, got {got}"
        );
    }
    assert!(
        r.stderr.ends_with(&format!("{i}: 6 errors\n")),
        "{}",
        r.stderr
    );
    // The same file given to a run still stops at its first error.
    let r = hascript_with(d.path(), &["run", "ldoms/verify-fence", "-i", &i], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains(":4: key `usr`"), "{}", r.stderr);

    let good = d.path().join("good.toml");
    assert!(std::fs::write(
        &good,
        "driver = \"ldoms\"\n[defaults]\ntransport = \"local\"\n[[host]]\nname = \"cd1\"\nrole = \"control-domain\"\nbox = \"box1\"\nppar_id = 0\nxscf = [\"192.0.2.1\", \"192.0.2.2\"]\n[[host]]\nname = \"g1\"\nrole = \"guest-domain\"\n[[host]]\nname = \"g2\"\nrole = \"guest-domain\"\n"
    )
    .is_ok());
    let g = good.display().to_string();
    let r = hascript_with(d.path(), &["inventory", "check", &g], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.starts_with(&format!("{g}: ok — driver ldoms"))
            && r.stdout.contains("3 hosts (3 local)")
            && r.stdout.contains("1 control domains, 2 guest domains"),
        "{}",
        r.stdout
    );
}

#[test]
fn completions_load_in_bash_and_name_the_subcommands() {
    let (r, d) = hascript(&["completions", "bash"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("inventory") && r.stdout.contains("journal"));
    // Bash itself loads it and registers the completion for hascript.
    let file = d.path().join("hascript.bash");
    assert!(std::fs::write(&file, &r.stdout).is_ok());
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source '{}' && complete -p hascript",
            file.display()
        ))
        .output();
    let out = match out {
        Ok(o) => o,
        Err(e) => panic!("bash: {e}"),
    };
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("_hascript") && said.trim_end().ends_with("hascript"),
        "{said}"
    );
    let (r, _d) = hascript(&["completions", "zsh"]);
    assert!(
        r.code == 0 && r.stdout.starts_with("#compdef hascript"),
        "{}",
        r.stdout
    );
    let (r, _d) = hascript(&["completions", "fish"]);
    assert!(
        r.code == 0 && r.stdout.contains("complete -c hascript"),
        "{}",
        r.stdout
    );
    let (r, _d) = hascript(&["completions", "tcsh"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn man_pages_are_written_for_every_subcommand() {
    let d = tmp();
    let dir = d.path().join("man1");
    let r = hascript_with(d.path(), &["man", &dir.display().to_string()], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for page in [
        "hascript.1",
        "hascript-run.1",
        "hascript-inventory-check.1",
        "hascript-journal-show.1",
    ] {
        let text = std::fs::read_to_string(dir.join(page)).unwrap_or_default();
        assert!(text.contains(".TH hascript"), "{page}: {text}");
    }
    let run = std::fs::read_to_string(dir.join("hascript-run.1")).unwrap_or_default();
    assert!(
        run.contains("\\-\\-sim") && run.contains("\\-\\-dry\\-run"),
        "{run}"
    );
    let r = hascript_with(d.path(), &["man"], &[]);
    assert!(
        r.code == 0 && r.stdout.contains(".TH hascript 1"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_shipped_procedures_error_shows_the_step_not_the_source() {
    let args = [
        "run",
        "ldoms/post-migration",
        "--sim",
        "-p",
        "guest=guest2",
        "-p",
        "target=cd3",
    ];
    let (r, _d) = hascript(&args);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("error: guest2 runs on cd2, not on cd3")
            && r.stderr.contains(
                "  step: [17.3.1.2 step 1] saved configurations, then clovmmigrate -u on the source control domain\n  procedure: ldoms/post-migration (manual 17.3.1.2)\n"
            ),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("-->")
            && !r.stderr.contains(" | ")
            && !r.stderr.contains("in a closure"),
        "{}",
        r.stderr
    );
    // A remedy of the driver's error is shown.
    let (r, _d) = hascript(&[
        "run",
        "ldoms/live-migration",
        "--sim",
        "ldoms/unhealthy-cluster",
        "-p",
        "guest=guest2",
        "-p",
        "target=cd3",
    ]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("  procedure: ldoms/live-migration (manual 17.3.1)")
            && r.stderr
                .contains("remedy: bring every node of the guest cluster UP")
            && !r.stderr.contains("-->"),
        "{}",
        r.stderr
    );
    // Verbose (`-v`, or HASCRIPT_VERBOSE=1 where no flag can be given): the source as before.
    let mut verbose_args = args.to_vec();
    verbose_args.push("-v");
    for (argv, env) in [
        (verbose_args.as_slice(), &[][..]),
        (&args[..], &[("HASCRIPT_VERBOSE", "1")][..]),
    ] {
        let d = tmp();
        let r = hascript_with(d.path(), argv, env);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(
            r.stderr.contains("  --> ldoms/post-migration:"),
            "{}",
            r.stderr
        );
    }
    let d = tmp();
    // The operator's own copy keeps the source snippet.
    let mine = d.path().join("post.rhai");
    let text = hascript_with(d.path(), &["show", "ldoms/post-migration"], &[]).stdout;
    assert!(std::fs::write(&mine, text).is_ok());
    let m = mine.display().to_string();
    let r = hascript_with(
        d.path(),
        &["run", &m, "--sim", "-p", "guest=guest2", "-p", "target=cd3"],
        &[],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("  --> {m}:")) && !r.stderr.contains("  procedure:"),
        "{}",
        r.stderr
    );
}

#[test]
fn list_into_a_closed_pipe_ends_quietly() {
    let child = Command::new(env!("CARGO_BIN_EXE_hascript"))
        .arg("list")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("HASCRIPT_PATH")
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => panic!("cannot run hascript: {e}"),
    };
    // The reader goes away before hascript writes (`hascript list | head -0`).
    drop(child.stdout.take());
    let out = match child.wait_with_output() {
        Ok(o) => o,
        Err(e) => panic!("{e}"),
    };
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.code(), Some(0), "{err}");
}
