//! Parsing JSON text with a bounded nesting depth and errors that give line and column.

use serde_json::Value;

/// The deepest nesting of arrays and objects that [`parse_json`] accepts: 127 levels.
///
/// serde_json's parser has a recursion limit of 128 that refuses the 128th nested array
/// or object, so 127 is the true bound; this constant names it so that callers can state
/// it in messages and tests.
pub const MAX_JSON_DEPTH: usize = 127;

/// The deepest nesting a workflow IR may have: [`MAX_JSON_DEPTH`] minus one.
///
/// A saved document holds the IR one level below its root object (in its `ir` field), so
/// a deeper IR would be saved but could never be read back. Validation refuses it.
pub const MAX_IR_DEPTH: usize = MAX_JSON_DEPTH - 1;

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
/// Nesting deeper than [`MAX_JSON_DEPTH`] levels is an error, not a stack overflow; a
/// document exactly that deep parses.
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
    fn the_bound_is_exactly_max_json_depth() {
        for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
            let nest = |levels: usize| {
                let mut text = open.repeat(levels);
                text.push('1');
                text.push_str(&close.repeat(levels));
                parse_json(text.as_bytes())
            };
            assert!(nest(MAX_JSON_DEPTH).is_ok(), "{open}");
            let err = nest(MAX_JSON_DEPTH + 1).unwrap_err();
            assert!(err.message.contains("recursion limit"), "{err}");
        }
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
