"""Pdeathsig: kill the launcher, and the shell gets the signal, under Go and Python.

The suite is a child subreaper (tests/conftest.py), so the orphaned shell is
re-parented to pytest, which can then read how it ended. With a new PID
namespace the shell is PID 1 there and, like any namespace init, ignores a
signal it has no handler for unless it is SIGKILL; so does the port, whose
shell sets its Pdeathsig only once the launcher has adopted it.
"""

import os
import signal
import subprocess
import time

import pytest

from tests import procfs
from tests.configs import Config

pytestmark = pytest.mark.userns

SCRIPT = "echo ready; read line"  # blocks on stdin with no child of its own


def orphan_fate(launcher, timeout: float = 1.0) -> str:
    """Start, kill the launcher with SIGKILL, and tell how the shell ended."""
    proc = subprocess.Popen(launcher.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert proc.stdout.readline() == b"ready\n"
        sh = procfs.wait_for_descendant(proc.pid, "sh")
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(sh, os.WNOHANG)
            if pid:
                return f"killed by {signal.Signals(os.WTERMSIG(status)).name}" if os.WIFSIGNALED(status) else "exited"
            time.sleep(0.02)
        os.kill(sh, signal.SIGKILL)  # by the pid we started, never by name
        os.waitpid(sh, 0)
        return "survived"
    finally:
        proc.kill()
        proc.wait()
        proc.stdin.close()


@pytest.mark.parametrize(
    ("options", "fate"),
    [
        (("--pdeathsig", "TERM"), "killed by SIGTERM"),
        (("--pdeathsig", "USR1"), "killed by SIGUSR1"),
        (("--clone", "user,pid", "--pdeathsig", "KILL"), "killed by SIGKILL"),
        (("--clone", "user,pid", "--pdeathsig", "TERM"), "survived"),
        ((), "survived"),
    ],
    ids=["term", "usr1", "pid-ns-kill", "pid-ns-term-ignored", "none"],
)
def test_shell_gets_pdeathsig_when_launcher_dies(options, fate):
    go, py = Config("pdeathsig", options, ("pdeathsig",), SCRIPT).launchers()
    assert (orphan_fate(go), orphan_fate(py)) == (fate, fate)
