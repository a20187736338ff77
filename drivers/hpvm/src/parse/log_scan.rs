//! The B6 diagnoses of the SG IVS toolkit guide (§7 troubleshooting) over package-log and
//! syslog text.
//!
//! The caller decodes the bytes (lossily) and keeps only the lines written since the run
//! started; [`scan`] only matches. Each [`Finding`] carries the manual's cause and remedy in
//! English ([`FindingKind::cause`], [`FindingKind::remedy`]) and the manual's Japanese remedy
//! ([`FindingKind::remedy_ja`]).
//!
//! Recognised lines (the manual's texts):
//! - `cmappmgr[pid]: Could not connect to the node <guest> Connection timed out (errno:238)`,
//!   `cmappmgr[pid]: java.net.ConnectException: Connection timed out (errno:238)`,
//!   `cmappmgr[pid]: PROGRAM EXIT CODE <n>` (n ≠ 0): [`FindingKind::AppServerUnreachable`];
//!   the guest is taken from the line, else from an earlier line of the same `cmappmgr[pid]`;
//! - `WARNING: Maintenance mode is enabled for the package`:
//!   [`FindingKind::MaintenanceEnabled`];
//! - `Disable the maintenance mode to start service monitoring`:
//!   [`FindingKind::MonitoringDisabled`];
//! - `Service monitor detected a failure in guest <vm>.`: [`FindingKind::GuestFailure`];
//! - `Incorrect permissions for <dir> (<mode>). … on node <host>.`:
//!   [`FindingKind::IncorrectPermissions`];
//! - `Warning! IP Address mis-match : <ip> found on interface <lan> expected <lan>` (§1: the
//!   old and the new toolkit's vswitch scripts both manage one vswitch):
//!   [`FindingKind::VswitchIpMismatch`].
//!
//! Each finding carries the line's time stamp (`Mon dd hh:mm:ss`, as syslog and the package
//! log write it) when the line starts with one.

use std::collections::HashMap;

use serde::Serialize;

use super::cmcheckconf::permission_problem;
use super::text::{lines, tokens};

/// What a line says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FindingKind {
    /// `cmappmgr` could not reach `cmappserver` in the guest (errno 238, ConnectException,
    /// non-zero PROGRAM EXIT CODE).
    AppServerUnreachable {
        /// The guest, when the line (or an earlier line of the same process) names it.
        guest: Option<String>,
    },
    /// The toolkit's maintenance mode was on when the package started.
    MaintenanceEnabled,
    /// Service monitoring did not start because of maintenance mode.
    MonitoringDisabled,
    /// The guest monitor saw the guest fail.
    GuestFailure {
        /// The guest named by the message.
        guest: String,
    },
    /// A package directory with a mode Serviceguard refuses.
    IncorrectPermissions {
        /// The directory.
        path: String,
        /// Its mode as printed (`40777`).
        mode: String,
        /// The node named by the message.
        node: String,
    },
    /// Two toolkits' vswitch scripts manage one vswitch: after a LAN switch, the one that
    /// did not reconfigure it logs this and accepts the other's configuration.
    VswitchIpMismatch {
        /// The address.
        ip: String,
        /// The interface it was found on (`<from_lan_id>`).
        found_on: String,
        /// The interface the script expected (`<to_lan_id>`).
        expected: String,
    },
}

impl FindingKind {
    /// A short code (`app_server_unreachable`, …).
    pub fn code(&self) -> &'static str {
        match self {
            FindingKind::AppServerUnreachable { .. } => "app_server_unreachable",
            FindingKind::MaintenanceEnabled => "maintenance_enabled",
            FindingKind::MonitoringDisabled => "monitoring_disabled",
            FindingKind::GuestFailure { .. } => "guest_failure",
            FindingKind::IncorrectPermissions { .. } => "incorrect_permissions",
            FindingKind::VswitchIpMismatch { .. } => "vswitch_ip_mismatch",
        }
    }

    /// The manual's probable cause, in English.
    pub fn cause(&self) -> &'static str {
        match self {
            FindingKind::AppServerUnreachable { .. } => {
                "cmappmgr could not communicate with cmappserver on the VM guest because the guest OS was not up when the package started; if it repeats, the network or DNS configuration of the VM host or guest, or the SSL setup, is wrong"
            }
            FindingKind::MaintenanceEnabled | FindingKind::MonitoringDisabled => {
                "a maintenance file was found in the package directory when the package started"
            }
            FindingKind::GuestFailure { .. } => {
                "an unexpected failure of the VM guest process was detected during service monitoring, and maintenance mode is not enabled"
            }
            FindingKind::IncorrectPermissions { .. } => {
                "cmdeployvpkg created the package directory without sufficient permissions"
            }
            FindingKind::VswitchIpMismatch { .. } => {
                "the Integrity VM toolkit's and the SG IVS toolkit's vswitch scripts (vswitchmon, vswitchmgr) both manage this vswitch: on a LAN switch one reconfigured it, the other logged this warning and accepted that configuration"
            }
        }
    }

    /// The manual's remedy, in English, with the names of this finding filled in.
    pub fn remedy(&self, vm: Option<&str>) -> String {
        let vm = vm.unwrap_or("<vm_name>");
        match self {
            FindingKind::AppServerUnreachable { .. } => {
                "check the network and DNS configuration of the VM host and the VM guest, and the SSL (keytool) setup; see the cmappmgr guide".to_string()
            }
            FindingKind::MaintenanceEnabled | FindingKind::MonitoringDisabled => format!(
                "run `cmdeployvpkg -m 0 -P {vm}` to leave maintenance mode (while it is on and MAINTENANCE_FLAG is yes, a guest failure does not fail the package over)"
            ),
            FindingKind::GuestFailure { .. } => {
                "if Serviceguard did not fail the package over, restart the package".to_string()
            }
            FindingKind::IncorrectPermissions { path, .. } => {
                format!("run `chmod go-w {path}` on each cluster member")
            }
            FindingKind::VswitchIpMismatch { .. } => {
                "convert the old (Integrity VM toolkit) packages to SG IVS toolkit packages (hpvm/convert-package), so that one toolkit manages the vswitch; the warning itself needs no action (the script that logged it accepted the other's configuration)".to_string()
            }
        }
    }

    /// The manual's remedy in Japanese (§7).
    pub fn remedy_ja(&self) -> &'static str {
        match self {
            FindingKind::AppServerUnreachable { .. } => {
                "VM ホストまたは VM ゲストのネットワークか DNS の構成、または SSL の設定を確認してください。"
            }
            FindingKind::MaintenanceEnabled | FindingKind::MonitoringDisabled => {
                "cmdeployvpkg コマンドに -m 0 オプションを指定して実行してください。"
            }
            FindingKind::GuestFailure { .. } => {
                "HP Serviceguard によってパッケージのフェイルオーバーが行われない場合、パッケージを再起動してください。"
            }
            FindingKind::IncorrectPermissions { .. } => {
                "chmod コマンドを使用して、各クラスターメンバーのパッケージディレクトリにパーミッションを与えてください。"
            }
            FindingKind::VswitchIpMismatch { .. } => {
                "古いパッケージを新しいパッケージに変換することをお勧めします。"
            }
        }
    }
}

/// A matching line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What it says.
    #[serde(flatten)]
    pub kind: FindingKind,
    /// The host that logged it: `Node "X"` of a package-log line, or the host field of a
    /// syslog line.
    pub host: Option<String>,
    /// The line's time stamp (`Jul 28 17:26:06`), when it starts with one.
    pub time: Option<String>,
    /// 1-based line number in the scanned text.
    pub line_no: usize,
    /// The line (CR removed).
    pub line: String,
}

/// The `cmappmgr[pid]` tag of a line.
fn cmappmgr_pid(line: &str) -> Option<&str> {
    let i = line.find("cmappmgr[")?;
    let rest = &line[i + "cmappmgr[".len()..];
    let end = rest.find(']')?;
    Some(&rest[..end])
}

fn host_of(line: &str) -> Option<String> {
    if let Some(i) = line.find("Node \"") {
        let rest = &line[i + 6..];
        if let Some(end) = rest.find('"') {
            return Some(rest[..end].to_string());
        }
    }
    // syslog: `Mon DD HH:MM:SS host tag…`
    let toks = tokens(line);
    if toks.len() >= 5
        && toks[2].text.matches(':').count() == 2
        && toks[1].text.parse::<u8>().is_ok()
    {
        let h = toks[3].text;
        if h != "-" && !h.ends_with(':') {
            return Some(h.to_string());
        }
    }
    None
}

/// The `Mon dd hh:mm:ss` stamp a syslog or package-log line starts with.
fn stamp_of(line: &str) -> Option<String> {
    let mut w = line.split_whitespace();
    let (mon, day, time) = (w.next()?, w.next()?, w.next()?);
    let month_ok = mon.len() == 3 && mon.chars().all(|c| c.is_ascii_alphabetic());
    let day_ok = day.parse::<u8>().is_ok_and(|d| (1..=31).contains(&d));
    let time_ok = time.len() == 8
        && time
            .split(':')
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_digit()))
        && time.matches(':').count() == 2;
    (month_ok && day_ok && time_ok).then(|| format!("{mon} {day:>2} {time}"))
}

/// `IP Address mis-match : <ip> found on interface <lan> expected <lan>`.
fn ip_mismatch(line: &str) -> Option<FindingKind> {
    let i = line.find("IP Address mis-match")?;
    let rest = line[i + "IP Address mis-match".len()..].trim_start();
    let rest = rest.strip_prefix(':').unwrap_or(rest);
    let w: Vec<&str> = rest.split_whitespace().collect();
    match w.as_slice() {
        [ip, "found", "on", "interface", found, "expected", expected, ..] => {
            Some(FindingKind::VswitchIpMismatch {
                ip: ip.to_string(),
                found_on: found.to_string(),
                expected: expected.trim_end_matches(['.', ',']).to_string(),
            })
        }
        _ => None,
    }
}

fn word_after<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    let i = line.find(marker)?;
    let w = line[i + marker.len()..].split_whitespace().next()?;
    let w = w.trim_end_matches(['.', ',', ':']);
    (!w.is_empty()).then_some(w)
}

/// Scan `text` for the B6 diagnoses, in line order.
pub fn scan(text: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut guest_of_pid: HashMap<String, String> = HashMap::new();
    for (n, l) in lines(text) {
        let pid = cmappmgr_pid(l).map(str::to_string);
        let mut kind = None;
        if let Some(g) = word_after(l, "Could not connect to the node ") {
            if let Some(p) = &pid {
                guest_of_pid.insert(p.clone(), g.to_string());
            }
            kind = Some(FindingKind::AppServerUnreachable {
                guest: Some(g.to_string()),
            });
        } else if pid.is_some()
            && (l.contains("errno:238")
                || l.contains("java.net.ConnectException")
                || word_after(l, "PROGRAM EXIT CODE ").is_some_and(|c| c != "0"))
        {
            let guest = pid.as_ref().and_then(|p| guest_of_pid.get(p).cloned());
            kind = Some(FindingKind::AppServerUnreachable { guest });
        } else if l.contains("Maintenance mode is enabled for the package") {
            kind = Some(FindingKind::MaintenanceEnabled);
        } else if l.contains("Disable the maintenance mode to start service monitoring") {
            kind = Some(FindingKind::MonitoringDisabled);
        } else if let Some(g) = word_after(l, "Service monitor detected a failure in guest ") {
            kind = Some(FindingKind::GuestFailure {
                guest: g.to_string(),
            });
        } else if let Some(k) = ip_mismatch(l) {
            kind = Some(k);
        } else if let Some(p) = permission_problem(l) {
            kind = Some(FindingKind::IncorrectPermissions {
                path: p.path,
                mode: p.mode,
                node: p.node,
            });
        }
        if let Some(kind) = kind {
            out.push(Finding {
                kind,
                host: host_of(l),
                time: stamp_of(l),
                line_no: n,
                line: l.to_string(),
            });
        }
    }
    out
}
