//! Integration tests of the planner context: discovery, planning, unknown names, ranking
//! for a query and its evaluation.

mod discover;
mod eval;
mod fixtures;
mod fs;
mod plan;
mod rank;
