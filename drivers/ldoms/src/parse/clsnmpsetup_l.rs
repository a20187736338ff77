//! `clsnmpsetup -l`: the shutdown facility's XSCF settings, one row per cluster host.
//!
//! Verbatim sample of the PRIMECLUSTER 4.5 guide §17.3.1.2 (seed 003):
//!
//! ```text
//! device-name cluster-host-name  PPAR-ID  domain-name  IP-address1     IP-address2     user-name      connection-type
//! -------------------------------------------------------------------------------------------------------------------
//! xscf        cfguest1           0        guest1       10.20.30.71     10.20.40.71     xuser          ssh
//! ```
//!
//! Read by the header names (`device-name`, `cluster-host-name` and `IP-address1` required;
//! unknown extra columns kept). A row has one word per column; a row with fewer words is read
//! by the header's column offsets, and only `IP-address2` may then be empty.

use serde::Serialize;

use super::table::{self, Column, Scan, TableSpec, Tok};
use super::ParseError;

const COMMAND: &str = "clsnmpsetup -l";
const KNOWN: &[&str] = &[
    "device_name",
    "cluster_host_name",
    "ppar_id",
    "domain_name",
    "ip_address1",
    "ip_address2",
    "user_name",
    "connection_type",
];
/// Columns that must be filled in a row read by offsets (all but `IP-address2`).
const FILLED: &[&str] = &[
    "device_name",
    "cluster_host_name",
    "ppar_id",
    "domain_name",
    "ip_address1",
    "user_name",
    "connection_type",
];

/// One row of `clsnmpsetup -l`; every value as printed (`""` when the column is absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SfConfigRow {
    /// `device-name` (`xscf`).
    pub device_name: String,
    /// `cluster-host-name`: the CF node name.
    pub cluster_host_name: String,
    /// `PPAR-ID` of the box hosting the guest.
    pub ppar_id: String,
    /// `domain-name`: the LDoms domain name.
    pub domain_name: String,
    /// `IP-address1`: XSCF-LAN#0.
    pub ip_address1: String,
    /// `IP-address2`: XSCF-LAN#1.
    pub ip_address2: String,
    /// `user-name`: the XSCF user of SF.
    pub user_name: String,
    /// `connection-type` (`ssh`).
    pub connection_type: String,
    /// Unknown extra columns, `(snake_case header, value)` in header order.
    #[serde(flatten, serialize_with = "super::ser_pairs")]
    pub extra: Vec<(String, String)>,
}

impl SfConfigRow {
    /// The PPAR-ID as a number, when it is one.
    pub fn ppar_id_num(&self) -> Option<u32> {
        self.ppar_id.parse().ok()
    }
}

/// A row carries an IPv4 address.
fn looks_like_row(toks: &[Tok<'_>]) -> bool {
    toks.len() >= 2 && toks.iter().any(|t| table::is_ipv4(t.text))
}

fn spec(looks: &dyn Fn(&[Tok<'_>]) -> bool) -> TableSpec<'_> {
    TableSpec {
        command: COMMAND,
        header_text: "device-name cluster-host-name PPAR-ID domain-name IP-address1 IP-address2 user-name connection-type",
        multiword: &[],
        required: &["device_name", "cluster_host_name", "ip_address1"],
        looks_like_row: looks,
    }
}

/// Parse `clsnmpsetup -l` output, rows in the order printed.
///
/// Errors: no header (the first row or the first line printed is quoted); a row with more
/// words than columns, or one with fewer words in which a column other than `IP-address2`
/// stays empty.
pub fn parse(text: &str) -> Result<Vec<SfConfigRow>, ParseError> {
    let spec = spec(&looks_like_row);
    let raw = match table::scan(text, &spec, |cols: &[Column], line, toks| {
        let present: Vec<&str> = FILLED
            .iter()
            .copied()
            .filter(|k| cols.iter().any(|c| c.key == *k))
            .collect();
        table::split_row(cols, line, toks, Some(&present))
    })? {
        Scan::Found(t) => t,
        Scan::NoHeader => return Err(table::no_header_error(text, &spec)),
    };
    let c = &raw.columns;
    let get = |cells: &[String], k: &str| table::cell(c, cells, k);
    Ok(raw
        .rows
        .iter()
        .map(|r| SfConfigRow {
            device_name: get(&r.cells, "device_name"),
            cluster_host_name: get(&r.cells, "cluster_host_name"),
            ppar_id: get(&r.cells, "ppar_id"),
            domain_name: get(&r.cells, "domain_name"),
            ip_address1: get(&r.cells, "ip_address1"),
            ip_address2: get(&r.cells, "ip_address2"),
            user_name: get(&r.cells, "user_name"),
            connection_type: get(&r.cells, "connection_type"),
            extra: table::extras(c, &r.cells, KNOWN),
        })
        .collect())
}
