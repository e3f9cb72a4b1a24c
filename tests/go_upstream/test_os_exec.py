"""Go's src/os/exec/exec_test.go, translated: the port's exec.Cmd against Go's expectations.

Each test keeps Go's name and Go's expected values. Go's helperCommand
re-executes the test binary; here tests/go_upstream/helper.py plays it.
"""

import io
import os
import signal
import socket
import sys
import threading
import time

import pytest

from port import context, exec
from port.errors import GoError
from tests.go_upstream.common import helper_command, helper_command_context
from tests.go_upstream.helper import HELPER
from tests.support import procfs

# The Go tests do not need namespaces; these run as any user.


def test_Echo():
    bs = helper_command("echo", "foo bar", "baz").output()
    assert bs == b"foo bar baz\n"


def test_CommandRelativeName():
    cmd = helper_command("echo", "foo")
    # Go runs its binary as dirBase/base from the parent directory; the port's "binary" is the interpreter.
    base = os.path.basename(sys.executable)
    directory = os.path.dirname(sys.executable)
    parent_dir, dir_base = os.path.dirname(directory), os.path.basename(directory)
    cmd.path = os.path.join(dir_base, base)
    cmd.dir = parent_dir
    assert cmd.output() == b"foo\n"


def test_CatStdin():
    data = b"Input string\nLine 2"
    p = helper_command("cat")
    p.stdin = io.BytesIO(data)
    assert p.output() == data


def test_EchoFileRace():
    cmd = helper_command("echo")
    stdin = cmd.stdin_pipe()
    cmd.start()
    wrote = threading.Thread(target=lambda: _ignore_epipe(stdin.write, b"echo\n"))
    wrote.start()
    cmd.wait()
    wrote.join()


def _ignore_epipe(fn, *args):
    try:
        fn(*args)
    except (OSError, ValueError, GoError):
        pass  # Go ignores this write's error too (EPIPE, or the pipe closed by Wait: os.ErrClosed)


def _close(f) -> None:
    """Go's test: stdin.Close() may find the pipe closed by Wait already (os.ErrClosed), nothing else."""
    try:
        f.close()
    except GoError as e:
        if not str(e).endswith(exec.ERR_CLOSED):
            raise


def test_CatGoodAndBadFile():
    this_file = os.path.abspath(__file__)
    with pytest.raises(exec.ExitError) as e:
        helper_command("cat", "/bogus/file.foo", this_file).combined_output()
    bs = e.value.output
    err_line, sep, body = bs.decode().partition("\n")
    assert sep, f"expected two lines from cat; got {bs!r}"
    assert err_line.startswith("Error: open /bogus/file.foo")
    assert "def test_CatGoodAndBadFile():" in body


def test_NoExistExecutable():
    with pytest.raises(GoError):
        exec.Command("/no-exist-executable").run()


def test_ExitStatus():
    cmd = helper_command("exit", "42")
    with pytest.raises(exec.ExitError) as e:
        cmd.run()
    assert str(e.value) == "exit status 42"


def test_ExitCode():
    cmd = helper_command("exit", "42")
    with pytest.raises(GoError):
        cmd.run()
    assert cmd.process_state.exit_code() == 42

    cmd = helper_command("/no-exist-executable")
    with pytest.raises(GoError):
        cmd.run()
    assert cmd.process_state.exit_code() == 2

    cmd = helper_command("exit", "255")
    with pytest.raises(GoError):
        cmd.run()
    assert cmd.process_state.exit_code() == 255

    cmd = helper_command("cat")
    cmd.run()
    assert cmd.process_state.exit_code() == 0

    cmd = helper_command("cat")
    # Go: ExitCode of the nil *ProcessState of a command never run is -1.
    assert exec.exit_code(cmd.process_state) == -1


def test_Pipes():
    c = helper_command("pipetest")
    stdin, stdout, stderr = c.stdin_pipe(), c.stdout_pipe(), c.stderr_pipe()
    outbr, errbr = io.BufferedReader(stdout), io.BufferedReader(stderr)
    c.start()
    stdin.write(b"O:I am output\n")
    assert outbr.readline() == b"O:I am output\n"
    stdin.write(b"E:I am error\n")
    assert errbr.readline() == b"E:I am error\n"
    stdin.write(b"O:I am output2\n")
    assert outbr.readline() == b"O:I am output2\n"
    stdin.close()
    c.wait()


def test_StdinClose():
    cmd = helper_command("stdinClose")
    stdin = cmd.stdin_pipe()
    assert stdin.fileno() >= 0  # Go: the underlying *os.File's methods are reachable
    cmd.start()
    errors = []

    def copy():
        try:
            stdin.write(b"Some test string.")
            stdin.close()
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    t = threading.Thread(target=copy)
    t.start()
    cmd.wait()
    t.join()
    assert not errors


def test_StdinCloseRace():
    cmd = helper_command("stdinClose")
    stdin = cmd.stdin_pipe()
    cmd.start()
    killer = threading.Thread(target=cmd.process.kill)
    copier = threading.Thread(target=lambda: (_ignore_epipe(stdin.write, b"unexpected string"), _close(stdin)))
    killer.start()
    copier.start()
    with pytest.raises(GoError):
        cmd.wait()
    killer.join()
    copier.join()


def _open_fds() -> set[int]:
    return {int(fd) for fd in os.listdir("/proc/self/fd") if int(fd) < 100}


def test_PipeLookPathLeak():
    old = _open_fds()
    for _ in range(6):
        cmd = exec.Command("something-that-does-not-exist-executable")
        cmd.stdout_pipe()
        cmd.stderr_pipe()
        cmd.stdin_pipe()
        with pytest.raises(GoError):
            cmd.run()
    # listdir's own fd is gone by the time the set is built
    assert _open_fds() - old == set()


def test_ExtraFiles(tmp_path):
    """Go builds read3.go, which prints what it reads from fd 3; a Python helper does the same."""
    text = b"Hello, fd 3!"
    tf = open(tmp_path / "tf", "w+b")
    try:
        tf.write(text)
        tf.seek(0)
        c = exec.Command(sys.executable, "-c", "import os; os.write(1, os.read(3, 100))")
        stdout, stderr = io.BytesIO(), io.BytesIO()
        c.stdout, c.stderr = stdout, stderr
        c.extra_files = [tf]
        c.run()
        assert stdout.getvalue() == text, stderr.getvalue()
    finally:
        tf.close()


def test_ExtraFilesRace():
    def listen():
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen()
        return s

    def run(c, out):
        try:
            out.append(c.combined_output().decode())
        except GoError as e:
            out.append("ERROR:" + str(e))

    for _ in range(10):
        la, lb = listen(), listen()
        ca, cb = helper_command("describefiles"), helper_command("describefiles")
        ca.extra_files, cb.extra_files = [la], [lb]
        ares, bres = [], []
        ta, tb = threading.Thread(target=run, args=(ca, ares)), threading.Thread(target=run, args=(cb, bres))
        ta.start()
        tb.start()
        ta.join()
        tb.join()
        assert ares == ["fd3: listener {}:{}\n".format(*la.getsockname())]
        assert bres == ["fd3: listener {}:{}\n".format(*lb.getsockname())]
        la.close()
        lb.close()


class DelayedInfiniteReader:
    def read(self, n):
        time.sleep(0.1)
        return b"x" * n


@pytest.mark.parametrize("reader", [lambda: io.BytesIO(b"x" * (10 << 20)), DelayedInfiniteReader],
                         ids=["10MB", "Infinite"])  # fmt: skip
def test_IgnorePipeErrorOnSuccess(reader):
    cmd = helper_command("echo", "foo")
    out = io.BytesIO()
    cmd.stdin, cmd.stdout = reader(), out
    cmd.run()
    assert out.getvalue() == b"foo\n"


class BadWriter:
    def write(self, data):
        raise EOFError("unexpected EOF")  # Go: io.ErrUnexpectedEOF


def test_ClosePipeOnCopyError():
    cmd = helper_command("yes")
    cmd.stdout = BadWriter()
    with pytest.raises(Exception):  # noqa: B017 - Go: any error
        cmd.run()


def test_OutputStderrCapture():
    cmd = helper_command("stderrfail")
    with pytest.raises(exec.ExitError) as e:
        cmd.output()
    assert e.value.stderr == b"some stderr text\n"


def test_Context():
    ctx, cancel = context.with_cancel()
    c = helper_command_context(ctx, "pipetest")
    stdin, stdout = c.stdin_pipe(), c.stdout_pipe()
    c.start()
    stdin.write(b"O:hi\n")
    buf = b""
    while len(buf) < 5 and (chunk := stdout.read(5 - len(buf))):
        buf += chunk
    assert buf == b"O:hi\n"
    threading.Thread(target=cancel).start()
    with pytest.raises(GoError):
        c.wait()


def test_ContextCancel():
    ctx, cancel = context.with_cancel()
    c = helper_command_context(ctx, "cat")
    stdin = c.stdin_pipe()
    try:
        c.start()
        stdin.write(b"echo")
        cancel()
        start, delay = time.monotonic(), 0.001
        while True:
            try:
                stdin.write(b"echo")
            except GoError:  # Go: any error from io.WriteString ends the loop (here: write |1: broken pipe)
                break
            if time.monotonic() - start > 60:
                raise AssertionError("canceling context did not stop program")
            delay = min(delay * 2, 1.0)
            time.sleep(delay)
        with pytest.raises(GoError):
            c.wait()
    finally:
        _close(stdin)
        cancel()


def test_DedupEnvEcho():
    cmd = helper_command("echoenv", "FOO")
    cmd.env = [*cmd.environ(), b"FOO=bad", b"FOO=good"]
    assert cmd.combined_output().strip() == b"good"


def test_EnvNULCharacter():
    cmd = helper_command("echoenv", "FOO", "BAR")
    cmd.env = [*cmd.environ(), b"FOO=foo\x00BAR=bar"]
    with pytest.raises(GoError):
        cmd.combined_output()


def test_String():
    echo_path = exec.look_path("echo")
    for path, args, want in [("echo", [], echo_path), ("echo", ["a"], echo_path + " a"),
                             ("echo", ["a", "b"], echo_path + " a b")]:  # fmt: skip
        assert exec.Command(path, *args).string() == want


def test_StringPathNotResolved():
    with pytest.raises(exec.Error):
        exec.look_path("makemeasandwich")
    assert exec.Command("makemeasandwich", "-lettuce").string() == "makemeasandwich -lettuce"


def test_NoPath():
    with pytest.raises(GoError) as e:
        exec.Cmd("").start()
    assert str(e.value) == "exec: no command"


def test_DoubleStartLeavesPipesOpen():
    cmd = helper_command("pipetest")
    stdin, out = cmd.stdin_pipe(), cmd.stdout_pipe()
    cmd.start()
    try:
        with pytest.raises(GoError) as e:
            cmd.start()
        assert str(e.value).endswith("already started")
        msg = b"O:Hello, pipe!\n"
        stdin.write(msg)
        stdin.close()
        assert out.read() == msg
    finally:
        cmd.wait()


# --- TestWaitInterrupt: startHang and its subtests


class TickReader:
    """Go: tickReader: the time, one line per interval."""

    def __init__(self, interval: float):
        self.interval, self.last, self.pending = interval, 0.0, b""

    def read(self, n):
        if not self.pending:
            if (d := self.interval - (time.monotonic() - self.last)) > 0:
                time.sleep(d)
            self.last = time.monotonic()
            self.pending = f"{time.time():.9f}\n".encode()
        chunk, self.pending = self.pending[:n], self.pending[n:]
        return chunk


TOO_LONG = "10m0s"


def start_hang(ctx, hang_time: str, interrupt, wait_delay: float, *flags: str) -> exec.Cmd:
    cmd = helper_command_context(ctx, "hang", hang_time, *flags)
    cmd.stdin = TickReader(0.001)
    cmd.stderr = io.BytesIO()
    if interrupt is None:
        cmd.cancel = None
    else:
        cmd.cancel = lambda: cmd.process.signal(interrupt)
    cmd.wait_delay = wait_delay
    out = cmd.stdout_pipe()
    cmd.start()
    out.read()  # until the helper closes its stdout
    return cmd


def _hang_orphans() -> list[int]:
    """Hang helpers among this process's descendants (a -subsleep orphan is re-parented to us, the
    subreaper), and any descendant already exiting (its cmdline is gone)."""
    found = []
    for pid in procfs.descendants(os.getpid()):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        exiting = argv == [b""] and (procfs.state(pid) != "Z" or _ppid(pid) == os.getpid())
        if exiting or (HELPER.encode() in argv and b"hang" in argv):
            found.append(pid)
    return found


def _ppid(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def _reap_orphans() -> None:
    """End the hang helper's -subsleep orphan, by its pid, and reap it; until none is left."""
    deadline = time.monotonic() + 10
    while (pids := _hang_orphans()) and time.monotonic() < deadline:
        for pid in pids:
            if procfs.state(pid) != "Z":
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    continue
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
        time.sleep(0.01)


def test_WaitInterrupt_Wait():
    cmd = start_hang(context.background(), "1ms", signal.SIGKILL, 0)
    cmd.wait()
    assert cmd.process_state.exited() and cmd.process_state.exit_code() == 0


def test_WaitInterrupt_WaitDelay():
    ctx, cancel = context.with_cancel()
    cmd = start_hang(ctx, TOO_LONG, None, 600, "-interrupt=true")
    cancel()
    time.sleep(0.001)
    cmd.process.signal(signal.SIGINT)
    cmd.wait()
    assert cmd.process_state.exited() and cmd.process_state.exit_code() == 0


def test_WaitInterrupt_SIGKILL_hang():
    ctx, cancel = context.with_cancel()
    cmd = start_hang(ctx, TOO_LONG, signal.SIGKILL, 0.01, "-subsleep=10m", "-probe=1ms")
    try:
        cancel()
        with pytest.raises(exec.ExitError):
            cmd.wait()
    finally:
        _reap_orphans()


def test_WaitInterrupt_Exit_hang():
    cmd = start_hang(context.background(), "1ms", None, 0.01, "-subsleep=10m", "-probe=1ms")
    try:
        with pytest.raises(GoError) as e:
            cmd.wait()
        assert str(e.value) == exec.ERR_WAIT_DELAY
    finally:
        _reap_orphans()


def test_WaitInterrupt_SIGINT_ignored():
    ctx, cancel = context.with_cancel()
    cmd = start_hang(ctx, TOO_LONG, signal.SIGINT, 0.01, "-interrupt=false")
    cancel()
    with pytest.raises(exec.ExitError):
        cmd.wait()


def test_WaitInterrupt_SIGINT_handled():
    ctx, cancel = context.with_cancel()
    cmd = start_hang(ctx, TOO_LONG, signal.SIGINT, 0, "-interrupt=true")
    cancel()
    with pytest.raises(context.ContextError) as e:
        cmd.wait()
    assert e.value is ctx.err()
    assert cmd.process_state.exited() and cmd.process_state.exit_code() == 0


def test_WaitInterrupt_SIGQUIT():
    ctx, cancel = context.with_cancel()
    cmd = start_hang(ctx, TOO_LONG, signal.SIGQUIT, 0)
    cancel()
    with pytest.raises(exec.ExitError):
        cmd.wait()
    assert cmd.process_state.exited() and cmd.process_state.exit_code() == 2  # the default handler's 2
    # Go: a goroutine dump after a blank line; the port's helper dumps its threads (port.runtime._crash).
    assert b"\n\nCurrent thread " in cmd.stderr.getvalue()


# --- TestCancelErrors


class ArbitraryError(Exception):
    pass


def test_CancelErrors_success_after_error():
    ctx, cancel = context.with_cancel()
    cmd = helper_command_context(ctx, "pipetest")
    stdin = cmd.stdin_pipe()
    err_arbitrary = ArbitraryError("arbitrary error")

    def on_cancel():
        stdin.close()
        return err_arbitrary

    cmd.cancel = on_cancel
    cmd.start()
    cancel()
    with pytest.raises(GoError) as e:
        cmd.wait()
    assert exec.wraps(e.value, ArbitraryError) and e.value is not err_arbitrary


def test_CancelErrors_success_after_ErrProcessDone():
    ctx, cancel = context.with_cancel()
    cmd = helper_command_context(ctx, "pipetest")
    stdin, stdout = cmd.stdin_pipe(), cmd.stdout_pipe()
    interrupt_called, done = threading.Event(), threading.Event()

    def on_cancel():
        interrupt_called.set()
        done.wait()
        err = GoError("stdout closed")
        err.__cause__ = exec.ProcessDoneError()  # Go: fmt.Errorf("%w: stdout closed", os.ErrProcessDone)
        return err

    cmd.cancel = on_cancel
    cmd.start()
    cancel()
    interrupt_called.wait()
    stdin.close()
    stdout.read()  # reaches EOF when the process exits
    done.set()
    cmd.wait()


def _killed_after_cancel_fails(cancel_err) -> None:
    """TestCancelErrors' "killed after ..." subtests: Cancel fails with cancel_err() but the command
    lives on; WaitDelay's kill ends it, and Wait reports that (an ExitError), not Cancel's error."""
    ctx, cancel = context.with_cancel()
    cmd = helper_command_context(ctx, "pipetest")
    stdin = cmd.stdin_pipe()
    called = threading.Event()

    def on_cancel():
        called.set()
        return cancel_err()

    cmd.cancel, cmd.wait_delay = on_cancel, 0.001
    cmd.start()
    cancel()
    try:
        with pytest.raises(exec.ExitError):
            cmd.wait()
        assert called.is_set()
    finally:
        _close(stdin)


def test_CancelErrors_killed_after_error():
    _killed_after_cancel_fails(lambda: ArbitraryError("arbitrary error"))


def test_CancelErrors_killed_after_spurious_ErrProcessDone():
    def err():
        e = GoError("stdout closed")
        e.__cause__ = exec.ProcessDoneError()
        return e

    _killed_after_cancel_fails(err)


def test_CancelErrors_nonzero_exit_after_error():
    ctx, cancel = context.with_cancel()
    cmd = helper_command_context(ctx, "stderrfail")
    stderr = cmd.stderr_pipe()
    interrupted = threading.Event()

    def on_cancel():
        interrupted.set()
        return ArbitraryError("arbitrary error")

    cmd.cancel = on_cancel
    cmd.start()
    cancel()
    interrupted.wait()
    stderr.read()
    with pytest.raises(exec.ExitError) as e:
        cmd.wait()
    assert e.value.process_state.exit_code() == 1


def test_ConcurrentExec():
    ctx, cancel = context.with_cancel()
    n = os.cpu_count() or 2
    ready = threading.Barrier(2 * n)
    errors = []

    def hang():
        cmd = helper_command_context(ctx, "pipetest")
        stdin = cmd.stdin_pipe()
        cmd.cancel = stdin.close
        ready.wait()
        try:
            cmd.start()
        except context.ContextError:
            return
        except GoError as e:
            errors.append(e)
            return
        try:
            cmd.wait()
        except GoError:
            pass

    def exit0():
        cmd = helper_command_context(ctx, "exit", "0")
        ready.wait()
        try:
            cmd.run()
        except GoError as e:
            errors.append(e)

    hangs = [threading.Thread(target=hang) for _ in range(n)]
    exits = [threading.Thread(target=exit0) for _ in range(n)]
    for t in hangs + exits:
        t.start()
    for t in exits:
        t.join()
    cancel()
    for t in hangs:
        t.join()
    assert errors == []


def test_PathRace():
    cmd = helper_command("exit", "0")
    t = threading.Thread(target=cmd.combined_output)
    t.start()
    t.join()


def test_AbsPathExec():
    """Go runs $GOROOT/bin/gofmt; any absolute path to an executable does (here the interpreter, `true`)."""
    exe = exec.look_path("true")
    cmd = exec.Command(exe)
    assert cmd.path == exe
    cmd.run()
    cmd = exec.Cmd(exe)
    cmd.run()
    cmd = exec.Cmd("true")
    cmd.dir = "/"
    with pytest.raises(GoError):
        cmd.run()

    # modified: Path changed after Command runs the new path
    exe1, exe2 = exec.look_path("false"), exe
    with pytest.raises(GoError):
        exec.Command(exe1).run()
    cmd = exec.Command(exe1)
    cmd.path = exe2
    cmd.args = [cmd.path]
    cmd.run()


def test_Start_twice():
    cmd = exec.Command("/bin/nonesuch")
    with pytest.raises(GoError):
        cmd.start()
    with pytest.raises(GoError) as e:
        cmd.start()
    assert str(e.value) == "exec: already started"


def test_NoStringPanic():
    assert "PANIC" not in str(exec.Cmd(""))
