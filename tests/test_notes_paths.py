"""The notes program and its port behave the same on every path: piped stdin.

Each case runs build/notes-go and `python -m port.notes` with the same
input and environment and compares stdout, stderr (log time masked) and the
exit status byte for byte. The expected facts for the reference are asserted
too, so that a case cannot pass by both programs failing the same silly way.
"""

import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.support import procfs
from tests.support.launchers import GO, PY
from tests.support.piped import LOG_TIME, Result, assert_same, base_env, run
from tests.support.piped import run as run_piped

pytestmark = pytest.mark.userns

SH = "/usr/bin/sh"


def launch_both(stdin: bytes, **kw) -> tuple[Result, Result]:
    go, py = run(GO, stdin, **kw), run(PY, stdin, **kw)
    assert_same(go, py)
    return go, py


def test_shell_exits_zero():
    go, _ = launch_both(b"exit 0\n")
    assert (go.stdout, go.stderr, go.status) == (b"main starting...\n", b"", 255)


@pytest.mark.parametrize("code", [1, 3, 255])
def test_shell_exits_nonzero(code):
    go, _ = launch_both(f"exit {code}\n".encode())
    assert go.status == 1
    assert LOG_TIME.sub(b"", go.stderr) == f"exit status {code}\n".encode()


def test_end_of_input_is_exit_zero():
    go, _ = launch_both(b"echo $$\n")
    assert (go.stdout, go.status) == (b"main starting...\n1\n", 255)


def test_shell_sees_itself_as_pid_1_and_nobody():
    go, _ = launch_both(b"echo $$; id -u; id -g\n")
    assert go.stdout == b"main starting...\n1\n65534\n65534\n"


@pytest.mark.parametrize("path", ["/nonexistent", "", None], ids=["missing-dir", "empty", "unset"])
def test_sh_not_found_on_path(path):
    go, _ = launch_both(b"exit 0\n", env=base_env(PATH=path))
    assert go.status == 1
    assert LOG_TIME.sub(b"", go.stderr) == b'exec: "sh": executable file not found in $PATH\n'


def _fake_sh(tmp_path: Path, body: bytes, mode: int = 0o755) -> Path:
    (tmp_path / "sh").write_bytes(body)
    (tmp_path / "sh").chmod(mode)
    return tmp_path


def test_sh_found_only_relative_to_cwd(tmp_path):
    """An empty PATH element means "." and Go refuses a relative hit (ErrDot)."""
    cwd = _fake_sh(tmp_path, b"#!/bin/sh\necho fake\n")
    go, _ = launch_both(b"", env=base_env(PATH=":"), cwd=cwd)
    assert LOG_TIME.sub(b"", go.stderr) == (b'exec: "sh": cannot run executable found relative to current directory\n')


def test_sh_relative_allowed_by_godebug(tmp_path):
    cwd = _fake_sh(tmp_path, b"#!/bin/sh\necho fake; exit 4\n")
    go, _ = launch_both(b"", env=base_env(PATH=":", GODEBUG="execerrdot=0"), cwd=cwd)
    assert go.stdout == b"main starting...\nfake\n"
    assert LOG_TIME.sub(b"", go.stderr) == b"exit status 4\n"


def test_sh_not_executable_is_skipped(tmp_path):
    d = _fake_sh(tmp_path, b"#!/bin/sh\necho fake\n", mode=0o644)
    go, _ = launch_both(b"exit 0\n", env=base_env(PATH=f"{d}:/usr/bin"))
    assert go.status == 255  # the real sh further down PATH ran


def test_exec_format_error(tmp_path):
    d = _fake_sh(tmp_path, b"\x7fELF garbage")
    go, _ = launch_both(b"", env=base_env(PATH=str(d)))
    assert LOG_TIME.sub(b"", go.stderr) == f"fork/exec {d}/sh: exec format error\n".encode()


def test_namespaces_refused_to_unmapped_caller():
    """Inside a user namespace with no uid map, creating another one is EPERM."""
    go, _ = launch_both(b"exit 0\n", prefix=("unshare", "--user"))
    assert LOG_TIME.sub(b"", go.stderr) == f"fork/exec {SH}: operation not permitted\n".encode()
    assert go.status == 1


def test_namespaces_refused_by_zero_limit():
    """max_user_namespaces=0, set inside an outer user namespace (never on the host)."""
    wrap = ("unshare", "--user", "--map-root-user", "sh", "-c",
            'echo 0 > /proc/sys/user/max_user_namespaces && exec "$@"', "wrap")  # fmt: skip
    go, _ = launch_both(b"exit 0\n", prefix=wrap)
    assert LOG_TIME.sub(b"", go.stderr) == f"fork/exec {SH}: no space left on device\n".encode()


def signal_shell(sig: int, then: bytes = b"") -> tuple[Result, Result]:
    """Under each launcher: send sig to sh from the host (by its pid), then feed it `then`."""
    results = []
    for launcher in (GO, PY):
        proc = subprocess.Popen(launcher.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            os.kill(procfs.wait_for_descendant(proc.pid, "sh"), sig)
            out, err = proc.communicate(then, timeout=10)
        finally:
            proc.kill()
            proc.wait()
        results.append(Result(out, err, proc.returncode))
    assert_same(*results)
    return results[0], results[1]


def test_shell_killed_by_signal():
    """SIGKILL from the host kills sh (PID 1 inside): both report "signal: killed"."""
    go, _ = signal_shell(signal.SIGKILL)
    assert LOG_TIME.sub(b"", go.stderr) == b"signal: killed\n"
    assert go.status == 1


def test_sigterm_from_host_is_ignored_by_pid_1():
    """PID 1 of a namespace ignores signals it has no handler for, from the host too."""
    go, _ = signal_shell(signal.SIGTERM, b"echo alive\nexit 5\n")
    assert go.stdout == b"main starting...\nalive\n"
    assert LOG_TIME.sub(b"", go.stderr) == b"exit status 5\n"


def test_stdout_closed_reader_kills_with_sigpipe():
    """Go dies of SIGPIPE writing to a broken stdout; so must the port."""
    results = []
    for launcher in (GO, PY):
        r, w = os.pipe()
        os.close(r)
        proc = subprocess.run(launcher.argv, input=b"exit 0\n", stdout=w, stderr=subprocess.PIPE)
        os.close(w)
        results.append(Result(b"", proc.stderr, proc.returncode))
    assert_same(*results)
    assert results[0].status == -signal.SIGPIPE


def test_failed_stdout_write_is_ignored_like_gos_println():
    """fmt.Println to a full device fails with ENOSPC, which Go drops: the run goes on and ends as usual."""
    full = ("sh", "-c", 'exec "$@" >/dev/full', "sh")
    go = run_piped(GO, b"exit 3\n", prefix=full)
    py = run_piped(PY, b"exit 3\n", prefix=full)
    assert_same(go, py)
    assert (go.stdout, LOG_TIME.sub(b"", go.stderr), go.status) == (b"", b"exit status 3\n", 1)
