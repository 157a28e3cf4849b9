//! Opening the workflow store: the one place that decides where the pflow home is.
//!
//! Every command that touches saved workflows (`workflow`, `run`, `context`, …) gets its
//! [`WorkflowManager`] from [`open_manager`], so `--home`, `PFLOW_HOME` and the default
//! `~/.pflow` mean the same thing everywhere.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use pflow_ir::NodeCatalog;
use pflow_store::{FsStore, MemoryStore, WorkflowManager};

use crate::cli::GlobalArgs;
use crate::report::CliError;

/// The manager over the filesystem store in the pflow home (see [`home`]), checking the
/// workflows it saves against the built-in node types.
///
/// Opening does no IO: the home is created on the first write.
pub(crate) fn open_manager(global: &GlobalArgs) -> anyhow::Result<WorkflowManager> {
    let home = home(global)?;
    Ok(WorkflowManager::new(Arc::new(FsStore::new(home))).with_catalog(node_catalog()))
}

/// The manager for commands that only check workflows (`validate`): over the pflow home
/// (reads never create it), or over an empty store when no home can be found, so that
/// there are no saved workflows to call.
pub(crate) fn open_for_checks(global: &GlobalArgs) -> WorkflowManager {
    match open_manager(global) {
        Ok(manager) => manager,
        Err(_) => WorkflowManager::new(Arc::new(MemoryStore::new())).with_catalog(node_catalog()),
    }
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
