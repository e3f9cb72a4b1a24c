"""The port's twin of reference_go/fdmap: start a command with a Files list.

    python tests/programs/fdmap.py DIR FILES -- COMMAND [ARG...]

Every descriptor number N >= 0 in the comma list FILES is made a
close-on-exec descriptor of this process open on DIR/fd-N, then COMMAND runs
through port.exec_linux.fork_exec with ProcAttr.files = FILES (-1: closed in
the child). Exits with the command's exit status, or 100 if the start failed.
"""

import os
import sys

from port.errors import GoError
from port.exec_linux import ProcAttr, fork_exec


def main(args: list[str]) -> int:
    if len(args) < 4 or args[2] != "--":
        sys.exit("usage: fdmap DIR FILES -- COMMAND [ARG...]")
    directory, argv = args[0], args[3:]
    files = [int(s) for s in args[1].split(",")]
    for n in files:
        if n < 0:
            continue
        fd = os.open(f"{directory}/fd-{n}", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        if fd != n:
            os.dup2(fd, n, inheritable=False)
            os.close(fd)
    try:
        env = tuple(k + b"=" + v for k, v in os.environb.items())
        pid = fork_exec(argv[0], argv, ProcAttr(env=env, files=tuple(files)))
    except GoError:
        return 100
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    os._exit(main(sys.argv[1:]))
