"""port.exec reads like Go's os/exec: Command, run/start/wait, a Cmd's zero values, os.Process
(Signal, Wait, the pidfd) and Go's error texts.
"""

import os
import signal
import threading

import pytest

from port import exec
from port.errors import GoError, PathError
from port.sysprocattr import CLONE_NEWUSER, CLONE_NEWUTS, SysProcAttr
from tests.support.exec_helper import ArbitraryError, run_with_fd_0_closed


def test_exit_status_text_and_code():
    with pytest.raises(exec.ExitError) as e:
        exec.Command("sh", "-c", "exit 7").run()
    assert (str(e.value), e.value.exit_code()) == ("exit status 7", 7)


def test_signal_text():
    cmd = exec.Command("sleep", "30")
    cmd.start()
    cmd.process.kill()
    with pytest.raises(exec.ExitError) as e:
        cmd.wait()
    assert (str(e.value), e.value.exit_code()) == ("signal: killed", -1)


def test_fork_exec_error_names_the_path():
    with pytest.raises(PathError) as e:
        exec.Command("/nonexistent/sh").run()
    assert str(e.value) == "fork/exec /nonexistent/sh: no such file or directory"


def test_child_step_failure_comes_back_as_errno():
    cmd = exec.Command("true")
    cmd.dir = "/nonexistent"
    cmd.sys_proc_attr = SysProcAttr()  # with one, Go leaves the chdir to the child
    with pytest.raises(PathError) as e:
        cmd.run()
    assert str(e.value) == "fork/exec /usr/bin/true: no such file or directory"


def test_missing_dir_without_sys_proc_attr_is_a_chdir_error():
    """Go: os.StartProcess stats Dir first when SysProcAttr is nil."""
    cmd = exec.Command("true")
    cmd.dir = "/nonexistent"
    with pytest.raises(PathError) as e:
        cmd.run()
    assert str(e.value) == "chdir /nonexistent: no such file or directory"


def test_start_twice_and_wait_twice():
    cmd = exec.Command("true")
    cmd.run()
    with pytest.raises(GoError, match="exec: already started"):
        cmd.start()
    with pytest.raises(GoError, match="exec: Wait was already called"):
        cmd.wait()


def test_sys_proc_attr_namespaces():
    cmd = exec.Command("sh", "-c", "id -u; readlink /proc/self/ns/uts")
    cmd.sys_proc_attr = SysProcAttr(cloneflags=CLONE_NEWUSER | CLONE_NEWUTS)
    uid, uts = cmd.output().decode().split()
    assert uid == "65534" and uts != os.readlink("/proc/self/ns/uts")


def test_conflicting_fields_rejected():
    cmd = exec.Command("true")
    cmd.sys_proc_attr = SysProcAttr(setctty=True, foreground=True)
    with pytest.raises(PathError, match="both Setctty and Foreground set in SysProcAttr"):
        cmd.run()


def test_a_new_cmd_has_gos_zero_values():
    """Go's exec.Command fills Path and Args (and Err); every other field keeps its zero value: no
    WaitDelay (Wait reads the pipes until EOF, however long), no Cancel, nil streams and Env."""
    for cmd in (exec.Command("true"), exec.Cmd("/bin/true", ["true"])):
        zero = (cmd.wait_delay, cmd.cancel, cmd.env, cmd.dir, cmd.stdin, cmd.stdout, cmd.stderr, cmd.extra_files)
        assert zero == (0, None, None, "", None, None, None, [])
        assert (cmd.sys_proc_attr, cmd.process, cmd.process_state) == (None, None, None)


@pytest.mark.kernel("pidfd_open")
def test_pid_fd_is_set():
    cmd = exec.Command("sleep", "30")
    cmd.sys_proc_attr = SysProcAttr(pid_fd=[-1])
    cmd.start()
    fd = cmd.sys_proc_attr.pid_fd[0]
    try:
        assert fd >= 0
        signal.pidfd_send_signal(fd, signal.SIGKILL)
        with pytest.raises(exec.ExitError, match="signal: killed"):
            cmd.wait()
    finally:
        os.close(fd)


def test_without_pidfd_open_the_process_is_signalled_by_pid(no_pidfd_open):
    """On a kernel without pidfd_open (before 5.3, or refused by a seccomp filter) Go's os.Process falls
    back to the pid: Signal and Kill still reach the process, and Wait reports how it ended."""
    cmd = exec.Command("sleep", "30")
    cmd.start()
    cmd.process.signal(signal.SIGTERM)
    with pytest.raises(exec.ExitError) as e:
        cmd.wait()
    assert str(e.value) == "signal: terminated"


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


@pytest.mark.userns
def test_process_state_strings():
    """Go: os.ProcessState.String() for each kind of wait status."""
    stopped = signal.SIGSTOP << 8 | 0x7F
    assert exec.process_state_string(3 << 8) == "exit status 3"
    assert exec.process_state_string(signal.SIGKILL) == "signal: killed"
    assert exec.process_state_string(signal.SIGSEGV | 0x80) == "signal: segmentation fault (core dumped)"
    assert exec.process_state_string(stopped) == "stop signal: stopped (signal)"
    assert exec.process_state_string(0xFFFF) == "continued"


@pytest.mark.userns
def test_cmd_misuse_errors():
    """Go's texts for a Cmd used the wrong way round."""
    with pytest.raises(GoError, match=r"^exec: no command$"):
        exec.Cmd("", []).start()
    with pytest.raises(GoError, match=r"^exec: not started$"):
        exec.Command("true").wait()
    cmd = exec.Command("true")
    cmd.stdout = 1
    with pytest.raises(GoError, match=r"^exec: Stdout already set$"):
        cmd.output()
    with pytest.raises(exec.Error, match="executable file not found"):
        exec.Command("no-such-command-nsport").start()


@pytest.mark.userns
def test_nul_in_an_argument_is_einval():
    """Go: BytePtrFromString refuses a NUL: "fork/exec PATH: invalid argument", before any fork."""
    with pytest.raises(PathError, match=r"^fork/exec /usr/bin/echo: invalid argument$"):
        exec.Command("echo", "a\0b").run()
