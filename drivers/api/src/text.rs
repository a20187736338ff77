//! Text helpers every driver's parsers share: numbered lines (CRLF tolerated) and the words
//! of a line with their columns, so that tables are read by header positions instead of
//! fixed offsets; and user values as messages echo them (quoted and cut, never printed back
//! whole: `quoted`, `clip_quoted`).

/// The lines of `text`, numbered from 1, with a trailing `\r` removed (CRLF input).
pub fn lines(text: &str) -> Vec<(usize, &str)> {
    text.split('\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
        .collect()
}

/// One whitespace-separated word of a line with its position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tok<'a> {
    /// Character column of the first character (0-based).
    pub col: usize,
    /// Byte offset of the first character in the line.
    pub byte: usize,
    /// The word.
    pub text: &'a str,
}

impl Tok<'_> {
    /// Character column just after the last character.
    pub fn end(&self) -> usize {
        self.col + self.text.chars().count()
    }
}

/// The words of `line` with their columns.
pub fn tokens(line: &str) -> Vec<Tok<'_>> {
    let mut out = Vec::new();
    let mut start: Option<(usize, usize)> = None;
    for (col, (byte, ch)) in line.char_indices().enumerate() {
        if ch.is_whitespace() {
            if let Some((c, b)) = start.take() {
                out.push(Tok {
                    col: c,
                    byte: b,
                    text: &line[b..byte],
                });
            }
        } else if start.is_none() {
            start = Some((col, byte));
        }
    }
    if let Some((c, b)) = start {
        out.push(Tok {
            col: c,
            byte: b,
            text: &line[b..],
        });
    }
    out
}

/// The snake_case key of a table header's name: `Virtual Machine Name` →
/// `virtual_machine_name`, `VM #` → `vm`, `#VCPUs` → `vcpus`, `IP-address1` → `ip_address1`,
/// `PPAR-ID` → `ppar_id`, `HostName` → `host_name`.
pub fn snake(name: &str) -> String {
    let mut out = String::new();
    let mut sep = false;
    let mut prev_lower = false;
    for ch in name.chars() {
        if ch.is_alphanumeric() {
            let boundary = ch.is_uppercase() && prev_lower;
            if (sep || boundary) && !out.is_empty() {
                out.push('_');
            }
            sep = false;
            prev_lower = ch.is_lowercase() || ch.is_ascii_digit();
            out.extend(ch.to_lowercase());
        } else {
            sep = true;
            prev_lower = false;
        }
    }
    out
}

/// How many characters of a user's value a message echoes.
pub const ECHO_LIMIT: usize = 64;

/// A user's value as messages echo it: quoted like `{:?}`, cut to [`ECHO_LIMIT`] characters
/// with `…` after the cut, so a huge value is never printed back whole.
pub fn quoted(value: &str) -> String {
    match value.char_indices().nth(ECHO_LIMIT) {
        Some((cut, _)) => format!("{:?}", format!("{}…", &value[..cut])),
        None => format!("{value:?}"),
    }
}

/// `message` with every quoted part (`"…"`, `` `…` ``) longer than [`ECHO_LIMIT`] characters
/// cut, so a message from elsewhere (TOML, the simulator) never prints a huge value back
/// whole.
pub fn clip_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(1024));
    let mut chars = message.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c != '"' && c != '`' {
            continue;
        }
        let mut n = 0;
        let mut escaped = false;
        let mut closed = false;
        for d in chars.by_ref() {
            closed = d == c && !escaped;
            escaped = c == '"' && d == '\\' && !escaped;
            if closed {
                break;
            }
            n += 1;
            if n <= ECHO_LIMIT {
                out.push(d);
            }
        }
        if n > ECHO_LIMIT {
            out.push('…');
        }
        if closed {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_their_character_columns() {
        let t = tokens("  ab  çd e");
        let w: Vec<(usize, usize, &str)> = t.iter().map(|t| (t.col, t.byte, t.text)).collect();
        assert_eq!(w, [(2, 2, "ab"), (6, 6, "çd"), (9, 10, "e")]);
        assert_eq!(t[1].end(), 8);
        assert!(tokens("   ").is_empty());
    }

    #[test]
    fn lines_are_numbered_and_lose_their_cr() {
        assert_eq!(lines("a\r\nb\n"), [(1, "a"), (2, "b"), (3, "")]);
    }
}
