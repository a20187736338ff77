//! The TOML inventory of a site: which driver, which hosts with which roles, and how each
//! host is reached. The simulator produces the same format (with `transport = "sim"`).
//!
//! Every error names the file, the line and the key, and says what to do.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use hascript_api::names::NAME_RULE;
use hascript_api::validate_name;
use hascript_ldoms::{ControlDomain, GuestDomain, Topology};
use serde::Deserialize;
use toml::Spanned;

/// How many characters of a user's value a message echoes.
pub const ECHO_LIMIT: usize = 64;

/// A user's value as messages echo it: quoted like `{:?}`, cut to [`ECHO_LIMIT`] characters
/// with `…` after the cut, so a huge value is never printed back whole.
pub fn quoted(value: &str) -> String {
    match value.char_indices().nth(ECHO_LIMIT) {
        Some((cut, _)) => format!("{:?}", format!("{}…", &value[..cut])),
        None => format!("{value:?}"),
    }
}

/// `message` with every quoted part (`"…"`, `` `…` ``) longer than [`ECHO_LIMIT`] characters
/// cut, so a message from elsewhere (TOML, the simulator) never prints a huge value back
/// whole.
pub fn clip_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(1024));
    let mut chars = message.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c != '"' && c != '`' {
            continue;
        }
        let mut n = 0;
        let mut escaped = false;
        let mut closed = false;
        for d in chars.by_ref() {
            closed = d == c && !escaped;
            escaped = c == '"' && d == '\\' && !escaped;
            if closed {
                break;
            }
            n += 1;
            if n <= ECHO_LIMIT {
                out.push(d);
            }
        }
        if n > ECHO_LIMIT {
            out.push('…');
        }
        if closed {
            out.push(c);
        }
    }
    out
}

/// The rule for host names, as error messages state it.
pub const HOSTNAME_RULE: &str = "a host name of at most 253 characters from A-Z a-z 0-9 . -, \
     starting and ending with a letter or digit";

/// The rule for addresses, as error messages state it.
pub const ADDRESS_RULE: &str = "an IPv4 or IPv6 address, or a host name of at most 253 \
     characters from A-Z a-z 0-9 . -, starting and ending with a letter or digit";

/// The rule for login user names, as error messages state it.
pub const USER_RULE: &str = "1 to 32 characters from a-z 0-9 _ . -, starting with a-z or _ \
     ([a-z_][a-z0-9_.-]{0,31})";

/// Whether `value` is a host name (`[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?`, at most 253
/// characters).
pub fn valid_hostname(value: &str) -> bool {
    let b = value.as_bytes();
    let edge = |c: &u8| c.is_ascii_alphanumeric();
    !b.is_empty()
        && b.len() <= 253
        && b.first().is_some_and(edge)
        && b.last().is_some_and(edge)
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-'))
}

/// Whether `value` is an IPv4 or IPv6 address or a host name (see [`ADDRESS_RULE`]).
pub fn valid_address(value: &str) -> bool {
    value.parse::<Ipv4Addr>().is_ok() || value.parse::<Ipv6Addr>().is_ok() || valid_hostname(value)
}

/// Whether `value` is a login user name (`[a-z_][a-z0-9_.-]{0,31}`).
pub fn valid_user(value: &str) -> bool {
    let b = value.as_bytes();
    !b.is_empty()
        && b.len() <= 32
        && (b[0].is_ascii_lowercase() || b[0] == b'_')
        && b.iter().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'_' | b'.' | b'-')
        })
}

/// How hascript reaches one host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// Run commands on this machine (`sh -c`), for a hascript that runs on the host itself
    /// or where every host is this machine.
    Local,
    /// The built-in simulator.
    Sim,
    /// OpenSSH-compatible SSH (see `crate::transport::ssh`).
    Ssh,
}

/// One host of the inventory with its transport settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostEntry {
    /// Inventory name.
    pub name: String,
    /// How it is reached.
    pub transport: TransportKind,
    /// Login user (for transports that log in).
    pub user: Option<String>,
    /// Network address, if given.
    pub address: Option<String>,
    /// SSH settings (only used with `transport = "ssh"`).
    pub ssh: crate::transport::ssh::SshOptions,
}

/// The static description of a Serviceguard + Integrity VM site (driver `hpvm`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HpvmHosts {
    /// The cluster's name, when the inventory gives it (`[hpvm] cluster = "…"`).
    pub cluster: Option<String>,
    /// VM hosts (Serviceguard nodes) in inventory order.
    pub vm_hosts: Vec<String>,
    /// Guests reachable as hosts: (inventory host name, VM name).
    pub guests: Vec<(String, String)>,
    /// For banners.
    pub description: String,
}

/// The static site description, per driver.
#[derive(Debug, Clone)]
pub enum SiteTopology {
    /// PRIMECLUSTER guest-domain cluster on LDoms.
    Ldoms(Topology),
    /// Serviceguard cluster of Integrity VM hosts.
    Hpvm(HpvmHosts),
}

impl SiteTopology {
    /// The site's description, for banners.
    pub fn description(&self) -> &str {
        match self {
            SiteTopology::Ldoms(t) => &t.description,
            SiteTopology::Hpvm(h) => &h.description,
        }
    }
}

/// A loaded and validated inventory.
#[derive(Debug, Clone)]
pub struct Inventory {
    /// Driver name (`ldoms`, `hpvm`).
    pub driver: String,
    /// The static site description for the driver.
    pub topology: SiteTopology,
    /// Hosts in inventory order with their transports.
    pub hosts: Vec<HostEntry>,
    /// `lock_dir` of hosts reached with `transport = "local"` (their own, else
    /// `[defaults]`): the folder their hascript lock is made in instead of `/var/tmp`
    /// (see [`crate::lock::lock_dirs`]).
    pub lock_dirs: BTreeMap<String, PathBuf>,
}

impl Inventory {
    /// Host names in inventory order.
    pub fn host_names(&self) -> Vec<String> {
        self.hosts.iter().map(|h| h.name.clone()).collect()
    }

    /// The transport of each host.
    pub fn transports(&self) -> BTreeMap<String, TransportKind> {
        self.hosts
            .iter()
            .map(|h| (h.name.clone(), h.transport))
            .collect()
    }
}

/// An inventory error: where (file, line, key) and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryError {
    /// The inventory file as given.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// The key concerned, when known.
    pub key: Option<String>,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for InventoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        if let Some(k) = &self.key {
            write!(f, ": key `{k}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for InventoryError {}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInventory {
    driver: Option<Spanned<String>>,
    description: Option<String>,
    defaults: Option<RawDefaults>,
    ldoms: Option<RawLdoms>,
    hpvm: Option<RawHpvm>,
    #[serde(default)]
    host: Vec<Spanned<RawHost>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    transport: Option<Spanned<String>>,
    user: Option<Spanned<String>>,
    // SSH keys (transport = "ssh"), also allowed per host.
    port: Option<Spanned<i64>>,
    identity_file: Option<Spanned<String>>,
    known_hosts: Option<Spanned<String>>,
    password: Option<Spanned<String>>,
    key_passphrase: Option<Spanned<String>>,
    #[serde(rename = "become")]
    become_: Option<Spanned<String>>,
    become_password: Option<Spanned<String>>,
    legacy_algorithms: Option<Spanned<bool>>,
    connect_timeout: Option<Spanned<i64>>,
    command_timeout: Option<Spanned<i64>>,
    handshakes_per_server: Option<Spanned<i64>>,
    proxy_jump: Option<Spanned<String>>,
    // Where the hascript lock is made, for hosts with transport = "local" only.
    lock_dir: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLdoms {
    cf_timeout: Option<Spanned<i64>>,
    xscf_user: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHpvm {
    cluster: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHost {
    name: Option<Spanned<String>>,
    role: Option<Spanned<String>>,
    address: Option<Spanned<String>>,
    hosts_name: Option<Spanned<String>>,
    #[serde(rename = "box")]
    box_name: Option<Spanned<String>>,
    ppar_id: Option<Spanned<i64>>,
    xscf: Option<Spanned<Vec<Spanned<String>>>>,
    domain: Option<Spanned<String>>,
    vm: Option<Spanned<String>>,
    transport: Option<Spanned<String>>,
    user: Option<Spanned<String>>,
    // SSH keys (transport = "ssh").
    port: Option<Spanned<i64>>,
    identity_file: Option<Spanned<String>>,
    known_hosts: Option<Spanned<String>>,
    password: Option<Spanned<String>>,
    key_passphrase: Option<Spanned<String>>,
    #[serde(rename = "become")]
    become_: Option<Spanned<String>>,
    become_password: Option<Spanned<String>>,
    legacy_algorithms: Option<Spanned<bool>>,
    connect_timeout: Option<Spanned<i64>>,
    command_timeout: Option<Spanned<i64>>,
    handshakes_per_server: Option<Spanned<i64>>,
    proxy_jump: Option<Spanned<String>>,
    lock_dir: Option<Spanned<String>>,
}

struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
}

impl Ctx<'_> {
    fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    fn err(
        &self,
        offset: Option<usize>,
        key: Option<&str>,
        message: impl Into<String>,
    ) -> InventoryError {
        InventoryError {
            file: self.file.to_string(),
            line: offset.map(|o| self.line_of(o)),
            key: key.map(str::to_string),
            message: message.into(),
        }
    }

    /// The key written on the line holding `offset` (`key = value` or a `[table]` header).
    fn key_at(&self, offset: usize) -> Option<String> {
        let start = self.text[..offset.min(self.text.len())]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let line = self.text[start..].lines().next().unwrap_or("").trim();
        let clip = |k: &str| match k.char_indices().nth(ECHO_LIMIT) {
            Some((cut, _)) => format!("{}…", &k[..cut]),
            None => k.to_string(),
        };
        if let Some((k, _)) = line.split_once('=') {
            let k = k.trim().trim_matches('"');
            if !k.is_empty() {
                return Some(clip(k));
            }
        }
        let h = line.trim_start_matches('[').trim_end_matches(']').trim();
        (!h.is_empty() && line.starts_with('[')).then(|| clip(h))
    }

    /// Refuse `value` (at `v`'s line, under `key`) unless `ok`: the message names the value
    /// (cut to [`ECHO_LIMIT`] characters) and the rule.
    fn check(
        &self,
        v: &Spanned<String>,
        key: &str,
        what: &str,
        ok: bool,
        rule: &str,
    ) -> Result<(), InventoryError> {
        if ok {
            return Ok(());
        }
        Err(self.err(
            Some(v.span().start),
            Some(key),
            format!(
                "invalid {what} {}: {what} must be {rule}",
                quoted(v.get_ref())
            ),
        ))
    }

    /// Refuse a name outside [`NAME_RULE`] (`hascript_api::validate_name`).
    fn check_name(&self, v: &Spanned<String>, key: &str, what: &str) -> Result<(), InventoryError> {
        let ok = validate_name(what, v.get_ref()).is_ok();
        self.check(v, key, &format!("{what} name"), ok, NAME_RULE)
    }
}

/// Read and validate the inventory at `path`.
pub fn load(path: &Path) -> Result<Inventory, InventoryError> {
    let file = path.display().to_string();
    let text = crate::files::read_regular_text(path, crate::files::MAX_TEXT_FILE).map_err(|e| {
        InventoryError {
            file: file.clone(),
            line: None,
            key: None,
            message: format!("cannot read the inventory: {e}; check the path given to -i"),
        }
    })?;
    parse_real(&file, &text)
}

/// The most errors [`check_all`] reports (each found by parsing again).
const MAX_REPORTED: usize = 100;

/// Every error of inventory `text` (read as `-i` reads it), not only the first: for
/// `hascript inventory check`. Each error found is taken out of a working copy of the text
/// and the copy parsed again, with every line kept in place so that the lines named stay
/// those of the file: an unknown or invalid key's line is blanked; a host whose error is
/// not on a line of its own (a missing `name`, `role`, `box`…) loses its whole `[[host]]`
/// table. The search stops at an error that blanking cannot isolate (TOML syntax, the
/// driver, a table header, what the whole file lacks), so no error reported is an artifact
/// of an earlier one. Returns the inventory when there is no error.
pub fn check_all(file: &str, text: &str) -> Result<Inventory, Vec<InventoryError>> {
    let mut work = text.to_string();
    let mut errors: Vec<InventoryError> = Vec::new();
    let lines: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    // Byte range of 1-based line `l` (without its newline).
    let range = |l: usize| -> Option<(usize, usize)> {
        let start = *lines.get(l.checked_sub(1)?)?;
        let end = lines.get(l).map_or(text.len(), |n| n - 1);
        Some((start, end))
    };
    let blank = |work: &mut String, from: usize, to: usize| {
        // Same length, ASCII spaces but the newlines: every offset and every line stays.
        let spaces: String = work[from..to]
            .bytes()
            .map(|b| if b == b'\n' { '\n' } else { ' ' })
            .collect();
        work.replace_range(from..to, &spaces);
    };
    let last_line = text.trim_end().matches('\n').count() + 1;
    let header = |l: usize| range(l).is_some_and(|(a, b)| text[a..b].trim_start().starts_with('['));
    while errors.len() < MAX_REPORTED {
        let e = match parse_real(file, &work) {
            Ok(inv) if errors.is_empty() => return Ok(inv),
            Ok(_) => break,
            Err(e) => e,
        };
        let key = e.key.clone().unwrap_or_default();
        // What the whole file lacks is reported at its last line.
        let whole_file = key == "driver" || (key == "host" && e.line == Some(last_line));
        let syntax = e.message.ends_with("fix the TOML at this line");
        let seen = errors
            .iter()
            .any(|x| x.line == e.line && x.message == e.message);
        if seen || (!errors.is_empty() && (whole_file || syntax)) {
            // Possibly caused by what was taken out: not reported.
            break;
        }
        let line = e.line;
        errors.push(e);
        let Some(line) = line.filter(|_| !whole_file && !syntax) else {
            break;
        };
        // The [[host]] table holding the line, when it is in one.
        let host_start = (1..=line)
            .rev()
            .find(|l| header(*l))
            .filter(|l| range(*l).is_some_and(|(a, b)| text[a..b].trim() == "[[host]]"));
        let own_line = !header(line)
            && !matches!(key.as_str(), "name" | "role")
            && range(line).is_some_and(|(a, b)| {
                text[a..b]
                    .split_once('=')
                    .is_some_and(|(k, _)| k.trim().trim_matches('"') == key)
            });
        if own_line {
            if let Some((a, b)) = range(line) {
                blank(&mut work, a, b);
            }
        } else if let Some(h) = host_start {
            let end = (h + 1..lines.len() + 1)
                .find(|l| header(*l))
                .unwrap_or(lines.len() + 1);
            let from = range(h).map_or(0, |(a, _)| a);
            let to = range(end - 1).map_or(text.len(), |(_, b)| b);
            blank(&mut work, from, to);
        } else {
            break;
        }
    }
    errors.sort_by_key(|e| e.line);
    Err(errors)
}

fn transport_of(
    ctx: &Ctx,
    v: &Spanned<String>,
    allow_sim: bool,
) -> Result<TransportKind, InventoryError> {
    match v.get_ref().as_str() {
        "local" => Ok(TransportKind::Local),
        "sim" if allow_sim => Ok(TransportKind::Sim),
        "sim" => Err(ctx.err(
            Some(v.span().start),
            Some("transport"),
            "transport = \"sim\" is served only by a simulated site (--sim), not in an \
             inventory given with -i; use transport = \"local\", or run on the simulator with --sim",
        )),
        "ssh" => Ok(TransportKind::Ssh),
        other => Err(ctx.err(
            Some(v.span().start),
            Some("transport"),
            format!(
                "unknown transport {}; use \"ssh\", \"local\"{}",
                quoted(other),
                if allow_sim { " or \"sim\"" } else { "" }
            ),
        )),
    }
}

/// The SSH keys of host `h` (each from its table, else `[defaults]`), validated; on a host
/// not reached over SSH, keys of its own table are refused.
fn ssh_options(
    ctx: &Ctx,
    h: &RawHost,
    d: &RawDefaults,
    name: &str,
    transport: TransportKind,
) -> Result<crate::transport::ssh::SshOptions, InventoryError> {
    use crate::transport::ssh::options::RawKeys;
    let own = RawKeys {
        port: h.port.as_ref(),
        identity_file: h.identity_file.as_ref(),
        known_hosts: h.known_hosts.as_ref(),
        password: h.password.as_ref(),
        key_passphrase: h.key_passphrase.as_ref(),
        become_: h.become_.as_ref(),
        become_password: h.become_password.as_ref(),
        legacy_algorithms: h.legacy_algorithms.as_ref(),
        connect_timeout: h.connect_timeout.as_ref(),
        command_timeout: h.command_timeout.as_ref(),
        handshakes_per_server: h.handshakes_per_server.as_ref(),
        proxy_jump: h.proxy_jump.as_ref(),
    };
    if transport != TransportKind::Ssh {
        if let Some((at, key)) = own.first_set() {
            return Err(ctx.err(
                Some(at),
                Some(key),
                format!("host {name:?}: `{key}` only applies to transport = \"ssh\"; remove it or set transport = \"ssh\""),
            ));
        }
        return Ok(Default::default());
    }
    let keys = RawKeys {
        port: own.port.or(d.port.as_ref()),
        identity_file: own.identity_file.or(d.identity_file.as_ref()),
        known_hosts: own.known_hosts.or(d.known_hosts.as_ref()),
        password: own.password.or(d.password.as_ref()),
        key_passphrase: own.key_passphrase.or(d.key_passphrase.as_ref()),
        become_: own.become_.or(d.become_.as_ref()),
        // A sudo password of [defaults] is not inherited by a host that does not use sudo.
        become_password: own
            .become_password
            .or(d.become_password.as_ref().filter(|_| {
                own.become_
                    .or(d.become_.as_ref())
                    .map(|b| b.get_ref().as_str())
                    == Some("sudo")
            })),
        legacy_algorithms: own.legacy_algorithms.or(d.legacy_algorithms.as_ref()),
        connect_timeout: own.connect_timeout.or(d.connect_timeout.as_ref()),
        command_timeout: own.command_timeout.or(d.command_timeout.as_ref()),
        handshakes_per_server: own
            .handshakes_per_server
            .or(d.handshakes_per_server.as_ref()),
        proxy_jump: own.proxy_jump.or(d.proxy_jump.as_ref()),
    };
    keys.validate().map_err(|e| {
        ctx.err(
            Some(e.offset),
            Some(e.key),
            format!("host {name:?}: {}", e.message),
        )
    })
}

/// The `lock_dir` of host `h`: its own or `[defaults]`'s, only for `transport = "local"`
/// (over SSH the lock stays in /var/tmp so that operators on other machines see it; a
/// `lock_dir` in a non-local host's own table is refused, one in `[defaults]` does not apply
/// to it). An absolute folder.
fn lock_dir(
    ctx: &Ctx,
    h: &RawHost,
    d: &RawDefaults,
    name: &str,
    transport: TransportKind,
) -> Result<Option<PathBuf>, InventoryError> {
    if transport != TransportKind::Local {
        return match &h.lock_dir {
            Some(v) => Err(ctx.err(
                Some(v.span().start),
                Some("lock_dir"),
                format!("host {name:?}: `lock_dir` only applies to transport = \"local\": over SSH the lock is always /var/tmp/hascript.lock, where operators on other machines see it; remove it"),
            )),
            None => Ok(None),
        };
    }
    let Some(v) = h.lock_dir.as_ref().or(d.lock_dir.as_ref()) else {
        return Ok(None);
    };
    let p = PathBuf::from(v.get_ref());
    if !p.is_absolute() || v.get_ref().chars().any(char::is_control) {
        return Err(ctx.err(
            Some(v.span().start),
            Some("lock_dir"),
            format!(
                "host {name:?}: lock_dir must be an absolute folder (the lock is made in it as hascript.lock), not {}",
                quoted(v.get_ref())
            ),
        ));
    }
    Ok(Some(p))
}

/// Parse and validate the inventory `text` of a real site (what `-i` reads): like
/// [`parse`], but `transport = "sim"` is refused at its line. `file` names it in errors.
pub fn parse_real(file: &str, text: &str) -> Result<Inventory, InventoryError> {
    parse_with(file, text, false)
}

/// Parse and validate inventory `text`, any transport allowed (the simulator's own
/// inventory uses `transport = "sim"`); `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Inventory, InventoryError> {
    parse_with(file, text, true)
}

fn parse_with(file: &str, text: &str, allow_sim: bool) -> Result<Inventory, InventoryError> {
    let ctx = Ctx { file, text };
    let raw: RawInventory = toml::from_str(text).map_err(|e| {
        let offset = e.span().map(|s| s.start);
        let msg = clip_quoted(e.message().trim());
        let key = offset
            .and_then(|o| ctx.key_at(o))
            .or_else(|| msg.split('`').nth(1).map(str::to_string));
        let hint = if msg.starts_with("unknown field") {
            // serde names the field, then the expected ones: `x`, expected one of `a`, `b`.
            let words: Vec<String> = msg
                .split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_string)
                .collect();
            match words.split_first() {
                Some((field, expected)) => {
                    let close = crate::scripts::did_you_mean(field, expected);
                    if close.is_empty() {
                        "; remove it or correct its spelling".to_string()
                    } else {
                        format!("{close} Correct its spelling, or remove it")
                    }
                }
                None => "; remove it or correct its spelling".to_string(),
            }
        } else if msg.starts_with("missing field") {
            "; add it".to_string()
        } else {
            "; fix the TOML at this line".to_string()
        };
        ctx.err(offset, key.as_deref(), format!("{msg}{hint}"))
    })?;

    let driver = raw.driver.as_ref().ok_or_else(|| {
        ctx.err(
            Some(0),
            Some("driver"),
            "the inventory must name its driver: add driver = \"ldoms\" or driver = \"hpvm\" at the top",
        )
    })?;
    let is_hpvm = match driver.get_ref().as_str() {
        "ldoms" => false,
        "hpvm" => true,
        other => {
            return Err(ctx.err(
                Some(driver.span().start),
                Some("driver"),
                format!(
                    "unknown driver {}; use driver = \"ldoms\" (PRIMECLUSTER on LDoms) or driver = \"hpvm\" (Serviceguard on Integrity VM)",
                    quoted(other)
                ),
            ))
        }
    };
    if is_hpvm {
        if raw.ldoms.is_some() {
            return Err(ctx.err(
                text.find("[ldoms]"),
                Some("ldoms"),
                "an [ldoms] table belongs to driver = \"ldoms\"; remove it",
            ));
        }
    } else if raw.hpvm.is_some() {
        return Err(ctx.err(
            text.find("[hpvm]"),
            Some("hpvm"),
            "an [hpvm] table belongs to driver = \"hpvm\"; remove it",
        ));
    }
    let hpvm_cluster = match raw.hpvm.as_ref().and_then(|h| h.cluster.as_ref()) {
        Some(c) => {
            ctx.check_name(c, "cluster", "cluster")?;
            Some(c.get_ref().clone())
        }
        None => None,
    };
    let mut vm_hosts: Vec<String> = Vec::new();
    let mut vm_guests: Vec<(String, String)> = Vec::new();

    let defaults = raw.defaults.unwrap_or_default();
    let default_transport = match &defaults.transport {
        Some(t) => transport_of(&ctx, t, allow_sim)?,
        None => TransportKind::Local,
    };
    if let Some(u) = &defaults.user {
        ctx.check(u, "user", "user", valid_user(u.get_ref()), USER_RULE)?;
    }
    let (cf_timeout, xscf_user) = match raw.ldoms {
        Some(l) => {
            let t =
                match l.cf_timeout {
                    Some(t) if *t.get_ref() <= 0 => return Err(ctx.err(
                        Some(t.span().start),
                        Some("cf_timeout"),
                        "the CF timeout must be a positive number of seconds (the manual's default is 10)",
                    )),
                    Some(t) => *t.get_ref(),
                    None => 10,
                };
            (t, l.xscf_user)
        }
        None => (10, None),
    };

    let mut seen: HashSet<String> = HashSet::new();
    let mut seen_domains: HashSet<String> = HashSet::new();
    let mut control_domains = Vec::new();
    let mut guests = Vec::new();
    let mut hosts = Vec::new();
    let mut lock_dirs = BTreeMap::new();
    for h in &raw.host {
        let at = h.span().start;
        let h = h.get_ref();
        let name = h.name.as_ref().ok_or_else(|| {
            ctx.err(
                Some(at),
                Some("name"),
                "every [[host]] needs a name: add name = \"...\"",
            )
        })?;
        let name_at = name.span().start;
        ctx.check_name(name, "name", "host")?;
        let name = name.get_ref().clone();
        if !seen.insert(name.clone()) {
            return Err(ctx.err(
                Some(name_at),
                Some("name"),
                format!("host {name:?} is listed twice; give every [[host]] its own name"),
            ));
        }
        let role = h.role.as_ref().ok_or_else(|| {
            ctx.err(
                Some(at),
                Some("role"),
                if is_hpvm {
                    format!(
                        "host {name:?} has no role: add role = \"vm-host\" or role = \"vm-guest\""
                    )
                } else {
                    format!(
                        "host {name:?} has no role: add role = \"control-domain\" or role = \"guest-domain\""
                    )
                },
            )
        })?;
        let transport = match &h.transport {
            Some(t) => transport_of(&ctx, t, allow_sim)?,
            None => default_transport,
        };
        if let Some(a) = &h.address {
            ctx.check(
                a,
                "address",
                "address",
                valid_address(a.get_ref()),
                ADDRESS_RULE,
            )?;
        }
        if let Some(u) = &h.user {
            ctx.check(u, "user", "user", valid_user(u.get_ref()), USER_RULE)?;
        }
        let forbid = |key: &str, present: Option<usize>, why: &str| match present {
            Some(o) => Err(ctx.err(
                Some(o),
                Some(key),
                format!("host {name:?}: {why}; remove it"),
            )),
            None => Ok(()),
        };
        let wrong_driver = |r: &str| {
            let (this, other) = if is_hpvm {
                ("hpvm", "\"vm-host\" or \"vm-guest\"")
            } else {
                ("ldoms", "\"control-domain\" or \"guest-domain\"")
            };
            Err(ctx.err(
                Some(role.span().start),
                Some("role"),
                format!(
                    "role {} does not exist for driver = \"{this}\"; use {other}",
                    quoted(r)
                ),
            ))
        };
        match role.get_ref().as_str() {
            r @ ("control-domain" | "guest-domain") if is_hpvm => return wrong_driver(r),
            r @ ("vm-host" | "vm-guest") if !is_hpvm => return wrong_driver(r),
            "vm-host" | "vm-guest" => {
                let ldoms_only = "it belongs to LDoms sites (driver = \"ldoms\")";
                forbid(
                    "box",
                    h.box_name.as_ref().map(|v| v.span().start),
                    ldoms_only,
                )?;
                forbid(
                    "ppar_id",
                    h.ppar_id.as_ref().map(|v| v.span().start),
                    ldoms_only,
                )?;
                forbid("xscf", h.xscf.as_ref().map(|v| v.span().start), ldoms_only)?;
                forbid(
                    "hosts_name",
                    h.hosts_name.as_ref().map(|v| v.span().start),
                    ldoms_only,
                )?;
                forbid(
                    "domain",
                    h.domain.as_ref().map(|v| v.span().start),
                    ldoms_only,
                )?;
                if role.get_ref() == "vm-host" {
                    forbid(
                        "vm",
                        h.vm.as_ref().map(|v| v.span().start),
                        "`vm` is only for guests (role = \"vm-guest\")",
                    )?;
                    vm_hosts.push(name.clone());
                } else {
                    let vm = match &h.vm {
                        Some(v) => {
                            ctx.check_name(v, "vm", "VM")?;
                            v.get_ref().clone()
                        }
                        None => name.clone(),
                    };
                    if vm_guests.iter().any(|(_, g)| *g == vm) {
                        return Err(ctx.err(
                            Some(at),
                            Some("vm"),
                            format!("VM {vm:?} is given to two guests; each guest is its own VM"),
                        ));
                    }
                    vm_guests.push((name.clone(), vm));
                }
            }
            "control-domain" => {
                forbid(
                    "domain",
                    h.domain.as_ref().map(|d| d.span().start),
                    "`domain` is only for guest domains",
                )?;
                let need = |key: &str| {
                    ctx.err(
                        Some(at),
                        Some(key),
                        format!(
                            "control domain {name:?} needs `{key}`: add it to its [[host]] table"
                        ),
                    )
                };
                let box_name = h.box_name.as_ref().ok_or_else(|| need("box"))?;
                ctx.check_name(box_name, "box", "box")?;
                let ppar = h.ppar_id.as_ref().ok_or_else(|| need("ppar_id"))?;
                let ppar_id = u32::try_from(*ppar.get_ref()).map_err(|_| {
                    ctx.err(
                        Some(ppar.span().start),
                        Some("ppar_id"),
                        "the PPAR-ID must be a number from 0 up",
                    )
                })?;
                let xscf = h.xscf.as_ref().ok_or_else(|| need("xscf"))?;
                let (lan0, lan1) = match xscf.get_ref().as_slice() {
                    [a, b] if !a.get_ref().trim().is_empty() && !b.get_ref().trim().is_empty() => {
                        for x in [a, b] {
                            ctx.check(
                                x,
                                "xscf",
                                "XSCF address",
                                valid_address(x.get_ref()),
                                ADDRESS_RULE,
                            )?;
                        }
                        (a.get_ref().clone(), b.get_ref().clone())
                    }
                    _ => return Err(ctx.err(
                        Some(xscf.span().start),
                        Some("xscf"),
                        "give the two XSCF addresses of the box: xscf = [\"<LAN#0>\", \"<LAN#1>\"]",
                    )),
                };
                let hosts_name = match &h.hosts_name {
                    Some(n) => {
                        ctx.check(
                            n,
                            "hosts_name",
                            "hosts_name",
                            valid_hostname(n.get_ref()),
                            HOSTNAME_RULE,
                        )?;
                        n.get_ref().clone()
                    }
                    None => name.clone(),
                };
                control_domains.push(ControlDomain {
                    name: name.clone(),
                    address: h.address.as_ref().map(|a| a.get_ref().clone()),
                    hosts_name,
                    box_name: box_name.get_ref().clone(),
                    ppar_id,
                    xscf_lan0: lan0,
                    xscf_lan1: lan1,
                });
            }
            "guest-domain" => {
                let only_cd = "only control domains have it";
                forbid("box", h.box_name.as_ref().map(|v| v.span().start), only_cd)?;
                forbid(
                    "ppar_id",
                    h.ppar_id.as_ref().map(|v| v.span().start),
                    only_cd,
                )?;
                forbid("xscf", h.xscf.as_ref().map(|v| v.span().start), only_cd)?;
                forbid(
                    "hosts_name",
                    h.hosts_name.as_ref().map(|v| v.span().start),
                    only_cd,
                )?;
                let domain = match &h.domain {
                    Some(d) => {
                        ctx.check_name(d, "domain", "domain")?;
                        d.get_ref().clone()
                    }
                    None => name.clone(),
                };
                if !seen_domains.insert(domain.clone()) {
                    return Err(ctx.err(
                        Some(at),
                        Some("domain"),
                        format!("domain {domain:?} is given to two guests; each guest is its own domain"),
                    ));
                }
                guests.push(GuestDomain {
                    name: name.clone(),
                    domain,
                });
            }
            other => {
                return Err(ctx.err(
                    Some(role.span().start),
                    Some("role"),
                    if is_hpvm {
                        format!(
                            "unknown role {}; use \"vm-host\" or \"vm-guest\"",
                            quoted(other)
                        )
                    } else {
                        format!(
                            "unknown role {}; use \"control-domain\" or \"guest-domain\"",
                            quoted(other)
                        )
                    },
                ))
            }
        }
        let ssh = ssh_options(&ctx, h, &defaults, &name, transport)?;
        if let Some(d) = lock_dir(&ctx, h, &defaults, &name, transport)? {
            lock_dirs.insert(name.clone(), d);
        }
        hosts.push(HostEntry {
            name,
            transport,
            ssh,
            user: h
                .user
                .as_ref()
                .or(defaults.user.as_ref())
                .map(|u| u.get_ref().clone()),
            address: h.address.as_ref().map(|a| a.get_ref().clone()),
        });
    }
    // What is missing from the whole file is reported at its last line, where it is added.
    let end = Some(text.trim_end().len());
    let stem = || {
        Path::new(file)
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| file.to_string())
    };
    if is_hpvm {
        if vm_hosts.is_empty() {
            return Err(ctx.err(
                end,
                Some("host"),
                "a Serviceguard site needs its VM hosts: add [[host]] tables with role = \"vm-host\"",
            ));
        }
        let description = raw
            .description
            .clone()
            .unwrap_or_else(|| format!("Serviceguard site of {}", stem()));
        return Ok(Inventory {
            driver: driver.get_ref().clone(),
            topology: SiteTopology::Hpvm(HpvmHosts {
                cluster: hpvm_cluster,
                vm_hosts,
                guests: vm_guests,
                description,
            }),
            hosts,
            lock_dirs,
        });
    }
    if control_domains.is_empty() {
        return Err(ctx.err(
            end,
            Some("host"),
            "an LDoms site needs at least one control domain: add a [[host]] with role = \"control-domain\"",
        ));
    }
    if guests.len() < 2 {
        return Err(ctx.err(
            end,
            Some("host"),
            format!(
                "a guest-domain cluster needs at least two guest domains, the inventory has {}: add [[host]] tables with role = \"guest-domain\"",
                guests.len()
            ),
        ));
    }
    let description = raw
        .description
        .clone()
        .unwrap_or_else(|| format!("LDoms site of {}", stem()));
    Ok(Inventory {
        driver: driver.get_ref().clone(),
        topology: SiteTopology::Ldoms(Topology {
            control_domains,
            guests,
            cf_timeout,
            xscf_user,
            description,
        }),
        hosts,
        lock_dirs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"driver = "ldoms"
description = "production PRIMECLUSTER site"
[defaults]
transport = "local"
user = "root"
[ldoms]
cf_timeout = 10
xscf_user = "xuser"
[[host]]
name = "cd1"
role = "control-domain"
address = "192.0.2.11"
box = "box1"
ppar_id = 0
xscf = ["10.20.30.71", "10.20.40.71"]
[[host]]
name = "cd2"
role = "control-domain"
hosts_name = "cd2-hosts"
box = "box2"
ppar_id = 1
xscf = ["10.20.30.72", "10.20.40.72"]
transport = "sim"
[[host]]
name = "guest1"
role = "guest-domain"
domain = "cfguest1"
[[host]]
name = "guest2"
role = "guest-domain"
"#;

    fn err(text: &str) -> InventoryError {
        match parse("inv.toml", text) {
            Ok(_) => panic!("expected an error for:\n{text}"),
            Err(e) => e,
        }
    }

    fn replace(from: &str, to: &str) -> String {
        assert!(GOOD.contains(from), "{from}");
        GOOD.replacen(from, to, 1)
    }

    #[test]
    fn good_inventory_gives_topology_and_transports() {
        let inv = parse("inv.toml", GOOD).map_err(|e| e.to_string());
        let inv = match inv {
            Ok(i) => i,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(inv.driver, "ldoms");
        let t = match &inv.topology {
            SiteTopology::Ldoms(t) => t,
            SiteTopology::Hpvm(h) => panic!("expected an LDoms topology, got {h:?}"),
        };
        assert_eq!(t.description, "production PRIMECLUSTER site");
        assert_eq!(t.cf_timeout, 10);
        assert_eq!(t.xscf_user.as_deref(), Some("xuser"));
        assert_eq!(t.control_domains.len(), 2);
        assert_eq!(t.control_domains[0].hosts_name, "cd1");
        assert_eq!(t.control_domains[1].hosts_name, "cd2-hosts");
        assert_eq!(t.control_domains[1].ppar_id, 1);
        assert_eq!(t.control_domains[0].xscf_lan1, "10.20.40.71");
        assert_eq!(t.guests[0].domain, "cfguest1");
        assert_eq!(t.guests[1].domain, "guest2");
        let tr = inv.transports();
        assert_eq!(tr["cd1"], TransportKind::Local);
        assert_eq!(tr["cd2"], TransportKind::Sim);
        assert_eq!(inv.hosts[2].user.as_deref(), Some("root"));
        assert_eq!(inv.host_names(), ["cd1", "cd2", "guest1", "guest2"]);
    }

    #[test]
    fn unknown_key_names_line_and_key() {
        let e = err(&replace("ppar_id = 1", "ppar_id = 1\nbogus = 3"));
        assert_eq!(e.line, Some(22));
        assert_eq!(e.key.as_deref(), Some("bogus"));
        assert!(e.to_string().starts_with("inv.toml:22: key `bogus`"), "{e}");
        assert!(e.message.contains("remove it"), "{e}");
    }

    #[test]
    fn syntax_error_names_line() {
        let e = err(&replace("cf_timeout = 10", "cf_timeout = = 10"));
        assert_eq!(e.line, Some(7), "{e}");
    }

    #[test]
    fn wrong_type_names_key() {
        let e = err(&replace("ppar_id = 0", "ppar_id = \"zero\""));
        assert_eq!(e.line, Some(14), "{e}");
        assert_eq!(e.key.as_deref(), Some("ppar_id"));
    }

    #[test]
    fn missing_driver() {
        let e = err(&replace("driver = \"ldoms\"\n", ""));
        assert_eq!(e.key.as_deref(), Some("driver"));
        assert_eq!(e.line, Some(1));
        assert!(e.message.contains("driver = \"ldoms\""), "{e}");
    }

    #[test]
    fn unknown_and_unavailable_drivers() {
        let e = err(&replace("driver = \"ldoms\"", "driver = \"xen\""));
        assert!(e.message.contains("unknown driver"), "{e}");
        assert_eq!(e.line, Some(1));
        // An LDoms inventory read as a Serviceguard one: its roles are refused.
        let e = err(&replace("driver = \"ldoms\"", "driver = \"hpvm\""));
        assert!(e.message.contains("[ldoms] table belongs"), "{e}");
    }

    #[test]
    fn ssh_transport_and_its_keys() {
        use crate::transport::ssh::secret::SecretRef;
        use crate::transport::ssh::Become;
        use std::time::Duration;
        let text = replace(
            "transport = \"local\"\nuser = \"root\"",
            "transport = \"ssh\"\nuser = \"root\"\nconnect_timeout = 5\nbecome = \"sudo\"\nbecome_password = \"env:SUDO_PW\"",
        )
        .replace(
            "transport = \"sim\"",
            "port = 2222\nlegacy_algorithms = true\nknown_hosts = \"~/.ssh/site_hosts\"\nbecome = \"pfexec\"\nbecome_password = \"env:X\"",
        );
        // become_password goes with sudo only: cd2 says pfexec (the one of [defaults] is
        // not inherited, its own is refused).
        let e = err(&text);
        assert_eq!(
            (e.key.as_deref(), e.line),
            (Some("become_password"), Some(30)),
            "{e}"
        );
        assert!(
            e.message.contains("only goes with become = \"sudo\""),
            "{e}"
        );
        let inv = match parse(
            "inv.toml",
            &text.replace("\nbecome_password = \"env:X\"", ""),
        ) {
            Ok(i) => i,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(inv.transports()["cd1"], TransportKind::Ssh);
        let cd1 = &inv.hosts[0].ssh;
        assert_eq!(cd1.connect_timeout, Some(Duration::from_secs(5)));
        assert_eq!(cd1.become_, Some(Become::Sudo));
        assert_eq!(cd1.become_password, Some(SecretRef::Env("SUDO_PW".into())));
        assert_eq!(cd1.port, None);
        let cd2 = &inv.hosts[1].ssh;
        assert_eq!(cd2.port, Some(2222));
        assert!(cd2.legacy_algorithms && !cd1.legacy_algorithms);
        assert_eq!(cd2.become_, Some(Become::Pfexec));
        assert_eq!(
            cd2.known_hosts.as_deref(),
            Some(Path::new("~/.ssh/site_hosts"))
        );
        // A secret written in clear is refused, and not echoed.
        let e = err(&text.replace("env:SUDO_PW", "hunter2"));
        assert_eq!(
            (e.key.as_deref(), e.line),
            (Some("become_password"), Some(8))
        );
        assert!(
            !e.to_string().contains("hunter2") && e.message.contains("env:"),
            "{e}"
        );
        for (from, to, key) in [
            ("port = 2222", "port = 70000", "port"),
            ("become = \"sudo\"", "become = \"su\"", "become"),
            (
                "connect_timeout = 5",
                "connect_timeout = 0",
                "connect_timeout",
            ),
        ] {
            let e = err(&text.replace(from, to));
            assert_eq!(e.key.as_deref(), Some(key), "{e}");
        }
        // SSH keys on a host that is not reached over SSH.
        let e = err(&replace("transport = \"sim\"", "port = 22"));
        assert_eq!((e.key.as_deref(), e.line), (Some("port"), Some(23)), "{e}");
        assert!(
            e.message.contains("only applies to transport = \"ssh\""),
            "{e}"
        );
        let e = err(&replace("transport = \"sim\"", "transport = \"telnet\""));
        assert!(e.message.contains("unknown transport"), "{e}");
        assert_eq!(e.line, Some(23));
    }

    #[test]
    fn handshakes_per_server_from_defaults_and_its_range() {
        let text = replace(
            "transport = \"local\"\nuser = \"root\"",
            "transport = \"ssh\"\nuser = \"root\"\nhandshakes_per_server = 4",
        );
        let inv = match parse("inv.toml", &text) {
            Ok(i) => i,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(inv.hosts[0].ssh.handshakes_per_server, Some(4));
        for bad in ["0", "101", "-1"] {
            let e = err(&text.replace(
                "handshakes_per_server = 4",
                &format!("handshakes_per_server = {bad}"),
            ));
            assert_eq!(
                (e.key.as_deref(), e.line),
                (Some("handshakes_per_server"), Some(6)),
                "{e}"
            );
            assert!(e.message.contains("MaxStartups"), "{e}");
        }
    }

    #[test]
    fn proxy_jump_from_defaults_per_host_none_and_bad_values() {
        let text = replace(
            "transport = \"local\"\nuser = \"root\"",
            "transport = \"ssh\"\nuser = \"root\"\nproxy_jump = \"ops@bastion.example.com:2222\"",
        )
        .replace("transport = \"sim\"", "proxy_jump = \"none\"")
        .replace(
            "domain = \"cfguest1\"",
            "domain = \"cfguest1\"\nproxy_jump = \"outer, inner\"",
        );
        let inv = match parse("inv.toml", &text) {
            Ok(i) => i,
            Err(e) => panic!("{e}"),
        };
        let hops = |i: usize| inv.hosts[i].ssh.proxy_jump.clone().unwrap_or_default();
        assert_eq!(hops(0).len(), 1);
        assert_eq!(hops(0)[0].user.as_deref(), Some("ops"));
        assert_eq!(hops(0)[0].host, "bastion.example.com");
        assert_eq!(hops(0)[0].port, Some(2222));
        assert_eq!(inv.hosts[1].ssh.proxy_jump, Some(Vec::new()), "none");
        let names: Vec<String> = hops(2).iter().map(|h| h.host.clone()).collect();
        assert_eq!(names, ["outer", "inner"]);
        for bad in ["bastion:0", "bad host", "a,,b", ""] {
            let e = err(&text.replace("outer, inner", bad));
            assert_eq!(
                (e.key.as_deref(), e.line),
                (Some("proxy_jump"), Some(29)),
                "{bad}: {e}"
            );
            assert!(e.message.contains("[user@]host[:port]"), "{e}");
        }
        // Only over SSH.
        let e = err(&replace(
            "transport = \"sim\"",
            "transport = \"sim\"\nproxy_jump = \"b\"",
        ));
        assert_eq!(e.key.as_deref(), Some("proxy_jump"), "{e}");
    }

    #[test]
    fn bad_host_name() {
        let e = err(&replace("name = \"guest2\"", "name = \"guest;2\""));
        assert_eq!(e.key.as_deref(), Some("name"));
        assert_eq!(e.line, Some(29));
        assert!(e.message.contains("invalid host name"), "{e}");
    }

    #[test]
    fn duplicate_host() {
        let e = err(&replace("name = \"guest2\"", "name = \"guest1\""));
        assert!(e.message.contains("listed twice"), "{e}");
        assert_eq!(e.line, Some(29));
    }

    #[test]
    fn duplicate_domain() {
        let e = err(&replace(
            "name = \"guest2\"\nrole = \"guest-domain\"",
            "name = \"guest2\"\nrole = \"guest-domain\"\ndomain = \"cfguest1\"",
        ));
        assert!(e.message.contains("given to two guests"), "{e}");
    }

    #[test]
    fn missing_name_and_role() {
        let e = err(&replace("name = \"guest2\"\n", ""));
        assert_eq!(e.key.as_deref(), Some("name"));
        assert_eq!(e.line, Some(28), "{e}");
        let e = err(&replace(
            "name = \"guest2\"\nrole = \"guest-domain\"\n",
            "name = \"guest2\"\n",
        ));
        assert_eq!(e.key.as_deref(), Some("role"));
        assert!(e.message.contains("has no role"), "{e}");
    }

    #[test]
    fn unknown_role() {
        let e = err(&replace(
            "role = \"guest-domain\"\ndomain",
            "role = \"storage\"\ndomain",
        ));
        assert!(e.message.contains("unknown role"), "{e}");
        assert_eq!(e.line, Some(26));
    }

    #[test]
    fn control_domain_required_keys() {
        for key in [
            "box = \"box1\"\n",
            "ppar_id = 0\n",
            "xscf = [\"10.20.30.71\", \"10.20.40.71\"]\n",
        ] {
            let e = err(&replace(key, ""));
            let k = key.split(' ').next().unwrap_or_default();
            assert_eq!(e.key.as_deref(), Some(k), "{e}");
            assert!(e.message.contains("needs"), "{e}");
        }
    }

    #[test]
    fn xscf_needs_two_addresses() {
        let e = err(&replace(
            "[\"10.20.30.71\", \"10.20.40.71\"]",
            "[\"10.20.30.71\"]",
        ));
        assert_eq!(e.key.as_deref(), Some("xscf"));
        assert_eq!(e.line, Some(15));
    }

    #[test]
    fn negative_ppar_and_bad_cf_timeout() {
        let e = err(&replace("ppar_id = 0", "ppar_id = -1"));
        assert_eq!(e.key.as_deref(), Some("ppar_id"));
        let e = err(&replace("cf_timeout = 10", "cf_timeout = 0"));
        assert_eq!(e.key.as_deref(), Some("cf_timeout"));
    }

    #[test]
    fn guest_keys_only_on_their_role() {
        let e = err(&replace("domain = \"cfguest1\"", "box = \"b\""));
        assert_eq!(e.key.as_deref(), Some("box"));
        assert!(e.message.contains("only control domains"), "{e}");
        let e = err(&replace("box = \"box1\"", "box = \"box1\"\ndomain = \"x\""));
        assert_eq!(e.key.as_deref(), Some("domain"));
    }

    #[test]
    fn needs_control_domain_and_two_guests() {
        let no_guest2 = GOOD
            .split("[[host]]\nname = \"guest2\"")
            .next()
            .unwrap_or_default();
        let e = err(no_guest2);
        assert!(e.message.contains("at least two guest domains"), "{e}");
        assert_eq!(e.line, Some(27), "{e}");
        let only_guests = r#"driver = "ldoms"
[[host]]
name = "g1"
role = "guest-domain"
[[host]]
name = "g2"
role = "guest-domain"
"#;
        let e = err(only_guests);
        assert!(e.message.contains("at least one control domain"), "{e}");
        assert_eq!(e.line, Some(7), "{e}");
        assert_eq!(e.key.as_deref(), Some("host"));
    }

    #[test]
    fn sim_transport_is_refused_in_a_real_inventory_at_its_line() {
        assert!(parse("inv.toml", GOOD).is_ok());
        let e = match parse_real("inv.toml", GOOD) {
            Ok(_) => panic!("transport = \"sim\" accepted in a real inventory"),
            Err(e) => e,
        };
        assert_eq!(e.line, Some(23), "{e}");
        assert_eq!(e.key.as_deref(), Some("transport"));
        assert!(e.message.contains("--sim"), "{e}");
        assert!(
            e.to_string().starts_with("inv.toml:23: key `transport`"),
            "{e}"
        );
        let e = match parse_real(
            "inv.toml",
            &replace("transport = \"local\"", "transport = \"sim\""),
        ) {
            Ok(_) => panic!("[defaults] transport = \"sim\" accepted"),
            Err(e) => e,
        };
        assert_eq!(e.line, Some(4), "{e}");
        let local = replace("transport = \"sim\"", "transport = \"local\"");
        assert!(parse_real("inv.toml", &local).is_ok());
    }

    /// The error for `from` → `to` in GOOD: at `line`, under `key`, naming the value and
    /// the rule (`rule_word`).
    fn refused(from: &str, to: &str, line: usize, key: &str, value: &str, rule_word: &str) {
        let e = err(&replace(from, to));
        assert_eq!(e.line, Some(line), "{to}: {e}");
        assert_eq!(e.key.as_deref(), Some(key), "{to}: {e}");
        let shown = e.to_string();
        assert!(
            shown.starts_with(&format!("inv.toml:{line}: key `{key}`")),
            "{shown}"
        );
        assert!(shown.contains(&format!("{value:?}")), "{to}: {shown}");
        assert!(shown.contains(rule_word), "{to}: {shown}");
    }

    #[test]
    fn addresses_are_ip_addresses_or_host_names() {
        for good in [
            "10.0.0.1",
            "fe80::1",
            "2001:db8::11",
            "cd1.example.com",
            "a",
            "a-b",
        ] {
            assert!(valid_address(good), "{good}");
            let inv = replace("address = \"192.0.2.11\"", &format!("address = \"{good}\""));
            assert!(parse("inv.toml", &inv).is_ok(), "{good}");
        }
        for bad in [
            "-cd1",
            "cd1-",
            "cd1;id",
            "a b",
            "",
            "cd_1",
            "$(id)",
            "x.",
            "fe80::1%net0",
        ] {
            assert!(!valid_address(bad), "{bad}");
        }
        assert!(valid_address(&"a".repeat(253)));
        assert!(!valid_address(&"a".repeat(254)));
        refused(
            "address = \"192.0.2.11\"",
            "address = \"cd1;reboot\"",
            12,
            "address",
            "cd1;reboot",
            "IPv4 or IPv6 address, or a host name",
        );
    }

    #[test]
    fn each_xscf_entry_is_an_address() {
        refused(
            "xscf = [\"10.20.30.71\", \"10.20.40.71\"]",
            "xscf = [\"10.20.30.71\",\n  \"10.20.40.71 `id`\"]",
            16,
            "xscf",
            "10.20.40.71 `id`",
            "IPv4 or IPv6 address",
        );
        refused(
            "xscf = [\"10.20.30.71\", \"10.20.40.71\"]",
            "xscf = [\"-x\", \"10.20.40.71\"]",
            15,
            "xscf",
            "-x",
            "IPv4 or IPv6 address",
        );
    }

    #[test]
    fn hosts_name_is_a_host_name() {
        refused(
            "hosts_name = \"cd2-hosts\"",
            "hosts_name = \"cd2_hosts\"",
            19,
            "hosts_name",
            "cd2_hosts",
            "host name of at most 253 characters",
        );
        let long = "h".repeat(100);
        let inv = replace(
            "hosts_name = \"cd2-hosts\"",
            &format!("hosts_name = \"{long}\""),
        );
        assert!(parse("inv.toml", &inv).is_ok());
    }

    #[test]
    fn users_follow_the_login_name_rule() {
        for good in ["root", "_svc", "ops.admin-1", &"u".repeat(32)] {
            assert!(valid_user(good), "{good}");
        }
        for bad in ["Root", "1ops", "", "a b", "x;id", &"u".repeat(33)] {
            assert!(!valid_user(bad), "{bad}");
        }
        refused(
            "user = \"root\"",
            "user = \"Root\"",
            5,
            "user",
            "Root",
            "[a-z_][a-z0-9_.-]{0,31}",
        );
        refused(
            "transport = \"sim\"",
            "transport = \"sim\"\nuser = \"ops;id\"",
            24,
            "user",
            "ops;id",
            "[a-z_][a-z0-9_.-]{0,31}",
        );
    }

    #[test]
    fn domain_follows_the_naming_rule() {
        refused(
            "domain = \"cfguest1\"",
            "domain = \"cf guest1\"",
            27,
            "domain",
            "cf guest1",
            "1 to 64 characters",
        );
    }

    #[test]
    fn huge_values_are_cut_in_messages() {
        let big = "a".repeat(100_000);
        let cut = format!("{}…", "a".repeat(ECHO_LIMIT));
        for (from, to) in [
            ("address = \"192.0.2.11\"", format!("address = \"{big};\"")),
            ("domain = \"cfguest1\"", format!("domain = \"{big}\"")),
            (
                "role = \"guest-domain\"\ndomain",
                format!("role = \"{big}\"\ndomain"),
            ),
            ("ppar_id = 0", format!("ppar_id = \"{big}\"")),
            ("ppar_id = 1", format!("ppar_id = 1\n{big} = 2")),
            ("driver = \"ldoms\"", format!("driver = \"{big}\"")),
        ] {
            let e = err(&replace(from, &to));
            let shown = e.to_string();
            assert!(shown.len() < 1000, "{from}: {} bytes", shown.len());
            assert!(shown.contains(&cut), "{from}: {shown}");
            assert!(e.line.is_some(), "{shown}");
        }
        assert_eq!(quoted("ab"), "\"ab\"");
        assert_eq!(quoted(&"é".repeat(70)), format!("\"{}…\"", "é".repeat(64)));
        assert_eq!(
            clip_quoted("unknown field `x`, expected \"q\\\"\" or `y`"),
            "unknown field `x`, expected \"q\\\"\" or `y`"
        );
    }

    const HPVM: &str = r#"driver = "hpvm"
[hpvm]
cluster = "cluster1"
[defaults]
transport = "local"
[[host]]
name = "node1"
role = "vm-host"
[[host]]
name = "node2"
role = "vm-host"
[[host]]
name = "slvm1-os"
role = "vm-guest"
vm = "slvm1"
"#;

    #[test]
    fn hpvm_inventory_gives_vm_hosts_and_guests() {
        let inv = match parse("hpvm.toml", HPVM) {
            Ok(i) => i,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(inv.driver, "hpvm");
        assert_eq!(inv.host_names(), ["node1", "node2", "slvm1-os"]);
        match &inv.topology {
            SiteTopology::Hpvm(h) => {
                assert_eq!(h.cluster.as_deref(), Some("cluster1"));
                assert_eq!(h.vm_hosts, ["node1", "node2"]);
                assert_eq!(h.guests, [("slvm1-os".to_string(), "slvm1".to_string())]);
                assert_eq!(h.description, "Serviceguard site of hpvm.toml");
            }
            SiteTopology::Ldoms(t) => panic!("expected hpvm, got {t:?}"),
        }
    }

    #[test]
    fn hpvm_inventory_errors_name_line_and_key() {
        let bad = |from: &str, to: &str| {
            assert!(HPVM.contains(from), "{from}");
            match parse("hpvm.toml", &HPVM.replacen(from, to, 1)) {
                Ok(_) => panic!("accepted {to}"),
                Err(e) => e,
            }
        };
        let e = bad("role = \"vm-host\"", "role = \"control-domain\"");
        assert_eq!(e.key.as_deref(), Some("role"));
        assert_eq!(e.line, Some(8));
        assert!(e.message.contains("\"vm-host\" or \"vm-guest\""), "{e}");
        let e = bad(
            "name = \"node2\"\nrole = \"vm-host\"",
            "name = \"node2\"\nrole = \"vm-host\"\nvm = \"x\"",
        );
        assert_eq!(e.key.as_deref(), Some("vm"));
        let e = bad("vm = \"slvm1\"", "vm = \"slvm1;reboot\"");
        assert_eq!(e.key.as_deref(), Some("vm"));
        assert_eq!(e.line, Some(15));
        let e = bad("[hpvm]", "[ldoms]\ncf_timeout = 10\n[hpvm]");
        assert_eq!(e.key.as_deref(), Some("ldoms"));
        let e = bad("cluster = \"cluster1\"", "cluster = \"a b\"");
        assert_eq!(e.key.as_deref(), Some("cluster"));
        let only_guest = "driver = \"hpvm\"\n[[host]]\nname = \"g\"\nrole = \"vm-guest\"\n";
        let e = match parse("g.toml", only_guest) {
            Ok(_) => panic!("accepted a site without VM hosts"),
            Err(e) => e,
        };
        assert!(e.message.contains("role = \"vm-host\""), "{e}");
        // An LDoms inventory refuses the Serviceguard roles.
        let e = err(&replace(
            "role = \"guest-domain\"\ndomain",
            "role = \"vm-guest\"\ndomain",
        ));
        assert_eq!(e.key.as_deref(), Some("role"));
        assert!(e.message.contains("driver = \"ldoms\""), "{e}");
    }

    #[test]
    fn missing_file_says_so() {
        let e = match load(Path::new("/nonexistent/inv.toml")) {
            Ok(_) => panic!("loaded a missing file"),
            Err(e) => e,
        };
        assert!(e.to_string().contains("/nonexistent/inv.toml"));
        assert!(e.message.contains("cannot read"));
    }
}
