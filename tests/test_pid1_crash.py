"""A launcher that is PID 1 of a PID namespace, GOTRACEBACK=crash and a crash signal: exit 128+SIGABRT.

Go's runtime.crash raises SIGABRT on itself, but PID 1 is immune to a default-terminate signal from
inside its namespace; dieFromSignal then exits 128 + SIGABRT, "the shell convention" (runtime/
signal_unix.go). Both launchers run as PID 1 under `unshare --pid --fork`; the command, inside the
same namespace, sends SIGQUIT (which both catch and crash on) to its parent, the launcher.
"""

import os
import resource
import signal
import subprocess

import pytest

from tests.support import procfs
from tests.support.launchers import LAUNCHER_GO, LAUNCHER_PY

pytestmark = pytest.mark.root


def no_core() -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file left behind


@pytest.mark.parametrize("crash", [True, False], ids=["GOTRACEBACK=crash", "default"])
def test_pid1_that_cannot_die_of_sigabrt_exits_134(crash):
    env = {**os.environ, "GOTRACEBACK": "crash" if crash else "single"}
    statuses, heads = [], []
    for launcher in (LAUNCHER_GO.argv, LAUNCHER_PY.argv):
        proc = subprocess.run(["unshare", "--pid", "--fork", "--kill-child", *launcher, "--", "sh", "-c",
                               "kill -QUIT $PPID; sleep 5"], env=env, preexec_fn=no_core,
                              capture_output=True, timeout=20)  # fmt: skip
        statuses.append(proc.returncode)
        heads.append(proc.stderr.split(b"\n", 1)[0])
    # unshare --fork passes on the launcher's exit status; a launcher killed by a signal would be 128+sig too,
    # so the first line tells what happened: Go's crash report, from both.
    assert statuses == [128 + signal.SIGABRT if crash else 2] * 2
    assert heads == [b"SIGQUIT: quit"] * 2


def test_a_blocked_sigabrt_is_unblocked_to_die_of_it():
    """A launcher started with SIGABRT blocked: Go's dieFromSignal unblocks it first, so the crash
    still ends in SIGABRT (not in the exit(128+sig) fallback)."""

    def blocked_abrt_no_core():
        no_core()
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGABRT})

    env = {**os.environ, "GOTRACEBACK": "crash"}
    statuses = []
    for launcher in (LAUNCHER_GO.argv, LAUNCHER_PY.argv):
        # The command outlives the signal (Go crashes in a thread of its own after kill(2) returns: a
        # command that exited at once could let Go's Wait return first) and dies with the launcher.
        proc = subprocess.run([*launcher, "--pdeathsig", "KILL", "--", "sh", "-c",
                               "echo $$; kill -QUIT $PPID; exec sleep 5"],
                              env=env, preexec_fn=blocked_abrt_no_core, capture_output=True, timeout=20)  # fmt: skip
        statuses.append((proc.returncode, proc.stderr.split(b"\n", 1)[0]))
        # The sleep's pipes close as it dies, before it is a zombie (of pytest, a subreaper, whose guard
        # reaps it): wait until it is one, or the guard can find it still dying.
        procfs.wait_until_dead(int(proc.stdout))
    assert statuses == [(-signal.SIGABRT, b"SIGQUIT: quit")] * 2
