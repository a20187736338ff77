//! The time-sync check (A4, the note after 17.3.1.2).

use hascript_api::{ErrorKind, Result};
use serde_json::{json, Value};

use super::REMEDY_TIME_SYNC;
use crate::commands as cmd;
use crate::facts::Inner;
use crate::parse::log_scan;

impl Inner {
    /// `(WRP, 34)`/`(WRP, 35)` lines written since the run started, in the RMS switchlog
    /// and `/var/adm/messages` of every guest node.
    pub fn time_sync(&self) -> Result<Value> {
        let mut hits = Vec::new();
        for g in &self.topo.guests {
            for file in [cmd::SWITCHLOG, cmd::MESSAGES] {
                let text = match self.log_text(&g.name, file, true) {
                    Ok(t) => t,
                    Err(e) if e.kind == ErrorKind::Cancelled => return Err(e),
                    Err(_) => continue,
                };
                for h in log_scan::find_time_sync(&text) {
                    hits.push(json!({
                        "host": g.name, "file": file, "code": format!("(WRP, {})", h.code),
                        "cluster_host": h.host, "line": h.line,
                    }));
                }
            }
        }
        let found = !hits.is_empty();
        Ok(json!({
            "found": found, "hits": hits,
            "remedy": if found { Value::String(REMEDY_TIME_SYNC.into()) } else { Value::Null },
        }))
    }
}
