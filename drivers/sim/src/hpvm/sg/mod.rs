//! Serviceguard commands: `cmviewcl` (tables, `-v`, `-f line`), `cmrunpkg`, `cmhaltpkg`,
//! `cmmodpkg`, `cmmakepkg`, `cmcheckconf`, `cmapplyconf`, `cmdeleteconf`. Layouts follow the
//! Serviceguard manual's samples and the contract page (`book/src/driver-hpvm.md`).

mod apply;
mod check;
mod cmmakepkg;
mod cmviewcl;
mod pkgctl;

use hascript_api::Output;

use super::{HpvmState, NodeState};

pub(crate) use apply::{cmapplyconf, cmdeleteconf};
pub(crate) use check::cmcheckconf;
pub(crate) use cmmakepkg::cmmakepkg;
pub(crate) use cmviewcl::cmviewcl;
pub(crate) use pkgctl::{cmhaltpkg, cmmodpkg, cmrunpkg};

fn ok(stdout: impl Into<String>) -> Output {
    Output::new(0, stdout, "")
}

fn fail(code: i32, stderr: impl Into<String>) -> Output {
    Output::new(code, "", stderr)
}

fn node_status(st: &HpvmState, n: &str) -> &'static str {
    match st.node(n).map(|i| st.nodes[i].state) {
        Some(NodeState::Running) => "up",
        _ => "down",
    }
}

fn no_package(cmd: &str, p: &str) -> Output {
    fail(1, format!("{cmd}: Package {p} does not exist.\n"))
}

fn file_arg(args: &[String], cmd: &str) -> Result<String, Output> {
    match args {
        [p, f] if p == "-P" => Ok(f.clone()),
        [p, f, v] | [v, p, f] if p == "-P" && v == "-v" => Ok(f.clone()),
        _ => Err(fail(
            2,
            format!("usage: {cmd} [-v] -P package_file\n(the simulator checks one package file)\n"),
        )),
    }
}
