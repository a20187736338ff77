//! Reaching the server and the key exchange: TCP (or a tunnel through the jump host),
//! algorithm negotiation, tried again with backoff while the server drops connections
//! before logging in.

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hascript_api::{CancelToken, Error, ErrorKind};
use ssh2::{MethodType, Session};

use super::algorithms::{hostkey_pref, kex_pref};
use super::ms;
use super::target::Target;
use crate::ssh::jump::{self, Bastion};
use crate::ssh::known_hosts;
use crate::ssh::throttle;

/// TCP keepalive and a user timeout, so a peer that vanished without closing the
/// connection is noticed even while a command is silent.
fn tune_socket(tcp: &TcpStream) {
    let fd = tcp.as_raw_fd();
    let set = |level: i32, opt: i32, v: i32| {
        // SAFETY: setsockopt(2) on a socket we own, with a pointer to a live c_int and
        // its size.
        unsafe {
            libc::setsockopt(
                fd,
                level,
                opt,
                (&v as *const i32).cast(),
                std::mem::size_of::<i32>() as libc::socklen_t,
            );
        }
    };
    set(libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1);
    set(libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, 15);
    set(libc::IPPROTO_TCP, libc::TCP_KEEPINTVL, 5);
    set(libc::IPPROTO_TCP, libc::TCP_KEEPCNT, 3);
    set(libc::IPPROTO_TCP, libc::TCP_USER_TIMEOUT, 30_000);
    let _ = tcp.set_nodelay(true);
}

/// The addresses of `t`'s server, in the resolver's order.
pub(super) fn resolve_addrs(t: &Target) -> Result<Vec<SocketAddr>, Error> {
    let addrs: Vec<SocketAddr> = (t.connect_host.as_str(), t.port)
        .to_socket_addrs()
        .map_err(|e| {
            t.err(
                ErrorKind::Transport,
                format!("cannot resolve {}: {e}", t.connect_host),
            )
        })?
        .collect();
    if addrs.is_empty() {
        return Err(t.err(
            ErrorKind::Transport,
            format!(
                "cannot connect to {}: the name has no address",
                t.endpoint()
            ),
        ));
    }
    Ok(addrs)
}

fn tcp_connect(t: &Target, addrs: &[SocketAddr], budget: Duration) -> Result<TcpStream, Error> {
    let mut last = None;
    for a in addrs {
        match TcpStream::connect_timeout(a, budget) {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    let why = match last {
        Some(e) if e.kind() == std::io::ErrorKind::TimedOut => format!(
            "no answer within {} s (connect_timeout)",
            t.connect_timeout.as_secs_f64()
        ),
        Some(e) => e.to_string(),
        None => "the name has no address".into(),
    };
    Err(t
        .err(
            ErrorKind::Transport,
            format!("cannot connect to {}: {why}", t.endpoint()),
        )
        .with_remedy("check that the host is up and sshd listens on that address and port"))
}

/// A session after its key exchange: the session, its socket, and the jump host's session
/// carrying it (if any).
pub(super) type Shaken = (Session, i32, Option<Arc<Bastion>>);

/// How a host's TCP stream is made: a direct connection to one of its addresses, or a
/// tunnel through its jump host.
pub(super) enum Route {
    Direct(Vec<SocketAddr>),
    Via { accept_new: bool },
}

impl Route {
    /// The key of the server for handshake slots: its address, or the target's name and
    /// port as the jump host reaches it.
    fn server_key(&self, t: &Target) -> String {
        match self {
            Route::Direct(addrs) => addrs.first().map(|a| a.to_string()).unwrap_or_default(),
            Route::Via { .. } => format!(
                "{} via {}",
                known_hosts::lookup_name(&t.connect_host, t.port),
                t.jump.as_deref().map(jump::key_of).unwrap_or_default()
            ),
        }
    }
}

/// A failed handshake: whether it failed in the algorithm negotiation (as opposed to a
/// timeout or a lost connection), or whether the server dropped the connection before
/// talking SSH (worth another try: see [`throttle`]).
pub(super) struct HandshakeError {
    /// What failed.
    pub(super) error: Error,
    /// It failed in the algorithm negotiation.
    pub(super) negotiation: bool,
    /// The server closed the connection before its banner, or reset it during the key
    /// exchange: what happened, for the error after the last try.
    dropped: Option<String>,
}

impl From<Error> for HandshakeError {
    fn from(error: Error) -> Self {
        HandshakeError {
            error,
            negotiation: false,
            dropped: None,
        }
    }
}

/// TCP connection and key exchange, each bounded by `budget`.
pub(super) fn handshake(
    t: &Target,
    route: &Route,
    recorded: &[String],
    legacy: bool,
    budget: Duration,
    cancel: &CancelToken,
) -> Result<Shaken, HandshakeError> {
    let mut sess = Session::new().map_err(|e| {
        t.err(
            ErrorKind::Transport,
            format!("cannot start an SSH session: {e}"),
        )
    })?;
    let (fd, via) = match route {
        Route::Direct(addrs) => {
            let tcp = tcp_connect(t, addrs, budget)?;
            tune_socket(&tcp);
            let fd = tcp.as_raw_fd();
            sess.set_tcp_stream(tcp);
            (fd, None)
        }
        Route::Via { accept_new } => {
            let (s, b) = jump::tunnel(t, *accept_new, budget, cancel)?;
            let fd = s.as_raw_fd();
            sess.set_tcp_stream(s);
            (fd, Some(b))
        }
    };
    sess.set_timeout(ms(budget));
    let supported =
        |mt: MethodType| -> Vec<&'static str> { sess.supported_algs(mt).unwrap_or_default() };
    let kex_ok = supported(MethodType::Kex);
    let hk_ok = supported(MethodType::HostKey);
    if legacy && !kex_ok.contains(&"diffie-hellman-group14-sha1") {
        return Err(HandshakeError::from(
            t.err(
                ErrorKind::Usage,
                "legacy_algorithms = true, but this hascript was built without the SHA-1 \
             algorithms (a CFLAGS of your own replaced the one in .cargo/config.toml); rebuild \
             with CFLAGS=\"-DLIBSSH2_RSA_SHA1_ENABLE -DLIBSSH2_KEX_SHA1_ENABLE\""
                    .into(),
            ),
        ));
    }
    let kex: Vec<&str> = kex_pref(legacy)
        .into_iter()
        .filter(|a| kex_ok.contains(a))
        .collect();
    let hk: Vec<&str> = hostkey_pref(recorded, legacy)
        .into_iter()
        .filter(|a| hk_ok.contains(a))
        .collect();
    let prefs = sess
        .method_pref(MethodType::Kex, &kex.join(","))
        .and_then(|_| sess.method_pref(MethodType::HostKey, &hk.join(",")));
    if let Err(e) = prefs {
        return Err(HandshakeError::from(t.err(
            ErrorKind::Transport,
            format!("cannot set the SSH algorithms: {e}"),
        )));
    }
    match sess.handshake() {
        Ok(()) => Ok((sess, fd, via)),
        Err(e) => {
            let timed_out = e.code() == ssh2::ErrorCode::Session(-9);
            // What the server said instead of `SSH-2.0-…`, if anything (sshd's MaxStartups
            // drop writes "Exceeded MaxStartups" and closes).
            let said = sess.banner().map(str::to_string);
            let got_banner = said.as_deref().is_some_and(|b| b.starts_with("SSH-"));
            let dropped = if timed_out {
                None
            } else if !got_banner {
                match said.as_deref() {
                    None => Some("closed the connection before the SSH banner".to_string()),
                    // "Exceeded MaxStartups" (and PerSourceMaxStartups); OpenSSH 9.8's
                    // PerSourcePenalties says "Not allowed at this time".
                    Some(w) if w.contains("Exceeded") || w.contains("Not allowed at this time") => {
                        Some(format!(
                            "closed the connection before the SSH banner, saying {w:?}"
                        ))
                    }
                    // Something that is not sshd answered: not worth another try.
                    Some(_) => None,
                }
            } else if throttle::socket_state(fd) == throttle::Socket::Reset {
                // libssh2 reports a reset during the key exchange as a key exchange
                // failure (-5/-8): the socket tells them apart.
                Some("reset the connection during the key exchange".to_string())
            } else {
                None
            };
            // -5 KEX_FAILURE, -8 KEY_EXCHANGE_FAILURE: no common algorithm (or a bad
            // signature) when the connection is still there.
            let negotiation = dropped.is_none()
                && got_banner
                && matches!(
                    e.code(),
                    ssh2::ErrorCode::Session(-5) | ssh2::ErrorCode::Session(-8)
                );
            let why = if timed_out {
                format!(
                    "no answer within {} s (connect_timeout)",
                    t.connect_timeout.as_secs_f64()
                )
            } else {
                match (&said, got_banner) {
                    (Some(w), false) => format!("{} (the server said {w:?})", e.message()),
                    _ => e.message().to_string(),
                }
            };
            Err(HandshakeError {
                error: t.err(
                    ErrorKind::Transport,
                    format!("SSH key exchange with {} failed: {why}", t.endpoint()),
                ),
                negotiation,
                dropped,
            })
        }
    }
}

/// The handshake, tried again with backoff and jitter while the server drops the
/// connection before logging in (sshd's MaxStartups), for up to `t.connect_timeout` of
/// tries and pauses (waiting for a handshake slot does not count: that queue is
/// hascript's own). Each try holds a slot on the server (see [`throttle::slot`]); the slot
/// is returned with the session and held until authentication ends.
pub(super) fn handshake_with_retries(
    t: &Target,
    route: &Route,
    recorded: &[String],
    cancel: &CancelToken,
) -> Result<(Shaken, throttle::Slot), HandshakeError> {
    let server = route.server_key(t);
    let mut tries = 0u32;
    let mut spent = Duration::ZERO;
    loop {
        let slot = throttle::slot(&server, t.handshakes_per_server, cancel)
            .map_err(|e| e.on_host(&t.name))?;
        let left = t.connect_timeout.saturating_sub(spent);
        let at = Instant::now();
        tries += 1;
        let e = match handshake(
            t,
            route,
            recorded,
            t.legacy,
            left.max(Duration::from_millis(1)),
            cancel,
        ) {
            Ok((sess, fd, via)) => {
                slot.passed();
                return Ok(((sess, fd, via), slot));
            }
            Err(e) => e,
        };
        spent += at.elapsed();
        let Some(what) = &e.dropped else {
            return Err(e);
        };
        slot.dropped();
        drop(slot);
        // Another try only when it still has time to complete (a handshake on a busy
        // server takes a few hundred milliseconds); the last pause may be shorter.
        let left = t.connect_timeout.saturating_sub(spent);
        let last_try = Duration::from_millis(250);
        let pause = throttle::backoff(tries).min(left.saturating_sub(last_try));
        if left <= last_try || pause.is_zero() {
            return Err(HandshakeError::from(
                t.err(
                    ErrorKind::Transport,
                    format!(
                        "{} {what}, on each of {tries} tries in {:.1} s (connect_timeout {} s); \
                         the host may well be healthy: {}",
                        t.endpoint(),
                        spent.as_secs_f64(),
                        t.connect_timeout.as_secs_f64(),
                        throttle::THROTTLE_CAUSE
                    ),
                )
                .with_remedy(format!(
                    "run again when the server is less busy; or give the host a longer \
                     connect_timeout, lower handshakes_per_server (now {}) in the inventory's \
                     [defaults] or run_all's limit, or raise MaxStartups in the server's \
                     sshd_config ({})",
                    t.handshakes_per_server, t.inventory_hint
                )),
            ));
        }
        let at = Instant::now();
        if throttle::pause(&server, pause, cancel) {
            return Err(HandshakeError::from(Error::cancelled().on_host(&t.name)));
        }
        spent += at.elapsed();
    }
}
