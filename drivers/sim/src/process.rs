//! What a simulated program gets from its shell besides its arguments: the command line's
//! standard input and the umask. Below the ordinary commands (`posix`), the file commands
//! (`fs`) and the models, which all read it.

use std::sync::{Arc, Mutex};

/// Standard input of a command line: bytes given up front, or read on first use (a
/// `hascript sim exec` under sshd's `ForceCommand` reads its own standard input only when
/// a command of the line reads it, so a line that reads none never waits for it).
#[derive(Clone, Default)]
pub(crate) struct Stdin(Arc<Mutex<StdinState>>);

#[derive(Default)]
enum StdinState {
    /// Nothing (or already taken).
    #[default]
    Empty,
    /// These bytes.
    Bytes(Vec<u8>),
    /// Read them when first asked.
    Lazy(Box<dyn FnOnce() -> Vec<u8> + Send>),
}

impl Stdin {
    /// Bytes given up front (`None`: no standard input).
    pub(crate) fn bytes(b: Option<Vec<u8>>) -> Stdin {
        Stdin(Arc::new(Mutex::new(match b {
            Some(b) => StdinState::Bytes(b),
            None => StdinState::Empty,
        })))
    }

    /// Bytes read by `read` when a command first reads standard input.
    pub(crate) fn lazy(read: impl FnOnce() -> Vec<u8> + Send + 'static) -> Stdin {
        Stdin(Arc::new(Mutex::new(StdinState::Lazy(Box::new(read)))))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, StdinState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Take everything (empty when there is none or it was taken).
    pub(crate) fn take(&self) -> Vec<u8> {
        match std::mem::take(&mut *self.lock()) {
            StdinState::Empty => Vec::new(),
            StdinState::Bytes(b) => b,
            StdinState::Lazy(read) => read(),
        }
    }

    /// An independent copy for a trial run: reads a lazy source now and keeps the bytes
    /// here too, so the real run still gets them.
    pub(crate) fn fork(&self) -> Stdin {
        let mut st = self.lock();
        if let StdinState::Lazy(_) = &*st {
            if let StdinState::Lazy(read) = std::mem::take(&mut *st) {
                *st = StdinState::Bytes(read());
            }
        }
        match &*st {
            StdinState::Bytes(b) => Stdin::bytes(Some(b.clone())),
            _ => Stdin::default(),
        }
    }
}

impl std::fmt::Debug for Stdin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match &*self.lock() {
            StdinState::Empty => "empty".to_string(),
            StdinState::Bytes(b) => format!("{} bytes", b.len()),
            StdinState::Lazy(_) => "not read yet".to_string(),
        };
        f.debug_tuple("Stdin").field(&what).finish()
    }
}

impl PartialEq for Stdin {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Stdin {}

/// What a program gets from its shell besides its arguments: the standard input still
/// unread (the first program that reads it takes it all, as from a pipe) and the umask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProcessIo {
    /// Standard input not yet read by an earlier command of the line.
    pub stdin: Stdin,
    /// The shell's file-creation mask (`umask`), 022 unless changed.
    pub umask: u32,
}

impl Default for ProcessIo {
    fn default() -> Self {
        ProcessIo {
            stdin: Stdin::default(),
            umask: 0o022,
        }
    }
}

impl ProcessIo {
    /// Take everything left on standard input (empty when there is none).
    pub(crate) fn read_stdin(&mut self) -> Vec<u8> {
        self.stdin.take()
    }
}
