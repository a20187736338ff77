//! Transports that do I/O, and the router that gives each inventory host its transport.

pub mod local;
pub mod ssh;

use std::collections::HashMap;
use std::sync::Arc;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use hascript_api::{CancelToken, Command, Error, ErrorKind, Exec, Output};

use crate::inventory::{Inventory, TransportKind};

pub use local::LocalExec;

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

/// How [`fan_out`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FanOut {
    /// At most this many commands at once (at least 1).
    pub limit: usize,
    /// After the first failure (an `Err`; a non-zero exit is an `Ok`), start no further
    /// command: those report "not sent". Commands already running finish.
    pub stop_on_error: bool,
}

impl Default for FanOut {
    fn default() -> Self {
        FanOut {
            limit: 16,
            stop_on_error: false,
        }
    }
}

/// Run `cmds` (normally one per host, in inventory order) on `exec` with at most
/// `opts.limit` at once, and return their results in the same order. One host's failure
/// does not cancel the others (unless `opts.stop_on_error`). Commands for the same host are
/// serialised by its transport (one session per host), so give each host one command.
pub fn fan_out(exec: &dyn Exec, cmds: &[Command], opts: &FanOut) -> Vec<Result<Output, Error>> {
    let n = cmds.len();
    let results: Mutex<Vec<Option<Result<Output, Error>>>> =
        Mutex::new((0..n).map(|_| None).collect());
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let first_failure: Mutex<Option<String>> = Mutex::new(None);
    let workers = opts.limit.max(1).min(n);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(cmd) = cmds.get(i) else { break };
                let r = if stop.load(Ordering::SeqCst) {
                    let after = match first_failure.lock() {
                        Ok(g) => g.clone().unwrap_or_default(),
                        Err(p) => p.into_inner().clone().unwrap_or_default(),
                    };
                    Err(Error::new(
                        ErrorKind::Failed,
                        format!(
                            "not sent to {}: the fan-out stopped after the failure on {after}",
                            cmd.host
                        ),
                    )
                    .on_host(&cmd.host)
                    .with_command(cmd.display()))
                } else {
                    let r = exec.exec(cmd);
                    if r.is_err() && opts.stop_on_error {
                        if let Ok(mut g) = first_failure.lock() {
                            g.get_or_insert_with(|| cmd.host.clone());
                        }
                        stop.store(true, Ordering::SeqCst);
                    }
                    r
                };
                match results.lock() {
                    Ok(mut g) => g[i] = Some(r),
                    Err(p) => p.into_inner()[i] = Some(r),
                }
            });
        }
    });
    let results = match results.into_inner() {
        Ok(v) => v,
        Err(p) => p.into_inner(),
    };
    results
        .into_iter()
        .zip(cmds)
        .map(|(r, c)| {
            r.unwrap_or_else(|| {
                Err(Error::new(ErrorKind::Transport, "the command was not run").on_host(&c.host))
            })
        })
        .collect()
}

/// The environment variables the inventory's secrets are read from (`env:VARIABLE` of
/// `password`, `key_passphrase`, `become_password` of every host), in inventory order,
/// each once: the local transport does not hand them down to its commands.
pub fn secret_env_vars(inv: &Inventory) -> Vec<String> {
    use ssh::secret::SecretRef;
    let mut out: Vec<String> = Vec::new();
    for h in &inv.hosts {
        let o = &h.ssh;
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

/// Build the site's transport from the inventory. `sim` serves the hosts whose transport
/// is `sim`; without it such hosts are an error.
pub fn build(
    inv: &Inventory,
    sim: Option<Arc<dyn Exec>>,
    cancel: &CancelToken,
) -> Result<Router, Error> {
    build_with(inv, sim, cancel, &TransportOptions::default())
}

/// [`build`] with the command line's transport options.
pub fn build_with(
    inv: &Inventory,
    sim: Option<Arc<dyn Exec>>,
    cancel: &CancelToken,
    opts: &TransportOptions,
) -> Result<Router, Error> {
    // Local commands do not inherit the variables that hold the inventory's secrets.
    let local: Arc<dyn Exec> =
        Arc::new(LocalExec::new(cancel.clone()).without_env(&secret_env_vars(inv)));
    let mut routes = HashMap::new();
    let mut secrets: Vec<String> = Vec::new();
    for h in &inv.hosts {
        let exec: Arc<dyn Exec> = match h.transport {
            TransportKind::Local => local.clone(),
            TransportKind::Ssh => {
                let host = ssh::SshHost::new(h, &opts.ssh, cancel.clone())?;
                for v in host.target().secret_values() {
                    if !secrets.contains(&v) {
                        secrets.push(v);
                    }
                }
                Arc::new(host)
            }
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
        secrets,
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

    /// Sleeps 100 ms, then answers with the host name; host "bad" fails.
    struct Slow;
    impl Exec for Slow {
        fn exec(&self, cmd: &Command) -> Result<Output, Error> {
            std::thread::sleep(std::time::Duration::from_millis(100));
            if cmd.host == "bad" {
                return Err(Error::new(ErrorKind::Transport, "down").on_host(&cmd.host));
            }
            Ok(Output::new(0, cmd.host.clone(), ""))
        }
    }

    #[test]
    fn fan_out_keeps_order_runs_in_parallel_and_isolates_failures() {
        let hosts = ["a", "bad", "c", "d", "e", "f"];
        let cmds: Vec<Command> = hosts.iter().map(|h| Command::read(h, &["x"])).collect();
        let t = std::time::Instant::now();
        let r = fan_out(&Slow, &cmds, &FanOut::default());
        assert!(
            t.elapsed() < std::time::Duration::from_millis(400),
            "{:?}",
            t.elapsed()
        );
        let got: Vec<String> = r
            .iter()
            .map(|x| match x {
                Ok(o) => o.stdout.clone(),
                Err(e) => format!("err {}", e.host.clone().unwrap_or_default()),
            })
            .collect();
        assert_eq!(got, ["a", "err bad", "c", "d", "e", "f"]);
        // limit 1, stop on error: one at a time; after "bad", nothing more is sent.
        let t = std::time::Instant::now();
        let r = fan_out(
            &Slow,
            &cmds,
            &FanOut {
                limit: 1,
                stop_on_error: true,
            },
        );
        assert!(
            t.elapsed() < std::time::Duration::from_millis(350),
            "{:?}",
            t.elapsed()
        );
        assert!(r[0].is_ok());
        assert_eq!(
            r[1].as_ref().err().map(|e| e.kind),
            Some(ErrorKind::Transport)
        );
        for x in &r[2..] {
            let e = x
                .as_ref()
                .err()
                .map(|e| e.message.clone())
                .unwrap_or_default();
            assert!(e.contains("not sent") && e.contains("bad"), "{e}");
        }
        assert!(fan_out(&Slow, &[], &FanOut::default()).is_empty());
    }

    #[test]
    fn secret_env_vars_names_every_env_reference_once() {
        let text = r#"driver = "ldoms"
[defaults]
transport = "ssh"
password = "env:HS_PW"
[[host]]
name = "cd1"
role = "control-domain"
box = "b1"
ppar_id = 0
xscf = ["a", "b"]
become = "sudo"
become_password = "env:HS_SUDO"
key_passphrase = "file:/nonexistent/pass"
[[host]]
name = "g1"
role = "guest-domain"
key_passphrase = "env:HS_KEY"
[[host]]
name = "g2"
role = "guest-domain"
transport = "local"
"#;
        let inv = match crate::inventory::parse("i.toml", text) {
            Ok(i) => i,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(secret_env_vars(&inv), ["HS_PW", "HS_SUDO", "HS_KEY"]);
        let plain = match crate::inventory::parse("i.toml", INV) {
            Ok(i) => i,
            Err(e) => panic!("{e}"),
        };
        assert!(secret_env_vars(&plain).is_empty());
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
