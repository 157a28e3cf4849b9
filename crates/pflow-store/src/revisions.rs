//! What changed from one revision of a workflow to the next, for `pflow workflow
//! history`: nodes added, removed and changed, and which other parts differ.

use std::collections::HashMap;

use pflow_ir::{Document, Node, Timestamp};
use serde::Serialize;

use crate::History;

/// One revision as a history listing shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RevisionSummary {
    /// The revision number.
    pub revision: u64,
    /// When this content was saved (the document's `updated_at`).
    pub time: Timestamp,
    /// The description it had.
    pub description: String,
    /// Whether this is the current revision.
    pub current: bool,
    /// What changed since the revision before it; `None` for the first one kept.
    pub changes: Option<Changes>,
    /// The latest earlier revision with the same IR and description (a restore).
    pub same_as: Option<u64>,
    /// The changes in a few words: `nodes +1 -0 ~2, inputs changed`.
    pub summary: String,
}

/// What differs between two revisions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Changes {
    /// The revision compared with (the one before, or the nearest kept one).
    pub since: u64,
    /// Nodes whose id is new.
    pub nodes_added: usize,
    /// Nodes whose id is gone.
    pub nodes_removed: usize,
    /// Nodes kept by id whose type or params changed.
    pub nodes_changed: usize,
    /// Whether the edges differ (in any order).
    pub edges: bool,
    /// Whether the declared inputs differ.
    pub inputs: bool,
    /// Whether the declared outputs differ.
    pub outputs: bool,
    /// Whether `start_node` differs.
    pub start_node: bool,
    /// Whether `ir_version` differs.
    pub ir_version: bool,
    /// Whether the description differs.
    pub description: bool,
}

impl Changes {
    /// What changed from `old` to `new`.
    pub fn between(old: &Document, new: &Document) -> Changes {
        let before: HashMap<&str, &Node> =
            old.ir.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
        let after: HashMap<&str, &Node> = new.ir.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
        let nodes_added = after.keys().filter(|id| !before.contains_key(*id)).count();
        let nodes_removed = before.keys().filter(|id| !after.contains_key(*id)).count();
        let nodes_changed = after
            .iter()
            .filter(|(id, node)| before.get(*id).is_some_and(|old| old != *node))
            .count();
        Changes {
            since: old.revision,
            nodes_added,
            nodes_removed,
            nodes_changed,
            edges: sorted_edges(old) != sorted_edges(new),
            inputs: old.ir.inputs != new.ir.inputs,
            outputs: old.ir.outputs != new.ir.outputs,
            start_node: old.ir.start_node != new.ir.start_node,
            ir_version: old.ir.ir_version != new.ir.ir_version,
            description: old.description != new.description,
        }
    }

    /// The changes in a few words, e.g. `nodes +1 -0 ~2, inputs changed`; `no change`
    /// when nothing differs.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if self.nodes_added + self.nodes_removed + self.nodes_changed > 0 {
            parts.push(format!(
                "nodes +{} -{} ~{}",
                self.nodes_added, self.nodes_removed, self.nodes_changed
            ));
        }
        for (changed, what) in [
            (self.edges, "edges"),
            (self.inputs, "inputs"),
            (self.outputs, "outputs"),
            (self.start_node, "start node"),
            (self.ir_version, "ir_version"),
            (self.description, "description"),
        ] {
            if changed {
                parts.push(format!("{what} changed"));
            }
        }
        if parts.is_empty() { "no change".to_owned() } else { parts.join(", ") }
    }
}

impl History {
    /// One summary per readable revision, oldest first, each compared with the readable
    /// revision before it.
    pub fn summaries(&self) -> Vec<RevisionSummary> {
        let last = self.revisions.len().saturating_sub(1);
        let mut seen: HashMap<(String, &str), u64> = HashMap::new();
        let mut summaries = Vec::with_capacity(self.revisions.len());
        for (i, doc) in self.revisions.iter().enumerate() {
            let changes = i.checked_sub(1).map(|p| Changes::between(&self.revisions[p], doc));
            let content = (content_key(doc), doc.description.as_str());
            let same_as = seen.get(&content).copied();
            seen.insert(content, doc.revision);
            let mut summary = match (&changes, doc.revision) {
                (Some(changes), _) => changes.summary(),
                (None, 1) => "created".to_owned(),
                (None, _) => "earliest revision kept".to_owned(),
            };
            if let Some(earlier) = same_as {
                summary.push_str(&format!(" (same as revision {earlier})"));
            }
            summaries.push(RevisionSummary {
                revision: doc.revision,
                time: doc.updated_at,
                description: doc.description.clone(),
                current: i == last,
                changes,
                same_as,
                summary,
            });
        }
        summaries
    }
}

/// The IR as canonical text, to find revisions with equal content.
fn content_key(doc: &Document) -> String {
    serde_json::to_string(&doc.ir).expect("an IR serializes to JSON")
}

/// The edges as sorted text: edge order carries no meaning.
fn sorted_edges(doc: &Document) -> Vec<String> {
    let mut edges: Vec<String> = doc
        .ir
        .edges
        .iter()
        .map(|e| serde_json::to_string(e).expect("an edge serializes to JSON"))
        .collect();
    edges.sort_unstable();
    edges
}
