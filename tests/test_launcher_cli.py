"""The two launchers' command lines: same help, same one-line errors, same statuses."""

import os
import signal
import subprocess
import tomllib

import pytest

from port import launcher as port_launcher
from tests.support import procfs
from tests.support.exec_helper import wait_until
from tests.support.launchers import LAUNCHER_GO, LAUNCHER_PY
from tests.support.paths import GO, PYTHON, ROOT
from tests.support.piped import launch

pytestmark = pytest.mark.userns


BAD = [
    ["--bogus"], ["-"], ["--clone"], ["--clone", "xyz"], ["--clone=uts,,pid"], ["--unshare", "UTS,bad"],
    ["--uid-map", "1:2"], ["--gid-map", "1:2:x"], ["--uid-map", "0:0:4294967296"], ["--setsid=yes"],
    ["--credential", "x"], ["--credential", "1"], ["--credential", "1:2:3:4"], ["--credential", "1:2:a"],
    ["--pdeathsig", "FOO"], ["--pdeathsig", "65"], ["--pdeathsig", "0"], ["--ambient-caps", "foo"],
    ["--ambient-caps", "64"], ["--setgroups", "x"], ["--pgid", "x"], ["--ctty", "-1"], ["--pgid", "2147483648"],
    ["--no-setgroups", "true"], [], ["--clone", "user"], ["--cgroup", "/nonexistent", "true"],
    ["--help=1"], ["--clone", "K"], ["-h=1"], ["--version=1"], ["-x"], ["-help"], ["--pdeathsig", "SIG"],
    ["--pdeathsig", "SIGSIGTERM"], ["--pdeathsig", "SIG15"], ["--pdeathsig", "ſigterm"], ["--clone", "xyz", "-h"],
]  # fmt: skip
GOOD = [
    ["--", "sh", "-c", "exit 3"], ["sh", "-c", "kill -9 $$"], ["--clone", "uts", "--", "nonexistent-cmd"],
    ["--credential", "1:1:", "--clone", "user", "true"], ["--clone", "USER,Uts", "--pdeathsig=kill", "true"],
    ["--dir", "/nonexistent", "true"], ["--chroot", "/nonexistent", "true"], ["--ambient-caps", "63", "true"],
    ["--clone", "user", "--", "-c"], ["--cgroup", "/tmp", "true"], ["--cgroup", "/sys/fs/cgroup/memory", "true"],
    ["--setctty", "--ctty", "9", "true"], ["--setsid", "--setpgid", "true"],
    ["--pdeathsig", "SIGTERM", "true"], ["--pdeathsig=sigkill", "true"], ["true", "-h"], ["--", "-h"],
]  # fmt: skip


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["--clone", "uts", "-h", "--bogus"]], ids=" ".join)
def test_help_is_the_same(args):
    go, py = launch(LAUNCHER_GO.argv, args), launch(LAUNCHER_PY.argv, args)
    assert go == py
    assert go[0].startswith(b"Usage: launcher [OPTIONS] [--] COMMAND [ARG...]") and go[1:] == (b"", 0)
    assert b"  --help, -h " in go[0] and b"  --version " in go[0]


def test_unknown_option_points_to_help():
    go, py = launch(LAUNCHER_GO.argv, ["-x", "true"]), launch(LAUNCHER_PY.argv, ["-x", "true"])
    assert go == py == (b"", b"launcher: unknown option: -x (--help lists the options)\n", 2)


def test_version_names_the_project_and_the_twin():
    """The same line but for which twin it is: the Go that built launcher-go, the Python that runs the port."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    go, py = launch(LAUNCHER_GO.argv, ["--version"]), launch(LAUNCHER_PY.argv, ["--version"])
    built_with = subprocess.run([GO, "version", LAUNCHER_GO.argv[0]], capture_output=True, text=True, check=True)
    python = subprocess.run([PYTHON, "-c", "import platform; print(platform.python_version())"],
                            capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    head = f"launcher {project} (nsport): the "
    assert go == (f"{head}Go reference, {built_with.stdout.split()[-1]}\n".encode(), b"", 0)
    assert py == (f"{head}Python port, Python {python}\n".encode(), b"", 0)


@pytest.mark.parametrize("name", ["TERM", "term", "SIGTERM", "sigterm", "SigTerm", "15"])
def test_signal_names_with_or_without_sig(name):
    """Parsed the same by both (test_bad_arguments_one_line_exit_2 and test_pdeathsig.py run them)."""
    assert port_launcher.parse_args(["--pdeathsig", name, "true"]).attr.pdeathsig == signal.SIGTERM


@pytest.mark.parametrize("args", BAD, ids=" ".join)
def test_bad_arguments_one_line_exit_2(args):
    go, py = launch(LAUNCHER_GO.argv, args), launch(LAUNCHER_PY.argv, args)
    assert go == py
    out, err, status = go
    assert (out, status) == (b"", 2)
    assert err.startswith(b"launcher: ") and err.count(b"\n") == 1


@pytest.mark.parametrize("args", GOOD, ids=" ".join)
def test_runs_end_the_same(args):
    assert launch(LAUNCHER_GO.argv, args) == launch(LAUNCHER_PY.argv, args)


@pytest.mark.parametrize("sig", [33, 34, 35])
def test_realtime_signals_end_the_launcher_as_go(sig):
    """Go leaves signal 34 (musl's SIGSYNCCALL) at its default, which kills; 33 and 35 it catches."""
    args = ["--", "sh", "-c", f"echo $$; kill -{sig} $PPID"]
    results = []
    for launcher in (LAUNCHER_GO.argv, LAUNCHER_PY.argv):
        out, err, status = launch(launcher, args)
        try:
            os.waitpid(int(out), 0)  # sh outlived a killed launcher: re-parented to us (tests/conftest.py)
        except ChildProcessError:
            pass  # the launcher lived and reaped it
        results.append((err, status))
    assert results[0] == results[1] == (b"", -34 if sig == 34 else 0)


def _vfork_deadlock(pid: int) -> bool:
    # kernel_clone on 6.x; _do_fork before 5.10, or wait_for_vfork_done if a kernel does not inline it
    stuck = [t for t in os.listdir(f"/proc/{pid}/task") if procfs.state(f"{pid}/task/{t}") == "D"
             and any(k in procfs.wchan(f"{pid}/task/{t}") for k in ("clone", "fork"))]  # fmt: skip
    return bool(stuck) and any("pipe_read" in procfs.wchan(child) for child in procfs.children(pid))


def test_maps_without_user_namespace():
    """A known difference: Go deadlocks, the port reports EPERM.

    Without CLONE_NEWUSER Go clones with CLONE_VFORK, so the launcher is
    suspended until the child execs, while the child waits for the launcher
    to write its ID maps. The port cannot copy a deadlock usefully: its
    launcher writes /proc/PID/uid_map, which the kernel refuses for a
    process in the initial user namespace.
    """
    go = subprocess.Popen([*LAUNCHER_GO.argv, "--uid-map", "0:0:1", "--", "true"], stderr=subprocess.PIPE)
    try:
        # The deadlock itself, seen in /proc rather than waited out: the launcher's thread in its vfork
        # clone (state D), its child in a pipe read that only that thread could answer.
        def deadlocked() -> bool:
            assert go.poll() is None, "Go's launcher ended instead of deadlocking"
            return _vfork_deadlock(go.pid)

        wait_until(deadlocked, "Go's launcher deadlocks in its vfork")
    finally:
        go.kill()  # by the pid we started; its child then reads EOF and exits 253
        go.communicate()
    _, err, status = launch(LAUNCHER_PY.argv, ["--uid-map", "0:0:1", "--", "true"])
    assert (err, status) == (b"fork/exec /usr/bin/true: operation not permitted\n", 1)


@pytest.mark.parametrize(
    "args", [["--", "sh", "-c", "exit 3"], ["--", "no-such-command-nsport"]], ids=["exit", "not-found"]
)
def test_broken_stderr_kills_the_launcher_with_sigpipe(args):
    """The launcher logs its error to a stderr whose reader is gone: Go dies of SIGPIPE."""
    r, w = os.pipe()
    os.close(r)
    try:
        go, py = launch_with_stderr(LAUNCHER_GO.argv, args, w), launch_with_stderr(LAUNCHER_PY.argv, args, w)
    finally:
        os.close(w)
    assert go == py == -signal.SIGPIPE


def launch_with_stderr(launcher, args, stderr) -> int:
    return subprocess.run([*launcher, *args], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
                          timeout=20).returncode  # fmt: skip


def test_the_launcher_ends_as_go_s_os_exit_does_skipping_exit_hooks():
    """Go's launcher ends with os.Exit(0), which runs no deferred call: the port's run() ends the process
    with os._exit, and an atexit hook registered before it never runs (returning from main would run it)."""
    code = ("import atexit; atexit.register(lambda: print('exit hook ran')); from port import launcher, runtime; "
            "runtime.init(); launcher.main(['true'])")  # fmt: skip
    proc = subprocess.run([PYTHON, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
