"""What sh inherits from the launcher is the same under Go and Python.

Both launchers start from one unusual state: a blocked signal, ignored
signals, umask 027, a lowered RLIMIT_NOFILE, an extra inheritable fd, a new
session and an environment without a locale (which makes CPython add
LC_CTYPE=C.UTF-8 to its own environment, PEP 538). The shell's state is read
from the host's /proc while it waits on stdin.
"""

import os
import resource
import signal
import subprocess

import pytest

from port import libc
from tests.support import procfs
from tests.support.launchers import GO, PY

pytestmark = [pytest.mark.userns, pytest.mark.xdist_group("inheritance-states")]  # one module fixture: one worker

EXTRA_FD = 47  # high enough to be free in pytest (its capture uses low fds)


def _odd_start():
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    for sig in (signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR2, signal.SIGTSTP):
        signal.signal(sig, signal.SIG_IGN)
    for sig in (32, 33):  # as GNU make starts its commands; glibc will not do it
        libc.set_signal_raw(sig, libc.SIG_IGN)
    os.umask(0o027)
    resource.setrlimit(resource.RLIMIT_NOFILE, (512, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))


def shell_state(launcher, env, stdin_is_tty: bool = False):
    r, w = os.pipe()
    os.dup2(r, EXTRA_FD)  # inheritable, like an fd a user's shell hands down
    try:
        proc = subprocess.Popen(launcher.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env, preexec_fn=_odd_start,
                                pass_fds=(EXTRA_FD,), start_new_session=True)  # fmt: skip
    finally:
        os.close(EXTRA_FD)
        os.close(r)
        os.close(w)
    try:
        sh = procfs.wait_for_descendant(proc.pid, "sh")
        procfs.wait_until_reading_stdin(sh)  # dash has set its own signals up by then
        state = procfs.inherited(sh, proc.pid)
        out, err = proc.communicate(b"exit 0\n", timeout=10)
    finally:
        proc.kill()
        proc.wait()
    return state, (out, err, proc.returncode)


@pytest.fixture(scope="module")
def states():
    env = {"PATH": os.environ["PATH"], "HOME": "/nonexistent", "ODD": "a b\tc", "EMPTY": ""}
    return {launcher.name: shell_state(launcher, env) for launcher in (GO, PY)}


@pytest.mark.parametrize(
    "key", ["environ", "signals", "umask", "ids", "fds", "limits", "cwd", "pgrp is launcher's",
            "session is launcher's", "tty is launcher's", "pid inside"],
)  # fmt: skip
def test_shell_inherits_the_same(states, key):
    go, py = states["go"][0][key], states["py"][0][key]
    assert go == py, f"{key}:\n go: {go!r}\n py: {py!r}"


def test_reference_state_is_what_the_setup_made(states):
    """Guard the comparison: the odd start really reached Go's shell."""
    state, (out, err, status) = states["go"]
    assert (out, err, status) == (b"main starting...\n", b"", 255)
    assert int(state["signals"]["SigBlk"], 16) & (1 << (signal.SIGUSR1 - 1))
    # Go keeps SIGHUP ignored when it started ignored; SIGQUIT/SIGUSR2 it resets
    ignored = int(state["signals"]["SigIgn"], 16)
    assert ignored & (1 << (signal.SIGHUP - 1))
    assert not ignored & (1 << (signal.SIGUSR2 - 1))
    assert ignored & (1 << (signal.SIGTSTP - 1))  # Go never touches SIGTSTP
    assert ignored & (1 << 31) and not ignored & (1 << 32)  # 32 stays ignored, Go resets 33
    assert state["umask"] == "0027"
    assert EXTRA_FD in state["fds"]
    assert "Max open files            512" in state["limits"]
    assert not any(e.startswith(b"LC_CTYPE=") for e in state["environ"])
    assert b"ODD=a b\tc" in state["environ"]
    assert state["session is launcher's"] and state["pgrp is launcher's"]
    assert state["pid inside"] == "1"
