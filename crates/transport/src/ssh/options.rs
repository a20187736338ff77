//! The inventory's SSH keys of one host (`[defaults]` merged with its `[[host]]` table),
//! validated into [`SshOptions`].

use std::path::PathBuf;
use std::time::Duration;

use toml::Spanned;

use super::jump::{parse_hops, Hop, JUMP_RULE};
use super::secret::{SecretRef, SECRET_RULE};

/// Privilege escalation for every command of a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Become {
    /// `sudo` (password, if any, from `become_password`, sent on standard input).
    Sudo,
    /// Solaris `pfexec` (rights profiles; no password).
    Pfexec,
}

/// A host's SSH settings from the inventory. Anything not set here comes from
/// `~/.ssh/config`, then from OpenSSH's defaults.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SshOptions {
    /// `port`.
    pub port: Option<u16>,
    /// `identity_file`: a private key tried before the ssh config's and the default ones.
    pub identity_file: Option<PathBuf>,
    /// `known_hosts`: a file checked with `~/.ssh/known_hosts`; new keys accepted with
    /// `--accept-new-host-keys` are appended here when it is set.
    pub known_hosts: Option<PathBuf>,
    /// `password`: allows password authentication, with this secret.
    pub password: Option<SecretRef>,
    /// `key_passphrase`: the passphrase of encrypted key files.
    pub key_passphrase: Option<SecretRef>,
    /// `become`.
    pub become_: Option<Become>,
    /// `become_password` (sudo only).
    pub become_password: Option<SecretRef>,
    /// `legacy_algorithms = true`: allow ssh-rsa (SHA-1) host keys and signatures and
    /// diffie-hellman-group14-sha1 / group-exchange-sha1 for this host.
    pub legacy_algorithms: bool,
    /// `connect_timeout` (seconds): TCP connection, key exchange and each authentication
    /// step.
    pub connect_timeout: Option<Duration>,
    /// `command_timeout` (seconds): a command that does not say its own.
    pub command_timeout: Option<Duration>,
    /// `handshakes_per_server`: most connections being set up (TCP to the end of
    /// authentication) at once to this host's server address and port; default
    /// [`super::throttle::DEFAULT_HANDSHAKES_PER_SERVER`].
    pub handshakes_per_server: Option<usize>,
    /// `proxy_jump`: the jump hosts to go through, first reached first (`Some(empty)`:
    /// `"none"`, which also disables a `ProxyJump` of `~/.ssh/config`).
    pub proxy_jump: Option<Vec<Hop>>,
}

/// The raw SSH keys of one host, each from its `[[host]]` table or else `[defaults]`.
#[derive(Debug, Default, Clone, Copy)]
pub struct RawKeys<'a> {
    /// `port`
    pub port: Option<&'a Spanned<i64>>,
    /// `identity_file`
    pub identity_file: Option<&'a Spanned<String>>,
    /// `known_hosts`
    pub known_hosts: Option<&'a Spanned<String>>,
    /// `password`
    pub password: Option<&'a Spanned<String>>,
    /// `key_passphrase`
    pub key_passphrase: Option<&'a Spanned<String>>,
    /// `become`
    pub become_: Option<&'a Spanned<String>>,
    /// `become_password`
    pub become_password: Option<&'a Spanned<String>>,
    /// `legacy_algorithms`
    pub legacy_algorithms: Option<&'a Spanned<bool>>,
    /// `connect_timeout`
    pub connect_timeout: Option<&'a Spanned<i64>>,
    /// `command_timeout`
    pub command_timeout: Option<&'a Spanned<i64>>,
    /// `handshakes_per_server`
    pub handshakes_per_server: Option<&'a Spanned<i64>>,
    /// `proxy_jump`
    pub proxy_jump: Option<&'a Spanned<String>>,
}

/// A refused key: byte offset in the inventory, the key, what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError {
    /// Byte offset of the value.
    pub offset: usize,
    /// The key.
    pub key: &'static str,
    /// What is wrong and what to do.
    pub message: String,
}

impl RawKeys<'_> {
    /// The first key that is set (offset, name), for refusing SSH keys on hosts that are
    /// not reached over SSH.
    pub fn first_set(&self) -> Option<(usize, &'static str)> {
        let s = |v: Option<usize>, k: &'static str| v.map(|o| (o, k));
        s(self.port.map(|v| v.span().start), "port")
            .or(s(
                self.identity_file.map(|v| v.span().start),
                "identity_file",
            ))
            .or(s(self.known_hosts.map(|v| v.span().start), "known_hosts"))
            .or(s(self.password.map(|v| v.span().start), "password"))
            .or(s(
                self.key_passphrase.map(|v| v.span().start),
                "key_passphrase",
            ))
            .or(s(self.become_.map(|v| v.span().start), "become"))
            .or(s(
                self.become_password.map(|v| v.span().start),
                "become_password",
            ))
            .or(s(
                self.legacy_algorithms.map(|v| v.span().start),
                "legacy_algorithms",
            ))
            .or(s(
                self.connect_timeout.map(|v| v.span().start),
                "connect_timeout",
            ))
            .or(s(
                self.command_timeout.map(|v| v.span().start),
                "command_timeout",
            ))
            .or(s(
                self.handshakes_per_server.map(|v| v.span().start),
                "handshakes_per_server",
            ))
            .or(s(self.proxy_jump.map(|v| v.span().start), "proxy_jump"))
    }

    /// Validate into options.
    pub fn validate(&self) -> Result<SshOptions, KeyError> {
        let err = |offset: usize, key: &'static str, message: String| KeyError {
            offset,
            key,
            message,
        };
        let secret = |v: Option<&Spanned<String>>, key: &'static str| match v {
            Some(v) => SecretRef::parse(v.get_ref())
                .map(Some)
                .map_err(|m| err(v.span().start, key, m)),
            None => Ok(None),
        };
        let secs = |v: Option<&Spanned<i64>>, key: &'static str| match v {
            Some(v) if *v.get_ref() <= 0 || *v.get_ref() > 86_400 => Err(err(
                v.span().start,
                key,
                format!("{key} is a number of seconds from 1 to 86400"),
            )),
            Some(v) => Ok(Some(Duration::from_secs(*v.get_ref() as u64))),
            None => Ok(None),
        };
        let path = |v: Option<&Spanned<String>>, key: &'static str| match v {
            Some(v) if v.get_ref().trim().is_empty() => {
                Err(err(v.span().start, key, format!("{key} must be a path")))
            }
            Some(v) => Ok(Some(PathBuf::from(v.get_ref()))),
            None => Ok(None),
        };
        let port = match self.port {
            Some(p) => match u16::try_from(*p.get_ref()) {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    return Err(err(
                        p.span().start,
                        "port",
                        "port must be a TCP port number from 1 to 65535".into(),
                    ))
                }
            },
            None => None,
        };
        let become_ = match self.become_ {
            Some(b) => match b.get_ref().as_str() {
                "sudo" => Some(Become::Sudo),
                "pfexec" => Some(Become::Pfexec),
                other => {
                    return Err(err(
                        b.span().start,
                        "become",
                        format!(
                            "unknown become {}; use become = \"sudo\" or become = \"pfexec\"",
                            hascript_api::text::quoted(other)
                        ),
                    ))
                }
            },
            None => None,
        };
        let handshakes_per_server = match self.handshakes_per_server {
            Some(v) => match usize::try_from(*v.get_ref()) {
                Ok(n) if (1..=100).contains(&n) => Some(n),
                _ => {
                    return Err(err(
                        v.span().start,
                        "handshakes_per_server",
                        "handshakes_per_server is a number from 1 to 100 (keep it under the \
                         servers' sshd MaxStartups, default 10)"
                            .into(),
                    ))
                }
            },
            None => None,
        };
        let proxy_jump = match self.proxy_jump {
            Some(v) => Some(parse_hops(v.get_ref()).map_err(|m| {
                err(
                    v.span().start,
                    "proxy_jump",
                    format!("{m}; proxy_jump is {JUMP_RULE}"),
                )
            })?),
            None => None,
        };
        let become_password = secret(self.become_password, "become_password")?;
        if let (Some(v), false) = (self.become_password, become_ == Some(Become::Sudo)) {
            return Err(err(
                v.span().start,
                "become_password",
                "become_password only goes with become = \"sudo\"".into(),
            ));
        }
        Ok(SshOptions {
            port,
            identity_file: path(self.identity_file, "identity_file")?,
            known_hosts: path(self.known_hosts, "known_hosts")?,
            password: secret(self.password, "password")?,
            key_passphrase: secret(self.key_passphrase, "key_passphrase")?,
            become_,
            become_password,
            legacy_algorithms: self.legacy_algorithms.is_some_and(|v| *v.get_ref()),
            connect_timeout: secs(self.connect_timeout, "connect_timeout")?,
            command_timeout: secs(self.command_timeout, "command_timeout")?,
            handshakes_per_server,
            proxy_jump,
        })
    }
}

/// The secret rule, for the book and messages.
pub fn secret_rule() -> &'static str {
    SECRET_RULE
}
