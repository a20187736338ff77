//! Resume and unwind after a crash (issue 5 item 4), through the binary on a folder-backed
//! simulated site (`--sim-state`).
//!
//! The SIGKILL test kills `ldoms/live-migration` after its k-th journal line, for k over
//! the whole run (before, inside and after the move: virtual waits take no real time, so
//! the journal is polled tightly), then runs `resume` or `unwind`. Each time: the guest is
//! on exactly one control domain, the CF timeout is 10 s and the shutdown facility runs on
//! every guest node, and no completed change was sent twice (the simulated hosts' command
//! log).

use std::process::Command;

use serde_json::Value;

mod sim_support;

use sim_support::{lines, run_id, sweep, text, CrashSite, Sweep};

/// `ldoms/live-migration -p guest=guest2 -p target=cd3 --yes` on the site.
fn live_migration(env: &CrashSite) -> Command {
    env.run_cmd("ldoms/live-migration", &["guest=guest2", "target=cd3"])
}

/// The procedure's change commands (the lock's own bookkeeping is not the cluster's).
fn is_change(line: &str) -> bool {
    [
        "clovmmigrate -p",
        "clovmmigrate -u",
        "start-domain",
        "stop-domain",
        "cancel-operation",
    ]
    .iter()
    .any(|c| line.contains(c))
        || (line.contains("ldm migrate-domain") && !line.contains("migrate-domain -n"))
}

/// Guest on exactly one control domain, CF timeout 10 s and SF running on every node.
fn assert_protected(env: &CrashSite, what: &str) {
    env.assert_guest2_protected(what);
}

#[test]
fn sigkill_at_every_point_of_live_migration_then_resume_or_unwind() {
    let check = |env: &CrashSite, _unwind: bool, what: &str| assert_protected(env, what);
    let done = sweep(&Sweep {
        scenario: "ldoms",
        script: "ldoms/live-migration",
        params: &["guest=guest2", "target=cd3"],
        points: &|complete| (40..complete.len()).step_by(2).collect(),
        run_exit: 0,
        exit: &|_, _| 0,
        lock_hosts: &["cd2", "cd3"],
        is_change,
        check: &check,
    });
    assert!(
        done.killed >= 20,
        "only {} runs were killed before they ended",
        done.killed
    );
    assert!(done.resumed >= 8 && done.unwound >= 8, "{done:?}");
    eprintln!(
        "{} kills ({} resumed, {} unwound); {} with an unknown outcome",
        done.killed, done.resumed, done.unwound, done.unknown
    );
}

#[test]
fn a_resumed_script_replays_completed_steps_and_runs_the_rest() {
    let env = CrashSite::new("ldoms");
    let dir = env.state_home.parent().expect("dir").to_path_buf();
    let script = dir.join("steps.rhai");
    // Step 1 reads a value; step 2 waits on the site (virtual time) then records it; the
    // run is killed between them by a marker file the test removes.
    std::fs::write(
        &script,
        "let a = step(\"A\", \"read the CF timeout\", || cluster.timeout());\n\
         let b = step(\"B\", \"guests\", || hypervisor.guests().len());\n\
         info(`a=${a} b=${b}`);\n",
    )
    .expect("write");
    let o = env.hascript(&[
        "run",
        script.to_str().expect("utf8"),
        "--sim",
        "--sim-state",
        env.site_str(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    // Make a dead run out of the finished one: its lines up to the end of step A.
    let done = lines(&env.journals()[0]);
    let cut = done
        .iter()
        .position(|l| l["event"] == "step_end")
        .expect("step A ended");
    let dead_id = "20000101T000000.000Z-000001";
    let runs = env.journals()[0].parent().expect("runs").to_path_buf();
    let mut text_lines: Vec<String> = done[..=cut]
        .iter()
        .map(|l| {
            let mut l = l.clone();
            l["run"] = dead_id.into();
            l.to_string()
        })
        .collect();
    // A value the live site would not give: the replay must return it.
    let mut end: Value = serde_json::from_str(text_lines.last().expect("line")).expect("json");
    end["value"] = 4242.into();
    *text_lines.last_mut().expect("line") = end.to_string();
    let mut header: Value = serde_json::from_str(&text_lines[0]).expect("json");
    header["pid"] = 0.into();
    text_lines[0] = header.to_string();
    std::fs::write(
        runs.join(format!("{dead_id}.jsonl")),
        text_lines.join("\n") + "\n",
    )
    .expect("write");
    let o = env.hascript(&["resume", dead_id]);
    let out = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("a=4242 b=2"), "{out}");
    assert!(out.contains("not run again"), "{out}");
    let resumed = lines(env.journals().last().expect("journal"));
    assert_eq!(resumed[0]["resumed_from"], dead_id);
    let ends: Vec<&Value> = resumed
        .iter()
        .filter(|l| l["event"] == "step_end")
        .collect();
    assert_eq!(ends.len(), 2, "{ends:?}");
    assert_eq!(ends[0]["replayed"], true);
    assert_eq!(ends[0]["value"], 4242);
    assert!(ends[1].get("replayed").is_none());
    // The replayed step sent nothing: no cfset -a in the resumed run.
    assert!(
        !resumed.iter().any(|l| l["event"] == "command_end"
            && l["command"].as_str().unwrap_or("").contains("cfset")),
        "the replayed step ran"
    );
    // A changed script is refused.
    std::fs::write(&script, "print(1);\n").expect("write");
    let other = "20000101T000000.000Z-000002";
    let renamed = text_lines.join("\n").replace(dead_id, other) + "\n";
    std::fs::write(runs.join(format!("{other}.jsonl")), renamed).expect("write");
    let o = env.hascript(&["resume", other]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("is not the one run"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn resume_and_unwind_refuse_what_they_cannot_continue() {
    let env = CrashSite::new("ldoms");
    // A finished run is not resumed.
    let o = live_migration(&env).output().expect("run");
    assert_eq!(o.status.code(), Some(0));
    let id = run_id(&lines(&env.journals()[0]));
    let o = env.hascript(&["resume", &id]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("finished (exit 0)"),
        "{}",
        text(&o.stderr)
    );
    // Unwinding it finds nothing pending.
    let o = env.hascript(&["unwind", &id]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("nothing to unwind"),
        "{}",
        text(&o.stdout)
    );
    // An unknown run.
    let o = env.hascript(&["resume", "1999"]);
    assert_eq!(o.status.code(), Some(2));
    // A run on an in-memory simulated site cannot be continued.
    let o = env
        .cmd(&["run", "ldoms/verify-fence", "--sim"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let mem = lines(env.journals().last().expect("journal"));
    let path = env.journals().last().expect("journal").clone();
    // Drop its result line: it "died".
    let cut: Vec<String> = mem
        .iter()
        .filter(|l| l["event"] != "result")
        .map(|l| l.to_string())
        .collect();
    std::fs::write(&path, cut.join("\n") + "\n").expect("write");
    let o = env.hascript(&["resume", &run_id(&mem)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("in-memory"), "{}", text(&o.stderr));
}

#[test]
fn the_serviceguard_move_registers_its_routine_before_cmmovevpkg_and_settles_it() {
    let env = CrashSite::new("hpvm");
    let o = env.hascript(&[
        "run",
        "hpvm/move-package",
        "--sim",
        "--sim-state",
        env.site_str(),
        "-p",
        "package=slvm1",
        "-p",
        "target=node2",
        "--yes",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let ls = lines(&env.journals()[0]);
    let reg = ls
        .iter()
        .position(|l| l["event"] == "recovery_registered")
        .expect("registered");
    // The routine is the procedure hpvm/recover-move (the move became a script).
    assert_eq!(ls[reg]["routine"]["procedure"], "hpvm/recover-move");
    assert_eq!(ls[reg]["routine"]["params"]["package"], "slvm1");
    let mv = ls
        .iter()
        .position(|l| {
            l["event"] == "command_start"
                && l["command"].as_str().unwrap_or("").contains("cmmovevpkg")
        })
        .expect("cmmovevpkg sent");
    assert!(reg < mv, "registered after the change");
    let settled: Vec<&Value> = ls.iter().filter(|l| l["event"] == "recovery_run").collect();
    assert_eq!(settled.len(), 1);
    assert_eq!(settled[0]["outcome"], "not_needed");
    assert_eq!(settled[0]["by"], "driver");
}

/// The simulated hosts' procedure changes so far.
fn changes_sent(env: &CrashSite) -> Vec<String> {
    env.changes_sent(is_change)
}

/// The CF timeout `guest1` reads.
fn cf_timeout(env: &CrashSite) -> String {
    env.sim_exec("guest1", &["/opt/SMAW/bin/cfset", "-a"])
}

/// A migration whose recovery stops for a person (issue 11 item 5): the stopped node stays
/// LEFTCLUSTER, so the routine is settled `failed` by the driver, not left pending. `unwind`
/// must not say "nothing to unwind": it names the routine, what is left and how to finish,
/// sends nothing without a yes, and exits 4; a yes (`--yes`) runs it again, which reads the
/// state first and stops for a person again.
#[test]
fn unwind_names_a_routine_its_run_left_undone_and_how_to_finish_it() {
    let env = CrashSite::new("ldoms/node-stays-leftcluster");
    let o = live_migration(&env).output().expect("run");
    assert_eq!(o.status.code(), Some(4), "{}", text(&o.stderr));
    let first = lines(&env.journals()[0]);
    let id = run_id(&first);
    let settled: Vec<&Value> = first
        .iter()
        .filter(|l| l["event"] == "recovery_run")
        .collect();
    assert_eq!(settled.len(), 1, "{settled:?}");
    // The recovery (the script's decision since issue 12) stops for a person: it hands the
    // routine over (`left_for_operator`), where the driver's bracket said `failed`.
    assert_eq!(settled[0]["outcome"], "left_for_operator");
    assert!(cf_timeout(&env).contains("VALUE: 600"));
    let sent = changes_sent(&env);

    let o = env.hascript(&["unwind", &id]);
    let out = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(4), "{out}");
    assert!(!out.contains("nothing to unwind"), "{out}");
    assert!(out.contains("recover the migration of guest2"), "{out}");
    assert!(out.contains("still LEFTCLUSTER"), "{out}");
    assert!(out.contains("guest2 stopped on cd2"), "{out}");
    // How to finish: the driver's remedy, and the unwind that runs it again.
    assert!(
        out.contains("remedy: a person must decide how to settle cfguest2"),
        "{out}"
    );
    let second = lines(env.journals().last().expect("unwind journal"));
    let unwind_id = run_id(&second);
    assert_eq!(second[0]["unwinds"], id.as_str());
    assert!(
        out.contains(&format!("hascript unwind {unwind_id} --yes")),
        "{out}"
    );
    assert_eq!(changes_sent(&env), sent, "nothing sent without a yes");
    assert_eq!(second.last().map(|l| l["exit"].clone()), Some(4.into()));
    // The dead run is taken over; its unwind is continued.
    let o = env.hascript(&["unwind", &id]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains(&format!("`hascript unwind {unwind_id}` continues")),
        "{}",
        text(&o.stderr)
    );

    // Yes: the routine runs again (state-aware), and stops for a person again.
    let o = env.hascript(&["unwind", &unwind_id, "--yes"]);
    let out = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(4), "{out}");
    let third = lines(env.journals().last().expect("journal"));
    assert_eq!(third[0]["unwinds"], unwind_id.as_str());
    let ran: Vec<&Value> = third
        .iter()
        .filter(|l| l["event"] == "recovery_run")
        .collect();
    assert_eq!(ran.len(), 1, "{out}");
    assert_eq!(
        (&ran[0]["outcome"], &ran[0]["by"]),
        (&"failed".into(), &"unwind".into())
    );
    assert!(out.contains("still LEFTCLUSTER"), "{out}");
    assert_eq!(
        changes_sent(&env),
        sent,
        "the state says: nothing to change"
    );
}

/// The other guest stops while the recovery of an aborted migration runs (as when sshd is
/// killed: its commands find no one to answer), so the routine fails and is settled by the
/// driver, leaving the CF timeout at 600 s and the shutdown facility stopped. `unwind`
/// names the host that did not answer and how to finish; once the operator has the guest
/// back, `unwind … --yes` runs the routine again and the cluster ends protected.
#[test]
fn unwind_runs_a_routine_left_undone_again_once_its_host_answers() {
    let env = CrashSite::new("ldoms/migration-aborted-guest-stopped");
    let mut run = live_migration(&env);
    run.env("HASCRIPT_SIM_PACE_MS", "10");
    let mut child = env.spawn(run);
    // The recovery waits (600 virtual s, 6 s here) for guest2's CF node to go DOWN.
    let t = std::time::Instant::now();
    while !env.journal().iter().any(|l| l["event"] == "wait") {
        assert!(
            t.elapsed() < std::time::Duration::from_secs(60),
            "no wait:\n{}",
            env.output()
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    env.sim_exec_ok("cd1", &["/usr/sbin/ldm", "stop-domain", "-f", "guest1"]);
    let status = child.wait().expect("wait");
    let out = env.output();
    assert_eq!(status.code(), Some(4), "{out}");
    let id = run_id(&env.journal());
    assert!(cf_timeout(&env).is_empty(), "guest1 does not answer");
    assert!(env
        .sim_exec("guest2", &["/opt/SMAW/bin/cfset", "-a"])
        .is_empty());

    let o = env.hascript(&["unwind", &id]);
    let out = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(4), "{out}");
    assert!(!out.contains("nothing to unwind"), "{out}");
    assert!(out.contains("recover the migration of guest2"), "{out}");
    assert!(out.contains("no answer from guest1"), "{out}");
    assert!(
        out.contains("CF timeout is 600 s and the shutdown facility is stopped"),
        "{out}"
    );
    let unwind_id = run_id(&lines(env.journals().last().expect("journal")));
    assert!(
        out.contains(&format!("hascript unwind {unwind_id} --yes")),
        "{out}"
    );

    // The operator lets cfguest1 go DOWN (its CF timeout, 600 s), then starts guest1.
    let wait = env.script("wait.rhai", "sleep(700);\n");
    let o = env.run(&wait, &[], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    env.sim_exec_ok("cd1", &["/usr/sbin/ldm", "start-domain", "guest1"]);
    let o = env.run(&wait, &[], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));

    let o = env.hascript(&["unwind", &unwind_id, "--yes"]);
    let out = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("recovery routine #1"), "{out}");
    assert_protected(&env, "after the unwind ran the routine again");
    // Nothing is left: unwinding that unwind finds nothing to do.
    let last = run_id(&lines(env.journals().last().expect("journal")));
    let o = env.hascript(&["unwind", &last]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("nothing to unwind"));
}

/// The journal of a finished run of `script` made into a dead run `dead_id`: its lines up
/// to the `step_end` of the script step titled `until`, with that step's value set to
/// `value`, passed through `edit` (to write it as an older hascript did).
fn dead_run_until(
    env: &CrashSite,
    dead_id: &str,
    until: &str,
    value: i64,
    edit: impl Fn(Value) -> Option<Value>,
) {
    let done = lines(env.journals().last().expect("journal"));
    let cut = done
        .iter()
        .position(|l| l["event"] == "step_end" && l["title"] == until)
        .expect("the step ended");
    let runs = env.journals()[0].parent().expect("runs").to_path_buf();
    let text_lines: Vec<String> = done[..=cut]
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            let mut l = l.clone();
            l["run"] = dead_id.into();
            if i == 0 {
                l["pid"] = 0.into();
            }
            if i == cut {
                l["value"] = value.into();
            }
            edit(l).map(|l| l.to_string())
        })
        .collect();
    std::fs::write(
        runs.join(format!("{dead_id}.jsonl")),
        text_lines.join("\n") + "\n",
    )
    .expect("write");
}

#[test]
fn a_driver_step_between_script_steps_is_not_replayed_and_an_older_journal_still_resumes() {
    let env = CrashSite::new("hpvm");
    let dir = env.state_home.parent().expect("dir").to_path_buf();
    let script = dir.join("steps.rhai");
    // A driver's own step (B3: toolkit maintenance, which reads the state first and skips
    // what is done) between two script steps.
    std::fs::write(
        &script,
        "let a = step(\"A\", \"packages\", || 10);\n\
         package.maintenance(\"slvm1\", true);\n\
         let b = step(\"B\", \"guests\", || hypervisor.guests().len());\n\
         info(`a=${a} b=${b}`);\n",
    )
    .expect("write");
    let o = env.hascript(&[
        "run",
        script.to_str().expect("utf8"),
        "--sim",
        "--sim-state",
        env.site_str(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let first = lines(env.journals().last().expect("journal"));
    assert!(
        first
            .iter()
            .any(|l| l["event"] == "step_end" && l["by"] == "driver"),
        "the driver's steps end in the journal: {first:?}"
    );
    let resume = |id: &str| {
        let o = env.hascript(&["resume", id]);
        let out = format!("{}{}", text(&o.stdout), text(&o.stderr));
        assert_eq!(o.status.code(), Some(0), "{out}");
        out
    };
    // Both script steps completed: both are replayed, the driver's step in between is not
    // taken for a script step.
    let today = "20000101T000000.000Z-000011";
    dead_run_until(&env, today, "guests", 77, Some);
    let out = resume(today);
    assert!(out.contains("a=10 b=77"), "{out}");
    // The same journal as written before `by`, `schema_version` and driver `step_end`s.
    let older = "20000101T000000.000Z-000012";
    dead_run_until(&env, older, "guests", 78, |mut l| {
        if l["event"] == "step_end" && l["by"] == "driver" {
            return None;
        }
        if let Some(m) = l.as_object_mut() {
            m.remove("by");
            m.remove("schema_version");
        }
        Some(l)
    });
    let out = resume(older);
    assert!(out.contains("a=10 b=78"), "{out}");
}
