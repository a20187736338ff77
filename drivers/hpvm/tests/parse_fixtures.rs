//! Fixture tests of the Serviceguard / Integrity VM parsers (`hascript_hpvm::parse`) and of
//! the application-monitor specification (`hascript_hpvm::appmon`).
//!
//! Each case is data: `tests/fixtures/<command>/<case>.txt` beside `<case>.json` (the parse,
//! pretty JSON) or `<case>.err` (the error text), all compared by `check()`; add a case by
//! adding a file and running `UPDATE_EXPECT=1 cargo test --test parse_fixtures check`, then
//! review the new `.json`. The other tests hold what the JSON cannot show.
//!
//! Sources of the fixtures in `tests/fixtures/<command>/`:
//! - `hpvmstatus-p/manual_transcript_slvm1.txt`: the `[Virtual Machine Details]`,
//!   `[Storage Interface Details]` and `[Network Interface Details]` tables of the
//!   `cmdeployvpkg -P slvm1 -x merge -x appmon` transcript in the SG IVS toolkit guide
//!   (seed 004, §5 "アプリケーション監視サービスの構成例"). The PDF text scatters the rows one
//!   value per line; the values were put back under their `====` rules (numbers right-aligned
//!   as Integrity VM prints them, `Physical` over `Storage`). The headers, rules and values
//!   are the manual's.
//! - `log-scan/manual_syslog.txt`: the three `cmappmgr[5654]` lines of the guide's §7
//!   troubleshooting table, verbatim (each re-joined onto one line), among other lines.
//! - `log-scan/package_log.txt`, `log-scan/cmapplyconf_permissions.txt`,
//!   `cmcheckconf/permissions_two_nodes.txt`: the §7 messages verbatim (`WARNING: Maintenance
//!   mode is enabled for the package`, `Disable the maintenance mode to start service
//!   monitoring`, `Service monitor detected a failure in guest <vm_name>.`, `Incorrect
//!   permissions for /etc/cmcluster/hpvm-sg1-g4 (40777). …`) inside the package-log line
//!   layout of book/src/driver-hpvm.md (assumed).
//! - `cmcheckconf/check_ok.txt`, `cmcheckconf/apply_ok_running.txt`: verbatim from the
//!   transcript (cmcheckconf verdict, cmapplyconf prompt and `Completed the cluster update`).
//! - `legacy-control/manual_apache.txt`: the guide's legacy-format example (§5) with the PDF's
//!   typographic dashes and quotes turned back into ASCII and the whole SERVICE_CMD value
//!   quoted (as printed, unquoted with spaces, it is not valid shell).
//!   `legacy-control/control_script.txt`: the layout of the Serviceguard legacy control
//!   script template (`VG[0]=`, `SERVICE_NAME[0]=` … arrays, shell functions).
//! - `vgdisplay/*`: the HP-UX `vgdisplay` layout (`--- Volume groups ---`, `Label   value`
//!   lines; `VG Status  available, shared, server` for SLVM), as HP-UX 11i v3 prints it.
//! - `ls-l/*`, `df-n/*`, `swlist/*`: HP-UX long listing, `df -n` and SD-UX `swlist` layouts
//!   (comment lines starting with `#`, `ERROR:   Software "X" was not found on host …`).
//! - `cmviewcl-v-f-line/*`, `hpvmstatus/*`, the other `hpvmstatus-p/*`: written from
//!   book/src/driver-hpvm.md (the listing there; the summary layout is assumed), with
//!   tolerance variants (CRLF, indentation, extra columns and keys, unknown sections).
//! - `package-conf/*`: see tests/pkgconf.rs.

use std::path::Path;

use hascript_hpvm::appmon::{AppMonitor, ServiceRestart};
use hascript_hpvm::parse::cmviewcl_line::{
    self, MaxRestarts, NodeState, PackageState, Status, Switching,
};
use hascript_hpvm::parse::hpvmstatus::{self, GuestState, StorageKind};
use hascript_hpvm::parse::log_scan;
use hascript_hpvm::parse::ls_l::{self, FileType};
use hascript_hpvm::parse::{
    cmcheckconf, df_n, legacy_control, parse_kind, parse_kind_json, swlist, vgdisplay,
    ParseErrorKind, KINDS,
};

/// The text of `tests/fixtures/COMMAND/NAME`.
fn fx(command: &str, name: &str) -> String {
    hascript_testkit::fixtures::fixture(env!("CARGO_MANIFEST_DIR"), command, name)
}

/// Every case of `tests/fixtures/<command>/`: its `.txt` (`.conf` for package-conf) parsed
/// by the command's parser (the JSON of `hascript parse <command>`; `log_scan::scan` for
/// log-scan) equals its `.json`, or its error text its `.err`. `UPDATE_EXPECT=1` rewrites
/// them. The tests below keep only what the JSON cannot show (methods, derived fields).
#[test]
fn check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let cases = hascript_testkit::fixtures::check_fixtures(&root, &[], |command, text| {
        Some(match command {
            "log-scan" => {
                serde_json::to_string_pretty(&log_scan::scan(text)).map_err(|e| e.to_string())
            }
            kind => parse_kind_json(kind, text, true).map_err(|e| e.to_string()),
        })
    });
    assert!(cases >= 48, "{cases} cases");
}

fn crlf(command: &str, name: &str) -> String {
    let t = fx(command, name);
    assert!(
        t.contains("\r\n"),
        "{command}/{name} lost its CRLF line ends"
    );
    t
}

// ---------------------------------------------------------------- cmviewcl -v -f line
// Every field and the JSON of each case are pinned by its `.json`; these tests hold the
// typed accessors, the derived owner and the refusals' kinds.

#[test]
fn cmviewcl_site_default() {
    let v = cmviewcl_line::parse(&fx("cmviewcl-v-f-line", "site_default.txt")).unwrap();
    assert_eq!(v.cluster.status(), Status::Up);
    assert_eq!(v.nodes[1].state(), NodeState::Running);
    assert_eq!(v.node("node1").map(|n| n.attr("summary")), Some("ok"));
    let p = v.package("slvm1").unwrap();
    assert_eq!(p.status(), Status::Up);
    assert_eq!(p.state(), PackageState::Running);
    assert_eq!(p.autorun(), Switching::Enabled);
    assert_eq!(p.owner.as_deref(), Some("node1"));
    assert_eq!(p.attr("failover_policy"), "configured_node");
    assert_eq!(p.node("node2").unwrap().node_type, "alternate");
    assert!(p.node("node2").unwrap().switching().is_enabled());
    let s = p.service("slvm1").unwrap();
    assert_eq!(s.status(), Status::Up);
    assert_eq!(s.restarts(), Some(0));
    assert_eq!(s.max_restarts(), MaxRestarts::Times(0));
}

/// The compact JSON keeps the product's key order, like the pretty one of the `.json`.
#[test]
fn cmviewcl_json_mirrors_product() {
    let text = fx("cmviewcl-v-f-line", "site_default.txt");
    let s = parse_kind_json("cmviewcl-v-f-line", &text, false).unwrap();
    assert!(
        s.starts_with(r#"{"cluster":{"name":"cluster1","status":"up","summary":"ok"},"nodes":[{"name":"node1","status":"up""#),
        "{s}"
    );
    assert!(
        s.contains(r#"{"name":"slvm1","type":"failover","status":"up","state":"running""#),
        "{s}"
    );
}

#[test]
fn cmviewcl_crlf_indent_unknown_keys_owner_derived() {
    let text = crlf("cmviewcl-v-f-line", "no_owner_unknown_keys.txt");
    let v = cmviewcl_line::parse(&text).unwrap();
    assert_eq!(
        v.node("node1").unwrap().attr("interface:lan1|status"),
        "down"
    );
    assert_eq!(v.node("node2").unwrap().state(), NodeState::Halted);
    assert_eq!(v.node("node2").unwrap().status(), Status::Down);
    let p = v.package("slvm1").unwrap();
    // no owner key: the package node with status=up (not printed, so not in the `.json`)
    assert_eq!(p.owner.as_deref(), Some("node2"));
    assert_eq!(p.autorun(), Switching::Disabled);
    assert_eq!(p.node("node2").unwrap().switching(), Switching::Disabled);
    assert_eq!(p.attr("dependency:hpvm_slvm|condition"), "hpvm_slvm = up");
    let s = p.service("ping_mon").unwrap();
    assert_eq!(s.restarts(), Some(2));
    assert_eq!(s.max_restarts(), MaxRestarts::Unlimited);
}

#[test]
fn cmviewcl_halted_package_has_no_owner() {
    let v = cmviewcl_line::parse(&fx("cmviewcl-v-f-line", "package_halted.txt")).unwrap();
    let p = v.package("slvm2").unwrap();
    assert_eq!(p.state(), PackageState::Halted);
    assert_eq!(p.status(), Status::Down);
    // `owner=` printed empty: no owner, even though node1 is up
    assert_eq!(p.owner, None);
}

/// The real shape of a halted package: no `owner` key, and every member of its node list
/// `status=up` (the node's own status). No member is its owner; a running package beside it
/// with no `owner` key and two members up has no owner that can be told either.
#[test]
fn cmviewcl_halted_package_with_members_up_has_no_owner() {
    let v =
        cmviewcl_line::parse(&fx("cmviewcl-v-f-line", "package_halted_members_up.txt")).unwrap();
    let p = v.package("slvm1").unwrap();
    assert_eq!(p.state(), PackageState::Halted);
    assert_eq!(p.status(), Status::Down);
    assert!(p.nodes.iter().all(|n| n.status() == Status::Up));
    assert_eq!(p.owner, None);
    let running = v.package("slvm2").unwrap();
    assert_eq!(running.state(), PackageState::Running);
    assert_eq!(running.owner, None);
}

/// A stale `owner` printed on a halted package names no owner either.
#[test]
fn cmviewcl_halted_package_ignores_a_printed_owner() {
    let text = fx("cmviewcl-v-f-line", "package_halted_members_up.txt").replace(
        "package:slvm1|autorun=disabled\n",
        "package:slvm1|autorun=disabled\npackage:slvm1|owner=node1\n",
    );
    assert!(text.contains("package:slvm1|owner=node1"));
    let v = cmviewcl_line::parse(&text).unwrap();
    assert_eq!(v.package("slvm1").unwrap().owner, None);
}

#[test]
fn cmviewcl_unknown_words_kept() {
    let v = cmviewcl_line::parse(
        "name=c\nstatus=reforming\npackage:p|state=detached\npackage:p|autorun=\n",
    )
    .unwrap();
    assert_eq!(v.cluster.status(), Status::Other("reforming".into()));
    let p = v.package("p").unwrap();
    assert_eq!(p.state(), PackageState::Other("detached".into()));
    assert_eq!(p.autorun(), Switching::Other(String::new()));
    assert_eq!(p.name, "p");
}

/// The error texts (line 1, "Serviceguard A.11.19 or later is required") are the `.err`s.
#[test]
fn cmviewcl_old_release() {
    for name in ["old_release.txt", "old_release_bare.txt"] {
        let e = cmviewcl_line::parse(&fx("cmviewcl-v-f-line", name)).unwrap_err();
        assert!(e.is_old_release(), "{name}: {e}");
        assert_eq!(e.kind, ParseErrorKind::OldRelease);
        let e = parse_kind("cmviewcl-v-f-line", &fx("cmviewcl-v-f-line", name)).unwrap_err();
        assert!(e.is_old_release());
    }
    assert!(cmviewcl_line::is_old_release_answer(&fx(
        "cmviewcl-v-f-line",
        "old_release.txt"
    )));
    assert!(!cmviewcl_line::is_old_release_answer(&fx(
        "cmviewcl-v-f-line",
        "site_default.txt"
    )));
}

#[test]
fn cmviewcl_refusals() {
    let e = cmviewcl_line::parse(&fx("cmviewcl-v-f-line", "not_key_value.txt")).unwrap_err();
    assert!(!e.is_old_release());
}

// ---------------------------------------------------------------- hpvmstatus

#[test]
fn hpvmstatus_book_summary() {
    let rows = hpvmstatus::parse_summary(&fx("hpvmstatus", "book_summary.txt")).unwrap();
    assert_eq!(rows[0].state(), GuestState::OnOs);
    assert_eq!(rows[1].column("memory"), "2 GB");
    assert_eq!(rows[1].column("vcpus"), "1");
    assert_eq!(rows[1].column("nets"), "1");
    assert_eq!(rows[1].column("runsysid"), "0");
    let s = parse_kind_json("hpvmstatus", &fx("hpvmstatus", "book_summary.txt"), false).unwrap();
    assert!(s.starts_with(r#"[{"virtual_machine_name":"slvm1","vm":"8","os_type":"HPUX","state":"On (OS)","vcpus":"1""#), "{s}");
}

#[test]
fn hpvmstatus_extra_columns_long_name_crlf() {
    let rows =
        hpvmstatus::parse_summary(&fx("hpvmstatus", "not_runnable_long_name_crlf.txt")).unwrap();
    assert_eq!(rows[0].state(), GuestState::NotRunnable);
    assert_eq!(rows[0].column("type"), "SP");
    assert_eq!(rows[0].column("graceful"), "No");
    assert_eq!(rows[1].state(), GuestState::OnEfi);
    assert_eq!(rows[1].column("memory"), "16 GB");
    assert_eq!(rows[2].state(), GuestState::Off);
    assert_eq!(rows[2].column("memory"), "1024 MB");
    assert_eq!(rows[2].column("graceful"), "");
}

/// Refusals of texts that are not fixture cases of `hpvmstatus` (those are the `.err`s).
#[test]
fn hpvmstatus_refusals() {
    let e = hpvmstatus::parse_summary("").unwrap_err();
    assert_eq!(e.line, 0);
    let e = hpvmstatus::parse_summary(&fx("hpvmstatus-p", "unknown_guest_stderr.txt")).unwrap_err();
    assert_eq!(e.line, 1);
}

/// What the `.json` of both slvm1 layouts cannot show: the typed state and storage kind.
fn check_slvm1_details(d: &hpvmstatus::VmDetails) {
    assert_eq!(d.vm.state(), GuestState::OnOs);
    let s = &d.storage[0];
    assert_eq!(s.kind(), StorageKind::Disk);
    assert_eq!(s.volume_group(), None);
}

#[test]
fn hpvmstatus_p_manual_transcript() {
    let d = hpvmstatus::parse_details(&fx("hpvmstatus-p", "manual_transcript_slvm1.txt")).unwrap();
    check_slvm1_details(&d);
}

#[test]
fn hpvmstatus_p_book_layout() {
    let d = hpvmstatus::parse_details(&fx("hpvmstatus-p", "book_slvm1.txt")).unwrap();
    check_slvm1_details(&d);
}

#[test]
fn hpvmstatus_p_lv_file_null_unknown_sections_indented() {
    let d = hpvmstatus::parse_details(&fx("hpvmstatus-p", "slvm2_lv_more_sections.txt")).unwrap();
    assert_eq!(d.vm.state(), GuestState::NotRunnable);
    assert_eq!(d.vm.column("type"), "SP");
    assert_eq!(d.storage[0].kind(), StorageKind::Lv);
    assert_eq!(d.storage[0].volume_group(), Some("vg_slvm2"));
    assert_eq!(d.storage[1].kind(), StorageKind::File);
    assert_eq!(d.storage[2].kind(), StorageKind::Null);
    assert_eq!(
        StorageKind::from_word("vxvm"),
        StorageKind::Other("vxvm".into())
    );
}

#[test]
fn hpvmstatus_p_unknown_guest() {
    let text = fx("hpvmstatus-p", "unknown_guest_stderr.txt");
    assert_eq!(hpvmstatus::unknown_guest(&text), Some("slvm9".to_string()));
    assert_eq!(
        hpvmstatus::unknown_guest(&fx("hpvmstatus-p", "book_slvm1.txt")),
        None
    );
}

// ---------------------------------------------------------------- vgdisplay

#[test]
fn vgdisplay_shared() {
    let vgs = vgdisplay::parse(&fx("vgdisplay", "shared_server.txt")).unwrap();
    let vg = &vgs[0];
    assert_eq!(vg.short_name(), "vg_slvm2");
    assert!(vg.is_shared());
    assert!(vg.is_available());
}

#[test]
fn vgdisplay_plain_verbose_crlf_and_two_vgs() {
    let vgs = vgdisplay::parse(&fx("vgdisplay", "plain_verbose_crlf.txt")).unwrap();
    assert!(!vgs[0].is_shared());
    assert!(vgs[0].is_available());
    let vgs = vgdisplay::parse(&fx("vgdisplay", "client_two_vgs.txt")).unwrap();
    assert!(vgs[0].is_shared());
    assert!(!vgs[1].is_shared());
}

// ---------------------------------------------------------------- ls -l
// `perm` is not serialised (the `.json` has `octal`); the predicates are methods.

#[test]
fn ls_ld_directory_40777() {
    let e = ls_l::parse(&fx("ls-l", "ld_dir_40777.txt")).unwrap();
    assert_eq!(e[0].file_type, FileType::Directory);
    assert_eq!(e[0].perm, 0o777);
    assert!(e[0].group_or_other_writable());
    assert!(e[0].owner_executable());
    assert_eq!(e[0].size_bytes(), Some(96));
}

#[test]
fn ls_la_package_dir() {
    let e = ls_l::parse(&fx("ls-l", "la_package_dir.txt")).unwrap();
    assert!(!e[0].group_or_other_writable());
    assert_eq!(e[1].perm, 0o600);
    assert!(e[2].is_dir());
    assert_eq!(e[3].file_type, FileType::Symlink);
    assert_eq!(e[4].file_type, FileType::CharDevice);
    assert_eq!(e[5].perm, 0o4755);
}

#[test]
fn ls_missing() {
    let text = fx("ls-l", "missing_stderr.txt");
    assert_eq!(
        ls_l::missing(&text),
        Some("/etc/cmcluster/slvm9".to_string())
    );
    assert_eq!(ls_l::missing(&fx("ls-l", "ld_dir_40777.txt")), None);
}

// ---------------------------------------------------------------- cmcheckconf

#[test]
fn cmcheckconf_no_verdict() {
    let v = cmcheckconf::parse("");
    assert!(!v.ok, "no verdict line is not a success");
}

// ---------------------------------------------------------------- swlist

#[test]
fn swlist_installed() {
    let p = swlist::parse(&fx("swlist", "installed.txt")).unwrap();
    assert!(swlist::find(&p, "sg-ivs-toolkit").is_some());
    assert!(!swlist::not_found(&fx("swlist", "installed.txt")));
    let p = swlist::parse(&fx("swlist", "bundle_products.txt")).unwrap();
    assert_eq!(
        swlist::find(&p, "HPVM-ONLINE-MIGR").map(|x| x.revision.as_str()),
        Some("B.04.30")
    );
    assert!(swlist::find(&p, "T8718AC.HPVM-VMSGTK").is_some());
}

#[test]
fn swlist_not_found() {
    assert!(swlist::not_found(&fx("swlist", "not_found.txt")));
}

// ---------------------------------------------------------------- df -n

#[test]
fn df_n_nfs_and_others() {
    let d = df_n::parse(&fx("df-n", "nfs.txt")).unwrap();
    assert!(d[0].is_nfs());
    let d = df_n::parse(&fx("df-n", "several_crlf.txt")).unwrap();
    assert!(!d[0].is_nfs());
    assert!(d[2].is_nfs());
}

// ---------------------------------------------------------------- legacy control script

#[test]
fn legacy_manual_apache() {
    assert!(legacy_control::looks_legacy(&fx(
        "legacy-control",
        "manual_apache.txt"
    )));
}

#[test]
fn legacy_refusals() {
    let e = legacy_control::parse("# only a comment\n").unwrap_err();
    assert_eq!(e.line, 0);
}

// ---------------------------------------------------------------- log scan (B6)

#[test]
fn log_scan_manual_syslog() {
    let f = log_scan::scan(&fx("log-scan", "manual_syslog.txt"));
    assert!(f[0].kind.remedy(None).contains("DNS"));
    assert!(f[0].kind.remedy_ja().contains("DNS"));
}

#[test]
fn log_scan_package_log() {
    let f = log_scan::scan(&crlf("log-scan", "package_log.txt"));
    let kinds: Vec<&str> = f.iter().map(|x| x.kind.code()).collect();
    assert_eq!(
        kinds,
        [
            "maintenance_enabled",
            "monitoring_disabled",
            "guest_failure"
        ]
    );
    assert_eq!(f[0].kind.remedy(Some("slvm1")), "run `cmdeployvpkg -m 0 -P slvm1` to leave maintenance mode (while it is on and MAINTENANCE_FLAG is yes, a guest failure does not fail the package over)");
}

#[test]
fn log_scan_permissions() {
    let f = log_scan::scan(&fx("log-scan", "cmapplyconf_permissions.txt"));
    assert_eq!(
        f[0].kind.remedy(None),
        "run `chmod go-w /etc/cmcluster/hpvm-sg1-g4` on each cluster member"
    );
}

// ---------------------------------------------------------------- appmon

#[test]
fn appmon_manual_specs() {
    let m = AppMonitor::parse("app_mon:/application/directory/app-mon-script:10:1:300").unwrap();
    assert_eq!(
        m.to_spec(),
        "app_mon:/application/directory/app-mon-script:10:1:300"
    );
    let m = AppMonitor::parse("ping_mon:/apps/ping_mon:10:none:300").unwrap();
    assert_eq!(m.restart, ServiceRestart::None);
    assert_eq!(m.service_name("slvm1"), "slvm1-ping_mon");
    assert_eq!(
        m.service_cmd("slvm1"),
        "/usr/sbin/cmappmgr -node slvm1 -cmappserver_timeout 10 -service /apps/ping_mon"
    );
    let b = m.service_block("slvm1");
    assert_eq!(b.restart.as_deref(), Some("none"));
    assert_eq!(b.fail_fast.as_deref(), Some("no"));
    assert_eq!(b.halt_timeout.as_deref(), Some("300"));
    let m = AppMonitor::parse("xclock:/usr/bin/X11/xclock -display 16.213.12.70:0.0:240:3:300")
        .unwrap();
    assert_eq!(m.command, "/usr/bin/X11/xclock -display 16.213.12.70:0.0");
    assert_eq!(m.restart, ServiceRestart::Times(3));
    assert_eq!(m.service_name("mmpf121"), "mmpf121-xclock");
    assert_eq!(
        m.service_cmd("mmpf121"),
        "/usr/sbin/cmappmgr -node mmpf121 -cmappserver_timeout 240 -service /usr/bin/X11/xclock -display 16.213.12.70:0.0"
    );
    let m = AppMonitor::parse("appmon=mmpf121-x:/x:5:unlimited:30").unwrap();
    assert_eq!(m.service_name("mmpf121"), "mmpf121-x");
    assert_eq!(m.restart, ServiceRestart::Unlimited);
    assert_eq!(AppMonitor::parse(&m.to_spec()).unwrap(), m);
}

#[test]
fn appmon_refusals_name_the_field() {
    let cases = [
        (
            "a:/x:ten:1:300",
            "timeout",
            "appmon: field `timeout` must be a whole number of seconds, got `ten`",
        ),
        (
            "a:/x:0:1:300",
            "timeout",
            "appmon: field `timeout` must be a positive number of seconds, got `0`",
        ),
        (
            "a:/x:10:often:300",
            "restart",
            "appmon: field `restart` must be `none`, `unlimited` or a whole number, got `often`",
        ),
        (
            "a:/x:10:1:-5",
            "halt_timeout",
            "appmon: field `halt_timeout` must be a whole number of seconds, got `-5`",
        ),
        ("a: :10:1:300", "command", ""),
        ("-a:/x:10:1:300", "name", ""),
        ("a/b:/x:10:1:300", "name", ""),
        ("a:10:1:300", "spec", ""),
        ("nothing", "spec", ""),
        ("a:/x \"q\":10:1:300", "command", ""),
    ];
    for (spec, field, msg) in cases {
        let e = AppMonitor::parse(spec).unwrap_err();
        assert_eq!(e.field, field, "{spec}: {e}");
        if !msg.is_empty() {
            assert_eq!(e.to_string(), msg);
        }
    }
    let long = format!("{}:/x:10:1:300", "a".repeat(40));
    assert_eq!(AppMonitor::parse(&long).unwrap_err().field, "name");
}

// ---------------------------------------------------------------- kinds

#[test]
fn every_kind_is_dispatched() {
    let samples = [
        (
            "cmviewcl-v-f-line",
            fx("cmviewcl-v-f-line", "site_default.txt"),
        ),
        ("hpvmstatus", fx("hpvmstatus", "book_summary.txt")),
        ("hpvmstatus-p", fx("hpvmstatus-p", "book_slvm1.txt")),
        ("package-conf", fx("package-conf", "appendix_a.conf")),
        ("legacy-control", fx("legacy-control", "control_script.txt")),
        ("cmcheckconf", fx("cmcheckconf", "check_ok.txt")),
        ("vgdisplay", fx("vgdisplay", "shared_server.txt")),
        ("ls-l", fx("ls-l", "la_package_dir.txt")),
        ("swlist", fx("swlist", "installed.txt")),
        ("df-n", fx("df-n", "nfs.txt")),
    ];
    assert_eq!(samples.len(), KINDS.len());
    for (kind, text) in &samples {
        assert!(KINDS.iter().any(|(k, _)| k == kind), "{kind} not in KINDS");
        let v = parse_kind(kind, text).unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert!(!v.is_null());
        assert!(parse_kind_json(kind, text, true).is_ok());
    }
    let e = parse_kind("package-conf", &fx("legacy-control", "manual_apache.txt")).unwrap_err();
    assert_eq!(e.line, 1);
    assert!(e.message.contains("legacy-format package"), "{e}");
}

/// Issue 13, defects 5 and 7: the vswitch warning of two toolkits (§1) is recognised with
/// its fields and its line's time stamp (the `.json`s of log-scan/vswitch_syslog and
/// package_log); here its code and remedies, and a line without a stamp.
#[test]
fn log_scan_vswitch_warning_and_time_stamps() {
    let f = log_scan::scan(&fx("log-scan", "vswitch_syslog.txt"));
    assert_eq!(f[0].kind.code(), "vswitch_ip_mismatch");
    assert!(f[0]
        .kind
        .remedy(Some("slvm1"))
        .contains("hpvm/convert-package"));
    assert!(f[0].kind.remedy_ja().contains("変換"));
    // A line without a stamp has none.
    let f = log_scan::scan("Service monitor detected a failure in guest slvm1.\n");
    assert_eq!(f[0].time, None);
}
