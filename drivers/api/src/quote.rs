//! POSIX `sh` quoting of argv vectors. Every command line hascript sends is built here.

use crate::command::Program;

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

/// The line sent to the host's shell: argv words quoted and prefixed with `LC_ALL=C` so
/// the products print their C-locale formats; shell text gets the same locale through an
/// exported assignment.
pub fn command_line(program: &Program) -> String {
    match program {
        Program::Argv(argv) => {
            let words: Vec<String> = argv.iter().map(|w| shell_quote(w)).collect();
            format!("LC_ALL=C {}", words.join(" "))
        }
        Program::Shell(text) => format!("LC_ALL=C; export LC_ALL; {text}"),
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

    #[test]
    fn argv_line_has_locale_prefix() {
        let p = Program::Argv(vec!["ldm".into(), "list".into(), "-p".into()]);
        assert_eq!(command_line(&p), "LC_ALL=C ldm list -p");
        let s = Program::Shell("uname -a".into());
        assert_eq!(command_line(&s), "LC_ALL=C; export LC_ALL; uname -a");
    }
}
