//! The REPL: explore a site interactively. linefeed on a terminal (Tab completion, history
//! under the XDG state folder, Ctrl-C), plain lines otherwise (pipes, CI), with the same
//! values either way. Variables and functions persist across inputs, also across failed
//! ones; `:save` writes the accepted inputs as a script.

mod commands;
pub mod complete;
mod eval;
mod help;
mod history;
mod input;
mod procedure;
pub mod render;
mod session;
mod site;
mod ui;

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};

use hascript_api::Ui;
use rhai::{Dynamic, Engine};

use crate::run::EXIT_USAGE;
use crate::site::{site_spec, SiteChoice};

pub use commands::{check_script, scenarios_text};
pub use help::{help, help_overview, help_topic};
pub use history::{history_entry, history_path, write_history, HISTORY_SIZE};
pub use input::{continue_string, incomplete, LineSource, PlainLines, Read};
pub use session::Session;
pub use ui::ReplUi;

use input::line_source;

/// Render a value the way the REPL shows it (tables, aligned maps, plain scalars).
pub fn pretty(engine: &Engine, v: &Dynamic) -> String {
    render::show(engine, v, false).unwrap_or_default()
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
mod tests;
