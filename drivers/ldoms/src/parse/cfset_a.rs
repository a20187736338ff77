//! `cfset -a`: the CF tunables loaded in the kernel.
//!
//! ```text
//! From cfset configuration in CF module:
//! KEY: CLUSTER_TIMEOUT    VALUE: 10
//! ```
//!
//! Lines `KEY: <name> VALUE: <value>`; any other line (a banner, a notice) is ignored, except
//! a line that mentions `VALUE:` without the `KEY:` form, which is refused. The PRIMECLUSTER
//! CF guide documents `cfset -a` as the way "to verify values in kernel" and
//! `CLUSTER_TIMEOUT` as the heartbeat timeout (default 10 s); the exact line layout is an
//! assumption (see formats.md). Values are kept as printed; [`cluster_timeout`] strips quotes.

use serde::Serialize;

use super::table::lines;
use super::ParseError;

const COMMAND: &str = "cfset -a";

/// One CF tunable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tunable {
    /// The tunable's name (`CLUSTER_TIMEOUT`).
    pub key: String,
    /// Its value as printed (`""` when empty).
    pub value: String,
}

/// Parse `cfset -a` output, tunables in the order printed.
///
/// Errors: no `KEY:` line at all (empty output: line 0; otherwise the first non-empty line is
/// quoted); a `KEY:` line without a name or without `VALUE:`; a line with `VALUE:` but not the
/// `KEY:` form.
pub fn parse(text: &str) -> Result<Vec<Tunable>, ParseError> {
    let all = lines(text);
    let mut out = Vec::new();
    for &(n, l) in &all {
        let t = l.trim();
        let bad = || {
            ParseError::new(
                COMMAND,
                n,
                format!("expected `KEY: <name> VALUE: <value>`, found: {t:?}"),
            )
        };
        let Some(rest) = t.strip_prefix("KEY:") else {
            if t.contains("VALUE:") {
                return Err(bad());
            }
            continue;
        };
        let rest = rest.trim_start();
        let (key, after) = match rest.find(char::is_whitespace) {
            Some(i) => (&rest[..i], rest[i..].trim_start()),
            None => (rest, ""),
        };
        let Some(value) = after.strip_prefix("VALUE:") else {
            return Err(bad());
        };
        if key.is_empty() || key.contains("VALUE:") {
            return Err(bad());
        }
        out.push(Tunable {
            key: key.to_string(),
            value: value.trim().to_string(),
        });
    }
    if out.is_empty() {
        return Err(match all.iter().find(|(_, l)| !l.trim().is_empty()) {
            Some(&(n, l)) => ParseError::new(
                COMMAND,
                n,
                format!(
                    "expected `KEY: <name> VALUE: <value>` lines, found: {:?}",
                    l.trim()
                ),
            ),
            None => ParseError::new(
                COMMAND,
                0,
                "empty output: expected `KEY: <name> VALUE: <value>` lines",
            ),
        });
    }
    Ok(out)
}

/// The CF heartbeat timeout in seconds: the value of `CLUSTER_TIMEOUT` (surrounding quotes
/// removed), `None` when absent or not an integer.
pub fn cluster_timeout(tunables: &[Tunable]) -> Option<i64> {
    let t = tunables.iter().find(|t| t.key == "CLUSTER_TIMEOUT")?;
    t.value
        .trim()
        .trim_matches(|c| c == '"' || c == '\'')
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_timeout() {
        let v =
            parse("From cfset configuration in CF module:\nKEY: CLUSTER_TIMEOUT VALUE: \"600\"\n")
                .unwrap();
        assert_eq!(v[0].value, "\"600\"");
        assert_eq!(cluster_timeout(&v), Some(600));
    }

    #[test]
    fn refuses_half_lines() {
        assert_eq!(parse("KEY: CLUSTER_TIMEOUT 10\n").unwrap_err().line, 1);
        assert_eq!(
            parse("KEY: A VALUE: 1\nCLUSTER_TIMEOUT VALUE: 10\n")
                .unwrap_err()
                .line,
            2
        );
    }
}
