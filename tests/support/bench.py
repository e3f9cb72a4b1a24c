"""make bench's measurements: how long Go, the port and unshare take to start sh in six namespaces and end.

Every launcher gets `exit` on stdin (a file) and ends when its shell does.
Runs are interleaved: each round runs every target once, in a fresh random
order, after a few warm-up rounds that are thrown away. Each target keeps its
wall time and its CPU time (user+sys of the launcher and of everything it
reaped, from wait4(2)) round by round; CPU time is the steadier figure on a
shared machine.

The setup cost of a launcher is its time minus its own runtime's null start
(NULL_GO for Go, `python -c pass` with the same interpreter, /bin/true for
unshare), taken round by round, so its quartiles are a real spread.
Python versions without a virtual environment of their own (the Makefile's
.venv-pythonX.Y) run with PYTHONPATH set to the checkout, since port/ needs
only the standard library; port/ is byte-compiled for each one first.

`measure` runs it all and returns the report as plain data; what the numbers
say is tests/support/bench_verdict.py's, the views tests/support/bench_report.py's.
"""

import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

from plumbum import local

from tests.support import bench_verdict as bv
from tests.support.launchers import GO, LAUNCHER_GO, LAUNCHER_PY, NULL_GO, PY, UNSHARE, Launcher
from tests.support.paths import PYTHON, ROOT

VERSIONS = ("3.11", "3.12", "3.13")
SIX = "uts,ipc,pid,ns,user,net"
FLAGS = ("uts", "ipc", "pid", "ns", "user", "net")
# The Go programs the bench cannot do without.
GO_PROGRAMS = (NULL_GO, GO, LAUNCHER_GO)
# Run port.notes with another PID-namespace strategy (see port/exec_linux.py): the
# one line that selects the strategy, formatted with the strategy's name.
STRATEGY_RUN = "from port import notes, runtime; runtime.init(); notes.main(strategy={!r})"
IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")


@dataclass
class Settings:
    rounds: int = 30
    warmup: int = 3
    flag_runs: int = 200
    import_runs: int = 20
    probe_runs: int = 30
    versions: tuple[str, ...] = VERSIONS
    slow: bool = False
    keep_signals: bool = False
    seed: int | None = None
    max_load: float | None = None  # None: BUSY_PER_CORE per core
    force: bool = False

    @classmethod
    def chosen(cls, quick: bool = False, **given) -> "Settings":
        """The defaults, --quick's counts over them when asked, and the options given over both."""
        return cls(**{**(QUICK if quick else {}), **given})

    def problems(self) -> list[str]:
        """What makes these settings unfit to give a median with a spread."""
        out = []
        for name in ("rounds", "import_runs"):
            if getattr(self, name) < bv.MIN_RUNS:
                out.append(f"--{name.replace('_', '-')} {getattr(self, name)}: at least {bv.MIN_RUNS}")
        for name in ("flag_runs", "probe_runs"):
            if 0 < getattr(self, name) < bv.MIN_RUNS:
                out.append(f"--{name.replace('_', '-')} {getattr(self, name)}: 0 (skip) or at least {bv.MIN_RUNS}")
        return out


QUICK = {"rounds": 8, "flag_runs": 30, "import_runs": 5, "probe_runs": 10}


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
    targets: list[Target], rounds: int, warmup: int, stdin_path: str, rng: random.Random, advance: Callable[[], None]
) -> None:
    """Run every target once per round, in a random order; keep the rounds after warm-up."""
    order = list(targets)
    for r in range(warmup + rounds):
        rng.shuffle(order)
        for t in order:
            wall, cpu, code = run_once(t, stdin_path)
            if r >= warmup:
                t.wall.append(wall)
                t.cpu.append(cpu)
                t.statuses.add(code)
        advance()


# --- interpreters ----------------------------------------------------------------


def interpreters(versions: list[str], warn: Callable[[str], None]) -> list[dict]:
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
                warn(f"python{v}: not found, skipped")
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


def launch_targets(pythons: list[dict], warn: Callable[[str], None]) -> list[Target]:
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
        warn(f"{name}: {next(t.argv[0] for t in targets if t.name == name)} not found, skipped")
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


def import_times(pythons: list[dict], runs: int, stdin_path: str, advance: Callable[[], None]) -> dict:
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
            advance()
        entry = {"bare": bv.stats(totals["bare"])}
        for key in ("notes", "launcher"):
            by_module = {
                name: round(statistics.median(v + [0.0] * (runs - len(v))), 3) for name, v in modules[key].items()
            }
            extra = sorted((n for n in by_module if n not in modules["bare"]), key=lambda n: -by_module[n])
            entry[key] = {
                "total": bv.stats(totals[key]),
                # -X importtime measures wall time, which the load only ever adds to: the
                # fastest runs are the import cost itself; the medians are kept beside them.
                "above_bare_ms": round(min(totals[key]) - min(totals["bare"]), 2),
                "above_bare_median_ms": round(statistics.median(totals[key]) - statistics.median(totals["bare"]), 2),
                "above_bare": bv.stats(bv.differences(totals[key], totals["bare"])),
                "modules_not_in_bare": len(extra),
                "top_modules": {n: by_module[n] for n in extra[:12]},
            }
        out[p["version"]] = entry
    return out


def probe_round_trip(runs: int, advance: Callable[[], None]) -> dict:
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
        out[launcher.name] = {"first_prompt_ms": round(ready, 1), "round_trip": bv.stats(trips)}
        advance()
    return out


def make_times(names: list[str], advance: Callable[[], None]) -> dict:
    """Wall time of the slow make targets (each once); matrix only where the Makefile has it."""
    have = (ROOT / "Makefile").read_text()
    out = {}
    for name in names:
        if not re.search(rf"^{name}:", have, re.M):
            out[name] = None
        else:
            t0 = time.perf_counter()
            code = subprocess.run(
                ["make", "-C", str(ROOT), name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            ).returncode
            out[name] = {"wall_s": round(time.perf_counter() - t0, 1), "status": code}
        advance()
    return out


# --- summary -----------------------------------------------------------------------


def summarize(targets: list[Target]) -> dict:
    """Each target as plain data: its runs round by round, their stats, its setup cost and its reading."""
    by_name = {t.name: t for t in targets}
    rows = {}
    for t in targets:
        row = {
            "argv": t.argv,
            "kind": t.kind,
            "python": t.python,
            "statuses": sorted(t.statuses),
            "status_ok": t.statuses == {t.expect},
            "wall": bv.stats(t.wall),
            "cpu": bv.stats(t.cpu),
        }
        if t.null:
            null = by_name[t.null]
            row["null"] = t.null
            row["setup_wall"] = bv.stats(bv.differences(t.wall, null.wall))
            row["setup_cpu"] = bv.stats(bv.differences(t.cpu, null.cpu))
            row["setup_cpu_reading"] = bv.COST_LABELS[bv.cost_class(row["setup_cpu"])]
        row["runs"] = {"wall": [round(x, 3) for x in t.wall], "cpu": [round(x, 3) for x in t.cpu]}
        rows[t.name] = row
    return rows


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


def load() -> float:
    """The 1-minute load average."""
    return os.getloadavg()[0]


def missing_programs() -> list[str]:
    """The Go programs the bench needs that make build has not built."""
    return [launcher.argv[0] for launcher in GO_PROGRAMS if not os.path.exists(launcher.argv[0])]


def busy_now(s: Settings) -> str | None:
    """Why the machine is too busy to start a run, or None."""
    cores = os.cpu_count() or 1
    return bv.busy(load(), cores, _limit(s, cores))


def _limit(s: Settings, cores: int) -> float:
    return s.max_load if s.max_load is not None else bv.load_limit(cores)


def meta() -> dict:
    """When, at which commit and on which kernel the run was made."""
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "commit": subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True
        ).stdout.strip(),
        "kernel": platform.release(),
    }


def stages(s: Settings) -> int:
    """How many stages a run with these settings goes through (for the progress display)."""
    return 3 + bool(s.flag_runs) + bool(s.probe_runs) + s.slow


def measure(s: Settings, progress, warn: Callable[[str], None]) -> dict | None:
    """Run every stage and return the report (verdict first), or None when no interpreter was found.

    progress.stage(label, total) is a context manager giving an advance() callable.
    """
    cores = os.cpu_count() or 1
    limit = _limit(s, cores)
    seed = s.seed if s.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    reset = [] if s.keep_signals else reset_make_signals()
    loads = [load()]
    t_start = time.perf_counter()
    with progress.stage("interpreters: finding them, compiling port/", len(s.versions)) as advance:
        pythons = []
        for v in s.versions:
            pythons += interpreters([v], warn)
            advance()
    if not pythons:
        return None
    with tempfile.NamedTemporaryFile("w", prefix="bench-stdin-", suffix=".txt") as stdin:
        stdin.write("exit\n")
        stdin.flush()
        launch = launch_targets(pythons, warn)
        label = f"launch to exit: {s.rounds} rounds of {len(launch)} targets after {s.warmup} warm-up"
        loads.append(load())
        with progress.stage(label, s.warmup + s.rounds) as advance:
            interleave(launch, s.rounds, s.warmup, stdin.name, rng, advance)
        flags = flag_targets(pythons[0]) if s.flag_runs else []
        if flags:
            loads.append(load())
            label = f"namespace flags alone (py{pythons[0]['version']}): {s.flag_runs} rounds of {len(flags)} targets"
            with progress.stage(label, 1 + s.flag_runs) as advance:
                interleave(flags, s.flag_runs, 1, stdin.name, rng, advance)
        loads.append(load())
        label = f"import times: {s.import_runs} runs of 3 paths on {len(pythons)} interpreters"
        with progress.stage(label, s.import_runs * len(pythons)) as advance:
            imports = import_times(pythons, s.import_runs, stdin.name, advance)
    probe = {}
    if s.probe_runs:
        loads.append(load())
        with progress.stage(f"pexpect round trips: {s.probe_runs} per launcher", 2) as advance:
            probe = probe_round_trip(s.probe_runs, advance)
    loads.append(load())  # the last reading of a timed stage: make's own targets load the machine by design
    make = {}
    if s.slow:
        names = ["test", "parity", "matrix"]
        with progress.stage("make test, parity, matrix (wall, once each)", len(names)) as advance:
            make = make_times(names, advance)
    launch_rows = summarize(launch)
    versions = [p["version"] for p in pythons]
    ratio = bv.ratios(launch_rows, versions, {p["version"]: p["strategies"] for p in pythons})
    goals = bv.targets(ratio, imports)
    m = meta()
    load_seen = {
        "before": round(loads[0], 2),
        "highest": round(max(loads), 2),
        "after": round(loads[-1], 2),
        "cores": cores,
        "limit": limit,
    }
    # Before the run the bench adds nothing to the load; while it runs, one process of its own.
    reason = bv.busy(loads[0], cores, limit) or bv.busy(max(loads), cores, limit, own=bv.OWN_LOAD)
    return {
        "verdict": bv.verdict(goals, load=load_seen, busy_reason=reason, forced=s.force, meta=m),
        **m,
        "machine": {
            "cpus": cores,
            "kernel": m["kernel"],
            "load_before": round(loads[0], 2),
            "load_after": round(loads[-1], 2),
            "load_readings": [round(x, 2) for x in loads],
            "bench_seconds": round(time.perf_counter() - t_start, 1),
            "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE", ""),
            "ignored_signals_reset_to_default": reset,
        },
        "settings": {
            "rounds": s.rounds,
            "warmup": s.warmup,
            "flag_runs": s.flag_runs,
            "import_runs": s.import_runs,
            "probe_runs": s.probe_runs,
            "seed": seed,
            "flags_python": pythons[0]["version"],
            "max_load": limit,
            "force": s.force,
        },
        "pythons": [{k: p[k] for k in ("version", "path", "how", "strategies")} for p in pythons],
        "launch": launch_rows,
        "flags": summarize(flags) if flags else {},
        "imports": imports,
        "probe": probe,
        "make": make,
        "ratios": ratio,
    }
