//! Plain-text tables for terminal output: aligned columns under a header.

/// An aligned table: every column but the last padded to its widest cell, two spaces
/// between columns, no trailing spaces, one line per row after the header.
pub(crate) fn render<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let mut widths = [0; N];
    for (column, width) in widths.iter_mut().enumerate() {
        let cells = rows.iter().map(|row| row[column].chars().count());
        *width = cells.chain([header[column].chars().count()]).max().unwrap_or(0);
    }
    let mut text = String::new();
    let header = header.map(str::to_owned);
    for row in std::iter::once(&header).chain(rows) {
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
}
