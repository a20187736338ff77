//! `df -n PATH` (HP-UX): the file system type of the file system holding PATH.
//!
//! ```text
//! /var/opt/hpvm/nfs     (server1:/export/vm    ) :  nfs
//! /                     (/dev/vg00/lvol3       ) :  vxfs
//! ```
//!
//! Mount point, then the source in parentheses (padded with spaces inside), then `:` and the
//! type.

use serde::Serialize;

use super::text::lines;
use super::ParseError;

const COMMAND: &str = "df -n";

/// One line of `df -n`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DfEntry {
    /// The mount point.
    pub mount_point: String,
    /// The device or remote file system (`server1:/export/vm`, `/dev/vg00/lvol3`).
    pub source: String,
    /// The file system type (`nfs`, `vxfs`, `hfs`, …).
    pub fs_type: String,
}

impl DfEntry {
    /// Whether the file system is NFS (`nfs`, `nfs3`, `nfs4`, …).
    pub fn is_nfs(&self) -> bool {
        self.fs_type.to_ascii_lowercase().starts_with("nfs")
    }
}

/// Parse `df -n` output; a line not in the `mount (source) : type` shape is an error.
pub fn parse(text: &str) -> Result<Vec<DfEntry>, ParseError> {
    let mut out = Vec::new();
    for (n, l) in lines(text) {
        let t = l.trim();
        if t.is_empty() {
            continue;
        }
        let bad = || {
            ParseError::new(
                COMMAND,
                n,
                format!("expected `<mount point> (<source>) : <type>`, found: {t:?}"),
            )
        };
        let open = t.find('(').ok_or_else(bad)?;
        let close = t.rfind(')').ok_or_else(bad)?;
        if close < open {
            return Err(bad());
        }
        let mount_point = t[..open].trim();
        let source = t[open + 1..close].trim();
        let fs_type = t[close + 1..]
            .trim()
            .strip_prefix(':')
            .ok_or_else(bad)?
            .trim();
        if mount_point.is_empty() || fs_type.is_empty() || fs_type.contains(char::is_whitespace) {
            return Err(bad());
        }
        out.push(DfEntry {
            mount_point: mount_point.to_string(),
            source: source.to_string(),
            fs_type: fs_type.to_string(),
        });
    }
    if out.is_empty() {
        return Err(ParseError::new(
            COMMAND,
            0,
            "empty output: expected `<mount point> (<source>) : <type>`",
        ));
    }
    Ok(out)
}
