//! `swlist -l product X` (HP-UX SD-UX): is a product installed, and which revision?
//!
//! ```text
//! # Initializing...
//! # Contacting target "node1"...
//! #
//! # Target:  node1:/
//! #
//!
//!   SG-IVS-Toolkit        B.04.30        Serviceguard Toolkit for Integrity Virtual Servers
//! ```
//!
//! Lines starting with `#` are comments. A product line is the tag, the revision, then the
//! description (the rest). A missing product makes `swlist` print
//! `ERROR:   Software "X" was not found on host "node1:/".` and exit 1: [`not_found`] tells it.

use serde::Serialize;

use super::text::{lines, tokens};
use super::ParseError;

const COMMAND: &str = "swlist -l product";

/// One product line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SwProduct {
    /// The product tag (`SG-IVS-Toolkit`); a bundle's products may print as `Bundle.Product`.
    pub name: String,
    /// The revision (`B.04.30`).
    pub revision: String,
    /// The description (the rest of the line).
    pub description: String,
}

/// The product `name` among `products` (compared case-insensitively, also as the last part
/// of a `Bundle.Product` tag).
pub fn find<'a>(products: &'a [SwProduct], name: &str) -> Option<&'a SwProduct> {
    products.iter().find(|p| {
        p.name.eq_ignore_ascii_case(name)
            || p.name
                .rsplit('.')
                .next()
                .is_some_and(|last| last.eq_ignore_ascii_case(name))
    })
}

/// Whether `text` says the software was not found (`ERROR: Software "X" was not found …`).
pub fn not_found(text: &str) -> bool {
    lines(text)
        .iter()
        .any(|(_, l)| l.contains("was not found on host") || l.contains("not found on host"))
}

/// Whether revision `rev` (`A.11.19.00`) is older than `min` (`A.11.20`): the letters
/// must be equal, then the numbers compare part by part (a missing part counts as 0).
/// `None` when either is not of that form (the caller cannot tell, and says so).
pub fn revision_older(rev: &str, min: &str) -> Option<bool> {
    fn split(r: &str) -> Option<(String, Vec<u64>)> {
        let mut parts = r.trim().split('.');
        let letter = parts
            .next()
            .filter(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphabetic()))?;
        let nums = parts
            .map(|p| p.parse::<u64>().ok())
            .collect::<Option<Vec<_>>>()?;
        if nums.is_empty() {
            return None;
        }
        Some((letter.to_ascii_uppercase(), nums))
    }
    let (la, a) = split(rev)?;
    let (lb, b) = split(min)?;
    if la != lb {
        return None;
    }
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (
            a.get(i).copied().unwrap_or(0),
            b.get(i).copied().unwrap_or(0),
        );
        if x != y {
            return Some(x < y);
        }
    }
    Some(false)
}

/// Parse the product lines; `ERROR:`/`WARNING:`/`NOTE:` lines and comments are skipped. A
/// product line without a revision is an error. No product line at all gives an empty list
/// (see [`not_found`]).
pub fn parse(text: &str) -> Result<Vec<SwProduct>, ParseError> {
    let mut out = Vec::new();
    for (n, l) in lines(text) {
        let t = l.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let toks = tokens(t);
        if toks[0].text.ends_with(':') || not_found(t) {
            continue;
        }
        if toks.len() < 2 {
            return Err(ParseError::new(
                COMMAND,
                n,
                format!("expected `<product> <revision> <description>`, found: {t:?}"),
            ));
        }
        let description = toks.get(2).map(|x| t[x.byte..].trim()).unwrap_or("");
        out.push(SwProduct {
            name: toks[0].text.to_string(),
            revision: toks[1].text.to_string(),
            description: description.to_string(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::revision_older;

    #[test]
    fn revisions_compare_part_by_part() {
        assert_eq!(revision_older("A.11.19.00", "A.11.20"), Some(true));
        assert_eq!(revision_older("A.11.20.00", "A.11.20"), Some(false));
        assert_eq!(revision_older("A.11.20", "A.11.20"), Some(false));
        assert_eq!(revision_older("A.11.9", "A.11.20"), Some(true));
        assert_eq!(revision_older("A.12.00.00", "A.11.20"), Some(false));
        assert_eq!(revision_older("B.11.19", "A.11.20"), None);
        assert_eq!(revision_older("garbage", "A.11.20"), None);
        assert_eq!(revision_older("A.11.x", "A.11.20"), None);
    }
}
