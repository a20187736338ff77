//! RMS `hvdisp -T userApplication` (and `hvdisp -a`, same layout).
//!
//! ```text
//! Local System:  cfguest1RMS
//! Configuration: /opt/SMAW/SMAWRrms/build/config.us
//!
//! Resource            Type    HostName            State        StateDetails
//! -----------------------------------------------------------------------------
//! app1                userApp                     Online
//! app1                userApp cfguest2RMS         Offline
//! ```
//!
//! A preamble (`Local System:`, `Configuration: <path>`), a header, a dashed rule, rows. The
//! HostName column is empty on the rows of the local system and StateDetails is often empty or
//! several words (`Offline intended`, `Online!!`). Known from the public Nagios plugin
//! `check_primecluster.pl` (github.com/sqrt529/check_primecluster), which reads the
//! `Configuration` line, starts the table after the dashed rule, and takes the third word as
//! the state when it is a state word (HostName empty) and the fourth otherwise; the column
//! names and the StateDetails examples come from the RMS guide 4.6 (§7.4.4, appendix B).
//! The exact spacing is an assumption.
//!
//! Rows are read by words: Resource, Type, then either a state word (HostName empty) or a host
//! and a state word; when neither word is a known state, the header's State offset decides.
//! StateDetails is the rest of the line as printed.

use serde::Serialize;

use super::table::{self, Column, Scan, TableSpec, Tok};
use super::ParseError;

const COMMAND: &str = "hvdisp -T userApplication";

/// One RMS object row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppRow {
    /// `Resource`: the object name (`app1`).
    pub resource: String,
    /// `Type` as printed (`userApp`, `userApplication`, `SysNode`, …).
    pub r#type: String,
    /// `HostName`: `""` on the local system's rows.
    pub host_name: String,
    /// `State` as printed (`""` when the row has none).
    pub state: String,
    /// `StateDetails` as printed, `""` when empty.
    pub state_details: String,
}

/// The RMS state of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppState {
    /// `Online`
    Online,
    /// `Offline`
    Offline,
    /// `Faulted`
    Faulted,
    /// `Standby`
    Standby,
    /// `Wait`: in transition.
    Wait,
    /// `Deact`
    Deact,
    /// `Inconsistent`
    Inconsistent,
    /// `OfflineFault`
    OfflineFault,
    /// `Maintenance`
    Maintenance,
    /// `Warning`
    Warning,
    /// `Unknown`
    Unknown,
    /// Any other word (or none), as printed.
    Other(String),
}

impl AppState {
    /// The state for a word as `hvdisp` prints it.
    pub fn from_word(word: &str) -> Self {
        match word {
            "Online" => AppState::Online,
            "Offline" => AppState::Offline,
            "Faulted" => AppState::Faulted,
            "Standby" => AppState::Standby,
            "Wait" => AppState::Wait,
            "Deact" => AppState::Deact,
            "Inconsistent" => AppState::Inconsistent,
            "OfflineFault" => AppState::OfflineFault,
            "Maintenance" => AppState::Maintenance,
            "Warning" => AppState::Warning,
            "Unknown" => AppState::Unknown,
            other => AppState::Other(other.to_string()),
        }
    }

    fn is_known(word: &str) -> bool {
        !matches!(AppState::from_word(word), AppState::Other(_))
    }
}

impl AppRow {
    /// The typed state.
    pub fn state(&self) -> AppState {
        AppState::from_word(&self.state)
    }

    /// Whether the row is a userApplication (`userApp…` type).
    pub fn is_user_application(&self) -> bool {
        self.r#type.starts_with("userApp")
    }
}

/// The lines before the table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Preamble {
    /// The value of `Local System:` (the local RMS node name).
    pub local_system: Option<String>,
    /// The value of `Configuration:` (the configuration file path).
    pub configuration: Option<String>,
}

/// Read `Local System:` and `Configuration:` lines anywhere in the text.
pub fn preamble(text: &str) -> Preamble {
    let mut p = Preamble::default();
    for (_, l) in table::lines(text) {
        let t = l.trim();
        if let Some(v) = t.strip_prefix("Local System:") {
            p.local_system.get_or_insert_with(|| v.trim().to_string());
        } else if let Some(v) = t.strip_prefix("Configuration:") {
            p.configuration.get_or_insert_with(|| v.trim().to_string());
        }
    }
    p
}

fn looks_like_row(toks: &[Tok<'_>]) -> bool {
    toks.len() >= 2
        && (toks.iter().skip(2).any(|t| AppState::is_known(t.text))
            || toks[1].text.starts_with("userApp")
            || toks[1].text == "SysNode")
}

fn spec(looks: &dyn Fn(&[Tok<'_>]) -> bool) -> TableSpec<'_> {
    TableSpec {
        command: COMMAND,
        header_text: "Resource Type HostName State StateDetails",
        multiword: &[],
        required: &["resource", "type", "state"],
        looks_like_row: looks,
    }
}

/// Cells: resource, type, host_name, state, state_details.
fn row(columns: &[Column], line: &str, toks: &[Tok<'_>]) -> Result<Vec<String>, String> {
    if toks.len() < 2 {
        return Err(format!(
            "expected at least Resource and Type, found: {:?}",
            line.trim()
        ));
    }
    let col_of = |k: &str| columns.iter().find(|c| c.key == k).map(|c| c.col);
    let state_col = col_of("state").unwrap_or(usize::MAX);
    let has_host = col_of("host_name").is_some();
    let has_details = col_of("state_details").is_some();
    let rest = &toks[2..];
    let in_host_span = |t: &Tok<'_>| t.col + 1 < state_col;
    // (host index, state index) within rest
    let (host, state): (Option<usize>, Option<usize>) = if rest.is_empty() {
        (None, None)
    } else if !has_host
        || (AppState::is_known(rest[0].text)
            && !(rest.len() >= 2 && AppState::is_known(rest[1].text) && in_host_span(&rest[0])))
    {
        (None, Some(0))
    } else if rest.len() >= 2 && AppState::is_known(rest[1].text) {
        (Some(0), Some(1))
    } else if in_host_span(&rest[0]) {
        (Some(0), if rest.len() >= 2 { Some(1) } else { None })
    } else {
        (None, Some(0))
    };
    let next = state.or(host).map_or(0, |i| i + 1);
    let details = match rest.get(next) {
        Some(t) if has_details => line[t.byte..].trim().to_string(),
        Some(_) => {
            return Err(format!(
                "expected Resource Type HostName State, found more words: {:?}",
                line.trim()
            ))
        }
        None => String::new(),
    };
    let word = |i: Option<usize>| i.map(|i| rest[i].text.to_string()).unwrap_or_default();
    Ok(vec![
        toks[0].text.to_string(),
        toks[1].text.to_string(),
        word(host),
        word(state),
        details,
    ])
}

/// Parse `hvdisp -T userApplication` / `hvdisp -a` output, rows in the order printed.
///
/// Errors: no header `Resource Type … State …` (the first row or first line printed is
/// quoted: RMS not running, for instance); a row with a single word; words beyond the State
/// column when the header has no StateDetails.
pub fn parse(text: &str) -> Result<Vec<AppRow>, ParseError> {
    let spec = spec(&looks_like_row);
    let raw = match table::scan(text, &spec, row)? {
        Scan::Found(t) => t,
        Scan::NoHeader => return Err(table::no_header_error(text, &spec)),
    };
    Ok(raw
        .rows
        .into_iter()
        .map(|r| {
            let mut it = r.cells.into_iter();
            let mut next = || it.next().unwrap_or_default();
            AppRow {
                resource: next(),
                r#type: next(),
                host_name: next(),
                state: next(),
                state_details: next(),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_and_remote_rows() {
        let text = "Resource  Type    HostName     State    StateDetails\n---------------------------------------------------\napp1      userApp              Online\napp1      userApp node2RMS     Offline  Offline intended\n";
        let v = parse(text).unwrap();
        assert_eq!(v[0].host_name, "");
        assert_eq!(v[0].state(), AppState::Online);
        assert_eq!(v[1].host_name, "node2RMS");
        assert_eq!(v[1].state_details, "Offline intended");
        assert_eq!(
            serde_json::to_string(&v[0]).unwrap(),
            r#"{"resource":"app1","type":"userApp","host_name":"","state":"Online","state_details":""}"#
        );
    }
}
