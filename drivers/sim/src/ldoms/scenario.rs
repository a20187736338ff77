//! The LDoms part of a scenario file. A scenario is the default site plus changes, all data:
//!
//! ```toml
//! summary = "…"                      # one sentence (required)
//! section = "17.3.1.1"               # the manual's section (required)
//! description = "…"                  # optional, longer
//!
//! [fault]
//! migrate = "abort-guest-stopped"    # none | would-fail | abort-guest-stopped
//!                                    # | abort-guest-running | continues-after-disconnect
//!                                    # | hangs (under way until ldm cancel-operation)
//! migrate_failures = 1               # how many real migrations fail (default 1; would-fail: all)
//! reasons = ["…{guest}…{target}…"]   # what ldm prints before its verdict
//! node_timeout_state = "LEFTCLUSTER" # what a stopped node becomes at its CF timeout (DOWN)
//! sf_test_failed = ["cfguest2"]      # agents of these hosts read TestFailed after SF restarts
//! time_sync_warnings = true          # RMS (WRP, 34)/(WRP, 35) after a live migration
//! continue_seconds = 120             # how long a migration goes on after ldm lost ldmd
//! sf_settings_not_updated = ["cfguest2"] # nodes clovmmigrate -u's SF settings do not reach
//! spconfig_not_saved = ["cd3"]       # control domains where clovmmigrate -u saves nothing
//!
//! [ldoms]
//! ldm_version = "1.11"               # what `ldm list -p` prints: "1.6" (default) | "1.11"
//! setup = ["cd2: /usr/sbin/ldm stop-domain guest2", "sleep 60"]
//!                                    # what an operator did before, in order: `host: command`
//!                                    # lines (each must succeed) or `sleep SECONDS`
//!
//! [ldoms.cluster]
//! cf_timeout = 10
//! xscf_user = "xuser"
//!
//! [ldoms.cd2]                        # a control domain, by name
//! spconfigs = ["factory-default", "config_initial", "config_x [current] [next poweron]"]
//!
//! [ldoms.nodes.cfguest2]             # a CF node, by name
//! cf_state = "LEFTCLUSTER"           # UP | DOWN | LEFTCLUSTER | COMINGUP
//! rms = "Offline"                    # the userApplication's state on it
//!
//! [ldoms.guests.guest1]              # a guest domain, by domain name
//! known_hosts = ["10.20.30.71"]      # root's known_hosts: the addresses it holds keys for
//! control_domain = "cd3"             # where it is bound
//! state = "bound"                    # active | bound | inactive (no resources bound)
//! ```
//!
//! Unknown keys anywhere are refused with the key's name.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{CfState, LdmVersion, LdomsState, MigrateFault, SpConfig};
use crate::world::{fake_rsa_key, World, KNOWN_HOSTS};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    #[allow(dead_code)]
    summary: String,
    #[allow(dead_code)]
    section: String,
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
    #[serde(default)]
    fault: FaultSpec,
    #[serde(default)]
    ldoms: toml::Table,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FaultSpec {
    migrate: Option<MigrateFault>,
    migrate_failures: Option<u32>,
    #[serde(default)]
    reasons: Vec<String>,
    node_timeout_state: Option<CfState>,
    #[serde(default)]
    sf_test_failed: Vec<String>,
    #[serde(default)]
    time_sync_warnings: bool,
    continue_seconds: Option<u64>,
    #[serde(default)]
    sf_settings_not_updated: Vec<String>,
    #[serde(default)]
    spconfig_not_saved: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterSpec {
    cf_timeout: Option<u32>,
    xscf_user: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CdSpec {
    spconfigs: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeSpec {
    cf_state: Option<CfState>,
    rms: Option<String>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum DomainState {
    Active,
    Bound,
    Inactive,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GuestSpec {
    known_hosts: Option<Vec<String>>,
    control_domain: Option<String>,
    state: Option<DomainState>,
}

fn typed<T: for<'de> Deserialize<'de>>(v: &toml::Value, what: &str) -> Result<T, String> {
    v.clone()
        .try_into::<T>()
        .map_err(|e| format!("[{what}]: {}", e.to_string().trim()))
}

fn table_of<T: for<'de> Deserialize<'de>>(
    v: &toml::Value,
    what: &str,
) -> Result<BTreeMap<String, T>, String> {
    let toml::Value::Table(t) = v else {
        return Err(format!("[{what}] must be a table"));
    };
    t.iter()
        .map(|(k, v)| typed::<T>(v, &format!("{what}.{k}")).map(|x| (k.clone(), x)))
        .collect()
}

/// Parse `name [current] [next poweron]`.
fn parse_spconfig(line: &str) -> Result<SpConfig, String> {
    let mut rest = line.trim();
    let name_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let name = rest[..name_end].to_string();
    if name.is_empty() {
        return Err(format!("empty spconfig entry {line:?}"));
    }
    rest = rest[name_end..].trim();
    let mut c = SpConfig {
        name,
        current: false,
        next_poweron: false,
    };
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("[current]") {
            c.current = true;
            rest = r.trim_start();
        } else if let Some(r) = rest.strip_prefix("[next poweron]") {
            c.next_poweron = true;
            rest = r.trim_start();
        } else {
            return Err(format!(
                "spconfig entry {line:?}: after the name only [current] and [next poweron] may follow"
            ));
        }
    }
    Ok(c)
}

/// Apply a scenario's TOML to the default site.
pub(crate) fn apply(text: &str, st: &mut LdomsState, w: &mut World) -> Result<(), String> {
    let file: ScenarioFile = toml::from_str(text).map_err(|e| e.to_string().trim().to_string())?;
    let f = file.fault;
    if let Some(m) = f.migrate {
        st.fault.migrate = m;
        st.fault.migrate_failures = match m {
            MigrateFault::None | MigrateFault::WouldFail => 0,
            _ => 1,
        };
    }
    if let Some(n) = f.migrate_failures {
        st.fault.migrate_failures = n;
    }
    st.fault.reasons = f.reasons;
    if let Some(s) = f.node_timeout_state {
        if !matches!(s, CfState::Down | CfState::LeftCluster) {
            return Err("[fault] node_timeout_state must be \"DOWN\" or \"LEFTCLUSTER\"".into());
        }
        st.fault.node_timeout_state = s;
    }
    for n in &f.sf_test_failed {
        if st.guest_by_cf(n).is_none() {
            return Err(format!("[fault] sf_test_failed: no CF node named {n}"));
        }
    }
    st.fault.sf_test_failed = f.sf_test_failed;
    st.fault.time_sync_warnings = f.time_sync_warnings;
    if let Some(s) = f.continue_seconds {
        st.fault.continue_ms = s.saturating_mul(1000);
    }
    for n in &f.sf_settings_not_updated {
        if st.guest_by_cf(n).is_none() {
            return Err(format!(
                "[fault] sf_settings_not_updated: no CF node named {n}"
            ));
        }
    }
    st.fault.sf_settings_not_updated = f.sf_settings_not_updated;
    for c in &f.spconfig_not_saved {
        if st.cd(c).is_none() {
            return Err(format!(
                "[fault] spconfig_not_saved: no control domain named {c}"
            ));
        }
    }
    st.fault.spconfig_not_saved = f.spconfig_not_saved;

    for (key, value) in &file.ldoms {
        match key.as_str() {
            "ldm_version" => {
                st.ldm_version = typed::<LdmVersion>(value, "ldoms.ldm_version")?;
            }
            // Applied last, on the finished site (below).
            "setup" => {}
            "cluster" => {
                let c: ClusterSpec = typed(value, "ldoms.cluster")?;
                if let Some(t) = c.cf_timeout {
                    st.cluster.cf_timeout = t;
                }
                if let Some(u) = c.xscf_user {
                    st.xscf_user = u.clone();
                    for r in &mut st.cluster.sf_config {
                        r.user = u.clone();
                    }
                }
            }
            "nodes" => {
                for (name, spec) in table_of::<NodeSpec>(value, "ldoms.nodes")? {
                    let Some(g) = st.guest_by_cf(&name) else {
                        return Err(format!("[ldoms.nodes.{name}]: no CF node named {name}"));
                    };
                    if let Some(s) = spec.cf_state {
                        st.guests[g].cf = s;
                    }
                    if let Some(r) = spec.rms {
                        st.guests[g].rms = Some(r);
                    }
                }
            }
            "guests" => {
                for (name, spec) in table_of::<GuestSpec>(value, "ldoms.guests")? {
                    let Some(g) = st.guest_by_domain(&name) else {
                        return Err(format!(
                            "[ldoms.guests.{name}]: no guest domain named {name}"
                        ));
                    };
                    if let Some(list) = spec.known_hosts {
                        let host = st.guests[g].host.clone();
                        let mut content = String::new();
                        for a in &list {
                            content.push_str(&format!("{a} ssh-rsa {}\n", fake_rsa_key(a)));
                        }
                        if let Some(os) = w.host_mut(&host) {
                            os.files.insert(KNOWN_HOSTS.to_string(), content);
                        }
                    }
                    if let Some(cd) = spec.control_domain {
                        if st.cd(&cd).is_none() {
                            return Err(format!("[ldoms.guests.{name}] control_domain: no control domain named {cd}"));
                        }
                        st.guests[g].control_domain = cd;
                    }
                    if let Some(s) = spec.state {
                        st.guests[g].active = s == DomainState::Active;
                        st.guests[g].inactive = s == DomainState::Inactive;
                        if !st.guests[g].active {
                            st.guests[g].stopped_ms = Some(w.now_ms);
                            st.guests[g].rms = None;
                        }
                    }
                }
            }
            cd_name => {
                let Some(cd) = st.cd(cd_name) else {
                    let known: Vec<&str> =
                        st.control_domains.iter().map(|c| c.name.as_str()).collect();
                    return Err(format!(
                        "[ldoms.{cd_name}]: unknown key; expected ldm_version, cluster, nodes, guests or a control domain ({})",
                        known.join(", ")
                    ));
                };
                let spec: CdSpec = typed(value, &format!("ldoms.{cd_name}"))?;
                if let Some(lines) = spec.spconfigs {
                    st.control_domains[cd].spconfigs = lines
                        .iter()
                        .map(|l| parse_spconfig(l))
                        .collect::<Result<_, _>>()?;
                }
            }
        }
    }
    if let Some(v) = file.ldoms.get("setup") {
        let lines: Vec<String> = typed(v, "ldoms.setup")?;
        for (n, line) in lines.iter().enumerate() {
            setup_line(st, w, line)
                .map_err(|e| format!("[ldoms] setup line {}: {line:?}: {e}", n + 1))?;
        }
    }
    Ok(())
}

/// One line of a scenario's `setup`: `host: program args…` run on the simulated host (its
/// product programs, by path or name), or `sleep SECONDS` on the virtual clock.
fn setup_line(st: &mut LdomsState, w: &mut World, line: &str) -> Result<(), String> {
    if let Some(secs) = line.trim().strip_prefix("sleep ") {
        let s: u64 = secs
            .trim()
            .parse()
            .map_err(|_| "sleep needs whole seconds".to_string())?;
        let until = w.now_ms.saturating_add(s.saturating_mul(1000));
        st.settle(w, until);
        return Ok(());
    }
    let (host, cmd) = line
        .split_once(':')
        .ok_or("expected `host: command` or `sleep SECONDS`")?;
    let mut words = cmd.split_whitespace().map(str::to_string);
    let prog = words.next().ok_or("no command")?;
    let prog = prog.rsplit('/').next().unwrap_or(&prog).to_string();
    let args: Vec<String> = words.collect();
    let now = w.now_ms;
    st.settle(w, now);
    let out = st.run(w, host.trim(), &prog, &args);
    if out.code() != 0 {
        return Err(format!("exit {}: {}", out.code(), out.stderr.trim()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spconfig_entries() {
        let c = parse_spconfig("config_x [current] [next poweron]").expect("parses");
        assert_eq!(
            (c.name.as_str(), c.current, c.next_poweron),
            ("config_x", true, true)
        );
        let c = parse_spconfig("factory-default").expect("parses");
        assert_eq!(
            (c.name.as_str(), c.current, c.next_poweron),
            ("factory-default", false, false)
        );
        assert!(parse_spconfig("x [bogus]").is_err());
        assert!(parse_spconfig("  ").is_err());
    }

    fn try_apply(text: &str) -> Result<LdomsState, String> {
        let (mut w, mut st) = super::super::build(None)?;
        apply(text, &mut st, &mut w)?;
        Ok(st)
    }

    const HEAD: &str = "summary = \"s\"\nsection = \"17.3.1.1\"\n";

    #[test]
    fn faults_are_data() {
        let st = try_apply(&format!(
            "{HEAD}[fault]\nmigrate = \"abort-guest-running\"\nmigrate_failures = 3\nnode_timeout_state = \"LEFTCLUSTER\"\n\
             [ldoms.cluster]\ncf_timeout = 20\n[ldoms.nodes.cfguest1]\ncf_state = \"DOWN\"\n\
             [ldoms.guests.guest2]\ncontrol_domain = \"cd3\"\nstate = \"bound\"\n"
        ))
        .expect("valid");
        assert_eq!(st.fault.migrate, MigrateFault::AbortGuestRunning);
        assert_eq!(st.fault.migrate_failures, 3);
        assert_eq!(st.fault.node_timeout_state, CfState::LeftCluster);
        assert_eq!(st.cluster.cf_timeout, 20);
        assert_eq!(st.guests[0].cf, CfState::Down);
        assert_eq!(
            (st.guests[1].control_domain.as_str(), st.guests[1].active),
            ("cd3", false)
        );
        assert_eq!(st.ldm_version, LdmVersion::V1_6);
        assert!(!st.guests[1].inactive);
        let st = try_apply(&format!(
            "{HEAD}[ldoms]\nldm_version = \"1.11\"\n[ldoms.guests.guest2]\nstate = \"inactive\"\n"
        ))
        .expect("valid");
        assert_eq!(st.ldm_version, LdmVersion::V1_11);
        assert!(!st.guests[1].active && st.guests[1].inactive);
    }

    #[test]
    fn unknown_keys_and_names_are_refused_clearly() {
        let cases = [
            ("[fault]\nmigrat = \"would-fail\"\n", "unknown field `migrat`"),
            ("[fault]\nmigrate = \"explode\"\n", "unknown variant `explode`"),
            ("bogus = 1\n", "unknown field `bogus`"),
            ("[ldoms.cd9]\nspconfigs = []\n", "[ldoms.cd9]: unknown key; expected ldm_version, cluster, nodes, guests or a control domain (cd1, cd2, cd3)"),
            ("[ldoms]\nldm_version = \"1.7\"\n", "[ldoms.ldm_version]: unknown variant `1.7`, expected `1.6` or `1.11`"),
            ("[ldoms.cd2]\nspconfig = []\n", "[ldoms.cd2]: unknown field `spconfig`"),
            ("[ldoms.nodes.cfguest9]\ncf_state = \"UP\"\n", "[ldoms.nodes.cfguest9]: no CF node named cfguest9"),
            ("[ldoms.nodes.cfguest1]\ncf_state = \"SLEEPY\"\n", "unknown variant `SLEEPY`"),
            ("[ldoms.guests.guest9]\nstate = \"bound\"\n", "[ldoms.guests.guest9]: no guest domain named guest9"),
            ("[ldoms.guests.guest1]\nknown_host = []\n", "unknown field `known_host`"),
            ("[fault]\nsf_test_failed = [\"cfguest7\"]\n", "[fault] sf_test_failed: no CF node named cfguest7"),
            ("[fault]\nnode_timeout_state = \"UP\"\n", "node_timeout_state must be"),
            ("[ldoms.cd1]\nspconfigs = [\"a [cur]\"]\n", "after the name only [current] and [next poweron] may follow"),
        ];
        for (body, expected) in cases {
            let err = try_apply(&format!("{HEAD}{body}")).expect_err(body);
            assert!(err.contains(expected), "{body}: {err}");
        }
        let err = try_apply("section = \"x\"\n").expect_err("summary missing");
        assert!(err.contains("missing field `summary`"), "{err}");
    }
}
