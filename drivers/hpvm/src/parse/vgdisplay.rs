//! `vgdisplay [-v] [VG]` (HP-UX LVM): is a volume group shared (SLVM)?
//!
//! ```text
//! --- Volume groups ---
//! VG Name                     /dev/vg_slvm2
//! VG Write Access             read/write
//! VG Status                   available, shared, server
//! Max LV                      255
//! ```
//!
//! Each `--- Volume groups ---` block (or each `VG Name` line when the banner is missing) is one
//! volume group; every `Label   value` line of the block is kept (label = the words before the
//! run of two or more spaces). `--- Logical volumes ---` / `--- Physical volumes ---` blocks
//! of `vgdisplay -v` are skipped. `VG Status` is `available, shared, server` (or `client`) for
//! a shared volume group, `available` for a plain one.

use serde::Serialize;

use super::text::{lines, snake};
use super::{ser_pairs, ParseError};

const COMMAND: &str = "vgdisplay";

/// A volume group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VolumeGroup {
    /// `VG Name` as printed (`/dev/vg_slvm2`).
    #[serde(skip)]
    pub name: String,
    /// `VG Write Access` as printed.
    #[serde(skip)]
    pub write_access: String,
    /// `VG Status` as printed (`available, shared, server`).
    #[serde(skip)]
    pub status: String,
    /// Every `Label value` line in order, keyed by snake_case label (`vg_name`, `vg_status`, …).
    #[serde(flatten, serialize_with = "ser_pairs")]
    pub attrs: Vec<(String, String)>,
}

impl VolumeGroup {
    fn words(&self) -> Vec<String> {
        self.status
            .split(',')
            .map(|w| w.trim().to_ascii_lowercase())
            .collect()
    }
    /// Whether `VG Status` says `shared` (SLVM).
    pub fn is_shared(&self) -> bool {
        self.words().iter().any(|w| w == "shared")
    }
    /// Whether `VG Status` says `available` (activated).
    pub fn is_available(&self) -> bool {
        self.words().iter().any(|w| w == "available")
    }
    /// The short name: `vg_slvm2` of `/dev/vg_slvm2`.
    pub fn short_name(&self) -> &str {
        self.name.strip_prefix("/dev/").unwrap_or(&self.name)
    }
}

fn label_value(line: &str) -> Option<(&str, &str)> {
    let t = line.trim();
    let i = t.find("  ").or_else(|| t.find('\t'))?;
    let label = t[..i].trim();
    let value = t[i..].trim();
    (!label.is_empty()).then_some((label, value))
}

/// Parse `vgdisplay` output: one [`VolumeGroup`] per `VG Name`. No `VG Name` at all is an
/// error (e.g. `vgdisplay: Volume group not activated.`), quoting the first line.
pub fn parse(text: &str) -> Result<Vec<VolumeGroup>, ParseError> {
    let mut out: Vec<VolumeGroup> = Vec::new();
    let mut in_vg = false;
    for (n, l) in lines(text) {
        let t = l.trim();
        if t.is_empty() {
            continue;
        }
        if t.starts_with("---") {
            in_vg = t.to_ascii_lowercase().contains("volume group");
            continue;
        }
        let Some((label, value)) = label_value(t) else {
            if t.starts_with("VG Name") {
                return Err(ParseError::new(
                    COMMAND,
                    n,
                    format!("expected `VG Name   <path>`, found: {t:?}"),
                ));
            }
            continue;
        };
        if label == "VG Name" {
            in_vg = true;
            out.push(VolumeGroup {
                name: value.to_string(),
                write_access: String::new(),
                status: String::new(),
                attrs: Vec::new(),
            });
        }
        if !in_vg {
            continue;
        }
        let Some(vg) = out.last_mut() else {
            continue;
        };
        match label {
            "VG Write Access" => vg.write_access = value.to_string(),
            "VG Status" => vg.status = value.to_string(),
            _ => {}
        }
        vg.attrs.push((snake(label), value.to_string()));
    }
    if out.is_empty() {
        let first = lines(text).into_iter().find(|(_, l)| !l.trim().is_empty());
        return Err(match first {
            Some((n, l)) => ParseError::new(
                COMMAND,
                n,
                format!("expected a `VG Name` line, found: {:?}", l.trim()),
            ),
            None => ParseError::new(COMMAND, 0, "empty output: expected a `VG Name` line"),
        });
    }
    Ok(out)
}
