"""Pdeathsig: kill the launcher, and the shell gets the signal, under Go and Python.

The suite is a child subreaper (tests/conftest.py), so the orphaned shell is
re-parented to pytest, which can then read how it ended. No waiting on a
clock: the kernel sends the parent-death signal while the launcher exits,
before pytest can reap it, and a fatal signal is acted on before the shell
runs another instruction; so once the launcher is reaped, a line written to
the shell either comes back (it survived) or meets end-of-file (it died). With a new PID
namespace the shell is PID 1 there and, like any namespace init, ignores a
signal it has no handler for unless it is SIGKILL; so does the port, whose
shell sets its Pdeathsig only once the launcher has adopted it.
"""

import os
import signal
import subprocess

import pytest

from port.exec_linux import RELAY, STRATEGIES
from tests.support import procfs
from tests.support.configs import Config

pytestmark = pytest.mark.userns

SCRIPT = "echo ready; read line; echo alive"  # blocks on stdin with no child of its own


def orphan_fate(launcher, relay_dies: bool = False) -> str:
    """Start, kill the launcher with SIGKILL, and tell how the shell ended."""
    proc = subprocess.Popen(launcher.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert proc.stdout.readline() == b"ready\n"
        sh = procfs.wait_for_descendant(proc.pid, "sh")
        # Stopped first, then killed: a Go launcher's threads die one by one, and the one waiting for
        # the shell could reap it between the Pdeathsig (sent as the thread that forked the shell exits)
        # and its own exit, leaving us ECHILD (23 runs in 16,400 under load; none in 16,100 since). A
        # stopped thread goes from its stop straight to its exit, never back into waitid.
        os.kill(proc.pid, signal.SIGSTOP)
        procfs.wait_until_stopped(proc.pid)
        proc.kill()
        proc.wait()  # the Pdeathsig, if any, is pending on the shell now
        if relay_dies:
            # RELAY: the shell's parent is the relay, which dies of its own Pdeathsig
            # (SIGKILL) and only then hands the shell on to us; wait for that.
            procfs.wait_for_parent(sh, os.getpid())
        try:
            os.write(proc.stdin.fileno(), b"go on\n")
        except BrokenPipeError:
            pass  # the shell is gone already
        if proc.stdout.readline() == b"alive\n":
            os.waitpid(sh, 0)
            return "survived"
        _, status = os.waitpid(sh, 0)
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}" if os.WIFSIGNALED(status) else "exited"
    finally:
        proc.kill()
        proc.wait()
        proc.stdin.close()


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize(
    ("options", "fate"),
    [
        (("--pdeathsig", "TERM"), "killed by SIGTERM"),
        (("--pdeathsig", "SIGUSR1"), "killed by SIGUSR1"),  # with SIG as well as without
        (("--clone", "user,pid", "--pdeathsig", "KILL"), "killed by SIGKILL"),
        (("--clone", "user,pid", "--pdeathsig", "TERM"), "survived"),
        ((), "survived"),
    ],
    ids=["term", "sigusr1", "pid-ns-kill", "pid-ns-term-ignored", "none"],
)
def test_shell_gets_pdeathsig_when_launcher_dies(options, fate, strategy):
    go, py = Config("pdeathsig", options, ("pdeathsig",), SCRIPT).launchers(("--strategy", strategy))
    relay_dies = strategy == RELAY and "--pdeathsig" in options and "pid" in " ".join(options)
    assert (orphan_fate(go), orphan_fate(py, relay_dies)) == (fate, fate)
