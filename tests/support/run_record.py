"""What a `make test` run gave, for the README's figures (tests/support/figures.py).

pytest --run-record FILE (make test passes reports/test-run.json) writes, once the
session ends, the counts of each outcome, the wall time, the load average before
and after, the commit, the interpreter and pytest's arguments. Only the
controlling pytest writes it (not xdist's workers).

It also records the machine's busy and stolen CPU-seconds over the run (/proc/stat:
everything the machine did, the run's workers and whatever else ran). The same
commit's wall time swings by half on a shared VM while its load average stays the
same, and the busy CPU-seconds of that same work swing with it (3 December 2026: 38
to 45 in one hour, 51 to 55 in the next), so runs of one commit compare only at like
CPU-seconds. A pace of two small fixed jobs before and after (twenty spawns of
/bin/true, a Python loop) was tried and told those hours apart no better than noise:
20 to 40 ms of work is too short.
"""

import json
import os
import sys
import time
from pathlib import Path

import psutil

_started: dict = {}


def addoption(parser) -> None:
    parser.addoption("--run-record", default="", help="write the run's counts, time and load here (JSON)")


def cpu_seconds() -> dict:
    """The machine's {"busy", "steal"} CPU-seconds since boot (psutil.cpu_times, from /proc/stat): busy
    is user, nice, system, irq and softirq of all CPUs; idle, iowait and steal are not busy."""
    t = psutil.cpu_times()
    return {"busy": t.user + t.nice + t.system + t.irq + t.softirq, "steal": t.steal}


def start(config) -> None:
    if config.getoption("run_record") and not hasattr(config, "workerinput"):
        _started.update(cpu=cpu_seconds(), monotonic=time.monotonic(), load=os.getloadavg()[0])


def finish(session) -> None:
    path = session.config.getoption("run_record")
    if not path or not _started:
        return
    seconds, cpu, load = time.monotonic() - _started["monotonic"], cpu_seconds(), os.getloadavg()[0]
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
        "args": list(session.config.invocation_params.args),
    }
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(record, indent=1) + "\n")
