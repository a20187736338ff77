//! The key stores of steps 1, 2 and 4 (B4): `keytool` on one VM host and in the guest, the
//! public keys' copies between them and to the other VM hosts, binary files read with `od`
//! and written whole through standard input.

use hascript_api::{Error, ErrorKind, Result};
use serde_json::{json, Value};

use super::{KeyOpts, GUEST_DIR, HOST_KEY_DIR, PUBLIC_MODE, SECRET_MODE};
use crate::commands as cmd;
use crate::facts::{is_cancel, Inner};
use crate::parse::od_hex;
use crate::procedure::after_change;
use crate::procedure::package::timestamp;

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

impl Inner {
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

    /// The first VM host whose `client.private` exists, else the first VM host.
    pub(super) fn pick_key_host(&self, hosts: &[String]) -> Result<String> {
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
}
