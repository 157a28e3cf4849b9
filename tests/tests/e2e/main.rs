//! End-to-end tests: the real `pflow` binary (and small helper binaries) run as child
//! processes, each test with its own temporary pflow home.

mod batch;
mod bundle;
mod code;
mod context;
mod discovery;
mod hostile_text;
mod language;
mod llm;
mod loops;
mod mcp;
mod nested;
mod pflow_md;
mod pg_support;
mod prompt_keys;
mod prompt_progress;
mod prompt_pty;
mod prompt_save;
mod run;
mod store_concurrency;
mod store_crash;
mod store_hostile;
mod store_mounts;
mod store_owned;
mod store_postgres;
mod store_postgres_faults;
mod store_prompt;
mod store_rules;
mod store_support;
mod validate;
