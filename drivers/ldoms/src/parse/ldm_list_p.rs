//! `ldm list -p` (parseable form).
//!
//! ```text
//! VERSION 1.6
//! DOMAIN|name=primary|state=active|flags=-n-cv-|cons=UART|ncpu=8|mem=8589934592|util=0.3|uptime=1234
//! DOMAIN|name=guest3|state=inactive|flags=|cons=|ncpu=2|mem=2147483648|util=|uptime=
//! ```
//!
//! A `VERSION 1.n` line (anything before it is a banner), then one `TYPE|key=value|…` record
//! per line. `DOMAIN` records are kept; a `UUID|uuid=…` record (printed after its domain by
//! `ldm ls -l -p`) gives the domain before it its [`Domain::uuid`]; other record types
//! (`VCPU|…`, `MEMORY|…`, a bare `CORE` line) and continuation lines starting with `|` (the
//! `-l` form) are skipped. Every key of a DOMAIN record is kept in order, values as printed:
//! newer releases add keys (`VERSION 1.11` prints `norm_util` after `uptime`), and an inactive
//! domain prints empty values (`flags=|cons=|ncpu=|mem=|util=|uptime=`).
//!
//! Real `ldm list -p` always lists the control domain `primary`, so output with no DOMAIN
//! record at all (another `ldm` command's parseable output, such as `ldm list-devices -p`) is
//! an error, not an empty list.

use serde::Serialize;

use super::table::lines;
use super::ParseError;

const COMMAND: &str = "ldm list -p";

/// One `DOMAIN` record: every `key=value` in the order printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Domain {
    /// The record's fields, in order (`name`, `state`, `flags`, `cons`, `ncpu`, …).
    #[serde(flatten, serialize_with = "super::ser_pairs")]
    pub fields: Vec<(String, String)>,
    /// The `uuid=` of the `UUID|…` record that follows the DOMAIN record (`ldm ls -l -p`);
    /// `None` in the short form, which prints no UUID record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
}

/// The `state` of a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainState {
    /// `active`
    Active,
    /// `bound`
    Bound,
    /// `inactive`
    Inactive,
    /// Any other word (transitional states such as `suspended`), as printed.
    Other(String),
}

impl DomainState {
    /// The state for a word as `ldm` prints it.
    pub fn from_word(word: &str) -> Self {
        match word {
            "active" => DomainState::Active,
            "bound" => DomainState::Bound,
            "inactive" => DomainState::Inactive,
            other => DomainState::Other(other.to_string()),
        }
    }
}

/// The domain's part in a live migration, from the 6th flag character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrationRole {
    /// `-`, an unknown character or no 6th flag (older 5-character flags): no migration.
    None,
    /// `s`: source domain of a migration in progress.
    Source,
    /// `t`: target domain of a migration in progress.
    Target,
    /// `e`: an error occurred during a migration.
    Error,
}

impl Domain {
    /// The value of `key`, if the record has it.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The domain name (`name=`).
    pub fn name(&self) -> &str {
        self.get("name").unwrap_or("")
    }

    /// The domain state (`state=`).
    pub fn state(&self) -> DomainState {
        DomainState::from_word(self.get("state").unwrap_or(""))
    }

    /// The flags as printed (`flags=`), `""` when empty or absent.
    pub fn flags(&self) -> &str {
        self.get("flags").unwrap_or("")
    }

    /// The migration role: 6th flag character (index 5) `s`, `t`, `e`; anything else none.
    pub fn migration(&self) -> MigrationRole {
        match self.flags().chars().nth(5) {
            Some('s') => MigrationRole::Source,
            Some('t') => MigrationRole::Target,
            Some('e') => MigrationRole::Error,
            _ => MigrationRole::None,
        }
    }

    /// Whether this is the control domain (flag index 3 is `c`).
    pub fn is_control(&self) -> bool {
        self.flags().chars().nth(3) == Some('c')
    }
}

/// The whole output: the version from the `VERSION` line and the domains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListP {
    /// What follows `VERSION` (`1.6`).
    pub version: String,
    /// The DOMAIN records in order.
    pub domains: Vec<Domain>,
}

/// The record type of `line`: `TYPE` of `TYPE|…` or of a bare `TYPE` line (upper case), `""`
/// for a `|…` continuation line; `None` when the line is not a record.
fn record_type(line: &str) -> Option<&str> {
    let ty = line.split_once('|').map_or(line, |(ty, _)| ty);
    let upper = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    };
    if (ty.is_empty() && line.starts_with('|')) || upper(ty) {
        Some(ty)
    } else {
        None
    }
}

/// `VERSION` followed by a version starting with a digit (`VERSION 1.6`).
fn is_version_line(line: &str) -> bool {
    let mut words = line.split_whitespace();
    words.next() == Some("VERSION")
        && words
            .next()
            .is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit()))
}

/// Parse `ldm list -p` output into its version and DOMAIN records.
///
/// Errors: no `VERSION` line (empty input: line 0 "no VERSION line"; otherwise the first
/// non-empty line is quoted); a DOMAIN field without `=` or without a `name`; no DOMAIN record
/// at all (the first line after `VERSION` is quoted; lines that are neither records nor blank
/// are tolerated as notices only when DOMAIN records are present).
pub fn parse_full(text: &str) -> Result<ListP, ParseError> {
    let all = lines(text);
    let Some(vpos) = all.iter().position(|(_, l)| is_version_line(l)) else {
        return Err(match all.iter().find(|(_, l)| !l.trim().is_empty()) {
            Some(&(n, l)) => ParseError::new(
                COMMAND,
                n,
                format!(
                    "no VERSION line: expected `VERSION 1.n`, found: {:?}",
                    l.trim()
                ),
            ),
            None => ParseError::new(COMMAND, 0, "no VERSION line (empty output)"),
        });
    };
    let version = all[vpos].1.trim()["VERSION".len()..].trim().to_string();
    let mut domains = Vec::new();
    let mut unrecognised: Option<(usize, String)> = None;
    for &(n, l) in &all[vpos + 1..] {
        let t = l.trim();
        if t.is_empty() {
            continue;
        }
        match record_type(t) {
            Some("DOMAIN") => domains.push(domain(n, t)?),
            Some("UUID") => {
                // Belongs to the DOMAIN record before it; one before any DOMAIN is skipped.
                if let Some(d) = domains.last_mut() {
                    d.uuid = uuid(t);
                }
            }
            Some(_) => {}
            None => {
                if unrecognised.is_none() {
                    unrecognised = Some((n, t.to_string()));
                }
            }
        }
    }
    if domains.is_empty() {
        if let Some((n, t)) = unrecognised {
            return Err(ParseError::new(
                COMMAND,
                n,
                format!("expected `DOMAIN|name=…|…` records, found: {t:?}"),
            ));
        }
        // Real `ldm list -p` always lists `primary`: this is another command's output.
        let first = all[vpos + 1..]
            .iter()
            .find(|(_, l)| !l.trim().is_empty())
            .map(|&(n, l)| (n, l.trim()));
        let (n, found) = match first {
            Some((n, l)) => (n, format!("found {l:?}")),
            None => (
                all[vpos].0,
                "found nothing after the VERSION line".to_string(),
            ),
        };
        return Err(ParseError::new(
            COMMAND,
            n,
            format!(
                "no DOMAIN record: expected `DOMAIN|name=primary|…` (ldm list -p always lists the control domain primary), {found}; is this the output of another ldm command?"
            ),
        ));
    }
    Ok(ListP { version, domains })
}

/// Parse `ldm list -p` output into its DOMAIN records (see [`parse_full`]).
pub fn parse(text: &str) -> Result<Vec<Domain>, ParseError> {
    parse_full(text).map(|l| l.domains)
}

/// The `uuid=` value of a `UUID|uuid=…` record, if it has one.
fn uuid(line: &str) -> Option<String> {
    line.split('|')
        .skip(1)
        .filter_map(|f| f.split_once('='))
        .find(|(k, _)| k.trim() == "uuid")
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn domain(n: usize, line: &str) -> Result<Domain, ParseError> {
    let mut fields = Vec::new();
    for f in line.split('|').skip(1) {
        if f.trim().is_empty() {
            continue;
        }
        let Some((k, v)) = f.split_once('=') else {
            return Err(ParseError::new(
                COMMAND,
                n,
                format!("expected key=value fields in the DOMAIN record, found {f:?} in: {line:?}"),
            ));
        };
        fields.push((k.trim().to_string(), v.trim().to_string()));
    }
    let d = Domain { fields, uuid: None };
    if d.name().is_empty() {
        return Err(ParseError::new(
            COMMAND,
            n,
            format!("expected a name= field in the DOMAIN record, found: {line:?}"),
        ));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_roles() {
        let d = |flags: &str| Domain {
            fields: vec![("name".into(), "g".into()), ("flags".into(), flags.into())],
            uuid: None,
        };
        assert_eq!(d("-n---s").migration(), MigrationRole::Source);
        assert_eq!(d("-t---t").migration(), MigrationRole::Target);
        assert_eq!(d("-n---e").migration(), MigrationRole::Error);
        assert_eq!(d("-n-cv-").migration(), MigrationRole::None);
        assert_eq!(d("-n-cv").migration(), MigrationRole::None);
        assert_eq!(d("").migration(), MigrationRole::None);
        assert!(d("-n-cv-").is_control());
        assert!(!d("-n----").is_control());
    }

    #[test]
    fn field_order_kept_in_json_string() {
        let l = parse("VERSION 1.6\nDOMAIN|name=p|state=active|flags=-n-cv-\n").unwrap();
        assert_eq!(
            serde_json::to_string(&l).unwrap(),
            r#"[{"name":"p","state":"active","flags":"-n-cv-"}]"#
        );
    }
}
