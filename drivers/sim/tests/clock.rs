//! State that moves with the virtual clock: CF timeouts, COMINGUP, the shutdown facility
//! settling, log timestamps.

mod common;

use std::time::Duration;

use common::*;
use hascript_api::CancelToken;

#[test]
fn the_clock_starts_at_the_fixed_instant_and_only_moves_when_told() {
    let s = site(None);
    assert_eq!(s.clock().now(), Duration::from_secs(START));
    ok(&s, "guest1", "cftool -n");
    assert_eq!(s.clock().now(), Duration::from_secs(START));
    s.clock()
        .sleep(Duration::from_millis(1500), &CancelToken::new())
        .expect("sleep");
    assert_eq!(s.clock().now(), Duration::from_millis(START * 1000 + 1500));
    let cancel = CancelToken::new();
    cancel.cancel();
    let err = s
        .clock()
        .sleep(Duration::from_secs(5), &cancel)
        .expect_err("cancelled");
    assert_eq!(err.kind, hascript_api::ErrorKind::Cancelled);
    assert_eq!(s.clock().now(), Duration::from_millis(START * 1000 + 1500));
}

#[test]
fn prepared_cluster_stopped_guest_reads_down_exactly_600s_after_prepare() {
    let s = site(None);
    sleep(&s, 5);
    ok(&s, "cd2", "/etc/opt/FJSVcluster/bin/clovmmigrate -p guest2");
    sleep(&s, 100);
    ok(&s, "cd2", "ldm stop-domain -f guest2");
    sleep_until(&s, 604);
    assert_eq!(cf_state(&s, "guest1", "cfguest2"), "UP");
    sleep(&s, 1);
    assert_eq!(elapsed(&s), 605);
    assert_eq!(cf_state(&s, "guest1", "cfguest2"), "DOWN");
    assert_eq!(cf_state(&s, "guest1", "cfguest1"), "UP");
    let messages = ok(&s, "guest1", "cat /var/adm/messages");
    assert!(
        messages.contains(
            "Nov 21 00:10:05 guest1 cf: [ID 315481 kern.notice] CF: Node cfguest2 is DOWN\n"
        ),
        "{messages}"
    );
}

#[test]
fn a_jump_past_the_timeout_applies_it_too() {
    let s = site(None);
    ok(&s, "cd2", "clovmmigrate -p guest2");
    ok(&s, "cd2", "ldm stop-domain guest2");
    sleep(&s, 3600);
    assert_eq!(cf_state(&s, "guest1", "cfguest2"), "DOWN");
}

#[test]
fn normal_timeout_stopped_guest_reads_down_after_10s() {
    let s = site(None);
    ok(&s, "cd2", "ldm stop-domain guest2");
    sleep(&s, 9);
    assert_eq!(cf_state(&s, "guest1", "cfguest2"), "UP");
    sleep(&s, 1);
    assert_eq!(cf_state(&s, "guest1", "cfguest2"), "DOWN");
}

#[test]
fn restart_after_down_comes_up_after_60s_then_sf_settles_after_20s() {
    let s = site(None);
    ok(&s, "cd2", "clovmmigrate -p guest2");
    ok(&s, "cd2", "ldm stop-domain guest2");
    sleep(&s, 600);
    assert_eq!(cf_state(&s, "guest1", "cfguest2"), "DOWN");
    assert_eq!(
        ok(&s, "cd2", "ldm start-domain guest2"),
        "LDom guest2 started\n"
    );
    assert!(
        ldm_record(&s, "cd2", "guest2").is_some_and(|r| r.contains("|state=active|flags=-n----|"))
    );
    assert_eq!(cf_state(&s, "guest1", "cfguest2"), "COMINGUP");
    sleep(&s, 59);
    assert_eq!(cf_state(&s, "guest2", "cfguest2"), "COMINGUP");
    let o = run(&s, "guest2", "hvdisp -T userApplication");
    assert_eq!(
        (o.code(), o.stderr.as_str()),
        (1, "hvdisp: RMS is not running\n")
    );
    sleep(&s, 1);
    assert_eq!(cf_state(&s, "guest1", "cfguest2"), "UP");
    assert!(ok(&s, "guest2", "hvdisp -T userApplication")
        .contains("app1                userApp                     Offline\n"));
    // SF started on the rejoined node: Unknown, then Testing/Initing, then settled.
    let unknown = ("Unknown".to_string(), "Unknown".to_string());
    let testing = ("Testing".to_string(), "Initing".to_string());
    let worked = ("TestWorked".to_string(), "InitWorked".to_string());
    assert_eq!(sd_states(&s, "guest2", "cfguest1"), vec![unknown; 4]);
    sleep(&s, 5);
    assert_eq!(
        sd_states(&s, "guest2", "cfguest2"),
        vec![testing.clone(); 4]
    );
    sleep(&s, 14);
    assert_eq!(sd_states(&s, "guest2", "cfguest2"), vec![testing; 4]);
    sleep(&s, 1);
    assert_eq!(sd_states(&s, "guest2", "cfguest2"), vec![worked; 4]);
    // The other node's SF is still stopped until clovmmigrate -u.
    assert_eq!(run(&s, "guest1", "sdtool -s").code(), 1);
    ok(&s, "cd2", "clovmmigrate -u guest2 cd2");
    sleep(&s, 20);
    assert_eq!(ok(&s, "guest1", "sdtool -s"), MANUAL_SDTOOL);
}

#[test]
fn starting_before_down_makes_sf_and_rms_fail_on_the_node() {
    let s = site(None);
    ok(&s, "cd2", "clovmmigrate -p guest2");
    ok(&s, "cd2", "ldm stop-domain guest2");
    sleep(&s, 300);
    ok(&s, "cd2", "ldm start-domain guest2");
    assert_eq!(
        cf_state(&s, "guest1", "cfguest2"),
        "UP",
        "the node stays as it was"
    );
    sleep(&s, 1000);
    assert_eq!(cf_state(&s, "guest1", "cfguest2"), "UP");
    let o = run(&s, "guest2", "hvdisp -T userApplication");
    assert_eq!(
        (o.code(), o.stderr.as_str()),
        (1, "hvdisp: RMS is not running\n")
    );
    let failed = ("TestWorked".to_string(), "InitFailed".to_string());
    assert_eq!(sd_states(&s, "guest2", "cfguest1"), vec![failed.clone(); 4]);
    assert_eq!(sd_states(&s, "guest2", "cfguest2"), vec![failed.clone(); 4]);
    // clovmmigrate -u does not cure it: the node must be stopped and restarted after DOWN.
    ok(&s, "cd2", "clovmmigrate -u guest2 cd2");
    sleep(&s, 20);
    assert_eq!(sd_states(&s, "guest2", "cfguest2"), vec![failed; 4]);
    assert_eq!(sd_states(&s, "guest1", "cfguest2")[0].1, "InitWorked");
    ok(&s, "cd2", "ldm stop-domain guest2");
    sleep(&s, 10);
    assert_eq!(cf_state(&s, "guest1", "cfguest2"), "DOWN");
    ok(&s, "cd2", "ldm start-domain guest2");
    sleep(&s, 80);
    assert_eq!(cf_state(&s, "guest1", "cfguest2"), "UP");
    assert_eq!(
        sd_states(&s, "guest2", "cfguest2")[0],
        ("TestWorked".to_string(), "InitWorked".to_string())
    );
}

#[test]
fn sf_is_transitional_for_20s_after_clovmmigrate_update() {
    let s = site(None);
    migrate_guest2_to_cd3(&s);
    let t0 = elapsed(&s);
    assert_eq!(
        sd_states(&s, "guest1", "cfguest2")[0],
        ("Unknown".into(), "Unknown".into())
    );
    sleep_until(&s, t0 + 19);
    assert_eq!(
        sd_states(&s, "guest1", "cfguest2")[0],
        ("Testing".into(), "Initing".into())
    );
    sleep(&s, 1);
    assert_eq!(ok(&s, "guest1", "sdtool -s"), MANUAL_SDTOOL);
}

#[test]
fn huge_sleeps_do_not_overflow_anything() {
    let s = site(Some("ldoms/migration-continues-after-disconnect"));
    ok(&s, "cd2", "ldm stop-domain guest1 || true");
    s.clock()
        .sleep(Duration::MAX, &CancelToken::new())
        .expect("sleep");
    s.clock()
        .sleep(Duration::MAX, &CancelToken::new())
        .expect("sleep again");
    assert_eq!(cf_state(&s, "guest1", "cfguest2"), "UP");
    assert_eq!(run(&s, "cd2", "ldm migrate-domain guest2 cd3").code(), 1);
    assert!(ldm_record(&s, "cd2", "guest2").is_some_and(|r| r.contains("flags=-n---s")));
    // Sleeps stop at 9999-12-31; the failed migration then took its 30 s.
    assert_eq!(s.clock().now(), Duration::from_secs(253_402_214_400 + 30));
}

#[test]
fn sites_are_send_and_sync() {
    fn check<T: Send + Sync + Clone>() {}
    check::<hascript_sim::SimSite>();
}
