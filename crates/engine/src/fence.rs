//! The `fence` object: the cluster's fencing (PRIMECLUSTER shutdown facility).

use rhai::{Engine, NativeCallContext};

use super::error::lift;
use super::reg;

object_handle!(
    /// The `fence` global (script type `Fence`).
    FenceObj,
    Fence,
    fence
);

/// Register `Fence` and its methods.
pub fn register(engine: &mut Engine) {
    engine.register_type_with_name::<FenceObj>("Fence");
    engine.register_fn("to_string", |_: &mut FenceObj| "Fence".to_string());
    engine.register_fn("to_debug", |_: &mut FenceObj| "Fence".to_string());

    reg(
        "agents",
        &["fence: Fence"],
        "Array",
        "The fencing agents with their states, one row each (`sdtool -s`).",
    )
    .register_into_engine(engine, |ctx: NativeCallContext, f: &mut FenceObj| {
        lift(f.get().agents(), ctx.call_position())
    });
    reg(
        "config",
        &["fence: Fence"],
        "Array",
        "The fencing configuration, one row per node (`clsnmpsetup -l`).",
    )
    .register_into_engine(engine, |ctx: NativeCallContext, f: &mut FenceObj| {
        lift(f.get().config(), ctx.call_position())
    });
    reg(
        "verify",
        &["fence: Fence"],
        "Map",
        "A verdict on the fencing agents with the manual's remedy.",
    )
    .register_into_engine(engine, |ctx: NativeCallContext, f: &mut FenceObj| {
        lift(f.get().verify(), ctx.call_position())
    });
    reg(
        "start",
        &["fence: Fence"],
        "Map",
        "Start fencing (changes state).",
    )
    .register_into_engine(engine, |ctx: NativeCallContext, f: &mut FenceObj| {
        lift(f.get().start(), ctx.call_position())
    });
    reg(
        "stop",
        &["fence: Fence"],
        "Map",
        "Stop fencing (changes state; the cluster is unprotected until `start`).",
    )
    .register_into_engine(engine, |ctx: NativeCallContext, f: &mut FenceObj| {
        lift(f.get().stop(), ctx.call_position())
    });
}
