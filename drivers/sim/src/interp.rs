//! Runs a parsed command line on one simulated host like `sh` would: variables, `export`,
//! `exit`, the `&&`/`||` rules, and command names resolved through `PATH` to the generic
//! programs ([`crate::posix`]) or to the products the site's model emulates.

use std::collections::BTreeMap;

use hascript_api::{ExitStatus, Output};

use crate::model::Model;
use crate::posix::{self, ProcessIo, ProgramSpec, Stdin};
use crate::shell::{self, Connector, Script, ShellError};
use crate::world::{World, HOME};

/// Shell builtins the simulator recognises but does not emulate.
const UNEMULATED_BUILTINS: &[&str] = &[
    "cd", "eval", "exec", ".", "source", "set", "unset", "trap", "read", "shift", "wait", "alias",
    "ulimit", "command", "type", "getopts", "readonly", "return", "break", "continue",
];

/// How deep `sh -c` may nest.
const MAX_DEPTH: usize = 8;

/// On Solaris `/bin` is a link to `/usr/bin`.
fn canonical_dir(dir: &str) -> &str {
    let d = dir.trim_end_matches('/');
    match d {
        "/bin" => "/usr/bin",
        "" => "/",
        d => d,
    }
}

/// Find the program a command word names, among `programs`, with `path` as `PATH`.
pub(crate) fn resolve(programs: &[ProgramSpec], path: &str, word: &str) -> Option<&'static str> {
    let has = |dir: &str, name: &str| {
        programs
            .iter()
            .find(|p| p.name == name && p.dirs.contains(&canonical_dir(dir)))
            .map(|p| p.name)
    };
    if word.contains('/') {
        let (dir, base) = word.rsplit_once('/')?;
        if !dir.starts_with('/') && !dir.is_empty() {
            return None;
        }
        has(dir, base)
    } else {
        path.split(':')
            .filter(|d| d.starts_with('/'))
            .find_map(|d| has(d, word))
    }
}

struct Shell {
    vars: BTreeMap<String, String>,
    status: i32,
    /// What the commands wrote, as bytes: a command that passes bytes through (`dd`,
    /// `tail -c`) keeps them exact.
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    exited: bool,
    /// Standard input not read yet, and the umask.
    io: ProcessIo,
}

impl Shell {
    fn new(io: ProcessIo, path: &str) -> Self {
        let mut vars = BTreeMap::new();
        for (k, v) in [
            ("HOME", HOME),
            ("PATH", path),
            ("LOGNAME", "root"),
            ("USER", "root"),
            ("SHELL", "/usr/bin/sh"),
        ] {
            vars.insert(k.to_string(), v.to_string());
        }
        Shell {
            vars,
            status: 0,
            stdout: Vec::new(),
            stderr: Vec::new(),
            exited: false,
            io,
        }
    }

    fn lookup(&self, name: &str) -> String {
        if name == "?" {
            return self.status.to_string();
        }
        self.vars.get(name).cloned().unwrap_or_default()
    }

    fn emit(&mut self, out: Output) {
        self.stdout.extend_from_slice(out.stdout_bytes());
        self.stderr.extend_from_slice(out.stderr_bytes());
        self.status = out.code();
    }

    fn run(
        &mut self,
        world: &mut World,
        model: &mut Model,
        host: &str,
        script: &Script,
        depth: usize,
    ) {
        for (conn, cmd) in &script.commands {
            if self.exited {
                break;
            }
            match conn {
                Connector::And if self.status != 0 => continue,
                Connector::Or if self.status == 0 => continue,
                _ => {}
            }
            let lookup = |n: &str| self.lookup(n);
            let assigns: Vec<(String, String)> = cmd
                .assignments
                .iter()
                .map(|(n, w)| (n.clone(), shell::expand_value(w, &lookup, HOME)))
                .collect();
            let argv: Vec<String> = cmd
                .words
                .iter()
                .flat_map(|w| shell::expand(w, &lookup, HOME))
                .collect();
            let Some((name, args)) = argv.split_first() else {
                // Plain assignments take effect left to right (`A=1 B=$A`).
                for (n, w) in &cmd.assignments {
                    let v = shell::expand_value(w, &|x: &str| self.lookup(x), HOME);
                    self.vars.insert(n.clone(), v);
                }
                self.status = 0;
                continue;
            };
            // Prefix assignments only affect the command's environment; PATH is the one
            // that changes what runs.
            let path = assigns
                .iter()
                .rev()
                .find(|(n, _)| n == "PATH")
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| self.lookup("PATH"));
            self.simple(world, model, host, name, args, &path, depth);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn simple(
        &mut self,
        world: &mut World,
        model: &mut Model,
        host: &str,
        name: &str,
        args: &[String],
        path: &str,
        depth: usize,
    ) {
        match name {
            ":" => {
                self.status = 0;
                return;
            }
            "export" => {
                for a in args {
                    let (n, v) = match a.split_once('=') {
                        Some((n, v)) => (n, Some(v)),
                        None => (a.as_str(), None),
                    };
                    if !shell::is_name(n) {
                        self.emit(Output::new(
                            1,
                            "",
                            format!("sh: export: {n}: invalid identifier\n"),
                        ));
                        return;
                    }
                    if let Some(v) = v {
                        self.vars.insert(n.to_string(), v.to_string());
                    }
                }
                self.status = 0;
                return;
            }
            "exit" => {
                let code = match args.first() {
                    None => self.status,
                    Some(a) => match a.parse::<i64>() {
                        Ok(n) => (n.rem_euclid(256)) as i32,
                        Err(_) => {
                            self.emit(Output::new(2, "", format!("sh: exit: {a}: bad number\n")));
                            self.exited = true;
                            return;
                        }
                    },
                };
                self.status = code;
                self.exited = true;
                return;
            }
            "umask" => {
                match args.first() {
                    None => {
                        let out = format!("{:03o}\n", self.io.umask);
                        self.emit(Output::new(0, out, ""));
                    }
                    Some(a) => match u32::from_str_radix(a, 8) {
                        Ok(m) if m <= 0o777 && !a.is_empty() => {
                            self.io.umask = m;
                            self.status = 0;
                        }
                        _ => {
                            // Symbolic umasks (u=rwx,…) are valid sh; the simulator takes octal only.
                            let e = ShellError::Unsupported(format!("umask {a} (octal only)"));
                            self.emit(Output::new(2, "", format!("{e}\n")));
                        }
                    },
                }
                return;
            }
            n if UNEMULATED_BUILTINS.contains(&n) => {
                let e = ShellError::Unsupported(format!("builtin {n}"));
                self.emit(Output::new(2, "", format!("{e}\n")));
                return;
            }
            _ => {}
        }
        let programs = all_programs(model, host);
        let Some(program) = resolve(&programs, path, name) else {
            self.emit(Output::new(127, "", format!("sh: {name}: not found\n")));
            return;
        };
        if program == "sh" {
            let out = sh_c(world, model, host, args, depth, &mut self.io);
            self.emit(out);
            return;
        }
        let out = if posix::PROGRAMS.iter().any(|p| p.name == program) {
            let now_ms = world.now_ms;
            match world.host_mut(host) {
                Some(os) => posix::run(os, now_ms, program, args, &mut self.io),
                None => Output::new(127, "", format!("sh: {name}: not found\n")),
            }
        } else {
            model.run(world, host, program, args, &mut self.io)
        };
        self.emit(out);
    }
}

/// Every program installed on `host`: the generic ones and the model's.
fn all_programs(model: &Model, host: &str) -> Vec<ProgramSpec> {
    let mut v: Vec<ProgramSpec> = posix::PROGRAMS.to_vec();
    v.extend(model.programs(host));
    v
}

/// `sh -c TEXT`: run TEXT in a new shell, which inherits the unread standard input and
/// the umask (a umask set inside does not come back out).
fn sh_c(
    world: &mut World,
    model: &mut Model,
    host: &str,
    args: &[String],
    depth: usize,
    io: &mut ProcessIo,
) -> Output {
    match args {
        [flag, text, ..] if flag == "-c" => {
            if depth >= MAX_DEPTH {
                return Output::new(2, "", "sh: nesting too deep for the simulator\n");
            }
            let umask = io.umask;
            let out = run_text(world, model, host, text, depth + 1, io);
            io.umask = umask;
            out
        }
        _ => {
            let e = ShellError::Unsupported(
                "sh without -c (reading a script from a file or stdin)".into(),
            );
            Output::new(2, "", format!("{e}\n"))
        }
    }
}

fn run_text(
    world: &mut World,
    model: &mut Model,
    host: &str,
    line: &str,
    depth: usize,
    io: &mut ProcessIo,
) -> Output {
    match shell::parse(line) {
        Err(e) => Output::new(2, "", format!("{e}\n")),
        Ok(script) => {
            let mut sh = Shell::new(std::mem::take(io), model.default_path());
            sh.run(world, model, host, &script, depth);
            *io = sh.io;
            Output::from_bytes(ExitStatus::Code(sh.status), sh.stdout, sh.stderr)
        }
    }
}

/// Run one command line on `host` (which must exist in `world`), with `stdin` as the
/// standard input of the first command that reads it.
pub(crate) fn run_line(
    world: &mut World,
    model: &mut Model,
    host: &str,
    line: &str,
    stdin: Stdin,
) -> Output {
    let mut io = ProcessIo {
        stdin,
        ..ProcessIo::default()
    };
    run_text(world, model, host, line, 0, &mut io)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::DEFAULT_PATH;

    const P: &[ProgramSpec] = &[
        ProgramSpec {
            name: "ldm",
            dirs: &["/usr/sbin"],
        },
        ProgramSpec {
            name: "cftool",
            dirs: &["/opt/SMAW/bin", "/opt/SMAW/SMAWcf/bin"],
        },
        ProgramSpec {
            name: "wc",
            dirs: &["/usr/bin"],
        },
    ];

    #[test]
    fn bare_names_follow_path() {
        assert_eq!(resolve(P, DEFAULT_PATH, "ldm"), Some("ldm"));
        assert_eq!(resolve(P, DEFAULT_PATH, "cftool"), Some("cftool"));
        assert_eq!(resolve(P, "/usr/bin", "ldm"), None);
        assert_eq!(resolve(P, "relative:/usr/sbin", "ldm"), Some("ldm"));
        assert_eq!(resolve(P, DEFAULT_PATH, "nosuch"), None);
    }

    #[test]
    fn full_paths_must_be_where_the_product_installs() {
        assert_eq!(resolve(P, DEFAULT_PATH, "/usr/sbin/ldm"), Some("ldm"));
        assert_eq!(resolve(P, DEFAULT_PATH, "/usr/bin/ldm"), None);
        assert_eq!(
            resolve(P, DEFAULT_PATH, "/opt/SMAW/SMAWcf/bin/cftool"),
            Some("cftool")
        );
        assert_eq!(resolve(P, DEFAULT_PATH, "/bin/wc"), Some("wc"));
        assert_eq!(resolve(P, DEFAULT_PATH, "/bin/"), None);
        assert_eq!(resolve(P, DEFAULT_PATH, "sbin/ldm"), None);
        assert_eq!(resolve(P, DEFAULT_PATH, "/"), None);
    }
}
