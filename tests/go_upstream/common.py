"""What the translated tests share: Go's helperCommand and testenv pieces."""

import sys

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
