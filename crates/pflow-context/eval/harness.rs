//! The discovery evaluation, shared by `cargo xtask eval-discovery` (the
//! `eval_discovery` example) and the test that runs it in CI: the library and queries in
//! this folder, the ranking of `pflow_context::rank`, plain BM25 over the same text as
//! the baseline, and recall@1, recall@5 and MRR of both.

use std::collections::HashMap;
use std::fmt::Write as _;

use pflow_ir::{Document, NodeCatalog};
use pflow_store::Summary;
use serde::Deserialize;

const LIBRARY: &str = include_str!("library.json");
const QUERIES: &str = include_str!("queries.json");

/// One workflow of the evaluation library, as `library.json` writes it.
#[derive(Debug, Deserialize)]
struct Entry {
    name: String,
    description: String,
    inputs: serde_json::Map<String, serde_json::Value>,
    outputs: serde_json::Map<String, serde_json::Value>,
    nodes: Vec<String>,
}

/// One query and the workflow that answers it.
#[derive(Debug, Clone, Deserialize)]
pub struct Query {
    /// As a person or an agent would ask.
    pub query: String,
    /// The name of the workflow that answers it.
    pub expected: String,
    /// `tune` or `held-out`.
    pub split: String,
}

/// recall@1, recall@5 and mean reciprocal rank over a set of queries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figures {
    /// How many queries.
    pub queries: usize,
    /// Share of queries whose workflow came first.
    pub recall_at_1: f64,
    /// Share of queries whose workflow was among the first five.
    pub recall_at_5: f64,
    /// Mean of 1/rank of the expected workflow (0 when not returned).
    pub mrr: f64,
}

/// The library's summaries, made from stored documents exactly as a store makes them.
pub fn library() -> Vec<Summary> {
    let entries: Vec<Entry> = serde_json::from_str(LIBRARY).expect("library.json is valid");
    entries
        .into_iter()
        .map(|entry| {
            let inputs: serde_json::Map<String, serde_json::Value> = entry
                .inputs
                .into_iter()
                .map(|(name, description)| {
                    (name, serde_json::json!({ "type": "string", "description": description }))
                })
                .collect();
            let outputs: serde_json::Map<String, serde_json::Value> = entry
                .outputs
                .into_iter()
                .map(|(name, description)| (name, serde_json::json!({ "description": description })))
                .collect();
            let nodes: Vec<serde_json::Value> = entry
                .nodes
                .iter()
                .enumerate()
                .map(|(i, ty)| serde_json::json!({ "id": format!("n{i}"), "type": ty }))
                .collect();
            let doc: Document = serde_json::from_value(serde_json::json!({
                "name": entry.name,
                "description": entry.description,
                "ir": { "ir_version": "0.1.0", "inputs": inputs, "outputs": outputs, "nodes": nodes },
                "created_at": "2025-01-29T10:00:00Z",
                "updated_at": "2025-01-29T10:00:00Z",
                "version": "1.0.0",
                "revision": 1,
            }))
            .expect("a library entry makes a document");
            Summary::of(&doc)
        })
        .collect()
}

/// The evaluation queries.
pub fn queries() -> Vec<Query> {
    serde_json::from_str(QUERIES).expect("queries.json is valid")
}

/// The names pflow's ranking returns for `query`, best first (at most 10).
pub fn pflow_ranking(library: &[Summary], query: &str) -> Vec<String> {
    pflow_context::rank(query, library.iter().cloned(), &NodeCatalog::default(), 10)
        .workflows
        .into_iter()
        .map(|s| s.item.name.to_string())
        .collect()
}

/// Plain BM25 (k1 = 1.2, b = 0.75) over one bag of words per workflow — its name,
/// description, input and output names and descriptions, and node types — with naive
/// stemming (a trailing `ing`, `ed`, `es` or `s` cut off) and no stop words: the baseline.
pub fn bm25_ranking(library: &[Summary], query: &str) -> Vec<String> {
    let docs: Vec<Vec<String>> = library.iter().map(|s| naive_words(&all_text(s))).collect();
    let n = docs.len() as f64;
    let avg = docs.iter().map(Vec::len).sum::<usize>() as f64 / n.max(1.0);
    let mut terms = naive_words(query);
    terms.sort();
    terms.dedup();
    let mut df: HashMap<&str, usize> = HashMap::new();
    for doc in &docs {
        for term in &terms {
            if doc.iter().any(|w| w == term) {
                *df.entry(term).or_default() += 1;
            }
        }
    }
    let mut scored: Vec<(f64, String)> = Vec::new();
    for (doc, summary) in docs.iter().zip(library) {
        let mut score = 0.0;
        for term in &terms {
            let tf = doc.iter().filter(|w| *w == term).count() as f64;
            if tf == 0.0 {
                continue;
            }
            let df = df[term.as_str()] as f64;
            let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
            score += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * doc.len() as f64 / avg));
        }
        if score > 0.0 {
            scored.push((score, summary.name.to_string()));
        }
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    scored.into_iter().take(10).map(|(_, name)| name).collect()
}

fn all_text(s: &Summary) -> String {
    let mut text = format!("{} {}", s.name.as_str().replace('-', " "), s.description);
    for input in &s.inputs {
        let _ = write!(text, " {} {}", input.name, input.description);
    }
    for output in s.outputs.iter().chain(&s.output_descriptions).chain(&s.nodes) {
        let _ = write!(text, " {output}");
    }
    text
}

fn naive_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let w = w.to_lowercase();
            for suffix in ["ing", "ed", "es", "s"] {
                if let Some(stem) = w.strip_suffix(suffix)
                    && stem.len() >= 3
                {
                    return stem.to_owned();
                }
            }
            w
        })
        .collect()
}

/// The figures of `ranking` over `queries`.
pub fn figures(
    library: &[Summary],
    queries: &[&Query],
    ranking: impl Fn(&[Summary], &str) -> Vec<String>,
) -> Figures {
    let (mut at1, mut at5, mut rr) = (0usize, 0usize, 0.0);
    for query in queries {
        let names = ranking(library, &query.query);
        if let Some(rank) = names.iter().position(|n| *n == query.expected) {
            at1 += usize::from(rank == 0);
            at5 += usize::from(rank < 5);
            rr += 1.0 / (rank + 1) as f64;
        }
    }
    let n = queries.len().max(1) as f64;
    Figures {
        queries: queries.len(),
        recall_at_1: at1 as f64 / n,
        recall_at_5: at5 as f64 / n,
        mrr: rr / n,
    }
}

/// The whole report: both rankings on every split, as a markdown table; with `misses`,
/// also each query pflow's ranking did not put first, with what it put first.
pub fn report(misses: bool) -> (String, Figures, Figures) {
    let library = library();
    let queries = queries();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "discovery evaluation: {} workflows, {} queries ({} tune, {} held-out)\n",
        library.len(),
        queries.len(),
        queries.iter().filter(|q| q.split == "tune").count(),
        queries.iter().filter(|q| q.split == "held-out").count(),
    );
    let _ = writeln!(out, "| ranking | queries | recall@1 | recall@5 | MRR |");
    let _ = writeln!(out, "|---|---|---:|---:|---:|");
    let mut overall = Vec::new();
    type RankFn = fn(&[Summary], &str) -> Vec<String>;
    let rankings: [(&str, RankFn); 2] =
        [("pflow (BM25F)", pflow_ranking), ("plain BM25 (baseline)", bm25_ranking)];
    for (label, ranking) in rankings {
        for split in ["all", "tune", "held-out"] {
            let selected: Vec<&Query> =
                queries.iter().filter(|q| split == "all" || q.split == split).collect();
            let f = figures(&library, &selected, ranking);
            if split == "all" {
                overall.push(f);
            }
            let _ = writeln!(
                out,
                "| {label} | {split} ({}) | {:.3} | {:.3} | {:.3} |",
                f.queries, f.recall_at_1, f.recall_at_5, f.mrr
            );
        }
    }
    if misses {
        let _ = writeln!(out, "\nqueries whose workflow pflow did not rank first:");
        for query in &queries {
            let names = pflow_ranking(&library, &query.query);
            if names.first() != Some(&query.expected) {
                let rank = names.iter().position(|n| *n == query.expected).map(|r| r + 1);
                let _ = writeln!(
                    out,
                    "- {:?} ({}): expected `{}` at {}, first `{}`",
                    query.query,
                    query.split,
                    query.expected,
                    rank.map_or("-".to_owned(), |r| r.to_string()),
                    names.first().map_or("-", String::as_str)
                );
            }
        }
    }
    (out, overall[0], overall[1])
}
