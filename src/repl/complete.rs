//! Tab completion: what may follow the text before the cursor. The core
//! ([`candidates`]) is a pure function over [`Known`], what the session knows (the API
//! from the engine's metadata, its variables, the site's hosts, the shipped procedures);
//! [`TabCompleter`] is the linefeed glue.

use std::sync::{Arc, Mutex};

use linefeed::{Function, Prompter, Terminal};

use crate::docs::{Api, Form};

/// The REPL's commands, as completed after `:`.
pub const COMMANDS: [&str; 10] = [
    ":help",
    ":json",
    ":run",
    ":load",
    ":save",
    ":sim",
    ":inventory",
    ":scenarios",
    ":vars",
    ":quit",
];

/// Rhai keywords offered with the names.
const KEYWORDS: [&str; 22] = [
    "let", "const", "fn", "if", "else", "for", "in", "while", "loop", "do", "until", "break",
    "continue", "return", "throw", "try", "catch", "switch", "import", "export", "true", "false",
];

/// Methods of Rhai's arrays offered after `array.`.
const ARRAY_METHODS: [&str; 18] = [
    "all", "contains", "filter", "find", "index_of", "is_empty", "len", "map", "pop", "push",
    "reduce", "retain", "reverse", "some", "sort", "split", "drain", "for_each",
];

/// Methods of Rhai's maps offered after `map.` (with its keys).
const MAP_METHODS: [&str; 6] = ["contains", "is_empty", "keys", "len", "remove", "values"];

/// What a session variable holds, as far as completion cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// One of hascript's script types (`Host`, `PackageConf`, `Fence` …).
    Type(String),
    /// A map with these keys.
    Map(Vec<String>),
    /// An array.
    Array,
    /// Anything else (numbers, strings …).
    Other,
}

/// The names a string argument of a call takes (`hypervisor.guest("…`, `host("…`,
/// `package.status("…`, `cluster.node("…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameKind {
    /// Inventory host names (`host(name)`, `configs(host)`, a migration's `target`).
    Host,
    /// Guest (domain, VM) names as the hypervisor lists them.
    Guest,
    /// Package (userApplication) names as the cluster lists them.
    Package,
    /// Cluster node names (`cfguest1`).
    ClusterNode,
}

/// Where completion gets the site's names of guests, packages and cluster nodes: read from
/// the site the first time they are needed, then kept for the session (a completion must
/// not send a command at every key, and never one that changes anything).
pub trait SiteNames: Send + Sync + std::fmt::Debug {
    /// The names of `kind`, sorted or in the site's order (empty when they cannot be read).
    fn names(&self, kind: NameKind) -> Vec<String>;
}

/// Which names parameter `param` of `func` (in `group`: `hypervisor`, `package`,
/// `functions` …) takes, from the parameter names of the API's metadata; `None` for a
/// string that is no name (a pattern, a key, a command).
pub fn name_kind(group: &str, func: &str, param: &str) -> Option<NameKind> {
    match (group, func, param) {
        (_, _, "guest") => Some(NameKind::Guest),
        (_, _, "host" | "target") => Some(NameKind::Host),
        ("package", _, "node") => Some(NameKind::Host),
        ("functions", "host", "name") => Some(NameKind::Host),
        ("hypervisor", "guest", "name") => Some(NameKind::Guest),
        ("package", _, "name") => Some(NameKind::Package),
        ("cluster", "node" | "wait_node_state", "name") => Some(NameKind::ClusterNode),
        _ => None,
    }
}

/// When `text` ends inside a string literal that is an argument of a call: where the
/// string's text starts, the text before the call's `(` and the argument's position.
/// `None` outside a string; `Some((start, None))` in a string that is no call's argument.
fn string_argument(text: &str) -> Option<(usize, Option<(&str, usize)>)> {
    // Open brackets: (bracket, byte position, commas seen at its level).
    let mut open: Vec<(char, usize, usize)> = Vec::new();
    let mut string: Option<(char, usize)> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if let Some((q, _)) = string {
            if c == '\\' && q != '`' {
                chars.next();
            } else if c == q {
                string = None;
            }
            continue;
        }
        match c {
            '"' | '`' | '\'' => string = Some((c, i + c.len_utf8())),
            '(' | '[' | '{' => open.push((c, i, 0)),
            ')' | ']' | '}' => {
                open.pop();
            }
            ',' => {
                if let Some(top) = open.last_mut() {
                    top.2 += 1;
                }
            }
            '/' if chars.peek().is_some_and(|(_, n)| *n == '/') => return None,
            _ => {}
        }
    }
    let (_, start) = string?;
    match open.last() {
        Some(('(', pos, n)) => Some((start, Some((&text[..*pos], *n)))),
        _ => Some((start, None)),
    }
}

/// The names that fit the string argument at the end of `text`, if it is one that takes
/// names: where the name starts and the candidates.
fn argument_names(known: &Known, text: &str) -> Option<(usize, Vec<String>)> {
    let (start, call) = string_argument(text)?;
    let word = &text[start..];
    let Some((head, index)) = call else {
        return Some((text.len(), Vec::new()));
    };
    let head = head.trim_end();
    let func: String = head
        .chars()
        .rev()
        .take_while(|c| is_ident(*c))
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let api = known.api.as_deref()?;
    let rest = &head[..head.len() - func.len()];
    let group = match rest.trim_end().strip_suffix('.') {
        Some(recv) => match receiver_shape(known, recv) {
            Shape::Type(t) => api.of_type(&t),
            _ => None,
        },
        None => api.group("functions"),
    };
    let kind = group.and_then(|g| {
        g.functions
            .iter()
            .filter(|f| f.name == func && f.params.len() > index)
            .find_map(|f| name_kind(&g.key, &func, &f.params[index].0))
    });
    let names = match kind {
        None => Vec::new(),
        Some(NameKind::Host) => known.hosts.clone(),
        Some(k) => known.names.as_ref().map(|n| n.names(k)).unwrap_or_default(),
    };
    Some((start, prefixed(names, word)))
}

/// What completion knows about the session.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// The API (objects, types, functions).
    pub api: Option<Arc<Api>>,
    /// The session's variables, the globals among them (`site`, `params` as maps).
    pub vars: Vec<(String, Shape)>,
    /// Functions the session defined with `fn`.
    pub fns: Vec<String>,
    /// The site's inventory host names.
    pub hosts: Vec<String>,
    /// Shipped procedures and the parameters their `//! params:` line declares.
    pub procedures: Vec<(String, Vec<String>)>,
    /// Simulator sites and scenarios (`:sim NAME`).
    pub scenarios: Vec<String>,
    /// The site's guest, package and cluster node names (read once, when first needed).
    pub names: Option<Arc<dyn SiteNames>>,
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn prefixed(items: impl IntoIterator<Item = String>, word: &str) -> Vec<String> {
    let mut v: Vec<String> = items.into_iter().filter(|s| s.starts_with(word)).collect();
    v.sort();
    v.dedup();
    v
}

/// File names for `:load`, `:save`, `:inventory`.
fn paths(word: &str) -> Vec<String> {
    let mut v: Vec<String> = linefeed::complete::complete_path(word)
        .into_iter()
        .map(|c| c.completion)
        .collect();
    v.sort();
    v
}

/// The type of what the text before a `.` evaluates to: a global object, a variable's, or
/// the return type of the call it ends with (`host("cd1")` is a `Host`).
fn receiver_shape(known: &Known, before: &str) -> Shape {
    let api = known.api.as_deref();
    let before = before.trim_end();
    if let Some(inner) = before.strip_suffix(')') {
        // Find the matching `(`, then the function name before it.
        let mut depth = 1usize;
        let mut open = None;
        for (i, c) in inner.char_indices().rev() {
            match c {
                ')' => depth += 1,
                '(' => {
                    depth -= 1;
                    if depth == 0 {
                        open = Some(i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(open) = open else {
            return Shape::Other;
        };
        let head = &inner[..open];
        let name: String = head
            .chars()
            .rev()
            .take_while(|c| is_ident(*c))
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let Some(api) = api else {
            return Shape::Other;
        };
        let rest = &head[..head.len() - name.len()];
        // `recv.name(…)`: a method of what `recv` is; `name(…)`: a global function.
        let group = match rest.strip_suffix('.') {
            Some(recv) => match receiver_shape(known, recv) {
                Shape::Type(t) => api.of_type(&t),
                _ => None,
            },
            None => api.group("functions"),
        };
        let ret = group
            .and_then(|g| {
                g.functions
                    .iter()
                    .find(|f| f.name == name && f.form != Form::Property)
            })
            .map(|f| f.ret.clone())
            .unwrap_or_default();
        return match ret.as_str() {
            "Map" => Shape::Map(Vec::new()),
            "Array" => Shape::Array,
            t if api.of_type(t).is_some() => Shape::Type(t.to_string()),
            _ => Shape::Other,
        };
    }
    let chain: String = before
        .chars()
        .rev()
        .take_while(|c| is_ident(*c) || *c == '.')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let mut parts = chain.split('.');
    let first = parts.next().unwrap_or_default();
    let mut shape = if let Some(g) = api
        .and_then(|a| a.group(first))
        .filter(|g| g.receiver == first)
    {
        Shape::Type(g.type_name.clone().unwrap_or_default())
    } else {
        known
            .vars
            .iter()
            .rev()
            .find(|(n, _)| n == first)
            .map(|(_, s)| s.clone())
            .unwrap_or(Shape::Other)
    };
    for part in parts {
        // `a.b.` : only a property of a script type gives a known type.
        shape = match &shape {
            Shape::Type(t) => api
                .and_then(|a| a.of_type(t))
                .and_then(|g| g.named(part).first().map(|f| f.ret.clone()))
                .map(|r| match r.as_str() {
                    "Map" => Shape::Map(Vec::new()),
                    "Array" => Shape::Array,
                    t if api.and_then(|a| a.of_type(t)).is_some() => Shape::Type(t.into()),
                    _ => Shape::Other,
                })
                .unwrap_or(Shape::Other),
            _ => Shape::Other,
        };
    }
    shape
}

fn members(known: &Known, shape: &Shape) -> Vec<String> {
    match shape {
        Shape::Type(t) => known
            .api
            .as_deref()
            .and_then(|a| a.of_type(t))
            .map(|g| g.names().into_iter().map(String::from).collect())
            .unwrap_or_default(),
        Shape::Map(keys) => keys
            .iter()
            .cloned()
            .chain(MAP_METHODS.iter().map(|s| s.to_string()))
            .collect(),
        Shape::Array => ARRAY_METHODS.iter().map(|s| s.to_string()).collect(),
        Shape::Other => Vec::new(),
    }
}

/// Completions of the text `line[..cursor]`: where the completed word starts and the
/// candidates for it (sorted, no duplicates).
pub fn candidates(known: &Known, line: &str, cursor: usize) -> (usize, Vec<String>) {
    let cursor = cursor.min(line.len());
    let text = match line.get(..cursor) {
        Some(t) => t,
        None => return (cursor, Vec::new()),
    };
    let api = known.api.as_deref();
    let trimmed = text.trim_start();
    let lead = text.len() - trimmed.len();

    // REPL commands.
    if trimmed.starts_with(':') {
        let Some(space) = trimmed.find(char::is_whitespace) else {
            return (
                lead,
                prefixed(COMMANDS.iter().map(|s| s.to_string()), trimmed),
            );
        };
        let cmd = &trimmed[..space];
        let args = &trimmed[space..];
        let word_start = text.rfind(char::is_whitespace).map_or(0, |i| i + 1);
        let word = &text[word_start..];
        let words: Vec<&str> = args.split_whitespace().collect();
        let first_arg =
            words.len() <= 1 && !args.ends_with(char::is_whitespace) || words.is_empty();
        let list = match cmd {
            ":help" | ":h" if first_arg => {
                let mut all: Vec<String> = COMMANDS.iter().map(|s| s.to_string()).collect();
                if let Some(api) = api {
                    for g in &api.groups {
                        all.push(g.key.clone());
                        let pre = if g.key == "functions" {
                            String::new()
                        } else {
                            format!("{}.", g.key)
                        };
                        all.extend(g.names().into_iter().map(|n| format!("{pre}{n}")));
                    }
                }
                prefixed(all, word)
            }
            ":run" if first_arg => prefixed(known.procedures.iter().map(|(n, _)| n.clone()), word),
            ":run" => {
                if word.contains('=') {
                    Vec::new()
                } else {
                    let given: Vec<&str> = words
                        .iter()
                        .skip(1)
                        .filter_map(|w| w.split_once('=').map(|(k, _)| k))
                        .collect();
                    let params = known
                        .procedures
                        .iter()
                        .find(|(n, _)| Some(&n.as_str()) == words.first())
                        .map(|(_, p)| p.clone())
                        .unwrap_or_default();
                    let mut v: Vec<String> = params
                        .into_iter()
                        .filter(|p| !given.contains(&p.as_str()))
                        .map(|p| format!("{p}="))
                        .chain(std::iter::once("--yes".to_string()))
                        .collect();
                    v.retain(|s| s.starts_with(word));
                    v
                }
            }
            ":sim" if first_arg => prefixed(known.scenarios.iter().cloned(), word),
            ":load" | ":save" | ":inventory" if first_arg => paths(word),
            _ => Vec::new(),
        };
        return (word_start, list);
    }

    // A name inside a call that takes one: `host("…`, `hypervisor.guest("…`,
    // `package.status("…`; inside any other string, nothing.
    if let Some((start, list)) = argument_names(known, text) {
        return (start.min(cursor), list);
    }

    // `receiver.partial`: the members of what the receiver is.
    let wstart = text
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_ident(*c))
        .last()
        .map_or(text.len(), |(i, _)| i);
    let word = &text[wstart..];
    if text[..wstart].ends_with('.') {
        let shape = receiver_shape(known, &text[..wstart - 1]);
        return (wstart, prefixed(members(known, &shape), word));
    }
    if word.is_empty() || word.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        return (cursor, Vec::new());
    }
    let mut all: Vec<String> = KEYWORDS.iter().map(|s| s.to_string()).collect();
    all.extend(known.vars.iter().map(|(n, _)| n.clone()));
    all.extend(known.fns.iter().cloned());
    if let Some(api) = api {
        for g in &api.groups {
            if g.key == "functions" {
                all.extend(g.names().into_iter().map(String::from));
            } else if api.group(&g.receiver).is_some_and(|x| x.key == g.key) {
                // The objects' globals (`cluster`, `fence` …).
                all.push(g.receiver.clone());
            }
        }
    }
    (wstart, prefixed(all, word))
}

/// The longest common prefix of `items`.
pub fn common_prefix(items: &[String]) -> String {
    let Some(first) = items.first() else {
        return String::new();
    };
    let mut n = first.len();
    for s in &items[1..] {
        n = n.min(
            first
                .char_indices()
                .zip(s.chars())
                .take_while(|((_, a), b)| a == b)
                .last()
                .map_or(0, |((i, a), _)| i + a.len_utf8()),
        );
    }
    first[..n].to_string()
}

/// Lay `items` out in columns no wider than `width`.
pub fn columns(items: &[String], width: usize) -> String {
    let w = items.iter().map(|s| s.chars().count()).max().unwrap_or(0) + 2;
    let per_line = (width.max(w) / w).max(1);
    items
        .chunks(per_line)
        .map(|row| {
            row.iter()
                .map(|s| format!("{s:w$}"))
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The Tab key: one candidate is inserted; several insert their common prefix, or — when
/// that adds nothing — are listed under the prompt at once (no second Tab needed).
pub struct TabCompleter {
    /// What the session knows, refreshed after every input.
    pub known: Arc<Mutex<Known>>,
}

impl<Term: Terminal> Function<Term> for TabCompleter {
    fn execute(
        &self,
        prompter: &mut Prompter<Term>,
        _count: i32,
        _ch: char,
    ) -> std::io::Result<()> {
        let line = prompter.buffer().to_string();
        let cursor = prompter.cursor();
        let (start, list) = {
            let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
            candidates(&known, &line, cursor)
        };
        if list.is_empty() || start > cursor {
            return Ok(());
        }
        let word = &line[start..cursor];
        if list.len() == 1 {
            return prompter.replace_str_forward(start..cursor, &list[0]);
        }
        let prefix = common_prefix(&list);
        if prefix.len() > word.len() {
            return prompter.replace_str_forward(start..cursor, &prefix);
        }
        let width = prompter.screen_size().columns;
        let mut w = prompter.writer_append()?;
        w.write_str(&columns(&list, width.max(20)))?;
        w.write_str("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Known {
        Known {
            api: Some(Arc::new(Api::offline())),
            vars: vec![
                (
                    "site".into(),
                    Shape::Map(vec!["driver".into(), "hosts".into()]),
                ),
                ("guests".into(), Shape::Array),
                ("h".into(), Shape::Type("Host".into())),
                (
                    "gmap".into(),
                    Shape::Map(vec!["name".into(), "state".into()]),
                ),
            ],
            fns: vec!["where_is".into()],
            hosts: vec!["cd1".into(), "cd2".into(), "guest1".into()],
            procedures: vec![(
                "ldoms/live-migration".into(),
                vec!["guest".into(), "target".into()],
            )],
            scenarios: vec!["ldoms".into(), "hpvm".into()],
            names: Some(Arc::new(Fixed::default())),
        }
    }

    /// Names of a site, counting the questions.
    #[derive(Debug, Default)]
    struct Fixed {
        asked: Mutex<Vec<NameKind>>,
    }

    impl SiteNames for Fixed {
        fn names(&self, kind: NameKind) -> Vec<String> {
            self.asked
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(kind);
            let v: &[&str] = match kind {
                NameKind::Host => &["never-asked"],
                NameKind::Guest => &["guest1", "guest2", "vmx"],
                NameKind::Package => &["slvm1", "slvm2", "other"],
                NameKind::ClusterNode => &["cfguest1", "cfguest2"],
            };
            v.iter().map(|s| s.to_string()).collect()
        }
    }

    fn at_end(k: &Known, line: &str) -> (usize, Vec<String>) {
        candidates(k, line, line.len())
    }

    #[test]
    fn names_complete_from_globals_functions_and_variables() {
        let k = known();
        assert_eq!(at_end(&k, "fen"), (0, vec!["fence".to_string()]));
        assert_eq!(at_end(&k, "let x = hyp").1, vec!["hypervisor"]);
        assert!(at_end(&k, "wa").1.contains(&"wait_until".to_string()));
        assert_eq!(at_end(&k, "gue").1, vec!["guests"]);
        assert_eq!(at_end(&k, "where").1, vec!["where_is"]);
        assert_eq!(at_end(&k, "pack").1, vec!["package", "package_conf"]);
        assert!(at_end(&k, "").1.is_empty());
    }

    #[test]
    fn members_follow_the_receiver_type() {
        let k = known();
        let (start, fence) = at_end(&k, "fence.");
        assert_eq!(start, 6);
        // The object's methods and the drivers' operations on it (the operation table).
        assert_eq!(
            fence,
            vec![
                "agents",
                "check_agents",
                "check_xscf_host_keys",
                "config",
                "start",
                "stop",
                "verify"
            ]
        );
        assert_eq!(at_end(&k, "fence.ver").1, vec!["verify"]);
        assert_eq!(at_end(&k, "h.r").1, vec!["run"]);
        assert_eq!(at_end(&k, "host(\"cd1\").s").1, vec!["sh"]);
        assert!(at_end(&k, "package.config(\"x\").se")
            .1
            .contains(&"set".to_string()));
        assert!(at_end(&k, "gmap.").1.contains(&"state".to_string()));
        assert!(at_end(&k, "site.d").1 == vec!["driver"]);
        assert!(at_end(&k, "guests.fi").1.contains(&"filter".to_string()));
        assert!(at_end(&k, "nothing_known.").1.is_empty());
    }

    #[test]
    fn host_names_inside_host_calls() {
        let k = known();
        assert_eq!(
            at_end(&k, "host(\"c"),
            (6, vec!["cd1".into(), "cd2".into()])
        );
        assert_eq!(at_end(&k, "let g = host(\"gu").1, vec!["guest1"]);
        assert!(at_end(&k, "info(\"c").1.is_empty());
    }

    #[test]
    fn guest_package_host_and_node_names_inside_the_calls_that_take_them() {
        let fixed = Arc::new(Fixed::default());
        let mut k = known();
        k.names = Some(fixed.clone());
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            at_end(&k, "hypervisor.guest(\"gu"),
            (18, s(&["guest1", "guest2"]))
        );
        assert_eq!(at_end(&k, "package.status(\"sl").1, s(&["slvm1", "slvm2"]));
        assert_eq!(at_end(&k, "let x = host(\"cd").1, s(&["cd1", "cd2"]));
        assert_eq!(
            at_end(&k, "hypervisor.stop(\"").1,
            s(&["guest1", "guest2", "vmx"])
        );
        // The second argument: a migration's target is a host.
        assert_eq!(
            at_end(&k, "hypervisor.migrate(\"guest2\", \"c").1,
            s(&["cd1", "cd2"])
        );
        assert_eq!(
            at_end(&k, "package.enable_node(\"slvm1\", \"cd").1,
            s(&["cd1", "cd2"])
        );
        assert_eq!(
            at_end(&k, "cluster.node(\"cfguest").1,
            s(&["cfguest1", "cfguest2"])
        );
        assert_eq!(
            at_end(&k, "package.appmon_server_keys(\"g").1,
            s(&["guest1", "guest2"])
        );
        // Through a variable holding an object, and nested in another call.
        assert_eq!(
            at_end(
                &k,
                "info(hypervisor.guest(\"guest1\").name + package.status(\"o"
            )
            .1,
            s(&["other"])
        );
        let asked_before = fixed.asked.lock().map(|a| a.len()).unwrap_or(0);
        // Strings that hold no name: nothing, and the site is not asked.
        for line in [
            "info(\"gu",
            "cluster.messages(\"7",
            "hypervisor.remove_config(\"cd1\", \"con",
            "package.config(\"slvm1\").get(\"TK",
            "let s = \"package.status(\\\"sl",
        ] {
            assert!(at_end(&k, line).1.is_empty(), "{line}");
        }
        let commented = at_end(&k, "// hypervisor.guest(\"gu").1;
        assert!(!commented.contains(&"guest1".to_string()), "{commented:?}");
        let asked = fixed.asked.lock().map(|a| a.clone()).unwrap_or_default();
        assert_eq!(
            asked.len(),
            asked_before,
            "asked for names outside a name argument: {asked:?}"
        );
    }

    #[test]
    fn commands_procedures_and_parameters() {
        let k = known();
        assert_eq!(at_end(&k, ":he").1, vec![":help"]);
        assert_eq!(at_end(&k, ":run ld").1, vec!["ldoms/live-migration"]);
        assert_eq!(
            at_end(&k, ":run ldoms/live-migration ").1,
            vec!["guest=", "target=", "--yes"]
        );
        assert_eq!(
            at_end(&k, ":run ldoms/live-migration guest=guest2 t").1,
            vec!["target="]
        );
        assert!(at_end(&k, ":help fence.v")
            .1
            .contains(&"fence.verify".to_string()));
        assert_eq!(at_end(&k, ":sim h").1, vec!["hpvm"]);
    }

    #[test]
    fn odd_inputs_never_panic() {
        let k = known();
        for line in [
            "",
            ".",
            "..",
            "(",
            ")",
            "\"",
            "host(\"",
            "é.",
            "fence.é",
            ":",
            ": ",
            ":run  ",
            "))).",
            "a.b.c.d.",
            "host(\"cd1\")).",
            "#{a: 1}.",
            "\u{1F600}",
            ":help ..",
        ] {
            for cut in 0..=line.len() {
                let _ = candidates(&k, line, cut);
            }
        }
    }

    #[test]
    fn common_prefix_and_columns() {
        let v: Vec<String> = vec!["fence.verify".into(), "fence.vx".into()];
        assert_eq!(common_prefix(&v), "fence.v");
        assert_eq!(
            columns(&["a".into(), "bb".into(), "c".into()], 8),
            "a   bb\nc"
        );
    }
}
