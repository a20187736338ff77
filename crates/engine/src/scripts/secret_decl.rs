//! A script's `//! secrets:` header: the secrets it declares. Part of what a script says
//! about itself (read with its other headers by `meta`); where the values come from is the
//! run's business (`secrets.rs`).

use hascript_api::SECRET_ENV_PREFIX as ENV_PREFIX;

/// One secret a script declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretDecl {
    /// The name scripts use (`secrets.<name>`).
    pub name: String,
    /// The manual's published default, if any (used only with
    /// `-p use_manual_default_passwords=yes`).
    pub default: Option<String>,
}

impl SecretDecl {
    /// The environment variable holding the value: `HASCRIPT_SECRET_<NAME>`.
    pub fn env_var(&self) -> String {
        format!("{ENV_PREFIX}{}", self.name.to_ascii_uppercase())
    }
}

/// Parse the value of a `//! secrets:` line: comma-separated entries (outside
/// parentheses), each a name and optional parenthesised notes where `default: VALUE` gives
/// the published default. `(none)` or nothing declares none.
pub fn parse_decl(value: &str) -> Vec<SecretDecl> {
    super::header_entries(value)
        .into_iter()
        .filter_map(|e| {
            let e = e.trim();
            let name = e
                .split(|c: char| c.is_whitespace() || c == '(')
                .find(|w| !w.is_empty())?
                .to_string();
            let notes = e
                .find('(')
                .and_then(|a| e.rfind(')').map(|b| (a, b)))
                .filter(|(a, b)| a < b)
                .map(|(a, b)| &e[a + 1..b])
                .unwrap_or("");
            let default = notes.find("default:").and_then(|at| {
                notes[at + "default:".len()..]
                    .split(|c: char| c.is_whitespace() || c == ';' || c == ',')
                    .find(|w| !w.is_empty())
                    .map(|w| w.trim_matches('`').to_string())
            });
            Some(SecretDecl { name, default })
        })
        .collect()
}
