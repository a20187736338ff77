//! What an uncaught error looks like and which exit code it gives: `error: <message>`,
//! `file:line:col`, the source line with a caret, the details of a thrown driver error,
//! and the chain of function calls that led there.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use hascript_api::{ErrorKind, Signal};
use rhai::{Dynamic, EvalAltResult, Map, Position};

use super::error::kind_of;

/// How many of a map's keys a missing-property report lists.
const KEYS_SHOWN: usize = 20;

thread_local! {
    /// The map-valued variable a script read last (its name and sorted keys): a missing
    /// property on it is reported with the keys it has. Rhai's `on_map_missing_property`
    /// cannot do this: it is also called when a script *adds* a key (`opts.target = v`),
    /// and cannot tell that from a read.
    static LAST_MAP: std::cell::RefCell<(String, Vec<String>)> = Default::default();
}

/// Remember `v` (read as variable `name`) if it is a map: see [`missing_property`].
pub(crate) fn note_map(name: &str, v: &Dynamic) {
    let Some(m) = v.read_lock::<Map>() else {
        return;
    };
    LAST_MAP.with(|last| {
        let mut last = last.borrow_mut();
        last.0.clear();
        last.0.push_str(name);
        last.1.clear();
        // A map's keys are already sorted (BTreeMap).
        last.1
            .extend(m.keys().take(KEYS_SHOWN + 1).map(|k| k.to_string()));
    });
}

/// The report of a read of `prop`, a property the map does not have, at `pos` in `text`:
/// names the property and, when the map is a variable (`m.prop`, `m["prop"]`), its keys.
pub(crate) fn missing_property(prop: &str, text: Option<&str>, pos: Position) -> String {
    let mut msg = format!("map has no property `{prop}`");
    let receiver = text
        .zip(pos.line())
        .and_then(|(t, l)| t.lines().nth(l - 1))
        .and_then(|line| receiver_at(line, pos.position().unwrap_or(1)));
    if let Some(name) = receiver {
        LAST_MAP.with(|last| {
            let last = last.borrow();
            if last.0 == name {
                let mut keys = last.1.clone();
                let more = keys.len() > KEYS_SHOWN;
                keys.truncate(KEYS_SHOWN);
                if keys.is_empty() {
                    msg.push_str(&format!("; `{name}` is an empty map"));
                } else {
                    msg.push_str(&format!(
                        "; `{name}` has: {}{}",
                        keys.join(", "),
                        if more { ", …" } else { "" }
                    ));
                    if let Some(close) = super::lint::closest_name(prop, last.1.iter()) {
                        msg.push_str(&format!("; did you mean `{close}`?"));
                    }
                }
            }
        });
    }
    msg.push_str(&format!(
        " (an optional property is read with `if \"{prop}\" in map {{ … }}`)"
    ));
    msg
}

/// The variable `m` in `m.prop` / `m["prop"]` when the property starts at 1-based `col`
/// of `line`; `None` when the map is not a plain variable (`a.b.prop`, `f().prop`).
fn receiver_at(line: &str, col: usize) -> Option<String> {
    let chars: Vec<char> = line.chars().collect();
    let mut i = col.checked_sub(1)?;
    if i > chars.len() {
        return None;
    }
    // Skip back over `.` or `[` (and a `?` of `?.`/`?[`).
    i = i.checked_sub(1)?;
    if chars.get(i) != Some(&'.') && chars.get(i) != Some(&'[') {
        return None;
    }
    if i > 0 && chars[i - 1] == '?' {
        i -= 1;
    }
    let end = i;
    while i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_') {
        i -= 1;
    }
    if i == end || (i > 0 && matches!(chars[i - 1], '.' | ')' | ']' | '?')) {
        return None;
    }
    Some(chars[i..end].iter().collect())
}

/// A Rhai message without its trailing ` (line l, position c)`.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" (line ") {
        Some(i) if msg.ends_with(')') => msg[..i].to_string(),
        _ => msg.to_string(),
    }
}

/// The innermost error and the name of the source it arose in.
fn innermost_with_source<'a>(err: &'a EvalAltResult, main: &str) -> (String, &'a EvalAltResult) {
    let mut src = main.to_string();
    let mut cur = err;
    loop {
        match cur {
            EvalAltResult::ErrorInFunctionCall(_, fsrc, inner, _) => {
                if !fsrc.is_empty() {
                    src = fsrc.clone();
                }
                cur = inner;
            }
            EvalAltResult::ErrorInModule(path, inner, _) => {
                src = path.clone();
                cur = inner;
            }
            _ => return (src, cur),
        }
    }
}

fn innermost(err: &EvalAltResult) -> &EvalAltResult {
    match err {
        EvalAltResult::ErrorInFunctionCall(_, _, inner, _)
        | EvalAltResult::ErrorInModule(_, inner, _) => innermost(inner),
        other => other,
    }
}

/// The exit code of a run that ended with `err`; `changed` says whether a changing
/// command had been sent.
pub fn exit_code(err: &EvalAltResult, changed: bool) -> i32 {
    exit_code_by(err, changed, None)
}

/// [`exit_code`] of a run whose interruption came from `signal` (the run's cancel token
/// records it): a cancelled run exits 130, 143 or 129 ([`ErrorKind::exit_code_by`]).
pub fn exit_code_by(err: &EvalAltResult, changed: bool, signal: Option<Signal>) -> i32 {
    match innermost(err) {
        EvalAltResult::ErrorRuntime(v, _) => match kind_of(v) {
            Some(k) => k.exit_code_by(changed, signal),
            // A Rhai error caught and thrown again (`catch (e) { …; throw e; }`) arrives as
            // Rhai's own error map (`#{error: "ErrorFunctionNotFound", message, line, …}`):
            // it is still a script error, not a failure the script vouches for.
            None if is_rhai_error_map(v) => {
                if changed {
                    4
                } else {
                    2
                }
            }
            None => 1,
        },
        // The memory bound stops a script through the progress hook too: a script error.
        EvalAltResult::ErrorTerminated(t, _) if super::limits::is_memory_stop(t) => {
            if changed {
                4
            } else {
                2
            }
        }
        EvalAltResult::ErrorTerminated(..) => ErrorKind::Cancelled.exit_code_by(changed, signal),
        EvalAltResult::ErrorParsing(..) => 2,
        _ => {
            if changed {
                4
            } else {
                2
            }
        }
    }
}

/// Where an error arose: for a thrown map that records it (`line`, `position`: driver errors
/// and Rhai's own caught errors), that place, not the `throw` that passed it on.
fn origin(err: &EvalAltResult) -> Position {
    if let EvalAltResult::ErrorRuntime(v, pos) = err {
        if let Some(m) = v.read_lock::<Map>() {
            let int = |k: &str| m.get(k).and_then(|x| x.as_int().ok());
            if let Some(line) = int("line").and_then(|l| u16::try_from(l).ok()) {
                let col = int("position")
                    .and_then(|c| u16::try_from(c).ok())
                    .unwrap_or(0);
                return Position::new(line, col);
            }
        }
        return *pos;
    }
    err.position()
}

/// Whether `v` is the map Rhai gives `catch (e)` for its own (non-thrown) errors.
fn is_rhai_error_map(v: &Dynamic) -> bool {
    v.read_lock::<Map>().is_some_and(|m| {
        m.get("error")
            .and_then(|e| e.clone().into_string().ok())
            .is_some_and(|e| e.starts_with("Error"))
            && m.contains_key("message")
    })
}

fn field(m: &Map, key: &str) -> Option<String> {
    let v = m.get(key)?;
    if v.is_unit() {
        None
    } else if v.is_string() {
        v.clone().into_string().ok()
    } else {
        Some(v.to_string())
    }
}

fn location(source: &str, pos: Position, sources: &HashMap<String, String>) -> Vec<String> {
    let (Some(line), col) = (pos.line(), pos.position()) else {
        return Vec::new();
    };
    let col_n = col.unwrap_or(1);
    let mut out = vec![format!("  --> {source}:{line}:{col_n}")];
    if let Some(text) = sources.get(source).and_then(|t| t.lines().nth(line - 1)) {
        let num = line.to_string();
        let pad = " ".repeat(num.len());
        out.push(format!(" {pad} |"));
        out.push(format!(" {num} | {text}"));
        if col.is_some() {
            out.push(format!(" {pad} | {}^", " ".repeat(col_n.saturating_sub(1))));
        }
    }
    out
}

fn thrown_details(v: &Dynamic) -> (String, Vec<String>) {
    if let Some(m) = v.read_lock::<Map>() {
        let msg = field(&m, "message").unwrap_or_else(|| v.to_string());
        let mut details = Vec::new();
        for key in ["host", "command", "exit", "signal", "stderr"] {
            if let Some(val) = field(&m, key).filter(|v| !v.trim().is_empty()) {
                if key == "stderr" && val.contains('\n') {
                    details.push("  stderr:".to_string());
                    details.extend(val.lines().map(|l| format!("    {l}")));
                } else {
                    details.push(format!("  {key}: {val}"));
                }
            }
        }
        if let Some(r) = field(&m, "remedy") {
            details.push(format!("remedy: {r}"));
        }
        return (msg, details);
    }
    let text = if v.is_string() {
        v.clone().into_string().unwrap_or_default()
    } else {
        v.to_string()
    };
    (format!("uncaught exception: {text}"), Vec::new())
}

/// The error that ended a run, field by field (the `error` line).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ErrorFields {
    /// The error's own message.
    pub message: String,
    /// What to do.
    pub remedy: Option<String>,
    /// The host.
    pub host: Option<String>,
    /// The command.
    pub command: Option<String>,
    /// Where in the script (`file:line:col`).
    pub location: Option<String>,
}

/// The parts of `err`'s report as separate fields (the journal's `error` line): the message,
/// the driver's remedy, host and command, and where in the script (`file:line:col`) it arose.
pub fn fields(err: &EvalAltResult, main_source: &str) -> ErrorFields {
    let mut cur = err;
    let mut src = main_source.to_string();
    loop {
        match cur {
            EvalAltResult::ErrorInFunctionCall(_, fsrc, inner, _) => {
                if !fsrc.is_empty() {
                    src = fsrc.clone();
                }
                cur = inner;
            }
            EvalAltResult::ErrorInModule(path, inner, _) => {
                src = path.clone();
                cur = inner;
            }
            _ => break,
        }
    }
    let (message, _) = message_and_details(cur, None);
    let mut f = ErrorFields {
        message,
        ..Default::default()
    };
    if let EvalAltResult::ErrorRuntime(v, _) = cur {
        if let Some(m) = v.read_lock::<Map>() {
            let get = |k: &str| field(&m, k).filter(|x| !x.trim().is_empty());
            f.remedy = get("remedy");
            f.host = get("host");
            f.command = get("command");
        }
    }
    let pos = origin(cur);
    f.location = pos.line().map(|l| match pos.position() {
        Some(c) => format!("{src}:{l}:{c}"),
        None => format!("{src}:{l}"),
    });
    f
}

/// How an uncaught error of a run is reported: with the script's source (the operator's own
/// scripts), or, for a shipped procedure, as the manual's step and the remedy (the
/// procedure's source is not the operator's to read; `HASCRIPT_VERBOSE=1` shows it).
#[derive(Debug, Clone, Default)]
pub struct ReportStyle {
    /// `Some((name, manual section))`: a shipped procedure, reported without its source.
    pub procedure: Option<(String, Option<String>)>,
    /// The innermost step an error left (`[section] title`), cleared when a step begins.
    failed_step: Arc<Mutex<Option<(String, String)>>>,
}

impl ReportStyle {
    /// A step begins: an error an earlier step raised was caught.
    pub fn step_begins(&self) {
        *self.failed_step.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Step `section` `title` ends with an error: the innermost such step is kept.
    pub fn step_failed(&self, section: &str, title: &str) {
        let mut s = self.failed_step.lock().unwrap_or_else(|p| p.into_inner());
        if s.is_none() {
            *s = Some((section.to_string(), title.to_string()));
        }
    }

    fn failed_step(&self) -> Option<(String, String)> {
        self.failed_step
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// [`render`] in `style`: a shipped procedure's error names the manual's step where it
/// stopped, the procedure and its section, the host, command and remedy — not the script's
/// source line, caret and call chain.
pub fn render_styled(
    err: &EvalAltResult,
    main_source: &str,
    sources: &HashMap<String, String>,
    style: &ReportStyle,
) -> String {
    let Some((name, section)) = &style.procedure else {
        return render(err, main_source, sources);
    };
    let (src, cur) = innermost_with_source(err, main_source);
    let (message, details) = message_and_details(cur, sources.get(&src).map(String::as_str));
    let mut out = vec![format!("error: {message}")];
    if let Some((sec, title)) = style.failed_step() {
        if sec.is_empty() {
            out.push(format!("  step: {title}"));
        } else {
            out.push(format!("  step: [{sec}] {title}"));
        }
    }
    match section {
        Some(sec) => out.push(format!("  procedure: {name} (manual {sec})")),
        None => out.push(format!("  procedure: {name}")),
    }
    out.extend(details);
    out.push(format!(
        "  (-v shows where in the procedure's source it stopped; `hascript show {name}` prints the source)"
    ));
    out.join("\n")
}

/// The message and the details (host, command, exit, stderr, remedy) of the innermost
/// error.
fn message_and_details(cur: &EvalAltResult, text: Option<&str>) -> (String, Vec<String>) {
    match cur {
        EvalAltResult::ErrorPropertyNotFound(prop, pos) => {
            (missing_property(prop, text, *pos), Vec::new())
        }
        EvalAltResult::ErrorRuntime(v, _) => thrown_details(v),
        EvalAltResult::ErrorTerminated(token, _) => match token.clone().into_string() {
            Ok(t) if super::limits::is_memory_stop(&t.clone().into()) => (t, Vec::new()),
            Ok(t) if t != super::error::CANCELLED => (format!("interrupted: {t}"), Vec::new()),
            _ => ("interrupted".to_string(), Vec::new()),
        },
        // hascript's own bounds (`limits`) say the whole sentence.
        EvalAltResult::ErrorDataTooLarge(what, _) if what.contains(' ') => {
            (what.clone(), Vec::new())
        }
        other => (strip_position(&other.to_string()), Vec::new()),
    }
}

/// The report of `err` raised while running the script named `main_source`; `sources`
/// holds the texts by source name (for the source line and caret).
pub fn render(err: &EvalAltResult, main_source: &str, sources: &HashMap<String, String>) -> String {
    let mut frames: Vec<(String, String, Position)> = Vec::new();
    let mut cur = err;
    let mut src = main_source.to_string();
    loop {
        match cur {
            EvalAltResult::ErrorInFunctionCall(name, fsrc, inner, pos) => {
                let what = if name.starts_with("anon$") {
                    "in a closure called".to_string()
                } else if let Some(p) = name.strip_prefix(super::procedure::PROCEDURE_FRAME) {
                    format!("in the procedure {p} run")
                } else {
                    format!("in call to function '{name}'")
                };
                frames.push((what, src.clone(), *pos));
                if !fsrc.is_empty() {
                    src = fsrc.clone();
                }
                cur = inner;
            }
            EvalAltResult::ErrorInModule(path, inner, pos) => {
                frames.push((format!("in module '{path}' imported"), src.clone(), *pos));
                src = path.clone();
                cur = inner;
            }
            _ => break,
        }
    }
    let (message, details) = message_and_details(cur, sources.get(&src).map(String::as_str));
    let mut out = vec![format!("error: {message}")];
    out.extend(location(&src, origin(cur), sources));
    out.extend(details);
    for (what, s, pos) in frames.iter().rev() {
        match (pos.line(), pos.position()) {
            (Some(l), Some(c)) => out.push(format!("  {what} at {s}:{l}:{c}")),
            (Some(l), None) => out.push(format!("  {what} at {s}:{l}")),
            _ => out.push(format!("  {what}")),
        }
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use hascript_api::{Error, ErrorKind};

    #[test]
    fn driver_error_report_shows_location_details_and_remedy() {
        let err = super::super::error::throw(
            Error::new(ErrorKind::Check, "fencing is not working")
                .on_host("cfguest1")
                .with_command("sdtool -s")
                .with_remedy("check the XSCF user"),
            Position::new(2, 5),
        );
        let mut src = HashMap::new();
        src.insert(
            "t.rhai".to_string(),
            "let a = 1;\nlet b = fence.verify();\n".to_string(),
        );
        let r = render(&err, "t.rhai", &src);
        assert!(
            r.starts_with("error: fencing is not working\n  --> t.rhai:2:5\n"),
            "{r}"
        );
        assert!(
            r.contains(" 2 | let b = fence.verify();\n   |     ^"),
            "{r}"
        );
        assert!(r.contains("  host: cfguest1"), "{r}");
        assert!(r.contains("remedy: check the XSCF user"), "{r}");
        assert_eq!(exit_code(&err, false), 3);
        let f = fields(&err, "t.rhai");
        assert_eq!(f.message, "fencing is not working");
        assert_eq!(f.remedy.as_deref(), Some("check the XSCF user"));
        assert_eq!(f.host.as_deref(), Some("cfguest1"));
        assert_eq!(f.command.as_deref(), Some("sdtool -s"));
        assert_eq!(f.location.as_deref(), Some("t.rhai:2:5"));
    }

    #[test]
    fn exit_codes_by_kind_and_change() {
        let thrown =
            |m: Map| -> EvalAltResult { EvalAltResult::ErrorRuntime(m.into(), Position::NONE) };
        let mut m = Map::new();
        m.insert("kind".into(), "timeout".into());
        assert_eq!(exit_code(&thrown(m.clone()), false), 3);
        assert_eq!(exit_code(&thrown(m), true), 4);
        assert_eq!(exit_code(&thrown(Map::new()), true), 1);
        let nf = EvalAltResult::ErrorFunctionNotFound("nope()".into(), Position::NONE);
        assert_eq!(exit_code(&nf, false), 2);
        assert_eq!(exit_code(&nf, true), 4);
        let wrapped = EvalAltResult::ErrorInFunctionCall(
            "f".into(),
            String::new(),
            Box::new(nf),
            Position::NONE,
        );
        assert_eq!(exit_code(&wrapped, true), 4);
        let term = EvalAltResult::ErrorTerminated("x".into(), Position::NONE);
        assert_eq!(exit_code(&term, true), 130);
        assert_eq!(exit_code_by(&term, true, Some(Signal::Terminate)), 143);
        assert_eq!(exit_code_by(&term, false, Some(Signal::Hangup)), 129);
        // Rhai's own error, caught and thrown again by a script.
        let mut rethrown = Map::new();
        rethrown.insert("error".into(), "ErrorFunctionNotFound".into());
        rethrown.insert("message".into(), "Function not found: nope ()".into());
        assert_eq!(exit_code(&thrown(rethrown.clone()), false), 2);
        assert_eq!(exit_code(&thrown(rethrown), true), 4);
    }
}
