//! `hascript run -i INVENTORY --dry-run` on a **real** site, through the binary and a real
//! OpenSSH `sshd` (see `ssh_support`): the site is a simulated one behind `ForceCommand
//! hascript sim exec`, one 127.0.0.x address per host, so it answers exactly as the
//! products do, and its state folder records every command it received. The dry run sends
//! the site its read-only commands only; at the first change it seeds a simulated copy
//! from those reads (`hascript_sim::SimSite::seeded`) and plans the rest on the copy.
//!
//! Each case checks the plan against what a real run sends on a copy of the same site
//! (`--sim --sim-state COPY`), and that the site is left as it was: its `site.json` is the
//! same but for its command log, which holds no change. Where the copy cannot know what a
//! command would do (it was never read before the first change) the plan says `unknown`,
//! names what was not read, and stops: exit 4.
//!
//! LDoms cases are `ldoms_*`, Serviceguard ones `hpvm_*`. Run as root (sshd, test users); a
//! missing sshd fails these tests (never skips them).

mod ssh_support;

use std::path::{Path, PathBuf};
use std::process::{Command as Proc, Output as ProcOutput};

use hascript_sim::SimSite;
use serde_json::Value;
use ssh_support::{env, Addr, Home, Sshd, USER};

// ----- shared helpers --------------------------------------------------------------------

/// A simulated site behind one sshd (its hosts at the given addresses), a client home
/// whose `~/.ssh/config` maps each inventory name to its address, and the site's inventory
/// with `transport = "ssh"`.
struct RealSite {
    _sshd: Sshd,
    state: PathBuf,
    dir: tempfile::TempDir,
    inventory: PathBuf,
    home: Home,
}

fn real_site(scenario: Option<&str>, hosts: &[(&str, &str)]) -> RealSite {
    let (state, dir) = ssh_support::sim_site(scenario);
    let addrs = hosts
        .iter()
        .map(|(name, ip)| Addr {
            ip: (*ip).into(),
            force: Some(format!(
                "{} sim exec --state {} --host {name}",
                env().hascript.display(),
                state.display()
            )),
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
    let inventory = dir.path().join("inventory.toml");
    std::fs::write(&inventory, inv_text).unwrap_or_else(|e| panic!("{e}"));
    ssh_support::chown(USER, dir.path());
    let mut config = String::new();
    for (name, ip) in hosts {
        config.push_str(&format!("Host {name}\n    HostName {ip}\n"));
    }
    config.push_str(&format!(
        "Host *\n    User {USER}\n    Port {}\n    IdentityFile ~/.ssh/id_ed25519\n    ConnectTimeout 5\n",
        sshd.port
    ));
    let home = Home::new(&sshd.known_hosts, &config);
    RealSite {
        _sshd: sshd,
        state,
        dir,
        inventory,
        home,
    }
}

/// One `--output json` run: exit code, events, what to show when an assertion fails.
struct Run {
    code: Option<i32>,
    events: Vec<Value>,
    shown: String,
}

impl Run {
    fn of(o: &ProcOutput) -> Run {
        let stdout = String::from_utf8_lossy(&o.stdout);
        Run {
            code: o.status.code(),
            events: stdout
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect(),
            shown: format!(
                "exit {:?}\n--- stdout\n{stdout}\n--- stderr\n{}",
                o.status.code(),
                String::from_utf8_lossy(&o.stderr)
            ),
        }
    }

    /// The procedure's change commands (`command_start`, purpose procedure) as
    /// `host: command`, with the run clock's backup stamps (`YYYYMMDD-HHMMSS`) as `STAMP`:
    /// a dry run on a real site runs on the real clock, the simulator on its own.
    fn changes(&self) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| e["event"] == "command_start" && e["purpose"] == "procedure")
            .map(|e| {
                format!(
                    "{}: {}",
                    e["host"].as_str().unwrap_or(""),
                    unstamped(e["command"].as_str().unwrap_or(""))
                )
            })
            .collect()
    }

    /// The `plan` event.
    fn plan(&self) -> Value {
        self.events
            .iter()
            .find(|e| e["event"] == "plan")
            .cloned()
            .unwrap_or_default()
    }

    /// Why the plan stopped: its closing line (`outcome`) and every `unknown` reason of
    /// its entries.
    fn cut(&self) -> String {
        let plan = self.plan();
        let mut why = vec![plan["outcome"].as_str().unwrap_or("").to_string()];
        for e in plan["entries"].as_array().into_iter().flatten() {
            for k in ["why", "unknown"] {
                if let Some(w) = e[k].as_str() {
                    why.push(w.to_string());
                }
            }
        }
        why.join("\n")
    }
}

/// Store passwords of the application-monitoring procedures (secrets come from the
/// environment, never from `-p`).
const SECRETS: [(&str, &str); 3] = [
    ("HASCRIPT_SECRET_STOREPASS_CLIENT", "Cl1ent-T0p-Secret"),
    ("HASCRIPT_SECRET_STOREPASS_SERVER", "Serv3r-T0p-Secret"),
    ("HASCRIPT_SECRET_STOREPASS_PUBLIC", "Publ1c-T0p-Secret"),
];

/// `text` with every `YYYYMMDD-HHMMSS` stamp written `STAMP`.
fn unstamped(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        let stamp = b.len() - i >= 15
            && b[i..i + 8].iter().all(u8::is_ascii_digit)
            && b[i + 8] == b'-'
            && b[i + 9..i + 15].iter().all(u8::is_ascii_digit);
        if stamp {
            out.push_str("STAMP");
            i += 15;
        } else {
            let c = text[i..].chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

fn with_params(mut args: Vec<String>, params: &[&str]) -> Vec<String> {
    for p in params {
        args.push("-p".into());
        args.push((*p).into());
    }
    args
}

/// `hascript ARGS` as the test user (who owns the site's folder), with the site's home.
fn hascript_as_user(site: &RealSite, args: &[String]) -> ProcOutput {
    use std::os::unix::process::CommandExt;
    site.home.give_to(USER);
    let (uid, gid) = ssh_support::ids(USER);
    Proc::new(&env().hascript)
        .args(args)
        .env("HOME", &site.home.path)
        .env("USER", USER)
        .env("XDG_STATE_HOME", site.home.path.join("xdg"))
        .env_remove("SSH_AUTH_SOCK")
        .env_remove("HASCRIPT_PATH")
        .envs(SECRETS)
        .current_dir(&site.home.path)
        .uid(uid)
        .gid(gid)
        .output()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// `site.json` without its command log.
fn state_without_log(state: &Path) -> Value {
    let mut v: Value =
        serde_json::from_slice(&std::fs::read(state.join("site.json")).unwrap_or_default())
            .unwrap_or_default();
    if let Some(m) = v.as_object_mut() {
        m.remove("log");
    }
    v
}

/// What a real run of `script` sends: run on a copy of the site's folder, in the
/// simulator, answering yes.
fn real_run(site: &RealSite, script: &str, params: &[&str]) -> Run {
    let copy = site
        .dir
        .path()
        .join(format!("copy-{}", script.replace('/', "-")));
    let cp = Proc::new("cp")
        .arg("-r")
        .arg(&site.state)
        .arg(&copy)
        .status()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(cp.success());
    let args = with_params(
        ["run", script, "--sim", "--sim-state"]
            .map(String::from)
            .into_iter()
            .chain([
                copy.to_string_lossy().into_owned(),
                "--output".into(),
                "json".into(),
                "--yes".into(),
            ])
            .collect(),
        params,
    );
    let o = Proc::new(&env().hascript)
        .args(&args)
        .env("XDG_STATE_HOME", site.home.path.join("xdg-real"))
        .env_remove("HASCRIPT_PATH")
        .envs(SECRETS)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    Run::of(&o)
}

/// The dry run of `script` on the real site, and the real run on a copy; checks that the
/// site got no command `is_change` says changes state and is as it was, and that the
/// plan's changes are the real run's, in order, up to where the plan stops.
fn dry_run_checked(
    site: &RealSite,
    script: &str,
    params: &[&str],
    is_change: fn(&str) -> bool,
) -> (Run, Run) {
    let real = real_run(site, script, params);
    let before = state_without_log(&site.state);
    let logged = SimSite::open(&site.state)
        .unwrap_or_else(|e| panic!("{e}"))
        .command_log()
        .len();
    let args = with_params(
        [
            "run",
            script,
            "-i",
            &site.inventory.to_string_lossy(),
            "--dry-run",
            "--output",
            "json",
        ]
        .map(String::from)
        .to_vec(),
        params,
    );
    let dry = Run::of(&hascript_as_user(site, &args));
    // Reads only reached the site, and its state is as it was.
    let log = SimSite::open(&site.state)
        .unwrap_or_else(|e| panic!("{e}"))
        .command_log();
    assert!(
        log.len() > logged,
        "{script}: nothing was read: {}",
        dry.shown
    );
    for c in &log[logged..] {
        assert!(
            !is_change(&c.line),
            "{script}: a change reached the site: {c:?}"
        );
    }
    assert_eq!(
        state_without_log(&site.state),
        before,
        "{script}: the site's state changed"
    );
    // The plan is what the real run sends, as far as it goes.
    let planned = dry.changes();
    let sent = real.changes();
    assert!(
        planned.len() <= sent.len() && sent[..planned.len()] == planned[..],
        "{script}: planned {planned:#?}\nreal run sent {sent:#?}\n{}",
        dry.shown
    );
    (dry, real)
}

// ----- LDoms --------------------------------------------------------------------------------

/// Whether a command line the site logged is one of the LDoms procedures' changes.
fn ldoms_change(line: &str) -> bool {
    [
        "clovmmigrate",
        "mkdir",
        "rm -r",
        "dd of=",
        "sdtool -e",
        "sdtool -b",
        "spconfig config",
    ]
    .iter()
    .any(|w| line.contains(w))
        || (line.contains("migrate-domain") && !line.contains("migrate-domain -n"))
        || line.contains("remove-spconfig")
        || line.contains("ldm start")
        || line.contains("ldm stop")
}

const LDOMS_HOSTS: [(&str, &str); 5] = [
    ("cd1", "127.0.0.2"),
    ("cd2", "127.0.0.3"),
    ("cd3", "127.0.0.4"),
    ("guest1", "127.0.0.5"),
    ("guest2", "127.0.0.6"),
];

/// Every LDoms procedure (without fault scenarios: a copy seeded from reads cannot know
/// that a migration will fail) plans exactly the real run's changes, complete, with the
/// real run's exit code. Post- and recover-migration run after a pre-migration: their
/// first change (`clovmmigrate -u`) comes before the shutdown facility can be read, and
/// the copy can tell what `sdtool -s` reads after it restarted the facility only because
/// they look up, before it, the XSCF host keys the agents will test.
#[test]
fn ldoms_every_procedure_plans_exactly_what_a_real_run_sends() {
    type Case<'a> = (&'a str, &'a [&'a str], Option<(&'a str, &'a [&'a str])>);
    let pre: (&str, &[&str]) = ("ldoms/pre-migration", &["guest=guest2", "target=cd3"]);
    let cases: &[Case] = &[
        (
            "ldoms/live-migration",
            &["guest=guest2", "target=cd3"],
            None,
        ),
        ("ldoms/pre-migration", &["guest=guest2", "target=cd3"], None),
        ("ldoms/post-migration", &["guest=guest2"], Some(pre)),
        ("ldoms/recover-migration", &["guest=guest2"], Some(pre)),
        ("ldoms/verify-fence", &[], None),
        ("examples/evacuate-host", &["host=cd2"], None),
    ];
    for (script, params, setup) in cases {
        let site = real_site(None, &LDOMS_HOSTS);
        if let Some((first, p)) = setup {
            let args = with_params(
                [
                    "run",
                    first,
                    "-i",
                    &site.inventory.to_string_lossy(),
                    "--sim-clock",
                    &site.state.to_string_lossy(),
                ]
                .map(String::from)
                .to_vec(),
                p,
            );
            let o = hascript_as_user(&site, &args);
            assert_eq!(
                o.status.code(),
                Some(0),
                "{script} setup: {}",
                Run::of(&o).shown
            );
        }
        let (dry, real) = dry_run_checked(&site, script, params, ldoms_change);
        assert_eq!(dry.code, real.code, "{script}: {}", dry.shown);
        assert_eq!(dry.plan()["complete"], true, "{script}: {}", dry.shown);
        assert_eq!(dry.changes(), real.changes(), "{script}: {}", dry.shown);
        if *script == "ldoms/live-migration" {
            assert_eq!(real.code, Some(0), "{}", real.shown);
            assert_eq!(
                dry.changes(),
                [
                    "cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -p guest2",
                    "cd2: /usr/sbin/ldm migrate-domain guest2 cd3",
                    "cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd3",
                ]
            );
        }
    }
}

/// `hascript sim exec` of one command on one host of the site's folder, as the operator's
/// shell on that host would run it (the site's owner runs it, as sshd's `ForceCommand` does).
fn by_hand(site: &RealSite, host: &str, argv: &[&str]) {
    let mut args: Vec<String> = [
        "sim",
        "exec",
        "--state",
        &site.state.to_string_lossy(),
        "--host",
        host,
        "--",
    ]
    .map(String::from)
    .to_vec();
    args.extend(argv.iter().map(|a| a.to_string()));
    let o = hascript_as_user(site, &args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{host}: {argv:?}: {}",
        Run::of(&o).shown
    );
}

/// The second half after a move made by hand (issue 11 item 5): 17.3.1.1 and `ldm
/// migrate-domain` typed on the control domain, then `ldoms/post-migration` with
/// `--dry-run`. The guest now runs on the box of cd3, whose XSCF the guests' agents will
/// test: the plan is the real run's, complete, with its exit code.
#[test]
fn ldoms_post_migration_after_a_move_made_by_hand_plans_what_the_real_run_does() {
    let site = real_site(None, &LDOMS_HOSTS);
    by_hand(
        &site,
        "cd2",
        &["/etc/opt/FJSVcluster/bin/clovmmigrate", "-p", "guest2"],
    );
    by_hand(
        &site,
        "cd2",
        &["/usr/sbin/ldm", "migrate-domain", "guest2", "cd3"],
    );
    let (dry, real) = dry_run_checked(
        &site,
        "ldoms/post-migration",
        &["guest=guest2"],
        ldoms_change,
    );
    assert_eq!(real.code, Some(0), "{}", real.shown);
    assert_eq!(
        real.changes(),
        ["cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd3"],
        "{}",
        real.shown
    );
    assert_eq!(dry.code, real.code, "{}", dry.shown);
    assert_eq!(dry.plan()["complete"], true, "{}", dry.shown);
    assert_eq!(dry.changes(), real.changes(), "{}", dry.shown);
}

// ----- Serviceguard ----------------------------------------------------------------------

/// Whether a command line the site logged is one of the hpvm procedures' changes.
fn hpvm_change(line: &str) -> bool {
    const WORDS: &[&str] = &[
        "cmmovevpkg",
        "cmrunpkg",
        "cmhaltpkg",
        "cmmodpkg",
        "cmdeployvpkg",
        "cmapplyconf",
        "cmmakepkg",
        "cmdeleteconf",
        "hpvmstart",
        "hpvmstop",
        "mkdir",
        "chmod",
        "dd of=",
        "mv -f",
        "rm ",
        "cp -p",
        "kill",
        "keytool -genkey",
        "keytool -export",
        "keytool -import",
    ];
    WORDS.iter().any(|w| line.contains(w))
        || (line.contains("hpvmmigrate") && !line.contains("hpvmmigrate -s"))
}

const HPVM_HOSTS: [(&str, &str); 4] = [
    ("node1", "127.0.0.2"),
    ("node2", "127.0.0.3"),
    ("slvm1", "127.0.0.4"),
    ("slvm2", "127.0.0.5"),
];

/// Move, halt, maintenance: each change is planned; the checks after it read what the
/// preflight never did (the guest on node2, `hpvmstatus -P`): the dry run reads those on the
/// site, seeds a new copy, checks that it answers everything asked so far the same way, and
/// goes on. The plans are complete and exactly the real runs' changes.
#[test]
fn hpvm_move_halt_and_maintenance_plan_whole_reading_through_what_the_preflight_skipped() {
    let cases: &[(&str, &[&str], &[&str])] = &[
        (
            "hpvm/move-package",
            &["package=slvm1", "target=node2"],
            &["node1: /etc/cmcluster/scripts/tkit/vtn/cmmovevpkg -v -P slvm1 -h node2"],
        ),
        (
            "hpvm/halt-package",
            &["package=slvm1"],
            &["node1: /usr/sbin/cmhaltpkg slvm1"],
        ),
        (
            "hpvm/maintenance",
            &["package=slvm1", "state=on"],
            &["node1: /etc/cmcluster/scripts/tkit/vtn/cmdeployvpkg -m 1 -P slvm1"],
        ),
    ];
    for (script, params, changes) in cases {
        let site = real_site(Some("hpvm"), &HPVM_HOSTS);
        let (dry, real) = dry_run_checked(&site, script, params, hpvm_change);
        assert_eq!(real.code, Some(0), "{script}: {}", real.shown);
        assert_eq!(dry.code, Some(0), "{script}: {}", dry.shown);
        assert_eq!(dry.plan()["complete"], true, "{script}: {}", dry.shown);
        assert_eq!(dry.changes(), real.changes(), "{script}: {}", dry.shown);
        assert_eq!(dry.changes(), *changes, "{script}");
    }
}

/// Run a halted package: before `cmrunpkg` the operation reads the guest on every VM host
/// (`hpvmstatus -P`: is a backing store on NFS without its entry in the package file? §8),
/// so the copy knows the guest is Off on node1 and the whole start is planned, as the real
/// run does it. (Before issue 13 only `cmviewcl` was read and `cmrunpkg` was planned as
/// unknown.)
#[test]
fn hpvm_run_package_on_a_stopped_guest_is_planned_from_the_guest_it_read() {
    let site = real_site(Some("hpvm/guest-not-running"), &HPVM_HOSTS);
    let (dry, real) = dry_run_checked(&site, "hpvm/run-package", &["package=slvm1"], hpvm_change);
    assert_eq!(real.code, Some(0), "{}", real.shown);
    assert_eq!(
        real.changes(),
        [
            "node1: /usr/sbin/cmrunpkg slvm1",
            "node1: /usr/sbin/cmmodpkg -e slvm1"
        ]
    );
    assert_eq!(dry.code, Some(0), "{}", dry.shown);
    assert_eq!(dry.plan()["complete"], true, "{}", dry.shown);
    assert_eq!(dry.changes(), real.changes(), "{}", dry.shown);
    assert!(
        dry.shown.contains("hpvmstatus -P slvm1"),
        "the guest was read before cmrunpkg: {}",
        dry.shown
    );
}

/// Deploy an unpackaged guest: the guest was read on both hosts and the package file is
/// known to be missing on node1, so the toolkit's deployment is planned; the package check
/// that follows reads the package folders' modes on every node, never read: unknown.
#[test]
fn hpvm_deploy_package_stops_where_the_package_folders_were_never_read() {
    let site = real_site(Some("hpvm"), &HPVM_HOSTS);
    let (dry, real) = dry_run_checked(
        &site,
        "hpvm/deploy-package",
        &["package=slvm2"],
        hpvm_change,
    );
    assert_eq!(real.code, Some(0), "{}", real.shown);
    assert_eq!(dry.code, Some(4), "{}", dry.shown);
    let planned = dry.changes();
    assert!(
        planned
            .first()
            .is_some_and(|c| c.contains("cmdeployvpkg -Q -P slvm2")),
        "{planned:?}"
    );
    assert!(planned.len() < real.changes().len(), "{planned:?}");
    let text = dry.plan().to_string();
    assert!(text.contains("unknown"), "{text}");
    assert!(dry.cut().contains("/etc/cmcluster/slvm2"), "{}", dry.shown);
}

/// A procedure that changes nothing (the recovery finds nothing to do) never seeds a copy:
/// its dry run is the real run's reads, and its plan is complete and empty.
#[test]
fn hpvm_recover_move_with_nothing_to_do_is_a_complete_empty_plan() {
    let site = real_site(Some("hpvm"), &HPVM_HOSTS);
    let (dry, real) = dry_run_checked(&site, "hpvm/recover-move", &["package=slvm1"], hpvm_change);
    assert_eq!(real.code, Some(0), "{}", real.shown);
    assert!(real.changes().is_empty());
    assert_eq!(dry.code, Some(0), "{}", dry.shown);
    assert!(dry.changes().is_empty());
    assert_eq!(dry.plan()["complete"], true, "{}", dry.shown);
}

/// Every other shipped Serviceguard procedure (the cases of `tests/dryrun.rs` without
/// fault scenarios: a copy seeded from reads cannot know that a migration will fail):
/// whatever the copy can or cannot tell, the plan is the real run's changes as far as it
/// goes, an incomplete plan says why (exit 4), and nothing reaches the site.
#[test]
fn hpvm_every_procedure_plans_what_a_real_run_sends_as_far_as_it_goes() {
    type Case<'a> = (
        &'a str,
        &'a str,
        &'a [&'a str],
        Option<(&'a str, &'a [&'a str])>,
    );
    const XCLOCK: &str = "appmon=xclock:/usr/bin/X11/xclock -display 16.213.12.70:0.0:240:none:300";
    let cases: &[Case] = &[
        (
            "hpvm",
            "hpvm/add-app-monitor",
            &["package=slvm1", XCLOCK],
            None,
        ),
        (
            "hpvm",
            "hpvm/add-app-monitor",
            &["package=slvm1", XCLOCK, "method=commands"],
            None,
        ),
        (
            "hpvm/old-toolkit-package",
            "hpvm/convert-package",
            &["package=slvm1", "mode=offline"],
            None,
        ),
        (
            "hpvm",
            "hpvm/deploy-package",
            &["package=slvm2", "method=commands", "node=node1"],
            None,
        ),
        ("hpvm", "hpvm/diagnose", &["package=slvm1"], None),
        ("hpvm", "hpvm/remove-package", &["package=slvm1"], None),
        (
            "hpvm",
            "hpvm/setup-appmon-keys",
            &["package=slvm1", "regenerate=yes"],
            None,
        ),
        (
            "hpvm",
            "hpvm/test-app-monitor",
            &["package=slvm1"],
            Some((
                "hpvm/add-app-monitor",
                &["package=slvm1", "appmon=ping_mon:/apps/ping_mon:240:2:300"],
            )),
        ),
        ("hpvm", "examples/evacuate-host", &["host=node1"], None),
    ];
    for (scenario, script, params, setup) in cases {
        let site = real_site(Some(scenario), &HPVM_HOSTS);
        if let Some((first, p)) = setup {
            let args = with_params(
                [
                    "run",
                    first,
                    "-i",
                    &site.inventory.to_string_lossy(),
                    "--sim-clock",
                    &site.state.to_string_lossy(),
                    "--yes",
                ]
                .map(String::from)
                .to_vec(),
                p,
            );
            let o = hascript_as_user(&site, &args);
            assert_eq!(
                o.status.code(),
                Some(0),
                "{script} setup: {}",
                Run::of(&o).shown
            );
        }
        let (dry, real) = dry_run_checked(&site, script, params, hpvm_change);
        if [
            "hpvm/diagnose",
            "hpvm/remove-package",
            "hpvm/test-app-monitor",
            "examples/evacuate-host",
        ]
        .contains(script)
        {
            assert_eq!(dry.plan()["complete"], true, "{script}: {}", dry.shown);
        }
        match dry.code {
            Some(4) => {
                assert_eq!(dry.plan()["complete"], false, "{script}: {}", dry.shown);
                let why = dry.cut();
                assert!(why.contains("first change"), "{script}: {}", dry.shown);
            }
            _ => {
                assert_eq!(dry.code, real.code, "{script}: {}", dry.shown);
                assert_eq!(dry.changes(), real.changes(), "{script}: {}", dry.shown);
            }
        }
    }
}
