//! Data-driven tests of `check_param`, the rule for param values that validation and the
//! runtime share, and of how param rules serialize.

use pflow_ir::{ParamSpec, ValueType, check_param};
use serde_json::{Value, json};

use crate::catalog::{catalog, param};

/// The spec of param `name` of node type `ty` in the test catalog.
fn spec(ty: &str, name: &str) -> ParamSpec {
    let catalog = catalog();
    let node = catalog.get(ty).expect("the test catalog has the node type");
    node.param(name).expect("the node type has the param").clone()
}

/// Renders the verdict: empty when accepted, else `subject: message` and the hint.
#[track_caller]
fn check(spec: &ParamSpec, value: Value, expected: &str) {
    let got = match check_param(spec, &value) {
        Ok(()) => String::new(),
        Err(problem) => {
            let mut out = format!("{}: {}", problem.subject(&spec.name), problem.message);
            if let Some(hint) = &problem.hint {
                out.push_str(&format!("\n  hint: {hint}"));
            }
            out
        }
    };
    assert_eq!(got.trim(), expected.trim(), "\nspec: {spec:?}\nvalue: {value}");
}

#[test]
fn types_come_first_and_null_counts_as_absent() {
    let timeout = spec("shell", "timeout");
    check(&timeout, json!("soon"), "timeout: must be a number, found a string");
    check(&timeout, json!(null), "");
    // A required param must have a value of its type; an untyped one takes anything.
    check(&spec("shell", "command"), json!(null), "command: must be a string, found null");
    check(&spec("write-file", "content"), json!(null), "");
    check(&spec("write-file", "content"), json!([1, "two"]), "");
}

#[test]
fn numbers_stay_within_their_bounds() {
    let timeout = spec("shell", "timeout");
    let hint = "  hint: `timeout` accepts a number greater than 0";
    check(&timeout, json!(0), &format!("timeout: must be greater than 0, found `0`\n{hint}"));
    check(&timeout, json!(-5), &format!("timeout: must be greater than 0, found `-5`\n{hint}"));
    check(&timeout, json!(-0.0), &format!("timeout: must be greater than 0, found `-0.0`\n{hint}"));
    check(&timeout, json!(0.5), "");
    check(&timeout, json!(1e-9), "");
    check(&timeout, json!(u64::MAX), "");
    check(
        &spec("http", "timeout"),
        json!(0),
        "timeout: must be greater than 0, found `0`\n  hint: `timeout` accepts a number greater than 0",
    );

    let depth = spec("workflow", "max_depth");
    let hint = "  hint: `max_depth` accepts an integer from 0 to 64";
    check(&depth, json!(65), &format!("max_depth: must be at most 64, found `65`\n{hint}"));
    check(&depth, json!(-1), &format!("max_depth: must be at least 0, found `-1`\n{hint}"));
    check(
        &depth,
        json!(i64::MIN),
        &format!("max_depth: must be at least 0, found `-9223372036854775808`\n{hint}"),
    );
    check(&depth, json!(0), "");
    check(&depth, json!(64), "");
    check(&depth, json!(64.5), "max_depth: must be an integer, found a number");

    // Every combination of bounds describes itself.
    let ranged = |p: ParamSpec| check_param(&p, &json!(-10)).unwrap_err().hint.unwrap();
    let number = || param("n", Some(ValueType::Number), false);
    assert_eq!(ranged(number().with_minimum(1)), "`n` accepts a number at least 1");
    assert_eq!(ranged(number().with_maximum(-20)), "`n` accepts a number at most -20");
    assert_eq!(
        ranged(number().with_exclusive_minimum(0).with_maximum(9)),
        "`n` accepts a number greater than 0 and at most 9"
    );
    assert_eq!(ranged(param("n", None, false).with_minimum(0)), "`n` accepts a value at least 0");
    // A bound on numbers says nothing about other values.
    check(&param("n", None, false).with_minimum(0), json!("-1"), "");
}

#[test]
fn enums_list_what_they_accept() {
    let encoding = spec("read-file", "encoding");
    check(
        &encoding,
        json!("utf-16"),
        "encoding: must be `utf-8`, `utf8`, `latin-1`, `latin1` or `iso-8859-1`, found `utf-16`
  hint: `encoding` accepts `utf-8`, `utf8`, `latin-1`, `latin1` or `iso-8859-1`, in any case",
    );
    check(
        &encoding,
        json!(""),
        "encoding: must be `utf-8`, `utf8`, `latin-1`, `latin1` or `iso-8859-1`, found ``\n  hint: `encoding` accepts `utf-8`, `utf8`, `latin-1`, `latin1` or `iso-8859-1`, in any case",
    );
    for ok in ["utf-8", "UTF-8", "Latin-1", "latin1", "ISO-8859-1", "Utf8"] {
        check(&encoding, json!(ok), "");
    }
    let exact = param("mode", Some(ValueType::String), false).with_enum(["fast", "slow"]);
    check(&exact, json!("slow"), "");
    check(
        &exact,
        json!("Slow"),
        "mode: must be `fast` or `slow`, found `Slow`\n  hint: `mode` accepts `fast` or `slow`",
    );
}

#[test]
fn http_tokens_are_what_the_client_accepts() {
    let method = spec("http", "method");
    let hint = "  hint: `method` accepts an HTTP token such as `GET` or `PATCH`: ASCII letters, digits and ``!#$%&'*+-.^_`|~``";
    check(
        &method,
        json!("GE T"),
        &format!(
            "method: must be an HTTP token, found `GE T`: a space is not allowed in one\n{hint}"
        ),
    );
    check(
        &method,
        json!(""),
        &format!("method: must be an HTTP token, found ``: it is empty\n{hint}"),
    );
    check(
        &method,
        json!("GET\n"),
        &format!(
            "method: must be an HTTP token, found `GET\n`: U+000A is not allowed in one\n{hint}"
        ),
    );
    check(
        &method,
        json!("GÉT"),
        &format!("method: must be an HTTP token, found `GÉT`: `É` is not allowed in one\n{hint}"),
    );
    check(
        &method,
        json!("GET(1)"),
        &format!(
            "method: must be an HTTP token, found `GET(1)`: `(` is not allowed in one\n{hint}"
        ),
    );
    for ok in ["GET", "patch", "M-SEARCH", "x!#$%&'*+-.^_`|~9"] {
        check(&method, json!(ok), "");
    }
}

#[test]
fn http_urls_are_absolute_with_a_host() {
    let url = spec("http", "url");
    let hint = "  hint: `url` accepts an absolute `http://` or `https://` URL with a host, such as `https://example.com/path?q=1`";
    let bad = |value: &str, why: &str| {
        let why = if why.is_empty() { String::new() } else { format!(": {why}") };
        format!(
            "url: must be an absolute `http://` or `https://` URL, found `{value}`{why}\n{hint}"
        )
    };
    for (value, why) in [
        ("not a url", ""),
        ("example.com/x", ""),
        ("/relative/path", ""),
        ("ftp://example.com/", ""),
        ("http:/example.com", ""),
        ("https://", "it has no host"),
        ("https:///path", "it has no host"),
        ("http://:8080/", "it has no host"),
        ("http://user@:8080/", "it has no host"),
        ("http://exa mple.com/", "a space is not allowed in its host"),
        ("http://exa\\mple.com/", "`\\` is not allowed in its host"),
        ("http://bücher.de/", "`ü` is not allowed in its host"),
        ("http://host:1:2/", "its host and port are malformed"),
        ("http://[::1/", "its host and port are malformed"),
        ("http://a]b/", "its host and port are malformed"),
        ("http://user@/", "its host and port are malformed"),
        ("http://ho%41st/", "its host and port are malformed"),
        ("https://example.com/a b", "a space is not allowed in its path; percent-encode it"),
        ("https://example.com/<x>", "`<` is not allowed in its path; percent-encode it"),
        ("https://example.com/?q=a b", "a space is not allowed in its query; percent-encode it"),
        ("https://example.com/?q=\"x\"", "`\"` is not allowed in its query; percent-encode it"),
        ("https://example.com/\t", "U+0009 is not allowed in its path; percent-encode it"),
    ] {
        check(&url, json!(value), &bad(value, why));
    }
    for ok in [
        "https://example.com/x?y=1",
        "http://example.com",
        "HTTPS://EXAMPLE.COM/",
        "http://127.0.0.1:8080/api",
        "http://[::1]:8080/",
        "http://user:p%40ss@example.com/",
        "https://example.com/?q=a`b{c}|^",
        "https://example.com/{\"json\":1}",
        "https://example.com/#a fragment <is> not \"read\"",
        "https://example.com/naïve?ü=1",
        "https://example.com?no-path",
    ] {
        check(&url, json!(ok), "");
    }
    // A long value is cut in the message.
    let long = format!("ftp://{}", "a".repeat(200));
    let err = check_param(&url, &json!(long)).unwrap_err();
    assert!(
        err.message.ends_with(&format!("found `ftp://{}…`", "a".repeat(74))),
        "{}",
        err.message
    );
    let too_long = format!("https://example.com/{}", "a".repeat(65535));
    let err = check_param(&url, &json!(too_long)).unwrap_err();
    assert!(err.message.ends_with(": it is longer than 65534 bytes"), "{}", err.message);
}

#[test]
fn object_values_have_the_allowed_types() {
    let env = spec("shell", "env");
    let hint = "  hint: `env` accepts an object whose values are strings, numbers or booleans";
    check(
        &env,
        json!({"A": [1]}),
        &format!("env.A: must be a string, a number or a boolean, found an array\n{hint}"),
    );
    check(
        &env,
        json!({"OK": "x", "B": null, "C": {}}),
        &format!("env.B: must be a string, a number or a boolean, found null\n{hint}"),
    );
    check(&env, json!({"A": 1, "B": true, "C": "x", "D": 0.5}), "");
    check(&env, json!({}), "");
    check(&env, json!([]), "env: must be an object, found an array");
    check(
        &spec("http", "headers"),
        json!({"X-A": {"b": 1}}),
        "headers.X-A: must be a string, a number or a boolean, found an object
  hint: `headers` accepts an object whose values are strings, numbers or booleans",
    );
}

#[test]
fn rules_serialize_inline_like_json_schema_keywords() {
    let specs = [
        spec("shell", "timeout"),
        spec("workflow", "max_depth"),
        spec("read-file", "encoding"),
        spec("http", "url"),
        spec("shell", "env"),
        spec("shell", "command"),
    ];
    let json: Vec<Value> = specs.iter().map(|s| serde_json::to_value(s).unwrap()).collect();
    assert_eq!(
        Value::Array(json.clone()),
        json!([
            {"name": "timeout", "description": "the timeout", "type": "number", "required": false, "exclusive_minimum": 0},
            {"name": "max_depth", "description": "the max_depth", "type": "integer", "required": false, "minimum": 0, "maximum": 64},
            {"name": "encoding", "description": "the encoding", "type": "string", "required": false,
             "enum": ["utf-8", "utf8", "latin-1", "latin1", "iso-8859-1"], "ignore_case": true},
            {"name": "url", "description": "the url", "type": "string", "required": true, "format": "http-url"},
            {"name": "env", "description": "the env", "type": "object", "required": false,
             "value_types": ["string", "number", "boolean"]},
            {"name": "command", "description": "the command", "type": "string", "required": true},
        ])
    );
    for (spec, value) in specs.iter().zip(json) {
        assert_eq!(&serde_json::from_value::<ParamSpec>(value).unwrap(), spec);
    }
}
