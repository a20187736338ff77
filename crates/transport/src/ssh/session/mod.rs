//! One SSH connection to one host: connect with timeouts, verify the host key before
//! anything else, authenticate, and run commands one channel at a time with both output
//! streams drained together (non-blocking session, `poll(2)` on the socket).
//!
//! One file per concern: what a host resolves to ([`target`]), its key files ([`keys`]),
//! the algorithms offered ([`algorithms`]), TCP and the key exchange ([`handshake`]),
//! opening a verified, authenticated session ([`connect`]), `become` ([`privilege`]) and
//! running a command on it ([`exec`]).

mod algorithms;
mod connect;
mod exec;
mod handshake;
mod keys;
mod privilege;
mod target;

use std::sync::Arc;
use std::time::Duration;

use ssh2::Session;

use super::jump::Bastion;

pub use connect::connect;
pub use exec::RunFail;
pub use keys::{default_identities, key_is_encrypted};
pub use privilege::SUDO_PROMPT;
pub use target::{home_dir, local_user, Target};

fn ms(d: Duration) -> u32 {
    d.as_millis().clamp(1, u128::from(u32::MAX)) as u32
}

/// An open, verified, authenticated session.
pub struct Conn {
    sess: Session,
    fd: i32,
    /// sudo needs a terminal on this host (requiretty): run commands with a PTY.
    pub needs_pty: bool,
    /// The jump host's session carrying this one (dropped after `sess`: fields drop in
    /// order).
    _via: Option<Arc<Bastion>>,
}

impl Conn {
    /// The libssh2 session.
    pub(in crate::ssh) fn session(&self) -> &Session {
        &self.sess
    }

    /// Its socket.
    pub(in crate::ssh) fn fd(&self) -> i32 {
        self.fd
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // Freeing the session frees its channels, which waits for the server: keep that
        // short (a dead or hung host must not hold the run).
        self.sess.set_blocking(true);
        self.sess.set_timeout(200);
    }
}
