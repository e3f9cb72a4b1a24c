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

from port import exec, exec_linux
from port.sysprocattr import CLONE_NEWPID, CLONE_NEWUSER, SysProcAttr
from tests.support import procfs
from tests.support.paths import ROOT

pytestmark = pytest.mark.userns


def zombie_children() -> set[int]:
    return {pid for pid in procfs.children_map().get(os.getpid(), []) if procfs.state(pid) == "Z"}


def test_start_reaps_a_middle_that_ends_late(monkeypatch):
    me, real_exit = os.getpid(), os._exit

    def slow_exit(code: int) -> None:
        if os.getpid() != me and code == 0:
            time.sleep(0.3)  # the middle, after its handoff: still running when the launcher has the pid
        real_exit(code)

    monkeypatch.setattr(os, "_exit", slow_exit)
    zombies = zombie_children()
    cmd = exec.Command("true")
    cmd.strategy = exec_linux.SUBREAPER
    cmd.sys_proc_attr = SysProcAttr(cloneflags=CLONE_NEWUSER | CLONE_NEWPID)
    cmd.start()
    cmd.wait()
    assert cmd.process_state.success()
    time.sleep(0.5)  # past the middle's end
    assert zombie_children() == zombies


IGNORING_SIGCHLD = """
import os, signal, sys
from port import exec, exec_linux
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
