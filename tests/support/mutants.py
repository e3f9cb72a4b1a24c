"""Mutation testing of port/ with cosmic-ray, driven by the test suite (make mutants; scripts/mutants.py).

Each mutant is one small change cosmic-ray makes to one file (a comparison
flipped, a number moved by one, a condition negated, a call dropped, ...).
It is written into a worker's copy of the tree, never into this one, and the
suite runs there: the tests that reach its line (tests/support/mutants_map.py),
or without that map first a fast subset (FAST) and, for a mutant that
survives it, the whole suite. A mutant is killed when a test fails (or the
run hangs past its time limit: a timeout), survived when everything passes,
and equivalent when tests/support/mutants_equivalents.toml says why no test
can see it (those are not run). Writes reports/mutants.{md,json}.

Every test run happens inside new mount, UTS, IPC and network namespaces
(unshare): a mutant that drops a CLONE_NEW* flag would otherwise let a
probe rename the host or mount over its /proc.

Needs the mutants extra (cosmic-ray, coverage.py): only make mutants imports
this module.
"""

import ast
import concurrent.futures
import difflib
import hashlib
import json
import os
import pickle
import py_compile
import queue
import re
import select
import shlex
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import parso
from cosmic_ray.operators.operator import Example, Operator
from cosmic_ray.plugins import get_operator

from tests.support import mutants_equivalents, mutants_map, run_order
from tests.support.mutants_server import NETWORK
from tests.support.paths import REPORTS, ROOT
from tests.support.procfs import descendants

# Generated data, not mutated: make tables writes them from Go's sources, and test_generated.py fails on any
# byte that differs from that output (scripts/gen_go_tables.py --check), so every mutant of them is killed
# by construction; test_arch_tables.py checks their values against Go's compiler besides.
GENERATED = ("port/gotables.py", "port/gotables_arch.py")
# Every other module of port/ (make mutants' default): the largest first, so a run stopped half-way has
# its long files under way.
DEFAULT_FILES = tuple(
    sorted((f for f in (str(p.relative_to(ROOT)) for p in (ROOT / "port").glob("*.py")) if f not in GENERATED),
           key=lambda f: -(ROOT / f).stat().st_size)
)  # fmt: skip
# The fast subset: the tests that start the port in-process or once per case,
# without the interactive probe suite. The whole suite runs for its survivors.
# In-process tests first: most mutants break every start and die in seconds.
FAST = (
    "tests/test_exec.py", "tests/test_start_cleanup.py", "tests/test_strategies.py", "tests/test_look_path.py",
    "tests/test_environment.py", "tests/test_fd_shuffle.py", "tests/test_launcher_cli.py",
    "tests/test_launcher_signals.py", "tests/test_notes_paths.py", "tests/test_inheritance.py",
    "tests/test_pdeathsig.py",
)  # fmt: skip
# Per file, the tests most likely to notice a change there run first (-x stops at the first failure).
FIRST = {
    "port/runtime.py": ("tests/test_launcher_signals.py", "tests/test_inheritance.py"),
    "port/exec_linux.py": ("tests/test_exec.py", "tests/test_fd_shuffle.py", "tests/test_start_cleanup.py"),
    "port/launcher.py": ("tests/test_arch_tables.py", "tests/test_launcher_grammar.py", "tests/test_launcher_cli.py"),
    "port/sysprocattr.py": ("tests/test_launcher_grammar.py", "tests/test_arch_tables.py", "tests/test_exec.py"),
    "port/libc.py": ("tests/test_arch_tables.py", "tests/test_exec.py", "tests/test_inheritance.py"),
    "port/rawclone.py": ("tests/test_arch_tables.py", "tests/test_rawclone.py", "tests/test_strategies.py"),
    "port/notes.py": ("tests/test_notes_paths.py",),
}
# Tests of the tooling's own files, not of the port: the equivalents' list checked against the source
# fails for any mutant of a line an entry names (its snippet is gone), which says nothing of behaviour.
NOT_OF_THE_PORT = ("tests/test_mutants_equivalents.py",)
# The rest of the suite, for the fast subset's survivors: with it, the whole suite.
REST = tuple(f"--ignore={t}" for t in (*FAST, *NOT_OF_THE_PORT))
# The classic mutation set, not cosmic-ray's every pairing (56 comparison and
# 120 binary-operator variants would not fit CI's 30 minutes): a comparison
# negated or moved across its boundary, arithmetic and bit operators inverted,
# numbers moved up by one, conditions negated, and/or swapped, booleans flipped,
# loops run zero times, exception handlers that no longer catch, and (ours) a
# call statement dropped.
OPERATORS = (
    "core/ReplaceComparisonOperator_Eq_NotEq", "core/ReplaceComparisonOperator_NotEq_Eq",
    "core/ReplaceComparisonOperator_Lt_LtE", "core/ReplaceComparisonOperator_LtE_Lt",
    "core/ReplaceComparisonOperator_Gt_GtE", "core/ReplaceComparisonOperator_GtE_Gt",
    "core/ReplaceComparisonOperator_Lt_GtE", "core/ReplaceComparisonOperator_GtE_Lt",
    "core/ReplaceComparisonOperator_Is_IsNot", "core/ReplaceComparisonOperator_IsNot_Is",
    "core/ReplaceBinaryOperator_Add_Sub", "core/ReplaceBinaryOperator_Sub_Add",
    "core/ReplaceBinaryOperator_BitOr_BitAnd", "core/ReplaceBinaryOperator_BitAnd_BitOr",
    "core/ReplaceUnaryOperator_Delete_Not", "core/ReplaceUnaryOperator_USub_UAdd",
    "core/NumberReplacer", "core/AddNot", "core/ReplaceAndWithOr", "core/ReplaceOrWithAnd",
    "core/ReplaceTrueWithFalse", "core/ReplaceFalseWithTrue", "core/ZeroIterationForLoop",
    "core/ExceptionReplacer", "core/ReplaceBreakWithContinue", "core/ReplaceContinueWithBreak",
    "nsport/RemoveCall",
)  # fmt: skip


class RemoveCall(Operator):
    """A statement that is only a call (os.close(fd), libc.prctl(...)) becomes `pass`.

    cosmic-ray has no statement-deletion operator; dropped side effects are
    what the port's straight-line child steps are made of.
    """

    def mutation_positions(self, node):
        if (
            node.type in ("power", "atom_expr")
            and node.parent is not None
            and node.parent.type == "simple_stmt"
            and node.children[-1].type == "trailer"
            and node.children[-1].children[0].value == "("
        ):
            yield node.start_pos, node.end_pos

    def mutate(self, node, index):
        return parso.python.tree.Keyword("pass", node.start_pos, prefix=node.get_first_leaf().prefix)

    @classmethod
    def examples(cls):
        return (Example("os.close(fd)\n", "pass\n"),)


def operator(name: str) -> Operator:
    return RemoveCall() if name == "nsport/RemoveCall" else get_operator(name)()


@dataclass
class Mutant:
    file: str
    operator: str
    occurrence: int
    line: int
    before: str
    after: str
    outcome: str = ""  # killed, survived, timeout, equivalent
    stage: str = ""  # fast or full: the run that decided
    killed_by: str = ""  # the first failing test
    why: str = ""  # for an equivalent one
    declared: bool = False  # listed in mutants_equivalents.toml: run all the same, and it must survive
    flaky_kill: str = ""  # a declared one killed once, then surviving two runs again: what killed it that once
    seconds: float = 0.0
    source: str = field(default="", repr=False)

    function: str = ""  # the innermost def around the change
    tests: int = 0  # how many tests (or whole test files) reach the line and were run

    @property
    def key(self) -> tuple[str, str, str, str]:
        return self.file, self.function, self.before, self.after


def enumerate_mutants(files: list[str]) -> list[Mutant]:
    """Every mutant of the files under OPERATORS, with the line it changes."""
    mutants = []
    for file in files:
        source = (ROOT / file).read_text()
        module = parso.parse(source)
        nodes = list(_walk(module))
        lines = source.splitlines()
        annotations = _annotation_spans(source)
        functions = mutants_equivalents.function_spans(source)
        for name in OPERATORS:
            op = operator(name)
            # cosmic-ray's occurrences: each position of each node, in the order its visitor walks the tree.
            sites = [(node, index, start) for node in nodes
                     for index, (start, _) in enumerate(op.mutation_positions(node))]  # fmt: skip
            for occurrence, (node, index, start) in enumerate(sites):
                if name == "core/NumberReplacer" and occurrence % 2:
                    continue  # each number gets +1 and -1 in turn: keep +1 only
                if any(a <= start < b for a, b in annotations):
                    continue  # `str | None` as `str & None`: a type hint, not behaviour
                mutated = _mutate(module, node, op, index)
                if mutated is None or mutated == source:
                    continue
                new_lines = mutated.splitlines()
                diff = [d for d in difflib.ndiff(lines, new_lines) if d[:2] in ("- ", "+ ")]
                before = next((d[2:].strip() for d in diff if d.startswith("- ")), "")
                after = next((d[2:].strip() for d in diff if d.startswith("+ ")), "")
                line = next(i for i, (a, b) in enumerate(zip(lines, new_lines, strict=False), 1) if a != b)
                function = mutants_equivalents.function_at(functions, line)
                mutants.append(Mutant(file, name, occurrence, line, before, after, function=function, source=mutated))
    return mutants


def _mutate(module, node, op: Operator, index: int) -> str | None:
    """What cosmic-ray's mutate_code gives for this site (its visitor's `op.mutate(node, index)`), made on a
    copy of the statement around the node only, swapped into the file's tree for as long as get_code takes:
    copying the whole tree for each mutant was most of the time enumerating took (40 s)."""
    stmt = node
    while stmt.parent is not None and stmt.parent.type not in ("file_input", "suite"):
        stmt = stmt.parent
    parent = stmt.parent
    if parent is None:
        return None  # the module itself: no operator here mutates it
    path = []  # child indexes from the statement down to the node
    while node is not stmt:
        path.append(node.parent.children.index(node))
        node = node.parent
    stmt.parent = None  # pickle the statement alone, not the tree it hangs from
    try:
        copy = pickle.loads(pickle.dumps(stmt, pickle.HIGHEST_PROTOCOL))
    finally:
        stmt.parent = parent
    target = copy
    for i in reversed(path):
        target = target.children[i]
    mutated = op.mutate(target, index)
    if target is copy:
        copy = mutated
    else:
        target.parent.children = [mutated if c is target else c for c in target.parent.children if c is not target
                                  or mutated is not None]  # fmt: skip
    at = parent.children.index(stmt)
    parent.children[at : at + 1] = [] if copy is None else [copy]
    try:
        return module.get_code()
    finally:
        parent.children[at : at + (copy is not None)] = [stmt]


def _annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) positions, as (line, column), of every type annotation in source."""
    spans = []
    for node in ast.walk(ast.parse(source)):
        hints = []
        if isinstance(node, ast.arg | ast.AnnAssign):
            hints.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            hints.append(node.returns)
        spans += [((h.lineno, h.col_offset), (h.end_lineno, h.end_col_offset)) for h in hints if h is not None]
    return spans


def _walk(node):
    yield node
    for child in getattr(node, "children", ()):
        yield from _walk(child)


def previous(report: Path, hashes: dict[str, str]) -> dict[tuple[str, str, int], dict]:
    """The last report's mutants of the files that have not changed since."""
    try:
        data = json.loads(report.read_text())
    except (OSError, ValueError):
        return {}
    same = {f for f, h in data.get("run", {}).get("hashes", {}).items() if hashes.get(f) == h}
    return {(m["file"], m["operator"], m["occurrence"]): m for m in data.get("mutants", []) if m["file"] in same}


def keep_other_files(report: Path, files: list[str]) -> dict[str, tuple[dict, list[dict], str]]:
    """From the last report, the files this run left alone and that have not changed since."""
    try:
        data = json.loads(report.read_text())
    except (OSError, ValueError):
        return {}
    kept = {}
    for file, digest in data.get("run", {}).get("hashes", {}).items():
        path = ROOT / file
        if file in files or file not in data["files"] or not path.is_file():
            continue
        if hashlib.sha256(path.read_bytes()).hexdigest()[:16] == digest:
            kept[file] = (data["files"][file], [m for m in data["mutants"] if m["file"] == file], digest)
    return kept


def kill_hints(report: Path) -> dict[str, str]:
    """Per mutant (mutants_map.killer_key), the test that killed it in the last run: this checkout's last
    report, or else the one committed under docs/figures/ (make figures keeps its killers)."""
    hints = {}
    try:
        kept = json.loads((ROOT / "docs/figures/mutants.json").read_text()).get("killers", {})
        hints.update({key: kept["tests"][i] for key, i in kept.get("by", {}).items()})
    except (OSError, ValueError, KeyError, IndexError):
        pass
    try:
        for m in json.loads(report.read_text()).get("mutants", []):
            if m.get("outcome") == "killed" and m.get("killed_by"):
                hints[mutants_map.killer_key(m["file"], m["function"], m["before"], m["after"])] = m["killed_by"]
    except (OSError, ValueError, KeyError):
        pass
    return hints


class Worker:
    """A copy of the tree (build/ shared) where one mutant at a time is written."""

    def __init__(self, base: Path, n: int, scratch: Path):
        self.dir = base / f"w{n}"
        listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                                capture_output=True, check=True).stdout.decode().split("\0")  # fmt: skip
        for rel in filter(None, listed):
            if (ROOT / rel).is_file():
                (self.dir / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / rel, self.dir / rel)
        (self.dir / "build").symlink_to(ROOT / "build")
        # An interpreter of the copy's own: the tests start the port as `sys.executable -m port...`, some
        # with a bare environment and another cwd, where only the interpreter's path can point at the copy.
        # It finds the copy first, then the project venv's packages (whose nsport.pth names this tree).
        venv = self.dir / ".venv"
        subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        site_packages = site.getsitepackages()  # the project venv's
        self.site = next(venv.glob("lib/python*/site-packages"))
        self.site.joinpath("nsport-mutants.pth").write_text("\n".join([str(self.dir), *site_packages]) + "\n")
        self.python = str(venv / "bin" / "python")
        for tool in Path(sys.executable).parent.iterdir():  # go, ruff, ...: tests find them beside python
            if not (venv / "bin" / tool.name).exists():
                (venv / "bin" / tool.name).symlink_to(tool.resolve())
        tmpdir = scratch / f"w{n}"
        tmpdir.mkdir(mode=0o1777)
        tmpdir.chmod(0o1777)
        self.env = dict(os.environ, PYTHONPATH=str(self.dir), PYTHONDONTWRITEBYTECODE="1", TMPDIR=str(tmpdir))
        self.env.pop("PYTEST_ADDOPTS", None)
        self.plugins: list[str] = []  # pytest arguments every mutant's run takes (the per-test time limits)
        self.server: subprocess.Popen | None = None  # once started, the pytest process each run is a fork of
        self._bytecode()

    def _bytecode(self) -> None:
        """Bytecode for the copy, written once: without it every mutant's pytest compiles (and
        assertion-rewrites) each test module it collects, and every port process a test starts
        compiles port/ again, about a second of CPU a mutant. Nothing is written after this
        (PYTHONDONTWRITEBYTECODE), but a test that starts the port with a bare environment would:
        port/'s bytecode is checked against a hash of its source (write() compiles each new version),
        so a pyc can never pass for another version of a file, as a timestamp pyc could when a mutant
        of the same size is written within the same second."""
        collect = {k: v for k, v in self.env.items() if k != "PYTHONDONTWRITEBYTECODE"}
        subprocess.run([self.python, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", "--collect-only"],
                       cwd=self.dir, env=collect, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        for source in (self.dir / "port").glob("*.py"):
            _compile(source)

    def check_isolated(self) -> None:
        """The port a test starts must be this copy's, not the installed tree's."""
        probe = "import port; print(port.__file__)"
        for env in (self.env, {"PATH": os.environ["PATH"]}):  # some tests start the port with a bare env
            out = subprocess.run([self.python, "-c", probe], cwd="/", env=env, capture_output=True, text=True)
            if not out.stdout.startswith(str(self.dir)):
                sys.exit(f"mutants: the copy in {self.dir} imports {out.stdout.strip()!r}; PYTHONPATH is not honoured")

    def run(self, tests: tuple[str, ...] | list[str], timeout: float, per_test: int = 60, map_plugin: tuple = ()
            ) -> tuple[str, str, float]:  # fmt: skip
        """Run pytest here; (passed|failed|timeout, first failing test, seconds).

        A mutant's run stops at the first failure, with each test's own time limit (self.plugins);
        the mapping run (map_plugin) runs every test.
        """
        options = ["-q", "-n", "0", "-p", "no:cacheprovider", "--timeout", str(per_test)]
        if map_plugin:
            options += map_plugin
        else:  # hypothesis's plugin only adds options and reports (test_scenarios sets its own): 0.15 s a start
            options += ["-x", "-p", "no:hypothesispytest", *self.plugins]
        start = time.monotonic()
        if self.server is not None and not map_plugin:
            status, text = self._run_forked([*options, *tests], timeout)
        else:
            # Dispositions as a terminal gives them (a job started with & has SIGINT ignored).
            argv = ["env", "--default-signal=HUP,INT", "unshare", "--mount", "--uts", "--ipc", "--net",
                    "sh", "-c", SANDBOX, "sh", self.python, "-m", "pytest", *options, *tests]  # fmt: skip
            proc = subprocess.Popen(argv, cwd=self.dir, env=self.env, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                    stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
            RUNNING.add(proc.pid)
            try:
                out, _ = proc.communicate(timeout=timeout)
                status, text = proc.returncode, out.decode(errors="replace")
            except subprocess.TimeoutExpired:
                kill_tree(proc.pid)
                proc.communicate()
                status = None
            finally:
                RUNNING.discard(proc.pid)
        if status == 4 and NOT_FOUND.search(text) and any("::" in t for t in tests):
            # A selected test is gone: its parameters come from port/, which the mutant changed. Not a failure
            # of any test: its whole file runs instead.
            files = list(dict.fromkeys(t.split("::")[0] for t in tests))
            result, failed, seconds = self.run(files, timeout, per_test, map_plugin)
            return result, failed, time.monotonic() - start
        seconds = time.monotonic() - start
        if status is None:
            return "timeout", "", seconds
        # Status 0 alone is no pass: a mutant can make pytest's process exec the test's command.
        if status == 0 and SUMMARY.search(text) and not FAILURES.search(text):
            return "passed", "", seconds
        failed = next((ln.split()[1] for ln in text.splitlines() if ln.startswith(("FAILED ", "ERROR "))), "")
        if any(ln.startswith("FAILED ") and "Timeout" in ln for ln in text.splitlines()):
            return "timeout", failed, seconds  # a test over its time limit (pytest-timeout)
        return "failed", failed or f"pytest exit {status}, no summary", seconds

    def start_server(self) -> None:
        """From now on each run is a fork of one pytest process started here (tests/support/mutants_server.py)."""
        argv = ["env", "--default-signal=HUP,INT", self.python, "-m", "tests.support.mutants_server"]
        self.server = subprocess.Popen(argv, cwd=self.dir, env=self.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self._answers = b""

    def stop_server(self) -> None:
        if self.server is not None:
            self.server.stdin.close()
            self.server.wait()
            self.server = None

    def _answer(self, deadline: float | None = None) -> list[str] | None:
        """The server's next line, split; None if none came by the deadline (a monotonic time)."""
        fd = self.server.stdout.fileno()
        while b"\n" not in self._answers:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and (left <= 0 or not select.select([fd], [], [], left)[0]):
                return None
            chunk = os.read(fd, 4096)
            if not chunk:
                raise RuntimeError(f"mutants: the pytest server in {self.dir} ended")
            self._answers += chunk
        line, self._answers = self._answers.split(b"\n", 1)
        return line.decode().split()

    def _run_forked(self, args: list[str], timeout: float) -> tuple[int | None, str]:
        """(exit status or None on a timeout, output) of one run in a child of the server."""
        out = self.dir.parent / f"{self.dir.name}.out"
        self.server.stdin.write((json.dumps({"args": args, "out": str(out)}) + "\n").encode())
        self.server.stdin.flush()
        pid = int(self._answer()[1])
        RUNNING.add(pid)
        try:
            answer = self._answer(time.monotonic() + timeout)
            if answer is None:
                kill_tree(pid)
                self._answer()  # the server has reaped it
        finally:
            RUNNING.discard(pid)
        text = out.read_text(errors="replace")
        return (None if answer is None else os.waitstatus_to_exitcode(int(answer[1]))), text

    def write(self, file: str, source: str) -> None:
        (self.dir / file).write_text(source)
        _compile(self.dir / file)


def _compile(source: Path) -> None:
    """source's bytecode, checked against its hash at every import (see Worker._bytecode)."""
    py_compile.compile(str(source), invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH, quiet=2)


SUMMARY = re.compile(r"^=*\s*\d+ passed(, \d+ (skipped|deselected|xfailed|xpassed|warnings?))* in [\d.]+s", re.M)
FAILURES = re.compile(r"^(FAILED|ERROR) ", re.M)
NOT_FOUND = re.compile(r"^ERROR: not found: ", re.M)
# The sandbox's network looks like a host's: lo up and a link of its own (a veth pair where the kernel has
# veth), so that probes asking "are these the host's links?" can tell a namespace from the host.
# The commands are mutants_server.NETWORK's, which the forked runs take in the same order.
SANDBOX = f'{shlex.join(NETWORK[0])} && {{ {shlex.join(NETWORK[1])} 2>/dev/null || :; }} && exec "$@"'
RUNNING: set[int] = set()  # the test runs under way, to end on SIGTERM or ^C


def kill_tree(pid: int) -> None:
    """SIGKILL a process we started and every descendant, by pid."""
    for p in [pid, *descendants(pid)]:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


def run_all(mutants: list[Mutant], workers: list[Worker], limits: dict[str, float], fast_only: bool, report,
            cmap: dict | None, hints: dict[str, str]) -> None:  # fmt: skip
    cmap_tests = set(cmap["seconds"]) if cmap else set()
    pool: queue.Queue[Worker] = queue.Queue()
    for w in workers:
        pool.put(w)
    originals = {m.file: (ROOT / m.file).read_text() for m in mutants}
    # For a line that runs at import, who reads what it defines (tests/support/mutants_readers.py).
    sources = {str(p.relative_to(ROOT)): p.read_text() for p in (ROOT / "port").glob("*.py")}
    tests = {str(p.relative_to(ROOT)): p.read_text() for d in ("tests", "scripts") for p in (ROOT / d).rglob("*.py")}
    done = 0
    # The tests that killed a mutant of the same function go first: a function's mutants tend to
    # break the same behaviour, and -x stops at the first failure.
    killers: dict[tuple[str, str], list[str]] = {}
    kills: dict[str, int] = {}  # and then the tests that killed the most mutants so far

    def one(m: Mutant) -> Mutant:
        args = None if cmap is None else mutants_map.select(cmap, m.file, originals[m.file], m.line, sources, tests)
        if args is not None:
            args = [a for a in args if not a.startswith(NOT_OF_THE_PORT)]
        if args == []:  # no test reaches the line: nothing to run, nothing can notice
            m.outcome, m.stage = "equivalent" if m.declared else "survived", "unreached"
            return m
        # The test that killed this mutant last time goes first (the order only: a stale hint costs time).
        hint = [t for t in [hints.get(mutants_map.killer_key(*m.key))] if t and t in cmap_tests]
        w = pool.get()
        try:
            w.write(m.file, m.source)
            try:
                if args is not None:  # the tests that run this line, quickest first
                    m.tests = len(args)
                    # A hang (a pipe nobody closes, a lost wakeup) is common: each test has its own limit
                    # (Worker.plugins); this one is for a run that hangs outside any test.
                    limit = 3 * mutants_map.seconds_of(cmap, args) + 30
                    files = {a for a in args if "::" not in a}
                    best = sorted(kills, key=kills.get, reverse=True)[:5]
                    first = [t for t in [*hint, *killers.get((m.file, m.function), []), *best]
                             if t in args or t.split("::")[0] in files]  # fmt: skip
                    first = list(dict.fromkeys(first))
                    result, failed, m.seconds = w.run([*first, *(a for a in args if a not in first)], limit)
                    m.stage = "reached"
                    if result in ("failed", "timeout") and failed in cmap["seconds"]:
                        ranked = killers.setdefault((m.file, m.function), [])
                        ranked[:] = [failed, *(t for t in ranked if t != failed)][:3]
                        kills[failed] = kills.get(failed, 0) + 1
                else:  # the line runs at import: every test may see it
                    first = tuple(t for t in FIRST.get(m.file, ()) if (ROOT / t).is_file())
                    # A hang (a pipe nobody closes) is common: the fast tests each take a few seconds at most.
                    order = (*hint, *first, *(t for t in FAST if t not in first))
                    result, failed, seconds = w.run(order, limits["fast"], per_test=20)
                    m.stage, m.seconds = "fast", seconds
                    if result == "passed" and not fast_only:
                        result, failed, seconds = w.run(REST, limits["full"])
                        m.stage, m.seconds = "full", m.seconds + seconds
            finally:
                w.write(m.file, originals[m.file])
            m.outcome = {"passed": "survived", "failed": "killed", "timeout": "timeout"}[result]
            if m.declared and m.outcome == "survived":
                m.outcome = "equivalent"  # as declared, and now shown: the tests that reach it pass
            m.killed_by = failed
            return m
        finally:
            pool.put(w)

    written = 0.0
    ex = concurrent.futures.ThreadPoolExecutor(len(workers))
    try:
        for future in concurrent.futures.as_completed([ex.submit(one, m) for m in mutants]):
            m = future.result()
            done += 1
            print(f"[{done}/{len(mutants)}] {m.outcome:8} {m.stage:4} {m.seconds:5.1f}s {m.file}:{m.line} "
                  f"{m.operator.split('/')[1]}: {m.after[:60]}", flush=True)  # fmt: skip
            if time.monotonic() > written + 10:  # for --resume after a stop; writing 1500 mutants takes a while
                report()
                written = time.monotonic()
    except BaseException:
        ex.shutdown(wait=False, cancel_futures=True)
        for pid in list(RUNNING):
            kill_tree(pid)
        raise
    finally:
        ex.shutdown()


def recheck(mutants: list[Mutant], hints: dict[str, str], run_again) -> None:
    """A declared equivalent that did not survive runs twice more, its killer first. Killed again, its
    reason is wrong; surviving both, the one kill came from a test that fails now and then (or from a
    difference that shows only sometimes): it stands as equivalent, with that kill kept (flaky_kill)
    and reported, so that a reviewer sees it."""
    doubtful = [m for m in mutants if m.declared and m.outcome in ("killed", "timeout")]
    if not doubtful:
        return
    print(f"mutants: {len(doubtful)} declared equivalents did not survive; each runs twice more", flush=True)
    first = {id(m): (m.outcome, m.killed_by) for m in doubtful}
    for m in doubtful:
        if m.killed_by:
            hints[mutants_map.killer_key(*m.key)] = m.killed_by
    wrong: set[int] = set()  # ids of those killed again
    for _ in range(2):
        again = [m for m in doubtful if id(m) not in wrong]
        for m in again:
            m.outcome = ""
        run_again(again)
        wrong |= {id(m) for m in again if m.outcome in ("killed", "timeout")}
    for m in doubtful:
        if id(m) not in wrong:
            outcome, killer = first[id(m)]
            m.flaky_kill = f"{outcome} once by {killer or 'a hang'}, then survived twice"


def coverage_map(workers: list[Worker], base: Path) -> dict | None:
    """Run the unmutated suite once under coverage: which tests reach which line (tests/support/mutants_map.py).

    The test files are shared out among the workers, each running its share in its own copy of the tree at
    the same time (a test file stays whole, so its module-scoped fixtures run once), and the maps are merged.
    """
    shares = _shares(len(workers))
    started = time.monotonic()

    def one(n: int) -> tuple[str, str, dict]:
        data = base / f"coverage{n}"
        plugin = mutants_map.install(workers[n].site, data, workers[n].dir)
        mutants_map.enable(data, workers[n].dir)
        try:  # not -x: a test that fails only because coverage runs in its processes still maps its lines
            result, failed, _ = workers[n].run(shares[n], 1800, per_test=240, map_plugin=tuple(plugin))
        finally:
            mutants_map.disable(data)
        return result, failed, mutants_map.read(data, workers[n].dir) if result != "timeout" else {"failed": []}

    with concurrent.futures.ThreadPoolExecutor(len(shares)) as ex:
        runs = list(ex.map(one, range(len(shares))))
    seconds = time.monotonic() - started
    if any(result == "timeout" for result, _, _ in runs):
        print("mutants: the unmutated suite hangs under coverage; fix the suite first", file=sys.stderr)
        return None
    cmap = mutants_map.merge([m for _, _, m in runs])
    result = "failed" if any(r == "failed" for r, _, _ in runs) else "passed"
    failed = next((f for r, f, _ in runs if r == "failed"), "")
    if result == "failed" and cmap["failed"]:
        # Coverage adds files and descriptors to the processes it measures (the fd-shuffle tests see them):
        # those tests must pass without it.
        print(f"mutants: {len(cmap['failed'])} tests fail under coverage; again without it", flush=True)
        result, failed, _ = workers[0].run(cmap["failed"], 600)
    if result != "passed":
        print(f"mutants: the unmutated suite fails ({failed}); fix the suite first", file=sys.stderr)
        return None
    reached = sum(len(lines) for lines in cmap["lines"].values())
    print(f"mutants: coverage map from the whole suite in {seconds:.1f}s ({len(shares)} workers): "
          f"{len(cmap['order'])} tests, {reached} lines of port/ reached", flush=True)  # fmt: skip
    return cmap


def _shares(n: int) -> list[list[str]]:
    """The test files in n shares of about equal time: the longest first, each to the share with the least so
    far. The time is the last make test's (pytest's cache, tests/support/run_order.py), or else the size."""
    try:
        known = json.loads((ROOT / ".pytest_cache/v" / run_order.KEY).read_text())
    except (OSError, ValueError):
        known = {}
    files = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "tests").rglob("test_*.py"))]
    size = {f: (ROOT / f).stat().st_size for f in files}
    weight = {f: known.get(f, 1.0) if known else size[f] for f in files}
    shares: list[list[str]] = [[] for _ in range(min(n, len(files)))]
    load = [0.0] * len(shares)
    for f in sorted(files, key=lambda f: -weight[f]):
        i = load.index(min(load))
        shares[i].append(f)
        load[i] += weight[f]
    return shares


def summarize(mutants: list[Mutant], files: list[str]) -> dict[str, dict[str, float]]:
    table = {}
    for file in files:
        ms = [m for m in mutants if m.file == file]
        count = {o: sum(m.outcome == o for m in ms) for o in ("killed", "survived", "equivalent", "timeout")}
        count["pending"] = sum(not m.outcome for m in ms)
        judged = len(ms) - count["equivalent"] - count["pending"]
        score = 100.0 * (count["killed"] + count["timeout"]) / judged if judged else 100.0
        table[file] = {"mutants": len(ms), **count, "score": round(score, 1)}
    return table


def write_reports(out: Path, mutants: list[Mutant], table: dict, meta: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    data = {"run": meta, "files": table, "mutants": [{k: v for k, v in asdict(m).items() if k != "source"}
                                                     for m in mutants]}  # fmt: skip
    (out / "mutants.json").write_text(json.dumps(data, indent=1) + "\n")
    md = ["# Mutation testing of port/", "",
          f"{meta['date']}, commit {meta['commit']}, {meta['jobs']} workers, {meta['minutes']} minutes"
          + (" (this run re-ran only the mutants the last report left open; the rest are that report's)"
             if meta.get("survivors_only") or meta.get("resumed") else "") + "; "
          f"operators: {len(meta['operators'])} (see tests/support/mutants.py). "
          "Score = (killed + timeouts) / (mutants - equivalent).", "",
          "| file | mutants | killed | survived | equivalent | timeouts | not run | score |",
          "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]  # fmt: skip
    for file, t in table.items():
        md.append(f"| {file} | {t['mutants']} | {t['killed']} | {t['survived']} | {t['equivalent']} "
                  f"| {t['timeout']} | {t.get('pending', 0)} | {t['score']} % |")  # fmt: skip
    sections = (("Declared equivalent, but a test kills it: a wrong reason", lambda m: m.declared and m.outcome
                 in ("killed", "timeout")),
                ("Declared equivalent, killed once and surviving two runs since: a test that fails now and then, "
                 "or a difference that shows only sometimes", lambda m: m.flaky_kill),
                ("Survivors", lambda m: m.outcome == "survived"),
                ("Equivalent mutants (declared, and run: the tests that reach each pass)",
                 lambda m: m.outcome == "equivalent"), ("Timeouts", lambda m: m.outcome == "timeout"))  # fmt: skip
    for title, chosen in ((title, [m for m in mutants if wanted(m)]) for title, wanted in sections):
        md += ["", f"## {title} ({len(chosen)})", ""]
        for m in chosen:
            ran = {"unreached": " [no test reaches it]", "": ""}.get(m.stage, f" [{m.tests or 'all'} tests ran]")
            md.append(f"- `{m.file}:{m.line}` ({m.function or 'module'}) {m.operator.split('/')[1]}: "
                      f"`{m.before}` → `{m.after}`"
                      + (f" (killed by `{m.killed_by}`)" if m.declared and m.killed_by else "")
                      + (f" ({m.flaky_kill})" if m.flaky_kill else "")
                      + (f": {m.why}" if m.why else "") + (ran if m.outcome == "equivalent" else ""))  # fmt: skip
    (out / "mutants.md").write_text("\n".join(md) + "\n")


@dataclass(frozen=True)
class Options:
    """What make mutants was asked for (scripts/mutants.py's command line)."""

    files: list[str]  # under port/
    jobs: int  # parallel workers, each with its own copy of the tree
    limit: int = 0  # the first N mutants of each file only (a smoke run)
    fast_only: bool = False  # not the whole suite for the fast subset's survivors
    no_map: bool = False  # no coverage map: the fast subset, then the rest
    min_score: float = 97.0  # a file below it fails the run (issue 20: at least 97 % each)
    out: str = str(REPORTS)  # where mutants.{md,json} go
    list_only: bool = False  # list the mutants, run nothing
    check_only: bool = False  # check the equivalents, run nothing
    resume: bool = False  # only what the last report has no result for
    report_only: bool = False  # run nothing, write the last report again
    survivors: bool = False  # only the last report's survivors again
    equivalents: bool = False  # only the declared equivalents: check that each survives its tests


def run(args: Options) -> int:
    """Enumerate, run and report; 0 when every file scores at least args.min_score with nothing left unrun."""
    files = args.files
    started, load_before = time.monotonic(), round(os.getloadavg()[0], 2)
    # First the equivalents, against every mutant of every file they name: one that covers nothing fails the run.
    try:
        entries = mutants_equivalents.load()
    except (OSError, ValueError) as e:
        print(f"mutants: {e}", file=sys.stderr)
        return 1
    checked = list(dict.fromkeys([*files, *(e.file for e in entries if (ROOT / e.file).is_file())]))
    every = enumerate_mutants(checked)
    found, problems = mutants_equivalents.check(entries, every, {f: (ROOT / f).read_text() for f in checked})
    for m, entry in zip(every, found, strict=True):
        if entry is not None:  # declared, not trusted: it is run below like any other, and must survive
            m.why, m.declared = entry.why, True
    mutants = [m for m in every if m.file in files]
    if args.limit:
        mutants = [m for f in files for m in [m for m in mutants if m.file == f][: args.limit]]
    if args.list_only:
        for m in mutants:
            print(f"{m.file}:{m.line} {m.function or '(module level)'} {m.operator} "
                  f"{'equivalent' if m.declared else '-'}: "
                  f"{m.before} -> {m.after}")  # fmt: skip
    for problem in problems:
        print(f"mutants: {problem}", file=sys.stderr)
    if problems:
        print(f"mutants: {len(problems)} problems in {mutants_equivalents.PATH.relative_to(ROOT)}: "
              "fix the entries (or remove them) first", file=sys.stderr)  # fmt: skip
        return 1
    if args.check_only or args.list_only:
        if args.check_only:
            print(f"mutants: each of the {len(entries)} equivalents covers a mutant of the current source")
        return 0
    hashes = {f: hashlib.sha256((ROOT / f).read_bytes()).hexdigest()[:16] for f in files}
    last = previous(Path(args.out) / "mutants.json", hashes)
    # --survivors runs the timeouts again too: a test over its time limit under load says least of all
    # (a declared equivalent's timeout fails the run, a timeout counts as a kill otherwise).
    reuse = {"killed"} | ({"timeout"} if not args.survivors else set())
    reuse |= {"survived"} if args.resume or args.report_only else set()
    for m in mutants:
        old = last.get((m.file, m.operator, m.occurrence))
        again = args.survivors or args.resume or args.report_only or (args.equivalents and not m.declared)
        if again and old and (old["outcome"] in reuse or (m.declared and old["outcome"] == "equivalent")):
            m.outcome, m.stage, m.killed_by, m.seconds = old["outcome"], old["stage"], old["killed_by"], old["seconds"]
    # A fixed shuffle: a run stopped half-way has results spread over every operator and line.
    runnable = [m for m in mutants if not m.outcome]
    if args.survivors:  # not the ones the last report never ran: they stay "not run"
        runnable = [
            m
            for m in runnable
            if last.get((m.file, m.operator, m.occurrence), {}).get("outcome") in ("survived", "timeout")
        ]
    if args.equivalents:
        runnable = [m for m in runnable if m.declared]
    todo = sorted(runnable, key=lambda m: hashlib.sha256(repr(m.key).encode()).digest())
    declared = sum(m.declared for m in todo)
    print(f"mutants: {len(mutants)} in {len(files)} files; running {len(todo)}, {declared} of them declared "
          "equivalent (each must survive)", flush=True)  # fmt: skip
    kept = keep_other_files(Path(args.out) / "mutants.json", files)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)

    def report() -> dict[str, dict]:
        """Write the reports as they stand (after every mutant, so a stopped run can --resume)."""
        table, every, digests = summarize(mutants, files), list(mutants), dict(hashes)
        for file, (row, old_mutants, digest) in kept.items():
            table[file], digests[file] = row, digest
            every += [Mutant(**{k: v for k, v in m.items() if k in Mutant.__dataclass_fields__}) for m in old_mutants]
        meta = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "commit": commit.stdout.strip(),
                "jobs": args.jobs, "minutes": round((time.monotonic() - started) / 60, 1),
                "operators": list(OPERATORS), "fast": list(FAST), "limit": args.limit, "fast_only": args.fast_only,
                "hashes": digests, "survivors_only": args.survivors, "resumed": args.resume,
                "load": {"before": load_before, "after": round(os.getloadavg()[0], 2),
                         "cores": os.cpu_count()}}  # fmt: skip
        write_reports(Path(args.out), every, table, meta)
        return table

    if args.report_only:
        todo = []
    with (
        tempfile.TemporaryDirectory(prefix="nsport-mutants-") as tmp,
        tempfile.TemporaryDirectory(prefix="nsport-mutants-tmp-") as scratch,
    ):
        # The tests' TMPDIR: what a run killed at its time limit leaves there goes with it. Sticky and
        # open to all, as /tmp, since some tests hand a directory there to nobody.
        os.chmod(scratch, 0o1777)
        with concurrent.futures.ThreadPoolExecutor(max(args.jobs, 1)) as ex:  # copies, venvs, bytecode
            workers = list(ex.map(lambda n: Worker(Path(tmp), n, Path(scratch)), range(args.jobs if todo else 0)))
        for w in workers:
            w.check_isolated()
        limits, cmap = {}, None
        if todo and not args.no_map:
            cmap = coverage_map(workers, Path(tmp))
            if cmap is None:
                return 1
            fast = sum(s for t, s in cmap["seconds"].items() if t.split("::")[0] in FAST)
            limits = {"fast": 3 * fast + 30, "full": 3 * (sum(cmap["seconds"].values()) - fast) + 30}
        for name, tests in (("fast", FAST), ("full", REST)) if todo and args.no_map else ():
            result, failed, seconds = workers[0].run(tests, 1800)
            if result != "passed":
                print(f"mutants: the unmutated {name} run fails ({failed}); fix the suite first", file=sys.stderr)
                return 1
            limits[name] = 3 * seconds + 30
            print(f"mutants: baseline {name} run {seconds:.1f}s, limit {limits[name]:.0f}s", flush=True)
        if cmap is not None:
            per_test = mutants_map.time_limits(cmap)
            for w in workers:
                w.plugins = mutants_map.install_timeouts(w.site, per_test)
        if todo:
            for w in workers:
                w.start_server()
            try:
                hints = kill_hints(Path(args.out) / "mutants.json")
                run_all(todo, workers, limits, args.fast_only, report, cmap, hints)
                recheck(todo, hints, lambda again: run_all(again, workers, limits, args.fast_only, report, cmap, hints))
            finally:
                for w in workers:
                    w.stop_server()
    table = report()
    # A declared equivalent that a test kills, or that hangs, is a wrong reason: the entry must go.
    wrong = [m for m in mutants if m.declared and m.outcome in ("killed", "timeout")]
    for m in wrong:
        print(f"mutants: declared equivalent {m.outcome} by {m.killed_by or 'a hang'}: {m.file}:{m.line} "
              f"({m.function or 'module'}) {m.before!r} -> {m.after!r}; remove its entry or correct its reason",
              file=sys.stderr)  # fmt: skip
    for m in (m for m in mutants if m.flaky_kill):
        print(f"mutants: declared equivalent {m.file}:{m.line} ({m.function or 'module'}) {m.before!r} -> "
              f"{m.after!r}: {m.flaky_kill}", file=sys.stderr)  # fmt: skip
    for file, t in table.items():
        print(f"{file}: {t['mutants']} mutants, {t['killed']} killed, {t['survived']} survived, "
              f"{t['equivalent']} equivalent, {t['timeout']} timeouts, {t.get('pending', 0)} not run: "
              f"{t['score']} %")  # fmt: skip
    print(f"mutants: wrote {args.out}/mutants.md and mutants.json")
    if args.equivalents:
        return 1 if wrong or any(m.declared and not m.outcome for m in mutants) else 0
    return 0 if not wrong and all(t["score"] >= args.min_score and not t.get("pending") for t in table.values()) else 1


def stop() -> None:
    """SIGKILL every test run under way (on ^C or SIGTERM)."""
    for pid in list(RUNNING):
        kill_tree(pid)
