"""Every report renders where people read it: Markdown tables whole, HTML at 390 and 1280 px, the terminal at 80.

Each `.md` report the suite can produce is parsed with markdown-it-py (GFM
tables) and every row must have as many cells as its header: a `|` inside a
cell, in a code span too, is escaped. Every HTML page has a viewport, the
verdict block first, tables that scroll on their own, and no reason that
only a hover shows. (The screenshots at both widths are the README's.)
"""

import importlib
import io
import json
import re
import shutil
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from plumbum import local
from rich.console import Console

from tests.support import kernel_report, matrix, matrix_report, parity, report, trace, translation, workloads_report
from tests.support.launchers import GO, PY, Expected, Launcher
from tests.support.paths import GO as GO_CMD
from tests.support.probe import Probe
from tests.support.progress import Stages

escaped_split = importlib.import_module("markdown_it.rules_block.table").escapedSplit
PIPE = "clone(CLONE_VM|CLONE_PIDFD|CLONE_VFORK) → probe"


def table_problems(md_text: str) -> list[str]:
    """Rows whose cell count is not their header's, split as markdown-it-py splits them (escaped | kept)."""
    md = MarkdownIt("commonmark").enable("table")
    lines = md_text.splitlines()
    problems = []
    tokens = md.parse(md_text)
    for i, tok in enumerate(tokens):
        if tok.type != "table_open":
            continue
        header = next(t for t in tokens[i:] if t.type == "tr_close")
        columns = sum(t.type == "th_open" for t in tokens[i : tokens.index(header, i)])
        start, end = tok.map
        for n in range(start, end):
            if n == start + 1:
                continue  # the delimiter row
            cells = escaped_split(lines[n].strip())
            if cells and cells[0].strip() == "":
                cells = cells[1:]
            if cells and cells[-1].strip() == "":
                cells = cells[:-1]
            if len(cells) != columns:
                problems.append(f"line {n + 1}: {len(cells)} cells, header {columns}: {lines[n]}")
    return problems


def code_in_tables(md_text: str) -> list[str]:
    """The content of every code span inside a table cell, as rendered."""
    md = MarkdownIt("commonmark").enable("table")
    out, in_cell = [], False
    for tok in md.parse(md_text):
        in_cell = tok.type in ("td_open", "th_open") or (in_cell and tok.type == "inline")
        if tok.type == "inline" and in_cell:
            out += [c.content for c in tok.children or [] if c.type == "code_inline"]
    return out


def test_the_checker_catches_an_unescaped_pipe():
    bad = "| a | b |\n|---|---|\n| `x|y` | z |\n"
    assert table_problems(bad) == ["line 3: 3 cells, header 2: | `x|y` | z |"]
    good = "| a | b |\n|---|---|\n| `x\\|y` | z |\n"
    assert table_problems(good) == [] and code_in_tables(good) == ["x|y"]


# --- one made-up run of each report, with pipes wherever a value can hold one ----------------


def _parity() -> tuple[list[dict], dict]:
    third = Launcher("third", ("third", "--a|b"), "a launcher | with a pipe",
                     expected=(Expected("omega", "banner", "a|b", "prints a|b"),))  # fmt: skip
    probes = [Probe(n, "echo", lambda raw, ctx: {}, about=f"the {n} | probe") for n in ("alpha", "omega")]

    def seen(facts, not_run=None):
        return {"output": "x | y\n", "status": 0, "look": "a|b", "facts": facts, "not_run": not_run or {}}

    results = {
        "launchers": [GO.as_data(), PY.as_data(), third.as_data()],
        "commands": {"alpha": "echo a | cat", "omega": "echo"},
        "host": {"alpha": {"output": "h|h", "facts": {"f|g": "1|2"}}},
        "observations": {
            "go": {"alpha": seen({"f|g": "1|2"}), "omega": seen({"banner": "x"})},
            "py": {"alpha": seen({"f|g": "1|3"}), "omega": seen({"banner": None}, {"banner": "no | shell"})},
            "third": {"alpha": seen({"f|g": "1|2"}), "omega": seen({"banner": "a|b"})},
        },
    }
    return parity.compare(results, probes), results


def _matrix() -> list[dict]:
    ok = {"launched": True, "status": 0, "error": "", "facts": {n: "own" for n in matrix.NS_FILES} | {
        "$$": "1", "ids": "0:0:0", "uid_map": "0 0 1", "hostname": "a|b"}, "not_run": None}  # fmt: skip
    bad = {"launched": False, "status": 1, "error": "fork/exec /bin/sh: a|b", "facts": {}, "not_run": None}
    skipped = matrix.not_run("python | cannot run as nobody")
    return [
        {"flags": ["uts"], "privilege": "root", "go": ok, "py": bad, "differs": ["launched"], "state": "differs"},
        {"flags": ["uts"], "privilege": "nobody", "go": skipped, "py": skipped, "differs": [],
         "state": "not verified", "not_verified": "python | cannot run as nobody"},
    ]  # fmt: skip


def _trace() -> dict:
    def ev(process, call, n=1):
        return {"process": process, "call": call, "n": n, "ts": 1.0}

    go = [ev("launcher", PIPE), ev("launcher", "clone(CLONE_NEWIPC|CLONE_NEWNET) → sh"), ev("sh", 'execve("/bin/sh")')]
    py = [ev("launcher", "clone(CLONE_NEWIPC|CLONE_NEWNET|SIGCHLD) → sh"), ev("sh", 'execve("/bin/sh")')]
    rows = trace.align(go, py, "raw-clone")
    runs = [{"name": n, "argv": [n], "about": f"{n} | about", "not_run": None, "processes": [], "events": e,
             "start_to_exec_ms": trace.timing([1.0] * 5), "namespace_calls": trace.namespace_calls(e)}
            for n, e in (("go", go), ("py", py))]  # fmt: skip
    cmp = {"port": "py", "strategy": "raw-clone", "rows": rows, "state": "differs", "differences": 2,
           "unexplained": 1, "namespace_calls_match": False, "namespace_calls_why": "",
           "not_verified": None}  # fmt: skip
    return {"launchers": runs, "comparisons": [cmp]}


def _kernels() -> list[dict]:
    k = {"asked": "6.12", "package": "linux-image-6.12", "release": "6.12.1", "error": None, "seconds": 1.0,
         "features": {"time_ns": True},
         "probes": {"net": {"match": False, "differs": ["a|b"], "go": {"a|b": 1}, "py": {"a|b": 2}}},
         "tests": {"t::test_x[a|b]": {"outcome": "skipped", "message": "needs a|b"}}}  # fmt: skip
    bad = {"asked": "5.10", "package": "linux-image-5.10", "release": "", "error": "no | boot", "seconds": 2.0,
           "features": {}, "probes": {}, "tests": {}}  # fmt: skip
    return [bad, k]


META = {"date": "today", "kernel": "Linux x|y", "git commit": "abc"}


def _workloads() -> list[dict]:
    def run(name, **facts):
        return {"launcher": name, "status": 1, "stdout": "@@begin\na | b\n", "stderr": "x | y", "error": "",
                "facts": {"counts": "1 | pass", "launcher's exit status": 1, **facts}}  # fmt: skip

    cells = {"py": [{"fact": "counts", "state": "same"}],
             "bwrap": [{"fact": "counts", "state": "expected", "why": "sh's uid | is mapped", "value": 2},
                       {"fact": "passed", "state": "differs", "value": ["a|b"], "reference": []}]}  # fmt: skip
    return [
        {"workload": "go test a|b", "about": "Go's | tests", "configuration": "notes | x",
         "runs": {"go": run("go"), "py": run("py"), "bwrap": run("bwrap")}, "cells": cells, "not_verified": []},
        {"workload": "tini | as PID 1", "about": "an init", "configuration": "notes | x", "runs": {}, "cells": {},
         "not_verified": [{"where": "tini (notes)", "reason": "no | tini"}]},
    ]  # fmt: skip


def markdown_reports() -> dict[str, str]:
    rows, results = _parity()
    return {
        "parity.md": report.markdown(rows, results, META),
        "matrix.md": matrix_report.markdown(_matrix(), META),
        "trace.md": trace.markdown(_trace(), META),
        "kernels.md": kernel_report.markdown(_kernels(), META),
        "workloads.md": workloads_report.markdown(_workloads(), META),
    }


def html_pages() -> dict[str, str]:
    rows, results = _parity()
    return {
        "parity.html": report.html_page(rows, results, META),
        "matrix.html": matrix_report.html_page(_matrix(), META),
        "trace.html": trace.html(_trace(), META),
        "kernels.html": kernel_report.html_page(_kernels(), META),
        "workloads.html": workloads_report.html_page(_workloads(), META),
    }


@pytest.mark.parametrize("name", ["parity.md", "matrix.md", "trace.md", "kernels.md", "workloads.md"])
def test_every_markdown_table_row_has_its_headers_columns(name):
    text = markdown_reports()[name]
    assert table_problems(text) == []
    assert text.count("|---") >= 1


def test_a_pipe_in_a_code_span_stays_in_its_cell():
    codes = code_in_tables(trace.markdown(_trace(), META))
    assert f"launcher: {PIPE}" in codes


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace not installed")
@pytest.mark.userns
def test_a_real_trace_markdown_is_whole():
    """The trace that had 15 rows split by clone(CLONE_VM|CLONE_PIDFD|CLONE_VFORK)."""
    text = trace.markdown(trace.trace([GO, PY]), META)
    assert "CLONE_VM\\|CLONE_PIDFD" in text
    assert table_problems(text) == []


@pytest.mark.root
def test_the_translation_markdown_is_whole():
    goroot = Path(local[GO_CMD]("env", "GOROOT").strip())
    doc = translation.build(goroot)
    assert table_problems(translation.markdown(doc)) == []
    assert '<meta name="viewport"' in translation.html(doc) and 'class="verdict' in translation.html(doc)


# --- HTML --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["parity.html", "matrix.html", "trace.html", "kernels.html", "workloads.html"])
def test_every_page_has_a_viewport_the_verdict_and_scrolling_tables(name):
    page = html_pages()[name]
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    body = page[page.index("<body>") :]
    assert re.search(r"<h1>[^<]*(<code>[^<]*</code>[^<]*)*</h1>\s*(<p>.*</p>\s*)?<section class=\"verdict ", body), (
        "the verdict comes first"
    )
    assert page.count("<table") == page.count('<div class="scroll"><table'), "every table scrolls on its own"
    assert "hover" not in page.lower() and " title=" not in page, "no reason only a hover shows"


def test_the_reasons_are_on_the_page():
    pages = html_pages()
    assert "no | shell" in pages["parity.html"]  # the not-verified reason, in its cell
    assert "python | cannot run as nobody" in pages["matrix.html"]
    assert "no | boot" in pages["kernels.html"]
    assert "CLONE_VM|<wbr>CLONE_PIDFD" in pages["trace.html"]  # breaks between flags, never mid-name
    assert "no | tini" in pages["workloads.html"]
    assert "sh&#39;s uid | is mapped" in pages["workloads.html"]  # a declared difference's reason


# --- the terminal ------------------------------------------------------------------------


def test_the_grid_at_120_columns_or_wide_marks_each_cell():
    rows, results = _parity()
    wide = report.terminal(rows, results, META, Console(width=130, force_terminal=False))
    assert "probe" in wide and "agrees" in wide and "✗ 1|3" in wide
    narrow = report.terminal(rows, results, META, Console(width=80, force_terminal=False))
    assert "agrees" not in narrow and "✗ py" in narrow
    forced = report.terminal(rows, results, META, Console(width=80, force_terminal=False), wide=True)
    assert "agrees" in forced and max(map(len, forced.splitlines())) <= 80
    for text in (wide, narrow, forced):
        assert text.startswith("✗ DIFFERS: 0/2 probes match go")
        assert "legend: ✓ same as go" in text


def test_matrix_grid_with_wide():
    text = matrix_report.text_summary(_matrix(), META, Console(width=80, force_terminal=False), wide=True)
    assert "as nobody" in text and "? not run: python" in text
    assert max(map(len, text.splitlines())) <= 80


def test_progress_is_one_line_per_stage_in_a_pipe():
    out = io.StringIO()
    with Stages("matrix", 8, "launches", stream=out, tty=False) as stages:
        stages.stage("8 cells")
        for _ in range(8):
            stages.advance()
        stages.log("a console line\n")
    lines = out.getvalue().splitlines()
    assert lines[0] == "matrix: 8 cells"
    assert [line.split(" (")[0] for line in lines[1:5]] == [f"matrix: {n}/8 launches done" for n in (2, 4, 6, 8)]
    assert lines[-1] == "a console line"
    tty = io.StringIO()
    with Stages("kernels", 2, "kernels", stream=tty, tty=True) as stages:  # rich's bar: no crash, logs kept
        stages.stage("booting")
        stages.log("console\n")
        stages.advance(2)
    assert "console" in tty.getvalue()


def test_json_reports_start_with_the_verdict():
    rows, results = _parity()
    for text in (report.json_report(rows, results, META), matrix_report.json_report(_matrix(), META),
                 kernel_report.json_report(_kernels(), META), json.dumps(trace.report(_trace(), META))):  # fmt: skip
        data = json.loads(text)
        assert next(iter(data)) == "verdict"
        assert {"state", "exit", "summary", "counts", "commit", "kernel", "date"} <= set(data["verdict"])
