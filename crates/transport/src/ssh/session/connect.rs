//! Opening a session: the handshake, host key verification before anything is sent,
//! keepalive, authentication.

use std::io::Write;

use hascript_api::{CancelToken, Error, ErrorKind};

use super::handshake::{handshake, handshake_with_retries, resolve_addrs, Route};
use super::target::Target;
use super::{ms, Conn};
use crate::ssh::auth;
use crate::ssh::known_hosts::{self, Verdict};

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
