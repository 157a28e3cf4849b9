//! The client scenarios that read and write the library, served from a PostgreSQL store
//! (`PFLOW_STORE`) instead of the home's files: the tools are the same calls into the
//! library, whatever the store.

use crate::pg_support::PgLibrary;

use super::scenario_on;

/// Runs `name` against a server on a fresh PostgreSQL library, and checks that the
/// library's files were never used.
fn on_postgres(name: &str) {
    let lib = PgLibrary::new();
    scenario_on(name, &lib.home, Some(&lib.uri));
    let workflows = lib.home.path().join("workflows");
    assert!(
        !workflows.exists(),
        "{} was made: the server used the home's store",
        workflows.display()
    );
    assert!(
        !lib.manager().list_all().expect("the library lists").workflows.is_empty(),
        "the scenario `{name}` saved nothing in PostgreSQL"
    );
}

#[test]
fn workflow_tools_and_their_mistakes_on_postgres() {
    on_postgres("workflows");
}

#[test]
fn execute_on_postgres() {
    on_postgres("execute");
}

#[test]
fn registry_and_context_tools_on_postgres() {
    on_postgres("registry_context");
}

#[test]
fn s1_eight_concurrent_executions_on_postgres() {
    on_postgres("concurrent");
}
