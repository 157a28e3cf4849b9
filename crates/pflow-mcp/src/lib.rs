//! The pflow MCP server: the workflow library and the runtime as tools for an agent, over
//! the Model Context Protocol's stdio transport (SPEC §7.2).
//!
//! Every tool is a call into the same library the CLI uses — the
//! [`WorkflowManager`], the [`Runtime`], `pflow-context` —
//! so an agent and a person at a shell get the same behaviour; this crate parses the
//! tools' arguments and renders their results (structured content and a short text), and
//! writes the hints that name its tools.
//!
//! The protocol is spoken with the official Rust SDK (`rmcp`) on a tokio runtime that
//! lives inside [`serve`]: the rest of pflow stays synchronous, and every tool body runs
//! on a blocking thread, so many calls can be in flight at once. stdout carries only
//! protocol messages; nothing here writes to stderr but the caller's own logging.

mod error;
mod server;
mod tools;
mod transport;

use std::io::{BufRead, Write};
use std::sync::Arc;

use pflow_exec::Runtime;
use pflow_store::WorkflowManager;

pub use error::ServeError;

/// What the server serves: the store, the runtime, and the version it reports.
#[derive(Debug, Clone)]
pub struct Config {
    manager: WorkflowManager,
    runtime: Runtime,
    version: &'static str,
}

impl Config {
    /// A server over `manager` (already opened, with the node catalog it validates
    /// against) that runs workflows with `runtime` (each run gets its own stop flag,
    /// observer and the manager as resolver of saved children).
    pub fn new(manager: WorkflowManager, runtime: Runtime) -> Config {
        Config { manager, runtime, version: env!("CARGO_PKG_VERSION") }
    }

    /// The same server, reporting `version` as its own in `initialize`.
    pub fn with_version(mut self, version: &'static str) -> Config {
        self.version = version;
        self
    }
}

/// Serves one MCP session on the process's stdin and stdout, until the client closes
/// stdin; then stops every run still going (killing its shell commands), waits for them,
/// and returns.
pub fn serve(config: Config) -> Result<(), ServeError> {
    let input = std::io::BufReader::with_capacity(64 * 1024, std::io::stdin());
    serve_on(config, input, std::io::stdout())
}

/// [`serve`] on other streams: one JSON-RPC message per line read from `input`, written
/// to `output`.
pub fn serve_on(
    config: Config,
    input: impl BufRead + Send + 'static,
    output: impl Write + Send + 'static,
) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .thread_name("pflow-mcp")
        .build()
        .map_err(ServeError::Runtime)?;
    // The library outlives the runtime: its store may own a blocking client with a
    // runtime of its own (PostgreSQL's), whose drop must not run on this runtime's
    // thread ("cannot start a runtime from within a runtime"). The server's copies are
    // dropped inside `block_on`; this last one is dropped after the runtime has stopped.
    let library = Arc::new(tools::Library { manager: config.manager, runtime: config.runtime });
    let server = server::Server::new(Arc::clone(&library), config.version);
    let inflight = server.inflight();
    let writer = transport::WriterThread::start(output);
    let closing = server.inflight();
    let transport =
        transport::LineTransport::start(input, writer.handle(), move || closing.close());
    let result = runtime.block_on(async move {
        let running = match rmcp::serve_server(server, transport).await {
            Ok(running) => running,
            // The client left before it said anything: nothing to serve, nothing wrong.
            Err(rmcp::service::ServerInitializeError::ConnectionClosed(_)) => return Ok(()),
            Err(e) => return Err(ServeError::Session(e.to_string())),
        };
        // The session ends when stdin does; the reader has stopped every run by then.
        let _ = running.waiting().await;
        inflight.drained().await;
        Ok(())
    });
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    drop(library);
    writer.finish();
    result
}
