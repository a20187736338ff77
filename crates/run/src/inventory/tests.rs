//! Tests of the inventory: every error names its line and key and says what to do.

use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::transport::{build, secret_env_vars};
use hascript_api::{CancelToken, Command, Error, ErrorKind, Exec, Output};

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

// The router built from a parsed inventory (its conversion into the transport's own
// `HostRoute`s).

const ROUTER_INV: &str = r#"driver = "ldoms"
[[host]]
name = "cd1"
role = "control-domain"
box = "b1"
ppar_id = 0
xscf = ["a", "b"]
[[host]]
name = "g1"
role = "guest-domain"
[[host]]
name = "g2"
role = "guest-domain"
transport = "sim"
"#;

/// Stands for the simulator: answers `sim <host>`.
struct Fixed;
impl Exec for Fixed {
    fn exec(&self, cmd: &Command) -> Result<Output, Error> {
        Ok(Output::new(0, format!("sim {}", cmd.host), ""))
    }
}

#[test]
fn secret_env_vars_of_an_inventory_names_every_env_reference_once() {
    let text = r#"driver = "ldoms"
[defaults]
transport = "ssh"
password = "env:HS_PW"
[[host]]
name = "cd1"
role = "control-domain"
box = "b1"
ppar_id = 0
xscf = ["a", "b"]
become = "sudo"
become_password = "env:HS_SUDO"
key_passphrase = "file:/nonexistent/pass"
[[host]]
name = "g1"
role = "guest-domain"
key_passphrase = "env:HS_KEY"
[[host]]
name = "g2"
role = "guest-domain"
transport = "local"
"#;
    let inv = match parse("i.toml", text) {
        Ok(i) => i,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(
        secret_env_vars(&inv.routes()),
        ["HS_PW", "HS_SUDO", "HS_KEY"]
    );
    let plain = match parse("i.toml", ROUTER_INV) {
        Ok(i) => i,
        Err(e) => panic!("{e}"),
    };
    assert!(secret_env_vars(&plain.routes()).is_empty());
}

#[test]
fn the_router_of_an_inventory_routes_by_host_and_refuses_unknown_hosts() {
    let inv = parse("i.toml", ROUTER_INV).map_err(|e| e.to_string());
    let inv = match inv {
        Ok(i) => i,
        Err(e) => panic!("{e}"),
    };
    let r = match build(&inv.routes(), Some(Arc::new(Fixed)), &CancelToken::new()) {
        Ok(r) => r,
        Err(e) => panic!("{}", e.message),
    };
    let sim = r
        .exec(&Command::read("g2", &["x"]))
        .map(|o| o.stdout)
        .map_err(|e| e.message);
    assert_eq!(sim, Ok("sim g2".to_string()));
    let local = r
        .exec(&Command::read("cd1", &["echo", "local"]))
        .map(|o| o.stdout)
        .map_err(|e| e.message);
    assert_eq!(local, Ok("local\n".to_string()));
    let e = r.exec(&Command::read("nope", &["true"])).err();
    let e = e.map(|e| {
        (
            e.kind,
            e.message.contains("\"nope\""),
            e.message.contains("cd1, g1, g2"),
        )
    });
    assert_eq!(e, Some((ErrorKind::Usage, true, true)));
    assert!(build(&inv.routes(), None, &CancelToken::new()).is_err());
}
