//! Nested procedures (issue 12 item 4): `hypervisor.migrate` and `hypervisor.preflight` run
//! the driver's procedure script (a site's copy on `HASCRIPT_PATH` if there is one) with
//! parameters of its own; a procedure that re-enters itself is a usage error naming the
//! chain, sent before anything changes.

use std::path::{Path, PathBuf};

use serde_json::Value;

mod sim_support;

use sim_support::{text, CrashSite};

/// The shipped text of script `name`.
fn shipped(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scripts")
        .join(format!("{name}.rhai"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

struct Env {
    crash: CrashSite,
    /// The `HASCRIPT_PATH` folder.
    site_scripts: PathBuf,
}

/// How a run ended: exit code, everything printed, its journal.
struct Ran {
    code: Option<i32>,
    out: String,
    journal: Vec<Value>,
}

impl Env {
    fn new() -> Env {
        let crash = CrashSite::new("ldoms");
        let site_scripts = crash.state_home.parent().expect("dir").join("site-scripts");
        std::fs::create_dir_all(&site_scripts).expect("folder");
        Env {
            crash,
            site_scripts,
        }
    }

    /// Put `text` at `name`.rhai in the `HASCRIPT_PATH` folder; its path.
    fn put(&self, name: &str, text: &str) -> PathBuf {
        let p = self.site_scripts.join(format!("{name}.rhai"));
        std::fs::create_dir_all(p.parent().expect("parent")).expect("folder");
        std::fs::write(&p, text).expect("write");
        p
    }

    /// A top script file `body` (outside `HASCRIPT_PATH`); its path.
    fn top(&self, body: &str) -> String {
        self.crash.script("top.rhai", body)
    }

    /// `hascript run SCRIPT --sim --sim-state DIR -p … --yes` with the `HASCRIPT_PATH`
    /// folder.
    fn run(&self, script: &str, params: &[&str]) -> Ran {
        let mut c = self.crash.run_cmd(script, params);
        c.env("HASCRIPT_PATH", &self.site_scripts);
        let o = c.output().expect("hascript runs");
        Ran {
            code: o.status.code(),
            out: format!("{}{}", text(&o.stdout), text(&o.stderr)),
            journal: self.crash.last_journal(),
        }
    }

    fn changes(&self) -> Vec<String> {
        self.crash.changes_sent(sim_support::is_change)
    }

    /// The control domains whose `ldm list -p` shows `guest` active.
    fn runs_on(&self, guest: &str) -> Vec<&'static str> {
        let needle = format!("|name={guest}|state=active|");
        ["cd1", "cd2", "cd3", "cd4"]
            .into_iter()
            .filter(|cd| {
                self.crash
                    .sim_exec(cd, &["/usr/sbin/ldm", "list", "-p"])
                    .lines()
                    .any(|l| l.contains(&needle))
            })
            .collect()
    }
}

fn infos(ls: &[Value]) -> Vec<String> {
    ls.iter()
        .filter(|l| l["event"] == "info")
        .filter_map(|l| l["message"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn a_nested_procedure_called_from_a_function_gets_its_own_params() {
    let env = Env::new();
    // The site's procedure says which parameters it sees, at its top and from inside one of
    // its own functions (which reach `params` through the engine's globals, not the scope).
    // (At the top level: the procedure's `preflight` function imports the module too.)
    let procedure = shipped("ldoms/live-migration").replacen(
        "\nimport \"lib/ldoms/migration\" as m;",
        "\nimport \"lib/ldoms/migration\" as m;\n\
         fn seen() { `${params.guest}->${params.target}` }\n\
         info(`procedure sees ${params.guest}->${params.target}, in a function ${seen()}`);",
        1,
    );
    env.put("ldoms/live-migration", &procedure);
    let before1 = env.runs_on("guest1");
    let top = env.top(
        "//! params: guest, target\n\
         fn mine() { `${params.guest}->${params.target}` }\n\
         fn move_it(g, t) { hypervisor.migrate(g, t) }\n\
         let r = move_it(\"guest2\", \"cd3\");\n\
         info(`top sees ${params.guest}->${params.target}, in a function ${mine()}; moved ${r.guest}`);\n",
    );
    let r = env.run(&top, &["guest=guest1", "target=cd4"]);
    assert_eq!(r.code, Some(0), "{}", r.out);
    let infos = infos(&r.journal);
    assert!(
        infos
            .iter()
            .any(|m| m == "procedure sees guest2->cd3, in a function guest2->cd3"),
        "{infos:?}"
    );
    assert!(
        infos
            .iter()
            .any(|m| m == "top sees guest1->cd4, in a function guest1->cd4; moved guest2"),
        "{infos:?}"
    );
    assert_eq!(env.runs_on("guest2"), ["cd3"]);
    assert_eq!(env.runs_on("guest1"), before1, "guest1 was not moved");
}

#[test]
fn a_site_procedure_that_calls_the_generic_action_running_it_is_refused_naming_the_chain() {
    let env = Env::new();
    // The old shipped live-migration: one call. On a site whose copy is this, the call runs
    // the copy again.
    let copy = env.put(
        "ldoms/live-migration",
        "//! params: guest, target\nhypervisor.migrate(params.guest, params.target)\n",
    );
    let copy = copy.display().to_string();
    // Run by name.
    let r = env.run("ldoms/live-migration", &["guest=guest2", "target=cd3"]);
    assert_eq!(r.code, Some(2), "{}", r.out);
    assert!(
        r.out.contains(&format!(
            "the procedure {copy} re-enters itself ({copy} → {copy})"
        )),
        "{}",
        r.out
    );
    assert!(
        env.changes().is_empty(),
        "nothing was sent: {:?}",
        env.changes()
    );
    // From another script, inside a function: the chain names the caller too.
    let top = env.top("fn move_it() { hypervisor.migrate(\"guest2\", \"cd3\") }\nmove_it();\n");
    let r = env.run(&top, &[]);
    assert_eq!(r.code, Some(2), "{}", r.out);
    assert!(
        r.out
            .contains(&format!("re-enters itself ({top} → {copy} → {copy})")),
        "{}",
        r.out
    );
    let error = r
        .journal
        .iter()
        .find(|l| l["event"] == "error")
        .expect("an error line");
    assert_eq!(error["kind"], "usage", "{error}");
    assert!(
        env.changes().is_empty(),
        "nothing was sent: {:?}",
        env.changes()
    );
    assert_eq!(env.runs_on("guest2"), ["cd2"]);
}

#[test]
fn hypervisor_preflight_runs_the_procedures_own_checks_and_changes_nothing() {
    let env = Env::new();
    // The site's procedure adds a check of its own and drops one by name.
    let procedure = shipped("ldoms/live-migration").replacen(
        "    let verdict = m::run_checks(checks);",
        "    checks.retain(|c| c.name != \"XSCF host keys\");\n    \
         checks.push(#{ name: \"storage team\", run: || #{ check: \"storage team\", ok: true, detail: \"agreed\", remedy: () } });\n    \
         let verdict = m::run_checks(checks);",
        1,
    );
    assert_ne!(
        procedure,
        shipped("ldoms/live-migration"),
        "the edit applies"
    );
    env.put("ldoms/live-migration", &procedure);
    let top = env.top(
        "let r = hypervisor.preflight(\"guest2\", \"cd3\");\n\
         for v in r.checks { info(`verdict: ${v.check}`); }\n",
    );
    let r = env.run(&top, &[]);
    assert_eq!(r.code, Some(0), "{}", r.out);
    // Every verdict it returns, the site's own among them; the dropped check neither
    // returned nor run (no `check` line of the driver's).
    let verdicts: Vec<String> = infos(&r.journal)
        .into_iter()
        .filter_map(|m| m.strip_prefix("verdict: ").map(str::to_string))
        .collect();
    assert!(verdicts.iter().any(|v| v == "storage team"), "{verdicts:?}");
    assert!(
        verdicts.iter().any(|v| v == "ldm migrate-domain -n"),
        "{verdicts:?}"
    );
    let checks: Vec<&str> = r
        .journal
        .iter()
        .filter(|l| l["event"] == "check")
        .filter_map(|l| l["check"].as_str())
        .collect();
    assert!(
        !verdicts
            .iter()
            .chain(
                checks
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .iter()
            )
            .any(|c| c.contains("XSCF")),
        "the dropped check did not run: {verdicts:?} {checks:?}"
    );
    // The site's own check is shown and journaled like the driver's (`report_check`).
    assert!(checks.contains(&"storage team"), "{checks:?}");
    assert!(
        env.changes().is_empty(),
        "nothing was sent: {:?}",
        env.changes()
    );
    assert_eq!(
        env.runs_on("guest2"),
        ["cd2"],
        "the procedure's body did not run"
    );
    // The procedure's module and the procedure itself are in the journal.
    assert!(
        r.journal
            .iter()
            .any(|l| l["event"] == "script_loaded" && l["name"] == "ldoms/live-migration"),
        "{:?}",
        r.journal
    );
}

#[test]
fn hypervisor_preflight_of_a_procedure_without_a_preflight_function_is_unsupported() {
    let env = Env::new();
    let procedure = shipped("ldoms/live-migration").replacen(
        "fn preflight(guest, target) {",
        "fn site_checks(guest, target) {",
        1,
    );
    let copy = env.put("ldoms/live-migration", &procedure);
    let top = env.top("hypervisor.preflight(\"guest2\", \"cd3\");\n");
    let r = env.run(&top, &[]);
    assert!(
        r.out.contains(&format!(
            "the procedure {} defines no function preflight with 2 parameter(s), which hypervisor.preflight runs",
            copy.display()
        )),
        "{}",
        r.out
    );
    let error = r
        .journal
        .iter()
        .find(|l| l["event"] == "error")
        .expect("an error line");
    assert_eq!(error["kind"], "unsupported", "{error}");
    assert_ne!(r.code, Some(0));
    assert!(
        env.changes().is_empty(),
        "nothing was sent: {:?}",
        env.changes()
    );
}

#[test]
fn a_preflight_that_calls_hypervisor_migrate_is_refused_and_nothing_changes() {
    let env = Env::new();
    // A site's preflight that (wrongly) moves the guest: hypervisor.preflight must stay
    // read-only, so the procedure it runs may not run again inside it.
    let procedure = shipped("ldoms/live-migration").replacen(
        "fn preflight(guest, target) {",
        "fn preflight(guest, target) {\n    hypervisor.migrate(guest, target);",
        1,
    );
    let copy = env
        .put("ldoms/live-migration", &procedure)
        .display()
        .to_string();
    let top = env.top("hypervisor.preflight(\"guest2\", \"cd3\");\n");
    let r = env.run(&top, &[]);
    assert_eq!(r.code, Some(2), "{}", r.out);
    assert!(
        r.out
            .contains(&format!("re-enters itself ({top} → {copy} → {copy})")),
        "{}",
        r.out
    );
    assert!(
        env.changes().is_empty(),
        "nothing was sent: {:?}",
        env.changes()
    );
    assert_eq!(env.runs_on("guest2"), ["cd2"]);
    // Refused at once: the procedure's body did not start inside the preflight.
    let steps: Vec<&Value> = r.journal.iter().filter(|l| l["event"] == "step").collect();
    assert!(steps.is_empty(), "{steps:?}");
    // (Inside a procedure that defines `preflight(guest, target)`, `hypervisor.preflight(g,
    // t)` is that script function, by Rhai's method-call syntax: a recursion there is
    // Rhai's own "Stack overflow" error, bounded by the engine's call levels.)
}

#[test]
fn a_preflight_that_uses_the_procedures_top_level_import_runs_through_hypervisor_preflight() {
    let env = Env::new();
    // A site's copy whose `preflight` relies on the module the procedure imports at its
    // top (as the procedure's own run allows), instead of importing it itself.
    let procedure = shipped("ldoms/live-migration").replacen(
        "fn preflight(guest, target) {\n    import \"lib/ldoms/migration\" as m;\n",
        "fn preflight(guest, target) {\n",
        1,
    );
    assert_ne!(
        procedure,
        shipped("ldoms/live-migration"),
        "the edit applies"
    );
    env.put("ldoms/live-migration", &procedure);
    let top = env.top(
        "let r = hypervisor.preflight(\"guest2\", \"cd3\");\n\
         info(`preflight: ${r.checks.len()} verdicts`);\n",
    );
    let r = env.run(&top, &[]);
    assert_eq!(r.code, Some(0), "{}", r.out);
    assert!(
        infos(&r.journal)
            .iter()
            .any(|m| m.starts_with("preflight: ") && m.ends_with(" verdicts")),
        "{}",
        r.out
    );
    assert!(
        env.changes().is_empty(),
        "nothing was sent: {:?}",
        env.changes()
    );
    let steps: Vec<&Value> = r.journal.iter().filter(|l| l["event"] == "step").collect();
    assert!(steps.is_empty(), "the body did not run: {steps:?}");
}

#[test]
fn an_error_in_a_nested_procedure_is_reported_at_its_line_in_that_procedure() {
    let env = Env::new();
    // An unknown guest: the shipped procedure refuses it at one of its own lines.
    let top = env.top(
        "let kind = \"none\";\n\
         try { hypervisor.migrate(\"guest9\", \"cd3\"); } catch (e) { kind = e.kind; }\n\
         info(`caught ${kind}`);\n\
         fn move_it() { hypervisor.migrate(\"guest9\", \"cd3\") }\n\
         move_it();\n",
    );
    let r = env.run(&top, &[]);
    assert_eq!(r.code, Some(2), "{}", r.out);
    // `catch` sees the procedure's own error, kind and all.
    assert!(
        infos(&r.journal).contains(&"caught usage".to_string()),
        "{}",
        r.out
    );
    // The report points into the procedure, then names where it was called from.
    assert!(r.out.contains("--> ldoms/live-migration:"), "{}", r.out);
    assert!(
        r.out.contains(&format!(
            "in the procedure ldoms/live-migration run at {top}:4:"
        )),
        "{}",
        r.out
    );
    let error = r
        .journal
        .iter()
        .find(|l| l["event"] == "error")
        .expect("an error line");
    assert!(
        error["location"]
            .as_str()
            .unwrap_or("")
            .starts_with("ldoms/live-migration:"),
        "{error}"
    );
    assert!(
        env.changes().is_empty(),
        "nothing was sent: {:?}",
        env.changes()
    );
}

/// `run_procedure(name, params)`: a procedure composed of others runs them inside its run,
/// each with its own parameters (a site's copy first), journaled as loaded; one that runs
/// itself is refused naming the chain, before anything is sent.
#[test]
fn run_procedure_runs_a_procedure_inside_the_run_with_its_own_params() {
    let env = Env::new();
    env.put(
        "site/two-steps",
        "//! params: guest\nrun_procedure(\"ldoms/verify-fence\", #{ guest: params.guest });\nlet r = run_procedure(\"site/note\", #{ what: \"done\", skipped: () });\ninfo(`returned: ${r.said}`);\n",
    );
    env.put(
        "site/note",
        "//! params: what\nif \"skipped\" in params { fail(\"usage\", \"() is not passed\"); }\ninfo(`note: ${params.what}`);\n#{ said: params.what }\n",
    );
    let r = env.run("site/two-steps", &["guest=guest2"]);
    assert_eq!(r.code, Some(0), "{}", r.out);
    let said = infos(&r.journal);
    assert!(said.iter().any(|m| m == "returned: done"), "{said:?}");
    assert!(said.iter().any(|m| m == "note: done"), "{said:?}");
    let loaded: Vec<&str> = r
        .journal
        .iter()
        .filter(|l| l["event"] == "script_loaded")
        .filter_map(|l| l["name"].as_str())
        .collect();
    assert!(loaded.contains(&"ldoms/verify-fence"), "{loaded:?}");
    assert!(loaded.contains(&"site/note"), "{loaded:?}");
    // Re-entry.
    let me = env.put("site/loop", "run_procedure(\"site/loop\", #{});\n");
    let r = env.run("site/loop", &[]);
    assert_eq!(r.code, Some(2), "{}", r.out);
    let me = me.display().to_string();
    assert!(
        r.out.contains(&format!("re-enters itself ({me} → {me})")),
        "{}",
        r.out
    );
    assert!(env.changes().is_empty(), "{:?}", env.changes());
}
