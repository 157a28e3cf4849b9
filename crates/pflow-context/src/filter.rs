//! Small views of a saved workflow that every front end shows alike: what a plain word
//! filter (`pflow workflow list FILTER...`, an agent's `filter_pattern`) matches, and the
//! `pflow run` line that runs it; and what the same filter matches among node types.

use pflow_ir::{NodeSpec, WorkflowIr};
use pflow_store::Summary;

/// A `pflow run NAME` line that supplies every required input without a default, each as
/// a placeholder of its type: `pflow run fix-issue issue=<integer>`.
pub fn run_line(name: &str, ir: &WorkflowIr) -> String {
    let mut line = format!("pflow run {name}");
    for (input, spec) in &ir.inputs {
        if spec.is_required() && spec.default.is_none() {
            let placeholder = spec.ty.map_or("value", |t| t.as_str());
            line.push_str(&format!(" {input}=<{placeholder}>"));
        }
    }
    line
}

/// Whether every word of `filter` occurs, in any case, in the name or the description of
/// `summary`; an empty filter matches everything.
pub fn matches_words<S: AsRef<str>>(summary: &Summary, filter: &[S]) -> bool {
    if filter.is_empty() {
        return true;
    }
    let name = summary.name.as_str().to_lowercase();
    let description = summary.description.to_lowercase();
    filter.iter().all(|word| {
        let word = word.as_ref().to_lowercase();
        name.contains(&word) || description.contains(&word)
    })
}

/// Whether every word of `filter` occurs, in any case, in the name, the category or the
/// description of the node type `spec`; an empty filter matches everything.
pub fn node_matches_words<S: AsRef<str>>(spec: &NodeSpec, filter: &[S]) -> bool {
    let texts = [&spec.name, &spec.category, &spec.description].map(|t| t.to_lowercase());
    filter.iter().all(|word| {
        let word = word.as_ref().to_lowercase();
        texts.iter().any(|text| text.contains(&word))
    })
}

#[cfg(test)]
mod tests {
    use pflow_ir::{Document, Timestamp, WorkflowIr, WorkflowName};

    use super::*;

    #[track_caller]
    fn check(filter: &[&str], expected: bool) {
        let ir: WorkflowIr = serde_json::from_value(serde_json::json!({
            "ir_version": "0.1.0", "nodes": [{"id": "e", "type": "echo"}]
        }))
        .unwrap();
        let name = WorkflowName::new("fix-issue").unwrap();
        let doc = Document::new(name, "Fixes a GitHub Issue".into(), ir, Timestamp::now());
        assert_eq!(matches_words(&Summary::of(&doc), filter), expected, "{filter:?}");
    }

    #[test]
    fn every_word_in_the_name_or_the_description() {
        check(&[], true);
        check(&["fix"], true);
        check(&["GITHUB", "issue"], true);
        check(&["fix", "gitlab"], false);
        check(&["hub iss"], true);
        check(&["nothing"], false);
    }

    #[test]
    fn node_types_match_by_name_category_or_description() {
        let spec = |name: &str, category: &str, description: &str| NodeSpec {
            name: name.into(),
            category: category.into(),
            description: description.into(),
            params: vec![],
            outputs: vec![],
            dynamic_outputs: false,
            unavailable: None,
        };
        let read = spec("read-file", "file", "Read a File's content");
        assert!(node_matches_words(&read, &[] as &[&str]));
        assert!(node_matches_words(&read, &["FILE", "read"]));
        assert!(node_matches_words(&read, &["content"]));
        assert!(!node_matches_words(&read, &["file", "write"]));
    }
}
