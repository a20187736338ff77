//! Reading journals: the files of a folder, their lines, summaries (`journal list`).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use super::event::{Event, Line, RunHeader};
use super::ids::id_chars;
use super::EXT;

/// One journal as `journal list` sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary {
    /// The run id.
    pub id: String,
    /// Start time (`2026-07-28T17:26:00.123Z`), from the header.
    pub started: String,
    /// Who ran it.
    pub user: String,
    /// The script's name.
    pub script: String,
    /// `ok`, `failed`, …, or `unfinished` (no result line: the run died or still runs).
    pub result: String,
    /// The exit code, when it finished.
    pub exit: Option<i32>,
}

/// The journal files in `dir`, oldest first (names sort by start time).
pub fn journal_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, String> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", dir.display())),
    };
    let mut v: Vec<(String, PathBuf)> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?;
            let id = name.strip_suffix(&format!(".{EXT}"))?.to_string();
            Some((id, p))
        })
        .collect();
    v.sort();
    Ok(v)
}

/// The lines of a journal as JSON objects, as written (`journal show --output json` prints
/// them; a line cut short by a crash is skipped). Readers use [`read_events`].
pub fn read_lines(path: &Path) -> Result<Vec<serde_json::Value>, String> {
    let f = File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(BufReader::new(f)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(&l).ok())
        .filter(serde_json::Value::is_object)
        .collect())
}

/// The lines of a journal, typed. A line that is not one this version knows is skipped:
/// one cut short by a crash (the last line of a run killed mid-write), or an event of a
/// later version ([`Line::parse`]).
pub fn read_events(path: &Path) -> Result<Vec<Line>, String> {
    let f = File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(BufReader::new(f)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| Line::parse(&l))
        .collect())
}

/// The events of `lines`, without their envelope.
pub fn events(lines: Vec<Line>) -> Vec<Event> {
    lines.into_iter().map(|l| l.event).collect()
}

/// The run's header (its `run` line), when it has one.
pub fn header(lines: &[Line]) -> Option<(&Line, &RunHeader)> {
    lines.iter().find_map(|l| match &l.event {
        Event::Run(h) => Some((l, h)),
        _ => None,
    })
}

/// Summarise one journal's lines.
pub fn summarise(id: &str, lines: &[Line]) -> RunSummary {
    let header = header(lines);
    let result = lines.iter().rev().find_map(|l| match &l.event {
        Event::Result { result, exit, .. } => Some((result.clone(), *exit)),
        _ => None,
    });
    let dash = || "-".to_string();
    RunSummary {
        id: id.to_string(),
        started: header.map(|(l, _)| l.ts.clone()).unwrap_or_else(dash),
        user: header.map(|(_, h)| h.user.clone()).unwrap_or_else(dash),
        script: header.map(|(_, h)| h.script.clone()).unwrap_or_else(dash),
        result: result
            .as_ref()
            .map(|r| r.0.clone())
            .unwrap_or_else(|| "unfinished".into()),
        exit: result.map(|r| r.1),
    }
}

/// Every run in `dir`, oldest first (by the start time in its header).
pub fn list(dir: &Path) -> Result<Vec<RunSummary>, String> {
    let mut out = Vec::new();
    for (id, path) in journal_files(dir)? {
        let lines = read_events(&path)?;
        out.push(summarise(&id, &lines));
    }
    // Ids of runs started in the same second sort by their random suffix: the header's
    // start time (milliseconds) decides.
    out.sort_by(|a, b| (&a.started, &a.id).cmp(&(&b.started, &b.id)));
    Ok(out)
}

/// The journal of the run whose id starts with `prefix`.
pub fn find(dir: &Path, prefix: &str) -> Result<(String, PathBuf), String> {
    if !id_chars(prefix) {
        return Err(format!(
            "{prefix:?} is not a run id: run ids look like 20260728T172600.123Z-3f9a1c (see `hascript journal list`)"
        ));
    }
    let files = journal_files(dir)?;
    let hits: Vec<&(String, PathBuf)> = files
        .iter()
        .filter(|(id, _)| id.starts_with(prefix))
        .collect();
    match hits.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(format!(
            "no run {prefix:?} in {}: `hascript journal list` shows the runs recorded there",
            dir.display()
        )),
        many => Err(format!(
            "{prefix:?} matches {} runs ({}): give more of the id",
            many.len(),
            many.iter()
                .map(|(id, _)| id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// The run `journal show RUN` names: `None` or `last` is the newest run in `dir`, else an id
/// or enough of its beginning to name one run.
pub fn find_run(dir: &Path, run: Option<&str>) -> Result<(String, PathBuf), String> {
    match run {
        None | Some("last") => {
            let runs = list(dir)?;
            let last = runs
                .last()
                .ok_or_else(|| format!("no runs recorded in {}", dir.display()))?;
            find(dir, &last.id)
        }
        Some(r) => find(dir, r),
    }
}

/// `journal list`'s lines: one per run, oldest first, the user and script columns aligned
/// (id, start time, user, script, result, exit code or `-`).
pub fn list_lines(runs: &[RunSummary]) -> Vec<String> {
    let width = |f: &dyn Fn(&RunSummary) -> usize| runs.iter().map(f).max().unwrap_or(0);
    let (wu, ws) = (width(&|r| r.user.len()), width(&|r| r.script.len()));
    runs.iter()
        .map(|r| {
            let exit = r.exit.map(|e| e.to_string()).unwrap_or_else(|| "-".into());
            format!(
                "{}  {}  {:wu$}  {:ws$}  {} {exit}",
                r.id, r.started, r.user, r.script, r.result
            )
        })
        .collect()
}
