//! The ordinary Solaris commands every simulated host has (`/usr/bin`; `/bin` is a link to
//! it): `cat`, `wc`, `tail`, `echo`, `true`, `false`, `hostname`, `uname`, `getent`,
//! `ssh-keygen`, and the file commands `mkdir`, `rm`, `dd` (served by the same code as the
//! HP-UX hosts' ones; hascript's host lock `/var/tmp/hascript.lock` uses them). They work on
//! the host's simulated files; `/tmp` and `/var/tmp` exist on every host.

use hascript_api::Output;

pub(crate) use crate::process::{ProcessIo, Stdin};
use crate::world::{canonical_path, HostOs, KNOWN_HOSTS};

/// A program and the folders where its product installs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProgramSpec {
    /// Base name.
    pub name: &'static str,
    /// Folders holding it (absolute, no trailing slash).
    pub dirs: &'static [&'static str],
}

const USR_BIN: &[&str] = &["/usr/bin"];

/// The generic programs (plus `sh`, which the interpreter runs itself).
pub(crate) const PROGRAMS: &[ProgramSpec] = &[
    ProgramSpec {
        name: "cat",
        dirs: USR_BIN,
    },
    ProgramSpec {
        name: "dd",
        dirs: USR_BIN,
    },
    ProgramSpec {
        name: "echo",
        dirs: USR_BIN,
    },
    ProgramSpec {
        name: "false",
        dirs: USR_BIN,
    },
    ProgramSpec {
        name: "getent",
        dirs: USR_BIN,
    },
    ProgramSpec {
        name: "hostname",
        dirs: USR_BIN,
    },
    ProgramSpec {
        name: "mkdir",
        dirs: USR_BIN,
    },
    ProgramSpec {
        name: "rm",
        dirs: USR_BIN,
    },
    ProgramSpec {
        name: "sh",
        dirs: USR_BIN,
    },
    ProgramSpec {
        name: "ssh-keygen",
        dirs: USR_BIN,
    },
    ProgramSpec {
        name: "tail",
        dirs: USR_BIN,
    },
    ProgramSpec {
        name: "true",
        dirs: USR_BIN,
    },
    ProgramSpec {
        name: "uname",
        dirs: USR_BIN,
    },
    ProgramSpec {
        name: "wc",
        dirs: USR_BIN,
    },
];

fn ok(stdout: impl Into<String>) -> Output {
    Output::new(0, stdout, "")
}

fn fail(code: i32, stderr: impl Into<String>) -> Output {
    Output::new(code, "", stderr)
}

/// Run generic program `name` on `host` at virtual time `now_ms`, with the shell's
/// standard input and umask `io`.
pub(crate) fn run(
    host: &mut HostOs,
    now_ms: u64,
    name: &str,
    args: &[String],
    io: &mut ProcessIo,
) -> Output {
    match name {
        "mkdir" | "rm" | "dd" => {
            standard_dirs(host);
            crate::fs::run(host, now_ms, name, args, io)
        }
        "true" => ok(""),
        "false" => Output::new(1, "", ""),
        "echo" => ok(format!("{}\n", args.join(" "))),
        "hostname" => {
            if args.is_empty() {
                ok(format!("{}\n", host.hostname))
            } else {
                fail(
                    1,
                    "hostname: changing the host name is not emulated by the simulator\n",
                )
            }
        }
        "uname" => uname(host, args),
        "cat" => cat(host, args),
        "wc" => wc(host, args),
        "tail" => tail(host, args),
        "getent" => getent(host, args),
        "ssh-keygen" => ssh_keygen(host, args),
        other => fail(127, format!("sh: {other}: not found\n")),
    }
}

/// The world-writable folders every Solaris and HP-UX host has (`/tmp`, `/var/tmp`, mode
/// 1777), made where the host's seed did not.
fn standard_dirs(host: &mut HostOs) {
    for d in ["/tmp", "/var/tmp"] {
        if !crate::fs::is_dir(host, d) {
            crate::fs::mkdirs(host, d, 0o755, crate::fs::SEED_MTIME_MS);
            if let Some(m) = host.meta.get_mut(d) {
                m.mode = crate::world::S_IFDIR | 0o1777;
            }
        }
    }
}

fn uname(host: &HostOs, args: &[String]) -> Output {
    const SYS: &str = "SunOS";
    const REL: &str = "5.11";
    const VER: &str = "11.4.42.111.0";
    const MACH: &str = "sun4v";
    const PROC: &str = "sparc";
    let mut flags = String::new();
    for a in args {
        match a.strip_prefix('-') {
            Some(f) if !f.is_empty() && f.chars().all(|c| "asnrvmpi".contains(c)) => {
                flags.push_str(f)
            }
            _ => {
                return fail(
                    2,
                    format!(
                        "uname: illegal option -- {}\nusage: uname [-snrvmapiX]\n",
                        a.trim_start_matches('-')
                    ),
                )
            }
        }
    }
    if flags.is_empty() {
        flags.push('s');
    }
    let mut fields: Vec<&str> = Vec::new();
    let all = flags.contains('a');
    if let Some(u) = &host.uname {
        // HP-UX and Linux: -s -n -r -v -m (-i and -p are not printed by -a there).
        let want = |c: char| all || flags.contains(c);
        for (c, v) in [
            ('s', u.sysname.as_str()),
            ('n', host.hostname.as_str()),
            ('r', u.release.as_str()),
            ('v', u.version.as_str()),
            ('m', u.machine.as_str()),
        ] {
            if want(c) {
                fields.push(v);
            }
        }
        return ok(format!("{}\n", fields.join(" ")));
    }
    let want = |c: char| all || flags.contains(c);
    if want('s') {
        fields.push(SYS);
    }
    if want('n') {
        fields.push(&host.hostname);
    }
    if want('r') {
        fields.push(REL);
    }
    if want('v') {
        fields.push(VER);
    }
    if want('m') {
        fields.push(MACH);
    }
    if want('p') {
        fields.push(PROC);
    }
    if want('i') {
        fields.push(&host.platform);
    }
    ok(format!("{}\n", fields.join(" ")))
}

fn cat(host: &HostOs, args: &[String]) -> Output {
    let mut out = String::new();
    let mut err = String::new();
    let mut code = 0;
    for a in args {
        if a.starts_with('-') && a.len() > 1 {
            return fail(
                2,
                format!(
                    "cat: illegal option -- {}\nusage: cat [-nbsuvet] [-|file] ...\n",
                    &a[1..]
                ),
            );
        }
        match host.file(a) {
            Some(c) => out.push_str(c),
            None => {
                err.push_str(&format!(
                    "cat: cannot open {a}: No such file or directory\n"
                ));
                code = 2;
            }
        }
    }
    Output::new(code, out, err)
}

fn wc(host: &HostOs, args: &[String]) -> Output {
    let mut lines = false;
    let mut words = false;
    let mut bytes = false;
    let mut files = Vec::new();
    for a in args {
        match a.strip_prefix('-') {
            Some(f) if !f.is_empty() => {
                for c in f.chars() {
                    match c {
                        'l' => lines = true,
                        'w' => words = true,
                        'c' | 'm' => bytes = true,
                        other => {
                            return fail(2, format!("wc: illegal option -- {other}\nusage: wc [-c | -m | -C] [-lw] [file ...]\n"))
                        }
                    }
                }
            }
            _ => files.push(a.as_str()),
        }
    }
    if !(lines || words || bytes) {
        (lines, words, bytes) = (true, true, true);
    }
    if files.is_empty() {
        return fail(
            2,
            "wc: reading standard input is not emulated by the simulator\n",
        );
    }
    let counts = |c: &str| {
        let mut s = String::new();
        if lines {
            s.push_str(&format!("{:>8}", c.matches('\n').count()));
        }
        if words {
            s.push_str(&format!("{:>8}", c.split_whitespace().count()));
        }
        if bytes {
            s.push_str(&format!("{:>8}", c.len()));
        }
        s
    };
    let mut out = String::new();
    let mut err = String::new();
    let mut total = String::new();
    let mut code = 0;
    for f in &files {
        match host.file(f) {
            Some(c) => {
                out.push_str(&format!("{} {f}\n", counts(c)));
                total.push_str(c);
            }
            None => {
                err.push_str(&format!("wc: cannot open {f}: No such file or directory\n"));
                code = 2;
            }
        }
    }
    if files.len() > 1 {
        out.push_str(&format!("{} total\n", counts(&total)));
    }
    Output::new(code, out, err)
}

enum TailFrom {
    /// `+N`: from byte / line N (1-based).
    Start(usize),
    /// `N`: the last N.
    End(usize),
}

fn tail(host: &HostOs, args: &[String]) -> Output {
    let usage = "usage: tail [+/-[n][lbc][f]] [file]\n       tail [-lbc] [-f] [file]\n";
    let mut by_bytes = false;
    let mut from = TailFrom::End(10);
    let mut file: Option<&str> = None;
    let parse_count = |s: &str| -> Option<TailFrom> {
        if let Some(n) = s.strip_prefix('+') {
            n.parse().ok().map(TailFrom::Start)
        } else {
            s.strip_prefix('-')
                .unwrap_or(s)
                .parse()
                .ok()
                .map(TailFrom::End)
        }
    };
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if a == "-c" || a == "-n" {
            by_bytes = a == "-c";
            let Some(v) = args.get(i + 1) else {
                return fail(
                    2,
                    format!("tail: option requires an argument -- {}\n{usage}", &a[1..]),
                );
            };
            match parse_count(v) {
                Some(f) => from = f,
                None => return fail(2, format!("tail: invalid count {v}\n{usage}")),
            }
            i += 2;
            continue;
        }
        if let Some(rest) = a.strip_prefix("-c").or_else(|| a.strip_prefix("-n")) {
            if !rest.is_empty() {
                by_bytes = a.starts_with("-c");
                match parse_count(rest) {
                    Some(f) => from = f,
                    None => return fail(2, format!("tail: invalid count {rest}\n{usage}")),
                }
                i += 1;
                continue;
            }
        }
        if (a.starts_with('-') || a.starts_with('+')) && a.len() > 1 && file.is_none() {
            let sign = &a[..1];
            let body = &a[1..];
            let (num, unit) = match body.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
                Some((k, _)) => (&body[..k], &body[k..]),
                None => (body, ""),
            };
            let n: usize = if num.is_empty() {
                10
            } else {
                num.parse().unwrap_or(usize::MAX)
            };
            match unit {
                "" | "l" => by_bytes = false,
                "c" => by_bytes = true,
                _ => return fail(2, format!("tail: unsupported option {a}\n{usage}")),
            }
            from = if sign == "+" {
                TailFrom::Start(n)
            } else {
                TailFrom::End(n)
            };
            i += 1;
            continue;
        }
        if file.is_some() {
            return fail(2, format!("tail: only one file is allowed\n{usage}"));
        }
        file = Some(a);
        i += 1;
    }
    let Some(path) = file else {
        return fail(
            2,
            "tail: reading standard input is not emulated by the simulator\n",
        );
    };
    let Some(content) = host.file(path) else {
        return fail(
            2,
            format!("tail: cannot open input {path}: No such file or directory\n"),
        );
    };
    let out = if by_bytes {
        let b = content.as_bytes();
        let start = match from {
            TailFrom::Start(n) => n.saturating_sub(1).min(b.len()),
            TailFrom::End(n) => b.len().saturating_sub(n),
        };
        String::from_utf8_lossy(&b[start..]).into_owned()
    } else {
        let lines: Vec<&str> = content.split_inclusive('\n').collect();
        let start = match from {
            TailFrom::Start(n) => n.saturating_sub(1).min(lines.len()),
            TailFrom::End(n) => lines.len().saturating_sub(n),
        };
        lines[start..].concat()
    };
    ok(out)
}

fn getent(host: &HostOs, args: &[String]) -> Output {
    let Some(db) = args.first() else {
        return fail(1, "usage: getent database [key ...]\n");
    };
    if db != "hosts" && db != "ipnodes" {
        return fail(
            1,
            format!("getent: the {db} database is not emulated by the simulator (only hosts)\n"),
        );
    }
    let table = host.hosts_table();
    let render = |(addr, names): &(String, Vec<String>)| format!("{addr}\t{}\n", names.join(" "));
    if args.len() == 1 {
        return ok(table.iter().map(render).collect::<String>());
    }
    let mut out = String::new();
    let mut code = 0;
    for key in &args[1..] {
        match table
            .iter()
            .find(|(a, n)| a == key || n.iter().any(|x| x == key))
        {
            Some(e) => out.push_str(&render(e)),
            None => code = 2,
        }
    }
    Output::new(code, out, "")
}

fn ssh_keygen(host: &HostOs, args: &[String]) -> Output {
    let usage =
        "usage: ssh-keygen -F hostname [-f known_hosts_file]\n(the simulator emulates only -F)\n";
    let mut find: Option<&str> = None;
    let mut file = KNOWN_HOSTS.to_string();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-F" => {
                find = args.get(i + 1).map(String::as_str);
                i += 2;
            }
            "-f" => {
                match args.get(i + 1) {
                    Some(f) => file = canonical_path(f).to_string(),
                    None => return fail(1, usage),
                }
                i += 2;
            }
            "-H" | "-l" | "-v" | "-q" => i += 1,
            _ => return fail(1, usage),
        }
    }
    let Some(target) = find else {
        return fail(1, usage);
    };
    let Some(content) = host.file(&file) else {
        // OpenSSH says nothing more useful than this when the file is missing.
        return fail(1, format!("{file}: No such file or directory\n"));
    };
    let mut out = String::new();
    for (n, line) in content.lines().enumerate() {
        let hosts = line.split_whitespace().next().unwrap_or("");
        if !line.starts_with('#') && hosts.split(',').any(|h| h == target) {
            out.push_str(&format!("# Host {target} found: line {}\n{line}\n", n + 1));
        }
    }
    if out.is_empty() {
        Output::new(1, "", "")
    } else {
        ok(out)
    }
}
