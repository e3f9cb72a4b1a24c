"""Processes on the host: the tree, and what a process inherited (from /proc).

psutil gives the process table and names; /proc is read directly for what
psutil does not show (the kernel's state letter, the syscall a process is
blocked in, the raw fields compared in `inherited`) and for the walk down one
process's tree, which the kernel's children lists answer without reading every
process on the host.
"""

import os
import re
import time
from pathlib import Path

import psutil


def _stat(pid: int) -> tuple[str, list[str]] | None:
    """Return (comm, fields after comm) of /proc/PID/stat, or None if gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    return comm, raw[raw.rindex(")") + 2 :].split()


def children_map() -> dict[int, list[int]]:
    """{parent pid: [child pids]} for every process on the host."""
    kids: dict[int, list[int]] = {}
    for proc in psutil.process_iter(["ppid"]):
        if proc.info["ppid"] is not None:
            kids.setdefault(proc.info["ppid"], []).append(proc.pid)
    return kids


def children(pid: int) -> list[int]:
    """pid's children, every thread's, from the kernel's own lists (/proc/PID/task/TID/children)."""
    kids: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return kids
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", "rb") as f:
                kids.extend(map(int, f.read().split()))
        except OSError:  # a thread that has just ended
            pass
    return kids


def descendants(pid: int) -> list[int]:
    """Every live descendant of pid, parents before children. Walked down the kernel's children
    lists rather than through psutil's ppid map, which reads every process's stat: the pollers
    below call this every few milliseconds while a launcher starts."""
    found, todo = [], children(pid)
    while todo:
        found.append(child := todo.pop(0))
        todo.extend(children(child))
    return found


def comm(pid: int) -> str | None:
    try:
        return psutil.Process(pid).name()
    except psutil.NoSuchProcess:
        return None


def state(pid: int) -> str | None:
    st = _stat(pid)
    return st[1][0] if st else None


def wchan(pid: int | str) -> str:
    """The kernel function pid (or "PID/task/TID") sleeps in ("anon_pipe_read", "kernel_clone"), or ""."""
    try:
        return Path(f"/proc/{pid}/wchan").read_text()
    except OSError:
        return ""


def wait_for_parent(pid: int, parent: int, timeout: float = 5.0) -> None:
    """Wait until pid's parent is parent (re-parented), or pid is gone."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = _stat(pid)
        if st is None or int(st[1][1]) == parent:
            return
        time.sleep(0.005)
    raise TimeoutError(f"pid {pid} was not re-parented to {parent} within {timeout} s")


def wait_until_dead(pid: int, timeout: float = 10.0) -> str | None:
    """Wait until pid has ended: reaped (gone: None) or a zombie waiting for its parent ("Z")."""
    deadline = time.monotonic() + timeout
    while (st := state(pid)) not in (None, "Z"):
        if time.monotonic() >= deadline:
            raise TimeoutError(f"pid {pid} still runs after {timeout} s")
        time.sleep(0.005)
    return st


def wait_for_descendant(pid: int, name: str, timeout: float = 5.0) -> int:
    """Return the host pid of the first descendant of pid whose comm is name."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in descendants(pid):
            if comm(child) == name:
                return child
        time.sleep(0.01)
    raise TimeoutError(f"no {name!r} under pid {pid} after {timeout}s")


def wait_until_stopped(pid: int, timeout: float = 5.0) -> None:
    """Wait until every thread of pid is stopped (a SIGSTOP acted on: state T)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = [st[1][0] if (st := _stat(f"{pid}/task/{task}")) else "T" for task in os.listdir(f"/proc/{pid}/task")]
        if all(state == "T" for state in states):
            return
        time.sleep(0.002)
    raise TimeoutError(f"pid {pid} did not stop within {timeout} s")


def wait_until_reading_stdin(pid: int, timeout: float = 5.0) -> None:
    """Wait until pid is blocked in read(0, ...): a shell that has finished starting."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/syscall").read_text().startswith("0 0x0 "):
                return
        except OSError:
            pass
        time.sleep(0.005)
    raise TimeoutError(f"pid {pid} is not reading its stdin after {timeout}s")


# wait4 (the port's os.waitpid), waitid (Go's, on the pidfd), poll (the port's runtime.wait_for_exit, on
# the pidfd and its signal wakeup socket); x86-64
WAIT_SYSCALLS = ("61 ", "247 ", "7 ")


def wait_until_waiting_for_a_child(pid: int, timeout: float = 10.0) -> None:
    """Wait until a thread of pid is blocked in wait4 or waitid: a launcher done with its start. Until
    then its mask may still be the one it holds across the clone (every signal blocked)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                if (task / "syscall").read_text().startswith(WAIT_SYSCALLS):
                    return
            except OSError:
                pass
        time.sleep(0.005)
    raise TimeoutError(f"pid {pid} is not waiting for a child after {timeout}s")


def inherited(pid: int, launcher_pid: int) -> dict[str, object]:
    """What a process got from its launcher, with host pids and inodes made relative."""
    status = dict(
        line.split(":\t", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":\t" in line
    )
    fields = _stat(pid)[1]
    launcher = _stat(launcher_pid)[1]
    fds = {}
    for fd in sorted(os.listdir(f"/proc/{pid}/fd"), key=int):
        target = os.readlink(f"/proc/{pid}/fd/{fd}")
        fds[int(fd)] = re.sub(r"\[\d+\]$", "[inode]", re.sub(r"^/dev/pts/\d+$", "/dev/pts/N", target))
    return {
        "environ": Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"),
        "signals": {k: status[k] for k in ("SigBlk", "SigIgn", "SigCgt")},
        "umask": status["Umask"],
        "ids": {k: status[k] for k in ("Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapAmb")},
        "fds": fds,
        "limits": Path(f"/proc/{pid}/limits").read_text(),
        "cwd": os.readlink(f"/proc/{pid}/cwd"),
        # stat fields 5-7: pgrp, session, tty_nr; compared with the launcher's own
        "pgrp is launcher's": fields[2] == launcher[2],
        "session is launcher's": fields[3] == launcher[3],
        "tty is launcher's": fields[4] == launcher[4],
        "pid inside": status["NSpid"].split()[-1],
    }
