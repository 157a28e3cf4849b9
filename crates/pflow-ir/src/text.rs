//! Text that is safe to show on a terminal: control characters from stored data made
//! visible instead of obeyed.
//!
//! A saved description, an input name or a file name in the store can hold anything,
//! including escape sequences (`ESC ]0;title BEL` retitles a terminal, `ESC [2J` clears
//! it) and bidirectional overrides that make text read differently from what it is.
//! Everything printed for people from stored data goes through [`escape_controls`]; JSON
//! output does not need to (serde escapes controls), and the data a run produces is the
//! user's and is printed as it is.

use std::borrow::Cow;
use std::fmt::Write;

/// Whether the text being shown may span lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// A table cell, a list item, a warning: `\n` and `\t` are escaped like every other
    /// control character, so the text stays on its line and in its column.
    One,
    /// A field shown whole (a description): `\n` and `\t` are kept.
    Many,
}

/// `text` with every character that a terminal would act on written as a visible escape
/// (`\u{1b}`): the C0 controls (all of them for [`Lines::One`]; all but `\n` and `\t`
/// for [`Lines::Many`]), DEL, the C1 controls (U+0080–U+009F), the line and paragraph
/// separators (U+2028, U+2029: a terminal shows them as nothing or as a break, either way
/// not as what they are) and the bidirectional embeddings, overrides and isolates
/// (U+202A–U+202E, U+2066–U+2069).
///
/// Everything else is unchanged, and text that holds none of these is borrowed, not
/// copied.
pub fn escape_controls(text: &str, lines: Lines) -> Cow<'_, str> {
    let Some(first) = text.find(|c| needs_escape(c, lines)) else {
        return Cow::Borrowed(text);
    };
    // Each escape adds a few bytes; most texts hold one or two.
    let mut safe = String::with_capacity(text.len() + 8);
    safe.push_str(&text[..first]);
    for c in text[first..].chars() {
        if needs_escape(c, lines) {
            write!(safe, "\\u{{{:x}}}", u32::from(c)).expect("writing to a String cannot fail");
        } else {
            safe.push(c);
        }
    }
    Cow::Owned(safe)
}

/// Whether `c` must be shown as an escape.
fn needs_escape(c: char, lines: Lines) -> bool {
    match c {
        '\n' | '\t' => lines == Lines::One,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => true,
        '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::{Lines, escape_controls};

    #[track_caller]
    fn check(text: &str, lines: Lines, expected: &str) {
        let safe = escape_controls(text, lines);
        assert_eq!(safe, expected);
        // Clean text is borrowed; text that changed is owned.
        assert_eq!(matches!(safe, Cow::Borrowed(_)), text == expected, "{safe:?}");
    }

    #[test]
    fn clean_text_is_borrowed_unchanged() {
        check("", Lines::One, "");
        check("", Lines::Many, "");
        check("Greets someone by name.", Lines::One, "Greets someone by name.");
        check("back\\slash `ticks` ~", Lines::One, "back\\slash `ticks` ~");
        check("café crème brûlée, 日本語, 🦀", Lines::One, "café crème brûlée, 日本語, 🦀");
        // Right next to the escaped ranges, and other format characters: kept.
        check(
            "\u{a0}\u{2027}\u{202f}\u{2065}\u{206a}\u{200f}",
            Lines::One,
            "\u{a0}\u{2027}\u{202f}\u{2065}\u{206a}\u{200f}",
        );
        check("two\nlines\tand a tab", Lines::Many, "two\nlines\tand a tab");
    }

    #[test]
    fn terminal_sequences_become_visible() {
        check("\u{1b}]0;pwned\u{7}", Lines::One, "\\u{1b}]0;pwned\\u{7}");
        check("a\u{1b}[2Jb", Lines::Many, "a\\u{1b}[2Jb");
        check("\u{9b}2J", Lines::One, "\\u{9b}2J");
    }

    #[test]
    fn every_c0_control() {
        check("\u{0}", Lines::One, "\\u{0}");
        check("\u{8}\u{b}\u{c}\r", Lines::Many, "\\u{8}\\u{b}\\u{c}\\u{d}");
        check("\u{1f}", Lines::Many, "\\u{1f}");
        // Newlines and tabs only where the text may span lines.
        check("a\nb\tc", Lines::One, "a\\u{a}b\\u{9}c");
        check("a\r\nb", Lines::Many, "a\\u{d}\nb");
        for c in (0..0x20).filter_map(char::from_u32).filter(|c| !matches!(c, '\n' | '\t')) {
            let expected = format!("\\u{{{:x}}}", u32::from(c));
            check(&c.to_string(), Lines::One, &expected);
            check(&c.to_string(), Lines::Many, &expected);
        }
    }

    #[test]
    fn del_and_c1_controls() {
        check("\u{7f}", Lines::One, "\\u{7f}");
        check("\u{80}x\u{85}\u{9f}", Lines::Many, "\\u{80}x\\u{85}\\u{9f}");
        for c in (0x80..0xa0).filter_map(char::from_u32) {
            check(&c.to_string(), Lines::One, &format!("\\u{{{:x}}}", u32::from(c)));
        }
    }

    #[test]
    fn bidirectional_overrides_and_isolates() {
        check("\u{202e}txt.exe", Lines::One, "\\u{202e}txt.exe");
        check(
            "\u{202a}\u{202b}\u{202c}\u{202d}",
            Lines::Many,
            "\\u{202a}\\u{202b}\\u{202c}\\u{202d}",
        );
        check(
            "\u{2066}\u{2067}\u{2068}\u{2069}",
            Lines::One,
            "\\u{2066}\\u{2067}\\u{2068}\\u{2069}",
        );
    }

    #[test]
    fn line_and_paragraph_separators() {
        check("a\u{2028}b\u{2029}c", Lines::One, "a\\u{2028}b\\u{2029}c");
        check("a\u{2028}b\u{2029}c", Lines::Many, "a\\u{2028}b\\u{2029}c");
    }

    #[test]
    fn multi_byte_text_around_escapes_is_intact() {
        check("café\u{1b}crème", Lines::One, "café\\u{1b}crème");
        check("日本\u{202e}語🦀\u{7}", Lines::Many, "日本\\u{202e}語🦀\\u{7}");
    }
}
