"""The mutants no test can tell from the original, and the checks that keep their list true to port/.

mutants_equivalents.toml gives each such mutant a reason (`why`), and make
mutants does not run what it lists. An entry names a file, a function (its
qualified name: `Class.method`, `Outer.inner`; "" for module or class level)
and a snippet: `before`, a piece of that function's text holding the change,
and `after`, the same piece in the mutant. It covers every mutant of that
function whose change lies inside an occurrence of `before` and turns it
into `after`; so an edit elsewhere in the line or in the function leaves it
matching. Snippets are compared with any run of white space (a line break
and its indentation too) standing for one space, and their ends fall on
whole words: `i < 0` is not found in `xi < 0`. Keep each the smallest part
of the line that still names one kind of mutant in its function; where two
identical lines need different reasons, a snippet may reach into the line
before.

Two checks. `source_problem` needs only the standard library
(tests/test_mutants_equivalents.py runs it under make test): the file and
the function exist, `before` occurs in the function, and `after` is a change
the operators make. `check` is make mutants' first step, on the mutants
cosmic-ray generates: each entry covers at least one, and no mutant is
covered by two entries.
"""

import ast
import functools
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tests.support.paths import ROOT

PATH = Path(__file__).with_name("mutants_equivalents.toml")
FIELDS = ("file", "function", "before", "after", "why")


@dataclass(frozen=True)
class Equivalent:
    file: str  # relative to the project root
    function: str  # the innermost def around the change, qualified; "" outside any def
    before: str  # the snippet in the source
    after: str  # the snippet in the mutant
    why: str  # why no test can tell the two apart

    def __str__(self) -> str:
        return f"{self.file} {self.function or '(module level)'}: {squeeze(self.before)!r} -> {squeeze(self.after)!r}"


class Mutant(Protocol):
    """What the checks read of tests/support/mutants.py's Mutant."""

    file: str
    function: str
    line: int
    operator: str
    source: str  # the whole mutated file


def load(path: Path = PATH) -> list[Equivalent]:
    """The entries, in the file's order; ValueError names the first malformed one."""
    entries = []
    for n, entry in enumerate(tomllib.loads(path.read_text()).get("equivalent", []), 1):
        if set(entry) != set(FIELDS) or not all(isinstance(entry[k], str) for k in FIELDS):
            raise ValueError(f"{path.name}: entry {n} needs the text fields {', '.join(FIELDS)} and no other")
        entries.append(Equivalent(**entry))
    return entries


def squeeze(text: str) -> str:
    """Text with every run of white space as one space, none at the ends: how snippets are compared."""
    return " ".join(text.split())


def function_spans(source: str) -> list[tuple[str, int, int]]:
    """(qualified name, first line, last line) of every def, innermost first."""
    spans = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}"
                visit(child, name + ".")
                if not isinstance(child, ast.ClassDef):
                    spans.append((name, child.lineno, child.end_lineno))
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return spans


def function_at(spans: list[tuple[str, int, int]], line: int) -> str:
    """The innermost def around `line`, or "" outside any."""
    return next((name for name, first, last in spans if first <= line <= last), "")


@functools.cache
def _function_texts(source: str) -> dict[str, str]:
    """Each function's text, squeezed; under "" the lines outside any def."""
    lines = source.splitlines()
    spans = function_spans(source)
    texts = {name: squeeze("\n".join(lines[first - 1 : last])) for name, first, last in spans}
    outside = [text for n, text in enumerate(lines, 1) if not any(first <= n <= last for _, first, last in spans)]
    texts[""] = squeeze("\n".join(outside))
    return texts


def _word(c: str) -> bool:
    return c.isalnum() or c == "_"


def _whole(text: str, i: int, j: int) -> bool:
    """text[i:j] does not start or end inside a word."""
    return (i == 0 or not (_word(text[i - 1]) and _word(text[i]))) and (
        j == len(text) or not (_word(text[j - 1]) and _word(text[j]))
    )


def occurrences(text: str, snippet: str) -> list[int]:
    """Where the (squeezed) snippet starts in text, on whole words."""
    found, i = [], text.find(snippet)
    while snippet and i >= 0:
        if _whole(text, i, i + len(snippet)):
            found.append(i)
        i = text.find(snippet, i + 1)
    return found


# The operators' changes (tests/support/mutants.py's OPERATORS), token for token.
_TOKEN = re.compile(r"0[xob][0-9a-f_]+|\d[\d_]*(?:\.\d*)?(?:e[-+]?\d+)?|\w+|[=!<>]=|<<|>>|\*\*|//|->|:=|\S", re.I)
_SWAPS = {
    ("==", "!="), ("!=", "=="), ("<", "<="), ("<=", "<"), (">", ">="), (">=", ">"), ("<", ">="), (">=", "<"),
    ("+", "-"), ("-", "+"), ("|", "&"), ("&", "|"), ("and", "or"), ("or", "and"), ("True", "False"),
    ("False", "True"), ("break", "continue"), ("continue", "break"),
}  # fmt: skip


def _number(token: str) -> float | None:
    try:
        return int(token, 0)
    except ValueError:
        pass
    try:
        return float(token)
    except ValueError:
        return None


def is_mutation(before: str, after: str) -> bool:
    """`after` is `before` with one change the operators make: a comparison or operator swapped, a number
    plus one, a `not` added or dropped, a handler's exception replaced, a loop's iterable emptied, a call
    statement replaced by `pass`."""
    a, b = _TOKEN.findall(before), _TOKEN.findall(after)
    while a and b and a[0] == b[0]:
        a, b = a[1:], b[1:]
    while a and b and a[-1] == b[-1]:
        a, b = a[:-1], b[:-1]
    if len(a) == 1 and len(b) == 1:
        old, new = _number(a[0]), _number(b[0])
        return (
            (a[0], b[0]) in _SWAPS
            or (old is not None and new is not None and new == old + 1)
            or (a[0].isidentifier() and b[0] == "CosmicRayTestingException")
        )
    return (
        (a, b) in ((["not"], []), ([], ["not"]))
        or (bool(a) and b == ["[", "]"])
        or (len(a) > 2 and a[0].isidentifier() and a[-1] == ")" and b == ["pass"])
    )


def source_problem(entry: Equivalent, root: Path = ROOT) -> str | None:
    """What keeps the entry from naming a mutant of the current source, found without cosmic-ray; None if nothing."""
    path = root / entry.file
    if not path.is_file():
        return f"no file {entry.file}"
    texts = _function_texts(path.read_text())
    if entry.function not in texts:
        return f"no function {entry.function} in {entry.file}"
    if not squeeze(entry.before) or not entry.why.strip():
        return "an empty snippet or reason"
    if not occurrences(texts[entry.function], squeeze(entry.before)):
        return f"the snippet is not in {entry.function or 'the module level'}"
    if not is_mutation(squeeze(entry.before), squeeze(entry.after)):
        return "'after' is no change an operator makes to 'before'"
    return None


def _change(original: str, mutated: str) -> tuple[int, int, str]:
    """original[start:end] became the returned text in mutated: the one place they differ."""
    n = min(len(original), len(mutated))
    lo, hi = 0, n  # the longest common prefix, by halves (slices compare at C speed)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if original[:mid] == mutated[:mid] else (lo, mid - 1)
    prefix = lo
    lo, hi = 0, n - prefix  # and suffix, not reaching into the prefix
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if original[len(original) - mid :] == mutated[len(mutated) - mid :] else (lo, mid - 1)
    return prefix, len(original) - lo, mutated[prefix : len(mutated) - lo]


def covers(entry: Equivalent, original: str, change: tuple[int, int, str]) -> bool:
    """An occurrence of `before` in the (squeezed) original holds the change and becomes `after`."""
    start, end, new = change
    before, after = squeeze(entry.before), squeeze(entry.after)
    for i in occurrences(original, before):
        j = i + len(before)
        if i <= start and end <= j and original[i:start] + new + original[end:j] == after:
            return True
    return False


def check(
    entries: Sequence[Equivalent], mutants: Sequence[Mutant], sources: dict[str, str], root: Path = ROOT
) -> tuple[list[Equivalent | None], list[str]]:
    """Each mutant's entry (None for most), and every problem, one line each: an entry whose function or snippet
    is gone, one that covers none of the mutants, a mutant two entries cover. `mutants` are every mutant of
    every file an entry names, `sources` those files' texts."""
    problems = []
    usable = []
    for entry in entries:
        if problem := source_problem(entry, root):
            problems.append(f"equivalent {entry}: {problem}")
        else:
            usable.append(entry)
    by_function: dict[tuple[str, str], list[int]] = {}
    for n, entry in enumerate(usable):
        by_function.setdefault((entry.file, entry.function), []).append(n)
    squeezed = {file: squeeze(text) for file, text in sources.items()}
    used = [0] * len(usable)
    found: list[Equivalent | None] = []
    for m in mutants:
        candidates = by_function.get((m.file, m.function), [])
        change = _change(squeezed[m.file], squeeze(m.source)) if candidates else (0, 0, "")
        hits = [n for n in candidates if covers(usable[n], squeezed[m.file], change)]
        for n in hits:
            used[n] += 1
        if len(hits) > 1:
            problems.append(f"{m.file}:{m.line} {m.operator}: covered by {len(hits)} equivalents: "
                            + "; ".join(str(usable[n]) for n in hits))  # fmt: skip
        found.append(usable[hits[0]] if hits else None)
    problems += [
        f"equivalent {e}: covers no mutant of the current source" for e, n in zip(usable, used, strict=True) if not n
    ]
    return found, problems
