//! M1: the state machine of `pflow_store::testing::model` run against every backend of
//! this crate, for `PROPTEST_CASES` cases each (256 when unset, as in CI).

use pflow_store::testing;

use crate::common;

#[test]
fn m1_memory_store_matches_the_model() {
    let cases = testing::default_cases();
    testing::model(&common::memory, cases);
    println!("M1 memory: {cases} cases, store == model after every step");
}

#[test]
fn m1_fs_store_matches_the_model() {
    let cases = testing::default_cases();
    testing::model(&common::fs, cases);
    println!("M1 fs: {cases} cases, store == model after every step");
}

#[test]
fn m1_fs_store_on_the_power_cut_double_matches_the_model() {
    let cases = testing::default_cases();
    testing::model(&common::sim, cases);
    println!("M1 sim (power cut on crash): {cases} cases, store == model after every step");
}
