"""SUBREAPER with a middle process: Start waits for the middle to end, however late it ends.

The middle hands the child's pid over and exits; the launcher must reap it (a blocking wait), or a
middle still running at that moment is left a zombie of the launcher's once it ends, and the child
is not yet re-parented when the launcher lets it go on. The middle is slowed down here between its
handoff and its exit (os._exit patched, which the forked middle inherits).
"""

import os
import subprocess
import sys
import time

import pytest

from port import exec, exec_linux, libc
from port.errors import PathError
from port.sysprocattr import CLONE_NEWPID, CLONE_NEWUSER, SysProcAttr
from tests.support import procfs
from tests.support.paths import ROOT

pytestmark = pytest.mark.userns


def zombie_children() -> set[int]:
    return {pid for pid in procfs.children_map().get(os.getpid(), []) if procfs.state(pid) == "Z"}


def slow_middle(monkeypatch) -> None:
    me, real_exit = os.getpid(), os._exit

    def slow_exit(code: int) -> None:
        if os.getpid() != me and code == 0:
            time.sleep(0.1)  # the middle, after its handoff: still running when the launcher has the pid
        real_exit(code)

    monkeypatch.setattr(os, "_exit", slow_exit)


def test_start_reaps_a_middle_that_ends_late(monkeypatch):
    slow_middle(monkeypatch)
    me, real_waitpid, waited = os.getpid(), os.waitpid, []

    def waitpid(pid: int, options: int):
        if os.getpid() == me:
            waited.append(pid)
        return real_waitpid(pid, options)

    monkeypatch.setattr(os, "waitpid", waitpid)
    zombies = zombie_children()
    cmd = exec.Command("true")
    cmd.strategy = exec_linux.SUBREAPER
    cmd.sys_proc_attr = SysProcAttr(cloneflags=CLONE_NEWUSER | CLONE_NEWPID)
    cmd.start()
    assert waited and waited[0] != cmd.process.pid  # the launcher's first wait: the middle's
    cmd.wait()
    assert cmd.process_state.success()
    assert procfs.wait_until_dead(waited[0]) is None  # reaped, not left a zombie
    assert zombie_children() == zombies


def test_start_waits_again_after_a_spurious_echild(monkeypatch):
    """Start's wait for the middle fails once with ECHILD while the middle still runs (make faults injects
    one): Start asks again, and that wait blocks too, or the middle would end a zombie of the launcher's."""
    slow_middle(monkeypatch)
    me, real_waitpid, failed = os.getpid(), os.waitpid, []

    def waitpid(pid: int, options: int):
        if os.getpid() == me and not failed:  # the launcher's first wait: the middle's
            failed.append(pid)
            raise ChildProcessError(10, "No child processes")
        return real_waitpid(pid, options)

    monkeypatch.setattr(os, "waitpid", waitpid)
    zombies = zombie_children()
    cmd = exec.Command("true")
    cmd.strategy = exec_linux.SUBREAPER
    cmd.sys_proc_attr = SysProcAttr(cloneflags=CLONE_NEWUSER | CLONE_NEWPID)
    cmd.start()
    assert failed and failed != [cmd.process.pid]
    cmd.wait()
    assert cmd.process_state.success()
    assert procfs.wait_until_dead(failed[0]) is None  # reaped, not left a zombie
    assert zombie_children() == zombies


@pytest.mark.parametrize(("errno", "text"), [(32, "broken pipe"), (5, "input/output error")], ids=["EPIPE", "EIO"])
def test_a_failed_adoption_write_fails_the_start_with_its_errno(monkeypatch, errno, text):
    """The byte that lets the adopted child go on cannot be written (the child is gone: EPIPE; or EIO): the
    child, waiting for it, exits once the adopt pipe closes, is reaped, and the start fails with the write's
    errno, not with the EPIPE of the status pipe the child closed without an errno.
    (make faults fails the same write with strace, which the coverage map of make mutants cannot follow:
    its own records are writes too.)"""
    me, real_write, refused = os.getpid(), os.write, []

    def write(fd: int, data) -> int:
        if os.getpid() == me and bytes(data) == b"a":
            refused.append(fd)
            raise OSError(errno, os.strerror(errno))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    children = set(procfs.children_map().get(os.getpid(), []))
    cmd = exec.Command("true")
    cmd.strategy = exec_linux.SUBREAPER
    cmd.sys_proc_attr = SysProcAttr(cloneflags=CLONE_NEWUSER | CLONE_NEWPID)
    with pytest.raises(PathError) as failed:
        cmd.start()
    assert len(refused) == 1
    assert str(failed.value) == f"fork/exec /usr/bin/true: {text}"
    assert set(procfs.children_map().get(os.getpid(), [])) == children  # the child is reaped, not left


@pytest.mark.parametrize("was", [0, 1], ids=["not-a-subreaper", "a-subreaper"])
def test_the_subreaper_flag_is_put_back_as_it_was(was):
    """SUBREAPER sets PR_SET_CHILD_SUBREAPER for the start only: a launcher that was a subreaper (pytest is
    one, tests/conftest.py) stays one, and one that was not is not made one."""
    libc.prctl(libc.PR_SET_CHILD_SUBREAPER, was)
    try:
        cmd = exec.Command("true")
        cmd.strategy = exec_linux.SUBREAPER
        cmd.sys_proc_attr = SysProcAttr(cloneflags=CLONE_NEWUSER | CLONE_NEWPID)
        cmd.start()
        after = libc.prctl_get(libc.PR_GET_CHILD_SUBREAPER)
        cmd.wait()
    finally:
        libc.prctl(libc.PR_SET_CHILD_SUBREAPER, 1)  # pytest's own (conftest)
    assert after == was


def test_a_failed_restore_of_the_subreaper_flag_leaves_the_start_standing(monkeypatch):
    """SUBREAPER puts PR_SET_CHILD_SUBREAPER back as it was after the start; should that prctl fail (it cannot
    with the value the kernel gave, but seccomp or make faults can make it), the start stands: Go has no
    such step to fail."""
    real_prctl, restores = libc.prctl, []

    def prctl(option: int, arg2: int) -> None:
        if option == libc.PR_SET_CHILD_SUBREAPER and arg2 != 1:  # the restore: back to what it was (0 here)
            restores.append(arg2)
            raise OSError(22, "Invalid argument")
        real_prctl(option, arg2)

    monkeypatch.setattr(libc, "prctl", prctl)
    monkeypatch.setattr(libc, "prctl_get", lambda option: 0)  # a launcher that was no subreaper
    cmd = exec.Command("true")
    cmd.strategy = exec_linux.SUBREAPER
    cmd.sys_proc_attr = SysProcAttr(cloneflags=CLONE_NEWUSER | CLONE_NEWPID)
    cmd.start()
    cmd.wait()
    assert cmd.process_state.success() and restores == [0]
    real_prctl(libc.PR_SET_CHILD_SUBREAPER, 1)  # pytest's own flag (conftest), which the real restore kept


IGNORING_SIGCHLD = """
import os, signal, sys
from port import exec, exec_linux, libc
from port.errors import PathError
from port.sysprocattr import CLONE_NEWPID, CLONE_NEWUSER, SysProcAttr
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps every child at once: wait4 says ECHILD
cmd = exec.Command("sh", "-c", 'touch "$0"', sys.argv[1])
cmd.strategy = exec_linux.SUBREAPER
cmd.sys_proc_attr = SysProcAttr(cloneflags=CLONE_NEWUSER | CLONE_NEWPID)
cmd.start()
print("started")
try:
    cmd.wait()
except Exception as e:
    print(e)
"""


def test_start_with_sigchld_ignored_waits_out_the_reaped_middle(tmp_path):
    """A launcher that ignores SIGCHLD (the kernel reaps its children itself): the middle is gone when
    Start waits for it (ECHILD), and Start goes on; the command runs. Wait then finds no child, as
    Go's does with SIGCHLD ignored."""
    marker = tmp_path / "ran"
    proc = subprocess.run([sys.executable, "-c", IGNORING_SIGCHLD, str(marker)], capture_output=True, text=True,
                          cwd=ROOT, timeout=20)  # fmt: skip
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == "started\nwaitid: no child processes\n"
    assert marker.exists()
