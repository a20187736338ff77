//! The end of §5: upgrading the cmappmgr/cmappserver pair during a rolling Serviceguard
//! upgrade (hpvm/upgrade-appmon-live, Process 1; hpvm/upgrade-appmon-restart, Process 2),
//! through the binary on folder-backed simulated sites (scenario `hpvm/appmon-upgrade`:
//! A.11.19 on both nodes, slvm1 with two monitors whose commands are identical; the tests
//! package slvm2 too, on node2, with the simulator's own commands).
//!
//! The operator's Serviceguard upgrade of a node is `swinstall -s DEPOT T1905CA` on it (the
//! simulator only changes the revision `swlist` reads). Without a person at hand a run
//! answers the pause with `--yes` and then reads the revision back: a node nobody upgraded
//! stops the run there (exit 3), the test upgrades it, and the procedure run again goes on
//! from that node. The SIGKILL sweep uses a copy of lib/hpvm/appmon_upgrade in which the
//! pause is followed by the `swinstall` (the test standing in for the operator).
//!
//! Step 7 runs the shipped hpvm/install-cmappserver in each monitored guest (its
//! `swinstall` of the depot there); a resume after step 8a halted that guest takes over the
//! dead run's lock on it when it reaches it again.

mod cli_support;
mod sim_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use sim_support::{command_log, lines, run_id, text, CrashSite};

const LIVE: &str = "hpvm/upgrade-appmon-live";
const RESTART: &str = "hpvm/upgrade-appmon-restart";
const MARK: &str = "#hascript-appmon-upgrade# ";
const CONF: &str = "/etc/cmcluster/slvm1/slvm1.conf";

/// A site from the scenario, with slvm2 packaged (every node) and running on node2.
fn site() -> CrashSite {
    let env = CrashSite::new("hpvm/appmon-upgrade");
    env.sim_exec_ok("node1", &["cmdeployvpkg", "-Q", "-P", "slvm2"]);
    let mut c = env.cmd(&[
        "sim",
        "exec",
        "--state",
        env.site_str(),
        "--host",
        "node1",
        "--",
        "cmapplyconf",
        "-P",
        "/etc/cmcluster/slvm2/slvm2.conf",
    ]);
    c.stdin(std::process::Stdio::piped());
    let mut child = c
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    {
        use std::io::Write;
        let mut i = child.stdin.take().expect("stdin");
        i.write_all(b"y\n").expect("answer");
    }
    assert!(child.wait().expect("wait").success(), "cmapplyconf slvm2");
    env.sim_exec_ok("node1", &["cmrunpkg", "slvm2"]);
    env.sim_exec_ok("node1", &["cmmodpkg", "-e", "slvm2"]);
    env.sim_exec_ok("node1", &["cmmovevpkg", "-P", "slvm2", "-h", "node2"]);
    env
}

/// The folder put on HASCRIPT_PATH: empty, or with `operator` a copy of the shipped
/// lib/hpvm/appmon_upgrade whose pause is followed by the upgrade itself.
fn path_dir(env: &CrashSite, operator: bool) -> PathBuf {
    let dir = env.site.parent().expect("dir").join("path");
    std::fs::create_dir_all(dir.join("hpvm")).expect("mkdir");
    if operator {
        let shipped = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/lib/hpvm/appmon_upgrade.rhai"),
        )
        .expect("lib");
        let pause = "    let after = hypervisor.check_sg_release(node, release);";
        assert!(shipped.contains(pause), "the pause moved");
        let edited = shipped.replacen(
            pause,
            &format!("    host(node).run([\"swinstall\", \"-s\", \"/var/depot/sg\", \"T1905CA,r=A.11.20.00\"]);\n{pause}"),
            1,
        );
        std::fs::create_dir_all(dir.join("lib/hpvm")).expect("mkdir");
        std::fs::write(dir.join("lib/hpvm/appmon_upgrade.rhai"), edited).expect("lib copy");
    }
    dir
}

fn with_path(mut c: Command, dir: &Path) -> Command {
    c.env("HASCRIPT_PATH", dir);
    c
}

fn run(env: &CrashSite, dir: &Path, script: &str, params: &[&str]) -> Output {
    let mut args = vec![
        "run",
        script,
        "--sim",
        "--sim-state",
        env.site_str(),
        "--yes",
    ];
    for x in params {
        args.extend(["-p", x]);
    }
    args.extend(["--output", "json"]);
    with_path(env.cmd(&args), dir).output().expect("run")
}

fn events(o: &Output) -> Vec<Value> {
    text(&o.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn confirms(o: &Output) -> Vec<String> {
    events(o)
        .iter()
        .filter(|e| e["event"] == "confirm")
        .map(|e| e["question"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The change commands the simulated hosts received, hascript's lock left out.
fn changes(env: &CrashSite) -> Vec<String> {
    command_log(&env.site)
        .into_iter()
        .filter(|l| !l.contains("/var/tmp/hascript.lock"))
        .filter(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let prog = w
                .get(1)
                .map(|p| p.rsplit('/').next().unwrap_or(p))
                .unwrap_or("");
            matches!(
                prog,
                "cmmovevpkg"
                    | "cmrunpkg"
                    | "cmhaltpkg"
                    | "cmmodpkg"
                    | "cmapplyconf"
                    | "dd"
                    | "sh"
                    | "kill"
                    | "swinstall"
                    | "hpvmmigrate"
            ) && !(prog == "hpvmmigrate" && w.contains(&"-s"))
        })
        .collect()
}

fn conf(env: &CrashSite, node: &str) -> String {
    env.sim_exec(node, &["cat", CONF])
}

fn view(env: &CrashSite) -> String {
    env.sim_exec("node1", &["cmviewcl", "-v", "-f", "line"])
}

fn key<'a>(view: &'a str, k: &str) -> Option<&'a str> {
    view.lines().find_map(|l| l.strip_prefix(&format!("{k}=")))
}

/// The end state of a finished upgrade: both nodes at A.11.20, slvm1 and slvm2 up with
/// package switching on, slvm1's monitors back (file on both members: no mark, mon_b's
/// command made unique) and up.
fn assert_done(env: &CrashSite, what: &str) {
    for n in ["node1", "node2"] {
        let sw = env.sim_exec(n, &["swlist", "-l", "product", "T1905CA"]);
        assert!(sw.contains("A.11.20.00"), "{what}: {n}: {sw}");
        let c = conf(env, n);
        assert!(!c.contains(MARK), "{what}: {n}:\n{c}");
        assert!(
            c.contains("\"/usr/sbin/cmappmgr -node slvm1 -cmappserver_timeout 240 -service /apps/ping_mon \""),
            "{what}: {n}: mon_b unique:\n{c}"
        );
    }
    let v = view(env);
    for p in ["slvm1", "slvm2"] {
        assert_eq!(
            key(&v, &format!("package:{p}|status")),
            Some("up"),
            "{what}:\n{v}"
        );
        assert_eq!(
            key(&v, &format!("package:{p}|autorun")),
            Some("enabled"),
            "{what}:\n{v}"
        );
    }
    for s in ["mon_a", "mon_b"] {
        assert_eq!(
            key(&v, &format!("package:slvm1|service:{s}|status")),
            Some("up"),
            "{what}: {s}:\n{v}"
        );
    }
}

#[test]
fn process_1_turns_monitoring_off_empties_each_node_pauses_reads_back_and_brings_the_monitors_back()
{
    let env = site();
    let dir = path_dir(&env, false);
    let original = conf(&env, "node1");

    // Run 1: unique commands, monitors off, node1 emptied; nobody upgrades node1.
    let o = run(&env, &dir, LIVE, &["unique_commands=yes"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr)
            .contains("Serviceguard on node1 reads T1905CA A.11.19.00 after the upgrade"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(confirms(&o).len(), 1, "{:?}", confirms(&o));
    assert!(confirms(&o)[0].starts_with("upgrade Serviceguard on node1 now"));
    for n in ["node1", "node2"] {
        let c = conf(&env, n);
        assert_eq!(
            c.matches(&format!("{MARK}service_name")).count(),
            2,
            "{n}:\n{c}"
        );
        assert!(
            c.contains("\nservice_name                    slvm1\n"),
            "the guest monitor stays:\n{c}"
        );
    }
    let v = view(&env);
    assert!(!v.contains("service:mon_a"), "monitors stopped:\n{v}");
    assert_eq!(key(&v, "package:slvm1|owner"), Some("node2"), "{v}");
    assert_eq!(key(&v, "package:slvm2|owner"), Some("node2"), "{v}");
    let moved = changes(&env);
    assert!(
        moved
            .iter()
            .any(|l| l.contains("cmmovevpkg -v -P slvm1 -h node2")),
        "{moved:#?}"
    );

    // The operator upgrades node1; run 2 does not pause for it, empties node2 onto it.
    env.sim_exec_ok("node1", &["swinstall", "-s", "/var/depot/sg", "T1905CA"]);
    let before = changes(&env).len();
    let o = run(&env, &dir, LIVE, &["unique_commands=yes"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    let asked = confirms(&o);
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert!(
        asked[0].starts_with("upgrade Serviceguard on node2 now"),
        "{asked:?}"
    );
    let sent: Vec<String> = changes(&env)[before..].to_vec();
    assert!(
        !sent
            .iter()
            .any(|l| l.contains("cmapplyconf") || l.contains(" dd ")),
        "no edit again: {sent:#?}"
    );
    let v = view(&env);
    assert_eq!(key(&v, "package:slvm1|owner"), Some("node1"), "{v}");
    assert_eq!(key(&v, "package:slvm2|owner"), Some("node1"), "{v}");

    // node2 upgraded; run 3 rebalances (slvm2's primary is node1: stays), updates
    // cmappserver, re-enables the monitors.
    env.sim_exec_ok(
        "node2",
        &["swinstall", "-s", "/var/depot/sg", "T1905CA,r=A.11.20.00"],
    );
    let o = run(&env, &dir, LIVE, &["unique_commands=yes", "rebalance=yes"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    assert!(confirms(&o).is_empty());
    assert!(
        events(&o)
            .iter()
            .any(|e| e["event"] == "script_loaded" && e["name"] == "hpvm/install-cmappserver"),
        "hpvm/install-cmappserver ran for slvm1"
    );
    assert_done(&env, "after run 3");
    // Exactly reversible: the file is the original but mon_b's unique command.
    let now = conf(&env, "node1");
    let old_b = "service_name                    mon_b\nservice_cmd                     /usr/sbin/cmappmgr -node slvm1 -cmappserver_timeout 240 -service /apps/ping_mon\n";
    let new_b = "service_name                    mon_b\nservice_cmd                     \"/usr/sbin/cmappmgr -node slvm1 -cmappserver_timeout 240 -service /apps/ping_mon \"\n";
    assert!(original.contains(old_b), "{original}");
    assert_eq!(now, original.replacen(old_b, new_b, 1));

    // Run 4: everything done; nothing changes.
    let before = changes(&env).len();
    let o = run(&env, &dir, LIVE, &["unique_commands=yes", "rebalance=yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(confirms(&o).is_empty());
    assert_eq!(changes(&env)[before..].to_vec(), Vec::<String>::new());
}

#[test]
fn process_2_stops_monitoring_pauses_per_node_checks_every_package_runs_and_restores() {
    let env = site();
    let dir = path_dir(&env, false);
    let setup = changes(&env).len();
    let o = run(&env, &dir, RESTART, &["unique_commands=yes"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    assert_eq!(confirms(&o).len(), 1);
    assert!(
        !changes(&env)[setup..]
            .iter()
            .any(|l| l.contains("cmmovevpkg")),
        "no live migration"
    );
    let c = conf(&env, "node2");
    assert_eq!(c.matches(&format!("{MARK}service_name")).count(), 2, "{c}");
    for n in ["node1", "node2"] {
        env.sim_exec_ok(n, &["swinstall", "-s", "/var/depot/sg", "T1905CA"]);
    }
    let o = run(&env, &dir, RESTART, &["unique_commands=yes"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    assert!(confirms(&o).is_empty(), "upgraded nodes are not paused for");
    let checks: Vec<String> = events(&o)
        .iter()
        .filter(|e| e["event"] == "check")
        .filter_map(|e| e["check"].as_str().map(str::to_string))
        .collect();
    assert!(
        checks.contains(&"slvm1 runs".to_string()) && checks.contains(&"slvm2 runs".to_string()),
        "{checks:?}"
    );
    assert_done(&env, "process 2");
    let v = view(&env);
    assert_eq!(
        key(&v, "package:slvm2|owner"),
        Some("node2"),
        "slvm2 stayed:\n{v}"
    );
}

#[test]
fn a_bad_parameter_or_node_is_refused_before_anything_changes() {
    let env = site();
    let dir = path_dir(&env, false);
    for (script, p, needle) in [
        (
            LIVE,
            "unique_commands=maybe",
            "unique_commands must be yes or no",
        ),
        (LIVE, "rebalance=1", "rebalance must be yes or no"),
        (RESTART, "nodes=node1,node9", "node9"),
        (RESTART, "release=11.20", "release"),
    ] {
        let before = changes(&env).len();
        let o = run(&env, &dir, script, &[p]);
        assert_eq!(o.status.code(), Some(2), "{p}: {}", text(&o.stderr));
        assert!(text(&o.stderr).contains(needle), "{p}: {}", text(&o.stderr));
        assert_eq!(changes(&env).len(), before, "{p}");
    }
}

#[test]
fn restoring_the_monitors_of_a_running_package_is_refused() {
    let env = site();
    let dir = path_dir(&env, false);
    let o = run(&env, &dir, RESTART, &[]);
    assert_eq!(o.status.code(), Some(3));
    let script = env.script(
        "restore.rhai",
        "//! params: package\npackage.restore_monitors(params[\"package\"]);\n",
    );
    let before = changes(&env).len();
    let o = with_path(env.run_with(&script, &["package=slvm1"], &["--yes"]), &dir)
        .output()
        .expect("run");
    assert_ne!(o.status.code(), Some(0));
    assert!(
        text(&o.stderr)
            .contains("runs on node1: its monitors are re-enabled only while it is halted"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(changes(&env).len(), before);
    assert!(conf(&env, "node1").contains(MARK));
}

/// SIGKILL at a spread of points of a complete Process 1 run (with the operator standing in
/// after each pause), then `hascript resume`: it ends 0 with the upgrade done, no package was
/// halted or moved more than once, and no change is left half-way.
#[test]
fn sigkill_anywhere_in_process_1_then_resume_finishes_the_upgrade() {
    let complete = {
        let env = site();
        let dir = path_dir(&env, true);
        let o = with_path(env.run_cmd(LIVE, &["unique_commands=yes"]), &dir)
            .output()
            .expect("run");
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        assert_done(&env, "complete run");
        lines(&env.journals()[0])
    };
    // Points: just after each change command ended or a step began, spread over the run.
    let mut points: Vec<usize> = complete
        .iter()
        .enumerate()
        .filter(|(_, l)| {
            (l["event"] == "command_end" && l["effect"] == "change" && l["purpose"] == "procedure")
                || l["event"] == "step"
        })
        .map(|(i, _)| i + 1)
        .collect();
    let step = (points.len() / 10).max(1);
    points = points.into_iter().step_by(step).collect();
    assert!(points.len() >= 8, "{points:?}");
    sim_support::in_parallel(&points, |k| {
        let env = site();
        let dir = path_dir(&env, true);
        let Some(dead) = env.kill_after(
            with_path(env.run_cmd(LIVE, &["unique_commands=yes"]), &dir),
            *k,
        ) else {
            return;
        };
        let what = format!("killed after line {}", dead.len());
        let id = run_id(&dead);
        let mut o = with_path(env.cmd(&["resume", &id, "--yes"]), &dir)
            .output()
            .expect("resume");
        if o.status.code() == Some(5) && text(&o.stderr).contains("--retry-unknown") {
            o = with_path(env.cmd(&["resume", &id, "--retry-unknown", "--yes"]), &dir)
                .output()
                .expect("resume");
        }
        assert_eq!(
            o.status.code(),
            Some(0),
            "{what}: {}{}",
            text(&o.stdout),
            text(&o.stderr)
        );
        assert_done(&env, &what);
        let sent = changes(&env);
        for once in [
            "cmhaltpkg slvm1",
            "-P slvm1 -h node2",
            "-P slvm1 -h node1",
            "-P slvm2 -h node1",
        ] {
            let n = sent.iter().filter(|l| l.contains(once)).count();
            assert!(n <= 1, "{what}: {once} sent {n} times: {sent:#?}");
        }
    });
}

#[test]
fn stopping_monitors_that_are_still_configured_is_refused() {
    let env = site();
    let dir = path_dir(&env, false);
    let script = env.script(
        "stop.rhai",
        "//! params: package\npackage.stop_monitors(params[\"package\"]);\n",
    );
    let before = changes(&env).len();
    let o = with_path(env.run_with(&script, &["package=slvm1"], &["--yes"]), &dir)
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("still has active cmappmgr services"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(changes(&env).len(), before);
}

/// With a person at the terminal: Process 2 pauses at each node; the test upgrades the node
/// while the question waits, then answers yes; the revision is read back and the run goes
/// on to the end in one go (the shipped scripts, no `--yes`).
#[test]
fn process_2_on_a_terminal_waits_for_each_node_while_the_operator_upgrades_it() {
    use std::io::Write;
    let env = site();
    let dir = path_dir(&env, false);
    let (mut master, slave) = cli_support::pty();
    let mut c = with_path(env.run_with(RESTART, &["unique_commands=yes"], &[]), &dir);
    c.stdin(std::process::Stdio::from(slave));
    let mut child = env.spawn(c);
    let t = std::time::Instant::now();
    let mut answered = Vec::new();
    loop {
        let out = env.output();
        for n in ["node1", "node2"] {
            let q = format!("upgrade Serviceguard on {n} now");
            if out.contains(&q) && !answered.contains(&n) {
                // The question waits: nothing after it yet, the node still old.
                let sw = env.sim_exec(n, &["swlist", "-l", "product", "T1905CA"]);
                assert!(sw.contains("A.11.19.00"), "{n}: {sw}");
                env.sim_exec_ok(n, &["swinstall", "-s", "/var/depot/sg", "T1905CA"]);
                master.write_all(b"y\n").expect("answer");
                answered.push(n);
            }
        }
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        assert!(
            t.elapsed() < std::time::Duration::from_secs(120),
            "hangs:\n{}",
            env.output()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0), "{}", env.output());
    assert_eq!(answered, ["node1", "node2"], "{}", env.output());
    assert_done(&env, "on a terminal");
}
