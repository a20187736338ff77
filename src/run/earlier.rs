//! What earlier runs on the same site recorded, for the drivers ([`hascript_api::objects::
//! EarlierLookup`]): a later step script (ldoms/post-migration, recover-migration) learns
//! when an earlier run did 17.3.1.1, to say how long the cluster ran without fencing.
//! Read lazily — only when a driver asks — from the journals, newest first.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hascript_api::objects::EarlierLookup;
use serde_json::Value;

/// How many of the newest journals a look-up reads at most (a look-up must stay cheap in a
/// folder that keeps every run).
const MAX_JOURNALS: usize = 200;

/// The look-up for a run `own` on the site its header records as `site` (the header's
/// `site` field as JSON), over the journals in `dir`.
pub(crate) fn lookup(dir: PathBuf, own: String, site: Value) -> EarlierLookup {
    Arc::new(move |test: &dyn Fn(&Value) -> bool| find(&dir, &own, &site, test))
}

/// Whether a journal header's `site` names the same site as `site`: the same sim folder
/// (an in-memory sim keeps nothing between runs), or the same inventory path.
fn same_site(site: &Value, other: &Value) -> bool {
    match (site.get("state"), site.get("path")) {
        (Some(Value::String(s)), _) => other.get("state").and_then(Value::as_str) == Some(s),
        (_, Some(Value::String(p))) => other.get("path").and_then(Value::as_str) == Some(p),
        _ => false,
    }
}

fn find(dir: &Path, own: &str, site: &Value, test: &dyn Fn(&Value) -> bool) -> Option<Value> {
    // A site with neither a folder nor an inventory path keeps nothing between runs.
    if !same_site(site, site) {
        return None;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_stem().and_then(|s| s.to_str()) != Some(own))
        .collect();
    // Run ids begin with their start time: the name order is the time order.
    files.sort();
    for path in files.iter().rev().take(MAX_JOURNALS) {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let mut lines = text.lines();
        let Some(header) = lines
            .next()
            .and_then(|l| serde_json::from_str::<Value>(l).ok())
        else {
            continue;
        };
        let dry = header.get("dry_run").and_then(Value::as_bool) == Some(true);
        if dry || !header.get("site").is_some_and(|s| same_site(site, s)) {
            continue;
        }
        let found = text
            .lines()
            .rev()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|l| l.get("event").and_then(Value::as_str) == Some("step_end"))
            .filter_map(|l| l.get("value").cloned())
            .find(|v| test(v));
        if found.is_some() {
            return found;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal(dir: &Path, id: &str, site: Value, values: &[Value]) {
        let mut s = serde_json::json!({"event": "run", "run": id, "site": site}).to_string();
        for v in values {
            s.push('\n');
            s.push_str(&serde_json::json!({"event": "step_end", "value": v}).to_string());
        }
        std::fs::write(dir.join(format!("{id}.jsonl")), s).expect("written");
    }

    #[test]
    fn the_newest_matching_value_of_the_same_site_is_found() {
        let d = tempfile::tempdir().expect("tempdir");
        let here = serde_json::json!({"scenario": "ldoms", "state": "/s1"});
        let other = serde_json::json!({"scenario": "ldoms", "state": "/s2"});
        let v = |t: u64| serde_json::json!({"guest": "guest2", "prepared_at": t});
        journal(d.path(), "20260101T000001Z-a", here.clone(), &[v(1), v(2)]);
        journal(
            d.path(),
            "20260101T000002Z-b",
            here.clone(),
            &[serde_json::json!(3)],
        );
        journal(d.path(), "20260101T000003Z-c", other, &[v(9)]);
        journal(d.path(), "20260101T000004Z-own", here.clone(), &[v(7)]);
        let f = lookup(d.path().to_path_buf(), "20260101T000004Z-own".into(), here);
        let has = |v: &Value| v.get("prepared_at").is_some();
        assert_eq!(f(&has), Some(v(2)));
        let none = |_: &Value| false;
        assert_eq!(f(&none), None);
        // An in-memory sim (no folder) keeps nothing between runs.
        let mem = lookup(
            d.path().to_path_buf(),
            "x".into(),
            serde_json::json!({"scenario": "ldoms"}),
        );
        assert_eq!(mem(&has), None);
    }
}
