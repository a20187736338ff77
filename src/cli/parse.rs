//! `parse`: a command's output as JSON, through the drivers' parsers.

use std::io::Read;
use std::path::Path;

use crate::backend;
use crate::inventory::{clip_quoted, quoted};
use crate::run::{usage, EXIT_USAGE};
use crate::scripts;

pub(super) fn cmd_parse(kind: &str, file: Option<&Path>) -> i32 {
    if !backend::parse::KINDS.iter().any(|(k, _)| *k == kind) {
        let kinds: Vec<String> = backend::parse::KINDS
            .iter()
            .map(|(k, d)| format!("  {k:24} {d}"))
            .collect();
        let names: Vec<String> = backend::parse::KINDS
            .iter()
            .map(|(k, _)| k.to_string())
            .collect();
        return usage(format!(
            "unknown kind {}{}; the kinds are:\n{}",
            quoted(kind),
            scripts::did_you_mean(kind, &names),
            kinds.join("\n")
        ));
    }
    let (name, text) = match file {
        Some(f) => match crate::files::read_regular(f, crate::files::MAX_TEXT_FILE) {
            Ok(b) => (
                f.display().to_string(),
                String::from_utf8_lossy(&b).into_owned(),
            ),
            Err(e) => return usage(e.to_string()),
        },
        None => {
            let mut b = Vec::new();
            let cap = crate::files::MAX_TEXT_FILE;
            if let Err(e) = std::io::stdin().take(cap + 1).read_to_end(&mut b) {
                return usage(format!("cannot read standard input: {e}"));
            }
            if b.len() as u64 > cap {
                return usage(format!(
                    "standard input is larger than {} MiB (the most `parse` reads): is it the right output?",
                    cap / (1024 * 1024)
                ));
            }
            (
                "<stdin>".to_string(),
                String::from_utf8_lossy(&b).into_owned(),
            )
        }
    };
    match backend::parse::parse_kind_json(kind, &text, true) {
        Ok(s) => {
            println!("{s}");
            0
        }
        Err(e) => {
            // Text that is not the command's output is bad input: nothing was changed.
            eprintln!("error: {name}: {}", clip_quoted(&e.to_string()));
            EXIT_USAGE
        }
    }
}
