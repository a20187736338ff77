//! A real terminal for the integration tests, through tmux (`/usr/bin/tmux`; CI installs
//! it): one tmux server of the test's own (`-L`) with one session, keys sent to it, its
//! screen captured and waited on; the server is killed when dropped.

#![allow(dead_code)] // each test file uses its own part

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One tmux server (socket `socket`) running one session named `session`.
pub struct Tmux {
    socket: String,
    session: String,
}

impl Tmux {
    /// A handle on the server `socket` and its session `session`; nothing is started yet
    /// (see [`Tmux::new_session`]).
    pub fn new(socket: String, session: &str) -> Tmux {
        Tmux {
            socket,
            session: session.to_string(),
        }
    }

    /// `tmux -L socket args`: its standard output.
    pub fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .stderr(Stdio::null())
            .output();
        match out {
            Ok(o) => String::from_utf8_lossy(&o.stdout).into_owned(),
            Err(e) => panic!("cannot run tmux (install it: apt-get install tmux): {e}"),
        }
    }

    /// Start the session in a detached `width`×`height` terminal running `command` (a
    /// shell line); a tmux that fails fails the test.
    pub fn new_session(&self, width: u16, height: u16, command: &str) {
        let (w, h) = (width.to_string(), height.to_string());
        let status = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args([
                "new-session",
                "-d",
                "-s",
                &self.session,
                "-x",
                &w,
                "-y",
                &h,
                command,
            ])
            .status();
        match status {
            Ok(s) if s.success() => {}
            Ok(s) => panic!("tmux new-session failed: {s}"),
            Err(e) => panic!("cannot run tmux (install it: apt-get install tmux): {e}"),
        }
    }

    /// Send key names (`Enter`, `C-c`, `Tab`…) to the session.
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.session];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    /// Type `text` literally.
    pub fn type_text(&self, text: &str) {
        // tmux reads a trailing `;` as its command separator: escape it.
        let text = match text.strip_suffix(';') {
            Some(t) => format!("{t}\\;"),
            None => text.to_string(),
        };
        self.tmux(&["send-keys", "-t", &self.session, "-l", &text]);
    }

    /// The session's screen: `capture-pane -p` with `flags` (e.g. `-e` for the escapes,
    /// `-S -200` for the scrollback).
    pub fn capture(&self, flags: &[&str]) -> String {
        let mut args = vec!["capture-pane", "-p"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["-t", &self.session]);
        self.tmux(&args)
    }

    /// Capture with `flags` every 100 ms until `ok` holds of the screen (`Ok(screen)`) or
    /// `within` has passed (`Err(the last screen)`, for the caller's message).
    pub fn wait_screen(
        &self,
        flags: &[&str],
        within: Duration,
        ok: impl Fn(&str) -> bool,
    ) -> Result<String, String> {
        let deadline = Instant::now() + within;
        loop {
            let s = self.capture(flags);
            if ok(&s) {
                return Ok(s);
            }
            if Instant::now() > deadline {
                return Err(s);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Whether the session still runs (its command has not ended).
    pub fn running(&self) -> bool {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(["has-session", "-t", &self.session])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .arg("kill-server")
            .stderr(Stdio::null())
            .status();
    }
}
