//! Shared machinery of the table parsers: line splitting, tokenising with column offsets,
//! header recognition by names (multi-word names included), dashed rules, notice blocks.
//!
//! Private to `parse`: each command's module decides what its header and rows are.

use super::ParseError;

pub(crate) use hascript_api::text::{lines, snake, tokens, Tok};

/// A header column: the name as printed, its snake_case key, its starting column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Column {
    pub name: String,
    pub key: String,
    pub col: usize,
}

/// The columns of a header line. Words that together spell one of `multiword` (compared
/// ignoring ASCII case) form one column; every other word is a column of its own.
pub(crate) fn header_columns(line: &str, multiword: &[&str]) -> Vec<Column> {
    let toks = tokens(line);
    let mut cols = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let mut best = 1usize;
        for name in multiword {
            let words: Vec<&str> = name.split_whitespace().collect();
            let k = words.len();
            if k > best
                && i + k <= toks.len()
                && words
                    .iter()
                    .zip(&toks[i..i + k])
                    .all(|(w, t)| w.eq_ignore_ascii_case(t.text))
            {
                best = k;
            }
        }
        let name = toks[i..i + best]
            .iter()
            .map(|t| t.text)
            .collect::<Vec<_>>()
            .join(" ");
        cols.push(Column {
            key: snake(&name),
            name,
            col: toks[i].col,
        });
        i += best;
    }
    cols
}

/// A dashed rule: only `-`, `=` and spaces, at least three dashes or equal signs.
pub(crate) fn is_rule(line: &str) -> bool {
    let t = line.trim();
    t.chars().filter(|c| *c == '-' || *c == '=').count() >= 3
        && t.chars().all(|c| c == '-' || c == '=' || c.is_whitespace())
}

/// The standard complaint about a row that cannot be read.
pub(crate) fn column_count_message(expected: usize, found: usize, line: &str) -> String {
    format!(
        "expected {expected} columns under the header, found {found}: {:?}",
        line.trim()
    )
}

/// Split a row into one cell per header column.
///
/// As many words as columns: one word per column, whatever the alignment (names longer than
/// their column shift the rest of the row). Fewer words and `fill` given: each word goes to the
/// column its position falls under (the header's offsets), the others stay empty; refused when
/// the words do not fall under distinct columns in order or a column listed in `fill` (keys)
/// stays empty. More words than columns: refused.
pub(crate) fn split_row(
    columns: &[Column],
    line: &str,
    toks: &[Tok<'_>],
    fill: Option<&[&str]>,
) -> Result<Vec<String>, String> {
    let message = || column_count_message(columns.len(), toks.len(), line);
    if toks.len() == columns.len() {
        return Ok(toks.iter().map(|t| t.text.to_string()).collect());
    }
    let required = match fill {
        Some(r) if toks.len() < columns.len() => r,
        _ => return Err(message()),
    };
    let mut cells = vec![String::new(); columns.len()];
    let mut last: Option<usize> = None;
    for t in toks {
        let j = columns
            .iter()
            .rposition(|c| c.col <= t.col + 1)
            .unwrap_or(0);
        if last.is_some_and(|l| j <= l) {
            return Err(message());
        }
        cells[j] = t.text.to_string();
        last = Some(j);
    }
    for (c, cell) in columns.iter().zip(&cells) {
        if cell.is_empty() && required.contains(&c.key.as_str()) {
            return Err(format!("{}; no value under {:?}", message(), c.name));
        }
    }
    Ok(cells)
}

/// What a command's table looks like.
pub(crate) struct TableSpec<'a> {
    /// The command, for errors (`sdtool -s`).
    pub command: &'a str,
    /// The header as the product prints it, for errors.
    pub header_text: &'a str,
    /// Header names made of several words (`Cluster Host`).
    pub multiword: &'a [&'a str],
    /// Keys the header must contain to be recognised as the header.
    pub required: &'a [&'a str],
    /// Whether a line (its words) looks like a row of this table: used to tell rows from
    /// notices after the table and to point at the first row when the header is missing.
    pub looks_like_row: &'a dyn Fn(&[Tok<'_>]) -> bool,
}

/// One row: its cells (meaning decided by the row reader).
#[derive(Debug, Clone)]
pub(crate) struct RawRow {
    pub cells: Vec<String>,
}

/// A table found in the text.
#[derive(Debug, Clone)]
pub(crate) struct RawTable {
    pub columns: Vec<Column>,
    pub rows: Vec<RawRow>,
}

/// Result of a scan: the table, or no header line anywhere.
pub(crate) enum Scan {
    Found(RawTable),
    NoHeader,
}

/// Find the header and read the rows under it.
///
/// - Anything before the header is a banner and ignored.
/// - Dashed rules right under the header are skipped.
/// - Blank lines before the first row are skipped; a blank line after a row ends the table.
/// - Lines between two dashed rules inside the rows are a notice and skipped.
/// - Inside the table every other line must be a row (`row` decides; its `Err` text becomes
///   the error of that line). After the table has ended, a line is read as a row only when it
///   looks like one; the first line that does not is the start of trailing text, ignored.
pub(crate) fn scan<F>(text: &str, spec: &TableSpec<'_>, mut row: F) -> Result<Scan, ParseError>
where
    F: FnMut(&[Column], &str, &[Tok<'_>]) -> Result<Vec<String>, String>,
{
    let all = lines(text);
    let mut idx = 0;
    let mut header: Option<Vec<Column>> = None;
    while idx < all.len() {
        let l = all[idx].1;
        idx += 1;
        if l.trim().is_empty() {
            continue;
        }
        let cols = header_columns(l, spec.multiword);
        if spec
            .required
            .iter()
            .all(|r| cols.iter().any(|c| c.key == *r))
        {
            header = Some(cols);
            break;
        }
    }
    let Some(columns) = header else {
        return Ok(Scan::NoHeader);
    };
    while idx < all.len() && is_rule(all[idx].1) {
        idx += 1;
    }
    let mut rows = Vec::new();
    let mut ended = false;
    let mut in_notice = false;
    for &(n, l) in &all[idx..] {
        if l.trim().is_empty() {
            if !rows.is_empty() {
                ended = true;
            }
            continue;
        }
        if is_rule(l) {
            in_notice = !in_notice;
            continue;
        }
        if in_notice {
            continue;
        }
        let toks = tokens(l);
        if ended && !(spec.looks_like_row)(&toks) {
            break;
        }
        match row(&columns, l, &toks) {
            Ok(cells) => rows.push(RawRow { cells }),
            Err(message) => return Err(ParseError::new(spec.command, n, message)),
        }
    }
    Ok(Scan::Found(RawTable { columns, rows }))
}

/// The error for text without the header: points at the first line that looks like a row
/// (header missing), else at the first non-empty line (something else was printed), else at
/// the whole input (empty).
pub(crate) fn no_header_error(text: &str, spec: &TableSpec<'_>) -> ParseError {
    let all = lines(text);
    for &(n, l) in &all {
        if !l.trim().is_empty() && (spec.looks_like_row)(&tokens(l)) {
            return ParseError::new(
                spec.command,
                n,
                format!(
                    "expected the header `{}` before the first row, found a row: {:?}",
                    spec.header_text,
                    l.trim()
                ),
            );
        }
    }
    match all.iter().find(|(_, l)| !l.trim().is_empty()) {
        Some(&(n, l)) => ParseError::new(
            spec.command,
            n,
            format!(
                "expected the header `{}`, found: {:?}",
                spec.header_text,
                l.trim()
            ),
        ),
        None => ParseError::new(
            spec.command,
            0,
            format!("empty output: expected the header `{}`", spec.header_text),
        ),
    }
}

/// The cell of `key` in a row read with [`split_row`], `""` when the header has no such column.
pub(crate) fn cell(columns: &[Column], cells: &[String], key: &str) -> String {
    columns
        .iter()
        .position(|c| c.key == key)
        .and_then(|i| cells.get(i).cloned())
        .unwrap_or_default()
}

/// The cells of the columns whose keys are not in `known`, as `(key, value)` in header order.
pub(crate) fn extras(
    columns: &[Column],
    cells: &[String],
    known: &[&str],
) -> Vec<(String, String)> {
    columns
        .iter()
        .zip(cells)
        .filter(|(c, _)| !known.contains(&c.key.as_str()))
        .map(|(c, v)| (c.key.clone(), v.clone()))
        .collect()
}

/// Whether `s` is a dotted-quad IPv4 address.
pub(crate) fn is_ipv4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.parse::<u8>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_keys() {
        assert_eq!(snake("Cluster Host"), "cluster_host");
        assert_eq!(snake("SA State"), "sa_state");
        assert_eq!(snake("IP-address1"), "ip_address1");
        assert_eq!(snake("PPAR-ID"), "ppar_id");
        assert_eq!(snake("cluster-host-name"), "cluster_host_name");
        assert_eq!(snake("HostName"), "host_name");
        assert_eq!(snake("StateDetails"), "state_details");
        assert_eq!(snake("Cpu"), "cpu");
    }

    #[test]
    fn multiword_header() {
        let cols = header_columns(
            "Cluster Host    Agent   SA State  Test State Extra",
            &["Cluster Host", "SA State", "Test State"],
        );
        let keys: Vec<&str> = cols.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(
            keys,
            ["cluster_host", "agent", "sa_state", "test_state", "extra"]
        );
        assert_eq!(cols[1].col, 16);
    }

    #[test]
    fn rules() {
        assert!(is_rule("------------    -----"));
        assert!(!is_rule("--"));
        assert!(!is_rule("-- x --"));
    }
}
