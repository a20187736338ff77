//! The REPL's history file: where it is kept, its lines with secrets hidden, and how it is
//! written (0600, whole, replaced by a rename).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::journal::{self, Redactor};

/// Where the history is kept: `$XDG_STATE_HOME/hascript/history`, else
/// `~/.local/state/hascript/history`; `None` without either variable.
pub fn history_path() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        Some(d) if Path::new(&d).is_absolute() => PathBuf::from(d),
        _ => PathBuf::from(std::env::var_os("HOME").filter(|v| !v.is_empty())?)
            .join(".local")
            .join("state"),
    };
    Some(base.join("hascript").join("history"))
}

/// How many lines the history keeps.
pub const HISTORY_SIZE: usize = 1000;

/// A line as the history file keeps it: a `:run`'s secret-named parameters
/// (`password=…`, see [`journal::secret_param_name`]) as `*****`, and every secret the
/// session knows (the inventory's, `HASCRIPT_SECRET_*`, what earlier `:run`s were given)
/// replaced by `*****`, as the journal keeps them.
pub fn history_entry(line: &str, redactor: &Redactor) -> String {
    let t = line.trim_start();
    let line = if t.starts_with(":run") && t[4..].starts_with(char::is_whitespace) {
        let lead = &line[..line.len() - t.len()];
        let words: Vec<String> = t
            .split_whitespace()
            .map(|w| match w.split_once('=') {
                Some((k, _)) if journal::secret_param_name(k.trim_start_matches('-')) => {
                    format!("{k}=*****")
                }
                _ => w.to_string(),
            })
            .collect();
        format!("{lead}{}", words.join(" "))
    } else {
        line.to_string()
    };
    redactor.redact(&line)
}

/// Write the history file: created 0600 (as the journals; its folder 0700 when created),
/// written whole to a new file and renamed over the old one, so a reader never sees half
/// of it, an older file readable by others is replaced, and a link in its place is
/// replaced rather than followed.
pub fn write_history(path: &Path, lines: &[String]) -> std::io::Result<()> {
    use std::fs::{DirBuilder, OpenOptions};
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(dir) = path.parent() {
        DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.tmp", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let _ = std::fs::remove_file(&tmp);
    let write = || -> std::io::Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        let mut text = String::new();
        for l in lines {
            text.push_str(l);
            text.push('\n');
        }
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    let r = write();
    if r.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    r
}
