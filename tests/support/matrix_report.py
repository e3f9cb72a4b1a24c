"""Views of a matrix run (tests/support/matrix.py): the terminal's, Markdown, HTML and JSON, each verdict first.

A cell is ✓ (runs, Go and Python alike), · (refused alike: same status and
error), ✗ (Go and Python differ) or ? (not verified: a launch could not be
made, with the reason).
"""

import json

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tests.support import matrix, verdict
from tests.support.report import templates

MARK = {"runs": "✓", "refused": "·", "differs": "✗", "not verified": "?"}
STYLE = {"runs": "green", "refused": "", "differs": "bold red", "not verified": "magenta"}
LEGEND = ("✓ runs, Go and Python alike · · refused alike (same status and error) · ✗ Go and Python differ · "
          "? not verified: a launch could not be made (reason shown)")  # fmt: skip


def _state(c: dict) -> str:
    return c.get("state") or matrix.cell_state(c["go"], c["py"])


def view(cells: list[dict], meta: dict) -> dict:
    privileges = list(dict.fromkeys(c["privilege"] for c in cells))
    rows: dict[str, dict] = {}
    for c in cells:
        name = ",".join(c["flags"]) or "(none)"
        row = rows.setdefault(name, {"flags": name, "anchor": "cfg-" + name.replace(",", "-").strip("()"),
                                     "cells": {}})  # fmt: skip
        state = _state(c)
        row["cells"][c["privilege"]] = {**c, "state": state, "mark": MARK[state], "go_short": matrix.short(c["go"]),
                                        "py_short": matrix.short(c["py"]),
                                        "reason": c.get("not_verified") or ""}  # fmt: skip
    mismatches = [r for r in rows.values() if any(x["state"] == "differs" for x in r["cells"].values())]
    states = [_state(c) for c in cells]
    v = {
        "meta": meta,
        "privileges": privileges,
        "rows": list(rows.values()),
        "cells": len(cells),
        "matched": states.count("runs") + states.count("refused"),
        "runs": states.count("runs"),
        "mismatches": mismatches,
        "legend": LEGEND,
    }
    v["not_verified"] = _not_verified(v)
    v["verdict"] = _verdict(v, states)
    return v


def _not_verified(v: dict) -> list[dict]:
    """The cells not verified, grouped by privilege and reason: {"where", "reason", "cells"}."""
    groups: dict[tuple, dict] = {}
    for row in v["rows"]:
        for priv, c in row["cells"].items():
            if c["state"] == "not verified":
                g = groups.setdefault((priv, c["reason"]), {"privilege": priv, "reason": c["reason"], "cells": []})
                g["cells"].append(row["flags"])
    return [{"where": f"{len(g['cells'])} cells as {g['privilege']}" if len(g["cells"]) > 1
             else f"--clone {g['cells'][0]} as {g['privilege']}", **g} for g in groups.values()]  # fmt: skip


def _mismatch_lines(v: dict) -> list[str]:
    return [f"MISMATCH --clone {row['flags']} as {priv}: differs in {', '.join(c['differs'])}"
            for row in v["mismatches"] for priv, c in row["cells"].items() if c["state"] == "differs"]  # fmt: skip


def _verdict(v: dict, states: list[str]) -> dict:
    counts = {"cells": v["cells"], "agree": v["matched"], "runs": v["runs"], "refused": states.count("refused"),
              "differs": states.count("differs"), "not verified": states.count("not verified")}  # fmt: skip
    summary = (f"{v['matched']}/{v['cells']} cells: Go and Python agree ({v['runs']} run, "
               f"{counts['refused']} refused alike)")  # fmt: skip
    if counts["differs"]:
        summary += f", {counts['differs']} differ"
    if counts["not verified"]:
        summary += f", {counts['not verified']} not verified ({verdict.reasons(v['not_verified'])})"
    state = verdict.decide(v["cells"], counts["differs"], counts["not verified"])
    not_verified = [{"where": n["where"], "reason": n["reason"]} for n in v["not_verified"]]
    return verdict.make(state, summary, counts, v["meta"], differences=_mismatch_lines(v), not_verified=not_verified)


def _grid(v: dict, width: int) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, width=width)
    table.add_column("--clone", no_wrap=True, style="bold")
    for p in v["privileges"]:
        table.add_column(f"as {p}", overflow="fold")
    for row in v["rows"]:
        cells = []
        for p in v["privileges"]:
            c = row["cells"][p]
            text = f"go: {c['go_short']}; py: {c['py_short']}" if c["state"] == "differs" else c["go_short"]
            cells.append(Text(f"{c['mark']} {text}", style=STYLE[c["state"]]))
        table.add_row(row["flags"], *cells)
    return table


def text_summary(cells: list[dict], meta: dict, console: Console | None = None, wide: bool | None = None) -> str:
    """The verdict first, each difference (go and py side by side) and each cell not verified, with the reason;
    the grid of every cell at 120 columns or with wide=True."""
    v = view(cells, meta)
    console = console or Console(highlight=False)
    width = console.width
    head = verdict.wrap(verdict.headline(v["verdict"]), width, "    ", "")
    out: list[tuple[str, str]] = [(line, verdict.STYLE[v["verdict"]["state"]]) for line in head]
    for row in v["mismatches"]:
        for priv, c in row["cells"].items():
            if c["state"] == "differs":
                out += [(line, "bold red") for line in verdict.wrap(
                    f"MISMATCH --clone {row['flags']} as {priv}: differs in {', '.join(c['differs'])}", width, "    ",
                    "✗ ")]  # fmt: skip
                for lang in ("go", "py"):
                    out += [(line, "bold red") for line in verdict.wrap(c[f"{lang}_short"], width, " " * 8,
                                                                        f"    {lang}: ")]  # fmt: skip
    for n in v["not_verified"]:
        out += [(line, "magenta") for line in verdict.wrap(f"NOT VERIFIED {n['where']}: {n['reason']}", width,
                                                           "    ", "? ")]  # fmt: skip
    if meta.get("launches"):
        out.append((f"{meta['launches']} launches in {meta.get('seconds')} s", "dim"))
    if meta:
        out += [(line, "dim") for line in verdict.wrap(verdict.run_line(meta), width, "    ", "")]
    out += [(line, "dim") for line in verdict.wrap(f"legend: {LEGEND}", width, "    ", "")]
    with console.capture() as cap:
        for text, style in out:
            console.print(Text(text, style=style), soft_wrap=True)
        if verdict.want_wide(width, wide):
            console.print(_grid(v, width))
    return cap.get()


def html_page(cells: list[dict], meta: dict) -> str:
    v = view(cells, meta)
    return templates().get_template("matrix.html").render(v=v, probe=matrix.PROBE, verdict=v["verdict"],
                                                        title="Namespace matrix: Go vs Python")  # fmt: skip


def markdown(cells: list[dict], meta: dict) -> str:
    v = view(cells, meta)
    return templates().get_template("matrix.md").render(v=v, probe=matrix.PROBE, verdict=v["verdict"])


def json_report(cells: list[dict], meta: dict) -> str:
    v = view(cells, meta)
    data = {"verdict": v["verdict"], "meta": meta, "probe": matrix.PROBE,
            "commands": {"go": matrix.argv("go", ("FLAGS",), "root"), "py": matrix.argv("py", ("FLAGS",), "root"),
                         "nobody prefix": list(matrix.NOBODY)},
            "cells": cells}  # fmt: skip
    return json.dumps(data, indent=2) + "\n"
