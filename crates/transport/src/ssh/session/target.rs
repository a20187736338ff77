//! What one host resolves to: everything needed to reach it, and the local defaults
//! (home folder, user) it is resolved against.

use std::path::PathBuf;
use std::time::Duration;

use hascript_api::{Error, ErrorKind};

use crate::ssh::options::Become;
use crate::ssh::secret::Secret;

/// Everything needed to reach one host, resolved from the inventory and `~/.ssh/config`.
#[derive(Debug, Clone)]
pub struct Target {
    /// Inventory name.
    pub name: String,
    /// Where to connect (ssh config `HostName`, else the inventory address, else the name).
    pub connect_host: String,
    /// TCP port.
    pub port: u16,
    /// Login user.
    pub user: String,
    /// Names the host key is recorded under (`HostKeyAlias` alone on any port, as OpenSSH
    /// does; else `connect_host`, in the `[host]:port` form for a port other than 22).
    pub known_names: Vec<String>,
    /// known_hosts files read.
    pub known_files: Vec<PathBuf>,
    /// Where an accepted new key is appended.
    pub accept_file: PathBuf,
    /// Key files tried after the agent.
    pub identity_files: Vec<PathBuf>,
    /// Whether to ask ssh-agent.
    pub use_agent: bool,
    /// TCP connect, key exchange and each authentication step; also how long a server that
    /// drops connections before its banner (sshd's MaxStartups) is tried again.
    pub connect_timeout: Duration,
    /// Most handshakes in flight at once to this host's server address and port
    /// (`handshakes_per_server`), shared by every host on that address and port.
    pub handshakes_per_server: usize,
    /// Commands that do not set their own timeout.
    pub command_timeout: Duration,
    /// SHA-1 algorithms allowed.
    pub legacy: bool,
    /// Privilege escalation.
    pub become_: Option<Become>,
    /// Password authentication allowed with this password.
    pub password: Option<Secret>,
    /// Passphrase of encrypted key files.
    pub key_passphrase: Option<Secret>,
    /// sudo's password.
    pub become_password: Option<Secret>,
    /// Most bytes of output (stdout + stderr) one command may return.
    pub output_limit: usize,
    /// Where the inventory setting for a remedy lives (`[[host]] name = "cd1"`).
    pub inventory_hint: String,
    /// The jump host this host is reached through (`ProxyJump`, `proxy_jump`), itself
    /// possibly behind another one; `None`: a direct TCP connection.
    pub jump: Option<Box<Target>>,
}

impl Target {
    /// The values of the inventory secrets this host was given (`password`,
    /// `key_passphrase`, `become_password`), for the run's redactor: whatever a host echoes
    /// back, the journal and the console show them as `*****`. Never print the result.
    pub fn secret_values(&self) -> Vec<String> {
        [&self.password, &self.key_passphrase, &self.become_password]
            .into_iter()
            .flatten()
            .map(|s| s.expose().to_string())
            .collect()
    }

    /// `user@host port N` for messages (`… through jump host J` behind one).
    pub fn endpoint(&self) -> String {
        match &self.jump {
            Some(j) => format!(
                "{}@{} port {} through jump host {}",
                self.user, self.connect_host, self.port, j.name
            ),
            None => format!("{}@{} port {}", self.user, self.connect_host, self.port),
        }
    }

    pub(in crate::ssh) fn err(&self, kind: ErrorKind, msg: String) -> Error {
        Error::new(kind, format!("{}: {msg}", self.name)).on_host(&self.name)
    }
}

/// Home folder of the user running hascript (`$HOME`, else the password database).
pub fn home_dir() -> PathBuf {
    if let Some(h) = std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(h);
    }
    PathBuf::from("/")
}

/// The local user name (`$USER`, `$LOGNAME`, else `root` for uid 0).
pub fn local_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| {
            // SAFETY: geteuid(2) has no preconditions.
            if unsafe { libc::geteuid() } == 0 {
                "root".into()
            } else {
                "nobody".into()
            }
        })
}
