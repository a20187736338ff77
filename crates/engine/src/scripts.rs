//! Where scripts come from: the shipped procedures embedded at build time, folders on
//! `HASCRIPT_PATH` (which override shipped ones by name), and files given by path.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub mod secret_decl;

/// SHA-256 of `data` as lowercase hex: what identifies a script's text (`script_loaded`,
/// `resume`'s comparison).
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(data);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

mod table {
    include!(concat!(env!("OUT_DIR"), "/shipped.rs"));
}

/// The embedded scripts as (name, source), e.g. `("ldoms/live-migration", "...")`.
pub fn shipped() -> &'static [(&'static str, &'static str)] {
    table::SHIPPED
}

/// The source of shipped script `name`.
pub fn shipped_source(name: &str) -> Option<&'static str> {
    shipped().iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

/// The folders of `HASCRIPT_PATH`, in order.
pub fn search_path() -> Vec<PathBuf> {
    match std::env::var_os("HASCRIPT_PATH") {
        Some(p) => std::env::split_paths(&p)
            .filter(|p| !p.as_os_str().is_empty())
            .collect(),
        None => Vec::new(),
    }
}

/// Metadata from a script's leading `//!` comment lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScriptMeta {
    /// `//! title: …`
    pub title: Option<String>,
    /// `//! section: …` (the manual's section).
    pub section: Option<String>,
    /// `//! params: a, b?, c (optional: …)`: the declared parameter names (the first word
    /// of each comma-separated entry, without its `?`; `(none)` or nothing declares none).
    /// `None` when the script has no `params` line: it then accepts any parameter.
    pub params: Option<Vec<String>>,
    /// The declared parameters a run must give: every entry of the `params` line not
    /// marked optional (`name?`, or a note in parentheses that starts with `optional`).
    pub required: Vec<String>,
    /// `//! secrets: a (default: x), b`: the secret parameters (see [`crate::secrets`]);
    /// their values never come from `-p`.
    pub secrets: Vec<secret_decl::SecretDecl>,
}

/// The rule for parameter names, as error messages state it.
pub const PARAM_RULE: &str =
    "a letter or _ followed by letters, digits or _ ([A-Za-z_][A-Za-z0-9_]*)";

/// Whether `name` is a valid parameter name (see [`PARAM_RULE`]).
pub fn valid_param_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The entries of a header's value (`//! params:`, `//! secrets:`): separated by commas
/// outside parentheses, so a note may hold commas; empty or `(none)` is none.
pub(crate) fn header_entries(value: &str) -> Vec<&str> {
    let value = value.trim();
    if value.is_empty() || value == "(none)" {
        return Vec::new();
    }
    let mut entries = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in value.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                entries.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    entries.push(&value[start..]);
    entries
}

/// The parameters declared by a `//! params:` value as (name, required): the first word of
/// each entry, entries separated by commas outside parentheses; empty or `(none)` declares
/// none. An entry is optional when its name ends in `?` (`node?`) or its note in
/// parentheses starts with `optional` (`target (optional: …)`); every other one is required.
fn declared_params(value: &str) -> Vec<(String, bool)> {
    header_entries(value)
        .into_iter()
        .filter_map(|e| {
            let word = e
                .split(|c: char| c.is_whitespace() || c == '(')
                .find(|w| !w.is_empty())?;
            let note_optional = e
                .split_once('(')
                .is_some_and(|(_, note)| note.trim_start().starts_with("optional"));
            let (name, marked) = match word.strip_suffix('?') {
                Some(n) => (n, true),
                None => (word, false),
            };
            Some((name.to_string(), !(marked || note_optional)))
        })
        .collect()
}

/// Read the metadata of `source`.
pub fn meta(source: &str) -> ScriptMeta {
    let mut m = ScriptMeta::default();
    for line in source.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some(rest) = line.strip_prefix("//!") else {
            if line.starts_with("//") {
                continue;
            }
            break;
        };
        let Some((k, v)) = rest.split_once(':') else {
            continue;
        };
        let v = v.trim().to_string();
        match k.trim() {
            "title" => m.title = Some(v),
            "section" => m.section = Some(v),
            "params" => {
                let decl = declared_params(&v);
                m.required = decl
                    .iter()
                    .filter(|(_, req)| *req)
                    .map(|(n, _)| n.clone())
                    .collect();
                m.params = Some(decl.into_iter().map(|(n, _)| n).collect());
            }
            "secrets" => m.secrets = secret_decl::parse_decl(&v),
            _ => {}
        }
    }
    m
}

/// Where a script came from: the run's banner names it, and `resume` reads the same one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Embedded in hascript at build time.
    Shipped,
    /// A file in a folder of `HASCRIPT_PATH`, found by name (it overrides a shipped one).
    SearchPath,
    /// A file the operator named by its path (`./…`, an absolute path, or `….rhai`).
    File,
}

impl Origin {
    /// Its name in the journal (`script_loaded`'s `origin`).
    pub fn name(&self) -> &'static str {
        match self {
            Origin::Shipped => "shipped",
            Origin::SearchPath => "hascript_path",
            Origin::File => "file",
        }
    }

    /// The origin a journal names, if it is one.
    pub fn from_name(name: &str) -> Option<Origin> {
        match name {
            "shipped" => Some(Origin::Shipped),
            "hascript_path" => Some(Origin::SearchPath),
            "file" => Some(Origin::File),
            _ => None,
        }
    }
}

/// What loaded a script (`script_loaded`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum LoadKind {
    /// An `import`.
    Module,
    /// A nested procedure: a generic action's (`hypervisor.migrate`) or a recovery routine
    /// the run executes.
    Procedure,
    /// A recovery routine's procedure, recorded when the routine is registered (what
    /// `unwind` would run).
    Routine,
}

/// A script or module a run loaded besides its top script, as its journal records it
/// (`script_loaded`): how to find it again and the SHA-256 of the text it ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    /// The name it was found by: a procedure's name, or a module's import path.
    pub name: String,
    /// What loaded it.
    pub kind: LoadKind,
    /// Where it came from: found by `name` (shipped or `HASCRIPT_PATH`), or the file
    /// beside the script that imported it.
    pub origin: Origin,
    /// The file, when it came from one (absolute).
    pub path: Option<PathBuf>,
    /// SHA-256 of its text.
    pub sha256: String,
}

impl Loaded {
    /// `script`, found by `name` ([`find`]: a procedure, or a module on `HASCRIPT_PATH` or
    /// shipped), or read from a file beside the importing script (`script.origin` is
    /// [`Origin::File`]).
    pub fn of(name: &str, kind: LoadKind, script: &Script) -> Loaded {
        Loaded {
            name: name.to_string(),
            kind,
            origin: script.origin.clone(),
            path: script.path.as_deref().map(absolute),
            sha256: sha256_hex(script.text.as_bytes()),
        }
    }

    /// What identifies it across runs: its file when it came from beside its importer,
    /// else the name it is found by.
    fn key(&self) -> String {
        match (&self.origin, &self.path) {
            (Origin::File, Some(p)) => format!("file:{}", p.display()),
            _ => format!("name:{}", self.name),
        }
    }

    /// Whether `other` is the same script found the same way (its version aside).
    pub fn same_script(&self, other: &Loaded) -> bool {
        self.key() == other.key()
    }

    /// It as a run would load it now, the same way: the file at its recorded path (from
    /// beside its importer), else found again by name (`HASCRIPT_PATH`, then shipped).
    pub fn now(&self, search: &[PathBuf]) -> Result<Script, String> {
        match (&self.origin, &self.path) {
            (Origin::File, Some(p)) => read_file(p, &p.display().to_string(), Origin::File),
            _ => find(&self.name, search).ok_or_else(|| {
                format!(
                    "no {} {} on HASCRIPT_PATH nor shipped",
                    self.kind_word(),
                    self.name
                )
            }),
        }
    }

    fn kind_word(&self) -> &'static str {
        match self.kind {
            LoadKind::Module => "module",
            LoadKind::Procedure | LoadKind::Routine => "procedure",
        }
    }

    /// How the operator is told which script it is: `module lib/ldoms/migration
    /// (HASCRIPT_PATH: /site/lib/ldoms/migration.rhai)`.
    pub fn label(&self) -> String {
        let from = match (&self.origin, &self.path) {
            (Origin::Shipped, _) => "shipped".to_string(),
            (Origin::SearchPath, Some(p)) => format!("HASCRIPT_PATH: {}", p.display()),
            (_, Some(p)) => format!("file: {}", p.display()),
            (_, None) => self.origin.name().to_string(),
        };
        format!("{} {} ({from})", self.kind_word(), self.name)
    }
}

/// A script a dead run loaded that a run would not load as it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    /// What the dead run loaded.
    pub then: Loaded,
    /// What a run would load now, or why nothing.
    pub now: Result<Script, String>,
}

impl Changed {
    /// One line for the operator: the script, its recorded hash, what it is now.
    pub fn line(&self) -> String {
        let now = match &self.now {
            Ok(s) => format!(
                "now sha256 {} ({})",
                sha256_hex(s.text.as_bytes()),
                s.origin_label()
            ),
            Err(e) => format!("now missing: {e}"),
        };
        format!(
            "{}: sha256 {} when the run loaded it, {now}",
            self.then.label(),
            self.then.sha256
        )
    }
}

/// The scripts of `records` (a dead run's `script_loaded` lines, oldest first; the latest
/// record of a script counts) whose text a run would not find again as it was.
pub fn changed_since(records: &[Loaded], search: &[PathBuf]) -> Vec<Changed> {
    let mut latest: Vec<Loaded> = Vec::new();
    for r in records {
        match latest.iter_mut().find(|l| l.key() == r.key()) {
            Some(l) => *l = r.clone(),
            None => latest.push(r.clone()),
        }
    }
    latest
        .into_iter()
        .filter_map(|then| {
            let now = then.now(search);
            let same = now
                .as_ref()
                .is_ok_and(|s| sha256_hex(s.text.as_bytes()) == then.sha256);
            (!same).then_some(Changed { then, now })
        })
        .collect()
}

/// A script ready to compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// The name errors use: the file path, or the shipped name.
    pub source_name: String,
    /// The text.
    pub text: String,
    /// The file, when it came from one (absolute, so a later `resume` finds it from any
    /// folder).
    pub path: Option<PathBuf>,
    /// Where it came from.
    pub origin: Origin,
    /// A warning for the operator: another script of the same name exists and does not run
    /// (a file in the current folder beside a shipped name, or the reverse).
    pub shadowed: Option<String>,
}

impl Script {
    /// The source as the run's banner shows it: `shipped`, `HASCRIPT_PATH: /path` or
    /// `file: /path`.
    pub fn origin_label(&self) -> String {
        let path = || {
            self.path
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| self.source_name.clone())
        };
        match self.origin {
            Origin::Shipped => "shipped".to_string(),
            Origin::SearchPath => format!("HASCRIPT_PATH: {}", path()),
            Origin::File => format!("file: {}", path()),
        }
    }

    /// The driver this script belongs to (`ldoms` or `hpvm`), from its shipped name or its
    /// file's folder: what `--sim` alone means for it, and which site the REPL's `:run`
    /// accepts it on.
    pub fn driver(&self) -> &'static str {
        let folder = match &self.path {
            Some(p) => p
                .parent()
                .and_then(|d| d.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            None => self
                .source_name
                .split('/')
                .next()
                .unwrap_or_default()
                .to_string(),
        };
        if folder == "hpvm" {
            "hpvm"
        } else {
            "ldoms"
        }
    }
}

/// Whether `name` is a plausible shipped name (relative, `/`-separated, no `..`).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('/')
        && name
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
}

/// Whether the operator wrote `arg` as a file path rather than a procedure name: it starts
/// with `./`, `../` or `/`, or ends with `.rhai`. Only such an argument runs a file that is
/// not on `HASCRIPT_PATH`; anything else is a procedure name, never a file in the current
/// folder (which on a shared host may be anyone's).
pub fn is_path_arg(arg: &str) -> bool {
    arg.starts_with("./")
        || arg.starts_with("../")
        || arg.starts_with('/')
        || arg.ends_with(".rhai")
        || arg == "."
        || arg == ".."
        || Path::new(arg).is_absolute()
}

/// `p` made absolute against the current folder (not resolving links), or `p` as given
/// when the current folder cannot be read.
fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Find script `name`: a `HASCRIPT_PATH` folder's `name.rhai`, then the shipped one. Never
/// the current folder, and never a name ending in `.rhai` (that is a file path, see
/// [`resolve`]).
pub fn find(name: &str, search: &[PathBuf]) -> Option<Script> {
    if !valid_name(name) || name.ends_with(".rhai") {
        return None;
    }
    for dir in search {
        let p = dir.join(format!("{name}.rhai"));
        if p.is_file() {
            if let Ok(text) = std::fs::read_to_string(&p) {
                return Some(Script {
                    source_name: p.display().to_string(),
                    text,
                    path: Some(absolute(&p)),
                    origin: Origin::SearchPath,
                    shadowed: None,
                });
            }
        }
    }
    shipped_source(name).map(|text| Script {
        source_name: name.to_string(),
        text: text.to_string(),
        path: None,
        origin: Origin::Shipped,
        shadowed: None,
    })
}

/// Read the script file `p` (named `shown` in messages); only a regular file is a script.
fn read_file(p: &Path, shown: &str, origin: Origin) -> Result<Script, String> {
    match std::fs::metadata(p) {
        Ok(m) if m.is_file() => {}
        Ok(_) => {
            return Err(format!(
                "{shown} is not a script file (a folder, a device or a pipe); name a .rhai file"
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!("no script file {shown}"))
        }
        Err(e) => return Err(format!("cannot read {shown}: {e}")),
    }
    let text = std::fs::read_to_string(p).map_err(|e| format!("cannot read {shown}: {e}"))?;
    Ok(Script {
        source_name: shown.to_string(),
        text,
        path: Some(absolute(p)),
        origin,
        shadowed: None,
    })
}

/// The script `arg` names on the command line (`run`, `check`, `show`, the REPL's `:run`):
/// a procedure name means the `HASCRIPT_PATH` override or the shipped procedure, never a
/// file in the current folder; a file runs only when written as a path ([`is_path_arg`]).
/// When both exist, [`Script::shadowed`] says which one does not run.
pub fn resolve(arg: &str) -> Result<Script, String> {
    use hascript_api::text::quoted;
    let search = search_path();
    // The procedure name a path-like argument also spells (`./ldoms/x`, `ldoms/x.rhai`).
    let spelled = {
        let n = arg.trim_start_matches("./");
        n.strip_suffix(".rhai").unwrap_or(n)
    };
    if is_path_arg(arg) {
        let other = (spelled != arg).then(|| find(spelled, &search)).flatten();
        let mut s =
            read_file(Path::new(arg), &quoted(arg), Origin::File).map_err(|e| match &other {
                Some(p) => format!(
                    "{e}; to run the {} procedure {spelled}, write it without `./` and `.rhai`: {}",
                    p.origin_label(),
                    quoted(spelled)
                ),
                None => e,
            })?;
        s.source_name = arg.to_string();
        if let Some(other) = other {
            s.shadowed = Some(format!(
                "running the file {}, not the procedure {spelled} ({}) of the same name; to run the procedure, write {}",
                s.origin_label().trim_start_matches("file: "),
                other.origin_label(),
                quoted(spelled)
            ));
        }
        return Ok(s);
    }
    // A file of that name in the current folder never runs by name, but the operator is
    // told it exists, whichever of the two they meant.
    let local = [arg.to_string(), format!("{arg}.rhai")]
        .into_iter()
        .find(|f| valid_name(arg) && Path::new(f).is_file());
    if let Some(mut s) = find(arg, &search) {
        if let Some(f) = local {
            s.shadowed = Some(format!(
                "running the procedure {arg} ({}), not the file {} in the current folder; to run the file, write {}",
                s.origin_label(),
                quoted(&format!("./{f}")),
                quoted(&format!("./{f}"))
            ));
        }
        return Ok(s);
    }
    if let Some(f) = local {
        return Err(format!(
            "no procedure named {} (shipped or on HASCRIPT_PATH); the file {} in the current folder runs only when written as a path: {}",
            quoted(arg),
            quoted(&f),
            quoted(&format!("./{f}"))
        ));
    }
    let names = all_names(&search);
    let close = close_names(arg, &names);
    let mut msg = format!(
        "no script file {} and no shipped procedure of that name",
        quoted(arg)
    );
    if close.is_empty() {
        msg.push_str(&format!(
            "; the shipped procedures are: {}",
            names.join(", ")
        ));
    } else {
        msg.push_str(&format!("; did you mean: {}?", close.join(", ")));
    }
    msg.push_str(" (see `hascript list`)");
    Err(msg)
}

/// Whether `arg` names a script `hascript run` would run: a procedure found by name
/// ([`find`]), or a script file written as a path ([`is_path_arg`]) that exists. `run --sim
/// NAME` takes NAME as the script when it is one.
pub fn is_script(arg: &str) -> bool {
    if is_path_arg(arg) {
        Path::new(arg).is_file()
    } else {
        find(arg, &search_path()).is_some()
    }
}

/// The script a dead run ran, as its journal recorded it: the file at `path` when it ran
/// from a file (a `HASCRIPT_PATH` override or a path), else the shipped procedure `name`
/// — never found again by name, so neither a new override nor a file in the current
/// folder can take its place. The caller checks the SHA-256.
pub fn recorded(name: &str, path: Option<&str>) -> Result<Script, String> {
    use hascript_api::text::quoted;
    match path {
        Some(p) => {
            let pb = PathBuf::from(p);
            let origin = if search_path()
                .iter()
                .any(|d| pb.starts_with(absolute(d)) || pb.starts_with(d))
            {
                Origin::SearchPath
            } else {
                Origin::File
            };
            // The recorded path, not the name as first given (which may be relative to
            // another folder), is what errors and imports use now.
            read_file(&pb, p, origin)
        }
        None => shipped_source(name)
            .map(|text| Script {
                source_name: name.to_string(),
                text: text.to_string(),
                path: None,
                origin: Origin::Shipped,
                shadowed: None,
            })
            .ok_or_else(|| {
                format!(
                    "the run ran the shipped procedure {}, which this hascript does not ship",
                    quoted(name)
                )
            }),
    }
}

/// Every script name known: shipped ones and those on `HASCRIPT_PATH`.
pub fn all_names(search: &[PathBuf]) -> Vec<String> {
    let mut names: Vec<String> = shipped().iter().map(|(n, _)| n.to_string()).collect();
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>, depth: usize) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.filter_map(Result::ok) {
            let p = e.path();
            if p.is_dir() && depth < 4 {
                walk(base, &p, out, depth + 1);
            } else if p.extension().and_then(|x| x.to_str()) == Some("rhai") {
                if let Ok(rel) = p.with_extension("").strip_prefix(base) {
                    let n: Vec<String> = rel
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect();
                    out.push(n.join("/"));
                }
            }
        }
    }
    for d in search {
        walk(d, d, &mut names, 0);
    }
    names.sort();
    names.dedup();
    names
}

/// The edit distance of two names (one implementation for every "did you mean").
fn distance(a: &str, b: &str) -> usize {
    strsim::levenshtein(a, b)
}

/// Names close to `name` (edit distance, or sharing the last component), closest first:
/// the "did you mean" of procedures, scenarios, parse kinds and inventory keys.
pub fn close_names(name: &str, candidates: &[String]) -> Vec<String> {
    let last = name.rsplit('/').next().unwrap_or(name);
    let mut scored: Vec<(usize, &String)> = candidates
        .iter()
        .map(|c| {
            let clast = c.rsplit('/').next().unwrap_or(c);
            let d = distance(name, c).min(distance(last, clast));
            let d = if c.contains(last) || (!clast.is_empty() && last.contains(clast)) {
                d.min(1)
            } else {
                d
            };
            (d, c)
        })
        .filter(|(d, _)| *d <= 3.max(name.len() / 3))
        .collect();
    scored.sort();
    scored.into_iter().take(5).map(|(_, c)| c.clone()).collect()
}

/// `; did you mean: a, b?` for the names close to `name`, or nothing when none is.
pub fn did_you_mean(name: &str, candidates: &[String]) -> String {
    let close = close_names(name, candidates);
    if close.is_empty() {
        String::new()
    } else {
        format!("; did you mean: {}?", close.join(", "))
    }
}

/// Parse `-p key=value` arguments: every key follows [`PARAM_RULE`] and is given
/// once.
pub fn parse_params(raw: &[String]) -> Result<BTreeMap<String, String>, String> {
    use hascript_api::text::quoted;
    let mut out = BTreeMap::new();
    for p in raw {
        let Some((k, v)) = p.split_once('=') else {
            return Err(format!(
                "bad parameter {}: write -p key=value, e.g. -p guest=guest2",
                quoted(p)
            ));
        };
        if !valid_param_name(k) {
            return Err(format!(
                "bad parameter name {} in -p {}: a parameter name is {}",
                quoted(k),
                quoted(p),
                PARAM_RULE
            ));
        }
        if out.insert(k.to_string(), v.to_string()).is_some() {
            return Err(format!(
                "parameter {} is given more than once: give each parameter once",
                quoted(k)
            ));
        }
    }
    Ok(out)
}

/// Refuse parameters `script` does not declare in its `//! params:` line (a script without
/// one accepts any).
pub fn check_declared(params: &BTreeMap<String, String>, script: &Script) -> Result<(), String> {
    use hascript_api::text::quoted;
    let Some(declared) = meta(&script.text).params else {
        return Ok(());
    };
    let unknown: Vec<&str> = params
        .keys()
        .map(String::as_str)
        .filter(|k| !declared.iter().any(|d| d == k))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let what = if unknown.len() == 1 {
        format!("unknown parameter {}", quoted(unknown[0]))
    } else {
        format!(
            "unknown parameters {}",
            unknown
                .iter()
                .map(|k| quoted(k))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let takes = if declared.is_empty() {
        "it takes no parameters".to_string()
    } else {
        format!("it takes: {}", declared.join(", "))
    };
    Err(format!(
        "{what} for {}: {takes} (its `//! params:` line; see `hascript show {}`)",
        script.source_name, script.source_name
    ))
}

/// Refuse a run that lacks a parameter `script` requires (an entry of its `//! params:`
/// line not marked optional): checked before the banner and the journal, so a forgotten
/// `-p` never looks like a run.
pub fn check_required(params: &BTreeMap<String, String>, script: &Script) -> Result<(), String> {
    use hascript_api::text::quoted;
    let meta = meta(&script.text);
    let missing: Vec<&String> = meta
        .required
        .iter()
        .filter(|k| !params.contains_key(k.as_str()))
        .collect();
    let Some(first) = missing.first() else {
        return Ok(());
    };
    let what = if missing.len() == 1 {
        format!("missing parameter {}", quoted(first))
    } else {
        format!(
            "missing parameters {}",
            missing
                .iter()
                .map(|k| quoted(k))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let give = missing
        .iter()
        .map(|k| format!("-p {k}=VALUE"))
        .collect::<Vec<_>>()
        .join(" ");
    Err(format!(
        "{what} for {}: add {give} ({}; see `hascript show {}`)",
        script.source_name,
        params_summary(&meta),
        script.source_name
    ))
}

/// `required: a, b; optional: c` for a script's declared parameters (`hascript list` and
/// the missing-parameter error).
pub fn params_summary(meta: &ScriptMeta) -> String {
    let Some(all) = &meta.params else {
        return "parameters not declared".into();
    };
    if all.is_empty() {
        return "no parameters".into();
    }
    let optional: Vec<&str> = all
        .iter()
        .filter(|n| !meta.required.contains(n))
        .map(String::as_str)
        .collect();
    let mut parts = Vec::new();
    if !meta.required.is_empty() {
        parts.push(format!("required: {}", meta.required.join(", ")));
    }
    if !optional.is_empty() {
        parts.push(format!("optional: {}", optional.join(", ")));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_need_an_equals_sign() {
        let ok = parse_params(&["guest=cfguest2".into(), "note=a=b".into()]);
        assert_eq!(ok.as_ref().map(|m| m["note"].as_str()), Ok("a=b"));
        assert!(parse_params(&["guest".into()]).is_err());
        assert!(parse_params(&["=x".into()]).is_err());
    }

    #[test]
    fn params_keys_follow_the_rule_and_come_once() {
        for bad in ["1x=a", "a-b=c", " guest=x", "gu est=x", "guest;id=x"] {
            let e = parse_params(&[bad.into()]).err().unwrap_or_default();
            assert!(e.contains("[A-Za-z_][A-Za-z0-9_]*"), "{bad}: {e}");
        }
        let e = parse_params(&["guest=a".into(), "target=b".into(), "guest=c".into()])
            .err()
            .unwrap_or_default();
        assert!(
            e.contains("\"guest\"") && e.contains("more than once"),
            "{e}"
        );
        for long in [format!("{}-=x", "k".repeat(100_000)), "k".repeat(100_000)] {
            let e = parse_params(&[long]).err().unwrap_or_default();
            assert!(e.len() < 400 && e.contains('…'), "{} bytes", e.len());
        }
        let k = "k".repeat(100_000);
        let e = parse_params(&[format!("{k}=1"), format!("{k}=2")])
            .err()
            .unwrap_or_default();
        assert!(e.len() < 400 && e.contains('…'), "{} bytes", e.len());
    }

    #[test]
    fn declared_params_are_enforced() {
        let script = |text: &str| Script {
            source_name: "t".into(),
            text: text.into(),
            path: None,
            origin: Origin::Shipped,
            shadowed: None,
        };
        let params = |kv: &[&str]| {
            parse_params(&kv.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap_or_default()
        };
        let declared = script("//! params: guest (optional: a, b)\nprint(1);");
        assert!(check_declared(&params(&["guest=g"]), &declared).is_ok());
        assert!(check_declared(&params(&[]), &declared).is_ok());
        let e = check_declared(&params(&["guest=g", "target=x"]), &declared)
            .err()
            .unwrap_or_default();
        assert!(
            e.contains("unknown parameter \"target\"") && e.contains("it takes: guest"),
            "{e}"
        );
        let none = script("//! params: (none)\nprint(1);");
        let e = check_declared(&params(&["a=1", "b=2"]), &none)
            .err()
            .unwrap_or_default();
        assert!(
            e.contains("\"a\", \"b\"") && e.contains("no parameters"),
            "{e}"
        );
        let free = script("print(1);");
        assert!(check_declared(&params(&["anything=1"]), &free).is_ok());
    }

    #[test]
    fn reads_metadata_lines() {
        let m = meta("//! title: Live migration\n//! section: 17.3.1 Live migration\n//! params: guest, target\n\nlet x = 1;\n//! title: ignored");
        assert_eq!(m.title.as_deref(), Some("Live migration"));
        assert_eq!(m.section.as_deref(), Some("17.3.1 Live migration"));
        assert_eq!(
            m.params,
            Some(vec!["guest".to_string(), "target".to_string()])
        );
        assert_eq!(meta("let x = 1;"), ScriptMeta::default());
    }

    #[test]
    fn param_names() {
        for n in ["guest", "_x", "a1_b"] {
            assert!(valid_param_name(n), "{n}");
        }
        for n in ["", "1a", "a-b", "a b", "gu\u{e9}st", "a=b"] {
            assert!(!valid_param_name(n), "{n}");
        }
    }

    #[test]
    fn params_are_the_first_word_of_each_entry() {
        let p = |line: &str| meta(line).params;
        assert_eq!(
            p("//! params: guest, target (optional: checked, against where it runs)"),
            Some(vec!["guest".to_string(), "target".to_string()])
        );
        assert_eq!(
            p("//! params: guest (optional: the guest)"),
            Some(vec!["guest".to_string()])
        );
        let m = meta("//! params: package, node?, method? (a|b), when (optional: a time)");
        assert_eq!(
            m.params,
            Some(vec![
                "package".to_string(),
                "node".to_string(),
                "method".to_string(),
                "when".to_string()
            ])
        );
        assert_eq!(m.required, vec!["package".to_string()]);
        assert_eq!(p("//! params: (none)"), Some(Vec::new()));
        assert_eq!(p("//! params:"), Some(Vec::new()));
        assert_eq!(p("//! title: x"), None);
        for (name, text) in shipped() {
            if !name.starts_with("lib/") {
                let params = meta(text).params.unwrap_or_default();
                assert!(
                    params.iter().all(|n| valid_param_name(n)),
                    "{name}: {params:?}"
                );
            }
        }
    }

    #[test]
    fn shipped_required_parameters_are_those_the_scripts_require() {
        // A required parameter is one the script refuses to run without
        // (`!("x" in params)`); one it tests for (`if "x" in params`) is optional.
        for (name, text) in shipped() {
            if name.starts_with("lib/") {
                continue;
            }
            let m = meta(text);
            let Some(all) = &m.params else {
                panic!("{name}: no //! params: line");
            };
            for p in all {
                let refused = text.contains(&format!("!(\"{p}\" in params)"));
                let tested = text.matches(&format!("\"{p}\" in params")).count()
                    > text.matches(&format!("!(\"{p}\" in params)")).count();
                let required = m.required.contains(p);
                if required {
                    assert!(refused && !tested, "{name}: {p} is marked required");
                } else {
                    assert!(tested || !refused, "{name}: {p} is marked optional");
                }
            }
        }
    }

    #[test]
    fn names_and_close_names() {
        assert!(valid_name("ldoms/live-migration"));
        assert!(!valid_name("../x"));
        assert!(!valid_name("/etc/x"));
        assert!(!valid_name("a//b"));
        let c = vec![
            "ldoms/live-migration".to_string(),
            "ldoms/pre-migration".to_string(),
            "ldoms/verify-fence".to_string(),
        ];
        let close = close_names("ldoms/live-migraton", &c);
        assert_eq!(
            close.first().map(String::as_str),
            Some("ldoms/live-migration")
        );
        assert!(close_names("zzzzzzzz/qqq", &c).is_empty());
    }

    #[test]
    fn a_path_is_written_as_one() {
        for a in [
            "./x",
            "../x",
            "/srv/x",
            "x.rhai",
            "ldoms/live-migration.rhai",
            ".",
        ] {
            assert!(is_path_arg(a), "{a}");
        }
        for a in ["ldoms/live-migration", "mine", "lib/helpers"] {
            assert!(!is_path_arg(a), "{a}");
        }
        // A name ending in .rhai is a file, not the shipped procedure.
        assert!(find("ldoms/live-migration.rhai", &[]).is_none());
        let s = find("ldoms/live-migration", &[]);
        assert_eq!(s.map(|s| s.origin_label()).as_deref(), Some("shipped"));
    }

    #[test]
    fn search_path_overrides_shipped() {
        let dir = tempfile::tempdir().map_err(|e| e.to_string());
        let dir = match dir {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        };
        let sub = dir.path().join("ldoms");
        assert!(std::fs::create_dir_all(&sub).is_ok());
        assert!(std::fs::write(sub.join("mine.rhai"), "40 + 2").is_ok());
        let s = find("ldoms/mine", &[dir.path().to_path_buf()]);
        assert_eq!(s.as_ref().map(|s| s.text.as_str()), Some("40 + 2"));
        assert!(s.and_then(|s| s.path).is_some());
        assert!(find("ldoms/../mine", &[dir.path().to_path_buf()]).is_none());
        assert!(all_names(&[dir.path().to_path_buf()]).contains(&"ldoms/mine".to_string()));
    }

    #[test]
    fn a_loaded_script_is_found_again_the_same_way_and_its_latest_record_counts() {
        let dir = tempfile::tempdir().expect("tempdir");
        let search = vec![dir.path().to_path_buf()];
        let module = dir.path().join("lib").join("m.rhai");
        std::fs::create_dir_all(module.parent().expect("parent")).expect("folder");
        std::fs::write(&module, "fn f() { 1 }\n").expect("write");
        let beside = dir.path().join("helper.rhai");
        std::fs::write(&beside, "fn h() { 1 }\n").expect("write");
        let found = find("lib/m", &search).expect("on HASCRIPT_PATH");
        let m = Loaded::of("lib/m", LoadKind::Module, &found);
        assert_eq!(m.origin, Origin::SearchPath);
        let h = Loaded {
            name: "helper".into(),
            kind: LoadKind::Module,
            origin: Origin::File,
            path: Some(beside.clone()),
            sha256: sha256_hex(b"fn h() { 1 }\n"),
        };
        let shipped = find("ldoms/recover-migration", &[]).expect("shipped");
        let r = Loaded::of("ldoms/recover-migration", LoadKind::Routine, &shipped);
        assert_eq!((r.origin.clone(), r.path.clone()), (Origin::Shipped, None));
        let all = [m.clone(), h.clone(), r.clone()];
        assert!(changed_since(&all, &search).is_empty());
        // Edited: named, with the hash it has now.
        std::fs::write(&module, "fn f() { 2 }\n").expect("write");
        let c = changed_since(&all, &search);
        assert_eq!(c.len(), 1, "{c:?}");
        assert!(
            c[0].line().contains("module lib/m (HASCRIPT_PATH: "),
            "{}",
            c[0].line()
        );
        assert!(
            c[0].line().contains(&sha256_hex(b"fn f() { 2 }\n")),
            "{}",
            c[0].line()
        );
        // A later record of the same script (a continuation that accepted it) counts.
        let newer = Loaded::of(
            "lib/m",
            LoadKind::Module,
            &find("lib/m", &search).expect("found"),
        );
        assert!(changed_since(&[m.clone(), newer], &search).is_empty());
        // Gone: named as missing. A file beside its importer is read at its recorded path.
        std::fs::remove_file(&beside).expect("remove");
        let c = changed_since(&[h], &search);
        assert!(c.len() == 1 && c[0].now.is_err(), "{c:?}");
        // An override appearing on HASCRIPT_PATH for a shipped procedure is a change too.
        let over = dir.path().join("ldoms").join("recover-migration.rhai");
        std::fs::create_dir_all(over.parent().expect("parent")).expect("folder");
        std::fs::write(&over, "// site copy\n").expect("write");
        assert_eq!(changed_since(&[r], &search).len(), 1);
    }
}
