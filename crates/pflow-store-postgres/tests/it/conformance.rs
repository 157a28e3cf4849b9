//! The exported conformance suite and the M1 model test (RELIABILITY P7), each case on a
//! store in a fresh schema of the test server.

use pflow_store::testing::{self, Harness};
use pflow_store_postgres::testing::PgHarness;

#[test]
fn conformance_postgres() {
    testing::conformance(&|| Box::new(PgHarness::new()));
}

#[test]
fn m1_postgres_matches_the_model() {
    let cases = testing::default_cases();
    testing::model(&|| Box::new(PgHarness::new()) as Box<dyn Harness>, cases);
    println!("M1 postgres: {cases} cases, store == model after every step");
}
