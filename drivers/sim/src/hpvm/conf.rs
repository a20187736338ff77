//! Serviceguard modular package files as the simulator reads and writes them: `key value`
//! lines, `#` comments, values with spaces in double quotes, repeated keys, `service_*`
//! blocks starting at `service_name`. The renderers write the manual's Appendix A layout.
//! This is the simulator's own reader; it shares nothing with the driver's.

use super::{Restart, SGRUN};

/// A parsed package file: its `key value` lines in order (values unquoted).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Conf {
    /// Keys and values in file order.
    pub entries: Vec<(String, String)>,
}

/// One `service_name` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServiceSpec {
    /// `service_name`.
    pub name: String,
    /// `service_cmd`.
    pub cmd: String,
    /// `service_restart` as written (`none` when absent).
    pub restart: String,
    /// `service_halt_timeout`.
    pub halt_timeout: String,
}

impl Conf {
    /// Read a package file. `Err` names the line that cannot be read.
    pub(crate) fn parse(text: &str) -> Result<Conf, String> {
        let mut entries = Vec::new();
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, rest) = match line.find(char::is_whitespace) {
                Some(i) => (&line[..i], line[i..].trim()),
                None => (line, ""),
            };
            let value = if let Some(inner) = rest.strip_prefix('"') {
                match inner.find('"') {
                    Some(end) => inner[..end].to_string(),
                    None => {
                        return Err(format!(
                            "line {}: unterminated quoted value for {key}",
                            n + 1
                        ))
                    }
                }
            } else {
                // An unquoted value ends at a comment.
                rest.split('#').next().unwrap_or("").trim().to_string()
            };
            entries.push((key.to_string(), value));
        }
        Ok(Conf { entries })
    }

    /// The first value of `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `key`, in order.
    pub(crate) fn all(&self, key: &str) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The service blocks.
    pub(crate) fn services(&self) -> Vec<ServiceSpec> {
        let mut v: Vec<ServiceSpec> = Vec::new();
        for (k, val) in &self.entries {
            match k.to_ascii_lowercase().as_str() {
                "service_name" => v.push(ServiceSpec {
                    name: val.clone(),
                    cmd: String::new(),
                    restart: "none".into(),
                    halt_timeout: "300".into(),
                }),
                "service_cmd" => {
                    if let Some(s) = v.last_mut() {
                        s.cmd = val.clone();
                    }
                }
                "service_restart" => {
                    if let Some(s) = v.last_mut() {
                        s.restart = val.clone();
                    }
                }
                "service_halt_timeout" => {
                    if let Some(s) = v.last_mut() {
                        s.halt_timeout = val.clone();
                    }
                }
                _ => {}
            }
        }
        v
    }

    /// Whether the file uses the SG IVS toolkit module.
    pub(crate) fn is_toolkit(&self) -> bool {
        self.all("module_name").contains(&"tkit/vtn/vtn")
            || self
                .entries
                .iter()
                .any(|(k, _)| k.starts_with("tkit/vtn/vtn/"))
    }

    /// `script_log_file` with `$SGRUN` and `$SG_PACKAGE` resolved.
    pub(crate) fn log_file(&self, package: &str) -> String {
        let raw = self
            .get("script_log_file")
            .unwrap_or("$SGRUN/log/$SG_PACKAGE.log");
        resolve_log(raw, package)
    }
}

/// Resolve `$SGRUN` and `$SG_PACKAGE` in a `script_log_file` value.
pub(crate) fn resolve_log(raw: &str, package: &str) -> String {
    let raw = if raw.is_empty() {
        "$SGRUN/log/$SG_PACKAGE.log"
    } else {
        raw
    };
    raw.replace("${SGRUN}", SGRUN)
        .replace("$SGRUN", SGRUN)
        .replace("${SG_PACKAGE}", package)
        .replace("$SG_PACKAGE", package)
}

/// Parse `service_restart`.
pub(crate) fn restart_of(s: &str) -> Option<Restart> {
    Restart::parse(s)
}

const BANNER: &str = "\
# **********************************************************************
# ****** HIGH AVAILABILITY PACKAGE CONFIGURATION FILE (template) *******
# **********************************************************************
# ******* Note: This file MUST be edited before it can be used. ********
# * For complete details about package parameters and how to set them, *
# * consult the Serviceguard manual.
# **********************************************************************
";

fn kv(key: &str, value: &str) -> String {
    let v = if value.contains(char::is_whitespace) || value.is_empty() {
        format!("\"{value}\"")
    } else {
        value.to_string()
    };
    format!("{key:<32}{v}\n")
}

/// One service block, `service_cmd` in double quotes (as a hand-edited file has it, §5).
pub(crate) fn service_block(s: &ServiceSpec) -> String {
    service_block_as(s, true)
}

/// One application monitor block as `cmdeployvpkg` writes it: Appendix A prints the
/// monitor's `service_cmd` without quotes (the guest monitor's keeps them).
pub(crate) fn appmon_block(s: &ServiceSpec) -> String {
    service_block_as(s, false)
}

fn service_block_as(s: &ServiceSpec, quoted: bool) -> String {
    let mut out = String::new();
    out.push_str(&kv("service_name", &s.name));
    if quoted {
        out.push_str(&format!("{:<32}\"{}\"\n", "service_cmd", s.cmd));
    } else {
        out.push_str(&format!("{:<32}{}\n", "service_cmd", s.cmd));
    }
    out.push_str(&kv("service_restart", &s.restart));
    out.push_str(&kv("service_fail_fast_enabled", "no"));
    out.push_str(&kv("service_halt_timeout", &s.halt_timeout));
    out
}

/// The toolkit's guest monitor service of VM `vm`.
pub(crate) fn vm_service(vm: &str) -> ServiceSpec {
    ServiceSpec {
        name: vm.to_string(),
        cmd: "$SGCONF/scripts/tkit/vtn/tkit_module.sh guest_monitor".into(),
        restart: "none".into(),
        halt_timeout: "300".into(),
    }
}

/// An SG IVS toolkit package file in the manual's Appendix A layout: `nodes` (`*` for
/// every node), `tkit_dir` (empty: left for the user to fill), the VM service block and
/// `appmons` (application monitor services).
pub(crate) fn render_toolkit(
    vm: &str,
    nodes: &[String],
    tkit_dir: &str,
    appmons: &[ServiceSpec],
) -> String {
    render_toolkit_with(vm, nodes, tkit_dir, appmons, None)
}

/// [`render_toolkit`] with Appendix A's dependency block (`dependency_name`,
/// `dependency_condition <pkg> = up`, `dependency_location same_node`, after
/// `failback_policy`) on the package `dependency` that activates the guest's shared LVM.
pub(crate) fn render_toolkit_with(
    vm: &str,
    nodes: &[String],
    tkit_dir: &str,
    appmons: &[ServiceSpec],
    dependency: Option<&str>,
) -> String {
    let mut s = String::from(BANNER);
    s.push('\n');
    s.push_str(&kv("package_name", vm));
    s.push_str(&kv("package_description", "Serviceguard Package"));
    for m in [
        "sg/basic",
        "tkit/vtn/vtn",
        "sg/priority",
        "sg/failover",
        "sg/external",
        "sg/service",
        "sg/monitor_subnet",
    ] {
        s.push_str(&kv("module_name", m));
        s.push_str(&kv("module_version", "1"));
    }
    s.push_str(&kv("package_type", "failover"));
    for n in nodes {
        s.push_str(&format!("node_name {n}\n"));
    }
    s.push_str(&kv("auto_run", "yes"));
    s.push_str(&kv("node_fail_fast_enabled", "no"));
    s.push_str(&kv("run_script_timeout", "no_timeout"));
    s.push_str(&kv("halt_script_timeout", "no_timeout"));
    s.push_str(&kv("successor_halt_timeout", "no_timeout"));
    s.push_str(&kv("script_log_file", "$SGRUN/log/$SG_PACKAGE.log"));
    s.push_str(&kv(
        "operation_sequence",
        "$SGCONF/scripts/tkit/vtn/tkit_module.sh",
    ));
    s.push_str(&kv("operation_sequence", "$SGCONF/scripts/sg/external.sh"));
    s.push_str(&kv("operation_sequence", "$SGCONF/scripts/sg/service.sh"));
    s.push_str(&kv("failover_policy", "configured_node"));
    s.push_str(&kv("failback_policy", "manual"));
    if let Some(d) = dependency {
        // Appendix A writes the condition without quotes.
        s.push_str(&kv("dependency_name", d));
        s.push_str(&format!("{:<32}{d} = up\n", "dependency_condition"));
        s.push_str(&kv("dependency_location", "same_node"));
    }
    s.push_str("\n# ********************** VTN TOOLKIT PARAMETERS**********************\n");
    if tkit_dir.is_empty() {
        s.push_str("tkit/vtn/vtn/TKIT_DIR\n");
    } else {
        s.push_str(&kv("tkit/vtn/vtn/TKIT_DIR", tkit_dir));
    }
    s.push_str(&kv("tkit/vtn/vtn/MAINTENANCE_FLAG", "yes"));
    s.push_str(&kv("tkit/vtn/vtn/MONITOR_INTERVAL", "30"));
    s.push_str(&kv("priority", "no_priority"));
    s.push_str("\n#VM Service\n");
    s.push_str(&service_block(&vm_service(vm)));
    s.push_str(&kv("local_lan_failover_allowed", "yes"));
    s.push_str(&kv("monitored_subnet", "192.0.2.0"));
    for a in appmons {
        s.push_str("\n#Guest Application Monitor\n");
        s.push_str(&appmon_block(a));
    }
    s
}

/// An old-toolkit (`hpvmsg_package`) modular package file: the `hpvmsg_mon` guest monitor
/// and `appmons`, no `tkit/vtn` keys.
pub(crate) fn render_old_toolkit(vm: &str, nodes: &[String], appmons: &[ServiceSpec]) -> String {
    let mut s =
        String::from("# Generated by hpvmsg_package (HP Integrity VM Serviceguard toolkit)\n");
    s.push_str(BANNER);
    s.push('\n');
    s.push_str(&kv("package_name", vm));
    s.push_str(&kv("package_description", "Integrity VM guest package"));
    for m in ["sg/basic", "sg/failover", "sg/external", "sg/service"] {
        s.push_str(&kv("module_name", m));
        s.push_str(&kv("module_version", "1"));
    }
    s.push_str(&kv("package_type", "failover"));
    for n in nodes {
        s.push_str(&format!("node_name {n}\n"));
    }
    s.push_str(&kv("auto_run", "yes"));
    s.push_str(&kv("script_log_file", "$SGRUN/log/$SG_PACKAGE.log"));
    s.push_str(&kv("failover_policy", "configured_node"));
    s.push_str(&kv("failback_policy", "manual"));
    s.push_str(&kv(
        "external_script",
        &format!("/etc/cmcluster/{vm}/hpvmsg_ext"),
    ));
    s.push_str("\n#VM Service\n");
    s.push_str(&service_block(&ServiceSpec {
        name: "hpvmsg_mon".into(),
        cmd: format!("/etc/cmcluster/{vm}/hpvmsg_mon {vm}"),
        restart: "none".into(),
        halt_timeout: "300".into(),
    }));
    for a in appmons {
        s.push_str("\n#Guest Application Monitor\n");
        s.push_str(&service_block(a));
    }
    s
}

/// A `cmappmgr` service for `guest` running `command` (`-cmappserver_timeout timeout`).
pub(crate) fn appmon_service(
    name: &str,
    guest: &str,
    command: &str,
    timeout: &str,
    restart: &str,
    halt_timeout: &str,
) -> ServiceSpec {
    ServiceSpec {
        name: name.to_string(),
        cmd: format!(
            "/usr/sbin/cmappmgr -node {guest} -cmappserver_timeout {timeout} -service {command}"
        ),
        restart: restart.to_string(),
        halt_timeout: halt_timeout.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rendered_file_reads_back() {
        let text = render_toolkit(
            "slvm1",
            &["node1".into(), "node2".into()],
            "/etc/cmcluster/slvm1",
            &[appmon_service(
                "ping_mon",
                "slvm1",
                "/apps/ping_mon",
                "10",
                "none",
                "300",
            )],
        );
        let c = Conf::parse(&text).expect("parses");
        assert_eq!(c.get("package_name"), Some("slvm1"));
        assert_eq!(c.all("node_name"), vec!["node1", "node2"]);
        assert_eq!(c.get("tkit/vtn/vtn/TKIT_DIR"), Some("/etc/cmcluster/slvm1"));
        assert!(c.is_toolkit());
        let s = c.services();
        assert_eq!(s.len(), 2);
        assert_eq!(
            s[0].cmd,
            "$SGCONF/scripts/tkit/vtn/tkit_module.sh guest_monitor"
        );
        assert_eq!(
            s[1].cmd,
            "/usr/sbin/cmappmgr -node slvm1 -cmappserver_timeout 10 -service /apps/ping_mon"
        );
        assert_eq!(c.log_file("slvm1"), "/var/adm/cmcluster/log/slvm1.log");
    }

    #[test]
    fn quotes_and_comments() {
        let c = Conf::parse("# c\nkey \"a b\" \nother x # note\nbare\n").expect("parses");
        assert_eq!(c.get("key"), Some("a b"));
        assert_eq!(c.get("other"), Some("x"));
        assert_eq!(c.get("bare"), Some(""));
        assert!(Conf::parse("k \"open\n").is_err());
    }
}
