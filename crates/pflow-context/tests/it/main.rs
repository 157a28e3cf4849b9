//! Integration tests of the planner context: discovery, planning, unknown names.

mod discover;
mod fixtures;
mod fs;
mod plan;
