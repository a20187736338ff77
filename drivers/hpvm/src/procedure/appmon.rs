//! Guest application monitoring (B4): the keys and configuration files of steps 1, 2 and 4
//! ([`Inner::appmon_keys`]) and the failure test of step 6 ([`Inner::test_app_monitor`]).
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

use hascript_api::{validate_name, Error, ErrorKind, Result};
use serde_json::{json, Value};

use super::after_change;
use super::package::timestamp;
use crate::commands as cmd;
use crate::facts::{is_cancel, Inner};
use crate::parse::cmviewcl_line::{MaxRestarts, PackageView, Status};
use crate::parse::{od_hex, ps_ef};
use crate::wait::WaitEnd;

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

/// The options of [`Inner::appmon_keys`]. Its `Debug` never shows the passwords.
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
                "appmon_keys options must be a map with {KEY_OPTIONS}"
            ))
        })?;
        let string = |k: &str| -> Result<Option<String>> {
            match m.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(Error::usage(format!(
                    "appmon_keys: option `{k}` must be a string"
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
                    "appmon_keys: unknown option `{k}`; the options are {KEY_OPTIONS}"
                )));
            }
        }
        let password = |k: &str| -> Result<String> {
            string(k)?.filter(|s| !s.is_empty()).ok_or_else(|| {
                Error::usage(format!(
                    "appmon_keys: option `{k}` (a key store password) is required"
                ))
            })
        };
        let regenerate = match m.get("regenerate") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(Error::usage(
                    "appmon_keys: option `regenerate` must be true or false",
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
                        "appmon_keys: option `validity` must be a number of days from 1 to 36500",
                    )
                })?,
        };
        Ok(KeyOpts {
            client_password: password("client_password")?,
            server_password: password("server_password")?,
            public_password: password("public_password")?,
            regenerate,
            host: string("host")?,
            dname_client: string("dname_client")?,
            dname_server: string("dname_server")?,
            validity,
        })
    }
}

/// What [`Inner::test_app_monitor`] is to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// One kill; the restart counter rises (B4 step 6, first check).
    Restart,
    /// Kill until `service_restart` is exceeded; the package fails over (second check).
    Failover,
}

/// The options of [`Inner::test_app_monitor`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestOpts {
    /// The monitor: its name (`ping_mon`) or service name (`slvm1-ping_mon`); default the
    /// first `cmappmgr` service of the package.
    pub appmon: Option<String>,
    /// What to show.
    pub expect: Expect,
    /// Deadline of the whole test.
    pub timeout: Duration,
}

impl TestOpts {
    /// Read `#{appmon, expect: "restart"|"failover", timeout: seconds}`.
    pub fn from_value(v: &Value) -> Result<TestOpts> {
        let mut o = TestOpts {
            appmon: None,
            expect: Expect::Restart,
            timeout: TEST_DEADLINE,
        };
        let Some(m) = v.as_object() else {
            if v.is_null() {
                return Ok(o);
            }
            return Err(Error::usage(
                "test_app_monitor options must be a map #{appmon, expect, timeout}",
            ));
        };
        for (k, val) in m {
            match (k.as_str(), val) {
                (_, Value::Null) => {}
                ("appmon", Value::String(s)) if !s.is_empty() => o.appmon = Some(s.clone()),
                ("expect", Value::String(s)) => {
                    o.expect = match s.as_str() {
                        "restart" => Expect::Restart,
                        "failover" => Expect::Failover,
                        other => {
                            return Err(Error::usage(format!(
                                "test_app_monitor: expect must be restart or failover, not {other:?}"
                            )))
                        }
                    }
                }
                ("timeout", v) if v.as_f64().is_some_and(|s| s > 0.0 && s <= 86_400.0) => {
                    o.timeout = Duration::from_secs_f64(v.as_f64().unwrap_or(600.0));
                }
                ("appmon" | "expect" | "timeout", _) => {
                    return Err(Error::usage(format!(
                        "test_app_monitor: option `{k}` has the wrong type (appmon: a name, expect: \"restart\" or \"failover\", timeout: seconds from 1 to 86400)"
                    )))
                }
                _ => {
                    return Err(Error::usage(format!(
                        "test_app_monitor: unknown option `{k}`; the options are appmon, expect, timeout"
                    )))
                }
            }
        }
        Ok(o)
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
    /// B4 steps 1, 2 and 4 for guest `guest` (an inventory host of role `vm-guest`, by
    /// host or VM name). See the module's documentation.
    pub fn appmon_keys(&self, guest: &str, o: &KeyOpts) -> Result<Value> {
        validate_name("guest", guest)?;
        let g = self.topo.guest(guest).cloned().ok_or_else(|| {
            Error::usage(format!(
                "{guest:?} is not a guest of the inventory (role vm-guest): the server keys are made inside the guest, so hascript must be able to reach it; the inventory's guests are {}",
                if self.topo.guests.is_empty() { "none".to_string() } else { self.topo.guests.iter().map(|g| g.name.clone()).collect::<Vec<_>>().join(", ") }
            ))
        })?;
        if self.topo.vm_hosts.is_empty() {
            return Err(Error::usage("the inventory has no VM host (role vm-host)"));
        }
        let hosts = self.topo.vm_host_names();
        let key_host = match &o.host {
            Some(h) => self.resolve_host("VM host", h)?,
            None => self.pick_key_host(&hosts)?,
        };
        // The guest must run: keytool runs inside it.
        let running = self.running_on(&g.vm)?;
        if running.is_empty() {
            return Err(Error::check(format!(
                "guest {} (VM {}) runs on no VM host: the server keys are made inside the running guest",
                g.name, g.vm
            ))
            .with_remedy(format!("start the package or the guest first (hascript run hpvm/run-package -p package={})", g.vm)));
        }
        let r = self.appmon_keys_inner(&g.name, &key_host, &hosts, o);
        r.map_err(|e| after_change(self.redact_error(e, o)))
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

    fn appmon_keys_inner(
        &self,
        guest: &str,
        key_host: &str,
        hosts: &[String],
        o: &KeyOpts,
    ) -> Result<Value> {
        let ui = &self.ctx.ui;
        let stamp = timestamp(self.now());
        let client = Side {
            host: key_host,
            dir: HOST_KEY_DIR,
            private_alias: "clientprivate",
            private_file: "client.private",
            public_alias: "clientpublic",
            public_file: "client.public",
            password: &o.client_password,
            dname: o
                .dname_client
                .clone()
                .unwrap_or_else(|| format!("CN={key_host}, OU=cmappmgr, O=Serviceguard")),
        };
        let server = Side {
            host: guest,
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
        ui.step(
            "B4 1",
            &format!("client keys on {key_host} in {HOST_KEY_DIR} (keytool, -dname)"),
        );
        let client_state = self.ensure_keys(&client, o, &stamp)?;
        ui.step(
            "B4 1",
            &format!("server keys in guest {guest} in {GUEST_DIR} (keytool, -dname)"),
        );
        let server_state = self.ensure_keys(&server, o, &stamp)?;

        ui.step("B4 1", "distribute the public keys and the key files");
        let mut copied = Vec::new();
        // client.public → the guest.
        let client_pub = self.read_bytes(key_host, &client.public())?;
        if self.put_bytes(
            guest,
            &format!("{GUEST_DIR}/client.public"),
            PUBLIC_MODE,
            &client_pub,
        )? {
            copied.push(json!({"file": "client.public", "from": key_host, "to": guest}));
        }
        // The guest's server.public → server_<guest>.public on the key host.
        let server_pub = self.read_bytes(guest, &server.public())?;
        let trust_name = format!("server_{guest}.public");
        if self.put_bytes(
            key_host,
            &format!("{HOST_KEY_DIR}/{trust_name}"),
            PUBLIC_MODE,
            &server_pub,
        )? {
            copied.push(
                json!({"file": "server.public", "as": trust_name, "from": guest, "to": key_host}),
            );
        }
        // Every key file of the key host → the other VM hosts.
        let mut files: Vec<(String, u32)> = vec![
            ("client.private".into(), SECRET_MODE),
            ("client.public".into(), PUBLIC_MODE),
        ];
        let trusted: Vec<String> = self
            .list_dir(key_host, HOST_KEY_DIR)?
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
            let data = self.read_bytes(key_host, &path)?;
            for h in hosts.iter().filter(|h| h.as_str() != key_host) {
                if self.put_bytes(h, &path, *mode, &data)? {
                    copied.push(json!({"file": name, "from": key_host, "to": h}));
                }
            }
        }
        if copied.is_empty() {
            ui.info("every host and the guest already have the same key files: nothing copied");
        }
        if client_state == "made" {
            let others: Vec<&String> = trusted.iter().filter(|t| **t != trust_name).collect();
            if !others.is_empty() {
                ui.warn(&format!(
                    "new client keys: the other monitored guests ({}) still hold the old client.public; run setup-appmon-keys for each of them",
                    others
                        .iter()
                        .map(|t| t.trim_start_matches("server_").trim_end_matches(".public"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }

        ui.step(
            "B4 2",
            &format!("{CMAPPMGR_CONF} on every VM host (mode 0600, through stdin)"),
        );
        let mut confs = Vec::new();
        for h in hosts {
            let old = self.read_secret_file(h, CMAPPMGR_CONF)?;
            let new = cmappmgr_conf(old.as_deref(), guest, o);
            let changed = self.put_conf(h, CMAPPMGR_CONF, old.as_deref(), &new)?;
            confs.push(
                json!({"host": h, "path": CMAPPMGR_CONF, "changed": changed, "mode": "0600"}),
            );
        }
        ui.step(
            "B4 4",
            &format!("{CMAPPSERVER_CONF} in guest {guest} (mode 0600, through stdin)"),
        );
        let old = self.read_secret_file(guest, CMAPPSERVER_CONF)?;
        let new = cmappserver_conf(old.as_deref(), o);
        let changed = self.put_conf(guest, CMAPPSERVER_CONF, old.as_deref(), &new)?;
        confs.push(
            json!({"host": guest, "path": CMAPPSERVER_CONF, "changed": changed, "mode": "0600"}),
        );

        Ok(json!({
            "guest": guest,
            "key_host": key_host,
            "client_keys": client_state,
            "server_keys": server_state,
            "trust_store": format!("{guest}:{HOST_KEY_DIR}/{trust_name}"),
            "copied": copied,
            "config_files": confs,
            "hosts": hosts,
        }))
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

    /// B4 step 6 for package `name`. See [`TestOpts`].
    pub fn test_app_monitor(&self, name: &str, o: &TestOpts) -> Result<Value> {
        let ui = &self.ctx.ui;
        let (view, p) = self.resolve_package(name)?;
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
        let mon = match &o.appmon {
            Some(a) => {
                validate_name("application monitor", a)?;
                monitors
                    .iter()
                    .find(|m| m.service == *a || m.service == format!("{vm}-{a}"))
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
        let max = sv.max_restarts();
        if o.expect == Expect::Failover && max == MaxRestarts::Unlimited {
            return Err(Error::check(format!(
                "service {} restarts without limit (service_restart unlimited): the package never fails over because of it",
                sv.name
            )));
        }
        let kills_needed = match (&max, o.expect) {
            (_, Expect::Restart) => 1,
            (MaxRestarts::Times(n), Expect::Failover) => n.saturating_sub(before) + 1,
            _ => 1,
        };
        let max_word = sv.max_restarts.clone();
        let mut pid = self.find_app(&guest, &mon.command)?.ok_or_else(|| {
            Error::check(format!(
                "the monitored application `{}` does not run in guest {guest} (ps -ef)",
                mon.command
            ))
        })?;
        ui.step(
            "B4 6",
            &format!(
                "failure test of {} (`{}` in guest {guest}): restart count {before} of {max_word}",
                mon.service, mon.command
            ),
        );
        let q = match o.expect {
            Expect::Restart => format!(
                "Kill `{}` (PID {pid}) in guest {guest} with kill -9? This is a failure test: Serviceguard restarts service {} of package {vm}",
                mon.command, mon.service
            ),
            Expect::Failover => format!(
                "Kill `{}` in guest {guest} with kill -9 until service {} exceeds its {max_word} restarts ({kills_needed} kills)? The package {vm} then FAILS OVER from {owner} to another node, rebooting the guest",
                mon.command, mon.service
            ),
        };
        if !ui.confirm(&q)? {
            return Err(Error::new(
                ErrorKind::Declined,
                "failure test declined: nothing was killed",
            ));
        }
        let start = self.ctx.clock.now();
        let deadline = o.timeout;
        let mut kills: Vec<Value> = Vec::new();
        let mut last = before;
        let mut failed_over = false;
        let r: Result<()> = (|| loop {
            let c = cmd::kill_9(&guest, pid)?;
            let out = self.ctx.run(&c)?;
            let at = self.ctx.clock.now().as_secs();
            if out.success() {
                ui.info(&format!("killed PID {pid} in {guest}"));
            } else if out.stderr.contains("no such process") {
                ui.info(&format!("PID {pid} in {guest} had already ended"));
            } else {
                return Err(Error::new(
                    ErrorKind::Command,
                    format!("kill -9 {pid} failed in {guest}: {}", out.stderr.trim()),
                )
                .on_host(&guest)
                .with_command(c.display())
                .with_status(&out.status));
            }
            kills.push(json!({"pid": pid, "at": at}));
            let left = deadline.saturating_sub(self.ctx.clock.now().saturating_sub(start));
            let what = format!("restart count of {} above {last}", mon.service);
            let end = self.poll(
                &what,
                left,
                TEST_POLL,
                || {
                    let s = self.seen(&vm, &mon.service)?;
                    let moved = s.owner.as_deref() != Some(owner.as_str());
                    let rose = s.restarts.is_some_and(|n| n > last);
                    Ok((moved || rose, s))
                },
                describe,
            )?;
            let s = match end {
                WaitEnd::Done(s) => s,
                WaitEnd::Deadline(s) => {
                    return Err(Error::new(
                        ErrorKind::Timeout,
                        format!(
                            "the monitor did not react within {} s of the kill: {} ({})",
                            deadline.as_secs(),
                            mon.service,
                            describe(&s)
                        ),
                    )
                    .with_remedy(format!("look at the package log /var/adm/cmcluster/log/{vm}.log on {owner} and at syslog (hascript run hpvm/diagnose -p package={vm})")));
                }
            };
            if s.owner.as_deref() != Some(owner.as_str()) {
                failed_over = true;
                ui.info(&format!(
                    "service {} exceeded its restarts: package {vm} left {owner}",
                    mon.service
                ));
                return Ok(());
            }
            last = s.restarts.unwrap_or(last);
            ui.info(&format!(
                "restart count of {} rose to {last} (of {max_word})",
                mon.service
            ));
            if o.expect == Expect::Restart {
                return Ok(());
            }
            // Failover: wait for the restarted application, then kill it again.
            let left = deadline.saturating_sub(self.ctx.clock.now().saturating_sub(start));
            let old = pid;
            let end = self.poll(
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
            )?;
            match end {
                WaitEnd::Done(Some(p)) => pid = p,
                WaitEnd::Done(None) => {
                    failed_over = true;
                    return Ok(());
                }
                WaitEnd::Deadline(_) => {
                    return Err(Error::new(
                        ErrorKind::Timeout,
                        format!(
                            "`{}` did not come back in {guest} after restart {last}",
                            mon.command
                        ),
                    ))
                }
            }
        })();
        r.map_err(after_change)?;

        let mut result = json!({
            "package": vm,
            "service": mon.service,
            "guest": guest,
            "application": mon.command,
            "kills": kills,
            "restarts_before": before,
            "max_restarts": max_word,
            "from": owner,
            "failed_over": failed_over,
        });
        if failed_over {
            // Wait for the package to come up elsewhere, then read where the guest runs.
            let left = deadline.saturating_sub(self.ctx.clock.now().saturating_sub(start));
            let end = self
                .poll(
                    &format!("package {vm} up on another node"),
                    left,
                    TEST_POLL,
                    || {
                        let s = self.seen(&vm, &mon.service)?;
                        let up = s.status == "up"
                            && s.owner.as_deref().is_some_and(|o| o != owner.as_str());
                        Ok((up, s))
                    },
                    describe,
                )
                .map_err(after_change)?;
            let s = match end {
                WaitEnd::Done(s) => s,
                WaitEnd::Deadline(s) => {
                    return Err(Error::needs_attention(format!(
                        "package {vm} left {owner} but did not come up on another node within {} s ({})",
                        deadline.as_secs(),
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
            ui.info(&format!(
                "package {vm} failed over from {owner} to {new_owner}; guest {vm} runs there"
            ));
            let (_, p2) = self.resolve_package(&vm).map_err(after_change)?;
            let off = p2
                .nodes
                .iter()
                .find(|n| n.name == owner)
                .is_some_and(|n| !n.switching().is_enabled());
            if off {
                ui.warn(&format!(
                    "Serviceguard disabled node switching of {vm} on {owner} after the failure: re-enable it once the cause is known (cmmodpkg -e -n {owner} {vm}; package.enable_node)"
                ));
            }
            if let Value::Object(m) = &mut result {
                m.insert("owner".into(), Value::String(new_owner));
                m.insert("restarts_after".into(), json!(last));
                m.insert("restarts_on_new_owner".into(), json!(s.restarts));
                m.insert(
                    "node_switching_disabled_on".into(),
                    if off {
                        Value::String(owner.clone())
                    } else {
                        Value::Null
                    },
                );
            }
        } else if let Value::Object(m) = &mut result {
            m.insert("owner".into(), Value::String(owner.clone()));
            m.insert("restarts_after".into(), json!(last));
        }
        Ok(result)
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
    fn test_opts() {
        let o = TestOpts::from_value(
            &json!({"expect": "failover", "appmon": "ping_mon", "timeout": 120}),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(o.expect, Expect::Failover);
        assert_eq!(o.timeout, Duration::from_secs(120));
        assert!(TestOpts::from_value(&json!({"expect": "reboot"})).is_err());
        assert!(TestOpts::from_value(&json!({"kill": true})).is_err());
        assert_eq!(
            TestOpts::from_value(&Value::Null).map(|o| o.expect).ok(),
            Some(Expect::Restart)
        );
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
