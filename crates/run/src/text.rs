//! How hascript writes text for people, whatever the output: text from hosts and scripts
//! with its control characters escaped, the step line, durations, the pace of wait lines on
//! a pipe. Pure functions: the terminal UI (`output.rs`) and the journal's timeline both use
//! them, neither through the other.

use std::borrow::Cow;
use std::time::Duration;

/// Whether `c` would act on a terminal instead of being shown: C0 controls except newline
/// and tab (ESC, BEL, CR, backspace …), DEL, C1 controls (U+0080–U+009F, CSI among them),
/// and the bidirectional overrides that reorder what a line seems to say.
fn is_control(c: char) -> bool {
    matches!(c, '\0'..='\x08' | '\x0b'..='\x1f' | '\x7f' | '\u{80}'..='\u{9f}')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` safe to show on the operator's terminal: every control character or escape
/// sequence start (see [`is_control`]) is written out as `\r`, `\xNN` or `\u{NNNN}`, so
/// text from hosts and scripts can never move the cursor, retitle the window, ring the
/// bell or overwrite a line. Newlines and tabs stay. hascript's own styling (the progress
/// line) is added after this and is not escaped.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x80 && is_control(c) => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if is_control(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// How often a wait reports on a non-terminal, in (virtual) elapsed time.
pub const PIPE_PROGRESS_EVERY: Duration = Duration::from_secs(60);

/// `mm:ss` (or `h:mm:ss` from one hour up).
pub fn mmss(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
    } else {
        format!("{:02}:{:02}", s / 60, s % 60)
    }
}

/// The step header line: `==> [section] title`, or `==> title` without a section.
pub fn step_line(section: &str, title: &str) -> String {
    if section.is_empty() {
        format!("==> {title}")
    } else {
        format!("==> [{section}] {title}")
    }
}
