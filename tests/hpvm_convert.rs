//! B3, converting an old Integrity VM toolkit package: the sequences of
//! `scripts/hpvm/convert-package.rhai` over the driver's operations (moved here from the
//! driver crate's tests when the sequence became a script; the assertions are theirs).

mod sim_support;

use serde_json::Value;
use sim_support::{run_json, Site};

/// The changes the simulated hosts received, without the backup's `cp -p`/`mkdir` and
/// hascript's own lock.
fn changes_but_backup(site: &Site) -> Vec<String> {
    site.log()
        .into_iter()
        .filter(|l| sim_support::is_change(l))
        .filter(|l| !l.contains("cp -p") && !l.contains("mkdir"))
        .collect()
}

/// The warnings and information lines of a run.
fn said(r: &sim_support::JsonRun, kind: &str) -> String {
    r.of(kind)
        .iter()
        .filter_map(|e| e["message"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn offline_conversion_deploys_before_the_halt_and_returns_custom_services() {
    let site = Site::new(Some("hpvm/old-toolkit-package"));
    let r = run_json(
        &site,
        "hpvm/convert-package",
        &["package=slvm1", "mode=offline"],
        &["--yes"],
    );
    assert_eq!(r.code, 0, "{}", r.dump());
    // The old package's custom service is named (not carried over by cmdeployvpkg).
    assert!(
        said(&r, "warn").contains("not carried over by the conversion: slvm1_ping"),
        "{}",
        r.dump()
    );
    let c = changes_but_backup(&site);
    // The custom service put back (--yes) is a write of the package file and a second
    // cmapplyconf after the conversion proper.
    assert_eq!(
        c[..5],
        [
            "node1: /etc/cmcluster/scripts/tkit/vtn/cmdeployvpkg -Q -P slvm1 -n node1 -n node2",
            "node1: /usr/sbin/cmhaltpkg slvm1",
            "node1: /usr/sbin/cmapplyconf -P /etc/cmcluster/slvm1/slvm1.conf",
            "node1: /usr/sbin/cmrunpkg -n node1 slvm1",
            "node1: /usr/sbin/cmmodpkg -e slvm1",
        ],
        "{c:#?}"
    );
    let view = site.exec("node1", &["/usr/sbin/cmviewcl", "-v", "-f", "line"]);
    let view = String::from_utf8_lossy(&view.stdout).into_owned();
    assert!(view.contains("package:slvm1|autorun=enabled"), "{view}");
    // Converting again: nothing to do.
    let again = run_json(
        &site,
        "hpvm/convert-package",
        &["package=slvm1", "mode=offline"],
        &["--yes"],
    );
    assert_eq!(again.code, 0, "{}", again.dump());
    assert!(
        said(&again, "info").contains("nothing to convert"),
        "{}",
        again.dump()
    );
    assert_eq!(
        again.of("result")[0]["changed"],
        Value::Bool(false),
        "{}",
        again.dump()
    );
}

#[test]
fn online_conversion_ends_on_the_target_with_switching() {
    let site = Site::new(Some("hpvm/old-toolkit-package"));
    let r = run_json(
        &site,
        "hpvm/convert-package",
        &["package=slvm1", "mode=online", "target=node2"],
        &["--yes"],
    );
    assert_eq!(r.code, 0, "{}", r.dump());
    assert!(
        said(&r, "warn").contains("1 custom service(s) of the old package"),
        "{}",
        r.dump()
    );
    let view = site.exec("node1", &["/usr/sbin/cmviewcl", "-v", "-f", "line"]);
    let view = String::from_utf8_lossy(&view.stdout).into_owned();
    assert!(view.contains("package:slvm1|owner=node2"), "{view}");
    assert!(view.contains("package:slvm1|autorun=enabled"), "{view}");
    let c = changes_but_backup(&site);
    assert!(
        c.iter()
            .any(|l| l
                == "node1: /etc/cmcluster/scripts/tkit/vtn/cmdeployvpkg -Q -C -P slvm1 -h node2"),
        "{c:?}"
    );
    // Losing a node needs a confirmation, asked before anything changes (no terminal, no
    // --yes: declined, exit 5).
    let site = Site::new(Some("hpvm/old-toolkit-package"));
    let r = run_json(
        &site,
        "hpvm/convert-package",
        &["package=slvm1", "mode=online", "target=node2", "node=node2"],
        &[],
    );
    assert_eq!(r.code, 5, "{}", r.dump());
    assert!(changes_but_backup(&site).is_empty());
    assert!(!site.log().iter().any(|l| sim_support::is_change(l)));
}

/// The operation keeps its rule whatever the script does: `cmdeployvpkg -C` is refused
/// until the package directory was backed up (a site's copy that drops the backup step).
#[test]
fn convert_online_is_refused_without_a_backup() {
    let site = Site::new(Some("hpvm/old-toolkit-package"));
    let r = run_json(
        &site,
        "hpvm/convert-package",
        &["package=slvm1", "mode=online", "target=node2"],
        &[],
    );
    // Without --yes the run stops at the confirmation: nothing sent.
    assert_eq!(r.code, 5, "{}", r.dump());
    let script = site._dir.path().join("no-backup.rhai");
    std::fs::write(&script, "package.convert_online(\"slvm1\", \"node2\");\n").expect("write");
    let r = site.run(script.to_str().expect("utf8"), &[], &["--yes"]);
    assert_eq!(r.code, 3, "{}", r.dump());
    assert!(r.stderr.contains(".backup does not exist"), "{}", r.dump());
    assert!(
        !r.log.iter().any(|l| l.contains("cmdeployvpkg")),
        "{}",
        r.dump()
    );
}
