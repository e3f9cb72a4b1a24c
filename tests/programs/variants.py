"""Deliberately changed versions of the port, to prove the suite notices.

    python tests/programs/variants.py drop=NET        # port.notes without CLONE_NEWNET
    python tests/programs/variants.py strategy=relay  # another start strategy (see port/exec_linux.py)
    python tests/programs/variants.py child-keeps=SIGUSR1  # the child leaves SIGUSR1 ignored

Each is the real port.notes with one thing changed from outside, so a
launcher entry can point at it; nothing in port/ knows about them.
"""

import sys
import types

from port import exec_linux, notes, runtime, sysprocattr

FLAGS = ("UTS", "IPC", "PID", "NS", "USER", "NET")


def _reset_all_but_sigusr1() -> None:
    """port.runtime.reset_signals_for_child without SIGUSR1 (a regression make trace must catch)."""
    import _signal as signal

    from port import libc

    for sig in runtime.GO_HANDLED - runtime.IGNORED_AT_START - {runtime._SIGSETXID, signal.SIGUSR1}:
        signal.signal(sig, signal.SIG_DFL)
    libc.set_signal_raw(runtime._SIGSETXID, libc.SIG_DFL)


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
        elif arg == "child-keeps=SIGUSR1":
            # The child skips its reset of SIGUSR1 and keeps the launcher's SIG_IGN
            # (port.runtime.init ignores it as Go drops it): sh starts with SigIgn 0x200.
            runtime.reset_signals_for_child = _reset_all_but_sigusr1
        else:
            sys.exit(f"variants: unknown change {arg!r}")
    runtime.init()
    notes.main(strategy=strategy)


if __name__ == "__main__":
    main(sys.argv[1:])
