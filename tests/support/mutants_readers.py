"""Who can see a line of port/ that runs at import: the readers of what it defines.

The coverage map (tests/support/mutants_map.py) ties a line to the tests that
ran it; a line that runs when a module is imported belongs to no test, and a
mutant of it would have to run the whole suite. Two kinds of such lines are
seen only through what they define, and so by fewer tests:

- a `def` header (a default value, a decorator): the function as written is
  seen only when it is called, so by the tests that run its body;
- a module-level assignment (`GO_HANDLED = frozenset(...)`): the value is seen
  only where the name is read, so by the tests that run a line of port/ that
  reads it (a function's line; a module-level reader is followed in turn), and
  by the test files that name it or list the module's names (vars(module),
  getattr(module, ...)).

Anything else at module level (an import, an `if`, a class body, whose
attributes Python reads by name at run time), a name that a helper under
tests/ (not a test module) mentions, or a reader of either kind: None, the
whole suite.
"""

import ast
import functools
import re
from pathlib import Path


def readers(sources: dict[str, str], tests: dict[str, str], file: str, line: int
            ) -> tuple[set[tuple[str, int]], set[str]] | None:  # fmt: skip
    """(lines of port/ whose tests see `line` of `file`, test files that see it), or None.

    sources: every module of port/ by path; tests: every file under tests/ by path.
    """
    lines: set[tuple[str, int]] = set()
    files: set[str] = set()
    todo, seen = [(file, line)], set()
    while todo:
        where = todo.pop()
        if where in seen:
            continue
        seen.add(where)
        found = _defined_at(sources[where[0]], where[1])
        if found is None:
            return None
        kind, value = found
        if kind == "body":  # a def header: the body's lines
            lines |= {(where[0], n) for n in value}
            continue
        module = Path(where[0]).stem
        for name in value:
            for path, source in sources.items():
                for use, in_function in _reads(source, name, path == where[0], module):
                    if in_function:
                        lines.add((path, use))
                    else:
                        todo.append((path, use))
            for path, text in tests.items():
                if re.search(rf"\b{re.escape(name)}\b", text) or _lists_names(text, module):
                    if not Path(path).name.startswith("test_"):
                        return None  # a helper: which tests use it is not known here
                    files.add(path)
    return lines, files


def _defined_at(source: str, line: int) -> tuple[str, object] | None:
    """("body", its lines) for a def header; ("names", the names) for a module-level assignment; else None."""
    tree = _parse(source)
    for stmt in tree.body:
        if not stmt.lineno <= line <= (stmt.end_lineno or stmt.lineno):
            continue
        header = _def_header(stmt, line)
        if header is not None:
            return "body", header
        if isinstance(stmt, ast.ClassDef):
            for inner in stmt.body:  # a method's header; the class body itself is read by name at run time
                if inner.lineno <= line <= (inner.end_lineno or inner.lineno):
                    if (inner_header := _def_header(inner, line)) is not None:
                        return "body", inner_header
            return None
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [getattr(stmt, "target", None)]
        if isinstance(stmt, ast.Assign | ast.AnnAssign) and stmt.value is not None:
            names = [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
            if names and all(isinstance(t, ast.Name | ast.Tuple) for t in targets):
                return "names", names
        return None
    return None


@functools.cache
def _parse(source: str) -> ast.Module:
    """Each source parsed once for the whole run, not once for each name of each mutant (nothing edits a tree)."""
    return ast.parse(source)


def _def_header(stmt: ast.stmt, line: int) -> range | None:
    """The body's lines when `line` is in stmt's header (decorators, signature), else None."""
    if not isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
        return None
    first = min([stmt.lineno, *(d.lineno for d in stmt.decorator_list)])
    if not first <= line < stmt.body[0].lineno:
        return None
    return range(stmt.body[0].lineno, (stmt.end_lineno or stmt.lineno) + 1)


def _reads(source: str, name: str, own: bool, module: str) -> list[tuple[int, bool]]:
    """(line, inside a function's body) of each read of `name` defined in `module`: a bare name in its own
    module or where imported by name, `module.name` elsewhere."""
    tree = _parse(source)
    bare = own or any(isinstance(n, ast.ImportFrom) and n.module and n.module.split(".")[-1] == module
                      and any(a.name == name for a in n.names) for n in ast.walk(tree))  # fmt: skip
    out = []
    for node, in_function in _walk(tree, False):
        if (bare and isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load)) or (
            isinstance(node, ast.Attribute) and node.attr == name
        ):
            out.append((node.lineno, in_function))
    return out


def _walk(node: ast.AST, in_function: bool):
    """Every node, with whether it runs inside a function's body (not its header: defaults run at import)."""
    yield node, in_function
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
        body = node.body if isinstance(node.body, list) else [node.body]
        for child in ast.iter_child_nodes(node):
            yield from _walk(child, in_function or any(child is b for b in body))
        return
    for child in ast.iter_child_nodes(node):
        yield from _walk(child, in_function)


def _lists_names(text: str, module: str) -> bool:
    """Does a file read the module's names by a name it builds (vars(module), getattr(module, ...))?"""
    m = re.escape(module)
    return re.search(rf"\bvars\({m}\)|\bgetattr\({m},|\b{m}\.__dict__", text) is not None
