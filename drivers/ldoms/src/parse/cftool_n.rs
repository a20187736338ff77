//! `cftool -n`: the CF node table.
//!
//! ```text
//! Node     Number State       Os      Cpu
//! cfguest1 1      UP          Solaris Sparc
//! cfguest2 2      LEFTCLUSTER Solaris Sparc
//! ```
//!
//! Read by the header `Node Number State Os Cpu` (leading spaces and extra columns allowed;
//! `Node`, `Number` and `State` are required). Unknown cells print as `--` and are kept as
//! printed. No verbatim public sample was found: the layout above is an assumption; the parser
//! does not depend on it beyond the header names.

use serde::Serialize;

use super::table::{self, Column, Scan, TableSpec, Tok};
use super::ParseError;

const COMMAND: &str = "cftool -n";
const KNOWN: &[&str] = &["node", "number", "state", "os", "cpu"];

/// One CF node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CfNode {
    /// CF node name.
    pub node: String,
    /// CF node number as printed.
    pub number: String,
    /// State word as printed (`UP`, `DOWN`, `LEFTCLUSTER`, `COMINGUP`, …).
    pub state: String,
    /// Operating system as printed (`--` when unknown, `""` when the column is absent).
    pub os: String,
    /// CPU type as printed.
    pub cpu: String,
    /// Unknown extra columns, `(snake_case header, value)` in header order.
    #[serde(flatten, serialize_with = "super::ser_pairs")]
    pub extra: Vec<(String, String)>,
}

/// The CF state of a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeState {
    /// `UP`
    Up,
    /// `DOWN`
    Down,
    /// `LEFTCLUSTER`: left the cluster without being shut down; not settled until SF (or a
    /// person) resolves it.
    LeftCluster,
    /// `COMINGUP`
    ComingUp,
    /// Any other word, as printed.
    Other(String),
}

impl NodeState {
    /// The state for a word as `cftool` prints it.
    pub fn from_word(word: &str) -> Self {
        match word {
            "UP" => NodeState::Up,
            "DOWN" => NodeState::Down,
            "LEFTCLUSTER" => NodeState::LeftCluster,
            "COMINGUP" => NodeState::ComingUp,
            other => NodeState::Other(other.to_string()),
        }
    }
}

impl CfNode {
    /// The typed state.
    pub fn state(&self) -> NodeState {
        NodeState::from_word(&self.state)
    }

    /// The node number, when it is a number.
    pub fn number_u32(&self) -> Option<u32> {
        self.number.parse().ok()
    }
}

fn looks_like_row(toks: &[Tok<'_>]) -> bool {
    toks.len() >= 3 && toks[1].text.chars().all(|c| c.is_ascii_digit())
}

fn spec(looks: &dyn Fn(&[Tok<'_>]) -> bool) -> TableSpec<'_> {
    TableSpec {
        command: COMMAND,
        header_text: "Node Number State Os Cpu",
        multiword: &[],
        required: &["node", "number", "state"],
        looks_like_row: looks,
    }
}

/// Parse `cftool -n` output, nodes in the order printed.
///
/// Errors: no header (the first row or the first line printed is quoted); a row with more
/// words than columns, or fewer words that do not fall under the header's columns with `Node`,
/// `Number` and `State` filled.
pub fn parse(text: &str) -> Result<Vec<CfNode>, ParseError> {
    let spec = spec(&looks_like_row);
    let raw = match table::scan(text, &spec, |cols: &[Column], line, toks| {
        table::split_row(cols, line, toks, Some(&["node", "number", "state"]))
    })? {
        Scan::Found(t) => t,
        Scan::NoHeader => return Err(table::no_header_error(text, &spec)),
    };
    let c = &raw.columns;
    Ok(raw
        .rows
        .iter()
        .map(|r| CfNode {
            node: table::cell(c, &r.cells, "node"),
            number: table::cell(c, &r.cells, "number"),
            state: table::cell(c, &r.cells, "state"),
            os: table::cell(c, &r.cells, "os"),
            cpu: table::cell(c, &r.cells, "cpu"),
            extra: table::extras(c, &r.cells, KNOWN),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states() {
        let v =
            parse("Node Number State Os Cpu\na 1 UP Solaris Sparc\nb 2 COMINGUP -- --\n").unwrap();
        assert_eq!(v[0].state(), NodeState::Up);
        assert_eq!(v[1].state(), NodeState::ComingUp);
        assert_eq!(v[1].os, "--");
        assert_eq!(v[1].number_u32(), Some(2));
    }
}
