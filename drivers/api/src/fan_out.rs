//! Run one command per host at once: the fan-out every `Exec` can be driven by (the
//! script global `run_all`, the router, the SSH benchmarks). Threads only, no I/O of its
//! own: the commands' I/O is the transport's.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::{Command, Error, ErrorKind, Exec, Output};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
