//! Plain-text tables for terminal output: aligned columns under a header.

use std::borrow::Cow;

use pflow_ir::{Lines, escape_controls};

/// An aligned table: every column but the last padded to its widest cell, two spaces
/// between columns, no trailing spaces, one line per row after the header.
///
/// Cells come from stored data, so control characters in them (newlines and tabs too)
/// are shown as escapes (`\u{1b}`): a cell can neither act on the terminal nor break the
/// table's lines and columns.
pub(crate) fn render<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let rows: Vec<[Cow<'_, str>; N]> = rows
        .iter()
        .map(|row| row.each_ref().map(|cell| escape_controls(cell, Lines::One)))
        .collect();
    let header = header.map(Cow::Borrowed);
    let mut widths = [0; N];
    for (column, width) in widths.iter_mut().enumerate() {
        let cells = rows.iter().map(|row| row[column].chars().count());
        *width = cells.chain([header[column].chars().count()]).max().unwrap_or(0);
    }
    let mut text = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (column, cell) in row.iter().enumerate() {
            if column + 1 == N {
                line.push_str(cell);
            } else {
                let pad = widths[column] - cell.chars().count();
                line.push_str(cell);
                line.push_str(&" ".repeat(pad + 2));
            }
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn columns_align_and_lines_carry_no_trailing_spaces() {
        let rows = [
            ["a".to_owned(), "long cell".to_owned(), "x".to_owned()],
            ["bbbb".to_owned(), String::new(), String::new()],
        ];
        assert_eq!(
            render(["NAME", "DESCRIPTION", "INPUTS"], &rows),
            "NAME  DESCRIPTION  INPUTS\na     long cell    x\nbbbb\n"
        );
    }

    #[test]
    fn control_characters_in_cells_are_escaped_and_columns_still_align() {
        let rows = [
            ["a\u{1b}[2J".to_owned(), "two\nlines".to_owned(), "\u{202e}x".to_owned()],
            ["b".to_owned(), "tab\there".to_owned(), "y".to_owned()],
        ];
        assert_eq!(
            render(["NAME", "DESCRIPTION", "INPUTS"], &rows),
            "NAME        DESCRIPTION    INPUTS\n\
             a\\u{1b}[2J  two\\u{a}lines  \\u{202e}x\n\
             b           tab\\u{9}here   y\n"
        );
    }
}
