"""The state Go's runtime gives the launcher itself before main, seen while it runs, Go vs port.

tests/test_startup.py compares what the command gets; here the running launcher's own
RLIMIT_NOFILE (syscall/rlimit.go init) and signal mask (runtime minitSignalMask) are read
from /proc/PID while its shell waits for input, and the shell's too.
"""

import resource
import signal
import subprocess
from pathlib import Path

import pytest

from tests.support import procfs
from tests.support.launchers import SYSPROCATTR
from tests.support.paths import ROOT, program

pytestmark = pytest.mark.userns

STARTSTATE = program("startstate")


def _status_field(pid: int, name: str) -> str:
    return next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith(name + ":"))


def _open_files_limit(pid: int) -> tuple[int, int]:
    line = next(line for line in Path(f"/proc/{pid}/limits").read_text().splitlines() if line.startswith("Max open"))
    soft, hard = line.split()[3:5]
    return int(soft), int(hard)


def observe(launcher: str, state: tuple, script: bytes) -> tuple:
    """Start the launcher (sh in a user and PID namespace) in the start-up state; read the running
    launcher's and its shell's facts, then feed the shell script and return its output too."""
    argv = [*STARTSTATE, *state, "--", *SYSPROCATTR[launcher], "--clone", "user,pid", "--", "sh"]
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    try:
        sh = procfs.wait_for_descendant(proc.pid, "sh")
        procfs.wait_until_reading_stdin(sh)
        # startstate execs the launcher: proc.pid is the launcher itself. Its shell can be reading
        # before the launcher has put back the mask it blocks every signal with across the clone.
        procfs.wait_until_waiting_for_a_child(proc.pid)
        facts = (_open_files_limit(proc.pid), _status_field(proc.pid, "SigBlk"), _status_field(sh, "SigBlk"))
    finally:
        out, err = proc.communicate(script, timeout=20)
    return (*facts, out, err, proc.returncode)


HARD = resource.getrlimit(resource.RLIMIT_NOFILE)[1]  # what the launchers inherit


@pytest.mark.parametrize("soft", [HARD, HARD - 1, HARD - 2, 8], ids=["hard", "hard-1", "hard-2", "low"])
def test_launcher_raises_its_own_nofile_limit_only_below_hard_minus_one(soft):
    """Go: if Max > 0 && Cur < Max-1, Cur = Max-1 for the program itself; a soft limit already at
    Max or Max-1 is left alone. The command gets the original back either way."""
    go, py = (observe(k, ("--nofile", str(soft)), b"ulimit -n; exit 0\n") for k in ("go", "py"))
    assert go == py
    launcher_limit, _, _, out, err, status = go
    assert launcher_limit == (max(soft, HARD - 1), HARD)
    assert (out, err, status) == (b"%d\n" % soft, b"", 0)


def test_signal_34_blocked_at_start_is_unblocked_in_the_launcher():
    """Go's sigtable gives signal 34 (musl's SIGSYNCCALL) _SigUnblock, so minitSignalMask unblocks it
    in the launcher even when it started blocked, and the command inherits that mask: neither has it."""
    assert signal.SIGRTMIN == 34  # glibc keeps 32 and 33 for itself
    go, py = (observe(k, ("--block", "RTMIN"), b"exit 0\n") for k in ("go", "py"))
    assert go == py
    _, launcher_mask, shell_mask, out, err, status = go
    assert (launcher_mask, shell_mask) == ("SigBlk:\t0000000000000000", "SigBlk:\t0000000000000000")
    assert (out, err, status) == (b"", b"", 0)
