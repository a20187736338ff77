//! What of a command's output the journal keeps: excerpts, and the evidence kept whole.

use hascript_api::{Command, Effect, Program};

/// Output bytes (already redacted) as the journal keeps them: cut to about `limit` bytes
/// ([`excerpt_bytes`]), as text, and as base64 of the exact bytes when they are not UTF-8;
/// with the number of bytes cut.
pub(super) fn journal_text(bytes: &[u8], limit: usize) -> (String, Option<String>, u64) {
    use base64::Engine as _;
    let (cut, n) = excerpt_bytes(bytes, limit);
    match String::from_utf8(cut) {
        Ok(s) => (s, None, n),
        Err(e) => {
            let b = e.into_bytes();
            let b64 = base64::engine::general_purpose::STANDARD.encode(&b);
            (String::from_utf8_lossy(&b).into_owned(), Some(b64), n)
        }
    }
}

/// `bytes` cut to at most about `limit` bytes: head and tail kept around a
/// `[… N bytes cut …]` line, never splitting a UTF-8 character; and how many bytes were cut.
pub fn excerpt_bytes(bytes: &[u8], limit: usize) -> (Vec<u8>, u64) {
    if bytes.len() <= limit {
        return (bytes.to_vec(), 0);
    }
    // A UTF-8 continuation byte (10xxxxxx) is never where a cut goes, if a character
    // start is within reach (bytes that are not UTF-8 may have none).
    let continuation = |i: usize| bytes.get(i).is_some_and(|b| b & 0xC0 == 0x80);
    let half = limit / 2;
    let mut head = half;
    for _ in 0..3 {
        if continuation(head) {
            head = head.saturating_sub(1);
        }
    }
    let mut tail = bytes.len() - half;
    for _ in 0..3 {
        if continuation(tail) {
            tail += 1;
        }
    }
    let cut = (tail - head) as u64;
    let mut v = Vec::with_capacity(limit + 40);
    v.extend_from_slice(&bytes[..head]);
    v.extend_from_slice(format!("\n[… {cut} bytes cut …]\n").as_bytes());
    v.extend_from_slice(&bytes[tail..]);
    (v, cut)
}

/// `text` cut to at most about `limit` bytes (head and tail kept, on character
/// boundaries), and how many bytes were cut.
pub fn excerpt(text: &str, limit: usize) -> (String, u64) {
    if text.len() <= limit {
        return (text.to_string(), 0);
    }
    let half = limit / 2;
    let mut head = half;
    while !text.is_char_boundary(head) {
        head -= 1;
    }
    let mut tail = text.len() - half;
    while !text.is_char_boundary(tail) {
        tail += 1;
    }
    let cut = (tail - head) as u64;
    (
        format!(
            "{}\n[… {cut} bytes cut …]\n{}",
            &text[..head],
            &text[tail..]
        ),
        cut,
    )
}

/// Whether `cmd` reads one of the evidence outputs of procedures.md Part C: `cftool -n`,
/// `sdtool -s`, `clsnmpsetup -l`, `cfset -a`, `ldm list -p`, `ldm list-spconfig`,
/// `cmviewcl -v -f line`, or the package file (`cat /etc/cmcluster/…/*.conf`).
pub fn is_evidence(cmd: &Command) -> bool {
    if cmd.effect != Effect::Read {
        return false;
    }
    let Program::Argv(argv) = &cmd.program else {
        return false;
    };
    let Some((prog, args)) = argv.split_first() else {
        return false;
    };
    let base = prog.rsplit('/').next().unwrap_or(prog);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match (base, args.as_slice()) {
        ("cftool", ["-n"])
        | ("sdtool", ["-s"])
        | ("clsnmpsetup", ["-l"])
        | ("cfset", ["-a"])
        | ("ldm", ["list", "-p"])
        | ("ldm", ["list-spconfig"])
        | ("cmviewcl", ["-v", "-f", "line"]) => true,
        ("cat", [file]) => file.starts_with("/etc/cmcluster/") && file.ends_with(".conf"),
        _ => false,
    }
}
