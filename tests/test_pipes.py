"""The child's stdin, stdout and stderr: Cmd's pipes and copies, their errors, and the descriptors
Cmd opens and must close (Go 1.27's os/exec: Start, Wait, StdinPipe, StdoutPipe, Output).
"""

import io
import os
import subprocess
import sys

import pytest

from port import exec
from port.errors import GoError
from tests.support.exec_helper import (
    BlockingWriter,
    FailingReader,
    FailingWriter,
    WriteError,
    open_fds,
    run_with_fd_0_closed,
    wait_until,
)


def test_output_captures_stdout():
    assert exec.Command("sh", "-c", "echo out; echo err >&2").output() == b"out\n"


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


def test_a_failing_stdin_reader_is_what_wait_returns():
    """Go: the stdin copy's error (the caller's reader failing) comes back from Wait; the command still
    sees end of input, as Go closes the pipe when the copy ends."""
    cmd = exec.Command("sh", "-c", "cat; echo done")
    cmd.stdin = FailingReader()
    out = cmd.stdout = io.BytesIO()
    with pytest.raises(WriteError):
        cmd.run()
    assert out.getvalue() == b"done\n"


def test_wait_closes_the_pipes_stdin_pipe_and_stdout_pipe_returned():
    """Go: StdinPipe and StdoutPipe: "Wait will close the pipe after seeing the command exit"."""
    before = open_fds()
    cmd = exec.Command("true")
    stdin, stdout = cmd.stdin_pipe(), cmd.stdout_pipe()
    cmd.run()
    assert (stdin.closed, stdout.closed) == (True, True)
    assert open_fds() - before == set()


def test_a_failed_start_closes_every_pipe_end_it_made():
    """Go's Start closes childIOFiles and, unless started, parentIOPipes: a start failing after the
    pipes were made (fork/exec of a missing file) leaves no descriptor, and the pipes Cmd handed
    out are closed."""
    before = open_fds()
    cmd = exec.Command("/nonexistent/nsport-command")
    stdin, stderr = cmd.stdin_pipe(), cmd.stderr_pipe()
    cmd.stdout = io.BytesIO()  # a pipe the port copies from
    with pytest.raises(GoError) as e:
        cmd.start()
    assert str(e.value) == "fork/exec /nonexistent/nsport-command: no such file or directory"
    assert (stdin.closed, stderr.closed) == (True, True)
    assert open_fds() - before == set()


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
    wait_until(cmd._goroutine_err.full, "the stdout copy ends")
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


@pytest.mark.userns
def test_output_written_before_a_start_comes_first(tmp_path):
    """Go's os.Stdout has no buffer: what the launcher printed is out before the child runs. The port
    flushes Python's buffers before the fork (and the child never flushes the copy it got)."""
    script = (
        "from port import exec\n"
        "print('launcher')\n"
        "cmd = exec.Command('echo', 'child')\n"
        "cmd.stdout = 1\n"
        "cmd.run()\n"
        "print('after')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # stdout on a pipe: block-buffered
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, env=env, timeout=20).stdout
    assert out == b"launcher\nchild\nafter\n"


def test_a_stdin_pipe_write_is_all_or_go_s_broken_pipe_error():
    """Go's File.Write loops until everything is written or an error: to a pipe whose reader reads one
    line and exits, 1 MiB is `write |1: broken pipe`, with the count written before it (the error's n
    here, Go's first result), never a short count without an error."""
    cmd = exec.Command("sh", "-c", "read -r line")
    stdin = cmd.stdin_pipe()
    cmd.start()
    data = b"0123456789\n" + b"x" * (1 << 20)
    with pytest.raises(GoError) as e:
        stdin.write(data)
    assert str(e.value) == "write |1: broken pipe"
    assert 11 <= e.value.n < len(data)
    cmd.wait()
    for more in (b"more", b""):  # Go checks the file first, even for an empty Write
        with pytest.raises(GoError, match=r"^write \|1: file already closed$"):
            stdin.write(more)


def test_a_non_blocking_stdin_pipe_still_takes_every_byte():
    """Go's File.Write waits out EAGAIN in its poller; the port's write, on a pipe its caller made
    non-blocking, tries again until the pipe takes the rest: a full pipe skips nothing."""
    cmd = exec.Command("wc", "-c")
    stdin, stdout = cmd.stdin_pipe(), cmd.stdout_pipe()
    os.set_blocking(stdin.fileno(), False)
    cmd.start()
    data = b"x" * (1 << 20)  # 16 pipe buffers: the pipe is full many times over
    assert stdin.write(data) == len(data)
    stdin.close()
    assert stdout.read() == f"{len(data)}\n".encode()
    cmd.wait()


def test_pipe_ends_closed_by_wait_answer_with_go_s_closed_file_errors():
    cmd = exec.Command("echo", "hi")
    stdout = cmd.stdout_pipe()
    cmd.start()
    assert stdout.read() == b"hi\n"
    assert stdout.read(1) == b""  # Go: 0, io.EOF
    cmd.wait()
    with pytest.raises(GoError, match=r"^read \|0: file already closed$"):
        stdout.read(1)
    with pytest.raises(GoError, match=r"^close \|0: file already closed$"):
        stdout.close()


def test_a_closed_file_object_as_a_stream_is_a_closed_descriptor_in_the_child(tmp_path):
    """Go's Fd() of a closed *os.File is -1: the child's fd 1 and fd 3 are closed, and it runs."""
    closed_out = open(os.devnull, "wb")
    closed_out.close()
    closed_extra = open(os.devnull, "rb")
    closed_extra.close()
    err = io.BytesIO()
    # Each fd is dup'ed onto 9: dash skips a redirection of an fd onto itself (>&1).
    probe = "for fd in 1 3; do (: 9>&$fd) 2>/dev/null && echo $fd open >&2 || echo $fd closed >&2; done"
    cmd = exec.Command("sh", "-c", probe)
    cmd.stdout, cmd.stderr, cmd.extra_files = closed_out, err, [closed_extra]
    cmd.run()
    assert err.getvalue() == b"1 closed\n3 closed\n"
