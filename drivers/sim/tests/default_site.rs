//! The default site (the manual's figure 17.1): every emulated command's output.

mod common;

use common::*;

#[test]
fn manual_samples_after_the_documented_procedure() {
    let s = site(None);
    migrate_guest2_to_cd3(&s);
    sleep(&s, 30);
    for guest in ["guest1", "guest2"] {
        assert_eq!(
            ok(
                &s,
                guest,
                "LC_ALL=C /etc/opt/FJSVcluster/bin/clsnmpsetup -l"
            ),
            MANUAL_CLSNMPSETUP
        );
        assert_eq!(
            ok(&s, guest, "LC_ALL=C /opt/SMAW/bin/sdtool -s"),
            MANUAL_SDTOOL
        );
    }
}

/// When the seed is beside the work tree, the samples above are checked against it too.
#[test]
fn samples_match_the_seed_when_it_is_available() {
    let seed = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/seeds/003_de54a6761a99dae1.txt");
    let Ok(text) = std::fs::read_to_string(&seed) else {
        eprintln!("seed not found at {}; skipped", seed.display());
        return;
    };
    let lines: Vec<&str> = text.lines().collect();
    for sample in [MANUAL_CLSNMPSETUP, MANUAL_SDTOOL] {
        let first = sample.lines().next().expect("header");
        let start = lines
            .iter()
            .position(|l| l.strip_prefix("    ") == Some(first))
            .expect("sample header in the seed");
        for (i, expected) in sample.lines().enumerate() {
            assert_eq!(lines[start + i].strip_prefix("    "), Some(expected));
        }
    }
}

#[test]
fn initial_ldm_list_on_each_control_domain() {
    let s = site(None);
    assert_eq!(
        ok(&s, "cd1", "LC_ALL=C /usr/sbin/ldm list -p"),
        "VERSION 1.6\n\
         DOMAIN|name=primary|state=active|flags=-n-cv-|cons=UART|ncpu=16|mem=17179869184|util=0.5|uptime=2592000\n\
         DOMAIN|name=guest1|state=active|flags=-n----|cons=5000|ncpu=8|mem=8589934592|util=1.2|uptime=86400\n"
    );
    assert!(ok(&s, "cd2", "ldm ls -p")
        .contains("DOMAIN|name=guest2|state=active|flags=-n----|cons=5000|"));
    assert_eq!(
        ok(&s, "cd3", "ldm list-domain -p"),
        "VERSION 1.6\nDOMAIN|name=primary|state=active|flags=-n-cv-|cons=UART|ncpu=16|mem=17179869184|util=0.5|uptime=2592000\n"
    );
    assert_eq!(
        ok(&s, "cd2", "ldm list"),
        "NAME             STATE      FLAGS   CONS    VCPU  MEMORY   UTIL  NORM  UPTIME\n\
         primary          active     -n-cv-  UART    16    16G      0.5%  0.5%  30d 0h 0m\n\
         guest2           active     -n----  5000    8     8G       0.8%  0.8%  1d 0h 0m\n"
    );
    let o = run(&s, "cd2", "ldm list -p guest1");
    assert_eq!(
        (o.code(), o.stderr.as_str()),
        (1, "LDom guest1 does not exist\n")
    );
}

#[test]
fn stopped_guest_record_has_empty_values() {
    let s = site(None);
    assert_eq!(
        ok(&s, "cd2", "ldm stop-domain guest2"),
        "LDom guest2 stopped\n"
    );
    assert_eq!(
        ldm_record(&s, "cd2", "guest2").as_deref(),
        Some("DOMAIN|name=guest2|state=bound|flags=------|cons=5000|ncpu=8|mem=8589934592|util=|uptime=")
    );
    assert_eq!(ok(&s, "cd2", "ldm list guest2"), "NAME             STATE      FLAGS   CONS    VCPU  MEMORY   UTIL  NORM  UPTIME\nguest2           bound      ------  5000    8     8G\n");
    let o = run(&s, "cd2", "ldm stop-domain guest2");
    assert_eq!(
        (o.code(), o.stderr.as_str()),
        (1, "LDom guest2 is not active\n")
    );
    assert_eq!(
        ok(&s, "cd2", "ldm start-domain guest2"),
        "LDom guest2 started\n"
    );
    let o = run(&s, "cd2", "ldm start guest2");
    assert_eq!(
        (o.code(), o.stderr.as_str()),
        (1, "LDom guest2 is already active\n")
    );
    let o = run(&s, "cd1", "ldm stop-domain guest2");
    assert_eq!(
        (o.code(), o.stderr.as_str()),
        (1, "LDom guest2 does not exist\n")
    );
}

#[test]
fn spconfig_list_and_remove() {
    let s = site(None);
    let expected = "factory-default\nconfig_initial\nconfig_20261001 [current] [next poweron]\n";
    for alias in ["list-spconfig", "ls-spconfig", "list-config"] {
        assert_eq!(ok(&s, "cd1", &format!("ldm {alias}")), expected);
    }
    let o = run(&s, "cd1", "ldm remove-spconfig nosuch");
    assert_eq!(
        (o.code(), o.stderr.as_str()),
        (1, "The configuration nosuch does not exist\n")
    );
    let o = run(&s, "cd1", "ldm rm-spconfig factory-default");
    assert_eq!(o.code(), 1);
    assert_eq!(ok(&s, "cd1", "ldm remove-spconfig config_initial"), "");
    assert_eq!(
        ok(&s, "cd1", "ldm list-spconfig"),
        "factory-default\nconfig_20261001 [current] [next poweron]\n"
    );
    // ldm itself lets the current one go (the tool must not do it).
    assert_eq!(ok(&s, "cd1", "ldm rm-spconfig config_20261001"), "");
    assert_eq!(ok(&s, "cd1", "ldm list-spconfig"), "factory-default\n");
    // The other control domains are untouched.
    assert_eq!(ok(&s, "cd2", "ldm list-spconfig"), expected);
    assert_eq!(ok(&s, "cd1", "ldm add-spconfig config_new"), "");
    assert_eq!(
        ok(&s, "cd1", "ldm list-spconfig"),
        "factory-default\nconfig_new [current] [next poweron]\n"
    );
}

#[test]
fn cluster_commands_on_the_guests() {
    let s = site(None);
    let cftool = "Node     Number State       Os      Cpu\n\
                  cfguest1 1      UP          Solaris Sparc\n\
                  cfguest2 2      UP          Solaris Sparc\n";
    assert_eq!(ok(&s, "guest1", "LC_ALL=C /opt/SMAW/bin/cftool -n"), cftool);
    assert_eq!(ok(&s, "guest2", "cftool -n"), cftool);
    assert_eq!(
        ok(&s, "guest1", "LC_ALL=C /opt/SMAW/bin/cfset -a"),
        "From cfset configuration in CF module:\n\
         KEY: CFCP VALUE: cfcp\n\
         KEY: CFSH VALUE: cfsh\n\
         KEY: CLUSTER_TIMEOUT VALUE: 10\n\
         KEY: CFRECVBUFS VALUE: 32\n"
    );
    assert_eq!(
        ok(&s, "guest1", "cfset -g CLUSTER_TIMEOUT"),
        "From cfset configuration in CF module:\nKEY: CLUSTER_TIMEOUT VALUE: 10\n"
    );
    let sd = MANUAL_SDTOOL.to_string();
    assert_eq!(
        ok(&s, "guest2", "sdtool -s"),
        sd,
        "before the move every agent works too"
    );
    assert_eq!(
        ok(&s, "guest1", "/etc/opt/FJSVcluster/bin/clsnmpsetup -l"),
        MANUAL_CLSNMPSETUP.replace(
            "cfguest2           1        guest2       10.20.30.73     10.20.40.73",
            "cfguest2           0        guest2       10.20.30.72     10.20.40.72"
        )
    );
    assert_eq!(
        ok(
            &s,
            "guest1",
            "LC_ALL=C /opt/SMAW/bin/hvdisp -T userApplication"
        ),
        "Local System:  cfguest1RMS\n\
         Configuration: /opt/SMAW/SMAWRrms/build/config.us\n\
         \n\
         Resource            Type    HostName            State        StateDetails\n\
         -----------------------------------------------------------------------------\n\
         app1                userApp                     Online\n"
    );
    assert!(ok(&s, "guest2", "hvdisp -T userApplication")
        .ends_with("app1                userApp                     Offline\n"));
    let o = run(&s, "guest1", "sdtool -e; sdtool -s");
    assert_eq!(
        (o.code(), o.stderr.as_str()),
        (1, "sdtool: The RCSD is not running\n")
    );
    assert_eq!(
        sd_states(&s, "guest2", "cfguest1")[0].0,
        "TestWorked",
        "sdtool -e is local to the node"
    );
    ok(&s, "guest1", "sdtool -b");
    assert_eq!(
        sd_states(&s, "guest1", "cfguest1")[0],
        ("Unknown".to_string(), "Unknown".to_string())
    );
}

#[test]
fn log_files_wc_tail_cat() {
    let s = site(None);
    let messages = ok(&s, "guest2", "cat /var/adm/messages");
    assert!(messages.lines().count() >= 5);
    assert!(
        messages.contains(" guest2 sshd[7245]: [ID 800047 auth.info] Accepted publickey for root")
    );
    assert!(!messages.contains(":7245:"));
    assert_eq!(
        ok(&s, "guest2", "wc -c /var/adm/messages"),
        format!("{:>8} /var/adm/messages\n", messages.len())
    );
    assert_eq!(ok(&s, "guest2", "tail -c +1 /var/adm/messages"), messages);
    assert_eq!(
        ok(&s, "guest2", "tail -c +11 /var/adm/messages"),
        &messages[10..]
    );
    let past_end = format!("tail -c +{} /var/adm/messages", messages.len() + 1);
    assert_eq!(ok(&s, "guest2", &past_end), "");
    assert_eq!(
        ok(&s, "guest2", "tail -c 5 /var/adm/messages"),
        &messages[messages.len() - 5..]
    );
    let last = messages.lines().last().expect("a line");
    assert_eq!(
        ok(&s, "guest2", "tail -1 /var/adm/messages"),
        format!("{last}\n")
    );
    assert_eq!(
        ok(&s, "guest2", "tail -n 1 /var/adm/messages"),
        format!("{last}\n")
    );
    let switchlog = ok(&s, "guest1", "cat /var/opt/SMAWRrms/log/switchlog");
    assert!(switchlog.starts_with(
        "2026-11-20 00:01:01.118:(BM, 48): NOTICE: RMS monitor has been started on cfguest1RMS.\n"
    ));
    for (line, err) in [
        (
            "wc -c /var/adm/nosuch",
            "wc: cannot open /var/adm/nosuch: No such file or directory\n",
        ),
        (
            "cat /nosuch",
            "cat: cannot open /nosuch: No such file or directory\n",
        ),
        (
            "tail -c +1 /nosuch",
            "tail: cannot open input /nosuch: No such file or directory\n",
        ),
    ] {
        let o = run(&s, "guest1", line);
        assert_eq!(
            (o.code(), o.stdout.as_str(), o.stderr.as_str()),
            (2, "", err),
            "{line}"
        );
    }
}

#[test]
fn host_identity_and_name_service() {
    let s = site(None);
    assert_eq!(ok(&s, "guest2", "hostname"), "guest2\n");
    assert_eq!(
        ok(&s, "cd3", "uname -a"),
        "SunOS cd3 5.11 11.4.42.111.0 sun4v sparc ORCL,SPARC64-X\n"
    );
    assert_eq!(ok(&s, "cd3", "uname"), "SunOS\n");
    assert_eq!(ok(&s, "cd2", "getent hosts cd3"), "192.0.2.13\tcd3\n");
    assert_eq!(
        ok(&s, "cd2", "/usr/bin/getent hosts 192.0.2.11"),
        "192.0.2.11\tcd1\n"
    );
    let o = run(&s, "cd2", "getent hosts cd9");
    assert_eq!(
        (o.code(), o.stdout.as_str(), o.stderr.as_str()),
        (2, "", "")
    );
    assert!(ok(&s, "cd1", "cat /etc/inet/hosts").contains("192.0.2.12\tcd2\n"));
    assert_eq!(
        ok(&s, "cd1", "cat /etc/hosts"),
        ok(&s, "cd1", "cat /etc/inet/hosts")
    );
}

#[test]
fn known_hosts_lookup() {
    let s = site(None);
    for addr in [
        "10.20.30.71",
        "10.20.40.71",
        "10.20.30.72",
        "10.20.40.72",
        "10.20.30.73",
        "10.20.40.73",
    ] {
        let out = ok(&s, "guest1", &format!("ssh-keygen -F {addr}"));
        let mut lines = out.lines();
        let head = lines.next().expect("head");
        assert!(
            head.starts_with(&format!("# Host {addr} found: line ")),
            "{head}"
        );
        assert!(lines
            .next()
            .expect("key")
            .starts_with(&format!("{addr} ssh-rsa AAAA")));
    }
    let o = run(&s, "guest1", "ssh-keygen -F 10.20.30.99");
    assert_eq!((o.code(), o.stdout.as_str()), (1, ""));
    assert!(ok(
        &s,
        "guest2",
        "ssh-keygen -F 10.20.40.72 -f /root/.ssh/known_hosts"
    )
    .contains("found: line 4"));
}

#[test]
fn migration_dry_run_and_errors() {
    let s = site(None);
    let o = run(
        &s,
        "cd2",
        "LC_ALL=C /usr/sbin/ldm migrate-domain -n guest2 cd3",
    );
    assert_eq!(
        (o.code(), o.stdout.as_str(), o.stderr.as_str()),
        (0, "", "")
    );
    // `-p FILE`: ldm reads the password from FILE on the control domain; no file, no
    // migration (not even the dry run).
    let o = run(
        &s,
        "cd2",
        "ldm migrate -n -p /tmp/pw guest2 root@192.0.2.13",
    );
    assert_eq!(o.code(), 1, "{}", o.stderr);
    assert!(
        o.stderr
            .starts_with("Unable to read the password from file /tmp/pw"),
        "{}",
        o.stderr
    );
    let o = s.exec_line_with_stdin("cd2", "dd of=/tmp/pw", Some(b"secret\n"));
    assert_eq!(o.code(), 0, "{}", o.stderr);
    assert_eq!(
        ok(
            &s,
            "cd2",
            "ldm migrate -n -p /tmp/pw guest2 root@192.0.2.13"
        ),
        ""
    );
    let cases = [
        ("ldm migrate-domain guest1 cd3", "LDom guest1 does not exist\n"),
        ("ldm migrate-domain guest9 cd3", "LDom guest9 does not exist\n"),
        (
            "ldm migrate-domain guest2 cd2",
            "Target host cd2 is the source machine: a domain cannot be migrated to its own machine\n",
        ),
    ];
    for (line, err) in cases {
        let o = run(&s, "cd2", line);
        assert_eq!((o.code(), o.stderr.as_str()), (1, err), "{line}");
    }
    let o = run(&s, "cd2", "ldm migrate-domain guest2 cd9");
    assert_eq!(o.code(), 1);
    assert!(o
        .stderr
        .starts_with("Failed to establish connection with ldmd(1m) on target: cd9\n"));
    // Nothing moved, no time passed.
    assert_eq!(elapsed(&s), 0);
    assert!(ldm_record(&s, "cd2", "guest2").is_some());
}

#[test]
fn live_migration_takes_90_seconds_and_moves_the_guest() {
    let s = site(None);
    assert_eq!(
        ok(
            &s,
            "cd2",
            "LC_ALL=C /usr/sbin/ldm migrate-domain guest2 cd3"
        ),
        ""
    );
    assert_eq!(elapsed(&s), 90);
    assert_eq!(ldm_record(&s, "cd2", "guest2"), None);
    assert_eq!(
        ldm_record(&s, "cd3", "guest2").as_deref(),
        Some("DOMAIN|name=guest2|state=active|flags=-n----|cons=5000|ncpu=8|mem=8589934592|util=0.8|uptime=86490")
    );
    // Without the time-sync fault no warnings are written.
    assert!(!ok(
        &s,
        "guest1",
        "cat /var/opt/SMAWRrms/log/switchlog /var/adm/messages"
    )
    .contains("(WRP"));
    // Migrating back names cd2 by address.
    assert_eq!(ok(&s, "cd3", "ldm migrate guest2 192.0.2.12"), "");
    assert!(ldm_record(&s, "cd2", "guest2").is_some());
}

#[test]
fn clovmmigrate_prepare_and_update() {
    let s = site(None);
    assert_eq!(
        ok(&s, "cd2", "/etc/opt/FJSVcluster/bin/clovmmigrate -p guest2"),
        "clovmmigrate: the cluster interconnect timeout was changed to 600 seconds on cfguest1, cfguest2.\n\
         clovmmigrate: the shutdown facility was stopped on cfguest1, cfguest2.\n"
    );
    for g in ["guest1", "guest2"] {
        assert!(ok(&s, g, "cfset -a").contains("KEY: CLUSTER_TIMEOUT VALUE: 600\n"));
        let o = run(&s, g, "/opt/SMAW/bin/sdtool -s");
        assert_eq!(
            (o.code(), o.stdout.as_str(), o.stderr.as_str()),
            (1, "", "sdtool: The RCSD is not running\n")
        );
    }
    // Wrong control domain, unknown guest, bad usage.
    for (host, line) in [
        ("cd1", "/etc/opt/FJSVcluster/bin/clovmmigrate -p guest2"),
        ("cd2", "/etc/opt/FJSVcluster/bin/clovmmigrate -p guest9"),
        ("cd2", "/etc/opt/FJSVcluster/bin/clovmmigrate -x"),
        ("cd2", "/etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd9"),
        ("cd1", "/etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd3"),
    ] {
        let o = run(&s, host, line);
        assert_eq!(o.code(), 1, "{host}$ {line}");
        assert!(!o.stderr.is_empty(), "{host}$ {line}");
    }
    ok(&s, "cd2", "ldm migrate-domain guest2 cd3");
    let out = ok(
        &s,
        "cd2",
        "/etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd3",
    );
    assert!(out.contains("changed to 10 seconds"), "{out}");
    assert!(ok(&s, "guest1", "cfset -a").contains("KEY: CLUSTER_TIMEOUT VALUE: 10\n"));
    // The configurations were saved in place: the counts did not change.
    for cd in ["cd2", "cd3"] {
        assert_eq!(ok(&s, cd, "ldm list-spconfig").lines().count(), 3);
    }
    // A second -u is harmless.
    ok(
        &s,
        "cd2",
        "/etc/opt/FJSVcluster/bin/clovmmigrate -u guest2 cd3",
    );
    assert!(ok(&s, "guest2", "cfset -a").contains("VALUE: 10\n"));
}

#[test]
fn a_wrong_update_target_really_points_fencing_at_the_wrong_box() {
    let s = site(None);
    ok(&s, "cd2", "clovmmigrate -p guest2");
    ok(&s, "cd2", "ldm migrate-domain guest2 cd3");
    // The operator names cd1 (box1, PPAR 0) although guest2 now runs on cd3.
    ok(&s, "cd2", "clovmmigrate -u guest2 cd1");
    sleep(&s, 30);
    let out = ok(&s, "guest2", "/etc/opt/FJSVcluster/bin/clsnmpsetup -l");
    assert!(
        out.contains("xscf        cfguest2           0        guest2       10.20.30.71     10.20.40.71     xuser          ssh\n"),
        "{out}"
    );
    // The agents' test only reaches the XSCF: it does not notice the wrong PPAR.
    assert_eq!(ok(&s, "guest1", "sdtool -s"), MANUAL_SDTOOL);
}

#[test]
fn inventory_describes_the_site_as_a_user_would() {
    let s = site(None);
    assert_eq!(s.driver(), "ldoms");
    assert_eq!(s.hosts(), ["cd1", "cd2", "cd3", "guest1", "guest2"]);
    let inv = s.inventory_toml();
    assert!(inv.starts_with(
        "driver = \"ldoms\"\ndescription = \"simulated LDoms site (default)\"\n\n[defaults]\ntransport = \"sim\"\nuser = \"root\"\n\n[ldoms]\ncf_timeout = 10\nxscf_user = \"xuser\"\n"
    ), "{inv}");
    assert!(inv.contains(
        "[[host]]\nname = \"cd3\"\nrole = \"control-domain\"\naddress = \"192.0.2.13\"\nhosts_name = \"cd3\"\nbox = \"box3\"\nppar_id = 1\nxscf = [\"10.20.30.73\", \"10.20.40.73\"]\n"
    ), "{inv}");
    assert!(
        inv.ends_with(
            "[[host]]\nname = \"guest2\"\nrole = \"guest-domain\"\ndomain = \"guest2\"\n"
        ),
        "{inv}"
    );
    let parsed: toml::Table = toml::from_str(&inv).expect("valid TOML");
    let hosts = parsed["host"].as_array().expect("hosts");
    assert_eq!(hosts.len(), 5);
    assert_eq!(hosts[1]["ppar_id"].as_integer(), Some(0));
    assert_eq!(hosts[1]["xscf"].as_array().map(|a| a.len()), Some(2));
}
