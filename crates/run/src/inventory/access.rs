//! How each host is reached: its transport, SSH keys and lock folder.

use std::path::PathBuf;

use toml::Spanned;

use super::context::Ctx;
use super::model::{InventoryError, TransportKind};
use super::schema::{RawDefaults, RawHost};
use hascript_api::text::quoted;

pub(super) fn transport_of(
    ctx: &Ctx,
    v: &Spanned<String>,
    allow_sim: bool,
) -> Result<TransportKind, InventoryError> {
    match v.get_ref().as_str() {
        "local" => Ok(TransportKind::Local),
        "sim" if allow_sim => Ok(TransportKind::Sim),
        "sim" => Err(ctx.err(
            Some(v.span().start),
            Some("transport"),
            "transport = \"sim\" is served only by a simulated site (--sim), not in an \
             inventory given with -i; use transport = \"local\", or run on the simulator with --sim",
        )),
        "ssh" => Ok(TransportKind::Ssh),
        other => Err(ctx.err(
            Some(v.span().start),
            Some("transport"),
            format!(
                "unknown transport {}; use \"ssh\", \"local\"{}",
                quoted(other),
                if allow_sim { " or \"sim\"" } else { "" }
            ),
        )),
    }
}

/// The SSH keys of host `h` (each from its table, else `[defaults]`), validated; on a host
/// not reached over SSH, keys of its own table are refused.
pub(super) fn ssh_options(
    ctx: &Ctx,
    h: &RawHost,
    d: &RawDefaults,
    name: &str,
    transport: TransportKind,
) -> Result<crate::transport::ssh::SshOptions, InventoryError> {
    use crate::transport::ssh::options::RawKeys;
    let own = RawKeys {
        port: h.port.as_ref(),
        identity_file: h.identity_file.as_ref(),
        known_hosts: h.known_hosts.as_ref(),
        password: h.password.as_ref(),
        key_passphrase: h.key_passphrase.as_ref(),
        become_: h.become_.as_ref(),
        become_password: h.become_password.as_ref(),
        legacy_algorithms: h.legacy_algorithms.as_ref(),
        connect_timeout: h.connect_timeout.as_ref(),
        command_timeout: h.command_timeout.as_ref(),
        handshakes_per_server: h.handshakes_per_server.as_ref(),
        proxy_jump: h.proxy_jump.as_ref(),
    };
    if transport != TransportKind::Ssh {
        if let Some((at, key)) = own.first_set() {
            return Err(ctx.err(
                Some(at),
                Some(key),
                format!("host {name:?}: `{key}` only applies to transport = \"ssh\"; remove it or set transport = \"ssh\""),
            ));
        }
        return Ok(Default::default());
    }
    let keys = RawKeys {
        port: own.port.or(d.port.as_ref()),
        identity_file: own.identity_file.or(d.identity_file.as_ref()),
        known_hosts: own.known_hosts.or(d.known_hosts.as_ref()),
        password: own.password.or(d.password.as_ref()),
        key_passphrase: own.key_passphrase.or(d.key_passphrase.as_ref()),
        become_: own.become_.or(d.become_.as_ref()),
        // A sudo password of [defaults] is not inherited by a host that does not use sudo.
        become_password: own
            .become_password
            .or(d.become_password.as_ref().filter(|_| {
                own.become_
                    .or(d.become_.as_ref())
                    .map(|b| b.get_ref().as_str())
                    == Some("sudo")
            })),
        legacy_algorithms: own.legacy_algorithms.or(d.legacy_algorithms.as_ref()),
        connect_timeout: own.connect_timeout.or(d.connect_timeout.as_ref()),
        command_timeout: own.command_timeout.or(d.command_timeout.as_ref()),
        handshakes_per_server: own
            .handshakes_per_server
            .or(d.handshakes_per_server.as_ref()),
        proxy_jump: own.proxy_jump.or(d.proxy_jump.as_ref()),
    };
    keys.validate().map_err(|e| {
        ctx.err(
            Some(e.offset),
            Some(e.key),
            format!("host {name:?}: {}", e.message),
        )
    })
}

/// The `lock_dir` of host `h`: its own or `[defaults]`'s, only for `transport = "local"`
/// (over SSH the lock stays in /var/tmp so that operators on other machines see it; a
/// `lock_dir` in a non-local host's own table is refused, one in `[defaults]` does not apply
/// to it). An absolute folder.
pub(super) fn lock_dir(
    ctx: &Ctx,
    h: &RawHost,
    d: &RawDefaults,
    name: &str,
    transport: TransportKind,
) -> Result<Option<PathBuf>, InventoryError> {
    if transport != TransportKind::Local {
        return match &h.lock_dir {
            Some(v) => Err(ctx.err(
                Some(v.span().start),
                Some("lock_dir"),
                format!("host {name:?}: `lock_dir` only applies to transport = \"local\": over SSH the lock is always /var/tmp/hascript.lock, where operators on other machines see it; remove it"),
            )),
            None => Ok(None),
        };
    }
    let Some(v) = h.lock_dir.as_ref().or(d.lock_dir.as_ref()) else {
        return Ok(None);
    };
    let p = PathBuf::from(v.get_ref());
    if !p.is_absolute() || v.get_ref().chars().any(char::is_control) {
        return Err(ctx.err(
            Some(v.span().start),
            Some("lock_dir"),
            format!(
                "host {name:?}: lock_dir must be an absolute folder (the lock is made in it as hascript.lock), not {}",
                quoted(v.get_ref())
            ),
        ));
    }
    Ok(Some(p))
}

impl super::model::HostEntry {
    /// How the transport's router reaches this host, in the transport's own terms.
    pub fn route(&self) -> crate::transport::HostRoute {
        use crate::transport::{ssh::HostSpec, TransportSpec};
        let transport = match self.transport {
            TransportKind::Local => TransportSpec::Local,
            TransportKind::Sim => TransportSpec::Sim,
            TransportKind::Ssh => TransportSpec::Ssh(Box::new(HostSpec {
                name: self.name.clone(),
                user: self.user.clone(),
                address: self.address.clone(),
                options: self.ssh.clone(),
            })),
        };
        crate::transport::HostRoute {
            name: self.name.clone(),
            transport,
        }
    }
}

impl super::model::Inventory {
    /// Every host as the transport's router takes it ([`crate::transport::build`]), in
    /// inventory order.
    pub fn routes(&self) -> Vec<crate::transport::HostRoute> {
        self.hosts.iter().map(|h| h.route()).collect()
    }
}
