//! What every simulated site has, whatever products it emulates: the virtual time and, per
//! host, an operating system with a host name and a few files (logs, `/etc/inet/hosts`,
//! root's `known_hosts`). Products read and append to these files; the generic commands
//! (`cat`, `wc`, `tail`, `getent`, `ssh-keygen`, …) serve them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Root's home folder on every simulated host.
pub(crate) const HOME: &str = "/root";

/// `PATH` of root's shell on the simulated hosts: the system folders and the products'.
pub(crate) const DEFAULT_PATH: &str =
    "/usr/sbin:/usr/bin:/bin:/opt/SMAW/bin:/opt/SMAW/SMAWcf/bin:/opt/SMAW/SMAWRrms/bin:/etc/opt/FJSVcluster/bin";

/// Root's `known_hosts`.
pub(crate) const KNOWN_HOSTS: &str = "/root/.ssh/known_hosts";

/// The hosts table (`/etc/hosts` is a link to it on Solaris).
pub(crate) const HOSTS_FILE: &str = "/etc/inet/hosts";

/// syslog's main file.
pub(crate) const MESSAGES: &str = "/var/adm/messages";

/// RMS's switch log.
pub(crate) const SWITCHLOG: &str = "/var/opt/SMAWRrms/log/switchlog";

/// The operating system of one simulated host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct HostOs {
    /// `hostname` (also the name in syslog lines).
    pub hostname: String,
    /// `uname -i` (the platform name).
    pub platform: String,
    /// Files by absolute path.
    pub files: BTreeMap<String, String>,
    /// Modes, owners and times of paths that have them (directories, and files whose
    /// mode is not the default 0644): absent for the LDoms hosts, which only have files.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub meta: BTreeMap<String, Meta>,
    /// Symbolic links: absolute path → target as written (`vtn.1`, relative to the link's
    /// directory, or absolute). `cat` follows them; `ls -l` shows `name -> target`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub links: BTreeMap<String, String>,
    /// What `uname` prints on this host (`None`: the Solaris hosts' values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uname: Option<Uname>,
}

/// The fields of `uname` on a host that is not Solaris (HP-UX, Linux).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Uname {
    /// `-s` (`HP-UX`, `Linux`).
    pub sysname: String,
    /// `-r` (`B.11.31`, `2.6.18-194.el5`).
    pub release: String,
    /// `-v` (`U`, `#1 SMP Tue Mar 16 21:52:43 EDT 2010`).
    pub version: String,
    /// `-m` (`ia64`).
    pub machine: String,
}

/// `st_mode` type bits of a directory.
pub(crate) const S_IFDIR: u32 = 0o040_000;
/// `st_mode` type bits of a regular file.
pub(crate) const S_IFREG: u32 = 0o100_000;

/// The inode data of one path: type + permission bits, owner, group, modification time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Meta {
    /// `st_mode`: [`S_IFDIR`] or [`S_IFREG`] plus the permission bits.
    pub mode: u32,
    /// Owner name.
    pub owner: String,
    /// Group name.
    pub group: String,
    /// Modification time, unix ms.
    pub mtime_ms: u64,
}

impl Meta {
    /// A root-owned directory with permission bits `perm`.
    pub(crate) fn dir(perm: u32, mtime_ms: u64) -> Self {
        Meta {
            mode: S_IFDIR | (perm & 0o7777),
            owner: "root".into(),
            group: "sys".into(),
            mtime_ms,
        }
    }

    /// A root-owned regular file with permission bits `perm`.
    pub(crate) fn file(perm: u32, mtime_ms: u64) -> Self {
        Meta {
            mode: S_IFREG | (perm & 0o7777),
            owner: "root".into(),
            group: "sys".into(),
            mtime_ms,
        }
    }

    /// Whether this is a directory.
    pub(crate) fn is_dir(&self) -> bool {
        self.mode & 0o170_000 == S_IFDIR
    }
}

impl HostOs {
    /// A host with no files yet.
    pub(crate) fn new(hostname: &str, platform: &str) -> Self {
        HostOs {
            hostname: hostname.to_string(),
            platform: platform.to_string(),
            files: BTreeMap::new(),
            meta: BTreeMap::new(),
            links: BTreeMap::new(),
            uname: None,
        }
    }

    /// The content of `path` (following the links the simulated hosts have).
    pub(crate) fn file(&self, path: &str) -> Option<&str> {
        let path = canonical_path(path);
        if let Some(f) = self.files.get(path) {
            return Some(f.as_str());
        }
        // One level of symbolic link (the hosts have no chains).
        let target = self.link_target(path)?;
        self.files.get(&target).map(String::as_str)
    }

    /// The absolute path a symbolic link at `path` points to.
    pub(crate) fn link_target(&self, path: &str) -> Option<String> {
        let t = self.links.get(path)?;
        if t.starts_with('/') {
            return Some(t.clone());
        }
        let dir = path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        Some(format!("{dir}/{t}"))
    }

    /// Append one line (a newline is added) to `path`, creating it when missing.
    pub(crate) fn append_line(&mut self, path: &str, line: &str) {
        let f = self
            .files
            .entry(canonical_path(path).to_string())
            .or_default();
        f.push_str(line);
        f.push('\n');
    }

    /// Append a syslog line `<stamp> <hostname> <text>` to `/var/adm/messages`.
    pub(crate) fn syslog(&mut self, now_ms: u64, text: &str) {
        let line = format!(
            "{} {} {}",
            crate::timefmt::syslog(now_ms),
            self.hostname,
            text
        );
        self.append_line(MESSAGES, &line);
    }

    /// Addresses and names of the hosts table, one entry per line: (address, names).
    pub(crate) fn hosts_table(&self) -> Vec<(String, Vec<String>)> {
        let mut out = Vec::new();
        for line in self.file(HOSTS_FILE).unwrap_or("").lines() {
            let line = line.split('#').next().unwrap_or("");
            let mut it = line.split_whitespace();
            if let Some(addr) = it.next() {
                let names: Vec<String> = it.map(str::to_string).collect();
                if !names.is_empty() {
                    out.push((addr.to_string(), names));
                }
            }
        }
        out
    }

    /// Resolve a name or an address through the hosts table: the address.
    pub(crate) fn resolve(&self, key: &str) -> Option<String> {
        self.hosts_table()
            .into_iter()
            .find(|(addr, names)| addr == key || names.iter().any(|n| n == key))
            .map(|(addr, _)| addr)
    }

    /// Whether root's `known_hosts` holds a key for `address`.
    pub(crate) fn knows_host(&self, address: &str) -> bool {
        self.file(KNOWN_HOSTS).unwrap_or("").lines().any(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|h| h.split(',').any(|x| x == address))
        })
    }
}

/// Paths that are links on Solaris, mapped to their targets.
pub(crate) fn canonical_path(path: &str) -> &str {
    match path {
        "/etc/hosts" => HOSTS_FILE,
        "~/.ssh/known_hosts" => KNOWN_HOSTS,
        p => p,
    }
}

/// The virtual time and the hosts' operating systems.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct World {
    /// Virtual time, unix milliseconds.
    pub now_ms: u64,
    /// Hosts by inventory name.
    pub hosts: BTreeMap<String, HostOs>,
}

impl World {
    /// The host named `name`.
    pub(crate) fn host_mut(&mut self, name: &str) -> Option<&mut HostOs> {
        self.hosts.get_mut(name)
    }
}

/// A deterministic, plausible-looking ssh-rsa public key for `seed` (a host address).
pub(crate) fn fake_rsa_key(seed: &str) -> String {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut body = String::from("AAAAB3NzaC1yc2EAAAADAQABAAABAQC");
    for i in 0..340u64 {
        for b in seed.bytes().chain(i.to_le_bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        body.push(B64[(h >> 58) as usize] as char);
    }
    body
}
