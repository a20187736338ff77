//! The TOML inventory of a site: which driver, which hosts with which roles, and how each
//! host is reached. The simulator produces the same format (with `transport = "sim"`).
//!
//! Every error names the file, the line and the key, and says what to do.

use std::path::Path;

mod access;
mod check_all;
mod context;
mod model;
mod parse;
mod roles;
mod schema;

pub use crate::transport::rules::{
    valid_address, valid_hostname, valid_user, ADDRESS_RULE, HOSTNAME_RULE, USER_RULE,
};
pub use check_all::check_all;
pub use hascript_api::text::{clip_quoted, quoted, ECHO_LIMIT};
pub use model::{HostEntry, HpvmHosts, Inventory, InventoryError, SiteTopology, TransportKind};

use parse::parse_with;

/// Read and validate the inventory at `path`.
pub fn load(path: &Path) -> Result<Inventory, InventoryError> {
    let file = path.display().to_string();
    let text = crate::files::read_regular_text(path, crate::files::MAX_TEXT_FILE).map_err(|e| {
        InventoryError {
            file: file.clone(),
            line: None,
            key: None,
            message: format!("cannot read the inventory: {e}; check the path given to -i"),
        }
    })?;
    parse_real(&file, &text)
}

/// Parse and validate the inventory `text` of a real site (what `-i` reads): like
/// [`parse`], but `transport = "sim"` is refused at its line. `file` names it in errors.
pub fn parse_real(file: &str, text: &str) -> Result<Inventory, InventoryError> {
    parse_with(file, text, false)
}

/// Parse and validate inventory `text`, any transport allowed (the simulator's own
/// inventory uses `transport = "sim"`); `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Inventory, InventoryError> {
    parse_with(file, text, true)
}

#[cfg(test)]
mod tests;
