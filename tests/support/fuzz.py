"""make fuzz: N generated scenarios under Go and the port, and what differs.

Scenarios come from tests/support/scenario_gen.py (os/exec calls) and
tests/support/launcher_gen.py (launcher command lines), one or the other at
each draw (hypothesis, a seed given or drawn); distinct ones run in parallel
(each is two short processes). A
divergence is a scenario whose two transcripts differ; divergences are grouped
by their first differing line pair, and each group is shown by its smallest
scenario (the fewest JSON characters: the smallest form found, not a shrink).
A scenario whose interpreter timed out is not verified. Reports:
reports/fuzz.json (the verdict first) and reports/fuzz.md.
"""

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hseed
from hypothesis import strategies as st

from tests.support import verdict
from tests.support.launcher_gen import launcher_scenarios
from tests.support.scenario import Outcome, run
from tests.support.scenario_gen import scenarios


def generate(n: int, seed: int) -> list[dict]:
    """Up to n distinct scenarios, as hypothesis draws them from the seed."""
    drawn: dict[str, dict] = {}

    @hseed(seed)
    @settings(max_examples=n, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.one_of(scenarios(), launcher_scenarios()))
    def collect(s):
        drawn.setdefault(json.dumps(s, sort_keys=True), s)

    collect()
    return list(drawn.values())


def _run(s: dict) -> Outcome | str:
    try:
        return run(s)
    except subprocess.TimeoutExpired as e:
        return f"timed out after {e.timeout} s"


def run_all(found: list[dict], jobs: int) -> list[tuple[dict, Outcome | str]]:
    with ThreadPoolExecutor(jobs) as ex:
        return list(zip(found, ex.map(_run, found), strict=True))


def _first_difference(o: Outcome) -> str:
    go, py = o.go.splitlines(), o.py.splitlines()
    for i in range(max(len(go), len(py))):
        a, b = (go[i] if i < len(go) else "<end>"), (py[i] if i < len(py) else "<end>")
        if a != b:
            return f"go: {a} | port: {b}"
    return ""


def analyse(results: list[tuple[dict, Outcome | str]], meta: dict, seed: int, drawn: int) -> dict:
    groups: dict[str, list] = {}
    not_verified = []
    for s, o in results:
        if isinstance(o, str):
            not_verified.append({"where": json.dumps(s), "reason": o})
        elif not o.same:
            groups.setdefault(_first_difference(o), []).append((s, o))
    divergences = []
    for key, members in groups.items():
        s, o = min(members, key=lambda m: len(json.dumps(m[0])))
        divergences.append({"difference": key, "count": len(members), "scenario": s, "go": o.go, "py": o.py})
    n, differs = len(results), sum(g["count"] for g in divergences)
    state = verdict.decide(n, differs, len(not_verified))
    summary = (f"{n - differs - len(not_verified)}/{n} scenarios agree, {differs} differ "
               f"({len(divergences)} kinds), {len(not_verified)} not verified")  # fmt: skip
    counts = {"drawn": drawn, "scenarios": n, "differs": differs, "kinds": len(divergences),
              "not verified": len(not_verified)}  # fmt: skip
    v = verdict.make(state, summary, counts, meta, differences=[d["difference"] for d in divergences],
                     not_verified=not_verified)  # fmt: skip
    return {"verdict": v, "seed": seed, "run": meta, "divergences": divergences}


def markdown(report: dict) -> str:
    v = report["verdict"]
    lines = ["# os/exec and launcher scenarios: Go against the port", "", f"**{verdict.headline(v)}**", "",
             verdict.run_line(report["run"]) + f" · seed {report['seed']}", ""]  # fmt: skip
    for item in v["not_verified"]:
        lines += [f"- not verified: `{item['where']}`: {item['reason']}"]
    for d in report["divergences"]:
        lines += [f"## {d['count']} × {d['difference']}".replace("|", "\\|"), "", "Smallest scenario:", "",
                  "```json", json.dumps(d["scenario"]), "```", "", "Go:", "", "```", d["go"].rstrip(), "```", "",
                  "Port:", "", "```", d["py"].rstrip(), "```", ""]  # fmt: skip
    return "\n".join(lines) + "\n"


def write(report: dict, reports: Path) -> None:
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "fuzz.json").write_text(json.dumps(report, indent=1) + "\n")
    (reports / "fuzz.md").write_text(markdown(report))
