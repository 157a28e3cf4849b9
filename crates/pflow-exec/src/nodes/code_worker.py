# The interpreter behind pflow's `code` node (SPEC §5.6).
#
# pflow starts this script with `python3 -c` and keeps the process warm: it reads one
# request per line on its standard input and answers with one line on its standard
# output, both compact JSON, for as many requests as pflow sends. Before the first
# request the protocol streams are moved away from fds 0 and 1, so whatever the user's
# code writes to fd 1 (a subprocess, `os.write`) goes to stderr instead of corrupting
# the protocol, and `print` is captured per request into the node's `stdout` / `stderr`.
#
# A request is {"code": str, "inputs": {name: value}}. The answer is
# {"ok": true, "stdout": str, "stderr": str, "result": value?, "next": str?}
# or {"ok": false, "error": str, "stdout": str, "stderr": str}.

import ast
import io
import json
import math
import os
import sys
import threading
import traceback
import typing

# Outer types checked with isinstance; anything else (user classes, typing forms) is
# not checked. An int is accepted where a float is declared.
OUTER_TYPES = {
    "int": int,
    "float": (int, float),
    "str": str,
    "bool": bool,
    "list": list,
    "dict": dict,
    "set": set,
    "tuple": tuple,
    "bytes": bytes,
}

# typing names with a lowercase builtin or pipe form; refused in annotations unless imported.
MODERN = {"List": "list", "Dict": "dict", "Tuple": "tuple", "Set": "set", "FrozenSet": "frozenset", "Type": "type"}
NEEDS_IMPORT = {"Literal", "TypeVar", "Callable", "Final", "ClassVar", "Iterable", "Iterator", "Sequence", "Mapping"}


class CodeError(Exception):
    """A problem with the code or its inputs, reported as the node's error."""


def annotations_of(tree):
    """Every annotated name in the code (any scope), name -> annotation source."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            found[node.target.id] = ast.unparse(node.annotation) if hasattr(ast, "unparse") else ast.dump(node.annotation)
    return found


def strip_quotes(text):
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1].strip()
    return text


def optional_inner(text):
    """The type inside `Optional[T]` / `T | None`, or None when `text` is not optional."""
    text = text.strip()
    for prefix in ("typing.Optional[", "Optional["):
        if text.startswith(prefix) and text.endswith("]"):
            return text[len(prefix) : -1].strip()
    parts = [p.strip() for p in text.split("|")]
    if "None" in parts:
        rest = [p for p in parts if p != "None"]
        if rest:
            return " | ".join(rest)
    return None


def outer_type(text):
    """The isinstance target of an annotation, or None when it is not checked."""
    inner = optional_inner(text)
    if inner is not None:
        base = outer_type(inner)
        if base is None:
            return None
        return (*base, type(None)) if isinstance(base, tuple) else (base, type(None))
    return OUTER_TYPES.get(strip_quotes(text).split("[")[0].strip())


def imported_names(tree):
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.asname or alias.name.split(".")[0] for alias in node.names)
    return names


def typing_hint(name):
    if name in MODERN:
        low = MODERN[name]
        return f"write `{low}[...]` (PEP 585), e.g. `x: {low}[str]`"
    if name == "Union":
        return "write `A | B` (PEP 604), e.g. `x: int | str`"
    if name in NEEDS_IMPORT:
        return f"add `from typing import {name}` at the top of the code (only `Any` and `Optional` are provided)"
    return f"bind `{name}` in the node's `inputs`, or define it in the code before it is used"


def check_vocabulary(tree, annotations):
    imported = imported_names(tree)
    for var, text in annotations.items():
        try:
            parsed = ast.parse(text, mode="eval")
            if isinstance(parsed.body, ast.Constant) and isinstance(parsed.body.value, str):
                parsed = ast.parse(parsed.body.value, mode="eval")
        except SyntaxError:
            continue
        for node in ast.walk(parsed):
            if not isinstance(node, ast.Name):
                continue
            if node.id == "any":
                raise CodeError(f"the annotation of `{var}` is `any` (lowercase); write `{var}: Any` (it needs no import)")
            if node.id in MODERN or node.id == "Union" or node.id in NEEDS_IMPORT:
                if node.id not in imported:
                    raise CodeError(f"the annotation of `{var}` uses `{node.id}`, which is not defined: {typing_hint(node.id)}")


def type_name(value):
    return type(value).__name__


def prepare(code, inputs):
    """The checks made before the code runs; returns the compiled code and annotations."""
    try:
        tree = ast.parse(code, "<code>")
    except SyntaxError as e:
        raise CodeError(f"syntax error in the code: {e.msg} (line {e.lineno} of the code)") from None
    annotations = annotations_of(tree)
    missing = [name for name in inputs if name not in annotations]
    if missing:
        listed = ", ".join(f"`{m}`" for m in missing)
        example = "; ".join(f"`{m}: <type>`" for m in missing)
        raise CodeError(f"input {listed} has no type annotation in the code; add {example}")
    check_vocabulary(tree, annotations)
    if "result" not in annotations and "next" not in annotations:
        raise CodeError("the code declares neither `result: <type> = ...` nor `next: str = ...`")
    if "next" in annotations:
        expected = outer_type(annotations["next"])
        if expected is not None and expected is not str:
            raise CodeError(f"`next` must be annotated as `str`, not `{annotations['next']}`")
    for name, value in inputs.items():
        expected = outer_type(annotations[name])
        if expected is not None and not isinstance(value, expected):
            raise CodeError(
                f"input `{name}` is declared `{annotations[name]}` but received {type_name(value)}; "
                f"change the annotation (e.g. `{name}: {type_name(value)}` or `{name}: Any`) or convert the value"
            )
    return compile(tree, "<code>", "exec"), annotations


def location(exc, code):
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == "<code>"]
    if not frames or frames[-1].lineno is None:
        return ""
    line = frames[-1].lineno
    lines = code.splitlines()
    source = lines[line - 1].strip() if line <= len(lines) else ""
    return f" (line {line} of the code: `{source}`)" if source else f" (line {line} of the code)"


def describe(exc, code):
    where = location(exc, code)
    if isinstance(exc, NameError) and not isinstance(exc, UnboundLocalError):
        name = getattr(exc, "name", None) or str(exc)
        return f"undefined name `{name}`{where}; {typing_hint(name)}"
    if isinstance(exc, ImportError):
        module = getattr(exc, "name", None) or str(exc)
        return f"module `{module}` not found{where}; install it for the `python3` pflow runs (e.g. `python3 -m pip install {module}`)"
    return f"{type(exc).__name__}: {exc}{where}"


def to_json(value):
    """`value` as JSON: tuples and sets become arrays, bytes text; anything else fails."""

    def fallback(obj):
        if isinstance(obj, (set, frozenset)):
            items = list(obj)
            try:
                return sorted(items)
            except TypeError:
                return items
        if isinstance(obj, (bytes, bytearray)):
            return obj.decode("utf-8", "replace")
        raise TypeError(f"a {type(obj).__name__} is not JSON")

    return json.dumps(value, default=fallback, allow_nan=False, ensure_ascii=False, separators=(",", ":"))


def run(request):
    code = request["code"]
    inputs = request["inputs"]
    compiled, annotations = prepare(code, inputs)
    namespace = {"__builtins__": __builtins__, "__name__": "__pflow_code__", "typing": typing, "Optional": typing.Optional, "Any": typing.Any}
    namespace.update(inputs)
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        exec(compiled, namespace)  # noqa: S102 - the user's own code, run with the user's rights
    except BaseException as exc:  # SystemExit and KeyboardInterrupt included: the worker lives on
        sys.stdout, sys.stderr = saved
        return {"ok": False, "error": describe(exc, code), "stdout": out.getvalue(), "stderr": err.getvalue()}
    finally:
        sys.stdout, sys.stderr = saved
    answer = {"ok": True, "stdout": out.getvalue(), "stderr": err.getvalue()}

    def fail(message):
        return {"ok": False, "error": message, "stdout": answer["stdout"], "stderr": answer["stderr"]}

    if "result" in annotations:
        if "result" not in namespace:
            return fail("the code never set `result`; assign it, e.g. `result: dict = {...}`")
        value = namespace["result"]
        expected = outer_type(annotations["result"])
        if expected is not None and not isinstance(value, expected):
            return fail(
                f"`result` is declared `{annotations['result']}` but the code set a {type_name(value)}; "
                f"change the annotation to `result: {type_name(value)}` or convert the value"
            )
        answer["result"] = value
    if "next" in namespace:
        value = namespace["next"]
        if not isinstance(value, str):
            return fail(f"`next` must be a string, found a {type_name(value)}: {value!r}")
        if not value:
            return fail("`next` is empty; set it to the action to take, or do not set it")
        answer["next"] = value
    try:
        return to_json(answer)
    except (TypeError, ValueError) as e:
        return fail(f"`result` cannot be passed on as JSON: {e}; convert it to dicts, lists, strings, numbers, booleans or None")


def watch_parent(parent):
    # When pflow is gone (even killed with -9), end this interpreter, also while the
    # user's code is still running.
    import time

    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(1)


def main():
    requests = os.fdopen(os.dup(0), "rb")
    answers = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    sys.stdin = open(os.devnull)
    threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()
    for line in requests:
        try:
            answer = run(json.loads(line))
        except CodeError as e:
            answer = {"ok": False, "error": str(e), "stdout": "", "stderr": ""}
        except Exception as e:  # a bug here must not kill the worker silently
            answer = {"ok": False, "error": f"internal error of the code worker: {type(e).__name__}: {e}", "stdout": "", "stderr": ""}
        text = answer if isinstance(answer, str) else to_json(answer)
        answers.write(text.encode("utf-8") + b"\n")
        answers.flush()


main()
