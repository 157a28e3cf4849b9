//! `echo`: returns its message unchanged (for wiring, tests and examples).

use pflow_ir::NodeSpec;
use serde_json::{Map, Value, json};

use super::{optional, output, spec};
use crate::{Node, NodeContext, NodeError, NodeOutcome, Params};

/// The `echo` node type.
#[derive(Debug)]
pub(crate) struct Echo {
    spec: NodeSpec,
}

impl Echo {
    pub(crate) fn new() -> Echo {
        let mut spec = spec("echo", "core", "Return the given message unchanged, of any JSON type");
        spec.params = vec![optional(
            "message",
            None,
            Some(json!("")),
            "The value to return; a single template keeps the referenced value's type",
        )];
        spec.outputs = vec![output("message", None, "The message, as given")];
        Echo { spec }
    }
}

impl Node for Echo {
    fn spec(&self) -> &NodeSpec {
        &self.spec
    }

    fn execute(&self, params: &Params, _ctx: &NodeContext<'_>) -> Result<NodeOutcome, NodeError> {
        let message = params.as_map().get("message").cloned().unwrap_or(Value::Null);
        let mut outputs = Map::with_capacity(1);
        outputs.insert("message".to_owned(), message);
        Ok(NodeOutcome::new(outputs))
    }
}
