//! Tests of the package configuration file document (`hascript_hpvm::pkgconf`).
//!
//! Fixtures in `tests/fixtures/package-conf/`:
//! - `appendix_a.conf`: Appendix A of the SG IVS toolkit guide (seed 004, "HP Integrity VM
//!   ゲストパッケージ用のパッケージ構成ファイルの例") as a real file. The PDF text lists keys and
//!   values apart (all `module_name` lines, then all `module_version` lines, then the values);
//!   each value was put back after its key as `key value`, in the order the values appear
//!   (module pairs sg/basic, tkit/vtn/vtn, sg/priority, sg/failover, sg/external, sg/service,
//!   sg/monitor_subnet, all version 1). The seven `#` lines of the header are joined to the
//!   star lines they precede, as `cmmakepkg` writes them; `#VM Service` and `#Guest
//!   Application Monitor` are kept; the page-break artefacts (`34`, the page title, `~`) are
//!   dropped; the ping_mon `service_cmd` is quoted (it has spaces; the PDF lost the quotes).
//! - `appendix_a_crlf.conf`: the same with CRLF line ends.
//! - `aligned_tabs_no_final_newline.conf`: tab and aligned separators, indentation, an empty
//!   quoted value, a key without value, no newline at the end (tolerance).
//! - `unclosed_quote.conf`, `not_key_value.conf`, `two_toolkits.conf`: refusals and ambiguity.

use std::path::Path;

use hascript_hpvm::appmon::{AppMonitor, MonitorClash};
use hascript_hpvm::pkgconf::{PackageConf, PkgConfError, ServiceBlock};

fn fx(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn appendix() -> String {
    fx("package-conf/appendix_a.conf")
}

/// Lines with their 1-based numbers.
type NumberedLines = Vec<(usize, String)>;

/// A line diff (longest common subsequence): `(removed, added)` lines, each with its 1-based
/// line number in the old or new text.
fn diff(old: &str, new: &str) -> (NumberedLines, NumberedLines) {
    let a: Vec<&str> = old.split_inclusive('\n').collect();
    let b: Vec<&str> = new.split_inclusive('\n').collect();
    let (n, m) = (a.len(), b.len());
    let mut l = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            l[i][j] = if a[i] == b[j] {
                l[i + 1][j + 1] + 1
            } else {
                l[i + 1][j].max(l[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let (mut removed, mut added) = (Vec::new(), Vec::new());
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            i += 1;
            j += 1;
        } else if j < m && (i == n || l[i][j + 1] >= l[i + 1][j]) {
            added.push((j + 1, b[j].to_string()));
            j += 1;
        } else {
            removed.push((i + 1, a[i].to_string()));
            i += 1;
        }
    }
    (removed, added)
}

#[test]
fn unedited_documents_round_trip_byte_for_byte() {
    for name in [
        "package-conf/appendix_a.conf",
        "package-conf/appendix_a_crlf.conf",
        "package-conf/aligned_tabs_no_final_newline.conf",
        "package-conf/two_toolkits.conf",
    ] {
        let text = fx(name);
        let doc = PackageConf::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(doc.to_text(), text, "{name}");
    }
    assert!(fx("package-conf/appendix_a_crlf.conf").contains("\r\n"));
    assert_eq!(PackageConf::parse("").unwrap().to_text(), "");
}

#[test]
fn appendix_a_queries() {
    let doc = PackageConf::parse(&appendix()).unwrap();
    assert_eq!(doc.package_name(), Some("slvm1"));
    assert_eq!(doc.get("package_description"), Some("Serviceguard Package"));
    assert_eq!(doc.node_names(), ["node1", "node2"]);
    let modules: Vec<(String, String)> = doc.modules();
    let names: Vec<&str> = modules.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "sg/basic",
            "tkit/vtn/vtn",
            "sg/priority",
            "sg/failover",
            "sg/external",
            "sg/service",
            "sg/monitor_subnet"
        ]
    );
    assert!(modules.iter().all(|(_, v)| v == "1"));
    assert_eq!(doc.get("TKIT_DIR"), Some("/etc/cmcluster/slvm1"));
    assert_eq!(doc.get("MAINTENANCE_FLAG"), Some("yes"));
    assert_eq!(doc.get("tkit/vtn/vtn/MONITOR_INTERVAL"), Some("30"));
    assert_eq!(doc.get("dependency_condition"), Some("hpvm_slvm = up"));
    assert_eq!(
        doc.get("script_log_file"),
        Some("$SGRUN/log/$SG_PACKAGE.log")
    );
    assert_eq!(doc.get_all("operation_sequence").len(), 3);
    assert_eq!(doc.get("no_such_key"), None);
    assert_eq!(
        doc.get("vtn/TKIT_DIR"),
        None,
        "a partial namespace is not a key"
    );
    let entries = doc.entries();
    assert_eq!(entries.len(), 49);
    assert_eq!(entries[0], ("package_name", "slvm1"));
    assert_eq!(entries[2], ("module_name", "sg/basic"));
    let services = doc.services();
    assert_eq!(services.len(), 2);
    assert_eq!(
        services[0],
        ServiceBlock {
            name: "slvm1".into(),
            cmd: "$SGCONF/scripts/tkit/vtn/tkit_module.sh guest_monitor".into(),
            restart: Some("none".into()),
            fail_fast: Some("no".into()),
            halt_timeout: Some("300".into()),
            other: vec![],
        }
    );
    assert_eq!(services[1].name, "ping_mon");
    assert_eq!(
        services[1].cmd,
        "/usr/sbin/cmappmgr -node slvm1 -cmappserver_timeout 10 -service /apps/ping_mon"
    );
    assert_eq!(
        doc.service("ping_mon").map(|s| s.halt_timeout),
        Some(Some("300".to_string()))
    );
}

#[test]
fn appendix_a_edits_change_only_the_edited_lines() {
    let text = appendix();
    let mut doc = PackageConf::parse(&text).unwrap();
    doc.set("MONITOR_INTERVAL", "60").unwrap();
    doc.add("node_name", "node3").unwrap();
    let m = AppMonitor::parse("xclock:/usr/bin/X11/xclock -display 16.213.12.70:0.0:240:3:300")
        .unwrap();
    doc.add_service(&m.service_block("slvm1")).unwrap();
    doc.remove_service("ping_mon").unwrap();
    let out = doc.to_text();
    let (removed, added) = diff(&text, &out);
    // The new block takes the removed block's place; its last two lines equal the removed
    // block's (`service_fail_fast_enabled no`, `service_halt_timeout 300`), so the line diff
    // pairs them and shows neither as changed.
    assert_eq!(
        removed,
        vec![
            (45, "tkit/vtn/vtn/MONITOR_INTERVAL 30\n".to_string()),
            (56, "service_name ping_mon\n".to_string()),
            (57, "service_cmd \"/usr/sbin/cmappmgr -node slvm1 -cmappserver_timeout 10 -service /apps/ping_mon\"\n".to_string()),
            (58, "service_restart none\n".to_string()),
        ]
    );
    assert_eq!(
        added,
        vec![
            (28, "node_name node3\n".to_string()),
            (46, "tkit/vtn/vtn/MONITOR_INTERVAL 60\n".to_string()),
            (57, "service_name slvm1-xclock\n".to_string()),
            (58, "service_cmd \"/usr/sbin/cmappmgr -node slvm1 -cmappserver_timeout 240 -service /usr/bin/X11/xclock -display 16.213.12.70:0.0\"\n".to_string()),
            (59, "service_restart 3\n".to_string()),
        ]
    );
    assert_eq!(out.lines().count(), text.lines().count() + 1);
    // the result reads back
    let back = PackageConf::parse(&out).unwrap();
    assert_eq!(back.node_names(), ["node1", "node2", "node3"]);
    assert_eq!(back.get("MONITOR_INTERVAL"), Some("60"));
    let names: Vec<String> = back.services().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["slvm1", "slvm1-xclock"]);
    assert!(
        out.contains("#Guest Application Monitor\n"),
        "comments are kept"
    );
}

#[test]
fn set_all_replaces_in_place_and_keeps_position() {
    let text = appendix();
    let mut doc = PackageConf::parse(&text).unwrap();
    doc.set_all("node_name", &["node2", "node3", "node4"])
        .unwrap();
    let out = doc.to_text();
    assert!(out.contains("package_type failover\nnode_name node2\nnode_name node3\nnode_name node4\nauto_run yes\n"), "{out}");
    doc.set_all("node_name", &["node5"]).unwrap();
    assert!(doc
        .to_text()
        .contains("package_type failover\nnode_name node5\nauto_run yes\n"));
    // a refused value changes nothing
    let before = doc.to_text();
    assert!(doc.set_all("node_name", &["ok", "bad\"quote"]).is_err());
    assert_eq!(doc.to_text(), before);
}

#[test]
fn set_adds_missing_keys_in_their_namespace_or_at_the_end() {
    let mut doc = PackageConf::parse(&appendix()).unwrap();
    doc.set("tkit/vtn/vtn/NEW_ATTR", "1").unwrap();
    doc.set("vg", "vg_slvm1").unwrap();
    let out = doc.to_text();
    assert!(
        out.contains(
            "tkit/vtn/vtn/MONITOR_INTERVAL 30\ntkit/vtn/vtn/NEW_ATTR 1\npriority no_priority\n"
        ),
        "{out}"
    );
    assert!(
        out.ends_with("service_halt_timeout 300\nvg vg_slvm1\n"),
        "{out}"
    );
    doc.set("package_description", "").unwrap();
    assert!(doc.to_text().contains("package_description \"\"\n"));
    doc.set("package_description", "two words").unwrap();
    assert!(doc
        .to_text()
        .contains("package_description \"two words\"\n"));
    assert_eq!(doc.get("package_description"), Some("two words"));
}

#[test]
fn remove_and_remove_value() {
    let mut doc = PackageConf::parse(&appendix()).unwrap();
    assert_eq!(
        doc.remove_value("operation_sequence", "$SGCONF/scripts/sg/external.sh")
            .unwrap(),
        1
    );
    assert_eq!(doc.get_all("operation_sequence").len(), 2);
    assert_eq!(doc.remove("node_name").unwrap(), 2);
    assert!(doc.node_names().is_empty());
    assert_eq!(doc.remove("no_such_key").unwrap(), 0);
    assert_eq!(doc.remove("MAINTENANCE_FLAG").unwrap(), 1);
    assert_eq!(doc.get("tkit/vtn/vtn/MAINTENANCE_FLAG"), None);
    assert!(matches!(
        doc.remove_service("nope"),
        Err(PkgConfError::NoSuchService { .. })
    ));
}

#[test]
fn crlf_edits_keep_crlf() {
    let text = fx("package-conf/appendix_a_crlf.conf");
    let mut doc = PackageConf::parse(&text).unwrap();
    assert_eq!(doc.get("TKIT_DIR"), Some("/etc/cmcluster/slvm1"));
    doc.set("MONITOR_INTERVAL", "45").unwrap();
    doc.add("node_name", "node3").unwrap();
    doc.add_service(
        &AppMonitor::parse("a:/x:10:none:300")
            .unwrap()
            .service_block("slvm1"),
    )
    .unwrap();
    let out = doc.to_text();
    assert!(
        !out.replace("\r\n", "").contains('\n'),
        "a bare LF slipped in"
    );
    assert!(out.contains("tkit/vtn/vtn/MONITOR_INTERVAL 45\r\n"));
    assert!(out.contains("node_name node2\r\nnode_name node3\r\n"));
    assert!(out.ends_with("service_name slvm1-a\r\nservice_cmd \"/usr/sbin/cmappmgr -node slvm1 -cmappserver_timeout 10 -service /x\"\r\nservice_restart none\r\nservice_fail_fast_enabled no\r\nservice_halt_timeout 300\r\n"), "{out}");
}

#[test]
fn aligned_style_and_no_final_newline() {
    let text = fx("package-conf/aligned_tabs_no_final_newline.conf");
    assert!(!text.ends_with('\n'));
    let mut doc = PackageConf::parse(&text).unwrap();
    assert_eq!(doc.get("empty_value"), Some(""));
    assert_eq!(doc.get("no_value"), Some(""));
    assert_eq!(doc.node_names(), ["node1"]);
    assert_eq!(doc.get("service_cmd"), Some("/etc/cmcluster/slvm2/x a"));
    doc.set("package_name", "slvm3").unwrap();
    assert!(doc.to_text().starts_with("package_name\t\tslvm3\n"));
    doc.add("node_name", "node2").unwrap();
    assert!(
        doc.to_text()
            .contains("    node_name       node1\n    node_name       node2\n"),
        "{}",
        doc.to_text()
    );
    doc.add_service(&ServiceBlock {
        name: "svc2".into(),
        cmd: "/bin/true".into(),
        restart: None,
        fail_fast: None,
        halt_timeout: Some("10".into()),
        other: vec![],
    })
    .unwrap();
    let out = doc.to_text();
    assert!(
        out.contains("service_restart unlimited\nservice_name    svc2\nservice_cmd     /bin/true\nservice_halt_timeout 10\n"),
        "{out}"
    );
    doc.set("last_key", "v").unwrap();
    let out = doc.to_text();
    assert!(out.ends_with("no_value\nlast_key        v"), "{out:?}");
}

#[test]
fn ambiguous_short_key() {
    let mut doc = PackageConf::parse(&fx("package-conf/two_toolkits.conf")).unwrap();
    assert_eq!(doc.get("TKIT_DIR"), None);
    let e = doc.resolve_key("TKIT_DIR").unwrap_err();
    assert!(
        matches!(e, PkgConfError::AmbiguousKey { ref candidates, .. } if candidates.len() == 2)
    );
    assert!(
        e.to_string()
            .contains("tkit/vtn/vtn/TKIT_DIR, tkit/other/other/TKIT_DIR"),
        "{e}"
    );
    assert!(doc.set("TKIT_DIR", "/x").is_err());
    assert_eq!(
        doc.get("tkit/other/other/TKIT_DIR"),
        Some("/etc/cmcluster/other")
    );
}

#[test]
fn refusals() {
    let e = PackageConf::parse(&fx("package-conf/unclosed_quote.conf")).unwrap_err();
    assert_eq!(e.line(), 3);
    assert!(
        e.to_string().starts_with(
            "package configuration file: line 3: the value of service_cmd opens a double quote"
        ),
        "{e}"
    );
    let e = PackageConf::parse(&fx("package-conf/not_key_value.conf")).unwrap_err();
    assert_eq!(e.line(), 3);
    assert!(e.to_string().contains("expected `key value`"), "{e}");
    let e = PackageConf::parse(&fx("legacy-control/control_script.txt")).unwrap_err();
    assert!(
        matches!(e, PkgConfError::LegacyFormat { line: 8, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("legacy-format package"), "{e}");
    assert!(e.to_string().contains("legacy-control"), "{e}");

    let mut doc = PackageConf::parse(&appendix()).unwrap();
    let before = doc.to_text();
    let e = doc.set("package_description", "say \"hi\"").unwrap_err();
    assert!(e.to_string().contains("double quote"), "{e}");
    let e = doc.set("package_description", "a\nb").unwrap_err();
    assert!(e.to_string().contains("line break"), "{e}");
    assert!(matches!(
        doc.set("bad key", "x"),
        Err(PkgConfError::InvalidKey { .. })
    ));
    assert!(matches!(
        doc.add("9lives", "x"),
        Err(PkgConfError::InvalidKey { .. })
    ));
    let dup = ServiceBlock {
        name: "ping_mon".into(),
        cmd: "/x".into(),
        ..ServiceBlock::default()
    };
    assert!(matches!(
        doc.add_service(&dup),
        Err(PkgConfError::DuplicateService { .. })
    ));
    let bad = ServiceBlock {
        name: "bad name".into(),
        cmd: "/x".into(),
        ..ServiceBlock::default()
    };
    assert!(doc
        .add_service(&bad)
        .unwrap_err()
        .to_string()
        .contains("invalid service name"));
    let empty = ServiceBlock {
        name: "ok".into(),
        cmd: " ".into(),
        ..ServiceBlock::default()
    };
    assert!(doc
        .add_service(&empty)
        .unwrap_err()
        .to_string()
        .contains("empty"));
    assert_eq!(doc.to_text(), before, "refused edits change nothing");
}

#[test]
fn add_service_refuses_a_monitor_duplicating_appendix_a_ping_mon() {
    // Appendix A: cmdeployvpkg wrote `service_name ping_mon`; by hand the same monitor would
    // be `slvm1-ping_mon`, and another name sending `/apps/ping_mon` to slvm1 is the same
    // guest command.
    let mut doc = PackageConf::parse(&appendix()).unwrap();
    let before = doc.to_text();
    let by_hand = AppMonitor::parse("ping_mon:/apps/other_mon:10:none:300")
        .unwrap()
        .service_block("slvm1");
    assert_eq!(by_hand.name, "slvm1-ping_mon");
    let e = doc.add_service(&by_hand).unwrap_err();
    assert!(
        matches!(
            &e,
            PkgConfError::DuplicateMonitor(MonitorClash::Name { existing, .. }) if existing == "ping_mon"
        ),
        "{e:?}"
    );
    let same_cmd = AppMonitor::parse("pinger:/apps/ping_mon:240:2:300")
        .unwrap()
        .service_block("slvm1");
    let e = doc.add_service(&same_cmd).unwrap_err();
    assert!(
        matches!(
            &e,
            PkgConfError::DuplicateMonitor(MonitorClash::Command { existing, .. }) if existing == "ping_mon"
        ),
        "{e:?}"
    );
    assert_eq!(doc.to_text(), before, "a refused service changed the file");
    // A new monitor with a new name and command is added.
    let fine = AppMonitor::parse("xclock:/usr/bin/X11/xclock -display 16.213.12.70:0.0:240:3:300")
        .unwrap()
        .service_block("slvm1");
    doc.add_service(&fine).unwrap();
    assert!(doc.service("slvm1-xclock").is_some());
}

/// Appendix A as printed: the monitor's `service_cmd` and the `dependency_condition` have
/// no quotes (cmdeployvpkg writes them so); both read as the whole rest of the line, and a
/// quoted command reads the same.
#[test]
fn unquoted_service_cmd_and_dependency_condition_read_whole() {
    let cmd = "/usr/sbin/cmappmgr -node slvm1 -cmappserver_timeout 10 -service /apps/ping_mon";
    for line in [
        format!("service_cmd {cmd}"),
        format!("service_cmd \"{cmd}\""),
    ] {
        let text = format!(
            "package_name slvm1\ndependency_name hpvm_slvm\ndependency_condition hpvm_slvm = up\ndependency_location same_node\nservice_name ping_mon\n{line}\nservice_restart none\n"
        );
        let doc = PackageConf::parse(&text).expect("parses");
        assert_eq!(doc.get("dependency_condition"), Some("hpvm_slvm = up"));
        let s = doc.service("ping_mon").expect("service");
        assert_eq!(s.cmd, cmd);
        assert_eq!(doc.to_text(), text);
    }
}
