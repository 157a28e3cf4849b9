//! A small Python tokenizer for `code` blocks: the `next = "step"` routes 0.16 reads
//! from the code (its AST walk, here over tokens), and the syntax mistakes that are
//! certain from tokens alone (an unclosed string or bracket, a stray indent). The full
//! grammar is the interpreter's: the `code` node compiles the code before it runs.

/// What the code says about routing.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Routes {
    /// The literal targets of `next = "…"`, in order, without duplicates and `end`.
    pub(crate) targets: Vec<String>,
    /// Some `next = <expression>` that is not a string literal.
    pub(crate) dynamic: bool,
    /// Some `next = "end"`.
    pub(crate) end: bool,
}

/// A syntax mistake: what, and its line within the code (1-based).
#[derive(Debug, PartialEq)]
pub(crate) struct SyntaxError {
    pub(crate) message: String,
    pub(crate) line: usize,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(String),
    /// A string literal: its value if it is a plain (not f, not bytes) string.
    Str(Option<String>),
    Op(&'static str),
    Other,
    Newline,
}

/// Reads the routes `next = "…"` set, as 0.16's `ast.walk` finds them.
pub(crate) fn routes(code: &str) -> Routes {
    let Ok(lines) = tokenize(code) else { return Routes::default() };
    let mut routes = Routes::default();
    let mut literals: Vec<String> = Vec::new();
    for statement in lines.iter().flat_map(|line| statements(line)) {
        let [Tok::Name(name), rest @ ..] = statement.as_slice() else { continue };
        if name != "next" {
            continue;
        }
        let value = match rest {
            [Tok::Op("="), value @ ..] => value,
            [Tok::Op(":"), annotated @ ..] => {
                match annotated.iter().position(|t| *t == Tok::Op("=")) {
                    Some(eq) => &annotated[eq + 1..],
                    None => continue,
                }
            }
            _ => continue,
        };
        if value.contains(&Tok::Op("=")) {
            continue; // `next = a = "x"` has two targets; 0.16 reads only single ones.
        }
        match literal(value) {
            Some(target) => literals.push(target),
            None => routes.dynamic = true,
        }
    }
    for target in literals {
        if target == "end" {
            routes.end = true;
        } else if !routes.targets.contains(&target) {
            routes.targets.push(target);
        }
    }
    routes
}

/// The first syntax mistake certain from tokens, if any.
pub(crate) fn syntax_error(code: &str) -> Option<SyntaxError> {
    tokenize(code).err()
}

/// A string literal, parenthesised or implicitly concatenated, as its value.
fn literal(tokens: &[Tok]) -> Option<String> {
    let mut tokens = tokens;
    while let [Tok::Op("("), inner @ .., Tok::Op(")")] = tokens {
        tokens = inner;
    }
    if tokens.is_empty() {
        return None;
    }
    let mut out = String::new();
    for tok in tokens {
        match tok {
            Tok::Str(Some(s)) => out.push_str(s),
            _ => return None,
        }
    }
    Some(out)
}

/// A logical line's simple statements: split at `;` and after a compound header's `:`.
fn statements(line: &[(Tok, usize)]) -> Vec<Vec<Tok>> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    for (tok, depth) in line {
        let ends =
            *depth == 0 && (*tok == Tok::Op(";") || (*tok == Tok::Op(":") && is_header(&current)));
        if ends {
            out.push(std::mem::take(&mut current));
        } else if *tok != Tok::Newline {
            current.push(tok.clone());
        }
    }
    out.push(current);
    out
}

fn is_header(tokens: &[Tok]) -> bool {
    const KEYWORDS: [&str; 12] = [
        "if", "elif", "else", "for", "while", "try", "except", "finally", "with", "def", "class",
        "async",
    ];
    matches!(tokens.first(), Some(Tok::Name(n)) if KEYWORDS.contains(&n.as_str()))
}

const OPERATORS: [&str; 47] = [
    "**=", "//=", ">>=", "<<=", "...", "==", "!=", "<=", ">=", ":=", "->", "+=", "-=", "*=", "/=",
    "%=", "&=", "|=", "^=", "@=", "**", "//", "<<", ">>", "(", ")", "[", "]", "{", "}", ":", ";",
    ",", ".", "=", "+", "-", "*", "/", "%", "&", "|", "^", "~", "<", ">", "@",
];

/// Logical lines of tokens, each with its bracket depth; an error for an unclosed
/// string or bracket, a closing bracket that closes nothing or an unexpected indent.
#[allow(clippy::type_complexity)]
fn tokenize(code: &str) -> Result<Vec<Vec<(Tok, usize)>>, SyntaxError> {
    let chars: Vec<char> = code.chars().collect();
    let mut lines = Vec::new();
    let mut line: Vec<(Tok, usize)> = Vec::new();
    let mut brackets: Vec<(char, usize)> = Vec::new();
    let mut line_no = 1;
    let mut i = 0;
    let mut at_line_start = true;
    let mut indents: Vec<usize> = vec![0];
    let mut after_header = false;
    let err = |message: &str, line: usize| SyntaxError { message: message.to_owned(), line };
    while i < chars.len() {
        let c = chars[i];
        if at_line_start && brackets.is_empty() {
            // Measure the indentation of a logical line that holds something.
            let mut col = 0;
            let mut j = i;
            while j < chars.len() && matches!(chars[j], ' ' | '\t' | '\x0c') {
                col = if chars[j] == '\t' { (col / 8 + 1) * 8 } else { col + 1 };
                j += 1;
            }
            let blank = j == chars.len()
                || matches!(chars[j], '\n' | '\r' | '#')
                || (chars[j] == '\\' && chars.get(j + 1) == Some(&'\n'));
            if !blank {
                let top = *indents.last().expect("the indent stack holds the margin");
                if col > top {
                    if !after_header {
                        return Err(err("unexpected indent", line_no));
                    }
                    indents.push(col);
                } else {
                    if after_header {
                        return Err(err("expected an indented block", line_no));
                    }
                    while col < *indents.last().expect("the indent stack holds the margin") {
                        indents.pop();
                    }
                    if col != *indents.last().expect("the indent stack holds the margin") {
                        return Err(err(
                            "unindent does not match any outer indentation level",
                            line_no,
                        ));
                    }
                }
            }
            at_line_start = false;
            i = j;
            continue;
        }
        let depth = brackets.len();
        match c {
            '\n' | '\r' => {
                if c == '\r' && chars.get(i + 1) == Some(&'\n') {
                    i += 1;
                }
                i += 1;
                line_no += 1;
                if brackets.is_empty() && !line.is_empty() {
                    after_header = line.last().is_some_and(|(t, _)| *t == Tok::Op(":"));
                    line.push((Tok::Newline, 0));
                    lines.push(std::mem::take(&mut line));
                }
                if brackets.is_empty() {
                    at_line_start = true;
                }
            }
            ' ' | '\t' | '\x0c' => i += 1,
            '#' => {
                while i < chars.len() && !matches!(chars[i], '\n' | '\r') {
                    i += 1;
                }
            }
            '\\' => {
                // A line continuation.
                if matches!(chars.get(i + 1), Some('\n' | '\r')) {
                    i += 2;
                    if chars[i - 1] == '\r' && chars.get(i) == Some(&'\n') {
                        i += 1;
                    }
                    line_no += 1;
                } else {
                    return Err(err(
                        "unexpected character after line continuation character",
                        line_no,
                    ));
                }
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let prefix = word.to_lowercase();
                let is_prefix =
                    ["r", "u", "b", "f", "br", "rb", "fr", "rf"].contains(&prefix.as_str());
                if is_prefix && matches!(chars.get(i), Some('"' | '\'')) {
                    let (value, end, lines_spanned) = string(&chars, i, &prefix, line_no)?;
                    i = end;
                    line_no += lines_spanned;
                    line.push((Tok::Str(value), depth));
                } else {
                    line.push((Tok::Name(word), depth));
                }
            }
            '"' | '\'' => {
                let (value, end, lines_spanned) = string(&chars, i, "", line_no)?;
                i = end;
                line_no += lines_spanned;
                line.push((Tok::Str(value), depth));
            }
            c if c.is_ascii_digit()
                || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || chars[i] == '.' || chars[i] == '_')
                {
                    i += 1;
                }
                line.push((Tok::Other, depth));
            }
            '(' | '[' | '{' => {
                brackets.push((c, line_no));
                line.push((bracket(c), depth));
                i += 1;
            }
            ')' | ']' | '}' => {
                let open = match c {
                    ')' => '(',
                    ']' => '[',
                    _ => '{',
                };
                match brackets.pop() {
                    Some((o, _)) if o == open => {}
                    Some((o, _)) => {
                        return Err(err(
                            &format!(
                                "closing parenthesis '{c}' does not match opening parenthesis '{o}'"
                            ),
                            line_no,
                        ));
                    }
                    None => return Err(err(&format!("unmatched '{c}'"), line_no)),
                }
                line.push((bracket(c), brackets.len()));
                i += 1;
            }
            _ => {
                let rest: String = chars[i..chars.len().min(i + 3)].iter().collect();
                match OPERATORS.iter().find(|o| rest.starts_with(**o)) {
                    Some(op) => {
                        line.push((Tok::Op(op), depth));
                        i += op.chars().count();
                    }
                    None => {
                        // `!`, `$`, `?` and the like: not Python, but leave that to the
                        // interpreter; only what is certain is reported here.
                        line.push((Tok::Other, depth));
                        i += 1;
                    }
                }
            }
        }
    }
    if let Some(&(open, at)) = brackets.last() {
        return Err(err(&format!("'{open}' was never closed"), at));
    }
    if !line.is_empty() {
        if line.last().is_some_and(|(t, _)| *t == Tok::Op(":")) {
            return Err(err("expected an indented block", line_no));
        }
        lines.push(line);
    } else if after_header {
        return Err(err("expected an indented block", line_no));
    }
    Ok(lines)
}

/// The operator token of the bracket `c`.
fn bracket(c: char) -> Tok {
    Tok::Op(OPERATORS.iter().find(|o| o.starts_with(c)).expect("a bracket is an operator"))
}

/// A string literal at `start` (its quote): its value (for a plain string), the index
/// past it and the newlines inside it.
fn string(
    chars: &[char],
    start: usize,
    prefix: &str,
    line: usize,
) -> Result<(Option<String>, usize, usize), SyntaxError> {
    let quote = chars[start];
    let triple = chars.get(start + 1) == Some(&quote) && chars.get(start + 2) == Some(&quote);
    let raw = prefix.contains('r');
    let plain = !prefix.contains('f') && !prefix.contains('b');
    let mut i = start + if triple { 3 } else { 1 };
    let mut value = String::new();
    let mut newlines = 0;
    loop {
        let Some(&c) = chars.get(i) else {
            let message = if triple {
                "unterminated triple-quoted string literal"
            } else {
                "unterminated string literal"
            };
            return Err(SyntaxError { message: message.to_owned(), line });
        };
        if c == quote
            && (!triple || (chars.get(i + 1) == Some(&quote) && chars.get(i + 2) == Some(&quote)))
        {
            i += if triple { 3 } else { 1 };
            break;
        }
        if c == '\n' {
            if !triple {
                return Err(SyntaxError {
                    message: "unterminated string literal".to_owned(),
                    line,
                });
            }
            newlines += 1;
        }
        if c == '\\' {
            let next = chars.get(i + 1).copied();
            if next == Some('\n') {
                newlines += 1;
            }
            if raw {
                value.push(c);
                if let Some(n) = next {
                    value.push(n);
                }
            } else {
                match next {
                    Some('n') => value.push('\n'),
                    Some('t') => value.push('\t'),
                    Some('r') => value.push('\r'),
                    Some('0') => value.push('\0'),
                    Some('\n') => {}
                    Some(n @ ('\\' | '\'' | '"')) => value.push(n),
                    Some(n) => {
                        value.push('\\');
                        value.push(n);
                    }
                    None => {}
                }
            }
            i += 2;
            continue;
        }
        value.push(c);
        i += 1;
    }
    Ok((plain.then_some(value), i, newlines))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_routes(code: &str, targets: &[&str], dynamic: bool, end: bool) {
        let expected =
            Routes { targets: targets.iter().map(|t| (*t).to_owned()).collect(), dynamic, end };
        assert_eq!(routes(code), expected, "{code}");
    }

    #[test]
    fn next_assignments_are_routes() {
        check_routes(
            "if x:\n    next = 'a'\nelse:\n    next: str = \"b\"\n",
            &["a", "b"],
            false,
            false,
        );
        check_routes("next = ('a' 'b')\nnext = 'end'\nnext = 'a'", &["ab", "a"], false, true);
        check_routes("next = f'{x}'", &[], true, false);
        check_routes("next = choose(x)\nresult = {'next': 'z'}", &[], true, false);
        check_routes("if ok: next = 'yes'", &["yes"], false, false);
        check_routes(
            "next == 'a'\nnext += 'b'\nf(next='c')\nnext = a = 'd'\nx = next",
            &[],
            false,
            false,
        );
        check_routes("s = '''\nnext = 'no'\n'''", &[], false, false);
    }

    #[test]
    fn certain_mistakes_are_syntax_errors() {
        assert_eq!(
            syntax_error("x = (1,\n2"),
            Some(SyntaxError { message: "'(' was never closed".into(), line: 1 })
        );
        assert!(syntax_error("x = 'abc").is_some());
        assert!(syntax_error("x = 1\n    y = 2").is_some());
        assert!(syntax_error("if x:\ny = 1").is_some());
        assert!(syntax_error("def f():").is_some());
        assert!(syntax_error("x = [1, 2)").is_some());
        assert_eq!(
            syntax_error("if x:\n    y = {\n  'a': 1}\n# c\n\nz = '''\n'''\nresult = y"),
            None
        );
        assert_eq!(syntax_error("x = 1 \\\n  + 2\nclass A:\n\tpass\n"), None);
    }
}
