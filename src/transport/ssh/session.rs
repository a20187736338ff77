//! One SSH connection to one host: connect with timeouts, verify the host key before
//! anything else, authenticate, and run commands one channel at a time with both output
//! streams drained together (non-blocking session, `poll(2)` on the socket).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hascript_api::{
    shell_quote, CancelToken, Command, Error, ErrorKind, ExitStatus, Output, Program,
};
use ssh2::{MethodType, Session};

use super::auth;
use super::jump::{self, Bastion};
use super::known_hosts::{self, Verdict};
use super::options::Become;
use super::secret::Secret;
use super::throttle;

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

    pub(super) fn err(&self, kind: ErrorKind, msg: String) -> Error {
        Error::new(kind, format!("{}: {msg}", self.name)).on_host(&self.name)
    }
}

const MODERN_KEX: &[&str] = &[
    "curve25519-sha256",
    "curve25519-sha256@libssh.org",
    "ecdh-sha2-nistp256",
    "ecdh-sha2-nistp384",
    "ecdh-sha2-nistp521",
    "diffie-hellman-group-exchange-sha256",
    "diffie-hellman-group16-sha512",
    "diffie-hellman-group18-sha512",
    "diffie-hellman-group14-sha256",
];
const LEGACY_KEX: &[&str] = &[
    "diffie-hellman-group14-sha1",
    "diffie-hellman-group-exchange-sha1",
];
const MODERN_HOSTKEY: &[&str] = &[
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "rsa-sha2-512",
    "rsa-sha2-256",
];
const LEGACY_HOSTKEY: &[&str] = &["ssh-rsa"];

/// The host key algorithms to offer: those of the key types already recorded for the host
/// first (as OpenSSH does), then the rest.
pub fn hostkey_pref(recorded: &[String], legacy: bool) -> Vec<&'static str> {
    let mut all: Vec<&'static str> = MODERN_HOSTKEY.to_vec();
    if legacy {
        all.extend_from_slice(LEGACY_HOSTKEY);
    }
    let mut out: Vec<&'static str> = Vec::new();
    for t in recorded {
        let algs: Vec<&'static str> = match t.as_str() {
            "ssh-rsa" => vec!["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
            other => all.iter().copied().filter(|a| *a == other).collect(),
        };
        for a in algs {
            if all.contains(&a) && !out.contains(&a) {
                out.push(a);
            }
        }
    }
    for a in all {
        if !out.contains(&a) {
            out.push(a);
        }
    }
    out
}

/// The key exchange algorithms to offer.
pub fn kex_pref(legacy: bool) -> Vec<&'static str> {
    let mut v = MODERN_KEX.to_vec();
    if legacy {
        v.extend_from_slice(LEGACY_KEX);
    }
    v
}

fn ms(d: Duration) -> u32 {
    d.as_millis().clamp(1, u128::from(u32::MAX)) as u32
}

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
fn resolve_addrs(t: &Target) -> Result<Vec<SocketAddr>, Error> {
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
    pub(super) fn session(&self) -> &Session {
        &self.sess
    }

    /// Its socket.
    pub(super) fn fd(&self) -> i32 {
        self.fd
    }
}

/// A session after its key exchange: the session, its socket, and the jump host's session
/// carrying it (if any).
type Shaken = (Session, i32, Option<Arc<Bastion>>);

/// How a host's TCP stream is made: a direct connection to one of its addresses, or a
/// tunnel through its jump host.
enum Route {
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
struct HandshakeError {
    error: Error,
    negotiation: bool,
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
fn handshake(
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
fn handshake_with_retries(
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

/// Whether the first two lines of a private key file say it is encrypted (OpenSSH's own
/// format: cipher other than `none`; PEM: `Proc-Type: 4,ENCRYPTED` or PKCS#8 encrypted).
pub fn key_is_encrypted(text: &str) -> bool {
    if text.contains("Proc-Type: 4,ENCRYPTED") || text.contains("BEGIN ENCRYPTED PRIVATE KEY") {
        return true;
    }
    if !text.contains("BEGIN OPENSSH PRIVATE KEY") {
        return false;
    }
    use base64::Engine;
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect();
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(body) else {
        return false;
    };
    let magic = b"openssh-key-v1\0";
    let Some(rest) = bytes.strip_prefix(magic.as_slice()) else {
        return false;
    };
    let Some(len) = rest
        .get(..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(|b| u32::from_be_bytes(b) as usize)
    else {
        return false;
    };
    rest.get(4..4 + len).is_some_and(|c| c != b"none")
}

/// Connect to `t`: TCP, key exchange (tried again while the server drops connections
/// before logging in), host key verification (nothing is sent before it passes),
/// keepalive, authentication.
pub fn connect(t: &Target, accept_new: bool, cancel: &CancelToken) -> Result<Conn, Error> {
    let mut entries = Vec::new();
    for f in &t.known_files {
        if let Ok(text) = std::fs::read_to_string(f) {
            entries.extend(known_hosts::parse(&f.display().to_string(), &text));
        }
    }
    let recorded = known_hosts::recorded_types(&entries, &t.known_names);
    // Behind a jump host the target's name is resolved by the jump host, as OpenSSH does.
    let route = match t.jump {
        Some(_) => Route::Via { accept_new },
        None => Route::Direct(resolve_addrs(t)?),
    };
    // The slot is held until authentication ends: sshd counts a connection against
    // MaxStartups until it has logged in.
    let ((sess, fd, via), _slot) = match handshake_with_retries(t, &route, &recorded, cancel) {
        Ok(x) => x,
        Err(e) if !t.legacy && e.negotiation => {
            // Would the legacy algorithms have worked? Ask with a second key exchange
            // (nothing but the key exchange is sent), so the refusal can say how to opt in.
            if let Ok((probe, _, _)) =
                handshake(t, &route, &recorded, true, t.connect_timeout, cancel)
            {
                let _ = probe.disconnect(None, "legacy probe", None);
                return Err(t
                    .err(
                        ErrorKind::Transport,
                        format!(
                            "{} offers only legacy SHA-1 algorithms (ssh-rsa host key signatures \
                             or diffie-hellman-group14-sha1), which hascript refuses by default",
                            t.endpoint()
                        ),
                    )
                    .with_remedy(format!(
                        "if this is an old host (HP-UX 11i v3, Solaris 10/11) you trust, add \
                         legacy_algorithms = true to its inventory entry ({}); better, enable \
                         modern algorithms on its sshd",
                        t.inventory_hint
                    )));
            }
            return Err(e.error);
        }
        Err(e) => return Err(e.error),
    };
    let Some((blob, _)) = sess.host_key() else {
        return Err(t.err(ErrorKind::Transport, "the server sent no host key".into()));
    };
    let blob = blob.to_vec();
    let kt = known_hosts::blob_type(&blob).unwrap_or_else(|| "unknown".into());
    let fp = known_hosts::fingerprint(&blob);
    let shown = t.known_names.first().cloned().unwrap_or_default();
    match known_hosts::check(&entries, &t.known_names, &blob) {
        Verdict::Known(_) => {}
        Verdict::Revoked(at) => {
            let _ = sess.disconnect(None, "host key revoked", None);
            return Err(t.err(
                ErrorKind::Transport,
                format!("the host key of {shown} ({kt} {fp}) is marked @revoked at {at}; refusing to connect"),
            ));
        }
        Verdict::Unknown if accept_new => {
            let line = known_hosts::line_for(&shown, &blob);
            known_hosts::append(&t.accept_file, &line).map_err(|e| {
                t.err(
                    ErrorKind::Transport,
                    format!(
                        "cannot add the host key to {}: {e}",
                        t.accept_file.display()
                    ),
                )
            })?;
            let _ = writeln!(
                std::io::stderr(),
                "hascript: {}: added the new host key of {shown} ({kt} {fp}) to {} (--accept-new-host-keys)",
                t.name,
                t.accept_file.display()
            );
        }
        Verdict::Unknown => {
            let _ = sess.disconnect(None, "unknown host key", None);
            return Err(t
                .err(
                    ErrorKind::Transport,
                    format!(
                        "the host key of {shown} is not known: {kt} {fp}; nothing was sent to the host"
                    ),
                )
                .with_remedy(format!(
                    "check this fingerprint with the host's administrator (on the host: \
                     ssh-keygen -lf /etc/ssh/ssh_host_{}_key.pub), then run again with \
                     --accept-new-host-keys to add it to {} (known keys are never replaced)",
                    kt.trim_start_matches("ssh-").split('-').next().unwrap_or("ed25519"),
                    t.accept_file.display()
                )));
        }
        Verdict::Changed(old) => {
            let _ = sess.disconnect(None, "host key changed", None);
            let known: Vec<String> = old
                .iter()
                .map(|e| {
                    format!(
                        "{} {} ({})",
                        known_hosts::blob_type(&e.key).unwrap_or_else(|| e.key_type.clone()),
                        known_hosts::fingerprint(&e.key),
                        e.at
                    )
                })
                .collect();
            return Err(t
                .err(
                    ErrorKind::Transport,
                    format!(
                        "WARNING: THE HOST KEY OF {shown} HAS CHANGED. Known: {}; offered now: {kt} {fp}. \
                         Someone may be intercepting the connection (man-in-the-middle), or the host \
                         was reinstalled. Nothing was sent to the host",
                        known.join(", ")
                    ),
                )
                .with_remedy(format!(
                    "verify the new fingerprint with the host's administrator; if it is right, \
                     remove the old line (ssh-keygen -R '{shown}' -f FILE) and run again with \
                     --accept-new-host-keys; hascript never replaces a known key"
                )));
        }
    }
    // Keepalive only after the key exchange (setting it before breaks the handshake).
    sess.set_keepalive(true, 15);
    // Each authentication step has the whole connect_timeout (the key exchange may have
    // used part of it on a busy server).
    sess.set_timeout(ms(t.connect_timeout));
    auth::authenticate(&sess, t, fd)?;
    Ok(Conn {
        sess,
        fd,
        needs_pty: false,
        _via: via,
    })
}

impl Drop for Conn {
    fn drop(&mut self) {
        // Freeing the session frees its channels, which waits for the server: keep that
        // short (a dead or hung host must not hold the run).
        self.sess.set_blocking(true);
        self.sess.set_timeout(200);
    }
}

/// How a command failed.
pub enum RunFail {
    /// The channel could not be opened: nothing reached the host (safe to retry on a new
    /// session).
    NotSent(Error),
    /// The session broke: drop it.
    Broken(Error),
    /// The command failed (timeout, output limit, cancellation); the session may be reused.
    Failed(Error),
}

/// The sudo prompt hascript asks for, to know when to send the password.
pub const SUDO_PROMPT: &str = "[hascript-sudo-password]";

/// The line sent to the host for `cmd` with `become`.
pub fn remote_line(cmd: &Command, become_: Option<Become>, with_password: bool) -> String {
    let line = cmd.line();
    match become_ {
        None => line,
        Some(Become::Sudo) => {
            let auth = if with_password {
                format!("-S -k -p {}", shell_quote(SUDO_PROMPT))
            } else {
                "-n".to_string()
            };
            format!("sudo {auth} -- /bin/sh -c {}", shell_quote(&line))
        }
        Some(Become::Pfexec) => match &cmd.program {
            Program::Argv(argv) => {
                let words: Vec<String> = argv.iter().map(|w| shell_quote(w)).collect();
                format!("LC_ALL=C pfexec {}", words.join(" "))
            }
            Program::Shell(_) => format!("pfexec /bin/sh -c {}", shell_quote(&line)),
        },
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn poll_fd(fd: i32, events: i16, wait: Duration) {
    let mut p = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: poll(2) on one valid pollfd we own for the call's duration.
    unsafe {
        libc::poll(&mut p, 1, wait.as_millis().min(1000) as i32);
    }
}

fn io_broken(e: &std::io::Error) -> bool {
    !matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
    )
}

impl Conn {
    /// Run `cmd` on this session.
    pub fn run(
        &mut self,
        t: &Target,
        cmd: &Command,
        cancel: &CancelToken,
    ) -> Result<Output, RunFail> {
        let r = self.run_once(t, cmd, cancel, self.needs_pty);
        if let Ok(o) = &r {
            let tty_refusal = o.code() == 1
                && t.become_ == Some(Become::Sudo)
                && !self.needs_pty
                && (o.stderr.contains("you must have a tty to run sudo")
                    || o.stderr.contains("a terminal is required"));
            if tty_refusal {
                // sudo refused before running anything (requiretty): again with a PTY.
                self.needs_pty = true;
                return self.run_once(t, cmd, cancel, true);
            }
        }
        r
    }

    /// Close a channel whose command is abandoned (timeout, limit, cancel). The server
    /// answers a close only when the command ends, so wait briefly: a timeout here still
    /// leaves the channel closed on our side and the session usable. `false` when the
    /// session itself failed.
    fn close_quietly(&self, ch: &mut ssh2::Channel) -> bool {
        self.sess.set_blocking(true);
        self.sess.set_timeout(200);
        match ch.close() {
            Ok(()) => true,
            Err(e) => matches!(
                e.code(),
                ssh2::ErrorCode::Session(-9) | ssh2::ErrorCode::Session(-37)
            ),
        }
    }

    fn run_once(
        &mut self,
        t: &Target,
        cmd: &Command,
        cancel: &CancelToken,
        pty: bool,
    ) -> Result<Output, RunFail> {
        let shown = cmd.display();
        let fail = |kind: ErrorKind, msg: String| t.err(kind, msg).with_command(shown.clone());
        let sudo_pw = match (t.become_, &t.become_password) {
            (Some(Become::Sudo), Some(p)) => Some(p.expose().to_string()),
            _ => None,
        };
        let line = remote_line(cmd, t.become_, sudo_pw.is_some());
        let timeout = cmd.timeout.unwrap_or(t.command_timeout);
        let start = Instant::now();
        let deadline = start + timeout;
        let sess = &self.sess;
        sess.set_blocking(true);
        sess.set_timeout(ms(t.connect_timeout.min(timeout)));
        let mut ch = sess.channel_session().map_err(|e| {
            let timed_out = e.code() == ssh2::ErrorCode::Session(-9);
            let why = if timed_out {
                "the host did not answer in time"
            } else {
                e.message()
            };
            let err = fail(
                if timed_out {
                    ErrorKind::Timeout
                } else {
                    ErrorKind::Transport
                },
                format!(
                    "cannot open a channel on {}: {why}; the command was not sent",
                    t.endpoint()
                ),
            );
            // A silent host is not retried within this command: its session is dropped
            // and the next command connects again.
            if timed_out {
                RunFail::Broken(err)
            } else {
                RunFail::NotSent(err)
            }
        })?;
        let broken = |what: &str, e: String| {
            RunFail::Broken(fail(
                ErrorKind::Transport,
                format!(
                    "the SSH session to {} broke ({what}): {e}; the command's outcome is unknown",
                    t.endpoint()
                ),
            ))
        };
        if pty {
            let mut modes = ssh2::PtyModes::new();
            modes.set_boolean(ssh2::PtyModeOpcode::ECHO, false);
            ch.request_pty("vt100", Some(modes), Some((200, 50, 0, 0)))
                .map_err(|e| broken("requesting a terminal", e.message().to_string()))?;
        }
        ch.exec(&line)
            .map_err(|e| broken("starting the command", e.message().to_string()))?;
        sess.set_blocking(false);

        let mut out: Vec<u8> = Vec::new();
        let mut err: Vec<u8> = Vec::new();
        let stdin_data: Vec<u8> = cmd.stdin.clone().unwrap_or_default();
        let mut stdin_pos = 0usize;
        let mut eof_sent = false;
        let mut pw_pending: Option<Vec<u8>> = None;
        let mut pw_sent = false;
        // With a sudo password, the command's own input waits until sudo has its password
        // (or the command has started talking, or 2 s passed: no password was asked).
        let mut hold_stdin = sudo_pw.is_some();
        let mut scanned = 0usize;
        // sudo ends its password prompt with a newline of its own: drop the first one that
        // follows the password (positions in stdout and stderr when it was sent).
        let mut strip_nl: Option<(usize, usize)> = None;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let mut progress = false;
            // Standard output, then standard error, each until it would block.
            for stream in [0, 1] {
                loop {
                    let r = if stream == 0 {
                        ch.read(&mut buf)
                    } else {
                        ch.stderr().read(&mut buf)
                    };
                    match r {
                        Ok(0) => break,
                        Ok(n) => {
                            progress = true;
                            if stream == 0 {
                                out.extend_from_slice(&buf[..n]);
                                // The command talks: no password was asked for.
                                if !pty && !pw_sent && pw_pending.is_none() {
                                    hold_stdin = false;
                                }
                            } else {
                                err.extend_from_slice(&buf[..n]);
                            }
                        }
                        Err(e) if !io_broken(&e) => break,
                        Err(e) => return Err(broken("reading the output", e.to_string())),
                    }
                    if out.len() + err.len() > t.output_limit {
                        break;
                    }
                }
            }
            if let Some((o, e)) = strip_nl {
                if out.len() > o {
                    if out[o] == b'\n' {
                        out.remove(o);
                    } else if out[o..].starts_with(b"\r\n") {
                        out.drain(o..o + 2);
                    }
                    strip_nl = None;
                } else if err.len() > e {
                    if err[e] == b'\n' {
                        err.remove(e);
                    }
                    strip_nl = None;
                }
            }
            // The sudo prompt (on stderr, or the terminal with a PTY).
            if let Some(pw) = &sudo_pw {
                let target: &mut Vec<u8> = if pty { &mut out } else { &mut err };
                let from = scanned.saturating_sub(SUDO_PROMPT.len()).min(target.len());
                if let Some(i) = find(&target[from..], SUDO_PROMPT.as_bytes()) {
                    let at = from + i;
                    target.drain(at..at + SUDO_PROMPT.len());
                    if pw_sent || pw_pending.is_some() {
                        let _ = self.close_quietly(&mut ch);
                        return Err(RunFail::Failed(
                            fail(
                                ErrorKind::Transport,
                                format!(
                                    "sudo on {} asked for the password again: it did not accept \
                                     become_password; the command did not run",
                                    t.endpoint()
                                ),
                            )
                            .with_remedy("check the secret named by become_password"),
                        ));
                    }
                    let mut line = pw.as_bytes().to_vec();
                    line.push(b'\n');
                    pw_pending = Some(line);
                }
                scanned = target.len();
            }
            if out.len() + err.len() > t.output_limit {
                let _ = self.close_quietly(&mut ch);
                return Err(RunFail::Failed(fail(
                    ErrorKind::Command,
                    format!(
                        "the output of the command on {} passed {} bytes (the output limit); \
                         hascript stopped reading and closed the channel",
                        t.name, t.output_limit
                    ),
                )));
            }
            // The password first, then standard input.
            if let Some(pw) = &mut pw_pending {
                match ch.write(pw) {
                    Ok(n) => {
                        pw.drain(..n);
                        progress = true;
                        if pw.is_empty() {
                            pw_pending = None;
                            pw_sent = true;
                            hold_stdin = false;
                            strip_nl = Some((out.len(), err.len()));
                        }
                    }
                    Err(e) if !io_broken(&e) => {}
                    Err(e) => return Err(broken("sending the sudo password", e.to_string())),
                }
            } else if hold_stdin && start.elapsed() > Duration::from_secs(2) {
                hold_stdin = false;
            }
            if !hold_stdin && pw_pending.is_none() && !eof_sent {
                if stdin_pos < stdin_data.len() {
                    match ch.write(&stdin_data[stdin_pos..]) {
                        Ok(n) => {
                            stdin_pos += n;
                            progress = true;
                        }
                        Err(e) if !io_broken(&e) => {}
                        // The command closed its input early: not an error.
                        Err(_) => stdin_pos = stdin_data.len(),
                    }
                }
                if stdin_pos >= stdin_data.len() {
                    if pty {
                        // A terminal has no end of input; the command ends on its own.
                        eof_sent = true;
                    } else {
                        match ch.send_eof().map_err(std::io::Error::from) {
                            Ok(()) => eof_sent = true,
                            Err(e) if !io_broken(&e) => {}
                            Err(_) => eof_sent = true,
                        }
                    }
                }
            }
            if ch.eof() {
                break;
            }
            if cancel.is_cancelled() {
                let _ = self.close_quietly(&mut ch);
                return Err(RunFail::Failed(
                    Error::cancelled()
                        .on_host(&t.name)
                        .with_command(shown.clone()),
                ));
            }
            if Instant::now() >= deadline {
                let closed = self.close_quietly(&mut ch);
                let e = fail(
                    ErrorKind::Timeout,
                    format!(
                        "`{shown}` on {} did not finish within {} s; hascript closed its channel \
                         (the command may still be running on the host)",
                        t.name,
                        timeout.as_secs_f64()
                    ),
                );
                return Err(if closed {
                    RunFail::Failed(e)
                } else {
                    RunFail::Broken(e)
                });
            }
            if !progress && ch.read_window().available == 0 {
                let events = match sess.block_directions() {
                    ssh2::BlockDirections::Outbound => libc::POLLOUT,
                    ssh2::BlockDirections::Both => libc::POLLIN | libc::POLLOUT,
                    _ => libc::POLLIN,
                };
                let left = deadline.saturating_duration_since(Instant::now());
                poll_fd(self.fd, events, left.min(Duration::from_millis(50)));
            }
        }
        // Collect the exit status.
        sess.set_blocking(true);
        let left = deadline.saturating_duration_since(Instant::now());
        sess.set_timeout(ms(left.max(Duration::from_secs(2))));
        // Anything still queued after EOF.
        let mut tail = Vec::new();
        let _ = ch.read_to_end(&mut tail);
        out.extend_from_slice(&tail);
        tail.clear();
        let _ = ch.stderr().read_to_end(&mut tail);
        err.extend_from_slice(&tail);
        if let Err(e) = ch.wait_close() {
            return Err(broken(
                "waiting for the command to end",
                e.message().to_string(),
            ));
        }
        let status = match ch.exit_signal() {
            Ok(sig) if sig.exit_signal.is_some() => {
                ExitStatus::Signal(sig.exit_signal.unwrap_or_default())
            }
            _ => match ch.exit_status() {
                Ok(c) => ExitStatus::Code(c),
                Err(e) => return Err(broken("reading the exit status", e.message().to_string())),
            },
        };
        if pty {
            // The terminal turned each LF into CRLF: undo it on the bytes.
            out = crlf_to_lf(&out);
        }
        // The bytes as the host wrote them: text for parsers, the exact bytes kept too where
        // they are not UTF-8.
        let o = Output::from_bytes(status, out, err);
        if t.become_ == Some(Become::Sudo)
            && sudo_pw.is_none()
            && o.code() == 1
            && o.stderr.contains("a password is required")
        {
            return Err(RunFail::Failed(
                fail(
                    ErrorKind::Transport,
                    format!("sudo on {} needs a password; the command did not run", t.endpoint()),
                )
                .with_remedy(format!(
                    "name it in the inventory: become_password = \"env:VARIABLE\" or \"file:PATH\" ({})",
                    t.inventory_hint
                )),
            ));
        }
        Ok(o)
    }
}

/// `bytes` with every CR LF pair made one LF (what a PTY's output post-processing added).
fn crlf_to_lf(bytes: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        v.push(bytes[i]);
        i += 1;
    }
    v
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

/// The default key files, in OpenSSH's order, under `home`.
pub fn default_identities(home: &Path) -> Vec<PathBuf> {
    ["id_ed25519", "id_ecdsa", "id_rsa"]
        .iter()
        .map(|n| home.join(".ssh").join(n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_becomes_lf_on_bytes() {
        assert_eq!(crlf_to_lf(b"a\r\nb\r\xff\r\n"), b"a\nb\r\xff\n".to_vec());
    }

    #[test]
    fn recorded_key_types_come_first() {
        let p = hostkey_pref(&["ssh-rsa".into()], false);
        assert_eq!(&p[..2], ["rsa-sha2-512", "rsa-sha2-256"]);
        assert!(!p.contains(&"ssh-rsa"));
        let p = hostkey_pref(&["ecdsa-sha2-nistp256".into()], true);
        assert_eq!(p[0], "ecdsa-sha2-nistp256");
        assert!(p.contains(&"ssh-rsa"));
        assert!(!kex_pref(false).contains(&"diffie-hellman-group14-sha1"));
        assert!(kex_pref(true).contains(&"diffie-hellman-group14-sha1"));
    }

    #[test]
    fn become_wraps_the_whole_line() {
        let c = Command::read("h", &["ldm", "list", "-p"]);
        assert_eq!(remote_line(&c, None, false), "LC_ALL=C ldm list -p");
        assert_eq!(
            remote_line(&c, Some(Become::Sudo), false),
            "sudo -n -- /bin/sh -c 'LC_ALL=C ldm list -p'"
        );
        assert_eq!(
            remote_line(&c, Some(Become::Sudo), true),
            "sudo -S -k -p '[hascript-sudo-password]' -- /bin/sh -c 'LC_ALL=C ldm list -p'"
        );
        assert_eq!(
            remote_line(&c, Some(Become::Pfexec), false),
            "LC_ALL=C pfexec ldm list -p"
        );
        let s = Command::shell("h", "echo 'x'", hascript_api::Effect::Read);
        assert_eq!(
            remote_line(&s, Some(Become::Pfexec), false),
            r"pfexec /bin/sh -c 'LC_ALL=C; export LC_ALL; echo '\''x'\'''"
        );
    }

    #[test]
    fn encrypted_keys_are_recognised() {
        use base64::Engine;
        let key = |cipher: &str| {
            let mut b = b"openssh-key-v1\0".to_vec();
            b.extend_from_slice(&(cipher.len() as u32).to_be_bytes());
            b.extend_from_slice(cipher.as_bytes());
            format!(
                "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n-----END OPENSSH PRIVATE KEY-----\n",
                base64::engine::general_purpose::STANDARD.encode(b)
            )
        };
        assert!(key_is_encrypted(&key("aes256-ctr")));
        assert!(!key_is_encrypted(&key("none")));
        assert!(key_is_encrypted(
            "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
        ));
        assert!(!key_is_encrypted("-----BEGIN RSA PRIVATE KEY-----\nMIIE\n"));
    }
}
