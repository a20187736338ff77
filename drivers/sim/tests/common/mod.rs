//! Helpers shared by the simulator's integration tests.
#![allow(dead_code)]

use std::time::Duration;

use hascript_api::{CancelToken, Output};
use hascript_sim::SimSite;

/// Unix seconds of the simulator's start instant (2026-11-21 00:00:00 UTC).
pub const START: u64 = 1_795_219_200;

/// An in-memory site.
pub fn site(scenario: Option<&str>) -> SimSite {
    SimSite::new(scenario).expect("site")
}

/// Run `line` on `host`, returning the output.
pub fn run(site: &SimSite, host: &str, line: &str) -> Output {
    site.exec_line(host, line)
}

/// Run `line` on `host`, assert exit 0 and return stdout.
pub fn ok(site: &SimSite, host: &str, line: &str) -> String {
    let o = site.exec_line(host, line);
    assert_eq!(
        o.code(),
        0,
        "{host}$ {line}\nstdout: {}\nstderr: {}",
        o.stdout,
        o.stderr
    );
    o.stdout
}

/// Virtual seconds since the start.
pub fn elapsed(site: &SimSite) -> u64 {
    site.clock().now().as_secs() - START
}

/// Sleep `secs` on the virtual clock.
pub fn sleep(site: &SimSite, secs: u64) {
    site.clock()
        .sleep(Duration::from_secs(secs), &CancelToken::new())
        .expect("sleep");
}

/// Sleep until `secs` after the start (must be in the future or now).
pub fn sleep_until(site: &SimSite, secs: u64) {
    let now = elapsed(site);
    assert!(now <= secs, "already at {now}s, wanted {secs}s");
    sleep(site, secs - now);
}

/// The `State` column of CF node `node` in `cftool -n` on `host`.
pub fn cf_state(site: &SimSite, host: &str, node: &str) -> String {
    let out = ok(site, host, "LC_ALL=C /opt/SMAW/bin/cftool -n");
    out.lines()
        .find(|l| l.split_whitespace().next() == Some(node))
        .and_then(|l| l.split_whitespace().nth(2))
        .unwrap_or_else(|| panic!("no row for {node} in:\n{out}"))
        .to_string()
}

/// The (test, init) states of every `sdtool -s` row of `node` on `host`.
pub fn sd_states(site: &SimSite, host: &str, node: &str) -> Vec<(String, String)> {
    let out = ok(site, host, "LC_ALL=C /opt/SMAW/bin/sdtool -s");
    out.lines()
        .skip(2)
        .filter(|l| l.split_whitespace().next() == Some(node))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f[4].to_string(), f[5].to_string())
        })
        .collect()
}

/// The `DOMAIN|name=<dom>|…` record of `ldm list -p` on `cd`, if any.
pub fn ldm_record(site: &SimSite, cd: &str, dom: &str) -> Option<String> {
    let out = ok(site, cd, "LC_ALL=C /usr/sbin/ldm list -p");
    out.lines()
        .find(|l| l.starts_with(&format!("DOMAIN|name={dom}|")))
        .map(str::to_string)
}

/// The manual's `clsnmpsetup -l` sample after guest2 moved to the PPAR-1 box (seed 003,
/// §17.3.1.2), copied verbatim without the page's 4-space indentation.
pub const MANUAL_CLSNMPSETUP: &str = "\
device-name cluster-host-name  PPAR-ID  domain-name  IP-address1     IP-address2     user-name      connection-type
-------------------------------------------------------------------------------------------------------------------
xscf        cfguest1           0        guest1       10.20.30.71     10.20.40.71     xuser          ssh
xscf        cfguest2           1        guest2       10.20.30.73     10.20.40.73     xuser          ssh
";

/// The manual's `sdtool -s` sample (seed 003, §17.3.1.2), verbatim without indentation.
pub const MANUAL_SDTOOL: &str = "\
Cluster Host    Agent                SA State      Shut State  Test State  Init State
------------    -----                --------      ----------  ----------  ----------
cfguest1        SA_xscfsnmpg0p.so    Idle          Unknown     TestWorked  InitWorked
cfguest1        SA_xscfsnmpg1p.so    Idle          Unknown     TestWorked  InitWorked
cfguest1        SA_xscfsnmpg0r.so    Idle          Unknown     TestWorked  InitWorked
cfguest1        SA_xscfsnmpg1r.so    Idle          Unknown     TestWorked  InitWorked
cfguest2        SA_xscfsnmpg0p.so    Idle          Unknown     TestWorked  InitWorked
cfguest2        SA_xscfsnmpg1p.so    Idle          Unknown     TestWorked  InitWorked
cfguest2        SA_xscfsnmpg0r.so    Idle          Unknown     TestWorked  InitWorked
cfguest2        SA_xscfsnmpg1r.so    Idle          Unknown     TestWorked  InitWorked
";

/// The manual's procedure for guest2 → cd3 (17.3.1.1 then 17.3.1.2), asserting each step.
pub fn migrate_guest2_to_cd3(site: &SimSite) {
    ok(
        site,
        "cd2",
        "LC_ALL=C /etc/opt/FJSVcluster/bin/clovmmigrate -p guest2",
    );
    ok(
        site,
        "cd2",
        "LC_ALL=C /usr/sbin/ldm migrate-domain guest2 cd3",
    );
    ok(
        site,
        "cd2",
        "LC_ALL=C /etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd3",
    );
}

/// The scenario names the folder `scenarios/` holds, read now from the files (not from the
/// list build.rs embedded): `<driver>/<name>` for every `.toml` under `scenarios/<driver>/`
/// (`driver` "" for all drivers), sorted.
pub fn scenario_files(driver: &str) -> Vec<String> {
    fn walk(base: &std::path::Path, dir: &std::path::Path, out: &mut Vec<String>) {
        let entries =
            std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
        for p in entries.filter_map(Result::ok).map(|e| e.path()) {
            if p.is_dir() {
                walk(base, &p, out);
            } else if p.extension().is_some_and(|x| x == "toml") {
                let rel = p.strip_prefix(base).unwrap_or(&p).with_extension("");
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut out = Vec::new();
    walk(&base, &base.join(driver), &mut out);
    out.sort();
    out
}
