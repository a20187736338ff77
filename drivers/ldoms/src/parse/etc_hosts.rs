//! `/etc/inet/hosts` (Solaris; `/etc/hosts` links to it): `address name [alias…]` lines,
//! `#` comments to the end of a line, blank lines. The manual's `clovmmigrate -u` takes "the
//! IP address of the destination control domain or a host name registered in
//! /etc/inet/hosts": this file, not whatever DNS answers.

use serde::Serialize;

use super::ParseError;

/// One line of the hosts table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostsEntry {
    /// The address, as written.
    pub address: String,
    /// The canonical name and the aliases, in order.
    pub names: Vec<String>,
    /// 1-based line number in the file.
    pub line: usize,
}

/// Parse the hosts table. A line with an address and no name is an error naming the line.
pub fn parse(text: &str) -> Result<Vec<HostsEntry>, ParseError> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut words = line.split_whitespace();
        let Some(address) = words.next() else {
            continue;
        };
        let names: Vec<String> = words.map(str::to_string).collect();
        if names.is_empty() {
            return Err(ParseError::new(
                "/etc/inet/hosts",
                i + 1,
                format!("expected an address followed by at least one name, found {raw:?}"),
            ));
        }
        out.push(HostsEntry {
            address: address.to_string(),
            names,
            line: i + 1,
        });
    }
    Ok(out)
}

/// The entry that registers `name` (case-insensitively, as the resolver does), if any.
pub fn lookup<'a>(entries: &'a [HostsEntry], name: &str) -> Option<&'a HostsEntry> {
    entries
        .iter()
        .find(|e| e.names.iter().any(|n| n.eq_ignore_ascii_case(name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOLARIS: &str = "#\n# Internet host table\n#\n::1\t\tlocalhost\n127.0.0.1\tlocalhost loghost\n192.0.2.11\tcd1\t# first box\n192.0.2.13\tcd3 cd3-adm\n# 192.0.2.99 cd9\n";

    #[test]
    fn names_and_aliases_resolve_comments_do_not() {
        let e = parse(SOLARIS).expect("parses");
        assert_eq!(e.len(), 4);
        assert_eq!(
            lookup(&e, "cd3").map(|x| x.address.as_str()),
            Some("192.0.2.13")
        );
        assert_eq!(lookup(&e, "CD3-ADM").map(|x| x.line), Some(7));
        assert_eq!(
            lookup(&e, "cd1").map(|x| x.address.as_str()),
            Some("192.0.2.11")
        );
        assert!(
            lookup(&e, "cd9").is_none(),
            "a commented-out line registers nothing"
        );
        assert!(
            lookup(&e, "first").is_none(),
            "a trailing comment is not an alias"
        );
    }

    #[test]
    fn an_address_without_a_name_names_its_line() {
        let err = parse("127.0.0.1 localhost\r\n192.0.2.12\n").expect_err("refused");
        assert_eq!(err.line, 2);
    }
}
