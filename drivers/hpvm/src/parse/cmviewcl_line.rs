//! `cmviewcl -v -f line` (Serviceguard A.11.19 and later): one `key=value` per line.
//!
//! Cluster keys are bare (`name=cluster1`), object keys are prefixed and nested with `|`:
//! `node:node1|status=up`, `package:slvm1|autorun=enabled`,
//! `package:slvm1|node:node1|switching=enabled`, `package:slvm1|service:slvm1|restarts=0`.
//! Every key of an object is kept in its `attrs` (in the order printed, known keys included);
//! deeper or unknown prefixes stay as the rest of the key (`node:node1|interface:lan1|status=down`
//! is the node's attribute `interface:lan1|status`; `group:g1|x=y` a cluster attribute
//! `group:g1|x`). Blank lines, indentation and CRLF are tolerated; a non-empty line without
//! `=` is an error naming the line.
//!
//! An older release answers `cmviewcl: illegal option -- f` (then the usage): the result is a
//! [`ParseError`] of kind [`super::ParseErrorKind::OldRelease`] saying
//! "Serviceguard A.11.19 or later is required".

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::text::lines;
use super::ParseError;

const COMMAND: &str = "cmviewcl -v -f line";

/// A status as printed for the cluster, a node, a package, a package's node or a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// `up`
    Up,
    /// `down`
    Down,
    /// `starting`
    Starting,
    /// `halting`
    Halting,
    /// `unknown`
    Unknown,
    /// Any other word, kept.
    Other(String),
}

impl Status {
    /// The status of a printed word (`""` is `Other("")`).
    pub fn from_word(s: &str) -> Status {
        match s {
            "up" => Status::Up,
            "down" => Status::Down,
            "starting" => Status::Starting,
            "halting" => Status::Halting,
            "unknown" => Status::Unknown,
            o => Status::Other(o.to_string()),
        }
    }
}

/// A package's `state`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageState {
    /// `running`
    Running,
    /// `halted`
    Halted,
    /// `starting`
    Starting,
    /// `halting`
    Halting,
    /// `failing`
    Failing,
    /// `maintenance` (Serviceguard's own package maintenance, not the toolkit's)
    Maintenance,
    /// Any other word, kept.
    Other(String),
}

impl PackageState {
    /// The state of a printed word.
    pub fn from_word(s: &str) -> PackageState {
        match s {
            "running" => PackageState::Running,
            "halted" => PackageState::Halted,
            "starting" => PackageState::Starting,
            "halting" => PackageState::Halting,
            "failing" => PackageState::Failing,
            "maintenance" => PackageState::Maintenance,
            o => PackageState::Other(o.to_string()),
        }
    }
}

/// A node's `state`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeState {
    /// `running`: a cluster member.
    Running,
    /// `halted`
    Halted,
    /// `failed`
    Failed,
    /// `reforming`
    Reforming,
    /// `unknown`
    Unknown,
    /// Any other word, kept.
    Other(String),
}

impl NodeState {
    /// The state of a printed word.
    pub fn from_word(s: &str) -> NodeState {
        match s {
            "running" => NodeState::Running,
            "halted" => NodeState::Halted,
            "failed" => NodeState::Failed,
            "reforming" => NodeState::Reforming,
            "unknown" => NodeState::Unknown,
            o => NodeState::Other(o.to_string()),
        }
    }
}

/// Package switching (`autorun`) or node switching (`switching`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Switching {
    /// `enabled`
    Enabled,
    /// `disabled`
    Disabled,
    /// Any other word (or `""` when not printed), kept.
    Other(String),
}

impl Switching {
    /// The switching of a printed word.
    pub fn from_word(s: &str) -> Switching {
        match s {
            "enabled" => Switching::Enabled,
            "disabled" => Switching::Disabled,
            o => Switching::Other(o.to_string()),
        }
    }

    /// Whether this is `enabled`.
    pub fn is_enabled(&self) -> bool {
        *self == Switching::Enabled
    }
}

/// A service's `max_restarts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MaxRestarts {
    /// A number of restarts.
    Times(u32),
    /// `unlimited`
    Unlimited,
    /// Any other text, kept.
    Other(String),
}

fn get<'a>(attrs: &'a [(String, String)], key: &str) -> &'a str {
    attrs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// The cluster: its bare keys.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClusterInfo {
    /// `name`
    pub name: String,
    /// `status` as printed.
    pub status: String,
    /// `summary` as printed.
    pub summary: String,
    /// Every bare key (and every key under an unknown prefix) in the order printed.
    pub attrs: Vec<(String, String)>,
}

impl ClusterInfo {
    /// The typed status.
    pub fn status(&self) -> Status {
        Status::from_word(&self.status)
    }
}

/// A cluster node (`node:N|…`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeView {
    /// The node name (`name`, else the name of the prefix).
    pub name: String,
    /// `status` as printed.
    pub status: String,
    /// `state` as printed.
    pub state: String,
    /// Every key of the node in the order printed (nested ones as `interface:lan1|status`).
    pub attrs: Vec<(String, String)>,
}

impl NodeView {
    /// The typed status.
    pub fn status(&self) -> Status {
        Status::from_word(&self.status)
    }
    /// The typed state.
    pub fn state(&self) -> NodeState {
        NodeState::from_word(&self.state)
    }
    /// Any key of the node (`""` when absent).
    pub fn attr(&self, key: &str) -> &str {
        get(&self.attrs, key)
    }
}

/// A node of a package's node list (`package:P|node:N|…`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PackageNode {
    /// The node name.
    pub name: String,
    /// `status` as printed.
    pub status: String,
    /// `switching` as printed (node switching).
    pub switching: String,
    /// `type` as printed (`primary`, `alternate`).
    pub node_type: String,
    /// Every key in the order printed.
    pub attrs: Vec<(String, String)>,
}

impl PackageNode {
    /// The typed status.
    pub fn status(&self) -> Status {
        Status::from_word(&self.status)
    }
    /// The typed node switching.
    pub fn switching(&self) -> Switching {
        Switching::from_word(&self.switching)
    }
}

/// A service of a package (`package:P|service:S|…`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServiceView {
    /// The service name.
    pub name: String,
    /// `status` as printed.
    pub status: String,
    /// `restarts` as printed.
    pub restarts: String,
    /// `max_restarts` as printed.
    pub max_restarts: String,
    /// Every key in the order printed.
    pub attrs: Vec<(String, String)>,
}

impl ServiceView {
    /// The typed status.
    pub fn status(&self) -> Status {
        Status::from_word(&self.status)
    }
    /// `restarts` as a number (`None` when absent or not a number).
    pub fn restarts(&self) -> Option<u32> {
        self.restarts.trim().parse().ok()
    }
    /// The typed `max_restarts`.
    pub fn max_restarts(&self) -> MaxRestarts {
        match self.max_restarts.as_str() {
            "unlimited" => MaxRestarts::Unlimited,
            s => s
                .parse()
                .map(MaxRestarts::Times)
                .unwrap_or_else(|_| MaxRestarts::Other(s.to_string())),
        }
    }
}

/// A package (`package:P|…`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PackageView {
    /// The package name.
    pub name: String,
    /// `type` as printed (`failover`, `multi_node`, `system_multi_node`).
    pub pkg_type: String,
    /// `status` as printed.
    pub status: String,
    /// `state` as printed.
    pub state: String,
    /// `autorun` as printed: package switching.
    pub autorun: String,
    /// The node running the package; `None` when the package is down or halted (a halted
    /// package has no owner). Otherwise `owner` when printed (empty → `None`), else the only
    /// package node whose `status` is `up` (`None` when none or several are).
    pub owner: Option<String>,
    /// The package's node list, in the order printed.
    pub nodes: Vec<PackageNode>,
    /// The package's services, in the order printed.
    pub services: Vec<ServiceView>,
    /// Every key of the package itself in the order printed (unknown nested prefixes such as
    /// `dependency:d|…` kept whole).
    pub attrs: Vec<(String, String)>,
}

impl PackageView {
    /// The typed status.
    pub fn status(&self) -> Status {
        Status::from_word(&self.status)
    }
    /// The typed state.
    pub fn state(&self) -> PackageState {
        PackageState::from_word(&self.state)
    }
    /// Package switching (`autorun`).
    pub fn autorun(&self) -> Switching {
        Switching::from_word(&self.autorun)
    }
    /// The package's entry for node `name`.
    pub fn node(&self, name: &str) -> Option<&PackageNode> {
        self.nodes.iter().find(|n| n.name == name)
    }
    /// The service `name`.
    pub fn service(&self, name: &str) -> Option<&ServiceView> {
        self.services.iter().find(|s| s.name == name)
    }
    /// Any key of the package (`""` when absent).
    pub fn attr(&self, key: &str) -> &str {
        get(&self.attrs, key)
    }
}

/// The whole output.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClusterView {
    /// The cluster's keys.
    pub cluster: ClusterInfo,
    /// The nodes, in the order first printed.
    pub nodes: Vec<NodeView>,
    /// The packages, in the order first printed.
    pub packages: Vec<PackageView>,
}

impl ClusterView {
    /// The package `name`.
    pub fn package(&self, name: &str) -> Option<&PackageView> {
        self.packages.iter().find(|p| p.name == name)
    }
    /// The node `name`.
    pub fn node(&self, name: &str) -> Option<&NodeView> {
        self.nodes.iter().find(|n| n.name == name)
    }
}

/// The message of the old-release error.
pub const OLD_RELEASE_MESSAGE: &str = "this Serviceguard does not know `cmviewcl -f line`: Serviceguard A.11.19 or later is required (upgrade Serviceguard on the cluster nodes)";

/// Whether `text` is the old releases' answer to `-f` (`cmviewcl: illegal option -- f`).
pub fn is_old_release_answer(text: &str) -> bool {
    lines(text)
        .iter()
        .any(|(_, l)| l.contains("illegal option") && l.trim_end().ends_with("-- f"))
}

fn split_prefix(key: &str) -> Option<(&str, &str, &str)> {
    // "kind:name|rest" → (kind, name, rest)
    let (head, rest) = key.split_once('|')?;
    let (kind, name) = head.split_once(':')?;
    Some((kind, name, rest))
}

fn find_or_push<T: Default>(
    v: &mut Vec<T>,
    name: &str,
    get_name: fn(&T) -> &str,
    set: fn(&mut T, &str),
) -> usize {
    if let Some(i) = v.iter().position(|x| get_name(x) == name) {
        return i;
    }
    let mut t = T::default();
    set(&mut t, name);
    v.push(t);
    v.len() - 1
}

/// Parse the output of `cmviewcl -v -f line`.
pub fn parse(text: &str) -> Result<ClusterView, ParseError> {
    let mut view = ClusterView::default();
    let all = lines(text);
    if let Some(&(n, _)) = all
        .iter()
        .find(|(_, l)| l.contains("illegal option") && l.trim_end().ends_with("-- f"))
    {
        return Err(ParseError::old_release(COMMAND, n, OLD_RELEASE_MESSAGE));
    }
    let mut any = false;
    for &(n, raw) in &all {
        let l = raw.trim();
        if l.is_empty() {
            continue;
        }
        let Some((key, value)) = l.split_once('=') else {
            return Err(ParseError::new(
                COMMAND,
                n,
                format!("expected a `key=value` line, found: {l:?}"),
            ));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(ParseError::new(
                COMMAND,
                n,
                format!("expected a key before `=`, found: {l:?}"),
            ));
        }
        any = true;
        let value = value.to_string();
        match split_prefix(key) {
            Some(("node", name, rest)) => {
                let i = find_or_push(
                    &mut view.nodes,
                    name,
                    |x| &x.name,
                    |x, s| x.name = s.to_string(),
                );
                let node = &mut view.nodes[i];
                match rest {
                    "name" if !value.is_empty() => node.name = value.clone(),
                    "status" => node.status = value.clone(),
                    "state" => node.state = value.clone(),
                    _ => {}
                }
                node.attrs.push((rest.to_string(), value));
            }
            Some(("package", pname, rest)) => {
                let i = find_or_push(
                    &mut view.packages,
                    pname,
                    |x| &x.name,
                    |x, s| x.name = s.to_string(),
                );
                let pkg = &mut view.packages[i];
                match split_prefix(rest) {
                    Some(("node", nname, k)) => {
                        let j = find_or_push(
                            &mut pkg.nodes,
                            nname,
                            |x| &x.name,
                            |x, s| x.name = s.to_string(),
                        );
                        let node = &mut pkg.nodes[j];
                        match k {
                            "name" if !value.is_empty() => node.name = value.clone(),
                            "status" => node.status = value.clone(),
                            "switching" => node.switching = value.clone(),
                            "type" => node.node_type = value.clone(),
                            _ => {}
                        }
                        node.attrs.push((k.to_string(), value));
                    }
                    Some(("service", sname, k)) => {
                        let j = find_or_push(
                            &mut pkg.services,
                            sname,
                            |x| &x.name,
                            |x, s| x.name = s.to_string(),
                        );
                        let svc = &mut pkg.services[j];
                        match k {
                            "name" if !value.is_empty() => svc.name = value.clone(),
                            "status" => svc.status = value.clone(),
                            "restarts" => svc.restarts = value.clone(),
                            "max_restarts" => svc.max_restarts = value.clone(),
                            _ => {}
                        }
                        svc.attrs.push((k.to_string(), value));
                    }
                    _ => {
                        match rest {
                            "name" if !value.is_empty() => pkg.name = value.clone(),
                            "type" => pkg.pkg_type = value.clone(),
                            "status" => pkg.status = value.clone(),
                            "state" => pkg.state = value.clone(),
                            "autorun" => pkg.autorun = value.clone(),
                            "owner" if !value.trim().is_empty() => {
                                pkg.owner = Some(value.trim().to_string())
                            }
                            _ => {}
                        }
                        pkg.attrs.push((rest.to_string(), value));
                    }
                }
            }
            _ => {
                match key {
                    "name" => view.cluster.name = value.clone(),
                    "status" => view.cluster.status = value.clone(),
                    "summary" => view.cluster.summary = value.clone(),
                    _ => {}
                }
                view.cluster.attrs.push((key.to_string(), value));
            }
        }
    }
    if !any {
        return Err(ParseError::new(
            COMMAND,
            0,
            "empty output: expected `key=value` lines (name=, status=, node:N|…, package:P|…)",
        ));
    }
    for pkg in &mut view.packages {
        pkg.owner = owner_of(pkg);
    }
    Ok(view)
}

/// Where the package runs, from what was printed.
///
/// A package that is down (`status=down`) or halted (`state=halted`) runs nowhere: it has no
/// owner, whatever else was printed — the `status` of a package's node is that node's own status, up
/// on every member of a halted package, so it cannot name an owner (the table format shows
/// the same: `Primary up enabled ftsys10` under a package that is down and unowned). A
/// package in any other state is owned by its printed, non-empty `owner`; when no `owner` key was
/// printed, by the one member whose `status` is up, and by nobody when several are (a guess
/// there could name a node the package does not run on).
fn owner_of(pkg: &PackageView) -> Option<String> {
    if pkg.status() == Status::Down || pkg.state() == PackageState::Halted {
        return None;
    }
    if pkg.attrs.iter().any(|(k, _)| k == "owner") {
        return pkg.owner.clone();
    }
    let mut up = pkg.nodes.iter().filter(|n| n.status() == Status::Up);
    match (up.next(), up.next()) {
        (Some(n), None) => Some(n.name.clone()),
        _ => None,
    }
}

fn ser_attrs<M: SerializeMap>(m: &mut M, attrs: &[(String, String)]) -> Result<(), M::Error> {
    for (k, v) in attrs {
        m.serialize_entry(k, v)?;
    }
    Ok(())
}

/// An object's keys as printed; `name` first when the product printed none.
struct Attrs<'a>(&'a str, &'a [(String, String)]);

impl Serialize for Attrs<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        if !self.0.is_empty() && !self.1.iter().any(|(k, _)| k == "name") {
            m.serialize_entry("name", self.0)?;
        }
        ser_attrs(&mut m, self.1)?;
        m.end()
    }
}

impl Serialize for PackageView {
    /// Every key of the package as printed, then `nodes` and `services` arrays.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        if !self.attrs.iter().any(|(k, _)| k == "name") {
            m.serialize_entry("name", &self.name)?;
        }
        ser_attrs(&mut m, &self.attrs)?;
        let nodes: Vec<Attrs<'_>> = self
            .nodes
            .iter()
            .map(|n| Attrs(&n.name, &n.attrs))
            .collect();
        let services: Vec<Attrs<'_>> = self
            .services
            .iter()
            .map(|n| Attrs(&n.name, &n.attrs))
            .collect();
        m.serialize_entry("nodes", &nodes)?;
        m.serialize_entry("services", &services)?;
        m.end()
    }
}

impl Serialize for ClusterView {
    /// `{cluster: {…}, nodes: [{…}], packages: [{…, nodes: […], services: […]}]}`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("cluster", &Attrs("", &self.cluster.attrs))?;
        let nodes: Vec<Attrs<'_>> = self
            .nodes
            .iter()
            .map(|n| Attrs(&n.name, &n.attrs))
            .collect();
        m.serialize_entry("nodes", &nodes)?;
        m.serialize_entry("packages", &self.packages)?;
        m.end()
    }
}
