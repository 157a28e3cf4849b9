//! Parsing JSON text with a bounded nesting depth and errors that give line and column.

use serde_json::Value;

/// The deepest nesting of arrays and objects accepted anywhere.
///
/// serde_json refuses more than 128 levels on its own; this constant names the bound so
/// that callers can state it in messages and tests.
pub const MAX_JSON_DEPTH: usize = 128;

/// A JSON document that could not be parsed, with the place of the first problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at line {line}, column {column}")]
pub struct JsonError {
    /// What is wrong, in serde_json's words.
    pub message: String,
    /// 1-based line of the problem.
    pub line: usize,
    /// 1-based column of the problem.
    pub column: usize,
}

/// Parses `text` as one JSON value.
///
/// Nesting deeper than [`MAX_JSON_DEPTH`] is an error, not a stack overflow.
pub fn parse_json(text: &[u8]) -> Result<Value, JsonError> {
    serde_json::from_slice(text).map_err(|e| {
        // serde_json's message ends with " at line L column C"; keep only the message.
        let full = e.to_string();
        let message = match full.rfind(" at line ") {
            Some(at) => full[..at].to_owned(),
            None => full,
        };
        JsonError { message, line: e.line(), column: e.column() }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_line_and_column() {
        let err = parse_json(b"{\n  \"a\": 1,\n  oops\n}").unwrap_err();
        assert_eq!(err.line, 3);
        assert_eq!(err.column, 3);
        assert_eq!(err.to_string(), "key must be a string at line 3, column 3");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        // Run on a small stack, as a CLI thread would have, to prove the bound holds.
        let handle = std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(|| {
                let arrays = "[".repeat(100_000);
                let objects = "{\"a\":".repeat(10_000);
                (parse_json(arrays.as_bytes()), parse_json(objects.as_bytes()))
            })
            .unwrap();
        let (arrays, objects) = handle.join().unwrap();
        assert!(arrays.unwrap_err().message.contains("recursion limit"));
        assert!(objects.unwrap_err().message.contains("recursion limit"));
    }
}
