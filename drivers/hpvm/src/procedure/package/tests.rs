//! Unit tests of the package operations' pure parts: NFS entries, timestamps, deploy options.

use hascript_api::ErrorKind;
use serde_json::{json, Value};

use super::storage::{nfs_mounts_in, refuse_missing_nfs};
use super::{timestamp, DeployOpts};
use crate::parse::df_n::{self, DfEntry};
use crate::pkgconf::PackageConf;

fn df(mount: &str, source: &str, ty: &str) -> DfEntry {
    df_n::parse(&format!("{mount} ({source} ) : {ty}\n"))
        .expect("df -n line")
        .remove(0)
}

#[test]
fn nfs_mounts_are_read_from_fs_blocks() {
    let doc = PackageConf::parse(
        "package_name slvm1\nfs_name /dev/vg01/lvol1\nfs_directory /data\nfs_type vxfs\nfs_name /export/hpvm\nfs_server nfsserver\nfs_directory /var/opt/hpvm/nfs/\nfs_type nfs\nfs_mount_opt \"-o llock\"\n",
    )
    .expect("parses");
    assert_eq!(nfs_mounts_in(&doc), vec!["/var/opt/hpvm/nfs".to_string()]);
}

#[test]
fn a_guest_on_nfs_passes_once_the_file_mounts_it() {
    let nfs = vec![(
        "/var/opt/hpvm/nfs/slvm1.img".to_string(),
        df("/var/opt/hpvm/nfs", "nfsserver:/export/hpvm", "nfs"),
    )];
    let without = PackageConf::parse("package_name slvm1\n").expect("parses");
    let e = refuse_missing_nfs("node1", "slvm1", "/x.conf", &without, &nfs).expect_err("refused");
    assert_eq!(e.kind, ErrorKind::Check);
    assert!(e.message.contains("fs_server nfsserver"), "{}", e.message);
    assert!(e.message.contains("fs_name /export/hpvm"), "{}", e.message);
    let with = PackageConf::parse(
        "package_name slvm1\nfs_name /export/hpvm\nfs_server nfsserver\nfs_directory /var/opt/hpvm/nfs\nfs_type nfs\n",
    )
    .expect("parses");
    refuse_missing_nfs("node1", "slvm1", "/x.conf", &with, &nfs).expect("declared");
    refuse_missing_nfs("node1", "slvm1", "/x.conf", &without, &[]).expect("no NFS store");
}

#[test]
fn timestamps_are_utc_calendar_dates() {
    assert_eq!(timestamp(0), "19700101-000000");
    assert_eq!(timestamp(951_782_400), "20000229-000000");
    assert_eq!(timestamp(1_343_496_366), "20120728-172606");
}

#[test]
fn deploy_options_are_read_and_checked() {
    let o = DeployOpts::from_value(&json!({
        "nodes": ["node1", "node2"], "appmon": "ping_mon:/apps/ping_mon:10:none:300", "merge": true,
    }))
    .expect("valid");
    assert_eq!(o.nodes, vec!["node1", "node2"]);
    assert_eq!(o.appmon.len(), 1);
    assert!(o.merge);
    let e = DeployOpts::from_value(&json!({"nodez": []})).expect_err("unknown key");
    assert_eq!(e.kind, ErrorKind::Usage);
    let e = DeployOpts::from_value(&json!({"appmon": "nonsense"})).expect_err("bad spec");
    assert_eq!(e.kind, ErrorKind::Usage);
    let e = DeployOpts::from_value(&json!({"nodes": ["a;b"]})).expect_err("bad node");
    assert_eq!(e.kind, ErrorKind::Usage);
    assert_eq!(
        DeployOpts::from_value(&Value::Null).expect("empty"),
        DeployOpts::default()
    );
}
