//! The key exchange and host key algorithms offered: modern ones, legacy (SHA-1) ones
//! only where a host allows them.

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
