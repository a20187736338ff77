//! Seeding a simulated copy of a **real** site from what its read-only commands returned,
//! for `hascript run -i … --dry-run`: the CLI sends the reads to the site, keeps each
//! answer as an [`Observation`], and at the first change asks [`crate::SimSite::seeded`]
//! for a copy to run the rest of the procedure against.
//!
//! The copy is a full emulator state (`ldoms::LdomsState`, `hpvm::HpvmState`) built from
//! two sources only:
//!
//! - what the inventory declares ([`Declared`]: roles, addresses, boxes, PPAR-IDs, XSCF
//!   addresses, domain and VM names, the cluster's normal CF timeout);
//! - what the reads returned ([`Observation`]), parsed by the simulator itself (it shares
//!   no code with the drivers' parsers): `ldm list -p`, `ldm list-spconfig`, `cftool -n`,
//!   `cfset -a`, `sdtool -s`, `clsnmpsetup -l`, `hvdisp`, file reads for LDoms;
//!   `cmviewcl -v -f line`, `hpvmstatus`, package files for Serviceguard.
//!
//! What neither source tells is **not guessed**: it becomes a [`Gap`]. A command the copy
//! receives that would read or act on a gap (a control domain whose saved configurations
//! were never listed, a file never read on a host, a host never reached) is answered with
//! "unknown" ([`crate::CopyAnswer::Unknown`]), and the dry run stops its plan there.
//!
//! This module is the framework both models' seeds use (`ldoms/seed.rs`, `hpvm/seed/`) and
//! imports neither; `state::seed` picks the model's seed and makes the site's state.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::shell;

/// One read-only command the dry run sent to the real site, and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// The inventory host.
    pub host: String,
    /// The command line as sent (with its `LC_ALL=C` prefix).
    pub line: String,
    /// Its exit code.
    pub exit: i32,
    /// Its standard output.
    pub stdout: String,
}

/// One host as the inventory declares it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeclaredHost {
    /// Inventory name.
    pub name: String,
    /// `control-domain`, `guest-domain`, `vm-host` or `vm-guest`.
    pub role: String,
    /// Its address, when the inventory gives one.
    pub address: Option<String>,
    /// LDoms: its name in the other control domains' `/etc/inet/hosts`.
    pub hosts_name: Option<String>,
    /// LDoms: the physical box.
    pub box_name: Option<String>,
    /// LDoms: PPAR-ID of its physical partition.
    pub ppar_id: Option<u32>,
    /// LDoms: XSCF-LAN#0 and #1 addresses of its box.
    pub xscf: Option<[String; 2]>,
    /// LDoms guest: the domain name; Serviceguard guest: the VM name.
    pub domain: Option<String>,
}

/// What the inventory declares about a real site: the facts a dry run may rely on besides
/// the reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Declared {
    /// Hosts in inventory order.
    pub hosts: Vec<DeclaredHost>,
    /// LDoms: the CF timeout the cluster normally runs with (seconds).
    pub cf_timeout: Option<u32>,
    /// LDoms: the XSCF user of the shutdown agents.
    pub xscf_user: Option<String>,
    /// Serviceguard: the cluster's name.
    pub cluster: Option<String>,
}

impl Declared {
    /// The hosts of `role`, in inventory order.
    pub(crate) fn with_role<'a>(&'a self, role: &'a str) -> impl Iterator<Item = &'a DeclaredHost> {
        self.hosts.iter().filter(move |h| h.role == role)
    }
}

/// Something the copy cannot represent: a command matching it is answered "unknown".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Gap {
    /// The host it concerns (`None`: every host).
    pub host: Option<String>,
    /// The program (base name) whose answer would depend on it.
    pub program: String,
    /// The arguments that select it (a prefix of the command's arguments; empty: any).
    pub args: Vec<String>,
    /// Why, for the plan ("the saved configurations of cd1 were never listed").
    pub why: String,
    /// The gap closes once the copy itself started the shutdown facility on this host:
    /// from then on the model computes what it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_sf_start: Option<String>,
    /// Only the command with exactly these arguments (`hpvmstatus` with none), not every
    /// command they begin.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exact: bool,
}

/// What a seeded copy knows it does not know (kept in its state).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SeedInfo {
    /// Commands the copy cannot answer.
    pub gaps: Vec<Gap>,
    /// Hosts whose files were only partly seen: a file the copy lacks there is unknown,
    /// not absent.
    pub partial_files: BTreeSet<String>,
    /// (host, argv) of reads that failed on the real site: their failure is known.
    pub failed_reads: BTreeSet<(String, Vec<String>)>,
    /// Files whose size only was read (`wc -c`): the copy holds filler of that size, so
    /// only their size and what is appended after it can be answered.
    #[serde(default)]
    pub sized_only: Vec<SizedFile>,
    /// (host, address) pairs whose presence in the host's `known_hosts` is established
    /// (found or not found by `ssh-keygen -F`, or proven by a working agent test).
    #[serde(default)]
    pub known_keys: BTreeSet<(String, String)>,
    /// Hosts whose `known_hosts` was read whole.
    #[serde(default)]
    pub whole_known_hosts: BTreeSet<String>,
}

/// A file of which only the size is known (see [`SeedInfo::sized_only`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SizedFile {
    /// The host.
    pub host: String,
    /// The file.
    pub path: String,
    /// Its size when it was read, bytes.
    pub size: u64,
}

impl SeedInfo {
    /// Why the copy cannot answer `line` on `host`, if it cannot (a gap it matches).
    /// `lifted` says whether the model closed a gap since (see [`Gap::until_sf_start`]).
    pub(crate) fn gap_for(
        &self,
        host: &str,
        line: &str,
        lifted: &dyn Fn(&Gap) -> bool,
    ) -> Option<String> {
        let cmds = commands_of(line);
        self.gaps
            .iter()
            .find(|g| {
                !lifted(g)
                    && g.host.as_deref().is_none_or(|h| h == host)
                    && cmds.iter().any(|argv| {
                        argv.first()
                            .is_some_and(|p| p.rsplit('/').next() == Some(g.program.as_str()))
                            && if g.exact {
                                argv.len() == g.args.len() + 1
                            } else {
                                argv.len() > g.args.len()
                            }
                            && argv[1..].iter().zip(g.args.iter()).all(|(a, b)| a == b)
                    })
            })
            .map(|g| g.why.clone())
    }

    /// Why the copy cannot answer `line` on `host` because it reads the filler of a file
    /// whose size only is known: anything but `wc -c FILE` and `tail -c +N FILE` past the
    /// known size.
    pub(crate) fn filler_read(&self, host: &str, line: &str) -> Option<String> {
        let files: Vec<&SizedFile> = self.sized_only.iter().filter(|f| f.host == host).collect();
        if files.is_empty() {
            return None;
        }
        for argv in commands_of(line) {
            for f in &files {
                if !argv.iter().skip(1).any(|a| a == &f.path) {
                    continue;
                }
                let prog = argv[0].rsplit('/').next().unwrap_or("");
                let allowed = match (prog, &argv[1..]) {
                    ("wc", [c, p]) => c == "-c" && p == &f.path,
                    ("tail", [c, from, p]) => {
                        c == "-c"
                            && p == &f.path
                            && from
                                .strip_prefix('+')
                                .and_then(|n| n.parse::<u64>().ok())
                                .is_some_and(|n| n > f.size)
                    }
                    _ => false,
                };
                if !allowed {
                    return Some(format!(
                        "only the size of {} on {host} was read before the first change",
                        f.path
                    ));
                }
            }
        }
        None
    }

    /// Whether a failed answer to `line` on `host` may be the copy's ignorance: the host's
    /// files were only partly seen, the answer says a file is missing, and the same read
    /// did not fail on the real site.
    pub(crate) fn missing_file_unknown(&self, host: &str, line: &str, stderr: &str) -> bool {
        if !self.partial_files.contains(host) || !stderr.contains("No such file or directory") {
            return false;
        }
        !commands_of(line)
            .into_iter()
            .any(|argv| self.failed_reads.contains(&(host.to_string(), argv)))
    }
}

/// The simple commands of a line as argument vectors (variables expanded to nothing, the
/// leading `LC_ALL=C` assignment and `export` dropped); empty when the line does not parse.
pub(crate) fn commands_of(line: &str) -> Vec<Vec<String>> {
    let Ok(script) = shell::parse(line) else {
        return Vec::new();
    };
    script
        .commands
        .iter()
        .map(|(_, c)| {
            c.words
                .iter()
                .flat_map(|w| shell::expand(w, &|_| String::new(), crate::world::HOME))
                .collect::<Vec<String>>()
        })
        .filter(|argv| argv.first().is_some_and(|p| p != "export"))
        .collect()
}

/// The observations of `host` whose line runs `program` (base name) with exactly `args`,
/// newest last.
pub(crate) fn reads<'a>(
    observations: &'a [Observation],
    host: &'a str,
    program: &'a str,
    args: &'a [&'a str],
) -> impl Iterator<Item = &'a Observation> + 'a {
    observations.iter().filter(move |o| {
        o.host == host
            && commands_of(&o.line).iter().any(|argv| {
                argv.first()
                    .is_some_and(|p| p.rsplit('/').next() == Some(program))
                    && argv.len() == args.len() + 1
                    && argv[1..].iter().zip(args.iter()).all(|(a, b)| a == b)
            })
    })
}

/// The last successful answer of `host` to `program args`, if any.
pub(crate) fn last_ok<'a>(
    observations: &'a [Observation],
    host: &'a str,
    program: &'a str,
    args: &'a [&'a str],
) -> Option<&'a Observation> {
    reads(observations, host, program, args)
        .filter(|o| o.exit == 0)
        .last()
}

/// The reads a driver's copy is seeded from: (label, program, arguments).
const LDOMS_READS: &[(&str, &str, &[&str])] = &[
    ("ldm list -p", "ldm", &["list", "-p"]),
    ("ldm list-spconfig", "ldm", &["list-spconfig"]),
    ("cftool -n", "cftool", &["-n"]),
    ("cfset -a", "cfset", &["-a"]),
    ("sdtool -s", "sdtool", &["-s"]),
    ("clsnmpsetup -l", "clsnmpsetup", &["-l"]),
];

const HPVM_READS: &[(&str, &str, &[&str])] = &[
    ("cmviewcl -v -f line", "cmviewcl", &["-v", "-f", "line"]),
    ("hpvmstatus", "hpvmstatus", &[]),
];

fn reads_of(driver: &str) -> &'static [(&'static str, &'static str, &'static [&'static str])] {
    match driver {
        "ldoms" => LDOMS_READS,
        "hpvm" => HPVM_READS,
        _ => &[],
    }
}

/// Which of `driver`'s main seeding reads appear (successfully) in `observations`:
/// (label, hosts it was seen on), in the driver's order.
pub fn classify(driver: &str, observations: &[Observation]) -> Vec<(&'static str, Vec<String>)> {
    reads_of(driver)
        .iter()
        .map(|(label, prog, args)| {
            let mut hosts: Vec<String> = Vec::new();
            for o in observations.iter().filter(|o| o.exit == 0) {
                let hit = commands_of(&o.line).iter().any(|argv| {
                    argv.first()
                        .is_some_and(|p| p.rsplit('/').next() == Some(*prog))
                        && argv.len() == args.len() + 1
                        && argv[1..].iter().zip(args.iter()).all(|(a, b)| a == b)
                });
                if hit && !hosts.contains(&o.host) {
                    hosts.push(o.host.clone());
                }
            }
            (*label, hosts)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(host: &str, line: &str, exit: i32) -> Observation {
        Observation {
            host: host.into(),
            line: line.into(),
            exit,
            stdout: String::new(),
        }
    }

    #[test]
    fn classify_finds_the_seeding_reads_by_program_and_arguments() {
        let o = [
            obs("cd1", "LC_ALL=C /usr/sbin/ldm list -p", 0),
            obs("cd2", "LC_ALL=C; export LC_ALL; /usr/sbin/ldm list -p", 0),
            obs("cd2", "LC_ALL=C /usr/sbin/ldm list-spconfig", 1),
            obs("guest1", "LC_ALL=C /opt/SMAW/bin/cftool -n", 0),
            obs("cd1", "LC_ALL=C /usr/sbin/ldm list -l", 0),
        ];
        let c = classify("ldoms", &o);
        assert_eq!(
            c[0],
            ("ldm list -p", vec!["cd1".to_string(), "cd2".to_string()])
        );
        assert_eq!(c[1], ("ldm list-spconfig", vec![]));
        assert_eq!(c[2], ("cftool -n", vec!["guest1".to_string()]));
        assert!(classify("other", &o).is_empty());
    }

    #[test]
    fn commands_of_splits_a_line_into_argument_vectors() {
        assert_eq!(
            commands_of("LC_ALL=C; export LC_ALL; /usr/sbin/ldm list -p"),
            vec![vec![
                "/usr/sbin/ldm".to_string(),
                "list".into(),
                "-p".into()
            ]]
        );
        assert_eq!(
            commands_of("LC_ALL=C cat '/etc/inet/hosts'"),
            vec![vec!["cat".to_string(), "/etc/inet/hosts".into()]]
        );
        assert!(commands_of("echo $(id)").is_empty());
    }

    #[test]
    fn an_exact_gap_matches_only_its_own_arguments() {
        let info = SeedInfo {
            gaps: vec![Gap {
                host: Some("node2".into()),
                program: "hpvmstatus".into(),
                args: vec![],
                why: "never listed".into(),
                until_sf_start: None,
                exact: true,
            }],
            ..SeedInfo::default()
        };
        let no = &|_: &Gap| false;
        assert!(info
            .gap_for("node2", "LC_ALL=C /opt/hpvm/bin/hpvmstatus", no)
            .is_some());
        assert!(info
            .gap_for("node2", "LC_ALL=C /opt/hpvm/bin/hpvmstatus -P slvm1", no)
            .is_none());
    }

    #[test]
    fn a_gap_matches_its_program_arguments_and_host() {
        let info = SeedInfo {
            gaps: vec![Gap {
                host: Some("cd1".into()),
                program: "ldm".into(),
                args: vec!["list-spconfig".into()],
                why: "never listed".into(),
                until_sf_start: None,
                exact: false,
            }],
            partial_files: ["cd1".to_string()].into_iter().collect(),
            sized_only: vec![SizedFile {
                host: "cd1".into(),
                path: "/var/adm/messages".into(),
                size: 10,
            }],
            failed_reads: [(
                "cd1".to_string(),
                vec!["cat".to_string(), "/etc/absent".to_string()],
            )]
            .into_iter()
            .collect(),
            ..SeedInfo::default()
        };
        assert_eq!(
            info.gap_for("cd1", "LC_ALL=C /usr/sbin/ldm list-spconfig", &|_| false),
            Some("never listed".into())
        );
        assert_eq!(
            info.gap_for("cd2", "/usr/sbin/ldm list-spconfig", &|_| false),
            None
        );
        assert_eq!(
            info.gap_for("cd1", "/usr/sbin/ldm list-spconfig", &|_| true),
            None
        );
        assert_eq!(
            info.gap_for("cd1", "/usr/sbin/ldm list -p", &|_| false),
            None
        );
        let enoent = "cat: cannot open x: No such file or directory";
        assert!(info.missing_file_unknown("cd1", "cat /etc/other", enoent));
        assert!(!info.missing_file_unknown("cd1", "cat /etc/absent", enoent));
        assert!(!info.missing_file_unknown("cd2", "cat /etc/other", enoent));
        assert!(!info.missing_file_unknown("cd1", "cat /etc/other", "permission denied"));
        assert_eq!(info.filler_read("cd1", "wc -c /var/adm/messages"), None);
        assert_eq!(
            info.filler_read("cd1", "tail -c +11 /var/adm/messages"),
            None
        );
        assert!(info
            .filler_read("cd1", "tail -c +5 /var/adm/messages")
            .is_some());
        assert!(info.filler_read("cd1", "cat /var/adm/messages").is_some());
        assert!(info
            .filler_read("cd1", "grep x /var/adm/messages")
            .is_some());
        assert_eq!(info.filler_read("cd2", "cat /var/adm/messages"), None);
    }
}
