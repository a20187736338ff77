//! The verdict of `cmcheckconf -P F` and `cmapplyconf -P F`.
//!
//! Success: `cmcheckconf: Verification completed with no errors found.`, and for
//! `cmapplyconf` (after the confirmation prompt when the package runs)
//! `Completed the cluster update`. Failure: error lines such as
//! `Incorrect permissions for /etc/cmcluster/slvm1 (40777). Directory must be executable for owner, and not writable by group and others on node node2.`
//! then `cmcheckconf: Unable to verify package.` (or `cmapplyconf: Unable to apply …`).
//!
//! The text never fails to parse: the verdict is `ok` only when a success line is present and
//! no error line is. The exit status remains the caller's first evidence.

use serde::Serialize;

use super::text::lines;

/// A package directory with a mode Serviceguard refuses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PermissionProblem {
    /// The directory (`/etc/cmcluster/slvm1`).
    pub path: String,
    /// Its `st_mode` in octal as printed (`40777`).
    pub mode: String,
    /// The node where it is wrong.
    pub node: String,
}

/// The verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckVerdict {
    /// A success line was printed and no error line.
    pub ok: bool,
    /// The error lines, as printed (trimmed).
    pub errors: Vec<String>,
    /// The `Incorrect permissions for …` lines, read.
    pub permission_problems: Vec<PermissionProblem>,
}

/// Read `Incorrect permissions for <path> (<mode>). … on node <node>.`
pub fn permission_problem(line: &str) -> Option<PermissionProblem> {
    let i = line.find("Incorrect permissions for ")?;
    let rest = &line[i + "Incorrect permissions for ".len()..];
    let open = rest.find(" (")?;
    let path = rest[..open].trim();
    let close = rest[open + 2..].find(')')? + open + 2;
    let mode = rest[open + 2..close].trim();
    let after = &rest[close..];
    let node = after
        .rfind("on node ")
        .map(|j| {
            after[j + "on node ".len()..]
                .trim()
                .trim_end_matches('.')
                .trim()
        })
        .unwrap_or("");
    Some(PermissionProblem {
        path: path.to_string(),
        mode: mode.to_string(),
        node: node.to_string(),
    })
}

const SUCCESS: &[&str] = &[
    "Verification completed with no errors found",
    "Completed the cluster update",
    "Completed the cluster creation",
];

fn is_error(l: &str) -> bool {
    let low = l.to_ascii_lowercase();
    l.starts_with("ERROR")
        || low.starts_with("error:")
        || l.contains("Incorrect permissions for ")
        || low.contains("unable to ")
        || low.contains("failed to ")
        || low.contains("verification failed")
        || low.contains("found error")
        || low.contains("errors found") && !low.contains("no errors found")
}

/// Read the output of `cmcheckconf` / `cmapplyconf`.
pub fn parse(text: &str) -> CheckVerdict {
    let mut success = false;
    let mut errors = Vec::new();
    let mut problems = Vec::new();
    for (_, l) in lines(text) {
        let t = l.trim();
        if t.is_empty() {
            continue;
        }
        if SUCCESS.iter().any(|s| t.contains(s)) {
            success = true;
            continue;
        }
        if is_error(t) {
            if let Some(p) = permission_problem(t) {
                problems.push(p);
            }
            errors.push(t.to_string());
        }
    }
    CheckVerdict {
        ok: success && errors.is_empty(),
        errors,
        permission_problems: problems,
    }
}
