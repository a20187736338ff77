//! Parsers of the products' output, one file per command.
//!
//! Every parser is a pure function of the text (already decoded) and follows the rules of the
//! LDoms side: tables are read by their header names (for Integrity VM, by the `====` rule
//! under the header) and records by their `key=value` keys, never by fixed columns; leading
//! indentation, trailing spaces, CRLF, blank lines, unknown extra columns or keys and empty
//! values are tolerated; a missing header or a row that cannot be read is a [`ParseError`]
//! naming the command, the line and what was expected. Unknown state words are kept
//! (`Other(String)`).
//!
//! One error is a *state* rather than unreadable text: `cmviewcl: illegal option -- f` means
//! the Serviceguard release is older than A.11.19. [`cmviewcl_line::parse`] returns it as a
//! [`ParseError`] whose [`ParseError::kind`] is [`ParseErrorKind::OldRelease`]
//! ([`ParseError::is_old_release`]), so the driver can report the requirement instead of a
//! parse failure.
//!
//! [`parse_kind`] is the entry point of `hascript parse <kind>`: its JSON mirrors the product
//! (values exactly as printed, `""` for empty).

pub mod cmcheckconf;
pub mod cmviewcl_line;
pub mod df_n;
pub mod hpvmstatus;
pub mod legacy_control;
pub mod log_scan;
pub mod ls_l;
pub mod od_hex;
pub mod ps_ef;
pub mod swlist;
pub mod vgdisplay;

mod text;

use std::fmt;

use hascript_api::kinds::{self, KindParsers};
use serde::Serialize;

/// What kind of failure a [`ParseError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ParseErrorKind {
    /// The text is not the expected output (missing header, unreadable row, …).
    #[default]
    Malformed,
    /// The product is too old for the command (`cmviewcl: illegal option -- f`: Serviceguard
    /// before A.11.19). The message says which release is required.
    OldRelease,
}

/// Output of a command that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    /// The command whose output this is, e.g. `cmviewcl -v -f line`.
    pub command: String,
    /// 1-based line of the offending text; 0 when the error is about the whole input.
    pub line: usize,
    /// What was expected and what was found (quoting the offending line).
    pub message: String,
    /// Malformed text, or a product release too old for the command.
    pub kind: ParseErrorKind,
}

impl ParseError {
    /// A new error about `command`'s output at `line` (0: the whole input).
    pub fn new(command: impl Into<String>, line: usize, message: impl Into<String>) -> Self {
        ParseError {
            command: command.into(),
            line,
            message: message.into(),
            kind: ParseErrorKind::Malformed,
        }
    }

    /// A new error saying the product release is too old (kind [`ParseErrorKind::OldRelease`]).
    pub fn old_release(
        command: impl Into<String>,
        line: usize,
        message: impl Into<String>,
    ) -> Self {
        ParseError {
            kind: ParseErrorKind::OldRelease,
            ..ParseError::new(command, line, message)
        }
    }

    /// Whether this error means the product is too old (e.g. Serviceguard before A.11.19
    /// answering `cmviewcl: illegal option -- f`).
    pub fn is_old_release(&self) -> bool {
        self.kind == ParseErrorKind::OldRelease
    }
}

impl fmt::Display for ParseError {
    /// `cmviewcl -v -f line: line 3: …`, or `cmviewcl -v -f line: …` for line 0.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.command, self.message)
        } else {
            write!(f, "{}: line {}: {}", self.command, self.line, self.message)
        }
    }
}

/// The kinds [`parse_kind`] knows: `(kind, description)`.
pub const KINDS: &[(&str, &str)] = &[
    (
        "cmviewcl-v-f-line",
        "cmviewcl -v -f line: {cluster: {name, status, summary, ...}, nodes: [{name, status, state, ...}], packages: [{name, type, status, state, autorun, owner, ..., nodes: [...], services: [...]}]}",
    ),
    (
        "hpvmstatus",
        "hpvmstatus: [Virtual Machines] rows {virtual_machine_name, vm, os_type, state, ...extra columns}",
    ),
    (
        "hpvmstatus-p",
        "hpvmstatus -P VM: {vm: {...}, storage: [{guest_device, adaptor, ..., physical_storage, physical_device}], network: [{interface, adaptor, name_num, ...}]}",
    ),
    (
        "package-conf",
        "Serviceguard modular package configuration file: ordered [{key, value}] entries (value unquoted)",
    ),
    (
        "legacy-control",
        "legacy package control script: {package_name, node_names, vgs, services: [{index, name, cmd, restart}], assignments: [...]}",
    ),
    (
        "cmcheckconf",
        "cmcheckconf -P F / cmapplyconf -P F: {ok, errors: [...], permission_problems: [{path, mode, node}]}",
    ),
    (
        "vgdisplay",
        "vgdisplay [VG]: volume groups {vg_name, vg_write_access, vg_status, ...every `Label value` line}",
    ),
    (
        "ls-l",
        "ls -l / ls -ld / ls -lA (HP-UX): {type, mode, octal, links, owner, group, size, date, name, target}",
    ),
    (
        "swlist",
        "swlist -l product X: installed products {name, revision, description}",
    ),
    (
        "df-n",
        "df -n PATH (HP-UX): {mount_point, source, fs_type}",
    ),
];

/// A parsed output of any kind, serialised as the JSON of [`parse_kind`].
#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum Parsed {
    Cluster(cmviewcl_line::ClusterView),
    Vms(Vec<hpvmstatus::VmRow>),
    Details(hpvmstatus::VmDetails),
    Entries(Vec<crate::pkgconf::KeyValue>),
    Legacy(legacy_control::LegacyControl),
    Check(cmcheckconf::CheckVerdict),
    Vgs(Vec<vgdisplay::VolumeGroup>),
    Files(Vec<ls_l::LsEntry>),
    Products(Vec<swlist::SwProduct>),
    Df(Vec<df_n::DfEntry>),
}

/// The parser of `kind`, `None` for a kind not in [`KINDS`].
fn parse_known(kind: &str, text: &str) -> Result<Option<Parsed>, ParseError> {
    Ok(Some(match kind {
        "cmviewcl-v-f-line" => Parsed::Cluster(cmviewcl_line::parse(text)?),
        "hpvmstatus" => Parsed::Vms(hpvmstatus::parse_summary(text)?),
        "hpvmstatus-p" => Parsed::Details(hpvmstatus::parse_details(text)?),
        "package-conf" => {
            let doc = crate::pkgconf::PackageConf::parse(text).map_err(|e| {
                // The error's own text starts with this location: said once, not twice.
                let full = e.to_string();
                let prefix = format!("package configuration file: line {}: ", e.line());
                let message = full.strip_prefix(&prefix).unwrap_or(&full).to_string();
                ParseError::new("package configuration file", e.line(), message)
            })?;
            Parsed::Entries(doc.key_values())
        }
        "legacy-control" => Parsed::Legacy(legacy_control::parse(text)?),
        "cmcheckconf" => Parsed::Check(cmcheckconf::parse(text)),
        "vgdisplay" => Parsed::Vgs(vgdisplay::parse(text)?),
        "ls-l" => Parsed::Files(ls_l::parse(text)?),
        "swlist" => Parsed::Products(swlist::parse(text)?),
        "df-n" => Parsed::Df(df_n::parse(text)?),
        _ => return Ok(None),
    }))
}

/// The driver's parsers for [`hascript_api::kinds`]: [`KINDS`] and the parser of each.
pub(crate) struct Kinds;

impl KindParsers for Kinds {
    type Error = ParseError;
    type Parsed = Parsed;
    const KINDS: &'static [(&'static str, &'static str)] = KINDS;

    fn parse_any(kind: &str, text: &str) -> Option<Result<Parsed, ParseError>> {
        parse_known(kind, text).transpose()
    }

    fn error(command: &str, message: String) -> ParseError {
        ParseError::new(command, 0, message)
    }
}

/// Parse `text` as the output of `kind` (one of [`KINDS`]) into the JSON that mirrors the
/// product: values as printed (`""` for empty). An unknown kind is an error on line 0 listing
/// the kinds.
///
/// Note: `serde_json::Value` objects keep their keys sorted unless serde_json's
/// `preserve_order` feature is on; [`parse_kind_json`] keeps the product's order.
pub fn parse_kind(kind: &str, text: &str) -> Result<serde_json::Value, ParseError> {
    kinds::parse_kind::<Kinds>(kind, text)
}

/// As [`parse_kind`], serialised to a JSON string (pretty when `pretty`) that keeps object
/// keys in the product's order.
pub fn parse_kind_json(kind: &str, text: &str, pretty: bool) -> Result<String, ParseError> {
    kinds::parse_kind_json::<Kinds>(kind, text, pretty)
}

/// Serialise `(key, value)` pairs as map entries, in order (one copy in hascript-api).
pub(crate) use hascript_api::kinds::ser_pairs;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_with_and_without_line() {
        let e = ParseError::new("vgdisplay", 3, "expected `VG Name`");
        assert_eq!(e.to_string(), "vgdisplay: line 3: expected `VG Name`");
        assert!(!e.is_old_release());
        let e = ParseError::old_release("cmviewcl -v -f line", 0, "too old");
        assert_eq!(e.to_string(), "cmviewcl -v -f line: too old");
        assert!(e.is_old_release());
    }

    #[test]
    fn unknown_kind_lists_kinds() {
        let e = parse_kind("nope", "").unwrap_err();
        assert_eq!(e.line, 0);
        for (k, _) in KINDS {
            assert!(e.message.contains(k), "{k} missing from {}", e.message);
        }
    }
}
