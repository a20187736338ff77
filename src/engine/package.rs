//! The `package` object: HA packages (Serviceguard packages, RMS userApplications).

use rhai::{Engine, ImmutableString, NativeCallContext};

use super::error::lift;
use super::reg;

object_handle!(
    /// The `package` global (script type `Package`).
    PackageObj,
    Package,
    package
);

/// Register `Package` and its methods.
pub fn register(engine: &mut Engine) {
    engine.register_type_with_name::<PackageObj>("Package");
    engine.register_fn("to_string", |_: &mut PackageObj| "Package".to_string());
    engine.register_fn("to_debug", |_: &mut PackageObj| "Package".to_string());

    reg(
        "list",
        &["package: Package"],
        "Array",
        "Every package with its state.",
    )
    .register_into_engine(engine, |ctx: NativeCallContext, p: &mut PackageObj| {
        lift(p.get().list(), ctx.call_position())
    });
    reg(
        "status",
        &["package: Package", "name: String"],
        "Map",
        "One package's status.",
    )
    .register_into_engine(
        engine,
        |ctx: NativeCallContext, p: &mut PackageObj, name: ImmutableString| {
            lift(p.get().status(&name), ctx.call_position())
        },
    );
    reg(
        "run",
        &["package: Package", "name: String"],
        "Map",
        "Start package `name` (changes state).",
    )
    .register_into_engine(
        engine,
        |ctx: NativeCallContext, p: &mut PackageObj, name: ImmutableString| {
            lift(p.get().run(&name), ctx.call_position())
        },
    );
    reg(
        "halt",
        &["package: Package", "name: String"],
        "Map",
        "Halt package `name` (changes state).",
    )
    .register_into_engine(
        engine,
        |ctx: NativeCallContext, p: &mut PackageObj, name: ImmutableString| {
            lift(p.get().halt(&name), ctx.call_position())
        },
    );
}
