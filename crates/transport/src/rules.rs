//! The rules for host names, addresses and login user names that the transport accepts
//! (an SSH address, a jump host, a login), and their checks. The inventory checks its
//! values with these same rules.

use std::net::{Ipv4Addr, Ipv6Addr};

/// The rule for host names, as error messages state it.
pub const HOSTNAME_RULE: &str = "a host name of at most 253 characters from A-Z a-z 0-9 . -, \
     starting and ending with a letter or digit";

/// The rule for addresses, as error messages state it.
pub const ADDRESS_RULE: &str = "an IPv4 or IPv6 address, or a host name of at most 253 \
     characters from A-Z a-z 0-9 . -, starting and ending with a letter or digit";

/// The rule for login user names, as error messages state it.
pub const USER_RULE: &str = "1 to 32 characters from a-z 0-9 _ . -, starting with a-z or _ \
     ([a-z_][a-z0-9_.-]{0,31})";

/// Whether `value` is a host name (`[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?`, at most 253
/// characters).
pub fn valid_hostname(value: &str) -> bool {
    let b = value.as_bytes();
    let edge = |c: &u8| c.is_ascii_alphanumeric();
    !b.is_empty()
        && b.len() <= 253
        && b.first().is_some_and(edge)
        && b.last().is_some_and(edge)
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-'))
}

/// Whether `value` is an IPv4 or IPv6 address or a host name (see [`ADDRESS_RULE`]).
pub fn valid_address(value: &str) -> bool {
    value.parse::<Ipv4Addr>().is_ok() || value.parse::<Ipv6Addr>().is_ok() || valid_hostname(value)
}

/// Whether `value` is a login user name (`[a-z_][a-z0-9_.-]{0,31}`).
pub fn valid_user(value: &str) -> bool {
    let b = value.as_bytes();
    !b.is_empty()
        && b.len() <= 32
        && (b[0].is_ascii_lowercase() || b[0] == b'_')
        && b.iter().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'_' | b'.' | b'-')
        })
}
