//! Shared text helpers of the parsers: header keys; line splitting and words with their
//! columns come from `hascript_api::text` (shared with the LDoms parsers).

pub(crate) use hascript_api::text::{lines, tokens, Tok};

/// The snake_case key of a header name: `Virtual Machine Name` → `virtual_machine_name`,
/// `VM #` → `vm`, `#VCPUs` → `vcpus`, `Name/Num` → `name_num`, `PortNum` → `port_num`.
pub(crate) fn snake(name: &str) -> String {
    let mut out = String::new();
    let mut sep = false;
    let mut prev_lower = false;
    for ch in name.chars() {
        if ch.is_alphanumeric() {
            let boundary = ch.is_uppercase() && prev_lower;
            if (sep || boundary) && !out.is_empty() {
                out.push('_');
            }
            sep = false;
            prev_lower = ch.is_lowercase() || ch.is_ascii_digit();
            out.extend(ch.to_lowercase());
        } else {
            sep = true;
            prev_lower = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_keys() {
        assert_eq!(snake("Virtual Machine Name"), "virtual_machine_name");
        assert_eq!(snake("VM #"), "vm");
        assert_eq!(snake("#VCPUs"), "vcpus");
        assert_eq!(snake("Name/Num"), "name_num");
        assert_eq!(snake("PortNum"), "port_num");
        assert_eq!(snake("Mac Address"), "mac_address");
        assert_eq!(snake("OS Type"), "os_type");
    }

    #[test]
    fn tokens_and_crlf() {
        let l = lines("a  b\r\nc");
        assert_eq!(l, vec![(1, "a  b"), (2, "c")]);
        let t = tokens("  ab cd");
        assert_eq!(t[0].col, 2);
        assert_eq!(t[0].end(), 4);
        assert_eq!(t[1].text, "cd");
    }
}
