//! The `PackageConf` script type: a Serviceguard package configuration file as an editable
//! document (`hascript_hpvm::pkgconf`), and the application-monitor specifications of the
//! toolkit (`appmon`). Untouched lines, comments and order survive byte for byte.

use hascript_hpvm::appmon::AppMonitor;
use hascript_hpvm::pkgconf::{PackageConf, PkgConfError, ServiceBlock};
use rhai::{Array, Dynamic, Engine, ImmutableString, Map, NativeCallContext, Position};

use super::error::{throw, usage, RhaiRes};
use super::hypervisor::strings;
use super::package::PackageObj;
use super::reg;

/// A package configuration file in a script, with where it was read (when it was).
#[derive(Clone)]
pub struct ConfDoc {
    doc: PackageConf,
    path: String,
    host: String,
}

/// A duplicate service is the file's state refusing a well-formed edit (a check, exit 3,
/// nothing sent); any other edit error is a mistake in the script or its parameters (usage).
fn edit_err(e: PkgConfError, pos: Position) -> Box<rhai::EvalAltResult> {
    match &e {
        PkgConfError::DuplicateMonitor(c) => throw(
            hascript_api::Error::check(c.to_string()).with_remedy(c.remedy()),
            pos,
        ),
        PkgConfError::DuplicateService { .. } => throw(
            hascript_api::Error::check(e.to_string())
                .with_remedy("choose another service name, or remove the existing service first"),
            pos,
        ),
        _ => usage(e.to_string(), pos),
    }
}

fn service_map(s: &ServiceBlock) -> Map {
    let mut m = Map::new();
    m.insert("name".into(), s.name.clone().into());
    m.insert("cmd".into(), s.cmd.clone().into());
    let opt = |v: &Option<String>| v.clone().map_or(Dynamic::UNIT, Dynamic::from);
    m.insert("restart".into(), opt(&s.restart));
    m.insert("fail_fast".into(), opt(&s.fail_fast));
    m.insert("halt_timeout".into(), opt(&s.halt_timeout));
    let other: Map = s
        .other
        .iter()
        .map(|(k, v)| (k.as_str().into(), Dynamic::from(v.clone())))
        .collect();
    m.insert("other".into(), other.into());
    m
}

fn service_of(m: &Map, pos: Position) -> RhaiRes<ServiceBlock> {
    let allowed = [
        "name",
        "cmd",
        "restart",
        "fail_fast",
        "halt_timeout",
        "other",
    ];
    if let Some(k) = m.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(usage(
            format!(
                "add_service: unknown key `{k}`; a service is #{{name, cmd, restart, fail_fast, halt_timeout, other}}"
            ),
            pos,
        ));
    }
    let text = |k: &str, required: bool| -> RhaiRes<Option<String>> {
        match m.get(k) {
            None => {
                if required {
                    Err(usage(format!("add_service: `{k}` is required"), pos))
                } else {
                    Ok(None)
                }
            }
            Some(v) if v.is_unit() && !required => Ok(None),
            Some(v) => Ok(Some(v.to_string())),
        }
    };
    Ok(ServiceBlock {
        name: text("name", true)?.unwrap_or_default(),
        cmd: text("cmd", true)?.unwrap_or_default(),
        restart: text("restart", false)?,
        fail_fast: text("fail_fast", false)?,
        halt_timeout: text("halt_timeout", false)?,
        other: match m.get("other") {
            None => Vec::new(),
            Some(v) if v.is_unit() => Vec::new(),
            Some(v) => match v.read_lock::<Map>() {
                Some(o) => o
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                None => {
                    return Err(usage(
                        "add_service: `other` must be a map of further service_* keys",
                        pos,
                    ))
                }
            },
        },
    })
}

fn appmon_of(spec: &str, pos: Position) -> RhaiRes<AppMonitor> {
    AppMonitor::parse(spec).map_err(|e| usage(e.to_string(), pos))
}

fn doc_from(text: &str, path: String, host: String, pos: Position) -> RhaiRes<ConfDoc> {
    match PackageConf::parse(text) {
        Ok(doc) => Ok(ConfDoc { doc, path, host }),
        Err(e) => {
            let where_ = match (path.is_empty(), host.is_empty()) {
                (true, _) => String::new(),
                (false, true) => format!("{path}: "),
                (false, false) => format!("{host}:{path}: "),
            };
            Err(throw(
                hascript_api::Error::new(hascript_api::ErrorKind::Parse, format!("{where_}{e}")),
                pos,
            ))
        }
    }
}

/// Register `PackageConf`, `package_conf(text)`, `package.config(name)`,
/// `package.save_config(...)` and the `appmon` helpers.
pub fn register(engine: &mut Engine) {
    engine.register_type_with_name::<ConfDoc>("PackageConf");
    engine.register_fn("to_string", |c: &mut ConfDoc| c.doc.to_text());
    engine.register_fn("to_debug", |c: &mut ConfDoc| {
        format!(
            "PackageConf({})",
            if c.path.is_empty() { "text" } else { &c.path }
        )
    });

    reg(
        "package_conf",
        &["text: String"],
        "PackageConf",
        "Read the text of a Serviceguard package configuration file into an editable\ndocument; a legacy control script (`SERVICE_NAME[1]=…`) is refused with a clear error.",
    )
    .register_into_engine(engine, |ctx: NativeCallContext, text: ImmutableString| {
        doc_from(&text, String::new(), String::new(), ctx.call_position())
    });
    reg(
        "config",
        &["package: Package", "name: String"],
        "PackageConf",
        "The package configuration file of package `name` (`/etc/cmcluster/<name>/<name>.conf`),\nread on its owner or first member, as an editable document.",
    )
    .register_into_engine(
        engine,
        |ctx: NativeCallContext, p: &mut PackageObj, name: ImmutableString| -> RhaiRes<ConfDoc> {
            let pos = ctx.call_position();
            let v = p.get().read_config(&name).map_err(|e| throw(e, pos))?;
            let field = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
            doc_from(&field("text"), field("path"), field("host"), pos)
        },
    );
    reg(
        "save_config",
        &["package: Package", "name: String", "conf: PackageConf"],
        "Map",
        "Write `conf` as the package configuration file of `name` on every member of its node\nlist (mode 0644; changes state).",
    )
    .register_into_engine(
        engine,
        |ctx: NativeCallContext, p: &mut PackageObj, name: ImmutableString, c: ConfDoc| {
            super::error::lift(
                p.get().write_config(&name, &c.doc.to_text(), None),
                ctx.call_position(),
            )
        },
    );
    reg(
        "save_config",
        &[
            "package: Package",
            "name: String",
            "conf: PackageConf",
            "host: String",
        ],
        "Map",
        "Write `conf` as the package configuration file of `name` on `host` only (changes state).",
    )
    .register_into_engine(
        engine,
        |ctx: NativeCallContext,
         p: &mut PackageObj,
         name: ImmutableString,
         c: ConfDoc,
         host: ImmutableString| {
            super::error::lift(
                p.get().write_config(&name, &c.doc.to_text(), Some(&host)),
                ctx.call_position(),
            )
        },
    );

    reg(
        "text",
        &["conf: PackageConf"],
        "String",
        "The whole file as it would be written.",
    )
    .register_into_engine(engine, |c: &mut ConfDoc| c.doc.to_text());
    engine.register_get("path", |c: &mut ConfDoc| c.path.clone());
    engine.register_get("host", |c: &mut ConfDoc| c.host.clone());
    reg(
        "get",
        &["conf: PackageConf", "key: String"],
        "String",
        "The value of the first `key` line (unquoted), or `()` when there is none. A toolkit\nattribute is found by its short name too (`TKIT_DIR` finds `tkit/vtn/vtn/TKIT_DIR`).",
    )
    .register_into_engine(engine, |c: &mut ConfDoc, key: ImmutableString| {
        c.doc
            .get(&key)
            .map_or(Dynamic::UNIT, |v| Dynamic::from(v.to_string()))
    });
    reg(
        "get_all",
        &["conf: PackageConf", "key: String"],
        "Array",
        "Every value of a repeated key, in order (`node_name`, `module_name` …).",
    )
    .register_into_engine(engine, |c: &mut ConfDoc, key: ImmutableString| -> Array {
        c.doc
            .get_all(&key)
            .into_iter()
            .map(|v| Dynamic::from(v.to_string()))
            .collect()
    });
    reg(
        "entries",
        &["conf: PackageConf"],
        "Array",
        "Every `key value` entry in file order, as `#{key, value}` maps.",
    )
    .register_into_engine(engine, |c: &mut ConfDoc| -> Array {
        c.doc
            .entries()
            .into_iter()
            .map(|(k, v)| {
                let mut m = Map::new();
                m.insert("key".into(), k.to_string().into());
                m.insert("value".into(), v.to_string().into());
                Dynamic::from_map(m)
            })
            .collect()
    });
    reg(
        "node_names",
        &["conf: PackageConf"],
        "Array",
        "The `node_name` values in order.",
    )
    .register_into_engine(engine, |c: &mut ConfDoc| -> Array {
        c.doc
            .node_names()
            .into_iter()
            .map(|v| Dynamic::from(v.to_string()))
            .collect()
    });
    reg(
        "services",
        &["conf: PackageConf"],
        "Array",
        "The service blocks in order: `#{name, cmd, restart, fail_fast, halt_timeout, other}`.",
    )
    .register_into_engine(engine, |c: &mut ConfDoc| -> Array {
        c.doc
            .services()
            .iter()
            .map(|s| Dynamic::from_map(service_map(s)))
            .collect()
    });
    reg(
        "set",
        &["conf: PackageConf", "key: String", "value: String"],
        "()",
        "Set the first `key` line's value in place (added after its module's entries when\nabsent). Values with spaces are written quoted.",
    )
    .register_into_engine(
        engine,
        |ctx: NativeCallContext, c: &mut ConfDoc, key: ImmutableString, value: Dynamic| -> RhaiRes<()> {
            c.doc
                .set(&key, &value.to_string())
                .map_err(|e| edit_err(e, ctx.call_position()))
        },
    );
    reg(
        "add",
        &["conf: PackageConf", "key: String", "value: String"],
        "()",
        "Add a `key value` line after the last line of that key (for repeated keys).",
    )
    .register_into_engine(
        engine,
        |ctx: NativeCallContext,
         c: &mut ConfDoc,
         key: ImmutableString,
         value: Dynamic|
         -> RhaiRes<()> {
            c.doc
                .add(&key, &value.to_string())
                .map_err(|e| edit_err(e, ctx.call_position()))
        },
    );
    reg(
        "set_all",
        &["conf: PackageConf", "key: String", "values: Array"],
        "()",
        "Replace every `key` line by one line per value, at the place of the first\n(e.g. `conf.set_all(\"node_name\", [\"node1\", \"node2\"])`).",
    )
    .register_into_engine(
        engine,
        |ctx: NativeCallContext, c: &mut ConfDoc, key: ImmutableString, values: Array| -> RhaiRes<()> {
            let pos = ctx.call_position();
            let values = strings(&values, "set_all").map_err(|m| usage(m, pos))?;
            let refs: Vec<&str> = values.iter().map(String::as_str).collect();
            c.doc.set_all(&key, &refs).map_err(|e| edit_err(e, pos))
        },
    );
    reg(
        "remove",
        &["conf: PackageConf", "key: String"],
        "i64",
        "Remove every `key` line; returns how many were removed.",
    )
    .register_into_engine(
        engine,
        |ctx: NativeCallContext, c: &mut ConfDoc, key: ImmutableString| -> RhaiRes<i64> {
            c.doc
                .remove(&key)
                .map(|n| i64::try_from(n).unwrap_or(i64::MAX))
                .map_err(|e| edit_err(e, ctx.call_position()))
        },
    );
    reg(
        "remove_value",
        &["conf: PackageConf", "key: String", "value: String"],
        "i64",
        "Remove the `key` lines whose value is `value`; returns how many were removed.",
    )
    .register_into_engine(
        engine,
        |ctx: NativeCallContext,
         c: &mut ConfDoc,
         key: ImmutableString,
         value: ImmutableString|
         -> RhaiRes<i64> {
            c.doc
                .remove_value(&key, &value)
                .map(|n| i64::try_from(n).unwrap_or(i64::MAX))
                .map_err(|e| edit_err(e, ctx.call_position()))
        },
    );
    reg(
        "add_service",
        &["conf: PackageConf", "service: Map"],
        "()",
        "Add a service block after the last one: `#{name, cmd, restart, fail_fast,\nhalt_timeout}` (`name` and `cmd` required). A service of that name already there is\nrefused (exit 3); so is an application monitor (a `cmappmgr` service) whose name a service\nhas in the other form (`<name>` as `cmdeployvpkg` writes it, `<guest>-<name>` by hand) or\nwhose command another service already sends to the same guest.",
    )
    .register_into_engine(
        engine,
        |ctx: NativeCallContext, c: &mut ConfDoc, service: Map| -> RhaiRes<()> {
            let pos = ctx.call_position();
            let block = service_of(&service, pos)?;
            c.doc.add_service(&block).map_err(|e| edit_err(e, pos))
        },
    );
    reg(
        "remove_service",
        &["conf: PackageConf", "name: String"],
        "()",
        "Remove the service block `name` (all its `service_*` lines).",
    )
    .register_into_engine(
        engine,
        |ctx: NativeCallContext, c: &mut ConfDoc, name: ImmutableString| -> RhaiRes<()> {
            c.doc
                .remove_service(&name)
                .map_err(|e| edit_err(e, ctx.call_position()))
        },
    );

    reg(
        "appmon",
        &["spec: String"],
        "Map",
        "Read an application-monitor specification `<name>:<command>:<timeout>:<restart>:<halt_timeout>`\n(B4): the name is the first field, timeout, restart (a number, `none` or `unlimited`)\nand halt timeout the last three, the command everything between (it may contain `:`).\nA malformed spec is a usage error naming the field.",
    )
    .register_into_engine(engine, |ctx: NativeCallContext, spec: ImmutableString| -> RhaiRes<Map> {
        let a = appmon_of(&spec, ctx.call_position())?;
        let mut m = Map::new();
        m.insert("name".into(), a.name.clone().into());
        m.insert("command".into(), a.command.clone().into());
        m.insert("timeout".into(), i64::from(a.timeout).into());
        m.insert("restart".into(), a.restart.to_string().into());
        m.insert("halt_timeout".into(), i64::from(a.halt_timeout).into());
        m.insert("spec".into(), a.to_spec().into());
        Ok(m)
    });
    reg(
        "appmon_service",
        &["spec: String", "guest: String"],
        "Map",
        "The service block monitoring an application of `guest` (B4 step 5): `service_name`\n`<guest>-<name>`, `service_cmd` `/usr/sbin/cmappmgr -node <guest> -cmappserver_timeout\n<timeout> -service <command>`, restarts, `fail_fast no`, halt timeout — ready for\n`conf.add_service(...)`.",
    )
    .register_into_engine(
        engine,
        |ctx: NativeCallContext, spec: ImmutableString, guest: ImmutableString| -> RhaiRes<Map> {
            let pos = ctx.call_position();
            hascript_api::validate_name("guest", &guest).map_err(|e| throw(e, pos))?;
            let a = appmon_of(&spec, pos)?;
            Ok(service_map(&a.service_block(&guest)))
        },
    );
}
