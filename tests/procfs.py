"""Read processes from the host's /proc: trees, and what a process inherited."""

import os
import re
import time
from pathlib import Path


def _stat(pid: int) -> tuple[str, list[str]] | None:
    """Return (comm, fields after comm) of /proc/PID/stat, or None if gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    return comm, raw[raw.rindex(")") + 2 :].split()


def children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (st := _stat(int(entry))):
            kids.setdefault(int(st[1][1]), []).append(int(entry))
    return kids


def descendants(pid: int) -> list[int]:
    """Every live descendant of pid, parents before children."""
    kids, out, todo = children_map(), [], [pid]
    while todo:
        for child in sorted(kids.get(todo.pop(0), [])):
            out.append(child)
            todo.append(child)
    return out


def comm(pid: int) -> str | None:
    st = _stat(pid)
    return st[0] if st else None


def state(pid: int) -> str | None:
    st = _stat(pid)
    return st[1][0] if st else None


def wait_for_descendant(pid: int, name: str, timeout: float = 5.0) -> int:
    """Return the host pid of the first descendant of pid whose comm is name."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in descendants(pid):
            if comm(child) == name:
                return child
        time.sleep(0.01)
    raise TimeoutError(f"no {name!r} under pid {pid} after {timeout}s")


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
