"""The notes program started from a host process that is hard to fork from.

    python tests/programs/hostile.py python-thread strategy=raw-clone report=FILE
    python tests/programs/hostile.py c-thread          # a thread Python does not know (pthread_create)
    python tests/programs/hostile.py hook-thread       # os.register_at_fork starts a thread in each child

Each word adds one hostility, after port.runtime.init and before port.notes.main,
as a program embedding the port would; report=FILE gets the strategy Start took.
Nothing in port/ knows about this program.
"""

import os
import sys
import threading

from port import exec, exec_linux, notes, runtime


def _python_thread() -> None:
    threading.Thread(target=threading.Event().wait, daemon=True).start()  # waits for ever


def _c_thread() -> None:
    """A native thread blocked in pause(2), as a C extension's thread pool would be: no Python state."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    tid = ctypes.c_ulong()
    pause = ctypes.cast(libc.pause, ctypes.c_void_p)
    if libc.pthread_create(ctypes.byref(tid), None, pause, None) != 0:
        sys.exit("hostile: pthread_create failed")


def _hook_thread() -> None:
    os.register_at_fork(after_in_child=_python_thread)


HOSTILITIES = {"python-thread": _python_thread, "c-thread": _c_thread, "hook-thread": _hook_thread}


def _reporting_start(path: str):
    """Cmd.start that writes the strategy it took to path once the start is over."""
    start = exec.Cmd.start

    def wrapped(cmd) -> None:
        try:
            start(cmd)
        finally:
            with open(path, "w") as f:
                f.write(cmd.strategy_taken)

    return wrapped


def main(args: list[str]) -> None:
    strategy, chosen = exec_linux.RAW_CLONE, []
    for arg in args:
        key, _, value = arg.partition("=")
        if arg in HOSTILITIES:
            chosen.append(HOSTILITIES[arg])
        elif key == "strategy" and value in exec_linux.STRATEGIES:
            strategy = value
        elif key == "report" and value:
            exec.Cmd.start = _reporting_start(value)
        else:
            sys.exit(f"hostile: unknown argument {arg!r}")
    runtime.init()
    for hostility in chosen:
        hostility()
    notes.main(strategy=strategy)


if __name__ == "__main__":
    main(sys.argv[1:])
