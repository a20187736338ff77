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
    // The hosts are locked at the same time: the order holds per host.
    let actions = |host: &str| -> Vec<&str> {
        ls.iter()
            .filter(|l| l["event"] == "lock" && l["host"] == host)
            .filter_map(|l| l["action"].as_str())
            .collect()
    };
    // cd2 was broken and taken; cd3 (the target) is locked too; both released.
    assert_eq!(actions("cd2"), ["broken", "taken", "released"]);
    assert_eq!(actions("cd3"), ["taken", "released"]);
    assert_eq!(ls.iter().filter(|l| l["event"] == "lock").count(), 5);
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

// ----- parallel locks (issue 11, item 7) ------------------------------------------------

mod parallel {
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Condvar, Mutex};
    use std::time::Duration;

    use hascript::journal::{JournalingExec, Recorder};
    use hascript::lock::{LockOptions, Locks, Owner};
    use hascript_api::{fan_out, FanOut};
    use hascript_api::{Command, Error, ErrorKind, Exec, Output, Ui};

    /// Hosts on which `mkdir` of the lock (and `rm` of it at the release) only answers once
    /// that command has arrived from every host: a barrier. Serial locking never gets there
    /// and fails after `patience`; locking in parallel passes at once. No timing is asserted.
    struct Barrier {
        hosts: usize,
        patience: Duration,
        arrived: Mutex<BTreeMap<&'static str, usize>>,
        all_there: Condvar,
        /// Owner files as written (`dd`), per host.
        owners: Mutex<BTreeMap<String, String>>,
        /// Lock folders held by other runs, with their owner file (until `rm`).
        held_by: Mutex<BTreeMap<String, String>>,
        /// Whether `mkdir` and `rm` wait for every host's.
        barrier: bool,
    }

    impl Barrier {
        fn new(hosts: usize) -> Barrier {
            Barrier {
                hosts,
                patience: Duration::from_secs(10),
                arrived: Mutex::new(BTreeMap::new()),
                all_there: Condvar::new(),
                owners: Mutex::new(BTreeMap::new()),
                held_by: Mutex::new(BTreeMap::new()),
                barrier: true,
            }
        }

        fn wait_for_all(&self, what: &'static str, host: &str) -> Result<(), Error> {
            let mut g = self.arrived.lock().unwrap_or_else(|p| p.into_inner());
            *g.entry(what).or_default() += 1;
            self.all_there.notify_all();
            let (g, t) = self
                .all_there
                .wait_timeout_while(g, self.patience, |m| {
                    m.get(what).copied().unwrap_or(0) < self.hosts
                })
                .unwrap_or_else(|p| p.into_inner());
            if t.timed_out() {
                return Err(Error::new(
                    ErrorKind::Transport,
                    format!(
                        "{what} on {host}: only {} of {} hosts' {what} arrived: the locks are taken one after another",
                        g.get(what).copied().unwrap_or(0),
                        self.hosts
                    ),
                )
                .on_host(host));
            }
            Ok(())
        }
    }

    impl Exec for Barrier {
        fn exec(&self, cmd: &Command) -> Result<Output, Error> {
            let line = cmd.display();
            let held = |h: &str| {
                self.held_by
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get(h)
                    .cloned()
            };
            if line.starts_with("/bin/mkdir") {
                if held(&cmd.host).is_some() {
                    return Ok(Output::new(1, "", "mkdir: File exists\n"));
                }
                if self.barrier {
                    self.wait_for_all("mkdir", &cmd.host)?;
                }
                return Ok(Output::new(0, "", ""));
            }
            if line.starts_with("/bin/dd") {
                let text =
                    String::from_utf8_lossy(cmd.stdin.as_deref().unwrap_or_default()).into_owned();
                self.owners
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(cmd.host.clone(), text);
                return Ok(Output::new(0, "", ""));
            }
            if line.starts_with("/bin/cat") {
                let owners = self.owners.lock().unwrap_or_else(|p| p.into_inner());
                return Ok(match owners.get(&cmd.host).cloned().or(held(&cmd.host)) {
                    Some(o) => Output::new(0, o, ""),
                    None => Output::new(1, "", "cat: No such file\n"),
                });
            }
            if line.starts_with("/bin/rm") {
                let was_held = self
                    .held_by
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&cmd.host)
                    .is_some();
                if self.barrier && !was_held {
                    self.wait_for_all("rm", &cmd.host)?;
                }
                return Ok(Output::new(0, "", ""));
            }
            Ok(Output::new(0, "done\n", ""))
        }
    }

    fn me(run: &str) -> Owner {
        Owner {
            run: run.into(),
            user: "ops".into(),
            origin: "elsewhere".into(),
            since: "t".into(),
            pid: 1,
        }
    }

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("h{i}")).collect()
    }

    #[test]
    fn a_change_fan_out_takes_and_releases_every_host_lock_at_the_same_time() {
        const N: usize = 6;
        let hosts = Arc::new(Barrier::new(N));
        let rec = Arc::new(Recorder::without_file("r1", Vec::new()));
        let ui: Arc<dyn Ui> = Arc::new(hascript_testkit::Recorder::new(None));
        let locks = Arc::new(Locks::new(
            hosts.clone(),
            rec.clone(),
            ui,
            LockOptions::default(),
            me("r1"),
        ));
        let exec = JournalingExec::new(hosts.clone(), rec.clone(), Some(locks.clone()));
        // `run_all(hosts, ["touch", "/x"])`: one change per host.
        let cmds: Vec<Command> = names(N)
            .iter()
            .map(|h| Command::change(h, &["touch", "/x"]))
            .collect();
        let opts = FanOut {
            limit: N,
            stop_on_error: false,
        };
        for r in fan_out(&exec, &cmds, &opts) {
            let out = r.unwrap_or_else(|e| panic!("{e}"));
            assert!(out.success());
        }
        assert_eq!(locks.held(), names(N));
        // The release at the end of the run, all hosts at once too.
        assert_eq!(locks.release_all(), Vec::<(String, String)>::new());
        assert!(locks.held().is_empty());
    }

    #[test]
    fn a_bracket_locks_the_hosts_it_involves_at_the_same_time() {
        const N: usize = 3;
        let hosts = Arc::new(Barrier::new(N));
        let rec = Arc::new(Recorder::without_file("r1", Vec::new()));
        let ui: Arc<dyn Ui> = Arc::new(hascript_testkit::Recorder::new(None));
        let locks = Arc::new(Locks::new(
            hosts.clone(),
            rec.clone(),
            ui,
            LockOptions::default(),
            me("r1"),
        ));
        let exec = JournalingExec::new(hosts, rec, Some(locks.clone()));
        exec.involve(&names(N)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(locks.held(), names(N));
    }

    /// A UI that answers `answer`, counting the questions and how many were open at once.
    struct Asking {
        answer: bool,
        open: AtomicUsize,
        most_open: AtomicUsize,
        asked: AtomicUsize,
    }

    impl Ui for Asking {
        fn step(&self, _: &str, _: &str) {}
        fn info(&self, _: &str) {}
        fn warn(&self, _: &str) {}
        fn waiting(&self, _: &hascript_api::WaitProgress) {}
        fn confirm(&self, _q: &str) -> Result<bool, Error> {
            let now = self.open.fetch_add(1, Ordering::SeqCst) + 1;
            self.most_open.fetch_max(now, Ordering::SeqCst);
            self.asked.fetch_add(1, Ordering::SeqCst);
            // Long enough for another thread to ask meanwhile, were it allowed to.
            std::thread::sleep(Duration::from_millis(50));
            self.open.fetch_sub(1, Ordering::SeqCst);
            Ok(self.answer)
        }
    }

    fn asking(answer: bool) -> Arc<Asking> {
        Arc::new(Asking {
            answer,
            open: AtomicUsize::new(0),
            most_open: AtomicUsize::new(0),
            asked: AtomicUsize::new(0),
        })
    }

    /// Every host locked by a dead run (each its own, or all the same one).
    fn all_held(n: usize, same_run: bool) -> Barrier {
        let mut b = Barrier::new(n);
        b.barrier = false;
        for (i, h) in names(n).into_iter().enumerate() {
            let run = if same_run {
                "dead".to_string()
            } else {
                format!("dead{i}")
            };
            b.held_by
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(h, me(&run).to_file());
        }
        b
    }

    #[test]
    fn break_lock_asks_one_question_at_a_time_and_one_no_stops_the_others() {
        const N: usize = 4;
        let hosts = Arc::new(all_held(N, false));
        let rec = Arc::new(Recorder::without_file("r9", Vec::new()));
        let ui = asking(false);
        let opts = LockOptions {
            break_lock: true,
            ..LockOptions::default()
        };
        let locks = Arc::new(Locks::new(
            hosts.clone(),
            rec.clone(),
            ui.clone(),
            opts,
            me("r9"),
        ));
        let exec = JournalingExec::new(hosts, rec, Some(locks.clone()));
        let cmds: Vec<Command> = names(N)
            .iter()
            .map(|h| Command::change(h, &["touch", "/x"]))
            .collect();
        let opts = FanOut {
            limit: N,
            stop_on_error: false,
        };
        let results = fan_out(&exec, &cmds, &opts);
        for r in &results {
            assert_eq!(
                r.as_ref().err().map(|e| e.kind),
                Some(ErrorKind::Declined),
                "{r:?}"
            );
        }
        assert_eq!(
            ui.most_open.load(Ordering::SeqCst),
            1,
            "one question at a time"
        );
        assert_eq!(
            ui.asked.load(Ordering::SeqCst),
            1,
            "after a no, no more questions"
        );
        assert!(locks.declined() && locks.held().is_empty());
    }

    #[test]
    fn breaking_one_lock_of_a_dead_run_takes_over_all_its_locks_with_one_question() {
        const N: usize = 4;
        let hosts = Arc::new(all_held(N, true));
        let rec = Arc::new(Recorder::without_file("r9", Vec::new()));
        let ui = asking(true);
        let opts = LockOptions {
            break_lock: true,
            ..LockOptions::default()
        };
        let locks = Arc::new(Locks::new(
            hosts.clone(),
            rec.clone(),
            ui.clone(),
            opts,
            me("r9"),
        ));
        // The run's lock on h0 only is in the way of this run's change.
        locks.set_site_hosts(names(N));
        let exec = JournalingExec::new(hosts.clone(), rec, Some(locks.clone()));
        exec.exec(&Command::change("h0", &["touch", "/x"]))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ui.asked.load(Ordering::SeqCst), 1);
        // Its other locks (found on the site's hosts: its journal is not here) are this
        // run's now, released at its end.
        assert_eq!(locks.held(), names(N));
        let owners = hosts
            .owners
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for h in names(N) {
            assert!(
                owners.get(&h).is_some_and(|o| o.contains("run=r9")),
                "{h}: {owners:?}"
            );
        }
    }
}

// ----- a dead run's locks: the printed remedy works (issue 11, item 5) ---------------------

/// A live migration killed (SIGKILL) once it holds its locks on cd2 and cd3 and has sent
/// its first change; the site and the dead run's id.
fn killed_migration() -> (Env, String) {
    // Where to kill it: once its first change (`clovmmigrate -p`) is done, as a complete
    // run shows.
    let probe = Env::new("ldoms");
    let o = probe.run("ldoms/live-migration", &MIGRATE, &["--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let k = probe
        .last_journal()
        .iter()
        .position(|l| {
            l["event"] == "command_end" && l["purpose"] == "procedure" && l["effect"] == "change"
        })
        .expect("a change")
        + 1;
    let env = Env::new("ldoms");
    let dead = env
        .kill_after(env.run_cmd("ldoms/live-migration", &MIGRATE), k)
        .expect("killed before its end");
    assert!(has_lock(&env, "cd2") && has_lock(&env, "cd3"));
    let id = sim_support::run_id(&dead);
    (env, id)
}

fn lock_actions(ls: &[Value], host: &str) -> Vec<String> {
    ls.iter()
        .filter(|l| l["event"] == "lock" && l["host"] == host)
        .filter_map(|l| l["action"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn a_step_script_after_a_killed_run_is_told_and_takes_over_its_locks_with_takeover() {
    let (env, id) = killed_migration();
    // The remedy the drivers print: ldoms/recover-migration. The dead run's lock is not
    // "another run changing this cluster": the refusal names the way to take it over.
    let o = env.run("ldoms/recover-migration", &["guest=guest2"], &["--yes"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains(&format!("--takeover {id}"))
            && err.contains("no longer running")
            && !err.contains("another hascript run is changing this cluster"),
        "{err}"
    );
    // Followed exactly: every lock of the dead run is taken over, and released at the end.
    let o = env.run(
        "ldoms/recover-migration",
        &["guest=guest2"],
        &["--yes", "--takeover", &id],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let ls = env.last_journal();
    for h in ["cd2", "cd3"] {
        assert_eq!(lock_actions(&ls, h), ["taken_over", "released"], "{h}");
    }
    sim_support::assert_no_lock(&env, &["cd2", "cd3"], "after --takeover");
}

#[test]
fn break_lock_releases_every_lock_of_the_dead_run() {
    let (env, _id) = killed_migration();
    let o = env.run(
        "ldoms/recover-migration",
        &["guest=guest2"],
        &["--yes", "--break-lock"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let ls = env.last_journal();
    // One lock broken (after one question), the dead run's other lock taken over.
    let broken: Vec<&Value> = ls
        .iter()
        .filter(|l| l["event"] == "lock" && l["action"] == "broken")
        .collect();
    assert_eq!(broken.len(), 1, "{ls:#?}");
    assert_eq!(ls.iter().filter(|l| l["event"] == "confirm").count(), 1);
    sim_support::assert_no_lock(&env, &["cd2", "cd3"], "after --break-lock");
}

#[test]
fn unwind_of_a_run_that_ended_with_a_lock_left_takes_it_over() {
    let env = Env::new("ldoms");
    // The run changes cd3 (its lock is taken), then its owner file disappears: the release
    // at its end fails and the lock folder stays, as when a host is unreachable at the end.
    let s = env.script(
        "leave.rhai",
        "host(\"cd3\").run([\"mkdir\", \"/tmp/x\"]);\nhost(\"cd3\").run([\"rm\", \"/var/tmp/hascript.lock/owner\"], #{changes: false});\n",
    );
    let o = env.run(&s, &[], &["--yes"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let id = sim_support::run_id(&env.last_journal());
    // The printed remedy names the command that takes the lock over.
    assert!(
        err.contains("was not released") && err.contains(&format!("hascript unwind {id}")),
        "{err}"
    );
    assert!(has_lock(&env, "cd3"));
    let o = env.hascript(&["unwind", &id, "--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(
        lock_actions(&env.last_journal(), "cd3"),
        ["taken_over", "released"]
    );
    sim_support::assert_no_lock(&env, &["cd3"], "after unwind");
}

/// A journal for run `id` in `env`'s journal folder: only its header (and a result line
/// when `ended`).
fn fake_journal(env: &Env, id: &str, header: Value) {
    let dir = env.state_home.join("hascript").join("runs");
    std::fs::create_dir_all(&dir).expect("runs dir");
    // A header as every hascript wrote it (journals are read as typed events), with
    // `header`'s fields.
    let mut h = serde_json::json!({"event": "run", "version": "0.1.0", "user": "op",
        "origin": "", "pid": 0, "script": "ldoms/live-migration", "sha256": "", "params": {},
        "site": {"kind": "sim", "scenario": "ldoms"}, "description": "", "dry_run": false});
    if let (Some(m), Value::Object(fields)) = (h.as_object_mut(), header) {
        m.extend(fields);
    }
    std::fs::write(dir.join(format!("{id}.jsonl")), format!("{h}\n")).expect("journal");
}

fn this_host() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    assert_eq!(rc, 0);
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[test]
fn takeover_never_takes_a_live_runs_locks() {
    let env = Env::new("ldoms");
    let here = this_host();
    let me = std::process::id();
    let live = "20260101T000000.000Z-aaaa01";
    let remote = "20260101T000000.000Z-aaaa02";
    let dead = "20260101T000000.000Z-aaaa03";
    let continuing = "20260101T000000.000Z-aaaa04";
    fake_journal(&env, live, serde_json::json!({"origin": here, "pid": me}));
    fake_journal(
        &env,
        remote,
        serde_json::json!({"origin": "adm9", "pid": 1}),
    );
    fake_journal(&env, dead, serde_json::json!({"origin": here, "pid": 0}));
    fake_journal(
        &env,
        continuing,
        serde_json::json!({"origin": here, "pid": me, "unwinds": dead}),
    );
    let try_takeover = |id: &str| {
        let o = env.run(
            "ldoms/live-migration",
            &MIGRATE,
            &["--yes", "--takeover", id],
        );
        (o.status.code(), text(&o.stderr))
    };
    let (code, err) = try_takeover(live);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("still running"), "{err}");
    let (code, err) = try_takeover(remote);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("ran on adm9, not on this machine"), "{err}");
    let (code, err) = try_takeover(continuing.replace("04", "05").as_str());
    assert_eq!(code, Some(2), "{err}");
    let (code, err) = try_takeover(dead);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!("run {continuing} continues it")),
        "{err}"
    );
    // Nothing was sent by any of them.
    assert!(!has_lock(&env, "cd2") && !has_lock(&env, "cd3"));
    // The lock of a live run of this machine is refused as another run's: no --takeover hint.
    let w = env.script(
        "owner.rhai",
        &format!(
            "host(\"cd2\").run([\"mkdir\", \"/var/tmp/hascript.lock\"], #{{changes: false}});\nhost(\"cd2\").run([\"/bin/dd\", \"of=/var/tmp/hascript.lock/owner\"], #{{changes: false, stdin: \"run={live}\\norigin={here}\\npid={me}\\n\"}});\n"
        ),
    );
    let o = env.run(&w, &[], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let o = env.run("ldoms/live-migration", &MIGRATE, &["--yes"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("another hascript run is changing this cluster")
            && !err.contains("--takeover"),
        "{err}"
    );
}
