"""Record what the suite must never change on the host, and check it after each test.

The suite runs as root; everything it does must stay inside namespaces. A test
that leaves the host's hostname, mounts, IPC objects, network links and
addresses, or namespace limits changed, or leaves a process behind, fails loudly.

Several runs may share the host (two `make test`, xdist workers, a `make
parity` beside them). The only host objects the suite makes on purpose are
SysV IPC objects whose key says "nsport" in its top half (ipc_key()); the
guard takes one with another process's key as that process's business, and
everything else as this one's.
"""

import os
import random
import socket
import time
from pathlib import Path

import psutil

from tests.support import procfs

# Long-lived processes a fixture owns on purpose (their pids and descendants).
KEEP: set[int] = set()


def _read(path: str) -> str:
    try:
        with open(path) as f:  # not pathlib's read_text: twice per test, a dozen files, its cost shows
            return f.read()
    except OSError as e:
        return f"<{e.strerror}>"


def _links() -> list[str]:
    net = Path("/sys/class/net")
    return sorted(f"{p.name} {_read(str(p / 'flags')).strip()}" for p in net.iterdir())


NSPORT_KEY = 0x4E53  # "NS": the top 16 bits of every IPC key the suite makes on the host
_own_keys: set[int] = set()


def ipc_key() -> str:
    """A fresh host IPC key for this process, as ipcs prints it ("0x4e53....")."""
    key = NSPORT_KEY << 16 | random.randrange(1, 1 << 16)
    _own_keys.add(key)
    return f"0x{key:08x}"


def _foreign(key: int) -> bool:
    """Made by another run of the suite: its key, not ours."""
    return key >> 16 == NSPORT_KEY and key not in _own_keys


def _sysv(kind: str) -> list[tuple[str, str, str]]:
    """(key, id, perms) of each SysV object of a kind (msg, sem, shm)."""
    rows = [line.split() for line in _read(f"/proc/sysvipc/{kind}").splitlines()[1:]]
    return sorted((f"0x{int(r[0]) & 0xFFFFFFFF:08x}", r[1], r[2]) for r in rows)


def sysv_ipc_keys(kind: str) -> list[str]:
    """The keys of the host's SysV objects of a kind, as ipcs prints them."""
    return [key for key, _, _ in _sysv(kind)]


def _addresses() -> list[str]:
    """The host's IPv4 (local routes) and IPv6 addresses, without flags that change by themselves."""
    v4, last = set(), ""
    for line in _read("/proc/net/fib_trie").splitlines():
        if line.lstrip().startswith(("|--", "+--")):
            last = line.split()[-1]
        elif line.strip() == "/32 host LOCAL":
            v4.add(last)
    v6 = [" ".join((f[5], f[0], f[2])) for f in map(str.split, _read("/proc/net/if_inet6").splitlines()) if len(f) == 6]
    return sorted(v4) + sorted(v6)


def snapshot() -> dict[str, object]:
    """The host state the suite promises to leave alone."""
    return {
        "hostname": socket.gethostname(),
        "domainname": _read("/proc/sys/kernel/domainname"),
        "mounts": _read("/proc/self/mountinfo"),
        "sysv ipc": {kind: [o for o in _sysv(kind) if not _foreign(int(o[0], 16))] for kind in ("msg", "sem", "shm")},
        "posix mqueues": sorted(os.listdir("/dev/mqueue")) if os.path.isdir("/dev/mqueue") else [],
        "network links": _links(),
        "network addresses": _addresses(),
        "user namespace limit": _read("/proc/sys/user/max_user_namespaces"),
    }


def diff(before: dict[str, object], after: dict[str, object]) -> list[str]:
    return [f"{key} changed:\n  before: {before[key]!r}\n  after:  {after[key]!r}"
            for key in before if before[key] != after[key]]  # fmt: skip


def leftovers(me: int) -> list[str]:
    """Kill (by pid, through psutil, which checks the pid still names that process) and
    reap what the test left under this process; describe it."""
    # Every descendant left behind is under one of our own children (pytest is a subreaper: orphans
    # come back to it), so the common case needs no psutil walk over every pid (3 ms a test).
    if set(procfs.children(me)) <= KEEP:
        return []
    kept = set(KEEP)
    for pid in KEEP:
        kept.update(_descendants(pid))
    found = []
    for proc in _descendants(me).values():
        if proc.pid in kept:
            continue
        try:
            if proc.status() == psutil.STATUS_ZOMBIE and proc.ppid() == me:
                _reap(proc.pid)
                continue
            found.append(f"pid {proc.pid} ({proc.name()})")
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    deadline = time.monotonic() + 5
    while (
        found and time.monotonic() < deadline and any(_alive(p) for p in _descendants(me).values() if p.pid not in kept)
    ):
        time.sleep(0.01)
    for proc in psutil.Process(me).children():
        if proc.pid not in kept and not _alive(proc):
            _reap(proc.pid)
    return found


def _descendants(pid: int) -> dict[int, psutil.Process]:
    try:
        return {p.pid: p for p in psutil.Process(pid).children(recursive=True)}
    except psutil.NoSuchProcess:
        return {}


def _alive(proc: psutil.Process) -> bool:
    """Running, sleeping or stopped: anything but a zombie or gone."""
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
