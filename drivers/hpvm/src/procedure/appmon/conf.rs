//! The two configuration files of step 4 (B4): `/etc/cmappmgr.conf` on the VM hosts and
//! `cmappserver.conf` in the guest, edited line by line, written through standard input
//! with mode 0600 because they hold the store passwords.

use hascript_api::{Error, ErrorKind, Result};
use serde_json::{json, Value};

use super::{KeyOpts, CMAPPMGR_CONF, CMAPPSERVER_CONF, GUEST_DIR, HOST_KEY_DIR, SECRET_MODE};
use crate::commands as cmd;
use crate::facts::Inner;

/// `key=value` lines with `key` set to `value`: the first line of `key` whose value
/// satisfies `pick` is replaced; without one, the line is added after the last line of
/// `key` (or at the end). Other lines, comments and order are kept.
pub fn set_conf_line(text: &str, key: &str, value: &str, pick: impl Fn(&str) -> bool) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let key_of = |l: &str| -> Option<(String, String)> {
        let t = l.trim_start();
        if t.starts_with('#') {
            return None;
        }
        let (k, v) = t.split_once('=')?;
        Some((k.trim().to_string(), v.trim().to_string()))
    };
    let new = format!("{key}={value}");
    let mut last = None;
    let mut done = false;
    for (i, l) in lines.iter_mut().enumerate() {
        if let Some((k, v)) = key_of(l) {
            if k == key {
                last = Some(i);
                if !done && pick(&v) {
                    *l = new.clone();
                    done = true;
                }
            }
        }
    }
    if !done {
        match last {
            Some(i) => lines.insert(i + 1, new),
            None => lines.push(new),
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// `/etc/cmappmgr.conf` with this guest's settings (B4 step 2): `keyStore`,
/// `keyStorePassword`, `trustStorePassword`, and the `trustStore=<guest>:<path>` line of
/// `guest` (*assumed* form, see the book), other guests' `trustStore` lines kept.
pub fn cmappmgr_conf(existing: Option<&str>, guest: &str, o: &KeyOpts) -> String {
    let t = existing.unwrap_or("");
    let t = set_conf_line(
        t,
        "keyStore",
        &format!("{HOST_KEY_DIR}/client.private"),
        |_| true,
    );
    let t = set_conf_line(&t, "keyStorePassword", &o.client_password, |_| true);
    let prefix = format!("{guest}:");
    let t = set_conf_line(
        &t,
        "trustStore",
        &format!("{guest}:{HOST_KEY_DIR}/server_{guest}.public"),
        |v| v.starts_with(&prefix),
    );
    set_conf_line(&t, "trustStorePassword", &o.public_password, |_| true)
}

/// `/opt/hp/cmappserver/cmappserver.conf` (B4 step 4).
pub fn cmappserver_conf(existing: Option<&str>, o: &KeyOpts) -> String {
    let t = existing.unwrap_or("");
    let t = set_conf_line(
        t,
        "keyStore",
        &format!("{GUEST_DIR}/server.private"),
        |_| true,
    );
    let t = set_conf_line(&t, "keyStorePassword", &o.server_password, |_| true);
    let t = set_conf_line(
        &t,
        "trustStore",
        &format!("{GUEST_DIR}/client.public"),
        |_| true,
    );
    set_conf_line(&t, "trustStorePassword", &o.public_password, |_| true)
}

impl Inner {
    /// B4 step 2: `/etc/cmappmgr.conf` on VM host `host` with guest `guest`'s settings
    /// ([`cmappmgr_conf`]), through standard input with mode 0600 (not rewritten when the
    /// same). `#{host, path, changed, mode}`.
    pub fn appmon_cmappmgr_conf(&self, host: &str, guest: &str, o: &KeyOpts) -> Result<Value> {
        let host = self.resolve_host("VM host", host)?;
        let (guest, _) = self.appmon_guest(guest)?;
        let r: Result<bool> = (|| {
            let old = self.read_secret_file(&host, CMAPPMGR_CONF)?;
            let new = cmappmgr_conf(old.as_deref(), &guest, o);
            self.put_conf(&host, CMAPPMGR_CONF, old.as_deref(), &new)
        })();
        let changed = r.map_err(|e| self.appmon_err(e, o))?;
        Ok(json!({"host": host, "path": CMAPPMGR_CONF, "changed": changed, "mode": "0600"}))
    }

    /// B4 step 4: `cmappserver.conf` in the running guest `guest` ([`cmappserver_conf`]),
    /// through standard input with mode 0600. `#{host, path, changed, mode}`.
    pub fn appmon_cmappserver_conf(&self, guest: &str, o: &KeyOpts) -> Result<Value> {
        let (guest, vm) = self.appmon_guest(guest)?;
        self.appmon_guest_runs(&guest, &vm)?;
        let r: Result<bool> = (|| {
            let old = self.read_secret_file(&guest, CMAPPSERVER_CONF)?;
            let new = cmappserver_conf(old.as_deref(), o);
            self.put_conf(&guest, CMAPPSERVER_CONF, old.as_deref(), &new)
        })();
        let changed = r.map_err(|e| self.appmon_err(e, o))?;
        Ok(json!({"host": guest, "path": CMAPPSERVER_CONF, "changed": changed, "mode": "0600"}))
    }

    /// The text of a file that holds passwords in clear (`cat`, output marked secret so no
    /// journal keeps it); `None` when it does not exist.
    fn read_secret_file(&self, host: &str, path: &str) -> Result<Option<String>> {
        let c = cmd::cat(host, path)?.with_secret_output();
        let out = self.ctx.run(&c)?;
        if out.success() {
            return Ok(Some(out.stdout));
        }
        if out.stderr.contains("No such file or directory") || out.stderr.contains("cannot open") {
            return Ok(None);
        }
        Err(Error::new(
            ErrorKind::Command,
            format!("cannot read {path} on {host}: {}", out.stderr.trim()),
        )
        .on_host(host)
        .with_command(c.display())
        .with_status(&out.status))
    }

    /// Write a configuration file that holds passwords (mode 0600, through stdin) unless it
    /// already says exactly that with mode 0600. Returns whether it wrote.
    fn put_conf(&self, host: &str, path: &str, old: Option<&str>, new: &str) -> Result<bool> {
        if old == Some(new) {
            if let Some(e) = self.stat(host, path)? {
                if e.perm & 0o7777 == SECRET_MODE {
                    self.ctx
                        .ui
                        .info(&format!("{path} on {host} is up to date: not rewritten"));
                    return Ok(false);
                }
            }
        }
        self.write_file(host, path, SECRET_MODE, new.as_bytes())?;
        self.ctx
            .ui
            .info(&format!("{path} on {host} written (mode 0600)"));
        Ok(true)
    }
}
