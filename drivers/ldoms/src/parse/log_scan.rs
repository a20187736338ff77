//! Scanning `/var/adm/messages` (syslog) and the RMS `switchlog` for PRIMECLUSTER messages.
//!
//! The caller decodes the bytes (lossily: EUC-JP or Shift_JIS occur) and keeps only the lines
//! written since the run started; these functions only match.
//!
//! # Accepted layouts of a PRIMECLUSTER message number
//!
//! A number counts only where it stands as the message number of a PRIMECLUSTER component
//! tag: `FJSVcluster`, `SMAWsf`, `SMAWcf`, `SMAWRrms`, `SF`, `CF`, `RMS`, `cluster` (whole
//! words, case as written). Two layouts are accepted:
//!
//! 1. **Colon form** (the FJSVcluster messages, "FJSVcluster: severity: component: number:
//!    text", as the PRIMECLUSTER message guide §1.2 describes syslog messages and the GLS guide
//!    prints `FJSVhanet: ERROR: 29999: …`): the tag, optionally a `[pid]`, a colon, optionally
//!    a Solaris message id `[ID 702911 daemon.error]`, then colon-separated fields; the message
//!    number is the first field made only of digits, among the first five fields, all fields
//!    before it being single words (severity, component or command name, or the tag repeated
//!    after the Solaris prefix). Examples, all matching 7245:
//!
//!    ```text
//!    Jun  3 10:15:02 guest2 FJSVcluster: ERROR: clsnmpsetup: 7245: …
//!    FJSVcluster:ERROR:DEV:7245:…
//!    Jun  3 10:15:02 guest2 FJSVcluster[2345]: [ID 702911 daemon.error] FJSVcluster: ERROR: clsnmpsetup: 7245: …
//!    ```
//!
//! 2. **Parenthesised form** (the RMS style `(WRP, 34)`, component then number): `(tag, n)` or
//!    `(tag, n, n)` whose first field is one of the tags above and one of the following
//!    numeric fields is the number: `(SF, 7245)`, `(SMAWsf, 30, 7245)`.
//!
//! Never matched: a process id (`sshd[7245]:`, `FJSVcluster[7245]:`), an address or port
//! (`10.0.72.45`, `10.0.0.1:7245`), the Solaris message id (`[ID 7245 daemon.err]`), a number
//! in the free text after the message number or after a non-PRIMECLUSTER tag.
//!
//! The exact syslog layout of message 7245 is not given by the seed manual: the forms above
//! are the assumption written down in the book.
//!
//! # Time-sync warnings
//!
//! `(WRP, 34)` and `(WRP, 35)` followed by `Cluster host <host> is no longer in time sync with
//! local node.`, in the message guide's form or in the switchlog's
//! `yyyy-mm-dd hh:mm:ss.xxx: (WRP, 34): WARNING: Cluster host …` form (RMS guide 4.6, F.7.1).

use serde::Serialize;

use super::table::lines;

/// The PRIMECLUSTER component tags a message number may follow.
pub const TAGS: &[&str] = &[
    "FJSVcluster",
    "SMAWsf",
    "SMAWcf",
    "SMAWRrms",
    "SF",
    "CF",
    "RMS",
    "cluster",
];

/// A matching line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogHit {
    /// 1-based line number in the scanned text.
    pub line_no: usize,
    /// The line as decoded (CR removed).
    pub line: String,
}

/// A time-sync warning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimeSyncHit {
    /// 34 (first warning, switchlog or syslog) or 35 (repeated, syslog).
    pub code: u32,
    /// The cluster host named by the message.
    pub host: String,
    /// 1-based line number of the `(WRP, 3x)` line.
    pub line_no: usize,
    /// That line.
    pub line: String,
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Byte offsets just after each whole-word occurrence of a PRIMECLUSTER tag in `line`.
fn tag_ends(line: &str) -> Vec<usize> {
    let mut out = Vec::new();
    for tag in TAGS {
        for (i, _) in line.match_indices(tag) {
            let before_ok = line[..i]
                .chars()
                .next_back()
                .is_none_or(|c| !is_word_char(c));
            let end = i + tag.len();
            let after_ok = line[end..].chars().next().is_none_or(|c| !is_word_char(c));
            if before_ok && after_ok {
                out.push(end);
            }
        }
    }
    out
}

/// The message number of the colon form starting right after a tag, if any.
fn colon_form_number(rest: &str) -> Option<u64> {
    let mut s = rest;
    if let Some(r) = s.strip_prefix('[') {
        let end = r.find(']')?;
        let pid = &r[..end];
        if pid.is_empty() || !pid.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s = &r[end + 1..];
    }
    let s = s.trim_start_matches([' ', '\t']).strip_prefix(':')?;
    let mut s = s.trim_start();
    if s.starts_with("[ID ") {
        let end = s.find(']')?;
        s = s[end + 1..].trim_start();
    }
    for f in s.split(':').take(5) {
        let f = f.trim();
        if f.is_empty() || f.contains(char::is_whitespace) {
            return None;
        }
        if f.chars().all(|c| c.is_ascii_digit()) {
            return f.parse().ok();
        }
    }
    None
}

/// The fields of each `( … )` group of `line`, trimmed, with the byte offset after `)`.
fn paren_groups(line: &str) -> Vec<(Vec<&str>, usize)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = line[from..].find('(') {
        let open = from + open;
        let Some(close) = line[open..].find(')') else {
            break;
        };
        let close = open + close;
        out.push((
            line[open + 1..close].split(',').map(str::trim).collect(),
            close + 1,
        ));
        from = close + 1;
    }
    out
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_digit())
}

/// Whether `line` carries PRIMECLUSTER message `number` in one of the accepted layouts (see
/// the module documentation).
pub fn is_message(line: &str, number: u32) -> bool {
    let want = u64::from(number);
    if tag_ends(line)
        .into_iter()
        .any(|end| colon_form_number(&line[end..]) == Some(want))
    {
        return true;
    }
    paren_groups(line).into_iter().any(|(fields, _)| {
        fields.len() >= 2
            && TAGS.contains(&fields[0])
            && fields[1..].iter().all(|f| all_digits(f))
            && fields[1..]
                .iter()
                .any(|f| f.parse::<u64>().ok() == Some(want))
    })
}

/// The lines of `text` that carry PRIMECLUSTER message `number` (e.g. 7245: first SSH
/// connection to the XSCF not done), in order.
pub fn find_message(text: &str, number: u32) -> Vec<LogHit> {
    lines(text)
        .into_iter()
        .filter(|(_, l)| is_message(l, number))
        .map(|(n, l)| LogHit {
            line_no: n,
            line: l.to_string(),
        })
        .collect()
}

/// The host after `Cluster host ` in `s`, if the phrase is there.
fn cluster_host(s: &str) -> Option<String> {
    let i = s.find("Cluster host ")?;
    s[i + "Cluster host ".len()..]
        .split_whitespace()
        .next()
        .map(str::to_string)
}

/// The `(WRP, 34)` / `(WRP, 35)` time-sync warnings of `text` (syslog or switchlog), in order.
///
/// A hit needs `(WRP, 34)` or `(WRP, 35)` and, after it on the same line or on the next line,
/// `Cluster host <host>`; a bare `(WRP, 35)` elsewhere is not the warning.
pub fn find_time_sync(text: &str) -> Vec<TimeSyncHit> {
    let all = lines(text);
    let mut out = Vec::new();
    for (idx, &(n, l)) in all.iter().enumerate() {
        for (fields, after) in paren_groups(l) {
            let code = match fields.as_slice() {
                ["WRP", c] => match *c {
                    "34" => 34,
                    "35" => 35,
                    _ => continue,
                },
                _ => continue,
            };
            let Some(host) = cluster_host(&l[after..])
                .or_else(|| all.get(idx + 1).and_then(|(_, next)| cluster_host(next)))
            else {
                continue;
            };
            out.push(TimeSyncHit {
                code,
                host,
                line_no: n,
                line: l.to_string(),
            });
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_layouts() {
        for l in [
            "Jun  3 10:15:02 guest2 FJSVcluster: ERROR: clsnmpsetup: 7245: The first SSH connection",
            "FJSVcluster:ERROR:...:7245:",
            "FJSVcluster:ERROR:DEV:7245:x",
            "Jun  3 10:15:02 guest2 FJSVcluster[2345]: [ID 702911 daemon.error] FJSVcluster: ERROR: clsnmpsetup: 7245: x",
            "Jun  3 10:15:02 guest2 SMAWsf: (SF, 7245) x",
            "x (SMAWsf, 30, 7245) y",
        ] {
            assert!(is_message(l, 7245), "{l}");
        }
    }

    #[test]
    fn decoys() {
        for l in [
            "Jun  3 10:15:02 guest2 sshd[7245]: Accepted publickey for root from 10.0.72.45 port 7245",
            "Jun  3 10:15:02 guest2 FJSVcluster[7245]: FJSVcluster: INFO: DEV: 3044: started",
            "Jun  3 10:15:02 guest2 FJSVcluster: INFO: DEV: 3044: connect to 10.0.0.1:7245 failed",
            "Jun  3 10:15:02 guest2 genunix: [ID 7245 kern.notice] cluster started",
            "Jun  3 10:15:02 guest2 myapp: ERROR: x: 7245: not ours",
            "(WRP, 7245)",
            "FJSVclusterX: ERROR: x: 7245:",
        ] {
            assert!(!is_message(l, 7245), "{l}");
        }
    }

    #[test]
    fn time_sync() {
        let t = "2024-06-03 10:15:02.123: (WRP, 34): WARNING: Cluster host cfguest2RMS is no longer in time sync with local node. Sane operation of RMS can no longer be guaranteed.\n";
        let v = find_time_sync(t);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].code, 34);
        assert_eq!(v[0].host, "cfguest2RMS");
        assert_eq!(v[0].line_no, 1);
    }
}
