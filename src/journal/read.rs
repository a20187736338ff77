//! Reading journals: the files of a folder, their lines, summaries (`journal list`).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use hascript_api::objects::Value;

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

/// The lines of a journal that parse as JSON objects (a line cut short by a crash is
/// skipped).
pub fn read_lines(path: &Path) -> Result<Vec<Value>, String> {
    let f = File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(BufReader::new(f)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| serde_json::from_str::<Value>(&l).ok())
        .filter(Value::is_object)
        .collect())
}

/// Summarise one journal's lines.
pub fn summarise(id: &str, lines: &[Value]) -> RunSummary {
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("-").to_string();
    let header = lines
        .iter()
        .find(|l| l.get("event").and_then(Value::as_str) == Some("run"));
    let result = lines
        .iter()
        .rev()
        .find(|l| l.get("event").and_then(Value::as_str) == Some("result"));
    RunSummary {
        id: id.to_string(),
        started: header.map(|h| s(h, "ts")).unwrap_or_else(|| "-".into()),
        user: header.map(|h| s(h, "user")).unwrap_or_else(|| "-".into()),
        script: header.map(|h| s(h, "script")).unwrap_or_else(|| "-".into()),
        result: result
            .map(|r| s(r, "result"))
            .unwrap_or_else(|| "unfinished".into()),
        exit: result
            .and_then(|r| r.get("exit"))
            .and_then(Value::as_i64)
            .map(|e| e as i32),
    }
}

/// Every run in `dir`, oldest first (by the start time in its header).
pub fn list(dir: &Path) -> Result<Vec<RunSummary>, String> {
    let mut out = Vec::new();
    for (id, path) in journal_files(dir)? {
        let lines = read_lines(&path)?;
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
