//! Legacy-format package control scripts of the old Integrity VM toolkit, read for conversion.
//!
//! ```sh
//! VG[0]="vg_slvm1"
//! SERVICE_NAME[1]=v-smp25_guest_apache
//! SERVICE_CMD[1]="/usr/sbin/cmappmgr -node v-smp25 -service /opt/apache/bin/httpd"
//! SERVICE_RESTART[1]="-r 1"
//! ```
//!
//! Shell assignments `NAME=value` and `NAME[i]=value` are read (one per line, after optional
//! indentation; `"…"`, `'…'` and backslashes unquoted the shell's way; a value ends at
//! unquoted white space or `;`); comments and every other shell line are ignored. Services are
//! the indices of `SERVICE_NAME[i]`, with `SERVICE_CMD[i]` and `SERVICE_RESTART[i]`
//! (`"-r N"` = N restarts, `"-R"` = unlimited, `""` or absent = none), ordered by index.
//! `PACKAGE_NAME`, `NODE_NAME[i]` and `VG[i]` are read when present.

use serde::Serialize;

use super::text::lines;
use super::ParseError;
use crate::service::ServiceRestart;

const COMMAND: &str = "legacy control script";

/// One shell assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assignment {
    /// The variable (`SERVICE_CMD`).
    pub name: String,
    /// The array index, for `NAME[i]=`.
    pub index: Option<u32>,
    /// The value, unquoted.
    pub value: String,
    /// 1-based line.
    pub line: usize,
}

/// One legacy service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LegacyService {
    /// The array index.
    pub index: u32,
    /// `SERVICE_NAME[i]`
    pub name: String,
    /// `SERVICE_CMD[i]` (unquoted; `""` when absent).
    pub cmd: String,
    /// `SERVICE_RESTART[i]` as written (unquoted).
    pub restart_raw: String,
    /// The restart policy.
    #[serde(serialize_with = "ser_restart")]
    pub restart: ServiceRestart,
}

fn ser_restart<S: serde::Serializer>(r: &ServiceRestart, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(r)
}

/// The script, read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LegacyControl {
    /// `PACKAGE_NAME`, when present.
    pub package_name: Option<String>,
    /// `NODE_NAME[i]` (or `NODE_NAME`) values, by index.
    pub node_names: Vec<String>,
    /// `VG[i]` values, by index.
    pub vgs: Vec<String>,
    /// The services, by index.
    pub services: Vec<LegacyService>,
    /// Every assignment read, in order.
    pub assignments: Vec<Assignment>,
}

/// Whether `text` looks like a legacy control script (has a `SERVICE_NAME[i]=`,
/// `SERVICE_CMD[i]=` or `PACKAGE_NAME=` assignment).
pub fn looks_legacy(text: &str) -> bool {
    lines(text).iter().any(|(_, l)| {
        let t = l.trim_start();
        t.starts_with("SERVICE_NAME[")
            || t.starts_with("SERVICE_CMD[")
            || t.starts_with("PACKAGE_NAME=")
    })
}

/// Parse the left side `NAME` / `NAME[i]` of an assignment.
fn lhs(s: &str) -> Option<(String, Option<u32>)> {
    let (name, index) = match s.split_once('[') {
        Some((n, rest)) => {
            let i = rest.strip_suffix(']')?;
            (n, Some(i.parse::<u32>().ok()?))
        }
        None => (s, None),
    };
    let ok = !name.is_empty()
        && (name.as_bytes()[0].is_ascii_alphabetic() || name.as_bytes()[0] == b'_')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    ok.then(|| (name.to_string(), index))
}

/// Unquote a shell word starting at `s`; `Err` on an unclosed quote.
fn shell_word(s: &str) -> Result<String, &'static str> {
    let mut out = String::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            c if c.is_whitespace() || c == ';' => break,
            '\\' => {
                if let Some(n) = it.next() {
                    out.push(n);
                }
            }
            '\'' => loop {
                match it.next() {
                    Some('\'') => break,
                    Some(ch) => out.push(ch),
                    None => return Err("a single quote is not closed on this line"),
                }
            },
            '"' => loop {
                match it.next() {
                    Some('"') => break,
                    Some('\\') => match it.peek() {
                        Some(&n) if matches!(n, '"' | '\\' | '$' | '`') => {
                            out.push(n);
                            it.next();
                        }
                        _ => out.push('\\'),
                    },
                    Some(ch) => out.push(ch),
                    None => return Err("a double quote is not closed on this line"),
                }
            },
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Read `SERVICE_RESTART` (`-r N`, `-R`, empty).
pub fn restart_of(raw: &str) -> Option<ServiceRestart> {
    let t: Vec<&str> = raw.split_whitespace().collect();
    match t.as_slice() {
        [] => Some(ServiceRestart::None),
        ["-R"] => Some(ServiceRestart::Unlimited),
        ["-r", n] => n.parse().ok().map(ServiceRestart::Times),
        [x] if x.starts_with("-r") => x[2..].parse().ok().map(ServiceRestart::Times),
        _ => None,
    }
}

/// Parse a legacy control script. An unclosed quote in an assignment, a service without a
/// `SERVICE_CMD` or an unreadable `SERVICE_RESTART` is an error naming the line; a script
/// without any assignment too.
pub fn parse(text: &str) -> Result<LegacyControl, ParseError> {
    let mut assignments = Vec::new();
    for (n, l) in lines(text) {
        let t = l.trim_start();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let t = t.strip_prefix("export ").map(str::trim_start).unwrap_or(t);
        let Some(eq) = t.find('=') else { continue };
        let Some((name, index)) = lhs(&t[..eq]) else {
            continue;
        };
        let value = shell_word(&t[eq + 1..]).map_err(|m| {
            ParseError::new(
                COMMAND,
                n,
                format!("{m} (value of {}): {:?}", &t[..eq], t.trim_end()),
            )
        })?;
        assignments.push(Assignment {
            name,
            index,
            value,
            line: n,
        });
    }
    if assignments.is_empty() {
        return Err(ParseError::new(
            COMMAND,
            0,
            "no shell assignment found: expected SERVICE_NAME[i]=…, SERVICE_CMD[i]=…, VG[i]=…",
        ));
    }
    let last = |name: &str, index: Option<u32>| {
        assignments
            .iter()
            .rev()
            .find(|a| a.name == name && a.index == index)
    };
    let indexed = |name: &str| {
        let mut v: Vec<(u32, String)> = Vec::new();
        for a in &assignments {
            if a.name == name {
                let i = a.index.unwrap_or(0);
                match v.iter_mut().find(|(j, _)| *j == i) {
                    Some(e) => e.1 = a.value.clone(),
                    None => v.push((i, a.value.clone())),
                }
            }
        }
        v.sort_by_key(|(i, _)| *i);
        v
    };
    let mut services = Vec::new();
    for (i, name) in indexed("SERVICE_NAME") {
        if name.is_empty() {
            continue;
        }
        let line = last("SERVICE_NAME", Some(i)).map(|a| a.line).unwrap_or(0);
        let cmd = last("SERVICE_CMD", Some(i))
            .map(|a| a.value.clone())
            .ok_or_else(|| {
                ParseError::new(
                    COMMAND,
                    line,
                    format!("service {name:?} (SERVICE_NAME[{i}]) has no SERVICE_CMD[{i}]"),
                )
            })?;
        let (restart_raw, rline) = last("SERVICE_RESTART", Some(i))
            .map(|a| (a.value.clone(), a.line))
            .unwrap_or_default();
        let restart = restart_of(&restart_raw).ok_or_else(|| {
            ParseError::new(
                COMMAND,
                rline,
                format!(
                    "SERVICE_RESTART[{i}] must be \"-r <n>\", \"-R\" or \"\", found {restart_raw:?}"
                ),
            )
        })?;
        services.push(LegacyService {
            index: i,
            name,
            cmd,
            restart_raw,
            restart,
        });
    }
    let package_name = last("PACKAGE_NAME", None)
        .or_else(|| last("PACKAGE_NAME", Some(0)))
        .map(|a| a.value.clone());
    let node_names = indexed("NODE_NAME").into_iter().map(|(_, v)| v).collect();
    let vgs = indexed("VG").into_iter().map(|(_, v)| v).collect();
    Ok(LegacyControl {
        package_name,
        node_names,
        vgs,
        services,
        assignments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        assert_eq!(shell_word(r#""-r 1" # c"#).unwrap(), "-r 1");
        assert_eq!(shell_word(r#"a"b c"'d e'"#).unwrap(), "ab cd e");
        assert_eq!(shell_word(r#""\"C:\\x\"""#).unwrap(), r#""C:\x""#);
        assert!(shell_word("\"abc").is_err());
    }

    #[test]
    fn restarts() {
        assert_eq!(restart_of("-r 1"), Some(ServiceRestart::Times(1)));
        assert_eq!(restart_of("-R"), Some(ServiceRestart::Unlimited));
        assert_eq!(restart_of(""), Some(ServiceRestart::None));
        assert_eq!(restart_of("-x"), None);
    }
}
