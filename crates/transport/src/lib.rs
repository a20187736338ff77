//! Transports that do I/O, and the router that gives each inventory host its transport.

#![warn(missing_docs)]

pub mod files;

pub mod local;
pub mod rules;
pub mod ssh;

use std::collections::HashMap;
use std::sync::Arc;

use hascript_api::{fan_out, CancelToken, Command, Error, Exec, FanOut, Output};

pub use local::LocalExec;

/// Prefix of the environment variables that hold a script's secret values
/// (`HASCRIPT_SECRET_<NAME>`): the local transport never hands them down to a command.
pub use hascript_api::SECRET_ENV_PREFIX;

/// How the router reaches one host (the inventory's `transport` key, with what it needs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportSpec {
    /// Run commands on this machine (`sh -c`).
    Local,
    /// The simulator given to [`build`] serves the host.
    Sim,
    /// Over SSH, with these settings (boxed: they are large, the other variants empty).
    Ssh(Box<ssh::HostSpec>),
}

/// One host the router serves: its name (what `Command::host` says) and how it is reached.
/// The inventory converts its hosts into these; the transport knows nothing of the inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRoute {
    /// The host's name.
    pub name: String,
    /// How it is reached.
    pub transport: TransportSpec,
}

/// Routes each command to the transport of its host (`cmd.host`).
pub struct Router {
    routes: HashMap<String, Arc<dyn Exec>>,
    hosts: Vec<String>,
    secrets: Vec<String>,
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

impl Router {
    /// The values of every secret the inventory names (SSH `password`, `key_passphrase`,
    /// `become_password` of every host), read when the router was built: the run's
    /// redactor hides them in the journal, `--output json` and the console. Never print
    /// the result.
    pub fn secret_values(&self) -> Vec<String> {
        self.secrets.clone()
    }

    /// Run one command per host at once (see [`fan_out`]).
    pub fn fan_out(&self, cmds: &[Command], opts: &FanOut) -> Vec<Result<Output, Error>> {
        fan_out(self, cmds, opts)
    }
}

/// The environment variables the hosts' secrets are read from (`env:VARIABLE` of
/// `password`, `key_passphrase`, `become_password` of every SSH host), in host order,
/// each once: the local transport does not hand them down to its commands.
pub fn secret_env_vars(hosts: &[HostRoute]) -> Vec<String> {
    use ssh::secret::SecretRef;
    let mut out: Vec<String> = Vec::new();
    for h in hosts {
        let TransportSpec::Ssh(spec) = &h.transport else {
            continue;
        };
        let o = &spec.options;
        for r in [&o.password, &o.key_passphrase, &o.become_password]
            .into_iter()
            .flatten()
        {
            if let SecretRef::Env(name) = r {
                if !out.contains(name) {
                    out.push(name.clone());
                }
            }
        }
    }
    out
}

/// Options of the transports that the command line sets.
#[derive(Debug, Clone, Default)]
pub struct TransportOptions {
    /// SSH: run-wide settings (`--accept-new-host-keys`, …).
    pub ssh: ssh::SshSettings,
}

/// Build the site's transport for `hosts` (the inventory's, in its order). `sim` serves the
/// hosts whose transport is `sim`; without it such hosts are an error.
pub fn build(
    hosts: &[HostRoute],
    sim: Option<Arc<dyn Exec>>,
    cancel: &CancelToken,
) -> Result<Router, Error> {
    build_with(hosts, sim, cancel, &TransportOptions::default())
}

/// [`build`] with the command line's transport options.
pub fn build_with(
    hosts: &[HostRoute],
    sim: Option<Arc<dyn Exec>>,
    cancel: &CancelToken,
    opts: &TransportOptions,
) -> Result<Router, Error> {
    // Local commands do not inherit the variables that hold the inventory's secrets.
    let local: Arc<dyn Exec> =
        Arc::new(LocalExec::new(cancel.clone()).without_env(&secret_env_vars(hosts)));
    let mut routes = HashMap::new();
    let mut secrets: Vec<String> = Vec::new();
    for h in hosts {
        let exec: Arc<dyn Exec> = match &h.transport {
            TransportSpec::Local => local.clone(),
            TransportSpec::Ssh(spec) => {
                let host = ssh::SshHost::new(spec, &opts.ssh, cancel.clone())?;
                for v in host.target().secret_values() {
                    if !secrets.contains(&v) {
                        secrets.push(v);
                    }
                }
                Arc::new(host)
            }
            TransportSpec::Sim => match &sim {
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
        hosts: hosts.iter().map(|h| h.name.clone()).collect(),
        secrets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hascript_api::ErrorKind;

    struct Fixed;
    impl Exec for Fixed {
        fn exec(&self, cmd: &Command) -> Result<Output, Error> {
            Ok(Output::new(0, format!("sim {}", cmd.host), ""))
        }
    }

    fn route(name: &str, transport: TransportSpec) -> HostRoute {
        HostRoute {
            name: name.into(),
            transport,
        }
    }

    fn ssh(name: &str, options: ssh::SshOptions) -> HostRoute {
        route(
            name,
            TransportSpec::Ssh(Box::new(ssh::HostSpec {
                name: name.into(),
                user: None,
                address: None,
                options,
            })),
        )
    }

    #[test]
    fn secret_env_vars_of_own_routes_names_every_env_reference_once() {
        use ssh::secret::SecretRef;
        let env = |n: &str| Some(SecretRef::Env(n.into()));
        let hosts = [
            ssh(
                "cd1",
                ssh::SshOptions {
                    password: env("HS_PW"),
                    become_: Some(ssh::Become::Sudo),
                    become_password: env("HS_SUDO"),
                    key_passphrase: Some(SecretRef::File("/nonexistent/pass".into())),
                    ..Default::default()
                },
            ),
            ssh(
                "g1",
                ssh::SshOptions {
                    password: env("HS_PW"),
                    key_passphrase: env("HS_KEY"),
                    ..Default::default()
                },
            ),
            route("g2", TransportSpec::Local),
        ];
        assert_eq!(secret_env_vars(&hosts), ["HS_PW", "HS_SUDO", "HS_KEY"]);
        let plain = [
            route("cd1", TransportSpec::Local),
            route("g2", TransportSpec::Sim),
            ssh("g3", ssh::SshOptions::default()),
        ];
        assert!(secret_env_vars(&plain).is_empty());
    }

    #[test]
    fn own_routes_route_by_host_and_refuse_unknown_hosts() {
        let hosts = [
            route("cd1", TransportSpec::Local),
            route("g1", TransportSpec::Local),
            route("g2", TransportSpec::Sim),
        ];
        let r = match build(&hosts, Some(Arc::new(Fixed)), &CancelToken::new()) {
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
        let e = build(&hosts, None, &CancelToken::new()).err();
        assert!(
            e.as_ref()
                .is_some_and(|e| e.kind == ErrorKind::Usage && e.message.contains("\"g2\"")),
            "{e:?}"
        );
    }
}
