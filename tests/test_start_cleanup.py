"""What a start leaves in the launcher, under each strategy: no descriptor, zombie or pidfd left over,
the signal mask and child-subreaper flag as they were, and every failure (fork, a child step, the
maps, a bad cgroup) reported as Go's error and undone.
"""

import copy
import os
import signal

import pytest

from port import exec, exec_linux, libc
from port.errors import PathError
from port.sysprocattr import CLONE_NEWPID, CLONE_NEWUSER, Credential, SysProcAttr, SysProcIDMap
from tests.support import procfs
from tests.support.exec_helper import open_fds

pytestmark = pytest.mark.userns


CONFIGS = {
    "plain": None,
    "new-pid-ns": SysProcAttr(cloneflags=CLONE_NEWUSER | CLONE_NEWPID),
    "mapped": SysProcAttr(cloneflags=CLONE_NEWUSER, uid_mappings=[SysProcIDMap(0, os.geteuid(), 1)],
                          gid_mappings=[SysProcIDMap(0, os.getegid(), 1)]),
    "mapped-new-pid-ns": SysProcAttr(cloneflags=CLONE_NEWUSER | CLONE_NEWPID,
                                     uid_mappings=[SysProcIDMap(0, os.geteuid(), 1)]),
}  # fmt: skip


@pytest.mark.parametrize("attr", CONFIGS.values(), ids=CONFIGS.keys())
def test_start_leaves_no_descriptor_open(attr, strategy):
    """/dev/null for unset streams and every pipe end are closed, and the process handle (a pidfd, as
    Go 1.23's os.Process keeps) released once Wait returns."""
    before = open_fds()
    cmd = exec.Command("sh", "-c", "exit 0")
    cmd.strategy = strategy
    cmd.sys_proc_attr = attr
    cmd.start()
    cmd.wait()
    assert open_fds() == before


def zombie_children() -> set[int]:
    me = os.getpid()
    return {pid for pid in procfs.children_map().get(me, []) if procfs.state(pid) == "Z"}


@pytest.mark.parametrize("attr", CONFIGS.values(), ids=CONFIGS.keys())
def test_failed_start_leaves_no_descriptor_or_zombie(attr, strategy):
    """A child that fails after the fork (here at chroot, after adoption in a new PID namespace)
    is reaped by Start, and its pipes are closed: Go returns the error with nothing left over."""
    fds, zombies = open_fds(), zombie_children()
    cmd = exec.Command("true")
    cmd.strategy = strategy
    cmd.sys_proc_attr = copy.copy(attr or SysProcAttr())
    cmd.sys_proc_attr.chroot = "/nonexistent"
    with pytest.raises(PathError, match=r"^fork/exec /usr/bin/true: no such file or directory$"):
        cmd.start()
    assert open_fds() == fds
    assert zombie_children() == zombies


def test_failed_start_closes_the_pid_fd_and_sets_it_to_minus_one(strategy):
    """Go's forkAndExecFailureCleanup: after the child fails, the pidfd Start opened for it is closed
    and *PidFD is -1, whatever the caller left there."""
    fds = open_fds()
    cmd = exec.Command("true")
    cmd.strategy = strategy
    cmd.sys_proc_attr = SysProcAttr(pid_fd=[1234], chroot="/nonexistent")
    with pytest.raises(PathError, match=r"^fork/exec /usr/bin/true: no such file or directory$"):
        cmd.start()
    assert cmd.sys_proc_attr.pid_fd == [-1]
    assert open_fds() == fds


def test_pid_fd_is_opened_for_the_child_not_a_leak():
    cmd = exec.Command("true")
    cmd.sys_proc_attr = SysProcAttr(pid_fd=[-1])
    before = open_fds()
    cmd.run()
    (fd,) = cmd.sys_proc_attr.pid_fd
    try:
        assert open_fds() == before | {fd}
    finally:
        os.close(fd)


def subreaper_flag() -> int:
    import ctypes

    flag = ctypes.c_int(-1)
    ctypes.CDLL(None, use_errno=True).prctl(libc.PR_GET_CHILD_SUBREAPER, ctypes.byref(flag), 0, 0, 0)
    return flag.value


@pytest.fixture
def not_a_subreaper():
    """Clear this process's child-subreaper flag for the test: the suite runs as one (conftest), and a
    start that set the flag and left it set would go unseen from there. Put back afterwards."""
    libc.prctl(libc.PR_SET_CHILD_SUBREAPER, 0)
    try:
        yield
    finally:
        libc.prctl(libc.PR_SET_CHILD_SUBREAPER, 1)


@pytest.mark.parametrize("attr", CONFIGS.values(), ids=CONFIGS.keys())
def test_start_restores_the_launchers_mask_and_subreaper_flag(attr, strategy, not_a_subreaper):
    """Go blocks signals only across the clone; the port's subreaper flag is its own, set and put back:
    a launcher that was no subreaper is none after the start."""
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    assert subreaper_flag() == 0
    cmd = exec.Command("true")
    cmd.strategy = strategy
    cmd.sys_proc_attr = attr
    cmd.run()
    assert (signal.pthread_sigmask(signal.SIG_BLOCK, []), subreaper_flag()) == (mask, 0)


@pytest.mark.parametrize("strategy", [exec_linux.SUBREAPER, exec_linux.RELAY], indirect=True)
@pytest.mark.parametrize("attr", CONFIGS.values(), ids=CONFIGS.keys())
def test_fork_failure_is_reported_and_undone(attr, strategy, monkeypatch, not_a_subreaper):
    """fork(2) failing (EAGAIN: out of processes) is Go's "fork/exec PATH: resource temporarily
    unavailable", with the launcher's mask, subreaper flag and descriptors as before."""

    def no_fork():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    mask, fds = signal.pthread_sigmask(signal.SIG_BLOCK, []), open_fds()
    assert subreaper_flag() == 0
    cmd = exec.Command("true")
    cmd.strategy = strategy
    cmd.sys_proc_attr = attr
    monkeypatch.setattr(os, "fork", no_fork)
    with pytest.raises(PathError) as e:
        cmd.start()
    monkeypatch.undo()
    assert str(e.value) == "fork/exec /usr/bin/true: resource temporarily unavailable"
    assert (signal.pthread_sigmask(signal.SIG_BLOCK, []), subreaper_flag(), open_fds()) == (mask, 0, fds)


def test_cgroup_fd_that_is_not_cgroup2_is_ebadf(strategy, tmp_path):
    """Go asks clone3(CLONE_INTO_CGROUP), which refuses anything but a cgroup2 directory with EBADF."""
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        cmd = exec.Command("true")
        cmd.strategy = strategy
        cmd.sys_proc_attr = SysProcAttr(use_cgroup_fd=True, cgroup_fd=fd)
        with pytest.raises(PathError, match=r"^fork/exec /usr/bin/true: bad file descriptor$"):
            cmd.run()
    finally:
        os.close(fd)


def test_a_child_step_failing_without_an_errno_is_einval():
    """setgroups(2) with more than NGROUPS_MAX groups is EINVAL from the kernel under Go; CPython refuses it
    first with a ValueError, which the child must still report as EINVAL."""
    cmd = exec.Command("true")
    cmd.sys_proc_attr = SysProcAttr(credential=Credential(uid=0, gid=0, groups=[0] * 65537))
    with pytest.raises(PathError, match=r"^fork/exec /usr/bin/true: invalid argument$"):
        cmd.run()


def test_maps_the_kernel_refuses_fail_the_start(strategy):
    """Go's child waits for the launcher's verdict on the maps (step 2) and fails with its errno:
    overlapping uid_map lines are EINVAL."""
    cmd = exec.Command("true")
    cmd.strategy = strategy
    overlapping = [SysProcIDMap(0, os.geteuid(), 1), SysProcIDMap(0, os.geteuid(), 1)]
    cmd.sys_proc_attr = SysProcAttr(cloneflags=CLONE_NEWUSER | CLONE_NEWPID, uid_mappings=overlapping)
    with pytest.raises(PathError, match=r"^fork/exec /usr/bin/true: invalid argument$"):
        cmd.run()
