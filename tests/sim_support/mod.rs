//! What the scenario tests share: the `hascript` binary, a folder-backed simulated site
//! (`hascript sim init`, `--sim-state`) with its command log, and which logged commands
//! change state.

#![allow(dead_code)] // each test file uses its own part

use std::path::PathBuf;
use std::process::{Command, Output};

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
        _ => false,
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
        match SimSite::open(&self.state) {
            Ok(site) => site
                .command_log()
                .into_iter()
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

    /// Run a procedure on the site; the result's log holds only what this run sent.
    pub fn run(&self, script: &str, params: &[&str], extra: &[&str]) -> Run {
        let before = self.log().len();
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
        let log = self.log();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            log: log
                .get(before..)
                .map(<[String]>::to_vec)
                .unwrap_or_default(),
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
