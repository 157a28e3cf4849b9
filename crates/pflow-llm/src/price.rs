//! What the common models cost, in US dollars per million tokens.
//!
//! The figures are the providers' list prices (as litellm's price table had them when
//! pflow 0.16 shipped). A model not here has no known price: its cost is `null`, never a
//! guess; local servers cost nothing.

use crate::{ModelRef, Usage};

/// A model's price, in US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    /// An input token not read from the provider's prompt cache.
    pub input: f64,
    /// An output token.
    pub output: f64,
    /// An input token read from the prompt cache.
    pub cache_read: f64,
    /// An input token written to the prompt cache.
    pub cache_write: f64,
}

impl Price {
    /// What `usage` costs at this price.
    pub fn cost(&self, usage: &Usage) -> f64 {
        let cached = usage.cache_read_input_tokens + usage.cache_creation_input_tokens;
        let uncached = usage.input_tokens.saturating_sub(cached);
        (uncached as f64 * self.input
            + usage.cache_read_input_tokens as f64 * self.cache_read
            + usage.cache_creation_input_tokens as f64 * self.cache_write
            + usage.output_tokens as f64 * self.output)
            / 1_000_000.0
    }
}

/// (provider, model id or dated-id prefix, input, output, cache read, cache write)
const PRICES: &[(&str, &str, f64, f64, f64, f64)] = &[
    ("openai", "gpt-4o-mini", 0.15, 0.60, 0.075, 0.15),
    ("openai", "gpt-4o", 2.50, 10.0, 1.25, 2.50),
    ("openai", "gpt-4.1-nano", 0.10, 0.40, 0.025, 0.10),
    ("openai", "gpt-4.1-mini", 0.40, 1.60, 0.10, 0.40),
    ("openai", "gpt-4.1", 2.0, 8.0, 0.50, 2.0),
    ("openai", "gpt-5-nano", 0.05, 0.40, 0.005, 0.05),
    ("openai", "gpt-5-mini", 0.25, 2.0, 0.025, 0.25),
    ("openai", "gpt-5", 1.25, 10.0, 0.125, 1.25),
    ("openai", "gpt-5.1", 1.25, 10.0, 0.125, 1.25),
    ("openai", "gpt-5.2", 1.75, 14.0, 0.175, 1.75),
    ("openai", "gpt-5.4", 2.50, 15.0, 0.25, 2.50),
    ("openai", "o3", 2.0, 8.0, 0.50, 2.0),
    ("openai", "o4-mini", 1.10, 4.40, 0.275, 1.10),
    ("anthropic", "claude-haiku-4-5", 1.0, 5.0, 0.10, 1.25),
    ("anthropic", "claude-sonnet-4-5", 3.0, 15.0, 0.30, 3.75),
    ("anthropic", "claude-sonnet-4-6", 3.0, 15.0, 0.30, 3.75),
    ("anthropic", "claude-sonnet-4", 3.0, 15.0, 0.30, 3.75),
    ("anthropic", "claude-opus-4-1", 15.0, 75.0, 1.50, 18.75),
    ("anthropic", "claude-opus-4-5", 5.0, 25.0, 0.50, 6.25),
    ("anthropic", "claude-opus-4-6", 5.0, 25.0, 0.50, 6.25),
];

/// The providers that run on the user's own machine, whose calls cost nothing.
const LOCAL: &[&str] = &["ollama", "llamacpp", "lmstudio", "vllm"];

/// `model`'s price, when it is known. A dated id (`claude-sonnet-4-5-20250929`,
/// `gpt-4o-2024-08-06`) has the price of its family; the longest family name wins, so
/// `gpt-4o-mini-…` is never priced as `gpt-4o`.
pub fn price(model: &ModelRef) -> Option<Price> {
    if LOCAL.contains(&model.provider()) {
        return Some(Price { input: 0.0, output: 0.0, cache_read: 0.0, cache_write: 0.0 });
    }
    let name = model.name();
    PRICES
        .iter()
        .filter(|(provider, family, ..)| {
            *provider == model.provider()
                && (name == *family || name.strip_prefix(family).is_some_and(is_date_suffix))
        })
        .max_by_key(|(_, family, ..)| family.len())
        .map(|&(_, _, input, output, cache_read, cache_write)| Price {
            input,
            output,
            cache_read,
            cache_write,
        })
}

/// `-20250929`, `-2024-08-06`, `-latest`: a dated or moving alias of the same model.
fn is_date_suffix(rest: &str) -> bool {
    let Some(rest) = rest.strip_prefix('-') else { return false };
    rest == "latest" || (!rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit() || c == '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(model: &str, input: u64, output: u64) -> Option<f64> {
        let usage = Usage { input_tokens: input, output_tokens: output, ..Usage::default() };
        price(&ModelRef::parse(model).unwrap()).map(|p| p.cost(&usage))
    }

    #[test]
    fn known_models_are_priced_and_others_are_not() {
        assert_eq!(cost("openai/gpt-4o-mini", 1_000_000, 1_000_000), Some(0.75));
        assert_eq!(cost("openai/gpt-4o-mini-2024-07-18", 1_000_000, 0), Some(0.15));
        assert_eq!(cost("openai/gpt-4o-2024-08-06", 0, 1_000_000), Some(10.0));
        assert_eq!(cost("anthropic/claude-sonnet-4-5-20250929", 1000, 1000), Some(0.018));
        assert_eq!(cost("ollama/llama3.2", 1000, 1000), Some(0.0));
        assert_eq!(cost("openai/gpt-4o-audio-preview", 1, 1), None);
        assert_eq!(cost("openrouter/openai/gpt-4o", 1, 1), None);
    }

    #[test]
    fn cached_input_is_priced_as_cached() {
        let usage = Usage {
            input_tokens: 1_000_000,
            output_tokens: 0,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 1_000_000,
        };
        let p = price(&ModelRef::parse("anthropic/claude-haiku-4-5").unwrap()).unwrap();
        assert!((p.cost(&usage) - 0.10).abs() < 1e-12);
    }
}
