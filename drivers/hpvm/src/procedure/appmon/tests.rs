//! Unit tests of B4's pure parts: the configuration files, the key options, the monitors.

use super::*;

fn opts() -> KeyOpts {
    KeyOpts {
        client_password: "cl1entPW".into(),
        server_password: "serv3rPW".into(),
        public_password: "publ1cPW".into(),
        regenerate: false,
        host: None,
        dname_client: None,
        dname_server: None,
        validity: VALIDITY_DAYS,
    }
}

#[test]
fn cmappmgr_conf_keeps_other_guests_and_comments() {
    let old = "# cmappmgr\nkeyStore=/etc/client.private\nkeyStorePassword=old\ntrustStore=vm7:/etc/cmcluster/cmappmgr/server_vm7.public\ntrustStorePassword=old\n";
    let new = cmappmgr_conf(Some(old), "slvm1", &opts());
    assert_eq!(
        new,
        "# cmappmgr\nkeyStore=/etc/cmcluster/cmappmgr/client.private\nkeyStorePassword=cl1entPW\ntrustStore=vm7:/etc/cmcluster/cmappmgr/server_vm7.public\ntrustStore=slvm1:/etc/cmcluster/cmappmgr/server_slvm1.public\ntrustStorePassword=publ1cPW\n"
    );
    // Idempotent.
    assert_eq!(cmappmgr_conf(Some(&new), "slvm1", &opts()), new);
    assert_eq!(
        cmappmgr_conf(None, "g", &opts()),
        "keyStore=/etc/cmcluster/cmappmgr/client.private\nkeyStorePassword=cl1entPW\ntrustStore=g:/etc/cmcluster/cmappmgr/server_g.public\ntrustStorePassword=publ1cPW\n"
    );
}

#[test]
fn cmappserver_conf_sets_the_four_keys() {
    assert_eq!(
        cmappserver_conf(Some("keyStorePassword=x\n"), &opts()),
        "keyStorePassword=serv3rPW\nkeyStore=/opt/hp/cmappserver/server.private\ntrustStore=/opt/hp/cmappserver/client.public\ntrustStorePassword=publ1cPW\n"
    );
}

#[test]
fn key_opts_need_passwords_and_never_show_them() {
    let v = json!({"client_password": "cl1entPW", "server_password": "serv3rPW", "public_password": "publ1cPW", "regenerate": true});
    let o = KeyOpts::from_value(&v).unwrap_or_else(|e| panic!("{e}"));
    assert!(o.regenerate);
    assert_eq!(o.validity, 400);
    let dbg = format!("{o:?}");
    assert!(
        !dbg.contains("cl1entPW") && !dbg.contains("publ1cPW"),
        "{dbg}"
    );
    let e = KeyOpts::from_value(&json!({"client_password": "cl1entPW"}))
        .err()
        .map(|e| e.message)
        .unwrap_or_default();
    assert!(e.contains("server_password"), "{e}");
    let e = KeyOpts::from_value(&json!({"client_password": 5}))
        .err()
        .map(|e| e.message)
        .unwrap_or_default();
    assert!(e.contains("client_password") && !e.contains('5'), "{e}");
    assert!(KeyOpts::from_value(&json!({"colour": "x"})).is_err());
}

#[test]
fn monitors_are_read_from_service_cmd() {
    let m = monitor_of(
        "slvm1-xclock",
        "/usr/sbin/cmappmgr -node slvm1 -cmappserver_timeout 240 -service /usr/bin/X11/xclock -display 16.213.12.70:0.0",
    );
    assert_eq!(
        m,
        Some(MonitorService {
            service: "slvm1-xclock".into(),
            node: "slvm1".into(),
            command: "/usr/bin/X11/xclock -display 16.213.12.70:0.0".into(),
        })
    );
    assert_eq!(
        monitor_of("slvm1", "/etc/cmcluster/scripts/tkit/vtn/havtn.mon slvm1"),
        None
    );
    assert_eq!(monitor_of("x", "/usr/sbin/cmappmgr -service /a"), None);
}
