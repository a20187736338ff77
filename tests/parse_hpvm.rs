//! `hascript parse` with the Serviceguard / Integrity VM kinds (`hascript_hpvm::parse`),
//! beside the LDoms ones: the built binary reads a fixture of drivers/hpvm from a file or
//! standard input and prints the JSON that mirrors the product.

use std::path::{Path, PathBuf};

mod cli_support;

use cli_support::Run;

fn hascript(args: &[&str], stdin: Option<&str>) -> Run {
    let mut cmd = cli_support::command(args, cli_support::build_tmp());
    cli_support::output(&mut cmd, &[], stdin)
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("drivers/hpvm/tests/fixtures")
        .join(rel)
}

fn json(r: &Run) -> serde_json::Value {
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
}

#[test]
fn cmviewcl_from_a_file() {
    let f = fixture("cmviewcl-v-f-line/site_default.txt");
    let v = json(&hascript(
        &["parse", "cmviewcl-v-f-line", &f.display().to_string()],
        None,
    ));
    assert_eq!(v["cluster"]["name"], "cluster1");
    assert_eq!(v["packages"][0]["owner"], "node1");
    assert_eq!(v["packages"][0]["nodes"][1]["type"], "alternate");
    // keys in the product's order
    let r = hascript(
        &["parse", "cmviewcl-v-f-line", &f.display().to_string()],
        None,
    );
    let at = |needle: &str| r.stdout.find(needle).unwrap_or(usize::MAX);
    let order = [
        at("\"packages\""),
        at("\"type\": \"failover\""),
        at("\"autorun\": \"enabled\""),
        at("\"owner\": \"node1\""),
        at("\"failback_policy\": \"manual\""),
        at("\"services\""),
    ];
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "{order:?}\n{}",
        r.stdout
    );
}

#[test]
fn hpvmstatus_and_package_conf_from_stdin() {
    let text = std::fs::read_to_string(fixture("hpvmstatus-p/manual_transcript_slvm1.txt"))
        .unwrap_or_default();
    let v = json(&hascript(&["parse", "hpvmstatus-p"], Some(&text)));
    assert_eq!(v["vm"]["state"], "On (OS)");
    assert_eq!(v["storage"][0]["device"], "/dev/rdisk/disk109");
    assert_eq!(v["network"][1]["name_num"], "myswitch");
    let text = std::fs::read_to_string(fixture("package-conf/appendix_a.conf")).unwrap_or_default();
    let v = json(&hascript(&["parse", "package-conf"], Some(&text)));
    assert_eq!(
        v[0],
        serde_json::json!({"key": "package_name", "value": "slvm1"})
    );
    assert_eq!(v.as_array().map(Vec::len), Some(49));
}

#[test]
fn ldoms_kinds_still_work() {
    let cftool = "Node Number State Os Cpu\ncfguest1 1 UP Solaris Sparc\n";
    let v = json(&hascript(&["parse", "cftool-n"], Some(cftool)));
    assert_eq!(v[0]["node"], "cfguest1");
}

#[test]
fn refusals_exit_2_with_the_line() {
    let r = hascript(
        &["parse", "cmviewcl-v-f-line"],
        Some("cmviewcl: illegal option -- f\nusage: cmviewcl [-v]\n"),
    );
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr
            .contains("Serviceguard A.11.19 or later is required"),
        "{}",
        r.stderr
    );
    let r = hascript(&["parse", "hpvmstatus"], Some("hello\n"));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("line 1"), "{}", r.stderr);
    let r = hascript(&["parse", "no-such-kind"], Some(""));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("cftool-n"), "{}", r.stderr);
    assert!(r.stderr.contains("cmviewcl-v-f-line"), "{}", r.stderr);
    assert!(r.stderr.contains("package-conf"), "{}", r.stderr);
}
