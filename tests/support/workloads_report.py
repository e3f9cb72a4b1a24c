"""`make workloads`' views: a workload × launcher grid per configuration (Markdown, HTML, JSON, terminal).

Made from the records tests/support/workloads.py gives (one per configuration and
workload, every launcher's run and every fact compared with the reference's).
A cell says what the launcher's run came to (the tests' counts, the processes
left under PID 1, the nested sandboxes' statuses, slirp4netns' tap0 and what
its connections got) and its mark: ✓ the same as the reference, ≈ differs only
as the launcher declares (reasons listed below the grid), ✗ differs, ? not
verified. The raw outputs are in the JSON, and a click away on the page.
"""

import json

from tests.support import verdict, workloads
from tests.support.report import templates

MARK = {"reference": "", "same": "✓", "expected": "≈", "differs": "✗", "not verified": "?"}
LEGEND = ("✓ the same as the reference · ≈ differs only as the launcher declares (reasons below) · "
          "✗ differs · ? not verified (reason shown)")  # fmt: skip


def summary(run: dict | None) -> str:
    """A run in a few words: what a reader checks first."""
    if run is None:
        return "did not run"
    if run["error"]:
        return run["error"]
    f = run["facts"]
    end = "launcher exit " + str(f.get("launcher's exit status"))
    if "counts" in f:
        return f"{f['counts']}; {end}" + ("; timed out" if f.get("timed out") else "")
    if "processes left under PID 1" in f:
        return (f"{f.get('processes under PID 1 during the load')} under PID 1, then {f['processes left under PID 1']} "
                f"left, {f.get('zombies among them')} zombies; {end}")  # fmt: skip
    if "SigIgn" in f:
        keys = ("SigIgn", "SigBlk", "NoNewPrivs", "Seccomp", "CapEff", "CapBnd", "Umask")
        return ", ".join(f"{k} {f.get(k)}" for k in keys) + f"; {end}"
    if "tap0" in f:  # slirp4netns
        tap0, listener, closed = f["tap0"] or "(none)", f.get("listener"), f.get("closed port")
        return f"tap0 {tap0}, listener: {listener}, closed port: {closed}; {end}"
    statuses = [str(v).split(":")[0].removeprefix("status ") for k, v in f.items() if str(v).startswith("status ")]
    return f"statuses {' '.join(statuses)}; {end}"


def view(records: list[dict], meta: dict | None = None) -> dict:
    configs: dict[str, dict] = {}
    declared: dict[tuple, dict] = {}
    for r in records:
        c = configs.setdefault(r["configuration"], {"name": r["configuration"], "launchers": [], "rows": []})
        for name in r["runs"]:
            if name not in c["launchers"]:
                c["launchers"].append(name)
        cells = {}
        for i, (name, run) in enumerate(r["runs"].items()):
            rows = r["cells"].get(name, [])
            state = "reference" if i == 0 else workloads.cell_state(rows)
            diffs = [row["fact"] for row in rows if row["state"] == "differs"]
            text = summary(run) + (f" (differs: {', '.join(diffs)})" if diffs else "")
            cells[name] = {"state": state, "mark": MARK[state], "text": text, "stdout": run["stdout"],
                           "stderr": run["stderr"], "status": run["status"]}  # fmt: skip
            for row in rows:
                if row["state"] == "expected":
                    key = (name, row["why"])
                    d = declared.setdefault(key, {"launcher": name, "why": row["why"], "where": []})
                    d["where"].append(f"{r['workload']} ({r['configuration']}): {row['fact']}")
        c["rows"].append({"workload": r["workload"], "about": r["about"], "cells": cells,
                          "not_verified": r["not_verified"]})  # fmt: skip
    for c in configs.values():
        for row in c["rows"]:
            row["cells"] = [
                row["cells"].get(
                    n,
                    {
                        "state": "not verified",
                        "mark": "?",
                        "text": "did not run",
                        "stdout": "",
                        "stderr": "",
                        "status": None,
                    },
                )
                for n in c["launchers"]
            ]
    return {"verdict": workloads.make_verdict(records, meta), "legend": LEGEND, "meta": meta or {},
            "configurations": list(configs.values()), "declared": list(declared.values()),
            "left_out": [{"package": p, "tests": t, "why": why} for p, items in workloads.GO_LEFT_OUT.items()
                         for t, why in items]}  # fmt: skip


def markdown(records: list[dict], meta: dict | None = None) -> str:
    v = view(records, meta)
    return templates().get_template("workloads.md").render(v=v, verdict=v["verdict"])


def html_page(records: list[dict], meta: dict | None = None) -> str:
    v = view(records, meta)
    return templates().get_template("workloads.html").render(v=v, verdict=v["verdict"],
                                                             title="Workloads: Go vs the port")  # fmt: skip


def json_report(records: list[dict], meta: dict | None = None) -> str:
    data = {"verdict": workloads.make_verdict(records, meta), "meta": meta or {},
            "expected": {name: [e.as_data() | {"fact": str(getattr(e.fact, "pattern", e.fact))} for e in es]
                         for name, es in workloads.EXPECTED.items()},
            "left_out": view(records, meta)["left_out"], "records": records}  # fmt: skip
    return json.dumps(data, indent=2, default=str) + "\n"


def terminal(records: list[dict], meta: dict | None = None, width: int = 80) -> str:
    """Plain lines for the terminal: the verdict, then each configuration's workloads and launchers."""
    v = view(records, meta)
    lines = verdict.wrap(verdict.headline(v["verdict"]), width, "  ", "")
    for d in v["verdict"]["differences"]:
        lines += verdict.wrap(d, width, "    ", "  ✗ ")
    for n in v["verdict"]["not_verified"]:
        lines += verdict.wrap(f"{n['where']}: {n['reason']}", width, "    ", "  ? ")
    for c in v["configurations"]:
        lines += ["", f"{c['name']}:"]
        for row in c["rows"]:
            lines.append(f"  {row['workload']}")
            for name, cell in zip(c["launchers"], row["cells"], strict=True):
                lines += verdict.wrap(cell["text"], width, " " * 6, f"    {cell['mark'] or '·'} {name}: ")
    lines += ["", verdict.run_line(meta or {})]
    return "\n".join(lines) + "\n"
