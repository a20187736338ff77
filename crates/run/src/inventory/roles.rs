//! The keys of each host role: `vm-host` / `vm-guest` (driver `hpvm`), `control-domain` /
//! `guest-domain` (driver `ldoms`; the LDoms topology's control and guest domains). A key of
//! another role is refused at its line.

use hascript_ldoms::{ControlDomain, GuestDomain};
use toml::Spanned;

use super::context::Ctx;
use super::model::InventoryError;
use super::parse::Gathered;
use super::schema::RawHost;
use crate::transport::rules::{valid_address, valid_hostname, ADDRESS_RULE, HOSTNAME_RULE};
use hascript_api::text::quoted;

/// The `[[host]]` table being read, for its role's keys.
pub(super) struct HostCtx<'a> {
    /// Where errors are located.
    pub(super) ctx: &'a Ctx<'a>,
    /// The table.
    pub(super) h: &'a RawHost,
    /// Its name (checked).
    pub(super) name: &'a str,
    /// Where the table starts (errors about a key it lacks).
    pub(super) at: usize,
    /// Whether the driver is `hpvm`.
    pub(super) is_hpvm: bool,
}

impl HostCtx<'_> {
    /// Refuse key `key` (`v`, when present) with `why`.
    fn forbid<T>(
        &self,
        key: &str,
        v: Option<&Spanned<T>>,
        why: &str,
    ) -> Result<(), InventoryError> {
        match v.map(|v| v.span().start) {
            Some(o) => Err(self.ctx.err(
                Some(o),
                Some(key),
                format!("host {:?}: {why}; remove it", self.name),
            )),
            None => Ok(()),
        }
    }
}

/// The keys of `role` in host table `host`, added to `found`.
pub(super) fn read_role(
    host: &HostCtx,
    role: &Spanned<String>,
    found: &mut Gathered,
) -> Result<(), InventoryError> {
    let is_hpvm = host.is_hpvm;
    match role.get_ref().as_str() {
        r @ ("control-domain" | "guest-domain") if is_hpvm => Err(wrong_driver(host, role, r)),
        r @ ("vm-host" | "vm-guest") if !is_hpvm => Err(wrong_driver(host, role, r)),
        "vm-host" | "vm-guest" => hpvm_host(host, role, found),
        "control-domain" => {
            let cd = control_domain(host)?;
            found.control_domains.push(cd);
            Ok(())
        }
        "guest-domain" => guest_domain(host, found),
        other => Err(host.ctx.err(
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
        )),
    }
}

/// Role `r` belongs to the other driver.
fn wrong_driver(host: &HostCtx, role: &Spanned<String>, r: &str) -> InventoryError {
    let (this, other) = if host.is_hpvm {
        ("hpvm", "\"vm-host\" or \"vm-guest\"")
    } else {
        ("ldoms", "\"control-domain\" or \"guest-domain\"")
    };
    host.ctx.err(
        Some(role.span().start),
        Some("role"),
        format!(
            "role {} does not exist for driver = \"{this}\"; use {other}",
            quoted(r)
        ),
    )
}

/// A Serviceguard VM host or guest (`vm`: the guest's VM, its host name when not given;
/// each VM is one guest's).
fn hpvm_host(
    host: &HostCtx,
    role: &Spanned<String>,
    found: &mut Gathered,
) -> Result<(), InventoryError> {
    let (ctx, h, name) = (host.ctx, host.h, host.name);
    let ldoms_only = "it belongs to LDoms sites (driver = \"ldoms\")";
    host.forbid("box", h.box_name.as_ref(), ldoms_only)?;
    host.forbid("ppar_id", h.ppar_id.as_ref(), ldoms_only)?;
    host.forbid("xscf", h.xscf.as_ref(), ldoms_only)?;
    host.forbid("hosts_name", h.hosts_name.as_ref(), ldoms_only)?;
    host.forbid("domain", h.domain.as_ref(), ldoms_only)?;
    if role.get_ref() == "vm-host" {
        host.forbid(
            "vm",
            h.vm.as_ref(),
            "`vm` is only for guests (role = \"vm-guest\")",
        )?;
        found.vm_hosts.push(name.to_string());
        return Ok(());
    }
    let vm = match &h.vm {
        Some(v) => {
            ctx.check_name(v, "vm", "VM")?;
            v.get_ref().clone()
        }
        None => name.to_string(),
    };
    if found.vm_guests.iter().any(|(_, g)| *g == vm) {
        return Err(ctx.err(
            Some(host.at),
            Some("vm"),
            format!("VM {vm:?} is given to two guests; each guest is its own VM"),
        ));
    }
    found.vm_guests.push((name.to_string(), vm));
    Ok(())
}

/// An LDoms control domain: its box, PPAR-ID and the box's two XSCF addresses are
/// required; `hosts_name` is its name when not given.
fn control_domain(host: &HostCtx) -> Result<ControlDomain, InventoryError> {
    let (ctx, h, name) = (host.ctx, host.h, host.name);
    host.forbid(
        "domain",
        h.domain.as_ref(),
        "`domain` is only for guest domains",
    )?;
    let need = |key: &str| {
        ctx.err(
            Some(host.at),
            Some(key),
            format!("control domain {name:?} needs `{key}`: add it to its [[host]] table"),
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
        _ => {
            return Err(ctx.err(
                Some(xscf.span().start),
                Some("xscf"),
                "give the two XSCF addresses of the box: xscf = [\"<LAN#0>\", \"<LAN#1>\"]",
            ))
        }
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
        None => name.to_string(),
    };
    Ok(ControlDomain {
        name: name.to_string(),
        address: h.address.as_ref().map(|a| a.get_ref().clone()),
        hosts_name,
        box_name: box_name.get_ref().clone(),
        ppar_id,
        xscf_lan0: lan0,
        xscf_lan1: lan1,
    })
}

/// An LDoms guest domain: `domain` is its name when not given; each domain is one guest's.
fn guest_domain(host: &HostCtx, found: &mut Gathered) -> Result<(), InventoryError> {
    let (ctx, h, name) = (host.ctx, host.h, host.name);
    let only_cd = "only control domains have it";
    host.forbid("box", h.box_name.as_ref(), only_cd)?;
    host.forbid("ppar_id", h.ppar_id.as_ref(), only_cd)?;
    host.forbid("xscf", h.xscf.as_ref(), only_cd)?;
    host.forbid("hosts_name", h.hosts_name.as_ref(), only_cd)?;
    let domain = match &h.domain {
        Some(d) => {
            ctx.check_name(d, "domain", "domain")?;
            d.get_ref().clone()
        }
        None => name.to_string(),
    };
    if !found.seen_domains.insert(domain.clone()) {
        return Err(ctx.err(
            Some(host.at),
            Some("domain"),
            format!("domain {domain:?} is given to two guests; each guest is its own domain"),
        ));
    }
    found.guests.push(GuestDomain {
        name: name.to_string(),
        domain,
    });
    Ok(())
}
