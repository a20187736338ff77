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

pub use crate::service::ServiceRestart;
use crate::service::{validate_service_name, ServiceBlock};

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

/// An application monitor of a package file: a `cmappmgr` service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorService {
    /// `service_name`.
    pub service: String,
    /// `-node`: the guest's node name.
    pub node: String,
    /// `-service`: the monitored command line in the guest.
    pub command: String,
}

/// The `cmappmgr` service behind `service_cmd`, when it is one.
pub fn monitor_of(service: &str, service_cmd: &str) -> Option<MonitorService> {
    let words: Vec<&str> = service_cmd.split_whitespace().collect();
    if !words.first().is_some_and(|w| w.ends_with("cmappmgr")) {
        return None;
    }
    let node = words
        .windows(2)
        .find(|w| w[0] == "-node")
        .map(|w| w[1].to_string())?;
    let at = service_cmd.find(" -service ")?;
    let command = service_cmd[at + " -service ".len()..].trim().to_string();
    (!command.is_empty()).then(|| MonitorService {
        service: service.to_string(),
        node,
        command,
    })
}

/// Why a new application monitor would duplicate a service of the package file: what
/// Serviceguard or `cmdeployvpkg` refuses, found before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MonitorClash {
    /// A service has the monitor's name in one of its two forms.
    #[error("the package already has a service {existing}: monitor {wanted} would be the same monitor ({} and {} name one monitor of guest {guest})", forms[0], forms[1])]
    Name {
        /// The service name the new monitor would be written with.
        wanted: String,
        /// The existing service.
        existing: String,
        /// The guest the monitor runs in.
        guest: String,
        /// Both forms of the name compared: the one written, then the other.
        forms: [String; 2],
    },
    /// A `cmappmgr` service already sends the same command to the guest.
    #[error("service {existing} of the package already sends `{command}` to guest {guest}: every service command sent to one guest must be unique (A.11.20, online migration)")]
    Command {
        /// The existing service.
        existing: String,
        /// The guest.
        guest: String,
        /// The monitored command line.
        command: String,
    },
}

impl MonitorClash {
    /// What the operator can do about it.
    pub fn remedy(&self) -> &'static str {
        match self {
            MonitorClash::Name { .. } => {
                "choose another monitor name, or remove the existing service first"
            }
            MonitorClash::Command { .. } => {
                "make the command differ (an extra argument or another path), or remove the existing service first"
            }
        }
    }
}

/// The two forms of a monitor's service name for `guest`, the written one first:
/// `cmdeployvpkg -x appmon` writes `<name>` (Appendix A's `ping_mon`), the manual's hand-made
/// block `<guest>-<name>` (`mmpf121-xclock`); both name the same monitor.
pub fn name_forms(guest: &str, written: &str) -> [String; 2] {
    match written
        .strip_prefix(guest)
        .and_then(|r| r.strip_prefix('-'))
    {
        Some(short) if !short.is_empty() => [written.to_string(), short.to_string()],
        _ => [written.to_string(), format!("{guest}-{written}")],
    }
}

/// Whether a monitor of `guest` written as service `written`, running `command` in the
/// guest, would duplicate one of `services`: a service with either form of its name
/// ([`name_forms`]), or a `cmappmgr` service sending the same command to the same guest.
pub fn monitor_clash(
    services: &[ServiceBlock],
    guest: &str,
    written: &str,
    command: &str,
) -> Option<MonitorClash> {
    let forms = name_forms(guest, written);
    if let Some(s) = services.iter().find(|s| forms.contains(&s.name)) {
        return Some(MonitorClash::Name {
            wanted: written.to_string(),
            existing: s.name.clone(),
            guest: guest.to_string(),
            forms,
        });
    }
    let command = command.trim();
    services.iter().find_map(|s| {
        monitor_of(&s.name, &s.cmd)
            .filter(|m| m.node == guest && m.command == command)
            .map(|m| MonitorClash::Command {
                existing: m.service,
                guest: guest.to_string(),
                command: command.to_string(),
            })
    })
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

    fn svc(name: &str, cmd: &str) -> ServiceBlock {
        ServiceBlock {
            name: name.into(),
            cmd: cmd.into(),
            ..ServiceBlock::default()
        }
    }

    #[test]
    fn a_monitor_name_is_compared_in_both_forms() {
        assert_eq!(name_forms("slvm1", "xclock"), ["xclock", "slvm1-xclock"]);
        assert_eq!(
            name_forms("slvm1", "slvm1-xclock"),
            ["slvm1-xclock", "xclock"]
        );
        assert_eq!(name_forms("slvm1", "slvm1"), ["slvm1", "slvm1-slvm1"]);
        assert_eq!(
            name_forms("slvm1", "slvm10-a"),
            ["slvm10-a", "slvm1-slvm10-a"]
        );
        let vm = svc("slvm1", "/etc/cmcluster/slvm1/hpvmsg_mon slvm1");
        let xclock = |name: &str| {
            svc(
                name,
                "/usr/sbin/cmappmgr -node slvm1 -cmappserver_timeout 240 -service /usr/bin/X11/xclock -display 16.213.12.70:0.0",
            )
        };
        // Written by cmdeployvpkg (`xclock`) or by hand (`slvm1-xclock`), met by either.
        for existing in ["xclock", "slvm1-xclock"] {
            for written in ["xclock", "slvm1-xclock"] {
                let c = monitor_clash(&[vm.clone(), xclock(existing)], "slvm1", written, "/other")
                    .unwrap_or_else(|| panic!("{existing} vs {written}: no clash"));
                assert!(
                    matches!(&c, MonitorClash::Name { existing: e, .. } if e == existing),
                    "{c:?}"
                );
            }
        }
        // The guest's own toolkit service is a name too.
        assert!(matches!(
            monitor_clash(std::slice::from_ref(&vm), "slvm1", "slvm1", "/x"),
            Some(MonitorClash::Name { .. })
        ));
        // The same guest command under another name (another timeout) is a clash; on
        // another guest it is not.
        let c = monitor_clash(
            &[vm.clone(), xclock("xclock")],
            "slvm1",
            "clock2",
            " /usr/bin/X11/xclock -display 16.213.12.70:0.0 ",
        );
        assert_eq!(
            c,
            Some(MonitorClash::Command {
                existing: "xclock".into(),
                guest: "slvm1".into(),
                command: "/usr/bin/X11/xclock -display 16.213.12.70:0.0".into(),
            })
        );
        assert_eq!(
            monitor_clash(
                &[vm.clone(), xclock("xclock")],
                "slvm2",
                "clock2",
                "/usr/bin/X11/xclock -display 16.213.12.70:0.0"
            ),
            None
        );
        assert_eq!(
            monitor_clash(
                &[vm, xclock("xclock")],
                "slvm1",
                "clock2",
                "/usr/bin/X11/xclock"
            ),
            None
        );
        let msg = MonitorClash::Name {
            wanted: "xclock".into(),
            existing: "slvm1-xclock".into(),
            guest: "slvm1".into(),
            forms: name_forms("slvm1", "xclock"),
        }
        .to_string();
        assert_eq!(msg, "the package already has a service slvm1-xclock: monitor xclock would be the same monitor (xclock and slvm1-xclock name one monitor of guest slvm1)");
    }
}
