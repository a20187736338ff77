//! Issue 13: `cmdeployvpkg`'s file as the SG IVS guide's Appendix A shows it, and what
//! hpvm/deploy-package does about what `cmdeployvpkg` leaves out (§4: volume groups to
//! review, tapes/DVDs/burners/changers; §8: NFS backing stores), through the binary against
//! the simulator: exit codes, what is printed, the commands sent and the files left.

mod sim_support;

use sim_support::{run, Run, Site};

const CONF2: &str = "/etc/cmcluster/slvm2/slvm2.conf";

fn stdout_of(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `path` on `host`, each line's words joined by one space (comments and blanks kept).
fn file_lines(site: &Site, host: &str, path: &str) -> Vec<String> {
    let o = site.exec(host, &["cat", path]);
    assert_eq!(o.status.code(), Some(0), "{host}: no {path}");
    stdout_of(&o)
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

fn pos(lines: &[String], line: &str) -> usize {
    lines
        .iter()
        .position(|l| l == line)
        .unwrap_or_else(|| panic!("no `{line}` in\n{}", lines.join("\n")))
}

fn changes_named(r: &Run, program: &str) -> Vec<String> {
    r.changes()
        .into_iter()
        .filter(|l| l.contains(program))
        .collect()
}

/// The index in the run's command log of the first line containing `what`.
fn sent_at(r: &Run, what: &str) -> usize {
    r.log
        .iter()
        .position(|l| l.contains(what))
        .unwrap_or_else(|| panic!("nothing sent with {what}: {}", r.dump()))
}

/// Every line of the run's command log containing `what` (reads and writes alike: the
/// package file's write is `sh -c '… mv -f F.hascript F'`).
fn sent_named(r: &Run, what: &str) -> Vec<String> {
    r.log.iter().filter(|l| l.contains(what)).cloned().collect()
}

const WRITE2: &str =
    "mv -f /etc/cmcluster/slvm2/slvm2.conf.hascript /etc/cmcluster/slvm2/slvm2.conf";

/// Appendix A: a guest on shared LVM gets the dependency block on `hpvm_slvm` after
/// `failback_policy`, before the toolkit parameters; the guest's volume group, which the
/// generated file lacks, is added on every member after confirmation (`--yes`) before
/// `cmapplyconf`.
#[test]
fn deploy_writes_the_dependency_block_and_adds_the_guests_volume_group() {
    let (r, site) = run("hpvm/deploy-package", None, &["package=slvm2"], &["--yes"]);
    assert_eq!(r.code, 0, "{}", r.dump());
    for host in ["node1", "node2"] {
        let l = file_lines(&site, host, CONF2);
        let fb = pos(&l, "failback_policy manual");
        let dn = pos(&l, "dependency_name hpvm_slvm");
        let dc = pos(&l, "dependency_condition hpvm_slvm = up");
        let dl = pos(&l, "dependency_location same_node");
        let tk = pos(&l, "tkit/vtn/vtn/TKIT_DIR /etc/cmcluster/slvm2");
        assert!(fb < dn && dn < dc && dc < dl && dl < tk, "{host}: {l:?}");
        assert_eq!(
            l.iter().filter(|x| *x == "vg vg_slvm2").count(),
            1,
            "{host}: {l:?}"
        );
    }
    // The vg line is written after cmdeployvpkg and before the check and the apply.
    let deployed = sent_at(&r, "cmdeployvpkg -Q -P slvm2");
    let written = sent_at(&r, WRITE2);
    let checked = sent_at(&r, "cmcheckconf -P /etc/cmcluster/slvm2/slvm2.conf");
    let applied = sent_at(&r, "cmapplyconf -P /etc/cmcluster/slvm2/slvm2.conf");
    assert!(
        deployed < written && written < checked && checked < applied,
        "{}",
        r.dump()
    );
    assert_eq!(
        sent_named(&r, WRITE2).len(),
        2,
        "one write per member: {}",
        r.dump()
    );
    assert!(r.all().contains("vg vg_slvm2"), "{}", r.dump());
}

/// Declined (no terminal, no `--yes`): nothing is added or applied, exit 5, and the
/// message says which `vg` line to add by hand.
#[test]
fn deploy_declining_the_volume_group_applies_nothing_and_says_what_to_add() {
    let (r, site) = run("hpvm/deploy-package", None, &["package=slvm2"], &[]);
    assert_eq!(r.code, 5, "{}", r.dump());
    assert!(r.stderr.contains("`vg vg_slvm2`"), "{}", r.dump());
    assert_eq!(
        changes_named(&r, "cmdeployvpkg -Q -P slvm2").len(),
        1,
        "{}",
        r.dump()
    );
    assert!(sent_named(&r, WRITE2).is_empty(), "{}", r.dump());
    for c in ["cmapplyconf", "cmrunpkg", "cmmodpkg"] {
        assert!(changes_named(&r, c).is_empty(), "{c}: {}", r.dump());
    }
    let l = file_lines(&site, "node1", CONF2);
    assert!(!l.iter().any(|x| x.starts_with("vg ")), "{l:?}");
}

/// Appendix A writes the monitor's `service_cmd` without quotes; the summary of
/// `cmdeployvpkg -x appmon` has the `Application timeout:` line; the driver still reads
/// the unquoted command (add-app-monitor re-checks the service it asked for).
#[test]
fn monitor_service_cmd_is_unquoted_and_the_summary_has_the_application_timeout() {
    let site = Site::new(Some("hpvm"));
    let o = site.exec(
        "node1",
        &[
            "/etc/cmcluster/scripts/tkit/vtn/cmdeployvpkg",
            "-Q",
            "-P",
            "slvm1",
            "-x",
            "merge",
            "-x",
            "appmon=ping_mon:/apps/ping_mon:15:none:300",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout_of(&o));
    let out = stdout_of(&o);
    let summary: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("You have enter the following"))
        .take(6)
        .collect();
    assert_eq!(
        summary[1..],
        [
            "Name: ping_mon",
            "Run command: /apps/ping_mon",
            "Application timeout: 15",
            "Service restart: none",
            "Service halt timeout: 300"
        ],
        "{out}"
    );
    let raw = stdout_of(&site.exec("node1", &["cat", "/etc/cmcluster/slvm1/slvm1.conf"]));
    let cmd_line = raw
        .lines()
        .find(|l| l.contains("-service /apps/ping_mon"))
        .unwrap_or_else(|| panic!("{raw}"));
    assert_eq!(
        cmd_line.split_whitespace().collect::<Vec<_>>().join(" "),
        "service_cmd /usr/sbin/cmappmgr -node slvm1 -cmappserver_timeout 15 -service /apps/ping_mon",
        "{raw}"
    );
    // The guest monitor's command keeps its quotes, as in Appendix A.
    assert!(
        raw.lines().any(|l| l.starts_with("service_cmd")
            && l.ends_with("\"$SGCONF/scripts/tkit/vtn/tkit_module.sh guest_monitor\"")),
        "{raw}"
    );

    // Through the tool: cmdeployvpkg -x merge writes it unquoted and the run reads it back.
    let r = site.run(
        "hpvm/add-app-monitor",
        &[
            "package=slvm1",
            "appmon=xclock:/usr/bin/X11/xclock:240:3:300",
        ],
        &["--yes"],
    );
    assert_eq!(r.code, 0, "{}", r.dump());
    let l = file_lines(&site, "node2", "/etc/cmcluster/slvm1/slvm1.conf");
    pos(
        &l,
        "service_cmd /usr/sbin/cmappmgr -node slvm1 -cmappserver_timeout 240 -service /usr/bin/X11/xclock",
    );
}

/// §3 table 2: `modules/tkit/vtn/vtn` is a symbolic link to `vtn.1`.
#[test]
fn the_toolkit_module_vtn_is_a_link_to_vtn_1() {
    let site = Site::new(Some("hpvm"));
    let o = site.exec(
        "node1",
        &["/usr/bin/ls", "-l", "/etc/cmcluster/modules/tkit/vtn"],
    );
    assert_eq!(o.status.code(), Some(0));
    let ls = stdout_of(&o);
    let vtn = ls
        .lines()
        .find(|l| l.contains(" vtn ->"))
        .unwrap_or_else(|| panic!("{ls}"));
    assert!(vtn.starts_with('l'), "{ls}");
    assert!(vtn.ends_with(" vtn -> vtn.1"), "{ls}");
    assert!(ls.lines().any(|l| l.ends_with(" vtn.1")), "{ls}");
    let through = site.exec("node1", &["cat", "/etc/cmcluster/modules/tkit/vtn/vtn"]);
    let target = site.exec("node1", &["cat", "/etc/cmcluster/modules/tkit/vtn/vtn.1"]);
    assert_eq!(through.status.code(), Some(0));
    assert_eq!(stdout_of(&through), stdout_of(&target));
    assert!(!stdout_of(&target).is_empty());
}

/// §4 note: cmdeployvpkg does not put tapes, DVDs, burners or changers in the package
/// file; the deployment warns for each one `hpvmstatus -P` lists, and goes on.
#[test]
fn deploy_warns_that_tapes_and_dvds_are_not_in_the_package_file() {
    let (r, site) = run(
        "hpvm/deploy-package",
        Some("hpvm/attached-devices"),
        &["package=slvm2"],
        &["--yes"],
    );
    assert_eq!(r.code, 0, "{}", r.dump());
    let out = r.all();
    for dev in [
        "tape (disk /dev/rtape/tape1_BESTn)",
        "dvd (disk /dev/rdisk/disk200)",
    ] {
        assert!(
            out.lines()
                .any(|l| l.contains("warning") && l.contains(dev) && l.contains("not put")),
            "{dev}: {out}"
        );
    }
    let l = file_lines(&site, "node1", CONF2);
    assert!(
        !l.iter()
            .any(|x| x.contains("rtape") || x.contains("disk200")),
        "{l:?}"
    );
    assert_eq!(changes_named(&r, "cmrunpkg").len(), 1, "{}", r.dump());
}

/// §8: cmdeployvpkg does not add an NFS backing store to the file. The guest whose disk is
/// a file on NFS is not applied nor started: exit 3 after cmdeployvpkg, with the entries
/// to add (fs_name/fs_server/fs_directory/fs_type nfs from `df -n`), nothing else sent.
#[test]
fn deploy_refuses_to_apply_a_guest_on_nfs_until_the_nfs_entry_is_in_the_file() {
    let (r, site) = run(
        "hpvm/deploy-package",
        Some("hpvm/nfs-backing-store"),
        &["package=slvm1", "replace=yes"],
        &["--yes"],
    );
    assert_eq!(r.code, 3, "{}", r.dump());
    assert_eq!(
        changes_named(&r, "cmdeployvpkg -Q -P slvm1").len(),
        1,
        "{}",
        r.dump()
    );
    for c in [
        "cmcheckconf",
        "cmapplyconf",
        "cmrunpkg",
        "cmmodpkg",
        "cmhaltpkg",
    ] {
        assert!(changes_named(&r, c).is_empty(), "{c}: {}", r.dump());
    }
    assert!(
        r.log
            .iter()
            .any(|l| l.contains("df -n /var/opt/hpvm/nfs/slvm1.img")),
        "{}",
        r.dump()
    );
    let err = &r.stderr;
    for w in [
        "fs_name /export/hpvm",
        "fs_server nfsserver",
        "fs_directory /var/opt/hpvm/nfs",
        "fs_type nfs",
        "sg/filesystem",
        "§8",
    ] {
        assert!(err.contains(w), "{w}: {}", r.dump());
    }
    let l = file_lines(&site, "node1", "/etc/cmcluster/slvm1/slvm1.conf");
    assert!(!l.iter().any(|x| x.starts_with("fs_type")), "{l:?}");
}
