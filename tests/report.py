"""Views of one parity run: a terminal table, Markdown, HTML and JSON.

All four are made from the rows of tests.parity.compare(); none runs anything.
"""

import html
import json

MARK = {True: "✓", False: "✗"}


def _cell(value: object) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).strip().replace("\n", " ⏎ ")


def fact_rows(row: dict) -> list[tuple[str, str, list[str], bool]]:
    """(fact, host value, launcher values, agrees) for every fact of a probe."""
    names = list(row["launchers"])
    keys = dict.fromkeys(k for n in names for k in row["launchers"][n]["facts"])
    host = (row["host"] or {}).get("facts", {})
    out = []
    for key in keys:
        values = [row["launchers"][n]["facts"].get(key) for n in names]
        out.append((key, _cell(host.get(key)), [_cell(v) for v in values], len(set(map(repr, values))) == 1))
    return out


def text_table(rows: list[dict], names: list[str]) -> str:
    header = ["probe", "fact", "host", *names, ""]
    body = []
    for row in rows:
        for i, (fact, host, values, agrees) in enumerate(fact_rows(row)):
            body.append([row["name"] if i == 0 else "", fact, host, *values, MARK[agrees]])
    widths = [min(max(len(r[c]) for r in [header, *body]), 48) for c in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(c[:w].ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    summary = [f"{sum(r['match'] for r in rows)}/{len(rows)} probes match {names[0]}"]
    for row in rows:
        for name, facts in row["differs"].items():
            summary.append(f"MISMATCH {row['name']}: {name} differs from {names[0]} in {', '.join(facts)}")
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, body), "", *summary])


def markdown(rows: list[dict], results: dict) -> str:
    names = [lc["name"] for lc in results["launchers"]]
    out = ["# Parity report", "", "| launcher | argv | what |", "|---|---|---|"]
    out += [f"| {lc['name']} | `{' '.join(lc['argv'])}` | {lc['about']} |" for lc in results["launchers"]]
    out += ["", f"Reference: **{names[0]}**. {sum(r['match'] for r in rows)}/{len(rows)} probes match.", ""]
    out += ["| probe | fact | host | " + " | ".join(names) + " | |", "|---" * (len(names) + 4) + "|"]
    for row in rows:
        for i, (fact, host, values, agrees) in enumerate(fact_rows(row)):
            cells = [row["name"] if i == 0 else "", fact, host, *values, MARK[agrees]]
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    out += ["", "## Raw output", ""]
    for row in rows:
        out += [f"### {row['name']}: {row['about']}", "", "```sh", row["command"].strip(), "```", ""]
        for name, seen in row["launchers"].items():
            out += [f"**{name}** (status {_cell(seen['status'])})", "", "```", seen["output"].rstrip(), "```"]
            if seen.get("look"):
                out += ["seen from the host:", "", "```", seen["look"].rstrip(), "```"]
            out.append("")
    return "\n".join(out) + "\n"


def html_page(rows: list[dict], results: dict) -> str:
    names = [lc["name"] for lc in results["launchers"]]
    esc = html.escape
    head = "".join(f"<th>{esc(h)}</th>" for h in ["probe", "fact", "host", *names, ""])
    body = []
    for row in rows:
        for i, (fact, host, values, agrees) in enumerate(fact_rows(row)):
            cls = "ok" if agrees else "bad"
            cells = [row["name"] if i == 0 else "", fact, host, *values, MARK[agrees]]
            body.append(f'<tr class="{cls}">' + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>")
    raw = []
    for row in rows:
        raw.append(f"<details><summary>{esc(row['name'])}: {esc(row['about'])}</summary>")
        raw.append(f"<pre class=cmd>{esc(row['command'].strip())}</pre>")
        for name, seen in row["launchers"].items():
            look = f"<p>seen from the host:</p><pre>{esc(seen['look'])}</pre>" if seen.get("look") else ""
            raw.append(f"<h4>{esc(name)}</h4><pre>{esc(seen['output'])}</pre>{look}")
        raw.append("</details>")
    matched = sum(r["match"] for r in rows)
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Parity report</title><style>
body {{ font: 14px system-ui, sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ccc; padding: 3px 8px; vertical-align: top; }}
tr.bad td {{ background: #fdd; }} tr.ok td:last-child {{ color: #080; }}
pre {{ background: #f6f6f6; padding: 6px; white-space: pre-wrap; }} pre.cmd {{ background: #eef; }}
</style></head><body>
<h1>Parity report</h1>
<p>Reference: <b>{esc(names[0])}</b>. {matched}/{len(rows)} probes match.</p>
<table><tr>{head}</tr>
{chr(10).join(body)}
</table>
<h2>Raw output</h2>
{chr(10).join(raw)}
</body></html>
"""


def json_report(rows: list[dict], results: dict) -> str:
    probes = [
        {"name": r["name"], "about": r["about"], "command": r["command"], "match": r["match"],
         "differs": r["differs"], "host": r["host"], "launchers": r["launchers"]}
        for r in rows
    ]  # fmt: skip
    return json.dumps({"launchers": results["launchers"], "probes": probes}, indent=2, default=str) + "\n"
