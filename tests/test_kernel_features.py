"""Feature detection (tests/support/kernel_features.py): by trying the call or the file, named when missing."""

import errno
import os

import pytest

from tests.support import kernel_features as kf
from tests.support import markers


def test_this_kernel_has_what_its_proc_shows():
    assert (kf.time_ns() is None) == os.path.exists("/proc/self/ns/time")
    assert (kf.setgroups_file() is None) == os.path.exists("/proc/self/setgroups")
    assert set(kf.report()) == set(kf.CHECKS)


def test_veth_check_agrees_with_the_bridge_tests_own():
    from tests.support import netns

    assert (kf.veth_links() is None) == (netns.missing_link_kinds() is None or "veth" not in netns.missing_link_kinds())


def test_missing_files_are_named(monkeypatch):
    monkeypatch.setattr(kf.os.path, "exists", lambda path: False)
    assert kf.time_ns() == "time namespaces (/proc/self/ns/time)"
    assert kf.setgroups_file() == "/proc/PID/setgroups"


def test_pidfd_open_missing_only_on_enosys(monkeypatch):
    def enosys(pid):
        raise OSError(errno.ENOSYS, "Function not implemented")

    monkeypatch.setattr(kf.os, "pidfd_open", enosys)
    assert kf.pidfd_open() == "pidfd_open(2)"
    assert kf.missing("pidfd_open") == "pidfd_open(2)"

    def eperm(pid):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(kf.os, "pidfd_open", eperm)
    with pytest.raises(PermissionError):  # not a missing feature: a real error, reported as one
        kf.pidfd_open()


@pytest.mark.parametrize(
    ("clone3_errno", "cgroup_errno", "expected"),
    [
        (errno.EINVAL, errno.EBADF, None),  # 5.7 and later: the flag is known, the fd is bad
        (errno.EINVAL, errno.EINVAL, "clone3(CLONE_INTO_CGROUP)"),  # 5.3 to 5.6: clone3 without the flag
        (errno.ENOSYS, errno.ENOSYS, "clone3(2)"),  # before 5.3
    ],
)
def test_clone_into_cgroup_from_the_errors(monkeypatch, clone3_errno, cgroup_errno, expected):
    calls = []

    def fake(number, *args):
        calls.append(args)
        return clone3_errno if len(calls) == 1 else cgroup_errno

    monkeypatch.setattr(kf, "_syscall_errno", fake)
    assert kf.clone_into_cgroup() == expected


def test_probes_create_nothing_on_this_kernel():
    # Real calls: a process created by them would show as a child (the host guard also checks).
    before = set(os.listdir("/proc"))
    kf.report()
    assert not [p for p in set(os.listdir("/proc")) - before if p.isdigit() and _ppid(p) == os.getpid()]


def _ppid(pid: str) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except OSError:
        return None


@pytest.mark.kernel("time_ns", "pidfd_open", "clone_into_cgroup", "setgroups_file")
def test_marker_runs_where_the_kernel_has_the_features():
    # Here only when every check passed; where one fails, conftest skips naming it.
    assert kf.missing("time_ns", "pidfd_open", "clone_into_cgroup", "setgroups_file") is None


def test_a_test_needing_a_missing_feature_is_skipped_with_its_name(monkeypatch):
    class Item:
        def get_closest_marker(self, name):
            return pytest.mark.kernel("pidfd_open", "time_ns").mark if name == "kernel" else None

    monkeypatch.setitem(kf.CHECKS, "time_ns", lambda: "time namespaces (/proc/self/ns/time)")
    monkeypatch.setitem(kf.CHECKS, "pidfd_open", lambda: None)
    assert markers.skip_reason(Item()) == "the kernel lacks time namespaces (/proc/self/ns/time)"
    monkeypatch.setitem(kf.CHECKS, "time_ns", lambda: None)
    assert markers.skip_reason(Item()) is None  # every feature there: runs
