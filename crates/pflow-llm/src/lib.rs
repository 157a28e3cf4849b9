//! Model providers for pflow's `llm` node (SPEC §5.7).
//!
//! - [`ModelRef`] is a model as workflows write it (`openai/gpt-4o-mini`), and
//!   [`Providers`] turns one into an [`Endpoint`]: the wire protocol, the base URL and the
//!   API key, from the variables the official SDKs read or the `[llm]` table of the
//!   home's config ([`LlmSettings`]).
//! - [`complete`] sends one [`Request`] over HTTPS — the OpenAI Chat Completions API (and
//!   every server that speaks it) or Anthropic's Messages API — with a timeout, bounded
//!   retries of what a retry can fix (429 honouring `Retry-After`, 5xx, dropped
//!   connections) and cancellation, and returns a [`Reply`] with its [`Usage`].
//! - [`OutputSchema`] checks a structured reply against a JSON Schema, locally.
//! - [`ReplyCache`] keeps replies across runs, keyed by everything that shapes the reply
//!   and never by the key; [`price`] knows what the common models cost.
//!
//! **An API key never leaves an [`ApiKey`]**: it has no `Display`, its `Debug` is
//! redacted, it is written only into the request's auth header, and every text a provider
//! sends back is scrubbed of it before it reaches an error.

mod cache;
mod client;
mod config;
mod error;
mod model;
mod price;
mod schema;
mod wire;

#[cfg(feature = "test-support")]
pub mod testing;

pub use cache::{CacheKey, ReplyCache};
pub use client::{CallOptions, Reply, Request, RetryPolicy, complete};
pub use config::{
    ApiKey, Endpoint, LlmSettings, ProviderInfo, ProviderStatus, Providers, known_providers,
};
pub use error::{LlmError, LlmResult};
pub use model::{Api, ModelRef};
pub use price::{Price, price};
pub use schema::OutputSchema;
pub use wire::Usage;
