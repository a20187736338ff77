//! The canary test (issue 5, item 7): unique secret values sent through every path —
//! success, failure (wrong store passwords), a timeout with a secret in its argv, the error
//! report, `--output json`, the journal files, `hascript journal list/show` (human and
//! json), the local transport (process list, environment of its children), SSH login and
//! sudo passwords named by the inventory — and searched for on this machine's side:
//! standard output and error of every command, every file under the temporary HOME,
//! XDG_STATE_HOME and TMPDIR the runs were given, and the process list while a command
//! runs. The simulated hosts must have received them (their command log and files), which
//! also proves the search finds a canary where one is; a deliberate leak into a control
//! folder proves it once more.

mod sim_support;
mod ssh_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sim_support::{local_inventory, Site};

/// A value no run could produce by accident.
fn canary(tag: &str) -> String {
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("Cnry{tag}{}x{n}Q", std::process::id())
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// Every file under `dir` whose bytes contain `needle` (symbolic links not followed).
fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                todo.push(p);
            } else if ft.is_file() {
                if let Ok(b) = std::fs::read(&p) {
                    if contains(&b, needle.as_bytes()) {
                        found.push(p);
                    }
                }
            }
        }
    }
    found
}

/// Processes whose command line (`/proc/PID/cmdline`) contains `needle`.
fn processes_with(needle: &str) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in rd.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Ok(b) = std::fs::read(format!("/proc/{pid}/cmdline")) {
            if contains(&b, needle.as_bytes()) {
                out.push(pid);
            }
        }
    }
    out
}

/// Every descendant of `pid` (not `pid` itself).
fn descendants(pid: u32) -> Vec<u32> {
    let mut all = vec![pid];
    let mut i = 0;
    while i < all.len() {
        let kids = ssh_support::children_of(all[i]);
        all.extend(kids);
        i += 1;
    }
    all.remove(0);
    all
}

/// This machine's side of the runs: HOME, XDG_STATE_HOME, TMPDIR (all temporary), and
/// everything the runs printed.
struct Local {
    dir: tempfile::TempDir,
    shown: Vec<(String, String)>,
}

impl Local {
    fn new() -> Local {
        let dir = tempfile::tempdir().expect("tempdir");
        for d in ["home", "state", "tmp"] {
            std::fs::create_dir_all(dir.path().join(d)).expect("mkdir");
        }
        Local {
            dir,
            shown: Vec::new(),
        }
    }

    fn path(&self, d: &str) -> PathBuf {
        self.dir.path().join(d)
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_hascript"));
        c.args(args)
            .env_remove("HASCRIPT_PATH")
            .env("HOME", self.path("home"))
            .env("XDG_STATE_HOME", self.path("state"))
            .env("TMPDIR", self.path("tmp"))
            // Hosts on the local transport lock in this test's own folder, never in the
            // machine's /var/tmp (another run on this machine must not refuse this one).
            .env("HASCRIPT_LOCK_DIR", self.path("tmp"))
            .env("NO_COLOR", "1")
            .current_dir(self.path("home"))
            .stdin(Stdio::null());
        for (k, _) in std::env::vars() {
            if k.starts_with("HASCRIPT_SECRET_") {
                c.env_remove(k);
            }
        }
        c
    }

    /// Keep what a command printed, labelled, for the final search; return its exit code
    /// and text.
    fn keep(&mut self, label: &str, o: &Output) -> (i32, String) {
        let text = format!(
            "{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        self.shown.push((label.to_string(), text.clone()));
        (o.status.code().unwrap_or(-1), text)
    }

    fn run(&mut self, label: &str, mut c: Command) -> (i32, String) {
        let o = c.output().expect("hascript runs");
        self.keep(label, &o)
    }

    /// `journal list`, and `journal show` (human and json) of every recorded run.
    fn journals(&mut self) -> usize {
        let (code, list) = self.run("journal list", self.cmd(&["journal", "list"]));
        assert_eq!(code, 0, "{list}");
        let ids: Vec<String> = list
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .filter(|w| w.contains('T') && w.contains('-'))
            .map(str::to_string)
            .collect();
        for id in &ids {
            for out in ["human", "json"] {
                let (code, t) = self.run(
                    &format!("journal show {id} {out}"),
                    self.cmd(&["journal", "show", id, "--output", out]),
                );
                assert_eq!(code, 0, "{t}");
            }
        }
        ids.len()
    }

    /// Where `needle` appears on this machine's side: labels of printed texts and files.
    fn leaks(&self, needle: &str) -> Vec<String> {
        let mut l: Vec<String> = self
            .shown
            .iter()
            .filter(|(_, t)| t.contains(needle))
            .map(|(label, _)| format!("printed by {label}"))
            .collect();
        l.extend(
            files_containing(self.dir.path(), needle)
                .into_iter()
                .map(|p| format!("file {}", p.display())),
        );
        l
    }
}

#[test]
fn the_search_finds_a_deliberate_leak() {
    let c = canary("ctl");
    let mut local = Local::new();
    assert!(local.leaks(&c).is_empty());
    let deep = local.path("state/hascript/runs");
    std::fs::create_dir_all(&deep).expect("mkdir");
    std::fs::write(
        deep.join("x.jsonl"),
        format!("{{\"event\":\"info\",\"message\":\"pw {c} here\"}}\n"),
    )
    .expect("write");
    local
        .shown
        .push(("control".into(), format!("error: bad {c}\n")));
    let l = local.leaks(&c);
    assert_eq!(l.len(), 2, "{l:?}");
    // The process-list search finds a process whose argv holds a value.
    let mut child = Command::new("sh")
        .args(["-c", "sleep 20; true", &c])
        .spawn()
        .expect("sh");
    let t = Instant::now();
    let mut seen = Vec::new();
    while seen.is_empty() && t.elapsed() < Duration::from_secs(5) {
        seen = processes_with(&c);
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    // The shell itself; a child it is forking may still show the same argv for an instant.
    assert!(seen.contains(&child.id()), "{seen:?}");
}

const APPMON_VARS: [&str; 3] = [
    "HASCRIPT_SECRET_STOREPASS_CLIENT",
    "HASCRIPT_SECRET_STOREPASS_SERVER",
    "HASCRIPT_SECRET_STOREPASS_PUBLIC",
];

fn sim_run(
    local: &Local,
    site: &Site,
    script: &str,
    params: &[&str],
    extra: &[&str],
    env: &[(&str, &str)],
) -> Command {
    let state = site.state.to_string_lossy().into_owned();
    let mut args = vec!["run", script, "--sim", "--sim-state", &state];
    for p in params {
        args.extend(["-p", p]);
    }
    args.extend_from_slice(extra);
    let mut c = local.cmd(&args);
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

#[test]
fn appmon_store_passwords_and_script_secrets_never_reach_this_machines_side() {
    let base = canary("A");
    let values = [
        format!("{base}client"),
        format!("{base}server"),
        format!("{base}public"),
    ];
    let env: Vec<(&str, &str)> = APPMON_VARS
        .iter()
        .zip(values.iter())
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    let mut local = Local::new();

    // Success, human and json: new keys made with the canary passwords.
    for out in ["human", "json"] {
        let site = Site::new(Some("hpvm"));
        let c = sim_run(
            &local,
            &site,
            "hpvm/setup-appmon-keys",
            &["package=slvm1", "regenerate=yes"],
            &["--yes", "--output", out],
            &env,
        );
        let (code, text) = local.run(&format!("setup-appmon-keys {out}"), c);
        assert_eq!(code, 0, "{text}");
        // The hosts received every value: keytool's argv (the product forces it there)
        // and the configuration files written through stdin.
        let sent = site.log().join("\n");
        for v in &values {
            assert!(sent.contains(v.as_str()), "{v} was never sent:\n{sent}");
        }
        assert!(
            !files_containing(&site.state, &base).is_empty(),
            "the simulated hosts' files hold the canary"
        );
        if out == "json" {
            assert!(text.contains("-storepass *****"), "{text}");
        }
    }

    // Failure: the default site's stores use the manual's passwords; the canary ones are
    // wrong (exit 3), and the report shows the command with `*****`.
    for out in ["human", "json"] {
        let site = Site::new(Some("hpvm"));
        let c = sim_run(
            &local,
            &site,
            "hpvm/setup-appmon-keys",
            &["package=slvm1"],
            &["--output", out],
            &env,
        );
        let (code, text) = local.run(&format!("wrong passwords {out}"), c);
        assert_eq!(code, 3, "{text}");
        assert!(text.contains("*****"), "{text}");
        assert!(site.log().join("\n").contains(&base), "sent to the hosts");
    }

    // A script that does everything a script can with a secret: step titles and return
    // values, print/debug/info/warn, a command's argv and output (read and change), a
    // failing command, a caught error, a secret-looking -p value, and the uncaught error.
    let token = format!("{base}token");
    let param = format!("{base}param");
    let script = local.path("home/uses-secrets.rhai");
    std::fs::write(
        &script,
        r#"//! params: password
//! secrets: token
let v = step("S1", `step with ${secrets.token}`, || {
    let r = host("cd1").run(["echo", secrets.token], #{changes: false});
    r.stdout
});
print(v);
print(secrets);
debug(secrets.token);
info(`info ${secrets.token}`);
warn(`warn ${secrets.token}`);
print(params.password);
host("cd1").run(["true", secrets.token]);
try {
    host("cd1").run(["false", secrets.token], #{changes: false});
} catch (e) {
    print(e);
}
fail("check", `failed with ${secrets.token} and ${params.password}`);
"#,
    )
    .expect("write script");
    let script_s = script.to_string_lossy().into_owned();
    let pw = format!("password={param}");
    for out in ["human", "json"] {
        let site = Site::new(None);
        let c = sim_run(
            &local,
            &site,
            &script_s,
            &[&pw],
            &["--output", out],
            &[("HASCRIPT_SECRET_TOKEN", &token)],
        );
        let (code, text) = local.run(&format!("script {out}"), c);
        assert!(code == 3 || code == 4, "a check failure: {text}");
        assert!(text.contains("failed with ***** and *****"), "{text}");
        let sent = site.log().join("\n");
        assert!(sent.contains(&format!("cd1: echo {token}")), "{sent}");
        assert!(sent.contains(&format!("cd1: true {token}")), "{sent}");
        assert!(text.contains("*****"), "{text}");
    }

    let runs = local.journals();
    assert_eq!(runs, 6, "every run was journaled");
    let leaks = local.leaks(&base);
    assert!(leaks.is_empty(), "the canary leaked: {leaks:?}");
    // -p cannot carry a declared secret: refused, and its value is not repeated.
    let site = Site::new(None);
    let c = sim_run(
        &local,
        &site,
        &script_s,
        &[&format!("token={base}dashp")],
        &[],
        &[],
    );
    let (code, text) = local.run("secret with -p", c);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("process list"), "{text}");
    assert!(!text.contains(&base), "{text}");
    assert!(site.log().is_empty());
}

#[test]
fn the_local_transport_keeps_secrets_off_this_machines_process_list() {
    let base = canary("L");
    let token = format!("{base}token");
    let mut local = Local::new();
    let inv = local_inventory(&local.path("home"));
    let script = local.path("home/local.rhai");
    // The secret on standard input of a command that then sleeps past its timeout; then
    // the secret in an argv, which the local transport refuses.
    std::fs::write(
        &script,
        r#"//! secrets: token
try {
    host("cd1").run(["sh", "-c", "cat >/dev/null; sleep 30"], #{stdin: secrets.token, changes: false, timeout: 3});
} catch (e) {
    print(e);
}
host("cd1").run(["echo", secrets.token], #{changes: false});
"#,
    )
    .expect("write script");
    let mut c = local.cmd(&[
        "run",
        &script.to_string_lossy(),
        "-i",
        &inv.to_string_lossy(),
        "--output",
        "json",
    ]);
    c.env("HASCRIPT_SECRET_TOKEN", &token)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = c.spawn().expect("hascript runs");
    let pid = child.id();
    // While the command sleeps: nothing on this machine has the secret on its command
    // line, and no child of hascript has it in its environment.
    let t = Instant::now();
    let mut sleeper_seen = false;
    let mut in_argv = Vec::new();
    let mut in_env = Vec::new();
    while t.elapsed() < Duration::from_millis(2500) {
        in_argv.extend(processes_with(&base));
        for p in descendants(pid) {
            if let Ok(b) = std::fs::read(format!("/proc/{p}/cmdline")) {
                sleeper_seen |= contains(&b, b"sleep 30");
            }
            if let Ok(b) = std::fs::read(format!("/proc/{p}/environ")) {
                if contains(&b, base.as_bytes()) {
                    in_env.push(p);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let o = child.wait_with_output().expect("hascript ends");
    let (code, text) = local.keep("local transport", &o);
    assert!(sleeper_seen, "the sleeping command was observed: {text}");
    assert!(
        in_argv.is_empty(),
        "secret in a process's argv: {in_argv:?}"
    );
    assert!(
        in_env.is_empty(),
        "secret in a child's environment: {in_env:?}"
    );
    assert!(text.contains("did not finish within 3 s"), "{text}");
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("carries a secret on its command line") && text.contains("process list"),
        "{text}"
    );
    local.journals();
    let leaks = local.leaks(&base);
    assert!(leaks.is_empty(), "the canary leaked: {leaks:?}");
}

/// The inventory of one raw SSH host (the test user's shell runs the line) plus two unused
/// local guests.
fn ssh_inventory(dir: &Path, port: u16, pw_var: &str, sudo_var: &str) -> PathBuf {
    let p = dir.join(format!("ssh-{pw_var}-{sudo_var}.toml"));
    std::fs::write(
        &p,
        format!(
            r#"driver = "ldoms"
description = "one host over SSH"
[[host]]
name = "cd1"
role = "control-domain"
box = "box1"
ppar_id = 0
xscf = ["192.0.2.1", "192.0.2.2"]
transport = "ssh"
address = "127.0.0.2"
port = {port}
user = "{user}"
password = "env:{pw_var}"
become = "sudo"
become_password = "env:{sudo_var}"
command_timeout = 30
[[host]]
name = "g1"
role = "guest-domain"
transport = "local"
[[host]]
name = "g2"
role = "guest-domain"
transport = "local"
"#,
            user = ssh_support::USER
        ),
    )
    .expect("write inventory");
    p
}

#[test]
fn ssh_login_and_sudo_passwords_and_a_timeout_with_a_secret_in_argv() {
    use std::os::unix::process::CommandExt;
    let e = ssh_support::env();
    // Password logins only, so the login password is really used.
    let sshd = ssh_support::Sshd::start(
        vec![ssh_support::Addr {
            ip: "127.0.0.2".into(),
            force: None,
        }],
        &["ed25519"],
        "AuthenticationMethods password\nPasswordAuthentication yes\n",
    );
    let home = ssh_support::Home::new(&sshd.known_hosts, "");
    let base = canary("S");
    let token = format!("{base}token");
    let wrong = format!("{base}wrong");
    let mut local = Local::new();
    // The runs are the test user's: their HOME is the SSH home; journals in it.
    let state = home.path.join("state");
    std::fs::create_dir_all(&state).expect("mkdir");
    let inv = ssh_inventory(&home.path, sshd.port, "HS_CANARY_PW", "HS_CANARY_PW");
    let inv_wrong = ssh_inventory(&home.path, sshd.port, "HS_CANARY_PW", "HS_CANARY_WRONG");
    let script = home.path.join("ssh.rhai");
    std::fs::write(
        &script,
        r#"//! secrets: token
let r = host("cd1").run(["id", "-u"], #{changes: false});
print(`uid ${r.stdout}`);
try {
    host("cd1").run(["sh", "-c", "sleep 30", secrets.token], #{changes: false, timeout: 2});
} catch (e) {
    print(e);
}
"#,
    )
    .expect("write script");
    home.give_to(ssh_support::USER);
    let (uid, gid) = ssh_support::ids(ssh_support::USER);
    let run = |local: &mut Local, label: &str, inv: &Path, out: &str| {
        let mut c = Command::new(&e.hascript);
        c.args([
            "run",
            &script.to_string_lossy(),
            "-i",
            &inv.to_string_lossy(),
        ])
        .args(["--output", out])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", &home.path)
        .env("USER", ssh_support::USER)
        .env("XDG_STATE_HOME", &state)
        .env("HS_CANARY_PW", &e.password)
        .env("HS_CANARY_WRONG", &wrong)
        .env("HASCRIPT_SECRET_TOKEN", &token)
        .current_dir(&home.path)
        .stdin(Stdio::null())
        .uid(uid)
        .gid(gid);
        local.run(label, c)
    };
    for out in ["human", "json"] {
        let (code, text) = run(&mut local, &format!("ssh {out}"), &inv, out);
        assert_eq!(code, 0, "{text}");
        // sudo accepted the password (received on the host): the command ran as root.
        assert!(text.contains("uid 0"), "{text}");
        assert!(text.contains("did not finish within 2 s"), "{text}");
        assert!(text.contains("sh -c 'sleep 30' *****"), "{text}");
    }
    assert!(
        sshd.log().contains("Accepted password for hstest"),
        "the login password was received: {}",
        sshd.log()
    );
    let (code, text) = run(&mut local, "ssh wrong sudo password", &inv_wrong, "human");
    assert_ne!(code, 0, "{text}");
    assert!(text.contains("did not accept become_password"), "{text}");
    // Journals of the test user, read back as the test user would.
    let mut c = Command::new(&e.hascript);
    c.args(["journal", "list"])
        .env("XDG_STATE_HOME", &state)
        .stdin(Stdio::null());
    let (code, list) = local.run("journal list (ssh)", c);
    assert_eq!(code, 0, "{list}");
    let ids: Vec<String> = list
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    assert_eq!(ids.len(), 3, "{list}");
    for id in &ids {
        for out in ["human", "json"] {
            let mut c = Command::new(&e.hascript);
            c.args(["journal", "show", id, "--output", out])
                .env("XDG_STATE_HOME", &state)
                .stdin(Stdio::null());
            let (code, t) = local.run(&format!("journal show {id}"), c);
            assert_eq!(code, 0, "{t}");
        }
    }
    for needle in [e.password.as_str(), base.as_str()] {
        let mut leaks = local.leaks(needle);
        leaks.extend(
            files_containing(&home.path, needle)
                .into_iter()
                .map(|p| format!("file {}", p.display())),
        );
        assert!(leaks.is_empty(), "a canary leaked: {leaks:?}");
        assert!(
            !sshd.log().contains(needle),
            "the server logged a secret on a command line"
        );
    }
}

/// This machine as `cd1`, `g1` (local transport) and one SSH guest `g2` that no test
/// contacts, whose login, key and sudo passwords come from `pw_var`, `key_var`, `sudo_var`
/// (inventory secrets named by `env:`); without `pw_var`, `g2` is local too and the
/// inventory names no secret (the control runs).
fn local_inventory_with_ssh_secrets(dir: &Path, vars: Option<(&str, &str, &str)>) -> PathBuf {
    let g2 = match vars {
        Some((pw, key, sudo)) => format!(
            "transport = \"ssh\"\naddress = \"192.0.2.10\"\nuser = \"root\"\npassword = \"env:{pw}\"\nkey_passphrase = \"env:{key}\"\nbecome = \"sudo\"\nbecome_password = \"env:{sudo}\"\n"
        ),
        None => "transport = \"local\"\n".to_string(),
    };
    let name = if vars.is_some() {
        "local-ssh.toml"
    } else {
        "local-only.toml"
    };
    sim_support::local_inventory_with_g2(dir, name, &g2)
}

/// `hascript repl` with `args`, `input` on its standard input, `env` added.
fn repl_session(local: &Local, args: &[&str], env: &[(&str, &str)], input: &str) -> Output {
    use std::io::Write;
    let mut all = vec!["repl"];
    all.extend_from_slice(args);
    let mut c = local.cmd(&all);
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the REPL starts");
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input.as_bytes());
    }
    child.wait_with_output().expect("the REPL ends")
}

#[test]
fn the_repl_hides_the_inventorys_secrets_in_values_and_errors() {
    let base = canary("R");
    let (pw, key, sudo) = (
        format!("{base}login"),
        format!("{base}key"),
        format!("{base}sudo"),
    );
    let mut local = Local::new();
    let inv = local_inventory_with_ssh_secrets(
        &local.path("home"),
        Some(("HS_R_PW", "HS_R_KEY", "HS_R_SUDO")),
    );
    let inv_s = inv.to_string_lossy().into_owned();
    let env = [
        ("HS_R_PW", pw.as_str()),
        ("HS_R_KEY", key.as_str()),
        ("HS_R_SUDO", sudo.as_str()),
    ];
    // Each secret reaches the session's output in another way: a value, a command's
    // output in a table and as JSON, a map key, print, a command's error, a thrown error,
    // a compile error quoting its line, and :help's "no help for".
    let input = format!(
        r#"let pw = "{pw}";
pw
host("cd1").run(["cat"], #{{stdin: "{key} and {sudo}", changes: false}})
:json
let m = #{{}}; m[pw] = 1; m
print(`printed ${{pw}}`);
host("cd1").run(["sh", "-c", "cat >&2; exit 3"], #{{stdin: "{sudo}", changes: false}})
throw `thrown ${{pw}}`;
let x = "{key}" +;
:help {pw}
"#
    );
    let o = repl_session(&local, &["-i", &inv_s], &env, &input);
    let (code, text) = local.keep("repl -i", &o);
    assert_eq!(code, 0, "{text}");
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    // Where each secret was: shown as *****.
    assert!(stdout.lines().any(|l| l.trim() == "*****"), "{stdout}");
    // (The column is as wide as the longest key: `stdout_bytes`.)
    assert!(
        stdout.lines().any(|l| l.starts_with("stdout:")
            && l.trim_end().ends_with(" ***** and *****")
            && l["stdout:".len()..].trim() == "***** and *****"),
        "table: {stdout}"
    );
    assert!(
        stdout.contains("\"stdout\": \"***** and *****\""),
        "JSON: {stdout}"
    );
    assert!(stdout.contains("\"*****\": 1"), "map key: {stdout}");
    assert!(stdout.contains("printed *****"), "{stdout}");
    assert!(stderr.contains("with exit 3: *****"), "{stderr}");
    assert!(stderr.contains("stderr: *****"), "{stderr}");
    assert!(stderr.contains("thrown *****"), "{stderr}");
    assert!(stderr.contains("let x = \"*****\" +;"), "{stderr}");
    assert!(stderr.contains("no help for \"*****\""), "{stderr}");
    let leaks = local.leaks(&base);
    assert!(leaks.is_empty(), "the canary leaked: {leaks:?}\n{text}");

    // The control: the same session on an inventory that names no secret shows every
    // value as it is — the search above would have found it.
    let plain = local_inventory_with_ssh_secrets(&local.path("tmp"), None);
    let o = repl_session(&local, &["-i", &plain.to_string_lossy()], &env, &input);
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    for v in [&pw, &key, &sudo] {
        assert!(
            shown.contains(v.as_str()),
            "{v} not shown by the control: {shown}"
        );
    }
}

#[test]
fn local_commands_do_not_inherit_the_inventorys_secret_variables() {
    let base = canary("E");
    let mut local = Local::new();
    let inv = local_inventory_with_ssh_secrets(
        &local.path("home"),
        Some(("HS_E_PW", "HS_E_KEY", "HS_E_SUDO")),
    );
    let script = local.path("home/env.rhai");
    std::fs::write(
        &script,
        r#"let r = host("cd1").run(["env"], #{changes: false});
print(`child environment:\n${r.stdout}`);
"#,
    )
    .expect("write script");
    let names = ["HS_E_PW", "HS_E_KEY", "HS_E_SUDO"];
    let run = |local: &mut Local, label: &str, inv: &Path| {
        let mut c = local.cmd(&[
            "run",
            &script.to_string_lossy(),
            "-i",
            &inv.to_string_lossy(),
        ]);
        for n in names {
            c.env(n, format!("{base}{n}"));
        }
        // A variable that is no secret: handed down.
        c.env("HS_E_PLAIN", "plain-value");
        local.run(label, c)
    };
    let (code, text) = run(&mut local, "env with inventory secrets", &inv);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("HS_E_PLAIN=plain-value"),
        "the child's environment was printed: {text}"
    );
    for n in names {
        assert!(!text.contains(n), "{n} reached a local command: {text}");
    }
    let leaks = local.leaks(&base);
    assert!(leaks.is_empty(), "the canary leaked: {leaks:?}");

    // The control: where the inventory names no secret, the same variables are handed
    // down (so the parent had them, and the check above can fail).
    let plain = local_inventory_with_ssh_secrets(&local.path("tmp"), None);
    let mut c = local.cmd(&[
        "run",
        &script.to_string_lossy(),
        "-i",
        &plain.to_string_lossy(),
    ]);
    for n in names {
        c.env(n, format!("{base}{n}"));
    }
    let o = c.output().expect("hascript runs");
    let shown = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{shown}");
    for n in names {
        assert!(
            shown.contains(&format!("{n}={base}{n}")),
            "{n} not handed down by the control: {shown}"
        );
    }
}

/// Every `stdout_b64`/`stderr_b64` field of the JSON lines in `text`, decoded.
fn decoded_b64(text: &str) -> Vec<Vec<u8>> {
    use base64::Engine as _;
    let mut found = Vec::new();
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line.trim()) else {
            continue;
        };
        for k in ["stdout_b64", "stderr_b64"] {
            if let Some(s) = v.get(k).and_then(serde_json::Value::as_str) {
                match base64::engine::general_purpose::STANDARD.decode(s) {
                    Ok(b) => found.push(b),
                    Err(e) => panic!("{k} is not base64 ({e}): {line}"),
                }
            }
        }
    }
    found
}

/// Issue 11, item 4: the run's full redactor (here `HASCRIPT_SECRET_*` secrets, which the
/// commands do not carry themselves: they travel on standard input) hides secrets in a
/// command's raw output before it is cut to its excerpt and before any encoding. One
/// secret straddles the cut (1010 bytes, the secret, 2000 bytes: the excerpt keeps the
/// first and last 1024 bytes); one sits in output that is not UTF-8 (kept as
/// `stdout_b64`). Neither may survive whole or in part (any 10 characters of it) in what
/// hascript printed, its files, or the decoded base64 of its JSON lines.
#[test]
fn secrets_across_the_excerpt_cut_and_in_bytes_that_are_not_utf8_are_hidden() {
    let cut = canary("Cut");
    let raw = canary("Raw");
    let mut local = Local::new();
    let inv = local_inventory(&local.path("home"));
    let script = local.path("home/cut.rhai");
    std::fs::write(
        &script,
        r#"//! secrets: cut, raw
let a = host("cd1").run(["sh", "-c", "head -c 1010 /dev/zero | tr '\\0' .; cat; head -c 2000 /dev/zero | tr '\\0' ."], #{stdin: secrets.cut, changes: false});
let b = host("cd1").run(["sh", "-c", "printf '\\377 '; cat; printf ' \\376\\n'"], #{stdin: secrets.raw, changes: false});
"#,
    )
    .expect("write script");
    let mut c = local.cmd(&[
        "run",
        &script.to_string_lossy(),
        "-i",
        &inv.to_string_lossy(),
        "--output",
        "json",
    ]);
    c.env("HASCRIPT_SECRET_CUT", &cut)
        .env("HASCRIPT_SECRET_RAW", &raw);
    let (code, json) = local.run("run --output json", c);
    assert_eq!(code, 0, "{json}");
    local.journals();
    // The command_end lines, as printed and as journaled.
    let mut texts = vec![json.clone()];
    let runs = local.path("state/hascript/runs");
    for e in std::fs::read_dir(&runs).expect("journal folder").flatten() {
        texts.push(std::fs::read_to_string(e.path()).unwrap_or_default());
    }
    texts.extend(local.shown.iter().map(|(_, t)| t.clone()));
    let ends: Vec<serde_json::Value> = json
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["event"] == "command_end")
        .collect();
    assert_eq!(ends.len(), 2, "{json}");
    // Nothing of either secret on this machine's side; the decoded base64 searched too.
    let decoded: Vec<Vec<u8>> = texts.iter().flat_map(|t| decoded_b64(t)).collect();
    for secret in [&cut, &raw] {
        let chars: Vec<char> = secret.chars().collect();
        for w in chars.windows(10) {
            let part: String = w.iter().collect();
            let leaks = local.leaks(&part);
            assert!(leaks.is_empty(), "{part:?} of a secret leaked: {leaks:?}");
            assert!(
                !decoded.iter().any(|b| contains(b, part.as_bytes())),
                "{part:?} of a secret is in a decoded stdout_b64"
            );
        }
    }
    // The straddling secret was hidden before the cut: its mark is in the excerpt's head.
    let head = ends[0]["stdout"].as_str().unwrap_or_default();
    assert!(
        head.starts_with(&format!("{}*****", ".".repeat(1010))) && head.contains("bytes cut"),
        "{head}"
    );
    // The output that is not UTF-8 is kept exactly, with the secret hidden in its bytes,
    // in the JSON output, the journal file and `journal show --output json`.
    let b64 = decoded_b64(&ends[1].to_string());
    assert_eq!(b64, vec![b"\xff ***** \xfe\n".to_vec()], "{}", ends[1]);
    assert!(decoded.len() >= 3, "{decoded:?}");
}

/// Issue 14, item 4: the REPL's history file (written only on a terminal, so the REPL runs
/// in tmux) is created 0600 and never stores a secret value: not a `:run`'s secret-named
/// parameter, not an inventory secret or a `HASCRIPT_SECRET_*` value typed on a line. The
/// line that holds no secret is there, as typed (the file was written).
#[test]
fn the_repl_history_keeps_no_secret() {
    use std::os::unix::fs::PermissionsExt;
    let base = canary("H");
    let (pw, param, script_secret) = (
        format!("{base}login"),
        format!("{base}param"),
        format!("{base}env"),
    );
    let local = Local::new();
    let inv = local_inventory_with_ssh_secrets(
        &local.path("home"),
        Some(("HS_H_PW", "HS_H_KEY", "HS_H_SUDO")),
    );
    let script = local.path("home/pw.rhai");
    std::fs::write(
        &script,
        "//! params: password\nprint(`given ${params.password.len()} characters`);\n",
    )
    .expect("write script");
    let socket = format!("hascript-canary-{}", std::process::id());
    let tmux = |args: &[&str]| -> String {
        let o = Command::new("tmux")
            .arg("-L")
            .arg(&socket)
            .args(args)
            .stderr(Stdio::null())
            .output();
        match o {
            Ok(o) => String::from_utf8_lossy(&o.stdout).into_owned(),
            Err(e) => panic!("cannot run tmux (install it: apt-get install tmux): {e}"),
        }
    };
    struct Kill<'a>(&'a str);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            let _ = Command::new("tmux")
                .args(["-L", self.0, "kill-server"])
                .stderr(Stdio::null())
                .status();
        }
    }
    let _kill = Kill(&socket);
    let q = |p: PathBuf| format!("'{}'", p.display());
    let cmd = format!(
        "env -u HASCRIPT_PATH TERM=xterm NO_COLOR=1 HOME={} XDG_STATE_HOME={} TMPDIR={} HASCRIPT_LOCK_DIR={} HS_H_PW={pw} HS_H_KEY={base}key HS_H_SUDO={base}sudo HASCRIPT_SECRET_TOKEN={script_secret} '{}' repl -i {}",
        q(local.path("home")),
        q(local.path("state")),
        q(local.path("tmp")),
        q(local.path("tmp")),
        env!("CARGO_BIN_EXE_hascript"),
        q(inv.clone()),
    );
    tmux(&[
        "new-session",
        "-d",
        "-s",
        "r",
        "-x",
        "200",
        "-y",
        "50",
        &cmd,
    ]);
    let wait_for = |what: &str| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let s = tmux(&["capture-pane", "-p", "-t", "r", "-S", "-200"]);
            if s.contains(what) {
                return s;
            }
            assert!(Instant::now() < deadline, "no {what:?} on the screen:\n{s}");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait_for("hascript(");
    let lines = [
        format!(":run {} password={param}", script.display()),
        // (no trailing `;`: tmux reads it as its command separator)
        format!("let typed = \"{pw}\" + \"{script_secret}\""),
        "let plain_marker = 7".to_string(),
    ];
    for l in &lines {
        tmux(&["send-keys", "-t", "r", "-l", l]);
        tmux(&["send-keys", "-t", "r", "Enter"]);
    }
    wait_for("given ");
    tmux(&["send-keys", "-t", "r", "-l", ":quit"]);
    tmux(&["send-keys", "-t", "r", "Enter"]);
    let file = local.path("state").join("hascript").join("history");
    let deadline = Instant::now() + Duration::from_secs(20);
    let text = loop {
        let t = std::fs::read_to_string(&file).unwrap_or_default();
        if t.contains("let plain_marker = 7") || Instant::now() > deadline {
            break t;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(text.contains("let plain_marker = 7"), "{text:?}");
    assert!(text.contains("password=*****"), "{text:?}");
    assert!(
        text.contains("let typed = \"*****\" + \"*****\"\n"),
        "{text:?}"
    );
    let mode = std::fs::metadata(&file)
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or(0);
    assert_eq!(mode, 0o600, "{}", file.display());
    let leaks = local.leaks(&base);
    assert!(leaks.is_empty(), "the canary leaked: {leaks:?}\n{text}");
}
