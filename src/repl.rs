//! The REPL: explore a site interactively. linefeed on a terminal (Tab completion, history
//! under the XDG state folder, Ctrl-C), plain lines otherwise (pipes, CI), with the same
//! values either way. Variables and functions persist across inputs, also across failed
//! ones; `:save` writes the accepted inputs as a script.

pub mod complete;
pub mod render;

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hascript_api::ui::WaitProgress;
use hascript_api::{CancelToken, Command, Effect, Error as ApiError, ErrorKind, Exec, Output, Ui};
use rhai::{Dynamic, Engine, ParseErrorType, Scope, AST};

use crate::docs::{Api, Form};
use crate::engine::{self, Interrupt, RunEnv, GLOBALS};
use crate::inventory::quoted;
use crate::journal::{self, Redactor};
use crate::output::ConsoleUi;
use crate::run::{self, EXIT_USAGE};
use crate::scripts;
use crate::site::{self, site_spec, BuiltSite, SiteChoice, SiteOptions, SiteSpec};

use complete::{Known, NameKind, Shape, SiteNames};

/// What a line source gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// A line (without its newline).
    Line(String),
    /// Ctrl-C at the prompt: drop the input being typed.
    Interrupted,
    /// The end of input (Ctrl-D).
    Eof,
}

/// Where input lines come from.
pub trait LineSource {
    /// The next line, shown after `prompt`.
    fn read_line(&mut self, prompt: &str) -> Read;
    /// Remember an accepted input line (history); nothing by default.
    fn remember(&mut self, _line: &str) {}
}

/// Plain lines from standard input; the prompt is printed to standard output.
pub struct PlainLines<R: BufRead> {
    input: R,
}

impl<R: BufRead> PlainLines<R> {
    /// Lines from `input`.
    pub fn new(input: R) -> Self {
        PlainLines { input }
    }
}

impl<R: BufRead> LineSource for PlainLines<R> {
    fn read_line(&mut self, prompt: &str) -> Read {
        print!("{prompt}");
        let _ = std::io::stdout().flush();
        let mut line = String::new();
        match self.input.read_line(&mut line) {
            Ok(0) | Err(_) => {
                println!();
                Read::Eof
            }
            Ok(_) => {
                // Echo-less pipe: end the prompt's line so output stays readable.
                println!();
                Read::Line(line.trim_end_matches(['\n', '\r']).to_string())
            }
        }
    }
}

/// Where the history is kept: `$XDG_STATE_HOME/hascript/history`, else
/// `~/.local/state/hascript/history`; `None` without either variable.
pub fn history_path() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        Some(d) if Path::new(&d).is_absolute() => PathBuf::from(d),
        _ => PathBuf::from(std::env::var_os("HOME").filter(|v| !v.is_empty())?)
            .join(".local")
            .join("state"),
    };
    Some(base.join("hascript").join("history"))
}

/// How many lines the history keeps.
pub const HISTORY_SIZE: usize = 1000;

/// linefeed on a terminal.
struct TermLines {
    iface: linefeed::Interface<linefeed::DefaultTerminal>,
    history: Option<PathBuf>,
    /// What the history file holds: the accepted lines with secrets hidden ([`history_entry`]),
    /// at most [`HISTORY_SIZE`]. The line editor's own copy keeps the lines as typed, for
    /// this session's arrow keys only.
    saved: Vec<String>,
    redactor: Arc<Redactor>,
}

/// A line as the history file keeps it: a `:run`'s secret-named parameters
/// (`password=…`, see [`journal::secret_param_name`]) as `*****`, and every secret the
/// session knows (the inventory's, `HASCRIPT_SECRET_*`, what earlier `:run`s were given)
/// replaced by `*****`, as the journal keeps them.
pub fn history_entry(line: &str, redactor: &Redactor) -> String {
    let t = line.trim_start();
    let line = if t.starts_with(":run") && t[4..].starts_with(char::is_whitespace) {
        let lead = &line[..line.len() - t.len()];
        let words: Vec<String> = t
            .split_whitespace()
            .map(|w| match w.split_once('=') {
                Some((k, _)) if journal::secret_param_name(k.trim_start_matches('-')) => {
                    format!("{k}=*****")
                }
                _ => w.to_string(),
            })
            .collect();
        format!("{lead}{}", words.join(" "))
    } else {
        line.to_string()
    };
    redactor.redact(&line)
}

/// Write the history file: created 0600 (as the journals; its folder 0700 when created),
/// written whole to a new file and renamed over the old one, so a reader never sees half
/// of it, an older file readable by others is replaced, and a link in its place is
/// replaced rather than followed.
pub fn write_history(path: &Path, lines: &[String]) -> std::io::Result<()> {
    use std::fs::{DirBuilder, OpenOptions};
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(dir) = path.parent() {
        DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.tmp", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let _ = std::fs::remove_file(&tmp);
    let write = || -> std::io::Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        let mut text = String::new();
        for l in lines {
            text.push_str(l);
            text.push('\n');
        }
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    let r = write();
    if r.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    r
}

impl LineSource for TermLines {
    fn read_line(&mut self, prompt: &str) -> Read {
        if self.iface.set_prompt(prompt).is_err() {
            return Read::Eof;
        }
        match self.iface.read_line() {
            Ok(linefeed::ReadResult::Input(l)) => Read::Line(l),
            Ok(linefeed::ReadResult::Signal(_)) => {
                // Without this linefeed resumes the same line at the next `read_line`, and
                // the next input would be evaluated glued to the discarded text. Show `^C`
                // at its end, as shells do, so the screen says it was dropped.
                let end = self.iface.buffer().len();
                let _ = self.iface.set_cursor(end);
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(b"^C");
                let _ = out.flush();
                drop(out);
                let _ = self.iface.cancel_read_line();
                Read::Interrupted
            }
            Ok(linefeed::ReadResult::Eof) | Err(_) => Read::Eof,
        }
    }

    fn remember(&mut self, line: &str) {
        if line.trim().is_empty() {
            return;
        }
        self.iface.add_history_unique(line.to_string());
        let entry = history_entry(line, &self.redactor);
        if self.saved.last() != Some(&entry) {
            self.saved.push(entry);
        }
        if self.saved.len() > HISTORY_SIZE {
            let extra = self.saved.len() - HISTORY_SIZE;
            self.saved.drain(..extra);
        }
        if let Some(p) = &self.history {
            if let Err(e) = write_history(p, &self.saved) {
                eprintln!("warning: cannot save the history to {}: {e}", p.display());
                self.history = None;
            }
        }
    }
}

fn line_source(known: Arc<Mutex<Known>>, redactor: Arc<Redactor>) -> Box<dyn LineSource> {
    let term_ok = std::env::var("TERM").is_ok_and(|t| !t.is_empty() && t != "dumb");
    if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() && term_ok {
        if let Ok(iface) = linefeed::Interface::new("hascript") {
            iface.set_report_signal(linefeed::Signal::Interrupt, true);
            iface.set_history_size(HISTORY_SIZE);
            let history = history_path();
            let mut saved = Vec::new();
            if let Some(p) = &history {
                if p.exists() {
                    match crate::files::read_regular_text(p, crate::files::MAX_TEXT_FILE) {
                        // A history written before secrets were hidden loses the ones this
                        // session knows at its next save.
                        Ok(text) => {
                            for l in text.lines().filter(|l| !l.trim().is_empty()) {
                                iface.add_history_unique(l.to_string());
                                saved.push(history_entry(l, &redactor));
                            }
                            let extra = saved.len().saturating_sub(HISTORY_SIZE);
                            saved.drain(..extra);
                        }
                        Err(e) => {
                            eprintln!("warning: cannot read the history {}: {e}", p.display())
                        }
                    }
                }
            }
            iface.define_function(
                "hascript-complete",
                Arc::new(complete::TabCompleter { known }),
            );
            iface.bind_sequence("\t", linefeed::Command::from_str("hascript-complete"));
            return Box::new(TermLines {
                iface,
                history,
                saved,
                redactor,
            });
        }
    }
    Box::new(PlainLines::new(std::io::stdin().lock()))
}

/// Whether a compile error means "the input is not finished yet".
pub fn incomplete(err: &rhai::ParseError, input: &str) -> bool {
    match err.err_type() {
        ParseErrorType::UnexpectedEOF => true,
        ParseErrorType::BadInput(rhai::LexError::UnterminatedString) => {
            // A backtick string may span lines; a "…" string continues when it is open on
            // the last line (the REPL then joins the lines with an escaped newline).
            let n = input.trim_end_matches('\n').lines().count();
            err.position().line() == Some(n) || open_quote(err, input) == Some('`')
        }
        ParseErrorType::MissingToken(..)
        | ParseErrorType::MissingSymbol(..)
        | ParseErrorType::BadInput(_) => {
            let lines: Vec<&str> = input.trim_end().lines().collect();
            let n = lines.len();
            match (err.position().line(), err.position().position()) {
                (None, _) => true,
                (Some(l), _) if l > n => true,
                (Some(l), Some(c)) if l == n => c > lines.last().map_or(0, |s| s.chars().count()),
                _ => false,
            }
        }
        _ => false,
    }
}

/// The quote character of the string an `UnterminatedString` error points at.
fn open_quote(err: &rhai::ParseError, input: &str) -> Option<char> {
    let line = input.lines().nth(err.position().line()?.checked_sub(1)?)?;
    line.chars().nth(err.position().position()?.checked_sub(1)?)
}

/// When `input` (ending with a newline) stops inside a `"…"` string, carry the newline
/// into the string (`\n` and a line continuation), as a backtick string would.
pub fn continue_string(engine: &Engine, input: &mut String) {
    if let Err(e) = engine.compile(input.as_str()) {
        if matches!(
            e.err_type(),
            ParseErrorType::BadInput(rhai::LexError::UnterminatedString)
        ) && open_quote(&e, input) == Some('"')
            && input.ends_with('\n')
        {
            input.pop();
            input.push_str("\\n\\\n");
        }
    }
}

/// Render a value the way the REPL shows it (tables, aligned maps, plain scalars).
pub fn pretty(engine: &Engine, v: &Dynamic) -> String {
    render::show(engine, v, false).unwrap_or_default()
}

/// Every group's functions with signatures and doc comments (`:help all`).
pub fn help(engine: &Engine) -> String {
    help_all(&Api::of(engine), true)
}

fn help_all(api: &Api, declared: bool) -> String {
    let mut out = Vec::new();
    for g in &api.groups {
        let recv = if declared { &g.declared } else { &g.receiver };
        for f in &g.functions {
            out.push(f.signature(recv));
            if !f.doc.is_empty() {
                out.push(format!("    {}", f.doc.join("\n    ")));
            }
        }
    }
    out.join("\n")
}

/// The commands, for `:help`.
const COMMAND_HELP: &[(&str, &str)] = &[
    (":help [TOPIC]", "this list; TOPIC: an object (fence), a function (fence.verify, wait_until), a type (Host), all"),
    (":json", "show values as JSON from now on (again: as tables); shows the last value again"),
    (":vars", "the session's variables and functions"),
    (":run NAME [--yes] [--dry-run] [key=value …]", "run a shipped procedure (or a script file) on this site as `hascript run` does: journaled, host locks, confirmations; --dry-run prints the plan and changes nothing"),
    (":load FILE", "evaluate a script file into the session (its variables and functions stay)"),
    (":save FILE", "write the accepted inputs as a script for `hascript run`"),
    (":sim [SCENARIO]", "switch to a simulated site (default: the LDoms one); :scenarios lists them"),
    (":inventory FILE", "switch to the real site of an inventory"),
    (":scenarios", "the simulator's sites and scenarios"),
    (":quit", "leave (Ctrl-D too)"),
];

/// The `:help` overview.
pub fn help_overview(api: &Api) -> String {
    let mut out = vec!["Objects (globals):".to_string()];
    let objects: Vec<_> = api
        .groups
        .iter()
        .filter(|g| g.key == g.receiver && g.type_name.is_some())
        .collect();
    for g in &objects {
        out.push(format!(
            "  {:<11} {:<11} {}",
            g.key,
            g.type_name.as_deref().unwrap_or_default(),
            g.names().join(", ")
        ));
    }
    out.push("  params      Map         the parameters (empty in the REPL; :run NAME key=value passes them)".into());
    out.push("  site        Map         #{driver, description, hosts}".into());
    out.push("Values (returned by functions):".into());
    for g in api
        .groups
        .iter()
        .filter(|g| g.type_name.is_some() && g.key != g.receiver)
    {
        let from: Vec<String> = api
            .groups
            .iter()
            .flat_map(|o| {
                o.functions
                    .iter()
                    .filter(|f| f.ret == g.key && f.form != Form::Property)
                    .map(move |f| match f.form {
                        Form::Function => format!("{}()", f.name),
                        _ => format!("{}.{}()", o.receiver, f.name),
                    })
            })
            .collect::<Vec<_>>();
        let mut from_d = from.clone();
        from_d.dedup();
        out.push(format!(
            "  {:<11} from {}: {}",
            g.key,
            from_d.join(", "),
            g.names()
                .iter()
                .map(|n| format!("{}.{n}", g.receiver))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some(f) = api.group("functions") {
        out.push("Functions:".into());
        out.push(format!("  {}", f.names().join(", ")));
    }
    out.push("Commands:".into());
    let w = COMMAND_HELP.iter().map(|(c, _)| c.len()).max().unwrap_or(0);
    for (c, d) in COMMAND_HELP {
        out.push(format!("  {c:w$}  {d}"));
    }
    out.push("Tab completes names, methods after `obj.`, hosts in host(\"…\"), procedures and their parameters after :run.".into());
    out.push("An unfinished input (open bracket or string) continues on the next line; Ctrl-C cancels it, or stops the running call.".into());
    out.join("\n")
}

/// `:help TOPIC`: a group's functions with one-line docs, or one function's whole doc.
pub fn help_topic(api: &Api, topic: &str) -> Result<String, String> {
    let topic = topic.trim();
    if topic == "all" {
        return Ok(help_all(api, false));
    }
    if let Some(c) = COMMAND_HELP
        .iter()
        .find(|(c, _)| c.split_whitespace().next() == Some(topic))
    {
        return Ok(format!("{}\n    {}", c.0, c.1));
    }
    if let Some(g) = api.group(topic) {
        let title = match &g.type_name {
            Some(t) if g.key == g.receiver => format!("{} ({t}):", g.key),
            Some(t) => format!("{t} values ({}):", g.receiver),
            None => "Functions:".to_string(),
        };
        let mut out = vec![title];
        for f in &g.functions {
            out.push(format!("  {}", f.signature(&g.receiver)));
            let s = f.summary();
            if !s.is_empty() {
                out.push(format!("      {s}"));
            }
        }
        let example = g.names().first().map(|n| match g.key.as_str() {
            "functions" => n.to_string(),
            k => format!("{k}.{n}"),
        });
        if let Some(e) = example {
            out.push(format!(":help {e} shows the whole doc comment."));
        }
        return Ok(out.join("\n"));
    }
    // `h.run` / `conf.set`: the receiver word of a value type works too.
    let found = api.lookup(topic).or_else(|| {
        let (r, n) = topic.split_once('.')?;
        let g = api.groups.iter().find(|g| g.receiver == r)?;
        let fs = g.named(n);
        (!fs.is_empty()).then_some((g, fs))
    });
    match found {
        Some((g, fs)) => {
            let mut out: Vec<String> = fs.iter().map(|f| f.signature(&g.receiver)).collect();
            let mut seen: Vec<&Vec<String>> = Vec::new();
            for f in &fs {
                if f.doc.is_empty() || seen.contains(&&f.doc) {
                    continue;
                }
                seen.push(&f.doc);
                out.push(String::new());
                if fs.len() > 1 {
                    out.push(format!("{}:", f.signature(&g.receiver)));
                }
                out.extend(f.doc.iter().map(|l| format!("  {l}")));
            }
            Ok(out.join("\n"))
        }
        None => {
            let mut names: Vec<String> = Vec::new();
            for g in &api.groups {
                names.push(g.key.clone());
                for n in g.names() {
                    names.push(match g.key.as_str() {
                        "functions" => n.to_string(),
                        k => format!("{k}.{n}"),
                    });
                }
            }
            let close = scripts::close_names(topic, &names);
            let hint = if close.is_empty() {
                "; :help lists the objects".to_string()
            } else {
                format!("; did you mean: {}?", close.join(", "))
            };
            Err(format!("error: no help for {}{hint}", quoted(topic)))
        }
    }
}

/// The REPL's UI: the console, asking confirmations on a terminal (`:run` runs with a UI
/// of its own, as `hascript run` does, so `:run --yes` answers them there). Everything it
/// shows — values, tables, JSON, errors, `print`, the drivers' steps and warnings — goes
/// through the session's [`Redactor`] first, which holds every secret value the session
/// knows (see [`Session::redactor`]).
pub struct ReplUi {
    ask: ConsoleUi,
    redactor: Arc<Redactor>,
    /// Set while Tab completion reads names from the site: nothing is shown (the prompt
    /// is on the screen), and no command that changes anything may be sent.
    completing: Arc<AtomicBool>,
}

impl ReplUi {
    /// A console UI that asks (on a terminal), with an empty redactor.
    pub fn new() -> Self {
        ReplUi {
            ask: ConsoleUi::new(false),
            redactor: Arc::new(Redactor::new()),
            completing: Arc::new(AtomicBool::new(false)),
        }
    }

    fn now(&self) -> &ConsoleUi {
        &self.ask
    }

    fn quiet(&self) -> bool {
        self.completing.load(Ordering::SeqCst)
    }

    /// The redactor everything shown goes through.
    pub fn redactor(&self) -> &Arc<Redactor> {
        &self.redactor
    }

    fn r(&self, text: &str) -> String {
        self.redactor.redact(text)
    }

    /// Print an error report on standard error.
    pub fn error(&self, text: &str) {
        self.now().error(&self.r(text));
    }
}

impl Default for ReplUi {
    fn default() -> Self {
        Self::new()
    }
}

impl Ui for ReplUi {
    fn step(&self, section: &str, title: &str) {
        if !self.quiet() {
            self.now().step(&self.r(section), &self.r(title))
        }
    }
    fn info(&self, message: &str) {
        if !self.quiet() {
            self.now().info(&self.r(message))
        }
    }
    fn warn(&self, message: &str) {
        if !self.quiet() {
            self.now().warn(&self.r(message))
        }
    }
    fn confirm(&self, question: &str) -> Result<bool, ApiError> {
        self.now().confirm(&self.r(question)).map_err(|mut e| {
            e.message = self.r(&e.message);
            e
        })
    }
    fn waiting(&self, p: &WaitProgress) {
        if self.quiet() {
            return;
        }
        let mut p = p.clone();
        p.what = self.r(&p.what);
        p.last_seen = p.last_seen.map(|s| self.r(&s));
        self.now().waiting(&p)
    }
    fn wait_done(&self, d: &hascript_api::WaitDone) {
        let mut d = d.clone();
        d.what = self.r(&d.what);
        d.last_seen = d.last_seen.map(|s| self.r(&s));
        self.now().wait_done(&d)
    }
    fn result(&self, text: &str) {
        self.now().result(&self.r(text))
    }
    fn exposure(&self, what: &str, for_how_long: Duration) {
        self.now().exposure(&self.r(what), for_how_long)
    }
}

/// The session's transport as the site gave it, teaching the session's redactor the
/// secrets each command carries ([`Command::with_secret`]) before it is sent, as
/// [`journal::JournalingExec`] does for a run.
///
/// While Tab completion reads names ([`ReplUi`]'s `completing`), a command that changes
/// anything is refused before it is sent: completion only ever reads.
struct LearnSecrets {
    inner: Arc<dyn Exec>,
    redactor: Arc<Redactor>,
    completing: Arc<AtomicBool>,
}

impl Exec for LearnSecrets {
    fn exec(&self, cmd: &Command) -> Result<Output, ApiError> {
        if cmd.effect == Effect::Change && self.completing.load(Ordering::SeqCst) {
            return Err(ApiError::new(
                ErrorKind::Usage,
                format!(
                    "Tab completion never changes anything: {} not sent",
                    cmd.display()
                ),
            ));
        }
        self.redactor.add_all(&cmd.secrets);
        self.inner.exec(cmd)
    }
}

/// The site's names for Tab completion, read once per site (and after each `:run`, which
/// may have changed them) with the session's UI quiet and changes refused.
struct SessionNames {
    site: Arc<dyn hascript_api::Site>,
    completing: Arc<AtomicBool>,
    cache: Mutex<std::collections::HashMap<NameKind, Vec<String>>>,
}

impl std::fmt::Debug for SessionNames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionNames")
            .field("site", &self.site.driver())
            .finish_non_exhaustive()
    }
}

impl SessionNames {
    fn new(site: Arc<dyn hascript_api::Site>, completing: Arc<AtomicBool>) -> Self {
        SessionNames {
            site,
            completing,
            cache: Mutex::new(Default::default()),
        }
    }
}

/// The `name` of each row of a list (`guests()`, `list()`, `nodes()`).
fn row_names(rows: hascript_api::Result<serde_json::Value>) -> Vec<String> {
    let Ok(serde_json::Value::Array(rows)) = rows else {
        return Vec::new();
    };
    let mut v: Vec<String> = rows
        .iter()
        .filter_map(|r| r.get("name").and_then(|n| n.as_str()).map(str::to_string))
        .collect();
    v.sort();
    v.dedup();
    v
}

impl SiteNames for SessionNames {
    fn names(&self, kind: NameKind) -> Vec<String> {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(v) = cache.get(&kind) {
            return v.clone();
        }
        self.completing.store(true, Ordering::SeqCst);
        let v = match kind {
            NameKind::Host => self.site.hosts(),
            NameKind::Guest => row_names(self.site.hypervisor().guests()),
            NameKind::Package => row_names(self.site.package().list()),
            NameKind::ClusterNode => row_names(self.site.cluster().nodes()),
        };
        self.completing.store(false, Ordering::SeqCst);
        // Kept also when empty (a host that does not answer): no new attempt, and no new
        // wait, at every Tab.
        cache.insert(kind, v.clone());
        v
    }
}

/// Build the site of `spec` for a session whose UI is `ui`: the UI's redactor learns the
/// inventory's secrets (SSH passwords, key passphrases, sudo passwords) before anything is
/// sent, and each command's own secrets as it is sent.
fn build_site(
    spec: &SiteSpec,
    opts: &SiteOptions,
    ui: &Arc<ReplUi>,
) -> Result<BuiltSite, site::SiteError> {
    let dyn_ui: Arc<dyn Ui> = ui.clone();
    let redactor = ui.redactor().clone();
    let completing = ui.completing.clone();
    let built = site::build_wrapped(spec, opts, dyn_ui, CancelToken::new(), |exec, ui, _| {
        let exec: Arc<dyn Exec> = Arc::new(LearnSecrets {
            inner: exec,
            redactor,
            completing,
        });
        (exec, ui)
    })?;
    ui.redactor().add_all(&built.secrets);
    Ok(built)
}

/// Secret values this process was given for scripts (`HASCRIPT_SECRET_*`, see
/// [`crate::secrets`]): a procedure run with `:run` may send them, and a host may show
/// them back to a later input.
fn script_secrets_in_env() -> Vec<String> {
    std::env::vars_os()
        .filter(|(k, _)| k.to_string_lossy().starts_with(crate::secrets::ENV_PREFIX))
        .filter_map(|(_, v)| v.into_string().ok())
        .filter(|v| !v.is_empty())
        .collect()
}

/// What one input or command gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A value to print (`None` for unit).
    Value(Option<String>),
    /// Command output (standard output).
    Text(String),
    /// An error report (standard error).
    Error(String),
    /// Leave the REPL.
    Quit,
}

/// One REPL session over a site.
pub struct Session {
    /// A simulated site is always kept in a folder (`:run` works on it from a run of its
    /// own): `--sim-state DIR`, or this private temporary one, removed with the session.
    spec: SiteSpec,
    simdir: Option<tempfile::TempDir>,
    opts: SiteOptions,
    ui: Arc<ReplUi>,
    built: BuiltSite,
    env: RunEnv,
    engine: Engine,
    scope: Scope<'static>,
    ast: AST,
    accepted: Vec<String>,
    last: Option<Dynamic>,
    json: bool,
    api: Arc<Api>,
    running: Arc<Mutex<Option<Interrupt>>>,
    names: Arc<SessionNames>,
}

fn simulated(spec: &SiteSpec) -> bool {
    matches!(spec, SiteSpec::Sim { .. })
}

/// The run environment of a session on `built`. A call is interrupted through the site's
/// own token, which every wait, sleep and command checks — also a simulated wait paced in
/// real time (`HASCRIPT_SIM_PACE_MS`), which stops at once. Afterwards a simulated site's
/// token is reset (the site, its state and the objects variables hold stay), a real site
/// is rebuilt.
fn session_env(built: &BuiltSite) -> RunEnv {
    RunEnv::new(built.site.clone(), built.ctx.clone(), Default::default())
}

/// A simulated site without a folder gets a private temporary one, so that `:run` (a run
/// of its own, as `hascript run`: journal, locks) and the session share one site.
fn folder_backed(spec: SiteSpec) -> Result<(SiteSpec, Option<tempfile::TempDir>), String> {
    match spec {
        SiteSpec::Sim {
            scenario,
            default_driver,
            state: None,
        } => {
            let dir = tempfile::Builder::new()
                .prefix("hascript-repl-")
                .tempdir()
                .map_err(|e| {
                    format!("cannot create a temporary folder for the simulated site: {e}; set TMPDIR to a writable folder, or use --sim-state DIR")
                })?;
            let spec = SiteSpec::Sim {
                scenario,
                default_driver,
                state: Some(dir.path().to_path_buf()),
            };
            Ok((spec, Some(dir)))
        }
        other => Ok((other, None)),
    }
}

fn session_engine(env: &RunEnv) -> Engine {
    let mut engine = engine::build_engine(env);
    engine.set_optimization_level(rhai::OptimizationLevel::None);
    engine
}

impl Session {
    /// A session on the site of `spec`.
    pub fn new(spec: SiteSpec, opts: SiteOptions) -> Result<Session, String> {
        let ui = Arc::new(ReplUi::new());
        ui.redactor().add_all(&script_secrets_in_env());
        let (spec, simdir) = folder_backed(spec)?;
        let built = build_site(&spec, &opts, &ui).map_err(|e| e.to_string())?;
        let env = session_env(&built);
        let engine = session_engine(&env);
        let scope = env.scope();
        let api = Arc::new(Api::of(&engine));
        let names = Arc::new(SessionNames::new(built.site.clone(), ui.completing.clone()));
        Ok(Session {
            spec,
            simdir,
            opts,
            ui,
            built,
            env,
            engine,
            scope,
            ast: AST::empty(),
            accepted: Vec::new(),
            last: None,
            json: false,
            api,
            running: Arc::new(Mutex::new(None)),
            names,
        })
    }

    /// The slot holding the interrupt of the call under way (for a Ctrl-C watcher).
    pub fn running(&self) -> Arc<Mutex<Option<Interrupt>>> {
        self.running.clone()
    }

    /// The engine (for `:help`).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The API the session's engine offers.
    pub fn api(&self) -> Arc<Api> {
        self.api.clone()
    }

    /// The redactor every text the session shows goes through: it holds the inventory's
    /// secrets, the secrets of every command sent, the `HASCRIPT_SECRET_*` values and the
    /// secret-looking parameters given to `:run`. Values are only ever added.
    pub fn redactor(&self) -> &Arc<Redactor> {
        self.ui.redactor()
    }

    /// `reply` with every secret the session knows replaced by `*****`.
    fn hide(&self, reply: Reply) -> Reply {
        let r = |t: String| self.redactor().redact(&t);
        match reply {
            Reply::Value(v) => Reply::Value(v.map(r)),
            Reply::Text(t) => Reply::Text(r(t)),
            Reply::Error(e) => Reply::Error(r(e)),
            Reply::Quit => Reply::Quit,
        }
    }

    /// The banner line.
    pub fn banner(&self) -> String {
        format!(
            "hascript {} REPL on {}{} — :help lists the objects and functions, :quit leaves",
            env!("CARGO_PKG_VERSION"),
            self.built.description,
            if simulated(&self.spec) && !self.built.description.contains("simulated") {
                " (simulated)"
            } else {
                ""
            }
        )
    }

    /// The prompt names the site, so that an operator with several terminals sees where an
    /// input goes: the inventory's file name (`hascript(site.toml)> `), or the simulated
    /// site's scenario and `sim` (`hascript(ldoms sim)> `,
    /// `hascript(ldoms/unhealthy-cluster sim)> `). Control characters in the name are
    /// shown escaped (a file name must not act on the terminal).
    pub fn prompt(&self) -> String {
        let site = match &self.spec {
            SiteSpec::Sim { .. } => format!(
                "{} sim",
                self.built
                    .sim
                    .as_ref()
                    .map(|s| s.scenario())
                    .unwrap_or_else(|| self.built.site.driver().to_string())
            ),
            SiteSpec::Inventory(p) => p
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_else(|| p.display().to_string()),
        };
        format!("hascript({})> ", crate::output::escape_controls(&site))
    }

    /// The continuation prompt, as wide as the prompt.
    pub fn continuation(&self) -> String {
        let p = self.prompt();
        format!("{}...> ", " ".repeat(p.chars().count().saturating_sub(5)))
    }

    /// The inputs accepted so far (what `:save` writes).
    pub fn accepted(&self) -> &[String] {
        &self.accepted
    }

    /// Compile `input`; `Err(None)` when it is not finished yet.
    pub fn compile(&self, input: &str) -> Result<AST, Option<String>> {
        match self.engine.compile_with_scope(&self.scope, input) {
            Ok(a) => Ok(a),
            Err(e) if incomplete(&e, input) => Err(None),
            Err(e) => {
                let mut src = std::collections::HashMap::new();
                src.insert("<input>".to_string(), input.to_string());
                Err(Some(self.redactor().redact(&engine::report::render(
                    &engine::parse_error(e),
                    "<input>",
                    &src,
                ))))
            }
        }
    }

    /// Run `f` as the call under way: Ctrl-C fires its interrupt. Afterwards a fired
    /// interrupt is replaced (and a real site rebuilt with a fresh token).
    fn interruptible<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        *self.running.lock().unwrap_or_else(|p| p.into_inner()) = Some(self.env.interrupt.clone());
        let out = f(self);
        *self.running.lock().unwrap_or_else(|p| p.into_inner()) = None;
        if self.env.interrupt.fired() {
            self.recover_from_interrupt();
        }
        out
    }

    fn recover_from_interrupt(&mut self) {
        if simulated(&self.spec) {
            self.built.ctx.cancel.reset();
            self.env.interrupt = Interrupt::new(self.built.ctx.cancel.clone());
            self.engine = session_engine(&self.env);
            return;
        }
        match build_site(&self.spec, &self.opts, &self.ui) {
            Ok(b) => self.switch_to(b),
            Err(e) => {
                self.ui.error(&format!(
                    "error: cannot reconnect to the site after the interruption: {e}"
                ));
                self.env.interrupt = Interrupt::new(CancelToken::new());
                self.engine = session_engine(&self.env);
            }
        }
    }

    /// Use `built` from now on, keeping the session's variables and functions.
    fn switch_to(&mut self, built: BuiltSite) {
        self.built = built;
        self.names = Arc::new(SessionNames::new(
            self.built.site.clone(),
            self.ui.completing.clone(),
        ));
        self.env = session_env(&self.built);
        self.engine = session_engine(&self.env);
        let mut scope = self.env.scope();
        for (name, constant, value) in self.scope.iter_raw() {
            if GLOBALS.contains(&name) {
                continue;
            }
            if constant {
                scope.push_constant_dynamic(name.to_string(), value.clone());
            } else {
                scope.push_dynamic(name.to_string(), value.clone());
            }
        }
        self.scope = scope;
    }

    /// Forget variables a later `let` shadowed: no input can reach them any more (each
    /// input is compiled against the names in scope), but Rhai's scope keeps every
    /// definition, so a session repeating `let x = …` grew by one entry per line.
    fn drop_shadowed(&mut self) {
        let mut seen = std::collections::HashSet::new();
        let shadowed = self
            .scope
            .iter_raw()
            .filter(|(name, _, _)| !seen.insert(name.to_string()))
            .count();
        if shadowed == 0 {
            return;
        }
        // `iter_raw` goes newest first: keep the first of each name, rebuild oldest first.
        let mut seen = std::collections::HashSet::new();
        let mut keep: Vec<(String, bool, Dynamic)> = self
            .scope
            .iter_raw()
            .filter(|(name, _, _)| seen.insert(name.to_string()))
            .map(|(name, constant, value)| (name.to_string(), constant, value.clone()))
            .collect();
        keep.reverse();
        let mut scope = Scope::new();
        for (name, constant, value) in keep {
            if constant {
                scope.push_constant_dynamic(name, value);
            } else {
                scope.push_dynamic(name, value);
            }
        }
        self.scope = scope;
    }

    fn show(&self, v: &Dynamic) -> Option<String> {
        render::show(&self.engine, v, self.json)
    }

    fn report(&self, e: &rhai::EvalAltResult, main: &str) -> String {
        let sources = self
            .env
            .sources
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        engine::report::render(e, main, &sources)
    }

    /// Evaluate a compiled input; variables and functions stay for later inputs. An input
    /// that ran to the end is remembered for `:save`. The reply hides every secret the
    /// session knows.
    pub fn eval(&mut self, input: &str, ast: AST) -> Reply {
        let r = self.eval_named(input, ast, "<input>", input.trim_end().to_string());
        self.hide(r)
    }

    fn eval_named(&mut self, input: &str, ast: AST, source: &str, record: String) -> Reply {
        self.ast += ast;
        self.ast.set_source(source);
        self.env
            .sources
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(source.into(), input.to_string());
        let r = self.interruptible(|s| {
            s.engine
                .eval_ast_with_scope::<Dynamic>(&mut s.scope, &s.ast)
        });
        self.ast.clear_statements();
        self.drop_shadowed();
        match r {
            Ok(v) => {
                self.accepted.push(record);
                let shown = self.show(&v);
                if !v.is_unit() {
                    self.last = Some(v);
                }
                Reply::Value(shown)
            }
            Err(e) => Reply::Error(self.report(&e, source)),
        }
    }

    /// Handle a `:command` line. The reply hides every secret the session knows.
    pub fn command(&mut self, line: &str) -> Reply {
        let r = self.command_raw(line);
        self.hide(r)
    }

    fn command_raw(&mut self, line: &str) -> Reply {
        let line = line.trim();
        let (cmd, rest) = match line.split_once(char::is_whitespace) {
            Some((c, r)) => (c, r.trim()),
            None => (line, ""),
        };
        match cmd {
            ":quit" | ":q" | ":exit" => Reply::Quit,
            ":help" | ":h" if rest.is_empty() => Reply::Text(help_overview(&self.api)),
            ":help" | ":h" => match help_topic(&self.api, rest) {
                Ok(t) => Reply::Text(t),
                Err(e) => Reply::Error(e),
            },
            ":json" => {
                self.json = !self.json;
                let mode = if self.json { "JSON" } else { "tables" };
                let mut out = format!("values are shown as {mode}");
                if let Some(v) = &self.last {
                    if let Some(s) = self.show(v) {
                        out.push('\n');
                        out.push_str(&s);
                    }
                }
                Reply::Text(out)
            }
            ":vars" => Reply::Text(self.vars_text()),
            ":scenarios" => Reply::Text(scenarios_text()),
            ":sim" => {
                let spec = SiteSpec::Sim {
                    scenario: (!rest.is_empty()).then(|| rest.to_string()),
                    default_driver: "ldoms".into(),
                    state: None,
                };
                self.switch_site(spec, &format!(":sim {rest}"))
            }
            ":inventory" | ":i" if !rest.is_empty() => {
                self.switch_site(SiteSpec::Inventory(PathBuf::from(rest)), &format!(":inventory {rest}"))
            }
            ":inventory" | ":i" => Reply::Error("error: :inventory needs a file: :inventory site.toml".into()),
            ":load" if !rest.is_empty() => self.load(Path::new(rest)),
            ":load" => Reply::Error("error: :load needs a file: :load my.rhai".into()),
            ":save" if !rest.is_empty() => self.save(Path::new(rest)),
            ":save" => Reply::Error("error: :save needs a file: :save session.rhai".into()),
            ":run" if !rest.is_empty() => self.run(rest),
            ":run" => Reply::Error(
                "error: :run needs a procedure: :run ldoms/verify-fence (see :help :run, hascript list)".into(),
            ),
            _ => Reply::Error(format!("error: unknown command {cmd}; try :help")),
        }
    }

    fn vars_text(&self) -> String {
        let mut out = Vec::new();
        for (name, constant, value) in self.scope.iter_raw() {
            if GLOBALS.contains(&name) {
                continue;
            }
            out.push(format!(
                "{}{name}: {}",
                if constant { "const " } else { "" },
                value.type_name().rsplit("::").next().unwrap_or_default()
            ));
        }
        for f in self.ast.iter_functions() {
            out.push(format!("fn {}({})", f.name, f.params.join(", ")));
        }
        if out.is_empty() {
            "no variables or functions yet".into()
        } else {
            out.join("\n")
        }
    }

    fn switch_site(&mut self, spec: SiteSpec, what: &str) -> Reply {
        let opts = SiteOptions {
            sim_clock: None,
            ..self.opts.clone()
        };
        let (spec, simdir) = match folder_backed(spec) {
            Ok(s) => s,
            Err(e) => return Reply::Error(format!("error: {e}")),
        };
        match build_site(&spec, &opts, &self.ui) {
            Ok(b) => {
                self.spec = spec;
                self.opts = opts;
                self.switch_to(b);
                // The previous site's temporary folder goes once the session left it.
                self.simdir = simdir;
                self.accepted.push(format!(
                    "// {what}: the session switched to {}; the lines below ran there",
                    self.built.description
                ));
                Reply::Text(format!(
                    "now on {}{} (variables and functions kept)",
                    self.built.description,
                    if simulated(&self.spec) && !self.built.description.contains("simulated") {
                        " (simulated)"
                    } else {
                        ""
                    }
                ))
            }
            Err(e) => Reply::Error(format!("error: {e}")),
        }
    }

    fn load(&mut self, path: &Path) -> Reply {
        let text = match crate::files::read_regular_text(path, crate::files::MAX_TEXT_FILE) {
            Ok(t) => t,
            Err(e) => return Reply::Error(format!("error: {e}")),
        };
        let name = path.display().to_string();
        let ast = match self.engine.compile_with_scope(&self.scope, &text) {
            Ok(a) => a,
            Err(e) => {
                let mut src = std::collections::HashMap::new();
                src.insert(name.clone(), text.clone());
                return Reply::Error(engine::report::render(&engine::parse_error(e), &name, &src));
            }
        };
        let record = format!("// :load {name}\n{}", text.trim_end());
        self.eval_named(&text, ast, &name, record)
    }

    /// The accepted inputs as a script: a header saying where it was recorded and how to
    /// run it, then each input (with the `;` a statement needs before the next one).
    pub fn script(&self) -> String {
        let run_site = match &self.spec {
            SiteSpec::Sim { scenario, .. } => {
                format!("--sim {}", scenario.as_deref().unwrap_or("ldoms"))
            }
            SiteSpec::Inventory(p) => format!("-i {}", p.display()),
        };
        let mut out = format!(
            "//! title: REPL session\n//! params: (none)\n//\n// Saved by `:save` in `hascript repl` on {}.\n// Run it with: hascript run ./FILE {run_site} (a file runs when written as a path)\n\n",
            self.built.description
        );
        for input in &self.accepted {
            let t = input.trim_end();
            out.push_str(t);
            if !(t.ends_with(';') || last_line_is_comment(t)) && needs_semicolon(&self.engine, t) {
                out.push(';');
            }
            out.push('\n');
        }
        out
    }

    fn save(&mut self, path: &Path) -> Reply {
        let text = self.script();
        if let Err(e) = std::fs::write(path, &text) {
            return Reply::Error(format!("error: cannot write {}: {e}", path.display()));
        }
        let n = self
            .accepted
            .iter()
            .filter(|a| !a.starts_with("// :"))
            .count();
        let mut msg = format!(
            "saved {n} input{} to {}",
            if n == 1 { "" } else { "s" },
            path.display()
        );
        let problems = check_script(&text);
        if !problems.is_empty() {
            msg.push_str(&format!(
                "\nwarning: `hascript check` finds problems in it (it uses what a failed input defined?):\n{}",
                problems.join("\n")
            ));
        }
        if self.accepted.iter().any(|a| a.starts_with("// :run")) {
            msg.push_str("\nnote: procedures run with :run are comments in the script, at their place; run them first");
        }
        Reply::Text(msg)
    }

    fn run(&mut self, rest: &str) -> Reply {
        let mut words = rest.split_whitespace();
        let Some(name) = words.next() else {
            return Reply::Error("error: :run needs a procedure".into());
        };
        let mut yes = false;
        let mut dry_run = false;
        let mut raw = Vec::new();
        for w in words {
            match w {
                "--yes" => yes = true,
                "--dry-run" => dry_run = true,
                _ => raw.push(w.to_string()),
            }
        }
        // Secret-looking values (`password=…`) are hidden from here on, as `hascript run`
        // hides them; also in what `:save` writes.
        for w in &raw {
            if let Some((k, v)) = w.split_once('=') {
                if journal::secret_param_name(k) {
                    self.redactor().add(v);
                }
            }
        }
        let params = match scripts::parse_params(&raw) {
            Ok(p) => p,
            Err(e) => {
                return Reply::Error(format!("error: {}", e.replace("-p key=value", "key=value")))
            }
        };
        let script = match crate::scripts::resolve(name) {
            Ok(s) => s,
            Err(e) => return Reply::Error(format!("error: {e}")),
        };
        if let Err(e) = scripts::check_declared(&params, &script) {
            return Reply::Error(format!("error: {e}"));
        }
        let driver = self.built.site.driver();
        if script.path.is_none() {
            let family = script.source_name.split('/').next().unwrap_or_default();
            if (family == "ldoms" || family == "hpvm") && family != driver {
                return Reply::Error(format!(
                    "error: {} is a procedure for {family} sites, and this session is on a {driver} site: switch with :sim {family} (or :inventory FILE)",
                    script.source_name
                ));
            }
        }
        // The same run as `hascript run` (journal, host locks, --dry-run, confirmations),
        // on the session's site: its folder when simulated, so the session sees the result.
        let site = match &self.spec {
            SiteSpec::Sim {
                state: Some(dir), ..
            } => SiteChoice {
                sim: Some(None),
                sim_state: Some(dir.clone()),
                ..SiteChoice::default()
            },
            SiteSpec::Sim { state: None, .. } => {
                return Reply::Error(
                    "error: the session's simulated site has no folder (a bug in hascript); switch with :sim to get one".into(),
                )
            }
            SiteSpec::Inventory(p) => SiteChoice {
                inventory: Some(p.clone()),
                accept_new_host_keys: self.opts.accept_new_host_keys,
                sim_clock: self.opts.sim_clock.clone(),
                ..SiteChoice::default()
            },
        };
        let req = run::Request {
            script: name.to_string(),
            site,
            params: raw,
            yes,
            dry_run,
            ..run::Request::default()
        };
        // Ctrl-C (the REPL's watcher) cancels the run's token: the run stops and runs its
        // recovery routines, as after a first Ctrl-C in `hascript run`.
        let cancel = CancelToken::new();
        *self.running.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(Interrupt::new(cancel.clone()));
        let exit = run::run(req, Some(cancel));
        *self.running.lock().unwrap_or_else(|p| p.into_inner()) = None;
        // The run may have added or moved guests and packages: read the names again.
        self.names = Arc::new(SessionNames::new(
            self.built.site.clone(),
            self.ui.completing.clone(),
        ));
        if dry_run {
            // Nothing changed: the lines that follow saw no effect, `:save` has nothing
            // to say about it.
            return match exit {
                0 => Reply::Text(format!(
                    "{} dry run finished (exit code 0; nothing was changed)",
                    script.source_name
                )),
                n => Reply::Error(format!(
                    "{} dry run ended with exit code {n} (nothing was changed)",
                    script.source_name
                )),
            };
        }
        let args: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let record = format!(
            "// :run {} {} — ran here; what follows saw its effect (run it first: hascript run {}{})",
            script.source_name,
            args.join(" "),
            script.source_name,
            params
                .iter()
                .map(|(k, v)| format!(" -p {k}={v}"))
                .collect::<String>()
        );
        let record = self.redactor().redact(&record);
        self.accepted.push(record);
        match exit {
            0 => Reply::Text(format!("{} finished (exit code 0)", script.source_name)),
            n => Reply::Error(format!("{} ended with exit code {n}", script.source_name)),
        }
    }

    /// What completion needs to know now (a map key holding a secret is never offered).
    pub fn known(&self) -> Known {
        let mut vars = Vec::new();
        for (name, _, value) in self.scope.iter_raw() {
            let shape = match shape_of(&self.api, value) {
                Shape::Map(keys) => Shape::Map(
                    keys.into_iter()
                        .filter(|k| self.redactor().redact(k) == *k)
                        .collect(),
                ),
                other => other,
            };
            vars.push((name.to_string(), shape));
        }
        let procedures = scripts::all_names(&scripts::search_path())
            .into_iter()
            .filter(|n| !n.starts_with("lib/"))
            .map(|n| {
                let params = scripts::find(&n, &scripts::search_path())
                    .and_then(|s| scripts::meta(&s.text).params)
                    .unwrap_or_default();
                (n, params)
            })
            .collect();
        let mut scenarios: Vec<String> = vec!["ldoms".into(), "hpvm".into()];
        scenarios.extend(crate::backend::scenarios().into_iter().map(|s| s.name));
        Known {
            api: Some(self.api.clone()),
            vars,
            fns: self
                .ast
                .iter_functions()
                .map(|f| f.name.to_string())
                .collect(),
            hosts: self.built.site.hosts(),
            procedures,
            scenarios,
            names: Some(self.names.clone()),
        }
    }
}

fn last_line_is_comment(t: &str) -> bool {
    t.lines()
        .last()
        .is_some_and(|l| l.trim_start().starts_with("//"))
}

/// Whether an input ending with `}` is an expression that needs a `;` before the next
/// statement (`#{a: 1}`), rather than a block statement (`fn`, `if`, `for` …).
fn needs_semicolon(engine: &Engine, t: &str) -> bool {
    // A statement that still compiles followed by another statement needs nothing.
    let probe = format!("{t}\n0");
    engine.compile(&probe).is_err() && engine.compile(format!("{t};\n0")).is_ok()
}

fn shape_of(api: &Api, v: &Dynamic) -> Shape {
    if v.is_map() {
        let keys = v
            .read_lock::<rhai::Map>()
            .map(|m| m.keys().map(|k| k.to_string()).collect())
            .unwrap_or_default();
        return Shape::Map(keys);
    }
    if v.is_array() {
        return Shape::Array;
    }
    let t = v.type_name();
    let t = t.rsplit("::").next().unwrap_or(t);
    // Registered names (`Host`) or the Rust type's last segment (`HostObj`).
    for g in &api.groups {
        if let Some(ty) = &g.type_name {
            if ty == t || format!("{ty}Obj") == t {
                return Shape::Type(ty.clone());
            }
        }
    }
    if t == "ConfDoc" {
        return Shape::Type("PackageConf".into());
    }
    Shape::Other
}

/// The problems `hascript check` would report in `text` (as `line:col: message`).
pub fn check_script(text: &str) -> Vec<String> {
    let ui: Arc<dyn Ui> = Arc::new(ConsoleUi::new(false));
    let env = RunEnv::offline(ui);
    let mut engine = engine::build_engine(&env);
    engine.set_strict_variables(true);
    let known = engine::lint::known_functions(&engine);
    let scope = env.scope();
    engine::lint::check(&engine, &scope, &known, text)
        .into_iter()
        .map(|p| format!("{}:{}: {}", p.line, p.col, p.message))
        .collect()
}

/// `:scenarios`.
pub fn scenarios_text() -> String {
    let scen = crate::backend::scenarios();
    let mut rows: Vec<(String, String)> = vec![
        (
            "ldoms".into(),
            "the LDoms default site (the manual's figure 17.1)".into(),
        ),
        (
            "hpvm".into(),
            "the Serviceguard / Integrity VM default site".into(),
        ),
    ];
    rows.extend(scen.into_iter().map(|s| (s.name, s.summary)));
    let w = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let mut out = vec!["Simulated sites (:sim NAME):".to_string()];
    out.extend(rows.iter().map(|(n, s)| format!("  {n:w$}  {s}")));
    out.join("\n")
}

fn print_reply(ui: &ReplUi, r: Reply) -> bool {
    match r {
        Reply::Value(Some(v)) | Reply::Text(v) => ui.info(&v),
        Reply::Value(None) => {}
        Reply::Error(e) => ui.error(&e),
        Reply::Quit => return false,
    }
    true
}

/// `hascript repl`.
pub fn main(args: &SiteChoice) -> i32 {
    let spec = match site_spec(args, "ldoms", false) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let opts = args.options(None);
    let mut session = match Session::new(spec, opts) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let ui = session.ui.clone();
    println!("{}", session.banner());
    let known = Arc::new(Mutex::new(session.known()));
    let terminal = std::io::stdin().is_terminal();
    // Installed before the line editor exists: linefeed puts back the SIGINT handler it
    // found after each line, so it must find this one.
    crate::signals::watch_repl(session.running(), !terminal);
    let mut lines = line_source(known.clone(), session.redactor().clone());
    let mut buffer = String::new();
    loop {
        // A SIGTERM/SIGHUP stopped the call under way (its recovery ran): leave with its
        // code (the terminal may be gone).
        if let Some(sig) = crate::signals::ending() {
            return crate::signals::exit_code(sig);
        }
        let prompt = if buffer.is_empty() {
            session.prompt()
        } else {
            session.continuation()
        };
        let line = match lines.read_line(&prompt) {
            Read::Line(l) => l,
            Read::Interrupted => {
                buffer.clear();
                continue;
            }
            Read::Eof => {
                if let Some(sig) = crate::signals::ending() {
                    return crate::signals::exit_code(sig);
                }
                if !buffer.trim().is_empty() {
                    let msg = match session.compile(&buffer) {
                        Err(Some(e)) => e,
                        _ => "error: the input ended before it was complete".to_string(),
                    };
                    ui.error(&msg);
                }
                return 0;
            }
        };
        lines.remember(&line);
        if buffer.is_empty() {
            let t = line.trim();
            if t.is_empty() {
                continue;
            }
            if t.starts_with(':') {
                let r = session.command(t);
                let go_on = print_reply(&ui, r);
                if let Some(sig) = crate::signals::ending() {
                    // Stopped by SIGTERM/SIGHUP: leave (the terminal may be gone; the
                    // journal has the run's end).
                    return crate::signals::exit_code(sig);
                }
                if !go_on {
                    return 0;
                }
                *known.lock().unwrap_or_else(|p| p.into_inner()) = session.known();
                continue;
            }
        }
        buffer.push_str(&line);
        buffer.push('\n');
        match session.compile(&buffer) {
            Err(None) => {
                continue_string(session.engine(), &mut buffer);
                continue;
            }
            Err(Some(e)) => ui.error(&e),
            Ok(ast) => {
                let r = session.eval(&buffer, ast);
                print_reply(&ui, r);
            }
        }
        buffer.clear();
        *known.lock().unwrap_or_else(|p| p.into_inner()) = session.known();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn history_entries_hide_secret_parameters_and_known_secrets() {
        let r = Redactor::new();
        r.add("s3cr3t-inv");
        assert_eq!(
            history_entry(
                ":run ldoms/x  guest=guest2 password=hunter2 -p storepass=abc token=t",
                &r
            ),
            ":run ldoms/x guest=guest2 password=***** -p storepass=***** token=*****"
        );
        assert_eq!(
            history_entry("let p = \"s3cr3t-inv\";", &r),
            "let p = \"*****\";"
        );
        // Not a `:run`: only the known values go.
        assert_eq!(history_entry("let password=1", &r), "let password=1");
        assert_eq!(
            history_entry(":runner password=x", &r),
            ":runner password=x"
        );
    }

    /// A transport that counts what reaches it.
    struct Count(Mutex<Vec<String>>);

    impl Exec for Count {
        fn exec(&self, cmd: &Command) -> Result<Output, ApiError> {
            self.0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(cmd.display());
            Err(ApiError::new(ErrorKind::Command, "not a real host"))
        }
    }

    #[test]
    fn completion_never_sends_a_changing_command() {
        let inner = Arc::new(Count(Mutex::new(Vec::new())));
        let completing = Arc::new(AtomicBool::new(true));
        let exec = LearnSecrets {
            inner: inner.clone(),
            redactor: Arc::new(Redactor::new()),
            completing: completing.clone(),
        };
        let change = Command::change("cd1", &["ldm", "stop-domain", "guest2"]);
        let e = exec.exec(&change).err().map(|e| e.message);
        assert!(
            e.as_deref()
                .is_some_and(|m| m.contains("Tab completion never changes anything")),
            "{e:?}"
        );
        let _ = exec.exec(&Command::read("cd1", &["ldm", "list", "-p"]));
        completing.store(false, Ordering::SeqCst);
        let _ = exec.exec(&change);
        let sent = inner.0.lock().map(|v| v.clone()).unwrap_or_default();
        assert_eq!(sent.len(), 2, "{sent:?}");
        assert!(sent[0].contains("list"), "{sent:?}");
    }

    #[test]
    fn the_history_file_is_written_0600_and_replaces_a_readable_one() {
        let Ok(dir) = tempfile::tempdir() else {
            panic!("tempdir")
        };
        let p = dir.path().join("state").join("hascript").join("history");
        write_history(&p, &["a".into(), "b".into()]).unwrap_or_else(|e| panic!("{e}"));
        let mode = |p: &Path| {
            std::fs::metadata(p)
                .map(|m| m.permissions().mode() & 0o777)
                .unwrap_or(0)
        };
        assert_eq!(mode(&p), 0o600);
        assert_eq!(mode(p.parent().unwrap_or(&p)), 0o700);
        assert_eq!(std::fs::read_to_string(&p).unwrap_or_default(), "a\nb\n");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644))
            .unwrap_or_else(|e| panic!("{e}"));
        write_history(&p, &["c".into()]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(mode(&p), 0o600);
        assert_eq!(std::fs::read_to_string(&p).unwrap_or_default(), "c\n");
        let left: Vec<_> = std::fs::read_dir(p.parent().unwrap_or(&p))
            .map(|d| d.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert_eq!(left.len(), 1, "no temporary file left: {left:?}");
    }
}
