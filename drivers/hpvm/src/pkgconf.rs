//! The Serviceguard modular package configuration file as an editable document.
//!
//! A file is `key value` lines, `#` comments and blank lines; values with spaces are in double
//! quotes (`service_cmd "$SGCONF/scripts/tkit/vtn/tkit_module.sh guest_monitor"`); keys repeat
//! (`node_name`, `module_name`/`module_version` pairs, `service_*` blocks starting at
//! `service_name`, `dependency_*` blocks); toolkit keys are namespaced
//! (`tkit/vtn/vtn/TKIT_DIR`). Appendix A of the SG IVS toolkit guide is a full example.
//!
//! [`PackageConf`] keeps every line as it was read (its text and its line ending): an
//! unedited document's [`PackageConf::to_text`] is the input byte for byte, and an edit
//! rewrites only the lines it touches (a changed value keeps the line's indentation and the
//! separator after the key; an added line copies the style of a neighbouring entry and the
//! file's line ending).
//!
//! Keys are looked up exactly, or by the attribute name of a namespaced key when exactly one
//! namespaced key has it (`TKIT_DIR` finds `tkit/vtn/vtn/TKIT_DIR`).
//!
//! A legacy-format package (a control script with shell assignments such as
//! `SERVICE_NAME[1]=…` or `PACKAGE_NAME=…`) is refused by [`PackageConf::parse`] with
//! [`PkgConfError::LegacyFormat`]; read it with [`crate::parse::legacy_control`].

use serde::Serialize;

pub use crate::service::{validate_service_name, ServiceBlock, SERVICE_NAME_RULE};

/// Why a package file could not be read or an edit was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PkgConfError {
    /// A line that is not `key value`, a comment or blank.
    #[error("package configuration file: line {line}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// What was wrong.
        message: String,
    },
    /// The text is a legacy-format package control script.
    #[error("package configuration file: line {line}: this is a legacy-format package (a control script with shell assignments such as `{found}`), not a modular package configuration file; read it with the `legacy-control` parser (hascript_hpvm::parse::legacy_control) to convert it")]
    LegacyFormat {
        /// 1-based line of the first shell assignment.
        line: usize,
        /// That assignment (shortened).
        found: String,
    },
    /// A key that cannot be written.
    #[error("invalid package configuration key {key:?}: a key is letters, digits and `_`, optionally namespaced with `/` (tkit/vtn/vtn/TKIT_DIR)")]
    InvalidKey {
        /// The key.
        key: String,
    },
    /// A value that cannot be written.
    #[error("invalid value for {key}: {reason}")]
    InvalidValue {
        /// The key.
        key: String,
        /// Why (`contains a double quote`, …).
        reason: String,
    },
    /// A short key naming several namespaced keys.
    #[error("key {key:?} is ambiguous: it is the attribute of {} keys ({}); give the full key", candidates.len(), candidates.join(", "))]
    AmbiguousKey {
        /// The key asked for.
        key: String,
        /// The full keys it matches.
        candidates: Vec<String>,
    },
    /// No service block with this name.
    #[error("no service {name:?} in the package configuration file")]
    NoSuchService {
        /// The service name.
        name: String,
    },
    /// A service block with this name exists already.
    #[error("the package configuration file already has a service {name:?}")]
    DuplicateService {
        /// The service name.
        name: String,
    },
    /// A new application monitor duplicates a service: its name in either form, or its
    /// command to the same guest.
    #[error(transparent)]
    DuplicateMonitor(#[from] crate::appmon::MonitorClash),
}

impl PkgConfError {
    /// The 1-based line the error is about (0 when it is not about a line of the text).
    pub fn line(&self) -> usize {
        match self {
            PkgConfError::Syntax { line, .. } | PkgConfError::LegacyFormat { line, .. } => *line,
            _ => 0,
        }
    }
}

/// One `key value` pair, for the JSON of `hascript parse package-conf`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyValue {
    /// The key as written.
    pub key: String,
    /// The value, unquoted.
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct EntryLine {
    indent: String,
    key: String,
    sep: String,
    raw_value: String,
    value: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    text: String,
    eol: String,
    entry: Option<EntryLine>,
}

/// A package configuration file, every line kept.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PackageConf {
    lines: Vec<Line>,
    eol: String,
}

fn is_key(k: &str) -> bool {
    !k.is_empty()
        && k.as_bytes()[0].is_ascii_alphabetic()
        && !k.ends_with('/')
        && !k.contains("//")
        && k.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'/' | b'.' | b'-'))
}

/// A shell assignment `NAME=…` or `NAME[i]=…` (legacy control script).
fn shell_assignment(first_word: &str) -> bool {
    let Some((lhs, _)) = first_word.split_once('=') else {
        return false;
    };
    let name = match lhs.split_once('[') {
        Some((n, idx)) => {
            let Some(i) = idx.strip_suffix(']') else {
                return false;
            };
            if i.is_empty() || !i.bytes().all(|c| c.is_ascii_digit()) {
                return false;
            }
            n
        }
        None => lhs,
    };
    !name.is_empty()
        && name.as_bytes()[0].is_ascii_alphabetic()
        && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

fn parse_entry(line_no: usize, text: &str) -> Result<Option<EntryLine>, PkgConfError> {
    let t = text.trim_start();
    if t.is_empty() || t.starts_with('#') {
        return Ok(None);
    }
    let indent = &text[..text.len() - t.len()];
    let key_end = t.find(char::is_whitespace).unwrap_or(t.len());
    let key = &t[..key_end];
    let after = &t[key_end..];
    let rest = after.trim_start();
    let sep = &after[..after.len() - rest.len()];
    let raw_value = rest.trim_end();
    if shell_assignment(key) {
        return Err(PkgConfError::LegacyFormat {
            line: line_no,
            found: hascript_api::names::shorten(t.trim_end()),
        });
    }
    if !is_key(key) {
        return Err(PkgConfError::Syntax {
            line: line_no,
            message: format!(
                "expected `key value` (a key is letters, digits, `_` and `/`), found: {:?}",
                hascript_api::names::shorten(t.trim_end())
            ),
        });
    }
    let value = if let Some(q) = raw_value.strip_prefix('"') {
        match q.find('"') {
            Some(end) if q[end + 1..].trim().is_empty() => q[..end].to_string(),
            Some(_) => {
                return Err(PkgConfError::Syntax {
                    line: line_no,
                    message: format!(
                        "text after the closing double quote of the value of {key}: {raw_value:?}"
                    ),
                })
            }
            None => {
                return Err(PkgConfError::Syntax {
                    line: line_no,
                    message: format!(
                        "the value of {key} opens a double quote that is not closed on the same line: {raw_value:?}"
                    ),
                })
            }
        }
    } else {
        raw_value.to_string()
    };
    Ok(Some(EntryLine {
        indent: indent.to_string(),
        key: key.to_string(),
        sep: sep.to_string(),
        raw_value: raw_value.to_string(),
        value,
    }))
}

/// The value as written in the file: quoted when empty or containing white space.
fn quote_value(key: &str, value: &str) -> Result<String, PkgConfError> {
    if value.contains('"') {
        return Err(PkgConfError::InvalidValue {
            key: key.to_string(),
            reason: format!(
                "{:?} contains a double quote, which a package configuration value cannot hold",
                hascript_api::names::shorten(value)
            ),
        });
    }
    if value.contains(['\n', '\r']) {
        return Err(PkgConfError::InvalidValue {
            key: key.to_string(),
            reason: "the value contains a line break; a value is one line".to_string(),
        });
    }
    if value.is_empty() || value.contains(char::is_whitespace) || value.starts_with('#') {
        Ok(format!("\"{value}\""))
    } else {
        Ok(value.to_string())
    }
}

fn check_key(key: &str) -> Result<(), PkgConfError> {
    if is_key(key) {
        Ok(())
    } else {
        Err(PkgConfError::InvalidKey {
            key: key.to_string(),
        })
    }
}

fn namespace(key: &str) -> Option<&str> {
    key.rfind('/').map(|i| &key[..i])
}

fn attribute(key: &str) -> &str {
    key.rfind('/').map(|i| &key[i + 1..]).unwrap_or(key)
}

impl PackageConf {
    /// Read a package configuration file. Refuses a line that is neither blank, a comment nor
    /// `key value` (with the line number), an unclosed quote, and a legacy control script
    /// ([`PkgConfError::LegacyFormat`]).
    pub fn parse(text: &str) -> Result<PackageConf, PkgConfError> {
        for (i, l) in text.split('\n').enumerate() {
            let t = l.trim();
            if t.starts_with('#') {
                continue;
            }
            if let Some(w) = t.split_whitespace().next() {
                if shell_assignment(w) {
                    return Err(PkgConfError::LegacyFormat {
                        line: i + 1,
                        found: hascript_api::names::shorten(t),
                    });
                }
            }
        }
        let mut lines = Vec::new();
        let mut eol = None;
        let mut rest = text;
        let mut n = 0;
        while !rest.is_empty() {
            n += 1;
            let (body, ending, next) = match rest.find('\n') {
                Some(i) => {
                    let b = &rest[..i];
                    match b.strip_suffix('\r') {
                        Some(b2) => (b2, "\r\n", &rest[i + 1..]),
                        None => (b, "\n", &rest[i + 1..]),
                    }
                }
                None => (rest, "", ""),
            };
            if eol.is_none() && !ending.is_empty() {
                eol = Some(ending.to_string());
            }
            lines.push(Line {
                text: body.to_string(),
                eol: ending.to_string(),
                entry: parse_entry(n, body)?,
            });
            rest = next;
        }
        Ok(PackageConf {
            lines,
            eol: eol.unwrap_or_else(|| "\n".to_string()),
        })
    }

    /// The document as text: the input byte for byte where nothing was edited.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for l in &self.lines {
            s.push_str(&l.text);
            s.push_str(&l.eol);
        }
        s
    }

    fn entry_indices(&self) -> impl Iterator<Item = (usize, &EntryLine)> {
        self.lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.entry.as_ref().map(|e| (i, e)))
    }

    /// The full key `key` stands for: itself when written so, else the one namespaced key
    /// whose attribute name it is; `Ok(None)` when the file has neither.
    pub fn resolve_key(&self, key: &str) -> Result<Option<String>, PkgConfError> {
        if self.entry_indices().any(|(_, e)| e.key == key) {
            return Ok(Some(key.to_string()));
        }
        if key.contains('/') {
            return Ok(None);
        }
        let mut found: Vec<String> = Vec::new();
        for (_, e) in self.entry_indices() {
            if e.key.contains('/') && attribute(&e.key) == key && !found.contains(&e.key) {
                found.push(e.key.clone());
            }
        }
        match found.len() {
            0 => Ok(None),
            1 => Ok(found.pop()),
            _ => Err(PkgConfError::AmbiguousKey {
                key: key.to_string(),
                candidates: found,
            }),
        }
    }

    fn full_key(&self, key: &str) -> Option<String> {
        self.resolve_key(key).ok().flatten()
    }

    /// The (unquoted) value of the first `key` entry. `None` when absent or when a short key
    /// is ambiguous (see [`PackageConf::resolve_key`]).
    pub fn get(&self, key: &str) -> Option<&str> {
        let k = self.full_key(key)?;
        self.entry_indices()
            .find(|(_, e)| e.key == k)
            .map(|(_, e)| e.value.as_str())
    }

    /// The values of every `key` entry, in order.
    pub fn get_all(&self, key: &str) -> Vec<&str> {
        let Some(k) = self.full_key(key) else {
            return Vec::new();
        };
        self.entry_indices()
            .filter(|(_, e)| e.key == k)
            .map(|(_, e)| e.value.as_str())
            .collect()
    }

    /// Every entry in file order, `(key as written, unquoted value)`.
    pub fn entries(&self) -> Vec<(&str, &str)> {
        self.entry_indices()
            .map(|(_, e)| (e.key.as_str(), e.value.as_str()))
            .collect()
    }

    /// Every entry as [`KeyValue`] (the JSON of `hascript parse package-conf`).
    pub fn key_values(&self) -> Vec<KeyValue> {
        self.entry_indices()
            .map(|(_, e)| KeyValue {
                key: e.key.clone(),
                value: e.value.clone(),
            })
            .collect()
    }

    /// `package_name`.
    pub fn package_name(&self) -> Option<&str> {
        self.get("package_name")
    }

    /// The `node_name` values, in order.
    pub fn node_names(&self) -> Vec<&str> {
        self.get_all("node_name")
    }

    /// The `(module_name, module_version)` pairs in order (version `""` when a name has no
    /// version right after it).
    pub fn modules(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut prev_was_name = false;
        for (k, v) in self.entries() {
            if k == "module_name" {
                out.push((v.to_string(), String::new()));
                prev_was_name = true;
            } else {
                if k == "module_version" && prev_was_name {
                    if let Some(last) = out.last_mut() {
                        last.1 = v.to_string();
                    }
                }
                prev_was_name = false;
            }
        }
        out
    }

    /// The line ranges (first, last line index) of the service blocks, in order.
    fn service_ranges(&self) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut cur: Option<(usize, usize)> = None;
        for (i, e) in self.entry_indices() {
            if e.key == "service_name" {
                if let Some(r) = cur.take() {
                    out.push(r);
                }
                cur = Some((i, i));
            } else if e.key.starts_with("service_") {
                if let Some(r) = cur.as_mut() {
                    r.1 = i;
                }
            } else if let Some(r) = cur.take() {
                out.push(r);
            }
        }
        if let Some(r) = cur {
            out.push(r);
        }
        out
    }

    /// The service blocks in order: each starts at `service_name` and takes the `service_*`
    /// entries after it (comments and blank lines between them are skipped).
    pub fn services(&self) -> Vec<ServiceBlock> {
        self.service_ranges()
            .into_iter()
            .map(|(a, b)| {
                let mut s = ServiceBlock::default();
                for l in &self.lines[a..=b] {
                    let Some(e) = &l.entry else { continue };
                    let v = e.value.clone();
                    match e.key.as_str() {
                        "service_name" => s.name = v,
                        "service_cmd" => s.cmd = v,
                        "service_restart" => s.restart = Some(v),
                        "service_fail_fast_enabled" => s.fail_fast = Some(v),
                        "service_halt_timeout" => s.halt_timeout = Some(v),
                        k => s.other.push((k.to_string(), v)),
                    }
                }
                s
            })
            .collect()
    }

    /// The service block `name`.
    pub fn service(&self, name: &str) -> Option<ServiceBlock> {
        self.services().into_iter().find(|s| s.name == name)
    }

    /// A new entry line for `key`, in the style of the entry at line index `like`.
    fn new_line(&self, key: &str, value: &str, like: Option<usize>) -> Result<Line, PkgConfError> {
        check_key(key)?;
        let raw = quote_value(key, value)?;
        let (indent, sep) = match like.and_then(|i| self.lines[i].entry.as_ref()) {
            Some(e) if e.sep.contains('\t') => (e.indent.clone(), e.sep.clone()),
            Some(e) => {
                let sep = match self.value_column() {
                    Some(col) => " ".repeat(col.saturating_sub(key.chars().count()).max(1)),
                    None => " ".to_string(),
                };
                (e.indent.clone(), sep)
            }
            None => (String::new(), " ".to_string()),
        };
        let text = format!("{indent}{key}{sep}{raw}");
        Ok(Line {
            entry: Some(EntryLine {
                indent,
                key: key.to_string(),
                sep,
                raw_value: raw,
                value: value.to_string(),
            }),
            text,
            eol: self.eol.clone(),
        })
    }

    /// The column (after the indentation) where values start in a file that aligns them
    /// with spaces: the most frequent one among entries whose separator is several spaces;
    /// `None` when the file separates keys and values with single spaces.
    fn value_column(&self) -> Option<usize> {
        let mut counts: Vec<(usize, usize)> = Vec::new();
        for (_, e) in self.entry_indices() {
            if e.sep.len() > 1 && e.sep.chars().all(|c| c == ' ') {
                let col = e.key.chars().count() + e.sep.len();
                match counts.iter_mut().find(|(c, _)| *c == col) {
                    Some(x) => x.1 += 1,
                    None => counts.push((col, 1)),
                }
            }
        }
        counts.into_iter().max_by_key(|&(_, n)| n).map(|(c, _)| c)
    }

    fn last_entry_index(&self) -> Option<usize> {
        self.entry_indices().map(|(i, _)| i).last()
    }

    /// Insert `line` at index `at` (0..=len), keeping line endings right.
    fn insert_line(&mut self, at: usize, mut line: Line) {
        if at == self.lines.len() {
            if let Some(last) = self.lines.last_mut() {
                if last.eol.is_empty() {
                    last.eol = self.eol.clone();
                    line.eol = String::new();
                }
            }
        }
        self.lines.insert(at, line);
    }

    fn remove_line(&mut self, at: usize) {
        let removed = self.lines.remove(at);
        if at == self.lines.len() && removed.eol.is_empty() {
            if let Some(last) = self.lines.last_mut() {
                last.eol = String::new();
            }
        }
    }

    fn rewrite_value(&mut self, i: usize, value: &str) -> Result<(), PkgConfError> {
        let line = &mut self.lines[i];
        let Some(e) = line.entry.as_mut() else {
            return Ok(());
        };
        let raw = quote_value(&e.key, value)?;
        let sep = if e.sep.is_empty() {
            " ".to_string()
        } else {
            e.sep.clone()
        };
        line.text = format!("{}{}{}{}", e.indent, e.key, sep, raw);
        e.sep = sep;
        e.raw_value = raw;
        e.value = value.to_string();
        Ok(())
    }

    /// Where a new `key` entry goes when the file has none: after the last entry of the same
    /// namespace (`tkit/vtn/vtn/…`), else after the last entry of the file.
    fn insertion_point(&self, key: &str) -> (usize, Option<usize>) {
        if let Some(ns) = namespace(key) {
            if let Some((i, _)) = self
                .entry_indices()
                .filter(|(_, e)| namespace(&e.key) == Some(ns))
                .last()
            {
                return (i + 1, Some(i));
            }
        }
        match self.last_entry_index() {
            Some(i) => (i + 1, Some(i)),
            None => (self.lines.len(), None),
        }
    }

    /// Set `key` to `value`: the first occurrence's value is replaced in place (indentation
    /// and separator kept); when absent, a line is added after the last entry of the same
    /// namespace, else after the last entry. A short key of a namespaced one (`TKIT_DIR`)
    /// sets that key.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), PkgConfError> {
        let full = self.resolve_key(key)?;
        match full {
            Some(k) => {
                let i = self
                    .entry_indices()
                    .find(|(_, e)| e.key == k)
                    .map(|(i, _)| i);
                match i {
                    Some(i) => self.rewrite_value(i, value),
                    None => Ok(()),
                }
            }
            None => {
                check_key(key)?;
                let (at, like) = self.insertion_point(key);
                let line = self.new_line(key, value, like)?;
                self.insert_line(at, line);
                Ok(())
            }
        }
    }

    /// Add a `key value` line after the last occurrence of `key` (else as [`PackageConf::set`]
    /// adds it).
    pub fn add(&mut self, key: &str, value: &str) -> Result<(), PkgConfError> {
        let k = self.resolve_key(key)?.unwrap_or_else(|| key.to_string());
        let last = self
            .entry_indices()
            .filter(|(_, e)| e.key == k)
            .map(|(i, _)| i)
            .last();
        let (at, like) = match last {
            Some(i) => (i + 1, Some(i)),
            None => self.insertion_point(&k),
        };
        let line = self.new_line(&k, value, like)?;
        self.insert_line(at, line);
        Ok(())
    }

    /// Remove every `key` entry; returns how many lines were removed.
    pub fn remove(&mut self, key: &str) -> Result<usize, PkgConfError> {
        self.remove_where(key, |_| true)
    }

    /// Remove the `key` entries whose (unquoted) value is `value`; returns how many.
    pub fn remove_value(&mut self, key: &str, value: &str) -> Result<usize, PkgConfError> {
        self.remove_where(key, |v| v == value)
    }

    fn remove_where(&mut self, key: &str, f: impl Fn(&str) -> bool) -> Result<usize, PkgConfError> {
        let Some(k) = self.resolve_key(key)? else {
            return Ok(0);
        };
        let idx: Vec<usize> = self
            .entry_indices()
            .filter(|(_, e)| e.key == k && f(&e.value))
            .map(|(i, _)| i)
            .collect();
        for &i in idx.iter().rev() {
            self.remove_line(i);
        }
        Ok(idx.len())
    }

    /// Make `key`'s values exactly `values`, in place: the existing lines are rewritten in
    /// order, surplus ones removed, missing ones added after the last (as [`PackageConf::add`]
    /// when there were none). Every value is checked before anything changes.
    pub fn set_all(&mut self, key: &str, values: &[&str]) -> Result<(), PkgConfError> {
        let k = self.resolve_key(key)?.unwrap_or_else(|| key.to_string());
        check_key(&k)?;
        for v in values {
            quote_value(&k, v)?;
        }
        let idx: Vec<usize> = self
            .entry_indices()
            .filter(|(_, e)| e.key == k)
            .map(|(i, _)| i)
            .collect();
        for (i, v) in idx.iter().zip(values) {
            self.rewrite_value(*i, v)?;
        }
        if idx.len() > values.len() {
            for &i in idx[values.len()..].iter().rev() {
                self.remove_line(i);
            }
        } else {
            for v in &values[idx.len()..] {
                self.add(&k, v)?;
            }
        }
        Ok(())
    }

    /// Add a service block after the last one (or after the last entry), one `key value`
    /// line per key of [`ServiceBlock::pairs`], in the style of the existing service lines.
    /// Refuses an invalid or already used name and an empty command; an application monitor
    /// (a `cmappmgr` service) is also refused when a service has its name in the other form
    /// (`<name>` as `cmdeployvpkg` writes it, `<guest>-<name>` by hand) or sends the same
    /// command to the same guest ([`crate::appmon::monitor_clash`]): the edit that adds the
    /// monitor keeps the rule, whatever sequence calls it.
    pub fn add_service(&mut self, block: &ServiceBlock) -> Result<(), PkgConfError> {
        validate_service_name(&block.name).map_err(|reason| PkgConfError::InvalidValue {
            key: "service_name".into(),
            reason,
        })?;
        if block.cmd.trim().is_empty() {
            return Err(PkgConfError::InvalidValue {
                key: "service_cmd".into(),
                reason: "the service command is empty".into(),
            });
        }
        let services = self.services();
        if let Some(m) = crate::appmon::monitor_of(&block.name, &block.cmd) {
            if let Some(c) =
                crate::appmon::monitor_clash(&services, &m.node, &block.name, &m.command)
            {
                return Err(c.into());
            }
        }
        if services.iter().any(|s| s.name == block.name) {
            return Err(PkgConfError::DuplicateService {
                name: block.name.clone(),
            });
        }
        let (at, like) = match self.service_ranges().last() {
            Some(&(_, b)) => (b + 1, Some(b)),
            None => match self.last_entry_index() {
                Some(i) => (i + 1, Some(i)),
                None => (self.lines.len(), None),
            },
        };
        let mut new = Vec::new();
        for (k, v) in block.pairs() {
            new.push(self.new_line(&k, &v, like)?);
        }
        for (j, line) in new.into_iter().enumerate() {
            self.insert_line(at + j, line);
        }
        Ok(())
    }

    /// Remove the service block `name` (its `service_*` lines and the comments and blank lines
    /// between them).
    pub fn remove_service(&mut self, name: &str) -> Result<(), PkgConfError> {
        let ranges = self.service_ranges();
        let found = ranges.into_iter().find(|&(a, _)| {
            self.lines[a]
                .entry
                .as_ref()
                .is_some_and(|e| e.value == name)
        });
        let Some((a, b)) = found else {
            return Err(PkgConfError::NoSuchService {
                name: name.to_string(),
            });
        };
        for i in (a..=b).rev() {
            self.remove_line(i);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_assignments() {
        assert!(shell_assignment("SERVICE_NAME[1]=x"));
        assert!(shell_assignment("PACKAGE_NAME=slvm1"));
        assert!(!shell_assignment("service_name"));
        assert!(!shell_assignment("a[x]=1"));
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_value("k", "a b").unwrap(), "\"a b\"");
        assert_eq!(quote_value("k", "").unwrap(), "\"\"");
        assert_eq!(quote_value("k", "ab").unwrap(), "ab");
        assert!(quote_value("k", "a\"b").is_err());
        assert!(quote_value("k", "a\nb").is_err());
    }
}
