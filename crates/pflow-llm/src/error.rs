//! What can go wrong calling a model.
//!
//! Every variant that comes from a call names the provider and the model. A provider's
//! own message is kept (it says what was refused), scrubbed of the API key first
//! ([`crate::config::ApiKey::scrub`]), so no message here can hold a key.

use std::time::Duration;

/// The result of this crate's operations.
pub type LlmResult<T> = Result<T, LlmError>;

/// A failure to resolve, call or read a model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LlmError {
    /// The model is not `provider/model`.
    #[error("invalid model `{model}`: {why}")]
    InvalidModel { model: String, why: String },
    /// No model was given and none is configured or can be guessed from the keys set.
    #[error("no model given and no default model configured")]
    NoModel,
    /// The provider is neither built in nor configured with a base URL.
    #[error("unknown provider `{provider}` of model `{model}`")]
    UnknownProvider { provider: String, model: String },
    /// A base URL that is not an `http://` or `https://` URL.
    #[error("invalid base URL for provider `{provider}`: {why}")]
    InvalidBaseUrl { provider: String, why: String },
    /// The provider needs a key and none is set.
    #[error("no API key for provider `{provider}` (model `{model}`)")]
    MissingKey { provider: String, model: String, env: String },
    /// The key was refused (401) or lacks permission (403).
    #[error("{provider} refused the API key for model `{model}` (HTTP {status}): {message}")]
    Unauthorized { provider: String, model: String, status: u16, message: String, env: String },
    /// The provider does not know the model (404).
    #[error("{provider} does not know model `{model}` (HTTP 404): {message}")]
    ModelNotFound { provider: String, model: String, message: String },
    /// A request the provider refused (400, 413, 422, …); retrying cannot help.
    #[error("{provider} refused the request for model `{model}` (HTTP {status}): {message}")]
    Refused { provider: String, model: String, status: u16, message: String },
    /// Still rate-limited (429) after every attempt.
    #[error(
        "{provider} rate-limited model `{model}` (HTTP 429) after {attempts} attempts: {message}"
    )]
    RateLimited { provider: String, model: String, attempts: u32, message: String },
    /// A server error (5xx) after every attempt.
    #[error(
        "{provider} failed for model `{model}` (HTTP {status}) after {attempts} attempts: {message}"
    )]
    Server { provider: String, model: String, status: u16, attempts: u32, message: String },
    /// No connection, or it dropped, after every attempt.
    #[error(
        "cannot reach {provider} at `{url}` for model `{model}` after {attempts} attempts: {message}"
    )]
    Connection { provider: String, model: String, url: String, attempts: u32, message: String },
    /// No reply within the timeout.
    #[error("{provider} did not answer for model `{model}` within {}", secs(*.timeout))]
    Timeout { provider: String, model: String, timeout: Duration },
    /// The run was cancelled while the request was in flight.
    #[error("the call to {provider} for model `{model}` was cancelled")]
    Cancelled { provider: String, model: String },
    /// A reply that is not what the API defines (not JSON, no content, …).
    #[error("{provider} sent a reply for model `{model}` that cannot be read: {why}")]
    BadReply { provider: String, model: String, why: String },
    /// The node's `output_schema` is not a JSON Schema that can be checked here.
    #[error("invalid `output_schema`: {why}")]
    InvalidSchema { why: String },
    /// A structured reply that is not JSON.
    #[error("the reply of model `{model}` is not JSON: {why}")]
    NotJson { model: String, why: String },
    /// A structured reply that breaks the schema: every violation, with its path.
    #[error("the reply of model `{model}` does not match `output_schema`: {}", .errors.join("; "))]
    SchemaMismatch { model: String, errors: Vec<String> },
}

impl LlmError {
    /// A hint for the user that holds for every front end, when there is one.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            LlmError::InvalidModel { .. } | LlmError::UnknownProvider { .. } => {
                "write the model as `provider/model` with a built-in provider (openai, anthropic, \
                 ollama, openrouter, vllm, lmstudio, llamacpp) or one given a `base_url` in the \
                 `[llm.base_url]` table of the home's config.toml"
                    .to_owned()
            }
            LlmError::NoModel => "give the node a `model` (e.g. `openai/gpt-4o-mini`), set \
                                  `default_model` in the `[llm]` table of the home's config.toml, \
                                  or set `ANTHROPIC_API_KEY` or `OPENAI_API_KEY`"
                .to_owned(),
            LlmError::MissingKey { env, provider, .. } => {
                format!(
                    "set `{env}`, or `{provider} = \"…\"` in the `[llm.api_key]` table of the home's config.toml"
                )
            }
            LlmError::Unauthorized { env, .. } => {
                format!("check the key in `{env}` (or the config's `[llm.api_key]`)")
            }
            LlmError::ModelNotFound { .. } => {
                "check the model's name with the provider's model list".to_owned()
            }
            LlmError::RateLimited { .. } | LlmError::Server { .. } => {
                "try again later, or lower the batch's `max_concurrent`".to_owned()
            }
            LlmError::Connection { .. } => {
                "check that the server is running and the provider's base URL is right".to_owned()
            }
            LlmError::Timeout { .. } => {
                "raise the node's `timeout`, or check the server".to_owned()
            }
            LlmError::SchemaMismatch { .. } | LlmError::NotJson { .. } => {
                "say in the prompt what JSON to return, or loosen `output_schema`".to_owned()
            }
            _ => return None,
        })
    }

    /// Whether another attempt may succeed: a rate limit, a server error, a dropped
    /// connection.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            LlmError::RateLimited { .. } | LlmError::Server { .. } | LlmError::Connection { .. }
        )
    }

    /// 0.16's name of this failure's class (`error_class` in its node outputs).
    pub fn class(&self) -> &'static str {
        match self {
            LlmError::InvalidModel { .. }
            | LlmError::UnknownProvider { .. }
            | LlmError::ModelNotFound { .. } => "UnknownModelError",
            LlmError::NoModel
            | LlmError::InvalidBaseUrl { .. }
            | LlmError::InvalidSchema { .. } => "NodeError",
            LlmError::MissingKey { .. } | LlmError::Unauthorized { .. } => "MissingApiKeyError",
            LlmError::Refused { .. } => "InvalidRequestError",
            LlmError::RateLimited { .. }
            | LlmError::Server { .. }
            | LlmError::Connection { .. } => "LLMTransientError",
            LlmError::Timeout { .. } => "TimeoutError",
            LlmError::Cancelled { .. } => "Cancelled",
            LlmError::BadReply { .. }
            | LlmError::NotJson { .. }
            | LlmError::SchemaMismatch { .. } => "LLMResponseParseError",
        }
    }
}

/// A duration as a person writes it: `30s`, `1.5s`.
fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 { format!("{}s", s as u64) } else { format!("{s}s") }
}
