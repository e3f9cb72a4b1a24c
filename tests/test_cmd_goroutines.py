"""What Go's Cmd does with its copying goroutines and its context watcher, as the port must.

Each case is a rule of Go 1.27's os/exec (exec.go: Cmd.Wait, watchCtx,
awaitGoroutines, Output), set up so that only that rule decides the result.
"""

import array
import contextlib
import fcntl
import io
import json
import os
import signal
import subprocess
import sys
import termios
import threading
import time

import pytest

from port import context, exec
from port.errors import GoError
from tests.support import procfs
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


@contextlib.contextmanager
def _grandchild(out):
    """The pid the command printed first: its background job, which the test ends by that pid and
    reaps (the suite is the orphan's subreaper)."""
    pid = int(out.readline())
    try:
        yield pid
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def _assert_killed(cmd: exec.Cmd) -> None:
    """Wait reports the kill WaitDelay sent (and returns: no copy is left hanging)."""
    with pytest.raises(exec.ExitError) as e:
        cmd.wait()
    assert str(e.value) == "signal: killed"


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
    with _grandchild(out):
        cancel()
        _assert_killed(cmd)


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


def test_wait_returns_only_once_the_copies_have_ended_even_after_wait_delay():
    """Go: "Wait also waits for the respective I/O loop copying to or from the process to complete";
    after WaitDelay's kill it interrupts the copies, then still waits for them to end."""
    ctx, cancel = context.with_cancel()
    cmd = exec.CommandContext(ctx, "sh", "-c", "echo x >&2; exec sleep 30")
    cmd.cancel, cmd.wait_delay = None, 0.01
    writer = cmd.stderr = BlockingWriter()
    cmd.start()
    assert writer.entered.wait(10)
    cancel()
    errors = []
    waiter = threading.Thread(target=lambda: errors.append(_error_of(cmd.wait)))
    waiter.start()
    try:
        # The kill comes after 10 ms; Wait cannot return while the copy is inside write().
        waiter.join(0.3)
        assert waiter.is_alive()
    finally:
        writer.release.set()
        waiter.join(10)
    assert [str(e) for e in errors] == ["signal: killed"]


def _error_of(call) -> BaseException | None:
    try:
        call()
    except BaseException as e:  # noqa: BLE001 - the test compares it
        return e
    return None


def test_stdin_copy_a_grandchild_blocks_is_interrupted_after_wait_delay():
    """More than a pipe holds, for a command that reads 8 KiB of it and leaves the rest to a grandchild
    that reads no more: after WaitDelay's kill Go's copy fails (Go closes the pipe); the port's must not
    stay inside a write(2) that can never finish."""
    ctx, cancel = context.with_cancel()
    # sh gives a background job /dev/null as stdin, before its own redirections: hand it over by fd 3.
    # The grandchild says it has read on stderr: its stdout and its parent's are two writers.
    job = "{ head -c 8192 >/dev/null; echo read >&2; exec sleep 30; } <&3 3<&- &"
    script = f"exec 3<&0; {job} echo $!; exec sleep 30 3<&-"
    cmd = exec.CommandContext(ctx, "sh", "-c", script)
    cmd.cancel, cmd.wait_delay = None, 0.01
    cmd.stdin = io.BytesIO(b"x" * (1 << 20))
    out, err = cmd.stdout_pipe(), cmd.stderr_pipe()
    cmd.start()
    with _grandchild(out) as grandchild:
        assert err.readline() == b"read\n"
        # The copy fills what head freed: its last write(2) was one the pipe could take only in part.
        with open(f"/proc/{grandchild}/fd/0", "rb") as pipe:  # one more reader, which reads nothing
            size = fcntl.fcntl(pipe, 1032)  # F_GETPIPE_SZ
            _wait_until(lambda: _unread(pipe) == size, "the stdin copy fills the pipe again")
        cancel()
        _assert_killed(cmd)


def _unread(pipe) -> int:
    buf = array.array("i", [0])
    fcntl.ioctl(pipe, termios.FIONREAD, buf)
    return buf[0]


def test_a_program_that_never_waits_still_exits():
    """Go's watchCtx is a goroutine: a program may return from main without Wait and exits at once.
    The port's watcher must not hold the interpreter at exit."""
    script = (
        "from port import context, exec\n"
        "ctx, cancel = context.with_cancel()\n"
        "cmd = exec.CommandContext(ctx, 'sleep', '30')\n"
        "cmd.start()\n"
        "print(cmd.process.pid, flush=True)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=20, cwd=ROOT)
    pid = int(proc.stdout)
    try:
        assert proc.returncode == 0
    finally:
        os.kill(pid, 9)  # the sleep that program started and left: ours now (subreaper)
        os.waitpid(pid, 0)


def test_no_descriptor_is_left_when_the_copy_pipes_get_fd_0():
    """Go's Cmd closes what it opened. Started with stdin closed, a program's first pipe is fd 0."""
    script = (
        "import io, json, os\n"
        "from port import exec\n"
        "before = sorted(os.listdir('/proc/self/fd'))\n"
        "cmd = exec.Command('echo', 'out')\n"
        "cmd.stdout = io.BytesIO()\n"
        "cmd.run()\n"
        "print(json.dumps([before, sorted(os.listdir('/proc/self/fd')), cmd.stdout.getvalue().decode()]))\n"
    )
    before, after, out = run_with_fd_0_closed(script)
    assert (out, after) == ("out\n", before)  # (listdir itself holds the lowest free fd each time)


def run_with_fd_0_closed(script: str) -> list:
    """Run a Python script (which prints one JSON list) in a process started with fd 0 closed."""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=20, cwd=ROOT,
                          preexec_fn=lambda: os.close(0))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_environ_with_a_dir_that_abs_cannot_resolve_leaves_out_pwd(tmp_path, monkeypatch):
    """Go's Cmd.Environ ignores the error of filepath.Abs(Dir) (Start reports it): with the current
    directory deleted, a relative Dir gives no PWD, and no error."""
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    monkeypatch.delenv("PWD", raising=False)
    gone.rmdir()
    cmd = exec.Command("true")
    cmd.dir = "sub"
    env = cmd.environ()
    assert not [e for e in env if e.startswith(b"PWD=")]
    with pytest.raises(GoError, match=r"^getwd: no such file or directory$"):
        cmd.start()
