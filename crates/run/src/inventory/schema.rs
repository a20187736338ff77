//! The inventory file's tables as TOML gives them, before validation.

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawInventory {
    pub(super) driver: Option<Spanned<String>>,
    pub(super) description: Option<String>,
    pub(super) defaults: Option<RawDefaults>,
    pub(super) ldoms: Option<RawLdoms>,
    pub(super) hpvm: Option<RawHpvm>,
    #[serde(default)]
    pub(super) host: Vec<Spanned<RawHost>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDefaults {
    pub(super) transport: Option<Spanned<String>>,
    pub(super) user: Option<Spanned<String>>,
    // SSH keys (transport = "ssh"), also allowed per host.
    pub(super) port: Option<Spanned<i64>>,
    pub(super) identity_file: Option<Spanned<String>>,
    pub(super) known_hosts: Option<Spanned<String>>,
    pub(super) password: Option<Spanned<String>>,
    pub(super) key_passphrase: Option<Spanned<String>>,
    #[serde(rename = "become")]
    pub(super) become_: Option<Spanned<String>>,
    pub(super) become_password: Option<Spanned<String>>,
    pub(super) legacy_algorithms: Option<Spanned<bool>>,
    pub(super) connect_timeout: Option<Spanned<i64>>,
    pub(super) command_timeout: Option<Spanned<i64>>,
    pub(super) handshakes_per_server: Option<Spanned<i64>>,
    pub(super) proxy_jump: Option<Spanned<String>>,
    // Where the hascript lock is made, for hosts with transport = "local" only.
    pub(super) lock_dir: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLdoms {
    pub(super) cf_timeout: Option<Spanned<i64>>,
    pub(super) xscf_user: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHpvm {
    pub(super) cluster: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHost {
    pub(super) name: Option<Spanned<String>>,
    pub(super) role: Option<Spanned<String>>,
    pub(super) address: Option<Spanned<String>>,
    pub(super) hosts_name: Option<Spanned<String>>,
    #[serde(rename = "box")]
    pub(super) box_name: Option<Spanned<String>>,
    pub(super) ppar_id: Option<Spanned<i64>>,
    pub(super) xscf: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) domain: Option<Spanned<String>>,
    pub(super) vm: Option<Spanned<String>>,
    pub(super) transport: Option<Spanned<String>>,
    pub(super) user: Option<Spanned<String>>,
    // SSH keys (transport = "ssh").
    pub(super) port: Option<Spanned<i64>>,
    pub(super) identity_file: Option<Spanned<String>>,
    pub(super) known_hosts: Option<Spanned<String>>,
    pub(super) password: Option<Spanned<String>>,
    pub(super) key_passphrase: Option<Spanned<String>>,
    #[serde(rename = "become")]
    pub(super) become_: Option<Spanned<String>>,
    pub(super) become_password: Option<Spanned<String>>,
    pub(super) legacy_algorithms: Option<Spanned<bool>>,
    pub(super) connect_timeout: Option<Spanned<i64>>,
    pub(super) command_timeout: Option<Spanned<i64>>,
    pub(super) handshakes_per_server: Option<Spanned<i64>>,
    pub(super) proxy_jump: Option<Spanned<String>>,
    pub(super) lock_dir: Option<Spanned<String>>,
}
