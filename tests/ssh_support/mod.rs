//! A real OpenSSH `sshd` on loopback for the SSH tests: one server listening on several
//! 127.0.0.x addresses (one per simulated host), host keys generated per run, a client home
//! with its own key, `~/.ssh/config` and `known_hosts`, and test users with `/bin/sh` as
//! their shell (`hstest`, with a sudo rule; `hstty`, whose sudo rule has `requiretty`).
//!
//! The tests need root (sshd, users, sudoers). A missing sshd is a FAILURE with a clear
//! message, never a silent skip: `.ci/run` installs openssh-server and sudo.

#![allow(dead_code)]

use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The login user of the tests (shell /bin/sh, sudo with a password).
pub const USER: &str = "hstest";
/// A user whose sudo rule says `requiretty`.
pub const TTY_USER: &str = "hstty";
const SSHD: &str = "/usr/sbin/sshd";

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn write(path: &Path, text: &str, mode: u32) {
    fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

/// Process-wide setup, done once: checks, users, sudoers, the client key, a copy of the
/// hascript binary that the test users can execute.
pub struct Env {
    /// Shared folder (mode 0755).
    pub dir: PathBuf,
    /// The test users' password (sudo asks for it).
    pub password: String,
    /// The client's private key.
    pub client_key: PathBuf,
    /// Its public half, as authorized_keys holds it.
    pub client_pub: String,
    /// The hascript binary the ForceCommand runs (readable by the test users).
    pub hascript: PathBuf,
    _keep: tempfile::TempDir,
}

/// The environment, set up on first use.
pub fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(setup)
}

/// The start of the name of every test process's folder: `hascript-ssh-<pid>-<random>`.
const FOLDER_PREFIX: &str = "hascript-ssh-";

/// Remove the folders of test processes that no longer run (`/proc/<pid>` is gone).
fn remove_stale_folders() {
    let Ok(rd) = fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(FOLDER_PREFIX) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

fn setup() -> Env {
    assert!(
        Path::new(SSHD).exists(),
        "{SSHD} is missing: the SSH tests need OpenSSH's server. Install it \
         (apt-get install -y openssh-server sudo; .ci/run does) — these tests fail rather than skip"
    );
    // SAFETY: geteuid(2) has no preconditions.
    let uid = unsafe { libc::geteuid() };
    assert_eq!(
        uid, 0,
        "the SSH tests run sshd and create test users: run them as root (CI does)"
    );
    assert!(
        Path::new("/usr/bin/sudo").exists(),
        "sudo is missing: apt-get install -y sudo (.ci/run does)"
    );
    fs::create_dir_all("/run/sshd").unwrap_or_else(|e| panic!("mkdir /run/sshd: {e}"));
    // The environment lives in a static, never dropped: its folder (with a copy of the
    // binary) would stay behind after every test process. It is named after this process,
    // and the folders of processes that are gone are removed here.
    remove_stale_folders();
    let keep = tempfile::Builder::new()
        .prefix(&format!("{FOLDER_PREFIX}{}-", std::process::id()))
        .tempdir()
        .unwrap_or_else(|e| panic!("{e}"));
    let dir = keep.path().to_path_buf();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap_or_else(|e| panic!("{e}"));
    let password = format!(
        "pw-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos()
    );
    for user in [USER, TTY_USER] {
        let exists = Command::new("id")
            .arg(user)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !exists {
            run(Command::new("useradd").args(["-m", "-s", "/bin/sh", user]));
        }
        let mut child = Command::new("chpasswd")
            .stdin(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("chpasswd: {e}"));
        if let Some(mut i) = child.stdin.take() {
            use std::io::Write;
            let _ = writeln!(i, "{user}:{password}");
        }
        assert!(child.wait().is_ok_and(|s| s.success()), "chpasswd failed");
    }
    write(
        Path::new("/etc/sudoers.d/hascript-test"),
        &format!(
            "{USER} ALL=(ALL) ALL\n{TTY_USER} ALL=(ALL) ALL\nDefaults:{TTY_USER} requiretty\n"
        ),
        0o440,
    );
    let client_key = dir.join("id_ed25519");
    run(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "hascript-test", "-f"])
        .arg(&client_key));
    let client_pub = fs::read_to_string(dir.join("id_ed25519.pub")).unwrap_or_default();
    let hascript = dir.join("hascript");
    fs::copy(env!("CARGO_BIN_EXE_hascript"), &hascript)
        .unwrap_or_else(|e| panic!("copy hascript: {e}"));
    fs::set_permissions(&hascript, fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("{e}"));
    Env {
        dir,
        password,
        client_key,
        client_pub,
        hascript,
        _keep: keep,
    }
}

/// One listening address of a server and what it runs.
#[derive(Debug, Clone)]
pub struct Addr {
    /// 127.0.0.x.
    pub ip: String,
    /// `Some(line)`: a ForceCommand for connections to this address.
    pub force: Option<String>,
}

/// A running sshd.
pub struct Sshd {
    child: Option<Child>,
    /// Its port (on every address).
    pub port: u16,
    /// Its folder (config, host keys, log).
    pub dir: PathBuf,
    /// Its addresses.
    pub addrs: Vec<Addr>,
    /// `[ip]:port keytype key` lines for every address and host key.
    pub known_hosts: String,
    _keep: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

impl Sshd {
    /// Start sshd on `addrs` with host keys of `key_types` (`ed25519`, `rsa`) and `extra`
    /// global configuration lines.
    pub fn start(addrs: Vec<Addr>, key_types: &[&str], extra: &str) -> Sshd {
        Sshd::start_in(None, addrs, key_types, extra)
    }

    /// [`Sshd::start`] inside the network namespace `ns` (its addresses are then reachable
    /// only from inside it).
    pub fn start_in(ns: Option<&Netns>, addrs: Vec<Addr>, key_types: &[&str], extra: &str) -> Sshd {
        let env = env();
        let keep = tempfile::Builder::new()
            .prefix("sshd-")
            .tempdir_in(&env.dir)
            .unwrap_or_else(|e| panic!("{e}"));
        let dir = keep.path().to_path_buf();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|e| panic!("{e}"));
        let mut host_keys = String::new();
        let mut pubs = Vec::new();
        for kt in key_types {
            let k = dir.join(format!("host_{kt}"));
            let mut c = Command::new("ssh-keygen");
            c.args(["-q", "-t", kt, "-N", "", "-f"]).arg(&k);
            if *kt == "rsa" {
                c.args(["-b", "2048"]);
            }
            run(&mut c);
            host_keys.push_str(&format!("HostKey {}\n", k.display()));
            pubs.push(fs::read_to_string(dir.join(format!("host_{kt}.pub"))).unwrap_or_default());
        }
        write(&dir.join("authorized_keys"), &env.client_pub, 0o644);
        let mut last_err = String::new();
        for _ in 0..20 {
            let port = free_port();
            let mut cfg = String::new();
            for a in &addrs {
                cfg.push_str(&format!("ListenAddress {}:{port}\n", a.ip));
            }
            cfg.push_str(&host_keys);
            // sshd keeps the first value of a keyword: the caller's lines come first.
            cfg.push_str(extra);
            cfg.push('\n');
            cfg.push_str(&format!(
                "PidFile {d}/sshd.pid\nAuthorizedKeysFile {d}/authorized_keys\nStrictModes no\n\
                 UsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
                 PermitRootLogin no\nAllowUsers {USER} {TTY_USER}\nLogLevel VERBOSE\n\
                 PrintMotd no\nPrintLastLog no\nMaxSessions 50\n",
                d = dir.display()
            ));
            // MaxStartups is the one keyword where sshd keeps the LAST value: add the
            // default only when the caller set none.
            if !extra.contains("MaxStartups") {
                cfg.push_str("MaxStartups 100\n");
            }
            for a in &addrs {
                if let Some(f) = &a.force {
                    cfg.push_str(&format!(
                        "Match LocalAddress {}\n  ForceCommand {f}\n",
                        a.ip
                    ));
                }
            }
            let cfg_path = dir.join("sshd_config");
            write(&cfg_path, &cfg, 0o644);
            run(Command::new(SSHD).arg("-t").arg("-f").arg(&cfg_path));
            let log = dir.join("sshd.log");
            let mut cmd = match ns {
                Some(ns) => {
                    let mut c = Command::new("nsenter");
                    c.arg(format!("--net={}", ns.path.display())).arg(SSHD);
                    c
                }
                None => Command::new(SSHD),
            };
            let child = cmd
                .arg("-D")
                .arg("-f")
                .arg(&cfg_path)
                .arg("-E")
                .arg(&log)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start sshd: {e}"));
            let mut sshd = Sshd {
                child: Some(child),
                port,
                dir: dir.clone(),
                addrs: addrs.clone(),
                known_hosts: String::new(),
                _keep: tempfile::TempDir::new().unwrap_or_else(|e| panic!("{e}")),
            };
            // Probe each address once until it answers (every probe is a connection sshd
            // forks for; probing all of them in a loop would hit MaxStartups).
            let deadline = Instant::now() + Duration::from_secs(10);
            let mut pending: Vec<&Addr> = addrs.iter().collect();
            while !pending.is_empty() && Instant::now() < deadline {
                let probe = |a: &&Addr| {
                    let up = || std::net::TcpStream::connect((a.ip.as_str(), port)).is_ok();
                    !match ns {
                        Some(ns) => ns.run(up),
                        None => up(),
                    }
                };
                pending.retain(probe);
                if let Some(Ok(Some(_))) = sshd.child.as_mut().map(|c| c.try_wait()) {
                    break;
                }
                if !pending.is_empty() {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            let up = pending.is_empty();
            if up {
                // Each probe is a connection sshd logs from the child it forks, a moment
                // later: wait for those lines, so a test counting connections counts them.
                let logged = Instant::now() + Duration::from_secs(5);
                while fs::read_to_string(&log)
                    .unwrap_or_default()
                    .matches("Connection from")
                    .count()
                    < addrs.len()
                    && Instant::now() < logged
                {
                    std::thread::sleep(Duration::from_millis(10));
                }
                let mut kh = String::new();
                for a in &addrs {
                    for p in &pubs {
                        let mut f = p.split_whitespace();
                        let (Some(kt), Some(k)) = (f.next(), f.next()) else {
                            continue;
                        };
                        kh.push_str(&format!("[{}]:{port} {kt} {k}\n", a.ip));
                    }
                }
                sshd.known_hosts = kh;
                sshd._keep = keep;
                return sshd;
            }
            last_err = fs::read_to_string(&log).unwrap_or_default();
            sshd.stop();
        }
        panic!("sshd did not start: {last_err}");
    }

    /// sshd's log.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("sshd.log")).unwrap_or_default()
    }

    /// The listener's pid.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// The listener and every process it started (its sessions and their commands).
    fn tree(&self) -> Vec<u32> {
        let mut tree: Vec<u32> = self.pid().into_iter().collect();
        let mut i = 0;
        while i < tree.len() {
            tree.extend(children_of(tree[i]));
            i += 1;
        }
        tree
    }

    /// Send `sig` to the listener and everything it started, by pid.
    pub fn signal_all(&self, sig: i32) {
        for p in self.tree() {
            // SAFETY: kill(2) on pids we started (the sshd and its descendants).
            unsafe {
                libc::kill(p as i32, sig);
            }
        }
    }

    /// Kill the listener and every process it started (its sessions), by pid.
    pub fn kill_all(&mut self) {
        self.signal_all(libc::SIGCONT);
        self.signal_all(libc::SIGKILL);
        self.stop();
    }

    /// Kill the sessions (children of the listener) but keep the listener.
    pub fn kill_sessions(&self) {
        if let Some(pid) = self.pid() {
            for c in children_of(pid) {
                // SAFETY: kill(2) on a child of the sshd we started.
                unsafe {
                    libc::kill(c as i32, libc::SIGKILL);
                }
            }
        }
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.kill_all();
    }
}

/// Direct children of `pid` (from /proc).
pub fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(rd) = fs::read_dir("/proc") else {
        return out;
    };
    for e in rd.flatten() {
        let Ok(p) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let ppid = rest
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u32>().ok());
        if ppid == Some(pid) {
            out.push(p);
        }
    }
    out
}

/// A client home: `.ssh/id_ed25519` (the test key), `.ssh/known_hosts`, `.ssh/config`.
pub struct Home {
    /// The folder (use as HOME).
    pub path: PathBuf,
    _keep: tempfile::TempDir,
}

impl Home {
    /// A home with the test key, `known_hosts` text and `config` text.
    pub fn new(known_hosts: &str, config: &str) -> Home {
        let env = env();
        let keep = tempfile::Builder::new()
            .prefix("home-")
            .tempdir_in(&env.dir)
            .unwrap_or_else(|e| panic!("{e}"));
        let ssh = keep.path().join(".ssh");
        fs::create_dir_all(&ssh).unwrap_or_else(|e| panic!("{e}"));
        fs::copy(&env.client_key, ssh.join("id_ed25519")).unwrap_or_else(|e| panic!("{e}"));
        fs::set_permissions(ssh.join("id_ed25519"), fs::Permissions::from_mode(0o600))
            .unwrap_or_else(|e| panic!("{e}"));
        write(&ssh.join("known_hosts"), known_hosts, 0o600);
        write(&ssh.join("config"), config, 0o600);
        Home {
            path: keep.path().to_path_buf(),
            _keep: keep,
        }
    }

    /// Hand the home (and so its key) to `user`, for a hascript run as that user.
    pub fn give_to(&self, user: &str) {
        chown(user, &self.path);
    }

    /// `.ssh/known_hosts` now.
    pub fn known_hosts(&self) -> String {
        fs::read_to_string(self.path.join(".ssh/known_hosts")).unwrap_or_default()
    }
}

/// A simulated site in a folder the test users can write (`hascript sim init`).
pub fn sim_site(scenario: Option<&str>) -> (PathBuf, tempfile::TempDir) {
    let env = env();
    let keep = tempfile::Builder::new()
        .prefix("site-")
        .tempdir_in(&env.dir)
        .unwrap_or_else(|e| panic!("{e}"));
    let state = keep.path().join("state");
    let mut c = Command::new(&env.hascript);
    c.args(["sim", "init", "--state"]).arg(&state);
    if let Some(s) = scenario {
        c.args(["--scenario", s]);
    }
    run(&mut c);
    run(Command::new("chown").args(["-R", USER]).arg(keep.path()));
    (state, keep)
}

/// `chown -R user path`.
pub fn chown(user: &str, path: &Path) {
    run(Command::new("chown").args(["-R", user]).arg(path));
}

/// The uid and gid of `user`.
pub fn ids(user: &str) -> (u32, u32) {
    let n = |flag: &str| {
        run(Command::new("id").arg(flag).arg(user))
            .trim()
            .parse::<u32>()
            .unwrap_or_else(|e| panic!("id {flag} {user}: {e}"))
    };
    (n("-u"), n("-g"))
}

/// The SHA256 fingerprint `ssh-keygen -lf` prints for a public key file.
pub fn fingerprint_of(pub_file: &Path) -> String {
    let out = run(Command::new("ssh-keygen").arg("-lf").arg(pub_file));
    out.split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string()
}

/// A private network namespace with its own loopback (held by a `sleep` process this test
/// started): addresses in it are unreachable from the test's own namespace.
pub struct Netns {
    holder: Child,
    /// `/proc/PID/ns/net` of the holder.
    pub path: PathBuf,
}

impl Netns {
    /// A new namespace, its loopback up.
    pub fn new() -> Netns {
        let holder = Command::new("unshare")
            .args(["-n", "sleep", "3600"])
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("unshare -n: {e}"));
        let path = PathBuf::from(format!("/proc/{}/ns/net", holder.id()));
        let mine = fs::read_link("/proc/self/ns/net").unwrap_or_default();
        let deadline = Instant::now() + Duration::from_secs(5);
        while fs::read_link(&path).unwrap_or_default() == mine && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let ns = Netns { holder, path };
        run(Command::new("nsenter")
            .arg(format!("--net={}", ns.path.display()))
            .args(["ip", "link", "set", "lo", "up"]));
        ns
    }

    /// Run `f` on a thread inside the namespace (sockets it makes live there).
    pub fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        std::thread::scope(|s| {
            s.spawn(|| {
                enter(&self.path);
                f()
            })
            .join()
            .unwrap_or_else(|_| panic!("thread in the namespace panicked"))
        })
    }

    /// A TCP relay from 127.0.0.1:(returned port) here to `ip`:`port` inside the namespace.
    pub fn relay(&self, ip: &str, port: u16) -> u16 {
        let l = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        let here = l.local_addr().map(|a| a.port()).unwrap_or_default();
        let path = self.path.clone();
        let to = format!("{ip}:{port}");
        std::thread::spawn(move || {
            for c in l.incoming().flatten() {
                let path = path.clone();
                let to = to.clone();
                std::thread::spawn(move || {
                    enter(&path);
                    let Ok(far) = std::net::TcpStream::connect(&to) else {
                        return;
                    };
                    let (Ok(mut a2), Ok(mut f2)) = (c.try_clone(), far.try_clone()) else {
                        return;
                    };
                    let (mut a, mut f) = (c, far);
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut a2, &mut f2);
                        let _ = f2.shutdown(std::net::Shutdown::Write);
                    });
                    let _ = std::io::copy(&mut f, &mut a);
                    let _ = a.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        here
    }
}

/// Move the calling thread into the network namespace at `path`.
fn enter(path: &Path) {
    use std::os::fd::AsRawFd;
    let f = fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // SAFETY: setns(2) on an open namespace file; it changes only this thread.
    let rc = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
    assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}
