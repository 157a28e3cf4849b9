//! Integration tests of pflow-ir: validation rules, the workflow source helper, and
//! property tests.

mod catalog;
mod properties;
mod source;
mod validate;
