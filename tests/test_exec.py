"""port.exec reads like Go's os/exec: Command, run/start/wait/output and Go's error texts."""

import os
import signal

import pytest

from port import exec
from port.errors import GoError, PathError
from port.sysprocattr import CLONE_NEWUSER, CLONE_NEWUTS, SysProcAttr


def test_output_captures_stdout():
    assert exec.Command("sh", "-c", "echo out; echo err >&2").output() == b"out\n"


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


def test_not_found_in_path():
    with pytest.raises(exec.Error) as e:
        exec.Command("no-such-command-nsport").run()
    assert str(e.value) == 'exec: "no-such-command-nsport": executable file not found in $PATH'


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


def test_env_nul_rejected_before_fork():
    cmd = exec.Command("true")
    cmd.env = ["A=1\0"]
    with pytest.raises(GoError, match="exec: environment variable contains NUL"):
        cmd.run()


def test_env_last_value_wins_and_dir_sets_pwd(tmp_path):
    cmd = exec.Command("sh", "-c", 'echo "$A"; env')
    cmd.env = ["A=1", "B=x", "A=2"]
    out = cmd.output().decode().splitlines()
    assert out[0] == "2"
    assert "B=x" in out and "A=2" in out and "A=1" not in out
    cmd = exec.Command("sh", "-c", 'echo "$PWD"')
    cmd.dir = str(tmp_path)
    assert cmd.output() == f"{tmp_path}\n".encode()


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
