//! Removal of a halted package (`cmdeleteconf`).

use hascript_api::{Error, Result};
use serde_json::{json, Value};

use crate::commands as cmd;
use crate::facts::Inner;
use crate::parse::cmviewcl_line::Status;
use crate::procedure::after_change;

impl Inner {
    /// Remove the package (`cmdeployvpkg -P VM -U`, one command) and read back that
    /// `cmviewcl` no longer lists it; says whether the guest is left running or stopped.
    /// Refused (a check, nothing sent) unless the package is halted: halting it stops its
    /// guest, a decision the script hpvm/remove-package asks before `package.halt`. Asks
    /// nothing itself: the confirmation is the script's.
    pub fn remove(&self, name: &str) -> Result<Value> {
        let (view, p) = self.resolve_package(name)?;
        let vm = p.name.clone();
        if p.status() != Status::Down {
            return Err(Error::check(format!(
                "package {vm} is {}/{} on {}: it is not removed while it runs",
                p.status,
                p.state,
                p.owner.as_deref().unwrap_or("?")
            ))
            .with_remedy(format!(
                "halt it first (package.halt \"{vm}\"; this stops the VM), or run hpvm/remove-package -p package={vm}, which asks before halting it"
            )));
        }
        let host = self.command_host(&view, Some(&p))?;
        self.ctx.ui.step(
            "B3",
            &format!("remove package {vm}: cmdeployvpkg -P {vm} -U on {host}"),
        );
        self.ctx
            .run_ok(&cmd::cmdeployvpkg_remove(&host, &vm)?)
            .map_err(after_change)?;
        let view = self.view()?;
        if view.package(&vm).is_some() {
            return Err(Error::check(format!(
                "cmdeployvpkg -P {vm} -U ran but cmviewcl still lists package {vm}"
            )));
        }
        let running = self.running_on(&vm)?;
        let vm_state = if running.is_empty() {
            format!("{vm} is stopped (not running on any VM host)")
        } else {
            format!(
                "{vm} is left running on {} without Serviceguard protection",
                running.join(", ")
            )
        };
        self.ctx.ui.info(&format!(
            "package {vm} removed from the cluster; {vm_state}"
        ));
        Ok(json!({"package": vm, "removed": true, "running_on": running, "vm": vm_state}))
    }
}
