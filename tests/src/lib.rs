//! Shared helpers for pflow's cross-crate and end-to-end tests.
