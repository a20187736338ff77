//! Issue 13, "Procedures as scripts" (B2/B3): hpvm/maintenance, hpvm/remove-package and
//! hpvm/deploy-package run each manual action as a step of the script over one-action
//! operations, and the guard rails stay in the operations whatever a script does: a running
//! package is not removed, a guest on NFS is neither applied nor started until its NFS entry
//! is in the package file, and a site's edited copy of deploy-package runs its inserted step
//! where it was put. Through the binary against the simulator.

mod sim_support;

use sim_support::{command_log_after, last_seq, run, text, CrashSite, Site};

const DEPLOY: &str = include_str!("../scripts/hpvm/deploy-package.rhai");

/// The index of the first line of `log` containing `what`.
fn at(log: &[String], what: &str) -> usize {
    log.iter()
        .position(|l| l.contains(what))
        .unwrap_or_else(|| panic!("nothing sent with {what}:\n{}", log.join("\n")))
}

fn file_has(site: &Site, host: &str, path: &str, line: &str) -> bool {
    let o = site.exec(host, &["cat", path]);
    assert_eq!(o.status.code(), Some(0), "{host}: no {path}");
    text(&o.stdout)
        .lines()
        .any(|l| l.split_whitespace().collect::<Vec<_>>().join(" ") == line)
}

/// Moved from the driver crate (`remove_halts_first_only_with_confirmation`): without a
/// terminal or `--yes` the running package is neither halted nor removed (exit 5, nothing
/// sent); answered yes, it is halted, then removed with `cmdeployvpkg -P slvm1 -U`.
#[test]
fn remove_package_halts_first_only_with_confirmation() {
    let (r, _site) = run("hpvm/remove-package", None, &["package=slvm1"], &[]);
    assert_eq!(r.code, 5, "{}", r.dump());
    assert!(r.changes().is_empty(), "{}", r.dump());
    let (r, site) = run("hpvm/remove-package", None, &["package=slvm1"], &["--yes"]);
    assert_eq!(r.code, 0, "{}", r.dump());
    let c = r.changes();
    let halt = at(&c, "cmhaltpkg slvm1");
    let remove = at(&c, "cmdeployvpkg -P slvm1 -U");
    assert!(halt < remove, "{c:?}");
    assert!(
        r.all().contains("no longer a Serviceguard package"),
        "{}",
        r.dump()
    );
    let o = site.exec("node1", &["/usr/sbin/cmviewcl", "-v", "-f", "line"]);
    assert!(
        !text(&o.stdout).contains("name=slvm1|"),
        "{}",
        text(&o.stdout)
    );
}

/// The guard rail is the operation's: `package.remove` of a running package is refused
/// (exit 3) with nothing sent, whatever the calling script did before.
#[test]
fn package_remove_refuses_a_running_package() {
    let env = CrashSite::init(Some("hpvm"));
    let s = env.script("rm.rhai", "package.remove(\"slvm1\");\n");
    let before = last_seq(&env.site);
    let o = env.run(&s, &[], &["--yes"]);
    let out = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(3), "{out}");
    assert!(out.contains("halt it first"), "{out}");
    let log = command_log_after(&env.site, before);
    assert!(
        !log.iter()
            .any(|l| l.contains("cmdeployvpkg") || l.contains("cmhaltpkg")),
        "{log:?}"
    );
}

/// Moved from the driver crate (`deploy_then_check_apply_and_run_an_unpackaged_guest`):
/// answered yes, slvm2 is deployed on node1 and node2, its volume group vg_slvm2 (which the
/// generated file lacks, §4) added on both, then checked, applied and run with switching.
#[test]
fn deploy_package_then_check_apply_and_run_an_unpackaged_guest() {
    let (r, site) = run(
        "hpvm/deploy-package",
        None,
        &["package=slvm2", "node=node1,node2"],
        &["--yes"],
    );
    assert_eq!(r.code, 0, "{}", r.dump());
    let c = r.changes();
    assert!(
        c[0].ends_with("cmdeployvpkg -Q -P slvm2 -n node1 -n node2"),
        "{c:?}"
    );
    assert!(
        c.last().is_some_and(|l| l.ends_with("cmmodpkg -e slvm2")),
        "{c:?}"
    );
    for h in ["node1", "node2"] {
        assert!(
            file_has(&site, h, "/etc/cmcluster/slvm2/slvm2.conf", "vg vg_slvm2"),
            "{h}: {}",
            r.dump()
        );
    }
    assert!(
        at(&r.log, "cmcheckconf") < at(&r.log, "cmapplyconf"),
        "{}",
        r.dump()
    );
}

/// §8, kept by the operations whatever a script does: on the NFS scenario, whose package
/// file does not mount the guest's NFS store, `package.apply` sends no cmapplyconf and
/// `package.run` of the halted package sends no cmrunpkg (exit 3, the `fs_*` lines named).
#[test]
fn apply_and_run_refuse_a_guest_on_nfs_without_its_nfs_entry() {
    let env = CrashSite::init(Some("hpvm/nfs-backing-store"));
    let s = env.script("apply.rhai", "package.apply(\"slvm1\");\n");
    let before = last_seq(&env.site);
    let o = env.run(&s, &[], &["--yes"]);
    let out = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(3), "{out}");
    assert!(out.contains("fs_server nfsserver"), "{out}");
    let log = command_log_after(&env.site, before);
    assert!(!log.iter().any(|l| l.contains("cmapplyconf")), "{log:?}");

    let s = env.script("halt.rhai", "package.halt(\"slvm1\");\n");
    let o = env.run(&s, &[], &["--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let s = env.script("run.rhai", "package.run(\"slvm1\");\n");
    let before = last_seq(&env.site);
    let o = env.run(&s, &[], &["--yes"]);
    let out = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(3), "{out}");
    assert!(out.contains("§8"), "{out}");
    let log = command_log_after(&env.site, before);
    assert!(!log.iter().any(|l| l.contains("cmrunpkg")), "{log:?}");
}

/// A site's copy of deploy-package with a step inserted before cmapplyconf (on
/// `HASCRIPT_PATH`) runs it there: after cmcheckconf, before cmapplyconf.
#[test]
fn an_edited_deploy_package_runs_its_inserted_step_before_cmapplyconf() {
    let apply = "step(\"B1 5\", `cmapplyconf";
    assert_eq!(DEPLOY.matches(apply).count(), 1, "the edit's place");
    let edited = DEPLOY.replace(
        apply,
        &format!(
            "step(\"site\", \"record the change\", || host(\"node1\").run([\"echo\", \"site-step\"], #{{changes: false}}));\n{apply}"
        ),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("hpvm")).expect("mkdir");
    std::fs::write(dir.path().join("hpvm/deploy-package.rhai"), edited).expect("write");
    let env = CrashSite::init(Some("hpvm"));
    let before = last_seq(&env.site);
    let o = env
        .run_with("hpvm/deploy-package", &["package=slvm2"], &["--yes"])
        .env("HASCRIPT_PATH", dir.path())
        .output()
        .expect("hascript runs");
    let out = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("(HASCRIPT_PATH: "),
        "the site's copy ran: {out}"
    );
    let log = command_log_after(&env.site, before);
    let site_step = at(&log, "site-step");
    assert!(at(&log, "cmcheckconf") < site_step, "{log:#?}");
    assert!(site_step < at(&log, "cmapplyconf"), "{log:#?}");
}

/// The interlock of leaving maintenance is the operation's: a site's script that calls only
/// `package.maintenance_off` (no read-back step) still removes the file on every member
/// that holds it — here the former owner node1, after slvm1 failed over to node2.
#[test]
fn maintenance_off_alone_turns_it_off_on_every_member() {
    const VTN: &str = "/etc/cmcluster/slvm1/vtn.debug";
    let env = CrashSite::init(Some("hpvm/maintenance-left-on-former-owner"));
    let held = |h: &str| env.sim_run(h, &["ls", "-ld", VTN]).status.code() == Some(0);
    assert!(held("node1") && !held("node2"));
    let s = env.script(
        "off.rhai",
        "let r = package.maintenance_off(\"slvm1\");\nif !r.changed || r.hosts != [\"node1\"] { fail(\"check\", `unexpected ${r}`); }\n",
    );
    let before = last_seq(&env.site);
    let o = env.run(&s, &[], &[]);
    let out = format!("{}{}", text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(!held("node1") && !held("node2"), "{out}");
    let log = command_log_after(&env.site, before);
    assert!(
        log.iter()
            .any(|l| l.starts_with("node1: ") && l.contains("cmdeployvpkg -m 0 -P slvm1")),
        "{log:?}"
    );
}
