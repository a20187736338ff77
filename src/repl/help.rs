//! `:help`: the overview of the objects, values, functions and commands; one topic's
//! functions or one function's whole doc.

use rhai::Engine;

use crate::docs::{Api, Form};
use crate::inventory::quoted;
use crate::scripts;

/// Every group's functions with signatures and doc comments (`:help all`).
pub fn help(engine: &Engine) -> String {
    help_all(&Api::of(engine), true)
}

fn help_all(api: &Api, declared: bool) -> String {
    let mut out = Vec::new();
    for g in &api.groups {
        let recv = if declared { &g.declared } else { &g.receiver };
        for f in &g.functions {
            out.push(f.signature(recv));
            if !f.doc.is_empty() {
                out.push(format!("    {}", f.doc.join("\n    ")));
            }
        }
    }
    out.join("\n")
}

/// The commands, for `:help`.
const COMMAND_HELP: &[(&str, &str)] = &[
    (":help [TOPIC]", "this list; TOPIC: an object (fence), a function (fence.verify, wait_until), a type (Host), all"),
    (":json", "show values as JSON from now on (again: as tables); shows the last value again"),
    (":vars", "the session's variables and functions"),
    (":run NAME [--yes] [--dry-run] [key=value …]", "run a shipped procedure (or a script file) on this site as `hascript run` does: journaled, host locks, confirmations; --dry-run prints the plan and changes nothing"),
    (":load FILE", "evaluate a script file into the session (its variables and functions stay)"),
    (":save FILE", "write the accepted inputs as a script for `hascript run`"),
    (":sim [SCENARIO]", "switch to a simulated site (default: the LDoms one); :scenarios lists them"),
    (":inventory FILE", "switch to the real site of an inventory"),
    (":scenarios", "the simulator's sites and scenarios"),
    (":quit", "leave (Ctrl-D too)"),
];

/// The `:help` overview.
pub fn help_overview(api: &Api) -> String {
    let mut out = vec!["Objects (globals):".to_string()];
    let objects: Vec<_> = api
        .groups
        .iter()
        .filter(|g| g.key == g.receiver && g.type_name.is_some())
        .collect();
    for g in &objects {
        out.push(format!(
            "  {:<11} {:<11} {}",
            g.key,
            g.type_name.as_deref().unwrap_or_default(),
            g.names().join(", ")
        ));
    }
    out.push("  params      Map         the parameters (empty in the REPL; :run NAME key=value passes them)".into());
    out.push("  site        Map         #{driver, description, hosts}".into());
    out.push("Values (returned by functions):".into());
    for g in api
        .groups
        .iter()
        .filter(|g| g.type_name.is_some() && g.key != g.receiver)
    {
        let from: Vec<String> = api
            .groups
            .iter()
            .flat_map(|o| {
                o.functions
                    .iter()
                    .filter(|f| f.ret == g.key && f.form != Form::Property)
                    .map(move |f| match f.form {
                        Form::Function => format!("{}()", f.name),
                        _ => format!("{}.{}()", o.receiver, f.name),
                    })
            })
            .collect::<Vec<_>>();
        let mut from_d = from.clone();
        from_d.dedup();
        out.push(format!(
            "  {:<11} from {}: {}",
            g.key,
            from_d.join(", "),
            g.names()
                .iter()
                .map(|n| format!("{}.{n}", g.receiver))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some(f) = api.group("functions") {
        out.push("Functions:".into());
        out.push(format!("  {}", f.names().join(", ")));
    }
    out.push("Commands:".into());
    let w = COMMAND_HELP.iter().map(|(c, _)| c.len()).max().unwrap_or(0);
    for (c, d) in COMMAND_HELP {
        out.push(format!("  {c:w$}  {d}"));
    }
    out.push("Tab completes names, methods after `obj.`, hosts in host(\"…\"), procedures and their parameters after :run.".into());
    out.push("An unfinished input (open bracket or string) continues on the next line; Ctrl-C cancels it, or stops the running call.".into());
    out.join("\n")
}

/// `:help TOPIC`: a group's functions with one-line docs, or one function's whole doc.
pub fn help_topic(api: &Api, topic: &str) -> Result<String, String> {
    let topic = topic.trim();
    if topic == "all" {
        return Ok(help_all(api, false));
    }
    if let Some(c) = COMMAND_HELP
        .iter()
        .find(|(c, _)| c.split_whitespace().next() == Some(topic))
    {
        return Ok(format!("{}\n    {}", c.0, c.1));
    }
    if let Some(g) = api.group(topic) {
        let title = match &g.type_name {
            Some(t) if g.key == g.receiver => format!("{} ({t}):", g.key),
            Some(t) => format!("{t} values ({}):", g.receiver),
            None => "Functions:".to_string(),
        };
        let mut out = vec![title];
        for f in &g.functions {
            out.push(format!("  {}", f.signature(&g.receiver)));
            let s = f.summary();
            if !s.is_empty() {
                out.push(format!("      {s}"));
            }
        }
        let example = g.names().first().map(|n| match g.key.as_str() {
            "functions" => n.to_string(),
            k => format!("{k}.{n}"),
        });
        if let Some(e) = example {
            out.push(format!(":help {e} shows the whole doc comment."));
        }
        return Ok(out.join("\n"));
    }
    // `h.run` / `conf.set`: the receiver word of a value type works too.
    let found = api.lookup(topic).or_else(|| {
        let (r, n) = topic.split_once('.')?;
        let g = api.groups.iter().find(|g| g.receiver == r)?;
        let fs = g.named(n);
        (!fs.is_empty()).then_some((g, fs))
    });
    match found {
        Some((g, fs)) => {
            let mut out: Vec<String> = fs.iter().map(|f| f.signature(&g.receiver)).collect();
            let mut seen: Vec<&Vec<String>> = Vec::new();
            for f in &fs {
                if f.doc.is_empty() || seen.contains(&&f.doc) {
                    continue;
                }
                seen.push(&f.doc);
                out.push(String::new());
                if fs.len() > 1 {
                    out.push(format!("{}:", f.signature(&g.receiver)));
                }
                out.extend(f.doc.iter().map(|l| format!("  {l}")));
            }
            Ok(out.join("\n"))
        }
        None => {
            let mut names: Vec<String> = Vec::new();
            for g in &api.groups {
                names.push(g.key.clone());
                for n in g.names() {
                    names.push(match g.key.as_str() {
                        "functions" => n.to_string(),
                        k => format!("{k}.{n}"),
                    });
                }
            }
            let close = scripts::close_names(topic, &names);
            let hint = if close.is_empty() {
                "; :help lists the objects".to_string()
            } else {
                format!("; did you mean: {}?", close.join(", "))
            };
            Err(format!("error: no help for {}{hint}", quoted(topic)))
        }
    }
}
