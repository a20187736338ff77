//! Errors located in the inventory: a byte offset as the file's line and key.

use hascript_api::names::NAME_RULE;
use hascript_api::validate_name;
use toml::Spanned;

use super::model::InventoryError;
use hascript_api::text::{quoted, ECHO_LIMIT};

pub(super) struct Ctx<'a> {
    pub(super) file: &'a str,
    pub(super) text: &'a str,
}

impl Ctx<'_> {
    pub(super) fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    pub(super) fn err(
        &self,
        offset: Option<usize>,
        key: Option<&str>,
        message: impl Into<String>,
    ) -> InventoryError {
        InventoryError {
            file: self.file.to_string(),
            line: offset.map(|o| self.line_of(o)),
            key: key.map(str::to_string),
            message: message.into(),
        }
    }

    /// The key written on the line holding `offset` (`key = value` or a `[table]` header).
    pub(super) fn key_at(&self, offset: usize) -> Option<String> {
        let start = self.text[..offset.min(self.text.len())]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let line = self.text[start..].lines().next().unwrap_or("").trim();
        let clip = |k: &str| match k.char_indices().nth(ECHO_LIMIT) {
            Some((cut, _)) => format!("{}…", &k[..cut]),
            None => k.to_string(),
        };
        if let Some((k, _)) = line.split_once('=') {
            let k = k.trim().trim_matches('"');
            if !k.is_empty() {
                return Some(clip(k));
            }
        }
        let h = line.trim_start_matches('[').trim_end_matches(']').trim();
        (!h.is_empty() && line.starts_with('[')).then(|| clip(h))
    }

    /// Refuse `value` (at `v`'s line, under `key`) unless `ok`: the message names the value
    /// (cut to [`ECHO_LIMIT`] characters) and the rule.
    pub(super) fn check(
        &self,
        v: &Spanned<String>,
        key: &str,
        what: &str,
        ok: bool,
        rule: &str,
    ) -> Result<(), InventoryError> {
        if ok {
            return Ok(());
        }
        Err(self.err(
            Some(v.span().start),
            Some(key),
            format!(
                "invalid {what} {}: {what} must be {rule}",
                quoted(v.get_ref())
            ),
        ))
    }

    /// Refuse a name outside [`NAME_RULE`] (`hascript_api::validate_name`).
    pub(super) fn check_name(
        &self,
        v: &Spanned<String>,
        key: &str,
        what: &str,
    ) -> Result<(), InventoryError> {
        let ok = validate_name(what, v.get_ref()).is_ok();
        self.check(v, key, &format!("{what} name"), ok, NAME_RULE)
    }
}
