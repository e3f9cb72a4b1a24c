"""Views of a matrix run (tests/support/matrix.py): a terminal summary, Markdown, HTML and JSON."""

import json

from rich.console import Console
from rich.text import Text

from tests.support import matrix
from tests.support.report import templates


def view(cells: list[dict], meta: dict) -> dict:
    privileges = list(dict.fromkeys(c["privilege"] for c in cells))
    rows: dict[str, dict] = {}
    for c in cells:
        name = ",".join(c["flags"]) or "(none)"
        row = rows.setdefault(name, {"flags": name, "anchor": "cfg-" + name.replace(",", "-").strip("()"),
                                     "cells": {}})  # fmt: skip
        state = "differs" if not c["match"] else "runs" if c["go"]["launched"] else "refused"
        row["cells"][c["privilege"]] = {**c, "state": state, "go_short": matrix.short(c["go"]),
                                        "py_short": matrix.short(c["py"])}  # fmt: skip
    mismatches = [r for r in rows.values() if any(x["state"] == "differs" for x in r["cells"].values())]
    return {
        "meta": meta,
        "privileges": privileges,
        "rows": list(rows.values()),
        "cells": len(cells),
        "matched": sum(c["match"] for c in cells),
        "runs": sum(c["match"] and c["go"]["launched"] for c in cells),
        "mismatches": mismatches,
    }


def text_summary(cells: list[dict], meta: dict, console: Console | None = None) -> str:
    v = view(cells, meta)
    console = console or Console(highlight=False)
    with console.capture() as cap:
        verdict = (
            f"{v['matched']}/{v['cells']} cells: Go and Python agree ({v['runs']} run, "
            f"{v['cells'] - v['runs']} refused alike); {meta.get('launches')} launches in {meta.get('seconds')} s"
        )
        console.print(Text(verdict, style="green" if not v["mismatches"] else "bold red"))
        for row in v["mismatches"]:
            for priv, c in row["cells"].items():
                if c["state"] == "differs":
                    console.print(Text(f"MISMATCH --clone {row['flags']} as {priv}: differs in "
                                       f"{', '.join(c['differs'])}\n  go: {c['go_short']}\n  py: {c['py_short']}",
                                       style="bold red"))  # fmt: skip
    return cap.get()


def html_page(cells: list[dict], meta: dict) -> str:
    return templates().get_template("matrix.html").render(v=view(cells, meta), probe=matrix.PROBE)


def markdown(cells: list[dict], meta: dict) -> str:
    return templates().get_template("matrix.md").render(v=view(cells, meta), probe=matrix.PROBE)


def json_report(cells: list[dict], meta: dict) -> str:
    data = {"meta": meta, "probe": matrix.PROBE,
            "commands": {"go": matrix.argv("go", ("FLAGS",), "root"), "py": matrix.argv("py", ("FLAGS",), "root"),
                         "nobody prefix": list(matrix.NOBODY)},
            "cells": cells}  # fmt: skip
    return json.dumps(data, indent=2) + "\n"
