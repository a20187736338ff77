//! `host(name)`: generic commands on one inventory host, argv (quoted for you) or raw
//! shell text (your responsibility).

use std::sync::Arc;

use hascript_api::objects::Context;
use hascript_api::{Command, Effect, Error, ErrorKind, Output};
use rhai::{Array, Dynamic, Engine, ImmutableString, Map, NativeCallContext};

use super::error::{throw, usage, RhaiRes};
use super::hypervisor::strings;
use super::{check_keys, opt_bool, reg, seconds, RunEnv};

/// A host of the site (script type `Host`).
#[derive(Clone)]
pub struct HostObj {
    name: String,
    ctx: Arc<Context>,
}

impl HostObj {
    /// The inventory name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

const OPTS: [&str; 4] = ["changes", "timeout", "stdin", "check"];

fn first_line(s: &str) -> Option<&str> {
    s.lines().map(str::trim).find(|l| !l.is_empty())
}

fn run_cmd(
    ctx: &NativeCallContext,
    h: &HostObj,
    mut cmd: Command,
    opts: &Map,
    func: &str,
) -> RhaiRes<Dynamic> {
    let pos = ctx.call_position();
    check_keys(opts, &OPTS, func).map_err(|m| usage(m, pos))?;
    let changes = opt_bool(opts, "changes", func)
        .map_err(|m| usage(m, pos))?
        .unwrap_or(true);
    let check = opt_bool(opts, "check", func)
        .map_err(|m| usage(m, pos))?
        .unwrap_or(true);
    cmd.effect = if changes {
        Effect::Change
    } else {
        Effect::Read
    };
    if let Some(t) = opts.get("timeout") {
        cmd.timeout =
            Some(seconds(t, &format!("{func}: option `timeout`")).map_err(|m| usage(m, pos))?);
    }
    if let Some(s) = opts.get("stdin") {
        let s = s.clone().into_string().map_err(|t| {
            usage(
                format!("{func}: option `stdin` must be a string, not {t}"),
                pos,
            )
        })?;
        cmd.stdin = Some(s.into_bytes());
    }
    let out: Output = h.ctx.run(&cmd).map_err(|e| throw(e, pos))?;
    if check && !out.success() {
        let detail = first_line(&out.stderr).or_else(|| first_line(&out.stdout));
        let msg = match detail {
            Some(l) => format!(
                "`{}` failed on {} with exit {}: {l}",
                cmd.display(),
                h.name,
                out.code()
            ),
            None => format!(
                "`{}` failed on {} with exit {}",
                cmd.display(),
                h.name,
                out.code()
            ),
        };
        return Err(throw(
            Error::new(ErrorKind::Command, msg)
                .on_host(&h.name)
                .with_command(cmd.display())
                .with_exit(out.code())
                .with_stderr(out.stderr.clone()),
            pos,
        ));
    }
    let mut m = Map::new();
    m.insert("host".into(), h.name.clone().into());
    m.insert("command".into(), cmd.display().into());
    m.insert("exit".into(), Dynamic::from_int(out.code().into()));
    m.insert("stdout".into(), out.stdout.into());
    m.insert("stderr".into(), out.stderr.into());
    Ok(m.into())
}

fn argv_cmd(ctx: &NativeCallContext, h: &HostObj, argv: &Array) -> RhaiRes<Command> {
    let pos = ctx.call_position();
    let words = strings(argv, "host.run: argv").map_err(|m| usage(m, pos))?;
    if words.is_empty() {
        return Err(usage(
            "host.run: the argv array is empty; give the program and its arguments",
            pos,
        ));
    }
    Ok(Command::argv(&h.name, &words, Effect::Change))
}

/// Register `Host`, `host(name)` and the host methods.
pub fn register(engine: &mut Engine, run: &RunEnv) {
    engine.register_type_with_name::<HostObj>("Host");
    engine.register_fn("to_string", |h: &mut HostObj| format!("Host({})", h.name));
    engine.register_fn("to_debug", |h: &mut HostObj| format!("Host({})", h.name));
    engine.register_get("name", |h: &mut HostObj| h.name.clone());

    let site = run.site.clone();
    let ctx = Arc::new(run.ctx.clone());
    reg(
        "host",
        &["name: String"],
        "Host",
        "The inventory host `name`, for generic commands (`run`, `sh`).",
    )
    .register_into_engine(
        engine,
        move |call: NativeCallContext, name: ImmutableString| -> RhaiRes<HostObj> {
            let hosts = site.hosts();
            if !hosts.iter().any(|h| h == name.as_str()) {
                return Err(usage(
                    format!(
                        "unknown host {:?}; the site's hosts are: {}",
                        name.as_str(),
                        hosts.join(", ")
                    ),
                    call.call_position(),
                ));
            }
            Ok(HostObj {
                name: name.to_string(),
                ctx: ctx.clone(),
            })
        },
    );

    reg(
        "run",
        &["host: Host", "argv: Array"],
        "Map",
        "Run a program on the host: `argv` is the program and its arguments, each passed as one\nword. Counts as a change. Returns `#{host, command, exit, stdout, stderr}`; a non-zero\nexit throws a `command` error.",
    )
    .register_into_engine(engine, |ctx: NativeCallContext, h: &mut HostObj, argv: Array| {
        let cmd = argv_cmd(&ctx, h, &argv)?;
        run_cmd(&ctx, h, cmd, &Map::new(), "host.run")
    });
    reg(
        "run",
        &["host: Host", "argv: Array", "opts: Map"],
        "Map",
        "Run a program on the host; `opts`: `#{changes: bool (true), timeout: seconds,\nstdin: string, check: bool (true: a non-zero exit throws)}`.",
    )
    .register_into_engine(engine, |ctx: NativeCallContext, h: &mut HostObj, argv: Array, opts: Map| {
        let cmd = argv_cmd(&ctx, h, &argv)?;
        run_cmd(&ctx, h, cmd, &opts, "host.run")
    });
    reg(
        "sh",
        &["host: Host", "text: String"],
        "Map",
        "Run raw `sh` text on the host (quoting is your responsibility). Counts as a change.\nReturns `#{host, command, exit, stdout, stderr}`; a non-zero exit throws.",
    )
    .register_into_engine(engine, |ctx: NativeCallContext, h: &mut HostObj, text: ImmutableString| {
        let cmd = Command::shell(&h.name, &text, Effect::Change);
        run_cmd(&ctx, h, cmd, &Map::new(), "host.sh")
    });
    reg(
        "sh",
        &["host: Host", "text: String", "opts: Map"],
        "Map",
        "Run raw `sh` text on the host; `opts` as for `run`.",
    )
    .register_into_engine(
        engine,
        |ctx: NativeCallContext, h: &mut HostObj, text: ImmutableString, opts: Map| {
            let cmd = Command::shell(&h.name, &text, Effect::Change);
            run_cmd(&ctx, h, cmd, &opts, "host.sh")
        },
    );
}
