//! Application-monitor specifications of the SG IVS toolkit (B4):
//! `appmon=<name>:<command>:<timeout>:<restart>:<halt_timeout>` as given to
//! `cmdeployvpkg -Q -x appmon=…`.
//!
//! The fields are those of the interactive transcript: the monitor's name; the run command on
//! the guest; the seconds before `cmappmgr` times out waiting for `cmappserver`; the restarts
//! (`none`, `unlimited` or a number); the seconds to wait before terminating the monitor. The
//! command may itself contain `:` (the manual's `/usr/bin/X11/xclock -display
//! 16.213.12.70:0.0`): the name is the first field, the last three fields are timeout, restart
//! and halt timeout, and the command is everything between.

use std::fmt;

use crate::pkgconf::{validate_service_name, ServiceBlock};

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

/// An application-monitor specification that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("appmon: {message}")]
pub struct AppMonError {
    /// The field at fault (`name`, `command`, `timeout`, `restart`, `halt_timeout`), or
    /// `spec` for the whole text.
    pub field: &'static str,
    /// What was wrong and what is expected.
    pub message: String,
}

impl AppMonError {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        AppMonError {
            field,
            message: message.into(),
        }
    }
}

/// One application monitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppMonitor {
    /// The monitor's name (`ping_mon`).
    pub name: String,
    /// The run command on the guest (`/apps/ping_mon`); may contain `:` and spaces.
    pub command: String,
    /// Seconds `cmappmgr` waits for `cmappserver` (`-cmappserver_timeout`).
    pub timeout: u32,
    /// `service_restart`.
    pub restart: ServiceRestart,
    /// `service_halt_timeout` in seconds.
    pub halt_timeout: u32,
}

fn seconds(field: &'static str, s: &str) -> Result<u32, AppMonError> {
    let t = s.trim();
    let n: Option<u32> = if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        t.parse().ok()
    } else {
        None
    };
    match n {
        Some(n) if n > 0 => Ok(n),
        Some(_) => Err(AppMonError::new(
            field,
            format!("field `{field}` must be a positive number of seconds, got `{t}`"),
        )),
        None => Err(AppMonError::new(
            field,
            format!("field `{field}` must be a whole number of seconds, got `{t}`"),
        )),
    }
}

impl AppMonitor {
    /// Read `<name>:<command>:<timeout>:<restart>:<halt_timeout>` (an optional leading
    /// `appmon=` is accepted).
    pub fn parse(spec: &str) -> Result<AppMonitor, AppMonError> {
        let spec = spec.trim();
        let spec = spec.strip_prefix("appmon=").unwrap_or(spec);
        let Some((name, rest)) = spec.split_once(':') else {
            return Err(AppMonError::new(
                "spec",
                format!(
                    "expected <name>:<command>:<timeout>:<restart>:<halt_timeout>, got `{}`",
                    hascript_api::names::shorten(spec)
                ),
            ));
        };
        let mut tail = rest.rsplitn(4, ':');
        let halt = tail.next();
        let restart = tail.next();
        let timeout = tail.next();
        let command = tail.next();
        let (Some(halt), Some(restart), Some(timeout), Some(command)) =
            (halt, restart, timeout, command)
        else {
            return Err(AppMonError::new(
                "spec",
                format!(
                    "expected 5 fields <name>:<command>:<timeout>:<restart>:<halt_timeout>, got `{}`",
                    hascript_api::names::shorten(spec)
                ),
            ));
        };
        let name = name.trim();
        validate_service_name(name)
            .map_err(|m| AppMonError::new("name", format!("field `name`: {m}")))?;
        let command = command.trim();
        if command.is_empty() {
            return Err(AppMonError::new(
                "command",
                "field `command` is empty: give the command line to run and monitor on the guest",
            ));
        }
        if command.contains(['"', '\n', '\r']) {
            return Err(AppMonError::new(
                "command",
                "field `command` must not contain a double quote or a line break (it becomes a quoted service_cmd value)",
            ));
        }
        let timeout = seconds("timeout", timeout)?;
        let restart = ServiceRestart::parse(restart).ok_or_else(|| {
            AppMonError::new(
                "restart",
                format!(
                    "field `restart` must be `none`, `unlimited` or a whole number, got `{}`",
                    restart.trim()
                ),
            )
        })?;
        let halt_timeout = seconds("halt_timeout", halt)?;
        Ok(AppMonitor {
            name: name.to_string(),
            command: command.to_string(),
            timeout,
            restart,
            halt_timeout,
        })
    }

    /// The specification text (`ping_mon:/apps/ping_mon:10:none:300`); parses back to `self`.
    pub fn to_spec(&self) -> String {
        format!(
            "{}:{}:{}:{}:{}",
            self.name, self.command, self.timeout, self.restart, self.halt_timeout
        )
    }

    /// The service name used for this monitor of `guest`: `<guest>-<name>` (the manual's
    /// `mmpf121-xclock`), or the name itself when it already starts with the guest's name.
    pub fn service_name(&self, guest: &str) -> String {
        if self.name.starts_with(guest) {
            self.name.clone()
        } else {
            format!("{guest}-{}", self.name)
        }
    }

    /// The manual's `service_cmd` value:
    /// `/usr/sbin/cmappmgr -node <guest> -cmappserver_timeout <timeout> -service <command>`.
    pub fn service_cmd(&self, guest: &str) -> String {
        format!(
            "/usr/sbin/cmappmgr -node {guest} -cmappserver_timeout {} -service {}",
            self.timeout, self.command
        )
    }

    /// The service block for the package file of `guest`: service_name, service_cmd,
    /// service_restart, `service_fail_fast_enabled no`, service_halt_timeout.
    pub fn service_block(&self, guest: &str) -> ServiceBlock {
        ServiceBlock {
            name: self.service_name(guest),
            cmd: self.service_cmd(guest),
            restart: Some(self.restart.to_string()),
            fail_fast: Some("no".to_string()),
            halt_timeout: Some(self.halt_timeout.to_string()),
            other: Vec::new(),
        }
    }
}

impl fmt::Display for AppMonitor {
    /// The specification text, as [`AppMonitor::to_spec`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_spec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_quiet_example() {
        let m =
            AppMonitor::parse("app_mon:/application/directory/app-mon-script:10:1:300").unwrap();
        assert_eq!(m.name, "app_mon");
        assert_eq!(m.command, "/application/directory/app-mon-script");
        assert_eq!(m.timeout, 10);
        assert_eq!(m.restart, ServiceRestart::Times(1));
        assert_eq!(m.halt_timeout, 300);
    }

    #[test]
    fn command_with_colons() {
        let m = AppMonitor::parse("xclock:/usr/bin/X11/xclock -display 16.213.12.70:0.0:240:3:300")
            .unwrap();
        assert_eq!(m.command, "/usr/bin/X11/xclock -display 16.213.12.70:0.0");
        assert_eq!(m.timeout, 240);
        assert_eq!(m.service_name("mmpf121"), "mmpf121-xclock");
        assert_eq!(
            m.service_cmd("mmpf121"),
            "/usr/sbin/cmappmgr -node mmpf121 -cmappserver_timeout 240 -service /usr/bin/X11/xclock -display 16.213.12.70:0.0"
        );
        assert_eq!(AppMonitor::parse(&m.to_spec()).unwrap(), m);
    }

    #[test]
    fn field_errors() {
        let e = AppMonitor::parse("a:/x:ten:1:300").unwrap_err();
        assert_eq!(e.field, "timeout");
        assert_eq!(
            e.to_string(),
            "appmon: field `timeout` must be a whole number of seconds, got `ten`"
        );
    }
}
