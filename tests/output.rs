//! What a run shows: waits that say where they stand (elapsed, the manual's expected
//! duration, the deadline) and close with a line; `-v` (each command and its exit status)
//! and `-q` (warnings, errors and the result only); colour on a terminal only (a real one,
//! through tmux: `capture-pane -e` keeps the escapes), never when piped or with `NO_COLOR`.

use std::path::Path;

use std::time::Duration;

mod cli_support;
mod tmux_support;

use cli_support::Run;
use tmux_support::Tmux;

/// Run hascript with piped output; journals stay in a folder of the test's own.
fn hascript(args: &[&str], env: &[(&str, &str)]) -> Run {
    let state = tempfile::tempdir().unwrap_or_else(|e| panic!("no temp dir: {e}"));
    let mut cmd = cli_support::command(args, state.path());
    cmd.env_remove("NO_COLOR");
    cli_support::output(&mut cmd, env, None)
}

/// `ldoms/live-migration` of guest2 to cd3 on `scenario`, with `extra` options.
fn migrate(scenario: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "run",
        "ldoms/live-migration",
        "--sim",
        scenario,
        "-p",
        "guest=guest2",
        "-p",
        "target=cd3",
        "--yes",
    ];
    args.extend_from_slice(extra);
    hascript(&args, &[])
}

#[test]
fn waits_show_elapsed_expected_and_deadline_and_close_with_a_line() {
    let r = migrate("ldoms/migration-aborted-guest-stopped", &[]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    // The wait for DOWN: the manual's "about 600 s" (note under 17.3.1.1) and the 900 s
    // deadline, a line a minute on a pipe.
    for l in [
        "waiting for cfguest2 DOWN in cftool -n: 00:00 elapsed, ~10:00 expected (17.3.1.1), deadline 15:00; now UP",
        "waiting for cfguest2 DOWN in cftool -n: 04:00 elapsed, ~10:00 expected (17.3.1.1), deadline 15:00; now UP",
    ] {
        assert!(lines.contains(&l), "no {l:?} in\n{}", r.stdout);
    }
    // Closed with a line saying how long it took, before the next step.
    let down = lines
        .iter()
        .position(|l| l.starts_with("cfguest2 DOWN in cftool -n: reached after 09:"))
        .unwrap_or_else(|| panic!("no closing line for DOWN in\n{}", r.stdout));
    assert!(
        lines[down + 1].starts_with("==> [17.3.1.1 note, step 2]"),
        "{}",
        r.stdout
    );
    // A wait without a manual figure: elapsed and deadline only, and its closing line.
    assert!(
        lines.contains(
            &"waiting for cfguest2 UP in cftool -n: 00:00 elapsed, deadline 15:00; now COMINGUP"
        ),
        "{}",
        r.stdout
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("cfguest2 UP in cftool -n: reached after ")),
        "{}",
        r.stdout
    );
    // The old countdown is gone.
    assert!(!r.stdout.contains(" left (now: "), "{}", r.stdout);
}

#[test]
fn a_wait_that_times_out_says_so_with_what_it_last_saw() {
    let r = migrate("ldoms/node-stays-leftcluster", &[]);
    assert_eq!(r.code, 4, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .lines()
            .any(|l| l == "cfguest2 DOWN in cftool -n: not reached after 15:00 (now LEFTCLUSTER)"),
        "{}",
        r.stdout
    );
}

#[test]
fn wait_events_carry_the_expected_duration_and_the_outcome() {
    let r = migrate(
        "ldoms/migration-aborted-guest-stopped",
        &["--output", "json"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let events: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let first_wait = events
        .iter()
        .find(|e| e["event"] == "wait" && e["what"] == "cfguest2 DOWN in cftool -n")
        .unwrap_or_else(|| panic!("no wait event in\n{}", r.stdout));
    // The fields of old stay as they were; the new ones are added.
    assert_eq!(first_wait["elapsed_s"], 0);
    assert_eq!(first_wait["remaining_s"], 900);
    assert_eq!(first_wait["last_seen"], "UP");
    assert_eq!(first_wait["expected_s"], 600);
    assert_eq!(first_wait["expected_from"], "17.3.1.1");
    let end = events
        .iter()
        .find(|e| e["event"] == "wait_end" && e["what"] == "cfguest2 DOWN in cftool -n")
        .unwrap_or_else(|| panic!("no wait_end event in\n{}", r.stdout));
    assert_eq!(end["outcome"], "reached");
    assert!(
        end["elapsed_s"]
            .as_u64()
            .is_some_and(|s| (540..=600).contains(&s)),
        "{end}"
    );
    // A wait that reached its deadline says so.
    let r = migrate("ldoms/node-stays-leftcluster", &["--output", "json"]);
    let end = r
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["event"] == "wait_end")
        .unwrap_or_else(|| panic!("no wait_end event in\n{}", r.stdout));
    assert_eq!(end["outcome"], "not_reached");
    assert_eq!(end["elapsed_s"], 900);
    assert_eq!(end["last_seen"], "LEFTCLUSTER");
}

#[test]
fn a_script_wait_takes_an_expected_duration_and_closes() {
    let d = tempfile::tempdir().unwrap_or_else(|e| panic!("no temp dir: {e}"));
    let p = d.path().join("w.rhai");
    std::fs::write(
        &p,
        "let n = 0;\nwait_until(|| { n += 1; n == 4 }, #{timeout: 300, interval: 30, what: \"the fourth poll\", expected: 120, section: \"B5\"});\nwait_until(|| true, #{what: \"at once\"});\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let path = p.display().to_string();
    let r = hascript(&["run", &path, "--sim"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(
        lines.contains(
            &"waiting for the fourth poll: 00:00 elapsed, ~02:00 expected (B5), deadline 05:00"
        ),
        "{}",
        r.stdout
    );
    assert!(
        lines.contains(
            &"waiting for the fourth poll: 01:00 elapsed, ~02:00 expected (B5), deadline 05:00"
        ),
        "{}",
        r.stdout
    );
    assert!(
        lines.contains(&"the fourth poll: reached after 01:30"),
        "{}",
        r.stdout
    );
    // A condition that holds at once never waited: no line at all.
    assert!(!r.stdout.contains("at once"), "{}", r.stdout);
    // A bad option names itself.
    std::fs::write(&p, "wait_until(|| true, #{expected: \"soon\"});\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let r = hascript(&["run", &path, "--sim"], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("wait_until: option `expected`"),
        "{}",
        r.stderr
    );
}

#[test]
fn verbose_shows_each_command_and_its_exit_status() {
    let r = migrate("ldoms/migration-aborted-guest-stopped", &["-v"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    // A read, with its exit status once it ended.
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("[cd2] $ /usr/sbin/ldm list -p  -> exit 0 (")),
        "{}",
        r.stdout
    );
    // A change: shown before it leaves, then with its status (the failed migration: 1).
    let sending = lines
        .iter()
        .position(|l| {
            l.starts_with("[cd2] $ /usr/sbin/ldm migrate-domain ") && l.ends_with("(sending)")
        })
        .unwrap_or_else(|| panic!("no change shown as sent in\n{}", r.stdout));
    assert!(
        lines[sending..]
            .iter()
            .any(|l| l.starts_with("[cd2] $ /usr/sbin/ldm migrate-domain ")
                && l.contains("-> exit 1 (")),
        "{}",
        r.stdout
    );
    // Without -v, no command line.
    let r = migrate("ldoms/migration-aborted-guest-stopped", &[]);
    assert!(!r.stdout.contains("] $ "), "{}", r.stdout);
    // Not both.
    let r = migrate("ldoms/migration-aborted-guest-stopped", &["-v", "-q"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn quiet_keeps_warnings_errors_and_the_result_only() {
    let r = migrate("ldoms/migration-aborted-guest-stopped", &["-q"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    // No banner, step, information, wait or exposure line.
    for gone in [
        "hascript 0.1",
        "==> ",
        "preflight passed",
        "  ok   ",
        "waiting for",
        "reached after",
        "exposure:",
    ] {
        assert!(!r.stdout.contains(gone), "{gone:?} in\n{}", r.stdout);
    }
    // The result (the verified end state), the warning and the error stay.
    assert!(
        r.stdout.starts_with("Verified end state:\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("  location:                 guest2 runs on cd2"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.contains("warning: ldm migrate-domain exited 1"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("error: guest2 did not move"),
        "{}",
        r.stderr
    );
    // The same for resume/unwind's flags (parsed; nothing to resume here).
    let r = hascript(&["unwind", "nosuchrun", "-q"], &[]);
    assert_eq!(r.code, 2);
    assert!(!r.stderr.contains("unexpected argument"), "{}", r.stderr);
}

#[test]
fn no_colour_when_piped() {
    // A failed preflight: FAIL marks, a warning-free error; ok marks.
    let r = hascript(
        &[
            "run",
            "ldoms/live-migration",
            "--sim",
            "ldoms/migration-aborted-guest-stopped",
            "-p",
            "guest=guest2",
            "-p",
            "target=cd1",
            "--yes",
        ],
        &[("TERM", "xterm")],
    );
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stdout.contains("  FAIL target box"), "{}", r.stdout);
    assert!(!r.stdout.contains('\x1b'), "{:?}", r.stdout);
    assert!(!r.stderr.contains('\x1b'), "{:?}", r.stderr);
}

// ----- a real terminal ----------------------------------------------------------------

/// Run `command` (a shell line) in a 200×60 terminal; it ends with `DONE` on the screen.
fn tmux_run(name: &str, command: &str) -> Tmux {
    let t = Tmux::new(
        format!("hascript-colour-{}-{name}", std::process::id()),
        "run",
    );
    t.new_session(200, 60, &format!("{command}; echo DONE; sleep 600"));
    t
}

/// The screen with its escapes (`-e`), once `DONE` shows.
fn screen_when_done(t: &Tmux) -> String {
    let flags = ["-e", "-J", "-S", "-"];
    match t.wait_screen(&flags, Duration::from_secs(60), |s| s.contains("DONE")) {
        Ok(s) => s,
        Err(s) => panic!("the run did not end; the screen:\n{s}"),
    }
}

fn terminal_run(name: &str, state: &Path, no_color: Option<&str>) -> String {
    terminal_migration(name, state, no_color, "cd1")
}

/// `ldoms/live-migration` of guest2 to `target` on migration-aborted-guest-stopped, in a
/// terminal; the screen once it ended.
fn terminal_migration(name: &str, state: &Path, no_color: Option<&str>, target: &str) -> String {
    let env = match no_color {
        Some(v) => format!("NO_COLOR='{v}'"),
        None => "-u NO_COLOR".to_string(),
    };
    let cmd = format!(
        "env -u HASCRIPT_PATH {env} TERM=xterm XDG_STATE_HOME='{}' '{}' run ldoms/live-migration --sim ldoms/migration-aborted-guest-stopped -p guest=guest2 -p target={target} --yes",
        state.display(),
        env!("CARGO_BIN_EXE_hascript")
    );
    screen_when_done(&tmux_run(name, &cmd))
}

#[test]
fn on_a_terminal_the_closing_line_takes_the_place_of_the_progress_line() {
    let state = tempfile::tempdir().unwrap_or_else(|e| panic!("no temp dir: {e}"));
    let s = terminal_migration("wait", state.path(), Some("1"), "cd3");
    let lines: Vec<&str> = s.lines().collect();
    let step = lines
        .iter()
        .position(|l| l.starts_with("==> [17.3.1.1 note, step 1]"))
        .unwrap_or_else(|| panic!("{s}"));
    // The progress line was rewritten in place, then replaced by the closing line.
    assert!(
        lines[step + 1].starts_with("cfguest2 DOWN in cftool -n: reached after 09:"),
        "{s}"
    );
    assert!(
        lines[step + 2].starts_with("==> [17.3.1.1 note, step 2]"),
        "{s}"
    );
    assert!(!s.contains("waiting for cfguest2"), "{s}");
}

#[test]
fn colour_on_a_terminal_for_ok_fail_and_errors_unless_no_color() {
    let state = tempfile::tempdir().unwrap_or_else(|e| panic!("no temp dir: {e}"));
    let s = terminal_run("on", state.path(), None);
    // hascript's own words are styled (tmux writes bold and red as two sequences); the
    // text around them is not.
    assert!(s.contains("\x1b[32mok\x1b["), "{s:?}");
    assert!(s.contains("\x1b[31mFAIL\x1b["), "{s:?}");
    assert!(s.contains("\x1b[31merror:\x1b["), "{s:?}");
    assert!(s.contains("m target box hosts no other node"), "{s:?}");
    // NO_COLOR with any non-empty value: none.
    let s = terminal_run("off", state.path(), Some("1"));
    assert!(s.contains("  FAIL target box"), "{s:?}");
    assert!(s.contains("\nerror: preflight failed"), "{s:?}");
    assert!(!s.contains('\x1b'), "{s:?}");
    // An empty NO_COLOR does not count (no-color.org).
    let s = terminal_run("empty", state.path(), Some(""));
    assert!(s.contains("\x1b[31mFAIL\x1b["), "{s:?}");
}
