//! The shipped Serviceguard online move is the site's to edit (issue 13, "Procedures as
//! scripts"), as the LDoms procedures are (tests/edit_procedures.rs): each test copies
//! hpvm/move-package into a folder on `HASCRIPT_PATH`, edits it as a site engineer would (a
//! string replaced in the copy), and runs it on the simulator through the binary. An inserted
//! step runs where it was put, a dropped preflight check is no longer run, `hypervisor.migrate`
//! runs the site's copy, and an edited move killed right after `cmmovevpkg` is still unwound to
//! a protected package: the safety is in the operations, not in the text a site may change.

mod sim_support;

use sim_support::{command_log, finish, run_id, text, CrashSite, Done, SiteDir};

const MOVE: &str = include_str!("../scripts/hpvm/move-package.rhai");
const MODULE: &str = include_str!("../scripts/lib/hpvm/move.rhai");

const PARAMS: [&str; 2] = ["package=slvm1", "target=node2"];

/// Where move-package sends cmmovevpkg (§6).
const THE_MOVE: &str = "let moved = step(\"§6\", `online migration";
/// The site's step inserted right before it: a read on the target, and a line of its own.
const LOOK: &str = "step(\"site\", \"look at slvm1 on the target\", || { host(target).run([\"/opt/hpvm/bin/hpvmstatus\", \"-P\", vm], #{changes: false}); info(\"looked\"); });\n";
/// Where move-package's `preflight` has its list of checks.
const CHECK_LIST: &str = "let checks = m::preflight_checks(vm, owner, target);\n";
/// Drop both T8718AC checks (source and target) by their names.
const NO_T8718AC: &str = "    checks.retain(|c| !c.name.starts_with(\"T8718AC\"));\n";

/// `hascript run hpvm/move-package --sim … --yes` with the site folder on `HASCRIPT_PATH`;
/// the site's copy ran, not the shipped procedure.
fn run_edited(env: &CrashSite, site: &SiteDir) -> Done {
    let d = finish(env, site.on(env.run_cmd("hpvm/move-package", &PARAMS)));
    assert!(d.out.contains("(HASCRIPT_PATH: "), "{}", d.dump());
    d
}

/// The journal line of the first command (start or end) holding `needle` at or after
/// line `from`.
fn command_after(d: &Done, needle: &str, from: usize) -> usize {
    from + d.journal[from..]
        .iter()
        .position(|l| {
            (l["event"] == "command_start" || l["event"] == "command_end")
                && l["command"].as_str().is_some_and(|c| c.contains(needle))
        })
        .unwrap_or_else(|| panic!("no {needle} after line {from}\n{}", d.dump()))
}

/// The move's change commands on the default site.
const MOVED: [&str; 1] = ["node1: /etc/cmcluster/scripts/tkit/vtn/cmmovevpkg -v -P slvm1 -h node2"];

/// The change commands of `d` that are not the host locks (`mkdir`/`rm` of the lock folder).
fn moves(d: &Done) -> Vec<String> {
    d.changes()
        .into_iter()
        .filter(|c| !c.contains("hascript.lock"))
        .collect()
}

#[test]
fn move_package_a_step_inserted_before_cmmovevpkg_runs_between_the_preflight_and_it() {
    let env = CrashSite::new("hpvm");
    let site = SiteDir::new();
    site.copy(
        "hpvm/move-package",
        MOVE,
        &[(THE_MOVE, &format!("{LOOK}{THE_MOVE}"))],
    );
    let d = run_edited(&env, &site);
    assert_eq!(d.code, 0, "{}", d.dump());
    // The preflight's last command, the site's step, its read on the target and its line,
    // then the move: in that order in the journal.
    let checked = d.command("hpvmmigrate -s -o -P slvm1 -h node2");
    let looked_step = d.step("site");
    let read = command_after(&d, "hpvmstatus -P slvm1", looked_step);
    let said = d.at("the step's line", |l| {
        l["event"] == "info" && l["message"] == "looked"
    });
    let moved = d.command("/cmmovevpkg -v -P slvm1 -h node2");
    let move_step = d.step("§6");
    assert!(
        checked < looked_step
            && looked_step < read
            && read < said
            && said < move_step
            && move_step < moved,
        "hpvmmigrate -s at {checked}, the site's step at {looked_step} (read {read}, line {said}), step §6 at {move_step}, cmmovevpkg at {moved}\n{}",
        d.dump()
    );
    assert!(
        d.journal[read]["host"] == "node2",
        "the read ran on the target: {}",
        d.journal[read]
    );
    // In the site's command log too: the read reached node2 between hpvmmigrate -s and
    // cmmovevpkg.
    let pos = |needle: &str| {
        d.log
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle} not sent\n{}", d.dump()))
    };
    let (c, m) = (pos("hpvmmigrate -s"), pos("/cmmovevpkg "));
    assert!(
        d.log[c..m]
            .iter()
            .any(|l| l.starts_with("node2: ") && l.contains("hpvmstatus -P slvm1")),
        "{}",
        d.dump()
    );
    assert!(
        d.out.contains("==> [site] look at slvm1 on the target"),
        "{}",
        d.dump()
    );
    // The edit changes nothing the procedure sends.
    assert_eq!(moves(&d), MOVED, "{}", d.dump());
    assert_eq!(env.assert_slvm1_protected("after the move"), "node2");
}

#[test]
fn move_package_without_the_t8718ac_checks_sends_no_swlist_for_it_and_still_moves() {
    let swlist = "swlist -l product T8718AC";
    // Shipped: T8718AC is asked on both hosts.
    let env = CrashSite::new("hpvm");
    let d = finish(&env, env.run_cmd("hpvm/move-package", &PARAMS));
    assert_eq!(d.code, 0, "{}", d.dump());
    for h in ["node1", "node2"] {
        assert!(
            d.log
                .iter()
                .any(|l| l.starts_with(&format!("{h}: ")) && l.contains(swlist)),
            "{h}\n{}",
            d.dump()
        );
    }

    let env = CrashSite::new("hpvm");
    let site = SiteDir::new();
    site.copy(
        "hpvm/move-package",
        MOVE,
        &[(CHECK_LIST, &format!("{CHECK_LIST}{NO_T8718AC}"))],
    );
    let d = run_edited(&env, &site);
    assert_eq!(d.code, 0, "{}", d.dump());
    assert!(!d.sent(swlist), "{}", d.dump());
    assert!(!d.out.contains("T8718AC on node"), "{}", d.dump());
    // The other checks still ran, the toolkit's product check among them.
    assert!(d.sent("swlist -l product SG-IVS-Toolkit"), "{}", d.dump());
    assert!(
        d.sent("hpvmmigrate -s -o -P slvm1 -h node2"),
        "{}",
        d.dump()
    );
    assert!(d.out.contains("preflight passed"), "{}", d.dump());
    assert_eq!(moves(&d), MOVED, "{}", d.dump());
    assert_eq!(env.assert_slvm1_protected("after the move"), "node2");
}

#[test]
fn an_edited_move_package_killed_right_after_cmmovevpkg_is_unwound_to_a_protected_package() {
    let edits = [
        (THE_MOVE, format!("{LOOK}{THE_MOVE}")),
        (CHECK_LIST, format!("{CHECK_LIST}{NO_T8718AC}")),
    ];
    let edits: Vec<(&str, &str)> = edits.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let site = SiteDir::new();
    site.copy("hpvm/move-package", MOVE, &edits);
    let is_move = |l: &serde_json::Value, event: &str| {
        l["event"] == event
            && l["command"]
                .as_str()
                .is_some_and(|c| c.contains("/cmmovevpkg "))
    };
    // Where to kill: a complete run of the edited copy shows where cmmovevpkg was sent and
    // where it ended. On the default site the move succeeds; in `hpvm/hpvmmigrate-fails` it
    // fails and leaves package switching disabled with slvm1 on node1 (the run's own
    // recovery enables it again, exit 1): killed there, only the unwind can enable it.
    let mut cases = Vec::new();
    for (scenario, exit) in [("hpvm", 0), ("hpvm/hpvmmigrate-fails", 1)] {
        let probe = CrashSite::new(scenario);
        let d = run_edited(&probe, &site);
        assert_eq!(d.code, exit, "{scenario}: {}", d.dump());
        let sent = d.at("cmmovevpkg's start", |l| is_move(l, "command_start")) + 1;
        let ended = d.at("cmmovevpkg's end", |l| is_move(l, "command_end")) + 1;
        assert!(sent < ended, "{}", d.dump());
        if exit == 0 {
            cases.push((scenario, sent, "sent"));
        }
        cases.push((scenario, ended, "ended"));
    }

    for (scenario, k, when) in cases {
        let env = CrashSite::new(scenario);
        let dead = env
            .kill_after(site.on(env.run_cmd("hpvm/move-package", &PARAMS)), k)
            .expect("killed before its end");
        let id = run_id(&dead);
        let what = format!("{scenario}: killed once cmmovevpkg {when}");
        if scenario != "hpvm" {
            // What the unwind starts from: slvm1 on node1, its switching still disabled.
            let view = env.sim_exec("node1", &["/usr/sbin/cmviewcl", "-v", "-f", "line"]);
            assert_eq!(
                sim_support::package_key(&view, "slvm1", "autorun"),
                Some("disabled"),
                "{what}:\n{view}"
            );
        }
        // The edited copy ran (its step is in the dead run's journal), the move's routine
        // was registered before cmmovevpkg.
        let at = |f: &dyn Fn(&serde_json::Value) -> bool| dead.iter().position(f);
        let stepped = at(&|l| l["event"] == "step" && l["section"] == "site");
        let registered = at(&|l| l["event"] == "recovery_registered");
        let started = at(&|l| is_move(l, "command_start"));
        assert!(
            stepped.is_some() && registered.is_some() && registered < started,
            "{what}: the site's step at {stepped:?}, the routine registered at {registered:?}, cmmovevpkg sent at {started:?}"
        );
        let log = command_log(&env.site);
        assert!(
            log.iter().any(|l| l.contains("/cmmovevpkg ")) || when == "sent",
            "{what}: {log:?}"
        );

        // The site engineer touches the copy again after the crash: resume refuses, names
        // it, and sends nothing.
        let before = command_log(&env.site);
        let path = site.path().join("hpvm/move-package.rhai");
        let now = std::fs::read_to_string(&path).expect("the copy");
        std::fs::write(&path, format!("{now}\n// after the crash\n")).expect("edit");
        let o = site
            .on(env.cmd(&["resume", &id, "--retry-unknown"]))
            .output()
            .expect("resume");
        let out = format!("{}{}", text(&o.stdout), text(&o.stderr));
        assert_eq!(o.status.code(), Some(2), "{what}: {out}");
        assert!(
            out.contains(&format!("is not the one run {id} ran"))
                && out.contains("hpvm/move-package.rhai")
                && out.contains(&format!("hascript unwind {id}")),
            "{what}: {out}"
        );
        assert_eq!(
            command_log(&env.site),
            before,
            "{what}: resume sent nothing"
        );
        std::fs::write(&path, now).expect("put back");

        // Unwind: the routine registered before cmmovevpkg reads where slvm1 runs and who
        // owns the package, and leaves it protected there.
        let o = site
            .on(env.cmd(&["unwind", &id, "--yes"]))
            .output()
            .expect("unwind");
        let out = format!("{}{}", text(&o.stdout), text(&o.stderr));
        assert_eq!(o.status.code(), Some(0), "{what}: {out}");
        let host = env.assert_slvm1_protected(&format!("{what}, then unwound"));
        let moved = scenario == "hpvm"
            && command_log(&env.site)
                .iter()
                .any(|l| l.contains("/cmmovevpkg "));
        assert_eq!(host, if moved { "node2" } else { "node1" }, "{what}: {out}");
        // cmmovevpkg never reached the site twice.
        let n = command_log(&env.site)
            .iter()
            .filter(|l| l.contains("/cmmovevpkg "))
            .count();
        assert!(n <= 1, "{what}: {n} cmmovevpkg");
        sim_support::assert_no_lock(&env, &["node1", "node2"], &what);
    }
}

#[test]
fn hypervisor_migrate_runs_the_sites_move_package_with_its_inserted_step() {
    let env = CrashSite::new("hpvm");
    let site = SiteDir::new();
    site.copy(
        "hpvm/move-package",
        MOVE,
        &[(THE_MOVE, &format!("{LOOK}{THE_MOVE}"))],
    );
    let script = env.script(
        "site-move.rhai",
        "hypervisor.migrate(\"slvm1\", \"node2\");\ninfo(\"migrate returned\");\n",
    );
    let d = finish(&env, site.on(env.run_cmd(&script, &[])));
    assert_eq!(d.code, 0, "{}", d.dump());
    assert!(d.out.contains("looked"), "{}", d.dump());
    assert!(d.out.contains("migrate returned"), "{}", d.dump());
    let checked = d.command("hpvmmigrate -s -o -P slvm1 -h node2");
    let looked = d.step("site");
    let moved = d.command("/cmmovevpkg -v -P slvm1 -h node2");
    assert!(
        checked < looked && looked < moved,
        "hpvmmigrate -s at {checked}, the site's step at {looked}, cmmovevpkg at {moved}\n{}",
        d.dump()
    );
    assert_eq!(moves(&d), MOVED, "{}", d.dump());
    assert_eq!(env.assert_slvm1_protected("after the migrate"), "node2");
}

#[test]
fn a_recovery_decision_edited_to_always_enable_switching_cannot_enable_it_while_guest_and_package_disagree(
) {
    // Integrity VM moved slvm1 to node2 behind Serviceguard's back (plain hpvmmigrate), and
    // package switching is off: the guest runs on node2, the package is owned by node1.
    let env = CrashSite::new("hpvm");
    env.sim_exec_ok(
        "node1",
        &[
            "/opt/hpvm/bin/hpvmmigrate",
            "-o",
            "-P",
            "slvm1",
            "-h",
            "node2",
        ],
    );
    env.sim_exec_ok("node1", &["/usr/sbin/cmmodpkg", "-d", "slvm1"]);
    // The site's copy of the shared steps decides "settle, enable switching" whatever it
    // observes; the shipped hpvm/recover-move imports it.
    let site = SiteDir::new();
    site.copy(
        "lib/hpvm/move",
        MODULE,
        &[(
            "fn decide(o) {\n",
            "fn decide(o) {\n    if o.vm != \"\" { return #{ action: \"settle\", host: o.running_on[0], enable_switching: true, landing: \"elsewhere\" }; }\n",
        )],
    );
    let d = finish(
        &env,
        site.on(env.run_cmd("hpvm/recover-move", &["package=slvm1"])),
    );
    // The edited decision ran (it asked to enable switching on node2)…
    assert!(
        d.out
            .contains("enable package switching (cmmodpkg -e slvm1)"),
        "{}",
        d.dump()
    );
    // …and the operation refused: needs attention, nothing sent.
    assert_eq!(d.code, 4, "{}", d.dump());
    assert!(
        d.out.contains("package switching of slvm1 is not enabled")
            && d.out
                .contains("slvm1 runs on node2, but Serviceguard says the package runs on node1"),
        "{}",
        d.dump()
    );
    assert!(!d.sent("cmmodpkg -e"), "{}", d.dump());
    assert!(d.changes().is_empty(), "{}", d.dump());
    let view = env.sim_exec("node1", &["/usr/sbin/cmviewcl", "-v", "-f", "line"]);
    assert_eq!(
        sim_support::package_key(&view, "slvm1", "autorun"),
        Some("disabled"),
        "{view}"
    );
}
