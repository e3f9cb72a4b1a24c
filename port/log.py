"""Go's standard logger for the port: log.Fatal, with Go's LstdFlags header."""

import os
import time

from port import runtime


def fatal(*args: object) -> None:
    """Go: log.Fatal(v...): "YYYY/MM/DD HH:MM:SS msg" to stderr in one write, exit 1."""
    msg = "".join(map(str, args))  # fmt.Sprint of a single error is its text
    header = time.strftime("%Y/%m/%d %H:%M:%S ")  # local time, like Go
    runtime.write(2, (header + msg + ("" if msg.endswith("\n") else "\n")).encode())
    os._exit(1)  # Go: os.Exit(1) runs no deferred calls
