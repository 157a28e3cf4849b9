//! A model as workflows name it: `provider/model`.

use std::fmt;

use crate::{LlmError, LlmResult};

/// The wire protocol a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// `POST {base}/chat/completions` (OpenAI, Ollama, llama.cpp, vLLM, LM Studio,
    /// OpenRouter, …).
    OpenAiChat,
    /// `POST {base}/v1/messages` (Anthropic).
    AnthropicMessages,
}

/// A model: the provider before the first `/`, the provider's model id after it
/// (`openrouter/anthropic/claude-sonnet-4-5` is OpenRouter's `anthropic/claude-sonnet-4-5`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModelRef {
    provider: String,
    name: String,
}

impl ModelRef {
    /// Reads `provider/model`. A bare name is given the provider 0.16 gives it
    /// (`claude-…` Anthropic; `gpt-…`, `o1…`, `o3…`, `o4…` OpenAI); any other bare name is
    /// refused, since it could be anyone's.
    pub fn parse(text: &str) -> LlmResult<ModelRef> {
        let text = text.trim();
        let invalid =
            |why: &str| LlmError::InvalidModel { model: text.to_owned(), why: why.to_owned() };
        if text.is_empty() {
            return Err(invalid("it is empty"));
        }
        if text.chars().any(char::is_control) {
            return Err(invalid("it holds a control character"));
        }
        match text.split_once('/') {
            Some((provider, name)) => {
                if provider.is_empty() {
                    return Err(invalid("the provider before `/` is empty"));
                }
                if name.is_empty() {
                    return Err(invalid("the model after `/` is empty"));
                }
                if !provider
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                {
                    return Err(invalid("a provider is letters, digits, `-`, `_` and `.`"));
                }
                Ok(ModelRef { provider: provider.to_ascii_lowercase(), name: name.to_owned() })
            }
            None => {
                let lower = text.to_ascii_lowercase();
                let provider = if lower.starts_with("claude-") {
                    "anthropic"
                } else if ["gpt-", "o1", "o3", "o4"].iter().any(|p| lower.starts_with(p)) {
                    "openai"
                } else {
                    return Err(invalid(
                        "it has no provider; write `provider/model`, e.g. `openai/gpt-4o-mini`",
                    ));
                };
                Ok(ModelRef { provider: provider.to_owned(), name: text.to_owned() })
            }
        }
    }

    /// The provider (`openai`, `anthropic`, `ollama`, …), in lower case.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// The provider's own model id (`gpt-4o-mini`).
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for ModelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.provider, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(text: &str, expected: Result<&str, &str>) {
        let got = ModelRef::parse(text).map(|m| m.to_string()).map_err(|e| e.to_string());
        match (got, expected) {
            (Ok(got), Ok(want)) => assert_eq!(got, want),
            (Err(got), Err(want)) => assert!(got.contains(want), "{got}"),
            (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn parses_models_as_0_16_writes_them() {
        check("openai/gpt-4o-mini", Ok("openai/gpt-4o-mini"));
        check("Anthropic/claude-sonnet-4-5", Ok("anthropic/claude-sonnet-4-5"));
        check(
            "openrouter/anthropic/claude-sonnet-4-5",
            Ok("openrouter/anthropic/claude-sonnet-4-5"),
        );
        check("ollama/llama3.2:3b", Ok("ollama/llama3.2:3b"));
        check("claude-haiku-4-5", Ok("anthropic/claude-haiku-4-5"));
        check("gpt-4o", Ok("openai/gpt-4o"));
        check("o3-mini", Ok("openai/o3-mini"));
        check("llama3.2", Err("has no provider"));
        check("", Err("empty"));
        check("/gpt", Err("provider before"));
        check("openai/", Err("model after"));
        check("open ai/x", Err("a provider is"));
        check("openai/x\u{1b}", Err("control"));
    }
}
