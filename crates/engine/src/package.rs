//! The `package` object: HA packages (Serviceguard packages, RMS userApplications).

use rhai::{Dynamic, Engine, ImmutableString, Map, NativeCallContext};

use super::error::{lift, usage, RhaiRes};
use super::{check_keys, reg};

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

    two_names(
        engine,
        "run_on",
        "node",
        "Start package `name` on `node` (`cmrunpkg -n`), then enable its switching and read it\nback (changes state).",
        |p, n, node| p.run_on(n, node),
    );
    one_name(
        engine,
        "enable",
        "Enable package switching of `name` (`cmmodpkg -e`) and read it back (changes state). On\nServiceguard, a VM package's switching is enabled only when exactly one VM host runs its\nguest and that host owns the package (an interlock: `needs_attention` otherwise, with\nwhat was found); start a halted package with `package.run`.",
        |p, n| p.enable(n, None),
    );
    one_name(
        engine,
        "disable",
        "Disable package switching of `name` (`cmmodpkg -d`) and read it back (changes state).",
        |p, n| p.disable(n, None),
    );
    two_names(
        engine,
        "enable_node",
        "node",
        "Enable node switching of package `name` on `node` (`cmmodpkg -e -n`; changes state).",
        |p, n, node| p.enable(n, Some(node)),
    );
    two_names(
        engine,
        "disable_node",
        "node",
        "Disable node switching of package `name` on `node` (`cmmodpkg -d -n`; changes state).",
        |p, n, node| p.disable(n, Some(node)),
    );
    reg(
        "in_maintenance",
        &["package: Package", "name: String"],
        "bool",
        "Whether package `name` is in the toolkit's maintenance mode (its maintenance file\nexists in `TKIT_DIR`). Not Serviceguard's own `cmmodpkg -m`.",
    )
    .register_into_engine(
        engine,
        |ctx: NativeCallContext, p: &mut PackageObj, name: ImmutableString| -> RhaiRes<bool> {
            p.get()
                .in_maintenance(&name)
                .map_err(|e| super::error::throw(e, ctx.call_position()))
        },
    );
    reg(
        "maintenance",
        &["package: Package", "name: String", "on: bool"],
        "Map",
        "Enter (`true`) or leave (`false`) the toolkit's maintenance mode\n(`cmdeployvpkg -m 1|0 -P <vm>`, B3). Entering needs `MAINTENANCE_FLAG yes` in the package\nfile and runs on the owner; leaving runs on every member that holds the maintenance file\n(the result's `hosts`), then reads back that the guest is monitored again. Already in the\nasked state: nothing is sent and the result says so. On Serviceguard the same as\n`package.maintenance_on` / `maintenance_off` + `verify_monitored`, which\nhpvm/maintenance runs as steps.",
    )
    .register_into_engine(
        engine,
        |ctx: NativeCallContext, p: &mut PackageObj, name: ImmutableString, on: bool| {
            lift(p.get().maintenance(&name, on), ctx.call_position())
        },
    );
    one_name(
        engine,
        "read_config",
        "The package configuration file of `name`: `#{path, host, text}` (read on the owner, or\nthe first member).",
        |p, n| p.read_config(n),
    );
    reg(
        "write_config",
        &["package: Package", "name: String", "text: String"],
        "Map",
        "Write the package configuration file of `name` on every member of its node list\n(mode 0644, directory not writable by group or others; changes state).",
    )
    .register_into_engine(
        engine,
        |ctx: NativeCallContext, p: &mut PackageObj, name: ImmutableString, text: ImmutableString| {
            lift(p.get().write_config(&name, &text, None), ctx.call_position())
        },
    );
    reg(
        "write_config",
        &[
            "package: Package",
            "name: String",
            "text: String",
            "host: String",
        ],
        "Map",
        "Write the package configuration file of `name` on `host` only (changes state).",
    )
    .register_into_engine(
        engine,
        |ctx: NativeCallContext,
         p: &mut PackageObj,
         name: ImmutableString,
         text: ImmutableString,
         host: ImmutableString| {
            lift(
                p.get().write_config(&name, &text, Some(&host)),
                ctx.call_position(),
            )
        },
    );
    one_name(
        engine,
        "make",
        "B1 steps 1-2: create `/etc/cmcluster/<name>/` and the package file from the toolkit's\ntemplate (`cmmakepkg -m tkit/vtn/vtn -n <name>`; changes state).",
        |p, n| p.make(n, None),
    );
    two_names(
        engine,
        "make",
        "host",
        "B1 steps 1-2 on `host` (changes state).",
        |p, n, host| p.make(n, Some(host)),
    );
    one_name(
        engine,
        "distribute",
        "Copy the package directory of `name` to every member of its node list and make it\nnot writable by group or others (`chmod go-w`; changes state).",
        |p, n| p.distribute(n),
    );
    one_name(
        engine,
        "check",
        "Verify the package configuration of `name` (`cmcheckconf -P`); throws a `check` error\nnaming each problem and its remedy. When it fails after an edit of this run not yet\napplied (`write_config`, `save_config`, `deploy` of an existing package), the previous\nfile is put back on every member first and the error says so (the edit is not kept).",
        |p, n| p.check(n),
    );
    one_name(
        engine,
        "apply",
        "Apply the package configuration of `name` (`cmapplyconf -P`; changes state).",
        |p, n| p.apply(n),
    );
    with_opts(
        engine,
        "deploy",
        &["nodes", "appmon", "merge", "replace"],
        "The toolkit's easy deployment (`cmdeployvpkg -Q -P <name>`, B2), one command; `opts`:\n`nodes` (array of VM hosts, `-n` each), `appmon` (a spec\n`<name>:<command>:<timeout>:<restart>:<halt_timeout>` or an array of them, merged with\n`-x merge -x appmon=`). The guest must be running and the toolkit installed where it\nruns. A monitor that duplicates a service of the file it merges into (its name as\n`<name>` or `<vm>-<name>`, or its command to the guest) is refused before `cmdeployvpkg` is\nsent (exit 3). Without `merge`, an existing package file is regenerated: when that would\nlose its application monitors, NFS entries or node switching Serviceguard disabled, it is\nrefused with the list (exit 3, nothing sent) unless `replace: true`. The result is\nre-checked on every node. Tapes, DVDs, burners and changers of the guest are warned about\n(not in the file). The volume groups of its logical volumes missing from the file are\nreturned as `missing_vgs` (add them with `package.add_vgs`); a guest on NFS needs its NFS\nentry added by hand (`package.check_nfs_entries`; apply and run refuse it until then).\nChanges state.",
        |p, n, o| p.deploy(n, o),
    );
    one_name(
        engine,
        "remove",
        "Remove package `name` from the cluster (`cmdeployvpkg -P <name> -U`, one command), read\nback. Refused unless the package is halted: halting stops its guest, a decision\nhpvm/remove-package asks before `package.halt`. Asks nothing itself (changes state).",
        |p, n| p.remove(n),
    );
    one_name(
        engine,
        "backup",
        "Back up the package directory of `name` on every member; returns where (changes\nstate: adds files).",
        |p, n| p.backup(n),
    );
    one_name(
        engine,
        "diagnose",
        "The manual's troubleshooting table (B6, §7) for package `name`: one verdict per row\n`#{row, ok, finding, remedy}`.",
        |p, n| p.diagnose(n),
    );
}

type Pkg = std::sync::Arc<dyn hascript_api::Package>;

/// Register `name(package, name: String) -> Map` over a driver call.
fn one_name(
    engine: &mut Engine,
    fname: &str,
    doc: &str,
    f: fn(&Pkg, &str) -> hascript_api::Result<hascript_api::objects::Value>,
) {
    reg(fname, &["package: Package", "name: String"], "Map", doc).register_into_engine(
        engine,
        move |ctx: NativeCallContext, p: &mut PackageObj, name: ImmutableString| {
            lift(f(&p.get(), &name), ctx.call_position())
        },
    );
}

/// Register `fname(package, name: String, <second>: String) -> Map` over a driver call.
fn two_names(
    engine: &mut Engine,
    fname: &str,
    second: &str,
    doc: &str,
    f: fn(&Pkg, &str, &str) -> hascript_api::Result<hascript_api::objects::Value>,
) {
    let second = format!("{second}: String");
    reg(
        fname,
        &["package: Package", "name: String", second.as_str()],
        "Map",
        doc,
    )
    .register_into_engine(
        engine,
        move |ctx: NativeCallContext,
              p: &mut PackageObj,
              name: ImmutableString,
              b: ImmutableString| { lift(f(&p.get(), &name, &b), ctx.call_position()) },
    );
}

/// Register `fname(package, name: String, opts: Map) -> Map` (and the form without
/// `opts`); unknown keys are a usage error.
fn with_opts(
    engine: &mut Engine,
    fname: &'static str,
    allowed: &'static [&'static str],
    doc: &str,
    f: fn(
        &Pkg,
        &str,
        &hascript_api::objects::Value,
    ) -> hascript_api::Result<hascript_api::objects::Value>,
) {
    reg(
        fname,
        &["package: Package", "name: String", "opts: Map"],
        "Map",
        doc,
    )
    .register_into_engine(
        engine,
        move |ctx: NativeCallContext,
              p: &mut PackageObj,
              name: ImmutableString,
              opts: Map|
              -> RhaiRes<Dynamic> {
            let pos = ctx.call_position();
            let what = format!("package.{fname}");
            check_keys(&opts, allowed, &what).map_err(|m| usage(m, pos))?;
            let json: hascript_api::objects::Value =
                rhai::serde::from_dynamic(&Dynamic::from_map(opts))
                    .map_err(|e| usage(format!("{what}: options: {e}"), pos))?;
            lift(f(&p.get(), &name, &json), pos)
        },
    );
    reg(fname, &["package: Package", "name: String"], "Map", doc).register_into_engine(
        engine,
        move |ctx: NativeCallContext, p: &mut PackageObj, name: ImmutableString| {
            let empty = hascript_api::objects::Value::Object(Default::default());
            lift(f(&p.get(), &name, &empty), ctx.call_position())
        },
    );
}
