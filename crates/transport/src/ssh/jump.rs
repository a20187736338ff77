//! Hosts behind a jump host (`ProxyJump` in `~/.ssh/config`, `proxy_jump` in the inventory),
//! reached as OpenSSH reaches them: a `direct-tcpip` channel of the jump host's session
//! carries the host's own SSH session, end to end (the jump host sees only ciphertext).
//!
//! One [`Bastion`] per jump host (user, address, port and its own way in) is shared by every
//! host behind it: a fan-out over 16 hosts opens one session to the jump host, not 16 (16
//! handshakes at once are what sshd's `MaxStartups` drops). The inner sessions talk to one
//! end of a socketpair (ssh2's `set_tcp_stream` takes any socket); one pump thread per
//! jump host moves the bytes between the other ends and their channels, with the jump
//! host's session non-blocking: a blocking libssh2 call holds the session's lock, so one
//! thread does every call on it (channel opens, reads, writes, closes), and waits in
//! `poll(2)` on all the sockets at once.
//!
//! Chains (`ProxyJump a,b`) nest: the session to `b` is itself carried by a channel of `a`'s.

use std::collections::{HashMap, VecDeque};
use std::io::{Read, Write};
use std::net::Shutdown;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hascript_api::{CancelToken, Error, ErrorKind};
use ssh2::{Channel, ErrorCode, Session};

use super::session::{self, Target};

/// One hop of a `ProxyJump` value: `[user@]host[:port]` or `ssh://[user@]host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    /// Login user, when the value names one.
    pub user: Option<String>,
    /// The host as written: a `~/.ssh/config` alias, a name or an address.
    pub host: String,
    /// Port, when the value names one.
    pub port: Option<u16>,
}

impl std::fmt::Display for Hop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(u) = &self.user {
            write!(f, "{u}@")?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]", self.host)?;
        } else {
            write!(f, "{}", self.host)?;
        }
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        Ok(())
    }
}

/// The rule for a `ProxyJump`/`proxy_jump` value, as error messages state it.
pub const JUMP_RULE: &str = "\"none\" or a comma-separated list of jump hosts, each \
     [user@]host[:port] (host: a ~/.ssh/config alias, a host name or an address; IPv6 in \
     brackets), as OpenSSH's ProxyJump";

/// Parse a `ProxyJump` value: `none` gives no hops; otherwise comma-separated hops, the
/// first one reached first.
pub fn parse_hops(value: &str) -> Result<Vec<Hop>, String> {
    let v = value.trim();
    if v.eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    let mut hops = Vec::new();
    for part in v.split(',') {
        let p = part.trim();
        let p = p.strip_prefix("ssh://").unwrap_or(p);
        let (user, rest) = match p.rsplit_once('@') {
            Some((u, r)) => (Some(u), r),
            None => (None, p),
        };
        let (host, port) = if let Some(r) = rest.strip_prefix('[') {
            match r.split_once(']') {
                Some((h, "")) => (h, None),
                Some((h, tail)) => match tail.strip_prefix(':') {
                    Some(port) => (h, Some(port)),
                    None => return Err(format!("cannot read the jump host {part:?}")),
                },
                None => return Err(format!("cannot read the jump host {part:?}: no closing ]")),
            }
        } else {
            match rest.split_once(':') {
                Some((h, port)) if !port.contains(':') => (h, Some(port)),
                // A bare IPv6 address.
                Some(_) => (rest, None),
                None => (rest, None),
            }
        };
        if !crate::rules::valid_address(host) {
            return Err(format!(
                "the jump host {part:?} has no valid host: it must be {}",
                crate::rules::ADDRESS_RULE
            ));
        }
        if let Some(u) = user {
            if !crate::rules::valid_user(u) {
                return Err(format!(
                    "the jump host {part:?} has an invalid user: it must be {}",
                    crate::rules::USER_RULE
                ));
            }
        }
        let port = match port {
            Some(s) => match s.parse::<u16>() {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    return Err(format!(
                        "the jump host {part:?} has an invalid port: a TCP port from 1 to 65535"
                    ))
                }
            },
            None => None,
        };
        hops.push(Hop {
            user: user.map(str::to_string),
            host: host.to_string(),
            port,
        });
    }
    Ok(hops)
}

/// The identity of a jump host's session, for sharing it: who logs in where, and through
/// what.
pub fn key_of(t: &Target) -> String {
    let mut k = format!("{}@{}:{}", t.user, t.connect_host, t.port);
    if let Some(j) = &t.jump {
        k.push_str(" via ");
        k.push_str(&key_of(j));
    }
    k
}

/// Why a tunnel through a jump host could not be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenError {
    /// The jump host refused to forward (`AllowTcpForwarding no`, `PermitOpen`): its words.
    Refused(String),
    /// The jump host could not connect to the target (down, wrong address or port).
    ConnectFailed(String),
    /// No answer within the budget.
    TimedOut,
    /// The session to the jump host broke: worth one new session.
    Broken(String),
    /// Ctrl-C.
    Cancelled,
}

/// A request to the pump thread: open a `direct-tcpip` channel to `host`:`port`.
struct Request {
    host: String,
    port: u16,
    deadline: Instant,
    reply: Option<mpsc::Sender<Result<UnixStream, OpenError>>>,
}

#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    /// Why the session broke, once it has.
    dead: Mutex<Option<String>>,
    /// Links (tunnels) opened so far, for tests and messages.
    opened: Mutex<u64>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

/// A session to one jump host and the thread that pumps its tunnels.
pub struct Bastion {
    /// The jump host.
    pub target: Target,
    /// [`key_of`] the target.
    pub key: String,
    requests: Mutex<mpsc::Sender<Request>>,
    wake: UnixStream,
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Bastion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bastion").field("key", &self.key).finish()
    }
}

impl Bastion {
    /// Connect to the jump host `t` (through its own jump host, if it has one: verified host
    /// key, authentication) and start its pump thread.
    fn start(t: &Target, accept_new: bool, cancel: &CancelToken) -> Result<Arc<Bastion>, Error> {
        let conn = session::connect(t, accept_new, cancel)?;
        let (wake, wake_rx) = UnixStream::pair().map_err(|e| {
            t.err(
                ErrorKind::Transport,
                format!("cannot make a socket pair: {e}"),
            )
        })?;
        let _ = wake.set_nonblocking(true);
        let _ = wake_rx.set_nonblocking(true);
        let (tx, rx) = mpsc::channel();
        let shared = Arc::new(Shared::default());
        let s2 = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("jump {}", t.name))
            .spawn(move || pump(conn, rx, wake_rx, s2))
            .map_err(|e| {
                t.err(
                    ErrorKind::Transport,
                    format!("cannot start the jump host's thread: {e}"),
                )
            })?;
        Ok(Arc::new(Bastion {
            target: t.clone(),
            key: key_of(t),
            requests: Mutex::new(tx),
            wake,
            shared,
            thread: Mutex::new(Some(thread)),
        }))
    }

    /// Whether the session is still up (as far as the pump knows).
    pub fn alive(&self) -> bool {
        lock(&self.shared.dead).is_none()
    }

    /// How many tunnels this session has carried.
    pub fn tunnels_opened(&self) -> u64 {
        *lock(&self.shared.opened)
    }

    fn poke(&self) {
        let _ = (&self.wake).write(&[1]);
    }

    /// A socket whose other end is a `direct-tcpip` channel to `host`:`port` opened by the
    /// jump host, within `budget`.
    pub fn open(
        &self,
        host: &str,
        port: u16,
        budget: Duration,
        cancel: &CancelToken,
    ) -> Result<UnixStream, OpenError> {
        if let Some(why) = lock(&self.shared.dead).clone() {
            return Err(OpenError::Broken(why));
        }
        let (tx, rx) = mpsc::channel();
        let deadline = Instant::now() + budget;
        let sent = lock(&self.requests).send(Request {
            host: host.to_string(),
            port,
            deadline,
            reply: Some(tx),
        });
        if sent.is_err() {
            let why = lock(&self.shared.dead).clone();
            return Err(OpenError::Broken(
                why.unwrap_or_else(|| "the session ended".into()),
            ));
        }
        self.poke();
        loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(r) => return r,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if cancel.is_cancelled() {
                        return Err(OpenError::Cancelled);
                    }
                    // The pump answers at the deadline; this is only a guard.
                    if Instant::now() > deadline + Duration::from_secs(2) {
                        return Err(OpenError::TimedOut);
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let why = lock(&self.shared.dead).clone();
                    return Err(OpenError::Broken(
                        why.unwrap_or_else(|| "the session ended".into()),
                    ));
                }
            }
        }
    }
}

impl Drop for Bastion {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.poke();
        if let Some(t) = lock(&self.thread).take() {
            let _ = t.join();
        }
    }
}

/// What the registry keeps per jump host: the live session (held by the hosts behind it),
/// and the last failure to open one (shared with the hosts that waited for that attempt).
#[derive(Default)]
struct Entry {
    bastion: Weak<Bastion>,
    failure: Option<(Instant, Error)>,
}

fn registry() -> &'static Mutex<HashMap<String, Arc<Mutex<Entry>>>> {
    static REG: OnceLock<Mutex<HashMap<String, Arc<Mutex<Entry>>>>> = OnceLock::new();
    REG.get_or_init(Default::default)
}

/// The session to jump host `t`: the open one if there is one, else a new one. Hosts that
/// ask while a session is being opened wait for it (one handshake per jump host), and
/// share its failure.
pub fn bastion(t: &Target, accept_new: bool, cancel: &CancelToken) -> Result<Arc<Bastion>, Error> {
    let key = key_of(t);
    let slot = lock(registry()).entry(key).or_default().clone();
    let asked = Instant::now();
    let mut e = lock(&slot);
    if let Some(b) = e.bastion.upgrade() {
        if b.alive() {
            return Ok(b);
        }
    }
    if let Some((at, err)) = &e.failure {
        if *at >= asked {
            return Err(err.clone());
        }
    }
    match Bastion::start(t, accept_new, cancel) {
        Ok(b) => {
            e.bastion = Arc::downgrade(&b);
            e.failure = None;
            Ok(b)
        }
        Err(err) => {
            if err.kind != ErrorKind::Cancelled {
                e.failure = Some((Instant::now(), err.clone()));
            }
            Err(err)
        }
    }
}

/// Most bytes buffered per direction and tunnel before the pump stops reading that side.
const BUFFERED: usize = 256 * 1024;
/// libssh2's "would block".
const EAGAIN: ErrorCode = ErrorCode::Session(-37);

/// One tunnel: a channel of the jump host's session and the pump's end of the socketpair.
struct Link {
    ch: Channel,
    sock: UnixStream,
    /// Read from the socket, not yet written to the channel.
    to_ch: Vec<u8>,
    /// Read from the channel, not yet written to the socket.
    to_sock: Vec<u8>,
    /// The inner session closed its end.
    sock_eof: bool,
    /// The socket failed (the inner session is gone).
    sock_dead: bool,
    eof_sent: bool,
    /// The target closed the connection.
    ch_eof: bool,
    sock_shut: bool,
    /// The channel failed.
    failed: bool,
}

fn would_block(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
    )
}

impl Link {
    fn new(ch: Channel, sock: UnixStream) -> Link {
        Link {
            ch,
            sock,
            to_ch: Vec::new(),
            to_sock: Vec::new(),
            sock_eof: false,
            sock_dead: false,
            eof_sent: false,
            ch_eof: false,
            sock_shut: false,
            failed: false,
        }
    }

    /// Move what can move without blocking. `Err`: the jump host's session failed.
    fn pump(&mut self, buf: &mut [u8]) -> Result<bool, String> {
        let mut progress = false;
        // Inner session → channel.
        if !self.sock_eof && self.to_ch.len() < BUFFERED {
            let room = (BUFFERED - self.to_ch.len()).min(buf.len());
            match (&self.sock).read(&mut buf[..room]) {
                Ok(0) => {
                    self.sock_eof = true;
                    progress = true;
                }
                Ok(n) => {
                    self.to_ch.extend_from_slice(&buf[..n]);
                    progress = true;
                }
                Err(e) if would_block(&e) => {}
                Err(_) => {
                    self.sock_eof = true;
                    self.sock_dead = true;
                }
            }
        }
        while !self.to_ch.is_empty() && !self.failed {
            match self.ch.write(&self.to_ch) {
                Ok(0) => break,
                Ok(n) => {
                    self.to_ch.drain(..n);
                    progress = true;
                }
                Err(e) if would_block(&e) => break,
                Err(_) => self.failed = true,
            }
        }
        if self.sock_eof && self.to_ch.is_empty() && !self.eof_sent && !self.failed {
            match self.ch.send_eof() {
                Ok(()) => {
                    self.eof_sent = true;
                    progress = true;
                }
                Err(e) if e.code() == EAGAIN => {}
                Err(_) => self.failed = true,
            }
        }
        // Channel → inner session.
        while !self.ch_eof && !self.failed && self.to_sock.len() < BUFFERED {
            let room = (BUFFERED - self.to_sock.len()).min(buf.len());
            match self.ch.read(&mut buf[..room]) {
                Ok(0) => {
                    if self.ch.eof() {
                        self.ch_eof = true;
                        progress = true;
                    }
                    break;
                }
                Ok(n) => {
                    self.to_sock.extend_from_slice(&buf[..n]);
                    progress = true;
                }
                Err(e) if would_block(&e) => break,
                Err(e) => return Err(e.to_string()),
            }
        }
        while !self.to_sock.is_empty() && !self.sock_dead {
            match (&self.sock).write(&self.to_sock) {
                Ok(0) => break,
                Ok(n) => {
                    self.to_sock.drain(..n);
                    progress = true;
                }
                Err(e) if would_block(&e) => break,
                Err(_) => {
                    self.to_sock.clear();
                    self.sock_dead = true;
                }
            }
        }
        if (self.ch_eof || self.failed) && self.to_sock.is_empty() && !self.sock_shut {
            // The target is gone: the inner session reads its end of file.
            let _ = self.sock.shutdown(Shutdown::Write);
            self.sock_shut = true;
            progress = true;
        }
        Ok(progress)
    }

    fn finished(&self) -> bool {
        self.sock_dead || (self.sock_eof && (self.eof_sent || self.failed))
    }
}

fn poll_all(fds: &mut [libc::pollfd], wait: Duration) {
    // SAFETY: poll(2) on a slice of pollfds we own for the call's duration.
    unsafe {
        libc::poll(
            fds.as_mut_ptr(),
            fds.len() as libc::nfds_t,
            wait.as_millis().min(1000) as i32,
        );
    }
}

/// The pump thread of one jump host: every libssh2 call on its session happens here.
fn pump(
    conn: session::Conn,
    rx: mpsc::Receiver<Request>,
    wake_rx: UnixStream,
    shared: Arc<Shared>,
) {
    let sess: Session = conn.session().clone();
    let fd = conn.fd();
    sess.set_blocking(false);
    let mut links: Vec<Link> = Vec::new();
    let mut closing: Vec<(Channel, Instant)> = Vec::new();
    let mut opening: VecDeque<Request> = VecDeque::new();
    let mut buf = vec![0u8; 32 * 1024];
    let mut broken: Option<String> = None;
    while !shared.stop.load(Ordering::SeqCst) {
        let mut b = [0u8; 64];
        while matches!((&wake_rx).read(&mut b), Ok(n) if n > 0) {}
        while let Ok(r) = rx.try_recv() {
            opening.push_back(r);
        }
        let mut progress = false;
        // One channel open at a time (libssh2 keeps one open in progress per session); a
        // request whose asker gave up is still completed, then its channel closed.
        if let Some(req) = opening.front_mut() {
            match sess.channel_direct_tcpip(&req.host, req.port, None) {
                Ok(ch) => {
                    progress = true;
                    let reply = req.reply.take();
                    opening.pop_front();
                    match (reply, UnixStream::pair()) {
                        (Some(reply), Ok((mine, theirs))) => {
                            let _ = mine.set_nonblocking(true);
                            if reply.send(Ok(theirs)).is_ok() {
                                *lock(&shared.opened) += 1;
                                links.push(Link::new(ch, mine));
                            } else {
                                closing.push((ch, Instant::now() + Duration::from_secs(2)));
                            }
                        }
                        (Some(reply), Err(e)) => {
                            let _ = reply.send(Err(OpenError::ConnectFailed(format!(
                                "cannot make a socket pair: {e}"
                            ))));
                            closing.push((ch, Instant::now() + Duration::from_secs(2)));
                        }
                        (None, _) => closing.push((ch, Instant::now() + Duration::from_secs(2))),
                    }
                }
                Err(e) if e.code() == EAGAIN => {
                    if req.reply.is_some() && Instant::now() >= req.deadline {
                        if let Some(r) = req.reply.take() {
                            let _ = r.send(Err(OpenError::TimedOut));
                        }
                    }
                }
                Err(e) => {
                    progress = true;
                    let msg = e.message().to_string();
                    // CHANNEL_FAILURE: the jump host answered no; anything else is the
                    // session itself.
                    let answer = if e.code() == ErrorCode::Session(-21) {
                        if msg.contains("administratively prohibited") {
                            OpenError::Refused(msg)
                        } else {
                            OpenError::ConnectFailed(msg)
                        }
                    } else {
                        broken = Some(msg.clone());
                        OpenError::Broken(msg)
                    };
                    if let Some(req) = opening.pop_front() {
                        if let Some(r) = req.reply {
                            let _ = r.send(Err(answer));
                        }
                    }
                }
            }
        }
        for l in links.iter_mut() {
            match l.pump(&mut buf) {
                Ok(p) => progress |= p,
                Err(why) => broken = Some(why),
            }
        }
        let mut i = 0;
        while i < links.len() {
            if links[i].finished() {
                let l = links.swap_remove(i);
                closing.push((l.ch, Instant::now() + Duration::from_secs(2)));
                progress = true;
            } else {
                i += 1;
            }
        }
        closing.retain_mut(|(ch, until)| match ch.close() {
            Err(e) if e.code() == EAGAIN => Instant::now() < *until,
            _ => false,
        });
        if let Some(why) = &broken {
            *lock(&shared.dead) = Some(why.clone());
            break;
        }
        if progress {
            continue;
        }
        // Wait for the jump host's socket (when some tunnel can take its data), the
        // sockets of the inner sessions, or a request.
        let mut fds: Vec<libc::pollfd> = Vec::with_capacity(links.len() + 2);
        let takes = links.is_empty()
            || !opening.is_empty()
            || !closing.is_empty()
            || links
                .iter()
                .any(|l| !l.ch_eof && l.to_sock.len() < BUFFERED);
        let mut ev: i16 = if takes { libc::POLLIN } else { 0 };
        if matches!(
            sess.block_directions(),
            ssh2::BlockDirections::Outbound | ssh2::BlockDirections::Both
        ) {
            ev |= libc::POLLOUT;
        }
        fds.push(libc::pollfd {
            fd,
            events: ev,
            revents: 0,
        });
        fds.push(libc::pollfd {
            fd: wake_rx.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        });
        for l in &links {
            let mut ev = 0;
            if !l.sock_eof && l.to_ch.len() < BUFFERED {
                ev |= libc::POLLIN;
            }
            if !l.to_sock.is_empty() {
                ev |= libc::POLLOUT;
            }
            fds.push(libc::pollfd {
                fd: l.sock.as_raw_fd(),
                events: ev,
                revents: 0,
            });
        }
        poll_all(&mut fds, Duration::from_millis(100));
    }
    // Stopping, or the session broke: every waiting asker hears it, every tunnel closes
    // (the inner sessions read their end of file).
    let why = broken.unwrap_or_else(|| "the session was closed".into());
    for req in opening {
        if let Some(r) = req.reply {
            let _ = r.send(Err(OpenError::Broken(why.clone())));
        }
    }
    drop(links);
    drop(closing);
    sess.set_blocking(true);
    sess.set_timeout(200);
    let _ = sess.disconnect(None, "hascript: done", None);
    drop(conn);
}

/// A tunnel to `t` (whose `jump` is `Some`) through its jump host: the jump host's session
/// (opened or shared), then a `direct-tcpip` channel to `t`'s address and port. A session
/// found broken is replaced once. Errors name the hop that failed.
pub fn tunnel(
    t: &Target,
    accept_new: bool,
    budget: Duration,
    cancel: &CancelToken,
) -> Result<(UnixStream, Arc<Bastion>), Error> {
    let Some(j) = t.jump.as_deref() else {
        return Err(t.err(ErrorKind::Transport, "no jump host".into()));
    };
    let through = format!("{} ({})", j.name, j.endpoint());
    let mut again = true;
    loop {
        let b = bastion(j, accept_new, cancel).map_err(|e| {
            let own = format!("{}: ", j.name);
            let msg = e.message.strip_prefix(&own).unwrap_or(&e.message);
            let msg = msg
                .strip_suffix("; nothing was sent to the host")
                .unwrap_or(msg);
            let mut out = Error::new(
                e.kind,
                format!(
                    "{}: cannot reach the jump host {through}: {msg}; nothing was sent to {}",
                    t.name, t.name
                ),
            )
            .on_host(&t.name);
            out.remedy = e.remedy.clone();
            out
        })?;
        let to = format!("{} port {}", t.connect_host, t.port);
        match b.open(&t.connect_host, t.port, budget, cancel) {
            Ok(s) => return Ok((s, b)),
            Err(OpenError::Broken(_)) if again => {
                again = false;
                continue;
            }
            Err(OpenError::Broken(why)) => {
                return Err(t.err(
                    ErrorKind::Transport,
                    format!(
                    "the session to the jump host {through} broke ({why}); nothing was sent to {}",
                    t.name
                ),
                ))
            }
            Err(OpenError::Cancelled) => return Err(Error::cancelled().on_host(&t.name)),
            Err(OpenError::TimedOut) => {
                return Err(t
                    .err(
                        ErrorKind::Transport,
                        format!(
                            "the jump host {through} did not open a connection to {to} within {} s \
                             (connect_timeout); nothing was sent to {}",
                            budget.as_secs_f64(),
                            t.name
                        ),
                    )
                    .with_remedy(
                        "check that the host is up and reachable from the jump host, or give it a \
                         longer connect_timeout",
                    ))
            }
            Err(OpenError::Refused(why)) => {
                return Err(t
                    .err(
                        ErrorKind::Transport,
                        format!(
                            "the jump host {through} refused to forward a connection to {to} \
                             ({why}); nothing was sent to {}",
                            t.name
                        ),
                    )
                    .with_remedy(format!(
                        "allow TCP forwarding for {} on the jump host (sshd_config: \
                         AllowTcpForwarding yes or local, and PermitOpen if set), or reach {} \
                         another way",
                        j.user, t.name
                    )))
            }
            Err(OpenError::ConnectFailed(why)) => {
                return Err(t
                    .err(
                        ErrorKind::Transport,
                        format!(
                            "the jump host {through} could not connect to {to} ({why}); nothing \
                             was sent to {}",
                            t.name
                        ),
                    )
                    .with_remedy(format!(
                        "check that {} is up and that its address and port, as the jump host \
                         sees them, are right ({})",
                        t.name, t.inventory_hint
                    )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hops_are_read_as_openssh_writes_them() {
        assert_eq!(parse_hops("none"), Ok(vec![]));
        let h = parse_hops("ops@bastion.example.com:2222, jump2,ssh://root@[fe80::1]:22")
            .unwrap_or_default();
        assert_eq!(h.len(), 3);
        assert_eq!(h[0].user.as_deref(), Some("ops"));
        assert_eq!(h[0].host, "bastion.example.com");
        assert_eq!(h[0].port, Some(2222));
        assert_eq!((h[1].user.clone(), h[1].port), (None, None));
        assert_eq!(h[2].host, "fe80::1");
        assert_eq!(h[2].to_string(), "root@[fe80::1]:22");
        assert_eq!(parse_hops("::1").unwrap_or_default()[0].host, "::1");
        for bad in ["", "a b", "h:0", "h:99999", "Bad User@h", "a,,b", "[::1"] {
            assert!(parse_hops(bad).is_err(), "{bad:?}");
        }
    }
}
