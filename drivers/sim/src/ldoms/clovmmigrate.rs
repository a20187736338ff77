//! `/etc/opt/FJSVcluster/bin/clovmmigrate` on a control domain (manual §17.3.1.1 and
//! §17.3.1.2): `-p source-ldom` before a live migration, `-u source-ldom target-host` after.
//!
//! The manual prints neither its progress messages nor its errors; the simulator's are
//! plain English in PRIMECLUSTER's `FJSVcluster: ERROR: clovmmigrate:` style, without
//! message numbers (the book lists them as assumptions).

use hascript_api::Output;

use super::{ldm::resolve_cd, LdomsState, SpConfig};
use crate::timefmt;
use crate::world::World;

/// Most saved configurations a control domain may hold for `-u` to work (manual §17.3.1.2:
/// "6 or fewer"; the simulator counts every line of `ldm list-spconfig`, factory-default
/// included).
const MAX_SPCONFIGS_FOR_SAVE: usize = 6;

fn usage() -> Output {
    Output::new(
        1,
        "",
        "Usage: clovmmigrate -p source-ldom\n       clovmmigrate -u source-ldom target-host\n",
    )
}

fn error(text: &str) -> Output {
    Output::new(1, "", format!("FJSVcluster: ERROR: clovmmigrate: {text}\n"))
}

/// Run `clovmmigrate` on control domain `host`.
pub(crate) fn run(st: &mut LdomsState, w: &mut World, host: &str, args: &[String]) -> Output {
    let Some(cd) = st.cd(host) else {
        return Output::new(127, "", "sh: clovmmigrate: not found\n");
    };
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["-p", guest] => prepare(st, w, cd, guest),
        ["-u", guest, target] => update(st, w, cd, guest, target),
        _ => usage(),
    }
}

/// Every guest of the guest cluster must run for the settings to change on every node.
fn all_nodes_reachable(st: &LdomsState) -> Result<(), Output> {
    match st.guests.iter().find(|g| !g.active) {
        Some(g) => Err(error(&format!(
            "cannot communicate with cluster node {} (guest domain {} is not active); the cluster settings were not changed",
            g.cf_node, g.domain
        ))),
        None => Ok(()),
    }
}

fn prepare(st: &mut LdomsState, w: &mut World, cd: usize, guest: &str) -> Output {
    let here = st.control_domains[cd].name.clone();
    let Some(g) = st.guest_by_domain(guest) else {
        return error(&format!(
            "{guest} is not a guest domain of a guest-domain cluster"
        ));
    };
    if st.guests[g].control_domain != here {
        return error(&format!(
            "guest domain {guest} is not on this control domain ({here}); run the command on the control domain where {guest} runs"
        ));
    }
    if let Err(o) = all_nodes_reachable(st) {
        return o;
    }
    if st.cluster.timeout_before.is_none() {
        st.cluster.timeout_before = Some(st.cluster.cf_timeout);
    }
    st.cluster.cf_timeout = 600;
    st.cluster.prepared_ms = Some(w.now_ms);
    st.cluster.last_source.insert(guest.to_string(), here);
    for i in 0..st.guests.len() {
        st.sf_stop(i);
    }
    let nodes: Vec<&str> = st.guests.iter().map(|g| g.cf_node.as_str()).collect();
    Output::new(
        0,
        format!(
            "clovmmigrate: the cluster interconnect timeout was changed to 600 seconds on {}.\n\
             clovmmigrate: the shutdown facility was stopped on {}.\n",
            nodes.join(", "),
            nodes.join(", ")
        ),
        "",
    )
}

/// Whether `configs` lets `clovmmigrate -u` save a configuration; the reason when not.
fn spconfig_problem(cd_name: &str, configs: &[SpConfig]) -> Option<String> {
    if configs.iter().any(|c| c.name == "config_tmp") {
        return Some(format!(
            "a saved configuration named config_tmp exists on {cd_name}; remove it with \"ldm remove-spconfig config_tmp\" and run the command again"
        ));
    }
    if configs.len() > MAX_SPCONFIGS_FOR_SAVE {
        return Some(format!(
            "{cd_name} holds {} saved configurations; remove some with \"ldm remove-spconfig\" until {MAX_SPCONFIGS_FOR_SAVE} or fewer remain, and run the command again",
            configs.len()
        ));
    }
    None
}

/// Save the running configuration on a control domain.
///
/// Assumption (the manual does not say how `clovmmigrate -u` saves it): the configuration
/// the box boots next (`[next poweron]`, or `[current]`), when it is not
/// `factory-default`, is overwritten in place, so the number of saved configurations does
/// not change; it then reads `[current] [next poweron]` again (a live migration had taken
/// `[current]` away: the running configuration differed from it). When `factory-default`
/// is that configuration, a new one `config_<yyyymmdd>` is added and becomes
/// `[current] [next poweron]`.
fn save_config(configs: &mut Vec<SpConfig>, now_ms: u64) {
    let custom = configs
        .iter()
        .position(|c| c.next_poweron && c.name != "factory-default")
        .or_else(|| {
            configs
                .iter()
                .position(|c| c.current && c.name != "factory-default")
        });
    if let Some(i) = custom {
        for (j, c) in configs.iter_mut().enumerate() {
            c.current = i == j;
            c.next_poweron = i == j;
        }
        return;
    }
    let base = format!("config_{}", timefmt::ymd(now_ms));
    let mut name = base.clone();
    let mut n = 1;
    while configs.iter().any(|c| c.name == name) {
        name = format!("{base}_{n}");
        n += 1;
    }
    for c in configs.iter_mut() {
        c.current = false;
        c.next_poweron = false;
    }
    configs.push(SpConfig {
        name,
        current: true,
        next_poweron: true,
    });
}

fn update(st: &mut LdomsState, w: &mut World, cd: usize, guest: &str, target: &str) -> Output {
    let here = st.control_domains[cd].name.clone();
    let Some(g) = st.guest_by_domain(guest) else {
        return error(&format!(
            "{guest} is not a guest domain of a guest-domain cluster"
        ));
    };
    let source_ok =
        st.cluster.last_source.get(guest) == Some(&here) || st.guests[g].control_domain == here;
    if !source_ok {
        return error(&format!(
            "run the command on the source control domain of {guest} (the one where clovmmigrate -p ran, or where {guest} runs)"
        ));
    }
    let Some(t) = resolve_cd(st, w, cd, target) else {
        return error(&format!(
            "target-host {target} is neither the address nor a host name in /etc/inet/hosts of a control domain"
        ));
    };
    if let Err(o) = all_nodes_reachable(st) {
        return o;
    }
    let mut problems = Vec::new();
    let mut check = vec![cd];
    if t != cd {
        check.push(t);
    }
    for &c in &check {
        let cdom = &st.control_domains[c];
        if let Some(p) = spconfig_problem(&cdom.name, &cdom.spconfigs) {
            problems.push(p);
        }
    }
    if !problems.is_empty() {
        return error(&format!(
            "the configuration of the logical domains cannot be saved: {}; the cluster settings were not changed",
            problems.join("; ")
        ));
    }
    // 1. CF timeout back to its value before -p.
    if let Some(before) = st.cluster.timeout_before.take() {
        st.cluster.cf_timeout = before;
    }
    st.cluster.prepared_ms = None;
    // 2. SF settings of the guest's node: the PPAR and XSCF of target-host's box.
    let (ppar, ip1, ip2) = {
        let c = &st.control_domains[t];
        (c.ppar_id, c.xscf[0].clone(), c.xscf[1].clone())
    };
    let cf_node = st.guests[g].cf_node.clone();
    // A node this change does not reach (scenario fault) keeps the settings it had.
    for i in 0..st.guests.len() {
        if st
            .fault
            .sf_settings_not_updated
            .contains(&st.guests[i].cf_node)
            && st.guests[i].sf_config.is_none()
        {
            st.guests[i].sf_config = Some(st.cluster.sf_config.clone());
        }
    }
    if let Some(row) = st
        .cluster
        .sf_config
        .iter_mut()
        .find(|r| r.cf_node == cf_node)
    {
        row.ppar_id = ppar;
        row.ip1 = ip1.clone();
        row.ip2 = ip2.clone();
    }
    // 3. Start SF on every node.
    for i in 0..st.guests.len() {
        st.sf_start(w, i);
    }
    // 4. Save the LDoms configuration on both control domains.
    let now = w.now_ms;
    for &c in &check {
        // A scenario may make the save fail silently on a control domain.
        if st
            .fault
            .spconfig_not_saved
            .contains(&st.control_domains[c].name)
        {
            continue;
        }
        save_config(&mut st.control_domains[c].spconfigs, now);
    }
    let target_name = st.control_domains[t].name.clone();
    let nodes: Vec<&str> = st.guests.iter().map(|g| g.cf_node.as_str()).collect();
    let timeout = st.cluster.cf_timeout;
    Output::new(
        0,
        format!(
            "clovmmigrate: the cluster interconnect timeout was changed to {timeout} seconds on {}.\n\
             clovmmigrate: the shutdown facility settings of {cf_node} were changed (PPAR-ID {ppar}, XSCF {ip1} {ip2}).\n\
             clovmmigrate: the shutdown facility was started on {}.\n\
             clovmmigrate: the configuration of the logical domains was saved on {}.\n",
            nodes.join(", "),
            nodes.join(", "),
            if t == cd { here.clone() } else { format!("{here} and {target_name}") }
        ),
        "",
    )
}
