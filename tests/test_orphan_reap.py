"""SUBREAPER, a middle killed after its fork: the orphaned child is reaped even when it ends late.

tests/test_start_races.py kills the middle process at its handoff; the child it forked, re-parented to
the launcher, exits 253 once the adopt pipe closes, and Start reaps it (_reap_soon, up to 2 s) before
it fails with EPIPE. Here that child closes its descriptors (the status pipe among them) and takes
0.3 s more to exit (os._exit slowed down, inherited across the fork): Start must still leave no child
behind.
"""

import pytest

from tests.support import middle_dies

pytestmark = pytest.mark.userns

SLOW_253 = """
import os, time
_real_exit = os._exit
def _slow_exit(code):
    if code == 253:  # the orphan, told by the closed adopt pipe that no launcher adopts it
        os.closerange(0, 1 << 16)  # its end of the status pipe too: the launcher reads EOF, then reaps
        time.sleep(0.3)
    _real_exit(code)
os._exit = _slow_exit
"""


def test_an_orphan_that_ends_late_is_still_reaped(tmp_path):
    marker = tmp_path / "ran"
    proc = middle_dies.run("forked", marker, before=SLOW_253)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout.splitlines() == [*middle_dies.FAILED_START, "children left: []"]
    assert not marker.exists()


# Another command of the launcher's, PID 1 of a PID namespace of its own and running all along.
OTHER_FIRST = """
from port import exec as _exec
from port.sysprocattr import CLONE_NEWPID as _PID, CLONE_NEWUSER as _USER, SysProcAttr as _Attr
_other = _exec.Command("sleep", "30")
_other.sys_proc_attr = _Attr(cloneflags=_USER | _PID)
_other.start()
print("other", _other.process.pid, flush=True)
"""
OTHER_LAST = """
_other.process.kill()
try:
    _other.wait()
except _exec.ExitError:  # signal: killed
    pass
"""


def test_the_orphan_is_told_from_another_namespace_init(tmp_path):
    """The launcher's other child, PID 1 of its own namespace too but holding no adopt pipe, is not the
    orphan: it is left running, and the orphan is reaped."""
    marker = tmp_path / "ran"
    proc = middle_dies.run("forked", marker, before=OTHER_FIRST, after=OTHER_LAST)
    assert (proc.returncode, proc.stderr) == (0, "")
    other, *rest = proc.stdout.splitlines()
    assert rest == [*middle_dies.FAILED_START, f"children left: ['{other.split()[1]}']"]


# The scan meets what vanished under it: a task gone between listing and reading (its children file),
# a child gone before its fd directory is listed, a descriptor closed before it is looked at.
VANISHING = """
import builtins, io, os, re
_launcher, _real_open, _real_listdir = os.getpid(), builtins.open, os.listdir
def _open(path, *args, **kw):
    f = _real_open(path, *args, **kw)
    if os.getpid() == _launcher and re.fullmatch(r"/proc/self/task/\\d+/children", str(path)):
        return io.StringIO("999999999 " + f.read())  # a child that is no longer there
    return f
def _listdir(path="."):
    if os.getpid() == _launcher and path == "/proc/self/task":
        return ["999999999", *_real_listdir(path)]  # a thread that ended
    if os.getpid() == _launcher and re.fullmatch(r"/proc/\\d+/fd", str(path)) and "999999999" not in path:
        return ["999999", *_real_listdir(path)]  # a descriptor closed since
    return _real_listdir(path)
builtins.open, os.listdir = _open, _listdir
"""


def test_the_orphan_search_skips_what_vanished_under_it(tmp_path):
    marker = tmp_path / "ran"
    proc = middle_dies.run("forked", marker, before=VANISHING)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout.splitlines() == [*middle_dies.FAILED_START, "children left: []"]
