//! `cmmakepkg`: the toolkit's package template.

use hascript_api::Output;

use super::{fail, ok};
use crate::hpvm::{conf, fs, HpvmState, CMCLUSTER};
use crate::posix::ProcessIo;
use crate::world::World;

/// `cmmakepkg -m tkit/vtn/vtn [-n VM] [FILE]`: the toolkit's template (Appendix A layout,
/// `node_name *`, `TKIT_DIR` = `/etc/cmcluster/<VM>`).
pub(crate) fn cmmakepkg(
    st: &mut HpvmState,
    w: &mut World,
    host: &str,
    args: &[String],
    io: &mut ProcessIo,
) -> Output {
    let _ = st;
    let usage = "usage: cmmakepkg [-m module_name]... [-n package_name] [output_file]\n";
    let mut module = None;
    let mut name = None;
    let mut file = None;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-m" | "-n" => {
                let Some(v) = args.get(i + 1) else {
                    return fail(
                        2,
                        format!(
                            "cmmakepkg: option {} requires an argument\n{usage}",
                            args[i]
                        ),
                    );
                };
                if args[i] == "-m" {
                    module = Some(v.clone());
                } else {
                    name = Some(v.clone());
                }
                i += 2;
                continue;
            }
            a if a.starts_with('-') => {
                return fail(
                    2,
                    format!("cmmakepkg: illegal option -- {}\n{usage}", &a[1..]),
                )
            }
            a => {
                if file.is_some() {
                    return fail(2, usage);
                }
                file = Some(a.to_string());
            }
        }
        i += 1;
    }
    if module.as_deref() != Some("tkit/vtn/vtn") {
        return fail(
            2,
            format!(
                "cmmakepkg: the simulator makes only toolkit templates (-m tkit/vtn/vtn), not {}\n",
                module.as_deref().unwrap_or("legacy packages")
            ),
        );
    }
    let vm = name.unwrap_or_default();
    let (pkg, dir) = if vm.is_empty() {
        (String::new(), String::new())
    } else {
        (vm.clone(), format!("{CMCLUSTER}/{vm}"))
    };
    let text = conf::render_toolkit(&pkg, &["*".to_string()], &dir, &[]);
    let Some(f) = file else {
        return ok(text);
    };
    let now = w.now_ms;
    let Some(os) = w.host_mut(host) else {
        return fail(1, "cmmakepkg: no such host\n");
    };
    let path = fs::normalize(&f);
    if fs::is_file(os, &path) || fs::is_dir(os, &path) {
        return fail(
            1,
            format!("cmmakepkg: {f} already exists; remove it or choose another file name.\n"),
        );
    }
    if !fs::is_dir(os, &fs::parent(&path)) {
        return fail(
            1,
            format!("cmmakepkg: Unable to create {f}: No such file or directory\n"),
        );
    }
    fs::write_file(os, &path, text, 0o666 & !io.umask, now);
    ok("Package template is created.\nThis file must be edited before it can be used.\n")
}
