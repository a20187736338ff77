//! Running one command on an open session: one channel at a time, both output streams
//! drained together (non-blocking, `poll(2)` on the socket), timeouts, the output limit,
//! cancellation, the sudo password.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use hascript_api::{CancelToken, Command, Error, ErrorKind, ExitStatus, Output};

use super::privilege::{remote_line, SUDO_PROMPT};
use super::target::Target;
use super::{ms, Conn};
use crate::ssh::options::Become;

/// How a command failed.
pub enum RunFail {
    /// The channel could not be opened: nothing reached the host (safe to retry on a new
    /// session).
    NotSent(Error),
    /// The session broke: drop it.
    Broken(Error),
    /// The command failed (timeout, output limit, cancellation); the session may be reused.
    Failed(Error),
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn poll_fd(fd: i32, events: i16, wait: Duration) {
    let mut p = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: poll(2) on one valid pollfd we own for the call's duration.
    unsafe {
        libc::poll(&mut p, 1, wait.as_millis().min(1000) as i32);
    }
}

fn io_broken(e: &std::io::Error) -> bool {
    !matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted
    )
}

impl Conn {
    /// Run `cmd` on this session.
    pub fn run(
        &mut self,
        t: &Target,
        cmd: &Command,
        cancel: &CancelToken,
    ) -> Result<Output, RunFail> {
        let r = self.run_once(t, cmd, cancel, self.needs_pty);
        if let Ok(o) = &r {
            let tty_refusal = o.code() == 1
                && t.become_ == Some(Become::Sudo)
                && !self.needs_pty
                && (o.stderr.contains("you must have a tty to run sudo")
                    || o.stderr.contains("a terminal is required"));
            if tty_refusal {
                // sudo refused before running anything (requiretty): again with a PTY.
                self.needs_pty = true;
                return self.run_once(t, cmd, cancel, true);
            }
        }
        r
    }

    /// Close a channel whose command is abandoned (timeout, limit, cancel). The server
    /// answers a close only when the command ends, so wait briefly: a timeout here still
    /// leaves the channel closed on our side and the session usable. `false` when the
    /// session itself failed.
    fn close_quietly(&self, ch: &mut ssh2::Channel) -> bool {
        self.sess.set_blocking(true);
        self.sess.set_timeout(200);
        match ch.close() {
            Ok(()) => true,
            Err(e) => matches!(
                e.code(),
                ssh2::ErrorCode::Session(-9) | ssh2::ErrorCode::Session(-37)
            ),
        }
    }

    fn run_once(
        &mut self,
        t: &Target,
        cmd: &Command,
        cancel: &CancelToken,
        pty: bool,
    ) -> Result<Output, RunFail> {
        let shown = cmd.display();
        let fail = |kind: ErrorKind, msg: String| t.err(kind, msg).with_command(shown.clone());
        let sudo_pw = match (t.become_, &t.become_password) {
            (Some(Become::Sudo), Some(p)) => Some(p.expose().to_string()),
            _ => None,
        };
        let line = remote_line(cmd, t.become_, sudo_pw.is_some());
        let timeout = cmd.timeout.unwrap_or(t.command_timeout);
        let start = Instant::now();
        let deadline = start + timeout;
        let sess = &self.sess;
        sess.set_blocking(true);
        sess.set_timeout(ms(t.connect_timeout.min(timeout)));
        let mut ch = sess.channel_session().map_err(|e| {
            let timed_out = e.code() == ssh2::ErrorCode::Session(-9);
            let why = if timed_out {
                "the host did not answer in time"
            } else {
                e.message()
            };
            let err = fail(
                if timed_out {
                    ErrorKind::Timeout
                } else {
                    ErrorKind::Transport
                },
                format!(
                    "cannot open a channel on {}: {why}; the command was not sent",
                    t.endpoint()
                ),
            );
            // A silent host is not retried within this command: its session is dropped
            // and the next command connects again.
            if timed_out {
                RunFail::Broken(err)
            } else {
                RunFail::NotSent(err)
            }
        })?;
        let broken = |what: &str, e: String| {
            RunFail::Broken(fail(
                ErrorKind::Transport,
                format!(
                    "the SSH session to {} broke ({what}): {e}; the command's outcome is unknown",
                    t.endpoint()
                ),
            ))
        };
        if pty {
            let mut modes = ssh2::PtyModes::new();
            modes.set_boolean(ssh2::PtyModeOpcode::ECHO, false);
            ch.request_pty("vt100", Some(modes), Some((200, 50, 0, 0)))
                .map_err(|e| broken("requesting a terminal", e.message().to_string()))?;
        }
        ch.exec(&line)
            .map_err(|e| broken("starting the command", e.message().to_string()))?;
        sess.set_blocking(false);

        let mut out: Vec<u8> = Vec::new();
        let mut err: Vec<u8> = Vec::new();
        let stdin_data: Vec<u8> = cmd.stdin.clone().unwrap_or_default();
        let mut stdin_pos = 0usize;
        let mut eof_sent = false;
        let mut pw_pending: Option<Vec<u8>> = None;
        let mut pw_sent = false;
        // With a sudo password, the command's own input waits until sudo has its password
        // (or the command has started talking, or 2 s passed: no password was asked).
        let mut hold_stdin = sudo_pw.is_some();
        let mut scanned = 0usize;
        // sudo ends its password prompt with a newline of its own: drop the first one that
        // follows the password (positions in stdout and stderr when it was sent).
        let mut strip_nl: Option<(usize, usize)> = None;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let mut progress = false;
            // Standard output, then standard error, each until it would block.
            for stream in [0, 1] {
                loop {
                    let r = if stream == 0 {
                        ch.read(&mut buf)
                    } else {
                        ch.stderr().read(&mut buf)
                    };
                    match r {
                        Ok(0) => break,
                        Ok(n) => {
                            progress = true;
                            if stream == 0 {
                                out.extend_from_slice(&buf[..n]);
                                // The command talks: no password was asked for.
                                if !pty && !pw_sent && pw_pending.is_none() {
                                    hold_stdin = false;
                                }
                            } else {
                                err.extend_from_slice(&buf[..n]);
                            }
                        }
                        Err(e) if !io_broken(&e) => break,
                        Err(e) => return Err(broken("reading the output", e.to_string())),
                    }
                    if out.len() + err.len() > t.output_limit {
                        break;
                    }
                }
            }
            if let Some((o, e)) = strip_nl {
                if out.len() > o {
                    if out[o] == b'\n' {
                        out.remove(o);
                    } else if out[o..].starts_with(b"\r\n") {
                        out.drain(o..o + 2);
                    }
                    strip_nl = None;
                } else if err.len() > e {
                    if err[e] == b'\n' {
                        err.remove(e);
                    }
                    strip_nl = None;
                }
            }
            // The sudo prompt (on stderr, or the terminal with a PTY).
            if let Some(pw) = &sudo_pw {
                let target: &mut Vec<u8> = if pty { &mut out } else { &mut err };
                let from = scanned.saturating_sub(SUDO_PROMPT.len()).min(target.len());
                if let Some(i) = find(&target[from..], SUDO_PROMPT.as_bytes()) {
                    let at = from + i;
                    target.drain(at..at + SUDO_PROMPT.len());
                    if pw_sent || pw_pending.is_some() {
                        let _ = self.close_quietly(&mut ch);
                        return Err(RunFail::Failed(
                            fail(
                                ErrorKind::Transport,
                                format!(
                                    "sudo on {} asked for the password again: it did not accept \
                                     become_password; the command did not run",
                                    t.endpoint()
                                ),
                            )
                            .with_remedy("check the secret named by become_password"),
                        ));
                    }
                    let mut line = pw.as_bytes().to_vec();
                    line.push(b'\n');
                    pw_pending = Some(line);
                }
                scanned = target.len();
            }
            if out.len() + err.len() > t.output_limit {
                let _ = self.close_quietly(&mut ch);
                return Err(RunFail::Failed(fail(
                    ErrorKind::Command,
                    format!(
                        "the output of the command on {} passed {} bytes (the output limit); \
                         hascript stopped reading and closed the channel",
                        t.name, t.output_limit
                    ),
                )));
            }
            // The password first, then standard input.
            if let Some(pw) = &mut pw_pending {
                match ch.write(pw) {
                    Ok(n) => {
                        pw.drain(..n);
                        progress = true;
                        if pw.is_empty() {
                            pw_pending = None;
                            pw_sent = true;
                            hold_stdin = false;
                            strip_nl = Some((out.len(), err.len()));
                        }
                    }
                    Err(e) if !io_broken(&e) => {}
                    Err(e) => return Err(broken("sending the sudo password", e.to_string())),
                }
            } else if hold_stdin && start.elapsed() > Duration::from_secs(2) {
                hold_stdin = false;
            }
            if !hold_stdin && pw_pending.is_none() && !eof_sent {
                if stdin_pos < stdin_data.len() {
                    match ch.write(&stdin_data[stdin_pos..]) {
                        Ok(n) => {
                            stdin_pos += n;
                            progress = true;
                        }
                        Err(e) if !io_broken(&e) => {}
                        // The command closed its input early: not an error.
                        Err(_) => stdin_pos = stdin_data.len(),
                    }
                }
                if stdin_pos >= stdin_data.len() {
                    if pty {
                        // A terminal has no end of input; the command ends on its own.
                        eof_sent = true;
                    } else {
                        match ch.send_eof().map_err(std::io::Error::from) {
                            Ok(()) => eof_sent = true,
                            Err(e) if !io_broken(&e) => {}
                            Err(_) => eof_sent = true,
                        }
                    }
                }
            }
            if ch.eof() {
                break;
            }
            if cancel.is_cancelled() {
                let _ = self.close_quietly(&mut ch);
                return Err(RunFail::Failed(
                    Error::cancelled()
                        .on_host(&t.name)
                        .with_command(shown.clone()),
                ));
            }
            if Instant::now() >= deadline {
                let closed = self.close_quietly(&mut ch);
                let e = fail(
                    ErrorKind::Timeout,
                    format!(
                        "`{shown}` on {} did not finish within {} s; hascript closed its channel \
                         (the command may still be running on the host)",
                        t.name,
                        timeout.as_secs_f64()
                    ),
                );
                return Err(if closed {
                    RunFail::Failed(e)
                } else {
                    RunFail::Broken(e)
                });
            }
            if !progress && ch.read_window().available == 0 {
                let events = match sess.block_directions() {
                    ssh2::BlockDirections::Outbound => libc::POLLOUT,
                    ssh2::BlockDirections::Both => libc::POLLIN | libc::POLLOUT,
                    _ => libc::POLLIN,
                };
                let left = deadline.saturating_duration_since(Instant::now());
                poll_fd(self.fd, events, left.min(Duration::from_millis(50)));
            }
        }
        // Collect the exit status.
        sess.set_blocking(true);
        let left = deadline.saturating_duration_since(Instant::now());
        sess.set_timeout(ms(left.max(Duration::from_secs(2))));
        // Anything still queued after EOF.
        let mut tail = Vec::new();
        let _ = ch.read_to_end(&mut tail);
        out.extend_from_slice(&tail);
        tail.clear();
        let _ = ch.stderr().read_to_end(&mut tail);
        err.extend_from_slice(&tail);
        if let Err(e) = ch.wait_close() {
            return Err(broken(
                "waiting for the command to end",
                e.message().to_string(),
            ));
        }
        let status = match ch.exit_signal() {
            Ok(sig) if sig.exit_signal.is_some() => {
                ExitStatus::Signal(sig.exit_signal.unwrap_or_default())
            }
            _ => match ch.exit_status() {
                Ok(c) => ExitStatus::Code(c),
                Err(e) => return Err(broken("reading the exit status", e.message().to_string())),
            },
        };
        if pty {
            // The terminal turned each LF into CRLF: undo it on the bytes.
            out = crlf_to_lf(&out);
        }
        // The bytes as the host wrote them: text for parsers, the exact bytes kept too where
        // they are not UTF-8.
        let o = Output::from_bytes(status, out, err);
        if t.become_ == Some(Become::Sudo)
            && sudo_pw.is_none()
            && o.code() == 1
            && o.stderr.contains("a password is required")
        {
            return Err(RunFail::Failed(
                fail(
                    ErrorKind::Transport,
                    format!("sudo on {} needs a password; the command did not run", t.endpoint()),
                )
                .with_remedy(format!(
                    "name it in the inventory: become_password = \"env:VARIABLE\" or \"file:PATH\" ({})",
                    t.inventory_hint
                )),
            ));
        }
        Ok(o)
    }
}

/// `bytes` with every CR LF pair made one LF (what a PTY's output post-processing added).
fn crlf_to_lf(bytes: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        v.push(bytes[i]);
        i += 1;
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_becomes_lf_on_bytes() {
        assert_eq!(crlf_to_lf(b"a\r\nb\r\xff\r\n"), b"a\nb\r\xff\n".to_vec());
    }
}
