//! The driver crates the CLI builds on, named in one place: the simulator
//! (`hascript_sim`) and the parsers of `hascript parse` (LDoms and Serviceguard/Integrity VM).

/// The parsers of `hascript parse`: the LDoms kinds (`hascript_ldoms::parse`) and the
/// Serviceguard / Integrity VM kinds (`hascript_hpvm::parse`), one list.
pub mod parse {
    use std::sync::LazyLock;

    /// Every kind `(kind, description)`: the LDoms ones, then the Serviceguard ones.
    pub static KINDS: LazyLock<Vec<(&'static str, &'static str)>> = LazyLock::new(|| {
        hascript_ldoms::parse::KINDS
            .iter()
            .chain(hascript_hpvm::parse::KINDS)
            .copied()
            .collect()
    });

    /// Parse `text` as the output of `kind` into JSON (pretty when `pretty`), keys in the
    /// product's order; the error is the parser's message (command, line, what was wrong).
    pub fn parse_kind_json(kind: &str, text: &str, pretty: bool) -> Result<String, String> {
        if hascript_hpvm::parse::KINDS.iter().any(|(k, _)| *k == kind) {
            hascript_hpvm::parse::parse_kind_json(kind, text, pretty).map_err(|e| e.to_string())
        } else {
            hascript_ldoms::parse::parse_kind_json(kind, text, pretty).map_err(|e| e.to_string())
        }
    }
}
pub use hascript_sim::{driver_of, scenarios, LoggedCommand, ScenarioInfo, SimError, SimSite};
