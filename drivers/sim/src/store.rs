//! Where a site's state lives: in memory behind a mutex, or in a folder (`site.json`)
//! that several processes may use at once. In a folder every operation takes an exclusive
//! lock on `site.lock`, loads the state, applies the operation and writes the state back
//! atomically (temporary file + rename), so concurrent `hascript sim exec` processes or an
//! sshd `ForceCommand` never see or leave a half-written site.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::SimError;
use crate::state::{SiteState, FORMAT};

/// The state file in a site folder.
pub(crate) const STATE_FILE: &str = "site.json";
/// The lock file in a site folder.
pub(crate) const LOCK_FILE: &str = "site.lock";

/// Where the state is kept.
pub(crate) enum Store {
    /// In this process only.
    Memory(Mutex<SiteState>),
    /// In a folder.
    Folder(Folder),
}

impl Store {
    /// Run `f` on the state; `write` says whether it may have changed it.
    pub(crate) fn with<R>(
        &self,
        write: bool,
        f: impl FnOnce(&mut SiteState) -> R,
    ) -> Result<R, SimError> {
        match self {
            Store::Memory(m) => {
                let mut g = match m.lock() {
                    Ok(g) => g,
                    Err(p) => p.into_inner(),
                };
                Ok(f(&mut g))
            }
            Store::Folder(folder) => folder.with(write, f),
        }
    }
}

/// A site folder.
pub(crate) struct Folder {
    dir: PathBuf,
    /// Serialises this process's own users (the file lock does the rest).
    gate: Mutex<()>,
}

fn lock_file(dir: &Path) -> Result<File, SimError> {
    let path = dir.join(LOCK_FILE);
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| SimError::io(path, e))
}

fn load(path: &Path) -> Result<SiteState, SimError> {
    let bytes = fs::read(path).map_err(|e| SimError::io(path, e))?;
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| SimError::Corrupt {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    let format = value.get("format").and_then(|f| f.as_u64());
    if format != Some(u64::from(FORMAT)) {
        return Err(SimError::Corrupt {
            path: path.to_path_buf(),
            message: format!(
                "state format {} where this hascript reads format {FORMAT}",
                format
                    .map(|f| f.to_string())
                    .unwrap_or_else(|| "missing".into())
            ),
        });
    }
    serde_json::from_value(value).map_err(|e| SimError::Corrupt {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

fn save(dir: &Path, state: &SiteState) -> Result<(), SimError> {
    let path = dir.join(STATE_FILE);
    let json = serde_json::to_vec_pretty(state).map_err(|e| SimError::Corrupt {
        path: path.clone(),
        message: e.to_string(),
    })?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".site.json.")
        .tempfile_in(dir)
        .map_err(|e| SimError::io(dir, e))?;
    tmp.write_all(&json)
        .map_err(|e| SimError::io(tmp.path(), e))?;
    tmp.persist(&path)
        .map_err(|e| SimError::io(&path, e.error))?;
    Ok(())
}

/// Whether `dir` holds nothing but our own lock or leftover temporary files.
fn is_empty_dir(dir: &Path) -> Result<bool, SimError> {
    let entries = fs::read_dir(dir).map_err(|e| SimError::io(dir, e))?;
    for e in entries {
        let e = e.map_err(|e| SimError::io(dir, e))?;
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name != LOCK_FILE && !name.starts_with(".site.json.") {
            return Ok(false);
        }
    }
    Ok(true)
}

impl Folder {
    /// Open the site in `dir`, creating it from `make` when the folder is missing or empty.
    /// `scenario_given` says whether the caller asked for a scenario (refused when the
    /// folder already holds a site). Returns the folder and the state as it is now.
    pub(crate) fn open_or_create(
        dir: &Path,
        scenario_given: bool,
        make: impl FnOnce() -> Result<SiteState, SimError>,
    ) -> Result<(Folder, SiteState), SimError> {
        fs::create_dir_all(dir).map_err(|e| SimError::io(dir, e))?;
        let lock = lock_file(dir)?;
        let mut lock = fd_lock::RwLock::new(lock);
        let _guard = lock
            .write()
            .map_err(|e| SimError::io(dir.join(LOCK_FILE), e))?;
        let path = dir.join(STATE_FILE);
        let state = if path.exists() {
            if scenario_given {
                return Err(SimError::ScenarioWithExistingState {
                    dir: dir.to_path_buf(),
                });
            }
            load(&path)?
        } else {
            if !is_empty_dir(dir)? {
                return Err(SimError::NotASite {
                    dir: dir.to_path_buf(),
                });
            }
            let state = make()?;
            save(dir, &state)?;
            state
        };
        Ok((Folder::at(dir), state))
    }

    /// Open the site that must already be in `dir`.
    pub(crate) fn open(dir: &Path) -> Result<(Folder, SiteState), SimError> {
        let path = dir.join(STATE_FILE);
        if !path.is_file() {
            return Err(SimError::NoState {
                dir: dir.to_path_buf(),
            });
        }
        let folder = Folder::at(dir);
        let state = folder.with(false, |s| s.clone())?;
        Ok((folder, state))
    }

    fn at(dir: &Path) -> Folder {
        Folder {
            dir: dir.to_path_buf(),
            gate: Mutex::new(()),
        }
    }

    /// The folder.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    fn with<R>(&self, write: bool, f: impl FnOnce(&mut SiteState) -> R) -> Result<R, SimError> {
        let _gate = match self.gate.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let mut lock = fd_lock::RwLock::new(lock_file(&self.dir)?);
        let path = self.dir.join(STATE_FILE);
        if write {
            let _guard = lock
                .write()
                .map_err(|e| SimError::io(self.dir.join(LOCK_FILE), e))?;
            let mut state = load(&path)?;
            let r = f(&mut state);
            save(&self.dir, &state)?;
            Ok(r)
        } else {
            let _guard = lock
                .read()
                .map_err(|e| SimError::io(self.dir.join(LOCK_FILE), e))?;
            let mut state = load(&path)?;
            Ok(f(&mut state))
        }
    }
}
