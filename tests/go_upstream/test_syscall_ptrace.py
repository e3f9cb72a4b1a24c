"""Go's src/syscall/syscall_ptrace_test.go, translated: starting a process with Ptrace set."""

import os

import pytest

from port import exec, exec_linux
from port.errors import GoError
from port.sysprocattr import SysProcAttr


def test_ExecPtrace():
    try:
        bin_ = exec.look_path("sh")
    except exec.Error:
        pytest.skip("skipped because sh is not available")
    attr = exec_linux.ProcAttr(sys=SysProcAttr(ptrace=True))
    try:
        pid = exec_linux.fork_exec(bin_, [bin_], attr)  # Go: os.StartProcess
    except GoError as e:
        assert "permission denied" in str(e) or "operation not permitted" in str(e)
        return
    os.kill(pid, 9)  # Go: proc.Kill()
    while True:  # the tracee stopped at exec; reap it once SIGKILL has ended it
        _, status = os.waitpid(pid, 0x40000000)  # __WALL
        if os.WIFEXITED(status) or os.WIFSIGNALED(status):
            break
