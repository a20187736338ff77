//! The saved-configuration rule of 17.3.1.2: at most 6 saved configurations and none named
//! `config_tmp` on the control domains where `clovmmigrate -u` saves one (the source and
//! the destination). Every line `ldm list-spconfig` prints counts, `factory-default`
//! included (the manual does not say; counting it is the safe reading). `factory-default`,
//! the `[current]` and the `[next poweron]` configurations are never proposed for removal;
//! the others are proposed in listing order, taken as oldest first.

use hascript_api::{Error, ErrorKind, Result};
use serde::Serialize;

use crate::commands as cmd;
use crate::facts::Inner;
use crate::parse::ldm_list_spconfig::SpConfig;

/// The most saved configurations `clovmmigrate -u` accepts.
pub const MAX_SPCONFIGS: usize = 6;
/// The name `clovmmigrate -u` needs free.
pub const CONFIG_TMP: &str = "config_tmp";

/// What the rule asks of one control domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpconfigPlan {
    /// Control domain.
    pub control_domain: String,
    /// How many lines `ldm list-spconfig` printed.
    pub count: usize,
    /// Configurations to remove, in order.
    pub remove: Vec<String>,
    /// Why the rule cannot be met without a person, if so.
    pub blocked: Option<String>,
}

fn protected(c: &SpConfig) -> bool {
    c.name == "factory-default" || c.current || c.next_poweron
}

/// Plan the removals for one control domain's listing.
pub fn plan(control_domain: &str, configs: &[SpConfig]) -> SpconfigPlan {
    let mut remove = Vec::new();
    let mut blocked = None;
    if let Some(tmp) = configs.iter().find(|c| c.name == CONFIG_TMP) {
        if protected(tmp) {
            blocked = Some(format!(
                "{CONFIG_TMP} on {control_domain} is marked [current] or [next poweron]: removing it needs a person's decision"
            ));
        } else {
            remove.push(CONFIG_TMP.to_string());
        }
    }
    let left = configs.len() - remove.len();
    if left > MAX_SPCONFIGS && blocked.is_none() {
        let excess = left - MAX_SPCONFIGS;
        let candidates: Vec<String> = configs
            .iter()
            .filter(|c| !protected(c) && c.name != CONFIG_TMP)
            .map(|c| c.name.clone())
            .take(excess)
            .collect();
        if candidates.len() < excess {
            blocked = Some(format!(
                "{control_domain} has {} saved configurations and only {} may be removed safely (factory-default, [current] and [next poweron] are kept)",
                configs.len(),
                candidates.len()
            ));
        } else {
            remove.extend(candidates);
        }
    }
    SpconfigPlan {
        control_domain: control_domain.to_string(),
        count: configs.len(),
        remove,
        blocked,
    }
}

impl Inner {
    /// Check the rule on `cds` and, after confirmation, remove what it needs. Declining
    /// (or no terminal and no `--yes`) fails with `Declined` before anything is removed.
    pub fn enforce_spconfig_rule(&self, cds: &[String]) -> Result<Vec<SpconfigPlan>> {
        let mut plans = Vec::new();
        for cd in cds {
            let configs = self.spconfigs(cd)?;
            plans.push(plan(cd, &configs));
        }
        if let Some(b) = plans.iter().find_map(|p| p.blocked.clone()) {
            return Err(Error::needs_attention(b).with_remedy(
                "remove saved configurations by hand with `ldm remove-spconfig NAME` until at most 6 remain and none is named config_tmp (17.3.1.2)",
            ));
        }
        let todo: Vec<&SpconfigPlan> = plans.iter().filter(|p| !p.remove.is_empty()).collect();
        if todo.is_empty() {
            for p in &plans {
                self.ctx.ui.info(&format!(
                    "{}: {} saved configurations, no {CONFIG_TMP}: rule of 17.3.1.2 holds",
                    p.control_domain, p.count
                ));
            }
            return Ok(plans);
        }
        let listing: Vec<String> = todo
            .iter()
            .map(|p| {
                format!(
                    "{} on {} ({} saved configurations)",
                    p.remove.join(", "),
                    p.control_domain,
                    p.count
                )
            })
            .collect();
        let question = format!(
            "17.3.1.2 needs at most {MAX_SPCONFIGS} saved configurations and no {CONFIG_TMP}; remove {}?",
            listing.join("; ")
        );
        self.ctx.ui.warn(&format!(
            "the saved-configuration rule of 17.3.1.2 is not met; proposed for removal: {}",
            listing.join("; ")
        ));
        let yes = self.ctx.ui.confirm(&question)?;
        if !yes {
            return Err(Error::new(
                ErrorKind::Declined,
                "removal of saved configurations declined; nothing was changed",
            ));
        }
        for p in &todo {
            for name in &p.remove {
                self.ctx
                    .run_ok(&cmd::ldm_remove_spconfig(&p.control_domain, name))?;
                self.ctx.ui.info(&format!(
                    "removed saved configuration {name} on {}",
                    p.control_domain
                ));
            }
            let after = self.spconfigs(&p.control_domain)?;
            let again = plan(&p.control_domain, &after);
            if !again.remove.is_empty() || again.blocked.is_some() {
                return Err(Error::needs_attention(format!(
                    "{} still breaks the saved-configuration rule after removal ({} saved)",
                    p.control_domain, again.count
                )));
            }
        }
        Ok(plans)
    }
}

impl Inner {
    /// `hypervisor.configs(host)`: the saved configurations of a control domain.
    pub fn configs_of(&self, host: &str) -> Result<Vec<SpConfig>> {
        let cd = self.resolve_cd("control domain", host)?;
        self.spconfigs(&cd.name)
    }

    /// `hypervisor.remove_config(host, name)`: `ldm remove-spconfig NAME`. Interlock: never
    /// `factory-default`, `[current]` or `[next poweron]`.
    pub fn remove_config(&self, host: &str, name: &str) -> Result<serde_json::Value> {
        let cd = self.resolve_cd("control domain", host)?;
        hascript_api::validate_name("configuration", name)?;
        let configs = self.spconfigs(&cd.name)?;
        let c = configs.iter().find(|c| c.name == name).ok_or_else(|| {
            Error::usage(format!("{} has no saved configuration {name:?}", cd.name))
        })?;
        if protected(c) {
            return Err(Error::usage(format!(
                "{name} on {} is factory-default, [current] or [next poweron]: hascript never removes those",
                cd.name
            )));
        }
        self.ctx.run_ok(&cmd::ldm_remove_spconfig(&cd.name, name))?;
        Ok(serde_json::json!({"control_domain": cd.name, "removed": name}))
    }

    /// `hypervisor.clean_configs(hosts)`: the saved-configuration rule of 17.3.1.2 on each
    /// control domain named, asking before removing anything.
    pub fn clean_configs(&self, hosts: &[String]) -> Result<Vec<SpconfigPlan>> {
        let mut names = Vec::new();
        for h in hosts {
            names.push(self.resolve_cd("control domain", h)?.name);
        }
        self.enforce_spconfig_rule(&names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(name: &str, current: bool, next: bool) -> SpConfig {
        SpConfig {
            name: name.into(),
            current,
            next_poweron: next,
        }
    }

    #[test]
    fn six_lines_without_tmp_need_nothing() {
        let list: Vec<SpConfig> = ["factory-default", "a", "b", "c", "d"]
            .iter()
            .map(|n| c(n, false, false))
            .chain([c("e", true, true)])
            .collect();
        let p = plan("cd2", &list);
        assert!(p.remove.is_empty());
        assert_eq!(p.blocked, None);
    }

    #[test]
    fn seven_lines_remove_oldest_unprotected() {
        let list = vec![
            c("factory-default", false, false),
            c("old1", false, false),
            c("old2", false, false),
            c("cur", true, false),
            c("next", false, true),
            c("old3", false, false),
            c("old4", false, false),
        ];
        let p = plan("cd2", &list);
        assert_eq!(p.remove, vec!["old1".to_string()]);
        assert_eq!(p.count, 7);
    }

    #[test]
    fn config_tmp_is_removed_first_and_counts() {
        let list = vec![
            c("factory-default", false, false),
            c("config_tmp", false, false),
            c("a", true, true),
        ];
        assert_eq!(plan("cd3", &list).remove, vec!["config_tmp".to_string()]);
    }

    #[test]
    fn protected_config_tmp_blocks() {
        let list = vec![
            c("factory-default", false, false),
            c("config_tmp", true, false),
        ];
        let p = plan("cd3", &list);
        assert!(p.remove.is_empty());
        assert!(p.blocked.is_some());
    }

    #[test]
    fn only_protected_left_blocks() {
        let list: Vec<SpConfig> = (0..7)
            .map(|i| c(&format!("x{i}"), i % 2 == 0, i % 2 == 1))
            .collect();
        assert!(plan("cd1", &list).blocked.is_some());
    }
}
