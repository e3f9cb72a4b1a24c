"""The launch path imports only what its kernel calls need.

How fast it starts is measured by `make bench`, not here (no timing asserts);
this checks what it imports, which is what made it slow: plumbum (about 50 ms
a start), enum through the signal module, the ctypes package, struct,
dataclasses. Modules the bare interpreter imports anyway do not count.
"""

import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.userns

HEAVY = {"plumbum", "enum", "signal", "ctypes", "struct", "dataclasses", "inspect", "typing", "subprocess", "logging"}
IMPORT_LINE = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", re.M)
SIX = "uts,ipc,pid,ns,user,net"


def imported(*args: str) -> tuple[set[str], int]:
    """The modules a start imports (top-level names), and its exit status."""
    proc = subprocess.run([sys.executable, "-X", "importtime", *args], input=b"exit\n", capture_output=True)
    return {name.split(".")[0] for name in IMPORT_LINE.findall(proc.stderr.decode())}, proc.returncode


@pytest.mark.parametrize(
    ("args", "status"),
    [(("-m", "port.notes"), 255), (("-m", "port.launcher", "--clone", SIX, "--", "sh"), 0)],
    ids=["notes", "launcher"],
)
def test_launch_path_imports_nothing_heavy(args, status):
    bare, _ = imported("-c", "pass")
    modules, code = imported(*args)
    assert code == status
    assert "port" in modules  # the parse found the port's own imports
    assert (modules - bare) & HEAVY == set()
