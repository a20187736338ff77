//! Secret parameters of a script: passwords a procedure must send but nobody may see.
//!
//! A script declares them in its header, beside `//! params:`:
//!
//! ```text
//! //! secrets: storepass_client (default: clientpw), storepass_server
//! ```
//!
//! Each entry is a parameter name ([`crate::scripts::PARAM_RULE`]), optionally with a
//! `default: VALUE` inside its parentheses: the manual's published default. The value of a
//! secret comes from the environment variable `HASCRIPT_SECRET_<NAME IN UPPER CASE>`, or,
//! when standard input is a terminal, from a prompt that does not echo. Never from `-p`: a
//! command line lands in the shell's history and in the process list (`ps`), so `-p` for a
//! secret's name is a usage error. A declared default is used only when the run says so
//! explicitly with `-p use_manual_default_passwords=yes`; otherwise a secret without a
//! value ends the run with exit 2 before anything is sent.
//!
//! Scripts read the values as `secrets.<name>`. Every text the run shows (steps,
//! information, warnings, questions, wait progress, the error report) goes through
//! [`RedactingUi`] / [`Secrets::redact`], which replace each secret value by `*****`;
//! drivers additionally mark the commands that carry a secret
//! ([`hascript_api::Command::with_secret`]). Values taken from a published default are not
//! hidden in free text (they are printed in the manual and the book, and hiding a word such
//! as `public` would garble paths like `client.public`), but they are still shown as
//! `*****` in every command line.

use std::collections::BTreeMap;
use std::fmt;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use hascript_api::{Error, Ui, WaitDone, WaitProgress};

use crate::scripts::valid_param_name;

/// Prefix of the environment variables that hold secret values.
pub use hascript_api::SECRET_ENV_PREFIX as ENV_PREFIX;

/// The parameter that allows the manual's published default passwords.
pub const USE_DEFAULTS_PARAM: &str = "use_manual_default_passwords";

pub use crate::scripts::secret_decl::{parse_decl, SecretDecl};

/// The secret values of one run. `Debug` never shows them; they are overwritten when
/// dropped.
#[derive(Clone, Default)]
pub struct Secrets {
    values: BTreeMap<String, String>,
    /// Names whose value is a published default (not hidden in free text).
    published: Vec<String>,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.values.keys().map(|k| (k, "*****")))
            .finish()
    }
}

impl Drop for Secrets {
    fn drop(&mut self) {
        for v in self.values.values_mut() {
            let mut bytes = std::mem::take(v).into_bytes();
            for b in bytes.iter_mut() {
                // SAFETY: `b` is a valid, exclusive reference into `bytes`.
                unsafe { std::ptr::write_volatile(b, 0) };
            }
        }
    }
}

impl Secrets {
    /// Whether no secret is held.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The names and values, for the `secrets` global.
    pub fn values(&self) -> &BTreeMap<String, String> {
        &self.values
    }

    /// The values hidden in free text (every value but published defaults).
    pub fn hidden(&self) -> Vec<String> {
        self.values
            .iter()
            .filter(|(k, _)| !self.published.contains(k))
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// `text` with every hidden value replaced by `*****`.
    pub fn redact(&self, text: &str) -> String {
        hascript_api::redact(text, &self.hidden())
    }
}

/// How [`resolve`] gets a value nobody gave in the environment: `None` when no one can be
/// asked.
pub type Prompt<'a> = &'a dyn Fn(&SecretDecl, &str) -> Option<String>;

/// Refuse `-p` for any declared secret (before anything else).
pub fn refuse_params(
    decls: &[SecretDecl],
    params: &BTreeMap<String, String>,
) -> Result<(), String> {
    for d in decls {
        if params.contains_key(&d.name) {
            return Err(format!(
                "{} is a secret of this script and cannot be given with -p: a command line is kept in the shell's history and shown to every user in the process list (ps); export {}=… before the run, or run on a terminal to be asked for it",
                d.name,
                d.env_var()
            ));
        }
    }
    Ok(())
}

/// The values of the declared secrets: from `env` (`HASCRIPT_SECRET_<NAME>`), else the
/// prompt, else the published default when `params` has
/// `use_manual_default_passwords=yes`; a secret left without a value is a usage error
/// naming the variable. `script` names the script in the prompt.
pub fn resolve(
    decls: &[SecretDecl],
    params: &BTreeMap<String, String>,
    env: &dyn Fn(&str) -> Option<String>,
    prompt: Prompt,
    script: &str,
) -> Result<Secrets, String> {
    refuse_params(decls, params)?;
    for d in decls {
        if !valid_param_name(&d.name) {
            return Err(format!(
                "{script}: the `//! secrets:` line declares {:?}, which is not a valid name ({})",
                d.name,
                crate::scripts::PARAM_RULE
            ));
        }
    }
    let use_defaults = match params.get(USE_DEFAULTS_PARAM).map(String::as_str) {
        None | Some("no") => false,
        Some("yes") => true,
        Some(_) => return Err(format!("-p {USE_DEFAULTS_PARAM} takes yes or no")),
    };
    let mut out = Secrets::default();
    let mut missing = Vec::new();
    for d in decls {
        let var = d.env_var();
        if let Some(v) = env(&var).filter(|v| !v.is_empty()) {
            out.values.insert(d.name.clone(), v);
            continue;
        }
        if let (true, Some(def)) = (use_defaults, &d.default) {
            out.values.insert(d.name.clone(), def.clone());
            out.published.push(d.name.clone());
            continue;
        }
        if let Some(v) = prompt(d, script).filter(|v| !v.is_empty()) {
            out.values.insert(d.name.clone(), v);
            continue;
        }
        missing.push(d);
    }
    if missing.is_empty() {
        return Ok(out);
    }
    let names: Vec<String> = missing
        .iter()
        .map(|d| format!("{} (export {})", d.name, d.env_var()))
        .collect();
    let defaults: Vec<String> = missing
        .iter()
        .filter_map(|d| d.default.as_ref().map(|v| format!("{} = {v}", d.name)))
        .collect();
    let mut msg = format!(
        "{script} needs the secret{} {}: give each in its environment variable, or run on a terminal to be asked (never with -p)",
        if missing.len() == 1 { "" } else { "s" },
        names.join(", ")
    );
    if !defaults.is_empty() {
        msg.push_str(&format!(
            "; to use the manual's published defaults ({}) say so with -p {USE_DEFAULTS_PARAM}=yes",
            defaults.join(", ")
        ));
    }
    Err(msg)
}

/// Ask for a secret on the controlling terminal with echo off (`rpassword`: the prompt on
/// `/dev/tty`, the answer read from it without echo); `None` when standard input is not a
/// terminal or the terminal cannot be opened or read.
pub fn ask_on_terminal(d: &SecretDecl, script: &str) -> Option<String> {
    if !std::io::stdin().is_terminal() {
        return None;
    }
    rpassword::prompt_password(format!(
        "{script}: secret {} (not shown; or set {}): ",
        d.name,
        d.env_var()
    ))
    .ok()
}

/// A [`Ui`] that hides secret values in everything it shows.
pub struct RedactingUi {
    inner: Arc<dyn Ui>,
    hidden: Vec<String>,
    journal: Option<Arc<crate::journal::Recorder>>,
}

impl RedactingUi {
    /// Wrap `inner`, hiding the [`Secrets::hidden`] values of `secrets`.
    pub fn new(inner: Arc<dyn Ui>, secrets: &Secrets) -> Self {
        RedactingUi {
            inner,
            hidden: secrets.hidden(),
            journal: None,
        }
    }

    /// Also hide every value the run's journal hides ([`crate::journal::Redactor`]: the
    /// inventory's secrets, each command's own secrets, secret-looking `-p` values), as it
    /// learns them.
    pub fn with_journal(mut self, rec: Arc<crate::journal::Recorder>) -> Self {
        self.journal = Some(rec);
        self
    }

    fn r(&self, s: &str) -> String {
        let s = hascript_api::redact(s, &self.hidden);
        match &self.journal {
            Some(rec) => rec.redact(&s),
            None => s,
        }
    }
}

impl Ui for RedactingUi {
    fn step(&self, section: &str, title: &str) {
        self.inner.step(&self.r(section), &self.r(title));
    }
    fn info(&self, message: &str) {
        self.inner.info(&self.r(message));
    }
    fn warn(&self, message: &str) {
        self.inner.warn(&self.r(message));
    }
    fn confirm(&self, question: &str) -> Result<bool, Error> {
        self.inner.confirm(&self.r(question)).map_err(|mut e| {
            e.message = self.r(&e.message);
            e
        })
    }
    fn waiting(&self, progress: &WaitProgress) {
        let mut p = progress.clone();
        p.what = self.r(&p.what);
        p.last_seen = p.last_seen.map(|s| self.r(&s));
        self.inner.waiting(&p);
    }
    fn wait_done(&self, done: &WaitDone) {
        let mut d = done.clone();
        d.what = self.r(&d.what);
        d.last_seen = d.last_seen.map(|s| self.r(&s));
        self.inner.wait_done(&d);
    }
    fn result(&self, text: &str) {
        self.inner.result(&self.r(text));
    }
    fn exposure(&self, what: &str, for_how_long: Duration) {
        self.inner.exposure(&self.r(what), for_how_long);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn params(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn decls() -> Vec<SecretDecl> {
        parse_decl("storepass_client (the client store; default: clientpw), storepass_public (default: `public`), token")
    }

    #[test]
    fn declarations_with_defaults() {
        let d = decls();
        assert_eq!(d.len(), 3);
        assert_eq!(d[0].name, "storepass_client");
        assert_eq!(d[0].default.as_deref(), Some("clientpw"));
        assert_eq!(d[1].default.as_deref(), Some("public"));
        assert_eq!(
            d[2],
            SecretDecl {
                name: "token".into(),
                default: None
            }
        );
        assert_eq!(d[0].env_var(), "HASCRIPT_SECRET_STOREPASS_CLIENT");
        assert!(parse_decl("(none)").is_empty());
    }

    #[test]
    fn values_come_from_env_then_prompt_then_allowed_defaults() {
        let env = |k: &str| (k == "HASCRIPT_SECRET_TOKEN").then(|| "t0ken!".to_string());
        let asked = Mutex::new(Vec::new());
        let prompt = |d: &SecretDecl, _: &str| {
            asked.lock().map(|mut a| a.push(d.name.clone())).ok();
            None
        };
        let e = resolve(&decls(), &params(&[]), &env, &prompt, "s")
            .err()
            .unwrap_or_default();
        assert!(e.contains("HASCRIPT_SECRET_STOREPASS_CLIENT"), "{e}");
        assert!(e.contains("use_manual_default_passwords=yes"), "{e}");
        assert!(!e.contains("t0ken!"), "{e}");
        let s = resolve(
            &decls(),
            &params(&[("use_manual_default_passwords", "yes")]),
            &env,
            &prompt,
            "s",
        )
        .unwrap_or_default();
        assert_eq!(s.values().get("token").map(String::as_str), Some("t0ken!"));
        assert_eq!(
            s.values().get("storepass_public").map(String::as_str),
            Some("public")
        );
        // Published defaults are not hidden in free text; given values are.
        assert_eq!(s.redact("client.public t0ken!"), "client.public *****");
        assert!(!format!("{s:?}").contains("t0ken!"));
        // Without a default, the defaults switch does not help.
        let e = resolve(
            &decls(),
            &params(&[("use_manual_default_passwords", "yes")]),
            &|_: &str| None,
            &prompt,
            "s",
        )
        .err()
        .unwrap_or_default();
        assert!(
            e.contains("token") && !e.contains("storepass_client"),
            "{e}"
        );
        let bad = resolve(
            &decls(),
            &params(&[("use_manual_default_passwords", "sure")]),
            &env,
            &prompt,
            "s",
        );
        assert!(bad.is_err());
    }

    #[test]
    fn dash_p_for_a_secret_is_refused() {
        let e = resolve(
            &decls(),
            &params(&[("storepass_client", "x")]),
            &|_: &str| None,
            &|_: &SecretDecl, _: &str| None,
            "s",
        )
        .err()
        .unwrap_or_default();
        assert!(
            e.contains("shell's history") && e.contains("process list"),
            "{e}"
        );
    }

    #[test]
    fn the_ui_never_shows_a_secret() {
        let s = resolve(
            &decls()[2..],
            &params(&[]),
            &|_: &str| Some("s3cret".into()),
            &|_: &SecretDecl, _: &str| None,
            "s",
        )
        .unwrap_or_default();
        let rec = Arc::new(hascript_testkit::Recorder {
            answer: Some(true),
            ..Default::default()
        });
        let ui = RedactingUi::new(rec.clone(), &s);
        ui.step("B4", "pw s3cret");
        ui.info("s3cret");
        ui.warn("x s3cret");
        let _ = ui.confirm("ok s3cret?");
        let shown = rec.text();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert_eq!(shown.matches("*****").count(), 4, "{shown}");
    }
}
