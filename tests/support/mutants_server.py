"""A worker's pytest, started once and forked for each mutant (make mutants; tests/support/mutants.py).

Starting pytest costs about 0.4 s of CPU before the first test (its modules, its plugins, the entry
points it scans, pexpect, psutil, ...), which make mutants paid again for each of 1,500 mutants. This
process imports all that once, in a worker's copy of the tree, and forks a child for each run; the
child is what `unshare --mount --uts --ipc --net sh -c SANDBOX python -m pytest ...` was: a new
session in new mount, UTS, IPC and network namespaces (mounts private, lo up, a veth pair), stdin
/dev/null, stdout and stderr to a file, HUP and INT at their defaults, then pytest.main.

Nothing of port/ or tests/ is imported here: the child imports the mutant as written to disk, as a
fresh interpreter would, and conftest.py anew.

Protocol, a line each: the request is JSON {"args": [...], "out": path}; the answers are
"pid N" once the child runs and "status S" (its wait status) when it ends.
"""

import ctypes
import importlib
import importlib.metadata
import json
import os
import signal
import subprocess
import sys

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWNET = 0x00020000, 0x04000000, 0x08000000, 0x40000000
MS_REC, MS_PRIVATE = 0x4000, 1 << 18
# What the sandbox's network holds (tests/support/mutants.py builds its SANDBOX from these too).
NETWORK = (["ip", "link", "set", "lo", "up"], ["ip", "link", "add", "nsport-m0", "type", "veth", "peer", "name",
                                               "nsport-m1"])  # fmt: skip
# Not the plugins pytest loads by entry point (xdist, pytest_timeout): it rewrites their asserts on import.
PRELOAD = ("pytest", "execnet", "pexpect", "ptyprocess", "plumbum", "psutil")


def preload() -> None:
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    import _pytest.config

    for name in _pytest.config.default_plugins:
        try:
            importlib.import_module(f"_pytest.{name}")
        except ImportError:
            pass
    importlib.metadata.entry_points(group="pytest11")  # the scan pytest makes for plugins, cached from here


def child(args: list[str], out: str) -> None:
    """In the forked child: the sandbox, then pytest. Never returns."""
    code = 1
    try:
        os.setsid()
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET):
            raise OSError(ctypes.get_errno(), "unshare")
        if libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None):
            raise OSError(ctypes.get_errno(), "mount --make-rprivate /")
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        os.close(null)
        subprocess.run(NETWORK[0], check=True)
        subprocess.run(NETWORK[1], stderr=subprocess.DEVNULL)  # no veth in this kernel: lo alone
        os.environ["PWD"] = os.getcwd()  # as sh exports it (Go's os/exec tests read it: TestImplicitPWD)
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a fresh interpreter's
        import pytest

        sys.argv = ["pytest", *args]
        code = int(pytest.main(args))
    except BaseException as e:  # noqa: BLE001 - the status says it; the output file has the text
        print(f"mutants_server: {type(e).__name__}: {e}", file=sys.stderr)
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def main() -> None:
    preload()
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            child(request["args"], request["out"])
        print(f"pid {pid}", flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"status {status}", flush=True)


if __name__ == "__main__":
    main()
