//! Hostile input (issue 5, item 8): a property test throwing thousands of generated values
//! (`;`, `$()`, backticks, quotes, newline, tab, leading `-`, spaces, non-ASCII, empty, very
//! long, `..`, `/`) at every parameter of every shipped procedure and at the main object
//! methods through a script, asserting that only the intended argv reaches the transport.
//!
//! Every generated value carries the marker `zq`. The property, for every command that
//! reached the transport (a recording `Exec` between the site and the simulator): every
//! piece of an argv word that holds the marker — the word split at `/ = : , @`, and a
//! `sh -c` text first split into its shell words — is a valid name
//! (`[A-Za-z0-9][A-Za-z0-9._-]{0,63}`). A value that is not a valid name is refused: the run
//! ends with exit 2 (usage) and no change command was sent. Thousands of runs go through
//! the engine in process (`build_engine` + `RunEnv` over the simulator); a sample of them
//! goes through the binary (`--output json`: the `command_start`/`command_end` events are
//! what was sent).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use hascript::engine::{self, RunEnv};
use hascript::site::{self, SiteOptions, SiteSpec};
use hascript_api::names::validate_name;
use hascript_api::{CancelToken, Command, Effect, Error, Exec, Output, Program, Ui};
use hascript_testkit::Recorder;

const MARK: &str = "zq";

/// A small deterministic generator (xorshift64*).
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }

    /// A valid name holding the marker.
    fn valid(&mut self) -> String {
        const C: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
        let n = self.below(40);
        let mut s = String::from(MARK);
        for _ in 0..n {
            s.push(C[self.below(C.len())] as char);
        }
        s
    }

    /// A value that is not a valid name, holding the marker.
    fn hostile(&mut self) -> String {
        const BAD: &[&str] = &[
            ";", "$(", ")", "`", "'", "\"", "\n", "\t", " ", "|", "&", "&&", ">", "<", "*", "?",
            "\\", "..", "/", "../", "é", "漢字", "ß", "\u{202e}", "#", "!", "{", "}", "[", "]",
            "~", "%", "^", "+", "=", ",", ":", "@", "\r", "$HOME", "${IFS}",
        ];
        const TAIL: &[&str] = &[
            "reboot",
            "id",
            "rm -rf /",
            "cat /etc/shadow",
            "x",
            "",
            "--help",
            "-n",
            "1",
        ];
        match self.below(12) {
            0 => format!("-{MARK}{}", self.pick(&["", "rf", "-force", "n"])),
            1 => format!("{MARK}{}", "a".repeat(63 + self.below(2000))),
            2 => format!(
                "{}{MARK}",
                self.pick(&["..", "../", "/", "./", " ", "-", "."])
            ),
            3 => format!("{MARK} {}", self.pick(TAIL)),
            _ => {
                let mut s = String::new();
                let at = self.below(3);
                if at == 0 {
                    s.push_str(MARK);
                }
                s.push_str(self.pick(BAD));
                if at == 1 {
                    s.push_str(MARK);
                }
                for _ in 0..self.below(3) {
                    s.push_str(self.pick(BAD));
                    s.push_str(self.pick(TAIL));
                }
                if at == 2 {
                    s.push_str(MARK);
                }
                if validate_name("x", &s).is_ok() {
                    s.push(';');
                }
                s
            }
        }
    }
}

/// Shell words of `text` (blanks, single and double quotes, backslash), enough for the
/// lines drivers build.
fn shell_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut any = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                any = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    cur.push(q);
                }
            }
            '"' => {
                any = true;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => cur.extend(chars.next()),
                        _ => cur.push(q),
                    }
                }
            }
            '\\' => {
                any = true;
                cur.extend(chars.next());
            }
            c if c.is_whitespace() || c == ';' || c == '&' || c == '|' => {
                if any {
                    words.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                any = true;
                cur.push(c);
            }
        }
    }
    if any {
        words.push(cur);
    }
    words
}

/// The pieces of one argv word that hold the marker and are not valid names.
fn bad_pieces(word: &str) -> Vec<String> {
    word.split(['/', '=', ':', ',', '@'])
        .filter(|p| p.contains(MARK))
        .filter(|p| validate_name("x", p.trim_start_matches('.')).is_err() || p.starts_with('-'))
        .map(str::to_string)
        .collect()
}

/// Violations of the property in `cmds`: marker-bearing pieces that are not valid names.
fn violations(cmds: &[Command]) -> Vec<String> {
    violations_but(cmds, None)
}

/// [`violations`], where an argv word holding the whole of `whole` is one quoted argument
/// carrying a value that is free text by design (an application monitor's command line).
fn violations_but(cmds: &[Command], whole: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    for c in cmds {
        let words: Vec<String> = match &c.program {
            Program::Argv(a) => {
                let mut w = Vec::new();
                for (i, x) in a.iter().enumerate() {
                    if whole.is_some_and(|v| !v.is_empty() && x.contains(v)) {
                        continue;
                    }
                    let is_sh_text = i == 2
                        && a.first().is_some_and(|p| p == "sh" || p.ends_with("/sh"))
                        && a.get(1).is_some_and(|f| f == "-c");
                    if is_sh_text {
                        w.extend(shell_words(x));
                    } else {
                        w.push(x.clone());
                    }
                }
                w
            }
            Program::Shell(t) => shell_words(t),
        };
        for w in words {
            for p in bad_pieces(&w) {
                out.push(format!("{}: {:?} in {:?}", c.host, p, c.display()));
            }
        }
    }
    out
}

/// The transport of the in-process runs: records every command, then hands it on.
struct Recording {
    inner: Arc<dyn Exec>,
    sent: Arc<Mutex<Vec<Command>>>,
}

impl Exec for Recording {
    fn exec(&self, cmd: &Command) -> Result<Output, Error> {
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(cmd.clone());
        self.inner.exec(cmd)
    }
}

/// One simulated site with its engine, reused while runs change nothing.
struct Harness {
    scenario: Option<String>,
    default_driver: String,
    sent: Arc<Mutex<Vec<Command>>>,
    env: RunEnv,
    engine: rhai::Engine,
    runs: usize,
}

impl Harness {
    fn new(scenario: Option<&str>, default_driver: &str) -> Harness {
        let sent = Arc::new(Mutex::new(Vec::new()));
        let env = Self::build(scenario, default_driver, &sent);
        let engine = engine::build_engine(&env);
        Harness {
            scenario: scenario.map(str::to_string),
            default_driver: default_driver.into(),
            sent,
            env,
            engine,
            runs: 0,
        }
    }

    fn build(
        scenario: Option<&str>,
        default_driver: &str,
        sent: &Arc<Mutex<Vec<Command>>>,
    ) -> RunEnv {
        let ui: Arc<dyn Ui> = Arc::new(Recorder::new(Some(false)));
        let spec = SiteSpec::Sim {
            scenario: scenario.map(str::to_string),
            default_driver: default_driver.into(),
            state: None,
        };
        let rec = sent.clone();
        let built = site::build_wrapped(
            &spec,
            &SiteOptions::default(),
            ui,
            CancelToken::new(),
            move |router, ui, _clock| {
                let exec: Arc<dyn Exec> = Arc::new(Recording {
                    inner: router,
                    sent: rec,
                });
                (exec, ui)
            },
        )
        .unwrap_or_else(|e| panic!("site {scenario:?}: {e}"));
        let mut env = RunEnv::new(built.site.clone(), built.ctx.clone(), BTreeMap::new());
        env.secrets = [
            ("storepass_client", "pw-client"),
            ("storepass_server", "pw-server"),
            ("storepass_public", "pw-public"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        env
    }

    /// Run `text` with `params`: (exit, commands sent).
    fn run(
        &mut self,
        name: &str,
        text: &str,
        params: &BTreeMap<String, String>,
    ) -> (i32, Vec<Command>) {
        let (exit, sent, _) = self.run_report(name, text, params);
        (exit, sent)
    }

    /// [`Harness::run`] with the error report.
    fn run_report(
        &mut self,
        name: &str,
        text: &str,
        params: &BTreeMap<String, String>,
    ) -> (i32, Vec<Command>, String) {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).clear();
        let mut env = self.env.clone();
        env.params = params.clone();
        let out = engine::execute(&self.engine, &env, name, text);
        self.runs += 1;
        let sent = std::mem::take(&mut *self.sent.lock().unwrap_or_else(|p| p.into_inner()));
        // A run that changed the site gets a fresh one for the next (exit codes depend on
        // whether the site was changed).
        if self.env.ctx.changed() || sent.iter().any(|c| c.effect == Effect::Change) {
            self.env = Self::build(self.scenario.as_deref(), &self.default_driver, &self.sent);
            self.engine = engine::build_engine(&self.env);
        }
        (out.exit, sent, out.report.unwrap_or_default())
    }
}

/// How a parameter is checked.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// A name: an invalid value is refused (exit 2, no change).
    Name,
    /// A comma-separated list of names.
    List,
    /// One of a few words (or a number): anything generated is refused.
    Word,
    /// An application-monitor spec `name:path:…`: only the property is asserted.
    Spec,
    /// A word the command line checks before the engine runs (in process: only the
    /// property; through the binary: refused).
    CliWord,
    /// An absolute path (a file on a host): anything else is refused; a path arrives as one
    /// argv word.
    Path,
}

struct Param {
    script: &'static str,
    scenario: Option<&'static str>,
    base: &'static [(&'static str, &'static str)],
    name: &'static str,
    kind: Kind,
}

const fn p(
    script: &'static str,
    scenario: Option<&'static str>,
    base: &'static [(&'static str, &'static str)],
    name: &'static str,
    kind: Kind,
) -> Param {
    Param {
        script,
        scenario,
        base,
        name,
        kind,
    }
}

const MIG: &[(&str, &str)] = &[("guest", "guest2"), ("target", "cd3")];
const PKG: &[(&str, &str)] = &[("package", "slvm1")];
const HPVM: Option<&str> = Some("hpvm");
const MON: &str = "ping_mon:/apps/ping_mon:240:2:300";
/// The cmappmgr/cmappserver upgrade's scenario (A.11.19, slvm1 with two monitors).
const UPG: Option<&str> = Some("hpvm/appmon-upgrade");

/// Every parameter of every shipped procedure (`//! params:`), with valid values for the
/// others.
const PARAMS: &[Param] = &[
    p("ldoms/live-migration", None, MIG, "guest", Kind::Name),
    p("ldoms/live-migration", None, MIG, "target", Kind::Name),
    p(
        "ldoms/live-migration",
        None,
        MIG,
        "password_file",
        Kind::Path,
    ),
    p(
        "ldoms/live-migration",
        None,
        MIG,
        "down_deadline",
        Kind::Word,
    ),
    p("ldoms/live-migration", None, MIG, "up_deadline", Kind::Word),
    p("ldoms/pre-migration", None, MIG, "guest", Kind::Name),
    p("ldoms/pre-migration", None, MIG, "target", Kind::Name),
    p(
        "ldoms/post-migration",
        None,
        &[("guest", "guest2")],
        "guest",
        Kind::Name,
    ),
    p(
        "ldoms/post-migration",
        None,
        &[("guest", "guest2")],
        "target",
        Kind::Name,
    ),
    p(
        "ldoms/recover-migration",
        None,
        &[("guest", "guest2")],
        "guest",
        Kind::Name,
    ),
    p("ldoms/live-migration", None, MIG, "sf_settle", Kind::Word),
    p(
        "ldoms/live-migration",
        None,
        MIG,
        "migration_deadline",
        Kind::Word,
    ),
    p(
        "ldoms/post-migration",
        None,
        &[("guest", "guest2")],
        "sf_settle",
        Kind::Word,
    ),
    p(
        "ldoms/recover-migration",
        None,
        &[("guest", "guest2")],
        "down_deadline",
        Kind::Word,
    ),
    p(
        "ldoms/recover-migration",
        None,
        &[("guest", "guest2")],
        "up_deadline",
        Kind::Word,
    ),
    p(
        "ldoms/recover-migration",
        None,
        &[("guest", "guest2")],
        "sf_settle",
        Kind::Word,
    ),
    p(
        "ldoms/recover-migration",
        None,
        &[("guest", "guest2")],
        "migration_deadline",
        Kind::Word,
    ),
    p("ldoms/verify-fence", None, &[], "guest", Kind::Name),
    p(
        "examples/evacuate-host",
        None,
        &[("host", "cd2")],
        "host",
        Kind::Name,
    ),
    p(
        "examples/evacuate-host",
        None,
        &[("host", "cd2")],
        "targets",
        Kind::List,
    ),
    p(
        "examples/evacuate-host",
        HPVM,
        &[("host", "node1")],
        "host",
        Kind::Name,
    ),
    p(
        "hpvm/add-app-monitor",
        HPVM,
        &[("package", "slvm1"), ("appmon", MON)],
        "package",
        Kind::Name,
    ),
    p(
        "hpvm/add-app-monitor",
        HPVM,
        &[("package", "slvm1"), ("appmon", MON)],
        "appmon",
        Kind::Spec,
    ),
    p(
        "hpvm/add-app-monitor",
        HPVM,
        &[("package", "slvm1"), ("appmon", MON)],
        "method",
        Kind::Word,
    ),
    p(
        "hpvm/convert-package",
        Some("hpvm/old-toolkit-package"),
        &[("package", "slvm1"), ("mode", "offline")],
        "package",
        Kind::Name,
    ),
    p(
        "hpvm/convert-package",
        Some("hpvm/old-toolkit-package"),
        &[("package", "slvm1"), ("mode", "offline")],
        "mode",
        Kind::Word,
    ),
    p(
        "hpvm/convert-package",
        Some("hpvm/old-toolkit-package"),
        &[
            ("package", "slvm1"),
            ("mode", "online"),
            ("target", "node2"),
        ],
        "target",
        Kind::Name,
    ),
    p(
        "hpvm/convert-package",
        Some("hpvm/old-toolkit-package"),
        &[("package", "slvm1"), ("mode", "offline")],
        "node",
        Kind::List,
    ),
    p("hpvm/deploy-package", HPVM, PKG, "package", Kind::Name),
    p("hpvm/deploy-package", HPVM, PKG, "method", Kind::Word),
    p("hpvm/deploy-package", HPVM, PKG, "node", Kind::List),
    p("hpvm/deploy-package", HPVM, PKG, "appmon", Kind::Spec),
    p("hpvm/deploy-package", HPVM, PKG, "replace", Kind::Word),
    p("hpvm/diagnose", HPVM, PKG, "package", Kind::Name),
    p("hpvm/halt-package", HPVM, PKG, "package", Kind::Name),
    p(
        "hpvm/maintenance",
        HPVM,
        &[("package", "slvm1"), ("state", "on")],
        "package",
        Kind::Name,
    ),
    p(
        "hpvm/maintenance",
        HPVM,
        &[("package", "slvm1"), ("state", "on")],
        "state",
        Kind::Word,
    ),
    p(
        "hpvm/move-package",
        HPVM,
        &[("package", "slvm1"), ("target", "node2")],
        "package",
        Kind::Name,
    ),
    p(
        "hpvm/move-package",
        HPVM,
        &[("package", "slvm1"), ("target", "node2")],
        "target",
        Kind::Name,
    ),
    p(
        "hpvm/move-package",
        HPVM,
        &[("package", "slvm1"), ("target", "node2")],
        "settle_deadline",
        Kind::Word,
    ),
    p("hpvm/recover-move", HPVM, PKG, "package", Kind::Name),
    p(
        "hpvm/recover-move",
        HPVM,
        PKG,
        "settle_deadline",
        Kind::Word,
    ),
    p("hpvm/remove-package", HPVM, PKG, "package", Kind::Name),
    p(
        "hpvm/run-package",
        Some("hpvm/guest-not-running"),
        PKG,
        "package",
        Kind::Name,
    ),
    p(
        "hpvm/run-package",
        Some("hpvm/guest-not-running"),
        PKG,
        "node",
        Kind::Name,
    ),
    p("hpvm/setup-appmon-keys", HPVM, PKG, "package", Kind::Name),
    p(
        "hpvm/setup-appmon-keys",
        HPVM,
        PKG,
        "regenerate",
        Kind::Word,
    ),
    p("hpvm/setup-appmon-keys", HPVM, PKG, "host", Kind::Name),
    p(
        "hpvm/setup-appmon-keys",
        HPVM,
        PKG,
        "use_manual_default_passwords",
        Kind::CliWord,
    ),
    p(
        "hpvm/test-app-monitor",
        Some("hpvm/app-monitor-fails"),
        PKG,
        "package",
        Kind::Name,
    ),
    p(
        "hpvm/test-app-monitor",
        Some("hpvm/app-monitor-fails"),
        PKG,
        "appmon",
        Kind::Name,
    ),
    p(
        "hpvm/test-app-monitor",
        Some("hpvm/app-monitor-fails"),
        PKG,
        "expect",
        Kind::Word,
    ),
    p(
        "hpvm/test-app-monitor",
        Some("hpvm/app-monitor-fails"),
        PKG,
        "timeout",
        Kind::Word,
    ),
    p("hpvm/install-cmappserver", HPVM, PKG, "package", Kind::Name),
    p("hpvm/install-cmappserver", HPVM, PKG, "source", Kind::Path),
    p("hpvm/install-cmappserver", HPVM, PKG, "host", Kind::Name),
    p("hpvm/install-cmappserver", HPVM, PKG, "address", Kind::Name),
    p("hpvm/upgrade-appmon-live", UPG, &[], "release", Kind::Word),
    p(
        "hpvm/upgrade-appmon-live",
        UPG,
        &[],
        "unique_commands",
        Kind::Word,
    ),
    p("hpvm/upgrade-appmon-live", UPG, &[], "nodes", Kind::List),
    p(
        "hpvm/upgrade-appmon-live",
        UPG,
        &[],
        "rebalance",
        Kind::Word,
    ),
    p(
        "hpvm/upgrade-appmon-restart",
        UPG,
        &[],
        "release",
        Kind::Word,
    ),
    p(
        "hpvm/upgrade-appmon-restart",
        UPG,
        &[],
        "unique_commands",
        Kind::Word,
    ),
    p("hpvm/upgrade-appmon-restart", UPG, &[], "nodes", Kind::List),
];

/// Whether `v` is acceptable input for a parameter of `kind` (else it must be refused).
fn acceptable(kind: Kind, v: &str) -> Option<bool> {
    match kind {
        Kind::Name => Some(validate_name("x", v).is_ok()),
        Kind::List => {
            let parts: Vec<&str> = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            // An empty list is no list (the scripts use their defaults).
            Some(parts.iter().all(|s| validate_name("x", s).is_ok()))
        }
        Kind::Word | Kind::CliWord => Some(false),
        Kind::Path => Some(
            v.starts_with('/')
                && v.len() < 1024
                && !v
                    .chars()
                    .any(|c| c.is_control() || c == '\'' || c == '"' || c == '`'),
        ),
        Kind::Spec => None,
    }
}

/// Values for one parameter: a fixed list of classics, then generated ones.
fn values(g: &mut Gen, kind: Kind, n: usize) -> Vec<String> {
    let mut v: Vec<String> = [
        "",
        "zq;reboot",
        "$(zq)",
        "`zq`",
        "zq'",
        "zq\"",
        "zq\nreboot",
        "-zq",
        "--zq",
        "zq x",
        "zqé",
        "..zq",
        "../zq",
        "zq/..",
        "/zq",
        "zq*",
        "zq$IFS",
        " zq",
        "zq ",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push(format!("{MARK}{}", "b".repeat(100_000)));
    while v.len() < n {
        let x = match g.below(4) {
            0 => g.valid(),
            _ => g.hostile(),
        };
        v.push(match kind {
            Kind::List if g.below(2) == 0 => format!("node1,{x}"),
            Kind::Spec => match g.below(3) {
                0 => format!("{x}:/apps/ping_mon:240:2:300"),
                1 => format!("ping_mon:/apps/{x}:240:2:300"),
                _ => format!("ping_mon:/apps/ping_mon:{x}:2:300"),
            },
            _ => x,
        });
    }
    v
}

fn script_text(name: &str) -> String {
    let search = hascript::scripts::search_path();
    hascript::scripts::find(name, &search)
        .unwrap_or_else(|| panic!("no shipped script {name}"))
        .text
}

/// Per parameter, in process.
const IN_PROCESS: usize = 90;
/// Per parameter, through the binary.
const THROUGH_BINARY: usize = 10;

fn check_run(
    what: &str,
    v: &str,
    kind: Kind,
    exit: i32,
    sent: &[Command],
    failures: &mut Vec<String>,
) {
    // An application-monitor spec's command is free text by design (`/usr/bin/X11/xclock
    // -display 16.213.12.70:0.0`): it must arrive whole, as one argv word.
    let bad = violations_but(sent, (kind == Kind::Spec).then_some(v));
    if !bad.is_empty() {
        failures.push(format!("{what} = {:?}: {bad:?}", clip(v)));
    }
    if kind != Kind::CliWord && acceptable(kind, v) == Some(false) {
        let changes: Vec<String> = sent
            .iter()
            .filter(|c| c.effect == Effect::Change)
            .map(|c| format!("{}: {}", c.host, c.display()))
            .collect();
        if exit != 2 || !changes.is_empty() {
            failures.push(format!(
                "{what} = {:?}: not refused (exit {exit}, changes {changes:?})",
                clip(v)
            ));
        }
    }
}

fn clip(v: &str) -> String {
    hascript_api::names::shorten(v)
}

#[test]
fn generated_names_at_every_parameter_of_every_shipped_procedure() {
    let shipped = hascript::scripts::all_names(&hascript::scripts::search_path());
    // Every parameter of every shipped procedure is covered.
    for name in shipped.iter().filter(|n| !n.starts_with("lib/")) {
        let meta = hascript::scripts::meta(&script_text(name));
        for declared in meta.params.unwrap_or_default() {
            assert!(
                PARAMS
                    .iter()
                    .any(|p| p.script == name && p.name == declared),
                "{name}: parameter {declared} is not covered"
            );
        }
    }
    let mut g = Gen(0x9E37_79B9_7F4A_7C15);
    let mut failures = Vec::new();
    let mut total = 0;
    let mut harnesses: BTreeMap<String, Harness> = BTreeMap::new();
    for prm in PARAMS {
        let text = script_text(prm.script);
        let driver = if prm.script.starts_with("hpvm/")
            || prm.scenario.is_some_and(|s| s.starts_with("hpvm"))
        {
            "hpvm"
        } else {
            "ldoms"
        };
        let key = format!("{:?}", prm.scenario);
        let h = harnesses
            .entry(key)
            .or_insert_with(|| Harness::new(prm.scenario, driver));
        let base: BTreeMap<String, String> = prm
            .base
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        // The control: with valid values the run sends commands (the recording works).
        let (exit, sent, report) = h.run_report(prm.script, &text, &base);
        assert!(
            !sent.is_empty(),
            "{}: nothing recorded (exit {exit}): {report}",
            prm.script
        );
        assert!(violations(&sent).is_empty());
        for v in values(&mut g, prm.kind, IN_PROCESS) {
            let mut params = base.clone();
            params.insert(prm.name.to_string(), v.clone());
            let (exit, sent) = h.run(prm.script, &text, &params);
            check_run(
                &format!("{} {}", prm.script, prm.name),
                &v,
                prm.kind,
                exit,
                &sent,
                &mut failures,
            );
            total += 1;
        }
    }
    assert!(total >= 3000, "{total} runs");
    assert!(
        failures.is_empty(),
        "{} of {total} runs broke the property:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The property catches what it must: a hostile word, a hostile piece of a path, and a
    // hostile word inside an `sh -c` text.
    for (argv, bad) in [
        (vec!["ldm", "stop-domain", "zq;reboot"], true),
        (vec!["cat", "/etc/cmcluster/zq x/slvm1.conf"], true),
        (vec!["sh", "-c", "umask 077 && dd of=/tmp/zq$(id)"], true),
        (
            vec!["sh", "-c", "umask 077 && dd of='/etc/cmcluster/zqA/f'"],
            false,
        ),
        (vec!["ldm", "migrate-domain", "zq-1.a", "cd3"], false),
    ] {
        let c = Command::change("h", &argv);
        assert_eq!(!violations(&[c]).is_empty(), bad, "{argv:?}");
    }
}

#[test]
fn generated_names_at_the_main_object_methods() {
    // Each call with the real value that makes it reach the transport (the control).
    const LDOMS: &[(&str, &str)] = &[
        ("hypervisor.guest(v)", "guest2"),
        ("hypervisor.migrate(v, \"cd3\")", "guest2"),
        ("hypervisor.migrate(\"guest2\", v)", "cd3"),
        ("hypervisor.placement(v)", "guest2"),
        ("cluster.node(v)", "cfguest2"),
        ("host(v).run([\"true\"])", "cd1"),
        ("host(\"cd1\").run([\"echo\", v], #{changes: false})", "x"),
    ];
    const HPVM_CALLS: &[(&str, &str)] = &[
        ("package.status(v)", "slvm1"),
        ("package.halt(v)", "slvm1"),
        ("package.run(v)", "slvm1"),
        ("package.run_on(\"slvm1\", v)", "node2"),
        ("package.remove(v)", "slvm1"),
        ("package.read_config(v)", "slvm1"),
        ("hypervisor.guest(v)", "slvm1"),
        ("hypervisor.migrate(v, \"node2\")", "slvm1"),
        ("hypervisor.migrate(\"slvm1\", v)", "node2"),
    ];
    let mut g = Gen(0xD1B5_4A32_D192_ED03);
    let mut failures = Vec::new();
    let mut total = 0;
    for (scenario, driver, calls) in [(None, "ldoms", LDOMS), (HPVM, "hpvm", HPVM_CALLS)] {
        let mut h = Harness::new(scenario, driver);
        for (call, real) in calls {
            let text = format!("let v = params.v;\n{call};\n");
            // The control: the call exists and, with a real name, reaches the transport.
            let mut params = BTreeMap::new();
            params.insert("v".to_string(), real.to_string());
            let (exit, sent, report) = h.run_report("t.rhai", &text, &params);
            assert!(
                !sent.is_empty() && !report.contains("not found"),
                "{call}: nothing sent with {real} (exit {exit}): {report}"
            );
            // `host("cd1").run(["echo", v])` passes any value as one argv word: the
            // property there is that it arrives whole.
            let whole = call.contains("\"echo\", v");
            for v in values(&mut g, Kind::Name, 60) {
                params.insert("v".to_string(), v.clone());
                let (exit, sent) = h.run("t.rhai", &text, &params);
                total += 1;
                if whole {
                    let echoed: Vec<&Command> = sent
                        .iter()
                        .filter(|c| matches!(&c.program, Program::Argv(a) if a.first().is_some_and(|p| p == "echo")))
                        .collect();
                    let ok = echoed.len() == 1
                        && matches!(&echoed[0].program, Program::Argv(a) if a.len() == 2 && a[1] == v);
                    if !ok || exit != 0 {
                        failures.push(format!(
                            "{call} with {:?}: exit {exit}, {echoed:?}",
                            clip(&v)
                        ));
                    }
                    continue;
                }
                check_run(call, &v, Kind::Name, exit, &sent, &mut failures);
            }
        }
    }
    assert!(total >= 900, "{total} runs");
    assert!(
        failures.is_empty(),
        "{} of {total} runs broke the property:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn a_sample_through_the_binary() {
    let mut g = Gen(0x0123_4567_89AB_CDEF);
    let mut jobs = Vec::new();
    for prm in PARAMS {
        for v in values(&mut g, prm.kind, THROUGH_BINARY + 20)
            .into_iter()
            .skip(1)
        {
            if v.contains('\0') || acceptable(prm.kind, &v) != Some(false) || v.len() > 4096 {
                continue;
            }
            jobs.push((prm, v));
        }
    }
    // THROUGH_BINARY per parameter, spread over the list of values.
    let mut per: BTreeMap<(String, String), usize> = BTreeMap::new();
    jobs.retain(|(p, _)| {
        let n = per
            .entry((p.script.to_string(), p.name.to_string()))
            .or_default();
        *n += 1;
        *n <= THROUGH_BINARY
    });
    let jobs = Arc::new(Mutex::new(jobs));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let done = Arc::new(Mutex::new(0usize));
    std::thread::scope(|s| {
        for _ in 0..2 {
            let (jobs, failures, done) = (jobs.clone(), failures.clone(), done.clone());
            s.spawn(move || loop {
                let Some((prm, v)) = jobs.lock().unwrap_or_else(|p| p.into_inner()).pop() else {
                    break;
                };
                let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_hascript"));
                c.args(["run", prm.script, "--sim"]);
                if let Some(sc) = prm.scenario {
                    c.arg(sc);
                }
                for (k, val) in prm.base {
                    if *k != prm.name {
                        c.args(["-p", &format!("{k}={val}")]);
                    }
                }
                c.args(["-p", &format!("{}={v}", prm.name)])
                    .args(["--output", "json"])
                    .env_remove("HASCRIPT_PATH")
                    .env("XDG_STATE_HOME", env!("CARGO_TARGET_TMPDIR"))
                    .env("HASCRIPT_SECRET_STOREPASS_CLIENT", "pw-client")
                    .env("HASCRIPT_SECRET_STOREPASS_SERVER", "pw-server")
                    .env("HASCRIPT_SECRET_STOREPASS_PUBLIC", "pw-public")
                    .stdin(std::process::Stdio::null());
                let o = c.output().expect("hascript runs");
                let code = o.status.code().unwrap_or(-1);
                let out = String::from_utf8_lossy(&o.stdout);
                let events: Vec<serde_json::Value> =
                    out.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
                let sent: Vec<String> = events
                    .iter()
                    .filter(|e| e["event"] == "command_start" || e["event"] == "command_end")
                    .map(|e| format!("{} {}: {}", e["event"], e["host"], e["command"]))
                    .collect();
                let changes = events.iter().filter(|e| e["event"] == "command_start").count();
                let marked: Vec<&String> = sent.iter().filter(|l| l.contains(MARK)).collect();
                if code != 2 || changes != 0 || !marked.is_empty() {
                    failures.lock().unwrap_or_else(|p| p.into_inner()).push(format!(
                        "{} {} = {:?}: exit {code}, {changes} changes, sent with the value: {marked:?}\n{}",
                        prm.script,
                        prm.name,
                        clip(&v),
                        String::from_utf8_lossy(&o.stderr)
                    ));
                }
                *done.lock().unwrap_or_else(|p| p.into_inner()) += 1;
            });
        }
    });
    let n = *done.lock().unwrap_or_else(|p| p.into_inner());
    assert!(n >= PARAMS.len() * THROUGH_BINARY / 2, "{n} runs");
    let f = failures.lock().unwrap_or_else(|p| p.into_inner());
    assert!(f.is_empty(), "{} of {n} runs:\n{}", f.len(), f.join("\n"));
}
