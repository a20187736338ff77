//! The LDoms driver's operation table: every vendor action a procedure script may call,
//! one manual action each, with its guard rails (see [`hascript_api::operations`]). The
//! engine makes each entry a method of its object; [`crate::LdomsSite`] dispatches calls
//! here. What is an interlock (kept whatever a script says) and what is a script's check
//! (a site may drop it) is listed in ARCHITECTURE.md.

use std::time::Duration;

use hascript_api::operations::{
    arg_opts, arg_str, arg_strings, map, op, opt_secs, opt_str, s, strings, Object, OpKind,
    Operation, OperationSpec,
};
use hascript_api::{Error, Result};
use serde_json::Value;

use crate::facts::Inner;
use crate::parse::cftool_n::NodeState;
use crate::steps::{DOWN_DEADLINE, MIGRATION_DEADLINE, SF_SETTLE, UP_DEADLINE};

/// The specs of every operation (what the engine registers, with no site at hand).
pub fn specs() -> Vec<OperationSpec> {
    hascript_api::operations::specs_of(TABLE)
}

/// Call `object.name(args…)` on `inner`.
pub(crate) fn call(inner: &Inner, object: Object, name: &str, args: &[Value]) -> Result<Value> {
    hascript_api::operations::dispatch(TABLE, inner, object, name, args)
}

use Object::{Cluster, Fence, Hypervisor};
use OpKind::{Change, Check, Read};

/// The table.
pub(crate) static TABLE: &[Operation<Inner>] = &[
    // ----- reads
    op(Hypervisor, "control_domain", &[s("name")], "Map", Read,
        "The inventory's control domain `name` (inventory name, /etc/inet/hosts name or address), read\nwithout a command: `#{name, hosts_name, address, box_name, ppar_id, xscf_lan0, xscf_lan1}`.\nAn unknown name is a usage error, before anything is sent.",
        |i, a| {
            let cd = i.resolve_cd("control domain", arg_str(a, 0)?)?;
            serde_json::to_value(&cd).map_err(|e| Error::usage(e.to_string()))
        }),
    op(Hypervisor, "locate", &[s("guest")], "Map", Read,
        "Where `guest` is, from `ldm list -p` on every control domain: `#{guest, state, location,\ncontrol_domain, node}`; `state` is running, stopped, migrating, missing or ambiguous,\n`control_domain` is () unless it is running or stopped on one, `node` its guest node.",
        |i, a| {
            let g = i.resolve_guest(arg_str(a, 0)?)?;
            i.locate_value(&g, None)
        }),
    op(Hypervisor, "locate", &[s("guest"), map("opts")], "Map", Read,
        "`locate(guest)`; `opts`: `#{settle: true}` waits out a migration still under way first,\nup to `deadline` seconds (1800); still under way then: `state: \"migrating\"`.",
        |i, a| {
            let g = i.resolve_guest(arg_str(a, 0)?)?;
            let o = arg_opts(a, 1, &["settle", "deadline"], "hypervisor.locate")?;
            let settle = match o.get("settle") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(v) => return Err(Error::usage(format!("hypervisor.locate: option `settle` must be true or false, not {v}"))),
            };
            let deadline = opt_secs(o, "deadline", "hypervisor.locate")?.unwrap_or(MIGRATION_DEADLINE);
            i.locate_value(&g, settle.then_some(deadline))
        }),
    op(Hypervisor, "started_early", &[s("guest")], "Map", Read,
        "Whether `guest` was started before its node was DOWN (17.3.1.1 note: SF, CRM and RMS then\nfail on it), read before anything is sent: its `ldm list -p` uptime shorter than the time\nsince 17.3.1.1, its CF node UP in `cftool -n` on another node, RMS not running on it.\n`#{guest, early, control_domain, uptime, fencing_off_for, node_state, rms_running, detail}`.",
        |i, a| {
            let g = i.resolve_guest(arg_str(a, 0)?)?;
            i.started_early(&g)
        }),
    op(Hypervisor, "password_file", &[s("path")], "String", Read,
        "Check a `password_file` parameter before anything is sent (the move uses it only after\n17.3.1.1): an absolute path on the source control domain, no control characters or\nquotes; a usage error otherwise. Returns the path. Sends nothing.",
        |_, a| {
            let p = arg_str(a, 0)?;
            crate::steps::validate_path("password_file", p)?;
            Ok(Value::String(p.to_string()))
        }),
    op(Cluster, "time_sync", &[], "Map", Read,
        "`(WRP, 34)`/`(WRP, 35)` lines written since the run started in the RMS switchlog and\n/var/adm/messages of every guest node (note after 17.3.1.2): `#{found, hits, remedy}`.",
        |i, _| i.time_sync()),
    op(Cluster, "wait_guest_node", &[s("guest"), s("state"), map("opts")], "Map", Read,
        "Wait until `guest`'s CF node reads `state` (UP, DOWN) in `cftool -n` on a node that was not\nmigrated. `opts`: `#{deadline: seconds (900), expected: seconds, section: \"17.3.1.1\"}`.\nReturns `#{node, state, reached, last, waited}`; a deadline passed is `reached: false`\nwith the last state seen (hascript never runs `cftool -k`).",
        |i, a| {
            let g = i.resolve_guest(arg_str(a, 0)?)?;
            let want = match arg_str(a, 1)?.to_ascii_uppercase().as_str() {
                "UP" => NodeState::Up,
                "DOWN" => NodeState::Down,
                other => return Err(Error::usage(format!("cluster.wait_guest_node: state {other:?}: use UP or DOWN"))),
            };
            let o = arg_opts(a, 2, &["deadline", "expected", "section"], "cluster.wait_guest_node")?;
            let deadline = opt_secs(o, "deadline", "cluster.wait_guest_node")?.unwrap_or(match want {
                NodeState::Down => DOWN_DEADLINE,
                _ => UP_DEADLINE,
            });
            let expected = opt_secs(o, "expected", "cluster.wait_guest_node")?;
            let section = opt_str(o, "section", "cluster.wait_guest_node")?.unwrap_or("");
            i.wait_guest_node(&g, want, deadline, expected.map(|d: Duration| (d, section)))
        }),
    op(Hypervisor, "configs", &[s("host")], "Array", Read,
        "The saved configurations of control domain `host` (`ldm list-spconfig`): `#{name, current,\nnext_poweron}` each, in listing order.",
        |i, a| {
            let c = i.configs_of(arg_str(a, 0)?)?;
            serde_json::to_value(&c).map_err(|e| Error::usage(e.to_string()))
        }),
    // ----- checks (the preflight's list is the script's)
    op(Hypervisor, "check_other_box", &[s("source"), s("target")], "Map", Check,
        "Check (A0): the `target` control domain is on another box or PPAR than `source`.",
        |i, a| {
            let src = i.resolve_cd("source", arg_str(a, 0)?)?;
            let t = i.resolve_cd("target", arg_str(a, 1)?)?;
            Ok(i.check_other_box(&src, &t))
        }),
    op(Hypervisor, "check_migration_dry_run", &[s("guest"), s("source"), s("target")], "Map", Check,
        "Check (A0): `ldm migrate-domain -n` on `source` says `guest` can move to `target` without\na password prompt.",
        |i, a| {
            let g = i.resolve_guest(arg_str(a, 0)?)?;
            let src = i.resolve_cd("source", arg_str(a, 1)?)?;
            let t = i.resolve_cd("target", arg_str(a, 2)?)?;
            i.check_migration_dry_run(&g, &src, &t)
        }),
    op(Hypervisor, "check_target_box_free", &[s("guest"), s("target")], "Map", Check,
        "Check (Part C): the target's box hosts no other node of `guest`'s cluster.",
        |i, a| {
            let g = i.resolve_guest(arg_str(a, 0)?)?;
            let t = i.resolve_cd("target", arg_str(a, 1)?)?;
            i.check_target_box_free(&g, &t)
        }),
    op(Hypervisor, "check_target_in_hosts", &[s("source"), s("target")], "Map", Check,
        "Check (A0): the target is an address or a name in `source`'s /etc/inet/hosts (what\n`clovmmigrate -u` accepts), with the inventory's address.",
        |i, a| {
            let src = i.resolve_cd("source", arg_str(a, 0)?)?;
            let t = i.resolve_cd("target", arg_str(a, 1)?)?;
            i.check_target_in_hosts(&src, &t)
        }),
    op(Cluster, "check_inventory", &[], "Map", Check,
        "Check (A0): the inventory agrees with the cluster (guest nodes in `clsnmpsetup -l`, each SF\nrow pointing at the box that hosts its domain).",
        |i, _| i.check_inventory()),
    op(Cluster, "check_nodes_up", &[], "Map", Check,
        "Check (A0): every CF node is UP in `cftool -n`.",
        |i, _| i.check_nodes_up()),
    op(Cluster, "check_applications", &[], "Map", Check,
        "Check (A0): every RMS userApplication is settled (Online, Offline, Standby).",
        |i, _| i.check_applications()),
    op(Cluster, "check_timeouts", &[], "Array", Check,
        "Check (A0): the CF timeout is the normal value on every guest node (one verdict per node).",
        |i, _| i.check_timeouts()),
    op(Fence, "check_agents", &[], "Array", Check,
        "Check (A0): the shutdown facility runs with every agent TestWorked/InitWorked on every\nguest node (one verdict per node).",
        |i, _| i.check_agents()),
    op(Fence, "check_xscf_host_keys", &[s("target")], "Array", Check,
        "Check (A0): every guest node knows the host keys of the target box's XSCF on both LANs\n(otherwise message 7245 follows the move). One verdict per node and address.",
        |i, a| {
            let t = i.resolve_cd("target", arg_str(a, 0)?)?;
            i.check_xscf_host_keys(&t)
        }),
    op(Fence, "verify", &[map("opts")], "Map", Read,
        "`fence.verify()` (17.3.1.2 step 2) with `opts`: `#{settle: seconds}` how long the shutdown\nfacility is given after `clovmmigrate -u` before its rows are judged (the manual's 30 s).",
        |i, a| {
            let o = arg_opts(a, 0, &["settle"], "fence.verify")?;
            let settle = opt_secs(o, "settle", "fence.verify")?.unwrap_or(SF_SETTLE);
            let v = i.verify_fence_settle(settle)?;
            i.settle_after_verify(&v);
            Ok(v)
        }),
    // ----- changes
    op(Cluster, "prepare_migration", &[s("guest")], "Map", Change,
        "17.3.1.1: `clovmmigrate -p` where `guest` runs (CF timeout 600 s, shutdown facility stopped on\nevery node), read back. Refused unless the guest runs and the saved-configuration rule\nholds on its control domain. Registers the recovery routine (ldoms/recover-migration)\nbefore it sends; it stays pending until 17.3.1.2 is verified. Done before: sends nothing.",
        |i, a| {
            let g = i.resolve_guest(arg_str(a, 0)?)?;
            i.prepare(&g, None)
        }),
    op(Cluster, "prepare_migration", &[s("guest"), s("target")], "Map", Change,
        "`prepare_migration(guest)`, refused also unless the saved-configuration rule holds on the\n`target` control domain (otherwise `clovmmigrate -u` would fail once fencing is off).",
        |i, a| {
            let g = i.resolve_guest(arg_str(a, 0)?)?;
            let t = i.resolve_cd("target", arg_str(a, 1)?)?;
            i.prepare(&g, Some(&t))
        }),
    op(Hypervisor, "migrate_domain", &[s("guest"), s("target")], "Map", Change,
        "The move: `ldm migrate-domain guest target` on the control domain where it runs, then where\nit really is once no migration is under way. Returns `#{guest, moved, changed, source,\ncontrol_domain, location}` (`moved: false` is not an error: the script decides). Refused\nunless 17.3.1.1 is in effect on every node. Already on `target`: sends nothing.",
        |i, a| {
            let g = i.resolve_guest(arg_str(a, 0)?)?;
            let t = i.resolve_cd("target", arg_str(a, 1)?)?;
            i.migrate_domain(&g, &t, None, MIGRATION_DEADLINE)
        }),
    op(Hypervisor, "migrate_domain", &[s("guest"), s("target"), map("opts")], "Map", Change,
        "`migrate_domain(guest, target)`; `opts`: `#{password_file: \"/path\"}` passes\n`-p /path` (the target's password from a file on the source control domain);\n`#{deadline: seconds}` how long a migration still under way is waited out (1800); past\nit the result reads `state: \"migrating\"` (cancel it with hypervisor.cancel_migration).",
        |i, a| {
            let g = i.resolve_guest(arg_str(a, 0)?)?;
            let t = i.resolve_cd("target", arg_str(a, 1)?)?;
            let o = arg_opts(a, 2, &["password_file", "deadline"], "hypervisor.migrate_domain")?;
            let pw = opt_str(o, "password_file", "hypervisor.migrate_domain")?;
            let deadline = opt_secs(o, "deadline", "hypervisor.migrate_domain")?.unwrap_or(MIGRATION_DEADLINE);
            i.migrate_domain(&g, &t, pw, deadline)
        }),
    op(Hypervisor, "stop_early_started", &[s("guest")], "Map", Change,
        "17.3.1.1 note: stop again, by force (`ldm stop-domain -f`), a guest started before its node\nwas DOWN. The one exception to \"never stop a live node\": refused unless `started_early`\nholds (read again), 17.3.1.1 is in effect and the operator confirms; runs under the\nmigration's recovery routine (registered first when none is pending).\nReturns `#{guest, control_domain, stopped, location}`.",
        |i, a| {
            let g = i.resolve_guest(arg_str(a, 0)?)?;
            i.stop_early_started(&g)
        }),
    op(Hypervisor, "cancel_migration", &[s("guest")], "Map", Change,
        "Cancel a migration of `guest` that hangs: `ldm cancel-operation migration guest` on the\ncontrol domain it leaves, then where it is once the migration is over. Refused (nothing\nsent) unless `ldm list -p` shows its migration under way. Returns `#{guest, cancelled,\nstate, control_domain, location}`. The decision (after a confirmation) is the script's.",
        |i, a| {
            let g = i.resolve_guest(arg_str(a, 0)?)?;
            i.cancel_migration(&g)
        }),
    op(Hypervisor, "remove_config", &[s("host"), s("name")], "Map", Change,
        "`ldm remove-spconfig name` on control domain `host`. Interlock: never factory-default, the\n`[current]` or the `[next poweron]` configuration. Returns `#{control_domain, removed}`.",
        |i, a| i.remove_config(arg_str(a, 0)?, arg_str(a, 1)?)),
    op(Hypervisor, "clean_configs", &[strings("hosts")], "Array", Change,
        "The saved-configuration rule of 17.3.1.2 (at most 6, no config_tmp) on each control domain of\n`hosts`: what it would remove is proposed and asked (`--yes` answers), protected ones never;\nreturns one plan per control domain `#{control_domain, count, remove, blocked}`.",
        |i, a| {
            let plans = i.clean_configs(&arg_strings(a, 0)?)?;
            serde_json::to_value(&plans).map_err(|e| Error::usage(e.to_string()))
        }),
    op(Cluster, "finish_migration", &[s("guest")], "Map", Change,
        "17.3.1.2 step 1: the saved-configuration rule on both control domains (asks before removing\nanything), then `clovmmigrate -u` on the source control domain naming the control domain\nwhere the guest runs now (determined from `ldm list -p`, never taken blindly). Done\nbefore: sends nothing.",
        |i, a| {
            let g = i.resolve_guest(arg_str(a, 0)?)?;
            i.finish(&g, None, None)
        }),
    op(Cluster, "finish_migration", &[s("guest"), s("target")], "Map", Change,
        "`finish_migration(guest)`, refused when `target` is not where the guest runs now.",
        |i, a| {
            let g = i.resolve_guest(arg_str(a, 0)?)?;
            let t = arg_str(a, 1)?;
            i.resolve_cd("target", t)?;
            i.finish(&g, Some(t), None)
        }),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_is_documented_and_unique_by_object_name_and_arity() {
        let mut seen = std::collections::BTreeSet::new();
        for o in TABLE {
            assert!(!o.spec.doc.trim().is_empty(), "{} has no doc", o.spec.name);
            assert!(
                seen.insert((o.spec.object, o.spec.name, o.spec.params.len())),
                "{}.{} declared twice with {} parameters",
                o.spec.object.name(),
                o.spec.name,
                o.spec.params.len()
            );
        }
    }
}
