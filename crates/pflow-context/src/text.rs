//! Small text helpers shared by both contexts.

use serde_json::Value;

/// The longest workflow description the discovery context shows, in characters.
pub(crate) const SUMMARY_MAX_CHARS: usize = 160;

/// `text` on one line: every run of whitespace (newlines included) becomes one space.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `text` on one line, cut at a word boundary to at most `max` characters plus `…`.
pub(crate) fn summary(text: &str, max: usize) -> String {
    let line = one_line(text);
    if line.chars().count() <= max {
        return line;
    }
    let cut = line.char_indices().nth(max).map_or(line.len(), |(i, _)| i);
    let head = &line[..cut];
    // Cut at the last space when there is one, so no word is broken in two.
    let head = head.rfind(' ').map_or(head, |space| &head[..space]);
    format!("{}…", head.trim_end())
}

/// A JSON value as compact, single-line JSON text.
pub(crate) fn json_inline(value: &Value) -> String {
    serde_json::to_string(value).expect("a JSON value always serializes")
}

#[cfg(test)]
mod tests {
    use super::{one_line, summary};

    #[track_caller]
    fn check(text: &str, max: usize, expected: &str) {
        assert_eq!(summary(text, max), expected);
    }

    #[test]
    fn summaries() {
        check("short", 10, "short");
        check("  two\n lines\t here ", 20, "two lines here");
        check("exactly ten", 11, "exactly ten");
        check("one two three four", 10, "one two…");
        check("abcdefghijklmnop", 5, "abcde…");
        check("café crème brûlée", 10, "café…");
        check("", 5, "");
    }

    #[test]
    fn one_line_collapses_whitespace() {
        assert_eq!(one_line("a\n\n  b\r\nc"), "a b c");
    }
}
