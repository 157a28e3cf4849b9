//! The planner's view of pflow: what node types exist and which workflows are saved.
//!
//! Two contexts, each as data (serde) and as markdown ready to paste into a prompt:
//!
//! - the [`DiscoveryContext`] lists every node type (by category) and every saved workflow,
//!   one or two lines each, so a planner can choose what to use;
//! - the [`PlanningContext`] gives the full interface of a chosen few (params, inputs,
//!   outputs, types, defaults), so a planner can wire them into a workflow.
//!
//! With a query, [`rank`] orders saved workflows (and node types) by how well they match
//! it — lexically, deterministically, with stemming and typo tolerance — and
//! [`discover_query`] gives the [`QueryContext`]: the best few instead of everything.
//!
//! Node types come in as data (a [`NodeCatalog`](pflow_ir::NodeCatalog)), never from the
//! runtime, and saved workflows come only through the
//! [`WorkflowManager`](pflow_store::WorkflowManager), so a corrupt entry is skipped here
//! exactly as `list_all` skips it everywhere else. Both contexts are deterministic: sorted,
//! no timestamps, no revisions.

mod discover;
mod error;
mod filter;
mod plan;
mod rank;
mod search;
mod text;

pub use discover::{DiscoveryContext, InputName, NodeCategory, NodeEntry, WorkflowEntry, discover};
pub use error::{ContextError, ContextResult, UnknownName, UnknownNames};
pub use filter::{matches_words, node_matches_words, run_line};
pub use plan::{
    InputInterface, OutputInterface, PlanningContext, Selection, WorkflowInterface, plan,
};
pub use rank::{MAX_QUERY_TERMS, Ranker, Ranking, Scored, rank};
pub use search::{
    DEFAULT_LIMIT, QueryContext, RankedNode, RankedWorkflow, SavedRanking, discover_query,
    rank_saved,
};
