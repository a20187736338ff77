//! [`SimSite`]: a simulated site with its transport ([`hascript_api::Exec`]) and its
//! virtual clock ([`hascript_api::Clock`]).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hascript_api::{CancelToken, Clock, Command, Error, ErrorKind, Exec, Output};

use crate::error::SimError;
use crate::posix::Stdin;
use crate::state::{LineResult, LoggedCommand, SiteState};
use crate::store::{Folder, Store};

struct Inner {
    store: Store,
    driver: &'static str,
    scenario: String,
    hosts: Vec<String>,
    inventory: String,
    /// Last virtual time read, for `Clock::now` when the state folder cannot be read.
    last_now_ms: AtomicU64,
}

/// A simulated site: hosts that answer the exact command lines hascript sends, on a
/// virtual clock. Cheap to clone (all clones share one site); `Send + Sync`.
///
/// In memory ([`SimSite::new`]) the state lives in this process. In a folder
/// ([`SimSite::open_or_create`], [`SimSite::open`]) it lives in `site.json` (the command
/// log beside it, in `commands.log`), so several processes can share one site: every
/// command or clock step takes the folder's file lock, reuses the state this process
/// holds unless another process changed it since (a generation number under the lock
/// says), and writes `site.json` once if it changed anything.
#[derive(Clone)]
pub struct SimSite {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SimSite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimSite")
            .field("scenario", &self.inner.scenario)
            .field("state_dir", &self.state_dir())
            .finish()
    }
}

fn driver_name(state: &SiteState) -> &'static str {
    state.model.driver()
}

impl SimSite {
    fn from_parts(store: Store, state: &SiteState) -> SimSite {
        SimSite {
            inner: Arc::new(Inner {
                store,
                driver: driver_name(state),
                scenario: state.scenario.clone(),
                hosts: state.hosts(),
                inventory: state.inventory_toml(),
                last_now_ms: AtomicU64::new(state.world.now_ms),
            }),
        }
    }

    /// An in-memory site: `None` or `Some("ldoms")` is the LDoms default site, `Some("hpvm")`
    /// the Serviceguard one, `Some("ldoms/<scenario>")` / `Some("hpvm/<scenario>")` one of
    /// [`crate::scenarios`].
    pub fn new(scenario: Option<&str>) -> Result<SimSite, SimError> {
        let state = SiteState::create(scenario)?;
        let site = SimSite::from_parts(Store::Memory(Mutex::new(state.clone())), &state);
        Ok(site)
    }

    /// A folder-backed site. When `dir` is missing or empty it is created from the scenario
    /// (or the default site); when it already holds a site, that site is used as it is, and
    /// `scenario` must then be `None` ([`SimError::ScenarioWithExistingState`]).
    pub fn open_or_create(dir: &Path, scenario: Option<&str>) -> Result<SimSite, SimError> {
        // Check the name first, so a typo never leaves an empty folder behind.
        crate::scenario::select(scenario)?;
        let (folder, state) =
            Folder::open_or_create(dir, scenario.is_some(), || SiteState::create(scenario))?;
        Ok(SimSite::from_parts(Store::Folder(folder), &state))
    }

    /// Open a folder that must already hold a site ([`SimError::NoState`] otherwise).
    pub fn open(dir: &Path) -> Result<SimSite, SimError> {
        let (folder, state) = Folder::open(dir)?;
        Ok(SimSite::from_parts(Store::Folder(folder), &state))
    }

    /// A copy of this site as it is now, in memory, detached from it: what `hascript run
    /// --dry-run` runs a procedure against. Commands and clock steps on the copy never reach
    /// this site (a state folder is only read, never written); the copy's command log starts
    /// empty, so it holds exactly what the dry run sent to the copy.
    pub fn detached_copy(&self) -> Result<SimSite, SimError> {
        let mut state = self.inner.store.read(|st| st.clone())?;
        state.log.clear();
        state.logged = 0;
        Ok(SimSite::from_parts(
            Store::Memory(Mutex::new(state.clone())),
            &state,
        ))
    }

    /// A simulated copy of a **real** `driver` site (`ldoms`, `hpvm`) seeded from what the
    /// inventory `declared` and what its read-only commands returned (`observations`), its
    /// clock at `now` (since the Unix epoch): what `hascript run -i … --dry-run` runs the
    /// rest of a procedure against after the first change. What neither tells is not
    /// guessed: a command that depends on it is answered [`CopyAnswer::Unknown`] by
    /// [`SimSite::answer`]. [`SimError::CannotSeed`] when the reads do not describe the
    /// site well enough for any copy (see [`crate::classify_observations`]).
    pub fn seeded(
        driver: &str,
        declared: &crate::Declared,
        observations: &[crate::Observation],
        now: Duration,
    ) -> Result<SimSite, SimError> {
        let now_ms = u64::try_from(now.as_millis()).unwrap_or(u64::MAX);
        let state = crate::state::seed(driver, declared, observations, now_ms)?;
        Ok(SimSite::from_parts(
            Store::Memory(Mutex::new(state.clone())),
            &state,
        ))
    }

    /// Whether this site is a copy seeded from a real site's reads ([`SimSite::seeded`]).
    pub fn is_seeded(&self) -> bool {
        self.inner
            .store
            .read(|st| st.seed.is_some())
            .unwrap_or(false)
    }

    /// Run `cmd` like [`SimSite::exec`] does, telling apart what a seeded copy cannot
    /// answer ([`CopyAnswer::Unknown`]) from its answers.
    pub fn answer(&self, cmd: &Command) -> CopyAnswer {
        match self.run_cmd(cmd) {
            Ok(LineResult::Unknown(why)) => CopyAnswer::Unknown(why),
            Ok(r) => CopyAnswer::Answer(self.to_result(cmd, r)),
            Err(e) => CopyAnswer::Answer(Err(e)),
        }
    }

    fn run_cmd(&self, cmd: &Command) -> Result<LineResult, Error> {
        let line = cmd.line();
        self.inner
            .store
            .write(|st| st.run_line(&cmd.host, &line, Stdin::bytes(cmd.stdin.clone())))
            .map_err(|e| {
                self.state_error(e)
                    .on_host(&cmd.host)
                    .with_command(cmd.display())
            })
    }

    fn to_result(&self, cmd: &Command, r: LineResult) -> Result<Output, Error> {
        match r {
            LineResult::Ran(o) => Ok(o),
            LineResult::UnknownHost => Err(Error::new(
                ErrorKind::Transport,
                format!(
                    "no simulated host named {}; hosts: {}",
                    cmd.host,
                    self.inner.hosts.join(", ")
                ),
            )
            .on_host(&cmd.host)
            .with_command(cmd.display())),
            LineResult::Unreachable(o) => Err(Error::new(
                ErrorKind::Transport,
                format!("cannot connect to {}: {}", cmd.host, o.stderr.trim()),
            )
            .on_host(&cmd.host)
            .with_command(cmd.display())
            .with_exit(255)
            .with_stderr(o.stderr)),
            LineResult::Unknown(why) => Err(Error::new(
                ErrorKind::Unsupported,
                format!("the simulated copy cannot tell what this does: {why}"),
            )
            .on_host(&cmd.host)
            .with_command(cmd.display())),
        }
    }

    /// The virtual clock. Sleeping on it advances the site: nodes go DOWN, the shutdown
    /// facility settles, background migrations end.
    pub fn clock(&self) -> Arc<dyn Clock> {
        Arc::new(SimClock { site: self.clone() })
    }

    /// The transport: runs a [`Command`] on the simulated host named `cmd.host`.
    pub fn exec(&self) -> Arc<dyn Exec> {
        Arc::new(SimExec { site: self.clone() })
    }

    /// Run one raw command line on `host`, as `hascript sim exec` and an OpenSSH
    /// `ForceCommand` do. An unknown host answers like ssh: exit 255,
    /// `ssh: Could not resolve hostname …`; a stopped guest: exit 255, connection refused.
    pub fn exec_line(&self, host: &str, line: &str) -> Output {
        self.exec_line_with_stdin(host, line, None)
    }

    /// [`SimSite::exec_line`] with bytes on the line's standard input: the first command
    /// of the line that reads standard input (`dd`, a confirmation prompt) gets them all,
    /// as over `ssh host 'line' < file`.
    pub fn exec_line_with_stdin(&self, host: &str, line: &str, stdin: Option<&[u8]>) -> Output {
        self.exec_line_reading(host, line, Stdin::bytes(stdin.map(<[u8]>::to_vec)))
    }

    /// [`SimSite::exec_line`] with standard input read by `read` only when a command of
    /// the line reads it (`dd`, a confirmation prompt): what `hascript sim exec` does under
    /// sshd's `ForceCommand`, where the client's bytes arrive on its own standard input.
    pub fn exec_line_with_lazy_stdin(
        &self,
        host: &str,
        line: &str,
        read: impl FnOnce() -> Vec<u8> + Send + 'static,
    ) -> Output {
        self.exec_line_reading(host, line, Stdin::lazy(read))
    }

    fn exec_line_reading(&self, host: &str, line: &str, stdin: Stdin) -> Output {
        match self.inner.store.write(|st| st.run_line(host, line, stdin)) {
            Ok(LineResult::Ran(o)) | Ok(LineResult::Unreachable(o)) => o,
            Ok(LineResult::Unknown(why)) => Output::new(
                255,
                "",
                format!("hascript-sim: the simulated copy cannot tell: {why}\n"),
            ),
            Ok(LineResult::UnknownHost) => Output::new(
                255,
                "",
                format!("ssh: Could not resolve hostname {host}: Name or service not known\n"),
            ),
            Err(e) => Output::new(255, "", format!("hascript-sim: {e}\n")),
        }
    }

    /// An inventory (TOML) describing this site as a user would write it, with
    /// `transport = "sim"`.
    pub fn inventory_toml(&self) -> String {
        self.inner.inventory.clone()
    }

    /// The driver the site is for: `"ldoms"` or `"hpvm"`.
    pub fn driver(&self) -> &'static str {
        self.inner.driver
    }

    /// What the site was made from: a driver's default site (`"ldoms"`, `"hpvm"`) or a
    /// scenario (`"ldoms/<scenario>"`, `"hpvm/<scenario>"`).
    pub fn scenario(&self) -> String {
        self.inner.scenario.clone()
    }

    /// The simulated hosts' inventory names, sorted.
    pub fn hosts(&self) -> Vec<String> {
        self.inner.hosts.clone()
    }

    /// Every command the hosts received so far, in order, numbered from 1
    /// ([`LoggedCommand::seq`]). A state folder keeps the newest one to two megabytes of
    /// it (its oldest megabyte is dropped at a time), so compare numbers, not positions,
    /// to find what came after a point.
    /// Empty when the state folder cannot be read.
    pub fn command_log(&self) -> Vec<LoggedCommand> {
        self.inner.store.command_log().unwrap_or_default()
    }

    /// How many times the state folder's `site.json` was written (its generation number,
    /// bumped once by every command or clock step that changed the site, never by one that
    /// only read it); `None` in memory or when the folder cannot be read.
    pub fn state_generation(&self) -> Option<u64> {
        match &self.inner.store {
            Store::Memory(_) => None,
            Store::Folder(f) => f.generation().ok(),
        }
    }

    /// The state folder, if the site lives in one.
    pub fn state_dir(&self) -> Option<PathBuf> {
        match &self.inner.store {
            Store::Memory(_) => None,
            Store::Folder(f) => Some(f.dir().to_path_buf()),
        }
    }

    fn state_error(&self, e: SimError) -> Error {
        Error::new(ErrorKind::Transport, format!("simulated site: {e}"))
    }
}

/// How a simulated site answered a command ([`SimSite::answer`]).
#[derive(Debug)]
pub enum CopyAnswer {
    /// Its answer, as the transport gives it.
    Answer(Result<Output, Error>),
    /// A seeded copy cannot tell what it would answer: why.
    Unknown(String),
}

/// The simulator's transport.
struct SimExec {
    site: SimSite,
}

impl Exec for SimExec {
    fn exec(&self, cmd: &Command) -> Result<Output, Error> {
        let r = self.site.run_cmd(cmd)?;
        self.site.to_result(cmd, r)
    }
}

/// The simulator's virtual clock.
struct SimClock {
    site: SimSite,
}

impl Clock for SimClock {
    fn now(&self) -> Duration {
        let inner = &self.site.inner;
        let ms = match inner.store.read(|st| st.world.now_ms) {
            Ok(ms) => {
                inner.last_now_ms.store(ms, Ordering::SeqCst);
                ms
            }
            Err(_) => inner.last_now_ms.load(Ordering::SeqCst),
        };
        Duration::from_millis(ms)
    }

    fn sleep(&self, d: Duration, cancel: &CancelToken) -> Result<(), Error> {
        cancel.check()?;
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let now = self
            .site
            .inner
            .store
            .write(|st| {
                st.advance(ms);
                st.world.now_ms
            })
            .map_err(|e| self.site.state_error(e))?;
        self.site.inner.last_now_ms.store(now, Ordering::SeqCst);
        // Give other threads (and a Ctrl-C) a chance between virtual sleeps.
        std::thread::yield_now();
        cancel.check()
    }
}
