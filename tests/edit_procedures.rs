//! The shipped LDoms procedures are the site's to edit (issue 12, "What must hold"): each
//! test copies a procedure (or the shared module `lib/ldoms/migration`) into a folder on
//! `HASCRIPT_PATH`, edits it as a site engineer would (a string replaced in the copy), and
//! runs it on the simulator through the binary. An inserted step runs where it was put, a
//! dropped preflight check is no longer run, a changed deadline takes effect, the callers
//! of `hypervisor.migrate` and `hypervisor.preflight` run the site's copy, and a run of the
//! edited procedure killed right after `clovmmigrate -p` is still unwound to a protected
//! cluster: the safety is in the operations, not in the text a site may change.

mod sim_support;

use sim_support::{command_log, finish, run_id, text, CrashSite, Done, SiteDir};

const LIVE: &str = include_str!("../scripts/ldoms/live-migration.rhai");
const PRE: &str = include_str!("../scripts/ldoms/pre-migration.rhai");
const POST: &str = include_str!("../scripts/ldoms/post-migration.rhai");
const RECOVER: &str = include_str!("../scripts/ldoms/recover-migration.rhai");
const VERIFY: &str = include_str!("../scripts/ldoms/verify-fence.rhai");
const MODULE: &str = include_str!("../scripts/lib/ldoms/migration.rhai");

const MIGRATE: [&str; 2] = ["guest=guest2", "target=cd3"];

/// Where live-migration moves the guest (17.3.1.1's second half).
const THE_MOVE: &str = "let moved = step(\"17.3.1.1\", `live migration";
/// The site's step inserted between 17.3.1.1 and the move.
const PAGE: &str = "step(\"site\", \"page the on-call\", || info(\"paged\"));\n";
/// Where live-migration's `preflight` has its list of checks.
const CHECK_LIST: &str =
    "let checks = m::preflight_checks(guest, p.here.control_domain, p.target.name);\n";
/// The edit live-migration's comment shows: drop the XSCF host-key check by its name.
const NO_XSCF: &str = "    checks.retain(|c| c.name != \"XSCF host keys\");\n";

/// `hascript run NAME --sim … -p PARAMS --yes` with the site folder on `HASCRIPT_PATH`.
fn run_edited(env: &CrashSite, site: &SiteDir, name: &str, params: &[&str]) -> Done {
    let d = finish(env, site.on(env.run_cmd(name, params)));
    // The site's copy ran, not the shipped procedure.
    if name.starts_with("ldoms/") {
        assert!(d.out.contains("(HASCRIPT_PATH: "), "{}", d.dump());
    }
    d
}

/// The same, shipped (no `HASCRIPT_PATH`): what the edit changes.
fn run_shipped(env: &CrashSite, name: &str, params: &[&str]) -> Done {
    finish(env, env.run_cmd(name, params))
}

/// Guest2 on exactly one control domain, CF timeout 10 s and SF running with TestWorked on
/// both guest nodes.
fn assert_protected(env: &CrashSite, what: &str) {
    env.assert_guest2_protected(what);
}

// ----- live-migration ---------------------------------------------------------------------

#[test]
fn live_migration_a_step_inserted_between_17_3_1_1_and_the_move_runs_between_them() {
    let env = CrashSite::new("ldoms");
    let site = SiteDir::new();
    site.copy(
        "ldoms/live-migration",
        LIVE,
        &[(THE_MOVE, &format!("{PAGE}{THE_MOVE}"))],
    );
    // Planned first (`--dry-run`, as the book's chapter says): the same changes, nothing
    // sent, the site's step in its place.
    let plan = finish(
        &env,
        site.on(env.run_with("ldoms/live-migration", &MIGRATE, &["--dry-run"])),
    );
    assert_eq!(plan.code, 0, "{}", plan.dump());
    assert!(plan.changes().is_empty(), "{}", plan.dump());
    let steps = [
        "==> [17.3.1.1] before live migration",
        "==> [site] page the on-call",
        "==> [17.3.1.1] live migration",
        "  1. [17.3.1.1] cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -p guest2",
        "  2. [17.3.1.1] cd2: /usr/sbin/ldm migrate-domain guest2 cd3",
        "  3. [17.3.1.2 step 1] cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd3",
    ];
    let mut at = 0;
    for s in steps {
        at += plan.out[at..]
            .find(s)
            .unwrap_or_else(|| panic!("{s:?} missing or out of order\n{}", plan.dump()));
    }

    let d = run_edited(&env, &site, "ldoms/live-migration", &MIGRATE);
    assert_eq!(d.code, 0, "{}", d.dump());
    let prepared = d.command("clovmmigrate -p guest2");
    let paged = d.step("site");
    let said = d.at("the step's message", |l| {
        l["event"] == "info" && l["message"] == "paged"
    });
    let moved = d.command("ldm migrate-domain guest2 cd3");
    assert!(
        prepared < paged && paged < said && said < moved,
        "clovmmigrate -p at {prepared}, the site's step at {paged} ({said}), the move at {moved}\n{}",
        d.dump()
    );
    assert!(
        d.out.contains("==> [site] page the on-call"),
        "{}",
        d.dump()
    );
    // The edit changes nothing the procedure sends.
    assert_eq!(
        d.changes(),
        [
            "cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -p guest2",
            "cd2: /usr/sbin/ldm migrate-domain guest2 cd3",
            "cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd3",
        ],
        "{}",
        d.dump()
    );
}

#[test]
fn live_migration_without_the_xscf_host_key_check_passes_the_preflight_and_moves() {
    // Shipped: the preflight sees the missing host keys and nothing changes.
    let env = CrashSite::new("ldoms/xscf-first-ssh-pending");
    let d = run_shipped(&env, "ldoms/live-migration", &MIGRATE);
    assert_eq!(d.code, 3, "{}", d.dump());
    assert!(d.sent("ssh-keygen -F"), "{}", d.dump());
    assert!(d.changes().is_empty(), "{}", d.dump());

    // The site verifies the keys another way and drops the check from its copy.
    let env = CrashSite::new("ldoms/xscf-first-ssh-pending");
    let site = SiteDir::new();
    site.copy(
        "ldoms/live-migration",
        LIVE,
        &[(CHECK_LIST, &format!("{CHECK_LIST}{NO_XSCF}"))],
    );
    let d = run_edited(&env, &site, "ldoms/live-migration", &MIGRATE);
    // No `ssh-keygen -F` before the move: the check is gone from the preflight. (After the
    // move, 17.3.1.2 step 1 still looks the keys up itself, to say before `clovmmigrate -u`
    // that message 7245 will follow: that read is the operation's, not the script's.)
    let moved = d.command("ldm migrate-domain guest2 cd3");
    let keygen = d.journal.iter().position(|l| {
        l["command"]
            .as_str()
            .is_some_and(|c| c.contains("ssh-keygen -F"))
    });
    assert!(keygen.is_none_or(|k| k > moved), "{}", d.dump());
    assert!(d.out.contains("preflight passed"), "{}", d.dump());
    assert!(!d.out.contains("XSCF 10.20.30.73 host key"), "{}", d.dump());
    // The migration goes on; the manual's consequence follows at 17.3.1.2 step 2
    // (message 7245), with fencing restored by clovmmigrate -u.
    assert_eq!(
        d.changes(),
        [
            "cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -p guest2",
            "cd2: /usr/sbin/ldm migrate-domain guest2 cd3",
            "cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd3",
        ],
        "{}",
        d.dump()
    );
    assert_eq!(d.code, 3, "{}", d.dump());
    assert!(d.out.contains("message 7245"), "{}", d.dump());
}

#[test]
fn the_down_deadline_changed_by_parameter_or_in_the_sites_module_takes_effect() {
    let scenario = "ldoms/node-stays-leftcluster";
    // The manual's 15 minutes by default.
    let env = CrashSite::new(scenario);
    let d = run_shipped(&env, "ldoms/live-migration", &MIGRATE);
    assert_eq!(d.code, 4, "{}", d.dump());
    assert!(d.out.contains("deadline 15:00"), "{}", d.dump());
    assert!(d.out.contains("not reached after 15:00"), "{}", d.dump());
    assert!(d.out.contains("LEFTCLUSTER after 900 s"), "{}", d.dump());

    let twenty = |d: &Done, how: &str| {
        assert_eq!(d.code, 4, "{how}: {}", d.dump());
        assert!(d.out.contains("deadline 20:00"), "{how}: {}", d.dump());
        assert!(!d.out.contains("deadline 15:00"), "{how}: {}", d.dump());
        assert!(
            d.out
                .contains("waiting for cfguest2 DOWN in cftool -n: 19:00 elapsed"),
            "{how}: {}",
            d.dump()
        );
        assert!(
            d.out.contains("not reached after 20:00"),
            "{how}: {}",
            d.dump()
        );
        assert!(
            d.out.contains("LEFTCLUSTER after 1200 s"),
            "{how}: {}",
            d.dump()
        );
        // Whatever the deadline, the node is never forced and the guest never started.
        assert!(
            !d.changes()
                .iter()
                .any(|c| c.contains("start-domain") || c.contains("cftool -k")),
            "{how}: {}",
            d.dump()
        );
    };
    // The parameter.
    let env = CrashSite::new(scenario);
    let mut params = MIGRATE.to_vec();
    params.push("down_deadline=1200");
    let d = run_shipped(&env, "ldoms/live-migration", &params);
    twenty(&d, "-p down_deadline=1200");

    // The default, edited in the site's copy of the shared module: the shipped
    // live-migration imports it.
    let env = CrashSite::new(scenario);
    let site = SiteDir::new();
    site.copy(
        "lib/ldoms/migration",
        MODULE,
        &[(
            "let down_by = deadline(\"down_deadline\", 900);",
            "let down_by = deadline(\"down_deadline\", 1200);",
        )],
    );
    let d = finish(&env, site.on(env.run_cmd("ldoms/live-migration", &MIGRATE)));
    twenty(&d, "the module's default");
}

#[test]
fn an_edited_live_migration_killed_right_after_clovmmigrate_p_is_unwound_to_a_protected_cluster() {
    let site = SiteDir::new();
    site.copy(
        "ldoms/live-migration",
        LIVE,
        &[
            (THE_MOVE, &format!("{PAGE}{THE_MOVE}")),
            (CHECK_LIST, &format!("{CHECK_LIST}{NO_XSCF}")),
        ],
    );
    // Where to kill: right after clovmmigrate -p's journal line, as a complete run shows.
    let probe = CrashSite::new("ldoms");
    let d = run_edited(&probe, &site, "ldoms/live-migration", &MIGRATE);
    assert_eq!(d.code, 0, "{}", d.dump());
    let k = d.at("clovmmigrate -p's end", |l| {
        l["event"] == "command_end"
            && l["command"]
                .as_str()
                .is_some_and(|c| c.contains("clovmmigrate -p"))
    }) + 1;

    let env = CrashSite::new("ldoms");
    let dead = env
        .kill_after(site.on(env.run_cmd("ldoms/live-migration", &MIGRATE)), k)
        .expect("killed before its end");
    let id = run_id(&dead);
    // Killed after -p and before the move: fencing is off, the routine pending.
    assert!(
        dead.iter().any(|l| l["event"] == "recovery_registered"),
        "{dead:?}"
    );
    assert!(!command_log(&env.site)
        .iter()
        .any(|l| l.contains("ldm migrate-domain guest2")));
    let cf = env.sim_exec("guest1", &["/opt/SMAW/bin/cfset", "-a"]);
    assert!(cf.contains("VALUE: 600"), "{cf}");

    let o = site
        .on(env.cmd(&["unwind", &id, "--yes"]))
        .output()
        .expect("unwind");
    let out = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert_protected(&env, "after unwind");
    // The guest stayed on the source; 17.3.1.2 named it.
    let u: Vec<String> = command_log(&env.site)
        .into_iter()
        .filter(|l| l.contains("clovmmigrate -u"))
        .collect();
    assert_eq!(
        u,
        ["cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd2"],
        "{out}"
    );
}

// ----- the generic surface runs the site's copy --------------------------------------------

#[test]
fn hypervisor_migrate_runs_the_sites_live_migration_with_its_inserted_step() {
    let env = CrashSite::new("ldoms");
    let site = SiteDir::new();
    site.copy(
        "ldoms/live-migration",
        LIVE,
        &[(THE_MOVE, &format!("{PAGE}{THE_MOVE}"))],
    );
    let d = finish(
        &env,
        site.on(env.run_cmd("examples/evacuate-host", &["host=cd2"])),
    );
    assert_eq!(d.code, 0, "{}", d.dump());
    assert!(d.out.contains("paged"), "{}", d.dump());
    let prepared = d.command("clovmmigrate -p guest2");
    let paged = d.step("site");
    let moved = d.command("ldm migrate-domain guest2 cd3");
    assert!(
        prepared < paged && paged < moved,
        "clovmmigrate -p at {prepared}, the site's step at {paged}, the move at {moved}\n{}",
        d.dump()
    );
    assert!(
        d.out
            .contains("moved   guest2: cd2 -> cd3 (read back: runs on cd3)"),
        "{}",
        d.dump()
    );
}

#[test]
fn hypervisor_preflight_runs_the_sites_list_of_checks() {
    let body = "hypervisor.preflight(\"guest2\", \"cd3\");\ninfo(\"preflight returned\");\n";
    // Shipped: the XSCF host keys of cd3's box are missing; the preflight refuses.
    let env = CrashSite::new("ldoms/xscf-first-ssh-pending");
    let script = env.script("preflight.rhai", body);
    let d = run_shipped(&env, &script, &[]);
    assert_eq!(d.code, 3, "{}", d.dump());
    assert!(d.sent("ssh-keygen -F"), "{}", d.dump());
    assert!(!d.out.contains("preflight returned"), "{}", d.dump());

    // With the site's live-migration, which drops that check, it passes without asking.
    let env = CrashSite::new("ldoms/xscf-first-ssh-pending");
    let script = env.script("preflight.rhai", body);
    let site = SiteDir::new();
    site.copy(
        "ldoms/live-migration",
        LIVE,
        &[(CHECK_LIST, &format!("{CHECK_LIST}{NO_XSCF}"))],
    );
    let d = finish(&env, site.on(env.run_cmd(&script, &[])));
    assert_eq!(d.code, 0, "{}", d.dump());
    assert!(d.out.contains("preflight returned"), "{}", d.dump());
    assert!(!d.sent("ssh-keygen -F"), "{}", d.dump());
    assert!(d.changes().is_empty(), "{}", d.dump());
}

// ----- the step scripts --------------------------------------------------------------------

#[test]
fn pre_migration_without_the_xscf_host_key_check_passes_the_preflight() {
    let call = "m::run_checks(m::preflight_checks(guest, source, target.name))";
    let dropped = "m::run_checks(m::preflight_checks(guest, source, target.name).filter(|c| c.name != \"XSCF host keys\"))";
    let env = CrashSite::new("ldoms/xscf-first-ssh-pending");
    let d = run_shipped(&env, "ldoms/pre-migration", &MIGRATE);
    assert_eq!(d.code, 3, "{}", d.dump());
    assert!(d.sent("ssh-keygen -F"), "{}", d.dump());
    assert!(d.changes().is_empty(), "{}", d.dump());

    let env = CrashSite::new("ldoms/xscf-first-ssh-pending");
    let site = SiteDir::new();
    site.copy("ldoms/pre-migration", PRE, &[(call, dropped)]);
    let d = run_edited(&env, &site, "ldoms/pre-migration", &MIGRATE);
    assert_eq!(d.code, 0, "{}", d.dump());
    assert!(!d.sent("ssh-keygen -F"), "{}", d.dump());
    assert!(d.out.contains("preflight passed"), "{}", d.dump());
    assert_eq!(
        d.changes(),
        ["cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -p guest2"],
        "{}",
        d.dump()
    );
}

#[test]
fn an_edited_pre_migration_killed_right_after_clovmmigrate_p_is_unwound_to_a_protected_cluster() {
    let site = SiteDir::new();
    let at = "step(\"17.3.1.1\", `clovmmigrate -p";
    site.copy(
        "ldoms/pre-migration",
        PRE,
        &[(
            at,
            &format!("step(\"site\", \"tell the storage team\", || info(\"told\"));\n{at}"),
        )],
    );
    // The site's recovery procedure too: the routine `clovmmigrate -p` registers names
    // `ldoms/recover-migration`, and unwind runs the site's copy.
    let begin = "let result = m::recover(guest);";
    site.copy(
        "ldoms/recover-migration",
        RECOVER,
        &[(begin, &format!("info(\"site recovery begins\");\n{begin}"))],
    );
    let probe = CrashSite::new("ldoms");
    let d = run_edited(&probe, &site, "ldoms/pre-migration", &MIGRATE);
    assert_eq!(d.code, 0, "{}", d.dump());
    assert!(
        d.step("site") < d.command("clovmmigrate -p"),
        "{}",
        d.dump()
    );
    let k = d.command("clovmmigrate -p guest2") + 2;
    assert_eq!(d.journal[k - 1]["event"], "command_end", "{}", d.dump());

    let env = CrashSite::new("ldoms");
    let dead = env
        .kill_after(site.on(env.run_cmd("ldoms/pre-migration", &MIGRATE)), k)
        .expect("killed before its end");
    let id = run_id(&dead);
    let o = site
        .on(env.cmd(&["unwind", &id, "--yes"]))
        .output()
        .expect("unwind");
    let out = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("site recovery begins"), "{out}");
    assert_protected(&env, "after unwind");
}

#[test]
fn post_migration_a_step_inserted_after_step_1_runs_after_clovmmigrate_u() {
    let env = CrashSite::new("ldoms");
    // The operator moved the guest by hand after 17.3.1.1.
    env.sim_exec_ok(
        "cd2",
        &["/etc/opt/FJSVcluster/bin/clovmmigrate", "-p", "guest2"],
    );
    env.sim_exec_ok("cd2", &["/usr/sbin/ldm", "migrate-domain", "guest2", "cd3"]);
    let site = SiteDir::new();
    let after = "m::verify_fence_step(guest);";
    site.copy(
        "ldoms/post-migration",
        POST,
        &[(
            after,
            &format!("step(\"site\", \"tell the storage team\", || info(\"told\"));\n{after}"),
        )],
    );
    let d = run_edited(&env, &site, "ldoms/post-migration", &["guest=guest2"]);
    assert_eq!(d.code, 0, "{}", d.dump());
    let finished = d.command("clovmmigrate -u guest2 cd3");
    let told = d.step("site");
    let step2 = d.step("17.3.1.2 step 2");
    assert!(
        finished < told && told < step2,
        "clovmmigrate -u at {finished}, the site's step at {told}, step 2 at {step2}\n{}",
        d.dump()
    );
    assert_eq!(
        d.changes(),
        ["cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd3"],
        "{}",
        d.dump()
    );
    assert_protected(&env, "after post-migration");
}

#[test]
fn recover_migration_a_step_inserted_before_the_start_runs_after_down_and_before_start_domain() {
    let env = CrashSite::new("ldoms/migration-aborted-guest-stopped");
    env.sim_exec_ok(
        "cd2",
        &["/etc/opt/FJSVcluster/bin/clovmmigrate", "-p", "guest2"],
    );
    // The scenario's migration fails and leaves the guest stopped on cd2.
    let m = env.sim_run("cd2", &["/usr/sbin/ldm", "migrate-domain", "guest2", "cd3"]);
    assert_eq!(m.status.code(), Some(1));
    let site = SiteDir::new();
    // The recovery's decision is the shared module's: the site edits its copy of it, and
    // its copy of the procedure says so first.
    let start = "step(\"17.3.1.1 note, step 2\", `start";
    site.copy(
        "lib/ldoms/migration",
        MODULE,
        &[(
            start,
            &format!(
                "step(\"site\", \"check the console before the start\", || info(\"console checked\"));\n        {start}"
            ),
        )],
    );
    let begin = "let result = m::recover(guest);";
    site.copy(
        "ldoms/recover-migration",
        RECOVER,
        &[(begin, &format!("info(\"site recovery begins\");\n{begin}"))],
    );
    let d = run_edited(&env, &site, "ldoms/recover-migration", &["guest=guest2"]);
    assert_eq!(d.code, 0, "{}", d.dump());
    assert!(d.out.contains("site recovery begins"), "{}", d.dump());
    let down = d.step("17.3.1.1 note, step 1");
    let checked = d.step("site");
    let started = d.command("ldm start-domain guest2");
    assert!(
        down < checked && checked < started,
        "DOWN wait at {down}, the site's step at {checked}, start-domain at {started}\n{}",
        d.dump()
    );
    assert_eq!(
        d.changes(),
        [
            "cd2: /usr/sbin/ldm start-domain guest2",
            "cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd2",
        ],
        "{}",
        d.dump()
    );
    assert_protected(&env, "after recover-migration");
}

#[test]
fn verify_fence_without_the_time_sync_note_reads_no_time_sync_messages() {
    let note_start = "step(\"17.3.1.2 note\", \"time-synchronisation warnings\", || {";
    let begin = VERIFY.find(note_start).expect("the note's step");
    let end = begin + VERIFY[begin..].find("\n});\n").expect("its end") + "\n});\n".len();
    let note = &VERIFY[begin..end];

    // A site whose clocks drifted during a migration.
    let setup = || {
        let env = CrashSite::new("ldoms/time-sync-warnings");
        let o = env.run("ldoms/live-migration", &MIGRATE, &["--yes"]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        env
    };
    let env = setup();
    let d = run_shipped(&env, "ldoms/verify-fence", &[]);
    assert_eq!(d.code, 0, "{}", d.dump());
    assert!(d.out.contains("(WRP, 34)"), "{}", d.dump());
    assert!(d.sent("switchlog"), "{}", d.dump());

    // The site reads its clocks with its own monitoring and drops the note.
    let env = setup();
    let site = SiteDir::new();
    site.copy("ldoms/verify-fence", VERIFY, &[(note, "")]);
    let d = run_edited(&env, &site, "ldoms/verify-fence", &[]);
    assert_eq!(d.code, 0, "{}", d.dump());
    assert!(!d.out.contains("WRP"), "{}", d.dump());
    assert!(!d.sent("switchlog"), "{}", d.dump());
    assert!(!d.sent("/var/adm/messages"), "{}", d.dump());
    assert!(d.out.contains("shutdown facility healthy"), "{}", d.dump());
    assert!(d.changes().is_empty(), "{}", d.dump());
}
