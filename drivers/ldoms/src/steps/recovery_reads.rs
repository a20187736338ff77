//! The reads and waits of the recovery (A2): where the guest is once a move settled, the
//! guest's CF node state.

use std::time::Duration;

use hascript_api::{Error, Result, WaitEnd};
use serde_json::{json, Value};

use super::{state_of, state_word, MIGRATION_DEADLINE, POLL};
use crate::facts::Inner;
use crate::locate::Location;
use crate::parse::cftool_n::NodeState;
use crate::topology::GuestDomain;

impl Inner {
    /// The location of a guest once no migration is under way (waits for one to end, up to
    /// [`MIGRATION_DEADLINE`]; a migration still under way then is an error).
    pub(super) fn settled_location(&self, guest: &GuestDomain) -> Result<Location> {
        let loc = self.settle_location(guest, MIGRATION_DEADLINE)?;
        if matches!(loc, Location::Migrating { .. }) {
            return Err(Error::needs_attention(format!(
                "the migration of {} is still under way after {} s",
                guest.domain,
                MIGRATION_DEADLINE.as_secs()
            ))
            .with_remedy(format!(
                "check it with `ldm list -o status {0}`; cancel it with `ldm cancel-operation migration {0}` on the source control domain if it is stuck, then run ldoms/recover-migration",
                guest.domain
            )));
        }
        Ok(loc)
    }

    /// Where a guest is once no migration is under way, waiting up to `deadline` for one to
    /// end; still `Migrating` when the deadline passes (the caller decides).
    pub(super) fn settle_location(
        &self,
        guest: &GuestDomain,
        deadline: Duration,
    ) -> Result<Location> {
        let loc = self.locate(&guest.domain)?;
        if !matches!(loc, Location::Migrating { .. }) {
            return Ok(loc);
        }
        self.ctx.ui.info(&format!(
            "{}; waiting for it to end",
            loc.describe(&guest.domain)
        ));
        let what = format!("the migration of {} to end", guest.domain);
        match self.ctx.poll(
            &what,
            deadline,
            POLL,
            || {
                let l = self.locate(&guest.domain)?;
                Ok((!matches!(l, Location::Migrating { .. }), l))
            },
            |l| l.describe(&guest.domain),
        )? {
            // The caller says where the guest ended; saying it here too would repeat it.
            WaitEnd::Done(l) => Ok(l),
            WaitEnd::Deadline(last) => {
                self.ctx.ui.warn(&format!(
                    "the migration of {} is still under way after {} s",
                    guest.domain,
                    deadline.as_secs()
                ));
                Ok(last)
            }
        }
    }

    /// Wait until the CF node `cf_name` reads `want`, asking a node other than `exclude`;
    /// `expected`: how long the manual says it takes, and the section saying so.
    /// Returns the last state seen when the deadline passes.
    pub fn wait_cf_state(
        &self,
        cf_name: &str,
        want: NodeState,
        exclude: Option<&str>,
        deadline: Duration,
        expected: Option<(Duration, &str)>,
    ) -> Result<std::result::Result<(), String>> {
        let what = format!("{cf_name} {} in cftool -n", state_word(&want));
        let end = self.ctx.poll_expecting(
            &what,
            expected,
            deadline,
            POLL,
            || {
                let nodes = self.cf_nodes(exclude)?;
                let st = nodes
                    .iter()
                    .find(|n| n.node == cf_name)
                    .map(|n| (n.state(), n.state.clone()))
                    .unwrap_or((NodeState::Other("absent".into()), "absent".into()));
                Ok((st.0 == want, st.1))
            },
            |s| s.clone(),
        )?;
        Ok(match end {
            WaitEnd::Done(_) => Ok(()),
            WaitEnd::Deadline(last) => Err(last),
        })
    }

    /// Where a guest is (`hypervisor.locate(guest[, opts])`): `#{guest, state, location,
    /// control_domain, node}`; `state` is running, stopped, migrating, missing or
    /// ambiguous. `settle`: wait out a migration still under way first.
    /// `settle: Some(deadline)`: wait out a migration still under way first, up to
    /// `deadline` (then `state: "migrating"`: the script decides).
    pub fn locate_value(&self, guest: &GuestDomain, settle: Option<Duration>) -> Result<Value> {
        let loc = match settle {
            Some(deadline) => self.settle_location(guest, deadline)?,
            None => self.locate(&guest.domain)?,
        };
        let state = state_of(&loc);
        Ok(json!({
            "guest": guest.domain, "state": state, "location": loc.describe(&guest.domain),
            "control_domain": loc.control_domain(), "node": guest.name,
        }))
    }

    /// Wait until the CF node of `guest` reads `want`, asked on a node that was not
    /// migrated (`cluster.wait_guest_node(guest, state, opts)`). Returns `#{node, state,
    /// reached, last, waited}`; a deadline passed is `reached: false` with the last state
    /// seen (the script decides; hascript never runs `cftool -k`).
    pub fn wait_guest_node(
        &self,
        guest: &GuestDomain,
        want: NodeState,
        deadline: Duration,
        expected: Option<(Duration, &str)>,
    ) -> Result<Value> {
        let cf = self.cf_name_of(guest)?;
        let from = self.now();
        let end = self.wait_cf_state(&cf, want.clone(), Some(&guest.domain), deadline, expected)?;
        let waited = self.now().saturating_sub(from);
        Ok(match end {
            Ok(()) => {
                json!({"node": cf, "state": state_word(&want), "reached": true, "last": state_word(&want), "waited": waited})
            }
            Err(last) => {
                json!({"node": cf, "state": state_word(&want), "reached": false, "last": last, "waited": waited})
            }
        })
    }
}
