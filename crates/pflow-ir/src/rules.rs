//! The rule a param's value must follow: its spec's type and [`ParamRules`].
//!
//! [`check_param`] is the one definition of what a param accepts. Validation applies it to
//! literal values and the runtime to resolved values before a node runs, so the two
//! cannot disagree about a value.

mod http;

use std::cmp::Ordering;

use serde_json::{Map, Number, Value};

use crate::{ParamRules, ParamSpec, StringFormat, ValueType};

/// The most of a value that a message quotes, in characters.
const QUOTED_CHARS: usize = 80;

/// Why a value is not accepted for a param (see [`check_param`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamProblem {
    /// The key of the object entry at fault (`A` for `env.A`); `None` when the value
    /// itself is.
    pub key: Option<String>,
    /// What is wrong, naming the bad value but not the param: ``must be greater than 0,
    /// found `0` ``, `must be a number, found a string`.
    pub message: String,
    /// What the param accepts, naming it: ``` `timeout` accepts a number greater than
    /// 0 ```; `None` for a plain type mismatch, which the message says all about.
    pub hint: Option<String>,
}

impl ParamProblem {
    /// How messages name the value at fault: `env.A` for an entry of `env`, else `param`.
    pub fn subject(&self, param: &str) -> String {
        match &self.key {
            Some(key) => format!("{param}.{key}"),
            None => param.to_owned(),
        }
    }
}

/// Checks `value` against `spec`: its type, then its [`ParamRules`].
///
/// `null` counts as absent, as the runtime's getters treat it, and so is accepted unless
/// the param is required and typed. Each rule applies only to values of the kind it speaks
/// of (`minimum` to numbers, `enum` and `format` to strings, `value_types` to objects). The
/// first problem found is returned; an object's entries are checked in order.
pub fn check_param(spec: &ParamSpec, value: &Value) -> Result<(), ParamProblem> {
    if value.is_null() && !spec.required {
        return Ok(());
    }
    if let Some(ty) = spec.ty
        && !ty.matches(value)
    {
        return Err(ParamProblem {
            key: None,
            message: format!("must be {}, found {}", ty.phrase(), ValueType::phrase_of(value)),
            hint: None,
        });
    }
    let rules = &spec.rules;
    let broken = match value {
        Value::Number(n) => number_problem(rules, n).map(|m| (None, m)),
        Value::String(s) => string_problem(rules, s).map(|m| (None, m)),
        Value::Object(map) => entry_problem(rules, map).map(|(k, m)| (Some(k), m)),
        _ => None,
    };
    match broken {
        None => Ok(()),
        Some((key, message)) => Err(ParamProblem {
            key,
            message,
            hint: accepted(spec).map(|a| format!("`{}` accepts {a}", spec.name)),
        }),
    }
}

/// The first bound `n` breaks.
fn number_problem(rules: &ParamRules, n: &Number) -> Option<String> {
    let found = quote(&Value::Number(n.clone()));
    if let Some(min) = &rules.minimum
        && compare(n, min) == Some(Ordering::Less)
    {
        return Some(format!("must be at least {min}, found {found}"));
    }
    if let Some(bound) = &rules.exclusive_minimum
        && compare(n, bound) != Some(Ordering::Greater)
    {
        return Some(format!("must be greater than {bound}, found {found}"));
    }
    if let Some(max) = &rules.maximum
        && compare(n, max) == Some(Ordering::Greater)
    {
        return Some(format!("must be at most {max}, found {found}"));
    }
    None
}

/// Whether `s` is outside `enum` or breaks `format`.
fn string_problem(rules: &ParamRules, s: &str) -> Option<String> {
    let found = quote(&Value::String(s.to_owned()));
    if !rules.allowed.is_empty() && !rules.allowed.iter().any(|a| same(a, s, rules.ignore_case)) {
        return Some(format!("must be {}, found {found}", alternatives(&rules.allowed)));
    }
    match rules.format? {
        StringFormat::HttpUrl => http::url_problem(s).map(|why| {
            let why = why.map(|w| format!(": {w}")).unwrap_or_default();
            format!("must be an absolute `http://` or `https://` URL, found {found}{why}")
        }),
        StringFormat::HttpToken => {
            http::token_problem(s).map(|why| format!("must be an HTTP token, found {found}: {why}"))
        }
    }
}

/// The first entry of `map` whose type `value_types` does not allow.
fn entry_problem(rules: &ParamRules, map: &Map<String, Value>) -> Option<(String, String)> {
    if rules.value_types.is_empty() {
        return None;
    }
    let (key, value) = map.iter().find(|(_, v)| !rules.value_types.iter().any(|t| t.matches(v)))?;
    let expected: Vec<&str> = rules.value_types.iter().map(|t| t.phrase()).collect();
    let message =
        format!("must be {}, found {}", either(&expected, "or"), ValueType::phrase_of(value));
    Some((key.clone(), message))
}

/// What `spec` accepts, as a phrase (`a number greater than 0`); `None` without rules.
fn accepted(spec: &ParamSpec) -> Option<String> {
    let rules = &spec.rules;
    if rules.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    let noun = spec.ty.map_or("a value", ValueType::phrase);
    let bounds = match (&rules.minimum, &rules.exclusive_minimum, &rules.maximum) {
        (None, None, None) => None,
        (Some(min), None, Some(max)) => Some(format!("from {min} to {max}")),
        (min, bound, max) => {
            let phrases: Vec<String> = [
                min.as_ref().map(|m| format!("at least {m}")),
                bound.as_ref().map(|b| format!("greater than {b}")),
                max.as_ref().map(|m| format!("at most {m}")),
            ]
            .into_iter()
            .flatten()
            .collect();
            Some(phrases.join(" and "))
        }
    };
    if let Some(bounds) = bounds {
        parts.push(format!("{noun} {bounds}"));
    }
    if !rules.allowed.is_empty() {
        let case = if rules.ignore_case { ", in any case" } else { "" };
        parts.push(format!("{}{case}", alternatives(&rules.allowed)));
    }
    match rules.format {
        Some(StringFormat::HttpUrl) => parts.push(
            "an absolute `http://` or `https://` URL with a host, such as \
             `https://example.com/path?q=1`"
                .to_owned(),
        ),
        Some(StringFormat::HttpToken) => parts.push(
            "an HTTP token such as `GET` or `PATCH`: ASCII letters, digits and \
             ``!#$%&'*+-.^_`|~``"
                .to_owned(),
        ),
        None => {}
    }
    if !rules.value_types.is_empty() {
        let plurals: Vec<String> =
            rules.value_types.iter().map(|t| format!("{}s", t.as_str())).collect();
        let plurals: Vec<&str> = plurals.iter().map(String::as_str).collect();
        parts.push(format!("an object whose values are {}", either(&plurals, "or")));
    }
    Some(parts.join("; "))
}

/// Compares two JSON numbers exactly when both are integers, else as floats.
fn compare(a: &Number, b: &Number) -> Option<Ordering> {
    let int = |n: &Number| n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from));
    match (int(a), int(b)) {
        (Some(a), Some(b)) => Some(a.cmp(&b)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

fn same(allowed: &str, s: &str, ignore_case: bool) -> bool {
    if ignore_case { allowed.eq_ignore_ascii_case(s) } else { allowed == s }
}

/// `` `a`, `b` or `c` ``.
fn alternatives(values: &[String]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
    let quoted: Vec<&str> = quoted.iter().map(String::as_str).collect();
    either(&quoted, "or")
}

/// `a, b or c` (with `and` or `or` before the last).
fn either(items: &[&str], last: &str) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., end] => format!("{} {last} {end}", rest.join(", ")),
    }
}

/// A value in backticks for a message: a string as it is, anything else as JSON, cut
/// after [`QUOTED_CHARS`] characters.
fn quote(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match text.char_indices().nth(QUOTED_CHARS) {
        Some((cut, _)) => format!("`{}…`", &text[..cut]),
        None => format!("`{text}`"),
    }
}
