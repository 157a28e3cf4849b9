#!/usr/bin/env bash
# compare.sh -- ../shared/bench/mcp_compare.sh's run, with the probes' reports kept in
# files: the shared script hands both reports to its table as command-line arguments,
# which fails ("Argument list too long") once the Python pflow's workflow_list result
# (1.6 MB of text at 10 000 saved) is in them. Same store generator, same client
# (mcp_probe.py), same calls; one extra probe of ours times the floor: `context_plan`
# with no arguments, a tool call that does no work (an argument mistake answered at
# once). Run from the project root after `cargo build --release`:
#   crates/pflow-mcp/benches/compare.sh          # N=10000 by default
set -eu
bench=$(cd "$(dirname "$0")/../../../../shared/bench" && pwd)
. "$bench/config.sh"
N=${N:-10000}
"$bench/setup-py.sh" >/dev/null
[ -x "$WORK/mcpvenv/bin/python" ] || { python3 -m venv "$WORK/mcpvenv" && "$WORK/mcpvenv/bin/pip" install -q mcp==2.3.0; }
rs_bin=${PFLOW_RS_BIN:-$PWD/target/release/pflow}
rs_home=$WORK/mcp-rs-$N; py_home=$WORK/mcp-py-$N
[ -d "$rs_home/workflows" ] || PF_FORMAT=json "$bench/gen_store.sh" "$N" "$rs_home/workflows" >/dev/null
[ -d "$py_home/.pflow/workflows" ] || PF_FORMAT=pflow-md "$bench/gen_store.sh" "$N" "$py_home/.pflow/workflows" >/dev/null
calls='[["workflow_list",{},5],["workflow_describe",{"name":"wf-00042"},10],["workflow_execute",{"workflow":"wf-00042","parameters":{}},10]]'
floor='[["context_plan",{},50],["workflow_list",{},20],["workflow_describe",{"name":"wf-00042"},50],["workflow_execute",{"workflow":"wf-00042","parameters":{}},50]]'
out=$WORK/mcp-compare; mkdir -p "$out"
# The Python SDK's client passes the server HOME but not PFLOW_HOME: `--home` names our
# store (in $HOME/workflows, where the generator put it).
wrapper=$out/pflow-rs.sh
printf '#!/bin/sh\nexec %s --home "$HOME" "$@"\n' "$rs_bin" > "$wrapper"; chmod +x "$wrapper"
HOME=$py_home "$WORK/mcpvenv/bin/python" "$bench/mcp_probe.py" "$calls" -- "$WORK/venv/bin/pflow" mcp serve > "$out/py.json" 2>/dev/null
HOME=$rs_home "$WORK/mcpvenv/bin/python" "$bench/mcp_probe.py" "$calls" -- "$wrapper" mcp serve > "$out/rs.json" 2>/dev/null
HOME=$rs_home "$WORK/mcpvenv/bin/python" "$bench/mcp_probe.py" "$floor" -- "$wrapper" mcp serve > "$out/rs-floor.json" 2>/dev/null
python3 - "$out" "$N" "$floor" <<'PY'
import json, sys
out, n = sys.argv[1], sys.argv[2]
repeats = [c[2] for c in json.loads(sys.argv[3])]
load = lambda name: json.load(open(f"{out}/{name}.json"))
py, rs, fl = load("py"), load("rs"), load("rs-floor")
print(f"\n| MCP, {n} saved | Python pflow ms | pflow ms | py/rs | result bytes py / rs |\n|---|---|---|---|---|")
print(f"| initialize (spawn + handshake) | {py['initialize_ms']:.1f} | {rs['initialize_ms']:.1f} | {py['initialize_ms']/rs['initialize_ms']:.0f}x | |")
for a, b in zip(py["calls"], rs["calls"]):
    err = " (error)" if a["is_error"] or b["is_error"] else ""
    print(f"| {a['tool']}{err} | {a['median_ms']:.1f} | {b['median_ms']:.1f} | {a['median_ms']/max(b['median_ms'],0.01):.0f}x | {a['bytes']} / {b['bytes']} |")
print(f"\n| pflow, second session | median ms | n |\n|---|---|---|")
print(f"| initialize (spawn + handshake) | {fl['initialize_ms']:.1f} | 1 |")
for c, k in zip(fl["calls"], repeats):
    label = "floor: `context_plan {}` (no work)" if c["tool"] == "context_plan" else c["tool"]
    print(f"| {label} | {c['median_ms']:.2f} | {k} |")
PY
