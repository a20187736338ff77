//! SSH transport benchmark against a real `sshd` on loopback, side by side with OpenSSH's
//! own multiplexing (`ControlMaster`/`ControlPersist`). Not a test: it prints figures and
//! ratios. Run as root (it starts sshd and creates the test user, whose shell is /bin/sh):
//!
//! ```text
//! cargo bench --bench ssh
//! ```
//!
//! Targets (issue 4): 200 sequential commands ≤ 0.5× the multiplexed `ssh` loop; one
//! command on each of 32 hosts ≤ 1.0× OpenSSH's multiplexed fan-out; cold start to the first
//! remote result ≤ 150 ms; (RSS with 32 sessions − RSS with none) / 32 ≤ 256 KiB.
//! Issue 11: the same command on 32 hosts as a change (each host locked first, released at
//! the end, through a run's journal) ≤ 1.3× the same fan-out as a read.

#[path = "../tests/ssh_support/mod.rs"]
mod ssh_support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command as Proc, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hascript::journal::{JournalingExec, Recorder};
use hascript::lock::{LockOptions, Locks, Owner, LOCK_DIR};
use hascript::transport::ssh::{HostSpec, SshHost, SshOptions, SshSettings};
use hascript_api::{fan_out, FanOut};
use hascript_api::{CancelToken, Command, Effect, Error, Exec, Output, Program};
use ssh_support::{Addr, Home, Sshd, USER};

const HOSTS: usize = 32;
const SEQ: usize = 200;

fn entry(name: &str, ip: &str, port: u16) -> HostSpec {
    HostSpec {
        name: name.into(),
        user: Some(USER.into()),
        address: Some(ip.into()),
        options: SshOptions {
            port: Some(port),
            ..SshOptions::default()
        },
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn ssh_cmd(home: &Path, ip: &str, port: u16, control: &Path) -> Proc {
    let mut c = Proc::new("ssh");
    c.env("HOME", home)
        .env_remove("SSH_AUTH_SOCK")
        .args(["-F", "/dev/null", "-i"])
        .arg(home.join(".ssh/id_ed25519"))
        .args(["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"])
        .arg("-o")
        .arg(format!(
            "UserKnownHostsFile={}",
            home.join(".ssh/known_hosts").display()
        ))
        .args(["-o", "ControlMaster=auto", "-o", "ControlPersist=120"])
        .arg("-o")
        .arg(format!("ControlPath={}", control.display()))
        .args(["-p", &port.to_string(), "-l", USER, ip])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

struct Map(Vec<SshHost>);

impl Exec for Map {
    fn exec(&self, cmd: &Command) -> Result<Output, Error> {
        let i: usize = cmd.host.trim_start_matches('h').parse().unwrap_or(0);
        match self.0.get(i) {
            Some(h) => h.exec(cmd),
            None => Err(Error::usage("unknown host")),
        }
    }
}

/// The 32 loopback "hosts" are one machine: each gets its own lock folder (`root/hN`), by
/// rewriting the lock's path in the lock commands (the same rewrite before and after the
/// change that made locking parallel, so both are measured alike).
struct LockedMap {
    hosts: Map,
    root: PathBuf,
}

impl Exec for LockedMap {
    fn exec(&self, cmd: &Command) -> Result<Output, Error> {
        let Program::Argv(argv) = &cmd.program else {
            return self.hosts.exec(cmd);
        };
        let mine = format!("{}/{}/hascript.lock", self.root.display(), cmd.host);
        let mut c = cmd.clone();
        c.program = Program::Argv(argv.iter().map(|a| a.replace(LOCK_DIR, &mine)).collect());
        self.hosts.exec(&c)
    }
}

/// One run's fan-out of `true` on every host of `hosts` with `effect`, through the run's
/// journal (a real file: each change synced before it is sent) and its locks, released at
/// the end as a run does.
/// Returns the fan-out's time (locks and commands) and the run's (with the release).
fn journaled_fan_out(
    hosts: &Arc<LockedMap>,
    journals: &Path,
    effect: Effect,
) -> (Duration, Duration) {
    let t = Instant::now();
    let id = hascript::journal::new_run_id();
    let rec =
        Arc::new(Recorder::create(journals, &id, Vec::new()).unwrap_or_else(|e| panic!("{e}")));
    let locks = Arc::new(Locks::new(
        hosts.clone(),
        rec.clone(),
        Arc::new(hascript_testkit::Recorder::new(None)),
        LockOptions::default(),
        Owner {
            run: id,
            user: "bench".into(),
            origin: "bench".into(),
            since: "now".into(),
            pid: std::process::id(),
        },
    ));
    let exec = JournalingExec::new(hosts.clone(), rec, Some(locks.clone()));
    let cmds: Vec<Command> = (0..hosts.hosts.0.len())
        .map(|i| Command::argv(&format!("h{i}"), &["true"], effect))
        .collect();
    let opts = FanOut {
        limit: cmds.len(),
        stop_on_error: false,
    };
    for r in fan_out(&exec, &cmds, &opts) {
        assert!(r.unwrap_or_else(|e| panic!("{e}")).success());
    }
    let fanned = t.elapsed();
    let failed = locks.release_all();
    assert!(failed.is_empty(), "{failed:?}");
    (fanned, t.elapsed())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Jump hosts: 16 new hosts on one sshd, one `true` each, reached directly and through one
/// jump host (a second sshd); then the same with the sessions open. Medians of 5; the jump
/// host's logins are counted in its log (one per round: the 16 hosts share its session).
fn jump_bench() {
    const N: usize = 16;
    let ips: Vec<String> = (0..N).map(|i| format!("127.0.0.{}", i + 2)).collect();
    let addr = |ip: &str| Addr {
        ip: ip.into(),
        force: None,
    };
    let target = Sshd::start(ips.iter().map(|i| addr(i)).collect(), &["ed25519"], "");
    let bastion = Sshd::start(vec![addr("127.0.0.1")], &["ed25519"], "");
    let home = Home::new(
        &format!("{}{}", bastion.known_hosts, target.known_hosts),
        &format!(
            "Host bastion\n    HostName 127.0.0.1\n    Port {}\n    User {USER}\n",
            bastion.port
        ),
    );
    let settings = SshSettings {
        home: Some(home.path.clone()),
        ..SshSettings::default()
    };
    let hops = |v: &str| hascript::transport::ssh::jump::parse_hops(v).unwrap_or_default();
    let hosts = |via: bool| {
        Map((0..N)
            .map(|i| {
                let mut e = entry(&format!("h{i}"), &ips[i], target.port);
                e.options.proxy_jump = Some(hops(if via { "bastion" } else { "none" }));
                SshHost::new(&e, &settings, CancelToken::new()).unwrap_or_else(|e| panic!("{e}"))
            })
            .collect())
    };
    let cmds: Vec<Command> = (0..N)
        .map(|i| Command::read(&format!("h{i}"), &["true"]))
        .collect();
    let opts = FanOut {
        limit: N,
        stop_on_error: false,
    };
    let once = |m: &Map| {
        let t = Instant::now();
        for r in fan_out(m, &cmds, &opts) {
            r.unwrap_or_else(|e| panic!("{e}"));
        }
        t.elapsed()
    };
    let logins = || bastion.log().matches("Accepted publickey").count();
    let (mut cold_direct, mut cold_via, mut warm_direct, mut warm_via) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let before = logins();
    for _ in 0..5 {
        let d = hosts(false);
        cold_direct.push(once(&d));
        warm_direct.push(once(&d));
        let v = hosts(true);
        cold_via.push(once(&v));
        warm_via.push(once(&v));
    }
    let per_round = (logins() - before) as f64 / 5.0;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "  jump host, {N} new hosts, one `true` each: direct {:.1} ms, through one jump host {:.1} ms; sessions open: direct {:.1} ms, through it {:.1} ms (medians of 5); jump host logins per fan-out: {per_round:.1}",
        ms(median(cold_direct)),
        ms(median(cold_via)),
        ms(median(warm_direct)),
        ms(median(warm_via)),
    );
}

fn main() {
    if std::env::var("HASCRIPT_BENCH_ONLY").as_deref() == Ok("jump") {
        println!("SSH transport benchmark, jump hosts only (HASCRIPT_BENCH_ONLY=jump)");
        jump_bench();
        return;
    }
    let ips: Vec<String> = (0..HOSTS).map(|i| format!("127.0.0.{}", i + 2)).collect();
    // sshd listens on at most 16 addresses: two servers of 16 hosts each.
    let servers: Vec<Sshd> = ips
        .chunks(16)
        .map(|chunk| {
            Sshd::start(
                chunk
                    .iter()
                    .map(|ip| Addr {
                        ip: ip.clone(),
                        force: None,
                    })
                    .collect(),
                &["ed25519"],
                "",
            )
        })
        .collect();
    let known: String = servers.iter().map(|s| s.known_hosts.as_str()).collect();
    let home = Home::new(&known, "");
    let settings = SshSettings {
        home: Some(home.path.clone()),
        ..SshSettings::default()
    };
    let port_of = |i: usize| servers[i / 16].port;
    let new_host = |i: usize| {
        SshHost::new(
            &entry(&format!("h{i}"), &ips[i], port_of(i)),
            &settings,
            CancelToken::new(),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    };
    let run_true = |h: &SshHost, name: &str| {
        let o = h
            .exec(&Command::read(name, &["true"]))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(o.success());
    };

    // Cold start: a new host object to the first remote result (connect, key exchange,
    // host key check, authentication, one command).
    let mut cold = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let h = new_host(0);
        run_true(&h, "h0");
        cold.push(t.elapsed());
    }
    cold.sort();
    let cold_ms = cold[cold.len() / 2].as_secs_f64() * 1000.0;

    // 200 sequential commands on one host, session open.
    let h0 = new_host(0);
    run_true(&h0, "h0");
    let t = Instant::now();
    for _ in 0..SEQ {
        run_true(&h0, "h0");
    }
    let ours_seq = t.elapsed();
    let control_dir = home.path.join("cm");
    std::fs::create_dir_all(&control_dir).unwrap_or_else(|e| panic!("{e}"));
    let cp = |i: usize| control_dir.join(format!("c{i}"));
    let status = ssh_cmd(&home.path, &ips[0], port_of(0), &cp(0))
        .arg("true")
        .status();
    assert!(status.is_ok_and(|s| s.success()), "ssh master failed");
    let t = Instant::now();
    for _ in 0..SEQ {
        let s = ssh_cmd(&home.path, &ips[0], port_of(0), &cp(0))
            .arg("true")
            .status();
        assert!(s.is_ok_and(|s| s.success()));
    }
    let ssh_seq = t.elapsed();

    // One command on each of 32 hosts, sessions open.
    let hosts = Map((0..HOSTS).map(new_host).collect());
    let cmds: Vec<Command> = (0..HOSTS)
        .map(|i| Command::read(&format!("h{i}"), &["true"]))
        .collect();
    let opts = FanOut {
        limit: HOSTS,
        stop_on_error: false,
    };
    for r in fan_out(&hosts, &cmds, &opts) {
        r.unwrap_or_else(|e| panic!("{e}"));
    }
    for (i, ip) in ips.iter().enumerate() {
        let s = ssh_cmd(&home.path, ip, port_of(i), &cp(i))
            .arg("true")
            .status();
        assert!(s.is_ok_and(|s| s.success()));
    }
    let rounds = 10;
    let t = Instant::now();
    for _ in 0..rounds {
        for r in fan_out(&hosts, &cmds, &opts) {
            r.unwrap_or_else(|e| panic!("{e}"));
        }
    }
    let ours_fan = t.elapsed() / rounds;
    let t = Instant::now();
    for _ in 0..rounds {
        let children: Vec<_> = ips
            .iter()
            .enumerate()
            .map(|(i, ip)| {
                ssh_cmd(&home.path, ip, port_of(i), &cp(i))
                    .arg("true")
                    .spawn()
                    .unwrap_or_else(|e| panic!("{e}"))
            })
            .collect();
        for mut c in children {
            assert!(c.wait().is_ok_and(|s| s.success()));
        }
    }
    let ssh_fan = t.elapsed() / rounds;
    drop(hosts);

    // A change fan-out against the same read fan-out (issue 11), both through a run's
    // journal and locks: cold (new host objects each round: connect included, as a run
    // starts) and warm (sessions open; each round a new run, so the locks are taken again).
    let scratch = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = scratch.path().join("locks");
    for i in 0..HOSTS {
        let d = root.join(format!("h{i}"));
        std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{e}"));
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o777))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    for d in [scratch.path(), root.as_path()] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let journals = scratch.path().join("runs");
    let locked = |hosts: Map| {
        Arc::new(LockedMap {
            hosts,
            root: root.clone(),
        })
    };
    let (mut cold_read, mut cold_change, mut cold_run) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..7 {
        let h = locked(Map((0..HOSTS).map(new_host).collect()));
        cold_read.push(journaled_fan_out(&h, &journals, Effect::Read).0);
        let h = locked(Map((0..HOSTS).map(new_host).collect()));
        let (fanned, run) = journaled_fan_out(&h, &journals, Effect::Change);
        cold_change.push(fanned);
        cold_run.push(run);
    }
    let (cold_read, cold_change, cold_run) =
        (median(cold_read), median(cold_change), median(cold_run));
    let warm_hosts = locked(Map((0..HOSTS).map(new_host).collect()));
    journaled_fan_out(&warm_hosts, &journals, Effect::Read);
    let (mut warm_read, mut warm_change) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        warm_read.push(journaled_fan_out(&warm_hosts, &journals, Effect::Read).0);
        warm_change.push(journaled_fan_out(&warm_hosts, &journals, Effect::Change).0);
    }
    let (warm_read, warm_change) = (median(warm_read), median(warm_change));
    drop(warm_hosts);

    // Memory: warm up (open and close 32 sessions), then RSS with none and with 32.
    {
        let warm = Map((0..HOSTS).map(new_host).collect());
        for r in fan_out(&warm, &cmds, &opts) {
            r.unwrap_or_else(|e| panic!("{e}"));
        }
    }
    std::thread::sleep(Duration::from_millis(200));
    let before = rss_kib();
    let open = Map((0..HOSTS).map(new_host).collect());
    for r in fan_out(&open, &cmds, &opts) {
        r.unwrap_or_else(|e| panic!("{e}"));
    }
    let after = rss_kib();
    let per_session = after.saturating_sub(before) as f64 / HOSTS as f64;
    drop(open);

    for (i, ip) in ips.iter().enumerate() {
        let _ = ssh_cmd(&home.path, ip, port_of(i), &cp(i))
            .args(["-O", "exit"])
            .status();
    }

    // Cold fan-out to one sshd: 32 new hosts on four of its addresses (every host
    // connects, exchanges keys and logs in), first with room (MaxStartups 100), then with
    // sshd throttling at MaxStartups 2:100:2 (hosts dropped before the banner are tried
    // again within their connect_timeout, 10 s).
    let cold_fan = |extra: &str| {
        let four: Vec<String> = ips[..4].to_vec();
        let sshd = Sshd::start(
            four.iter()
                .map(|ip| Addr {
                    ip: ip.clone(),
                    force: None,
                })
                .collect(),
            &["ed25519"],
            extra,
        );
        // The start-up probes count against MaxStartups while their processes live.
        if let Some(pid) = sshd.pid() {
            let t = Instant::now();
            while !ssh_support::children_of(pid).is_empty() && t.elapsed() < Duration::from_secs(10)
            {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let home = Home::new(&sshd.known_hosts, "");
        let settings = SshSettings {
            home: Some(home.path.clone()),
            ..SshSettings::default()
        };
        let hosts = Map((0..HOSTS)
            .map(|i| {
                SshHost::new(
                    &entry(&format!("h{i}"), &four[i % 4], sshd.port),
                    &settings,
                    CancelToken::new(),
                )
                .unwrap_or_else(|e| panic!("{e}"))
            })
            .collect());
        let t = Instant::now();
        let failed = fan_out(&hosts, &cmds, &opts)
            .iter()
            .filter(|r| r.is_err())
            .count();
        let took = t.elapsed();
        let drops = sshd.log().matches("past MaxStartups").count();
        (took, failed, drops)
    };
    let (roomy, roomy_failed, _) = cold_fan("");
    let (throttled, throttled_failed, drops) = cold_fan("MaxStartups 2:100:2");
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("SSH transport benchmark (loopback sshd, user shell /bin/sh)");
    println!(
        "  {SEQ} sequential commands, one host: hascript {:.0} ms, ssh ControlMaster {:.0} ms, ratio {:.2} (target <= 0.50)",
        ms(ours_seq),
        ms(ssh_seq),
        ours_seq.as_secs_f64() / ssh_seq.as_secs_f64()
    );
    println!(
        "  one command on {HOSTS} hosts, sessions open: hascript {:.1} ms, ssh ControlMaster fan-out {:.1} ms, ratio {:.2} (target <= 1.00)",
        ms(ours_fan),
        ms(ssh_fan),
        ours_fan.as_secs_f64() / ssh_fan.as_secs_f64()
    );
    println!(
        "  change fan-out on {HOSTS} hosts (each host locked, then `true`; journaled) vs the same read fan-out, new sessions: change {:.1} ms, read {:.1} ms, ratio {:.2} (median of 7; target <= 1.30)",
        ms(cold_change),
        ms(cold_read),
        cold_change.as_secs_f64() / cold_read.as_secs_f64()
    );
    println!(
        "    with the release of the 32 locks at the run's end: {:.1} ms, ratio {:.2}",
        ms(cold_run),
        cold_run.as_secs_f64() / cold_read.as_secs_f64()
    );
    println!(
        "  change fan-out on {HOSTS} hosts vs the same read fan-out, sessions open (a new run each round: lock round trips included): change {:.1} ms, read {:.1} ms, ratio {:.2} (median of {rounds})",
        ms(warm_change),
        ms(warm_read),
        warm_change.as_secs_f64() / warm_read.as_secs_f64()
    );
    println!(
        "  cold start to the first remote result: {cold_ms:.1} ms (median of 5; target <= 150)"
    );
    println!(
        "  memory per open session: {per_session:.0} KiB (RSS {before} KiB -> {after} KiB with {HOSTS} sessions; target <= 256)"
    );
    println!(
        "  cold fan-out, {HOSTS} new hosts on one sshd (4 addresses): {:.0} ms with room ({roomy_failed} failed); {:.0} ms at MaxStartups 2:100:2 ({throttled_failed} failed; sshd dropped {drops} connections)",
        ms(roomy),
        ms(throttled)
    );
    jump_bench();
}
