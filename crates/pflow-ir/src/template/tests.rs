//! Unit tests of template parsing and resolution.

use serde_json::{Value, json};

use super::*;

/// Renders a parse result compactly: text as a quoted string, a reference as
/// `ref(root.key[0])` (`bare(…)` for the bare form), an error as `error: message`.
fn render(text: &str) -> String {
    match parse_template(text) {
        Err(e) => format!("error: {e}"),
        Ok(t) => t
            .segments()
            .iter()
            .map(|s| match s {
                Segment::Text(t) => format!("{t:?}"),
                Segment::Ref(r) => {
                    let kind = if r.braced { "ref" } else { "bare" };
                    format!("{kind}({})", r.prefix(r.path.len()))
                }
            })
            .collect::<Vec<_>>()
            .join(" "),
    }
}

#[track_caller]
fn check(input: &str, expected: &str) {
    assert_eq!(render(input), expected, "parsing {input:?}");
}

#[test]
fn parsing() {
    check("", "");
    check("plain text", r#""plain text""#);
    check("$name", "bare(name)");
    check("${name}", "ref(name)");
    check("${read.content}", "ref(read.content)");
    check("${read-file.content}", "ref(read-file.content)");
    check("$read-file", r#"bare(read) "-file""#);
    check("${a.b[0].c}", "ref(a.b[0].c)");
    check("$a.b[0].c", "bare(a.b[0].c)");
    check("$a[12][3]", "bare(a[12][3])");
    check("Read $file.", r#""Read " bare(file) ".""#);
    check("Read $file.txt", r#""Read " bare(file.txt)"#);
    check("$a.1", r#"bare(a) ".1""#);
    check("$a[x]", r#"bare(a) "[x]""#);
    check("$a[", r#"bare(a) "[""#);
    check("$a[1", r#"bare(a) "[1""#);
    check("$$", r#""$""#);
    check("$$name", r#""$name""#);
    check("$$$name", r#""$" bare(name)"#);
    check("cost: $5", r#""cost: $5""#);
    check("$", r#""$""#);
    check("a $ b", r#""a $ b""#);
    check("$-x", r#""$-x""#);
    check("${a}${b}", "ref(a) ref(b)");
    check("x${a}y$b z", r#""x" ref(a) "y" bare(b) " z""#);
    check("$_private9", "bare(_private9)");
    check("héllo $wörld", r#""héllo " bare(w) "örld""#);
    check("${a[0]}", "ref(a[0])");
    check("${a-b.c-d}", "ref(a-b.c-d)");
}

#[test]
fn malformed_braces() {
    check("${", "error: unclosed template `${`: missing `}`");
    check("x ${a.b", "error: unclosed template `${a.b`: missing `}`");
    check("${}", "error: empty template `${}`");
    check(
        "${a b}",
        "error: malformed template `${a b}`: unexpected whitespace ' '; names hold letters, digits, `_` and `-`",
    );
    check("${a.}", "error: malformed template `${a.}`: expected a key after `.`, found `}`");
    check(
        "${a.",
        "error: malformed template `${a.`: expected a key after `.`, found the end of the string",
    );
    check("${1a}", "error: malformed template `${1a}`: expected a name after `${`, found `1`");
    check(
        "${ a}",
        "error: malformed template `${ a}`: expected a name after `${`, found whitespace ' '",
    );
    check(
        "${a[x]}",
        "error: malformed template `${a[x]}`: expected an index like `[0]` or `[${i}]`, found `x`",
    );
    check(
        "${a[]}",
        "error: malformed template `${a[]}`: expected an index like `[0]` or `[${i}]`, found `]`",
    );
    check(
        "${a[99999999999999999999999]}",
        "error: malformed template `${a[99999999999999999999999]}`: the index is too large",
    );
    check("${a.é}", "error: malformed template `${a.é}`: expected a key after `.`, found `é`");
}

#[test]
fn bare_text_is_kept_exactly() {
    let t = parse_template("$x[007].y").unwrap();
    let r = t.refs().next().unwrap();
    assert_eq!(r.text, "$x[007].y");
    assert_eq!(r.path, vec![PathStep::Index(7), PathStep::Key("y".into())]);
}

fn scope() -> Map<String, Value> {
    json!({
        "name": "world",
        "n": 3,
        "pi": 1.5,
        "flag": true,
        "nothing": null,
        "read": { "content": "hello", "lines": ["a", "b"], "meta": { "size": 5 } },
        "read-file": { "content": "dashed" },
        "items": [10, 20, {"k": "v"}],
        "zero": 0,
        "one": 1,
    })
    .as_object()
    .unwrap()
    .clone()
}

#[track_caller]
fn check_resolve(input: &str, expected: Result<Value, &str>) {
    let got = resolve_str(input, &scope()).map_err(|e| e.to_string());
    assert_eq!(got, expected.map_err(str::to_owned), "resolving {input:?}");
}

#[test]
fn resolution() {
    // A lone reference keeps its type.
    check_resolve("$n", Ok(json!(3)));
    check_resolve("${n}", Ok(json!(3)));
    check_resolve(
        "${read}",
        Ok(json!({ "content": "hello", "lines": ["a", "b"], "meta": { "size": 5 } })),
    );
    check_resolve("${read.lines}", Ok(json!(["a", "b"])));
    check_resolve("${read.lines[1]}", Ok(json!("b")));
    check_resolve("$items[2].k", Ok(json!("v")));
    check_resolve("${nothing}", Ok(Value::Null));
    check_resolve("${read-file.content}", Ok(json!("dashed")));
    // Interpolation.
    check_resolve("Hello, $name!", Ok(json!("Hello, world!")));
    check_resolve("Read $read.content.", Ok(json!("Read hello.")));
    check_resolve(
        "n=$n pi=$pi flag=$flag nothing=[$nothing]",
        Ok(json!("n=3 pi=1.5 flag=true nothing=[]")),
    );
    check_resolve("lines: ${read.lines}", Ok(json!(r#"lines: ["a","b"]"#)));
    check_resolve("meta: ${read.meta}", Ok(json!(r#"meta: {"size":5}"#)));
    // Unknown bare names stay text; `$$` is a dollar.
    check_resolve("echo $HOME", Ok(json!("echo $HOME")));
    check_resolve("$HOME", Ok(json!("$HOME")));
    check_resolve("$HOME[007]", Ok(json!("$HOME[007]")));
    check_resolve("$$name costs $5", Ok(json!("$name costs $5")));
    check_resolve("no dollars", Ok(json!("no dollars")));
    // Errors.
    check_resolve(
        "${nmae}",
        Err("`${nmae}` refers to `nmae`, which is not an input or a node that has run"),
    );
    check_resolve(
        "${read.contnt}",
        Err("`${read.contnt}`: `read` has no key `contnt` (it has `content`, `lines`, `meta`)"),
    );
    check_resolve(
        "x ${read.meta.size.big}",
        Err("`${read.meta.size.big}`: `read.meta.size` is a number, so it has no `.big`"),
    );
    check_resolve(
        "${read.lines[2]}",
        Err("`${read.lines[2]}`: index 2 is out of range, `read.lines` has 2 elements"),
    );
    check_resolve("${name[0]}", Err("`${name[0]}`: `name` is a string, so it has no `[0]`"));
    check_resolve(
        "$read.contnt",
        Err("`$read.contnt`: `read` has no key `contnt` (it has `content`, `lines`, `meta`)"),
    );
    // A bare reference takes `.key` steps, so a file extension needs braces.
    check_resolve("$name.txt", Err("`$name.txt`: `name` is a string, so it has no `.txt`"));
    check_resolve("${name}.txt", Ok(json!("world.txt")));
    check_resolve("${", Err("unclosed template `${`: missing `}`"));
}

#[test]
fn unknown_root_lists_known_names() {
    let err = resolve_str("${nmae}", &scope()).unwrap_err();
    let ResolveErrorKind::UnknownRoot { root, known, .. } = err.kind else { panic!("{err:?}") };
    assert_eq!(root, "nmae");
    assert!(known.contains(&"name".to_owned()));
}

#[test]
fn values_and_params() {
    let value = json!({ "a": ["$name", { "b": "${n}" }], "k$name": 1, "t": true });
    let resolved = resolve_value(&value, &scope()).unwrap();
    assert_eq!(resolved, json!({ "a": ["world", { "b": 3 }], "k$name": 1, "t": true }));

    let err = resolve_value(&json!({ "a": [1, { "b": "${x}" }] }), &scope()).unwrap_err();
    assert_eq!(err.path, "a[1].b");
    assert_eq!(
        err.to_string(),
        "at `a[1].b`: `${x}` refers to `x`, which is not an input or a node that has run"
    );

    let params = json!({
        "file_path": "${name}.txt",
        "env": { "N": "$n" },
        "workflow_ir": { "nodes": [{ "params": { "m": "${child_only}" } }] },
    });
    let resolved = resolve_params(params.as_object().unwrap(), &scope()).unwrap();
    assert_eq!(
        Value::Object(resolved),
        json!({
            "file_path": "world.txt",
            "env": { "N": 3 },
            "workflow_ir": { "nodes": [{ "params": { "m": "${child_only}" } }] },
        })
    );
    let err = resolve_params(json!({ "env": { "X": "${a b}" } }).as_object().unwrap(), &scope())
        .unwrap_err();
    assert_eq!(err.path, "env.X");
    assert!(matches!(err.kind, ResolveErrorKind::Syntax(TemplateError::Malformed { .. })));
}

#[test]
fn lookup_and_text() {
    let v = json!({ "a": [1, { "b": null }] });
    assert_eq!(
        lookup(&v, &[PathStep::Key("a".into()), PathStep::Index(1)]),
        Some(&json!({ "b": null }))
    );
    assert_eq!(lookup(&v, &[PathStep::Index(0)]), None);
    assert_eq!(interpolation_text(&json!(null)), "");
    assert_eq!(interpolation_text(&json!("s")), "s");
    assert_eq!(interpolation_text(&json!(2.5)), "2.5");
    assert_eq!(interpolation_text(&json!([1, "x"])), r#"[1,"x"]"#);
}

#[test]
fn coalescing_takes_the_first_operand_that_resolves() {
    check("${a ?? b.c ?? \"x\"}", "ref(a)");
    check_resolve("${missing ?? n}", Ok(json!(3)));
    check_resolve("${read.nope ?? read.lines[5] ?? n.x ?? name}", Ok(json!("world")));
    check_resolve("${missing ?? \"fallback\"}", Ok(json!("fallback")));
    check_resolve("${missing ?? 0}", Ok(json!(0)));
    check_resolve("${missing ?? -1.5}", Ok(json!(-1.5)));
    check_resolve("${missing ?? []}", Ok(json!([])));
    check_resolve("${missing ?? {}}", Ok(json!({})));
    check_resolve("${missing ?? null}", Ok(Value::Null));
    check_resolve("${missing ?? true}", Ok(json!(true)));
    check_resolve("${missing ?? \"a \\\"q\\\"\"}", Ok(json!("a \"q\"")));
    check_resolve("n=${missing??n}!", Ok(json!("n=3!")));
    // A found null ends the chain, as in 0.16.
    check_resolve("${nothing ?? n}", Ok(Value::Null));
    // No operand resolves: the first one's error.
    check_resolve(
        "${read.nope ?? missing}",
        Err(
            "`${read.nope ?? missing}`: `read` has no key `nope` (it has `content`, `lines`, `meta`)",
        ),
    );
    check(
        "${a ?? }",
        "error: malformed template `${a ?? }`: expected a name after `??`, found `}`",
    );
    check("${a ??}", "error: malformed template `${a ??}`: expected a name after `??`, found `}`");
    check("${a ?? 01x}", "error: malformed template `${a ?? 01x}`: `01` is not a JSON literal");
    check("${a ?? \"x}", "error: unclosed template `${a ?? \"x}`: missing `}`");
    check(
        "${a ? b}",
        "error: malformed template `${a ? b}`: unexpected whitespace ' '; names hold letters, digits, `_` and `-`",
    );
}

#[test]
fn indexes_may_be_templates() {
    check("${read.lines[${n}]}", "ref(read.lines[${n}])");
    check_resolve("${read.lines[${one}]}", Ok(json!("b")));
    check_resolve("${read.lines[${zero}]}-${read.lines[${one}]}", Ok(json!("a-b")));
    check_resolve(
        "${read.lines[${n}]}",
        Err("`${read.lines[${n}]}`: index 3 is out of range, `read.lines` has 2 elements"),
    );
    check_resolve(
        "${read.lines[${name}]}",
        Err(
            "`${read.lines[${name}]}`: the index `${name}` is a string, not a non-negative integer",
        ),
    );
    check_resolve("${read.lines[${n}] ?? \"none\"}", Ok(json!("none")));
    check(
        "${a[${b[${c}]}]}",
        "error: malformed template `${a[${b[${c}`: expected an index like `[0]`, found `$`",
    );
    check(
        "${a[${b ?? c}]}",
        "error: malformed template `${a[${b ?? c}`: a template index is one reference, `[${name}]`; found whitespace ' '",
    );
}
