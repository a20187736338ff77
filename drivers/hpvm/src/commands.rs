//! The exact commands this driver sends, in one place (the book's page `driver-hpvm.md`
//! lists them): full paths of the products (a non-interactive SSH session on HP-UX rarely
//! has `/usr/sbin` or `/opt/hpvm/bin` on its PATH) and argv vectors. Every VM, package and
//! node name is validated here, before a command exists; file paths are passed as one
//! quoted argument.

use hascript_api::{shell_quote, validate_name, Command, Error, Result};

/// Serviceguard cluster view.
pub const CMVIEWCL: &str = "/usr/sbin/cmviewcl";
/// Serviceguard: start a package.
pub const CMRUNPKG: &str = "/usr/sbin/cmrunpkg";
/// Serviceguard: halt a package.
pub const CMHALTPKG: &str = "/usr/sbin/cmhaltpkg";
/// Serviceguard: package and node switching.
pub const CMMODPKG: &str = "/usr/sbin/cmmodpkg";
/// Serviceguard: make a package configuration file from modules.
pub const CMMAKEPKG: &str = "/usr/sbin/cmmakepkg";
/// Serviceguard: verify a package configuration.
pub const CMCHECKCONF: &str = "/usr/sbin/cmcheckconf";
/// Serviceguard: apply a package configuration.
pub const CMAPPLYCONF: &str = "/usr/sbin/cmapplyconf";
/// LVM volume group display.
pub const VGDISPLAY: &str = "/usr/sbin/vgdisplay";
/// SD-UX product listing.
pub const SWLIST: &str = "/usr/sbin/swlist";
/// File system of a path.
pub const DF: &str = "/usr/bin/df";
/// Integrity VM status.
pub const HPVMSTATUS: &str = "/opt/hpvm/bin/hpvmstatus";
/// Integrity VM migration.
pub const HPVMMIGRATE: &str = "/opt/hpvm/bin/hpvmmigrate";
/// Integrity VM start.
pub const HPVMSTART: &str = "/opt/hpvm/bin/hpvmstart";
/// Integrity VM stop.
pub const HPVMSTOP: &str = "/opt/hpvm/bin/hpvmstop";
/// The toolkit's folder of scripts.
pub const TKIT_SCRIPTS: &str = "/etc/cmcluster/scripts/tkit/vtn";
/// The toolkit's online migration of a VM package.
pub const CMMOVEVPKG: &str = "/etc/cmcluster/scripts/tkit/vtn/cmmovevpkg";
/// The toolkit's easy deployment (and maintenance mode, removal, conversion).
pub const CMDEPLOYVPKG: &str = "/etc/cmcluster/scripts/tkit/vtn/cmdeployvpkg";
/// The toolkit's module (`cmmakepkg -m`).
pub const TKIT_MODULE: &str = "tkit/vtn/vtn";
/// Where package directories live.
pub const CMCLUSTER_DIR: &str = "/etc/cmcluster";
/// Default package log folder (`$SGRUN/log`).
pub const PACKAGE_LOG_DIR: &str = "/var/adm/cmcluster/log";
/// HP-UX syslog.
pub const SYSLOG: &str = "/var/adm/syslog/syslog.log";
/// The product that online migration needs (B5).
pub const PRODUCT_OVMM: &str = "T8718AC";
/// The toolkit's product (B0).
pub const PRODUCT_TOOLKIT: &str = "SG-IVS-Toolkit";
/// Serviceguard's product (its revision is the Serviceguard release, `A.11.20.00`).
pub const PRODUCT_SERVICEGUARD: &str = "T1905CA";
/// The Serviceguard release from which application monitors may be moved online: it
/// requires every service command sent to one guest to be unique (B0).
pub const SG_RELEASE_APPMON_ONLINE: &str = "A.11.20";

fn name(what: &str, v: &str) -> Result<()> {
    validate_name(what, v)
}

/// A path that may reach a command line: absolute, no NUL or newline.
fn path(p: &str) -> Result<()> {
    if p.starts_with('/') && !p.contains(['\0', '\n', '\r']) {
        Ok(())
    } else {
        Err(Error::usage(format!(
            "invalid path {:?}: an absolute path without control characters is needed",
            hascript_api::names::shorten(p)
        )))
    }
}

/// `/etc/cmcluster/<vm>` (the package directory).
pub fn package_dir(vm: &str) -> Result<String> {
    name("package", vm)?;
    Ok(format!("{CMCLUSTER_DIR}/{vm}"))
}

/// `/etc/cmcluster/<vm>/<vm>.conf` (the package configuration file).
pub fn package_file(vm: &str) -> Result<String> {
    Ok(format!("{}/{vm}.conf", package_dir(vm)?))
}

/// `/var/adm/cmcluster/log/<vm>.log` (the package log's default place).
pub fn package_log(vm: &str) -> Result<String> {
    name("package", vm)?;
    Ok(format!("{PACKAGE_LOG_DIR}/{vm}.log"))
}

/// `cmviewcl -v -f line`.
pub fn cmviewcl(host: &str) -> Command {
    Command::read(host, &[CMVIEWCL, "-v", "-f", "line"])
}

/// `hpvmstatus` (the summary table).
pub fn hpvmstatus(host: &str) -> Command {
    Command::read(host, &[HPVMSTATUS])
}

/// `hpvmstatus -P VM` (one guest's details).
pub fn hpvmstatus_p(host: &str, vm: &str) -> Result<Command> {
    name("VM", vm)?;
    Ok(Command::read(host, &[HPVMSTATUS, "-P", vm]))
}

/// `vgdisplay VG`.
pub fn vgdisplay(host: &str, vg: &str) -> Result<Command> {
    let vg_name = vg.rsplit('/').next().unwrap_or(vg);
    name("volume group", vg_name)?;
    Ok(Command::read(host, &[VGDISPLAY, vg]))
}

/// `df -n PATH` (the file system type of a file backing store).
pub fn df_n(host: &str, file: &str) -> Result<Command> {
    path(file)?;
    Ok(Command::read(host, &[DF, "-n", file]))
}

/// `swlist -l product PRODUCT`.
pub fn swlist(host: &str, product: &str) -> Result<Command> {
    name("product", product)?;
    Ok(Command::read(host, &[SWLIST, "-l", "product", product]))
}

/// `hpvmmigrate -s -o -P VM -h TARGET` (checks only: `-s`).
pub fn hpvmmigrate_check(source: &str, vm: &str, target: &str) -> Result<Command> {
    name("VM", vm)?;
    name("VM host", target)?;
    Ok(Command::read(
        source,
        &[HPVMMIGRATE, "-s", "-o", "-P", vm, "-h", target],
    ))
}

/// `cmmovevpkg -v -P VM -h TARGET` (on the source).
pub fn cmmovevpkg(source: &str, vm: &str, target: &str) -> Result<Command> {
    name("VM", vm)?;
    name("VM host", target)?;
    Ok(Command::change(
        source,
        &[CMMOVEVPKG, "-v", "-P", vm, "-h", target],
    ))
}

/// `cmrunpkg [-n NODE] VM`.
pub fn cmrunpkg(host: &str, vm: &str, node: Option<&str>) -> Result<Command> {
    name("package", vm)?;
    let mut argv = vec![CMRUNPKG];
    if let Some(n) = node {
        name("node", n)?;
        argv.extend(["-n", n]);
    }
    argv.push(vm);
    Ok(Command::change(host, &argv))
}

/// `cmhaltpkg VM`.
pub fn cmhaltpkg(host: &str, vm: &str) -> Result<Command> {
    name("package", vm)?;
    Ok(Command::change(host, &[CMHALTPKG, vm]))
}

/// `cmmodpkg -e|-d [-n NODE] VM`: package switching, or node switching on `node`.
pub fn cmmodpkg(host: &str, vm: &str, enable: bool, node: Option<&str>) -> Result<Command> {
    name("package", vm)?;
    let mut argv = vec![CMMODPKG, if enable { "-e" } else { "-d" }];
    if let Some(n) = node {
        name("node", n)?;
        argv.extend(["-n", n]);
    }
    argv.push(vm);
    Ok(Command::change(host, &argv))
}

/// `cmmakepkg -m tkit/vtn/vtn -n VM FILE`.
pub fn cmmakepkg(host: &str, vm: &str, file: &str) -> Result<Command> {
    name("package", vm)?;
    path(file)?;
    Ok(Command::change(
        host,
        &[CMMAKEPKG, "-m", TKIT_MODULE, "-n", vm, file],
    ))
}

/// `cmcheckconf -P FILE` (verifies; changes nothing).
pub fn cmcheckconf(host: &str, file: &str) -> Result<Command> {
    path(file)?;
    Ok(Command::read(host, &[CMCHECKCONF, "-P", file]))
}

/// `cmapplyconf -P FILE`, answering its confirmation with `y`.
pub fn cmapplyconf(host: &str, file: &str) -> Result<Command> {
    path(file)?;
    Ok(Command::change(host, &[CMAPPLYCONF, "-P", file]).with_stdin(b"y\n".to_vec()))
}

/// What `cmdeployvpkg -Q -P VM` is asked to do besides the default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeployArgs {
    /// `-n NODE` for each node (none: the toolkit's choice).
    pub nodes: Vec<String>,
    /// `-x merge` (keep the existing file's settings).
    pub merge: bool,
    /// `-x appmon=SPEC` for each application monitor.
    pub appmon: Vec<String>,
}

/// `cmdeployvpkg -Q -P VM [-n N]… [-x merge] [-x appmon=SPEC]…` (on the owner).
pub fn cmdeployvpkg(host: &str, vm: &str, args: &DeployArgs) -> Result<Command> {
    name("VM", vm)?;
    let mut argv: Vec<String> = vec![CMDEPLOYVPKG.into(), "-Q".into(), "-P".into(), vm.into()];
    for n in &args.nodes {
        name("node", n)?;
        argv.extend(["-n".into(), n.clone()]);
    }
    if args.merge || !args.appmon.is_empty() {
        argv.extend(["-x".into(), "merge".into()]);
    }
    for spec in &args.appmon {
        if spec.contains(['\0', '\n', '\r']) {
            return Err(Error::usage(
                "an application monitor specification cannot hold control characters",
            ));
        }
        argv.extend(["-x".into(), format!("appmon={spec}")]);
    }
    Ok(Command::change(host, &argv))
}

/// `cmdeployvpkg -m 1|0 -P VM` (toolkit maintenance mode on the local node).
pub fn cmdeployvpkg_maintenance(host: &str, vm: &str, on: bool) -> Result<Command> {
    name("VM", vm)?;
    Ok(Command::change(
        host,
        &[CMDEPLOYVPKG, "-m", if on { "1" } else { "0" }, "-P", vm],
    ))
}

/// `cmdeployvpkg -Q -C -P VM -h TARGET` (online conversion of an old package).
pub fn cmdeployvpkg_convert(host: &str, vm: &str, target: &str) -> Result<Command> {
    name("VM", vm)?;
    name("VM host", target)?;
    Ok(Command::change(
        host,
        &[CMDEPLOYVPKG, "-Q", "-C", "-P", vm, "-h", target],
    ))
}

/// `cmdeployvpkg -P VM -U` (remove the package), confirming with `y`.
pub fn cmdeployvpkg_remove(host: &str, vm: &str) -> Result<Command> {
    name("VM", vm)?;
    Ok(Command::change(host, &[CMDEPLOYVPKG, "-P", vm, "-U"]).with_stdin(b"y\n".to_vec()))
}

/// `hpvmstart -P VM`.
pub fn hpvmstart(host: &str, vm: &str) -> Result<Command> {
    name("VM", vm)?;
    Ok(Command::change(host, &[HPVMSTART, "-P", vm]))
}

/// `hpvmstop -P VM -F`.
pub fn hpvmstop(host: &str, vm: &str) -> Result<Command> {
    name("VM", vm)?;
    Ok(Command::change(host, &[HPVMSTOP, "-P", vm, "-F"]))
}

/// `cat FILE`.
pub fn cat(host: &str, file: &str) -> Result<Command> {
    path(file)?;
    Ok(Command::read(host, &["cat", file]))
}

/// `ls -ld PATH` (exit 2: missing).
pub fn ls_ld(host: &str, p: &str) -> Result<Command> {
    path(p)?;
    Ok(Command::read(host, &["ls", "-ld", p]))
}

/// `ls -lA DIR`.
pub fn ls_la(host: &str, dir: &str) -> Result<Command> {
    path(dir)?;
    Ok(Command::read(host, &["ls", "-lA", dir]))
}

/// `mkdir -p DIR`.
pub fn mkdir_p(host: &str, dir: &str) -> Result<Command> {
    path(dir)?;
    Ok(Command::change(host, &["mkdir", "-p", dir]))
}

/// `chmod go-w PATH`.
pub fn chmod_go_w(host: &str, p: &str) -> Result<Command> {
    path(p)?;
    Ok(Command::change(host, &["chmod", "go-w", p]))
}

/// `cp -p FROM TO`.
pub fn cp_p(host: &str, from: &str, to: &str) -> Result<Command> {
    path(from)?;
    path(to)?;
    Ok(Command::change(host, &["cp", "-p", from, to]))
}

/// Write `data` to `file` whole, with `mode` (octal, e.g. `0644`): the contract's one shell
/// line, `umask 077 && rm -f F.hascript && dd of=F.hascript && chmod MODE F.hascript &&
/// mv -f F.hascript F`, run by `sh -c` with the data on standard input. The path is quoted
/// with [`shell_quote`], never interpolated bare.
pub fn write_file(host: &str, file: &str, mode: u32, data: &[u8]) -> Result<Command> {
    path(file)?;
    if mode > 0o7777 {
        return Err(Error::usage(format!("invalid file mode {mode:o}")));
    }
    let tmp = shell_quote(&format!("{file}.hascript"));
    let dest = shell_quote(file);
    let script = format!(
        "umask 077 && rm -f {tmp} && dd of={tmp} && chmod {mode:04o} {tmp} && mv -f {tmp} {dest}"
    );
    Ok(Command::change(host, &["sh", "-c", script.as_str()]).with_stdin(data.to_vec()))
}

/// Java's `keytool` on HP-UX VM hosts and guests (B4; the contract's path).
pub const KEYTOOL: &str = "/opt/java6/bin/keytool";

/// `keytool -genkey -alias ALIAS -keystore STORE -storepass PW -keypass PW -validity DAYS
/// -dname DNAME` (B4 step 1, with `-dname` so nothing is asked). The password is a
/// secret of the command: shown as `*****`, sent as it is (HP-UX Java 1.4–1.6 `keytool`
/// takes store passwords only on its command line).
pub fn keytool_genkey(
    host: &str,
    alias: &str,
    store: &str,
    password: &str,
    validity: u32,
    dname: &str,
) -> Result<Command> {
    name("key alias", alias)?;
    path(store)?;
    secret_word(password)?;
    dname_ok(dname)?;
    let validity = validity.to_string();
    Ok(Command::change(
        host,
        &[
            KEYTOOL,
            "-genkey",
            "-alias",
            alias,
            "-keystore",
            store,
            "-storepass",
            password,
            "-keypass",
            password,
            "-validity",
            validity.as_str(),
            "-dname",
            dname,
        ],
    )
    .with_secret(password))
}

/// `keytool -export -alias ALIAS -keystore STORE -file FILE -storepass PW`.
pub fn keytool_export(
    host: &str,
    alias: &str,
    store: &str,
    file: &str,
    password: &str,
) -> Result<Command> {
    name("key alias", alias)?;
    path(store)?;
    path(file)?;
    secret_word(password)?;
    Ok(Command::change(
        host,
        &[
            KEYTOOL,
            "-export",
            "-alias",
            alias,
            "-keystore",
            store,
            "-file",
            file,
            "-storepass",
            password,
        ],
    )
    .with_secret(password))
}

/// `keytool -import -noprompt -alias ALIAS -keystore STORE -file FILE -storepass PW`.
pub fn keytool_import(
    host: &str,
    alias: &str,
    store: &str,
    file: &str,
    password: &str,
) -> Result<Command> {
    name("key alias", alias)?;
    path(store)?;
    path(file)?;
    secret_word(password)?;
    Ok(Command::change(
        host,
        &[
            KEYTOOL,
            "-import",
            "-noprompt",
            "-alias",
            alias,
            "-keystore",
            store,
            "-file",
            file,
            "-storepass",
            password,
        ],
    )
    .with_secret(password))
}

/// `keytool -list -keystore STORE -storepass PW` (does the password open an existing
/// store?).
pub fn keytool_list(host: &str, store: &str, password: &str) -> Result<Command> {
    path(store)?;
    secret_word(password)?;
    Ok(Command::read(
        host,
        &[KEYTOOL, "-list", "-keystore", store, "-storepass", password],
    )
    .with_secret(password))
}

/// A store password: 6 to 128 characters without control characters (Java's `keytool`
/// refuses shorter ones). The message never repeats the value.
pub(crate) fn secret_word(pw: &str) -> Result<()> {
    let n = pw.chars().count();
    if (6..=128).contains(&n) && !pw.chars().any(char::is_control) {
        Ok(())
    } else {
        Err(Error::usage(format!(
            "a key store password must be 6 to 128 characters without control characters (keytool refuses shorter ones); the one given has {n}"
        )))
    }
}

/// A `-dname` value: `CN=…, OU=…`, printable, no quotes or backslashes.
pub(crate) fn dname_ok(d: &str) -> Result<()> {
    let ok = d.contains('=')
        && d.len() <= 256
        && d.chars()
            .all(|c| c.is_ascii_alphanumeric() || " =,.-_@".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::usage(format!(
            "invalid -dname {:?}: write it as CN=<name>, OU=<unit>, O=<organisation>, C=<country> with letters, digits, spaces and . - _ @",
            hascript_api::names::shorten(d)
        )))
    }
}

/// `od -A n -v -t x1 FILE`: a file's bytes as hex, so binary files (Java key stores)
/// cross a text transport unharmed.
pub fn od_hex(host: &str, file: &str) -> Result<Command> {
    path(file)?;
    Ok(Command::read(
        host,
        &["od", "-A", "n", "-v", "-t", "x1", file],
    ))
}

/// `chmod MODE PATH` (octal).
pub fn chmod_mode(host: &str, p: &str, mode: u32) -> Result<Command> {
    path(p)?;
    if mode > 0o7777 {
        return Err(Error::usage(format!("invalid file mode {mode:o}")));
    }
    let m = format!("{mode:o}");
    Ok(Command::change(host, &["chmod", m.as_str(), p]))
}

/// `mv -f FROM TO`.
pub fn mv_f(host: &str, from: &str, to: &str) -> Result<Command> {
    path(from)?;
    path(to)?;
    Ok(Command::change(host, &["mv", "-f", from, to]))
}

/// `ps -ef` (a guest's processes).
pub fn ps_ef(host: &str) -> Command {
    Command::read(host, &["ps", "-ef"])
}

/// `kill -9 PID` (B4 step 6: the failure test).
pub fn kill_9(host: &str, pid: u32) -> Result<Command> {
    if pid <= 1 {
        return Err(Error::usage(format!("refusing to kill process {pid}")));
    }
    let p = pid.to_string();
    Ok(Command::change(host, &["kill", "-9", p.as_str()]))
}

/// `wc -c FILE` (log size at the start of a run).
pub fn file_size(host: &str, file: &str) -> Result<Command> {
    path(file)?;
    Ok(Command::read(host, &["wc", "-c", file]))
}

/// `tail -c +N FILE` (what was written since offset N-1).
pub fn file_from(host: &str, file: &str, offset: u64) -> Result<Command> {
    path(file)?;
    let from = format!("+{}", offset + 1);
    Ok(Command::read(host, &["tail", "-c", from.as_str(), file]))
}

// ----- §5 step 3: cmappserver in a guest

/// SD-UX's installer (HP-UX guests).
pub const SWINSTALL: &str = "/usr/sbin/swinstall";
/// The RPM package manager (Red Hat and SLES guests).
pub const RPM: &str = "/bin/rpm";
/// Perl on the VM hosts (the port probe).
pub const PERL: &str = "/usr/bin/perl";
/// The port probe: a TCP connect to `$ARGV[0]` port `$ARGV[1]` within `$ARGV[2]` seconds
/// (a constant program; the address and port arrive as arguments, never in its text).
pub const PORT_PROBE: &str = "my $s = IO::Socket::INET->new(PeerAddr => $ARGV[0], PeerPort => $ARGV[1], Proto => 'tcp', Timeout => $ARGV[2]) or die \"$ARGV[0] port $ARGV[1]: $@\\n\"; close($s); print \"connected to $ARGV[0] port $ARGV[1]\\n\";";

/// `uname -r` (an HP-UX guest's release: `B.11.31`).
pub fn uname_r(host: &str) -> Command {
    Command::read(host, &["uname", "-r"])
}

/// `swlist -s DEPOT -l product PRODUCT` (a depot's revision).
pub fn swlist_depot(host: &str, depot: &str, product: &str) -> Result<Command> {
    path(depot)?;
    name("product", product)?;
    Ok(Command::read(
        host,
        &[SWLIST, "-s", depot, "-l", "product", product],
    ))
}

/// `swinstall -s DEPOT PRODUCT` (§5 step 3, HP-UX guests).
pub fn swinstall(host: &str, depot: &str, product: &str) -> Result<Command> {
    path(depot)?;
    name("product", product)?;
    Ok(Command::change(host, &[SWINSTALL, "-s", depot, product])
        .with_timeout(std::time::Duration::from_secs(1800)))
}

/// `rpm -q NAME` (the installed package's name-version-release).
pub fn rpm_q(host: &str, package: &str) -> Result<Command> {
    name("rpm package", package)?;
    Ok(Command::read(host, &[RPM, "-q", package]))
}

/// `rpm -qp FILE` (an rpm file's name-version-release).
pub fn rpm_qp(host: &str, file: &str) -> Result<Command> {
    path(file)?;
    Ok(Command::read(host, &[RPM, "-qp", file]))
}

/// `rpm -i FILE`, or `rpm -U FILE` to upgrade (§5 step 3, Linux guests).
pub fn rpm_install(host: &str, file: &str, upgrade: bool) -> Result<Command> {
    path(file)?;
    let op = if upgrade { "-U" } else { "-i" };
    Ok(Command::change(host, &[RPM, op, file]).with_timeout(std::time::Duration::from_secs(1800)))
}

/// `java -version` by name: the guide asks for Java on the guest's PATH.
pub fn java_version(host: &str) -> Command {
    Command::read(host, &["java", "-version"])
}

/// `perl -MIO::Socket::INET -e PROBE ADDRESS PORT TIMEOUT` on a VM host: does the guest's
/// `cmappserver` port answer? Read-only (a connect, closed at once).
pub fn port_probe(host: &str, address: &str, port: u16, timeout_s: u32) -> Result<Command> {
    name("guest address", address)?;
    let (p, t) = (port.to_string(), timeout_s.to_string());
    Ok(Command::read(
        host,
        &[
            PERL,
            "-MIO::Socket::INET",
            "-e",
            PORT_PROBE,
            address,
            p.as_str(),
            t.as_str(),
        ],
    )
    .with_timeout(std::time::Duration::from_secs(u64::from(timeout_s) + 30)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hascript_api::{Effect, ErrorKind};

    #[test]
    fn lines_have_full_paths_and_the_c_locale() {
        assert_eq!(
            cmviewcl("node1").line(),
            "LC_ALL=C /usr/sbin/cmviewcl -v -f line"
        );
        let c = cmmovevpkg("node1", "slvm1", "node2").expect("valid");
        assert_eq!(
            c.line(),
            "LC_ALL=C /etc/cmcluster/scripts/tkit/vtn/cmmovevpkg -v -P slvm1 -h node2"
        );
        assert_eq!(c.effect, Effect::Change);
        let c = hpvmmigrate_check("node1", "slvm1", "node2").expect("valid");
        assert_eq!(c.effect, Effect::Read);
        assert_eq!(
            c.display(),
            "/opt/hpvm/bin/hpvmmigrate -s -o -P slvm1 -h node2"
        );
    }

    #[test]
    fn bad_names_never_become_commands() {
        for bad in ["slvm1;reboot", "", "-rf", "a b"] {
            let e = cmrunpkg("node1", bad, None).err().map(|e| e.kind);
            assert_eq!(e, Some(ErrorKind::Usage), "{bad}");
            let e = cmmodpkg("node1", "slvm1", true, Some(bad))
                .err()
                .map(|e| e.kind);
            assert_eq!(e, Some(ErrorKind::Usage), "{bad}");
        }
        assert!(cat("node1", "relative/path").is_err());
        assert!(cat("node1", "/x\ny").is_err());
    }

    #[test]
    fn switching_commands() {
        let d = |c: Command| c.display();
        assert_eq!(
            d(cmmodpkg("n", "slvm1", true, None).expect("ok")),
            "/usr/sbin/cmmodpkg -e slvm1"
        );
        assert_eq!(
            d(cmmodpkg("n", "slvm1", false, Some("node2")).expect("ok")),
            "/usr/sbin/cmmodpkg -d -n node2 slvm1"
        );
        assert_eq!(
            d(cmrunpkg("n", "slvm1", Some("node1")).expect("ok")),
            "/usr/sbin/cmrunpkg -n node1 slvm1"
        );
    }

    #[test]
    fn apply_and_remove_confirm_on_stdin() {
        let c = cmapplyconf("node1", "/etc/cmcluster/slvm1/slvm1.conf").expect("ok");
        assert_eq!(c.stdin.as_deref(), Some(&b"y\n"[..]));
        let c = cmdeployvpkg_remove("node1", "slvm1").expect("ok");
        assert_eq!(c.stdin.as_deref(), Some(&b"y\n"[..]));
        assert_eq!(
            c.display(),
            "/etc/cmcluster/scripts/tkit/vtn/cmdeployvpkg -P slvm1 -U"
        );
    }

    #[test]
    fn deploy_builds_nodes_merge_and_appmon() {
        let a = DeployArgs {
            nodes: vec!["node1".into(), "node2".into()],
            merge: false,
            appmon: vec!["app_mon:/app/mon -display 16.213.12.70:0.0:10:1:300".into()],
        };
        let c = cmdeployvpkg("node1", "slvm1", &a).expect("ok");
        assert_eq!(
            c.line(),
            "LC_ALL=C /etc/cmcluster/scripts/tkit/vtn/cmdeployvpkg -Q -P slvm1 -n node1 -n node2 -x merge -x 'appmon=app_mon:/app/mon -display 16.213.12.70:0.0:10:1:300'"
        );
        let c = cmdeployvpkg("node1", "slvm1", &DeployArgs::default()).expect("ok");
        assert_eq!(
            c.display(),
            "/etc/cmcluster/scripts/tkit/vtn/cmdeployvpkg -Q -P slvm1"
        );
    }

    #[test]
    fn write_file_is_one_quoted_shell_line_with_data_on_stdin() {
        let c =
            write_file("node1", "/etc/cmcluster/slvm1/slvm1.conf", 0o644, b"x y\n").expect("ok");
        assert_eq!(
            c.line(),
            "LC_ALL=C sh -c 'umask 077 && rm -f /etc/cmcluster/slvm1/slvm1.conf.hascript && dd of=/etc/cmcluster/slvm1/slvm1.conf.hascript && chmod 0644 /etc/cmcluster/slvm1/slvm1.conf.hascript && mv -f /etc/cmcluster/slvm1/slvm1.conf.hascript /etc/cmcluster/slvm1/slvm1.conf'"
        );
        assert_eq!(c.stdin.as_deref(), Some(&b"x y\n"[..]));
        // A path with a quote or a space stays one word inside the script.
        let c = write_file("node1", "/tmp/it's x", 0o600, b"").expect("ok");
        let hascript_api::Program::Argv(argv) = &c.program else {
            panic!("argv expected")
        };
        assert_eq!(
            argv[2],
            r"umask 077 && rm -f '/tmp/it'\''s x.hascript' && dd of='/tmp/it'\''s x.hascript' && chmod 0600 '/tmp/it'\''s x.hascript' && mv -f '/tmp/it'\''s x.hascript' '/tmp/it'\''s x'"
        );
    }

    #[test]
    fn package_paths() {
        assert_eq!(
            package_file("slvm1").expect("ok"),
            "/etc/cmcluster/slvm1/slvm1.conf"
        );
        assert_eq!(
            package_log("slvm1").expect("ok"),
            "/var/adm/cmcluster/log/slvm1.log"
        );
        assert!(package_dir("../etc").is_err());
    }
}
