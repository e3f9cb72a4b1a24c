"""make fuzz: N generated scenarios under Go and the port, and what differs.

Scenarios come from tests/support/scenario_gen.py (os/exec calls) and
tests/support/launcher_gen.py (launcher command lines), one or the other at
each draw (hypothesis, a seed given or drawn); distinct ones run in parallel
(each is two short processes). A
divergence is a scenario whose two transcripts differ; divergences are grouped
by their first differing line pair, and each group is shown by its smallest
scenario drawn (the fewest JSON characters), then cut down by shrink().
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


# What a shrink may drop: a scenario's optional keys, and one item (or, for argv, two) of its lists.
REQUIRED = ("kind", "args")
SHRINK_RUNS = 80


def _smaller(s: dict):
    """Candidates one step simpler than s, the biggest cuts first."""
    for key in s:
        if key not in REQUIRED:
            yield {k: v for k, v in s.items() if k != key}
    for key, value in s.items():
        if isinstance(value, list) and key not in ("args",):
            for width in (2, 1) if key == "argv" else (1,):
                for i in range(len(value) - width + 1):
                    yield {**s, key: value[:i] + value[i + width :]}


def shrink(scenario: dict, difference: str, run_one=_run) -> tuple[dict, Outcome]:
    """The smallest scenario found, by greedy cuts, that still shows the same first difference.

    hypothesis shrinks only inside a failing test; make fuzz collects first and compares after, so
    its divergences are cut down here instead: drop a key or a list item, keep the cut when Go and
    the port still differ on the same first line pair, until no cut keeps it (or SHRINK_RUNS runs).
    """
    best, outcome, runs = scenario, None, 0
    progress = True
    while progress and runs < SHRINK_RUNS:
        progress = False
        for candidate in _smaller(best):
            runs += 1
            o = run_one(candidate)
            if isinstance(o, Outcome) and not o.same and _first_difference(o) == difference:
                best, outcome, progress = candidate, o, True
                break
            if runs >= SHRINK_RUNS:
                break
    return best, outcome if outcome is not None else run_one(best)


def shrink_all(report: dict, run_one=_run) -> None:
    """Replace each divergence's scenario by its shrunk form, keeping the one drawn beside it."""
    for d in report["divergences"]:
        shrunk, o = shrink(d["scenario"], d["difference"], run_one)
        if shrunk != d["scenario"] and isinstance(o, Outcome):
            d.update(drawn=d["scenario"], scenario=shrunk, go=o.go, py=o.py)


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
        shown = "Shrunk scenario (cut down from the smallest drawn, below)" if "drawn" in d else "Smallest scenario"
        lines += [f"## {d['count']} × {d['difference']}".replace("|", "\\|"), "", f"{shown}:", "",
                  "```json", json.dumps(d["scenario"]), "```", "", "Go:", "", "```", d["go"].rstrip(), "```", "",
                  "Port:", "", "```", d["py"].rstrip(), "```", ""]  # fmt: skip
        if "drawn" in d:
            lines += ["The smallest drawn:", "", "```json", json.dumps(d["drawn"]), "```", ""]
    return "\n".join(lines) + "\n"


def write(report: dict, reports: Path) -> None:
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "fuzz.json").write_text(json.dumps(report, indent=1) + "\n")
    (reports / "fuzz.md").write_text(markdown(report))
