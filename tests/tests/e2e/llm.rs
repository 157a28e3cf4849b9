//! The `llm` node through the binary, against the scripted model server: outputs, the
//! usage line, the reply cache across processes, `--no-cache`, errors, and that the key
//! never appears in any output or cache file.

use std::process::Command;

use pflow_llm::testing::{Answer, ModelServer};
use pflow_tests::{Run, TestHome};

const KEY: &str = "sk-e2e-4b8d15c2a9f047e3b6d21c8e5a7f9b30";

fn workflow(model: &str, schema: bool) -> String {
    let schema = if schema {
        r#", "output_schema": {"type": "object", "properties": {"colour": {"type": "string"}}, "required": ["colour"]}"#
    } else {
        ""
    };
    format!(
        r#"{{"ir_version": "0.1.0", "inputs": {{"thing": {{"type": "string", "required": true}}}},
            "nodes": [{{"id": "ask", "type": "llm", "params": {{"prompt": "Colour of ${{thing}}?", "model": "{model}", "temperature": 0{schema}}}}}],
            "edges": []}}"#
    )
}

/// `pflow ARGS` with the server as OpenAI's and Anthropic's base URL and [`KEY`] set.
fn command(home: &TestHome, server: &ModelServer, args: &[&str]) -> Command {
    let mut cmd = home.command(args);
    cmd.env("OPENAI_API_KEY", KEY)
        .env("ANTHROPIC_API_KEY", KEY)
        .env("OPENAI_BASE_URL", server.v1())
        .env("ANTHROPIC_BASE_URL", server.url());
    cmd
}

fn run(home: &TestHome, server: &ModelServer, file: &str, extra: &[&str]) -> Run {
    let mut args = vec!["run", file, "thing=sky", "--no-save-prompt"];
    args.extend_from_slice(extra);
    let run = Run::from(command(home, server, &args).output().expect("start pflow"));
    assert_no_key(home, &run);
    run
}

/// The key is in no output and no file under the home (the cache included).
#[track_caller]
fn assert_no_key(home: &TestHome, run: &Run) {
    let needle = &KEY[7..19];
    assert!(
        !run.stdout.contains(needle) && !run.stderr.contains(needle),
        "the key leaked: {run:?}"
    );
    let mut stack = vec![home.path().to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                assert!(
                    !String::from_utf8_lossy(&bytes).contains(needle),
                    "the key is in {}",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn an_llm_node_answers_reports_usage_and_is_cached_across_processes() {
    let home = TestHome::new();
    let server = ModelServer::echo();
    let file = home.path().join("ask.json");
    std::fs::write(&file, workflow("openai/gpt-4o-mini", false)).unwrap();
    let file = file.to_str().unwrap();

    let first = run(&home, &server, file, &["--json"]);
    assert_eq!(first.code, 0, "{first:?}");
    let outputs: serde_json::Value = serde_json::from_str(&first.stdout).unwrap();
    assert_eq!(outputs["response"], "echo: Colour of sky?");
    assert_eq!(outputs["prompt"], "Colour of sky?");
    assert_eq!(outputs["llm_usage"]["model"], "openai/gpt-4o-mini");
    assert_eq!(outputs["llm_usage"]["input_tokens"], 3);
    assert_eq!(outputs["llm_usage"]["output_tokens"], 2);
    assert!(outputs["llm_usage"]["cost_usd"].as_f64().unwrap() > 0.0);
    assert!(first.stderr.contains("1 llm call, 5 tokens, $0.000002"), "{}", first.stderr);
    let sent = server.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].json()["temperature"], 0.0);
    assert_eq!(sent[0].header("authorization"), Some(format!("Bearer {KEY}").as_str()));

    // Another process gets the reply from the cache: no request, no tokens.
    let second = run(&home, &server, file, &["--json", "-v"]);
    assert_eq!(second.code, 0, "{second:?}");
    assert!(
        second
            .stderr
            .lines()
            .any(|l| l.trim_start().starts_with("✓ ask llm") && l.contains(" cached")),
        "the progress does not mark the cached call: {}",
        second.stderr
    );
    let cached: serde_json::Value = serde_json::from_str(&second.stdout).unwrap();
    assert_eq!(cached["response"], outputs["response"]);
    assert_eq!(cached["llm_usage"]["cache_source"], "memo");
    assert_eq!(cached["llm_usage"]["input_tokens"], 0);
    assert!(
        second.stderr.contains("1 llm call (1 cached), 0 tokens, $0.000000"),
        "{}",
        second.stderr
    );
    assert_eq!(server.requests().len(), 1);

    // The human output too: the reply on stdout, the usage line on stderr.
    let third = run(&home, &server, file, &[]);
    assert_eq!(third.code, 0, "{third:?}");
    assert_eq!(server.requests().len(), 1);
    assert!(third.stderr.contains("1 llm call (1 cached)"), "{}", third.stderr);

    // `--no-cache` calls the model again.
    let fourth = run(&home, &server, file, &["--no-cache"]);
    assert_eq!(fourth.code, 0, "{fourth:?}");
    assert_eq!(server.requests().len(), 2);
    assert!(fourth.stderr.contains("1 llm call, 5 tokens"), "{}", fourth.stderr);
}

#[test]
fn a_structured_reply_is_parsed_or_fails_with_the_violations() {
    let home = TestHome::new();
    let server = ModelServer::scripted(vec![
        Answer::anthropic_tool("claude-haiku-4-5", serde_json::json!({"colour": "blue"}), 9, 4),
        Answer::anthropic_tool("claude-haiku-4-5", serde_json::json!({"hue": "blue"}), 9, 4),
    ]);
    let file = home.path().join("ask.json");
    std::fs::write(&file, workflow("anthropic/claude-haiku-4-5", true)).unwrap();
    let file = file.to_str().unwrap();
    let ok = run(&home, &server, file, &["--json", "--no-cache"]);
    assert_eq!(ok.code, 0, "{ok:?}");
    let outputs: serde_json::Value = serde_json::from_str(&ok.stdout).unwrap();
    assert_eq!(outputs["response"], serde_json::json!({"colour": "blue"}));
    assert_eq!(server.requests()[0].header("x-api-key"), Some(KEY));
    let bad = run(&home, &server, file, &["--no-cache"]);
    assert_eq!(bad.code, 1, "{bad:?}");
    assert!(
        bad.stderr
            .contains("does not match `output_schema`: at $: \"colour\" is a required property"),
        "{}",
        bad.stderr
    );
}

#[test]
fn provider_errors_name_provider_and_model_and_never_the_key() {
    let wrong = format!("Incorrect API key provided: {KEY}.");
    let cases = [
        (
            Answer::openai_error(401, "invalid_request_error", "invalid_api_key", &wrong),
            "openai refused the API key for model `openai/gpt-4o-mini` (HTTP 401): Incorrect API key provided: [redacted].",
        ),
        (
            Answer::openai_error(
                404,
                "invalid_request_error",
                "model_not_found",
                "The model `gpt-4o-mini` does not exist",
            ),
            "openai does not know model `openai/gpt-4o-mini` (HTTP 404)",
        ),
        (
            Answer::raw(200, "application/json", b"{\"choices\": [trunc"),
            "openai sent a reply for model `openai/gpt-4o-mini` that cannot be read",
        ),
    ];
    for (answer, expected) in cases {
        let home = TestHome::new();
        let server = ModelServer::start(move |_| answer.clone());
        let file = home.path().join("ask.json");
        std::fs::write(&file, workflow("openai/gpt-4o-mini", false)).unwrap();
        let failed = run(&home, &server, file.to_str().unwrap(), &["--json"]);
        assert_eq!(failed.code, 1, "{failed:?}");
        assert!(failed.stderr.contains(expected), "{}\nexpected: {expected}", failed.stderr);
    }
    // No key at all: refused before any request, naming the variable.
    let home = TestHome::new();
    let file = home.path().join("ask.json");
    std::fs::write(&file, workflow("openai/gpt-4o-mini", false)).unwrap();
    let missing = home.run(["run", file.to_str().unwrap(), "thing=sky"]);
    assert_eq!(missing.code, 1, "{missing:?}");
    assert!(
        missing.stderr.contains("no API key for provider `openai`")
            && missing.stderr.contains("OPENAI_API_KEY"),
        "{}",
        missing.stderr
    );
}

#[test]
fn llm_models_says_what_is_configured_never_a_key() {
    let home = TestHome::new();
    let server = ModelServer::echo();
    std::fs::write(home.path().join("config.toml"), "[llm]\ndefault_model = \"ollama/llama3.2\"\n[llm.base_url]\nollama = \"http://gpu-box:11434/v1\"\n").unwrap();
    let listed = Run::from(command(&home, &server, &["llm", "models"]).output().unwrap());
    assert_no_key(&home, &listed);
    assert_eq!(listed.code, 0, "{listed:?}");
    assert!(listed.stdout.contains("set (OPENAI_API_KEY)"), "{}", listed.stdout);
    assert!(listed.stdout.contains("http://gpu-box:11434/v1 (config)"), "{}", listed.stdout);
    assert!(listed.stdout.contains("default model: ollama/llama3.2"), "{}", listed.stdout);
}

#[test]
fn an_llm_node_under_a_parallel_batch_calls_once_per_item_and_reports_every_call() {
    let home = TestHome::new();
    let server = ModelServer::echo();
    let ir = r#"{"ir_version": "0.1.0", "nodes": [{"id": "ask", "type": "llm",
        "batch": {"items": ["sky", "grass", "sun"], "parallel": true, "max_concurrent": 3},
        "params": {"prompt": "Colour of ${item}?", "model": "openai/gpt-4o-mini"}}],
        "outputs": {"answers": {"source": "${ask.results}"}}}"#;
    let file = home.path().join("each.json");
    std::fs::write(&file, ir).unwrap();
    let file = file.to_str().unwrap();
    let first = Run::from(
        command(&home, &server, &["run", file, "--json", "--no-save-prompt"]).output().unwrap(),
    );
    assert_no_key(&home, &first);
    assert_eq!(first.code, 0, "{first:?}");
    let outputs: serde_json::Value = serde_json::from_str(&first.stdout).unwrap();
    let answers: Vec<&str> = outputs["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["response"].as_str().unwrap())
        .collect();
    assert_eq!(answers, ["echo: Colour of sky?", "echo: Colour of grass?", "echo: Colour of sun?"]);
    assert_eq!(server.requests().len(), 3);
    assert!(first.stderr.contains("3 llm calls, "), "{}", first.stderr);
    // Each item's reply is cached on its own: a second run asks nothing.
    let second = Run::from(
        command(&home, &server, &["run", file, "--json", "--no-save-prompt"]).output().unwrap(),
    );
    assert_eq!(second.code, 0, "{second:?}");
    assert_eq!(server.requests().len(), 3);
    assert!(second.stderr.contains("3 llm calls (3 cached), 0 tokens"), "{}", second.stderr);
}
