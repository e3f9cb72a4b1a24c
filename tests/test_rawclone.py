"""RAW_CLONE's machinery (port/rawclone.py): the fork hooks run, and each named hazard is handled.

Every case runs in a fresh interpreter (a raw clone from inside pytest would
copy pytest); the script prints what it saw, the test reads it.
"""

import subprocess
import sys
import textwrap

import pytest

from tests.support.paths import ROOT


def run(script: str) -> list[str]:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], cwd=ROOT, capture_output=True,
                          text=True, timeout=30)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def test_fork_hooks_run_as_around_os_fork():
    """os.register_at_fork's callbacks run once each, in the right process."""
    out = run("""
        import os
        from port import rawclone
        seen = []
        os.register_at_fork(before=lambda: seen.append("before"), after_in_parent=lambda: seen.append("parent"),
                            after_in_child=lambda: seen.append("child"))
        r, w = os.pipe()
        pid, _ = rawclone.clone(0)
        if pid == 0:
            os.write(w, " ".join(seen).encode())
            os._exit(7)
        os.close(w)
        print("child:", os.read(r, 100).decode())
        print("parent:", " ".join(seen))
        print("status:", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
    """)
    assert out == ["child: before child", "parent: before parent", "status: 7"]


@pytest.mark.userns
def test_child_is_pid_1_and_getpid_says_so():
    """glibc's pid cache (gone since 2.25): the child of CLONE_NEWPID reads its own pid, 1, and ppid 0.
    clone returns (0, -1) in the child, as its docstring says: no pidfd there."""
    out = run("""
        import os
        from port import rawclone
        from port.sysprocattr import CLONE_NEWPID, CLONE_NEWUSER
        r, w = os.pipe()
        pid, fd = rawclone.clone(CLONE_NEWUSER | CLONE_NEWPID, pidfd=True)
        if pid == 0:
            os.write(w, f"{os.getpid()} {os.getppid()} {fd}".encode())
            os._exit(0)
        os.close(w)
        print(os.read(r, 100).decode(), fd >= 0, pid != os.getpid())
        os.waitpid(pid, 0)
    """)
    assert out == ["1 0 -1 True True"]


def test_a_second_thread_makes_it_unusable_and_the_port_falls_back():
    """Locks held by other threads: with a thread alive RAW_CLONE is refused and fork_exec uses fork(2)."""
    out = run("""
        import os, threading
        from port import exec_linux, rawclone
        print(rawclone.unusable())
        stop = threading.Event()
        t = threading.Thread(target=stop.wait)
        t.start()
        print(rawclone.unusable())
        forks = []
        os.register_at_fork(before=lambda: forks.append("fork"))  # os.fork and rawclone.clone alike
        real = rawclone.clone
        rawclone.clone = lambda *a: forks.append("raw") or real(*a)
        attr = exec_linux.ProcAttr(env=(b"PATH=/usr/bin:/bin",))
        pid = exec_linux.fork_exec("/bin/true", ["true"], attr)
        print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), forks)
        stop.set()
        t.join()
    """)
    assert out == ["None", "other threads may hold libc's locks", "0 ['fork']"]


def test_clone_failure_is_an_oserror():
    """An impossible flag set (CLONE_NEWPID with CLONE_THREAD) reaches the caller as OSError(EINVAL)."""
    out = run("""
        from port import rawclone
        try:
            rawclone.clone(0x20000000 | 0x00010000)
        except OSError as e:
            print(e.errno)
    """)
    assert out == ["22"]
