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
//!
//! One concern a file: the guest and the plan here; the key stores and their copies in
//! `keys`, the two configuration files in `conf`, the failure test in `failure_test`.

mod conf;
mod failure_test;
mod keys;

pub use conf::{cmappmgr_conf, cmappserver_conf, set_conf_line};
// The monitor recognition is the application monitors' own (`crate::appmon`); its old path stays.
pub use crate::appmon::{monitor_of, MonitorService};

use std::fmt;
use std::time::Duration;

use hascript_api::{validate_name, Error, Result};
use serde_json::{json, Value};

use super::after_change;
use crate::commands as cmd;
use crate::facts::Inner;

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
}

#[cfg(test)]
mod tests;
