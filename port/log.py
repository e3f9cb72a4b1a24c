"""Go's standard logger for the port: log.Fatal, with Go's LstdFlags header."""

import os
import time

from port import runtime
from port.fmt import to_bytes


def fatal(*args: object) -> None:
    """Go: log.Fatal(v...): "YYYY/MM/DD HH:MM:SS msg" to stderr in one write, exit 1."""
    msg = b"".join(map(to_bytes, args))  # fmt.Sprint of a single error is its text, bytes as Go has them
    header = time.strftime("%Y/%m/%d %H:%M:%S ").encode()  # local time, like Go
    runtime.write(2, header + msg + (b"" if msg.endswith(b"\n") else b"\n"))
    os._exit(1)  # Go: os.Exit(1) runs no deferred calls
