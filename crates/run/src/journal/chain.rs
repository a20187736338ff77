//! Which runs a run continued (`resume`, `unwind`): its header's `resumed_from` or
//! `unwinds`, that run's, and so on — read from the journals, for `resume` (steps to replay)
//! and the locks (a dead chain's hosts).

use std::path::Path;

use super::event::{Event, RunHeader};
use super::read::{self, events, find, read_events};

/// How many continued runs [`ancestors`] follows at most.
const MAX_ANCESTORS: usize = 32;

/// The runs the run with `header` continued, nearest first, with their journals: the run
/// its `resumed_from` or `unwinds` names, then the one that run continued, and so on. A
/// journal that is missing or unreadable ends the chain.
pub fn ancestors(dir: &Path, header: &RunHeader) -> Vec<(String, Vec<Event>)> {
    let mut out: Vec<(String, Vec<Event>)> = Vec::new();
    let mut h = Some(header.clone());
    while out.len() < MAX_ANCESTORS {
        let Some(prev) = h
            .as_ref()
            .and_then(|h| h.resumed_from.clone().or_else(|| h.unwinds.clone()))
        else {
            break;
        };
        if out.iter().any(|(id, _)| *id == prev) {
            break;
        }
        let Ok((id, path)) = find(dir, &prev) else {
            break;
        };
        let Ok(lines) = read_events(&path) else {
            break;
        };
        h = read::header(&lines).map(|(_, h)| h.clone());
        out.push((id, events(lines)));
    }
    out
}

/// The ids of the runs run `id` (in `dir`) continued, nearest first (see [`ancestors`]).
pub fn lineage(dir: &Path, id: &str) -> Vec<String> {
    let Ok((_, path)) = find(dir, id) else {
        return Vec::new();
    };
    let lines = read_events(&path).unwrap_or_default();
    let Some((_, header)) = read::header(&lines) else {
        return Vec::new();
    };
    ancestors(dir, header)
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}
