//! `hascript run --dry-run` (issue 5, item 1) through the binary: for every shipped
//! procedure, the dry run on its simulated site lists exactly the change commands the real
//! run then sends, in the same order, and sends none — the site's state folder (its state
//! and its command log, the recording transport of the simulator) is byte for byte the same
//! after the dry run. A precondition that already fails gives exit 3 and names it.

mod sim_support;

use sim_support::{hascript, is_change, run_json, JsonRun, Site, SECRETS};

impl JsonRun {
    /// The procedure's change commands (`command_start`, purpose procedure) as
    /// `host: command`.
    fn changes(&self) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| e["event"] == "command_start" && e["purpose"] == "procedure")
            .map(|e| {
                format!(
                    "{}: {}",
                    e["host"].as_str().unwrap_or(""),
                    e["command"].as_str().unwrap_or("")
                )
            })
            .collect()
    }
}

fn state_bytes(site: &Site) -> Vec<u8> {
    std::fs::read(site.state.join("site.json")).expect("site.json")
}

/// A line of the simulator's log with the test secrets shown as the journal shows them.
fn redacted(line: &str) -> String {
    let mut l = line.to_string();
    for (_, v) in SECRETS {
        l = l.replace(v, "*****");
    }
    l
}

/// One case: a procedure on a scenario, after `setup` runs (real runs), with parameters.
struct Case {
    script: &'static str,
    scenario: &'static str,
    setup: &'static [(&'static str, &'static [&'static str])],
    params: &'static [&'static str],
    extra: &'static [&'static str],
}

const YES: &[&str] = &["--yes"];
const NONE: &[&str] = &[];

/// Every shipped procedure with the parameters its scenario tests use.
const CASES: &[Case] = &[
    Case {
        script: "ldoms/live-migration",
        scenario: "ldoms",
        setup: &[],
        params: &["guest=guest2", "target=cd3"],
        extra: NONE,
    },
    Case {
        script: "ldoms/live-migration",
        scenario: "ldoms/migration-aborted-guest-stopped",
        setup: &[],
        params: &["guest=guest2", "target=cd3"],
        extra: NONE,
    },
    Case {
        script: "ldoms/pre-migration",
        scenario: "ldoms",
        setup: &[],
        params: &["guest=guest2", "target=cd3"],
        extra: NONE,
    },
    Case {
        script: "ldoms/post-migration",
        scenario: "ldoms",
        setup: &[("ldoms/pre-migration", &["guest=guest2", "target=cd3"])],
        params: &["guest=guest2"],
        extra: NONE,
    },
    Case {
        script: "ldoms/recover-migration",
        scenario: "ldoms",
        setup: &[("ldoms/pre-migration", &["guest=guest2", "target=cd3"])],
        params: &["guest=guest2"],
        extra: NONE,
    },
    Case {
        script: "ldoms/verify-fence",
        scenario: "ldoms",
        setup: &[],
        params: &[],
        extra: NONE,
    },
    Case {
        script: "examples/evacuate-host",
        scenario: "ldoms",
        setup: &[],
        params: &["host=cd2"],
        extra: NONE,
    },
    Case {
        script: "examples/evacuate-host",
        scenario: "hpvm",
        setup: &[],
        params: &["host=node1"],
        extra: NONE,
    },
    Case {
        script: "hpvm/add-app-monitor",
        scenario: "hpvm",
        setup: &[],
        params: &[
            "package=slvm1",
            "appmon=xclock:/usr/bin/X11/xclock -display 16.213.12.70:0.0:240:none:300",
        ],
        extra: YES,
    },
    Case {
        script: "hpvm/add-app-monitor",
        scenario: "hpvm",
        setup: &[],
        params: &[
            "package=slvm1",
            "appmon=xclock:/usr/bin/X11/xclock -display 16.213.12.70:0.0:240:none:300",
            "method=commands",
        ],
        extra: YES,
    },
    Case {
        script: "hpvm/convert-package",
        scenario: "hpvm/old-toolkit-package",
        setup: &[],
        params: &["package=slvm1", "mode=offline"],
        extra: YES,
    },
    Case {
        script: "hpvm/convert-package",
        scenario: "hpvm/three-node-package",
        setup: &[],
        params: &["package=slvm1", "mode=online", "target=node2"],
        extra: YES,
    },
    Case {
        script: "hpvm/deploy-package",
        scenario: "hpvm",
        setup: &[],
        params: &["package=slvm2"],
        extra: YES,
    },
    Case {
        script: "hpvm/deploy-package",
        scenario: "hpvm",
        setup: &[],
        params: &["package=slvm2", "method=commands", "node=node1"],
        extra: YES,
    },
    Case {
        script: "hpvm/diagnose",
        scenario: "hpvm",
        setup: &[],
        params: &["package=slvm1"],
        extra: NONE,
    },
    Case {
        script: "hpvm/halt-package",
        scenario: "hpvm",
        setup: &[],
        params: &["package=slvm1"],
        extra: YES,
    },
    Case {
        script: "hpvm/maintenance",
        scenario: "hpvm",
        setup: &[],
        params: &["package=slvm1", "state=on"],
        extra: NONE,
    },
    Case {
        script: "hpvm/move-package",
        scenario: "hpvm",
        setup: &[],
        params: &["package=slvm1", "target=node2"],
        extra: NONE,
    },
    Case {
        script: "hpvm/move-package",
        scenario: "hpvm/hpvmmigrate-fails",
        setup: &[],
        params: &["package=slvm1", "target=node2"],
        extra: NONE,
    },
    Case {
        script: "hpvm/recover-move",
        scenario: "hpvm",
        setup: &[],
        params: &["package=slvm1"],
        extra: NONE,
    },
    Case {
        script: "hpvm/remove-package",
        scenario: "hpvm",
        setup: &[],
        params: &["package=slvm1"],
        extra: YES,
    },
    Case {
        script: "hpvm/run-package",
        scenario: "hpvm",
        setup: &[("hpvm/halt-package", &["package=slvm1"])],
        params: &["package=slvm1"],
        extra: NONE,
    },
    Case {
        script: "hpvm/setup-appmon-keys",
        scenario: "hpvm",
        setup: &[],
        params: &["package=slvm1", "regenerate=yes"],
        extra: YES,
    },
    Case {
        script: "hpvm/install-cmappserver",
        scenario: "hpvm",
        setup: &[],
        params: &["package=slvm2"],
        extra: NONE,
    },
    Case {
        script: "hpvm/install-cmappserver",
        scenario: "hpvm/cmappserver-linux-upgrade",
        setup: &[],
        params: &["package=slvm1"],
        extra: NONE,
    },
    // Both stop at the first node's read-back (nobody upgraded Serviceguard there): the
    // plan is what the real run sent up to there, with its exit code.
    Case {
        script: "hpvm/upgrade-appmon-live",
        scenario: "hpvm/appmon-upgrade",
        setup: &[],
        params: &["unique_commands=yes"],
        extra: YES,
    },
    Case {
        script: "hpvm/upgrade-appmon-restart",
        scenario: "hpvm/appmon-upgrade",
        setup: &[],
        params: &[],
        extra: YES,
    },
    Case {
        script: "hpvm/test-app-monitor",
        scenario: "hpvm",
        setup: &[(
            "hpvm/add-app-monitor",
            &["package=slvm1", "appmon=ping_mon:/apps/ping_mon:240:2:300"],
        )],
        params: &["package=slvm1"],
        extra: YES,
    },
];

/// The shipped procedures, from `hascript list`.
fn shipped() -> Vec<String> {
    let out = hascript(&["list"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .skip_while(|l| !l.starts_with("Procedures"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        // Each procedure's parameters follow on a line of their own: `(required: …)`.
        .filter(|w| !w.starts_with('('))
        .collect()
}

/// Dry run, then the real run, on one fresh site; returns (dry, real).
fn dry_then_real(case: &Case) -> (JsonRun, JsonRun) {
    let site = Site::new(Some(case.scenario));
    for (script, params) in case.setup {
        let r = run_json(&site, script, params, &["--yes"]);
        assert_eq!(r.code, 0, "setup {script}: {}", r.dump());
    }
    dry_then_real_on(&site, case)
}

/// Dry run, then the real run, of `case` on `site` as it is; returns (dry, real).
fn dry_then_real_on(site: &Site, case: &Case) -> (JsonRun, JsonRun) {
    let before = state_bytes(site);
    let log_before = site.log();
    let mut extra = case.extra.to_vec();
    extra.push("--dry-run");
    let dry = run_json(site, case.script, case.params, &extra);
    // Nothing reached the site: not a change, not even a read (the copy answered all).
    assert!(
        state_bytes(site) == before,
        "{} on {}: the dry run changed the site's state folder",
        case.script,
        case.scenario
    );
    assert_eq!(site.log(), log_before, "{}", case.script);
    let real = run_json(site, case.script, case.params, case.extra);
    // The real run's own log (the simulator's recording transport) agrees with its journal.
    let sent: Vec<String> = site
        .log()
        .get(log_before.len()..)
        .unwrap_or_default()
        .iter()
        .filter(|l| is_change(l))
        .map(|l| redacted(l))
        .collect();
    let journaled = real.changes();
    let mut it = journaled.iter();
    for s in &sent {
        assert!(
            it.any(|j| j == s),
            "{}: {s} was sent but is not in the journal's changes (in order): {journaled:?}",
            case.script
        );
    }
    (dry, real)
}

/// The second half after a move made by hand (17.3.1.1 and `ldm migrate-domain` typed on
/// the control domain, as the simulator page shows): the plan of `ldoms/post-migration` is
/// the real run's, with its exit code.
#[test]
fn post_migration_after_a_move_made_by_hand_plans_what_the_real_run_does() {
    let site = Site::new(None);
    site.exec_ok(
        "cd2",
        &["/etc/opt/FJSVcluster/bin/clovmmigrate", "-p", "guest2"],
    );
    site.exec_ok("cd2", &["ldm", "migrate-domain", "guest2", "cd3"]);
    let case = Case {
        script: "ldoms/post-migration",
        scenario: "ldoms",
        setup: &[],
        params: &["guest=guest2"],
        extra: NONE,
    };
    let (dry, real) = dry_then_real_on(&site, &case);
    assert_eq!(real.code, 0, "{}", real.dump());
    assert_eq!(
        real.changes(),
        ["cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd3"]
    );
    assert_eq!(dry.code, real.code, "{}", dry.dump());
    assert_eq!(dry.changes(), real.changes(), "{}", dry.dump());
}

#[test]
fn every_shipped_procedure_is_covered() {
    let names = shipped();
    assert!(names.len() >= 18, "{names:?}");
    for n in &names {
        assert!(
            CASES.iter().any(|c| c.script == n),
            "shipped procedure {n} has no dry-run case in tests/dryrun.rs"
        );
    }
}

#[test]
fn dry_run_lists_exactly_the_changes_the_real_run_sends() {
    let mut failures = Vec::new();
    let mut with_changes = 0;
    for case in CASES {
        let (dry, real) = dry_then_real(case);
        let label = format!("{} on {} {:?}", case.script, case.scenario, case.params);
        // The header says dry run; no lock was taken or refused.
        let header = dry.of("run");
        if header.first().map(|h| h["dry_run"] == true) != Some(true) {
            failures.push(format!("{label}: header is not dry_run: {}", dry.dump()));
        }
        if !dry.of("lock").is_empty() {
            failures.push(format!("{label}: the dry run took a lock: {}", dry.dump()));
        }
        let plan = dry.of("plan");
        if plan.len() != 1 {
            failures.push(format!("{label}: no plan line: {}", dry.dump()));
        }
        if dry.changes() != real.changes() {
            failures.push(format!(
                "{label}: plan {:?}\n   real {:?}",
                dry.changes(),
                real.changes()
            ));
        }
        if let Some(p) = plan.first() {
            let planned: Vec<String> = p["entries"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .filter(|e| e["kind"] == "change")
                .map(|e| {
                    format!(
                        "{}: {}",
                        e["host"].as_str().unwrap_or(""),
                        e["command"].as_str().unwrap_or("")
                    )
                })
                .collect();
            if planned != real.changes() {
                failures.push(format!("{label}: plan entries {planned:?}"));
            }
        }
        if dry.code != real.code {
            failures.push(format!(
                "{label}: dry run exit {} but real run exit {}\n{}\n{}",
                dry.code,
                real.code,
                dry.dump(),
                real.dump()
            ));
        }
        let result = dry.of("result");
        if result.first().map(|r| r["changed"] == false) != Some(true) {
            failures.push(format!("{label}: result says changed: {}", dry.dump()));
        }
        if !real.changes().is_empty() {
            with_changes += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // The cases exercise real plans, not only read-only procedures.
    assert!(with_changes >= 15, "{with_changes}");
}

#[test]
fn a_failing_precondition_exits_3_and_names_it() {
    for (script, scenario, params, words) in [
        (
            "ldoms/live-migration",
            "ldoms/unhealthy-cluster",
            &["guest=guest2", "target=cd3"][..],
            "cfguest2 LEFTCLUSTER",
        ),
        (
            "hpvm/move-package",
            "hpvm/nfs-backing-store",
            &["package=slvm1", "target=node2"][..],
            "NFS",
        ),
    ] {
        let site = Site::new(Some(scenario));
        let before = state_bytes(&site);
        let mut args = vec!["run", script, "--sim", "--sim-state"];
        let state = site.state.to_str().expect("utf8").to_string();
        args.push(&state);
        for p in params {
            args.extend(["-p", p]);
        }
        args.push("--dry-run");
        let out = hascript(&args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{scenario}: {stdout}\n{stderr}");
        let verdict = stderr
            .lines()
            .find(|l| l.starts_with("precondition fails: "))
            .unwrap_or_else(|| panic!("{scenario}: no verdict line: {stderr}"));
        assert!(verdict.contains(words), "{scenario}: {verdict}");
        assert!(stdout.contains("(no change command)"), "{stdout}");
        assert_eq!(state_bytes(&site), before);
    }
}

#[test]
fn the_human_plan_is_numbered_with_sections_hosts_waits_and_questions() {
    let site = Site::new(Some("ldoms/migration-aborted-guest-stopped"));
    let state = site.state.to_str().expect("utf8").to_string();
    let out = hascript(&[
        "run",
        "ldoms/live-migration",
        "--sim",
        "--sim-state",
        &state,
        "-p",
        "guest=guest2",
        "-p",
        "target=cd3",
        "--dry-run",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // On the copy the migration fails and the bracket recovers: the real run's exit 1.
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("DRY RUN"), "{stdout}");
    let plan: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("Dry-run plan"))
        .skip(1)
        .collect();
    assert_eq!(
        plan.first().copied(),
        Some("  1. [17.3.1.1] cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -p guest2"),
        "{stdout}"
    );
    assert!(
        plan.contains(&"  3. [17.3.1.1 note, step 2] cd2: /usr/sbin/ldm start-domain guest2"),
        "{plan:?}"
    );
    assert!(
        plan.iter()
            .any(|l| l.starts_with("       wait: cfguest2 DOWN") && l.contains("deadline 900 s")),
        "{plan:?}"
    );
    assert!(
        stderr.contains("plan complete: 4 change commands"),
        "{stderr}"
    );
    assert!(stderr.contains("ends with exit 1 (failed)"), "{stderr}");

    // Questions are answered (as --yes would) and listed.
    let site = Site::new(Some("hpvm"));
    let state = site.state.to_str().expect("utf8").to_string();
    let out = hascript(&[
        "run",
        "hpvm/remove-package",
        "--sim",
        "--sim-state",
        &state,
        "-p",
        "package=slvm1",
        "--dry-run",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("       asks: ") && l.contains("answered yes in the dry run")),
        "{stdout}"
    );
    assert!(
        stdout.contains("plan complete: 2 change commands"),
        "{stdout}"
    );
}

#[test]
fn a_dry_run_is_journaled_as_one() {
    let site = Site::new(Some("ldoms"));
    let r = run_json(
        &site,
        "ldoms/pre-migration",
        &["guest=guest2", "target=cd3"],
        &["--dry-run"],
    );
    assert_eq!(r.code, 0, "{}", r.dump());
    let id = r.events[0]["run"].as_str().expect("run id").to_string();
    let out = hascript(&["journal", "show", &id]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("dry run: against a simulated copy"), "{text}");
    assert!(text.contains("dry-run plan (complete)"), "{text}");
    assert!(
        text.contains("1. cd2: /etc/opt/FJSVcluster/bin/clovmmigrate -p guest2"),
        "{text}"
    );
}
