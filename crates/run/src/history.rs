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

use crate::journal::{self, Event, Line, SiteRecord};

/// The `log_mark` records of every earlier, real (not dry) run on one site.
pub struct JournalHistory {
    dir: PathBuf,
    /// The site as the journals' headers name it (what must match).
    site: Option<SiteKey>,
    /// This run (its own records are the driver's, in memory).
    own: String,
    records: OnceLock<Records>,
}

/// What names a site across runs: a simulated site's state folder, or an inventory's path
/// (an edited inventory is the same site).
#[derive(Debug, Clone, PartialEq, Eq)]
enum SiteKey {
    /// `--sim-state DIR`.
    SimState(String),
    /// The inventory file.
    Inventory(String),
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
            } => Some(SiteKey::SimState(state.clone())),
            // The inventory file names the site; an edited inventory is the same site.
            SiteRecord::Inventory { path, .. } => Some(SiteKey::Inventory(path.clone())),
        };
        JournalHistory {
            dir,
            site,
            own: own.to_string(),
            records: OnceLock::new(),
        }
    }

    /// Whether a journal header's `site` is this site.
    fn same_site(&self, header_site: &SiteRecord) -> bool {
        match (&self.site, header_site) {
            (Some(SiteKey::SimState(mine)), SiteRecord::Sim { state, .. }) => {
                state.as_ref() == Some(mine)
            }
            (Some(SiteKey::Inventory(mine)), SiteRecord::Inventory { path, .. }) => path == mine,
            _ => false,
        }
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
            let Some(Event::Run(header)) =
                lines.next().and_then(|l| Line::parse(&l)).map(|l| l.event)
            else {
                continue;
            };
            if header.dry_run || !self.same_site(&header.site) {
                continue;
            }
            for line in lines {
                // Only two kinds of line matter: the others are not parsed.
                match Line::parse_if(&line, &["log_mark", "step_end"]).map(|l| l.event) {
                    Some(Event::LogMark { host, file, size }) => {
                        out.marks.insert((host, file), size);
                    }
                    Some(Event::StepEnd {
                        value: Some(value), ..
                    }) if !value.is_null() => out.steps.push(value),
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
        let text: Vec<String> = lines
            .iter()
            .map(|l| journal::samples::complete(l.clone()).to_string())
            .collect();
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
