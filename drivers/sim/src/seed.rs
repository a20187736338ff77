//! Seeding a simulated copy of a **real** site from what its read-only commands returned,
//! for `hascript run -i … --dry-run`: the CLI sends the reads to the site, keeps each
//! answer as an [`Observation`], and at the first change asks [`crate::SimSite::seeded`]
//! for a copy to run the rest of the procedure against.
//!
//! The copy must be a full emulator state ([`crate::ldoms`]'s `LdomsState`, `hpvm`'s
//! `HpvmState`) and the simulator parses the products' outputs itself (it shares no code
//! with the drivers' parsers). What each driver's state needs, and from which reads:
//!
//! - LDoms: `ldm list -p` on every control domain (domains, states, CPUs, memory,
//!   consoles), `ldm list-spconfig` (saved configurations), `cftool -n` (CF nodes and
//!   numbers), `cfset -a` (`CLUSTER_TIMEOUT`), `sdtool -s` (agent rows), `clsnmpsetup -l`
//!   (PPAR-IDs, XSCF addresses, the XSCF user), `hvdisp -T userApplication` (RMS), plus the
//!   files later read back (`/etc/inet/hosts`, `known_hosts`, the log files and their sizes).
//! - Serviceguard: `cmviewcl -v -f line`, `hpvmstatus` / `hpvmstatus -P` on every VM host,
//!   the package files, the toolkit's files and their modes.
//!
//! Building those states from observations is not done yet: [`classify`] tells which of the
//! needed reads were seen, and [`seed`] refuses with what is missing, so the dry run marks
//! the change "unknown" instead of guessing.

use serde::{Deserialize, Serialize};

use crate::error::SimError;

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

/// The words of a command line without its locale prefix.
fn words(line: &str) -> Vec<String> {
    let line = line
        .trim_start_matches("LC_ALL=C; export LC_ALL; ")
        .trim_start_matches("LC_ALL=C ");
    line.split_whitespace()
        .map(|w| w.trim_matches('\'').to_string())
        .collect()
}

/// Which of `driver`'s seeding reads appear (successfully) in `observations`: (label,
/// hosts it was seen on), in the driver's order.
pub fn classify(driver: &str, observations: &[Observation]) -> Vec<(&'static str, Vec<String>)> {
    reads_of(driver)
        .iter()
        .map(|(label, prog, args)| {
            let mut hosts: Vec<String> = observations
                .iter()
                .filter(|o| o.exit == 0)
                .filter(|o| {
                    let w = words(&o.line);
                    w.first()
                        .is_some_and(|p| p.rsplit('/').next() == Some(*prog))
                        && w.len() == args.len() + 1
                        && w[1..].iter().zip(args.iter()).all(|(a, b)| a == b)
                })
                .map(|o| o.host.clone())
                .collect();
            hosts.dedup();
            (*label, hosts)
        })
        .collect()
}

/// The copy's state for `driver` from `observations`; today always a
/// [`SimError::CannotSeed`] saying what was seen and what the emulator cannot yet build.
pub(crate) fn seed(driver: &str, observations: &[Observation]) -> Result<(), SimError> {
    let seen = classify(driver, observations);
    if seen.is_empty() {
        return Err(SimError::CannotSeed {
            driver: driver.to_string(),
            why: format!("the simulator has no model of a {driver} site"),
        });
    }
    let have: Vec<String> = seen
        .iter()
        .filter(|(_, h)| !h.is_empty())
        .map(|(l, h)| format!("{l} on {}", h.join(", ")))
        .collect();
    let missing: Vec<&str> = seen
        .iter()
        .filter(|(_, h)| h.is_empty())
        .map(|(l, _)| *l)
        .collect();
    let mut why = String::from(
        "building the emulator's state from a real site's read-only outputs is not implemented yet",
    );
    if !have.is_empty() {
        why.push_str(&format!(" (read before this change: {})", have.join("; ")));
    }
    if !missing.is_empty() {
        why.push_str(&format!(" (not read before it: {})", missing.join(", ")));
    }
    Err(SimError::CannotSeed {
        driver: driver.to_string(),
        why,
    })
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
            obs("cd2", "LC_ALL=C /usr/sbin/ldm list -p", 0),
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
        let e = seed("ldoms", &o).expect_err("not implemented").to_string();
        assert!(e.contains("ldm list -p on cd1, cd2"), "{e}");
        assert!(e.contains("not read before it: ldm list-spconfig"), "{e}");
        assert!(seed("other", &o).is_err());
    }
}
