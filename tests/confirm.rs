//! Confirmations (issue 5, item 6) through the binary on folder-backed simulated sites:
//! removing saved spconfigs, removing a package (running or halted), converting a package
//! (offline and online), halting a running package, breaking a lock. Each one asks on a
//! terminal (a pseudo-terminal here: "n" declines, "y" proceeds), `--yes` answers yes, and
//! with no terminal and no `--yes` the run stops with exit 5 saying what it needed, before
//! anything is changed. The main path of `ldoms/live-migration` and `hpvm/move-package`
//! asks nothing (no `confirm` event in `--output json`).

mod cli_support;
mod sim_support;

use std::io::Write;
use std::process::Stdio;

use sim_support::{Run, Site};

/// How standard input is given to the run.
enum Input<'a> {
    /// No terminal (`/dev/null`).
    Null,
    /// A pseudo-terminal on which `answer` is typed.
    Tty(&'a str),
}

/// Run `script` on `site` with `input` as standard input.
fn run(site: &Site, script: &str, params: &[&str], extra: &[&str], input: Input) -> Run {
    let before = site.log().len();
    let mut c = cli_support::command(
        ["run", script, "--sim", "--sim-state"],
        cli_support::build_tmp(),
    );
    c.arg(&site.state).env("NO_COLOR", "1");
    for p in params {
        c.args(["-p", p]);
    }
    c.args(extra);
    let mut master = None;
    match input {
        Input::Null => {
            c.stdin(Stdio::null());
        }
        Input::Tty(answer) => {
            let (mut m, s) = cli_support::pty();
            // Typed ahead: the terminal's line discipline keeps it until the question is read.
            // Each question of the run gets the same answer (a run reading more lines than
            // typed would wait for ever: offer plenty).
            m.write_all(format!("{answer}\n").repeat(8).as_bytes())
                .expect("type on the terminal");
            c.stdin(Stdio::from(s));
            master = Some(m);
        }
    }
    let out = cli_support::output(&mut c, &[], None);
    drop(master);
    let log = site.log();
    Run {
        code: out.code,
        stdout: out.stdout,
        stderr: out.stderr,
        log: log
            .get(before..)
            .map(<[String]>::to_vec)
            .unwrap_or_default(),
    }
}

/// One confirmed case: `question` is (part of) what is asked, `change` (part of) the first
/// change command the confirmation guards.
struct Case<'a> {
    scenario: Option<&'a str>,
    script: &'a str,
    params: &'a [&'a str],
    extra: &'a [&'a str],
    question: &'a str,
    change: &'a str,
    /// A setup on the fresh site before the runs.
    setup: fn(&Site),
}

fn no_setup(_: &Site) {}

/// The four answers of one case, each on a fresh site: no terminal and no `--yes` (exit 5,
/// saying what was needed, nothing changed), "n" on a terminal (exit 5, asked, nothing
/// changed), "y" on a terminal (asked, the change sent), `--yes` (the change sent).
fn check(case: &Case) {
    let fresh = || {
        let s = Site::new(case.scenario);
        (case.setup)(&s);
        s
    };
    let site = fresh();
    let r = run(&site, case.script, case.params, case.extra, Input::Null);
    assert_eq!(
        r.code,
        5,
        "{}: no terminal, no --yes: {}",
        case.script,
        r.dump()
    );
    assert!(
        r.stderr.contains("confirmation needed but no terminal")
            && r.stderr.contains("--yes")
            && r.stderr.contains(case.question),
        "{}: says what it needed: {}",
        case.script,
        r.dump()
    );
    assert!(
        r.changes().is_empty(),
        "{}: changed without an answer: {:?}",
        case.script,
        r.changes()
    );

    let site = fresh();
    let r = run(&site, case.script, case.params, case.extra, Input::Tty("n"));
    assert_eq!(r.code, 5, "{}: answered n: {}", case.script, r.dump());
    assert!(
        r.stdout.contains(case.question) && r.stdout.contains("[y/N]"),
        "{}: asked on the terminal: {}",
        case.script,
        r.dump()
    );
    assert!(
        r.changes().is_empty(),
        "{}: changed after n: {:?}",
        case.script,
        r.changes()
    );

    let site = fresh();
    let r = run(&site, case.script, case.params, case.extra, Input::Tty("y"));
    assert!(
        r.stdout.contains(case.question) && r.stdout.contains("[y/N]"),
        "{}: asked on the terminal: {}",
        case.script,
        r.dump()
    );
    assert!(
        r.changes().iter().any(|c| c.contains(case.change)),
        "{}: y sends {}: {}",
        case.script,
        case.change,
        r.dump()
    );
    assert_eq!(r.code, 0, "{}: answered y: {}", case.script, r.dump());

    let site = fresh();
    let mut extra = case.extra.to_vec();
    extra.push("--yes");
    let r = run(&site, case.script, case.params, &extra, Input::Null);
    assert_eq!(r.code, 0, "{}: --yes: {}", case.script, r.dump());
    assert!(
        r.stdout.contains(case.question) && r.stdout.contains("yes (--yes)"),
        "{}: --yes answers: {}",
        case.script,
        r.dump()
    );
    assert!(
        r.changes().iter().any(|c| c.contains(case.change)),
        "{}: --yes sends {}: {}",
        case.script,
        case.change,
        r.dump()
    );
}

#[test]
fn removing_saved_spconfigs_asks() {
    check(&Case {
        scenario: Some("ldoms/seven-spconfigs"),
        script: "ldoms/live-migration",
        params: &["guest=guest2", "target=cd3"],
        extra: &[],
        question: "remove config_20260101 on cd2",
        change: "ldm remove-spconfig config_20260101",
        setup: no_setup,
    });
}

#[test]
fn removing_a_running_package_asks_before_halting_it() {
    check(&Case {
        scenario: Some("hpvm"),
        script: "hpvm/remove-package",
        params: &["package=slvm1"],
        extra: &[],
        question: "halt it (this stops the VM) before removing it",
        change: "cmhaltpkg slvm1",
        setup: no_setup,
    });
}

#[test]
fn removing_a_halted_package_asks_too() {
    check(&Case {
        scenario: Some("hpvm/guest-not-running"),
        script: "hpvm/remove-package",
        params: &["package=slvm1"],
        extra: &[],
        question: "remove package slvm1 from the cluster",
        change: "cmdeployvpkg -P slvm1 -U",
        setup: no_setup,
    });
}

#[test]
fn an_offline_conversion_asks_before_halting_the_package() {
    check(&Case {
        scenario: Some("hpvm/old-toolkit-package"),
        script: "hpvm/convert-package",
        params: &["package=slvm1", "mode=offline"],
        // Re-adding the old package's services is asked too: answered the same way.
        extra: &[],
        question: "offline conversion halts package slvm1",
        change: "cmhaltpkg slvm1",
        setup: no_setup,
    });
}

#[test]
fn an_online_conversion_asks() {
    check(&Case {
        scenario: Some("hpvm/old-toolkit-package"),
        script: "hpvm/convert-package",
        params: &["package=slvm1", "mode=online", "target=node2"],
        extra: &[],
        question: "online conversion replaces the package configuration of slvm1",
        change: "cmdeployvpkg -Q -C -P slvm1 -h node2",
        setup: no_setup,
    });
}

#[test]
fn halting_a_running_package_asks_and_a_halted_one_does_not() {
    check(&Case {
        scenario: Some("hpvm"),
        script: "hpvm/halt-package",
        params: &["package=slvm1"],
        extra: &[],
        question: "package slvm1 is up/running on node1: halt it",
        change: "cmhaltpkg slvm1",
        setup: no_setup,
    });
    let site = Site::new(Some("hpvm/guest-not-running"));
    let r = run(
        &site,
        "hpvm/halt-package",
        &["package=slvm1"],
        &[],
        Input::Null,
    );
    assert_eq!(r.code, 0, "{}", r.dump());
    assert!(!r.all().contains("[y/N]"), "{}", r.dump());
    assert!(r.changes().is_empty(), "{:?}", r.changes());
}

/// A lock left on cd2 by a run that died between `mkdir` and writing its owner file.
fn stale_lock_on_cd2(site: &Site) {
    site.exec_ok("cd2", &["mkdir", "/var/tmp/hascript.lock"]);
}

#[test]
fn breaking_a_lock_asks() {
    check(&Case {
        scenario: None,
        script: "ldoms/live-migration",
        params: &["guest=guest2", "target=cd3"],
        extra: &["--break-lock"],
        question: "cd2 is locked by",
        change: "clovmmigrate -p",
        setup: stale_lock_on_cd2,
    });
    // Without --break-lock nothing is asked: refused, naming the holder (exit 3).
    let site = Site::new(None);
    stale_lock_on_cd2(&site);
    let r = run(
        &site,
        "ldoms/live-migration",
        &["guest=guest2", "target=cd3"],
        &["--yes"],
        Input::Null,
    );
    assert_eq!(r.code, 3, "{}", r.dump());
    assert!(!r.all().contains("Break this lock"), "{}", r.dump());
    assert!(r.changes().is_empty(), "{:?}", r.changes());
}

/// The `confirm` events of a `--output json` run.
fn confirms(r: &Run) -> Vec<serde_json::Value> {
    r.stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["event"] == "confirm")
        .collect()
}

#[test]
fn the_main_paths_of_live_migration_and_move_package_ask_nothing() {
    for (scenario, script, params) in [
        (
            None,
            "ldoms/live-migration",
            &["guest=guest2", "target=cd3"][..],
        ),
        (
            Some("hpvm"),
            "hpvm/move-package",
            &["package=slvm1", "target=node2"][..],
        ),
    ] {
        let site = Site::new(scenario);
        // No terminal and no --yes: a single question would end the run with exit 5.
        let r = run(&site, script, params, &["--output", "json"], Input::Null);
        assert_eq!(r.code, 0, "{script}: {}", r.dump());
        assert!(!r.changes().is_empty(), "{script}: {}", r.dump());
        let lines = r.stdout.lines().filter(|l| l.starts_with('{')).count();
        assert!(lines > 10, "{script}: json events: {}", r.dump());
        assert!(confirms(&r).is_empty(), "{script}: {:?}", confirms(&r));
        // The control: a confirmed procedure does show its question as a `confirm` event.
        let r = run(
            &Site::new(Some("hpvm")),
            "hpvm/halt-package",
            &["package=slvm1"],
            &["--output", "json", "--yes"],
            Input::Null,
        );
        assert_eq!(r.code, 0, "{}", r.dump());
        let c = confirms(&r);
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!(c[0]["answer"], true, "{c:?}");
    }
}
