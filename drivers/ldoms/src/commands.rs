//! The exact commands this driver sends, in one place: full paths (a non-interactive SSH
//! session on Solaris rarely has the products' folders on its PATH) and argv vectors.

use hascript_api::Command;

/// `ldm` (Oracle VM Server for SPARC).
pub const LDM: &str = "/usr/sbin/ldm";
/// PRIMECLUSTER CF status.
pub const CFTOOL: &str = "/opt/SMAW/bin/cftool";
/// PRIMECLUSTER CF tunables.
pub const CFSET: &str = "/opt/SMAW/bin/cfset";
/// PRIMECLUSTER shutdown facility.
pub const SDTOOL: &str = "/opt/SMAW/bin/sdtool";
/// RMS display.
pub const HVDISP: &str = "/opt/SMAW/bin/hvdisp";
/// The migration helper of PRIMECLUSTER (17.3.1).
pub const CLOVMMIGRATE: &str = "/etc/opt/FJSVcluster/bin/clovmmigrate";
/// SF XSCF configuration listing (17.3.1.2 step 2).
pub const CLSNMPSETUP: &str = "/etc/opt/FJSVcluster/bin/clsnmpsetup";
/// Solaris syslog.
pub const MESSAGES: &str = "/var/adm/messages";
/// RMS switchlog.
pub const SWITCHLOG: &str = "/var/opt/SMAWRrms/log/switchlog";

/// `ldm list -p` on a control domain.
pub fn ldm_list(cd: &str) -> Command {
    Command::read(cd, &[LDM, "list", "-p"])
}

/// `ldm list-spconfig` on a control domain.
pub fn ldm_list_spconfig(cd: &str) -> Command {
    Command::read(cd, &[LDM, "list-spconfig"])
}

/// `ldm remove-spconfig NAME`.
pub fn ldm_remove_spconfig(cd: &str, name: &str) -> Command {
    Command::change(cd, &[LDM, "remove-spconfig", name])
}

/// `ldm migrate-domain -n GUEST TARGET` (the LDoms dry run).
pub fn ldm_migrate_dry_run(cd: &str, guest: &str, target: &str) -> Command {
    Command::read(cd, &[LDM, "migrate-domain", "-n", guest, target])
}

/// `ldm migrate-domain GUEST TARGET`.
/// With `password_file`, `-p FILE`: the target's password read from a file on the source
/// control domain, for sites without certificate trust between the control domains.
pub fn ldm_migrate(cd: &str, guest: &str, target: &str, password_file: Option<&str>) -> Command {
    match password_file {
        Some(f) => Command::change(cd, &[LDM, "migrate-domain", "-p", f, guest, target]),
        None => Command::change(cd, &[LDM, "migrate-domain", guest, target]),
    }
}

/// `ldm start-domain GUEST`.
pub fn ldm_start(cd: &str, guest: &str) -> Command {
    Command::change(cd, &[LDM, "start-domain", guest])
}

/// `ldm stop-domain GUEST`.
pub fn ldm_stop(cd: &str, guest: &str) -> Command {
    Command::change(cd, &[LDM, "stop-domain", guest])
}

/// `ldm cancel-operation migration GUEST` (on the source control domain of a migration
/// under way).
pub fn ldm_cancel_migration(cd: &str, guest: &str) -> Command {
    Command::change(cd, &[LDM, "cancel-operation", "migration", guest])
}

/// `ldm stop-domain -f GUEST` (a forced stop: the guest's OS is not asked to shut down).
pub fn ldm_stop_forced(cd: &str, guest: &str) -> Command {
    Command::change(cd, &[LDM, "stop-domain", "-f", guest])
}

/// `clovmmigrate -p GUEST` (17.3.1.1).
pub fn clovmmigrate_prepare(cd: &str, guest: &str) -> Command {
    Command::change(cd, &[CLOVMMIGRATE, "-p", guest])
}

/// `clovmmigrate -u GUEST TARGET-HOST` (17.3.1.2 step 1).
pub fn clovmmigrate_update(cd: &str, guest: &str, target_host: &str) -> Command {
    Command::change(cd, &[CLOVMMIGRATE, "-u", guest, target_host])
}

/// The hosts table of a Solaris host (where `clovmmigrate -u` looks up its target-host).
pub const HOSTS_FILE: &str = "/etc/inet/hosts";

/// `cat /etc/inet/hosts`.
pub fn hosts_file(host: &str) -> Command {
    Command::read(host, &["cat", HOSTS_FILE])
}

/// `cftool -n`.
pub fn cftool_n(guest: &str) -> Command {
    Command::read(guest, &[CFTOOL, "-n"])
}

/// `cfset -a`.
pub fn cfset_a(guest: &str) -> Command {
    Command::read(guest, &[CFSET, "-a"])
}

/// `sdtool -s`.
pub fn sdtool_s(guest: &str) -> Command {
    Command::read(guest, &[SDTOOL, "-s"])
}

/// `sdtool -b` (start the shutdown facility).
pub fn sdtool_start(guest: &str) -> Command {
    Command::change(guest, &[SDTOOL, "-b"])
}

/// `sdtool -e` (stop the shutdown facility).
pub fn sdtool_stop(guest: &str) -> Command {
    Command::change(guest, &[SDTOOL, "-e"])
}

/// `clsnmpsetup -l`.
pub fn clsnmpsetup_l(guest: &str) -> Command {
    Command::read(guest, &[CLSNMPSETUP, "-l"])
}

/// `hvdisp -T userApplication`.
pub fn hvdisp_apps(guest: &str) -> Command {
    Command::read(guest, &[HVDISP, "-T", "userApplication"])
}

/// `ssh-keygen -F ADDRESS` (is the host key of ADDRESS known to this host's root?).
pub fn known_host(guest: &str, address: &str) -> Command {
    Command::read(guest, &["ssh-keygen", "-F", address])
}

/// `wc -c FILE` (log size at the start of a run).
pub fn file_size(host: &str, file: &str) -> Command {
    Command::read(host, &["wc", "-c", file])
}

/// `tail -c +N FILE` (log lines written since offset N-1).
pub fn file_from(host: &str, file: &str, offset: u64) -> Command {
    let from = format!("+{}", offset + 1);
    Command::read(host, &["tail", "-c", from.as_str(), file])
}
