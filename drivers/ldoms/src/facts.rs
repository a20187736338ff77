//! Read-only facts: each is one command plus its parser. Nothing here changes state.

use std::collections::HashMap;
use std::sync::Mutex;

use hascript_api::objects::Context;
use hascript_api::{Error, ErrorKind, Result};

use crate::commands as cmd;
use crate::parse::cfset_a::{self, Tunable};
use crate::parse::cftool_n::{self, CfNode};
use crate::parse::clsnmpsetup_l::{self, SfConfigRow};
use crate::parse::hvdisp::{self, AppRow};
use crate::parse::ldm_list_p::{self, Domain};
use crate::parse::ldm_list_spconfig::{self, SpConfig};
use crate::parse::sdtool_s::{self, SdtoolStatus};
use crate::parse::ParseError;
use crate::topology::{GuestDomain, Topology};

/// Shared state of one LDoms site during a run.
pub(crate) struct Inner {
    pub ctx: Context,
    pub topo: Topology,
    /// Log sizes at the start of the run, per (host, file): the time-sync scan looks only
    /// past them.
    pub log_marks: Mutex<HashMap<(String, String), u64>>,
    /// Sizes of `/var/adm/messages` per guest host just before this run's latest
    /// `clovmmigrate -u` (also journaled: later runs read them through the context's
    /// history).
    pub update_marks: Mutex<HashMap<String, u64>>,
    /// Virtual or real time (seconds since epoch) of the last `clovmmigrate -u`.
    pub last_update: Mutex<Option<u64>>,
    /// Time of `clovmmigrate -p` in this run (how long the cluster ran without fencing).
    pub prepared_at: Mutex<Option<u64>>,
    /// Guests whose 17.3.1.2 step 1 this run did or found done (their bracket completes
    /// with a passing `fence.verify()`).
    pub finished: Mutex<Vec<String>>,
}

fn parse_err(host: &str, e: ParseError) -> Error {
    Error::new(ErrorKind::Parse, e.to_string()).on_host(host)
}

impl Inner {
    pub fn new(ctx: Context, topo: Topology) -> Self {
        Inner {
            ctx,
            topo,
            log_marks: Mutex::new(HashMap::new()),
            update_marks: Mutex::new(HashMap::new()),
            last_update: Mutex::new(None),
            prepared_at: Mutex::new(None),
            finished: Mutex::new(Vec::new()),
        }
    }

    /// Current time in whole seconds on the run's clock.
    pub fn now(&self) -> u64 {
        self.ctx.clock.now().as_secs()
    }

    /// `ldm list -p` on control domain `cd`.
    pub fn domains(&self, cd: &str) -> Result<Vec<Domain>> {
        let out = self.ctx.run_ok(&cmd::ldm_list(cd))?;
        ldm_list_p::parse(&out.stdout).map_err(|e| parse_err(cd, e))
    }

    /// `ldm list-spconfig` on control domain `cd`.
    pub fn spconfigs(&self, cd: &str) -> Result<Vec<SpConfig>> {
        let out = self.ctx.run_ok(&cmd::ldm_list_spconfig(cd))?;
        ldm_list_spconfig::parse(&out.stdout).map_err(|e| parse_err(cd, e))
    }

    /// `cftool -n` on guest host `g`.
    pub fn cf_nodes_on(&self, g: &str) -> Result<Vec<CfNode>> {
        let out = self.ctx.run_ok(&cmd::cftool_n(g))?;
        cftool_n::parse(&out.stdout).map_err(|e| parse_err(g, e))
    }

    /// `cfset -a` on guest host `g`.
    pub fn tunables_on(&self, g: &str) -> Result<Vec<Tunable>> {
        let out = self.ctx.run_ok(&cmd::cfset_a(g))?;
        cfset_a::parse(&out.stdout).map_err(|e| parse_err(g, e))
    }

    /// The CF timeout read on guest host `g`.
    pub fn cf_timeout_on(&self, g: &str) -> Result<i64> {
        let t = self.tunables_on(g)?;
        cfset_a::cluster_timeout(&t).ok_or_else(|| {
            Error::new(ErrorKind::Parse, "cfset -a printed no CLUSTER_TIMEOUT").on_host(g)
        })
    }

    /// `sdtool -s` on guest host `g`: the table, or "not running" with the raw text (the
    /// command exits non-zero then, which is a state, not a failure).
    pub fn sdtool_on(&self, g: &str) -> Result<SdtoolStatus> {
        let out = self.ctx.run(&cmd::sdtool_s(g))?;
        // 126/127 are the shell's "cannot run" / "not found": no PRIMECLUSTER there, which
        // is not the shutdown facility being stopped.
        if matches!(out.code(), 126 | 127) {
            return Err(Error::new(
                ErrorKind::Command,
                format!("cannot run {} on {g}: {}", cmd::SDTOOL, out.stderr.trim()),
            )
            .on_host(g)
            .with_command(cmd::sdtool_s(g).display())
            .with_status(&out.status)
            .with_remedy("check that PRIMECLUSTER is installed on this host and that the inventory names the guest domains"));
        }
        let text = if out.stdout.trim().is_empty() {
            out.stderr.clone()
        } else {
            out.stdout.clone()
        };
        let status = sdtool_s::parse(&text).map_err(|e| parse_err(g, e))?;
        if !out.success() {
            if let SdtoolStatus::Table(_) = status {
                return Err(
                    Error::new(ErrorKind::Command, "sdtool -s printed a table but failed")
                        .on_host(g)
                        .with_status(&out.status)
                        .with_stderr(out.stderr),
                );
            }
        }
        Ok(status)
    }

    /// `clsnmpsetup -l` on guest host `g`.
    pub fn sf_config_on(&self, g: &str) -> Result<Vec<SfConfigRow>> {
        let out = self.ctx.run_ok(&cmd::clsnmpsetup_l(g))?;
        clsnmpsetup_l::parse(&out.stdout).map_err(|e| parse_err(g, e))
    }

    /// `hvdisp -T userApplication` on guest host `g`.
    pub fn apps_on(&self, g: &str) -> Result<Vec<AppRow>> {
        let out = self.ctx.run_ok(&cmd::hvdisp_apps(g))?;
        hvdisp::parse(&out.stdout).map_err(|e| parse_err(g, e))
    }

    /// Run `f` on the first guest host (other than `exclude`) that answers: cluster-wide
    /// facts are the same on every live node, and during a migration the moving guest may
    /// be gone ("on a node that was not migrated", 17.3.1.1).
    pub fn on_witness<T>(
        &self,
        exclude: Option<&str>,
        f: impl Fn(&str) -> Result<T>,
    ) -> Result<(String, T)> {
        let mut last: Option<Error> = None;
        for g in &self.topo.guests {
            if Some(g.domain.as_str()) == exclude || Some(g.name.as_str()) == exclude {
                continue;
            }
            match f(&g.name) {
                Ok(v) => return Ok((g.name.clone(), v)),
                Err(e) if e.kind == ErrorKind::Cancelled => return Err(e),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| Error::usage("the inventory has no guest domain to ask")))
    }

    /// CF nodes as seen from a node other than `exclude`.
    pub fn cf_nodes(&self, exclude: Option<&str>) -> Result<Vec<CfNode>> {
        self.on_witness(exclude, |g| self.cf_nodes_on(g))
            .map(|(_, v)| v)
    }

    /// The CF node name of a guest domain, from `clsnmpsetup -l` (domain-name ↔
    /// cluster-host-name).
    pub fn cf_name_of(&self, guest: &GuestDomain) -> Result<String> {
        let (_, rows) = self.on_witness(None, |g| self.sf_config_on(g))?;
        rows.iter()
            .find(|r| r.domain_name == guest.domain)
            .map(|r| r.cluster_host_name.clone())
            .ok_or_else(|| {
                Error::check(format!(
                    "clsnmpsetup -l has no row for domain {}: the inventory's guest is not a node of this guest cluster",
                    guest.domain
                ))
            })
    }

    /// Remember the current size of the logs on every guest, so later scans read only
    /// what this run's window wrote. Idempotent: the first mark of a run stays.
    pub fn mark_logs(&self) -> Result<()> {
        for g in &self.topo.guests {
            for file in [cmd::MESSAGES, cmd::SWITCHLOG] {
                let key = (g.name.clone(), file.to_string());
                if self.marks().contains_key(&key) {
                    continue;
                }
                // A guest that is down has nothing new to say; a missing log is size 0.
                let size = match self.ctx.run(&cmd::file_size(&g.name, file)) {
                    Ok(out) if out.success() => parse_wc(&out.stdout).unwrap_or(0),
                    Ok(_) => 0,
                    Err(e) if e.kind == ErrorKind::Cancelled => return Err(e),
                    Err(_) => continue,
                };
                self.marks().insert(key, size);
            }
        }
        Ok(())
    }

    fn marks(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), u64>> {
        match self.log_marks.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// The text of `file` on `host` written since the run's mark (the whole file when
    /// `since_run` is false or no mark was taken). A file smaller than its mark was
    /// rotated: read it whole.
    pub fn log_text(&self, host: &str, file: &str, since_run: bool) -> Result<String> {
        let mark = if since_run {
            self.marks()
                .get(&(host.to_string(), file.to_string()))
                .copied()
        } else {
            None
        };
        let size_now = match self.ctx.run(&cmd::file_size(host, file))? {
            out if out.success() => parse_wc(&out.stdout).unwrap_or(0),
            _ => return Ok(String::new()),
        };
        let offset = match mark {
            Some(m) if m <= size_now => m,
            _ => 0,
        };
        let out = self.ctx.run_ok(&cmd::file_from(host, file, offset))?;
        Ok(out.stdout)
    }

    /// Just before a `clovmmigrate -u`: the size of `/var/adm/messages` on every guest
    /// node, kept for this run and journaled (`Ui::log_mark`) for any later one, so that
    /// the search for message 7245 after it starts there (procedures.md A3: the manual
    /// sets no time bound, and a later run must still see what this `-u` caused). Returns
    /// `#{host: size}`; a node that does not answer has no entry (its whole file is read
    /// later, and said to be so).
    pub fn mark_before_update(&self) -> Result<serde_json::Value> {
        let mut sizes = serde_json::Map::new();
        for g in &self.topo.guests {
            let size = match self.ctx.run(&cmd::file_size(&g.name, cmd::MESSAGES)) {
                Ok(out) if out.success() => parse_wc(&out.stdout).unwrap_or(0),
                // No file yet: everything written later is after the mark.
                Ok(_) => 0,
                Err(e) if e.kind == ErrorKind::Cancelled => return Err(e),
                Err(_) => continue,
            };
            self.ctx.ui.log_mark(&g.name, cmd::MESSAGES, size);
            self.update_marks
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(g.name.clone(), size);
            sizes.insert(g.name.clone(), size.into());
        }
        Ok(serde_json::Value::Object(sizes))
    }

    /// `/var/adm/messages` on `host` from its size before the latest `clovmmigrate -u`
    /// (this run's, else the newest any earlier run on this site journaled), and whether
    /// that size was known: `(text, true)`; with no record, the whole file and `false` (a
    /// line found there may be older than the latest `-u`). A file smaller than the
    /// recorded size was rotated since: all of it is newer.
    pub fn messages_since_update(&self, host: &str) -> Result<(String, bool)> {
        let this_run = self
            .update_marks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(host)
            .copied();
        let mark = this_run.or_else(|| self.ctx.history.log_mark(host, cmd::MESSAGES));
        let size_now = match self.ctx.run(&cmd::file_size(host, cmd::MESSAGES))? {
            out if out.success() => parse_wc(&out.stdout).unwrap_or(0),
            _ => return Ok((String::new(), mark.is_some())),
        };
        let offset = match mark {
            Some(m) if m <= size_now => m,
            _ => 0,
        };
        let out = self
            .ctx
            .run_ok(&cmd::file_from(host, cmd::MESSAGES, offset))?;
        Ok((out.stdout, mark.is_some()))
    }

    /// Record the time of a `clovmmigrate -u` (SF needs ~30 s before its verdict counts).
    pub fn set_last_update(&self, t: u64) {
        match self.last_update.lock() {
            Ok(mut g) => *g = Some(t),
            Err(p) => *p.into_inner() = Some(t),
        }
    }

    /// Record the time of `clovmmigrate -p`.
    pub fn set_prepared_at(&self, t: u64) {
        *self.prepared_at.lock().unwrap_or_else(|p| p.into_inner()) = Some(t);
    }

    /// Time of `clovmmigrate -p` in this run.
    pub fn prepared_at(&self) -> Option<u64> {
        *self.prepared_at.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Remember that 17.3.1.2 step 1 is done for `guest`.
    pub fn note_finished(&self, guest: &str) {
        let mut f = self.finished.lock().unwrap_or_else(|p| p.into_inner());
        if !f.iter().any(|g| g == guest) {
            f.push(guest.to_string());
        }
    }

    /// Guests whose 17.3.1.2 step 1 this run did or found done.
    pub fn finished_guests(&self) -> Vec<String> {
        self.finished
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Time of the last `clovmmigrate -u` in this run.
    pub fn last_update(&self) -> Option<u64> {
        match self.last_update.lock() {
            Ok(g) => *g,
            Err(p) => *p.into_inner(),
        }
    }
}

/// The syslog time at the start of a line (`Nov 21 00:14:40 host …` → `Nov 21 00:14:40`).
pub(crate) fn syslog_time(line: &str) -> Option<String> {
    let mut w = line.split_whitespace();
    let (month, day, time) = (w.next()?, w.next()?, w.next()?);
    let clock = time.len() == 8
        && time.char_indices().all(|(i, c)| {
            if i == 2 || i == 5 {
                c == ':'
            } else {
                c.is_ascii_digit()
            }
        });
    let ok = month.len() == 3
        && month.chars().all(|c| c.is_ascii_alphabetic())
        && day.len() <= 2
        && day.chars().all(|c| c.is_ascii_digit())
        && clock;
    ok.then(|| format!("{month} {day} {time}"))
}

/// First number of `wc -c` output (`    1234 /var/adm/messages`).
fn parse_wc(s: &str) -> Option<u64> {
    s.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::{parse_wc, syslog_time};

    #[test]
    fn syslog_time_is_read_from_the_line() {
        assert_eq!(
            syslog_time("Nov 21 00:14:40 guest1 SMAWsf: [ID 702911 daemon.err] x:7245:y")
                .as_deref(),
            Some("Nov 21 00:14:40")
        );
        assert_eq!(
            syslog_time("Nov  1 09:05:00 g x").as_deref(),
            Some("Nov 1 09:05:00")
        );
        assert_eq!(syslog_time("2026-11-21T00:14:40 g x"), None);
        assert_eq!(syslog_time(""), None);
    }

    #[test]
    fn wc_output_is_read() {
        assert_eq!(parse_wc("    1234 /var/adm/messages\n"), Some(1234));
        assert_eq!(parse_wc("0 x"), Some(0));
        assert_eq!(parse_wc("wc: cannot open"), None);
    }
}
