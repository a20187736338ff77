//! Interlocks hold whatever the script says (ARCHITECTURE.md, "Interlocks and script
//! checks"): a site script that skips the procedure's steps and calls an operation directly
//! is refused by the operation itself, before anything is sent.

mod sim_support;

use sim_support::{text, CrashSite};

/// Run the script `body` on a fresh site from `scenario`: exit code, output, changes sent.
fn run(scenario: &str, body: &str) -> (Option<i32>, String, Vec<String>) {
    let env = CrashSite::new(scenario);
    let script = env.script("site.rhai", body);
    let o = env.run(&script, &[], &["--yes"]);
    let out = format!("{}{}", text(&o.stdout), text(&o.stderr));
    (
        o.status.code(),
        out,
        env.changes_sent(sim_support::is_change),
    )
}

#[test]
fn prepare_migration_refuses_a_guest_that_does_not_run() {
    // guest2 is bound but inactive on cd2: 17.3.1.1 would turn fencing off with nothing to
    // move.
    let (code, out, changes) = run(
        "ldoms/guest-inactive",
        "cluster.prepare_migration(\"guest2\", \"cd3\");\n",
    );
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains("17.3.1.1 needs a running guest"), "{out}");
    assert!(
        !changes.iter().any(|c| c.contains("clovmmigrate")),
        "{changes:?}\n{out}"
    );
}

#[test]
fn a_script_that_skips_17_3_1_1_cannot_move_the_guest() {
    // The move without 17.3.1.1 first: the guest-cluster node would be fenced mid-move.
    let (code, out, changes) = run("ldoms", "hypervisor.migrate_domain(\"guest2\", \"cd3\");\n");
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains("17.3.1.1 is not in effect"), "{out}");
    assert!(changes.is_empty(), "{changes:?}\n{out}");
}
