//! The REPL in a real terminal, driven through tmux (`/usr/bin/tmux`; CI installs it):
//! Tab completion, `:help`, multi-line input, Ctrl-C at the prompt and in a running call,
//! and the history surviving a restart. Each test runs its own tmux server (`-L`), killed at
//! the end.

use std::path::Path;
use std::time::{Duration, Instant};

mod tmux_support;

use tmux_support::Tmux;

/// The REPL running in a tmux session of its own (the terminal's keys, typing and whether it
/// still runs come from [`Tmux`]).
struct Repl {
    t: Tmux,
}

impl std::ops::Deref for Repl {
    type Target = Tmux;

    fn deref(&self) -> &Tmux {
        &self.t
    }
}

impl Repl {
    /// Start the REPL in a 150×50 terminal with the history under `state`.
    fn start(name: &str, state: &Path) -> Repl {
        Repl::start_with(name, state, "")
    }

    /// [`Repl::start`] with more `VAR=value` words for `env` (e.g. a simulated pace).
    fn start_with(name: &str, state: &Path, env: &str) -> Repl {
        let t = Repl {
            t: Tmux::new(
                format!("hascript-test-{}-{name}", std::process::id()),
                "repl",
            ),
        };
        t.launch_with(state, env);
        t
    }

    fn launch(&self, state: &Path) {
        self.launch_with(state, "")
    }

    fn launch_with(&self, state: &Path, env: &str) {
        let cmd = format!(
            "env -u HASCRIPT_PATH TERM=xterm XDG_STATE_HOME='{}' {env} '{}' repl",
            state.display(),
            env!("CARGO_BIN_EXE_hascript")
        );
        self.t.new_session(150, 50, &cmd);
        self.wait_for("hascript(ldoms sim)>");
    }

    fn screen(&self) -> String {
        self.t.capture(&["-S", "-200"])
    }

    /// Wait until the screen contains `what`; return the screen.
    fn wait_for(&self, what: &str) -> String {
        self.wait_until(|s| s.contains(what), what)
    }

    fn wait_until(&self, ok: impl Fn(&str) -> bool, what: &str) -> String {
        match self
            .t
            .wait_screen(&["-S", "-200"], Duration::from_secs(20), ok)
        {
            Ok(s) => s,
            Err(s) => panic!("timed out waiting for {what:?}; the screen:\n{s}"),
        }
    }

    /// The last non-empty line of the screen.
    fn last_line(&self) -> String {
        self.screen()
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or_default()
            .to_string()
    }

    /// Clear the screen and the scrollback (so later waits see only new output).
    fn clear(&self) {
        self.t.tmux(&["clear-history", "-t", "repl"]);
        self.keys(&["C-l"]);
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn tempdir() -> tempfile::TempDir {
    match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("cannot create a temporary folder: {e}"),
    }
}

#[test]
fn tab_completes_names_and_lists_methods() {
    let state = tempdir();
    let t = Repl::start("complete", state.path());
    t.type_text("fen");
    t.keys(&["Tab"]);
    t.wait_until(
        |s| s.contains("hascript(ldoms sim)> fence"),
        "fen completed to fence",
    );
    t.type_text(".");
    t.keys(&["Tab"]);
    // One Tab lists the functions of fence under the prompt.
    let s = t.wait_for("verify");
    for f in ["agents", "config", "start", "stop", "verify"] {
        assert!(s.contains(f), "{f} not listed:\n{s}");
    }
    t.type_text("ver");
    t.keys(&["Tab"]);
    t.wait_for("fence.verify");
    t.type_text("().ok");
    t.keys(&["Enter"]);
    t.wait_until(
        |s| s.lines().any(|l| l.trim() == "true"),
        "fence.verify().ok",
    );
    // Host names inside host("…").
    t.clear();
    t.type_text("host(\"gue");
    t.keys(&["Tab"]);
    t.wait_for("guest");
    t.type_text("1\").name");
    t.keys(&["Enter"]);
    t.wait_until(
        |s| s.lines().any(|l| l.trim() == "guest1"),
        "host name completion",
    );
    // Parameter names of a shipped procedure after `:run NAME `.
    t.clear();
    t.type_text(":run ldoms/verify-fe");
    t.keys(&["Tab"]);
    t.wait_for(":run ldoms/verify-fence");
    t.type_text(" ");
    t.keys(&["Tab"]);
    t.wait_for("guest=");
    t.keys(&["C-u"]);
    t.keys(&["C-d"]);
}

#[test]
fn help_multi_line_input_and_ctrl_c() {
    let state = tempdir();
    let t = Repl::start("help", state.path());
    t.type_text(":help fence.verify");
    t.keys(&["Enter"]);
    t.wait_for("A verdict on the fencing agents with the manual's remedy.");
    t.clear();
    t.type_text("for i in 0..3 {");
    t.keys(&["Enter"]);
    t.wait_for("...>");
    t.type_text("print(`i=${i * 10}`);");
    t.keys(&["Enter"]);
    t.type_text("}");
    t.keys(&["Enter"]);
    let s = t.wait_for("i=20");
    assert!(s.contains("i=0") && s.contains("i=10"), "{s}");
    // Ctrl-C drops an unfinished input.
    t.clear();
    t.type_text("let dropped = [1,");
    t.keys(&["Enter"]);
    // The continuation prompt of this input (the screen may still show the loop's).
    t.wait_until(
        |_| t.last_line().trim() == "...>",
        "the continuation prompt",
    );
    t.keys(&["C-c"]);
    t.wait_until(
        |_| t.last_line().trim_end() == "hascript(ldoms sim)>",
        "a fresh prompt after Ctrl-C",
    );
    t.type_text("let kept = 5;");
    t.keys(&["Enter"]);
    // Ctrl-C stops a running call; the REPL and its variables stay.
    t.type_text("loop { }");
    t.keys(&["Enter"]);
    std::thread::sleep(Duration::from_millis(800));
    t.keys(&["C-c"]);
    t.wait_for("error: interrupted");
    t.clear();
    t.type_text("kept * 3");
    t.keys(&["Enter"]);
    t.wait_until(|s| s.lines().any(|l| l.trim() == "15"), "kept survives");
    assert!(t.running(), "the REPL must still run");
    // Ctrl-D at an empty prompt: wait for the prompt to be drawn first, so the key is not
    // read while the value is still being printed.
    t.wait_until(
        |_| t.last_line().trim_end() == "hascript(ldoms sim)>",
        "a fresh prompt before Ctrl-D",
    );
    t.keys(&["C-d"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while t.running() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!t.running(), "Ctrl-D leaves the REPL");
}

#[test]
fn history_survives_a_restart() {
    let state = tempdir();
    let t = Repl::start("history", state.path());
    t.type_text("let hist_marker = 4242;");
    t.keys(&["Enter"]);
    t.type_text(":quit");
    t.keys(&["Enter"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while t.running() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let file = state.path().join("hascript").join("history");
    let saved = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        saved.contains("let hist_marker = 4242;"),
        "{}: {saved:?}",
        file.display()
    );
    t.launch(state.path());
    t.keys(&["Up"]);
    t.keys(&["Up"]);
    t.wait_for("hascript(ldoms sim)> let hist_marker = 4242;");
    t.keys(&["Enter"]);
    t.type_text("hist_marker + 1");
    t.keys(&["Enter"]);
    t.wait_until(
        |s| s.lines().any(|l| l.trim() == "4243"),
        "the recalled line ran",
    );
    t.keys(&["C-d"]);
}

/// Issue 11, item 8: text from scripts (and hosts) never acts on the operator's terminal:
/// an OSC title change, a screen clear and a colour reach the screen as visible escapes,
/// printed or shown as a value, and the pane's title stays as it was.
#[test]
fn escape_sequences_from_scripts_are_shown_not_obeyed() {
    let state = tempdir();
    let t = Repl::start("escapes", state.path());
    let title = |t: &Repl| t.tmux(&["display-message", "-p", "-t", "repl", "#{pane_title}"]);
    let before = title(&t);
    t.type_text(r#"print("A\x1b]2;PWNED\x07B\x1b[2JC\rD")"#);
    t.keys(&["Enter"]);
    // The output line (the input line above it, after the prompt, reads the same).
    let line = |s: &str, start: &str| s.lines().any(|l| l.starts_with(start));
    t.wait_until(
        |s| line(s, r"A\x1b]2;PWNED\x07B\x1b[2JC\rD"),
        "the printed line, escaped",
    );
    t.type_text(r#"#{out: "x\x1b[31my\x08z"}"#);
    t.keys(&["Enter"]);
    let value = |s: &str| {
        s.lines()
            .any(|l| l.starts_with("out:") && l.trim_end().ends_with(r" x\x1b[31my\x08z"))
    };
    let s = t.wait_until(value, "the value, escaped");
    assert!(
        s.contains("hascript(ldoms sim)>"),
        "the screen was not cleared:\n{s}"
    );
    let after = title(&t);
    assert!(
        !after.contains("PWNED"),
        "the title changed: {before:?} → {after:?}"
    );
    t.keys(&["C-d"]);
}

/// Issue 14, item 1: Ctrl-C discards the line being typed (linefeed would otherwise resume
/// it, and the next input would be evaluated glued to it), and with it an unfinished
/// multi-line input.
#[test]
fn ctrl_c_discards_the_text_typed_on_the_line() {
    let state = tempdir();
    let t = Repl::start("discard", state.path());
    let prompt = "hascript(ldoms sim)>";
    t.type_text("half typed");
    t.wait_for("> half typed");
    t.keys(&["C-c"]);
    t.wait_until(
        |_| t.last_line().trim_end() == prompt,
        "a fresh, empty prompt after Ctrl-C",
    );
    t.type_text("40 + 2");
    t.keys(&["Enter"]);
    let s = t.wait_until(
        |s| s.lines().any(|l| l.trim() == "42") || s.contains("error"),
        "the new input's value",
    );
    assert!(
        s.lines().any(|l| l.trim() == "42") && !s.contains("error"),
        "the new input must run alone:\n{s}"
    );
    // Text typed on a continuation line goes with the whole unfinished input.
    t.clear();
    t.type_text("let lst = [1,");
    t.keys(&["Enter"]);
    t.wait_until(
        |_| t.last_line().trim() == "...>",
        "the continuation prompt",
    );
    t.type_text("2, 3");
    t.wait_for("...> 2, 3");
    t.keys(&["C-c"]);
    t.wait_until(
        |_| t.last_line().trim_end() == prompt,
        "a fresh prompt after Ctrl-C on a continuation line",
    );
    t.type_text("7 * 6");
    t.keys(&["Enter"]);
    let s = t.wait_until(
        |s| s.lines().any(|l| l.trim() == "42") || s.contains("error"),
        "the new input's value",
    );
    assert!(
        s.lines().any(|l| l.trim() == "42") && !s.contains("error"),
        "the new input must run alone:\n{s}"
    );
    // Nothing of the discarded inputs ran: `lst` was never defined.
    t.clear();
    t.type_text(":vars");
    t.keys(&["Enter"]);
    t.wait_for("no variables or functions yet");
    t.keys(&["C-d"]);
}

/// Issue 14, item 1: Ctrl-C stops a paced simulated wait — a script's `sleep`, a helper's
/// `wait_until` and a driver's wait — at once. At one real second per virtual second each
/// wait would take ten minutes; the prompt must be back long before (the helper's 20 s
/// deadline, no tight timing).
#[test]
fn ctrl_c_stops_a_paced_wait_at_once() {
    let state = tempdir();
    let t = Repl::start_with("pacedwait", state.path(), "HASCRIPT_SIM_PACE_MS=1000");
    let prompt = "hascript(ldoms sim)>";
    for (i, input) in [
        "sleep(600)",
        "wait_until(|| false, #{timeout: 600, interval: 60})",
        "cluster.wait_node_state(\"cfguest2\", \"DOWN\", #{timeout: 600})",
    ]
    .iter()
    .enumerate()
    {
        t.clear();
        t.type_text(input);
        t.keys(&["Enter"]);
        std::thread::sleep(Duration::from_millis(1500));
        t.keys(&["C-c"]);
        let started = Instant::now();
        let s = t.wait_for("error: interrupted");
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{input}: not stopped at once:\n{s}"
        );
        t.wait_until(
            |_| t.last_line().trim_end() == prompt,
            "the prompt after the interruption",
        );
        // The session goes on, and its next call is not cancelled.
        t.type_text(&format!("{i} + 100"));
        t.keys(&["Enter"]);
        let want = format!("{}", i + 100);
        t.wait_until(
            |s| s.lines().any(|l| l.trim() == want),
            "a value after the interruption",
        );
    }
    t.type_text("fence.verify().ok");
    t.keys(&["Enter"]);
    t.wait_until(
        |s| s.lines().any(|l| l.trim() == "true"),
        "a site call after the interruptions",
    );
    t.keys(&["C-d"]);
}

/// Issue 14, item 4: Tab completes guest and package names inside the calls that take
/// them, read from the site (once per session).
#[test]
fn tab_completes_guest_and_package_names_in_calls() {
    let state = tempdir();
    let t = Repl::start("names", state.path());
    t.type_text("hypervisor.guest(\"gu");
    t.keys(&["Tab"]);
    // guest1 and guest2: their common beginning, then both listed.
    t.wait_for("hypervisor.guest(\"guest");
    t.keys(&["Tab"]);
    let s = t.wait_for("guest2");
    assert!(s.contains("guest1"), "{s}");
    t.type_text("2\").control_domain");
    t.keys(&["Enter"]);
    t.wait_until(
        |s| s.lines().any(|l| l.trim() == "cd2"),
        "guest2's control domain",
    );
    t.clear();
    t.type_text(":sim hpvm");
    t.keys(&["Enter"]);
    t.wait_for("hascript(hpvm sim)>");
    t.type_text("package.status(\"sl");
    t.keys(&["Tab"]);
    t.wait_for("package.status(\"slvm1");
    t.type_text("\").name");
    t.keys(&["Enter"]);
    t.wait_until(
        |s| s.lines().any(|l| l.trim() == "slvm1"),
        "the completed package",
    );
    t.keys(&["C-d"]);
}

#[test]
fn a_declared_secret_is_asked_on_the_terminal_without_echo() {
    // `:run` of a script declaring a secret, none in the environment: the prompt names the
    // secret and its variable, the answer is not echoed yet reaches the script, and the
    // terminal is given back with echo on (the REPL shows what is typed next).
    let state = tempdir();
    let script = state.path().join("asks.rhai");
    if let Err(e) = std::fs::write(
        &script,
        "//! secrets: token\nprint(`token length ${secrets.token.len()}`);\n",
    ) {
        panic!("cannot write {}: {e}", script.display());
    }
    let t = Repl::start("secret", state.path());
    t.type_text(&format!(":run {} --yes", script.display()));
    t.keys(&["Enter"]);
    t.wait_for("asks.rhai: secret token (not shown; or set HASCRIPT_SECRET_TOKEN):");
    t.type_text("hunter2-canary");
    t.keys(&["Enter"]);
    let s = t.wait_for("token length 14");
    assert!(!s.contains("hunter2"), "the secret was echoed:\n{s}");
    t.wait_until(
        |s| s.trim_end().ends_with("hascript(ldoms sim)>"),
        "the prompt after the run",
    );
    t.clear();
    t.type_text("40 + 2");
    t.wait_for("hascript(ldoms sim)> 40 + 2");
    t.keys(&["Enter"]);
    t.wait_until(|s| s.lines().any(|l| l.trim() == "42"), "40 + 2");
    t.keys(&["C-d"]);
}
