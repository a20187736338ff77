//! `transport = "ssh"`: commands run on real hosts over SSH (libssh2 through the `ssh2`
//! crate).
//!
//! One [`SshHost`] per inventory host owns at most one session, opened on first use and
//! reused; its mutex makes commands on one host strictly sequential (never two channels at
//! once on one session), while different hosts run in parallel (see
//! [`hascript_api::fan_out`]). Every libssh2 call is blocking-with-timeout or
//! non-blocking with `poll(2)`, on the calling thread.
//!
//! Invariants:
//! - no command is sent before the host key was verified against the known_hosts files;
//! - a secret is never printed, logged or put in an error;
//! - a broken session is dropped; the next command opens a new one (once).

pub mod config;
pub mod jump;
pub mod known_hosts;
pub mod options;
pub mod secret;
pub mod throttle;

mod auth;
mod session;

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use hascript_api::{CancelToken, Command, Error, ErrorKind, Exec, Output};

pub use options::{Become, SshOptions};
pub use session::{Target, SUDO_PROMPT};

use session::{Conn, RunFail};

/// One host to reach over SSH, as the caller gives it (the inventory converts its
/// `[[host]]` tables into these): its name, where and as whom to log in, its SSH options.
/// What is not set here comes from `~/.ssh/config`, then from OpenSSH's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostSpec {
    /// The host's name (the inventory's; `Host` patterns of `~/.ssh/config` match it).
    pub name: String,
    /// Login user.
    pub user: Option<String>,
    /// Network address to connect to (else `HostName` of `~/.ssh/config`, else the name).
    pub address: Option<String>,
    /// Port, keys, secrets, become, jump hosts, timeouts.
    pub options: SshOptions,
}

/// Default timeout of a command that sets none (as for the local transport).
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(600);
/// Default bound on connecting, the key exchange and each authentication step.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default output limit of one command (stdout + stderr).
pub const DEFAULT_OUTPUT_LIMIT: usize = 16 * 1024 * 1024;

/// Run-wide SSH settings (from the command line).
#[derive(Debug, Clone)]
pub struct SshSettings {
    /// `--accept-new-host-keys`: record keys of hosts that have none recorded (never
    /// replaces a known key).
    pub accept_new_host_keys: bool,
    /// Output limit per command.
    pub output_limit: usize,
    /// The home folder whose `.ssh` is read (default `$HOME`).
    pub home: Option<PathBuf>,
}

impl Default for SshSettings {
    fn default() -> Self {
        SshSettings {
            accept_new_host_keys: false,
            output_limit: DEFAULT_OUTPUT_LIMIT,
            home: None,
        }
    }
}

/// One host reached over SSH.
pub struct SshHost {
    target: Target,
    accept_new: bool,
    cancel: CancelToken,
    conn: Mutex<Option<Conn>>,
}

impl std::fmt::Debug for SshHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshHost")
            .field("name", &self.target.name)
            .field("endpoint", &self.target.endpoint())
            .finish()
    }
}

fn usage(host: &str, msg: String) -> Error {
    Error::usage(format!("host {host:?}: {msg}")).on_host(host)
}

/// Resolve one inventory host into a [`Target`]: the inventory first, then
/// `~/.ssh/config`, then OpenSSH's defaults. Secrets are read here, so a missing one stops
/// the run before anything is sent.
pub fn resolve(h: &HostSpec, settings: &SshSettings) -> Result<Target, Error> {
    let home = settings.home.clone().unwrap_or_else(session::home_dir);
    let ssh_dir = home.join(".ssh");
    let cfg = config::load(&ssh_dir.join("config"), &ssh_dir);
    let me = session::local_user();
    let c = cfg.resolve(&h.name, &home, &me, h.user.as_deref());
    if let Some(p) = &c.problems.first() {
        return Err(usage(&h.name, format!("~/.ssh/config: {p}")));
    }
    let o = &h.options;
    // The inventory's proxy_jump first (`none` included), then the config's ProxyJump.
    let hops = match (&o.proxy_jump, &c.proxy) {
        (Some(hops), _) => hops.clone(),
        (None, None) => Vec::new(),
        (None, Some(p)) => config_hops(p).map_err(|m| usage(&h.name, m))?,
    };
    let connect_host = c
        .hostname
        .clone()
        .or_else(|| h.address.clone())
        .unwrap_or_else(|| h.name.clone());
    let port = o.port.or(c.port).unwrap_or(22);
    let user = h
        .user
        .clone()
        .or(c.user.clone())
        .unwrap_or_else(|| me.clone());
    let known_names = vec![known_hosts::host_key_name(
        c.host_key_alias.as_deref(),
        &connect_host,
        port,
    )];
    let mut known_files = if c.user_known_hosts.is_empty() {
        vec![ssh_dir.join("known_hosts")]
    } else {
        c.user_known_hosts.clone()
    };
    known_files.push(PathBuf::from("/etc/ssh/ssh_known_hosts"));
    let expand = |p: &PathBuf| match p.strip_prefix("~") {
        Ok(rest) => home.join(rest),
        Err(_) => p.clone(),
    };
    if let Some(k) = &o.known_hosts {
        known_files.insert(0, expand(k));
    }
    let accept_file = match &o.known_hosts {
        Some(k) => expand(k),
        None => known_files[0].clone(),
    };
    let mut identity_files: Vec<PathBuf> = Vec::new();
    if let Some(i) = &o.identity_file {
        identity_files.push(expand(i));
    }
    identity_files.extend(c.identity_files.iter().cloned());
    if identity_files.is_empty() {
        identity_files = session::default_identities(&home);
    }
    let read =
        |r: &Option<secret::SecretRef>, key: &str| -> Result<Option<secret::Secret>, Error> {
            match r {
                Some(r) => r
                    .read(&home)
                    .map(Some)
                    .map_err(|m| usage(&h.name, format!("{key}: {m}"))),
                None => Ok(None),
            }
        };
    let key_passphrase = read(&o.key_passphrase, "key_passphrase")?;
    let mut jump = None;
    if !hops.is_empty() {
        let ctx = JumpCtx {
            host: h,
            cfg: &cfg,
            home: &home,
            ssh_dir: &ssh_dir,
            me: &me,
            settings,
            key_passphrase: &key_passphrase,
        };
        jump = Some(Box::new(ctx.chain(&hops, 0)?));
    }
    Ok(Target {
        name: h.name.clone(),
        connect_host,
        port,
        user,
        known_names,
        known_files,
        accept_file,
        identity_files,
        use_agent: !c.no_agent && !c.identities_only,
        connect_timeout: o
            .connect_timeout
            .or(c.connect_timeout.map(Duration::from_secs))
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT),
        command_timeout: o.command_timeout.unwrap_or(DEFAULT_COMMAND_TIMEOUT),
        handshakes_per_server: o
            .handshakes_per_server
            .unwrap_or(throttle::DEFAULT_HANDSHAKES_PER_SERVER),
        legacy: o.legacy_algorithms,
        become_: o.become_,
        password: read(&o.password, "password")?,
        key_passphrase,
        become_password: read(&o.become_password, "become_password")?,
        output_limit: settings.output_limit,
        inventory_hint: format!("the [[host]] with name = {:?}", h.name),
        jump,
    })
}

/// The hops of a `ProxyJump` line of `~/.ssh/config`; `ProxyCommand` is refused.
fn config_hops(p: &config::ProxySetting) -> Result<Vec<jump::Hop>, String> {
    if p.keyword != "ProxyJump" {
        return Err(format!(
            "~/.ssh/config: {} {} ({}) is not supported by hascript's SSH transport (it does not \
             run programs to connect); use ProxyJump, or the inventory's proxy_jump, for a jump \
             host",
            p.keyword, p.value, p.at
        ));
    }
    jump::parse_hops(&p.value).map_err(|m| {
        format!(
            "~/.ssh/config: ProxyJump {} ({}): {m}; ProxyJump is {}",
            p.value,
            p.at,
            jump::JUMP_RULE
        )
    })
}

/// What resolving jump hosts needs: the host behind them and where settings come from.
struct JumpCtx<'a> {
    host: &'a HostSpec,
    cfg: &'a config::SshConfig,
    home: &'a std::path::Path,
    ssh_dir: &'a std::path::Path,
    me: &'a str,
    settings: &'a SshSettings,
    key_passphrase: &'a Option<secret::Secret>,
}

/// Longest chain of jump hosts (a `ProxyJump` loop in `~/.ssh/config` stops here).
const MAX_HOPS: usize = 8;

impl JumpCtx<'_> {
    /// The last of `hops` as a [`Target`], reached through the ones before it; the first
    /// one through its own `ProxyJump` of `~/.ssh/config`, as OpenSSH does.
    fn chain(&self, hops: &[jump::Hop], depth: usize) -> Result<Target, Error> {
        let name = &self.host.name;
        let Some((last, before)) = hops.split_last() else {
            return Err(usage(name, "an empty jump host chain".into()));
        };
        if depth + hops.len() > MAX_HOPS {
            return Err(usage(
                name,
                format!(
                    "more than {MAX_HOPS} jump hosts in a row (is there a ProxyJump loop in \
                     ~/.ssh/config?)"
                ),
            ));
        }
        let c = self
            .cfg
            .resolve(&last.host, self.home, self.me, last.user.as_deref());
        if let Some(p) = c.problems.first() {
            return Err(usage(
                name,
                format!("~/.ssh/config, for the jump host {}: {p}", last.host),
            ));
        }
        let upstream = if !before.is_empty() {
            Some(Box::new(self.chain(before, depth + 1)?))
        } else {
            match &c.proxy {
                None => None,
                Some(p) => {
                    let own = config_hops(p).map_err(|m| {
                        usage(name, format!("for the jump host {}: {m}", last.host))
                    })?;
                    if own.is_empty() {
                        None
                    } else {
                        Some(Box::new(self.chain(&own, depth + 1)?))
                    }
                }
            }
        };
        let o = &self.host.options;
        let connect_host = c.hostname.clone().unwrap_or_else(|| last.host.clone());
        let port = last.port.or(c.port).unwrap_or(22);
        let expand = |p: &PathBuf| match p.strip_prefix("~") {
            Ok(rest) => self.home.join(rest),
            Err(_) => p.clone(),
        };
        let mut known_files = if c.user_known_hosts.is_empty() {
            vec![self.ssh_dir.join("known_hosts")]
        } else {
            c.user_known_hosts.clone()
        };
        known_files.push(PathBuf::from("/etc/ssh/ssh_known_hosts"));
        if let Some(k) = &o.known_hosts {
            known_files.insert(0, expand(k));
        }
        let accept_file = known_files[0].clone();
        let mut identity_files: Vec<PathBuf> = c.identity_files.clone();
        if let Some(i) = &o.identity_file {
            identity_files.push(expand(i));
        }
        if c.identity_files.is_empty() {
            identity_files.extend(session::default_identities(self.home));
        }
        Ok(Target {
            name: last.host.clone(),
            known_names: vec![known_hosts::host_key_name(
                c.host_key_alias.as_deref(),
                &connect_host,
                port,
            )],
            connect_host,
            port,
            user: last
                .user
                .clone()
                .or(c.user.clone())
                .unwrap_or_else(|| self.me.to_string()),
            known_files,
            accept_file,
            identity_files,
            use_agent: !c.no_agent && !c.identities_only,
            connect_timeout: c
                .connect_timeout
                .map(Duration::from_secs)
                .or(o.connect_timeout)
                .unwrap_or(DEFAULT_CONNECT_TIMEOUT),
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
            handshakes_per_server: o
                .handshakes_per_server
                .unwrap_or(throttle::DEFAULT_HANDSHAKES_PER_SERVER),
            legacy: false,
            become_: None,
            password: None,
            key_passphrase: self.key_passphrase.clone(),
            become_password: None,
            output_limit: self.settings.output_limit,
            inventory_hint: format!(
                "the proxy_jump of the [[host]] with name = {:?}, or ~/.ssh/config's Host {}",
                name, last.host
            ),
            jump: upstream,
        })
    }
}

impl SshHost {
    /// The transport of one inventory host.
    pub fn new(h: &HostSpec, settings: &SshSettings, cancel: CancelToken) -> Result<Self, Error> {
        Ok(SshHost {
            target: resolve(h, settings)?,
            accept_new: settings.accept_new_host_keys,
            cancel,
            conn: Mutex::new(None),
        })
    }

    /// What this host resolved to.
    pub fn target(&self) -> &Target {
        &self.target
    }
}

impl Exec for SshHost {
    fn exec(&self, cmd: &Command) -> Result<Output, Error> {
        self.cancel.check()?;
        let t = &self.target;
        let mut guard = match self.conn.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let shown = cmd.display();
        let mut fresh = false;
        if guard.is_none() {
            *guard = Some(
                session::connect(t, self.accept_new, &self.cancel)
                    .map_err(|e| e.with_command(&shown))?,
            );
            fresh = true;
        }
        let Some(conn) = guard.as_mut() else {
            return Err(Error::new(ErrorKind::Transport, "no session").on_host(&t.name));
        };
        match conn.run(t, cmd, &self.cancel) {
            Ok(o) => Ok(o),
            Err(RunFail::NotSent(_)) if !fresh => {
                // The idle session died (nothing was sent): open a new one, once.
                *guard = None;
                let mut c = session::connect(t, self.accept_new, &self.cancel)
                    .map_err(|e| e.with_command(&shown))?;
                match c.run(t, cmd, &self.cancel) {
                    Ok(o) => {
                        *guard = Some(c);
                        Ok(o)
                    }
                    Err(RunFail::Failed(e)) => {
                        *guard = Some(c);
                        Err(e)
                    }
                    Err(RunFail::NotSent(e)) | Err(RunFail::Broken(e)) => Err(e),
                }
            }
            Err(RunFail::NotSent(e)) | Err(RunFail::Broken(e)) => {
                *guard = None;
                Err(e)
            }
            Err(RunFail::Failed(e)) => Err(e),
        }
    }
}
