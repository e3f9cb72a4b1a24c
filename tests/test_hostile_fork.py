"""The port started from a host process that is hard to fork from (tests/programs/hostile.py).

A program embedding the port may already run threads (its own, or a C
extension's pool Python does not know about), or register an at-fork hook
that starts one in every child. Each strategy must then behave as Go's
notes program does, or fail with Go's text, and never hang.
"""

import re

import pytest

from port import exec_linux
from tests.support.launchers import GO, Launcher
from tests.support.paths import program
from tests.support.piped import LOG_TIME, Result, assert_same, run

pytestmark = pytest.mark.userns

STDIN = b"echo pid=$$; exit 3\n"  # PID 1 of a new PID namespace, then an error for log.Fatal


def _hostile(tmp_path, *args: str) -> tuple[Result, str]:
    report = tmp_path / "strategy"
    launcher = Launcher("hostile", (*program("hostile"), *args, f"report={report}"), "the port, hostile host")
    result = run(launcher, STDIN)
    return result, report.read_text() if report.exists() else ""


@pytest.mark.parametrize("hostility", ["python-thread", "c-thread"])
@pytest.mark.parametrize("strategy", exec_linux.STRATEGIES)
def test_threads_in_the_host_process(tmp_path, hostility, strategy):
    """With another thread a raw clone is unsafe (its locks): RAW_CLONE falls back to SUBREAPER, visibly;
    every strategy then runs sh as Go does."""
    go = run(GO, STDIN)
    py, taken = _hostile(tmp_path, hostility, f"strategy={strategy}")
    assert_same(go, py)
    assert (go.stdout, go.status) == (b"main starting...\npid=1\n", 1)
    assert taken == (exec_linux.SUBREAPER if strategy == exec_linux.RAW_CLONE else strategy)


def test_an_at_fork_hook_that_starts_a_thread_leaves_raw_clone_alike(tmp_path):
    """RAW_CLONE makes every namespace in the clone itself, before CPython runs the child's hooks."""
    go = run(GO, STDIN)
    py, taken = _hostile(tmp_path, "hook-thread", f"strategy={exec_linux.RAW_CLONE}")
    assert_same(go, py)
    assert taken == exec_linux.RAW_CLONE


@pytest.mark.parametrize("strategy", [exec_linux.SUBREAPER, exec_linux.RELAY])
def test_an_at_fork_hook_that_starts_a_thread_fails_the_fork_strategies(tmp_path, strategy):
    """A declared difference, re-checked here: CPython runs os.register_at_fork's after_in_child hooks in
    every fork()ed child, so the middle process already has a second thread when it calls unshare(2),
    which refuses CLONE_NEWUSER to a multithreaded caller with EINVAL (man 2 unshare). Go's child runs
    no code of the program's. The port fails as Go would with that errno: Go's text, status 1, no hang."""
    py, taken = _hostile(tmp_path, "hook-thread", f"strategy={strategy}")
    assert taken == strategy
    assert py.stdout == b"main starting...\n"
    assert re.fullmatch(rb"fork/exec /\S*/sh: invalid argument\n", LOG_TIME.sub(b"", py.stderr)), py.show()
    assert py.status == 1
