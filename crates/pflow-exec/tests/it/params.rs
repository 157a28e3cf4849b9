//! The spec check at run time: resolved params against the built-in specs with the rule
//! validation uses, templated values that resolve to bad ones, and the `http-url` and
//! `http-token` formats compared with the HTTP client they stand for.

use pflow_exec::{Runtime, builtin_catalog, check_params};
use pflow_ir::{ParamSpec, check_param};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use ureq::http::Method;
use ureq::http::uri::{Scheme, Uri};

use crate::support::run_with;

/// The spec of param `name` of the built-in node type `ty`.
fn builtin_param(ty: &str, name: &str) -> ParamSpec {
    let catalog = builtin_catalog();
    let spec = catalog.get(ty).expect("a built-in node type");
    spec.param(name).expect("a param of the node type").clone()
}

/// Checks `params` against the spec of the built-in `ty`: empty when accepted, else the
/// error text.
#[track_caller]
fn check(ty: &str, params: Value, expected: &str) {
    let Value::Object(params) = params else { panic!("params must be an object") };
    let catalog = builtin_catalog();
    let spec = catalog.get(ty).expect("a built-in node type");
    let got = match check_params(spec, &params) {
        Ok(()) => String::new(),
        Err(e) => e.to_string(),
    };
    assert_eq!(got, expected, "\n{ty} with {params:?}");
}

#[test]
fn resolved_params_are_checked_against_the_builtin_specs() {
    let url = "https://example.com/x?y=1";
    for (ty, params, expected) in [
        (
            "shell",
            json!({"command": "true", "timeout": 0}),
            "param `timeout` must be greater than 0, found `0`",
        ),
        (
            "shell",
            json!({"command": "true", "timeout": -5}),
            "param `timeout` must be greater than 0, found `-5`",
        ),
        ("shell", json!({"command": "true", "timeout": 0.5}), ""),
        (
            "http",
            json!({"url": url, "timeout": 0}),
            "param `timeout` must be greater than 0, found `0`",
        ),
        (
            "read-file",
            json!({"file_path": "a", "encoding": "utf-16"}),
            "param `encoding` must be `utf-8`, `utf8`, `latin-1`, `latin1` or `iso-8859-1`, found `utf-16`",
        ),
        ("read-file", json!({"file_path": "a", "encoding": "Latin-1"}), ""),
        (
            "http",
            json!({"url": url, "method": "GE T"}),
            "param `method` must be an HTTP token, found `GE T`: a space is not allowed in one",
        ),
        ("http", json!({"url": url, "method": "patch"}), ""),
        (
            "http",
            json!({"url": "not a url"}),
            "param `url` must be an absolute `http://` or `https://` URL, found `not a url`",
        ),
        ("http", json!({"url": url}), ""),
        (
            "shell",
            json!({"command": "true", "env": {"A": [1]}}),
            "param `env.A` must be a string, a number or a boolean, found an array",
        ),
        ("shell", json!({"command": "true", "env": {"A": 1, "B": true, "C": "x"}}), ""),
        (
            "http",
            json!({"url": url, "headers": {"X": null}}),
            "param `headers.X` must be a string, a number or a boolean, found null",
        ),
        // The getters' rules: `null` is absent, a required param must be there.
        ("shell", json!({"command": "true", "timeout": null, "env": null}), ""),
        ("shell", json!({}), "missing required param `command`"),
        ("shell", json!({"command": 42}), "param `command` must be a string, found an integer"),
        ("write-file", json!({"file_path": "a", "content": null}), ""),
        // Params the spec does not declare are not the check's business.
        ("echo", json!({"whatever": [1]}), ""),
    ] {
        check(ty, params, expected);
    }
}

#[test]
fn every_builtin_default_passes_its_own_spec() {
    for spec in builtin_catalog().iter() {
        for param in &spec.params {
            if let Some(default) = &param.default {
                assert_eq!(check_param(param, default), Ok(()), "{}.{}", spec.name, param.name);
            }
        }
    }
}

/// Runs one node of type `ty` with `params` and the inputs `inputs` (declared without a
/// type, so any value passes); returns the run's error text.
fn fails_with(ty: &str, params: Value, inputs: Value) -> String {
    let Value::Object(given) = &inputs else { panic!("inputs must be an object") };
    let declared: Map<String, Value> = given.keys().map(|k| (k.clone(), json!({}))).collect();
    let ir = json!({
        "ir_version": "0.1.0",
        "inputs": declared,
        "nodes": [{"id": "n", "type": ty, "params": params}],
    });
    match run_with(&Runtime::builtin(), ir, inputs) {
        Ok(out) => panic!("the run succeeded with {:?}", out.outputs),
        Err(e) => e.to_string(),
    }
}

#[test]
fn templates_that_resolve_to_bad_values_fail_naming_the_param() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.txt");
    std::fs::write(&file, "text").unwrap();
    let file = file.to_str().unwrap();
    // Nothing listens on port 1: a request that got past the check would fail otherwise.
    let unreachable = "http://127.0.0.1:1/";
    for (ty, params, inputs, expected) in [
        (
            "shell",
            json!({"command": "true", "timeout": "${t}"}),
            json!({"t": 0}),
            "n: param `timeout` must be greater than 0, found `0`",
        ),
        (
            "http",
            json!({"url": unreachable, "timeout": "${t}"}),
            json!({"t": -5}),
            "n: param `timeout` must be greater than 0, found `-5`",
        ),
        (
            "read-file",
            json!({"file_path": file, "encoding": "${e}"}),
            json!({"e": "utf-16"}),
            "n: param `encoding` must be `utf-8`, `utf8`, `latin-1`, `latin1` or `iso-8859-1`, \
             found `utf-16`",
        ),
        (
            "http",
            json!({"url": unreachable, "method": "${m}"}),
            json!({"m": "GE T"}),
            "n: param `method` must be an HTTP token, found `GE T`: a space is not allowed in one",
        ),
        (
            "http",
            json!({"url": "${u}"}),
            json!({"u": "not a url"}),
            "n: param `url` must be an absolute `http://` or `https://` URL, found `not a url`",
        ),
        (
            "http",
            json!({"url": "https://${host}/x"}),
            json!({"host": ""}),
            "n: param `url` must be an absolute `http://` or `https://` URL, found \
             `https:///x`: it has no host",
        ),
        (
            "shell",
            json!({"command": "true", "env": {"A": "${a}"}}),
            json!({"a": [1]}),
            "n: param `env.A` must be a string, a number or a boolean, found an array",
        ),
        (
            "http",
            json!({"url": unreachable, "headers": "${h}"}),
            json!({"h": {"X-A": {"b": 1}}}),
            "n: param `headers.X-A` must be a string, a number or a boolean, found an object",
        ),
    ] {
        assert_eq!(fails_with(ty, params, inputs), expected);
    }
    // The `workflow` node names the param too (its own check, until its spec has the range).
    for depth in [65, -1] {
        let err = fails_with(
            "workflow",
            json!({"workflow_ir": {"ir_version": "0.1.0", "nodes": [{"id": "e", "type": "echo"}]},
                   "max_depth": "${d}"}),
            json!({"d": depth}),
        );
        assert!(err.contains("param `max_depth`") && err.contains(&depth.to_string()), "{err}");
    }
}

#[test]
fn valid_templated_values_run() {
    let out = run_with(
        &Runtime::builtin(),
        json!({"ir_version": "0.1.0", "inputs": {"t": {}, "v": {}},
            "nodes": [{"id": "sh", "type": "shell",
                "params": {"command": "printf %s \"$V\"", "timeout": "${t}", "env": {"V": "${v}"}}}]}),
        json!({"t": 0.5, "v": true}),
    )
    .unwrap();
    assert_eq!(out.outputs["stdout"], json!("true"));
}

/// Whether the runtime's HTTP client takes `url`: `Request::builder().uri(url)` parses it
/// (`Uri::try_from`), with an `http` or `https` scheme and a host to connect to.
fn client_takes_url(url: &str) -> bool {
    let Ok(uri) = Uri::try_from(url) else { return false };
    let web = uri.scheme() == Some(&Scheme::HTTP) || uri.scheme() == Some(&Scheme::HTTPS);
    web && uri.host().is_some_and(|host| !host.is_empty())
}

/// Strings around URL syntax: a scheme (or a near miss) and a tail from characters that
/// mean something to a URL parser, with some that a URL may not hold.
fn url_like() -> impl Strategy<Value = String> {
    let scheme = prop_oneof![
        4 => Just("http://"),
        4 => Just("https://"),
        1 => Just("HTTPS://"),
        1 => Just("http:/"),
        1 => Just("ftp://"),
        1 => Just("socks5://"),
        1 => Just(""),
    ];
    let tail = proptest::collection::vec(
        prop_oneof![
            6 => "[a-z0-9.]{1,4}",
            8 => proptest::sample::select(vec![
                ":", "@", "[", "]", "%", "/", "?", "#", " ", "\"", "<", ">", "\\", "^", "`", "{",
                "|", "}", "~", "-", "_", "!", "$", "&", "'", "(", ")", "*", "+", ",", ";", "=",
                "\t", "\u{7f}", "é", "::1", ":8080", "%41",
            ])
            .prop_map(str::to_owned),
        ],
        0..12,
    );
    (scheme, tail).prop_map(|(scheme, tail)| format!("{scheme}{}", tail.concat()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn the_url_format_accepts_what_the_client_takes(url in url_like()) {
        let spec = builtin_param("http", "url");
        let accepted = check_param(&spec, &json!(url)).is_ok();
        prop_assert_eq!(accepted, client_takes_url(&url), "{:?}", url);
    }

    #[test]
    fn the_token_format_accepts_what_the_client_takes(method in "[ -~\t\n\u{80}-\u{10ff}]{0,8}") {
        let spec = builtin_param("http", "method");
        let accepted = check_param(&spec, &json!(method)).is_ok();
        let client = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).is_ok();
        prop_assert_eq!(accepted, client, "{:?}", method);
    }
}
