//! The discovery context for a query: the best-matching node types and saved workflows,
//! most relevant first, instead of everything (SPEC §6.1).

use std::fmt;
use std::ops::ControlFlow;

use pflow_ir::NodeCatalog;
use pflow_store::{Listed, Problem, StoreError, Summary, WorkflowManager};
use serde::{Deserialize, Serialize};

use crate::discover::{safe, write_workflow};
use crate::rank::{Ranker, Ranking};
use crate::text::{SUMMARY_MAX_CHARS, one_line, summary};
use crate::{ContextError, ContextResult, InputName};

/// How many results a query gives when the caller does not say (SPEC §6.1).
pub const DEFAULT_LIMIT: usize = 20;

/// The longest part of the query echoed in the markdown headings, in characters.
const QUERY_ECHO_CHARS: usize = 80;

/// What a planner needs to choose, for one query: the node types and saved workflows
/// that match it best, most relevant first.
///
/// Its [`Display`](fmt::Display) is the markdown for a prompt (about 200 bytes per
/// workflow, so twenty fit in a few KB); its JSON form holds the same content with the
/// scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryContext {
    /// The query, as given.
    pub query: String,
    /// The words of the query that counted (see [`Ranking::terms`]).
    pub terms: Vec<String>,
    /// The best-matching node types, best first.
    pub nodes: Vec<RankedNode>,
    /// The best-matching saved workflows, best first.
    pub workflows: Vec<RankedWorkflow>,
    /// How many saved workflows matched at all.
    pub matched: usize,
    /// How many readable saved workflows were searched.
    pub searched: usize,
    /// When nothing matched: the saved names closest to the query.
    pub closest: Vec<String>,
    /// The store entries that could not be read and were not searched, sorted by
    /// location.
    pub skipped: Vec<Problem>,
}

/// A node type that matched a query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankedNode {
    /// The type name used in the IR.
    pub name: String,
    /// Its category.
    pub category: String,
    /// Its description, on one line.
    pub description: String,
    /// How well it matched (higher is better; only the order means anything).
    pub score: f64,
}

/// A saved workflow that matched a query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankedWorkflow {
    /// The name other workflows call it by.
    pub name: String,
    /// Its description on one line, cut at a word boundary after 160 characters (`…`).
    pub description: String,
    /// Its inputs, in declaration order.
    pub inputs: Vec<InputName>,
    /// How well it matched (higher is better; only the order means anything).
    pub score: f64,
}

/// The ranking of the workflows saved behind `manager` for one query, and the entries
/// that could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedRanking {
    /// The best workflows (and node types) for the query.
    pub ranking: Ranking,
    /// The store entries that could not be read and were not ranked, sorted by location.
    pub skipped: Vec<Problem>,
}

/// Ranks the workflows saved behind `manager` and the node types of `catalog` for
/// `query`, keeping the best `limit` of each. The listing is ranked as it streams from
/// the store (its summaries — never the documents), keeping of each workflow that
/// matches only the few numbers its score needs and its name; once the order is known,
/// the best `limit` are loaded by name (a workflow deleted meanwhile gives its place to
/// the next, one changed meanwhile is scored by what it holds now). So memory stays
/// bounded by the number of matches, not by their summaries. Every front end's query
/// goes through here (the CLI's `--query`, the MCP server's `query`).
pub fn rank_saved(
    catalog: &NodeCatalog,
    manager: &WorkflowManager,
    query: &str,
    limit: usize,
) -> ContextResult<SavedRanking> {
    let mut ranker = Ranker::fetching(query);
    let mut skipped = Vec::new();
    manager
        .store()
        .visit(&mut |entry| {
            match entry {
                Listed::Workflow(summary) => ranker.push(summary),
                Listed::Problem(problem) => skipped.push(problem),
            }
            ControlFlow::Continue(())
        })
        .map_err(ContextError::List)?;
    // A winner that cannot be loaded any more (deleted, or damaged since the listing)
    // is left out like any entry the listing could not read.
    let ranking = ranker.finish_fetching(catalog, limit, |name| match manager.load(name) {
        Ok(doc) => Some(Summary::of(&doc)),
        Err(StoreError::WorkflowNotFound { .. }) => None,
        Err(error) => {
            let location = manager.locate(name).map_or_else(|_| name.to_owned(), |l| l.0);
            skipped.push(Problem { location, reason: error.to_string() });
            None
        }
    });
    skipped.sort_by(|a, b| a.location.cmp(&b.location));
    Ok(SavedRanking { ranking, skipped })
}

/// The discovery context of `query`: the best `limit` node types of `catalog` and
/// workflows saved behind `manager` (ranked by [`rank_saved`]).
pub fn discover_query(
    catalog: &NodeCatalog,
    manager: &WorkflowManager,
    query: &str,
    limit: usize,
) -> ContextResult<QueryContext> {
    let SavedRanking { ranking, skipped } = rank_saved(catalog, manager, query, limit)?;
    Ok(QueryContext::new(query, ranking, skipped))
}

impl QueryContext {
    /// The context of a [`Ranking`] of `query`, with the entries that could not be read.
    pub fn new(query: &str, ranking: Ranking, mut skipped: Vec<Problem>) -> QueryContext {
        skipped.sort_by(|a, b| a.location.cmp(&b.location));
        let nodes = ranking
            .nodes
            .into_iter()
            .map(|n| RankedNode {
                name: n.item.name,
                category: n.item.category,
                description: one_line(&n.item.description),
                score: n.score,
            })
            .collect();
        let workflows = ranking
            .workflows
            .into_iter()
            .map(|w| RankedWorkflow {
                name: w.item.name.to_string(),
                description: summary(&w.item.description, SUMMARY_MAX_CHARS),
                inputs: w
                    .item
                    .inputs
                    .iter()
                    .map(|i| InputName { name: i.name.clone(), required: i.required })
                    .collect(),
                score: w.score,
            })
            .collect();
        QueryContext {
            query: query.to_owned(),
            terms: ranking.terms,
            nodes,
            workflows,
            matched: ranking.matched,
            searched: ranking.ranked,
            closest: ranking.closest,
            skipped,
        }
    }

    /// The context as markdown for a prompt (the same text as its `Display`).
    pub fn to_markdown(&self) -> String {
        self.to_string()
    }
}

/// Like the full discovery context, the markdown escapes control characters in every
/// name, description and in the query itself.
impl fmt::Display for QueryContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let query = summary(&self.query, QUERY_ECHO_CHARS);
        let query = safe(&query);
        if self.terms.is_empty() {
            writeln!(f, "# Search for `{query}`")?;
            writeln!(f)?;
            writeln!(
                f,
                "Nothing to search for: the query has no word that is not a stop word \
                 (`the`, `my`, `how`, `workflow`, …)."
            )?;
            return skipped_line(f, self.skipped.len());
        }

        writeln!(f, "# Node types matching `{query}`")?;
        writeln!(f)?;
        if self.nodes.is_empty() {
            writeln!(f, "No node type matches.")?;
        } else {
            writeln!(
                f,
                "Use one as a node's `type`; ask for the planning context of the ones you \
                 choose to see their params and outputs."
            )?;
            writeln!(f)?;
        }
        for node in &self.nodes {
            write!(f, "- `{}` ({})", safe(&node.name), safe(&node.category))?;
            if !node.description.is_empty() {
                write!(f, ": {}", safe(&node.description))?;
            }
            writeln!(f)?;
        }

        writeln!(f)?;
        writeln!(f, "# Saved workflows matching `{query}`")?;
        writeln!(f)?;
        if self.workflows.is_empty() {
            if self.searched == 0 {
                writeln!(f, "No saved workflows.")?;
            } else {
                let plural = if self.searched == 1 { "" } else { "s" };
                write!(f, "None of the {} saved workflow{plural} matches.", self.searched)?;
                if !self.closest.is_empty() {
                    let names: Vec<String> =
                        self.closest.iter().map(|n| format!("`{}`", safe(n))).collect();
                    write!(f, " Closest names: {}.", names.join(", "))?;
                }
                writeln!(f)?;
            }
        } else {
            writeln!(
                f,
                "Call one from a node of type `workflow` with `params.workflow_name`; pass its \
                 inputs in `params.param_mapping` (`?` marks an optional input). Most relevant \
                 first."
            )?;
            writeln!(f)?;
        }
        for workflow in &self.workflows {
            write_workflow(f, &workflow.name, &workflow.description, &workflow.inputs)?;
        }
        if !self.workflows.is_empty() {
            writeln!(f)?;
            let plural = if self.searched == 1 { "" } else { "s" };
            writeln!(
                f,
                "({} of {} matching, {} saved workflow{plural} searched.)",
                self.workflows.len(),
                self.matched,
                self.searched
            )?;
        }
        skipped_line(f, self.skipped.len())
    }
}

fn skipped_line(f: &mut fmt::Formatter<'_>, skipped: usize) -> fmt::Result {
    match skipped {
        0 => Ok(()),
        1 => {
            writeln!(f)?;
            writeln!(f, "(1 saved workflow entry could not be read and was not searched.)")
        }
        n => {
            writeln!(f)?;
            writeln!(f, "({n} saved workflow entries could not be read and were not searched.)")
        }
    }
}
