//! The journal records every script and module a run loaded (`script_loaded`), and a
//! continuation compares them with the files as they are now (issue 12 item 4): `resume`
//! refuses when one changed, `unwind` names the changed scripts its routines run and asks
//! (`--yes` answers), and a journal written before these lines still resumes and unwinds.
//!
//! Each test kills a small run on a folder-backed simulated site right after
//! `clovmmigrate -p` (the script then sleeps on the paced clock: one virtual second takes
//! one real second, so the kill lands there every time), with a site folder on
//! `HASCRIPT_PATH` holding copies of shipped scripts that the test then edits.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod sim_support;

use sim_support::{lines, run_id, text, CrashSite};

/// The shipped text of script `name` (from the source tree the binary embeds).
fn shipped(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scripts")
        .join(format!("{name}.rhai"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A test site with a `HASCRIPT_PATH` folder.
struct Env {
    crash: CrashSite,
    /// The `HASCRIPT_PATH` folder.
    site_scripts: PathBuf,
    /// The folder of the top script and its own module.
    work: PathBuf,
}

impl Env {
    fn new() -> Env {
        let crash = CrashSite::new("ldoms");
        let base = crash.state_home.parent().expect("dir").to_path_buf();
        let site_scripts = base.join("site-scripts");
        let work = base.join("work");
        std::fs::create_dir_all(&work).expect("work folder");
        Env {
            crash,
            site_scripts,
            work,
        }
    }

    /// Put `text` at `name`.rhai in the `HASCRIPT_PATH` folder; its path.
    fn put(&self, name: &str, text: &str) -> PathBuf {
        let p = self.site_scripts.join(format!("{name}.rhai"));
        std::fs::create_dir_all(p.parent().expect("parent")).expect("folder");
        std::fs::write(&p, text).expect("write");
        p
    }

    /// `hascript ARGS` with the `HASCRIPT_PATH` folder.
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = self.crash.cmd(args);
        c.env("HASCRIPT_PATH", &self.site_scripts);
        c
    }

    fn hascript(&self, args: &[&str]) -> (Option<i32>, String) {
        let o = self.cmd(args).output().expect("hascript runs");
        (
            o.status.code(),
            format!("{}{}", text(&o.stdout), text(&o.stderr)),
        )
    }

    /// The top script (in `work`, beside its own module `helper`): imports the module
    /// lib/ldoms/migration and its own helper, prepares the migration of guest2 to cd3
    /// (registering the routine ldoms/recover-migration), then sleeps until killed. Returns
    /// the dead run's id, killed after `clovmmigrate -p` completed.
    fn run_and_kill_after_prepare(&self) -> String {
        std::fs::write(self.work.join("helper.rhai"), "fn hello() { 1 }\n").expect("helper");
        let script = self.work.join("w.rhai");
        std::fs::write(
            &script,
            "import \"lib/ldoms/migration\" as m;\n\
             import \"helper\" as h;\n\
             step(\"17.3.1.1\", \"before live migration\", || cluster.prepare_migration(\"guest2\", \"cd3\"));\n\
             info(\"prepared\");\n\
             sleep(3600);\n",
        )
        .expect("script");
        let mut run = self.cmd(&[
            "run",
            script.to_str().expect("utf8"),
            "--sim",
            "--sim-state",
            self.crash.site_str(),
            "--yes",
        ]);
        run.env("HASCRIPT_SIM_PACE_MS", "1000")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = run.spawn().expect("spawn");
        let t = Instant::now();
        let journal = loop {
            let prepared = self.crash.journals().into_iter().find(|p| {
                lines(p)
                    .iter()
                    .any(|l| l["event"] == "info" && l["message"] == "prepared")
            });
            if let Some(p) = prepared {
                break p;
            }
            if let Ok(Some(s)) = child.try_wait() {
                panic!(
                    "the run ended before it was killed ({s}): {:?}",
                    self.crash.journal()
                );
            }
            assert!(t.elapsed() < Duration::from_secs(60), "the run hangs");
            std::thread::sleep(Duration::from_millis(5));
        };
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let ls = lines(&journal);
        assert!(
            !ls.iter().any(|l| l["event"] == "result"),
            "the run was killed before its end: {ls:?}"
        );
        assert!(
            ls.iter().any(|l| l["event"] == "recovery_registered"),
            "its routine is pending: {ls:?}"
        );
        run_id(&ls)
    }

    fn changes(&self) -> Vec<String> {
        self.crash.changes_sent(sim_support::is_change)
    }

    /// CF timeout 10 s and SF running on both guest nodes, guest2 active on one control
    /// domain.
    fn assert_protected(&self, what: &str) {
        for g in ["guest1", "guest2"] {
            let cf = self.crash.sim_exec(g, &["/opt/SMAW/bin/cfset", "-a"]);
            assert!(
                cf.contains("KEY: CLUSTER_TIMEOUT VALUE: 10\n"),
                "{what}: CF timeout on {g}:\n{cf}"
            );
            let sd = self.crash.sim_exec(g, &["/opt/SMAW/bin/sdtool", "-s"]);
            assert!(
                sd.contains("TestWorked") && !sd.contains("TestFailed"),
                "{what}: shutdown facility on {g}:\n{sd}"
            );
        }
    }

    fn assert_unprotected(&self, what: &str) {
        let cf = self
            .crash
            .sim_exec("guest1", &["/opt/SMAW/bin/cfset", "-a"]);
        assert!(
            cf.contains("KEY: CLUSTER_TIMEOUT VALUE: 600\n"),
            "{what}: the CF timeout is still 600 s:\n{cf}"
        );
    }
}

/// The `script_loaded` lines of `ls`.
fn loaded(ls: &[Value]) -> Vec<&Value> {
    ls.iter()
        .filter(|l| l["event"] == "script_loaded")
        .collect()
}

#[test]
fn the_journal_records_each_module_and_routine_procedure_once_with_its_sha256() {
    let env = Env::new();
    let lib = env.put("lib/ldoms/migration", &shipped("lib/ldoms/migration"));
    let dead = env.run_and_kill_after_prepare();
    let ls = env.crash.journal();
    let got = loaded(&ls);
    let find = |name: &str, kind: &str| {
        got.iter()
            .find(|l| l["name"] == name && l["kind"] == kind)
            .unwrap_or_else(|| panic!("no script_loaded {kind} {name} in {got:?}"))
    };
    let m = find("lib/ldoms/migration", "module");
    assert_eq!(m["origin"], "hascript_path");
    assert_eq!(m["path"], lib.to_str().expect("utf8"));
    let sha = |t: &str| {
        use sha2::Digest;
        format!("{:x}", sha2::Sha256::digest(t.as_bytes()))
    };
    assert_eq!(m["sha256"], sha(&shipped("lib/ldoms/migration")));
    let h = find("helper", "module");
    assert_eq!(h["origin"], "file");
    assert_eq!(
        h["path"],
        env.work.join("helper.rhai").to_str().expect("utf8")
    );
    // The routine's procedure, as it was when the routine was registered: before the
    // registration line (synced) and so before clovmmigrate -p.
    let r = find("ldoms/recover-migration", "routine");
    assert_eq!(r["origin"], "shipped");
    assert!(r.get("path").is_none(), "{r}");
    assert_eq!(r["sha256"], sha(&shipped("ldoms/recover-migration")));
    let at = |pred: &dyn Fn(&Value) -> bool| ls.iter().position(pred).expect("line");
    assert!(
        at(&|l| l["event"] == "script_loaded" && l["kind"] == "routine")
            < at(&|l| l["event"] == "command_start"
                && l["command"]
                    .as_str()
                    .unwrap_or("")
                    .contains("clovmmigrate -p")),
        "{ls:?}"
    );
    // Once per script.
    assert_eq!(got.len(), 3, "{got:?}");
    // Unchanged: the unwind asks nothing and restores the cluster.
    let (code, out) = env.hascript(&["unwind", &dead]);
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("changed since"), "{out}");
    env.assert_protected("unwind");
}

#[test]
fn resume_refuses_when_a_module_the_dead_run_loaded_changed() {
    let env = Env::new();
    let original = shipped("lib/ldoms/migration");
    let lib = env.put("lib/ldoms/migration", &original);
    let dead = env.run_and_kill_after_prepare();
    let sent = env.changes();
    // A site engineer edits the module between the crash and the resume.
    env.put(
        "lib/ldoms/migration",
        &format!("{original}\n// paged the on-call\n"),
    );
    let (code, out) = env.hascript(&["resume", &dead]);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("module lib/ldoms/migration")
            && out.contains(lib.to_str().expect("utf8"))
            && out.contains("put them back as they were")
            && out.contains(&format!("hascript unwind {dead}")),
        "the refusal names the file and what to do: {out}"
    );
    assert_eq!(env.changes(), sent, "nothing was sent");
    assert_eq!(env.crash.journals().len(), 1, "no run started: {out}");
    env.assert_unprotected("after the refusal");
    // The top script's own module edited: refused the same way.
    env.put("lib/ldoms/migration", &original);
    std::fs::write(env.work.join("helper.rhai"), "fn hello() { 2 }\n").expect("helper");
    let (code, out) = env.hascript(&["resume", &dead]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("module helper (file: "), "{out}");
    // Put back: resume runs (and, going on from the recorded step, finds nothing refused).
    std::fs::write(env.work.join("helper.rhai"), "fn hello() { 1 }\n").expect("helper");
    let (code, out) = env.hascript(&["resume", &dead]);
    assert!(!out.contains("changed since"), "{out}");
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn unwind_names_an_edited_routine_procedure_and_asks_before_running_it() {
    let env = Env::new();
    let original = shipped("ldoms/recover-migration");
    let routine = env.put("ldoms/recover-migration", &original);
    let dead = env.run_and_kill_after_prepare();
    let sent = env.changes();
    let edited = original.replace(
        "let result = m::recover(guest);",
        "info(\"site edit: paging the on-call\");\nlet result = m::recover(guest);",
    );
    assert_ne!(edited, original, "the edit applies");
    env.put("ldoms/recover-migration", &edited);
    // The top script's own module also changed: no routine runs it, so it is not named.
    std::fs::write(env.work.join("helper.rhai"), "fn hello() { 3 }\n").expect("helper");
    // No terminal, no --yes: declined, nothing sent, the dead run not taken over.
    let (code, out) = env.hascript(&["unwind", &dead]);
    assert_eq!(code, Some(5), "{out}");
    assert!(
        out.contains("procedure ldoms/recover-migration")
            && out.contains(routine.to_str().expect("utf8"))
            && out.contains("--yes"),
        "the warning names the routine's script and how to go on: {out}"
    );
    assert!(!out.contains("helper"), "{out}");
    assert_eq!(env.changes(), sent, "nothing was sent");
    assert_eq!(env.crash.journals().len(), 1, "no run started: {out}");
    env.assert_unprotected("after declining");
    // --yes: the routine runs as it is now, and the cluster is protected again.
    let (code, out) = env.hascript(&["unwind", &dead, "--yes"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("procedure ldoms/recover-migration"), "{out}");
    assert!(out.contains("site edit: paging the on-call"), "{out}");
    env.assert_protected("unwind --yes");
    // The unwind records the version it ran.
    let ls = env.crash.last_journal();
    assert!(
        loaded(&ls)
            .iter()
            .any(|l| l["name"] == "ldoms/recover-migration" && l["kind"] == "procedure"),
        "{ls:?}"
    );
}

#[test]
fn a_journal_written_before_script_loaded_still_resumes_and_unwinds() {
    let env = Env::new();
    let original = shipped("ldoms/recover-migration");
    env.put("ldoms/recover-migration", &original);
    env.put("lib/ldoms/migration", &shipped("lib/ldoms/migration"));
    let dead = env.run_and_kill_after_prepare();
    // As an older hascript wrote it: no script_loaded lines.
    let path = env.crash.journals()[0].clone();
    let kept: Vec<String> = lines(&path)
        .into_iter()
        .filter(|l| l["event"] != "script_loaded")
        .map(|l| l.to_string())
        .collect();
    std::fs::write(&path, kept.join("\n") + "\n").expect("journal");
    // Both scripts edited since: nothing is known to compare, so nothing is refused.
    env.put(
        "ldoms/recover-migration",
        &format!("{original}\n// edited\n"),
    );
    env.put(
        "lib/ldoms/migration",
        &format!("{}\n// edited\n", shipped("lib/ldoms/migration")),
    );
    let (code, out) = env.hascript(&["unwind", &dead]);
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("changed since"), "{out}");
    env.assert_protected("unwind of an older journal");
}

#[test]
fn an_older_journal_without_script_loaded_lines_still_resumes() {
    let env = Env::new();
    env.put("lib/ldoms/migration", &shipped("lib/ldoms/migration"));
    let dead = env.run_and_kill_after_prepare();
    let path = env.crash.journals()[0].clone();
    let kept: Vec<String> = lines(&path)
        .into_iter()
        .filter(|l| l["event"] != "script_loaded")
        .map(|l| l.to_string())
        .collect();
    std::fs::write(&path, kept.join("\n") + "\n").expect("journal");
    env.put(
        "lib/ldoms/migration",
        &format!("{}\n// edited\n", shipped("lib/ldoms/migration")),
    );
    let (code, out) = env.hascript(&["resume", &dead]);
    assert!(!out.contains("changed since"), "{out}");
    assert_eq!(code, Some(0), "{out}");
}
