"""Peak memory of `pflow mcp serve`: the server's VmRSS and VmHWM (from /proc) when idle
after `initialize`, then after each of three rounds of 1 000 tool calls (describe,
execute and validate of one workflow in turn, a `workflow_list` page every 100th), driven by the
Python `mcp` SDK's stdio client. A benchmark, not a test (docs/performance.md).

usage: memory.py PFLOW_BIN PFLOW_HOME
The home should hold the benchmark store (../shared/bench/gen_store.sh), with `wf-00042`.
"""

import json
import os
import sys
from pathlib import Path

import anyio
from mcp import ClientSession, StdioServerParameters, stdio_client

CALLS = [
    ("workflow_describe", {"name": "wf-00042"}),
    ("workflow_execute", {"workflow": "wf-00042", "parameters": {}}),
    ("workflow_validate", {"workflow": "wf-00042"}),
]
# Every LIST_EVERY-th call (default 100; 0: never) lists a page (a listing reads the
# whole index, ~35-130 ms at 10 000).
LIST = ("workflow_list", {"limit": 20})
LIST_EVERY = int(os.environ.get("LIST_EVERY", "100"))


def server_pid():
    """Our only child process: the server."""
    me = str(os.getpid())
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me:
            return int(stat.parent.name)
    raise RuntimeError("no server process found")


def memory(pid):
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    kib = lambda key: int(status[key].split()[0])  # noqa: E731
    return {"rss_mib": round(kib("VmRSS") / 1024, 1), "hwm_mib": round(kib("VmHWM") / 1024, 1)}


async def main():
    bin_, home = sys.argv[1], sys.argv[2]
    params = StdioServerParameters(command=bin_, args=["--home", home, "mcp", "serve"])
    report = {}
    async with stdio_client(params) as (r, w):
        async with ClientSession(r, w) as s:
            await s.initialize()
            pid = server_pid()
            report["idle"] = memory(pid)
            for round_ in (1, 2, 3):
                for i in range(1000):
                    tool, args = LIST if LIST_EVERY and i % LIST_EVERY == 0 else CALLS[i % len(CALLS)]
                    res = await s.call_tool(tool, args)
                    assert not res.is_error, res
                report[f"after {round_ * 1000} calls"] = memory(pid)
    print(json.dumps(report))


anyio.run(main)
