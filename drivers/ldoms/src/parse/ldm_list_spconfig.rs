//! `ldm list-spconfig` (alias `ls-spconfig`, older `list-config`).
//!
//! ```text
//! factory-default
//! config1 [current]
//! config2 [next poweron]
//! ```
//!
//! One saved configuration per line: a name, then the markers `[current]` and/or
//! `[next poweron]` (either, both or none). A line with spaces that is not a name followed by
//! markers (an error message such as `Failed to communicate with …`) is refused, as is an
//! unknown bracketed marker: a wrong reading here could propose removing the configuration
//! the box boots next.

use serde::Serialize;

use super::table::lines;
use super::ParseError;

const COMMAND: &str = "ldm list-spconfig";

/// One saved configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpConfig {
    /// The configuration name as printed.
    pub name: String,
    /// Carries `[current]`.
    pub current: bool,
    /// Carries `[next poweron]`.
    pub next_poweron: bool,
}

/// Parse `ldm list-spconfig` output, in the order printed.
///
/// Errors: empty output (line 0: at least `factory-default` is always listed); a line that is
/// not `name [marker]…`; an unknown marker.
pub fn parse(text: &str) -> Result<Vec<SpConfig>, ParseError> {
    let mut out = Vec::new();
    for (n, l) in lines(text) {
        let t = l.trim();
        if t.is_empty() {
            continue;
        }
        out.push(line(n, t)?);
    }
    if out.is_empty() {
        return Err(ParseError::new(
            COMMAND,
            0,
            "empty output: expected at least `factory-default`",
        ));
    }
    Ok(out)
}

fn line(n: usize, t: &str) -> Result<SpConfig, ParseError> {
    let bad = || {
        ParseError::new(
            COMMAND,
            n,
            format!(
                "expected a configuration name optionally followed by `[current]` and/or `[next poweron]`, found: {t:?}"
            ),
        )
    };
    let (name, mut rest) = match t.find(char::is_whitespace) {
        Some(i) => (&t[..i], t[i..].trim_start()),
        None => (t, ""),
    };
    if name.contains('[') || name.contains(']') {
        return Err(bad());
    }
    let mut cfg = SpConfig {
        name: name.to_string(),
        current: false,
        next_poweron: false,
    };
    while !rest.is_empty() {
        let Some(inner_rest) = rest.strip_prefix('[') else {
            return Err(bad());
        };
        let Some(end) = inner_rest.find(']') else {
            return Err(bad());
        };
        let marker = inner_rest[..end]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        match marker.as_str() {
            "current" => cfg.current = true,
            "next poweron" => cfg.next_poweron = true,
            other => {
                return Err(ParseError::new(
                    COMMAND,
                    n,
                    format!(
                        "unknown marker [{other}] (known: [current], [next poweron]) in: {t:?}"
                    ),
                ))
            }
        }
        rest = inner_rest[end + 1..].trim_start();
    }
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers() {
        let v = parse(
            "factory-default\nc1 [current]\nc2 [next poweron]\nc3 [current] [next poweron]\n",
        )
        .unwrap();
        assert_eq!(v.len(), 4);
        assert!(!v[0].current && !v[0].next_poweron);
        assert!(v[1].current && !v[1].next_poweron);
        assert!(!v[2].current && v[2].next_poweron);
        assert!(v[3].current && v[3].next_poweron);
    }

    #[test]
    fn refuses_sentences() {
        let e = parse("Failed to communicate with the SP\n").unwrap_err();
        assert_eq!(e.line, 1);
        let e = parse("a\nb [degraded]\n").unwrap_err();
        assert_eq!(e.line, 2);
    }
}
