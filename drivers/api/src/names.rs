//! Validation of names that reach a command line. Names are always passed as one quoted
//! argument; validation additionally refuses anything outside the products' naming rules
//! before a single command is sent.

use crate::error::{Error, ErrorKind};

/// The generic rule used where a product's own rule is not known:
/// `[A-Za-z0-9][A-Za-z0-9._-]{0,63}`.
pub const NAME_RULE: &str =
    "1 to 64 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit";

/// Check `value` (what `what` names, e.g. "guest") against [`NAME_RULE`].
pub fn validate_name(what: &str, value: &str) -> Result<(), Error> {
    let bytes = value.as_bytes();
    let ok = !bytes.is_empty()
        && bytes.len() <= 64
        && bytes[0].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::Usage,
            format!(
                "invalid {what} name {:?}: a {what} name is {NAME_RULE}",
                shorten(value)
            ),
        ))
    }
}

/// A user-given value for an error message: at most 64 characters, then `…`.
pub fn shorten(value: &str) -> String {
    match value.char_indices().nth(64) {
        Some((i, _)) => format!("{}…", &value[..i]),
        None => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_product_names() {
        for n in ["guest2", "cd3", "cfguest1", "10.20.30.73", "vm_1.a-b"] {
            assert!(validate_name("guest", n).is_ok(), "{n}");
        }
    }

    #[test]
    fn long_values_are_shortened_in_messages() {
        let long = "a".repeat(100_000);
        let e = validate_name("guest", &long)
            .err()
            .map(|e| e.message)
            .unwrap_or_default();
        assert!(e.len() < 300, "{}", e.len());
        assert!(e.contains('…'));
        assert_eq!(shorten("guest2"), "guest2");
        assert_eq!(shorten(&"é".repeat(70)).chars().count(), 65);
    }

    #[test]
    fn refuses_metacharacters_and_empties() {
        for n in [
            "",
            "guest2;reboot",
            "a b",
            "$(id)",
            "-rf",
            "x`y`",
            &"a".repeat(65),
        ] {
            let e = validate_name("guest", n).err();
            assert_eq!(e.map(|e| e.kind), Some(ErrorKind::Usage), "{n}");
        }
    }
}
