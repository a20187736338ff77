//! One journal line as `journal show` prints it.

use hascript_api::objects::Value;

/// One journal line as a line of `journal show`'s timeline.
pub fn timeline_line(v: &Value) -> Vec<String> {
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let n = |k: &str| v.get(k).and_then(Value::as_i64);
    let ts = s("ts");
    let time = ts.get(11..23).unwrap_or(&ts).to_string();
    let indent = |text: &str| -> Vec<String> {
        text.lines()
            .map(|l| format!("{:12}      {l}", ""))
            .collect::<Vec<_>>()
    };
    let mut out = Vec::new();
    match s("event").as_str() {
        "run" => {
            out.push(format!(
                "{time}  run {} of {} by {} on {} (pid {})",
                s("run"),
                s("script"),
                s("user"),
                s("origin"),
                n("pid").unwrap_or(0)
            ));
            out.push(format!("{:12}  script sha256 {}", "", s("sha256")));
            if v.get("dry_run").and_then(Value::as_bool) == Some(true) {
                out.push(format!(
                    "{:12}  dry run: against a simulated copy; nothing that changes state was sent",
                    ""
                ));
            }
            if let Some(r) = v.get("resumed_from").and_then(Value::as_str) {
                out.push(format!("{:12}  resumes run {r}", ""));
            }
            if let Some(r) = v.get("unwinds").and_then(Value::as_str) {
                out.push(format!("{:12}  unwinds run {r}", ""));
            }
            let site = v.get("site").cloned().unwrap_or(Value::Null);
            let sv = |k: &str| {
                site.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            match sv("kind").as_str() {
                "sim" => out.push(format!(
                    "{:12}  site: simulated {} {}",
                    "",
                    sv("scenario"),
                    sv("state")
                )),
                _ => out.push(format!(
                    "{:12}  site: inventory {} (sha256 {})",
                    "",
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
                    out.push(format!("{:12}  params: {}", "", ps.join(" ")));
                }
            }
        }
        "step" => out.push(format!(
            "{time}  {}",
            crate::output::step_line(&s("section"), &s("title"))
        )),
        "recovery_registered" => out.push(format!(
            "{time}  recovery #{} registered{}: {}{}",
            n("id").unwrap_or(0),
            if v.get("inherited").and_then(Value::as_bool) == Some(true) {
                " (inherited from the interrupted run)"
            } else {
                ""
            },
            s("what"),
            if v.get("rerunnable").and_then(Value::as_bool) == Some(false) {
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
        "step_end" if v.get("replayed").and_then(Value::as_bool) == Some(true) => {
            let val = v
                .get("value")
                .map(|x| format!(" → {x}"))
                .unwrap_or_default();
            out.push(format!(
                "{time}  <== step {} replayed from the resumed run{val}",
                n("n").unwrap_or(0)
            ));
        }
        "step_end" => {
            let ok = v.get("ok").and_then(Value::as_bool).unwrap_or(false);
            let val = v
                .get("value")
                .map(|x| format!(" → {x}"))
                .unwrap_or_default();
            let err = if ok {
                String::new()
            } else {
                format!(" failed: {}", s("error"))
            };
            out.push(format!(
                "{time}  <== step {} done in {} ms{val}{err}",
                n("n").unwrap_or(0),
                n("duration_ms").unwrap_or(0)
            ));
        }
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
        "command_end" => {
            let how = match (n("exit"), v.get("signal"), v.get("error")) {
                (Some(c), _, _) => format!("exit {c}"),
                (None, Some(sig), _) => format!("killed by {}", sig.as_str().unwrap_or("?")),
                (None, None, _) => format!("not run: {}", s("error")),
            };
            let mark = if s("effect") == "change" { "#" } else { "$" };
            let ev = if v.get("evidence").and_then(Value::as_bool) == Some(true) {
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
            let a = match v.get("answer").and_then(Value::as_bool) {
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
                out.push(format!("{:12}  {l}", ""));
            }
        }
        "warn" => out.push(format!("{time}  warning: {}", s("message"))),
        "check" => {
            let ok = v.get("ok").and_then(Value::as_bool) == Some(true);
            out.push(format!(
                "{time}    {} {}: {}",
                if ok { "ok  " } else { "FAIL" },
                s("check"),
                s("detail")
            ));
            if let Some(r) = v.get("remedy").and_then(Value::as_str).filter(|_| !ok) {
                out.push(format!("{:12}         remedy: {r}", ""));
            }
        }
        "summary" => {
            out.push(format!("{time}  verified end state of {}:", s("subject")));
            let state = v.get("state").map(|x| x.to_string()).unwrap_or_default();
            out.push(format!("{:12}  {state}", ""));
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
        "lock" => {
            let holder = v
                .get("holder")
                .and_then(Value::as_str)
                .map(|h| format!(" ({h})"))
                .unwrap_or_default();
            let detail = v
                .get("detail")
                .and_then(Value::as_str)
                .map(|d| format!(": {d}"))
                .unwrap_or_default();
            out.push(format!(
                "{time}  lock {} on {}{holder}{detail}",
                s("action"),
                s("host")
            ));
        }
        "error" => {
            out.push(format!("{time}  error ({}):", s("kind")));
            // The whole report when there is one (the structured fields are parts of it).
            let text = v
                .get("report")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| s("message"));
            out.extend(text.lines().map(|l| format!("{:12}  {l}", "")));
        }
        "plan" => {
            let complete = v.get("complete").and_then(Value::as_bool).unwrap_or(false);
            out.push(format!(
                "{time}  dry-run plan ({}): {}",
                if complete { "complete" } else { "incomplete" },
                s("outcome")
            ));
            let entries = v.get("entries").and_then(Value::as_array).cloned();
            for e in entries.unwrap_or_default() {
                let es = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                match es("kind").as_str() {
                    "change" => {
                        out.push(format!(
                            "{:12}  {}. {}: {}",
                            "",
                            e.get("n").and_then(Value::as_u64).unwrap_or(0),
                            es("host"),
                            es("command")
                        ));
                        if let Some(u) = e.get("unknown").and_then(Value::as_str) {
                            out.push(format!("{:12}     unknown: {u}", ""));
                        }
                    }
                    "wait" => out.push(format!("{:12}     wait: {}", "", es("what"))),
                    "confirm" => out.push(format!("{:12}     asks: {}", "", es("question"))),
                    _ => {}
                }
            }
        }
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
        .map(|l| crate::output::escape_controls(&l).into_owned())
        .collect()
}
