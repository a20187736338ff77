//! Parsing and validating an inventory's text, section by section: the TOML, the driver,
//! `[hpvm]`, `[defaults]`, `[ldoms]`, each `[[host]]` (its role's keys in
//! [`super::roles`]), then what the whole site needs.
//!
//! The first error found is returned; the sections are checked in file order (driver first,
//! hosts in their order, what the whole file lacks last), so the error reported for a file
//! with several is always the same one.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use hascript_ldoms::{ControlDomain, GuestDomain, Topology};
use toml::Spanned;

use super::access::{lock_dir, ssh_options, transport_of};
use super::context::Ctx;
use super::model::{HostEntry, HpvmHosts, Inventory, InventoryError, SiteTopology, TransportKind};
use super::roles::{self, HostCtx};
use super::schema::{RawDefaults, RawHost, RawInventory, RawLdoms};
use crate::transport::rules::{valid_address, valid_user, ADDRESS_RULE, USER_RULE};
use hascript_api::text::clip_quoted;

/// What the `[[host]]` tables give, gathered host by host.
#[derive(Default)]
pub(super) struct Gathered {
    /// Host names seen (each once).
    seen: HashSet<String>,
    /// LDoms domain names seen (each once).
    pub(super) seen_domains: HashSet<String>,
    /// LDoms control domains, in order.
    pub(super) control_domains: Vec<ControlDomain>,
    /// LDoms guest domains, in order.
    pub(super) guests: Vec<GuestDomain>,
    /// Serviceguard VM hosts, in order.
    pub(super) vm_hosts: Vec<String>,
    /// Serviceguard guests: (host name, VM name), in order.
    pub(super) vm_guests: Vec<(String, String)>,
    /// Every host with its transport.
    hosts: Vec<HostEntry>,
    /// `lock_dir` per host (transport = "local" only).
    lock_dirs: BTreeMap<String, PathBuf>,
}

/// Parse and validate inventory `text`; `transport = "sim"` only with `allow_sim`.
pub(super) fn parse_with(
    file: &str,
    text: &str,
    allow_sim: bool,
) -> Result<Inventory, InventoryError> {
    let ctx = Ctx { file, text };
    let RawInventory {
        driver,
        description,
        defaults,
        ldoms,
        hpvm,
        host,
    } = read_toml(&ctx)?;
    let (driver, is_hpvm) = driver_of(&ctx, driver.as_ref(), ldoms.is_some(), hpvm.is_some())?;
    let hpvm_cluster = match hpvm.as_ref().and_then(|h| h.cluster.as_ref()) {
        Some(c) => {
            ctx.check_name(c, "cluster", "cluster")?;
            Some(c.get_ref().clone())
        }
        None => None,
    };
    let defaults = defaults.unwrap_or_default();
    let default_transport = read_defaults(&ctx, &defaults, allow_sim)?;
    let (cf_timeout, xscf_user) = read_ldoms(&ctx, ldoms)?;

    let mut found = Gathered::default();
    for h in &host {
        read_host(
            &ctx,
            h,
            &defaults,
            default_transport,
            allow_sim,
            is_hpvm,
            &mut found,
        )?;
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
        if found.vm_hosts.is_empty() {
            return Err(ctx.err(
                end,
                Some("host"),
                "a Serviceguard site needs its VM hosts: add [[host]] tables with role = \"vm-host\"",
            ));
        }
        let description = description.unwrap_or_else(|| format!("Serviceguard site of {}", stem()));
        return Ok(Inventory {
            driver,
            topology: SiteTopology::Hpvm(HpvmHosts {
                cluster: hpvm_cluster,
                vm_hosts: found.vm_hosts,
                guests: found.vm_guests,
                description,
            }),
            hosts: found.hosts,
            lock_dirs: found.lock_dirs,
        });
    }
    ldoms_site_complete(&ctx, end, &found)?;
    let description = description.unwrap_or_else(|| format!("LDoms site of {}", stem()));
    Ok(Inventory {
        driver,
        topology: SiteTopology::Ldoms(Topology {
            control_domains: found.control_domains,
            guests: found.guests,
            cf_timeout,
            xscf_user,
            description,
        }),
        hosts: found.hosts,
        lock_dirs: found.lock_dirs,
    })
}

/// The TOML of the file, its error (syntax, unknown key, wrong type) located and with what
/// to do.
fn read_toml(ctx: &Ctx) -> Result<RawInventory, InventoryError> {
    toml::from_str(ctx.text).map_err(|e| {
        let offset = e.span().map(|s| s.start);
        let msg = clip_quoted(e.message().trim());
        let key = offset
            .and_then(|o| ctx.key_at(o))
            .or_else(|| msg.split('`').nth(1).map(str::to_string));
        let hint = toml_hint(&msg);
        ctx.err(offset, key.as_deref(), format!("{msg}{hint}"))
    })
}

/// What to do about a TOML error `msg` (an unknown key: the closest known one).
fn toml_hint(msg: &str) -> String {
    if msg.starts_with("unknown field") {
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
    }
}

/// The driver (`ldoms` or `hpvm`) and whether it is `hpvm`; the other driver's table
/// (`[ldoms]`, `[hpvm]`) is refused.
fn driver_of(
    ctx: &Ctx,
    driver: Option<&Spanned<String>>,
    has_ldoms: bool,
    has_hpvm: bool,
) -> Result<(String, bool), InventoryError> {
    let driver = driver.ok_or_else(|| {
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
                    hascript_api::text::quoted(other)
                ),
            ))
        }
    };
    if is_hpvm {
        if has_ldoms {
            return Err(ctx.err(
                ctx.text.find("[ldoms]"),
                Some("ldoms"),
                "an [ldoms] table belongs to driver = \"ldoms\"; remove it",
            ));
        }
    } else if has_hpvm {
        return Err(ctx.err(
            ctx.text.find("[hpvm]"),
            Some("hpvm"),
            "an [hpvm] table belongs to driver = \"hpvm\"; remove it",
        ));
    }
    Ok((driver.get_ref().clone(), is_hpvm))
}

/// `[defaults]`: the default transport (`local` when not given), its user checked. Its SSH
/// keys and `lock_dir` are read with each host ([`ssh_options`], [`lock_dir`]).
fn read_defaults(
    ctx: &Ctx,
    defaults: &RawDefaults,
    allow_sim: bool,
) -> Result<TransportKind, InventoryError> {
    let default_transport = match &defaults.transport {
        Some(t) => transport_of(ctx, t, allow_sim)?,
        None => TransportKind::Local,
    };
    if let Some(u) = &defaults.user {
        ctx.check(u, "user", "user", valid_user(u.get_ref()), USER_RULE)?;
    }
    Ok(default_transport)
}

/// `[ldoms]`: the CF timeout (10 seconds when not given) and the XSCF user.
fn read_ldoms(ctx: &Ctx, ldoms: Option<RawLdoms>) -> Result<(i64, Option<String>), InventoryError> {
    Ok(match ldoms {
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
    })
}

/// One `[[host]]` table: its name (once in the file), role, transport, address and user,
/// its role's keys ([`super::roles`]), SSH keys and lock folder; added to `found`.
fn read_host(
    ctx: &Ctx,
    h: &Spanned<RawHost>,
    defaults: &RawDefaults,
    default_transport: TransportKind,
    allow_sim: bool,
    is_hpvm: bool,
    found: &mut Gathered,
) -> Result<(), InventoryError> {
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
    if !found.seen.insert(name.clone()) {
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
                format!("host {name:?} has no role: add role = \"vm-host\" or role = \"vm-guest\"")
            } else {
                format!(
                    "host {name:?} has no role: add role = \"control-domain\" or role = \"guest-domain\""
                )
            },
        )
    })?;
    let transport = match &h.transport {
        Some(t) => transport_of(ctx, t, allow_sim)?,
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
    let host = HostCtx {
        ctx,
        h,
        name: &name,
        at,
        is_hpvm,
    };
    roles::read_role(&host, role, found)?;
    let ssh = ssh_options(ctx, h, defaults, &name, transport)?;
    if let Some(d) = lock_dir(ctx, h, defaults, &name, transport)? {
        found.lock_dirs.insert(name.clone(), d);
    }
    found.hosts.push(HostEntry {
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
    Ok(())
}

/// What an LDoms site needs as a whole: a control domain and two guest domains (reported at
/// `end`, the file's last line).
fn ldoms_site_complete(
    ctx: &Ctx,
    end: Option<usize>,
    found: &Gathered,
) -> Result<(), InventoryError> {
    if found.control_domains.is_empty() {
        return Err(ctx.err(
            end,
            Some("host"),
            "an LDoms site needs at least one control domain: add a [[host]] with role = \"control-domain\"",
        ));
    }
    if found.guests.len() < 2 {
        return Err(ctx.err(
            end,
            Some("host"),
            format!(
                "a guest-domain cluster needs at least two guest domains, the inventory has {}: add [[host]] tables with role = \"guest-domain\"",
                found.guests.len()
            ),
        ));
    }
    Ok(())
}
