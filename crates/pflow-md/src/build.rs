//! Scanned entities into the IR 0.16 builds: inputs, nodes with their params and
//! top-level fields, the edges of document order, `- next:`, `- on-error:` and a code
//! node's `next = "…"`, outputs and the cache; and the routing rules 0.16 enforces.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::pyfmt::{py_str, truthy};
use crate::scalar::{self, ScalarError};
use crate::scan::{Entity, Scan, Section, syntax_hint};
use crate::text::{match_item, strip};
use crate::{Finding, Severity, cache, python, yaml};

/// The node fields that a `- key:` sets beside `params`, not inside.
const TOP_LEVEL: [&str; 7] =
    ["batch", "loop", "retry", "cache", "prompt_cache", "prewarm", "approval"];

/// Where each IR path is in the file.
type Lines = Vec<(String, usize)>;

/// A step's `- next:` and `- on-error:`.
#[derive(Debug, Default)]
struct Routing {
    /// `Some(Null)` for a bare `- next:`.
    next: Option<Value>,
    on_error: Option<Value>,
}

/// Builds the IR; every mistake becomes a finding.
pub(crate) fn build(
    scan: &Scan,
    findings: &mut Vec<Finding>,
    lines: &mut Lines,
) -> Option<Map<String, Value>> {
    let Some(steps_line) = scan.steps_line else {
        findings.push(
            Finding::error("missing `## Steps` section").hint(
                "a workflow has a `## Steps` section with at least one `### step-id` heading",
            ),
        );
        return None;
    };
    let steps: Vec<&Entity> =
        scan.entities.iter().filter(|e| e.section == Section::Steps).collect();
    if steps.is_empty() {
        findings.push(
            Finding::error("`## Steps` has no steps")
                .at_line(steps_line)
                .hint(syntax_hint(Section::Steps)),
        );
        return None;
    }
    let mut ir = Map::new();
    let errors_before = error_count(findings);

    let inputs = flat_entities(scan, Section::Inputs, "inputs", findings, lines);
    if let Some(inputs) = inputs {
        ir.insert("inputs".to_owned(), Value::Object(inputs));
    }

    let node_errors = error_count(findings);
    let mut nodes = Vec::new();
    let mut routing = BTreeMap::new();
    for (i, entity) in steps.iter().enumerate() {
        let path = format!("nodes[{i}]");
        lines.push((path.clone(), entity.line));
        if let Some((node, route)) = build_node(entity, &path, findings, lines) {
            nodes.push(Value::Object(node));
            routing.insert(entity.id.clone(), route);
        }
    }
    if error_count(findings) == node_errors {
        let edges = build_edges(&steps, &routing, findings);
        for (i, edge) in edges.iter().enumerate() {
            if let Some(entity) =
                steps.iter().find(|e| Some(e.id.as_str()) == edge["from"].as_str())
            {
                lines.push((format!("edges[{i}]"), entity.line));
            }
        }
        ir.insert("nodes".to_owned(), Value::Array(nodes));
        ir.insert("edges".to_owned(), Value::Array(edges));
    }

    if let Some(outputs) = flat_entities(scan, Section::Outputs, "outputs", findings, lines) {
        ir.insert("outputs".to_owned(), Value::Object(outputs));
    }
    if let Some(section) = &scan.cache {
        lines.push(("cache".to_owned(), section.line));
        if let Some(cache) = build_cache(section, findings) {
            ir.insert("cache".to_owned(), Value::Object(cache));
        }
    }
    (error_count(findings) == errors_before).then_some(ir)
}

fn error_count(findings: &[Finding]) -> usize {
    findings.iter().filter(|f| f.severity == Severity::Error).count()
}

/// Inputs or outputs: flat objects, keyed by id.
fn flat_entities(
    scan: &Scan,
    section: Section,
    key: &str,
    findings: &mut Vec<Finding>,
    lines: &mut Lines,
) -> Option<Map<String, Value>> {
    let entities: Vec<&Entity> = scan.entities.iter().filter(|e| e.section == section).collect();
    if entities.is_empty() {
        return None;
    }
    let mut out = Map::new();
    for entity in entities {
        let path = format!("{key}.{}", entity.id);
        lines.push((path.clone(), entity.line));
        check_description(entity, &path, findings);
        check_blocks(entity, &path, findings);
        let mut object = Map::new();
        if !entity.prose.is_empty() {
            object.insert("description".to_owned(), Value::String(entity.prose.join("\n")));
        }
        for (k, v) in items(entity, &path, findings, lines) {
            object.insert(k, v);
        }
        for block in entity.blocks.iter().filter(|b| !b.param.is_empty()) {
            lines.push((format!("{path}.{}", block.param), block.line));
            object.insert(block.param.clone(), Value::String(block.content.clone()));
        }
        out.insert(entity.id.clone(), Value::Object(object));
    }
    Some(out)
}

fn build_node(
    entity: &Entity,
    path: &str,
    findings: &mut Vec<Finding>,
    lines: &mut Lines,
) -> Option<(Map<String, Value>, Routing)> {
    let before = error_count(findings);
    check_description(entity, path, findings);
    check_blocks(entity, path, findings);
    let mut params = items(entity, &format!("{path}.params"), findings, lines);
    let block_params: BTreeSet<&str> =
        entity.blocks.iter().map(|b| b.param.as_str()).filter(|p| !p.is_empty()).collect();
    for name in block_params {
        if params.contains_key(name) {
            let block =
                entity.blocks.iter().find(|b| b.param == name).expect("the name is a block's");
            findings.push(
                Finding::error(format!(
                    "step `{}`: `{name}` is set both by `- {name}:` and by a code block",
                    entity.id
                ))
                .at_line(block.line)
                .at_path(format!("{path}.params.{name}"))
                .hint(format!("keep either the `- {name}:` line or the code block")),
            );
        }
    }
    let mut node = Map::new();
    node.insert("id".to_owned(), Value::String(entity.id.clone()));
    match params.shift_remove("type") {
        Some(ty) => {
            node.insert("type".to_owned(), ty);
            move_line(lines, &format!("{path}.params.type"), &format!("{path}.type"));
        }
        None => findings.push(
            Finding::error(format!("step `{}` has no `- type:`", entity.id))
                .at_line(entity.line)
                .at_path(path)
                .hint("every step needs a type, for example `- type: shell`"),
        ),
    }
    for field in TOP_LEVEL {
        if let Some(value) = params.shift_remove(field) {
            node.insert(field.to_owned(), value);
            move_line(lines, &format!("{path}.params.{field}"), &format!("{path}.{field}"));
        }
    }
    let routing =
        Routing { next: params.shift_remove("next"), on_error: params.shift_remove("on-error") };
    if !entity.prose.is_empty() {
        node.insert("purpose".to_owned(), Value::String(entity.prose.join("\n")));
    }
    for block in entity.blocks.iter().filter(|b| !b.param.is_empty()) {
        let value = if block.is_yaml {
            yaml::load(&block.content, true).unwrap_or(Value::Null)
        } else {
            Value::String(block.content.clone())
        };
        match block.param.as_str() {
            field @ ("batch" | "loop") => {
                lines.push((format!("{path}.{field}"), block.line));
                node.insert(field.to_owned(), value);
            }
            param => {
                lines.push((format!("{path}.params.{param}"), block.line));
                params.insert(param.to_owned(), value);
            }
        }
    }
    if !params.is_empty() {
        node.insert("params".to_owned(), Value::Object(params));
    }
    (error_count(findings) == before).then_some((node, routing))
}

fn move_line(lines: &mut Lines, from: &str, to: &str) {
    if let Some(entry) = lines.iter_mut().find(|(p, _)| p == from) {
        entry.0 = to.to_owned();
    }
}

fn check_description(entity: &Entity, path: &str, findings: &mut Vec<Finding>) {
    if entity.prose.is_empty() {
        findings.push(
            Finding::error(format!("`{}` has no description", entity.id))
                .at_line(entity.line)
                .at_path(path)
                .hint(format!(
                    "write a line of prose under `### {}` saying what it is for",
                    entity.id
                )),
        );
    }
}

fn check_blocks(entity: &Entity, path: &str, findings: &mut Vec<Finding>) {
    let mut seen: Vec<(&str, usize)> = Vec::new();
    for (i, block) in entity.blocks.iter().enumerate() {
        if block.tag.is_empty() {
            let hint = match entity.blocks[..i].iter().rev().find(|b| !b.tag.is_empty()) {
                Some(last) => format!(
                    "a ``` inside the `{}` block at line {} closes it early; fence that block with four backticks (````{})",
                    last.tag, last.line, last.tag
                ),
                None => "name the param the block sets in its info string: ```shell command, ```python code, ```prompt, ```yaml batch".to_owned(),
            };
            findings.push(
                Finding::error(format!("`{}`: code block without a param name", entity.id))
                    .at_line(block.line)
                    .at_path(path)
                    .hint(hint),
            );
            continue;
        }
        let param_path = format!("{path}.params.{}", block.param);
        if let Some(&(_, first)) = seen.iter().find(|(p, _)| *p == block.param) {
            findings.push(
                Finding::error(format!("`{}`: second code block for `{}`", entity.id, block.param))
                    .at_line(block.line)
                    .at_path(param_path.clone())
                    .hint(format!(
                        "the `{}` block at line {first} already sets it; keep one",
                        block.param
                    )),
            );
        } else {
            seen.push((block.param.as_str(), block.line));
        }
        let lang = crate::text::words(&block.tag).next().unwrap_or("").to_lowercase();
        if (lang == "python" || block.param == "code")
            && let Some(error) = python::syntax_error(&block.content)
        {
            findings.push(
                Finding::error(format!(
                    "Python syntax error in `{}`: {}",
                    entity.id, error.message
                ))
                .at_line(block.line + error.line)
                .at_path(param_path.clone())
                .hint(format!("fix the Python in the block that starts at line {}", block.line)),
            );
        }
        if block.is_yaml
            && let Err(error) = yaml::load(&block.content, true)
        {
            findings.push(
                    Finding::error(format!("invalid YAML in the `{}` block of `{}`: {}", block.tag, entity.id, error.message))
                        .at_line(block.line + error.line.unwrap_or(1))
                        .at_path(param_path)
                        .hint("the block is YAML; quote values that hold `: ` or start with a special character"),
                );
        }
    }
}

/// The `- key: value` items of an entity, merged in order.
fn items(
    entity: &Entity,
    path: &str,
    findings: &mut Vec<Finding>,
    lines: &mut Lines,
) -> Map<String, Value> {
    let mut merged = Map::new();
    for item in &entity.items {
        let mut set = |key: String, value: Value, merged: &mut Map<String, Value>| {
            lines.push((format!("{path}.{key}"), item.line));
            merged.insert(key, value);
        };
        let not_a_param = |content: &str| {
            Finding::error(format!(
                "`{}`: `{content}` is not a `- key: value` parameter",
                entity.id
            ))
            .at_line(item.line)
            .at_path(path)
            .hint("write params as `- key: value`; start a note with `*` instead of `-`")
        };
        if item.text.contains('\n') {
            match yaml::load(&item.text, true) {
                Ok(Value::Null) => {}
                Ok(Value::Array(entries)) => {
                    for entry in entries {
                        match entry {
                            Value::Object(map) => {
                                map.into_iter().for_each(|(k, v)| set(k, v, &mut merged))
                            }
                            other => findings.push(not_a_param(&py_str(&other))),
                        }
                    }
                }
                Ok(Value::Object(map)) => map.into_iter().for_each(|(k, v)| set(k, v, &mut merged)),
                Ok(other) => findings.push(not_a_param(&py_str(&other))),
                Err(error) => findings.push(yaml_finding(entity, item, path, &error)),
            }
            continue;
        }
        let Some((_, key, value)) = match_item(&item.text) else {
            let content = item.text.trim_start_matches(crate::text::is_space);
            let content = strip(content.strip_prefix('-').unwrap_or(content));
            findings.push(not_a_param(content));
            continue;
        };
        match scalar::coerce(value) {
            Ok(value) => set(key.to_owned(), value, &mut merged),
            Err(ScalarError::Unterminated { double }) => findings.push(
                Finding::error(format!(
                    "`{}`: unterminated {}-quoted string in `- {key}:`",
                    entity.id,
                    if double { "double" } else { "single" }
                ))
                .at_line(item.line)
                .at_path(format!("{path}.{key}"))
                .hint("add the missing closing quote"),
            ),
            Err(ScalarError::Yaml(error)) => {
                findings.push(yaml_finding(entity, item, path, &error))
            }
        }
    }
    merged
}

fn yaml_finding(
    entity: &Entity,
    item: &crate::scan::Item,
    path: &str,
    error: &yaml::YamlError,
) -> Finding {
    let key = match_item(&item.text).map(|(_, k, _)| k);
    let hint = if error.message.contains("mapping values") {
        "the value holds `: `, which YAML reads as a key; wrap the value in quotes: `- key: \"value\"`"
    } else {
        "quote the value, or fix the YAML of the item"
    };
    Finding::error(format!(
        "`{}`: invalid YAML in parameter `{}`: {}",
        entity.id,
        key.unwrap_or("?"),
        error.message
    ))
    .at_line(item.line + error.line.unwrap_or(1) - 1)
    .at_path(key.map_or_else(|| path.to_owned(), |k| format!("{path}.{k}")))
    .hint(hint)
}

/// `"a, b"` into its targets; one target when there is no comma.
fn next_targets(value: &str) -> Vec<String> {
    if value.contains(',') {
        value.split(',').map(strip).filter(|t| !t.is_empty()).map(str::to_owned).collect()
    } else {
        vec![strip(value).to_owned()]
    }
}

fn edge(from: &str, to: &str, action: Option<&str>) -> Value {
    let mut map = Map::new();
    map.insert("from".to_owned(), Value::String(from.to_owned()));
    map.insert("to".to_owned(), Value::String(to.to_owned()));
    if let Some(action) = action {
        map.insert("action".to_owned(), Value::String(action.to_owned()));
    }
    Value::Object(map)
}

fn build_edges(
    steps: &[&Entity],
    routing: &BTreeMap<String, Routing>,
    findings: &mut Vec<Finding>,
) -> Vec<Value> {
    let no_routing = Routing::default();
    let mut code_routes = BTreeMap::new();
    for entity in steps {
        for block in entity.blocks.iter().filter(|b| b.param == "code") {
            code_routes.insert(entity.id.as_str(), python::routes(&block.content));
        }
    }
    let mut edges = Vec::new();
    for (i, entity) in steps.iter().enumerate() {
        let id = entity.id.as_str();
        let route = routing.get(id).unwrap_or(&no_routing);
        match &route.next {
            Some(next) if !next.is_null() => {
                let targets: Vec<String> =
                    next_targets(&py_str(next)).into_iter().filter(|t| t != "end").collect();
                match targets.as_slice() {
                    [] => {}
                    [only] => edges.push(edge(id, only, Some("default"))),
                    [first, ..] => {
                        for target in &targets {
                            edges.push(edge(id, target, Some(target)));
                        }
                        edges.push(edge(id, first, Some("default")));
                    }
                }
            }
            _ => {
                if let Some(following) = steps.get(i + 1) {
                    edges.push(edge(id, &following.id, None));
                }
            }
        }
        if let Some(target) = route.on_error.as_ref().filter(|v| truthy(v)) {
            edges.push(edge(id, &py_str(target), Some("error")));
        }
        if let Some(code) = code_routes.get(id) {
            let existing: BTreeSet<(String, Option<String>)> = edges.iter().map(edge_key).collect();
            for target in &code.targets {
                if !existing.contains(&(id.to_owned(), Some(target.clone()))) {
                    edges.push(edge(id, target, Some(target)));
                }
            }
        }
    }

    let before = error_count(findings);
    let line_of = |id: &str| steps.iter().find(|e| e.id == id).map(|e| e.line);
    if let Some(end) = steps.iter().find(|e| e.id == "end") {
        findings.push(
            Finding::error("`end` is reserved and cannot be a step id")
                .at_line(end.line)
                .hint("rename the step, for example to `finish` or `done`"),
        );
    }
    let ids: Vec<&str> = steps.iter().map(|e| e.id.as_str()).collect();
    for (i, e) in edges.iter().enumerate() {
        let (from, to) = (e["from"].as_str().unwrap_or(""), e["to"].as_str().unwrap_or(""));
        if !ids.contains(&to) {
            let similar: Vec<&str> = ids.iter().copied().filter(|id| strsim_like(id, to)).collect();
            let hint = if similar.is_empty() {
                format!(
                    "the steps are {}",
                    ids.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")
                )
            } else {
                format!(
                    "did you mean {}?",
                    similar.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")
                )
            };
            findings.push(
                Finding::error(format!("step `{from}` routes to `{to}`, which is not a step"))
                    .at_line(line_of(from).unwrap_or(0))
                    .at_path(format!("edges[{i}]"))
                    .hint(hint),
            );
        }
    }
    if error_count(findings) == before {
        check_branches(&edges, steps, routing, &code_routes, findings);
    }
    edges
}

fn edge_key(e: &Value) -> (String, Option<String>) {
    (
        e["from"].as_str().unwrap_or("").to_owned(),
        e.get("action").and_then(Value::as_str).map(str::to_owned),
    )
}

/// A loose likeness for "did you mean": a shared prefix of three or one edit apart.
fn strsim_like(a: &str, b: &str) -> bool {
    let common = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    common >= 3
        || (a.len().abs_diff(b.len()) <= 1
            && a.chars().zip(b.chars()).filter(|(x, y)| x != y).count() <= 1)
}

/// The rules that keep a branch from falling through silently (0.16's, in its order).
fn check_branches(
    edges: &[Value],
    steps: &[&Entity],
    routing: &BTreeMap<String, Routing>,
    code_routes: &BTreeMap<&str, python::Routes>,
    findings: &mut Vec<Finding>,
) {
    let line_of = |id: &str| steps.iter().find(|e| e.id == id).map_or(0, |e| e.line);
    let has_next = |id: &str| routing.get(id).is_some_and(|r| r.next.is_some());
    for (id, routes) in code_routes {
        if routes.dynamic && !has_next(id) {
            findings.push(
                Finding::error(format!(
                    "step `{id}` sets `next` from an expression but has no `- next:`"
                ))
                .at_line(line_of(id))
                .hint("list every target it can route to: `- next: target-a, target-b`"),
            );
        }
    }
    // Branch targets: reached by an edge whose action is neither absent nor `default`.
    let mut routers: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut actions: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for e in edges {
        if let Some(action) = e.get("action").and_then(Value::as_str).filter(|a| *a != "default") {
            let (from, to) = (e["from"].as_str().unwrap_or(""), e["to"].as_str().unwrap_or(""));
            routers.entry(to).or_default().insert(from);
            actions.entry((to, from)).or_default().push(action);
        }
    }
    if routers.is_empty() {
        return;
    }
    let router_list = |target: &str| {
        routers[target]
            .iter()
            .map(|r| {
                let all_error =
                    actions.get(&(target, *r)).is_some_and(|a| a.iter().all(|x| *x == "error"));
                if all_error { format!("`{r}` (on-error)") } else { format!("`{r}`") }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let doc_order: BTreeMap<&str, &str> = edges
        .iter()
        .filter(|e| e.get("action").is_none())
        .map(|e| (e["from"].as_str().unwrap_or(""), e["to"].as_str().unwrap_or("")))
        .collect();
    for target in routers.keys() {
        if has_next(target) {
            continue;
        }
        let successor = doc_order.get(target).filter(|s| !routers.contains_key(*s));
        let hint = match successor {
            Some(s) => {
                format!("add `- next: {s}` to continue, or `- next: end` to stop the branch")
            }
            None => "add `- next: end`, or the step the branch continues at".to_owned(),
        };
        let falls = doc_order
            .get(target)
            .map_or(String::new(), |s| format!("; it would fall through to `{s}`"));
        findings.push(
            Finding::error(format!(
                "step `{target}` is a branch target of {} but has no `- next:`{falls}",
                router_list(target)
            ))
            .at_line(line_of(target))
            .hint(hint),
        );
    }
    for e in edges.iter().filter(|e| e.get("action").is_none()) {
        let (from, to) = (e["from"].as_str().unwrap_or(""), e["to"].as_str().unwrap_or(""));
        if routers.get(to).is_some_and(|r| !r.contains(from)) {
            let convergence = convergence(edges, &routers, from);
            let hint = match convergence {
                Some(c) => format!(
                    "add `- next: {c}` to `### {from}` (the other branches meet there), or `- next: end`"
                ),
                None => format!("add `- next: end`, or the step it continues at, to `### {from}`"),
            };
            findings.push(
                Finding::error(format!(
                    "step `{from}` falls through to `{to}` by document order, but `{to}` is a branch target of {}",
                    router_list(to)
                ))
                .at_line(line_of(from))
                .hint(hint),
            );
        }
    }
}

/// The step most branch targets route to with `- next:` (two at least), other than `source`.
fn convergence<'a>(
    edges: &'a [Value],
    routers: &BTreeMap<&str, BTreeSet<&str>>,
    source: &str,
) -> Option<&'a str> {
    let mut votes: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for e in edges {
        let (from, to) = (e["from"].as_str().unwrap_or(""), e["to"].as_str().unwrap_or(""));
        if e.get("action").and_then(Value::as_str) == Some("default") && routers.contains_key(from)
        {
            votes.entry(to).or_default().insert(from);
        }
    }
    let mut candidates: Vec<(usize, &str)> = votes
        .into_iter()
        .filter(|(c, v)| !routers.contains_key(c) && *c != source && v.len() >= 2)
        .map(|(c, v)| (v.len(), c))
        .collect();
    candidates.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    candidates.first().map(|(_, c)| *c)
}

fn build_cache(
    section: &crate::scan::CacheSection,
    findings: &mut Vec<Finding>,
) -> Option<Map<String, Value>> {
    let Some((content, fence_line)) = &section.block else {
        findings.push(
            Finding::error("`## Cache` has no ```cache block")
                .at_line(section.line)
                .at_path("cache")
                .hint(syntax_hint(Section::Cache)),
        );
        return None;
    };
    match cache::chunks(content) {
        Ok(chunks) => {
            let items = chunks
                .into_iter()
                .map(|c| {
                    let mut item = Map::new();
                    item.insert("name".to_owned(), Value::String(c.name.clone()));
                    item.insert("var".to_owned(), Value::String(c.name));
                    item.insert("prose_before".to_owned(), Value::String(c.prose_before));
                    Value::Object(item)
                })
                .collect();
            let mut cache = Map::new();
            cache.insert("items".to_owned(), Value::Array(items));
            if let Some(ttl) = &section.ttl {
                cache.insert("ttl".to_owned(), Value::String(ttl.clone()));
            }
            Some(cache)
        }
        Err(error) => {
            let line =
                fence_line + 1 + content[..error.offset.min(content.len())].matches('\n').count();
            findings.push(
                Finding::error(error.message).at_line(line).at_path("cache").hint(error.hint),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_values_split_at_commas() {
        assert_eq!(next_targets("a, b,, c "), ["a", "b", "c"]);
        assert_eq!(next_targets(" end "), ["end"]);
    }
}
