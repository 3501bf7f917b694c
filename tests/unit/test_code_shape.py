"""Code shape (issue 12): no function over 40 lines, none with more than 6 parameters.

An AST walk over rules/ storage/ handlers/ bot/ (not the Alembic migrations). A function's length
is its `def` line to its last line (decorators not counted, docstring and blank lines counted);
its parameters are every name it takes (positional, keyword-only, *args, **kwargs) except self
and cls. Nested functions and methods are checked on their own.

ALLOWED is empty since issue 12 landed. Should an exception ever be needed, it goes there with a
reason; an entry that no longer offends fails `test_allow_list_has_no_stale_entries`.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("rules", "storage", "handlers", "bot")
MAX_LINES = 40
MAX_PARAMS = 6

# "path::Qualified.name" of functions allowed to offend, each with its reason (none today).
ALLOWED: set[str] = set()

Func = ast.FunctionDef | ast.AsyncFunctionDef


def param_count(fn: Func) -> int:
    a = fn.args
    names = [x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs)]
    names += [x.arg for x in (a.vararg, a.kwarg) if x is not None]
    return sum(1 for n in names if n not in ("self", "cls"))


def line_count(fn: Func) -> int:
    return fn.end_lineno - fn.lineno + 1


def functions(tree: ast.AST, prefix: str = ""):
    """Yield (qualified name, node) for every function, method and nested function."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, Func):
            yield prefix + node.name, node
            yield from functions(node, f"{prefix}{node.name}.")
        elif isinstance(node, ast.ClassDef):
            yield from functions(node, f"{prefix}{node.name}.")
        else:
            yield from functions(node, prefix)


def offences(source: str, path: str) -> dict[str, str]:
    """{"path::name": why} for every function in `source` that is too long or takes too many parameters."""
    found = {}
    for name, fn in functions(ast.parse(source)):
        why = []
        if line_count(fn) > MAX_LINES:
            why.append(f"{line_count(fn)} lines > {MAX_LINES}")
        if param_count(fn) > MAX_PARAMS:
            why.append(f"{param_count(fn)} parameters > {MAX_PARAMS}")
        if why:
            found[f"{path}::{name}"] = ", ".join(why)
    return found


def tree_offences() -> dict[str, str]:
    found: dict[str, str] = {}
    for layer in LAYERS:
        for file in sorted((ROOT / layer).rglob("*.py")):
            rel = file.relative_to(ROOT)
            if "migrations" in rel.parts:
                continue
            found |= offences(file.read_text(encoding="utf-8"), rel.as_posix())
    return found


def test_no_function_is_too_long_or_takes_too_many_parameters():
    new = {k: v for k, v in tree_offences().items() if k not in ALLOWED}
    assert not new, "split these functions or pass a small dataclass:\n" + "\n".join(
        f"  {k}: {v}" for k, v in sorted(new.items()))


def test_allow_list_has_no_stale_entries():
    stale = ALLOWED - tree_offences().keys()
    assert not stale, f"no longer offending (or gone): take them off ALLOWED: {sorted(stale)}"


def test_a_41_line_function_offends_and_a_40_line_one_does_not():
    body = "".join(f"    x{i} = {i}\n" for i in range(39))
    assert offences(f"def ok():\n{body}", "m.py") == {}
    assert offences(f"def long():\n{body}    x = 0\n", "m.py") == {"m.py::long": "41 lines > 40"}


def test_seven_parameters_offend_but_self_and_cls_do_not_count():
    src = ("class C:\n"
           "    def six(self, a, b, c, d, e, f): pass\n"
           "    @classmethod\n"
           "    def also_six(cls, a, b, *, c, d, e, f): pass\n"
           "def seven(a, b, c, d, e, *args, **kw): pass\n")
    assert offences(src, "m.py") == {"m.py::seven": "7 parameters > 6"}


def test_methods_and_nested_functions_are_named_by_their_path():
    src = ("class App:\n"
           "    def run(self):\n"
           "        async def inner(a, b, c, d, e, f, g): pass\n")
    assert offences(src, "bot/x.py") == {"bot/x.py::App.run.inner": "7 parameters > 6"}
