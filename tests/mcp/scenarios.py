"""End-to-end scenarios for `pflow mcp serve`, driven by a third-party MCP client: the
Python `mcp` SDK (pinned to 2.3.0 by `cargo xtask ci`).

usage: scenarios.py SCENARIO
environment: PFLOW_BIN (the pflow binary), PFLOW_HOME (a fresh pflow home), WORK (a
scratch directory), and PFLOW_STORE when the server is to serve another store (a fresh
PostgreSQL library). Each scenario asserts what must hold and exits non-zero with a
traceback when something does not; the Rust tests in tests/tests/e2e/mcp/ run them.
"""

import json
import os
import sys
import time
from pathlib import Path

import anyio
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPError

HOME = os.environ["PFLOW_HOME"]
WORK = Path(os.environ["WORK"])


def server():
    env = {"PFLOW_HOME": HOME, "PATH": os.environ.get("PATH", ""), "NO_COLOR": "1"}
    if "PFLOW_STORE" in os.environ:
        env["PFLOW_STORE"] = os.environ["PFLOW_STORE"]
    return StdioServerParameters(command=os.environ["PFLOW_BIN"], args=["mcp", "serve"], env=env)


def ir(nodes, inputs=None, outputs=None, edges=None):
    doc = {"ir_version": "0.1.0", "nodes": nodes}
    if inputs is not None:
        doc["inputs"] = inputs
    if outputs is not None:
        doc["outputs"] = outputs
    if edges is not None:
        doc["edges"] = edges
    return doc


ECHO = ir(
    [{"id": "say", "type": "echo", "params": {"message": "Hello, ${name}!"}}],
    inputs={"name": {"type": "string", "description": "Who to greet"}},
    outputs={"greeting": {"type": "string", "source": "${say.message}"}},
)


def calling(child, mapping=None):
    params = {"workflow_name": child, "param_mapping": {"name": "x"} if mapping is None else mapping}
    return ir([{"id": "call", "type": "workflow", "params": params}])


def shell(command, **params):
    return ir([{"id": "sh", "type": "shell", "params": {"command": command, **params}}])


async def call(s, tool, args, error=False):
    """Calls `tool`; checks `isError` is `error` and that text and structured content are there."""
    res = await s.call_tool(tool, args)
    assert bool(res.is_error) == error, f"{tool} {args}: is_error={res.is_error}: {res.content}"
    assert res.content and res.content[0].text.strip(), f"{tool}: no text rendering"
    assert res.structured_content is not None, f"{tool}: no structured content"
    return res.structured_content, res.content[0].text


async def expect_error(s, tool, args, kind):
    out, text = await call(s, tool, args, error=True)
    err = out["error"]
    assert err["kind"] == kind, f"{tool}: kind {err['kind']} != {kind}: {err}"
    assert text.startswith("error: "), text
    return err


async def protocol_error(s, tool, args):
    try:
        res = await s.call_tool(tool, args)
    except MCPError as e:
        return e
    raise AssertionError(f"{tool} {args}: expected a protocol error, got {res}")


async def session(body):
    async with stdio_client(server()) as (r, w):
        async with ClientSession(r, w) as s:
            await s.initialize()
            await body(s)


# ---- scenarios --------------------------------------------------------------------------


async def tools(s):
    """tools/list, for the snapshot: every tool with its schemas and annotations."""
    listed = (await s.list_tools()).tools
    out = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in listed]
    print(json.dumps(out, indent=2, sort_keys=True))


async def workflows(s):
    # workflow_save: created, unchanged, exists, updated with force, conflict.
    out, text = await call(s, "workflow_save", {"workflow": ECHO, "name": "greet", "description": "Greets someone"})
    assert out["outcome"] == "created" and out["revision"] == 1, out
    assert "saved `greet` (revision 1)" in text, text
    out, _ = await call(s, "workflow_save", {"workflow": ECHO, "name": "greet", "description": "Greets someone", "force": True})
    assert out["outcome"] == "unchanged", out
    err = await expect_error(s, "workflow_save", {"workflow": ECHO, "name": "greet"}, "exists")
    assert "force: true" in err["hint"], err
    out, _ = await call(s, "workflow_save", {"workflow": ECHO, "name": "greet", "description": "Greets anyone", "force": True, "expected_revision": 1})
    assert out["outcome"] == "updated" and out["revision"] == 2, out
    err = await expect_error(s, "workflow_save", {"workflow": ECHO, "name": "greet", "description": "x", "force": True, "expected_revision": 1}, "conflict")
    assert "expected revision 1, found 2" in err["message"] and "expected_revision" in err["hint"], err
    # A file path, a stored document, and an invalid name.
    path = WORK / "shout.json"
    path.write_text(json.dumps({"name": "shout", "description": "Shouts", "ir": calling("greet")}))
    out, _ = await call(s, "workflow_save", {"workflow": str(path), "name": "shout"})
    assert out["outcome"] == "created", out
    err = await expect_error(s, "workflow_save", {"workflow": ECHO, "name": "Bad_Name"}, "invalid_name")
    assert "bad-name" in (err.get("hint") or ""), err
    err = await expect_error(s, "workflow_save", {"workflow": str(WORK / "missing.json"), "name": "missing"}, "unreadable_file")
    # Invalid IR: every finding with its path; nothing saved.
    bad = ir([{"id": "a", "type": "ech"}, {"id": "b", "type": "read-file", "params": {}}])
    err = await expect_error(s, "workflow_save", {"workflow": bad, "name": "bad"}, "invalid_workflow")
    paths = sorted(f["path"] for f in err["findings"])
    assert paths == ["nodes[0].type", "nodes[1].params"] or len(paths) >= 2, err
    assert any(f.get("hint") == "did you mean `echo`?" for f in err["findings"]), err

    # workflow_validate: an object, a saved name, a file; findings are not an error.
    out, text = await call(s, "workflow_validate", {"workflow": bad})
    assert out["valid"] is False and out["errors"] >= 2, out
    assert "nodes[0].type" in text, text
    out, _ = await call(s, "workflow_validate", {"workflow": "greet"})
    assert out["valid"] is True and out["errors"] == 0, out
    out, _ = await call(s, "workflow_validate", {"workflow": str(path)})
    assert out["valid"] is True, out
    err = await expect_error(s, "workflow_validate", {"workflow": "gret"}, "not_found")
    assert err["suggestions"] == ["greet"], err

    # workflow_list: pages, filter, query.
    for i in range(5):
        await call(s, "workflow_save", {"workflow": ECHO, "name": f"page-{i}", "description": f"Page {i}"})
    seen, cursor = [], None
    while True:
        args = {"limit": 2, "filter_pattern": "PAGE"}
        if cursor:
            args["cursor"] = cursor
        out, text = await call(s, "workflow_list", args)
        assert "total" not in out and len(out["workflows"]) == (2 if "next_cursor" in out else 1), out
        assert ("and more" in text) == ("next_cursor" in out), text
        seen += [w["name"] for w in out["workflows"]]
        cursor = out.get("next_cursor")
        if not cursor:
            break
    assert seen == [f"page-{i}" for i in range(5)], seen
    out, _ = await call(s, "workflow_list", {})
    assert [w["name"] for w in out["workflows"]] == ["greet", "page-0", "page-1", "page-2", "page-3", "page-4", "shout"], out
    greet = out["workflows"][0]
    assert greet["inputs"] == [{"name": "name", "type": "string", "required": True}] and greet["revision"] == 2, greet
    # A query ranks (stems: "greeting" finds "Greets"), pages by rank, and says what is closest.
    out, text = await call(s, "workflow_list", {"query": "greeting someone"})
    assert out["workflows"][0]["name"] == "greet" and out["workflows"][0]["score"] > 0, out
    assert "most relevant first" in text, text
    seen, cursor = [], None
    while True:
        args = {"limit": 2, "query": "page"}
        if cursor:
            args["cursor"] = cursor
        out, _ = await call(s, "workflow_list", args)
        assert out["total"] == 5, out
        seen += [w["name"] for w in out["workflows"]]
        cursor = out.get("next_cursor")
        if not cursor:
            break
    assert sorted(seen) == [f"page-{i}" for i in range(5)] and len(seen) == 5, seen
    out, text = await call(s, "workflow_list", {"query": "kangaroo"})
    assert out["workflows"] == [] and out["total"] == 0, out
    assert "no saved workflow matches `kangaroo` (7 saved)" in text, text
    out, text = await call(s, "workflow_list", {"query": "the my how"})
    assert out["workflows"] == [] and "nothing to search for" in text, text
    await expect_error(s, "workflow_list", {"query": "page", "filter_pattern": "page"}, "invalid_argument")
    await expect_error(s, "workflow_list", {"query": "page", "cursor": "after:page-1"}, "invalid_argument")
    await expect_error(s, "workflow_list", {"cursor": "nonsense"}, "invalid_argument")
    await expect_error(s, "workflow_list", {"limit": 0}, "invalid_argument")

    # workflow_describe
    out, text = await call(s, "workflow_describe", {"name": "greet"})
    assert out["revision"] == 2 and out["calls"] == [] and "called_by" not in out, out
    assert out["run_line"] == "pflow run greet name=<string>", out
    assert out["inputs"][0]["description"] == "Who to greet", out
    assert out["outputs"] == [{"name": "greeting", "type": "string", "description": ""}], out
    assert "run: pflow run greet name=<string>" in text, text
    out, _ = await call(s, "workflow_describe", {"name": "shout"})
    assert out["calls"] == ["greet"], out
    err = await expect_error(s, "workflow_describe", {"name": "gret"}, "not_found")
    assert err["suggestions"] == ["greet"] and err["hint"] == "did you mean `greet`?", err
    err = await expect_error(s, "workflow_describe", {"name": "nothing-like-it"}, "not_found")
    assert "workflow_list" in err["hint"], err

    # workflow_history and workflow_restore
    out, _ = await call(s, "workflow_history", {"name": "greet"})
    assert [(r["revision"], r["current"]) for r in out["revisions"]] == [(1, False), (2, True)], out
    out, _ = await call(s, "workflow_restore", {"name": "greet", "revision": 1})
    assert out["revision"] == 3 and out["outcome"] == "updated", out
    out, _ = await call(s, "workflow_restore", {"name": "greet", "revision": 3})
    assert out["outcome"] == "unchanged", out
    err = await expect_error(s, "workflow_restore", {"name": "greet", "revision": 9}, "revision_not_found")
    assert "workflow_history" in err["hint"], err
    await expect_error(s, "workflow_restore", {"name": "greet", "revision": 1, "expected_revision": 1}, "conflict")

    # workflow_delete: refused while called, then forced.
    err = await expect_error(s, "workflow_delete", {"name": "greet"}, "has_callers")
    assert "`shout`" in err["message"] and "force: true" in err["hint"], err
    out, _ = await call(s, "workflow_delete", {"name": "greet", "force": True})
    assert out["broken_callers"] == ["shout"] and out["deleted_at"], out
    await expect_error(s, "workflow_describe", {"name": "greet"}, "not_found")
    out, _ = await call(s, "workflow_delete", {"name": "shout"})
    assert out["broken_callers"] == [], out
    print("ok: workflows")


async def execute(s):
    await call(s, "workflow_save", {"workflow": ECHO, "name": "greet"})
    out, text = await call(s, "workflow_execute", {"workflow": "greet", "parameters": {"name": "World"}})
    assert out["outputs"] == {"greeting": "Hello, World!"}, out
    assert [(n["id"], n["type"], n["status"]) for n in out["nodes"]] == [("say", "echo", "succeeded")], out
    assert out["nodes"][0]["duration_ms"] >= 0 and out["duration_ms"] >= 0, out
    assert "Hello, World!" in text, text
    # Inline and from a file; nested by name.
    out, _ = await call(s, "workflow_execute", {"workflow": ECHO, "parameters": {"name": "inline"}})
    assert out["outputs"] == {"greeting": "Hello, inline!"}, out
    path = WORK / "calls.json"
    path.write_text(json.dumps(calling("greet")))
    out, _ = await call(s, "workflow_execute", {"workflow": str(path)})
    assert out["outputs"] == {"greeting": "Hello, x!"}, out
    assert [(n["id"], n["depth"]) for n in out["nodes"]] == [("say", 1), ("call", 0)], out
    # Mistakes: inputs, invalid IR, unknown name; a failing node with its chain.
    err = await expect_error(s, "workflow_execute", {"workflow": "greet", "parameters": {"nmae": "x"}}, "invalid_inputs")
    assert "nmae" in err["message"] and "`name` (string, required)" in err["hint"], err
    err = await expect_error(s, "workflow_execute", {"workflow": ir([{"id": "a", "type": "ech"}])}, "invalid_workflow")
    assert err["findings"][0]["path"] == "nodes[0].type", err
    err = await expect_error(s, "workflow_execute", {"workflow": "gret"}, "not_found")
    assert err["suggestions"] == ["greet"], err
    await call(s, "workflow_save", {"workflow": shell("echo oops >&2; exit 3"), "name": "fails"})
    await call(s, "workflow_save", {"workflow": calling("fails", {}), "name": "calls-fails"})
    err = await expect_error(s, "workflow_execute", {"workflow": "calls-fails"}, "node_failed")
    assert err["chain"] == ["call", "sh"] and "exited with code 3" in err["message"] and "oops" in err["message"], err
    assert [(n["id"], n["status"]) for n in err["nodes"]] == [("sh", "failed"), ("call", "failed")], err
    # Progress: one notification per node event, with a progress token.
    progress = []

    async def heard(value, total, message):
        progress.append((value, message))

    two = ir(
        [{"id": "one", "type": "echo", "params": {"message": "1"}}, {"id": "two", "type": "echo", "params": {"message": "2"}}],
        edges=[{"from": "one", "to": "two"}],
    )
    res = await s.call_tool("workflow_execute", {"workflow": two}, progress_callback=heard)
    assert not res.is_error, res
    messages = [m for _, m in progress]
    assert messages == [
        "node `one` (echo) started",
        messages[1],
        "node `two` (echo) started",
        messages[3],
    ] and messages[1].startswith("node `one` (echo) finished in") and messages[3].startswith("node `two` (echo) finished in"), messages
    assert [v for v, _ in progress] == [1, 2, 3, 4], progress
    print("ok: execute")


async def registry_context(s):
    out, text = await call(s, "registry_list", {})
    names = [n["name"] for n in out["nodes"]]
    assert {"echo", "shell", "read-file", "http", "workflow"} <= set(names), names
    out, _ = await call(s, "registry_list", {"filter_pattern": "file read"})
    assert [n["name"] for n in out["nodes"]] == ["read-file"], out
    out, _ = await call(s, "registry_list", {"filter_pattern": "nothing-matches"})
    assert out["nodes"] == [], out
    out, text = await call(s, "registry_describe", {"nodes": ["shell", "read-file"]})
    assert [n["name"] for n in out["nodes"]] == ["shell", "read-file"], out
    assert "command" in [p["name"] for p in out["nodes"][0]["params"]], out
    assert "## `shell`" in text, text
    err = await expect_error(s, "registry_describe", {"nodes": ["shel"]}, "not_found")
    assert "did you mean `shell`?" in err["message"] and err["suggestions"] == ["shell"], err
    await expect_error(s, "registry_describe", {"nodes": []}, "invalid_argument")
    await call(s, "workflow_save", {"workflow": ECHO, "name": "greet", "description": "Greets someone"})
    await call(s, "workflow_save", {"workflow": ECHO, "name": "hello", "description": "Says hello"})
    out, text = await call(s, "context_discover", {})
    assert out["workflows"] == 2 and out["workflows_total"] == 2 and out["node_types"] >= 5, out
    assert "`greet` (workflow): Greets someone" in text and text == out["context"], text
    out, _ = await call(s, "context_discover", {"limit": 1})
    assert out["workflows"] == 1 and out["workflows_total"] == 2, out
    out, text = await call(s, "context_discover", {"query": "greets someone"})
    # Both match (`greeting` is an output of each); the one whose description matches comes first.
    assert out["workflows"] == 2 and out["workflows_total"] == 2 and text == out["context"], out
    assert "# Saved workflows matching `greets someone`" in text and text.index("`greet`") < text.index("`hello`"), text
    out, text = await call(s, "context_discover", {"query": "read a file", "limit": 1})
    assert out["node_types"] == 1 and "`read-file`" in text, text
    out, text = await call(s, "context_discover", {"query": "kangaroo"})
    assert out["workflows"] == 0 and "None of the 2 saved workflows matches." in text, text
    out, text = await call(s, "context_plan", {"nodes": ["echo"], "workflows": ["greet"]})
    assert out["nodes"] == ["echo"] and out["workflows"] == ["greet"], out
    assert "`name`" in text, text
    err = await expect_error(s, "context_plan", {"workflows": ["gret"]}, "not_found")
    assert err["suggestions"] == ["greet"], err
    await expect_error(s, "context_plan", {}, "invalid_argument")
    print("ok: registry and context")


async def concurrent(s):
    """S1: 8 workflow_execute calls in flight at once, each with its own output."""
    await call(s, "workflow_save", {"workflow": ir(
        [{"id": "sh", "type": "shell", "params": {
            "command": 'a=$(date +%s%N); sleep 0.3; b=$(date +%s%N); printf "%s %s %s" "$N" "$a" "$b"',
            "env": {"N": "${n}"}}}],
        inputs={"n": {"type": "integer"}},
        outputs={"out": {"source": "${sh.stdout}"}},
    ), "name": "slow"})
    results = {}

    async def one(i):
        out, _ = await call(s, "workflow_execute", {"workflow": "slow", "parameters": {"n": i}})
        n, began, ended = out["outputs"]["out"].split()
        results[i] = (n, int(began), int(ended))

    started = time.monotonic()
    async with anyio.create_task_group() as tg:
        for i in range(8):
            tg.start_soon(one, i)
    elapsed = time.monotonic() - started
    assert {i: r[0] for i, r in results.items()} == {i: str(i) for i in range(8)}, results
    # They ran side by side: some run started before another one ended (run one after
    # the other, each would start after the previous one ended).
    spans = sorted(r[1:] for r in results.values())
    overlapping = sum(1 for a, b in zip(spans, spans[1:]) if b[0] < a[1])
    assert overlapping > 0, f"the runs did not overlap: {spans}"
    print(f"ok: 8 concurrent runs completed with the right outputs [{overlapping} of 7 overlapped the one before; {elapsed:.2f} s for 8 x 0.3 s]")


def alive(pid):
    """Whether process `pid` exists and is not a zombie, read from /proc."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


async def wait_for(path, limit=10.0):
    deadline = time.monotonic() + limit
    while not path.exists() or not path.read_text().strip():
        assert time.monotonic() < deadline, f"{path} never appeared"
        await anyio.sleep(0.02)
    return int(path.read_text().split()[0])


async def cancel(s):
    """S3: notifications/cancelled for a running shell sleep ends it within 1 s."""
    pidfile = WORK / "sleep.pid"
    # The sleep replaces the shell (exec), so its pid is the one written.
    sleeper = shell(f"echo $$$$ > {pidfile}; exec sleep 30")
    async with anyio.create_task_group() as tg:
        async def run():
            await s.call_tool("workflow_execute", {"workflow": sleeper})
            raise AssertionError("the cancelled call returned")

        tg.start_soon(run)
        pid = await wait_for(pidfile)
        assert alive(pid), "the sleep is not running"
        started = time.monotonic()
        tg.cancel_scope.cancel()  # the SDK sends notifications/cancelled for the request
    while alive(pid):
        assert time.monotonic() - started < 1.0, f"sleep {pid} still alive 1 s after the cancel"
        await anyio.sleep(0.01)
    gone = time.monotonic() - started
    # The server keeps serving.
    out, _ = await call(s, "workflow_execute", {"workflow": ECHO, "parameters": {"name": "again"}})
    assert out["outputs"] == {"greeting": "Hello, again!"}, out
    print(f"ok: cancelled sleep gone after the cancel [{gone * 1000:.0f} ms]")


async def errors(s):
    """S2 through the client: unknown tool, wrong argument types, a 20 MB argument."""
    e = await protocol_error(s, "no_such_tool", {})
    assert "unknown tool" in str(e), e
    e = await protocol_error(s, "workflow_describe", {"name": 5})
    assert "invalid" in str(e), e
    e = await protocol_error(s, "workflow_describe", {})
    assert "name" in str(e), e
    e = await protocol_error(s, "workflow_list", {"limit": "ten"})
    e = await protocol_error(s, "workflow_list", {"filter": "typo"})
    assert "filter" in str(e), e
    big = "x" * (20 * 1000 * 1000)
    err = await expect_error(s, "workflow_save", {"workflow": ECHO, "name": "big", "description": big}, "too_large")
    assert "too large" in err["message"], err
    await expect_error(s, "workflow_describe", {"name": big}, "invalid_name")
    out, text = await call(s, "workflow_list", {})
    assert out["workflows"] == [] and "next_cursor" not in out and text == "no saved workflows\n", (out, text)
    print("ok: protocol errors answered, the server kept serving")


SCENARIOS = {f.__name__: f for f in [tools, workflows, execute, registry_context, concurrent, cancel, errors]}

if __name__ == "__main__":
    anyio.run(session, SCENARIOS[sys.argv[1]])
