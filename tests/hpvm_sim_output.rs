//! The simulated Serviceguard site prints what real hosts print (issue 13, "the simulator,
//! closer to real output"), and the driver reads it: `hpvmstatus -P` with its
//! `[Authorized Administrators]`, `[Virtual CPU Details]`, `[Memory Details]` and
//! `[Misc Interface Details]` sections and `dvd`/`avio_stor` rows at their own addresses;
//! `cmviewcl -v -f line` with `summary=degraded`, interface, script and `group:…|member:…`
//! lines; `hpvmmigrate`'s "Target VM Host error - vswitch validation failed." reaching the
//! move's preflight. Everything goes through the binary: `hascript sim exec` for the
//! output, `hascript parse` for the driver's parsers, `hascript run` for the procedures.

mod sim_support;

use std::io::Write;

use serde_json::Value;
use sim_support::{hascript, run, Site};

const MOVE: [&str; 2] = ["package=slvm1", "target=node2"];

fn stdout_of(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `cmd` on `host` of `site`, which must succeed; its standard output.
fn exec_out(site: &Site, host: &str, cmd: &[&str]) -> String {
    let o = site.exec(host, cmd);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{host}: {cmd:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    stdout_of(&o)
}

/// What `hascript parse <kind> FILE` prints for `text` (as JSON; the parse must succeed).
fn parse(kind: &str, text: &str) -> Value {
    let mut f = tempfile::NamedTempFile::new().expect("temp file");
    f.write_all(text.as_bytes()).expect("write");
    let path = f.path().to_str().expect("utf8").to_string();
    let o = hascript(&["parse", kind, &path]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "parse {kind}: {}\n--- input\n{text}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout_of(&o)))
}

#[test]
fn hpvmstatus_p_has_the_real_sections_and_the_driver_reads_its_rows() {
    let site = Site::new(Some("hpvm"));
    let text = exec_out(&site, "node1", &["/opt/hpvm/bin/hpvmstatus", "-P", "slvm1"]);
    for section in [
        "[Virtual Machine Details]",
        "[Authorized Administrators]",
        "[Virtual CPU Details]",
        "[Memory Details]",
        "[Storage Interface Details]",
        "[Network Interface Details]",
        "[Misc Interface Details]",
    ] {
        assert!(text.contains(section), "{section} missing:\n{text}");
    }
    assert!(text.contains("Admin Users"), "{text}");
    // An empty DVD drive on an AVIO adaptor, at its own address.
    assert!(
        text.contains("dvd     avio_stor    0   1   0   1   0 null      /dev/rdisk/disk200\n"),
        "{text}"
    );
    let v = parse("hpvmstatus-p", &text);
    assert_eq!(v["vm"]["state"], "On (OS)", "{v}");
    let storage = v["storage"].as_array().expect("storage rows");
    // The disk and the dvd; the console of [Misc Interface Details] is not a storage row.
    assert_eq!(storage.len(), 2, "{v}");
    assert_eq!(storage[0]["guest_device"], "disk", "{v}");
    assert_eq!(storage[0]["device"], "/dev/rdisk/disk109", "{v}");
    assert_eq!(storage[1]["guest_device"], "dvd", "{v}");
    assert_eq!(storage[1]["adaptor"], "avio_stor", "{v}");
    assert_eq!(storage[1]["physical_storage"], "null", "{v}");
    assert_eq!(storage[1]["dev"], "1", "{v}");
    assert_eq!(v["network"].as_array().map(Vec::len), Some(2), "{v}");
    assert_eq!(v["network"][1]["name_num"], "myswitch", "{v}");

    // slvm2's logical volume sits on an AVIO adaptor at bus 0 device 1, not where slvm1's
    // disk is: the seed topology's addresses vary.
    let text = exec_out(&site, "node1", &["/opt/hpvm/bin/hpvmstatus", "-P", "slvm2"]);
    let v = parse("hpvmstatus-p", &text);
    assert_eq!(v["storage"][0]["adaptor"], "avio_stor", "{v}");
    assert_eq!(v["storage"][0]["dev"], "1", "{v}");
    assert_eq!(v["storage"][0]["tgt"], "0", "{v}");
    assert_eq!(v["storage"][0]["physical_storage"], "lv", "{v}");
}

#[test]
fn move_with_an_empty_dvd_is_not_refused_for_it() {
    // The dvd row is an empty drive, not a backing store the online migration refuses:
    // neither the preflight nor the simulated hpvmmigrate stops on it.
    let (r, site) = run("hpvm/move-package", None, &MOVE, &[]);
    assert_eq!(r.code, 0, "{}", r.dump());
    assert!(
        r.all().contains("dvd with no backing store"),
        "the preflight names the dvd row: {}",
        r.dump()
    );
    let lines = exec_out(&site, "node2", &["/usr/sbin/cmviewcl", "-v", "-f", "line"]);
    assert!(lines.contains("package:slvm1|owner=node2\n"), "{lines}");
}

#[test]
fn cmviewcl_line_with_degraded_summary_interfaces_and_groups_parses() {
    // slvm1 off, its package down: the cluster's summary is degraded.
    let site = Site::new(Some("hpvm/guest-not-running"));
    let text = exec_out(&site, "node1", &["/usr/sbin/cmviewcl", "-v", "-f", "line"]);
    for line in [
        "summary=degraded\n",
        "node:node1|interface:lan0|status=up\n",
        "node:node1|interface:lan0|ip_address:",
        "node:node2|interface:lan1|type=standby\n",
        "package:slvm1|run_script_timeout=no_timeout\n",
        "package:slvm1|halt_script_timeout=no_timeout\n",
        "|member:node2|status=up\n",
    ] {
        assert!(text.contains(line), "{line:?} missing:\n{text}");
    }
    assert!(text.lines().any(|l| l.starts_with("group:")), "{text}");
    let v = parse("cmviewcl-v-f-line", &text);
    assert_eq!(v["cluster"]["summary"], "degraded", "{v}");
    let nodes = v["nodes"].as_array().expect("nodes");
    assert_eq!(
        nodes.len(),
        2,
        "interfaces and group members are no nodes: {v}"
    );
    for n in nodes {
        assert_eq!(
            n["status"], "up",
            "an interface's status is not its node's: {v}"
        );
    }
    let p = &v["packages"][0];
    assert_eq!(p["name"], "slvm1", "{v}");
    assert_eq!(p["status"], "down", "{v}");
    assert!(p["owner"].is_null(), "a halted package has no owner: {v}");

    // The default site, everything running: ok, and the package's owner still read.
    let site = Site::new(Some("hpvm"));
    let text = exec_out(&site, "node1", &["/usr/sbin/cmviewcl", "-v", "-f", "line"]);
    let v = parse("cmviewcl-v-f-line", &text);
    assert_eq!(v["cluster"]["summary"], "ok", "{v}");
    assert_eq!(v["packages"][0]["owner"], "node1", "{v}");
}

#[test]
fn vswitch_validation_failure_refuses_the_move_in_its_preflight() {
    let site = Site::new(Some("hpvm/vswitch-missing-on-target"));
    // The command itself, as an operator would run it.
    let o = site.exec(
        "node1",
        &[
            "/opt/hpvm/bin/hpvmmigrate",
            "-s",
            "-o",
            "-P",
            "slvm1",
            "-h",
            "node2",
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("Target VM Host error - vswitch validation failed."),
        "{err}"
    );
    let r = site.run("hpvm/move-package", &MOVE, &[]);
    assert_eq!(r.code, 3, "{}", r.dump());
    assert!(
        r.stderr
            .contains("Target VM Host error - vswitch validation failed."),
        "the preflight's detail quotes hpvmmigrate: {}",
        r.dump()
    );
    assert!(r.changes().is_empty(), "sent {:?}", r.changes());
    let lines = exec_out(&site, "node1", &["/usr/sbin/cmviewcl", "-v", "-f", "line"]);
    for l in [
        "package:slvm1|owner=node1\n",
        "package:slvm1|autorun=enabled\n",
        "package:slvm1|status=up\n",
    ] {
        assert!(lines.contains(l), "{l:?} missing:\n{lines}");
    }
}
