//! The seeding of a Serviceguard site from a real site's reads.

use super::*;
use crate::seed::DeclaredHost;
use crate::SimSite;

const CONF: &str = "/etc/cmcluster/slvm1/slvm1.conf";

fn declared() -> Declared {
    declared_for(&[
        "node1".to_string(),
        "node2".into(),
        "slvm1".into(),
        "slvm2".into(),
    ])
}

/// `node*` hosts are VM hosts, the others guests named after their VM.
fn declared_for(hosts: &[String]) -> Declared {
    Declared {
        hosts: hosts
            .iter()
            .map(|name| {
                let node = name.starts_with("node");
                DeclaredHost {
                    name: name.clone(),
                    role: if node { "vm-host" } else { "vm-guest" }.into(),
                    domain: (!node).then(|| name.clone()),
                    ..DeclaredHost::default()
                }
            })
            .collect(),
        cluster: Some("cluster1".into()),
        ..Declared::default()
    }
}

fn line(argv: &[&str]) -> String {
    hascript_api::Command::read("x", argv).line()
}

fn all_reads() -> Vec<(&'static str, Vec<&'static str>)> {
    all_reads_on(&["node1", "node2"])
}

/// The reads the hpvm procedures make, and more, on every host they concern.
fn all_reads_on(nodes: &[&'static str]) -> Vec<(&'static str, Vec<&'static str>)> {
    let mut v: Vec<(&str, Vec<&str>)> =
        vec![("node1", vec!["/usr/sbin/cmviewcl", "-v", "-f", "line"])];
    for n in nodes.iter().copied() {
        for argv in [
            vec!["/opt/hpvm/bin/hpvmstatus"],
            vec!["/opt/hpvm/bin/hpvmstatus", "-P", "slvm1"],
            vec!["/opt/hpvm/bin/hpvmstatus", "-P", "slvm2"],
            vec!["cat", CONF],
            vec!["ls", "-ld", "/etc/cmcluster"],
            vec!["ls", "-ld", "/etc/cmcluster/slvm1"],
            vec!["ls", "-lA", "/etc/cmcluster/slvm1"],
            vec!["ls", "-ld", "/etc/cmcluster/slvm1/vtn.debug"],
            vec!["ls", "-ld", "/etc/cmcluster/slvm2"],
            vec!["ls", "-ld", "/etc/cmcluster/cmappmgr/client.private"],
            vec![
                "od",
                "-A",
                "n",
                "-v",
                "-t",
                "x1",
                "/etc/cmcluster/cmappmgr/client.public",
            ],
            vec!["cat", "/etc/cmappmgr.conf"],
            vec!["/usr/sbin/swlist", "-l", "product", "T8718AC"],
            vec!["/usr/sbin/swlist", "-l", "product", "SG-IVS-Toolkit"],
            vec!["/usr/sbin/vgdisplay", "vg_slvm2"],
            vec!["wc", "-c", "/var/adm/syslog/syslog.log"],
        ] {
            v.push((n, argv));
        }
    }
    v.push(("slvm1", vec!["ps", "-ef"]));
    v.push(("slvm2", vec!["ps", "-ef"]));
    v.push(("slvm1", vec!["cat", "/opt/hp/cmappserver/cmappserver.conf"]));
    v
}

fn observe(site: &SimSite, reads: &[(&str, Vec<&str>)]) -> Vec<Observation> {
    reads
        .iter()
        .map(|(host, argv)| {
            let l = line(argv);
            let o = site.exec_line(host, &l);
            Observation {
                host: host.to_string(),
                line: l,
                exit: o.code(),
                stdout: o.stdout,
            }
        })
        .collect()
}

fn copy_of(site: &SimSite, obs: &[Observation]) -> SimSite {
    SimSite::seeded("hpvm", &declared(), obs, site.clock().now())
        .unwrap_or_else(|e| panic!("seeding: {e}"))
}

/// `(exit, stdout, stderr)` of `argv` on `host`.
fn ask(site: &SimSite, host: &str, argv: &[&str]) -> (i32, String, String) {
    let o = site.exec_line(host, &line(argv));
    (o.code(), o.stdout, o.stderr)
}

/// Why the copy cannot answer `argv` on `host` (panics when it answers).
fn unknown(copy: &SimSite, host: &str, argv: &[&str]) -> String {
    let (code, out, err) = ask(copy, host, argv);
    assert_eq!(code, 255, "{argv:?} on {host} was answered: {out}{err}");
    assert!(err.contains("cannot tell"), "{err}");
    err
}

fn same_reads(site: &SimSite, copy: &SimSite, when: &str) {
    for (host, argv) in all_reads() {
        assert_eq!(
            ask(copy, host, &argv),
            ask(site, host, &argv),
            "{when}: {argv:?} on {host}"
        );
    }
}

#[test]
fn a_copy_seeded_from_the_default_sites_reads_answers_them_the_same() {
    let site = SimSite::new(Some("hpvm")).expect("site");
    let obs = observe(&site, &all_reads());
    let copy = copy_of(&site, &obs);
    assert!(copy.is_seeded());
    same_reads(&site, &copy, "seeded");
}

#[test]
fn every_scenarios_reads_seed_a_copy_that_answers_them_the_same() {
    for sc in crate::scenarios()
        .iter()
        .filter(|s| s.name.starts_with("hpvm/"))
    {
        let site = SimSite::new(Some(&sc.name)).expect("site");
        let hosts = site.hosts();
        let nodes: Vec<&'static str> = ["node1", "node2", "node3"]
            .into_iter()
            .filter(|n| hosts.iter().any(|h| h == n))
            .collect();
        let mut reads = all_reads_on(&nodes);
        if sc.name.contains("nfs") {
            for n in &nodes {
                reads.push((n, vec!["/usr/bin/df", "-n", "/var/opt/hpvm/nfs/slvm1.img"]));
                reads.push((n, vec!["ls", "-ld", "/var/opt/hpvm/nfs/slvm1.img"]));
            }
        }
        let obs = observe(&site, &reads);
        match SimSite::seeded("hpvm", &declared_for(&hosts), &obs, site.clock().now()) {
            Ok(copy) if sc.name.contains("old-serviceguard") => {
                // cmviewcl -f line failed: the cluster's state stays unknown.
                let why = unknown(&copy, "node1", &["/usr/sbin/cmviewcl", "-v", "-f", "line"]);
                assert!(why.contains("cmviewcl -v -f line was not read"), "{why}");
            }
            Ok(copy) => {
                // The package check reads the folders' modes the reads saw.
                let check = ["/usr/sbin/cmcheckconf", "-P", CONF];
                assert_eq!(
                    ask(&copy, "node1", &check),
                    ask(&site, "node1", &check),
                    "{}: cmcheckconf",
                    sc.name
                );
                for (host, argv) in &reads {
                    assert_eq!(
                        ask(&copy, host, argv),
                        ask(&site, host, argv),
                        "{}: {argv:?} on {host}",
                        sc.name
                    );
                }
            }
            Err(e) => panic!("{}: {e}", sc.name),
        }
    }
}

#[test]
fn the_copy_behaves_like_the_site_under_the_same_changes() {
    let site = SimSite::new(Some("hpvm")).expect("site");
    let obs = observe(&site, &all_reads());
    let copy = copy_of(&site, &obs);
    let changes: &[(&str, &[&str])] = &[
        (
            "node1",
            &[
                "/etc/cmcluster/scripts/tkit/vtn/cmmovevpkg",
                "-v",
                "-P",
                "slvm1",
                "-h",
                "node2",
            ],
        ),
        ("node1", &["/usr/sbin/cmhaltpkg", "slvm1"]),
        ("node1", &["/usr/sbin/cmrunpkg", "-n", "node1", "slvm1"]),
        ("node1", &["/usr/sbin/cmmodpkg", "-e", "slvm1"]),
        (
            "node1",
            &[
                "/etc/cmcluster/scripts/tkit/vtn/cmdeployvpkg",
                "-m",
                "1",
                "-P",
                "slvm1",
            ],
        ),
        ("node1", &["/opt/hpvm/bin/hpvmstop", "-P", "slvm1", "-F"]),
    ];
    for (host, argv) in changes {
        assert_eq!(ask(&copy, host, argv), ask(&site, host, argv), "{argv:?}");
        same_reads(&site, &copy, &format!("after {argv:?}"));
    }
    assert_eq!(copy.clock().now(), site.clock().now());
}

#[test]
fn what_was_not_read_is_unknown_and_the_reason_names_it() {
    let site = SimSite::new(Some("hpvm")).expect("site");
    // The reads of hpvm/maintenance before its first change.
    let obs = observe(
        &site,
        &[
            ("node1", vec!["/usr/sbin/cmviewcl", "-v", "-f", "line"]),
            ("node1", vec!["cat", CONF]),
            ("node1", vec!["ls", "-ld", "/etc/cmcluster/slvm1/vtn.debug"]),
        ],
    );
    let copy = copy_of(&site, &obs);
    let cmviewcl = ["/usr/sbin/cmviewcl", "-v", "-f", "line"];
    assert_eq!(
        ask(&copy, "node1", &cmviewcl),
        ask(&site, "node1", &cmviewcl)
    );
    assert_eq!(
        ask(&copy, "node1", &["cat", CONF]),
        ask(&site, "node1", &["cat", CONF])
    );
    // Known missing on the site: answered as missing.
    let vtn = ["ls", "-ld", "/etc/cmcluster/slvm1/vtn.debug"];
    assert_eq!(ask(&copy, "node1", &vtn), ask(&site, "node1", &vtn));
    // The package is up with its guest monitor up: the guest runs on node1. What it
    // is (disks, NICs) and where else it is registered was never read.
    let why = unknown(&copy, "node1", &["/opt/hpvm/bin/hpvmstatus", "-P", "slvm1"]);
    assert!(
        why.contains("hpvmstatus -P slvm1 was not read on any VM host"),
        "{why}"
    );
    let why = unknown(&copy, "node1", &["/opt/hpvm/bin/hpvmstatus"]);
    assert!(
        why.contains("hpvmstatus was not read on node1")
            || why.contains("not listed by hpvmstatus"),
        "{why}"
    );
    let mv = [
        "/etc/cmcluster/scripts/tkit/vtn/cmmovevpkg",
        "-v",
        "-P",
        "slvm1",
        "-h",
        "node2",
    ];
    let why = unknown(&copy, "node1", &mv);
    assert!(why.contains("storage and network are not known"), "{why}");
    // Running it again is known: it runs.
    let run = ["/usr/sbin/cmrunpkg", "-n", "node2", "slvm1"];
    assert_eq!(ask(&copy, "node1", &run), ask(&site, "node1", &run));
    let why = unknown(&copy, "node2", &["cat", CONF]);
    assert!(why.contains("never read"), "{why}");
    let why = unknown(&copy, "node1", &["ls", "-ld", "/etc/cmcluster/slvm1"]);
    assert!(
        why.contains("mode of folder /etc/cmcluster/slvm1 on node1"),
        "{why}"
    );
    let why = unknown(&copy, "node1", &["/usr/sbin/cmapplyconf", "-P", CONF]);
    assert!(why.contains("/etc/cmcluster/slvm1 on node2"), "{why}");
    let why = unknown(
        &copy,
        "node1",
        &["/usr/sbin/swlist", "-l", "product", "T8718AC"],
    );
    assert!(why.contains("T8718AC is installed on node1"), "{why}");
    unknown(&copy, "slvm1", &["ps", "-ef"]);
    // The maintenance change itself is known: the file, TKIT_DIR and the flag were read.
    let m = [
        "/etc/cmcluster/scripts/tkit/vtn/cmdeployvpkg",
        "-m",
        "1",
        "-P",
        "slvm1",
    ];
    assert_eq!(ask(&copy, "node1", &m), ask(&site, "node1", &m));
    let (code, ..) = ask(&copy, "node1", &vtn);
    assert_eq!(code, 0, "the copy made the maintenance file");
}

/// What the shipped procedures read after their first change, and which reads before
/// it would make that known: the move's verification needs the target's view of the
/// guest, package file and maintenance file; the halt's, the guest on every host.
#[test]
fn the_reads_a_preflight_could_add_make_the_whole_verification_known() {
    let cmviewcl = vec!["/usr/sbin/cmviewcl", "-v", "-f", "line"];
    let p1 = vec!["/opt/hpvm/bin/hpvmstatus", "-P", "slvm1"];
    let vtn = vec!["ls", "-ld", "/etc/cmcluster/slvm1/vtn.debug"];
    let sw = vec!["/usr/sbin/swlist", "-l", "product", "T8718AC"];
    let conf = vec!["cat", CONF];
    // What each procedure reads after its change (its verification and summary).
    let verify_move: Vec<(&str, Vec<&str>)> = vec![
        ("node1", p1.clone()),
        ("node2", p1.clone()),
        ("node1", cmviewcl.clone()),
        ("node2", conf.clone()),
        ("node2", vtn.clone()),
    ];
    let verify_halt: Vec<(&str, Vec<&str>)> = vec![
        ("node1", cmviewcl.clone()),
        ("node1", p1.clone()),
        ("node2", p1.clone()),
        ("node1", conf.clone()),
        ("node1", vtn.clone()),
    ];
    let mv = [
        "/etc/cmcluster/scripts/tkit/vtn/cmmovevpkg",
        "-v",
        "-P",
        "slvm1",
        "-h",
        "node2",
    ];
    let halt = ["/usr/sbin/cmhaltpkg", "slvm1"];
    let cases = [
        (
            &mv[..],
            vec![
                ("node1", cmviewcl.clone()),
                ("node1", conf.clone()),
                ("node1", p1.clone()),
                ("node1", vtn.clone()),
                ("node1", sw.clone()),
                ("node2", sw.clone()),
            ],
            // What hpvm/move-package does not read today:
            vec![
                ("node2", p1.clone()),
                ("node2", conf.clone()),
                ("node2", vtn.clone()),
            ],
            verify_move,
        ),
        (
            &halt[..],
            vec![
                ("node1", cmviewcl.clone()),
                ("node1", conf.clone()),
                ("node1", vtn.clone()),
            ],
            // What hpvm/halt-package does not read today:
            vec![("node1", p1.clone()), ("node2", p1.clone())],
            verify_halt,
        ),
    ];
    for (change, today, added, verify) in cases {
        let site = SimSite::new(Some("hpvm")).expect("site");
        let all: Vec<(&str, Vec<&str>)> = today.iter().chain(&added).cloned().collect();
        let copy = copy_of(&site, &observe(&site, &all));
        assert_eq!(ask(&copy, "node1", change), ask(&site, "node1", change));
        for (host, argv) in &verify {
            assert_eq!(
                ask(&copy, host, argv),
                ask(&site, host, argv),
                "after {change:?}: {argv:?} on {host}"
            );
        }
        // With today's reads only, the change is known but its verification is not.
        let site = SimSite::new(Some("hpvm")).expect("site");
        let copy = copy_of(&site, &observe(&site, &today));
        assert_eq!(ask(&copy, "node1", change), ask(&site, "node1", change));
        unknown(&copy, "node2", &p1);
    }
}

#[test]
fn a_guest_read_on_one_host_only_is_unknown_on_the_others() {
    let site = SimSite::new(Some("hpvm")).expect("site");
    let obs = observe(
        &site,
        &[
            ("node1", vec!["/usr/sbin/cmviewcl", "-v", "-f", "line"]),
            ("node1", vec!["/opt/hpvm/bin/hpvmstatus", "-P", "slvm1"]),
            (
                "node1",
                vec!["/usr/sbin/swlist", "-l", "product", "T8718AC"],
            ),
            (
                "node2",
                vec!["/usr/sbin/swlist", "-l", "product", "T8718AC"],
            ),
            ("node1", vec!["cat", CONF]),
        ],
    );
    let copy = copy_of(&site, &obs);
    let p1 = ["/opt/hpvm/bin/hpvmstatus", "-P", "slvm1"];
    assert_eq!(ask(&copy, "node1", &p1), ask(&site, "node1", &p1));
    let why = unknown(&copy, "node2", &p1);
    assert!(
        why.contains("whether guest slvm1 is registered on node2"),
        "{why}"
    );
    // The move itself is known (products on both ends, whole-disk storage).
    let mv = [
        "/etc/cmcluster/scripts/tkit/vtn/cmmovevpkg",
        "-v",
        "-P",
        "slvm1",
        "-h",
        "node2",
    ];
    assert_eq!(ask(&copy, "node1", &mv), ask(&site, "node1", &mv));
    assert_eq!(ask(&copy, "node1", &p1), ask(&site, "node1", &p1));
    // slvm2 was never asked about.
    unknown(&copy, "node1", &["/opt/hpvm/bin/hpvmstatus", "-P", "slvm2"]);
}

#[test]
fn sites_the_copy_cannot_represent_are_refused_with_the_reason() {
    let site = SimSite::new(Some("hpvm")).expect("site");
    let now = site.clock().now();
    let mut d = declared();
    d.hosts.retain(|h| h.role != "vm-host");
    let e = SimSite::seeded("hpvm", &d, &[], now).expect_err("no vm-host");
    assert!(e.to_string().contains("no vm-host"), "{e}");
    let mut obs = observe(
        &site,
        &[("node1", vec!["/usr/sbin/cmviewcl", "-v", "-f", "line"])],
    );
    let mut other = declared();
    other.cluster = Some("prod".into());
    let e = SimSite::seeded("hpvm", &other, &obs, now).expect_err("other cluster");
    assert!(e.to_string().contains("cluster prod"), "{e}");
    obs[0].stdout = obs[0]
        .stdout
        .replace("package:slvm1|state=running", "package:slvm1|state=halting");
    let e = SimSite::seeded("hpvm", &declared(), &obs, now).expect_err("halting");
    assert!(e.to_string().contains("package slvm1 is up/halting"), "{e}");
    obs[0].stdout = "this is not cmviewcl\n".into();
    let e = SimSite::seeded("hpvm", &declared(), &obs, now).expect_err("garbage");
    assert!(
        e.to_string().contains("cmviewcl -v -f line on node1"),
        "{e}"
    );
    // Nothing read at all: a copy that knows it knows nothing of the cluster.
    let copy = SimSite::seeded("hpvm", &declared(), &[], now).expect("empty copy");
    let why = unknown(&copy, "node1", &["/usr/sbin/cmviewcl", "-v", "-f", "line"]);
    assert!(why.contains("cmviewcl -v -f line was not read"), "{why}");
}

#[test]
fn unreadable_answers_are_gaps_and_nothing_panics() {
    let site = SimSite::new(Some("hpvm")).expect("site");
    let now = site.clock().now();
    let good = observe(&site, &all_reads());
    let mut bad = good.clone();
    for o in bad.iter_mut().filter(|o| {
        o.line.contains("hpvmstatus -P slvm1")
            || o.line.contains("ps -ef")
            || o.line.contains("ls -l")
    }) {
        o.stdout = "garbage that no parser reads\n".into();
    }
    let copy = SimSite::seeded("hpvm", &declared(), &bad, now).expect("seeded");
    let why = unknown(&copy, "node1", &["/opt/hpvm/bin/hpvmstatus", "-P", "slvm1"]);
    assert!(why.contains("cannot read"), "{why}");
    let why = unknown(&copy, "slvm1", &["ps", "-ef"]);
    assert!(why.contains("cannot read"), "{why}");
    // Every answer cut short anywhere, or with a byte changed: Ok or Err, never a panic.
    for i in 0..good.len() {
        let text = good[i].stdout.clone();
        let step = (text.len() / 12).max(1);
        let mut cuts: Vec<usize> = (0..text.len()).step_by(step).collect();
        cuts.push(text.len().saturating_sub(1));
        for cut in cuts {
            let Some(head) = text.get(..cut) else {
                continue;
            };
            for tail in ["", " (=\u{0}", "\n==== ==\n[x]\n"] {
                let mut obs = good.clone();
                obs[i].stdout = format!("{head}{tail}");
                let _ = super::seed(&declared(), &obs, now.as_millis() as u64);
            }
        }
    }
}
