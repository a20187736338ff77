//! Hiding secret values in everything the journal and the JSON output write.

use std::sync::RwLock;

use hascript_api::objects::Value;

/// The secret values a run knows, hidden as `*****` in everything the journal and the JSON
/// output write. Fed with the script's secrets, every command's own secrets, and any other
/// value the run learns is secret; values are only added, never removed.
#[derive(Debug, Default)]
pub struct Redactor {
    values: RwLock<Vec<String>>,
}

impl Redactor {
    /// An empty redactor.
    pub fn new() -> Self {
        Redactor::default()
    }

    /// Hide `value` from now on (empty values are ignored).
    pub fn add(&self, value: &str) {
        if value.is_empty() {
            return;
        }
        let mut g = self.values.write().unwrap_or_else(|p| p.into_inner());
        if !g.iter().any(|v| v == value) {
            g.push(value.to_string());
        }
    }

    /// Hide every value of `values`.
    pub fn add_all<S: AsRef<str>>(&self, values: &[S]) {
        for v in values {
            self.add(v.as_ref());
        }
    }

    /// `text` with every known secret replaced by `*****` (longest first).
    pub fn redact(&self, text: &str) -> String {
        let g = self.values.read().unwrap_or_else(|p| p.into_inner());
        hascript_api::redact(text, &g)
    }

    /// `bytes` with every known secret replaced by `*****` (longest first): output as the
    /// host wrote it, before it is cut to an excerpt or encoded.
    pub fn redact_bytes(&self, bytes: &[u8]) -> Vec<u8> {
        let g = self.values.read().unwrap_or_else(|p| p.into_inner());
        // Text (the usual case) takes the string search, which is much faster on large
        // outputs than the byte-by-byte one.
        match std::str::from_utf8(bytes) {
            Ok(text) => hascript_api::redact(text, &g).into_bytes(),
            Err(_) => hascript_api::redact_bytes(bytes, &g),
        }
    }

    /// Redact every string (and every object key) inside `v`.
    pub fn redact_value(&self, v: &mut Value) {
        match v {
            Value::String(s) => {
                let r = self.redact(s);
                if r != *s {
                    *s = r;
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| self.redact_value(x)),
            Value::Object(m) => {
                let old = std::mem::take(m);
                for (k, mut x) in old {
                    self.redact_value(&mut x);
                    m.insert(self.redact(&k), x);
                }
            }
            _ => {}
        }
    }
}

/// Whether a parameter's name says it holds a secret (`password`, `passphrase`,
/// `storepass`, `secret`, `token`): its value is journaled as `*****` and hidden everywhere.
pub fn secret_param_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["pass", "secret", "token"].iter().any(|w| n.contains(w))
}
