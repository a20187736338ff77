//! What earlier runs on the same site recorded, read back from their journals for the
//! drivers ([`hascript_api::objects::History`]):
//! - the size of a log file journaled just before a change that makes the cluster write to
//!   it (`log_mark` events), so that a later run scans `/var/adm/messages` from the size it
//!   had before the latest `clovmmigrate -u`, whichever run sent it (procedures.md A3:
//!   message 7245 has no time bound);
//! - step results (`step_end` values), so that a later step script learns when an earlier
//!   run did 17.3.1.1 and says how long the cluster ran without fencing.
//!
//! Read on demand (the first question), once per run: most runs never ask.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;

use crate::journal::{self, SiteRecord};

/// The `log_mark` records of every earlier, real (not dry) run on one site.
pub struct JournalHistory {
    dir: PathBuf,
    /// The site as the journals' headers name it (what must match).
    site: Option<Value>,
    /// This run (its own records are the driver's, in memory).
    own: String,
    records: OnceLock<Records>,
}

/// What the journals of one site hold for the drivers.
#[derive(Default)]
struct Records {
    /// The newest size of each (host, file).
    marks: HashMap<(String, String), u64>,
    /// Step values, oldest run first, in each run's order.
    steps: Vec<Value>,
}

/// How many of the newest journals are read at most (a folder may keep every run).
const MAX_JOURNALS: usize = 500;

impl JournalHistory {
    /// The history of `site` in the journals of `dir`, leaving out run `own`. A simulated
    /// site without a state folder is new in every run: it has no history.
    pub fn new(dir: PathBuf, site: &SiteRecord, own: &str) -> Self {
        let site = match site {
            SiteRecord::Sim { state: None, .. } => None,
            SiteRecord::Sim {
                state: Some(state), ..
            } => Some(serde_json::json!({"kind": "sim", "state": state})),
            // The inventory file names the site; an edited inventory is the same site.
            SiteRecord::Inventory { path, .. } => {
                Some(serde_json::json!({"kind": "inventory", "path": path}))
            }
        };
        JournalHistory {
            dir,
            site,
            own: own.to_string(),
            records: OnceLock::new(),
        }
    }

    /// Whether a journal header's `site` is this site.
    fn same_site(&self, header_site: &Value) -> bool {
        let Some(mine) = &self.site else {
            return false;
        };
        let Some(obj) = mine.as_object() else {
            return false;
        };
        obj.iter().all(|(k, v)| header_site.get(k) == Some(v))
    }

    fn read(&self) -> Records {
        let mut out = Records::default();
        if self.site.is_none() {
            return out;
        }
        // Oldest first (ids sort by start time): a newer record replaces an older one.
        let Ok(files) = journal::journal_files(&self.dir) else {
            return out;
        };
        let skip = files.len().saturating_sub(MAX_JOURNALS);
        for (id, path) in files.into_iter().skip(skip) {
            if id == self.own {
                continue;
            }
            let Ok(f) = File::open(&path) else { continue };
            let mut lines = BufReader::new(f).lines().map_while(Result::ok);
            // The header decides whether the rest is read at all.
            let Some(header) = lines
                .next()
                .and_then(|l| serde_json::from_str::<Value>(&l).ok())
            else {
                continue;
            };
            let real = header.get("event").and_then(Value::as_str) == Some("run")
                && header.get("dry_run").and_then(Value::as_bool) != Some(true);
            if !real || !header.get("site").is_some_and(|s| self.same_site(s)) {
                continue;
            }
            for line in lines {
                let mark = line.contains("\"log_mark\"");
                if !mark && !line.contains("\"step_end\"") {
                    continue;
                }
                let Ok(v) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                match v.get("event").and_then(Value::as_str) {
                    Some("log_mark") => {
                        let (Some(host), Some(file), Some(size)) = (
                            v.get("host").and_then(Value::as_str),
                            v.get("file").and_then(Value::as_str),
                            v.get("size").and_then(Value::as_u64),
                        ) else {
                            continue;
                        };
                        out.marks.insert((host.to_string(), file.to_string()), size);
                    }
                    Some("step_end") => {
                        if let Some(value) = v.get("value").filter(|v| !v.is_null()) {
                            out.steps.push(value.clone());
                        }
                    }
                    _ => {}
                }
            }
        }
        out
    }

    fn records(&self) -> &Records {
        self.records.get_or_init(|| self.read())
    }
}

impl hascript_api::objects::History for JournalHistory {
    fn log_mark(&self, host: &str, file: &str) -> Option<u64> {
        self.records()
            .marks
            .get(&(host.to_string(), file.to_string()))
            .copied()
    }

    fn step_value(&self, test: &dyn Fn(&Value) -> bool) -> Option<Value> {
        self.records().steps.iter().rev().find(|v| test(v)).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hascript_api::objects::History;

    fn write(dir: &std::path::Path, id: &str, lines: &[Value]) {
        let text: Vec<String> = lines.iter().map(Value::to_string).collect();
        std::fs::write(
            dir.join(format!("{id}.{}", journal::EXT)),
            text.join("\n") + "\n",
        )
        .expect("written");
    }

    fn header(state: &str, dry: bool) -> Value {
        serde_json::json!({"event": "run", "dry_run": dry,
            "site": {"kind": "sim", "scenario": "ldoms", "state": state}})
    }

    fn mark(host: &str, size: u64) -> Value {
        serde_json::json!({"event": "log_mark", "host": host, "file": "/var/adm/messages", "size": size})
    }

    #[test]
    fn the_newest_real_record_of_the_same_site_wins() {
        let d = tempfile::tempdir().expect("tempdir");
        write(
            d.path(),
            "20260101T000000.000Z-aaaaaa",
            &[header("/s", false), mark("g1", 10), mark("g1", 20)],
        );
        write(
            d.path(),
            "20260102T000000.000Z-aaaaaa",
            &[header("/s", false), mark("g1", 30)],
        );
        // Another site, a dry run and this run itself never count.
        write(
            d.path(),
            "20260103T000000.000Z-aaaaaa",
            &[header("/other", false), mark("g1", 99)],
        );
        write(
            d.path(),
            "20260104T000000.000Z-aaaaaa",
            &[header("/s", true), mark("g1", 98)],
        );
        write(
            d.path(),
            "20260105T000000.000Z-aaaaaa",
            &[header("/s", false), mark("g1", 97)],
        );
        let site = SiteRecord::Sim {
            scenario: "ldoms".into(),
            state: Some("/s".into()),
        };
        let h = JournalHistory::new(d.path().to_path_buf(), &site, "20260105T000000.000Z-aaaaaa");
        assert_eq!(h.log_mark("g1", "/var/adm/messages"), Some(30));
        assert_eq!(h.log_mark("g2", "/var/adm/messages"), None);
        // A simulated site without a folder has no history.
        let fresh = SiteRecord::Sim {
            scenario: "ldoms".into(),
            state: None,
        };
        let h = JournalHistory::new(d.path().to_path_buf(), &fresh, "x");
        assert_eq!(h.log_mark("g1", "/var/adm/messages"), None);
    }

    #[test]
    fn the_newest_step_value_of_the_same_site_that_passes_the_test_is_found() {
        let d = tempfile::tempdir().expect("tempdir");
        let step = |v: Value| serde_json::json!({"event": "step_end", "ok": true, "value": v});
        write(
            d.path(),
            "20260101T000000.000Z-aaaaaa",
            &[
                header("/s", false),
                step(serde_json::json!({"guest": "guest2", "prepared_at": 100})),
            ],
        );
        write(
            d.path(),
            "20260102T000000.000Z-aaaaaa",
            &[
                header("/s", false),
                step(serde_json::json!({"guest": "guest2", "prepared_at": 200})),
                step(serde_json::json!({"guest": "guest1", "prepared_at": 250})),
            ],
        );
        write(
            d.path(),
            "20260103T000000.000Z-aaaaaa",
            &[
                header("/s", true),
                step(serde_json::json!({"guest": "guest2", "prepared_at": 300})),
            ],
        );
        let site = SiteRecord::Sim {
            scenario: "ldoms".into(),
            state: Some("/s".into()),
        };
        let h = JournalHistory::new(d.path().to_path_buf(), &site, "none");
        let found = h.step_value(&|v| v["guest"] == "guest2");
        assert_eq!(found.map(|v| v["prepared_at"].clone()), Some(200.into()));
        assert_eq!(h.step_value(&|v| v["guest"] == "guest9"), None);
    }
}
