//! What validation needs to know of a `code` node's Python without running Python: the
//! annotated names, which of them are at module level and bare (`items: list`, the
//! inputs), the names the code reads, and the names it binds unconditionally at the top.
//!
//! A small tokenizer (strings, comments, brackets, continuation lines, indentation)
//! followed by a look at each logical line; it is exact for the statements annotations
//! and assignments are written in, and errs toward reporting nothing: code it cannot
//! tokenize gives `None`, and the checks are then left to the interpreter at run time.

use std::collections::{HashMap, HashSet};

/// One annotated name at module level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Annotation {
    pub(crate) name: String,
    /// The annotation as written, whitespace collapsed (`list[dict]`).
    pub(crate) annotation: String,
    /// `name: type` without a value (an input declaration).
    pub(crate) bare: bool,
}

/// What a scan found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Scan {
    /// Every annotated name in any scope, with its (last) annotation.
    pub(crate) everywhere: HashMap<String, String>,
    /// The annotated names at module level (outside `def` and `class`), in order.
    pub(crate) top: Vec<Annotation>,
    /// Names read somewhere in the code (a generous approximation).
    pub(crate) loads: HashSet<String>,
    /// Names bound unconditionally by a top-level statement (`x = …`, `x: T = …`,
    /// `def x`, `class x`) that does not read them on its right-hand side.
    pub(crate) assigned: HashSet<String>,
}

impl Scan {
    /// The module-level annotation of `name`.
    pub(crate) fn top_annotation(&self, name: &str) -> Option<&Annotation> {
        self.top.iter().rev().find(|a| a.name == name)
    }
}

const KEYWORDS: [&str; 35] = [
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

const OPERATORS: [&str; 26] = [
    "**=", "//=", ">>=", "<<=", "...", "==", "!=", "<=", ">=", "->", ":=", "+=", "-=", "*=", "/=",
    "%=", "&=", "|=", "^=", "@=", "**", "//", "<<", ">>", "<>", "=",
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Name(String),
    Op(String),
    /// A string or number literal.
    Literal,
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
}

impl Token {
    fn is_op(&self, op: &str) -> bool {
        matches!(&self.kind, Kind::Op(o) if o == op)
    }

    fn name(&self) -> Option<&str> {
        match &self.kind {
            Kind::Name(n) => Some(n),
            _ => None,
        }
    }
}

struct Line {
    indent: usize,
    tokens: Vec<Token>,
}

/// Scans `code`; `None` when it cannot be tokenized (an unterminated string, unbalanced
/// brackets).
pub(crate) fn scan(code: &str) -> Option<Scan> {
    let (lines, fstring_names) = tokenize(code)?;
    let mut scan = Scan { loads: fstring_names, ..Scan::default() };
    // Indents of the `def` / `class` headers whose bodies the current line is in.
    let mut scopes: Vec<usize> = Vec::new();
    for line in &lines {
        while scopes.last().is_some_and(|&indent| line.indent <= indent) {
            scopes.pop();
        }
        let at_module = scopes.is_empty();
        let tokens = &line.tokens;
        scan.loads.extend(loaded_names(tokens));
        let first = tokens[0].name();
        let header = match first {
            Some("def" | "class") => Some(1),
            Some("async") if tokens.get(1).and_then(Token::name) == Some("def") => Some(2),
            _ => None,
        };
        if let Some(at) = header {
            if at_module
                && line.indent == 0
                && let Some(name) = tokens.get(at).and_then(Token::name)
            {
                scan.assigned.insert(name.to_owned());
            }
            if tokens.last().is_some_and(|t| t.is_op(":")) {
                scopes.push(line.indent);
            }
            continue;
        }
        let Some(name) = first.filter(|n| !KEYWORDS.contains(n)) else { continue };
        if tokens.get(1).is_some_and(|t| t.is_op(":")) && tokens.len() > 2 {
            let equals = top_level_equals(tokens, 2);
            let end = equals.first().map_or(tokens.len(), |&i| i);
            if end <= 2 {
                continue;
            }
            let annotation = collapse(&code[tokens[2].start..tokens[end - 1].end]);
            scan.everywhere.insert(name.to_owned(), annotation.clone());
            if at_module {
                let bare = equals.is_empty();
                if !bare && line.indent == 0 && !reads(&tokens[end + 1..], name) {
                    scan.assigned.insert(name.to_owned());
                }
                scan.top.push(Annotation { name: name.to_owned(), annotation, bare });
            }
        } else if at_module && line.indent == 0 {
            let equals = top_level_equals(tokens, 0);
            if let Some(&last) = equals.last() {
                let value = &tokens[last + 1..];
                let mut start = 0;
                for &eq in &equals {
                    for target in target_names(&tokens[start..eq]) {
                        if !reads(value, &target) {
                            scan.assigned.insert(target);
                        }
                    }
                    start = eq + 1;
                }
            }
        }
    }
    Some(scan)
}

/// Positions of the `=` tokens outside brackets, from `from` on.
fn top_level_equals(tokens: &[Token], from: usize) -> Vec<usize> {
    let mut depth = 0usize;
    let mut found = Vec::new();
    for (i, token) in tokens.iter().enumerate().skip(from) {
        match &token.kind {
            Kind::Op(op) if matches!(op.as_str(), "(" | "[" | "{") => depth += 1,
            Kind::Op(op) if matches!(op.as_str(), ")" | "]" | "}") => {
                depth = depth.saturating_sub(1);
            }
            Kind::Op(op) if op == "=" && depth == 0 => found.push(i),
            _ => {}
        }
    }
    found
}

/// The names an assignment target binds: names outside brackets, or inside the brackets
/// of a tuple or list unpacking, that are not followed by `.`, `[` or `(`.
fn target_names(target: &[Token]) -> Vec<String> {
    let unpacking = target.first().is_some_and(|t| t.is_op("(") || t.is_op("["));
    let mut depth = 0usize;
    let mut names = Vec::new();
    for (i, token) in target.iter().enumerate() {
        match &token.kind {
            Kind::Op(op) if matches!(op.as_str(), "(" | "[" | "{") => depth += 1,
            Kind::Op(op) if matches!(op.as_str(), ")" | "]" | "}") => {
                depth = depth.saturating_sub(1);
            }
            Kind::Name(name) if depth == 0 || (unpacking && depth == 1) => {
                let after = target.get(i + 1);
                let before = i.checked_sub(1).map(|b| &target[b]);
                let attribute_or_call = after
                    .is_some_and(|t| t.is_op(".") || t.is_op("[") || t.is_op("("))
                    || before.is_some_and(|t| t.is_op("."));
                if !attribute_or_call && !KEYWORDS.contains(&name.as_str()) {
                    names.push(name.clone());
                }
            }
            _ => {}
        }
    }
    names
}

/// Whether `name` is read in `tokens`.
fn reads(tokens: &[Token], name: &str) -> bool {
    loaded_names(tokens).any(|n| n == name)
}

/// The names `tokens` may read: every name that is not a keyword, an attribute (after
/// `.`), a keyword argument (`f(x=1)`), an annotated target or an assignment target.
fn loaded_names(tokens: &[Token]) -> impl Iterator<Item = String> + '_ {
    let equals = top_level_equals(tokens, 0);
    let targets_end = equals.last().copied().unwrap_or(0);
    let annotated = tokens.len() > 1 && tokens[0].name().is_some() && tokens[1].is_op(":");
    tokens.iter().enumerate().filter_map(move |(i, token)| {
        let name = token.name()?;
        if KEYWORDS.contains(&name) || (annotated && i == 0) {
            return None;
        }
        let before = i.checked_sub(1).map(|b| &tokens[b]);
        let after = tokens.get(i + 1);
        if before.is_some_and(|t| t.is_op(".")) {
            return None;
        }
        if after.is_some_and(|t| t.is_op("="))
            && (i < targets_end || before.is_some_and(|t| t.is_op("(") || t.is_op(",")))
        {
            return None;
        }
        Some(name.to_owned())
    })
}

/// Whitespace runs as one space, none after an opening or before a closing bracket.
fn collapse(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let joined = words.join(" ");
    joined
        .replace("[ ", "[")
        .replace(" ]", "]")
        .replace("( ", "(")
        .replace(" )", ")")
        .replace(" ,", ",")
}

/// The logical lines of `code`, and the names inside the `{…}` of f-strings (read).
fn tokenize(code: &str) -> Option<(Vec<Line>, HashSet<String>)> {
    let bytes = code.as_bytes();
    let mut lines = Vec::new();
    let mut fstring_names = HashSet::new();
    let mut tokens: Vec<Token> = Vec::new();
    let mut indent = 0usize;
    let mut depth = 0usize;
    let mut at_line_start = true;
    let mut i = 0usize;
    while i < bytes.len() {
        if at_line_start && depth == 0 {
            let mut column = 0usize;
            while i < bytes.len() && matches!(bytes[i], b' ' | b'\t' | b'\x0c') {
                column = if bytes[i] == b'\t' { (column / 8 + 1) * 8 } else { column + 1 };
                i += 1;
            }
            if i >= bytes.len() || matches!(bytes[i], b'\n' | b'\r' | b'#') {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                i += 1;
                continue;
            }
            indent = column;
            at_line_start = false;
        }
        let c = bytes[i];
        match c {
            b' ' | b'\t' | b'\x0c' => i += 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'\\' if matches!(bytes.get(i + 1), Some(b'\n')) => i += 2,
            b'\\' if bytes.get(i + 1) == Some(&b'\r') && bytes.get(i + 2) == Some(&b'\n') => {
                i += 3;
            }
            b'\n' | b'\r' => {
                i += 1;
                if depth == 0 {
                    if !tokens.is_empty() {
                        lines.push(Line { indent, tokens: std::mem::take(&mut tokens) });
                    }
                    at_line_start = true;
                }
            }
            b'\'' | b'"' => {
                let end = string_end(bytes, i)?;
                tokens.push(Token { kind: Kind::Literal, start: i, end });
                i = end;
            }
            b'0'..=b'9' => {
                let start = i;
                i = number_end(bytes, i);
                tokens.push(Token { kind: Kind::Literal, start, end: i });
            }
            b'.' if bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let start = i;
                i = number_end(bytes, i + 1);
                tokens.push(Token { kind: Kind::Literal, start, end: i });
            }
            _ if c == b'_' || c.is_ascii_alphabetic() || c >= 0x80 => {
                let start = i;
                while i < bytes.len()
                    && (bytes[i] == b'_' || bytes[i].is_ascii_alphanumeric() || bytes[i] >= 0x80)
                {
                    i += 1;
                }
                let word = &code[start..i];
                if matches!(bytes.get(i), Some(b'\'' | b'"')) && is_string_prefix(word) {
                    let end = string_end(bytes, i)?;
                    if word.contains(['f', 'F']) {
                        fstring_names.extend(names_in_braces(&code[i..end]));
                    }
                    tokens.push(Token { kind: Kind::Literal, start, end });
                    i = end;
                } else {
                    tokens.push(Token { kind: Kind::Name(word.to_owned()), start, end: i });
                }
            }
            _ => {
                let start = i;
                let rest = &code[i..];
                let op = OPERATORS
                    .iter()
                    .find(|op| rest.starts_with(**op))
                    .map(|op| (*op).to_owned())
                    .unwrap_or_else(|| {
                        let ch = rest.chars().next().unwrap_or(' ');
                        ch.to_string()
                    });
                match op.as_str() {
                    "(" | "[" | "{" => depth += 1,
                    ")" | "]" | "}" => depth = depth.checked_sub(1)?,
                    _ => {}
                }
                i += op.len();
                tokens.push(Token { kind: Kind::Op(op), start, end: i });
            }
        }
    }
    if depth != 0 {
        return None;
    }
    if !tokens.is_empty() {
        lines.push(Line { indent, tokens });
    }
    Some((lines, fstring_names))
}

fn is_string_prefix(word: &str) -> bool {
    word.len() <= 2 && word.chars().all(|c| matches!(c.to_ascii_lowercase(), 'r' | 'b' | 'u' | 'f'))
}

/// The end of the string literal whose quote is at `start`; `None` when unterminated.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let quote = bytes[start];
    let triple = bytes.get(start + 1) == Some(&quote) && bytes.get(start + 2) == Some(&quote);
    let mut i = start + if triple { 3 } else { 1 };
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'\n' if !triple => return None,
            b if b == quote => {
                if !triple {
                    return Some(i + 1);
                }
                if bytes.get(i + 1) == Some(&quote) && bytes.get(i + 2) == Some(&quote) {
                    return Some(i + 3);
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

fn number_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        let b = bytes[i];
        let exponent_sign = matches!(b, b'+' | b'-') && matches!(bytes[i - 1], b'e' | b'E');
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || exponent_sign {
            i += 1;
        } else {
            break;
        }
    }
    i
}

/// The identifiers inside `{…}` of an f-string's text.
fn names_in_braces(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut depth = 0usize;
    let mut word = String::new();
    let mut previous = ' ';
    for c in text.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > 0 && (c == '_' || c.is_alphanumeric()) {
            if word.is_empty() && (c.is_ascii_digit() || previous == '.') {
                previous = c;
                continue;
            }
            word.push(c);
        } else if !word.is_empty() {
            names.push(std::mem::take(&mut word));
        }
        if word.is_empty() {
            previous = c;
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn top(code: &str) -> Vec<(String, String, bool)> {
        scan(code).unwrap().top.into_iter().map(|a| (a.name, a.annotation, a.bare)).collect()
    }

    #[test]
    fn bare_annotations_are_inputs_and_valued_ones_locals() {
        let code = "items: list[ dict ]\ncount: int\n\ntotal: int = sum(items)\nresult: dict = {\n  'n': total,\n}\n";
        assert_eq!(
            top(code),
            vec![
                ("items".into(), "list[dict]".into(), true),
                ("count".into(), "int".into(), true),
                ("total".into(), "int".into(), false),
                ("result".into(), "dict".into(), false),
            ]
        );
    }

    #[test]
    fn annotations_inside_functions_and_classes_are_not_at_module_level() {
        let code = "def f(x):\n    y: int = 1\n    return y\nclass C:\n    z: str\nif True:\n    w: list\nresult: int = f(1)\n";
        let s = scan(code).unwrap();
        let names: Vec<&str> = s.top.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["w", "result"]);
        assert!(s.everywhere.contains_key("y") && s.everywhere.contains_key("z"));
        assert!(s.assigned.contains("f") && s.assigned.contains("C"));
    }

    #[test]
    fn strings_comments_and_continuations_do_not_confuse_it() {
        let code = "# a: int\ns = '''x: int\n'''\nt = \"a: b\" \\\n  + 'c'\nresult: str = f\"{s}{t}\"  # result: int\n";
        let s = scan(code).unwrap();
        assert_eq!(s.top.len(), 1);
        assert_eq!(s.top[0].annotation, "str");
        assert!(s.loads.contains("s") && s.loads.contains("t"));
        assert!(s.assigned.contains("s") && s.assigned.contains("t"));
    }

    #[test]
    fn reads_and_unconditional_bindings() {
        let code = "a: list\nb: int\nc = c + 1\nd, e = 1, 2\nx.y = 3\nfor i in a:\n    k = i\nprint(len(a), sep='')\n";
        let s = scan(code).unwrap();
        assert!(s.loads.contains("a") && s.loads.contains("len"));
        assert!(!s.loads.contains("sep") && !s.loads.contains("b"));
        assert!(s.assigned.contains("d") && s.assigned.contains("e"));
        assert!(
            !s.assigned.contains("c") && !s.assigned.contains("k") && !s.assigned.contains("x")
        );
    }

    #[test]
    fn code_that_cannot_be_tokenized_gives_nothing() {
        assert_eq!(scan("x = 'open"), None);
        assert_eq!(scan("x = (1,\n"), None);
        assert_eq!(scan("x = )"), None);
    }
}
