//! The simulated hosts' shell: quoting, assignments, lists, refusals, PATH resolution and
//! the transport's behaviour for unknown or unreachable hosts.

mod common;

use common::{ok, run, site};
use hascript_api::{Command, Effect, ErrorKind};

#[test]
fn quoting_and_escapes_reach_the_program_as_words() {
    let s = site(None);
    assert_eq!(
        ok(&s, "cd1", r#"echo 'a  b' "c \"d\" \$e" f\ g 'it'\''s'"#),
        "a  b c \"d\" $e f g it's\n"
    );
    assert_eq!(ok(&s, "cd1", "echo ''x'' \"\""), "x \n");
    assert_eq!(ok(&s, "cd1", "echo a\\;b 'x|y>z'"), "a;b x|y>z\n");
}

#[test]
fn variables_assignments_and_export() {
    let s = site(None);
    assert_eq!(
        ok(
            &s,
            "cd1",
            "LC_ALL=C; export LC_ALL; echo $LC_ALL \"$HOME\" ${USER}"
        ),
        "C /root root\n"
    );
    assert_eq!(ok(&s, "cd1", "A='x  y'; echo $A \"$A\""), "x y x  y\n");
    assert_eq!(
        ok(&s, "cd1", "A=1 B=$A; export C=3; echo $A$B$C $NOPE."),
        "113 .\n"
    );
    // An unquoted expansion to nothing is no word at all; a quoted one is an empty word.
    assert_eq!(ok(&s, "cd1", "echo a $NOPE b \"$NOPE\" c"), "a b  c\n");
}

#[test]
fn and_or_and_semicolon_semantics() {
    let s = site(None);
    let o = run(
        &s,
        "cd1",
        "false && echo no; echo $?; true && echo yes || echo no2; false || echo alt",
    );
    assert_eq!(o.code(), 0);
    assert_eq!(o.stdout, "1\nyes\nalt\n");
    let o = run(&s, "cd1", "echo a; false");
    assert_eq!((o.code(), o.stdout.as_str()), (1, "a\n"));
    let o = run(&s, "cd1", "false || false && echo skipped");
    assert_eq!((o.code(), o.stdout.as_str()), (1, ""));
    let o = run(&s, "cd1", "exit 3; echo never");
    assert_eq!((o.code(), o.stdout.as_str()), (3, ""));
    let o = run(&s, "cd1", "echo a &&\necho b");
    assert_eq!((o.code(), o.stdout.as_str()), (0, "a\nb\n"));
    let o = run(&s, "cd1", "sh -c 'echo inner; exit 4'");
    assert_eq!((o.code(), o.stdout.as_str()), (4, "inner\n"));
}

#[test]
fn unsupported_syntax_is_refused_before_anything_runs() {
    let s = site(None);
    for (line, what) in [
        ("/usr/sbin/ldm list -p | wc -l", "pipes (|)"),
        ("echo x > /tmp/f", "redirections (>)"),
        ("echo $(hostname)", "command substitution $(…)"),
        ("echo `hostname`", "command substitution `…`"),
        ("cat /var/adm/*", "filename globbing (*)"),
        ("ldm stop-domain guest2 &", "background jobs (&)"),
        ("for i in a; do echo; done", "shell keyword for"),
    ] {
        let o = run(&s, "cd2", &format!("ldm stop-domain -f guest2; {line}"));
        assert_eq!(o.code(), 2, "{line}");
        assert_eq!(o.stdout, "", "{line}");
        assert_eq!(
            o.stderr,
            format!("sh: syntax not supported by the simulator: {what}\n"),
            "{line}"
        );
    }
    // The parse failed as a whole, so the stop before it never ran.
    assert!(common::ldm_record(&s, "cd2", "guest2").is_some_and(|r| r.contains("state=active")));
    // Builtins the simulator does not emulate are refused when reached.
    let o = run(&s, "cd1", "echo before; cd /tmp; echo after");
    assert_eq!(o.stdout, "before\nafter\n");
    assert_eq!(
        o.stderr,
        "sh: syntax not supported by the simulator: builtin cd\n"
    );
}

#[test]
fn syntax_errors_answer_like_sh() {
    let s = site(None);
    let o = run(&s, "cd1", "echo 'unterminated");
    assert_eq!(
        (o.code(), o.stderr.as_str()),
        (2, "sh: syntax error: unterminated quoted string\n")
    );
    let o = run(&s, "cd1", "; echo");
    assert_eq!(
        (o.code(), o.stderr.as_str()),
        (2, "sh: syntax error: `;' unexpected\n")
    );
    let o = run(&s, "cd1", "echo &&");
    assert_eq!(
        (o.code(), o.stderr.as_str()),
        (2, "sh: syntax error: unexpected end of input\n")
    );
}

#[test]
fn command_names_resolve_through_path() {
    let s = site(None);
    // Bare name and full path where the product installs it.
    assert!(ok(&s, "cd1", "ldm list -p").starts_with("VERSION 1.6\n"));
    assert!(ok(&s, "cd1", "/usr/sbin/ldm list -p").starts_with("VERSION 1.6\n"));
    assert!(ok(&s, "guest1", "/opt/SMAW/SMAWcf/bin/cftool -n").starts_with("Node "));
    assert!(ok(&s, "guest1", "/opt/SMAW/bin/cfset -a").contains("CLUSTER_TIMEOUT"));
    assert!(ok(
        &s,
        "guest1",
        "/opt/SMAW/SMAWRrms/bin/hvdisp -T userApplication"
    )
    .contains("app1"));
    assert_eq!(ok(&s, "guest1", "/bin/echo hi; /usr/bin/true"), "hi\n");
    // Wrong folder, unknown command, or a product the host does not have: 127.
    for (host, line, word) in [
        ("cd1", "/usr/bin/ldm list -p", "/usr/bin/ldm"),
        ("cd1", "/opt/SMAW/bin/ldm list", "/opt/SMAW/bin/ldm"),
        ("cd1", "nosuchcommand -x", "nosuchcommand"),
        ("guest1", "ldm list -p", "ldm"),
        ("guest1", "/usr/sbin/ldm list -p", "/usr/sbin/ldm"),
        ("guest1", "clovmmigrate -p guest2", "clovmmigrate"),
        ("cd1", "cftool -n", "cftool"),
        (
            "cd1",
            "/etc/opt/FJSVcluster/bin/clsnmpsetup -l",
            "/etc/opt/FJSVcluster/bin/clsnmpsetup",
        ),
        ("cd1", "sdtool -s", "sdtool"),
        ("cd1", "./ldm list", "./ldm"),
    ] {
        let o = run(&s, host, line);
        assert_eq!(o.code(), 127, "{host}$ {line}");
        assert_eq!(
            o.stderr,
            format!("sh: {word}: not found\n"),
            "{host}$ {line}"
        );
    }
    // A PATH without the product's folder hides it, as in sh.
    let o = run(&s, "cd1", "PATH=/usr/bin ldm list -p");
    assert_eq!((o.code(), o.stderr.as_str()), (127, "sh: ldm: not found\n"));
}

#[test]
fn unknown_and_unreachable_hosts() {
    let s = site(None);
    let o = run(&s, "nosuch", "hostname");
    assert_eq!(o.code(), 255);
    assert!(
        o.stderr
            .starts_with("ssh: Could not resolve hostname nosuch"),
        "{}",
        o.stderr
    );
    let err = s
        .exec()
        .exec(&Command::read("nosuch", &["hostname"]))
        .expect_err("unknown host");
    assert_eq!(err.kind, ErrorKind::Transport);
    assert_eq!(
        err.message,
        "no simulated host named nosuch; hosts: cd1, cd2, cd3, guest1, guest2"
    );

    ok(&s, "cd2", "ldm stop-domain guest2");
    let o = run(&s, "guest2", "hostname");
    assert_eq!(
        (o.code(), o.stderr.as_str()),
        (
            255,
            "ssh: connect to host guest2 port 22: Connection refused\n"
        )
    );
    let err = s
        .exec()
        .exec(&Command::read("guest2", &["hostname"]))
        .expect_err("stopped guest");
    assert_eq!(err.kind, ErrorKind::Transport);
    assert_eq!(err.exit, Some(255));
}

#[test]
fn exec_sends_the_quoted_argv_and_shell_forms() {
    let s = site(None);
    let exec = s.exec();
    let o = exec
        .exec(&Command::read("cd2", &["/usr/sbin/ldm", "list", "-p"]))
        .expect("runs");
    assert!(
        o.stdout
            .contains("DOMAIN|name=guest2|state=active|flags=-n----|"),
        "{}",
        o.stdout
    );
    let o = exec
        .exec(&Command::read("cd1", &["echo", "a b", "it's", "$HOME"]))
        .expect("runs");
    assert_eq!(o.stdout, "a b it's $HOME\n");
    let o = exec
        .exec(&Command::shell(
            "guest1",
            "hostname && uname -s",
            Effect::Read,
        ))
        .expect("runs");
    assert_eq!(o.stdout, "guest1\nSunOS\n");
    let log = s.command_log();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0].line, "LC_ALL=C /usr/sbin/ldm list -p");
    assert_eq!(log[1].line, "LC_ALL=C echo 'a b' 'it'\\''s' '$HOME'");
    assert_eq!(log[2].line, "LC_ALL=C; export LC_ALL; hostname && uname -s");
    assert_eq!(
        (log[2].host.as_str(), log[2].exit, log[2].time),
        ("guest1", 0, common::START)
    );
}

#[test]
fn odd_input_never_panics() {
    let s = site(None);
    let alphabet: Vec<char> = "ab $'\"\\;&|()<>*?[]{}~#=\n\t-/xlcdm0".chars().collect();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..1500 {
        let mut line = String::new();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let len = (x % 24) as usize;
        for _ in 0..len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            line.push(alphabet[(x % alphabet.len() as u64) as usize]);
        }
        for host in ["cd1", "guest1"] {
            let o = run(&s, host, &line);
            assert!(o.code() >= 0 && o.code() <= 255, "{line:?}");
        }
    }
    for line in [
        "ldm",
        "ldm list -o",
        "ldm migrate-domain",
        "ldm migrate-domain -p",
        "tail -c",
        "tail -c +",
        "wc",
        "ssh-keygen -F",
        "getent",
        "clovmmigrate -u",
        "uname -Z",
        "cat -",
        "echo $?x ${?}",
    ] {
        let _ = run(&s, "cd1", line);
        let _ = run(&s, "guest1", line);
    }
}
