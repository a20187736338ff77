//! Read-only facts: each is one command plus its parser. Nothing here changes state.

use std::collections::HashMap;
use std::sync::Mutex;

use hascript_api::objects::Context;
use hascript_api::{validate_name, Error, ErrorKind, Result};

use crate::commands as cmd;
use crate::parse::cmviewcl_line::{self, ClusterView, PackageView};
use crate::parse::hpvmstatus::{self, VmDetails, VmRow};
use crate::parse::ParseError;
use crate::topology::Topology;

/// Per package, `(member, its package file or None)` kept before an unapplied edit.
pub(crate) type PreviousFiles = HashMap<String, Vec<(String, Option<String>)>>;

/// Shared state of one Serviceguard site during a run.
pub(crate) struct Inner {
    pub ctx: Context,
    pub topo: Topology,
    /// Log sizes at the start of the run, per (host, file): scans look only past them.
    pub log_marks: Mutex<HashMap<(String, String), u64>>,
    /// Per package, the package file each member held before the first edit this run made
    /// that no `cmapplyconf` has applied yet (`None`: no file there): a failed
    /// `cmcheckconf` puts these back, so a rejected edit is not left on the members.
    pub previous_files: Mutex<PreviousFiles>,
}

pub(crate) fn parse_err(host: &str, e: ParseError) -> Error {
    Error::new(ErrorKind::Parse, e.to_string()).on_host(host)
}

/// Whether an error must end the run at once (Ctrl-C).
pub(crate) fn is_cancel(e: &Error) -> bool {
    e.kind == ErrorKind::Cancelled
}

impl Inner {
    pub fn new(ctx: Context, topo: Topology) -> Self {
        Inner {
            ctx,
            topo,
            log_marks: Mutex::new(HashMap::new()),
            previous_files: Mutex::new(HashMap::new()),
        }
    }

    /// Current time in whole seconds on the run's clock.
    pub fn now(&self) -> u64 {
        self.ctx.clock.now().as_secs()
    }

    /// Run `f` on the first VM host (other than `exclude`) that answers: cluster-wide facts
    /// are the same on every member.
    pub fn on_witness<T>(
        &self,
        exclude: Option<&str>,
        f: impl Fn(&str) -> Result<T>,
    ) -> Result<(String, T)> {
        let mut last: Option<Error> = None;
        for h in &self.topo.vm_hosts {
            if Some(h.name.as_str()) == exclude {
                continue;
            }
            match f(&h.name) {
                Ok(v) => return Ok((h.name.clone(), v)),
                // A cancel, an old release or bad input is the same on every host.
                Err(e) if matches!(e.kind, ErrorKind::Cancelled | ErrorKind::Check) => {
                    return Err(e)
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| Error::usage("the inventory has no VM host to ask")))
    }

    /// `cmviewcl -v -f line` on VM host `h`. Serviceguard before A.11.19 answers `illegal
    /// option -- f`: a `Check` error saying A.11.19 or later is required.
    pub fn view_on(&self, h: &str) -> Result<ClusterView> {
        let c = cmd::cmviewcl(h);
        let out = self.ctx.run(&c)?;
        let all = format!("{}\n{}", out.stdout, out.stderr);
        if cmviewcl_line::is_old_release_answer(&all) {
            return Err(Error::check("Serviceguard A.11.19 or later is required: `cmviewcl -f line` is not known to this release")
                .on_host(h)
                .with_command(c.display())
                .with_status(&out.status)
                .with_stderr(out.stderr)
                .with_remedy(cmviewcl_line::OLD_RELEASE_MESSAGE));
        }
        if !out.success() {
            let first = out
                .stderr
                .lines()
                .chain(out.stdout.lines())
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or("")
                .to_string();
            return Err(Error::new(
                ErrorKind::Command,
                format!("cmviewcl failed on {h}: {first}"),
            )
            .on_host(h)
            .with_command(c.display())
            .with_status(&out.status)
            .with_stderr(out.stderr)
            .with_remedy("check that Serviceguard runs on this VM host (cmviewcl as root)"));
        }
        cmviewcl_line::parse(&out.stdout).map_err(|e| {
            if e.is_old_release() {
                Error::check("Serviceguard A.11.19 or later is required")
                    .on_host(h)
                    .with_remedy(cmviewcl_line::OLD_RELEASE_MESSAGE)
            } else {
                parse_err(h, e)
            }
        })
    }

    /// The cluster as seen from the first VM host that answers.
    pub fn view(&self) -> Result<ClusterView> {
        self.on_witness(None, |h| self.view_on(h)).map(|(_, v)| v)
    }

    /// `hpvmstatus` on VM host `h`.
    pub fn vms(&self, h: &str) -> Result<Vec<VmRow>> {
        let out = self.ctx.run_ok(&cmd::hpvmstatus(h))?;
        hpvmstatus::parse_summary(&out.stdout).map_err(|e| parse_err(h, e))
    }

    /// `hpvmstatus -P VM` on VM host `h`; `None` when the guest is not registered there.
    pub fn details(&self, h: &str, vm: &str) -> Result<Option<VmDetails>> {
        let c = cmd::hpvmstatus_p(h, vm)?;
        let out = self.ctx.run(&c)?;
        if !out.success() {
            if hpvmstatus::unknown_guest(&format!("{}\n{}", out.stderr, out.stdout)).is_some() {
                return Ok(None);
            }
            return Err(Error::new(
                ErrorKind::Command,
                format!("hpvmstatus -P {vm} failed on {h}: {}", out.stderr.trim()),
            )
            .on_host(h)
            .with_command(c.display())
            .with_status(&out.status)
            .with_stderr(out.stderr));
        }
        hpvmstatus::parse_details(&out.stdout)
            .map(Some)
            .map_err(|e| parse_err(h, e))
    }

    /// The package `name` in `view`, or a usage error listing the packages.
    pub fn package_in<'a>(&self, view: &'a ClusterView, name: &str) -> Result<&'a PackageView> {
        view.package(name).ok_or_else(|| {
            let known: Vec<&str> = view.packages.iter().map(|p| p.name.as_str()).collect();
            let mut e = Error::usage(format!(
                "unknown package {name:?}: cmviewcl lists {}",
                if known.is_empty() {
                    "no package".to_string()
                } else {
                    known.join(", ")
                }
            ));
            // A guest the inventory knows but Serviceguard does not: say how to package it.
            if self.topo.guest(name).is_some() {
                e = e.with_remedy(format!(
                    "{name} is a guest of this site but not a Serviceguard package yet: package it with hpvm/deploy-package -p package={name}"
                ));
            }
            e
        })
    }

    /// A package name from a script: validated, then looked up in `cmviewcl`.
    pub fn resolve_package(&self, name: &str) -> Result<(ClusterView, PackageView)> {
        validate_name("package", name)?;
        let view = self.view()?;
        let p = self.package_in(&view, name)?.clone();
        Ok((view, p))
    }

    /// A VM host named by a script: validated and in the inventory.
    pub fn resolve_host(&self, what: &str, name: &str) -> Result<String> {
        validate_name(what, name)?;
        match self.topo.vm_host(name) {
            Some(h) => Ok(h.name.clone()),
            None => Err(Error::usage(format!(
                "unknown {what} {name:?}: the site's VM hosts are {}",
                self.topo.vm_host_names().join(", ")
            ))),
        }
    }

    /// The VM name of a guest given by VM name or inventory name; a name the inventory
    /// does not know is taken as a VM name (packages and guests outside the inventory
    /// exist) once validated.
    pub fn vm_name(&self, name: &str) -> Result<String> {
        validate_name("VM", name)?;
        Ok(self
            .topo
            .guest(name)
            .map(|g| g.vm.clone())
            .unwrap_or_else(|| name.to_string()))
    }

    /// The package files kept before unapplied edits ([`Inner::previous_files`]).
    pub(crate) fn previous(&self) -> std::sync::MutexGuard<'_, PreviousFiles> {
        match self.previous_files.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    pub(crate) fn marks(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), u64>> {
        match self.log_marks.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Remember the current size of `files` on every VM host, so later scans read only
    /// what this run wrote. Idempotent: the first mark of a run stays.
    pub fn mark_logs(&self, files: &[String]) -> Result<()> {
        for h in &self.topo.vm_hosts {
            for file in files {
                let key = (h.name.clone(), file.clone());
                if self.marks().contains_key(&key) {
                    continue;
                }
                // A missing log is size 0; a host that cannot be asked is skipped.
                let size = match self.ctx.run(&cmd::file_size(&h.name, file)?) {
                    Ok(out) if out.success() => parse_wc(&out.stdout).unwrap_or(0),
                    Ok(_) => 0,
                    Err(e) if is_cancel(&e) => return Err(e),
                    Err(_) => continue,
                };
                self.marks().insert(key, size);
            }
        }
        Ok(())
    }

    /// The text of `file` on `host` written since the run's mark (the whole file when
    /// `since_run` is false or no mark was taken; a file smaller than its mark was rotated
    /// and is read whole). A missing file reads as empty.
    pub fn log_text(&self, host: &str, file: &str, since_run: bool) -> Result<String> {
        let mark = if since_run {
            self.marks()
                .get(&(host.to_string(), file.to_string()))
                .copied()
        } else {
            None
        };
        let size_now = match self.ctx.run(&cmd::file_size(host, file)?)? {
            out if out.success() => parse_wc(&out.stdout).unwrap_or(0),
            _ => return Ok(String::new()),
        };
        let offset = match mark {
            Some(m) if m <= size_now => m,
            _ => 0,
        };
        let out = self.ctx.run_ok(&cmd::file_from(host, file, offset)?)?;
        Ok(out.stdout)
    }
}

/// First number of `wc -c` output (`    1234 /var/adm/syslog/syslog.log`).
pub(crate) fn parse_wc(s: &str) -> Option<u64> {
    s.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::parse_wc;

    #[test]
    fn wc_output_is_read() {
        assert_eq!(
            parse_wc("    1234 /var/adm/syslog/syslog.log\n"),
            Some(1234)
        );
        assert_eq!(parse_wc("wc: cannot open"), None);
    }
}
