//! The REPL's unit tests: the history file, and completion never sending a change.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use hascript_api::{Command, Error as ApiError, ErrorKind, Exec, Output};

use crate::journal::Redactor;

use super::site::LearnSecrets;
use super::{history_entry, write_history};
use std::os::unix::fs::PermissionsExt;

#[test]
fn history_entries_hide_secret_parameters_and_known_secrets() {
    let r = Redactor::new();
    r.add("s3cr3t-inv");
    assert_eq!(
        history_entry(
            ":run ldoms/x  guest=guest2 password=hunter2 -p storepass=abc token=t",
            &r
        ),
        ":run ldoms/x guest=guest2 password=***** -p storepass=***** token=*****"
    );
    assert_eq!(
        history_entry("let p = \"s3cr3t-inv\";", &r),
        "let p = \"*****\";"
    );
    // Not a `:run`: only the known values go.
    assert_eq!(history_entry("let password=1", &r), "let password=1");
    assert_eq!(
        history_entry(":runner password=x", &r),
        ":runner password=x"
    );
}

/// A transport that counts what reaches it.
struct Count(Mutex<Vec<String>>);

impl Exec for Count {
    fn exec(&self, cmd: &Command) -> Result<Output, ApiError> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(cmd.display());
        Err(ApiError::new(ErrorKind::Command, "not a real host"))
    }
}

#[test]
fn completion_never_sends_a_changing_command() {
    let inner = Arc::new(Count(Mutex::new(Vec::new())));
    let completing = Arc::new(AtomicBool::new(true));
    let exec = LearnSecrets {
        inner: inner.clone(),
        redactor: Arc::new(Redactor::new()),
        completing: completing.clone(),
    };
    let change = Command::change("cd1", &["ldm", "stop-domain", "guest2"]);
    let e = exec.exec(&change).err().map(|e| e.message);
    assert!(
        e.as_deref()
            .is_some_and(|m| m.contains("Tab completion never changes anything")),
        "{e:?}"
    );
    let _ = exec.exec(&Command::read("cd1", &["ldm", "list", "-p"]));
    completing.store(false, Ordering::SeqCst);
    let _ = exec.exec(&change);
    let sent = inner.0.lock().map(|v| v.clone()).unwrap_or_default();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent[0].contains("list"), "{sent:?}");
}

#[test]
fn the_history_file_is_written_0600_and_replaces_a_readable_one() {
    let Ok(dir) = tempfile::tempdir() else {
        panic!("tempdir")
    };
    let p = dir.path().join("state").join("hascript").join("history");
    write_history(&p, &["a".into(), "b".into()]).unwrap_or_else(|e| panic!("{e}"));
    let mode = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0)
    };
    assert_eq!(mode(&p), 0o600);
    assert_eq!(mode(p.parent().unwrap_or(&p)), 0o700);
    assert_eq!(std::fs::read_to_string(&p).unwrap_or_default(), "a\nb\n");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644))
        .unwrap_or_else(|e| panic!("{e}"));
    write_history(&p, &["c".into()]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(mode(&p), 0o600);
    assert_eq!(std::fs::read_to_string(&p).unwrap_or_default(), "c\n");
    let left: Vec<_> = std::fs::read_dir(p.parent().unwrap_or(&p))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert_eq!(left.len(), 1, "no temporary file left: {left:?}");
}
