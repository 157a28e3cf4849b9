//! The structure pass: the version, input declarations, node ids, edges, the start node,
//! cycles, reachability and name collisions.

use std::collections::{HashMap, HashSet, VecDeque};

use super::shape::IrView;
use super::{Findings, Section, did_you_mean, index_path, is_valid_id, key_path};
use crate::{Diagnostic, ValueType};

/// The graph as later passes need it.
#[derive(Debug)]
pub(super) struct Graph<'v> {
    /// Node id → index of the first node with that id.
    pub(super) ids: HashMap<&'v str, usize>,
    /// Node index → successors (indexes), in edge order, from edges whose ends exist.
    pub(super) succ: Vec<Vec<usize>>,
    /// Node index → predecessors (indexes).
    pub(super) pred: Vec<Vec<usize>>,
}

impl Graph<'_> {
    /// Whether node `ancestor` has a path of edges to node `node`.
    pub(super) fn is_ancestor(&self, ancestor: usize, node: usize) -> bool {
        // A set, not a vector of every node: the search usually stops after a step or two,
        // and a 10 000-node chain must not cost 10 000 × 10 000.
        let mut seen = HashSet::new();
        let mut queue = VecDeque::from([node]);
        while let Some(n) = queue.pop_front() {
            for &p in &self.pred[n] {
                if p == ancestor {
                    return true;
                }
                if seen.insert(p) {
                    queue.push_back(p);
                }
            }
        }
        false
    }
}

/// Runs the structure checks and gives the graph.
pub(super) fn check<'v>(ir: &IrView<'v>, findings: &mut Findings) -> Graph<'v> {
    if let Some(version) = ir.version {
        check_version(version, findings);
    }
    check_inputs(ir, findings);
    let ids = check_ids(ir, findings);
    let (succ, pred) = check_edges(ir, &ids, findings);
    let graph = Graph { ids, succ, pred };
    let start = check_start(ir, &graph, findings);
    check_cycles(ir, &graph, findings);
    if let Some(start) = start {
        check_reachable(ir, &graph, start, findings);
    }
    check_collisions(ir, &graph, findings);
    graph
}

fn check_version(version: &str, findings: &mut Findings) {
    let place = (Section::Version, 0);
    let Some(major) = semver_major(version) else {
        findings.push(
            place,
            Diagnostic::error(
                "ir_version",
                format!("`{version}` is not a version of the form MAJOR.MINOR.PATCH"),
            )
            .with_hint("write `0.1.0`"),
        );
        return;
    };
    if major != 0 {
        findings.push(
            place,
            Diagnostic::error(
                "ir_version",
                format!("ir_version `{version}` is not supported: this release reads 0.x"),
            )
            .with_hint("write `0.1.0`, or use the pflow release that wrote this workflow"),
        );
    }
}

/// The major number of a semantic version (`MAJOR.MINOR.PATCH`, optionally followed by
/// `-prerelease` and `+build`), or `None` when `v` is not one.
fn semver_major(v: &str) -> Option<u64> {
    let core_end = v.find(['-', '+']).unwrap_or(v.len());
    let (core, rest) = v.split_at(core_end);
    let number = |s: &str| {
        let ok = !s.is_empty()
            && s.bytes().all(|c| c.is_ascii_digit())
            && (s == "0" || !s.starts_with('0'));
        if ok { s.parse::<u64>().ok() } else { None }
    };
    let mut parts = core.split('.');
    let major = number(parts.next()?)?;
    number(parts.next()?)?;
    number(parts.next()?)?;
    if parts.next().is_some() {
        return None;
    }
    // Pre-release and build identifiers: dot-separated, non-empty, [0-9A-Za-z-].
    let (pre, build) = match rest.find('+') {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let idents_ok = |s: &str| {
        s.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-'))
    };
    if let Some(pre) = pre.strip_prefix('-') {
        if !idents_ok(pre) {
            return None;
        }
    } else if !pre.is_empty() {
        return None;
    }
    if build.is_some_and(|b| !idents_ok(b)) {
        return None;
    }
    Some(major)
}

fn check_inputs(ir: &IrView<'_>, findings: &mut Findings) {
    for input in &ir.inputs {
        let place = (Section::Inputs, input.rank);
        if !is_valid_id(input.name) {
            findings.push(
                place,
                Diagnostic::warning(
                    &input.path,
                    format!("input name `{}` cannot be used in a template", input.name),
                )
                .with_hint(
                    "input names start with a letter or `_` and hold letters, digits, `_` and `-`",
                ),
            );
        }
        let Some(default) = input.default else { continue };
        if let Some(ty) = input.ty
            && !ty.matches(default)
        {
            findings.push(
                place,
                Diagnostic::error(
                    key_path(&input.path, "default"),
                    format!(
                        "the default of input `{}` is {}, but its type is `{ty}`",
                        input.name,
                        ValueType::phrase_of(default)
                    ),
                ),
            );
        }
        if input.required != Some(false) {
            let message = if input.required == Some(true) {
                format!("input `{}` is required but has a default", input.name)
            } else {
                format!(
                    "input `{}` has a default but is required (inputs are required unless \
                     `\"required\": false`)",
                    input.name
                )
            };
            findings.push(
                place,
                Diagnostic::error(&input.path, message).with_hint(
                    "set `\"required\": false` to make the default apply, or remove the default",
                ),
            );
        }
    }
}

fn check_ids<'v>(ir: &IrView<'v>, findings: &mut Findings) -> HashMap<&'v str, usize> {
    let mut ids: HashMap<&'v str, usize> = HashMap::new();
    for node in &ir.nodes {
        let Some(id) = node.id else { continue };
        let path = key_path(&node.path, "id");
        if !is_valid_id(id) {
            let mut d =
                Diagnostic::error(&path, format!("invalid node id `{}`", id.escape_debug()));
            let fixed = suggest_id(id);
            d = match fixed {
                Some(fixed) => d.with_hint(format!(
                    "ids start with a letter or `_` and hold letters, digits, `_` and `-`: try `{fixed}`"
                )),
                None => d.with_hint("ids start with a letter or `_` and hold letters, digits, `_` and `-`"),
            };
            findings.push(node.place(), d);
        }
        match ids.get(id) {
            Some(&first) => findings.push(
                node.place(),
                Diagnostic::error(
                    &path,
                    format!("duplicate node id `{id}`, first used by nodes[{first}]"),
                )
                .with_hint("give every node its own id"),
            ),
            None => {
                ids.insert(id, node.index);
            }
        }
    }
    ids
}

/// A valid id close to `id`: invalid characters become `_`, and a leading digit or dash
/// gets a `_` in front.
fn suggest_id(id: &str) -> Option<String> {
    let mut fixed: String = id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' })
        .collect();
    if !fixed.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        fixed.insert(0, '_');
    }
    (is_valid_id(&fixed) && !fixed.trim_matches('_').is_empty()).then_some(fixed)
}

type Adjacency = (Vec<Vec<usize>>, Vec<Vec<usize>>);

fn check_edges(ir: &IrView<'_>, ids: &HashMap<&str, usize>, findings: &mut Findings) -> Adjacency {
    let n = ir.nodes.len();
    let mut succ = vec![Vec::new(); n];
    let mut pred = vec![Vec::new(); n];
    let mut by_action: HashMap<(&str, &str), usize> = HashMap::new();
    for edge in &ir.edges {
        let mut end = |field: &str, name: Option<&str>| -> Option<usize> {
            let name = name?;
            let found = ids.get(name).copied();
            if found.is_none() {
                let d = Diagnostic::error(
                    key_path(&edge.path, field),
                    format!("edge {field} `{name}` is not a node"),
                );
                let d = match did_you_mean(name, ids.keys().copied()) {
                    Some(hint) => d.with_hint(hint),
                    None => d.with_hint("edges connect the ids of nodes in `nodes`"),
                };
                findings.push(edge.place(), d);
            }
            found
        };
        let from = end("from", edge.from);
        let to = end("to", edge.to);
        if edge.action.is_empty() {
            findings.push(
                edge.place(),
                Diagnostic::error(key_path(&edge.path, "action"), "an edge action cannot be empty")
                    .with_hint("leave `action` out for the default action"),
            );
        }
        if let Some(from_id) = edge.from {
            match by_action.get(&(from_id, edge.action)) {
                Some(&first) => findings.push(
                    edge.place(),
                    Diagnostic::error(
                        &edge.path,
                        format!(
                            "a second edge from `{from_id}` for action `{}`, after edges[{first}]",
                            edge.action
                        ),
                    )
                    .with_hint("a node's action selects one next node: give this edge another `action`, or remove one"),
                ),
                None => {
                    by_action.insert((from_id, edge.action), edge.index);
                }
            }
        }
        if let (Some(from), Some(to)) = (from, to) {
            succ[from].push(to);
            pred[to].push(from);
        }
    }
    (succ, pred)
}

fn check_start(ir: &IrView<'_>, graph: &Graph<'_>, findings: &mut Findings) -> Option<usize> {
    match ir.start_node {
        Some(start) => {
            let found = graph.ids.get(start).copied();
            if found.is_none() {
                let d =
                    Diagnostic::error("start_node", format!("start node `{start}` is not a node"));
                let d = match did_you_mean(start, graph.ids.keys().copied()) {
                    Some(hint) => d.with_hint(hint),
                    None => d.with_hint("`start_node` names the id of a node; leave it out to start at the first node"),
                };
                findings.push((Section::Start, 0), d);
            }
            found
        }
        None => ir.nodes.first().and_then(|n| n.id).and_then(|id| graph.ids.get(id).copied()),
    }
}

/// Reports one cycle per strongly connected component that has one, as `a -> b -> a`.
fn check_cycles(ir: &IrView<'_>, graph: &Graph<'_>, findings: &mut Findings) {
    let components = strongly_connected(&graph.succ);
    let mut cyclic: Vec<Vec<usize>> = components
        .into_iter()
        .filter(|c| c.len() > 1 || graph.succ[c[0]].contains(&c[0]))
        .collect();
    for c in &mut cyclic {
        c.sort_unstable();
    }
    cyclic.sort();
    for component in cyclic {
        let members: HashSet<usize> = component.iter().copied().collect();
        let start = component[0];
        let cycle = shortest_cycle(graph, start, &members);
        let names: Vec<&str> = cycle.iter().map(|&i| ir.nodes[i].id.unwrap_or("?")).collect();
        // File the finding under the edge that closes the cycle.
        let last = cycle[cycle.len() - 2];
        let closing = ir.edges.iter().find(|e| {
            e.from.and_then(|f| graph.ids.get(f)) == Some(&last)
                && e.to.and_then(|t| graph.ids.get(t)) == Some(&start)
        });
        let (path, place) = match closing {
            Some(e) => (e.path.clone(), e.place()),
            None => ("edges".to_owned(), (Section::Edges, 0)),
        };
        findings.push(
            place,
            Diagnostic::error(path, format!("the edges form a cycle: {}", names.join(" -> ")))
                .with_hint("a workflow is acyclic: remove or redirect one edge of the cycle"),
        );
    }
}

/// The shortest cycle through `start` inside `members`, as node indexes with `start` at
/// both ends.
fn shortest_cycle(graph: &Graph<'_>, start: usize, members: &HashSet<usize>) -> Vec<usize> {
    let mut parent: HashMap<usize, usize> = HashMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(n) = queue.pop_front() {
        for &next in &graph.succ[n] {
            if next == start {
                let mut path = vec![n];
                while let Some(&p) = parent.get(path.last().expect("the path is never empty")) {
                    path.push(p);
                }
                path.reverse();
                path.push(start);
                return path;
            }
            if members.contains(&next) && next != start && !parent.contains_key(&next) {
                parent.insert(next, n);
                queue.push_back(next);
            }
        }
    }
    // A strongly connected component with a cycle always leads back to its members.
    vec![start, start]
}

/// Tarjan's algorithm without recursion (a 10 000-node chain must not overflow the
/// stack): the strongly connected components of the graph.
fn strongly_connected(succ: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = succ.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut components = Vec::new();
    let mut next_index = 0;
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        // (node, position of the next successor to visit)
        let mut work = vec![(root, 0usize)];
        index[root] = next_index;
        low[root] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (node, ref mut pos)) = work.last_mut() {
            if let Some(&next) = succ[node].get(*pos) {
                *pos += 1;
                if index[next] == usize::MAX {
                    index[next] = next_index;
                    low[next] = next_index;
                    next_index += 1;
                    stack.push(next);
                    on_stack[next] = true;
                    work.push((next, 0));
                } else if on_stack[next] {
                    low[node] = low[node].min(index[next]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[node]);
            }
            if low[node] == index[node] {
                let mut component = Vec::new();
                while let Some(m) = stack.pop() {
                    on_stack[m] = false;
                    component.push(m);
                    if m == node {
                        break;
                    }
                }
                components.push(component);
            }
        }
    }
    components
}

fn check_reachable(ir: &IrView<'_>, graph: &Graph<'_>, start: usize, findings: &mut Findings) {
    let mut seen = vec![false; ir.nodes.len()];
    seen[start] = true;
    let mut queue = VecDeque::from([start]);
    while let Some(n) = queue.pop_front() {
        for &next in &graph.succ[n] {
            if !seen[next] {
                seen[next] = true;
                queue.push_back(next);
            }
        }
    }
    let start_id = ir.nodes[start].id.unwrap_or("?");
    for node in &ir.nodes {
        // Only the first node of a duplicated id is in the graph.
        let Some(id) = node.id else { continue };
        if graph.ids.get(id) != Some(&node.index) || seen[node.index] {
            continue;
        }
        findings.push(
            node.place(),
            Diagnostic::warning(
                &node.path,
                format!("node `{id}` is unreachable from the start node `{start_id}`"),
            )
            .with_hint(format!("add an edge that leads to `{id}`, or remove it")),
        );
    }
}

fn check_collisions(ir: &IrView<'_>, graph: &Graph<'_>, findings: &mut Findings) {
    for input in &ir.inputs {
        if let Some(&node) = graph.ids.get(input.name) {
            findings.push(
                (Section::Inputs, input.rank),
                Diagnostic::error(
                    &input.path,
                    format!(
                        "input `{0}` has the same name as a node ({1}), so `${{{0}}}` would be ambiguous",
                        input.name,
                        index_path("nodes", node),
                    ),
                )
                .with_hint("rename the input or the node"),
            );
        }
    }
    for output in &ir.outputs {
        if output.source.is_some() {
            continue;
        }
        let clash = if graph.ids.contains_key(output.name) {
            Some("node")
        } else if ir.inputs.iter().any(|i| i.name == output.name) {
            Some("input")
        } else {
            None
        };
        if let Some(what) = clash {
            findings.push(
                (Section::Outputs, output.rank),
                Diagnostic::warning(
                    &output.path,
                    format!(
                        "output `{0}` has no `source`, so it takes key `{0}` of the last node's outputs, not the {what} `{0}`",
                        output.name
                    ),
                )
                .with_hint(format!("say where it comes from: \"source\": \"${{{}}}\"", output.name)),
            );
        }
    }
}
