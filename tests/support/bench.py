"""make bench's work: how long Go, the port and unshare take to start sh in six namespaces and end.

scripts/bench.py is its command line (`run` takes the parsed arguments).

Every launcher gets `exit` on stdin (a file) and ends when its shell does.
Runs are interleaved: each round runs every target once, in a fresh random
order, after a few warm-up rounds that are thrown away. For each target the
report gives the median and the quartiles of the wall time and of the CPU time
(user+sys of the launcher and of everything it reaped, from wait4(2)); CPU
time is the steadier figure on a shared machine.

The setup cost of a launcher is its time minus its own runtime's null start
(NULL_GO for Go, `python -c pass` with the same interpreter, /bin/true
for unshare), taken round by round, so its quartiles are a real spread.
Python versions without a virtual environment of their own (the Makefile's
.venv-pythonX.Y) run with PYTHONPATH set to the checkout, since port/ needs
only the standard library; port/ is byte-compiled for each one first.

Writes reports/bench.json, reports/bench.md, reports/bench.svg (setup costs)
and reports/bench-flags.svg (the cost of each namespace flag alone).
"""

import json
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import pygal
from plumbum import local
from rich.console import Console
from rich.table import Table

from tests.support.launchers import GO, LAUNCHER_GO, LAUNCHER_PY, NULL_GO, PY, UNSHARE, Launcher
from tests.support.paths import PYTHON, REPORTS, ROOT

VERSIONS = ("3.11", "3.12", "3.13")
SIX = "uts,ipc,pid,ns,user,net"
FLAGS = ("uts", "ipc", "pid", "ns", "user", "net")
# The Go programs the bench cannot do without.
GO_PROGRAMS = (NULL_GO, GO, LAUNCHER_GO)
# Run port.notes with another PID-namespace strategy (see port/exec_linux.py): the
# one line that selects the strategy, formatted with the strategy's name.
STRATEGY_RUN = (
    "from port import exec_linux, notes, runtime; "
    "exec_linux.pid_namespace_strategy = {!r}; runtime.init(); notes.main()"
)
# Targets (the figures): setup cost within 2x Go's, launcher within
# 1.3x notes, launch-path imports within 5 ms of the bare interpreter.
TARGET_SETUP_RATIO, LONG_TERM_SETUP_RATIO = 2.0, 1.2
TARGET_LAUNCHER_RATIO, TARGET_IMPORT_MS = 1.3, 5.0

# Wide enough for the tables when the output is not a terminal (make, CI logs).
console = Console(width=None if sys.stdout.isatty() else 150)


class Target:
    """One command to time: argv, environment, and the null start it is compared with."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        *,
        env: dict | None = None,
        null: str | None = None,
        python: str | None = None,
        kind: str = "launcher",
        expect: int = 0,
    ):
        self.name, self.argv, self.env, self.null = name, list(argv), env or dict(os.environ), null
        self.python, self.kind, self.expect = python, kind, expect
        self.argv[0] = shutil.which(self.argv[0]) or self.argv[0]
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.statuses: set[int] = set()


def with_python(launcher: Launcher, python: str) -> list[str]:
    """A Python launcher's argv run by another interpreter."""
    assert launcher.argv[0] == PYTHON, f"{launcher.name} is not run by the suite's interpreter"
    return [python, *launcher.argv[1:]]


def run_once(target: Target, stdin_path: str) -> tuple[float, float, int]:
    """Spawn target with stdin from stdin_path, output to /dev/null; return wall ms, CPU ms, status."""
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, stdin_path, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
    ]
    start = time.perf_counter_ns()
    pid = os.posix_spawn(
        target.argv[0], target.argv, target.env, file_actions=actions, setsigdef=(signal.SIGPIPE, signal.SIGXFSZ)
    )
    _, status, usage = os.wait4(pid, 0)
    wall = (time.perf_counter_ns() - start) / 1e6
    return wall, (usage.ru_utime + usage.ru_stime) * 1e3, os.waitstatus_to_exitcode(status)


def interleave(
    targets: list[Target], rounds: int, warmup: int, stdin_path: str, rng: random.Random, label: str
) -> None:
    """Run every target once per round, in a random order; keep the rounds after warm-up."""
    order = list(targets)
    with console.status(f"{label}: warm-up") as status:
        for r in range(warmup + rounds):
            rng.shuffle(order)
            for t in order:
                wall, cpu, code = run_once(t, stdin_path)
                if r >= warmup:
                    t.wall.append(wall)
                    t.cpu.append(cpu)
                    t.statuses.add(code)
            if r >= warmup:
                status.update(f"{label}: round {r - warmup + 1}/{rounds}")


def stats(xs: list[float]) -> dict:
    """Median, quartiles and extremes of xs, in ms rounded to 0.01."""
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


def paired(a: list[float], b: list[float]) -> dict:
    """Stats of a - b round by round (both were run in the same rounds)."""
    return stats([x - y for x, y in zip(a, b, strict=True)])


# --- interpreters ----------------------------------------------------------------


def interpreters(versions: list[str]) -> list[dict]:
    """Find each Python version: the Makefile's venv for it if built, else the bare interpreter."""
    found = []
    default_venv = ROOT / ".venv" / "bin" / "python"
    for v in versions:
        env = dict(os.environ)
        how = ""
        candidates = [ROOT / f".venv-python{v}" / "bin" / "python", default_venv]
        for c in candidates:
            if c.exists() and _version(str(c)) == v:
                path, how = str(c), f"venv {c.parent.parent.name}"
                break
        else:
            try:
                path = local[str(ROOT / "scripts" / "python-path.sh")](f"python{v}").strip()
            except Exception:  # noqa: BLE001 - a missing version is reported and skipped
                console.print(f"[yellow]python{v}: not found, skipped")
                continue
            env["PYTHONPATH"] = str(ROOT)
            how = "PYTHONPATH=. (no venv)"
        # What the Makefile does for its own venv: compile port/ once, so that a
        # start with PYTHONDONTWRITEBYTECODE set does not recompile it every time.
        local[path]("-m", "compileall", "-q", str(ROOT / "port"))
        found.append({"version": v, "path": path, "how": how, "env": env, "strategies": _strategies(path, env)})
    return found


def _version(python: str) -> str:
    return local[python]("-c", "import sys; print('%d.%d' % sys.version_info[:2])").strip()


def _strategies(python: str, env: dict) -> list[str]:
    """The PID-namespace strategies port/exec_linux.py has (RAW_CLONE only where it has landed)."""
    code = (
        "from port import exec_linux as e; "
        "print(' '.join(getattr(e, 'STRATEGIES', None) or "
        "(getattr(e, n) for n in ('SUBREAPER', 'RELAY', 'RAW_CLONE') if hasattr(e, n))))"
    )
    out = subprocess.run([python, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.split()


# --- what is measured --------------------------------------------------------------


def launch_targets(pythons: list[dict]) -> list[Target]:
    launcher_six = ["--clone", SIX, "--", "sh"]
    targets = [
        Target("go null", NULL_GO.argv, kind="null"),
        Target("go notes", GO.argv, null="go null", expect=255),
        Target("go launcher", [*LAUNCHER_GO.argv, *launcher_six], null="go null"),
        Target("true", ["true"], kind="null"),
        Target("unshare", UNSHARE.argv, null="true"),
    ]
    for p in pythons:
        py, v, env = p["path"], p["version"], p["env"]
        null = f"py{v} null"
        targets.append(Target(null, [py, "-c", "pass"], env=env, python=v, kind="null"))
        targets.append(Target(f"py{v} notes", with_python(PY, py), env=env, null=null, python=v, expect=255))
        for s in p["strategies"]:
            targets.append(
                Target(
                    f"py{v} notes -c {s}",
                    [py, "-c", STRATEGY_RUN.format(s)],
                    env=env,
                    null=null,
                    python=v,
                    kind="strategy",
                    expect=255,
                )
            )
        targets.append(
            Target(f"py{v} launcher", [*with_python(LAUNCHER_PY, py), *launcher_six], env=env, null=null, python=v)
        )
    missing = {t.name for t in targets if not os.access(t.argv[0], os.X_OK)}
    for name in sorted(missing):
        console.print(f"[yellow]{name}: {next(t.argv[0] for t in targets if t.name == name)} not found, skipped")
    return [t for t in targets if t.name not in missing and t.null not in missing]


def flag_targets(python: dict) -> list[Target]:
    """Each launcher running `true` with no namespace, then with each flag alone."""
    targets = []
    for rt, head in (("go", list(LAUNCHER_GO.argv)), ("py", with_python(LAUNCHER_PY, python["path"]))):
        targets.append(Target(f"{rt} none", [*head, "--", "true"], env=python["env"], kind="flags"))
        for f in FLAGS:
            targets.append(
                Target(
                    f"{rt} {f}", [*head, "--clone", f, "--", "true"], env=python["env"], null=f"{rt} none", kind="flags"
                )
            )
    return targets


IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")


def import_times(pythons: list[dict], runs: int, stdin_path: str) -> dict:
    """-X importtime of the bare interpreter and of both launch paths, summed by module."""
    out = {}
    for p in pythons:
        py = p["path"]
        paths = {
            "bare": [py, "-X", "importtime", "-c", "pass"],
            "notes": [py, "-X", "importtime", *PY.argv[1:]],
            "launcher": [py, "-X", "importtime", *LAUNCHER_PY.argv[1:], "--clone", SIX, "--", "sh"],
        }
        totals: dict[str, list[float]] = {k: [] for k in paths}
        modules: dict[str, dict[str, list[float]]] = {k: {} for k in paths}
        for _ in range(runs):
            for key, argv in paths.items():
                with open(stdin_path) as stdin:
                    err = subprocess.run(
                        argv,
                        env=p["env"],
                        cwd=ROOT,
                        stdin=stdin,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE,
                        text=True,
                    ).stderr
                per_module: dict[str, float] = {}
                for line in err.splitlines():
                    if m := IMPORT_LINE.match(line):
                        per_module[m[4]] = per_module.get(m[4], 0) + int(m[1]) / 1000
                totals[key].append(sum(per_module.values()))
                for name, ms in per_module.items():
                    modules[key].setdefault(name, []).append(ms)
        entry = {"bare": stats(totals["bare"])}
        for key in ("notes", "launcher"):
            by_module = {
                name: round(statistics.median(v + [0.0] * (runs - len(v))), 3) for name, v in modules[key].items()
            }
            extra = sorted((n for n in by_module if n not in modules["bare"]), key=lambda n: -by_module[n])
            entry[key] = {
                "total": stats(totals[key]),
                # -X importtime measures wall time, which the load only ever adds to: the
                # fastest runs are the import cost itself; the medians are kept beside them.
                "above_bare_ms": round(min(totals[key]) - min(totals["bare"]), 2),
                "above_bare_median_ms": round(statistics.median(totals[key]) - statistics.median(totals["bare"]), 2),
                "modules_not_in_bare": len(extra),
                "top_modules": {n: by_module[n] for n in extra[:12]},
            }
        out[p["version"]] = entry
    return out


def probe_round_trip(runs: int) -> dict:
    """The pexpect harness's cost: first prompt, then `true` round trips, per launcher."""
    from tests.support.shell import ShellSession

    out = {}
    for launcher in (GO, PY):
        start = time.perf_counter()
        with ShellSession(launcher) as sh:
            ready = (time.perf_counter() - start) * 1e3
            trips = []
            for _ in range(runs):
                t0 = time.perf_counter()
                sh.run("true")
                trips.append((time.perf_counter() - t0) * 1e3)
            sh.exit()
        out[launcher.name] = {"first_prompt_ms": round(ready, 1), "round_trip": stats(trips)}
    return out


def make_times(targets: list[str]) -> dict:
    """Wall time of the slow make targets (each once); matrix only where the Makefile has it."""
    have = (ROOT / "Makefile").read_text()
    out = {}
    for name in targets:
        if not re.search(rf"^{name}:", have, re.M):
            out[name] = None
            continue
        with console.status(f"make {name}"):
            t0 = time.perf_counter()
            code = subprocess.run(
                ["make", "-C", str(ROOT), name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            ).returncode
        out[name] = {"wall_s": round(time.perf_counter() - t0, 1), "status": code}
    return out


# --- summary -----------------------------------------------------------------------


def summarize(targets: list[Target]) -> dict:
    by_name = {t.name: t for t in targets}
    rows = {}
    for t in targets:
        row = {
            "argv": t.argv,
            "kind": t.kind,
            "python": t.python,
            "statuses": sorted(t.statuses),
            "status_ok": t.statuses == {t.expect},
            "wall": stats(t.wall),
            "cpu": stats(t.cpu),
        }
        if t.null:
            null = by_name[t.null]
            row["null"] = t.null
            row["setup_wall"] = paired(t.wall, null.wall)
            row["setup_cpu"] = paired(t.cpu, null.cpu)
        rows[t.name] = row
    return rows


def ratios(rows: dict, pythons: list[dict]) -> dict:
    """Setup cost against Go's, and launcher against notes, per Python version."""

    def r(a: float, b: float) -> float | None:
        return round(a / b, 2) if b > 0 else None

    go = {k: rows[f"go {k}"] for k in ("notes", "launcher")}
    out = {}
    for p in pythons:
        v = p["version"]
        notes, launcher = rows[f"py{v} notes"], rows[f"py{v} launcher"]
        entry = {}
        for unit in ("cpu", "wall"):
            entry[f"setup_{unit}_vs_go"] = r(notes[f"setup_{unit}"]["median"], go["notes"][f"setup_{unit}"]["median"])
            entry[f"launcher_setup_{unit}_vs_go"] = r(
                launcher[f"setup_{unit}"]["median"], go["launcher"][f"setup_{unit}"]["median"]
            )
            entry[f"launcher_{unit}_vs_notes"] = r(launcher[unit]["median"], notes[unit]["median"])
            for s in p["strategies"]:
                row = rows[f"py{v} notes -c {s}"]
                entry[f"setup_{unit}_vs_go_{s}"] = r(
                    row[f"setup_{unit}"]["median"], go["notes"][f"setup_{unit}"]["median"]
                )
        out[v] = entry
    return out


def verdicts(report: dict) -> list[dict]:
    """The issue's targets, met or not, from this run (CPU time; wall time beside it)."""
    out = []
    for v, rat in report["ratios"].items():
        out.append(
            {
                "target": f"py{v}: notes setup cost ≤ {TARGET_SETUP_RATIO}× Go's (CPU)",
                "value": rat["setup_cpu_vs_go"],
                "wall": rat["setup_wall_vs_go"],
                "met": rat["setup_cpu_vs_go"] is not None and rat["setup_cpu_vs_go"] <= TARGET_SETUP_RATIO,
                "long_term": rat["setup_cpu_vs_go"] is not None and rat["setup_cpu_vs_go"] <= LONG_TERM_SETUP_RATIO,
            }
        )
        out.append(
            {
                "target": f"py{v}: launcher ≤ {TARGET_LAUNCHER_RATIO}× notes (CPU)",
                "value": rat["launcher_cpu_vs_notes"],
                "wall": rat["launcher_wall_vs_notes"],
                "met": rat["launcher_cpu_vs_notes"] is not None
                and rat["launcher_cpu_vs_notes"] <= TARGET_LAUNCHER_RATIO,
            }
        )
    for v, imp in report["imports"].items():
        for key in ("notes", "launcher"):
            above = imp[key]["above_bare_ms"]
            out.append(
                {
                    "target": f"py{v}: {key} imports ≤ {TARGET_IMPORT_MS} ms above bare (fastest runs)",
                    "value": above,
                    "wall": None,
                    "met": above <= TARGET_IMPORT_MS,
                }
            )
    return out


def _met(g: dict) -> str:
    return (
        ("yes" + (f" (also the long-term {LONG_TERM_SETUP_RATIO}×)" if g.get("long_term") else ""))
        if g["met"]
        else "no"
    )


def _label(key: str) -> str:
    """A ratio's JSON key as a column header: setup_cpu_vs_go_relay -> setup cpu ÷ Go relay."""
    return key.replace("_vs_go", " ÷ Go").replace("_vs_notes", " ÷ notes").replace("_", " ")


def _fmt(s: dict) -> str:
    return f"{s['median']:.1f} ({s['p25']:.1f}–{s['p75']:.1f})" if s else "–"


def print_tables(report: dict) -> None:
    table = Table(title="Launch to exit, ms: median (quartiles)")
    for col in ("target", "wall", "CPU", "setup wall", "setup CPU", "status"):
        table.add_column(col, justify="left" if col == "target" else "right")
    for name, row in report["launch"].items():
        table.add_row(
            name,
            _fmt(row["wall"]),
            _fmt(row["cpu"]),
            _fmt(row.get("setup_wall", {})),
            _fmt(row.get("setup_cpu", {})),
            ("" if row["status_ok"] else "[red]") + ",".join(map(str, row["statuses"])),
        )
    console.print(table)
    if report["flags"]:
        flags = Table(title="One namespace flag alone (launcher -- true), cost over none, ms: median (quartiles)")
        for col in ("flag", "go CPU", "py CPU", "go wall", "py wall"):
            flags.add_column(col, justify="left" if col == "flag" else "right")
        for f in FLAGS:
            go, py = report["flags"][f"go {f}"], report["flags"][f"py {f}"]
            flags.add_row(
                f, _fmt(go["setup_cpu"]), _fmt(py["setup_cpu"]), _fmt(go["setup_wall"]), _fmt(py["setup_wall"])
            )
        console.print(flags)
    imports = Table(title="Import time (-X importtime, sum of self times), ms")
    for col in ("python", "bare", "notes", "notes above bare", "launcher", "launcher above bare"):
        imports.add_column(col, justify="left" if col == "python" else "right")
    for v, imp in report["imports"].items():
        imports.add_row(
            v,
            _fmt(imp["bare"]),
            _fmt(imp["notes"]["total"]),
            f"{imp['notes']['above_bare_ms']:.1f} (median {imp['notes']['above_bare_median_ms']:.1f})",
            _fmt(imp["launcher"]["total"]),
            f"{imp['launcher']['above_bare_ms']:.1f} (median {imp['launcher']['above_bare_median_ms']:.1f})",
        )
    console.print(imports)
    goals = Table(title="Targets")
    for col in ("target", "this run (CPU)", "wall", "met"):
        goals.add_column(col)
    for g in report["verdicts"]:
        goals.add_row(
            g["target"],
            str(g["value"]),
            str(g["wall"] if g["wall"] is not None else "–"),
            ("[green]" if g["met"] else "[red]") + _met(g),
        )
    console.print(goals)


def markdown(report: dict) -> str:
    m = report["machine"]
    lines = [
        "# make bench",
        "",
        f"{report['date']}, commit {report['commit']}, {m['cpus']} CPUs, load {m['load_before']} before and "
        f"{m['load_after']} after; {report['settings']['rounds']} interleaved rounds after "
        f"{report['settings']['warmup']} warm-up. Milliseconds: median (quartiles). CPU is user+sys of the "
        "launcher and everything it reaped; setup is the launcher minus its runtime's null start, round by round.",
        "",
        "## Targets",
        "",
        "| target | this run (CPU) | wall | met |",
        "|---|---|---|---|",
        *(
            f"| {g['target']} | {g['value']} | {g['wall'] if g['wall'] is not None else '–'} | {_met(g)} |"
            for g in report["verdicts"]
        ),
        "",
        "## Launch to exit",
        "",
        "| target | wall | CPU | setup wall | setup CPU | exit status |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in report["launch"].items():
        lines.append(
            f"| {name} | {_fmt(row['wall'])} | {_fmt(row['cpu'])} | {_fmt(row.get('setup_wall', {}))} | "
            f"{_fmt(row.get('setup_cpu', {}))} | {','.join(map(str, row['statuses']))}"
            f"{'' if row['status_ok'] else ' (unexpected)'} |"
        )
    lines += [
        "",
        "## Ratios",
        "",
        "| python | " + " | ".join(map(_label, next(iter(report["ratios"].values()), {}))) + " |",
    ]
    lines.append("|---" * (1 + len(next(iter(report["ratios"].values()), {}))) + "|")
    for v, rat in report["ratios"].items():
        lines.append(f"| {v} | " + " | ".join(str(x) for x in rat.values()) + " |")
    lines += [
        "",
        "## Import time of the launch path (sum of `-X importtime` self times)",
        "",
        "Above bare: fastest run minus fastest run (importtime is wall time, which load only adds to); "
        "the difference of the medians in brackets.",
        "",
        "| python | bare | notes | above bare | launcher | above bare | heaviest modules the bare start lacks |",
        "|---|---|---|---|---|---|---|",
    ]
    for v, imp in report["imports"].items():
        top = ", ".join(f"{n} {ms:.1f}" for n, ms in list(imp["launcher"]["top_modules"].items())[:6])
        lines.append(
            f"| {v} | {_fmt(imp['bare'])} | {_fmt(imp['notes']['total'])} | {imp['notes']['above_bare_ms']}"
            f" ({imp['notes']['above_bare_median_ms']})"
            f" | {_fmt(imp['launcher']['total'])} | {imp['launcher']['above_bare_ms']}"
            f" ({imp['launcher']['above_bare_median_ms']}) | {top} |"
        )
    if report["flags"]:
        lines += [
            "",
            f"## One namespace flag alone ({report['settings']['flag_runs']} launches each of `launcher --clone FLAG "
            f"-- true`; py is Python {report['settings']['flags_python']})",
            "",
            "| flag | go setup CPU | py setup CPU | go setup wall | py setup wall |",
            "|---|---|---|---|---|",
        ]
        for f in FLAGS:
            go, py = report["flags"][f"go {f}"], report["flags"][f"py {f}"]
            lines.append(
                f"| {f} | {_fmt(go['setup_cpu'])} | {_fmt(py['setup_cpu'])} | {_fmt(go['setup_wall'])} | "
                f"{_fmt(py['setup_wall'])} |"
            )
    if report["probe"]:
        lines += [
            "",
            "## pexpect probe round trip (`true`)",
            "",
            "| launcher | first prompt | round trip |",
            "|---|---|---|",
        ]
        for name, p in report["probe"].items():
            lines.append(f"| {name} | {p['first_prompt_ms']} | {_fmt(p['round_trip'])} |")
    if report["make"]:
        lines += ["", "## make targets (wall, once)", "", "| target | seconds | status |", "|---|---|---|"]
        for name, t in report["make"].items():
            lines.append(f"| make {name} | {t['wall_s'] if t else 'absent'} | {t['status'] if t else '–'} |")
    return "\n".join(lines) + "\n"


def plots(report: dict) -> None:
    style = pygal.style.Style(background="white", plot_background="white", font_family="sans-serif")
    chart = pygal.HorizontalBar(
        style=style,
        width=1000,
        height=40 + 28 * len(report["launch"]),
        show_legend=True,
        title="Setup cost (launcher minus its null start), median ms",
        legend_at_bottom=True,
    )
    names = [n for n, row in report["launch"].items() if "setup_cpu" in row][::-1]  # pygal draws bottom up
    chart.x_labels = names
    chart.add("CPU", [report["launch"][n]["setup_cpu"]["median"] for n in names])
    chart.add("wall", [report["launch"][n]["setup_wall"]["median"] for n in names])
    chart.render_to_file(str(REPORTS / "bench.svg"))
    if report["flags"]:
        chart = pygal.Bar(
            style=style,
            width=900,
            height=450,
            legend_at_bottom=True,
            title=f"CPU cost of one namespace flag alone over none, median ms "
            f"({report['settings']['flag_runs']} launches each)",
        )
        chart.x_labels = list(FLAGS)
        for rt in ("go", "py"):
            chart.add(
                f"{rt} launcher" if rt == "go" else f"py{report['settings']['flags_python']} launcher",
                [report["flags"][f"{rt} {f}"]["setup_cpu"]["median"] for f in FLAGS],
            )
        chart.render_to_file(str(REPORTS / "bench-flags.svg"))


def reset_make_signals() -> list[int]:
    """Give signals 32 and 33 back their default, as a login shell has them.

    GNU make starts its commands with both ignored, a state that a launch
    from a shell never has. Returns the signals that were ignored.
    """
    with open("/proc/self/status") as f:
        ignored = int(next(line for line in f if line.startswith("SigIgn:")).split()[1], 16)
    was = [sig for sig in (32, 33) if ignored >> (sig - 1) & 1]
    if was:
        from port import libc

        for sig in was:
            libc.set_signal_raw(sig, libc.SIG_DFL)
    return was


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run(args) -> int:
    """A whole run, from scripts/bench.py's parsed arguments; its exit status."""
    missing = [launcher.argv[0] for launcher in GO_PROGRAMS if not os.path.exists(launcher.argv[0])]
    if missing:
        console.print(f"[red]bench: {', '.join(missing)} missing: run make build")
        return 2
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    REPORTS.mkdir(exist_ok=True)
    reset = [] if args.keep_signals else reset_make_signals()
    load_before = _load()
    t_start = time.perf_counter()
    pythons = interpreters([v.strip() for v in args.python.split(",") if v.strip()])
    if not pythons:
        console.print("[red]bench: no Python interpreter found")
        return 2
    with tempfile.NamedTemporaryFile("w", prefix="bench-stdin-", suffix=".txt") as stdin:
        stdin.write("exit\n")
        stdin.flush()
        launch = launch_targets(pythons)
        interleave(launch, args.rounds, args.warmup, stdin.name, rng, "launch to exit")
        flags = flag_targets(pythons[0]) if args.flag_runs else []
        if flags:
            interleave(flags, args.flag_runs, 1, stdin.name, rng, f"namespace flags (py{pythons[0]['version']})")
        with console.status("import times"):
            imports = import_times(pythons, args.import_runs, stdin.name)
    with console.status("pexpect round trips"):
        probe = probe_round_trip(args.probe_runs) if args.probe_runs else {}
    make = make_times(["test", "parity", "matrix"]) if args.slow else {}
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "commit": subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True
        ).stdout.strip(),
        "machine": {
            "cpus": os.cpu_count(),
            "kernel": platform.release(),
            "load_before": load_before,
            "load_after": _load(),
            "bench_seconds": round(time.perf_counter() - t_start, 1),
            "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE", ""),
            "ignored_signals_reset_to_default": reset,
        },
        "settings": {
            "rounds": args.rounds,
            "warmup": args.warmup,
            "flag_runs": args.flag_runs,
            "import_runs": args.import_runs,
            "probe_runs": args.probe_runs,
            "seed": seed,
            "flags_python": pythons[0]["version"],
        },
        "pythons": [{k: p[k] for k in ("version", "path", "how", "strategies")} for p in pythons],
        "launch": summarize(launch),
        "flags": summarize(flags) if flags else {},
        "imports": imports,
        "probe": probe,
        "make": make,
    }
    report["ratios"] = ratios(report["launch"], pythons)
    report["verdicts"] = verdicts(report)
    print_tables(report)
    (REPORTS / "bench.json").write_text(json.dumps(report, indent=1) + "\n")
    (REPORTS / "bench.md").write_text(markdown(report))
    plots(report)
    console.print(
        f"wrote reports/bench.json, bench.md, bench.svg, bench-flags.svg in "
        f"{report['machine']['bench_seconds']} s; load {load_before} -> {report['machine']['load_after']}"
    )
    return 0
