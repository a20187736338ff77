//! The run journal through the binary: what a run of a shipped procedure records on a
//! folder-backed simulated site (header, steps, commands, evidence, result), the ordering
//! of change entries, `journal list` / `journal show`, `--output json`, secrets, and a run
//! killed with SIGKILL listed as unfinished. `XDG_STATE_HOME` points at a temporary folder.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

struct Env {
    _dir: tempfile::TempDir,
    state_home: PathBuf,
    site: PathBuf,
}

impl Env {
    fn new(scenario: &str) -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        let state_home = dir.path().join("state");
        let site = dir.path().join("site");
        let e = Env {
            _dir: dir,
            state_home,
            site,
        };
        let o = e.hascript(&[
            "sim",
            "init",
            "--state",
            e.site_str(),
            "--scenario",
            scenario,
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        e
    }

    fn site_str(&self) -> &str {
        self.site.to_str().expect("utf8")
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_hascript"));
        c.args(args)
            .env_remove("HASCRIPT_PATH")
            .env("XDG_STATE_HOME", &self.state_home)
            .env("USER", "nightops")
            .env("NO_COLOR", "1");
        c
    }

    fn hascript(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("hascript runs")
    }

    fn run(&self, script: &str, params: &[&str], extra: &[&str]) -> Output {
        let mut args = vec!["run", script, "--sim", "--sim-state", self.site_str()];
        for p in params {
            args.extend(["-p", p]);
        }
        args.extend_from_slice(extra);
        self.hascript(&args)
    }

    fn runs_dir(&self) -> PathBuf {
        self.state_home.join("hascript").join("runs")
    }

    /// The journals, oldest first.
    fn journals(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(self.runs_dir())
            .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        v.sort();
        v
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn events<'a>(ls: &'a [Value], kind: &str) -> Vec<&'a Value> {
    ls.iter().filter(|l| l["event"] == kind).collect()
}

/// The journal of one run: a header first, a result last, every change entry before its
/// outcome and synced with nothing in between from that command, evidence complete.
fn check_journal(ls: &[Value], script: &str, exit: i64) {
    assert_eq!(ls[0]["event"], "run", "{:?}", ls[0]);
    assert_eq!(ls[0]["script"], script);
    assert_eq!(ls[0]["user"], "nightops");
    assert_eq!(ls[0]["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(ls[0]["site"]["kind"], "sim");
    let last = ls.last().expect("lines");
    assert_eq!(last["event"], "result", "{last}");
    assert_eq!(last["exit"], exit);
    let id = ls[0]["run"].as_str().expect("run id");
    assert!(ls.iter().all(|l| l["run"] == id && l["ts"].is_string()));
    assert!(!events(ls, "step").is_empty());
    for start in events(ls, "command_start") {
        let seq = &start["seq"];
        let at = ls.iter().position(|l| l == start).expect("pos");
        let end = ls
            .iter()
            .position(|l| l["event"] == "command_end" && &l["seq"] == seq)
            .unwrap_or_else(|| panic!("no command_end for {start}"));
        assert!(at < end, "{start}");
        assert_eq!(ls[end]["command"], start["command"]);
        assert_eq!(ls[end]["effect"], "change");
    }
    // Every change of the procedure has its start line.
    let ends = events(ls, "command_end");
    for e in ends.iter().filter(|e| e["effect"] == "change") {
        assert!(
            ls.iter()
                .any(|l| l["event"] == "command_start" && l["seq"] == e["seq"]),
            "{e}"
        );
    }
}

#[test]
fn live_migration_is_journaled_with_steps_commands_evidence_and_result() {
    let env = Env::new("ldoms");
    let o = env.run(
        "ldoms/live-migration",
        &["guest=guest2", "target=cd3"],
        &["--yes"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let js = env.journals();
    assert_eq!(js.len(), 1, "{js:?}");
    let ls = lines(&js[0]);
    check_journal(&ls, "ldoms/live-migration", 0);
    assert_eq!(ls[0]["params"]["guest"], "guest2");
    // The procedure's changes, in order, each journaled.
    let changes: Vec<String> = events(&ls, "command_start")
        .iter()
        .filter(|l| l["purpose"] == "procedure")
        .map(|l| {
            format!(
                "{} {}",
                l["host"].as_str().unwrap_or(""),
                l["command"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            "cd2 /etc/opt/FJSVcluster/bin/clovmmigrate -p guest2",
            "cd2 /usr/sbin/ldm migrate-domain guest2 cd3",
            "cd2 /etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd3",
        ]
    );
    // Evidence before and after: ldm list -p on cd2 shows guest2 first, cd3 at the end.
    let ldm: Vec<&Value> = events(&ls, "command_end")
        .into_iter()
        .filter(|l| l["evidence"] == true && l["command"] == "/usr/sbin/ldm list -p")
        .collect();
    let first_cd2 = ldm.iter().find(|l| l["host"] == "cd2").expect("cd2 before");
    assert!(first_cd2["stdout"]
        .as_str()
        .unwrap_or("")
        .contains("name=guest2"));
    let last_cd3 = ldm
        .iter()
        .rev()
        .find(|l| l["host"] == "cd3")
        .expect("cd3 after");
    assert!(last_cd3["stdout"]
        .as_str()
        .unwrap_or("")
        .contains("name=guest2"));
    for evidence in [
        "/opt/SMAW/bin/sdtool -s",
        "/opt/SMAW/bin/cftool -n",
        "/opt/SMAW/bin/cfset -a",
    ] {
        assert!(
            ls.iter()
                .any(|l| l["evidence"] == true && l["command"] == evidence),
            "no evidence of {evidence}"
        );
    }
    // Exposure, waits and the result.
    assert!(!events(&ls, "exposure").is_empty());
    // (This run has no polling wait: the 30 s SF settle is one sleep, shown as info.)
    let res = ls.last().expect("result");
    assert_eq!(
        (res["result"].as_str(), res["changes"].as_i64()),
        (Some("ok"), Some(3))
    );
    // Both control domains of the migration were locked before the first change (cd3
    // receives no command on the main path, but the bracket involves it), then released.
    let lock: Vec<(String, String)> = events(&ls, "lock")
        .iter()
        .map(|l| {
            (
                l["host"].as_str().unwrap_or("").into(),
                l["action"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    // The hosts are locked (and released) in parallel: in either order within each phase.
    let mut taken = lock.get(..2).map(<[_]>::to_vec).unwrap_or_default();
    let mut released = lock.get(2..).map(<[_]>::to_vec).unwrap_or_default();
    taken.sort();
    released.sort();
    assert_eq!(
        (taken, released),
        (
            vec![
                ("cd2".to_string(), "taken".to_string()),
                ("cd3".to_string(), "taken".to_string())
            ],
            vec![
                ("cd2".to_string(), "released".to_string()),
                ("cd3".to_string(), "released".to_string())
            ]
        ),
        "{lock:?}"
    );
    // Taken before the first change of the procedure.
    let first_lock = ls
        .iter()
        .position(|l| l["event"] == "lock")
        .unwrap_or(usize::MAX);
    let first_change = ls
        .iter()
        .position(|l| l["event"] == "command_start" && l["purpose"] == "procedure")
        .unwrap_or(0);
    assert!(first_lock < first_change, "locks come first");

    // journal list and show.
    let id = ls[0]["run"].as_str().expect("id").to_string();
    let l = env.hascript(&["journal", "list"]);
    let out = text(&l.stdout);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(
        out.starts_with(&id)
            && out.contains("nightops")
            && out.contains("ldoms/live-migration")
            && out.trim_end().ends_with("ok 0"),
        "{out}"
    );
    let s = env.hascript(&["journal", "show", &id[..18]]);
    assert_eq!(s.status.code(), Some(0), "{}", text(&s.stderr));
    let shown = text(&s.stdout);
    for want in [
        "cd2 # CHANGE /usr/sbin/ldm migrate-domain guest2 cd3",
        "==> [17.3.1.1] live migration: ldm migrate-domain guest2 cd3",
        "[evidence]",
        "lock taken on cd2",
        "result: ok (exit 0), 3 change command(s)",
    ] {
        assert!(shown.contains(want), "{want}\n{shown}");
    }
    let j = env.hascript(&["journal", "show", &id, "--output", "json"]);
    let shown: Vec<Value> = text(&j.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(shown, ls);
    // Unknown and malformed ids.
    let u = env.hascript(&["journal", "show", "19990101"]);
    assert_eq!(u.status.code(), Some(2));
    assert!(
        text(&u.stderr).contains("no run \"19990101\""),
        "{}",
        text(&u.stderr)
    );
    let u = env.hascript(&["journal", "show", "../../etc/passwd"]);
    assert_eq!(u.status.code(), Some(2));
}

#[test]
fn move_package_is_journaled_with_the_package_evidence() {
    let env = Env::new("hpvm");
    let o = env.run(
        "hpvm/move-package",
        &["package=slvm1", "target=node2"],
        &["--yes"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let ls = lines(&env.journals()[0]);
    check_journal(&ls, "hpvm/move-package", 0);
    let changes: Vec<&str> = events(&ls, "command_start")
        .iter()
        .filter(|l| l["purpose"] == "procedure")
        .filter_map(|l| l["command"].as_str())
        .collect();
    assert_eq!(
        changes,
        ["/etc/cmcluster/scripts/tkit/vtn/cmmovevpkg -v -P slvm1 -h node2"]
    );
    let cmviewcl: Vec<&Value> = ls
        .iter()
        .filter(|l| l["evidence"] == true && l["command"] == "/usr/sbin/cmviewcl -v -f line")
        .collect();
    assert!(cmviewcl.len() >= 2, "before and after");
    let before = cmviewcl[0]["stdout"].as_str().unwrap_or("");
    let after = cmviewcl[cmviewcl.len() - 1]["stdout"]
        .as_str()
        .unwrap_or("");
    assert!(
        before.contains("package:slvm1|owner=node1") || before.contains("node1"),
        "{before}"
    );
    assert_ne!(before, after);
}

#[test]
fn json_output_is_one_event_per_line_and_ends_with_the_result() {
    let env = Env::new("ldoms/unhealthy-cluster");
    let o = env.run(
        "ldoms/live-migration",
        &["guest=guest2", "target=cd3"],
        &["--output", "json"],
    );
    let out = text(&o.stdout);
    let evs: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(evs[0]["event"], "run");
    let last = evs.last().expect("events");
    assert_eq!(last["event"], "result");
    assert_eq!(last["exit"].as_i64(), o.status.code().map(i64::from));
    assert_eq!(last["exit"], 3, "the preflight fails before any change");
    assert_eq!(last["changed"], false);
    assert!(evs.iter().any(|e| e["event"] == "step"));
    assert!(evs.iter().any(|e| e["event"] == "command_end"));
    assert!(evs
        .iter()
        .any(|e| e["event"] == "error" && e["kind"] == "check"));
    // No human output on stdout.
    assert!(!out.contains("==> "), "{out}");
    // The journal holds the same lines.
    assert_eq!(lines(&env.journals()[0]), evs);
}

#[test]
fn secret_looking_parameters_are_redacted_everywhere() {
    let env = Env::new("ldoms");
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("canary.rhai");
    std::fs::write(
        &script,
        "step(\"echo\", || { print(`the password is ${params.db_password}`); params.db_password });\n\
         fail(\"check\", `bad ${params.db_password}`);\n",
    )
    .expect("write");
    let canary = "Canary-7f3e9";
    let o = env.run(
        script.to_str().expect("utf8"),
        &[&format!("db_password={canary}")],
        &["--output", "json"],
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    let journal = std::fs::read_to_string(&env.journals()[0]).expect("journal");
    assert!(!journal.contains(canary), "{journal}");
    assert!(!text(&o.stdout).contains(canary));
    assert!(journal.contains("the password is *****"), "{journal}");
    assert!(journal.contains("\"db_password\":\"*****\""), "{journal}");
    // The step's return value (the secret) is journaled redacted.
    let ls = lines(&env.journals()[0]);
    let end = events(&ls, "step_end")[0];
    assert_eq!(end["value"], "*****");
}

#[test]
fn a_run_killed_mid_change_is_listed_as_unfinished() {
    // Virtual waits take no real time, so the run is short: poll its journal and kill it
    // as soon as its first change entry is on disk; retry if it finished first.
    for attempt in 0..8 {
        let env = Env::new("ldoms/migration-aborted-guest-stopped");
        let mut child = env
            .cmd(&[
                "run",
                "ldoms/live-migration",
                "--sim",
                "--sim-state",
                env.site_str(),
                "-p",
                "guest=guest2",
                "-p",
                "target=cd3",
                "--yes",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let t = Instant::now();
        let mut killed = false;
        while t.elapsed() < Duration::from_secs(60) {
            let started = env.journals().first().is_some_and(|p| {
                lines(p)
                    .iter()
                    .any(|l| l["event"] == "command_start" && l["purpose"] == "procedure")
            });
            if started {
                killed = child.kill().is_ok(); // SIGKILL
                break;
            }
            if child.try_wait().ok().flatten().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let _ = child.wait();
        let ls = lines(&env.journals()[0]);
        if !killed || ls.iter().any(|l| l["event"] == "result") {
            eprintln!("attempt {attempt}: the run ended before the kill; again");
            continue;
        }
        let id = ls[0]["run"].as_str().expect("id").to_string();
        let l = env.hascript(&["journal", "list"]);
        let out = text(&l.stdout);
        assert!(
            out.starts_with(&id) && out.trim_end().ends_with("unfinished -"),
            "{out}"
        );
        let s = env.hascript(&["journal", "show", &id]);
        assert!(
            text(&s.stdout).contains("no result line"),
            "{}",
            text(&s.stdout)
        );
        // The change that was on its way is on disk.
        assert!(ls
            .iter()
            .any(|l| l["event"] == "command_start" && l["purpose"] == "procedure"));
        // Its lock on cd2 is left behind (stale) and names the dead run.
        let owner = env.hascript(&[
            "sim",
            "exec",
            "--state",
            env.site_str(),
            "--host",
            "cd2",
            "--",
            "cat",
            "/var/tmp/hascript.lock/owner",
        ]);
        assert!(
            text(&owner.stdout).contains(&format!("run={id}")),
            "{}",
            text(&owner.stdout)
        );
        // A second run is refused before any change, naming the dead run.
        let dir = tempfile::tempdir().expect("tempdir");
        let touch = dir.path().join("touch.rhai");
        std::fs::write(&touch, "host(\"cd2\").run([\"/usr/bin/true\"]);\n").expect("write");
        let second = env.hascript(&[
            "run",
            touch.to_str().expect("utf8"),
            "--sim",
            "--sim-state",
            env.site_str(),
        ]);
        let err = text(&second.stderr);
        assert_eq!(second.status.code(), Some(3), "{err}");
        assert!(
            err.contains(&format!("cd2 is locked by run {id} by nightops on")),
            "{err}"
        );
        let other = env
            .journals()
            .into_iter()
            .find(|p| !p.to_string_lossy().contains(&id))
            .expect("the second run's journal");
        let ls2 = lines(&other);
        assert!(!ls2
            .iter()
            .any(|l| l["event"] == "command_start" && l["purpose"] == "procedure"));
        return;
    }
    panic!("the run always finished before it could be killed");
}

/// `hascript run ldoms/live-migration --sim` (in memory: the journal is the only file the
/// run writes) whose files may not grow past `limit` bytes (RLIMIT_FSIZE, with SIGXFSZ
/// ignored so that a write past it fails with EFBIG, as on a full disk), or unlimited.
fn live_migration_with_file_limit(e: &Env, limit: Option<u64>) -> Output {
    use std::os::unix::process::CommandExt;
    let mut c = e.cmd(&[
        "run",
        "ldoms/live-migration",
        "--sim",
        "-p",
        "guest=guest2",
        "-p",
        "target=cd3",
    ]);
    c.stdin(Stdio::null());
    if let Some(limit) = limit {
        // SAFETY: between fork and exec, only async-signal-safe calls (setrlimit, signal).
        unsafe {
            c.pre_exec(move || {
                let l = libc::rlimit {
                    rlim_cur: limit as libc::rlim_t,
                    rlim_max: limit as libc::rlim_t,
                };
                if libc::setrlimit(libc::RLIMIT_FSIZE, &l) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                Ok(())
            });
        }
    }
    c.output().expect("hascript runs")
}

/// The journal's disk fills up exactly at the first change (issue 11 item 5): between
/// the registration of the migration's recovery routine and the `command_start` of
/// `clovmmigrate -p`, and, earlier, inside the registration itself. Either way the change
/// is not sent, nothing changed: exit 3 "nothing changed: the journal could not be
/// written", no recovery of a migration that never started and no remedy for one.
#[test]
fn a_journal_that_fills_up_at_the_first_change_is_exit_3_nothing_changed() {
    // Where the lines fall in a complete journal of the same run.
    let whole = Env::new("ldoms");
    let o = live_migration_with_file_limit(&whole, None);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let bytes = std::fs::read(&whole.journals()[0]).expect("journal");
    let (mut at, mut registered, mut first_change) = (0usize, None, None);
    for l in bytes.split(|b| *b == b'\n') {
        let s = String::from_utf8_lossy(l);
        if registered.is_none() && s.contains("\"event\":\"recovery_registered\"") {
            registered = Some((at, at + l.len() + 1));
        }
        if first_change.is_none()
            && s.contains("\"event\":\"command_start\"")
            && s.contains("\"purpose\":\"procedure\"")
        {
            first_change = Some(at);
        }
        at += l.len() + 1;
    }
    let (reg_start, reg_end) = registered.expect("a registration");
    let change = first_change.expect("a change");
    // The routine is registered right before `clovmmigrate -p` (since issue 12, after the
    // operation's own reads): the registration's line ends where the change's begins, or
    // before.
    assert!(
        change >= reg_end,
        "the registration comes before the change"
    );
    for (limit, what) in [
        ((reg_end + change) as u64 / 2, "at the first change"),
        ((reg_start + reg_end) as u64 / 2, "at the registration"),
    ] {
        let e = Env::new("ldoms");
        let o = live_migration_with_file_limit(&e, Some(limit));
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(3), "{what}: {err}");
        assert!(
            err.contains("error: nothing changed: the journal could not be written"),
            "{what}: {err}"
        );
        assert!(err.contains("File too large"), "{what}: {err}");
        assert!(!err.contains("Recovery ran"), "{what}: {err}");
        assert!(!err.contains("remedy:"), "{what}: {err}");
        // The journal stops where the disk filled: the change has no entry, so it was
        // not sent.
        let cut = std::fs::read_to_string(&e.journals()[0]).expect("journal");
        assert_eq!(cut.len() as u64, limit, "{what}");
        assert!(
            !cut.lines()
                .any(|l| l.contains("\"event\":\"command_start\"")
                    && l.contains("\"purpose\":\"procedure\"")),
            "{what}"
        );
        assert_eq!(
            !events(&lines(&e.journals()[0]), "recovery_registered").is_empty(),
            what == "at the first change",
            "{what}"
        );
    }
}
