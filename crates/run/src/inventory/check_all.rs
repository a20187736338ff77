//! `hascript inventory check`: every error of an inventory, not only the first.

use super::model::{Inventory, InventoryError};
use super::parse_real;

/// The most errors [`check_all`] reports (each found by parsing again).
const MAX_REPORTED: usize = 100;

/// Every error of inventory `text` (read as `-i` reads it), not only the first: for
/// `hascript inventory check`. Each error found is taken out of a working copy of the text
/// and the copy parsed again, with every line kept in place so that the lines named stay
/// those of the file: an unknown or invalid key's line is blanked; a host whose error is
/// not on a line of its own (a missing `name`, `role`, `box`…) loses its whole `[[host]]`
/// table. The search stops at an error that blanking cannot isolate (TOML syntax, the
/// driver, a table header, what the whole file lacks), so no error reported is an artifact
/// of an earlier one. Returns the inventory when there is no error.
pub fn check_all(file: &str, text: &str) -> Result<Inventory, Vec<InventoryError>> {
    let mut work = text.to_string();
    let mut errors: Vec<InventoryError> = Vec::new();
    let lines: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    // Byte range of 1-based line `l` (without its newline).
    let range = |l: usize| -> Option<(usize, usize)> {
        let start = *lines.get(l.checked_sub(1)?)?;
        let end = lines.get(l).map_or(text.len(), |n| n - 1);
        Some((start, end))
    };
    let blank = |work: &mut String, from: usize, to: usize| {
        // Same length, ASCII spaces but the newlines: every offset and every line stays.
        let spaces: String = work[from..to]
            .bytes()
            .map(|b| if b == b'\n' { '\n' } else { ' ' })
            .collect();
        work.replace_range(from..to, &spaces);
    };
    let last_line = text.trim_end().matches('\n').count() + 1;
    let header = |l: usize| range(l).is_some_and(|(a, b)| text[a..b].trim_start().starts_with('['));
    while errors.len() < MAX_REPORTED {
        let e = match parse_real(file, &work) {
            Ok(inv) if errors.is_empty() => return Ok(inv),
            Ok(_) => break,
            Err(e) => e,
        };
        let key = e.key.clone().unwrap_or_default();
        // What the whole file lacks is reported at its last line.
        let whole_file = key == "driver" || (key == "host" && e.line == Some(last_line));
        let syntax = e.message.ends_with("fix the TOML at this line");
        let seen = errors
            .iter()
            .any(|x| x.line == e.line && x.message == e.message);
        if seen || (!errors.is_empty() && (whole_file || syntax)) {
            // Possibly caused by what was taken out: not reported.
            break;
        }
        let line = e.line;
        errors.push(e);
        let Some(line) = line.filter(|_| !whole_file && !syntax) else {
            break;
        };
        // The [[host]] table holding the line, when it is in one.
        let host_start = (1..=line)
            .rev()
            .find(|l| header(*l))
            .filter(|l| range(*l).is_some_and(|(a, b)| text[a..b].trim() == "[[host]]"));
        let own_line = !header(line)
            && !matches!(key.as_str(), "name" | "role")
            && range(line).is_some_and(|(a, b)| {
                text[a..b]
                    .split_once('=')
                    .is_some_and(|(k, _)| k.trim().trim_matches('"') == key)
            });
        if own_line {
            if let Some((a, b)) = range(line) {
                blank(&mut work, a, b);
            }
        } else if let Some(h) = host_start {
            let end = (h + 1..lines.len() + 1)
                .find(|l| header(*l))
                .unwrap_or(lines.len() + 1);
            let from = range(h).map_or(0, |(a, _)| a);
            let to = range(end - 1).map_or(text.len(), |(_, b)| b);
            blank(&mut work, from, to);
        } else {
            break;
        }
    }
    errors.sort_by_key(|e| e.line);
    Err(errors)
}
