//! `become`: the line a command is sent as under sudo or pfexec.

use hascript_api::{shell_quote, Command, Program};

use crate::ssh::options::Become;

/// The sudo prompt hascript asks for, to know when to send the password.
pub const SUDO_PROMPT: &str = "[hascript-sudo-password]";

/// The line sent to the host for `cmd` with `become`.
pub fn remote_line(cmd: &Command, become_: Option<Become>, with_password: bool) -> String {
    let line = cmd.line();
    match become_ {
        None => line,
        Some(Become::Sudo) => {
            let auth = if with_password {
                format!("-S -k -p {}", shell_quote(SUDO_PROMPT))
            } else {
                "-n".to_string()
            };
            format!("sudo {auth} -- /bin/sh -c {}", shell_quote(&line))
        }
        Some(Become::Pfexec) => match &cmd.program {
            Program::Argv(argv) => {
                let words: Vec<String> = argv.iter().map(|w| shell_quote(w)).collect();
                format!("LC_ALL=C pfexec {}", words.join(" "))
            }
            Program::Shell(_) => format!("pfexec /bin/sh -c {}", shell_quote(&line)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn become_wraps_the_whole_line() {
        let c = Command::read("h", &["ldm", "list", "-p"]);
        assert_eq!(remote_line(&c, None, false), "LC_ALL=C ldm list -p");
        assert_eq!(
            remote_line(&c, Some(Become::Sudo), false),
            "sudo -n -- /bin/sh -c 'LC_ALL=C ldm list -p'"
        );
        assert_eq!(
            remote_line(&c, Some(Become::Sudo), true),
            "sudo -S -k -p '[hascript-sudo-password]' -- /bin/sh -c 'LC_ALL=C ldm list -p'"
        );
        assert_eq!(
            remote_line(&c, Some(Become::Pfexec), false),
            "LC_ALL=C pfexec ldm list -p"
        );
        let s = Command::shell("h", "echo 'x'", hascript_api::Effect::Read);
        assert_eq!(
            remote_line(&s, Some(Become::Pfexec), false),
            r"pfexec /bin/sh -c 'LC_ALL=C; export LC_ALL; echo '\''x'\'''"
        );
    }
}
