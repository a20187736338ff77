//! The small part of POSIX `sh` the simulated hosts understand: words with single quotes,
//! double quotes and backslashes, `$NAME` / `${NAME}` / `$?` expansions, `~` at the start
//! of a word, leading `VAR=value` assignments, comments, and command lists joined by `;`,
//! newlines, `&&` and `||`.
//!
//! Everything else a real shell would do (pipes, redirections, command substitution,
//! globbing, background jobs, subshells, control structures) is refused with
//! `sh: syntax not supported by the simulator: …` (exit 2) before anything runs, so a
//! simulated run never silently does something different from the real site.

use std::fmt;

/// How a command is joined to the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Connector {
    /// First command, `;` or newline: always runs.
    Always,
    /// `&&`: runs when the previous status is 0.
    And,
    /// `||`: runs when the previous status is not 0.
    Or,
}

/// One piece of a word before expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    /// Literal text; `quoted` when it came from quotes or a backslash (never split).
    Lit { text: String, quoted: bool },
    /// A variable expansion (`$NAME`, `${NAME}`, `$?`).
    Var { name: String, quoted: bool },
    /// `~` at the start of a word: the home folder.
    Tilde,
}

/// One shell word, as parts to expand.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Word(pub Vec<Part>);

impl Word {
    /// The word's text when it is a single unquoted literal.
    fn plain(&self) -> Option<&str> {
        match self.0.as_slice() {
            [Part::Lit {
                text,
                quoted: false,
            }] => Some(text),
            _ => None,
        }
    }
}

/// A simple command: leading assignments, then words (the first one names the program).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct SimpleCommand {
    /// `NAME=value` words before the command name.
    pub assignments: Vec<(String, Word)>,
    /// Command name and arguments.
    pub words: Vec<Word>,
}

/// A parsed command line: simple commands with their connectors.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Script {
    /// The commands in order.
    pub commands: Vec<(Connector, SimpleCommand)>,
}

/// Why a line was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ShellError {
    /// A real syntax error (what `sh` itself would reject).
    Syntax(String),
    /// Valid shell the simulator does not emulate.
    Unsupported(String),
}

impl fmt::Display for ShellError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShellError::Syntax(m) => write!(f, "sh: syntax error: {m}"),
            ShellError::Unsupported(m) => {
                write!(f, "sh: syntax not supported by the simulator: {m}")
            }
        }
    }
}

/// Words the shell treats as keywords in command position; the simulator runs none of them.
const KEYWORDS: &[&str] = &[
    "if", "then", "else", "elif", "fi", "do", "done", "case", "esac", "while", "until", "for",
    "in", "function", "select", "time", "!", "{", "}", "[[", "]]",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sep {
    Semi,
    Newline,
    And,
    Or,
}

#[derive(Debug)]
enum Token {
    Word(Word),
    Sep(Sep),
}

fn unsupported(what: &str) -> ShellError {
    ShellError::Unsupported(what.to_string())
}

fn is_name_start(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}

fn is_name_char(c: char) -> bool {
    c == '_' || c.is_ascii_alphanumeric()
}

/// Whether `s` is a valid shell variable name.
pub(crate) fn is_name(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if is_name_start(c)) && cs.all(is_name_char)
}

struct Lexer<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    tokens: Vec<Token>,
    word: Word,
    /// Whether the current word has started (an empty quoted string still makes a word).
    started: bool,
}

impl<'a> Lexer<'a> {
    fn push_lit(&mut self, c: char, quoted: bool) {
        self.started = true;
        if let Some(Part::Lit { text, quoted: q }) = self.word.0.last_mut() {
            if *q == quoted {
                text.push(c);
                return;
            }
        }
        self.word.0.push(Part::Lit {
            text: c.to_string(),
            quoted,
        });
    }

    fn push_empty_quoted(&mut self) {
        self.started = true;
        if self.word.0.is_empty() {
            self.word.0.push(Part::Lit {
                text: String::new(),
                quoted: true,
            });
        }
    }

    fn finish_word(&mut self) {
        if self.started {
            let w = std::mem::take(&mut self.word);
            self.tokens.push(Token::Word(w));
        }
        self.started = false;
    }

    fn sep(&mut self, c: Sep) {
        self.finish_word();
        self.tokens.push(Token::Sep(c));
    }

    /// After a `$`: read a variable reference (or a literal `$`).
    fn dollar(&mut self, quoted: bool) -> Result<(), ShellError> {
        match self.chars.peek().copied() {
            Some('(') => Err(unsupported("command substitution $(…)")),
            Some('{') => {
                self.chars.next();
                let mut name = String::new();
                loop {
                    match self.chars.next() {
                        Some('}') => break,
                        Some(c) => name.push(c),
                        None => return Err(ShellError::Syntax("unterminated ${".to_string())),
                    }
                }
                if is_name(&name) || name == "?" {
                    self.started = true;
                    self.word.0.push(Part::Var { name, quoted });
                    Ok(())
                } else {
                    Err(ShellError::Unsupported(format!(
                        "parameter expansion ${{{name}}}"
                    )))
                }
            }
            Some('?') => {
                self.chars.next();
                self.started = true;
                self.word.0.push(Part::Var {
                    name: "?".to_string(),
                    quoted,
                });
                Ok(())
            }
            Some(c) if is_name_start(c) => {
                let mut name = String::new();
                while let Some(&c) = self.chars.peek() {
                    if is_name_char(c) {
                        name.push(c);
                        self.chars.next();
                    } else {
                        break;
                    }
                }
                self.started = true;
                self.word.0.push(Part::Var { name, quoted });
                Ok(())
            }
            Some(c) if c.is_ascii_digit() || "$!#@*-".contains(c) => {
                Err(ShellError::Unsupported(format!("special parameter ${c}")))
            }
            _ => {
                self.push_lit('$', quoted);
                Ok(())
            }
        }
    }

    fn double_quoted(&mut self) -> Result<(), ShellError> {
        self.push_empty_quoted();
        loop {
            match self.chars.next() {
                None => return Err(ShellError::Syntax("unterminated quoted string".to_string())),
                Some('"') => return Ok(()),
                Some('\\') => match self.chars.peek().copied() {
                    Some(c @ ('$' | '`' | '"' | '\\')) => {
                        self.chars.next();
                        self.push_lit(c, true);
                    }
                    Some('\n') => {
                        self.chars.next();
                    }
                    _ => self.push_lit('\\', true),
                },
                Some('`') => return Err(unsupported("command substitution `…`")),
                Some('$') => self.dollar(true)?,
                Some(c) => self.push_lit(c, true),
            }
        }
    }

    fn run(mut self) -> Result<Vec<Token>, ShellError> {
        while let Some(c) = self.chars.next() {
            match c {
                ' ' | '\t' | '\r' => self.finish_word(),
                '\n' => self.sep(Sep::Newline),
                '#' if !self.started => {
                    // A comment runs to the end of the line.
                    for c in self.chars.by_ref() {
                        if c == '\n' {
                            break;
                        }
                    }
                    self.sep(Sep::Newline);
                }
                ';' => {
                    if self.chars.peek() == Some(&';') {
                        return Err(unsupported("case terminator ;;"));
                    }
                    self.sep(Sep::Semi)
                }
                '&' => {
                    if self.chars.peek() == Some(&'&') {
                        self.chars.next();
                        self.sep(Sep::And);
                    } else {
                        return Err(unsupported("background jobs (&)"));
                    }
                }
                '|' => {
                    if self.chars.peek() == Some(&'|') {
                        self.chars.next();
                        self.sep(Sep::Or);
                    } else {
                        return Err(unsupported("pipes (|)"));
                    }
                }
                '<' | '>' => return Err(ShellError::Unsupported(format!("redirections ({c})"))),
                '(' | ')' => return Err(unsupported("subshells and parentheses")),
                '`' => return Err(unsupported("command substitution `…`")),
                '*' | '?' | '[' => {
                    return Err(ShellError::Unsupported(format!("filename globbing ({c})")))
                }
                '{' | '}' => {
                    return Err(ShellError::Unsupported(format!("braces ({c})")));
                }
                '\'' => {
                    self.push_empty_quoted();
                    loop {
                        match self.chars.next() {
                            None => {
                                return Err(ShellError::Syntax(
                                    "unterminated quoted string".to_string(),
                                ))
                            }
                            Some('\'') => break,
                            Some(c) => self.push_lit(c, true),
                        }
                    }
                }
                '"' => self.double_quoted()?,
                '\\' => match self.chars.next() {
                    Some('\n') => {}
                    Some(c) => self.push_lit(c, true),
                    None => self.push_lit('\\', true),
                },
                '$' => self.dollar(false)?,
                '~' if !self.started => match self.chars.peek().copied() {
                    None | Some('/' | ' ' | '\t' | '\n' | ';' | '&' | '|') => {
                        self.started = true;
                        self.word.0.push(Part::Tilde);
                    }
                    Some(_) => return Err(unsupported("~user expansion")),
                },
                c => self.push_lit(c, false),
            }
        }
        self.finish_word();
        Ok(self.tokens)
    }
}

fn sep_text(c: Sep) -> &'static str {
    match c {
        Sep::Semi => ";",
        Sep::Newline => "newline",
        Sep::And => "&&",
        Sep::Or => "||",
    }
}

/// Parse one command line.
pub(crate) fn parse(line: &str) -> Result<Script, ShellError> {
    let lexer = Lexer {
        chars: line.chars().peekable(),
        tokens: Vec::new(),
        word: Word::default(),
        started: false,
    };
    let tokens = lexer.run()?;
    let mut script = Script::default();
    let mut pending = Connector::Always;
    let mut current = SimpleCommand::default();
    let mut in_command = false;
    for tok in tokens {
        match tok {
            Token::Word(w) => {
                in_command = true;
                let assignment = if current.words.is_empty() {
                    split_assignment(&w)
                } else {
                    None
                };
                match assignment {
                    Some((name, value)) => current.assignments.push((name, value)),
                    None => {
                        if current.words.is_empty() {
                            if let Some(p) = w.plain() {
                                if KEYWORDS.contains(&p) {
                                    return Err(ShellError::Unsupported(format!(
                                        "shell keyword {p}"
                                    )));
                                }
                            }
                        }
                        current.words.push(w)
                    }
                }
            }
            Token::Sep(sep) => {
                if in_command {
                    script
                        .commands
                        .push((pending, std::mem::take(&mut current)));
                    in_command = false;
                    pending = match sep {
                        Sep::Semi | Sep::Newline => Connector::Always,
                        Sep::And => Connector::And,
                        Sep::Or => Connector::Or,
                    };
                } else if sep != Sep::Newline {
                    // `; a`, `a; ; b`, `a && || b`: a separator with no command before it.
                    return Err(ShellError::Syntax(format!(
                        "`{}' unexpected",
                        sep_text(sep)
                    )));
                }
            }
        }
    }
    if in_command {
        script.commands.push((pending, current));
    } else if pending != Connector::Always {
        return Err(ShellError::Syntax("unexpected end of input".to_string()));
    }
    Ok(script)
}

/// `NAME=value` in command prefix position: the name and the value's parts.
fn split_assignment(w: &Word) -> Option<(String, Word)> {
    let (first, rest) = w.0.split_first()?;
    let Part::Lit {
        text,
        quoted: false,
    } = first
    else {
        return None;
    };
    let (name, value) = text.split_once('=')?;
    if !is_name(name) {
        return None;
    }
    let mut parts = Vec::new();
    if !value.is_empty() {
        parts.push(Part::Lit {
            text: value.to_string(),
            quoted: false,
        });
    }
    parts.extend(rest.iter().cloned());
    Some((name.to_string(), Word(parts)))
}

/// Expand a word into fields, looking variables up with `lookup` and `~` as `home`.
/// Unquoted expansions are split on blanks; an unquoted expansion to nothing yields no field.
pub(crate) fn expand(word: &Word, lookup: &dyn Fn(&str) -> String, home: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut have = false;
    for part in &word.0 {
        match part {
            Part::Lit { text, .. } => {
                cur.push_str(text);
                have = true;
            }
            Part::Tilde => {
                cur.push_str(home);
                have = true;
            }
            Part::Var { name, quoted: true } => {
                cur.push_str(&lookup(name));
                have = true;
            }
            Part::Var {
                name,
                quoted: false,
            } => {
                let value = lookup(name);
                if value.is_empty() {
                    continue;
                }
                let starts_blank = value.starts_with([' ', '\t', '\n']);
                let ends_blank = value.ends_with([' ', '\t', '\n']);
                let pieces: Vec<&str> = value.split_whitespace().collect();
                if starts_blank && have {
                    fields.push(std::mem::take(&mut cur));
                    have = false;
                }
                let n = pieces.len();
                for (i, p) in pieces.iter().enumerate() {
                    cur.push_str(p);
                    have = true;
                    if i + 1 < n {
                        fields.push(std::mem::take(&mut cur));
                    }
                }
                if ends_blank && have {
                    fields.push(std::mem::take(&mut cur));
                    have = false;
                }
            }
        }
    }
    if have {
        fields.push(cur);
    }
    fields
}

/// Expand an assignment value (no field splitting).
pub(crate) fn expand_value(word: &Word, lookup: &dyn Fn(&str) -> String, home: &str) -> String {
    let mut s = String::new();
    for part in &word.0 {
        match part {
            Part::Lit { text, .. } => s.push_str(text),
            Part::Tilde => s.push_str(home),
            Part::Var { name, .. } => s.push_str(&lookup(name)),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<Vec<String>> {
        let script = parse(line).expect("parses");
        let lookup = |n: &str| match n {
            "HOME" => "/root".to_string(),
            "TWO" => "a b".to_string(),
            _ => String::new(),
        };
        script
            .commands
            .iter()
            .map(|(_, c)| {
                c.words
                    .iter()
                    .flat_map(|w| expand(w, &lookup, "/root"))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn plain_words() {
        assert_eq!(words("ldm list -p"), vec![vec!["ldm", "list", "-p"]]);
    }

    #[test]
    fn single_quotes_keep_everything() {
        assert_eq!(
            words(r"echo 'a b' 'x;y|z' '$HOME'"),
            vec![vec!["echo", "a b", "x;y|z", "$HOME"]]
        );
        assert_eq!(words(r"echo 'it'\''s'"), vec![vec!["echo", "it's"]]);
        assert_eq!(words("echo ''"), vec![vec!["echo", ""]]);
    }

    #[test]
    fn double_quotes_and_backslashes() {
        assert_eq!(
            words(r#"echo "a \"b\" \$c \\ \x""#),
            vec![vec!["echo", r#"a "b" $c \ \x"#]]
        );
        assert_eq!(words(r"echo a\ b \;"), vec![vec!["echo", "a b", ";"]]);
        assert_eq!(
            words(r#"echo "$HOME/x" ${HOME}"#),
            vec![vec!["echo", "/root/x", "/root"]]
        );
    }

    #[test]
    fn unquoted_expansion_splits_and_vanishes() {
        assert_eq!(
            words("echo $TWO \"$TWO\" $NOPE x"),
            vec![vec!["echo", "a", "b", "a b", "x"]]
        );
        assert_eq!(
            words("echo ~ ~/x a~"),
            vec![vec!["echo", "/root", "/root/x", "a~"]]
        );
    }

    #[test]
    fn assignments_and_connectors() {
        let s = parse("LC_ALL=C /usr/sbin/ldm list -p").expect("parses");
        assert_eq!(s.commands.len(), 1);
        assert_eq!(s.commands[0].1.assignments[0].0, "LC_ALL");
        let s = parse("LC_ALL=C; export LC_ALL; a && b || c").expect("parses");
        let conns: Vec<Connector> = s.commands.iter().map(|(c, _)| *c).collect();
        assert_eq!(
            conns,
            vec![
                Connector::Always,
                Connector::Always,
                Connector::Always,
                Connector::And,
                Connector::Or
            ]
        );
        assert!(s.commands[0].1.words.is_empty());
        // A word after the command name is not an assignment.
        let s = parse("echo A=1").expect("parses");
        assert!(s.commands[0].1.assignments.is_empty());
        assert_eq!(s.commands[0].1.words.len(), 2);
    }

    #[test]
    fn comments_and_newlines() {
        assert_eq!(
            words("echo a # b c\necho d"),
            vec![vec!["echo", "a"], vec!["echo", "d"]]
        );
        assert_eq!(words("echo a#b"), vec![vec!["echo", "a#b"]]);
        assert_eq!(words(""), Vec::<Vec<String>>::new());
        assert_eq!(words("a;"), vec![vec!["a"]]);
    }

    #[test]
    fn refusals() {
        let cases = [
            ("ls | wc", "pipes (|)"),
            ("cat > x", "redirections (>)"),
            ("cat < x", "redirections (<)"),
            ("echo $(id)", "command substitution $(…)"),
            ("echo `id`", "command substitution `…`"),
            ("echo \"`id`\"", "command substitution `…`"),
            ("ls *", "filename globbing (*)"),
            ("ls a?", "filename globbing (?)"),
            ("sleep 1 &", "background jobs (&)"),
            ("(echo a)", "subshells and parentheses"),
            ("if true; then echo; fi", "shell keyword if"),
            ("echo ${A:-b}", "parameter expansion ${A:-b}"),
            ("echo $1", "special parameter $1"),
        ];
        for (line, what) in cases {
            assert_eq!(
                parse(line),
                Err(ShellError::Unsupported(what.to_string())),
                "{line}"
            );
        }
    }

    #[test]
    fn syntax_errors() {
        assert_eq!(
            parse("echo 'a"),
            Err(ShellError::Syntax("unterminated quoted string".into()))
        );
        assert_eq!(
            parse("echo \"a"),
            Err(ShellError::Syntax("unterminated quoted string".into()))
        );
        assert_eq!(
            parse("&& a"),
            Err(ShellError::Syntax("`&&' unexpected".into()))
        );
        assert_eq!(
            parse("a &&"),
            Err(ShellError::Syntax("unexpected end of input".into()))
        );
        assert_eq!(
            parse("a; ; b"),
            Err(ShellError::Syntax("`;' unexpected".into()))
        );
        assert_eq!(
            parse("; b"),
            Err(ShellError::Syntax("`;' unexpected".into()))
        );
        assert_eq!(
            parse("a && ; b"),
            Err(ShellError::Syntax("`;' unexpected".into()))
        );
    }

    #[test]
    fn never_panics_on_odd_input() {
        for line in [
            "\\", "$", "${", "${}", "'", "\"\\", "~x", "a\u{0}b", "$?x", "&&&", "|||", ";;",
        ] {
            let _ = parse(line);
        }
    }
}
