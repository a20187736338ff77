//! `ps -ef` (HP-UX): the processes of a guest, for B4 step 6 (find the monitored
//! application to kill it).
//!
//! ```text
//!      UID   PID  PPID  C    STIME TTY       TIME COMMAND
//!     root     1     0  0  Jul 28  ?         0:05 /sbin/init
//!     root  5012  4711  0 17:26:06 ?         0:00 /apps/ping_mon -i 10
//! ```
//!
//! `STIME` is a time of day (`hh:mm:ss`) for processes started today and `Mon dd` (two
//! words) before; the command is everything after `TIME`, spacing kept.

use serde::Serialize;

use super::text::{lines, tokens};
use super::ParseError;

const COMMAND: &str = "ps -ef";

/// One process of `ps -ef`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PsEntry {
    /// Owner.
    pub uid: String,
    /// Process id.
    pub pid: u32,
    /// Parent process id.
    pub ppid: u32,
    /// Start time as printed (`17:26:06`, `Jul 28`).
    pub stime: String,
    /// Terminal (`?`, `pts/0`).
    pub tty: String,
    /// CPU time as printed.
    pub time: String,
    /// The command line.
    pub command: String,
}

impl PsEntry {
    /// Whether this process runs `command` (the command line as the monitor names it:
    /// the same words, or the same program when `command` is one word).
    pub fn runs(&self, command: &str) -> bool {
        let want: Vec<&str> = command.split_whitespace().collect();
        let have: Vec<&str> = self.command.split_whitespace().collect();
        if want.is_empty() {
            return false;
        }
        if want == have {
            return true;
        }
        // `java -jar app.jar` shows as `/opt/java6/bin/java -jar app.jar`: compare the
        // program by its base name and the arguments word for word.
        let base = |p: &str| p.rsplit('/').next().unwrap_or(p).to_string();
        want.len() == have.len()
            && base(want[0]) == base(have[0])
            && want[1..] == have[1..]
            && (!want[0].contains('/') || !have[0].contains('/'))
    }
}

fn is_clock(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 2 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Parse `ps -ef` output. The header (`UID PID …`) is required; a row that cannot be read
/// is an error naming the line.
pub fn parse(text: &str) -> Result<Vec<PsEntry>, ParseError> {
    let mut out = Vec::new();
    let mut header = false;
    for (n, l) in lines(text) {
        if l.trim().is_empty() {
            continue;
        }
        let t = tokens(l);
        if !header {
            let words: Vec<&str> = t.iter().map(|w| w.text).collect();
            if words.first() == Some(&"UID") && words.contains(&"PID") && words.contains(&"COMMAND")
            {
                header = true;
                continue;
            }
            return Err(ParseError::new(
                COMMAND,
                n,
                format!(
                    "expected the header `UID PID PPID C STIME TTY TIME COMMAND`, found: {:?}",
                    l.trim()
                ),
            ));
        }
        let bad = |what: &str| ParseError::new(COMMAND, n, format!("{what} in: {:?}", l.trim()));
        if t.len() < 7 {
            return Err(bad("expected UID PID PPID C STIME TTY TIME COMMAND"));
        }
        let pid: u32 = t[1].text.parse().map_err(|_| bad("PID is not a number"))?;
        let ppid: u32 = t[2].text.parse().map_err(|_| bad("PPID is not a number"))?;
        let (stime, next) = if is_clock(t[4].text) {
            (t[4].text.to_string(), 5)
        } else if t[4].text.chars().all(|c| c.is_ascii_alphabetic())
            && t.get(5)
                .is_some_and(|d| d.text.bytes().all(|b| b.is_ascii_digit()))
        {
            (format!("{} {}", t[4].text, t[5].text), 6)
        } else {
            return Err(bad("STIME is neither hh:mm:ss nor `Mon dd`"));
        };
        let (Some(tty), Some(time)) = (t.get(next), t.get(next + 1)) else {
            return Err(bad("TTY and TIME are missing"));
        };
        let command = t
            .get(next + 2)
            .map(|c| l[c.byte..].trim_end().to_string())
            .unwrap_or_default();
        out.push(PsEntry {
            uid: t[0].text.to_string(),
            pid,
            ppid,
            stime,
            tty: tty.text.to_string(),
            time: time.text.to_string(),
            command,
        });
    }
    if !header {
        return Err(ParseError::new(
            COMMAND,
            0,
            "no output: expected the header `UID PID PPID C STIME TTY TIME COMMAND`",
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "     UID   PID  PPID  C    STIME TTY       TIME COMMAND\n    root     1     0  0  Jul 28  ?         0:05 /sbin/init\n    root  5012  4711  0 17:26:06 ?         0:00 /apps/ping_mon  -i 10\n    root  4711     1  0 17:20:00 pts/0     1:02 /opt/java6/bin/java -jar /opt/hp/cmappserver/cmappserver.jar -port 5315\n";

    #[test]
    fn reads_both_stime_forms_and_keeps_the_command() {
        let ps = parse(TEXT).unwrap_or_default();
        assert_eq!(ps.len(), 3);
        assert_eq!(ps[0].stime, "Jul 28");
        assert_eq!(ps[0].command, "/sbin/init");
        assert_eq!(ps[1].pid, 5012);
        assert_eq!(ps[1].ppid, 4711);
        assert_eq!(ps[1].command, "/apps/ping_mon  -i 10");
        assert_eq!(ps[2].tty, "pts/0");
        assert_eq!(ps[2].time, "1:02");
    }

    #[test]
    fn matches_the_monitored_command() {
        let ps = parse(TEXT).unwrap_or_default();
        assert!(ps[1].runs("/apps/ping_mon -i 10"));
        assert!(!ps[1].runs("/apps/ping_mon"));
        assert!(ps[2].runs("java -jar /opt/hp/cmappserver/cmappserver.jar -port 5315"));
        assert!(!ps[0].runs(""));
    }

    #[test]
    fn refuses_text_that_is_not_ps() {
        assert!(parse("hello\n").is_err());
        assert!(parse("").is_err());
        let e = parse("UID PID PPID C STIME TTY TIME COMMAND\nroot x 1 0 17:00:00 ? 0:00 a\n");
        assert_eq!(e.map_err(|e| e.line), Err(2));
        let e = parse("UID PID PPID C STIME TTY TIME COMMAND\nroot 5 1 0 yesterday ? 0:00 a\n");
        assert!(e.is_err());
    }
}
