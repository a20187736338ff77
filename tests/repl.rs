//! The REPL through a pipe (the non-terminal path).

use std::io::Write;
use std::process::{Command, Stdio};

mod cli_support;

fn repl(args: &[&str], input: &str) -> (i32, String, String) {
    let mut cmd = cli_support::command(["repl"].iter().chain(args), cli_support::build_tmp());
    let r = cli_support::output(&mut cmd, &[], Some(input));
    (r.code, r.stdout, r.stderr)
}

#[test]
fn banner_names_the_simulated_site_and_prompt_ends_with_gt_space() {
    let (code, out, _) = repl(&[], "");
    assert_eq!(code, 0);
    let first = out.lines().next().unwrap_or_default();
    assert!(first.contains("simulated"), "{out}");
    assert!(first.contains("LDoms") || first.contains("ldoms"), "{out}");
    assert!(out.contains("hascript(ldoms sim)> "), "{out}");
}

#[test]
fn values_print_and_state_persists_across_lines_and_failures() {
    let input = "let x = 40;\nfn add2(v) { v + 2 }\nadd2(x)\nno_such_fn(x)\nfn twice(v) { v * 2 } no_such_fn_either()\nx + 1\ntwice(add2(x))\n#{a: 1, b: [2, 3]}\n\"plain text\"\n";
    let (code, out, err) = repl(&[], input);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    assert!(lines.contains(&"42"), "{out}");
    assert!(lines.contains(&"41"), "{out}");
    assert!(
        lines.contains(&"84"),
        "function defined on a failed line must persist: {out}\n{err}"
    );
    assert!(
        lines.contains(&"a:  1"),
        "maps print as aligned key: value lines: {out}"
    );
    assert!(lines.contains(&"b:  [2, 3]"), "{out}");
    assert!(lines.contains(&"plain text"), "{out}");
    assert!(err.contains("no_such_fn"), "{err}");
    assert!(err.contains("no_such_fn_either"), "{err}");
}

#[test]
fn multi_line_input_continues_until_complete() {
    let input = "fn f(a) {\n  let b = a * 10;\n  b + 1\n}\nlet m = #{\n  k: f(4)\n};\nm.k\n";
    let (code, out, err) = repl(&[], input);
    assert_eq!(code, 0);
    assert!(out.lines().any(|l| l.trim() == "41"), "{out}\n{err}");
    assert!(err.is_empty(), "{err}");
}

#[test]
fn errors_do_not_end_the_session() {
    let (code, out, err) = repl(&[], "let = ;\nhost(\"nohost\")\n1 + 2\n");
    assert_eq!(code, 0);
    assert!(err.contains("error:"), "{err}");
    assert!(err.contains("unknown host \"nohost\""), "{err}");
    assert!(out.lines().any(|l| l.trim() == "3"), "{out}");
}

#[test]
fn site_commands_work_in_the_repl() {
    let (code, out, err) = repl(
        &["--sim", "ldoms"],
        "host(\"cd1\").run([\"hostname\"], #{changes: false}).stdout\nsite.driver\n",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("cd1\n"), "{out}\n{err}");
    assert!(out.lines().any(|l| l.trim() == "ldoms"), "{out}");
}

#[test]
fn help_lists_objects_and_quit_leaves() {
    let (code, out, _) = repl(&[], ":help\n:help all\n:quit\n1 + 1\n");
    assert_eq!(code, 0);
    assert!(out.contains("Objects (globals):"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("  fence ") && l.contains("verify")),
        "{out}"
    );
    assert!(out.contains(":save FILE"), "{out}");
    assert!(out.contains("cluster.nodes()"), "{out}");
    assert!(
        out.contains("wait_until(cond: FnPtr, opts: Map) -> bool"),
        "{out}"
    );
    assert!(out.contains("Poll `cond`"), "{out}");
    assert!(
        !out.lines().any(|l| l.trim() == "2"),
        "input after :quit ran: {out}"
    );
}

#[test]
fn repl_refuses_bad_site_options() {
    let (code, _, err) = repl(&["--sim-state", "/tmp/nonexistent-hascript-state"], "");
    assert_eq!(code, 2);
    assert!(err.contains("--sim"), "{err}");
}

#[test]
fn objects_print_as_their_names_and_package_works() {
    let (code, out, err) = repl(
        &[],
        "host(\"cd1\")\nfence\npackage.status(\"app1\").state\n",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Host(cd1)"), "{out}");
    assert!(out.contains("Fence"), "{out}");
    assert!(out.contains("Online"), "{out}");
}

/// The REPL with standard error merged into standard output (in the order written), and
/// `XDG_STATE_HOME` pointed at an empty folder.
fn repl_merged(args: &[&str], input: &str, dir: &std::path::Path) -> (i32, String) {
    let out = cli_support::repl_merged(args, input, dir);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn tempdir() -> tempfile::TempDir {
    match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("cannot create a temporary folder: {e}"),
    }
}

#[test]
fn help_topics_come_from_the_doc_comments() {
    let (code, out, err) = repl(
        &[],
        ":help fence\n:help fence.verify\n:help wait_until\n:help Host\n:help fence.nosuch\n",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("fence (Fence):"), "{out}");
    assert!(out.contains("  fence.verify() -> Map"), "{out}");
    assert!(out.contains("  fence.agents() -> Array"), "{out}");
    assert!(
        out.contains("A verdict on the fencing agents with the manual's remedy."),
        "{out}"
    );
    assert!(
        out.contains("wait_until(cond: FnPtr, opts: Map) -> bool"),
        "{out}"
    );
    assert!(
        out.contains("h.run(argv: Array, opts: Map) -> Map"),
        "{out}"
    );
    assert!(
        err.contains("no help for \"fence.nosuch\""),
        "unknown topics are errors: {err}"
    );
}

#[test]
fn rows_print_as_tables_and_json_toggles() {
    let (code, out, err) = repl(
        &[],
        "hypervisor.guests()\n:json\n:json\nhypervisor.guest(\"guest2\")\n",
    );
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.starts_with("name ") && l.contains("control_domain"))
        .unwrap_or_else(|| panic!("no table header: {out}"));
    assert!(lines[header + 1].starts_with("------"), "{out}");
    let row = lines[header + 2];
    assert!(row.starts_with("guest1 ") && row.contains("cd1"), "{out}");
    // The state column starts at the same place in the header and the rows.
    assert_eq!(
        lines[header].rfind("state"),
        lines[header + 2].find("running"),
        "{out}"
    );
    assert!(out.contains("values are shown as JSON"), "{out}");
    assert!(out.contains("\"control_domain\": \"cd1\""), "{out}");
    assert!(out.contains("values are shown as tables"), "{out}");
    assert!(
        out.lines().any(|l| l == "state:            running"),
        "{out}"
    );
}

#[test]
fn errors_show_position_and_keep_variables() {
    let (code, out, err) = repl(&[], "let v = 5;\nv.nosuch()\nlet w = v +;\nv * 2\n");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("--> <input>:1:3"), "{err}");
    assert!(err.contains("nosuch"), "{err}");
    assert!(err.contains("error: Syntax error"), "{err}");
    assert!(out.lines().any(|l| l == "10"), "{out}");
}

#[test]
fn unclosed_strings_and_brackets_continue() {
    let input = "let s = `two\nlines`;\ns.len()\nlet t = \"a\nb\";\nt == s.sub_string(0, 0) + \"a\\nb\"\nlet a = [\n1,\n2];\na.len()\n";
    let (code, out, err) = repl(&[], input);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.contains(&"9"), "{out}\n{err}");
    assert!(lines.contains(&"true"), "{out}\n{err}");
    assert!(lines.contains(&"2"), "{out}\n{err}");
    assert!(err.is_empty(), "{err}");
}

#[test]
fn save_writes_a_script_that_checks_and_reproduces_the_values() {
    let dir = tempdir();
    let input = "let guests = hypervisor.guests().map(|g| g.name);\nfn where_is(g) { hypervisor.guest(g).control_domain }\nnosuch()\nlet cd = where_is(\"guest2\");\n#{n: guests.len()}\nlet total = fence.agents().reduce(|sum, a| sum + a.rows.len(), 0);\n:save s.rhai\n`${guests} ${cd} ${total}`\n";
    let (code, out) = repl_merged(&[], input, dir.path());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("saved 5 inputs to s.rhai"), "{out}");
    let expected = out
        .lines()
        .find(|l| l.starts_with("[\"guest1\""))
        .unwrap_or_else(|| panic!("no value line: {out}"))
        .to_string();
    let saved = std::fs::read_to_string(dir.path().join("s.rhai")).unwrap_or_default();
    assert!(
        !saved.contains("nosuch"),
        "failed inputs are not saved: {saved}"
    );
    assert!(saved.contains("#{n: guests.len()};"), "{saved}");
    let check = Command::new(env!("CARGO_BIN_EXE_hascript"))
        .args(["check", "s.rhai"])
        .current_dir(dir.path())
        .output();
    let check = match check {
        Ok(o) => o,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let mut with_print = saved.clone();
    with_print.push_str("print(`${guests} ${cd} ${total}`);\n");
    if let Err(e) = std::fs::write(dir.path().join("p.rhai"), with_print) {
        panic!("{e}");
    }
    let run = Command::new(env!("CARGO_BIN_EXE_hascript"))
        .args(["run", "p.rhai", "--sim", "ldoms"])
        .current_dir(dir.path())
        .env_remove("HASCRIPT_PATH")
        // Journals and history of test runs stay in the build folder.
        .env("XDG_STATE_HOME", env!("CARGO_TARGET_TMPDIR"))
        .output();
    let run = match run {
        Ok(o) => o,
        Err(e) => panic!("{e}"),
    };
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.lines().any(|l| l == expected),
        "the saved script gives {stdout}, the session gave {expected}"
    );
}

#[test]
fn load_evaluates_a_file_into_the_session() {
    let dir = tempdir();
    let file = dir.path().join("helpers.rhai");
    if let Err(e) = std::fs::write(&file, "fn twice(x) { x * 2 }\nlet base = 21;\n") {
        panic!("{e}");
    }
    let (code, out) = repl_merged(
        &[],
        ":load helpers.rhai\ntwice(base)\n:load missing.rhai\n",
        dir.path(),
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.lines().any(|l| l == "42"), "{out}");
    assert!(out.contains("error: cannot read missing.rhai"), "{out}");
}

#[test]
fn run_runs_shipped_procedures_with_their_checks() {
    let dir = tempdir();
    let (code, out) = repl_merged(
        &[],
        "let kept = 1;\n:run ldoms/verify-fence\n:run ldoms/verify-fence bogus=1\n:run hpvm/diagnose package=slvm1\n:run nosuch/procedure\nkept\n",
        dir.path(),
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("==> [17.3.1.2 step 2]"), "{out}");
    assert!(
        out.contains("ldoms/verify-fence finished (exit code 0)"),
        "{out}"
    );
    assert!(out.contains("unknown parameter \"bogus\""), "{out}");
    assert!(
        out.contains("hpvm/diagnose is a procedure for hpvm sites"),
        "{out}"
    );
    assert!(out.contains("no script file \"nosuch/procedure\""), "{out}");
    assert!(out.lines().any(|l| l == "1"), "{out}");
}

/// Issue 14, item 4: the prompt names the site — the scenario on a simulated site, the
/// inventory's file name on a real one (a control character in it shown escaped).
#[test]
fn the_prompt_names_the_scenario_or_the_inventory_file() {
    let (code, out, err) = repl(&["--sim", "ldoms/unhealthy-cluster"], "1\n");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("hascript(ldoms/unhealthy-cluster sim)> "),
        "{out}"
    );
    let dir = tempdir();
    let inv = dir.path().join("prod\x1b[2J-site.toml");
    let toml = "driver = \"ldoms\"\ndescription = \"this machine\"\n[defaults]\ntransport = \"local\"\n[[host]]\nname = \"cd1\"\nrole = \"control-domain\"\nbox = \"box1\"\nppar_id = 0\nxscf = [\"192.0.2.1\", \"192.0.2.2\"]\n[[host]]\nname = \"g1\"\nrole = \"guest-domain\"\n[[host]]\nname = \"g2\"\nrole = \"guest-domain\"\n";
    if let Err(e) = std::fs::write(&inv, toml) {
        panic!("{e}");
    }
    let inv_arg = inv.display().to_string();
    let (code, out, err) = repl(&["-i", &inv_arg], "1\n");
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("hascript(prod\\x1b[2J-site.toml)> "),
        "{out}\n{err}"
    );
    assert!(!out.contains('\x1b'), "{out:?}");
}

#[test]
fn sim_switches_the_site_and_keeps_variables() {
    let (code, out, err) = repl(
        &[],
        "let x = 3;\n:scenarios\n:sim hpvm\nsite.driver\nx\n:sim nope\n:sim\nsite.driver\n",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("ldoms/unhealthy-cluster"), "{out}");
    assert!(out.contains("now on simulated Serviceguard site"), "{out}");
    assert!(out.contains("hascript(hpvm sim)> "), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.contains(&"hpvm") && lines.contains(&"3"), "{out}");
    assert!(err.contains("unknown scenario \"nope\""), "{err}");
    assert!(lines.contains(&"ldoms"), "{out}");
}

#[test]
fn ctrl_c_stops_the_running_call_and_the_session_goes_on() {
    let child = Command::new(env!("CARGO_BIN_EXE_hascript"))
        .arg("repl")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("HASCRIPT_PATH")
        // Journals and history of test runs stay in the build folder.
        .env("XDG_STATE_HOME", env!("CARGO_TARGET_TMPDIR"))
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => panic!("cannot start the REPL: {e}"),
    };
    let mut stdin = child.stdin.take();
    if let Some(s) = stdin.as_mut() {
        let _ = s.write_all(b"let keep = 7;\nloop { }\n");
        let _ = s.flush();
    }
    // Read standard output on a thread; the loop runs once its prompt's line has ended
    // (the third prompt, after the banner's line).
    let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let mut pipe = child.stdout.take();
    let reader = {
        let seen = seen.clone();
        std::thread::spawn(move || {
            use std::io::Read;
            let mut buf = [0u8; 4096];
            while let Some(Ok(n)) = pipe.as_mut().map(|p| p.read(&mut buf)) {
                if n == 0 {
                    break;
                }
                if let Ok(mut s) = seen.lock() {
                    s.push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            }
        })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let n = seen
            .lock()
            .map(|s| s.matches("hascript(ldoms sim)> \n").count())
            .unwrap_or(0);
        if n >= 2 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the REPL did not start the loop"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let pid = child.id() as libc::pid_t;
    // SAFETY: sending a signal to our own child process.
    unsafe {
        libc::kill(pid, libc::SIGINT);
    }
    if let Some(s) = stdin.as_mut() {
        let _ = s.write_all(b"keep + 1\n");
    }
    drop(stdin);
    let out = match child.wait_with_output() {
        Ok(o) => o,
        Err(e) => panic!("{e}"),
    };
    let _ = reader.join();
    let stdout = seen.lock().map(|s| s.clone()).unwrap_or_default();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stderr.contains("error: interrupted"), "{stderr}");
    assert!(stdout.lines().any(|l| l == "8"), "{stdout}\n{stderr}");
}

#[test]
fn odd_inputs_never_panic() {
    let odd = [
        "",
        " ",
        ":",
        "::",
        ": help",
        ":help ",
        ":help .",
        ":help ..",
        ":help fence.",
        ":json",
        ":json",
        ":run",
        ":run  --yes",
        ":run ldoms/verify-fence guest=",
        ":run ldoms/verify-fence =x",
        ":load",
        ":save",
        ":sim ",
        ":inventory",
        ":inventory /",
        ":load /",
        ":save /",
        "(",
        ")",
        "]",
        "}",
        "{}",
        "#{",
        "#{}.",
        "\"",
        "`",
        "'",
        "\\",
        "fence.",
        "fence..verify()",
        "host(\"\")",
        "host(\"x\").",
        "package",
        "package.",
        "let package = 1;",
        "let",
        "let x",
        "fn",
        "fn f(",
        "}}}}",
        "1/0",
        "[][0]",
        "#{}[\"x\"]",
        "\u{0}",
        "\u{1F600}",
        "é = 1",
        "let é = 1;",
        "throw #{kind: \"check\"}",
        "throw ()",
        "fail(\"nope\", \"x\")",
        "eval(\"1\")",
        "import \"../etc/passwd\" as x;",
        "while false {}",
        "x.y.z = 1",
        "site = 1",
        "params.a",
        "cluster.nodes()[99]",
        "sleep(-1)",
        "sleep(1e300)",
        "wait_until(|| true, #{interval: 0})",
        "let a = [1]; a.push(a);",
        "\"\\u{110000}\"",
        "1 +",
        "+",
        "}",
        "]",
        ")",
    ];
    let mut input = odd.join("\n");
    input.push_str("\n}\n]\n)\n;\n\"\n\"\n`\n`\n1 + 41\n");
    let (code, out, err) = repl(&[], &input);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        out.lines().any(|l| l == "42"),
        "the session went on: {out}\n{err}"
    );
}

/// The journals under `state` (`$XDG_STATE_HOME/hascript/runs/*.jsonl`), each as its
/// JSON lines.
fn journals(state: &std::path::Path) -> Vec<Vec<serde_json::Value>> {
    let runs = state.join("hascript").join("runs");
    let Ok(entries) = std::fs::read_dir(&runs) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let text = std::fs::read_to_string(e.path()).unwrap_or_default();
        out.push(
            text.lines()
                .map(|l| match serde_json::from_str(l) {
                    Ok(v) => v,
                    Err(err) => panic!("{}: not a JSON line ({err}): {l}", e.path().display()),
                })
                .collect(),
        );
    }
    out
}

#[test]
fn run_is_journaled_and_the_session_sees_what_it_changed() {
    let dir = tempdir();
    let (code, out) = repl_merged(
        &[],
        "let kept = 5;\nhypervisor.guest(\"guest2\").control_domain\n:run ldoms/live-migration guest=guest2 target=cd3\nhypervisor.guest(\"guest2\").control_domain\nkept\n",
        dir.path(),
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("ldoms/live-migration finished (exit code 0)"),
        "{out}"
    );
    // Where the session saw guest2 before and after the run: cd2, then cd3 (one site).
    let lines: Vec<&str> = out.lines().collect();
    let before = lines.iter().position(|l| *l == "cd2");
    let after = lines.iter().rposition(|l| *l == "cd3");
    assert!(
        matches!((before, after), (Some(b), Some(a)) if b < a),
        "{out}"
    );
    assert!(lines.contains(&"5"), "{out}");
    // The run is journaled as `hascript run` journals it: header, the change commands
    // (with the host lock), the result.
    let runs = journals(dir.path());
    assert_eq!(runs.len(), 1, "{out}");
    let run = &runs[0];
    assert_eq!(run[0]["event"], "run", "{run:?}");
    assert_eq!(run[0]["script"], "ldoms/live-migration", "{run:?}");
    assert_eq!(run[0]["params"]["target"], "cd3", "{run:?}");
    assert_eq!(run[0]["dry_run"], false, "{run:?}");
    let id = run[0]["run"].as_str().unwrap_or_default().to_string();
    assert!(out.contains(&format!("(run {id})")), "{id}\n{out}");
    let text = serde_json::to_string(run).unwrap_or_default();
    assert!(text.contains("migrate-domain guest2 cd3"), "{text}");
    assert!(
        run.iter()
            .any(|l| l["event"] == "lock" && l["action"] == "released"),
        "{text}"
    );
    let last = run.last().cloned().unwrap_or_default();
    assert_eq!(last["event"], "result", "{last}");
    assert_eq!(last["exit"], 0, "{last}");
}

#[test]
fn run_dry_run_prints_the_plan_and_changes_nothing() {
    let dir = tempdir();
    let (code, out) = repl_merged(
        &[],
        ":run ldoms/live-migration --dry-run guest=guest2 target=cd3\nhypervisor.guest(\"guest2\").control_domain\n:save s.rhai\n",
        dir.path(),
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("Dry-run plan (nothing that changes state was sent):"),
        "{out}"
    );
    assert!(
        out.contains("  1. [17.3.1.1] cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -p guest2"),
        "{out}"
    );
    assert!(
        out.contains("  2. [17.3.1.1] cd2: /usr/sbin/ldm migrate-domain guest2 cd3"),
        "{out}"
    );
    assert!(out.contains("plan complete: 3 change commands"), "{out}");
    assert!(
        out.contains("ldoms/live-migration dry run finished (exit code 0; nothing was changed)"),
        "{out}"
    );
    // The guest is still where it was: the copy moved, the session's site did not.
    let after_plan = out
        .split("dry run finished")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    assert!(after_plan.lines().any(|l| l == "cd2"), "{out}");
    assert!(!after_plan.lines().any(|l| l == "cd3"), "{out}");
    // Journaled as a dry run; `:save` has no `:run` line to warn about.
    let runs = journals(dir.path());
    assert_eq!(runs.len(), 1, "{out}");
    assert_eq!(runs[0][0]["dry_run"], true, "{:?}", runs[0][0]);
    assert!(!out.contains("procedures run with :run"), "{out}");
}

/// The REPL on the simulator with `env` added, standard error merged into standard output.
fn repl_with_env(input: &str, dir: &std::path::Path, env: &[(&str, &str)]) -> (i32, String) {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(format!(
            "'{}' repl --sim 2>&1",
            env!("CARGO_BIN_EXE_hascript")
        ))
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .env_remove("HASCRIPT_PATH")
        .env("XDG_STATE_HOME", dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("HASCRIPT_SECRET_") {
            c.env_remove(k);
        }
    }
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = match c.spawn() {
        Ok(c) => c,
        Err(e) => panic!("cannot start the REPL: {e}"),
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input.as_bytes());
    }
    match child.wait_with_output() {
        Ok(o) => (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
        ),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn script_secrets_and_secret_parameters_are_hidden_in_the_session() {
    let dir = tempdir();
    let script = dir.path().join("pw.rhai");
    if let Err(e) = std::fs::write(
        &script,
        "//! params: password\nprint(`given ${params.password}`);\n",
    ) {
        panic!("{e}");
    }
    let input = format!(
        "let t = \"TOKv4lue-q\";\nt\n:run {} password=PWv4lue-q\n\"after PWv4lue-q\"\n:json\n",
        script.display()
    );
    let (code, out) = repl_with_env(
        &input,
        dir.path(),
        &[("HASCRIPT_SECRET_TOKEN", "TOKv4lue-q")],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.lines().any(|l| l.trim() == "*****"), "{out}");
    assert!(out.contains("given *****"), "the run's own output: {out}");
    assert!(out.contains("finished (exit code 0)"), "{out}");
    assert!(out.contains("after *****"), "learnt from :run: {out}");
    assert!(
        !out.contains("TOKv4lue") && !out.contains("PWv4lue"),
        "{out}"
    );
    // The control: without the variable, the same value is shown as it is.
    let (code, out) = repl_with_env("\"TOKv4lue-q\"\n", dir.path(), &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("TOKv4lue-q"), "{out}");
}

/// The resident memory of process `pid` in KiB (`VmRSS` in /proc/PID/status).
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS in /proc/{pid}/status"))
}

#[test]
fn memory_stays_flat_over_a_long_session() {
    use std::io::BufRead;
    let mut child = match Command::new(env!("CARGO_BIN_EXE_hascript"))
        .arg("repl")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .env_remove("HASCRIPT_PATH")
        .env("XDG_STATE_HOME", env!("CARGO_TARGET_TMPDIR"))
        .spawn()
    {
        Ok(c) => c,
        Err(e) => panic!("cannot start the REPL: {e}"),
    };
    let pid = child.id();
    let Some(mut stdin) = child.stdin.take() else {
        panic!("no stdin")
    };
    let Some(stdout) = child.stdout.take() else {
        panic!("no stdout")
    };
    // Read the output on a thread (a full pipe would stop the REPL reading its input).
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let inputs = [
        "let x = 40 + 2;",
        "let s = `text ${x}`;",
        "x * 2",
        "fn f(a) { a + 1 }",
        "f(x)",
        "#{a: 1, b: [2, 3]}",
        "let m = #{k: [1, 2, 3]};",
    ];
    // `n` more inputs, then wait until the REPL has evaluated all of them.
    let mut feed = |n: usize, mark: &str| {
        for i in 0..n {
            let _ = writeln!(stdin, "{}", inputs[i % inputs.len()]);
        }
        let _ = writeln!(stdin, "print(\"{mark}\");");
        let _ = stdin.flush();
        loop {
            match rx.recv_timeout(std::time::Duration::from_secs(120)) {
                Ok(l) if l.contains(mark) && !l.contains("print(") => break,
                Ok(_) => {}
                Err(e) => panic!("the REPL stopped answering: {e}"),
            }
        }
    };
    // Warm up (first-use allocations, caches), then measure 2,000 more inputs.
    feed(300, "WARM-MARK");
    let before = rss_kib(pid);
    feed(2000, "DONE-MARK");
    let after = rss_kib(pid);
    drop(stdin);
    let _ = child.wait();
    let grown = after.saturating_sub(before);
    // Before the fix every `let` kept a scope entry forever: about 430 KiB here.
    assert!(
        grown < 150,
        "the REPL grew by {grown} KiB over 2,000 inputs ({before} -> {after} KiB)"
    );
}
