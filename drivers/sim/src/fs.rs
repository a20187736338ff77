//! HP-UX file commands on a simulated host's files: `ls` (`-l`, `-d`, `-A`, `-a`), `mkdir
//! [-p] [-m MODE]`, `chmod` (octal and symbolic), `cp [-p]`, `mv [-f]`, `rm [-f] [-r]`,
//! `dd of=F [if=F]` (standard input when no `if=`). Files live in [`HostOs::files`];
//! directories and modes in [`HostOs::meta`]. A directory exists when it was made, or when a
//! file or directory below it exists (the parents of seeded files). The Solaris hosts'
//! `mkdir`, `rm` and `dd` (`posix`) are served by the same code.

use hascript_api::{ExitStatus, Output};

use crate::process::ProcessIo;
use crate::timefmt;
use crate::world::{HostOs, Meta, S_IFDIR};

/// The time seeded files without their own time were written (2026-07-28 17:26 UTC, the
/// manual's date).
pub(crate) const SEED_MTIME_MS: u64 = 1_785_259_560_000;

fn ok(stdout: impl Into<String>) -> Output {
    Output::new(0, stdout, "")
}

fn fail(code: i32, stderr: impl Into<String>) -> Output {
    Output::new(code, "", stderr)
}

/// Make `path` absolute (relative to root's home) and clean (`.`, `..`, `//`, trailing `/`).
pub(crate) fn normalize(path: &str) -> String {
    let full = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{}/{path}", crate::world::HOME)
    };
    let mut parts: Vec<&str> = Vec::new();
    for c in full.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

/// The parent folder of a clean absolute path.
pub(crate) fn parent(path: &str) -> String {
    match path.rsplit_once('/') {
        Some(("", _)) | None => "/".into(),
        Some((p, _)) => p.into(),
    }
}

/// The last component of a path.
fn base(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Whether `p` is under folder `dir` (strictly).
fn below(p: &str, dir: &str) -> bool {
    if dir == "/" {
        p.len() > 1
    } else {
        p.len() > dir.len() && p.starts_with(dir) && p.as_bytes()[dir.len()] == b'/'
    }
}

/// Whether `path` (clean) is a directory of `os`.
pub(crate) fn is_dir(os: &HostOs, path: &str) -> bool {
    if path == "/" {
        return true;
    }
    if let Some(m) = os.meta.get(path) {
        return m.is_dir();
    }
    os.files.keys().any(|k| below(k, path)) || os.meta.keys().any(|k| below(k, path))
}

/// Whether `path` (clean) is a regular file of `os`.
pub(crate) fn is_file(os: &HostOs, path: &str) -> bool {
    os.files.contains_key(path)
}

/// The inode data of an existing path (defaults: files 0644, directories 0755, root:sys).
pub(crate) fn meta(os: &HostOs, path: &str) -> Option<Meta> {
    if let Some(m) = os.meta.get(path) {
        return Some(m.clone());
    }
    if is_file(os, path) {
        Some(Meta::file(0o644, SEED_MTIME_MS))
    } else if is_dir(os, path) {
        Some(Meta::dir(0o755, SEED_MTIME_MS))
    } else {
        None
    }
}

/// Write a whole file (creating it with `perm` when new; an existing file keeps its mode).
pub(crate) fn write_file(os: &mut HostOs, path: &str, content: String, perm: u32, now_ms: u64) {
    let mut m = meta(os, path)
        .filter(|m| !m.is_dir())
        .unwrap_or_else(|| Meta::file(perm, now_ms));
    m.mtime_ms = now_ms;
    os.files.insert(path.to_string(), content);
    os.meta.insert(path.to_string(), m);
}

/// Make a directory and its missing parents with `perm`.
pub(crate) fn mkdirs(os: &mut HostOs, path: &str, perm: u32, now_ms: u64) {
    let mut cur = String::new();
    for c in path.split('/').filter(|c| !c.is_empty()) {
        cur.push('/');
        cur.push_str(c);
        if !os.meta.contains_key(&cur) {
            let existing = is_dir(os, &cur);
            let m = if existing {
                Meta::dir(0o755, SEED_MTIME_MS)
            } else {
                Meta::dir(perm, now_ms)
            };
            os.meta.insert(cur.clone(), m);
        }
    }
}

/// Remove `path` and everything below it.
pub(crate) fn remove_tree(os: &mut HostOs, path: &str) {
    os.files.retain(|k, _| k != path && !below(k, path));
    os.meta.retain(|k, _| k != path && !below(k, path));
}

/// Run one file command.
pub(crate) fn run(
    os: &mut HostOs,
    now_ms: u64,
    name: &str,
    args: &[String],
    io: &mut ProcessIo,
) -> Output {
    match name {
        "ls" => ls(os, now_ms, args),
        "mkdir" => mkdir(os, now_ms, args, io.umask),
        "chmod" => chmod(os, args),
        "cp" => cp(os, now_ms, args, io.umask),
        "mv" => mv(os, now_ms, args),
        "rm" => rm(os, args),
        "dd" => dd(os, now_ms, args, io),
        "od" => od(os, args),
        other => fail(127, format!("sh: {other}: not found\n")),
    }
}

/// `od -A n -v -t x1 FILE` (also `-An -tx1`): the file's bytes as hex, sixteen a line,
/// each preceded by a space. Other forms are refused.
fn od(os: &HostOs, args: &[String]) -> Output {
    let mut words: Vec<&str> = Vec::new();
    for a in args {
        match a.as_str() {
            "-An" => words.extend(["-A", "n"]),
            "-tx1" => words.extend(["-t", "x1"]),
            w => words.push(w),
        }
    }
    let (file, opts) = match words.split_last() {
        Some((f, o)) if !f.starts_with('-') => (*f, o.to_vec()),
        _ => return fail(2, "usage: od [-v] [-A n] [-t x1] file\n"),
    };
    let mut sorted = opts.clone();
    sorted.sort_unstable();
    let mut want = vec!["-A", "n", "-v", "-t", "x1"];
    want.sort_unstable();
    if sorted != want {
        return fail(2, "od: the simulator emulates od -A n -v -t x1 FILE only\n");
    }
    let path = normalize(file);
    let Some(text) = os.files.get(&path) else {
        return fail(
            2,
            format!("od: cannot open {file}: No such file or directory\n"),
        );
    };
    let mut out = String::new();
    for chunk in text.as_bytes().chunks(16) {
        for b in chunk {
            out.push_str(&format!(" {b:02x}"));
        }
        out.push('\n');
    }
    ok(out)
}

/// Split `-xyz` flags from operands (`--` ends flags).
fn flags_and_operands<'a>(
    args: &'a [String],
    allowed: &str,
    cmd: &str,
) -> Result<(String, Vec<&'a str>), Output> {
    let mut flags = String::new();
    let mut ops = Vec::new();
    let mut only_ops = false;
    for a in args {
        if !only_ops && a == "--" {
            only_ops = true;
        } else if !only_ops && a.starts_with('-') && a.len() > 1 {
            for c in a[1..].chars() {
                if !allowed.contains(c) {
                    return Err(fail(2, format!("{cmd}: illegal option -- {c}\n")));
                }
                flags.push(c);
            }
        } else {
            ops.push(a.as_str());
        }
    }
    Ok((flags, ops))
}

/// `drwxr-xr-x` for a mode.
fn perm_string(mode: u32) -> String {
    let mut s = String::with_capacity(10);
    s.push(if mode & 0o170_000 == S_IFDIR {
        'd'
    } else {
        '-'
    });
    let bits = [
        (0o400, 'r'),
        (0o200, 'w'),
        (0o100, 'x'),
        (0o040, 'r'),
        (0o020, 'w'),
        (0o010, 'x'),
        (0o004, 'r'),
        (0o002, 'w'),
        (0o001, 'x'),
    ];
    for (i, (b, c)) in bits.iter().enumerate() {
        let set = mode & b != 0;
        let special = match i {
            2 => mode & 0o4000 != 0,
            5 => mode & 0o2000 != 0,
            8 => mode & 0o1000 != 0,
            _ => false,
        };
        s.push(match (set, special, i) {
            (true, true, 8) => 't',
            (false, true, 8) => 'T',
            (true, true, _) => 's',
            (false, true, _) => 'S',
            (true, false, _) => *c,
            (false, false, _) => '-',
        });
    }
    s
}

/// `ls -l`'s date: `Jul 28 17:26` within six months, else `Jul 28  2025`.
fn ls_date(mtime_ms: u64, now_ms: u64) -> String {
    let c = timefmt::civil(mtime_ms);
    let stamp = timefmt::syslog(mtime_ms);
    let month_day = &stamp[..6];
    let six_months = 183 * 86_400_000;
    if mtime_ms + six_months < now_ms || mtime_ms > now_ms + 3_600_000 {
        format!("{month_day}  {}", c.year)
    } else {
        format!("{month_day} {:02}:{:02}", c.hour, c.minute)
    }
}

/// Direct children of folder `dir` (names, sorted).
fn children(os: &HostOs, dir: &str) -> Vec<String> {
    let mut v: Vec<String> = os
        .files
        .keys()
        .chain(os.meta.keys())
        .chain(os.links.keys())
        .filter(|k| below(k, dir))
        .filter_map(|k| {
            let rest = if dir == "/" {
                &k[1..]
            } else {
                &k[dir.len() + 1..]
            };
            rest.split('/').next().map(str::to_string)
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

fn join(dir: &str, name: &str) -> String {
    if dir == "/" {
        format!("/{name}")
    } else {
        format!("{dir}/{name}")
    }
}

fn long_line(os: &HostOs, path: &str, shown: &str, now_ms: u64) -> String {
    if let Some(target) = os.links.get(path) {
        return format!(
            "lrwxr-xr-x{:>4} {:<10} {:<8} {:>9} {} {shown} -> {target}\n",
            1,
            "root",
            "sys",
            target.len(),
            ls_date(SEED_MTIME_MS, now_ms)
        );
    }
    let m = meta(os, path).unwrap_or_else(|| Meta::file(0o644, SEED_MTIME_MS));
    let (links, size) = if m.is_dir() {
        let subdirs = children(os, path)
            .iter()
            .filter(|c| is_dir(os, &join(path, c)))
            .count();
        (2 + subdirs, 96)
    } else {
        (1, os.files.get(path).map(String::len).unwrap_or(0))
    };
    format!(
        "{}{links:>4} {:<10} {:<8} {size:>9} {} {shown}\n",
        perm_string(m.mode),
        m.owner,
        m.group,
        ls_date(m.mtime_ms, now_ms)
    )
}

fn ls(os: &HostOs, now_ms: u64, args: &[String]) -> Output {
    let (flags, ops) = match flags_and_operands(args, "ldAa1", "ls") {
        Ok(x) => x,
        Err(o) => return o,
    };
    let long = flags.contains('l');
    let dir_itself = flags.contains('d');
    let all = flags.contains('A') || flags.contains('a');
    let ops: Vec<&str> = if ops.is_empty() { vec!["."] } else { ops };
    let mut out = String::new();
    let mut err = String::new();
    let mut code = 0;
    let several = ops.len() > 1;
    for op in ops {
        let path = normalize(op);
        let link = os.links.contains_key(&path);
        if !is_file(os, &path) && !is_dir(os, &path) && !link {
            err.push_str(&format!("ls: {op}: No such file or directory\n"));
            code = 2;
            continue;
        }
        if dir_itself || is_file(os, &path) || link {
            if long {
                out.push_str(&long_line(os, &path, op, now_ms));
            } else {
                out.push_str(&format!("{op}\n"));
            }
            continue;
        }
        if several {
            out.push_str(&format!("{op}:\n"));
        }
        let names: Vec<String> = children(os, &path)
            .into_iter()
            .filter(|n| all || !n.starts_with('.'))
            .collect();
        if long {
            let blocks: usize = names
                .iter()
                .map(|n| os.files.get(&join(&path, n)).map(String::len).unwrap_or(0))
                .map(|l| l.div_ceil(1024))
                .sum();
            out.push_str(&format!("total {blocks}\n"));
            for n in &names {
                out.push_str(&long_line(os, &join(&path, n), n, now_ms));
            }
        } else {
            for n in &names {
                out.push_str(&format!("{n}\n"));
            }
        }
    }
    Output::new(code, out, err)
}

fn parse_octal(s: &str) -> Option<u32> {
    if s.is_empty() || !s.chars().all(|c| ('0'..='7').contains(&c)) {
        return None;
    }
    u32::from_str_radix(s, 8).ok().filter(|m| *m <= 0o7777)
}

/// Apply a chmod mode (octal, or symbolic like `go-w,u+x`) to permission bits.
pub(crate) fn apply_mode(spec: &str, old: u32, is_dir: bool) -> Option<u32> {
    if let Some(m) = parse_octal(spec) {
        return Some(m);
    }
    let mut perm = old & 0o7777;
    for clause in spec.split(',') {
        let op_at = clause.find(['+', '-', '='])?;
        let (who, rest) = clause.split_at(op_at);
        let mut mask = 0u32;
        for c in who.chars() {
            mask |= match c {
                'u' => 0o4700,
                'g' => 0o2070,
                'o' => 0o1007,
                'a' => 0o7777,
                _ => return None,
            };
        }
        if who.is_empty() {
            mask = 0o7777;
        }
        let mut chars = rest.chars().peekable();
        while let Some(op) = chars.next() {
            let mut bits = 0u32;
            while let Some(&c) = chars.peek() {
                if "+-=".contains(c) {
                    break;
                }
                chars.next();
                bits |= match c {
                    'r' => 0o444,
                    'w' => 0o222,
                    'x' => 0o111,
                    'X' if is_dir || perm & 0o111 != 0 => 0o111,
                    'X' => 0,
                    's' => 0o6000,
                    't' => 0o1000,
                    _ => return None,
                };
            }
            let b = bits & mask;
            match op {
                '+' => perm |= b,
                '-' => perm &= !b,
                '=' => perm = (perm & !(mask & 0o777)) | b,
                _ => return None,
            }
        }
    }
    Some(perm)
}

fn chmod(os: &mut HostOs, args: &[String]) -> Output {
    let usage = "usage: chmod [-R] mode file ...\n";
    let mut rest: Vec<&str> = args.iter().map(String::as_str).collect();
    if rest.first() == Some(&"-R") {
        return fail(2, "chmod: -R is not emulated by the simulator\n");
    }
    if rest.len() < 2 {
        return fail(2, usage);
    }
    let spec = rest.remove(0);
    let mut err = String::new();
    let mut code = 0;
    for op in rest {
        let path = normalize(op);
        let Some(mut m) = meta(os, &path) else {
            err.push_str(&format!("chmod: can't access {op}\n"));
            code = 2;
            continue;
        };
        let Some(perm) = apply_mode(spec, m.mode, m.is_dir()) else {
            return fail(2, format!("chmod: invalid mode: {spec}\n{usage}"));
        };
        m.mode = (m.mode & !0o7777) | perm;
        os.meta.insert(path, m);
    }
    Output::new(code, "", err)
}

fn mkdir(os: &mut HostOs, now_ms: u64, args: &[String], umask: u32) -> Output {
    let mut parents = false;
    let mut mode: Option<&str> = None;
    let mut ops = Vec::new();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-p" => parents = true,
            "-m" => {
                i += 1;
                match args.get(i) {
                    Some(m) => mode = Some(m),
                    None => return fail(2, "mkdir: option requires an argument -- m\n"),
                }
            }
            a if a.starts_with('-') && a.len() > 1 => {
                return fail(2, format!("mkdir: illegal option -- {}\n", &a[1..]))
            }
            a => ops.push(a),
        }
        i += 1;
    }
    if ops.is_empty() {
        return fail(2, "usage: mkdir [-p] [-m mode] dirname ...\n");
    }
    let base_perm = 0o777 & !umask;
    let perm = match mode {
        Some(m) => match apply_mode(m, base_perm, true) {
            Some(p) => p,
            None => return fail(2, format!("mkdir: invalid mode: {m}\n")),
        },
        None => base_perm,
    };
    let mut err = String::new();
    let mut code = 0;
    for op in ops {
        let path = normalize(op);
        if is_file(os, &path) {
            err.push_str(&format!("mkdir: cannot create {op}: File exists\n"));
            code = 2;
            continue;
        }
        if is_dir(os, &path) {
            if !parents {
                err.push_str(&format!("mkdir: cannot create {op}: File exists\n"));
                code = 2;
            }
            continue;
        }
        let par = parent(&path);
        if !parents && !is_dir(os, &par) {
            err.push_str(&format!(
                "mkdir: cannot create {op}: No such file or directory\n"
            ));
            code = 2;
            continue;
        }
        if parents {
            // Parents made by -p are u+wx whatever the umask, as on HP-UX.
            mkdirs(os, &par, base_perm | 0o300, now_ms);
        }
        os.meta.insert(path, Meta::dir(perm, now_ms));
    }
    Output::new(code, "", err)
}

fn cp(os: &mut HostOs, now_ms: u64, args: &[String], umask: u32) -> Output {
    let (flags, ops) = match flags_and_operands(args, "pf", "cp") {
        Ok(x) => x,
        Err(o) => return o,
    };
    let [src, dst] = ops.as_slice() else {
        return fail(
            2,
            "usage: cp [-f] [-p] source_file target_file\n(the simulator copies one file)\n",
        );
    };
    let s = normalize(src);
    let mut d = normalize(dst);
    if is_dir(os, &s) && !is_file(os, &s) {
        return fail(
            2,
            format!("cp: {src}: is a directory (copying directories is not emulated)\n"),
        );
    }
    let Some(content) = os.files.get(&s).cloned() else {
        return fail(
            2,
            format!("cp: cannot access {src}: No such file or directory\n"),
        );
    };
    if is_dir(os, &d) {
        d = join(&d, base(&s));
    }
    if !is_dir(os, &parent(&d)) {
        return fail(
            2,
            format!("cp: cannot create {dst}: No such file or directory\n"),
        );
    }
    let src_meta = meta(os, &s).unwrap_or_else(|| Meta::file(0o644, SEED_MTIME_MS));
    if flags.contains('p') {
        os.files.insert(d.clone(), content);
        os.meta.insert(d, src_meta);
    } else {
        let perm = src_meta.mode & 0o777 & !umask;
        write_file(os, &d, content, perm, now_ms);
    }
    ok("")
}

fn mv(os: &mut HostOs, _now_ms: u64, args: &[String]) -> Output {
    let (_flags, ops) = match flags_and_operands(args, "fi", "mv") {
        Ok(x) => x,
        Err(o) => return o,
    };
    let [src, dst] = ops.as_slice() else {
        return fail(
            2,
            "usage: mv [-f] [-i] source target\n(the simulator moves one path)\n",
        );
    };
    let s = normalize(src);
    let mut d = normalize(dst);
    if !is_file(os, &s) && !is_dir(os, &s) {
        return fail(
            2,
            format!("mv: {src}: cannot access: No such file or directory\n"),
        );
    }
    if is_dir(os, &d) {
        d = join(&d, base(&s));
    }
    if s == d {
        return fail(2, format!("mv: {src} and {dst} are identical\n"));
    }
    if !is_dir(os, &parent(&d)) {
        return fail(
            2,
            format!("mv: cannot rename {src} to {dst}: No such file or directory\n"),
        );
    }
    if is_file(os, &s) {
        let content = os.files.remove(&s).unwrap_or_default();
        let m = os
            .meta
            .remove(&s)
            .unwrap_or_else(|| Meta::file(0o644, SEED_MTIME_MS));
        os.files.insert(d.clone(), content);
        os.meta.insert(d, m);
    } else {
        let m = meta(os, &s).unwrap_or_else(|| Meta::dir(0o755, SEED_MTIME_MS));
        let moved_files: Vec<(String, String)> = os
            .files
            .iter()
            .filter(|(k, _)| below(k, &s))
            .map(|(k, v)| (format!("{d}{}", &k[s.len()..]), v.clone()))
            .collect();
        let moved_meta: Vec<(String, Meta)> = os
            .meta
            .iter()
            .filter(|(k, _)| below(k, &s))
            .map(|(k, v)| (format!("{d}{}", &k[s.len()..]), v.clone()))
            .collect();
        remove_tree(os, &s);
        os.files.extend(moved_files);
        os.meta.extend(moved_meta);
        os.meta.insert(d, m);
    }
    ok("")
}

fn rm(os: &mut HostOs, args: &[String]) -> Output {
    let (flags, ops) = match flags_and_operands(args, "frRi", "rm") {
        Ok(x) => x,
        Err(o) => return o,
    };
    let force = flags.contains('f');
    let recursive = flags.contains('r') || flags.contains('R');
    let mut err = String::new();
    let mut code = 0;
    for op in ops {
        let path = normalize(op);
        if is_file(os, &path) {
            os.files.remove(&path);
            os.meta.remove(&path);
        } else if is_dir(os, &path) {
            if !recursive {
                err.push_str(&format!("rm: {op} directory\n"));
                code = 2;
            } else if path == "/" {
                err.push_str("rm: refusing to remove / in the simulator\n");
                code = 2;
            } else {
                remove_tree(os, &path);
            }
        } else if !force {
            err.push_str(&format!("rm: {op} non-existent\n"));
            code = 2;
        }
    }
    Output::new(code, "", err)
}

fn dd(os: &mut HostOs, now_ms: u64, args: &[String], io: &mut ProcessIo) -> Output {
    let mut input: Option<String> = None;
    let mut output: Option<String> = None;
    for a in args {
        match a.split_once('=') {
            Some(("if", v)) => input = Some(v.to_string()),
            Some(("of", v)) => output = Some(v.to_string()),
            Some(("bs" | "ibs" | "obs" | "count" | "conv", _)) => {}
            _ => return fail(2, format!("dd: bad argument: \"{a}\"\n")),
        }
    }
    let data: Vec<u8> = match &input {
        Some(f) => match os.files.get(&normalize(f)) {
            Some(c) => c.as_bytes().to_vec(),
            None => return fail(2, format!("dd: cannot open {f}\n")),
        },
        None => io.read_stdin(),
    };
    let records = format!(
        "{}+{} records in\n{}+{} records out\n",
        data.len() / 512,
        usize::from(!data.len().is_multiple_of(512)),
        data.len() / 512,
        usize::from(!data.len().is_multiple_of(512))
    );
    let Some(out) = output else {
        // Writing to standard output.
        return Output::from_bytes(ExitStatus::Code(0), data, records.into_bytes());
    };
    let path = normalize(&out);
    if is_dir(os, &path) {
        return fail(2, format!("dd: cannot create {out}: Is a directory\n"));
    }
    if !is_dir(os, &parent(&path)) {
        return fail(2, format!("dd: cannot create {out}\n"));
    }
    let perm = 0o666 & !io.umask;
    write_file(
        os,
        &path,
        String::from_utf8_lossy(&data).into_owned(),
        perm,
        now_ms,
    );
    Output::new(0, "", records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbolic_and_octal_modes() {
        assert_eq!(apply_mode("go-w", 0o777, true), Some(0o755));
        assert_eq!(apply_mode("644", 0o600, false), Some(0o644));
        assert_eq!(apply_mode("u+x,g=r", 0o600, false), Some(0o740));
        assert_eq!(apply_mode("a+rx", 0o700, true), Some(0o755));
        assert_eq!(apply_mode("q+w", 0o700, true), None);
        assert_eq!(apply_mode("9", 0o700, true), None);
    }

    #[test]
    fn perm_strings() {
        assert_eq!(perm_string(0o40755), "drwxr-xr-x");
        assert_eq!(perm_string(0o40777), "drwxrwxrwx");
        assert_eq!(perm_string(0o100600), "-rw-------");
        assert_eq!(perm_string(0o101755), "-rwxr-xr-t");
    }

    #[test]
    fn paths_are_cleaned() {
        assert_eq!(normalize("/a//b/./c/"), "/a/b/c");
        assert_eq!(normalize("/a/../b"), "/b");
        assert_eq!(normalize("x"), "/root/x");
        assert_eq!(parent("/a/b"), "/a");
        assert_eq!(parent("/a"), "/");
    }
}
