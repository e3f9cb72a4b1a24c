"""Helpers for the tests of port.exec: callers' readers and writers that fail or block, polling
for a state nobody announces, a command's background job, and a script run with fd 0 closed.
"""

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from port import exec
from tests.support.paths import ROOT


class WriteError(Exception):
    """What a caller's writer fails with; Go returns the copy's error from Wait."""


class FailingWriter(io.RawIOBase):
    def __init__(self):
        self.called = threading.Event()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.called.set()
        raise WriteError("no room")


class FailingReader(io.RawIOBase):
    def readable(self) -> bool:
        return True

    def read(self, size=-1):
        raise WriteError("cannot read")


class BlockingWriter(io.RawIOBase):
    """A caller's writer that holds the copy inside write() until the test lets it go."""

    def __init__(self):
        self.entered, self.release = threading.Event(), threading.Event()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.entered.set()
        self.release.wait()
        return len(data)


class ArbitraryError(Exception):
    pass


@contextlib.contextmanager
def background_job(out):
    """The pid the command printed first: its background job, which the test ends by that pid and
    reaps (the suite is the orphan's subreaper)."""
    pid = int(out.readline())
    try:
        yield pid
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def assert_killed(cmd: exec.Cmd) -> None:
    """Wait reports the kill WaitDelay sent (and returns: no copy is left hanging)."""
    with pytest.raises(exec.ExitError) as e:
        cmd.wait()
    assert str(e.value) == "signal: killed"


def wait_until(predicate, what: str) -> None:
    """Poll a state the test cannot be told about (a zombie, a goroutine's end)."""
    deadline = time.monotonic() + 10
    while not predicate():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.002)


def error_of(call) -> BaseException | None:
    try:
        call()
    except BaseException as e:  # noqa: BLE001 - the test compares it
        return e
    return None


def open_fds() -> set[int]:
    return {int(fd) for fd in os.listdir("/proc/self/fd")}


def run_with_fd_0_closed(script: str) -> list:
    """Run a Python script (which prints one JSON list) in a process started with fd 0 closed."""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=20, cwd=ROOT,
                          preexec_fn=lambda: os.close(0))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)
