//! Where journals live.

use std::path::PathBuf;

/// The folder holding the journals: `$XDG_STATE_HOME/hascript/runs` (an absolute
/// `XDG_STATE_HOME`; a relative one is ignored, as the XDG specification says), else
/// `$HOME/.local/state/hascript/runs`.
pub fn runs_dir() -> Result<PathBuf, String> {
    if let Some(x) = std::env::var_os("XDG_STATE_HOME") {
        let p = PathBuf::from(x);
        if p.is_absolute() {
            return Ok(p.join("hascript").join("runs"));
        }
    }
    match std::env::var_os("HOME") {
        Some(h) if !h.is_empty() => Ok(PathBuf::from(h).join(".local/state/hascript/runs")),
        _ => Err(
            "cannot tell where to keep the run journal: neither XDG_STATE_HOME nor HOME is set; set XDG_STATE_HOME to a folder".into(),
        ),
    }
}
