//! The node fields of 0.16 (`purpose`, `batch`, `loop`, `retry`, `cache`): read leniently
//! from JSON with a finding per wrong key, then checked against 0.16's bounds and
//! exclusions — the same checks for a typed IR and for JSON.

use std::borrow::Cow;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::{Findings, Place, did_you_mean, key_path, quoted_list};
use crate::{
    ATTEMPTS_RANGE, BatchConfig, Diagnostic, LoopConfig, MAX_CONCURRENT_RANGE, MAX_NODE_VISITS,
    RetryConfig, ValueType,
};

/// The node fields beside `id`, `type` and `params`, as far as they could be read.
#[derive(Debug, Default)]
pub(super) struct FieldsView<'v> {
    pub(super) batch: Option<Cow<'v, BatchConfig>>,
    pub(super) loop_config: Option<Cow<'v, LoopConfig>>,
    pub(super) retry: Option<Cow<'v, RetryConfig>>,
    /// Whether `batch` / `loop` were written at all (read or not), for the exclusion.
    pub(super) has_batch: bool,
    pub(super) has_loop: bool,
}

impl<'v> FieldsView<'v> {
    /// The fields of a typed node, right in shape by construction.
    pub(super) fn of(node: &'v crate::Node) -> FieldsView<'v> {
        FieldsView {
            batch: node.batch.as_ref().map(Cow::Borrowed),
            loop_config: node.loop_config.as_ref().map(Cow::Borrowed),
            retry: node.retry.as_ref().map(Cow::Borrowed),
            has_batch: node.batch.is_some(),
            has_loop: node.loop_config.is_some(),
        }
    }
}

/// What a key of a config object must hold.
#[derive(Clone, Copy)]
enum Kind {
    Str,
    Bool,
    Int,
    Num,
    /// `batch.items`: a string or an array.
    StrOrArray,
    /// `loop.max_iterations`: an integer or a string.
    IntOrStr,
    /// `loop.carry`: an object of strings.
    StrMap,
    /// One of these strings.
    OneOf(&'static [&'static str]),
}

const BATCH_KEYS: [(&str, Kind); 7] = [
    ("items", Kind::StrOrArray),
    ("as", Kind::Str),
    ("error_handling", Kind::OneOf(&["fail_fast", "continue"])),
    ("parallel", Kind::Bool),
    ("max_concurrent", Kind::Int),
    ("max_retries", Kind::Int),
    ("retry_wait", Kind::Num),
];
const LOOP_KEYS: [(&str, Kind); 4] = [
    ("while", Kind::Str),
    ("until", Kind::Str),
    ("carry", Kind::StrMap),
    ("max_iterations", Kind::IntOrStr),
];
const RETRY_KEYS: [(&str, Kind); 3] =
    [("max", Kind::Int), ("wait", Kind::Num), ("backoff", Kind::OneOf(&["fixed", "exponential"]))];

/// Reads the 0.16 fields of a node object, reporting wrong types and unknown keys.
pub(super) fn read<'v>(
    obj: &'v Map<String, Value>,
    path: &str,
    place: Place,
    findings: &mut Findings,
) -> FieldsView<'v> {
    let mut r = FieldReader { findings, place };
    if let Some(v) = obj.get("purpose") {
        r.kind(v, &key_path(path, "purpose"), Kind::Str);
    }
    if let Some(v) = obj.get("cache") {
        r.kind(v, &key_path(path, "cache"), Kind::Bool);
    }
    FieldsView {
        batch: r.config(obj.get("batch"), &key_path(path, "batch"), "`batch`", &BATCH_KEYS),
        loop_config: r.config(obj.get("loop"), &key_path(path, "loop"), "`loop`", &LOOP_KEYS),
        retry: r.config(obj.get("retry"), &key_path(path, "retry"), "`retry`", &RETRY_KEYS),
        has_batch: obj.contains_key("batch"),
        has_loop: obj.contains_key("loop"),
    }
}

/// Checks the fields of one node against 0.16's bounds: `id` is the node's own id (a
/// loop's condition reads it), `path` the node's path.
pub(super) fn check(
    fields: &FieldsView<'_>,
    id: Option<&str>,
    path: &str,
    place: Place,
    findings: &mut Findings,
) {
    if fields.has_batch && fields.has_loop {
        findings.push(
            place,
            Diagnostic::error(path, "a node cannot have both `batch` and `loop`").with_hint(
                "use `batch` for one run per item, or `loop` to repeat until a condition holds",
            ),
        );
    }
    let mut c = Bounds { findings, place };
    if let Some(batch) = &fields.batch {
        c.batch(batch, &key_path(path, "batch"));
    }
    if let Some(config) = &fields.loop_config {
        c.loop_config(config, id, &key_path(path, "loop"));
    }
    if let Some(retry) = &fields.retry {
        let at = key_path(path, "retry");
        c.range(retry.max, &key_path(&at, "max"), ATTEMPTS_RANGE, "attempts in total");
        c.non_negative(retry.wait.as_ref(), &key_path(&at, "wait"));
    }
}

/// Whether `text` is one `${…}` reference and nothing else, as 0.16 asks of `batch.items`,
/// `loop.while` and the like.
pub(super) fn is_single_reference(text: &str) -> bool {
    text.len() > 3 && text.starts_with("${") && text.ends_with('}')
}

struct FieldReader<'f> {
    findings: &'f mut Findings,
    place: Place,
}

impl FieldReader<'_> {
    /// Reads one config object (`batch`, `loop`, `retry`) into its type when every key is
    /// right; `None` (with findings) otherwise.
    fn config<'v, T: DeserializeOwned + Clone>(
        &mut self,
        value: Option<&'v Value>,
        path: &str,
        what: &str,
        keys: &[(&str, Kind)],
    ) -> Option<Cow<'v, T>> {
        let value = value?;
        let Some(obj) = value.as_object() else {
            self.findings.push(
                self.place,
                Diagnostic::error(
                    path,
                    format!("{what} must be an object, found {}", ValueType::phrase_of(value)),
                )
                .with_hint(format!("its keys are {}", quoted_list(keys.iter().map(|(k, _)| *k)))),
            );
            return None;
        };
        let mut right = true;
        for (key, item) in obj {
            let at = key_path(path, key);
            match keys.iter().find(|(k, _)| k == key) {
                Some((_, kind)) => right &= self.kind(item, &at, *kind),
                None => {
                    right = false;
                    let names = keys.iter().map(|(k, _)| *k);
                    let d = Diagnostic::error(&at, format!("unknown key `{key}` in {what}"));
                    let d = match did_you_mean(key, names.clone()) {
                        Some(hint) => d.with_hint(hint),
                        None => {
                            d.with_hint(format!("the keys of {what} are {}", quoted_list(names)))
                        }
                    };
                    self.findings.push(self.place, d);
                }
            }
        }
        if what == "`batch`" && !obj.contains_key("items") {
            right = false;
            self.findings.push(
                self.place,
                Diagnostic::error(path, "`batch` is missing its required key `items`")
                    .with_hint(r#"write "items": "${node.list}" or an array"#),
            );
        }
        if !right {
            return None;
        }
        match serde_json::from_value::<T>(value.clone()) {
            Ok(config) => Some(Cow::Owned(config)),
            Err(e) => {
                // The key checks and serde disagree; never let that pass silently.
                self.findings.push(self.place, Diagnostic::error(path, format!("{what}: {e}")));
                None
            }
        }
    }

    /// Checks the JSON type of one key; false (with a finding) when it is wrong.
    fn kind(&mut self, value: &Value, path: &str, kind: Kind) -> bool {
        let (fits, expected): (bool, Cow<'_, str>) = match kind {
            Kind::Str => (value.is_string(), "a string".into()),
            Kind::Bool => (value.is_boolean(), "a boolean".into()),
            Kind::Int => (value.is_i64(), "an integer".into()),
            Kind::Num => (value.is_number(), "a number".into()),
            Kind::StrOrArray => {
                (value.is_string() || value.is_array(), "a `${…}` reference or an array".into())
            }
            Kind::IntOrStr => {
                (value.is_i64() || value.is_string(), "an integer or a `${…}` reference".into())
            }
            Kind::StrMap => (
                value.as_object().is_some_and(|m| m.values().all(Value::is_string)),
                "an object of `${…}` references".into(),
            ),
            Kind::OneOf(names) => (
                value.as_str().is_some_and(|s| names.contains(&s)),
                format!("one of {}", quoted_list(names.iter().copied())).into(),
            ),
        };
        if !fits {
            let found = match value {
                Value::String(s) => format!("`{s}`"),
                other => ValueType::phrase_of(other).to_owned(),
            };
            let d = Diagnostic::error(
                path,
                format!("`{}` must be {expected}, found {found}", last_key(path)),
            );
            let d = match (kind, value.as_str()) {
                (Kind::OneOf(names), Some(s)) => match did_you_mean(s, names.iter().copied()) {
                    Some(hint) => d.with_hint(hint),
                    None => d,
                },
                _ => d,
            };
            self.findings.push(self.place, d);
        }
        fits
    }
}

struct Bounds<'f> {
    findings: &'f mut Findings,
    place: Place,
}

impl Bounds<'_> {
    fn batch(&mut self, batch: &BatchConfig, path: &str) {
        let items = key_path(path, "items");
        match &batch.items {
            Value::String(s) if !is_single_reference(s) => {
                self.findings.push(
                    self.place,
                    Diagnostic::error(
                        &items,
                        format!("`items` must be one `${{…}}` reference, found `{s}`"),
                    )
                    .with_hint(r#"write "items": "${node.list}", or list the items in an array"#),
                );
            }
            Value::Array(list) if list.is_empty() => {
                self.findings.push(
                    self.place,
                    Diagnostic::error(&items, "an inline `items` array must not be empty")
                        .with_hint("list at least one item, or refer to an array with `${…}`"),
                );
            }
            _ => {}
        }
        if let Some(name) = &batch.as_name
            && !is_identifier(name)
        {
            self.findings.push(
                self.place,
                Diagnostic::error(
                    key_path(path, "as"),
                    format!("`as` must be a name of letters, digits and `_`, found `{name}`"),
                )
                .with_hint(r#"write "as": "file""#),
            );
        }
        self.range(
            batch.max_concurrent,
            &key_path(path, "max_concurrent"),
            MAX_CONCURRENT_RANGE,
            "items at once",
        );
        self.range(
            batch.max_retries,
            &key_path(path, "max_retries"),
            ATTEMPTS_RANGE,
            "attempts per item",
        );
        self.non_negative(batch.retry_wait.as_ref(), &key_path(path, "retry_wait"));
    }

    fn loop_config(&mut self, config: &LoopConfig, id: Option<&str>, path: &str) {
        let own = id.unwrap_or("this-node");
        match (&config.while_cond, &config.until) {
            (Some(_), Some(_)) => self.findings.push(
                self.place,
                Diagnostic::error(path, "`loop` takes one of `while` and `until`, not both")
                    .with_hint(format!(
                        "keep one: \"while\": \"${{{own}.more}}\" or \"until\": \"${{{own}.done}}\""
                    )),
            ),
            (None, None) => self.findings.push(
                self.place,
                Diagnostic::error(path, "`loop` needs a condition: `while` or `until`").with_hint(
                    format!("add \"while\": \"${{{own}.more}}\" (runs again while it is truthy)"),
                ),
            ),
            _ => {}
        }
        for (key, text) in [("while", &config.while_cond), ("until", &config.until)] {
            if let Some(text) = text {
                self.own_reference(text, id, &key_path(path, key), key);
            }
        }
        if let Some(carry) = &config.carry {
            let at = key_path(path, "carry");
            for (name, text) in carry {
                self.own_reference(text, id, &key_path(&at, name), "a carried value");
            }
        }
        match &config.max_iterations {
            Some(Value::Number(n)) => {
                self.range(
                    n.as_i64(),
                    &key_path(path, "max_iterations"),
                    (1, MAX_NODE_VISITS),
                    "rounds",
                );
            }
            Some(Value::String(s)) if !is_single_reference(s) => {
                self.findings.push(
                    self.place,
                    Diagnostic::error(
                        key_path(path, "max_iterations"),
                        format!("`max_iterations` must be an integer or one `${{…}}` reference, found `{s}`"),
                    )
                    .with_hint(r#"write "max_iterations": 5 or "${cap}""#),
                );
            }
            _ => {}
        }
    }

    /// A `while` / `until` / `carry` value: one reference to this node's own outputs.
    fn own_reference(&mut self, text: &str, id: Option<&str>, path: &str, what: &str) {
        let own = id.unwrap_or("this-node");
        let root = text
            .strip_prefix("${")
            .map(|rest| rest.split(['.', '[', '}', ' ']).next().unwrap_or_default());
        let fits = is_single_reference(text) && (id.is_none() || root == id);
        if !fits {
            self.findings.push(
                self.place,
                Diagnostic::error(
                    path,
                    format!("{what} must be one reference to this node's outputs, found `{text}`"),
                )
                .with_hint(format!(
                    "write \"${{{own}.key}}\"; a comparison belongs in the node, as an output"
                )),
            );
        }
    }

    fn range(&mut self, value: Option<i64>, path: &str, (low, high): (i64, i64), what: &str) {
        if let Some(n) = value
            && !(low..=high).contains(&n)
        {
            self.findings.push(
                self.place,
                Diagnostic::error(
                    path,
                    format!(
                        "`{}` must be between {low} and {high} ({what}), found {n}",
                        last_key(path)
                    ),
                ),
            );
        }
    }

    fn non_negative(&mut self, value: Option<&serde_json::Number>, path: &str) {
        if let Some(n) = value
            && !n.as_f64().is_some_and(|s| s.is_finite() && s >= 0.0)
        {
            self.findings.push(
                self.place,
                Diagnostic::error(
                    path,
                    format!(
                        "`{}` must be a number of seconds, 0 or more, found {n}",
                        last_key(path)
                    ),
                ),
            );
        }
    }
}

/// Whether `name` is `^[A-Za-z_][A-Za-z0-9_]*$`.
fn is_identifier(name: &str) -> bool {
    name.bytes().next().is_some_and(crate::template::is_name_start)
        && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// The last key of a path (`nodes[0].batch.max_concurrent` → `max_concurrent`).
fn last_key(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}
