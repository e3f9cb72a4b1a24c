"""Deliberately changed versions of the port, to prove the suite notices.

    python -m tests.programs.variants drop=NET        # port.notes without CLONE_NEWNET
    python -m tests.programs.variants strategy=relay  # another start strategy (see port/exec_linux.py)

Each is the real port.notes with one thing changed from outside, so a
launcher entry can point at it; nothing in port/ knows about them.
"""

import sys
import types

from port import exec_linux, notes, runtime, sysprocattr

FLAGS = ("UTS", "IPC", "PID", "NS", "USER", "NET")


def main(args: list[str]) -> None:
    strategy = exec_linux.RAW_CLONE
    for arg in args:
        key, _, value = arg.partition("=")
        if key == "drop" and value in FLAGS:
            # The notes program reads its flags from this module; hand it a copy
            # in which one CLONE_NEW* constant is 0.
            patched = types.ModuleType("syscall")
            patched.__dict__.update(vars(sysprocattr))
            setattr(patched, f"CLONE_NEW{value}", 0)
            notes.syscall = patched
        elif key == "strategy" and value in exec_linux.STRATEGIES:
            strategy = value
        else:
            sys.exit(f"variants: unknown change {arg!r}")
    runtime.init()
    notes.main(strategy=strategy)


if __name__ == "__main__":
    main(sys.argv[1:])
