//! What a command runs (an argv vector or shell text) and the one line the host's shell
//! receives for it. Below both `command` (which carries a `Program`) and `quote` (which
//! quotes its words), so neither imports the other.

use serde::{Deserialize, Serialize};

use crate::quote::shell_quote;

/// What to run: an argv vector (quoted for the user) or raw shell text (the caller's
/// responsibility; only `host(name).sh(...)` builds these).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Program {
    /// Program and arguments, each one word on the remote side.
    Argv(Vec<String>),
    /// Raw `sh` text.
    Shell(String),
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
    fn argv_line_has_locale_prefix() {
        let p = Program::Argv(vec!["ldm".into(), "list".into(), "-p".into()]);
        assert_eq!(command_line(&p), "LC_ALL=C ldm list -p");
        let s = Program::Shell("uname -a".into());
        assert_eq!(command_line(&s), "LC_ALL=C; export LC_ALL; uname -a");
    }
}
