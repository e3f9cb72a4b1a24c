"""A start that goes wrong half-way: the launcher dies, or the process between it and the child fails.

Go's child blocks on a pipe from its parent at each rendezvous (the uid/gid maps written, and
in the port's SUBREAPER strategy the adoption too); when the parent dies there it reads
end-of-file and exits 253 without running the command (syscall/exec_linux.go, childerror).
The launcher here is a subprocess told to die at one point of the start: it prints the pid of
the process that is left and exits. That process is re-parented to this pytest (a child
subreaper, tests/conftest.py), which waits for it by pid.
"""

import os
import signal
import subprocess
import sys
import time

import pytest

from port import exec, exec_linux
from port.errors import PathError
from port.sysprocattr import CLONE_NEWPID, CLONE_NEWUSER, SysProcAttr, SysProcIDMap
from tests.support import middle_dies, procfs
from tests.support.launchers import SYSPROCATTR
from tests.support.paths import ROOT

pytestmark = pytest.mark.userns

STRATEGIES = exec_linux.STRATEGIES

# argv: strategy, point, marker. Prints the pid left behind, then dies with status 0.
DIES_DURING_START = r"""
import os, sys
from port import exec, exec_linux, libc
from port.sysprocattr import CLONE_NEWPID, CLONE_NEWUSER, SysProcAttr, SysProcIDMap

strategy, point, marker = sys.argv[1:]
launcher = os.getpid()

def die(pid):
    os.write(1, b"%d\n" % pid)
    os._exit(0)

if point == "maps":
    # Called in the launcher with the pid whose maps it would write (the middle process, or
    # the child of a raw clone), while that process waits for them.
    exec_linux._write_uid_gid_mappings = lambda pid, maps: die(pid)
else:
    # "adopt": the middle process is reaped and the launcher puts its subreaper flag back,
    # just before it tells the grandchild, now its own child, that it is adopted.
    real_prctl = libc.prctl
    def prctl(option, value, *rest):
        if os.getpid() == launcher and option == libc.PR_SET_CHILD_SUBREAPER and value == 0:
            with open(f"/proc/{launcher}/task/{launcher}/children") as f:
                (child,) = f.read().split()
            die(int(child))
        return real_prctl(option, value, *rest)
    libc.prctl = prctl

cmd = exec.Command("sh", "-c", 'touch "$0"', marker)
cmd.strategy = strategy
cmd.sys_proc_attr = SysProcAttr(
    cloneflags=CLONE_NEWUSER | CLONE_NEWPID,
    uid_mappings=[SysProcIDMap(0, os.geteuid(), 1)],
    gid_mappings=[SysProcIDMap(0, os.getegid(), 1)],
)
cmd.start()
sys.exit("the launcher went through the start")
"""


def wait_for_orphan(pid: int, timeout: float = 5.0) -> int:
    """Reap pid, re-parented to this process, and return its wait status. A process still
    there after timeout is stuck for good (it waits on a pipe that never ends): kill it, fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reaped, status = os.waitpid(pid, os.WNOHANG)
        if reaped:
            return status
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail(f"process {pid} was still running {timeout} s after the launcher died")


def die_during_start(strategy: str, point: str, tmp_path) -> int:
    """Run the dying launcher; return the wait status of the process it left behind. A process
    stuck before execve still holds the launcher's stdout: read one line, not to end-of-file."""
    marker, errors = tmp_path / "ran", tmp_path / "stderr"
    with errors.open("wb") as stderr:
        proc = subprocess.Popen([sys.executable, "-c", DIES_DURING_START, strategy, point, str(marker)],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr, cwd=ROOT)  # fmt: skip
    with proc.stdout:
        line = proc.stdout.readline()
    assert (proc.wait(timeout=20), errors.read_bytes()) == (0, b"")
    return wait_for_orphan(int(line))


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_launcher_dies_before_writing_the_maps(strategy, tmp_path):
    """The process waiting for its uid/gid maps reads end-of-file (it holds no write end of that
    pipe itself) and exits 253: the command never runs."""
    status = die_during_start(strategy, "maps", tmp_path)
    assert os.waitstatus_to_exitcode(status) == 253
    assert not (tmp_path / "ran").exists()


def test_launcher_dies_before_adopting_the_child(tmp_path):
    """SUBREAPER: the grandchild (PID 1 of the new namespace) waits until the launcher has reaped
    the middle process; if the launcher dies there, it reads end-of-file and exits 253 unrun."""
    status = die_during_start(exec_linux.SUBREAPER, "adopt", tmp_path)
    assert os.waitstatus_to_exitcode(status) == 253
    assert not (tmp_path / "ran").exists()


# --- the middle process fails to unshare ------------------------------------------------------

# clone(2) takes CLONE_PARENT; unshare(2) refuses any flag it does not know (EINVAL), so after a
# fork the middle process's unshare fails. (Go's single clone, and RAW_CLONE's, would accept it:
# this is the forking strategies' own failure path, used here as one that always fails.)
CLONE_PARENT = 0x8000


def open_fds() -> set[int]:
    return {int(fd) for fd in os.listdir("/proc/self/fd")}


def zombie_children() -> set[int]:
    me = os.getpid()
    return {pid for pid in procfs.children_map().get(me, []) if procfs.state(pid) == "Z"}


@pytest.mark.parametrize("strategy", [exec_linux.SUBREAPER, exec_linux.RELAY])
def test_middle_process_failing_to_unshare(strategy, tmp_path, monkeypatch):
    """After a fork the middle process unshares; when that fails it reports its errno and exits 253.
    The launcher writes no maps for it, and its write of the maps' errno finds the pipe closed
    (EPIPE, ignored): Start returns the middle's EINVAL, leaves no descriptor and no zombie, and
    nothing runs the command."""
    written = []
    monkeypatch.setattr(exec_linux, "_write_uid_gid_mappings", lambda pid, maps: written.append(pid) or 0)
    marker = tmp_path / "ran"
    fds, zombies = open_fds(), zombie_children()
    cmd = exec.Command("sh", "-c", 'touch "$0"', str(marker))
    cmd.strategy = strategy
    cmd.sys_proc_attr = SysProcAttr(
        cloneflags=CLONE_NEWUSER | CLONE_NEWPID | CLONE_PARENT,
        uid_mappings=[SysProcIDMap(0, os.geteuid(), 1)],
        gid_mappings=[SysProcIDMap(0, os.getegid(), 1)],
    )
    with pytest.raises(PathError) as e:
        cmd.start()
    assert str(e.value) == "fork/exec /usr/bin/sh: invalid argument"
    assert written == []
    assert open_fds() == fds
    assert zombie_children() == zombies
    assert not marker.exists()


# --- descriptors beyond the child's files: Go closes only 0-2 that are not handed over ---------


def test_fd_3_inherited_by_the_launcher_reaches_the_command(tmp_path):
    """Go's forkAndExecInChild1 closes fds len(files)..2 only; an fd 3 the launcher inherited
    without close-on-exec is left open for the command, as Go leaves it."""
    path = tmp_path / "three"
    path.write_bytes(b"")
    outs = []
    for launcher in SYSPROCATTR.values():
        # sh opens fd 3 without close-on-exec and execs the launcher with it.
        argv = ["sh", "-c", 'exec "$@" 3<"$0"', str(path), *launcher, "--", "readlink", "/proc/self/fd/3"]
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, cwd=ROOT, timeout=20)
        outs.append((proc.stdout, proc.stderr, proc.returncode))
    assert outs[0] == outs[1] == (f"{path}\n".encode(), b"", 0)


# --- SUBREAPER: the middle process dies before it hands the child over -------------------------


@pytest.mark.parametrize("how", ["exits", "killed", "forked"])
def test_middle_process_dying_before_the_handoff_fails_the_start(how, tmp_path):
    """SUBREAPER: a middle process that ends before it hands the child's pid over (before its fork: it
    exits, or is killed; or killed after its fork, at its handoff write) has started nothing. Start
    fails, as Go's and RAW_CLONE's do when the status pipe closes without an errno from a child that
    never ran (EPIPE), with no descriptor, process or zombie left (the forked child, re-parented to the
    launcher, is found by the adopt pipe it holds and reaped); before the fix Start returned the reaped
    middle's pid and Wait said `waitid: no child processes`."""
    marker = tmp_path / "ran"
    proc = middle_dies.run(how, marker)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout.splitlines() == [*middle_dies.FAILED_START, "children left: []"]
    assert not marker.exists()


# RELAY with Pdeathsig: argv marker. The launcher is killed (SIGKILL, by the middle process itself,
# the pid it knows) right before the middle's prctl(PR_SET_PDEATHSIG): the race its getppid() check
# after the prctl is there for. Prints the middle's pid first.
RELAY_LAUNCHER_DIES = r"""
import os, signal, sys, time
from port import exec, exec_linux, libc
from port.sysprocattr import CLONE_NEWPID, CLONE_NEWUSER, SysProcAttr

(marker,) = sys.argv[1:]
launcher = os.getpid()
real_prctl = libc.prctl

def prctl(option, value=0, *rest):
    if os.getpid() != launcher and option == libc.PR_SET_PDEATHSIG:
        os.write(1, b"%d\n" % os.getpid())
        os.kill(launcher, signal.SIGKILL)
        while os.getppid() == launcher:  # re-parented once the launcher is gone
            time.sleep(0.001)
    return real_prctl(option, value, *rest)

libc.prctl = prctl
cmd = exec.Command("sh", "-c", 'touch "$0"', marker)
cmd.strategy = exec_linux.RELAY
cmd.sys_proc_attr = SysProcAttr(cloneflags=CLONE_NEWUSER | CLONE_NEWPID, pdeathsig=signal.SIGTERM)
cmd.start()
cmd.wait()
"""


def test_relay_whose_launcher_dies_before_its_pdeathsig_runs_nothing(tmp_path):
    """RELAY's middle process must die with the launcher for the child's Pdeathsig to mean anything;
    if the launcher is already gone when the middle sets PR_SET_PDEATHSIG, getppid() says so and the
    middle kills itself: the command never runs after its launcher died (as Go's child checks)."""
    marker = tmp_path / "ran"
    proc = subprocess.Popen([sys.executable, "-c", RELAY_LAUNCHER_DIES, str(marker)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT)  # fmt: skip
    with proc.stdout:
        middle = int(proc.stdout.readline())
    assert proc.wait(timeout=20) == -signal.SIGKILL
    status = wait_for_orphan(middle)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    time.sleep(0.2)  # a child that ran anyway would have touched the marker by now
    assert not marker.exists()
