//! YAML as PyYAML's `safe_load` reads it (YAML 1.1 scalars: `yes`/`on` are true, `012`
//! is octal, `1:30` is 90), on yaml-rust2's event parser, into JSON values.
//!
//! yaml-rust2 gives the syntax (events with the style of each scalar); the meaning of a
//! plain scalar, merge keys, aliases and the keys JSON needs are decided here, so they
//! match 0.16 and not YAML 1.2. The tree is built with an explicit stack, at most
//! [`MAX_DEPTH`] levels deep, and aliases expand within [`MAX_NODES`] values.

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::TScalarStyle;

use crate::pyfmt::float_repr;

/// The deepest nesting of sequences and mappings read.
pub(crate) const MAX_DEPTH: usize = 120;
/// The most values one document may expand to through aliases.
pub(crate) const MAX_NODES: usize = 1_000_000;

/// A YAML mistake, with its line within the YAML text (1-based).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct YamlError {
    pub(crate) message: String,
    pub(crate) line: Option<usize>,
}

impl YamlError {
    fn new(message: impl Into<String>, line: Option<usize>) -> Self {
        YamlError { message: message.into(), line }
    }
}

/// Loads one YAML document; `templates` shields bare `${...}` templates first, as 0.16
/// does for every param (so `{ x: ${y} }` reads like `x: ${y}`).
pub(crate) fn load(text: &str, templates: bool) -> Result<Value, YamlError> {
    check_printable(text)?;
    if !templates {
        return parse(text);
    }
    let (masked, placeholders) = mask_templates(text);
    if placeholders.is_empty() {
        return parse(text);
    }
    let restore = |s: &str| {
        let mut s = s.to_owned();
        for (key, template) in &placeholders {
            if s.contains(key.as_str()) {
                s = s.replace(key.as_str(), template);
            }
        }
        s
    };
    match parse(&masked) {
        Ok(value) => Ok(restore_value(value, &restore)),
        Err(error) => Err(YamlError { message: restore(&error.message), line: error.line }),
    }
}

/// PyYAML refuses a stream with a character outside its printable set.
fn check_printable(text: &str) -> Result<(), YamlError> {
    let printable = |c: char| {
        matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}')
            || c >= '\u{10000}'
    };
    match text.char_indices().find(|&(_, c)| !printable(c)) {
        None => Ok(()),
        Some((i, c)) => {
            let line = text[..i].matches('\n').count() + 1;
            Err(YamlError::new(
                format!(
                    "unacceptable character U+{:04X}: special characters are not allowed",
                    c as u32
                ),
                Some(line),
            ))
        }
    }
}

/// Replaces each bare `${...}` (one level of inner braces allowed) outside a quoted
/// scalar with a placeholder that the text does not contain.
fn mask_templates(text: &str) -> (String, Vec<(String, String)>) {
    let mut nonce = 0u32;
    while text.contains(&format!("__pflow_tpl_{nonce:x}_")) {
        nonce += 1;
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut placeholders = Vec::new();
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        let end = match bytes[i] {
            b'"' => quoted_end(bytes, i, b'"'),
            b'\'' => quoted_end(bytes, i, b'\''),
            b'$' => template_end(bytes, i).inspect(|&end| {
                let key = format!("__pflow_tpl_{nonce:x}_{}__", placeholders.len());
                out.push_str(&text[copied..i]);
                out.push_str(&key);
                placeholders.push((key, text[i..end].to_owned()));
                copied = end;
            }),
            _ => None,
        };
        match end {
            Some(end) => i = end,
            None => i += 1,
        }
    }
    out.push_str(&text[copied..]);
    (out, placeholders)
}

/// The end of `"(?:\\.|[^"\\])*"` or `'(?:''|[^'])*'` starting at `start`.
fn quoted_end(bytes: &[u8], start: usize, quote: u8) -> Option<usize> {
    let mut i = start + 1;
    while i < bytes.len() {
        let b = bytes[i];
        if quote == b'"' && b == b'\\' {
            // `\\.`: `.` is any character but a newline.
            if i + 1 < bytes.len() && bytes[i + 1] != b'\n' {
                i += 2;
                continue;
            }
            return None;
        }
        if b == quote {
            if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return Some(i + 1);
        }
        i += 1;
    }
    None
}

/// The end of `\$\{(?:[^{}]|\{[^{}]*\})*\}` starting at `start`.
fn template_end(bytes: &[u8], start: usize) -> Option<usize> {
    if bytes.get(start + 1) != Some(&b'{') {
        return None;
    }
    let mut i = start + 2;
    while i < bytes.len() {
        match bytes[i] {
            b'}' => return Some(i + 1),
            b'{' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'}' {
                    if bytes[i] == b'{' {
                        return None;
                    }
                    i += 1;
                }
                if i == bytes.len() {
                    return None;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

fn restore_value(value: Value, restore: &dyn Fn(&str) -> String) -> Value {
    match value {
        Value::String(s) => Value::String(restore(&s)),
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| restore_value(v, restore)).collect())
        }
        Value::Object(map) => Value::Object(
            map.into_iter().map(|(k, v)| (restore(&k), restore_value(v, restore))).collect(),
        ),
        other => other,
    }
}

/// A collection being built.
enum Open {
    Seq { anchor: usize, items: Vec<Value> },
    Map { anchor: usize, entries: Vec<(Value, Value, bool)>, key: Option<(Value, bool)> },
}

fn parse(text: &str) -> Result<Value, YamlError> {
    let mut events = Vec::new();
    let mut parser = Parser::new_from_str(text);
    loop {
        let (event, mark) = parser
            .next_token()
            .map_err(|e| YamlError::new(e.info().to_owned(), Some(e.marker().line().max(1))))?;
        let end = event == Event::StreamEnd;
        events.push((event, mark));
        if end {
            break;
        }
    }
    // PyYAML ends a block scalar that runs to the end of a text without a final line
    // break without a final newline; yaml-rust2 adds one. Only the last scalar can.
    let last_scalar =
        events.iter().rposition(|(e, _)| matches!(e, Event::Scalar(..) | Event::Alias(_)));
    if let Some(i) = last_scalar
        && let (Event::Scalar(value, TScalarStyle::Literal | TScalarStyle::Folded, ..), _) =
            &mut events[i]
        && !text.ends_with(['\n', '\r'])
        && value.ends_with('\n')
    {
        value.pop();
    }
    let events = events.into_iter();
    let mut stack: Vec<Open> = Vec::new();
    let mut anchors: Vec<(usize, Value)> = Vec::new();
    let mut document: Option<Value> = None;
    let mut documents = 0;
    let mut nodes = 0usize;
    for (event, mark) in events {
        let line = Some(mark.line().max(1));
        let value = match event {
            Event::StreamEnd => break,
            Event::DocumentStart => {
                documents += 1;
                if documents > 1 {
                    return Err(YamlError::new(
                        "expected a single document in the stream, but found another document",
                        line,
                    ));
                }
                continue;
            }
            Event::Nothing | Event::StreamStart | Event::DocumentEnd => continue,
            Event::SequenceStart(anchor, tag) => {
                check_tag(tag.as_ref(), "seq", line)?;
                if stack.len() >= MAX_DEPTH {
                    return Err(YamlError::new(
                        format!("nested more than {MAX_DEPTH} levels deep"),
                        line,
                    ));
                }
                stack.push(Open::Seq { anchor, items: Vec::new() });
                continue;
            }
            Event::MappingStart(anchor, tag) => {
                check_tag(tag.as_ref(), "map", line)?;
                if stack.len() >= MAX_DEPTH {
                    return Err(YamlError::new(
                        format!("nested more than {MAX_DEPTH} levels deep"),
                        line,
                    ));
                }
                stack.push(Open::Map { anchor, entries: Vec::new(), key: None });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (anchor, value) = match stack.pop() {
                    Some(Open::Seq { anchor, items }) => (anchor, Value::Array(items)),
                    Some(Open::Map { anchor, entries, .. }) => (anchor, flatten(entries, line)?),
                    None => return Err(YamlError::new("unbalanced collection", line)),
                };
                remember(&mut anchors, anchor, &value);
                value
            }
            Event::Scalar(text, style, anchor, tag) => {
                nodes += 1;
                let merge = style == TScalarStyle::Plain && tag.is_none() && text == "<<";
                let value = scalar(text, style, tag.as_ref(), line)?;
                remember(&mut anchors, anchor, &value);
                if merge && let Some(Open::Map { key: key @ None, .. }) = stack.last_mut() {
                    *key = Some((value, true));
                    continue;
                }
                value
            }
            Event::Alias(id) => {
                let value = anchors
                    .iter()
                    .rev()
                    .find(|(a, _)| *a == id)
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| YamlError::new("found undefined alias", line))?;
                nodes += count(&value);
                value
            }
        };
        if nodes > MAX_NODES {
            return Err(YamlError::new(
                format!("the document expands to more than {MAX_NODES} values"),
                line,
            ));
        }
        match stack.last_mut() {
            None => document = Some(value),
            Some(Open::Seq { items, .. }) => items.push(value),
            Some(Open::Map { entries, key, .. }) => match key.take() {
                None => *key = Some((value, false)),
                Some((k, merge)) => entries.push((k, value, merge)),
            },
        }
    }
    Ok(document.unwrap_or(Value::Null))
}

fn remember(anchors: &mut Vec<(usize, Value)>, anchor: usize, value: &Value) {
    if anchor > 0 {
        anchors.push((anchor, value.clone()));
    }
}

fn count(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(count).sum::<usize>(),
        Value::Object(map) => 1 + map.values().map(count).sum::<usize>(),
        _ => 1,
    }
}

/// A mapping's entries into an object: merge keys first (PyYAML's `flatten_mapping`),
/// then the explicit keys, a later duplicate replacing the value in place.
fn flatten(entries: Vec<(Value, Value, bool)>, line: Option<usize>) -> Result<Value, YamlError> {
    let mut merged: Vec<(String, Value)> = Vec::new();
    let mut explicit: Vec<(String, Value)> = Vec::new();
    for (key, value, merge) in entries {
        if !merge {
            explicit.push((key_string(&key, line)?, value));
            continue;
        }
        match value {
            Value::Object(map) => merged.extend(map),
            Value::Array(items) => {
                let mut maps = Vec::new();
                for item in items {
                    match item {
                        Value::Object(map) => maps.push(map),
                        _ => {
                            return Err(YamlError::new(
                                "while constructing a mapping: expected a mapping for merging",
                                line,
                            ));
                        }
                    }
                }
                for map in maps.into_iter().rev() {
                    merged.extend(map);
                }
            }
            _ => {
                return Err(YamlError::new(
                    "while constructing a mapping: expected a mapping or list of mappings for merging",
                    line,
                ));
            }
        }
    }
    let mut map = Map::new();
    for (key, value) in merged.into_iter().chain(explicit) {
        map.insert(key, value);
    }
    Ok(Value::Object(map))
}

/// A key as `json.dumps` writes a dict's key.
fn key_string(key: &Value, line: Option<usize>) -> Result<String, YamlError> {
    Ok(match key {
        Value::String(s) => s.clone(),
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => float_repr(f),
            _ => n.to_string(),
        },
        Value::Array(_) | Value::Object(_) => {
            return Err(YamlError::new("while constructing a mapping: found unhashable key", line));
        }
    })
}

fn is_core_tag(tag: &Tag, suffix: &str) -> bool {
    (tag.handle == "tag:yaml.org,2002:" || tag.handle == "!!") && tag.suffix == suffix
}

fn check_tag(tag: Option<&Tag>, kind: &str, line: Option<usize>) -> Result<(), YamlError> {
    match tag {
        None => Ok(()),
        Some(tag) if is_core_tag(tag, kind) || (tag.handle == "!" && tag.suffix.is_empty()) => {
            Ok(())
        }
        Some(tag) => Err(unknown_tag(tag, line)),
    }
}

fn unknown_tag(tag: &Tag, line: Option<usize>) -> YamlError {
    YamlError::new(
        format!("could not determine a constructor for the tag `{}{}`", tag.handle, tag.suffix),
        line,
    )
}

fn scalar(
    text: String,
    style: TScalarStyle,
    tag: Option<&Tag>,
    line: Option<usize>,
) -> Result<Value, YamlError> {
    if let Some(tag) = tag {
        let known = ["str", "int", "float", "bool", "null"];
        let Some(kind) = known.iter().find(|k| is_core_tag(tag, k)) else {
            if tag.handle == "!" && tag.suffix.is_empty() {
                return Ok(Value::String(text));
            }
            return Err(unknown_tag(tag, line));
        };
        let resolved = match *kind {
            "str" => Some(Value::String(text.clone())),
            "int" => int(&text),
            "float" => float(&text).or_else(|| {
                int(&text).and_then(|v| v.as_f64()).and_then(Number::from_f64).map(Value::Number)
            }),
            "bool" => bool_value(&text).map(Value::Bool),
            _ => null(&text).then_some(Value::Null),
        };
        return resolved
            .ok_or_else(|| YamlError::new(format!("`{text}` is not a valid `!!{kind}`"), line));
    }
    if style != TScalarStyle::Plain {
        return Ok(Value::String(text));
    }
    if null(&text) {
        return Ok(Value::Null);
    }
    if let Some(b) = bool_value(&text) {
        return Ok(Value::Bool(b));
    }
    if text == "=" {
        return Err(YamlError::new(
            "could not determine a constructor for the tag `tag:yaml.org,2002:value`",
            line,
        ));
    }
    if let Some(v) = int(&text) {
        return Ok(v);
    }
    if let Some(v) = float(&text) {
        return Ok(v);
    }
    Ok(Value::String(text))
}

fn null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// The YAML 1.1 booleans.
pub(crate) fn bool_value(text: &str) -> Option<bool> {
    match text {
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => Some(true),
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

fn split_sign(text: &str) -> (bool, &str) {
    match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    }
}

/// A YAML 1.1 int: `0b1010`, `012` (octal), `0x1f`, `1_000`, `1:30` (sexagesimal).
fn int(text: &str) -> Option<Value> {
    let (negative, body) = split_sign(text);
    let digits =
        |s: &str, ok: fn(u8) -> bool| !s.is_empty() && s.bytes().all(|b| ok(b) || b == b'_');
    let magnitude: Option<i128> = if let Some(bin) = body.strip_prefix("0b") {
        digits(bin, |b| b == b'0' || b == b'1').then(|| radix(bin, 2))?
    } else if let Some(hex) = body.strip_prefix("0x") {
        digits(hex, |b| b.is_ascii_hexdigit()).then(|| radix(hex, 16))?
    } else if body == "0" {
        Some(0)
    } else if let Some(oct) = body.strip_prefix('0') {
        digits(oct, |b| (b'0'..=b'7').contains(&b)).then(|| radix(oct, 8))?
    } else if body.contains(':') {
        sexagesimal_int(body)
    } else if body.as_bytes().first().is_some_and(|b| (b'1'..=b'9').contains(b))
        && digits(body, |b| b.is_ascii_digit())
    {
        radix(body, 10)
    } else {
        None
    };
    let magnitude = magnitude?;
    let signed = if negative { -magnitude } else { magnitude };
    Some(match (i64::try_from(signed), u64::try_from(signed)) {
        (Ok(i), _) => Value::from(i),
        (_, Ok(u)) => Value::from(u),
        _ => Value::from(signed as f64),
    })
}

fn radix(digits: &str, radix: u32) -> Option<i128> {
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    if clean.is_empty() {
        return Some(0);
    }
    i128::from_str_radix(&clean, radix).ok()
}

/// `[1-9][0-9_]*(:[0-5]?[0-9])+`.
fn sexagesimal_int(body: &str) -> Option<i128> {
    let mut parts = body.split(':');
    let first = parts.next()?;
    if !first.as_bytes().first().is_some_and(|b| (b'1'..=b'9').contains(b))
        || !first.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    {
        return None;
    }
    let mut value = radix(first, 10)?;
    for part in parts {
        value = value.checked_mul(60)?.checked_add(sixty(part)? as i128)?;
    }
    Some(value)
}

/// `[0-5]?[0-9]`.
fn sixty(part: &str) -> Option<u32> {
    let b = part.as_bytes();
    let ok = match b.len() {
        1 => b[0].is_ascii_digit(),
        2 => (b'0'..=b'5').contains(&b[0]) && b[1].is_ascii_digit(),
        _ => false,
    };
    ok.then(|| part.parse().ok())?
}

/// A YAML 1.1 float: a dot is needed, an exponent needs its sign; `.inf` and `.nan`,
/// which JSON cannot hold, stay strings.
fn float(text: &str) -> Option<Value> {
    let (negative, body) = split_sign(text);
    let value = if let Some(colon) = body.find(':') {
        // `[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*`
        let (head, rest) = body.split_at(colon);
        if head.is_empty()
            || !head.as_bytes()[0].is_ascii_digit()
            || !head.bytes().all(|b| b.is_ascii_digit() || b == b'_')
        {
            return None;
        }
        let dot = rest.rfind('.')?;
        let (groups, fraction) = rest.split_at(dot);
        if !fraction[1..].bytes().all(|b| b.is_ascii_digit() || b == b'_') {
            return None;
        }
        let mut value = radix(head, 10)? as f64;
        for part in groups[1..].split(':') {
            value = value * 60.0 + f64::from(sixty(part)?);
        }
        let fraction: String = fraction.chars().filter(|&c| c != '_').collect();
        value + format!("0{fraction}").parse::<f64>().ok()?
    } else {
        let (mantissa, exponent) = match body.find(['e', 'E']) {
            Some(e) => (&body[..e], Some(&body[e + 1..])),
            None => (body, None),
        };
        let dot = mantissa.find('.')?;
        let (whole, fraction) = (&mantissa[..dot], &mantissa[dot + 1..]);
        let whole_ok = if whole.is_empty() {
            // `\.[0-9][0-9_]*`, unsigned only.
            !negative
                && body.len() == text.len()
                && fraction.as_bytes().first().is_some_and(u8::is_ascii_digit)
        } else {
            whole.as_bytes()[0].is_ascii_digit()
                && whole.bytes().all(|b| b.is_ascii_digit() || b == b'_')
        };
        if !whole_ok || !fraction.bytes().all(|b| b.is_ascii_digit() || b == b'_') {
            return None;
        }
        if let Some(exp) = exponent {
            let (sign, digits) = exp.split_at(exp.len().min(1));
            if !(sign == "+" || sign == "-")
                || digits.is_empty()
                || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
        }
        let clean: String = body.chars().filter(|&c| c != '_').collect();
        let clean = if clean.starts_with('.') { format!("0{clean}") } else { clean };
        clean.parse::<f64>().ok()?
    };
    let value = if negative { -value } else { value };
    Number::from_f64(value).map(Value::Number)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[track_caller]
    fn check(yaml: &str, expected: Value) {
        assert_eq!(load(yaml, true), Ok(expected), "{yaml}");
    }

    #[test]
    fn scalars_are_yaml_1_1() {
        check("[yes, No, on, OFF, y, true]", json!([true, false, true, false, "y", true]));
        check(
            "[012, 0x1f, 0b11, 1_000, '1', 1:30, -0, +7]",
            json!([10, 31, 3, 1000, "1", 90, 0, 7]),
        );
        check(
            "[1.5, 1.5e10, 1.5e+1, .5, 1., 1e5, .inf, 1:30.5]",
            json!([1.5, "1.5e10", 15.0, 0.5, 1.0, "1e5", ".inf", 90.5]),
        );
        check("[~, null, '', 2024-01-15]", json!([null, null, "", "2024-01-15"]));
        check("a:\nb: 1", json!({"a": null, "b": 1}));
        check(
            "{1: a, true: b, ~: c, 1.5: d}",
            json!({"1": "a", "true": "b", "null": "c", "1.5": "d"}),
        );
    }

    #[test]
    fn merges_anchors_and_duplicates() {
        check(
            "a: &x {p: 1, q: 2}\nb:\n  <<: *x\n  q: 3",
            json!({"a": {"p": 1, "q": 2}, "b": {"p": 1, "q": 3}}),
        );
        check("k: 1\nj: 2\nk: 3", json!({"k": 3, "j": 2}));
    }

    #[test]
    fn templates_are_shielded() {
        check("{x: ${y}, z: \"${w}\"}", json!({"x": "${y}", "z": "${w}"}));
        check("[${a ?? {}}]", json!(["${a ?? {}}"]));
    }

    #[test]
    fn mistakes_are_errors_with_a_line() {
        assert_eq!(load("a: 1\nb: [unclosed", true).map_err(|e| e.line.is_some()), Err(true));
        assert!(load("a: !!python/object x", true).is_err());
        assert!(load("a: 1\n---\nb: 2", true).is_err());
        assert!(load("a: \u{1b}", true).is_err());
        assert!(load(&"[".repeat(100_000), true).is_err());
        let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]";
        assert!(load(bomb, true).is_err());
    }
}
