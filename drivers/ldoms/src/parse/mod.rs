//! Parsers of the products' output, one file per command.
//!
//! Every parser is a pure function of the text (already decoded) and follows the same rules:
//! tables are read by their header names and records by their `key=value` keys, never by fixed
//! columns; leading indentation, trailing spaces, CRLF, blank lines, a banner before the data,
//! unknown extra columns or keys, empty values and notices around a table are tolerated; a
//! missing header or a row that cannot be read is a [`ParseError`] naming the command, the line
//! and what was expected. Unknown state words are kept (`Other(String)`).
//!
//! [`parse_kind`] is the entry point of `hascript parse <kind>`: its JSON mirrors the product
//! (values exactly as printed, `""` for empty).

pub mod cfset_a;
pub mod cftool_n;
pub mod clsnmpsetup_l;
pub mod etc_hosts;
pub mod hvdisp;
pub mod ldm_list_p;
pub mod ldm_list_spconfig;
pub mod ldm_migrate_dry_run;
pub mod log_scan;
pub mod sdtool_s;

mod table;

use std::fmt;

use hascript_api::kinds::{self, KindParsers};
use serde::Serialize;

/// Output of a command that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    /// The command whose output this is, e.g. `sdtool -s`.
    pub command: String,
    /// 1-based line of the offending text; 0 when the error is about the whole input.
    pub line: usize,
    /// What was expected and what was found (quoting the offending line).
    pub message: String,
}

impl ParseError {
    /// A new error about `command`'s output at `line` (0: the whole input).
    pub fn new(command: impl Into<String>, line: usize, message: impl Into<String>) -> Self {
        ParseError {
            command: command.into(),
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for ParseError {
    /// `sdtool -s: line 3: expected 6 columns under the header, found 4: "…"`, or
    /// `sdtool -s: …` when the error is about the whole input (line 0).
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
        "ldm-list-p",
        "ldm list -p: one object per DOMAIN record, all its keys in order, values as strings",
    ),
    (
        "ldm-list-spconfig",
        "ldm list-spconfig: {name, current, next_poweron} per saved configuration",
    ),
    (
        "cftool-n",
        "cftool -n: CF nodes {node, number, state, os, cpu, ...extra columns}",
    ),
    ("cfset-a", "cfset -a: CF tunables {key, value}"),
    (
        "sdtool-s",
        "sdtool -s: shutdown agents {cluster_host, agent, sa_state, shut_state, test_state, init_state}",
    ),
    (
        "clsnmpsetup-l",
        "clsnmpsetup -l: SF XSCF settings {device_name, cluster_host_name, ppar_id, domain_name, ip_address1, ip_address2, user_name, connection_type}",
    ),
    (
        "hvdisp-t-userapplication",
        "hvdisp -T userApplication (or hvdisp -a): RMS rows {resource, type, host_name, state, state_details}",
    ),
];

/// A parsed output of any kind, serialised as the JSON of [`parse_kind`].
#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum Parsed {
    Domains(Vec<ldm_list_p::Domain>),
    SpConfigs(Vec<ldm_list_spconfig::SpConfig>),
    Nodes(Vec<cftool_n::CfNode>),
    Tunables(Vec<cfset_a::Tunable>),
    Agents(Vec<sdtool_s::AgentRow>),
    SfConfig(Vec<clsnmpsetup_l::SfConfigRow>),
    Apps(Vec<hvdisp::AppRow>),
}

/// The parser of `kind`, `None` for a kind not in [`KINDS`].
fn parse_known(kind: &str, text: &str) -> Result<Option<Parsed>, ParseError> {
    Ok(Some(match kind {
        "ldm-list-p" => Parsed::Domains(ldm_list_p::parse(text)?),
        "ldm-list-spconfig" => Parsed::SpConfigs(ldm_list_spconfig::parse(text)?),
        "cftool-n" => Parsed::Nodes(cftool_n::parse(text)?),
        "cfset-a" => Parsed::Tunables(cfset_a::parse(text)?),
        "sdtool-s" => Parsed::Agents(sdtool_s::parse_table(text)?),
        "clsnmpsetup-l" => Parsed::SfConfig(clsnmpsetup_l::parse(text)?),
        "hvdisp-t-userapplication" => Parsed::Apps(hvdisp::parse(text)?),
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
/// product: a table is an array of objects keyed by the snake_case column headers, values as
/// printed (`""` for empty). An unknown kind is an error on line 0 listing the kinds. For
/// `sdtool-s`, text that is not the table (shutdown facility not running) is an error naming
/// the line.
///
/// Note: `serde_json::Value` objects keep their keys sorted unless serde_json's
/// `preserve_order` feature is on; [`parse_kind_json`] keeps the product's order.
pub fn parse_kind(kind: &str, text: &str) -> Result<serde_json::Value, ParseError> {
    kinds::parse_kind::<Kinds>(kind, text)
}

/// As [`parse_kind`], serialised to a JSON string (pretty when `pretty`) that keeps object
/// keys in the product's order (header order, `ldm list -p` record order).
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
        let e = ParseError::new(
            "sdtool -s",
            3,
            "expected 6 columns under the header, found 4: \"cfguest1 SA_x Idle Unknown\"",
        );
        assert_eq!(
            e.to_string(),
            "sdtool -s: line 3: expected 6 columns under the header, found 4: \"cfguest1 SA_x Idle Unknown\""
        );
        let e = ParseError::new("ldm list -p", 0, "no VERSION line");
        assert_eq!(e.to_string(), "ldm list -p: no VERSION line");
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
