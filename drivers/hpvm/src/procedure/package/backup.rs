//! Backups of the package directory into a dated folder.

use hascript_api::{Error, Result};
use serde_json::{json, Value};

use super::timestamp;
use crate::commands as cmd;
use crate::facts::Inner;
use crate::parse::ls_l::FileType;
use crate::procedure::{after_change, members};

impl Inner {
    /// Back up the package directory on every member: its regular files copied with
    /// `cp -p` into `DIR/.backup/<YYYYMMDD-HHMMSS>/`.
    pub fn backup(&self, name: &str) -> Result<Value> {
        let vm = self.vm_name(name)?;
        let view = self.view()?;
        let hosts = match view.package(&vm) {
            Some(p) => {
                let ms: Vec<String> = members(p)
                    .into_iter()
                    .filter(|m| self.topo.vm_host(m).is_some())
                    .collect();
                ms
            }
            None => self.topo.vm_host_names(),
        };
        let dir = cmd::package_dir(&vm)?;
        let stamp = timestamp(self.now());
        let dest = format!("{dir}/.backup/{stamp}");
        let mut per_host = serde_json::Map::new();
        for h in &hosts {
            let Some(entries) = self.list_dir(h, &dir)? else {
                per_host.insert(h.clone(), Value::Null);
                continue;
            };
            let files: Vec<String> = entries
                .iter()
                .filter(|e| e.file_type == FileType::Regular)
                .map(|e| e.name.rsplit('/').next().unwrap_or(&e.name).to_string())
                .filter(|n| !n.is_empty())
                .collect();
            self.mkdir_p(h, &dest)?;
            for f in &files {
                self.ctx
                    .run_ok(&cmd::cp_p(
                        h,
                        &format!("{dir}/{f}"),
                        &format!("{dest}/{f}"),
                    )?)
                    .map_err(after_change)?;
            }
            per_host.insert(h.clone(), json!(files));
        }
        if per_host.values().all(Value::is_null) {
            return Err(Error::check(format!(
                "{dir} exists on no member ({}): nothing to back up",
                hosts.join(", ")
            )));
        }
        self.ctx
            .ui
            .info(&format!("package directory backed up to {dest}"));
        Ok(json!({"dir": dir, "backup": dest, "hosts": per_host}))
    }
}
