//! The run journal: one append-only JSON-lines file per run under
//! `$XDG_STATE_HOME/hascript/runs/` (or `~/.local/state/hascript/runs/`), named by the run
//! id (`20260728T172600.123Z-3f9a1c.jsonl`: UTC start time + random suffix, so names sort by
//! start time).
//!
//! Every line is one [`Event`] with `ts` (UTC wall clock of this machine) and `run` (the run
//! id). The [`Recorder`] writes them: it hides every secret value it knows ([`Redactor`]) in
//! every string of every line, writes each line whole, and **syncs the file (fsync) after a
//! `command_start` line before the change command is sent**. The same lines go to the extra
//! sinks (`--output json` prints them on standard output).
//!
//! [`JournalingExec`] wraps the run's transport (the router): every command is journaled
//! (`command_start` for a change, before it leaves; `command_end` for every command, after),
//! and before the first change to a host it takes that host's lock ([`crate::lock`]).
//! [`JournalingUi`] wraps the operator's UI: steps, information, warnings, questions and
//! answers, waits and exposure. Drivers and scripts need no change.

/// File name extension of journal files.
pub const EXT: &str = "jsonl";

/// At most this many bytes of a command's standard output / error are kept in an ordinary
/// `command_end` line (head and tail; the middle is cut).
pub const EXCERPT_BYTES: usize = 2048;

/// At most this many bytes of an evidence command's standard output are kept.
pub const EVIDENCE_BYTES: usize = 1024 * 1024;

/// A step's return value is kept when its JSON form is at most this long.
pub const STEP_VALUE_BYTES: usize = 64 * 1024;

mod calendar;
mod chain;
mod event;
mod excerpt;
mod folder;
mod ids;
mod read;
mod recorder;
mod redact;
#[cfg(test)]
pub(crate) mod samples;
mod timeline;
mod wrappers;

pub use calendar::{now_rfc3339, rfc3339};
pub use chain::{ancestors, lineage};
pub use event::{
    events_schema, result_name, ErrorFields, Event, Line, LoadKind, LockAction, Purpose, RunHeader,
    SiteRecord, StepBy, SCHEMA_VERSION,
};
pub use excerpt::{excerpt, excerpt_bytes, is_evidence};
pub use folder::runs_dir;
pub use ids::{current_user, new_run_id, origin_host, run_id_at, sha256_hex};
pub use read::{
    events, find, find_run, header, journal_files, list, list_lines, read_events, read_lines,
    summarise, RunSummary,
};
pub use recorder::{not_recorded, EventSink, Recorder};
pub use redact::{secret_param_name, Redactor};
pub use timeline::{timeline, timeline_line};
pub use wrappers::{ChangeGate, JournalingExec, JournalingUi};

#[cfg(test)]
mod tests;
