//! Integration tests of pflow-ir: validation rules, the param rule shared with the
//! runtime, the workflow source helper, and property tests.

mod catalog;
mod fields;
mod properties;
mod rules;
mod source;
mod validate;
