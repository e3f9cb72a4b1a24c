"""Which tests run which line of port/: the map that lets make mutants run only those tests.

One run of the whole suite, in a worker's copy of the tree, records for every
line of port/ the tests that executed it: in the pytest process with
coverage.py (a context per test), and in every other Python process the tests
start (the port in a pty, the launcher under strace, a forked or raw-cloned
child up to its execve) with a small sys.settrace tracer that writes each line
the first time it runs. A mutant of a line is then run against those tests
only: a test that never reaches the line cannot notice the change (mutmut's
rule, kept at the granularity of one line).

The tracer is started by a .pth file in the worker's own venv, not through
the environment: tests start the port with a bare one. The test a process
works for is written to a file the process reads at start, for the same
reason. Work done by a module- or class-scoped fixture is recorded under that
module or class, so that a mutant seen only through a shared fixture selects
every test that reads the fixture's result.

What the .pth file imports at every interpreter start is STARTUP below,
written into the venv as _nsport_cov.py: the standard library only, never
this module. This one only make mutants imports (tests/support/mutants.py),
and it needs coverage.py only to read the map.
"""

import ast
import functools
import hashlib
import json
import os
import sqlite3
from pathlib import Path

from tests.support import mutants_readers

# Started from the .pth file in every Python process of the worker's venv while RC exists.
STARTUP = """\
import atexit, os, sys

RC, CURRENT, DATA, PORT = {rc!r}, {current!r}, {data!r}, {port!r}
_cov = None  # coverage.py, in the pytest process only
current = None  # the test this process works for
_seen = set()  # (file, line) this process has recorded
_records = -1  # a descriptor for the records, inherited from the parent across fork; -1: open the file each time
_for_child = -1
_APPEND = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC


def _context():
    try:
        with open(CURRENT) as f:
            return f.read() or None
    except OSError:
        return None


def _emit(record):
    # Each line is written when first run, so a process killed by a signal keeps what it ran. A
    # program opens the file for each record and holds no descriptor between them (tests count and
    # place descriptors); a forked child writes to one its parent opened for it, as a child in an
    # unmapped user namespace cannot create files.
    try:
        if _records >= 0:
            os.write(_records, record)
            return
        fd = os.open(f"{{DATA}}.lines.{{os.getpid()}}", _APPEND, 0o666)
        try:
            os.write(fd, record)
        finally:
            os.close(fd)
    except OSError:
        pass


def _before_fork():
    # Placed at 900 or above, out of the way of the child's descriptor shuffle; close-on-exec.
    global _for_child
    _for_child = -1
    try:
        import fcntl

        fd = os.open(f"{{DATA}}.lines.fork.{{os.getpid()}}", _APPEND, 0o666)
        try:
            _for_child = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 900)
        finally:
            os.close(fd)
    except OSError:
        pass


def _after_fork_in_parent():
    if _for_child >= 0:
        os.close(_for_child)


def _trace(frame, event, arg):
    return _line if frame.f_code.co_filename.startswith(PORT) else None


def _line(frame, event, arg):
    if event == "line":
        key = (frame.f_code.co_filename, frame.f_lineno)
        if key not in _seen:
            _seen.add(key)
            _emit(f"{{current or ''}}\\t{{key[0]}}\\t{{key[1]}}\\n".encode())
    return _line


def trace_here():
    # sys.settrace reaches the frames already running (the one that forked, its callers) through
    # f_trace, as pdb does; every other frame's f_trace goes, or a stopped tracer left there
    # would switch tracing off at that frame's next event.
    frame = sys._getframe(1)
    while frame is not None:
        frame.f_trace = _line if frame.f_code.co_filename.startswith(PORT) else None
        frame = frame.f_back
    sys.settrace(_trace)


def become_pytest():
    \"\"\"The pytest process: coverage.py (C, fast) instead of the line records, contexts switched per test.\"\"\"
    global _cov
    import coverage

    sys.settrace(None)
    _cov = coverage.Coverage(config_file=RC, data_suffix=True, auto_data=False)
    _cov.start()
    atexit.register(lambda: (_cov.stop(), _cov.save()))


def switch(context):
    \"\"\"From now on, lines belong to this test (and so do the processes it starts).\"\"\"
    global current
    current = context
    with open(CURRENT, "w") as f:
        f.write(context)
    _cov.switch_context(context)


def _after_fork():
    global _cov, _records
    _records = _for_child
    if _cov is not None:  # a child of the pytest process: records from here on
        try:
            _cov.stop()
        except Exception:
            pass
        _cov = None
    _seen.clear()
    trace_here()


if os.path.exists(RC):
    current = _context()
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent, after_in_child=_after_fork)
    sys.settrace(_trace)
"""

# Loaded with -p in the mapping run: contexts per test and per shared fixture; each test's phases' times
# (in the order the tests ran) and the failures.
PLUGIN = """\
import json

import _nsport_cov
import pytest

_nsport_cov.become_pytest()
TIMES = {times!r}
_failed, _phases = [], {{}}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _nsport_cov.switch(item.nodeid)
    yield
    _nsport_cov.switch("")


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    if fixturedef.scope == "function":
        yield
        return
    before = _nsport_cov.current
    _nsport_cov.switch(request.node.nodeid if fixturedef.scope in ("module", "class") else "")
    yield
    _nsport_cov.switch(before)


def pytest_runtest_logreport(report):
    _phases.setdefault(report.nodeid, {{}})[report.when] = round(report.duration, 3)
    if report.failed and report.nodeid not in _failed:
        _failed.append(report.nodeid)


def pytest_sessionfinish(session):
    with open(TIMES, "w") as f:
        json.dump({{"failed": _failed, "phases": _phases}}, f)
"""


def install(venv_site: Path, data: Path, tree: Path) -> list[str]:
    """Put the start-up hook and the plugin into a worker's venv; the pytest arguments that load the plugin."""
    data.mkdir(mode=0o1777, exist_ok=True)
    data.chmod(0o1777)  # children that drop to nobody still write their data
    rc = data / "coveragerc"
    startup = STARTUP.format(rc=str(rc), current=str(data / "current"), data=str(data / "cov"), port=f"{tree}/port/")
    (venv_site / "_nsport_cov.py").write_text(startup)
    (venv_site / "_nsport_covplugin.py").write_text(PLUGIN.format(times=str(data / "times.json")))
    with (venv_site / "nsport-mutants.pth").open("a") as f:
        f.write("import _nsport_cov\n")
    return ["-p", "_nsport_covplugin"]


# Loaded with -p in every mutant's run: each test's own time limit, so a hang ends in seconds.
TIMEOUTS = """\
import json

import pytest

with open({path!r}) as f:
    _limits = json.load(f)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    for item in items:
        if item.nodeid in _limits:
            item.add_marker(pytest.mark.timeout(_limits[item.nodeid]))
"""


def time_limits(cmap: dict) -> dict[str, float]:
    """Per test: three times what it took unmutated, fixtures included, plus 3 s.

    A shared fixture's setup was paid by the first test of its module in the
    mapping run; in a mutant's run any test of the module may be the first,
    and the first of the run pays the session's, so every test gets its
    module's longest setup and the session's first. The same goes for what a
    module's first test computes once for all (a functools.cache, as
    test_arch_tables' go_facts): every test also gets the call time of its
    module's first test.
    """
    phases = cmap["phases"]
    first = phases.get(cmap["order"][0], {}).get("setup", 0.0) if cmap["order"] else 0.0
    setup: dict[str, float] = {}
    for test, p in phases.items():
        module = test.split("::")[0]
        setup[module] = max(setup.get(module, 0.0), p.get("setup", 0.0))
    first_call: dict[str, float] = {}
    for test in cmap["order"]:
        first_call.setdefault(test.split("::")[0], phases.get(test, {}).get("call", 0.0))
    limits = {}
    for test in cmap["order"]:
        p, module = phases.get(test, {}), test.split("::")[0]
        own = max(setup[module], first) + first_call[module] + p.get("call", 0.0) + p.get("teardown", 0.0)
        limits[test] = round(max(5.0, 3 * own + 3), 1)
    return limits


def install_timeouts(venv_site: Path, limits: dict[str, float]) -> list[str]:
    """Every test's limit into a worker's venv; the pytest arguments that load the plugin."""
    path = venv_site / "_nsport_timeouts.json"
    path.write_text(json.dumps(limits))
    (venv_site / "_nsport_timeouts.py").write_text(TIMEOUTS.format(path=str(path)))
    return ["-p", "_nsport_timeouts"]


def enable(data: Path, tree: Path) -> None:
    (data / "coveragerc").write_text(f"[run]\ndata_file = {data}/cov\ninclude = {tree}/port/*.py\n"
                                     "disable_warnings = no-data-collected, module-not-measured\n")  # fmt: skip


def disable(data: Path) -> None:
    (data / "coveragerc").unlink(missing_ok=True)
    (data / "current").unlink(missing_ok=True)


# A context that stands for no test: import time, collection, a session-wide fixture.
EVERYTHING = ""


def read(data: Path, tree: Path) -> dict:
    """A mapping run's data: {"lines": {file: {line: [contexts]}}, "order": [tests as run],
    "seconds": {test: setup + call + teardown}, "phases": {test: {phase: seconds}}, "failed": [...]}."""
    from coverage.numbits import numbits_to_nums  # the mutants extra: not installed for make test

    lines: dict[str, dict[int, set[str]]] = {}
    for path in data.glob("cov.lines.*"):  # the line records of every process but pytest's
        for record in path.read_bytes().decode(errors="replace").splitlines():
            context, _, rest = record.partition("\t")
            file, _, line = rest.rpartition("\t")
            if line.isdigit():
                lines.setdefault(os.path.relpath(file, tree), {}).setdefault(int(line), set()).add(context)
    for db in data.glob("cov.*"):  # coverage.py's data: the pytest process's
        if db.name.startswith("cov.lines."):
            continue
        try:
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
            rows = con.execute(
                "select file.path, context.context, line_bits.numbits from line_bits"
                " join file on file.id = line_bits.file_id join context on context.id = line_bits.context_id"
            ).fetchall()
            con.close()
        except sqlite3.Error:
            continue  # a data file not written to the end
        for path, context, numbits in rows:
            rel = os.path.relpath(path, tree)
            per_file = lines.setdefault(rel, {})
            for line in numbits_to_nums(numbits):
                per_file.setdefault(line, set()).add(context or EVERYTHING)
    times = json.loads((data / "times.json").read_text())
    phases = times["phases"]  # in the order the tests ran
    return {
        "lines": {f: {n: sorted(c) for n, c in per.items()} for f, per in lines.items()},
        "order": list(phases),
        "seconds": {test: round(sum(p.values()), 3) for test, p in phases.items()},
        "failed": times["failed"],
        "phases": phases,
    }


def merge(maps: list[dict]) -> dict:
    """One map from those of runs of disjoint sets of tests (read()'s form)."""
    lines: dict[str, dict[int, set[str]]] = {}
    for m in maps:
        for file, per in m.get("lines", {}).items():
            for n, contexts in per.items():
                lines.setdefault(file, {}).setdefault(n, set()).update(contexts)
    return {
        "lines": {f: {n: sorted(c) for n, c in per.items()} for f, per in lines.items()},
        "order": [t for m in maps for t in m.get("order", [])],
        "seconds": {t: s for m in maps for t, s in m.get("seconds", {}).items()},
        "failed": [t for m in maps for t in m.get("failed", [])],
        "phases": {t: p for m in maps for t, p in m.get("phases", {}).items()},
    }


def statement_lines(source: str, line: int) -> range:
    """The lines of the statement that `line` is part of, where a tracer may report it.

    The innermost statement that spans the line; of a compound statement (an
    `if` whose condition spans two lines, an `except` clause's `try`), only
    the header, not the body.
    """
    best = None
    for start, end, header_end in _statements(source):
        if start <= line <= end and (best is None or start >= best[0]):
            best = (start, header_end)
    return range(best[0], best[1] + 1) if best else range(line, line + 1)


@functools.cache
def _statements(source: str) -> list[tuple[int, int, int]]:
    """(first line, last line, last line of the header) of every statement: a file is parsed once, not
    once for each of its mutants."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.stmt):
            end = node.end_lineno or node.lineno
            body = getattr(node, "body", None)
            header_end = body[0].lineno - 1 if isinstance(body, list) and body and body[0].lineno > node.lineno else end
            out.append((node.lineno, end, max(header_end, node.lineno)))
    return out


def select(cmap: dict, file: str, source: str, line: int, sources: dict[str, str] | None = None,
           tests: dict[str, str] | None = None) -> list[str] | None:  # fmt: skip
    """The pytest arguments that run every test reaching `line` of `file`, quickest first.

    [] when no test reaches it; None when it runs outside any test (import
    time, a session fixture) and, given every source of port/ and tests/,
    mutants_readers cannot tell who sees it: then only the whole suite will do.
    """
    contexts, files = _contexts(cmap, file, source, line), set()
    if not contexts:
        return []
    if EVERYTHING in contexts:
        seen = None if sources is None or tests is None else mutants_readers.readers(sources, tests, file, line)
        if seen is None:
            return None
        lines, files = seen
        contexts = {c for f, n in lines for c in _contexts(cmap, f, sources[f], n)}
        if EVERYTHING in contexts:
            return None
    # A module or class context (a shared fixture's work) stands for all of its tests.
    wide = [c for c in contexts if c not in cmap["seconds"]]
    tests = [t for t in cmap["order"]
             if t in contexts or t.split("::")[0] in files or any(t.startswith(w + "::") for w in wide)]  # fmt: skip
    if not tests:
        return []
    by_file: dict[str, list[str]] = {}
    for t in tests:
        by_file.setdefault(t.split("::")[0], []).append(t)
    # Whole files where every test is chosen (pytest collects them once); files by their time, quickest first.
    groups = []
    for path, chosen in by_file.items():
        every = [t for t in cmap["order"] if t.split("::")[0] == path]
        seconds = sum(cmap["seconds"].get(t, 0) for t in chosen)
        groups.append((seconds, [path] if chosen == every else chosen))
    return [arg for _, args in sorted(groups) for arg in args]


def _contexts(cmap: dict, file: str, source: str, line: int) -> set[str]:
    per_line = cmap["lines"].get(file, {})
    return {c for n in statement_lines(source, line) for c in per_line.get(n, ())}


def killer_key(file: str, function: str, before: str, after: str) -> str:
    """A mutant's name in the kill hints (tests/support/mutants.py kill_hints; docs/figures/mutants.json)."""
    return hashlib.sha256("\0".join((file, function, before, after)).encode()).hexdigest()[:12]


def seconds_of(cmap: dict, args: list[str]) -> float:
    files = {a for a in args if "::" not in a}
    return sum(s for t, s in cmap["seconds"].items() if t in args or t.split("::")[0] in files)
