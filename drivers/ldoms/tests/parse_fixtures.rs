//! Fixture tests of the vendor-output parsers (`hascript_ldoms::parse`).
//!
//! Each case is data: `tests/fixtures/<command>/<case>.txt` beside `<case>.json` (the parse,
//! pretty JSON) or `<case>.err` (the error text), all compared by `check()`; add a case by
//! adding a file and running `UPDATE_EXPECT=1 cargo test --test parse_fixtures check`, then
//! review the new `.json`. The other tests hold what the JSON cannot show.
//!
//! Sources of the fixtures in `tests/fixtures/<command>/`:
//! - `sdtool-s/manual_seed003.txt`, `clsnmpsetup-l/manual_seed003.txt`: verbatim from the
//!   PRIMECLUSTER 4.5 guide §17.3.1.2 (seed 003), without the `guest2 #` prompt lines and the
//!   `^^`/`↑` annotation lines, and without the 4-space indentation the document adds to every
//!   line, prompts included (`clsnmpsetup-l/seed_document_indent_crlf.txt` keeps it).
//! - `sdtool-s/cf_guide_layout.txt`: the single-space header and narrow columns of
//!   "PRIMECLUSTER Cluster Foundation Configuration and Administration Guide 4.3", §7.5.2
//!   Checking SA status,
//!   https://software.fujitsu.com/jp/manual/manualfiles/m200004/j2uz5284/07enz203/j5284-00-07-05-02.html
//!   (own host names; the guide also gives the spelling `Init-ing`).
//! - `hvdisp-t-userapplication/*`: layout inferred from the Nagios plugin check_primecluster.pl,
//!   https://github.com/sqrt529/check_primecluster (`Configuration:` line, table after the
//!   dashed rule, 3rd word is the state when HostName is empty), column names and StateDetails
//!   words from the RMS guide 4.6 §7.4.4,
//!   https://software.fujitsu.com/jp/manual/manualfiles/m210011/j2ul2503/04enz200/j2503-00-07-04-04.html
//!   and appendix B.1 (states),
//!   https://software.fujitsu.com/jp/manual/manualfiles/m210011/j2ul2503/04enz200/j2503-b-01-00.html
//! - `log-scan/switchlog_wrp.txt`: switchlog line format `timestamp: (code, n): type: text`
//!   then `: ====`, RMS guide 4.6 F.7.1,
//!   https://software.fujitsu.com/jp/manual/manualfiles/m210011/j2ul2503/04enz200/j2503-f-07-01.html
//! - `cfset-a/*`: `cfset -a` "to verify values in kernel" and `CLUSTER_TIMEOUT`, CF guide 4.3
//!   §1.1.2, https://software.fujitsu.com/jp/manual/manualfiles/m200004/j2uz5284/07enz203/j5284-00-01-01-02.html
//!   (the `KEY: … VALUE: …` line layout is the assumption of formats.md).
//! - `ldm-list-p/public_v1_11_norm_util.txt`: verbatim `ldm list -p` output (`VERSION 1.11`,
//!   `norm_util` after `uptime`) kept in a comment of a public LDoms capacity script by Andy
//!   Zaugg (Python, `ssh … sudo /usr/sbin/ldm list -p`), found through the code search index.
//! - `ldm-list-p/public_ls_l_p_inactive_uuid.txt`: verbatim `ldm ls -l -p ldg1` of an inactive
//!   domain (empty `flags=|cons=|ncpu=|mem=`, then a `UUID|uuid=` record), Oracle VM Server for
//!   SPARC 3.5 Administration Guide, "Using Universally Unique Identifiers",
//!   http://docs.oracle.com/cd/E80106_01/html/E80109/uuid.html
//! - `ldm-list-p/public_list_devices_a_p_cpu.txt`: verbatim `ldm list-devices -a -p cpu` (another
//!   `ldm` command's parseable output: a VERSION line, no DOMAIN record), Logical Domains 1.3
//!   Administration Guide, "List Power-Managed CPUs",
//!   https://docs.oracle.com/cd/E19604-01/821-0406/listpowermanagedcpustask/index.html
//! - `cftool-n/*`, `ldm-*`, the error messages and the rest: written from formats.md; no
//!   verbatim public sample of `cftool -n` was found (assumed layout).

use std::path::Path;

use hascript_ldoms::parse::cfset_a;
use hascript_ldoms::parse::cftool_n::{self, NodeState};
use hascript_ldoms::parse::clsnmpsetup_l;
use hascript_ldoms::parse::hvdisp::{self, AppState};
use hascript_ldoms::parse::ldm_list_p::{self, DomainState, MigrationRole};
use hascript_ldoms::parse::ldm_list_spconfig;
use hascript_ldoms::parse::ldm_migrate_dry_run::{self, MigrationDryRun};
use hascript_ldoms::parse::log_scan;
use hascript_ldoms::parse::sdtool_s::{self, AgentVerdict, InitState, SdtoolStatus, TestState};
use hascript_ldoms::parse::{parse_kind, parse_kind_json, ParseError, KINDS};

/// The text of `tests/fixtures/COMMAND/NAME`.
fn fx(command: &str, name: &str) -> String {
    hascript_testkit::fixtures::fixture(env!("CARGO_MANIFEST_DIR"), command, name)
}

/// Every case of `tests/fixtures/<command>/`: its `.txt` parsed by the command's parser (the
/// JSON of `hascript parse <command>`) equals its `.json`, or its error text its `.err`.
/// `UPDATE_EXPECT=1` rewrites them. `log-scan` and `ldm-migrate-dry-run` take more than one
/// text (a message number; exit code, stdout and stderr) and stay hand-written below, as do
/// the tests of what the JSON cannot show (methods, derived states).
#[test]
fn check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let hand_tested = ["log-scan", "ldm-migrate-dry-run"];
    let cases = hascript_testkit::fixtures::check_fixtures(&root, &hand_tested, |command, text| {
        if hand_tested.contains(&command) {
            return None;
        }
        Some(parse_kind_json(command, text, true).map_err(|e| e.to_string()))
    });
    assert!(cases >= 53, "{cases} cases");
}

fn table(text: &str) -> Vec<sdtool_s::AgentRow> {
    match sdtool_s::parse(text).unwrap() {
        SdtoolStatus::Table(rows) => rows,
        other => panic!("expected a table, got {other:?}"),
    }
}

// ---------------------------------------------------------------- sdtool -s
// Every field and error text of each case is pinned by its `.json` / `.err` (through
// `parse_table`, as `hascript parse sdtool-s`); these tests hold `parse`'s not-running
// answer, the typed states and the verdict.

/// `parse` answers what `parse_table` does for every case, except the not-running ones.
#[test]
fn sdtool_parse_agrees_with_parse_table() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sdtool-s");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("txt") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        match (sdtool_s::parse(&text), sdtool_s::parse_table(&text)) {
            (Ok(SdtoolStatus::Table(a)), Ok(b)) => assert_eq!(a, b, "{}", path.display()),
            (Ok(SdtoolStatus::NotRunning { .. }), Err(_)) => {}
            (Err(a), Err(b)) => assert_eq!(a, b, "{}", path.display()),
            (a, b) => panic!("{}: parse {a:?}, parse_table {b:?}", path.display()),
        }
        n += 1;
    }
    assert_eq!(n, 11);
}

#[test]
fn sdtool_manual_sample() {
    let rows = table(&fx("sdtool-s", "manual_seed003.txt"));
    assert_eq!(rows[0].test_state(), TestState::TestWorked);
    assert_eq!(rows[0].init_state(), InitState::InitWorked);
    assert_eq!(sdtool_s::verdict(&rows), AgentVerdict::Healthy);
}

/// The compact JSON keeps the product's key order, like the pretty one of the `.json`.
#[test]
fn sdtool_manual_sample_json() {
    let s = parse_kind_json("sdtool-s", &fx("sdtool-s", "manual_seed003.txt"), false).unwrap();
    assert!(s.starts_with(
        r#"[{"cluster_host":"cfguest1","agent":"SA_xscfsnmpg0p.so","sa_state":"Idle","shut_state":"Unknown","test_state":"TestWorked","init_state":"InitWorked"}"#
    ));
}

#[test]
fn sdtool_cf_guide_layout_shifted_columns() {
    let rows = table(&fx("sdtool-s", "cf_guide_layout.txt"));
    assert_eq!(sdtool_s::verdict(&rows), AgentVerdict::Healthy);
}

#[test]
fn sdtool_transitional() {
    let rows = table(&fx("sdtool-s", "transitional.txt"));
    assert_eq!(rows[2].test_state(), TestState::Testing);
    assert_eq!(rows[2].init_state(), InitState::Initing);
    assert_eq!(rows[3].test_state(), TestState::Unknown);
    assert_eq!(rows[3].init_state(), InitState::Unknown);
    assert_eq!(sdtool_s::verdict(&rows), AgentVerdict::Transitional);
}

#[test]
fn sdtool_failed() {
    let rows = table(&fx("sdtool-s", "failed.txt"));
    assert_eq!(rows[2].test_state(), TestState::TestFailed);
    assert_eq!(rows[2].init_state(), InitState::InitFailed);
    assert_eq!(rows[3].init_state(), InitState::InitWorked);
    assert_eq!(sdtool_s::verdict(&rows), AgentVerdict::Failed);
}

#[test]
fn sdtool_unknown_word_is_kept_and_fails() {
    let rows = table(&fx("sdtool-s", "unknown_word.txt"));
    assert_eq!(
        rows[1].init_state(),
        InitState::Other("UnInitWorked".to_string())
    );
    assert_eq!(sdtool_s::verdict(&rows), AgentVerdict::Failed);
}

#[test]
fn sdtool_crlf_indent_extra_column_blank_line() {
    let text = fx("sdtool-s", "crlf_indented_extra_column.txt");
    let s = parse_kind_json("sdtool-s", &text, false).unwrap();
    assert!(
        s.contains(r#""init_state":"InitWorked","weight":"1"}"#),
        "{s}"
    );
}

#[test]
fn sdtool_not_running() {
    let text = fx("sdtool-s", "not_running.txt");
    assert_eq!(
        sdtool_s::parse(&text).unwrap(),
        SdtoolStatus::NotRunning {
            raw: "sdtool: The RCSD is not running\n".to_string()
        }
    );
    assert!(matches!(
        sdtool_s::parse("").unwrap(),
        SdtoolStatus::NotRunning { .. }
    ));
}

// ---------------------------------------------------------------- clsnmpsetup -l

#[test]
fn clsnmpsetup_manual_sample() {
    let rows = clsnmpsetup_l::parse(&fx("clsnmpsetup-l", "manual_seed003.txt")).unwrap();
    assert_eq!(rows[1].ppar_id_num(), Some(1));
    assert_eq!(rows[0].ppar_id_num(), Some(0));
}

#[test]
fn clsnmpsetup_document_indent_crlf() {
    let rows = clsnmpsetup_l::parse(&fx("clsnmpsetup-l", "seed_document_indent_crlf.txt")).unwrap();
    let plain = clsnmpsetup_l::parse(&fx("clsnmpsetup-l", "manual_seed003.txt")).unwrap();
    assert_eq!(rows, plain);
}

// ---------------------------------------------------------------- cftool -n

#[test]
fn cftool_two_nodes_up() {
    let nodes = cftool_n::parse(&fx("cftool-n", "two_nodes_up.txt")).unwrap();
    assert_eq!(nodes[1].number_u32(), Some(2));
    assert_eq!(nodes[1].state(), NodeState::Up);
}

#[test]
fn cftool_states() {
    let nodes = cftool_n::parse(&fx("cftool-n", "down_after_abort.txt")).unwrap();
    assert_eq!(nodes[1].state(), NodeState::Down);
    let nodes = cftool_n::parse(&fx("cftool-n", "leftcluster_comingup.txt")).unwrap();
    assert_eq!(nodes[1].state(), NodeState::LeftCluster);
    assert_eq!(nodes[2].state(), NodeState::ComingUp);
    assert_eq!(nodes[3].state(), NodeState::Other("INVALID".to_string()));
    let nodes = cftool_n::parse(&fx("cftool-n", "long_names_shifted.txt")).unwrap();
    assert_eq!(nodes[0].state(), NodeState::Up);
    let nodes = cftool_n::parse(&fx("cftool-n", "down_empty_cells.txt")).unwrap();
    assert_eq!(nodes[1].state(), NodeState::Down);
}

// ---------------------------------------------------------------- cfset -a

#[test]
fn cfset_cluster_timeout() {
    let t = cfset_a::parse(&fx("cfset-a", "banner.txt")).unwrap();
    assert_eq!(cfset_a::cluster_timeout(&t), Some(10));
    let t = cfset_a::parse(&fx("cfset-a", "timeout_600_crlf.txt")).unwrap();
    assert_eq!(cfset_a::cluster_timeout(&t), Some(600));
    assert_eq!(cfset_a::parse("").unwrap_err().line, 0);
}

// ---------------------------------------------------------------- hvdisp

#[test]
fn hvdisp_two_apps() {
    let text = fx("hvdisp-t-userapplication", "two_apps_two_nodes.txt");
    let rows = hvdisp::parse(&text).unwrap();
    assert_eq!(rows[0].state(), AppState::Online);
    assert_eq!(rows[1].state(), AppState::Offline);
    assert_eq!(rows[2].state(), AppState::Standby);
    assert!(rows.iter().all(|r| r.is_user_application()));
    let p = hvdisp::preamble(&text);
    assert_eq!(p.local_system.as_deref(), Some("cfguest1RMS"));
    assert_eq!(
        p.configuration.as_deref(),
        Some("/opt/SMAW/SMAWRrms/build/config.us")
    );
}

#[test]
fn hvdisp_faulted_and_details() {
    let rows = hvdisp::parse(&fx("hvdisp-t-userapplication", "faulted_and_details.txt")).unwrap();
    assert_eq!(rows[0].state(), AppState::Faulted);
    assert_eq!(rows[4].state(), AppState::Other(String::new()));
}

#[test]
fn hvdisp_long_names_crlf() {
    let rows = hvdisp::parse(&fx(
        "hvdisp-t-userapplication",
        "long_names_shifted_crlf.txt",
    ))
    .unwrap();
    assert_eq!(rows[0].state(), AppState::Online);
    assert_eq!(rows[1].state(), AppState::Offline);
    assert!(!rows[2].is_user_application());
}

// ---------------------------------------------------------------- ldm list -p
// The `.json` (from `parse`) pins every field in order and the UUID; `parse_full`'s
// version and the typed accessors are held here.

#[test]
fn ldm_list_p_v1_6() {
    let full = ldm_list_p::parse_full(&fx("ldm-list-p", "v1_6_cluster_box.txt")).unwrap();
    assert_eq!(full.version, "1.6");
    let d = &full.domains;
    assert!(d[0].is_control());
    assert_eq!(d[0].state(), DomainState::Active);
    assert!(!d[1].is_control());
    assert_eq!(d[2].state(), DomainState::Bound);
    assert_eq!(d[3].state(), DomainState::Inactive);
    assert_eq!(d[3].migration(), MigrationRole::None);
    let s = parse_kind_json(
        "ldm-list-p",
        &fx("ldm-list-p", "v1_6_cluster_box.txt"),
        false,
    )
    .unwrap();
    assert!(s.contains(
        r#"{"name":"guest4","state":"inactive","flags":"","cons":"","ncpu":"2","mem":"2147483648","util":"","uptime":""}"#
    ));
}

#[test]
fn ldm_list_p_v1_5_vs_v1_11() {
    let old = ldm_list_p::parse_full(&fx("ldm-list-p", "v1_5_five_char_flags.txt")).unwrap();
    assert_eq!(old.version, "1.5");
    assert_eq!(old.domains[0].flags(), "-n-cv");
    assert!(old.domains[0].is_control());
    assert_eq!(old.domains[1].migration(), MigrationRole::None);
    let new = ldm_list_p::parse_full(&fx("ldm-list-p", "v1_11_norm_util_records.txt")).unwrap();
    assert_eq!(new.version, "1.11");
    assert_eq!(new.domains[0].get("norm_util"), Some("1.0"));
    assert_eq!(new.domains[1].name(), "guest2");
}

#[test]
fn ldm_list_p_migration_roles() {
    let src = ldm_list_p::parse(&fx("ldm-list-p", "migration_source.txt")).unwrap();
    assert_eq!(src[1].migration(), MigrationRole::Source);
    assert_eq!(src[1].state(), DomainState::Active);
    let dst = ldm_list_p::parse(&fx("ldm-list-p", "migration_target.txt")).unwrap();
    assert_eq!(dst[1].migration(), MigrationRole::Target);
    assert_eq!(dst[1].state(), DomainState::Bound);
}

#[test]
fn ldm_list_p_banner_crlf() {
    let d = ldm_list_p::parse(&fx("ldm-list-p", "banner_crlf_indented.txt")).unwrap();
    assert_eq!(d[0].get("uptime"), Some("864000"));
    assert_eq!(d[1].name(), "guest4");
    assert_eq!(d[1].flags(), "");
}

/// Refusals of texts that are not fixture cases (those are the `.err`s).
#[test]
fn ldm_list_p_failures() {
    let e = ldm_list_p::parse("VERSION 1.6\nDOMAIN|state=active\n").unwrap_err();
    assert_eq!(e.line, 2);
    // Real `ldm list -p` always lists `primary`: a VERSION line alone is not its output.
    let e = ldm_list_p::parse("VERSION 1.6\n").unwrap_err();
    assert!(e.message.contains("no DOMAIN record"), "{e}");
}

#[test]
fn ldm_list_p_public_v1_11_norm_util_after_uptime() {
    let full = ldm_list_p::parse_full(&fx("ldm-list-p", "public_v1_11_norm_util.txt")).unwrap();
    assert_eq!(full.version, "1.11");
    let d = &full.domains;
    assert!(d[0].is_control());
    assert_eq!(d[0].get("norm_util"), Some("0.4"));
    assert_eq!(d[3].state(), DomainState::Active);
}

#[test]
fn ldm_list_p_public_inactive_domain_with_uuid_record() {
    let full =
        ldm_list_p::parse_full(&fx("ldm-list-p", "public_ls_l_p_inactive_uuid.txt")).unwrap();
    let d = &full.domains;
    assert_eq!(d[0].state(), DomainState::Inactive);
    for key in ["flags", "cons", "ncpu", "mem", "util", "uptime"] {
        assert_eq!(d[0].get(key), Some(""), "{key}");
    }
    assert_eq!(d[0].migration(), MigrationRole::None);
    assert!(!d[0].is_control());
}

// ---------------------------------------------------------------- ldm list-spconfig

#[test]
fn spconfig_error_text() {
    assert_eq!(ldm_list_spconfig::parse("\n").unwrap_err().line, 0);
}

// ---------------------------------------------------------------- ldm migrate-domain -n

#[test]
fn migrate_dry_run_verdicts() {
    assert_eq!(
        ldm_migrate_dry_run::parse(1, "", &fx("ldm-migrate-dry-run", "would_fail_stderr.txt")),
        MigrationDryRun::WouldFail {
            reasons: vec![
                "Guest domain guest2 has insufficient memory resources available on target"
                    .to_string()
            ]
        }
    );
    assert_eq!(
        ldm_migrate_dry_run::parse(1, &fx("ldm-migrate-dry-run", "password_prompt.txt"), ""),
        MigrationDryRun::PasswordPrompt
    );
    assert_eq!(
        ldm_migrate_dry_run::parse(1, "", &fx("ldm-migrate-dry-run", "unrecognised_error.txt")),
        MigrationDryRun::WouldFail {
            reasons: vec![
                "Failed to establish connection with ldmd(1m) on target: cd-b".to_string(),
                "Check that the 'ldmd' service is enabled on the target machine".to_string()
            ]
        }
    );
    assert_eq!(
        ldm_migrate_dry_run::parse(0, "", ""),
        MigrationDryRun::WouldSucceed
    );
}

// ---------------------------------------------------------------- logs

#[test]
fn log_message_7245() {
    let hits = log_scan::find_message(&fx("log-scan", "messages_7245.txt"), 7245);
    assert_eq!(
        hits.iter().map(|h| h.line_no).collect::<Vec<_>>(),
        [4, 6, 7]
    );
    assert!(hits[0]
        .line
        .contains("FJSVcluster: ERROR: clsnmpsetup: 7245:"));
    let hits = log_scan::find_message(&fx("log-scan", "messages_7245.txt"), 3044);
    assert_eq!(hits.iter().map(|h| h.line_no).collect::<Vec<_>>(), [2, 3]);
}

#[test]
fn log_time_sync() {
    let hits = log_scan::find_time_sync(&fx("log-scan", "switchlog_wrp.txt"));
    assert_eq!(hits.len(), 1);
    assert_eq!(
        (hits[0].code, hits[0].host.as_str(), hits[0].line_no),
        (34, "cfguest2RMS", 3)
    );
    let hits = log_scan::find_time_sync(&fx("log-scan", "messages_wrp35.txt"));
    assert_eq!(
        hits.iter()
            .map(|h| (h.code, h.host.as_str(), h.line_no))
            .collect::<Vec<_>>(),
        [(35, "cfguest2RMS", 1), (35, "cfguest2RMS", 2)]
    );
    assert!(log_scan::find_message(&fx("log-scan", "switchlog_wrp.txt"), 34).is_empty());
}

// ---------------------------------------------------------------- parse_kind

#[test]
fn every_kind_parses_its_fixture() {
    let sample = |kind: &str| -> String {
        match kind {
            "ldm-list-p" => fx("ldm-list-p", "v1_6_cluster_box.txt"),
            "ldm-list-spconfig" => fx("ldm-list-spconfig", "typical.txt"),
            "cftool-n" => fx("cftool-n", "two_nodes_up.txt"),
            "cfset-a" => fx("cfset-a", "banner.txt"),
            "sdtool-s" => fx("sdtool-s", "manual_seed003.txt"),
            "clsnmpsetup-l" => fx("clsnmpsetup-l", "manual_seed003.txt"),
            "hvdisp-t-userapplication" => fx("hvdisp-t-userapplication", "two_apps_two_nodes.txt"),
            other => panic!("no sample for {other}"),
        }
    };
    assert_eq!(KINDS.len(), 7);
    for (kind, description) in KINDS {
        assert!(!description.is_empty());
        let v = parse_kind(kind, &sample(kind)).unwrap();
        assert!(v.as_array().is_some_and(|a| !a.is_empty()), "{kind}");
        let s = parse_kind_json(kind, &sample(kind), true).unwrap();
        assert_eq!(serde_json::from_str::<serde_json::Value>(&s).unwrap(), v);
    }
    let e: ParseError = parse_kind("ldm-list", "").unwrap_err();
    assert_eq!(e.line, 0);
    assert!(e.message.contains("ldm-list-spconfig"));
}
