//! User values as messages echo them: quoted and cut, never printed back whole.

/// How many characters of a user's value a message echoes.
pub const ECHO_LIMIT: usize = 64;

/// A user's value as messages echo it: quoted like `{:?}`, cut to [`ECHO_LIMIT`] characters
/// with `…` after the cut, so a huge value is never printed back whole.
pub fn quoted(value: &str) -> String {
    match value.char_indices().nth(ECHO_LIMIT) {
        Some((cut, _)) => format!("{:?}", format!("{}…", &value[..cut])),
        None => format!("{value:?}"),
    }
}

/// `message` with every quoted part (`"…"`, `` `…` ``) longer than [`ECHO_LIMIT`] characters
/// cut, so a message from elsewhere (TOML, the simulator) never prints a huge value back
/// whole.
pub fn clip_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(1024));
    let mut chars = message.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c != '"' && c != '`' {
            continue;
        }
        let mut n = 0;
        let mut escaped = false;
        let mut closed = false;
        for d in chars.by_ref() {
            closed = d == c && !escaped;
            escaped = c == '"' && d == '\\' && !escaped;
            if closed {
                break;
            }
            n += 1;
            if n <= ECHO_LIMIT {
                out.push(d);
            }
        }
        if n > ECHO_LIMIT {
            out.push('…');
        }
        if closed {
            out.push(c);
        }
    }
    out
}
