"""The clone3(2) path (CLONE_INTO_CGROUP) with the cgroup directory at fd 0.

Go's SysProcAttr.CgroupFD is any descriptor, 0 included: a program whose stdin was closed opens the
directory there. The port passes the descriptor into struct clone_args as it is (not "0 means none"),
and the child lands in that cgroup under every strategy. Each start is a fresh interpreter (fd 0 is
its own, and it has one thread, so RAW_CLONE is what it takes), a fraction of a second.
"""

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from port.exec_linux import STRATEGIES
from tests.support import machine
from tests.support.paths import ROOT

SCRIPT = """
import os, sys
from port import exec
from port.sysprocattr import SysProcAttr

fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
os.dup2(fd, 0)
os.close(fd)
cmd = exec.Command("cat", "/proc/self/cgroup")
cmd.strategy = sys.argv[2]
cmd.sys_proc_attr = SysProcAttr(use_cgroup_fd=True, cgroup_fd=0)
out = cmd.output()
print(cmd.strategy_taken)
print([line for line in out.decode().splitlines() if line.startswith("0::")][0])
"""


@pytest.fixture
def cgroup():
    """A cgroup v2 directory of our own (its path below the root), removed afterwards."""
    if (base := machine.cgroup2_root()) is None:
        pytest.skip("no cgroup v2 hierarchy mounted (CLONE_INTO_CGROUP needs one)")
    name = f"nsport-test-{uuid.uuid4().hex[:8]}"
    path = Path(base) / name
    path.mkdir()
    try:
        yield path, name
    finally:
        path.rmdir()


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_cgroup_fd_zero_places_the_child(cgroup, strategy):
    path, name = cgroup
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(path), strategy], cwd=ROOT, capture_output=True,
                          text=True, timeout=20)  # fmt: skip
    assert (proc.returncode, proc.stderr) == (0, "")
    taken, where = proc.stdout.splitlines()
    assert taken == strategy
    assert where.endswith(f"/{name}")  # 0::/nsport-test-..., seen from inside a cgroup namespace or not
    assert not (path / "cgroup.procs").read_text()  # the child is gone: nothing left in the cgroup
