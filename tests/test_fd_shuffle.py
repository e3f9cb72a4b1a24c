"""The child's descriptor shuffle (Go: forkAndExecInChild1 step "Pass 1 / Pass 2").

Child fd i is files[i]; -1 and the slots below 3 that files does not reach
are closed; nothing else crosses execve. The same Files list goes to Go's
syscall.ForkExec (build/fdmap-go) and to the port's fork_exec
(tests/programs/fdmap.py); both children list their descriptors, and the lists must
be the same and what Go documents.
"""

import os
import subprocess

import pytest

from port import exec
from tests.support.launchers import FDMAP_GO, FDMAP_PY

# find is sh's child and lists sh's descriptors; the trailing ":" keeps dash
# from exec'ing find in sh's place. fds >= 10 are dash's own.
LIST_FDS = 'find /proc/$$/fd -mindepth 1 -maxdepth 1 -fprintf "$0" "%f %l\\n"; :'

SCENARIOS = {
    "standard": "0,1,2",
    "already-at-own-index": "0,1,2,3,4",  # close-on-exec must be cleared without a dup2
    "high-fd-moved-down": "0,1,2,8",  # the status pipe sits below nextfd and must move first
    "fd0-at-a-later-slot": "5,1,2,0",  # files[3] = 0 < 3 must be saved before slot 0 is overwritten
    "reversed": "4,3,2,1,0",
    "fewer-than-three": "0",  # child fds 1 and 2 closed
    "only-one-other": "1",
    "closed-slot": "0,-1,2,3",
    "closed-slot-never-open": "0,1,2,-1",  # closing fd 3 fails (EBADF), which Go ignores
    "one-file-everywhere": "3,3,3",
    "all-low-and-permuted": "2,0,1",
    "two-moved-past-the-pipe": "3,0,1",  # pass 1's nextfd reaches the status pipe and must skip it
}


def child_fds(program: list[str], tmp_path, files: str) -> dict[int, str]:
    report = tmp_path / f"{os.path.basename(program[-1])}.out"
    subprocess.run([*program, str(tmp_path), files, "--", "/bin/sh", "-c", LIST_FDS, str(report)],
                   stdin=subprocess.DEVNULL, check=True, timeout=20)  # fmt: skip
    fds = {}
    for line in report.read_text().splitlines():
        n, _, target = line.partition(" ")
        if int(n) < 10:
            fds[int(n)] = target.replace(str(tmp_path), "DIR")
    return fds


def expected(files: str) -> dict[int, str]:
    """Go's documented rule: child fd i is files[i]; nothing else is open."""
    slots = [int(s) for s in files.split(",")]
    return {i: f"DIR/fd-{n}" for i, n in enumerate(slots) if n >= 0}


@pytest.mark.parametrize("files", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_files_reach_the_child_as_under_go(files, tmp_path):
    go = child_fds(list(FDMAP_GO.argv), tmp_path, files)
    py = child_fds(list(FDMAP_PY.argv), tmp_path, files)
    assert go == expected(files)
    assert py == go


@pytest.mark.parametrize("files", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_exec_failure_still_reaches_the_launcher(files, tmp_path):
    """The status pipe survives the shuffle: a failed execve is reported, not taken for a start."""
    for program in (list(FDMAP_GO.argv), list(FDMAP_PY.argv)):
        proc = subprocess.run([*program, str(tmp_path), files, "--", "/nonexistent/cmd"], stdin=subprocess.DEVNULL,
                              timeout=20)  # fmt: skip
        assert proc.returncode == 100, program  # fdmap: the start failed


def test_cmd_streams_and_extra_files(tmp_path):
    """exec.Cmd: Stdin/Stdout/Stderr then ExtraFiles as fds 3, 4, ...; a None stream is /dev/null."""
    report = tmp_path / "report"
    extra = open(tmp_path / "extra-a", "w")
    fd_b = os.open(tmp_path / "extra-b", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC)
    err = os.open(tmp_path / "err", os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC)
    try:
        cmd = exec.Command("/bin/sh", "-c", LIST_FDS, str(report))
        cmd.stderr = err
        cmd.extra_files = [extra, fd_b, None]
        cmd.run()
    finally:
        extra.close()
        os.close(fd_b)
        os.close(err)
    fds = {}
    for line in report.read_text().splitlines():
        n, _, target = line.partition(" ")
        if int(n) < 10:
            fds[int(n)] = target.replace(str(tmp_path), "DIR")
    # A nil ExtraFiles entry is a closed descriptor in the child (Go: a nil *os.File's Fd is -1).
    assert fds == {0: "/dev/null", 1: "/dev/null", 2: "DIR/err", 3: "DIR/extra-a", 4: "DIR/extra-b"}


def _status_under_nofile(program: tuple, tmp_path, files: str, limit: int) -> int:
    run = subprocess.run(["prlimit", f"--nofile={limit}:{limit}", *program, str(tmp_path), files, "--", "/bin/true"],
                         stdin=subprocess.DEVNULL, capture_output=True, timeout=20)  # fmt: skip
    return run.returncode


@pytest.mark.parametrize("files", ["5,1,2,0", "0,1,2,8", "3,0,1", "4,3,2,1,0"])
def test_the_shuffle_needs_no_more_descriptors_than_gos(files, tmp_path):
    """Under the tightest RLIMIT_NOFILE with which Go's start still works, the port's works too:
    the shuffle takes the same descriptors (nextfd counts up from max(len(files), files) + 1, and
    steps over the status pipe once). A shuffle that reached one slot higher fails the start (100)."""
    go = {n: _status_under_nofile(FDMAP_GO.argv, tmp_path, files, n) for n in range(4, 16)}
    tightest = min((n for n, status in go.items() if status == 0), default=None)
    assert tightest is not None and go[tightest - 1] == 100, go  # the limit does bite Go's start
    assert _status_under_nofile(FDMAP_PY.argv, tmp_path, files, tightest) == 0
    assert _status_under_nofile(FDMAP_PY.argv, tmp_path, files, tightest - 1) == 100
