//! Commands sent to hosts and their output. Drivers build argv vectors; the transport turns
//! them into one POSIX-quoted command line with `LC_ALL=C` (see [`crate::program`]).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::program::command_line;
pub use crate::program::Program;

/// Whether a command only reads state or changes it. Dry-run, the journal and
/// confirmations hang on this flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    /// Reads state only; safe to send in a dry run.
    Read,
    /// Changes state on the host or the cluster.
    Change,
}

/// One command for one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Inventory name of the host that runs it.
    pub host: String,
    /// What to run.
    pub program: Program,
    /// Read or change.
    pub effect: Effect,
    /// Bytes fed to the command's standard input (secrets travel here, never in argv).
    pub stdin: Option<Vec<u8>>,
    /// Per-command timeout; the transport's default when `None`.
    pub timeout: Option<Duration>,
    /// Secret values this command carries (a store password a product takes only on its
    /// command line): [`Command::display`] and the errors built from it show `*****` in
    /// their place; the transport still sends the real argv.
    pub secrets: Vec<String>,
    /// The command's standard output holds secrets whose values the run may not know (a
    /// configuration file with passwords in clear, a private key store): journals and logs
    /// must not keep it.
    pub secret_output: bool,
}

impl Command {
    /// A read-only argv command.
    pub fn read<S: AsRef<str>>(host: &str, argv: &[S]) -> Self {
        Self::argv(host, argv, Effect::Read)
    }

    /// A state-changing argv command.
    pub fn change<S: AsRef<str>>(host: &str, argv: &[S]) -> Self {
        Self::argv(host, argv, Effect::Change)
    }

    /// An argv command with the given effect.
    pub fn argv<S: AsRef<str>>(host: &str, argv: &[S], effect: Effect) -> Self {
        Command {
            host: host.to_string(),
            program: Program::Argv(argv.iter().map(|s| s.as_ref().to_string()).collect()),
            effect,
            stdin: None,
            timeout: None,
            secrets: Vec::new(),
            secret_output: false,
        }
    }

    /// A raw shell command.
    pub fn shell(host: &str, text: &str, effect: Effect) -> Self {
        Command {
            host: host.to_string(),
            program: Program::Shell(text.to_string()),
            effect,
            stdin: None,
            timeout: None,
            secrets: Vec::new(),
            secret_output: false,
        }
    }

    /// Attach standard input.
    pub fn with_stdin(mut self, data: Vec<u8>) -> Self {
        self.stdin = Some(data);
        self
    }

    /// Attach a timeout.
    pub fn with_timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }

    /// Mark `value` as a secret this command carries: it is shown as `*****` by
    /// [`Command::display`] (and so in every error naming the command). An empty value is
    /// ignored.
    pub fn with_secret(mut self, value: impl Into<String>) -> Self {
        let v: String = value.into();
        if !v.is_empty() && !self.secrets.contains(&v) {
            self.secrets.push(v);
        }
        self
    }

    /// Mark the command's standard output as secret (see [`Command::secret_output`]).
    pub fn with_secret_output(mut self) -> Self {
        self.secret_output = true;
        self
    }

    /// `text` with every secret of this command replaced by `*****` (see [`redact`]).
    pub fn redact(&self, text: &str) -> String {
        redact(text, &self.secrets)
    }

    /// The exact line a transport sends to `sh` on the host (with `LC_ALL=C`).
    pub fn line(&self) -> String {
        command_line(&self.program)
    }

    /// A short human form for messages and the journal: the argv joined with quoting, or
    /// the shell text, without the locale prefix. An argv word that is one of the
    /// command's secrets is shown as `*****`; any other text has them replaced where they
    /// occur.
    pub fn display(&self) -> String {
        match &self.program {
            Program::Argv(a) => a
                .iter()
                .map(|s| {
                    if self.secrets.iter().any(|x| x == s) {
                        REDACTED.to_string()
                    } else {
                        crate::quote::shell_quote(&redact(s, &self.secrets))
                    }
                })
                .collect::<Vec<_>>()
                .join(" "),
            Program::Shell(t) => redact(t, &self.secrets),
        }
    }
}

/// What a secret value is shown as.
pub const REDACTED: &str = "*****";

/// `text` with every occurrence of each (non-empty) value of `secrets` replaced by
/// [`REDACTED`], longest values first (so a secret containing another is hidden whole).
pub fn redact<S: AsRef<str>>(text: &str, secrets: &[S]) -> String {
    let mut values: Vec<&str> = secrets
        .iter()
        .map(|s| s.as_ref())
        .filter(|s| !s.is_empty())
        .collect();
    if values.is_empty() {
        return text.to_string();
    }
    values.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_string();
    for v in values {
        if out.contains(v) {
            out = out.replace(v, REDACTED);
        }
    }
    out
}

/// `bytes` with every occurrence of each (non-empty) value of `secrets` replaced by
/// [`REDACTED`], longest values first, as [`redact`] does on text: for output that is not
/// UTF-8, before it is cut or encoded.
pub fn redact_bytes<S: AsRef<str>>(bytes: &[u8], secrets: &[S]) -> Vec<u8> {
    let mut values: Vec<&[u8]> = secrets
        .iter()
        .map(|s| s.as_ref().as_bytes())
        .filter(|s| !s.is_empty())
        .collect();
    values.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = bytes.to_vec();
    for v in values {
        // memchr's substring search: outputs may be megabytes.
        let finder = memchr::memmem::Finder::new(v);
        if finder.find(&out).is_none() {
            continue;
        }
        let mut next = Vec::with_capacity(out.len());
        let mut at = 0;
        for i in finder.find_iter(&out) {
            next.extend_from_slice(&out[at..i]);
            next.extend_from_slice(REDACTED.as_bytes());
            at = i + v.len();
        }
        next.extend_from_slice(&out[at..]);
        out = next;
    }
    out
}

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExitStatus {
    /// Exit code 0–255.
    Code(i32),
    /// Killed by a signal (its name without `SIG`, e.g. `KILL`; a number when it has none).
    Signal(String),
}

impl ExitStatus {
    /// The exit code; a killed command has none and reports -1 (see
    /// [`ExitStatus::signal`] for its signal).
    pub fn code(&self) -> i32 {
        match self {
            ExitStatus::Code(c) => *c,
            ExitStatus::Signal(_) => -1,
        }
    }

    /// The signal that killed the command, if one did.
    pub fn signal(&self) -> Option<&str> {
        match self {
            ExitStatus::Code(_) => None,
            ExitStatus::Signal(s) => Some(s),
        }
    }
}

impl std::fmt::Display for ExitStatus {
    /// `exit N`, or `signal KILL` for a killed command: how messages name the end.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExitStatus::Code(c) => write!(f, "exit {c}"),
            ExitStatus::Signal(s) => write!(f, "signal {s}"),
        }
    }
}

/// What came back from one command. `stdout`/`stderr` are text for parsers and people;
/// output that is not valid UTF-8 also keeps its exact bytes (`stdout_raw`/`stderr_raw`),
/// so nothing the host wrote is lost. Build it with [`Output::new`] (text) or
/// [`Output::from_bytes`] (what a transport read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Exit status.
    pub status: ExitStatus,
    /// Standard output as text: decoded as UTF-8, a byte that is not UTF-8 shown as U+FFFD.
    pub stdout: String,
    /// Standard error as text (as `stdout`).
    pub stderr: String,
    /// The exact bytes of standard output when they are not valid UTF-8 (`None`: `stdout`
    /// is exact). Read them with [`Output::stdout_bytes`].
    pub stdout_raw: Option<Vec<u8>>,
    /// The exact bytes of standard error when they are not valid UTF-8.
    pub stderr_raw: Option<Vec<u8>>,
}

/// `bytes` as text, plus the bytes themselves when they are not valid UTF-8.
fn text_and_raw(bytes: Vec<u8>) -> (String, Option<Vec<u8>>) {
    match String::from_utf8(bytes) {
        Ok(s) => (s, None),
        Err(e) => {
            let b = e.into_bytes();
            (String::from_utf8_lossy(&b).into_owned(), Some(b))
        }
    }
}

impl Output {
    /// An output with exit code `code` and text output.
    pub fn new(code: i32, stdout: impl Into<String>, stderr: impl Into<String>) -> Self {
        Output {
            status: ExitStatus::Code(code),
            stdout: stdout.into(),
            stderr: stderr.into(),
            stdout_raw: None,
            stderr_raw: None,
        }
    }

    /// An output from the bytes a command wrote: text where they are UTF-8, the exact
    /// bytes kept beside the text where they are not.
    pub fn from_bytes(status: ExitStatus, stdout: Vec<u8>, stderr: Vec<u8>) -> Self {
        let (stdout, stdout_raw) = text_and_raw(stdout);
        let (stderr, stderr_raw) = text_and_raw(stderr);
        Output {
            status,
            stdout,
            stderr,
            stdout_raw,
            stderr_raw,
        }
    }

    /// The exact bytes of standard output.
    pub fn stdout_bytes(&self) -> &[u8] {
        self.stdout_raw.as_deref().unwrap_or(self.stdout.as_bytes())
    }

    /// The exact bytes of standard error.
    pub fn stderr_bytes(&self) -> &[u8] {
        self.stderr_raw.as_deref().unwrap_or(self.stderr.as_bytes())
    }

    /// Whether the command exited 0.
    pub fn success(&self) -> bool {
        self.status == ExitStatus::Code(0)
    }

    /// The exit code (see [`ExitStatus::code`]).
    pub fn code(&self) -> i32 {
        self.status.code()
    }
}

/// A transport: runs one command on one host and returns its output. Errors are
/// transport failures (host unreachable, timeout); a command that ran and exited non-zero
/// is an `Ok(Output)`.
pub trait Exec: Send + Sync {
    /// Run `cmd` and wait for it to end.
    fn exec(&self, cmd: &Command) -> Result<Output, Error>;

    /// A procedure is about to change `hosts` (all the hosts its bracket involves, e.g. the
    /// source and target of a migration): a locking layer locks them all now, before the
    /// first change, instead of one by one at each host's first change. Transports do
    /// nothing.
    fn involve(&self, hosts: &[String]) -> Result<(), Error> {
        let _ = hosts;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_hides_secrets_but_the_line_keeps_them() {
        let c = Command::change(
            "node1",
            &[
                "/opt/java6/bin/keytool",
                "-list",
                "-storepass",
                "s3cr et",
                "-keystore",
                "/k/x.s3cr et",
            ],
        )
        .with_secret("s3cr et")
        .with_secret("");
        assert_eq!(
            c.display(),
            "/opt/java6/bin/keytool -list -storepass ***** -keystore '/k/x.*****'"
        );
        assert!(c.line().contains("'s3cr et'"), "{}", c.line());
        assert_eq!(c.redact("bad password s3cr et"), "bad password *****");
        let sh = Command::shell("h", "echo s3cr et", Effect::Change).with_secret("s3cr et");
        assert_eq!(sh.display(), "echo *****");
    }

    #[test]
    fn redact_prefers_the_longest_secret() {
        assert_eq!(redact("ab abc", &["ab", "abc"]), "***** *****");
        assert_eq!(redact("plain", &[] as &[&str]), "plain");
        assert_eq!(redact("x", &[""]), "x");
        assert_eq!(
            redact_bytes(b"\xffab abc\xfe", &["ab", "abc"]),
            b"\xff***** *****\xfe".to_vec()
        );
        assert_eq!(redact_bytes(b"a", &["abc"]), b"a".to_vec());
    }

    #[test]
    fn output_keeps_bytes_that_are_not_utf8() {
        let all: Vec<u8> = (0..=255u8).collect();
        let o = Output::from_bytes(ExitStatus::Code(0), all.clone(), b"ok".to_vec());
        assert_eq!(o.stdout_bytes(), &all[..]);
        assert_eq!(o.stdout.chars().filter(|c| *c == '\u{fffd}').count(), 128);
        assert_eq!((o.stderr.as_str(), o.stderr_raw.is_none()), ("ok", true));
        assert_eq!(Output::new(0, "x", "").stdout_bytes(), b"x");
        let k = ExitStatus::Signal("KILL".into());
        assert_eq!(
            (k.to_string(), k.signal(), k.code()),
            ("signal KILL".into(), Some("KILL"), -1)
        );
    }
}
