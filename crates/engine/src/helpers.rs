//! Global helpers: steps, waits, confirmations, messages, failures, time on the run's
//! clock, and the verified end-state summary.

use std::time::Duration;

use hascript_api::objects::Value;
use hascript_api::{Error, ErrorKind};
use rhai::{Dynamic, Engine, EvalAltResult, FnPtr, ImmutableString, Map, NativeCallContext, INT};

use super::error::{lift, throw, usage, RhaiRes, CANCELLED};
use super::{check_keys, reg, seconds, RunEnv};

/// Default timeout of `wait_until`, in seconds.
pub const WAIT_TIMEOUT: u64 = 600;
/// Default poll interval of `wait_until`, in seconds.
pub const WAIT_INTERVAL: u64 = 10;

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::Null => Some("-".into()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        Value::Array(a) if a.iter().all(|x| !x.is_array() && !x.is_object()) => {
            Some(a.iter().filter_map(scalar).collect::<Vec<_>>().join(", "))
        }
        _ => None,
    }
}

fn render(v: &Value, indent: usize, out: &mut Vec<String>) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(m) => {
            let width = m.keys().map(|k| k.len()).max().unwrap_or(0);
            for (k, x) in m {
                match scalar(x) {
                    Some(s) => out.push(format!(
                        "{pad}{:width$}  {s}",
                        format!("{k}:"),
                        width = width + 1
                    )),
                    None => {
                        out.push(format!("{pad}{k}:"));
                        render(x, indent + 2, out);
                    }
                }
            }
        }
        Value::Array(a) => {
            for x in a {
                match scalar(x) {
                    Some(s) => out.push(format!("{pad}- {s}")),
                    None => {
                        out.push(format!("{pad}-"));
                        render(x, indent + 2, out);
                    }
                }
            }
        }
        other => out.push(format!("{pad}{}", scalar(other).unwrap_or_default())),
    }
}

/// The summary block: `Verified end state:` then aligned `key: value` lines.
pub fn format_summary(v: &Value) -> String {
    let mut lines = vec!["Verified end state:".to_string()];
    render(v, 2, &mut lines);
    lines.join("\n")
}

fn terminated(pos: rhai::Position) -> Box<EvalAltResult> {
    EvalAltResult::ErrorTerminated(CANCELLED.into(), pos).into()
}

fn wait_until(ctx: &NativeCallContext, env: &RunEnv, cond: &FnPtr, opts: &Map) -> RhaiRes<bool> {
    let pos = ctx.call_position();
    check_keys(
        opts,
        &["timeout", "interval", "what", "expected", "section"],
        "wait_until",
    )
    .map_err(|m| usage(m, pos))?;
    let timeout = match opts.get("timeout") {
        Some(v) => seconds(v, "wait_until: option `timeout`").map_err(|m| usage(m, pos))?,
        None => Duration::from_secs(WAIT_TIMEOUT),
    };
    let interval = match opts.get("interval") {
        Some(v) => seconds(v, "wait_until: option `interval`").map_err(|m| usage(m, pos))?,
        None => Duration::from_secs(WAIT_INTERVAL),
    };
    if interval.is_zero() {
        return Err(usage(
            "wait_until: option `interval` must be more than 0 seconds",
            pos,
        ));
    }
    let what = match opts.get("what") {
        Some(v) => v.clone().into_string().map_err(|t| {
            usage(
                format!("wait_until: option `what` must be a string, not {t}"),
                pos,
            )
        })?,
        None => "a condition".to_string(),
    };
    // How long the wait usually takes and where that figure comes from: shown beside the
    // elapsed time.
    let expected = match opts.get("expected") {
        Some(v) => Some(seconds(v, "wait_until: option `expected`").map_err(|m| usage(m, pos))?),
        None => None,
    };
    let section = match opts.get("section") {
        Some(v) => Some(v.clone().into_string().map_err(|t| {
            usage(
                format!("wait_until: option `section` must be a string, not {t}"),
                pos,
            )
        })?),
        None => None,
    };
    // Dropped on an error or a cancellation: the UI closes the wait as stopped.
    let mut wait = hascript_api::Waiter::start(&*env.ctx.ui, &*env.ctx.clock, &what, timeout)
        .expect(expected, section.as_deref());
    loop {
        if env.interrupt.fired() {
            return Err(terminated(pos));
        }
        let r: Dynamic = cond.call_within_context(ctx, ())?;
        let done = r.as_bool().map_err(|t| {
            usage(
                format!("wait_until: the condition must return true or false, not {t}"),
                pos,
            )
        })?;
        if done {
            wait.reached();
            return Ok(true);
        }
        let remaining = wait.remaining();
        if remaining.is_zero() {
            wait.not_reached(None);
            return Err(throw(
                Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "timed out after {} s waiting for {what}",
                        timeout.as_secs_f64()
                    ),
                ),
                pos,
            ));
        }
        wait.progress(None);
        env.ctx
            .sleep(interval.min(remaining))
            .map_err(|e| throw(e, pos))?;
    }
}

/// A script step: shown (and journaled) as it begins; its end, duration and return value
/// (when it can be written as JSON) go to the run's journal.
fn journaled_step(
    ctx: &NativeCallContext,
    env: &RunEnv,
    section: &str,
    title: &str,
    body: &FnPtr,
) -> RhaiRes<Dynamic> {
    // The error report of a shipped procedure names the step an error left.
    env.report_style.step_begins();
    let r = journaled_step_body(ctx, env, section, title, body);
    if r.is_err() {
        env.report_style.step_failed(section, title);
    }
    r
}

fn journaled_step_body(
    ctx: &NativeCallContext,
    env: &RunEnv,
    section: &str,
    title: &str,
    body: &FnPtr,
) -> RhaiRes<Dynamic> {
    let started = std::time::Instant::now();
    if let Some(rec) = &env.journal {
        rec.script_step_next();
    }
    env.ctx.ui.step(section, title);
    let Some(rec) = &env.journal else {
        return body.call_within_context(ctx, ());
    };
    let n = rec.current_step();
    if let Some(replay) = &env.replay {
        if let Some(v) = replay.next(section, title) {
            let d = rhai::serde::to_dynamic(&v)
                .map_err(|e| usage(e.to_string(), ctx.call_position()))?;
            env.ctx.ui.info(&format!(
                "completed in run {}: not run again, its recorded value is used",
                replay.from()
            ));
            rec.step_replayed(n, section, title, v);
            return Ok(d);
        }
    }
    let r: RhaiRes<Dynamic> = body.call_within_context(ctx, ());
    // The value is journaled as JSON (read back by `resume`): never one nested deeper than
    // the engine's bound (a closure can return one that never passed through a variable).
    let r = match r {
        Ok(v) if super::limits::nests_too_deep(&v) => {
            Err(super::limits::too_deep(ctx.call_position()))
        }
        other => other,
    };
    let recorded = match &r {
        Ok(v) => Ok(rhai::serde::from_dynamic::<Value>(v).ok()),
        Err(e) => Err(e.to_string()),
    };
    rec.step_end(n, section, title, started.elapsed(), recorded);
    r
}

/// A script's recovery routine (`defer`), as scripts hold it.
#[derive(Clone)]
pub struct RecoveryHandle {
    id: u64,
    env: RunEnv,
}

fn defer(
    ctx: &NativeCallContext,
    env: &RunEnv,
    what: &str,
    body: FnPtr,
) -> RhaiRes<RecoveryHandle> {
    let entry = env
        .ctx
        .recoveries
        .register(what, None)
        .map_err(|e| throw(e, ctx.call_position()))?;
    env.deferred
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(entry.id, body);
    Ok(RecoveryHandle {
        id: entry.id,
        env: env.clone(),
    })
}

fn sleep_secs(ctx: &NativeCallContext, env: &RunEnv, v: Dynamic) -> RhaiRes<()> {
    let pos = ctx.call_position();
    let d = seconds(&v, "sleep").map_err(|m| usage(m, pos))?;
    if env.interrupt.fired() {
        return Err(terminated(pos));
    }
    env.ctx.sleep(d).map_err(|e| throw(e, pos))
}

fn fail_with(kind: &str, msg: &str, pos: rhai::Position) -> Box<EvalAltResult> {
    match ErrorKind::from_name(kind) {
        Some(k) if k != ErrorKind::Cancelled => throw(Error::new(k, msg), pos),
        _ => usage(
            format!(
                "fail: unknown error kind {kind:?}; use one of failed, check, needs_attention, declined, usage, command, timeout"
            ),
            pos,
        ),
    }
}

/// Register the global helpers.
pub fn register(engine: &mut Engine, run: &RunEnv) {
    let env = run.clone();
    reg(
        "step",
        &["title: String", "body: FnPtr"],
        "Dynamic",
        "Run `body` (a closure `|| ...`) as a procedure step: prints `==> title` and returns the\nbody's value; errors propagate.",
    )
    .register_into_engine(engine, move |ctx: NativeCallContext, title: ImmutableString, body: FnPtr| -> RhaiRes<Dynamic> {
        journaled_step(&ctx, &env, "", &title, &body)
    });
    let env = run.clone();
    reg(
        "step",
        &["section: String", "title: String", "body: FnPtr"],
        "Dynamic",
        "Run `body` as a step of the manual's `section` (e.g. \"17.3.1.1\"): prints\n`==> [section] title` and returns the body's value.",
    )
    .register_into_engine(
        engine,
        move |ctx: NativeCallContext, section: ImmutableString, title: ImmutableString, body: FnPtr| -> RhaiRes<Dynamic> {
            journaled_step(&ctx, &env, &section, &title, &body)
        },
    );

    engine.register_type_with_name::<RecoveryHandle>("Recovery");
    let env = run.clone();
    reg(
        "defer",
        &["body: FnPtr"],
        "Recovery",
        "Register a recovery routine of the script (a closure `|| ...`): it runs if the run\nfails or is interrupted (Ctrl-C), after the routines registered later, and is journaled.\nCall `.done()` on the result once what it protects is safe. A closure cannot be re-run by\n`hascript unwind` after a crash: the journal says so. Write it state-aware (read first).",
    )
    .register_into_engine(engine, move |ctx: NativeCallContext, body: FnPtr| -> RhaiRes<RecoveryHandle> {
        defer(&ctx, &env, "script routine", body)
    });
    let env = run.clone();
    reg(
        "defer",
        &["what: String", "body: FnPtr"],
        "Recovery",
        "`defer(body)` with a description `what` (shown and journaled).",
    )
    .register_into_engine(
        engine,
        move |ctx: NativeCallContext,
              what: ImmutableString,
              body: FnPtr|
              -> RhaiRes<RecoveryHandle> { defer(&ctx, &env, &what, body) },
    );
    reg(
        "done",
        &["r: Recovery"],
        "()",
        "The routine is no longer needed (what it protects is safe): it will not run.",
    )
    .register_into_engine(engine, |r: &mut RecoveryHandle| {
        r.env.ctx.recoveries.settle(
            r.id,
            hascript_api::objects::RecoveryOutcome::NotNeeded,
            "run",
            Some("done() called by the script"),
        );
        r.env
            .deferred
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&r.id);
    });

    let env = run.clone();
    reg(
        "wait_until",
        &["cond: FnPtr"],
        "bool",
        "Poll `cond` (a closure returning true/false) every 10 s on the run's clock until it\nreturns true; throws a `timeout` error after 600 s.",
    )
    .register_into_engine(engine, move |ctx: NativeCallContext, cond: FnPtr| wait_until(&ctx, &env, &cond, &Map::new()));
    let env = run.clone();
    reg(
        "wait_until",
        &["cond: FnPtr", "opts: Map"],
        "bool",
        "Poll `cond` until it returns true; `opts`: `#{timeout: seconds (600), interval: seconds\n(10), what: \"what is awaited\", expected: seconds, section: \"where expected comes from\"}`.\nShows the elapsed time, the expected duration and the deadline; throws a `timeout` error.",
    )
    .register_into_engine(engine, move |ctx: NativeCallContext, cond: FnPtr, opts: Map| wait_until(&ctx, &env, &cond, &opts));

    let env = run.clone();
    reg(
        "confirm",
        &["question: String"],
        "bool",
        "Ask the operator a yes/no question. With `--yes` the answer is yes; without a terminal\nand without `--yes` the run stops with a `declined` error (exit 5).",
    )
    .register_into_engine(engine, move |ctx: NativeCallContext, q: ImmutableString| -> RhaiRes<bool> {
        env.ctx.ui.confirm(&q).map_err(|e| throw(e, ctx.call_position()))
    });

    let env = run.clone();
    reg(
        "info",
        &["message: String"],
        "()",
        "Show information to the operator (standard output).",
    )
    .register_into_engine(engine, move |m: ImmutableString| env.ctx.ui.info(&m));
    let env = run.clone();
    reg(
        "warn",
        &["message: String"],
        "()",
        "Show a warning (standard error, `warning:` prefix).",
    )
    .register_into_engine(engine, move |m: ImmutableString| env.ctx.ui.warn(&m));

    reg(
        "fail",
        &["message: String"],
        "()",
        "Stop with a `failed` error (exit 1 when uncaught): the operation failed and the cluster\nis back in a protected state.",
    )
    .register_into_engine(engine, |ctx: NativeCallContext, m: ImmutableString| -> RhaiRes<()> {
        Err(fail_with("failed", &m, ctx.call_position()))
    });
    reg(
        "fail",
        &["kind: String", "message: String"],
        "()",
        "Stop with an error of `kind` (\"failed\" 1, \"usage\" 2, \"check\" 3, \"needs_attention\" 4,\n\"declined\" 5, …) and `message`.",
    )
    .register_into_engine(engine, |ctx: NativeCallContext, k: ImmutableString, m: ImmutableString| -> RhaiRes<()> {
        Err(fail_with(&k, &m, ctx.call_position()))
    });
    reg(
        "fail",
        &["kind: String", "message: String", "remedy: String"],
        "()",
        "Stop with an error of `kind` and `message`, with `remedy`: what the operator does next
(shown under the error, and in the journal).",
    )
    .register_into_engine(
        engine,
        |ctx: NativeCallContext,
         k: ImmutableString,
         m: ImmutableString,
         r: ImmutableString|
         -> RhaiRes<()> {
            let pos = ctx.call_position();
            match ErrorKind::from_name(&k) {
                Some(kind) if kind != ErrorKind::Cancelled && !r.trim().is_empty() => Err(throw(
                    Error::new(kind, m.as_str()).with_remedy(r.as_str()),
                    pos,
                )),
                _ => Err(fail_with(&k, &m, pos)),
            }
        },
    );

    let env = run.clone();
    reg(
        "report_check",
        &["verdict: Map"],
        "()",
        "Show a check's verdict `#{check, ok, detail, remedy}` to the operator (`  ok   check:\ndetail` or `  FAIL check: detail`) and journal it as a `check` event: what the\npreflight's `run_checks` does with every verdict, a site's own checks included.",
    )
    .register_into_engine(engine, move |ctx: NativeCallContext, v: Map| -> RhaiRes<()> {
        let pos = ctx.call_position();
        let text = |k: &str| -> Result<Option<String>, Box<EvalAltResult>> {
            match v.get(k) {
                None => Err(usage(format!("report_check: the verdict has no `{k}` (it needs check, ok, detail and remedy)"), pos)),
                Some(d) if d.is_unit() => Ok(None),
                Some(d) => d.clone().into_string().map(Some).map_err(|t| {
                    usage(format!("report_check: `{k}` must be a string, not {t}"), pos)
                }),
            }
        };
        let check = text("check")?.unwrap_or_default();
        let detail = text("detail")?.unwrap_or_default();
        let remedy = text("remedy")?;
        let ok = match v.get("ok").map(|d| d.as_bool()) {
            Some(Ok(b)) => b,
            _ => return Err(usage("report_check: `ok` must be true or false", pos)),
        };
        env.ctx.ui.check(&check, ok, &detail, remedy.as_deref());
        Ok(())
    });

    let env = run.clone();
    reg(
        "leave_to_operator",
        &["message: String"],
        "()",
        "Hand every recovery routine still pending to the operator on purpose: the run ends
without running them, and the journal records `message` (what is left and which procedure
finishes it). `ldoms/pre-migration` ends so: fencing stays off until post-migration.",
    )
    .register_into_engine(engine, move |m: ImmutableString| {
        for e in env.ctx.recoveries.pending() {
            // The routine the run is executing is settled by the run, from how it ends.
            if env.ctx.recoveries.is_executing(e.id) {
                continue;
            }
            env.ctx.recoveries.settle(
                e.id,
                hascript_api::objects::RecoveryOutcome::LeftForOperator,
                "run",
                Some(&m),
            );
        }
    });

    let env = run.clone();
    reg(
        "sleep",
        &["seconds: i64"],
        "()",
        "Sleep on the run's clock (instant on the simulator; Ctrl-C interrupts).",
    )
    .register_into_engine(engine, move |ctx: NativeCallContext, s: INT| {
        sleep_secs(&ctx, &env, Dynamic::from_int(s))
    });
    let env = run.clone();
    reg(
        "sleep",
        &["seconds: f64"],
        "()",
        "Sleep on the run's clock (fractions of a second allowed).",
    )
    .register_into_engine(engine, move |ctx: NativeCallContext, s: rhai::FLOAT| {
        sleep_secs(&ctx, &env, Dynamic::from_float(s))
    });

    let env = run.clone();
    reg(
        "timestamp",
        &[],
        "f64",
        "Seconds since the Unix epoch on the run's clock (virtual on the simulator), with fractions.",
    )
    .register_into_engine(engine, move || -> rhai::FLOAT {
        env.ctx.clock.now().as_secs_f64()
    });
    let env = run.clone();
    reg(
        "now",
        &[],
        "i64",
        "Whole seconds since the Unix epoch on the run's clock (virtual on the simulator).",
    )
    .register_into_engine(engine, move || -> INT {
        env.ctx.clock.now().as_secs() as INT
    });

    let env = run.clone();
    reg(
        "summary",
        &["subject: String"],
        "Map",
        "Read back the verified end state of `subject` (a guest or a package) from the cluster,\nprint it as a block and return it.",
    )
    .register_into_engine(engine, move |ctx: NativeCallContext, subject: ImmutableString| -> RhaiRes<Dynamic> {
        let pos = ctx.call_position();
        let v = env.site.summary(&subject).map_err(|e| throw(e, pos))?;
        env.ctx.ui.summary(&subject, &v, &format_summary(&v));
        lift(Ok(v), pos)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_block_is_aligned_and_nested() {
        let v = serde_json::json!({"guest": "cfguest2", "cf_timeout": 10, "agents": [{"node": "a", "state": "OK"}], "hosts": ["cd1", "cd2"]});
        let s = format_summary(&v);
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines[0], "Verified end state:");
        assert!(lines.contains(&"  guest:       cfguest2"), "{s}");
        assert!(lines.contains(&"  cf_timeout:  10"), "{s}");
        assert!(lines.contains(&"  hosts:       cd1, cd2"), "{s}");
        assert!(lines.contains(&"  agents:"), "{s}");
        assert!(lines.contains(&"      node:   a"), "{s}");
    }
}
