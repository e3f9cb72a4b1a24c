"""SUBREAPER's middle process dying before it hands the child over, as a program to run (test_start_races.py,
test_orphan_reap.py): the port's Start in a process of its own, its middle process made to die."""

import subprocess
import sys
from pathlib import Path

from tests.support.paths import ROOT

# argv: how the middle dies, marker. Prints Start's error (or "started PID" and what Wait said), then
# whether descriptors or zombies were left, as one line each.
PROGRAM = r"""
import os, signal, sys
from port import exec, exec_linux
from port.sysprocattr import CLONE_NEWPID, CLONE_NEWUSER, SysProcAttr

how, marker = sys.argv[1:]
launcher = os.getpid()

real_fork_middle = exec_linux._Child._fork_middle

def _fork_middle(self):
    # In the middle process, where it would fork the child and hand its pid over.
    if how == "forked":  # the child exists: the middle is killed at its handoff write
        middle, real_write = os.getpid(), os.write
        def write(fd, data):
            if os.getpid() == middle and fd == self.pipes.handoff.write:
                os.kill(middle, signal.SIGKILL)
            return real_write(fd, data)
        os.write = write
        return real_fork_middle(self)
    if how == "killed":
        os.kill(os.getpid(), signal.SIGKILL)
    os._exit(0)

exec_linux._Child._fork_middle = _fork_middle

def fds():
    return sorted(os.listdir("/proc/self/fd"))

def zombies():
    with open(f"/proc/{launcher}/task/{launcher}/children") as f:
        return f.read().split()

before = fds()
cmd = exec.Command("sh", "-c", 'touch "$0"', marker)
cmd.strategy = exec_linux.SUBREAPER
cmd.sys_proc_attr = SysProcAttr(cloneflags=CLONE_NEWUSER | CLONE_NEWPID)
try:
    cmd.start()
except Exception as e:
    print(f"start failed: {e}")
else:
    try:
        cmd.wait()
        print(f"started {cmd.process.pid}, wait returned")
    except Exception as e:
        print(f"started {cmd.process.pid}, wait failed: {e}")
print("descriptors left:", sorted(set(fds()) - set(before)))
print("children left:", zombies())
"""

# What PROGRAM prints when Start fails as it must, before its "children left:" line.
FAILED_START = ["start failed: fork/exec /usr/bin/sh: broken pipe", "descriptors left: []"]


def run(how: str, marker: Path, before: str = "", after: str = "") -> subprocess.CompletedProcess:
    """PROGRAM with how ("exits", "killed" or "forked") and marker (the file sh would touch), with a test's
    own code before and after it in the same process."""
    return subprocess.run([sys.executable, "-c", before + PROGRAM + after, how, str(marker)],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd=ROOT, timeout=20)  # fmt: skip
