//! Installing `cmappserver` in a guest (the SG IVS toolkit guide's §5 step 3), one manual
//! action per function; the sequence is `scripts/hpvm/install-cmappserver.rhai`.
//!
//! The guest's OS kind comes from `hpvmstatus -P` (`OS Type`: HPUX, LINUX, WINDOWS). The
//! software comes from the VM host's `/opt/hp/serviceguard/cmappserver/`: an HP-UX guest
//! takes `11iv2/cmappserver.depot` (`uname -r` B.11.23) or `11iv3/cmappserver.depot`
//! (B.11.31), copied to `/tmp/cmappserver.depot` and installed with `swinstall -s
//! /tmp/cmappserver.depot CMAPPSERVER`; a Linux guest takes `redhat/cmappserver_rhel5_ia64.rpm`
//! (`/etc/redhat-release`) or `sles/cmappserver_sles_ia64.rpm` (`/etc/SuSE-release`),
//! copied to `/tmp` and installed with `rpm -i`, or `rpm -U` when `rpm -q cmappserver`
//! says it is installed. Java 1.4.2, 1.5 or 1.6 must be on a Linux guest's PATH.
//! A Windows guest cannot be reached by hascript's POSIX command lines: only its
//! `cmappserver` port (5315) is probed, from the VM host.
//!
//! Guard rails kept here, whatever a script does: names and paths validated before a
//! command exists; the copy and the install refuse a Windows guest, a guest that does not
//! run, a file of the wrong kind or outside `/tmp`, and (Linux) a guest whose Java is
//! missing or older than 1.4.2; nothing is sent when the installed revision is the one
//! offered; every change is read back.

use hascript_api::{validate_name, Error, ErrorKind, Result};
use serde_json::{json, Value};

use super::observed::Presence;
use crate::commands as cmd;
use crate::facts::{is_cancel, parse_err, Inner};
use crate::parse::hpvmstatus::OsKind;
use crate::parse::swlist;

use super::appmon::GUEST_DIR;

/// Where a VM host keeps the guests' `cmappserver` software (installed with Serviceguard).
pub const SOFTWARE_DIR: &str = "/opt/hp/serviceguard/cmappserver";
/// Where an HP-UX guest's depot is copied (the guide's path).
pub const GUEST_DEPOT: &str = "/tmp/cmappserver.depot";
/// Where `cmappserver` lives in a Windows guest.
pub const WINDOWS_DIR: &str = r"C:\Program Files\Hewlett-Packard\cmappserver";
/// The TCP port `cmappserver` listens on.
pub const PORT: u16 = 5315;
/// Seconds the port probe waits for the connection.
pub const PROBE_TIMEOUT_S: u32 = 10;
/// The SD-UX product and the rpm package name.
pub const PRODUCT: &str = "CMAPPSERVER";
/// The rpm package name.
pub const RPM_NAME: &str = "cmappserver";
/// The files `hpvm/setup-appmon-keys` makes in an HP-UX or Linux guest.
pub const KEY_FILES: &[&str] = &[
    "server.private",
    "server.public",
    "client.public",
    "cmappserver.conf",
];

/// A guest as this procedure sees it.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// Its inventory host name (where commands run; the probe's address by default).
    pub guest: String,
    /// Its VM name.
    pub vm: String,
    /// Its OS kind (`hpvmstatus -P`).
    pub os: OsKind,
    /// The VM host where it runs (`None`: it runs nowhere).
    pub host: Option<String>,
}

/// What `java -version` said, judged by the guide's list (1.4.2, 1.5, 1.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Java {
    /// The version as printed (`1.6.0_20`).
    pub version: String,
    /// Its numbers (`[1, 6, 0, 20]`).
    pub numbers: Vec<u64>,
    /// GNU gcj (`gij`), which the guide warns about (key generation may fail with it).
    pub gcj: bool,
}

/// The version line of `java -version` (`java version "1.6.0_20"`, on standard error).
pub fn parse_java(text: &str) -> Option<Java> {
    let line = text.lines().find(|l| {
        l.contains(" version \"") && (l.starts_with("java") || l.starts_with("openjdk"))
    })?;
    let start = line.find('"')? + 1;
    let end = start + line[start..].find('"')?;
    let version = line[start..end].trim().to_string();
    let numbers: Vec<u64> = version
        .split(['.', '_', '-'])
        .map_while(|p| p.parse().ok())
        .collect();
    if numbers.is_empty() {
        return None;
    }
    Some(Java {
        version,
        numbers,
        gcj: text.contains("gij") || text.contains("libgcj"),
    })
}

/// How a Java version stands against the guide's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JavaFit {
    /// 1.4.2, 1.5 or 1.6.
    Listed,
    /// Older than 1.4.2: refused.
    TooOld,
    /// Newer than 1.6: not in the guide's list (a warning).
    Newer,
}

impl Java {
    /// Where this version stands.
    pub fn fit(&self) -> JavaFit {
        let n = |i: usize| self.numbers.get(i).copied().unwrap_or(0);
        let (a, b, c) = (n(0), n(1), n(2));
        if a == 1 && b == 4 && c >= 2 || a == 1 && (b == 5 || b == 6) {
            JavaFit::Listed
        } else if a < 1 || a == 1 && b < 4 || a == 1 && b == 4 && c < 2 {
            JavaFit::TooOld
        } else {
            JavaFit::Newer
        }
    }
}

/// The depot's sub-folder for an HP-UX release (`uname -r`).
pub fn hpux_flavour(release: &str) -> Option<&'static str> {
    match release.trim() {
        "B.11.23" => Some("11iv2"),
        "B.11.31" => Some("11iv3"),
        _ => None,
    }
}

/// The software for `os`: `(sub-folder on the host, file name, path in the guest)`.
fn software_for(os: OsKind, flavour: &str) -> Option<(String, String, Option<String>)> {
    match (os, flavour) {
        (OsKind::Hpux, "11iv2" | "11iv3") => Some((
            flavour.into(),
            "cmappserver.depot".into(),
            Some(GUEST_DEPOT.into()),
        )),
        (OsKind::Linux, "redhat") => Some((
            "redhat".into(),
            "cmappserver_rhel5_ia64.rpm".into(),
            Some("/tmp/cmappserver_rhel5_ia64.rpm".into()),
        )),
        (OsKind::Linux, "sles") => Some((
            "sles".into(),
            "cmappserver_sles_ia64.rpm".into(),
            Some("/tmp/cmappserver_sles_ia64.rpm".into()),
        )),
        (OsKind::Windows, _) => Some(("windows".into(), "cmappserver.exe".into(), None)),
        _ => None,
    }
}

/// The manual's steps for a Windows guest (printed: hascript cannot run them).
pub fn windows_steps(host: &str) -> Vec<String> {
    vec![
        format!("copy {SOFTWARE_DIR}/windows/cmappserver.exe from the VM host {host} to a local folder of the guest"),
        format!("run cmappserver.exe in the guest: it installs into {WINDOWS_DIR}"),
        "check that Java 1.4.2, 1.5 or 1.6 is installed in the guest".into(),
        format!("make the keys and cmappserver.conf in {WINDOWS_DIR} (B4 steps 1 and 4: keytool -genkey/-export/-import with serverprivate/server.private and serverpublic/server.public; client.public from the VM hosts' /etc/cmcluster/cmappmgr)"),
        format!("start cmappserver; it listens on TCP port {PORT}"),
    ]
}

/// A `source` override: an absolute path on the VM host ending in `.depot` (HP-UX guest)
/// or `.rpm` (Linux guest), without control characters or quotes.
pub(crate) fn source_ok(os: OsKind, s: &str) -> Result<()> {
    let want = match os {
        OsKind::Hpux => ".depot",
        OsKind::Linux => ".rpm",
        _ => return Err(Error::usage(
            "source: the software of a Windows guest is copied by the operator, not by hascript",
        )),
    };
    let bad = s
        .chars()
        .any(|c| c.is_control() || matches!(c, '\'' | '"' | '`'));
    if !s.starts_with('/') || !s.ends_with(want) || s.len() >= 1024 || bad {
        return Err(Error::usage(format!(
            "source {:?}: an absolute path on the VM host ending in {want}, without quotes or control characters, is needed for a{} guest",
            hascript_api::names::shorten(s),
            if os == OsKind::Hpux { "n HP-UX" } else { " Linux" }
        )));
    }
    Ok(())
}

fn verdict(check: &str, ok: bool, detail: impl Into<String>, remedy: Option<String>) -> Value {
    json!({"check": check, "ok": ok, "detail": detail.into(), "remedy": remedy, "warning": null})
}

fn os_word(os: OsKind) -> &'static str {
    os.word()
}

impl Inner {
    /// The guest `key` (VM or inventory name of a guest of role `vm-guest`), its OS kind
    /// and where it runs, from `hpvmstatus -P` on every VM host.
    pub(crate) fn cmappserver_target(&self, key: &str) -> Result<Target> {
        validate_name("guest", key)?;
        let g = self.topo.guest(key).cloned().ok_or_else(|| {
            Error::usage(format!(
                "{key:?} is not a guest of the inventory (role vm-guest): cmappserver is installed inside the guest, so hascript must be able to name it; the inventory's guests are {}",
                if self.topo.guests.is_empty() {
                    "none".to_string()
                } else {
                    self.topo.guests.iter().map(|g| g.name.clone()).collect::<Vec<_>>().join(", ")
                }
            ))
        })?;
        let views = self.guest_on_hosts(&g.vm)?;
        let host = views
            .iter()
            .find(|v| v.presence == Presence::On)
            .map(|v| v.host.clone());
        let row = views
            .iter()
            .filter(|v| Some(&v.host) == host.as_ref())
            .chain(views.iter())
            .find_map(|v| v.details.as_ref());
        let Some(d) = row else {
            return Err(Error::check(format!(
                "guest {} (VM {}) is registered on no VM host of the inventory (hpvmstatus -P {})",
                g.name, g.vm, g.vm
            )));
        };
        let os = d.vm.os_kind();
        if os == OsKind::Other {
            return Err(Error::check(format!(
                "hpvmstatus -P {} says OS type {:?}: cmappserver exists for HP-UX, Linux and Windows guests only",
                g.vm, d.vm.os_type
            )));
        }
        Ok(Target {
            guest: g.name,
            vm: g.vm,
            os,
            host,
        })
    }

    /// The guest, refused unless it runs and is HP-UX or Linux (what the changes need).
    fn posix_target(&self, key: &str, what: &str) -> Result<(Target, String)> {
        let t = self.cmappserver_target(key)?;
        if t.os == OsKind::Windows {
            return Err(Error::usage(format!(
                "{what}: guest {} is a Windows guest, which hascript's command lines cannot reach; follow the printed steps there (hpvm/install-cmappserver prints them)",
                t.guest
            )));
        }
        let Some(h) = t.host.clone() else {
            return Err(Error::check(format!(
                "{what}: guest {} (VM {}) runs on no VM host: cmappserver is installed inside the running guest",
                t.guest, t.vm
            ))
            .with_remedy(format!(
                "start the package or the guest first (hascript run hpvm/run-package -p package={})",
                t.vm
            )));
        };
        Ok((t, h))
    }

    /// Read: `#{guest, vm, os, host}` (`os`: hpux, linux or windows; `host`: the VM host
    /// where the guest runs, () when none). The procedure's overrides are validated here,
    /// before anything changes: `source` (see [`source_ok`]), `from` (a VM host of the
    /// inventory), `address` (a host name or address).
    pub(crate) fn cmappserver_guest(
        &self,
        key: &str,
        source: Option<&str>,
        from: Option<&str>,
        address: Option<&str>,
    ) -> Result<Value> {
        let t = self.cmappserver_target(key)?;
        if let Some(a) = address {
            validate_name("guest address", a)?;
        }
        let from = from.map(|h| self.resolve_host("VM host", h)).transpose()?;
        if let Some(s) = source {
            source_ok(t.os, s)?;
        }
        Ok(
            json!({"guest": t.guest, "vm": t.vm, "os": os_word(t.os), "host": t.host, "from": from, "address": address.unwrap_or(&t.guest)}),
        )
    }

    /// The software flavour of a running HP-UX or Linux guest: `(flavour, what told it)`.
    fn flavour(&self, t: &Target) -> Result<(String, String)> {
        match t.os {
            OsKind::Hpux => {
                let c = cmd::uname_r(&t.guest);
                let out = self.ctx.run_ok(&c)?;
                let release = out.stdout.trim().to_string();
                match hpux_flavour(&release) {
                    Some(f) => Ok((f.into(), format!("uname -r: {release}"))),
                    None => Err(Error::check(format!(
                        "guest {} runs HP-UX {release:?} (uname -r): the VM hosts carry cmappserver depots for B.11.23 (11iv2) and B.11.31 (11iv3) only",
                        t.guest
                    ))
                    .on_host(&t.guest)),
                }
            }
            OsKind::Linux => {
                for (file, f) in [
                    ("/etc/redhat-release", "redhat"),
                    ("/etc/SuSE-release", "sles"),
                ] {
                    if let Some(text) = self.read_file(&t.guest, file)? {
                        let first = text.lines().next().unwrap_or("").trim().to_string();
                        return Ok((f.into(), format!("{file}: {first}")));
                    }
                }
                Err(Error::check(format!(
                    "guest {} is a Linux guest with neither /etc/redhat-release nor /etc/SuSE-release: the VM hosts carry cmappserver rpms for Red Hat and SLES only",
                    t.guest
                ))
                .on_host(&t.guest))
            }
            _ => Ok(("windows".into(), "hpvmstatus: WINDOWS".into())),
        }
    }

    /// Read: which of the host's files the guest takes and where it goes: `#{guest, vm, os,
    /// host, flavour, why, source, dest}` (`dest` () for Windows).
    pub(crate) fn cmappserver_software(&self, key: &str) -> Result<Value> {
        let t = self.cmappserver_target(key)?;
        let (flavour, why) = if t.os == OsKind::Windows {
            ("windows".to_string(), "hpvmstatus -P: WINDOWS".to_string())
        } else {
            let (t2, _) = self.posix_target(key, "cmappserver_software")?;
            self.flavour(&t2)?
        };
        let (sub, file, dest) = software_for(t.os, &flavour)
            .ok_or_else(|| Error::check(format!("no cmappserver software for {flavour}")))?;
        Ok(json!({
            "guest": t.guest, "vm": t.vm, "os": os_word(t.os), "host": t.host,
            "flavour": flavour, "why": why,
            "source": format!("{SOFTWARE_DIR}/{sub}/{file}"), "dest": dest,
        }))
    }

    /// `java -version` in the guest, judged (a Check's verdict with `version` and
    /// `warning`).
    pub(crate) fn check_java(&self, key: &str) -> Result<Value> {
        let (t, _) = self.posix_target(key, "check_java")?;
        let name = format!("Java in {}", t.guest);
        let c = cmd::java_version(&t.guest);
        let out = self.ctx.run(&c)?;
        let text = format!("{}\n{}", out.stderr, out.stdout);
        let add = |mut v: Value, version: Option<&str>, warning: Option<String>| {
            v["version"] = json!(version);
            v["warning"] = json!(warning);
            v
        };
        if !out.success() {
            let why = text
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .trim();
            return Ok(add(
                verdict(
                    &name,
                    false,
                    format!("java -version failed ({why}): no Java on root's PATH"),
                    Some(format!("install Java 1.4.2, 1.5 or 1.6 in {} and put its bin folder on root's PATH", t.guest)),
                ),
                None,
                None,
            ));
        }
        let Some(j) = parse_java(&text) else {
            return Ok(add(
                verdict(
                    &name,
                    false,
                    format!("java -version printed no version line: {}", text.trim()),
                    Some("check the guest's java command".into()),
                ),
                None,
                None,
            ));
        };
        let v = j.version.clone();
        Ok(match (j.fit(), j.gcj) {
            (JavaFit::TooOld, _) => add(
                verdict(
                    &name,
                    false,
                    format!("Java {v} is older than 1.4.2 (the guide: Java 1.4.2, 1.5 or 1.6)"),
                    Some(format!(
                        "install Java 1.4.2, 1.5 or 1.6 in {} and put it first on root's PATH",
                        t.guest
                    )),
                ),
                Some(&v),
                None,
            ),
            (fit, gcj) => {
                let mut warnings = Vec::new();
                if fit == JavaFit::Newer {
                    warnings.push(format!(
                        "Java {v} is newer than the guide's list (1.4.2, 1.5, 1.6)"
                    ));
                }
                if gcj {
                    warnings.push("this is GNU gcj: the guide warns that key generation may fail with it; use another Java and its keytool if it does".to_string());
                }
                add(
                    verdict(
                        &name,
                        true,
                        format!("Java {v}{}", if gcj { " (gcj)" } else { "" }),
                        None,
                    ),
                    Some(&v),
                    (!warnings.is_empty()).then(|| warnings.join("; ")),
                )
            }
        })
    }

    /// Interlock of the changes on a Linux guest: Java missing or older than 1.4.2 refuses.
    fn refuse_bad_java(&self, key: &str, t: &Target) -> Result<()> {
        if t.os != OsKind::Linux {
            return Ok(());
        }
        let v = self.check_java(key)?;
        if v["ok"].as_bool() == Some(true) {
            return Ok(());
        }
        let mut e = Error::check(format!(
            "{}: {}; cmappserver is not installed",
            v["check"].as_str().unwrap_or("Java"),
            v["detail"].as_str().unwrap_or("")
        ))
        .on_host(&t.guest);
        if let Some(r) = v["remedy"].as_str() {
            e = e.with_remedy(r);
        }
        Err(e)
    }

    /// Change: copy the cmappserver software from a VM host into the guest, read back.
    /// `source` and `host` override the file on the host and the host (default: the file
    /// of the guest's OS and release, on the VM host where the guest runs).
    pub(crate) fn copy_cmappserver(
        &self,
        key: &str,
        source: Option<&str>,
        from: Option<&str>,
    ) -> Result<Value> {
        let (t, running_on) = self.posix_target(key, "copy_cmappserver")?;
        self.refuse_bad_java(key, &t)?;
        let host = match from {
            Some(h) => self.resolve_host("VM host", h)?,
            None => running_on,
        };
        let (flavour, _) = self.flavour(&t)?;
        let (sub, file, dest) = software_for(t.os, &flavour)
            .ok_or_else(|| Error::check(format!("no cmappserver software for {flavour}")))?;
        let dest = dest.unwrap_or_else(|| GUEST_DEPOT.into());
        let src = match source {
            Some(s) => {
                source_ok(t.os, s)?;
                s.to_string()
            }
            None => format!("{SOFTWARE_DIR}/{sub}/{file}"),
        };
        if self.stat(&host, &src)?.is_none() {
            return Err(Error::check(format!(
                "{src} does not exist on {host} (Serviceguard A.11.19 or later installs the guests' cmappserver software in {SOFTWARE_DIR})"
            ))
            .on_host(&host)
            .with_remedy("give the file with -p source=<path on the VM host>, or install Serviceguard's cmappserver software on the VM host"));
        }
        let data = self.read_bytes(&host, &src)?;
        let copied = self
            .put_bytes(&t.guest, &dest, 0o644, &data)
            .map_err(super::after_change)?;
        let back = self
            .read_bytes(&t.guest, &dest)
            .map_err(super::after_change)?;
        if back != data {
            return Err(Error::needs_attention(format!(
                "{dest} in {} does not hold what {src} on {host} holds after the copy ({} bytes read back, {} sent)",
                t.guest,
                back.len(),
                data.len()
            ))
            .on_host(&t.guest));
        }
        self.ctx.ui.info(&format!(
            "{src} on {host} → {dest} in {} ({} bytes{})",
            t.guest,
            data.len(),
            if copied {
                ""
            } else {
                ", already there: not rewritten"
            }
        ));
        Ok(
            json!({"guest": t.guest, "host": host, "source": src, "dest": dest, "bytes": data.len(), "copied": copied}),
        )
    }

    /// What an HP-UX guest has installed and what the depot offers (SD-UX revisions).
    fn sd_revisions(&self, guest: &str, depot: &str) -> Result<(Option<String>, String)> {
        let installed = self.installed(guest, PRODUCT)?;
        let c = cmd::swlist_depot(guest, depot, PRODUCT)?;
        let out = self.ctx.run(&c)?;
        if !out.success() {
            return Err(Error::check(format!(
                "{depot} in {guest} is not a readable depot holding {PRODUCT}: {}",
                out.stderr.trim()
            ))
            .on_host(guest)
            .with_command(c.display()));
        }
        let products = swlist::parse(&out.stdout).map_err(|e| parse_err(guest, e))?;
        let offered = swlist::find(&products, PRODUCT)
            .map(|p| p.revision.clone())
            .ok_or_else(|| {
                Error::check(format!("the depot {depot} in {guest} holds no {PRODUCT}"))
                    .on_host(guest)
            })?;
        Ok((installed, offered))
    }

    /// `rpm -q cmappserver` (`None`: not installed) and `rpm -qp FILE`.
    fn rpm_versions(&self, guest: &str, file: &str) -> Result<(Option<String>, String)> {
        let installed = self.rpm_installed(guest)?;
        let c = cmd::rpm_qp(guest, file)?;
        let out = self.ctx.run(&c)?;
        let offered = out.stdout.lines().next().unwrap_or("").trim().to_string();
        if !out.success() || !offered.starts_with("cmappserver-") {
            return Err(Error::check(format!(
                "{file} in {guest} is not a cmappserver rpm: {}",
                if out.stderr.trim().is_empty() {
                    offered.as_str()
                } else {
                    out.stderr.trim()
                }
            ))
            .on_host(guest)
            .with_command(c.display()));
        }
        Ok((installed, offered))
    }

    fn rpm_installed(&self, guest: &str) -> Result<Option<String>> {
        let c = cmd::rpm_q(guest, RPM_NAME)?;
        let out = self.ctx.run(&c)?;
        let text = format!("{}{}", out.stdout, out.stderr);
        if !out.success() {
            if text.contains("is not installed") {
                return Ok(None);
            }
            return Err(Error::new(
                ErrorKind::Command,
                format!("rpm -q {RPM_NAME} failed in {guest}: {}", text.trim()),
            )
            .on_host(guest)
            .with_command(c.display())
            .with_status(&out.status));
        }
        Ok(out.stdout.lines().next().map(|l| l.trim().to_string()))
    }

    /// Change: install the copied software in the guest (`swinstall -s FILE CMAPPSERVER`;
    /// `rpm -i FILE`, `rpm -U FILE` when installed); nothing is sent when the installed
    /// revision is the one offered. Read back with `swlist` / `rpm -q`.
    pub(crate) fn install_cmappserver(&self, key: &str, file: &str) -> Result<Value> {
        let (t, _) = self.posix_target(key, "install_cmappserver")?;
        let want = if t.os == OsKind::Hpux {
            ".depot"
        } else {
            ".rpm"
        };
        let base = file.strip_prefix("/tmp/").unwrap_or("");
        if base.is_empty()
            || base.contains('/')
            || !base.ends_with(want)
            || base.starts_with('.')
            || validate_name("file", base).is_err()
        {
            return Err(Error::usage(format!(
                "install_cmappserver: {:?} is not a file in /tmp ending in {want} (what copy_cmappserver returns as dest)",
                hascript_api::names::shorten(file)
            )));
        }
        self.refuse_bad_java(key, &t)?;
        let ui = &self.ctx.ui;
        let (before, offered, c) = if t.os == OsKind::Hpux {
            let (before, offered) = self.sd_revisions(&t.guest, file)?;
            (before, offered, cmd::swinstall(&t.guest, file, PRODUCT)?)
        } else {
            let (before, offered) = self.rpm_versions(&t.guest, file)?;
            let upgrade = before.is_some();
            (before, offered, cmd::rpm_install(&t.guest, file, upgrade)?)
        };
        if before.as_deref() == Some(offered.as_str()) {
            ui.info(&format!(
                "cmappserver {offered} is already installed in {}: nothing sent",
                t.guest
            ));
            return Ok(
                json!({"guest": t.guest, "os": os_word(t.os), "file": file, "before": before, "after": offered, "sent": (), "changed": false}),
            );
        }
        let shown = c.display();
        let out = self.ctx.run(&c)?;
        if !out.success() {
            let text = format!("{}\n{}", out.stderr, out.stdout);
            let errs: Vec<&str> = text
                .lines()
                .map(str::trim)
                .filter(|l| {
                    l.contains("ERROR")
                        || l.contains("error")
                        || l.contains("conflicts")
                        || l.contains("already installed")
                })
                .collect();
            let after = self.installed_revision(&t).ok().flatten();
            let e = Error::new(
                ErrorKind::Failed,
                format!(
                    "{shown} failed in {} (exit {}): {}; installed now: {}",
                    t.guest,
                    out.code(),
                    if errs.is_empty() {
                        out.stderr.trim().to_string()
                    } else {
                        errs.join(" / ")
                    },
                    after.as_deref().unwrap_or("none")
                ),
            )
            .on_host(&t.guest)
            .with_command(shown)
            .with_status(&out.status);
            return Err(if after == before {
                e
            } else {
                e.with_kind(ErrorKind::NeedsAttention)
            });
        }
        let after = self.installed_revision(&t).map_err(super::after_change)?;
        if after.as_deref() != Some(offered.as_str()) {
            return Err(Error::needs_attention(format!(
                "{shown} succeeded in {} but {} now says {} instead of {offered}",
                t.guest,
                if t.os == OsKind::Hpux {
                    "swlist"
                } else {
                    "rpm -q"
                },
                after.as_deref().unwrap_or("not installed")
            ))
            .on_host(&t.guest));
        }
        ui.info(&format!(
            "cmappserver {offered} installed in {} ({}; before: {})",
            t.guest,
            shown,
            before.as_deref().unwrap_or("not installed")
        ));
        Ok(
            json!({"guest": t.guest, "os": os_word(t.os), "file": file, "before": before, "after": after, "sent": shown, "changed": true}),
        )
    }

    fn installed_revision(&self, t: &Target) -> Result<Option<String>> {
        if t.os == OsKind::Hpux {
            self.installed(&t.guest, PRODUCT)
        } else {
            self.rpm_installed(&t.guest)
        }
    }

    /// Check (Linux): `/opt/hp/cmappserver` on root's PATH, as its login profiles set it.
    pub(crate) fn check_cmappserver_path(&self, key: &str) -> Result<Value> {
        let (t, _) = self.posix_target(key, "check_cmappserver_path")?;
        let name = format!("{GUEST_DIR} on root's PATH in {}", t.guest);
        let files = ["/etc/profile", "/root/.bash_profile", "/root/.profile"];
        for f in files {
            if let Some(text) = self.read_file(&t.guest, f)? {
                if text
                    .lines()
                    .filter(|l| !l.trim_start().starts_with('#'))
                    .any(|l| l.contains("PATH") && l.contains(GUEST_DIR))
                {
                    return Ok(verdict(&name, true, format!("set in {f}"), None));
                }
            }
        }
        Ok(verdict(
            &name,
            false,
            format!("not set in {}", files.join(", ")),
            Some(format!(
                "add the line `PATH=$PATH:{GUEST_DIR}; export PATH` to /etc/profile (or root's ~/.bash_profile) in {}",
                t.guest
            )),
        ))
    }

    /// Check: the keys and `cmappserver.conf` (made by hpvm/setup-appmon-keys) in the
    /// guest's `/opt/hp/cmappserver`, one verdict each.
    pub(crate) fn check_cmappserver_keys(&self, key: &str) -> Result<Vec<Value>> {
        let (t, _) = self.posix_target(key, "check_cmappserver_keys")?;
        let mut v = Vec::new();
        for f in KEY_FILES {
            let p = format!("{GUEST_DIR}/{f}");
            let (ok, detail) = match self.stat(&t.guest, &p) {
                Ok(Some(_)) => (true, "present".to_string()),
                Ok(None) => (false, "missing".to_string()),
                Err(e) if is_cancel(&e) => return Err(e),
                Err(e) => (false, e.message),
            };
            v.push(verdict(
                &format!("{p} in {}", t.guest),
                ok,
                detail,
                (!ok).then(|| {
                    format!(
                        "make the keys and cmappserver.conf: hascript run hpvm/setup-appmon-keys -p package={}",
                        t.vm
                    )
                }),
            ));
        }
        Ok(v)
    }

    /// Check: the guest's `cmappserver` port answers a TCP connect from the VM host where
    /// the guest runs (or `from`), to `address` (default: the guest's inventory name).
    pub(crate) fn check_cmappserver_port(
        &self,
        key: &str,
        address: Option<&str>,
        from: Option<&str>,
    ) -> Result<Value> {
        let t = self.cmappserver_target(key)?;
        let addr = address.unwrap_or(&t.guest).to_string();
        let name = format!("cmappserver port {PORT} of {addr}");
        let host = match (from, &t.host) {
            (Some(h), _) => self.resolve_host("VM host", h)?,
            (None, Some(h)) => h.clone(),
            (None, None) => {
                return Ok(verdict(
                    &name,
                    false,
                    format!("guest {} runs on no VM host", t.guest),
                    Some(format!(
                        "start it first (hascript run hpvm/run-package -p package={})",
                        t.vm
                    )),
                ))
            }
        };
        let c = cmd::port_probe(&host, &addr, PORT, PROBE_TIMEOUT_S)?;
        let out = self.ctx.run(&c)?;
        if out.success() {
            return Ok(verdict(
                &name,
                true,
                format!("answers (a TCP connect from {host})"),
                None,
            ));
        }
        let why = format!("{}\n{}", out.stderr, out.stdout);
        let why = why
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim();
        Ok(verdict(
            &name,
            false,
            format!("does not answer from {host}: {why}"),
            Some(format!(
                "install and start cmappserver in {} (and check that no firewall blocks port {PORT}), then run this again",
                t.guest
            )),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_versions_are_judged_by_the_guides_list() {
        let j = |t: &str| parse_java(t).map(|j| (j.version.clone(), j.fit(), j.gcj));
        assert_eq!(
            j("java version \"1.6.0_20\"\nJava(TM) SE Runtime Environment (build 1.6.0_20-b02)\n"),
            Some(("1.6.0_20".into(), JavaFit::Listed, false))
        );
        assert_eq!(
            j("java version \"1.6.0.05\"\n").map(|x| x.1),
            Some(JavaFit::Listed)
        );
        assert_eq!(
            j("java version \"1.5.0_22\"\n").map(|x| x.1),
            Some(JavaFit::Listed)
        );
        assert_eq!(
            j("java version \"1.4.2\"\n").map(|x| x.1),
            Some(JavaFit::Listed)
        );
        assert_eq!(
            j("java version \"1.4.1_07\"\n").map(|x| x.1),
            Some(JavaFit::TooOld)
        );
        assert_eq!(
            j("java version \"1.3.1\"\n").map(|x| x.1),
            Some(JavaFit::TooOld)
        );
        assert_eq!(
            j("java version \"1.7.0_80\"\n").map(|x| x.1),
            Some(JavaFit::Newer)
        );
        assert_eq!(
            j("java version \"1.4.2\"\ngij (GNU libgcj) version 4.1.2\n"),
            Some(("1.4.2".into(), JavaFit::Listed, true))
        );
        assert_eq!(j("bash: java: command not found\n"), None);
    }

    #[test]
    fn the_depot_follows_the_hpux_release() {
        assert_eq!(hpux_flavour("B.11.23"), Some("11iv2"));
        assert_eq!(hpux_flavour("B.11.31\n"), Some("11iv3"));
        assert_eq!(hpux_flavour("B.11.11"), None);
        let (sub, file, dest) = software_for(OsKind::Linux, "sles").unwrap_or_default();
        assert_eq!(
            (sub.as_str(), file.as_str(), dest.as_deref()),
            (
                "sles",
                "cmappserver_sles_ia64.rpm",
                Some("/tmp/cmappserver_sles_ia64.rpm")
            )
        );
        assert!(software_for(OsKind::Linux, "debian").is_none());
    }
}
