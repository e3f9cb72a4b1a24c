"""Views of one make goversions run: a terminal summary (rich), Markdown, HTML (jinja2), JSON, and README's table.

All are made from view(): the grid's rows (tests/support/goversions.py), grouped,
each cell the observable with ✓ (the port shows the same) or ✗, and each row that
changes across releases with the Go change(s) that made it.
"""

import json

from rich import box
from rich.console import Console
from rich.table import Table

from tests.support.goversions import PORT_FOLLOWS, minor
from tests.support.report import templates

CLIP = 60
MARK = {True: "✓", False: "✗", None: "–"}
LEGEND = ("Each cell is what that release's build showed; ✓ the port showed the same (the start sequence: or make "
          "trace explains every difference), ✗ it did not, – not compared (a Go test or its translation skipped: "
          "what the machine lacks, not a behaviour).")  # fmt: skip


def _templates():
    env = templates()
    env.globals.update(mark=lambda m: MARK[m], klass=lambda m: {True: "yes", False: "no", None: "skip"}[m])
    return env


def _clip(text: str, n: int = CLIP) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def headline(problems: dict) -> str:
    if not any(problems.values()):
        return (f"✓ the port matches Go {PORT_FOLLOWS} on every row, and every row that changes across releases "
                "names its Go change")  # fmt: skip
    parts = [f"{len(v)} {k.replace('_', ' ')}" for k, v in problems.items() if v]
    return "✗ " + ", ".join(parts)


def view(rows: list[dict], problems: dict, data: dict, meta: dict) -> dict:
    releases = data["releases"]
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row["group"], []).append(row)
    changed = [r for r in rows if r["differs"]]
    return {
        "title": "make goversions: the port under each Go release",
        "headline": headline(problems),
        "exit": 1 if any(problems.values()) else 0,
        "problems": problems,
        "releases": releases,
        "minors": [minor(r) for r in releases],
        "groups": groups,
        "changed": changed,
        "follows": PORT_FOLLOWS,
        "legend": LEGEND,
        "meta": meta,
        "counts": {"rows": len(rows), "change across releases": len(changed),
                   "port matches 1.27": sum(r["match"].get(_follows(releases)) is not False for r in rows)},
    }  # fmt: skip


def _follows(releases: list[str]) -> str:
    return next((r for r in releases if minor(r) == PORT_FOLLOWS), "")


def json_report(rows, problems, data, meta) -> str:
    v = view(rows, problems, data, meta)
    out = {"verdict": {"exit": v["exit"], "headline": v["headline"], **problems}, "meta": meta,
           "releases": v["releases"], "rows": rows, "data": data}  # fmt: skip
    return json.dumps(out, indent=2, ensure_ascii=False) + "\n"


def markdown(rows, problems, data, meta) -> str:
    return _templates().get_template("goversions.md").render(v=view(rows, problems, data, meta))


def html_page(rows, problems, data, meta) -> str:
    v = view(rows, problems, data, meta)
    return _templates().get_template("goversions.html").render(v=v, title=v["title"])


def grouped_changes(rows: list[dict]) -> dict[tuple[str, str, str], list[tuple[dict, dict]]]:
    """{(release, url, text): [(row, its change), ...]}: each declared Go change with the rows it moved."""
    changes: dict[tuple, list[tuple[dict, dict]]] = {}
    for row in rows:
        for c in row.get("changes", []):
            changes.setdefault((c["release"], c["url"], c["text"]), []).append((row, c))
    return changes


def _what(moved: list[tuple[dict, dict]]) -> str:
    names: dict[str, list[str]] = {}
    for row, _ in moved:
        names.setdefault(row["group"], []).append(row["name"])
    return "; ".join(f"{g}: {', '.join(n)}" for g, n in names.items())


def readme_table(rows: list[dict]) -> str:
    """README's 'what changed in Go': one line per Go change, with the rows it moved (before, from then on)."""
    lines = ["| behaviour | changed in | Go change | before | from then on (the port follows 1.27) |",
             "|---|---|---|---|---|"]  # fmt: skip
    for (release, url, text), moved in grouped_changes(rows).items():
        what = _what(moved)
        sides = []
        for i in (0, 1):
            values = {row["cells"][c["between"][i]] for row, c in moved}
            sides.append(_clip(values.pop(), 50) if len(values) == 1 else "(each row its own)")
        lines.append(f"| {_md(what)} | Go {release} | [{_md(text)}]({url}) | {_md(sides[0])} | {_md(sides[1])} |")
    return "\n".join(lines) + "\n"


def readme_rows(report: dict) -> list[dict] | None:
    """A goversions.json's rows when it covers every release make goversions runs by default, else None."""
    from tests.support.goversions import MINORS

    if sorted({minor(r) for r in report.get("releases", [])}) != sorted(MINORS):
        return None
    return report["rows"]


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def terminal(rows, problems, data, meta, console: Console | None = None) -> None:
    """The verdict, one line per group (how many rows, how many change, port ✓), then each changing row."""
    console = console or Console(highlight=False)
    v = view(rows, problems, data, meta)
    console.print(v["headline"])
    follows = _follows(v["releases"])
    table = Table(box=box.SIMPLE, title="rows per group", title_justify="left")
    for col in ("group", "rows", "change", f"port = {PORT_FOLLOWS}"):
        table.add_column(col)
    for group, rs in v["groups"].items():
        table.add_row(group, str(len(rs)), str(sum(r["differs"] for r in rs)),
                      f"{sum(r['match'].get(follows) is not False for r in rs)}/{len(rs)}")  # fmt: skip
    console.print(table)
    changed = Table(box=box.SIMPLE, title="what changes across releases", title_justify="left")
    changed.add_column("behaviour", overflow="fold", ratio=3)
    changed.add_column("in", no_wrap=True)
    changed.add_column("Go change", overflow="fold", ratio=3)
    for (release, _, text), moved in grouped_changes(rows).items():
        changed.add_row(_clip(_what(moved), 60), release, _clip(text, 60))
    console.print(changed)
    for kind, items in problems.items():
        for item in items:
            console.print(f"✗ {kind.replace('_', ' ')}: {item}", soft_wrap=True)
    console.print(f"{v['counts']['rows']} rows under {', '.join(v['releases'])}; full grid in the Markdown and HTML")
