"""Error paths of the two SysProcAttr launchers: the same one line, the same status, nothing left behind.

Each case runs build/launcher-go and `python -m port.launcher` with the same
arguments (under the same prefix: an ordinary user, an outer user namespace)
and compares stdout, stderr (log time masked) and status byte for byte; the
reference's message is asserted too. The host guard (tests/conftest.py)
fails a case that leaves a process or a change behind; the cases that fail
after the first fork (in a new PID namespace the port forks twice) check that
no half-started child survives.
"""

import pytest

from tests.support import matrix
from tests.support.launchers import LAUNCHER_GO, LAUNCHER_PY, Launcher
from tests.support.piped import LOG_TIME, assert_same, run

pytestmark = pytest.mark.userns

NOBODY = matrix.NOBODY
UNMAPPED = ("unshare", "--user")  # the caller's own ids are unmapped in its user namespace
# max_user_namespaces=0 inside a throw-away user namespace (never on the host)
NO_USERNS = ("unshare", "--user", "--map-root-user", "sh", "-c",
             'echo 0 > /proc/sys/user/max_user_namespaces && exec "$@"', "wrap")  # fmt: skip
TOO_MANY = tuple(arg for i in range(341) for arg in ("--uid-map", f"{i}:{i}:1"))  # the kernel takes 340 lines


CASES = [
    # (id, prefix, arguments, the reference's message)
    ("non-root-without-userns", NOBODY, ("--clone", "uts,pid", "--", "true"),
     "fork/exec /usr/bin/true: operation not permitted"),
    ("unmapped-caller", UNMAPPED, ("--clone", "user,pid", "--", "true"),
     "fork/exec /usr/bin/true: operation not permitted"),
    ("userns-limit-0", NO_USERNS, ("--clone", "user,pid,uts", "--", "true"),
     "fork/exec /usr/bin/true: no space left on device"),
    ("map-size-0", (), ("--clone", "user", "--uid-map", "0:0:0", "--", "true"),
     "fork/exec /usr/bin/true: invalid argument"),
    ("map-overlapping", (), ("--clone", "user,pid", "--uid-map", "0:0:10", "--uid-map", "5:100:10", "--", "true"),
     "fork/exec /usr/bin/true: invalid argument"),
    ("map-overlapping-gid", (), ("--clone", "user", "--gid-map", "0:0:10", "--gid-map", "3:3:1", "--", "true"),
     "fork/exec /usr/bin/true: invalid argument"),
    ("map-341-lines", (), ("--clone", "user", *TOO_MANY, "--", "true"), "fork/exec /usr/bin/true: invalid argument"),
    ("map-forbidden-host-root", NOBODY, ("--clone", "user,pid", "--uid-map", "0:0:1", "--", "true"),
     "fork/exec /usr/bin/true: operation not permitted"),
    ("missing-chroot", (), ("--chroot", "/nonexistent-nsport", "--", "true"),
     "fork/exec /usr/bin/true: no such file or directory"),
    ("missing-chroot-in-namespaces", (), ("--clone", "user,pid,ns", "--chroot", "/nonexistent-nsport", "--", "true"),
     "fork/exec /usr/bin/true: no such file or directory"),
    ("command-not-found", (), ("--clone", "user,pid", "--", "nsport-no-such-command"),
     'exec: "nsport-no-such-command": executable file not found in $PATH'),
    ("command-not-executable", (), ("--clone", "user,pid", "--", "TMP/script"),
     "fork/exec TMP/script: permission denied"),
    ("command-is-a-directory", (), ("--clone", "user,pid", "--", "TMP"), "fork/exec TMP: permission denied"),
]  # fmt: skip
NEEDS_ROOT = {"non-root-without-userns", "map-forbidden-host-root"}  # dropping to nobody


@pytest.mark.parametrize(
    ("prefix", "args", "message"),
    [pytest.param(p, a, m, id=i, marks=[pytest.mark.root] if i in NEEDS_ROOT else []) for i, p, a, m in CASES],
)
def test_same_error_same_status(tmp_path, prefix, args, message):
    if prefix == NOBODY and (problem := matrix.nobody_problem()):
        pytest.skip(problem)
    tmp_path.chmod(0o755)  # nobody must reach it for the message to be about the file
    (tmp_path / "script").write_text("#!/bin/sh\necho ran\n")  # no x bit
    args = tuple(a.replace("TMP", str(tmp_path)) for a in args)
    go, py = (
        run(Launcher(lc.name, (*lc.argv, *args), ""), b"", prefix=prefix, timeout=30)
        for lc in (LAUNCHER_GO, LAUNCHER_PY)
    )
    assert_same(go, py)
    assert (go.status, go.stdout) == (1, b""), go.show()
    assert LOG_TIME.sub(b"", go.stderr) == (message.replace("TMP", str(tmp_path)) + "\n").encode()
