//! The Serviceguard + HP Integrity VM emulator: VM hosts (HP-UX 11i v3, Integrity VM
//! B.04.30, Serviceguard A.11.20, the SG IVS toolkit `tkit/vtn/vtn`) forming one cluster, and
//! HP-UX guests that are simulated hosts too (processes, `cmappserver`, files).
//!
//! Its renderers are written from the manual (seed 004) and the contract page
//! (`book/src/driver-hpvm.md`), never from the hpvm driver's parsers: the two meet only
//! through the products' text.
//!
//! Time: commands that take time on a real site (starting a guest, an online migration)
//! move the virtual clock themselves; things that happen later by themselves (a monitored
//! application dying, `cmappmgr` giving up on an unreachable `cmappserver`) are scheduled
//! events applied in time order before each command ([`HpvmState::settle`]).

mod cmappserver;
mod conf;
pub(crate) mod fs;
mod guest;
pub(crate) mod scenario;
pub(crate) mod seed;
mod sg;
mod site;
mod tkit;
mod vm;

use std::collections::BTreeMap;

use hascript_api::Output;
use serde::{Deserialize, Serialize};

use crate::posix::{ProcessIo, ProgramSpec};
use crate::timefmt;
use crate::world::World;

pub(crate) use site::build;

/// HP-UX's syslog file.
pub(crate) const SYSLOG: &str = "/var/adm/syslog/syslog.log";
/// Where Serviceguard packages live.
pub(crate) const CMCLUSTER: &str = "/etc/cmcluster";
/// Serviceguard's run directory (`$SGRUN`).
pub(crate) const SGRUN: &str = "/var/adm/cmcluster";
/// The toolkit's scripts (`$SGCONF/scripts/tkit/vtn`).
pub(crate) const TKIT_SCRIPTS: &str = "/etc/cmcluster/scripts/tkit/vtn";
/// The maintenance file's name inside `TKIT_DIR` (assumed; see the contract page).
pub(crate) const MAINTENANCE_FILE: &str = "vtn.debug";
/// `PATH` of root's shell on the simulated HP-UX hosts.
pub(crate) const HPUX_PATH: &str =
    "/usr/sbin:/usr/bin:/bin:/sbin:/opt/hpvm/bin:/etc/cmcluster/scripts/tkit/vtn:/opt/java6/bin";

/// How long a guest takes to boot (`hpvmstart`, a package start).
pub(crate) const BOOT_MS: u64 = 45_000;
/// How long a guest takes to stop (`hpvmstop`, a package halt).
pub(crate) const STOP_MS: u64 = 20_000;
/// How long an online migration takes.
pub(crate) const MIGRATION_MS: u64 = 90_000;
/// How long `cmappmgr` needs to see that its application died.
pub(crate) const APP_DETECT_MS: u64 = 5_000;
/// The toolkit's `MONITOR_INTERVAL` (default 30 s): how long its guest monitor takes to
/// look again after maintenance mode is left.
pub(crate) const MONITOR_INTERVAL_MS: u64 = 30_000;

/// The state of a VM host as Serviceguard sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum NodeState {
    /// `up` / `running`.
    Running,
    /// `down` / `halted` (Serviceguard stopped on the node).
    Halted,
}

/// One installed product (`swlist -l product`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Product {
    /// Product tag.
    pub name: String,
    /// Revision.
    pub revision: String,
    /// Title.
    pub title: String,
}

/// A VM host: a Serviceguard cluster node running Integrity VM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct VmHost {
    /// Inventory name, host name and Serviceguard node name.
    pub name: String,
    /// Its address.
    pub address: String,
    /// Serviceguard on this node.
    pub state: NodeState,
    /// `swlist -l product`.
    pub products: Vec<Product>,
    /// Volume groups: name (`vg_slvm2`) → `VG Status` (`available, shared, server`).
    pub vgs: BTreeMap<String, String>,
    /// Mounted file systems: (mount point, device, type).
    pub mounts: Vec<(String, String, String)>,
    /// vswitches a guest may use that are not configured on this host (`hpvmmigrate` to it
    /// fails its vswitch validation); empty: every vswitch of every guest exists here.
    #[serde(default)]
    pub missing_vswitches: Vec<String>,
    /// The address of its heartbeat LAN (`lan0`) in `cmviewcl -f line`; `None`: not known
    /// (a copy that did not see it), the line is left out.
    #[serde(default)]
    pub heartbeat_ip: Option<String>,
}

/// Kind of a guest's backing store (`Storage` column of `hpvmstatus -P`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum StorageKind {
    /// A whole disk.
    Disk,
    /// An LVM logical volume.
    Lv,
    /// A file.
    File,
    /// No backing store.
    Null,
}

impl StorageKind {
    /// The word `hpvmstatus -P` prints.
    pub(crate) fn word(self) -> &'static str {
        match self {
            StorageKind::Disk => "disk",
            StorageKind::Lv => "lv",
            StorageKind::File => "file",
            StorageKind::Null => "null",
        }
    }
}

/// One virtual storage device of a guest (a row of `[Storage Interface Details]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Storage {
    /// Backing store kind.
    pub kind: StorageKind,
    /// Physical device or file.
    pub device: String,
    /// Guest device type (`disk`, `dvd`); state folders written before it existed read
    /// `disk`.
    #[serde(default = "Storage::default_guest_device")]
    pub guest_device: String,
    /// Adaptor (`scsi`, `avio_stor`).
    #[serde(default = "Storage::default_adaptor")]
    pub adaptor: String,
    /// Bus, device, function, target, LUN as printed; `None`: the row's position decides
    /// (`0 2 0 <2+i> 0`, the layout of the manual's transcript).
    #[serde(default)]
    pub address: Option<[u32; 5]>,
}

impl Storage {
    /// A `disk` on a `scsi` adaptor at the address its position gives.
    pub(crate) fn disk(kind: StorageKind, device: impl Into<String>) -> Storage {
        Storage {
            kind,
            device: device.into(),
            guest_device: Storage::default_guest_device(),
            adaptor: Storage::default_adaptor(),
            address: None,
        }
    }

    fn default_guest_device() -> String {
        "disk".into()
    }

    fn default_adaptor() -> String {
        "scsi".into()
    }

    /// Whether the row holds guest data that an online migration must carry: a `dvd` with
    /// no medium (`null`) does not (it is an empty drive), every disk does.
    pub(crate) fn is_backing_store(&self) -> bool {
        !(self.guest_device == "dvd" && self.kind == StorageKind::Null)
    }
}

/// One virtual NIC of a guest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Nic {
    /// The vswitch.
    pub vswitch: String,
    /// Its port number.
    pub port: u32,
    /// PCI bus / device / function.
    pub bus: u32,
    /// PCI device.
    pub dev: u32,
    /// PCI function.
    pub ftn: u32,
    /// MAC address as printed.
    pub mac: String,
}

/// A process of a guest's OS (or a host's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Proc {
    /// PID.
    pub pid: u32,
    /// Parent PID.
    pub ppid: u32,
    /// Owner.
    pub user: String,
    /// Command line.
    pub cmd: String,
    /// When it started (unix ms).
    pub started_ms: u64,
    /// The package service (`package/service`) whose `cmappmgr` monitors it.
    pub monitored_by: Option<String>,
}

/// An Integrity VM guest and the HP-UX running in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Guest {
    /// VM name; also the inventory and host name of its OS.
    pub name: String,
    /// VM number.
    pub number: u32,
    /// OS type (`HPUX`).
    pub os_type: String,
    /// Virtual CPUs.
    pub vcpus: u32,
    /// Memory as printed (`2 GB`).
    pub memory: String,
    /// Virtual disks.
    pub storage: Vec<Storage>,
    /// Virtual NICs.
    pub nics: Vec<Nic>,
    /// VM hosts where it is registered (a distributed guest is registered on several).
    pub registered: Vec<String>,
    /// The host where it is runnable (runs when on); `Off (NR)` everywhere else.
    pub home: String,
    /// Running (`On (OS)` on `home`).
    pub running: bool,
    /// When it last booted (unix ms).
    pub booted_ms: u64,
    /// Its OS's processes while it runs.
    pub procs: Vec<Proc>,
    /// `cmappserver` is installed in the guest.
    pub cmappserver: bool,
    /// The installed `cmappserver`'s revision (`A.11.20.00` when `None`).
    #[serde(default)]
    pub cmappserver_revision: Option<String>,
    /// `java -version` of the guest's `java` on root's PATH (`None`: no `java`).
    #[serde(default)]
    pub java: Option<String>,
}

/// A package service's restart limit (`service_restart`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Restart {
    /// `none`: never restarted.
    None,
    /// `unlimited` (`-R`).
    Unlimited,
    /// At most this many restarts.
    Count(u32),
}

impl Restart {
    /// Parse `none`, `unlimited` or a number.
    pub(crate) fn parse(s: &str) -> Option<Restart> {
        match s.trim() {
            "" | "none" => Some(Restart::None),
            "unlimited" => Some(Restart::Unlimited),
            n => n.parse().ok().map(Restart::Count),
        }
    }

    /// As `cmviewcl -f line` prints `max_restarts`.
    pub(crate) fn max_word(self) -> String {
        match self {
            Restart::None => "0".into(),
            Restart::Unlimited => "unlimited".into(),
            Restart::Count(n) => n.to_string(),
        }
    }

    /// Whether a service that was restarted `done` times may be restarted again.
    pub(crate) fn allows(self, done: u32) -> bool {
        match self {
            Restart::None => false,
            Restart::Unlimited => true,
            Restart::Count(n) => done < n,
        }
    }
}

/// One service of an applied package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Service {
    /// `service_name`.
    pub name: String,
    /// `service_cmd`.
    pub cmd: String,
    /// `service_restart`.
    pub restart: Restart,
    /// Restarts since the package started.
    pub restarts: u32,
    /// Running.
    pub up: bool,
}

impl Service {
    /// For a `cmappmgr` service: the guest (`-node`) and the monitored command (`-service`).
    pub(crate) fn appmon(&self) -> Option<(String, String)> {
        let words: Vec<&str> = self.cmd.split_whitespace().collect();
        if !words.first().is_some_and(|w| w.ends_with("cmappmgr")) {
            return None;
        }
        let node = words
            .windows(2)
            .find(|w| w[0] == "-node")
            .map(|w| w[1].to_string())?;
        let at = self.cmd.find("-service ")?;
        let app = self.cmd[at + "-service ".len()..].trim().to_string();
        Some((node, app))
    }
}

/// Which toolkit made a package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum PackageKind {
    /// The SG IVS toolkit (`tkit/vtn/vtn`).
    Toolkit,
    /// The old Integrity VM toolkit (`hpvmsg_package`).
    OldToolkit,
    /// Neither: a plain Serviceguard package.
    Plain,
}

/// An applied package (what `cmapplyconf` recorded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Package {
    /// `package_name` (= the VM name for VM packages).
    pub name: String,
    /// Which toolkit made it.
    pub kind: PackageKind,
    /// `node_name` list, in order (`*` expanded).
    pub nodes: Vec<String>,
    /// Running.
    pub up: bool,
    /// The node running it.
    pub owner: Option<String>,
    /// Package switching (`autorun`).
    pub autorun: bool,
    /// Node switching, per node.
    pub switching: BTreeMap<String, bool>,
    /// Services in file order.
    pub services: Vec<Service>,
    /// `failover_policy`.
    pub failover_policy: String,
    /// `failback_policy`.
    pub failback_policy: String,
    /// `script_log_file`, resolved.
    pub log_file: String,
    /// `tkit/vtn/vtn/TKIT_DIR`.
    pub tkit_dir: Option<String>,
    /// `tkit/vtn/vtn/MAINTENANCE_FLAG yes`.
    pub maintenance_flag: bool,
    /// A legacy package's control script (`run_script`/`halt_script` of `cmviewcl -f line`);
    /// `None` for modular packages.
    #[serde(default)]
    pub legacy_control_script: Option<String>,
}

/// Something that happens by itself at a given virtual time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub(crate) enum Event {
    /// A monitored application exited: its `cmappmgr` service fails.
    AppExited {
        /// Package.
        package: String,
        /// Service.
        service: String,
    },
    /// A monitored application dies by itself (scenario `app_failures`).
    AppDies {
        /// Guest.
        guest: String,
        /// Process id it had when scheduled.
        pid: u32,
    },
    /// `cmappmgr` gives up connecting to `cmappserver` (errno:238) and exits 1.
    CmappmgrTimeout {
        /// Package.
        package: String,
        /// Service.
        service: String,
    },
    /// A guest goes Off on its VM host by itself, as a crash would (scenario
    /// `guest_crash_seconds`).
    GuestCrash {
        /// Guest.
        guest: String,
    },
    /// The toolkit's guest monitor of a package looks at its guest (after maintenance mode
    /// was left).
    GuestMonitor {
        /// Package.
        package: String,
    },
}

/// An event and its time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Scheduled {
    /// Unix ms.
    pub at_ms: u64,
    /// Tie breaker.
    pub seq: u64,
    /// What happens.
    pub event: Event,
}

/// How `hpvmmigrate` fails in a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum MigrateFault {
    /// Migrations work.
    #[default]
    None,
    /// The online migration fails; the guest keeps running on the source.
    Fails,
    /// The migration lands on the target but reports an error.
    LandsWithError,
}

/// The faults of a scenario, as data.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub(crate) struct Fault {
    /// How online migrations fail.
    pub migrate: MigrateFault,
    /// How many more migrations fail that way.
    pub migrate_failures: u32,
    /// How many more times a monitored application dies by itself after starting.
    pub app_failures: u32,
    /// Seconds a monitored application lives before it dies (with `app_failures`).
    pub app_lifetime_s: u64,
    /// `cmappserver` cannot be reached from the hosts (port 5315 times out).
    pub cmappserver_unreachable: bool,
}

/// The whole Serviceguard site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct HpvmState {
    /// Cluster name.
    pub cluster: String,
    /// Serviceguard release (`A.11.20`; before `A.11.19` there is no `cmviewcl -f line`).
    pub sg_release: String,
    /// VM hosts in cluster order.
    pub nodes: Vec<VmHost>,
    /// Guests by VM number.
    pub guests: Vec<Guest>,
    /// Applied packages.
    pub packages: Vec<Package>,
    /// Scheduled events.
    pub events: Vec<Scheduled>,
    /// Next event sequence number.
    pub next_seq: u64,
    /// Next process id.
    pub next_pid: u32,
    /// The scenario's faults.
    pub fault: Fault,
}

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

    // ----- lookups -------------------------------------------------------------------

    /// Index of the VM host named `name`.
    pub(crate) fn node(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }

    /// Index of the guest named `name`.
    pub(crate) fn guest(&self, name: &str) -> Option<usize> {
        self.guests.iter().position(|g| g.name == name)
    }

    /// Index of the package named `name`.
    pub(crate) fn package(&self, name: &str) -> Option<usize> {
        self.packages.iter().position(|p| p.name == name)
    }

    /// The VM host where guest `g` runs now.
    pub(crate) fn running_on(&self, g: usize) -> Option<&str> {
        let guest = &self.guests[g];
        guest.running.then_some(guest.home.as_str())
    }

    /// Whether toolkit maintenance is on for package `p` on `node` (maintenance file present
    /// and `MAINTENANCE_FLAG yes`).
    pub(crate) fn in_maintenance(&self, w: &World, p: usize, node: &str) -> bool {
        let pkg = &self.packages[p];
        let Some(dir) = &pkg.tkit_dir else {
            return false;
        };
        pkg.maintenance_flag
            && w.hosts
                .get(node)
                .is_some_and(|os| os.file(&format!("{dir}/{MAINTENANCE_FILE}")).is_some())
    }

    // ----- events --------------------------------------------------------------------

    /// Schedule `event` at `at_ms`.
    pub(crate) fn schedule(&mut self, at_ms: u64, event: Event) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.events.push(Scheduled { at_ms, seq, event });
    }

    /// Apply every event due by `until_ms`, in time order, and move the clock there.
    pub(crate) fn settle(&mut self, w: &mut World, until_ms: u64) {
        loop {
            let next = self
                .events
                .iter()
                .enumerate()
                .filter(|(_, e)| e.at_ms <= until_ms)
                .min_by_key(|(_, e)| (e.at_ms, e.seq))
                .map(|(i, _)| i);
            let Some(i) = next else { break };
            let ev = self.events.remove(i);
            if ev.at_ms > w.now_ms {
                w.now_ms = ev.at_ms;
            }
            self.apply(w, ev.event);
        }
        if until_ms > w.now_ms {
            w.now_ms = until_ms;
        }
    }

    /// Let `ms` pass inside a command (events due meanwhile happen).
    pub(crate) fn pass(&mut self, w: &mut World, ms: u64) {
        let until = w.now_ms.saturating_add(ms);
        self.settle(w, until);
    }

    fn apply(&mut self, w: &mut World, event: Event) {
        match event {
            Event::AppDies { guest, pid } => {
                let Some(g) = self.guest(&guest) else { return };
                let Some(i) = self.guests[g].procs.iter().position(|p| p.pid == pid) else {
                    return;
                };
                let proc = self.guests[g].procs.remove(i);
                self.app_gone(w, &proc);
            }
            Event::AppExited { package, service } => {
                self.service_failed(w, &package, &service, 1);
            }
            Event::CmappmgrTimeout { package, service } => {
                let Some(p) = self.package(&package) else {
                    return;
                };
                let Some(owner) = self.packages[p].owner.clone() else {
                    return;
                };
                let Some(s) = self.packages[p]
                    .services
                    .iter()
                    .position(|s| s.name == service && s.up)
                else {
                    return;
                };
                let guest = self.packages[p].services[s]
                    .appmon()
                    .map(|(n, _)| n)
                    .unwrap_or_default();
                self.cmappmgr_unreachable_lines(w, &owner, &guest);
                self.service_failed(w, &package, &service, 1);
            }
            Event::GuestCrash { guest } => {
                let Some(g) = self.guest(&guest) else { return };
                if !self.guests[g].running {
                    return;
                }
                let gone = std::mem::take(&mut self.guests[g].procs);
                self.guests[g].running = false;
                for proc in &gone {
                    self.app_gone(w, proc);
                }
                // A VM package is named after its guest.
                if let Some(p) = self.package(&guest) {
                    self.guest_monitor(w, p);
                }
            }
            Event::GuestMonitor { package } => {
                if let Some(p) = self.package(&package) {
                    self.guest_monitor(w, p);
                }
            }
        }
    }

    /// The toolkit's guest monitor of package `p` looks at its guest: when the package runs
    /// but its guest does not, outside toolkit maintenance on the owner, it logs the manual's
    /// `Service monitor detected a failure in guest <vm>.` and its service fails (restart
    /// `none`: Serviceguard fails the package over, or halts it when no node can take it).
    /// In maintenance it does nothing (B3: a VM failure does not fail the package over).
    pub(crate) fn guest_monitor(&mut self, w: &mut World, p: usize) {
        let pkg = &self.packages[p];
        let Some(owner) = pkg.owner.clone().filter(|_| pkg.up) else {
            return;
        };
        let name = pkg.name.clone();
        let Some(g) = self.guest(&name) else { return };
        if self.running_on(g) == Some(owner.as_str()) || self.in_maintenance(w, p, &owner) {
            return;
        }
        let monitor = match pkg.kind {
            PackageKind::Toolkit => pkg
                .services
                .iter()
                .find(|s| s.up && s.cmd.contains("guest_monitor")),
            PackageKind::OldToolkit => pkg
                .services
                .iter()
                .find(|s| s.up && s.cmd.contains("hpvmsg_mon")),
            PackageKind::Plain => None,
        };
        let Some(service) = monitor.map(|s| s.name.clone()) else {
            return;
        };
        if pkg.kind == PackageKind::Toolkit {
            self.pkg_log(
                w,
                p,
                &owner,
                &format!("Service monitor detected a failure in guest {name}."),
            );
        }
        self.service_failed(w, &name, &service, 1);
    }

    /// A monitored process of a guest is gone: its `cmappmgr` notices shortly after.
    pub(crate) fn app_gone(&mut self, w: &World, proc: &Proc) {
        if let Some(key) = &proc.monitored_by {
            if let Some((package, service)) = key.split_once('/') {
                self.schedule(
                    w.now_ms.saturating_add(APP_DETECT_MS),
                    Event::AppExited {
                        package: package.into(),
                        service: service.into(),
                    },
                );
            }
        }
    }

    // ----- logs ----------------------------------------------------------------------

    /// Append `Mon dd hh:mm:ss - Node "node": text` to package `p`'s log on `node`.
    pub(crate) fn pkg_log(&self, w: &mut World, p: usize, node: &str, text: &str) {
        let file = self.packages[p].log_file.clone();
        let line = format!("{} - Node \"{node}\": {text}", timefmt::syslog(w.now_ms));
        if let Some(os) = w.host_mut(node) {
            os.append_line(&file, &line);
        }
    }

    /// Append a syslog line `Mon dd hh:mm:ss host tag: text` on `host`.
    pub(crate) fn syslog(w: &mut World, host: &str, tag: &str, text: &str) {
        let line = format!("{} {host} {tag}: {text}", timefmt::syslog(w.now_ms));
        if let Some(os) = w.host_mut(host) {
            os.append_line(SYSLOG, &line);
        }
    }

    /// The manual's three `cmappmgr` lines for an unreachable `cmappserver`.
    fn cmappmgr_unreachable_lines(&mut self, w: &mut World, host: &str, guest: &str) {
        let pid = self.alloc_pid();
        let tag = format!("cmappmgr[{pid}]");
        Self::syslog(
            w,
            host,
            &tag,
            &format!("Could not connect to the node {guest} Connection timed out (errno:238)"),
        );
        Self::syslog(
            w,
            host,
            &tag,
            "java.net.ConnectException: Connection timed out (errno:238)",
        );
        Self::syslog(w, host, &tag, "PROGRAM EXIT CODE 1");
    }

    /// A new process id.
    pub(crate) fn alloc_pid(&mut self) -> u32 {
        let pid = self.next_pid;
        self.next_pid = self.next_pid.wrapping_add(1).max(1000);
        pid
    }

    // ----- guests --------------------------------------------------------------------

    /// The processes of a freshly booted HP-UX guest.
    fn boot_procs(&mut self, w: &World, g: usize) -> Vec<Proc> {
        let now = w.now_ms;
        let mut v = vec![
            Proc {
                pid: 1,
                ppid: 0,
                user: "root".into(),
                cmd: "/sbin/init".into(),
                started_ms: now,
                monitored_by: None,
            },
            Proc {
                pid: self.alloc_pid(),
                ppid: 1,
                user: "root".into(),
                cmd: "/usr/sbin/syslogd -D".into(),
                started_ms: now,
                monitored_by: None,
            },
            Proc {
                pid: self.alloc_pid(),
                ppid: 1,
                user: "root".into(),
                cmd: "/opt/ssh/sbin/sshd".into(),
                started_ms: now,
                monitored_by: None,
            },
        ];
        if self.guests[g].cmappserver {
            v.push(Proc {
                pid: self.alloc_pid(),
                ppid: 1,
                user: "root".into(),
                cmd: "/opt/java6/bin/java -jar /opt/hp/cmappserver/cmappserver.jar -port 5315"
                    .into(),
                started_ms: now,
                monitored_by: None,
            });
        }
        v
    }

    /// Boot guest `g` on `node` (taking [`BOOT_MS`]).
    pub(crate) fn boot_guest(&mut self, w: &mut World, g: usize, node: &str) {
        self.pass(w, BOOT_MS);
        let procs = self.boot_procs(w, g);
        let guest = &mut self.guests[g];
        guest.home = node.to_string();
        guest.running = true;
        guest.booted_ms = w.now_ms;
        guest.procs = procs;
        let name = guest.name.clone();
        Self::syslog(
            w,
            &name,
            "vmunix",
            "Boot device's HP-UX revision is B.11.31 (HP-UX 11i v3)",
        );
    }

    /// Stop guest `g` (taking [`STOP_MS`]); its monitored applications are gone.
    pub(crate) fn stop_guest(&mut self, w: &mut World, g: usize) {
        self.pass(w, STOP_MS);
        let guest = &mut self.guests[g];
        guest.running = false;
        guest.procs.clear();
    }

    /// Whether `cmappserver` in guest `g` answers on port 5315.
    pub(crate) fn cmappserver_reachable(&self, g: usize) -> bool {
        let guest = &self.guests[g];
        guest.running && guest.cmappserver && !self.fault.cmappserver_unreachable
    }

    // ----- packages ------------------------------------------------------------------

    /// Start the application monitored by service `s` of package `p` in its guest, or
    /// schedule `cmappmgr`'s failure when `cmappserver` cannot be reached.
    pub(crate) fn start_appmon(&mut self, w: &mut World, p: usize, s: usize) {
        let Some((guest, app)) = self.packages[p].services[s].appmon() else {
            return;
        };
        let key = format!(
            "{}/{}",
            self.packages[p].name, self.packages[p].services[s].name
        );
        let Some(g) = self.guest(&guest) else {
            return;
        };
        if !self.cmappserver_reachable(g) {
            // cmappmgr's -cmappserver_timeout (default 240 s here) before it gives up.
            let timeout = appmon_timeout(&self.packages[p].services[s].cmd);
            let (package, service) = (
                self.packages[p].name.clone(),
                self.packages[p].services[s].name.clone(),
            );
            self.schedule(
                w.now_ms.saturating_add(timeout * 1000),
                Event::CmappmgrTimeout { package, service },
            );
            return;
        }
        let pid = self.alloc_pid();
        let cms = self.guests[g]
            .procs
            .iter()
            .find(|p| p.cmd.contains("cmappserver"))
            .map(|p| p.pid)
            .unwrap_or(1);
        self.guests[g].procs.push(Proc {
            pid,
            ppid: cms,
            user: "root".into(),
            cmd: app,
            started_ms: w.now_ms,
            monitored_by: Some(key),
        });
        if self.fault.app_failures > 0 {
            self.fault.app_failures -= 1;
            let life = self.fault.app_lifetime_s.max(1) * 1000;
            self.schedule(
                w.now_ms.saturating_add(life),
                Event::AppDies {
                    guest: guest.clone(),
                    pid,
                },
            );
        }
    }

    /// Remove the monitored applications of package `p` from its guests.
    fn stop_appmons(&mut self, p: usize) {
        let prefix = format!("{}/", self.packages[p].name);
        for g in &mut self.guests {
            g.procs.retain(|pr| {
                !pr.monitored_by
                    .as_deref()
                    .is_some_and(|k| k.starts_with(&prefix))
            });
        }
        let name = self.packages[p].name.clone();
        self.events.retain(|e| match &e.event {
            Event::AppExited { package, .. } | Event::CmappmgrTimeout { package, .. } => {
                *package != name
            }
            Event::AppDies { .. } | Event::GuestCrash { .. } => true,
            Event::GuestMonitor { package } => *package != name,
        });
    }

    /// Run package `p` on `node`: boot its guest there if it is not running, start the
    /// services. `Err` holds the reason it could not start (logged too).
    pub(crate) fn start_package(
        &mut self,
        w: &mut World,
        p: usize,
        node: &str,
    ) -> Result<(), String> {
        let name = self.packages[p].name.clone();
        self.pkg_log(
            w,
            p,
            node,
            &format!("Starting package at {}", crate::timefmt::syslog(w.now_ms)),
        );
        if let Some(g) = self.guest(&name) {
            if let Some(on) = self.running_on(g) {
                if on != node {
                    let on = on.to_string();
                    let msg = format!(
                        "ERROR: Virtual machine {name} is running on node {on}; it cannot be started on {node}."
                    );
                    self.pkg_log(w, p, node, &msg);
                    self.pkg_log(w, p, node, "Failed to start package.");
                    return Err(msg);
                }
                self.pkg_log(
                    w,
                    p,
                    node,
                    &format!("Virtual machine {name} is already running on this node"),
                );
            } else {
                if !self.guests[g].registered.iter().any(|h| h == node) {
                    let msg =
                        format!("ERROR: Virtual machine {name} is not registered on node {node}.");
                    self.pkg_log(w, p, node, &msg);
                    self.pkg_log(w, p, node, "Failed to start package.");
                    return Err(msg);
                }
                self.pkg_log(w, p, node, &format!("Starting virtual machine {name}"));
                self.boot_guest(w, g, node);
                self.pkg_log(w, p, node, &format!("Virtual machine {name} started"));
            }
        }
        let maint = self.in_maintenance(w, p, node);
        if maint {
            self.pkg_log(
                w,
                p,
                node,
                "WARNING: Maintenance mode is enabled for the package",
            );
            self.pkg_log(
                w,
                p,
                node,
                "Disable the maintenance mode to start service monitoring",
            );
        }
        {
            let pkg = &mut self.packages[p];
            pkg.up = true;
            pkg.owner = Some(node.to_string());
        }
        for s in 0..self.packages[p].services.len() {
            let (sname, cmd) = {
                let sv = &mut self.packages[p].services[s];
                sv.up = true;
                sv.restarts = 0;
                (sv.name.clone(), sv.cmd.clone())
            };
            self.pkg_log(
                w,
                p,
                node,
                &format!("Starting service {sname} using \"{cmd}\""),
            );
            self.start_appmon(w, p, s);
        }
        self.pkg_log(w, p, node, "Package start completed.");
        Self::syslog(
            w,
            node,
            "cmcld[2077]",
            &format!("Started package {name} on node {node}."),
        );
        Ok(())
    }

    /// Halt package `p`: stop its services and its guest. Package switching is disabled
    /// when `disable_switching` (a `cmhaltpkg`), as Serviceguard does.
    pub(crate) fn halt_package(&mut self, w: &mut World, p: usize, disable_switching: bool) {
        let Some(node) = self.packages[p].owner.clone() else {
            return;
        };
        let name = self.packages[p].name.clone();
        self.pkg_log(
            w,
            p,
            &node,
            &format!("Halting package at {}", crate::timefmt::syslog(w.now_ms)),
        );
        self.stop_appmons(p);
        for s in 0..self.packages[p].services.len() {
            let sname = self.packages[p].services[s].name.clone();
            self.packages[p].services[s].up = false;
            self.pkg_log(w, p, &node, &format!("Halting service {sname}"));
        }
        if let Some(g) = self.guest(&name) {
            if self.running_on(g) == Some(node.as_str()) {
                self.pkg_log(w, p, &node, &format!("Stopping virtual machine {name}"));
                self.stop_guest(w, g);
                self.pkg_log(w, p, &node, &format!("Virtual machine {name} stopped"));
            }
        }
        let pkg = &mut self.packages[p];
        pkg.up = false;
        pkg.owner = None;
        if disable_switching {
            pkg.autorun = false;
        }
        self.pkg_log(w, p, &node, "Package halt completed.");
        Self::syslog(
            w,
            &node,
            "cmcld[2077]",
            &format!("Halted package {name} on node {node}."),
        );
    }

    /// Service `service` of package `package` exited with `code`: restart it within its
    /// limit, else fail the package over.
    pub(crate) fn service_failed(
        &mut self,
        w: &mut World,
        package: &str,
        service: &str,
        code: i32,
    ) {
        let Some(p) = self.package(package) else {
            return;
        };
        let Some(node) = self.packages[p].owner.clone() else {
            return;
        };
        let Some(s) = self.packages[p]
            .services
            .iter()
            .position(|s| s.name == service && s.up)
        else {
            return;
        };
        self.pkg_log(
            w,
            p,
            &node,
            &format!("Service {service} exited with status {code}"),
        );
        let sv = &self.packages[p].services[s];
        if sv.restart.allows(sv.restarts) {
            let n = sv.restarts + 1;
            self.packages[p].services[s].restarts = n;
            self.pkg_log(
                w,
                p,
                &node,
                &format!("Service {service} restarting (restart count {n})"),
            );
            self.start_appmon(w, p, s);
            return;
        }
        self.pkg_log(
            w,
            p,
            &node,
            &format!("Service {service} failed; no restarts left. Failing the package."),
        );
        self.fail_over(w, p);
    }

    /// Package `p` failed on its node: halt it there, disable that node's switching, and
    /// start it on the next node allowed to run it (when package switching is enabled).
    pub(crate) fn fail_over(&mut self, w: &mut World, p: usize) {
        let Some(from) = self.packages[p].owner.clone() else {
            return;
        };
        self.halt_package(w, p, false);
        self.packages[p].switching.insert(from.clone(), false);
        let name = self.packages[p].name.clone();
        if !self.packages[p].autorun {
            return;
        }
        let next = self.packages[p]
            .nodes
            .iter()
            .find(|n| {
                **n != from
                    && self.packages[p].switching.get(*n).copied().unwrap_or(false)
                    && self
                        .node(n)
                        .is_some_and(|i| self.nodes[i].state == NodeState::Running)
            })
            .cloned();
        match next {
            Some(to) => {
                Self::syslog(
                    w,
                    &to,
                    "cmcld[2077]",
                    &format!("Package {name} failed on node {from}; starting it on node {to}."),
                );
                if self.start_package(w, p, &to).is_err() {
                    self.packages[p].up = false;
                    self.packages[p].owner = None;
                }
            }
            None => {
                Self::syslog(
                    w,
                    &from,
                    "cmcld[2077]",
                    &format!("Package {name} failed on node {from}; no other node can run it."),
                );
            }
        }
    }

    // ----- inventory -----------------------------------------------------------------

    /// The inventory a user would write for this site (`transport = "sim"`).
    pub(crate) fn inventory_toml(&self, description: &str) -> String {
        let mut s = String::new();
        s.push_str("driver = \"hpvm\"\n");
        s.push_str(&format!("description = {}\n", toml_str(description)));
        s.push_str("\n[defaults]\ntransport = \"sim\"\nuser = \"root\"\n");
        s.push_str(&format!(
            "\n[hpvm]\ncluster = {}\n",
            toml_str(&self.cluster)
        ));
        for n in &self.nodes {
            s.push_str(&format!(
                "\n[[host]]\nname = {}\nrole = \"vm-host\"\naddress = {}\n",
                toml_str(&n.name),
                toml_str(&n.address),
            ));
        }
        for g in &self.guests {
            s.push_str(&format!(
                "\n[[host]]\nname = {}\nrole = \"vm-guest\"\nvm = {}\n",
                toml_str(&g.name),
                toml_str(&g.name),
            ));
        }
        s
    }
}

/// `-cmappserver_timeout N` of a `cmappmgr` command (240 s when absent).
fn appmon_timeout(cmd: &str) -> u64 {
    let words: Vec<&str> = cmd.split_whitespace().collect();
    words
        .windows(2)
        .find(|w| w[0] == "-cmappserver_timeout")
        .and_then(|w| w[1].parse().ok())
        .unwrap_or(240)
}

/// A TOML basic string.
fn toml_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
