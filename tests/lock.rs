//! Host locks through the binary on folder-backed simulated sites: a lock held by another
//! operator refuses a run before its first change (exit 3, naming the holder), `--break-lock`
//! needs a confirmation (exit 5 without one), `--break-lock --yes` proceeds, read-only runs
//! take none, and the lock is released after success and after failure.

mod sim_support;

use serde_json::Value;
use sim_support::{text, CrashSite as Env};

const LOCK: &str = "/var/tmp/hascript.lock";

/// Whether `host` holds the lock folder: `mkdir` of it fails only when it exists (a
/// successful probe is undone).
fn has_lock(env: &Env, host: &str) -> bool {
    let made = env.sim_run(host, &["mkdir", LOCK]);
    if made.status.code() == Some(0) {
        let _ = env.sim_run(host, &["rm", "-r", LOCK]);
        false
    } else {
        assert!(
            text(&made.stderr).contains("exists"),
            "{}",
            text(&made.stderr)
        );
        true
    }
}

fn procedure_changes(ls: &[Value]) -> usize {
    ls.iter()
        .filter(|l| l["event"] == "command_start" && l["purpose"] == "procedure")
        .count()
}

const MIGRATE: [&str; 2] = ["guest=guest2", "target=cd3"];

#[test]
fn a_held_lock_refuses_the_run_before_any_change_and_names_the_holder() {
    let env = Env::new("hpvm");
    // A lock folder without an owner file (a run that died between mkdir and writing it).
    assert_eq!(
        env.sim_run("node1", &["mkdir", LOCK]).status.code(),
        Some(0)
    );
    let o = env.run("hpvm/move-package", &["package=slvm1", "target=node2"], &[]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("node1 is locked by unknown holder") && err.contains("--break-lock"),
        "{err}"
    );
    // Another operator's run holds node1, with its owner file as hascript writes it
    // (written here by a read-only script: `changes: false` takes no lock).
    let dir = tempfile::tempdir().expect("tempdir");
    let writer = dir.path().join("owner.rhai");
    std::fs::write(
        &writer,
        "host(\"node1\").run([\"/bin/dd\", \"of=/var/tmp/hascript.lock/owner\"], #{changes: false, stdin: \"run=20260728T172600Z-0a0b0c\\nuser=alice\\norigin=adm9\\nsince=2026-07-28T17:26:00.000Z\\npid=4242\\n\"});\n",
    )
    .expect("write");
    let w = env.run(writer.to_str().expect("utf8"), &[], &[]);
    assert_eq!(w.status.code(), Some(0), "{}", text(&w.stderr));
    let o = env.run("hpvm/move-package", &["package=slvm1", "target=node2"], &[]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("node1 is locked by run 20260728T172600Z-0a0b0c by alice on adm9 (pid 4242) since 2026-07-28T17:26:00.000Z"),
        "{err}"
    );
    let ls = env.last_journal();
    assert_eq!(
        procedure_changes(&ls),
        0,
        "nothing of the procedure was sent"
    );
    assert!(ls
        .iter()
        .any(|l| l["event"] == "lock" && l["action"] == "refused"));
    assert_eq!(ls.last().map(|l| l["exit"].clone()), Some(Value::from(3)));
    // The other run's lock is untouched.
    assert!(has_lock(&env, "node1"));
}

#[test]
fn a_lock_on_the_target_refuses_the_move_before_any_change() {
    // The target receives no command on the main path, but the bracket involves it: a run
    // holding it (another operator moving something onto it) stops this one first.
    for (scenario, script, params, target) in [
        ("ldoms", "ldoms/live-migration", MIGRATE, "cd3"),
        (
            "hpvm",
            "hpvm/move-package",
            ["package=slvm1", "target=node2"],
            "node2",
        ),
    ] {
        let env = Env::new(scenario);
        assert_eq!(env.sim_run(target, &["mkdir", LOCK]).status.code(), Some(0));
        let o = env.run(script, &params, &[]);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(3), "{script}: {err}");
        assert!(
            err.contains(&format!("{target} is locked")),
            "{script}: {err}"
        );
        let ls = env.last_journal();
        assert_eq!(procedure_changes(&ls), 0, "{script}: nothing was sent");
        assert!(has_lock(&env, target), "{script}: the other lock is kept");
    }
}

#[test]
fn break_lock_needs_a_confirmation_and_then_proceeds() {
    let env = Env::new("ldoms");
    assert_eq!(env.sim_run("cd2", &["mkdir", LOCK]).status.code(), Some(0));
    // No terminal, no --yes: declined (exit 5), nothing sent, lock kept.
    let o = env.run("ldoms/live-migration", &MIGRATE, &["--break-lock"]);
    assert_eq!(o.status.code(), Some(5), "{}", text(&o.stderr));
    assert_eq!(procedure_changes(&env.last_journal()), 0);
    assert!(has_lock(&env, "cd2"));
    // With --yes: broken, the run proceeds, and releases its own lock at the end.
    let o = env.run("ldoms/live-migration", &MIGRATE, &["--break-lock", "--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let ls = env.last_journal();
    let actions: Vec<&str> = ls
        .iter()
        .filter(|l| l["event"] == "lock")
        .filter_map(|l| l["action"].as_str())
        .collect();
    // cd2 was broken and taken; cd3 (the target) is locked too; both released.
    assert_eq!(
        actions,
        ["broken", "taken", "taken", "released", "released"]
    );
    assert!(ls
        .iter()
        .any(|l| l["event"] == "confirm" && l["answer"] == true));
    assert_eq!(procedure_changes(&ls), 3);
    assert!(!has_lock(&env, "cd2"));
}

#[test]
fn read_only_runs_take_no_lock_and_stay_unchanged() {
    let env = Env::new("ldoms");
    // Held by someone else: a read-only procedure still runs (it takes no lock).
    assert_eq!(env.sim_run("cd2", &["mkdir", LOCK]).status.code(), Some(0));
    let o = env.run("ldoms/verify-fence", &[], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let ls = env.last_journal();
    assert!(!ls.iter().any(|l| l["event"] == "lock"));
    assert!(!ls.iter().any(|l| l["event"] == "command_start"));
    let res = ls.last().expect("result");
    assert_eq!(
        (res["changed"].as_bool(), res["changes"].as_i64()),
        (Some(false), Some(0))
    );
    assert!(has_lock(&env, "cd2"));
}

#[test]
fn the_lock_is_released_after_success_and_after_failure() {
    // Success.
    let env = Env::new("hpvm");
    let o = env.run("hpvm/move-package", &["package=slvm1", "target=node2"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(!has_lock(&env, "node1"));
    assert!(!has_lock(&env, "node2"));
    // Failure after changes: the migration aborts, recovery runs (exit 1), lock released.
    let env = Env::new("ldoms/migration-aborted-guest-running");
    let o = env.run("ldoms/live-migration", &MIGRATE, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let ls = env.last_journal();
    assert!(procedure_changes(&ls) > 0);
    let actions: Vec<&str> = ls
        .iter()
        .filter(|l| l["event"] == "lock")
        .filter_map(|l| l["action"].as_str())
        .collect();
    // Source and target, both released after the failure.
    assert_eq!(actions, ["taken", "taken", "released", "released"]);
    assert!(!has_lock(&env, "cd2"));
    assert!(!has_lock(&env, "cd3"));
    // The lock's own commands never made the exit code "changed": a failed precondition
    // on a locked-then-released site still exits 3.
    let env = Env::new("ldoms/unhealthy-cluster");
    let o = env.run("ldoms/live-migration", &MIGRATE, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
}
