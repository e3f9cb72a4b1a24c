"""Go's src/syscall/exec_pdeathsig_test.go, translated: Pdeathsig survives the switch to another user."""

import io
import os
import pwd
import shutil
import signal
import tempfile
import time

import pytest

from port import exec
from tests.go_upstream.common import EXE
from tests.support import procfs

# Go's child is its test binary run as nobody; sh is one nobody can run. It prints "start",
# then "ok" on SIGUSR1, or "not ok" if its stdin ends first.
DEATHSIG_CHILD = b'trap "echo ok; exit 0" USR1\necho start\nread x\necho "not ok"\nexit 1\n'


def _reap(pid: int) -> None:
    """The orphaned child is re-parented to the suite (a subreaper): wait for it."""
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        while procfs.state(pid) not in (None, "Z"):
            time.sleep(0.01)


@pytest.mark.root
def test_DeathSignalSetuid():
    try:
        u = pwd.getpwnam("nobody")
    except KeyError:
        u = pwd.getpwuid(os.getuid())
    temp_dir = tempfile.mkdtemp(prefix="nsport-deathsig-")  # under /tmp, so nobody can reach it
    try:
        os.chmod(temp_dir, 0o755)
        child = os.path.join(temp_dir, "child.sh")
        with open(child, "wb") as f:
            f.write(DEATHSIG_CHILD)
        os.chmod(child, 0o755)
        cmd = exec.Command(*EXE, "deathsig-parent", str(u.pw_uid), str(u.pw_gid), child)
        chld_stdin, chld_stdout = cmd.stdin_pipe(), cmd.stdout_pipe()
        cmd.stderr = io.BytesIO()
        cmd.start()
        child_pid = 0
        try:
            got = chld_stdout.readline()
            if got == b"skip\n":
                pytest.skip("skipping: parent could not run child program as selected user")
            assert got == b"start\n", f"did not receive start from child, received {got!r}"
            child_pid = procfs.wait_for_descendant(cmd.process.pid, "sh")  # to reap it once orphaned
            os.kill(cmd.process.pid, signal.SIGTERM)
            assert chld_stdout.readline() == b"ok\n"
        finally:
            chld_stdin.close()
            try:
                cmd.wait()
            except exec.GoError:
                pass
            if child_pid:
                _reap(child_pid)
    finally:
        shutil.rmtree(temp_dir, ignore_errors=True)
