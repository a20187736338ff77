//! OpenSSH `known_hosts` files: parsing, host matching (plain, wildcard, negated, `[host]:port`
//! and hashed `|1|salt|hash` entries), fingerprints, and the line hascript appends when
//! told to accept a new key. Pure functions, except [`append`].

use std::io::Write;
use std::path::Path;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::config::wildcard;

/// One key line of a known_hosts file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The host patterns (comma-separated field), or the hashed form.
    pub hosts: String,
    /// `@revoked` before the line.
    pub revoked: bool,
    /// Key type as written (`ssh-ed25519`, `ssh-rsa`, …).
    pub key_type: String,
    /// The decoded key blob.
    pub key: Vec<u8>,
    /// `file:line`, for messages.
    pub at: String,
}

/// Parse a known_hosts file's text. `@cert-authority` lines, comments and lines that cannot
/// be read are skipped (OpenSSH skips them too).
pub fn parse(file: &str, text: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split_whitespace();
        let mut first = fields.next().unwrap_or_default();
        let mut revoked = false;
        if first.starts_with('@') {
            if first == "@revoked" {
                revoked = true;
                first = fields.next().unwrap_or_default();
            } else {
                continue;
            }
        }
        let (Some(kt), Some(b64)) = (fields.next(), fields.next()) else {
            continue;
        };
        let Ok(key) = STANDARD.decode(b64) else {
            continue;
        };
        out.push(Entry {
            hosts: first.to_string(),
            revoked,
            key_type: kt.to_string(),
            key,
            at: format!("{file}:{}", i + 1),
        });
    }
    out
}

/// The name a host is recorded under: `host` for port 22, `[host]:port` otherwise.
pub fn lookup_name(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

/// The name the key of a host reached at `host`:`port` is looked up and recorded under, as
/// OpenSSH does (sshconnect.c, `get_hostfile_hostname_ipaddr`): the `HostKeyAlias` alone
/// when there is one, whatever the port (so a tunnel on 127.0.0.1:2201 with `HostKeyAlias
/// cd1` checks the key recorded for `cd1`), else [`lookup_name`].
pub fn host_key_name(alias: Option<&str>, host: &str, port: u16) -> String {
    match alias {
        Some(a) => a.to_string(),
        None => lookup_name(host, port),
    }
}

fn hashed_match(field: &str, name: &str) -> bool {
    let Some(rest) = field.strip_prefix("|1|") else {
        return false;
    };
    let Some((salt, hash)) = rest.split_once('|') else {
        return false;
    };
    let (Ok(salt), Ok(hash)) = (STANDARD.decode(salt), STANDARD.decode(hash)) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(&salt) else {
        return false;
    };
    mac.update(name.as_bytes());
    mac.verify_slice(&hash).is_ok()
}

/// Whether the entry's host field names `name` (a [`lookup_name`]).
pub fn entry_matches(e: &Entry, name: &str) -> bool {
    if e.hosts.starts_with("|1|") {
        return hashed_match(&e.hosts, name);
    }
    let name = name.to_ascii_lowercase();
    let mut hit = false;
    for p in e.hosts.split(',') {
        let p = p.to_ascii_lowercase();
        if let Some(neg) = p.strip_prefix('!') {
            if wildcard(neg, &name) {
                return false;
            }
        } else if wildcard(&p, &name) {
            hit = true;
        }
    }
    hit
}

/// The key type named inside a key blob (its first SSH string).
pub fn blob_type(blob: &[u8]) -> Option<String> {
    let len = u32::from_be_bytes(blob.get(..4)?.try_into().ok()?) as usize;
    let s = blob.get(4..4 + len)?;
    String::from_utf8(s.to_vec()).ok()
}

/// OpenSSH's fingerprint of a key blob: `SHA256:` and the unpadded base64 of its SHA-256.
pub fn fingerprint(blob: &[u8]) -> String {
    format!("SHA256:{}", STANDARD_NO_PAD.encode(Sha256::digest(blob)))
}

/// The verdict on the key a host offered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A recorded key matches (where).
    Known(String),
    /// No key is recorded for this host.
    Unknown,
    /// Keys are recorded for this host, none is the offered one: the recorded ones.
    Changed(Vec<Entry>),
    /// The offered key is marked `@revoked` (where).
    Revoked(String),
}

/// Check the `offered` key blob of the host recorded as `names` (the lookup names tried, in
/// order: the alias or host name, then the address) against `entries`.
pub fn check(entries: &[Entry], names: &[String], offered: &[u8]) -> Verdict {
    if let Some(r) = entries
        .iter()
        .find(|e| e.revoked && e.key == offered && names.iter().any(|n| entry_matches(e, n)))
    {
        return Verdict::Revoked(r.at.clone());
    }
    let mine: Vec<&Entry> = entries
        .iter()
        .filter(|e| !e.revoked && names.iter().any(|n| entry_matches(e, n)))
        .collect();
    if let Some(k) = mine.iter().find(|e| e.key == offered) {
        return Verdict::Known(k.at.clone());
    }
    if mine.is_empty() {
        Verdict::Unknown
    } else {
        Verdict::Changed(mine.into_iter().cloned().collect())
    }
}

/// The key types recorded for the host (to prefer them in the key exchange, as OpenSSH
/// does), in file order without repeats.
pub fn recorded_types(entries: &[Entry], names: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in entries
        .iter()
        .filter(|e| !e.revoked && names.iter().any(|n| entry_matches(e, n)))
    {
        let t = blob_type(&e.key).unwrap_or_else(|| e.key_type.clone());
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

/// The line recording `blob` for `name` (a [`lookup_name`]).
pub fn line_for(name: &str, blob: &[u8]) -> String {
    let kt = blob_type(blob).unwrap_or_else(|| "ssh-unknown".into());
    format!("{name} {kt} {}", STANDARD.encode(blob))
}

/// Append `line` to `path`, creating it (mode 0600, and its folder 0700) if missing. Never
/// rewrites what is there.
pub fn append(path: &Path, line: &str) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() && !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
    }
    let needs_newline = match std::fs::read(path) {
        Ok(b) => !b.is_empty() && !b.ends_with(b"\n"),
        Err(_) => false,
    };
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)?;
    let mut text = String::new();
    if needs_newline {
        text.push('\n');
    }
    text.push_str(line);
    text.push('\n');
    f.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Real ed25519 public keys (ssh-keygen output).
    const K1: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIDe8Sia9XzpVckIhR3zAyE6wH5qqUMTOLvRTQUDmTjLB";
    const K2: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIKpcO1VhM1UDxxO7F9TPgAcGsRl5FCX3duqD0HwCts7k";

    fn blob(k: &str) -> Vec<u8> {
        STANDARD.decode(k).unwrap_or_default()
    }

    /// `|1|salt|hash` for `name` with a fixed salt, as `ssh-keygen -H` writes it.
    fn hashed(name: &str) -> String {
        let salt = [7u8; 20];
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&salt).unwrap_or_else(|e| panic!("{e}"));
        mac.update(name.as_bytes());
        let h = mac.finalize().into_bytes();
        format!("|1|{}|{}", STANDARD.encode(salt), STANDARD.encode(h))
    }

    #[test]
    fn port_form_plain_wildcard_negation_and_hashes() {
        let text = format!(
            "# comment\n[127.0.0.2]:2222 ssh-ed25519 {K1}\ncd1,10.0.0.1 ssh-ed25519 {K1}\n\
             *.example.com,!bad.example.com ssh-ed25519 {K2}\n{} ssh-ed25519 {K2}\n\
             @cert-authority * ssh-ed25519 {K1}\nbroken line\n",
            hashed("[127.0.0.3]:2200")
        );
        let e = parse("kh", &text);
        assert_eq!(e.len(), 4);
        let n = |h: &str, p: u16| vec![lookup_name(h, p)];
        assert_eq!(
            check(&e, &n("127.0.0.2", 2222), &blob(K1)),
            Verdict::Known("kh:2".into())
        );
        assert_eq!(check(&e, &n("127.0.0.2", 22), &blob(K1)), Verdict::Unknown);
        assert_eq!(
            check(&e, &n("10.0.0.1", 22), &blob(K1)),
            Verdict::Known("kh:3".into())
        );
        assert!(matches!(
            check(&e, &n("a.example.com", 22), &blob(K2)),
            Verdict::Known(_)
        ));
        assert_eq!(
            check(&e, &n("bad.example.com", 22), &blob(K2)),
            Verdict::Unknown
        );
        assert_eq!(
            check(&e, &n("127.0.0.3", 2200), &blob(K2)),
            Verdict::Known("kh:5".into())
        );
        match check(&e, &n("127.0.0.3", 2200), &blob(K1)) {
            Verdict::Changed(old) => {
                assert_eq!(old.len(), 1);
                assert_eq!(old[0].at, "kh:5");
                assert_eq!(fingerprint(&old[0].key), fingerprint(&blob(K2)));
            }
            v => panic!("{v:?}"),
        }
        assert_eq!(recorded_types(&e, &n("cd1", 22)), ["ssh-ed25519"]);
    }

    #[test]
    fn host_key_alias_is_looked_up_alone_whatever_the_port() {
        assert_eq!(host_key_name(Some("cd1"), "127.0.0.1", 2201), "cd1");
        assert_eq!(host_key_name(Some("cd1"), "127.0.0.1", 22), "cd1");
        assert_eq!(host_key_name(None, "127.0.0.1", 2201), "[127.0.0.1]:2201");
        assert_eq!(host_key_name(None, "cd1", 22), "cd1");
        // The tunnel recipe's known_hosts line (`cd1 …`, as `ssh cd1` records it) matches;
        // one for `[cd1]:2201` does not (OpenSSH ignores it too).
        let text = format!("cd1 ssh-ed25519 {K1}\n[cd1]:2201 ssh-ed25519 {K2}\n");
        let e = parse("kh", &text);
        let names = [host_key_name(Some("cd1"), "127.0.0.1", 2201)];
        assert_eq!(check(&e, &names, &blob(K1)), Verdict::Known("kh:1".into()));
        assert!(matches!(check(&e, &names, &blob(K2)), Verdict::Changed(_)));
    }

    #[test]
    fn revoked_keys_are_refused() {
        let text = format!("@revoked * ssh-ed25519 {K1}\nh ssh-ed25519 {K1}\n");
        let e = parse("kh", &text);
        assert_eq!(
            check(&e, &["h".into()], &blob(K1)),
            Verdict::Revoked("kh:1".into())
        );
    }

    #[test]
    fn fingerprint_matches_ssh_keygen() {
        // `ssh-keygen -lf` of K1's file printed this.
        assert_eq!(
            fingerprint(&blob(K1)),
            "SHA256:old/4YnlcoucZzgHDUYN2jUNWt7Wrb0YqefiFLncP4Q"
        );
        assert_eq!(blob_type(&blob(K1)).as_deref(), Some("ssh-ed25519"));
        assert_eq!(blob_type(&[0, 0]), None);
    }

    #[test]
    fn append_adds_a_line_and_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let p = dir.path().join("sub/known_hosts");
        append(&p, &line_for("[h]:2", &blob(K1))).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(&p, format!("keep ssh-ed25519 {K2}")).unwrap_or_else(|e| panic!("{e}"));
        append(&p, &line_for("h", &blob(K1))).unwrap_or_else(|e| panic!("{e}"));
        let text = std::fs::read_to_string(&p).unwrap_or_default();
        assert_eq!(text, format!("keep ssh-ed25519 {K2}\nh ssh-ed25519 {K1}\n"));
        let e = parse("kh", &text);
        assert!(matches!(
            check(&e, &["h".into()], &blob(K1)),
            Verdict::Known(_)
        ));
    }
}
