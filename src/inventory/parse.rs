//! Parsing and validating an inventory's text, section by section.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use hascript_ldoms::{ControlDomain, GuestDomain, Topology};

use super::access::{lock_dir, ssh_options, transport_of};
use super::context::Ctx;
use super::model::{HostEntry, HpvmHosts, Inventory, InventoryError, SiteTopology, TransportKind};
use super::quoting::{clip_quoted, quoted};
use super::rules::{
    valid_address, valid_hostname, valid_user, ADDRESS_RULE, HOSTNAME_RULE, USER_RULE,
};
use super::schema::RawInventory;

/// Parse and validate inventory `text`; `transport = "sim"` only with `allow_sim`.
pub(super) fn parse_with(
    file: &str,
    text: &str,
    allow_sim: bool,
) -> Result<Inventory, InventoryError> {
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
