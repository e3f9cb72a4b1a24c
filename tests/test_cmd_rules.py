"""Rules of Go 1.27's os/exec and os.Process that the port's Cmd must keep, one case per rule.

Grouped by theme: the environment, what the child's stdin/stdout/stderr are, a
Cmd's zero values, os.Process (Signal, Wait, the pidfd), the context watcher and
WaitDelay, the pipe ends Cmd opens and must close, and errors.Is. Where Go's
answer was read off a Go program rather than the source, the test says so.
"""

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import threading

import pytest

from port import context, exec
from port.errors import GoError
from tests.support import procfs
from tests.support.paths import ROOT
from tests.test_cmd_goroutines import BlockingWriter, _error_of, _wait_until, run_with_fd_0_closed

# -- the environment


@pytest.mark.parametrize(
    "env",
    [["==a", "=b"], ["=b", "==a"]],
    ids=["double-first", "single-first"],
)
def test_a_leading_equals_sign_belongs_to_the_key(env):
    """Go's dedupEnvCase: `i = strings.Index(kv[1:], "=") + 1` for an entry that starts with "=":
    "==a" has the key "=" and "=b" the key "", so both stay (Go 1.27 prints cmd.Environ() of
    Env ["==a" "=b"] as ["==a" "=b"], and of ["=b" "==a"] as ["=b" "==a"])."""
    cmd = exec.Command("true")
    cmd.env = env
    assert cmd.environ() == [e.encode() for e in env]


def test_entries_that_are_only_a_leading_equals_sign_share_the_empty_key():
    """Go: "=a" and "=b" both have the key "" (no second "="): the last wins (Go prints ["=b"])."""
    cmd = exec.Command("true")
    cmd.env = ["=a", "=b"]
    assert cmd.environ() == [b"=b"]


def test_keys_differing_in_case_are_different_variables_on_linux():
    """Go's dedupEnv is case-insensitive on Windows only: on Linux "a=1" and "A=2" both reach the child
    (Go 1.27 prints cmd.Environ() of Env ["a=1" "A=2"] as ["a=1" "A=2"])."""
    cmd = exec.Command("sh", "-c", 'printf "%s %s" "$a" "$A"')
    cmd.env = ["a=1", "A=2"]
    assert cmd.environ() == [b"a=1", b"A=2"]
    assert cmd.output() == b"1 2"


@pytest.mark.root
def test_without_proc_the_environment_is_what_the_program_holds():
    """Where /proc/self/environ cannot be read (no procfs), the port's syscall.Environ falls back to the
    program's environment as it is now, "key=value" for each entry, changes included."""
    script = (
        "import json, os\n"
        "from port import exec\n"
        "os.environ['NSPORT_ADDED'] = 'new'\n"
        "del os.environ['NSPORT_GONE']\n"
        "env = exec.environ()\n"
        "want = [k + b'=' + v for k, v in os.environb.items()]\n"
        "print(json.dumps([os.path.exists('/proc/self/environ'), sorted(e.decode() for e in env),\n"
        "                  sorted(e.decode() for e in want)]))\n"
    )
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), "NSPORT_GONE": "1", "NSPORT_KEPT": "2"}
    mount_proc_tmpfs = ["unshare", "--mount", "sh", "-c", 'mount -t tmpfs none /proc && exec "$@"', "sh"]
    proc = subprocess.run([*mount_proc_tmpfs, sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=30)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    has_environ, got, want = json.loads(proc.stdout)
    assert not has_environ
    assert got == want
    assert "NSPORT_ADDED=new" in got and "NSPORT_KEPT=2" in got
    assert not [e for e in got if e.startswith("NSPORT_GONE=")]


# -- the child's stdin, stdout and stderr


def test_output_keeps_the_first_and_last_32_kib_of_stderr():
    """Go's Output captures stderr with prefixSuffixSaver{N: 32 << 10}: ExitError.Stderr is its first and
    last 32 KiB with "\\n... omitting N bytes ...\\n" between."""
    cmd = exec.Command("sh", "-c", "seq 1 20000 >&2; exit 1")
    with pytest.raises(exec.ExitError) as e:
        cmd.output()
    full = "".join(f"{i}\n" for i in range(1, 20001)).encode()
    n = 32 << 10
    assert len(full) > 2 * n
    assert e.value.stderr == full[:n] + b"\n... omitting %d bytes ...\n" % (len(full) - 2 * n) + full[-n:]


def test_a_text_reader_as_stdin_is_written_fs_encoded():
    """Go's Stdin is an io.Reader of bytes; the port also takes a text reader, whose str is written as
    os.fsencode gives it (UTF-8, lone surrogates back to the bytes they escaped)."""
    cmd = exec.Command("cat")
    cmd.stdin = io.StringIO("h\u00e9llo \udcff\n" * 3)
    assert cmd.output() == b"h\xc3\xa9llo \xff\n" * 3


def test_one_writer_for_stdout_and_stderr_is_one_pipe():
    """Go: "If Stdout and Stderr are the same writer, ... at most one goroutine at a time will call
    Write": Start gives the child one pipe as fds 1 and 2 (CombinedOutput sets both to one buffer)."""
    cmd = exec.Command("sh", "-c", "readlink /proc/self/fd/1 /proc/self/fd/2")
    one, two = cmd.combined_output().decode().split()
    assert one.startswith("pipe:") and one == two


def test_stdout_and_stderr_left_nil_are_two_opens_of_dev_null():
    """Go opens os.DevNull for each nil stream: fds 1 and 2 are not one open file description (a flag
    set on fd 1 is not seen on fd 2)."""
    script = (
        "import fcntl, os, sys\n"
        "fcntl.fcntl(1, fcntl.F_SETFL, fcntl.fcntl(1, fcntl.F_GETFL) | os.O_APPEND)\n"
        "sys.exit(3 if fcntl.fcntl(2, fcntl.F_GETFL) & os.O_APPEND else 0)\n"
    )
    cmd = exec.Command(sys.executable, "-c", script)
    cmd.run()  # exit status 3: one description serves both


# -- a Cmd's zero values


def test_a_new_cmd_has_gos_zero_values():
    """Go's exec.Command fills Path and Args (and Err); every other field keeps its zero value: no
    WaitDelay (Wait reads the pipes until EOF, however long), no Cancel, nil streams and Env."""
    for cmd in (exec.Command("true"), exec.Cmd("/bin/true", ["true"])):
        zero = (cmd.wait_delay, cmd.cancel, cmd.env, cmd.dir, cmd.stdin, cmd.stdout, cmd.stderr, cmd.extra_files)
        assert zero == (0, None, None, "", None, None, None, [])
        assert (cmd.sys_proc_attr, cmd.process, cmd.process_state) == (None, None, None)


# -- os.Process: Signal, Wait and the pidfd


def _reaped_behind_cmds_back() -> exec.Cmd:
    cmd = exec.Command("true")
    cmd.start()
    pid, _ = os.waitpid(cmd.process.pid, 0)  # our own child: reaped here, not by Cmd.Wait
    assert pid == cmd.process.pid
    return cmd


def test_signal_to_a_process_reaped_elsewhere_is_err_process_done():
    """Go's Process.Signal turns ESRCH into os.ErrProcessDone (convertESRCH; pidfd_send_signal to a
    reaped process's pidfd fails with ESRCH)."""
    cmd = _reaped_behind_cmds_back()
    with pytest.raises(exec.ProcessDoneError) as e:
        cmd.process.signal(signal.SIGTERM)
    assert str(e.value) == "os: process already finished"


def test_wait_for_a_process_reaped_elsewhere_is_a_waitid_error():
    """Go 1.27 waits with waitid(2) (on the pidfd, or with WNOWAIT on the pid first): a Go program that
    reaps the child with syscall.Wait4 and then calls cmd.Wait() gets "waitid: no child processes"."""
    cmd = _reaped_behind_cmds_back()
    with pytest.raises(exec.WrappedSyscallError) as e:
        cmd.wait()
    assert str(e.value) == "waitid: no child processes"


def test_an_invalid_signal_number_is_einval():
    """Go 1.27: cmd.Process.Signal(syscall.Signal(1000)) returns syscall.EINVAL, "invalid argument"."""
    cmd = exec.Command("sleep", "30")
    cmd.start()
    try:
        with pytest.raises(GoError) as e:
            cmd.process.signal(1000)
        assert str(e.value) == "invalid argument"
    finally:
        cmd.process.kill()
        with pytest.raises(exec.ExitError):
            cmd.wait()


def test_wait_closes_a_pidfd_that_is_fd_0():
    """Go's Process closes its pidfd once waited for, whatever its number. In a program started with fd 0
    closed whose Cmd opens nothing else (its streams are fds it already has), the pidfd is fd 0."""
    script = (
        "import json, os, sys\n"
        "from port import exec\n"
        "before = sorted(os.listdir('/proc/self/fd'))\n"
        "cmd = exec.Command('true')\n"
        "cmd.stdin = cmd.stdout = cmd.stderr = sys.stderr\n"
        "cmd.start()\n"
        "pidfd = cmd.process._pidfd\n"
        "cmd.wait()\n"
        "after = sorted(os.listdir('/proc/self/fd'))\n"
        "try:\n"
        "    cmd.process.wait()\n"
        "except Exception as e:\n"
        "    again = str(e)\n"
        "print(json.dumps([pidfd, before, after, again]))\n"
    )
    pidfd, before, after, again = run_with_fd_0_closed(script)
    assert pidfd == 0  # the case this test is about
    assert after == before  # (listdir itself holds the lowest free fd each time)
    assert again == "wait: no child processes"  # a Process with a pidfd, as Go's pidfdWait answers


# -- the context watcher and WaitDelay


def _first_line(out: io.BytesIO) -> bytes:
    _wait_until(lambda: b"\n" in out.getvalue(), "the command's first line is copied")
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
        _wait_until(lambda: procfs.state(cmd.process.pid) == "Z", "the command exits")
        cancel()
        _wait_until(cmd._ctx_result.full, "the watcher kills after WaitDelay")
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
        _wait_until(lambda: procfs.state(cmd.process.pid) == "Z", "the command exits")
        release()
        cmd.wait()
        assert cmd.stdout.getvalue() == output


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


@pytest.mark.parametrize("pidfd", [True, False], ids=["pidfd", "no-pidfd"])
def test_a_second_process_wait_finds_no_child(pidfd, request):
    """Go's os.Process.Wait on a process already waited for: ECHILD. With a pidfd, pidfdWait answers
    "wait: no child processes" itself (Go 1.27 prints that); without one, pidWait calls waitid(2) again."""
    if not pidfd:
        request.getfixturevalue("no_pidfd_open")
    cmd = exec.Command("true")
    cmd.run()
    with pytest.raises(GoError) as e:
        cmd.process.wait()
    assert str(e.value) == ("wait" if pidfd else "waitid") + ": no child processes"


class ArbitraryError(Exception):
    pass


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
    _wait_until(cmd._ctx_result.full, "the watcher calls Cancel")
    with pytest.raises(GoError) as e:
        cmd.wait()
    assert str(e.value) == "exec: canceling Cmd: arbitrary error"
    assert exec.wraps(e.value, ArbitraryError)
    assert cmd.process_state.success()


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
    waiter = threading.Thread(target=lambda: errors.append(_error_of(cmd.wait)))
    waiter.start()
    try:
        _wait_until(lambda: cmd._copies_interrupted, "WaitDelay expires")
        waiter.join(0.3)  # correct code cannot return: the copy is still inside write()
        assert waiter.is_alive()
    finally:
        writer.release.set()
        waiter.join(10)
    assert [str(e) for e in errors] == [exec.ERR_WAIT_DELAY]


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


# -- the pipe ends Cmd opens


def _fds() -> set[int]:
    return {int(fd) for fd in os.listdir("/proc/self/fd")}


def test_wait_closes_the_pipes_stdin_pipe_and_stdout_pipe_returned():
    """Go: StdinPipe and StdoutPipe: "Wait will close the pipe after seeing the command exit"."""
    before = _fds()
    cmd = exec.Command("true")
    stdin, stdout = cmd.stdin_pipe(), cmd.stdout_pipe()
    cmd.run()
    assert (stdin.closed, stdout.closed) == (True, True)
    assert _fds() - before == set()


def test_a_failed_start_closes_every_pipe_end_it_made():
    """Go's Start closes childIOFiles and, unless started, parentIOPipes: a start failing after the
    pipes were made (fork/exec of a missing file) leaves no descriptor, and the pipes Cmd handed
    out are closed."""
    before = _fds()
    cmd = exec.Command("/nonexistent/nsport-command")
    stdin, stderr = cmd.stdin_pipe(), cmd.stderr_pipe()
    cmd.stdout = io.BytesIO()  # a pipe the port copies from
    with pytest.raises(GoError) as e:
        cmd.start()
    assert str(e.value) == "fork/exec /nonexistent/nsport-command: no such file or directory"
    assert (stdin.closed, stderr.closed) == (True, True)
    assert _fds() - before == set()


def test_wait_closes_a_copy_pipe_once_not_a_descriptor_opened_since():
    """Go closes each pipe end once (an *os.File closed twice fails, it closes no other file): once the
    stdout copy has ended and closed its pipe, a descriptor the program opens with that number is
    not Cmd's to close."""
    cmd = exec.Command("sh", "-c", "echo out")
    writer = cmd.stdout = BlockingWriter()
    cmd.start()
    assert writer.entered.wait(10)
    (copy_fd,) = cmd._parent_io  # the read end the copy thread reads from
    writer.release.set()
    _wait_until(cmd._goroutine_err.full, "the stdout copy ends")
    with pytest.raises(OSError):  # the copy closed it (EBADF)
        os.fstat(copy_fd)
    mine = os.open(os.devnull, os.O_RDONLY)
    if mine != copy_fd:
        os.dup2(mine, copy_fd)
        os.close(mine)
    try:
        cmd.wait()
        os.fstat(copy_fd)  # still open: Wait did not close it again
    finally:
        os.close(copy_fd)


# -- errors.Is


def test_wraps_ends_on_an_error_that_is_its_own_cause():
    """The port's errors.Is follows .err and __cause__; Python lets a chain loop (`raise e from e`):
    the search ends, and finds what is in the loop."""
    looped = GoError("looped")
    looped.__cause__ = looped
    outer = exec.WrappedError("outer", GoError("inner"))
    outer.err.__cause__ = outer
    results = []

    def search():
        for err, kind in ((looped, ArbitraryError), (outer, ArbitraryError), (outer, exec.WrappedError)):
            results.append(exec.wraps(err, kind))

    worker = threading.Thread(target=search, daemon=True)  # a loop that never ended would spin here
    worker.start()
    worker.join(10)
    assert results == [False, False, True]
