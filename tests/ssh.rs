//! The SSH transport against a real OpenSSH `sshd` on loopback (see `ssh_support`).
//!
//! Simulated hosts are the simulator behind `ForceCommand hascript sim exec --state DIR
//! --host NAME` (one 127.0.0.x address per host); raw-command tests use addresses without
//! a ForceCommand, where the test user's `/bin/sh` runs the line. Run as root; a missing
//! sshd fails these tests (never skips them).

mod ssh_support;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command as Proc, Output as ProcOutput};
use std::time::{Duration, Instant};

use hascript::transport::ssh::secret::SecretRef;
use hascript::transport::ssh::{Become, HostSpec, SshHost, SshOptions, SshSettings};
use hascript_api::{fan_out, FanOut};
use hascript_api::{CancelToken, Command, Effect, Error, ErrorKind, Exec, ExitStatus, Output};
use hascript_sim::SimSite;
use ssh_support::{env, Addr, Home, Netns, Sshd, TTY_USER, USER};

/// A host reached at `ip` on `sshd`'s port as `user`.
fn entry(name: &str, ip: &str, port: u16, user: &str, ssh: SshOptions) -> HostSpec {
    HostSpec {
        name: name.into(),
        user: Some(user.into()),
        address: Some(ip.into()),
        options: SshOptions {
            port: Some(port),
            connect_timeout: ssh.connect_timeout.or(Some(Duration::from_secs(5))),
            ..ssh
        },
    }
}

fn settings(home: &Home) -> SshSettings {
    SshSettings {
        home: Some(home.path.clone()),
        ..SshSettings::default()
    }
}

fn ssh_host(h: &HostSpec, s: &SshSettings) -> SshHost {
    SshHost::new(h, s, CancelToken::new()).unwrap_or_else(|e| panic!("{e}"))
}

fn raw_addr(ip: &str) -> Addr {
    Addr {
        ip: ip.into(),
        force: None,
    }
}

fn sim_addr(ip: &str, state: &Path, host: &str) -> Addr {
    Addr {
        ip: ip.into(),
        force: Some(format!(
            "{} sim exec --state {} --host {host}",
            env().hascript.display(),
            state.display()
        )),
    }
}

fn ok(r: Result<Output, Error>) -> Output {
    r.unwrap_or_else(|e| panic!("{e} (remedy: {:?})", e.remedy))
}

fn err(r: Result<Output, Error>) -> Error {
    match r {
        Ok(o) => panic!("expected an error, got {o:?}"),
        Err(e) => e,
    }
}

fn sh(host: &str, text: &str) -> Command {
    Command::shell(host, text, Effect::Read)
}

/// One raw sshd on 127.0.0.2 and a host `raw` on it, logging in as `user`.
fn raw_host(user: &str, ssh: SshOptions) -> (Sshd, Home, SshHost) {
    let sshd = Sshd::start(vec![raw_addr("127.0.0.2")], &["ed25519"], "");
    let home = Home::new(&sshd.known_hosts, "");
    let h = ssh_host(
        &entry("raw", "127.0.0.2", sshd.port, user, ssh),
        &settings(&home),
    );
    (sshd, home, h)
}

#[test]
fn argv_words_arrive_whole_through_the_remote_shell() {
    let (_sshd, _home, h) = raw_host(USER, SshOptions::default());
    let words = [
        "a b",
        "it's",
        "x;echo injected",
        "$(id)",
        "`id`",
        "two\nlines",
        "\"dq\"",
        "*",
        "",
        "back\\slash",
    ];
    let mut argv = vec![
        "/bin/sh",
        "-c",
        "for a; do printf '<%s>' \"$a\"; done",
        "sh",
    ];
    argv.extend(words);
    let o = ok(h.exec(&Command::read("raw", &argv)));
    let want: String = words.iter().map(|w| format!("<{w}>")).collect();
    assert_eq!(o.stdout, want);
    assert!(o.success());
}

/// Issue 11, item 8: over SSH (without a PTY) output comes back as the host wrote it: all
/// 256 byte values, on standard output and standard error, with `stdout` still text.
#[test]
fn every_byte_value_comes_back_exactly() {
    let (_sshd, _home, h) = raw_host(USER, SshOptions::default());
    let all: Vec<u8> = (0..=255u8).collect();
    let o = ok(h.exec(&sh("raw", "cat; cat /dev/null >&2").with_stdin(all.clone())));
    assert_eq!(o.stdout_bytes(), &all[..]);
    assert_eq!(o.stdout.chars().filter(|c| *c == '\u{fffd}').count(), 128);
    let o = ok(h.exec(&sh("raw", "cat >&2").with_stdin(all.clone())));
    assert_eq!((o.stderr_bytes(), o.stdout_raw.is_none()), (&all[..], true));
}

#[test]
fn exit_statuses_signals_and_stdin() {
    let (sshd, _home, h) = raw_host(USER, SshOptions::default());
    for code in [0, 1, 255] {
        let o = ok(h.exec(&sh("raw", &format!("echo out; echo err >&2; exit {code}"))));
        assert_eq!(o.status, ExitStatus::Code(code));
        assert_eq!((o.stdout.as_str(), o.stderr.as_str()), ("out\n", "err\n"));
    }
    let o = ok(h.exec(&sh("raw", "kill -KILL $$")));
    assert_eq!(o.status, ExitStatus::Signal("KILL".into()));
    let o = ok(h.exec(&sh("raw", "kill -TERM $$")));
    assert_eq!(o.status, ExitStatus::Signal("TERM".into()));
    let o = ok(h.exec(&Command::read("raw", &["cat"]).with_stdin(b"line 1\nline 2\n".to_vec())));
    assert_eq!(o.stdout, "line 1\nline 2\n");
    let o = ok(h.exec(&sh("raw", "echo $LC_ALL")));
    assert_eq!(o.stdout, "C\n");
    // One session for all of it: the server saw one login.
    assert_eq!(
        sshd.log().matches("Accepted publickey").count(),
        1,
        "{}",
        sshd.log()
    );
}

#[test]
fn five_megabytes_on_stderr_do_not_stall_and_the_output_limit_is_reported() {
    let (_sshd, home, h) = raw_host(USER, SshOptions::default());
    let t = Instant::now();
    let o = ok(h.exec(&sh(
        "raw",
        "head -c 5000000 /dev/zero | tr '\\0' e >&2; head -c 3000000 /dev/zero | tr '\\0' o; echo",
    )
    .with_timeout(Duration::from_secs(30))));
    assert_eq!(o.stderr.len(), 5_000_000);
    assert_eq!(o.stdout.len(), 3_000_001);
    assert!(o.stderr.bytes().all(|b| b == b'e'));
    assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
    // A host with a 1 MB limit: reported as an error naming host and command.
    let small = SshSettings {
        output_limit: 1_000_000,
        ..settings(&home)
    };
    let port = _sshd.port;
    let h2 = ssh_host(
        &entry("small", "127.0.0.2", port, USER, SshOptions::default()),
        &small,
    );
    let e = err(h2.exec(&sh("small", "head -c 3000000 /dev/zero")));
    assert_eq!(e.kind, ErrorKind::Command);
    assert!(
        e.message.contains("output limit") && e.message.contains("small"),
        "{e}"
    );
    assert_eq!(e.command.as_deref(), Some("head -c 3000000 /dev/zero"));
    // The session is still good.
    assert_eq!(ok(h2.exec(&sh("small", "echo ok"))).stdout, "ok\n");
}

#[test]
fn a_silent_command_times_out_and_the_host_stays_usable() {
    let (_sshd, _home, h) = raw_host(USER, SshOptions::default());
    let t = Instant::now();
    let e = err(h.exec(&sh("raw", "sleep 30").with_timeout(Duration::from_millis(1500))));
    let took = t.elapsed();
    assert_eq!(e.kind, ErrorKind::Timeout, "{e}");
    assert_eq!(e.host.as_deref(), Some("raw"));
    assert!(
        e.message.contains("sleep 30") && e.message.contains("1.5 s"),
        "{e}"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(ok(h.exec(&sh("raw", "echo next"))).stdout, "next\n");
}

#[test]
fn a_frozen_host_fails_its_commands_within_their_timeouts() {
    let (sshd, home, h) = raw_host(USER, SshOptions::default());
    assert_eq!(ok(h.exec(&sh("raw", "echo up"))).stdout, "up\n");
    // The server stops answering but keeps its connections open (a hung host).
    sshd.signal_all(libc::SIGSTOP);
    let t = Instant::now();
    let e = err(h.exec(&sh("raw", "echo hello").with_timeout(Duration::from_millis(1500))));
    assert!(
        matches!(e.kind, ErrorKind::Timeout | ErrorKind::Transport),
        "{e}"
    );
    assert_eq!(e.host.as_deref(), Some("raw"));
    assert!(
        t.elapsed() < Duration::from_secs(4),
        "{:?}: {e}",
        t.elapsed()
    );
    // A new connection: the TCP connect succeeds (the kernel accepts), the key exchange
    // never answers: bounded by connect_timeout.
    let fresh = ssh_host(
        &entry(
            "hung",
            "127.0.0.2",
            sshd.port,
            USER,
            SshOptions {
                connect_timeout: Some(Duration::from_secs(2)),
                ..SshOptions::default()
            },
        ),
        &settings(&home),
    );
    let t = Instant::now();
    let e = err(fresh.exec(&sh("hung", "echo hello")));
    assert_eq!(e.kind, ErrorKind::Transport, "{e}");
    assert!(e.message.contains("hung"), "{e}");
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "{:?}: {e}",
        t.elapsed()
    );
    sshd.signal_all(libc::SIGCONT);
}

#[test]
fn a_broken_session_is_dropped_and_reopened() {
    let (sshd, _home, h) = raw_host(USER, SshOptions::default());
    assert_eq!(ok(h.exec(&sh("raw", "echo one"))).stdout, "one\n");
    sshd.kill_sessions();
    std::thread::sleep(Duration::from_millis(200));
    // The next command either finds the dead session before sending (and reconnects) or
    // reports the broken session; the one after that runs on a new session.
    match h.exec(&sh("raw", "echo two")) {
        Ok(o) => assert_eq!(o.stdout, "two\n"),
        Err(e) => {
            assert_eq!(e.kind, ErrorKind::Transport, "{e}");
            assert_eq!(e.host.as_deref(), Some("raw"));
        }
    }
    assert_eq!(ok(h.exec(&sh("raw", "echo three"))).stdout, "three\n");
    assert_eq!(
        sshd.log().matches("Accepted publickey").count(),
        2,
        "{}",
        sshd.log()
    );
}

#[test]
fn become_sudo_sends_the_password_on_stdin_and_uses_a_pty_for_requiretty() {
    let e = env();
    let pw_file = e.dir.join(format!("sudo-pw-{}", std::process::id()));
    std::fs::write(&pw_file, format!("{}\n", e.password)).unwrap_or_else(|x| panic!("{x}"));
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&pw_file, std::fs::Permissions::from_mode(0o600))
        .unwrap_or_else(|x| panic!("{x}"));
    let sudo = SshOptions {
        become_: Some(Become::Sudo),
        become_password: Some(SecretRef::File(pw_file.clone())),
        ..SshOptions::default()
    };
    let sshd = Sshd::start(vec![raw_addr("127.0.0.2")], &["ed25519"], "");
    let home = Home::new(&sshd.known_hosts, "");
    let s = settings(&home);
    let h = ssh_host(
        &entry("adm", "127.0.0.2", sshd.port, USER, sudo.clone()),
        &s,
    );
    let o = ok(h.exec(&Command::read("adm", &["id", "-u"])));
    assert_eq!((o.stdout.as_str(), o.code()), ("0\n", 0), "{o:?}");
    assert!(!o.stdout.contains(&e.password) && !o.stderr.contains(&e.password));
    assert!(
        !o.stderr.contains("hascript-sudo"),
        "the prompt is not shown: {o:?}"
    );
    // Standard input still reaches the command behind sudo.
    let o = ok(h.exec(&Command::read("adm", &["cat"]).with_stdin(b"data\n".to_vec())));
    assert_eq!(o.stdout, "data\n");
    // requiretty: the same through a PTY.
    let t = ssh_host(
        &entry("tty", "127.0.0.2", sshd.port, TTY_USER, sudo.clone()),
        &s,
    );
    let o = ok(t.exec(&Command::read("tty", &["id", "-u"])));
    assert_eq!(o.stdout, "0\n", "{o:?}");
    assert!(!o.stdout.contains(&e.password));
    // A wrong password: refused without a hang, the secret never shown.
    let bad = e.dir.join(format!("bad-pw-{}", std::process::id()));
    std::fs::write(&bad, "not-the-password\n").unwrap_or_else(|x| panic!("{x}"));
    std::fs::set_permissions(&bad, std::fs::Permissions::from_mode(0o600))
        .unwrap_or_else(|x| panic!("{x}"));
    let w = ssh_host(
        &entry(
            "wrong",
            "127.0.0.2",
            sshd.port,
            USER,
            SshOptions {
                become_password: Some(SecretRef::File(bad)),
                ..sudo.clone()
            },
        ),
        &s,
    );
    let x =
        err(w.exec(&Command::read("wrong", &["id", "-u"]).with_timeout(Duration::from_secs(20))));
    assert!(x.message.contains("did not accept become_password"), "{x}");
    assert!(!format!("{x:?}").contains("not-the-password"));
    // No password configured: sudo -n, and a clear error.
    let n = ssh_host(
        &entry(
            "nopw",
            "127.0.0.2",
            sshd.port,
            USER,
            SshOptions {
                become_: Some(Become::Sudo),
                ..SshOptions::default()
            },
        ),
        &s,
    );
    let x = err(n.exec(&Command::read("nopw", &["id", "-u"])));
    assert!(x.message.contains("needs a password"), "{x}");
    assert!(x.remedy.unwrap_or_default().contains("become_password"));
    // The password never appeared on a command line the server logged.
    assert!(!sshd.log().contains(&e.password));
}

/// Five simulated hosts behind one sshd, and a client home whose ~/.ssh/config maps each
/// inventory name to its address.
struct SimSsh {
    sshd: Sshd,
    state: std::path::PathBuf,
    _site: tempfile::TempDir,
    inventory: std::path::PathBuf,
}

const SIM_HOSTS: [(&str, &str); 5] = [
    ("cd1", "127.0.0.2"),
    ("cd2", "127.0.0.3"),
    ("cd3", "127.0.0.4"),
    ("guest1", "127.0.0.5"),
    ("guest2", "127.0.0.6"),
];

fn sim_ssh(wrapper: Option<&str>) -> SimSsh {
    sim_ssh_for(None, &SIM_HOSTS, wrapper)
}

/// The simulated site of `scenario` behind one sshd, its hosts at the given addresses.
fn sim_ssh_for(scenario: Option<&str>, hosts: &[(&str, &str)], wrapper: Option<&str>) -> SimSsh {
    let (state, site) = ssh_support::sim_site(scenario);
    let addrs = hosts
        .iter()
        .map(|(name, ip)| match wrapper {
            Some(w) => Addr {
                ip: (*ip).into(),
                force: Some(format!("{w} {name}")),
            },
            None => sim_addr(ip, &state, name),
        })
        .collect();
    let sshd = Sshd::start(addrs, &["ed25519"], "");
    let inv_text = SimSite::open(&state)
        .unwrap_or_else(|e| panic!("{e}"))
        .inventory_toml()
        .replace(
            "transport = \"sim\"",
            "transport = \"ssh\"\ncommand_timeout = 60",
        )
        .replace("user = \"root\"\n", "");
    let inventory = site.path().join("inventory.toml");
    std::fs::write(&inventory, inv_text).unwrap_or_else(|e| panic!("{e}"));
    ssh_support::chown(USER, site.path());
    SimSsh {
        sshd,
        state,
        _site: site,
        inventory,
    }
}

fn client_config(port: u16) -> String {
    client_config_for(port, &SIM_HOSTS)
}

/// `~/.ssh/config` mapping each inventory name to its address, the port and user for all.
fn client_config_for(port: u16, hosts: &[(&str, &str)]) -> String {
    let mut c = String::new();
    for (name, ip) in hosts {
        c.push_str(&format!("Host {name}\n    HostName {ip}\n"));
    }
    c.push_str(&format!(
        "Host *\n    User {USER}\n    Port {port}\n    IdentityFile ~/.ssh/id_ed25519\n    ConnectTimeout 5\n"
    ));
    c
}

/// `hascript ARGS` as the test user (who owns the simulated site's folder), with `home`.
fn hascript_cmd(home: &Home, args: &[&str]) -> Proc {
    use std::os::unix::process::CommandExt;
    home.give_to(USER);
    let (uid, gid) = ssh_support::ids(USER);
    let mut c = Proc::new(&env().hascript);
    c.args(args)
        .env("HOME", &home.path)
        .env("USER", USER)
        .env_remove("SSH_AUTH_SOCK")
        .current_dir(&home.path)
        .uid(uid)
        .gid(gid);
    c
}

fn hascript(home: &Home, args: &[&str]) -> ProcOutput {
    hascript_cmd(home, args)
        .output()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn text(o: &ProcOutput) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn live_migration_runs_over_ssh_to_its_five_hosts() {
    let s = sim_ssh(None);
    let home = Home::new(&s.sshd.known_hosts, &client_config(s.sshd.port));
    let inv = s.inventory.to_string_lossy().into_owned();
    let state = s.state.to_string_lossy().into_owned();
    let t = Instant::now();
    // HASCRIPT_LOCK_DIR moves the lock of local hosts only: over SSH it stays in /var/tmp.
    let elsewhere = home.path.join("locks");
    let o = hascript_cmd(
        &home,
        &[
            "run",
            "ldoms/live-migration",
            "-i",
            &inv,
            "--sim-clock",
            &state,
            "-p",
            "guest=guest2",
            "-p",
            "target=cd3",
        ],
    )
    .env("HASCRIPT_LOCK_DIR", &elsewhere)
    .output()
    .unwrap_or_else(|e| panic!("{e}"));
    let shown = text(&o);
    assert_eq!(o.status.code(), Some(0), "{shown}");
    assert!(shown.contains("guest2 runs on cd3"), "{shown}");
    assert!(t.elapsed() < Duration::from_secs(60), "{:?}", t.elapsed());
    let log = SimSite::open(&s.state)
        .unwrap_or_else(|e| panic!("{e}"))
        .command_log();
    let hosts: std::collections::BTreeSet<&str> = log.iter().map(|c| c.host.as_str()).collect();
    assert_eq!(hosts.len(), 5, "every host was reached: {hosts:?}");
    assert!(
        log.iter()
            .any(|c| c.host == "cd2" && c.line.contains("ldm migrate-domain guest2 cd3")),
        "{log:?}"
    );
    for h in ["cd2", "cd3"] {
        assert!(
            log.iter()
                .any(|c| c.host == h && c.line.contains("mkdir -m 700 /var/tmp/hascript.lock")),
            "{h}: {log:?}"
        );
    }
    let moved = elsewhere.to_string_lossy().into_owned();
    assert!(!log.iter().any(|c| c.line.contains(&moved)), "{log:?}");
    // The virtual clock passed the procedure's waits (SF test, 120 s watch) in no real time.
    assert!(
        log.last().map(|c| c.time).unwrap_or(0) >= log.first().map(|c| c.time).unwrap_or(0) + 120
    );
    // One session per host, reused for all of its commands.
    let logins = s.sshd.log().matches("Accepted publickey").count();
    assert_eq!(logins, 5, "{} commands over {logins} logins", log.len());
    assert!(log.len() > 40);
}

#[test]
fn unknown_host_key_is_refused_before_anything_is_sent_and_accepted_on_request() {
    let s = sim_ssh(None);
    let home = Home::new("", &client_config(s.sshd.port));
    let inv = s.inventory.to_string_lossy().into_owned();
    let fp = ssh_support::fingerprint_of(&s.sshd.dir.join("host_ed25519.pub"));
    let script = home.path.join("probe.rhai");
    std::fs::write(
        &script,
        "let o = host(\"cd1\").run([\"/usr/sbin/ldm\", \"list\", \"-p\"], #{changes: false});\nprint(`exit ${o.exit}`);\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let script = script.to_string_lossy().into_owned();
    let o = hascript(&home, &["run", &script, "-i", &inv]);
    let shown = text(&o);
    assert_eq!(o.status.code(), Some(3), "{shown}");
    assert!(
        shown.contains("cd1") && shown.contains("is not known"),
        "{shown}"
    );
    assert!(
        shown.contains(&fp) && shown.contains("ssh-ed25519"),
        "{shown}"
    );
    assert!(shown.contains("--accept-new-host-keys"), "{shown}");
    let site = SimSite::open(&s.state).unwrap_or_else(|e| panic!("{e}"));
    assert!(site.command_log().is_empty(), "{:?}", site.command_log());
    assert!(
        !s.sshd.log().contains("Accepted publickey"),
        "no login happened"
    );
    // With the flag: recorded in ~/.ssh/known_hosts, and the command runs.
    let o = hascript(
        &home,
        &["run", &script, "-i", &inv, "--accept-new-host-keys"],
    );
    let shown = text(&o);
    assert_eq!(o.status.code(), Some(0), "{shown}");
    assert!(shown.contains(&fp), "the accepted key is named: {shown}");
    let kh = home.known_hosts();
    assert!(
        kh.starts_with(&format!("[127.0.0.2]:{} ssh-ed25519 ", s.sshd.port)),
        "{kh}"
    );
    assert_eq!(site.command_log().len(), 1);
    // Known now: no flag needed.
    let o = hascript(&home, &["run", &script, "-i", &inv]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(home.known_hosts(), kh, "nothing added twice");
}

#[test]
fn changed_host_key_is_refused_loudly_with_both_fingerprints() {
    let s = sim_ssh(None);
    // A known_hosts whose entry for cd1 is another key.
    let other = env().dir.join(format!("other-{}", std::process::id()));
    let _ = std::fs::remove_file(&other);
    let _ = Proc::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&other)
        .output();
    let other_pub = std::fs::read_to_string(other.with_extension("pub")).unwrap_or_default();
    let mut f = other_pub.split_whitespace();
    let (kt, key) = (f.next().unwrap_or_default(), f.next().unwrap_or_default());
    let kh = format!("[127.0.0.2]:{} {kt} {key}\n", s.sshd.port);
    let home = Home::new(&kh, &client_config(s.sshd.port));
    let old_fp = ssh_support::fingerprint_of(&other.with_extension("pub"));
    let new_fp = ssh_support::fingerprint_of(&s.sshd.dir.join("host_ed25519.pub"));
    let h = ssh_host(
        &HostSpec {
            name: "cd1".into(),
            user: None,
            address: None,
            options: SshOptions::default(),
        },
        &SshSettings {
            accept_new_host_keys: true,
            ..settings(&home)
        },
    );
    let e = err(h.exec(&Command::read("cd1", &["/usr/sbin/ldm", "list", "-p"])));
    assert_eq!(e.kind, ErrorKind::Transport);
    assert!(e.message.contains("HAS CHANGED"), "{e}");
    assert!(
        e.message.contains(&old_fp) && e.message.contains(&new_fp),
        "{e}"
    );
    assert!(e.remedy.unwrap_or_default().contains("never replaces"));
    assert_eq!(
        home.known_hosts(),
        kh,
        "a known key is never replaced, even with the flag"
    );
    let site = SimSite::open(&s.state).unwrap_or_else(|e| panic!("{e}"));
    assert!(site.command_log().is_empty());
    assert!(!s.sshd.log().contains("Accepted publickey"));
}

#[test]
fn legacy_only_server_is_refused_by_default_and_reached_with_the_opt_in() {
    let sshd = Sshd::start(
        vec![raw_addr("127.0.0.2")],
        &["rsa"],
        "HostKeyAlgorithms ssh-rsa\nKexAlgorithms diffie-hellman-group14-sha1",
    );
    let home = Home::new(&sshd.known_hosts, "");
    let s = settings(&home);
    let h = ssh_host(
        &entry("old", "127.0.0.2", sshd.port, USER, SshOptions::default()),
        &s,
    );
    let e = err(h.exec(&sh("old", "echo hi")));
    assert_eq!(e.kind, ErrorKind::Transport);
    assert!(e.message.contains("legacy SHA-1 algorithms"), "{e}");
    let remedy = e.remedy.clone().unwrap_or_default();
    assert!(remedy.contains("legacy_algorithms = true"), "{remedy}");
    assert!(!sshd.log().contains("Accepted publickey"));
    let legacy = SshOptions {
        legacy_algorithms: true,
        ..SshOptions::default()
    };
    let h = ssh_host(&entry("old", "127.0.0.2", sshd.port, USER, legacy), &s);
    assert_eq!(ok(h.exec(&sh("old", "echo hi"))).stdout, "hi\n");
    assert!(sshd.log().contains("Accepted publickey"));
}

#[test]
fn fan_out_keeps_inventory_order_and_reports_a_dead_host_without_cancelling_others() {
    let ips = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"];
    let sshd = Sshd::start(ips.iter().map(|i| raw_addr(i)).collect(), &["ed25519"], "");
    let home = Home::new(&sshd.known_hosts, "");
    let s = settings(&home);
    struct Map(HashMap<String, SshHost>);
    impl Exec for Map {
        fn exec(&self, cmd: &Command) -> Result<Output, Error> {
            match self.0.get(&cmd.host) {
                Some(h) => h.exec(cmd),
                None => Err(Error::usage("unknown host")),
            }
        }
    }
    let mut names: Vec<String> = Vec::new();
    let mut map = HashMap::new();
    for (i, ip) in ips.iter().enumerate() {
        let n = format!("h{i}");
        map.insert(
            n.clone(),
            ssh_host(&entry(&n, ip, sshd.port, USER, SshOptions::default()), &s),
        );
        names.push(n);
        if i == 1 {
            // A host nothing listens for (127.0.0.9): refused at once.
            map.insert(
                "dead".into(),
                ssh_host(
                    &entry("dead", "127.0.0.9", sshd.port, USER, SshOptions::default()),
                    &s,
                ),
            );
            names.push("dead".into());
        }
    }
    let exec = Map(map);
    let cmds: Vec<Command> = names
        .iter()
        .map(|n| sh(n, &format!("sleep 1; echo {n}")))
        .collect();
    let t = Instant::now();
    let r = fan_out(
        &exec,
        &cmds,
        &FanOut {
            limit: 8,
            stop_on_error: false,
        },
    );
    let took = t.elapsed();
    assert_eq!(r.len(), 5);
    for (n, r) in names.iter().zip(&r) {
        match (n.as_str(), r) {
            ("dead", Err(e)) => {
                assert_eq!(e.host.as_deref(), Some("dead"));
                assert!(e.message.contains("cannot connect"), "{e}");
            }
            (n, Ok(o)) => assert_eq!(o.stdout, format!("{n}\n")),
            (n, Err(e)) => panic!("{n}: {e}"),
        }
    }
    assert!(
        took < Duration::from_secs(4),
        "hosts ran in parallel: {took:?}"
    );
    // limit 1: one at a time, still in order.
    let r = fan_out(
        &exec,
        &cmds[..2],
        &FanOut {
            limit: 1,
            stop_on_error: true,
        },
    );
    assert_eq!(r.iter().filter(|x| x.is_ok()).count(), 2);
}

#[test]
fn sshd_killed_mid_procedure_fails_naming_the_host_without_hanging() {
    // Every host runs through a wrapper that, on the real migration, signals the test
    // and stays silent until the test kills sshd.
    let (state, site) = ssh_support::sim_site(None);
    let trigger = site.path().join("trigger");
    let wrapper = site.path().join("wrap.sh");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\ncase \"$SSH_ORIGINAL_COMMAND\" in\n  *'migrate-domain guest2'*) touch {t}; sleep 60;;\nesac\nexec {bin} sim exec --state {st} --host \"$1\"\n",
            t = trigger.display(),
            bin = env().hascript.display(),
            st = state.display()
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("{e}"));
    let addrs = SIM_HOSTS
        .iter()
        .map(|(name, ip)| Addr {
            ip: (*ip).into(),
            force: Some(format!("{} {name}", wrapper.display())),
        })
        .collect();
    let mut sshd = Sshd::start(addrs, &["ed25519"], "");
    let inv_text = SimSite::open(&state)
        .unwrap_or_else(|e| panic!("{e}"))
        .inventory_toml()
        .replace(
            "transport = \"sim\"",
            "transport = \"ssh\"\ncommand_timeout = 60",
        )
        .replace("user = \"root\"\n", "");
    let inv = site.path().join("inventory.toml");
    std::fs::write(&inv, inv_text).unwrap_or_else(|e| panic!("{e}"));
    ssh_support::chown(USER, site.path());
    let home = Home::new(&sshd.known_hosts, &client_config(sshd.port));
    let (inv_s, state_s) = (
        inv.to_string_lossy().into_owned(),
        state.to_string_lossy().into_owned(),
    );
    let child = hascript_cmd(
        &home,
        &[
            "run",
            "ldoms/live-migration",
            "-i",
            &inv_s,
            "--sim-clock",
            &state_s,
            "-p",
            "guest=guest2",
            "-p",
            "target=cd3",
        ],
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap_or_else(|e| panic!("{e}"));
    let deadline = Instant::now() + Duration::from_secs(60);
    while !trigger.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(trigger.exists(), "the migration never started");
    let killed = Instant::now();
    sshd.kill_all();
    let o = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    let took = killed.elapsed();
    let shown = text(&o);
    assert!(took < Duration::from_secs(20), "{took:?}: {shown}");
    // A change (clovmmigrate -p) was sent and the hosts are gone: needs attention.
    assert_eq!(o.status.code(), Some(4), "{shown}");
    assert!(shown.contains("cd2"), "{shown}");
    assert!(
        shown.contains("broke") || shown.contains("cannot connect"),
        "{shown}"
    );
}

/// A secret file of mode 0600 holding `value`.
fn secret_file(name: &str, value: &str) -> SecretRef {
    use std::os::unix::fs::PermissionsExt;
    let p = env().dir.join(format!("{name}-{}", std::process::id()));
    std::fs::write(&p, format!("{value}\n")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))
        .unwrap_or_else(|e| panic!("{e}"));
    SecretRef::File(p)
}

#[test]
fn key_files_of_every_type_an_encrypted_key_and_a_password() {
    let sshd = Sshd::start(
        vec![raw_addr("127.0.0.2")],
        &["ed25519"],
        "PasswordAuthentication yes",
    );
    let home = Home::new(&sshd.known_hosts, "");
    let s = settings(&home);
    let keys = home.path.join("keys");
    std::fs::create_dir_all(&keys).unwrap_or_else(|e| panic!("{e}"));
    let mut authorized = env().client_pub.clone();
    let mut made = Vec::new();
    for (kt, pass) in [("ecdsa", ""), ("rsa", ""), ("ed25519", "open sesame")] {
        let k = keys.join(format!("id_{kt}"));
        let o = Proc::new("ssh-keygen")
            .args(["-q", "-t", kt, "-N", pass, "-f"])
            .arg(&k)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(o.status.success(), "{o:?}");
        authorized.push_str(&std::fs::read_to_string(k.with_extension("pub")).unwrap_or_default());
        made.push((kt, pass, k));
    }
    std::fs::write(sshd.dir.join("authorized_keys"), authorized).unwrap_or_else(|e| panic!("{e}"));
    for (kt, pass, k) in &made {
        let opts = SshOptions {
            identity_file: Some(k.clone()),
            key_passphrase: (!pass.is_empty()).then(|| secret_file("kp", pass)),
            ..SshOptions::default()
        };
        let h = ssh_host(&entry(kt, "127.0.0.2", sshd.port, USER, opts), &s);
        assert_eq!(ok(h.exec(&sh(kt, "echo in"))).stdout, "in\n", "{kt}");
    }
    // The encrypted key with a wrong passphrase: authentication fails and says what it tried.
    let (_, _, enc) = &made[2];
    let h = ssh_host(
        &entry(
            "wrongpass",
            "127.0.0.2",
            sshd.port,
            USER,
            SshOptions {
                identity_file: Some(enc.clone()),
                key_passphrase: Some(secret_file("kp-wrong", "not it")),
                ..SshOptions::default()
            },
        ),
        &s,
    );
    let e = err(h.exec(&sh("wrongpass", "echo in")));
    assert!(
        e.message.contains("authentication as hstest") && e.message.contains("id_ed25519"),
        "{e}"
    );
    assert!(!e.message.contains("not it"));
    // No usable key: a password, only because the inventory names one.
    let nokey = SshOptions {
        identity_file: Some(keys.join("missing")),
        ..SshOptions::default()
    };
    let h = ssh_host(
        &entry("nokey", "127.0.0.2", sshd.port, USER, nokey.clone()),
        &s,
    );
    let e = err(h.exec(&sh("nokey", "echo in")));
    assert!(e.message.contains("password"), "the server offers it: {e}");
    assert!(e.remedy.unwrap_or_default().contains("password = \"env:"));
    let h = ssh_host(
        &entry(
            "pw",
            "127.0.0.2",
            sshd.port,
            USER,
            SshOptions {
                password: Some(secret_file("login-pw", &env().password)),
                ..nokey
            },
        ),
        &s,
    );
    assert_eq!(ok(h.exec(&sh("pw", "echo in"))).stdout, "in\n");
    assert!(sshd.log().contains("Accepted password for hstest"));
    assert!(!sshd.log().contains(&env().password));
}

#[test]
fn hpvm_move_package_runs_over_ssh_to_its_hosts() {
    let hosts = [
        ("node1", "127.0.0.2"),
        ("node2", "127.0.0.3"),
        ("slvm1", "127.0.0.4"),
        ("slvm2", "127.0.0.5"),
    ];
    let s = sim_ssh_for(Some("hpvm"), &hosts, None);
    let home = Home::new(&s.sshd.known_hosts, &client_config_for(s.sshd.port, &hosts));
    let inv = s.inventory.to_string_lossy().into_owned();
    let state = s.state.to_string_lossy().into_owned();
    let o = hascript(
        &home,
        &[
            "run",
            "hpvm/move-package",
            "-i",
            &inv,
            "--sim-clock",
            &state,
            "-p",
            "package=slvm1",
            "-p",
            "target=node2",
        ],
    );
    let shown = text(&o);
    assert_eq!(o.status.code(), Some(0), "{shown}");
    let log = SimSite::open(&s.state)
        .unwrap_or_else(|e| panic!("{e}"))
        .command_log();
    assert!(
        log.iter().any(|c| c.line.contains("cmmovevpkg")),
        "the move went over SSH: {log:?}"
    );
    let logins = s.sshd.log().matches("Accepted publickey").count();
    let reached: std::collections::BTreeSet<&str> = log.iter().map(|c| c.host.as_str()).collect();
    assert_eq!(
        logins,
        reached.len(),
        "one session per host reached: {reached:?}"
    );
}

/// A `Map` of SSH hosts by inventory name, as the router would hold them.
struct Hosts(HashMap<String, SshHost>);

impl Exec for Hosts {
    fn exec(&self, cmd: &Command) -> Result<Output, Error> {
        match self.0.get(&cmd.host) {
            Some(h) => h.exec(cmd),
            None => Err(Error::usage("unknown host")),
        }
    }
}

/// Wait until the connections `Sshd::start` probed with are gone (each counts against
/// MaxStartups while its process lives).
fn quiet(sshd: &Sshd) {
    let pid = sshd.pid().unwrap_or_else(|| panic!("sshd has no pid"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ssh_support::children_of(pid).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A connection to 127.0.0.2 that got sshd's banner and then says nothing: it counts as
/// an unauthenticated connection until LoginGraceTime.
fn hold_a_startup(sshd: &Sshd) -> std::net::TcpStream {
    use std::io::Read as _;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut c = std::net::TcpStream::connect(("127.0.0.2", sshd.port))
            .unwrap_or_else(|e| panic!("{e}"));
        let _ = c.set_read_timeout(Some(Duration::from_secs(5)));
        let mut got = Vec::new();
        let mut b = [0u8; 1];
        while !got.ends_with(b"\n") && matches!(c.read(&mut b), Ok(1)) {
            got.push(b[0]);
        }
        if got.starts_with(b"SSH-") {
            return c;
        }
        assert!(
            Instant::now() < deadline,
            "sshd never gave a banner: {got:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_throttled_sshd_is_not_a_failed_host() {
    // One sshd that lets at most two connections be unauthenticated at once and drops every
    // other one before its banner (MaxStartups 2:100:2), as a busy production sshd does past
    // its 10:30:100. 32 healthy host names on its four addresses, all at once.
    let ips = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"];
    let sshd = Sshd::start(
        ips.iter().map(|i| raw_addr(i)).collect(),
        &["ed25519"],
        "MaxStartups 2:100:2",
    );
    quiet(&sshd);
    let home = Home::new(&sshd.known_hosts, "");
    let s = settings(&home);
    // The retries happen within each host's connect_timeout; 20 s rather than the default
    // 10 so that a loaded test machine cannot turn slowness into a failure (on a quiet one
    // all 32 are in within a few seconds: see the SSH benchmark).
    let opts = SshOptions {
        connect_timeout: Some(Duration::from_secs(20)),
        ..SshOptions::default()
    };
    let mut map = HashMap::new();
    let mut names = Vec::new();
    for i in 0..32 {
        let n = format!("h{i}");
        let h = entry(&n, ips[i % ips.len()], sshd.port, USER, opts.clone());
        map.insert(n.clone(), ssh_host(&h, &s));
        names.push(n);
    }
    let exec = Hosts(map);
    let cmds: Vec<Command> = names.iter().map(|n| sh(n, &format!("echo {n}"))).collect();
    let r = fan_out(
        &exec,
        &cmds,
        &FanOut {
            limit: 32,
            stop_on_error: false,
        },
    );
    let failed: Vec<String> = names
        .iter()
        .zip(&r)
        .filter_map(|(n, r)| match r {
            Ok(o) if o.stdout == format!("{n}\n") => None,
            Ok(o) => Some(format!("{n}: {o:?}")),
            Err(e) => Some(format!("{n}: {e}")),
        })
        .collect();
    assert!(
        failed.is_empty(),
        "{} of 32 healthy hosts failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
    // The server did throttle (else this test proves nothing).
    assert!(
        sshd.log().contains("past MaxStartups"),
        "sshd dropped no connection: {}",
        sshd.log()
    );
    assert_eq!(sshd.log().matches("Accepted publickey").count(), 32);
}

#[test]
fn a_server_that_keeps_throttling_fails_naming_max_startups() {
    // At most one unauthenticated connection, and the test holds it (connected, silent):
    // sshd drops every other connection before its banner until LoginGraceTime.
    let sshd = Sshd::start(
        vec![raw_addr("127.0.0.2")],
        &["ed25519"],
        "MaxStartups 1:100:1",
    );
    quiet(&sshd);
    let _hold = hold_a_startup(&sshd);
    let home = Home::new(&sshd.known_hosts, "");
    let h = ssh_host(
        &entry(
            "busy",
            "127.0.0.2",
            sshd.port,
            USER,
            SshOptions {
                connect_timeout: Some(Duration::from_secs(2)),
                ..SshOptions::default()
            },
        ),
        &settings(&home),
    );
    let e = err(h.exec(&sh("busy", "echo hi")));
    assert_eq!(e.kind, ErrorKind::Transport, "{e}");
    assert_eq!(e.host.as_deref(), Some("busy"));
    assert!(e.message.contains("MaxStartups"), "{e}");
    // It was tried more than once.
    assert!(
        sshd.log().matches("past MaxStartups").count() >= 2,
        "{}",
        sshd.log()
    );
}

/// Whether a process named `comm` runs under `pid` (any depth).
fn runs_under(pid: u32, comm: &str) -> bool {
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        for c in ssh_support::children_of(p) {
            let name = std::fs::read_to_string(format!("/proc/{c}/comm")).unwrap_or_default();
            if name.trim() == comm {
                return true;
            }
            todo.push(c);
        }
    }
    false
}

/// When a [`Relay`] resets a client's connection.
#[derive(Clone, Copy)]
enum ResetWhen {
    /// The first connection, once the test raises the relay's flag.
    Flag,
    /// The first `n` connections, once the client has sent more than its banner (its key
    /// exchange has begun).
    InKeyExchange(usize),
}

/// A TCP relay on `127.0.0.7` in front of a server, which resets client connections (RST:
/// `SO_LINGER` 0, then close) as `when` says. One thread per connection, one socket each
/// way, `poll(2)`.
struct Relay {
    port: u16,
    accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    flag: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Relay {
    fn start(to: (&'static str, u16), when: ResetWhen) -> Relay {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        use std::sync::Arc;
        let l = std::net::TcpListener::bind("127.0.0.7:0").unwrap_or_else(|e| panic!("{e}"));
        let port = l.local_addr().map(|a| a.port()).unwrap_or(0);
        let accepted = Arc::new(AtomicUsize::new(0));
        let flag = Arc::new(AtomicBool::new(false));
        let (acc, fl) = (accepted.clone(), flag.clone());
        std::thread::spawn(move || {
            for client in l.incoming().flatten() {
                let n = acc.fetch_add(1, Ordering::SeqCst);
                let fl = fl.clone();
                std::thread::spawn(move || {
                    let Ok(server) = std::net::TcpStream::connect(to) else {
                        return;
                    };
                    Relay::serve(client, server, n, when, &fl);
                });
            }
        });
        Relay {
            port,
            accepted,
            flag,
        }
    }

    fn serve(
        client: std::net::TcpStream,
        server: std::net::TcpStream,
        n: usize,
        when: ResetWhen,
        flag: &std::sync::atomic::AtomicBool,
    ) {
        use std::io::{Read as _, Write as _};
        use std::os::fd::AsRawFd;
        let mut up: Vec<u8> = Vec::new();
        let mut buf = [0u8; 16384];
        let ends = [&client, &server];
        loop {
            let reset = match when {
                ResetWhen::Flag => n == 0 && flag.load(std::sync::atomic::Ordering::SeqCst),
                ResetWhen::InKeyExchange(k) => {
                    n < k
                        && up
                            .iter()
                            .position(|b| *b == b'\n')
                            .is_some_and(|i| up.len() > i + 1)
                }
            };
            if reset {
                let linger = libc::linger {
                    l_onoff: 1,
                    l_linger: 0,
                };
                // SAFETY: setsockopt(2) on the relay's own socket with a live struct.
                unsafe {
                    libc::setsockopt(
                        client.as_raw_fd(),
                        libc::SOL_SOCKET,
                        libc::SO_LINGER,
                        (&linger as *const libc::linger).cast(),
                        std::mem::size_of::<libc::linger>() as libc::socklen_t,
                    );
                }
                return;
            }
            let mut fds = [
                libc::pollfd {
                    fd: client.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: server.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
            ];
            // SAFETY: poll(2) on two pollfds we own for the call.
            unsafe { libc::poll(fds.as_mut_ptr(), 2, 20) };
            for (i, f) in fds.iter().enumerate() {
                if f.revents == 0 {
                    continue;
                }
                let (mut from, mut to) = (ends[i], ends[1 - i]);
                let got = from.read(&mut buf).unwrap_or(0);
                if got == 0 {
                    return;
                }
                if i == 0 && up.len() < 65536 {
                    up.extend_from_slice(&buf[..got]);
                }
                if to.write_all(&buf[..got]).is_err() {
                    return;
                }
            }
        }
    }
}

#[test]
fn a_connection_reset_during_login_is_a_network_error_not_a_refused_key() {
    use std::sync::atomic::Ordering;
    // The server checks the key with a command that takes its time (and never accepts it):
    // while it runs, the client is waiting for the answer to its login.
    let sshd = Sshd::start(
        vec![raw_addr("127.0.0.2")],
        &["ed25519"],
        "AuthorizedKeysFile none\nAuthorizedKeysCommand /usr/bin/sleep 8\nAuthorizedKeysCommandUser nobody",
    );
    let relay = Relay::start(("127.0.0.2", sshd.port), ResetWhen::Flag);
    let home = Home::new(
        &sshd.known_hosts.replace(
            &format!("[127.0.0.2]:{}", sshd.port),
            &format!("[127.0.0.7]:{}", relay.port),
        ),
        "",
    );
    let h = ssh_host(
        &entry(
            "reset",
            "127.0.0.7",
            relay.port,
            USER,
            SshOptions {
                connect_timeout: Some(Duration::from_secs(20)),
                ..SshOptions::default()
            },
        ),
        &settings(&home),
    );
    let pid = sshd.pid().unwrap_or_else(|| panic!("sshd has no pid"));
    let watcher = {
        let flag = relay.flag.clone();
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(15);
            while Instant::now() < deadline {
                if runs_under(pid, "sleep") {
                    flag.store(true, Ordering::SeqCst);
                    return true;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            false
        })
    };
    let e = err(h.exec(&sh("reset", "echo hi")));
    assert!(
        watcher.join().unwrap_or(false),
        "the login never reached the key check: {e}"
    );
    assert_eq!(e.kind, ErrorKind::Transport, "{e}");
    assert_eq!(e.host.as_deref(), Some("reset"));
    assert!(
        !e.message.contains("authentication as"),
        "a reset is not a refused login: {e}"
    );
    assert!(
        e.message.contains("connection was reset") && e.message.contains("during authentication"),
        "{e}"
    );
    assert!(!e.message.contains("  "), "{e}");
    let remedy = e.remedy.clone().unwrap_or_default();
    assert!(!remedy.contains("ssh-agent"), "no key advice: {remedy}");
    assert_eq!(relay.accepted.load(Ordering::SeqCst), 1, "not retried");
}

#[test]
fn a_connection_reset_during_the_key_exchange_is_tried_again() {
    use std::sync::atomic::Ordering;
    let sshd = Sshd::start(vec![raw_addr("127.0.0.2")], &["ed25519"], "");
    // The first two connections are reset once the client's key exchange has begun.
    let relay = Relay::start(("127.0.0.2", sshd.port), ResetWhen::InKeyExchange(2));
    let home = Home::new(
        &sshd.known_hosts.replace(
            &format!("[127.0.0.2]:{}", sshd.port),
            &format!("[127.0.0.7]:{}", relay.port),
        ),
        "",
    );
    let h = ssh_host(
        &entry("kex", "127.0.0.7", relay.port, USER, SshOptions::default()),
        &settings(&home),
    );
    assert_eq!(ok(h.exec(&sh("kex", "echo after"))).stdout, "after\n");
    assert_eq!(relay.accepted.load(Ordering::SeqCst), 3);
}

#[test]
fn host_key_alias_on_another_port_is_looked_up_under_the_alias_alone() {
    // The book's tunnel recipe: HostName 127.0.0.x, Port N, HostKeyAlias cd1, with the key
    // recorded as `cd1` (what `ssh cd1` over the tunnel records and reads).
    let sshd = Sshd::start(vec![raw_addr("127.0.0.2")], &["ed25519"], "");
    let line = sshd.known_hosts.lines().next().unwrap_or_default();
    let (_, key) = line.split_once(' ').unwrap_or_default();
    let config = format!(
        "Host cd1\n    HostName 127.0.0.2\n    Port {}\n    HostKeyAlias cd1\n    User {USER}\n",
        sshd.port
    );
    let home = Home::new(&format!("cd1 {key}\n"), &config);
    let cd1 = HostSpec {
        name: "cd1".into(),
        user: None,
        address: None,
        options: SshOptions::default(),
    };
    let h = ssh_host(&cd1, &settings(&home));
    assert_eq!(ok(h.exec(&sh("cd1", "echo through"))).stdout, "through\n");
    // A key recorded under `[cd1]:port` is not the alias's (OpenSSH ignores it too), and an
    // accepted new key is recorded under the alias alone.
    let home = Home::new(&format!("[cd1]:{} {key}\n", sshd.port), &config);
    let e = err(ssh_host(&cd1, &settings(&home)).exec(&sh("cd1", "echo x")));
    assert!(
        e.message.contains("the host key of cd1 is not known"),
        "{e}"
    );
    let s = SshSettings {
        accept_new_host_keys: true,
        ..settings(&home)
    };
    assert_eq!(
        ok(ssh_host(&cd1, &s).exec(&sh("cd1", "echo x"))).stdout,
        "x\n"
    );
    assert!(
        home.known_hosts().ends_with(&format!("\ncd1 {key}\n")),
        "{}",
        home.known_hosts()
    );
}

/// A jump host: a raw sshd on 127.0.0.1 logging at DEBUG1 (its log then shows each
/// `direct-tcpip` request), with `extra` configuration lines.
fn bastion_sshd(extra: &str) -> Sshd {
    Sshd::start(
        vec![raw_addr("127.0.0.1"), raw_addr("127.0.0.6")],
        &["ed25519"],
        &format!("LogLevel DEBUG1\n{extra}"),
    )
}

/// `Host bastion` (and `Host hop2`, its second address) in `~/.ssh/config`.
fn bastion_config(bastion: &Sshd) -> String {
    format!(
        "Host bastion\n    HostName 127.0.0.1\n    Port {p}\n    User {USER}\n\
         Host hop2\n    HostName 127.0.0.6\n    Port {p}\n    User {USER}\n",
        p = bastion.port
    )
}

fn jump(value: &str) -> SshOptions {
    SshOptions {
        proxy_jump: Some(
            hascript::transport::ssh::jump::parse_hops(value).unwrap_or_else(|e| panic!("{e}")),
        ),
        ..SshOptions::default()
    }
}

fn count(log: &str, needle: &str) -> usize {
    log.lines().filter(|l| l.contains(needle)).count()
}

#[test]
fn hosts_behind_a_jump_host_share_one_session_to_it() {
    let bastion = bastion_sshd("");
    let ips = [
        "127.0.0.2",
        "127.0.0.3",
        "127.0.0.4",
        "127.0.0.5",
        "127.0.0.7",
    ];
    let target = Sshd::start(ips.iter().map(|i| raw_addr(i)).collect(), &["ed25519"], "");
    // h3 gets its jump host from ~/.ssh/config's ProxyJump, the others from the inventory's
    // proxy_jump; h4's proxy_jump = "none" overrides the config's.
    let config = format!(
        "{}Host h3 h4\n    ProxyJump bastion\n",
        bastion_config(&bastion)
    );
    let home = Home::new(
        &format!("{}{}", bastion.known_hosts, target.known_hosts),
        &config,
    );
    let s = settings(&home);
    let mut map = HashMap::new();
    let mut names = Vec::new();
    for (i, ip) in ips.iter().enumerate() {
        let n = format!("h{i}");
        let opts = match i {
            3 => SshOptions::default(),
            4 => jump("none"),
            _ => jump("bastion"),
        };
        map.insert(
            n.clone(),
            ssh_host(&entry(&n, ip, target.port, USER, opts), &s),
        );
        names.push(n);
    }
    let hosts = Hosts(map);
    assert!(
        hosts.0["h0"]
            .target()
            .endpoint()
            .ends_with("through jump host bastion"),
        "{}",
        hosts.0["h0"].target().endpoint()
    );
    // Twice: the second round reuses every session (the tunnels stay open).
    for round in 0..2 {
        let cmds: Vec<Command> = names
            .iter()
            .map(|n| {
                sh(
                    n,
                    &format!("echo {n} $SSH_CONNECTION; head -c 300000 /dev/zero | wc -c"),
                )
            })
            .collect();
        let r = fan_out(
            &hosts,
            &cmds,
            &FanOut {
                limit: 16,
                stop_on_error: false,
            },
        );
        for ((n, r), ip) in names.iter().zip(&r).zip(ips.iter()) {
            let o = ok(r.clone());
            // The target sees the connection on its own address and port: the jump host
            // connected there (SSH_CONNECTION: client ip, port, server ip, port).
            let first = o.stdout.lines().next().unwrap_or_default().to_string();
            let w: Vec<&str> = first.split_whitespace().collect();
            assert_eq!(w.first().copied(), Some(n.as_str()), "round {round}: {o:?}");
            assert_eq!(w.get(3).copied(), Some(*ip), "{first}");
            assert_eq!(o.stdout.lines().nth(1), Some("300000"), "{o:?}");
        }
    }
    let log = bastion.log();
    // One login on the jump host for the four hosts behind it (h4 went direct).
    assert_eq!(
        count(&log, &format!("Accepted publickey for {USER}")),
        1,
        "one session to the jump host: {log}"
    );
    let forwards = count(&log, "server_request_direct_tcpip: originator");
    assert_eq!(
        forwards, 4,
        "one direct-tcpip channel per host behind it: {log}"
    );
    for ip in &ips[..4] {
        assert!(
            log.contains(&format!("target {ip} port {}", target.port)),
            "the jump host forwarded to {ip}: {log}"
        );
    }
    assert!(log.contains("ctype direct-tcpip"), "{log}");
    assert!(
        !log.contains(&format!("target 127.0.0.7 port {}", target.port)),
        "proxy_jump = \"none\" goes direct: {log}"
    );
    drop(hosts);
}

#[test]
fn a_chain_of_jump_hosts_nests_the_sessions() {
    let bastion = bastion_sshd("");
    let target = Sshd::start(vec![raw_addr("127.0.0.2")], &["ed25519"], "");
    let home = Home::new(
        &format!("{}{}", bastion.known_hosts, target.known_hosts),
        &bastion_config(&bastion),
    );
    let h = ssh_host(
        &entry("t", "127.0.0.2", target.port, USER, jump("bastion,hop2")),
        &settings(&home),
    );
    assert_eq!(ok(h.exec(&sh("t", "echo nested"))).stdout, "nested\n");
    let log = bastion.log();
    // bastion (direct), then hop2 through bastion, then t through hop2.
    assert_eq!(
        count(&log, &format!("Accepted publickey for {USER}")),
        2,
        "{log}"
    );
    assert!(
        log.contains(&format!("target 127.0.0.6 port {}", bastion.port)),
        "{log}"
    );
    assert!(
        log.contains(&format!("target 127.0.0.2 port {}", target.port)),
        "{log}"
    );
}

#[test]
fn an_unknown_jump_host_key_is_refused_naming_the_jump_host() {
    let bastion = bastion_sshd("");
    let target = Sshd::start(vec![raw_addr("127.0.0.2")], &["ed25519"], "");
    // The target's key is known, the jump host's is not.
    let home = Home::new(&target.known_hosts, &bastion_config(&bastion));
    let h = ssh_host(
        &entry("t", "127.0.0.2", target.port, USER, jump("bastion")),
        &settings(&home),
    );
    let e = err(h.exec(&sh("t", "echo x")));
    assert_eq!(e.host.as_deref(), Some("t"));
    assert_eq!(e.kind, ErrorKind::Transport);
    assert!(
        e.message.contains("cannot reach the jump host bastion")
            && e.message.contains(&format!(
                "the host key of [127.0.0.1]:{} is not known",
                bastion.port
            )),
        "{e}"
    );
    assert!(
        e.remedy
            .as_deref()
            .is_some_and(|r| r.contains("--accept-new-host-keys")),
        "{e:?}"
    );
    // Nothing reached the target (its one connection is the start-up probe), and the jump
    // host saw no login.
    assert_eq!(
        count(&target.log(), "Connection from"),
        1,
        "{}",
        target.log()
    );
    assert_eq!(count(&bastion.log(), "Accepted publickey"), 0);
    // The target's key is checked under its own name too: known only for the jump host.
    let home = Home::new(&bastion.known_hosts, &bastion_config(&bastion));
    let h = ssh_host(
        &entry("t", "127.0.0.2", target.port, USER, jump("bastion")),
        &settings(&home),
    );
    let e = err(h.exec(&sh("t", "echo x")));
    assert!(
        e.message.starts_with("t: the host key of [127.0.0.2]:")
            && e.message.contains("is not known"),
        "{e}"
    );
}

#[test]
fn a_jump_host_that_refuses_forwarding_is_named_with_the_setting() {
    let bastion = bastion_sshd("AllowTcpForwarding no\n");
    let target = Sshd::start(vec![raw_addr("127.0.0.2")], &["ed25519"], "");
    let home = Home::new(
        &format!("{}{}", bastion.known_hosts, target.known_hosts),
        &bastion_config(&bastion),
    );
    let h = ssh_host(
        &entry("t", "127.0.0.2", target.port, USER, jump("bastion")),
        &settings(&home),
    );
    let t = Instant::now();
    let e = err(h.exec(&sh("t", "echo x")));
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert!(
        e.message.contains("the jump host bastion")
            && e.message
                .contains("refused to forward a connection to 127.0.0.2 port")
            && e.message.contains("administratively prohibited"),
        "{e}"
    );
    assert!(
        e.remedy
            .as_deref()
            .is_some_and(|r| r.contains("AllowTcpForwarding")),
        "{e:?}"
    );
    assert!(
        bastion.log().contains("refused local port forward"),
        "{}",
        bastion.log()
    );
    assert_eq!(
        count(&target.log(), "Connection from"),
        1,
        "{}",
        target.log()
    );
    // A jump host nothing listens on: the hop is named.
    let home = Home::new(
        &target.known_hosts,
        "Host bastion\n    HostName 127.0.0.9\n    Port 9\n",
    );
    let h = ssh_host(
        &entry("t", "127.0.0.2", target.port, USER, jump("bastion")),
        &settings(&home),
    );
    let e = err(h.exec(&sh("t", "echo x")));
    assert!(
        e.message.contains("cannot reach the jump host bastion")
            && e.message.contains("cannot connect to"),
        "{e}"
    );
}

#[test]
fn a_host_reachable_only_through_the_jump_host_is_reached() {
    // Both servers live in a network namespace of their own: from here only the jump host is
    // reachable (through a relay), and the host only from the jump host.
    let ns = Netns::new();
    let bastion = Sshd::start_in(
        Some(&ns),
        vec![raw_addr("127.0.0.1")],
        &["ed25519"],
        "LogLevel DEBUG1\n",
    );
    let target = Sshd::start_in(Some(&ns), vec![raw_addr("127.0.0.2")], &["ed25519"], "");
    let relay = ns.relay("127.0.0.1", bastion.port);
    assert!(
        std::net::TcpStream::connect(("127.0.0.2", target.port)).is_err(),
        "the host must not be reachable directly"
    );
    // The jump host's key as recorded for the address and port hascript connects to.
    let bastion_kh = bastion
        .known_hosts
        .replace(&format!("]:{} ", bastion.port), &format!("]:{relay} "));
    let home = Home::new(
        &format!("{bastion_kh}{}", target.known_hosts),
        &format!("Host bastion\n    HostName 127.0.0.1\n    Port {relay}\n    User {USER}\n"),
    );
    let s = settings(&home);
    let direct = ssh_host(
        &entry("t", "127.0.0.2", target.port, USER, jump("none")),
        &s,
    );
    let e = err(direct.exec(&sh("t", "echo x")));
    assert!(e.message.contains("cannot connect"), "{e}");
    let h = ssh_host(
        &entry("t", "127.0.0.2", target.port, USER, jump("bastion")),
        &s,
    );
    let o = ok(h.exec(&sh("t", "echo $SSH_CONNECTION")));
    assert_eq!(
        o.stdout.split_whitespace().nth(2),
        Some("127.0.0.2"),
        "{o:?}"
    );
    let log = bastion.log();
    assert!(
        log.contains(&format!(
            "server_request_direct_tcpip: originator 127.0.0.1 port 22, target 127.0.0.2 port {}",
            target.port
        )),
        "{log}"
    );
}

#[test]
fn a_frozen_or_killed_jump_host_fails_within_timeouts_and_is_replaced() {
    let bastion = bastion_sshd("");
    let target = Sshd::start(vec![raw_addr("127.0.0.2")], &["ed25519"], "");
    let home = Home::new(
        &format!("{}{}", bastion.known_hosts, target.known_hosts),
        &bastion_config(&bastion),
    );
    let h = ssh_host(
        &entry("t", "127.0.0.2", target.port, USER, jump("bastion")),
        &settings(&home),
    );
    assert_eq!(ok(h.exec(&sh("t", "echo up"))).stdout, "up\n");
    // A hung jump host: the host's command is bounded by its own timeout.
    bastion.signal_all(libc::SIGSTOP);
    let t = Instant::now();
    let e = err(h.exec(&sh("t", "echo hello").with_timeout(Duration::from_millis(1500))));
    assert!(
        matches!(e.kind, ErrorKind::Timeout | ErrorKind::Transport),
        "{e}"
    );
    assert_eq!(e.host.as_deref(), Some("t"));
    assert!(
        t.elapsed() < Duration::from_secs(4),
        "{:?}: {e}",
        t.elapsed()
    );
    bastion.signal_all(libc::SIGCONT);
    // The jump host's session dies (its sshd session killed, the listener kept): the next
    // commands open a new session to it, and through it to the host.
    bastion.kill_sessions();
    let mut answers = Vec::new();
    for _ in 0..3 {
        answers.push(h.exec(&sh("t", "echo again")));
    }
    assert!(
        answers
            .iter()
            .any(|r| r.as_ref().is_ok_and(|o| o.stdout == "again\n")),
        "{answers:?}"
    );
    assert!(answers.last().is_some_and(|r| r.is_ok()), "{answers:?}");
    assert_eq!(
        count(&bastion.log(), &format!("Accepted publickey for {USER}")),
        2,
        "{}",
        bastion.log()
    );
}
