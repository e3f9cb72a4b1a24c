"""What make bench's numbers say, and what they do not: pure functions of the measurements.

Every figure is a median with its quartiles (half the runs fall between them).
A difference is a cost only when its quartiles are both above zero: when they
include zero it is "no measurable cost", however its median falls. A target is
met when its quartiles are both within the limit, not met when both are beyond
it, and unclear when the limit lies between them. On a busy machine nothing is
judged at all (see `busy`), unless the run was forced.

Nothing here runs or times anything (tests/support/bench.py does); the tests
feed it made-up series (tests/test_bench.py).
"""

import statistics
from collections import Counter

# The targets: setup cost within 2x Go's (1.2x in the long term),
# launcher within 1.3x notes, launch-path imports within 5 ms of the bare interpreter.
TARGET_SETUP_RATIO, LONG_TERM_SETUP_RATIO = 2.0, 1.2
TARGET_LAUNCHER_RATIO, TARGET_IMPORT_MS = 1.3, 5.0
# Fewer runs than this give no quartiles worth the name.
MIN_RUNS = 5
# Busy: a 1-minute load average above this many runnable tasks per core.
BUSY_PER_CORE = 1.0
# What the bench adds to the load average itself: it runs one process at a time.
OWN_LOAD = 1.0

NO_COST = "no measurable cost"
COST_LABELS = {"cost": "cost", "none": NO_COST, "less": "measurably less"}
STATES = ("met", "not met", "unclear", "not judged")


def stats(xs: list[float]) -> dict:
    """Median, quartiles and extremes of xs, rounded to 0.01; {} for no data."""
    if not xs:
        return {}
    q = statistics.quantiles(xs, n=4, method="inclusive") if len(xs) > 1 else [xs[0]] * 3
    return {
        "median": round(q[1], 2),
        "p25": round(q[0], 2),
        "p75": round(q[2], 2),
        "min": round(min(xs), 2),
        "max": round(max(xs), 2),
        "n": len(xs),
    }


def differences(a: list[float], b: list[float]) -> list[float]:
    """a - b round by round (both were run in the same rounds)."""
    return [x - y for x, y in zip(a, b, strict=True)]


def quotients(a: list[float], b: list[float]) -> list[float]:
    """a / b round by round; a round whose b is not above zero has no quotient and is left out."""
    return [x / y for x, y in zip(a, b, strict=True) if y > 0]


# --- a difference: a cost or not -----------------------------------------------------


def cost_class(s: dict) -> str:
    """'cost' when a difference's quartiles are both above zero, 'less' when both below, else 'none'.

    'none' reads "no measurable cost": the difference is smaller than its spread.
    """
    if not s:
        return "none"
    if s["p25"] > 0:
        return "cost"
    if s["p75"] < 0:
        return "less"
    return "none"


# --- the machine: busy or not ----------------------------------------------------------


def load_limit(cores: int, per_core: float = BUSY_PER_CORE) -> float:
    return round(cores * per_core, 2)


def busy(load: float, cores: int, limit: float, own: float = 0.0) -> str | None:
    """Why the machine is too busy to judge ("machine busy: load 6.01 on 2 cores"), or None.

    load is the 1-minute load average; own is the part of it the bench itself
    accounts for (OWN_LOAD once it has been running, 0 before it starts).
    """
    if load - own > limit:
        return f"machine busy: load {load:.2f} on {cores} cores"
    return None


# --- targets ---------------------------------------------------------------------------


def judge(low: float | None, high: float | None, limit: float) -> str:
    """'met' when the whole interval is within the limit, 'not met' when all of it is beyond, else 'unclear'."""
    if low is None or high is None:
        return "unclear"
    if high <= limit:
        return "met"
    if low > limit:
        return "not met"
    return "unclear"


def ratios(launch: dict, versions: list[str], strategies: dict[str, list[str]]) -> dict:
    """Round-by-round ratios per Python version, each as stats (median, quartiles).

    setup_cpu_vs_go: the port's notes setup cost over Go's notes setup cost, round by
    round (setup: the start minus its own runtime's null start, same round);
    launcher_cpu_vs_notes: port.launcher over port.notes (totals). The same for wall
    time, and the setup ratio for each PID-namespace strategy started with -c.
    launch maps target names to rows with "runs" (wall and cpu lists, one per round).
    """

    def setup(name: str, unit: str) -> list[float]:
        row = launch[name]
        return differences(row["runs"][unit], launch[row["null"]]["runs"][unit])

    out = {}
    for v in versions:
        entry = {}
        for unit in ("cpu", "wall"):
            go_setup = setup("go notes", unit)
            entry[f"setup_{unit}_vs_go"] = stats(quotients(setup(f"py{v} notes", unit), go_setup))
            entry[f"launcher_setup_{unit}_vs_go"] = stats(
                quotients(setup(f"py{v} launcher", unit), setup("go launcher", unit))
            )
            entry[f"launcher_{unit}_vs_notes"] = stats(
                quotients(launch[f"py{v} launcher"]["runs"][unit], launch[f"py{v} notes"]["runs"][unit])
            )
            for s in strategies.get(v, []):
                entry[f"setup_{unit}_vs_go_{s}"] = stats(quotients(setup(f"py{v} notes -c {s}", unit), go_setup))
        out[v] = entry
    return out


def _ratio_target(name: str, cpu: dict, wall: dict, limit: float) -> dict:
    return {
        "target": name,
        "limit": limit,
        "value": cpu.get("median"),
        "low": cpu.get("p25"),
        "high": cpu.get("p75"),
        "wall": wall.get("median"),
        "state": judge(cpu.get("p25"), cpu.get("p75"), limit),
    }


def targets(ratio: dict, imports: dict) -> list[dict]:
    """The issue's targets, each with its value, interval (low, high) and state, from this run."""
    out = []
    for v, rat in ratio.items():
        t = _ratio_target(
            f"py{v}: notes setup cost ≤ {TARGET_SETUP_RATIO}× Go's",
            rat["setup_cpu_vs_go"],
            rat["setup_wall_vs_go"],
            TARGET_SETUP_RATIO,
        )
        t["long_term"] = judge(t["low"], t["high"], LONG_TERM_SETUP_RATIO) == "met"
        out.append(t)
        out.append(
            _ratio_target(
                f"py{v}: launcher ≤ {TARGET_LAUNCHER_RATIO}× notes",
                rat["launcher_cpu_vs_notes"],
                rat["launcher_wall_vs_notes"],
                TARGET_LAUNCHER_RATIO,
            )
        )
    for v, imp in imports.items():
        for key in ("notes", "launcher"):
            # -X importtime is wall time, which load only adds to: the fastest runs are
            # the import cost itself, the medians an upper reading; the interval spans both.
            fastest, median = imp[key]["above_bare_ms"], imp[key]["above_bare_median_ms"]
            out.append(
                {
                    "target": f"py{v}: {key} imports ≤ {TARGET_IMPORT_MS} ms above bare",
                    "limit": TARGET_IMPORT_MS,
                    "value": fastest,
                    "median": median,
                    "low": min(fastest, median),
                    "high": max(fastest, median),
                    "wall": None,
                    "state": judge(min(fastest, median), max(fastest, median), TARGET_IMPORT_MS),
                }
            )
    return out


def verdict(goals: list[dict], *, load: dict, busy_reason: str | None, forced: bool, meta: dict) -> dict:
    """The run's verdict: its state, the targets counted by state, and where and when it was measured.

    state is "busy" when the machine was too busy and the run not forced (no target is
    judged then); else "not met" when any target is not met, "unclear" when none is
    but some are unclear, and "met" when every target is met.
    """
    judged = busy_reason is None or forced
    if not judged:
        goals = [{**g, "state": "not judged"} for g in goals]
    counts = Counter(g["state"] for g in goals)
    if not judged:
        state = "busy"
    elif counts["not met"]:
        state = "not met"
    elif counts["unclear"] or not goals:
        state = "unclear"
    else:
        state = "met"
    return {
        "state": state,
        "counts": {"targets": len(goals), **{s: counts[s] for s in STATES}},
        "busy": busy_reason,
        "forced": forced and busy_reason is not None,
        "commit": meta["commit"],
        "kernel": meta["kernel"],
        "date": meta["date"],
        "load": load,
        "targets": goals,
    }


def headline(v: dict) -> str:
    """The verdict in one line, the first the terminal shows."""
    c = v["counts"]
    if v["state"] == "busy":
        return f"verdict: none, {v['busy']}"
    parts = [f"{c['met']} of {c['targets']} targets met"] + [f"{c[s]} {s}" for s in ("not met", "unclear") if c[s]]
    return f"verdict{' (forced)' if v['forced'] else ''}: {v['state']}: {', '.join(parts)}"


def circumstances(v: dict) -> str:
    """The line under the verdict: the load it was judged under, or why it was not judged."""
    load = v["load"]
    seen = f"load {load['before']:.2f} → {load['highest']:.2f} on {load['cores']} cores"
    if v["state"] == "busy":
        return f"{seen} (limit {load['limit']}): not judged; --force judges anyway"
    if v["forced"]:
        return f"forced although {v['busy']} (limit {load['limit']})"
    return f"{seen} (busy above {load['limit']}); commit {v['commit']}"
