//! Which providers there are, where they answer and with which key.
//!
//! A provider's base URL and key come from, in order: the variables the official SDKs
//! read (`OPENAI_API_KEY`, `OPENAI_BASE_URL`, `ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`,
//! …), then the `[llm]` table of the home's `config.toml` ([`LlmSettings`]), then the
//! provider's public default. A provider that is not built in is an OpenAI-compatible
//! server named by a `base_url` in the config.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use crate::{Api, LlmError, LlmResult, ModelRef};

/// An API key. It has no `Display`; its `Debug` shows only that it is set; it is written
/// only into a request's auth header.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct ApiKey(String);

impl ApiKey {
    /// A key from its text; `None` when it is empty.
    pub fn new(text: impl Into<String>) -> Option<ApiKey> {
        let text = text.into();
        (!text.trim().is_empty()).then(|| ApiKey(text.trim().to_owned()))
    }

    /// The key, for the auth header only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the key (and of any long part of it a server may
    /// echo) replaced by `[redacted]`.
    pub fn scrub(&self, text: &str) -> String {
        scrub(text, &self.0)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey([redacted])")
    }
}

/// The `[llm]` table of the home's `config.toml`.
///
/// ```toml
/// [llm]
/// default_model = "ollama/llama3.2"
///
/// [llm.base_url]
/// ollama = "http://localhost:11434/v1"
/// together = "https://api.together.xyz/v1"
///
/// [llm.api_key]
/// together = "…"
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmSettings {
    /// The model of an `llm` node that names none.
    pub default_model: Option<String>,
    /// A base URL per provider (`ollama = "http://localhost:11434/v1"`).
    #[serde(default)]
    pub base_url: BTreeMap<String, String>,
    /// A key per provider, for keys not kept in the environment.
    #[serde(default)]
    pub api_key: BTreeMap<String, ApiKey>,
}

/// A built-in provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderInfo {
    /// Its name, the part of a model before `/`.
    pub name: &'static str,
    /// Its wire protocol.
    pub api: Api,
    /// Its public base URL (for OpenAI-compatible servers, up to and including `/v1`).
    pub base_url: &'static str,
    /// The variable holding its key.
    pub key_env: &'static str,
    /// The variables that may hold its base URL, first wins.
    pub base_url_env: &'static [&'static str],
    /// Whether a call needs a key (local servers do not).
    pub needs_key: bool,
}

const PROVIDERS: &[ProviderInfo] = &[
    ProviderInfo {
        name: "anthropic",
        api: Api::AnthropicMessages,
        base_url: "https://api.anthropic.com",
        key_env: "ANTHROPIC_API_KEY",
        base_url_env: &["ANTHROPIC_BASE_URL"],
        needs_key: true,
    },
    ProviderInfo {
        name: "openai",
        api: Api::OpenAiChat,
        base_url: "https://api.openai.com/v1",
        key_env: "OPENAI_API_KEY",
        // `OPENAI_API_BASE` is what litellm (and so pflow 0.16) reads.
        base_url_env: &["OPENAI_BASE_URL", "OPENAI_API_BASE"],
        needs_key: true,
    },
    ProviderInfo {
        name: "openrouter",
        api: Api::OpenAiChat,
        base_url: "https://openrouter.ai/api/v1",
        key_env: "OPENROUTER_API_KEY",
        base_url_env: &["OPENROUTER_BASE_URL"],
        needs_key: true,
    },
    ProviderInfo {
        name: "ollama",
        api: Api::OpenAiChat,
        base_url: "http://localhost:11434/v1",
        key_env: "OLLAMA_API_KEY",
        base_url_env: &["OLLAMA_BASE_URL"],
        needs_key: false,
    },
    ProviderInfo {
        name: "llamacpp",
        api: Api::OpenAiChat,
        base_url: "http://localhost:8080/v1",
        key_env: "LLAMACPP_API_KEY",
        base_url_env: &["LLAMACPP_BASE_URL"],
        needs_key: false,
    },
    ProviderInfo {
        name: "vllm",
        api: Api::OpenAiChat,
        base_url: "http://localhost:8000/v1",
        key_env: "VLLM_API_KEY",
        base_url_env: &["VLLM_BASE_URL"],
        needs_key: false,
    },
    ProviderInfo {
        name: "lmstudio",
        api: Api::OpenAiChat,
        base_url: "http://localhost:1234/v1",
        key_env: "LMSTUDIO_API_KEY",
        base_url_env: &["LMSTUDIO_BASE_URL"],
        needs_key: false,
    },
];

/// Every built-in provider.
pub fn known_providers() -> &'static [ProviderInfo] {
    PROVIDERS
}

/// Where and how to call one model.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The model.
    pub model: ModelRef,
    /// The wire protocol.
    pub api: Api,
    /// The base URL, without a trailing `/`.
    pub base_url: String,
    /// The key, when one is set.
    pub key: Option<ApiKey>,
}

/// The providers as configured: the settings and the environment read once.
#[derive(Clone, Default)]
pub struct Providers {
    settings: LlmSettings,
    /// The variables read, by name; it holds keys, so `Debug` shows only the names.
    env: BTreeMap<String, String>,
}

impl fmt::Debug for Providers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Providers")
            .field("settings", &self.settings)
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// One provider as [`Providers::list`] shows it, for `pflow llm models`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderStatus {
    /// The provider's name.
    pub name: String,
    /// Its base URL.
    pub base_url: String,
    /// Where the base URL came from: the variable, `config`, or `default`.
    pub base_url_from: String,
    /// Whether a key is set, and where (`OPENAI_API_KEY`, `config`); never the key.
    pub key_from: Option<String>,
    /// Whether a call needs a key.
    pub needs_key: bool,
}

impl Providers {
    /// The providers from `settings` and the variables `var` gives (the process
    /// environment in the binary: `|name| std::env::var(name).ok()`).
    pub fn new(settings: LlmSettings, var: impl Fn(&str) -> Option<String>) -> Providers {
        let mut env = BTreeMap::new();
        let mut names: Vec<String> = Vec::new();
        for p in PROVIDERS {
            names.push(p.key_env.to_owned());
            names.extend(p.base_url_env.iter().map(|s| (*s).to_owned()));
        }
        for provider in settings.base_url.keys().chain(settings.api_key.keys()) {
            names.push(key_env_of(provider));
        }
        for name in names {
            if let Some(value) = var(&name).filter(|v| !v.trim().is_empty()) {
                env.insert(name, value);
            }
        }
        Providers { settings, env }
    }

    /// The settings these providers were made from.
    pub fn settings(&self) -> &LlmSettings {
        &self.settings
    }

    /// The model of a node that names none: the config's `default_model`, else one of
    /// the providers whose key is set (Anthropic, then OpenAI, as 0.16 chooses).
    pub fn default_model(&self) -> LlmResult<ModelRef> {
        if let Some(model) = self.settings.default_model.as_deref().filter(|m| !m.trim().is_empty())
        {
            return ModelRef::parse(model);
        }
        for (provider, model) in
            [("anthropic", "anthropic/claude-sonnet-4-5"), ("openai", "openai/gpt-4o-mini")]
        {
            if self.key_for(provider).is_some() {
                return ModelRef::parse(model);
            }
        }
        Err(LlmError::NoModel)
    }

    /// Where and how to call `model`; a provider that needs a key and has none is an
    /// error here, before any request.
    pub fn endpoint(&self, model: &ModelRef) -> LlmResult<Endpoint> {
        let provider = model.provider();
        let info = PROVIDERS.iter().find(|p| p.name == provider);
        let (base_url, _) = self.base_url_for(provider).ok_or_else(|| {
            LlmError::UnknownProvider { provider: provider.to_owned(), model: model.to_string() }
        })?;
        let base_url = check_base_url(provider, &base_url)?;
        let key = self.key_for(provider).map(|(key, _)| key);
        if key.is_none() && info.is_some_and(|p| p.needs_key) {
            return Err(LlmError::MissingKey {
                provider: provider.to_owned(),
                model: model.to_string(),
                env: key_env_of(provider),
            });
        }
        let api = info.map_or(Api::OpenAiChat, |p| p.api);
        Ok(Endpoint { model: model.clone(), api, base_url, key })
    }

    /// Every built-in provider and every configured one, by name: where it answers and
    /// whether a key is set — never the key.
    pub fn list(&self) -> Vec<ProviderStatus> {
        let mut names: Vec<String> = PROVIDERS.iter().map(|p| p.name.to_owned()).collect();
        for name in self.settings.base_url.keys() {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
        names.sort();
        names
            .into_iter()
            .filter_map(|name| {
                let (base_url, base_url_from) = self.base_url_for(&name)?;
                let key_from = self.key_for(&name).map(|(_, from)| from);
                let needs_key =
                    PROVIDERS.iter().find(|p| p.name == name).is_some_and(|p| p.needs_key);
                Some(ProviderStatus { name, base_url, base_url_from, key_from, needs_key })
            })
            .collect()
    }

    /// The base URL of `provider` and where it came from.
    fn base_url_for(&self, provider: &str) -> Option<(String, String)> {
        let info = PROVIDERS.iter().find(|p| p.name == provider);
        if let Some(info) = info {
            for var in info.base_url_env {
                if let Some(url) = self.env.get(*var) {
                    return Some((url.clone(), (*var).to_owned()));
                }
            }
        }
        if let Some(url) = self.settings.base_url.get(provider).filter(|u| !u.trim().is_empty()) {
            return Some((url.clone(), "config".to_owned()));
        }
        info.map(|p| (p.base_url.to_owned(), "default".to_owned()))
    }

    /// The key of `provider` and where it came from.
    fn key_for(&self, provider: &str) -> Option<(ApiKey, String)> {
        let env = key_env_of(provider);
        if let Some(key) = self.env.get(&env).and_then(|k| ApiKey::new(k.clone())) {
            return Some((key, env));
        }
        self.settings
            .api_key
            .get(provider)
            .and_then(|k| ApiKey::new(k.0.clone()))
            .map(|k| (k, "config".to_owned()))
    }
}

/// The variable holding `provider`'s key: the built-in one, else `<PROVIDER>_API_KEY`.
pub(crate) fn key_env_of(provider: &str) -> String {
    match PROVIDERS.iter().find(|p| p.name == provider) {
        Some(p) => p.key_env.to_owned(),
        None => {
            let upper: String = provider
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' })
                .collect();
            format!("{upper}_API_KEY")
        }
    }
}

/// A base URL that can be used: `http://` or `https://`, no credentials in it, without a
/// trailing `/`.
fn check_base_url(provider: &str, url: &str) -> LlmResult<String> {
    let url = url.trim().trim_end_matches('/');
    let invalid =
        |why: &str| LlmError::InvalidBaseUrl { provider: provider.to_owned(), why: why.to_owned() };
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| invalid("it must start with `http://` or `https://`"))?;
    let authority = rest.split('/').next().unwrap_or("");
    if authority.is_empty() {
        return Err(invalid("it has no host"));
    }
    if authority.contains('@') {
        // A URL with credentials would print them wherever the URL is shown.
        return Err(invalid("it holds credentials; give the key as a key instead"));
    }
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(invalid("it holds a space or a control character"));
    }
    Ok(url.to_owned())
}

/// `text` with `secret` replaced, and any run of 12 or more of its characters a server
/// may echo (`sk-abc…xyz` forms keep fewer, which is why 12).
fn scrub(text: &str, secret: &str) -> String {
    const MIN_ECHO: usize = 12;
    if secret.is_empty() {
        return text.to_owned();
    }
    let mut out = text.replace(secret, "[redacted]");
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() > MIN_ECHO {
        // Every window of MIN_ECHO characters of the key, longest matches first is not
        // needed: replacing every window found removes every echoed run that long.
        for start in 0..=chars.len() - MIN_ECHO {
            let window: String = chars[start..start + MIN_ECHO].iter().collect();
            if out.contains(&window) {
                out = out.replace(&window, "[redacted]");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn providers(settings: LlmSettings, env: &[(&str, &str)]) -> Providers {
        let env: BTreeMap<String, String> =
            env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Providers::new(settings, |name| env.get(name).cloned())
    }

    #[test]
    fn the_environment_wins_over_the_config_which_wins_over_the_default() {
        let mut settings = LlmSettings::default();
        settings.base_url.insert("openai".into(), "http://config.example/v1/".into());
        settings.base_url.insert("ollama".into(), "http://gpu-box:11434/v1".into());
        settings.api_key.insert("openai".into(), ApiKey("sk-config".into()));
        let p = providers(settings.clone(), &[("OPENAI_BASE_URL", "http://env.example/v1")]);
        let e = p.endpoint(&ModelRef::parse("openai/gpt-4o-mini").unwrap()).unwrap();
        assert_eq!(e.base_url, "http://env.example/v1");
        assert_eq!(e.key.unwrap().expose(), "sk-config");
        let e = p.endpoint(&ModelRef::parse("ollama/llama3.2").unwrap()).unwrap();
        assert_eq!((e.base_url.as_str(), e.key.is_none()), ("http://gpu-box:11434/v1", true));

        let p = providers(settings, &[("OPENAI_API_KEY", "sk-env")]);
        let e = p.endpoint(&ModelRef::parse("openai/gpt-4o").unwrap()).unwrap();
        assert_eq!(
            (e.base_url.as_str(), e.key.unwrap().expose()),
            ("http://config.example/v1", "sk-env")
        );
        let e = p.endpoint(&ModelRef::parse("anthropic/claude-haiku-4-5").unwrap());
        assert!(
            matches!(&e, Err(LlmError::MissingKey { env, .. }) if env == "ANTHROPIC_API_KEY"),
            "{e:?}"
        );
    }

    #[test]
    fn a_configured_provider_is_an_openai_compatible_server() {
        let mut settings = LlmSettings::default();
        settings.base_url.insert("together".into(), "https://api.together.xyz/v1".into());
        let p = providers(settings, &[("TOGETHER_API_KEY", "k-123")]);
        let e = p.endpoint(&ModelRef::parse("together/meta-llama/Llama-3-8b").unwrap()).unwrap();
        assert_eq!((e.api, e.model.name()), (Api::OpenAiChat, "meta-llama/Llama-3-8b"));
        assert!(e.key.is_some());
        let e = p.endpoint(&ModelRef::parse("nobody/x").unwrap());
        assert!(matches!(e, Err(LlmError::UnknownProvider { .. })));
    }

    #[test]
    fn the_default_model_follows_the_config_then_the_keys() {
        let p = providers(LlmSettings::default(), &[]);
        assert_eq!(p.default_model(), Err(LlmError::NoModel));
        let p = providers(LlmSettings::default(), &[("OPENAI_API_KEY", "sk-1")]);
        assert_eq!(p.default_model().unwrap().to_string(), "openai/gpt-4o-mini");
        let p = providers(
            LlmSettings::default(),
            &[("OPENAI_API_KEY", "sk-1"), ("ANTHROPIC_API_KEY", "a")],
        );
        assert_eq!(p.default_model().unwrap().provider(), "anthropic");
        let settings =
            LlmSettings { default_model: Some("ollama/llama3.2".into()), ..LlmSettings::default() };
        let p = providers(settings, &[("ANTHROPIC_API_KEY", "a")]);
        assert_eq!(p.default_model().unwrap().to_string(), "ollama/llama3.2");
    }

    #[test]
    fn base_urls_with_credentials_or_other_schemes_are_refused() {
        for url in ["ftp://x", "http://user:pw@host/v1", "localhost:11434", "http://", "http://a b"]
        {
            assert!(check_base_url("ollama", url).is_err(), "{url}");
        }
        assert_eq!(
            check_base_url("ollama", "http://127.0.0.1:9/v1/").unwrap(),
            "http://127.0.0.1:9/v1"
        );
    }

    #[test]
    fn keys_are_scrubbed_whole_and_in_echoed_parts() {
        let key = ApiKey::new("sk-proj-abcdefghijklmnopqrstuvwxyz0123").unwrap();
        assert_eq!(format!("{key:?}"), "ApiKey([redacted])");
        let text = "Incorrect API key provided: sk-proj-abcdefghijklmnopqrstuvwxyz0123.";
        assert_eq!(key.scrub(text), "Incorrect API key provided: [redacted].");
        let echoed = key.scrub("key ...efghijklmnopqrst... is wrong");
        assert!(!echoed.contains("ijklmnopqrst"), "{echoed}");
        assert_eq!(key.scrub("sk-proj-a is a short prefix"), "sk-proj-a is a short prefix");
    }

    #[test]
    fn the_list_names_where_keys_come_from_never_the_keys() {
        let p = providers(LlmSettings::default(), &[("OPENAI_API_KEY", "sk-secret-1")]);
        let list = p.list();
        let openai = list.iter().find(|s| s.name == "openai").unwrap();
        assert_eq!(openai.key_from.as_deref(), Some("OPENAI_API_KEY"));
        assert!(!format!("{list:?}{p:?}").contains("sk-secret-1"));
    }
}
