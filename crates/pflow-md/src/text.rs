//! Text helpers with Python's rules, so lines, stripping and whitespace agree with 0.16.

/// Whether `c` is whitespace for Python's `str.isspace` (and so `strip` and `\s`).
///
/// Rust's `char::is_whitespace` is Unicode's `White_Space`; Python adds the four
/// information separators U+001C..U+001F.
pub(crate) fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Whether `c` ends a line for Python's `str.splitlines`.
pub(crate) fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r'
            | '\u{0b}'
            | '\u{0c}'
            | '\u{1c}'
            | '\u{1d}'
            | '\u{1e}'
            | '\u{85}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

/// The lines of `text` as Python's `str.splitlines` gives them (`\r\n` is one break).
pub(crate) fn split_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if is_line_break(c) {
            lines.push(&text[start..i]);
            let mut end = i + c.len_utf8();
            if c == '\r'
                && let Some(&(j, '\n')) = chars.peek()
            {
                chars.next();
                end = j + 1;
            }
            start = end;
        }
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

/// `s.strip()` in Python.
pub(crate) fn strip(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// `s.rstrip()` in Python.
pub(crate) fn rstrip(s: &str) -> &str {
    s.trim_end_matches(is_space)
}

/// `s.lstrip()` in Python.
pub(crate) fn lstrip(s: &str) -> &str {
    s.trim_start_matches(is_space)
}

/// The number of characters (not bytes) in `s`, as Python's `len`.
pub(crate) fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// The whitespace-separated words of `s`, as Python's `str.split()`.
pub(crate) fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split(is_space).filter(|w| !w.is_empty())
}

/// Matches `^\s*-\s+(\S+?):\s*(.*)$`: a `- key: value` item. Gives the key's character
/// column, the key and the value.
pub(crate) fn match_item(line: &str) -> Option<(usize, &str, &str)> {
    let rest = lstrip(line);
    let rest = rest.strip_prefix('-')?;
    let after_dash = lstrip(rest);
    if after_dash.len() == rest.len() {
        return None; // `\s+` needs at least one space
    }
    let key_start = line.len() - after_dash.len();
    // The lazy key: the first `:` reached through non-space characters, one at least.
    let mut key_end = None;
    for (i, c) in after_dash.char_indices() {
        if c == ':' && i > 0 {
            key_end = Some(i);
            break;
        }
        if is_space(c) {
            return None;
        }
    }
    let key_end = key_end?;
    let key = &after_dash[..key_end];
    let value = lstrip(&after_dash[key_end + 1..]);
    Some((char_len(&line[..key_start]), key, value))
}

/// Matches `^(\s*)- (.+)$`: the start of a `- ` item; gives the leading whitespace's
/// character count.
pub(crate) fn match_item_start(line: &str) -> Option<usize> {
    let rest = lstrip(line);
    let after = rest.strip_prefix("- ")?;
    if after.is_empty() {
        return None;
    }
    Some(char_len(&line[..line.len() - rest.len()]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_like_python() {
        assert_eq!(split_lines("a\r\nb\rc\n\nd\u{2028}e\n"), ["a", "b", "c", "", "d", "e"]);
        assert_eq!(split_lines(""), Vec::<&str>::new());
        assert_eq!(split_lines("\n"), [""]);
    }

    #[test]
    fn items_match_like_the_regex() {
        assert_eq!(match_item("- type: shell"), Some((2, "type", "shell")));
        assert_eq!(match_item("  -   a:b: c"), Some((6, "a", "b: c")));
        assert_eq!(match_item("-type: x"), None);
        assert_eq!(match_item("- : x"), None);
        assert_eq!(match_item("- a b: x"), None);
        assert_eq!(match_item_start("- x"), Some(0));
        assert_eq!(match_item_start("- "), None);
        assert_eq!(match_item_start("\t-  "), Some(1));
    }
}
