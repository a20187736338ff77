//! POSIX `sh` quoting of words. Every command line hascript sends is built from it (see
//! [`crate::program::command_line`]).

/// Quote one word for POSIX `sh`: words made only of safe characters are left as they are,
/// anything else is wrapped in single quotes (with `'` written as `'\''`).
pub fn shell_quote(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_@%+=:,./-".contains(&b));
    if safe {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_words_stay_bare() {
        assert_eq!(shell_quote("/usr/sbin/ldm"), "/usr/sbin/ldm");
        assert_eq!(shell_quote("-p"), "-p");
        assert_eq!(shell_quote("guest2"), "guest2");
    }

    #[test]
    fn unsafe_words_are_single_quoted() {
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("x;rm -rf /"), "'x;rm -rf /'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("$(id)"), "'$(id)'");
    }
}
