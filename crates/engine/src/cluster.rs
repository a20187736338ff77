//! The `cluster` object: membership, settings, logs, and the vendor migration steps.

use std::time::Duration;

use rhai::{Dynamic, Engine, ImmutableString, Map, NativeCallContext};

use super::error::{lift, throw, usage, RhaiRes};
use super::{check_keys, reg, seconds};

object_handle!(
    /// The `cluster` global (script type `Cluster`).
    ClusterObj,
    Cluster,
    cluster
);

/// Default timeout of `wait_node_state`, in seconds.
pub const WAIT_NODE_TIMEOUT: u64 = 900;

fn wait_node(
    ctx: &NativeCallContext,
    c: &ClusterObj,
    name: &str,
    state: &str,
    opts: &Map,
) -> RhaiRes<Dynamic> {
    let pos = ctx.call_position();
    check_keys(opts, &["timeout"], "cluster.wait_node_state").map_err(|m| usage(m, pos))?;
    let timeout = match opts.get("timeout") {
        Some(v) => seconds(v, "timeout").map_err(|m| usage(m, pos))?,
        None => Duration::from_secs(WAIT_NODE_TIMEOUT),
    };
    lift(c.get().wait_node_state(name, state, timeout), pos)
}

/// Register `Cluster` and its methods.
pub fn register(engine: &mut Engine) {
    engine.register_type_with_name::<ClusterObj>("Cluster");
    engine.register_fn("to_string", |_: &mut ClusterObj| "Cluster".to_string());
    engine.register_fn("to_debug", |_: &mut ClusterObj| "Cluster".to_string());

    reg(
        "nodes",
        &["cluster: Cluster"],
        "Array",
        "Every cluster node: `name` and `state` (the same keys on every driver), then the\nproduct's columns as printed, e.g. `[#{name: \"cfguest1\", node: \"cfguest1\", number: \"1\",\nstate: \"UP\", os: \"Solaris\", cpu: \"Sparc\"}, …]` on PRIMECLUSTER (`cftool -n`).",
    )
    .register_into_engine(engine, |ctx: NativeCallContext, c: &mut ClusterObj| {
        lift(c.get().nodes(), ctx.call_position())
    });
    reg(
        "node",
        &["cluster: Cluster", "name: String"],
        "Map",
        "One cluster node by name (CF node name, e.g. \"cfguest1\"), shaped as in `nodes()`.",
    )
    .register_into_engine(
        engine,
        |ctx: NativeCallContext, c: &mut ClusterObj, name: ImmutableString| {
            lift(c.get().node(&name), ctx.call_position())
        },
    );
    reg(
        "wait_node_state",
        &["cluster: Cluster", "name: String", "state: String"],
        "Map",
        "Wait until node `name` reads `state` (e.g. \"DOWN\"), polling on the run's clock;\nreturns the node. Throws a `timeout` error after 900 s.",
    )
    .register_into_engine(engine, |ctx: NativeCallContext, c: &mut ClusterObj, name: ImmutableString, state: ImmutableString| {
        wait_node(&ctx, c, &name, &state, &Map::new())
    });
    reg(
        "wait_node_state",
        &[
            "cluster: Cluster",
            "name: String",
            "state: String",
            "opts: Map",
        ],
        "Map",
        "Wait until node `name` reads `state`; `opts`: `#{timeout: seconds}` (default 900).",
    )
    .register_into_engine(
        engine,
        |ctx: NativeCallContext,
         c: &mut ClusterObj,
         name: ImmutableString,
         state: ImmutableString,
         opts: Map| { wait_node(&ctx, c, &name, &state, &opts) },
    );
    reg(
        "timeout",
        &["cluster: Cluster"],
        "i64",
        "The cluster interconnect (CF) timeout in seconds.",
    )
    .register_into_engine(
        engine,
        |ctx: NativeCallContext, c: &mut ClusterObj| -> RhaiRes<i64> {
            c.get().timeout().map_err(|e| throw(e, ctx.call_position()))
        },
    );
    reg(
        "applications",
        &["cluster: Cluster"],
        "Array",
        "The HA applications with their states.",
    )
    .register_into_engine(engine, |ctx: NativeCallContext, c: &mut ClusterObj| {
        lift(c.get().applications(), ctx.call_position())
    });
    reg(
        "health",
        &["cluster: Cluster"],
        "Map",
        "The overall health verdict `#{ok, problems: [...]}`.",
    )
    .register_into_engine(engine, |ctx: NativeCallContext, c: &mut ClusterObj| {
        lift(c.get().health(), ctx.call_position())
    });
    reg(
        "messages",
        &["cluster: Cluster", "pattern: String"],
        "Array",
        "Log lines matching `pattern` (a marker the driver knows, e.g. \"7245\"), written since\nthe run started.",
    )
    .register_into_engine(engine, |ctx: NativeCallContext, c: &mut ClusterObj, pattern: ImmutableString| {
        lift(c.get().messages(&pattern, true), ctx.call_position())
    });
    reg(
        "messages",
        &["cluster: Cluster", "pattern: String", "since_run: bool"],
        "Array",
        "Log lines matching `pattern`; only those written since the run started when `since_run`.",
    )
    .register_into_engine(
        engine,
        |ctx: NativeCallContext, c: &mut ClusterObj, pattern: ImmutableString, since: bool| {
            lift(c.get().messages(&pattern, since), ctx.call_position())
        },
    );
}
