"""What a `make test` run gave, for the README's figures (tests/support/figures.py).

pytest --run-record FILE (make test passes reports/test-run.json) writes, once the
session ends, the counts of each outcome, the wall time, the load average before
and after, the commit, the interpreter and pytest's arguments. Only the
controlling pytest writes it (not xdist's workers).

It also says how fast the host was, since the same commit's wall time swings by
half on a shared VM while its load average stays the same: the machine's busy and
stolen CPU-seconds over the run (/proc/stat: everything the machine did, the run's
workers and whatever else ran), and a pace taken before and after, two small fixed
jobs (twenty spawns of /bin/true, a pure-Python loop), to compare hours and hosts by.
"""

import json
import os
import sys
import time
from pathlib import Path

_started: dict = {}

TRUE = "/bin/true"


def addoption(parser) -> None:
    parser.addoption("--run-record", default="", help="write the run's counts, time and load here (JSON)")


def cpu_seconds(stat: str) -> dict:
    """{"busy", "steal"} CPU-seconds since boot from /proc/stat's text: busy is user, nice, system,
    irq and softirq of all CPUs (guest time is within user); idle, iowait and steal are not busy."""
    fields = stat.split("\n", 1)[0].split()
    assert fields[0] == "cpu", f"not /proc/stat's first line: {fields[:1]}"
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[1:9])
    tick = os.sysconf("SC_CLK_TCK")
    return {"busy": (user + nice + system + irq + softirq) / tick, "steal": steal / tick}


def _cpu_now() -> dict:
    with open("/proc/stat") as f:
        return cpu_seconds(f.read())


def pace() -> dict:
    """Milliseconds of two small fixed jobs: wall time of 20 spawn-and-wait of /bin/true (the
    kernel's fork, exec and exit, what the suite mostly does) and CPU time of a 500,000-step loop."""
    t0 = time.perf_counter()
    for _ in range(20):
        os.waitpid(os.posix_spawn(TRUE, [TRUE], {}), 0)
    spawn = time.perf_counter() - t0
    t0, x = time.process_time(), 0
    for i in range(500_000):
        x += i
    loop = time.process_time() - t0
    return {"spawn_ms": round(spawn * 1e3, 1), "loop_ms": round(loop * 1e3, 1)}


def start(config) -> None:
    if config.getoption("run_record") and not hasattr(config, "workerinput"):
        _started.update(pace=pace(), cpu=_cpu_now(), monotonic=time.monotonic(), load=os.getloadavg()[0])


def finish(session) -> None:
    path = session.config.getoption("run_record")
    if not path or not _started:
        return
    seconds, cpu, load = time.monotonic() - _started["monotonic"], _cpu_now(), os.getloadavg()[0]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    counts = {k: len(reporter.stats.get(k, [])) for k in ("passed", "skipped", "failed", "error", "xfailed")}
    from tests.support.report import git_commit  # here: jinja2 and rich need not load for every pytest

    record = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": git_commit(),
        "python": sys.version.split()[0],
        **counts,
        "seconds": round(seconds, 1),
        "load": {"before": round(_started["load"], 2), "after": round(load, 2), "cores": os.cpu_count()},
        "cpu_seconds": {k: round(cpu[k] - _started["cpu"][k], 1) for k in ("busy", "steal")},
        "pace": {"before": _started["pace"], "after": pace()},
        "args": list(session.config.invocation_params.args),
    }
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(record, indent=1) + "\n")
