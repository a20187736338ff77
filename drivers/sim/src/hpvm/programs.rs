//! Which product programs each simulated host has (HP-UX commands everywhere; Serviceguard,
//! Integrity VM and the toolkit on VM hosts; `cmappserver`'s by guest OS), whether a host
//! answers SSH, and the dispatch of one program to its emulator.

use hascript_api::Output;

use super::{cmappserver, fs, guest, sg, tkit, vm, HpvmState, TKIT_SCRIPTS};
use crate::posix::{ProcessIo, ProgramSpec};
use crate::world::World;

const SG_SBIN: &[&str] = &["/usr/sbin"];
const HPVM_BIN: &[&str] = &["/opt/hpvm/bin"];
const TKIT: &[&str] = &[TKIT_SCRIPTS];
const JAVA: &[&str] = &["/opt/java6/bin"];
const USR_BIN: &[&str] = &["/usr/bin"];

/// The HP-UX commands every host of this site has.
const HPUX_PROGRAMS: &[ProgramSpec] = &[
    ProgramSpec {
        name: "ls",
        dirs: USR_BIN,
    },
    ProgramSpec {
        name: "mkdir",
        dirs: USR_BIN,
    },
    ProgramSpec {
        name: "chmod",
        dirs: USR_BIN,
    },
    ProgramSpec {
        name: "cp",
        dirs: USR_BIN,
    },
    ProgramSpec {
        name: "mv",
        dirs: USR_BIN,
    },
    ProgramSpec {
        name: "rm",
        dirs: USR_BIN,
    },
    ProgramSpec {
        name: "dd",
        dirs: USR_BIN,
    },
    ProgramSpec {
        name: "od",
        dirs: USR_BIN,
    },
    ProgramSpec {
        name: "ps",
        dirs: USR_BIN,
    },
    ProgramSpec {
        name: "kill",
        dirs: USR_BIN,
    },
    ProgramSpec {
        name: "df",
        dirs: USR_BIN,
    },
    ProgramSpec {
        name: "swlist",
        dirs: SG_SBIN,
    },
    ProgramSpec {
        name: "keytool",
        dirs: JAVA,
    },
];

/// The commands of a VM host only.
const HOST_PROGRAMS: &[ProgramSpec] = &[
    ProgramSpec {
        name: "swinstall",
        dirs: SG_SBIN,
    },
    ProgramSpec {
        name: "cmviewcl",
        dirs: SG_SBIN,
    },
    ProgramSpec {
        name: "cmrunpkg",
        dirs: SG_SBIN,
    },
    ProgramSpec {
        name: "cmhaltpkg",
        dirs: SG_SBIN,
    },
    ProgramSpec {
        name: "cmmodpkg",
        dirs: SG_SBIN,
    },
    ProgramSpec {
        name: "cmmakepkg",
        dirs: SG_SBIN,
    },
    ProgramSpec {
        name: "cmcheckconf",
        dirs: SG_SBIN,
    },
    ProgramSpec {
        name: "cmapplyconf",
        dirs: SG_SBIN,
    },
    ProgramSpec {
        name: "cmdeleteconf",
        dirs: SG_SBIN,
    },
    ProgramSpec {
        name: "vgdisplay",
        dirs: SG_SBIN,
    },
    ProgramSpec {
        name: "hpvmstatus",
        dirs: HPVM_BIN,
    },
    ProgramSpec {
        name: "hpvmmigrate",
        dirs: HPVM_BIN,
    },
    ProgramSpec {
        name: "hpvmstart",
        dirs: HPVM_BIN,
    },
    ProgramSpec {
        name: "hpvmstop",
        dirs: HPVM_BIN,
    },
    ProgramSpec {
        name: "cmdeployvpkg",
        dirs: TKIT,
    },
    ProgramSpec {
        name: "cmmovevpkg",
        dirs: TKIT,
    },
];

impl HpvmState {
    /// Product programs on `host`: the HP-UX commands everywhere, Serviceguard, Integrity
    /// VM and the toolkit on VM hosts.
    pub(crate) fn programs(&self, host: &str) -> Vec<ProgramSpec> {
        match self.guest(host).map(|g| self.guests[g].os_type.as_str()) {
            Some("LINUX") => return cmappserver::LINUX_PROGRAMS.to_vec(),
            Some("WINDOWS") => return Vec::new(),
            _ => {}
        }
        let mut v = HPUX_PROGRAMS.to_vec();
        if self.node(host).is_some() {
            v.extend_from_slice(HOST_PROGRAMS);
            v.push(cmappserver::PERL);
        } else {
            v.push(cmappserver::SWINSTALL);
            v.push(cmappserver::HPUX_JAVA);
        }
        v
    }

    /// Guests answer SSH only while they run.
    pub(crate) fn reachable(&self, host: &str) -> Result<(), String> {
        match self.guest(host) {
            Some(g) if !self.guests[g].running => Err(format!(
                "ssh: connect to host {host} port 22: Connection refused"
            )),
            // A Windows guest has no SSH server.
            Some(g) if self.guests[g].os_type == "WINDOWS" => Err(format!(
                "ssh: connect to host {host} port 22: Connection refused"
            )),
            _ => Ok(()),
        }
    }

    /// Run one product program.
    pub(crate) fn run(
        &mut self,
        w: &mut World,
        host: &str,
        program: &str,
        args: &[String],
        io: &mut ProcessIo,
    ) -> Output {
        match program {
            "ls" | "mkdir" | "chmod" | "cp" | "mv" | "rm" | "dd" | "od" => {
                let now = w.now_ms;
                match w.host_mut(host) {
                    Some(os) => fs::run(os, now, program, args, io),
                    None => Output::new(127, "", format!("sh: {program}: not found\n")),
                }
            }
            "ps" => guest::ps(self, w, host, args),
            "kill" => guest::kill(self, w, host, args),
            "keytool" => guest::keytool(w, host, args),
            // The operator's Serviceguard upgrade on a VM host; CMAPPSERVER in a guest.
            "swinstall" if self.node(host).is_some() => vm::swinstall(self, host, args),
            "swinstall" => cmappserver::swinstall(self, w, host, args),
            "rpm" => cmappserver::rpm(self, w, host, args),
            "java" => cmappserver::java(self, host, args),
            "perl" => cmappserver::perl(self, args),
            "df" => vm::df(self, w, host, args),
            "swlist" => vm::swlist(self, w, host, args),
            "vgdisplay" => vm::vgdisplay(self, host, args),
            "hpvmstatus" => vm::hpvmstatus(self, host, args),
            "hpvmmigrate" => vm::hpvmmigrate(self, w, host, args),
            "hpvmstart" => vm::hpvmstart(self, w, host, args),
            "hpvmstop" => vm::hpvmstop(self, w, host, args),
            "cmviewcl" => sg::cmviewcl(self, args),
            "cmrunpkg" => sg::cmrunpkg(self, w, host, args),
            "cmhaltpkg" => sg::cmhaltpkg(self, w, host, args),
            "cmmodpkg" => sg::cmmodpkg(self, w, host, args),
            "cmmakepkg" => sg::cmmakepkg(self, w, host, args, io),
            "cmcheckconf" => sg::cmcheckconf(self, w, host, args),
            "cmapplyconf" => sg::cmapplyconf(self, w, host, args, io),
            "cmdeleteconf" => sg::cmdeleteconf(self, w, host, args),
            "cmdeployvpkg" => tkit::cmdeployvpkg(self, w, host, args, io),
            "cmmovevpkg" => tkit::cmmovevpkg(self, w, host, args),
            other => Output::new(127, "", format!("sh: {other}: not found\n")),
        }
    }
}
