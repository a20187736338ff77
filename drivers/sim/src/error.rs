//! Errors of the simulator's own API (opening sites, scenarios, the state folder). Commands
//! that fail on a simulated host are not errors: they are outputs with a non-zero exit.

use std::path::PathBuf;

/// What went wrong when making or opening a simulated site. Every message says what to do.
#[derive(thiserror::Error, Debug)]
#[non_exhaustive]
pub enum SimError {
    /// The scenario name is not one the simulator ships.
    #[error("unknown simulator scenario `{name}`; choose one of: {}", known.join(", "))]
    UnknownScenario {
        /// The name given.
        name: String,
        /// Every valid name (the default sites first, then the scenarios).
        known: Vec<String>,
    },
    /// A scenario was given for a folder that already holds a site.
    #[error(
        "the folder {} already holds a simulated site; a scenario only seeds a new site: \
         leave the scenario out to continue with that site, or choose a new or empty folder",
        dir.display()
    )]
    ScenarioWithExistingState {
        /// The state folder.
        dir: PathBuf,
    },
    /// The folder holds no simulated site.
    #[error(
        "no simulated site in {}: create one with `hascript sim init --state DIR \
         [--scenario NAME]` (or a run with `--sim [SCENARIO] --sim-state DIR`), or check \
         the path",
        dir.display()
    )]
    NoState {
        /// The state folder.
        dir: PathBuf,
    },
    /// The folder is not empty and holds something else than a simulated site.
    #[error(
        "{} is not empty and holds no simulated site; choose a new or empty folder for the state",
        dir.display()
    )]
    NotASite {
        /// The state folder.
        dir: PathBuf,
    },
    /// Reading or writing the state folder failed.
    #[error("cannot access {}: {source}; check the folder's path and permissions", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The state file cannot be read as a simulated site.
    #[error(
        "the simulated site in {} is unreadable ({message}); remove the folder to start over",
        path.display()
    )]
    Corrupt {
        /// The state file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A scenario file shipped with the simulator is invalid (a bug in the simulator).
    #[error(
        "scenario {name} is invalid: {message} (this is a bug in hascript-sim; please report it)"
    )]
    InvalidScenario {
        /// The scenario's name.
        name: String,
        /// What is wrong with it.
        message: String,
    },
    /// A copy of a real site cannot be made from what its read-only commands returned
    /// (`hascript run -i … --dry-run`).
    #[error(
        "no simulated copy of this {driver} site: {why}; the dry run lists the change as unknown and stops there"
    )]
    CannotSeed {
        /// The driver (`ldoms`, `hpvm`).
        driver: String,
        /// What is missing or not representable.
        why: String,
    },
}

impl SimError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        SimError::Io {
            path: path.into(),
            source,
        }
    }
}
