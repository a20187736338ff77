//! `sdtool -s`: the state of the shutdown agents (SF).
//!
//! Verbatim sample of the PRIMECLUSTER 4.5 guide §17.3.1.2 (seed 003):
//!
//! ```text
//! Cluster Host    Agent                SA State      Shut State  Test State  Init State
//! ------------    -----                --------      ----------  ----------  ----------
//! cfguest1        SA_xscfsnmpg0p.so    Idle          Unknown     TestWorked  InitWorked
//! ```
//!
//! The CF Configuration and Administration Guide 4.3 §7.5.2 prints the same header with
//! single spaces (`Cluster Host Agent SA State Shut State Test State Init State`) over
//! narrower columns, and lists the words `Init-ing`, `Testing`, `Killing`, `KillWorked`,
//! `KillFailed`, `UnInit-ing`, `UnInitWorked`, `UnInitFailed`. The header is therefore read by
//! its (multi-word) names and each row by its words: one word per column. When the shutdown
//! facility is not running the command prints a message instead of the table; its exact text
//! is not public, so any output without the header and without row-like lines is
//! [`SdtoolStatus::NotRunning`].

use serde::Serialize;

use super::table::{self, Column, Scan, TableSpec, Tok};
use super::ParseError;

const COMMAND: &str = "sdtool -s";
const HEADER: &str = "Cluster Host Agent SA State Shut State Test State Init State";
const MULTIWORD: &[&str] = &[
    "Cluster Host",
    "SA State",
    "Shut State",
    "Test State",
    "Init State",
];
const KNOWN: &[&str] = &[
    "cluster_host",
    "agent",
    "sa_state",
    "shut_state",
    "test_state",
    "init_state",
];

/// One shutdown agent of one cluster host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentRow {
    /// `Cluster Host`: the CF node name.
    pub cluster_host: String,
    /// `Agent`: the shutdown agent (`SA_xscfsnmpg0p.so`).
    pub agent: String,
    /// `SA State` as printed (`Idle`).
    pub sa_state: String,
    /// `Shut State` as printed (`Unknown`).
    pub shut_state: String,
    /// `Test State` as printed (`TestWorked`); see [`AgentRow::test_state`].
    pub test_state: String,
    /// `Init State` as printed (`InitWorked`); see [`AgentRow::init_state`].
    pub init_state: String,
    /// Unknown extra columns, `(snake_case header, value)` in header order.
    #[serde(flatten, serialize_with = "super::ser_pairs")]
    pub extra: Vec<(String, String)>,
}

/// The `Test State` of an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestState {
    /// `TestWorked`
    TestWorked,
    /// `TestFailed`: the agent could not fence (the manual's failure criterion).
    TestFailed,
    /// `Testing`
    Testing,
    /// `Unknown`: not tested yet.
    Unknown,
    /// Any other word, as printed.
    Other(String),
}

/// The `Init State` of an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitState {
    /// `InitWorked`
    InitWorked,
    /// `InitFailed` (the manual's failure criterion).
    InitFailed,
    /// `Initing` or `Init-ing` (the CF guide's spelling).
    Initing,
    /// `Unknown`: not initialised yet.
    Unknown,
    /// Any other word (`UnInitWorked`, …), as printed.
    Other(String),
}

impl TestState {
    /// The state for a word as `sdtool` prints it.
    pub fn from_word(word: &str) -> Self {
        match word {
            "TestWorked" => TestState::TestWorked,
            "TestFailed" => TestState::TestFailed,
            "Testing" => TestState::Testing,
            "Unknown" => TestState::Unknown,
            other => TestState::Other(other.to_string()),
        }
    }
}

impl InitState {
    /// The state for a word as `sdtool` prints it.
    pub fn from_word(word: &str) -> Self {
        match word {
            "InitWorked" => InitState::InitWorked,
            "InitFailed" => InitState::InitFailed,
            "Initing" | "Init-ing" => InitState::Initing,
            "Unknown" => InitState::Unknown,
            other => InitState::Other(other.to_string()),
        }
    }
}

impl AgentRow {
    /// The typed `Test State`.
    pub fn test_state(&self) -> TestState {
        TestState::from_word(&self.test_state)
    }

    /// The typed `Init State`.
    pub fn init_state(&self) -> InitState {
        InitState::from_word(&self.init_state)
    }
}

/// What `sdtool -s` printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "detail", rename_all = "snake_case")]
pub enum SdtoolStatus {
    /// The table (possibly with no rows).
    Table(Vec<AgentRow>),
    /// No table: the shutdown facility is not running or not reachable; the text as printed.
    NotRunning {
        /// The whole output.
        raw: String,
    },
}

/// The verdict over all rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentVerdict {
    /// Every row `TestWorked` and `InitWorked`.
    Healthy,
    /// Some row `Testing`/`Initing`/`Unknown` and none failed: SF is still starting.
    Transitional,
    /// Some row `TestFailed`/`InitFailed` or a word the tool does not know; also no row at all
    /// (nothing could fence).
    Failed,
}

/// The verdict of the rows (see [`AgentVerdict`]).
pub fn verdict(rows: &[AgentRow]) -> AgentVerdict {
    if rows.is_empty() {
        return AgentVerdict::Failed;
    }
    let mut transitional = false;
    for r in rows {
        match r.test_state() {
            TestState::TestWorked => {}
            TestState::Testing | TestState::Unknown => transitional = true,
            TestState::TestFailed | TestState::Other(_) => return AgentVerdict::Failed,
        }
        match r.init_state() {
            InitState::InitWorked => {}
            InitState::Initing | InitState::Unknown => transitional = true,
            InitState::InitFailed | InitState::Other(_) => return AgentVerdict::Failed,
        }
    }
    if transitional {
        AgentVerdict::Transitional
    } else {
        AgentVerdict::Healthy
    }
}

const STATE_WORDS: &[&str] = &[
    "TestWorked",
    "TestFailed",
    "Testing",
    "InitWorked",
    "InitFailed",
    "Initing",
    "Init-ing",
    "Idle",
    "KillWorked",
    "KillFailed",
    "Killing",
];

/// A line of the table: an `SA_…` agent or a state word among its words.
fn looks_like_row(toks: &[Tok<'_>]) -> bool {
    toks.len() >= 2
        && toks
            .iter()
            .any(|t| t.text.starts_with("SA_") || STATE_WORDS.contains(&t.text))
}

fn spec(looks: &dyn Fn(&[Tok<'_>]) -> bool) -> TableSpec<'_> {
    TableSpec {
        command: COMMAND,
        header_text: HEADER,
        multiword: MULTIWORD,
        required: KNOWN,
        looks_like_row: looks,
    }
}

/// Parse `sdtool -s` output.
///
/// Returns [`SdtoolStatus::NotRunning`] with the raw text when there is no header and no line
/// that looks like a row (an `SA_…` agent or a state word), empty output included.
///
/// Errors: rows without the header (the first row is quoted); a row whose number of words is
/// not the number of columns.
pub fn parse(text: &str) -> Result<SdtoolStatus, ParseError> {
    let spec = spec(&looks_like_row);
    let raw = match table::scan(text, &spec, |cols: &[Column], line, toks| {
        table::split_row(cols, line, toks, None)
    })? {
        Scan::Found(t) => t,
        Scan::NoHeader => {
            let err = table::no_header_error(text, &spec);
            let has_row = table::lines(text)
                .iter()
                .any(|(_, l)| looks_like_row(&table::tokens(l)));
            if has_row {
                return Err(err);
            }
            return Ok(SdtoolStatus::NotRunning {
                raw: text.to_string(),
            });
        }
    };
    let c = &raw.columns;
    Ok(SdtoolStatus::Table(
        raw.rows
            .iter()
            .map(|r| AgentRow {
                cluster_host: table::cell(c, &r.cells, "cluster_host"),
                agent: table::cell(c, &r.cells, "agent"),
                sa_state: table::cell(c, &r.cells, "sa_state"),
                shut_state: table::cell(c, &r.cells, "shut_state"),
                test_state: table::cell(c, &r.cells, "test_state"),
                init_state: table::cell(c, &r.cells, "init_state"),
                extra: table::extras(c, &r.cells, KNOWN),
            })
            .collect(),
    ))
}

/// Parse `sdtool -s` output that must be the table: as [`parse`], but text that is not the
/// table (shutdown facility not running) is an error naming its first line (line 0 when the
/// output is empty).
pub fn parse_table(text: &str) -> Result<Vec<AgentRow>, ParseError> {
    match parse(text)? {
        SdtoolStatus::Table(rows) => Ok(rows),
        SdtoolStatus::NotRunning { raw } => {
            let first = table::lines(&raw)
                .into_iter()
                .find(|(_, l)| !l.trim().is_empty());
            Err(match first {
                Some((n, l)) => ParseError::new(
                    COMMAND,
                    n,
                    format!(
                        "expected the header `{HEADER}`, found: {:?} (the shutdown facility may not be running)",
                        l.trim()
                    ),
                ),
                None => ParseError::new(
                    COMMAND,
                    0,
                    format!("empty output: expected the header `{HEADER}` (the shutdown facility may not be running)"),
                ),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(test: &str, init: &str) -> AgentRow {
        AgentRow {
            cluster_host: "n".into(),
            agent: "SA_x".into(),
            sa_state: "Idle".into(),
            shut_state: "Unknown".into(),
            test_state: test.into(),
            init_state: init.into(),
            extra: vec![],
        }
    }

    #[test]
    fn verdicts() {
        assert_eq!(
            verdict(&[row("TestWorked", "InitWorked")]),
            AgentVerdict::Healthy
        );
        assert_eq!(
            verdict(&[row("TestWorked", "InitWorked"), row("Testing", "Init-ing")]),
            AgentVerdict::Transitional
        );
        assert_eq!(
            verdict(&[row("Unknown", "Unknown"), row("TestFailed", "InitWorked")]),
            AgentVerdict::Failed
        );
        assert_eq!(
            verdict(&[row("TestWorked", "UnInitWorked")]),
            AgentVerdict::Failed
        );
        assert_eq!(verdict(&[]), AgentVerdict::Failed);
    }

    #[test]
    fn status_serialises() {
        let t = SdtoolStatus::Table(vec![row("TestWorked", "InitWorked")]);
        let v = serde_json::to_value(&t).unwrap();
        assert_eq!(v["status"], "table");
        assert_eq!(v["detail"][0]["test_state"], "TestWorked");
        let n = SdtoolStatus::NotRunning { raw: "x".into() };
        assert_eq!(
            serde_json::to_value(&n).unwrap(),
            serde_json::json!({"status": "not_running", "detail": {"raw": "x"}})
        );
    }

    #[test]
    fn display_of_short_row() {
        let text = "Cluster Host Agent SA State Shut State Test State Init State\n------------ ----- -------- ---------- ---------- ----------\ncfguest1 SA_x Idle Unknown\n";
        let e = parse(text).unwrap_err();
        assert_eq!(
            e.to_string(),
            "sdtool -s: line 3: expected 6 columns under the header, found 4: \"cfguest1 SA_x Idle Unknown\""
        );
    }
}
