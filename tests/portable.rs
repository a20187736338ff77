//! A binary that can be copied to a jump host: OpenSSL and zlib are compiled in, not loaded
//! from the machine (a jump host's libssl is often another major version, or absent). The
//! glibc bound (2.17) is proven by `release/build.sh` on the release build, which uses
//! another linker; here, every build — this test's own binary included — must link neither
//! library dynamically. Also: the book's troubleshooting page says what to do for every
//! exit code.

use std::path::Path;
use std::process::Command;

/// Libraries that must not be loaded at run time: the test is on their name as `ldd`
/// prints it (`libssl.so.3 => /lib/…`).
const NOT_DYNAMIC: [&str; 3] = ["libssl.so", "libcrypto.so", "libz.so"];

#[test]
fn the_binary_loads_no_libssl_libcrypto_or_libz() {
    let bin = env!("CARGO_BIN_EXE_hascript");
    let out = match Command::new("ldd").arg(bin).output() {
        Ok(o) => o,
        Err(e) => panic!("cannot run ldd (libc-bin) on {bin}: {e}"),
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "ldd {bin} failed: {}{}",
        text,
        String::from_utf8_lossy(&out.stderr)
    );
    // A dynamic binary always needs the C library: an empty or odd output must not pass.
    assert!(
        text.contains("libc.so"),
        "ldd {bin} does not list libc (not a dynamic binary?):\n{text}"
    );
    let found: Vec<&str> = text
        .lines()
        .filter(|l| NOT_DYNAMIC.iter().any(|lib| l.contains(lib)))
        .map(str::trim)
        .collect();
    assert!(
        found.is_empty(),
        "{bin} loads these at run time; they must be compiled in (ssh2's vendored-openssl, \
         libz-sys's static):\n{}",
        found.join("\n")
    );
}

/// The codes of the table in book/src/exit-codes.md (`| 0 | done … |`).
fn exit_codes(table: &str) -> Vec<String> {
    table
        .lines()
        .filter_map(|l| {
            let cell = l.strip_prefix('|')?.split('|').next()?.trim();
            (!cell.is_empty() && cell.bytes().all(|b| b.is_ascii_digit())).then(|| cell.to_string())
        })
        .collect()
}

#[test]
fn the_troubleshooting_page_covers_every_exit_code_and_is_linked() {
    let book = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("book")
        .join("src");
    let read = |name: &str| match std::fs::read_to_string(book.join(name)) {
        Ok(t) => t,
        Err(e) => panic!("cannot read book/src/{name}: {e}"),
    };
    let codes = exit_codes(&read("exit-codes.md"));
    assert!(
        codes.len() >= 9,
        "found only {codes:?} in exit-codes.md's table"
    );
    let page = read("troubleshooting.md");
    // Each code has its own heading, `## Exit N: …`, so a link can point at it.
    let missing: Vec<&String> = codes
        .iter()
        .filter(|c| {
            !page
                .lines()
                .any(|l| l.starts_with(&format!("## Exit {c}:")))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "troubleshooting.md has no `## Exit N:` section for {missing:?}"
    );
    assert!(
        read("SUMMARY.md").contains("(troubleshooting.md)"),
        "SUMMARY.md does not link troubleshooting.md"
    );
}
