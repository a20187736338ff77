//! `host(name)`: generic commands on one inventory host, argv (quoted for you) or raw
//! shell text (your responsibility).

use std::sync::Arc;

use hascript_api::objects::Context;
use hascript_api::{Command, Effect, Error, ErrorKind, ExitStatus, Output};
use rhai::{Array, Dynamic, Engine, ImmutableString, Map, NativeCallContext};

use super::error::{throw, usage, RhaiRes};
use super::hypervisor::strings;
use super::{check_keys, opt_bool, reg, seconds, RunEnv};

/// A host of the site (script type `Host`).
#[derive(Clone)]
pub struct HostObj {
    name: String,
    ctx: Arc<Context>,
    /// The run's secret values (`secrets.<name>`): a command that carries one is marked
    /// with it ([`Command::with_secret`]), so it is shown as `*****` and the local
    /// transport refuses to put it on this machine's process list.
    secrets: Arc<Vec<String>>,
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
    cmd = mark_secrets(cmd, &h.secrets);
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
        let how = match out.status.signal() {
            Some(sig) => format!("was killed by signal {sig}"),
            None => format!("with exit {}", out.code()),
        };
        let verb = if out.status.signal().is_some() {
            ""
        } else {
            "failed "
        };
        let msg = match detail {
            Some(l) => format!("`{}` {verb}on {} {how}: {l}", cmd.display(), h.name),
            None => format!("`{}` {verb}on {} {how}", cmd.display(), h.name),
        };
        return Err(throw(
            Error::new(ErrorKind::Command, msg)
                .on_host(&h.name)
                .with_command(cmd.display())
                .with_status(&out.status)
                .with_stderr(out.stderr.clone()),
            pos,
        ));
    }
    let mut m = Map::new();
    m.insert("host".into(), h.name.clone().into());
    m.insert("command".into(), cmd.display().into());
    insert_output(&mut m, out, ctx.engine().max_array_size());
    Ok(m.into())
}

/// How a command ended and what it wrote, as the script sees it — always the same keys
/// (reading a key a map lacks is an error): `exit` (`()` when a signal killed it),
/// `signal` (`"KILL"`, or `()`), `stdout`/`stderr` as text, and `stdout_bytes`/
/// `stderr_bytes`, the exact bytes (a blob) of output that is not UTF-8 (else `()`).
/// `max_bytes` is the engine's array/blob limit (0: none): a larger blob would fail the
/// script's call, so output past it that is not UTF-8 comes as text only (the journal
/// keeps its excerpt's exact bytes).
fn insert_output(m: &mut Map, out: Output, max_bytes: usize) {
    let (exit, signal) = match &out.status {
        ExitStatus::Code(c) => (Dynamic::from_int((*c).into()), Dynamic::UNIT),
        ExitStatus::Signal(s) => (Dynamic::UNIT, s.clone().into()),
    };
    m.insert("exit".into(), exit);
    m.insert("signal".into(), signal);
    m.insert("stdout".into(), out.stdout.into());
    m.insert("stderr".into(), out.stderr.into());
    let fits = |b: &Vec<u8>| max_bytes == 0 || b.len() <= max_bytes;
    let blob = |b: Option<Vec<u8>>| b.filter(fits).map_or(Dynamic::UNIT, Dynamic::from_blob);
    m.insert("stdout_bytes".into(), blob(out.stdout_raw));
    m.insert("stderr_bytes".into(), blob(out.stderr_raw));
}

/// `cmd` marked with every secret value of the run that its program text holds.
fn mark_secrets(mut cmd: Command, secrets: &[String]) -> Command {
    let text = match &cmd.program {
        hascript_api::Program::Argv(a) => a.join("\n"),
        hascript_api::Program::Shell(t) => t.clone(),
    };
    for v in secrets {
        if !v.is_empty() && text.contains(v.as_str()) {
            cmd = cmd.with_secret(v.clone());
        }
    }
    cmd
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

/// The run's context as a transport, so a fan-out checks cancellation and records changes
/// like every other command.
struct ContextExec(Arc<Context>);

impl hascript_api::Exec for ContextExec {
    fn exec(&self, cmd: &Command) -> Result<Output, Error> {
        self.0.run(cmd)
    }
}

const ALL_OPTS: [&str; 5] = ["changes", "timeout", "stdin", "limit", "stop_on_error"];

/// `run_all(hosts, argv, opts)`: one command on many hosts at once, results in the order
/// of `hosts`; a failure on one host is reported in its slot and never throws.
fn run_all(
    call: &NativeCallContext,
    site_hosts: &[String],
    ctx: &Arc<Context>,
    hosts: &Array,
    argv: &Array,
    opts: &Map,
    secrets: &[String],
) -> RhaiRes<Array> {
    let pos = call.call_position();
    let func = "run_all";
    check_keys(opts, &ALL_OPTS, func).map_err(|m| usage(m, pos))?;
    let hosts = strings(hosts, "run_all: hosts").map_err(|m| usage(m, pos))?;
    if let Some(h) = hosts.iter().find(|h| !site_hosts.contains(h)) {
        return Err(usage(
            format!(
                "run_all: unknown host {h:?}; the site's hosts are: {}",
                site_hosts.join(", ")
            ),
            pos,
        ));
    }
    let words = strings(argv, "run_all: argv").map_err(|m| usage(m, pos))?;
    if words.is_empty() {
        return Err(usage(
            "run_all: the argv array is empty; give the program and its arguments",
            pos,
        ));
    }
    let changes = opt_bool(opts, "changes", func)
        .map_err(|m| usage(m, pos))?
        .unwrap_or(true);
    let stop_on_error = opt_bool(opts, "stop_on_error", func)
        .map_err(|m| usage(m, pos))?
        .unwrap_or(false);
    let limit = match opts.get("limit") {
        None => 16,
        Some(v) => match v.as_int() {
            Ok(n) if n >= 1 => usize::try_from(n).unwrap_or(usize::MAX),
            _ => {
                return Err(usage(
                    "run_all: option `limit` must be a whole number from 1 up",
                    pos,
                ))
            }
        },
    };
    let timeout = match opts.get("timeout") {
        Some(t) => Some(seconds(t, "run_all: option `timeout`").map_err(|m| usage(m, pos))?),
        None => None,
    };
    let stdin = match opts.get("stdin") {
        Some(s) => Some(
            s.clone()
                .into_string()
                .map_err(|t| {
                    usage(
                        format!("run_all: option `stdin` must be a string, not {t}"),
                        pos,
                    )
                })?
                .into_bytes(),
        ),
        None => None,
    };
    let effect = if changes {
        Effect::Change
    } else {
        Effect::Read
    };
    let cmds: Vec<Command> = hosts
        .iter()
        .map(|h| {
            let mut c = mark_secrets(Command::argv(h, &words, effect), secrets);
            c.timeout = timeout;
            c.stdin = stdin.clone();
            c
        })
        .collect();
    let results = hascript_api::fan_out(
        &ContextExec(ctx.clone()),
        &cmds,
        &hascript_api::FanOut {
            limit,
            stop_on_error,
        },
    );
    Ok(cmds
        .iter()
        .zip(results)
        .map(|(cmd, r)| {
            let mut m = Map::new();
            m.insert("host".into(), cmd.host.clone().into());
            m.insert("command".into(), cmd.display().into());
            match r {
                Ok(out) => {
                    m.insert("ok".into(), out.success().into());
                    insert_output(&mut m, out, call.engine().max_array_size());
                    m.insert("error".into(), Dynamic::UNIT);
                }
                Err(e) => {
                    m.insert("ok".into(), false.into());
                    // The keys of a row that ran, so a script reads every row alike.
                    for k in ["exit", "signal", "stdout_bytes", "stderr_bytes"] {
                        m.insert(k.into(), Dynamic::UNIT);
                    }
                    m.insert("stdout".into(), "".into());
                    m.insert("stderr".into(), "".into());
                    m.insert("error".into(), e.to_string().into());
                }
            }
            Dynamic::from_map(m)
        })
        .collect())
}

/// Register `Host`, `host(name)` and the host methods.
pub fn register(engine: &mut Engine, run: &RunEnv) {
    engine.register_type_with_name::<HostObj>("Host");
    engine.register_fn("to_string", |h: &mut HostObj| format!("Host({})", h.name));
    engine.register_fn("to_debug", |h: &mut HostObj| format!("Host({})", h.name));
    engine.register_get("name", |h: &mut HostObj| h.name.clone());

    let site = run.site.clone();
    let ctx = Arc::new(run.ctx.clone());
    let secrets: Arc<Vec<String>> = Arc::new(run.secrets.values().cloned().collect());
    let host_secrets = secrets.clone();
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
                secrets: host_secrets.clone(),
            })
        },
    );

    for with_opts in [false, true] {
        let site = run.site.clone();
        let ctx = Arc::new(run.ctx.clone());
        let secrets = secrets.clone();
        let doc = if with_opts {
            "Run one program on many hosts at once; `opts`: `#{changes: bool (true), timeout:\nseconds, stdin: string, limit: how many at once (16), stop_on_error: bool (false:\none host's failure never stops the others)}`."
        } else {
            "Run one program (`argv`, one word per element) on every host of `hosts` at once, at\nmost 16 at a time; returns one `#{host, command, ok, exit, stdout, stderr, error}` per host in the order of\n`hosts` (and `signal`, `stdout_bytes`, `stderr_bytes` as for `host.run`; every row has every key). A failing host is reported in its slot (`ok: false`,\n`error`), never thrown. Counts as a change unless `#{changes: false}`."
        };
        let params: &[&str] = if with_opts {
            &["hosts: Array", "argv: Array", "opts: Map"]
        } else {
            &["hosts: Array", "argv: Array"]
        };
        if with_opts {
            reg("run_all", params, "Array", doc).register_into_engine(
                engine,
                move |call: NativeCallContext, hosts: Array, argv: Array, opts: Map| {
                    run_all(&call, &site.hosts(), &ctx, &hosts, &argv, &opts, &secrets)
                },
            );
        } else {
            reg("run_all", params, "Array", doc).register_into_engine(
                engine,
                move |call: NativeCallContext, hosts: Array, argv: Array| {
                    run_all(
                        &call,
                        &site.hosts(),
                        &ctx,
                        &hosts,
                        &argv,
                        &Map::new(),
                        &secrets,
                    )
                },
            );
        }
    }

    reg(
        "run",
        &["host: Host", "argv: Array"],
        "Map",
        "Run a program on the host: `argv` is the program and its arguments, each passed as one\nword. Counts as a change. Returns `#{host, command, exit, signal, stdout, stderr, stdout_bytes, stderr_bytes}`:\n`signal` (`\"KILL\"`) for a killed command (whose `exit` is `()`), `stdout_bytes`/\n`stderr_bytes` (the exact bytes, a blob) for output that is not UTF-8, `()` otherwise; a\nnon-zero exit or a signal throws a `command` error.",
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
        "Run raw `sh` text on the host (quoting is your responsibility). Counts as a change.\nReturns the same map as `run`; a non-zero exit or a signal throws.",
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
