//! Secrets named by the inventory (passwords, key passphrases, sudo passwords).
//!
//! The inventory never holds a secret itself, only where to find it: `"env:VARIABLE"` (an
//! environment variable of the hascript process) or `"file:PATH"` (a file readable by its
//! owner only, mode 0600 or stricter; one trailing newline is dropped). A [`Secret`]'s
//! value is never printed: its `Debug` shows `<secret>`, it has no `Display`, and it is
//! overwritten with zeros when dropped.

use std::fmt;
use std::path::PathBuf;

/// Where a secret comes from, as written in the inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// `env:NAME`.
    Env(String),
    /// `file:PATH` (`~/` expanded when read).
    File(PathBuf),
}

/// The rule for secret references, as error messages state it.
pub const SECRET_RULE: &str =
    "\"env:VARIABLE\" (an environment variable) or \"file:PATH\" (a file \
     of mode 0600 or stricter); the inventory never holds the secret itself";

impl SecretRef {
    /// Parse `env:NAME` or `file:PATH`. Anything else is refused (a literal secret does not
    /// belong in the inventory); the message never repeats the value.
    pub fn parse(value: &str) -> Result<SecretRef, String> {
        if let Some(name) = value.strip_prefix("env:") {
            let ok = !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if ok {
                return Ok(SecretRef::Env(name.to_string()));
            }
            return Err("env: must be followed by a variable name (A-Z a-z 0-9 _)".into());
        }
        if let Some(path) = value.strip_prefix("file:") {
            if path.is_empty() {
                return Err("file: must be followed by a path".into());
            }
            return Ok(SecretRef::File(PathBuf::from(path)));
        }
        Err(format!("a secret must be given as {SECRET_RULE}"))
    }

    /// Where it is, for messages (never the value).
    pub fn describe(&self) -> String {
        match self {
            SecretRef::Env(n) => format!("environment variable {n}"),
            SecretRef::File(p) => format!("file {}", p.display()),
        }
    }

    /// Read the secret. `home` expands a leading `~/`.
    pub fn read(&self, home: &std::path::Path) -> Result<Secret, String> {
        match self {
            SecretRef::Env(n) => match std::env::var(n) {
                Ok(v) if !v.is_empty() => Ok(Secret::new(v)),
                Ok(_) => Err(format!("environment variable {n} is empty")),
                Err(_) => Err(format!(
                    "environment variable {n} is not set: export it before running hascript"
                )),
            },
            SecretRef::File(p) => {
                use std::os::unix::fs::MetadataExt;
                let path = match p.strip_prefix("~") {
                    Ok(rest) => home.join(rest),
                    Err(_) => p.clone(),
                };
                let md = std::fs::metadata(&path)
                    .map_err(|e| format!("cannot read secret file {}: {e}", path.display()))?;
                let mode = md.mode() & 0o777;
                if mode & 0o077 != 0 {
                    return Err(format!(
                        "secret file {} has mode {mode:04o}, readable by others: run chmod 600 {}",
                        path.display(),
                        path.display()
                    ));
                }
                // SAFETY: geteuid(2) has no preconditions and touches no memory.
                let me = unsafe { libc::geteuid() };
                if md.uid() != me {
                    return Err(format!(
                        "secret file {} belongs to uid {}, not to the user running hascript (uid {me})",
                        path.display(),
                        md.uid()
                    ));
                }
                // Not `read_to_string`: a FIFO would block the run forever, a device never end.
                let mut v = crate::files::read_regular_text(&path, crate::files::MAX_SECRET_FILE)
                    .map_err(|e| format!("secret file: {e}"))?;
                if v.ends_with('\n') {
                    v.pop();
                    if v.ends_with('\r') {
                        v.pop();
                    }
                }
                if v.is_empty() {
                    return Err(format!("secret file {} is empty", path.display()));
                }
                Ok(Secret::new(v))
            }
        }
    }
}

/// A secret value. Never printed; zeroed on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a value.
    pub fn new(v: String) -> Secret {
        Secret(v)
    }

    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        let s = std::mem::take(&mut self.0);
        let mut bytes = s.into_bytes();
        for b in bytes.iter_mut() {
            // SAFETY: `b` is a valid, exclusive reference into `bytes`.
            unsafe { std::ptr::write_volatile(b, 0) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn references_parse_and_literals_are_refused() {
        assert_eq!(
            SecretRef::parse("env:SUDO_PW"),
            Ok(SecretRef::Env("SUDO_PW".into()))
        );
        assert_eq!(
            SecretRef::parse("file:~/.pw"),
            Ok(SecretRef::File("~/.pw".into()))
        );
        let e = SecretRef::parse("hunter2").err().unwrap_or_default();
        assert!(!e.contains("hunter2") && e.contains("env:"), "{e}");
        assert!(SecretRef::parse("env:").is_err());
        assert!(SecretRef::parse("env:A B").is_err());
        assert!(SecretRef::parse("file:").is_err());
    }

    #[test]
    fn files_must_be_private_and_values_never_print() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let p = dir.path().join("pw");
        std::fs::write(&p, "s3cret\n").unwrap_or_else(|e| panic!("{e}"));
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644))
            .unwrap_or_else(|e| panic!("{e}"));
        let r = SecretRef::File(p.clone());
        let e = r.read(dir.path()).err().unwrap_or_default();
        assert!(e.contains("chmod 600") && !e.contains("s3cret"), "{e}");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))
            .unwrap_or_else(|e| panic!("{e}"));
        let s = r.read(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.expose(), "s3cret");
        assert_eq!(format!("{s:?}"), "<secret>");
        let e = SecretRef::Env("HASCRIPT_TEST_SURELY_UNSET_VAR".into())
            .read(dir.path())
            .err()
            .unwrap_or_default();
        assert!(e.contains("not set"), "{e}");
    }
}
