//! One journal line as `journal show` prints it: one function per event with more than a
//! line to say.

use hascript_api::objects::Value;

/// The indentation of a continuation line (under the time column).
const PAD: &str = "";

/// A journal line's fields, read leniently (a missing or mistyped field reads as empty).
struct Fields<'a>(&'a Value);

impl Fields<'_> {
    /// String field `k` (empty when missing).
    fn s(&self, k: &str) -> String {
        self.0
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    }

    /// Integer field `k`.
    fn n(&self, k: &str) -> Option<i64> {
        self.0.get(k).and_then(Value::as_i64)
    }

    /// Boolean field `k`.
    fn flag(&self, k: &str) -> Option<bool> {
        self.0.get(k).and_then(Value::as_bool)
    }
}

/// One journal line as a line of `journal show`'s timeline.
pub fn timeline_line(line: &super::Line) -> Vec<String> {
    // The timeline prints fields by name, as the line has them (what `journal show` always
    // printed; a line it has no words for is printed whole).
    let v = line.to_value();
    let f = Fields(&v);
    let (s, n) = (|k: &str| f.s(k), |k: &str| f.n(k));
    let ts = s("ts");
    let time = ts.get(11..23).unwrap_or(&ts).to_string();
    let mut out = Vec::new();
    match s("event").as_str() {
        "run" => run_header(&f, &time, &mut out),
        "step" => out.push(format!(
            "{time}  {}",
            crate::text::step_line(&s("section"), &s("title"))
        )),
        "recovery_registered" => out.push(format!(
            "{time}  recovery #{} registered{}: {}{}",
            n("id").unwrap_or(0),
            if f.flag("inherited") == Some(true) {
                " (inherited from the interrupted run)"
            } else {
                ""
            },
            s("what"),
            if f.flag("rerunnable") == Some(false) {
                " [script routine: only this run can execute it]"
            } else {
                ""
            }
        )),
        "recovery_run" => out.push(format!(
            "{time}  recovery #{} {} (by {}){}",
            n("id").unwrap_or(0),
            s("outcome"),
            s("by"),
            v.get("detail")
                .and_then(Value::as_str)
                .map(|d| format!(": {d}"))
                .unwrap_or_default()
        )),
        "step_end" => out.push(step_end(&f, &time)),
        "command_start" => out.push(format!(
            "{time}  {} # CHANGE {}{}",
            s("host"),
            s("command"),
            if s("purpose") == "lock" {
                " (lock)"
            } else {
                ""
            }
        )),
        "command_end" => command_end(&f, &time, &mut out),
        "wait" => out.push(format!(
            "{time}  waiting for {}: {} s so far, {} s left",
            s("what"),
            n("elapsed_s").unwrap_or(0),
            n("remaining_s").unwrap_or(0)
        )),
        "wait_end" => out.push(format!(
            "{time}  waited {} s for {}{}",
            n("elapsed_s").unwrap_or(0),
            s("what"),
            match s("outcome").as_str() {
                "not_reached" => format!(": not reached (last seen: {})", s("last_seen")),
                "stopped" => ": stopped".to_string(),
                _ => String::new(),
            }
        )),
        "confirm" => {
            let a = match f.flag("answer") {
                Some(true) => "yes".to_string(),
                Some(false) => "no".to_string(),
                None => format!("no answer: {}", s("error")),
            };
            out.push(format!("{time}  ? {} → {a}", s("question")));
        }
        "info" => {
            let m = s("message");
            let mut lines = m.lines();
            out.push(format!("{time}  {}", lines.next().unwrap_or("")));
            for l in lines {
                out.push(format!("{PAD:12}  {l}"));
            }
        }
        "warn" => out.push(format!("{time}  warning: {}", s("message"))),
        "check" => check(&f, &time, &mut out),
        "summary" => {
            out.push(format!("{time}  verified end state of {}:", s("subject")));
            let state = v.get("state").map(|x| x.to_string()).unwrap_or_default();
            out.push(format!("{PAD:12}  {state}"));
        }
        "exposure" => out.push(format!(
            "{time}  exposure: {} for {} s",
            s("what"),
            n("seconds").unwrap_or(0)
        )),
        "log_mark" => out.push(format!(
            "{time}  {}: {} is {} bytes (later scans start there)",
            s("host"),
            s("file"),
            n("size").unwrap_or(0)
        )),
        "lock" => out.push(lock(&f, &time)),
        "error" => {
            out.push(format!("{time}  error ({}):", s("kind")));
            // The whole report when there is one (the structured fields are parts of it).
            let text = v
                .get("report")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| s("message"));
            out.extend(text.lines().map(|l| format!("{PAD:12}  {l}")));
        }
        "plan" => plan(&f, &time, &mut out),
        "result" => out.push(format!(
            "{time}  result: {} (exit {}), {} change command(s), {} ms",
            s("result"),
            n("exit").unwrap_or(-1),
            n("changes").unwrap_or(0),
            n("duration_ms").unwrap_or(0)
        )),
        other => out.push(format!("{time}  {other}: {v}")),
    }
    // Host output and messages as the terminal may show them (no raw escape sequences).
    out.into_iter()
        .map(|l| crate::text::escape_controls(&l).into_owned())
        .collect()
}

/// `text`'s lines indented under the command.
/// `journal show`'s readable timeline of the journal at `path`: every line it can read,
/// then a closing line when the run has no result (it died, or it still runs).
pub fn timeline(path: &std::path::Path) -> Result<Vec<String>, String> {
    let lines = super::read_events(path)?;
    let mut out: Vec<String> = lines.iter().flat_map(timeline_line).collect();
    if !lines
        .iter()
        .any(|l| matches!(l.event, super::Event::Result { .. }))
    {
        out.push(
            "(no result line: the run is unfinished — it died, or it is still running)".into(),
        );
    }
    Ok(out)
}

fn indent(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| format!("{PAD:12}      {l}"))
        .collect::<Vec<_>>()
}

/// The `run` header: who ran what from where, the site, the parameters.
fn run_header(f: &Fields, time: &str, out: &mut Vec<String>) {
    let (v, s) = (f.0, |k: &str| f.s(k));
    out.push(format!(
        "{time}  run {} of {} by {} on {} (pid {})",
        s("run"),
        s("script"),
        s("user"),
        s("origin"),
        f.n("pid").unwrap_or(0)
    ));
    out.push(format!("{PAD:12}  script sha256 {}", s("sha256")));
    if f.flag("dry_run") == Some(true) {
        out.push(format!(
            "{PAD:12}  dry run: against a simulated copy; nothing that changes state was sent"
        ));
    }
    if let Some(r) = v.get("resumed_from").and_then(Value::as_str) {
        out.push(format!("{PAD:12}  resumes run {r}"));
    }
    if let Some(r) = v.get("unwinds").and_then(Value::as_str) {
        out.push(format!("{PAD:12}  unwinds run {r}"));
    }
    let site = v.get("site").cloned().unwrap_or(Value::Null);
    let sv = |k: &str| Fields(&site).s(k);
    match sv("kind").as_str() {
        "sim" => out.push(format!(
            "{PAD:12}  site: simulated {} {}",
            sv("scenario"),
            sv("state")
        )),
        _ => out.push(format!(
            "{PAD:12}  site: inventory {} (sha256 {})",
            sv("path"),
            sv("sha256")
        )),
    }
    if let Some(Value::Object(p)) = v.get("params") {
        if !p.is_empty() {
            let ps: Vec<String> = p
                .iter()
                .map(|(k, x)| format!("{k}={}", x.as_str().unwrap_or("")))
                .collect();
            out.push(format!("{PAD:12}  params: {}", ps.join(" ")));
        }
    }
}

/// A step's end: replayed from the resumed run, or done (its time, value, error).
fn step_end(f: &Fields, time: &str) -> String {
    let val =
        f.0.get("value")
            .map(|x| format!(" → {x}"))
            .unwrap_or_default();
    if f.flag("replayed") == Some(true) {
        return format!(
            "{time}  <== step {} replayed from the resumed run{val}",
            f.n("n").unwrap_or(0)
        );
    }
    let ok = f.flag("ok").unwrap_or(false);
    let err = if ok {
        String::new()
    } else {
        format!(" failed: {}", f.s("error"))
    };
    format!(
        "{time}  <== step {} done in {} ms{val}{err}",
        f.n("n").unwrap_or(0),
        f.n("duration_ms").unwrap_or(0)
    )
}

/// A command's end: how it ended, then the output of a change or evidence, and the errors
/// of a failure.
fn command_end(f: &Fields, time: &str, out: &mut Vec<String>) {
    let (v, s, n) = (f.0, |k: &str| f.s(k), |k: &str| f.n(k));
    let how = match (n("exit"), v.get("signal"), v.get("error")) {
        (Some(c), _, _) => format!("exit {c}"),
        (None, Some(sig), _) => format!("killed by {}", sig.as_str().unwrap_or("?")),
        (None, None, _) => format!("not run: {}", s("error")),
    };
    let mark = if s("effect") == "change" { "#" } else { "$" };
    let ev = if f.flag("evidence") == Some(true) {
        " [evidence]"
    } else {
        ""
    };
    out.push(format!(
        "{time}  {} {mark} {} → {how} ({} ms){ev}",
        s("host"),
        s("command"),
        n("duration_ms").unwrap_or(0)
    ));
    if !ev.is_empty() || s("effect") == "change" {
        out.extend(indent(&s("stdout")));
    }
    if n("exit").unwrap_or(0) != 0 {
        out.extend(indent(&s("stderr")));
    }
}

/// A preflight check: ok or FAIL, and the remedy of a failure.
fn check(f: &Fields, time: &str, out: &mut Vec<String>) {
    let ok = f.flag("ok") == Some(true);
    out.push(format!(
        "{time}    {} {}: {}",
        if ok { "ok  " } else { "FAIL" },
        f.s("check"),
        f.s("detail")
    ));
    if let Some(r) = f.0.get("remedy").and_then(Value::as_str).filter(|_| !ok) {
        out.push(format!("{PAD:12}         remedy: {r}"));
    }
}

/// A host lock's action, with its holder and detail when given.
fn lock(f: &Fields, time: &str) -> String {
    let holder =
        f.0.get("holder")
            .and_then(Value::as_str)
            .map(|h| format!(" ({h})"))
            .unwrap_or_default();
    let detail =
        f.0.get("detail")
            .and_then(Value::as_str)
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
    format!(
        "{time}  lock {} on {}{holder}{detail}",
        f.s("action"),
        f.s("host")
    )
}

/// A dry run's plan: complete or not, its outcome, then each change, wait and question.
fn plan(f: &Fields, time: &str, out: &mut Vec<String>) {
    let complete = f.flag("complete").unwrap_or(false);
    out.push(format!(
        "{time}  dry-run plan ({}): {}",
        if complete { "complete" } else { "incomplete" },
        f.s("outcome")
    ));
    let entries = f.0.get("entries").and_then(Value::as_array).cloned();
    for e in entries.unwrap_or_default() {
        let es = |k: &str| Fields(&e).s(k);
        match es("kind").as_str() {
            "change" => {
                out.push(format!(
                    "{PAD:12}  {}. {}: {}",
                    e.get("n").and_then(Value::as_u64).unwrap_or(0),
                    es("host"),
                    es("command")
                ));
                if let Some(u) = e.get("unknown").and_then(Value::as_str) {
                    out.push(format!("{PAD:12}     unknown: {u}"));
                }
            }
            "wait" => out.push(format!("{PAD:12}     wait: {}", es("what"))),
            "confirm" => out.push(format!("{PAD:12}     asks: {}", es("question"))),
            _ => {}
        }
    }
}
