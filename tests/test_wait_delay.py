"""Cancel, the context watcher and WaitDelay: Go 1.27's Cmd.Wait, watchCtx and awaitGoroutines,
each case set up so that only one rule decides the result.
"""

import array
import contextlib
import fcntl
import io
import os
import signal
import subprocess
import sys
import termios
import threading

import pytest

from port import context, exec
from port.errors import GoError
from tests.support import procfs
from tests.support.exec_helper import (
    ArbitraryError,
    BlockingWriter,
    FailingWriter,
    assert_killed,
    background_job,
    error_of,
    wait_until,
)
from tests.support.paths import ROOT


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


def test_a_context_done_before_start_still_reports_a_goerror():
    ctx, cancel = context.with_cancel()
    cancel()
    with pytest.raises(GoError):
        exec.CommandContext(ctx, "true").start()


@pytest.mark.parametrize("fails_by", ["returning", "raising"])
def test_a_cancel_that_raises_is_a_cancel_that_returns_the_error(fails_by):
    """Go's Cancel returns an error, which Wait reports as "exec: canceling Cmd: ..." when the command
    exits 0; the port also takes a Cancel that raises it, with the same result."""
    ctx, cancel = context.with_cancel()
    cmd = exec.CommandContext(ctx, "cat")
    stdin = cmd.stdin_pipe()

    def on_cancel():
        stdin.close()  # cat ends, with status 0
        err = ArbitraryError("arbitrary error")
        if fails_by == "raising":
            raise err
        return err

    cmd.cancel = on_cancel
    cmd.start()
    cancel()
    wait_until(cmd._ctx_result.full, "the watcher calls Cancel")
    with pytest.raises(GoError) as e:
        cmd.wait()
    assert str(e.value) == "exec: canceling Cmd: arbitrary error"
    assert exec.wraps(e.value, ArbitraryError)
    assert cmd.process_state.success()


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
    wait_until(lambda: procfs.state(cmd.process.pid) == "Z", "the command exits")
    wait_until(lambda: writer.called.is_set() and cmd._goroutine_err.full(), "the stdout copy fails")
    cancel()
    wait_until(cmd._ctx_result.full, "the watcher kills after WaitDelay")  # before Wait, or it would not kill
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
    with background_job(out):
        cancel()
        assert_killed(cmd)


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
    waiter = threading.Thread(target=lambda: errors.append(error_of(cmd.wait)))
    waiter.start()
    try:
        # The kill comes after 10 ms; Wait cannot return while the copy is inside write().
        waiter.join(0.3)
        assert waiter.is_alive()
    finally:
        writer.release.set()
        waiter.join(10)
    assert [str(e) for e in errors] == ["signal: killed"]


def _unread(pipe) -> int:
    buf = array.array("i", [0])
    fcntl.ioctl(pipe, termios.FIONREAD, buf)
    return buf[0]


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
    with background_job(out) as grandchild:
        assert err.readline() == b"read\n"
        # The copy fills what head freed: its last write(2) was one the pipe could take only in part.
        with open(f"/proc/{grandchild}/fd/0", "rb") as pipe:  # one more reader, which reads nothing
            size = fcntl.fcntl(pipe, 1032)  # F_GETPIPE_SZ
            wait_until(lambda: _unread(pipe) == size, "the stdin copy fills the pipe again")
        cancel()
        assert_killed(cmd)


def _first_line(out: io.BytesIO) -> bytes:
    wait_until(lambda: b"\n" in out.getvalue(), "the command's first line is copied")
    return out.getvalue().split(b"\n")[0]


def test_wait_delay_expiring_on_a_command_that_exited_0_is_err_wait_delay():
    """Go's watchCtx: after WaitDelay it kills, and a copy still open (a grandchild holds the pipe) is
    closed; with no other error, Wait returns ErrWaitDelay although the command exited 0.

    The command exits 0 and stays a zombie (nobody waits yet); the context is cancelled with no Cancel
    function; the watcher is done before Wait is called."""
    ctx, cancel = context.with_cancel()
    cmd = exec.CommandContext(ctx, "sh", "-c", "sleep 30 & echo $!")
    cmd.cancel, cmd.wait_delay = None, 0.01
    out = cmd.stdout = io.BytesIO()
    cmd.start()
    grandchild = int(_first_line(out))
    try:
        wait_until(lambda: procfs.state(cmd.process.pid) == "Z", "the command exits")
        cancel()
        wait_until(cmd._ctx_result.full, "the watcher kills after WaitDelay")
        with pytest.raises(GoError) as e:
            cmd.wait()
        assert str(e.value) == exec.ERR_WAIT_DELAY
        assert cmd.process_state.success()
    finally:
        os.kill(grandchild, signal.SIGKILL)  # the pid we started; the suite is its subreaper
        os.waitpid(grandchild, 0)


LATE = "{ read x <&3; echo late; } & echo $!"  # a grandchild that holds stdout until released (fd 3)


@contextlib.contextmanager
def _late_copy(cmd: exec.Cmd):
    """Start cmd, whose script begins with LATE and whose stdout a goroutine copies; yield (a release
    for the grandchild, which ends it 0.1 s after it is called, and the expected output)."""
    release_r, release_w = os.pipe()
    out = cmd.stdout = io.BytesIO()
    cmd.extra_files = [release_r]
    try:
        cmd.start()
    finally:
        os.close(release_r)
    grandchild = int(_first_line(out))
    timer = threading.Timer(0.1, os.write, (release_w, b"go\n"))
    try:
        yield timer.start, b"%d\nlate\n" % grandchild
    finally:
        if timer.is_alive() or timer.finished.is_set():
            timer.join()
        os.close(release_w)  # a grandchild still reading gets EOF and ends
        os.waitpid(grandchild, 0)  # the suite is its subreaper


def test_wait_delay_without_a_context_waits_for_a_copy_ending_in_time():
    """Go's awaitGoroutines: with WaitDelay set and no context, Wait waits up to WaitDelay from its own
    start for the copies; one that ends within it gives all the output and no error."""
    cmd = exec.Command("sh", "-c", LATE)
    cmd.wait_delay = 10
    with _late_copy(cmd) as (release, output):
        wait_until(lambda: procfs.state(cmd.process.pid) == "Z", "the command exits")
        release()
        cmd.wait()
        assert cmd.stdout.getvalue() == output


def test_wait_delay_without_a_context_gives_up_on_a_copy_ending_late():
    """The other side: a copy that ends after WaitDelay (here half a second after Wait starts, against a
    WaitDelay of 20 ms) is not waited for: Wait closes the pipe and returns ErrWaitDelay, without the
    late line. Waiting any longer than WaitDelay would let the line in and the error vanish."""
    cmd = exec.Command("sh", "-c", LATE)
    cmd.wait_delay = 0.02
    with _late_copy(cmd) as (release, output):
        wait_until(lambda: procfs.state(cmd.process.pid) == "Z", "the command exits")
        later = threading.Timer(0.4, release)  # the late line: 0.4 s, then the grandchild's own 0.1 s
        later.start()
        try:
            with pytest.raises(GoError) as e:
                cmd.wait()
        finally:
            later.join()
        assert str(e.value) == exec.ERR_WAIT_DELAY
        assert cmd.stdout.getvalue() == output.removesuffix(b"late\n")


def test_wait_delay_after_cancel_waits_for_a_copy_ending_in_time():
    """Go's watchCtx: after Cancel, Wait still waits up to WaitDelay (counted from the cancellation) for
    the copies; one that ends within it gives all the output. Cancel kills the command here."""
    ctx, cancel = context.with_cancel()
    cmd = exec.CommandContext(ctx, "sh", "-c", LATE + "; exec sleep 30")
    cmd.wait_delay = 10
    with _late_copy(cmd) as (release, output):
        cancel()
        release()
        with pytest.raises(exec.ExitError) as e:
            cmd.wait()
        assert (str(e.value), cmd.stdout.getvalue()) == ("signal: killed", output)


def test_wait_delay_without_a_context_still_waits_for_the_copies_to_end():
    """Go's awaitGoroutines: when WaitDelay expires it closes the pipes, then still waits for the copying
    goroutines (<-c.goroutineErr) before returning ErrWaitDelay: a copy held inside the caller's
    Write keeps Wait from returning."""
    cmd = exec.Command("sh", "-c", "echo x >&2")
    cmd.wait_delay = 0.01
    writer = cmd.stderr = BlockingWriter()
    cmd.start()
    assert writer.entered.wait(10)
    errors = []
    waiter = threading.Thread(target=lambda: errors.append(error_of(cmd.wait)))
    waiter.start()
    try:
        wait_until(lambda: cmd._copies_interrupted, "WaitDelay expires")
        waiter.join(0.3)  # correct code cannot return: the copy is still inside write()
        assert waiter.is_alive()
    finally:
        writer.release.set()
        waiter.join(10)
    assert [str(e) for e in errors] == [exec.ERR_WAIT_DELAY]


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


def test_a_program_that_never_waits_for_a_copying_cmd_still_exits():
    """Go's copying goroutines do not keep a program alive: returning from main without Wait exits at
    once though a copy still waits for the child's output. The port's copy threads must not hold the
    interpreter at exit."""
    script = (
        "import io\n"
        "from port import exec\n"
        "cmd = exec.Command('sleep', '30')\n"
        "cmd.stdout = io.BytesIO()\n"
        "cmd.start()\n"
        "print(cmd.process.pid, flush=True)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, cwd=ROOT)
    pid = None
    try:
        pid = int(proc.stdout.readline())
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)  # the sleep that program left: ours now (subreaper)
            os.waitpid(pid, 0)
