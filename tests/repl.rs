//! The REPL through a pipe (the non-terminal path).

use std::io::Write;
use std::process::{Command, Stdio};

fn repl(args: &[&str], input: &str) -> (i32, String, String) {
    let child = Command::new(env!("CARGO_BIN_EXE_hascript"))
        .arg("repl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("HASCRIPT_PATH")
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => panic!("cannot start the REPL: {e}"),
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input.as_bytes());
    }
    let out = match child.wait_with_output() {
        Ok(o) => o,
        Err(e) => panic!("{e}"),
    };
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
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
    assert!(out.contains("\"a\": 1"), "{out}");
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
    let (code, out, _) = repl(&[], ":help\n:quit\n1 + 1\n");
    assert_eq!(code, 0);
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
