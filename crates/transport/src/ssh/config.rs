//! The user's OpenSSH client configuration (`~/.ssh/config`): the subset hascript honours.
//!
//! Read: `Host` blocks (patterns with `*`, `?` and `!` negation), `Match all`, `Include`,
//! and the keywords `HostName`, `User`, `Port`, `IdentityFile`, `IdentitiesOnly`,
//! `IdentityAgent`, `ConnectTimeout`, `HostKeyAlias`, `UserKnownHostsFile`, `ProxyJump`
//! (followed, see [`super::jump`]) and `ProxyCommand` (refused by the caller). As in OpenSSH, the first value obtained for a keyword wins, except
//! `IdentityFile`, which accumulates. Other `Match` criteria cannot be evaluated here: such
//! blocks apply to no host. Every other keyword is ignored.
//!
//! Parsing is a pure function ([`parse`]); [`SshConfig::resolve`] applies it to one host.

use std::path::{Path, PathBuf};

/// One `Keyword value…` line with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Setting {
    keyword: String,
    args: Vec<String>,
    file: String,
    line: usize,
}

/// Which hosts a block applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Criteria {
    /// Lines before the first `Host`/`Match`, and `Match all`.
    All,
    /// `Host` patterns.
    Host(Vec<String>),
    /// A `Match` hascript cannot evaluate: applies to no host.
    Never,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Block {
    criteria: Criteria,
    settings: Vec<Setting>,
}

/// A parsed configuration (possibly several files through `Include`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SshConfig {
    blocks: Vec<Block>,
}

/// A `ProxyJump` or `ProxyCommand` line (whichever came first), with where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxySetting {
    /// `ProxyJump` or `ProxyCommand`.
    pub keyword: String,
    /// Its value.
    pub value: String,
    /// `file:line`.
    pub at: String,
}

/// What the configuration says about one host.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HostSettings {
    /// `HostName` (with `%h` expanded).
    pub hostname: Option<String>,
    /// `User`.
    pub user: Option<String>,
    /// `Port`.
    pub port: Option<u16>,
    /// `IdentityFile`s in order (`~` and `%d %u %r %h %%` expanded).
    pub identity_files: Vec<PathBuf>,
    /// `IdentitiesOnly yes`.
    pub identities_only: bool,
    /// `IdentityAgent none`.
    pub no_agent: bool,
    /// `ConnectTimeout` in seconds.
    pub connect_timeout: Option<u64>,
    /// `HostKeyAlias`.
    pub host_key_alias: Option<String>,
    /// `UserKnownHostsFile` (replaces `~/.ssh/known_hosts` when given).
    pub user_known_hosts: Vec<PathBuf>,
    /// `ProxyJump`/`ProxyCommand` other than `none`.
    pub proxy: Option<ProxySetting>,
    /// Values that could not be read (`file:line: what`), reported by the caller.
    pub problems: Vec<String>,
}

/// Split a line into words: whitespace separated, `"…"` quoting, and an optional `=`
/// between the keyword and its first argument.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                in_word = true;
            }
            c if !quoted && (c.is_whitespace() || (c == '=' && out.is_empty())) => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

/// Parse one configuration file's text. `include` resolves an `Include` argument to the
/// texts of the files it names (`(name, text)` pairs); `depth` stops include loops.
fn parse_into(
    blocks: &mut Vec<Block>,
    file: &str,
    text: &str,
    include: &dyn Fn(&str) -> Vec<(String, String)>,
    depth: usize,
) {
    if blocks.is_empty() {
        blocks.push(Block {
            criteria: Criteria::All,
            settings: Vec::new(),
        });
    }
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let w = words(line);
        let Some((kw, args)) = w.split_first() else {
            continue;
        };
        let keyword = kw.to_ascii_lowercase();
        match keyword.as_str() {
            "host" => blocks.push(Block {
                criteria: Criteria::Host(args.to_vec()),
                settings: Vec::new(),
            }),
            "match" => {
                let all = args.len() == 1 && args[0].eq_ignore_ascii_case("all");
                blocks.push(Block {
                    criteria: if all { Criteria::All } else { Criteria::Never },
                    settings: Vec::new(),
                });
            }
            "include" if depth < 8 => {
                for arg in args {
                    for (name, text) in include(arg) {
                        // An included file's settings belong to the enclosing block.
                        let mut inner = vec![Block {
                            criteria: Criteria::All,
                            settings: Vec::new(),
                        }];
                        parse_into(&mut inner, &name, &text, include, depth + 1);
                        let first = inner.remove(0);
                        if let Some(last) = blocks.last_mut() {
                            last.settings.extend(first.settings);
                        }
                        blocks.extend(inner);
                    }
                }
            }
            _ => {
                if let Some(last) = blocks.last_mut() {
                    last.settings.push(Setting {
                        keyword,
                        args: args.to_vec(),
                        file: file.to_string(),
                        line: i + 1,
                    });
                }
            }
        }
    }
}

/// Parse configuration `text` (from `file`, for messages) without following `Include`.
pub fn parse(file: &str, text: &str) -> SshConfig {
    let mut blocks = Vec::new();
    parse_into(&mut blocks, file, text, &|_| Vec::new(), 0);
    SshConfig { blocks }
}

/// Read `path` (missing: an empty configuration), following `Include` relative to
/// `ssh_dir` (`~/.ssh`), with `*`/`?` in the last path component.
pub fn load(path: &Path, ssh_dir: &Path) -> SshConfig {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(_) => return SshConfig::default(),
    };
    let include = |arg: &str| -> Vec<(String, String)> {
        let p = expand_tilde(arg, ssh_dir.parent().unwrap_or(ssh_dir));
        let p = if p.is_absolute() { p } else { ssh_dir.join(p) };
        let mut files = Vec::new();
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.contains('*') || name.contains('?') {
            if let Some(dir) = p.parent() {
                if let Ok(rd) = std::fs::read_dir(dir) {
                    let mut names: Vec<PathBuf> = rd
                        .filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|f| {
                            f.file_name()
                                .is_some_and(|n| wildcard(&name, &n.to_string_lossy()))
                        })
                        .collect();
                    names.sort();
                    files = names;
                }
            }
        } else {
            files.push(p);
        }
        files
            .into_iter()
            .filter_map(|f| {
                std::fs::read_to_string(&f)
                    .ok()
                    .map(|t| (f.display().to_string(), t))
            })
            .collect()
    };
    let mut blocks = Vec::new();
    parse_into(&mut blocks, &path.display().to_string(), &text, &include, 0);
    SshConfig { blocks }
}

/// OpenSSH's wildcard match: `*` any run of characters, `?` one character.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// Whether a list of patterns (`a,b !c` words, each possibly comma-separated) matches
/// `host`: some positive pattern matches and no negated one does. Case-insensitive.
pub fn patterns_match(patterns: &[String], host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    let mut hit = false;
    for word in patterns {
        for p in word.split(',').filter(|p| !p.is_empty()) {
            let p = p.to_ascii_lowercase();
            if let Some(neg) = p.strip_prefix('!') {
                if wildcard(neg, &host) {
                    return false;
                }
            } else if wildcard(&p, &host) {
                hit = true;
            }
        }
    }
    hit
}

fn expand_tilde(s: &str, home: &Path) -> PathBuf {
    if s == "~" {
        home.to_path_buf()
    } else if let Some(rest) = s.strip_prefix("~/") {
        home.join(rest)
    } else {
        PathBuf::from(s)
    }
}

/// Expand `%d %u %r %h %%` (home, local user, remote user, host name).
fn expand_tokens(s: &str, home: &Path, local_user: &str, remote_user: &str, host: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('d') => out.push_str(&home.display().to_string()),
            Some('u') => out.push_str(local_user),
            Some('r') => out.push_str(remote_user),
            Some('h') => out.push_str(host),
            Some('%') => out.push('%'),
            Some(o) => {
                out.push('%');
                out.push(o);
            }
            None => out.push('%'),
        }
    }
    out
}

impl SshConfig {
    /// The settings for `host` (the name given to ssh), with `home` and `local_user` for
    /// `~`, `%d` and `%u`. `remote_user` (for `%r`) is the inventory's user when it sets
    /// one.
    pub fn resolve(
        &self,
        host: &str,
        home: &Path,
        local_user: &str,
        remote_user: Option<&str>,
    ) -> HostSettings {
        let mut s = HostSettings::default();
        let mut ids: Vec<String> = Vec::new();
        let mut seen_ids_only = false;
        let mut seen_agent = false;
        let mut seen_known = false;
        let mut seen_proxy = false;
        for b in &self.blocks {
            let applies = match &b.criteria {
                Criteria::All => true,
                Criteria::Host(p) => patterns_match(p, host),
                Criteria::Never => false,
            };
            if !applies {
                continue;
            }
            for st in &b.settings {
                let Some(v) = st.args.first() else { continue };
                let at = format!("{}:{}", st.file, st.line);
                match st.keyword.as_str() {
                    "hostname" if s.hostname.is_none() => {
                        s.hostname = Some(v.replace("%h", host));
                    }
                    "user" if s.user.is_none() => s.user = Some(v.clone()),
                    "port" if s.port.is_none() => match v.parse::<u16>() {
                        Ok(p) if p > 0 => s.port = Some(p),
                        _ => s
                            .problems
                            .push(format!("{at}: Port {v:?} is not a port number")),
                    },
                    "identityfile" => ids.push(v.clone()),
                    "identitiesonly" if !seen_ids_only => {
                        seen_ids_only = true;
                        s.identities_only = v.eq_ignore_ascii_case("yes");
                    }
                    "identityagent" if !seen_agent => {
                        seen_agent = true;
                        s.no_agent = v.eq_ignore_ascii_case("none");
                    }
                    "connecttimeout" if s.connect_timeout.is_none() => match v.parse::<u64>() {
                        Ok(t) if t > 0 => s.connect_timeout = Some(t),
                        _ => s.problems.push(format!(
                            "{at}: ConnectTimeout {v:?} is not a number of seconds"
                        )),
                    },
                    "hostkeyalias" if s.host_key_alias.is_none() => {
                        s.host_key_alias = Some(v.clone())
                    }
                    "userknownhostsfile" if !seen_known => {
                        seen_known = true;
                        s.user_known_hosts = st
                            .args
                            .iter()
                            .filter(|a| !a.eq_ignore_ascii_case("none"))
                            .map(|a| expand_tilde(a, home))
                            .collect();
                    }
                    "proxyjump" | "proxycommand" if !seen_proxy => {
                        seen_proxy = true;
                        if !v.eq_ignore_ascii_case("none") {
                            s.proxy = Some(ProxySetting {
                                keyword: if st.keyword == "proxyjump" {
                                    "ProxyJump".into()
                                } else {
                                    "ProxyCommand".into()
                                },
                                value: st.args.join(" "),
                                at,
                            });
                        }
                    }
                    _ => {}
                }
            }
        }
        let name = s.hostname.clone().unwrap_or_else(|| host.to_string());
        let ruser = remote_user
            .map(str::to_string)
            .or_else(|| s.user.clone())
            .unwrap_or_else(|| local_user.to_string());
        s.identity_files = ids
            .iter()
            .map(|i| expand_tilde(&expand_tokens(i, home, local_user, &ruser, &name), home))
            .collect();
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"# site config
IdentityFile ~/.ssh/site_key

Host cd1 cd2
    HostName %h.mgmt.example.com
    User admin
    Port 2222

Host cd*  !cd9
    User ignored-after-first
    ConnectTimeout 7
    IdentityFile %d/.ssh/cd_%r

Host "g 1",g2
  HostName=10.0.0.5
  IdentitiesOnly yes
  IdentityAgent none
  UserKnownHostsFile ~/.ssh/kh_site none

Host jumped
  ProxyJump bastion.example.com

Match exec "true"
  User never

Match all
  HostKeyAlias everyone
"#;

    fn home() -> PathBuf {
        PathBuf::from("/home/me")
    }

    #[test]
    fn first_value_wins_and_identity_files_accumulate() {
        let c = parse("cfg", CONFIG);
        let s = c.resolve("cd1", &home(), "me", None);
        assert_eq!(s.hostname.as_deref(), Some("cd1.mgmt.example.com"));
        assert_eq!(s.user.as_deref(), Some("admin"));
        assert_eq!(s.port, Some(2222));
        assert_eq!(s.connect_timeout, Some(7));
        assert_eq!(
            s.identity_files,
            vec![
                PathBuf::from("/home/me/.ssh/site_key"),
                PathBuf::from("/home/me/.ssh/cd_admin"),
            ]
        );
        assert_eq!(s.host_key_alias.as_deref(), Some("everyone"));
        assert!(s.proxy.is_none());
        assert!(s.problems.is_empty());
    }

    #[test]
    fn negation_quoting_equals_and_match_blocks() {
        let c = parse("cfg", CONFIG);
        let s = c.resolve("cd9", &home(), "me", None);
        assert_eq!(s.user, None, "!cd9 excludes the block");
        assert_eq!(s.connect_timeout, None);
        let s = c.resolve("g2", &home(), "me", Some("root"));
        assert_eq!(s.hostname.as_deref(), Some("10.0.0.5"));
        assert!(s.identities_only && s.no_agent);
        assert_eq!(
            s.user_known_hosts,
            vec![PathBuf::from("/home/me/.ssh/kh_site")]
        );
        assert_eq!(s.user, None, "Match exec is never applied");
        let s = c.resolve("g 1", &home(), "me", None);
        assert_eq!(s.hostname.as_deref(), Some("10.0.0.5"));
    }

    #[test]
    fn proxy_jump_is_reported_with_its_line() {
        let c = parse("cfg", CONFIG);
        let s = c.resolve("jumped", &home(), "me", None);
        let p = s.proxy.unwrap_or_else(|| panic!("no proxy"));
        assert_eq!(p.keyword, "ProxyJump");
        assert_eq!(p.value, "bastion.example.com");
        assert_eq!(p.at, "cfg:21");
    }

    #[test]
    fn bad_numbers_are_problems() {
        let c = parse("cfg", "Host x\n Port abc\n ConnectTimeout -1\n");
        let s = c.resolve("x", &home(), "me", None);
        assert_eq!(s.port, None);
        assert_eq!(s.problems.len(), 2, "{:?}", s.problems);
        assert!(s.problems[0].starts_with("cfg:2:"));
    }

    #[test]
    fn wildcards() {
        assert!(wildcard("cd*", "cd12"));
        assert!(wildcard("*", ""));
        assert!(wildcard("c?1", "cd1"));
        assert!(!wildcard("c?1", "cd12"));
        assert!(wildcard("[127.0.0.*]:22?2", "[127.0.0.5]:2202"));
        assert!(patterns_match(&["a,B".into()], "b"));
        assert!(!patterns_match(&["*".into(), "!b".into()], "b"));
    }

    #[test]
    fn include_follows_files_relative_to_ssh_dir() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let ssh = dir.path().join(".ssh");
        std::fs::create_dir_all(ssh.join("conf.d")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(ssh.join("conf.d/a.conf"), "Host inc\n  Port 2022\n")
            .unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(
            ssh.join("config"),
            "Include conf.d/*.conf\nHost inc\n Port 1\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let c = load(&ssh.join("config"), &ssh);
        assert_eq!(c.resolve("inc", dir.path(), "me", None).port, Some(2022));
        assert_eq!(load(&ssh.join("missing"), &ssh), SshConfig::default());
    }
}
