//! Run ids, the SHA-256 of scripts, and who runs hascript from where.

use std::fs::File;
use std::time::Duration;

use super::calendar::{civil, wall};

/// A run id for a run starting at `since_epoch` with random `suffix`:
/// `20260728T172600.123Z-3f9a1c` (milliseconds, so that runs started within one second
/// still sort in start order).
pub fn run_id_at(since_epoch: Duration, suffix: u32) -> String {
    let secs = since_epoch.as_secs() as i64;
    let (y, mo, d) = civil(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}{mo:02}{d:02}T{:02}{:02}{:02}.{:03}Z-{:06x}",
        s / 3600,
        (s / 60) % 60,
        s % 60,
        since_epoch.subsec_millis(),
        suffix & 0xff_ffff
    )
}

/// A new run id (now, with 24 random bits from `/dev/urandom`, or from the clock and the
/// process id where it cannot be read).
pub fn new_run_id() -> String {
    let now = wall();
    let mut b = [0u8; 4];
    let random = File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut b))
        .is_ok();
    let suffix = if random {
        u32::from_le_bytes(b)
    } else {
        now.subsec_nanos() ^ std::process::id().rotate_left(12)
    };
    run_id_at(now, suffix)
}

/// Whether `s` looks like a run id (what `journal show` accepts as a prefix of one).
pub(super) fn id_chars(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

/// A script's identity is its SHA-256, a fact of the script (`scripts`), not of the journal.
pub use crate::scripts::sha256_hex;

/// The user running hascript: `$USER`, `$LOGNAME`, else `uid <n>`.
pub fn current_user() -> String {
    for v in ["USER", "LOGNAME"] {
        if let Ok(u) = std::env::var(v) {
            if !u.is_empty() {
                return u;
            }
        }
    }
    // SAFETY: getuid has no preconditions and cannot fail.
    format!("uid {}", unsafe { libc::getuid() })
}

/// This machine's host name (where the run is started from).
pub fn origin_host() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that much.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "unknown".into();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}
