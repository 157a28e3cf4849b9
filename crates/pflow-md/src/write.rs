//! An IR as `.pflow.md`: the form that reads back to the same IR.
//!
//! Each value takes the plainest form that reads back exactly: a raw `- key: value`, a
//! quoted one, a fenced block for a multi-line string, or YAML on the line below the key
//! for what a single line cannot hold. Edges are written as what made them: nothing for
//! document order, `- next:`, `- on-error:`, or nothing where a `code` block's
//! `next = "…"` makes the edge again on reading.

use serde_json::{Map, Value};

use crate::error::{WriteError, WriteResult};
use crate::pyfmt::py_str;
use crate::scan::is_valid_ttl;
use crate::text::{is_line_break, match_item_start, strip};
use crate::{cache, python, scalar};

/// What the IR does not hold: the title, description and front matter of the file.
#[derive(Debug, Default, Clone, Copy)]
pub struct WriteOptions<'a> {
    /// The `#` heading (the workflow's name); `Workflow` without one.
    pub title: Option<&'a str>,
    /// The prose under the heading.
    pub description: Option<&'a str>,
    /// A front matter to write first (`created_at`, `updated_at`, `version`).
    pub front_matter: Option<&'a Map<String, Value>>,
}

/// The node fields written as `- key:` items beside the params.
const TOP_LEVEL: [&str; 7] =
    ["batch", "loop", "retry", "cache", "prompt_cache", "prewarm", "approval"];
/// Param names that a `- key:` item would not put into `params`.
const RESERVED: [&str; 10] = [
    "type",
    "next",
    "on-error",
    "batch",
    "loop",
    "retry",
    "cache",
    "prompt_cache",
    "prewarm",
    "approval",
];
/// The deepest value written (the reader's YAML bound, with room for the item around it).
const MAX_DEPTH: usize = crate::yaml::MAX_DEPTH - 4;

/// Writes an IR as a `.pflow.md` document.
pub fn write(ir: &Map<String, Value>, options: &WriteOptions<'_>) -> WriteResult<String> {
    for key in ir.keys() {
        if !matches!(
            key.as_str(),
            "ir_version" | "inputs" | "nodes" | "edges" | "outputs" | "cache"
        ) {
            return Err(unrepresentable(key, "the format has no such section"));
        }
    }
    let mut out = String::new();
    if let Some(front) = options.front_matter {
        out.push_str("---\n");
        for (key, value) in front {
            out.push_str(&format!("{}: {}\n", flow_string(key), flow(value, 0, key)?));
        }
        out.push_str("---\n\n");
    }
    let title = options
        .title
        .map(one_line)
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "Workflow".to_owned());
    out.push_str(&format!("# {title}\n\n"));
    if let Some(description) = options.description {
        for line in prose(description) {
            out.push_str(&line);
            out.push('\n');
        }
        out.push('\n');
    }
    if let Some(inputs) = ir.get("inputs") {
        flat_section(&mut out, "Inputs", "inputs", inputs)?;
    }
    let nodes = match ir.get("nodes") {
        Some(Value::Array(nodes)) if !nodes.is_empty() => nodes,
        _ => return Err(unrepresentable("nodes", "a .pflow.md workflow has at least one step")),
    };
    let empty = Vec::new();
    let edges = match ir.get("edges") {
        None => &empty,
        Some(Value::Array(edges)) => edges,
        Some(_) => return Err(unrepresentable("edges", "not a list")),
    };
    steps(&mut out, nodes, edges)?;
    if let Some(outputs) = ir.get("outputs") {
        flat_section(&mut out, "Outputs", "outputs", outputs)?;
    }
    if let Some(cache) = ir.get("cache") {
        cache_section(&mut out, cache)?;
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    Ok(out)
}

fn unrepresentable(path: &str, reason: &str) -> WriteError {
    WriteError::Unrepresentable { path: path.to_owned(), reason: reason.to_owned() }
}

fn one_line(text: &str) -> String {
    text.split(is_line_break).map(strip).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}

/// Whether `text` reads back exactly as an entity's prose.
fn is_exact_prose(text: &str) -> bool {
    !text.is_empty() && text.split('\n').all(|line| prose_line_ok(line) && strip(line) == line)
}

fn prose_line_ok(line: &str) -> bool {
    !line.is_empty()
        && !line.contains(is_line_break)
        && !line.starts_with("# ")
        && !line.starts_with("## ")
        && !line.starts_with("### ")
        && !line.starts_with("```")
        && !line.starts_with("~~~")
        && match_item_start(line).is_none()
}

/// Prose lines for any text: stripped, blank lines dropped, and a line that would read
/// as a heading, a fence or an item set off with a backslash.
fn prose(text: &str) -> Vec<String> {
    text.split(is_line_break)
        .map(strip)
        .filter(|l| !l.is_empty())
        .map(|l| if prose_line_ok(l) { l.to_owned() } else { format!("\\{l}") })
        .collect()
}

fn is_entity_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// How one value is written.
enum Form {
    /// After `- key: ` on the item's line (empty for null).
    Inline(String),
    /// YAML on the line below `- key:`.
    Below(String),
    /// A fenced block tagged with the key.
    Block { content: String, yaml: bool },
}

/// The entity body being written: items first, then blocks.
#[derive(Default)]
struct Body {
    items: Vec<String>,
    blocks: Vec<String>,
    item_keys: Vec<String>,
    block_keys: Vec<String>,
}

impl Body {
    fn push(&mut self, key: &str, form: Form) {
        let keys = if matches!(form, Form::Block { .. }) {
            &mut self.block_keys
        } else {
            &mut self.item_keys
        };
        keys.push(key.to_owned());
        match form {
            Form::Inline(text) if text.is_empty() => self.items.push(format!("- {key}:")),
            Form::Inline(text) => self.items.push(format!("- {key}: {text}")),
            Form::Below(text) => self.items.push(format!("- {key}:\n    {text}")),
            Form::Block { content, yaml } => {
                let lang = match (yaml, key) {
                    (true, _) => "yaml",
                    (false, "code") => "python",
                    (false, "command") => "shell",
                    (false, _) => "text",
                };
                let longest = content
                    .split('\n')
                    .map(strip)
                    .filter(|l| !l.is_empty() && l.chars().all(|c| c == '`'))
                    .map(|l| l.chars().count())
                    .max()
                    .unwrap_or(0);
                let fence = "`".repeat(longest.max(2) + 1);
                self.blocks.push(format!("{fence}{lang} {key}\n{content}\n{fence}"));
            }
        }
    }

    /// A key both an item and a block would set: 0.16 refuses such an entity.
    fn clash(&self) -> Option<&str> {
        self.block_keys.iter().find(|k| self.item_keys.contains(k)).map(String::as_str)
    }

    fn finish(self, out: &mut String) {
        if !self.items.is_empty() {
            out.push_str(&self.items.join("\n"));
            out.push_str("\n\n");
        }
        for block in self.blocks {
            out.push_str(&block);
            out.push_str("\n\n");
        }
    }
}

/// The form of a value under a key that a `- key:` item may carry.
fn item_form(value: &Value, path: &str, block_ok: bool) -> WriteResult<Form> {
    Ok(match value {
        Value::Null => Form::Inline(String::new()),
        Value::Bool(b) => Form::Inline(b.to_string()),
        Value::Number(_) => Form::Inline(number(value)),
        Value::String(s) => {
            if block_ok && s.contains('\n') && is_block_safe(s) {
                Form::Block { content: s.clone(), yaml: false }
            } else if is_raw_safe(s) {
                Form::Inline(s.clone())
            } else if !s.contains(is_line_break) {
                Form::Inline(format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")))
            } else {
                Form::Below(flow_string(s))
            }
        }
        Value::Array(_) | Value::Object(_) => Form::Inline(flow(value, 0, path)?),
    })
}

/// The form of a value under a key that must be a fenced block (a reserved param name,
/// or a key an item cannot spell).
fn block_form(value: &Value, path: &str) -> WriteResult<Form> {
    Ok(match value {
        Value::String(s) if is_block_safe(s) => Form::Block { content: s.clone(), yaml: false },
        other => Form::Block { content: flow(other, 0, path)?, yaml: true },
    })
}

/// Whether a key can be spelt `- key: value` and read back as itself.
fn is_item_key(key: &str) -> bool {
    !key.is_empty() && !key.contains(':') && !key.contains(crate::text::is_space)
}

/// Whether a key can be a block's tag word.
fn is_block_key(key: &str) -> bool {
    !key.is_empty() && !key.contains(crate::text::is_space)
}

/// Whether a string survives as a fenced block's content.
fn is_block_safe(s: &str) -> bool {
    !s.chars().any(|c| c != '\n' && is_line_break(c))
}

/// Whether a string reads back as itself written raw after `- key: `.
fn is_raw_safe(s: &str) -> bool {
    !s.is_empty()
        && strip(s) == s
        && !s.contains(is_line_break)
        && !s.starts_with(['"', '\'', '{', '[', '|', '>'])
        && scalar::coerce(s).ok() == Some(Value::String(s.to_owned()))
}

fn number(value: &Value) -> String {
    match value.as_f64() {
        Some(f) if value.is_f64() => {
            let text = format!("{f}");
            if text.contains('.') { text } else { format!("{text}.0") }
        }
        _ => value.to_string(),
    }
}

/// A YAML double-quoted string that PyYAML reads back exactly.
fn flow_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if is_line_break(c) || !is_yaml_printable(c) => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn is_yaml_printable(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}')
        || c >= '\u{10000}'
}

/// A value as one line of YAML flow.
fn flow(value: &Value, depth: usize, path: &str) -> WriteResult<String> {
    if depth > MAX_DEPTH {
        return Err(unrepresentable(path, "nested too deeply"));
    }
    Ok(match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(_) => number(value),
        Value::String(s) => flow_string(s),
        Value::Array(items) => {
            let items: WriteResult<Vec<String>> =
                items.iter().map(|v| flow(v, depth + 1, path)).collect();
            format!("[{}]", items?.join(", "))
        }
        Value::Object(map) => {
            let entries: WriteResult<Vec<String>> = map
                .iter()
                .map(|(k, v)| Ok(format!("{}: {}", flow_string(k), flow(v, depth + 1, path)?)))
                .collect();
            format!("{{{}}}", entries?.join(", "))
        }
    })
}

fn heading(out: &mut String, id: &str, path: &str) -> WriteResult<()> {
    if !is_entity_id(id) {
        return Err(unrepresentable(
            path,
            "an id is lowercase letters, digits, `-` and `_`, starting with a letter",
        ));
    }
    out.push_str(&format!("### {id}\n\n"));
    Ok(())
}

/// `## Inputs` or `## Outputs`.
fn flat_section(out: &mut String, title: &str, key: &str, entries: &Value) -> WriteResult<()> {
    let Value::Object(entries) = entries else { return Err(unrepresentable(key, "not an object")) };
    if entries.is_empty() {
        return Ok(());
    }
    out.push_str(&format!("## {title}\n\n"));
    for (id, spec) in entries {
        let path = format!("{key}.{id}");
        heading(out, id, &path)?;
        let Value::Object(spec) = spec else { return Err(unrepresentable(&path, "not an object")) };
        let description = spec.get("description");
        let mut body = Body::default();
        match description {
            Some(Value::String(d)) if is_exact_prose(d) => out.push_str(&format!("{d}\n\n")),
            _ => {
                out.push_str(&format!(
                    "The `{id}` {}.\n\n",
                    if key == "inputs" { "input" } else { "output" }
                ));
                if let Some(d) = description {
                    body.push("description", item_form(d, &path, true)?);
                }
            }
        }
        for (k, v) in spec.iter().filter(|(k, _)| *k != "description") {
            let field = format!("{path}.{k}");
            if is_item_key(k) {
                body.push(k, item_form(v, &field, true)?);
            } else if is_block_key(k) && matches!(v, Value::String(s) if is_block_safe(s)) {
                body.push(
                    k,
                    Form::Block { content: v.as_str().unwrap_or_default().to_owned(), yaml: false },
                );
            } else {
                return Err(unrepresentable(&field, "the key cannot be written as a parameter"));
            }
        }
        body.finish(out);
    }
    Ok(())
}

fn steps(out: &mut String, nodes: &[Value], edges: &[Value]) -> WriteResult<()> {
    out.push_str("## Steps\n\n");
    let ids: Vec<&str> =
        nodes.iter().map(|n| n.get("id").and_then(Value::as_str).unwrap_or("")).collect();
    for (i, e) in edges.iter().enumerate() {
        let from = e.get("from").and_then(Value::as_str);
        let to = e.get("to").and_then(Value::as_str);
        let known = |x: Option<&str>| x.is_some_and(|x| ids.contains(&x));
        if !known(from)
            || !known(to)
            || e.as_object()
                .is_some_and(|m| m.keys().any(|k| !matches!(k.as_str(), "from" | "to" | "action")))
        {
            return Err(unrepresentable(
                &format!("edges[{i}]"),
                "an edge joins two steps by `from`, `to` and `action`",
            ));
        }
    }
    for (i, node) in nodes.iter().enumerate() {
        let path = format!("nodes[{i}]");
        let Value::Object(node) = node else { return Err(unrepresentable(&path, "not an object")) };
        let id = ids[i];
        heading(out, id, &format!("{path}.id"))?;
        if id == "end" {
            return Err(unrepresentable(&format!("{path}.id"), "`end` is reserved"));
        }
        for key in node.keys() {
            if !matches!(key.as_str(), "id" | "type" | "purpose" | "params")
                && !TOP_LEVEL.contains(&key.as_str())
            {
                return Err(unrepresentable(&format!("{path}.{key}"), "a step has no such field"));
            }
        }
        let ty = node.get("type").ok_or_else(|| unrepresentable(&path, "a step has a type"))?;
        match node.get("purpose") {
            Some(Value::String(p)) => {
                for line in prose(p) {
                    out.push_str(&line);
                    out.push('\n');
                }
                out.push('\n');
            }
            _ => out.push_str(&format!("Runs `{}`.\n\n", py_str(ty))),
        }
        let mut body = Body::default();
        body.push("type", item_form(ty, &format!("{path}.type"), false)?);
        for field in TOP_LEVEL {
            if let Some(v) = node.get(field) {
                body.push(field, item_form(v, &format!("{path}.{field}"), false)?);
            }
        }
        let empty = Map::new();
        let params = match node.get("params") {
            None => &empty,
            Some(Value::Object(p)) => p,
            Some(_) => return Err(unrepresentable(&format!("{path}.params"), "not an object")),
        };
        let mut code_routes = python::Routes::default();
        for (k, v) in params {
            let field = format!("{path}.params.{k}");
            if k == "batch" || k == "loop" || k == "type" {
                return Err(unrepresentable(
                    &field,
                    "a param with this name reads as the step's own field",
                ));
            }
            if k == "code"
                && let Value::String(code) = v
                && is_block_safe(code)
            {
                code_routes = python::routes(code);
                body.push(k, Form::Block { content: code.clone(), yaml: false });
                continue;
            }
            if RESERVED.contains(&k.as_str()) || (!is_item_key(k) && is_block_key(k)) {
                body.push(k, block_form(v, &field)?);
            } else if is_item_key(k) {
                body.push(k, item_form(v, &field, true)?);
            } else {
                return Err(unrepresentable(&field, "the name cannot be written as a parameter"));
            }
        }
        let branch_target = edges.iter().any(|e| {
            e["to"].as_str() == Some(id)
                && e.get("action").and_then(Value::as_str).is_some_and(|a| a != "default")
        });
        let place =
            Place { last: i + 1 == nodes.len(), following: ids.get(i + 1).copied(), branch_target };
        routing(&mut body, id, place, edges, &code_routes, &path)?;
        if let Some(key) = body.clash() {
            return Err(unrepresentable(
                &format!("{path}.params.{key}"),
                "a param of this name is also the step's own field",
            ));
        }
        body.finish(out);
    }
    Ok(())
}

/// Where a step stands: what document order gives it, and whether a branch reaches it
/// (then 0.16 wants its exit spelt out, even to the next step or the end).
#[derive(Clone, Copy)]
struct Place<'a> {
    last: bool,
    following: Option<&'a str>,
    branch_target: bool,
}

/// The `- next:` and `- on-error:` items that make a step's edges again.
fn routing(
    body: &mut Body,
    id: &str,
    place: Place<'_>,
    edges: &[Value],
    code: &python::Routes,
    path: &str,
) -> WriteResult<()> {
    let fail = || unrepresentable(path, "its edges have no `- next:` / `- on-error:` form");
    let mine: Vec<(&str, Option<&str>)> = edges
        .iter()
        .filter(|e| e["from"].as_str() == Some(id))
        .map(|e| (e["to"].as_str().unwrap_or(""), e.get("action").and_then(Value::as_str)))
        .collect();
    let errors: Vec<&str> =
        mine.iter().filter(|(_, a)| *a == Some("error")).map(|(to, _)| *to).collect();
    let rest: Vec<(&str, Option<&str>)> =
        mine.iter().copied().filter(|(_, a)| *a != Some("error")).collect();
    let plain: Vec<&str> = rest.iter().filter(|(_, a)| a.is_none()).map(|(to, _)| *to).collect();
    let defaults: Vec<usize> = rest
        .iter()
        .enumerate()
        .filter(|(_, (_, a))| *a == Some("default"))
        .map(|(i, _)| i)
        .collect();
    let is_target = |t: &str| !t.is_empty() && t != "end" && !t.contains(',') && strip(t) == t;
    let from_code = |(to, action): (&str, Option<&str>)| {
        action == Some(to) && code.targets.iter().any(|t| t == to)
    };
    let next = match (plain.as_slice(), defaults.as_slice()) {
        ([], []) => {
            if !rest.iter().all(|&e| from_code(e)) {
                return Err(fail());
            }
            (!place.last || place.branch_target).then(|| "end".to_owned())
        }
        ([to], []) if rest.iter().all(|&e| e.1.is_none() || from_code(e)) => {
            (place.following != Some(*to) || place.branch_target).then(|| (*to).to_owned())
        }
        ([], [d]) => {
            let default_to = rest[*d].0;
            let named: Vec<&str> = rest[..*d].iter().map(|(to, _)| *to).collect();
            let named_ok = rest[..*d].iter().all(|(to, a)| *a == Some(*to));
            if !rest[d + 1..].iter().all(|&e| from_code(e)) || !named_ok {
                return Err(fail());
            }
            match named.as_slice() {
                [] => Some(default_to.to_owned()),
                [first, _, ..] if *first == default_to && named.iter().all(|t| is_target(t)) => {
                    Some(named.join(", "))
                }
                _ if rest[..*d].iter().all(|&e| from_code(e)) => Some(default_to.to_owned()),
                _ => return Err(fail()),
            }
        }
        _ => return Err(fail()),
    };
    if let Some(next) = next {
        body.push("next", item_form(&Value::String(next), path, false)?);
    }
    match errors.as_slice() {
        [] => {}
        [to] if !to.is_empty() => {
            body.push("on-error", item_form(&Value::String((*to).to_owned()), path, false)?)
        }
        _ => return Err(fail()),
    }
    Ok(())
}

fn cache_section(out: &mut String, cache: &Value) -> WriteResult<()> {
    let fail = |reason: &str| unrepresentable("cache", reason);
    let Value::Object(cache) = cache else { return Err(fail("not an object")) };
    let Some(Value::Array(items)) = cache.get("items") else {
        return Err(fail("a cache has `items`"));
    };
    let mut content = String::new();
    for item in items {
        let name =
            item.get("name").and_then(Value::as_str).ok_or_else(|| fail("an item has a `name`"))?;
        if item.get("var").and_then(Value::as_str) != Some(name) {
            return Err(fail("an item's `var` is its `name`"));
        }
        content.push_str(item.get("prose_before").and_then(Value::as_str).unwrap_or(""));
        content.push_str(&format!("${{{name}}}"));
    }
    let back = cache::chunks(&content).map_err(|e| fail(&e.message))?;
    let same = back.len() == items.len()
        && back.iter().zip(items).all(|(c, i)| {
            Some(c.name.as_str()) == i["name"].as_str()
                && Some(c.prose_before.as_str())
                    == i.get("prose_before").and_then(Value::as_str).or(Some(""))
        });
    if !same || !is_block_safe(&content) {
        return Err(fail("its items do not read back as themselves"));
    }
    out.push_str("## Cache\n\n");
    if let Some(ttl) = cache.get("ttl") {
        match ttl.as_str().filter(|t| is_valid_ttl(t)) {
            Some(t) => out.push_str(&format!("- ttl: {t}\n\n")),
            None => return Err(fail("the ttl is `1m` to `60m` or `1h`")),
        }
    }
    let mut body = Body::default();
    body.push("cache", Form::Block { content, yaml: false });
    let block = body.blocks.pop().expect("one block was pushed");
    // The tag of a cache block is the single word `cache`.
    let block = block.replacen("text cache", "cache", 1);
    out.push_str(&block);
    out.push_str("\n\n");
    Ok(())
}
