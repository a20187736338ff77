//! Guest application monitoring (B4): the operations behind `hpvm/setup-appmon-keys` (the
//! keys and configuration files of steps 1, 2 and 4: [`Inner::appmon_plan`],
//! [`Inner::appmon_client_keys`], [`Inner::appmon_server_keys`], the copies and the two
//! configuration files) and `hpvm/test-app-monitor` (step 6: [`Inner::app_monitor`],
//! [`Inner::kill_app`] and the waits), one manual action each; the sequences are the
//! scripts'.
//!
//! Keys: on one VM host, in `/etc/cmcluster/cmappmgr`, `keytool -genkey` (with `-dname`,
//! so nothing is asked), `-export` and `-import` make `client.private` and `client.public`;
//! in the guest, in `/opt/hp/cmappserver`, the same make `server.private` and
//! `server.public`. `client.public` goes to the guest, the guest's `server.public` to the
//! host as `server_<guest>.public`, then every key file to the other VM hosts. Key stores
//! are binary (JKS): they are read with `od -A n -v -t x1` and written whole through
//! standard input, never through a text decode. Existing stores are kept and reused (the
//! password is checked with `keytool -list`) unless `regenerate` is asked; then the old
//! ones are moved aside (`F.<YYYYMMDD-HHMMSS>`), not deleted.
//!
//! The store passwords are secrets: every `keytool` command carries them with
//! [`hascript_api::Command::with_secret`] (HP-UX Java 1.4–1.6 `keytool` takes them only on
//! its command line), the configuration files that hold them in clear are written through
//! standard input with mode 0600, and no message, value or error of this module contains
//! them.

use std::fmt;
use std::time::Duration;

use hascript_api::operations::{opt_secs, opt_str};
use hascript_api::{validate_name, Error, ErrorKind, Result};
use serde_json::{json, Value};

use super::after_change;
use super::package::timestamp;
use crate::commands as cmd;
use crate::facts::{is_cancel, Inner};
use crate::parse::cmviewcl_line::{MaxRestarts, PackageView, Status};
use crate::parse::{od_hex, ps_ef};
use hascript_api::WaitEnd;

/// Where `cmappmgr`'s keys live on the VM hosts.
pub const HOST_KEY_DIR: &str = "/etc/cmcluster/cmappmgr";
/// Where `cmappserver` and its keys live in an HP-UX or Linux guest.
pub const GUEST_DIR: &str = "/opt/hp/cmappserver";
/// `cmappmgr`'s configuration on the VM hosts.
pub const CMAPPMGR_CONF: &str = "/etc/cmappmgr.conf";
/// `cmappserver`'s configuration in the guest.
pub const CMAPPSERVER_CONF: &str = "/opt/hp/cmappserver/cmappserver.conf";
/// Mode of files that hold passwords or private keys.
pub const SECRET_MODE: u32 = 0o600;
/// Mode of public key stores.
pub const PUBLIC_MODE: u32 = 0o644;
/// The manual's `-validity` (days).
pub const VALIDITY_DAYS: u32 = 400;
/// Default deadline of the failure test.
pub const TEST_DEADLINE: Duration = Duration::from_secs(600);
/// Poll interval of the failure test.
pub const TEST_POLL: Duration = Duration::from_secs(5);

/// The key options of the B4 key operations (`keys` of [`Inner::appmon_client_keys`] and
/// the others). Its `Debug` never shows the passwords.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyOpts {
    /// Store password of `client.private` (`keyStorePassword` of `cmappmgr.conf`; the
    /// manual's default `clientpw`).
    pub client_password: String,
    /// Store password of `server.private` (`keyStorePassword` of `cmappserver.conf`;
    /// default `serverpw`).
    pub server_password: String,
    /// Store password of the public stores (`trustStorePassword` of both files; default
    /// `public`).
    pub public_password: String,
    /// Make new keys even where stores exist (the old ones are moved aside).
    pub regenerate: bool,
    /// The VM host that makes the client keys (default: the first VM host that has them,
    /// else the first VM host of the inventory).
    pub host: Option<String>,
    /// `-dname` of the client key (default `CN=<host>, OU=cmappmgr, O=Serviceguard`).
    pub dname_client: Option<String>,
    /// `-dname` of the server key (default `CN=<guest>, OU=cmappserver, O=Serviceguard`).
    pub dname_server: Option<String>,
    /// `-validity` in days (the manual's 400).
    pub validity: u32,
}

impl fmt::Debug for KeyOpts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyOpts")
            .field("client_password", &"*****")
            .field("server_password", &"*****")
            .field("public_password", &"*****")
            .field("regenerate", &self.regenerate)
            .field("host", &self.host)
            .field("dname_client", &self.dname_client)
            .field("dname_server", &self.dname_server)
            .field("validity", &self.validity)
            .finish()
    }
}

const KEY_OPTIONS: &str = "client_password, server_password, public_password (strings), regenerate (bool), host, dname_client, dname_server (strings), validity (days)";

impl KeyOpts {
    /// Read the options map; unknown keys, missing passwords and wrong types are usage
    /// errors that name the key, never the value.
    pub fn from_value(v: &Value) -> Result<KeyOpts> {
        let m = v.as_object().ok_or_else(|| {
            Error::usage(format!(
                "the application-monitoring key options must be a map with {KEY_OPTIONS}"
            ))
        })?;
        let string = |k: &str| -> Result<Option<String>> {
            match m.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(Error::usage(format!(
                    "key options: option `{k}` must be a string"
                ))),
            }
        };
        for k in m.keys() {
            if ![
                "client_password",
                "server_password",
                "public_password",
                "regenerate",
                "host",
                "dname_client",
                "dname_server",
                "validity",
            ]
            .contains(&k.as_str())
            {
                return Err(Error::usage(format!(
                    "key options: unknown option `{k}`; the options are {KEY_OPTIONS}"
                )));
            }
        }
        // Checked here, before any operation changes anything (a regeneration moves the
        // old stores aside first): the message names the option, never the value.
        let password = |k: &str| -> Result<String> {
            let pw = string(k)?.filter(|s| !s.is_empty()).ok_or_else(|| {
                Error::usage(format!(
                    "key options: option `{k}` (a key store password) is required"
                ))
            })?;
            cmd::secret_word(&pw)
                .map_err(|e| Error::usage(format!("key options: option `{k}`: {}", e.message)))?;
            Ok(pw)
        };
        let dname = |k: &str| -> Result<Option<String>> {
            let d = string(k)?;
            if let Some(d) = &d {
                cmd::dname_ok(d).map_err(|e| {
                    Error::usage(format!("key options: option `{k}`: {}", e.message))
                })?;
            }
            Ok(d)
        };
        let regenerate = match m.get("regenerate") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(Error::usage(
                    "key options: option `regenerate` must be true or false",
                ))
            }
        };
        let validity = match m.get("validity") {
            None | Some(Value::Null) => VALIDITY_DAYS,
            Some(v) => v
                .as_u64()
                .filter(|d| (1..=36_500).contains(d))
                .map(|d| d as u32)
                .ok_or_else(|| {
                    Error::usage(
                        "key options: option `validity` must be a number of days from 1 to 36500",
                    )
                })?,
        };
        Ok(KeyOpts {
            client_password: password("client_password")?,
            server_password: password("server_password")?,
            public_password: password("public_password")?,
            regenerate,
            host: string("host")?,
            dname_client: dname("dname_client")?,
            dname_server: dname("dname_server")?,
            validity,
        })
    }
}

/// One side's key stores: the host side (`client`) or the guest side (`server`).
struct Side<'a> {
    host: &'a str,
    dir: &'a str,
    private_alias: &'static str,
    private_file: &'static str,
    public_alias: &'static str,
    public_file: &'static str,
    password: &'a str,
    dname: String,
}

impl Side<'_> {
    fn private(&self) -> String {
        format!("{}/{}", self.dir, self.private_file)
    }
    fn public(&self) -> String {
        format!("{}/{}", self.dir, self.public_file)
    }
    fn temp(&self) -> String {
        format!("{}/temp.key", self.dir)
    }
}

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

/// An application monitor of a package file: a `cmappmgr` service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorService {
    /// `service_name`.
    pub service: String,
    /// `-node`: the guest's node name.
    pub node: String,
    /// `-service`: the monitored command line in the guest.
    pub command: String,
}

/// The `cmappmgr` service behind `service_cmd`, when it is one.
pub fn monitor_of(service: &str, service_cmd: &str) -> Option<MonitorService> {
    let words: Vec<&str> = service_cmd.split_whitespace().collect();
    if !words.first().is_some_and(|w| w.ends_with("cmappmgr")) {
        return None;
    }
    let node = words
        .windows(2)
        .find(|w| w[0] == "-node")
        .map(|w| w[1].to_string())?;
    let at = service_cmd.find(" -service ")?;
    let command = service_cmd[at + " -service ".len()..].trim().to_string();
    (!command.is_empty()).then(|| MonitorService {
        service: service.to_string(),
        node,
        command,
    })
}

/// What one poll of the failure test saw.
#[derive(Debug, Clone)]
struct Seen {
    owner: Option<String>,
    status: String,
    restarts: Option<u32>,
}

impl Inner {
    /// The inventory guest named `guest` (host or VM name): `(host name, VM name)`.
    fn appmon_guest(&self, guest: &str) -> Result<(String, String)> {
        validate_name("guest", guest)?;
        let g = self.topo.guest(guest).cloned().ok_or_else(|| {
            Error::usage(format!(
                "{guest:?} is not a guest of the inventory (role vm-guest): the server keys are made inside the guest, so hascript must be able to reach it; the inventory's guests are {}",
                if self.topo.guests.is_empty() { "none".to_string() } else { self.topo.guests.iter().map(|g| g.name.clone()).collect::<Vec<_>>().join(", ") }
            ))
        })?;
        Ok((g.name, g.vm))
    }

    /// Refused unless the guest (VM `vm`) runs: `keytool` and the files are inside it.
    fn appmon_guest_runs(&self, name: &str, vm: &str) -> Result<()> {
        if self.running_on(vm)?.is_empty() {
            return Err(Error::check(format!(
                "guest {name} (VM {vm}) runs on no VM host: the server keys are made inside the running guest"
            ))
            .with_remedy(format!("start the package or the guest first (hascript run hpvm/run-package -p package={vm})")));
        }
        Ok(())
    }

    /// B4 (read, before any change): the guest of `package` (an inventory host of role
    /// vm-guest, running), the VM hosts, and the VM host that makes (or holds) the client
    /// keys: `host` when given, else the first VM host with `client.private`, else the
    /// first VM host. `#{guest, vm, key_host, hosts}`.
    pub fn appmon_plan(&self, package: &str, host: Option<&str>) -> Result<Value> {
        let (guest, vm) = self.appmon_guest(package)?;
        if self.topo.vm_hosts.is_empty() {
            return Err(Error::usage("the inventory has no VM host (role vm-host)"));
        }
        let hosts = self.topo.vm_host_names();
        let key_host = match host {
            Some(h) => self.resolve_host("VM host", h)?,
            None => self.pick_key_host(&hosts)?,
        };
        self.appmon_guest_runs(&guest, &vm)?;
        Ok(json!({"guest": guest, "vm": vm, "key_host": key_host, "hosts": hosts}))
    }

    /// An error of a key operation: no password in it, and marked as after a change.
    fn appmon_err(&self, e: Error, o: &KeyOpts) -> Error {
        after_change(self.redact_error(e, o))
    }

    /// B4 step 1, host side: `client.private` and `client.public` on VM host `host` in
    /// `/etc/cmcluster/cmappmgr`. `#{host, keys}`: `made`, `reused` or `completed`.
    pub fn appmon_client_keys(&self, host: &str, o: &KeyOpts) -> Result<Value> {
        let host = self.resolve_host("VM host", host)?;
        let side = Side {
            host: &host,
            dir: HOST_KEY_DIR,
            private_alias: "clientprivate",
            private_file: "client.private",
            public_alias: "clientpublic",
            public_file: "client.public",
            password: &o.client_password,
            dname: o
                .dname_client
                .clone()
                .unwrap_or_else(|| format!("CN={host}, OU=cmappmgr, O=Serviceguard")),
        };
        let stamp = timestamp(self.now());
        let state = self
            .ensure_keys(&side, o, &stamp)
            .map_err(|e| self.appmon_err(e, o))?;
        Ok(json!({"host": host, "keys": state}))
    }

    /// B4 step 1, guest side: `server.private` and `server.public` in the running guest
    /// `guest` in `/opt/hp/cmappserver`. `#{guest, keys}`.
    pub fn appmon_server_keys(&self, guest: &str, o: &KeyOpts) -> Result<Value> {
        let (guest, vm) = self.appmon_guest(guest)?;
        self.appmon_guest_runs(&guest, &vm)?;
        let side = Side {
            host: &guest,
            dir: GUEST_DIR,
            private_alias: "serverprivate",
            private_file: "server.private",
            public_alias: "serverpublic",
            public_file: "server.public",
            password: &o.server_password,
            dname: o
                .dname_server
                .clone()
                .unwrap_or_else(|| format!("CN={guest}, OU=cmappserver, O=Serviceguard")),
        };
        let stamp = timestamp(self.now());
        let state = self
            .ensure_keys(&side, o, &stamp)
            .map_err(|e| self.appmon_err(e, o))?;
        Ok(json!({"guest": guest, "keys": state}))
    }

    /// B4 step 1: `client.public` of VM host `host` copied into guest `guest` (bytes, mode
    /// 0644; not rewritten when the same). `#{file, from, to, copied}`.
    pub fn appmon_copy_client_public(&self, host: &str, guest: &str) -> Result<Value> {
        let host = self.resolve_host("VM host", host)?;
        let (guest, _) = self.appmon_guest(guest)?;
        let r: Result<bool> = (|| {
            let data = self.read_bytes(&host, &format!("{HOST_KEY_DIR}/client.public"))?;
            self.put_bytes(
                &guest,
                &format!("{GUEST_DIR}/client.public"),
                PUBLIC_MODE,
                &data,
            )
        })();
        let copied = r.map_err(after_change)?;
        Ok(json!({"file": "client.public", "from": host, "to": guest, "copied": copied}))
    }

    /// B4 step 1: the guest's `server.public` copied to VM host `host` as
    /// `server_<guest>.public` (mode 0644). `#{file, as, from, to, copied, trust_store}`.
    pub fn appmon_copy_server_public(&self, guest: &str, host: &str) -> Result<Value> {
        let (guest, _) = self.appmon_guest(guest)?;
        let host = self.resolve_host("VM host", host)?;
        let trust_name = format!("server_{guest}.public");
        let r: Result<bool> = (|| {
            let data = self.read_bytes(&guest, &format!("{GUEST_DIR}/server.public"))?;
            self.put_bytes(
                &host,
                &format!("{HOST_KEY_DIR}/{trust_name}"),
                PUBLIC_MODE,
                &data,
            )
        })();
        let copied = r.map_err(after_change)?;
        Ok(json!({
            "file": "server.public",
            "as": trust_name,
            "from": guest,
            "to": host,
            "copied": copied,
            "trust_store": format!("{guest}:{HOST_KEY_DIR}/{trust_name}"),
        }))
    }

    /// B4 step 1: every key file of VM host `host` (`client.private` mode 0600,
    /// `client.public` and every `server_<guest>.public` mode 0644) to the other VM hosts of
    /// the inventory, where not already the same. `#{copied: [#{file, from, to}], trusted:
    /// [guest names with a server_<guest>.public]}`.
    pub fn appmon_distribute_keys(&self, host: &str) -> Result<Value> {
        let key_host = self.resolve_host("VM host", host)?;
        let hosts = self.topo.vm_host_names();
        let r: Result<(Vec<Value>, Vec<String>)> = (|| {
            let mut copied = Vec::new();
            let mut files: Vec<(String, u32)> = vec![
                ("client.private".into(), SECRET_MODE),
                ("client.public".into(), PUBLIC_MODE),
            ];
            let trusted: Vec<String> = self
                .list_dir(&key_host, HOST_KEY_DIR)?
                .unwrap_or_default()
                .into_iter()
                .map(|e| e.name.rsplit('/').next().unwrap_or(&e.name).to_string())
                .filter(|n| n.starts_with("server_") && n.ends_with(".public"))
                .collect();
            for t in &trusted {
                files.push((t.clone(), PUBLIC_MODE));
            }
            for (name, mode) in &files {
                let path = format!("{HOST_KEY_DIR}/{name}");
                let data = self.read_bytes(&key_host, &path)?;
                for h in hosts.iter().filter(|h| **h != key_host) {
                    if self.put_bytes(h, &path, *mode, &data)? {
                        copied.push(json!({"file": name, "from": key_host, "to": h}));
                    }
                }
            }
            let guests = trusted
                .iter()
                .map(|t| {
                    t.trim_start_matches("server_")
                        .trim_end_matches(".public")
                        .to_string()
                })
                .collect();
            Ok((copied, guests))
        })();
        let (copied, trusted) = r.map_err(after_change)?;
        Ok(json!({"copied": copied, "trusted": trusted}))
    }

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

    fn redact_error(&self, mut e: Error, o: &KeyOpts) -> Error {
        let s = [
            o.client_password.as_str(),
            o.server_password.as_str(),
            o.public_password.as_str(),
        ];
        e.message = hascript_api::redact(&e.message, &s);
        e.stderr = e.stderr.map(|t| hascript_api::redact(&t, &s));
        e.command = e.command.map(|t| hascript_api::redact(&t, &s));
        e.remedy = e.remedy.map(|t| hascript_api::redact(&t, &s));
        e
    }

    /// The first VM host whose `client.private` exists, else the first VM host.
    fn pick_key_host(&self, hosts: &[String]) -> Result<String> {
        for h in hosts {
            match self.stat(h, &format!("{HOST_KEY_DIR}/client.private")) {
                Ok(Some(_)) => return Ok(h.clone()),
                Ok(None) => {}
                Err(e) if is_cancel(&e) => return Err(e),
                Err(_) => {}
            }
        }
        hosts
            .first()
            .cloned()
            .ok_or_else(|| Error::usage("the inventory has no VM host"))
    }
    /// Make one side's stores where missing; keep and reuse existing ones (their password
    /// checked) unless `regenerate`. Returns `made`, `reused` or `completed`.
    fn ensure_keys(&self, s: &Side, o: &KeyOpts, stamp: &str) -> Result<&'static str> {
        let ui = &self.ctx.ui;
        let (priv_p, pub_p) = (s.private(), s.public());
        let mut have_priv = self.stat(s.host, &priv_p)?.is_some();
        let mut have_pub = self.stat(s.host, &pub_p)?.is_some();
        if o.regenerate && (have_priv || have_pub) {
            for (have, p) in [(have_priv, &priv_p), (have_pub, &pub_p)] {
                if have {
                    let aside = format!("{p}.{stamp}");
                    self.ctx.run_ok(&cmd::mv_f(s.host, p, &aside)?)?;
                    ui.info(&format!(
                        "{p} on {}: moved aside to {aside} (regenerate)",
                        s.host
                    ));
                }
            }
            have_priv = false;
            have_pub = false;
        }
        let opens = |store: &str, pw: &str| -> Result<()> {
            let c = cmd::keytool_list(s.host, store, pw)?;
            let out = self.ctx.run(&c)?;
            if out.success() {
                return Ok(());
            }
            Err(Error::check(format!(
                "the password given does not open the existing key store {store} on {} (keytool -list: {})",
                s.host,
                c.redact(out.stderr.lines().next().unwrap_or("").trim())
            ))
            .on_host(s.host)
            .with_command(c.display())
            .with_remedy("give the store's password (the one in the configuration file), or ask for new keys with -p regenerate=yes (the old stores are moved aside; every monitored guest then needs the new public key)"))
        };
        match (have_priv, have_pub) {
            (true, true) => {
                opens(&priv_p, s.password)?;
                opens(&pub_p, &o.public_password)?;
                ui.info(&format!(
                    "{} and {} exist on {}: kept and reused (pass -p regenerate=yes for new keys)",
                    s.private_file, s.public_file, s.host
                ));
                Ok("reused")
            }
            (false, true) => Err(Error::check(format!(
                "{pub_p} exists on {} without {priv_p}: its key cannot be re-exported",
                s.host
            ))
            .on_host(s.host)
            .with_remedy("ask for new keys with -p regenerate=yes (the old store is moved aside)")),
            (have_priv, false) => {
                if have_priv {
                    opens(&priv_p, s.password)?;
                    ui.info(&format!(
                        "{} exists on {}: kept; {} is made from it",
                        s.private_file, s.host, s.public_file
                    ));
                } else {
                    if self.stat(s.host, s.dir)?.is_none() {
                        self.mkdir_p(s.host, s.dir)?;
                    }
                    self.ctx.run_ok(&cmd::keytool_genkey(
                        s.host,
                        s.private_alias,
                        &priv_p,
                        s.password,
                        o.validity,
                        &s.dname,
                    )?)?;
                    self.ctx
                        .run_ok(&cmd::chmod_mode(s.host, &priv_p, SECRET_MODE)?)?;
                }
                self.ctx.run_ok(&cmd::keytool_export(
                    s.host,
                    s.private_alias,
                    &priv_p,
                    &s.temp(),
                    s.password,
                )?)?;
                self.ctx.run_ok(&cmd::keytool_import(
                    s.host,
                    s.public_alias,
                    &pub_p,
                    &s.temp(),
                    &o.public_password,
                )?)?;
                Ok(if have_priv { "completed" } else { "made" })
            }
        }
    }

    /// A (binary) file's bytes, read with `od` (output marked secret: key stores).
    pub(crate) fn read_bytes(&self, host: &str, path: &str) -> Result<Vec<u8>> {
        let c = cmd::od_hex(host, path)?.with_secret_output();
        let out = self.ctx.run(&c)?;
        if !out.success() {
            return Err(Error::new(
                ErrorKind::Command,
                format!("cannot read {path} on {host}: {}", out.stderr.trim()),
            )
            .on_host(host)
            .with_command(c.display())
            .with_status(&out.status));
        }
        od_hex::parse(&out.stdout).map_err(|e| crate::facts::parse_err(host, e))
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

    /// Write `data` to `path` on `host` with `mode` unless it already holds exactly that
    /// with that mode. Returns whether it wrote.
    pub(crate) fn put_bytes(&self, host: &str, path: &str, mode: u32, data: &[u8]) -> Result<bool> {
        if let Some(e) = self.stat(host, path)? {
            if e.perm & 0o7777 == mode && self.read_bytes(host, path)? == data {
                return Ok(false);
            }
        } else {
            let dir = path.rsplit_once('/').map(|(d, _)| d).unwrap_or("/");
            if !dir.is_empty() && self.stat(host, dir)?.is_none() {
                self.mkdir_p(host, dir)?;
            }
        }
        self.write_file(host, path, mode, data)?;
        Ok(true)
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

    /// The application monitor `appmon` (its name or service name; `None`: the first
    /// `cmappmgr` service) of the running package `package`, and the guest it watches.
    fn monitor(
        &self,
        package: &str,
        appmon: Option<&str>,
    ) -> Result<(PackageView, MonitorService, String)> {
        let (view, p) = self.resolve_package(package)?;
        let vm = p.name.clone();
        let conf = self.read_conf(&view, &p)?;
        let doc = conf.doc.as_ref().ok_or_else(|| {
            Error::check(format!(
                "{} on {} is not a modular package file: its services cannot be read",
                conf.path, conf.host
            ))
        })?;
        let monitors: Vec<MonitorService> = doc
            .services()
            .iter()
            .filter_map(|s| monitor_of(&s.name, &s.cmd))
            .collect();
        let mon = match appmon {
            Some(a) => {
                validate_name("application monitor", a)?;
                monitors
                    .iter()
                    .find(|m| m.service == a || m.service == format!("{vm}-{a}"))
                    .cloned()
                    .ok_or_else(|| {
                        Error::usage(format!(
                            "package {vm} has no application monitor {a:?}; its cmappmgr services: {}",
                            if monitors.is_empty() { "none".to_string() } else { monitors.iter().map(|m| m.service.clone()).collect::<Vec<_>>().join(", ") }
                        ))
                    })?
            }
            None => monitors.first().cloned().ok_or_else(|| {
                Error::check(format!(
                    "package {vm} has no application monitor (no cmappmgr service in {})",
                    conf.path
                ))
                .with_remedy(format!("add one first: hascript run hpvm/add-app-monitor -p package={vm} -p appmon=<name>:<command>:<timeout>:<restart>:<halt_timeout>"))
            })?,
        };
        let guest = self
            .topo
            .guest(&mon.node)
            .or_else(|| self.topo.guest(&vm))
            .map(|g| g.name.clone())
            .ok_or_else(|| {
                Error::usage(format!(
                    "the monitor's guest {} is not an inventory host of role vm-guest: ps and kill run inside it",
                    mon.node
                ))
            })?;
        Ok((p, mon, guest))
    }

    /// B4 step 6 (read, before the test): the monitor `appmon` of the running package
    /// `package` and its service as `cmviewcl` shows it. Refused unless the package is up
    /// on a node, the monitor's service is up and its guest is an inventory guest.
    /// `#{pkg, owner, service, guest, command, restarts, max_restarts, limit, clock}`:
    /// `limit` the number of restarts (() when unlimited or not a number), `clock` the
    /// run's clock in seconds (the start of the test's deadline).
    pub fn app_monitor(&self, package: &str, appmon: Option<&str>) -> Result<Value> {
        let (p, mon, guest) = self.monitor(package, appmon)?;
        let vm = p.name.clone();
        let Some(owner) = p.owner.clone().filter(|_| p.status() == Status::Up) else {
            return Err(Error::check(format!(
                "package {vm} is not running ({}/{}): the monitor is tested on a running package",
                p.status, p.state
            ))
            .with_remedy(format!(
                "start it first: hascript run hpvm/run-package -p package={vm}"
            )));
        };
        let sv = p
            .services
            .iter()
            .find(|s| s.name == mon.service)
            .ok_or_else(|| {
                Error::check(format!(
                    "cmviewcl shows no service {} for package {vm}: apply the package configuration first (cmapplyconf)",
                    mon.service
                ))
            })?;
        if sv.status() != Status::Up {
            return Err(Error::check(format!(
                "service {} of {vm} is {}, not up: nothing to test",
                sv.name, sv.status
            )));
        }
        let before = sv.restarts().ok_or_else(|| {
            Error::new(
                ErrorKind::Parse,
                format!(
                    "cmviewcl printed restarts={:?} for service {}: not a number",
                    sv.restarts, sv.name
                ),
            )
        })?;
        let limit = match sv.max_restarts() {
            MaxRestarts::Times(n) => json!(n),
            _ => Value::Null,
        };
        Ok(json!({
            "pkg": vm,
            "owner": owner,
            "service": mon.service,
            "guest": guest,
            "command": mon.command,
            "restarts": before,
            "max_restarts": sv.max_restarts,
            "unlimited": sv.max_restarts() == MaxRestarts::Unlimited,
            "limit": limit,
            "clock": self.now(),
        }))
    }

    /// B4 step 6 (read): the PID of the process in the guest that runs the monitored
    /// command of service `service` of `package` (`ps -ef`); () when none does; an error
    /// when several do.
    pub fn app_process(&self, package: &str, service: &str) -> Result<Value> {
        let (_, mon, guest) = self.monitor(package, Some(service))?;
        Ok(match self.find_app(&guest, &mon.command)? {
            Some(p) => json!(p),
            None => Value::Null,
        })
    }

    /// B4 step 6: `kill -9 pid` in the guest of monitor `service` of `package`. Refused
    /// unless `pid` is the one process in the guest that runs the monitored command (read
    /// with `ps -ef` just before): nothing else is ever killed. `#{pid, at, killed}`
    /// (`killed` false when the process had already ended).
    pub fn kill_app(&self, package: &str, service: &str, pid: i64) -> Result<Value> {
        let (_, mon, guest) = self.monitor(package, Some(service))?;
        let pid = u32::try_from(pid)
            .ok()
            .filter(|p| *p > 1)
            .ok_or_else(|| Error::usage(format!("kill_app: {pid} is not a process ID")))?;
        let at = self.now();
        match self.find_app(&guest, &mon.command)? {
            None => {
                self.ctx
                    .ui
                    .info(&format!("PID {pid} in {guest} had already ended"));
                return Ok(json!({"pid": pid, "at": at, "killed": false}));
            }
            Some(p) if p != pid => {
                return Err(Error::check(format!(
                    "PID {pid} does not run the monitored application `{}` in {guest}: PID {p} does; nothing was killed",
                    mon.command
                )));
            }
            Some(_) => {}
        }
        let c = cmd::kill_9(&guest, pid)?;
        let out = self.ctx.run(&c).map_err(after_change)?;
        let at = self.now();
        if out.success() {
            self.ctx.ui.info(&format!("killed PID {pid} in {guest}"));
            return Ok(json!({"pid": pid, "at": at, "killed": true}));
        }
        if out.stderr.contains("no such process") {
            self.ctx
                .ui
                .info(&format!("PID {pid} in {guest} had already ended"));
            return Ok(json!({"pid": pid, "at": at, "killed": false}));
        }
        Err(after_change(
            Error::new(
                ErrorKind::Command,
                format!("kill -9 {pid} failed in {guest}: {}", out.stderr.trim()),
            )
            .on_host(&guest)
            .with_command(c.display())
            .with_status(&out.status),
        ))
    }

    /// What is left of a failure test's deadline: `timeout` from `since` (run's clock).
    fn test_left(
        &self,
        o: &serde_json::Map<String, Value>,
        func: &str,
    ) -> Result<(Duration, Duration)> {
        let timeout = opt_secs(o, "timeout", func)?.unwrap_or(TEST_DEADLINE);
        if timeout.as_secs() > 86_400 {
            return Err(Error::usage(format!(
                "{func}: option `timeout` must be at most 86400 seconds"
            )));
        }
        let since = match o.get("since") {
            None | Some(Value::Null) => self.now(),
            Some(v) => v.as_u64().ok_or_else(|| {
                Error::usage(format!(
                    "{func}: option `since` must be the run's clock in seconds"
                ))
            })?,
        };
        let spent = self.now().saturating_sub(since);
        Ok((timeout, timeout.saturating_sub(Duration::from_secs(spent))))
    }

    /// B4 step 6 (read, after a kill): wait until the restart count of `service` of
    /// `package` rises above `opts.above` or the package leaves `opts.owner`. `opts`:
    /// `#{owner, above, since, timeout}`. `#{owner, status, restarts, moved}`; a timeout
    /// error naming the package log.
    pub fn wait_service_reaction(
        &self,
        package: &str,
        service: &str,
        o: &serde_json::Map<String, Value>,
    ) -> Result<Value> {
        const F: &str = "package.wait_service_reaction";
        let vm = self.vm_name(package)?;
        validate_name("service", service)?;
        let owner = self.resolve_host("owner", opt_str(o, "owner", F)?.unwrap_or(""))?;
        let last = opt_u32(o, "above", F)?.unwrap_or(0);
        let (timeout, left) = self.test_left(o, F)?;
        let end = self
            .ctx
            .poll(
                &format!("restart count of {service} above {last}"),
                left,
                TEST_POLL,
                || {
                    let s = self.seen(&vm, service)?;
                    let moved = s.owner.as_deref() != Some(owner.as_str());
                    let rose = s.restarts.is_some_and(|n| n > last);
                    Ok((moved || rose, s))
                },
                describe,
            )
            .map_err(after_change)?;
        let s = match end {
            WaitEnd::Done(s) => s,
            WaitEnd::Deadline(s) => {
                return Err(after_change(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "the monitor did not react within {} s of the kill: {service} ({})",
                        timeout.as_secs(),
                        describe(&s)
                    ),
                )
                .with_remedy(format!("look at the package log /var/adm/cmcluster/log/{vm}.log on {owner} and at syslog (hascript run hpvm/diagnose -p package={vm})"))
                ));
            }
        };
        let moved = s.owner.as_deref() != Some(owner.as_str());
        Ok(json!({"owner": s.owner, "status": s.status, "restarts": s.restarts, "moved": moved}))
    }

    /// B4 step 6 (read, failover test): wait for the monitored application of `service`
    /// to run again in the guest under a PID other than `opts.pid`. `opts`: `#{pid, owner,
    /// since, timeout}`. The new PID, or () when the package left `opts.owner` meanwhile.
    pub fn wait_app_restarted(
        &self,
        package: &str,
        service: &str,
        o: &serde_json::Map<String, Value>,
    ) -> Result<Value> {
        const F: &str = "package.wait_app_restarted";
        let (p, mon, guest) = self.monitor(package, Some(service))?;
        let vm = p.name.clone();
        let owner = self.resolve_host("owner", opt_str(o, "owner", F)?.unwrap_or(""))?;
        let old = opt_u32(o, "pid", F)?.unwrap_or(0);
        let (timeout, left) = self.test_left(o, F)?;
        let end = self
            .ctx
            .poll(
                &format!("`{}` restarted in {guest}", mon.command),
                left,
                TEST_POLL,
                || {
                    let s = self.seen(&vm, &mon.service)?;
                    if s.owner.as_deref() != Some(owner.as_str()) {
                        return Ok((true, None));
                    }
                    let found = self.find_app(&guest, &mon.command)?.filter(|p| *p != old);
                    Ok((found.is_some(), found))
                },
                |f| match f {
                    Some(p) => format!("PID {p}"),
                    None => "not yet".into(),
                },
            )
            .map_err(after_change)?;
        match end {
            WaitEnd::Done(Some(p)) => Ok(json!(p)),
            WaitEnd::Done(None) => Ok(Value::Null),
            WaitEnd::Deadline(_) => Err(after_change(Error::new(
                ErrorKind::Timeout,
                format!(
                    "`{}` did not come back in {guest} within {} s",
                    mon.command,
                    timeout.as_secs()
                ),
            ))),
        }
    }

    /// B4 step 6 (read, failover test): wait for `package` to be up on a node other than
    /// `opts.from`, then check that its guest runs there and only there, and read whether
    /// Serviceguard disabled node switching on `from`. `opts`: `#{from, service, since,
    /// timeout}`. `#{owner, restarts, node_switching_disabled_on}` (the restart count of
    /// `service` on the new owner); a `needs_attention` error otherwise.
    pub fn verify_failed_over(
        &self,
        package: &str,
        o: &serde_json::Map<String, Value>,
    ) -> Result<Value> {
        const F: &str = "package.verify_failed_over";
        let vm = self.vm_name(package)?;
        let from = self.resolve_host("from", opt_str(o, "from", F)?.unwrap_or(""))?;
        let service = opt_str(o, "service", F)?.unwrap_or("").to_string();
        if !service.is_empty() {
            validate_name("service", &service)?;
        }
        let (timeout, left) = self.test_left(o, F)?;
        let end = self
            .ctx
            .poll(
                &format!("package {vm} up on another node"),
                left,
                TEST_POLL,
                || {
                    let s = self.seen(&vm, &service)?;
                    let up =
                        s.status == "up" && s.owner.as_deref().is_some_and(|o| o != from.as_str());
                    Ok((up, s))
                },
                describe,
            )
            .map_err(after_change)?;
        let s = match end {
            WaitEnd::Done(s) => s,
            WaitEnd::Deadline(s) => {
                return Err(Error::needs_attention(format!(
                    "package {vm} left {from} but did not come up on another node within {} s ({})",
                    timeout.as_secs(),
                    describe(&s)
                ))
                .with_remedy(format!("look at the package log on every member and at cmviewcl; start it with hascript run hpvm/run-package -p package={vm} -p node=<node>")));
            }
        };
        let new_owner = s.owner.clone().unwrap_or_default();
        let runs = self.running_on(&vm).map_err(after_change)?;
        if runs != [new_owner.clone()] {
            return Err(Error::needs_attention(format!(
                "package {vm} is up on {new_owner}, but the guest runs on {}",
                if runs.is_empty() {
                    "no VM host".into()
                } else {
                    runs.join(", ")
                }
            )));
        }
        let (_, p2) = self.resolve_package(&vm).map_err(after_change)?;
        let off = p2
            .nodes
            .iter()
            .find(|n| n.name == from)
            .is_some_and(|n| !n.switching().is_enabled());
        Ok(json!({
            "owner": new_owner,
            "restarts": s.restarts,
            "node_switching_disabled_on": if off { Value::String(from) } else { Value::Null },
        }))
    }
    /// The PID of the process in `guest` that runs `command`; an error when several do.
    fn find_app(&self, guest: &str, command: &str) -> Result<Option<u32>> {
        let out = self.ctx.run_ok(&cmd::ps_ef(guest))?;
        let ps = ps_ef::parse(&out.stdout).map_err(|e| crate::facts::parse_err(guest, e))?;
        let hits: Vec<&ps_ef::PsEntry> = ps.iter().filter(|p| p.runs(command)).collect();
        match hits.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one.pid)),
            several => Err(Error::check(format!(
                "several processes in {guest} run `{command}` (PIDs {}): the test does not guess which one the monitor watches",
                several.iter().map(|p| p.pid.to_string()).collect::<Vec<_>>().join(", ")
            ))),
        }
    }

    /// The package's owner and status and the service's restart count, from `cmviewcl`.
    fn seen(&self, vm: &str, service: &str) -> Result<Seen> {
        let view = self.view()?;
        let p: Option<&PackageView> = view.package(vm);
        Ok(Seen {
            owner: p.and_then(|p| p.owner.clone()),
            status: p
                .map(|p| p.status.clone())
                .unwrap_or_else(|| "absent".into()),
            restarts: p
                .and_then(|p| p.services.iter().find(|s| s.name == service))
                .and_then(|s| s.restarts()),
        })
    }
}

/// A non-negative whole number from an options map (`None` when absent).
fn opt_u32(m: &serde_json::Map<String, Value>, key: &str, func: &str) -> Result<Option<u32>> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| {
                Error::usage(format!(
                    "{func}: option `{key}` must be a whole number, not {v}"
                ))
            }),
    }
}

fn describe(s: &Seen) -> String {
    format!(
        "package {} on {}, restarts {}",
        s.status,
        s.owner.as_deref().unwrap_or("no node"),
        s.restarts
            .map(|n| n.to_string())
            .unwrap_or_else(|| "-".into())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> KeyOpts {
        KeyOpts {
            client_password: "cl1entPW".into(),
            server_password: "serv3rPW".into(),
            public_password: "publ1cPW".into(),
            regenerate: false,
            host: None,
            dname_client: None,
            dname_server: None,
            validity: VALIDITY_DAYS,
        }
    }

    #[test]
    fn cmappmgr_conf_keeps_other_guests_and_comments() {
        let old = "# cmappmgr\nkeyStore=/etc/client.private\nkeyStorePassword=old\ntrustStore=vm7:/etc/cmcluster/cmappmgr/server_vm7.public\ntrustStorePassword=old\n";
        let new = cmappmgr_conf(Some(old), "slvm1", &opts());
        assert_eq!(
            new,
            "# cmappmgr\nkeyStore=/etc/cmcluster/cmappmgr/client.private\nkeyStorePassword=cl1entPW\ntrustStore=vm7:/etc/cmcluster/cmappmgr/server_vm7.public\ntrustStore=slvm1:/etc/cmcluster/cmappmgr/server_slvm1.public\ntrustStorePassword=publ1cPW\n"
        );
        // Idempotent.
        assert_eq!(cmappmgr_conf(Some(&new), "slvm1", &opts()), new);
        assert_eq!(
            cmappmgr_conf(None, "g", &opts()),
            "keyStore=/etc/cmcluster/cmappmgr/client.private\nkeyStorePassword=cl1entPW\ntrustStore=g:/etc/cmcluster/cmappmgr/server_g.public\ntrustStorePassword=publ1cPW\n"
        );
    }

    #[test]
    fn cmappserver_conf_sets_the_four_keys() {
        assert_eq!(
            cmappserver_conf(Some("keyStorePassword=x\n"), &opts()),
            "keyStorePassword=serv3rPW\nkeyStore=/opt/hp/cmappserver/server.private\ntrustStore=/opt/hp/cmappserver/client.public\ntrustStorePassword=publ1cPW\n"
        );
    }

    #[test]
    fn key_opts_need_passwords_and_never_show_them() {
        let v = json!({"client_password": "cl1entPW", "server_password": "serv3rPW", "public_password": "publ1cPW", "regenerate": true});
        let o = KeyOpts::from_value(&v).unwrap_or_else(|e| panic!("{e}"));
        assert!(o.regenerate);
        assert_eq!(o.validity, 400);
        let dbg = format!("{o:?}");
        assert!(
            !dbg.contains("cl1entPW") && !dbg.contains("publ1cPW"),
            "{dbg}"
        );
        let e = KeyOpts::from_value(&json!({"client_password": "cl1entPW"}))
            .err()
            .map(|e| e.message)
            .unwrap_or_default();
        assert!(e.contains("server_password"), "{e}");
        let e = KeyOpts::from_value(&json!({"client_password": 5}))
            .err()
            .map(|e| e.message)
            .unwrap_or_default();
        assert!(e.contains("client_password") && !e.contains('5'), "{e}");
        assert!(KeyOpts::from_value(&json!({"colour": "x"})).is_err());
    }

    #[test]
    fn monitors_are_read_from_service_cmd() {
        let m = monitor_of(
            "slvm1-xclock",
            "/usr/sbin/cmappmgr -node slvm1 -cmappserver_timeout 240 -service /usr/bin/X11/xclock -display 16.213.12.70:0.0",
        );
        assert_eq!(
            m,
            Some(MonitorService {
                service: "slvm1-xclock".into(),
                node: "slvm1".into(),
                command: "/usr/bin/X11/xclock -display 16.213.12.70:0.0".into(),
            })
        );
        assert_eq!(
            monitor_of("slvm1", "/etc/cmcluster/scripts/tkit/vtn/havtn.mon slvm1"),
            None
        );
        assert_eq!(monitor_of("x", "/usr/sbin/cmappmgr -service /a"), None);
    }
}
