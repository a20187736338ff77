//! Authentication: ssh-agent, then key files (ed25519, ECDSA, RSA with rsa-sha2; encrypted
//! ones with the inventory's `key_passphrase` or a passphrase asked on the terminal), then a
//! password only where the inventory names one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use hascript_api::{Error, ErrorKind};
use ssh2::{KeyboardInteractivePrompt, Prompt, Session};

use super::secret::Secret;
use super::session::{key_is_encrypted, Target};
use super::throttle;

/// Passphrases asked on the terminal in this run, by key file (asked once per key).
fn asked() -> &'static Mutex<HashMap<PathBuf, Secret>> {
    static ASKED: OnceLock<Mutex<HashMap<PathBuf, Secret>>> = OnceLock::new();
    ASKED.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Ask for a key's passphrase on the controlling terminal, echo off. `None` without a
/// terminal.
fn ask_passphrase(key: &Path, host: &str) -> Option<Secret> {
    let mut cache = match asked().lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    if let Some(s) = cache.get(key) {
        return Some(s.clone());
    }
    // rpassword: the prompt on `/dev/tty`, the answer read from it without echo; an error
    // (no terminal) is `None`.
    let v = rpassword::prompt_password(format!(
        "Enter passphrase for key {} (host {host}): ",
        key.display()
    ))
    .ok()?;
    let s = Secret::new(v);
    cache.insert(key.to_path_buf(), s.clone());
    Some(s)
}

struct PasswordPrompt<'a>(&'a str);

impl KeyboardInteractivePrompt for PasswordPrompt<'_> {
    fn prompt<'b>(&mut self, _user: &str, _instr: &str, prompts: &[Prompt<'b>]) -> Vec<String> {
        prompts
            .iter()
            .map(|p| {
                if p.text.to_ascii_lowercase().contains("password") {
                    self.0.to_string()
                } else {
                    String::new()
                }
            })
            .collect()
    }
}

/// The connection broke during authentication (as opposed to the server refusing a
/// login): a network or server problem, never reported as "authentication failed".
///
/// libssh2 reports a reset while waiting for the server's answer as an unverified key
/// (`-19`), so the socket decides: reset (RST), or closed by the server before it refused
/// anything (a server that refused logins and then closes is sshd's `MaxAuthTries`), or a
/// socket error code, or no answer within `connect_timeout`.
fn lost(
    t: &Target,
    fd: i32,
    e: &ssh2::Error,
    refused_before: bool,
    took: Duration,
    trying: &str,
) -> Option<Error> {
    let state = throttle::socket_state(fd);
    let why = if e.code() == ssh2::ErrorCode::Session(-9) || took >= t.connect_timeout {
        format!(
            "the server did not answer within {} s (connect_timeout)",
            t.connect_timeout.as_secs_f64()
        )
    } else if state == throttle::Socket::Reset {
        "the connection was reset".to_string()
    } else if state == throttle::Socket::ClosedByPeer && !refused_before {
        "the server closed the connection before answering".to_string()
    } else if matches!(
        e.code(),
        // SOCKET_SEND, SOCKET_DISCONNECT, SOCKET_RECV, BAD_SOCKET
        ssh2::ErrorCode::Session(-7 | -13 | -43 | -45)
    ) && state != throttle::Socket::Open
    {
        format!("the connection was lost ({})", e.message())
    } else {
        return None;
    };
    Some(
        Error::new(
            ErrorKind::Transport,
            format!(
                "{}: the connection to {} broke during authentication (while trying {trying}): \
                 {why}; this is a network or server problem, not a refused login; nothing was \
                 sent to the host",
                t.name,
                t.endpoint()
            ),
        )
        .on_host(&t.name)
        .with_remedy(
            "check the network path to the host and its sshd (its log says why the connection \
             ended), then run again",
        ),
    )
}

/// Authenticate `t.user` on `sess` (whose socket is `fd`), in the order agent → key files
/// → password.
pub fn authenticate(sess: &Session, t: &Target, fd: i32) -> Result<(), Error> {
    let user = t.user.as_str();
    let asked = Instant::now();
    let methods = match sess.auth_methods(user) {
        Ok(m) => m.to_string(),
        Err(_) if sess.authenticated() => return Ok(()),
        Err(e) => {
            if let Some(err) = lost(t, fd, &e, false, asked.elapsed(), "the methods it accepts") {
                return Err(err);
            }
            return Err(Error::new(
                ErrorKind::Transport,
                format!(
                    "{}: the server at {} did not answer the authentication request: {}",
                    t.name,
                    t.endpoint(),
                    e.message()
                ),
            )
            .on_host(&t.name));
        }
    };
    let mut tried: Vec<String> = Vec::new();
    // Whether the server refused an attempt with the connection still up (after that, a
    // server that closes is ending the login: MaxAuthTries).
    let mut refused = false;
    // A failed attempt: the connection's loss, or a refusal to go on from.
    let mut check = |r: Result<(), ssh2::Error>, took: Duration, what: &str| -> Result<(), Error> {
        if let Err(e) = r {
            if let Some(err) = lost(t, fd, &e, refused, took, what) {
                return Err(err);
            }
        }
        refused = true;
        Ok(())
    };
    if methods.contains("publickey") {
        if t.use_agent && std::env::var_os("SSH_AUTH_SOCK").is_some() {
            if let Ok(mut agent) = sess.agent() {
                if agent.connect().is_ok() && agent.list_identities().is_ok() {
                    let ids = agent.identities().unwrap_or_default();
                    for id in &ids {
                        let at = Instant::now();
                        let r = agent.userauth(user, id);
                        if r.is_ok() && sess.authenticated() {
                            return Ok(());
                        }
                        check(r, at.elapsed(), "a key of ssh-agent")?;
                    }
                    tried.push(format!("ssh-agent ({} keys)", ids.len()));
                    let _ = agent.disconnect();
                }
            }
        }
        for key in &t.identity_files {
            let Ok(text) = std::fs::read_to_string(key) else {
                continue;
            };
            let passphrase = if key_is_encrypted(&text) {
                match t
                    .key_passphrase
                    .clone()
                    .or_else(|| ask_passphrase(key, &t.name))
                {
                    Some(p) => Some(p),
                    None => {
                        tried.push(format!(
                            "{} (encrypted; no key_passphrase in the inventory and no terminal to ask on)",
                            key.display()
                        ));
                        continue;
                    }
                }
            } else {
                None
            };
            let at = Instant::now();
            let r =
                sess.userauth_pubkey_file(user, None, key, passphrase.as_ref().map(|p| p.expose()));
            if r.is_ok() && sess.authenticated() {
                return Ok(());
            }
            check(r, at.elapsed(), &format!("the key {}", key.display()))?;
            tried.push(key.display().to_string());
        }
    }
    if let Some(pw) = &t.password {
        if methods.contains("password") {
            let at = Instant::now();
            let r = sess.userauth_password(user, pw.expose());
            if r.is_ok() && sess.authenticated() {
                return Ok(());
            }
            check(r, at.elapsed(), "a password")?;
            tried.push("password".into());
        } else if methods.contains("keyboard-interactive") {
            let mut p = PasswordPrompt(pw.expose());
            let at = Instant::now();
            let r = sess.userauth_keyboard_interactive(user, &mut p);
            if r.is_ok() && sess.authenticated() {
                return Ok(());
            }
            check(r, at.elapsed(), "a password (keyboard-interactive)")?;
            tried.push("password (keyboard-interactive)".into());
        }
    }
    if tried.is_empty() {
        tried.push("nothing: no agent, no key file found".into());
    }
    Err(Error::new(
        ErrorKind::Transport,
        format!(
            "{}: authentication as {user} at {} failed (the server accepts: {methods}); tried {}",
            t.name,
            t.endpoint(),
            tried.join(", ")
        ),
    )
    .on_host(&t.name)
    .with_remedy(format!(
        "load a key into ssh-agent, name one with IdentityFile in ~/.ssh/config or identity_file \
         in the inventory ({}), or allow a password there with password = \"env:VARIABLE\"",
        t.inventory_hint
    )))
}
