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
mod events;
mod guest;
mod packages;
mod programs;
pub(crate) mod scenario;
pub(crate) mod seed;
mod sg;
mod site;
mod tkit;
mod vm;

// The file commands are every host's (`crate::fs`); the emulator's files reach them here.
pub(crate) use crate::fs;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

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

impl HpvmState {
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
