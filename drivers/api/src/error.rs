//! The one error type drivers return. Its kind decides the process exit code (design.md,
//! "Exit codes") and the `kind` field of the catchable map scripts see.

use std::fmt;

use serde::Serialize;

/// Result with the hascript [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, coarsely. Each kind maps to one exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// Bad parameters, unknown names, names breaking a naming rule: nothing was sent. Exit 2.
    Usage,
    /// A check failed (a precondition before any change, or a verification after one). Exit 3.
    Check,
    /// Recovery could not complete, or the state is outside what the manual covers. Exit 4.
    NeedsAttention,
    /// The operator declined, or a confirmation was needed with no terminal and no `--yes`. Exit 5.
    Declined,
    /// The operation failed, recovery ran and the cluster is back in a protected state. Exit 1.
    Failed,
    /// Interrupted: Ctrl-C (exit 130), SIGTERM (143) or SIGHUP (129); which one the run's
    /// [`crate::CancelToken`] records ([`ErrorKind::exit_code_by`]).
    Cancelled,
    /// A command ran and failed (non-zero exit or unexpected output).
    Command,
    /// A command's output could not be parsed.
    Parse,
    /// A wait or a command ran past its deadline.
    Timeout,
    /// The host could not be reached or the session broke.
    Transport,
    /// The driver does not offer this operation.
    Unsupported,
    /// The run's journal could not record a change before it was sent (its disk is full):
    /// the change was not sent, and nothing had changed in the run. Exit 3.
    NotRecorded,
}

impl ErrorKind {
    /// The name scripts see in `e.kind`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Usage => "usage",
            ErrorKind::Check => "check",
            ErrorKind::NeedsAttention => "needs_attention",
            ErrorKind::Declined => "declined",
            ErrorKind::Failed => "failed",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Command => "command",
            ErrorKind::Parse => "parse",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Transport => "transport",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::NotRecorded => "not_recorded",
        }
    }

    /// Parse a kind from its script name.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "usage" => ErrorKind::Usage,
            "check" => ErrorKind::Check,
            "needs_attention" => ErrorKind::NeedsAttention,
            "declined" => ErrorKind::Declined,
            "failed" => ErrorKind::Failed,
            "cancelled" => ErrorKind::Cancelled,
            "command" => ErrorKind::Command,
            "parse" => ErrorKind::Parse,
            "timeout" => ErrorKind::Timeout,
            "transport" => ErrorKind::Transport,
            "unsupported" => ErrorKind::Unsupported,
            "not_recorded" => ErrorKind::NotRecorded,
            _ => return None,
        })
    }

    /// The process exit code when an error of this kind ends a run. `changed` says whether
    /// a state-changing command had already been sent: an unexpected command, parse,
    /// timeout or transport failure before any change is a failed check (3), after one the
    /// state needs a person (4). `Cancelled` gives Ctrl-C's 130 here; a run that knows which
    /// signal stopped it uses [`ErrorKind::exit_code_by`].
    pub fn exit_code(self, changed: bool) -> i32 {
        self.exit_code_by(changed, None)
    }

    /// [`ErrorKind::exit_code`] of a run stopped by `signal` (what its cancel token
    /// recorded; `None`: Ctrl-C or a cancellation without a signal): `Cancelled` exits
    /// 128 + the signal's number, as a shell reports a process killed by it (SIGINT 130,
    /// SIGTERM 143, SIGHUP 129), so a supervisor sees the signal it sent.
    pub fn exit_code_by(self, changed: bool, signal: Option<Signal>) -> i32 {
        match self {
            ErrorKind::Usage => 2,
            ErrorKind::Check | ErrorKind::NotRecorded => 3,
            ErrorKind::NeedsAttention => 4,
            ErrorKind::Declined => 5,
            ErrorKind::Failed => 1,
            ErrorKind::Cancelled => 128 + signal.unwrap_or(Signal::Interrupt).number(),
            ErrorKind::Unsupported => 2,
            ErrorKind::Command | ErrorKind::Parse | ErrorKind::Timeout | ErrorKind::Transport => {
                if changed {
                    4
                } else {
                    3
                }
            }
        }
    }
}

/// The signals that stop a run the way Ctrl-C does: the first one stops the procedure and
/// runs its pending recovery routines, a second one (any of them) stops at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Signal {
    /// SIGINT: Ctrl-C on the terminal.
    Interrupt,
    /// SIGTERM: a supervisor's stop (systemd, `timeout`, `kill`).
    Terminate,
    /// SIGHUP: the terminal went away (a dropped SSH session, a closed window).
    Hangup,
}

impl Signal {
    /// The signal's number on Linux and the other Unixes hascript runs on.
    pub fn number(self) -> i32 {
        match self {
            Signal::Hangup => 1,
            Signal::Interrupt => 2,
            Signal::Terminate => 15,
        }
    }

    /// Its name as people know it: `SIGINT`, `SIGTERM`, `SIGHUP`.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
            Signal::Hangup => "SIGHUP",
        }
    }

    /// How the operator would say it: `Ctrl-C`, `SIGTERM`, `SIGHUP (the terminal went away)`.
    pub fn describe(self) -> &'static str {
        match self {
            Signal::Interrupt => "Ctrl-C",
            Signal::Terminate => "SIGTERM",
            Signal::Hangup => "SIGHUP (the terminal went away)",
        }
    }

    /// The signal with `number`, if it is one of these.
    pub fn from_number(number: i32) -> Option<Signal> {
        [Signal::Interrupt, Signal::Terminate, Signal::Hangup]
            .into_iter()
            .find(|s| s.number() == number)
    }
}

/// A driver error: its kind, a message for people, and where it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Error {
    /// Coarse kind (decides the exit code).
    pub kind: ErrorKind,
    /// What happened, in words.
    pub message: String,
    /// Inventory host the failing command ran on.
    pub host: Option<String>,
    /// The failing command, as displayed.
    pub command: Option<String>,
    /// Exit code of the failing command.
    pub exit: Option<i32>,
    /// The signal that killed the failing command (`KILL`), which then has no exit code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
    /// Standard error of the failing command (trimmed).
    pub stderr: Option<String>,
    /// What the operator should do (the manual's remedy where it gives one).
    pub remedy: Option<String>,
}

impl Error {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            host: None,
            command: None,
            exit: None,
            signal: None,
            stderr: None,
            remedy: None,
        }
    }

    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Usage, message)
    }

    /// A failed check (exit 3).
    pub fn check(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Check, message)
    }

    /// A state that needs a person (exit 4).
    pub fn needs_attention(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NeedsAttention, message)
    }

    /// Attach the host.
    pub fn on_host(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
        self
    }

    /// Attach the command.
    pub fn with_command(mut self, command: impl Into<String>) -> Self {
        self.command = Some(command.into());
        self
    }

    /// Attach an exit code.
    pub fn with_exit(mut self, exit: i32) -> Self {
        self.exit = Some(exit);
        self
    }

    /// Attach how the command ended: its exit code, or the signal that killed it.
    pub fn with_status(mut self, status: &crate::ExitStatus) -> Self {
        match status {
            crate::ExitStatus::Code(c) => self.exit = Some(*c),
            crate::ExitStatus::Signal(s) => self.signal = Some(s.clone()),
        }
        self
    }

    /// Attach standard error.
    pub fn with_stderr(mut self, stderr: impl Into<String>) -> Self {
        let s: String = stderr.into();
        self.stderr = Some(s.trim_end().to_string());
        self
    }

    /// Attach a remedy.
    pub fn with_remedy(mut self, remedy: impl Into<String>) -> Self {
        self.remedy = Some(remedy.into());
        self
    }

    /// The same error with another kind (used when a recovery decides the outcome).
    pub fn with_kind(mut self, kind: ErrorKind) -> Self {
        self.kind = kind;
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        if let Some(h) = &self.host {
            write!(f, " [host {h}]")?;
        }
        if let Some(c) = &self.command {
            write!(f, " [command: {c}]")?;
        }
        if let Some(x) = self.exit {
            write!(f, " [exit {x}]")?;
        }
        if let Some(s) = &self.signal {
            write!(f, " [signal {s}]")?;
        }
        if let Some(s) = &self.stderr {
            if !s.is_empty() {
                write!(f, ": {s}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_design_table() {
        assert_eq!(ErrorKind::Usage.exit_code(true), 2);
        assert_eq!(ErrorKind::Check.exit_code(true), 3);
        assert_eq!(ErrorKind::NeedsAttention.exit_code(false), 4);
        assert_eq!(ErrorKind::Declined.exit_code(false), 5);
        assert_eq!(ErrorKind::Failed.exit_code(true), 1);
        assert_eq!(ErrorKind::Cancelled.exit_code(true), 130);
        assert_eq!(ErrorKind::Cancelled.exit_code_by(true, None), 130);
        assert_eq!(
            ErrorKind::Cancelled.exit_code_by(false, Some(Signal::Interrupt)),
            130
        );
        assert_eq!(
            ErrorKind::Cancelled.exit_code_by(true, Some(Signal::Terminate)),
            143
        );
        assert_eq!(
            ErrorKind::Cancelled.exit_code_by(true, Some(Signal::Hangup)),
            129
        );
        // The signal only decides a cancelled run's code.
        assert_eq!(
            ErrorKind::Command.exit_code_by(true, Some(Signal::Terminate)),
            4
        );
        assert_eq!(ErrorKind::Command.exit_code(false), 3);
        assert_eq!(ErrorKind::Command.exit_code(true), 4);
        // A change the journal could not record was never sent, and nothing had changed.
        assert_eq!(ErrorKind::NotRecorded.exit_code(false), 3);
    }

    #[test]
    fn a_killed_command_names_its_signal() {
        let e = Error::new(ErrorKind::Command, "killed")
            .with_status(&crate::ExitStatus::Signal("KILL".into()));
        assert_eq!(
            (e.exit, e.to_string()),
            (None, "killed [signal KILL]".into())
        );
    }

    #[test]
    fn kind_names_round_trip() {
        for k in [
            ErrorKind::Usage,
            ErrorKind::Check,
            ErrorKind::NeedsAttention,
            ErrorKind::Declined,
            ErrorKind::Failed,
            ErrorKind::Cancelled,
            ErrorKind::Command,
            ErrorKind::Parse,
            ErrorKind::Timeout,
            ErrorKind::Transport,
            ErrorKind::Unsupported,
            ErrorKind::NotRecorded,
        ] {
            assert_eq!(ErrorKind::from_name(k.name()), Some(k));
        }
    }

    #[test]
    fn display_names_host_and_command() {
        let e = Error::new(ErrorKind::Command, "ldm failed")
            .on_host("cd1")
            .with_command("ldm list -p")
            .with_exit(1)
            .with_stderr("boom\n");
        assert_eq!(
            e.to_string(),
            "ldm failed [host cd1] [command: ldm list -p] [exit 1]: boom"
        );
    }
}
