"""The host guard itself: it sees a changed host and a process left behind.

Nothing here changes the real host: the snapshots are edited copies, and
the leftover is a `sleep` this test starts and the guard kills by its pid.
"""

import os
import subprocess

from tests.support import hostguard, procfs


def test_diff_names_what_changed():
    before = hostguard.snapshot()
    after = dict(before, hostname="changed-by-a-test")
    (change,) = hostguard.diff(before, after)
    assert change.startswith("hostname changed")


def test_snapshot_is_stable():
    assert hostguard.diff(hostguard.snapshot(), hostguard.snapshot()) == []


def test_leftover_process_is_found_and_killed():
    proc = subprocess.Popen(["sleep", "30"])
    found = hostguard.leftovers(os.getpid())
    assert found == [f"pid {proc.pid} (sleep)"]
    assert procfs.state(proc.pid) is None  # killed and reaped by the guard
    proc.returncode = -9  # so that Popen does not try to wait for it again
