//! `docs`, `man` and `completions`: the API page, the man pages, shell completion scripts.

use std::io::Write;
use std::path::Path;

use crate::run::usage;

use super::Cli;

/// The shells `hascript completions` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompletionShell {
    /// GNU bash.
    Bash,
    /// Z shell.
    Zsh,
    /// fish.
    Fish,
}

pub(super) fn cmd_completions(shell: CompletionShell) -> i32 {
    use clap::CommandFactory;
    use clap_complete::Shell;
    let shell = match shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
    };
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "hascript", &mut out);
    let mut so = std::io::stdout();
    let _ = so.write_all(&out);
    let _ = so.flush();
    0
}

pub(super) fn cmd_man(dir: Option<&Path>) -> i32 {
    use clap::CommandFactory;
    let cmd = Cli::command();
    match dir {
        None => {
            let mut out = Vec::new();
            if let Err(e) = clap_mangen::Man::new(cmd).render(&mut out) {
                eprintln!("error: cannot render the man page: {e}");
                return 1;
            }
            let mut so = std::io::stdout();
            let _ = so.write_all(&out);
            let _ = so.flush();
            0
        }
        Some(d) => {
            if let Err(e) = std::fs::create_dir_all(d) {
                return usage(format!("cannot create {}: {e}", d.display()));
            }
            match clap_mangen::generate_to(cmd, d) {
                Ok(()) => {
                    println!("man pages written to {}", d.display());
                    0
                }
                Err(e) => usage(format!("cannot write man pages to {}: {e}", d.display())),
            }
        }
    }
}

pub(super) fn cmd_docs(output: Option<&Path>) -> i32 {
    let text = match crate::docs::markdown(&crate::docs::Api::offline()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    match output {
        None => {
            let mut so = std::io::stdout();
            let _ = so.write_all(text.as_bytes());
            let _ = so.flush();
            0
        }
        Some(f) => match std::fs::write(f, text) {
            Ok(()) => 0,
            Err(e) => usage(format!("cannot write {}: {e}", f.display())),
        },
    }
}
