//! A service of a Serviceguard package: its block of `service_*` keys in the package file,
//! the rule for its name, and how often it is restarted. Below the package file
//! ([`crate::pkgconf`]), the application monitors ([`crate::appmon`]) and the legacy control
//! script's parser, which all read services; it imports none of them.

use std::fmt;

/// The rule for service names written by this module (Serviceguard's: at most 39 characters).
pub const SERVICE_NAME_RULE: &str =
    "1 to 39 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit";

/// A service block (`service_name` and the `service_*` keys after it).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceBlock {
    /// `service_name`
    pub name: String,
    /// `service_cmd` (unquoted).
    pub cmd: String,
    /// `service_restart` (`none`, `unlimited` or a number), when present.
    pub restart: Option<String>,
    /// `service_fail_fast_enabled` (`yes`/`no`), when present.
    pub fail_fast: Option<String>,
    /// `service_halt_timeout` (seconds), when present.
    pub halt_timeout: Option<String>,
    /// Every other `service_*` key of the block, in order.
    pub other: Vec<(String, String)>,
}

impl ServiceBlock {
    /// The block's keys and values in the order written by
    /// [`crate::pkgconf::PackageConf::add_service`].
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut out = vec![
            ("service_name".to_string(), self.name.clone()),
            ("service_cmd".to_string(), self.cmd.clone()),
        ];
        if let Some(v) = &self.restart {
            out.push(("service_restart".into(), v.clone()));
        }
        if let Some(v) = &self.fail_fast {
            out.push(("service_fail_fast_enabled".into(), v.clone()));
        }
        if let Some(v) = &self.halt_timeout {
            out.push(("service_halt_timeout".into(), v.clone()));
        }
        out.extend(self.other.iter().cloned());
        out
    }
}

/// Check a service name against [`SERVICE_NAME_RULE`].
pub fn validate_service_name(name: &str) -> Result<(), String> {
    let b = name.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 39
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid service name {:?}: a service name is {SERVICE_NAME_RULE}",
            hascript_api::names::shorten(name)
        ))
    }
}

/// `service_restart` of a service: how often Serviceguard restarts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceRestart {
    /// `none`: never restarted; a failure fails the package.
    None,
    /// `unlimited`
    Unlimited,
    /// A number of restarts.
    Times(u32),
}

impl ServiceRestart {
    /// Read `none`, `unlimited` or a whole number.
    pub fn parse(s: &str) -> Option<ServiceRestart> {
        match s.trim() {
            "none" => Some(ServiceRestart::None),
            "unlimited" => Some(ServiceRestart::Unlimited),
            t if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) => {
                t.parse().ok().map(ServiceRestart::Times)
            }
            _ => None,
        }
    }
}

impl fmt::Display for ServiceRestart {
    /// `none`, `unlimited` or the number, as written in the package file.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceRestart::None => f.write_str("none"),
            ServiceRestart::Unlimited => f.write_str("unlimited"),
            ServiceRestart::Times(n) => write!(f, "{n}"),
        }
    }
}
