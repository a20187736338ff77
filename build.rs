//! Embeds the shipped procedures of `scripts/` into the binary: generates a table of
//! `(name, path, source)` where `name` is the path under `scripts/` without `.rhai`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().and_then(|e| e.to_str()) == Some("rhai") {
            out.push(p);
        }
    }
}

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
    let scripts = root.join("scripts");
    println!("cargo:rerun-if-changed=scripts");
    let mut files = Vec::new();
    walk(&scripts, &mut files);
    let mut code = String::from(
        "/// Shipped scripts: (name, source).\npub static SHIPPED: &[(&str, &str)] = &[\n",
    );
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let Ok(rel) = f.strip_prefix(&scripts) else {
            continue;
        };
        let name: Vec<String> = rel
            .with_extension("")
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        code.push_str(&format!(
            "    ({:?}, include_str!({:?})),\n",
            name.join("/"),
            f.display().to_string()
        ));
    }
    // Directories too, so a new file in a sub-folder triggers a rebuild.
    let mut dirs = vec![scripts.clone()];
    while let Some(d) = dirs.pop() {
        println!("cargo:rerun-if-changed={}", d.display());
        if let Ok(rd) = fs::read_dir(&d) {
            for e in rd.filter_map(Result::ok) {
                if e.path().is_dir() {
                    dirs.push(e.path());
                }
            }
        }
    }
    code.push_str("];\n");
    commit(&root);
    let out =
        PathBuf::from(std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into())).join("shipped.rs");
    let mut f = match fs::File::create(&out) {
        Ok(f) => f,
        Err(e) => panic!("cannot write {}: {e}", out.display()),
    };
    if let Err(e) = f.write_all(code.as_bytes()) {
        panic!("cannot write {}: {e}", out.display());
    }
}
