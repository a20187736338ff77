//! Embeds the shipped procedures of the workspace's `scripts/` into the engine: generates a table of
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

fn main() {
    // The shipped scripts are the workspace's `scripts/`, two levels above this crate.
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into()));
    let scripts = root.join("../../scripts");
    println!("cargo:rerun-if-changed={}", scripts.display());
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
