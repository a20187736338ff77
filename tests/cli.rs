//! The command line: usage errors and their exit codes, runs on the simulator and on this
//! machine, list/show/check/parse, the simulator commands.

mod cli_support;
mod sim_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cli_support::Run;
use sim_support::local_inventory;

fn hascript_in(
    dir: Option<&Path>,
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, &str)],
) -> Run {
    // Hosts on the local transport lock in a folder of this call's own, never in the
    // machine's /var/tmp: another hascript run on this machine must not refuse a test.
    let locks = match tempfile::Builder::new()
        .prefix("locks")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
    {
        Ok(d) => d,
        Err(e) => panic!("no lock folder: {e}"),
    };
    let mut cmd = cli_support::command(args, cli_support::build_tmp());
    cmd.env("HASCRIPT_LOCK_DIR", locks.path())
        .env_remove("SSH_ORIGINAL_COMMAND");
    if let Some(d) = dir {
        cmd.current_dir(d);
    }
    cli_support::output(&mut cmd, env, stdin)
}

fn hascript(args: &[&str]) -> Run {
    hascript_in(None, args, None, &[])
}

fn tmp() -> tempfile::TempDir {
    match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("no temp dir: {e}"),
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    if let Err(e) = std::fs::write(&p, text) {
        panic!("cannot write {}: {e}", p.display());
    }
    p
}

/// Run `script` on the default simulated site; returns the run.
fn sim_run(script: &str, extra: &[&str]) -> Run {
    let d = tmp();
    let p = write(d.path(), "t.rhai", script);
    let path = p.display().to_string();
    let mut args = vec!["run", path.as_str(), "--sim"];
    args.extend_from_slice(extra);
    hascript(&args)
}

#[test]
fn run_without_a_site_names_both_options() {
    let d = tmp();
    let p = write(d.path(), "t.rhai", "print(1);");
    let r = hascript(&["run", &p.display().to_string()]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--sim") && r.stderr.contains("-i INVENTORY"),
        "{}",
        r.stderr
    );
    assert!(!r.stdout.contains('1'));
}

#[test]
fn sim_and_inventory_exclude_each_other() {
    let r = hascript(&["run", "x.rhai", "--sim", "-i", "inv.toml"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--sim") && r.stderr.contains("-i"),
        "{}",
        r.stderr
    );
}

#[test]
fn sim_state_alone_is_a_usage_error() {
    let d = tmp();
    let p = write(d.path(), "t.rhai", "print(1);");
    let r = hascript(&[
        "run",
        &p.display().to_string(),
        "--sim-state",
        &d.path().join("s").display().to_string(),
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--sim-state only goes with --sim"),
        "{}",
        r.stderr
    );
}

#[test]
fn scenario_with_existing_state_is_a_usage_error() {
    let d = tmp();
    let state = d.path().join("site");
    let state_s = state.display().to_string();
    let r = hascript(&["sim", "init", "--state", &state_s]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let p = write(d.path(), "t.rhai", "print(\"ran\");");
    let scenario = hascript::backend::scenarios()
        .first()
        .map(|s| s.name.clone())
        .unwrap_or_default();
    assert!(!scenario.is_empty());
    let r = hascript(&[
        "run",
        &p.display().to_string(),
        "--sim",
        &scenario,
        "--sim-state",
        &state_s,
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!r.stdout.contains("ran"));
    // Without the scenario the existing site is reused.
    let r = hascript(&[
        "run",
        &p.display().to_string(),
        "--sim",
        "--sim-state",
        &state_s,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("ran"));
}

#[test]
fn unknown_shipped_name_is_a_usage_error() {
    let r = hascript(&["run", "ldoms/live-migraton", "--sim"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("ldoms/live-migraton"), "{}", r.stderr);
    assert!(r.stderr.contains("hascript list"), "{}", r.stderr);
}

#[test]
fn bad_parameter_is_a_usage_error() {
    let r = sim_run("print(params.guest);", &["-p", "guest"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("key=value"), "{}", r.stderr);
    let r = sim_run(
        "print(params.guest); print(params.note);",
        &["-p", "guest=cfguest2", "-p", "note=a=b"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("cfguest2\na=b\n"), "{}", r.stdout);
}

/// Run `hascript run ARGS… --sim --sim-state <dir>/site`; returns the run and the state dir.
fn sim_state_run(d: &Path, args: &[&str]) -> (Run, PathBuf) {
    let state = d.join("site");
    let state_s = state.display().to_string();
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--sim", "--sim-state", &state_s]);
    (hascript(&all), state)
}

/// Nothing was sent to the simulated site in `state`: it was never created, or its command
/// log is empty.
fn nothing_sent(state: &Path) {
    if state.exists() {
        match hascript_sim::SimSite::open(state) {
            Ok(sim) => assert!(sim.command_log().is_empty(), "commands were sent"),
            Err(e) => panic!("cannot open {}: {e}", state.display()),
        }
    }
}

#[test]
fn a_parameter_given_twice_is_a_usage_error() {
    let d = tmp();
    let (r, state) = sim_state_run(
        d.path(),
        &[
            "ldoms/live-migration",
            "-p",
            "guest=guest2",
            "-p",
            "guest=guest1",
            "-p",
            "target=cd3",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("\"guest\"") && r.stderr.contains("more than once"),
        "{}",
        r.stderr
    );
    assert!(!state.exists(), "the site was built");
    nothing_sent(&state);
    // Also for scripts that declare no parameters.
    let r = sim_run("print(\"ran\");", &["-p", "x=1", "-p", "x=1"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!r.stdout.contains("ran"));
}

#[test]
fn a_parameter_the_script_does_not_declare_is_a_usage_error() {
    let d = tmp();
    // An existing site: its command log must stay empty.
    let state_s = d.path().join("site").display().to_string();
    let r = hascript(&["sim", "init", "--state", &state_s]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (r, state) = sim_state_run(
        d.path(),
        &[
            "ldoms/recover-migration",
            "-p",
            "guest=guest2",
            "-p",
            "target=cd3`id`",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("unknown parameter \"target\"")
            && r.stderr.contains("ldoms/recover-migration")
            && r.stderr.contains("it takes: guest"),
        "{}",
        r.stderr
    );
    nothing_sent(&state);
    // An entry with a note declares its first word: post-migration takes `target`.
    let r = hascript(&[
        "run",
        "ldoms/post-migration",
        "--sim",
        "-p",
        "guest=guest2",
        "-p",
        "tagret=cd3",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("\"tagret\"") && r.stderr.contains("guest, target"),
        "{}",
        r.stderr
    );
    // A script file with `//! params: (none)` takes none; one without the line takes any.
    let r = sim_run("//! params: (none)\nprint(\"ran\");", &["-p", "x=1"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("no parameters"), "{}", r.stderr);
    assert!(!r.stdout.contains("ran"));
    let r = sim_run("//! params: x\nprint(params.x);", &["-p", "x=1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = sim_run("print(params.y);", &["-p", "y=2"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("2\n"), "{}", r.stdout);
}

#[test]
fn parameter_names_follow_the_identifier_rule() {
    for bad in [
        "gu-est=guest2",
        "1guest=guest2",
        " guest=guest2",
        "=guest2",
        "gu est=x",
    ] {
        let d = tmp();
        let (r, state) = sim_state_run(d.path(), &["ldoms/verify-fence", "-p", bad]);
        assert_eq!(r.code, 2, "{bad}: {}", r.stderr);
        assert!(
            r.stderr.contains("[A-Za-z_][A-Za-z0-9_]*"),
            "{bad}: {}",
            r.stderr
        );
        assert!(!state.exists(), "{bad}: the site was built");
    }
}

#[test]
fn huge_values_are_not_echoed_whole() {
    let huge = "a".repeat(100_000);
    let d = tmp();
    for args in [
        vec!["ldoms/verify-fence".to_string(), "-p".into(), huge.clone()],
        vec![
            "ldoms/verify-fence".to_string(),
            "-p".into(),
            format!("{huge}=1"),
        ],
        vec![
            "ldoms/recover-migration".to_string(),
            "-p".into(),
            format!("{huge}=1"),
        ],
        vec![format!("ldoms/{huge}")],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (r, state) = sim_state_run(d.path(), &args);
        assert_eq!(
            r.code,
            2,
            "{}",
            r.stderr.chars().take(300).collect::<String>()
        );
        assert!(r.stderr.len() < 2000, "{} bytes echoed", r.stderr.len());
        assert!(
            r.stderr.contains(&format!("{}…", "a".repeat(58))),
            "{}",
            r.stderr
        );
        assert!(!state.exists());
    }
    let r = sim_run("print(1);", &[&format!("ldoms/{huge}")]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.len() < 2000, "{} bytes echoed", r.stderr.len());
}

#[test]
fn sim_transport_in_an_inventory_names_file_line_and_key() {
    let d = tmp();
    let inv = local_inventory(d.path());
    let text = std::fs::read_to_string(&inv).unwrap_or_default();
    let inv = write(
        d.path(),
        "inv.toml",
        &text.replacen("transport = \"local\"", "transport = \"sim\"", 1),
    );
    let p = write(d.path(), "t.rhai", "print(\"ran\");");
    let r = hascript(&[
        "run",
        &p.display().to_string(),
        "-i",
        &inv.display().to_string(),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let want = format!("{}:4: key `transport`", inv.display());
    assert!(r.stderr.contains(&want), "{}", r.stderr);
    assert!(r.stderr.contains("--sim"), "{}", r.stderr);
    assert!(!r.stdout.contains("ran"));
}

#[test]
fn inventory_values_are_validated_with_file_line_key_and_rule() {
    let d = tmp();
    let inv = local_inventory(d.path());
    let text = std::fs::read_to_string(&inv).unwrap_or_default();
    let p = write(d.path(), "t.rhai", "print(\"ran\");");
    let long = "b".repeat(300);
    for (from, to, line, key, shown, rule) in [
        (
            "box = \"box1\"",
            "box = \"box1\"\naddress = \"cd1;reboot\"",
            9,
            "address",
            "\"cd1;reboot\"".to_string(),
            "IPv4 or IPv6 address",
        ),
        (
            "xscf = [\"192.0.2.1\", \"192.0.2.2\"]",
            "xscf = [\"192.0.2.1\", \"$(reboot)\"]",
            10,
            "xscf",
            "\"$(reboot)\"".to_string(),
            "IPv4 or IPv6 address",
        ),
        (
            "box = \"box1\"",
            &format!("box = \"box1\"\nhosts_name = \"{long}\""),
            9,
            "hosts_name",
            format!("\"{}…\"", "b".repeat(64)),
            "at most 253 characters",
        ),
        (
            "transport = \"local\"",
            "transport = \"local\"\nuser = \"Admin\"",
            5,
            "user",
            "\"Admin\"".to_string(),
            "[a-z_][a-z0-9_.-]{0,31}",
        ),
        (
            "name = \"g1\"\nrole = \"guest-domain\"",
            "name = \"g1\"\nrole = \"guest-domain\"\ndomain = \"g1 x\"",
            14,
            "domain",
            "\"g1 x\"".to_string(),
            "1 to 64 characters",
        ),
    ] {
        assert!(text.contains(from), "{from}");
        let inv = write(d.path(), "inv.toml", &text.replacen(from, to, 1));
        let r = hascript(&[
            "run",
            &p.display().to_string(),
            "-i",
            &inv.display().to_string(),
        ]);
        assert_eq!(r.code, 2, "{key}: {}", r.stderr);
        let want = format!("{}:{line}: key `{key}`", inv.display());
        assert!(r.stderr.contains(&want), "{key}: {}", r.stderr);
        assert!(r.stderr.contains(&shown), "{key}: {}", r.stderr);
        assert!(r.stderr.contains(rule), "{key}: {}", r.stderr);
        assert!(!r.stdout.contains("ran"));
    }
}

#[test]
fn malformed_inventory_names_file_line_and_key() {
    let d = tmp();
    let inv = write(
        d.path(),
        "inv.toml",
        "driver = \"ldoms\"\n\n[[host]]\nname = \"cd1\"\nrol = \"control-domain\"\n",
    );
    let p = write(d.path(), "t.rhai", "print(1);");
    let r = hascript(&[
        "run",
        &p.display().to_string(),
        "-i",
        &inv.display().to_string(),
    ]);
    assert_eq!(r.code, 2);
    let want = format!("{}:5: key `rol`", inv.display());
    assert!(r.stderr.contains(&want), "{}", r.stderr);
}

#[test]
fn unknown_scenario_lists_the_scenarios() {
    let r = sim_run("print(1);", &["ldoms/no-such-scenario"]);
    assert_eq!(r.code, 2);
    for s in hascript::backend::scenarios() {
        assert!(
            r.stderr.contains(&s.name),
            "{} missing from {}",
            s.name,
            r.stderr
        );
    }
    let r = sim_run("print(site.driver);", &["hpvm"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("simulated Serviceguard site") && r.stdout.ends_with("hpvm\n"),
        "{}",
        r.stdout
    );
}

#[test]
fn run_prints_values_and_host_output_on_the_simulator() {
    let r = sim_run(
        "print(40 + 2);\nlet r = host(\"cd1\").run([\"hostname\"], #{changes: false});\nlet o = r.stdout; o.trim();\nprint(`out=${o} exit=${r.exit}`);\n",
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(
        lines[0].starts_with("hascript ") && lines[0].contains(" on "),
        "{}",
        r.stdout
    );
    assert!(lines.contains(&"42"), "{}", r.stdout);
    assert!(lines.contains(&"out=cd1 exit=0"), "{}", r.stdout);
}

#[test]
fn syntax_error_names_file_line_and_column() {
    let d = tmp();
    let p = write(d.path(), "bad.rhai", "let a = 1;\nlet b = (a + ;\n");
    let r = hascript(&["run", &p.display().to_string(), "--sim"]);
    assert_eq!(r.code, 2);
    let want = format!("{}:2:", p.display());
    assert!(r.stderr.contains(&want), "{}", r.stderr);
    assert!(r.stderr.contains("let b = (a + ;"), "{}", r.stderr);
}

#[test]
fn uncaught_errors_give_their_exit_codes() {
    for (script, code) in [
        ("fail(\"x\")", 1),
        ("fail(\"check\", \"x\")", 3),
        ("fail(\"needs_attention\", \"x\")", 4),
        ("fail(\"declined\", \"x\")", 5),
        ("fail(\"usage\", \"x\")", 2),
        ("throw #{message: \"no kind\"}", 1),
        ("host(\"cd1\").run([\"false\"], #{changes: false})", 3),
        ("host(\"cd1\").run([\"false\"])", 4),
        ("undefined_function()", 2),
    ] {
        let r = sim_run(script, &[]);
        assert_eq!(r.code, code, "{script}: {}", r.stderr);
        assert!(r.stderr.starts_with("error: "), "{script}: {}", r.stderr);
    }
}

#[test]
fn driver_error_map_can_be_caught() {
    let r = sim_run(
        "try { host(\"cd1\").run([\"false\"]) } catch (e) { print(`${e.kind} ${e.exit} ${e.host}`) }",
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("command 1 cd1"), "{}", r.stdout);
}

#[test]
fn uncaught_command_error_prints_its_details() {
    let r = sim_run("let x = 1;\nhost(\"cd1\").run([\"false\"]);\n", &[]);
    assert_eq!(r.code, 4);
    assert!(r.stderr.contains(":2:13"), "{}", r.stderr);
    assert!(r.stderr.contains("  host: cd1"), "{}", r.stderr);
    assert!(r.stderr.contains("  command: false"), "{}", r.stderr);
    assert!(r.stderr.contains("  exit: 1"), "{}", r.stderr);
}

#[test]
fn confirm_needs_a_terminal_or_yes() {
    let r = sim_run(
        "if confirm(\"Stop fencing?\") { print(\"went ahead\") }",
        &[],
    );
    assert_eq!(r.code, 5);
    assert!(r.stderr.contains("--yes"), "{}", r.stderr);
    assert!(!r.stdout.contains("went ahead"));
    let r = sim_run(
        "if confirm(\"Stop fencing?\") { print(\"went ahead\") }",
        &["--yes"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("went ahead"));
}

#[test]
fn long_waits_pass_instantly_on_the_simulator() {
    let t = Instant::now();
    let r = sim_run(
        "let t0 = now(); let n = 0;\nwait_until(|| { n += 1; n > 50 }, #{timeout: 600, interval: 10, what: \"n\"});\nsleep(600);\nprint(`elapsed=${now() - t0}`);\nwait_until(|| false, #{timeout: 600, what: \"never\"});\n",
        &[],
    );
    assert!(t.elapsed() < Duration::from_secs(10));
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stdout.contains("elapsed=1100"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("waiting for n: 00:00 elapsed, deadline 10:00\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("n: reached after 08:20\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("never: not reached after 10:00\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.contains("timed out after 600 s waiting for never"),
        "{}",
        r.stderr
    );
}

#[test]
fn eval_is_refused() {
    let r = sim_run("eval(\"print(1)\")", &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("eval"), "{}", r.stderr);
}

#[test]
fn imports_resolve_beside_the_script_and_refuse_escapes() {
    let d = tmp();
    write(
        d.path(),
        "lib/helpers.rhai",
        "fn double(x) { x * 2 }\nfn driver() { site.driver }\n",
    );
    let p = write(
        d.path(),
        "lib/main.rhai",
        "import \"helpers\" as h;\nprint(h::double(21));\nprint(h::driver());\n",
    );
    let r = hascript(&["run", &p.display().to_string(), "--sim"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("42\nldoms\n"), "{}", r.stdout);

    write(d.path(), "secret.rhai", "fn x() { 1 }");
    for import in ["../secret", "/etc/passwd", "a/../../secret"] {
        let p = write(
            d.path(),
            "lib/esc.rhai",
            &format!("import \"{import}\" as s;\nprint(\"ran\");\n"),
        );
        let r = hascript(&["run", &p.display().to_string(), "--sim"]);
        assert_eq!(r.code, 2, "{import}: {}", r.stderr);
        assert!(r.stderr.contains("refused"), "{import}: {}", r.stderr);
        assert!(!r.stdout.contains("ran"));
    }

    // HASCRIPT_PATH is searched after the script's folder.
    let other = tmp();
    write(other.path(), "extra.rhai", "fn hello() { \"from path\" }");
    let p = write(
        d.path(),
        "lib/uses.rhai",
        "import \"extra\" as e;\nprint(e::hello());\n",
    );
    let path = other.path().display().to_string();
    let r = hascript_in(
        None,
        &["run", &p.display().to_string(), "--sim"],
        None,
        &[("HASCRIPT_PATH", &path)],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("from path"), "{}", r.stdout);
}

#[test]
fn hascript_path_scripts_run_by_name() {
    let other = tmp();
    write(
        other.path(),
        "site/hello.rhai",
        "print(`hello ${params.who}`);",
    );
    let path = other.path().display().to_string();
    let r = hascript_in(
        None,
        &["run", "site/hello", "--sim", "-p", "who=ops"],
        None,
        &[("HASCRIPT_PATH", &path)],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("hello ops"), "{}", r.stdout);
    let r = hascript_in(
        None,
        &["show", "site/hello"],
        None,
        &[("HASCRIPT_PATH", &path)],
    );
    assert_eq!(r.code, 0);
    assert_eq!(r.stdout, "print(`hello ${params.who}`);");
}

#[test]
fn list_shows_procedures_and_scenarios() {
    let r = hascript(&["list"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for (name, _) in hascript::scripts::shipped()
        .iter()
        .filter(|(n, _)| !n.starts_with("lib/"))
    {
        assert!(r.stdout.contains(name), "{name}: {}", r.stdout);
    }
    for s in hascript::backend::scenarios() {
        let line = r
            .stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&s.name));
        assert!(
            line.is_some_and(|l| l.contains(&s.summary)),
            "{}: {}",
            s.name,
            r.stdout
        );
    }
}

#[test]
fn show_prints_shipped_sources_and_refuses_unknown_names() {
    for (name, text) in hascript::scripts::shipped() {
        let r = hascript(&["show", name]);
        assert_eq!(r.code, 0);
        // The source itself, then (issue 12) the modules it imports, each under its header.
        let rest = r.stdout.strip_prefix(*text).unwrap_or_else(|| {
            panic!("{name}: show does not start with the source:\n{}", r.stdout)
        });
        if text
            .lines()
            .any(|l| l.trim_start().starts_with("import \""))
        {
            assert!(rest.starts_with("\n// ---- module "), "{name}: {rest}");
        } else {
            assert_eq!(rest, "", "{name}");
        }
    }
    let r = hascript(&["show", "ldoms/nothing-like-this"]);
    assert_eq!(r.code, 2);
}

#[test]
fn check_reports_problems_with_positions() {
    let d = tmp();
    let good = write(
        d.path(),
        "good.rhai",
        "fn f(x) { x + 1 }\nprint(f(cluster.timeout()));\nhost(\"cd1\").run([\"true\"]);\n",
    );
    let bad = write(d.path(), "bad.rhai", "let a = 1;\nno_such_helper(a);\n");
    let undefined = write(d.path(), "undef.rhai", "print(nothing_here);\n");
    let syntax = write(d.path(), "syntax.rhai", "let = 3;\n");
    let r = hascript(&["check", &good.display().to_string()]);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{}", r.stderr);
    let r = hascript(&[
        "check",
        &good.display().to_string(),
        &bad.display().to_string(),
        &undefined.display().to_string(),
        &syntax.display().to_string(),
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stdout.contains(&format!(
            "{}:2:1: unknown function no_such_helper()",
            bad.display()
        )),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains(&format!("{}:1:7: Undefined variable", undefined.display())),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(&format!("{}:1:", syntax.display())),
        "{}",
        r.stdout
    );
    // Shipped scripts pass their own check.
    let names: Vec<&str> = hascript::scripts::shipped()
        .iter()
        .map(|(n, _)| *n)
        .collect();
    if !names.is_empty() {
        let mut args = vec!["check"];
        args.extend(names);
        let r = hascript(&args);
        assert_eq!(r.code, 0, "{}", r.stdout);
    }
}

const CFTOOL: &str =
    "Node Number State Os Cpu\ncfguest1 1 UP Solaris Sparc\ncfguest2 2 UP Solaris Sparc\n";

#[test]
fn parse_reads_stdin_or_a_file() {
    let r = hascript_in(None, &["parse", "cftool-n"], Some(CFTOOL), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_default();
    assert_eq!(v[1]["node"], "cfguest2");
    assert_eq!(v[0]["state"], "UP");
    let d = tmp();
    let f = write(d.path(), "cftool.txt", CFTOOL);
    let r = hascript(&["parse", "cftool-n", &f.display().to_string()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("\"cfguest1\""));
}

#[test]
fn parse_refuses_other_formats_and_kinds() {
    // Not the command's format: bad input (exit 2, nothing changed), never 1 ("recovery ran").
    let r = hascript_in(None, &["parse", "cftool-n"], Some("hello\nworld\n"), &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("line 1"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
    let huge = "a".repeat(100_000);
    let r = hascript_in(None, &["parse", "cftool-n"], Some(&huge), &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.len() < 1000, "{} bytes echoed", r.stderr.len());
    let r = hascript_in(None, &["parse", "no-such-kind"], Some(""), &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("cftool-n"), "{}", r.stderr);
}

/// `ldm list-devices -a -p cpu` as printed in the Logical Domains 1.3 Administration Guide
/// ("List Power-Managed CPUs"): parseable output of another `ldm` command, with a VERSION line
/// and no DOMAIN record.
const LDM_LIST_DEVICES_P: &str =
    "VERSION 1.4\nVCPU\n|pid=0|free=0|pm=no\n|pid=1|free=0|pm=yes\n|pid=8|free=100|pm=\n";

#[test]
fn parse_ldm_list_p_refuses_output_without_a_domain_record() {
    let r = hascript_in(
        None,
        &["parse", "ldm-list-p"],
        Some(LDM_LIST_DEVICES_P),
        &[],
    );
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    // What, where, and what was expected.
    assert!(r.stderr.contains("ldm list -p"), "{}", r.stderr);
    assert!(r.stderr.contains("line 2"), "{}", r.stderr);
    assert!(r.stderr.contains("no DOMAIN record"), "{}", r.stderr);
    assert!(r.stderr.contains("DOMAIN|name=primary"), "{}", r.stderr);
    let r = hascript_in(None, &["parse", "ldm-list-p"], Some("VERSION 1.6\n"), &[]);
    assert_eq!(r.code, 2, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("found nothing after the VERSION line"),
        "{}",
        r.stderr
    );
}

#[test]
fn sim_init_and_exec_pass_output_and_status_through() {
    let d = tmp();
    let state = d.path().join("site");
    let s = state.display().to_string();
    let r = hascript(&[
        "sim", "exec", "--state", &s, "--host", "cd1", "--", "hostname",
    ]);
    assert_eq!(r.code, 2, "no site yet: {}", r.stderr);
    let r = hascript(&["sim", "init", "--state", &s]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = hascript(&["sim", "init", "--state", &s]);
    assert_eq!(r.code, 2, "a second init must refuse: {}", r.stderr);
    let r = hascript(&[
        "sim", "exec", "--state", &s, "--host", "cd1", "--", "hostname",
    ]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "cd1\n"), "{}", r.stderr);
    let r = hascript(&["sim", "exec", "--state", &s, "--host", "cd1", "--", "false"]);
    assert_eq!((r.code, r.stdout.as_str()), (1, ""));
    let r = hascript(&[
        "sim",
        "exec",
        "--state",
        &s,
        "--host",
        "cd1",
        "--",
        "no-such-command",
        "x",
    ]);
    assert_eq!(r.code, 127);
    assert!(r.stderr.contains("not found"), "{}", r.stderr);
    let r = hascript_in(
        None,
        &["sim", "exec", "--state", &s, "--host", "cd2"],
        None,
        &[("SSH_ORIGINAL_COMMAND", "echo hi there")],
    );
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "hi there\n"),
        "{}",
        r.stderr
    );
    let r = hascript(&["sim", "exec", "--state", &s, "--host", "cd2"]);
    assert_eq!(r.code, 2);
}

#[test]
fn local_transport_really_runs_commands() {
    let d = tmp();
    let inv = local_inventory(d.path());
    let marker = d.path().join("marker");
    let script = write(
        d.path(),
        "t.rhai",
        &format!(
            "let r = host(\"cd1\").run([\"echo\", \"hi\"]);\nprint(`[${{r.stdout}}]`);\nlet q = host(\"g1\").run([\"printf\", \"%s\", \"a b;$(touch {m})`x`'\"], #{{changes: false}});\nprint(`<${{q.stdout}}>`);\nlet s = host(\"g2\").sh(\"read x; echo got $x; exit 7\", #{{stdin: \"secret\\n\", check: false}});\nlet o = s.stdout; o.trim();\nprint(`${{o}} ${{s.exit}}`);\n",
            m = marker.display()
        ),
    );
    let r = hascript(&[
        "run",
        &script.display().to_string(),
        "-i",
        &inv.display().to_string(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("on this machine"), "{}", r.stdout);
    assert!(r.stdout.contains("[hi\n]"), "{}", r.stdout);
    let want = format!("<a b;$(touch {})`x`'>", marker.display());
    assert!(r.stdout.contains(&want), "{}", r.stdout);
    assert!(!marker.exists(), "a metacharacter reached the shell");
    assert!(r.stdout.contains("got secret 7"), "{}", r.stdout);
}

#[test]
fn local_lock_folders_keep_runs_apart_and_ssh_hosts_keep_var_tmp() {
    let d = tmp();
    let (a, b) = (d.path().join("a"), d.path().join("b"));
    // Another run's lock in folder a (a run on this machine that is still going).
    if let Err(e) = std::fs::create_dir_all(a.join("hascript.lock")).and_then(|()| {
        std::fs::create_dir_all(&b)?;
        std::fs::write(
            a.join("hascript.lock/owner"),
            "run=20260728T172600.000Z-0a0b0c\nuser=alice\norigin=adm9\nsince=x\npid=4242\n",
        )
    }) {
        panic!("{e}");
    }
    let script = write(
        d.path(),
        "t.rhai",
        "host(\"cd1\").run([\"true\"]);\nprint(\"changed\");\n",
    );
    let script = script.display().to_string();
    let base = std::fs::read_to_string(local_inventory(d.path())).unwrap_or_default();
    let with_dir = |name: &str, dir: &Path| {
        write(
            d.path(),
            name,
            &base.replacen(
                "transport = \"local\"",
                &format!("transport = \"local\"\nlock_dir = \"{}\"", dir.display()),
                1,
            ),
        )
        .display()
        .to_string()
    };
    let (inv_a, inv_b) = (with_dir("a.toml", &a), with_dir("b.toml", &b));
    let held = "locked by run 20260728T172600.000Z-0a0b0c by alice on adm9";
    // The inventory's lock_dir: a run locking in a sees the other run's lock (exit 3,
    // nothing sent); one locking in b does not, and takes and releases its own there.
    let r = hascript(&["run", &script, "-i", &inv_a]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains(held), "{}", r.stderr);
    assert!(!r.stdout.contains("changed"), "{}", r.stdout);
    let r = hascript(&["run", &script, "-i", &inv_b]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("changed"), "{}", r.stdout);
    assert!(!b.join("hascript.lock").exists(), "released");
    assert!(
        a.join("hascript.lock/owner").exists(),
        "the other lock is untouched"
    );
    // HASCRIPT_LOCK_DIR does the same for an inventory without lock_dir.
    let plain = local_inventory(d.path()).display().to_string();
    let a_s = a.display().to_string();
    let b_s = b.display().to_string();
    let r = hascript_in(
        None,
        &["run", &script, "-i", &plain],
        None,
        &[("HASCRIPT_LOCK_DIR", &a_s)],
    );
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains(held), "{}", r.stderr);
    let r = hascript_in(
        None,
        &["run", &script, "-i", &plain],
        None,
        &[("HASCRIPT_LOCK_DIR", &b_s)],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Over SSH the lock stays in /var/tmp, where operators on other machines look:
    // lock_dir on an SSH host is refused at its line, and HASCRIPT_LOCK_DIR does not move
    // an SSH host's lock (the local hosts' only).
    let ssh = write(
        d.path(),
        "ssh.toml",
        &base.replacen(
            "name = \"g2\"\nrole = \"guest-domain\"",
            &format!(
                "name = \"g2\"\nrole = \"guest-domain\"\ntransport = \"ssh\"\naddress = \"192.0.2.9\"\nlock_dir = \"{}\"",
                b.display()
            ),
            1,
        ),
    );
    let r = hascript(&["run", &script, "-i", &ssh.display().to_string()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("key `lock_dir`")
            && r.stderr.contains("only applies to transport = \"local\""),
        "{}",
        r.stderr
    );
    let text = std::fs::read_to_string(&ssh).unwrap_or_default();
    let text = text.replace(&format!("\nlock_dir = \"{}\"", b.display()), "");
    let inv = match hascript::inventory::parse_real("ssh.toml", &text) {
        Ok(i) => i,
        Err(e) => panic!("{e}"),
    };
    let dirs = match hascript::lock::lock_dirs(&inv, Some(&a_s)) {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(dirs.get("cd1"), Some(&a.join("hascript.lock")));
    assert_eq!(
        dirs.get("g2"),
        None,
        "an SSH host keeps /var/tmp/hascript.lock"
    );
}

#[test]
fn local_timeout_is_an_error_naming_host_and_command() {
    let d = tmp();
    let inv = local_inventory(d.path());
    let script = write(
        d.path(),
        "t.rhai",
        "host(\"cd1\").run([\"sleep\", \"5\"], #{timeout: 0.2, changes: false});\n",
    );
    let t = Instant::now();
    let r = hascript(&[
        "run",
        &script.display().to_string(),
        "-i",
        &inv.display().to_string(),
    ]);
    assert!(t.elapsed() < Duration::from_secs(4));
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("sleep 5") && r.stderr.contains("cd1"),
        "{}",
        r.stderr
    );
}

#[test]
fn ctrl_c_interrupts_a_wait_with_130() {
    let d = tmp();
    let inv = local_inventory(d.path());
    let script = write(
        d.path(),
        "t.rhai",
        "print(\"started\");\ntry { sleep(30); } catch { print(\"swallowed\"); }\n",
    );
    let child = Command::new(env!("CARGO_BIN_EXE_hascript"))
        .args([
            "run",
            &script.display().to_string(),
            "-i",
            &inv.display().to_string(),
        ])
        .env("HASCRIPT_LOCK_DIR", d.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let child = match child {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    std::thread::sleep(Duration::from_millis(500));
    // SAFETY: signalling our own child process.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let t = Instant::now();
    let out = match child.wait_with_output() {
        Ok(o) => o,
        Err(e) => panic!("{e}"),
    };
    assert!(t.elapsed() < Duration::from_secs(5));
    assert_eq!(out.status.code(), Some(130));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("started") && !stdout.contains("swallowed"),
        "{stdout}"
    );
}

#[test]
fn sim_alone_follows_the_script_driver_folder() {
    let d = tmp();
    let p = write(d.path(), "hpvm/move.rhai", "print(site.driver);");
    let r = hascript(&["run", &p.display().to_string(), "--sim"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("simulated Serviceguard site") && r.stdout.ends_with("hpvm\n"),
        "{}",
        r.stdout
    );
    let p = write(d.path(), "ldoms/look.rhai", "print(site.driver);");
    let r = hascript(&["run", &p.display().to_string(), "--sim"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("simulated") && r.stdout.contains("ldoms\n"),
        "{}",
        r.stdout
    );
}

#[test]
fn metacharacter_names_are_refused_before_sending_with_a_local_inventory() {
    let d = tmp();
    let inv = local_inventory(d.path());
    let inv = inv.display().to_string();
    let marker = d.path().join("marker");
    let bad = format!("guest=g2;touch {}", marker.display());
    let r = hascript(&[
        "run",
        "ldoms/live-migration",
        "-i",
        &inv,
        "-p",
        &bad,
        "-p",
        "target=cd1",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("invalid guest name"), "{}", r.stderr);
    assert!(!marker.exists());
    // The same procedure with a valid name does reach this machine's shell (where `ldm`
    // does not exist): the refusal above happened before anything was sent.
    let r = hascript(&[
        "run",
        "ldoms/live-migration",
        "-i",
        &inv,
        "-p",
        "guest=g2",
        "-p",
        "target=cd1",
    ]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("/usr/sbin/ldm") || r.stderr.contains("ldm"),
        "{}",
        r.stderr
    );
}

#[test]
fn the_package_object_is_usable_although_package_is_a_rhai_keyword() {
    let r = sim_run(
        "let apps = package.list();\nprint(apps[0].resource);\nfn state_of(n) { package.status(n).state }\nprint(state_of(\"app1\"));\nlet p = package;\nprint(p.status(\"app1\").resource);\n",
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("app1\nOnline\napp1"), "{}", r.stdout);
}

#[test]
fn a_rhai_error_caught_and_thrown_again_is_still_a_script_error() {
    let r = sim_run("try { no_such_function(1); } catch (e) { throw e; }\n", &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("no_such_function"), "{}", r.stderr);
}

#[test]
fn a_closed_stdout_pipe_does_not_stop_a_procedure() {
    use std::process::Stdio;
    let d = tmp();
    let state = d.path().join("site");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hascript"))
        .args(["run", "ldoms/live-migration", "--sim", "--sim-state"])
        .arg(&state)
        .args(["-p", "guest=guest2", "-p", "target=cd3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take()); // the reader goes away at once, like `| head -0`
    let out = child.wait_with_output().expect("wait");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = hascript(&[
        "sim",
        "exec",
        "--state",
        &state.display().to_string(),
        "--host",
        "guest1",
        "--",
        "cfset",
        "-a",
    ]);
    assert!(
        r.stdout.contains("CLUSTER_TIMEOUT VALUE: 10"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_rethrown_error_is_located_where_it_arose() {
    // A driver error (unknown guest) and one of Rhai's own, each caught and thrown again.
    for (script, line) in [
        ("let g = 1;\ntry {\n    hypervisor.guest(\"guest9\");\n} catch (e) {\n    throw e;\n}\n", 3),
        ("let g = 1;\ntry {\n    no_such_function(g);\n} catch (e) {\n    throw e;\n}\n", 3),
    ] {
        let r = sim_run(script, &[]);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(r.stderr.contains(&format!("t.rhai:{line}:")), "{}", r.stderr);
        assert!(!r.stderr.contains("t.rhai:5:"), "located at the rethrow\n{}", r.stderr);
    }
}

#[test]
fn check_looks_for_imported_modules_without_running_them() {
    let d = tmp();
    write(
        d.path(),
        "helpers.rhai",
        "print(\"side effect\");\nfn double(x) { x * 2 }\n",
    );
    let good = write(
        d.path(),
        "good.rhai",
        "import \"helpers\" as h;\nprint(h::double(2));\n",
    );
    let bad = write(
        d.path(),
        "bad.rhai",
        "let a = 1;\nimport \"nonexist\" as n;\n",
    );
    let r = hascript(&["check", &good.display().to_string()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        !r.stdout.contains("side effect"),
        "the module ran: {}",
        r.stdout
    );
    let r = hascript(&["check", &bad.display().to_string()]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("bad.rhai:2:"), "{}", r.stdout);
    assert!(
        r.stdout.contains("module not found: nonexist"),
        "{}",
        r.stdout
    );
}

#[test]
fn check_finds_the_problems_of_the_modules_a_script_imports() {
    // A library module's typo used to be found only by running the procedure that imports
    // it: `check` of the procedure now checks each module it imports too (once), naming the
    // module's file and line.
    let d = tmp();
    write(
        d.path(),
        "helpers.rhai",
        "fn double(x) { x * 2 }\nfn triple(x) { tripel_it(x) }\n",
    );
    write(d.path(), "broken.rhai", "fn f() { let = 1; }\n");
    let one = write(
        d.path(),
        "one.rhai",
        "import \"helpers\" as h;\nprint(h::double(2));\n",
    );
    let two = write(
        d.path(),
        "two.rhai",
        "import \"helpers\" as h;\nimport \"broken\" as b;\nprint(h::double(3));\n",
    );
    let r = hascript(&["check", &one.display().to_string()]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("helpers.rhai:2:") && r.stdout.contains("tripel_it"),
        "{}",
        r.stdout
    );
    // Two scripts importing the same module: its problem is reported once.
    let r = hascript(&[
        "check",
        &one.display().to_string(),
        &two.display().to_string(),
    ]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.stdout.matches("tripel_it").count(), 1, "{}", r.stdout);
    assert!(r.stdout.contains("broken.rhai:1:"), "{}", r.stdout);
}

#[test]
fn list_includes_scripts_from_hascript_path_with_their_file() {
    let d = tmp();
    std::fs::create_dir_all(d.path().join("site")).expect("mkdir");
    let f = write(
        &d.path().join("site"),
        "evacuate.rhai",
        "//! title: Evacuate a control domain\n//! section: site\nprint(1);\n",
    );
    let dir = d.path().display().to_string();
    let r = hascript_in(None, &["list"], None, &[("HASCRIPT_PATH", dir.as_str())]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let line = r
        .stdout
        .lines()
        .find(|l| l.contains("site/evacuate"))
        .unwrap_or("");
    assert!(line.contains("Evacuate a control domain"), "{}", r.stdout);
    assert!(line.contains(&f.display().to_string()), "{}", r.stdout);
    assert!(r.stdout.contains("ldoms/live-migration"), "{}", r.stdout);
}

#[test]
fn run_all_fans_out_in_host_order_and_reports_failures_in_their_slot() {
    let script = r#"
let r = run_all(["guest2", "cd1", "guest1"], ["/opt/SMAW/bin/sdtool", "-s"], #{changes: false, limit: 2});
for x in r { print(`${x.host} ${x.ok} ${x.exit} ${x.stdout.contains("TestWorked")}`); }
"#;
    let r = sim_run(script, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().skip(1).collect();
    assert_eq!(
        lines,
        [
            "guest2 true 0 true",
            "cd1 false 127 false",
            "guest1 true 0 true"
        ],
        "{}",
        r.stdout
    );
    // stop_on_error: what was not started says so.
    let script = r#"
let r = run_all(["cd1", "guest1", "guest2"], ["/opt/SMAW/bin/sdtool", "-s"], #{changes: false, limit: 1, stop_on_error: true});
for x in r { print(`${x.host} ${x.ok}`); }
"#;
    let r = sim_run(script, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // A non-zero exit is a result, not an error: the fan-out goes on.
    assert!(r.stdout.contains("guest2 true"), "{}", r.stdout);
    let r = sim_run(r#"run_all(["nosuch"], ["true"]);"#, &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("unknown host"), "{}", r.stderr);
    let r = sim_run(r#"run_all(["cd1"], ["true"], #{limit: 0});"#, &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

/// The JSON lines of `text` whose `event` is `command_end`.
fn command_ends(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["event"] == "command_end")
        .collect()
}

fn b64(v: &serde_json::Value) -> Vec<u8> {
    use base64::Engine as _;
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("not a base64 string: {v}"));
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .unwrap_or_else(|e| panic!("not base64 ({e}): {s}"))
}

/// Issue 11, item 8: output comes back as the host wrote it. A local command writes all 256
/// byte values: the script gets them exactly (`stdout_bytes`), and so do the JSON output
/// and the journal (`stdout_b64`); `stdout` stays text.
#[test]
fn local_output_keeps_every_byte_for_the_script_the_json_and_the_journal() {
    let d = tmp();
    let state = d.path().join("state");
    let inv = local_inventory(d.path());
    let all: Vec<u8> = (0..=255u8).collect();
    let bin = d.path().join("all.bin");
    if let Err(e) = std::fs::write(&bin, &all) {
        panic!("{e}");
    }
    let script = write(
        d.path(),
        "t.rhai",
        &format!(
            r#"let r = host("cd1").run(["cat", "{}"], #{{changes: false}});
let b = r.stdout_bytes;
let same = type_of(b) == "blob" && b.len() == 256;
if same {{ for i in 0..256 {{ if b[i] != i {{ same = false; }} }} }}
print(`exact: ${{same}}, text: ${{type_of(r.stdout)}} ${{r.stdout.len()}}, stderr bytes: ${{r.stderr_bytes}}`);
"#,
            bin.display()
        ),
    );
    let env = [("XDG_STATE_HOME", state.to_str().unwrap_or_default())];
    let args = [
        "run",
        &script.display().to_string(),
        "-i",
        &inv.display().to_string(),
    ];
    let r = hascript_in(None, &args, None, &env);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    // `stdout` as text: 128 ASCII characters and 128 replacement characters; standard
    // error, empty and so valid UTF-8, has no bytes value (`()`, shown as nothing).
    assert!(
        r.stdout
            .contains("exact: true, text: string 256, stderr bytes: \n"),
        "{}",
        r.stdout
    );
    let mut json_args = args.to_vec();
    json_args.extend(["--output", "json"]);
    let j = hascript_in(None, &json_args, None, &env);
    assert_eq!(j.code, 0, "{}", j.stderr);
    let ends = command_ends(&j.stdout);
    assert_eq!(ends.len(), 1, "{}", j.stdout);
    assert_eq!(b64(&ends[0]["stdout_b64"]), all, "{}", ends[0]);
    assert!(ends[0].get("stderr_b64").is_none(), "{}", ends[0]);
    let text = ends[0]["stdout"].as_str().unwrap_or_default();
    assert_eq!(
        text.chars().filter(|c| *c == '\u{fffd}').count(),
        128,
        "{text:?}"
    );
    // Both runs' journals hold the exact bytes too.
    let runs = state.join("hascript/runs");
    let mut journaled = 0;
    for e in std::fs::read_dir(&runs)
        .unwrap_or_else(|e| panic!("{e}"))
        .flatten()
    {
        let t = std::fs::read_to_string(e.path()).unwrap_or_default();
        for end in command_ends(&t) {
            assert_eq!(b64(&end["stdout_b64"]), all, "{end}");
            journaled += 1;
        }
    }
    assert_eq!(journaled, 2);
}

/// Issue 11, item 8: escape sequences and control characters from hosts (and scripts)
/// never reach the operator's terminal raw: printed host output, an error's stderr, and the
/// journal's timeline show them escaped.
#[test]
fn control_characters_from_hosts_are_shown_escaped() {
    let d = tmp();
    let state = d.path().join("state");
    let inv = local_inventory(d.path());
    let script = write(
        d.path(),
        "t.rhai",
        r#"let r = host("cd1").sh("printf 'a\\033]2;PWNED\\007b\\rc\\033[2Jd\\302\\233e'", #{changes: false});
print(r.stdout);
print("script \x1b[31mred\x07");
host("cd1").sh("printf 'bad\\033[1A\\rX\\n' >&2; exit 3", #{changes: false});
"#,
    );
    let env = [("XDG_STATE_HOME", state.to_str().unwrap_or_default())];
    let r = hascript_in(
        None,
        &[
            "run",
            &script.display().to_string(),
            "-i",
            &inv.display().to_string(),
        ],
        None,
        &env,
    );
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    let raw = |s: &str| {
        s.chars()
            .any(|c| matches!(c, '\x1b' | '\x07' | '\r' | '\u{9b}'))
    };
    assert!(
        !raw(&r.stdout),
        "raw control characters on stdout: {:?}",
        r.stdout
    );
    assert!(
        !raw(&r.stderr),
        "raw control characters on stderr: {:?}",
        r.stderr
    );
    assert!(
        r.stdout.contains(r"a\x1b]2;PWNED\x07b\rc\x1b[2Jd\u{9b}e"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains(r"script \x1b[31mred\x07"), "{}", r.stdout);
    assert!(r.stderr.contains(r"bad\x1b[1A\rX"), "{}", r.stderr);
    // The journal's timeline too.
    let runs = state.join("hascript/runs");
    let id = std::fs::read_dir(&runs)
        .unwrap_or_else(|e| panic!("{e}"))
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".jsonl")
                .map(str::to_string)
        })
        .next()
        .unwrap_or_default();
    let show = hascript_in(None, &["journal", "show", &id], None, &env);
    assert_eq!(show.code, 0, "{}", show.stderr);
    assert!(!raw(&show.stdout), "{:?}", show.stdout);
    assert!(show.stdout.contains(r"PWNED\x07"), "{}", show.stdout);
}

/// Issue 11, item 8: a command killed by a signal says so to the script (`signal: "KILL"`,
/// no exit code) and in the error, never as `exit -1`.
#[test]
fn a_command_killed_by_a_signal_names_the_signal() {
    let d = tmp();
    let inv = local_inventory(d.path());
    let script = write(
        d.path(),
        "t.rhai",
        r#"let r = host("cd1").sh("kill -KILL $$", #{check: false, changes: false});
print(`signal=${r.signal} exit=${r.exit} ok=${r.exit == ()}`);
let all = run_all(["cd1"], ["sh", "-c", "kill -TERM $PPID"], #{changes: false});
print(`all: signal=${all[0].signal} ok=${all[0].ok}`);
try {
    host("cd1").sh("kill -KILL $$", #{changes: false});
} catch (e) {
    print(`caught: ${e.signal} ${e.exit} ${e.message}`);
}
host("cd1").sh("kill -KILL $$", #{changes: false});
"#,
    );
    let r = hascript(&[
        "run",
        &script.display().to_string(),
        "-i",
        &inv.display().to_string(),
    ]);
    assert!(
        r.stdout.contains("signal=KILL exit= ok=true"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("all: signal=TERM ok=false"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("caught: KILL  `kill -KILL $$` on cd1 was killed by signal KILL"),
        "{}",
        r.stdout
    );
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("signal: KILL"), "{}", r.stderr);
    assert!(!r.stderr.contains("-1"), "{}", r.stderr);
}

/// Large output that is not UTF-8 (1.2 MB) comes back whole, as text and as its exact
/// bytes, instead of failing the call: the engine bounds script memory as a whole (see
/// `engine/limits.rs`), not each blob's length.
#[test]
fn large_output_that_is_not_utf8_does_not_fail_the_call() {
    let d = tmp();
    let inv = local_inventory(d.path());
    let script = write(
        d.path(),
        "t.rhai",
        r#"let r = host("cd1").sh("head -c 1200000 /dev/zero | tr '\\0' '\\377'", #{changes: false});
print(`text ${r.stdout.len()}, bytes ${r.stdout_bytes.len()}, last ${r.stdout_bytes[-1]}`);
"#,
    );
    let r = hascript(&[
        "run",
        &script.display().to_string(),
        "-i",
        &inv.display().to_string(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("text 1200000, bytes 1200000, last 255"),
        "{}",
        r.stdout
    );
}

/// `hascript args` that must finish within `secs`: a run that hangs is killed and fails the
/// test (instead of hanging the suite).
fn hascript_within(secs: u64, args: &[&str]) -> Run {
    let mut cmd = cli_support::command(args, cli_support::build_tmp());
    cli_support::output_within(&mut cmd, secs, args)
}

fn mkfifo(p: &Path) {
    let st = Command::new("mkfifo")
        .arg(p)
        .status()
        .unwrap_or_else(|e| panic!("mkfifo: {e}"));
    assert!(st.success(), "mkfifo {}", p.display());
}

#[test]
fn an_inventory_or_parse_input_that_is_not_a_regular_file_is_refused_at_once() {
    let d = tmp();
    let script = write(d.path(), "t.rhai", "print(1);");
    let fifo = d.path().join("inventory.fifo");
    mkfifo(&fifo);
    let s = script.to_str().unwrap_or_default();
    let f = fifo.to_str().unwrap_or_default();
    // A FIFO with no writer used to block in open(2); /dev/zero to be read until memory ran out.
    for (inv, kind) in [(f, "FIFO"), ("/dev/zero", "character device")] {
        let r = hascript_within(20, &["run", s, "-i", inv]);
        assert_eq!(r.code, 2, "{inv}: {}", r.stderr);
        assert!(
            r.stderr.contains(kind)
                && r.stderr.contains("not a regular file")
                && r.stderr.contains(inv),
            "{inv}: {}",
            r.stderr
        );
    }
    let r = hascript_within(20, &["parse", "cftool-n", f]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("FIFO"), "{}", r.stderr);
    // Size cap: a file over 16 MiB is not read.
    let big = d.path().join("big.toml");
    let file = std::fs::File::create(&big).unwrap_or_else(|e| panic!("{e}"));
    file.set_len(17 * 1024 * 1024)
        .unwrap_or_else(|e| panic!("{e}"));
    let r = hascript_within(20, &["run", s, "-i", big.to_str().unwrap_or_default()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("larger than 16 MiB"), "{}", r.stderr);
}

#[test]
fn a_secret_file_that_is_a_fifo_is_refused_at_once() {
    let d = tmp();
    let script = write(d.path(), "t.rhai", "print(1);");
    let fifo = d.path().join("pw.fifo");
    mkfifo(&fifo);
    // Private and ours, like a real secret file: only its type is wrong.
    let st = Command::new("chmod")
        .arg("600")
        .arg(&fifo)
        .status()
        .unwrap_or_else(|e| panic!("chmod: {e}"));
    assert!(st.success());
    let inv = sim_support::local_inventory_with_g2(
        d.path(),
        "inv.toml",
        &format!(
            "transport = \"ssh\"\naddress = \"192.0.2.10\"\nuser = \"root\"\npassword = \"file:{}\"\n",
            fifo.display()
        ),
    );
    let r = hascript_within(
        20,
        &[
            "run",
            script.to_str().unwrap_or_default(),
            "-i",
            inv.to_str().unwrap_or_default(),
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("password")
            && r.stderr.contains("FIFO")
            && r.stderr.contains("not a regular file"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_deeply_nested_value_is_a_script_error_not_an_abort() {
    // Each used to overflow the stack (exit 134) while cloning, dropping or measuring it.
    for (script, line) in [
        ("let a = [];\nfor i in 0..20000 {\n    a = [a];\n}\n", 3),
        (
            "let a = [];\nfor i in 0..20000 {\n    a = [take(a)];\n}\nprint(a);\n",
            3,
        ),
        (
            "let m = #{};\nfor i in 0..20000 {\n    m = #{x: m};\n}\n",
            3,
        ),
        (
            "let a = [[]];\nfor i in 0..20000 {\n    a[0] = [a[0]];\n}\n",
            3,
        ),
    ] {
        let r = sim_run(script, &[]);
        assert_eq!(r.code, 2, "{script}: {}", r.stderr);
        assert!(
            r.stderr
                .contains("nests arrays and maps more than 128 levels deep"),
            "{script}: {}",
            r.stderr
        );
        assert!(
            r.stderr.contains(&format!("t.rhai:{line}:")),
            "{script}: {}",
            r.stderr
        );
    }
    // After a change: exit 4, and the script's pending routine ran first.
    let r = sim_run(
        "let r = defer(\"say so\", || info(\"the routine ran\"));\nhost(\"cd1\").run([\"true\"]);\nlet a = [];\nfor i in 0..20000 { a = [a]; }\n",
        &[],
    );
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(
        r.stdout.contains("the routine ran"),
        "{}\n{}",
        r.stdout,
        r.stderr
    );
    assert!(r.stderr.contains("t.rhai:4:"), "{}", r.stderr);
    // Built without passing through a variable (function results): bounded by the call
    // depth; printed and dropped without overflowing the stack.
    let wraps = 16;
    let script = format!(
        "fn f(n) {{ if n == 0 {{ [] }} else {{ {}f(n - 1){} }} }}\nlet s = f(60).to_string();\nprint(`printed ${{s.len()}}`);\nlet x = f(60);\n",
        "[".repeat(wraps),
        "]".repeat(wraps)
    );
    let r = sim_run(&script, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("printed 1922"), "{}", r.stdout);
}

#[test]
fn a_runaway_script_stops_at_the_memory_bound_with_a_clean_error() {
    // String doubling used to take the process to the OOM killer.
    let r = sim_run("let s = \"x\";\nloop {\n    s += s;\n}\n", &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("the script holds too much memory (over 512 MiB)"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("t.rhai:3:"), "{}", r.stderr);
    // Sizes asked for in one call are refused before they are allocated.
    for call in [
        "let a = [];\na.pad(100000000000, 0);\n",
        "let s = \"\";\ns.pad(100000000000, \"ab\");\n",
        "let s = \"\";\ns.pad(100000000000, 'a');\n",
        "let b = 0;\nb = blob(100000000000);\n",
    ] {
        let r = sim_run(call, &[]);
        assert_eq!(r.code, 2, "{call}: {}", r.stderr);
        assert!(
            r.stderr.contains("past its memory bound (512 MiB)") && r.stderr.contains("t.rhai:2:"),
            "{call}: {}",
            r.stderr
        );
    }
    // The same functions still do their job below the bound.
    let r = sim_run(
        "let a = [1];\na.pad(3, 0);\nlet s = \"a\";\ns.pad(4, \"xy\");\nlet t = \"b\";\nt.pad(3, '-');\nlet b = blob(2, 7);\nb.pad(3, 1);\nprint(`${a} ${s} ${t} ${b} ${blob(2)}`);\n",
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("[1, 0, 0] axyx b-- [070701] [0000]"),
        "{}",
        r.stdout
    );
}

/// `hascript check` names every unknown function or method with the closest known name:
/// the script objects' methods by name and number of arguments (from the engine's
/// registrations), methods on other values and plain functions by name, and the functions
/// of an imported module.
#[test]
fn check_names_unknown_methods_and_functions_with_the_closest_name() {
    let d = tmp();
    write(d.path(), "helpers.rhai", "fn double(x) { x * 2 }\n");
    let bad = write(
        d.path(),
        "typo.rhai",
        "import \"helpers\" as h;\nlet g = params.guest;\nhypervisor.migrat(g, \"cd3\");\nhypervisor.migrate(g);\npackage.lst();\nlet s = \"a,b\".splt(\",\");\ninfoo(\"x\");\nh::doubel(2);\n",
    );
    let r = hascript(&["check", &bad.display().to_string()]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    for expect in [
        "typo.rhai:3:12: unknown method hypervisor.migrat(2 args); did you mean migrate?",
        "typo.rhai:4:12: hypervisor.migrate called with 1 arg; it takes 2 args",
        "typo.rhai:5:9: unknown method package.lst(0 args); did you mean list?",
        "typo.rhai:6:15: unknown method .splt(1 arg); did you mean split?",
        "typo.rhai:7:1: unknown function infoo(); did you mean info?",
        "typo.rhai:8:4: unknown function h::doubel(); did you mean double?",
    ] {
        assert!(r.stdout.contains(expect), "{expect}\n{}", r.stdout);
    }
    assert_eq!(r.stdout.lines().count(), 6, "{}", r.stdout);

    // The same calls spelled right, closures in maps, script functions called as methods
    // and the standard library's methods are clean.
    let good = write(
        d.path(),
        "good.rhai",
        "import \"helpers\" as h;\nfn twice(x) { x * 2 }\nlet g = params.guest;\nlet m = #{f: |x| x + 1};\nm.f(1);\n3.twice();\nlet s = \"a,b\".split(\",\");\ns.map(|x| x.to_upper()).len();\nhypervisor.guests().filter(|r| r.host == ()).len();\nlet k = package.list().len();\nh::double(2);\nlet cl = cluster; cl.nodes();\n",
    );
    let r = hascript(&["check", &good.display().to_string()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

/// Every shipped script is clean for `hascript check` (no false positive of the unknown
/// function/method check; a typo in a shipped procedure fails here).
#[test]
fn every_shipped_script_passes_check() {
    let list = hascript(&["list"]);
    let names: Vec<String> = list
        .stdout
        .lines()
        .take_while(|l| !l.starts_with("Scenarios"))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| w.contains('/') && !w.starts_with('('))
        .map(String::from)
        .collect();
    assert!(names.len() >= 18, "{}", list.stdout);
    let mut args = vec!["check"];
    args.extend(names.iter().map(String::as_str));
    let r = hascript(&args);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

/// `hascript show NAME | head`: a reader that stops early ends `show` quietly, exit 0 (it
/// used to panic on the broken pipe, exit 101). The pipe's reading end is closed before
/// the child starts, so its write always meets a closed pipe.
#[test]
fn show_into_a_pipe_closed_early_ends_quietly() {
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::process::{Command, Stdio};
    let mut fds = [0; 2];
    // SAFETY: pipe(2) writes two new descriptors into the array it is given.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "pipe");
    // SAFETY: both descriptors were just made by pipe(2) and are owned here only.
    let (read_end, write_end) =
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read_end);
    let o = Command::new(env!("CARGO_BIN_EXE_hascript"))
        .args(["show", "hpvm/move-package"])
        .env_remove("HASCRIPT_PATH")
        .stdout(Stdio::from(write_end))
        .stderr(Stdio::piped())
        .output()
        .expect("hascript runs");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
