//! `inventory check`: an inventory's problems, or a summary of its site.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Subcommand;

use crate::run::{usage, EXIT_USAGE};

/// `hascript inventory …`.
#[derive(Debug, Subcommand)]
pub enum InventoryCmd {
    /// Check an inventory as `-i` reads it and report every error at once (exit 2), or a
    /// summary of the site when there is none (exit 0). Nothing is sent to any host.
    Check {
        /// The inventory file.
        file: PathBuf,
    },
}

pub(super) fn cmd_inventory(cmd: InventoryCmd) -> i32 {
    let InventoryCmd::Check { file } = cmd;
    let name = file.display().to_string();
    let text = match crate::files::read_regular_text(&file, crate::files::MAX_TEXT_FILE) {
        Ok(t) => t,
        Err(e) => return usage(format!("{name}: cannot read the inventory: {e}")),
    };
    match crate::inventory::check_all(&name, &text) {
        Ok(inv) => {
            let mut transports: BTreeMap<String, usize> = BTreeMap::new();
            for h in &inv.hosts {
                *transports
                    .entry(format!("{:?}", h.transport).to_lowercase())
                    .or_default() += 1;
            }
            let by = transports
                .iter()
                .map(|(t, n)| format!("{n} {t}"))
                .collect::<Vec<_>>()
                .join(", ");
            let roles = match &inv.topology {
                crate::inventory::SiteTopology::Ldoms(t) => format!(
                    "{} control domains, {} guest domains",
                    t.control_domains.len(),
                    t.guests.len()
                ),
                crate::inventory::SiteTopology::Hpvm(h) => {
                    format!("{} VM hosts, {} guests", h.vm_hosts.len(), h.guests.len())
                }
            };
            println!(
                "{name}: ok — driver {}: {}; {} hosts ({by}): {}",
                inv.driver,
                inv.topology.description(),
                inv.hosts.len(),
                roles
            );
            0
        }
        Err(errors) => {
            for e in &errors {
                eprintln!("error: {e}");
            }
            eprintln!(
                "{name}: {} error{}",
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            );
            EXIT_USAGE
        }
    }
}
