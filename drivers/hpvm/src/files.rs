//! Files on the VM hosts: read (`cat`), stat (`ls -ld`), list (`ls -lA`), make a folder
//! (`mkdir -p`), write a file whole through standard input with a mode (the contract's one
//! shell line), and copy a package directory from one VM host to the others. Everything is
//! an argv vector; paths are passed as one quoted word.

use hascript_api::{Error, ErrorKind, Result};

use crate::commands as cmd;
use crate::facts::{parse_err, Inner};
use crate::parse::ls_l::{self, FileType, LsEntry};

/// One file copied by [`Inner::copy_dir`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CopiedFile {
    /// The file's name inside the folder.
    pub name: String,
    /// Its permission bits as written (`0644`).
    pub mode: String,
    /// Its size in bytes.
    pub bytes: usize,
}

impl Inner {
    /// The text of `path` on `host`; `None` when it does not exist (`cat` says `No such
    /// file or directory`).
    pub fn read_file(&self, host: &str, path: &str) -> Result<Option<String>> {
        let c = cmd::cat(host, path)?;
        let out = self.ctx.run(&c)?;
        if out.success() {
            return Ok(Some(out.stdout));
        }
        if out.stderr.contains("No such file or directory") || out.stderr.contains("cannot open") {
            return Ok(None);
        }
        Err(Error::new(
            ErrorKind::Command,
            format!("cannot read {path} on {host}: {}", out.stderr.trim()),
        )
        .on_host(host)
        .with_command(c.display())
        .with_status(&out.status)
        .with_stderr(out.stderr))
    }

    /// `ls -ld PATH` on `host`: the entry, or `None` when it is missing (exit 2 / `No such
    /// file or directory`).
    pub fn stat(&self, host: &str, path: &str) -> Result<Option<LsEntry>> {
        let c = cmd::ls_ld(host, path)?;
        let out = self.ctx.run(&c)?;
        if !out.success() {
            if out.code() == 2 || ls_l::missing(&out.stderr).is_some() {
                return Ok(None);
            }
            return Err(Error::new(
                ErrorKind::Command,
                format!("cannot stat {path} on {host}: {}", out.stderr.trim()),
            )
            .on_host(host)
            .with_command(c.display())
            .with_status(&out.status)
            .with_stderr(out.stderr));
        }
        let mut entries = ls_l::parse(&out.stdout).map_err(|e| parse_err(host, e))?;
        if entries.len() != 1 {
            return Err(Error::new(
                ErrorKind::Parse,
                format!(
                    "ls -ld {path} printed {} entries instead of one",
                    entries.len()
                ),
            )
            .on_host(host));
        }
        Ok(entries.pop())
    }

    /// `ls -lA DIR` on `host`: the entries (`None` when the folder is missing).
    pub fn list_dir(&self, host: &str, dir: &str) -> Result<Option<Vec<LsEntry>>> {
        let c = cmd::ls_la(host, dir)?;
        let out = self.ctx.run(&c)?;
        if !out.success() {
            if out.code() == 2 || ls_l::missing(&out.stderr).is_some() {
                return Ok(None);
            }
            return Err(Error::new(
                ErrorKind::Command,
                format!("cannot list {dir} on {host}: {}", out.stderr.trim()),
            )
            .on_host(host)
            .with_command(c.display())
            .with_status(&out.status)
            .with_stderr(out.stderr));
        }
        ls_l::parse(&out.stdout)
            .map(Some)
            .map_err(|e| parse_err(host, e))
    }

    /// `mkdir -p DIR` on `host`.
    pub fn mkdir_p(&self, host: &str, dir: &str) -> Result<()> {
        self.ctx.run_ok(&cmd::mkdir_p(host, dir)?).map(|_| ())
    }

    /// `chmod go-w PATH` on `host`.
    pub fn chmod_go_w(&self, host: &str, path: &str) -> Result<()> {
        self.ctx.run_ok(&cmd::chmod_go_w(host, path)?).map(|_| ())
    }

    /// Write `data` to `path` on `host` whole, with `mode`: written to `PATH.hascript`
    /// (umask 077), given its mode, then renamed over `PATH`.
    pub fn write_file(&self, host: &str, path: &str, mode: u32, data: &[u8]) -> Result<()> {
        self.ctx
            .run_ok(&cmd::write_file(host, path, mode, data)?)
            .map(|_| ())
    }

    /// Copy the regular files of `dir` on `from` to the same folder on each of `to`: each
    /// file is read with `cat` on the source and written whole with its mode on every
    /// member; then the folder is made not writable by group and others (`chmod go-w`) on
    /// every member. Sub-folders (`.backup`) are not copied. Returns the files copied.
    pub fn copy_dir(&self, dir: &str, from: &str, to: &[String]) -> Result<Vec<CopiedFile>> {
        let entries = self.list_dir(from, dir)?.ok_or_else(|| {
            Error::check(format!("{dir} does not exist on {from}: nothing to copy")).on_host(from)
        })?;
        let mut files: Vec<(String, u32, String)> = Vec::new();
        for e in entries.iter().filter(|e| e.file_type == FileType::Regular) {
            let name = e.name.rsplit('/').next().unwrap_or(&e.name).to_string();
            if name.is_empty() || name.ends_with(".hascript") {
                continue;
            }
            let path = format!("{dir}/{name}");
            let text = self.read_file(from, &path)?.ok_or_else(|| {
                Error::needs_attention(format!("{path} disappeared from {from} while copying"))
                    .on_host(from)
            })?;
            files.push((name, e.perm & 0o7777, text));
        }
        for h in to.iter().filter(|h| h.as_str() != from) {
            self.mkdir_p(h, dir)?;
            for (name, mode, text) in &files {
                self.write_file(h, &format!("{dir}/{name}"), *mode, text.as_bytes())?;
            }
        }
        for h in to {
            self.chmod_go_w(h, dir)?;
        }
        Ok(files
            .into_iter()
            .map(|(name, mode, text)| CopiedFile {
                name,
                mode: format!("{mode:04o}"),
                bytes: text.len(),
            })
            .collect())
    }
}
