//! How the REPL shows a value: arrays of maps (rows of `sdtool -s`, guests, packages) as
//! aligned tables, maps as aligned `key: value` lines (nested ones indented), scalars as
//! they are; or JSON (`:json`).

use rhai::{Dynamic, Engine, Map};

/// The longest a table cell may be before it is cut with `…` (`:json` shows it whole).
pub const MAX_CELL: usize = 60;

/// Columns shown first in a table, in this order (the others follow by name).
pub const FIRST_COLUMNS: [&str; 5] = ["name", "host", "node", "cluster_host", "agent"];

/// Show `v` for the REPL (`None` for `()`, which prints nothing).
pub fn show(engine: &Engine, v: &Dynamic, json: bool) -> Option<String> {
    if v.is_unit() {
        return None;
    }
    // Rendering recurses once per level: never over a value deeper than the engine's bound.
    if crate::engine::limits::nests_too_deep(v) {
        return Some(format!(
            "(a value nested more than {} levels deep: not shown)",
            crate::engine::limits::MAX_DEPTH
        ));
    }
    if json {
        return Some(to_json(engine, v));
    }
    Some(readable(engine, v, 0))
}

/// `v` as pretty JSON (keys in the map's order; `()` as `null`; script types by their
/// text).
pub fn to_json(engine: &Engine, v: &Dynamic) -> String {
    let j = json_of(engine, v);
    serde_json::to_string_pretty(&j).unwrap_or_else(|_| "null".into())
}

fn json_of(engine: &Engine, v: &Dynamic) -> serde_json::Value {
    if v.is_map() {
        let m = v.read_lock::<Map>().map(|m| m.clone()).unwrap_or_default();
        let mut keys: Vec<&rhai::Identifier> = m.keys().collect();
        keys.sort();
        let mut out = serde_json::Map::new();
        for k in keys {
            out.insert(k.to_string(), json_of(engine, &m[k]));
        }
        return serde_json::Value::Object(out);
    }
    if v.is_array() {
        let a = v
            .read_lock::<rhai::Array>()
            .map(|a| a.clone())
            .unwrap_or_default();
        return serde_json::Value::Array(a.iter().map(|x| json_of(engine, x)).collect());
    }
    if v.is_variant() {
        return serde_json::Value::String(scalar(engine, v));
    }
    rhai::serde::from_dynamic::<serde_json::Value>(v)
        .unwrap_or_else(|_| serde_json::Value::String(v.to_string()))
}

/// A scalar's text: strings as they are, `()` empty, script types through their
/// registered `to_string` (`Host(cd1)`, `Fence`).
pub fn scalar(engine: &Engine, v: &Dynamic) -> String {
    if v.is_string() {
        return v.clone().into_string().unwrap_or_default();
    }
    if v.is_unit() {
        return String::new();
    }
    if v.is_variant() {
        let mut scope = rhai::Scope::new();
        scope.push_dynamic("value", v.clone());
        if let Ok(s) = engine.eval_with_scope::<String>(&mut scope, "to_string(value)") {
            return s;
        }
    }
    v.to_string()
}

fn map_of(v: &Dynamic) -> Option<Map> {
    if v.is_map() {
        v.read_lock::<Map>().map(|m| m.clone())
    } else {
        None
    }
}

fn array_of(v: &Dynamic) -> Option<rhai::Array> {
    if v.is_array() {
        v.read_lock::<rhai::Array>().map(|a| a.clone())
    } else {
        None
    }
}

/// Whether `a` is a non-empty array of maps (shown as a table).
fn is_rows(a: &rhai::Array) -> bool {
    !a.is_empty() && a.iter().all(|x| x.is_map())
}

/// A value inside a table cell or after `key:`, on one line.
fn inline(engine: &Engine, v: &Dynamic) -> String {
    if let Some(a) = array_of(v) {
        if is_rows(&a) {
            return match a.len() {
                1 => "[1 row]".to_string(),
                n => format!("[{n} rows]"),
            };
        }
        let items: Vec<String> = a.iter().map(|x| inline(engine, x)).collect();
        return format!("[{}]", items.join(", "));
    }
    if let Some(m) = map_of(v) {
        let items: Vec<String> = m
            .iter()
            .map(|(k, x)| format!("{k}: {}", inline(engine, x)))
            .collect();
        return format!("#{{{}}}", items.join(", "));
    }
    let s = scalar(engine, v);
    if v.is_string() {
        // Escaped here, before cells are measured, so tables stay aligned; the console
        // escapes whatever else reaches it.
        let s = crate::output::escape_controls(&s);
        return s.replace('\n', "\\n").replace('\t', "\\t");
    }
    s
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// Rows of maps as an aligned table: one column per key (in first-seen order), a header
/// and a rule.
pub fn table(engine: &Engine, rows: &rhai::Array, indent: usize) -> String {
    let maps: Vec<Map> = rows.iter().filter_map(map_of).collect();
    let mut cols: Vec<String> = Vec::new();
    for m in &maps {
        for k in m.keys() {
            if !cols.iter().any(|c| c == k.as_str()) {
                cols.push(k.to_string());
            }
        }
    }
    // Rhai's maps are sorted by key; put the naming columns first.
    cols.sort_by_key(|c| {
        FIRST_COLUMNS
            .iter()
            .position(|f| f == c)
            .unwrap_or(FIRST_COLUMNS.len())
    });
    let cells: Vec<Vec<String>> = maps
        .iter()
        .map(|m| {
            cols.iter()
                .map(|c| match m.get(c.as_str()) {
                    Some(v) => cut(&inline(engine, v), MAX_CELL),
                    None => String::new(),
                })
                .collect()
        })
        .collect();
    let widths: Vec<usize> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .chain(std::iter::once(c.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let pad = " ".repeat(indent);
    let line = |items: Vec<String>| -> String {
        let mut s = pad.clone();
        let n = items.len();
        for (i, (it, w)) in items.into_iter().zip(&widths).enumerate() {
            s.push_str(&it);
            if i + 1 < n {
                s.push_str(&" ".repeat(w.saturating_sub(it.chars().count()) + 2));
            }
        }
        s.trim_end().to_string()
    };
    let mut out = vec![
        line(cols.clone()),
        line(widths.iter().map(|w| "-".repeat(*w)).collect()),
    ];
    for r in cells {
        out.push(line(r));
    }
    out.join("\n")
}

/// The readable form of `v`, indented by `indent` spaces.
pub fn readable(engine: &Engine, v: &Dynamic, indent: usize) -> String {
    let pad = " ".repeat(indent);
    if let Some(a) = array_of(v) {
        if is_rows(&a) {
            return table(engine, &a, indent);
        }
        if a.is_empty() {
            return format!("{pad}[]");
        }
        let one = format!("{pad}{}", inline(engine, v));
        if one.chars().count() <= 100 && !a.iter().any(|x| x.is_array() || x.is_map()) {
            return one;
        }
        return a
            .iter()
            .map(|x| {
                let s = readable(engine, x, indent + 2);
                format!("{pad}- {}", s.trim_start())
            })
            .collect::<Vec<_>>()
            .join("\n");
    }
    if let Some(m) = map_of(v) {
        if m.is_empty() {
            return format!("{pad}#{{}}");
        }
        let w = m.keys().map(|k| k.chars().count()).max().unwrap_or(0);
        let mut out = Vec::new();
        for (k, x) in &m {
            let nested = map_of(x).is_some_and(|n| !n.is_empty())
                || array_of(x).is_some_and(|a| is_rows(&a));
            if nested {
                out.push(format!("{pad}{k}:"));
                out.push(readable(engine, x, indent + 2));
            } else {
                let s = inline(engine, x);
                let s = if x.is_string() {
                    // Multi-line text (stdout of a command) keeps its lines, indented.
                    let text = scalar(engine, x);
                    if text.contains('\n') {
                        let inner = " ".repeat(indent + w + 2);
                        text.trim_end_matches('\n')
                            .lines()
                            .enumerate()
                            .map(|(i, l)| {
                                if i == 0 {
                                    l.to_string()
                                } else {
                                    format!("{inner}{l}")
                                }
                            })
                            .collect::<Vec<_>>()
                            .join("\n")
                    } else {
                        s
                    }
                } else {
                    s
                };
                out.push(
                    format!("{pad}{k}:{}{s}", " ".repeat(w - k.chars().count() + 2))
                        .trim_end()
                        .to_string(),
                );
            }
        }
        return out.join("\n");
    }
    format!("{pad}{}", scalar(engine, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(src: &str) -> (Engine, Dynamic) {
        let engine = Engine::new();
        let v = engine.eval::<Dynamic>(src).unwrap_or_default();
        (engine, v)
    }

    #[test]
    fn rows_of_maps_are_an_aligned_table() {
        let (e, v) = eval(
            r#"[#{name: "guest1", control_domain: "cd1", state: "active"},
                #{name: "guest22", control_domain: "cd2", state: "bound", extra: 1}]"#,
        );
        let s = readable(&e, &v, 0);
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines.len(), 4, "{s}");
        // Columns in first-seen order, each column starting at the same place.
        let col = |l: &str, w: &str| l.find(w);
        assert_eq!(col(lines[0], "state"), col(lines[2], "active"), "{s}");
        assert_eq!(col(lines[0], "state"), col(lines[3], "bound"), "{s}");
        assert!(lines[1].starts_with("-------"), "{s}");
        assert!(lines[0].starts_with("name "), "naming column first: {s}");
        assert!(lines[3].starts_with("guest22  cd2"), "{s}");
    }

    #[test]
    fn maps_are_aligned_and_nested_rows_become_tables() {
        let (e, v) = eval(
            r#"#{host: "guest1", running: true, rows: [#{agent: "a", state: "ok"}], hosts: ["cd1", "cd2"], none: ()}"#,
        );
        let s = readable(&e, &v, 0);
        assert!(s.contains("host:     guest1"), "{s}");
        assert!(s.contains("running:  true"), "{s}");
        assert!(s.contains("hosts:    [cd1, cd2]"), "{s}");
        assert!(
            s.contains("rows:\n  agent  state\n  -----  -----\n  a      ok"),
            "{s}"
        );
        assert!(s.lines().any(|l| l == "none:"), "{s}");
    }

    #[test]
    fn long_cells_are_cut_and_json_keeps_everything() {
        let long = "x".repeat(200);
        let (e, v) = eval(&format!(r#"[#{{raw: "{long}\nsecond"}}]"#));
        let s = readable(&e, &v, 0);
        assert!(s.lines().all(|l| l.chars().count() <= MAX_CELL), "{s}");
        assert!(s.contains('…'), "{s}");
        let j = to_json(&e, &v);
        assert!(j.contains(&long) && j.contains("\\nsecond"), "{j}");
    }

    #[test]
    fn scalars_print_plainly_and_unit_prints_nothing() {
        let (e, v) = eval(r#""plain text""#);
        assert_eq!(show(&e, &v, false).as_deref(), Some("plain text"));
        assert_eq!(show(&e, &Dynamic::UNIT, false), None);
        let (e, v) = eval("42");
        assert_eq!(show(&e, &v, true).as_deref(), Some("42"));
    }
}
