//! Structured output: a reply checked against the node's JSON Schema, locally.

use serde_json::Value;

use crate::{LlmError, LlmResult};

/// The most violations one error lists.
const MAX_ERRORS: usize = 10;

/// A JSON Schema, compiled once, that replies are checked against.
///
/// Only self-contained schemas are accepted: a `$ref` to another document is refused
/// rather than fetched.
#[derive(Debug)]
pub struct OutputSchema {
    schema: Value,
    validator: jsonschema::Validator,
}

impl OutputSchema {
    /// Compiles `schema`; an invalid one is [`LlmError::InvalidSchema`].
    pub fn new(schema: &Value) -> LlmResult<OutputSchema> {
        if !matches!(schema, Value::Object(_) | Value::Bool(_)) {
            return Err(LlmError::InvalidSchema { why: "a JSON Schema is an object".to_owned() });
        }
        let validator = jsonschema::validator_for(schema)
            .map_err(|e| LlmError::InvalidSchema { why: describe(&e) })?;
        Ok(OutputSchema { schema: schema.clone(), validator })
    }

    /// The schema as given.
    pub fn schema(&self) -> &Value {
        &self.schema
    }

    /// The reply `text` of `model` as JSON that matches the schema; else every violation
    /// (at most ten) with its path.
    pub fn check(&self, model: &str, text: &str) -> LlmResult<Value> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| LlmError::NotJson { model: model.to_owned(), why: e.to_string() })?;
        let errors: Vec<String> =
            self.validator.iter_errors(&value).take(MAX_ERRORS).map(|e| describe(&e)).collect();
        if errors.is_empty() {
            Ok(value)
        } else {
            Err(LlmError::SchemaMismatch { model: model.to_owned(), errors })
        }
    }
}

/// A violation as `at /path: message` (`at $` for the root).
fn describe(error: &jsonschema::ValidationError<'_>) -> String {
    let path = error.instance_path().to_string();
    let at = if path.is_empty() { "$".to_owned() } else { path };
    format!("at {at}: {error}")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn replies_are_checked_with_every_violation_and_its_path() {
        let schema = OutputSchema::new(&json!({
            "type": "object",
            "properties": {"risk": {"type": "string", "enum": ["low", "high"]}, "n": {"type": "integer"}},
            "required": ["risk", "n"]
        }))
        .unwrap();
        assert_eq!(
            schema.check("m", r#"{"risk":"low","n":2}"#).unwrap(),
            json!({"risk": "low", "n": 2})
        );
        let err = schema.check("m", r#"{"risk":"mid","n":"2"}"#).unwrap_err().to_string();
        assert!(err.contains("at /risk") && err.contains("at /n"), "{err}");
        let err = schema.check("m", r#"{"risk":"low"}"#).unwrap_err().to_string();
        assert!(err.contains("at $") && err.contains("\"n\""), "{err}");
        assert!(matches!(schema.check("m", "Sure! {\"risk\"}"), Err(LlmError::NotJson { .. })));
        assert!(matches!(schema.check("m", "NaN"), Err(LlmError::NotJson { .. })));
    }

    #[test]
    fn invalid_and_remote_schemas_are_refused() {
        assert!(OutputSchema::new(&json!({"type": "objekt"})).is_err());
        assert!(OutputSchema::new(&json!("object")).is_err());
        assert!(OutputSchema::new(&json!({"$ref": "https://example.com/s.json"})).is_err());
        assert!(
            OutputSchema::new(&json!({"$defs": {"a": {"type": "string"}}, "$ref": "#/$defs/a"}))
                .is_ok()
        );
    }
}
