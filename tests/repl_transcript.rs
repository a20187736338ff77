//! The REPL chapter's transcripts are true: every ```text block of book/src/repl.md that
//! starts with `$ hascript repl …` is replayed through the REPL (the non-terminal path, in a
//! fresh temporary folder), and the output must be what the page shows, prompts and inputs
//! included.

use std::path::Path;

mod cli_support;

/// How many transcripts the page holds at least (so the test cannot pass by finding none).
const MIN_TRANSCRIPTS: usize = 2;

/// The transcripts: (line of the block, its lines).
fn transcripts(page: &str) -> Vec<(usize, Vec<String>)> {
    let mut out = Vec::new();
    let mut open: Option<(usize, Vec<String>)> = None;
    for (i, line) in page.lines().enumerate() {
        match &mut open {
            None if line.trim() == "```text" => open = Some((i + 1, Vec::new())),
            None => {}
            Some((start, body)) => {
                if line.trim() == "```" {
                    if body
                        .first()
                        .is_some_and(|l| l.starts_with("$ hascript repl"))
                    {
                        out.push((*start, std::mem::take(body)));
                    }
                    open = None;
                } else {
                    body.push(line.to_string());
                }
            }
        }
    }
    out
}

/// A prompt line's input: `hascript(ldoms sim)> INPUT` or `      ...> INPUT`.
fn input_of(line: &str) -> Option<&str> {
    if line.starts_with("hascript(") {
        let i = line.find(")> ")?;
        return Some(&line[i + 3..]);
    }
    let t = line.trim_start();
    t.strip_prefix("...> ").or((t == "...>").then_some(""))
}

fn replay(args: &[&str], inputs: &[&str], dir: &Path) -> String {
    let mut text = inputs.join("\n");
    text.push('\n');
    String::from_utf8_lossy(&cli_support::repl_merged(args, &text, dir).stdout).into_owned()
}

/// What the page would show for `output`: each prompt (alone on its line through a pipe)
/// followed by the input typed at it; trailing spaces and the version left out.
fn as_shown(output: &str, inputs: &[&str]) -> Vec<String> {
    let mut next = inputs.iter();
    let mut lines: Vec<String> = Vec::new();
    for line in output.lines() {
        let bare = line.trim_end();
        let is_prompt =
            (bare.starts_with("hascript(") && bare.ends_with(")>")) || bare.trim_start() == "...>";
        if is_prompt {
            match next.next() {
                Some(i) => lines.push(format!("{bare} {i}").trim_end().to_string()),
                None => continue,
            }
        } else {
            lines.push(bare.to_string());
        }
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
        .into_iter()
        .map(|l| no_run_id(&l.replace(env!("CARGO_PKG_VERSION"), "VERSION")))
        .collect()
}

/// `line` with the run id of a `:run` banner (`(run 20250101T000000.000Z-1a2b3c)`, new
/// at every run) replaced by `(run RUN-ID)`, as the page shows it.
fn no_run_id(line: &str) -> String {
    match line.rfind("(run ") {
        Some(i) if line.ends_with(')') => format!("{}(run RUN-ID)", &line[..i]),
        _ => line.to_string(),
    }
}

#[test]
fn repl_chapter_transcripts_are_what_the_repl_prints() {
    let page_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("book/src/repl.md");
    let page = std::fs::read_to_string(&page_path).unwrap_or_default();
    let all = transcripts(&page);
    assert!(
        all.len() >= MIN_TRANSCRIPTS,
        "found {} transcripts in {}, expected at least {MIN_TRANSCRIPTS}",
        all.len(),
        page_path.display()
    );
    for (start, block) in all {
        let args: Vec<&str> = block[0]
            .trim_start_matches("$ hascript repl")
            .split_whitespace()
            .collect();
        let shown: Vec<String> = block[1..]
            .iter()
            .map(|l| no_run_id(&l.trim_end().replace(env!("CARGO_PKG_VERSION"), "VERSION")))
            .collect();
        let inputs: Vec<&str> = block[1..].iter().filter_map(|l| input_of(l)).collect();
        assert!(!inputs.is_empty(), "book/src/repl.md:{start}: no inputs");
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        };
        let got = as_shown(&replay(&args, &inputs, dir.path()), &inputs);
        if got != shown {
            let at = got
                .iter()
                .zip(&shown)
                .position(|(a, b)| a != b)
                .unwrap_or(got.len().min(shown.len()));
            panic!(
                "book/src/repl.md:{}: the transcript differs from the REPL's output at its line {}:\n  page: {:?}\n  REPL: {:?}\n--- the REPL printed:\n{}",
                start,
                at + 2,
                shown.get(at),
                got.get(at),
                got.join("\n")
            );
        }
    }
}
