//! Verdict of the LDoms dry run `ldm migrate-domain -n <guest> <target>`.
//!
//! The dry run prints nothing and exits 0 when the migration would go through; otherwise it
//! prints the reasons and `Domain Migration of LDom <dom> would fail if attempted`. Without a
//! password file it asks `Target Password:`, which a non-interactive run cannot answer.

use serde::Serialize;

/// What the dry run says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum MigrationDryRun {
    /// Exit 0 and no `would fail` line.
    WouldSucceed,
    /// The migration would fail; `reasons` are the non-empty lines other than the
    /// `… would fail if attempted` line (all lines when that line is missing and the exit
    /// status is non-zero).
    WouldFail {
        /// The reasons, trimmed, stderr lines first.
        reasons: Vec<String>,
    },
    /// `Target Password:` was asked: the migration cannot authenticate without a terminal.
    PasswordPrompt,
}

/// The marker of a failed dry run.
const WOULD_FAIL: &str = "would fail if attempted";

/// Read the dry run's exit status and output.
///
/// - `Target Password:` anywhere → [`MigrationDryRun::PasswordPrompt`];
/// - a `Domain Migration of LDom <dom> would fail if attempted` line →
///   [`MigrationDryRun::WouldFail`] with the other non-empty lines;
/// - otherwise exit 0 → [`MigrationDryRun::WouldSucceed`];
/// - otherwise (non-zero exit) → [`MigrationDryRun::WouldFail`] with every non-empty line
///   (or a line stating the exit status when nothing was printed).
pub fn parse(exit: i32, stdout: &str, stderr: &str) -> MigrationDryRun {
    if stdout.contains("Target Password:") || stderr.contains("Target Password:") {
        return MigrationDryRun::PasswordPrompt;
    }
    let all: Vec<String> = stderr
        .lines()
        .chain(stdout.lines())
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    if all.iter().any(|l| l.contains(WOULD_FAIL)) {
        let reasons = all
            .into_iter()
            .filter(|l| !l.contains(WOULD_FAIL))
            .collect();
        return MigrationDryRun::WouldFail { reasons };
    }
    if exit == 0 {
        return MigrationDryRun::WouldSucceed;
    }
    let reasons = if all.is_empty() {
        vec![format!(
            "ldm migrate-domain -n exited with status {exit} and printed nothing"
        )]
    } else {
        all
    };
    MigrationDryRun::WouldFail { reasons }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        assert_eq!(parse(0, "", ""), MigrationDryRun::WouldSucceed);
        assert_eq!(
            parse(1, "", "Target Password: "),
            MigrationDryRun::PasswordPrompt
        );
        assert_eq!(
            parse(
                1,
                "",
                "Insufficient memory on target\nDomain Migration of LDom guest2 would fail if attempted\n"
            ),
            MigrationDryRun::WouldFail {
                reasons: vec!["Insufficient memory on target".into()]
            }
        );
        assert_eq!(
            parse(3, "", ""),
            MigrationDryRun::WouldFail {
                reasons: vec![
                    "ldm migrate-domain -n exited with status 3 and printed nothing".into()
                ]
            }
        );
    }
}
