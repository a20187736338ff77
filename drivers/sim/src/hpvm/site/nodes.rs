//! The site's VM hosts: their addresses, installed products, volume groups and mounts.

use std::collections::BTreeMap;

use crate::hpvm::scenario::HpvmSpec;
use crate::hpvm::{NodeState, Product, VmHost};

/// The address of VM host `name` (`node1` → `192.0.2.31`).
pub(super) fn node_address(name: &str) -> String {
    let n: u32 = name
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .unwrap_or(9);
    format!("192.0.2.{}", 30 + n)
}

/// The products every VM host has installed (`swlist`).
pub(super) fn products_list() -> Vec<Product> {
    let p = |n: &str, r: &str, t: &str| Product {
        name: n.into(),
        revision: r.into(),
        title: t.into(),
    };
    vec![
        p(
            "HPUX11i-VSE-OE",
            "B.11.31.1403",
            "HP-UX Virtual Server Operating Environment",
        ),
        p("HPVM", "B.04.30", "Integrity VM"),
        p("Jdk6", "6.0.11.00", "Java 6.0 JDK"),
        p(
            "SG-IVS-Toolkit",
            "B.01.00",
            "HP Serviceguard Toolkit for Integrity Virtual Servers",
        ),
        p("T1905CA", "A.11.20.00", "Serviceguard"),
        p(
            "T8718AC",
            "B.04.30",
            "Integrity VM Online Migration Software",
        ),
    ]
}

/// The VM hosts `node_names`, with the scenario's Serviceguard release, products left out
/// and vswitches missing.
pub(super) fn nodes(h: &HpvmSpec, node_names: &[String], sg_release: &str) -> Vec<VmHost> {
    let mut nodes = Vec::new();
    for n in node_names {
        let mut vgs = BTreeMap::new();
        vgs.insert("vg00".to_string(), "available".to_string());
        vgs.insert(
            "vg_slvm2".to_string(),
            if n == "node1" {
                "available, shared, server"
            } else {
                "available, shared, client"
            }
            .to_string(),
        );
        let mut prods = products_list();
        if sg_release != "A.11.20" {
            for p in &mut prods {
                if p.name == "T1905CA" {
                    p.revision = format!("{sg_release}.00");
                }
            }
        }
        if let Some(missing) = h.not_installed.get(n) {
            prods.retain(|p| !missing.contains(&p.name));
        }
        nodes.push(VmHost {
            name: n.clone(),
            address: node_address(n),
            state: NodeState::Running,
            products: prods,
            vgs,
            mounts: vec![
                ("/".into(), "/dev/vg00/lvol3".into(), "vxfs".into()),
                ("/stand".into(), "/dev/vg00/lvol1".into(), "vxfs".into()),
                ("/var".into(), "/dev/vg00/lvol8".into(), "vxfs".into()),
                ("/opt".into(), "/dev/vg00/lvol6".into(), "vxfs".into()),
            ],
            missing_vswitches: h.missing_vswitches.get(n).cloned().unwrap_or_default(),
            heartbeat_ip: Some(node_address(n)),
        });
    }
    nodes
}
