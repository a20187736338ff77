//! The commit `--version` names (`HASCRIPT_COMMIT`). The shipped scripts are embedded by
//! hascript-engine's own build script.

use std::path::{Path, PathBuf};

/// The commit `--version` names (`HASCRIPT_COMMIT`): `git rev-parse --short HEAD` when the
/// source is a git checkout and git runs, else `unknown` — a build never fails without git.
fn commit(root: &Path) {
    let git = |args: &[&str]| -> Option<String> {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
        (!s.is_empty()).then_some(s)
    };
    let hash = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into());
    // Rebuilt when HEAD moves: HEAD itself, the branch it names, and packed refs.
    for path in [
        Some("HEAD".to_string()),
        git(&["symbolic-ref", "-q", "HEAD"]),
        Some("packed-refs".into()),
    ]
    .into_iter()
    .flatten()
    {
        if let Some(p) = git(&["rev-parse", "--path-format=absolute", "--git-path", &path]) {
            if Path::new(&p).exists() {
                println!("cargo:rerun-if-changed={p}");
            }
        }
    }
    println!("cargo:rustc-env=HASCRIPT_COMMIT={hash}");
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into()));
    commit(&root);
}
