//! The PostgreSQL store against a real server: the conformance suite and the model test,
//! the schema's migrations, concurrency, faults, URIs and TLS.

mod common;
mod concurrency;
mod conformance;
mod schema;
mod tls;
