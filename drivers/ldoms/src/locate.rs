//! Where a guest domain really is. A migration whose controlling shell was lost goes on in
//! the background, so "the command failed" never means "the guest did not move": every
//! decision of the bracket and of the recovery starts here.

use hascript_api::{Error, ErrorKind, Result};
use serde::Serialize;

use crate::facts::Inner;
use crate::parse::ldm_list_p::{DomainState, MigrationRole};

/// The state of a guest domain across every control domain of the inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Location {
    /// Active (running) on one control domain.
    Running {
        /// Control domain (inventory name).
        control_domain: String,
    },
    /// Bound or inactive (stopped) on one control domain.
    Stopped {
        /// Control domain (inventory name).
        control_domain: String,
        /// The state word `ldm list -p` printed.
        ldm_state: String,
    },
    /// A migration is still under way.
    Migrating {
        /// Control domain the guest leaves.
        source: Option<String>,
        /// Control domain the guest goes to.
        target: Option<String>,
    },
    /// No control domain of the inventory lists the guest.
    Missing,
    /// More than one control domain lists it, outside a migration.
    Ambiguous {
        /// Every control domain that lists it.
        control_domains: Vec<String>,
    },
}

impl Location {
    /// The control domain where the guest is settled, if it is.
    pub fn control_domain(&self) -> Option<&str> {
        match self {
            Location::Running { control_domain } | Location::Stopped { control_domain, .. } => {
                Some(control_domain)
            }
            _ => None,
        }
    }

    /// One line for messages.
    pub fn describe(&self, guest: &str) -> String {
        match self {
            Location::Running { control_domain } => format!("{guest} runs on {control_domain}"),
            Location::Stopped {
                control_domain,
                ldm_state,
            } => format!("{guest} is stopped ({ldm_state}) on {control_domain}"),
            Location::Migrating { source, target } => format!(
                "{guest} is being migrated from {} to {}",
                source.as_deref().unwrap_or("?"),
                target.as_deref().unwrap_or("?")
            ),
            Location::Missing => format!("no control domain of the inventory lists {guest}"),
            Location::Ambiguous { control_domains } => format!(
                "{guest} is listed on several control domains: {}",
                control_domains.join(", ")
            ),
        }
    }
}

impl Inner {
    /// Ask every control domain (`ldm list -p`) where guest domain `domain` is. A control
    /// domain that cannot be asked is an error: a guest must never be placed by guesswork.
    pub fn locate(&self, domain: &str) -> Result<Location> {
        let mut settled: Vec<(String, DomainState, String)> = Vec::new();
        let mut source = None;
        let mut target = None;
        for cd in &self.topo.control_domains {
            let domains = self.domains(&cd.name).map_err(|e| {
                if e.kind == ErrorKind::Cancelled {
                    e
                } else {
                    Error::new(
                        e.kind,
                        format!("cannot tell where {domain} is: {}", e.message),
                    )
                    .on_host(&cd.name)
                }
            })?;
            for d in domains.iter().filter(|d| d.name() == domain) {
                match d.migration() {
                    MigrationRole::Source => source = Some(cd.name.clone()),
                    MigrationRole::Target => target = Some(cd.name.clone()),
                    _ => settled.push((
                        cd.name.clone(),
                        d.state(),
                        d.get("state").unwrap_or("").to_string(),
                    )),
                }
            }
        }
        if source.is_some() || target.is_some() {
            return Ok(Location::Migrating { source, target });
        }
        match settled.len() {
            0 => Ok(Location::Missing),
            1 => {
                let (cd, state, word) = settled.remove(0);
                Ok(match state {
                    DomainState::Active => Location::Running { control_domain: cd },
                    _ => Location::Stopped {
                        control_domain: cd,
                        ldm_state: word,
                    },
                })
            }
            _ => {
                // A live migration leaves no copy on the source; two listings where one is
                // active and the rest inactive is still two places: a person decides.
                Ok(Location::Ambiguous {
                    control_domains: settled.into_iter().map(|s| s.0).collect(),
                })
            }
        }
    }
}
