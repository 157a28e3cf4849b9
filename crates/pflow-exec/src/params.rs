//! A node's resolved params, with typed getters whose errors name the param, and the
//! check of resolved params against a node's spec.

use std::time::Duration;

use pflow_ir::{NodeSpec, ValueType, check_param};
use serde_json::{Map, Value};

use crate::NodeError;

// Validation bounds `max_depth` by its own constant when the catalog has no `workflow`
// spec; the two must be the same number.
const _: () = assert!(crate::MAX_DEPTH_LIMIT == pflow_ir::MAX_WORKFLOW_DEPTH);

/// The longest timeout a node honours (a year); a larger `timeout` param means the same.
pub(crate) const MAX_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 3600);

/// Checks resolved params against a node's spec with the rule validation applies to
/// literal values ([`check_param`]): every required param is present, and every param
/// the spec declares has a value of its type that its rules accept (`null` counts as
/// absent). Params the spec does not declare are left alone.
///
/// The error names the param and the bad value (``param `timeout` must be greater than 0,
/// found `0` ``), so a template that resolves to a value validation would have refused
/// fails the same way.
pub fn check_params(spec: &NodeSpec, params: &Map<String, Value>) -> Result<(), NodeError> {
    for param in &spec.params {
        match params.get(&param.name) {
            None if param.required => {
                return Err(NodeError::new(format!("missing required param `{}`", param.name)));
            }
            None => {}
            Some(value) => check_param(param, value).map_err(|problem| {
                NodeError::new(format!(
                    "param `{}` {}",
                    problem.subject(&param.name),
                    problem.message
                ))
            })?,
        }
    }
    Ok(())
}

/// The params a node runs with: templates resolved, defaults from its spec filled in.
///
/// The getters treat an explicit `null` like an absent param, and fail with a message
/// naming the param when the value has the wrong type (a template can produce any type,
/// so the check happens again at run time).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params(Map<String, Value>);

impl Params {
    /// Wraps resolved params.
    pub fn new(map: Map<String, Value>) -> Params {
        Params(map)
    }

    /// Every param.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// The value of a param; `None` when absent or `null`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    /// A string param that must be present.
    pub fn required_str(&self, name: &str) -> Result<&str, NodeError> {
        self.str(name)?.ok_or_else(|| NodeError::new(format!("missing required param `{name}`")))
    }

    /// A string param.
    pub fn str(&self, name: &str) -> Result<Option<&str>, NodeError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(wrong_type(name, ValueType::String, other)),
        }
    }

    /// A boolean param.
    pub fn bool(&self, name: &str) -> Result<Option<bool>, NodeError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(wrong_type(name, ValueType::Boolean, other)),
        }
    }

    /// A number param.
    pub fn number(&self, name: &str) -> Result<Option<f64>, NodeError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(other) => Err(wrong_type(name, ValueType::Number, other)),
        }
    }

    /// A non-negative integer param.
    pub fn unsigned(&self, name: &str) -> Result<Option<u64>, NodeError> {
        match self.get(name) {
            None => Ok(None),
            // A whole number written with a fraction (`2.0`) is an integer, as the IR's
            // `integer` type says, so what validation accepts runs.
            Some(value @ Value::Number(n)) => n
                .as_u64()
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= u64::MAX as f64)
                        .map(|f| f as u64)
                })
                .map(Some)
                .ok_or_else(|| {
                    NodeError::new(format!(
                        "param `{name}` must be a non-negative integer, found `{value}`"
                    ))
                }),
            Some(other) => Err(wrong_type(name, ValueType::Integer, other)),
        }
    }

    /// The `timeout` param in seconds, `default_secs` when absent, as a duration.
    ///
    /// It must be positive (zero, negative and NaN are errors naming the param, worded as
    /// [`check_params`] words a `timeout` whose spec says `exclusive_minimum: 0`). Anything
    /// beyond a year means the same as a year: as good as no timeout, and small enough
    /// that clock arithmetic on it holds.
    pub fn timeout_secs(&self, default_secs: f64) -> Result<Duration, NodeError> {
        let seconds = self.number("timeout")?.unwrap_or(default_secs);
        // `is_nan` too: NaN compares false with everything.
        if seconds.is_nan() || seconds <= 0.0 {
            let found = match self.get("timeout") {
                Some(value) => value.to_string(),
                None => seconds.to_string(),
            };
            return Err(NodeError::new(format!(
                "param `timeout` must be greater than 0, found `{found}`"
            )));
        }
        Ok(Duration::try_from_secs_f64(seconds).unwrap_or(MAX_TIMEOUT).min(MAX_TIMEOUT))
    }

    /// An object param.
    pub fn object(&self, name: &str) -> Result<Option<&Map<String, Value>>, NodeError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(map)),
            Some(other) => Err(wrong_type(name, ValueType::Object, other)),
        }
    }

    /// An object param whose values must be text: strings as they are, numbers and
    /// booleans as their JSON text (so `{"PORT": 8080}` works); anything else is an error,
    /// worded as [`check_params`] words it for a spec with those `value_types`.
    pub fn string_map(&self, name: &str) -> Result<Vec<(String, String)>, NodeError> {
        let Some(map) = self.object(name)? else { return Ok(Vec::new()) };
        map.iter()
            .map(|(key, value)| match value {
                Value::String(s) => Ok((key.clone(), s.clone())),
                Value::Number(_) | Value::Bool(_) => Ok((key.clone(), value.to_string())),
                other => Err(NodeError::new(format!(
                    "param `{name}.{key}` must be a string, a number or a boolean, found {}",
                    ValueType::phrase_of(other)
                ))),
            })
            .collect()
    }
}

/// A type mismatch, worded as [`check_params`] words it.
fn wrong_type(name: &str, expected: ValueType, found: &Value) -> NodeError {
    NodeError::new(format!(
        "param `{name}` must be {}, found {}",
        expected.phrase(),
        ValueType::phrase_of(found)
    ))
}
