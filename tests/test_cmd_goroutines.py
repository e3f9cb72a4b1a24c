"""What Go's Cmd does with its copying goroutines and its context watcher, as the port must.

Each case is a rule of Go 1.27's os/exec (exec.go: Cmd.Wait, watchCtx,
awaitGoroutines, Output), set up so that only that rule decides the result.
"""

import io
import os
import threading
import time

import pytest

from port import context, exec
from port.errors import GoError
from tests import procfs


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


def _wait_until(predicate, what: str) -> None:
    """Poll a state the test cannot be told about (a zombie, a goroutine's end)."""
    deadline = time.monotonic() + 10
    while not predicate():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.002)


def test_a_copy_error_is_what_wait_returns_when_the_command_succeeds():
    """Go: Wait returns the first error of the copying goroutines when the command itself exited 0."""
    cmd = exec.Command("sh", "-c", "echo out")
    cmd.stdout = FailingWriter()
    with pytest.raises(WriteError):
        cmd.run()


def test_the_failing_copy_is_reported_beside_one_that_succeeded():
    cmd = exec.Command("sh", "-c", "echo err >&2; exec 2>&-; echo out")
    cmd.stderr = io.BytesIO()  # succeeds, and ends first: stderr is closed before stdout is written
    cmd.stdout = FailingWriter()
    with pytest.raises(WriteError):
        cmd.run()
    assert cmd.stderr.getvalue() == b"err\n"


def test_cancel_is_not_called_when_the_command_ends_first():
    """Go's Cancel runs only if the context is done before Wait: a finished command is not cancelled."""
    ctx, cancel = context.with_cancel()
    cmd = exec.CommandContext(ctx, "true")
    calls = []
    cmd.cancel = lambda: calls.append("cancel")
    try:
        cmd.run()
    finally:
        cancel()
    assert calls == []


def test_output_leaves_stderr_alone_when_the_caller_set_it():
    """Go: Output fills ExitError.Stderr only when Cmd.Stderr was nil."""
    cmd = exec.Command("sh", "-c", "echo err >&2; exit 3")
    cmd.stderr = io.BytesIO()
    with pytest.raises(exec.ExitError) as e:
        cmd.output()
    assert (e.value.stderr, cmd.stderr.getvalue()) == (b"", b"err\n")


def test_output_adds_stderr_only_to_an_exit_error():
    """Go's Output sets Stderr on an *ExitError only; a start that fails is an *exec.Error (Name, Err)."""
    with pytest.raises(exec.Error) as e:
        exec.Command("no-such-command-nsport").output()
    assert not hasattr(e.value, "stderr")


def test_after_the_wait_delay_kill_a_copy_error_is_blamed_on_the_kill():
    """Go's watchCtx: once it has killed the process, it forwards no copying error ("we have reason to
    believe it was caused by ... Kill"): a command that had in fact exited 0 then waits without error.

    The command exits 0 and stays a zombie (nobody waits yet), its stdout copy has failed, the context
    is cancelled with no Cancel function, and after WaitDelay the kill reaches the zombie: it succeeds.
    """
    ctx, cancel = context.with_cancel()
    cmd = exec.CommandContext(ctx, "sh", "-c", "echo out")
    cmd.cancel, cmd.wait_delay = None, 0.01
    writer = cmd.stdout = FailingWriter()
    cmd.start()
    _wait_until(lambda: procfs.state(cmd.process.pid) == "Z", "the command exits")
    _wait_until(lambda: writer.called.is_set() and cmd._goroutine_err.full(), "the stdout copy fails")
    cancel()
    _wait_until(cmd._ctx_result.full, "the watcher kills after WaitDelay")  # before Wait, or it would not kill
    cmd.wait()  # no error: the process exited 0, and the copy's error is put down to the kill
    assert cmd.process_state.success()


def test_wait_delay_ends_a_copy_that_a_grandchild_keeps_open():
    """Go's watchCtx: after the kill, a copy still blocked (a grandchild holds the pipe) is interrupted:
    Go closes the parent's pipe ends. Wait returns the kill, not after the grandchild's 30 s."""
    ctx, cancel = context.with_cancel()
    cmd = exec.CommandContext(ctx, "sh", "-c", "sleep 30 & echo $!; exec sleep 30")
    cmd.cancel, cmd.wait_delay = (lambda: None), 0.01  # a Cancel that does not stop the command
    out = cmd.stdout_pipe()
    cmd.stderr = io.BytesIO()  # copied by a goroutine; the grandchild keeps its write end
    cmd.start()
    grandchild = int(out.readline())
    try:
        cancel()
        with pytest.raises(exec.ExitError) as e:
            cmd.wait()
        assert str(e.value) == "signal: killed"
    finally:
        os.kill(grandchild, 9)  # the pid we started; the suite is its subreaper
        os.waitpid(grandchild, 0)


def test_a_context_done_before_start_still_reports_a_goerror():
    ctx, cancel = context.with_cancel()
    cancel()
    with pytest.raises(GoError):
        exec.CommandContext(ctx, "true").start()


class FailingReader(io.RawIOBase):
    def readable(self) -> bool:
        return True

    def read(self, size=-1):
        raise WriteError("cannot read")


def test_a_failing_stdin_reader_is_what_wait_returns():
    """Go: the stdin copy's error (the caller's reader failing) comes back from Wait; the command still
    sees end of input, as Go closes the pipe when the copy ends."""
    cmd = exec.Command("sh", "-c", "cat; echo done")
    cmd.stdin = FailingReader()
    out = cmd.stdout = io.BytesIO()
    with pytest.raises(WriteError):
        cmd.run()
    assert out.getvalue() == b"done\n"
