//! Every tool, every error class and S1–S3 of RELIABILITY.md through the Python `mcp`
//! SDK's client (tests/mcp/scenarios.py), and a snapshot of `tools/list`.

use pflow_tests::TestHome;

use super::scenario;

#[test]
fn tools_list_snapshot() {
    let home = TestHome::new();
    let listed = scenario("tools", &home).stdout;
    insta::assert_snapshot!(listed);
}

#[test]
fn workflow_tools_and_their_mistakes() {
    scenario("workflows", &TestHome::new());
}

#[test]
fn execute_outputs_nodes_failures_and_progress() {
    scenario("execute", &TestHome::new());
}

#[test]
fn registry_and_context_tools() {
    scenario("registry_context", &TestHome::new());
}

#[test]
fn s1_eight_concurrent_executions() {
    scenario("concurrent", &TestHome::new());
}

#[test]
fn s2_unknown_tools_wrong_types_and_huge_arguments_are_answered() {
    scenario("errors", &TestHome::new());
}

#[test]
fn s3_cancelled_request_kills_its_shell() {
    scenario("cancel", &TestHome::new());
}
