//! The LDoms migration's recovery as the run does it, through the binary (issue 12 item 3):
//! `cluster.prepare_migration` registers the routine `ldoms/recover-migration` before
//! `clovmmigrate -p` and leaves it pending; any failure after it makes the run execute that
//! procedure exactly once, against where the guest really is; the routine run again, or on
//! a site where `-p` never arrived, reads and sends nothing; a step script that ends with
//! fencing off on purpose hands the routine to the operator. (The driver-level halves are
//! drivers/ldoms/tests/recovery_routines.rs; Ctrl-C is tests/cancel.rs.)

mod sim_support;

use serde_json::{json, Value};
use sim_support::{event, is_change, text, CrashSite as Env};

const CLOVMMIGRATE_P: &str = "cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -p guest2";
const CLOVMMIGRATE_U_CD2: &str = "cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd2";

/// The change commands the site received so far, as `host: line`.
fn changes(env: &Env) -> Vec<String> {
    env.changes_sent(is_change)
}

/// guest2 runs on cd2, CF timeout 10 s and SF running with TestWorked on both nodes.
fn assert_protected_on_source(env: &Env) {
    let cd2 = env.sim_exec("cd2", &["/usr/sbin/ldm", "list", "-p"]);
    assert!(
        cd2.lines()
            .any(|l| l.contains("|name=guest2|") && l.contains("|state=active|")),
        "{cd2}"
    );
    for g in ["guest1", "guest2"] {
        let cf = env.sim_exec(g, &["/opt/SMAW/bin/cfset", "-a"]);
        assert!(cf.contains("KEY: CLUSTER_TIMEOUT VALUE: 10\n"), "{g}: {cf}");
        let sd = env.sim_exec(g, &["/opt/SMAW/bin/sdtool", "-s"]);
        assert!(
            sd.contains("TestWorked") && !sd.contains("TestFailed"),
            "{g}: {sd}"
        );
    }
}

/// The one routine registered in the journal `ls` is the migration's procedure routine and
/// the run executed it once, with `outcome`.
fn assert_routine_ran_once(ls: &[Value], outcome: &str, dump: &str) {
    let reg = event(ls, "recovery_registered");
    assert_eq!(reg.len(), 1, "{reg:?}\n{dump}");
    assert_eq!(
        reg[0]["routine"],
        json!({"procedure": "ldoms/recover-migration", "params": {"guest": "guest2"}}),
        "{dump}"
    );
    let ran = event(ls, "recovery_run");
    assert_eq!(ran.len(), 1, "{ran:?}\n{dump}");
    assert_eq!(ran[0]["id"], reg[0]["id"], "{dump}");
    assert_eq!(
        (ran[0]["outcome"].as_str(), ran[0]["by"].as_str()),
        (Some(outcome), Some("run")),
        "{dump}"
    );
}

#[test]
fn a_failure_after_prepare_migration_runs_the_recovery_procedure_once_and_restores_the_source() {
    let env = Env::init(None);
    // A site's script that stops after 17.3.1.1 (a site step failed, say).
    let script = env.script(
        "site-step.rhai",
        "cluster.prepare_migration(\"guest2\", \"cd3\");\n\
         fail(\"failed\", \"the storage team said no\");\n",
    );
    let o = env.run(&script, &[], &["--yes"]);
    let dump = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(1), "{dump}");
    assert!(dump.contains("the storage team said no"), "{dump}");
    // The routine ran (the 17.3.1.1 note: guest2 still runs on cd2, so 17.3.1.2 there) …
    assert_eq!(
        changes(&env),
        [CLOVMMIGRATE_P, CLOVMMIGRATE_U_CD2],
        "{dump}"
    );
    assert_routine_ran_once(&env.journal(), "ok", &dump);
    // … and the cluster is protected again, verified.
    assert_protected_on_source(&env);
}

#[test]
fn an_operation_refused_after_prepare_migration_runs_the_recovery_procedure() {
    let env = Env::init(None);
    // The move's own guard rail refuses (a password file that is not an absolute path)
    // after 17.3.1.1: the run recovers; the move was never sent.
    let script = env.script(
        "bad-move.rhai",
        "cluster.prepare_migration(\"guest2\", \"cd3\");\n\
         hypervisor.migrate_domain(\"guest2\", \"cd3\", #{ password_file: \"pw\" });\n",
    );
    let o = env.run(&script, &[], &["--yes"]);
    let dump = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(2), "{dump}");
    assert!(dump.contains("absolute path"), "{dump}");
    assert_eq!(
        changes(&env),
        [CLOVMMIGRATE_P, CLOVMMIGRATE_U_CD2],
        "{dump}"
    );
    assert_routine_ran_once(&env.journal(), "ok", &dump);
    assert_protected_on_source(&env);
}

#[test]
fn the_recovery_procedure_on_a_site_where_nothing_changed_sends_nothing_and_twice_is_harmless() {
    // What the routine does when clovmmigrate -p never arrived: it reads, finds 17.3.1.2
    // done where the guest runs, and sends nothing.
    let env = Env::init(None);
    let o = env.run("ldoms/recover-migration", &["guest=guest2"], &["--yes"]);
    let dump = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(0), "{dump}");
    assert!(dump.contains("nothing to do"), "{dump}");
    assert!(changes(&env).is_empty(), "{dump}");
    // After a real recovery, running it again sends nothing either.
    let env = Env::new("ldoms/migration-aborted-guest-running");
    env.sim_exec_ok(
        "cd2",
        &["/etc/opt/FJSVcluster/bin/clovmmigrate", "-p", "guest2"],
    );
    let o = env.run("ldoms/recover-migration", &["guest=guest2"], &["--yes"]);
    let dump = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(0), "{dump}");
    assert_eq!(
        changes(&env),
        [CLOVMMIGRATE_P, CLOVMMIGRATE_U_CD2],
        "{dump}"
    );
    let o = env.run("ldoms/recover-migration", &["guest=guest2"], &["--yes"]);
    let dump = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(0), "{dump}");
    assert_eq!(
        changes(&env),
        [CLOVMMIGRATE_P, CLOVMMIGRATE_U_CD2],
        "{dump}"
    );
    assert_protected_on_source(&env);
}

#[test]
fn a_lost_move_that_left_the_guest_on_the_source_recovers_against_the_source() {
    // The move fails (the scenario's migrate-domain exits 1, the guest keeps running on
    // cd2): the procedure's own 17.3.1.1-note step recovers (-u names cd2), and the passing
    // verification settles the routine: the run does not execute it a second time.
    let env = Env::new("ldoms/migration-aborted-guest-running");
    let o = env.run(
        "ldoms/live-migration",
        &["guest=guest2", "target=cd3"],
        &["--yes"],
    );
    let dump = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(1), "{dump}");
    assert_eq!(
        changes(&env),
        [
            CLOVMMIGRATE_P,
            "cd2: /usr/sbin/ldm migrate-domain guest2 cd3",
            CLOVMMIGRATE_U_CD2
        ],
        "{dump}"
    );
    let ls = env.journal();
    let ran = event(&ls, "recovery_run");
    assert_eq!(ran.len(), 1, "{ran:?}\n{dump}");
    assert_eq!(
        (ran[0]["outcome"].as_str(), ran[0]["by"].as_str()),
        (Some("not_needed"), Some("driver")),
        "{dump}"
    );
    assert!(dump.contains("[17.3.1.1 note]"), "{dump}");
    assert_protected_on_source(&env);
}

#[test]
fn pre_migration_hands_its_routine_to_the_operator_and_says_what_is_left() {
    let env = Env::init(None);
    let o = env.run(
        "ldoms/pre-migration",
        &["guest=guest2", "target=cd3"],
        &["--yes"],
    );
    let dump = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(0), "{dump}");
    assert_eq!(changes(&env), [CLOVMMIGRATE_P], "{dump}");
    // Fencing off on purpose: what is left, and which procedure finishes it.
    assert!(dump.contains("fencing is off"), "{dump}");
    assert!(dump.contains("ldoms/post-migration"), "{dump}");
    let ls = env.journal();
    let reg = event(&ls, "recovery_registered");
    assert_eq!(reg.len(), 1, "{dump}");
    let ran = event(&ls, "recovery_run");
    assert_eq!(ran.len(), 1, "{ran:?}\n{dump}");
    assert_eq!(ran[0]["outcome"], "left_for_operator", "{dump}");
    // The run did not run it: fencing is still off.
    let cf = env.sim_exec("guest1", &["/opt/SMAW/bin/cfset", "-a"]);
    assert!(cf.contains("CLUSTER_TIMEOUT VALUE: 600"), "{cf}");
}
