//! Reading a file the operator named (an inventory, a secret file, a file to parse, a
//! script loaded in the REPL): only a regular file, and only up to a size cap.
//!
//! Why: `-i /dev/zero` used to read until memory ran out, and a secret `file:` that is a
//! FIFO blocked the run forever in `open`. The file is opened without blocking
//! (`O_NONBLOCK`: opening a FIFO with no writer returns at once), checked on the open
//! descriptor (no race between a check and the open), and read through a cap.

use std::fmt;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The cap for an inventory, a script, a file given to `parse`: far above any real one.
pub const MAX_TEXT_FILE: u64 = 16 * 1024 * 1024;

/// The cap for a secret file (a password, a passphrase, a key file's text).
pub const MAX_SECRET_FILE: u64 = 64 * 1024;

/// Why a file was not read.
#[derive(Debug)]
pub enum FileError {
    /// It could not be opened or read.
    Io(PathBuf, std::io::Error),
    /// It is not a regular file (a FIFO, a device, a directory, a socket).
    NotRegular(PathBuf, &'static str),
    /// It is larger than the cap.
    TooLarge(PathBuf, u64),
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileError::Io(p, e) => write!(f, "cannot read {}: {e}", p.display()),
            FileError::NotRegular(p, kind) => write!(
                f,
                "{} is {kind}, not a regular file: give the path of a file",
                p.display()
            ),
            FileError::TooLarge(p, max) => write!(
                f,
                "{} is larger than {} (the most hascript reads from such a file): is it the right file?",
                p.display(),
                human(*max)
            ),
        }
    }
}

impl std::error::Error for FileError {}

fn human(bytes: u64) -> String {
    if bytes >= 1024 * 1024 && bytes.is_multiple_of(1024 * 1024) {
        format!("{} MiB", bytes / (1024 * 1024))
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

fn kind_of(ft: std::fs::FileType) -> &'static str {
    if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO (named pipe)"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

/// The bytes of the regular file at `path`, at most `max` of them (more is an error).
pub fn read_regular(path: &Path, max: u64) -> Result<Vec<u8>, FileError> {
    let io = |e| FileError::Io(path.to_path_buf(), e);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(io)?;
    let md = file.metadata().map_err(io)?;
    if !md.is_file() {
        return Err(FileError::NotRegular(
            path.to_path_buf(),
            kind_of(md.file_type()),
        ));
    }
    if md.len() > max {
        return Err(FileError::TooLarge(path.to_path_buf(), max));
    }
    let mut buf = Vec::with_capacity(md.len() as usize);
    // The cap holds even for a file that grows while it is read.
    file.take(max + 1).read_to_end(&mut buf).map_err(io)?;
    if buf.len() as u64 > max {
        return Err(FileError::TooLarge(path.to_path_buf(), max));
    }
    Ok(buf)
}

/// The text of the regular file at `path` (UTF-8), at most `max` bytes.
pub fn read_regular_text(path: &Path, max: u64) -> Result<String, FileError> {
    let bytes = read_regular(path, max)?;
    String::from_utf8(bytes).map_err(|_| {
        FileError::Io(
            path.to_path_buf(),
            std::io::Error::new(std::io::ErrorKind::InvalidData, "it is not UTF-8 text"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_devices_fifos_and_directories_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        for (p, kind) in [
            (fifo.as_path(), "FIFO"),
            (Path::new("/dev/zero"), "character device"),
            (dir.path(), "directory"),
        ] {
            let e = read_regular(p, MAX_TEXT_FILE).unwrap_err().to_string();
            assert!(e.contains(kind) && e.contains("not a regular file"), "{e}");
        }
    }

    #[test]
    fn caps_the_size() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big");
        std::fs::write(&p, vec![b'x'; 2048]).unwrap();
        assert_eq!(read_regular(&p, 2048).unwrap().len(), 2048);
        let e = read_regular(&p, 1024).unwrap_err().to_string();
        assert!(e.contains("larger than 1 KiB"), "{e}");
    }
}
