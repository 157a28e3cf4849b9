//! The MCP server: the SDK's handler for `initialize`, `tools/list` and `tools/call`, the
//! blocking threads every tool body runs on, cancellation, progress, and shutdown.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pflow_exec::CancelFlag;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    InitializeResult, ListToolsResult, PaginatedRequestParams, ProgressNotificationParam,
    ServerCapabilities, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::Value;
use tokio::sync::Notify;

use crate::error::ToolError;
use crate::tools::{self, Library, ToolResult, execute};

/// How long, after the client closed stdin, the server waits for cancelled runs to stop.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The handler the SDK calls; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Server {
    library: Arc<Library>,
    tools: Arc<Vec<Tool>>,
    inflight: Arc<Inflight>,
    version: &'static str,
}

impl Server {
    pub(crate) fn new(library: Arc<Library>, version: &'static str) -> Server {
        Server {
            library,
            tools: Arc::new(tools::all()),
            inflight: Arc::new(Inflight::default()),
            version,
        }
    }

    pub(crate) fn inflight(&self) -> Arc<Inflight> {
        Arc::clone(&self.inflight)
    }

    /// Runs `body` on a blocking thread, counted as in flight until it returns.
    async fn blocking(
        &self,
        body: impl FnOnce(&Library) -> ToolResult + Send + 'static,
    ) -> Result<ToolResult, ErrorData> {
        let library = Arc::clone(&self.library);
        let guard = self.inflight.start();
        tokio::task::spawn_blocking(move || {
            let _guard = guard;
            body(&library)
        })
        .await
        .map_err(|e| ErrorData::internal_error(format!("the tool failed: {e}"), None))
    }

    /// `workflow_execute`: the run is stopped when the request is cancelled (or the
    /// client goes away), and with a progress token each node is reported.
    async fn execute(
        &self,
        args: tools::ExecuteArgs,
        context: RequestContext<RoleServer>,
    ) -> Result<ToolResult, ErrorData> {
        let cancel = CancelFlag::new();
        let registration = self.inflight.register(cancel.clone());
        let token = context.meta.get_progress_token();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let recorder = Arc::new(execute::Recorder::new(token.is_some().then_some(tx)));
        let flag = cancel.clone();
        let job = self.blocking(move |library| execute::run(library, args, flag, recorder));
        tokio::pin!(job);
        let mut progress = 0.0;
        let mut listening = token.is_some();
        let result = loop {
            tokio::select! {
                line = rx.recv(), if listening => match (line, &token) {
                    (Some(message), Some(token)) => {
                        progress += 1.0;
                        let param = ProgressNotificationParam::new(token.clone(), progress)
                            .with_message(message);
                        // A client that left cannot be told; the run goes on to its end.
                        let _ = context.peer.notify_progress(param).await;
                    }
                    _ => listening = false,
                },
                _ = context.ct.cancelled(), if !cancel.is_cancelled() => cancel.cancel(),
                result = &mut job => break result,
            }
        };
        // The events the run sent before it ended, in order, before the result.
        if let Some(token) = token.filter(|_| listening) {
            while let Ok(message) = rx.try_recv() {
                progress += 1.0;
                let param =
                    ProgressNotificationParam::new(token.clone(), progress).with_message(message);
                let _ = context.peer.notify_progress(param).await;
            }
        }
        drop(registration);
        result
    }
}

impl ServerHandler for Server {
    fn get_info(&self) -> InitializeResult {
        let mut info = InitializeResult::new(ServerCapabilities::builder().enable_tools().build());
        info.server_info = Implementation::new("pflow", self.version);
        info.instructions = Some(INSTRUCTIONS.to_owned());
        info
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools.as_ref().clone()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools.iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let arguments = Value::Object(request.arguments.unwrap_or_default());
        let name = request.name.as_ref();
        let result = if name == tools::EXECUTE {
            let args = tools::arguments(arguments).map_err(|m| invalid_params(name, &m))?;
            self.execute(args, context).await?
        } else {
            let body = tools::dispatch(name, arguments).map_err(|m| invalid_params(name, &m))?;
            self.blocking(body).await?
        };
        Ok(CallToolResponse::from(render(result)))
    }
}

/// What `initialize` tells the agent about this server.
const INSTRUCTIONS: &str = "pflow runs JSON workflows and keeps them by name. Find saved \
    workflows with `workflow_list`, read one's inputs with `workflow_describe`, run it with \
    `workflow_execute`. To build a new one, read `context_discover` and `context_plan` (or \
    `registry_list` and `registry_describe`), check it with `workflow_validate` and keep it \
    with `workflow_save`.";

/// A protocol error for a call the server cannot route: an unknown tool, or arguments
/// that do not fit the tool's input schema — both invalid params (-32602), as the MCP
/// specification's tools page shows them.
fn invalid_params(tool: &str, message: &str) -> ErrorData {
    if message.starts_with("unknown tool") {
        ErrorData::invalid_params(message.to_owned(), None)
    } else {
        ErrorData::invalid_params(format!("`{tool}`: {message}"), None)
    }
}

/// The result of a tool body as the call's result.
fn render(result: ToolResult) -> CallToolResult {
    match result {
        Ok(reply) => {
            let mut out = CallToolResult::structured(reply.structured);
            out.content = vec![ContentBlock::text(reply.text)];
            out
        }
        Err(error) => error_result(&error),
    }
}

fn error_result(error: &ToolError) -> CallToolResult {
    let mut out = CallToolResult::structured_error(error.structured());
    out.content = vec![ContentBlock::text(error.text())];
    out
}

/// The work in flight: how many tool bodies run on blocking threads, and the stop flag of
/// every run, so that the end of the session can stop them and wait for them.
#[derive(Debug, Default)]
pub(crate) struct Inflight {
    running: Mutex<usize>,
    idle: Notify,
    flags: Mutex<HashMap<u64, CancelFlag>>,
    next: AtomicU64,
    closing: AtomicBool,
}

/// Counts one tool body as running until dropped.
pub(crate) struct Running(Arc<Inflight>);

impl Drop for Running {
    fn drop(&mut self) {
        let mut running = self.0.running.lock().unwrap_or_else(|e| e.into_inner());
        *running -= 1;
        if *running == 0 {
            self.0.idle.notify_waiters();
        }
    }
}

/// Keeps a run's stop flag registered until dropped.
pub(crate) struct Registration(Arc<Inflight>, u64);

impl Drop for Registration {
    fn drop(&mut self) {
        self.0.flags.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.1);
    }
}

impl Inflight {
    fn start(self: &Arc<Self>) -> Running {
        *self.running.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        Running(Arc::clone(self))
    }

    fn register(self: &Arc<Self>, flag: CancelFlag) -> Registration {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        if self.closing.load(Ordering::SeqCst) {
            flag.cancel();
        }
        self.flags.lock().unwrap_or_else(|e| e.into_inner()).insert(id, flag);
        Registration(Arc::clone(self), id)
    }

    /// The client is gone: stop every run, now and from now on.
    pub(crate) fn close(&self) {
        self.closing.store(true, Ordering::SeqCst);
        for flag in self.flags.lock().unwrap_or_else(|e| e.into_inner()).values() {
            flag.cancel();
        }
    }

    /// Waits until no tool body runs, for at most [`SHUTDOWN_GRACE`].
    pub(crate) async fn drained(&self) {
        let wait = async {
            loop {
                let idle = self.idle.notified();
                tokio::pin!(idle);
                idle.as_mut().enable();
                if *self.running.lock().unwrap_or_else(|e| e.into_inner()) == 0 {
                    return;
                }
                idle.await;
            }
        };
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, wait).await;
    }
}
