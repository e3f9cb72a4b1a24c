"""Views of one parity run: a terminal table (rich), Markdown, HTML (jinja2) and JSON.

All four are made from one view model, `view(rows, results, meta)`, built from
the rows of tests.parity.compare(); none runs anything except `run_metadata`,
which asks the host what the report's reader needs to know about the run.

A fact's cell is "ref" (the reference's), "same", "expected" (a difference the
launcher's entry declares, with its reason) or "differs". A probe's mark is
✓ (all the same), ≈ (only expected differences) or ✗.
"""

import datetime
import json
import os
import platform
import pwd
import shlex
import shutil
import subprocess
import sys

import jinja2
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tests.support.paths import BUILD, ROOT, TEMPLATES

MARK = {"same": "✓", "expected": "≈", "differs": "✗"}
CLIP = 72  # longest cell in the terminal and Markdown tables; the rest is elided with …


def _cell(value: object) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).strip().replace("\n", " ⏎ ")


def clip(value: str, ref: str | None = None, width: int = CLIP) -> str:
    """value cut to width with …; when it differs from ref, the cut keeps the part that differs."""
    if len(value) <= width:
        return value
    start = 0
    if ref is not None and ref != value:
        start = next((i for i, (a, b) in enumerate(zip(value, ref, strict=False)) if a != b), min(len(value), len(ref)))
        start = max(0, min(start - width // 3, len(value) - width + 1))
    head = "…" if start else ""
    body = value[start + len(head) : start + width - 1]
    return head + body + ("…" if start + width - 1 < len(value) else value[start + width - 1 :])


def run_metadata(launchers: list[dict] | None = None) -> dict[str, str]:
    """When, where and with what the run was made: the report's first lines."""
    uname = os.uname()
    try:
        distro = platform.freedesktop_os_release().get("PRETTY_NAME", "")
    except OSError:
        distro = ""
    user = os.geteuid()
    try:
        user_name = pwd.getpwuid(user).pw_name
    except KeyError:
        user_name = "?"
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "host": uname.nodename,
        "kernel": f"{uname.sysname} {uname.release} {uname.machine}",
        "distribution": distro,
        "user": f"{user_name} (uid {user})",
        "python": f"{platform.python_implementation()} {sys.version.split()[0]} ({sys.executable})",
        "go": _go_version(),
        "git commit": _git_commit(),
    }


def _run(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=10, cwd=ROOT).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _go_version() -> str:
    """The Go that built the reference binary (go version FILE), else the toolchain's own."""
    go = shutil.which("go", path=os.path.dirname(sys.executable)) or shutil.which("go")
    if not go:
        return "unknown (no go on PATH)"
    built = _run([go, "version", str(BUILD / "notes-go")])
    return built.split(": ", 1)[-1] if built else _run([go, "version"]) or "unknown"


def _git_commit() -> str:
    commit = _run(["git", "rev-parse", "--short", "HEAD"])
    if not commit:
        return "unknown (not a git checkout)"
    dirty = _run(["git", "status", "--porcelain", "--untracked-files=no"])
    return commit + (" (with uncommitted changes)" if dirty else "")


# --- the view model -----------------------------------------------------------


def _state(row: dict, name: str, key: str, ref: str) -> tuple[str, str]:
    """(state, reason) of one launcher's fact."""
    if name == ref:
        return "ref", ""
    for e in row.get("expected", {}).get(name, []):
        if e["fact"] == key:
            return "expected", e["why"]
    if key in row["differs"].get(name, []):
        return "differs", ""
    return "same", ""


def fact_rows(row: dict) -> list[dict]:
    """Every fact of a probe: its host value, each launcher's cell, and the mark."""
    names = list(row["launchers"])
    ref = names[0]
    keys = dict.fromkeys(k for n in names for k in row["launchers"][n]["facts"])
    host = (row["host"] or {}).get("facts", {})
    out = []
    for key in keys:
        ref_value = _cell(row["launchers"][ref]["facts"].get(key))
        cells = []
        for n in names:
            state, why = _state(row, n, key, ref)
            cells.append({"launcher": n, "value": _cell(row["launchers"][n]["facts"].get(key)),
                          "state": state, "why": why})  # fmt: skip
        states = {c["state"] for c in cells}
        mark = "differs" if "differs" in states else "expected" if "expected" in states else "same"
        out.append({"fact": key, "host": _cell(host.get(key)), "ref": ref_value, "cells": cells, "mark": mark})
    return out


def view(rows: list[dict], results: dict, meta: dict | None = None) -> dict:
    """Everything a reader sees, in the order they read it; every view renders this."""
    launchers = results["launchers"]
    names = [lc["name"] for lc in launchers]
    probes, mismatches, expected = [], [], []
    for row in rows:
        facts = fact_rows(row)
        mark = "differs" if not row["match"] else "expected" if row.get("expected") else "same"
        for name, keys in row["differs"].items():
            mismatches.append({"probe": row["name"], "launcher": name, "facts": keys})
        for name, items in row.get("expected", {}).items():
            expected += [{"probe": row["name"], "launcher": name, **e} for e in items]
        raw = [{"launcher": "host", "status": None, "output": row["host"]["output"], "look": None,
                "facts": row["host"]["facts"]}] if row["host"] else []  # fmt: skip
        raw += [{"launcher": n, "status": s["status"], "output": s["output"], "look": s.get("look"),
                 "facts": s["facts"]} for n, s in row["launchers"].items()]  # fmt: skip
        probes.append({"name": row["name"], "anchor": f"probe-{row['name']}", "about": row["about"],
                       "command": row["command"].strip(), "match": row["match"], "mark": mark,
                       "facts": facts, "raw": raw})  # fmt: skip
    return {
        "reference": names[0],
        "names": names,
        "launchers": [{**lc, "command": shlex.join(lc["argv"])} for lc in launchers],
        "meta": meta or {},
        "total": len(rows),
        "matched": sum(r["match"] for r in rows),
        "mismatches": mismatches,
        "expected": expected,
        "probes": probes,
    }


def summary_lines(v: dict) -> list[str]:
    out = [f"{v['matched']}/{v['total']} probes match {v['reference']}"
           + (f" ({len(v['expected'])} expected differences)" if v["expected"] else "")]  # fmt: skip
    out += [f"MISMATCH {m['probe']}: {m['launcher']} differs from {v['reference']} in {', '.join(m['facts'])}"
            for m in v["mismatches"]]  # fmt: skip
    out += [f"expected {e['probe']}: {e['launcher']} {e['fact']} = {_cell(e['value'])!r}: {e['why']}"
            for e in v["expected"]]  # fmt: skip
    return out


# --- terminal -------------------------------------------------------------------

STYLE = {"ref": "", "same": "", "expected": "yellow", "differs": "bold red"}


def text_table(rows: list[dict], results: dict, console: Console | None = None) -> str:
    """The table for a terminal: fits its width (or COLUMNS), colour only on a tty.

    A value gets one line of its column, cut with … around the part that
    differs from the reference; a fact's name wraps.
    """
    v = view(rows, results)
    console = console or Console(highlight=False)
    facts = [f for p in v["probes"] for f in p["facts"]]
    probe_w = max(len("probe"), *(len(p["name"]) for p in v["probes"]))
    ncols = 3 + len(v["names"]) + 1  # probe, fact, host, launchers, agrees
    fact_w = min(max(len(f["fact"]) for f in facts), max(12, console.width // 5))
    nvalues = 1 + len(v["names"])
    room = console.width - probe_w - len("agrees") - 3 * ncols  # padding and dividers
    fact_w = max(5, min(fact_w, room - 5 * nvalues))  # a narrow terminal takes from the fact first
    value_w = max(5, (room - fact_w) // nvalues)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=False)
    table.add_column("probe", no_wrap=True, style="bold", width=probe_w)
    table.add_column("fact", width=fact_w, overflow="fold")
    for name in ["host", *v["names"]]:
        table.add_column(name, no_wrap=True, overflow="ellipsis", width=value_w)
    table.add_column("agrees", no_wrap=True, justify="center", width=len("agrees"))
    for probe in v["probes"]:
        for i, fact in enumerate(probe["facts"]):
            cells = [
                Text(clip(c["value"], None if c["state"] == "ref" else fact["ref"], value_w), style=STYLE[c["state"]])
                for c in fact["cells"]
            ]
            mark = Text(MARK[fact["mark"]], style=STYLE[fact["mark"]] or "green")
            table.add_row(probe["name"] if i == 0 else "", fact["fact"], clip(fact["host"], None, value_w), *cells,
                          mark, end_section=i == len(probe["facts"]) - 1)  # fmt: skip
    with console.capture() as cap:
        console.print(table)
        for line in summary_lines(v):
            style = "bold red" if line.startswith("MISMATCH") else "yellow" if line.startswith("expected") else ""
            console.print(Text(line, style=style))
    return cap.get()


# --- files ----------------------------------------------------------------------------


def markdown(rows: list[dict], results: dict, meta: dict | None = None) -> str:
    v = view(rows, results, meta)
    return templates().get_template("parity.md").render(v=v, md=_md, clip=clip, cell=_cell, summary=summary_lines(v),
                                                      mark=MARK)  # fmt: skip


def html_page(rows: list[dict], results: dict, meta: dict | None = None) -> str:
    v = view(rows, results, meta)
    return templates().get_template("parity.html").render(v=v, mark=MARK, pretty=_pretty)


def json_report(rows: list[dict], results: dict, meta: dict | None = None) -> str:
    v = view(rows, results, meta)
    probes = [
        {"name": r["name"], "about": r["about"], "command": r["command"], "match": r["match"],
         "differs": r["differs"], "expected": r.get("expected", {}), "host": r["host"], "launchers": r["launchers"]}
        for r in rows
    ]  # fmt: skip
    out = {"meta": v["meta"], "reference": v["reference"], "launchers": v["launchers"],
           "summary": {"probes": v["total"], "match": v["matched"], "mismatches": v["mismatches"],
                       "expected": v["expected"]}, "probes": probes}  # fmt: skip
    return json.dumps(out, indent=2, default=str) + "\n"


def templates() -> jinja2.Environment:
    """The report templates (tests/support/templates): HTML autoescaped, Markdown as is."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=jinja2.select_autoescape(["html"]),
        trim_blocks=True, lstrip_blocks=True,
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
    )  # fmt: skip


def _md(text: object) -> str:
    """A Markdown table cell: pipes escaped, newlines shown."""
    return str(text).replace("|", "\\|").replace("\n", " ⏎ ")


def _pretty(value: object) -> str:
    return _cell(value) if not isinstance(value, str) else (value if value else "-")
