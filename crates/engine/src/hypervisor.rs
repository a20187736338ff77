//! The `hypervisor` object: guests and the hosts that run them.

use rhai::{Array, Engine, ImmutableString, Map, NativeCallContext};

use super::error::{lift, usage, RhaiRes};
use super::{check_keys, opt_bool, reg};

object_handle!(
    /// The `hypervisor` global (script type `Hypervisor`).
    HypervisorObj,
    Hypervisor,
    hypervisor
);

/// The strings of `arr`, or a usage error naming the first element that is not one.
pub(crate) fn strings(arr: &Array, what: &str) -> Result<Vec<String>, String> {
    arr.iter()
        .enumerate()
        .map(|(i, v)| {
            v.clone()
                .into_string()
                .map_err(|t| format!("{what}: element {i} is {t}; every element must be a string"))
        })
        .collect()
}

/// Register `Hypervisor` and its methods.
pub fn register(engine: &mut Engine) {
    engine.register_type_with_name::<HypervisorObj>("Hypervisor");
    engine.register_fn("to_string", |_: &mut HypervisorObj| {
        "Hypervisor".to_string()
    });
    engine.register_fn("to_debug", |_: &mut HypervisorObj| "Hypervisor".to_string());

    reg(
        "guests",
        &["hypervisor: Hypervisor"],
        "Array",
        "Every guest with where it runs and its state: rows whose `name` (the guest), `host`\n(where it runs, `()` when it does not) and `state` (`running`, `stopped`, …) mean the\nsame in every driver and in `hypervisor.guest`, plus the driver's own keys.",
    )
    .register_into_engine(engine, |ctx: NativeCallContext, h: &mut HypervisorObj| {
        lift(h.get().guests(), ctx.call_position())
    });
    reg(
        "guest",
        &["hypervisor: Hypervisor", "name: String"],
        "Map",
        "One guest by name: a map with a fixed set of keys; `name`, `host` and `state` mean\nwhat they mean in a `hypervisor.guests()` row.",
    )
    .register_into_engine(
        engine,
        |ctx: NativeCallContext, h: &mut HypervisorObj, name: ImmutableString| {
            lift(h.get().guest(&name), ctx.call_position())
        },
    );
    reg(
        "hosts",
        &["hypervisor: Hypervisor"],
        "Array",
        "The hypervisor hosts (control domains, VM hosts).",
    )
    .register_into_engine(engine, |ctx: NativeCallContext, h: &mut HypervisorObj| {
        lift(h.get().hosts(), ctx.call_position())
    });
    reg(
        "start",
        &["hypervisor: Hypervisor", "guest: String"],
        "Map",
        "Start `guest` (changes state; guard rails apply).",
    )
    .register_into_engine(
        engine,
        |ctx: NativeCallContext, h: &mut HypervisorObj, g: ImmutableString| {
            lift(h.get().start(&g), ctx.call_position())
        },
    );
    reg(
        "stop",
        &["hypervisor: Hypervisor", "guest: String"],
        "Map",
        "Stop `guest` (changes state); refused while its cluster node is UP.",
    )
    .register_into_engine(
        engine,
        |ctx: NativeCallContext, h: &mut HypervisorObj, g: ImmutableString| {
            lift(h.get().stop(&g, false), ctx.call_position())
        },
    );
    reg(
        "stop",
        &["hypervisor: Hypervisor", "guest: String", "opts: Map"],
        "Map",
        "Stop `guest`; `opts`: `#{force: true}` stops it even while its cluster node is UP.",
    )
    .register_into_engine(
        engine,
        |ctx: NativeCallContext,
         h: &mut HypervisorObj,
         g: ImmutableString,
         opts: Map|
         -> RhaiRes<_> {
            let pos = ctx.call_position();
            check_keys(&opts, &["force"], "hypervisor.stop").map_err(|m| usage(m, pos))?;
            let force = opt_bool(&opts, "force", "hypervisor.stop").map_err(|m| usage(m, pos))?;
            lift(h.get().stop(&g, force.unwrap_or(false)), pos)
        },
    );
    reg(
        "placement",
        &["hypervisor: Hypervisor", "guest: String"],
        "Array",
        "Where `guest` may be live-migrated: `#{host, allowed, reason}` for every hypervisor host,\nby the placement rules (guest-cluster nodes on different boxes, packages inside their\nnode lists, one guest per cluster at a time). Reads only.",
    )
    .register_into_engine(
        engine,
        |ctx: NativeCallContext, h: &mut HypervisorObj, g: ImmutableString| {
            lift(h.get().placement(&g), ctx.call_position())
        },
    );
    reg(
        "group",
        &["hypervisor: Hypervisor", "guest: String"],
        "Map",
        "The group `guest` moves within: `#{guest, kind, members}` (`kind`: `guest_cluster`,\n`package` or `none`). Reads only.",
    )
    .register_into_engine(
        engine,
        |ctx: NativeCallContext, h: &mut HypervisorObj, g: ImmutableString| {
            lift(h.get().group(&g), ctx.call_position())
        },
    );
}
