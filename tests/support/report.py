"""Views of one parity run: a terminal table (rich), Markdown, HTML (jinja2) and JSON.

All four are made from one view model, `view(rows, results, meta)`, built from
the rows of tests.parity.compare(); none runs anything except `run_metadata`,
which asks the host what the report's reader needs to know about the run.

A fact's cell is "ref" (the reference's), "same", "expected" (a difference the
launcher's entry declares, with its reason), "differs", or "not verified" (not
measured for that launcher or for the reference, with the reason). A probe's
mark is ✓ (all the same), ≈ (only expected differences), ? (not verified) or ✗.
Every view starts with the verdict (tests/support/verdict.py); the terminal's
shows only what is not ✓, one block per probe, unless it is 120 columns wide
or asked for the full grid.
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
import time

import jinja2
import markupsafe
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tests.support import verdict
from tests.support.paths import BUILD, ROOT, TEMPLATES

MARK = {"same": "✓", "expected": "≈", "differs": "✗", "not verified": "?"}
# A probe's state (parity.compare) and the mark it shows.
STATE_MARK = {"match": "same", "expected": "expected", "differs": "differs", "not verified": "not verified"}
CLIP = 72  # longest cell in the terminal and Markdown tables; the rest is elided with …


def legend(ref: str) -> str:
    return (f"✓ same as {ref} · ≈ a difference the launcher declares (reason shown) · ✗ an unexpected "
            f"difference · ? not verified: not run for that launcher or for {ref} (reason shown)")  # fmt: skip


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
        "git commit": git_commit(),
    }


def timing(start: float, load_before: float) -> dict[str, str]:
    """How long a run took since time.monotonic() was START, and the 1-minute load average
    before it (LOAD_BEFORE, os.getloadavg()[0]) and now: the report's meta beside run_metadata()."""
    after = os.getloadavg()[0]
    return {"seconds": f"{time.monotonic() - start:.1f}",
            "load average": f"{load_before:.2f} before, {after:.2f} after on {os.cpu_count()} cores"}  # fmt: skip


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


def git_commit() -> str:
    """HEAD's short hash, and whether the tree has uncommitted changes: what a run stands for."""
    commit = _run(["git", "rev-parse", "--short", "HEAD"])
    if not commit:
        return "unknown (not a git checkout)"
    dirty = _run(["git", "status", "--porcelain", "--untracked-files=no"])
    return commit + (" (with uncommitted changes)" if dirty else "")


# --- the view model -----------------------------------------------------------


def _state(row: dict, name: str, key: str, ref: str) -> tuple[str, str]:
    """(state, reason) of one launcher's fact."""
    own = row["launchers"][name].get("not_run", {})
    if key in own:
        return "not verified", own[key]
    if name == ref:
        return "ref", ""
    for e in row.get("not_verified", {}).get(name, []):
        if e["fact"] == key:
            return "not verified", e["reason"]
    for e in row.get("expected", {}).get(name, []):
        if e["fact"] == key:
            return "expected", e["why"]
    if key in row["differs"].get(name, []):
        return "differs", ""
    return "same", ""


def _mark_of(states: set[str]) -> str:
    for state in ("differs", "not verified", "expected"):
        if state in states:
            return state
    return "same"


def fact_rows(row: dict) -> list[dict]:
    """Every fact of a probe: its host value, each launcher's cell, and the mark."""
    names = list(row["launchers"])
    ref = names[0]
    keys = dict.fromkeys(k for n in names for k in [*row["launchers"][n]["facts"], *row["launchers"][n].get(
        "not_run", {})])  # fmt: skip
    host = (row["host"] or {}).get("facts", {})
    out = []
    for key in keys:
        ref_value = _cell(row["launchers"][ref]["facts"].get(key))
        cells = []
        for n in names:
            state, why = _state(row, n, key, ref)
            measured = key not in row["launchers"][n].get("not_run", {})
            value = _cell(row["launchers"][n]["facts"].get(key)) if measured else "not run"
            cells.append({"launcher": n, "value": value, "state": state, "why": why})
        mark = _mark_of({c["state"] for c in cells})
        out.append({"fact": key, "host": _cell(host.get(key)), "ref": ref_value, "cells": cells, "mark": mark})
    return out


def _row_state(row: dict) -> str:
    if "state" in row:
        return row["state"]
    return "differs" if row["differs"] else "expected" if row.get("expected") else "match"


def view(rows: list[dict], results: dict, meta: dict | None = None) -> dict:
    """Everything a reader sees, in the order they read it; every view renders this."""
    launchers = results["launchers"]
    names = [lc["name"] for lc in launchers]
    ref = names[0]
    probes, mismatches, expected, not_verified = [], [], [], []
    for row in rows:
        facts = fact_rows(row)
        state = _row_state(row)
        for name, keys in row["differs"].items():
            mismatches.append({"probe": row["name"], "launcher": name, "facts": keys})
        for name, items in row.get("expected", {}).items():
            expected += [{"probe": row["name"], "launcher": name, **e} for e in items]
        by_reason: dict[str, dict] = {}
        for name, items in row.get("not_verified", {}).items():
            for e in items:
                group = by_reason.setdefault(e["reason"], {"probe": row["name"], "launchers": [], "facts": [],
                                                           "reason": e["reason"]})  # fmt: skip
                for who in e.get("who", [name]):
                    if who not in group["launchers"]:
                        group["launchers"].append(who)
                if e["fact"] not in group["facts"]:
                    group["facts"].append(e["fact"])
        not_verified += by_reason.values()
        raw = [{"launcher": "host", "status": None, "output": row["host"]["output"], "look": None,
                "facts": row["host"]["facts"], "not_run": {}}] if row["host"] else []  # fmt: skip
        raw += [{"launcher": n, "status": o["status"], "output": o["output"], "look": o.get("look"),
                 "facts": o["facts"], "not_run": o.get("not_run", {})}
                for n, o in row["launchers"].items()]  # fmt: skip
        probes.append({"name": row["name"], "anchor": f"probe-{row['name']}", "about": row["about"],
                       "command": row["command"].strip(), "match": row["match"], "state": state,
                       "mark": STATE_MARK[state], "on_host": bool(row["host"]), "facts": facts,
                       "raw": raw})  # fmt: skip
    v = {
        "reference": ref,
        "names": names,
        "launchers": [{**lc, "command": shlex.join(lc["argv"])} for lc in launchers],
        "meta": meta or {},
        "total": len(rows),
        "matched": sum(p["state"] in ("match", "expected") for p in probes),
        "mismatches": mismatches,
        "expected": expected,
        "not_verified": not_verified,
        "probes": probes,
        "legend": legend(ref),
    }
    v["verdict"] = _verdict(v)
    return v


def _verdict(v: dict) -> dict:
    states = [p["state"] for p in v["probes"]]
    counts = {"probes": v["total"], "match": v["matched"], "expected": states.count("expected"),
              "differs": states.count("differs"), "not verified": states.count("not verified")}  # fmt: skip
    state = verdict.decide(v["total"], counts["differs"], counts["not verified"])
    summary = f"{v['matched']}/{v['total']} probes match {v['reference']}"
    if counts["expected"]:
        summary += f" ({counts['expected']} only with differences their launchers declare)"
    if counts["differs"]:
        summary += f", {counts['differs']} differ unexpectedly ({', '.join(p['name'] for p in v['probes'] if p['state'] == 'differs')})"  # noqa: E501
    if counts["not verified"]:
        grouped: dict[str, list[str]] = {}
        for n in v["not_verified"]:
            grouped.setdefault(n["reason"], []).append(n["probe"])
        why = "; ".join(f"{', '.join(dict.fromkeys(ps))}: {reason}" for reason, ps in grouped.items())
        summary += f", {counts['not verified']} not verified ({why})"
    return verdict.make(state, summary, counts, v["meta"], differences=_mismatch_lines(v),
                        not_verified=[{"where": f"{n['probe']} ({', '.join(n['launchers'])}: "
                                                f"{', '.join(n['facts'])})", "reason": n["reason"]}
                                      for n in v["not_verified"]])  # fmt: skip


def _mismatch_lines(v: dict) -> list[str]:
    return [f"MISMATCH {m['probe']}: {m['launcher']} differs from {v['reference']} in {', '.join(m['facts'])}"
            for m in v["mismatches"]]  # fmt: skip


def _not_verified_lines(v: dict) -> list[str]:
    return [f"NOT VERIFIED {n['probe']}: {', '.join(n['launchers'])}: {', '.join(n['facts'])}: {n['reason']}"
            for n in v["not_verified"]]  # fmt: skip


def _expected_lines(v: dict) -> list[str]:
    return [f"expected {e['probe']}: {e['launcher']} {e['fact']} = {_cell(e['value'])!r}: {e['why']}"
            for e in v["expected"]]  # fmt: skip


def summary_lines(v: dict) -> list[str]:
    """The verdict, then each unexpected difference, each fact not verified, each declared difference."""
    return [verdict.headline(v["verdict"]), *_mismatch_lines(v), *_not_verified_lines(v), *_expected_lines(v)]


# --- terminal -------------------------------------------------------------------

STYLE = {"ref": "", "same": "", "expected": "yellow", "differs": "bold red", "not verified": "magenta"}


def _cell_text(c: dict, ref: str, width: int) -> str:
    """A grid cell: the value cut to width, led by its mark when it is not the reference's."""
    if c["state"] in ("ref", "same"):
        return clip(c["value"], None if c["state"] == "ref" else ref, width)
    return f"{MARK[c['state']]} {clip(c['value'], ref, max(1, width - 2))}"


def text_table(rows: list[dict], results: dict, console: Console | None = None) -> str:
    """The full grid for a terminal: fits its width (or COLUMNS), colour only on a tty.

    A value gets one line of its column, cut with … around the part that
    differs from the reference, and led by its mark (✗ ≈ ?) when it is not the
    reference's; a fact's name wraps. The lines after it name every
    difference and every fact not verified, with the reasons.
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
            cells = [Text(_cell_text(c, fact["ref"], value_w), style=STYLE[c["state"]]) for c in fact["cells"]]
            mark = Text(MARK[fact["mark"]], style=STYLE[fact["mark"]] or "green")
            table.add_row(probe["name"] if i == 0 else "", fact["fact"], clip(fact["host"], None, value_w), *cells,
                          mark, end_section=i == len(probe["facts"]) - 1)  # fmt: skip
    with console.capture() as cap:
        console.print(table)
        for line in summary_lines(v):
            style = ("bold red" if line.startswith("MISMATCH") else "magenta" if line.startswith("NOT VERIFIED")
                     else "yellow" if line.startswith("expected") else "")  # fmt: skip
            for part in verdict.wrap(line, console.width, "    "):
                console.print(Text(part, style=style), soft_wrap=True)
    return cap.get()


def _groups(fact: dict, probe: dict) -> list[dict]:
    """A fact's launchers grouped by what they show: [{mark, label, value, why, state}], host first."""
    groups: dict[tuple, dict] = {}
    if probe["on_host"]:
        groups["host"] = {"mark": " ", "names": ["host"], "value": fact["host"], "why": "", "state": "host"}
    for c in fact["cells"]:
        state = "same" if c["state"] == "ref" else c["state"]
        key = (state, c["value"], c["why"])
        group = groups.setdefault(key, {"mark": " " if state == "same" else MARK[state], "names": [],
                                        "value": c["value"], "why": c["why"], "state": state})  # fmt: skip
        group["names"].append(c["launcher"])
    return [{**g, "label": ", ".join(g["names"])} for g in groups.values()]


def _blocks(v: dict, width: int) -> list[tuple[str, str]]:
    """The probes that are not ✓, one block each: every fact that is not the same, launchers grouped by value."""
    wrap = verdict.wrap
    out: list[tuple[str, str]] = []
    same = [p["name"] for p in v["probes"] if p["mark"] == "same"]
    if same:
        out += [(line, "green") for line in wrap(", ".join(same), width, "    ", "✓ the same in every fact: ")]
    for p in v["probes"]:
        if p["mark"] == "same":
            continue
        out.append(("", ""))
        out += [(line, "bold " + (STYLE[p["mark"]] or "")) for line in
                wrap(f"{p['name']}: {p['about']}", width, "  ", f"{MARK[p['mark']]} ")]  # fmt: skip
        shown = [f for f in p["facts"] if f["mark"] != "same"]
        for f in shown:
            out += [(line, "bold") for line in wrap(f["fact"], width, "      ", f"  {MARK[f['mark']]} ")]
            groups = _groups(f, p)
            label_w = min(22, max(len(g["label"]) for g in groups))
            col = " " * (6 + label_w + 2)
            for g in groups:
                style = STYLE.get(g["state"], "")
                first = f"    {g['mark']} {g['label']:<{label_w}}  "
                if len(g["label"]) > label_w:
                    out += [(line, style) for line in wrap(g["label"], width, "      ", f"    {g['mark']} ")]
                    first = col
                out += [(line, style) for line in wrap(g["value"], width, col, first)]
                if g["why"]:
                    out += [(line, style) for line in wrap(f"why: {g['why']}", width, col)]
        if len(shown) < len(p["facts"]):
            n = len(p["facts"]) - len(shown)
            out.append((f"    ({n} more {'fact' if n == 1 else 'facts'} the same)", ""))
    return out


def terminal(rows: list[dict], results: dict, meta: dict | None = None, console: Console | None = None,
             wide: bool | None = None) -> str:  # fmt: skip
    """What `make parity` prints: the verdict first, then (narrow) a block per probe that is not ✓, or
    (at 120 columns, or wide=True) the full grid; every line fits the width, words unbroken."""
    v = view(rows, results, meta)
    console = console or Console(highlight=False)
    width = console.width
    v_style = verdict.STYLE[v["verdict"]["state"]]
    headline = [(line, v_style) for line in verdict.wrap(verdict.headline(v["verdict"]), width, "    ", "")]
    lines = list(headline)
    for text, style in [*((m, "bold red") for m in _mismatch_lines(v)),
                        *((n, "magenta") for n in _not_verified_lines(v))]:  # fmt: skip
        lines += [(line, style) for line in verdict.wrap(text, width, "    ", "  ")]
    if meta:
        lines += [(line, "dim") for line in verdict.wrap(verdict.run_line(meta), width, "    ", "")]
    lines += [(line, "dim") for line in verdict.wrap("legend: " + v["legend"], width, "    ", "")]
    with console.capture() as cap:
        for text, style in lines:
            console.print(Text(text, style=style), soft_wrap=True)
        if verdict.want_wide(width, wide):
            console.print()
            console.print(text_table(rows, results, console), end="", soft_wrap=True)
        else:
            declared = f"{len(v['expected'])} declared differences, each with its reason; " if v["expected"] else ""
            intro = f"What is not ✓, probe by probe ({declared}--wide or 120 columns: the full grid):"
            console.print()
            for text, style in [*((line, "dim") for line in verdict.wrap(intro, width, "", "")), *_blocks(v, width),
                                ("", ""), *headline]:  # fmt: skip
                console.print(Text(text, style=style), soft_wrap=True)
    return cap.get()


# --- files ----------------------------------------------------------------------------


def markdown(rows: list[dict], results: dict, meta: dict | None = None) -> str:
    v = view(rows, results, meta)
    return templates().get_template("parity.md").render(v=v, md=_md, clip=clip, cell=_cell, summary=summary_lines(v),
                                                      mark=MARK, verdict=v["verdict"])  # fmt: skip


def html_page(rows: list[dict], results: dict, meta: dict | None = None) -> str:
    v = view(rows, results, meta)
    return templates().get_template("parity.html").render(v=v, mark=MARK, pretty=_pretty, verdict=v["verdict"],
                                                        title="Parity report")  # fmt: skip


def json_report(rows: list[dict], results: dict, meta: dict | None = None) -> str:
    v = view(rows, results, meta)
    probes = [
        {"name": r["name"], "about": r["about"], "command": r["command"], "state": _row_state(r), "match": r["match"],
         "differs": r["differs"], "expected": r.get("expected", {}), "not_verified": r.get("not_verified", {}),
         "host": r["host"], "launchers": r["launchers"]}
        for r in rows
    ]  # fmt: skip
    out = {"verdict": v["verdict"], "meta": v["meta"], "reference": v["reference"], "launchers": v["launchers"],
           "summary": {"probes": v["total"], "match": v["matched"], "mismatches": v["mismatches"],
                       "expected": v["expected"], "not_verified": v["not_verified"]}, "probes": probes}  # fmt: skip
    return json.dumps(out, indent=2, default=str) + "\n"


class _Compiled(jinja2.BytecodeCache):
    """Each template compiled once per process, whichever templates() environment asks (every one has the
    same options; a bucket is named by the template and checked against its source's hash)."""

    def __init__(self):
        self.store: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.store:
            bucket.bytecode_from_string(self.store[bucket.key])

    def dump_bytecode(self, bucket):
        self.store[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _Compiled()


def templates() -> jinja2.Environment:
    """The report templates (tests/support/templates): HTML autoescaped, Markdown as is.

    Every page includes _head.html (viewport, the shared style) and _verdict.html;
    every Markdown report _verdict.md. A fresh environment each time (callers add globals), whose
    templates are compiled once per process (_Compiled).
    """
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=jinja2.select_autoescape(["html", "html.j2"]),
        trim_blocks=True, lstrip_blocks=True,
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, bytecode_cache=_COMPILED,
    )  # fmt: skip
    env.globals.update(verdict_mark=verdict.VERDICT_MARK, run_line=verdict.run_line)
    env.filters["md"] = _md
    env.filters["wbr"] = wbr
    env.filters["code"] = inline_code
    return env


def inline_code(text: str) -> markupsafe.Markup:
    """Prose with Markdown's `code` spans, for HTML: escaped, each span in <code>."""
    parts = str(text).split("`")
    return markupsafe.Markup("").join(
        markupsafe.Markup("<code>{}</code>").format(part) if i % 2 else markupsafe.escape(part)
        for i, part in enumerate(parts)
    )


def wbr(text: object) -> markupsafe.Markup:
    """HTML-escaped text that a narrow page may break after each `,` and `|` (flag lists, syscall flags)."""
    escaped = str(markupsafe.escape(str(text)))
    return markupsafe.Markup(escaped.replace(",", ",<wbr>").replace("|", "|<wbr>"))


def _md(text: object) -> str:
    """A Markdown table cell: pipes escaped, newlines shown."""
    return str(text).replace("|", "\\|").replace("\n", " ⏎ ")


def _pretty(value: object) -> str:
    return _cell(value) if not isinstance(value, str) else (value if value else "-")


def publish(name: str, views, result, meta: dict, data: dict, out) -> None:
    """A comparison script's ending: OUT/NAME.json (data), .md and .html from the views module's
    markdown() and html(), then its text() on the terminal, as wide as the console is."""
    from pathlib import Path

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(data, indent=2) + "\n")
    (out / f"{name}.md").write_text(views.markdown(result, meta))
    (out / f"{name}.html").write_text(views.html(result, meta))
    console = Console(highlight=False)
    for line, style in views.text(result, meta, console.width):
        console.print(Text(line, style=style), soft_wrap=True)
    print(f"reports: {out}/{name}.md, {name}.html, {name}.json")
