//! Transports that do I/O, and the router that gives each inventory host its transport.

pub mod local;

use std::collections::HashMap;
use std::sync::Arc;

use hascript_api::{CancelToken, Command, Error, Exec, Output};

use crate::inventory::{Inventory, TransportKind};

pub use local::LocalExec;

/// Routes each command to the transport of its host (`cmd.host`).
pub struct Router {
    routes: HashMap<String, Arc<dyn Exec>>,
    hosts: Vec<String>,
}

impl Exec for Router {
    fn exec(&self, cmd: &Command) -> Result<Output, Error> {
        match self.routes.get(&cmd.host) {
            Some(e) => e.exec(cmd),
            None => Err(Error::usage(format!(
                "unknown host {:?}; the inventory's hosts are: {}",
                cmd.host,
                self.hosts.join(", ")
            ))),
        }
    }
}

/// Build the site's transport from the inventory. `sim` serves the hosts whose transport
/// is `sim`; without it such hosts are an error.
pub fn build(
    inv: &Inventory,
    sim: Option<Arc<dyn Exec>>,
    cancel: &CancelToken,
) -> Result<Router, Error> {
    let local: Arc<dyn Exec> = Arc::new(LocalExec::new(cancel.clone()));
    let mut routes = HashMap::new();
    for h in &inv.hosts {
        let exec = match h.transport {
            TransportKind::Local => local.clone(),
            TransportKind::Sim => match &sim {
                Some(s) => s.clone(),
                None => {
                    return Err(Error::usage(format!(
                        "host {:?} has transport = \"sim\", which only a simulated site (--sim) serves; use transport = \"local\"",
                        h.name
                    )))
                }
            },
        };
        routes.insert(h.name.clone(), exec);
    }
    Ok(Router {
        routes,
        hosts: inv.host_names(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hascript_api::ErrorKind;

    const INV: &str = r#"driver = "ldoms"
[[host]]
name = "cd1"
role = "control-domain"
box = "b1"
ppar_id = 0
xscf = ["a", "b"]
[[host]]
name = "g1"
role = "guest-domain"
[[host]]
name = "g2"
role = "guest-domain"
transport = "sim"
"#;

    struct Fixed;
    impl Exec for Fixed {
        fn exec(&self, cmd: &Command) -> Result<Output, Error> {
            Ok(Output::new(0, format!("sim {}", cmd.host), ""))
        }
    }

    #[test]
    fn routes_by_host_and_refuses_unknown_hosts() {
        let inv = crate::inventory::parse("i.toml", INV).map_err(|e| e.to_string());
        let inv = match inv {
            Ok(i) => i,
            Err(e) => panic!("{e}"),
        };
        let r = match build(&inv, Some(Arc::new(Fixed)), &CancelToken::new()) {
            Ok(r) => r,
            Err(e) => panic!("{}", e.message),
        };
        let sim = r
            .exec(&Command::read("g2", &["x"]))
            .map(|o| o.stdout)
            .map_err(|e| e.message);
        assert_eq!(sim, Ok("sim g2".to_string()));
        let local = r
            .exec(&Command::read("cd1", &["echo", "local"]))
            .map(|o| o.stdout)
            .map_err(|e| e.message);
        assert_eq!(local, Ok("local\n".to_string()));
        let e = r.exec(&Command::read("nope", &["true"])).err();
        let e = e.map(|e| {
            (
                e.kind,
                e.message.contains("\"nope\""),
                e.message.contains("cd1, g1, g2"),
            )
        });
        assert_eq!(e, Some((ErrorKind::Usage, true, true)));
        assert!(build(&inv, None, &CancelToken::new()).is_err());
    }
}
