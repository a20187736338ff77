//! Installing `cmappserver` in a guest (the guide's §5 step 3): the depots and rpms a VM
//! host keeps in `/opt/hp/serviceguard/cmappserver/{11iv2,11iv3,redhat,sles,windows}`,
//! SD-UX's `swinstall -s DEPOT CMAPPSERVER` in an HP-UX guest, `rpm -q|-qp|-i|-U` and
//! `java -version` in a Linux guest, and the VM hosts' Perl, which the driver uses to see
//! whether a guest's `cmappserver` port answers (a Windows guest cannot be reached
//! otherwise).
//!
//! A simulated depot or rpm is a text file: `#simulated-depot CMAPPSERVER <revision>
//! <HP-UX release>` or `#simulated-rpm cmappserver-<revision>-0`.

use hascript_api::Output;

use super::{fs, HpvmState, Proc};
use crate::posix::ProgramSpec;
use crate::timefmt;
use crate::world::World;

/// Where a VM host keeps the guests' cmappserver software.
pub(crate) const SOFTWARE_DIR: &str = "/opt/hp/serviceguard/cmappserver";
/// Where cmappserver is installed in an HP-UX or Linux guest.
pub(crate) const GUEST_DIR: &str = "/opt/hp/cmappserver";
/// The revision of the cmappserver software the VM hosts carry.
pub(crate) const HOST_REVISION: &str = "A.11.20.00";
/// The port `cmappserver` listens on.
pub(crate) const PORT: u16 = 5315;

/// `perl` of the VM hosts.
pub(crate) const PERL: ProgramSpec = ProgramSpec {
    name: "perl",
    dirs: &["/usr/bin", "/opt/perl/bin"],
};
/// SD-UX's `swinstall` of HP-UX guests.
pub(crate) const SWINSTALL: ProgramSpec = ProgramSpec {
    name: "swinstall",
    dirs: &["/usr/sbin"],
};
/// `java` of HP-UX guests (Java 6).
pub(crate) const HPUX_JAVA: ProgramSpec = ProgramSpec {
    name: "java",
    dirs: &["/opt/java6/bin"],
};
/// What a Linux guest has (Red Hat / SLES on Integrity). `/bin` is `/usr/bin` to the
/// simulator's PATH lookup, so `/bin/rpm` is found here.
pub(crate) const LINUX_PROGRAMS: &[ProgramSpec] = &[
    ProgramSpec {
        name: "ls",
        dirs: &["/usr/bin"],
    },
    ProgramSpec {
        name: "mkdir",
        dirs: &["/usr/bin"],
    },
    ProgramSpec {
        name: "chmod",
        dirs: &["/usr/bin"],
    },
    ProgramSpec {
        name: "cp",
        dirs: &["/usr/bin"],
    },
    ProgramSpec {
        name: "mv",
        dirs: &["/usr/bin"],
    },
    ProgramSpec {
        name: "rm",
        dirs: &["/usr/bin"],
    },
    ProgramSpec {
        name: "dd",
        dirs: &["/usr/bin"],
    },
    ProgramSpec {
        name: "od",
        dirs: &["/usr/bin"],
    },
    ProgramSpec {
        name: "ps",
        dirs: &["/usr/bin"],
    },
    ProgramSpec {
        name: "kill",
        dirs: &["/usr/bin"],
    },
    ProgramSpec {
        name: "rpm",
        dirs: &["/usr/bin"],
    },
    ProgramSpec {
        name: "java",
        dirs: &["/usr/bin"],
    },
    ProgramSpec {
        name: "keytool",
        dirs: &["/usr/bin"],
    },
];

fn ok(stdout: impl Into<String>) -> Output {
    Output::new(0, stdout, "")
}

fn fail(code: i32, stderr: impl Into<String>) -> Output {
    Output::new(code, "", stderr)
}

/// The content of a simulated depot.
pub(crate) fn depot_text(revision: &str, hpux_release: &str) -> String {
    format!("#simulated-depot CMAPPSERVER {revision} {hpux_release}\n")
}

/// The content of a simulated rpm.
pub(crate) fn rpm_text(revision: &str) -> String {
    format!("#simulated-rpm cmappserver-{revision}-0\n")
}

/// `(revision, HP-UX release)` of a simulated depot's text.
pub(crate) fn depot_of(text: &str) -> Option<(String, String)> {
    let mut w = text
        .lines()
        .next()?
        .strip_prefix("#simulated-depot CMAPPSERVER ")?
        .split_whitespace();
    Some((w.next()?.to_string(), w.next()?.to_string()))
}

/// The `name-version-release` of a simulated rpm's text.
fn rpm_of(text: &str) -> Option<String> {
    text.lines()
        .next()?
        .strip_prefix("#simulated-rpm ")
        .map(|s| s.trim().to_string())
}

/// The files an install leaves in the guest, and the running `cmappserver`.
fn installed(st: &mut HpvmState, w: &mut World, g: usize, revision: &str) {
    let now = w.now_ms;
    let name = st.guests[g].name.clone();
    if let Some(os) = w.host_mut(&name) {
        fs::mkdirs(os, GUEST_DIR, 0o755, now);
        for f in ["cmappserver.jar", "cmappserver"] {
            fs::write_file(
                os,
                &format!("{GUEST_DIR}/{f}"),
                format!("# cmappserver {revision} (simulated)\n"),
                0o755,
                now,
            );
        }
    }
    let was = st.guests[g].cmappserver;
    st.guests[g].cmappserver = true;
    st.guests[g].cmappserver_revision = Some(revision.to_string());
    if !was && st.guests[g].running {
        let java = if st.guests[g].os_type == "LINUX" {
            "/usr/bin/java"
        } else {
            "/opt/java6/bin/java"
        };
        let pid = st.alloc_pid();
        st.guests[g].procs.push(Proc {
            pid,
            ppid: 1,
            user: "root".into(),
            cmd: format!("{java} -jar {GUEST_DIR}/cmappserver.jar -port {PORT}"),
            started_ms: now,
            monitored_by: None,
        });
    }
}

/// `swinstall -s DEPOT CMAPPSERVER` (non-interactive) in an HP-UX guest.
pub(crate) fn swinstall(st: &mut HpvmState, w: &mut World, host: &str, args: &[String]) -> Output {
    let (depot, selections) = match args {
        [s, d, rest @ ..] if s == "-s" && !rest.is_empty() => (fs::normalize(d), rest.to_vec()),
        _ => {
            return fail(
                1,
                "ERROR:   The simulator emulates \"swinstall -s <depot> <software>\" only.\n",
            )
        }
    };
    let Some(g) = st.guest(host) else {
        return fail(
            1,
            "ERROR:   swinstall on a VM host is not emulated by the simulator\n",
        );
    };
    let stamp = {
        let c = timefmt::civil(w.now_ms);
        format!(
            "{:02}/{:02}/{:02} {:02}:{:02}:{:02} UTC",
            c.month,
            c.day,
            c.year % 100,
            c.hour,
            c.minute,
            c.second
        )
    };
    let head = format!(
        "\n=======  {stamp}  BEGIN swinstall SESSION\n         (non-interactive) (jobid={host}-0001)\n\n       * Session started for user \"root@{host}\".\n\n       * Beginning Selection\n       * Target connection succeeded for \"{host}:/\".\n"
    );
    let text = w
        .host_mut(host)
        .and_then(|os| os.file(&depot).map(str::to_string));
    let Some((revision, release)) = text.as_deref().and_then(depot_of) else {
        return Output::new(
            1,
            head,
            format!("ERROR:   \"{host}:{depot}\":  Cannot open the depot: it does not exist or is not a depot.\n"),
        );
    };
    if selections.iter().any(|s| s != "CMAPPSERVER") {
        return Output::new(
            1,
            head,
            "ERROR:   The software selections do not exist in the depot (it holds CMAPPSERVER only).\n",
        );
    }
    let guest_release = w
        .host_mut(host)
        .and_then(|os| os.uname.as_ref().map(|u| u.release.clone()))
        .unwrap_or_default();
    let sel = format!(
        "       * Source:                 {depot}\n       * Targets:                {host}:/\n       * Software selections:\n             CMAPPSERVER.CMAPPSERVER-RUN,r={revision},a=HP-UX_{release}_IA\n"
    );
    if release != guest_release {
        return Output::new(
            1,
            format!("{head}{sel}"),
            format!("ERROR:   \"{host}:/\":  The software \"CMAPPSERVER.CMAPPSERVER-RUN,r={revision}\" is not compatible with the target (its operating system is {guest_release}, the software is for {release}).\n       * Selection had errors.\n"),
        );
    }
    if st.guests[g].cmappserver
        && st.guests[g]
            .cmappserver_revision
            .as_deref()
            .unwrap_or(HOST_REVISION)
            == revision
    {
        return ok(format!(
            "{head}{sel}NOTE:    \"{host}:/\":  The software \"CMAPPSERVER.CMAPPSERVER-RUN,r={revision}\" is already installed: skipped (reinstall=false).\n       * Selection succeeded.\n\n=======  {stamp}  END swinstall SESSION (non-interactive) (jobid={host}-0001)\n"
        ));
    }
    installed(st, w, g, &revision);
    ok(format!(
        "{head}{sel}       * Selection succeeded.\n\n       * Beginning Analysis and Execution\n       * Analysis and Execution succeeded.\n\nNOTE:    More information may be found in the agent logfile using the\n         command \"swjob -a log {host}-0001 @ {host}:/\".\n\n=======  {stamp}  END swinstall SESSION (non-interactive) (jobid={host}-0001)\n"
    ))
}

/// `rpm -q NAME`, `rpm -qp FILE`, `rpm -i FILE`, `rpm -U FILE` in a Linux guest.
pub(crate) fn rpm(st: &mut HpvmState, w: &mut World, host: &str, args: &[String]) -> Output {
    let Some(g) = st.guest(host) else {
        return fail(127, "sh: rpm: not found\n");
    };
    let installed_name = st.guests[g].cmappserver.then(|| {
        format!(
            "cmappserver-{}-0",
            st.guests[g]
                .cmappserver_revision
                .as_deref()
                .unwrap_or(HOST_REVISION)
        )
    });
    let read = |w: &mut World, f: &str| {
        w.host_mut(host)
            .and_then(|os| os.file(&fs::normalize(f)).map(str::to_string))
    };
    match args {
        [q, name] if q == "-q" => {
            if name != "cmappserver" {
                return Output::new(1, format!("package {name} is not installed\n"), "");
            }
            match installed_name {
                Some(n) => ok(format!("{n}\n")),
                None => Output::new(1, "package cmappserver is not installed\n", ""),
            }
        }
        [q, file] if q == "-qp" => match read(w, file) {
            None => fail(
                1,
                format!("error: open of {file} failed: No such file or directory\n"),
            ),
            Some(t) => match rpm_of(&t) {
                Some(n) => ok(format!("{n}\n")),
                None => fail(1, format!("error: {file}: not an rpm package\n")),
            },
        },
        [op, file] if op == "-i" || op == "-U" || op == "-Uvh" || op == "-ivh" => {
            let Some(t) = read(w, file) else {
                return fail(
                    1,
                    format!("error: open of {file} failed: No such file or directory\n"),
                );
            };
            let Some(n) = rpm_of(&t) else {
                return fail(1, format!("error: {file}: not an rpm package\n"));
            };
            let upgrade = op.starts_with("-U");
            if let Some(have) = &installed_name {
                if *have == n {
                    return fail(1, format!("\tpackage {n} is already installed\n"));
                }
                if !upgrade {
                    return fail(
                        1,
                        format!("\tfile {GUEST_DIR}/cmappserver.jar from install of {n} conflicts with file from package {have}\n"),
                    );
                }
            }
            let revision = n
                .strip_prefix("cmappserver-")
                .and_then(|r| r.strip_suffix("-0"))
                .unwrap_or(HOST_REVISION)
                .to_string();
            installed(st, w, g, &revision);
            ok("")
        }
        _ => fail(
            1,
            "rpm: the simulator emulates rpm -q NAME, -qp FILE, -i FILE and -U FILE only\n",
        ),
    }
}

/// `java -version` (on standard error, as Java prints it).
pub(crate) fn java(st: &HpvmState, host: &str, args: &[String]) -> Output {
    if args != ["-version"] {
        return fail(1, "java: the simulator emulates java -version only\n");
    }
    let version = st
        .guest(host)
        .and_then(|g| st.guests[g].java.clone())
        .unwrap_or_else(|| "1.6.0.05".to_string());
    if version == "none" {
        return fail(127, "sh: java: not found\n");
    }
    let text = if let Some(gcj) = version.strip_suffix("-gcj") {
        format!("java version \"{gcj}\"\ngij (GNU libgcj) version 4.1.2 20080704 (Red Hat 4.1.2-48)\n\nCopyright (C) 2007 Free Software Foundation, Inc.\n")
    } else {
        format!(
            "java version \"{version}\"\nJava(TM) SE Runtime Environment (build {version}-b02)\nJava HotSpot(TM) 64-Bit Server VM (build 16.3-b01, mixed mode)\n"
        )
    };
    Output::new(0, "", text)
}

/// `perl -MIO::Socket::INET -e SCRIPT HOST PORT [TIMEOUT]`: the one Perl program the
/// simulator runs, a TCP connect to HOST:PORT (a guest's `cmappserver`).
pub(crate) fn perl(st: &HpvmState, args: &[String]) -> Output {
    let (script, rest) = match args {
        [m, e, script, rest @ ..] if m == "-MIO::Socket::INET" && e == "-e" => (script, rest),
        _ => {
            return fail(
                2,
                "perl: the simulator runs only perl -MIO::Socket::INET -e <connect script> HOST PORT [TIMEOUT]\n",
            )
        }
    };
    if !script.contains("IO::Socket::INET->new") {
        return fail(
            2,
            "perl: the simulator runs only a TCP connect with IO::Socket::INET->new\n",
        );
    }
    let (Some(host), Some(port)) = (rest.first(), rest.get(1)) else {
        return fail(2, "perl: HOST and PORT arguments are needed\n");
    };
    let answers =
        port == &PORT.to_string() && st.guest(host).is_some_and(|g| st.cmappserver_reachable(g));
    if answers {
        return ok(format!("connected to {host} port {port}\n"));
    }
    let why = match st.guest(host) {
        Some(g) if !st.guests[g].running => "Connection timed out",
        Some(_) if st.fault.cmappserver_unreachable => "Connection timed out",
        Some(_) => "Connection refused",
        None => "Bad hostname",
    };
    fail(
        1,
        format!("{host} port {port}: IO::Socket::INET: connect: {why}\n"),
    )
}
