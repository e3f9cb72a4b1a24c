"""What a `make test` run gave, for the README's figures (tests/support/figures.py).

pytest --run-record FILE (make test passes reports/test-run.json) writes, once the
session ends, the counts of each outcome, the wall time, the load average before
and after, the commit, the interpreter and pytest's arguments. Only the
controlling pytest writes it (not xdist's workers).
"""

import json
import os
import sys
import time
from pathlib import Path

_started: dict = {}


def addoption(parser) -> None:
    parser.addoption("--run-record", default="", help="write the run's counts, time and load here (JSON)")


def start(config) -> None:
    if config.getoption("run_record") and not hasattr(config, "workerinput"):
        _started.update(monotonic=time.monotonic(), load=os.getloadavg()[0])


def finish(session) -> None:
    path = session.config.getoption("run_record")
    if not path or not _started:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    counts = {k: len(reporter.stats.get(k, [])) for k in ("passed", "skipped", "failed", "error", "xfailed")}
    from tests.support.report import git_commit  # here: jinja2 and rich need not load for every pytest

    record = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": git_commit(),
        "python": sys.version.split()[0],
        **counts,
        "seconds": round(time.monotonic() - _started["monotonic"], 1),
        "load": {"before": round(_started["load"], 2), "after": round(os.getloadavg()[0], 2), "cores": os.cpu_count()},
        "args": list(session.config.invocation_params.args),
    }
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(record, indent=1) + "\n")
