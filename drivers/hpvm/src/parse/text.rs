//! Shared text helpers of the parsers: line splitting, words with their columns and header
//! keys, all from `hascript_api::text` (shared with the LDoms parsers).

pub(crate) use hascript_api::text::{lines, snake, tokens, Tok};

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
