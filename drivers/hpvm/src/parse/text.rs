//! Shared text helpers of the parsers: line splitting and words with their columns.

/// The lines of `text`, numbered from 1, with a trailing `\r` removed (CRLF input).
pub(crate) fn lines(text: &str) -> Vec<(usize, &str)> {
    text.split('\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
        .collect()
}

/// One whitespace-separated word of a line with its position.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tok<'a> {
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
pub(crate) fn tokens(line: &str) -> Vec<Tok<'_>> {
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

/// The snake_case key of a header name: `Virtual Machine Name` → `virtual_machine_name`,
/// `VM #` → `vm`, `#VCPUs` → `vcpus`, `Name/Num` → `name_num`, `PortNum` → `port_num`.
pub(crate) fn snake(name: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_keys() {
        assert_eq!(snake("Virtual Machine Name"), "virtual_machine_name");
        assert_eq!(snake("VM #"), "vm");
        assert_eq!(snake("#VCPUs"), "vcpus");
        assert_eq!(snake("Name/Num"), "name_num");
        assert_eq!(snake("PortNum"), "port_num");
        assert_eq!(snake("Mac Address"), "mac_address");
        assert_eq!(snake("OS Type"), "os_type");
    }

    #[test]
    fn tokens_and_crlf() {
        let l = lines("a  b\r\nc");
        assert_eq!(l, vec![(1, "a  b"), (2, "c")]);
        let t = tokens("  ab cd");
        assert_eq!(t[0].col, 2);
        assert_eq!(t[0].end(), 4);
        assert_eq!(t[1].text, "cd");
    }
}
