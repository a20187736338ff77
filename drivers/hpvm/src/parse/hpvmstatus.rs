//! `hpvmstatus` (summary, `[Virtual Machines]`) and `hpvmstatus -P VM` (details:
//! `[Virtual Machine Details]`, `[Storage Interface Details]`, `[Network Interface Details]`).
//!
//! A table is the header (one or two lines) right above a rule of `=` runs, then the rows
//! until a blank line or the next `[Section]`. Columns are the `=` runs of the rule: a word
//! of the header or of a row belongs to the column it overlaps most (the nearest one when it
//! overlaps none), and the words of one column are joined by one space — so `On (OS)`, `2 GB`
//! and a header spanning two lines (`Guest` over `Device` = `Guest Device`) come out whole,
//! and a name wider than its column still lands in it. Extra columns are kept under the
//! snake_case of their header. Unknown sections (`[Authorized Administrators]`, …) are skipped.

use serde::Serialize;

use super::text::{lines, snake, tokens, Tok};
use super::{ser_pairs, ParseError};

const SUMMARY: &str = "hpvmstatus";
const DETAILS: &str = "hpvmstatus -P";

/// A guest's state as printed in the `State` column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuestState {
    /// `On (OS)`: running, operating system up.
    OnOs,
    /// `On (EFI)`: running, in the firmware.
    OnEfi,
    /// `Off`
    Off,
    /// `Off (NR)`: not runnable (the source copy after an online migration, or a distributed
    /// guest's copy on a host that does not run it).
    NotRunnable,
    /// Any other text, kept.
    Other(String),
}

impl GuestState {
    /// The state of a printed cell (spaces normalised: `On  (OS)` is `On (OS)`).
    pub fn from_cell(s: &str) -> GuestState {
        let norm: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
        match norm.as_str() {
            "On (OS)" => GuestState::OnOs,
            "On (EFI)" => GuestState::OnEfi,
            "Off" => GuestState::Off,
            "Off (NR)" => GuestState::NotRunnable,
            _ => GuestState::Other(s.to_string()),
        }
    }

    /// Whether the guest runs (`On (OS)` or `On (EFI)`).
    pub fn is_on(&self) -> bool {
        matches!(self, GuestState::OnOs | GuestState::OnEfi)
    }
}

/// The kind of a storage row's physical backing store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageKind {
    /// `disk`: a whole disk.
    Disk,
    /// `lv`: an LVM logical volume `/dev/<vg>/r<lv>`.
    Lv,
    /// `file`: a file (possibly on NFS).
    File,
    /// `null`: no backing store.
    Null,
    /// Any other word, kept.
    Other(String),
}

impl StorageKind {
    /// The kind of a printed word.
    pub fn from_word(s: &str) -> StorageKind {
        match s {
            "disk" => StorageKind::Disk,
            "lv" => StorageKind::Lv,
            "file" => StorageKind::File,
            "null" => StorageKind::Null,
            o => StorageKind::Other(o.to_string()),
        }
    }
}

fn cell<'a>(cells: &'a [(String, String)], keys: &[&str]) -> &'a str {
    keys.iter()
        .find_map(|k| cells.iter().find(|(ck, _)| ck == k))
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// One guest row (`[Virtual Machines]` or `[Virtual Machine Details]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VmRow {
    /// `Virtual Machine Name`
    #[serde(skip)]
    pub name: String,
    /// `VM #` as printed.
    #[serde(skip)]
    pub vm_number: String,
    /// `OS Type` as printed (`HPUX`, `LINUX`, `WINDOWS`, …).
    #[serde(skip)]
    pub os_type: String,
    /// `State` as printed (`On (OS)`).
    #[serde(skip)]
    pub state: String,
    /// Every column in header order, keyed by snake_case header (`virtual_machine_name`,
    /// `vm`, `os_type`, `state`, `vcpus`, …).
    #[serde(flatten, serialize_with = "ser_pairs")]
    pub columns: Vec<(String, String)>,
}

/// The guest OS kind of the `OS Type` column (`HPUX`, `LINUX`, `WINDOWS`): what decides
/// how `cmappserver` is installed in it (§5 step 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OsKind {
    /// `HPUX` (also `HP-UX`).
    Hpux,
    /// `LINUX`.
    Linux,
    /// `WINDOWS`.
    Windows,
    /// Anything else (`UNKNOWN`, an empty cell).
    Other,
}

impl OsKind {
    /// The kind of an `OS Type` cell, compared without case and dashes.
    pub fn from_cell(s: &str) -> OsKind {
        let w: String = s
            .trim()
            .chars()
            .filter(|c| *c != '-')
            .collect::<String>()
            .to_ascii_uppercase();
        match w.as_str() {
            "HPUX" => OsKind::Hpux,
            "LINUX" => OsKind::Linux,
            "WINDOWS" => OsKind::Windows,
            _ => OsKind::Other,
        }
    }

    /// The word scripts see (`hpux`, `linux`, `windows`, `other`).
    pub fn word(self) -> &'static str {
        match self {
            OsKind::Hpux => "hpux",
            OsKind::Linux => "linux",
            OsKind::Windows => "windows",
            OsKind::Other => "other",
        }
    }
}

impl VmRow {
    /// The typed state.
    pub fn state(&self) -> GuestState {
        GuestState::from_cell(&self.state)
    }
    /// The typed OS kind.
    pub fn os_kind(&self) -> OsKind {
        OsKind::from_cell(&self.os_type)
    }
    /// Any column by its snake_case key (`""` when absent).
    pub fn column(&self, key: &str) -> &str {
        cell(&self.columns, &[key])
    }
    fn from_cells(columns: Vec<(String, String)>) -> VmRow {
        VmRow {
            name: cell(&columns, &["virtual_machine_name", "name"]).to_string(),
            vm_number: cell(&columns, &["vm", "vm_number"]).to_string(),
            os_type: cell(&columns, &["os_type"]).to_string(),
            state: cell(&columns, &["state"]).to_string(),
            columns,
        }
    }
}

/// One row of `[Storage Interface Details]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StorageRow {
    /// `Guest Device` (`disk`, `dvd`, …).
    #[serde(skip)]
    pub guest_device: String,
    /// `Adaptor` (`scsi`, `avio_stor`, …).
    #[serde(skip)]
    pub adaptor: String,
    /// `Physical Storage` as printed (`disk`, `lv`, `file`, `null`).
    #[serde(skip)]
    pub physical_storage: String,
    /// The physical `Device` (`/dev/rdisk/disk109`, `/dev/vg_slvm2/rlvol1`, a file path).
    #[serde(skip)]
    pub physical_device: String,
    /// Every column in header order (`guest_device`, `adaptor`, `bus`, `dev`, `ftn`, `tgt`,
    /// `lun`, `physical_storage`, `device`, …).
    #[serde(flatten, serialize_with = "ser_pairs")]
    pub columns: Vec<(String, String)>,
}

impl StorageRow {
    /// The typed kind of the backing store.
    pub fn kind(&self) -> StorageKind {
        StorageKind::from_word(&self.physical_storage)
    }
    /// For an `lv` row, the volume group of `/dev/<vg>/r<lv>` (`vg_slvm2`).
    pub fn volume_group(&self) -> Option<&str> {
        if self.kind() != StorageKind::Lv {
            return None;
        }
        let rest = self.physical_device.strip_prefix("/dev/")?;
        let (vg, _) = rest.split_once('/')?;
        (!vg.is_empty()).then_some(vg)
    }
    fn from_cells(columns: Vec<(String, String)>) -> StorageRow {
        StorageRow {
            guest_device: cell(&columns, &["guest_device", "device"]).to_string(),
            adaptor: cell(&columns, &["adaptor"]).to_string(),
            physical_storage: cell(&columns, &["physical_storage", "storage"]).to_string(),
            physical_device: columns
                .iter()
                .rev()
                .find(|(k, _)| k == "physical_device" || k == "device")
                .map(|(_, v)| v.clone())
                .unwrap_or_default(),
            columns,
        }
    }
}

/// One row of `[Network Interface Details]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NetworkRow {
    /// `Interface` (`vswitch`).
    #[serde(skip)]
    pub interface: String,
    /// `Adaptor` (`lan`, `avio_lan`).
    #[serde(skip)]
    pub adaptor: String,
    /// `Name/Num`: the vswitch name.
    #[serde(skip)]
    pub vswitch: String,
    /// `PortNum`
    #[serde(skip)]
    pub port: String,
    /// `Mac Address`
    #[serde(skip)]
    pub mac_address: String,
    /// Every column in header order (`interface`, `adaptor`, `name_num`, `port_num`, `bus`,
    /// `dev`, `ftn`, `mac_address`, …).
    #[serde(flatten, serialize_with = "ser_pairs")]
    pub columns: Vec<(String, String)>,
}

impl NetworkRow {
    fn from_cells(columns: Vec<(String, String)>) -> NetworkRow {
        NetworkRow {
            interface: cell(&columns, &["interface"]).to_string(),
            adaptor: cell(&columns, &["adaptor"]).to_string(),
            vswitch: cell(&columns, &["name_num", "name"]).to_string(),
            port: cell(&columns, &["port_num", "port"]).to_string(),
            mac_address: cell(&columns, &["mac_address"]).to_string(),
            columns,
        }
    }
}

/// The output of `hpvmstatus -P VM`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VmDetails {
    /// The `[Virtual Machine Details]` row.
    pub vm: VmRow,
    /// The `[Storage Interface Details]` rows (empty when the section is absent).
    pub storage: Vec<StorageRow>,
    /// The `[Network Interface Details]` rows (empty when the section is absent).
    pub network: Vec<NetworkRow>,
}

/// Whether `text` (stderr of `hpvmstatus -P VM`) says the guest does not exist
/// (`hpvmstatus: Unable to find the guest 'VM'.`); returns the name it quotes (`""` when the
/// message quotes none).
pub fn unknown_guest(text: &str) -> Option<String> {
    for (_, l) in lines(text) {
        if let Some(i) = l.find("Unable to find the guest") {
            let rest = l[i + "Unable to find the guest".len()..].trim();
            let rest = rest.trim_end_matches('.').trim();
            let name =
                rest.trim_matches(|c| c == '\'' || c == '"' || c == '`' || c == '‘' || c == '’');
            return Some(name.to_string());
        }
    }
    None
}

// ------------------------------------------------------------------------- table machinery

/// One section of the output: its name (`""` before the first `[…]`) and its lines.
struct Section<'a> {
    name: String,
    lines: Vec<(usize, &'a str)>,
}

fn sections(text: &str) -> Vec<Section<'_>> {
    let mut out = vec![Section {
        name: String::new(),
        lines: Vec::new(),
    }];
    for (n, l) in lines(text) {
        let t = l.trim();
        if t.starts_with('[') && t.ends_with(']') && t.len() > 2 {
            out.push(Section {
                name: t[1..t.len() - 1].trim().to_string(),
                lines: Vec::new(),
            });
        } else if let Some(last) = out.last_mut() {
            last.lines.push((n, l));
        }
    }
    out
}

fn is_rule(line: &str) -> bool {
    let t = line.trim();
    t.chars().filter(|c| *c == '=').count() >= 3
        && t.chars().all(|c| c == '=' || c == ' ' || c == '\t')
}

/// The `=` runs of a rule as `(start, end)` character columns, end exclusive.
fn rule_spans(line: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    let mut n = 0;
    for (i, ch) in line.chars().enumerate() {
        n = i + 1;
        if ch == '=' {
            if start.is_none() {
                start = Some(i);
            }
        } else if let Some(s) = start.take() {
            out.push((s, i));
        }
    }
    if let Some(s) = start {
        out.push((s, n));
    }
    out
}

/// The column a word belongs to: most overlap, else the nearest; ties to the left.
fn column_of(spans: &[(usize, usize)], t: &Tok<'_>) -> usize {
    let (a, b) = (t.col, t.end());
    let mut best = 0;
    let mut best_overlap = 0usize;
    for (i, &(s, e)) in spans.iter().enumerate() {
        let o = b.min(e).saturating_sub(a.max(s));
        if o > best_overlap {
            best_overlap = o;
            best = i;
        }
    }
    if best_overlap > 0 {
        return best;
    }
    let dist = |&(s, e): &(usize, usize)| {
        if b <= s {
            s - b
        } else {
            a.saturating_sub(e)
        }
    };
    spans
        .iter()
        .enumerate()
        .min_by_key(|(_, sp)| dist(sp))
        .map(|(i, _)| i)
        .unwrap_or(0)
}

fn cells_of(spans: &[(usize, usize)], line: &str) -> Vec<String> {
    let mut cells = vec![String::new(); spans.len()];
    for t in tokens(line) {
        let c = &mut cells[column_of(spans, &t)];
        if !c.is_empty() {
            c.push(' ');
        }
        c.push_str(t.text);
    }
    cells
}

/// A table: column keys and header names, rows of `(key, value)`.
struct Table {
    keys: Vec<String>,
    rows: Vec<(usize, Vec<(String, String)>)>,
}

/// Read the table of a section: header lines right above the first rule, rows after it.
fn read_table(
    command: &str,
    section: &Section<'_>,
    header_hint: &str,
) -> Result<Table, ParseError> {
    let Some(ri) = section.lines.iter().position(|(_, l)| is_rule(l)) else {
        let at = section
            .lines
            .iter()
            .find(|(_, l)| !l.trim().is_empty())
            .map(|(n, l)| (*n, l.trim().to_string()));
        return Err(match at {
            Some((n, l)) => ParseError::new(
                command,
                n,
                format!(
                    "expected the header `{header_hint}` and a `====` rule under it, found: {l:?}"
                ),
            ),
            None => ParseError::new(
                command,
                0,
                format!(
                    "expected the header `{header_hint}` and a `====` rule under it, found nothing"
                ),
            ),
        });
    };
    let (rule_no, rule) = section.lines[ri];
    let spans = rule_spans(rule);
    // header: the consecutive non-empty lines right above the rule
    let mut h = ri;
    while h > 0 && !section.lines[h - 1].1.trim().is_empty() {
        h -= 1;
    }
    if h == ri {
        return Err(ParseError::new(
            command,
            rule_no,
            format!("expected the header `{header_hint}` right above the `====` rule"),
        ));
    }
    let mut names = vec![String::new(); spans.len()];
    for (_, l) in &section.lines[h..ri] {
        for (i, c) in cells_of(&spans, l).into_iter().enumerate() {
            if c.is_empty() {
                continue;
            }
            if !names[i].is_empty() {
                names[i].push(' ');
            }
            names[i].push_str(&c);
        }
    }
    let mut keys: Vec<String> = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let mut k = snake(name);
        if k.is_empty() {
            k = format!("column{}", i + 1);
        }
        while keys.contains(&k) {
            k.push('_');
        }
        keys.push(k);
    }
    let mut rows = Vec::new();
    let mut started = false;
    for &(n, l) in &section.lines[ri + 1..] {
        if l.trim().is_empty() {
            if started {
                break;
            }
            continue;
        }
        if is_rule(l) {
            continue;
        }
        started = true;
        let cells = cells_of(&spans, l);
        if cells.first().is_none_or(|c| c.is_empty()) {
            return Err(ParseError::new(
                command,
                n,
                format!(
                    "expected a row with a value under {:?} (the first column), found: {:?}",
                    names.first().map(String::as_str).unwrap_or(""),
                    l.trim()
                ),
            ));
        }
        rows.push((n, keys.iter().cloned().zip(cells).collect()));
    }
    Ok(Table { keys, rows })
}

fn require(
    command: &str,
    table: &Table,
    keys: &[&[&str]],
    rule_line: usize,
    hint: &str,
) -> Result<(), ParseError> {
    for alts in keys {
        if !alts.iter().any(|k| table.keys.iter().any(|tk| tk == k)) {
            return Err(ParseError::new(
                command,
                rule_line,
                format!(
                    "expected the header `{hint}`: no column {:?} (found {})",
                    alts[0],
                    table.keys.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

fn rule_line_of(section: &Section<'_>) -> usize {
    section
        .lines
        .iter()
        .find(|(_, l)| is_rule(l))
        .map(|(n, _)| *n)
        .unwrap_or(0)
}

const VM_HEADER: &str = "Virtual Machine Name VM #  OS Type State";
const VM_KEYS: &[&[&str]] = &[&["virtual_machine_name"], &["state"]];

/// Parse the summary `hpvmstatus`: the rows of `[Virtual Machines]` (or of the only table
/// when the output has no section line).
pub fn parse_summary(text: &str) -> Result<Vec<VmRow>, ParseError> {
    let secs = sections(text);
    let sec = secs
        .iter()
        .find(|s| s.name.eq_ignore_ascii_case("Virtual Machines"))
        .or_else(|| {
            secs.iter()
                .find(|s| s.name.is_empty() && s.lines.iter().any(|(_, l)| is_rule(l)))
        });
    let Some(sec) = sec else {
        let first = lines(text).into_iter().find(|(_, l)| !l.trim().is_empty());
        return Err(match first {
            Some((n, l)) => ParseError::new(
                SUMMARY,
                n,
                format!(
                    "expected `[Virtual Machines]` and the header `{VM_HEADER}`, found: {:?}",
                    l.trim()
                ),
            ),
            None => ParseError::new(SUMMARY, 0, "empty output: expected `[Virtual Machines]`"),
        });
    };
    let table = read_table(SUMMARY, sec, VM_HEADER)?;
    require(SUMMARY, &table, VM_KEYS, rule_line_of(sec), VM_HEADER)?;
    Ok(table
        .rows
        .into_iter()
        .map(|(_, c)| VmRow::from_cells(c))
        .collect())
}

/// Parse `hpvmstatus -P VM`: the `[Virtual Machine Details]` row (required, exactly one), the
/// storage and network rows (empty when their section is absent). Unknown sections are
/// skipped.
pub fn parse_details(text: &str) -> Result<VmDetails, ParseError> {
    let secs = sections(text);
    let Some(vm_sec) = secs
        .iter()
        .find(|s| s.name.eq_ignore_ascii_case("Virtual Machine Details"))
    else {
        let first = lines(text).into_iter().find(|(_, l)| !l.trim().is_empty());
        return Err(match first {
            Some((n, l)) => ParseError::new(
                DETAILS,
                n,
                format!(
                    "expected the section `[Virtual Machine Details]`, found: {:?}",
                    l.trim()
                ),
            ),
            None => ParseError::new(
                DETAILS,
                0,
                "empty output: expected `[Virtual Machine Details]`",
            ),
        });
    };
    let table = read_table(DETAILS, vm_sec, VM_HEADER)?;
    require(DETAILS, &table, VM_KEYS, rule_line_of(vm_sec), VM_HEADER)?;
    let mut rows = table.rows;
    if rows.len() != 1 {
        return Err(ParseError::new(
            DETAILS,
            rows.get(1)
                .map(|(n, _)| *n)
                .unwrap_or_else(|| rule_line_of(vm_sec)),
            format!(
                "expected exactly one row under `[Virtual Machine Details]`, found {}",
                rows.len()
            ),
        ));
    }
    let vm = VmRow::from_cells(rows.remove(0).1);
    let mut storage = Vec::new();
    let mut network = Vec::new();
    for s in &secs {
        if s.name.eq_ignore_ascii_case("Storage Interface Details") {
            let hint = "Device  Adaptor    Bus Dev Ftn Tgt Lun Storage   Device";
            let t = read_table(DETAILS, s, hint)?;
            require(
                DETAILS,
                &t,
                &[&["adaptor"], &["physical_storage", "storage"]],
                rule_line_of(s),
                hint,
            )?;
            storage.extend(t.rows.into_iter().map(|(_, c)| StorageRow::from_cells(c)));
        } else if s.name.eq_ignore_ascii_case("Network Interface Details") {
            let hint = "Interface Adaptor    Name/Num   PortNum Bus Dev Ftn Mac Address";
            let t = read_table(DETAILS, s, hint)?;
            require(
                DETAILS,
                &t,
                &[&["interface"], &["name_num", "name"]],
                rule_line_of(s),
                hint,
            )?;
            network.extend(t.rows.into_iter().map(|(_, c)| NetworkRow::from_cells(c)));
        }
    }
    Ok(VmDetails {
        vm,
        storage,
        network,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_and_columns() {
        let spans = rule_spans("==== ===  ==");
        assert_eq!(spans, vec![(0, 4), (5, 8), (10, 12)]);
        let cells = cells_of(&spans, "abcdefg  x");
        assert_eq!(
            cells,
            vec!["abcdefg".to_string(), String::new(), "x".to_string()]
        );
    }

    #[test]
    fn guest_states() {
        assert_eq!(GuestState::from_cell("On (OS)"), GuestState::OnOs);
        assert_eq!(GuestState::from_cell("On  (EFI)"), GuestState::OnEfi);
        assert_eq!(GuestState::from_cell("Off (NR)"), GuestState::NotRunnable);
        assert!(!GuestState::from_cell("Off").is_on());
        assert_eq!(
            GuestState::from_cell("Invalid"),
            GuestState::Other("Invalid".into())
        );
    }

    #[test]
    fn os_kinds_of_the_os_type_column() {
        assert_eq!(OsKind::from_cell("HPUX"), OsKind::Hpux);
        assert_eq!(OsKind::from_cell("HP-UX"), OsKind::Hpux);
        assert_eq!(OsKind::from_cell(" LINUX "), OsKind::Linux);
        assert_eq!(OsKind::from_cell("Windows"), OsKind::Windows);
        assert_eq!(OsKind::from_cell("UNKNOWN"), OsKind::Other);
        assert_eq!(OsKind::from_cell(""), OsKind::Other);
    }
}
