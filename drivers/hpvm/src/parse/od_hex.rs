//! `od -A n -v -t x1 FILE`: a file's bytes as two-digit hex words, sixteen a line. Used to
//! copy binary files (Java key stores) over a transport that decodes output as text.
//!
//! ```text
//!  fe ed fe ed 00 00 00 02 00 00 00 01 00 00 00 01
//!  00 0c 63 6c
//! ```

use super::text::lines;
use super::ParseError;

const COMMAND: &str = "od -A n -v -t x1";

/// The bytes of `od -A n -v -t x1` output; anything but hex byte words is an error naming
/// the line.
pub fn parse(text: &str) -> Result<Vec<u8>, ParseError> {
    let mut out = Vec::new();
    for (n, l) in lines(text) {
        for w in l.split_whitespace() {
            let b = (w.len() == 2)
                .then(|| u8::from_str_radix(w, 16).ok())
                .flatten()
                .ok_or_else(|| {
                    ParseError::new(
                        COMMAND,
                        n,
                        format!("expected two-digit hex bytes, found {w:?}"),
                    )
                })?;
            out.push(b);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip() {
        assert_eq!(
            parse(" fe ed fe ed 00 0a\n 41\n\n"),
            Ok(vec![0xfe, 0xed, 0xfe, 0xed, 0x00, 0x0a, 0x41])
        );
        assert_eq!(parse(""), Ok(vec![]));
    }

    #[test]
    fn refuses_other_text() {
        assert_eq!(parse(" fe\n 0000000 41\n").map_err(|e| e.line), Err(2));
        assert!(parse("zz").is_err());
    }
}
