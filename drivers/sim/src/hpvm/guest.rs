//! Commands about processes and keys: `ps -ef` (HP-UX layout), `kill [-SIG] PID…` (a guest's
//! processes; a monitored application's death reaches its `cmappmgr`), and Java's `keytool`
//! (`-genkey`, `-export`, `-import`, `-list`) on simulated key stores whose passwords are
//! kept only as a hash.

use hascript_api::Output;

use super::{fs, HpvmState, Proc};
use crate::timefmt;
use crate::world::World;

fn ok(stdout: impl Into<String>) -> Output {
    Output::new(0, stdout, "")
}

fn fail(code: i32, stderr: impl Into<String>) -> Output {
    Output::new(code, "", stderr)
}

/// The processes a VM host shows: Serviceguard's daemons, one `hpvmapp` per running guest,
/// one `cmappmgr` per running application monitor service.
fn host_procs(st: &HpvmState, w: &World, host: &str) -> Vec<Proc> {
    let boot = timefmt::START_MS - 30 * 86_400_000;
    let mk = |pid: u32, cmd: String, started_ms: u64| Proc {
        pid,
        ppid: 1,
        user: "root".into(),
        cmd,
        started_ms,
        monitored_by: None,
    };
    let mut v = vec![
        mk(1, "init".into(), boot),
        mk(2077, "/usr/lbin/cmcld -j".into(), boot),
        mk(2101, "/usr/lbin/cmclconfd -c".into(), boot),
        mk(2150, "/opt/hpvm/bin/hpvmnetd".into(), boot),
    ];
    for (i, g) in st.guests.iter().enumerate() {
        if g.running && g.home == host {
            v.push(mk(
                3000 + i as u32,
                format!("hpvmapp -d {} -q -l {}", g.name, g.name),
                g.booted_ms,
            ));
        }
    }
    for (pi, p) in st.packages.iter().enumerate() {
        if p.owner.as_deref() != Some(host) {
            continue;
        }
        for (si, s) in p.services.iter().enumerate() {
            if s.up {
                v.push(mk(4000 + (pi * 100 + si) as u32, s.cmd.clone(), w.now_ms));
            }
        }
    }
    v
}

/// `ps -ef`.
pub(crate) fn ps(st: &HpvmState, w: &World, host: &str, args: &[String]) -> Output {
    if !args.iter().all(|a| a == "-ef" || a == "-e" || a == "-f") {
        return fail(2, "ps: the simulator emulates ps -ef only\n");
    }
    let procs = match st.guest(host) {
        Some(g) => st.guests[g].procs.clone(),
        None => host_procs(st, w, host),
    };
    let mut s = String::from("     UID   PID  PPID  C    STIME TTY       TIME COMMAND\n");
    for p in procs {
        let stime = if w.now_ms.saturating_sub(p.started_ms) < 86_400_000 {
            let c = timefmt::civil(p.started_ms);
            format!("{:02}:{:02}:{:02}", c.hour, c.minute, c.second)
        } else {
            timefmt::syslog(p.started_ms)[..6].to_string()
        };
        s.push_str(&format!(
            "{:>8} {:>5} {:>5}  0 {:>8} ?         0:00 {}\n",
            p.user, p.pid, p.ppid, stime, p.cmd
        ));
    }
    ok(s)
}

/// `kill [-9|-s SIG|-SIG] PID…` on a guest.
pub(crate) fn kill(st: &mut HpvmState, w: &mut World, host: &str, args: &[String]) -> Output {
    let mut pids = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if a == "-s" {
            i += 2;
            continue;
        }
        if a.starts_with('-') {
            i += 1;
            continue;
        }
        match a.parse::<u32>() {
            Ok(p) => pids.push(p),
            Err(_) => {
                return fail(
                    2,
                    format!("kill: {a}: arguments must be process or job IDs\n"),
                )
            }
        }
        i += 1;
    }
    if pids.is_empty() {
        return fail(2, "usage: kill [-s signal] pid ...\n");
    }
    let Some(g) = st.guest(host) else {
        return fail(
            1,
            "kill: killing a VM host's processes is not emulated by the simulator\n",
        );
    };
    let mut err = String::new();
    let mut code = 0;
    for pid in pids {
        if pid == 1 {
            err.push_str("kill: 1: permission denied\n");
            code = 1;
            continue;
        }
        match st.guests[g].procs.iter().position(|p| p.pid == pid) {
            Some(i) => {
                let proc = st.guests[g].procs.remove(i);
                st.app_gone(w, &proc);
            }
            None => {
                err.push_str(&format!("kill: {pid}: no such process\n"));
                code = 1;
            }
        }
    }
    Output::new(code, "", err)
}

/// A short, stable hash (FNV-1a) so a key store can check its password without holding it.
fn hash(s: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn opt<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.windows(2)
        .find(|w| w[0] == name)
        .map(|w| w[1].as_str())
}

/// The simulated key store format: `#keystore <password hash>` then `alias kind` lines.
fn store_entries(text: &str) -> Option<(String, Vec<(String, String)>)> {
    let mut lines = text.lines();
    let pw = lines
        .next()?
        .strip_prefix("#simulated-keystore ")?
        .to_string();
    let entries = lines
        .filter_map(|l| {
            let (a, k) = l.split_once(' ')?;
            Some((a.to_string(), k.to_string()))
        })
        .collect();
    Some((pw, entries))
}

fn store_text(pw_hash: &str, entries: &[(String, String)]) -> String {
    let mut s = format!("#simulated-keystore {pw_hash}\n");
    for (a, k) in entries {
        s.push_str(&format!("{a} {k}\n"));
    }
    s
}

/// `keytool -genkey|-export|-import|-list …` (Java 6). Store passwords never appear in
/// output or files.
pub(crate) fn keytool(w: &mut World, host: &str, args: &[String]) -> Output {
    let now = w.now_ms;
    let Some(os) = w.host_mut(host) else {
        return fail(1, "keytool error: no such host\n");
    };
    let cmd = args.first().map(String::as_str).unwrap_or("");
    let Some(alias) = opt(args, "-alias").or(if cmd == "-list" { Some("") } else { None }) else {
        return fail(
            1,
            "keytool error: java.lang.Exception: -alias is required by the simulator\n",
        );
    };
    let Some(store) = opt(args, "-keystore").map(fs::normalize) else {
        return fail(
            1,
            "keytool error: java.lang.Exception: -keystore is required by the simulator\n",
        );
    };
    let Some(storepass) = opt(args, "-storepass") else {
        return fail(
            1,
            "keytool error: java.lang.Exception: -storepass is required (the simulator has no password prompt)\n",
        );
    };
    let existing = os.files.get(&store).map(|t| store_entries(t));
    if let Some(None) = existing {
        return fail(
            1,
            "keytool error: java.io.IOException: Invalid keystore format\n",
        );
    }
    let existing = existing.flatten();
    if let Some((pw, _)) = &existing {
        if *pw != hash(storepass) {
            return fail(
                1,
                "keytool error: java.io.IOException: Keystore was tampered with, or password was incorrect\n",
            );
        }
    }
    let mut entries = existing.map(|(_, e)| e).unwrap_or_default();
    let dir_ok = |os: &crate::world::HostOs, p: &str| fs::is_dir(os, &fs::parent(p));
    match cmd {
        "-genkey" | "-genkeypair" => {
            if opt(args, "-dname").is_none() {
                return fail(
                    1,
                    "keytool error: java.lang.Exception: -dname is required by the simulator (no prompts)\n",
                );
            }
            if entries.iter().any(|(a, _)| a == alias) {
                return fail(
                    1,
                    format!("keytool error: java.lang.Exception: Key pair not generated, alias <{alias}> already exists\n"),
                );
            }
            if !dir_ok(os, &store) {
                return fail(1, format!("keytool error: java.io.FileNotFoundException: {store} (No such file or directory)\n"));
            }
            entries.push((alias.to_string(), "PrivateKeyEntry".into()));
            fs::write_file(
                os,
                &store,
                store_text(&hash(storepass), &entries),
                0o644,
                now,
            );
            ok("")
        }
        "-export" | "-exportcert" => {
            let Some(file) = opt(args, "-file").map(fs::normalize) else {
                return fail(
                    1,
                    "keytool error: java.lang.Exception: -file is required by the simulator\n",
                );
            };
            if !entries.iter().any(|(a, _)| a == alias) {
                return fail(
                    1,
                    format!("keytool error: java.lang.Exception: Alias <{alias}> does not exist\n"),
                );
            }
            if !dir_ok(os, &file) {
                return fail(1, format!("keytool error: java.io.FileNotFoundException: {file} (No such file or directory)\n"));
            }
            fs::write_file(
                os,
                &file,
                format!("-----BEGIN CERTIFICATE-----\nsimulated certificate of {alias} from {host}\n-----END CERTIFICATE-----\n"),
                0o644,
                now,
            );
            ok(format!(
                "Certificate stored in file <{}>\n",
                opt(args, "-file").unwrap_or("")
            ))
        }
        "-import" | "-importcert" => {
            let Some(file) = opt(args, "-file").map(fs::normalize) else {
                return fail(
                    1,
                    "keytool error: java.lang.Exception: -file is required by the simulator\n",
                );
            };
            if !os.files.contains_key(&file) {
                return fail(1, format!("keytool error: java.io.FileNotFoundException: {file} (No such file or directory)\n"));
            }
            if !args.iter().any(|a| a == "-noprompt") {
                return fail(1, "keytool error: java.lang.Exception: -noprompt is required by the simulator (no prompts)\n");
            }
            if entries.iter().any(|(a, _)| a == alias) {
                return fail(1, format!("keytool error: java.lang.Exception: Certificate not imported, alias <{alias}> already exists\n"));
            }
            if !dir_ok(os, &store) {
                return fail(1, format!("keytool error: java.io.FileNotFoundException: {store} (No such file or directory)\n"));
            }
            entries.push((alias.to_string(), "trustedCertEntry".into()));
            fs::write_file(
                os,
                &store,
                store_text(&hash(storepass), &entries),
                0o644,
                now,
            );
            ok("Certificate was added to keystore\n")
        }
        "-list" => {
            if !os.files.contains_key(&store) {
                return fail(
                    1,
                    "keytool error: java.lang.Exception: Keystore file does not exist\n",
                );
            }
            let mut s = format!(
                "\nKeystore type: JKS\nKeystore provider: SUN\n\nYour keystore contains {} entries\n\n",
                entries.len()
            );
            for (a, k) in &entries {
                s.push_str(&format!(
                    "{a}, {}, {k},\n",
                    timefmt::syslog(now)[..6].trim_end()
                ));
            }
            ok(s)
        }
        other => fail(
            1,
            format!(
                "keytool error: java.lang.Exception: {other} is not emulated by the simulator\n"
            ),
        ),
    }
}
