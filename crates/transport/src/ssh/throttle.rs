//! Busy servers: how many handshakes hascript has in flight per server, the pause between
//! tries when a server dropped a connection before logging in, and what the socket says
//! about a failure.
//!
//! OpenSSH's sshd drops new connections while too many are not yet logged in (`MaxStartups`,
//! default `10:30:100`: from 10 on, 30 % of new ones, all of them from 100). A dropped
//! connection is closed before the SSH banner (sshd writes `Exceeded MaxStartups`), which
//! says nothing about the host's health: such a connection is tried again. Counting is
//! per sshd, which hascript cannot see; it counts per address and port, a heuristic that
//! holds the common cases (one host per address, or many names for one tunnel).

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

use hascript_api::{CancelToken, Error};

/// Default number of handshakes (TCP connection to the end of authentication) hascript
/// has in flight to one server address and port: under sshd's default `MaxStartups` of 10.
pub const DEFAULT_HANDSHAKES_PER_SERVER: usize = 8;

/// First pause after a dropped connection; it doubles per try up to [`BACKOFF_CAP`].
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
/// Longest pause between two tries.
const BACKOFF_CAP: Duration = Duration::from_millis(1600);

/// One server's handshakes in this process.
#[derive(Debug, Default)]
struct Server {
    /// Handshakes in flight.
    in_flight: usize,
    /// A lower limit learned from the server dropping connections (see [`Slot::dropped`]).
    learned: Option<usize>,
    /// Handshakes the server let through so far (each frees one of its MaxStartups).
    passes: u64,
}

#[derive(Default)]
struct Gate {
    servers: Mutex<HashMap<String, Server>>,
    freed: Condvar,
}

fn gate() -> &'static Gate {
    static GATE: OnceLock<Gate> = OnceLock::new();
    GATE.get_or_init(Gate::default)
}

fn servers(g: &Gate) -> std::sync::MutexGuard<'_, HashMap<String, Server>> {
    match g.servers.lock() {
        Ok(m) => m,
        Err(p) => p.into_inner(),
    }
}

/// A handshake slot on one server; dropping it frees the slot.
#[derive(Debug)]
pub struct Slot {
    server: String,
    limit: usize,
    /// `Some(true)`: the server let the handshake through; `Some(false)`: it dropped it.
    verdict: Cell<Option<bool>>,
}

impl Slot {
    /// The server let this handshake through: the learned limit grows by one (back to the
    /// configured one), as a server that throttled may have room again.
    pub fn passed(&self) {
        self.verdict.set(Some(true));
    }

    /// The server dropped this handshake before logging in: fewer at once, from now on, than
    /// were in flight when it did (at least one). Waiting hosts then queue here instead
    /// of being dropped by the server and backing off.
    pub fn dropped(&self) {
        self.verdict.set(Some(false));
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let g = gate();
        let mut map = servers(g);
        if let Some(s) = map.get_mut(&self.server) {
            match self.verdict.get() {
                Some(false) => {
                    let now = s.in_flight.saturating_sub(1).max(1);
                    s.learned = Some(s.learned.map_or(now, |l| l.min(now)));
                }
                Some(true) => {
                    s.learned = s.learned.map(|l| l + 1).filter(|l| *l < self.limit);
                    s.passes += 1;
                }
                None => {}
            }
            s.in_flight = s.in_flight.saturating_sub(1);
        }
        g.freed.notify_all();
    }
}

/// Wait for a handshake slot on `server` (at most `limit` at once in this process, fewer
/// while the server is dropping connections), checking `cancel` while waiting. Slots are
/// process-wide: every fan-out, lock round and single command of the run shares them.
pub fn slot(server: &str, limit: usize, cancel: &CancelToken) -> Result<Slot, Error> {
    let limit = limit.max(1);
    let g = gate();
    let mut map = servers(g);
    loop {
        let s = map.entry(server.to_string()).or_default();
        let now = s.learned.map_or(limit, |l| l.min(limit)).max(1);
        if s.in_flight < now {
            s.in_flight += 1;
            return Ok(Slot {
                server: server.to_string(),
                limit,
                verdict: Cell::new(None),
            });
        }
        if cancel.is_cancelled() {
            return Err(Error::cancelled());
        }
        // Woken when a slot is freed; the timeout only bounds how late a Ctrl-C is seen.
        map = match g.freed.wait_timeout(map, Duration::from_millis(100)) {
            Ok((m, _)) => m,
            Err(p) => p.into_inner().0,
        };
    }
}

/// Pause for `d` after `server` dropped a handshake, or less: until one of this process's
/// handshakes on that server ends logged in (the server has room again; the slots keep
/// the hosts that wake from rushing it). `true` when `cancel` fired.
pub fn pause(server: &str, d: Duration, cancel: &CancelToken) -> bool {
    let g = gate();
    let end = std::time::Instant::now() + d;
    let mut map = servers(g);
    let seen = map.get(server).map_or(0, |s| s.passes);
    loop {
        if cancel.is_cancelled() {
            return true;
        }
        if map.get(server).map_or(0, |s| s.passes) != seen {
            return false;
        }
        let now = std::time::Instant::now();
        if now >= end {
            return false;
        }
        let wait = (end - now).min(Duration::from_millis(100));
        map = match g.freed.wait_timeout(map, wait) {
            Ok((m, _)) => m,
            Err(p) => p.into_inner().0,
        };
    }
}

/// The pause before try `attempt + 1` (after `attempt` dropped tries, from 1): exponential
/// from 100 ms to 1.6 s, with "equal jitter" (half fixed, half random) so that hosts
/// dropped together do not come back together.
pub fn backoff(attempt: u32) -> Duration {
    let exp = BACKOFF_FIRST.saturating_mul(1u32 << attempt.saturating_sub(1).min(8));
    let base = exp.min(BACKOFF_CAP);
    let half = base / 2;
    let mut h = RandomState::new().build_hasher();
    h.write_u32(attempt);
    if let Ok(t) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u32(t.subsec_nanos());
    }
    let frac = (h.finish() % 1024) as u32;
    half + half * frac / 1024
}

/// What the kernel knows about a connection hascript still holds open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Socket {
    /// Still up.
    Open,
    /// The peer closed it (FIN received).
    ClosedByPeer,
    /// The peer reset it (RST received), or it failed.
    Reset,
    /// The state could not be read.
    Unknown,
}

/// The state of the TCP connection on `fd` (`TCP_INFO`): after a failed libssh2 call, this
/// tells a lost connection from a refusal, which libssh2's error codes do not (a reset
/// during the key exchange is reported as a key exchange failure, one during
/// authentication as an unverified key).
pub fn socket_state(fd: i32) -> Socket {
    // SAFETY: a zeroed tcp_info is a valid value of this plain C struct.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: getsockopt(2) on a socket we own, writing at most `len` bytes into `info`.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&mut info as *mut libc::tcp_info).cast(),
            &mut len,
        )
    };
    if rc != 0 || len < 1 {
        return Socket::Unknown;
    }
    // Linux's TCP states (include/net/tcp_states.h).
    const ESTABLISHED: u8 = 1;
    const CLOSE: u8 = 7;
    const CLOSE_WAIT: u8 = 8;
    match info.tcpi_state {
        ESTABLISHED => Socket::Open,
        CLOSE_WAIT => Socket::ClosedByPeer,
        CLOSE => Socket::Reset,
        _ => Socket::Unknown,
    }
}

/// The likely cause, for the error after the last try (and the book).
pub const THROTTLE_CAUSE: &str = "this is what sshd does when too many connections are not \
     logged in yet (MaxStartups in its sshd_config, default 10:30:100, counted across all \
     clients; from OpenSSH 9.8 also PerSourceMaxStartups and PerSourcePenalties); through a tunnel or a jump host, its sshd refusing the forwarded connection \
     (MaxSessions, MaxStartups) looks the same";

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Instant;

    #[test]
    fn backoff_doubles_to_its_cap_with_jitter_in_the_upper_half() {
        for attempt in 1..12u32 {
            let base = BACKOFF_FIRST
                .saturating_mul(1 << (attempt - 1).min(8))
                .min(BACKOFF_CAP);
            for _ in 0..20 {
                let d = backoff(attempt);
                assert!(
                    d >= base / 2 && d <= base,
                    "try {attempt}: {d:?} vs {base:?}"
                );
            }
        }
        let spread: std::collections::BTreeSet<Duration> = (0..50).map(|_| backoff(4)).collect();
        assert!(spread.len() > 5, "jitter: {spread:?}");
    }

    #[test]
    fn slots_limit_handshakes_per_server_and_never_across_servers() {
        let a = "127.9.0.1:2222";
        let b = "127.9.0.2:2222";
        let now = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let cancel = CancelToken::new();
        std::thread::scope(|s| {
            for _ in 0..12 {
                s.spawn(|| {
                    let _slot = slot(a, 3, &cancel).unwrap_or_else(|e| panic!("{e}"));
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(n, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    now.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        assert_eq!(most.load(Ordering::SeqCst), 3);
        // Another server is not held up by a full one.
        let held: Vec<Slot> = (0..3)
            .map(|_| slot(a, 3, &cancel).unwrap_or_else(|e| panic!("{e}")))
            .collect();
        let t = Instant::now();
        drop(slot(b, 3, &cancel).unwrap_or_else(|e| panic!("{e}")));
        assert!(t.elapsed() < Duration::from_millis(50));
        // A full server: the wait ends on Ctrl-C.
        let stop = CancelToken::new();
        stop.cancel();
        let e = slot(a, 3, &stop).err().map(|e| e.kind);
        assert_eq!(e, Some(hascript_api::ErrorKind::Cancelled));
        drop(held);
        drop(slot(a, 3, &cancel).unwrap_or_else(|e| panic!("{e}")));
    }

    #[test]
    fn a_server_that_drops_handshakes_gets_fewer_at_once_until_it_lets_them_through() {
        let a = "127.9.1.1:2222";
        let cancel = CancelToken::new();
        let take = || slot(a, 4, &cancel).unwrap_or_else(|e| panic!("{e}"));
        let free_now = || {
            let map = servers(gate());
            map.get(a)
                .map(|s| s.learned.map_or(4, |l| l.min(4)) - s.in_flight)
                .unwrap_or(4)
        };
        // Four in flight, three dropped by the server: two at once, then one.
        let s: Vec<Slot> = (0..4).map(|_| take()).collect();
        assert_eq!(free_now(), 0);
        for x in &s[..3] {
            x.dropped();
        }
        drop(s);
        assert_eq!(servers(gate()).get(a).and_then(|s| s.learned), Some(1));
        let one = take();
        assert_eq!(free_now(), 0, "one at a time now");
        // Let through: room for one more per success, back to the configured 4.
        one.passed();
        drop(one);
        assert_eq!(servers(gate()).get(a).and_then(|s| s.learned), Some(2));
        for _ in 0..2 {
            let x = take();
            x.passed();
        }
        assert_eq!(servers(gate()).get(a).and_then(|s| s.learned), None);
        assert_eq!(free_now(), 4);
    }
}
