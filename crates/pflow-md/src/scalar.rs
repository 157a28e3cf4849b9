//! A single-line `- key: value`: 0.16 reads its value raw (no YAML: `: ` and `#` are
//! text), with YAML-like scalars only for quotes, null, booleans and numbers, and full
//! YAML only for a flow `{...}` or `[...]`.

use serde_json::{Number, Value};

use crate::yaml::{self, YamlError};

/// Why a single-line value could not be read.
#[derive(Debug, PartialEq)]
pub(crate) enum ScalarError {
    /// A quote opened and never closed.
    Unterminated { double: bool },
    /// A flow collection that is not YAML.
    Yaml(YamlError),
}

/// Reads a single-line value.
pub(crate) fn coerce(value: &str) -> Result<Value, ScalarError> {
    if value.is_empty() {
        return Ok(Value::Null);
    }
    let quoted = |q: char| value.chars().count() >= 2 && value.starts_with(q) && value.ends_with(q);
    if quoted('"') {
        return Ok(Value::String(unescape_double(&value[1..value.len() - 1])));
    }
    if quoted('\'') {
        return Ok(Value::String(value[1..value.len() - 1].replace("''", "'")));
    }
    if value.starts_with('"') || value.starts_with('\'') {
        return Err(ScalarError::Unterminated { double: value.starts_with('"') });
    }
    if value.starts_with('{') || value.starts_with('[') {
        return yaml::load(value, true).map_err(ScalarError::Yaml);
    }
    if matches!(value, "null" | "Null" | "NULL" | "~") {
        return Ok(Value::Null);
    }
    if let Some(b) = yaml::bool_value(value) {
        return Ok(Value::Bool(b));
    }
    Ok(number(value).unwrap_or_else(|| Value::String(value.to_owned())))
}

/// `^[+-]?\d+$` as an int, `^[+-]?(\d+\.\d*|\.\d+)([eE][+-]?\d+)?$` as a float.
pub(crate) fn number(value: &str) -> Option<Value> {
    let body = value.strip_prefix(['+', '-']).unwrap_or(value);
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if digits(body) {
        if let Ok(i) = value.parse::<i64>() {
            return Some(Value::from(i));
        }
        if let Ok(u) = body
            .parse::<u64>()
            .map_err(|_| ())
            .and_then(|u| if value.starts_with('-') { Err(()) } else { Ok(u) })
        {
            return Some(Value::from(u));
        }
        return value.parse::<f64>().ok().and_then(Number::from_f64).map(Value::Number);
    }
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(e) => (&body[..e], Some(&body[e + 1..])),
        None => (body, None),
    };
    let (whole, fraction) = mantissa.split_once('.')?;
    let mantissa_ok = if whole.is_empty() {
        digits(fraction)
    } else {
        digits(whole) && (fraction.is_empty() || digits(fraction))
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    if !mantissa_ok || !exponent_ok {
        return None;
    }
    value.parse::<f64>().ok().and_then(Number::from_f64).map(Value::Number)
}

/// The escapes 0.16 reads in a double-quoted single-line value; any other backslash is
/// kept as it is.
fn unescape_double(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            let replacement = match chars.peek() {
                Some('\\') => Some('\\'),
                Some('"') => Some('"'),
                Some('n') => Some('\n'),
                Some('t') => Some('\t'),
                Some('r') => Some('\r'),
                Some('0') => Some('\0'),
                Some('/') => Some('/'),
                Some(' ') => Some(' '),
                _ => None,
            };
            if let Some(r) = replacement {
                chars.next();
                out.push(r);
                continue;
            }
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[track_caller]
    fn check(value: &str, expected: Value) {
        assert_eq!(coerce(value), Ok(expected), "{value}");
    }

    #[test]
    fn single_line_values_read_like_0_16() {
        check("", json!(null));
        check("shell", json!("shell"));
        check("echo a: b # not a comment", json!("echo a: b # not a comment"));
        check("yes", json!(true));
        check("Off", json!(false));
        check("~", json!(null));
        check("007", json!(7));
        check("-12", json!(-12));
        check("1.5e10", json!(1.5e10));
        check("1e5", json!("1e5"));
        check(".5", json!(0.5));
        check("1.", json!(1.0));
        check("0x1f", json!("0x1f"));
        check("\"a\\n\\q\"", json!("a\n\\q"));
        check("'it''s'", json!("it's"));
        check("[a, ${b}]", json!(["a", "${b}"]));
        check("{k: 1}", json!({"k": 1}));
        assert_eq!(coerce("\"open"), Err(ScalarError::Unterminated { double: true }));
        assert!(matches!(coerce("[a, b"), Err(ScalarError::Yaml(_))));
    }
}
