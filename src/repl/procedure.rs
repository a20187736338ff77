//! `:run`: a procedure run on the session's site through the run layer, as `hascript run`
//! runs it (journal, host locks, confirmations, `--dry-run`).

use std::sync::Arc;

use hascript_api::CancelToken;

use crate::engine::Interrupt;
use crate::journal;
use crate::run;
use crate::scripts;
use crate::site::{SiteChoice, SiteSpec};

use super::site::SessionNames;
use super::{Reply, Session};

impl Session {
    pub(super) fn run(&mut self, rest: &str) -> Reply {
        let mut words = rest.split_whitespace();
        let Some(name) = words.next() else {
            return Reply::Error("error: :run needs a procedure".into());
        };
        let mut yes = false;
        let mut dry_run = false;
        let mut raw = Vec::new();
        for w in words {
            match w {
                "--yes" => yes = true,
                "--dry-run" => dry_run = true,
                _ => raw.push(w.to_string()),
            }
        }
        // Secret-looking values (`password=…`) are hidden from here on, as `hascript run`
        // hides them; also in what `:save` writes.
        for w in &raw {
            if let Some((k, v)) = w.split_once('=') {
                if journal::secret_param_name(k) {
                    self.redactor().add(v);
                }
            }
        }
        let params = match scripts::parse_params(&raw) {
            Ok(p) => p,
            Err(e) => {
                return Reply::Error(format!("error: {}", e.replace("-p key=value", "key=value")))
            }
        };
        let script = match crate::scripts::resolve(name) {
            Ok(s) => s,
            Err(e) => return Reply::Error(format!("error: {e}")),
        };
        if let Err(e) = scripts::check_declared(&params, &script) {
            return Reply::Error(format!("error: {e}"));
        }
        let driver = self.built.site.driver();
        if script.path.is_none() {
            let family = script.source_name.split('/').next().unwrap_or_default();
            if (family == "ldoms" || family == "hpvm") && family != driver {
                return Reply::Error(format!(
                    "error: {} is a procedure for {family} sites, and this session is on a {driver} site: switch with :sim {family} (or :inventory FILE)",
                    script.source_name
                ));
            }
        }
        // The same run as `hascript run` (journal, host locks, --dry-run, confirmations),
        // on the session's site: its folder when simulated, so the session sees the result.
        let site = match &self.spec {
            SiteSpec::Sim {
                state: Some(dir), ..
            } => SiteChoice {
                sim: Some(None),
                sim_state: Some(dir.clone()),
                ..SiteChoice::default()
            },
            SiteSpec::Sim { state: None, .. } => {
                return Reply::Error(
                    "error: the session's simulated site has no folder (a bug in hascript); switch with :sim to get one".into(),
                )
            }
            SiteSpec::Inventory(p) => SiteChoice {
                inventory: Some(p.clone()),
                accept_new_host_keys: self.opts.accept_new_host_keys,
                sim_clock: self.opts.sim_clock.clone(),
                ..SiteChoice::default()
            },
        };
        let req = run::Request {
            script: name.to_string(),
            site,
            params: raw,
            yes,
            dry_run,
            ..run::Request::default()
        };
        // Ctrl-C (the REPL's watcher) cancels the run's token: the run stops and runs its
        // recovery routines, as after a first Ctrl-C in `hascript run`.
        let cancel = CancelToken::new();
        *self.running.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(Interrupt::new(cancel.clone()));
        let exit = run::run(req, Some(cancel));
        *self.running.lock().unwrap_or_else(|p| p.into_inner()) = None;
        // The run may have added or moved guests and packages: read the names again.
        self.names = Arc::new(SessionNames::new(
            self.built.site.clone(),
            self.ui.completing.clone(),
        ));
        if dry_run {
            // Nothing changed: the lines that follow saw no effect, `:save` has nothing
            // to say about it.
            return match exit {
                0 => Reply::Text(format!(
                    "{} dry run finished (exit code 0; nothing was changed)",
                    script.source_name
                )),
                n => Reply::Error(format!(
                    "{} dry run ended with exit code {n} (nothing was changed)",
                    script.source_name
                )),
            };
        }
        let args: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let record = format!(
            "// :run {} {} — ran here; what follows saw its effect (run it first: hascript run {}{})",
            script.source_name,
            args.join(" "),
            script.source_name,
            params
                .iter()
                .map(|(k, v)| format!(" -p {k}={v}"))
                .collect::<String>()
        );
        let record = self.redactor().redact(&record);
        self.accepted.push(record);
        match exit {
            0 => Reply::Text(format!("{} finished (exit code 0)", script.source_name)),
            n => Reply::Error(format!("{} ended with exit code {n}", script.source_name)),
        }
    }
}
