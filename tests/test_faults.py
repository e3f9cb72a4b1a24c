"""make faults: a start-path syscall that fails ends the same way under Go and the port.

A small fixed slice of the sweep (tests/support/faults.py) runs here: the status pipe
that cannot be made, sh that cannot be executed, the wait for the child that finds
none, each under Go, RAW_CLONE and SUBREAPER; then the fixes it led to, in process.
"""

import errno
import os
import subprocess

import pytest

from port import exec_linux, libc
from port.errors import Errno
from port.exec_linux import RELAY, SUBREAPER, ProcAttr, fork_exec
from port.sysprocattr import CLONE_NEWPID, CLONE_NEWUSER, SysProcAttr
from tests.support import faults
from tests.support.inprocess import run_script
from tests.support.launchers import GO, PY, PY_SUBREAPER
from tests.support.paths import PYTHON, ROOT

SLICE = [("pipe2", 1, "EMFILE"), ("execve", 1, "ENOENT"), ("waitid", 3, "ECHILD"), ("wait4", 1, "ECHILD")]


@pytest.fixture(scope="module")
def swept():
    return faults.sweep([GO, PY, PY_SUBREAPER], only=SLICE)


def row(result: dict, port: str, role: str, err: str) -> dict:
    comparison = next(c for c in result["comparisons"] if c["port"] == port)
    return next(r for r in comparison["rows"] if r["role"] == role and r["errno"] == err)


@pytest.mark.userns
@pytest.mark.tool("strace")
@pytest.mark.xdist_group("faults")
class TestSlice:
    def test_the_slice_matches_with_nothing_left_behind(self, swept):
        v = faults.make_verdict(swept)
        assert v["state"] == "match", v
        assert v["counts"]["left behind"] == 0
        assert all(not r["left"] for lc in swept["launchers"] for r in lc["runs"])

    @pytest.mark.parametrize("port", ["py", "py-subreaper"])
    @pytest.mark.parametrize(
        ("role", "err", "stderr"),
        [
            ("launcher: pipe2 #1", "EMFILE", "fork/exec /usr/bin/sh: too many open files\n"),
            ("child: execve(/usr/bin/sh)", "ENOENT", "fork/exec /usr/bin/sh: no such file or directory\n"),
            ("launcher: wait for the child", "ECHILD", "waitid: no child processes\n"),
        ],
    )
    def test_a_failed_call_ends_as_under_go(self, swept, port, role, err, stderr):
        r = row(swept, port, role, err)
        assert r["state"] == "identical", r
        assert r["go"]["stderr"] == f"YYYY/MM/DD hh:mm:ss {stderr}"
        assert r["go"]["status"] == r["port"]["status"] == "exit 1"

    def test_subreapers_own_wait_is_declared_and_ends_in_no_traceback(self, swept):
        """SUBREAPER's reap of its middle process is its own call (Go has none): failing it (ECHILD) must
        still start sh as Go does, not end in a traceback (it did before the fix)."""
        r = row(swept, "py-subreaper", "launcher: wait for the middle process", "ECHILD")
        assert r["state"] == "one-sided", r
        assert r["port"]["status"] == "exit 1"
        assert r["port"]["stderr"] == "YYYY/MM/DD hh:mm:ss exit status 3\n"

    def test_roles_line_the_calls_up_whatever_their_number(self, swept):
        """Go's wait for the child is its third waitid (the pidfd check makes two), the port's its first wait4."""
        r = row(swept, "py", "launcher: wait for the child", "ECHILD")
        assert (r["go"]["syscall"], r["port"]["syscall"]) == ("waitid", "wait4")


MAPS_SLICE = [("write", 4, "EPIPE"), ("write", 5, "EPIPE"), ("setgroups", 1, "EPERM")]


@pytest.fixture(scope="module")
def maps_swept():
    """With the sweep's retries: under load Go's goroutine can make the maps write from another thread
    than in the clean run, which strace numbers on its own (write 4 is then another call: without the
    retries Go had no row for the role, 1 run in 45 with 3 sweeps and a CPU hog side by side)."""
    go, _, subreaper, _ = faults.MAPPED
    return faults.sweep([go, subreaper], only=MAPS_SLICE)


@pytest.mark.userns
@pytest.mark.tool("strace")
@pytest.mark.xdist_group("faults")
class TestMapsSlice:
    """The SysProcAttr launcher with ID maps: the launcher's fourth write is the maps errno it sends the
    process it made (Go ignores that write's error and closes its end), SUBREAPER's fifth its adoption byte."""

    def test_a_lost_maps_errno_is_einval_as_under_go(self, maps_swept):
        """SUBREAPER's middle waited for the errno forever, and the launcher for the middle (killed after
        20 s, both left behind) until the launcher closed its end as Go does."""
        r = row(maps_swept, "maps-py-subreaper", "launcher: write(pipe: 8 bytes)", "EPIPE")
        assert r["state"] == "identical", r
        assert r["port"]["stderr"] == "YYYY/MM/DD hh:mm:ss fork/exec /usr/bin/sh: invalid argument\n"

    def test_a_failed_adoption_fails_the_start(self, maps_swept):
        """SUBREAPER's own write (the child may go on): its errno is the start's, not a traceback."""
        r = row(maps_swept, "maps-py-subreaper", 'launcher: write(pipe: "a")', "EPIPE")
        assert r["state"] == "one-sided", r
        assert r["port"]["stderr"] == "YYYY/MM/DD hh:mm:ss fork/exec /usr/bin/sh: broken pipe\n"
        assert not r["port"]["left"]

    def test_setgroups_in_the_child(self, maps_swept):
        r = row(maps_swept, "maps-py-subreaper", "child: setgroups(1)", "EPERM")
        assert r["state"] == "identical", r
        assert r["go"]["stderr"] == "YYYY/MM/DD hh:mm:ss fork/exec /usr/bin/sh: operation not permitted\n"


# --- the sweep's own logic, on canned traces ---------------------------------------------

GO_TRACE = """\
100 1.0 clone(child_stack=0x1, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM) = 101
100 1.1 pidfd_open(100, 0) = 5<anon_inode:[pidfd]>
100 1.2 waitid(P_PIDFD, 5<anon_inode:[pidfd]>, 0x1, WEXITED, NULL) = -1 ECHILD (No child processes)
100 1.3 clone(child_stack=NULL, flags=CLONE_VM|CLONE_PIDFD|CLONE_VFORK, parent_tid=[6<anon_inode:[pidfd]>]) = 102
100 1.4 waitid(P_PIDFD, 6<anon_inode:[pidfd]>, {}, WEXITED|__WCLONE, NULL) = 0
100 1.5 pipe2([5<pipe:[1]>, 6<pipe:[1]>], O_CLOEXEC) = 0
100 1.6 clone(child_stack=NULL, flags=CLONE_PIDFD|CLONE_NEWUSER|CLONE_NEWPID|SIGCHLD, parent_tid=[7<anon_inode:[pidfd]>]) = 103
103 1.7 execve("/usr/bin/sh", ["sh"], 0x1 /* 3 vars */) = 0
100 1.8 waitid(P_PIDFD, 7<anon_inode:[pidfd]>, {}, WEXITED, NULL) = 0
"""  # noqa: E501


def test_roles_name_each_call_by_what_it_is_for():
    from tests.support.strace import parse

    calls = parse(GO_TRACE)
    assert faults.roles(calls) == [
        "launcher: clone (a thread)",
        "launcher: pidfd_open(itself)",
        "launcher: waitid (the pidfd check on itself)",
        "launcher: clone (the pidfd check's child)",
        "launcher: waitid (the pidfd check's child)",
        "launcher: pipe2 #1",
        "launcher: clone (the child)",
        "child: execve(/usr/bin/sh)",
        "launcher: wait for the child",
    ]
    # strace counts per process: the launcher's third waitid, the child's first execve
    assert ("launcher: wait for the child", "waitid", 3) in faults.start_path(calls, 1)
    assert ("child: execve(/usr/bin/sh)", "execve", 1) in faults.start_path(calls, 1)


def _run(role: str, errno_name: str, stderr: str, syscall: str = "clone") -> dict:
    return {"syscall": syscall, "when": 1, "errno": errno_name, "roles": [role], "key": role, "collateral": [],
            "stdout": "", "stderr": stderr, "status": "exit 1", "left": [], "retry": False}  # fmt: skip


def _launcher(name: str, runs: list[dict]) -> dict:
    return {"name": name, "runs": runs, "not_reached": [], "not_run": None}


def test_a_different_outcome_is_a_divergence_and_a_declared_one_must_still_differ(monkeypatch):
    go = _launcher("go", [_run("launcher: clone (the child)", "EAGAIN", "a"), _run("child: execve(x)", "ENOENT", "b")])
    py = _launcher("py", [_run("launcher: clone (the child)", "EAGAIN", "A"), _run("child: execve(x)", "ENOENT", "b")])
    states = {r["role"]: r["state"] for r in faults.compare([go, py])["comparisons"][0]["rows"]}
    assert states == {"launcher: clone (the child)": "divergence", "child: execve(x)": "identical"}
    monkeypatch.setattr(faults, "DECLARED", [("port", r"^child: execve", "", "a reason that no longer holds")])
    states = {r["role"]: r["state"] for r in faults.compare([go, py])["comparisons"][0]["rows"]}
    assert states["child: execve(x)"] == "stale"
    assert faults.make_verdict(faults.compare([go, py]))["exit"] == 1


def test_a_call_only_one_side_makes_needs_a_reason_and_a_traceback_is_never_one():
    go = _launcher("go", [_run("launcher: clone (a thread)", "ENOMEM", "fatal error: newosproc")])
    traceback = "Traceback (most recent call last):\n"
    py = _launcher("py", [_run("launcher: frobnicate(1)", "EPERM", "x"),
                          _run("launcher: pidfd_open(the child)", "EMFILE", traceback)])  # fmt: skip
    rows = {r["role"]: r for r in faults.compare([go, py])["comparisons"][0]["rows"]}
    assert rows["launcher: clone (a thread)"]["state"] == "one-sided"
    assert rows["launcher: frobnicate(1)"]["state"] == "divergence"
    assert rows["launcher: pidfd_open(the child)"]["state"] == "divergence"


def test_unequal_collateral_failures_are_not_a_divergence():
    """strace's count failed a middle process's call too (only the port has one): not comparable, and said
    so; failed a call both sides make on one side only (Go's threads): not verified."""
    go = _launcher("go", [_run("launcher: write(stdout)", "EPERM", "a")])
    port = _launcher("py-subreaper", [_run("launcher: write(stdout)", "EPERM", "b")])
    port["runs"][0]["collateral"] = ["middle: write(pipe: 8 bytes)"]
    (r,) = faults.compare([go, port])["comparisons"][0]["rows"]
    assert r["state"] == "unreachable" and "middle: write(pipe: 8 bytes)" in r["why"]
    port["runs"][0]["collateral"] = ["launcher: write(stderr)"]
    (r,) = faults.compare([go, port])["comparisons"][0]["rows"]
    assert r["state"] == "not reached"
    assert faults.make_verdict(faults.compare([go, port]))["exit"] == 2


def test_a_go_run_that_failed_another_threads_call_too_is_made_again(monkeypatch, tmp_path):
    """strace counts per thread, and Go's log.Fatal may write from another thread than its fmt.Println: a
    Go run whose when= also failed a later call is made again until one fails its key call alone, and that
    run is the one compared (a port run, one thread, is not made again)."""
    failed = iter([["launcher: write(stdout)", "launcher: write(stderr)"]] * 2 + [["launcher: write(stdout)"]])
    outcome = {"stdout": "", "stderr": "", "status": "exit 1", "calls": [], "left": [], "seconds": 0.0}
    monkeypatch.setattr(faults, "inject", lambda lc, log, fault: outcome)
    monkeypatch.setattr(faults, "injected", lambda calls, generation: next(failed))
    clean = {"calls": [], "stdout": "", "stderr": "", "status": "exit 0", "left": []}
    go = faults._sweep_one(GO, clean, [("write", 1, "EPERM")], tmp_path, None, False, set())
    assert [r["collateral"] for r in go["runs"]] == [["launcher: write(stderr)"]] * 2 + [[]]
    assert faults._by_key(go["runs"], None)[("launcher: write(stdout)", "EPERM")]["collateral"] == []
    failed = iter([["launcher: write(stdout)", "launcher: write(stderr)"]])
    py = faults._sweep_one(PY, clean, [("write", 1, "EPERM")], tmp_path, None, False, set())
    assert len(py["runs"]) == 1


def test_a_strategys_call_is_compared_with_the_go_call_it_stands_for():
    go = _launcher("go", [_run("launcher: clone (the child)", "EAGAIN", "fork/exec /usr/bin/sh: x")])
    relay = _launcher("py-relay", [_run("launcher: clone (the middle process)", "EAGAIN", "fork/exec /usr/bin/sh: x")])
    (r,) = faults.compare([go, relay])["comparisons"][0]["rows"]
    assert (r["role"], r["state"]) == ("launcher: clone (the child)", "identical")
    assert r["alias"].startswith("launcher: clone (the middle process)")


def test_the_log_time_is_masked_and_nothing_else():
    assert faults.normalise(b"2026/12/02 05:41:14 exit status 3\nmain 2026/12/02\n") == (
        "YYYY/MM/DD hh:mm:ss exit status 3\nmain 2026/12/02\n"
    )


@pytest.mark.parametrize("arg", ["clone", "clone:x:EAGAIN", "read:1:EIO", "clone:1:ENOENT"])
def test_a_bad_only_is_one_line_and_status_2(arg):
    if arg == "clone":  # one as a real process; the others in this process (tests/support/inprocess.py)
        done = subprocess.run([PYTHON, "scripts/faults.py", "--only", arg], capture_output=True, text=True, cwd=ROOT)
    else:
        done = run_script("faults", "--only", arg)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "--only" in done.stderr and "Traceback" not in done.stderr


# --- the fixes, in process: fds counted before and after --------------------------------


def _fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def _attr(strategy: str) -> ProcAttr:
    return ProcAttr(sys=SysProcAttr(cloneflags=CLONE_NEWUSER | CLONE_NEWPID), strategy=strategy)


@pytest.mark.userns
@pytest.mark.parametrize(("path", "fails_at"), [(RELAY, 1), (SUBREAPER, 1), (SUBREAPER, 3)])
def test_a_pipe_that_cannot_be_made_fails_the_start_as_go_does(monkeypatch, path, fails_at):
    """Go's forkExec returns the pipe's errno (fork/exec ...: too many open files); the port raised
    OSError past exec.Cmd, and left SUBREAPER's first pipes open. (RAW_CLONE makes its pipe the same
    way: the slice above fails its pipe2 under strace.)"""
    real, made = os.pipe, []

    def pipe():
        made.append(1)
        if len(made) == fails_at:
            raise OSError(errno.EMFILE, "Too many open files")
        return real()

    monkeypatch.setattr(exec_linux.os, "pipe", pipe)
    before = _fds()
    with pytest.raises(Errno) as e:
        fork_exec("/bin/true", ["true"], _attr(path))
    assert e.value.errno == errno.EMFILE
    assert _fds() == before


@pytest.mark.userns
@pytest.mark.parametrize("call", ["prctl_get", "prctl"])
def test_subreapers_prctl_that_fails_fails_the_start(monkeypatch, call):
    """SUBREAPER's PR_{GET,SET}_CHILD_SUBREAPER before the fork: its errno is the start's, no traceback."""

    def fail(*args):
        raise OSError(errno.EINVAL, "Invalid argument")

    monkeypatch.setattr(libc, call, fail)
    before = _fds()
    with pytest.raises(Errno) as e:
        fork_exec("/bin/true", ["true"], _attr(SUBREAPER))
    assert e.value.errno == errno.EINVAL
    assert _fds() == before
