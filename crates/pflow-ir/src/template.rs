//! Templates inside strings: `${node.key[0]}`, bare `$input`, and `$$` (SPEC §3.2), with
//! 0.16's `??` (`${a.x ?? b.y ?? "default"}`: the first operand that resolves) and
//! template indexes (`${drafts.results[${__index__}].text}`) inside braces (SPEC §5.5).
//!
//! [`parse_template`] splits a string into literal text and references without knowing
//! which names exist. Whether a *bare* `$name` is a reference is decided later, against a
//! [`TemplateScope`]: a bare name the scope does not know stays literal text, so
//! `echo $HOME` in a shell command is left alone. `${…}` is always a reference.
//!
//! Resolution ([`resolve_str`], [`resolve_value`], [`resolve_params`]) replaces references
//! with values: a string that is exactly one reference takes the referenced value with its
//! JSON type; anything else is interpolated into a string.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

use indexmap::IndexMap;
use serde_json::{Map, Value};

/// A parsed string: literal text and references, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    segments: Vec<Segment>,
}

/// One piece of a [`Template`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Literal text, with `$$` already turned into `$`.
    Text(String),
    /// A reference (`${a.b}` or `$a.b`).
    Ref(TemplateRef),
}

/// A reference to a value: a root name and the steps into it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TemplateRef {
    /// A workflow input or a node id.
    pub root: String,
    /// The keys and indexes below the root, in order.
    pub path: Vec<PathStep>,
    /// Whether it was written `${…}` (always a reference) rather than bare `$…` (a
    /// reference only when the scope knows the root).
    pub braced: bool,
    /// The reference exactly as written (`${read.content}`, `$name`); a bare reference
    /// whose root is unknown is kept as this text.
    pub text: String,
    /// The operands after `??`, tried in order when this reference does not resolve
    /// (always empty for a bare reference and inside a template index).
    pub fallbacks: Vec<Operand>,
}

/// An operand of `??` after the first.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Operand {
    /// Another reference (its `text` is the operand as written).
    Ref(TemplateRef),
    /// A JSON literal, as written (`"none"`, `0`, `[]`, `null`); it always resolves.
    Literal(String),
}

/// One step below a root.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathStep {
    /// `.key`: a key of an object.
    Key(String),
    /// `[index]`: an element of an array.
    Index(usize),
    /// `[${ref}]`: an element of an array, at the index another reference holds (a plain
    /// reference: no `??`, no index of its own that is a template).
    Dynamic(Box<TemplateRef>),
}

/// The names a template can refer to, and their values.
///
/// A workflow's scope holds its inputs and the outputs of the nodes that have run (each
/// node's outputs as one object under its id).
pub trait TemplateScope {
    /// The value of a root name, when the scope has it.
    fn root(&self, name: &str) -> Option<&Value>;

    /// Whether a bare `$name` is a reference rather than text. By default, when the
    /// scope has a value for `name`; a scope that knows names without a value yet (a
    /// workflow's node that has not run) says so here, so that a bare reference to such a
    /// name fails like the braced form instead of staying text.
    fn is_root(&self, name: &str) -> bool {
        self.root(name).is_some()
    }

    /// Every root name, for "did you mean" hints in errors; empty by default.
    fn root_names(&self) -> Vec<String> {
        Vec::new()
    }
}

/// A string that is not a well-formed template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// `${` without a closing `}`.
    #[error("unclosed template `{text}`: missing `}}`")]
    Unclosed {
        /// The text from `${` to the end of the string.
        text: String,
        /// Byte offset of the `$` in the string.
        offset: usize,
    },
    /// `${}`.
    #[error("empty template `${{}}`")]
    Empty {
        /// Byte offset of the `$` in the string.
        offset: usize,
    },
    /// Anything else wrong between `${` and `}`.
    #[error("malformed template `{text}`: {problem}")]
    Malformed {
        /// The text from `${` to the closing `}` (or the end of the string).
        text: String,
        /// Byte offset of the `$` in the string.
        offset: usize,
        /// What is wrong, as a lowercase phrase.
        problem: String,
    },
}

impl TemplateError {
    /// A hint for a person on how to fix the template.
    pub fn hint(&self) -> &'static str {
        "write `${name}`, `${node.key}` or `${node.items[0]}`; `$$` is a literal `$`"
    }
}

/// A template that could not be resolved against a scope.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{kind}", location(.path))]
pub struct ResolveError {
    /// Where the string sits inside the resolved value (`env.TOKEN`, `items[0]`); empty
    /// for the top level.
    pub path: String,
    /// What went wrong.
    pub kind: ResolveErrorKind,
}

/// What went wrong while resolving a template.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveErrorKind {
    /// The string is not a well-formed template.
    #[error(transparent)]
    Syntax(TemplateError),
    /// `${x}` where the scope has no `x`.
    #[error("`{reference}` refers to `{root}`, which is not an input or a node that has run")]
    UnknownRoot {
        /// The reference as written.
        reference: String,
        /// The unknown root name.
        root: String,
        /// The names the scope has (for hints).
        known: Vec<String>,
    },
    /// `${a.b}` where `a` is an object without `b`.
    #[error("`{reference}`: `{parent}` has no key `{key}` ({})", list_keys(.available))]
    MissingKey {
        /// The reference as written.
        reference: String,
        /// The part of the reference that was found (`read`, `read.data`).
        parent: String,
        /// The key that is missing.
        key: String,
        /// The keys the object does have.
        available: Vec<String>,
    },
    /// `${a[5]}` where `a` has fewer elements.
    #[error("`{reference}`: index {index} is out of range, `{parent}` has {len} elements")]
    IndexOutOfRange {
        /// The reference as written.
        reference: String,
        /// The part of the reference that was found.
        parent: String,
        /// The index asked for.
        index: usize,
        /// How many elements the array has.
        len: usize,
    },
    /// A template index that does not hold a non-negative integer.
    #[error("`{reference}`: the index `{index}` is {found}, not a non-negative integer")]
    BadIndex {
        /// The reference as written.
        reference: String,
        /// The index reference as written.
        index: String,
        /// What the index holds (`a string`, `-1`, …).
        found: String,
    },
    /// A key step into something that is not an object, or an index into a non-array.
    #[error("`{reference}`: `{parent}` is {found}, so it has no `{step}`")]
    WrongType {
        /// The reference as written.
        reference: String,
        /// The part of the reference that was found.
        parent: String,
        /// The step that cannot be taken, as written (`.key`, `[0]`).
        step: String,
        /// What `parent` is (`a string`, `null`, …).
        found: &'static str,
    },
}

/// Parses `text` into literal text and references.
///
/// Bare references (`$name`) are recorded with `braced: false` whatever their root; the
/// scope decides later whether they are references or text.
pub fn parse_template(text: &str) -> Result<Template, TemplateError> {
    Parser { text, bytes: text.as_bytes(), pos: 0, segments: Vec::new(), literal: String::new() }
        .parse()
}

/// Resolves one string: exactly one active reference gives the referenced value with its
/// type; otherwise the result is a string with the references interpolated.
pub fn resolve_str<S: TemplateScope + ?Sized>(
    text: &str,
    scope: &S,
) -> Result<Value, ResolveError> {
    if !text.contains('$') {
        return Ok(Value::String(text.to_owned()));
    }
    let template = parse_template(text)
        .map_err(|e| ResolveError { path: String::new(), kind: ResolveErrorKind::Syntax(e) })?;
    template.resolve(scope).map_err(|kind| ResolveError { path: String::new(), kind })
}

/// Resolves every string inside `value`, recursing into objects and arrays (keys are left
/// as they are).
pub fn resolve_value<S: TemplateScope + ?Sized>(
    value: &Value,
    scope: &S,
) -> Result<Value, ResolveError> {
    let mut path = String::new();
    resolve_at(value, scope, &mut path)
}

/// Resolves a node's `params`: every string at any depth, except inside a top-level
/// `workflow_ir`, whose templates belong to the child workflow (SPEC §3.2).
///
/// Error paths start with the parameter name (`file_path`, `env.TOKEN`).
pub fn resolve_params<S: TemplateScope + ?Sized>(
    params: &Map<String, Value>,
    scope: &S,
) -> Result<Map<String, Value>, ResolveError> {
    let mut out = Map::with_capacity(params.len());
    let mut path = String::new();
    for (key, value) in params {
        let resolved = if key == "workflow_ir" {
            value.clone()
        } else {
            path.clear();
            push_key(&mut path, key);
            resolve_at(value, scope, &mut path)?
        };
        out.insert(key.clone(), resolved);
    }
    Ok(out)
}

/// Looks up `steps` below `value`; `None` when a step is missing or cannot be taken.
pub fn lookup<'v>(value: &'v Value, steps: &[PathStep]) -> Option<&'v Value> {
    steps.iter().try_fold(value, |current, step| match (step, current) {
        (PathStep::Key(key), Value::Object(map)) => map.get(key),
        (PathStep::Index(i), Value::Array(items)) => items.get(*i),
        _ => None,
    })
}

/// The text a value becomes when interpolated into a string: strings as they are,
/// numbers and booleans as JSON text, `null` as nothing, objects and arrays as compact
/// JSON.
pub fn interpolation_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

impl Template {
    /// The text and references, in order.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Every reference, braced or bare, in order.
    pub fn refs(&self) -> impl Iterator<Item = &TemplateRef> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Ref(r) => Some(r),
            Segment::Text(_) => None,
        })
    }

    /// Whether the string holds any reference that is active when `is_root` says which
    /// bare names exist.
    pub fn has_active_refs(&self, is_root: impl Fn(&str) -> bool) -> bool {
        self.refs().any(|r| r.is_active(&is_root))
    }

    /// Resolves the template against `scope` (see [`resolve_str`]).
    pub fn resolve<S: TemplateScope + ?Sized>(&self, scope: &S) -> Result<Value, ResolveErrorKind> {
        if let [Segment::Ref(r)] = self.segments.as_slice()
            && (r.braced || scope.is_root(&r.root))
        {
            return r.resolve(scope).map(Cow::into_owned);
        }
        let mut out = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Text(text) => out.push_str(text),
                Segment::Ref(r) if !r.braced && !scope.is_root(&r.root) => {
                    out.push_str(&r.text);
                }
                Segment::Ref(r) => match r.resolve(scope)?.as_ref() {
                    Value::String(s) => out.push_str(s),
                    other => out.push_str(&interpolation_text(other)),
                },
            }
        }
        Ok(Value::String(out))
    }
}

impl TemplateRef {
    /// Whether this is a reference rather than text, given which bare names exist.
    pub fn is_active(&self, is_root: impl Fn(&str) -> bool) -> bool {
        self.braced || is_root(&self.root)
    }

    /// The referenced value in `scope`: this reference's, else that of the first `??`
    /// operand that resolves (a literal always does); when none does, the error of the
    /// first.
    pub fn resolve<'s, S: TemplateScope + ?Sized>(
        &self,
        scope: &'s S,
    ) -> Result<Cow<'s, Value>, ResolveErrorKind> {
        let first = match self.lookup_in(scope) {
            Ok(value) => return Ok(Cow::Borrowed(value)),
            Err(e) if self.fallbacks.is_empty() || !e.falls_through() => return Err(e),
            Err(e) => e,
        };
        for operand in &self.fallbacks {
            match operand {
                Operand::Literal(text) => {
                    let value =
                        serde_json::from_str(text).expect("literals are checked when parsed");
                    return Ok(Cow::Owned(value));
                }
                Operand::Ref(r) => match r.lookup_in(scope) {
                    Ok(value) => return Ok(Cow::Borrowed(value)),
                    Err(e) if !e.falls_through() => return Err(e),
                    Err(_) => {}
                },
            }
        }
        Err(first)
    }

    /// Every reference this one holds: itself, its `??` operands and the references of
    /// its template indexes, in the order written.
    pub fn all_refs(&self) -> Vec<&TemplateRef> {
        let mut out = vec![self];
        out.extend(self.index_refs());
        for operand in &self.fallbacks {
            if let Operand::Ref(r) = operand {
                out.push(r);
                out.extend(r.index_refs());
            }
        }
        out
    }

    /// The references inside this reference's template indexes.
    fn index_refs(&self) -> impl Iterator<Item = &TemplateRef> {
        self.path.iter().filter_map(|step| match step {
            PathStep::Dynamic(r) => Some(r.as_ref()),
            _ => None,
        })
    }

    /// The value this reference alone (no `??`) names in `scope`.
    fn lookup_in<'s, S: TemplateScope + ?Sized>(
        &self,
        scope: &'s S,
    ) -> Result<&'s Value, ResolveErrorKind> {
        let Some(mut current) = scope.root(&self.root) else {
            return Err(ResolveErrorKind::UnknownRoot {
                reference: self.text.clone(),
                root: self.root.clone(),
                known: scope.root_names(),
            });
        };
        for (i, step) in self.path.iter().enumerate() {
            current = match (step, current) {
                (PathStep::Key(key), Value::Object(map)) => match map.get(key) {
                    Some(v) => v,
                    None => {
                        return Err(ResolveErrorKind::MissingKey {
                            reference: self.text.clone(),
                            parent: self.prefix(i),
                            key: key.clone(),
                            available: map.keys().cloned().collect(),
                        });
                    }
                },
                (PathStep::Dynamic(inner), Value::Array(items)) => {
                    let index = inner.lookup_in(scope)?;
                    let at =
                        index.as_u64().and_then(|i| usize::try_from(i).ok()).ok_or_else(|| {
                            ResolveErrorKind::BadIndex {
                                reference: self.text.clone(),
                                index: inner.text.clone(),
                                found: match index {
                                    Value::Number(n) => n.to_string(),
                                    other => article_type(other).to_owned(),
                                },
                            }
                        })?;
                    items.get(at).ok_or_else(|| ResolveErrorKind::IndexOutOfRange {
                        reference: self.text.clone(),
                        parent: self.prefix(i),
                        index: at,
                        len: items.len(),
                    })?
                }
                (PathStep::Index(index), Value::Array(items)) => match items.get(*index) {
                    Some(v) => v,
                    None => {
                        return Err(ResolveErrorKind::IndexOutOfRange {
                            reference: self.text.clone(),
                            parent: self.prefix(i),
                            index: *index,
                            len: items.len(),
                        });
                    }
                },
                (step, other) => {
                    return Err(ResolveErrorKind::WrongType {
                        reference: self.text.clone(),
                        parent: self.prefix(i),
                        step: step.to_string(),
                        found: article_type(other),
                    });
                }
            };
        }
        Ok(current)
    }

    /// The root and the first `steps` steps, as `root.key[0]` (no `$`).
    pub fn prefix(&self, steps: usize) -> String {
        let mut s = self.root.clone();
        for step in self.path.iter().take(steps) {
            s.push_str(&step.to_string());
        }
        s
    }

    /// The first key step, which for a node reference is the output key (`content` in
    /// `${read.content}`).
    pub fn first_key(&self) -> Option<&str> {
        match self.path.first() {
            Some(PathStep::Key(k)) => Some(k),
            _ => None,
        }
    }
}

impl fmt::Display for TemplateRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Display for PathStep {
    /// `.key`, `[index]` or `[${ref}]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathStep::Key(k) => write!(f, ".{k}"),
            PathStep::Index(i) => write!(f, "[{i}]"),
            PathStep::Dynamic(r) => write!(f, "[{}]", r.text),
        }
    }
}

impl ResolveErrorKind {
    /// Whether `??` moves on to its next operand after this error: the value is not
    /// there (a node that did not run, a missing key or element, a step into the wrong
    /// type). A malformed template never falls through.
    pub fn falls_through(&self) -> bool {
        !matches!(self, ResolveErrorKind::Syntax(_))
    }
}

impl TemplateScope for Map<String, Value> {
    fn root(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
    fn root_names(&self) -> Vec<String> {
        self.keys().cloned().collect()
    }
}

impl TemplateScope for BTreeMap<String, Value> {
    fn root(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
    fn root_names(&self) -> Vec<String> {
        self.keys().cloned().collect()
    }
}

impl<H: std::hash::BuildHasher> TemplateScope for HashMap<String, Value, H> {
    fn root(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
    fn root_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.keys().cloned().collect();
        names.sort();
        names
    }
}

impl<H: std::hash::BuildHasher> TemplateScope for IndexMap<String, Value, H> {
    fn root(&self, name: &str) -> Option<&Value> {
        self.get(name)
    }
    fn root_names(&self) -> Vec<String> {
        self.keys().cloned().collect()
    }
}

/// Whether `c` may start a name.
pub(crate) fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

/// Whether `c` may continue a bare name.
fn is_bare_name_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Whether `c` may continue a name inside braces (node ids may hold `-`).
fn is_braced_name_char(c: u8) -> bool {
    is_bare_name_char(c) || c == b'-'
}

fn location(path: &str) -> String {
    if path.is_empty() { String::new() } else { format!("at `{path}`: ") }
}

fn list_keys(keys: &[String]) -> String {
    if keys.is_empty() {
        "it has no keys".to_owned()
    } else {
        let quoted: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
        format!("it has {}", quoted.join(", "))
    }
}

/// A JSON value's type for a message, with its article: `a string`, `an array`, `null`.
pub fn article_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn push_key(path: &mut String, key: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key);
}

fn resolve_at<S: TemplateScope + ?Sized>(
    value: &Value,
    scope: &S,
    path: &mut String,
) -> Result<Value, ResolveError> {
    match value {
        Value::String(s) => {
            resolve_str(s, scope).map_err(|e| ResolveError { path: path.clone(), kind: e.kind })
        }
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let resolved = resolve_at(item, scope, path);
                path.truncate(len);
                out.push(resolved?);
            }
            Ok(Value::Array(out))
        }
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (key, item) in map {
                let len = path.len();
                push_key(path, key);
                let resolved = resolve_at(item, scope, path);
                path.truncate(len);
                out.insert(key.clone(), resolved?);
            }
            Ok(Value::Object(out))
        }
        other => Ok(other.clone()),
    }
}

/// A one-pass scanner over the bytes of a string (all syntax is ASCII, so byte offsets
/// always fall on character boundaries where text is cut).
struct Parser<'t> {
    text: &'t str,
    bytes: &'t [u8],
    pos: usize,
    segments: Vec<Segment>,
    literal: String,
}

impl Parser<'_> {
    fn parse(mut self) -> Result<Template, TemplateError> {
        let mut text_start = 0;
        while let Some(offset) = self.text[self.pos..].find('$').map(|i| self.pos + i) {
            self.literal.push_str(&self.text[text_start..offset]);
            self.pos = offset + 1;
            match self.bytes.get(self.pos) {
                Some(b'$') => {
                    self.literal.push('$');
                    self.pos += 1;
                }
                Some(b'{') => {
                    let r = self.braced(offset)?;
                    self.push_ref(r);
                }
                Some(&c) if is_name_start(c) => {
                    let r = self.bare(offset);
                    self.push_ref(r);
                }
                _ => self.literal.push('$'),
            }
            text_start = self.pos;
        }
        self.literal.push_str(&self.text[text_start..]);
        if !self.literal.is_empty() {
            self.segments.push(Segment::Text(std::mem::take(&mut self.literal)));
        }
        Ok(Template { segments: self.segments })
    }

    fn push_ref(&mut self, r: TemplateRef) {
        if !self.literal.is_empty() {
            self.segments.push(Segment::Text(std::mem::take(&mut self.literal)));
        }
        self.segments.push(Segment::Ref(r));
    }

    /// The name starting at `self.pos` (whose first byte is known to be a name start).
    fn name(&mut self, continues: fn(u8) -> bool) -> String {
        let start = self.pos;
        self.pos += 1;
        while self.bytes.get(self.pos).is_some_and(|&c| continues(c)) {
            self.pos += 1;
        }
        self.text[start..self.pos].to_owned()
    }

    /// Digits then `]` at `self.pos`, or `None` (and `self.pos` unchanged); `Some(None)`
    /// for an index too large to hold.
    fn index(&mut self) -> Option<Option<usize>> {
        let start = self.pos;
        let mut end = start;
        while self.bytes.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
        if end == start || self.bytes.get(end) != Some(&b']') {
            return None;
        }
        self.pos = end + 1;
        Some(self.text[start..end].parse().ok())
    }

    fn bare(&mut self, offset: usize) -> TemplateRef {
        let root = self.name(is_bare_name_char);
        let mut path = Vec::new();
        loop {
            match self.bytes.get(self.pos) {
                Some(b'.') if self.bytes.get(self.pos + 1).is_some_and(|&c| is_name_start(c)) => {
                    self.pos += 1;
                    path.push(PathStep::Key(self.name(is_bare_name_char)));
                }
                Some(b'[') => {
                    let before = self.pos;
                    self.pos += 1;
                    match self.index() {
                        Some(Some(i)) => path.push(PathStep::Index(i)),
                        // Not an index (or an absurd one): the `[` is text.
                        _ => {
                            self.pos = before;
                            break;
                        }
                    }
                }
                _ => break,
            }
        }
        TemplateRef {
            root,
            path,
            braced: false,
            text: self.text[offset..self.pos].to_owned(),
            fallbacks: Vec::new(),
        }
    }

    fn braced(&mut self, offset: usize) -> Result<TemplateRef, TemplateError> {
        self.pos += 1; // past `{`
        let (root, path) = self.operand_path(offset, true)?;
        let mut fallbacks = Vec::new();
        loop {
            // Spaces are allowed around `??` only.
            let before = self.pos;
            self.skip_spaces();
            if !self.text[self.pos..].starts_with("??") {
                self.pos = before;
            }
            match self.bytes.get(self.pos) {
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                None => return Err(self.unclosed(offset)),
                Some(b'?') if self.bytes.get(self.pos + 1) == Some(&b'?') => {
                    self.pos += 2;
                    self.skip_spaces();
                    if let Some(literal) = self.literal_operand(offset)? {
                        fallbacks.push(Operand::Literal(literal));
                        continue;
                    }
                    let start = self.pos;
                    let (root, path) = self.operand_path(offset, true)?;
                    let text = self.text[start..self.pos].to_owned();
                    fallbacks.push(Operand::Ref(TemplateRef {
                        root,
                        path,
                        braced: true,
                        text,
                        fallbacks: Vec::new(),
                    }));
                }
                Some(_) => {
                    let problem = format!(
                        "unexpected {}; names hold letters, digits, `_` and `-`",
                        self.found()
                    );
                    return Err(self.malformed(offset, problem));
                }
            }
            if let Some(pos) = fallbacks.iter().position(|o| matches!(o, Operand::Literal(_)))
                && pos + 1 < fallbacks.len()
            {
                let problem = "a literal default must be the last operand of `??`".to_owned();
                return Err(self.malformed(offset, problem));
            }
        }
        // With `??` the text is the whole expression, so messages show what was written.
        Ok(TemplateRef {
            root,
            path,
            braced: true,
            text: self.text[offset..self.pos].to_owned(),
            fallbacks,
        })
    }

    /// A root name and its steps inside braces, at `self.pos`; stops before anything
    /// that is not a step. `dynamic`: whether an index may be a template.
    fn operand_path(
        &mut self,
        offset: usize,
        dynamic: bool,
    ) -> Result<(String, Vec<PathStep>), TemplateError> {
        let root = match self.bytes.get(self.pos) {
            Some(b'}') if self.pos == offset + 2 => return Err(TemplateError::Empty { offset }),
            None => return Err(self.unclosed(offset)),
            Some(&c) if is_name_start(c) => self.name(is_braced_name_char),
            Some(_) => {
                let after =
                    if self.pos == offset + 2 { "`${`".to_owned() } else { "`??`".to_owned() };
                let problem = format!("expected a name after {after}, found {}", self.found());
                return Err(self.malformed(offset, problem));
            }
        };
        let mut path = Vec::new();
        loop {
            match self.bytes.get(self.pos) {
                Some(b'.') => {
                    self.pos += 1;
                    match self.bytes.get(self.pos) {
                        Some(&c) if is_name_start(c) => {
                            path.push(PathStep::Key(self.name(is_braced_name_char)));
                        }
                        _ => {
                            let problem =
                                format!("expected a key after `.`, found {}", self.found());
                            return Err(self.malformed(offset, problem));
                        }
                    }
                }
                Some(b'[') => {
                    self.pos += 1;
                    if dynamic && self.text[self.pos..].starts_with("${") {
                        let start = self.pos;
                        self.pos += 2;
                        let (root, inner) = self.operand_path(offset, false)?;
                        if self.bytes.get(self.pos) != Some(&b'}')
                            || self.bytes.get(self.pos + 1) != Some(&b']')
                        {
                            let problem = format!(
                                "a template index is one reference, `[${{name}}]`; found {}",
                                self.found()
                            );
                            return Err(self.malformed(offset, problem));
                        }
                        self.pos += 1;
                        let text = self.text[start..self.pos].to_owned();
                        self.pos += 1;
                        path.push(PathStep::Dynamic(Box::new(TemplateRef {
                            root,
                            path: inner,
                            braced: true,
                            text,
                            fallbacks: Vec::new(),
                        })));
                        continue;
                    }
                    match self.index() {
                        Some(Some(i)) => path.push(PathStep::Index(i)),
                        Some(None) => {
                            return Err(self.malformed(offset, "the index is too large".to_owned()));
                        }
                        None => {
                            let problem = if dynamic {
                                format!(
                                    "expected an index like `[0]` or `[${{i}}]`, found {}",
                                    self.found()
                                )
                            } else {
                                format!("expected an index like `[0]`, found {}", self.found())
                            };
                            return Err(self.malformed(offset, problem));
                        }
                    }
                }
                _ => return Ok((root, path)),
            }
        }
    }

    /// A JSON literal operand of `??` at `self.pos` (0.16's grammar: a double-quoted
    /// string, `true`, `false`, `null`, a number, `[]` or `{}`), or `None` when the
    /// operand is a reference.
    fn literal_operand(&mut self, offset: usize) -> Result<Option<String>, TemplateError> {
        let rest = &self.text[self.pos..];
        let len = match self.bytes.get(self.pos) {
            Some(b'"') => {
                let mut escaped = false;
                let close = rest[1..].char_indices().find(|&(_, c)| {
                    let end = c == '"' && !escaped;
                    escaped = c == '\\' && !escaped;
                    end
                });
                match close {
                    Some((i, _)) => i + 2,
                    None => return Err(self.unclosed(offset)),
                }
            }
            Some(b'-' | b'0'..=b'9') => rest
                .bytes()
                .position(|c| {
                    !(c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E'))
                })
                .unwrap_or(rest.len()),
            Some(b'[') if rest.starts_with("[]") => 2,
            Some(b'{') if rest.starts_with("{}") => 2,
            _ => {
                let word = ["true", "false", "null"].into_iter().find(|w| {
                    rest.starts_with(w)
                        && !rest.as_bytes().get(w.len()).copied().is_some_and(is_braced_name_char)
                });
                match word {
                    Some(w) => w.len(),
                    None => return Ok(None),
                }
            }
        };
        let literal = &rest[..len];
        if serde_json::from_str::<Value>(literal).is_err() {
            let problem = format!("`{literal}` is not a JSON literal");
            return Err(self.malformed(offset, problem));
        }
        self.pos += len;
        Ok(Some(literal.to_owned()))
    }

    fn skip_spaces(&mut self) {
        while self.bytes.get(self.pos).is_some_and(u8::is_ascii_whitespace) {
            self.pos += 1;
        }
    }

    fn unclosed(&self, offset: usize) -> TemplateError {
        TemplateError::Unclosed { text: self.text[offset..].to_owned(), offset }
    }

    fn malformed(&self, offset: usize, problem: String) -> TemplateError {
        let end = self.text[offset..].find('}').map_or(self.text.len(), |i| offset + i + 1);
        TemplateError::Malformed { text: self.text[offset..end].to_owned(), offset, problem }
    }

    /// The character at `self.pos`, quoted for a message, or "the end".
    fn found(&self) -> String {
        match self.text[self.pos..].chars().next() {
            None => "the end of the string".to_owned(),
            Some(c) if c.is_whitespace() => format!("whitespace {c:?}"),
            Some(c) => format!("`{c}`"),
        }
    }
}

#[cfg(test)]
mod tests;
