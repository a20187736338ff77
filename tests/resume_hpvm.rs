//! Resume and unwind after a crash on the Serviceguard side (issue 5 item 4), through the
//! binary on a folder-backed simulated site (`--sim-state`), like `tests/resume.rs` does for
//! LDoms.
//!
//! The SIGKILL sweep kills `hpvm/move-package -p package=slvm1 -p target=node2` after its
//! k-th journal line — every second line from the step that takes the locks to the end (the
//! locks, the registration of `recover_move`, `cmmovevpkg`, the verification, the summary,
//! the release of the locks), every fourth line of the read-only preflight — then runs
//! `resume` or `unwind` alternately. Each time: slvm1 runs on exactly one VM host
//! (`hpvmstatus -P slvm1` on both), the package is up there and owned by that host with
//! package switching enabled (`cmviewcl -v -f line`), no lock is left on either VM host, and
//! no completed change command (`cmmovevpkg`, `cmmodpkg -e`) reached the hosts twice (the
//! simulated hosts' command log).
//!
//! Also: the same around a failing `hpvmmigrate` (scenario `hpvm/hpvmmigrate-fails`); the
//! windows a poll rarely hits, made by hand (a lock's `mkdir` and `cmmovevpkg` sent with no
//! outcome recorded); and a resume or unwind that is itself killed, then continued.

mod sim_support;

use serde_json::Value;
use sim_support::{
    assert_no_lock, assert_sent_once, guest_state, in_parallel, is_change, lines, package_key,
    run_id, sweep, text, CrashSite, Sweep,
};

const MOVE: &str = "hpvm/move-package";
const PARAMS: &[&str] = &["package=slvm1", "target=node2"];
/// The VM hosts of the default site.
const NODES: &[&str] = &["node1", "node2"];

/// slvm1 runs on exactly one VM host, the package is up/running there, owned by it, with
/// package switching enabled. Returns that host.
fn assert_protected(env: &CrashSite, what: &str) -> String {
    env.assert_slvm1_protected(what)
}

#[test]
fn the_end_state_readers_follow_the_driver_contract() {
    let details = "[Virtual Machine Details]\n\
        Virtual Machine Name VM #  OS Type State\n\
        ==================== ===== ======= ========\n\
        slvm1                    8 HPUX    Off (NR)\n\n\
        [Storage Interface Details]\n";
    assert_eq!(guest_state(details, "slvm1").as_deref(), Some("Off (NR)"));
    assert_eq!(guest_state(details, "slvm2"), None);
    assert_eq!(
        guest_state("hpvmstatus: Unable to find the guest 'slvm1'.\n", "slvm1"),
        None
    );
    let view = "package:slvm1|status=up\npackage:slvm1|owner=node2\npackage:slvm10|owner=node1\n";
    assert_eq!(package_key(view, "slvm1", "owner"), Some("node2"));
    assert_eq!(package_key(view, "slvm1", "autorun"), None);
}

/// Kill points of a complete run's journal: every second line from the step that takes the
/// locks (the first change) to the end, and every fourth line of the read-only preflight
/// before it (a run killed there changed nothing: any of them is like the others).
fn every_line_of_the_changes(complete: &[Value]) -> Vec<usize> {
    let first_change = complete
        .iter()
        .position(|l| l["event"] == "command_start")
        .expect("a change");
    let step = complete[..first_change]
        .iter()
        .rposition(|l| l["event"] == "step")
        .expect("its step");
    (1..=step)
        .step_by(4)
        .chain((step + 1..complete.len()).step_by(2))
        .collect()
}

#[test]
fn sigkill_at_every_point_of_move_package_then_resume_or_unwind() {
    let t = std::time::Instant::now();
    // A resume completes the move; an unwind leaves slvm1 where the dead run left it.
    let check = |env: &CrashSite, unwind: bool, what: &str| {
        let host = assert_protected(env, what);
        let moved = !unwind || cmmovevpkg_sent(env) == 1;
        assert_eq!(host, if moved { "node2" } else { "node1" }, "{what}");
    };
    let done = sweep(&Sweep {
        scenario: "hpvm",
        script: MOVE,
        params: PARAMS,
        points: &every_line_of_the_changes,
        run_exit: 0,
        exit: &|_, _| 0,
        lock_hosts: NODES,
        is_change,
        check: &check,
    });
    eprintln!(
        "{} kills over {} journal lines ({} resumed, {} unwound); {} with an unknown outcome; {:.1} s",
        done.killed,
        done.full,
        done.resumed,
        done.unwound,
        done.unknown,
        t.elapsed().as_secs_f64()
    );
    for (n, last) in &done.points {
        eprintln!("  killed after line {n}: {last}");
    }
    assert!(done.killed >= 28, "{done:?}");
    assert!(done.resumed >= 12 && done.unwound >= 12, "{done:?}");
    assert!(done.pending >= 5, "{done:?}");
}

#[test]
fn sigkill_around_a_failing_hpvmmigrate_then_resume_or_unwind() {
    // The scenario's first online migration fails: cmmovevpkg exits 1 with switching left
    // disabled, and the bracket's recovery enables it again on node1 (exit 1). Killed every
    // second line from the registration of recover_move to its settlement, then resumed or
    // unwound: slvm1 is protected on one host every time. An unwind ends on node1. A resume
    // recovers first; a cmmovevpkg the dead run saw fail is never sent again (the resumed run
    // ends as the dead run would have, exit 1, `recovery.prior_change`). Only one whose
    // outcome the journal never recorded is sent again, because `--retry-unknown` asks for
    // it; that second attempt succeeds in this scenario and the guest ends on node2.
    let check = |env: &CrashSite, _unwind: bool, what: &str| {
        let host = assert_protected(env, what);
        let moves = cmmovevpkg_sent(env);
        assert_eq!(host, if moves == 2 { "node2" } else { "node1" }, "{what}");
    };
    let done = sweep(&Sweep {
        scenario: "hpvm/hpvmmigrate-fails",
        script: MOVE,
        params: PARAMS,
        points: &|complete| {
            let at = |pred: &dyn Fn(&Value) -> bool| {
                complete.iter().position(pred).expect("in the complete run") + 1
            };
            let sent = at(&|l| {
                l["event"] == "command_start"
                    && l["command"].as_str().unwrap_or("").contains("/cmmovevpkg ")
            });
            let settled = at(&|l| l["event"] == "recovery_run");
            (sent - 1..=settled + 1).step_by(2).collect()
        },
        run_exit: 1,
        exit: &|env, unwind| i32::from(!unwind && cmmovevpkg_sent(env) < 2),
        lock_hosts: NODES,
        is_change,
        check: &check,
    });
    eprintln!(
        "{} kills ({} resumed, {} unwound); {} with an unknown outcome; {} with a routine pending",
        done.killed, done.resumed, done.unwound, done.unknown, done.pending
    );
    assert!(done.killed >= 6 && done.pending >= 4, "{done:?}");
}

/// How many `cmmovevpkg` the site received.
fn cmmovevpkg_sent(env: &CrashSite) -> usize {
    env.changes_sent(is_change)
        .iter()
        .filter(|c| c.contains("/cmmovevpkg "))
        .count()
}

/// A dead run made of a complete run's journal cut after line `upto` (1-based), as run `id`
/// on `env`'s site (its header names `env`'s folder, its process is gone).
fn dead_run(env: &CrashSite, complete: &[Value], upto: usize, id: &str) {
    let runs = env.state_home.join("hascript").join("runs");
    std::fs::create_dir_all(&runs).expect("runs dir");
    let text: Vec<String> = complete[..upto]
        .iter()
        .map(|l| {
            let mut l = l.clone();
            l["run"] = id.into();
            if l["event"] == "run" {
                l["pid"] = 0.into();
                l["site"]["state"] = env.site_str().into();
            }
            l.to_string()
        })
        .collect();
    std::fs::write(runs.join(format!("{id}.jsonl")), text.join("\n") + "\n").expect("write");
}

/// How many lines of `complete` go up to the first `command_start` of a command holding
/// `what` (a run killed there had sent it, with no outcome recorded).
fn through_start_of(complete: &[Value], what: &str) -> usize {
    1 + complete
        .iter()
        .position(|l| {
            l["event"] == "command_start" && l["command"].as_str().unwrap_or("").contains(what)
        })
        .unwrap_or_else(|| panic!("{what} was sent"))
}

/// The journal of a complete move of slvm1 to node2 on a fresh default site.
fn complete_move() -> Vec<Value> {
    let env = CrashSite::new("hpvm");
    let o = env.run_cmd(MOVE, PARAMS).output().expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    lines(&env.journals()[0])
}

#[test]
fn a_run_killed_inside_its_lock_mkdir_leaves_no_lock_behind() {
    // SIGKILL after the lock's `mkdir` was journaled (command_start) and made on a node, before
    // its end was written: the lock folder exists without an owner file, and only the
    // command_start says who made it.
    let complete = complete_move();
    let upto = through_start_of(&complete, "/bin/mkdir ");
    for (verb, id) in [
        ("resume", "20000101T000000.000Z-00000a"),
        ("unwind", "20000101T000000.000Z-00000b"),
    ] {
        let env = CrashSite::new("hpvm");
        dead_run(&env, &complete, upto, id);
        // The hosts are locked in parallel: the first lock made is node1's or node2's.
        let locked = complete[upto - 1]["host"].as_str().unwrap_or("node1");
        env.sim_exec_ok(
            locked,
            &["/bin/mkdir", "-m", "700", "/var/tmp/hascript.lock"],
        );
        let o = env.hascript(&[verb, id]);
        let out = format!("{}{}", text(&o.stdout), text(&o.stderr));
        assert_eq!(o.status.code(), Some(0), "{verb}:\n{out}");
        let host = assert_protected(&env, verb);
        assert_eq!(
            host,
            if verb == "resume" { "node2" } else { "node1" },
            "{verb}"
        );
        assert_no_lock(&env, NODES, verb);
    }
}

#[test]
fn a_cmmovevpkg_with_an_unknown_outcome_is_retried_only_when_asked_and_never_twice() {
    // SIGKILL after cmmovevpkg's command_start was synced, before its end: the move may or may
    // not have happened. (The dead run's locks are not reproduced: the continuation takes
    // fresh ones.)
    let complete = complete_move();
    let upto = through_start_of(&complete, "/cmmovevpkg ");
    let mut n = 0;
    for applied in [false, true] {
        for verb in ["resume", "unwind"] {
            n += 1;
            let id = format!("20000101T000000.000Z-0000c{n}");
            let what = format!("{verb}, cmmovevpkg applied: {applied}");
            let env = CrashSite::new("hpvm");
            dead_run(&env, &complete, upto, &id);
            if applied {
                env.sim_exec_ok(
                    "node1",
                    &[
                        "/etc/cmcluster/scripts/tkit/vtn/cmmovevpkg",
                        "-v",
                        "-P",
                        "slvm1",
                        "-h",
                        "node2",
                    ],
                );
            }
            let o = if verb == "resume" {
                // Listed as unknown; without the option (and no terminal) nothing runs.
                let refused = env.hascript(&["resume", &id]);
                let err = text(&refused.stderr);
                assert_eq!(refused.status.code(), Some(5), "{what}: {err}");
                assert!(
                    err.contains("cmmovevpkg -v -P slvm1 -h node2")
                        && err.contains("--retry-unknown"),
                    "{what}: {err}"
                );
                env.hascript(&["resume", &id, "--retry-unknown"])
            } else {
                env.hascript(&["unwind", &id])
            };
            let out = format!("{}{}", text(&o.stdout), text(&o.stderr));
            assert_eq!(o.status.code(), Some(0), "{what}:\n{out}");
            let host = assert_protected(&env, &what);
            let moved = verb == "resume" || applied;
            assert_eq!(host, if moved { "node2" } else { "node1" }, "{what}");
            // The procedure read the state before sending it again: once on the site at most.
            assert_eq!(cmmovevpkg_sent(&env), usize::from(moved), "{what}:\n{out}");
            assert_no_lock(&env, NODES, &what);
        }
    }
}

/// `resume ID --retry-unknown` or `unwind ID`.
fn continue_run(env: &CrashSite, unwind: bool, id: &str) -> std::process::Command {
    if unwind {
        env.cmd(&["unwind", id])
    } else {
        env.cmd(&["resume", id, "--retry-unknown"])
    }
}

#[test]
fn a_continuation_killed_in_turn_is_continued_and_owes_what_its_dead_run_left() {
    // The first run dies after its cmmovevpkg failed (routine pending, package switching
    // disabled, both VM hosts locked); the resume or unwind of it is killed after its j-th
    // journal line for j over its whole run (locks taken over one by one, the routine
    // inherited, the recovery, the release); then that continuation is resumed or unwound.
    // Each time the chain ends protected, with no lock left and no change sent twice.
    let scenario = "hpvm/hpvmmigrate-fails";
    // Killed once cmmovevpkg's end is journaled (its start is the line before).
    let after_move = 1 + through_start_of(&complete_move(), "/cmmovevpkg ");
    let first_dead = |env: &CrashSite| -> Vec<Value> {
        let dead = env
            .kill_after(env.run_cmd(MOVE, PARAMS), after_move)
            .expect("killed before the end");
        let moved = dead.iter().any(|l| {
            l["event"] == "command_end"
                && l["command"].as_str().unwrap_or("").contains("/cmmovevpkg ")
        });
        assert!(moved, "killed after cmmovevpkg ended: {:?}", dead.last());
        dead
    };
    // How long a continuation's journal is.
    let full = |unwind: bool| {
        let env = CrashSite::new(scenario);
        let dead = first_dead(&env);
        let o = continue_run(&env, unwind, &run_id(&dead))
            .output()
            .expect("continue");
        // A resume ends as the dead run would have: its failed move is not retried.
        assert_eq!(
            o.status.code(),
            Some(if unwind { 0 } else { 1 }),
            "{}",
            text(&o.stderr)
        );
        lines(env.journals().last().expect("journal")).len()
    };
    let (resume_len, unwind_len) = (full(false), full(true));
    let points: Vec<(bool, usize, bool)> = (2..resume_len)
        .step_by(6)
        .map(|j| (false, j))
        .chain((2..unwind_len).step_by(5).map(|j| (true, j)))
        .enumerate()
        .map(|(i, (middle, j))| (middle, j, i % 2 == 1))
        .collect();
    let cases = std::sync::atomic::AtomicUsize::new(0);
    in_parallel(&points, |&(middle, j, last)| {
        let env = CrashSite::new(scenario);
        let dead = first_dead(&env);
        let Some(cut) = env.kill_after(continue_run(&env, middle, &run_id(&dead)), j) else {
            return;
        };
        cases.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let verb = |u: bool| if u { "unwind" } else { "resume" };
        let what = format!(
            "{} killed after line {} ({} {}), then {}",
            verb(middle),
            cut.len(),
            cut.last()
                .map(|l| l["event"].to_string())
                .unwrap_or_default(),
            cut.last()
                .and_then(|l| l["command"].as_str())
                .unwrap_or_default(),
            verb(last)
        );
        if middle && !last {
            // An unwind is continued by unwinding it, never resumed.
            let o = env.hascript(&["resume", &run_id(&cut)]);
            assert_eq!(o.status.code(), Some(2), "{what}");
            let err = text(&o.stderr);
            assert!(
                err.contains(&format!(
                    "continue it with `hascript unwind {}`",
                    run_id(&cut)
                )),
                "{what}: {err}"
            );
            // And the first run points at its unwind with the right verb.
            let o = env.hascript(&["resume", &run_id(&dead)]);
            assert!(
                text(&o.stderr).contains(&format!("`hascript unwind {}` continues", run_id(&cut))),
                "{what}: {}",
                text(&o.stderr)
            );
        }
        let last = last || middle;
        let o = continue_run(&env, last, &run_id(&cut))
            .output()
            .expect("continue");
        let out = format!("{}{}", text(&o.stdout), text(&o.stderr));
        // An unwind ends 0; a resume ends as the dead run would have (its failed move is
        // never retried): 1.
        assert_eq!(
            o.status.code(),
            Some(if last { 0 } else { 1 }),
            "{what}:\n{out}"
        );
        let host = assert_protected(&env, &what);
        assert_eq!(host, "node1", "{what}");
        assert_eq!(cmmovevpkg_sent(&env), 1, "{what}");
        assert_sent_once(&env, is_change, &what, &|_| false);
        assert_no_lock(&env, NODES, &what);
    });
    let cases = cases.into_inner();
    eprintln!("{cases} continuations killed and continued (journals of {resume_len} and {unwind_len} lines)");
    assert!(cases >= 15, "{cases}");
}
