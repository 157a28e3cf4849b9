//! Choosing and opening the workflow store: the one place that decides where saved
//! workflows live (SPEC §4.6).
//!
//! The store is `--store STORE`, else `PFLOW_STORE` (`cli::parse` reads both into
//! [`GlobalArgs::store`]), else `store = "…"` in `<home>/config.toml`, else the filesystem
//! store in the pflow home (`--home DIR`, else `PFLOW_HOME`, else `~/.pflow`). STORE is a
//! directory — a pflow home — or a PostgreSQL URI (`postgres://…`, `postgresql://…`).
//! Every command that touches saved workflows (`workflow`, `run`, `context`, `store`, the
//! MCP server) gets its [`WorkflowManager`] from [`open_manager`], so they all mean the
//! same thing by it.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use pflow_ir::NodeCatalog;
use pflow_store::{FsStore, MemoryStore, WorkflowManager, WorkflowStore};
use pflow_store_postgres::PgStore;
use serde::Deserialize;

use crate::cli::GlobalArgs;
use crate::report::CliError;

/// The file in the pflow home that may name the store.
pub(crate) const CONFIG_FILE: &str = "config.toml";

/// The largest config file read.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// Where saved workflows live.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum StoreSpec {
    /// A pflow home: the filesystem store in its `workflows/`.
    Home(PathBuf),
    /// A PostgreSQL connection URI. It may hold a password: show it with
    /// [`StoreSpec::display`] only.
    Postgres(String),
}

impl StoreSpec {
    /// The store `text` names: a PostgreSQL URI, or a directory (a relative one is taken
    /// from `base`, else made absolute against the current directory).
    pub(crate) fn parse(text: &OsStr, base: Option<&Path>) -> StoreSpec {
        if let Some(uri) = text.to_str().filter(|t| pflow_store_postgres::is_postgres_uri(t)) {
            return StoreSpec::Postgres(uri.to_owned());
        }
        let path = PathBuf::from(text);
        let path = match base {
            Some(base) if path.is_relative() => base.join(path),
            _ => path,
        };
        // Only a vanished current directory makes `absolute` fail; the relative path
        // still works for what follows, so keep it as given.
        StoreSpec::Home(std::path::absolute(&path).unwrap_or(path))
    }

    /// The store for people: the home directory, or the URI with its password hidden.
    pub(crate) fn display(&self) -> String {
        match self {
            StoreSpec::Home(home) => home.display().to_string(),
            StoreSpec::Postgres(uri) => pflow_store_postgres::redact(uri),
        }
    }
}

impl fmt::Debug for StoreSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreSpec::Home(home) => f.debug_tuple("Home").field(home).finish(),
            StoreSpec::Postgres(_) => f.debug_tuple("Postgres").field(&self.display()).finish(),
        }
    }
}

/// What chose the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Chosen {
    /// `--store`.
    Flag,
    /// `PFLOW_STORE`.
    Env,
    /// `store = "…"` in this config file.
    Config(PathBuf),
    /// Nothing: the pflow home.
    Home,
}

impl fmt::Display for Chosen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Chosen::Flag => f.write_str("--store"),
            Chosen::Env => f.write_str("PFLOW_STORE"),
            Chosen::Config(path) => write!(f, "{}", path.display()),
            Chosen::Home => f.write_str("the pflow home"),
        }
    }
}

/// A store of a known backend, opened.
#[derive(Debug, Clone)]
pub(crate) enum Opened {
    /// The filesystem store in a pflow home.
    Fs(Arc<FsStore>),
    /// A PostgreSQL store.
    Postgres(Arc<PgStore>),
}

impl Opened {
    /// The store, for the manager.
    pub(crate) fn store(&self) -> Arc<dyn WorkflowStore> {
        match self {
            Opened::Fs(store) => store.clone(),
            Opened::Postgres(store) => store.clone(),
        }
    }

    /// A manager over it, checking the workflows it saves against the built-in node types.
    pub(crate) fn manager(&self) -> WorkflowManager {
        WorkflowManager::new(self.store()).with_catalog(node_catalog())
    }

    /// The backend's name, as `store info` shows it.
    pub(crate) fn backend(&self) -> &'static str {
        match self {
            Opened::Fs(_) => "filesystem",
            Opened::Postgres(_) => "postgresql",
        }
    }
}

/// The manager over the store in use (see the module docs), checking the workflows it
/// saves against the built-in node types.
///
/// Opening does no IO: a filesystem home is created on the first write, a database is
/// connected to by the first call that needs it. Reading `<home>/config.toml` is the
/// exception, when neither `--store` nor `PFLOW_STORE` is given.
pub(crate) fn open_manager(global: &GlobalArgs) -> anyhow::Result<WorkflowManager> {
    let (spec, _) = selected(global)?;
    Ok(open(&spec)?.manager())
}

/// The manager for commands that only check workflows (`validate`): over the store in
/// use (reads never create anything), or over an empty store when none can be found, so
/// that there are no saved workflows to call.
pub(crate) fn open_for_checks(global: &GlobalArgs) -> WorkflowManager {
    match open_manager(global) {
        Ok(manager) => manager,
        Err(_) => WorkflowManager::new(Arc::new(MemoryStore::new())).with_catalog(node_catalog()),
    }
}

/// Opens the store `spec` names. Refuses a URI that cannot be used; does no IO.
pub(crate) fn open(spec: &StoreSpec) -> anyhow::Result<Opened> {
    Ok(match spec {
        StoreSpec::Home(home) => Opened::Fs(Arc::new(FsStore::new(home))),
        StoreSpec::Postgres(uri) => Opened::Postgres(Arc::new(PgStore::open(uri)?)),
    })
}

/// The store in use and what chose it: `--store` or `PFLOW_STORE`, else the config file
/// of the home, else the home.
pub(crate) fn selected(global: &GlobalArgs) -> anyhow::Result<(StoreSpec, Chosen)> {
    if let Some(arg) = &global.store {
        let chosen = if arg.from_env { Chosen::Env } else { Chosen::Flag };
        return Ok((StoreSpec::parse(&arg.value, None), chosen));
    }
    let home = home(global)?;
    let config = home.join(CONFIG_FILE);
    if let Some(store) = configured_store(&config)? {
        return Ok((StoreSpec::parse(OsStr::new(&store), Some(&home)), Chosen::Config(config)));
    }
    Ok((StoreSpec::Home(home), Chosen::Home))
}

/// The node types workflows are validated against: the built-in registry's.
pub(crate) fn node_catalog() -> Arc<NodeCatalog> {
    static CATALOG: OnceLock<Arc<NodeCatalog>> = OnceLock::new();
    CATALOG.get_or_init(|| Arc::new(pflow_exec::builtin_catalog())).clone()
}

/// The pflow home: `--home DIR`, else `PFLOW_HOME` (`cli::parse` reads both into
/// [`GlobalArgs::home`]), else `~/.pflow`.
///
/// A relative directory is made absolute against the current directory, so that the
/// paths pflow prints can be used from anywhere. An empty value counts as unset.
pub(crate) fn home(global: &GlobalArgs) -> anyhow::Result<PathBuf> {
    if let Some(dir) = global.home.as_ref().filter(|d| !d.as_os_str().is_empty()) {
        // Only a vanished current directory makes `absolute` fail; the relative path
        // still works for the operations that follow, so keep it as given.
        return Ok(std::path::absolute(dir).unwrap_or_else(|_| dir.clone()));
    }
    pflow_store::default_home().ok_or_else(|| {
        CliError::new("cannot find a home directory to keep workflows in")
            .hint("set `PFLOW_HOME` or pass `--home DIR`")
            .into()
    })
}

/// What `<home>/config.toml` holds.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    /// The store: a directory or a PostgreSQL URI.
    store: Option<String>,
    /// The `[llm]` table: the default model, base URLs and keys of providers.
    #[serde(default)]
    pub(crate) llm: pflow_llm::LlmSettings,
}

/// The `store` the config file at `path` names; `None` when there is no file or it names
/// none.
fn configured_store(path: &Path) -> anyhow::Result<Option<String>> {
    Ok(read_config(path)?.store.filter(|s| !s.is_empty()))
}

/// The config file of the home (`Config::default()` when there is none).
pub(crate) fn home_config(global: &GlobalArgs) -> anyhow::Result<Config> {
    read_config(&home(global)?.join(CONFIG_FILE))
}

/// The config file at `path`; the default when there is no file.
fn read_config(path: &Path) -> anyhow::Result<Config> {
    let bytes = match pflow_fsio::read_regular_file(path, MAX_CONFIG_BYTES) {
        Ok(bytes) => bytes,
        // No file; or a home that is not a directory, which the store reports itself.
        Err(e) if e.is_not_found() => return Ok(Config::default()),
        Err(pflow_fsio::ReadFileError::Io(e)) if e.kind() == std::io::ErrorKind::NotADirectory => {
            return Ok(Config::default());
        }
        Err(e) => {
            return Err(CliError::new(format!("cannot read the config `{}`: {e}", path.display()))
                .hint("make it a readable file, or remove it")
                .into());
        }
    };
    let invalid = |why: String| -> anyhow::Error {
        CliError::new(format!("invalid config `{}`: {why}", path.display()))
            .hint(
                "it holds `store = \"DIR\"` or `store = \"postgres://…\"`, an `[llm]` table \
                 (docs/llm.md), or nothing",
            )
            .into()
    };
    let text = String::from_utf8(bytes).map_err(|_| invalid("not UTF-8 text".to_owned()))?;
    basic_toml::from_str(&text).map_err(|e| invalid(toml_problem(&e)))
}

/// What is wrong with a config file, without quoting its text (which may hold a
/// password): the parser's message up to any quoted part.
fn toml_problem(error: &basic_toml::Error) -> String {
    let text = error.to_string();
    if text.starts_with("unknown field") {
        return "unknown field (the fields are `store` and the `[llm]` table's `default_model`, \
                `base_url` and `api_key`)"
            .to_owned();
    }
    let cut = text.find(['`', '"', '\'']).map_or(text.as_str(), |at| &text[..at]);
    cut.trim_end_matches([' ', ':', ',']).to_owned()
}

/// `--store`'s value, and whether it came from `PFLOW_STORE`.
#[derive(Clone)]
pub(crate) struct StoreArg {
    /// The directory or URI, as given.
    pub(crate) value: OsString,
    /// Whether `PFLOW_STORE` gave it (not `--store`).
    pub(crate) from_env: bool,
}

impl StoreArg {
    /// A value of `--store`.
    pub(crate) fn flag(value: OsString) -> StoreArg {
        StoreArg { value, from_env: false }
    }
}

// The value may be a URI with a password: never print it.
impl fmt::Debug for StoreArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let spec = StoreSpec::parse(&self.value, None);
        f.debug_struct("StoreArg").field("value", &spec.display()).finish()
    }
}
