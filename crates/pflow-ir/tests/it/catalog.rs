//! A node catalog for tests, shaped like the built-in nodes of SPEC §5.3, with the same
//! param rules.

use pflow_ir::{NodeCatalog, NodeSpec, OutputDecl, ParamRules, ParamSpec, StringFormat, ValueType};

pub(crate) fn param(name: &str, ty: Option<ValueType>, required: bool) -> ParamSpec {
    ParamSpec {
        name: name.into(),
        description: format!("the {name}"),
        ty,
        required,
        default: None,
        rules: ParamRules::default(),
    }
}

fn output(name: &str, ty: Option<ValueType>) -> OutputDecl {
    OutputDecl { name: name.into(), description: format!("the {name}"), ty }
}

fn spec(name: &str, params: Vec<ParamSpec>, outputs: Vec<OutputDecl>) -> NodeSpec {
    NodeSpec {
        name: name.into(),
        description: format!("the {name} node"),
        category: "test".into(),
        params,
        outputs,
        dynamic_outputs: false,
        unavailable: None,
    }
}

/// `echo`, `shell`, `read-file`, `write-file`, `http` and `workflow`, as SPEC §5.3
/// describes them.
pub(crate) fn catalog() -> NodeCatalog {
    use ValueType::*;
    NodeCatalog::new([
        spec("echo", vec![param("message", None, false)], vec![output("message", None)]),
        spec(
            "shell",
            vec![
                param("command", Some(String), true),
                param("stdin", Some(String), false),
                param("cwd", Some(String), false),
                param("env", Some(Object), false).with_value_types([String, Number, Boolean]),
                param("timeout", Some(Number), false).with_exclusive_minimum(0),
                param("ignore_errors", Some(Boolean), false),
            ],
            vec![
                output("stdout", Some(String)),
                output("stderr", Some(String)),
                output("exit_code", Some(Integer)),
            ],
        ),
        spec(
            "read-file",
            vec![
                param("file_path", Some(String), true),
                param("encoding", Some(String), false)
                    .with_enum(["utf-8", "utf8", "latin-1", "latin1", "iso-8859-1"])
                    .ignoring_case(),
            ],
            vec![output("content", Some(String))],
        ),
        spec(
            "write-file",
            vec![
                param("file_path", Some(String), true),
                param("content", None, true),
                param("append", Some(Boolean), false),
            ],
            vec![output("file_path", Some(String)), output("bytes_written", Some(Integer))],
        ),
        spec(
            "http",
            vec![
                param("url", Some(String), true).with_format(StringFormat::HttpUrl),
                param("method", Some(String), false).with_format(StringFormat::HttpToken),
                param("headers", Some(Object), false).with_value_types([String, Number, Boolean]),
                param("body", None, false),
                param("timeout", Some(Number), false).with_exclusive_minimum(0),
            ],
            vec![output("status_code", Some(Integer)), output("body", None)],
        ),
        NodeSpec {
            dynamic_outputs: true,
            unavailable: None,
            ..spec(
                "workflow",
                vec![
                    param("workflow_name", Some(String), false),
                    param("workflow_ref", Some(String), false),
                    param("workflow_ir", Some(Object), false),
                    param("param_mapping", Some(Object), false),
                    param("output_mapping", Some(Object), false),
                    param("max_depth", Some(Integer), false).with_range(0..=64),
                ],
                vec![],
            )
        },
    ])
}
