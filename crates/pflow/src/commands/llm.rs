//! `pflow llm`: the model providers, and the `llm` node's setup every front end uses.

use std::sync::Arc;

use clap::{Args, Subcommand};
use pflow_exec::{LlmSetup, Registry, Runtime};
use pflow_llm::{Providers, ReplyCache};
use serde_json::json;

use crate::cli::GlobalArgs;
use crate::commands::Outcome;
use crate::exit;
use crate::output::Output;

/// The model providers of the `llm` node
#[derive(Debug, Args)]
pub(crate) struct LlmArgs {
    #[command(subcommand)]
    command: LlmCommand,
}

#[derive(Debug, Subcommand)]
enum LlmCommand {
    Models(ModelsArgs),
}

/// What is configured: each provider's base URL and where its key comes from (never the
/// key), and the default model
///
/// Keys and base URLs come from the variables the official SDKs read (`OPENAI_API_KEY`,
/// `OPENAI_BASE_URL`, `ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`, …), else the `[llm]`
/// table of the home's config.toml, else the provider's default (docs/llm.md).
#[derive(Debug, Args)]
struct ModelsArgs {
    /// Print JSON on stdout
    #[arg(long)]
    json: bool,
}

/// Runs a `pflow llm` subcommand.
pub(crate) fn run(args: LlmArgs, global: &GlobalArgs, out: &Output) -> Outcome {
    let LlmCommand::Models(args) = args.command;
    let providers = providers(global)?;
    let default = providers.default_model().map(|m| m.to_string()).ok();
    let list = providers.list();
    if args.json {
        let rows: Vec<_> = list
            .iter()
            .map(|p| {
                json!({
                    "provider": p.name,
                    "base_url": p.base_url,
                    "base_url_from": p.base_url_from,
                    "key_from": p.key_from,
                    "needs_key": p.needs_key,
                    "usable": p.key_from.is_some() || !p.needs_key,
                })
            })
            .collect();
        let value = json!({"default_model": default, "providers": rows});
        out.data(&serde_json::to_string_pretty(&value).expect("JSON values serialize"))?;
        return Ok(exit::SUCCESS);
    }
    let rows: Vec<[String; 3]> = list
        .iter()
        .map(|p| {
            let key = match (&p.key_from, p.needs_key) {
                (Some(from), _) => format!("set ({from})"),
                (None, true) => "missing".to_owned(),
                (None, false) => "not needed".to_owned(),
            };
            let url = if p.base_url_from == "default" {
                p.base_url.clone()
            } else {
                format!("{} ({})", p.base_url, p.base_url_from)
            };
            [p.name.clone(), url, key]
        })
        .collect();
    let mut text = crate::table::render(["PROVIDER", "BASE URL", "KEY"], &rows);
    text.push_str(&format!(
        "\ndefault model: {}\n",
        default.as_deref().unwrap_or("none (give the node a `model`, or set one up: docs/llm.md)")
    ));
    out.data(text.trim_end())?;
    Ok(exit::SUCCESS)
}

/// The providers: the process environment and the home's `[llm]` table.
pub(crate) fn providers(global: &GlobalArgs) -> anyhow::Result<Providers> {
    // Without a home there is no config: the environment alone decides.
    let settings = match crate::store::home(global) {
        Ok(_) => crate::store::home_config(global)?.llm,
        Err(_) => pflow_llm::LlmSettings::default(),
    };
    Ok(Providers::new(settings, |name| std::env::var(name).ok()))
}

/// The `llm` node's setup: the providers, and the reply cache in `<home>/cache/llm`
/// unless `no_cache`.
pub(crate) fn setup(global: &GlobalArgs, no_cache: bool) -> anyhow::Result<Arc<LlmSetup>> {
    let providers = providers(global)?;
    let cache = match (no_cache, crate::store::home(global)) {
        (false, Ok(home)) => Some(ReplyCache::new(home.join("cache").join("llm"))),
        _ => None,
    };
    Ok(Arc::new(LlmSetup::new(providers, cache)))
}

/// The built-in runtime, its `llm` node calling with `setup`.
pub(crate) fn runtime(setup: &Arc<LlmSetup>) -> Runtime {
    let mut registry = Registry::builtin();
    registry.register(pflow_exec::llm_node(Arc::clone(setup)));
    Runtime::new(registry)
}
