"""Go's error values for the port: their Error() text is str() here.

Go prints errno and signal names from its own tables (port/gotables.py,
generated from the Go sources): "operation not permitted", not Python's
"[Errno 1] Operation not permitted".
"""

from port.gotables import ERRORS, SIGNALS


class GoError(Exception):
    """An error whose str() is what Go's err.Error() returns."""


class Errno(GoError):  # noqa: N818 - Go: syscall.Errno
    def __init__(self, errno: int):
        super().__init__(errno)
        self.errno = errno

    def __str__(self) -> str:
        return ERRORS.get(self.errno) or f"errno {self.errno}"


class PathError(GoError):  # Go: io/fs.PathError
    def __init__(self, op: str, path: str, err: Exception):
        super().__init__(op, path, err)
        self.op, self.path, self.err = op, path, err

    def __str__(self) -> str:
        return f"{self.op} {self.path}: {self.err}"


def signal_text(sig: int) -> str:
    """Go: syscall.Signal.String()."""
    return SIGNALS.get(sig) or f"signal {sig}"
