//! Integration tests of the runtime: the execution model, every built-in node against
//! real processes, files and a local HTTP server, the spec check of resolved params,
//! nested workflows, and the property that nesting does not change what a workflow
//! computes.

mod files;
mod http;
mod nested;
mod params;
mod prop_nested;
mod runtime;
mod shell;
mod support;
