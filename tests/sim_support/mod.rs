//! What the scenario tests share: the `hascript` binary, a folder-backed simulated site
//! (`hascript sim init`, `--sim-state`) with its command log, and which logged commands
//! change state.

#![allow(dead_code)] // each test file uses its own part

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use hascript_sim::SimSite;

pub fn hascript(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hascript"))
        .args(args)
        .env_remove("HASCRIPT_PATH")
        // Journals and history of test runs stay in the build folder.
        .env("XDG_STATE_HOME", env!("CARGO_TARGET_TMPDIR"))
        .env("NO_COLOR", "1")
        .output()
        .expect("hascript runs")
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// Every command line the simulated hosts received, as `host: line` without the
    /// locale prefix.
    pub log: Vec<String>,
}

impl Run {
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// The state-changing commands, in order.
    pub fn changes(&self) -> Vec<String> {
        self.log.iter().filter(|l| is_change(l)).cloned().collect()
    }

    pub fn dump(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}\n--- stderr\n{}\n--- log\n{}",
            self.code,
            self.stdout,
            self.stderr,
            self.log.join("\n")
        )
    }
}

pub fn is_change(line: &str) -> bool {
    // hascript's own host lock (mkdir/dd/rm of /var/tmp/hascript.lock) is bookkeeping.
    if line.contains("/var/tmp/hascript.lock") {
        return false;
    }
    let words: Vec<&str> = line.split_whitespace().collect();
    let prog = words
        .get(1)
        .map(|p| p.rsplit('/').next().unwrap_or(p))
        .unwrap_or("");
    match prog {
        "clovmmigrate" => true,
        "ldm" => {
            let sub = words.get(2).copied().unwrap_or("");
            matches!(
                sub,
                "remove-spconfig"
                    | "rm-spconfig"
                    | "start-domain"
                    | "stop-domain"
                    | "cancel-operation"
            ) || (matches!(sub, "migrate-domain" | "migrate") && !words.contains(&"-n"))
        }
        "sdtool" => words.contains(&"-b") || words.contains(&"-e"),
        // Serviceguard, Integrity VM and the SG IVS toolkit.
        "cmmovevpkg" | "cmrunpkg" | "cmhaltpkg" | "cmmodpkg" | "cmmakepkg" | "cmapplyconf"
        | "cmdeleteconf" | "hpvmstart" | "hpvmstop" | "mkdir" | "chmod" | "cp" | "mv" | "rm"
        | "umask" | "kill" => true,
        // keytool -list only reads a key store.
        "keytool" => !words.contains(&"-list"),
        "hpvmmigrate" => !words.contains(&"-s"),
        "cmdeployvpkg" => true,
        // §5 step 3: installing cmappserver in a guest.
        "swinstall" => true,
        "rpm" => words
            .iter()
            .any(|w| w.starts_with("-i") || w.starts_with("-U") || w.starts_with("-e")),
        _ => false,
    }
}

/// Every command line the hosts of the site folder `state` received so far, as `host: line`
/// without the locale prefix (empty when there is no site there).
pub fn command_log(state: &Path) -> Vec<String> {
    command_log_after(state, 0)
}

/// The number of the last command the site in `state` received (0 when none).
pub fn last_seq(state: &Path) -> u64 {
    SimSite::open(state)
        .ok()
        .and_then(|s| s.command_log().last().map(|c| c.seq))
        .unwrap_or(0)
}

/// [`command_log`] from the command after number `seq` on (numbers, not positions: a
/// folder's log drops its oldest entries once it is large).
pub fn command_log_after(state: &Path, seq: u64) -> Vec<String> {
    match SimSite::open(state) {
        Ok(site) => site
            .command_log()
            .into_iter()
            .filter(|c| c.seq > seq)
            .map(|c| {
                format!(
                    "{}: {}",
                    c.host,
                    c.line
                        .trim_start_matches("LC_ALL=C ")
                        .trim_start_matches("LC_ALL=C; export LC_ALL; ")
                )
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// A folder-backed simulated site for one test (`--sim-state`), as an operator would keep
/// one: procedures run on it, `sim exec` inspects it, its command log shows what was sent.
pub struct Site {
    pub _dir: tempfile::TempDir,
    pub state: PathBuf,
}

impl Site {
    /// A fresh site from a scenario (or the default site), made with `hascript sim init`.
    pub fn new(scenario: Option<&str>) -> Site {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = dir.path().join("site");
        let mut args = vec!["sim", "init", "--state", state.to_str().expect("utf8")];
        if let Some(s) = scenario {
            args.extend(["--scenario", s]);
        }
        let out = hascript(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Site { _dir: dir, state }
    }

    /// Every command line the site's hosts received so far, as `host: line` without the
    /// locale prefix.
    pub fn log(&self) -> Vec<String> {
        command_log(&self.state)
    }

    /// Run a procedure on the site; the result's log holds only what this run sent.
    pub fn run(&self, script: &str, params: &[&str], extra: &[&str]) -> Run {
        let before = last_seq(&self.state);
        let mut args = vec![
            "run",
            script,
            "--sim",
            "--sim-state",
            self.state.to_str().expect("utf8"),
        ];
        for p in params {
            args.extend(["-p", p]);
        }
        args.extend_from_slice(extra);
        let out = hascript(&args);
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            log: command_log_after(&self.state, before),
        }
    }

    /// [`Site::run`] with environment variables set (`Some`) or removed (`None`), applied
    /// last, e.g. a procedure's secrets, or `HASCRIPT_PATH` for a site's edited copies.
    pub fn run_env(
        &self,
        script: &str,
        params: &[&str],
        extra: &[&str],
        env: &[(&str, Option<&str>)],
    ) -> Run {
        let before = last_seq(&self.state);
        let mut c = Command::new(env!("CARGO_BIN_EXE_hascript"));
        c.args(["run", script, "--sim", "--sim-state"])
            .arg(&self.state)
            .env_remove("HASCRIPT_PATH")
            // Journals and history of test runs stay in the build folder.
            .env("XDG_STATE_HOME", env!("CARGO_TARGET_TMPDIR"))
            .env("NO_COLOR", "1");
        for p in params {
            c.args(["-p", p]);
        }
        c.args(extra);
        for (k, v) in env {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        let out = c.output().expect("hascript runs");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            log: command_log_after(&self.state, before),
        }
    }

    /// One command on one simulated host, as `hascript sim exec` runs it.
    pub fn exec(&self, host: &str, cmd: &[&str]) -> Output {
        let mut args = vec![
            "sim",
            "exec",
            "--state",
            self.state.to_str().expect("utf8"),
            "--host",
            host,
            "--",
        ];
        args.extend_from_slice(cmd);
        hascript(&args)
    }

    /// Like [`Site::exec`], expecting success.
    pub fn exec_ok(&self, host: &str, cmd: &[&str]) {
        let o = self.exec(host, cmd);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{host}: {cmd:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// Run a procedure on a fresh folder-backed site made from `scenario` (the first run
/// creates the folder, as `--sim SCENARIO --sim-state DIR` does).
pub fn run(script: &str, scenario: Option<&str>, params: &[&str], extra: &[&str]) -> (Run, Site) {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("site");
    let site = Site { _dir: dir, state };
    let mut args = vec!["run", script, "--sim"];
    if let Some(s) = scenario {
        args.push(s);
    }
    args.extend(["--sim-state", site.state.to_str().expect("utf8")]);
    for p in params {
        args.extend(["-p", p]);
    }
    args.extend_from_slice(extra);
    let out = hascript(&args);
    let r = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        log: site.log(),
    };
    (r, site)
}

// ----- killing a run and continuing it (resume, unwind) -------------------------------------

/// The text of a process's output.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A journal's lines (a torn last line is left out).
pub fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The run id in a journal's header.
pub fn run_id(ls: &[Value]) -> String {
    ls[0]["run"].as_str().expect("run id").to_string()
}

// ----- the Serviceguard site's end state (tests/resume_hpvm.rs, tests/edit_procedures_hpvm.rs) -----

/// The `State` column of the `[Virtual Machine Details]` row of `hpvmstatus -P VM`
/// (book/src/driver-hpvm.md), `None` when the host does not know the guest.
pub fn guest_state(details: &str, vm: &str) -> Option<String> {
    let mut ls = details.lines();
    ls.find(|l| l.trim() == "[Virtual Machine Details]")?;
    let row = ls.find(|l| l.split_whitespace().next() == Some(vm))?;
    // Name, VM #, OS type, then the state (which may hold a space: `On (OS)`).
    let words: Vec<&str> = row.split_whitespace().collect();
    Some(words.get(3..)?.join(" "))
}

/// `package:P|KEY=value` of `cmviewcl -v -f line`.
pub fn package_key<'a>(view: &'a str, pkg: &str, key: &str) -> Option<&'a str> {
    let prefix = format!("package:{pkg}|{key}=");
    view.lines().find_map(|l| l.strip_prefix(prefix.as_str()))
}

/// A folder-backed simulated site with a journal folder of its own (`XDG_STATE_HOME`), for
/// the tests that read a run's journal: runs killed with SIGKILL and continued with `resume`
/// or `unwind`, runs interrupted with Ctrl-C, host locks.
pub struct CrashSite {
    /// The test's folder: the site, the journals, scripts and a spawned run's output.
    dir: tempfile::TempDir,
    /// `XDG_STATE_HOME` of every process the test starts: the journals are under it.
    pub state_home: PathBuf,
    /// The `--sim-state` folder.
    pub site: PathBuf,
}

impl CrashSite {
    /// slvm1 runs on exactly one VM host, the package is up/running there, owned by it, with
    /// package switching enabled. Returns that host.
    pub fn assert_slvm1_protected(&self, what: &str) -> String {
        let mut running = Vec::new();
        let mut states = Vec::new();
        for h in ["node1", "node2"] {
            let out = self.sim_exec(h, &["/opt/hpvm/bin/hpvmstatus", "-P", "slvm1"]);
            let st = guest_state(&out, "slvm1");
            if st.as_deref().is_some_and(|s| s.starts_with("On")) {
                running.push(h);
            }
            states.push(format!("{h}: {st:?}"));
        }
        assert_eq!(
            running.len(),
            1,
            "{what}: slvm1 must run on exactly one VM host ({states:?})"
        );
        let host = running[0];
        let view = self.sim_exec("node1", &["/usr/sbin/cmviewcl", "-v", "-f", "line"]);
        let got = ["status", "state", "owner", "autorun"].map(|k| package_key(&view, "slvm1", k));
        assert_eq!(
            got,
            [Some("up"), Some("running"), Some(host), Some("enabled")],
            "{what}: package slvm1 (status, state, owner, autorun) with the guest on {host}:\n{view}"
        );
        host.to_string()
    }

    /// The LDoms site protected: guest2 active on exactly one control domain, CF timeout 10 s
    /// and the shutdown facility running with TestWorked on both guest nodes (what every
    /// crash, resume and unwind test of the live migration ends with).
    pub fn assert_guest2_protected(&self, what: &str) {
        let mut active = Vec::new();
        let mut seen = 0;
        for cd in ["cd1", "cd2", "cd3", "cd4"] {
            let out = self.sim_exec(cd, &["/usr/sbin/ldm", "list", "-p"]);
            for l in out.lines().filter(|l| l.contains("|name=guest2|")) {
                seen += 1;
                if l.contains("|state=active|") {
                    active.push(cd);
                }
            }
        }
        assert_eq!(
            (seen, active.len()),
            (1, 1),
            "{what}: guest2 must be active on exactly one control domain (active on {active:?}, {seen} entries)"
        );
        for g in ["guest1", "guest2"] {
            let cf = self.sim_exec(g, &["/opt/SMAW/bin/cfset", "-a"]);
            assert!(
                cf.contains("KEY: CLUSTER_TIMEOUT VALUE: 10\n"),
                "{what}: CF timeout on {g}:\n{cf}"
            );
            let sd = self.sim_exec(g, &["/opt/SMAW/bin/sdtool", "-s"]);
            assert!(
                sd.contains("Cluster Host")
                    && sd.contains("TestWorked")
                    && !sd.contains("TestFailed"),
                "{what}: shutdown facility on {g}:\n{sd}"
            );
        }
    }

    /// A fresh site from `scenario`, made with `hascript sim init`.
    pub fn new(scenario: &str) -> CrashSite {
        CrashSite::init(Some(scenario))
    }

    /// A fresh site from `scenario`, or the simulator's default site when `None`, made with
    /// `hascript sim init`.
    pub fn init(scenario: Option<&str>) -> CrashSite {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = CrashSite {
            state_home: dir.path().join("state"),
            site: dir.path().join("site"),
            dir,
        };
        let mut args = vec!["sim", "init", "--state", e.site_str()];
        if let Some(s) = scenario {
            args.extend(["--scenario", s]);
        }
        let o = e.hascript(&args);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        e
    }

    /// A script file `name` with `body` in the test's folder; its path.
    pub fn script(&self, name: &str, body: &str) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, body).expect("script written");
        p.to_str().expect("utf8").to_string()
    }

    /// The site folder as a string.
    pub fn site_str(&self) -> &str {
        self.site.to_str().expect("utf8")
    }

    /// `hascript ARGS` with this site's journal folder, no terminal.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_hascript"));
        c.args(args)
            .env_remove("HASCRIPT_PATH")
            .env_remove("HASCRIPT_SIM_PACE_MS")
            .env("XDG_STATE_HOME", &self.state_home)
            .env("USER", "nightops")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        c
    }

    /// Run `hascript ARGS` to its end.
    pub fn hascript(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("hascript runs")
    }

    /// `hascript run SCRIPT --sim --sim-state DIR -p PARAM… --yes`.
    pub fn run_cmd(&self, script: &str, params: &[&str]) -> Command {
        self.run_with(script, params, &["--yes"])
    }

    /// `hascript run SCRIPT --sim --sim-state DIR -p PARAM… EXTRA…` (no `--yes` unless
    /// `extra` has it: a confirmation then finds no terminal).
    pub fn run_with(&self, script: &str, params: &[&str], extra: &[&str]) -> Command {
        let mut args = vec!["run", script, "--sim", "--sim-state", self.site_str()];
        for p in params {
            args.extend(["-p", p]);
        }
        args.extend_from_slice(extra);
        self.cmd(&args)
    }

    /// [`CrashSite::run_with`], run to its end.
    pub fn run(&self, script: &str, params: &[&str], extra: &[&str]) -> Output {
        self.run_with(script, params, extra)
            .output()
            .expect("hascript runs")
    }

    /// Start `cmd` (from [`CrashSite::cmd`]) with its output going to files in the test's
    /// folder, read with [`CrashSite::output`].
    pub fn spawn(&self, mut cmd: Command) -> Child {
        let out = std::fs::File::create(self.dir.path().join("out")).expect("out");
        let err = std::fs::File::create(self.dir.path().join("err")).expect("err");
        cmd.stdout(out).stderr(err).spawn().expect("spawn")
    }

    /// What the process started by [`CrashSite::spawn`] wrote so far, stdout then stderr.
    pub fn output(&self) -> String {
        let r = |f: &str| std::fs::read_to_string(self.dir.path().join(f)).unwrap_or_default();
        format!("{}{}", r("out"), r("err"))
    }

    /// The journals, oldest first.
    pub fn journals(&self) -> Vec<PathBuf> {
        let dir = self.state_home.join("hascript").join("runs");
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    /// The first run's journal lines (none before it has one).
    pub fn journal(&self) -> Vec<Value> {
        self.journals()
            .first()
            .map(|p| lines(p))
            .unwrap_or_default()
    }

    /// The last run's journal lines (none before there is one).
    pub fn last_journal(&self) -> Vec<Value> {
        self.journals().last().map(|p| lines(p)).unwrap_or_default()
    }

    /// Start `run` and SIGKILL it once the journal it makes has `k` lines. Returns the dead
    /// run's journal, or `None` when the run finished first.
    pub fn kill_after(&self, mut run: Command, k: usize) -> Option<Vec<Value>> {
        let before = self.journals();
        let new = || self.journals().into_iter().find(|p| !before.contains(p));
        let mut child = run
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let t = Instant::now();
        let mut journal: Option<PathBuf> = None;
        let (mut size, mut count) = (0, 0);
        loop {
            if journal.is_none() {
                journal = new();
            }
            // The lines are counted again only when the journal grew.
            if let Some(p) = &journal {
                let now = std::fs::metadata(p).map_or(0, |m| m.len());
                if now != size {
                    size = now;
                    count = std::fs::read(p)
                        .map(|b| b.iter().filter(|c| **c == b'\n').count())
                        .unwrap_or(0);
                }
            }
            if count >= k {
                let _ = child.kill(); // SIGKILL
                break;
            }
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            assert!(t.elapsed() < Duration::from_secs(120), "the run hangs");
            std::thread::sleep(Duration::from_micros(200));
        }
        let status = child.wait().expect("wait");
        let ls = lines(&journal.or_else(new).expect("a journal"));
        if status.success() || ls.iter().any(|l| l["event"] == "result") {
            return None;
        }
        Some(ls)
    }

    /// `hascript sim exec` of one command on one simulated host.
    pub fn sim_run(&self, host: &str, argv: &[&str]) -> Output {
        let mut args = vec![
            "sim",
            "exec",
            "--state",
            self.site_str(),
            "--host",
            host,
            "--",
        ];
        args.extend_from_slice(argv);
        self.hascript(&args)
    }

    /// [`CrashSite::sim_run`]'s standard output.
    pub fn sim_exec(&self, host: &str, argv: &[&str]) -> String {
        text(&self.sim_run(host, argv).stdout)
    }

    /// [`CrashSite::sim_run`], expecting success.
    pub fn sim_exec_ok(&self, host: &str, argv: &[&str]) {
        let o = self.sim_run(host, argv);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{host}: {argv:?}: {}",
            text(&o.stderr)
        );
    }

    /// The change commands the simulated hosts received, in order, as `host: line`.
    pub fn changes_sent(&self, is_change: fn(&str) -> bool) -> Vec<String> {
        command_log(&self.site)
            .into_iter()
            .filter(|l| is_change(l))
            .collect()
    }
}

/// Ctrl-C for `child`: SIGINT.
pub fn sigint(child: &Child) {
    // SAFETY: sending a signal to our own child process.
    let rc = unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    assert_eq!(rc, 0, "kill -INT");
}

/// A SIGKILL sweep over one procedure: on a fresh site each time, the procedure is killed
/// after its k-th journal line, then the dead run is resumed or unwound (alternately).
pub struct Sweep<'a> {
    /// The scenario of every fresh site.
    pub scenario: &'a str,
    /// The procedure.
    pub script: &'a str,
    /// Its `-p` parameters.
    pub params: &'a [&'a str],
    /// The journal line counts to kill after, from the complete run's journal; the runs
    /// killed at the first, third, … point are resumed, the others unwound.
    pub points: &'a (dyn Fn(&[Value]) -> Vec<usize> + Sync),
    /// The exit code of the complete run.
    pub run_exit: i32,
    /// The exit code a continuation must end with: `(site afterwards, unwind)`.
    pub exit: &'a (dyn Fn(&CrashSite, bool) -> i32 + Sync),
    /// Hosts on which no lock may be left.
    pub lock_hosts: &'a [&'a str],
    /// Which logged commands (`host: line`) change the cluster.
    pub is_change: fn(&str) -> bool,
    /// Asserts the end state after each continuation: `(site, unwind, what)`, `what`
    /// naming the case for messages.
    pub check: &'a (dyn Fn(&CrashSite, bool, &str) + Sync),
}

/// What a sweep did.
#[derive(Debug, Default)]
pub struct Swept {
    /// Journal lines of the complete run.
    pub full: usize,
    /// Runs killed before they ended.
    pub killed: usize,
    /// Of those, resumed.
    pub resumed: usize,
    /// Of those, unwound.
    pub unwound: usize,
    /// Dead runs that left a change command with an unknown outcome.
    pub unknown: usize,
    /// Dead runs that left a recovery routine pending.
    pub pending: usize,
    /// Where each killed run stopped: its journal's length and last event (and command),
    /// in the order of the lines.
    pub points: Vec<(usize, String)>,
}

/// Sweeps run their kill points on this many threads.
const SWEEP_THREADS: usize = 2;

/// `f` on every item, spread over [`SWEEP_THREADS`] threads (a panic in one fails the test).
pub fn in_parallel<T: Sync>(items: &[T], f: impl Fn(&T) + Sync) {
    std::thread::scope(|scope| {
        for t in 0..SWEEP_THREADS {
            let f = &f;
            scope.spawn(move || items.iter().skip(t).step_by(SWEEP_THREADS).for_each(f));
        }
    });
}

/// Run a [`Sweep`]. After each continuation: its exit code, the end state (`check`), no
/// completed change command sent twice (the simulated hosts' command log), the new run
/// records what it took over, the dead run cannot be taken over twice, no lock is left.
pub fn sweep(s: &Sweep) -> Swept {
    let complete = {
        let env = CrashSite::new(s.scenario);
        let o = env.run_cmd(s.script, s.params).output().expect("run");
        assert_eq!(o.status.code(), Some(s.run_exit), "{}", text(&o.stderr));
        lines(&env.journals()[0])
    };
    let points: Vec<(usize, bool)> = (s.points)(&complete)
        .into_iter()
        .enumerate()
        .map(|(i, k)| (k, i % 2 == 1))
        .collect();
    let all = std::sync::Mutex::new(Swept {
        full: complete.len(),
        ..Swept::default()
    });
    in_parallel(&points, |(k, unwind)| {
        if let Some(one) = kill_and_continue(s, *k, *unwind) {
            let mut a = all.lock().unwrap_or_else(|p| p.into_inner());
            a.killed += 1;
            a.resumed += one.resumed;
            a.unwound += one.unwound;
            a.unknown += one.unknown;
            a.pending += one.pending;
            a.points.extend(one.points);
        }
    });
    let mut all = all.into_inner().unwrap_or_else(|p| p.into_inner());
    all.points.sort();
    all
}

/// One point of a [`sweep`]: `None` when the run ended before line `k`.
fn kill_and_continue(s: &Sweep, k: usize, unwind: bool) -> Option<Swept> {
    let mut done = Swept::default();
    let env = CrashSite::new(s.scenario);
    let dead = env.kill_after(env.run_cmd(s.script, s.params), k)?;
    let id = run_id(&dead);
    let pending = dead
        .iter()
        .filter(|l| l["event"] == "recovery_registered")
        .count()
        > dead.iter().filter(|l| l["event"] == "recovery_run").count();
    done.pending = usize::from(pending);
    let last = dead
        .last()
        .map(|l| {
            format!(
                "{} {}",
                l["event"].as_str().unwrap_or("?"),
                l["command"].as_str().unwrap_or_default()
            )
        })
        .unwrap_or_default();
    let what = format!(
        "{}: killed after line {} ({last}), then {}",
        s.scenario,
        dead.len(),
        if unwind { "unwind" } else { "resume" }
    );
    let unknown: Vec<&str> = dead
        .iter()
        .filter(|l| {
            l["event"] == "command_start"
                && l["purpose"] == "procedure"
                && !dead
                    .iter()
                    .any(|e| e["event"] == "command_end" && e["seq"] == l["seq"])
        })
        .filter_map(|l| l["command"].as_str())
        .collect();
    done.unknown = usize::from(!unknown.is_empty());
    done.points.push((dead.len(), last.clone()));
    let o = if unwind {
        done.unwound = 1;
        env.hascript(&["unwind", &id])
    } else {
        done.resumed = 1;
        if !unknown.is_empty() {
            // An unknown outcome needs an explicit option (no terminal here: exit 5).
            let o = env.hascript(&["resume", &id]);
            assert_eq!(o.status.code(), Some(5), "{what}: {}", text(&o.stderr));
            assert!(text(&o.stderr).contains("--retry-unknown"), "{what}");
        }
        env.hascript(&["resume", &id, "--retry-unknown"])
    };
    let out = format!("{}{}", text(&o.stdout), text(&o.stderr));
    let want = (s.exit)(&env, unwind);
    assert_eq!(o.status.code(), Some(want), "{what}:\n{out}");
    if unwind && pending {
        assert!(out.contains("recovery routine #1"), "{what}:\n{out}");
    }
    (s.check)(&env, unwind, &what);
    assert_sent_once(&env, s.is_change, &what, &|c| {
        // Only a change the dead run left with an unknown outcome may be sent again
        // (`--retry-unknown`); a completed one, never.
        !unwind && unknown.iter().any(|u| c.ends_with(u))
    });
    // The run that took over records it, and the dead run cannot be taken over twice.
    let second = lines(env.journals().last().expect("journal"));
    let key = if unwind { "unwinds" } else { "resumed_from" };
    assert_eq!(second[0][key], id.as_str(), "{what}");
    assert_eq!(
        second.last().map(|l| l["exit"].clone()),
        Some(want.into()),
        "{what}"
    );
    let again = env.hascript(&[if unwind { "unwind" } else { "resume" }, &id]);
    assert_eq!(again.status.code(), Some(2), "{what}");
    assert!(text(&again.stderr).contains("already taken over"), "{what}");
    assert_no_lock(&env, s.lock_hosts, &what);
    Some(done)
}

/// Every change command (`is_change`) reached the hosts once, or twice where `retry` allows.
pub fn assert_sent_once(
    env: &CrashSite,
    is_change: fn(&str) -> bool,
    what: &str,
    retry: &dyn Fn(&str) -> bool,
) {
    let sent = env.changes_sent(is_change);
    for c in &sent {
        let n = sent.iter().filter(|l| *l == c).count();
        assert!(
            n == 1 || (n == 2 && retry(c)),
            "{what}: {c} was sent {n} times; changes sent: {sent:#?}"
        );
    }
}

/// No hascript lock is left on `hosts`. (The simulated hosts have no `ls`: `mkdir` of the
/// lock fails only when it exists; a successful probe is undone.)
pub fn assert_no_lock(env: &CrashSite, hosts: &[&str], what: &str) {
    const LOCK: &str = "/var/tmp/hascript.lock";
    for h in hosts {
        let made = env.sim_run(h, &["mkdir", LOCK]);
        let err = text(&made.stderr);
        assert_eq!(
            made.status.code(),
            Some(0),
            "{what}: lock left on {h}: {err}"
        );
        env.sim_exec_ok(h, &["rm", "-r", LOCK]);
    }
}

/// Secret values every JSON run gets in its environment (the store passwords of
/// `hpvm/setup-appmon-keys`), so that tests can search for them.
pub const SECRETS: [(&str, &str); 3] = [
    ("HASCRIPT_SECRET_STOREPASS_CLIENT", "Cl1ent-T0p-Secret"),
    ("HASCRIPT_SECRET_STOREPASS_SERVER", "Serv3r-T0p-Secret"),
    ("HASCRIPT_SECRET_STOREPASS_PUBLIC", "Publ1c-T0p-Secret"),
];

/// One run with `--output json`: what ran, exit code, events, standard error.
pub struct JsonRun {
    pub what: String,
    pub code: i32,
    pub events: Vec<Value>,
    pub stderr: String,
}

impl JsonRun {
    /// The events of kind `kind`.
    pub fn of(&self, kind: &str) -> Vec<&Value> {
        self.events.iter().filter(|e| e["event"] == kind).collect()
    }

    /// Everything, for an assertion's message.
    pub fn dump(&self) -> String {
        let lines: Vec<String> = self.events.iter().map(Value::to_string).collect();
        format!(
            "{}: exit {}\n--- events\n{}\n--- stderr\n{}",
            self.what,
            self.code,
            lines.join("\n"),
            self.stderr
        )
    }
}

/// `hascript run SCRIPT --sim --sim-state DIR -p … EXTRA --output json`.
pub fn run_json(site: &Site, script: &str, params: &[&str], extra: &[&str]) -> JsonRun {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hascript"));
    c.args(["run", script, "--sim", "--sim-state"])
        .arg(&site.state)
        .args(["--output", "json"])
        .env_remove("HASCRIPT_PATH")
        .env("XDG_STATE_HOME", env!("CARGO_TARGET_TMPDIR"))
        .env("NO_COLOR", "1");
    for (k, v) in SECRETS {
        c.env(k, v);
    }
    for p in params {
        c.args(["-p", p]);
    }
    c.args(extra);
    let out = c.output().expect("hascript runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let events = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    JsonRun {
        what: format!("{script} {params:?}"),
        code: out.status.code().unwrap_or(-1),
        events,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

// ----- a site's edited copies of the shipped procedures (tests/edit_procedures*.rs) -----

/// A folder on `HASCRIPT_PATH` holding a site's edited copies.
pub struct SiteDir {
    dir: tempfile::TempDir,
}

impl SiteDir {
    /// An empty folder.
    pub fn new() -> SiteDir {
        SiteDir {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// The folder, for `HASCRIPT_PATH`.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `text` with each `(find, replacement)` applied; `find` must occur exactly once (an
    /// edit that misses its place would make the test vacuous).
    pub fn edited(text: &str, edits: &[(&str, &str)]) -> String {
        let mut t = text.to_string();
        for (find, with) in edits {
            assert_eq!(t.matches(find).count(), 1, "{find:?} must occur once");
            t = t.replace(find, with);
        }
        t
    }

    /// Copy `shipped` to `<folder>/<name>.rhai` with `edits` applied.
    pub fn copy(&self, name: &str, shipped: &str, edits: &[(&str, &str)]) {
        let p = self.path().join(format!("{name}.rhai"));
        std::fs::create_dir_all(p.parent().expect("folder")).expect("mkdir");
        std::fs::write(&p, SiteDir::edited(shipped, edits)).expect("write");
    }

    /// `cmd` with this folder as `HASCRIPT_PATH`.
    pub fn on(&self, mut cmd: Command) -> Command {
        cmd.env("HASCRIPT_PATH", self.path());
        cmd
    }
}

/// What a finished run printed and sent, with its journal.
pub struct Done {
    /// The exit code (-1 when killed).
    pub code: i32,
    /// stdout then stderr.
    pub out: String,
    /// The commands the site received during the run, `host: line`.
    pub log: Vec<String>,
    /// The run's journal.
    pub journal: Vec<Value>,
}

impl Done {
    /// Everything, for an assertion's message.
    pub fn dump(&self) -> String {
        format!(
            "exit {}\n{}\n--- log\n{}",
            self.code,
            self.out,
            self.log.join("\n")
        )
    }

    /// The change commands the site received.
    pub fn changes(&self) -> Vec<String> {
        self.log.iter().filter(|l| is_change(l)).cloned().collect()
    }

    /// Whether a command holding `needle` reached the site.
    pub fn sent(&self, needle: &str) -> bool {
        self.log.iter().any(|l| l.contains(needle))
    }

    /// The index of the first journal line `f` accepts; the test fails naming `what`.
    pub fn at(&self, what: &str, f: impl Fn(&Value) -> bool) -> usize {
        self.journal
            .iter()
            .position(f)
            .unwrap_or_else(|| panic!("no {what} in the journal\n{}", self.dump()))
    }

    /// The journal line of the step of `section`.
    pub fn step(&self, section: &str) -> usize {
        self.at(&format!("step {section}"), |l| {
            l["event"] == "step" && l["section"] == section
        })
    }

    /// The journal line where the first command containing `needle` was sent.
    pub fn command(&self, needle: &str) -> usize {
        self.at(needle, |l| {
            (l["event"] == "command_start" || l["event"] == "command_end")
                && l["command"].as_str().is_some_and(|c| c.contains(needle))
        })
    }
}

/// Run `cmd` (a command of `env`) to its end.
pub fn finish(env: &CrashSite, cmd: Command) -> Done {
    let before = last_seq(&env.site);
    let journals = env.journals();
    let mut cmd = cmd;
    let o = cmd.output().expect("hascript runs");
    let journal = env
        .journals()
        .into_iter()
        .find(|p| !journals.contains(p))
        .map(|p| lines(&p))
        .unwrap_or_default();
    Done {
        code: o.status.code().unwrap_or(-1),
        out: format!("{}{}", text(&o.stdout), text(&o.stderr)),
        log: command_log_after(&env.site, before),
        journal,
    }
}

/// Write `text` to `dir/name` (a test's setup: failing to is the test's failure).
fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    if let Err(e) = std::fs::write(&p, text) {
        panic!("cannot write {}: {e}", p.display());
    }
    p
}

/// `dir/local.toml`: an LDoms inventory for this machine, the local transport for every
/// host (`cd1` with its box and XSCF addresses, guests `g1` and `g2`).
pub fn local_inventory(dir: &Path) -> PathBuf {
    write_file(
        dir,
        "local.toml",
        r#"driver = "ldoms"
description = "this machine"
[defaults]
transport = "local"
[[host]]
name = "cd1"
role = "control-domain"
box = "box1"
ppar_id = 0
xscf = ["192.0.2.1", "192.0.2.2"]
[[host]]
name = "g1"
role = "guest-domain"
[[host]]
name = "g2"
role = "guest-domain"
"#,
    )
}

/// `dir/NAME`: an LDoms inventory for this machine, `cd1` and `g1` on the local transport
/// and a guest `g2` described by `g2` (its transport and credentials: an SSH guest no test
/// contacts, or `transport = "local"`).
pub fn local_inventory_with_g2(dir: &Path, name: &str, g2: &str) -> PathBuf {
    write_file(
        dir,
        name,
        &format!(
            r#"driver = "ldoms"
description = "this machine, and an SSH guest never contacted"
[[host]]
name = "cd1"
role = "control-domain"
box = "box1"
ppar_id = 0
xscf = ["192.0.2.1", "192.0.2.2"]
transport = "local"
[[host]]
name = "g1"
role = "guest-domain"
transport = "local"
[[host]]
name = "g2"
role = "guest-domain"
{g2}"#
        ),
    )
}

/// The child's exit code within `limit` (`None`: killed by a signal) and how long it took;
/// kills it and fails when it is still running then (a signal or Ctrl-C did not stop it).
pub fn exit_within(child: &mut Child, limit: Duration) -> (Option<i32>, Duration) {
    let t = Instant::now();
    loop {
        if let Ok(Some(s)) = child.try_wait() {
            return (s.code(), t.elapsed());
        }
        if t.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running {limit:?} after the signal (Ctrl-C or another)");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The journal lines `ls` of event `kind`, in order.
pub fn event<'a>(ls: &'a [Value], kind: &str) -> Vec<&'a Value> {
    ls.iter().filter(|l| l["event"] == kind).collect()
}
