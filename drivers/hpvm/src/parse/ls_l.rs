//! `ls -l`, `ls -ld PATH`, `ls -lA DIR` (HP-UX long listing).
//!
//! ```text
//! total 16
//! drwxr-xr-x   2 root       sys             96 Jul 28 17:26 /etc/cmcluster/slvm1
//! -rw-r--r--   1 root       sys          26089 Jul 28 17:26 slvm1.conf
//! crw-r-----   1 bin        sys         13 0x000069 Jul 28  2012 /dev/rdisk/disk109
//! lrwxr-xr-x   1 root       sys              8 Jul 28 17:26 vtn -> vtn.1
//! ```
//!
//! Fields: mode string (type letter, nine permission letters, optionally `+` for an ACL),
//! links, owner, group, size (for a device: major and minor), date (three words), name (the
//! rest, spaces kept; a symbolic link's ` -> target` split off). `total N` lines and `DIR:`
//! headers are skipped. A missing path is `ls: /x: No such file or directory` on stderr:
//! [`missing`] recognises it.

use serde::Serialize;

use super::text::{lines, tokens};
use super::ParseError;

const COMMAND: &str = "ls -l";

/// The type of a listed file (the first letter of the mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileType {
    /// `-`
    Regular,
    /// `d`
    Directory,
    /// `l`
    Symlink,
    /// `c`
    CharDevice,
    /// `b`
    BlockDevice,
    /// `p`
    Pipe,
    /// `s`
    Socket,
    /// `n` (HP-UX network special file) or anything else.
    Other,
}

impl FileType {
    fn from_letter(c: char) -> FileType {
        match c {
            '-' => FileType::Regular,
            'd' => FileType::Directory,
            'l' => FileType::Symlink,
            'c' => FileType::CharDevice,
            'b' => FileType::BlockDevice,
            'p' => FileType::Pipe,
            's' => FileType::Socket,
            _ => FileType::Other,
        }
    }
    /// The `st_mode` type bits (`0o040000` for a directory).
    pub fn type_bits(self) -> u32 {
        match self {
            FileType::Regular => 0o100000,
            FileType::Directory => 0o040000,
            FileType::Symlink => 0o120000,
            FileType::CharDevice => 0o020000,
            FileType::BlockDevice => 0o060000,
            FileType::Pipe => 0o010000,
            FileType::Socket => 0o140000,
            FileType::Other => 0,
        }
    }
}

/// One listed file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LsEntry {
    /// The file type.
    #[serde(rename = "type")]
    pub file_type: FileType,
    /// The mode string as printed (`drwxr-xr-x`).
    pub mode: String,
    /// The permission bits, setuid/setgid/sticky included (`0o755`).
    #[serde(skip)]
    pub perm: u32,
    /// `st_mode` in octal as Serviceguard prints it (`40777` for a `drwxrwxrwx` directory).
    pub octal: String,
    /// Link count.
    pub links: u64,
    /// Owner.
    pub owner: String,
    /// Group.
    pub group: String,
    /// Size in bytes as printed; for a device, `major minor` (`13 0x000069`).
    pub size: String,
    /// The date as printed (`Jul 28 17:26`, `Jul 28  2012` normalised to single spaces).
    pub date: String,
    /// The name (a path for `ls -ld PATH`).
    pub name: String,
    /// A symbolic link's target.
    pub target: Option<String>,
}

impl LsEntry {
    /// Whether group or others may write (the `Incorrect permissions … (40777)` problem of
    /// `cmapplyconf`).
    pub fn group_or_other_writable(&self) -> bool {
        self.perm & 0o022 != 0
    }
    /// Whether the owner may execute (search a directory).
    pub fn owner_executable(&self) -> bool {
        self.perm & 0o100 != 0
    }
    /// Whether this is a directory.
    pub fn is_dir(&self) -> bool {
        self.file_type == FileType::Directory
    }
    /// The size in bytes (`None` for a device or an unreadable size).
    pub fn size_bytes(&self) -> Option<u64> {
        self.size.parse().ok()
    }
}

/// The permission bits of the nine letters after the type letter.
fn perm_bits(p: &[char]) -> Option<u32> {
    if p.len() != 9 {
        return None;
    }
    let mut bits = 0u32;
    for (i, &c) in p.iter().enumerate() {
        let shift = 8 - i as u32;
        let which = i % 3; // 0 r, 1 w, 2 x
        let special = match i {
            2 => 0o4000,
            5 => 0o2000,
            8 => 0o1000,
            _ => 0,
        };
        match (which, c) {
            (_, '-') => {}
            (0, 'r') | (1, 'w') | (2, 'x') => bits |= 1 << shift,
            (2, 's') | (2, 't') if special != 0 => bits |= (1 << shift) | special,
            (2, 'S') | (2, 'T') | (2, 'l') | (2, 'L') if special != 0 => bits |= special,
            _ => return None,
        }
    }
    Some(bits)
}

/// Parse one long-listing line.
pub fn parse_line(line: &str) -> Result<LsEntry, String> {
    let t = line.trim();
    let toks = tokens(t);
    let bad = |what: &str| format!("expected an `ls -l` line ({what}), found: {t:?}");
    let mode = toks.first().ok_or_else(|| bad("empty"))?.text;
    let chars: Vec<char> = mode.chars().collect();
    if chars.len() < 10 {
        return Err(bad("mode string"));
    }
    let file_type = FileType::from_letter(chars[0]);
    let perm = perm_bits(&chars[1..10]).ok_or_else(|| bad("mode string"))?;
    if chars.len() > 10 && !chars[10..].iter().all(|c| matches!(c, '+' | '.' | '@')) {
        return Err(bad("mode string"));
    }
    let device = matches!(file_type, FileType::CharDevice | FileType::BlockDevice);
    // mode links owner group size [minor] month day time|year name...
    let size_words = if device && toks.get(5).is_some_and(|x| x.text.starts_with("0x")) {
        2
    } else {
        1
    };
    let date_at = 4 + size_words;
    if toks.len() < date_at + 4 {
        return Err(bad("too few fields"));
    }
    let links: u64 = toks[1].text.parse().map_err(|_| bad("link count"))?;
    let size = toks[4..date_at]
        .iter()
        .map(|x| x.text)
        .collect::<Vec<_>>()
        .join(" ");
    if size_words == 1 && !toks[4].text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("size"));
    }
    let date = toks[date_at..date_at + 3]
        .iter()
        .map(|x| x.text)
        .collect::<Vec<_>>()
        .join(" ");
    let rest = t[toks[date_at + 3].byte..].trim_end();
    let (name, target) = match (file_type, rest.split_once(" -> ")) {
        (FileType::Symlink, Some((n, tg))) => (n.to_string(), Some(tg.to_string())),
        _ => (rest.to_string(), None),
    };
    Ok(LsEntry {
        file_type,
        mode: mode.to_string(),
        perm,
        octal: format!("{:o}", file_type.type_bits() | perm),
        links,
        owner: toks[2].text.to_string(),
        group: toks[3].text.to_string(),
        size,
        date,
        name,
        target,
    })
}

/// If `text` is `ls`'s complaint about a missing path (`ls: /x: No such file or directory`),
/// the path.
pub fn missing(text: &str) -> Option<String> {
    lines(text).into_iter().find_map(|(_, l)| {
        let rest = l.trim().strip_prefix("ls:")?;
        let (path, why) = rest.rsplit_once(':')?;
        why.contains("No such file or directory")
            .then(|| path.trim().to_string())
    })
}

/// Parse a listing: every line but `total N`, `DIR:` headers and blank lines must be an entry.
pub fn parse(text: &str) -> Result<Vec<LsEntry>, ParseError> {
    let mut out = Vec::new();
    for (n, l) in lines(text) {
        let t = l.trim();
        if t.is_empty()
            || (t.starts_with("total ") && t[6..].trim().bytes().all(|b| b.is_ascii_digit()))
        {
            continue;
        }
        if t.ends_with(':') && !t.contains(' ') {
            continue;
        }
        out.push(parse_line(t).map_err(|m| ParseError::new(COMMAND, n, m))?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_bits() {
        assert_eq!(
            perm_bits(&"rwsr-sr-t".chars().collect::<Vec<_>>()),
            Some(0o7755)
        );
        assert_eq!(
            perm_bits(&"rwSr--r-T".chars().collect::<Vec<_>>()),
            Some(0o5644)
        );
        assert_eq!(perm_bits(&"rwxq-xr-x".chars().collect::<Vec<_>>()), None);
    }
}
