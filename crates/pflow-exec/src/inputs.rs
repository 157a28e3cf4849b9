//! Workflow inputs: checking a run's inputs against the declared ones, and coercing
//! command-line text (`n=3`) to the declared types.

use pflow_ir::{InputSpec, ValueType, WorkflowIr};
use serde_json::{Map, Value};

use crate::{CoerceError, InputErrors, InputProblem};

/// Checks `provided` against the inputs `ir` declares and fills in the rest.
///
/// Unknown names, missing required inputs and values of the wrong type are errors, all
/// reported together. An optional input that is not given takes its `default`, or `null`
/// when it has none (so `${name}` resolves, to nothing when interpolated). The result is
/// in declaration order.
pub fn check_inputs(
    ir: &WorkflowIr,
    mut provided: Map<String, Value>,
) -> Result<Map<String, Value>, InputErrors> {
    let mut problems = Vec::new();
    for name in provided.keys() {
        if !ir.inputs.contains_key(name) {
            let suggestions = pflow_ir::closest(name, ir.inputs.keys().map(String::as_str))
                .into_iter()
                .map(str::to_owned)
                .collect();
            problems.push(InputProblem::Unknown { name: name.clone(), suggestions });
        }
    }
    let mut checked = Map::with_capacity(ir.inputs.len());
    for (name, spec) in &ir.inputs {
        match provided.remove(name) {
            Some(value) => {
                if let Some(expected) = spec.ty
                    && !expected.matches(&value)
                {
                    let found = ValueType::name_of(&value);
                    problems.push(InputProblem::WrongType { name: name.clone(), expected, found });
                }
                checked.insert(name.clone(), value);
            }
            None if spec.default.is_some() => {
                checked.insert(name.clone(), spec.default.clone().unwrap_or(Value::Null));
            }
            None if spec.is_required() => {
                problems.push(InputProblem::Missing { name: name.clone() })
            }
            None => {
                checked.insert(name.clone(), Value::Null);
            }
        }
    }
    if problems.is_empty() {
        Ok(checked)
    } else {
        Err(InputErrors { problems, accepted: describe_inputs(ir) })
    }
}

/// One short line per declared input, for hints: `` `text` (string, required) ``,
/// `` `n` (integer, default `3`) ``, `` `verbose` (boolean, optional) ``.
pub fn describe_inputs(ir: &WorkflowIr) -> Vec<String> {
    ir.inputs.iter().map(|(name, spec)| describe(name, spec)).collect()
}

/// Turns command-line text into a JSON value of the declared type.
///
/// - `string`: the text as it is.
/// - `number` / `integer`: a JSON number (`3`, `-2.5`, `1e3`); `integer` refuses a
///   fractional part.
/// - `boolean`: `true` or `false` (any case).
/// - `object` / `array`: JSON text of that type (`{"a":1}`, `[1,2]`).
/// - no declared type: JSON when the text parses as an object, array, number or boolean,
///   else the text as a string (so `name=null` is the string `null`).
pub fn coerce_input(text: &str, ty: Option<ValueType>) -> Result<Value, CoerceError> {
    let fail = |expected: ValueType, detail: Option<String>| CoerceError {
        value: text.to_owned(),
        expected,
        detail,
    };
    match ty {
        None => Ok(match serde_json::from_str::<Value>(text) {
            Ok(
                value @ (Value::Object(_) | Value::Array(_) | Value::Number(_) | Value::Bool(_)),
            ) => value,
            _ => Value::String(text.to_owned()),
        }),
        Some(ValueType::String) => Ok(Value::String(text.to_owned())),
        Some(ValueType::Boolean) => match text.to_ascii_lowercase().as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(fail(ValueType::Boolean, Some("expected `true` or `false`".to_owned()))),
        },
        Some(expected @ (ValueType::Number | ValueType::Integer)) => {
            match serde_json::from_str::<Value>(text.trim()) {
                Ok(value @ Value::Number(_)) if expected.matches(&value) => Ok(value),
                Ok(Value::Number(_)) => {
                    Err(fail(expected, Some("it has a fractional part".to_owned())))
                }
                _ => Err(fail(expected, None)),
            }
        }
        Some(expected @ (ValueType::Object | ValueType::Array)) => {
            match serde_json::from_str::<Value>(text) {
                Ok(value) if expected.matches(&value) => Ok(value),
                Ok(other) => Err(fail(
                    expected,
                    Some(format!("it is JSON of type {}", ValueType::name_of(&other))),
                )),
                Err(e) => Err(fail(expected, Some(e.to_string()))),
            }
        }
    }
}

fn describe(name: &str, spec: &InputSpec) -> String {
    let ty = spec.ty.map_or("any", ValueType::as_str);
    match &spec.default {
        Some(default) => format!("`{name}` ({ty}, default `{default}`)"),
        None if spec.is_required() => format!("`{name}` ({ty}, required)"),
        None => format!("`{name}` ({ty}, optional)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[track_caller]
    fn check(text: &str, ty: Option<ValueType>, expected: Result<Value, &str>) {
        let got = coerce_input(text, ty).map_err(|e| e.to_string());
        assert_eq!(got, expected.map_err(str::to_owned), "coerce {text:?} as {ty:?}");
    }

    #[test]
    fn coercion() {
        use ValueType::{Array, Boolean, Integer, Number, Object};
        let text = Some(ValueType::String);
        check("3", Some(Integer), Ok(json!(3)));
        check("-3", Some(Integer), Ok(json!(-3)));
        check("3.5", Some(Integer), Err("`3.5` is not a valid integer (it has a fractional part)"));
        check("abc", Some(Integer), Err("`abc` is not a valid integer"));
        check("3.5", Some(Number), Ok(json!(3.5)));
        check("1e3", Some(Number), Ok(json!(1000.0)));
        check("true", Some(Boolean), Ok(json!(true)));
        check("FALSE", Some(Boolean), Ok(json!(false)));
        check(
            "yes",
            Some(Boolean),
            Err("`yes` is not a valid boolean (expected `true` or `false`)"),
        );
        check("{\"a\":1}", Some(Object), Ok(json!({"a": 1})));
        check("[1]", Some(Object), Err("`[1]` is not a valid object (it is JSON of type array)"));
        check("[1, 2]", Some(Array), Ok(json!([1, 2])));
        check("42", text, Ok(json!("42")));
        check("", text, Ok(json!("")));
        check("42", None, Ok(json!(42)));
        check("true", None, Ok(json!(true)));
        check("{\"a\":1}", None, Ok(json!({"a": 1})));
        check("null", None, Ok(json!("null")));
        check("\"quoted\"", None, Ok(json!("\"quoted\"")));
        check("hello world", None, Ok(json!("hello world")));
    }
}
