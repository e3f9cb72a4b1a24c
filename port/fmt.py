"""Go's fmt.Println for the port: one write(2) to fd 1, no buffering."""

from port import runtime


def println(*args: object) -> None:
    """Go: fmt.Println(a...): operands joined by spaces, then a newline."""
    runtime.write(1, (" ".join(map(str, args)) + "\n").encode())
