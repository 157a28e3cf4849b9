//! The line being typed at a prompt, and the readline editing keys that change it
//! (SPEC §7): pure, so that every key's effect is tested without a terminal.
//!
//! Keys are read by `ask.rs` and turned into an [`Edit`] by [`Edit::of_key`]: printable
//! characters are inserted, the chords readline binds in its emacs mode edit, and every
//! other chord (a Ctrl or Alt combination, a function key) does nothing — it never
//! inserts its letter.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key does to the line, or to the prompt holding it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Edit {
    /// Insert a character at the cursor.
    Insert(char),
    /// Move one character left (Left, Ctrl-B).
    Left,
    /// Move one character right (Right, Ctrl-F).
    Right,
    /// Move to the start of the line (Home, Ctrl-A).
    Start,
    /// Move to the end of the line (End, Ctrl-E).
    End,
    /// Delete the character before the cursor (Backspace, Ctrl-H).
    DeleteBack,
    /// Delete the character under the cursor (Delete, Ctrl-D on a line that is not empty).
    DeleteForward,
    /// Delete from the start of the line to the cursor (Ctrl-U).
    KillToStart,
    /// Delete from the cursor to the end of the line (Ctrl-K).
    KillToEnd,
    /// Delete the word before the cursor: back over spaces, then back to the previous
    /// space (Ctrl-W, readline's `unix-word-rubout`).
    KillWordBack,
    /// Submit the line (Enter, Ctrl-J, Ctrl-M).
    Submit,
    /// Give up the question (Esc, Ctrl-D on an empty line).
    Cancel,
    /// Stop the command (Ctrl-C).
    Interrupt,
    /// Nothing (an unbound chord, a function key).
    Nothing,
}

impl Edit {
    /// What `key` does, on a line that `empty` says is empty or not.
    pub(crate) fn of_key(key: KeyEvent, empty: bool) -> Edit {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        match key.code {
            KeyCode::Enter => Edit::Submit,
            KeyCode::Esc => Edit::Cancel,
            KeyCode::Backspace => Edit::DeleteBack,
            KeyCode::Delete => Edit::DeleteForward,
            KeyCode::Left => Edit::Left,
            KeyCode::Right => Edit::Right,
            KeyCode::Home => Edit::Start,
            KeyCode::End => Edit::End,
            KeyCode::Char(c) if ctrl && !alt => match c.to_ascii_lowercase() {
                'a' => Edit::Start,
                'b' => Edit::Left,
                'c' => Edit::Interrupt,
                'd' if empty => Edit::Cancel,
                'd' => Edit::DeleteForward,
                'e' => Edit::End,
                'f' => Edit::Right,
                'h' => Edit::DeleteBack,
                'j' | 'm' => Edit::Submit,
                'k' => Edit::KillToEnd,
                'u' => Edit::KillToStart,
                'w' => Edit::KillWordBack,
                _ => Edit::Nothing,
            },
            // Alt chords (readline's meta keys) are not bound: they must not type either.
            KeyCode::Char(_) if ctrl || alt => Edit::Nothing,
            KeyCode::Char(c) if !c.is_control() => Edit::Insert(c),
            _ => Edit::Nothing,
        }
    }
}

/// The text of a prompt's answer and the cursor in it (a character index).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Line {
    chars: Vec<char>,
    cursor: usize,
}

impl Line {
    /// The text.
    pub(crate) fn text(&self) -> String {
        self.chars.iter().collect()
    }

    /// Whether nothing is typed.
    pub(crate) fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// The cursor: how many characters are before it.
    pub(crate) fn cursor(&self) -> usize {
        self.cursor
    }

    /// Applies an editing [`Edit`]; the others (submit, cancel, interrupt) change nothing.
    pub(crate) fn apply(&mut self, edit: Edit) {
        let len = self.chars.len();
        match edit {
            Edit::Insert(c) => {
                self.chars.insert(self.cursor, c);
                self.cursor += 1;
            }
            Edit::Left => self.cursor = self.cursor.saturating_sub(1),
            Edit::Right => self.cursor = (self.cursor + 1).min(len),
            Edit::Start => self.cursor = 0,
            Edit::End => self.cursor = len,
            Edit::DeleteBack if self.cursor > 0 => {
                self.cursor -= 1;
                self.chars.remove(self.cursor);
            }
            Edit::DeleteForward if self.cursor < len => {
                self.chars.remove(self.cursor);
            }
            Edit::KillToStart => {
                self.chars.drain(..self.cursor);
                self.cursor = 0;
            }
            Edit::KillToEnd => self.chars.truncate(self.cursor),
            Edit::KillWordBack => {
                let mut start = self.cursor;
                while start > 0 && self.chars[start - 1].is_whitespace() {
                    start -= 1;
                }
                while start > 0 && !self.chars[start - 1].is_whitespace() {
                    start -= 1;
                }
                self.chars.drain(start..self.cursor);
                self.cursor = start;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Types `keys` (as crossterm reports them) on an empty line; the text, with `|` at
    /// the cursor.
    #[track_caller]
    fn check(keys: &[KeyEvent], expected: &str) {
        let mut line = Line::default();
        for key in keys {
            line.apply(Edit::of_key(*key, line.is_empty()));
        }
        let mut shown = line.chars.clone();
        shown.insert(line.cursor(), '|');
        assert_eq!(shown.iter().collect::<String>(), expected);
    }

    fn text(s: &str) -> Vec<KeyEvent> {
        s.chars().map(|c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)).collect()
    }

    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn then(mut a: Vec<KeyEvent>, b: &[KeyEvent]) -> Vec<KeyEvent> {
        a.extend_from_slice(b);
        a
    }

    #[test]
    fn readline_keys_edit() {
        check(&then(text("Bad Name"), &[ctrl('u')]), "|");
        check(&then(text("greet hello"), &[key(KeyCode::Left), ctrl('u')]), "|o");
        check(&then(text("hello"), &[ctrl('a')]), "|hello");
        check(&then(text("hello"), &[ctrl('a'), ctrl('e')]), "hello|");
        check(&then(text("hello"), &[ctrl('b'), ctrl('b'), ctrl('k')]), "hel|");
        check(&then(text("hello"), &[ctrl('a'), ctrl('f'), ctrl('d')]), "h|llo");
        check(&then(text("greet hello  "), &[ctrl('w')]), "greet |");
        check(&then(text("greet-hello"), &[ctrl('w')]), "|");
        check(&then(text("greet-hello"), &[ctrl('a'), ctrl('w')]), "|greet-hello");
        check(&then(text("ab"), &[key(KeyCode::Home), key(KeyCode::Delete)]), "|b");
        check(&then(text("ab"), &[key(KeyCode::Home), key(KeyCode::End)]), "ab|");
        check(&then(text("ab"), &[key(KeyCode::Backspace), ctrl('h')]), "|");
        check(&then(text("ab"), &[key(KeyCode::Right), key(KeyCode::Left)]), "a|b");
    }

    #[test]
    fn no_chord_inserts_a_character() {
        for c in 'a'..='z' {
            check(&[ctrl(c)], "|");
            check(&[KeyEvent::new(KeyCode::Char(c), KeyModifiers::ALT)], "|");
            check(
                &[KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL | KeyModifiers::SHIFT)],
                "|",
            );
        }
        for code in [KeyCode::Tab, KeyCode::F(1), KeyCode::Up, KeyCode::Down, KeyCode::Null] {
            check(&[key(code)], "|");
        }
        check(&[key(KeyCode::Char('\u{7}'))], "|");
        check(&[KeyEvent::new(KeyCode::Char('É'), KeyModifiers::SHIFT)], "É|");
    }

    #[test]
    fn what_ends_a_question() {
        assert_eq!(Edit::of_key(ctrl('c'), false), Edit::Interrupt);
        assert_eq!(Edit::of_key(key(KeyCode::Esc), false), Edit::Cancel);
        assert_eq!(Edit::of_key(ctrl('d'), true), Edit::Cancel);
        assert_eq!(Edit::of_key(ctrl('d'), false), Edit::DeleteForward);
        assert_eq!(Edit::of_key(key(KeyCode::Enter), false), Edit::Submit);
        assert_eq!(Edit::of_key(ctrl('j'), false), Edit::Submit);
    }
}
