"""What the translated tests share: Go's helperCommand and testenv pieces."""

import re
import signal
import sys
import time
from pathlib import Path

from port import exec
from tests.go_upstream.helper import HELPER

EXE = (sys.executable, HELPER)  # Go: testenv.Executable(t), the test binary


def helper_command(name: str, *args: str) -> exec.Cmd:
    """Go: helperCommand(t, name, args...): the test binary run as one of its helpers."""
    return exec.Command(*EXE, name, *args)


def helper_command_context(ctx, name: str, *args: str) -> exec.Cmd:
    """Go: helperCommandContext."""
    if ctx is None:
        return helper_command(name, *args)
    return exec.CommandContext(ctx, *EXE, name, *args)


def syscall_is_not_supported(err: BaseException) -> bool:
    """Go: testenv.SyscallIsNotSupported: ENOSYS, EPERM, EACCES, EINVAL and the like from a start."""
    from port.errors import Errno

    while err is not None:
        if isinstance(err, Errno):
            return err.errno in (1, 13, 22, 38, 95)  # EPERM EACCES EINVAL ENOSYS EOPNOTSUPP
        err = getattr(err, "err", None)
    return False


def wait_until_runtime_is_go(pid: int) -> None:
    """A Go helper handles signals as Go from its first instruction; the Python one only once
    port.runtime.init has run. Before that CPython turns SIGINT into KeyboardInterrupt, which during
    its own start-up is a failed start with status 1, not death by the signal. runtime.init leaves
    SIGUSR1 ignored (Go catches and drops it): wait until it is."""
    deadline = time.monotonic() + 10
    while True:
        status = Path(f"/proc/{pid}/status").read_text()
        ignored = int(re.search(r"^SigIgn:\s*([0-9a-f]+)$", status, re.M).group(1), 16)
        if ignored >> (signal.SIGUSR1 - 1) & 1:
            return
        assert time.monotonic() < deadline, f"pid {pid} never took Go's signal dispositions"
        time.sleep(0.002)
