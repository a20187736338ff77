//! The gaps of a seeded copy: what was not read, as the commands whose answers depend
//! on it.

use std::collections::{BTreeMap, BTreeSet};

use super::Site;
use crate::hpvm::fs;
use crate::hpvm::{Guest, Package, StorageKind, VmHost, CMCLUSTER};
use crate::seed::Gap;

/// The gaps found so far (no duplicates).
#[derive(Default)]
pub(super) struct Gaps(pub(super) Vec<Gap>);

impl Gaps {
    pub(super) fn add(&mut self, host: Option<&str>, program: &str, args: &[&str], why: &str) {
        let g = Gap {
            host: host.map(str::to_string),
            program: program.to_string(),
            args: args.iter().map(|a| a.to_string()).collect(),
            why: why.to_string(),
            until_sf_start: None,
            exact: false,
        };
        if !self
            .0
            .iter()
            .any(|x| x.host == g.host && x.program == g.program && x.args == g.args)
        {
            self.0.push(g);
        }
    }

    /// Commands naming guest `vm` whose answer depends on where and how it runs.
    pub(super) fn guest(&mut self, vm: &str, nodes: &[String], why: &str) {
        self.add(None, "hpvmstatus", &["-P", vm], why);
        self.add(None, "hpvmstart", &["-P", vm], why);
        self.add(None, "hpvmstop", &["-P", vm], why);
        for a in [
            &["-s", "-o", "-P", vm][..],
            &["-o", "-P", vm],
            &["-s", "-P", vm],
            &["-P", vm],
        ] {
            self.add(None, "hpvmmigrate", a, why);
        }
        self.add(None, "cmmovevpkg", &["-v", "-P", vm], why);
        self.add(None, "cmmovevpkg", &["-P", vm], why);
        self.add(None, "cmdeployvpkg", &["-Q", "-P", vm], why);
        self.add(None, "cmdeployvpkg", &["-Q", "-C", "-P", vm], why);
        self.add(None, "cmrunpkg", &[vm], why);
        self.add(None, "cmrunpkg", &["-v", vm], why);
        for n in nodes {
            self.add(None, "cmrunpkg", &["-n", n, vm], why);
        }
        self.add(None, "cmmodpkg", &["-e", vm], why);
    }

    /// Commands whose answer depends on package `vm`'s kind and toolkit settings.
    pub(super) fn package_kind(&mut self, vm: &str, why: &str) {
        self.add(None, "cmmovevpkg", &["-v", "-P", vm], why);
        self.add(None, "cmmovevpkg", &["-P", vm], why);
        for a in [
            &["-m", "1", "-P", vm][..],
            &["-m", "0", "-P", vm],
            &["-Q", "-C", "-P", vm],
            &["-Q", "-P", vm],
        ] {
            self.add(None, "cmdeployvpkg", a, why);
        }
        self.add(None, "hpvmstart", &["-P", vm], why);
        self.add(None, "hpvmstop", &["-P", vm], why);
    }

    /// An online migration of `vm` from `source` (any host: `None`).
    pub(super) fn migration_from(&mut self, source: Option<&str>, vm: &str, why: &str) {
        self.add(source, "hpvmmigrate", &["-s", "-o", "-P", vm], why);
        self.add(source, "hpvmmigrate", &["-o", "-P", vm], why);
        self.add(source, "cmmovevpkg", &["-v", "-P", vm], why);
        self.add(source, "cmmovevpkg", &["-P", vm], why);
        self.add(source, "cmdeployvpkg", &["-Q", "-C", "-P", vm], why);
    }

    /// An online migration of `vm` to `target`.
    pub(super) fn migration_to(&mut self, vm: &str, target: &str, why: &str) {
        self.add(
            None,
            "hpvmmigrate",
            &["-s", "-o", "-P", vm, "-h", target],
            why,
        );
        self.add(None, "hpvmmigrate", &["-o", "-P", vm, "-h", target], why);
        self.add(None, "cmmovevpkg", &["-v", "-P", vm, "-h", target], why);
        self.add(None, "cmmovevpkg", &["-P", vm, "-h", target], why);
        self.add(
            None,
            "cmdeployvpkg",
            &["-Q", "-C", "-P", vm, "-h", target],
            why,
        );
    }
}

/// Products and volume groups the copy would need for a move, where they were not read.
pub(super) fn move_gaps(
    site: &Site,
    nodes: &[VmHost],
    guests: &[Guest],
    vm_names: &[String],
    gaps: &mut Gaps,
) {
    let obs = site.obs;
    for n in nodes {
        let declared_node = site.vm_hosts.contains(&n.name);
        let migration_known = declared_node
            && obs.iter().any(|o| {
                o.host == n.name && o.program() == "swlist" && o.argv.iter().any(|a| a == "T8718AC")
            });
        if !migration_known {
            let why = format!(
                "whether online migration (T8718AC) is installed on {} was not read before the first change",
                n.name
            );
            for vm in vm_names {
                gaps.migration_to(vm, &n.name, &why);
            }
            gaps.add(Some(&n.name), "hpvmmigrate", &[], &why);
            gaps.add(Some(&n.name), "cmmovevpkg", &[], &why);
            gaps.add(Some(&n.name), "cmdeployvpkg", &["-Q", "-C"], &why);
        }
        for g in guests {
            for s in g.storage.iter().filter(|s| s.kind == StorageKind::Lv) {
                let vg = s
                    .device
                    .strip_prefix("/dev/")
                    .and_then(|r| r.split('/').next())
                    .unwrap_or("");
                if vg.is_empty() || n.vgs.contains_key(vg) {
                    continue;
                }
                let read = obs.iter().any(|o| {
                    o.host == n.name
                        && o.program() == "vgdisplay"
                        && o.argv
                            .iter()
                            .skip(1)
                            .any(|a| a == vg || *a == format!("/dev/{vg}"))
                });
                if read {
                    continue;
                }
                let why = format!(
                    "volume group {vg} (of guest {}) was not displayed on {} before the first change",
                    g.name, n.name
                );
                gaps.add(Some(&n.name), "vgdisplay", &[vg], &why);
                gaps.add(Some(&n.name), "vgdisplay", &[&format!("/dev/{vg}")], &why);
                gaps.migration_from(Some(&n.name), &g.name, &why);
            }
        }
    }
}

/// Package folders and files the copy would need for a package check or a deployment,
/// where they were not read.
pub(super) fn package_file_gaps(
    site: &Site,
    packages: &[Package],
    vm_names: &[String],
    dir_known: &BTreeMap<String, BTreeSet<String>>,
    gaps: &mut Gaps,
) {
    for vm in vm_names {
        let conf_path = format!("{CMCLUSTER}/{vm}/{vm}.conf");
        let mut folders = vec![format!("{CMCLUSTER}/{vm}")];
        if let Some(d) = packages
            .iter()
            .find(|p| p.name == *vm)
            .and_then(|p| p.tkit_dir.as_deref())
            .map(fs::normalize)
        {
            if !folders.contains(&d) {
                folders.push(d);
            }
        }
        let unknown: Vec<String> = site
            .node_names
            .iter()
            .flat_map(|n| {
                folders
                    .iter()
                    .filter(|d| !dir_known.get(n).is_some_and(|k| k.contains(*d)))
                    .map(move |d| format!("{d} on {n}"))
            })
            .collect();
        if !unknown.is_empty() {
            let why = format!(
                "the package check of {vm} reads the modes of its folders on every node, and these were not read before the first change: {}",
                unknown.join(", ")
            );
            gaps.add(None, "cmcheckconf", &["-P", &conf_path], &why);
            gaps.add(None, "cmapplyconf", &["-P", &conf_path], &why);
        }
        for n in site.vm_hosts {
            let read = site
                .obs
                .iter()
                .any(|o| o.host == n && o.is("cat", &[conf_path.as_str()]));
            if !read {
                let why = format!(
                    "whether {conf_path} exists on {n} (and what it holds) was not read before the first change"
                );
                gaps.add(Some(n), "cmdeployvpkg", &["-Q", "-P", vm], &why);
                gaps.add(
                    Some(n),
                    "cmmakepkg",
                    &["-m", "tkit/vtn/vtn", "-n", vm, &conf_path],
                    &why,
                );
            }
        }
    }
}

/// Cluster nodes the inventory does not declare: nothing on them was read, so no
/// cluster check can be answered.
pub(super) fn undeclared_node_gaps(site: &Site, gaps: &mut Gaps) {
    let undeclared: Vec<String> = site
        .node_names
        .iter()
        .filter(|n| !site.vm_hosts.contains(n))
        .cloned()
        .collect();
    if !undeclared.is_empty() {
        let why = format!(
            "cluster nodes {} are not in the inventory, so nothing on them was read",
            undeclared.join(", ")
        );
        gaps.add(None, "cmcheckconf", &[], &why);
        gaps.add(None, "cmapplyconf", &[], &why);
    }
}
